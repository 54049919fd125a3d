/* relay_srv: the serving end of the relay (relay.h): the agent's
 * listener, and one session (a `vtb __relay-session` process per
 * connection) that checks the peer, runs its command and relays. */
#include "relay_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clhost.h"
#include "etcd.h"
#include "tls.h"

/* How many connections wait to be accepted: a few hosts' commands at
 * once. */
#define RELAY_BACKLOG 64
/* After a refusal, how long the requester has to read it and close: it
 * does so within a round trip; a requester that does not is cut. */
#define RELAY_LINGER_MS 2000

/* Whether peer (its certificate's CN) is a host of the cluster whose
 * underlay is the address the connection comes from, as etcd e (NULL:
 * could not be opened, err says why) has it. 0, -EACCES with err, or
 * another negative errno (etcd). */
static int relay_peer_check(struct etcd *e, int fd, const char *peer, char *err)
{
	char key[sizeof(CLHOST_PREFIX) + CLCONF_HOST_MAX], msg[UTIL_ERR_LEN], from[INET_ADDRSTRLEN];
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct clhost h;
	char *val = NULL;
	size_t len;
	int r;

	if (getpeername(fd, (struct sockaddr *)&sa, &salen) || sa.sin_family != AF_INET ||
	    !inet_ntop(AF_INET, &sa.sin_addr, from, sizeof(from)))
		return -errno ? -errno : -EPROTO;
	if (!e)
		return -EHOSTUNREACH;
	snprintf(key, sizeof(key), CLHOST_PREFIX "%s", peer);
	r = etcd_get(e, key, &val, &len, NULL, err);
	if (r == -ENOENT) {
		util_fmt(err, UTIL_ERR_LEN, "host '%s' (from %s) is not a member of the cluster", peer,
			 from);
		return -EACCES;
	}
	if (r)
		return r;
	r = clhost_parse(val, len, &h, msg);
	free(val);
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "host '%s': its record does not parse: %s", peer, msg);
		return r;
	}
	if (strcmp(h.underlay, from)) {
		util_fmt(err, UTIL_ERR_LEN, "host '%s' connects from %s, not from its underlay %s",
			 peer, from, h.underlay);
		return -EACCES;
	}
	return 0;
}

/* Read the request: 0 with *r, or a negative errno with err. */
static int relay_read_req(struct relay_conn *c, struct relay_req *r, char *err)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	struct relay_frame f;
	size_t used;
	int k;

	for (;;) {
		k = relay_conn_frame(c, &f, &used);
		if (k == 0 && f.type == RELAY_REQ) {
			k = relay_req_parse(f.data, f.len, r);
			relay_conn_consume(c, used);
			if (k)
				util_fmt(err, UTIL_ERR_LEN, "a request that does not parse");
			return k;
		}
		if (k != -EAGAIN || c->closed) {
			util_fmt(err, UTIL_ERR_LEN, "no request came");
			return -EPROTO;
		}
		if (!relay_conn_pending(c) && poll(&p, 1, RELAY_HANDSHAKE_MS) <= 0) {
			util_fmt(err, UTIL_ERR_LEN, "no request came within %d ms", RELAY_HANDSHAKE_MS);
			return -ETIMEDOUT;
		}
		k = relay_conn_fill(c);
		if (k)
			return k;
	}
}

/* The command's ends on this side: the terminal's master (in and out) or
 * three pipes. */
struct relay_child {
	pid_t pid;
	int in, out, err; /* -1 once closed */
	bool tty;
};

/* Start exe CMD --local ARGS... for r. 0 or a negative errno. */
static int relay_spawn(const char *exe, const struct relay_req *r, struct relay_child *ch)
{
	struct winsize ws = { .ws_row = r->rows, .ws_col = r->cols };
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, master = -1, slave = -1;
	char **argv = calloc(r->argc + 3, sizeof(*argv));
	size_t i;

	if (!argv)
		return -ENOMEM;
	argv[0] = (char *)exe;
	argv[1] = r->argv[0];
	argv[2] = (char *)"--local";
	for (i = 1; i < r->argc; i++)
		argv[i + 2] = r->argv[i];
	if (r->tty ? openpty(&master, &slave, NULL, NULL, ws.ws_row ? &ws : NULL)
		   : pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
		free(argv);
		return -errno;
	}
	if (r->tty)
		fcntl(master, F_SETFD, FD_CLOEXEC);
	ch->pid = fork();
	if (ch->pid == 0) {
		setsid();
		if (r->tty && ioctl(slave, TIOCSCTTY, 0) < 0)
			_exit(126);
		dup2(r->tty ? slave : pin[0], 0);
		dup2(r->tty ? slave : pout[1], 1);
		dup2(r->tty ? slave : perr[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execv(exe, argv);
		_exit(127);
	}
	free(argv);
	ch->tty = r->tty;
	ch->in = r->tty ? master : pin[1];
	ch->out = r->tty ? fcntl(master, F_DUPFD_CLOEXEC, 0) : pout[0];
	ch->err = r->tty ? -1 : perr[0];
	close(r->tty ? slave : pin[0]);
	if (!r->tty) {
		close(pout[1]);
		close(perr[1]);
	}
	return ch->pid < 0 ? -errno : 0;
}

static void relay_fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Act on the requester's frames now in the buffer. 0 or a negative errno. */
static int relay_srv_frames(struct relay_conn *c, struct relay_child *ch)
{
	struct relay_frame f;
	struct winsize ws;
	size_t used;
	int k;

	while ((k = relay_conn_frame(c, &f, &used)) == 0) {
		if (f.type == RELAY_STDIN && ch->in >= 0) {
			if (relay_write_fd(ch->in, f.data, f.len))
				relay_fd_close(&ch->in); /* the command closed its input */
		} else if (f.type == RELAY_EOF && ch->in >= 0) {
			if (ch->tty)
				relay_write_fd(ch->in, "\004", 1); /* the terminal's end of input */
			else
				relay_fd_close(&ch->in);
		} else if (f.type == RELAY_WINCH && ch->tty) {
			ws = (struct winsize){ .ws_row = relay_u16(f.data), .ws_col = relay_u16(f.data + 2) };
			ioctl(ch->in, TIOCSWINSZ, &ws);
		} else if (f.type != RELAY_STDIN && f.type != RELAY_EOF && f.type != RELAY_WINCH) {
			return -EPROTO;
		}
		relay_conn_consume(c, used);
	}
	return k == -EAGAIN ? 0 : k;
}

/* Relay between the connection and the command until its output ends;
 * then its exit status goes to the requester. A requester that goes away
 * hangs the command up (SIGHUP to its session). 0 or a negative errno. */
static int relay_pump(struct relay_conn *c, struct relay_child *ch)
{
	static uint8_t buf[RELAY_FRAME_MAX];
	uint8_t st[4];
	int r = 0, k, wst;
	ssize_t n;

	while (!r && (ch->out >= 0 || ch->err >= 0)) {
		struct pollfd p[3] = { { .fd = c->closed ? -1 : c->fd, .events = POLLIN },
				       { .fd = ch->out, .events = POLLIN },
				       { .fd = ch->err, .events = POLLIN } };

		if (!relay_conn_pending(c) && poll(p, 3, -1) < 0) {
			r = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (relay_conn_pending(c) || p[0].revents) {
			r = relay_conn_fill(c);
			if (!r)
				r = relay_srv_frames(c, ch);
			if (c->closed)
				r = -EPIPE;
		}
		for (k = 1; k < 3 && !r; k++) {
			int *fd = k == 1 ? &ch->out : &ch->err;

			if (!p[k].revents)
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n > 0)
				r = relay_conn_send(c, k == 1 ? RELAY_STDOUT : RELAY_STDERR, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				relay_fd_close(fd); /* EIO: a terminal whose other side is closed */
		}
	}
	if (r)
		kill(-ch->pid, SIGHUP);
	while (waitpid(ch->pid, &wst, 0) < 0 && errno == EINTR)
		;
	k = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	st[0] = st[1] = st[2] = 0;
	st[3] = (uint8_t)k;
	return r ? r : relay_conn_send(c, RELAY_EXIT, st, sizeof(st));
}

/* After a refusal: end TLS and our direction, and read what the requester
 * still sends until it closes (RELAY_LINGER_MS at most). Closing with its
 * request unread would send a reset, and a reset makes the requester's
 * kernel drop the refusal before it is read. */
static void relay_linger(struct relay_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char buf[4096];

	SSL_shutdown(c->ssl);
	shutdown(c->fd, SHUT_WR);
	while (poll(&p, 1, RELAY_LINGER_MS) > 0 && read(c->fd, buf, sizeof(buf)) > 0)
		;
}

int relay_serve(const struct clconf *c, int fd, const char *exe, char *err)
{
	struct relay_conn conn = { .fd = -1 };
	struct relay_child ch = { .pid = -1, .in = -1, .out = -1, .err = -1 };
	struct relay_req req = { 0 };
	char peer[CLCONF_HOST_MAX] = "", etcd_err[UTIL_ERR_LEN] = "";
	struct etcd *e = NULL;
	int r;

	signal(SIGPIPE, SIG_IGN);
	/* etcd first: the revocation list as etcd has it now is the one the
	 * handshake checks the peer's certificate against (this host's copy
	 * when etcd cannot be read: then the peer check below says why) */
	if (!tls_etcd_open(c, &e, etcd_err))
		tls_crl_sync(e, c, etcd_err);
	r = relay_conn_open(&conn, c, fd, true, peer, err);
	if (r)
		goto out;
	r = relay_peer_check(e, fd, peer, err);
	if (r == -EHOSTUNREACH)
		util_fmt(err, UTIL_ERR_LEN, "%s", etcd_err);
	etcd_close(e); /* not held for as long as the session lasts */
	e = NULL;
	if (!r)
		r = relay_read_req(&conn, &req, err);
	if (!r)
		r = relay_req_allowed(&req, err);
	if (!r && (r = relay_spawn(exe, &req, &ch)) != 0)
		util_fmt(err, UTIL_ERR_LEN, "cannot run vtb: %s", strerror(-r));
	if (r) {
		if (!relay_conn_send(&conn, RELAY_ERROR, err, strlen(err)))
			relay_linger(&conn);
		goto out;
	}
	r = relay_pump(&conn, &ch);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "host '%s': %s %s: %s", peer, req.argv[0],
			 req.argc > 1 ? req.argv[1] : "", strerror(-r));
out:
	etcd_close(e);
	relay_fd_close(&ch.in);
	relay_fd_close(&ch.out);
	relay_fd_close(&ch.err);
	relay_req_free(&req);
	if (conn.ssl || conn.rbuf || conn.fd >= 0)
		relay_conn_close(&conn);
	else
		close(fd);
	return r;
}

/* Start `exe __relay-session` on connection fd, its standard input: a
 * child that forks the session and ends at once, so the session is
 * nobody's to wait for (only fork, dup2, exec and _exit between fork and
 * exec: this process has threads). */
static void relay_session_start(const char *exe, int fd)
{
	char *argv[] = { (char *)exe, (char *)"__relay-session", NULL };
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (fork() == 0) {
			dup2(fd, 0);
			execv(exe, argv);
			_exit(127);
		}
		_exit(0);
	}
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
}

/* The listener's thread: accept until the socket is shut down. */
static void *relay_accept_loop(void *arg)
{
	struct relay_listener *l = arg;
	int fd;

	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0)
			break;
		relay_session_start(l->exe, fd);
		close(fd);
	}
	return NULL;
}

int relay_listen(const struct clconf *c, const char *exe, struct relay_listener *l, char *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(RELAY_PORT) };
	int one = 1, r;

	memset(l, 0, sizeof(*l));
	l->exe = exe;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || inet_pton(AF_INET, c->underlay, &sa.sin_addr) != 1 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(l->fd, RELAY_BACKLOG)) {
		r = -errno;
		util_fmt(err, UTIL_ERR_LEN, "cannot listen on %s port %d (the relay): %s", c->underlay,
			 RELAY_PORT, strerror(errno));
		goto out_close;
	}
	r = -pthread_create(&l->thread, NULL, relay_accept_loop, l);
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "cannot start the relay's thread: %s", strerror(-r));
		goto out_close;
	}
	l->running = true;
	return 0;
out_close:
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	return r;
}

void relay_listen_stop(struct relay_listener *l)
{
	if (!l->running)
		return;
	shutdown(l->fd, SHUT_RDWR); /* accept returns: the thread ends */
	pthread_join(l->thread, NULL);
	close(l->fd);
	l->fd = -1;
	l->running = false;
}
