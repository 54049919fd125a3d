/* qemu: QEMU launch and stop (the KVM probe is kvm_probe.c, the QMP
 * client qmp.c). */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"
#include "cgroup.h"
#include "proc.h"
#include "qmp.h"
#include "util.h"

/* QEMU builds the machine and greets on QMP in well under a second under
 * TCG here; 10 s leaves room for a loaded host and many VMs at once. */
#define QEMU_START_WAIT_MS 10000
#define QEMU_QMP_GREET_MS 250 /* a live QEMU greets within milliseconds */
/* A QEMU whose QMP went away at start is exiting (a missing kernel): how
 * long to wait for it, to report its own last words. */
#define QEMU_EXIT_GRACE_MS 2000
/* After SIGKILL the kernel ends a process at once unless it is stuck in
 * an uninterruptible sleep; a second says it is. */
#define QEMU_KILL_WAIT_MS 1000

/* ---- launch -------------------------------------------------------------- */

static const struct {
	const char *model, *device;
} nic_devices[] = {
	{ "virtio", "virtio-net-pci" },
	{ "e1000", "e1000" },
	{ "e1000e", "e1000e" },
	{ "rtl8139", "rtl8139" },
	{ "vmxnet3", "vmxnet3" },
};

const char *qemu_nic_device(const char *model)
{
	if (!model)
		return NULL;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(nic_devices); i++)
		if (!strcmp(nic_devices[i].model, model))
			return nic_devices[i].device;
	return NULL;
}

/* A NULL-terminated argv under construction; a failed add sets oom. */
struct argv {
	char **v;
	size_t n, cap;
	bool oom;
};

static void argv_add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argv_add(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (a->oom)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || util_grow((void **)&a->v, &a->cap, a->n + 2, sizeof(*a->v))) {
		if (n >= 0)
			free(s);
		a->oom = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void argv_free(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* The program to run for a guest of a: a->qemu from $PATH, or $VTB_QEMU
 * for the host's architecture. */
static int qemu_binary(const struct vm_arch *a, char *buf, size_t len)
{
	const char *env = getenv("VTB_QEMU");
	const char *path = getenv("PATH");

	if (env && *env && a == vm_arch_host()) {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK) ? -errno : 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && (int)snprintf(buf, len, "%.*s/%s", (int)n, path, a->qemu) < (int)len &&
		    access(buf, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

static bool has_comma(const char *s)
{
	return s && strchr(s, ',');
}

/* Check s; err says what is wrong. */
static int spec_check(const struct qemu_spec *s, const struct vm_arch *arch, char *err,
		      size_t errlen)
{
	if (!s->name || !s->kernel || !s->console_path || !s->qmp_path || !s->log_path ||
	    !s->cores || !s->memory_mib) {
		util_fmt(err, errlen, "incomplete VM spec");
		return -EINVAL;
	}
	if (has_comma(s->name) || has_comma(s->console_path) || has_comma(s->qmp_path) ||
	    has_comma(s->share)) {
		util_fmt(err, errlen, "VM %s: a comma in its name, socket paths or share", s->name);
		return -EINVAL;
	}
	if (strlen(s->console_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(s->qmp_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		util_fmt(err, errlen, "VM %s: socket path too long", s->name);
		return -ENAMETOOLONG;
	}
	if (s->accel == QEMU_KVM && !arch->kvm) {
		util_fmt(err, errlen, "VM %s: KVM cannot run a %s guest here", s->name, arch->name);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->nnics; i++) {
		char list[128];

		if (!qemu_nic_device(s->nics[i].model)) {
			util_fmt(err, errlen, "VM %s: unknown NIC model '%s'", s->name,
				 s->nics[i].model ? s->nics[i].model : "(none)");
			return -EINVAL;
		}
		if (!vm_arch_has_nic(arch, s->nics[i].model)) {
			util_fmt(err, errlen, "VM %s: a %s guest has no driver for NIC model '%s' (its "
				 "models: %s)", s->name, arch->name, s->nics[i].model,
				 vm_arch_nic_list(arch, list, sizeof(list)));
			return -EINVAL;
		}
		if (s->nics[i].tap_fd < 3) {
			util_fmt(err, errlen, "VM %s: NIC %zu has no tap fd", s->name, i);
			return -EINVAL;
		}
	}
	return 0;
}

static void build_argv(struct argv *a, const char *bin, const struct qemu_spec *s,
		       const struct vm_arch *arch)
{
	argv_add(a, "%s", bin);
	argv_add(a, "-name");
	argv_add(a, "%s", s->name);
	argv_add(a, "-nodefaults");
	argv_add(a, "-no-user-config");
	argv_add(a, "-display");
	argv_add(a, "none");
	argv_add(a, "-machine");
	argv_add(a, "%s", arch->machine);
	argv_add(a, "-accel");
	argv_add(a, s->accel == QEMU_KVM ? "kvm" : "tcg");
	argv_add(a, "-cpu");
	argv_add(a, "%s", s->accel == QEMU_KVM ? "host" : arch->cpu_tcg);
	argv_add(a, "-smp");
	argv_add(a, "%u", s->cores);
	argv_add(a, "-m");
	argv_add(a, "%llu", s->memory_mib);
	argv_add(a, "-kernel");
	argv_add(a, "%s", s->kernel);
	if (s->initrd) {
		argv_add(a, "-initrd");
		argv_add(a, "%s", s->initrd);
	}
	if (s->cmdline) {
		argv_add(a, "-append");
		argv_add(a, "%s", s->cmdline);
	}
	for (size_t i = 0; i < s->nnics; i++) {
		const struct qemu_nic *n = &s->nics[i];
		const unsigned char *m = n->mac;

		argv_add(a, "-netdev");
		/* QEMU sees whether the fd has a vnet header (and refuses
		 * vnet_hdr= with fd=); with one, virtio-net's guest gets checksum
		 * offload, scatter-gather and TSO */
		argv_add(a, "tap,id=net%zu,fd=%d", i, n->tap_fd);
		argv_add(a, "-device");
		/* an e1000 negotiating its link takes ~2 s of a TCG guest's boot:
		 * a virtual link has nothing to negotiate */
		argv_add(a, "%s,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x%s",
			 qemu_nic_device(n->model), i, m[0], m[1], m[2], m[3], m[4], m[5],
			 !strcmp(n->model, "e1000") ? ",autonegotiation=off" : "");
	}
	if (s->share) {
		/* 9p rather than virtiofs: QEMU 7.2 serves it itself, virtiofs
		 * needs a virtiofsd per VM (docs/vms.md); multidevs=remap keeps
		 * inode numbers of the share's several filesystems apart */
		argv_add(a, "-fsdev");
		argv_add(a, "local,id=vtbhost,path=%s,security_model=none,readonly=on,multidevs=remap",
			 s->share);
		argv_add(a, "-device");
		argv_add(a, "virtio-9p-pci,fsdev=vtbhost,mount_tag=vtbhost");
	}
	argv_add(a, "-chardev");
	argv_add(a, "socket,id=console,path=%s,server=on,wait=off", s->console_path);
	argv_add(a, "-serial");
	argv_add(a, "chardev:console");
	argv_add(a, "-qmp");
	argv_add(a, "unix:%s,server=on,wait=off", s->qmp_path);
	/* a panicking guest (with a pvpanic driver) stays, paused, as
	 * guest-panicked; a rebooting one makes QEMU exit */
	if (arch->pvpanic) {
		argv_add(a, "-device");
		argv_add(a, "%s", arch->pvpanic);
	}
	argv_add(a, "-action");
	argv_add(a, "panic=pause");
	argv_add(a, "-no-reboot");
}

/* The QEMU child: only system calls between fork and exec. */
static void __attribute__((noreturn))
qemu_child(char **argv, int null_fd, int log_fd, const struct qemu_spec *s)
{
	static const int sigs[] = { SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (s->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* into the VM's limits (docs/limits.md) before the guest runs */
	if (cg_procs_join(s->cg_fds, s->ncg_fds) || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 ||
	    dup2(log_fd, 2) < 0)
		_exit(127);
	/* only 0-2 and the taps cross exec, whoever forgot O_CLOEXEC */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3; fd < 4096; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	for (size_t i = 0; i < s->nnics; i++)
		if (fcntl(s->nics[i].tap_fd, F_SETFD, 0) < 0)
			_exit(127);
	execv(argv[0], argv);
	{
		static const char msg[] = "vtb: cannot execute QEMU\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);

		(void)w;
	}
	_exit(127);
}

/* The last non-empty line of the file at path, for error messages. */
static void log_last_line(const char *path, char *buf, size_t len)
{
	char tail[2048];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	char *end, *start;

	if (buf && len)
		buf[0] = '\0';
	if (fd < 0 || !buf || !len) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size > 0)
		n = pread(fd, tail, sizeof(tail) - 1, size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	end = tail + n;
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	start = strrchr(tail, '\n');
	start = start ? start + 1 : tail;
	n = (ssize_t)strlen(start);
	if ((size_t)n >= len)
		n = (ssize_t)len - 1;
	memcpy(buf, start, (size_t)n);
	buf[n] = '\0';
}

static int unlink_stale(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* QEMU (pid) exited: explain with the last line of its log. */
static int start_failed(const struct qemu_spec *s, int st, char *err, size_t errlen)
{
	char line[512];

	log_last_line(s->log_path, line, sizeof(line));
	util_fmt(err, errlen, "QEMU of VM %s exited at start (%s %d): %s", s->name,
		 WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
		 line[0] ? line : "(no message)");
	return -EIO;
}

static int kill_reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Wait until the process behind pidfd ends, at most timeout_ms; true
 * when it did. */
static bool pidfd_ended(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	long long deadline = util_mono_ms() + timeout_ms;

	for (;;) {
		long long left = deadline - util_mono_ms();
		int r = poll(&p, 1, left > 0 ? (int)left : 0);

		if (r < 0 && errno == EINTR)
			continue;
		return r > 0;
	}
}

/* Wait until QEMU (pid) answers on QMP, or has exited, on events: the
 * socket's directory (inotify) and QEMU's pidfd. QEMU creates its sockets
 * before it builds the machine (and fails on a missing kernel, say); its
 * QMP greeting comes from the main loop, so an answer means the guest runs
 * and both sockets exist. */
static int wait_started(const struct qemu_spec *s, pid_t pid, char *err, size_t errlen)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), st, fd, r;

	if (pidfd < 0) {
		r = -errno;
		kill_reap(pid);
		util_fmt(err, errlen, "QEMU of VM %s: pidfd_open: %s", s->name, strerror(-r));
		return r;
	}
	fd = qmp_open(s->qmp_path, QEMU_START_WAIT_MS, pidfd);
	if (fd >= 0) {
		close(fd);
		r = 0;
	} else if (fd == -ECHILD || (fd != -ETIMEDOUT && pidfd_ended(pidfd, QEMU_EXIT_GRACE_MS))) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		r = start_failed(s, st, err, errlen);
	} else if (fd != -ETIMEDOUT) {
		kill_reap(pid);
		util_fmt(err, errlen, "QEMU of VM %s does not answer on QMP: %s", s->name, strerror(-fd));
		r = -EIO;
	} else {
		kill_reap(pid);
		util_fmt(err, errlen, "QEMU of VM %s did not start within %d s", s->name,
			 QEMU_START_WAIT_MS / 1000);
		r = -ETIMEDOUT;
	}
	close(pidfd);
	return r;
}

int qemu_start(const struct qemu_spec *s, pid_t *pid, char *err, size_t errlen)
{
	const struct vm_arch *arch = s->arch ? s->arch : vm_arch_host();
	struct argv a = { 0 };
	char bin[PATH_MAX];
	int r, null_fd = -1, log_fd = -1;
	pid_t child;

	r = spec_check(s, arch, err, errlen);
	if (r)
		return r;
	r = qemu_binary(arch, bin, sizeof(bin));
	if (r) {
		util_fmt(err, errlen, "cannot find QEMU (%s%s): %s", arch->qemu,
			 arch == vm_arch_host() ? ", or $VTB_QEMU" : "", strerror(-r));
		return r;
	}
	if ((r = unlink_stale(s->console_path)) || (r = unlink_stale(s->qmp_path))) {
		util_fmt(err, errlen, "VM %s: cannot remove an old socket: %s", s->name, strerror(-r));
		return r;
	}
	build_argv(&a, bin, s, arch);
	if (a.oom) {
		r = -ENOMEM;
		goto out_argv;
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (null_fd < 0 || log_fd < 0) {
		r = -errno;
		util_fmt(err, errlen, "VM %s: %s: %s", s->name, null_fd < 0 ? "/dev/null" : s->log_path,
			 strerror(-r));
		goto out_close;
	}
	child = fork();
	if (child < 0) {
		r = -errno;
		util_fmt(err, errlen, "VM %s: fork: %s", s->name, strerror(-r));
		goto out_close;
	}
	if (child == 0)
		qemu_child(a.v, null_fd, log_fd, s);
	r = wait_started(s, child, err, errlen);
	if (r == 0)
		*pid = child;
out_close:
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
out_argv:
	argv_free(&a);
	return r;
}

/* ---- quit ---------------------------------------------------------------- */

/* Reap pid if it is our child and has ended (else nothing happens). */
static void reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, WNOHANG) < 0 && errno == EINTR)
		;
}

/* Reap pid, which has ended, if it is our child. QEMU has threads: its
 * main thread shows as a zombie (and /proc says it has ended) while the
 * others are still exiting, and it cannot be reaped before they are gone;
 * its pidfd says when they are. */
static void reap_ended(pid_t pid)
{
	int st, fd;
	pid_t w = waitpid(pid, &st, WNOHANG);

	if (w != 0)
		return; /* reaped, or not our child */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		pidfd_ended(fd, QEMU_KILL_WAIT_MS);
		close(fd);
	}
	reap(pid);
}

/* Whether pid runs a QEMU (so that a reused pid is never killed). */
static bool is_qemu(pid_t pid)
{
	char path[64], comm[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return !strncmp(comm, "qemu", 4);
}

/* Ask QEMU to quit over QMP. False when QMP does not answer: QEMU serves
 * one QMP client at a time, so a socket that another process holds
 * connects but never greets. */
static bool qmp_quit(const char *qmp_path, long long deadline)
{
	int left = (int)(deadline - util_mono_ms()), fd, r;

	fd = qemu_qmp_open(qmp_path, left < QEMU_QMP_GREET_MS ? left : QEMU_QMP_GREET_MS);
	if (fd < 0)
		return false;
	left = (int)(deadline - util_mono_ms());
	r = qemu_qmp_cmd(fd, "quit", NULL, NULL, left > 0 ? left : 0);
	close(fd);
	return r == 0 || r == -EPIPE; /* it may close before it answers */
}

int qemu_quit(const char *qmp_path, pid_t pid, int timeout_ms)
{
	long long deadline = util_mono_ms() + timeout_ms;
	uint64_t start;
	int r;

	if (pid <= 0)
		return -EINVAL;
	reap(pid);
	start = proc_start_time(pid); /* 0: gone, or a zombie */
	if (!start) {
		reap_ended(pid); /* it may have ended since the first look */
		return 0;
	}
	if (!is_qemu(pid))
		return 0; /* a pid that is not a QEMU is not ours any more */
	/* SIGTERM makes QEMU shut down as cleanly as quit does */
	if (!qmp_path || !qmp_quit(qmp_path, deadline))
		kill(pid, SIGTERM);
	r = proc_wait_gone(pid, start, (int)(deadline > util_mono_ms() ? deadline - util_mono_ms() : 0));
	if (r == -ETIMEDOUT && proc_alive(pid, start) == 1 && is_qemu(pid)) {
		kill(pid, SIGKILL);
		r = proc_wait_gone(pid, start, QEMU_KILL_WAIT_MS);
	}
	if (r != -ETIMEDOUT)
		reap_ended(pid);
	return r == -ETIMEDOUT ? -ETIMEDOUT : 0;
}
