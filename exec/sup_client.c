/* sup_client: the vtb command's side of the supervisor's control socket.
 * Every reply goes through sup_proto_parse_reply. */
#include "supervisor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

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

/* Receive messages on fd until a reply is whole: a chunk of output or a
 * JSON reply put together from its pieces in a (see sup_proto.h). buf
 * holds one message (SUP_MAX_MSG bytes; a longer one is seen whole with
 * MSG_TRUNC and refused). 0 with *rep, or a negative errno with err. */
static int recv_reply(int fd, struct sup_assembly *a, uint8_t *buf, struct sup_reply *rep,
		      char *err, size_t errlen)
{
	ssize_t n;
	int r;

	for (;;) {
		n = recv(fd, buf, SUP_MAX_MSG, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ECONNRESET;
			util_fmt(err, errlen, "the supervisor went away: %s", strerror(-r));
			*rep = (struct sup_reply){ .kind = SUP_REPLY_JSON };
			sup_assembly_free(a);
			return r;
		}
		r = sup_proto_feed_reply(a, buf, (size_t)n, rep, err, errlen);
		if (r)
			return r < 0 ? r : 0;
	}
}

int sup_call(const char *id, json_t *request, int timeout_ms, json_t **reply)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct sup_reply rep = { .kind = SUP_REPLY_JSON };
	struct sup_assembly a = { 0 };
	uint8_t *buf = NULL;
	int fd, r;

	*reply = NULL;
	fd = sup_connect_send(id, request, timeout_ms);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf = malloc(SUP_MAX_MSG);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	r = recv_reply(fd, &a, buf, &rep, NULL, 0);
	if (!r && rep.kind != SUP_REPLY_JSON)
		r = -EBADMSG;
	if (!r) {
		*reply = rep.json;
		rep.json = NULL;
	}
	sup_reply_free(&rep);
out_close:
	sup_assembly_free(&a);
	free(buf);
	close(fd);
	return r;
}

/* Write all of p to fd; a reader that is gone is not an error (the
 * caller keeps draining the supervisor). */
static void write_out(int fd, const uint8_t *p, size_t left)
{
	while (left) {
		ssize_t w = write(fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		left -= (size_t)w;
	}
}

int sup_vm_exec(const char *id, const char *node, const char *cmd, int timeout_ms, int out_fd,
		int *status, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s,s:s,s:s,s:i}", "op", "vm_exec", "node", node, "cmd", cmd,
				"timeout_ms", timeout_ms);
	uint8_t *buf = malloc(SUP_MAX_MSG);
	struct sup_assembly a = { 0 };
	struct sup_reply rep;
	int fd, r = 0;

	err[0] = '\0';
	fd = req && buf ? sup_connect_send(id, req, 0) : -ENOMEM;
	if (fd < 0) {
		r = fd;
		util_fmt(err, errlen, "cannot reach the supervisor: %s", strerror(-r));
		goto out_free;
	}
	for (;;) {
		r = recv_reply(fd, &a, buf, &rep, err, errlen);
		if (r)
			break;
		if (rep.kind == SUP_REPLY_OUTPUT) {
			write_out(out_fd, rep.data, rep.len);
			continue;
		}
		if (rep.ok && !json_is_integer(json_object_get(rep.json, "status"))) {
			util_fmt(err, errlen, "a malformed answer from the supervisor: no exit status");
			r = -EBADMSG;
		} else if (rep.ok) {
			*status = (int)json_integer_value(json_object_get(rep.json, "status"));
		} else {
			util_fmt(err, errlen, "%s", rep.error);
			r = -rep.errnum;
		}
		sup_reply_free(&rep);
		break;
	}
	close(fd);
out_free:
	sup_assembly_free(&a);
	json_decref(req);
	free(buf);
	return r;
}

int sup_vm_attach(const char *id, const char *node, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s,s:s}", "op", "vm_attach", "node", node);
	uint8_t *buf = malloc(SUP_MAX_MSG);
	struct sup_assembly a = { 0 };
	struct sup_reply rep;
	int fd, r;

	err[0] = '\0';
	fd = req && buf ? sup_connect_send(id, req, 0) : -ENOMEM;
	json_decref(req);
	if (fd < 0) {
		util_fmt(err, errlen, "cannot reach the supervisor: %s", strerror(-fd));
		free(buf);
		return fd;
	}
	r = recv_reply(fd, &a, buf, &rep, err, errlen);
	sup_assembly_free(&a);
	free(buf);
	if (!r && rep.kind != SUP_REPLY_JSON) {
		util_fmt(err, errlen, "a malformed answer from the supervisor");
		r = -EBADMSG;
	} else if (!r && !rep.ok) {
		util_fmt(err, errlen, "%s", rep.error);
		r = -rep.errnum;
	}
	sup_reply_free(&rep);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}
