/* usock: connect to a unix socket once it is there (see usock.h). */
#include "usock.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/* A socket file that exists but refuses (bound, not yet listening; or
 * stale, left by a QEMU that died) makes no inotify event when it starts
 * listening: try again after this long. QEMU listens right after it binds,
 * so 10 ms costs nothing, and a missing file still wakes us at once. */
#define USOCK_RETRY_MS 10

/* An inotify fd watching the directory of path for new entries, or -1. */
static int watch_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd >= 0 && inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Wait for a change in the directory (ino), the end of the process
 * (pidfd) or the retry interval, whichever comes first. -ECHILD when the
 * process ended, else 0. */
static int wait_change(int ino, int pidfd, long long deadline)
{
	struct pollfd p[2] = { { .fd = ino, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
	long long left = deadline - util_mono_ms();
	char drain[4096];

	if (left > USOCK_RETRY_MS)
		left = USOCK_RETRY_MS;
	if (poll(p, 2, left > 0 ? (int)left : 0) < 0)
		return 0;
	if (p[1].revents)
		return -ECHILD;
	while (ino >= 0 && read(ino, drain, sizeof(drain)) > 0)
		;
	return 0;
}

int usock_connect(const char *path, int timeout_ms, int pidfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = util_mono_ms() + timeout_ms;
	int ino = -2, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

		if (fd < 0) {
			r = -errno;
			break;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			r = fd;
			break;
		}
		e = errno;
		close(fd);
		if (e == EINTR)
			continue;
		r = -e;
		if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) || util_mono_ms() >= deadline)
			break;
		if (ino == -2) {
			/* watch, then try again at once: the file may have come meanwhile */
			ino = watch_dir(path);
			continue;
		}
		r = wait_change(ino, pidfd, deadline);
		if (r)
			break;
	}
	if (ino >= 0)
		close(ino);
	return r;
}
