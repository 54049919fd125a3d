/* ns: switching a thread's network namespace around a call (see ns.h). */
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
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

struct sysfs_job {
	int netns; /* the caller's network namespace */
	int r;     /* the fd, or a negative errno */
};

/* The thread of ns_sysfs_net: its own file-system context and mount
 * namespace (unshare takes both for a thread), nothing propagated back to
 * the host's, the caller's network namespace, a sysfs of it. */
static void *sysfs_thread(void *arg)
{
	struct sysfs_job *j = arg;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    setns(j->netns, CLONE_NEWNET) ||
	    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		j->r = -errno;
	else if ((j->r = open("/sys/class/net", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		j->r = -errno;
	return NULL;
}

int ns_sysfs_net(void)
{
	struct sysfs_job j = { .netns = ns_open_self(), .r = -EINVAL };
	pthread_t t;
	int e;

	if (j.netns < 0)
		return j.netns;
	e = pthread_create(&t, NULL, sysfs_thread, &j);
	if (e)
		j.r = -e;
	else
		pthread_join(t, NULL);
	close(j.netns);
	return j.r;
}
