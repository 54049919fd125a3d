/* relay_conn: the relay's TLS connection and its frames (relay_int.h). */
#include "relay_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls.h"

/* Milliseconds on the monotonic clock. */
static long long relay_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait until the socket can do what TLS asked for (ssl_err: WANT_READ or
 * WANT_WRITE), at most ms (-1: for ever). 0, -ETIMEDOUT or -errno. */
static int relay_wait(int fd, int ssl_err, int ms)
{
	struct pollfd p = { .fd = fd, .events = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
	int k;

	while ((k = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return k < 0 ? -errno : k == 0 ? -ETIMEDOUT : 0;
}

int relay_conn_open(struct relay_conn *c, const struct clconf *conf, int fd, bool server,
		    char *peer, char *err)
{
	long long deadline = relay_now_ms() + RELAY_HANDSHAKE_MS;
	int r, k, e;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->rbuf = malloc(RELAY_RBUF);
	if (!c->rbuf)
		return -ENOMEM;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return -errno;
	/* a frame is two TLS records (its head, its payload): without this,
	 * Nagle holds the second until the first is acknowledged, which the
	 * peer delays (up to 40 ms): every small exchange (a line of vtb run's
	 * parts, a clock reading) would take that long */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	r = tls_ctx(conf, server, &c->ctx, err);
	if (r)
		return r;
	/* no session tickets: nothing resumes, and no TLS message but ours
	 * arrives after the handshake */
	if (server)
		SSL_CTX_set_num_tickets(c->ctx, 0);
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, fd))
		return -ENOMEM;
	SSL_set_mode(c->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	for (;;) {
		k = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
		if (k == 1)
			break;
		e = SSL_get_error(c->ssl, k);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			tls_handshake_why(c->ssl, err);
			return -EACCES;
		}
		r = relay_wait(fd, e, (int)(deadline - relay_now_ms() > 0 ? deadline - relay_now_ms() : 0));
		if (r) {
			util_fmt(err, UTIL_ERR_LEN, "TLS handshake: %s", r == -ETIMEDOUT ?
				 "no answer" : strerror(-r));
			return r;
		}
	}
	return tls_peer_name(c->ssl, peer, CLCONF_HOST_MAX, err);
}

void relay_conn_close(struct relay_conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	free(c->rbuf);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Write n bytes of p through TLS, waiting for room. 0 or -EPIPE. */
static int relay_conn_write(struct relay_conn *c, const void *p, size_t n)
{
	int k, e;

	while (n > 0) {
		k = SSL_write(c->ssl, p, (int)n);
		if (k > 0) {
			p = (const uint8_t *)p + k;
			n -= (size_t)k;
			continue;
		}
		e = SSL_get_error(c->ssl, k);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || relay_wait(c->fd, e, -1)) {
			ERR_clear_error();
			c->closed = true;
			return -EPIPE;
		}
	}
	return 0;
}

int relay_conn_send(struct relay_conn *c, uint8_t type, const void *p, size_t n)
{
	uint8_t head[RELAY_HEAD];
	int r;

	if (n > RELAY_FRAME_MAX)
		return -E2BIG;
	relay_frame_head(type, (uint32_t)n, head);
	r = relay_conn_write(c, head, sizeof(head));
	if (!r && n)
		r = relay_conn_write(c, p, n);
	return r;
}

int relay_conn_fill(struct relay_conn *c)
{
	int k, e;

	if (c->rlen == RELAY_RBUF)
		return -EPROTO; /* cannot happen: a frame fits with room to spare */
	k = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(RELAY_RBUF - c->rlen));
	if (k > 0) {
		c->rlen += (size_t)k;
		return 0;
	}
	e = SSL_get_error(c->ssl, k);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	/* under TLS 1.3 the server's verdict on our certificate comes after
	 * our handshake ended: its alert is the first thing read */
	if (e == SSL_ERROR_SSL)
		tls_errors(c->why, sizeof(c->why));
	ERR_clear_error();
	c->closed = true;
	return 0;
}

bool relay_conn_pending(const struct relay_conn *c)
{
	return SSL_pending(c->ssl) > 0;
}

int relay_conn_frame(struct relay_conn *c, struct relay_frame *f, size_t *used)
{
	return relay_frame_next(c->rbuf, c->rlen, f, used);
}

void relay_conn_consume(struct relay_conn *c, size_t used)
{
	memmove(c->rbuf, c->rbuf + used, c->rlen - used);
	c->rlen -= used;
}

int relay_write_fd(int fd, const void *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p = (const uint8_t *)p + k;
		n -= (size_t)k;
	}
	return 0;
}
