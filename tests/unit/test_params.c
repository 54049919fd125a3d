/* test_params: the one table of units and the one table of link
 * parameters: a value means the same in the model (realization), on the
 * command line (vtb link set) and in the supervisor, which all go through
 * xir_value_parse and rz_params. */
#include "unit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "realize.h"
#include "rz_params.h"

#define GIB (1ULL << 30)

static const struct rz_host host = { .cores = 64, .memory = 256 * GIB };

/* The parameters of the direction leaving a on link a-b of this model
 * (constraints on the link, given as model text). */
static struct emu_params model_dir(const char *cons)
{
	char src[512];
	struct diag_list d;
	struct xir *x = NULL;
	struct realization *r = NULL;
	struct emu_params p;

	snprintf(src, sizeof(src),
		 "a = topo.device('a')\nb = topo.device('b')\ntopo.connect([a, b], %s)\n", cons);
	diag_init(&d, "t.vtb", src, strlen(src));
	assert_int_equal(compile_source("t.vtb", src, strlen(src), NULL, &x, &d, NULL), 0);
	assert_int_equal(realize(x, &host, &r, &d), 0);
	assert_true(r->links[0].emulated);
	p = r->links[0].dir[0];
	realize_free(r);
	xir_free(x);
	diag_free(&d);
	return p;
}

/* The parameters vtb link set gives from KEY=VALUE words, starting from none. */
static int cli_dir(const char *name, const char *value, struct emu_params *p)
{
	struct rz_params b;
	char err[256];
	int r;

	rz_params_init(&b, NULL);
	r = rz_params_parse(&b, name, value, err, sizeof(err));
	return r ? r : rz_params_finish(&b, p);
}

/* kb once meant 1024 bytes in the model and 1000 on the command line. */
static void test_units_agree(void **state)
{
	static const struct {
		const char *model, *name, *cli;
	} cases[] = {
		{ "queue == kb(64)", "queue", "64kb" },
		{ "queue == mb(1)", "queue", "1mb" },
		{ "queue == 100", "queue", "100" },
		{ "capacity == mbps(20)", "capacity", "20mbps" },
		{ "capacity == gbps(1)", "capacity", "1gbps" },
		{ "capacity == kbps(500)", "capacity", "500kbps" },
		{ "latency == ms(20)", "latency", "20ms" },
		{ "latency == us(300)", "latency", "300us" },
		{ "latency == s(1)", "latency", "1s" },
		{ "jitter == ms(2), latency == ms(5)", "jitter", "2ms" },
		{ "loss == 0.01", "loss", "1%" },
		{ "duplicate == 0.5", "duplicate", "0.5" },
		{ "reorder == 0.25", "reorder", "25%" },
		{ "corrupt == 0.001", "corrupt", "0.1%" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct emu_params m = model_dir(cases[i].model), c;

		assert_int_equal(cli_dir(cases[i].name, cases[i].cli, &c), 0);
		if (strstr(cases[i].model, "jitter")) {
			assert_int_equal(m.jitter_ns, c.jitter_ns);
			continue;
		}
		assert_int_equal(m.queue_bytes, c.queue_bytes);
		assert_int_equal(m.queue_pkts, c.queue_pkts);
		assert_int_equal(m.rate_bps, c.rate_bps);
		assert_int_equal(m.latency_ns, c.latency_ns);
		assert_true(fabs(m.loss - c.loss) < 1e-12);
		assert_true(fabs(m.duplicate - c.duplicate) < 1e-12);
		assert_true(fabs(m.reorder - c.reorder) < 1e-12);
		assert_true(fabs(m.corrupt - c.corrupt) < 1e-12);
	}
	assert_int_equal(model_dir("queue == kb(64)").queue_bytes, 65536);
}

/* Every emulator parameter of the property table can be set by name. */
static void test_every_param_settable(void **state)
{
	const struct xir_prop *prop;
	size_t i, n = 0;

	(void)state;
	for (i = 0; (prop = xir_prop_at(i)); i++) {
		struct emu_params p = { 0 }, zero = { 0 };
		const char *v;

		if (prop->emu.kind == XE_NONE)
			continue;
		n++;
		switch (prop->type) {
		case XP_TIME:
			v = "3ms";
			break;
		case XP_BPS:
			v = "2mbps";
			break;
		case XP_FRACTION:
			v = "0.5";
			break;
		default:
			v = "4";
			break;
		}
		if (prop->emu.kind == XE_BURST) { /* alone it changes nothing: with a loss */
			struct rz_params b;
			char err[128];

			rz_params_init(&b, NULL);
			assert_int_equal(rz_params_parse(&b, "loss", "0.1", err, sizeof(err)), 0);
			assert_int_equal(rz_params_parse(&b, "burst", v, err, sizeof(err)), 0);
			assert_int_equal(rz_params_finish(&b, &p), 0);
			assert_true(p.ge.on);
			continue;
		}
		assert_int_equal(cli_dir(prop->name, v, &p), 0);
		assert_memory_not_equal(&p, &zero, sizeof(p));
	}
	assert_int_equal(n, 9);
}

static void expect_refused(const char *name, const char *value, const char *words)
{
	struct rz_params b;
	char err[256];

	rz_params_init(&b, NULL);
	assert_true(rz_params_parse(&b, name, value, err, sizeof(err)) < 0);
	if (!strstr(err, words) || !strstr(err, value)) {
		fprintf(stderr, "%s=%s: '%s' lacks '%s'\n", name, value, err, words);
		fail();
	}
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("capacity", "10mbit", "mbps");    /* tc's spelling is not a unit here */
	expect_refused("latency", "5parsec", "ns us ms s");
	expect_refused("latency", "20", "ms");           /* a time needs its unit */
	expect_refused("queue", "64kib", "kb mb gb");
	expect_refused("loss", "2", "from 0 to 1");
	expect_refused("loss", "-1%", "from 0 to 1");
	expect_refused("burst", "0.5", "1 or more");
	expect_refused("mtu", "9000", "cannot change");
	expect_refused("speed", "1", "unknown property 'speed'");
	expect_refused("capacity", "20kb", "kbps");      /* a size is not a rate */
	/* the model's ranges, and nothing that overflows into another value */
	expect_refused("queue", "99999999999999999999", "out of range");
	expect_refused("queue", "4294967296", "between 1 and 4294967295");
	expect_refused("queue", "0", "between 1 and");
	expect_refused("capacity", "0", "at least 1");
	expect_refused("capacity", "1e400mbps", "out of range");
	expect_refused("latency", "1e30s", "out of range");
	expect_refused("loss", "nan", "from 0 to 1");
	expect_refused("jitter", "infms", "out of range");
}

static void test_off_and_zero(void **state)
{
	struct emu_params p;

	(void)state;
	assert_int_equal(cli_dir("capacity", "off", &p), 0);
	assert_int_equal(p.rate_bps, 0);
	assert_int_equal(cli_dir("latency", "0", &p), 0);
	assert_int_equal(cli_dir("burst", "off", &p), 0);
	assert_false(p.ge.on);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_agree),
		cmocka_unit_test(test_every_param_settable),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_off_and_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
