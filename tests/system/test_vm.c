/* test_vm: real QEMU VMs booted from vtb's guest image under TCG. Needs
 * root (taps, the image cache) and qemu-system-x86_64; the image is built
 * by img_ensure when it is not cached yet (Debian's mirror must be
 * reachable then). Each tap is named vtvm<pid>..., registered for deletion
 * before it is created and deleted by the teardown; the QEMU processes are
 * killed and reaped by the teardown even when a test fails, and the last
 * test checks that none is left.
 *
 * What is tested is what a user sees: the guest's shell answers over the
 * console, the NIC is the model asked for, exit statuses come through,
 * QMP reports the run state (also a guest panic), and a VM that is killed
 * shows as a closed console and a dead QMP socket. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
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

#define MAX_VMS 8

static struct img_paths img;
static bool have_img;
static char dir[64];              /* this run's sockets, logs and initrds */
static char taps[MAX_VMS][IFNAMSIZ];
static size_t ntaps;
static pid_t pids[MAX_VMS];       /* QEMUs to kill in the teardown */
static size_t npids;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void need_vm(void)
{
	if (geteuid() != 0 || !have_img)
		skip();
}

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* A tap vtvm<pid>-<i>, registered for deletion first. The fd keeps it. */
static int mk_tap(char *name)
{
	struct ifreq ifr;
	int fd;

	assert_true(ntaps < MAX_VMS);
	snprintf(taps[ntaps], IFNAMSIZ, "vtvm%d-%zu", (int)getpid() % 100000, ntaps);
	snprintf(name, IFNAMSIZ, "%s", taps[ntaps]);
	ntaps++;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		fail_msg("TUNSETIFF %s: %s", name, strerror(errno));
	return fd;
}

static void del_taps(void)
{
	struct nl_sock *s;
	struct nl_err err;

	if (!ntaps || nl_open(&s, -1))
		return;
	for (size_t i = 0; i < ntaps; i++)
		if (nl_link_exists(s, taps[i]))
			nl_link_del(s, taps[i], &err);
	ntaps = 0;
	nl_close(s);
}

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
		char err[256];
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
	char tap[IFNAMSIZ], err[512], file[64];
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

static void test_probe_kvm(void **state)
{
	char why[512];
	double t = now();
	int r;

	(void)state;
	r = qemu_probe_kvm(300, why, sizeof(why));
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
	need_vm();
	pid = start_vm("vtbtvm1", "e1000", false, &spec, con_path, qmp_path);
	print_message("QEMU started (sockets up) in %.0f ms\n", (now() - t0) * 1e3);
	assert_int_equal(con_connect(con_path, 5000, &c), 0);
	r = con_wait_ready(c, 60000);
	if (r) {
		char tail[2048];

		con_tail(c, tail, sizeof(tail));
		fail_msg("not ready: %s; last lines: %s", strerror(-r), tail);
	}
	print_message("VM ready (prompt answers) %.2f s after qemu_start\n", now() - t0);

	util_buf_init(&out);
	exec_ok(c, "readlink /sys/class/net/eth0/device/driver", 10000, &out, &st);
	assert_int_equal(st, 0);
	assert_true(out.len > 7 && !strcmp(out.s + out.len - 7, "/e1000\n"));
	exec_ok(c, "exit 7", 10000, &out, &st);
	assert_int_equal(st, 7);
	exec_ok(c, "ip -4 addr show dev eth0 | grep -c 10.199.0.2/24", 10000, &out, &st);
	assert_string_equal(out.s, "1\n");
	exec_ok(c, "seq 1 20000 | md5sum", 30000, &out, &st);
	assert_int_equal(st, 0);
	exec_ok(c, "seq 1 3000", 30000, &out, &st); /* 13 KB through the serial port */
	assert_int_equal(out.len, 13893);
	/* a command that never ends: bounded, interrupted, the next one works */
	util_buf_free(&out);
	assert_int_equal(con_exec(c, "sleep 100", 1000, &out, &st), -ETIMEDOUT);
	exec_ok(c, "echo after", 10000, &out, &st);
	assert_string_equal(out.s, "after\n");

	qmp = qemu_qmp_open(qmp_path, 5000);
	assert_true(qmp >= 0);
	assert_int_equal(qemu_qmp_status(qmp, status, sizeof(status)), 0);
	assert_string_equal(status, "running");

	/* a panic: pvpanic tells QEMU, which pauses the guest */
	util_buf_free(&out);
	r = con_exec(c, "echo c >/proc/sysrq-trigger", 3000, &out, &st);
	assert_true(r == -ETIMEDOUT || r == -EPIPE);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(qemu_qmp_status(qmp, status, sizeof(status)), 0);
		if (!strcmp(status, "guest-panicked"))
			break;
		usleep(100000);
	}
	assert_string_equal(status, "guest-panicked");

	/* kill -9: the console closes, QMP is dead, nothing is left */
	assert_int_equal(kill(pid, SIGKILL), 0);
	util_buf_free(&out);
	r = con_exec(c, "echo hello", 5000, &out, &st);
	assert_int_equal(r, -EPIPE);
	assert_int_equal(con_wait_ready(c, 1000), -EPIPE);
	r = qemu_qmp_status(qmp, status, sizeof(status));
	assert_true(r == -EPIPE || r == -ECONNRESET);
	close(qmp);
	assert_int_equal(qemu_quit(qmp_path, pid, 1000), 0); /* reaps it */
	assert_true(access("/proc/self", F_OK) == 0);
	{
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d", (int)pid);
		assert_true(access(p, F_OK) != 0);
	}
	npids = 0;
	util_buf_free(&out);
	con_close(c);
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
	need_vm();
	pid = start_vm("vtbtvm2", "virtio", true, &spec, con_path, qmp_path);
	assert_true(strlen(con_path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, con_path, strlen(con_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	util_buf_init(&seen);
	while (!seen.s || !strstr(seen.s, "vtb-guest-ready")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_true(now() - t0 < 60);
		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		assert_true(n > 0);
		util_buf_append(&seen, buf, (size_t)n);
	}
	t_ready = now() - t0;
	util_buf_free(&seen);
	{
		struct con *c;

		assert_int_equal(con_open_fd(fd, &c), 0);
		assert_int_equal(con_wait_ready(c, 20000), 0);
		print_message("bare boot to vtb-guest-ready %.2f s, to the proxy's prompt %.2f s\n",
			      t_ready, now() - t0);
		con_close(c);
	}
	/* QEMU outlived the process that started it; it is not our child */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	/* quit while another client holds QMP: no greeting, SIGTERM instead */
	qmp = qemu_qmp_open(qmp_path, 5000);
	assert_true(qmp >= 0);
	t0 = now();
	r = qemu_quit(qmp_path, pid, 5000);
	assert_int_equal(r, 0);
	print_message("qemu_quit of a QEMU not our child, QMP held elsewhere: %.0f ms\n",
		      (now() - t0) * 1e3);
	close(qmp);
	npids = 0;
	assert_int_equal(qemu_quit(qmp_path, pid, 1000), 0); /* gone already: fine */
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
	struct con *cs[N];
	struct util_buf out;
	double t0 = now();
	int res[N], st;

	(void)state;
	need_vm();
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "vtbtp%zu", i);
		start_vm(name, models[i], false, &spec[i], con_path[i], qmp_path[i]);
	}
	for (size_t i = 0; i < N; i++)
		assert_int_equal(con_connect(con_path[i], 5000, &cs[i]), 0);
	if (con_wait_ready_many(cs, N, 120000, res)) {
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
		exec_ok(cs[i], "readlink /sys/class/net/eth0/device/driver", 60000, &out, &st);
		if (out.len < dl || strcmp(out.s + out.len - dl, drivers[i]))
			fail_msg("%s: driver %s", models[i], out.s);
	}
	util_buf_free(&out);
	for (size_t i = 0; i < N; i++) {
		con_close(cs[i]);
		assert_int_equal(qemu_quit(qmp_path[i], pids[i], 5000), 0);
	}
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
	char con_path[128], qmp_path[128], log[128], err[512];
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
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

/* Runs last: no QEMU of ours and no tap of ours is left. */
static void test_nothing_left(void **state)
{
	struct nl_sock *s;

	(void)state;
	if (geteuid() != 0)
		skip();
	kill_vms();
	del_taps();
	assert_int_equal(nl_open(&s, -1), 0);
	for (size_t i = 0; i < MAX_VMS; i++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), "vtvm%d-%zu", (int)getpid() % 100000, i);
		assert_false(nl_link_exists(s, name));
	}
	nl_close(s);
	/* no process holds our sockets: connecting to them fails */
	for (size_t i = 1; i <= 2; i++) {
		char p[128], f[32];

		snprintf(f, sizeof(f), "vtbtvm%zu.qmp", i);
		path_in(p, sizeof(p), f);
		assert_true(qemu_qmp_open(p, 100) < 0);
	}
}

static int teardown(void **state)
{
	(void)state;
	kill_vms();
	del_taps();
	return 0;
}

static int group_setup(void **state)
{
	char err[512];
	int r;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/vtbtest-vm-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (geteuid() != 0) {
		print_message("test_vm: not root, VM tests skipped\n");
		return 0;
	}
	r = img_ensure(NULL, false, NULL, NULL, &img, err, sizeof(err));
	if (r) {
		print_message("test_vm: no guest image (%s): VM tests skipped\n", err);
		return 0;
	}
	have_img = true;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	kill_vms();
	del_taps();
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
		cmocka_unit_test(test_nothing_left),
	};

	return cmocka_run_group_tests_name("vm", tests, group_setup, group_teardown);
}
