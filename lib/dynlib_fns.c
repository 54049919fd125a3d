/* dynlib_fns: every function vtb calls in the libraries it opens on first
 * use (dynlib.h), defined under the library's own name so callers read as
 * if the library were linked. A function vtb starts calling goes here. */
#include "dynlib.h"

#include <curl/curl.h>
#include <gvc.h>
#include <metis.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <string.h>

/* libcurl (cluster/etcd.c) */
DYNLIB_FN(dynlib_curl, CURLcode, curl_global_init, (long flags), (flags))
DYNLIB_FN(dynlib_curl, CURL *, curl_easy_init, (void), ())
DYNLIB_FN(dynlib_curl, CURLcode, curl_easy_perform, (CURL *c), (c))
DYNLIB_FN(dynlib_curl, void, curl_easy_cleanup, (CURL *c), (c))
DYNLIB_FN(dynlib_curl, void, curl_easy_reset, (CURL *c), (c))
DYNLIB_FN(dynlib_curl, const char *, curl_easy_strerror, (CURLcode rc), (rc))

/* curl_easy_setopt's value is a long, a pointer (data or function) or a
 * curl_off_t, as the option's number says (curl.h, CURLOPTTYPE_*): pass it
 * on as the type it was given. */
CURLcode(curl_easy_setopt)(CURL *c, CURLoption opt, ...)
{
	static CURLcode (*fn)(CURL *, CURLoption, ...);
	CURLcode (*f)(CURL *, CURLoption, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	CURLcode rc;
	va_list ap;

	if (!f) {
		f = (CURLcode(*)(CURL *, CURLoption, ...))dynlib_sym(&dynlib_curl,
								     "curl_easy_setopt");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = f(c, opt, va_arg(ap, long));
	else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
		rc = f(c, opt, va_arg(ap, curl_off_t));
	else
		rc = f(c, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* curl_easy_getinfo's third argument is always a pointer. */
CURLcode(curl_easy_getinfo)(CURL *c, CURLINFO info, ...)
{
	static CURLcode (*fn)(CURL *, CURLINFO, ...);
	CURLcode (*f)(CURL *, CURLINFO, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	CURLcode rc;
	va_list ap;

	if (!f) {
		f = (CURLcode(*)(CURL *, CURLINFO, ...))dynlib_sym(&dynlib_curl,
								   "curl_easy_getinfo");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, info);
	rc = f(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* libpcap (exec/capture.c) */
DYNLIB_FN(dynlib_pcap, pcap_t *, pcap_create, (const char *dev, char *ebuf), (dev, ebuf))
DYNLIB_FN(dynlib_pcap, pcap_t *, pcap_open_dead, (int link, int snap), (link, snap))
DYNLIB_FN(dynlib_pcap, int, pcap_set_snaplen, (pcap_t *p, int n), (p, n))
DYNLIB_FN(dynlib_pcap, int, pcap_set_immediate_mode, (pcap_t *p, int on), (p, on))
DYNLIB_FN(dynlib_pcap, int, pcap_set_buffer_size, (pcap_t *p, int n), (p, n))
DYNLIB_FN(dynlib_pcap, int, pcap_activate, (pcap_t *p), (p))
DYNLIB_FN(dynlib_pcap, void, pcap_close, (pcap_t *p), (p))
DYNLIB_FN(dynlib_pcap, int, pcap_dispatch, (pcap_t *p, int n, pcap_handler cb, u_char *user),
	  (p, n, cb, user))
DYNLIB_FN(dynlib_pcap, int, pcap_stats, (pcap_t *p, struct pcap_stat *st), (p, st))
DYNLIB_FN(dynlib_pcap, int, pcap_setfilter, (pcap_t *p, struct bpf_program *prog), (p, prog))
DYNLIB_FN(dynlib_pcap, int, pcap_setdirection, (pcap_t *p, pcap_direction_t d), (p, d))
DYNLIB_FN(dynlib_pcap, int, pcap_setnonblock, (pcap_t *p, int on, char *ebuf), (p, on, ebuf))
DYNLIB_FN(dynlib_pcap, char *, pcap_geterr, (pcap_t *p), (p))
DYNLIB_FN(dynlib_pcap, int, pcap_compile,
	  (pcap_t *p, struct bpf_program *prog, const char *s, int opt, bpf_u_int32 mask),
	  (p, prog, s, opt, mask))
DYNLIB_FN(dynlib_pcap, void, pcap_freecode, (struct bpf_program *prog), (prog))
DYNLIB_FN(dynlib_pcap, pcap_dumper_t *, pcap_dump_fopen, (pcap_t *p, FILE *fp), (p, fp))
DYNLIB_FN(dynlib_pcap, int, pcap_dump_flush, (pcap_dumper_t *d), (d))
DYNLIB_FN(dynlib_pcap, void, pcap_dump_close, (pcap_dumper_t *d), (d))
DYNLIB_FN(dynlib_pcap, void, pcap_dump,
	  (u_char *user, const struct pcap_pkthdr *h, const u_char *bytes), (user, h, bytes))
DYNLIB_FN(dynlib_pcap, int, pcap_get_selectable_fd, (pcap_t *p), (p))

/* Graphviz: libgvc and libcgraph (cli/graph.c) */
DYNLIB_FN(dynlib_gvc, GVC_t *, gvContext, (void), ())
DYNLIB_FN(dynlib_gvc, int, gvFreeContext, (GVC_t *gvc), (gvc))
DYNLIB_FN(dynlib_gvc, int, gvLayout, (GVC_t *gvc, graph_t *g, const char *engine),
	  (gvc, g, engine))
DYNLIB_FN(dynlib_gvc, int, gvFreeLayout, (GVC_t *gvc, graph_t *g), (gvc, g))
DYNLIB_FN(dynlib_gvc, int, gvRender, (GVC_t *gvc, graph_t *g, const char *format, FILE *out),
	  (gvc, g, format, out))
DYNLIB_FN(dynlib_gvc, char **, gvPluginList, (GVC_t *gvc, const char *kind, int *sz, char *s),
	  (gvc, kind, sz, s))
DYNLIB_FN(dynlib_cgraph, Agraph_t *, agopen, (char *name, Agdesc_t desc, Agdisc_t *disc),
	  (name, desc, disc))
DYNLIB_FN(dynlib_cgraph, int, agclose, (Agraph_t *g), (g))
DYNLIB_FN(dynlib_cgraph, int, agwrite, (Agraph_t *g, void *chan), (g, chan))
DYNLIB_FN(dynlib_cgraph, Agnode_t *, agnode, (Agraph_t *g, char *name, int create),
	  (g, name, create))
DYNLIB_FN(dynlib_cgraph, Agedge_t *, agedge,
	  (Agraph_t *g, Agnode_t *t, Agnode_t *h, char *name, int create), (g, t, h, name, create))
DYNLIB_FN(dynlib_cgraph, Agsym_t *, agattr, (Agraph_t *g, int kind, char *name, char *value),
	  (g, kind, name, value))
DYNLIB_FN(dynlib_cgraph, int, agsafeset, (void *obj, char *name, char *value, char *def),
	  (obj, name, value, def))
DYNLIB_FN(dynlib_cgraph, agusererrf, agseterrf, (agusererrf f), (f))

/* METIS (realize/place.c) */
DYNLIB_FN(dynlib_metis, int, METIS_SetDefaultOptions, (idx_t *options), (options))
DYNLIB_FN(dynlib_metis, int, METIS_PartGraphKway,
	  (idx_t *nv, idx_t *ncon, idx_t *xadj, idx_t *adj, idx_t *vw, idx_t *vsize, idx_t *ew,
	   idx_t *nparts, real_t *tp, real_t *ub, idx_t *opt, idx_t *cut, idx_t *part),
	  (nv, ncon, xadj, adj, vw, vsize, ew, nparts, tp, ub, opt, cut, part))

/* OpenSSL: libssl and libcrypto (cluster/tls.c, cluster/relay_conn.c) */
DYNLIB_FN(dynlib_ssl, const SSL_METHOD *, TLS_client_method, (void), ())
DYNLIB_FN(dynlib_ssl, const SSL_METHOD *, TLS_server_method, (void), ())
DYNLIB_FN(dynlib_ssl, SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *m), (m))
DYNLIB_FN(dynlib_ssl, void, SSL_CTX_free, (SSL_CTX *c), (c))
DYNLIB_FN(dynlib_ssl, long, SSL_CTX_ctrl, (SSL_CTX *c, int cmd, long larg, void *parg),
	  (c, cmd, larg, parg))
DYNLIB_FN(dynlib_ssl, int, SSL_CTX_check_private_key, (const SSL_CTX *c), (c))
DYNLIB_FN(dynlib_ssl, int, SSL_CTX_load_verify_locations,
	  (SSL_CTX *c, const char *file, const char *dir), (c, file, dir))
DYNLIB_FN(dynlib_ssl, int, SSL_CTX_set_num_tickets, (SSL_CTX *c, size_t n), (c, n))
DYNLIB_FN(dynlib_ssl, void, SSL_CTX_set_verify, (SSL_CTX *c, int mode, SSL_verify_cb cb),
	  (c, mode, cb))
DYNLIB_FN(dynlib_ssl, int, SSL_CTX_use_PrivateKey_file, (SSL_CTX *c, const char *file, int type),
	  (c, file, type))
DYNLIB_FN(dynlib_ssl, int, SSL_CTX_use_certificate_chain_file, (SSL_CTX *c, const char *file),
	  (c, file))
DYNLIB_FN(dynlib_ssl, SSL *, SSL_new, (SSL_CTX *c), (c))
DYNLIB_FN(dynlib_ssl, void, SSL_free, (SSL *s), (s))
DYNLIB_FN(dynlib_ssl, long, SSL_ctrl, (SSL *s, int cmd, long larg, void *parg),
	  (s, cmd, larg, parg))
DYNLIB_FN(dynlib_ssl, int, SSL_set_fd, (SSL *s, int fd), (s, fd))
DYNLIB_FN(dynlib_ssl, int, SSL_accept, (SSL *s), (s))
DYNLIB_FN(dynlib_ssl, int, SSL_connect, (SSL *s), (s))
DYNLIB_FN(dynlib_ssl, int, SSL_shutdown, (SSL *s), (s))
DYNLIB_FN(dynlib_ssl, int, SSL_read, (SSL *s, void *buf, int n), (s, buf, n))
DYNLIB_FN(dynlib_ssl, int, SSL_write, (SSL *s, const void *buf, int n), (s, buf, n))
DYNLIB_FN(dynlib_ssl, int, SSL_pending, (const SSL *s), (s))
DYNLIB_FN(dynlib_ssl, int, SSL_get_error, (const SSL *s, int ret), (s, ret))
DYNLIB_FN(dynlib_ssl, long, SSL_get_verify_result, (const SSL *s), (s))
DYNLIB_FN(dynlib_ssl, X509 *, SSL_get1_peer_certificate, (const SSL *s), (s))

DYNLIB_FN(dynlib_crypto, long, BIO_ctrl, (BIO *b, int cmd, long larg, void *parg),
	  (b, cmd, larg, parg))
DYNLIB_FN(dynlib_crypto, int, BIO_free, (BIO *b), (b))
DYNLIB_FN(dynlib_crypto, BIO *, BIO_new, (const BIO_METHOD *m), (m))
DYNLIB_FN(dynlib_crypto, BIO *, BIO_new_mem_buf, (const void *buf, int len), (buf, len))
DYNLIB_FN(dynlib_crypto, const BIO_METHOD *, BIO_s_mem, (void), ())
DYNLIB_FN(dynlib_crypto, BIGNUM *, BN_bin2bn, (const unsigned char *s, int len, BIGNUM *ret),
	  (s, len, ret))
DYNLIB_FN(dynlib_crypto, void, BN_free, (BIGNUM *a), (a))
DYNLIB_FN(dynlib_crypto, ASN1_INTEGER *, BN_to_ASN1_INTEGER, (const BIGNUM *bn, ASN1_INTEGER *ai),
	  (bn, ai))
DYNLIB_FN(dynlib_crypto, void, ERR_clear_error, (void), ())
DYNLIB_FN(dynlib_crypto, unsigned long, ERR_get_error, (void), ())
DYNLIB_FN(dynlib_crypto, const char *, ERR_reason_error_string, (unsigned long e), (e))
DYNLIB_FN(dynlib_crypto, void, EVP_PKEY_free, (EVP_PKEY *k), (k))
DYNLIB_FN(dynlib_crypto, const EVP_MD *, EVP_sha256, (void), ())
DYNLIB_FN(dynlib_crypto, EVP_PKEY *, PEM_read_PrivateKey,
	  (FILE *f, EVP_PKEY **x, pem_password_cb *cb, void *u), (f, x, cb, u))
DYNLIB_FN(dynlib_crypto, X509 *, PEM_read_X509, (FILE *f, X509 **x, pem_password_cb *cb, void *u),
	  (f, x, cb, u))
DYNLIB_FN(dynlib_crypto, EVP_PKEY *, PEM_read_bio_PrivateKey,
	  (BIO *b, EVP_PKEY **x, pem_password_cb *cb, void *u), (b, x, cb, u))
DYNLIB_FN(dynlib_crypto, X509 *, PEM_read_bio_X509, (BIO *b, X509 **x, pem_password_cb *cb, void *u),
	  (b, x, cb, u))
DYNLIB_FN(dynlib_crypto, int, PEM_write_bio_PrivateKey,
	  (BIO *b, const EVP_PKEY *x, const EVP_CIPHER *enc, const unsigned char *kstr, int klen,
	   pem_password_cb *cb, void *u),
	  (b, x, enc, kstr, klen, cb, u))
DYNLIB_FN(dynlib_crypto, int, PEM_write_bio_X509, (BIO *b, const X509 *x), (b, x))
DYNLIB_FN(dynlib_crypto, int, RAND_bytes, (unsigned char *buf, int n), (buf, n))
DYNLIB_FN(dynlib_crypto, X509_EXTENSION *, X509V3_EXT_conf_nid,
	  (LHASH_OF(CONF_VALUE) *conf, X509V3_CTX *ctx, int nid, const char *value),
	  (conf, ctx, nid, value))
DYNLIB_FN(dynlib_crypto, void, X509V3_set_ctx,
	  (X509V3_CTX *ctx, X509 *issuer, X509 *subject, X509_REQ *req, X509_CRL *crl, int flags),
	  (ctx, issuer, subject, req, crl, flags))
DYNLIB_FN(dynlib_crypto, void, X509_EXTENSION_free, (X509_EXTENSION *x), (x))
DYNLIB_FN(dynlib_crypto, int, X509_NAME_add_entry_by_txt,
	  (X509_NAME *name, const char *field, int type, const unsigned char *bytes, int len,
	   int loc, int set),
	  (name, field, type, bytes, len, loc, set))
DYNLIB_FN(dynlib_crypto, int, X509_NAME_get_text_by_NID,
	  (const X509_NAME *name, int nid, char *buf, int len), (name, nid, buf, len))
DYNLIB_FN(dynlib_crypto, X509_STORE_CTX *, X509_STORE_CTX_new, (void), ())
DYNLIB_FN(dynlib_crypto, void, X509_STORE_CTX_free, (X509_STORE_CTX *c), (c))
DYNLIB_FN(dynlib_crypto, int, X509_STORE_CTX_init,
	  (X509_STORE_CTX *c, X509_STORE *store, X509 *target, STACK_OF(X509) *untrusted),
	  (c, store, target, untrusted))
DYNLIB_FN(dynlib_crypto, X509_STORE *, X509_STORE_new, (void), ())
DYNLIB_FN(dynlib_crypto, void, X509_STORE_free, (X509_STORE *s), (s))
DYNLIB_FN(dynlib_crypto, int, X509_STORE_add_cert, (X509_STORE *s, X509 *x), (s, x))
DYNLIB_FN(dynlib_crypto, int, X509_add_ext, (X509 *x, X509_EXTENSION *ex, int loc), (x, ex, loc))
DYNLIB_FN(dynlib_crypto, int, X509_check_private_key, (const X509 *x, const EVP_PKEY *k), (x, k))
DYNLIB_FN(dynlib_crypto, X509 *, X509_new, (void), ())
DYNLIB_FN(dynlib_crypto, void, X509_free, (X509 *x), (x))
DYNLIB_FN(dynlib_crypto, ASN1_INTEGER *, X509_get_serialNumber, (X509 *x), (x))
DYNLIB_FN(dynlib_crypto, X509_NAME *, X509_get_subject_name, (const X509 *x), (x))
DYNLIB_FN(dynlib_crypto, ASN1_TIME *, X509_getm_notAfter, (const X509 *x), (x))
DYNLIB_FN(dynlib_crypto, ASN1_TIME *, X509_getm_notBefore, (const X509 *x), (x))
DYNLIB_FN(dynlib_crypto, ASN1_TIME *, X509_gmtime_adj, (ASN1_TIME *s, long adj), (s, adj))
DYNLIB_FN(dynlib_crypto, int, X509_set_issuer_name, (X509 *x, const X509_NAME *name), (x, name))
DYNLIB_FN(dynlib_crypto, int, X509_set_pubkey, (X509 *x, EVP_PKEY *k), (x, k))
DYNLIB_FN(dynlib_crypto, int, X509_set_version, (X509 *x, long v), (x, v))
DYNLIB_FN(dynlib_crypto, int, X509_sign, (X509 *x, EVP_PKEY *k, const EVP_MD *md), (x, k, md))
DYNLIB_FN(dynlib_crypto, int, X509_verify_cert, (X509_STORE_CTX *c), (c))
DYNLIB_FN(dynlib_crypto, const char *, X509_verify_cert_error_string, (long n), (n))

/* the revocation list (cluster/tls_crl.c) */
DYNLIB_FN(dynlib_ssl, X509_STORE *, SSL_CTX_get_cert_store, (const SSL_CTX *c), (c))
DYNLIB_FN(dynlib_crypto, void, ASN1_INTEGER_free, (ASN1_INTEGER *a), (a))
DYNLIB_FN(dynlib_crypto, long, ASN1_INTEGER_get, (const ASN1_INTEGER *a), (a))
DYNLIB_FN(dynlib_crypto, ASN1_INTEGER *, ASN1_INTEGER_new, (void), ())
DYNLIB_FN(dynlib_crypto, int, ASN1_INTEGER_set, (ASN1_INTEGER *a, long v), (a, v))
DYNLIB_FN(dynlib_crypto, BIGNUM *, ASN1_INTEGER_to_BN, (const ASN1_INTEGER *a, BIGNUM *bn), (a, bn))
DYNLIB_FN(dynlib_crypto, void, ASN1_TIME_free, (ASN1_TIME *t), (t))
DYNLIB_FN(dynlib_crypto, char *, BN_bn2hex, (const BIGNUM *a), (a))
DYNLIB_FN(dynlib_crypto, int, BN_hex2bn, (BIGNUM **a, const char *str), (a, str))
DYNLIB_FN(dynlib_crypto, void, CRYPTO_free, (void *p, const char *file, int line), (p, file, line))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_add0_revoked, (X509_CRL *c, X509_REVOKED *rev), (c, rev))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_add1_ext_i2d,
	  (X509_CRL *x, int nid, void *value, int crit, unsigned long flags),
	  (x, nid, value, crit, flags))
DYNLIB_FN(dynlib_crypto, void, X509_CRL_free, (X509_CRL *c), (c))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_get0_by_serial,
	  (X509_CRL *c, X509_REVOKED **ret, const ASN1_INTEGER *serial), (c, ret, serial))
DYNLIB_FN(dynlib_crypto, void *, X509_CRL_get_ext_d2i, (const X509_CRL *x, int nid, int *crit, int *idx),
	  (x, nid, crit, idx))
DYNLIB_FN(dynlib_crypto, X509_NAME *, X509_CRL_get_issuer, (const X509_CRL *c), (c))
DYNLIB_FN(dynlib_crypto, X509_CRL *, X509_CRL_new, (void), ())
DYNLIB_FN(dynlib_crypto, int, X509_CRL_set1_lastUpdate, (X509_CRL *x, const ASN1_TIME *t), (x, t))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_set1_nextUpdate, (X509_CRL *x, const ASN1_TIME *t), (x, t))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_set_issuer_name, (X509_CRL *x, const X509_NAME *n), (x, n))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_set_version, (X509_CRL *x, long v), (x, v))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_sign, (X509_CRL *x, EVP_PKEY *k, const EVP_MD *md), (x, k, md))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_sort, (X509_CRL *c), (c))
DYNLIB_FN(dynlib_crypto, int, X509_CRL_verify, (X509_CRL *c, EVP_PKEY *k), (c, k))
DYNLIB_FN(dynlib_crypto, int, X509_NAME_cmp, (const X509_NAME *a, const X509_NAME *b), (a, b))
DYNLIB_FN(dynlib_crypto, void, X509_REVOKED_free, (X509_REVOKED *r), (r))
DYNLIB_FN(dynlib_crypto, X509_REVOKED *, X509_REVOKED_new, (void), ())
DYNLIB_FN(dynlib_crypto, int, X509_REVOKED_set_revocationDate, (X509_REVOKED *r, ASN1_TIME *t), (r, t))
DYNLIB_FN(dynlib_crypto, int, X509_REVOKED_set_serialNumber, (X509_REVOKED *r, ASN1_INTEGER *s),
	  (r, s))
DYNLIB_FN(dynlib_crypto, int, X509_STORE_CTX_get_error, (const X509_STORE_CTX *c), (c))
DYNLIB_FN(dynlib_crypto, int, X509_STORE_add_crl, (X509_STORE *s, X509_CRL *c), (s, c))
DYNLIB_FN(dynlib_crypto, int, X509_STORE_set_flags, (X509_STORE *s, unsigned long f), (s, f))
DYNLIB_FN(dynlib_crypto, EVP_PKEY *, X509_get0_pubkey, (const X509 *x), (x))
DYNLIB_FN(dynlib_crypto, ASN1_TIME *, X509_time_adj_ex,
	  (ASN1_TIME *s, int offset_day, long offset_sec, time_t *t), (s, offset_day, offset_sec, t))
DYNLIB_FN(dynlib_crypto, X509_CRL *, d2i_X509_CRL, (X509_CRL **a, const unsigned char **in, long len),
	  (a, in, len))
DYNLIB_FN(dynlib_crypto, int, i2d_X509_CRL_bio, (BIO *b, const X509_CRL *c), (b, c))

/* EVP_PKEY_Q_keygen's arguments after the type: a curve's name for "EC",
 * the bits (size_t) for "RSA", none for the others (openssl/evp.h). */
EVP_PKEY *(EVP_PKEY_Q_keygen)(OSSL_LIB_CTX *libctx, const char *propq, const char *type, ...)
{
	static EVP_PKEY *(*fn)(OSSL_LIB_CTX *, const char *, const char *, ...);
	EVP_PKEY *(*f)(OSSL_LIB_CTX *, const char *, const char *, ...) =
		__atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	EVP_PKEY *k;
	va_list ap;

	if (!f) {
		f = (EVP_PKEY * (*)(OSSL_LIB_CTX *, const char *, const char *, ...))
			dynlib_sym(&dynlib_crypto, "EVP_PKEY_Q_keygen");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, type);
	if (!strcmp(type, "EC"))
		k = f(libctx, propq, type, va_arg(ap, char *));
	else if (!strcmp(type, "RSA"))
		k = f(libctx, propq, type, va_arg(ap, size_t));
	else
		k = f(libctx, propq, type);
	va_end(ap);
	return k;
}
