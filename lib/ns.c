/* ns: switching a thread's network namespace around a call (see ns.h). */
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

int ns_open_self(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* See ns.h. The thread's original namespace is held by fd and restored
 * whatever fn returns. If restoring fails (it cannot in practice: we hold
 * the fd and had the right to leave), that errno is returned and the
 * thread is left in ns_fd's namespace: treat it as fatal. */
int ns_run_in(int ns_fd, int (*fn)(void *arg), void *arg)
{
	int self, r;

	self = ns_open_self();
	if (self < 0)
		return self;
	if (setns(ns_fd, CLONE_NEWNET)) {
		r = -errno;
		goto out_close;
	}
	r = fn(arg);
	if (setns(self, CLONE_NEWNET))
		r = -errno;
out_close:
	close(self);
	return r;
}
