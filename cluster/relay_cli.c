/* relay_cli: the requesting end of the relay (relay.h). */
#include "relay_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

/* Connect to addr:RELAY_PORT from c's underlay address (the serving host
 * checks that the connection comes from there), within RELAY_CONNECT_MS.
 * The socket, or a negative errno with err. */
static int relay_connect(const struct clconf *c, const char *host, const char *addr, char *err)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(RELAY_PORT) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct pollfd p = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, r = 0, soerr = 0;

	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1 ||
	    inet_pton(AF_INET, c->underlay, &me.sin_addr) != 1) {
		util_fmt(err, UTIL_ERR_LEN, "host '%s': '%s' is not an IPv4 address", host, addr);
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		r = -errno;
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	p.fd = fd;
	while ((r = poll(&p, 1, RELAY_CONNECT_MS)) < 0 && errno == EINTR)
		;
	if (r == 0)
		r = -ETIMEDOUT;
	else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		r = -errno;
	else
		r = -soerr;
	if (!r)
		return fd;
fail:
	util_fmt(err, UTIL_ERR_LEN, "cannot reach the agent of host '%s' at %s port %d: %s%s", host,
		 addr, RELAY_PORT, strerror(-r),
		 r == -ECONNREFUSED ? " (is its agent running?)" : "");
	if (fd >= 0)
		close(fd);
	return r;
}

/* Set when the terminal changed size (SIGWINCH). */
static volatile sig_atomic_t relay_winch;

static void relay_on_winch(int sig)
{
	(void)sig;
	relay_winch = 1;
}

/* Send the terminal's size as fd has it now. */
static int relay_send_size(struct relay_conn *c, int fd)
{
	struct winsize ws = { 0 };
	uint8_t p[4];

	ioctl(fd, TIOCGWINSZ, &ws);
	p[0] = (uint8_t)(ws.ws_row >> 8);
	p[1] = (uint8_t)ws.ws_row;
	p[2] = (uint8_t)(ws.ws_col >> 8);
	p[3] = (uint8_t)ws.ws_col;
	return relay_conn_send(c, RELAY_WINCH, p, sizeof(p));
}

/* Act on the serving host's frames now in the buffer: output to io, the
 * exit status into *status (then *done). 0, -EACCES with err (refused),
 * or a negative errno. */
static int relay_cli_frames(struct relay_conn *c, const struct relay_io *io, int *status,
			    bool *done, char *err)
{
	struct relay_frame f;
	size_t used;
	int k, r = 0;

	while (!r && !*done && (k = relay_conn_frame(c, &f, &used)) == 0) {
		if (f.type == RELAY_STDOUT && io->collect)
			util_buf_append(io->collect, (const char *)f.data, f.len);
		else if (f.type == RELAY_STDOUT || f.type == RELAY_STDERR)
			r = relay_write_fd(f.type == RELAY_STDOUT ? io->out : io->err, f.data, f.len);
		else if (f.type == RELAY_EXIT)
			*status = (int)relay_u32(f.data), *done = true;
		else if (f.type == RELAY_ERROR) {
			util_fmt(err, UTIL_ERR_LEN, "%.*s", (int)(f.len < 1000 ? f.len : 1000), f.data);
			r = strstr(err, "not relayed") ? -EPERM : -EACCES;
		} else
			r = -EPROTO;
		relay_conn_consume(c, used);
	}
	if (!r && !*done && k != -EAGAIN)
		r = k;
	return r;
}

/* Relay until the exit status comes: io->in to the command, its output
 * to io. 0 with *status, or a negative errno with err. */
static int relay_cli_pump(struct relay_conn *c, const struct relay_io *io, bool tty, int *status,
			  char *err)
{
	static uint8_t buf[RELAY_FRAME_MAX];
	int in = io->in, r = 0;
	bool done = false;
	ssize_t n;

	if (in < 0)
		r = relay_conn_send(c, RELAY_EOF, NULL, 0);
	while (!r && !done) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN }, { .fd = in, .events = POLLIN } };

		if (tty && relay_winch) {
			relay_winch = 0;
			r = relay_send_size(c, in);
		}
		if (!r && !relay_conn_pending(c) && poll(p, 2, -1) < 0)
			r = errno == EINTR ? 0 : -errno;
		if (!r && (relay_conn_pending(c) || p[0].revents)) {
			r = relay_conn_fill(c);
			if (!r)
				r = relay_cli_frames(c, io, status, &done, err);
			if (!r && !done && c->closed)
				r = -EPIPE;
		}
		if (!r && !done && in >= 0 && p[1].revents) {
			n = read(in, buf, sizeof(buf));
			if (n > 0)
				r = relay_conn_send(c, RELAY_STDIN, buf, (size_t)n);
			else if (n == 0 || errno != EINTR) {
				in = -1;
				r = relay_conn_send(c, RELAY_EOF, NULL, 0);
			}
		}
	}
	if (r == -EPIPE && strstr(c->why, "alert certificate revoked")) {
		util_fmt(err, UTIL_ERR_LEN, "the host refused this host's certificate: it is revoked "
			 "(a new one: vtb cluster cert on the CA's host, then vtb cluster join --bundle)");
		r = -EACCES;
	} else if (r == -EPIPE || r == -EPROTO) {
		util_fmt(err, UTIL_ERR_LEN, "the connection to the host was lost%s%s%s",
			 r == -EPROTO ? " (a frame that does not parse)" : "",
			 c->why[0] ? ": TLS says: " : "", c->why);
	}
	return r;
}

int relay_call(const struct clconf *c, const char *host, const char *addr, int argc,
	       char **argv, const struct relay_io *io, int *status, char *err)
{
	struct relay_conn conn = { .fd = -1 };
	struct sigaction winch = { .sa_handler = relay_on_winch }, old_winch, old_pipe;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct winsize ws = { 0 };
	struct termios saved, raw;
	char peer[CLCONF_HOST_MAX] = "";
	bool tty = io->in >= 0 && isatty(io->in), restore = false;
	uint8_t *req = NULL;
	size_t len;
	int fd, r;

	*status = -1;
	r = relay_req_encode(tty, 0, 0, argc, argv, &req, &len);
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "the command is too long to relay");
		return r;
	}
	if (tty && !ioctl(io->in, TIOCGWINSZ, &ws)) {
		req[2] = (uint8_t)(ws.ws_row >> 8), req[3] = (uint8_t)ws.ws_row;
		req[4] = (uint8_t)(ws.ws_col >> 8), req[5] = (uint8_t)ws.ws_col;
	}
	sigaction(SIGPIPE, &ign, &old_pipe);
	fd = relay_connect(c, host, addr, err);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = relay_conn_open(&conn, c, fd, false, peer, err);
	if (!r && strcmp(peer, host)) {
		util_fmt(err, UTIL_ERR_LEN, "%s port %d answers with the certificate of '%s', not of "
			 "host '%s'", addr, RELAY_PORT, peer, host);
		r = -EACCES;
	}
	if (!r)
		r = relay_conn_send(&conn, RELAY_REQ, req, len);
	if (r)
		goto out;
	if (tty && !tcgetattr(io->in, &saved)) {
		raw = saved;
		cfmakeraw(&raw);
		restore = !tcsetattr(io->in, TCSANOW, &raw);
		sigaction(SIGWINCH, &winch, &old_winch);
	}
	r = relay_cli_pump(&conn, io, tty, status, err);
	if (restore) {
		tcsetattr(io->in, TCSANOW, &saved);
		sigaction(SIGWINCH, &old_winch, NULL);
	}
out:
	if (conn.fd >= 0)
		relay_conn_close(&conn);
	sigaction(SIGPIPE, &old_pipe, NULL);
	free(req);
	return r;
}
