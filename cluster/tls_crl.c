/* tls_crl: the cluster CA's certificate revocation list (tls.h): made
 * with the CA, extended by `vtb cluster revoke`, published in etcd, copied
 * by every host, checked in every TLS handshake of the relay. */
#include "tls.h"
#include "tls_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "etcd.h"
#include "file.h"
#include "util.h"

/* A CRL's next update. Hosts do not fetch the CRL from a URL when it
 * expires: it is pushed (etcd, the hosts' copies), and its freshness is
 * its number, which never goes back. So it is valid for as long as the
 * CA (OpenSSL refuses an expired CRL under X509_V_FLAG_CRL_CHECK). */
#define TLS_CRL_DAYS TLS_CA_DAYS
/* A serial in hex: 16 bytes (tls.c) are 32 digits; room for more. */
#define TLS_SERIAL_MAX 80

/* A CRL from the DER bytes p (n): NULL when they are none. */
static X509_CRL *tls_crl_d2i(const uint8_t *p, size_t n)
{
	const unsigned char *q = p;
	X509_CRL *crl = n <= TLS_FILE_MAX ? d2i_X509_CRL(NULL, &q, (long)n) : NULL;

	if (crl && q != p + n) { /* bytes after it: not a CRL file of ours */
		X509_CRL_free(crl);
		crl = NULL;
	}
	ERR_clear_error();
	return crl;
}

/* The CRL file path, or NULL when there is none (*absent set) or it does
 * not parse. */
static X509_CRL *tls_crl_read(const char *path, bool *absent)
{
	X509_CRL *crl;
	char *data = NULL;
	size_t len = 0;
	int r = file_read_all(path, TLS_FILE_MAX, &data, &len);

	*absent = r == -ENOENT;
	crl = r ? NULL : tls_crl_d2i((const uint8_t *)data, len);
	free(data);
	return crl;
}

/* Whether crl is signed by ca: 0 or -EBADMSG. */
static int tls_crl_signed(X509_CRL *crl, X509 *ca)
{
	EVP_PKEY *k = X509_get0_pubkey(ca);
	int ok = k && !X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) &&
		 X509_CRL_verify(crl, k) == 1;

	ERR_clear_error();
	return ok ? 0 : -EBADMSG;
}

/* crl's number (its CRL number extension), -1 when it has none. */
static long tls_crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	long v = n ? ASN1_INTEGER_get(n) : -1;

	ASN1_INTEGER_free(n);
	return v;
}

/* Give crl the number num, now as its last update, and sign it with key.
 * 0 or -EIO. */
static int tls_crl_sign(X509_CRL *crl, long num, EVP_PKEY *key)
{
	ASN1_INTEGER *n = ASN1_INTEGER_new();
	ASN1_TIME *last = X509_time_adj_ex(NULL, 0, -TLS_BACKDATE_S, NULL);
	ASN1_TIME *next = X509_time_adj_ex(NULL, TLS_CRL_DAYS, 0, NULL);
	int ok = n && last && next && ASN1_INTEGER_set(n, num) &&
		 X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, X509V3_ADD_REPLACE) == 1 &&
		 X509_CRL_set1_lastUpdate(crl, last) && X509_CRL_set1_nextUpdate(crl, next) &&
		 X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256());

	ASN1_INTEGER_free(n);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return ok ? 0 : -EIO;
}

/* Write crl as DER to path (mode 0644, atomically). 0 or a negative errno. */
static int tls_crl_write(X509_CRL *crl, const char *path)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r = b && i2d_X509_CRL_bio(b, crl) ? tls_write_bio(b, path, 0644) : -EIO;

	BIO_free(b);
	return r;
}

int tls_crl_make(const char *cadir, char *err)
{
	char path[512];
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	X509_CRL *crl = NULL;
	int r = tls_load(err);

	snprintf(path, sizeof(path), "%s/%s", cadir, TLS_CRL_FILE);
	if (r || !access(path, F_OK))
		return r;
	r = tls_ca_read(cadir, &ca, &key, err);
	if (r)
		return r;
	crl = X509_CRL_new();
	if (!crl || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) || tls_crl_sign(crl, 1, key)) {
		r = tls_fail(err, -EIO, "cannot make the CA's revocation list");
		goto out;
	}
	r = tls_crl_write(crl, path);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot write %s: %s", path, strerror(-r));
out:
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
	return r;
}

int tls_crl_issued_add(const char *cadir, X509 *x, char *err)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
	char path[512], cn[CLCONF_HOST_MAX] = "?", *hex = bn ? BN_bn2hex(bn) : NULL;
	int fd, r = 0;

	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	snprintf(path, sizeof(path), "%s/%s", cadir, TLS_ISSUED_FILE);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (!hex || fd < 0 || dprintf(fd, "%s %s\n", hex, cn) < 0 || fsync(fd))
		r = hex ? -errno : -ENOMEM;
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot record the certificate in %s: %s", path,
			 strerror(-r));
	if (fd >= 0)
		close(fd);
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* Add serial hex (or the serial s when hex is NULL) to crl unless it is
 * there. 1 when added, 0 when there already, a negative errno. */
static int tls_crl_add(X509_CRL *crl, const char *hex, const ASN1_INTEGER *s)
{
	X509_REVOKED *rev = NULL, *old = NULL;
	ASN1_INTEGER *own = NULL;
	ASN1_TIME *now = NULL;
	BIGNUM *bn = NULL;
	int r = -EINVAL;

	if (hex) {
		if (strspn(hex, "0123456789ABCDEFabcdef") != strlen(hex) || !BN_hex2bn(&bn, hex) ||
		    !(own = BN_to_ASN1_INTEGER(bn, NULL)))
			goto out;
		s = own;
	}
	r = 0;
	if (X509_CRL_get0_by_serial(crl, &old, s) == 1)
		goto out;
	r = -ENOMEM;
	rev = X509_REVOKED_new();
	now = X509_time_adj_ex(NULL, 0, 0, NULL);
	if (!rev || !now || !X509_REVOKED_set_serialNumber(rev, (ASN1_INTEGER *)s) ||
	    !X509_REVOKED_set_revocationDate(rev, now) || !X509_CRL_add0_revoked(crl, rev))
		goto out;
	rev = NULL;
	r = 1;
out:
	X509_REVOKED_free(rev);
	ASN1_TIME_free(now);
	ASN1_INTEGER_free(own);
	BN_free(bn);
	return r;
}

/* Add to crl every serial that the list of issued certificates text (len
 * bytes) gives name. *found how many it gives, *added how many were new.
 * 0, or -EINVAL with err naming the line that does not parse. */
static int tls_crl_add_issued(X509_CRL *crl, const char *text, size_t len, const char *name,
			      size_t *found, size_t *added, char *err)
{
	char line[TLS_SERIAL_MAX + CLCONF_HOST_MAX + 2], hex[TLS_SERIAL_MAX], who[CLCONF_HOST_MAX];
	size_t at = 0, n, no = 0;
	int r;

	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);

		n = nl ? (size_t)(nl - text - at) : len - at;
		no++;
		if (n < sizeof(line)) {
			memcpy(line, text + at, n);
			line[n] = '\0';
		}
		if (n >= sizeof(line) || sscanf(line, "%79s %63s", hex, who) != 2) {
			util_fmt(err, UTIL_ERR_LEN, "%s line %zu: not a serial and a name",
				 TLS_ISSUED_FILE, no);
			return -EINVAL;
		}
		at += n + 1;
		if (strcmp(who, name))
			continue;
		(*found)++;
		r = tls_crl_add(crl, hex, NULL);
		if (r < 0) {
			util_fmt(err, UTIL_ERR_LEN, "%s line %zu: '%s' is not a serial in hex",
				 TLS_ISSUED_FILE, no, hex);
			return r;
		}
		*added += (size_t)r;
	}
	return 0;
}

/* The certificate of the PEM file path, or NULL with err. */
static X509 *tls_pem_cert(const char *path, char *err)
{
	FILE *f = fopen(path, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (!x)
		util_fmt(err, UTIL_ERR_LEN, "cannot read a certificate from %s: %s", path,
			 f ? "no PEM certificate" : strerror(errno));
	if (f)
		fclose(f);
	ERR_clear_error();
	return x;
}

/* Add the certificate of certfile (PEM) to crl: 0 with *found and *added
 * counted, or a negative errno with err. */
static int tls_crl_add_file(X509_CRL *crl, const char *certfile, size_t *found, size_t *added,
			    char *err)
{
	X509 *x = tls_pem_cert(certfile, err);
	int r;

	if (!x)
		return -EINVAL;
	r = tls_crl_add(crl, NULL, X509_get_serialNumber(x));
	X509_free(x);
	if (r < 0)
		return r;
	(*found)++;
	*added += (size_t)r;
	return 0;
}

int tls_crl_revoke(const char *cadir, const char *name, const char *certfile, size_t *added,
		   long *number, char *err)
{
	char path[512], *list = NULL;
	size_t len = 0, found = 0;
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	X509_CRL *crl = NULL;
	bool absent;
	int r;

	*added = 0;
	*number = 0;
	r = tls_crl_make(cadir, err); /* a CA made before revocation has none yet */
	if (!r)
		r = tls_ca_read(cadir, &ca, &key, err);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/%s", cadir, TLS_ISSUED_FILE);
	r = name ? file_read_all(path, 16u << 20, &list, &len) : 0;
	if (r && r != -ENOENT) {
		util_fmt(err, UTIL_ERR_LEN, "cannot read %s: %s", path, strerror(-r));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", cadir, TLS_CRL_FILE);
	crl = tls_crl_read(path, &absent);
	r = -EBADMSG;
	if (!crl || tls_crl_signed(crl, ca)) {
		util_fmt(err, UTIL_ERR_LEN, "%s is not a revocation list of this CA", path);
		goto out;
	}
	r = name ? tls_crl_add_issued(crl, list ? list : "", len, name, &found, added, err) : 0;
	if (!r && certfile)
		r = tls_crl_add_file(crl, certfile, &found, added, err);
	if (r)
		goto out;
	*number = tls_crl_number(crl);
	if (!found) {
		util_fmt(err, UTIL_ERR_LEN, "no certificate issued to '%s' is recorded in %s/%s (one "
			 "issued before vtb kept that list: --cert FILE)", name ? name : "?", cadir,
			 TLS_ISSUED_FILE);
		r = -ENOENT;
		goto out;
	}
	if (*added) {
		*number += 1;
		r = tls_crl_sign(crl, *number, key);
		if (r)
			r = tls_fail(err, r, "cannot sign the revocation list");
		else if ((r = tls_crl_write(crl, path)) != 0)
			util_fmt(err, UTIL_ERR_LEN, "cannot write %s: %s", path, strerror(-r));
	}
out:
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
	free(list);
	return r;
}

int tls_crl_install(const char *path, const char *cafile, const uint8_t *p, size_t n, char *err)
{
	X509 *ca = NULL;
	X509_CRL *crl = NULL, *old = NULL;
	bool absent;
	int r = tls_load(err);

	if (r)
		return r;
	ca = tls_pem_cert(cafile, err);
	if (!ca)
		return -ENOENT;
	crl = tls_crl_d2i(p, n);
	r = -EBADMSG;
	if (!crl || tls_crl_signed(crl, ca) || tls_crl_number(crl) < 0) {
		util_fmt(err, UTIL_ERR_LEN, "a revocation list that is not one of the cluster's CA "
			 "(%s)", crl ? "not signed by it, or without a number" : "does not parse");
		goto out;
	}
	old = tls_crl_read(path, &absent);
	r = 0;
	/* one there that is no CRL of this CA (a CA made anew) is replaced */
	if (old && !tls_crl_signed(old, ca) && tls_crl_number(old) >= tls_crl_number(crl))
		goto out;
	r = file_write_atomic(path, p, n, 0644);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot write %s: %s", path, strerror(-r));
	else
		r = 1;
out:
	X509_CRL_free(old);
	X509_CRL_free(crl);
	X509_free(ca);
	return r;
}

int tls_crl_publish(struct etcd *e, const char *cadir, char *err)
{
	char path[512], *data = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", cadir, TLS_CRL_FILE);
	r = file_read_all(path, TLS_FILE_MAX, &data, &len);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot read %s: %s", path, strerror(-r));
	else
		r = etcd_put(e, TLS_CRL_KEY, data, len, 0, err);
	free(data);
	return r;
}

void tls_crl_path(const struct clconf *c, char *path, size_t len)
{
	const char *slash = strrchr(c->ca, '/');
	int dir = slash ? (int)(slash - c->ca) : 1;

	snprintf(path, len, "%.*s/%s", dir, slash ? c->ca : ".", TLS_CRL_FILE);
}

int tls_crl_sync(struct etcd *e, const struct clconf *c, char *err)
{
	char path[CLCONF_PATH_MAX + 16], *val = NULL;
	size_t len = 0;
	int r;

	if (!c->ca[0])
		return 0;
	r = etcd_get(e, TLS_CRL_KEY, &val, &len, NULL, err);
	if (r == -ENOENT)
		return 0;
	tls_crl_path(c, path, sizeof(path));
	if (!r)
		r = tls_crl_install(path, c->ca, (const uint8_t *)val, len, err);
	free(val);
	return r;
}

void tls_crl_drop_foreign(const struct clconf *c, X509 *ca)
{
	char path[CLCONF_PATH_MAX + 16];
	X509_CRL *crl;
	bool absent;

	tls_crl_path(c, path, sizeof(path));
	crl = tls_crl_read(path, &absent);
	if (!absent && (!crl || tls_crl_signed(crl, ca)))
		unlink(path);
	X509_CRL_free(crl);
}

int tls_crl_use(SSL_CTX *ctx, const struct clconf *c, char *err)
{
	char path[CLCONF_PATH_MAX + 16];
	X509_CRL *crl;
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	bool absent;
	int ok;

	tls_crl_path(c, path, sizeof(path));
	crl = tls_crl_read(path, &absent);
	if (!crl && absent)
		return 0;
	ok = crl && st && X509_STORE_add_crl(st, crl) && X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	X509_CRL_free(crl);
	if (!ok)
		return tls_fail(err, -EACCES, "cannot load the revocation list (vtb cluster revoke) "
				"next to this host's CA certificate");
	return 0;
}

int tls_crl_check(const char *cafile, const char *crlfile, const char *certfile, char *err)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_CRL *crl = NULL;
	X509 *ca = NULL, *x = NULL;
	bool absent;
	int r = tls_load(err), v;

	if (r)
		return r;
	r = -EACCES;
	ca = tls_pem_cert(cafile, err);
	x = ca ? tls_pem_cert(certfile, err) : NULL;
	crl = x ? tls_crl_read(crlfile, &absent) : NULL;
	if (x && !crl)
		util_fmt(err, UTIL_ERR_LEN, "%s: no revocation list", crlfile);
	if (!crl)
		goto out;
	st = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!st || !ctx || !X509_STORE_add_cert(st, ca) || !X509_STORE_add_crl(st, crl) ||
	    !X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK) || !X509_STORE_CTX_init(ctx, st, x, NULL)) {
		r = tls_fail(err, -ENOMEM, "cannot check the certificate");
		goto out;
	}
	r = X509_verify_cert(ctx) == 1 ? 0 : -EACCES;
	v = X509_STORE_CTX_get_error(ctx);
	if (r && v == X509_V_ERR_CERT_REVOKED)
		r = -EKEYREVOKED;
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "%s: %s", certfile, X509_verify_cert_error_string(v));
	ERR_clear_error();
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_CRL_free(crl);
	X509_free(x);
	X509_free(ca);
	return r;
}
