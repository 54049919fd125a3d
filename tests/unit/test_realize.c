/* test_realize: realization of small models compiled from source: node
 * kinds, allocations, interfaces, MACs, addresses and routes. */
#include "unit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile.h"
#include "realize.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

static const struct rz_host big_host = { .cores = 64, .memory = 256 * GIB };

/* One compiled model and its realization (or its diagnostics). */
struct run {
	struct xir *x;
	struct realization *r;
	struct diag_list d;
	int rc;
};

/* Compile src (which must compile cleanly) and realize it on h. */
static void run_model(struct run *t, const char *src, const struct rz_host *h)
{
	struct diag_list cd;
	int r;

	memset(t, 0, sizeof(*t));
	diag_init(&cd, "t.vtb", src, strlen(src));
	r = compile_source("t.vtb", src, strlen(src), NULL, &t->x, &cd, NULL);
	if (r) {
		char *s = diag_format(&cd);

		fprintf(stderr, "%s", s ? s : "(no memory)\n");
		free(s);
	}
	assert_int_equal(r, 0);
	diag_free(&cd);
	diag_init(&t->d, "t.vtb", src, strlen(src));
	t->rc = realize(t->x, h ? h : &big_host, &t->r, &t->d);
	if (t->rc == 0)
		assert_int_equal(t->d.nerrors, 0);
	else
		assert_null(t->r);
}

static void run_ok(struct run *t, const char *src, const struct rz_host *h)
{
	run_model(t, src, h);
	if (t->rc) {
		char *s = diag_format(&t->d);

		fprintf(stderr, "%s", s ? s : "(no memory)\n");
		free(s);
	}
	assert_int_equal(t->rc, 0);
}

static void run_free(struct run *t)
{
	realize_free(t->r);
	diag_free(&t->d);
	xir_free(t->x);
}

/* The error whose message is msg exactly; fails the test when none is. */
static const struct diag *find_error(const struct run *t, const char *msg)
{
	size_t i;

	for (i = 0; i < t->d.n; i++)
		if (t->d.v[i].level == DIAG_ERROR && !strcmp(t->d.v[i].msg, msg))
			return &t->d.v[i];
	for (i = 0; i < t->d.n; i++)
		fprintf(stderr, "have: %s\n", t->d.v[i].msg);
	fail_msg("no error \"%s\"", msg);
	return NULL;
}

static void expect_error(const struct run *t, const char *msg, const char *hint)
{
	const struct diag *g = find_error(t, msg);

	assert_int_equal(t->rc, -EINVAL);
	if (hint) {
		assert_non_null(g->hint);
		assert_string_equal(g->hint, hint);
	}
}

static uint32_t node_ix(const struct run *t, const char *name)
{
	uint32_t i;

	assert_true(xir_find_node(t->x, name, &i));
	return i;
}

static const struct rz_node *node_of(const struct run *t, const char *name)
{
	return &t->r->nodes[node_ix(t, name)];
}

static uint32_t link_ix(const struct run *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->x->nlinks; i++)
		if (!strcmp(t->x->links[i].name, name))
			return (uint32_t)i;
	fail_msg("no link '%s'", name);
	return 0;
}

static const char *fmt(const struct addr_prefix *a, char buf[64])
{
	if (!a->family)
		return "none";
	return addr_format(a, buf, 64);
}

/* The IPv4 address of node's interface on link, as text. */
static void expect_v4(const struct run *t, const char *node, const char *link, const char *want)
{
	const struct rz_node *n = node_of(t, node);
	uint32_t l = link_ix(t, link);
	char buf[64];
	size_t i;

	for (i = 0; i < n->nifs; i++)
		if (n->ifs[i].link == l) {
			assert_string_equal(fmt(&n->ifs[i].v4, buf), want);
			return;
		}
	fail_msg("'%s' is not on '%s'", node, link);
}

static void expect_subnet(const struct run *t, const char *link, const char *want)
{
	char buf[64];

	assert_string_equal(fmt(&t->r->links[link_ix(t, link)].subnet4, buf), want);
}

/* Route i of node as "dst via gw". */
static void expect_route(const struct run *t, const char *node, size_t i, const char *want)
{
	const struct rz_node *n = node_of(t, node);
	char d[64], g[64], got[160];

	assert_true(i < n->nroutes);
	snprintf(got, sizeof(got), "%s via %s", fmt(&n->routes[i].dst, d),
		 fmt(&n->routes[i].via, g));
	assert_string_equal(got, want);
}

static void expect_nroutes(const struct run *t, const char *node, size_t want)
{
	const struct rz_node *n = node_of(t, node);
	char d[64], g[64];
	size_t i;

	if (n->nroutes != want)
		for (i = 0; i < n->nroutes; i++)
			fprintf(stderr, "%s: %s via %s\n", node, fmt(&n->routes[i].dst, d),
				fmt(&n->routes[i].via, g));
	assert_int_equal(n->nroutes, want);
}

/* A model of a chain of n devices n0 .. n(n-1), with extra lines after. */
static char *chain_model(unsigned n, const char *extra)
{
	char *s;

	assert_true(asprintf(&s,
			     "n = []\n"
			     "for i in range(%u):\n"
			     "    n.append(topo.device('n' + str(i)))\n"
			     "for i in range(%u):\n"
			     "    topo.connect([n[i], n[i + 1]])\n"
			     "%s",
			     n, n - 1, extra ? extra : "") > 0);
	return s;
}

/* ---- rule 1: kinds ---- */

static void test_vm_virt(void **state)
{
	struct run t;
	uint32_t r, a;

	(void)state;
	run_ok(&t,
	       "r = topo.device('r', virt == true)\n"
	       "a = topo.device('a')\n"
	       "b = topo.device('b', virt == true, cores == 2, memory == mb(300))\n"
	       "topo.connect([r, a])\n"
	       "topo.connect([r, b])\n",
	       NULL);
	r = node_ix(&t, "r");
	a = node_ix(&t, "a");
	assert_int_equal(t.r->nodes[r].kind, RZ_VM);
	assert_int_equal(t.r->nodes[a].kind, RZ_CONTAINER);
	/* the default size, and the allocation */
	assert_int_equal(t.r->nodes[r].vm_cores, 1);
	assert_int_equal(t.r->nodes[r].vm_memory_mib, 256);
	assert_int_equal(t.r->nodes[node_ix(&t, "b")].vm_cores, 2);
	assert_int_equal(t.r->nodes[node_ix(&t, "b")].vm_memory_mib, 300);
	/* VM interfaces are virtio unless asked; containers have none */
	assert_string_equal(t.r->nodes[r].ifs[0].nic, "virtio");
	assert_string_equal(t.r->nodes[a].ifs[0].nic, "");
	run_free(&t);
}

static void test_vm_nic(void **state)
{
	struct run t;
	uint32_t r;

	(void)state;
	run_ok(&t,
	       "r = topo.device('r')\n"
	       "a = topo.device('a')\n"
	       "c = topo.device('c')\n"
	       "l = topo.connect([r, a])\n"
	       "l[r].spec(nic == e1000)\n"
	       "topo.connect([r, c])\n",
	       NULL);
	r = node_ix(&t, "r");
	assert_int_equal(t.r->nodes[r].kind, RZ_VM);
	assert_string_equal(t.r->nodes[r].ifs[0].nic, "e1000");
	assert_string_equal(t.r->nodes[r].ifs[1].nic, "virtio");
	run_free(&t);

	/* a physical NIC family does not ask for a VM, but this host has none:
	 * refused, and the VM error does not appear */
	run_model(&t,
		  "r = topo.device('r')\n"
		  "a = topo.device('a')\n"
		  "l = topo.connect([r, a])\n"
		  "l[r].spec(nic >= connect4)\n",
		  NULL);
	expect_error(&t,
		     "link 'r-a', endpoint 'r': nic >= connect4: physical NICs (passthrough, "
		     "SR-IOV) are not in this host's inventory",
		     "remove it to build the experiment");
	assert_int_equal(t.d.nerrors, 1);
	run_free(&t);
}

/* Constraints this host cannot meet yet are refused, not ignored. */
static void test_unsupported(void **state)
{
	struct run t;

	(void)state;
	run_model(&t,
		  "a = topo.device('a', disk == gb(1))\n"
		  "b = topo.device('b')\n"
		  "l = topo.connect([a, b])\n"
		  "l[b].spec(vlan == 100)\n",
		  NULL);
	expect_error(&t, "device 'a': disk == gb(1): vtb's guests run from their initramfs and have "
			 "no disk yet",
		     "remove it to build the experiment");
	expect_error(&t, "link 'a-b', endpoint 'b': vlan == 100: VLAN tags on endpoints are not "
			 "supported yet", NULL);
	assert_int_equal(t.d.nerrors, 2);
	run_free(&t);
}

/* Rule 9: cores a bandwidth, scaled by cpufreq / the host's frequency;
 * memory a limit; a VM's QEMU gets its overhead; no constraint, no limit;
 * a frequency above the host's, or on a host whose frequency is unknown,
 * is an error naming both values. */
static void test_limits(void **state)
{
	const struct rz_host h = { .cores = 64, .memory = 256 * GIB, .cpu_hz = 2200000000ULL };
	struct run t;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a', cores == 2, cpufreq == ghz(1.1))\n"
	       "b = topo.device('b', memory == mb(64))\n"
	       "c = topo.device('c', cores == 1, cpuset == true)\n"
	       "v = topo.device('v', virt == true, cores == 2, memory == mb(512))\n"
	       "n = topo.device('n')\n"
	       "f = topo.device('f', cpufreq == mhz(550))\n"
	       "topo.connect([a, b, c, v, n, f])\n",
	       &h);
	assert_int_equal(node_of(&t, "a")->cpu_milli, 1000);
	assert_int_equal(node_of(&t, "a")->mem_limit, 0);
	assert_int_equal(node_of(&t, "b")->cpu_milli, 0);
	assert_int_equal(node_of(&t, "b")->mem_limit, 64ULL << 20);
	assert_int_equal(node_of(&t, "c")->cpu_milli, 1000);
	assert_true(node_of(&t, "c")->cpuset);
	assert_false(node_of(&t, "a")->cpuset);
	assert_int_equal(node_of(&t, "v")->cpu_milli, 2000 + RZ_VM_CPU_OVERHEAD);
	assert_int_equal(node_of(&t, "v")->mem_limit, (512ULL << 20) + RZ_VM_MEM_OVERHEAD);
	assert_int_equal(node_of(&t, "n")->cpu_milli, 0);
	assert_int_equal(node_of(&t, "n")->mem_limit, 0);
	assert_int_equal(node_of(&t, "f")->cpu_milli, 250);
	run_free(&t);

	run_model(&t, "a = topo.device('a', cpufreq == ghz(3))\n", &h);
	expect_error(&t, "device 'a': cpufreq == ghz(3) is above this host's CPU frequency "
			 "(2.200 GHz, asked 3.000 GHz)", NULL);
	run_free(&t);
	run_model(&t, "a = topo.device('a', cpufreq == ghz(1))\n", NULL);
	expect_error(&t, "device 'a': cpufreq == ghz(1): this host's CPU frequency is unknown",
		     "set VTB_HOST_CPUFREQ (e.g. 2.2ghz) to the host CPU's frequency");
	run_free(&t);
}

/* privileged and private: sorted parents first, seeds split off, a path
 * given twice and both properties on a VM refused. */
static void test_views(void **state)
{
	struct run t;
	const struct rz_node *a, *b;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a', privileged == true,\n"
	       "                private == ['/var/lib/frr', '/etc/frr=/srv/tmpl', '/etc'])\n"
	       "b = topo.device('b', privileged != true)\n"
	       "topo.connect([a, b])\n",
	       NULL);
	a = &t.r->nodes[0];
	b = &t.r->nodes[1];
	assert_true(a->privileged);
	assert_false(b->privileged);
	assert_int_equal(b->npriv, 0);
	assert_int_equal(a->npriv, 3);
	assert_string_equal(a->priv[0].path, "/etc");
	assert_null(a->priv[0].seed);
	assert_string_equal(a->priv[1].path, "/etc/frr");
	assert_string_equal(a->priv[1].seed, "/srv/tmpl");
	assert_string_equal(a->priv[2].path, "/var/lib/frr");
	assert_null(a->priv[2].seed);
	run_free(&t);

	run_model(&t,
		  "a = topo.device('a', private == ['/x', '/y', '/x=/z'])\n"
		  "v = topo.device('v', virt == true, privileged == true, private == '/w')\n"
		  "topo.connect([a, v])\n",
		  NULL);
	expect_error(&t, "device 'a': private directory /x given twice", "give each directory once");
	expect_error(&t, "device 'v': privileged applies to container devices only", NULL);
	assert_int_equal(t.d.nerrors, 2);
	run_free(&t);

	/* a VM's private directories, as a container's */
	run_model(&t,
		  "v = topo.device('v', virt == true, private == ['/run/x', '/etc/frr=/etc/frr'])\n"
		  "topo.connect([v, topo.device('a')])\n",
		  NULL);
	assert_int_equal(t.d.nerrors, 0);
	assert_int_equal(t.r->nodes[0].npriv, 2);
	assert_string_equal(t.r->nodes[0].priv[0].path, "/etc/frr");
	assert_string_equal(t.r->nodes[0].priv[0].seed, "/etc/frr");
	assert_string_equal(t.r->nodes[0].priv[1].path, "/run/x");
	run_free(&t);
}

/* routing == hosts: a host keeps its default route towards its only
 * neighbour, a router gets none (its routing daemon installs them). */
static void test_routing_hosts(void **state)
{
	static const char *const spellings[] = { "hosts", "'hosts'" };
	char src[512], g[64];
	struct run t;
	size_t k;

	(void)state;
	for (k = 0; k < UTIL_ARRAY_SIZE(spellings); k++) {
		snprintf(src, sizeof(src),
			 "topo.spec(routing == %s)\n"
			 "a = topo.device('a')\nr = topo.device('r')\n"
			 "s = topo.device('s')\nb = topo.device('b')\n"
			 "l = topo.connect([a, r])\nl[r].spec(ip == '10.0.1.1/24')\n"
			 "topo.connect([r, s])\n"
			 "m = topo.connect([s, b])\nm[s].spec(ip == '10.0.3.1/24')\n",
			 spellings[k]);
		run_ok(&t, src, NULL);
		assert_int_equal(t.r->nodes[0].nroutes, 1);
		assert_int_equal(t.r->nodes[0].routes[0].dst.plen, 0);
		assert_string_equal(fmt(&t.r->nodes[0].routes[0].via, g), "10.0.1.1/24");
		assert_int_equal(t.r->nodes[1].nroutes, 0);
		assert_int_equal(t.r->nodes[2].nroutes, 0);
		assert_int_equal(t.r->nodes[3].nroutes, 1);
		assert_string_equal(fmt(&t.r->nodes[3].routes[0].via, g), "10.0.3.1/24");
		run_free(&t);
	}
}

/* image == 'debian:SUITE' makes a VM on a Debian tree with its packages
 * (sorted, each once); packages need an image; kernel is refused. */
static void test_vm_image(void **state)
{
	const struct rz_node *r;
	struct run t;

	(void)state;
	run_model(&t,
		  "r = topo.device('r', image == 'debian:bookworm', packages == ['iperf3', 'frr'],\n"
		  "                packages == 'iperf3')\n"
		  "a = topo.device('a')\n"
		  "topo.connect([r, a])\n",
		  NULL);
	assert_int_equal(t.d.nerrors, 0);
	r = &t.r->nodes[0];
	assert_int_equal(r->kind, RZ_VM);
	assert_string_equal(r->image, "debian:bookworm");
	assert_int_equal(r->npkgs, 2);
	assert_string_equal(r->pkgs[0], "frr");
	assert_string_equal(r->pkgs[1], "iperf3");
	assert_null(t.r->nodes[1].image);
	run_free(&t);

	run_model(&t,
		  "r = topo.device('r', virt == true, packages == ['frr'])\n"
		  "k = topo.device('k', kernel == '6.1')\n"
		  "topo.connect([r, k])\n",
		  NULL);
	expect_error(&t,
		     "device 'r': packages are installed in an image: the host's userland has what "
		     "the host installed",
		     "add image == 'debian:bookworm' (a VM on a Debian tree of its own)");
	expect_error(&t,
		     "device 'k': kernel == \"6.1\": vtb boots its own guest kernel (Debian's, vtb "
		     "image build); other kernels are not supported yet",
		     "remove it to build the experiment");
	run_free(&t);
}

/* ---- rule 2: links ---- */

/* Impairments make a link emulated; per-direction values come from the
 * link, overridden by the endpoint the direction leaves. */
static void test_emulated(void **state)
{
	struct run t;
	const struct emu_params *d;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "l = topo.connect([a, b], latency == ms(1), capacity == mbps(100))\n"
	       "l[b].spec(latency == ms(7), loss == 0.01, queue == kb(64))\n",
	       NULL);
	assert_true(t.r->links[0].emulated);
	d = t.r->links[0].dir;
	assert_non_null(d);
	assert_int_equal(d[0].latency_ns, 1000000);
	assert_int_equal(d[0].rate_bps, 100000000);
	assert_true(d[0].loss == 0);
	assert_int_equal(d[1].latency_ns, 7000000);
	assert_int_equal(d[1].rate_bps, 100000000);
	assert_true(d[1].loss == 0.01);
	assert_int_equal(d[1].queue_bytes, 65536);
	assert_int_equal(d[1].queue_pkts, 0);
	run_free(&t);

	/* an impairment on one endpoint makes the whole link emulated; an
	 * upper bound alone adds nothing */
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "l = topo.connect([a, b], latency <= ms(5))\n"
	       "l[b].spec(loss == 0.01)\n"
	       "topo.connect([b, c])\n",
	       NULL);
	assert_true(t.r->links[0].emulated);
	assert_int_equal(t.r->links[0].dir[0].latency_ns, 0);
	assert_false(t.r->links[1].emulated);
	assert_null(t.r->links[1].dir);
	run_free(&t);

	/* a burst turns loss into Gilbert-Elliott with the same mean */
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "topo.connect([a, b], loss == 0.2, burst == 4)\n",
	       NULL);
	d = t.r->links[0].dir;
	assert_true(d[0].ge.on);
	assert_true(fabs(d[0].ge.p_bg - 0.25) < 1e-12);
	assert_true(fabs(d[0].ge.p_gb / (d[0].ge.p_gb + d[0].ge.p_bg) - 0.2) < 1e-12);
	run_free(&t);

	run_model(&t,
		  "a = topo.device('a')\n"
		  "b = topo.device('b')\n"
		  "topo.connect([a, b], loss == 0.2, burst == 0.5)\n",
		  NULL);
	expect_error(&t, "link 'a-b', direction from 'a': burst == 0.5 does not fit loss == 0.2",
		     NULL);
	run_free(&t);
}

/* capacity or queue alone: through the emulator too (one rate limiter). */
static void test_capacity(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "topo.connect([a, b], capacity <= mbps(20), queue == 100)\n",
	       NULL);
	assert_true(t.r->links[0].emulated);
	assert_int_equal(t.r->links[0].dir[0].rate_bps, 20000000);
	assert_int_equal(t.r->links[0].dir[1].queue_pkts, 100);
	run_free(&t);

	/* capacity >= v asks for nothing a veth does not give */
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "topo.connect([a, b], capacity >= mbps(20))\n",
	       NULL);
	assert_true(t.r->links[0].emulated);
	assert_int_equal(t.r->links[0].dir[0].rate_bps, 0);
	run_free(&t);
}

static void test_mtu_kinds(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "topo.connect([a, b], mtu == 9000)\n"
	       "topo.connect([a, b, c], mtu <= 1400)\n"
	       "topo.connect([b, c], mtu <= 9000)\n",
	       NULL);
	assert_int_equal(t.r->links[0].mtu, 9000);
	assert_int_equal(t.r->links[0].kind, RZ_P2P);
	assert_false(t.r->links[0].emulated);
	assert_int_equal(t.r->links[1].mtu, 1400);
	assert_int_equal(t.r->links[1].kind, RZ_LAN);
	assert_int_equal(t.r->links[2].mtu, 0);
	run_free(&t);

	run_model(&t,
		  "a = topo.device('a')\n"
		  "b = topo.device('b')\n"
		  "l = topo.connect([a, b])\n"
		  "l[a].spec(mtu == 9000)\n",
		  NULL);
	expect_error(&t, "link 'a-b', endpoint 'a': per-endpoint mtu is not supported", NULL);
	run_free(&t);
}

/* ---- rule 3: allocation ---- */

static void test_alloc(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "topo.spec(islands == true)\n"
	       "topo.device('a', cores == 2, memory == gb(1))\n"
	       "topo.device('b', cores >= 3, memory >= mb(512))\n"
	       "topo.device('c', cores > 3, memory > mb(512))\n"
	       "topo.device('d', cores <= 4, memory <= gb(2))\n"
	       "topo.device('e')\n"
	       "topo.device('f', cores >= 2, cores != 2, cores < 8)\n"
	       "topo.device('g', cores >= 2, cores > 2, cores >= 1)\n",
	       NULL);
	assert_int_equal(node_of(&t, "a")->cores, 2);
	assert_int_equal(node_of(&t, "a")->memory, GIB);
	assert_int_equal(node_of(&t, "b")->cores, 3);
	assert_int_equal(node_of(&t, "b")->memory, 512 * MIB);
	assert_int_equal(node_of(&t, "c")->cores, 4);
	assert_int_equal(node_of(&t, "c")->memory, 512 * MIB + 1);
	assert_int_equal(node_of(&t, "d")->cores, 1);
	assert_int_equal(node_of(&t, "d")->memory, 0);
	assert_int_equal(node_of(&t, "e")->cores, 0);
	assert_int_equal(node_of(&t, "e")->memory, 0);
	assert_int_equal(node_of(&t, "f")->cores, 3);
	assert_int_equal(node_of(&t, "g")->cores, 3);
	assert_int_equal(node_of(&t, "a")->kind, RZ_CONTAINER);
	assert_int_equal(node_of(&t, "a")->nifs, 0);
	run_free(&t);
}

static void test_fit(void **state)
{
	struct rz_host h = { .cores = 2, .memory = 4 * GIB, .used_cores = 1, .used_memory = GIB };
	struct run t;

	(void)state;
	run_model(&t,
		  "a = topo.device('a', cores == 4, memory == gb(8))\n"
		  "b = topo.device('b')\n"
		  "topo.connect([a, b])\n",
		  &h);
	expect_error(&t, "device 'a': cores == 4 does not fit: this host has 2 cores, 1 free",
		     "other experiments hold 1 core; take one down or ask for less");
	expect_error(&t,
		     "device 'a': memory == gb(8) does not fit: this host has 4 GiB of memory, "
		     "3 GiB free",
		     "other experiments hold 1 GiB; take one down or ask for less");
	assert_int_equal(find_error(&t, "device 'a': cores == 4 does not fit: this host has 2 "
					"cores, 1 free")->loc.line,
			 1);
	assert_int_equal(t.d.nerrors, 2);
	run_free(&t);

	/* exactly full fits */
	h = (struct rz_host){ .cores = 4, .memory = 4 * GIB, .used_cores = 2, .used_memory = 3 * GIB };
	run_ok(&t,
	       "a = topo.device('a', cores == 1, memory == mb(512))\n"
	       "b = topo.device('b', cores >= 1, memory == mb(512))\n"
	       "topo.connect([a, b])\n",
	       &h);
	run_free(&t);
}

static void test_fit_cumulative(void **state)
{
	struct rz_host h = { .cores = 4, .memory = 16 * GIB, .used_cores = 1, .used_memory = 0 };
	struct run t;

	(void)state;
	run_model(&t,
		  "a = topo.device('a', cores == 2, memory == gb(6))\n"
		  "b = topo.device('b', cores == 2, memory == gb(6))\n"
		  "c = topo.device('c', cores == 1, memory == mb(5632))\n"
		  "topo.connect([a, b, c])\n",
		  &h);
	/* b is where the cores first run out, c where the memory does */
	expect_error(&t,
		     "device 'b': cores == 2 does not fit: this host has 4 cores, 3 free, and "
		     "earlier devices take 2",
		     "other experiments hold 1 core; take one down or ask for less");
	expect_error(&t,
		     "device 'c': memory == mb(5632) does not fit: this host has 16 GiB of "
		     "memory, 16 GiB free, and earlier devices take 12 GiB",
		     "the devices of this experiment ask for 17.5 GiB in all; ask for less");
	assert_int_equal(t.d.nerrors, 2);
	run_free(&t);

	h = (struct rz_host){ .cores = 2, .memory = 16 * GIB, .used_cores = 0, .used_memory = 0 };
	run_model(&t,
		  "a = topo.device('a', cores > 2)\n"
		  "b = topo.device('b', memory == mb(100))\n"
		  "topo.connect([a, b])\n",
		  &h);
	expect_error(&t, "device 'a': cores > 2 does not fit: this host has 2 cores, 2 free",
		     "the devices of this experiment ask for 3 cores in all; ask for less");
	run_free(&t);
}

/* The host's memory: containers and emulated ports counted against
 * MemAvailable minus the reserve (rule 3); unknown (0) is not checked. */
static void test_host_memory(void **state)
{
	struct rz_host h = { .cores = 64, .memory = 256 * GIB, .available = RZ_MEM_RESERVE + 400 * MIB };
	char *src = chain_model(1000, NULL);
	struct run t;

	(void)state;
	run_model(&t, src, &h);
	expect_error(&t,
		     "1000 containers need about 437.5 MiB of kernel memory; this host has "
		     "912 MiB available",
		     "make the experiment smaller, or free memory on this host");
	assert_int_equal(t.d.nerrors, 1);
	run_free(&t);
	h.available = RZ_MEM_RESERVE + 440 * MIB;
	run_ok(&t, src, &h);
	run_free(&t);
	h.available = 0;
	run_ok(&t, src, &h);
	run_free(&t);
	free(src);

	/* 9 emulated links: 18 ports with 4 MiB rings */
	h.available = RZ_MEM_RESERVE + 64 * MIB;
	run_model(&t,
		  "n = []\n"
		  "for i in range(10):\n"
		  "    n.append(topo.device('n' + str(i)))\n"
		  "for i in range(9):\n"
		  "    topo.connect([n[i], n[i + 1]], latency == ms(1))\n",
		  &h);
	expect_error(&t,
		     "10 containers and 18 emulated ports need about 78.6 MiB of kernel memory; "
		     "this host has 576 MiB available", NULL);
	run_free(&t);
}

/* ---- rule 4: interfaces and MACs ---- */

static void test_ifnames(void **state)
{
	struct run t;
	const struct rz_node *a, *b, *c;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "topo.connect([b, c])\n"
	       "topo.connect([a, b])\n"
	       "topo.connect([c, a])\n",
	       NULL);
	a = node_of(&t, "a");
	b = node_of(&t, "b");
	c = node_of(&t, "c");
	assert_int_equal(a->nifs, 2);
	assert_string_equal(a->ifs[0].name, "eth0");
	assert_int_equal(a->ifs[0].link, 1);
	assert_string_equal(a->ifs[1].name, "eth1");
	assert_int_equal(a->ifs[1].link, 2);
	assert_int_equal(b->ifs[0].link, 0);
	assert_int_equal(b->ifs[1].link, 1);
	assert_int_equal(c->ifs[0].link, 0);
	assert_int_equal(c->ifs[1].link, 2);
	/* link c-a: endpoint 0 is c (its eth1), endpoint 1 is a (its eth1) */
	assert_int_equal(t.r->ep_if[2][0], 1);
	assert_int_equal(t.r->ep_if[2][1], 1);
	assert_int_equal(t.r->ep_if[1][0], 0);
	assert_int_equal(t.r->ep_if[1][1], 1);
	assert_true(a->forwarding);
	run_free(&t);
}

static const char *mac_model = "a = topo.device('a')\n"
			       "b = topo.device('b')\n"
			       "c = topo.device('c')\n"
			       "d = topo.device('d')\n"
			       "l = topo.connect([a, b])\n"
			       "m = topo.connect([c, d, a])\n"
			       "m[d].spec(mac == '02:00:00:00:00:42')\n";

static void test_mac_stable(void **state)
{
	struct run t1, t2;
	const struct rz_node *d;
	size_t i, j;

	(void)state;
	run_ok(&t1, mac_model, NULL);
	run_ok(&t2, mac_model, NULL);
	for (i = 0; i < t1.x->nnodes; i++)
		for (j = 0; j < t1.r->nodes[i].nifs; j++) {
			const uint8_t *m = t1.r->nodes[i].ifs[j].mac;

			assert_memory_equal(m, t2.r->nodes[i].ifs[j].mac, 6);
			assert_int_equal(m[0] & 1, 0); /* unicast */
			assert_int_equal(m[0] & 2, 2); /* locally administered */
		}
	d = node_of(&t1, "d");
	assert_memory_equal(d->ifs[0].mac, ((const uint8_t[]){ 2, 0, 0, 0, 0, 0x42 }), 6);
	assert_int_equal(node_of(&t1, "a")->ifs[0].mac[0], 0x02);
	assert_memory_not_equal(node_of(&t1, "a")->ifs[0].mac, node_of(&t1, "a")->ifs[1].mac, 6);
	run_free(&t2);
	run_free(&t1);
}

/* Another experiment name gives other MACs; a given MAC that equals a
 * generated one makes the generated one move. */
static void test_mac_unique(void **state)
{
	struct run t1, t2;
	uint8_t a0[6];
	char src[512], *chain;
	uint8_t *all;
	size_t i, j, n = 0;

	(void)state;
	run_ok(&t1, mac_model, NULL);
	memcpy(a0, node_of(&t1, "a")->ifs[0].mac, 6);
	snprintf(src, sizeof(src), "%stopo.spec(name == 'other')\n", mac_model);
	run_ok(&t2, src, NULL);
	assert_memory_not_equal(a0, node_of(&t2, "a")->ifs[0].mac, 6);
	run_free(&t2);
	snprintf(src, sizeof(src), "%sm[c].spec(mac == '%02x:%02x:%02x:%02x:%02x:%02x')\n",
		 mac_model, a0[0], a0[1], a0[2], a0[3], a0[4], a0[5]);
	run_ok(&t2, src, NULL);
	assert_memory_equal(node_of(&t2, "c")->ifs[0].mac, a0, 6);
	assert_memory_not_equal(node_of(&t2, "a")->ifs[0].mac, a0, 6);
	assert_int_equal(node_of(&t2, "a")->ifs[0].mac[0], 0x02);
	/* the others are as before */
	assert_memory_equal(node_of(&t2, "b")->ifs[0].mac, node_of(&t1, "b")->ifs[0].mac, 6);
	run_free(&t2);
	run_free(&t1);

	/* 300 nodes: every MAC distinct */
	chain = chain_model(300, NULL);
	run_ok(&t1, chain, NULL);
	all = malloc(600 * 6);
	assert_non_null(all);
	for (i = 0; i < t1.x->nnodes; i++)
		for (j = 0; j < t1.r->nodes[i].nifs; j++)
			memcpy(all + 6 * n++, t1.r->nodes[i].ifs[j].mac, 6);
	assert_int_equal(n, 598);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			assert_memory_not_equal(all + 6 * i, all + 6 * j, 6);
	free(all);
	free(chain);
	run_free(&t1);
}

/* ---- rule 5: addresses ---- */

static void test_addr_auto(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "d = topo.device('d')\n"
	       "topo.connect([a, b])\n"
	       "topo.connect([b, c])\n"
	       "topo.connect([c, d, a])\n",
	       NULL);
	expect_subnet(&t, "a-b", "10.0.0.0/24");
	expect_v4(&t, "a", "a-b", "10.0.0.1/24");
	expect_v4(&t, "b", "a-b", "10.0.0.2/24");
	expect_subnet(&t, "b-c", "10.0.1.0/24");
	expect_v4(&t, "b", "b-c", "10.0.1.1/24");
	expect_v4(&t, "c", "b-c", "10.0.1.2/24");
	/* a LAN of three */
	expect_subnet(&t, "lan0", "10.0.2.0/24");
	expect_v4(&t, "c", "lan0", "10.0.2.1/24");
	expect_v4(&t, "d", "lan0", "10.0.2.2/24");
	expect_v4(&t, "a", "lan0", "10.0.2.3/24");
	assert_int_equal(t.r->links[2].kind, RZ_LAN);
	assert_int_equal(t.r->links[0].subnet6.family, 0);
	assert_int_equal(node_of(&t, "a")->ifs[0].v6.family, 0);
	run_free(&t);
}

static void test_addr_pool(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "topo.spec(pool == '10.100.0.0/16')\n"
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "topo.connect([a, b])\n"
	       "topo.connect([b, c])\n",
	       NULL);
	expect_v4(&t, "a", "a-b", "10.100.0.1/24");
	expect_v4(&t, "c", "b-c", "10.100.1.2/24");
	run_free(&t);

	/* a pool smaller than a /24: subnets just large enough */
	run_ok(&t,
	       "topo.spec(pool == '192.168.7.0/28')\n"
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "topo.connect([a, b])\n"
	       "topo.connect([b, c])\n",
	       NULL);
	expect_subnet(&t, "a-b", "192.168.7.0/30");
	expect_v4(&t, "c", "b-c", "192.168.7.6/30");
	run_free(&t);
}

static void test_addr_skip_given(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "d = topo.device('d')\n"
	       "e = topo.device('e')\n"
	       "f = topo.device('f')\n"
	       "topo.connect([a, b])\n"
	       "l = topo.connect([b, c])\n"
	       "topo.connect([c, d])\n"
	       "m = topo.connect([d, e])\n"
	       "topo.connect([e, f])\n"
	       "l[c].spec(ip == '10.0.0.1/24')\n"
	       "m[e].spec(ip == '10.0.2.9/23')\n",
	       NULL);
	/* 10.0.0.0/24 and 10.0.2.0/23 are given: the pool skips them */
	expect_subnet(&t, "a-b", "10.0.1.0/24");
	expect_subnet(&t, "b-c", "10.0.0.0/24");
	expect_v4(&t, "c", "b-c", "10.0.0.1/24");
	expect_v4(&t, "b", "b-c", "10.0.0.2/24");
	expect_subnet(&t, "c-d", "10.0.4.0/24");
	expect_subnet(&t, "d-e", "10.0.2.0/23");
	expect_v4(&t, "d", "d-e", "10.0.2.1/23");
	expect_v4(&t, "e", "d-e", "10.0.2.9/23");
	expect_subnet(&t, "e-f", "10.0.5.0/24");
	run_free(&t);
}

static void test_addr_partial(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "d = topo.device('d')\n"
	       "l = topo.connect([a, b, c, d])\n"
	       "l[b].spec(ip == '192.168.1.1/24')\n"
	       "l[d].spec(ip == '192.168.1.3/24')\n",
	       NULL);
	expect_subnet(&t, "lan0", "192.168.1.0/24");
	expect_v4(&t, "a", "lan0", "192.168.1.2/24");
	expect_v4(&t, "b", "lan0", "192.168.1.1/24");
	expect_v4(&t, "c", "lan0", "192.168.1.4/24");
	expect_v4(&t, "d", "lan0", "192.168.1.3/24");
	run_free(&t);
}

static void test_addr_full(void **state)
{
	struct run t;
	char *src;

	(void)state;
	run_model(&t,
		  "a = topo.device('a')\n"
		  "b = topo.device('b')\n"
		  "c = topo.device('c')\n"
		  "l = topo.connect([a, b, c])\n"
		  "l[a].spec(ip == '10.9.0.1/30')\n"
		  "l[b].spec(ip == '10.9.0.2/30')\n",
		  NULL);
	expect_error(&t,
		     "link 'lan0': subnet 10.9.0.0/30 has no free address left for endpoint 'c'",
		     "give the subnet a shorter prefix, or this endpoint an address with ip ==");
	run_free(&t);

	src = chain_model(4, "topo.spec(pool == '10.0.0.0/23')\n");
	run_model(&t, src, NULL);
	expect_error(&t, "link 'n2-n3': the address pool 10.0.0.0/23 has no free /24 left for it",
		     NULL);
	assert_int_equal(t.d.nerrors, 1);
	free(src);
	run_free(&t);
}

static void test_addr_v6(void **state)
{
	struct run t;
	char buf[64];
	const struct rz_node *a;

	(void)state;
	run_ok(&t,
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "l = topo.connect([a, b])\n"
	       "m = topo.connect([b, c])\n"
	       "l[a].spec(ip == 'fd00:1::1/64')\n"
	       "l[b].spec(ip == 'fd00:1::2/64')\n"
	       "m[b].spec(ip == 'fd00:2::1/64')\n"
	       "m[c].spec(ip == 'fd00:2::2/64')\n",
	       NULL);
	a = node_of(&t, "a");
	assert_string_equal(fmt(&a->ifs[0].v6, buf), "fd00:1::1/64");
	assert_string_equal(fmt(&t.r->links[0].subnet6, buf), "fd00:1::/64");
	assert_string_equal(fmt(&t.r->links[1].subnet6, buf), "fd00:2::/64");
	/* IPv4 is still assigned */
	expect_v4(&t, "a", "a-b", "10.0.0.1/24");
	expect_nroutes(&t, "a", 2);
	expect_route(&t, "a", 0, "0.0.0.0/0 via 10.0.0.2/24");
	expect_route(&t, "a", 1, "::/0 via fd00:1::2/64");
	expect_nroutes(&t, "b", 0);
	run_free(&t);
}

static void test_addr_v6_pool(void **state)
{
	struct run t;

	(void)state;
	run_model(&t,
		  "topo.spec(pool == 'fd00::/48')\n"
		  "a = topo.device('a')\n"
		  "b = topo.device('b')\n"
		  "topo.connect([a, b])\n",
		  NULL);
	expect_error(&t,
		     "link 'a-b': the address pool fd00::/48 is IPv6; addresses are assigned from "
		     "IPv4 pools only",
		     NULL);
	run_free(&t);
}

/* ---- rule 6: routes ---- */

static void test_routes_chain4(void **state)
{
	struct run t;
	char *src = chain_model(4, NULL);

	(void)state;
	run_ok(&t, src, NULL);
	/* n0-n1 10.0.0.0/24, n1-n2 10.0.1.0/24, n2-n3 10.0.2.0/24 */
	expect_nroutes(&t, "n0", 1);
	expect_route(&t, "n0", 0, "0.0.0.0/0 via 10.0.0.2/24");
	expect_nroutes(&t, "n1", 1);
	expect_route(&t, "n1", 0, "0.0.0.0/0 via 10.0.1.2/24");
	expect_nroutes(&t, "n2", 1);
	expect_route(&t, "n2", 0, "0.0.0.0/0 via 10.0.1.1/24");
	expect_nroutes(&t, "n3", 1);
	expect_route(&t, "n3", 0, "0.0.0.0/0 via 10.0.2.1/24");
	assert_false(node_of(&t, "n0")->forwarding);
	assert_true(node_of(&t, "n1")->forwarding);
	free(src);
	run_free(&t);
}

static void test_routes_chain5(void **state)
{
	struct run t;
	char *src = chain_model(5, NULL);

	(void)state;
	run_ok(&t, src, NULL);
	/* n1: two subnets to the right, n2: one each way (the tie goes to
	 * the first hop on the lower link) */
	expect_nroutes(&t, "n1", 1);
	expect_route(&t, "n1", 0, "0.0.0.0/0 via 10.0.1.2/24");
	expect_nroutes(&t, "n2", 2);
	expect_route(&t, "n2", 0, "0.0.0.0/0 via 10.0.1.1/24");
	expect_route(&t, "n2", 1, "10.0.3.0/24 via 10.0.2.2/24");
	expect_nroutes(&t, "n3", 1);
	expect_route(&t, "n3", 0, "0.0.0.0/0 via 10.0.2.1/24");
	free(src);
	run_free(&t);
}

/* Sibling subnets through one gateway become one route. */
static void test_routes_merge(void **state)
{
	struct run t;
	char *src = chain_model(10, NULL);

	(void)state;
	run_ok(&t, src, NULL);
	/* n5: 10.0.0-3 via n4 (the default), 10.0.6-8 via n6 */
	expect_nroutes(&t, "n5", 3);
	expect_route(&t, "n5", 0, "0.0.0.0/0 via 10.0.4.1/24");
	expect_route(&t, "n5", 1, "10.0.6.0/23 via 10.0.5.2/24");
	expect_route(&t, "n5", 2, "10.0.8.0/24 via 10.0.5.2/24");
	/* n2: 10.0.0.0/24 via n1, 10.0.3-8 via n3 (the default) */
	expect_nroutes(&t, "n2", 2);
	expect_route(&t, "n2", 0, "0.0.0.0/0 via 10.0.2.2/24");
	expect_route(&t, "n2", 1, "10.0.0.0/24 via 10.0.1.1/24");
	free(src);
	run_free(&t);
}

/* IPv6 routes beside the IPv4 ones, merged the same way. */
static void test_routes_v6(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "n = []\n"
	       "for i in range(7):\n"
	       "    n.append(topo.device('n' + str(i)))\n"
	       "for i in range(6):\n"
	       "    l = topo.connect([n[i], n[i + 1]])\n"
	       "    l[n[i]].spec(ip == 'fd00:0:0:' + str(i) + '::1/64')\n"
	       "    l[n[i + 1]].spec(ip == 'fd00:0:0:' + str(i) + '::2/64')\n",
	       NULL);
	expect_nroutes(&t, "n3", 4);
	expect_route(&t, "n3", 0, "0.0.0.0/0 via 10.0.2.1/24");
	expect_route(&t, "n3", 1, "10.0.4.0/23 via 10.0.3.2/24");
	expect_route(&t, "n3", 2, "::/0 via fd00:0:0:2::1/64");
	expect_route(&t, "n3", 3, "fd00:0:0:4::/63 via fd00:0:0:3::2/64");
	expect_nroutes(&t, "n0", 2);
	expect_route(&t, "n0", 1, "::/0 via fd00::2/64");
	run_free(&t);
}

static const char *star_model = "h = topo.device('h')\n"
				"a = topo.device('a')\n"
				"b = topo.device('b')\n"
				"c = topo.device('c')\n"
				"x = topo.device('x')\n"
				"y = topo.device('y')\n"
				"z = topo.device('z')\n"
				"topo.connect([h, a, b, c])\n"
				"topo.connect([a, x])\n"
				"topo.connect([b, y])\n"
				"topo.connect([c, z])\n";

static void test_routes_star(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t, star_model, NULL);
	/* lan0 10.0.0.0/24: h .1, a .2, b .3, c .4; a-x 10.0.1, b-y 10.0.2, c-z 10.0.3 */
	expect_nroutes(&t, "h", 3);
	expect_route(&t, "h", 0, "0.0.0.0/0 via 10.0.0.2/24");
	expect_route(&t, "h", 1, "10.0.2.0/24 via 10.0.0.3/24");
	expect_route(&t, "h", 2, "10.0.3.0/24 via 10.0.0.4/24");
	expect_nroutes(&t, "a", 2);
	expect_route(&t, "a", 0, "0.0.0.0/0 via 10.0.0.3/24");
	expect_route(&t, "a", 1, "10.0.3.0/24 via 10.0.0.4/24");
	expect_nroutes(&t, "x", 1);
	expect_route(&t, "x", 0, "0.0.0.0/0 via 10.0.1.1/24");
	expect_nroutes(&t, "z", 1);
	expect_route(&t, "z", 0, "0.0.0.0/0 via 10.0.3.1/24");
	assert_false(node_of(&t, "h")->forwarding);
	assert_true(node_of(&t, "a")->forwarding);
	run_free(&t);
}

static void test_routes_ring(void **state)
{
	static const char *ring = "a = topo.device('a')\n"
				  "b = topo.device('b')\n"
				  "c = topo.device('c')\n"
				  "d = topo.device('d')\n"
				  "topo.connect([a, b])\n"
				  "topo.connect([b, c])\n"
				  "topo.connect([c, d])\n"
				  "topo.connect([d, a])\n";
	struct run t1, t2;
	size_t i;

	(void)state;
	run_ok(&t1, ring, NULL);
	/* a-b 10.0.0, b-c 10.0.1, c-d 10.0.2, d-a 10.0.3 (d .1, a .2) */
	expect_nroutes(&t1, "a", 2);
	expect_route(&t1, "a", 0, "0.0.0.0/0 via 10.0.0.2/24");
	expect_route(&t1, "a", 1, "10.0.2.0/24 via 10.0.3.1/24");
	expect_nroutes(&t1, "c", 2);
	expect_route(&t1, "c", 0, "0.0.0.0/0 via 10.0.1.1/24");
	expect_route(&t1, "c", 1, "10.0.3.0/24 via 10.0.2.2/24");
	run_ok(&t2, ring, NULL);
	for (i = 0; i < t1.x->nnodes; i++) {
		assert_int_equal(t1.r->nodes[i].nroutes, t2.r->nodes[i].nroutes);
		assert_memory_equal(t1.r->nodes[i].routes, t2.r->nodes[i].routes,
				    t1.r->nodes[i].nroutes * sizeof(struct rz_route));
	}
	run_free(&t2);
	run_free(&t1);
}

static void test_routes_off(void **state)
{
	struct run t;
	char *src = chain_model(5, "topo.spec(routing == false)\n");
	size_t i;

	(void)state;
	run_ok(&t, src, NULL);
	for (i = 0; i < t.x->nnodes; i++) {
		assert_int_equal(t.r->nodes[i].nroutes, 0);
		assert_null(t.r->nodes[i].routes);
	}
	assert_true(node_of(&t, "n2")->forwarding);
	expect_v4(&t, "n4", "n3-n4", "10.0.3.2/24");
	free(src);
	run_free(&t);
}

static void test_routes_islands(void **state)
{
	struct run t;

	(void)state;
	run_ok(&t,
	       "topo.spec(islands == true)\n"
	       "a = topo.device('a')\n"
	       "b = topo.device('b')\n"
	       "c = topo.device('c')\n"
	       "d = topo.device('d')\n"
	       "e = topo.device('e')\n"
	       "f = topo.device('f')\n"
	       "topo.connect([a, b])\n"
	       "topo.connect([b, c])\n"
	       "topo.connect([d, e])\n",
	       NULL);
	expect_nroutes(&t, "a", 1);
	expect_route(&t, "a", 0, "0.0.0.0/0 via 10.0.0.2/24");
	expect_nroutes(&t, "b", 0);
	expect_nroutes(&t, "d", 0);
	expect_nroutes(&t, "e", 0);
	expect_nroutes(&t, "f", 0);
	assert_int_equal(node_of(&t, "f")->nifs, 0);
	run_free(&t);
}

static void test_chain_1000(void **state)
{
	struct run t;
	char *src = chain_model(1000, NULL);
	size_t i, total = 0;

	(void)state;
	run_ok(&t, src, NULL);
	for (i = 0; i < t.x->nnodes; i++) {
		assert_true(t.r->nodes[i].nroutes >= 1);
		total += t.r->nodes[i].nroutes;
	}
	expect_nroutes(&t, "n0", 1);
	expect_route(&t, "n0", 0, "0.0.0.0/0 via 10.0.0.2/24");
	expect_v4(&t, "n999", "n998-n999", "10.3.230.2/24");
	/* merged: a few routes per node, not hundreds */
	assert_true(total < 20 * 1000);
	free(src);
	run_free(&t);
}

/* The port map: one class per link kind, ports numbered in link order over
 * the links that have them, names from the id; the same XIR realized twice
 * gives the same map (status and the supervisor rely on it). */
static const char map_src[] =
	"a = topo.device('a')\n"
	"b = topo.device('b')\n"
	"c = topo.device('c')\n"
	"v = topo.device('v', virt == true)\n"
	"topo.connect([a, b])\n"                     /* veth: no port */
	"topo.connect([a, b, c])\n"                  /* bridge: ports 0-2 */
	"topo.connect([b, c], latency == ms(1))\n"   /* emulated: ports 3-4 */
	"topo.connect([c, v])\n"                     /* shortbridge: ports 5-6 */
	"topo.connect([a, v], capacity == mbps(5))\n"; /* emulated (a limit): 7-8 */

static void test_port_map(void **state)
{
	static const enum rz_link_class cls[] = { RZ_LC_VETH, RZ_LC_SWITCH, RZ_LC_EMULATED,
						  RZ_LC_SHORT, RZ_LC_EMULATED };
	static const uint32_t first[] = { RZ_NO_PORT, 0, 3, 5, 7 };
	struct run t1, t2;
	size_t i, j;

	(void)state;
	run_ok(&t1, map_src, NULL);
	run_ok(&t2, map_src, NULL);
	assert_int_equal(realize_name(t1.r, "1f2e"), 0);
	assert_int_equal(realize_name(t2.r, "1f2e"), 0);
	assert_int_equal(t1.r->nports, 9);
	for (i = 0; i < t1.x->nlinks; i++) {
		assert_int_equal(t1.r->links[i].cls, cls[i]);
		assert_int_equal(t1.r->links[i].first_port, first[i]);
		assert_string_equal(t1.r->links[i].bridge, t2.r->links[i].bridge);
		for (j = 0; j < t1.x->links[i].nep; j++) {
			const struct rz_iface *f1 = realize_ep_iface(t1.r, i, j);
			const struct rz_iface *f2 = realize_ep_iface(t2.r, i, j);

			assert_int_equal(f1->port, f2->port);
			assert_string_equal(f1->port_name, f2->port_name);
			assert_memory_equal(f1->mac, f2->mac, 6);
			assert_string_equal(f1->name, f2->name);
			assert_int_equal(f1->port, first[i] == RZ_NO_PORT ? RZ_NO_PORT
									  : first[i] + j);
		}
	}
	/* a direct LAN has no bridge (materialize/lanswitch.h) */
	assert_string_equal(t1.r->links[1].bridge, "");
	assert_string_equal(realize_ep_iface(t1.r, 1, 0)->port_name, "vtb1f2ep0");
	assert_string_equal(realize_ep_iface(t1.r, 4, 1)->port_name, "vtb1f2ep8");
	assert_string_equal(realize_ep_iface(t1.r, 0, 0)->port_name, "");
	assert_int_equal(t1.r->group, 0x76741f2e);
	assert_string_equal(realize_class_name(RZ_LC_SHORT), "shortbridge");
	assert_int_equal(realize_name(t1.r, "123456789"), -ENAMETOOLONG);
	run_free(&t1);
	run_free(&t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_virt),       cmocka_unit_test(test_vm_nic),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_routing_hosts),
		cmocka_unit_test(test_vm_image),      cmocka_unit_test(test_emulated),
		cmocka_unit_test(test_capacity),      cmocka_unit_test(test_mtu_kinds),
		cmocka_unit_test(test_alloc),         cmocka_unit_test(test_fit),
		cmocka_unit_test(test_fit_cumulative), cmocka_unit_test(test_host_memory),
		cmocka_unit_test(test_ifnames),
		cmocka_unit_test(test_mac_stable),    cmocka_unit_test(test_mac_unique),
		cmocka_unit_test(test_addr_auto),     cmocka_unit_test(test_addr_pool),
		cmocka_unit_test(test_addr_skip_given), cmocka_unit_test(test_addr_partial),
		cmocka_unit_test(test_addr_full),     cmocka_unit_test(test_addr_v6),
		cmocka_unit_test(test_addr_v6_pool),  cmocka_unit_test(test_routes_v6),
		cmocka_unit_test(test_routes_chain4), cmocka_unit_test(test_routes_chain5),
		cmocka_unit_test(test_routes_merge),  cmocka_unit_test(test_routes_star),
		cmocka_unit_test(test_routes_ring),   cmocka_unit_test(test_routes_off),
		cmocka_unit_test(test_routes_islands), cmocka_unit_test(test_chain_1000),
		cmocka_unit_test(test_port_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
