/* noderun: making a container node's namespaces and init, and entering a
 * node (see noderun.h). The node is made by a forked helper K (the caller
 * has threads: K makes only async-signal-safe calls and never mallocs):
 *   1. a child A cloned into a new user namespace U with new network, UTS
 *      and IPC namespaces (owned by U); K writes U's id maps, opens the
 *      three namespaces and lets A exit. A privileged node has no U: K
 *      unshares the three itself.
 *   2. K joins them (host root has every capability over U), sets the
 *      hostname and brings lo up.
 *   3. K joins the template mount namespace and unshares mount and pid
 *      namespaces, owned by the host's user namespace, and mounts the
 *      node's own directories (noderun_mnt.c).
 *   4. K forks the init I, pid 1 of the new pid namespace, which mounts
 *      the node's /proc and then reaps orphans for ever; K reports I's pid
 *      and exits. */
#include "noderun_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/* The helper's report: fixed size, one atomic write on a pipe. */
struct nr_report {
	int32_t err;  /* 0 or an errno */
	int32_t step; /* enum nr_step of the failure */
	int32_t arg;  /* the private directory of NR_PRIV.. */
	int32_t init; /* the init's pid */
};

/* The stack of the child A, which shares K's memory (CLONE_VM: no copy of
 * the caller's page tables) for the moment it holds U's namespaces. */
static char nr_child_stack[16384] __attribute__((aligned(16)));

/* Write all of buf to fd, retrying on EINTR; nothing to do on failure. */
static void nr_write(int fd, const void *buf, size_t len)
{
	ssize_t w;

	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
}

/* A's body: hold the namespaces until K closes the pipe. arg is K's pipe,
 * which K leaves as it is (A shares K's memory and may run late). */
static int nr_userns_child(void *arg)
{
	const int *p = arg;
	char c;

	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* Write "/proc/PID/FILE" into buf. */
static void nr_proc_path(char *buf, size_t len, pid_t pid, const char *file)
{
	buf[0] = '\0';
	nr_append(buf, len, "/proc/");
	nr_append_u(buf, len, (unsigned long)pid);
	nr_append(buf, len, "/");
	nr_append(buf, len, file);
}

/* Map ids 0..VTB_UID_COUNT-1 of A's user namespace to the host's range. */
static int nr_write_map(pid_t a, const char *file)
{
	char path[48], map[48] = "0 ";
	int fd, r = 0;

	nr_proc_path(path, sizeof(path), a, file);
	nr_append_u(map, sizeof(map), VTB_UID_BASE);
	nr_append(map, sizeof(map), " ");
	nr_append_u(map, sizeof(map), VTB_UID_COUNT);
	nr_append(map, sizeof(map), "\n");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		r = -errno;
	close(fd);
	return r;
}

static const char *const nr_ns_names[] = { "ns/net", "ns/uts", "ns/ipc" };

/* Step 1: a user namespace with new network, UTS and IPC namespaces, whose
 * fds go to ns[0..2]. Returns 0 or a negative errno with *step set. */
static int nr_userns(int ns[3], int *step)
{
	char path[48];
	int p[2], r = 0, i;
	pid_t a;

	*step = NR_USERNS;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	a = clone(nr_userns_child, nr_child_stack + sizeof(nr_child_stack),
		  CLONE_VM | CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD,
		  p);
	if (a < 0) {
		r = -errno;
		goto out_close;
	}
	*step = NR_IDMAP;
	r = nr_write_map(a, "uid_map");
	if (!r)
		r = nr_write_map(a, "gid_map");
	for (i = 0; !r && i < 3; i++) {
		*step = NR_USERNS;
		nr_proc_path(path, sizeof(path), a, nr_ns_names[i]);
		ns[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (ns[i] < 0)
			r = -errno;
	}
	close(p[1]);
	while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
		;
	close(p[0]);
	return r;
out_close:
	close(p[0]);
	close(p[1]);
	return r;
}

/* Steps 1 and 2: the node's network, UTS and IPC namespaces, joined, with
 * its hostname and lo up. Returns 0 or a negative errno with *step set. */
static int nr_namespaces(const struct noderun_spec *s, int *step)
{
	static const int types[] = { CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC };
	struct ifreq ifr = { .ifr_name = "lo", .ifr_flags = IFF_UP };
	int ns[3] = { -1, -1, -1 }, r = 0, i, sock;

	if (s->privileged) {
		*step = NR_ENTER;
		if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC))
			return -errno;
	} else {
		r = nr_userns(ns, step);
		*step = NR_ENTER;
		for (i = 0; !r && i < 3; i++)
			if (setns(ns[i], types[i]))
				r = -errno;
		for (i = 0; i < 3; i++)
			if (ns[i] >= 0)
				close(ns[i]);
		if (r)
			return r;
	}
	*step = NR_HOSTNAME;
	if (sethostname(s->hostname, strlen(s->hostname)))
		return -errno;
	/* lo is up in any host, and 127.0.0.1 answers */
	*step = NR_LO;
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr))
		r = -errno;
	close(sock);
	return r;
}

static void nr_init_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void nr_init_wake(int sig)
{
	(void)sig;
}

/* The init's signals: SIGTERM (teardown) ends it, and the kernel then
 * kills every process of the node; SIGCHLD wakes it to reap; the rest go
 * back to their defaults, which the kernel ignores for a namespace's pid 1
 * (vtb up's handlers must not run here). */
static void nr_init_signals(void)
{
	static const int dfl[] = { SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM };
	struct sigaction sa = { .sa_handler = nr_init_term };
	sigset_t chld;
	size_t i;

	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = nr_init_wake;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
		sigaction(dfl[i], &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
}

/* Log "vtb-init NAME: what errno" to fd 3 (the log, when there is one). */
static void nr_init_log(const struct noderun_spec *s, const char *what, int err)
{
	char line[256] = "vtb-init ";

	nr_append(line, sizeof(line), s->name);
	nr_append(line, sizeof(line), ": ");
	nr_append(line, sizeof(line), what);
	nr_append(line, sizeof(line), " errno ");
	nr_append_u(line, sizeof(line), (unsigned long)err);
	nr_append(line, sizeof(line), "\n");
	nr_write(3, line, strlen(line));
}

/* Step 4, in I: mount the node's /proc (only a process of the pid
 * namespace mounts its proc), say so on ready, keep only the log (as fd
 * 3) and reap the node's orphans until teardown's SIGTERM. Never returns. */
static void nr_init(const struct noderun_spec *s, int ready)
{
	sigset_t none;
	int32_t err = 0;
	int null;
	pid_t pid;

	setsid();
	nr_init_signals();
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		err = errno;
	prctl(PR_SET_NAME, "vtb-init", 0, 0, 0);
	nr_write(ready, &err, sizeof(err));
	if (err)
		_exit(1);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (s->log_fd >= 0)
		dup2(s->log_fd, 3);
	syscall(SYS_close_range, s->log_fd >= 0 ? 4 : 3, ~0U, 0);
	sigemptyset(&none);
	for (;;) {
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (pid < 0 && errno != ECHILD && errno != EINTR)
			nr_init_log(s, "cannot reap:", errno);
		sigsuspend(&none);
	}
}

/* K's log line for the new init: "vtb-init NAME: pid PID started". */
static void nr_log_start(const struct noderun_spec *s, pid_t init)
{
	char line[256] = "vtb-init ";

	if (s->log_fd < 0)
		return;
	nr_append(line, sizeof(line), s->name);
	nr_append(line, sizeof(line), ": pid ");
	nr_append_u(line, sizeof(line), (unsigned long)init);
	nr_append(line, sizeof(line), " started\n");
	nr_write(s->log_fd, line, strlen(line));
}

/* Steps 3 and 4: the mount and pid namespaces and the init. Returns 0 and
 * the init's pid, or a negative errno with *step and *arg set. */
static int nr_mount_and_init(const struct noderun_spec *s, int host_root, pid_t *init,
			     int *step, int *arg)
{
	int ready[2], r;
	int32_t err = EIO;

	*step = NR_MNTNS;
	if (setns(s->mnt_tmpl, CLONE_NEWNS) || unshare(CLONE_NEWNS | CLONE_NEWPID))
		return -errno;
	r = nr_mount_node(s, host_root, step, arg);
	if (r)
		return r;
	*step = NR_FORK;
	if (pipe2(ready, O_CLOEXEC))
		return -errno;
	*init = fork();
	if (*init == 0)
		nr_init(s, ready[1]);
	close(ready[1]);
	if (*init < 0) {
		r = -errno;
		goto out_close;
	}
	*step = NR_PROC;
	while (read(ready[0], &err, sizeof(err)) < 0 && errno == EINTR)
		;
	r = -err;
	if (r)
		waitpid(*init, NULL, 0);
out_close:
	close(ready[0]);
	return r;
}

/* Close every descriptor K inherited but keep (a, b, c, d; -1: none): a
 * concurrent helper must not hold our caller's pipes (they tell K and
 * the caller when the other end is gone). */
static void nr_close_others(int a, int b, int c, int d)
{
	int keep[4] = { a, b, c, d }, lo = 0, i, k, t;

	for (i = 0; i < 4; i++) /* sort, four at most */
		for (k = i + 1; k < 4; k++)
			if (keep[k] < keep[i]) {
				t = keep[i];
				keep[i] = keep[k];
				keep[k] = t;
			}
	for (i = 0; i < 4; i++) {
		if (keep[i] < 0)
			continue;
		if (keep[i] > lo)
			syscall(SYS_close_range, lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

/* K: make the node, report on rep, and wait for the caller's word on ack:
 * a byte when it has bound the node (from then on teardown finds the
 * init), EOF when it gave up or died, and then K kills the init (no
 * journal would know it). Never returns. */
static void nr_helper(const struct noderun_spec *s, int rep, int ack)
{
	struct nr_report m = { 0 };
	int step = NR_FORK, arg = 0, host_root = -1, r;
	pid_t init = -1;
	ssize_t got;
	char c;

	nr_close_others(rep, ack, s->mnt_tmpl, s->log_fd);
	umask(0);
	r = nr_priv_prepare(s, &step, &arg);
	if (!r)
		r = nr_namespaces(s, &step);
	if (!r) {
		host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (host_root < 0)
			r = -errno;
	}
	if (!r)
		r = nr_mount_and_init(s, host_root, &init, &step, &arg);
	if (!r)
		nr_log_start(s, init);
	m = (struct nr_report){ .err = -r, .step = step, .arg = arg, .init = init };
	nr_write(rep, &m, sizeof(m));
	close(rep);
	if (r)
		_exit(0);
	c = 0;
	while ((got = read(ack, &c, 1)) < 0 && errno == EINTR)
		;
	if (got != 1 || c != 1)
		kill(init, SIGKILL);
	_exit(0);
}

/* What each step was doing, for the caller's message. */
static const char *const nr_step_what[NR_STEPS] = {
	[NR_FORK] = "start the node's helper",
	[NR_USERNS] = "create the node's user namespace",
	[NR_IDMAP] = "write the node's uid and gid maps",
	[NR_ENTER] = "create or enter the node's namespaces",
	[NR_HOSTNAME] = "set the node's hostname",
	[NR_LO] = "bring lo up",
	[NR_MNTNS] = "create the node's mount and pid namespaces",
	[NR_RUN] = "mount the node's /run, /tmp and /root",
	[NR_DEV] = "make the node's /dev",
	[NR_SYS] = "mount the node's /sys",
	[NR_PRIV] = "mount private directory",
	[NR_PRIV_PARENT] = "make private directory",
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
	if ((m->step == NR_PRIV || m->step == NR_PRIV_PARENT || m->step == NR_SEED) &&
	    m->arg >= 0 && (size_t)m->arg < s->npriv)
		p = &s->priv[m->arg];
	if (p && m->step == NR_PRIV_PARENT)
		util_fmt(err, len, "private directory %s: its parent does not exist on the host",
			 p->path);
	else if (p && m->step == NR_SEED)
		util_fmt(err, len, "cannot %s %s from %s: %s", what, p->path, p->seed,
			 strerror(m->err));
	else if (p)
		util_fmt(err, len, "cannot %s %s: %s", what, p->path, strerror(m->err));
	else
		util_fmt(err, len, "cannot %s: %s", what, strerror(m->err));
}

/* See noderun.h. The init is not our child: the helper is, reaped by
 * noderun_settle (or here when it failed). */
int noderun_spawn(const struct noderun_spec *s, pid_t *init, struct noderun_pending *pend,
		  char *err, size_t errlen)
{
	struct nr_report m = { .err = EIO, .step = NR_FORK };
	int p[2], a[2] = { -1, -1 };
	ssize_t got;
	pid_t k;

	*pend = (struct noderun_pending){ .helper = -1, .ack = -1 };
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
	k = fork();
	if (k == 0)
		nr_helper(s, p[1], a[0]);
	m.err = errno;
	close(p[1]);
	close(a[0]);
	*pend = (struct noderun_pending){ .helper = k, .ack = a[1] };
	if (k < 0) {
		close(p[0]);
		goto out_settle;
	}
	do
		got = read(p[0], &m, sizeof(m));
	while (got < 0 && errno == EINTR);
	close(p[0]);
	if (got != sizeof(m))
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
	char one = 1;

	if (pend->ack >= 0) {
		if (keep)
			nr_write(pend->ack, &one, 1);
		close(pend->ack);
	}
	if (pend->helper > 0)
		while (waitpid(pend->helper, NULL, 0) < 0 && errno == EINTR)
			;
	*pend = (struct noderun_pending){ .helper = -1, .ack = -1 };
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
	f->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (f->pidfd < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	r = proc_alive(pid, start) ? 0 : -ESRCH;
	nr_proc_path(path, sizeof(path), pid, "ns/net");
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
	f->pidfd = f->userns = -1;
}

int noderun_enter(const struct noderun_fds *f)
{
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
