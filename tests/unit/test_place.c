/* test_place: placement of compiled and realized models onto cluster
 * hosts: partitions that follow the topology, capacity spread, pins,
 * errors naming the node, determinism and balance. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "place.h"
#include "realize.h"

#define GIB (1ULL << 30)
#define CORE 1000ULL /* thousandths of a core */

/* Realization sees one large host; placement decides the cluster's. */
static const struct rz_host big_host = { .cores = 4096, .memory = 4096 * GIB };

struct run {
	struct xir *x;
	struct realization *r;
	struct diag_list d;
	uint32_t *host_of;
	int rc;
};

/* Compile and realize src (both must succeed). */
static void model(struct run *t, const char *src)
{
	struct diag_list cd;
	int r;

	memset(t, 0, sizeof(*t));
	diag_init(&cd, "t.vtb", src, strlen(src));
	r = compile_source("t.vtb", src, strlen(src), NULL, &t->x, &cd, NULL);
	if (!r)
		r = realize(t->x, &big_host, &t->r, &cd);
	if (r) {
		char *s = diag_format(&cd);

		fprintf(stderr, "%s", s ? s : "(no memory)\n");
		free(s);
	}
	assert_int_equal(r, 0);
	diag_free(&cd);
	diag_init(&t->d, "t.vtb", src, strlen(src));
	t->host_of = calloc(t->x->nnodes + 1, sizeof(*t->host_of));
	assert_non_null(t->host_of);
}

/* Place t's model on hosts; the diagnostics stay in t->d. */
static int place(struct run *t, const struct place_host *h, size_t n)
{
	t->rc = place_nodes(t->x, t->r, h, n, t->host_of, &t->d);
	return t->rc;
}

static void place_ok(struct run *t, const struct place_host *h, size_t n)
{
	if (place(t, h, n)) {
		char *s = diag_format(&t->d);

		fprintf(stderr, "%s", s ? s : "(no memory)\n");
		free(s);
	}
	assert_int_equal(t->rc, 0);
	assert_int_equal(t->d.nerrors, 0);
}

static void run_free(struct run *t)
{
	free(t->host_of);
	realize_free(t->r);
	diag_free(&t->d);
	xir_free(t->x);
}

static uint32_t host_of(const struct run *t, const char *node)
{
	uint32_t i;

	assert_true(xir_find_node(t->x, node, &i));
	return t->host_of[i];
}

/* The one error, which must contain each of the NULL-terminated parts. */
static void error_has(const struct run *t, ...)
{
	const char *part;
	va_list ap;

	assert_int_equal(t->rc, -EINVAL);
	if (t->d.nerrors != 1)
		fail_msg("expected 1 error, got %zu", t->d.nerrors);
	va_start(ap, t);
	while ((part = va_arg(ap, const char *)))
		if (!strstr(t->d.v[0].msg, part))
			fail_msg("'%s' not in: %s", part, t->d.v[0].msg);
	va_end(ap);
}

static struct place_host host(const char *name, uint64_t cores, uint64_t memory)
{
	return (struct place_host){ .name = name, .cores = cores, .memory = memory, .alive = true };
}

/* Two cliques of six joined by one slow link. */
static const char two_clusters[] =
	"topo.spec(routing == false)\n"
	"a = []\n"
	"b = []\n"
	"for i in range(6):\n"
	"    a.append(topo.device('a' + str(i)))\n"
	"    b.append(topo.device('b' + str(i)))\n"
	"for i in range(6):\n"
	"    for j in range(i + 1, 6):\n"
	"        topo.connect([a[i], a[j]])\n"
	"        topo.connect([b[i], b[j]])\n"
	"topo.connect([a[0], b[0]], capacity == mbps(10))\n";

/* Each clique on a host of its own: the cut is the one link between. */
static void test_two_clusters(void **state)
{
	struct place_host h[] = { host("h1", 8 * CORE, 16 * GIB), host("h2", 8 * CORE, 16 * GIB) };
	struct run t;
	char a[16], b[16];
	int i;

	(void)state;
	model(&t, two_clusters);
	place_ok(&t, h, 2);
	assert_int_equal(place_cut(t.x, t.r, t.host_of), 1);
	assert_int_not_equal(host_of(&t, "a0"), host_of(&t, "b0"));
	for (i = 1; i < 6; i++) {
		snprintf(a, sizeof(a), "a%d", i);
		snprintf(b, sizeof(b), "b%d", i);
		assert_int_equal(host_of(&t, a), host_of(&t, "a0"));
		assert_int_equal(host_of(&t, b), host_of(&t, "b0"));
	}
	run_free(&t);
}

/* Six nodes of 2 cores and 1 GiB in a line: 12 cores, hosts of 4 (and a
 * dead one of 64): every live host takes two, neighbours together. */
static const char six_cores[] =
	"topo.spec(routing == false)\n"
	"n = []\n"
	"for i in range(6):\n"
	"    n.append(topo.device('n' + str(i), cores == 2, memory == gb(1)))\n"
	"for i in range(5):\n"
	"    topo.connect([n[i], n[i + 1]])\n";

static void test_spread(void **state)
{
	struct place_host h[] = { host("h1", 4 * CORE, 8 * GIB), host("big", 64 * CORE, 64 * GIB),
				  host("h2", 4 * CORE, 8 * GIB), host("h3", 4 * CORE, 8 * GIB) };
	unsigned count[4] = { 0 };
	struct run t;
	size_t i;

	(void)state;
	h[1].alive = false;
	model(&t, six_cores);
	place_ok(&t, h, 4);
	for (i = 0; i < t.x->nnodes; i++)
		count[t.host_of[i]]++;
	assert_int_equal(count[0], 2);
	assert_int_equal(count[1], 0);
	assert_int_equal(count[2], 2);
	assert_int_equal(count[3], 2);
	assert_int_equal(place_cut(t.x, t.r, t.host_of), 2);
	run_free(&t);

	/* pins that overfill a host: repair moves its other nodes away */
	model(&t, "n = []\n"
		  "for i in range(6):\n"
		  "    n.append(topo.device('n' + str(i), cores == 2, memory == gb(1)))\n"
		  "for i in range(5):\n"
		  "    topo.connect([n[i], n[i + 1]])\n"
		  "n[0].spec(host == 'h2')\n"
		  "n[5].spec(host == 'h2')\n");
	place_ok(&t, h, 4);
	memset(count, 0, sizeof(count));
	for (i = 0; i < t.x->nnodes; i++)
		count[t.host_of[i]]++;
	assert_int_equal(count[0], 2);
	assert_int_equal(count[2], 2);
	assert_int_equal(count[3], 2);
	assert_int_equal(host_of(&t, "n0"), 2);
	assert_int_equal(host_of(&t, "n5"), 2);
	run_free(&t);

	/* one host with room for all: it takes them all, without METIS */
	model(&t, six_cores);
	h[1].alive = true;
	h[0].alive = h[2].alive = h[3].alive = false;
	place_ok(&t, h, 4);
	for (i = 0; i < t.x->nnodes; i++)
		assert_int_equal(t.host_of[i], 1);
	run_free(&t);
}

/* host == 'NAME' puts a node there even against the partition; host !=
 * keeps it off; one host ignores both (realize reads neither). */
static void test_pins(void **state)
{
	struct place_host h[] = { host("h1", 8 * CORE, 16 * GIB), host("h2", 8 * CORE, 16 * GIB),
				  host("h3", 8 * CORE, 16 * GIB) };
	struct run t;
	char src[sizeof(two_clusters) + 200];

	(void)state;
	snprintf(src, sizeof(src), "%s%s", two_clusters,
		 "a[3].spec(host == 'h3')\n"
		 "b[2].spec(host == 'h3')\n"
		 "b[4].spec(host != 'h1', host != 'h2')\n");
	model(&t, src);
	place_ok(&t, h, 3);
	assert_int_equal(host_of(&t, "a3"), 2);
	assert_int_equal(host_of(&t, "b2"), 2);
	assert_int_equal(host_of(&t, "b4"), 2);
	run_free(&t);
}

/* A pin to a host the cluster lacks, or to a dead one, names the node,
 * the constraint and the live hosts. */
static void test_pin_errors(void **state)
{
	struct place_host h[] = { host("h1", 8 * CORE, 16 * GIB), host("h2", 8 * CORE, 16 * GIB),
				  host("h3", 8 * CORE, 16 * GIB) };
	struct run t;

	(void)state;
	model(&t, "a = topo.device('a', host == 'h9')\nb = topo.device('b')\ntopo.connect([a, b])\n");
	place(&t, h, 3);
	error_has(&t, "device 'a': host == \"h9\": the cluster has no such host",
		  "(live hosts: h1, h2, h3)", NULL);
	assert_int_equal(t.d.v[0].loc.line, 1);
	run_free(&t);

	h[1].alive = false;
	model(&t, "a = topo.device('a')\nb = topo.device('b', host == 'h2')\ntopo.connect([a, b])\n");
	place(&t, h, 3);
	error_has(&t, "device 'b': host == \"h2\": that host is not alive", "(live hosts: h1, h3)",
		  NULL);
	run_free(&t);
}

/* Nothing fits: the error names the node, what it asks for and each live
 * host's free capacity. */
static void test_overcommit(void **state)
{
	struct place_host h[] = { host("h1", 4 * CORE, 8 * GIB), host("h2", 4 * CORE, 8 * GIB) };
	struct run t;

	(void)state;
	h[1].used_cores = 3 * CORE;
	h[1].used_memory = 6 * GIB;
	model(&t, "a = topo.device('a', cores == 2, memory == gb(1))\n"
		  "b = topo.device('b', cores == 2, memory == gb(1))\n"
		  "c = topo.device('c', cores == 2, memory == gb(1))\n"
		  "topo.connect([a, b, c])\n");
	place(&t, h, 2);
	error_has(&t, "fits on no host: it asks for 2 cores and 1.0 GiB of memory",
		  "free before this experiment: h1 4 cores and 8 GiB; h2 1 core and 2 GiB", NULL);
	assert_non_null(strstr(t.d.v[0].hint, "ask for 6 cores and 3.0 GiB in all"));
	run_free(&t);

	/* a pinned node too big for its host */
	model(&t, "a = topo.device('a', cores == 8, host == 'h1')\n");
	place(&t, h, 2);
	error_has(&t, "device 'a' does not fit on its host (host == \"h1\"): it asks for 8 cores",
		  NULL);
	run_free(&t);
}

/* The same model and hosts give the same placement. */
static void test_deterministic(void **state)
{
	struct place_host h[] = { host("h1", 4 * CORE, 8 * GIB), host("h2", 6 * CORE, 8 * GIB),
				  host("h3", 4 * CORE, 12 * GIB) };
	struct run t, u;

	(void)state;
	model(&t, two_clusters);
	model(&u, two_clusters);
	place_ok(&t, h, 3);
	place_ok(&u, h, 3);
	assert_memory_equal(t.host_of, u.host_of, t.x->nnodes * sizeof(*t.host_of));
	place_ok(&u, h, 3);
	assert_memory_equal(t.host_of, u.host_of, t.x->nnodes * sizeof(*t.host_of));
	run_free(&t);
	run_free(&u);
}

/* RING nodes in a ring over three hosts, one with twice the others' free
 * capacity: each host's share is within BALANCE_TOLERANCE of its target
 * (METIS's own imbalance bound is 3%) and the cut a few links (a ring
 * split in three parts cuts 3). */
#define RING 1000
#define BALANCE_TOLERANCE 0.05
#define RING_CUT_MAX 6

static void test_ring_balance(void **state)
{
	struct place_host h[] = { host("h1", 8 * CORE, 64 * GIB), host("h2", 8 * CORE, 64 * GIB),
				  host("h3", 16 * CORE, 128 * GIB) };
	const double target[] = { 0.25, 0.25, 0.5 };
	unsigned count[3] = { 0 };
	char src[400];
	struct run t;
	size_t i;

	(void)state;
	snprintf(src, sizeof(src),
		 "topo.spec(routing == false)\n"
		 "n = []\n"
		 "for i in range(%d):\n"
		 "    n.append(topo.device('n' + str(i)))\n"
		 "for i in range(%d):\n"
		 "    topo.connect([n[i], n[(i + 1) %% %d]])\n",
		 RING, RING, RING);
	model(&t, src);
	place_ok(&t, h, 3);
	for (i = 0; i < t.x->nnodes; i++)
		count[t.host_of[i]]++;
	for (i = 0; i < 3; i++)
		if (count[i] < (target[i] - BALANCE_TOLERANCE) * RING ||
		    count[i] > (target[i] + BALANCE_TOLERANCE) * RING)
			fail_msg("host %zu has %u of %d nodes, target %.2f", i, count[i], RING,
				 target[i]);
	assert_in_range(place_cut(t.x, t.r, t.host_of), 3, RING_CUT_MAX);
	run_free(&t);
}

/* A VM goes to a host with KVM when one has room; a LAN is cut by its
 * endpoints away from where most of it is. */
static void test_kvm_and_lan(void **state)
{
	struct place_host h[] = { host("h1", 8 * CORE, 16 * GIB), host("h2", 8 * CORE, 16 * GIB) };
	struct run t;
	size_t i;

	(void)state;
	h[1].kvm = true;
	model(&t, "v = topo.device('v', virt == true)\nc = topo.device('c')\ntopo.connect([v, c])\n");
	place_ok(&t, h, 2);
	assert_int_equal(host_of(&t, "v"), 1);
	run_free(&t);

	model(&t, "n = []\n"
		  "for i in range(5):\n"
		  "    n.append(topo.device('n' + str(i)))\n"
		  "topo.connect(n)\n");
	for (i = 0; i < 5; i++)
		t.host_of[i] = i < 3 ? 0 : 1;
	assert_int_equal(place_cut(t.x, t.r, t.host_of), 2);
	place_ok(&t, h, 2);
	run_free(&t);
}

/* No live host: an error; no nodes: nothing to do. */
static void test_edges(void **state)
{
	struct place_host h[] = { host("h1", 8 * CORE, 16 * GIB), host("h2", 8 * CORE, 16 * GIB),
				  host("h3", 8 * CORE, 16 * GIB) };
	struct run t;

	(void)state;
	model(&t, "a = topo.device('a')\n");
	place_ok(&t, h, 3); /* fewer nodes than hosts */
	h[0].alive = h[1].alive = h[2].alive = false;
	place(&t, h, 3);
	error_has(&t, "no host of the cluster is alive", NULL);
	run_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_clusters), cmocka_unit_test(test_spread),
		cmocka_unit_test(test_pins),	     cmocka_unit_test(test_pin_errors),
		cmocka_unit_test(test_overcommit),   cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_ring_balance), cmocka_unit_test(test_kvm_and_lan),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
