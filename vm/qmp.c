/* qmp: QMP client (qemu.h): connect, greet, run commands. */
#include "qmp.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qemu.h"
#include "qmp_stream.h"
#include "usock.h"
#include "util.h"

/* query-status is answered from QEMU's main loop at once; 2 s covers a
 * host under load without letting a wedged QEMU hold the caller. */
#define QMP_STATUS_TIMEOUT_MS 2000
/* What one recv takes at most (QMP lines are short but for schemas). */
#define QMP_READ_CHUNK 16384

static int ms_left(long long deadline)
{
	long long left = deadline - util_mono_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Read one line's worth of bytes from fd into s within the deadline.
 * Never reads past a newline, so the fd keeps no state between calls
 * (qemu_qmp_cmd is stateless). 0, -ETIMEDOUT, -EPIPE (closed), -errno. */
static int qmp_fill(int fd, struct qmp_stream *s, long long deadline)
{
	uint8_t peek[QMP_READ_CHUNK];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&p, 1, ms_left(deadline));
		uint8_t *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		n = recv(fd, peek, sizeof(peek), MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 || errno == ECONNRESET ? -EPIPE : -errno;
		nl = memchr(peek, '\n', (size_t)n);
		if (nl)
			n = nl - peek + 1;
		n = recv(fd, peek, (size_t)n, 0);
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		return qmp_stream_feed(s, peek, (size_t)n);
	}
}

static int qmp_send(int fd, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;
	int r = 0;

	if (!s)
		return -ENOMEM;
	len = strlen(s);
	s[len] = '\n'; /* replaces the NUL; the length is known */
	while (off < len + 1) {
		ssize_t n = send(fd, s + off, len + 1 - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno == ECONNRESET ? -EPIPE : -errno;
			break;
		}
		off += (size_t)n;
	}
	free(s);
	return r;
}

int qemu_qmp_cmd(int fd, const char *cmd, json_t *args, json_t **ret, int timeout_ms)
{
	static unsigned long long next_id;
	long long deadline = util_mono_ms() + timeout_ms;
	unsigned long long id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	struct qmp_stream s;
	json_t *req;
	int r;

	if (ret)
		*ret = NULL;
	req = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (!req)
		return -ENOMEM;
	if (args && json_object_set(req, "arguments", args)) {
		json_decref(req);
		return -ENOMEM;
	}
	r = qmp_send(fd, req);
	json_decref(req);
	if (r)
		return r;
	qmp_stream_init(&s);
	do {
		r = qmp_fill(fd, &s, deadline);
		if (!r)
			r = qmp_stream_reply(&s, id, ret);
	} while (r == -EAGAIN);
	qmp_stream_free(&s);
	return r;
}

/* Read the greeting on fd. 0, -EPROTO when it is not one, or a read error. */
static int qmp_greeting(int fd, long long deadline)
{
	struct qmp_stream s;
	json_t *greeting = NULL;
	int r;

	qmp_stream_init(&s);
	do {
		r = qmp_fill(fd, &s, deadline);
		if (!r)
			r = qmp_stream_next(&s, &greeting);
	} while (r == 0);
	qmp_stream_free(&s);
	if (r == 1)
		r = json_object_get(greeting, "QMP") ? 0 : -EPROTO;
	json_decref(greeting);
	return r;
}

int qmp_open(const char *path, int timeout_ms, int pidfd)
{
	long long deadline = util_mono_ms() + timeout_ms;
	int fd, r;

	fd = usock_connect(path, timeout_ms, pidfd);
	if (fd < 0)
		return fd;
	r = qmp_greeting(fd, deadline);
	if (r == 0)
		r = qemu_qmp_cmd(fd, "qmp_capabilities", NULL, NULL, ms_left(deadline));
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

int qemu_qmp_open(const char *path, int timeout_ms)
{
	return qmp_open(path, timeout_ms, -1);
}

int qemu_qmp_status(int fd, char *status, size_t len)
{
	json_t *ret = NULL;
	const char *st;
	int r;

	r = qemu_qmp_cmd(fd, "query-status", NULL, &ret, QMP_STATUS_TIMEOUT_MS);
	st = json_string_value(json_object_get(ret, "status"));
	if (!r && !st)
		r = -EPROTO;
	if (!r)
		snprintf(status, len, "%s", st);
	json_decref(ret);
	return r;
}
