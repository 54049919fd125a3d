/* tls_int: what tls.c (certificates, contexts) and tls_crl.c (the
 * revocation list) share. Not for other modules. */
#ifndef VTB_TLS_INT_H
#define VTB_TLS_INT_H

#include <sys/types.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "tls.h"

/* A bundle, a certificate or a CRL is a few KiB (a CRL of a thousand
 * revoked certificates about 40 KiB); anything larger is not ours. */
#define TLS_FILE_MAX (256u << 10)
/* A certificate (and a CRL) is valid from this long before it was made: a
 * host whose clock is a little behind the CA's accepts it at once. */
#define TLS_BACKDATE_S 3600

/* Open OpenSSL's libraries (lib/dynlib.h: vtb does not link them), so
 * that a missing one is an error naming its package. 0 or -ENOENT. */
int tls_load(char *err);

/* Say what failed, with OpenSSL's words, into err; returns r. */
int tls_fail(char *err, int r, const char *what);

/* Write what a memory BIO holds to path with mode (atomically). 0 or a
 * negative errno. */
int tls_write_bio(BIO *b, const char *path, mode_t mode);

/* Read the CA of cadir: its certificate and key (the caller's: X509_free,
 * EVP_PKEY_free). 0 or a negative errno with err. */
int tls_ca_read(const char *cadir, X509 **ca, EVP_PKEY **key, char *err);

/* Record certificate x, just issued, in cadir's list of issued
 * certificates (TLS_ISSUED_FILE). 0 or a negative errno with err. */
int tls_crl_issued_add(const char *cadir, X509 *x, char *err);

/* The CRL file of c's host: TLS_CRL_FILE next to its CA's certificate. */
void tls_crl_path(const struct clconf *c, char *path, size_t len);

/* Remove c's CRL when the CA ca did not sign it (a host that joins a
 * cluster of another CA): OpenSSL would refuse every peer with it. */
void tls_crl_drop_foreign(const struct clconf *c, X509 *ca);

/* Make ctx check its peer's certificate against c's CRL (tls_crl_path)
 * when there is one (X509_V_FLAG_CRL_CHECK). 0, or -EACCES with err when
 * the file is there but does not load (closed, not open, on failure). */
int tls_crl_use(SSL_CTX *ctx, const struct clconf *c, char *err);

#endif
