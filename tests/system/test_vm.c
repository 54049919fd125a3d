/* test_vm: real QEMU VMs booted from vtb's guest image under TCG. Needs
 * root (taps, the image cache) and qemu-system-x86_64; the image is built
 * by img_ensure when it is not cached yet (Debian's mirror must be
 * reachable then). Without root or without an image the suite fails: a VM
 * suite that skips proves nothing. Each tap is named vtvm<pid>-N and lives
 * as long as its QEMU holds it. Each test stops its VMs the way vtb does
 * (qemu_quit); the teardown of a test that failed midway kills the QEMUs
 * it left. test_nothing_left then looks, before any cleanup of its own,
 * for a QEMU, a tap or a live socket of this run; test_safety_cleanup
 * removes what it finds after that, and fails if there was anything.
 *
 * What is tested is what a user sees: the guest's shell answers over the
 * console, the NIC is the model asked for, exit statuses come through,
 * QMP reports the run state (also a guest panic), and a VM that is killed
 * shows as a closed console and a dead QMP socket. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "image.h"
#include "nl.h"
#include "qemu.h"
#include "util.h"

#define MAX_VMS 12

/* The waits of these tests. TCG runs a guest about ten times slower than
 * KVM, and under ASan on a shared two-core machine several times slower
 * again: each limit is a few times what the tests print on such a host. */
#define SOCKET_WAIT_MS 5000      /* QEMU's console and QMP sockets: up within a second */
#define BOOT_WAIT_MS 60000       /* one TCG guest to its prompt: about 10 s */
#define BOOT_MANY_WAIT_MS 120000 /* four TCG guests at once on two cores */
#define RAW_BOOT_S 60            /* to "vtb-guest-ready" on the raw console */
#define PROMPT_WAIT_MS 20000     /* from "vtb-guest-ready" to the proxy's prompt */
#define CMD_WAIT_MS 10000        /* a short command in the guest */
#define LONG_CMD_WAIT_MS 30000   /* tens of KB through the emulated serial port */
#define BUSY_CMD_WAIT_MS 60000   /* a command in one of four TCG guests on two cores */
#define HANG_WAIT_MS 1000        /* a command that never ends: when con_exec gives up */
#define PANIC_EXEC_MS 3000       /* sysrq-c: the shell never answers, the console may close */
#define PANIC_WAIT_MS 5000       /* from the panic to QMP's guest-panicked */
#define QUIT_WAIT_MS 5000        /* QMP quit, then SIGKILL after this */
#define GONE_WAIT_MS 1000        /* a QEMU that is dead already: reap, or a closed socket */
#define KVM_PROBE_MS 300         /* qemu_probe_kvm's own limit; the test wants under 1 s */
#define FLOOD_S 3.0               /* Ctrl-Cs from "vtb-guest-ready" on: init starts the shell */
#define FLOOD_EVERY_MS 2          /* one Ctrl-C per VM this often during the flood */
#define FLOOD_KEEP 32             /* bytes kept between reads: a marker split across two */
#define READ_WAIT_MS 1000        /* one poll of the raw console; the loop has RAW_BOOT_S */

static struct img_paths img;
static char dir[64];              /* this run's sockets, logs and initrds */
static size_t ntaps;               /* taps made: vtvm<pid>-0 .. -(ntaps-1) */
static pid_t pids[MAX_VMS];       /* QEMUs a test has not stopped (yet) */
static size_t npids;
static struct con *cons[MAX_VMS]; /* consoles a test has not closed (yet) */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void tap_name(char *name, size_t i)
{
	snprintf(name, IFNAMSIZ, "vtvm%d-%zu", (int)getpid() % 100000, i);
}

/* A new tap vtvm<pid>-<i>. It lives while a descriptor holds it: ours
 * until QEMU has its copy, then QEMU's. */
static int mk_tap(char *name)
{
	struct ifreq ifr;
	int fd;

	assert_true(ntaps < MAX_VMS);
	tap_name(name, ntaps++);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		fail_msg("TUNSETIFF %s: %s", name, strerror(errno));
	return fd;
}

/* Close the consoles in cons (a test that failed left them open). */
static void close_cons(void)
{
	for (size_t i = 0; i < MAX_VMS; i++) {
		con_close(cons[i]);
		cons[i] = NULL;
	}
}

/* Kill the QEMUs a test left running (it failed before it stopped them). */
static void kill_vms(void)
{
	for (size_t i = 0; i < npids; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	npids = 0;
}

/* qemu_start in a child process that exits right after, as `vtb up`
 * does: QEMU must live on, and is then not our child. */
static int start_detached(const struct qemu_spec *spec, pid_t *pid, char *err, size_t errlen)
{
	struct {
		int r;
		pid_t pid;
		char err[UTIL_ERR_LEN];
	} res = { .r = -EIO };
	int p[2], st;
	pid_t helper;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		res.r = qemu_start(spec, &res.pid, res.err, sizeof(res.err));
		_exit(write(p[1], &res, sizeof(res)) == (ssize_t)sizeof(res) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &res, sizeof(res)) != (ssize_t)sizeof(res))
		res.r = -EIO;
	close(p[0]);
	waitpid(helper, &st, 0);
	*pid = res.pid;
	snprintf(err, errlen, "%s", res.err);
	return res.r;
}

/* Start a VM named name with one NIC of model on a new tap, booting the
 * image with an /etc/vtb.conf naming the NIC eth0. */
static pid_t start_vm(const char *name, const char *model, bool detached, struct qemu_spec *spec,
		      char *con_path, char *qmp_path)
{
	static char log[MAX_VMS][128], initrd[MAX_VMS][128];
	static struct qemu_nic nic[MAX_VMS];
	static struct img_if ifs[MAX_VMS];
	struct img_vm_conf conf = { .nifs = 1 };
	char tap[IFNAMSIZ], err[UTIL_ERR_LEN], file[64];
	size_t k = npids;
	pid_t pid;
	int r;

	assert_true(k < MAX_VMS);
	memset(&ifs[k], 0, sizeof(ifs[k]));
	snprintf(ifs[k].name, sizeof(ifs[k].name), "eth0");
	memcpy(ifs[k].mac, (unsigned char[]){ 0x52, 0x54, 0x00, 0x76, 0x74, (unsigned char)k }, 6);
	snprintf(ifs[k].v4, sizeof(ifs[k].v4), "10.199.%zu.2/24", k);
	snprintf(conf.hostname, sizeof(conf.hostname), "%s", name);
	conf.ifs = &ifs[k];
	snprintf(file, sizeof(file), "%s.initrd", name);
	path_in(initrd[k], sizeof(initrd[k]), file);
	assert_int_equal(img_write_vm_initrd(img.initrd, &conf, initrd[k]), 0);

	nic[k].model = model;
	memcpy(nic[k].mac, ifs[k].mac, 6);
	nic[k].tap_fd = mk_tap(tap);
	snprintf(file, sizeof(file), "%s.console", name);
	path_in(con_path, 128, file);
	snprintf(file, sizeof(file), "%s.qmp", name);
	path_in(qmp_path, 128, file);
	snprintf(file, sizeof(file), "%s.log", name);
	path_in(log[k], sizeof(log[k]), file);
	*spec = (struct qemu_spec){
		.name = name, .kernel = img.kernel, .initrd = initrd[k], .cmdline = img_cmdline(),
		.cores = 1, .memory_mib = 256, .accel = QEMU_TCG, .nics = &nic[k], .nnics = 1,
		.console_path = con_path, .qmp_path = qmp_path, .log_path = log[k],
	};
	if (detached) {
		r = start_detached(spec, &pid, err, sizeof(err));
	} else {
		r = qemu_start(spec, &pid, err, sizeof(err));
	}
	close(nic[k].tap_fd); /* QEMU has its own copy now */
	if (r)
		fail_msg("qemu_start: %s (%s)", strerror(-r), err);
	pids[npids++] = pid;
	return pid;
}

static void exec_ok(struct con *c, const char *cmd, int timeout_ms, struct util_buf *out, int *st)
{
	int r;

	util_buf_free(out);
	r = con_exec(c, cmd, timeout_ms, out, st);
	if (r) {
		char tail[1024];

		con_tail(c, tail, sizeof(tail));
		fail_msg("con_exec(%s): %s; console: %s", cmd, strerror(-r), tail);
	}
}

/* Wait until QMP on qmp reports run state want, at most timeout_ms.
 * QEMU sends an event at every run state change, and qemu_qmp_status
 * leaves what follows its answer unread: between two looks this waits on
 * the socket for the next event. */
static void wait_status(int qmp, const char *want, int timeout_ms)
{
	double deadline = now() + timeout_ms / 1e3;
	char status[64];

	for (;;) {
		struct pollfd p = { .fd = qmp, .events = POLLIN };
		double left;

		assert_int_equal(qemu_qmp_status(qmp, status, sizeof(status)), 0);
		if (!strcmp(status, want))
			return;
		left = deadline - now();
		if (left <= 0)
			fail_msg("QMP run state '%s', not '%s', after %d ms", status, want, timeout_ms);
		assert_true(poll(&p, 1, (int)(left * 1e3) + 1) >= 0 || errno == EINTR);
	}
}

static void test_probe_kvm(void **state)
{
	char why[UTIL_ERR_LEN];
	double t = now();
	int r;

	(void)state;
	r = qemu_probe_kvm(KVM_PROBE_MS, why, sizeof(why));
	t = now() - t;
	print_message("qemu_probe_kvm: %d in %.0f ms: %s\n", r, t * 1e3, why);
	assert_true(r == 0 || r == 1);
	assert_true(t < 1.0);
	/* this machine's /dev/kvm (the PVM module) cannot run a stock kernel */
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		assert_int_equal(r, 0);
}

/* The main path: boot, shell, NIC model, status, QMP, panic, kill -9. */
static void test_boot_exec_kill(void **state)
{
	struct qemu_spec spec;
	char con_path[128], qmp_path[128], status[64];
	struct util_buf out;
	struct con *c;
	double t0 = now();
	int r, st = -1, qmp;
	pid_t pid;

	(void)state;
	pid = start_vm("vtbtvm1", "e1000", false, &spec, con_path, qmp_path);
	print_message("QEMU started (sockets up) in %.0f ms\n", (now() - t0) * 1e3);
	assert_int_equal(con_connect(con_path, SOCKET_WAIT_MS, &cons[0]), 0);
	c = cons[0];
	r = con_wait_ready(c, BOOT_WAIT_MS);
	if (r) {
		char tail[2048];

		con_tail(c, tail, sizeof(tail));
		fail_msg("not ready: %s; last lines: %s", strerror(-r), tail);
	}
	print_message("VM ready (prompt answers) %.2f s after qemu_start\n", now() - t0);

	util_buf_init(&out);
	exec_ok(c, "readlink /sys/class/net/eth0/device/driver", CMD_WAIT_MS, &out, &st);
	assert_int_equal(st, 0);
	assert_true(out.len > 7 && !strcmp(out.s + out.len - 7, "/e1000\n"));
	exec_ok(c, "exit 7", CMD_WAIT_MS, &out, &st);
	assert_int_equal(st, 7);
	exec_ok(c, "ip -4 addr show dev eth0 | grep -c 10.199.0.2/24", CMD_WAIT_MS, &out, &st);
	assert_string_equal(out.s, "1\n");
	exec_ok(c, "seq 1 20000 | md5sum", LONG_CMD_WAIT_MS, &out, &st);
	assert_int_equal(st, 0);
	exec_ok(c, "seq 1 3000", LONG_CMD_WAIT_MS, &out, &st); /* 13 KB through the serial port */
	assert_int_equal(out.len, 13893);
	/* a command that never ends: bounded, interrupted, the next one works */
	util_buf_free(&out);
	assert_int_equal(con_exec(c, "sleep 100", HANG_WAIT_MS, &out, &st), -ETIMEDOUT);
	exec_ok(c, "echo after", CMD_WAIT_MS, &out, &st);
	assert_string_equal(out.s, "after\n");

	qmp = qemu_qmp_open(qmp_path, SOCKET_WAIT_MS);
	assert_true(qmp >= 0);
	assert_int_equal(qemu_qmp_status(qmp, status, sizeof(status)), 0);
	assert_string_equal(status, "running");

	/* a panic: pvpanic tells QEMU, which pauses the guest */
	util_buf_free(&out);
	r = con_exec(c, "echo c >/proc/sysrq-trigger", PANIC_EXEC_MS, &out, &st);
	assert_true(r == -ETIMEDOUT || r == -EPIPE);
	wait_status(qmp, "guest-panicked", PANIC_WAIT_MS);

	/* kill -9: the console closes, QMP is dead, nothing is left */
	assert_int_equal(kill(pid, SIGKILL), 0);
	util_buf_free(&out);
	r = con_exec(c, "echo hello", CMD_WAIT_MS, &out, &st);
	assert_int_equal(r, -EPIPE);
	assert_int_equal(con_wait_ready(c, GONE_WAIT_MS), -EPIPE);
	r = qemu_qmp_status(qmp, status, sizeof(status));
	assert_true(r == -EPIPE || r == -ECONNRESET);
	close(qmp);
	assert_int_equal(qemu_quit(qmp_path, pid, GONE_WAIT_MS), 0); /* reaps it */
	assert_true(access("/proc/self", F_OK) == 0);
	{
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d", (int)pid);
		assert_true(access(p, F_OK) != 0);
	}
	npids = 0;
	util_buf_free(&out);
	close_cons();
}

/* Boot to "vtb-guest-ready" on the raw console vs to the answering prompt
 * through the proxy, and the QMP quit path. */
static void test_boot_time_and_quit(void **state)
{
	struct qemu_spec spec;
	char con_path[128], qmp_path[128], buf[4096];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct util_buf seen;
	double t0 = now(), t_ready;
	int fd, r, qmp;
	pid_t pid;

	(void)state;
	pid = start_vm("vtbtvm2", "virtio", true, &spec, con_path, qmp_path);
	assert_true(strlen(con_path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, con_path, strlen(con_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	util_buf_init(&seen);
	while (!seen.s || !strstr(seen.s, "vtb-guest-ready")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_true(now() - t0 < RAW_BOOT_S);
		if (poll(&p, 1, READ_WAIT_MS) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		assert_true(n > 0);
		util_buf_append(&seen, buf, (size_t)n);
	}
	t_ready = now() - t0;
	util_buf_free(&seen);
	{
		struct con *c;

		assert_int_equal(con_open_fd(fd, &cons[0]), 0);
		c = cons[0];
		assert_int_equal(con_wait_ready(c, PROMPT_WAIT_MS), 0);
		print_message("bare boot to vtb-guest-ready %.2f s, to the proxy's prompt %.2f s\n",
			      t_ready, now() - t0);
		close_cons();
	}
	/* QEMU outlived the process that started it; it is not our child */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	/* quit while another client holds QMP: no greeting, SIGTERM instead */
	qmp = qemu_qmp_open(qmp_path, SOCKET_WAIT_MS);
	assert_true(qmp >= 0);
	t0 = now();
	r = qemu_quit(qmp_path, pid, QUIT_WAIT_MS);
	assert_int_equal(r, 0);
	print_message("qemu_quit of a QEMU not our child, QMP held elsewhere: %.0f ms\n",
		      (now() - t0) * 1e3);
	close(qmp);
	npids = 0;
	assert_int_equal(qemu_quit(qmp_path, pid, GONE_WAIT_MS), 0); /* gone already: fine */
}

/* Several VMs boot at once, one per other NIC model; each gets the
 * driver of its model. */
static void test_parallel_boot(void **state)
{
	static const char *const models[] = { "virtio", "e1000e", "rtl8139", "vmxnet3" };
	static const char *const drivers[] = { "/virtio_net\n", "/e1000e\n", "/8139cp\n", "/vmxnet3\n" };
	enum { N = UTIL_ARRAY_SIZE(models) };
	struct qemu_spec spec[N];
	char con_path[N][128], qmp_path[N][128], name[32];
	struct con **cs = cons;
	struct util_buf out;
	double t0 = now();
	int res[N], st;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "vtbtp%zu", i);
		start_vm(name, models[i], false, &spec[i], con_path[i], qmp_path[i]);
	}
	for (size_t i = 0; i < N; i++)
		assert_int_equal(con_connect(con_path[i], SOCKET_WAIT_MS, &cs[i]), 0);
	if (con_wait_ready_many(cs, N, BOOT_MANY_WAIT_MS, res)) {
		for (size_t i = 0; i < N; i++) {
			char tail[1024];

			con_tail(cs[i], tail, sizeof(tail));
			if (res[i])
				print_message("VM %zu (%s): %s; last lines: %s\n", i, models[i],
					      strerror(-res[i]), tail);
		}
		fail();
	}
	print_message("%d VMs ready in %.2f s\n", (int)N, now() - t0);
	util_buf_init(&out);
	for (size_t i = 0; i < N; i++) {
		size_t dl = strlen(drivers[i]);

		/* four TCG guests on two cores (under ASan too): be patient */
		exec_ok(cs[i], "readlink /sys/class/net/eth0/device/driver", BUSY_CMD_WAIT_MS, &out, &st);
		if (out.len < dl || strcmp(out.s + out.len - dl, drivers[i]))
			fail_msg("%s: driver %s", models[i], out.s);
	}
	util_buf_free(&out);
	close_cons();
	for (size_t i = 0; i < N; i++)
		assert_int_equal(qemu_quit(qmp_path[i], pids[i], QUIT_WAIT_MS), 0);
	npids = 0;
}

/* Where one console of flood_ctrl_c stands. */
struct flood {
	char seen[FLOOD_KEEP + 4096]; /* the last bytes read, then this read */
	size_t kept;
	double since;                 /* when the flood began (0: not yet) */
	bool done;
};

/* Read the raw consoles of cs (the proxy does not see these bytes) until
 * each guest printed "vtb-guest-ready", then send each a Ctrl-C every
 * FLOOD_EVERY_MS for FLOOD_S: the moment init starts the console's shell,
 * when vtb's pokes used to be able to leave init blocked for good. */
static void flood_ctrl_c(struct con *const *cs, size_t n)
{
	static struct flood f[MAX_VMS];
	double deadline = now() + RAW_BOOT_S;
	size_t left = n;

	memset(f, 0, sizeof(f));
	while (left && now() < deadline) {
		for (size_t i = 0; i < n; i++) {
			ssize_t r;

			if (f[i].done)
				continue;
			while ((r = read(con_fd(cs[i]), f[i].seen + f[i].kept, 4096)) > 0) {
				size_t len = f[i].kept + (size_t)r;

				if (!f[i].since && memmem(f[i].seen, len, "vtb-guest-ready", 15))
					f[i].since = now();
				f[i].kept = len < FLOOD_KEEP ? len : FLOOD_KEEP;
				memmove(f[i].seen, f[i].seen + len - f[i].kept, f[i].kept);
			}
			if (f[i].since && write(con_fd(cs[i]), "\003", 1) != 1 && errno != EAGAIN)
				fail_msg("VM %zu: the console closed during the flood", i);
			if (f[i].since && now() - f[i].since > FLOOD_S) {
				f[i].done = true;
				left--;
			}
		}
		poll(NULL, 0, FLOOD_EVERY_MS);
	}
	if (left)
		fail_msg("%zu of %zu VMs never printed vtb-guest-ready", left, n);
}

/* Ctrl-Cs while init starts the shell cost the shell's start at most,
 * never the console: the guest image's inittab starts the shell through
 * cttyhack (vm/image_guest.c). With the shell named on ttyS0 in inittab,
 * one such boot in three or four left init blocked on a lock for good. */
static void test_ctrl_c_at_boot(void **state)
{
	enum { N = 3 };
	struct qemu_spec spec[N];
	char con_path[N][128], qmp_path[N][128], name[32];
	struct con **cs = cons;
	int res[N];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "vtbcc%zu", i);
		start_vm(name, "virtio", false, &spec[i], con_path[i], qmp_path[i]);
	}
	for (size_t i = 0; i < N; i++)
		assert_int_equal(con_connect(con_path[i], SOCKET_WAIT_MS, &cs[i]), 0);
	flood_ctrl_c(cs, N);
	if (con_wait_ready_many(cs, N, PROMPT_WAIT_MS, res)) {
		for (size_t i = 0; i < N; i++) {
			char tail[1024];
			unsigned pokes;

			con_tail_guest(cs[i], tail, sizeof(tail), &pokes);
			if (res[i])
				print_message("VM %zu: no shell after the Ctrl-Cs: %s; last lines: %s\n", i,
					      strerror(-res[i]), tail);
		}
		fail();
	}
	close_cons();
	for (size_t i = 0; i < N; i++)
		assert_int_equal(qemu_quit(qmp_path[i], pids[i], QUIT_WAIT_MS), 0);
	npids = 0;
}

/* Failures are explained. */
static void test_start_errors(void **state)
{
	struct qemu_nic nic = { .model = "ne2k", .tap_fd = 99 };
	struct qemu_spec spec = {
		.name = "vtbtbad", .kernel = "/nonexistent/vmlinuz", .cmdline = "console=ttyS0",
		.cores = 1, .memory_mib = 128, .accel = QEMU_TCG, .nics = &nic, .nnics = 1,
	};
	char con_path[128], qmp_path[128], log[128], err[UTIL_ERR_LEN];
	pid_t pid;

	(void)state;
	path_in(con_path, sizeof(con_path), "bad.console");
	path_in(qmp_path, sizeof(qmp_path), "bad.qmp");
	path_in(log, sizeof(log), "bad.log");
	spec.console_path = con_path;
	spec.qmp_path = qmp_path;
	spec.log_path = log;
	assert_int_equal(qemu_start(&spec, &pid, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ne2k"));
	spec.nnics = 0;
	assert_int_equal(qemu_start(&spec, &pid, err, sizeof(err)), -EIO);
	print_message("QEMU with a missing kernel: %s\n", err);
	assert_non_null(strstr(err, "/nonexistent/vmlinuz"));
	assert_null(qemu_nic_device("ne2k"));
	assert_string_equal(qemu_nic_device("virtio"), "virtio-net-pci");
	assert_string_equal(qemu_nic_device("rtl8139"), "rtl8139");
}

/* Does a process accept connections on the unix socket at path? */
static bool socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool live;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return live;
}

/* Count this run's sockets (in dir) that a process still serves. */
static size_t live_sockets(char *list, size_t len)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char p[sizeof(dir) + sizeof(e->d_name)];

		if (!strstr(e->d_name, ".qmp") && !strstr(e->d_name, ".console"))
			continue;
		path_in(p, sizeof(p), e->d_name);
		if (socket_live(p)) {
			n++;
			snprintf(list + strlen(list), len - strlen(list), " socket %s;", p);
		}
	}
	closedir(d);
	return n;
}

/* Count the processes whose command line names this run's folder (the
 * QEMUs of these tests); with kill_them, SIGKILL each. A zombie has an
 * empty command line: it has ended. */
static size_t run_processes(bool kill_them, char *list, size_t len)
{
	char path[64], cmd[8192];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	d = opendir("/proc");
	assert_non_null(d);
	while ((e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		ssize_t got;
		int fd;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		got = read(fd, cmd, sizeof(cmd));
		close(fd);
		if (got <= 0 || !memmem(cmd, (size_t)got, dir, strlen(dir)))
			continue;
		n++;
		snprintf(list + strlen(list), len - strlen(list), " process %d (%s);", (int)pid, cmd);
		if (kill_them) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0); /* when it is our child */
		}
	}
	closedir(d);
	return n;
}

/* Count the taps of this run that exist; with del_them, delete each. */
static size_t run_taps(bool del_them, char *list, size_t len)
{
	struct nl_sock *s = NULL;
	struct nl_err err;
	size_t n = 0;

	if (del_them)
		assert_int_equal(nl_open(&s, -1), 0);
	for (size_t i = 0; i < MAX_VMS; i++) {
		char name[IFNAMSIZ];

		tap_name(name, i);
		if (!if_nametoindex(name))
			continue;
		n++;
		snprintf(list + strlen(list), len - strlen(list), " tap %s;", name);
		if (del_them)
			nl_link_del(s, name, &err);
	}
	if (s)
		nl_close(s);
	return n;
}

/* Next to last: after the tests stopped their VMs as vtb does, no QEMU of
 * this run, no tap of it and no socket that answers is left. Nothing is
 * cleaned up before the look. */
static void test_nothing_left(void **state)
{
	char list[4096] = "";
	size_t n;

	(void)state;
	n = live_sockets(list, sizeof(list));
	n += run_processes(false, list, sizeof(list));
	n += run_taps(false, list, sizeof(list));
	if (n)
		fail_msg("%zu left after the VMs were stopped:%s", n, list);
}

/* Last: the safety net after the look. Removes whatever this run left
 * (QEMUs, then taps) and fails when there was anything to remove. */
static void test_safety_cleanup(void **state)
{
	char list[4096] = "";
	size_t n;

	(void)state;
	kill_vms();
	n = run_processes(true, list, sizeof(list));
	n += run_taps(true, list, sizeof(list));
	if (n)
		fail_msg("the safety cleanup had to remove %zu:%s", n, list);
}

/* After each test that starts VMs: close the consoles and kill the QEMUs
 * a failed test left (a test that passes has stopped its VMs itself). */
static int teardown(void **state)
{
	(void)state;
	close_cons();
	kill_vms();
	return 0;
}

/* Root and a guest image, or the suite fails: without them it would test
 * nothing. */
static int group_setup(void **state)
{
	char err[UTIL_ERR_LEN];
	int r;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0) {
		print_error("test_vm: needs root (taps, the image cache)\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "/tmp/vtbtest-vm-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	r = img_ensure(NULL, false, NULL, NULL, &img, err, sizeof(err));
	if (r) {
		print_error("test_vm: cannot build the guest image: %s (%s)\n", strerror(-r), err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	kill_vms();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_kvm),
		cmocka_unit_test_teardown(test_start_errors, teardown),
		cmocka_unit_test_teardown(test_boot_exec_kill, teardown),
		cmocka_unit_test_teardown(test_boot_time_and_quit, teardown),
		cmocka_unit_test_teardown(test_parallel_boot, teardown),
		cmocka_unit_test_teardown(test_ctrl_c_at_boot, teardown),
		cmocka_unit_test(test_nothing_left),
		cmocka_unit_test(test_safety_cleanup),
	};

	return cmocka_run_group_tests_name("vm", tests, group_setup, group_teardown);
}
