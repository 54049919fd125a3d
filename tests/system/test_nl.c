/* test_nl: the netlink and namespace layer on real kernel objects. Needs
 * root. Every namespace is named vtbtest<pid>-..., registered for deletion
 * before it is created, and deleted by the test's teardown (and again by
 * the group's, which sweeps the prefix) even when the test fails. What is
 * tested is what a user sees: a real ping across the links, `ip -n` output,
 * the hostname inside the node. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "netns.h"
#include "ns.h"
#include "nl.h"

#define MAX_NS 16

static char prefix[32];          /* vtbtest<pid>- */
static char created[MAX_NS][64]; /* namespaces this test may have made */
static size_t ncreated;
static int fds[MAX_NS];          /* their open fds */
static size_t nfds;

static const char *ns_name(const char *suffix)
{
	static char buf[4][64];
	static unsigned k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%s%s", prefix, suffix);
	return b;
}

/* Create namespace prefix+suffix (hostname host) and return an open fd to
 * it; both are released by the teardown. */
static int mk_ns(const char *suffix, const char *host)
{
	const char *name = ns_name(suffix);
	int r, fd;

	assert_true(ncreated < MAX_NS);
	snprintf(created[ncreated++], sizeof(created[0]), "%s", name);
	r = netns_create(name, host);
	if (r)
		print_message("netns_create %s: %s\n", name, strerror(-r));
	assert_int_equal(r, 0);
	fd = netns_open(name);
	assert_true(fd >= 0);
	fds[nfds++] = fd;
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

static void add_addr(struct nl_sock *s, const char *ifname, const char *a)
{
	struct addr_prefix p = pfx(a);
	struct nl_err err;

	expect_ok(nl_addr_add(s, ifname, &p, &err), &err, a);
}

/* Run argv with the network namespace of ns; stdout into out (if given,
 * outlen bytes, NUL-terminated) or discarded. Returns the exit status, or
 * -1 if it did not exit. */
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

/* A real ping from inside ns (by suffix) to ip. */
static void ping_ok(const char *suffix, const char *ip)
{
	char *argv[] = { "ping", "-c", "1", "-W", "2", (char *)ip, NULL };
	int st = run_in(ns_name(suffix), argv, NULL, 0);

	if (st)
		print_message("ping %s from %s: exit %d\n", ip, suffix, st);
	assert_int_equal(st, 0);
}

/* `ip -n NS args...` (args end with NULL), its output into out. */
static void ip_out(char *out, size_t len, const char *suffix, ...)
{
	char ns[64], *argv[16];
	size_t n = 0;
	va_list ap;

	snprintf(ns, sizeof(ns), "%s", ns_name(suffix));
	argv[n++] = "ip";
	argv[n++] = "-n";
	argv[n++] = ns;
	va_start(ap, suffix);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(run_in(NULL, argv, out, len), 0);
}

/* `ip -o link show dev name` inside ns, into out. */
static void ip_link_show(const char *suffix, const char *name, char *out, size_t len)
{
	ip_out(out, len, suffix, "-o", "link", "show", "dev", name, (char *)NULL);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' lacks '%s'", hay, needle);
}

/* The hostname seen inside the UTS namespace bound for suffix. */
static void hostname_is(const char *suffix, const char *want)
{
	struct utsname u;
	int st, fd;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fd = netns_open_uts(ns_name(suffix));
		if (fd < 0 || setns(fd, CLONE_NEWUTS) || uname(&u))
			_exit(2);
		_exit(strcmp(u.nodename, want) ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Delete every namespace whose name starts with the prefix. Returns how
 * many files were found in dir. */
static int sweep(const char *dir, bool del)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		n++;
		if (del)
			netns_delete(e->d_name, 0);
	}
	closedir(d);
	return n;
}

/* Skips the test (cmocka's skip) unless we are root. */
static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(prefix, sizeof(prefix), "vtbtest%ld-", (long)getpid());
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sweep(NETNS_RUN_DIR, true);
	sweep(NETNS_UTS_DIR, true);
	return sweep(NETNS_RUN_DIR, false) + sweep(NETNS_UTS_DIR, false);
}

static int test_setup(void **state)
{
	(void)state;
	ncreated = 0;
	nfds = 0;
	return 0;
}

static int test_teardown(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	for (i = 0; i < ncreated; i++)
		if (netns_delete(created[i], 0))
			bad = 1;
	nfds = ncreated = 0;
	return bad;
}

/* A veth pair straight between two namespaces, made from a third (the
 * root), with MTU, MAC and up set at creation; addresses; a ping. */
static void test_veth_pair(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0x77, 0, 0, 0, 0x01 };
	struct nl_link_opts oa = { .mtu = 1400, .mac = mac, .up = true }, ob = { .up = true };
	struct nl_sock *s0, *sa, *sb;
	struct addr_prefix dst, gw;
	struct nl_err err;
	char out[2048];
	int fa, fb;

	(void)state;
	need_root();
	fa = mk_ns("a", "host-a");
	fb = mk_ns("b", NULL);
	s0 = sock_in(-1);
	expect_ok(nl_veth_create(s0, "vtb-a", fa, &oa, "vtb-b", fb, &ob, &err), &err, "veth");
	sa = sock_in(fa);
	sb = sock_in(fb);
	assert_int_equal(nl_link_exists(s0, "vtb-a"), 0);
	assert_int_equal(nl_link_exists(s0, "vtb-b"), 0);
	assert_int_equal(nl_link_exists(sa, "vtb-a"), 1);
	assert_int_equal(nl_link_exists(sb, "vtb-b"), 1);
	assert_true(nl_ifindex(sa, "lo") == 1);
	assert_int_equal(nl_ifindex(sa, "vtb-b"), -ENODEV);

	ip_link_show("a", "vtb-a", out, sizeof(out));
	assert_contains(out, "mtu 1400");
	assert_contains(out, "02:77:00:00:00:01");
	assert_contains(out, ",UP,");
	assert_contains(out, "LOWER_UP"); /* carrier: both ends are up */
	ip_link_show("b", "vtb-b", out, sizeof(out));
	assert_contains(out, ",UP,");
	assert_contains(out, "LOWER_UP");
	ip_link_show("a", "lo", out, sizeof(out));
	assert_contains(out, ",UP,");

	add_addr(sa, "vtb-a", "10.77.0.1/24");
	add_addr(sb, "vtb-b", "10.77.0.2/24");
	add_addr(sb, "vtb-b", "10.77.0.2/24"); /* identical: success */
	ping_ok("a", "10.77.0.2");
	ping_ok("b", "10.77.0.1");
	ping_ok("a", "127.0.0.1");

	/* IPv6: an address and a route through the peer */
	add_addr(sa, "vtb-a", "fd00:77::1/64");
	add_addr(sb, "vtb-b", "fd00:77::2/64");
	dst = pfx("fd00:78::/64");
	gw = pfx("fd00:77::2/128");
	expect_ok(nl_route_add(sa, &dst, &gw, &err), &err, "IPv6 route");
	ip_out(out, sizeof(out), "a", "-6", "route", "show", (char *)NULL);
	assert_contains(out, "fd00:78::/64 via fd00:77::2 dev vtb-a proto static");

	oa.mtu = 1300;
	oa.mac = NULL;
	expect_ok(nl_link_set(sa, "vtb-a", &oa, &err), &err, "link set");
	ip_link_show("a", "vtb-a", out, sizeof(out));
	assert_contains(out, "mtu 1300");

	hostname_is("a", "host-a");
	hostname_is("b", ns_name("b"));
	nl_close(s0);
	nl_close(sa);
	nl_close(sb);
}

/* A bridge in namespace r with three ports, one veth to each of h1..h3,
 * all made in one batch; a ping across the bridge. */
static void test_bridge(void **state)
{
	struct nl_link_opts up = { .up = true };
	struct nl_sock *sr, *sh[3];
	struct nl_err err;
	char port[32], addr[32], host[32], out[2048];
	int fr, fh[3], i;

	(void)state;
	need_root();
	fr = mk_ns("r", NULL);
	for (i = 0; i < 3; i++) {
		snprintf(host, sizeof(host), "h%d", i + 1);
		fh[i] = mk_ns(host, NULL);
	}
	sr = sock_in(fr);
	nl_batch_begin(sr);
	expect_ok(nl_bridge_create(sr, "vtb-br", NULL, &err), &err, "bridge");
	for (i = 0; i < 3; i++) {
		snprintf(port, sizeof(port), "vtb-p%d", i + 1);
		expect_ok(nl_veth_create(sr, port, -1, &up, "eth0", fh[i], &up, &err), &err, port);
		expect_ok(nl_link_set_master(sr, port, "vtb-br", &err), &err, "master");
	}
	expect_ok(nl_batch_flush(sr, &err), &err, "bridge batch");
	for (i = 0; i < 3; i++) {
		sh[i] = sock_in(fh[i]);
		snprintf(addr, sizeof(addr), "10.79.0.%d/24", i + 1);
		add_addr(sh[i], "eth0", addr);
	}
	ip_link_show("r", "vtb-p1", out, sizeof(out));
	assert_contains(out, "master vtb-br");
	ip_link_show("r", "vtb-br", out, sizeof(out));
	assert_contains(out, ",UP,");
	ping_ok("h1", "10.79.0.3");
	ping_ok("h3", "10.79.0.2");
	ping_ok("h2", "10.79.0.1");
	for (i = 0; i < 3; i++)
		nl_close(sh[i]);
	nl_close(sr);
}

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static char fwd_seen[16];

static int read_fwd(void *arg)
{
	(void)arg;
	read_file("/proc/sys/net/ipv4/ip_forward", fwd_seen, sizeof(fwd_seen));
	return 0;
}

/* a -- m -- c, with forwarding in m only and routes at the ends (one
 * specific, one default); a ping end to end. */
static void test_route_chain(void **state)
{
	struct nl_link_opts up = { .up = true };
	struct nl_sock *s0, *sa, *sm, *sc;
	struct addr_prefix dst, gw;
	struct nl_err err;
	char before[16], after[16], out[4096];
	int fa, fm, fc, r;

	(void)state;
	need_root();
	fa = mk_ns("ca", NULL);
	fm = mk_ns("cm", NULL);
	fc = mk_ns("cc", NULL);
	s0 = sock_in(-1);
	expect_ok(nl_veth_create(s0, "vtb-a0", fa, &up, "vtb-m0", fm, &up, &err), &err, "veth 1");
	expect_ok(nl_veth_create(s0, "vtb-m1", fm, &up, "vtb-c0", fc, &up, &err), &err, "veth 2");
	sa = sock_in(fa);
	sm = sock_in(fm);
	sc = sock_in(fc);
	add_addr(sa, "vtb-a0", "10.78.1.1/24");
	add_addr(sm, "vtb-m0", "10.78.1.2/24");
	add_addr(sm, "vtb-m1", "10.78.2.1/24");
	add_addr(sc, "vtb-c0", "10.78.2.2/24");

	read_file("/proc/sys/net/ipv4/ip_forward", before, sizeof(before));
	assert_int_equal(netns_sysctl(fm, "net.ipv4.ip_forward", "1"), 0);
	read_file("/proc/sys/net/ipv4/ip_forward", after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(ns_run_in(fm, read_fwd, NULL), 0);
	assert_string_equal(fwd_seen, "1\n");
	/* a namespace that was not set keeps what it started with: IPv4's
	 * defaults are copied from the root namespace's (devconf_inherit_init_net 0) */
	assert_int_equal(ns_run_in(fa, read_fwd, NULL), 0);
	assert_string_equal(fwd_seen, before);
	assert_int_equal(netns_sysctl(fm, "net/ipv4/conf/all/forwarding", "1"), 0);
	assert_int_equal(netns_sysctl(fm, "net.ipv4.no_such_key", "1"), -ENOENT);

	dst = pfx("10.78.2.0/24");
	gw = pfx("10.78.1.2/32");
	expect_ok(nl_route_add(sa, &dst, &gw, &err), &err, "route a");
	expect_ok(nl_route_add(sa, &dst, &gw, &err), &err, "route a again");
	dst = pfx("0.0.0.0/0");
	gw = pfx("10.78.2.1/32");
	expect_ok(nl_route_add(sc, &dst, &gw, &err), &err, "default route c");
	ip_out(out, sizeof(out), "ca", "route", "show", (char *)NULL);
	assert_contains(out, "10.78.2.0/24 via 10.78.1.2 dev vtb-a0 proto static");
	ping_ok("ca", "10.78.2.2");
	ping_ok("cc", "10.78.1.1");

	/* a gateway on no connected network */
	dst = pfx("10.99.0.0/16");
	gw = pfx("10.98.0.1/32");
	r = nl_route_add(sa, &dst, &gw, &err);
	print_message("route via an unreachable gateway: %d \"%s\"\n", r, err.msg);
	assert_true(r < 0);
	assert_true(err.msg[0]);
	nl_close(s0);
	nl_close(sa);
	nl_close(sm);
	nl_close(sc);
}

/* Errors come back with the kernel's words; deleting what is gone is fine. */
static void test_errors(void **state)
{
	struct nl_link_opts up = { .up = true };
	struct addr_prefix a = pfx("10.81.0.1/24");
	struct nl_sock *s;
	struct nl_err err;
	struct stat st;
	uint64_t ident;
	char path[128];
	int fx, r;

	(void)state;
	need_root();
	fx = mk_ns("x", NULL);
	s = sock_in(fx);
	expect_ok(nl_veth_create(s, "vtb-e0", -1, &up, "vtb-e1", -1, &up, &err), &err, "veth");

	r = nl_veth_create(s, "vtb-e0", -1, &up, "vtb-e9", -1, &up, &err);
	print_message("veth with an existing name: %d \"%s\"\n", r, err.msg);
	assert_int_equal(r, -EEXIST);
	assert_true(err.msg[0]);

	r = nl_veth_create(s, "vtb-e8", -1, &up, "vtb-e1", -1, &up, &err);
	print_message("veth with an existing peer name: %d \"%s\"\n", r, err.msg);
	assert_int_equal(r, -EEXIST);
	assert_true(err.msg[0]);
	assert_int_equal(nl_link_exists(s, "vtb-e8"), 0);

	r = nl_veth_create(s, "vtb-0123456789abcdef", -1, &up, "vtb-e7", -1, &up, &err);
	print_message("veth with a 20-character name: %d \"%s\"\n", r, err.msg);
	assert_true(r < 0);
	assert_true(err.msg[0]);

	r = nl_bridge_create(s, "vtb-e0", NULL, &err);
	print_message("bridge with an existing name: %d \"%s\"\n", r, err.msg);
	assert_int_equal(r, -EEXIST);

	r = nl_link_set(s, "vtb-none", &up, &err);
	print_message("set a missing link: %d \"%s\"\n", r, err.msg);
	assert_int_equal(r, -ENODEV);
	r = nl_link_set_master(s, "vtb-e0", "vtb-nobr", &err);
	print_message("master a missing bridge: %d \"%s\"\n", r, err.msg);
	assert_int_equal(r, -ENODEV);
	r = nl_link_set_master(s, "vtb-e0", "lo", &err);
	print_message("master lo (not a bridge): %d \"%s\"\n", r, err.msg);
	assert_true(r < 0);
	r = nl_addr_add(s, "vtb-none", &a, &err);
	print_message("address on a missing link: %d \"%s\"\n", r, err.msg);
	assert_int_equal(r, -ENODEV);
	a.plen = 33;
	r = nl_addr_add(s, "vtb-e0", &a, &err);
	print_message("address with prefix length 33: %d \"%s\"\n", r, err.msg);
	assert_true(r < 0);

	assert_int_equal(nl_link_del(s, "vtb-none", &err), 0);
	assert_int_equal(nl_link_del(s, "vtb-e0", &err), 0);
	assert_int_equal(nl_link_exists(s, "vtb-e0"), 0);
	assert_int_equal(nl_link_exists(s, "vtb-e1"), 0); /* the peer goes with it */
	assert_int_equal(nl_link_del(s, "vtb-e0", &err), 0);
	assert_int_equal(nl_ifindex(s, "vtb-0123456789abcdef"), -EINVAL);

	assert_int_equal(netns_create(ns_name("x"), NULL), -EEXIST);
	assert_int_equal(netns_exists(ns_name("x")), 1);
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, ns_name("x"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(netns_create("bad/name", NULL), -EINVAL);
	nl_close(s);
	close(fx);
	nfds = 0;
	assert_int_equal(netns_delete(ns_name("x"), 0), 0);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(netns_exists(ns_name("x")), 0);
	snprintf(path, sizeof(path), "%s/%s", NETNS_UTS_DIR, ns_name("x"));
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(netns_delete(ns_name("x"), 0), 0);
	assert_int_equal(netns_open(ns_name("x")), -ENOENT);

	/* a bind that is not the namespace recorded is left alone, both
	 * halves checked apart (issue 12: removal proven by identity) */
	assert_int_equal(netns_create(ns_name("x"), NULL), 0);
	ident = netns_ident(ns_name("x"));
	assert_true((uint32_t)ident != 0 && (ident >> 32) != 0);
	assert_int_equal(netns_delete(ns_name("x"), ident ^ 1), NETNS_FOREIGN);
	assert_int_equal(netns_exists(ns_name("x")), 1);
	assert_int_equal(stat(path, &st), -1); /* the UTS bind was ours: gone */
	assert_int_equal(netns_delete(ns_name("x"), ident ^ (1ULL << 32)), 0);
	assert_int_equal(netns_exists(ns_name("x")), 0);
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Batches: 200 address adds with one bad one, the index reported; a local
 * failure before a kernel one wins; batches larger than one sendto; many
 * veth pairs in one batch. */
static void test_batch(void **state)
{
	struct nl_link_opts up = { .up = true };
	static char out[1 << 20];
	struct nl_sock *s, *s0;
	struct addr_prefix a;
	struct nl_err err;
	char name[32], peer[32];
	double t;
	int fy, fz, i, r;

	(void)state;
	need_root();
	fy = mk_ns("y", NULL);
	fz = mk_ns("z", NULL);
	s = sock_in(fy);
	expect_ok(nl_veth_create(s, "vtb-y0", -1, &up, "vtb-y1", -1, &up, &err), &err, "veth");

	nl_batch_begin(s);
	for (i = 0; i < 200; i++) {
		a = pfx("10.80.0.1/24");
		a.bytes[2] = (uint8_t)i;
		if (i == 117)
			a.plen = 33;
		assert_int_equal(nl_addr_add(s, "vtb-y0", &a, &err), 0);
	}
	r = nl_batch_flush(s, &err);
	print_message("batch of 200, #117 with /33: %d \"%s\" at index %zu\n", r, err.msg,
		      err.index);
	assert_true(r < 0);
	assert_int_equal(err.index, 117);
	assert_true(err.msg[0]);
	ip_out(out, sizeof(out), "y", "-o", "-4", "addr", "show", (char *)NULL);
	assert_int_equal(count_lines(out, "inet 10.80."), 199);

	/* the lower index wins, though the kernel's failure is found later */
	nl_batch_begin(s);
	for (i = 0; i < 100; i++) {
		a = pfx("10.82.0.1/24");
		a.bytes[2] = (uint8_t)i;
		if (i == 20)
			a.plen = 40;
		r = nl_addr_add(s, i == 50 ? "vtb-none" : "vtb-y0", &a, &err);
		assert_int_equal(r, i == 50 ? -ENODEV : 0);
	}
	r = nl_batch_flush(s, &err);
	assert_true(r < 0);
	assert_int_equal(err.index, 20);
	nl_batch_begin(s);
	for (i = 0; i < 10; i++) {
		a = pfx("10.83.0.1/24");
		a.bytes[2] = (uint8_t)i;
		nl_addr_add(s, i == 7 ? "vtb-none" : "vtb-y0", &a, &err);
	}
	r = nl_batch_flush(s, &err);
	print_message("batch with a missing link at #7: %d \"%s\" at index %zu\n", r, err.msg,
		      err.index);
	assert_int_equal(r, -ENODEV);
	assert_int_equal(err.index, 7);
	assert_int_equal(nl_batch_flush(s, &err), 0); /* no batch: nothing */

	/* more requests than one sendto carries; identical ones are fine */
	nl_batch_begin(s);
	for (i = 0; i < 2500; i++) {
		a = pfx("10.84.0.1/24");
		a.bytes[1] = (uint8_t)(100 + i / 250);
		a.bytes[2] = (uint8_t)(i % 250);
		nl_addr_add(s, "vtb-y0", &a, &err);
	}
	a = pfx("10.100.0.1/24");
	nl_addr_add(s, "vtb-y0", &a, &err);
	expect_ok(nl_batch_flush(s, &err), &err, "batch of 2501");
	ip_out(out, sizeof(out), "y", "-o", "-4", "addr", "show", (char *)NULL);
	assert_int_equal(count_lines(out, "inet 10."), 199 + 98 + 9 + 2500);

	/* 500 veth pairs from y to z in one batch, then deleted in one */
	s0 = sock_in(-1);
	t = now();
	nl_batch_begin(s0);
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "vtb-v%d", i);
		snprintf(peer, sizeof(peer), "vtb-w%d", i);
		nl_veth_create(s0, name, fy, &up, peer, fz, &up, &err);
	}
	expect_ok(nl_batch_flush(s0, &err), &err, "500 veths");
	print_message("500 veth pairs between two namespaces: %.3f s\n", now() - t);
	assert_int_equal(nl_link_exists(s, "vtb-v499"), 1);
	assert_int_equal(nl_link_exists(s, "vtb-w0"), 0);
	/* Deleting links is slow (each unregistration waits for an RCU grace
	 * period, ~20 ms, batch or not): delete 20, the rest go with the
	 * namespaces, which the kernel dismantles in one sweep. */
	nl_batch_begin(s);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "vtb-v%d", i);
		nl_link_del(s, name, &err);
	}
	nl_link_del(s, "vtb-v0", &err); /* already gone: fine */
	t = now();
	expect_ok(nl_batch_flush(s, &err), &err, "20 deletes");
	print_message("20 veth pairs deleted: %.3f s\n", now() - t);
	assert_int_equal(nl_link_exists(s, "vtb-v0"), 0);
	assert_int_equal(nl_link_exists(s, "vtb-v19"), 0);
	assert_int_equal(nl_link_exists(s, "vtb-v20"), 1);
	nl_close(s0);
	nl_close(s);
}

/* How long after nl_link_wait_gone has begun the namespace is deleted:
 * long enough that the wait has subscribed and looked once, short enough
 * to keep the suite quick. */
#define DELETE_DELAY_MS 100

/* Thread: delete namespace arg after DELETE_DELAY_MS. */
static void *delete_later(void *arg)
{
	struct timespec d = { 0, DELETE_DELAY_MS * 1000000L };

	nanosleep(&d, NULL);
	return (void *)(intptr_t)netns_delete(arg, 0);
}

/* A lookup that fails is an error, not an absent link. A veth whose
 * peer's namespace is deleted is seen going by its RTM_DELLINK event, from
 * a socket in another namespace (the event socket is opened there) and
 * from the root's. */
static void test_link_gone(void **state)
{
	struct nl_link_opts up = { .up = true };
	struct nl_sock *s0, *sa;
	struct nl_err err;
	char gname[64];
	pthread_t t;
	void *res;
	double t0;
	int fa, r;

	(void)state;
	need_root();
	s0 = sock_in(-1);
	assert_int_equal(nl_link_exists(s0, "vtb-0123456789abcdef"), -EINVAL);
	assert_int_equal(nl_link_exists(s0, ""), -EINVAL);
	assert_int_equal(nl_link_exists(s0, NULL), -EINVAL);
	assert_int_equal(nl_link_wait_gone(s0, "vtb-0123456789abcdef", 10), -EINVAL);
	assert_int_equal(nl_link_wait_gone(s0, "vtb-none", 10), 0); /* never there */

	fa = mk_ns("a", NULL);
	(void)mk_ns("g", NULL);
	snprintf(gname, sizeof(gname), "%s", ns_name("g"));
	sa = sock_in(fa);
	expect_ok(nl_veth_create(s0, "vtb-g0", fa, &up, "vtb-g1", fds[nfds - 1], &up, &err), &err,
		  "veth a-g");
	expect_ok(nl_veth_create(s0, "vtb-g2", -1, &up, "vtb-g3", fds[nfds - 1], &up, &err), &err,
		  "veth root-g");
	assert_int_equal(nl_link_exists(sa, "vtb-g0"), 1);
	assert_int_equal(nl_link_exists(s0, "vtb-g2"), 1);
	assert_int_equal(nl_link_wait_gone(sa, "vtb-g0", 50), -ETIMEDOUT);
	assert_int_equal(nl_link_wait_gone(s0, "vtb-g2", 50), -ETIMEDOUT);

	/* the namespace goes when its bind and its last fd go: ours first,
	 * then the bind, a moment after the wait has begun (so it is the
	 * event that ends the wait, not the first look) */
	close(fds[--nfds]);
	assert_int_equal(pthread_create(&t, NULL, delete_later, gname), 0);
	t0 = now();
	r = nl_link_wait_gone(sa, "vtb-g0", 5000);
	print_message("veth gone with its peer's namespace after %.3f s: %d\n", now() - t0, r);
	assert_int_equal(pthread_join(t, &res), 0);
	assert_int_equal((int)(intptr_t)res, 0);
	assert_int_equal(r, 0);
	assert_true(now() - t0 >= DELETE_DELAY_MS / 1000.0 * 0.9);
	assert_int_equal(nl_link_exists(sa, "vtb-g0"), 0);
	assert_int_equal(nl_link_wait_gone(s0, "vtb-g2", 5000), 0);
	assert_int_equal(nl_link_exists(s0, "vtb-g2"), 0);
	nl_close(sa);
	nl_close(s0);
}

/* Runs last: everything the tests made is gone. */
static void test_nothing_left(void **state)
{
	static const char *const names[] = { "vtb-a", "vtb-b", "vtb-br", "vtb-p1", "vtb-a0",
					      "vtb-m0", "vtb-c0", "vtb-e0", "vtb-y0", "vtb-v0",
					      "vtb-g0", "vtb-g2" };
	struct nl_sock *s0;
	size_t i;

	(void)state;
	need_root();
	assert_int_equal(sweep(NETNS_RUN_DIR, false), 0);
	assert_int_equal(sweep(NETNS_UTS_DIR, false), 0);
	s0 = sock_in(-1);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(nl_link_exists(s0, names[i]), 0);
	nl_close(s0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_veth_pair, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_bridge, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_route_chain, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_errors, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_batch, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_link_gone, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_nothing_left, test_setup, test_teardown),
	};

	return cmocka_run_group_tests_name("nl", tests, group_setup, group_teardown);
}
