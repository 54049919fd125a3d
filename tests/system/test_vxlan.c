/* test_vxlan: the kernel side of a dispersed link (materialize/nl_vxlan.c)
 * on simulated hosts. Needs root. A host is a network namespace holding an
 * underlay address; in it a VXLAN device is created and moved into the
 * host's "substrate" namespace, bridged there with a veth to a "node"
 * namespace; the hosts are joined by a veth (two hosts) or an underlay
 * bridge (three). What is tested is what a user sees: ping across hosts,
 * a full 1500-byte frame with DF crossing, the UDP port bound in the host
 * namespace and closed when the substrate goes. Every name begins with
 * vtbt; namespaces are vtbt<pid>-..., registered before they are created
 * and deleted by the teardown (and swept by the group's) even when a test
 * fails; the links live in them and go with them. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "netns.h"
#include "nl.h"

#define MAX_NS 16
#define MAX_HOSTS 3
#define UNDERLAY_MTU 1550 /* 1500 + NL_VXLAN_OVERHEAD4: nodes keep 1500 */
/* The VXLAN port as /proc/net/udp prints a local port (hex, then a space). */
#define PORT_IN_PROC_NET_UDP ":12B5 "
/* How long the devices of a deleted substrate namespace may take to go:
 * the kernel unregisters them in the background (cleanup_net), within
 * milliseconds on a quiet machine; 5 s leaves room for two loaded cores. */
#define SUBSTRATE_GONE_MS 5000

static char prefix[32];          /* vtbt<pid>- */
static char created[MAX_NS][64]; /* namespaces this test may have made */
static size_t ncreated;

/* One simulated host: its namespaces (host, substrate, node) as fds, a
 * socket in the first two, and its underlay address 10.98.0.<i>. */
struct host {
	int h, s, n;
	struct nl_sock *sh, *ss;
	char tag[8];
	struct addr_prefix ul;
	char ul_ip[16], node_ip[16];
};

static struct host hosts[MAX_HOSTS];
static size_t nhosts;

static const char *ns_name(const char *suffix)
{
	static char buf[4][64];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s%s", prefix, suffix);
	return b;
}

/* Create namespace prefix+suffix and return an open fd to it; the
 * teardown deletes it. */
static int mk_ns(const char *suffix)
{
	const char *name = ns_name(suffix);
	int r, fd;

	assert_true(ncreated < MAX_NS);
	snprintf(created[ncreated++], sizeof(created[0]), "%s", name);
	r = netns_create(name, NULL);
	if (r)
		print_message("netns_create %s: %s\n", name, strerror(-r));
	assert_int_equal(r, 0);
	fd = netns_open(name);
	assert_true(fd >= 0);
	return fd;
}

static struct nl_sock *sock_in(int fd)
{
	struct nl_sock *s;

	assert_int_equal(nl_open(&s, fd), 0);
	return s;
}

static struct addr_prefix pfx(const char *s)
{
	struct addr_prefix p;
	const char *why = NULL;

	if (addr_parse_prefix(s, &p, &why))
		fail_msg("bad prefix %s: %s", s, why);
	return p;
}

static void expect_ok(int r, const struct nl_err *err, const char *what)
{
	if (r)
		print_message("%s: %d %s (index %zu)\n", what, r, err->msg, err->index);
	assert_int_equal(r, 0);
}

/* Run argv with the network namespace ns (NULL: ours); stdout into out
 * (outlen bytes, NUL-terminated) or discarded. The exit status, or -1. */
static int run_in(const char *ns, char *const argv[], char *out, size_t outlen)
{
	char sink[256];
	int pfd[2], st, fd;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (ns) {
			fd = netns_open(ns);
			if (fd < 0 || setns(fd, CLONE_NEWNET))
				_exit(126);
		}
		dup2(pfd[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		bool room = out && got + 1 < outlen;

		n = read(pfd[0], room ? out + got : sink, room ? outlen - 1 - got : sizeof(sink));
		if (n <= 0)
			break;
		if (room)
			got += (size_t)n;
	}
	close(pfd[0]);
	if (out)
		out[got] = '\0';
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ping from namespace suffix to ip, once; size 0: ping's default, else
 * that payload with DF set (-M do: a frame too big fails, never fragments). */
static int ping(const char *suffix, const char *ip, const char *size)
{
	char *plain[] = { "ping", "-c", "1", "-W", "2", (char *)ip, NULL };
	char *df[] = { "ping", "-c", "1", "-W", "2", "-M", "do", "-s", (char *)size, (char *)ip, NULL };

	return run_in(ns_name(suffix), size ? df : plain, NULL, 0);
}

static void ping_ok(const struct host *from, const struct host *to, const char *size)
{
	char suffix[16];
	int st;

	snprintf(suffix, sizeof(suffix), "n%s", from->tag);
	st = ping(suffix, to->node_ip, size);
	if (st)
		print_message("ping %s%s from node %s: exit %d\n", to->node_ip,
			      size ? " (DF, large)" : "", from->tag, st);
	assert_int_equal(st, 0);
}

/* A command's output (args end with NULL), run in our namespace. */
static void cmd_out(char *out, size_t len, ...)
{
	char *argv[16];
	size_t n = 0;
	va_list ap;

	va_start(ap, len);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(run_in(NULL, argv, out, len), 0);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' lacks '%s'", hay, needle);
}

/* out (bridge fdb show) has a permanent all-zeros entry of dev itself
 * toward remote: "00:00:00:00:00:00 dst REMOTE [link-netnsid N] self
 * permanent". */
static void flood_entry(const char *out, const char *remote)
{
	char want[64], line[256];
	const char *p;
	size_t n;

	snprintf(want, sizeof(want), "00:00:00:00:00:00 dst %s ", remote);
	p = strstr(out, want);
	if (!p)
		fail_msg("'%s' lacks '%s'", out, want);
	n = strcspn(p, "\n");
	snprintf(line, sizeof(line), "%.*s", (int)n, p);
	assert_contains(line, " self permanent");
}

/* Is the VXLAN port bound in namespace suffix? /proc/net/udp read there. */
static bool port_bound(const char *suffix)
{
	char *argv[] = { "cat", "/proc/net/udp", NULL };
	char out[8192];

	assert_int_equal(run_in(ns_name(suffix), argv, out, sizeof(out)), 0);
	return strstr(out, PORT_IN_PROC_NET_UDP) != NULL;
}

/* Host i's three namespaces and sockets; no links yet. */
static struct host *mk_host(unsigned i)
{
	struct host *x = &hosts[nhosts++];
	char suffix[16], ul[32];

	*x = (struct host){ .h = -1, .s = -1, .n = -1 };

	snprintf(x->tag, sizeof(x->tag), "%u", i);
	snprintf(x->ul_ip, sizeof(x->ul_ip), "10.98.0.%u", i);
	snprintf(x->node_ip, sizeof(x->node_ip), "10.99.0.%u", i);
	snprintf(ul, sizeof(ul), "%s/24", x->ul_ip);
	x->ul = pfx(ul);
	snprintf(suffix, sizeof(suffix), "h%u", i);
	x->h = mk_ns(suffix);
	snprintf(suffix, sizeof(suffix), "s%u", i);
	x->s = mk_ns(suffix);
	snprintf(suffix, sizeof(suffix), "n%u", i);
	x->n = mk_ns(suffix);
	x->sh = sock_in(x->h);
	x->ss = sock_in(x->s);
	return x;
}

/* What the agent will do on host x for a dispersed LAN of VNI vni: the
 * underlay's MTU decides the node MTU; the VTEP is made from the host
 * namespace straight into the substrate, bridged there with the node's
 * veth; one flooding entry per other host of the LAN. */
static void build_host(struct host *x, uint32_t vni, bool flood)
{
	struct nl_vxlan_conf vx = { .vni = vni, .local = x->ul };
	struct nl_link_ent ul;
	struct nl_link_opts o = { .up = true };
	struct addr_prefix node;
	struct nl_sock *sn;
	struct nl_err err;
	char a[32];
	size_t j;
	int mtu;

	assert_int_equal(nl_addr_link(x->sh, &x->ul, &ul), 0);
	assert_string_equal(ul.name, "vtbtu0");
	assert_int_equal(ul.mtu, UNDERLAY_MTU);
	assert_int_equal(nl_link_mtu(x->sh, ul.name), UNDERLAY_MTU);
	mtu = nl_vxlan_node_mtu(ul.mtu, true, 0);
	assert_int_equal(mtu, 1500);
	o.mtu = (unsigned)mtu;
	expect_ok(nl_bridge_create(x->ss, "vtbtbr", &o, &err), &err, "bridge");
	expect_ok(nl_vxlan_create(x->sh, "vtbtvx", x->s, &vx, &o, &err), &err, "vxlan");
	expect_ok(nl_link_set_master(x->ss, "vtbtvx", "vtbtbr", &err), &err, "vxlan master");
	expect_ok(nl_veth_create(x->ss, "vtbtp0", -1, &o, "eth0", x->n, &o, &err), &err, "node veth");
	expect_ok(nl_link_set_master(x->ss, "vtbtp0", "vtbtbr", &err), &err, "port master");
	snprintf(a, sizeof(a), "%s/24", x->node_ip);
	node = pfx(a);
	sn = sock_in(x->n);
	expect_ok(nl_addr_add(sn, "eth0", &node, &err), &err, "node address");
	nl_close(sn);
	for (j = 0; flood && j < nhosts; j++)
		if (&hosts[j] != x)
			expect_ok(nl_fdb_append(x->ss, "vtbtvx", &hosts[j].ul, &err), &err, "fdb");
}

/* Give host x its underlay address on vtbtu0 (made by the caller). */
static void underlay_addr(struct host *x)
{
	struct nl_err err;

	expect_ok(nl_addr_add(x->sh, "vtbtu0", &x->ul, &err), &err, "underlay address");
}

static int sweep(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			n++;
			netns_delete(e->d_name, 0);
		}
	closedir(d);
	return n;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(prefix, sizeof(prefix), "vtbt%ld-", (long)getpid());
	return 0;
}

/* Sweep what a failed test may have left; nonzero when anything was. */
static int group_teardown(void **state)
{
	(void)state;
	return sweep(NETNS_RUN_DIR) + sweep(NETNS_UTS_DIR);
}

static int test_setup(void **state)
{
	(void)state;
	ncreated = 0;
	nhosts = 0;
	return 0;
}

/* Close what the hosts hold, then delete every namespace made (the links
 * in them go with them). */
static int test_teardown(void **state)
{
	struct host *x;
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < nhosts; i++) {
		x = &hosts[i];
		nl_close(x->sh);
		nl_close(x->ss);
		if (x->h >= 0)
			close(x->h);
		if (x->s >= 0)
			close(x->s);
		if (x->n >= 0)
			close(x->n);
	}
	for (i = 0; i < ncreated; i++)
		if (netns_delete(created[i], 0))
			bad = 1;
	ncreated = nhosts = 0;
	return bad;
}

/* The VTEP as the kernel shows it: in the substrate, its underlay in the
 * host namespace (link-netns), the settings asked for; its UDP port bound
 * in the host namespace and not in the substrate. */
static void check_vtep(const struct host *x, const struct host *remote)
{
	char out[4096], ns[64], dst[64];

	snprintf(ns, sizeof(ns), "%ss%s", prefix, x->tag);
	cmd_out(out, sizeof(out), "ip", "-n", ns, "-d", "link", "show", "dev", "vtbtvx", (char *)NULL);
	assert_contains(out, "mtu 1500");
	assert_contains(out, "master vtbtbr");
	assert_contains(out, "link-netns"); /* IFLA_LINK_NETNSID: link-netns NAME or link-netnsid N */
	/* no "group" (multicast) or "remote" between the VNI and local */
	snprintf(dst, sizeof(dst), "vxlan id 4242 local %s ", x->ul_ip);
	assert_contains(out, dst);
	assert_contains(out, "dstport 4789 ");
	assert_contains(out, "nolearning");
	assert_contains(out, " udpcsum");
	cmd_out(out, sizeof(out), "bridge", "-n", ns, "fdb", "show", "dev", "vtbtvx", (char *)NULL);
	flood_entry(out, remote->ul_ip);
	snprintf(ns, sizeof(ns), "h%s", x->tag);
	assert_true(port_bound(ns));
	snprintf(ns, sizeof(ns), "s%s", x->tag);
	assert_false(port_bound(ns));
}

/* Host a's substrate is deleted: its VTEP goes, and the UDP port closes in
 * a's host namespace. The wait is on an event: a veth from the substrate
 * to the host namespace is unregistered in the same batch as the VTEP
 * (default_device_exit_batch: one unregister_netdevice_many, which closes
 * every device, the VTEP's socket with it, before any RTM_DELLINK), so
 * its host end's RTM_DELLINK says the VTEP is closed. */
static void drop_substrate(struct host *a)
{
	char s[16], h[16];
	struct nl_err err;
	size_t i;

	snprintf(s, sizeof(s), "s%s", a->tag);
	snprintf(h, sizeof(h), "h%s", a->tag);
	expect_ok(nl_veth_create(a->sh, "vtbtsn", -1, NULL, "vtbtsn", a->s, NULL, &err), &err,
		  "sentinel veth");
	nl_close(a->ss);
	a->ss = NULL;
	close(a->s);
	a->s = -1;
	for (i = 0; i < ncreated; i++)
		if (!strcmp(created[i], ns_name(s)))
			assert_int_equal(netns_delete(created[i], 0), 0);
	assert_int_equal(nl_link_wait_gone(a->sh, "vtbtsn", SUBSTRATE_GONE_MS), 0);
	assert_false(port_bound(h));
}

/* Two hosts joined by a veth underlay (MTU 1550): ping both ways, a full
 * 1500-byte frame with DF, a second VTEP of the same VNI refused in the
 * kernel's words, a remote's removal and return, the substrate's end. */
static void test_two_hosts(void **state)
{
	struct nl_link_opts ulo = { .mtu = UNDERLAY_MTU, .up = true };
	struct nl_vxlan_conf v6 = { .vni = 4242, .local = pfx("fd00:98::1/64") };
	struct nl_vxlan_conf dup = { .vni = 4242 };
	struct addr_prefix nowhere = pfx("10.98.0.9/24");
	struct nl_link_ent ent;
	struct host *a, *b;
	struct nl_sock *s0;
	struct nl_err err;
	int r;

	(void)state;
	need_root();
	a = mk_host(1);
	b = mk_host(2);
	s0 = sock_in(-1);
	expect_ok(nl_veth_create(s0, "vtbtu0", a->h, &ulo, "vtbtu0", b->h, &ulo, &err), &err,
		  "underlay");
	nl_close(s0);
	underlay_addr(a);
	underlay_addr(b);
	assert_int_equal(nl_addr_link(a->sh, &nowhere, &ent), -EADDRNOTAVAIL);
	assert_int_equal(nl_link_mtu(a->sh, "vtbtnone"), -ENODEV);
	build_host(a, 4242, true);
	build_host(b, 4242, true);
	check_vtep(a, b);
	check_vtep(b, a);
	ping_ok(a, b, NULL);
	ping_ok(b, a, NULL);
	ping_ok(a, b, "1472"); /* 1472 + 8 ICMP + 20 IP = 1500, DF set */
	ping_ok(b, a, "1472");

	/* the kernel's words for what it refuses */
	dup.local = a->ul;
	r = nl_vxlan_create(a->sh, "vtbtvx2", -1, &dup, NULL, &err);
	print_message("a second VTEP of VNI 4242 on one host: %d \"%s\"\n", r, err.msg);
	assert_int_equal(r, -EEXIST);
	assert_contains(err.msg, "VNI");
	assert_int_equal(nl_vxlan_create(a->sh, "vtbtvx6", -1, &v6, NULL, &err), -EAFNOSUPPORT);

	/* b leaves a's flooding list, then comes back; both are idempotent */
	expect_ok(nl_fdb_append(a->ss, "vtbtvx", &b->ul, &err), &err, "fdb again");
	expect_ok(nl_fdb_del(a->ss, "vtbtvx", &b->ul, &err), &err, "fdb del");
	expect_ok(nl_fdb_del(a->ss, "vtbtvx", &b->ul, &err), &err, "fdb del again");
	expect_ok(nl_fdb_del(a->ss, "vtbtnone", &b->ul, &err), &err, "fdb del, no device");
	assert_int_not_equal(ping("n1", b->node_ip, NULL), 0);
	expect_ok(nl_fdb_append(a->ss, "vtbtvx", &b->ul, &err), &err, "fdb back");
	ping_ok(a, b, NULL);

	drop_substrate(a);
	assert_true(port_bound("h2")); /* b's VTEP is untouched */
}

/* Three hosts on an underlay bridge, one LAN (VNI 4243): each VTEP floods
 * to the two others (head-end replication), and every node reaches every
 * other. */
static void test_three_hosts(void **state)
{
	struct nl_link_opts ulo = { .mtu = UNDERLAY_MTU, .up = true };
	struct nl_sock *su;
	struct nl_err err;
	char port[16], out[4096], ns[64];
	size_t i, j;
	int fu;

	(void)state;
	need_root();
	fu = mk_ns("ul");
	su = sock_in(fu);
	expect_ok(nl_bridge_create(su, "vtbtul", &ulo, &err), &err, "underlay bridge");
	for (i = 0; i < MAX_HOSTS; i++) {
		mk_host((unsigned)i + 1);
		snprintf(port, sizeof(port), "vtbtu%zu", i + 1);
		expect_ok(nl_veth_create(su, port, -1, &ulo, "vtbtu0", hosts[i].h, &ulo, &err), &err,
			  port);
		expect_ok(nl_link_set_master(su, port, "vtbtul", &err), &err, "underlay port");
		underlay_addr(&hosts[i]);
	}
	nl_close(su);
	close(fu);
	for (i = 0; i < MAX_HOSTS; i++)
		build_host(&hosts[i], 4243, true);
	snprintf(ns, sizeof(ns), "%ss1", prefix);
	cmd_out(out, sizeof(out), "bridge", "-n", ns, "fdb", "show", "dev", "vtbtvx", (char *)NULL);
	flood_entry(out, "10.98.0.2");
	flood_entry(out, "10.98.0.3");
	for (i = 0; i < MAX_HOSTS; i++)
		for (j = 0; j < MAX_HOSTS; j++)
			if (i != j)
				ping_ok(&hosts[i], &hosts[j], NULL);
}

/* The MTU rule, pure: IPv4 costs 50 bytes, IPv6 70; 1500 is kept when it
 * fits, else the largest that fits; a model's MTU is kept or refused; an
 * underlay too small is refused. */
static void test_mtu_rule(void **state)
{
	(void)state;
	assert_int_equal(nl_vxlan_inner_mtu(1500, true), 1450);
	assert_int_equal(nl_vxlan_inner_mtu(1550, true), 1500);
	assert_int_equal(nl_vxlan_inner_mtu(1500, false), 1430);
	assert_int_equal(nl_vxlan_inner_mtu(9000, true), 8950);
	assert_int_equal(nl_vxlan_inner_mtu(117, true), -ERANGE);
	assert_int_equal(nl_vxlan_inner_mtu(118, true), 68);
	assert_int_equal(nl_vxlan_node_mtu(9000, true, 0), 1500);
	assert_int_equal(nl_vxlan_node_mtu(1550, true, 0), 1500);
	assert_int_equal(nl_vxlan_node_mtu(1549, true, 0), 1499);
	assert_int_equal(nl_vxlan_node_mtu(1500, true, 0), 1450);
	assert_int_equal(nl_vxlan_node_mtu(1570, false, 0), 1500);
	assert_int_equal(nl_vxlan_node_mtu(1500, false, 0), 1430);
	assert_int_equal(nl_vxlan_node_mtu(0, true, 0), -ERANGE);
	/* an MTU the model asks for is kept or refused, never lowered */
	assert_int_equal(nl_vxlan_node_mtu(9050, true, 9000), 9000);
	assert_int_equal(nl_vxlan_node_mtu(9000, true, 9000), -EMSGSIZE);
	assert_int_equal(nl_vxlan_node_mtu(1500, true, 1400), 1400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtu_rule),
		cmocka_unit_test_setup_teardown(test_two_hosts, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_three_hosts, test_setup, test_teardown),
	};

	return cmocka_run_group_tests_name("vxlan", tests, group_setup, group_teardown);
}
