/* proc: process identity by start time, and event-based waits on pidfds. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Field 22 of the stat line after the command name, 0 when absent, or
 * ended when !zombie_ok. */
static uint64_t stat_start(const char *buf, bool zombie_ok)
{
	const char *p = strrchr(buf, ')'); /* the name may hold spaces and ')' */
	char *end;
	uint64_t start;
	int field;

	if (!p)
		return 0;
	p++;
	/* a zombie (or a dying task) has ended: nobody may be waiting to reap
	 * it (PID 1 in a container often does not), but it is not running */
	if (!zombie_ok && p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X' || p[1] == 'x'))
		return 0;
	/* after ')' come " state ppid ...": field 3 is the first */
	for (field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return 0;
	}
	errno = 0;
	start = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return 0;
	return start;
}

/* The start time of pid as /proc says it, zombie or not (0: absent). */
static uint64_t read_start(pid_t pid, bool zombie_ok)
{
	char path[64], buf[2048];
	size_t len = 0;
	ssize_t got;
	int fd;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (len < sizeof(buf) - 1) {
		got = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	return stat_start(buf, zombie_ok);
}

uint64_t proc_start_time(pid_t pid)
{
	return read_start(pid, false);
}

int proc_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && start && proc_start_time(pid) == start;
}

/* A pidfd for (pid, start), checked after opening so that a pid reused
 * between our look and the open is not taken for ours. A zombie leader
 * counts: its other threads may still be exiting (QEMU's, the
 * supervisor's), and the pidfd says when the whole process has ended.
 * Returns the fd, -ESRCH when the process is not (or no longer) the one
 * named, or -errno. */
static int pidfd_for(pid_t pid, uint64_t start)
{
	int fd;

	if (pid <= 0 || !start || read_start(pid, true) != start)
		return -ESRCH;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	if (read_start(pid, true) != start) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* The longest single poll: a deadline further out is reached in steps of
 * this, so the int milliseconds of poll() never overflow. */
#define PROC_POLL_MAX_MS 60000

/* Poll fd until readable or the deadline (ms on the monotonic clock, <0: none). */
static int poll_until(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r, wait;

	for (;;) {
		wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - util_mono_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			wait = left > PROC_POLL_MAX_MS ? PROC_POLL_MAX_MS : (int)left;
		}
		r = poll(&p, 1, wait);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int proc_wait_gone(pid_t pid, uint64_t start, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : util_mono_ms() + timeout_ms;
	int fd = pidfd_for(pid, start), r;

	if (fd == -ESRCH)
		return 0;
	if (fd < 0)
		return fd;
	r = poll_until(fd, deadline);
	close(fd);
	return r;
}

int proc_stop(pid_t pid, uint64_t start, int timeout_ms)
{
	int64_t deadline;
	int fd = pidfd_for(pid, start), r;

	if (fd == -ESRCH)
		return 0;
	if (fd < 0)
		return fd;
	/* signals through the pidfd reach exactly the process it names */
	if (syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) && errno != ESRCH) {
		r = -errno;
		goto out_close;
	}
	deadline = util_mono_ms() + timeout_ms;
	r = poll_until(fd, deadline);
	if (r != -ETIMEDOUT)
		goto out_close;
	if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) && errno != ESRCH) {
		r = -errno;
		goto out_close;
	}
	r = poll_until(fd, util_mono_ms() + timeout_ms);
out_close:
	close(fd);
	return r;
}
