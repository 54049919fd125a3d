/* supervisor: the per-experiment process and its control socket (the
 * server side; the client side is sup_client.c, the bytes sup_proto.c). */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "db.h"
#include "links.h"
#include "status.h"
#include "sup_log.h"
#include "vms.h"

/* After a transient accept4 failure (out of fds or memory, a connection
 * aborted): long enough for a client thread to finish and free its fd,
 * short enough that no client notices (they wait seconds for a reply). */
#define SUP_ACCEPT_RETRY_MS 50
/* vm_exec without a timeout: the default of `vtb exec` in a VM. */
#define SUP_EXEC_DEFAULT_MS 60000
/* vm_exec output goes out in messages of at most this (plus SUP_OUT). */
#define SUP_OUT_CHUNK 65536

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

int sup_start(const char *id, pid_t *pid, int *release_fd)
{
	int ready[2] = { -1, -1 }, release[2] = { -1, -1 };
	char rfd[16], lfd[16], c;
	pid_t child;
	ssize_t n;
	int r = 0;

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
		/* these two lose O_CLOEXEC on purpose: the supervisor needs them */
		fcntl(ready[1], F_SETFD, 0);
		fcntl(release[0], F_SETFD, 0);
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

static void send_json(int conn, json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0;

	if (!text)
		sup_log(SUP_LOG_ERROR, "cannot encode a reply: out of memory");
	else if (len > SUP_MAX_MSG)
		sup_log(SUP_LOG_ERROR, "a reply of %zu bytes is too long to send", len);
	else if (send(conn, text, len, MSG_NOSIGNAL) < 0)
		sup_log(SUP_LOG_WARN, "cannot send a reply: %s", strerror(errno));
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

/* Send out as raw messages (SUP_OUT and up to SUP_OUT_CHUNK bytes). */
static void send_output(int conn, const struct util_buf *out)
{
	char *chunk = out->len ? malloc(1 + SUP_OUT_CHUNK) : NULL;

	if (out->len && !chunk) {
		sup_log(SUP_LOG_ERROR, "vm_exec: no memory to send the output");
		return;
	}
	for (size_t off = 0; off < out->len;) {
		size_t n = out->len - off > SUP_OUT_CHUNK ? SUP_OUT_CHUNK : out->len - off;

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

/* Hand a threaded request to a thread of its own. 1 when a thread took
 * conn and req, or the reply to send when that was not possible. */
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

/* Answer one request on conn; *taken says a thread took the connection. */
static void serve_one(int conn, uint8_t *buf, struct sup_state *state, bool *taken)
{
	struct sup_req rq = { .conn = conn, .state = state };
	char err[UTIL_ERR_LEN];
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	json_t *reply = NULL;
	ssize_t n;
	int r;

	/* root only: the socket is 0600 in a 0700 directory, and we check */
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		sup_log(SUP_LOG_WARN, "SO_PEERCRED: %s; connection refused", strerror(errno));
		return;
	}
	if (cred.uid != 0) {
		sup_log(SUP_LOG_WARN, "refused a connection from uid %u (pid %d)", (unsigned)cred.uid, (int)cred.pid);
		return;
	}
	n = recv(conn, buf, SUP_MAX_MSG, 0);
	if (n <= 0) {
		if (n < 0)
			sup_log(SUP_LOG_WARN, "cannot read a request: %s", strerror(errno));
		return;
	}
	r = sup_proto_parse_request(buf, (size_t)n, &rq.req, &rq.op, err, sizeof(err));
	if (r) {
		sup_log(SUP_LOG_WARN, "bad request: %s", err);
		reply = json_pack("{s:b,s:s,s:i}", "ok", 0, "error", err, "errno", -r);
	} else if (sup_ops[rq.op].threaded) {
		reply = serve_threaded(&rq, taken);
		if (*taken)
			return;
	} else {
		reply = handlers[rq.op](&rq);
	}
	send_json(conn, reply);
	json_decref(reply);
	json_decref(rq.req);
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

/* Serve until "stop", a signal or a fatal error, each logged; the exit
 * status (0, 128 + the signal, or 1). */
static int serve(int lfd, int sfd, struct sup_state *state)
{
	uint8_t *buf = malloc(SUP_MAX_MSG);
	int retry_ms = -1, status = -1;

	if (!buf) {
		sup_log(SUP_LOG_ERROR, "exiting: fatal: no memory for the request buffer");
		return 1;
	}
	while (status < 0) {
		/* after a transient accept4 error: wait a little, but a signal still wakes us */
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = lfd, .events = POLLIN } };
		unsigned char sig;
		bool taken = false;
		int conn;

		if (poll(p, retry_ms >= 0 ? 1 : 2, retry_ms) < 0 && errno != EINTR) {
			sup_log(SUP_LOG_ERROR, "exiting: fatal: poll: %s", strerror(errno));
			status = 1;
		} else if (read(sfd, &sig, 1) == 1) {
			sup_log(SUP_LOG_INFO, "exiting: signal %s", strsignal(sig));
			status = 128 + sig;
		}
		if (status >= 0)
			break;
		retry_ms = -1;
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0 && (errno == EAGAIN || errno == EINTR)) {
			continue;
		} else if (conn < 0 && accept_transient(errno)) {
			sup_log(SUP_LOG_WARN, "accept4: %s; retrying in %d ms", strerror(errno), SUP_ACCEPT_RETRY_MS);
			retry_ms = SUP_ACCEPT_RETRY_MS;
			continue;
		} else if (conn < 0) {
			sup_log(SUP_LOG_ERROR, "exiting: fatal: accept4: %s", strerror(errno));
			status = 1;
			break;
		}
		serve_one(conn, buf, state, &taken);
		if (!taken)
			close(conn);
		if (state->stop) {
			sup_log(SUP_LOG_INFO, "exiting: stopped by request");
			status = 0;
		}
	}
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
