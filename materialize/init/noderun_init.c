/* vtb-init: one container node's helper K, which becomes its init
 * (docs/nodes.md). K is started by the factory (noderun_factory.c), a
 * small static program that vtb up spawns once, as pid 1 of a new pid
 * namespace owned by the host's user namespace, sharing the factory's
 * address space with a stack and thread pointer of its own
 * (noderun_helper.c): nothing of vtb up's address space is copied, and
 * the inits share this program's few pages. K:
 *   1. checks the private directories (nothing is made on the host);
 *   2. joins the template mount namespace, unshares a mount namespace
 *      (owned by the host's user namespace) and mounts its own /proc;
 *   3. clones a child A into a new user namespace U with new network, UTS
 *      and IPC namespaces (owned by U), writes U's id maps, joins the three
 *      through A's pidfd and lets A exit (a privileged node has no U: K
 *      unshares the three itself); sets the hostname, brings lo up;
 *   4. mounts the node's own directories (noderun_mnt.c) and writes its
 *      forwarding sysctls;
 *   5. reports its pid, waits for vtb up's word (exits, which ends the
 *      node, if vtb up gives up or dies) and then reaps orphans for ever. */
#include "noderun_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
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

#include "file.h"

/* The longest namespace name logged by the init (build_netns_name's). */
#define NR_NAME_MAX 128

/* The stack of the child A, which shares K's memory (CLONE_VM) for the
 * moment it holds U's namespaces: it only waits on a pipe. On K's stack:
 * K's memory is its own, the factory's address space is shared. */
#define NI_CHILD_STACK 16384

/* Write all of buf to fd, retrying on EINTR; nothing to do on failure. */
static void ni_write(int fd, const void *buf, size_t len)
{
	ssize_t w;

	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
}

/* A's body: hold the namespaces until K closes the pipe. */
static int ni_userns_child(void *arg)
{
	const int *p = arg;
	char c;

	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* Map ids 0..VTB_UID_COUNT-1 of A's user namespace to the host's range. */
static int ni_write_map(pid_t a, const char *file)
{
	char path[48], map[48];
	int fd, r = 0, n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)a, file);
	n = snprintf(map, sizeof(map), "0 %u %u\n", VTB_UID_BASE, VTB_UID_COUNT);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, map, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}

/* A user namespace with new network, UTS and IPC namespaces, joined
 * through A's pidfd while A holds them (one setns for the three). A's pid
 * is in K's pid namespace, whose /proc K has mounted. Returns 0 or a
 * negative errno with *step set. */
static int ni_userns(int *step)
{
	char stack[NI_CHILD_STACK] __attribute__((aligned(16)));
	int p[2], pidfd = -1, r = 0;
	pid_t a;

	*step = NR_USERNS;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	a = clone(ni_userns_child, stack + sizeof(stack),
		  CLONE_VM | CLONE_PIDFD | CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS |
			  CLONE_NEWIPC | SIGCHLD,
		  p, &pidfd);
	if (a < 0) {
		r = -errno;
		goto out_close;
	}
	*step = NR_IDMAP;
	r = ni_write_map(a, "uid_map");
	if (!r)
		r = ni_write_map(a, "gid_map");
	if (!r) {
		*step = NR_ENTER;
		if (setns(pidfd, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC))
			r = -errno;
	}
	close(p[1]);
	while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
		;
	close(p[0]);
	close(pidfd);
	return r;
out_close:
	close(p[0]);
	close(p[1]);
	return r;
}

/* The node's forwarding, before it has interfaces: a new namespace copies
 * the host's IPv4 settings (net.core.devconf_inherit_init_net 0), so both
 * values are written either way. conf/default, which each interface copies
 * when it is created, first: it needs no RTNL lock. ip_forward is
 * conf/all/forwarding; the kernel takes RTNL (a trylock that restarts the
 * write) only when the value changes. IPv6 starts off in a new namespace:
 * only a forwarding node with IPv6 addresses turns it on. */
static int ni_forwarding(const struct noderun_spec *s)
{
	const char *v = s->forwarding ? "1" : "0";
	int r;

	r = file_sysctl_write("net/ipv4/conf/default/forwarding", v);
	if (!r)
		r = file_sysctl_write("net/ipv4/ip_forward", v);
	if (!r && s->forwarding && s->ipv6)
		r = file_sysctl_write("net/ipv6/conf/all/forwarding", "1");
	return r;
}

/* Step 3: the node's network, UTS and IPC namespaces, joined, with its
 * hostname and lo up. Returns 0 or a negative errno
 * with *step set. */
static int ni_namespaces(const struct noderun_spec *s, int *step)
{
	struct ifreq ifr = { .ifr_name = "lo", .ifr_flags = IFF_UP };
	int r = 0, sock;

	if (s->privileged) {
		*step = NR_ENTER;
		if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC))
			return -errno;
	} else {
		r = ni_userns(step);
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

static void ni_init_term(int sig)
{
	(void)sig;
	_exit(0);
}

static void ni_init_wake(int sig)
{
	(void)sig;
}

/* The init's signals: SIGTERM (teardown) ends it, and the kernel then
 * kills every process of the node; SIGCHLD wakes it to reap; the rest keep
 * their defaults (SIGPIPE, which K ignored, too), which the kernel ignores
 * for a namespace's pid 1. */
static void ni_init_signals(void)
{
	struct sigaction sa = { .sa_handler = ni_init_term };
	sigset_t chld;

	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = ni_init_wake;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
}

/* Step 5, once vtb up has the node: keep only the log (as fd 3) and reap
 * the node's orphans until teardown's SIGTERM. Never returns. */
static __attribute__((noreturn)) void ni_init(const struct nr_args *a)
{
	const struct noderun_spec *s = &a->s;
	char name[NR_NAME_MAX];
	sigset_t none;
	int null;
	pid_t pid;

	snprintf(name, sizeof(name), "%s", s->name);
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
			dprintf(3, "vtb-init %s: cannot reap: %s\n", name, strerror(errno));
		sigsuspend(&none);
	}
}

/* Step 2: the node's mount namespace, a copy of the template, and its
 * /proc: only a process of the pid namespace mounts its proc, and K needs
 * it to see its children. Returns 0 or a negative errno with *step set. */
static int ni_mntns(const struct noderun_spec *s, int *step)
{
	*step = NR_MNTNS;
	if (setns(s->mnt_tmpl, CLONE_NEWNS) || unshare(CLONE_NEWNS))
		return -errno;
	*step = NR_PROC;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return 0;
}

/* Log that the init of node name runs as pid (snprintf and write: a
 * dprintf would allocate a stdio buffer per node). */
static void ni_log(int fd, const char *name, pid_t pid)
{
	char line[NR_NAME_MAX + 48];
	int n = snprintf(line, sizeof(line), "vtb-init %s: pid %d started\n", name, (int)pid);

	if (n > 0)
		ni_write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* K's pid in the host's pid namespace (the host's /proc, still ours):
 * > 0, or a negative errno. */
static pid_t ni_host_pid(void)
{
	char buf[16];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

/* See noderun_int.h. K is pid 1 of the node's new pid namespace and
 * becomes its init: it makes the node, reports on a->rep (which it holds
 * until it exits or the node is vtb up's) and waits for vtb up's word on
 * a->ack: a byte when it has bound the node (from then on teardown finds
 * the init), EOF when it gave up or died, and then K exits, which ends the
 * node (no journal would know it). */
int nr_helper(const struct nr_args *a)
{
	const struct noderun_spec *s = &a->s;
	struct nr_report m;
	int step = NR_PRIV, arg = 0, host_root = -1, r;
	pid_t self;
	ssize_t got;
	char c = 0;

	umask(0);
	setsid();
	/* teardown's SIGTERM ends K even before vtb up has answered; a dead
	 * vtb up does not kill it on its report (SIGPIPE at its default is
	 * ignored for a pid 1): K then ends the node */
	ni_init_signals();
	self = ni_host_pid();
	r = self < 0 ? (int)self : nr_priv_check(s, &step, &arg);
	if (!r) {
		host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (host_root < 0)
			r = -errno;
	}
	if (!r)
		r = ni_mntns(s, &step);
	if (!r)
		r = ni_namespaces(s, &step);
	if (!r)
		r = nr_mount_node(s, host_root, &step, &arg);
	if (!r) {
		step = NR_SYSCTL;
		r = ni_forwarding(s);
	}
	if (host_root >= 0)
		close(host_root);
	if (!r && s->log_fd >= 0)
		ni_log(s->log_fd, s->name, self);
	m = (struct nr_report){ .err = -r, .step = step, .arg = arg, .init = self };
	ni_write(a->rep, &m, sizeof(m));
	if (r)
		return 1;
	while ((got = read(a->ack, &c, 1)) < 0 && errno == EINTR)
		;
	if (got != 1 || c != 1)
		return 0;
	ni_init(a);
}
