/* relay_int: what the relay's files share (relay_conn.c the TLS
 * connection and its frames; relay_srv.c the serving host; relay_cli.c the
 * requesting one). Not for other modules. */
#ifndef VTB_RELAY_INT_H
#define VTB_RELAY_INT_H

#include <openssl/ssl.h>

#include "relay.h"
#include "relay_proto.h"

/* How long a TCP connection and then the TLS handshake may take. On a
 * LAN both take a few milliseconds; a host that is down answers nothing,
 * and 2 s lets a SYN be sent a second time (Linux's first retransmission
 * is after 1 s), as the etcd client's connect timeout. */
#define RELAY_CONNECT_MS 2000
#define RELAY_HANDSHAKE_MS 5000
/* The read buffer: a whole frame and one TLS record (16 KiB) more. */
#define RELAY_RBUF (RELAY_HEAD + RELAY_FRAME_MAX + 16384)

/* One TLS connection, non-blocking underneath. */
struct relay_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	uint8_t *rbuf;
	size_t rlen;
	bool closed; /* the peer closed (or the connection broke) */
	char why[256]; /* OpenSSL's words when TLS broke it (a peer's alert) */
};

/* Set up c on connected socket fd (owned from now: relay_conn_close
 * closes it) with the TLS context of host conf, and do the handshake.
 * Then the peer's host name is in peer (CLCONF_HOST_MAX bytes). 0 or a
 * negative errno with err (-EACCES: a certificate refused). */
int relay_conn_open(struct relay_conn *c, const struct clconf *conf, int fd, bool server,
		    char *peer, char *err);
void relay_conn_close(struct relay_conn *c);

/* Send one frame of type with n bytes of p, whole (waiting for room). 0
 * or a negative errno (-EPIPE: the connection is gone). */
int relay_conn_send(struct relay_conn *c, uint8_t type, const void *p, size_t n);

/* Read what TLS has now into the buffer: 0 (maybe nothing new; c->closed
 * once the peer is gone), or a negative errno. */
int relay_conn_fill(struct relay_conn *c);

/* Whether TLS holds bytes already decrypted (poll would not say). */
bool relay_conn_pending(const struct relay_conn *c);

/* The next whole frame in the buffer: 0 with *f (valid until
 * relay_conn_consume), -EAGAIN when none yet, -EPROTO. */
int relay_conn_frame(struct relay_conn *c, struct relay_frame *f, size_t *used);
void relay_conn_consume(struct relay_conn *c, size_t used);

/* Write all n bytes of p to fd (a pipe or terminal): 0 or -errno. */
int relay_write_fd(int fd, const void *p, size_t n);

#endif
