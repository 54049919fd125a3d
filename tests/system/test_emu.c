/* test_emu: the link emulator's data plane on real veths. Needs root.
 * Three namespaces vtbtest<pid>e-{a,b,c}, each with eth0 whose peer sits in
 * the root namespace (vtbt<pid>{a,b,c}); the emulator joins the peers into
 * a point-to-point link (a, b) or a LAN (a, b, c). What is checked is what a
 * user sees: ping round trips, losses, and the counters. Everything is
 * removed by the group teardown, even when a test fails. */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"

static char ns[3][64], port[3][16];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return r == -1 ? -1 : WEXITSTATUS(r);
}

/* Run cmd and return its first output line matching nothing in particular. */
static double ping_avg_ms(int from, const char *to, int count, double interval, int *received)
{
	char cmd[512], line[512];
	double mn = 0, avg = -1;
	int tx = 0, rx = 0;
	FILE *f;

	/* one echo first, so neighbour discovery is not in the measurement */
	snprintf(cmd, sizeof(cmd), "ip netns exec %s ping -n -q -c 1 -W 2 %s >/dev/null 2>&1",
		 ns[from], to);
	if (system(cmd) == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), "ip netns exec %s ping -n -q -c %d -i %g -W 2 %s 2>&1", ns[from],
		 count, interval, to);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d packets transmitted, %d received", &tx, &rx) == 2)
			continue;
		if (!strncmp(line, "rtt", 3)) {
			char *eq = strchr(line, '=');

			if (eq)
				sscanf(eq + 1, "%lf/%lf", &mn, &avg);
		}
	}
	pclose(f);
	*received = rx;
	return avg;
}

/* Node i's namespace end eth0 (10.77.0.<i+1>) and its root end port[i], both up. */
static int make_port(int i)
{
	return sh("ip link add %s type veth peer name eth0 netns %s && "
		  "ip link set %s up && ip -n %s link set eth0 up && "
		  "ip -n %s addr add 10.77.0.%d/24 dev eth0",
		  port[i], ns[i], port[i], ns[i], ns[i], i + 1);
}

static int setup(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(ns[i], sizeof(ns[i]), "vtbtest%de-%c", (int)getpid(), 'a' + i);
		snprintf(port[i], sizeof(port[i]), "vtbt%d%c", (int)getpid() % 100000, 'a' + i);
		if (sh("ip netns add %s && ip -n %s link set lo up", ns[i], ns[i]) || make_port(i))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		sh("ip link del %s 2>/dev/null", port[i]);
		sh("ip netns del %s 2>/dev/null", ns[i]);
	}
	return 0;
}

static struct emu *open_emu(size_t nports, const struct emu_params *p)
{
	struct emu_port_cfg pc[3];
	struct emu_seg_cfg seg = { .name = "test", .ports = pc, .nports = nports };
	struct emu *e = NULL;
	char err[256];
	size_t i;
	int r;

	memset(pc, 0, sizeof(pc));
	for (i = 0; i < nports; i++) {
		memcpy(pc[i].ifname, port[i], sizeof(pc[i].ifname));
		pc[i].p = p[i];
	}
	r = emu_open(&seg, 1, &(struct emu_opts){ .seed = 42 }, &e, err, sizeof(err));
	if (r)
		print_message("emu_open: %s (%s)\n", err, strerror(-r));
	assert_int_equal(r, 0);
	assert_int_equal(emu_start(e, -1, 0), 0);
	return e;
}

/* Without impairments the link simply works, both ways. */
static void test_plain(void **state)
{
	struct emu_params p[2] = { 0 };
	struct emu_port_stats st[2];
	struct emu *e;
	int rx;

	(void)state;
	e = open_emu(2, p);
	ping_avg_ms(0, "10.77.0.2", 5, 0.05, &rx);
	assert_int_equal(rx, 5);
	assert_int_equal(emu_snapshot(e, st), 0);
	assert_true(st[0].dir.tx_pkts >= 5); /* requests (and ARP) a -> b */
	assert_true(st[1].dir.tx_pkts >= 5); /* replies b -> a */
	assert_int_equal(st[0].dir.drop_loss + st[0].dir.drop_queue + st[0].dir.drop_ring, 0);
	emu_close(e);
}

/* latency 5 ms each way: about 10 ms round trip; then changed at run time. */
static void test_latency_and_set(void **state)
{
	struct emu_params p[2] = { { .latency_ns = 5000000 }, { .latency_ns = 5000000 } };
	struct emu *e;
	double avg;
	int rx;

	(void)state;
	e = open_emu(2, p);
	avg = ping_avg_ms(0, "10.77.0.2", 10, 0.02, &rx);
	print_message("latency 5 ms: rtt avg %.3f ms\n", avg);
	assert_int_equal(rx, 10);
	assert_true(avg >= 10.0 && avg < 11.0);
	p[0].latency_ns = 20000000;
	assert_int_equal(emu_set(e, 0, &p[0]), 0);
	avg = ping_avg_ms(0, "10.77.0.2", 5, 0.05, &rx);
	print_message("after set 20 ms: rtt avg %.3f ms\n", avg);
	assert_int_equal(rx, 5);
	assert_true(avg >= 25.0 && avg < 26.0);
	emu_close(e);
}

/* loss 1.0 one way: nothing comes back; the counters say why. */
static void test_loss(void **state)
{
	struct emu_params p[2] = { { .loss = 1.0 }, { 0 } };
	struct emu_port_stats st[2];
	struct emu *e;
	int rx;

	(void)state;
	sh("ip -n %s neigh replace 10.77.0.2 lladdr $(ip -n %s -o link show eth0 | "
	   "sed 's/.*ether \\([^ ]*\\).*/\\1/') dev eth0", ns[0], ns[1]);
	e = open_emu(2, p);
	ping_avg_ms(0, "10.77.0.2", 5, 0.02, &rx);
	assert_int_equal(rx, 0);
	assert_int_equal(emu_snapshot(e, st), 0);
	assert_true(st[0].dir.drop_loss >= 5);
	assert_int_equal(st[0].dir.tx_pkts, 0);
	sh("ip -n %s neigh del 10.77.0.2 dev eth0 2>/dev/null", ns[0]);
	emu_close(e);
}

/* A LAN of three: each pair talks, with each endpoint's latency on the way in. */
static void test_lan(void **state)
{
	struct emu_params p[3] = { { .latency_ns = 1000000 }, { .latency_ns = 2000000 },
				   { .latency_ns = 3000000 } };
	struct emu *e;
	double avg;
	int rx;

	(void)state;
	e = open_emu(3, p);
	avg = ping_avg_ms(0, "10.77.0.2", 5, 0.02, &rx);
	print_message("lan a<->b: %.3f ms\n", avg);
	assert_int_equal(rx, 5);
	assert_true(avg >= 3.0 && avg < 4.0);
	avg = ping_avg_ms(2, "10.77.0.1", 5, 0.02, &rx);
	print_message("lan c<->a: %.3f ms\n", avg);
	assert_int_equal(rx, 5);
	assert_true(avg >= 4.0 && avg < 5.0);
	emu_close(e);
}

/* The window over which an idle emulator's CPU time is measured, and what
 * it may spend in it: it sleeps in epoll, so next to nothing (before the
 * fix, a port gone or down made it spin at 50-88% of a core). */
#define IDLE_WINDOW_US 1000000
#define IDLE_CPU_MAX_S 0.05

/* The CPU time this process (the emulator's thread; not the pings, which
 * are children) spends over IDLE_WINDOW_US of doing nothing stays under
 * IDLE_CPU_MAX_S. */
static void assert_idle(const char *what)
{
	struct timespec t0, t1;
	double cpu;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	usleep(IDLE_WINDOW_US); /* the measurement window itself */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	cpu = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("%s: %.3f s of CPU in %d us\n", what, cpu, IDLE_WINDOW_US);
	assert_true(cpu < IDLE_CPU_MAX_S);
}

/* b's port set down: its state says so, frames towards it are dropped and
 * counted, the thread sleeps; set up again, the link works. Then b deletes
 * its eth0: the port is gone for good, the thread still sleeps. */
static void test_port_down_then_gone(void **state)
{
	struct emu_params p[2] = { 0 };
	struct emu_port_stats st[2];
	struct emu *e;
	int rx;

	(void)state;
	e = open_emu(2, p);
	ping_avg_ms(0, "10.77.0.2", 3, 0.05, &rx);
	assert_int_equal(rx, 3);
	assert_int_equal(sh("ip link set %s down", port[1]), 0);
	assert_int_equal(emu_snapshot(e, st), 0);
	assert_int_equal(st[0].state, EMU_PORT_UP);
	assert_int_equal(st[1].state, EMU_PORT_DOWN);
	assert_idle("port down");
	ping_avg_ms(0, "10.77.0.2", 3, 0.05, &rx);
	assert_int_equal(rx, 0);
	assert_int_equal(emu_snapshot(e, st), 0);
	assert_true(st[0].drop_port >= 3);
	assert_int_equal(sh("ip link set %s up", port[1]), 0);
	ping_avg_ms(0, "10.77.0.2", 3, 0.05, &rx);
	assert_int_equal(rx, 3);
	assert_int_equal(emu_snapshot(e, st), 0);
	assert_int_equal(st[1].state, EMU_PORT_UP);
	assert_int_equal(sh("ip -n %s link del eth0", ns[1]), 0);
	assert_int_equal(emu_snapshot(e, st), 0);
	assert_int_equal(st[1].state, EMU_PORT_GONE);
	assert_int_equal(st[0].state, EMU_PORT_UP);
	assert_idle("port gone");
	ping_avg_ms(0, "10.77.0.2", 3, 0.05, &rx);
	assert_int_equal(rx, 0);
	emu_close(e);
	assert_int_equal(make_port(1), 0); /* for the tests after this one */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_latency_and_set),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_lan),
		cmocka_unit_test(test_port_down_then_gone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
