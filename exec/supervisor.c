/* supervisor: the per-experiment process and its control socket. */
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
#include "vms.h"
#include "status.h"

void sup_socket_path(const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.sock", db_state_dir(), id);
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
	close(ready[1]);
	ready[1] = -1;
	close(release[0]);
	release[0] = -1;
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
	if (ready[0] >= 0)
		close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	if (release[0] >= 0)
		close(release[0]);
	if (release[1] >= 0)
		close(release[1]);
	return r;
}

int sup_release(int release_fd)
{
	int r = write(release_fd, "G", 1) == 1 ? 0 : -errno;

	close(release_fd);
	return r;
}

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
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
	struct sup_links *links;
	struct sup_vms *vms;
};

/* A request that may take long (a command on a VM, an attached console),
 * served by a thread of its own so that the supervisor keeps answering. */
struct client {
	int conn;
	struct sup_vms *vms;
	json_t *req;
};

static void send_json(int conn, json_t *reply)
{
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

	if (text && strlen(text) <= SUP_MAX_MSG)
		send(conn, text, strlen(text), MSG_NOSIGNAL);
	free(text);
}

/* vm_exec: the output as raw messages (SUP_OUT and up to 64 KiB), then
 * {"ok", "status"} or {"ok": false, "error"}. */
static void *client_thread(void *arg)
{
	struct client *cl = arg;
	const char *op = json_string_value(json_object_get(cl->req, "op"));
	const char *node = json_string_value(json_object_get(cl->req, "node"));
	const char *cmd = json_string_value(json_object_get(cl->req, "cmd"));
	json_int_t tmo = json_integer_value(json_object_get(cl->req, "timeout_ms"));
	struct util_buf out;
	json_t *reply = NULL;
	char err[UTIL_ERR_LEN];
	int r, status = 0;

	util_buf_init(&out);
	if (!node) {
		reply = json_pack("{s:b,s:s}", "ok", 0, "error", "bad request");
	} else if (!strcmp(op, "vm_attach")) {
		/* say yes first, then the connection carries the console */
		r = vms_check(cl->vms, node, err, sizeof(err));
		if (r) {
			reply = json_pack("{s:b,s:s,s:i}", "ok", 0, "error", err, "errno", -r);
		} else {
			json_t *yes = json_pack("{s:b}", "ok", 1);

			send_json(cl->conn, yes);
			json_decref(yes);
			vms_attach(cl->vms, node, cl->conn, err, sizeof(err));
		}
	} else {
		r = vms_exec(cl->vms, node, cmd ? cmd : "", tmo > 0 ? (int)tmo : 60000, &out,
			     &status, err, sizeof(err));
		if (out.len) {
			size_t off = 0;
			char chunk[1 + 65536];

			while (off < out.len) {
				size_t n = out.len - off > 65536 ? 65536 : out.len - off;

				chunk[0] = SUP_OUT;
				memcpy(chunk + 1, out.s + off, n);
				if (send(cl->conn, chunk, n + 1, MSG_NOSIGNAL) < 0)
					break;
				off += n;
			}
		}
		reply = r ? json_pack("{s:b,s:s,s:i}", "ok", 0, "error", err, "errno", -r)
			  : json_pack("{s:b,s:i}", "ok", 1, "status", status);
	}
	if (reply)
		send_json(cl->conn, reply);
	json_decref(reply);
	util_buf_free(&out);
	close(cl->conn);
	vms_release(cl->vms);
	json_decref(cl->req);
	free(cl);
	return NULL;
}

/* Answer one request; returns true when the supervisor must exit. *taken
 * says a thread took the connection. */
static bool serve_one(int conn, const char *id, char *buf, struct sup_state *state, bool *taken)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	json_t *req, *reply = NULL;
	const char *op;
	bool stop = false;
	ssize_t n;

	/* root only: the socket is 0600 in a 0700 directory, and we check */
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0)
		return false;
	n = recv(conn, buf, SUP_MAX_MSG, 0);
	if (n <= 0)
		return false;
	req = json_loadb(buf, (size_t)n, 0, NULL);
	op = req ? json_string_value(json_object_get(req, "op")) : NULL;
	if (op && (!strcmp(op, "vm_exec") || !strcmp(op, "vm_attach")) && state->vms) {
		struct client *cl = calloc(1, sizeof(*cl));
		pthread_t t;

		if (cl) {
			cl->conn = conn;
			cl->vms = state->vms;
			cl->req = json_incref(req);
			vms_hold(state->vms);
			if (!pthread_create(&t, NULL, client_thread, cl)) {
				pthread_detach(t);
				*taken = true;
				json_decref(req);
				return false;
			}
			vms_release(state->vms);
			json_decref(cl->req);
			free(cl);
		}
		reply = json_pack("{s:b,s:s}", "ok", 0, "error", "out of resources");
	} else if (op && (!strcmp(op, "vm_exec") || !strcmp(op, "vm_attach"))) {
		reply = json_pack("{s:b,s:s,s:i}", "ok", 0, "error", "this experiment has no VMs",
				  "errno", ENOENT);
	} else if (op && !strcmp(op, "vms_start")) {
		char err[UTIL_ERR_LEN];
		int r = 0;

		if (!state->vms)
			r = vms_start(id, &state->vms, err, sizeof(err));
		reply = r ? json_pack("{s:b,s:s}", "ok", 0, "error", err)
			  : json_pack("{s:b}", "ok", 1);
	} else if (op && !strcmp(op, "vms")) {
		reply = json_pack("{s:b,s:o}", "ok", 1, "vms", vms_json(state->vms));
	} else if (op && !strcmp(op, "ping")) {
		reply = json_pack("{s:b,s:i}", "ok", 1, "pid", (int)getpid());
	} else if (op && !strcmp(op, "stop")) {
		reply = json_pack("{s:b}", "ok", 1);
		stop = true;
	} else if (op && !strcmp(op, "status")) {
		struct db *db = NULL;
		struct db_exp e;
		char why[128];

		if (!db_open(db_state_dir(), &db, why, sizeof(why)) && !db_exp_get(db, id, &e)) {
			json_t *st = status_json(db, &e);

			links_annotate(state->links, st);
			vms_annotate(state->vms, st);
			reply = json_pack("{s:b,s:o}", "ok", 1, "status", st);
		}
		db_close(db);
		if (!reply)
			reply = json_pack("{s:b,s:s}", "ok", 0, "error", "experiment not found");
	} else if (op && !strcmp(op, "links_start")) {
		char err[512];
		int r = 0;

		if (!state->links)
			r = links_start(id, &state->links, err, sizeof(err));
		reply = r ? json_pack("{s:b,s:s}", "ok", 0, "error", err)
			  : json_pack("{s:b}", "ok", 1);
	} else if (op && !strcmp(op, "link_set")) {
		char err[512];
		int r = links_set(state->links, req, err, sizeof(err));

		reply = r < 0 ? json_pack("{s:b,s:s}", "ok", 0, "error", err)
			      : json_pack("{s:b,s:i}", "ok", 1, "changed", r);
	} else {
		reply = json_pack("{s:b,s:s}", "ok", 0, "error", "unknown request");
	}
	send_json(conn, reply);
	json_decref(reply);
	json_decref(req);
	return stop;
}

int sup_main(const char *id, int ready_fd, int release_fd)
{
	struct sup_state state = { 0 };
	char path[512], c, *buf = NULL;
	int lfd, nullfd, status = 1;
	ssize_t n;

	setsid();
	signal(SIGPIPE, SIG_IGN);
	if (chdir("/"))
		return 1;
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nullfd >= 0) {
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		dup2(nullfd, 2);
		close(nullfd);
	}
	sup_socket_path(id, path, sizeof(path));
	lfd = listen_socket(path);
	if (lfd < 0)
		return 1;
	if (write(ready_fd, "R", 1) != 1)
		goto out;
	close(ready_fd);
	/* wait to be released: EOF means vtb up died before journaling us */
	do
		n = read(release_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	close(release_fd);
	if (n != 1 || c != 'G')
		goto out;
	buf = malloc(SUP_MAX_MSG);
	if (!buf)
		goto out;
	for (;;) {
		int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		bool stop, taken;

		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		taken = false;
		stop = serve_one(conn, id, buf, &state, &taken);
		if (!taken)
			close(conn);
		if (stop) {
			status = 0;
			break;
		}
	}
out:
	vms_stop(state.vms);
	links_stop(state.links);
	free(buf);
	close(lfd);
	unlink(path);
	return status;
}

int sup_request(const char *id, const char *op, int timeout_ms, json_t **reply)
{
	json_t *req = json_pack("{s:s}", "op", op);
	int r = req ? sup_call(id, req, timeout_ms, reply) : -ENOMEM;

	json_decref(req);
	return r;
}

/* Connect to the supervisor of id and send req, waiting at most
 * timeout_ms to connect and send (0: no limit); the fd or a negative errno. */
static int sup_connect_send(const char *id, json_t *request, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	char *req = json_dumps(request, JSON_COMPACT);
	int fd, r = 0;

	if (!req)
		return -ENOMEM;
	sup_socket_path(id, sa.sun_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		r = -errno;
	else if ((timeout_ms > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) ||
		 connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		 send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		r = -errno;
	free(req);
	if (r && fd >= 0)
		close(fd);
	return r ? r : fd;
}

int sup_call(const char *id, json_t *request, int timeout_ms, json_t **reply)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	char *buf = NULL;
	ssize_t n;
	int fd, r = 0;

	*reply = NULL;
	fd = sup_connect_send(id, request, timeout_ms);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf = malloc(SUP_MAX_MSG);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	n = recv(fd, buf, SUP_MAX_MSG, 0);
	if (n <= 0) {
		r = n < 0 ? -errno : -ECONNRESET;
		goto out;
	}
	*reply = json_loadb(buf, (size_t)n, 0, NULL);
	if (!*reply)
		r = -EBADMSG;
out:
	free(buf);
	close(fd);
	return r;
}

int sup_vm_exec(const char *id, const char *node, const char *cmd, int timeout_ms, int out_fd,
		int *status, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s,s:s,s:s,s:i}", "op", "vm_exec", "node", node, "cmd", cmd,
				"timeout_ms", timeout_ms);
	json_t *reply = NULL;
	char *buf = malloc(SUP_MAX_MSG);
	int fd, r = 0;
	ssize_t n;

	err[0] = '\0';
	fd = req && buf ? sup_connect_send(id, req, 0) : -ENOMEM;
	if (fd < 0) {
		r = fd;
		snprintf(err, errlen, "cannot reach the supervisor: %s", strerror(-r));
		goto out;
	}
	for (;;) {
		n = recv(fd, buf, SUP_MAX_MSG, 0);
		if (n <= 0) {
			r = n < 0 ? -errno : -ECONNRESET;
			snprintf(err, errlen, "the supervisor went away: %s", strerror(-r));
			break;
		}
		if (buf[0] == SUP_OUT) {
			const char *p = buf + 1;
			size_t left = (size_t)n - 1;

			while (left) {
				ssize_t w = write(out_fd, p, left);

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break; /* the reader is gone: keep draining */
				p += w;
				left -= (size_t)w;
			}
			continue;
		}
		reply = json_loadb(buf, (size_t)n, 0, NULL);
		if (!reply) {
			r = -EBADMSG;
			snprintf(err, errlen, "a malformed answer from the supervisor");
		} else if (json_is_true(json_object_get(reply, "ok"))) {
			*status = (int)json_integer_value(json_object_get(reply, "status"));
		} else {
			const char *m = json_string_value(json_object_get(reply, "error"));
			json_int_t e = json_integer_value(json_object_get(reply, "errno"));

			snprintf(err, errlen, "%s", m ? m : "refused");
			r = e > 0 ? -(int)e : -EIO;
		}
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	json_decref(reply);
	json_decref(req);
	free(buf);
	return r;
}

int sup_vm_attach(const char *id, const char *node, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s,s:s}", "op", "vm_attach", "node", node), *reply = NULL;
	char buf[4096];
	int fd;
	ssize_t n;

	err[0] = '\0';
	fd = req ? sup_connect_send(id, req, 0) : -ENOMEM;
	json_decref(req);
	if (fd < 0) {
		snprintf(err, errlen, "cannot reach the supervisor: %s", strerror(-fd));
		return fd;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	reply = n > 0 ? json_loadb(buf, (size_t)n, 0, NULL) : NULL;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *m = json_string_value(json_object_get(reply, "error"));
		json_int_t e = json_integer_value(json_object_get(reply, "errno"));

		snprintf(err, errlen, "%s", m ? m : "the supervisor refused");
		json_decref(reply);
		close(fd);
		return e > 0 ? -(int)e : -EIO;
	}
	json_decref(reply);
	return fd;
}
