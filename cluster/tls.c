/* tls: the cluster's certificates and TLS contexts (see tls.h). */
#include "tls.h"
#include "tls_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "etcd.h"
#include "dynlib.h"
#include "file.h"
#include "util.h"


void tls_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t used = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0 && used + 2 < len) {
		int n = snprintf(buf + used, len - used, "%s%s", used ? "; " : "",
				 ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "?");

		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "unknown OpenSSL error");
	ERR_clear_error();
}

int tls_load(char *err)
{
	int r = dynlib_open(&dynlib_crypto, err, UTIL_ERR_LEN);

	return r ? r : dynlib_open(&dynlib_ssl, err, UTIL_ERR_LEN);
}

int tls_fail(char *err, int r, const char *what)
{
	char why[512];

	tls_errors(why, sizeof(why));
	util_fmt(err, UTIL_ERR_LEN, "%s: %s", what, why);
	return r;
}

int tls_write_bio(BIO *b, const char *path, mode_t mode)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	return n < 0 ? -EIO : file_write_atomic(path, data, (size_t)n, mode);
}

/* Add extension nid = value (OpenSSL's config syntax) to cert, issued by
 * issuer. 0 or -EINVAL. */
static int tls_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EINVAL;
}

/* A new certificate for key, CN cn, valid days, with a random serial;
 * its issuer is issuer (NULL: itself). Not signed yet. NULL on failure. */
static X509 *tls_cert_new(EVP_PKEY *key, const char *cn, X509 *issuer, int days)
{
	unsigned char serial[16];
	X509 *x = X509_new();
	X509_NAME *n;
	BIGNUM *bn = NULL;
	bool ok;

	if (!x)
		return NULL;
	n = X509_get_subject_name(x);
	serial[0] = 0;
	ok = RAND_bytes(serial + 1, sizeof(serial) - 1) == 1 &&
	     (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
	     X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -TLS_BACKDATE_S) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) && X509_set_pubkey(x, key) &&
	     X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
					0) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int tls_ca_make(const char *dir, char *err)
{
	char crt[512], key[512];
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	BIO *bc = NULL, *bk = NULL;
	int r = tls_load(err);

	if (r)
		return r;
	bc = BIO_new(BIO_s_mem());
	bk = BIO_new(BIO_s_mem());
	snprintf(crt, sizeof(crt), "%s/%s", dir, TLS_CA_FILE);
	snprintf(key, sizeof(key), "%s/%s", dir, TLS_CA_KEY_FILE);
	if (!access(key, F_OK) || !access(crt, F_OK)) {
		util_fmt(err, UTIL_ERR_LEN, "%s holds a CA already (%s)", dir, TLS_CA_KEY_FILE);
		r = -EEXIST;
		goto out;
	}
	r = file_mkdir_p(dir, 0700);
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "cannot make %s: %s", dir, strerror(-r));
		goto out;
	}
	k = EVP_EC_gen("P-256");
	x = k ? tls_cert_new(k, "vtb cluster CA", NULL, TLS_CA_DAYS) : NULL;
	if (!bc || !bk || !x || tls_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    tls_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    tls_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, k, EVP_sha256()) || !PEM_write_bio_X509(bc, x) ||
	    !PEM_write_bio_PrivateKey(bk, k, NULL, NULL, 0, NULL, NULL)) {
		r = tls_fail(err, -EIO, "cannot make the CA");
		goto out;
	}
	r = tls_write_bio(bk, key, 0600);
	if (!r)
		r = tls_write_bio(bc, crt, 0644);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot write the CA in %s: %s", dir, strerror(-r));
	else
		r = tls_crl_make(dir, err);
out:
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(bc);
	BIO_free(bk);
	return r;
}

int tls_ca_read(const char *cadir, X509 **ca, EVP_PKEY **key, char *err)
{
	char path[512];
	FILE *f;

	*ca = NULL;
	*key = NULL;
	snprintf(path, sizeof(path), "%s/%s", cadir, TLS_CA_FILE);
	f = fopen(path, "re");
	if (f) {
		*ca = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		snprintf(path, sizeof(path), "%s/%s", cadir, TLS_CA_KEY_FILE);
		f = fopen(path, "re");
	}
	if (f) {
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!f) {
		util_fmt(err, UTIL_ERR_LEN, "cannot read %s: %s (the cluster's CA is made with vtb "
			 "cluster ca, and certificates are issued on the host that holds it)",
			 path, strerror(errno));
		return -errno;
	}
	if (!*ca || !*key || X509_check_private_key(*ca, *key) != 1) {
		X509_free(*ca);
		EVP_PKEY_free(*key);
		*ca = NULL;
		*key = NULL;
		return tls_fail(err, -EINVAL, "the CA in the directory does not load");
	}
	return 0;
}

int tls_cert_issue(const char *cadir, const char *name, const char *ip, const char *out,
		   char *err)
{
	char san[256];
	EVP_PKEY *cakey = NULL, *k = NULL;
	X509 *ca = NULL, *x = NULL;
	BIO *b = NULL;
	int r = tls_load(err);

	if (r)
		return r;
	b = BIO_new(BIO_s_mem());
	r = clconf_host_check(name);
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "'%s' is not a host name (1 to 63 letters, digits, '-', "
			 "'_' or '.')", name);
		goto out;
	}
	r = tls_ca_read(cadir, &ca, &cakey, err);
	if (r)
		goto out;
	snprintf(san, sizeof(san), "IP:%s,DNS:%s", ip, name);
	k = EVP_EC_gen("P-256");
	x = k ? tls_cert_new(k, name, ca, TLS_CERT_DAYS) : NULL;
	if (!b || !x || tls_ext(x, ca, NID_subject_alt_name, san)) {
		r = tls_fail(err, -EINVAL, "cannot make the certificate (is the address an IP "
			     "address?)");
		goto out;
	}
	if (tls_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    tls_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
	    tls_ext(x, ca, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    tls_ext(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(x, cakey, EVP_sha256()) || !PEM_write_bio_X509(b, x) ||
	    !PEM_write_bio_X509(b, ca) || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		r = tls_fail(err, -EIO, "cannot make the certificate");
		goto out;
	}
	r = tls_write_bio(b, out, 0600);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot write %s: %s", out, strerror(-r));
	else
		r = tls_crl_issued_add(cadir, x, err);
out:
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cakey);
	BIO_free(b);
	return r;
}

/* The CN of x into name (len bytes). 0 or -EACCES. */
static int tls_cn(X509 *x, char *name, size_t len)
{
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, name, (int)len);

	return n > 0 && (size_t)n < len && strlen(name) == (size_t)n ? 0 : -EACCES;
}

/* Whether x is signed by ca (and in its validity period). 0 or -EACCES. */
static int tls_verify(X509 *x, X509 *ca)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = st && ctx && X509_STORE_add_cert(st, ca) && X509_STORE_CTX_init(ctx, st, x, NULL) &&
		 X509_verify_cert(ctx) == 1;

	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok ? 0 : -EACCES;
}

/* Write x (a certificate) or k (a key) as PEM to dir/file with mode. */
static int tls_install_one(const char *dir, const char *file, X509 *x, EVP_PKEY *k, mode_t mode,
			   char *path, size_t plen)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r = -ENOMEM;

	snprintf(path, plen, "%s/%s", dir, file);
	if (b && (x ? PEM_write_bio_X509(b, x) : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
									   NULL)))
		r = tls_write_bio(b, path, mode);
	BIO_free(b);
	return r;
}

int tls_bundle_install(const char *bundle, const char *dir, const char *host, struct clconf *c,
		       char *err)
{
	char cn[CLCONF_HOST_MAX];
	EVP_PKEY *k = NULL;
	X509 *x = NULL, *ca = NULL;
	BIO *b = NULL;
	char *data = NULL;
	size_t len = 0;
	int r = tls_load(err);

	if (r)
		return r;
	r = file_read_all(bundle, TLS_FILE_MAX, &data, &len);

	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "cannot read %s: %s", bundle, strerror(-r));
		return r;
	}
	b = BIO_new_mem_buf(data, (int)len);
	if (b)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (x)
		ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (ca)
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	ERR_clear_error();
	r = -EINVAL;
	if (!k || X509_check_private_key(x, k) != 1)
		util_fmt(err, UTIL_ERR_LEN, "%s is not a bundle of vtb cluster cert (a certificate, "
			 "the CA's, then its key)", bundle);
	else if (tls_verify(x, ca))
		util_fmt(err, UTIL_ERR_LEN, "%s: the certificate does not verify against the CA "
			 "it comes with", bundle);
	else if (tls_cn(x, cn, sizeof(cn)) || strcmp(cn, host))
		util_fmt(err, UTIL_ERR_LEN, "%s is issued to '%s', not to this host '%s' (vtb "
			 "cluster cert %s on the CA's host)", bundle, cn, host, host);
	else if ((r = file_mkdir_p(dir, 0755)) != 0 ||
		 (r = tls_install_one(dir, TLS_CA_FILE, ca, NULL, 0644, c->ca, sizeof(c->ca))) != 0 ||
		 (r = tls_install_one(dir, TLS_CERT_FILE, x, NULL, 0644, c->cert, sizeof(c->cert))) != 0 ||
		 (r = tls_install_one(dir, TLS_KEY_FILE, NULL, k, 0600, c->key, sizeof(c->key))) != 0)
		util_fmt(err, UTIL_ERR_LEN, "cannot install the certificates in %s: %s", dir,
			 strerror(-r));
	else
		tls_crl_drop_foreign(c, ca);
	EVP_PKEY_free(k);
	X509_free(x);
	X509_free(ca);
	BIO_free(b);
	free(data);
	return r;
}

int tls_ctx(const struct clconf *c, bool server, SSL_CTX **out, char *err)
{
	SSL_CTX *ctx;
	int r = tls_load(err);

	*out = NULL;
	if (r)
		return r;
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c->ca[0]) {
		util_fmt(err, UTIL_ERR_LEN, "this host has no certificate (no 'ca', 'cert' and 'key' in "
			 "%s: vtb cluster join --bundle FILE)", clconf_path());
		SSL_CTX_free(ctx);
		return -EACCES;
	}
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 || SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return tls_fail(err, -EACCES, "cannot load this host's certificate, key or CA");
	}
	r = tls_crl_use(ctx, c, err);
	if (r) {
		SSL_CTX_free(ctx);
		return r;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	*out = ctx;
	return 0;
}

int tls_peer_name(SSL *s, char *name, size_t len, char *err)
{
	X509 *x = SSL_get1_peer_certificate(s);
	long v = SSL_get_verify_result(s);
	int r = -EACCES;

	if (!x)
		util_fmt(err, UTIL_ERR_LEN, "the peer gave no certificate");
	else if (v != X509_V_OK)
		util_fmt(err, UTIL_ERR_LEN, "the peer's certificate does not verify: %s",
			 X509_verify_cert_error_string(v));
	else if (tls_cn(x, name, len))
		util_fmt(err, UTIL_ERR_LEN, "the peer's certificate names no host");
	else
		r = 0;
	X509_free(x);
	return r;
}

void tls_handshake_why(SSL *s, char *err)
{
	char why[512];
	long v = SSL_get_verify_result(s);

	tls_errors(why, sizeof(why));
	if (v == X509_V_ERR_CERT_REVOKED)
		util_fmt(err, UTIL_ERR_LEN, "the peer's certificate is revoked (vtb cluster revoke): "
			 "refused");
	else if (strstr(why, "alert certificate revoked"))
		util_fmt(err, UTIL_ERR_LEN, "the peer refused this host's certificate: it is revoked "
			 "(a new one: vtb cluster cert on the CA's host, then vtb cluster join --bundle)");
	else
		util_fmt(err, UTIL_ERR_LEN, "TLS handshake failed: %s", why);
}

int tls_etcd_open(const struct clconf *c, struct etcd **e, char *err)
{
	struct etcd_tls t = { .ca = c->ca, .cert = c->cert, .key = c->key };

	return etcd_open_tls(c->etcd, c->ca[0] ? &t : NULL, e, err);
}
