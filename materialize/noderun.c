/* noderun: vtb's side of container nodes (see noderun.h): the template
 * mount namespace each node's is copied from, the factory (vtb-init -F,
 * materialize/init/) that starts each node's helper, asking it for a node
 * and settling the helper, and entering a node. */
#include "noderun_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "netns.h"
#include "proc.h"
#include "util.h"

/* The factory's only environment: without glibc's restartable sequences
 * the kernel has no rseq area to update when each helper first runs and
 * each time an init is scheduled (1.9% of a 1000-node bring-up's CPU). */
#define NR_FACTORY_ENV "GLIBC_TUNABLES=glibc.pthread.rseq=0"
/* How many times a directory's stacked mounts are peeled off. */
#define NR_DETACH_MAX 8

/* Write all of buf to fd, retrying on EINTR; nothing to do on failure. */
static void nr_write(int fd, const void *buf, size_t len)
{
	ssize_t w;

	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
}

/* Unmount (lazily) what is mounted at dir, stacked mounts included. */
static void nr_detach(const char *dir)
{
	int i;

	for (i = 0; i < NR_DETACH_MAX && !umount2(dir, MNT_DETACH); i++)
		;
}

struct nr_tmpl_job {
	bool privileged;
	int fd, r;
};

/* The template's body, in a thread of its own (unshare needs CLONE_FS
 * with it: the process's threads share their root and cwd). */
static int nr_tmpl_setup(struct nr_tmpl_job *j)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	const char *state = db_state_dir();

	if (unshare(CLONE_FS | CLONE_NEWNS) || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL))
		return -errno;
	nr_detach(NETNS_RUN_DIR);
	nr_detach(NETNS_UTS_DIR);
	if (!j->privileged) {
		if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)))
			return -errno;
		if (mount("tmpfs", state, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0755,size=4k") &&
		    errno != ENOENT)
			return -errno;
	}
	j->fd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	return j->fd < 0 ? -errno : 0;
}

static void *nr_tmpl_thread(void *arg)
{
	struct nr_tmpl_job *j = arg;

	j->r = nr_tmpl_setup(j);
	return NULL;
}

/* See noderun.h. The namespace lives on through the fd after the thread
 * that made it exits. */
int noderun_template(bool privileged, int *fd)
{
	struct nr_tmpl_job j = { .privileged = privileged, .fd = -1 };
	pthread_t t;
	int r;

	*fd = -1;
	r = pthread_create(&t, NULL, nr_tmpl_thread, &j);
	if (r)
		return -r;
	pthread_join(t, NULL);
	if (j.r) {
		if (j.fd >= 0)
			close(j.fd);
		return j.r;
	}
	*fd = j.fd;
	return 0;
}


/* See noderun.h. */
int noderun_init_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	util_fmt(buf, len, "%s next to vtb's executable", NR_INIT_NAME);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	util_fmt(buf, len, "%s/%s", dirname(exe), NR_INIT_NAME);
	return access(buf, X_OK) ? -errno : 0;
}

/* What each step was doing, for the caller's message. */
static const char *const nr_step_what[NR_STEPS] = {
	[NR_FORK] = "start the node's helper",
	[NR_ARGS] = "start the node's helper (its command line)",
	[NR_USERNS] = "create the node's user namespace",
	[NR_IDMAP] = "write the node's uid and gid maps",
	[NR_ENTER] = "create or enter the node's namespaces",
	[NR_HOSTNAME] = "set the node's hostname",
	[NR_LO] = "bring lo up",
	[NR_SYSCTL] = "set the node's forwarding",
	[NR_MNTNS] = "create the node's mount and pid namespaces",
	[NR_RUN] = "mount the node's /run, /tmp and /root",
	[NR_DEV] = "make the node's /dev",
	[NR_SYS] = "mount the node's /sys",
	[NR_PRIV] = "mount private directory",
	[NR_PRIV_MISSING] = "find private directory",
	[NR_SEED] = "seed private directory",
	[NR_PROC] = "mount the node's /proc",
};

/* The caller's message for report m. */
static void nr_report_fmt(const struct noderun_spec *s, const struct nr_report *m, char *err,
			  size_t len)
{
	const struct rz_private *p = NULL;
	const char *what = "make the node";

	if (m->step >= 0 && m->step < NR_STEPS)
		what = nr_step_what[m->step];
	if ((m->step == NR_PRIV || m->step == NR_PRIV_MISSING || m->step == NR_SEED) &&
	    m->arg >= 0 && (size_t)m->arg < s->npriv)
		p = &s->priv[m->arg];
	if (p && m->step == NR_PRIV_MISSING)
		util_fmt(err, len,
			 "private directory %s does not exist on the host; create it, or put it "
			 "under /run, /tmp, /var/tmp or /root",
			 p->path);
	else if (p && m->step == NR_SEED)
		util_fmt(err, len, "cannot %s %s from %s: %s", what, p->path, p->seed,
			 strerror(m->err));
	else if (p)
		util_fmt(err, len, "cannot %s %s: %s", what, p->path, strerror(m->err));
	else if (m->step == NR_FORK)
		util_fmt(err, len, "cannot %s %s: %s", what, s->init_path, strerror(m->err));
	else
		util_fmt(err, len, "cannot %s: %s", what, strerror(m->err));
}

/* Append the NUL-terminated arguments x and y (y may be NULL; x=y when
 * both) to the request at *p, or only count them: *n grows by their size. */
static void nr_req_put(char **p, size_t *n, const char *x, const char *y)
{
	size_t lx = strlen(x), ly = y ? strlen(y) : 0;

	if (*p) {
		memcpy(*p, x, lx);
		if (y) {
			(*p)[lx] = '=';
			memcpy(*p + lx + 1, y, ly);
		}
		*p += lx + (y ? ly + 1 : 0);
		*(*p)++ = '\0';
	}
	*n += lx + (y ? ly + 1 : 0) + 1;
}

/* The request for s (noderun_int.h) into buf when not NULL; returns its
 * size either way. */
static size_t nr_req_fill(const struct noderun_spec *s, char *buf)
{
	const char *flags[] = { s->privileged ? "-P" : NULL, s->forwarding ? "-f" : NULL,
				s->ipv6 ? "-6" : NULL, s->limited ? "-l" : NULL };
	size_t n = 0, i;

	nr_req_put(&buf, &n, s->id, NULL);
	nr_req_put(&buf, &n, s->hostname, NULL);
	nr_req_put(&buf, &n, "-n", NULL);
	nr_req_put(&buf, &n, s->name, NULL);
	for (i = 0; i < UTIL_ARRAY_SIZE(flags); i++)
		if (flags[i])
			nr_req_put(&buf, &n, flags[i], NULL);
	for (i = 0; i < s->npriv; i++) {
		nr_req_put(&buf, &n, "-d", NULL);
		nr_req_put(&buf, &n, s->priv[i].path, s->priv[i].seed);
	}
	return n;
}

/* Send s's request to its factory with the pipes rep and ack, the
 * template and the log (noderun_int.h). Returns 0 or a negative errno. */
static int nr_req_send(const struct noderun_spec *s, int rep, int ack)
{
	const int fds[NR_REQ_FDS] = { rep, ack, s->mnt_tmpl, s->log_fd };
	size_t nfd = s->log_fd >= 0 ? NR_REQ_FDS : NR_REQ_FDS - 1, len = nr_req_fill(s, NULL);
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u = { 0 };
	struct iovec iov = { .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = CMSG_SPACE(nfd * sizeof(int)) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	ssize_t w;
	int r = 0;

	if (len > NR_REQ_MAX)
		return -E2BIG;
	iov.iov_base = malloc(len);
	if (!iov.iov_base)
		return -ENOMEM;
	nr_req_fill(s, iov.iov_base);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfd * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfd * sizeof(int));
	do
		w = sendmsg(s->factory, &msg, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != len)
		r = -EIO;
	free(iov.iov_base);
	return r;
}

/* See noderun.h. The socket's far end loses O_CLOEXEC in the factory only
 * (dup2 onto itself). Signals at their defaults and unblocked, no
 * environment but NR_FACTORY_ENV. */
int noderun_factory_start(const char *init_path, struct noderun_factory *f)
{
	char fd[12], pad[NR_TITLE_LEN + 1];
	char *const argv[] = { NR_INIT_NAME, "-F", fd, pad, NULL };
	char *const envp[] = { NR_FACTORY_ENV, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int sv[2], r;

	*f = (struct noderun_factory){ .pid = -1, .sock = -1 };
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	snprintf(fd, sizeof(fd), "%d", sv[1]);
	memset(pad, ' ', NR_TITLE_LEN);
	pad[NR_TITLE_LEN] = '\0';
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, sv[1], sv[1]);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = -posix_spawn(&f->pid, init_path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (r) {
		close(sv[0]);
		f->pid = -1;
		return r;
	}
	f->sock = sv[0];
	return 0;
}

/* See noderun.h. */
void noderun_factory_stop(struct noderun_factory *f)
{
	if (f->sock >= 0)
		close(f->sock);
	if (f->pid > 0)
		while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
			;
	*f = (struct noderun_factory){ .pid = -1, .sock = -1 };
}

/* See noderun.h. The helper is the factory's child: its report pipe says
 * when it is gone. */
int noderun_spawn(const struct noderun_spec *s, pid_t *init, struct noderun_pending *pend,
		  char *err, size_t errlen)
{
	struct nr_report m = { .err = EIO, .step = NR_FORK };
	int p[2], a[2] = { -1, -1 }, r;
	ssize_t got;

	*pend = (struct noderun_pending){ .report = -1, .ack = -1 };
	if (pipe2(p, O_CLOEXEC)) {
		m.err = errno;
		goto out_fail;
	}
	if (pipe2(a, O_CLOEXEC)) {
		m.err = errno;
		close(p[0]);
		close(p[1]);
		goto out_fail;
	}
	r = nr_req_send(s, p[1], a[0]);
	close(p[1]);
	close(a[0]);
	*pend = (struct noderun_pending){ .report = p[0], .ack = a[1] };
	if (r) {
		m.err = -r;
		goto out_settle;
	}
	do
		got = read(p[0], &m, sizeof(m));
	while (got < 0 && errno == EINTR);
	if (got != sizeof(m) || m.err < 0 || (!m.err && m.init <= 0))
		m = (struct nr_report){ .err = EIO, .step = NR_FORK };
	if (m.err)
		goto out_settle;
	*init = m.init;
	return 0;
out_settle:
	noderun_settle(pend, false);
out_fail:
	nr_report_fmt(s, &m, err, errlen);
	return -m.err;
}

/* See noderun.h. */
void noderun_settle(struct noderun_pending *pend, bool keep)
{
	char one = 1, buf[sizeof(struct nr_report)];
	ssize_t got;

	if (pend->ack >= 0) {
		if (keep)
			nr_write(pend->ack, &one, 1);
		close(pend->ack);
	}
	if (pend->report >= 0) {
		/* EOF: the helper and the init it forked have closed it */
		while (!keep && ((got = read(pend->report, buf, sizeof(buf))) > 0 ||
				 (got < 0 && errno == EINTR)))
			;
		close(pend->report);
	}
	*pend = (struct noderun_pending){ .report = -1, .ack = -1 };
}

int noderun_find(const struct db_obj *rows, size_t n, const char *name, pid_t *pid,
		 uint64_t *start)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].kind == DB_PROCESS && !strcmp(rows[i].name, name)) {
			*pid = rows[i].pid;
			*start = rows[i].start;
			return 0;
		}
	return -ENOENT;
}

/* Whether fd is the calling process's own user namespace (1), not (0), or
 * -errno. */
static int nr_is_own_userns(int fd)
{
	struct stat a, b;

	if (stat("/proc/self/ns/user", &a) || fstat(fd, &b))
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* See noderun.h. The user namespace is the owner of the init's network
 * namespace: the host's own for a privileged node (then -1). The start
 * time is checked after each open, so a reused pid is never taken. */
int noderun_open(pid_t pid, uint64_t start, struct noderun_fds *f)
{
	char path[48];
	int net, r;

	f->userns = -1;
	f->ncg = 0;
	f->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (f->pidfd < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	r = proc_alive(pid, start) ? 0 : -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	net = r ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (!r && net < 0)
		r = errno == ENOENT ? -ESRCH : -errno;
	if (!r) {
		f->userns = ioctl(net, NS_GET_USERNS);
		r = f->userns < 0 ? -errno : nr_is_own_userns(f->userns);
		close(net);
	}
	if (r == 1) {
		close(f->userns);
		f->userns = -1;
		r = 0;
	}
	if (!r)
		r = cg_join_open(pid, f->cg, &f->ncg);
	if (!r && !proc_alive(pid, start))
		r = -ESRCH;
	if (r)
		noderun_close(f);
	return r;
}

void noderun_close(struct noderun_fds *f)
{
	if (f->pidfd >= 0)
		close(f->pidfd);
	if (f->userns >= 0)
		close(f->userns);
	for (; f->ncg > 0; f->ncg--)
		close(f->cg[f->ncg - 1]);
	f->pidfd = f->userns = -1;
}

int noderun_enter(const struct noderun_fds *f)
{
	int r = cg_procs_join(f->cg, f->ncg);

	if (r)
		return r;
	if (setns(f->pidfd, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWPID))
		return -errno;
	return 0;
}

/* See noderun.h. The raw syscalls change this thread's ids only, which in
 * the single-threaded callers is the process's (glibc's wrappers would
 * signal threads a forked child does not have). */
int noderun_become_root(const struct noderun_fds *f)
{
	if (f->userns < 0)
		return 0;
	if (setns(f->userns, CLONE_NEWUSER) || syscall(SYS_setgroups, 0, NULL) ||
	    syscall(SYS_setresgid, 0, 0, 0) || syscall(SYS_setresuid, 0, 0, 0))
		return -errno;
	return 0;
}
