/* test_image: the guest image, built for real and booted. Needs root, apt
 * and Debian's mirror (the first run downloads the kernel package) and
 * qemu-system-x86_64. Uses the default cache, /var/cache/vtb/images: the
 * first run builds the image, later runs find it. What is tested is what
 * the VM code relies on: the cache (a hit changes nothing and is fast;
 * --force replaces the image in one step and sweeps what a crashed build
 * left), and a TCG boot with two NICs of different models that reaches
 * "vtb-guest-ready" and answers on its serial console with the configured
 * names, drivers and addresses. QEMU's NICs sit on hubs of their own
 * (-netdev hubport): nothing leaves the VM. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image.h"

#define READY_TIMEOUT 30.0 /* seconds to "vtb-guest-ready" under TCG */
#define CMD_TIMEOUT 15.0

static char dir[64];          /* this run's files */
static pid_t qemu = -1;
static struct img_paths paths;
static bool have_paths;
static char con[256 << 10];   /* console output so far */
static size_t ncon;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void stop_qemu(void)
{
	if (qemu > 0) {
		kill(qemu, SIGKILL);
		waitpid(qemu, NULL, 0);
		qemu = -1;
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_image needs root\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "/tmp/vtbimgtest.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	stop_qemu();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static void count_step(void *arg, const char *step)
{
	int *steps = arg;

	(*steps)++;
	print_message("  image: %s\n", step);
}

static void ensure(bool force, int *steps, double *secs)
{
	char err[512] = "";
	int r;
	double t0 = now();

	*steps = 0;
	r = img_ensure(NULL, force, count_step, steps, &paths, err, sizeof(err));
	*secs = now() - t0;
	if (r)
		fail_msg("img_ensure: %s (%s)", strerror(-r), err);
	have_paths = true;
}

static struct timespec mtime_of(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		fail_msg("%s: %s", path, strerror(errno));
	return st.st_mtim;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static off_t size_of(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		fail_msg("%s: %s", path, strerror(errno));
	return st.st_size;
}

static void test_ensure(void **state)
{
	double secs;
	int steps;
	size_t i;

	(void)state;
	ensure(false, &steps, &secs);
	print_message("  img_ensure: %s in %.2f s; kernel %s (%lld bytes), initrd %lld bytes\n",
		      steps ? "built" : "found", secs, paths.kernel_version,
		      (long long)size_of(paths.kernel), (long long)size_of(paths.initrd));
	assert_int_equal(strlen(paths.key), 16);
	for (i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", paths.key[i]));
	assert_non_null(strstr(paths.kernel, paths.key));
	assert_non_null(strstr(paths.initrd, "/initrd.img"));
	assert_true(paths.kernel_version[0] != '\0');
}

static void test_cache_hit(void **state)
{
	struct img_paths before;
	struct timespec k, i;
	double secs;
	int steps;

	(void)state;
	if (!have_paths)
		skip();
	before = paths;
	k = mtime_of(before.kernel);
	i = mtime_of(before.initrd);
	ensure(false, &steps, &secs);
	print_message("  cache hit in %.4f s\n", secs);
	assert_int_equal(steps, 0);
	assert_string_equal(paths.kernel, before.kernel);
	assert_string_equal(paths.initrd, before.initrd);
	assert_string_equal(paths.key, before.key);
	assert_true(same_time(k, mtime_of(paths.kernel)));
	assert_true(same_time(i, mtime_of(paths.initrd)));
	assert_true(secs < 1.0);
}

/* True when the cache has an entry named .tmp-*. */
static bool has_tmp(const char *cache)
{
	struct dirent *d;
	bool found = false;
	DIR *dh = opendir(cache);

	assert_non_null(dh);
	while ((d = readdir(dh)))
		if (!strncmp(d->d_name, ".tmp-", 5))
			found = true;
	closedir(dh);
	return found;
}

static void test_force(void **state)
{
	char crashed[600], key[17];
	struct timespec i;
	double secs;
	int steps;

	(void)state;
	if (!have_paths)
		skip();
	/* what a build killed halfway leaves */
	snprintf(crashed, sizeof(crashed), "%s/.tmp-%s-crashed", IMG_CACHE_DIR, paths.key);
	assert_int_equal(mkdir(crashed, 0755), 0);
	snprintf(key, sizeof(key), "%s", paths.key);
	i = mtime_of(paths.initrd);
	ensure(true, &steps, &secs);
	print_message("  forced rebuild in %.2f s\n", secs);
	assert_true(steps > 0);
	assert_string_equal(paths.key, key);
	assert_false(same_time(i, mtime_of(paths.initrd)));
	assert_false(has_tmp(IMG_CACHE_DIR));
}

/* Read the console until needle appears after offset from, or timeout.
 * Returns the offset of needle or -1. */
static long wait_for(int fd, size_t from, const char *needle, double timeout)
{
	double end = now() + timeout;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	char *hit;

	for (;;) {
		con[ncon] = '\0';
		hit = strstr(con + from, needle);
		if (hit)
			return hit - con;
		if (now() > end || ncon + 1 >= sizeof(con))
			return -1;
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, con + ncon, sizeof(con) - 1 - ncon);
		if (n <= 0)
			return -1;
		/* NULs would end the strstr early */
		for (ssize_t j = 0; j < n; j++)
			if (!con[ncon + j])
				con[ncon + j] = ' ';
		ncon += (size_t)n;
	}
}

static void start_qemu(const char *initrd, const char *sock, const char *log)
{
	char append[512], dev0[128], dev1[128];
	const char *argv[] = {
		"qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none",
		"-machine", "q35", "-accel", "tcg", "-cpu", "max", "-m", "256", "-no-reboot",
		"-kernel", paths.kernel, "-initrd", initrd, "-append", append,
		"-chardev", NULL, "-serial", "chardev:con",
		/* virtio first on the bus: the guest's naming must not matter */
		"-netdev", "hubport,id=n1,hubid=1", "-device", dev1,
		"-netdev", "hubport,id=n0,hubid=0", "-device", dev0, NULL
	};
	char chardev[400];
	int fd;

	snprintf(append, sizeof(append), "%s", img_cmdline());
	snprintf(chardev, sizeof(chardev), "socket,id=con,path=%s,server=on,wait=on", sock);
	argv[21] = chardev;
	snprintf(dev0, sizeof(dev0), "e1000,netdev=n0,mac=52:54:00:77:00:01,romfile=");
	snprintf(dev1, sizeof(dev1), "virtio-net-pci,netdev=n1,mac=52:54:00:77:00:02,romfile=");
	qemu = fork();
	assert_true(qemu >= 0);
	if (qemu == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
}

static int connect_console(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double end = now() + 10;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	while (now() < end) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (waitpid(qemu, NULL, WNOHANG) == qemu) {
			qemu = -1;
			fail_msg("QEMU exited before its console was up");
		}
		usleep(20000);
	}
	fail_msg("no console socket at %s", path);
	return -1;
}

static void expect_in(const char *text, const char *needle, const char *what)
{
	if (!strstr(text, needle))
		fail_msg("%s: no '%s' in the console output:\n%s", what, needle, text);
}

static void test_boot(void **state)
{
	static const struct img_if ifs[] = {
		{ .name = "eth0", .mac = { 0x52, 0x54, 0, 0x77, 0, 1 }, .v4 = "10.77.0.1/24",
		  .v6 = "fd77::1/64", .mtu = 1400 },
		{ .name = "eth1", .mac = { 0x52, 0x54, 0, 0x77, 0, 2 }, .v4 = "10.77.1.1/24" },
	};
	static const struct img_route routes[] = { { "default", "10.77.0.254" } };
	struct img_vm_conf c = { .hostname = "imgtest", .ifs = ifs, .nifs = 2, .routes = routes,
				 .nroutes = 1, .forwarding = true };
	static const char cmds[] =
		"stty -echo && echo stty-ok; readlink /sys/class/net/eth0/device/driver; "
		"readlink /sys/class/net/eth1/device/driver; ip -o addr show eth0; "
		"ip -o link show eth0; ip route; hostname; cat /proc/sys/net/ipv4/ip_forward; "
		"echo __vtb\"\"done__\n";
	char initrd[128], sock[100], log[128];
	double t0, t1, secs;
	long ready, done;
	int fd;

	(void)state;
	if (!have_paths)
		skip();
	snprintf(initrd, sizeof(initrd), "%s/vm.img", dir);
	snprintf(sock, sizeof(sock), "%s/console.sock", dir);
	snprintf(log, sizeof(log), "%s/qemu.log", dir);
	t0 = now();
	assert_int_equal(img_write_vm_initrd(paths.initrd, &c, initrd), 0);
	secs = now() - t0;
	print_message("  per-VM initrd (%lld bytes) in %.4f s\n", (long long)size_of(initrd), secs);

	t0 = now();
	start_qemu(initrd, sock, log);
	fd = connect_console(sock);
	ready = wait_for(fd, 0, "vtb-guest-ready", READY_TIMEOUT);
	t1 = now();
	if (ready < 0)
		fail_msg("no vtb-guest-ready within %.0f s; console:\n%s", READY_TIMEOUT, con);
	print_message("  TCG boot to vtb-guest-ready: %.2f s\n", t1 - t0);
	if (strstr(con, "vtb-guest-warning"))
		fail_msg("the guest warned:\n%s", con);

	assert_int_equal(write(fd, cmds, strlen(cmds)), (ssize_t)strlen(cmds));
	done = wait_for(fd, (size_t)ready, "__vtbdone__", CMD_TIMEOUT);
	if (done < 0)
		fail_msg("the shell did not answer within %.0f s; console:\n%s", CMD_TIMEOUT, con);
	print_message("  the shell answered in %.2f s\n", now() - t1);
	con[done] = '\0';
	{
		const char *out = con + ready;

		expect_in(out, "stty-ok", "stty");
		expect_in(out, "/drivers/e1000\r\n", "eth0 is the e1000 NIC");
		expect_in(out, "/drivers/virtio_net\r\n", "eth1 is the virtio NIC");
		expect_in(out, "inet 10.77.0.1/24", "eth0's IPv4 address");
		expect_in(out, "inet6 fd77::1/64", "eth0's IPv6 address");
		expect_in(out, "mtu 1400", "eth0's MTU");
		expect_in(out, "default via 10.77.0.254 dev eth0", "the default route");
		expect_in(out, "\nimgtest\r\n", "the hostname");
		expect_in(out, "\n1\r\n", "IPv4 forwarding");
	}
	close(fd);
	stop_qemu();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ensure),
		cmocka_unit_test(test_cache_hit),
		cmocka_unit_test(test_boot),
		cmocka_unit_test(test_force),
		cmocka_unit_test(test_cache_hit),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
