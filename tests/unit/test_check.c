/* test_check: the compile checks on hand-built XIRs. Each test builds a
 * small model, runs one check and looks for the words a user would read. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "compile.h"
#include "xir.h"

typedef void (*check_fn)(const struct xir *, struct diag_list *);

/* ---- building models ---- */

static struct src_loc at(uint32_t line)
{
	return (struct src_loc){ line, 3, 4 };
}

static struct xir_value vint(int64_t i)
{
	return (struct xir_value){ .type = XV_INT, .unit = XU_NONE, .i = i };
}

static struct xir_value vq(int64_t i, enum xir_unit u)
{
	return (struct xir_value){ .type = XV_INT, .unit = u, .i = i };
}

static struct xir_value vflt(double f)
{
	return (struct xir_value){ .type = XV_FLOAT, .unit = XU_NONE, .f = f };
}

static struct xir_value vbool(bool b)
{
	return (struct xir_value){ .type = XV_BOOL, .b = b };
}

static struct xir_value vstr(const char *s)
{
	struct xir_value v = { .type = XV_STR, .s = strdup(s) };

	assert_non_null(v.s);
	return v;
}

static struct xir_value venum(const char *s)
{
	struct xir_value v = { .type = XV_ENUM, .s = strdup(s) };

	assert_non_null(v.s);
	return v;
}

#define KB(n) ((int64_t)(n) << 10)
#define MB(n) ((int64_t)(n) << 20)
#define GB(n) ((int64_t)(n) << 30)
#define MS(n) ((int64_t)(n) * 1000000)
#define US(n) ((int64_t)(n) * 1000)
#define SEC(n) ((int64_t)(n) * 1000000000)

static struct xir *model(void)
{
	struct xir *x = xir_new("test");

	assert_non_null(x);
	return x;
}

static uint32_t node(struct xir *x, const char *name, uint32_t line)
{
	uint32_t i;

	assert_int_equal(xir_add_node(x, name, at(line), &i), 0);
	return i;
}

/* A link between a and b (name NULL: xir_finish names it). */
static uint32_t link2(struct xir *x, const char *name, uint32_t a, uint32_t b, uint32_t line)
{
	uint32_t l;

	assert_int_equal(xir_add_link(x, name, at(line), &l), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, a, at(line)), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, b, at(line)), 0);
	return l;
}

static struct xir_cset *ncs(struct xir *x, uint32_t n)
{
	return &x->nodes[n].cons;
}

static struct xir_cset *lcs(struct xir *x, uint32_t l)
{
	return &x->links[l].cons;
}

static struct xir_cset *ecs(struct xir *x, uint32_t l, uint32_t n)
{
	struct xir_endpoint *e = xir_link_endpoint(x, l, n);

	assert_non_null(e);
	return &e->cons;
}

static void con(struct xir_cset *cs, const char *prop, enum xir_op op, struct xir_value v,
		uint32_t line)
{
	const struct xir_prop *p = xir_prop_find(prop);

	assert_non_null(p);
	assert_int_equal(xir_cset_add(cs, p, op, v, at(line)), 0);
}

static void finish(struct xir *x)
{
	assert_int_equal(xir_finish(x), 0);
}

/* ---- running checks ---- */

struct run {
	char *text;
	size_t nerrors, nwarnings;
	bool truncated;
};

/* Run fn on x and keep the formatted diagnostics (free with run_free). */
static struct run run(check_fn fn, const struct xir *x)
{
	struct diag_list d;
	struct run r = { 0 };
	size_t i;

	diag_init(&d, "m.vtb", NULL, 0);
	fn(x, &d);
	assert_false(d.oom);
	r.text = diag_format(&d);
	assert_non_null(r.text);
	r.nerrors = d.nerrors;
	r.truncated = d.truncated;
	for (i = 0; i < d.n; i++)
		r.nwarnings += d.v[i].level == DIAG_WARNING;
	diag_free(&d);
	return r;
}

static void run_free(struct run *r)
{
	free(r->text);
	r->text = NULL;
}

static void has(const struct run *r, const char *want)
{
	if (!strstr(r->text, want))
		fail_msg("missing \"%s\" in:\n%s", want, r->text);
}

static void lacks(const struct run *r, const char *unwanted)
{
	if (strstr(r->text, unwanted))
		fail_msg("unexpected \"%s\" in:\n%s", unwanted, r->text);
}

static void errors(const struct run *r, size_t n)
{
	if (r->nerrors != n)
		fail_msg("expected %zu errors, got %zu:\n%s", n, r->nerrors, r->text);
}

/* Run fn on x, expect no diagnostics at all, free x. */
static void expect_clean(check_fn fn, struct xir *x)
{
	struct run r = run(fn, x);

	errors(&r, 0);
	if (r.nwarnings)
		fail_msg("expected no warnings:\n%s", r.text);
	run_free(&r);
	xir_free(x);
}

/* A model that uses every property correctly: three devices in a line. */
static struct xir *clean_model(void)
{
	struct xir *x = model();
	uint32_t a = node(x, "a", 1), b = node(x, "b", 2), c = node(x, "c", 3), ab, bc, t;

	con(ncs(x, a), "cores", XIR_EQ, vint(4), 1);
	con(ncs(x, a), "memory", XIR_EQ, vq(GB(8), XU_BYTES), 1);
	con(ncs(x, a), "cpufreq", XIR_EQ, vq(2200000000LL, XU_HZ), 1);
	con(ncs(x, a), "disk", XIR_GE, vq(GB(20), XU_BYTES), 1);
	con(ncs(x, a), "virt", XIR_EQ, vbool(false), 1);
	con(ncs(x, b), "cores", XIR_GE, vint(2), 2);
	con(ncs(x, b), "cores", XIR_LE, vint(8), 2);
	con(ncs(x, b), "cores", XIR_NE, vint(5), 2);
	con(ncs(x, c), "virt", XIR_EQ, vbool(true), 3);
	con(ncs(x, c), "kernel", XIR_EQ, vstr("bzImage"), 3);
	con(ncs(x, c), "image", XIR_EQ, vstr("debian:bookworm"), 3);
	con(ncs(x, c), "packages", XIR_EQ, vstr("g++"), 3);
	con(ncs(x, c), "arch", XIR_EQ, venum("aarch64"), 3);
	con(ncs(x, c), "dilation", XIR_EQ, vflt(2.5), 3);

	ab = link2(x, NULL, a, b, 4);
	con(lcs(x, ab), "latency", XIR_EQ, vq(MS(10), XU_NS), 4);
	con(lcs(x, ab), "jitter", XIR_LE, vq(US(500), XU_NS), 4);
	con(lcs(x, ab), "loss", XIR_EQ, vflt(0.01), 4);
	con(lcs(x, ab), "capacity", XIR_EQ, vq(100000000, XU_BPS), 4);
	con(lcs(x, ab), "capacity", XIR_GT, vint(0), 4);
	con(lcs(x, ab), "queue", XIR_EQ, vint(100), 4);
	con(lcs(x, ab), "queue", XIR_EQ, vq(KB(64), XU_BYTES), 4);
	con(lcs(x, ab), "duplicate", XIR_EQ, vint(0), 4);
	con(lcs(x, ab), "reorder", XIR_LT, vflt(0.5), 4);
	con(lcs(x, ab), "corrupt", XIR_EQ, vint(1), 4);
	con(lcs(x, ab), "mtu", XIR_EQ, vint(9000), 4);
	con(ecs(x, ab, a), "ip", XIR_EQ, vstr("10.0.0.1/24"), 5);
	con(ecs(x, ab, a), "mac", XIR_EQ, vstr("02:00:00:00:00:01"), 5);
	con(ecs(x, ab, a), "vlan", XIR_EQ, vint(10), 5);
	con(ecs(x, ab, a), "nic", XIR_GE, venum("connect4"), 5);
	con(ecs(x, ab, a), "nic", XIR_LE, venum("connect6"), 5);
	con(ecs(x, ab, b), "ip", XIR_EQ, vstr("10.0.0.2/24"), 6);
	con(ecs(x, ab, b), "latency", XIR_EQ, vint(0), 6);

	bc = link2(x, NULL, b, c, 7);
	con(ecs(x, bc, b), "ip", XIR_EQ, vstr("fd00::1/64"), 8);
	con(ecs(x, bc, c), "ip", XIR_EQ, vstr("fd00::2/64"), 8);
	con(ecs(x, bc, c), "ip", XIR_EQ, vstr("fd00:0::2/64"), 8); /* the same address */
	con(ecs(x, bc, c), "nic", XIR_EQ, venum("virtio"), 8);

	con(&x->cons, "routing", XIR_EQ, vbool(true), 9);
	con(&x->cons, "pool", XIR_EQ, vstr("10.0.0.0/8"), 9);
	con(&x->cons, "name", XIR_EQ, vstr("exp"), 9);

	assert_int_equal(xir_add_task(x, "ping", SEC(30), at(10), &t), 0);
	assert_int_equal(xir_task_add_command(x, t, a, "ping -c 1 10.0.0.2", false,
					      "1 (packets )?received", at(10)),
			 0);
	assert_int_equal(xir_task_add_command(x, t, c, "sleep 1", true, NULL, at(11)), 0);
	finish(x);
	return x;
}

static void test_clean_model(void **state)
{
	static const check_fn fns[] = { check_properties, check_names,	   check_contradictions,
					check_links,	  check_islands,   check_addresses,
					check_tasks,	  check_virt,	   check_all };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		expect_clean(fns[i], clean_model());
}

/* ---- check_properties ---- */

/* Two devices a, b and a link a-b; returns the link. */
static uint32_t pair(struct xir *x)
{
	uint32_t a = node(x, "a", 1), b = node(x, "b", 2);

	return link2(x, NULL, a, b, 3);
}

static void test_scope(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	l = pair(x);
	con(lcs(x, l), "cores", XIR_EQ, vint(4), 7);
	finish(x);
	r = run(check_properties, x);
	has(&r, "m.vtb:7:3: error: link 'a-b': 'cores' is a device property, not a link property");
	has(&r, "hint: write it in topo.device(...)");
	errors(&r, 1);
	run_free(&r);
	xir_free(x);

	x = model();
	l = pair(x);
	con(ncs(x, 0), "latency", XIR_EQ, vq(MS(1), XU_NS), 8);
	con(ecs(x, l, 1), "pool", XIR_EQ, vstr("10.0.0.0/8"), 9);
	con(&x->cons, "ip", XIR_EQ, vstr("10.0.0.1/24"), 10);
	con(lcs(x, l), "nic", XIR_EQ, venum("virtio"), 11);
	finish(x);
	r = run(check_properties, x);
	has(&r, "device 'a': 'latency' is a link or endpoint property, not a device property");
	has(&r, "hint: write it in topo.connect(...) or link[device].spec(...)");
	has(&r, "link 'a-b', endpoint 'b': 'pool' is an experiment property, not an endpoint "
		"property");
	has(&r, "hint: write it in topo.spec(...)");
	has(&r, "experiment: 'ip' is an endpoint property, not an experiment property");
	has(&r, "link 'a-b': 'nic' is an endpoint property, not a link property");
	errors(&r, 4);
	run_free(&r);
	xir_free(x);
}

static void test_quantity_types(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	l = pair(x);
	con(lcs(x, l), "latency", XIR_EQ, vq(GB(1), XU_BYTES), 4);
	con(lcs(x, l), "jitter", XIR_LT, vint(10), 5);
	con(lcs(x, l), "capacity", XIR_EQ, vq(MS(1), XU_NS), 6);
	con(ncs(x, 0), "memory", XIR_EQ, vint(512), 7);
	con(ncs(x, 0), "cpufreq", XIR_EQ, vq(GB(1), XU_BYTES), 8);
	con(ncs(x, 0), "disk", XIR_EQ, vstr("10G"), 9);
	con(ncs(x, 1), "cpufreq", XIR_EQ,
	    (struct xir_value){ .type = XV_FLOAT, .unit = XU_HZ, .f = 2.5 }, 10);
	finish(x);
	r = run(check_properties, x);
	has(&r, "m.vtb:4:3: error: link 'a-b': 'latency' needs a time (us(), ms(), s()), not a size");
	has(&r, "link 'a-b': 'jitter' needs a time (us(), ms(), s()), not the plain number 10");
	has(&r, "hint: write ms(10), for example");
	has(&r, "'capacity' needs a rate (kbps(), mbps(), gbps()), not a time");
	has(&r, "device 'a': 'memory' needs a size (kb(), mb(), gb()), not the plain number 512");
	has(&r, "hint: write mb(512), for example");
	has(&r, "'cpufreq' needs a frequency (mhz(), ghz()), not a size");
	has(&r, "'disk' needs a size (kb(), mb(), gb()), not a string");
	has(&r, "device 'b': 'cpufreq' needs a whole number of Hz, not 2.5");
	errors(&r, 7);
	run_free(&r);
	xir_free(x);
}

static void test_ranges(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	l = pair(x);
	con(ecs(x, l, 0), "vlan", XIR_EQ, vint(5000), 4);
	con(ecs(x, l, 1), "vlan", XIR_NE, vint(0), 5);
	con(ncs(x, 0), "cores", XIR_EQ, vint(0), 6);
	con(ncs(x, 0), "memory", XIR_EQ, vint(0), 7);
	con(lcs(x, l), "mtu", XIR_EQ, vint(40), 8);
	con(lcs(x, l), "latency", XIR_EQ, vq(-MS(5), XU_NS), 9);
	con(lcs(x, l), "queue", XIR_EQ, vq(0, XU_BYTES), 10);
	con(lcs(x, l), "loss", XIR_EQ, vflt(1.5), 11);
	con(lcs(x, l), "duplicate", XIR_EQ, vint(5), 12);
	con(lcs(x, l), "reorder", XIR_EQ, vflt(-0.1), 13);
	con(ncs(x, 1), "dilation", XIR_EQ, vint(0), 14);
	/* ordered comparisons with values outside the range are fine here */
	con(ncs(x, 1), "cores", XIR_GT, vint(0), 15);
	con(lcs(x, l), "capacity", XIR_GT, vint(0), 16);
	con(lcs(x, l), "reorder", XIR_LT, vint(2), 17);
	finish(x);
	r = run(check_properties, x);
	has(&r, "m.vtb:4:3: error: link 'a-b', endpoint 'a': 'vlan' must be between 1 and 4094, "
		"not 5000");
	has(&r, "link 'a-b', endpoint 'b': 'vlan' must be between 1 and 4094, not 0");
	has(&r, "device 'a': 'cores' must be between 1 and 4096, not 0");
	has(&r, "device 'a': 'memory' must be at least 1 bytes, not 0");
	has(&r, "'mtu' must be between 68 and 65535, not 40");
	has(&r, "'latency' must be at least 0, not ms(-5)");
	has(&r, "'queue' must be at least 1 bytes, not 0");
	has(&r, "'loss' must be between 0 and 1, not 1.5");
	has(&r, "'duplicate' must be between 0 and 1, not 5");
	has(&r, "hint: a fraction: write 0.05 for 5%");
	has(&r, "'reorder' must be between 0 and 1, not -0.1");
	has(&r, "device 'b': 'dilation' must be greater than 0, not 0");
	errors(&r, 11);
	run_free(&r);
	xir_free(x);
}

static void test_other_types(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	l = pair(x);
	con(ncs(x, 0), "cores", XIR_EQ, vflt(2.5), 4);
	con(ncs(x, 0), "virt", XIR_EQ, vint(1), 5);
	con(ncs(x, 0), "image", XIR_EQ, venum("virtio"), 6);
	con(ncs(x, 1), "cores", XIR_EQ, vq(MB(1), XU_BYTES), 7);
	con(ncs(x, 1), "dilation", XIR_EQ, vq(MS(1), XU_NS), 8);
	con(lcs(x, l), "loss", XIR_EQ, vbool(true), 9);
	con(lcs(x, l), "queue", XIR_EQ, vq(MS(1), XU_NS), 10);
	con(lcs(x, l), "mtu", XIR_EQ, vstr("9000"), 11);
	con(&x->cons, "islands", XIR_EQ, vstr("yes"), 12);
	finish(x);
	r = run(check_properties, x);
	has(&r, "device 'a': 'cores' needs a whole number, not 2.5");
	has(&r, "device 'a': 'virt' needs true or false, not the plain number 1");
	has(&r, "device 'a': 'image' needs a userland, like 'debian:bookworm', not virtio");
	has(&r, "hint: put it in quotes");
	has(&r, "device 'b': 'cores' needs a whole number, not a size");
	has(&r, "device 'b': 'dilation' needs a positive number, not a time");
	has(&r, "link 'a-b': 'loss' needs a fraction between 0 and 1, not true");
	has(&r, "'queue' needs a packet count or a size (kb(), mb()), not a time");
	has(&r, "hint: write 100 for packets or kb(64) for bytes");
	has(&r, "'mtu' needs a whole number, not a string");
	has(&r, "experiment: 'islands' needs true or false, not a string");
	errors(&r, 9);
	run_free(&r);
	xir_free(x);
}

static void test_enums(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	l = pair(x);
	con(ecs(x, l, 0), "nic", XIR_EQ, vstr("e1000"), 4);
	con(ecs(x, l, 1), "nic", XIR_EQ, venum("e100"), 5);
	con(ncs(x, 0), "arch", XIR_EQ, venum("virtio"), 6);
	con(ncs(x, 1), "arch", XIR_EQ, venum("sparc"), 7);
	con(ncs(x, 1), "arch", XIR_EQ, vint(64), 8);
	finish(x);
	r = run(check_properties, x);
	has(&r, "link 'a-b', endpoint 'a': 'nic' needs a known name, not a string");
	has(&r, "hint: write nic == e1000, without quotes");
	has(&r, "link 'a-b', endpoint 'b': 'nic' has no value e100");
	has(&r, "hint: did you mean e1000?");
	has(&r, "device 'a': 'arch' has no value virtio (virtio is a value of 'nic')");
	has(&r, "hint: known values of 'arch': x86_64, i386, aarch64");
	has(&r, "device 'b': 'arch' has no value sparc");
	has(&r, "device 'b': 'arch' needs a known name, not the plain number 64");
	errors(&r, 5);
	run_free(&r);
	xir_free(x);
}

static void test_addresses_values(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l, l2;

	(void)state;
	x = model();
	l = pair(x);
	l2 = link2(x, NULL, 0, 1, 4);
	con(ecs(x, l, 0), "ip", XIR_EQ, vstr("10.0.0.300/24"), 5);
	con(ecs(x, l, 1), "ip", XIR_EQ, vstr("10.0.0.0/24"), 6);
	con(ecs(x, l2, 0), "ip", XIR_EQ, vstr("10.0.1.1"), 7);
	con(ecs(x, l2, 1), "ip", XIR_EQ, vstr("fd00::/64"), 8);
	con(ecs(x, l, 0), "mac", XIR_EQ, vstr("01:00:5e:00:00:01"), 9);
	con(ecs(x, l, 1), "mac", XIR_EQ, vstr("02:00:00:00:01"), 10);
	con(ecs(x, l2, 0), "ip", XIR_EQ, vint(10), 11);
	con(&x->cons, "pool", XIR_EQ, vstr("10.0.1.0/16"), 12);
	finish(x);
	r = run(check_properties, x);
	has(&r, "m.vtb:5:3: error: link 'a-b', endpoint 'a': ip \"10.0.0.300/24\": octet 300 is "
		"out of range (0-255)");
	has(&r, "link 'a-b', endpoint 'b': ip \"10.0.0.0/24\": 10.0.0.0 is the network address "
		"of 10.0.0.0/24");
	has(&r, "link 'a-b.2', endpoint 'a': ip \"10.0.1.1\": the prefix length is missing (write "
		"/24, for example)");
	has(&r, "link 'a-b.2', endpoint 'b': ip \"fd00::/64\": fd00:: is the network address of "
		"fd00::/64");
	has(&r, "mac \"01:00:5e:00:00:01\": a multicast MAC cannot be an interface address");
	has(&r, "hint: use a locally administered address such as 02:00:00:00:00:01");
	has(&r, "mac \"02:00:00:00:01\": a MAC address is six two-digit hex octets");
	has(&r, "'ip' needs an address with prefix, like '10.0.0.1/24', not the plain number 10");
	has(&r, "experiment: pool \"10.0.1.0/16\": host bits are set: the network is 10.0.0.0/16");
	errors(&r, 8);
	run_free(&r);
	xir_free(x);
}

static void test_operators(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	l = pair(x);
	con(ecs(x, l, 0), "ip", XIR_LT, vstr("10.0.0.1/24"), 4);
	con(ecs(x, l, 0), "vlan", XIR_GT, vint(5), 5);
	con(ecs(x, l, 0), "nic", XIR_GE, venum("virtio"), 6);
	con(ecs(x, l, 1), "mac", XIR_GE, vstr("02:00:00:00:00:01"), 7);
	con(ncs(x, 0), "virt", XIR_GT, vbool(false), 8);
	con(ncs(x, 0), "image", XIR_LE, vstr("debian:bookworm"), 9);
	con(ncs(x, 0), "arch", XIR_GE, venum("x86_64"), 10);
	/* fine: ordered values, numbers */
	con(ecs(x, l, 1), "nic", XIR_GE, venum("connect4"), 11);
	con(ecs(x, l, 1), "nic", XIR_LT, venum("connect7"), 11);
	con(ncs(x, 1), "cores", XIR_GT, vint(2), 12);
	con(lcs(x, l), "loss", XIR_LT, vflt(0.1), 13);
	con(ncs(x, 1), "dilation", XIR_GE, vflt(0.5), 13);
	con(&x->cons, "pool", XIR_NE, vstr("10.0.0.0/8"), 14);
	finish(x);
	r = run(check_properties, x);
	has(&r, "m.vtb:4:3: error: link 'a-b', endpoint 'a': 'ip': an address can only be "
		"compared with == or !=, not <");
	has(&r, "link 'a-b', endpoint 'a': 'vlan' can only be compared with == or !=, not >");
	has(&r, "link 'a-b', endpoint 'a': virtio is not ordered; use == or !=");
	has(&r, "hint: ordered values of 'nic': connect3, connect4, connect5");
	has(&r, "'mac': a MAC address can only be compared with == or !=, not >=");
	has(&r, "device 'a': 'virt': a boolean can only be compared with == or !=, not >");
	has(&r, "device 'a': 'image': a userland can only be compared with == or !=, not <=");
	has(&r, "device 'a': 'arch' can only be compared with == or !=, not >=");
	errors(&r, 7);
	run_free(&r);
	xir_free(x);
}

/* Models read from JSON have no places; unnamed links are "link N". */
static void test_unplaced(void **state)
{
	struct xir *x = model();
	struct run r;
	uint32_t a, b, l;

	(void)state;
	assert_int_equal(xir_add_node(x, "a", xir_noloc(), &a), 0);
	assert_int_equal(xir_add_node(x, "b\nc", xir_noloc(), &b), 0);
	assert_int_equal(xir_add_link(x, NULL, xir_noloc(), &l), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, a, xir_noloc()), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, b, xir_noloc()), 0);
	assert_int_equal(xir_cset_add(lcs(x, l), xir_prop_find("cores"), XIR_EQ, vint(1),
				      xir_noloc()),
			 0);
	assert_int_equal(xir_cset_add(ecs(x, l, b), xir_prop_find("vlan"), XIR_EQ, vint(0),
				      xir_noloc()),
			 0);
	/* no xir_finish: the link has no name */
	r = run(check_properties, x);
	has(&r, "m.vtb: error: link 0: 'cores' is a device property, not a link property");
	has(&r, "m.vtb: error: link 0, endpoint 'b\\nc': 'vlan' must be between 1 and 4094, not 0");
	errors(&r, 2);
	run_free(&r);
	xir_free(x);
}

/* The constraint's own place wins; the object's is the fallback. */
static void test_locations(void **state)
{
	struct xir *x = model();
	struct run r;
	uint32_t l;

	(void)state;
	l = pair(x);
	assert_int_equal(xir_cset_add(ncs(x, 1), xir_prop_find("cores"), XIR_EQ, vint(0),
				      xir_noloc()),
			 0);
	con(lcs(x, l), "mtu", XIR_EQ, vint(1), 9);
	finish(x);
	r = run(check_properties, x);
	has(&r, "m.vtb:2:3: error: device 'b': 'cores' must be between");
	has(&r, "m.vtb:9:3: error: link 'a-b': 'mtu' must be between");
	run_free(&r);
	xir_free(x);
}

static void test_stops_when_full(void **state)
{
	struct xir *x = model();
	struct run r;
	char name[16];
	uint32_t i, n;

	(void)state;
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		n = node(x, name, i + 1);
		con(ncs(x, n), "cores", XIR_EQ, vint(0), i + 1);
	}
	r = run(check_all, x);
	errors(&r, DIAG_MAX_ERRORS);
	assert_false(r.truncated);
	has(&r, "device 'n19'");
	lacks(&r, "device 'n20'");
	run_free(&r);
	xir_free(x);
}

/* ---- check_names ---- */

static void test_names(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t t, l;

	(void)state;
	x = model();
	node(x, "a", 1);
	node(x, "b", 2);
	node(x, "a", 5);
	l = link2(x, "net", 0, 1, 6);
	link2(x, "net", 1, 2, 7);
	(void)l;
	assert_int_equal(xir_add_task(x, "ping", SEC(1), at(8), &t), 0);
	assert_int_equal(xir_add_task(x, "ping", SEC(1), at(9), &t), 0);
	finish(x);
	r = run(check_names, x);
	has(&r, "m.vtb:5:3: error: device 'a' is defined twice\n  hint: first defined at line 1");
	has(&r, "m.vtb:7:3: error: link 'net' is defined twice\n  hint: first defined at line 6");
	has(&r, "m.vtb:9:3: error: task 'ping' is defined twice\n  hint: first defined at line 8");
	errors(&r, 3);
	run_free(&r);
	xir_free(x);

	x = model();
	assert_int_equal(xir_add_node(x, "a", xir_noloc(), NULL), 0);
	assert_int_equal(xir_add_node(x, "b", xir_noloc(), NULL), 0);
	assert_int_equal(xir_add_node(x, "a", xir_noloc(), NULL), 0);
	assert_int_equal(xir_add_node(x, "a", xir_noloc(), NULL), 0);
	r = run(check_names, x);
	has(&r, "m.vtb: error: device 'a' is defined twice\n  hint: devices 0 and 2 (counting "
		"from 0) have the same name");
	has(&r, "hint: devices 0 and 3 (counting from 0)");
	errors(&r, 2);
	run_free(&r);
	xir_free(x);

	/* unnamed links are not duplicates of each other */
	x = model();
	node(x, "a", 1);
	node(x, "b", 2);
	link2(x, NULL, 0, 1, 3);
	link2(x, NULL, 0, 1, 4);
	expect_clean(check_names, x);
}

/* The name rule itself: good and bad names, and why. */
static void test_name_rule(void **state)
{
	static const char *const good[] = {
		"a", "A9", "n0", "a.b", "a-b", "a_b", "_x", "9",
		"n23456789012345678901234567890123456789012345678901234567890123",
	};
	static const struct {
		const char *name, *why;
	} bad[] = {
		{ "", "it is empty" },
		{ ".", "it starts with '.'" },
		{ "..", "it starts with '.'" },
		{ "../../../tmp/x", "it starts with '.'" },
		{ "-x", "it starts with '-'" },
		{ "a/b", "'/' is not allowed" },
		{ "a b", "a space is not allowed" },
		{ "$(touch x)", "'$' is not allowed" },
		{ "nl\nx", "'\\n' is not allowed" },
		{ "e\x1b[31m", "'\\x1b' is not allowed" },
		{ "n234567890123456789012345678901234567890123456789012345678901234",
		  "it is 64 characters long" },
	};
	char why[64];
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_SIZE(good); i++)
		if (xir_name_check(good[i], strlen(good[i]), why, sizeof(why)))
			fail_msg("'%s' refused: %s", good[i], why);
	for (i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
		assert_int_equal(xir_name_check(bad[i].name, strlen(bad[i].name), why, sizeof(why)),
				 -EINVAL);
		assert_string_equal(why, bad[i].why);
	}
	assert_int_equal(xir_name_check("a/b", 3, NULL, 0), -EINVAL);
}

/* check_names reports names that break the rule (as a JSON document can
 * carry them), escaped, naming the object. */
static void test_names_rule(void **state)
{
	struct xir *x;
	struct run r;

	(void)state;
	x = model();
	node(x, "a/b", 1);
	node(x, "b\nx", 2);
	link2(x, "l\x1b[2J", 0, 1, 3);
	assert_int_equal(xir_add_task(x, "a b", SEC(1), at(4), NULL), 0);
	finish(x);
	r = run(check_names, x);
	has(&r, "m.vtb:1:3: error: device 'a/b' is not a valid name: '/' is not allowed\n"
		"  hint: " XIR_NAME_RULE);
	has(&r, "device 'b\\nx' is not a valid name: '\\n' is not allowed");
	has(&r, "link 'l\\x1b[2J' is not a valid name: '\\x1b' is not allowed");
	has(&r, "task 'a b' is not a valid name: a space is not allowed");
	lacks(&r, "\x1b");
	errors(&r, 4);
	run_free(&r);
	xir_free(x);
}

/* Compile a model; its diagnostics in the result. */
static struct run compile_text(const char *src)
{
	struct diag_list d;
	struct xir *x = NULL;
	struct run r = { 0 };

	diag_init(&d, "m.vtb", src, strlen(src));
	compile_source("m.vtb", src, strlen(src), NULL, &x, &d, NULL);
	r.text = diag_format(&d);
	assert_non_null(r.text);
	r.nerrors = d.nerrors;
	diag_free(&d);
	xir_free(x);
	return r;
}

/* The model language applies the same rule to devices, links and tasks,
 * and the names it makes for links stay within it. */
static void test_names_model(void **state)
{
	struct run r;

	(void)state;
	r = compile_text("a = topo.device('a/b')\n");
	has(&r, "m.vtb:1:17: error: 'a/b' is not a valid device name: '/' is not allowed");
	run_free(&r);
	r = compile_text("a = topo.device('a')\nb = topo.device('b')\n"
			 "topo.connect([a, b], name='x y')\n");
	has(&r, "error: 'x y' is not a valid link name: a space is not allowed");
	run_free(&r);
	r = compile_text("a = topo.device('a')\ntask('t\\n1', run(a, 'true'))\n");
	has(&r, "error: 't\\n1' is not a valid task name: '\\n' is not allowed");
	lacks(&r, "t\n1");
	run_free(&r);
	r = compile_text("a = topo.device('a')\ntask('..', run(a, 'true'))\n");
	has(&r, "error: '..' is not a valid task name: it starts with '.'");
	run_free(&r);
	/* 12 links between two 30-character names: "...-....12" is cut to 63 */
	r = compile_text("a = topo.device('a23456789012345678901234567890')\n"
			 "b = topo.device('b23456789012345678901234567890')\n"
			 "for i in range(12):\n    topo.connect([a, b])\n");
	errors(&r, 0);
	run_free(&r);
}

/* ---- check_contradictions ---- */

static void test_contra_numbers(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	node(x, "x", 1);
	con(ncs(x, 0), "cores", XIR_EQ, vint(4), 3);
	con(ncs(x, 0), "cores", XIR_GT, vint(8), 4);
	r = run(check_contradictions, x);
	has(&r, "m.vtb:4:3: error: device 'x': 'cores > 8' contradicts 'cores == 4' (line 3)");
	errors(&r, 1);
	run_free(&r);
	xir_free(x);

	x = model();
	l = pair(x);
	con(ncs(x, 0), "memory", XIR_EQ, vq(GB(8), XU_BYTES), 4);
	con(ncs(x, 0), "memory", XIR_LT, vq(MB(512), XU_BYTES), 5);
	con(ncs(x, 1), "memory", XIR_EQ, vq(GB(8) + 1, XU_BYTES), 6);
	con(ncs(x, 1), "memory", XIR_EQ, vq(GB(4), XU_BYTES), 7);
	con(lcs(x, l), "latency", XIR_GE, vq(MS(10), XU_NS), 8);
	con(lcs(x, l), "latency", XIR_LE, vq(US(1500), XU_NS), 9);
	con(lcs(x, l), "capacity", XIR_EQ, vq(100000000, XU_BPS), 10);
	con(lcs(x, l), "capacity", XIR_NE, vq(100000000, XU_BPS), 11);
	con(lcs(x, l), "loss", XIR_GT, vflt(0.5), 12);
	con(lcs(x, l), "loss", XIR_LE, vflt(0.5), 13);
	con(ecs(x, l, 0), "latency", XIR_LT, vq(MS(1), XU_NS), 14);
	con(ecs(x, l, 0), "latency", XIR_EQ, vq(MS(1), XU_NS), 15);
	finish(x);
	r = run(check_contradictions, x);
	has(&r, "m.vtb:5:3: error: device 'a': 'memory < mb(512)' contradicts 'memory == gb(8)' "
		"(line 4)");
	has(&r, "device 'b': 'memory == gb(4)' contradicts 'memory == 8589934593 bytes' (line 6)");
	has(&r, "link 'a-b': 'latency <= us(1500)' contradicts 'latency >= ms(10)' (line 8)");
	has(&r, "link 'a-b': 'capacity != mbps(100)' contradicts 'capacity == mbps(100)' (line 10)");
	has(&r, "link 'a-b': 'loss <= 0.5' contradicts 'loss > 0.5' (line 12)");
	has(&r, "link 'a-b', endpoint 'a': 'latency == ms(1)' contradicts 'latency < ms(1)' "
		"(line 14)");
	errors(&r, 6);
	run_free(&r);
	xir_free(x);
}

static void test_contra_edges(void **state)
{
	struct xir *x;
	struct run r;

	(void)state;
	x = model();
	node(x, "a", 1);
	node(x, "b", 2);
	node(x, "c", 3);
	node(x, "d", 4);
	node(x, "e", 5);
	/* whole numbers: nothing lies strictly between 3 and 4 */
	con(ncs(x, 0), "cores", XIR_GT, vint(3), 10);
	con(ncs(x, 0), "cores", XIR_LT, vint(4), 11);
	/* pinned by two bounds, then excluded */
	con(ncs(x, 1), "cores", XIR_GE, vint(4), 12);
	con(ncs(x, 1), "cores", XIR_LE, vint(4), 13);
	con(ncs(x, 1), "cores", XIR_NE, vint(4), 14);
	/* excluded, then required */
	con(ncs(x, 2), "cores", XIR_NE, vint(2), 15);
	con(ncs(x, 2), "cores", XIR_EQ, vint(2), 16);
	/* the property's own range */
	con(ncs(x, 3), "cores", XIR_GT, vint(4096), 17);
	con(ncs(x, 3), "dilation", XIR_LE, vint(0), 18);
	con(ncs(x, 4), "cores", XIR_LT, vint(1), 19);
	con(ncs(x, 4), "cpufreq", XIR_LT, vq(1, XU_HZ), 20);
	r = run(check_contradictions, x);
	has(&r, "m.vtb:11:3: error: device 'a': 'cores < 4' contradicts 'cores > 3' (line 10)");
	has(&r, "m.vtb:14:3: error: device 'b': 'cores != 4' contradicts 'cores <= 4' (line 13)");
	has(&r, "m.vtb:16:3: error: device 'c': 'cores == 2' contradicts 'cores != 2' (line 15)");
	has(&r, "m.vtb:17:3: error: device 'd': 'cores > 4096' can never hold: 'cores' is at most "
		"4096");
	has(&r, "device 'd': 'dilation <= 0' can never hold: 'dilation' is always greater than 0");
	has(&r, "device 'e': 'cores < 1' can never hold: 'cores' is at least 1");
	has(&r, "device 'e': 'cpufreq < 1 Hz' can never hold: 'cpufreq' is at least 1 Hz");
	errors(&r, 7);
	run_free(&r);
	xir_free(x);

	/* satisfiable sets */
	x = model();
	node(x, "a", 1);
	con(ncs(x, 0), "cores", XIR_GE, vint(4), 2);
	con(ncs(x, 0), "cores", XIR_LE, vint(4), 2);
	con(ncs(x, 0), "cores", XIR_EQ, vint(4), 2);
	con(ncs(x, 0), "cores", XIR_NE, vint(5), 2);
	con(ncs(x, 0), "dilation", XIR_GT, vflt(0.5), 3);
	con(ncs(x, 0), "dilation", XIR_LT, vflt(0.6), 3);
	con(ncs(x, 0), "memory", XIR_GT, vq(GB(1), XU_BYTES), 4);
	con(ncs(x, 0), "memory", XIR_LE, vq(GB(1) + 1, XU_BYTES), 4);
	expect_clean(check_contradictions, x);
}

static void test_contra_one_per_property(void **state)
{
	struct xir *x = model();
	struct run r;

	(void)state;
	node(x, "a", 1);
	con(ncs(x, 0), "cores", XIR_EQ, vint(1), 2);
	con(ncs(x, 0), "cores", XIR_EQ, vint(2), 3);
	con(ncs(x, 0), "cores", XIR_EQ, vint(3), 4);
	con(ncs(x, 0), "memory", XIR_EQ, vq(GB(1), XU_BYTES), 5);
	con(ncs(x, 0), "memory", XIR_EQ, vq(GB(2), XU_BYTES), 6);
	r = run(check_contradictions, x);
	has(&r, "'cores == 2' contradicts 'cores == 1' (line 2)");
	has(&r, "'memory == gb(2)' contradicts 'memory == gb(1)' (line 5)");
	errors(&r, 2);
	run_free(&r);
	xir_free(x);
}

static void test_contra_plain(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t l;

	(void)state;
	x = model();
	l = pair(x);
	con(ncs(x, 0), "virt", XIR_EQ, vbool(true), 4);
	con(ncs(x, 0), "virt", XIR_EQ, vbool(false), 5);
	con(ncs(x, 1), "image", XIR_EQ, vstr("debian:bookworm"), 6);
	con(ncs(x, 1), "image", XIR_EQ, vstr("debian:trixie"), 7);
	con(ncs(x, 1), "kernel", XIR_EQ, vstr("bz"), 8);
	con(ncs(x, 1), "kernel", XIR_NE, vstr("bz"), 9);
	con(ecs(x, l, 0), "ip", XIR_EQ, vstr("10.0.0.1/24"), 10);
	con(ecs(x, l, 0), "ip", XIR_EQ, vstr("10.0.0.2/24"), 11);
	con(ecs(x, l, 1), "mac", XIR_NE, vstr("02:00:00:00:00:0A"), 12);
	con(ecs(x, l, 1), "mac", XIR_EQ, vstr("02-00-00-00-00-0a"), 13);
	con(&x->cons, "islands", XIR_EQ, vbool(true), 14);
	con(&x->cons, "islands", XIR_EQ, vbool(false), 15);
	finish(x);
	r = run(check_contradictions, x);
	has(&r, "m.vtb:5:3: error: device 'a': 'virt == false' contradicts 'virt == true' (line 4)");
	has(&r, "device 'b': 'image == \"debian:trixie\"' contradicts "
		"'image == \"debian:bookworm\"' (line 6)");
	has(&r, "device 'b': 'kernel != \"bz\"' contradicts 'kernel == \"bz\"' (line 8)");
	has(&r, "link 'a-b', endpoint 'a': 'ip == \"10.0.0.2/24\"' contradicts 'ip == "
		"\"10.0.0.1/24\"' (line 10)");
	has(&r, "link 'a-b', endpoint 'b': 'mac == \"02-00-00-00-00-0a\"' contradicts 'mac != "
		"\"02:00:00:00:00:0A\"' (line 12)");
	has(&r, "experiment: 'islands == false' contradicts 'islands == true' (line 14)");
	errors(&r, 6);
	run_free(&r);
	xir_free(x);

	/* the same address spelled two ways is one value */
	x = model();
	l = pair(x);
	con(ecs(x, l, 0), "ip", XIR_EQ, vstr("fd00::1/64"), 4);
	con(ecs(x, l, 0), "ip", XIR_EQ, vstr("FD00:0:0::1/64"), 5);
	con(ncs(x, 0), "image", XIR_NE, vstr("a.img"), 6);
	con(ncs(x, 0), "image", XIR_EQ, vstr("b.img"), 7);
	expect_clean(check_contradictions, x);
}

/* host == 'NAME': a string that is a name; one host per device. */
static void test_host(void **state)
{
	struct xir *x;
	struct run r;

	(void)state;
	x = model();
	pair(x);
	con(ncs(x, 0), "host", XIR_EQ, vstr(""), 4);
	con(ncs(x, 1), "host", XIR_EQ, vint(3), 5);
	finish(x);
	r = run(check_properties, x);
	has(&r, "device 'a': 'host': '' is not a host name: it is empty");
	has(&r, "device 'b': 'host' needs a host name, like 'h1', not the plain number 3");
	errors(&r, 2);
	run_free(&r);
	xir_free(x);

	x = model();
	pair(x);
	con(ncs(x, 0), "host", XIR_EQ, vstr("h1"), 4);
	con(ncs(x, 0), "host", XIR_EQ, vstr("h2"), 5);
	finish(x);
	r = run(check_contradictions, x);
	has(&r, "device 'a': 'host == \"h2\"' contradicts 'host == \"h1\"' (line 4)");
	errors(&r, 1);
	run_free(&r);
	xir_free(x);

	x = model();
	pair(x);
	con(ncs(x, 0), "host", XIR_EQ, vstr("h1"), 4);
	con(ncs(x, 1), "host", XIR_NE, vstr("h1"), 5);
	expect_clean(check_properties, x);
}

static void test_contra_enums(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t a, b, c, d, e, l1, l2, l3;

	(void)state;
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	c = node(x, "c", 3);
	d = node(x, "d", 4);
	e = node(x, "e", 5);
	l1 = link2(x, NULL, a, b, 6);
	l2 = link2(x, NULL, c, d, 7);
	l3 = link2(x, NULL, e, a, 8);
	con(ecs(x, l1, a), "nic", XIR_GE, venum("connect5"), 10);
	con(ecs(x, l1, a), "nic", XIR_EQ, venum("connect4"), 11);
	con(ecs(x, l1, b), "nic", XIR_GE, venum("connect4"), 12);
	con(ecs(x, l1, b), "nic", XIR_GE, venum("x710"), 13);
	con(ecs(x, l2, c), "nic", XIR_EQ, venum("virtio"), 14);
	con(ecs(x, l2, c), "nic", XIR_LT, venum("connect6"), 15);
	con(ecs(x, l2, d), "nic", XIR_EQ, venum("virtio"), 16);
	con(ecs(x, l2, d), "nic", XIR_EQ, venum("e1000"), 17);
	con(ecs(x, l3, e), "nic", XIR_GT, venum("connect5"), 18);
	con(ecs(x, l3, e), "nic", XIR_LT, venum("connect6"), 19);
	con(ncs(x, a), "arch", XIR_EQ, venum("aarch64"), 20);
	con(ncs(x, a), "arch", XIR_NE, venum("aarch64"), 21);
	finish(x);
	r = run(check_contradictions, x);
	has(&r, "m.vtb:11:3: error: link 'a-b', endpoint 'a': 'nic == connect4' contradicts 'nic "
		">= connect5' (line 10)");
	has(&r, "link 'a-b', endpoint 'b': 'nic >= x710' contradicts 'nic >= connect4' (line 12)");
	has(&r, "hint: x710 (intel) and connect4 (connectx) are not of one ordered family");
	has(&r, "link 'c-d', endpoint 'c': 'nic < connect6' contradicts 'nic == virtio' (line 14)");
	has(&r, "hint: connect6 (connectx) and virtio (unordered) are not of one ordered family");
	has(&r, "link 'c-d', endpoint 'd': 'nic == e1000' contradicts 'nic == virtio' (line 16)");
	has(&r, "link 'e-a', endpoint 'e': 'nic < connect6' contradicts 'nic > connect5' (line 18)");
	has(&r, "device 'a': 'arch != aarch64' contradicts 'arch == aarch64' (line 20)");
	errors(&r, 6);
	run_free(&r);
	xir_free(x);

	/* ranges inside one family */
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	l1 = link2(x, NULL, a, b, 3);
	con(ecs(x, l1, a), "nic", XIR_GE, venum("connect4"), 4);
	con(ecs(x, l1, a), "nic", XIR_LE, venum("connect6"), 4);
	con(ecs(x, l1, a), "nic", XIR_EQ, venum("connect5"), 4);
	con(ecs(x, l1, a), "nic", XIR_NE, venum("x710"), 4);
	con(ecs(x, l1, b), "nic", XIR_NE, venum("virtio"), 5);
	con(ecs(x, l1, b), "nic", XIR_GE, venum("x520"), 5);
	finish(x);
	expect_clean(check_contradictions, x);
}

static void test_contra_skips_bad(void **state)
{
	struct xir *x = model();
	struct run r;
	uint32_t l;

	(void)state;
	l = pair(x);
	/* wrong type, wrong place, wrong operator: check_properties' business */
	con(lcs(x, l), "latency", XIR_EQ, vq(GB(1), XU_BYTES), 4);
	con(lcs(x, l), "latency", XIR_EQ, vq(MS(1), XU_NS), 5);
	con(lcs(x, l), "cores", XIR_EQ, vint(1), 6);
	con(lcs(x, l), "cores", XIR_EQ, vint(2), 7);
	con(ecs(x, l, 0), "vlan", XIR_GT, vint(5), 8);
	con(ecs(x, l, 0), "vlan", XIR_EQ, vint(2), 9);
	con(ncs(x, 0), "cores", XIR_EQ, vint(0), 10);
	con(ncs(x, 0), "cores", XIR_EQ, vint(2), 11);
	/* queue limits in packets and in bytes are separate */
	con(lcs(x, l), "queue", XIR_EQ, vint(100), 12);
	con(lcs(x, l), "queue", XIR_EQ, vq(KB(64), XU_BYTES), 13);
	/* a unitless 0 is the same as ms(0) */
	con(ecs(x, l, 1), "latency", XIR_EQ, vint(0), 14);
	con(ecs(x, l, 1), "latency", XIR_EQ, vq(0, XU_NS), 15);
	finish(x);
	expect_clean(check_contradictions, x);

	x = model();
	l = pair(x);
	con(lcs(x, l), "queue", XIR_EQ, vint(100), 12);
	con(lcs(x, l), "queue", XIR_LT, vint(50), 13);
	finish(x);
	r = run(check_contradictions, x);
	has(&r, "'queue < 50' contradicts 'queue == 100' (line 12)");
	errors(&r, 1);
	run_free(&r);
	xir_free(x);
}

/* ---- check_links ---- */

static void test_links(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t a, b, c, l;

	(void)state;
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	c = node(x, "c", 3);
	assert_int_equal(xir_add_link(x, "l", at(4), &l), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, a, at(4)), 0);
	assert_int_equal(xir_add_link(x, "empty", at(5), &l), 0);
	assert_int_equal(xir_add_link(x, "lan", at(6), &l), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, a, at(6)), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, b, at(6)), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, a, (struct src_loc){ 7, 9, 1 }), 0);
	assert_int_equal(xir_add_link(x, "bad", at(8), &l), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, a, at(8)), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, 42, at(8)), 0);
	link2(x, "ok", b, c, 9);
	r = run(check_links, x);
	has(&r, "m.vtb:4:3: error: link 'l': a link needs at least two devices\n  hint: connect it "
		"to another device, or remove it");
	has(&r, "m.vtb:5:3: error: link 'empty': a link needs at least two devices");
	has(&r, "m.vtb:7:9: error: link 'lan': device 'a' is on it twice\n  hint: a link joins "
		"different devices");
	has(&r, "link 'bad': endpoint 1 names no device (index 42)");
	lacks(&r, "'ok'");
	errors(&r, 4);
	run_free(&r);
	xir_free(x);

	/* a LAN of three is fine */
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	c = node(x, "c", 3);
	l = link2(x, "lan", a, b, 4);
	assert_int_equal(xir_link_add_endpoint(x, l, c, at(4)), 0);
	link2(x, NULL, a, b, 5); /* a second link between the same two devices */
	finish(x);
	expect_clean(check_links, x);
}

/* ---- check_islands ---- */

static void test_islands(void **state)
{
	struct xir *x;
	struct run r;
	char name[16];
	uint32_t i;

	(void)state;
	x = model();
	node(x, "a", 1);
	node(x, "b", 2);
	node(x, "c", 3);
	node(x, "d", 4);
	node(x, "f", 5);
	link2(x, NULL, 0, 1, 6);
	link2(x, NULL, 2, 3, 7);
	finish(x);
	r = run(check_islands, x);
	has(&r, "m.vtb:3:3: error: the network is split into 3 islands: a, c, f\n  hint: connect "
		"them, or allow it with topo.spec(islands == true)");
	errors(&r, 1);
	run_free(&r);

	con(&x->cons, "islands", XIR_EQ, vbool(true), 8);
	expect_clean(check_islands, x);

	/* twelve lone devices: ten named */
	x = model();
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		node(x, name, i + 1);
	}
	r = run(check_islands, x);
	has(&r, "split into 12 islands: n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, and 2 more");
	errors(&r, 1);
	run_free(&r);
	xir_free(x);

	/* none, or one device: no islands */
	expect_clean(check_islands, model());
	x = model();
	node(x, "a", 1);
	expect_clean(check_islands, x);

	/* a LAN joins everything on it */
	x = model();
	node(x, "a", 1);
	node(x, "b", 2);
	node(x, "c", 3);
	link2(x, NULL, 0, 1, 4);
	assert_int_equal(xir_link_add_endpoint(x, 0, 2, at(4)), 0);
	finish(x);
	expect_clean(check_islands, x);
}

/* A chain of n devices n0-n1-...; each link gets its own /30 when
 * addressed, and skip (if < n) leaves one link out. */
static struct xir *chain(uint32_t n, uint32_t skip, bool addressed)
{
	struct xir *x = model();
	char name[24];
	uint32_t i, l;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		node(x, name, i + 1);
	}
	for (i = 0; i + 1 < n; i++) {
		if (i == skip)
			continue;
		l = link2(x, NULL, i, i + 1, n + i + 1);
		if (!addressed)
			continue;
		snprintf(name, sizeof(name), "10.%u.%u.%u/30", (4 * i) >> 16 & 255, (4 * i) >> 8 & 255,
			 ((4 * i) & 255) + 1);
		con(ecs(x, l, i), "ip", XIR_EQ, vstr(name), n + i + 1);
		snprintf(name, sizeof(name), "10.%u.%u.%u/30", (4 * i) >> 16 & 255, (4 * i) >> 8 & 255,
			 ((4 * i) & 255) + 2);
		con(ecs(x, l, i + 1), "ip", XIR_EQ, vstr(name), n + i + 1);
	}
	finish(x);
	return x;
}

static void test_big_chain(void **state)
{
	struct xir_constraint *c;
	struct xir *x;
	struct run r;

	(void)state;
	x = chain(100000, UINT32_MAX, true);
	r = run(check_all, x);
	errors(&r, 0);
	assert_int_equal(r.nwarnings, 0);
	run_free(&r);
	xir_free(x);

	x = chain(100000, 49999, false);
	r = run(check_islands, x);
	has(&r, "the network is split into 2 islands: n0, n50000");
	has(&r, "m.vtb:50001:3:");
	errors(&r, 1);
	run_free(&r);
	xir_free(x);

	/* the same /30 on two links far apart in a big model */
	x = chain(100000, UINT32_MAX, true);
	c = &x->links[99990].ep[0].cons.v[0]; /* the ip == chain() gave n99990 */
	xir_value_free(&c->value);
	c->value = vstr("10.0.0.5/30"); /* link n1-n2's */
	r = run(check_addresses, x);
	has(&r, "link 'n99990-n99991', endpoint 'n99990': address 10.0.0.5 is already used by "
		"link 'n1-n2', endpoint 'n1'");
	has(&r, "link 'n99990-n99991': subnet 10.0.0.4/30 overlaps subnet 10.0.0.4/30 of link "
		"'n1-n2'");
	run_free(&r);
	xir_free(x);
}

/* ---- check_addresses ---- */

static void test_addresses(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t a, b, c, d, l1, l2, l3;

	(void)state;
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	c = node(x, "c", 3);
	d = node(x, "d", 4);
	l1 = link2(x, NULL, a, b, 5);
	l2 = link2(x, NULL, c, d, 6);
	con(ecs(x, l1, a), "ip", XIR_EQ, vstr("10.0.0.1/24"), 7);
	con(ecs(x, l1, b), "ip", XIR_EQ, vstr("10.0.0.2/24"), 8);
	con(ecs(x, l2, c), "ip", XIR_EQ, vstr("10.0.0.1/24"), 9);
	con(ecs(x, l2, d), "ip", XIR_EQ, vstr("10.0.0.3/24"), 10);
	finish(x);
	r = run(check_addresses, x);
	has(&r, "m.vtb:9:3: error: link 'c-d', endpoint 'c': address 10.0.0.1 is already used by "
		"link 'a-b', endpoint 'a' (line 7)");
	has(&r, "m.vtb:9:3: error: link 'c-d': subnet 10.0.0.0/24 overlaps subnet 10.0.0.0/24 of "
		"link 'a-b' (line 7)\n  hint: give each link its own subnet");
	errors(&r, 2);
	run_free(&r);
	xir_free(x);

	/* nested subnets, and endpoints of one link in different subnets */
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	c = node(x, "c", 3);
	d = node(x, "d", 4);
	l1 = link2(x, NULL, a, b, 5);
	l2 = link2(x, NULL, c, d, 6);
	l3 = link2(x, NULL, b, c, 7);
	con(ecs(x, l1, a), "ip", XIR_EQ, vstr("10.0.0.1/16"), 8);
	con(ecs(x, l1, b), "ip", XIR_EQ, vstr("10.0.0.2/16"), 8);
	con(ecs(x, l2, c), "ip", XIR_EQ, vstr("10.0.5.1/24"), 9);
	con(ecs(x, l2, d), "ip", XIR_EQ, vstr("10.0.5.2/24"), 10);
	con(ecs(x, l3, b), "ip", XIR_EQ, vstr("192.168.0.1/24"), 11);
	con(ecs(x, l3, c), "ip", XIR_EQ, vstr("192.168.1.1/24"), 12);
	finish(x);
	r = run(check_addresses, x);
	has(&r, "m.vtb:9:3: error: link 'c-d': subnet 10.0.5.0/24 overlaps subnet 10.0.0.0/16 of "
		"link 'a-b' (line 8)");
	has(&r, "m.vtb:12:3: warning: link 'b-c': endpoint 'c' (192.168.1.1/24) is not in the "
		"subnet of endpoint 'b' (192.168.0.0/24)");
	errors(&r, 1);
	assert_int_equal(r.nwarnings, 1);
	run_free(&r);
	xir_free(x);
}

static void test_addresses_v6(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t a, b, c, d, l1, l2, l3;

	(void)state;
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	c = node(x, "c", 3);
	d = node(x, "d", 4);
	l1 = link2(x, NULL, a, b, 5);
	l2 = link2(x, NULL, c, d, 6);
	l3 = link2(x, NULL, b, c, 7);
	con(ecs(x, l1, a), "ip", XIR_EQ, vstr("fd00::1/48"), 8);
	con(ecs(x, l1, b), "ip", XIR_EQ, vstr("fd00::2/48"), 8);
	con(ecs(x, l2, c), "ip", XIR_EQ, vstr("fd00:0:0:1::1/64"), 9);
	con(ecs(x, l2, d), "ip", XIR_EQ, vstr("fd00:0:0:0:0:0:0:2/64"), 10);
	con(ecs(x, l3, b), "ip", XIR_EQ, vstr("fd01::1/64"), 11);
	con(ecs(x, l3, c), "ip", XIR_EQ, vstr("fd02::1/64"), 12);
	finish(x);
	r = run(check_addresses, x);
	has(&r, "m.vtb:10:3: error: link 'c-d', endpoint 'd': address fd00::2 is already used by "
		"link 'a-b', endpoint 'b' (line 8)");
	has(&r, "m.vtb:10:3: error: link 'c-d': subnet fd00::/64 overlaps subnet fd00::/48 of link "
		"'a-b' (line 8)");
	has(&r, "warning: link 'c-d': endpoint 'd' (fd00::2/64) is not in the subnet of endpoint "
		"'c' (fd00:0:0:1::/64)");
	has(&r, "warning: link 'b-c': endpoint 'c' (fd02::1/64) is not in the subnet of endpoint "
		"'b' (fd01::/64)");
	errors(&r, 2);
	assert_int_equal(r.nwarnings, 2);
	run_free(&r);
	xir_free(x);

	/* IPv4 and IPv6 with the same leading bytes do not meet; dual stack is fine */
	x = model();
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	c = node(x, "c", 3);
	l1 = link2(x, NULL, a, b, 4);
	l2 = link2(x, NULL, b, c, 5);
	con(ecs(x, l1, a), "ip", XIR_EQ, vstr("10.0.0.1/24"), 6);
	con(ecs(x, l1, b), "ip", XIR_EQ, vstr("10.0.0.2/24"), 6);
	con(ecs(x, l2, b), "ip", XIR_EQ, vstr("a00::1/64"), 7);
	con(ecs(x, l2, c), "ip", XIR_EQ, vstr("a00::2/64"), 7);
	/* ip != and invalid addresses are not addresses in use */
	con(ecs(x, l2, c), "ip", XIR_NE, vstr("10.0.0.1/24"), 8);
	con(ecs(x, l1, a), "ip", XIR_EQ, vstr("10.0.0.300/24"), 8);
	finish(x);
	expect_clean(check_addresses, x);
}

/* Many links in different subnets: a few warnings, then a count. */
static void test_subnet_warnings_capped(void **state)
{
	struct xir *x = model();
	struct run r;
	char ip[32];
	uint32_t i, l;

	(void)state;
	node(x, "a", 1);
	node(x, "b", 2);
	for (i = 0; i < 30; i++) {
		l = link2(x, NULL, 0, 1, 3 + i);
		snprintf(ip, sizeof(ip), "10.%u.0.1/24", 2 * i);
		con(ecs(x, l, 0), "ip", XIR_EQ, vstr(ip), 3 + i);
		snprintf(ip, sizeof(ip), "10.%u.0.1/24", 2 * i + 1);
		con(ecs(x, l, 1), "ip", XIR_EQ, vstr(ip), 3 + i);
	}
	finish(x);
	r = run(check_addresses, x);
	errors(&r, 0);
	assert_int_equal(r.nwarnings, DIAG_MAX_ERRORS + 1);
	has(&r, "m.vtb: warning: 10 more links have endpoints in different subnets");
	run_free(&r);
	xir_free(x);
}

/* ---- check_tasks ---- */

static void test_tasks(void **state)
{
	struct xir *x = model();
	struct run r;
	uint32_t t;

	(void)state;
	node(x, "a", 1);
	node(x, "b", 2);
	assert_int_equal(xir_add_task(x, "nothing", SEC(1), at(3), &t), 0);
	assert_int_equal(xir_add_task(x, "zero", 0, at(4), &t), 0);
	assert_int_equal(xir_task_add_command(x, t, 0, "true", false, NULL, at(4)), 0);
	assert_int_equal(xir_add_task(x, "neg", -SEC(5), at(5), &t), 0);
	assert_int_equal(xir_task_add_command(x, t, 0, "true", false, NULL, at(5)), 0);
	assert_int_equal(xir_add_task(x, "regex", SEC(1), at(6), &t), 0);
	assert_int_equal(xir_task_add_command(x, t, 0, "true", false, "ok", at(6)), 0);
	assert_int_equal(xir_task_add_command(x, t, 1, "echo", false, "a(b", at(7)), 0);
	assert_int_equal(xir_add_task(x, "blank", SEC(1), at(8), &t), 0);
	assert_int_equal(xir_task_add_command(x, t, 1, " \t", false, NULL, at(9)), 0);
	assert_int_equal(xir_task_add_command(x, t, 0, "", true, NULL, xir_noloc()), 0);
	r = run(check_tasks, x);
	has(&r, "m.vtb:3:3: error: task 'nothing': it has no commands\n  hint: add run(device, "
		"'command') to it");
	has(&r, "m.vtb:4:3: error: task 'zero': the timeout must be positive, not 0");
	has(&r, "task 'neg': the timeout must be positive, not s(-5)");
	has(&r, "m.vtb:7:3: error: task 'regex': command 2 on 'b': expect \"a(b\" is not a valid "
		"regular expression: ");
	has(&r, "regular expression: Unmatched ( or \\("); /* glibc's regerror */
	has(&r, "m.vtb:9:3: error: task 'blank': command 1 on 'b' is empty");
	has(&r, "m.vtb:8:3: error: task 'blank': command 2 on 'a' is empty");
	errors(&r, 6);
	run_free(&r);
	xir_free(x);
}

/* ---- check_virt ---- */

static void test_virt(void **state)
{
	struct xir *x;
	struct run r;
	uint32_t a, b, c, d, l1, l2;

	(void)state;
	x = model();
	a = node(x, "r", 1);
	b = node(x, "s", 2);
	c = node(x, "t", 3);
	d = node(x, "u", 4);
	l1 = link2(x, NULL, a, b, 5);
	l2 = link2(x, NULL, c, d, 6);
	con(ncs(x, a), "virt", XIR_EQ, vbool(false), 7);
	con(ecs(x, l1, a), "nic", XIR_EQ, venum("e1000"), 8);
	con(ncs(x, b), "virt", XIR_EQ, vbool(false), 9);
	con(ncs(x, b), "kernel", XIR_EQ, vstr("bzImage"), 10);
	con(ncs(x, c), "virt", XIR_EQ, vbool(false), 11);
	con(ncs(x, c), "arch", XIR_EQ, venum("aarch64"), 12);
	/* fine: a container with a physical NIC family, a VM with a kernel */
	con(ncs(x, d), "virt", XIR_EQ, vbool(false), 13);
	con(ecs(x, l2, d), "nic", XIR_GE, venum("connect5"), 14);
	con(ecs(x, l2, c), "nic", XIR_EQ, venum("connect5"), 14);
	finish(x);
	r = run(check_virt, x);
	has(&r, "m.vtb:7:3: error: device 'r': virt == false, but nic == e1000 on link 'r-s' needs "
		"a VM");
	has(&r, "m.vtb:9:3: error: device 's': virt == false, but kernel == \"bzImage\" needs a VM");
	has(&r, "device 't': virt == false, but arch == aarch64 needs a VM");
	has(&r, "hint: only a VM can meet that");
	lacks(&r, "device 'u'");
	errors(&r, 3);
	run_free(&r);
	xir_free(x);

	x = model();
	a = node(x, "r", 1);
	b = node(x, "s", 2);
	l1 = link2(x, NULL, a, b, 3);
	con(ncs(x, a), "virt", XIR_EQ, vbool(true), 4);
	con(ncs(x, a), "kernel", XIR_EQ, vstr("bzImage"), 4);
	con(ecs(x, l1, b), "nic", XIR_EQ, venum("virtio"), 5); /* s may become a VM */
	con(ncs(x, b), "arch", XIR_EQ, venum("x86_64"), 6);
	finish(x);
	expect_clean(check_virt, x);
}

/* ---- check_all ---- */

static void test_all(void **state)
{
	struct xir *x = model();
	struct run r;
	uint32_t a, b, l;

	(void)state;
	a = node(x, "a", 1);
	b = node(x, "b", 2);
	node(x, "a", 3);
	l = link2(x, NULL, a, b, 4);
	con(ncs(x, a), "cores", XIR_EQ, vint(4), 5);
	con(ncs(x, a), "cores", XIR_GT, vint(8), 6);
	con(ecs(x, l, b), "ip", XIR_EQ, vstr("10.0.0.0/24"), 7);
	finish(x);
	r = run(check_all, x);
	has(&r, "link 'a-b', endpoint 'b': ip \"10.0.0.0/24\": 10.0.0.0 is the network address");
	has(&r, "device 'a' is defined twice");
	has(&r, "'cores > 8' contradicts 'cores == 4' (line 5)");
	has(&r, "the network is split into 2 islands: a, a");
	errors(&r, 4);
	run_free(&r);
	xir_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_model),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_quantity_types),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_addresses_values),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_unplaced),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_stops_when_full),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_name_rule),
		cmocka_unit_test(test_names_rule),
		cmocka_unit_test(test_names_model),
		cmocka_unit_test(test_contra_numbers),
		cmocka_unit_test(test_contra_edges),
		cmocka_unit_test(test_contra_one_per_property),
		cmocka_unit_test(test_contra_plain),
		cmocka_unit_test(test_contra_enums),
		cmocka_unit_test(test_contra_skips_bad),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_islands),
		cmocka_unit_test(test_big_chain),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_addresses_v6),
		cmocka_unit_test(test_subnet_warnings_capped),
		cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_virt),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
