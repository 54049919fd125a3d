/* supervisor: the per-experiment process and its control socket (the
 * server side; the client side is sup_client.c, the bytes sup_proto.c). */
#include "supervisor.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "build.h"
#include "db.h"
#include "links.h"
#include "netns.h"
#include "status.h"
#include "util.h"
#include "sup_log.h"
#include "vms.h"

/* After a transient accept4 failure (out of fds or memory, a connection
 * aborted): long enough for a client thread to finish and free its fd,
 * short enough that no client notices (they wait seconds for a reply). */
#define SUP_ACCEPT_RETRY_MS 50
/* vm_exec without a timeout: the default of `vtb exec` in a VM. */
#define SUP_EXEC_DEFAULT_MS 60000
/* Connections served at once; more wait in the listen backlog. */
#define SUP_CONNS_MAX 64
/* vtb sends its request as soon as it is connected: a client that has
 * sent nothing for this long (a stuck or hostile one) is dropped. It only
 * holds its own slot meanwhile: the others are served all the same. */
#define SUP_REQUEST_TIMEOUT_MS 2000
/* A client reads its reply as it comes: one that has taken no piece of
 * it for this long is dropped (a status of 5000 nodes takes 0.1 s). */
#define SUP_REPLY_STALL_MS 5000

void sup_socket_path(const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.sock", db_state_dir(), id);
}

/* Close *fd if open and mark it closed. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In the supervisor's child before its exec: close every descriptor but
 * 0, 1, 2 and keep_a, keep_b. What vtb up's caller left open (a pipe of a
 * script, a flock(1) lock) must not stay open for the experiment's life:
 * `vtb up m.vtb | cat` would never end, a lock never be released. */
static void close_others(int keep_a, int keep_b)
{
	unsigned lo = (unsigned)(keep_a < keep_b ? keep_a : keep_b);
	unsigned hi = (unsigned)(keep_a < keep_b ? keep_b : keep_a);

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

/* See supervisor.h. The child enters the experiment's substrate namespace
 * before it executes the supervisor, so that the supervisor (its link
 * emulator's sockets, the taps it opens, its QEMUs) lives there from its
 * first instruction, before it has any thread. */
int sup_start(const char *id, pid_t *pid, int *release_fd)
{
	int ready[2] = { -1, -1 }, release[2] = { -1, -1 }, sub = -1;
	char rfd[16], lfd[16], ns[BUILD_SUBSTRATE_LEN], c;
	pid_t child;
	ssize_t n;
	int r = 0;

	build_substrate_name(id, ns, sizeof(ns));
	sub = netns_open(ns);
	if (sub < 0) {
		r = sub;
		goto out;
	}
	if (pipe2(ready, O_CLOEXEC) || pipe2(release, O_CLOEXEC)) {
		r = -errno;
		goto out;
	}
	child = fork();
	if (child < 0) {
		r = -errno;
		goto out;
	}
	if (child == 0) {
		if (setns(sub, CLONE_NEWNET))
			_exit(127); /* vtb up sees it die before it is ready */
		/* these two lose O_CLOEXEC on purpose: the supervisor needs them */
		fcntl(ready[1], F_SETFD, 0);
		fcntl(release[0], F_SETFD, 0);
		close_others(ready[1], release[0]);
		snprintf(rfd, sizeof(rfd), "%d", ready[1]);
		snprintf(lfd, sizeof(lfd), "%d", release[0]);
		execl("/proc/self/exe", "vtb", "__supervise", id, rfd, lfd, (char *)NULL);
		_exit(127);
	}
	close_fd(&ready[1]);
	close_fd(&release[0]);
	do
		n = read(ready[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || c != 'R') {
		r = -ECHILD; /* it died before listening */
		goto out;
	}
	*pid = child;
	*release_fd = release[1];
	release[1] = -1;
out:
	close_fd(&sub);
	close_fd(&ready[0]);
	close_fd(&ready[1]);
	close_fd(&release[0]);
	close_fd(&release[1]);
	return r;
}

int sup_release(int release_fd)
{
	int r = write(release_fd, "G", 1) == 1 ? 0 : -errno;

	close(release_fd);
	return r;
}

/* The listening socket at path (non-blocking: the loop polls it), or a
 * negative errno. */
static int listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, 16)) {
		r = -errno;
		close(fd);
		unlink(path);
		return r;
	}
	return fd;
}

/* What the supervisor runs. */
struct sup_state {
	const char *id;
	struct sup_links *links;
	struct sup_vms *vms;
	bool stop;              /* a "stop" request came */
};

/* One request being served: on the main thread, or (a threaded op) on a
 * thread of its own that owns conn, req and a hold on vms. */
struct sup_req {
	int conn;
	enum sup_opcode op;
	json_t *req;
	struct sup_state *state; /* main thread only */
	struct sup_vms *vms;
};

/* The handler of an operation: the reply to send (NULL: none), which the
 * caller sends and json_decref()s. */
typedef json_t *sup_handler(struct sup_req *rq);

int sup_send_piece(int conn, const char *text, size_t len, size_t *off, int flags)
{
	size_t left = len - *off, n = left > SUP_CHUNK ? SUP_CHUNK : left;
	char part = SUP_PART;
	struct iovec iov[2] = { { &part, 1 }, { (char *)text + *off, n } };
	struct msghdr m = { .msg_iov = left > SUP_CHUNK ? iov : iov + 1,
			    .msg_iovlen = left > SUP_CHUNK ? 2 : 1 };

	if (sendmsg(conn, &m, MSG_NOSIGNAL | flags) < 0)
		return -errno;
	*off += n;
	return 0;
}

/* The reply as compact JSON text (the caller frees it), or NULL, logged. */
static char *reply_text(json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);

	if (!text)
		sup_log(SUP_LOG_ERROR, "cannot encode a reply: out of memory");
	return text;
}

/* Send a whole reply on a blocking conn (a request's own thread). */
static void send_json(int conn, json_t *reply)
{
	char *text = reply_text(reply);
	size_t len = text ? strlen(text) : 0, off = 0;
	int r = 0;

	while (off < len && !r)
		r = sup_send_piece(conn, text, len, &off, 0);
	if (r)
		sup_log(SUP_LOG_WARN, "cannot send a reply: %s", strerror(-r));
	free(text);
}

/* {"ok": false, "error": msg, "errno": -r}, logged. */
static json_t *reply_err(struct sup_req *rq, int r, const char *msg)
{
	sup_log(SUP_LOG_WARN, "%s: %s (%s)", sup_ops[rq->op].name, msg, strerror(-r));
	return json_pack("{s:b,s:s,s:i}", "ok", 0, "error", msg, "errno", -r);
}

static json_t *reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *op_ping(struct sup_req *rq)
{
	(void)rq;
	return json_pack("{s:b,s:i}", "ok", 1, "pid", (int)getpid());
}

static json_t *op_stop(struct sup_req *rq)
{
	rq->state->stop = true;
	return reply_ok();
}

static json_t *op_status(struct sup_req *rq)
{
	struct db *db = NULL;
	struct db_exp e;
	char why[UTIL_ERR_LEN];
	json_t *st, *reply;
	int r;

	r = db_open(db_state_dir(), &db, why, sizeof(why));
	if (!r)
		r = db_exp_get(db, rq->state->id, &e);
	if (r) {
		db_close(db);
		return reply_err(rq, r < 0 ? r : -ENOENT, "experiment not found");
	}
	st = status_json(db, &e);
	db_close(db);
	if (!st)
		return reply_err(rq, -ENOMEM, "cannot build the status");
	links_annotate(rq->state->links, st);
	vms_annotate(rq->state->vms, st);
	reply = json_pack("{s:b,s:o}", "ok", 1, "status", st);
	return reply;
}

static json_t *op_links_start(struct sup_req *rq)
{
	char err[UTIL_ERR_LEN];
	int r = 0;

	if (!rq->state->links)
		r = links_start(rq->state->id, &rq->state->links, err, sizeof(err));
	return r ? reply_err(rq, r, err) : reply_ok();
}

static json_t *op_link_set(struct sup_req *rq)
{
	char err[UTIL_ERR_LEN];
	int r = links_set(rq->state->links, rq->req, err, sizeof(err));

	return r < 0 ? reply_err(rq, r, err) : json_pack("{s:b,s:i}", "ok", 1, "changed", r);
}

static json_t *op_vms_start(struct sup_req *rq)
{
	char err[UTIL_ERR_LEN];
	int r = 0;

	if (!rq->state->vms)
		r = vms_start(rq->state->id, &rq->state->vms, err, sizeof(err));
	return r ? reply_err(rq, r, err) : reply_ok();
}

static json_t *op_vms(struct sup_req *rq)
{
	return json_pack("{s:b,s:o}", "ok", 1, "vms", vms_json(rq->state->vms));
}

/* The longest a vms_wait may wait: a client that asks for more is still
 * answered within this, so a lost client never holds a thread for long. */
#define SUP_VMS_WAIT_MAX_MS 60000

/* vms_wait (threaded): block until a VM's state changes from version
 * "since" (a boot ends, a VM fails) or "wait_ms" pass, then the states. */
static json_t *op_vms_wait(struct sup_req *rq)
{
	json_int_t since = json_integer_value(json_object_get(rq->req, "since"));
	json_int_t ms = json_integer_value(json_object_get(rq->req, "wait_ms"));

	if (ms < 0 || ms > SUP_VMS_WAIT_MAX_MS)
		ms = SUP_VMS_WAIT_MAX_MS;
	vms_wait(rq->vms, (uint64_t)since, (int)ms);
	return json_pack("{s:b,s:o}", "ok", 1, "vms", vms_json(rq->vms));
}

/* vm_attach (threaded): say yes first, then the connection carries the
 * console until either side ends it. */
static json_t *op_vm_attach(struct sup_req *rq)
{
	const char *node = json_string_value(json_object_get(rq->req, "node"));
	char err[UTIL_ERR_LEN];
	json_t *yes;
	int r;

	r = vms_check(rq->vms, node, err, sizeof(err));
	if (r)
		return reply_err(rq, r, err);
	yes = reply_ok();
	send_json(rq->conn, yes);
	json_decref(yes);
	r = vms_attach(rq->vms, node, rq->conn, err, sizeof(err));
	if (r)
		sup_log(SUP_LOG_WARN, "vm_attach %s: %s", node, err);
	return NULL;
}

/* Send out as raw messages (SUP_OUT and up to SUP_CHUNK bytes). */
static void send_output(int conn, const struct util_buf *out)
{
	char *chunk = out->len ? malloc(1 + SUP_CHUNK) : NULL;

	if (out->len && !chunk) {
		sup_log(SUP_LOG_ERROR, "vm_exec: no memory to send the output");
		return;
	}
	for (size_t off = 0; off < out->len;) {
		size_t n = out->len - off > SUP_CHUNK ? SUP_CHUNK : out->len - off;

		chunk[0] = SUP_OUT;
		memcpy(chunk + 1, out->s + off, n);
		if (send(conn, chunk, n + 1, MSG_NOSIGNAL) < 0) {
			sup_log(SUP_LOG_WARN, "vm_exec: cannot send output: %s", strerror(errno));
			break;
		}
		off += n;
	}
	free(chunk);
}

/* vm_exec (threaded): the output as raw messages, then {"ok", "status"}
 * or {"ok": false, "error", "errno"}. */
static json_t *op_vm_exec(struct sup_req *rq)
{
	const char *node = json_string_value(json_object_get(rq->req, "node"));
	const char *cmd = json_string_value(json_object_get(rq->req, "cmd"));
	json_int_t tmo = json_integer_value(json_object_get(rq->req, "timeout_ms"));
	char err[UTIL_ERR_LEN];
	struct util_buf out;
	int r, status = 0;

	util_buf_init(&out);
	r = vms_exec(rq->vms, node, cmd, tmo > 0 && tmo <= INT32_MAX ? (int)tmo : SUP_EXEC_DEFAULT_MS,
		     &out, &status, err, sizeof(err));
	send_output(rq->conn, &out);
	util_buf_free(&out);
	return r ? reply_err(rq, r, err) : json_pack("{s:b,s:i}", "ok", 1, "status", status);
}

/* vm_power (threaded: it waits for a command on the VM's console): QMP
 * stop or cont; {"ok", "changed"}. */
static json_t *op_vm_power(struct sup_req *rq)
{
	const char *node = json_string_value(json_object_get(rq->req, "node"));
	const char *action = json_string_value(json_object_get(rq->req, "action"));
	char err[UTIL_ERR_LEN];
	int r = vms_power(rq->vms, node, action, err, sizeof(err));

	return r < 0 ? reply_err(rq, r, err) : json_pack("{s:b,s:b}", "ok", 1, "changed", r == 0);
}

/* The handlers, indexed like sup_ops[] (names and shapes). */
static sup_handler *const handlers[SUP_OP_COUNT] = {
	[SUP_OP_PING] = op_ping,
	[SUP_OP_STATUS] = op_status,
	[SUP_OP_STOP] = op_stop,
	[SUP_OP_LINKS_START] = op_links_start,
	[SUP_OP_LINK_SET] = op_link_set,
	[SUP_OP_VMS_START] = op_vms_start,
	[SUP_OP_VMS] = op_vms,
	[SUP_OP_VM_EXEC] = op_vm_exec,
	[SUP_OP_VM_ATTACH] = op_vm_attach,
	[SUP_OP_VMS_WAIT] = op_vms_wait,
	[SUP_OP_VM_POWER] = op_vm_power,
};

/* A threaded request: run its handler, answer, release what it held. */
static void *req_thread(void *arg)
{
	struct sup_req *rq = arg;
	json_t *reply = handlers[rq->op](rq);

	if (reply)
		send_json(rq->conn, reply);
	json_decref(reply);
	close(rq->conn);
	vms_release(rq->vms);
	json_decref(rq->req);
	free(rq);
	return NULL;
}

/* Hand a threaded request to a thread of its own. NULL with *taken when
 * a thread took conn and req, or the reply to send when that was not
 * possible. */
static json_t *serve_threaded(struct sup_req *rq, bool *taken)
{
	struct sup_req *t;
	pthread_t th;
	int r;

	if (!rq->state->vms)
		return reply_err(rq, -ENOENT, "this experiment has no VMs");
	t = malloc(sizeof(*t));
	if (!t)
		return reply_err(rq, -ENOMEM, "out of resources");
	*t = *rq;
	t->vms = rq->state->vms;
	t->state = NULL;
	vms_hold(t->vms);
	r = pthread_create(&th, NULL, req_thread, t);
	if (r) {
		vms_release(t->vms);
		free(t);
		return reply_err(rq, -r, "out of resources");
	}
	pthread_detach(th);
	*taken = true;
	return NULL;
}

/* One client connection of the serve loop. */
struct sup_conn {
	int fd;           /* -1: a free slot */
	int64_t deadline; /* util_mono_ms(): dropped then, request or reply unfinished */
	char *out;        /* the reply's text being sent; NULL: the request is awaited */
	size_t len, off;  /* of out, and how much of it is sent */
	bool stop_after;  /* the reply to "stop": the supervisor ends once it is sent */
};

static void conn_close(struct sup_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	*c = (struct sup_conn){ .fd = -1 };
}

/* The reply to one request of n bytes in buf, or NULL when a thread took
 * the connection (a threaded op, made blocking for it first). */
static json_t *answer(struct sup_conn *c, const uint8_t *buf, size_t n, struct sup_state *state,
		      bool *taken)
{
	struct sup_req rq = { .conn = c->fd, .state = state };
	char err[UTIL_ERR_LEN];
	json_t *reply;
	int r, fl;

	r = sup_proto_parse_request(buf, n, &rq.req, &rq.op, err, sizeof(err));
	if (r) {
		sup_log(SUP_LOG_WARN, "bad request: %s", err);
		return json_pack("{s:b,s:s,s:i}", "ok", 0, "error", err, "errno", -r);
	}
	if (sup_ops[rq.op].threaded) {
		fl = fcntl(c->fd, F_GETFL);
		if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK))
			reply = reply_err(&rq, -errno, "cannot serve the connection");
		else
			reply = serve_threaded(&rq, taken);
		if (*taken)
			return NULL;
	} else {
		reply = handlers[rq.op](&rq);
		c->stop_after = rq.op == SUP_OP_STOP;
	}
	json_decref(rq.req);
	return reply;
}

/* Send what the socket takes of c's reply now; close c once it is all
 * sent or the client is gone. */
static void conn_write(struct sup_conn *c)
{
	int r = 0;

	while (c->off < c->len && !r)
		r = sup_send_piece(c->fd, c->out, c->len, &c->off, MSG_DONTWAIT);
	if (r == -EAGAIN)
		return; /* the rest when the socket is writable */
	if (r)
		sup_log(SUP_LOG_WARN, "cannot send a reply: %s", strerror(-r));
	conn_close(c);
}

/* c is readable: take its request (one message), answer it, start sending
 * the reply. buf holds SUP_MAX_MSG bytes. */
static void conn_read(struct sup_conn *c, uint8_t *buf, struct sup_state *state)
{
	ssize_t n = recv(c->fd, buf, SUP_MAX_MSG, MSG_TRUNC | MSG_DONTWAIT);
	bool taken = false;
	json_t *reply;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			sup_log(SUP_LOG_WARN, "cannot read a request: %s", strerror(errno));
		conn_close(c);
		return;
	}
	reply = answer(c, buf, (size_t)n, state, &taken);
	if (taken) {
		c->fd = -1; /* the thread's now */
		conn_close(c);
		return;
	}
	c->out = reply ? reply_text(reply) : NULL;
	json_decref(reply);
	if (!c->out) {
		conn_close(c);
		return;
	}
	c->len = strlen(c->out);
	c->deadline = util_mono_ms() + SUP_REPLY_STALL_MS;
	conn_write(c);
}

/* Take a new connection into a free slot (there is one): root only (the
 * socket is 0600 in a 0700 directory, and we check). 0, or accept4's
 * negative errno. */
static int conn_accept(int lfd, struct sup_conn *conns)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		sup_log(SUP_LOG_WARN, "SO_PEERCRED: %s; connection refused", strerror(errno));
		close(fd);
		return 0;
	}
	if (cred.uid != 0) {
		sup_log(SUP_LOG_WARN, "refused a connection from uid %u (pid %d)", (unsigned)cred.uid, (int)cred.pid);
		close(fd);
		return 0;
	}
	for (i = 0; conns[i].fd >= 0; i++)
		;
	conns[i] = (struct sup_conn){ .fd = fd, .deadline = util_mono_ms() + SUP_REQUEST_TIMEOUT_MS };
	return 0;
}

/* The write end of the self-pipe that turns a signal into an event. */
static int sig_pipe = -1;

static void on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;
	ssize_t w = write(sig_pipe, &c, 1);

	(void)w; /* a full pipe: a signal is pending already */
	errno = e;
}

/* SIGTERM, SIGINT and SIGHUP end the serve loop (and are logged) instead
 * of killing the supervisor silently. *rfd is the pipe's read end. */
static int catch_signals(int *rfd)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	sig_pipe = p[1];
	*rfd = p[0];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

static bool accept_transient(int e)
{
	return e == EINTR || e == EAGAIN || e == ECONNABORTED || e == EMFILE || e == ENFILE ||
	       e == ENOBUFS || e == ENOMEM || e == EPROTO;
}

/* What the serve loop polls: the signal pipe (p[0]), the listening socket
 * (p[1], unless accepting waits: a transient failure, or every slot
 * taken), each connection (p[2 + i]: its request, or room for its
 * reply). The poll timeout in ms: the nearest deadline, or the retry. */
static int poll_set(struct pollfd *p, int sfd, int lfd, const struct sup_conn *conns, int retry_ms)
{
	int64_t now = util_mono_ms(), first = INT64_MAX;
	size_t i, used = 0;

	p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (i = 0; i < SUP_CONNS_MAX; i++) {
		p[2 + i] = (struct pollfd){ .fd = conns[i].fd, .events = conns[i].out ? POLLOUT : POLLIN };
		if (conns[i].fd < 0)
			continue;
		used++;
		if (conns[i].deadline < first)
			first = conns[i].deadline;
	}
	p[1] = (struct pollfd){ .fd = retry_ms < 0 && used < SUP_CONNS_MAX ? lfd : -1, .events = POLLIN };
	if (first == INT64_MAX)
		return retry_ms;
	first = first > now ? first - now : 0;
	return retry_ms >= 0 && retry_ms < first ? retry_ms : (int)first;
}

/* Serve each connection that poll found ready, and drop those past their
 * deadline. true once a "stop" was asked and its reply has gone (or could
 * not go). */
static bool conns_step(struct sup_conn *conns, const struct pollfd *p, uint8_t *buf,
		       struct sup_state *state)
{
	int64_t now = util_mono_ms();
	size_t i;

	for (i = 0; i < SUP_CONNS_MAX; i++) {
		struct sup_conn *c = &conns[i];

		if (c->fd < 0)
			continue;
		if (p[2 + i].revents && c->out)
			conn_write(c);
		else if (p[2 + i].revents)
			conn_read(c, buf, state);
		else if (now >= c->deadline) {
			sup_log(SUP_LOG_WARN, "dropped a client that %s in %d ms",
				c->out ? "took none of its reply" : "sent no request",
				c->out ? SUP_REPLY_STALL_MS : SUP_REQUEST_TIMEOUT_MS);
			conn_close(c);
		}
	}
	for (i = 0; state->stop && i < SUP_CONNS_MAX; i++)
		if (conns[i].fd >= 0 && conns[i].stop_after)
			return false;
	return state->stop;
}

/* Serve until "stop", a signal or a fatal error, each logged; the exit
 * status (0, 128 + the signal, or 1). Every client is served at once
 * (poll): one that sends nothing or reads slowly delays no other. */
static int serve(int lfd, int sfd, struct sup_state *state)
{
	struct sup_conn conns[SUP_CONNS_MAX];
	struct pollfd p[2 + SUP_CONNS_MAX];
	uint8_t *buf = malloc(SUP_MAX_MSG);
	int retry_ms = -1, status = -1, r, tmo;
	unsigned char sig;

	if (!buf) {
		sup_log(SUP_LOG_ERROR, "exiting: fatal: no memory for the request buffer");
		return 1;
	}
	for (size_t i = 0; i < SUP_CONNS_MAX; i++)
		conns[i] = (struct sup_conn){ .fd = -1 };
	while (status < 0) {
		tmo = poll_set(p, sfd, lfd, conns, retry_ms);
		if (poll(p, 2 + SUP_CONNS_MAX, tmo) < 0 && errno != EINTR) {
			sup_log(SUP_LOG_ERROR, "exiting: fatal: poll: %s", strerror(errno));
			status = 1;
			break;
		} else if (read(sfd, &sig, 1) == 1) {
			sup_log(SUP_LOG_INFO, "exiting: signal %s", strsignal(sig));
			status = 128 + sig;
			break;
		}
		retry_ms = -1;
		r = p[1].revents ? conn_accept(lfd, conns) : 0;
		if (r && r != -EAGAIN && r != -EINTR && accept_transient(-r)) {
			sup_log(SUP_LOG_WARN, "accept4: %s; retrying in %d ms", strerror(-r), SUP_ACCEPT_RETRY_MS);
			retry_ms = SUP_ACCEPT_RETRY_MS;
		} else if (r && r != -EAGAIN && r != -EINTR) {
			sup_log(SUP_LOG_ERROR, "exiting: fatal: accept4: %s", strerror(-r));
			status = 1;
			break;
		}
		if (conns_step(conns, p, buf, state)) {
			sup_log(SUP_LOG_INFO, "exiting: stopped by request");
			status = 0;
		}
	}
	for (size_t i = 0; i < SUP_CONNS_MAX; i++)
		conn_close(&conns[i]);
	free(buf);
	return status;
}

/* Put the supervisor in its own session, with /dev/null for stdin and
 * stdout and the log as stderr. */
static void detach(const char *id)
{
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC), r;

	setsid();
	if (nullfd >= 0) {
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		dup2(nullfd, 2);
		close(nullfd);
	}
	r = sup_log_open(id);
	if (r == 0)
		sup_log(SUP_LOG_INFO, "supervisor of experiment %s started, pid %d", id, (int)getpid());
}

int sup_main(const char *id, int ready_fd, int release_fd)
{
	struct sup_state state = { .id = id };
	char path[512], c;
	int lfd = -1, sfd = -1, status = 1;
	ssize_t n;

	detach(id);
	signal(SIGPIPE, SIG_IGN);
	if (chdir("/")) {
		sup_log(SUP_LOG_ERROR, "exiting: fatal: chdir /: %s", strerror(errno));
		goto out_log;
	}
	sup_socket_path(id, path, sizeof(path));
	lfd = listen_socket(path);
	if (lfd < 0) {
		sup_log(SUP_LOG_ERROR, "exiting: fatal: cannot listen on %s: %s", path, strerror(-lfd));
		goto out_log;
	}
	if (write(ready_fd, "R", 1) != 1) {
		sup_log(SUP_LOG_ERROR, "exiting: vtb up went away before the supervisor was ready");
		goto out;
	}
	close(ready_fd);
	/* wait to be released: EOF means vtb up died before journaling us */
	do
		n = read(release_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	close(release_fd);
	if (n != 1 || c != 'G') {
		sup_log(SUP_LOG_ERROR, "exiting: vtb up ended before it journaled the supervisor");
		goto out;
	}
	sup_log(SUP_LOG_INFO, "journaled: serving");
	/* from here on a stop signal is an event of the serve loop, so that
	 * the VMs and the link emulator are stopped and the cause logged */
	if (catch_signals(&sfd)) {
		sup_log(SUP_LOG_ERROR, "exiting: fatal: cannot catch signals: %s", strerror(errno));
		goto out;
	}
	status = serve(lfd, sfd, &state);
out:
	vms_stop(state.vms);
	links_stop(state.links);
	close(lfd);
	unlink(path);
out_log:
	close_fd(&sfd);
	sup_log(SUP_LOG_INFO, "exit status %d", status);
	sup_log_close();
	/* asked to stop (vtb down): the experiment goes, and its log with it,
	 * as the socket does; any other end leaves the log for vtb status */
	if (state.stop && status == 0)
		sup_log_remove(id);
	return status;
}
