/* tls: the cluster's certificates and TLS contexts, with OpenSSL (the
 * library libcurl is built with here, so one TLS library is in the
 * process). docs/cluster.md, "Security".
 *
 * A cluster CA (an EC P-256 key and a self-signed certificate) is made
 * once, on one host, before etcd starts: `vtb cluster ca`. That host
 * issues one certificate per host (CN and a DNS SAN the host's name, an
 * IP SAN its underlay address; usable as client and server) and one for
 * each etcd member, as a bundle file: the certificate, the CA's
 * certificate and the private key, in PEM, mode 0600. `vtb cluster
 * init/join --bundle FILE` installs it in the configuration's directory
 * (TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE; the key 0600). etcd is given
 * the same bundle as --cert-file and --key-file (Go takes the CERTIFICATE
 * and the PRIVATE KEY blocks of a file and skips the rest). */
#ifndef VTB_TLS_H
#define VTB_TLS_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "clconf.h"

#define TLS_CA_FILE "ca.crt"
#define TLS_CA_KEY_FILE "ca.key"
#define TLS_CERT_FILE "host.crt"
#define TLS_KEY_FILE "host.key"

/* The CA's certificate revocation list (DER: etcd's --client-crl-file
 * reads it as it is), in the CA's directory and, as each host's copy,
 * next to its CA certificate; published in etcd at TLS_CRL_KEY. The CA's
 * directory also lists every certificate it issued (TLS_ISSUED_FILE: a
 * line "SERIAL NAME" each, the serial in hex), which is how `vtb cluster
 * revoke NAME` finds what to revoke. */
#define TLS_CRL_FILE "crl.der"
#define TLS_ISSUED_FILE "issued"
#define TLS_CRL_KEY "/vtb/crl"

/* How long a certificate is valid. A lab's cluster lives for years and
 * renewing is a manual step; a host is shut out by revoking its
 * certificate (`vtb cluster revoke`), and its relay by removing it from
 * the cluster (`vtb cluster leave`: the agents accept only registered
 * hosts, whatever their certificate says). */
#define TLS_CERT_DAYS 3650
/* The CA's own: longer than any certificate it issues. */
#define TLS_CA_DAYS 7300

/* Make a CA in dir (TLS_CA_FILE 0644, TLS_CA_KEY_FILE 0600; dir made
 * 0700 when missing). -EEXIST when dir holds a CA already. 0 or a
 * negative errno with err (UTIL_ERR_LEN bytes). */
int tls_ca_make(const char *dir, char *err);

/* Issue a certificate for name (a host or an etcd member) with ip as its
 * IP SAN, signed by the CA in cadir, into the bundle file out (mode
 * 0600, replaced atomically). 0 or a negative errno with err. */
int tls_cert_issue(const char *cadir, const char *name, const char *ip, const char *out,
		   char *err);

/* Check the bundle file bundle (its certificate signed by the CA it
 * holds, issued to host, its key the certificate's) and install it in dir
 * (TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE 0600), filling c's ca, cert
 * and key with the paths. 0 or a negative errno with err. */
int tls_bundle_install(const char *bundle, const char *dir, const char *host, struct clconf *c,
		       char *err);

/* A TLS context for c's host: its certificate and key, trusting only c's
 * CA, TLS 1.3 at least, and asking the peer for its certificate (a server
 * refuses a client without one). *out is the caller's (SSL_CTX_free). 0
 * or a negative errno with err. */
int tls_ctx(const struct clconf *c, bool server, SSL_CTX **out, char *err);

/* The verified peer's host name (its certificate's CN) into name (len
 * bytes): 0, or -EACCES when the peer gave no certificate or one that did
 * not verify, with err saying so. */
int tls_peer_name(SSL *s, char *name, size_t len, char *err);

/* Why the handshake on s failed, into err: a revoked certificate (the
 * peer's, or ours as the peer's alert says) in words, else OpenSSL's. */
void tls_handshake_why(SSL *s, char *err);

struct etcd;

/* Make cadir's first CRL (nothing revoked, number 1) unless it has one.
 * 0 or a negative errno with err. */
int tls_crl_make(const char *cadir, char *err);

/* Revoke, in cadir's CRL, every certificate issued to name (its lines in
 * TLS_ISSUED_FILE; name may be NULL) and the certificate of certfile (the
 * first certificate of a PEM file, a bundle too; may be NULL) that it does
 * not revoke yet: a new CRL with the next number, signed by the CA,
 * replaces the old one when anything was added. *added how many were,
 * *number the CRL's number. -ENOENT when there was nothing to revoke (no
 * certificate issued to name is known); 0 or a negative errno with err. */
int tls_crl_revoke(const char *cadir, const char *name, const char *certfile, size_t *added,
		   long *number, char *err);

/* Install the CRL p (n bytes, DER) at path if it is signed by the CA of
 * cafile and newer (a higher CRL number) than the CRL at path, which it
 * replaces atomically. 1 when installed, 0 when path's is as new or newer
 * (a CRL never goes back), -EBADMSG with err when p is no CRL of that CA,
 * or another negative errno with err. */
int tls_crl_install(const char *path, const char *cafile, const uint8_t *p, size_t n, char *err);

/* Put the CRL of cadir in etcd (TLS_CRL_KEY) for every host to take. 0 or
 * a negative errno with err. */
int tls_crl_publish(struct etcd *e, const char *cadir, char *err);

/* Bring c's host's CRL up to date with etcd's (TLS_CRL_KEY; none there:
 * nothing to do). 1 when a newer one was installed, 0 when not, or a
 * negative errno with err (the host's copy is kept). */
int tls_crl_sync(struct etcd *e, const struct clconf *c, char *err);

/* Check the certificate of certfile (PEM) against the CA of cafile and
 * the CRL of crlfile: 0, -EKEYREVOKED when the CRL revokes it, -EACCES
 * when it does not verify, with err. */
int tls_crl_check(const char *cafile, const char *crlfile, const char *certfile, char *err);

/* Open etcd as c says: its endpoints, with c's certificates when it has
 * them (etcd_open_tls). */
int tls_etcd_open(const struct clconf *c, struct etcd **e, char *err);

/* OpenSSL's last error queue as one sentence into buf (and empty it). */
void tls_errors(char *buf, size_t len);

#endif
