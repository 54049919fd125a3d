/* test_sweep: vtb run's --sweep words (LINK.PARAM=V1,V2 against a model:
 * clear errors naming what is wrong), the combinations, the model's link
 * parameters as vtb link set's texts (what --repeat restores), run()'s
 * measure= in the model and the values measure_mean takes from output. */
#include "unit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "measure.h"
#include "realize.h"
#include "rz_params.h"
#include "sweep.h"
#include "xir_json.h"

#define GIB (1ULL << 30)

static const struct rz_host host = { .cores = 64, .memory = 256 * GIB };

/* a-b emulated (and named by its devices), c-d a plain veth, uplink
 * emulated and named */
static const char model[] =
	"a = topo.device('a')\nb = topo.device('b')\nc = topo.device('c')\n"
	"d = topo.device('d')\n"
	"topo.connect([a, b], latency == ms(5), loss == 0.01, capacity == mbps(10))\n"
	"topo.connect([c, d])\n"
	"topo.connect([b, c], latency == us(1500), queue == kb(64), burst == 2, loss == 0.1,"
	" name='uplink')\n";

struct fixture {
	struct xir *x;
	struct realization *rz;
	struct diag_list d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	diag_init(&f->d, "t.vtb", model, strlen(model));
	assert_int_equal(compile_source("t.vtb", model, strlen(model), NULL, &f->x, &f->d, NULL), 0);
	assert_int_equal(realize(f->x, &host, &f->rz, &f->d), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	realize_free(f->rz);
	xir_free(f->x);
	diag_free(&f->d);
	free(f);
	return 0;
}

/* Parse spec, expecting ret; err must contain want when it fails. */
static void parse_is(struct fixture *f, const char *spec, int ret, const char *want)
{
	struct sweep_axis ax;
	char err[UTIL_ERR_LEN] = "";
	int r = sweep_parse(f->x, f->rz, spec, &ax, err, sizeof(err));

	if (r != ret || (want && !strstr(err, want)))
		fail_msg("sweep_parse('%s') = %d (want %d), err '%s' (want '%s')", spec, r, ret, err,
			 want ? want : "");
	if (!r)
		sweep_axis_free(&ax);
}

static void test_parse_ok(void **state)
{
	struct fixture *f = *state;
	struct sweep_axis ax;
	char err[UTIL_ERR_LEN];

	assert_int_equal(sweep_parse(f->x, f->rz, "a-b.latency=1ms,10ms,100ms", &ax, err,
				     sizeof(err)), 0);
	assert_string_equal(ax.label, "a-b.latency");
	assert_string_equal(ax.link, "a-b");
	assert_string_equal(ax.param, "latency");
	assert_int_equal(ax.nvals, 3);
	assert_string_equal(ax.vals[2], "100ms");
	sweep_axis_free(&ax);
	/* the devices the other way round, and a link's name */
	assert_int_equal(sweep_parse(f->x, f->rz, "b-a.loss=0,1%", &ax, err, sizeof(err)), 0);
	assert_string_equal(ax.link, "a-b");
	sweep_axis_free(&ax);
	assert_int_equal(sweep_parse(f->x, f->rz, "uplink.capacity=1mbps,off", &ax, err,
				     sizeof(err)), 0);
	assert_string_equal(ax.link, "uplink");
	assert_int_equal(ax.nvals, 2);
	sweep_axis_free(&ax);
	/* b-c is the uplink, by its devices */
	parse_is(f, "b-c.latency=1ms", 0, NULL);
}

static void test_parse_errors(void **state)
{
	struct fixture *f = *state;

	parse_is(f, "a-b.latency", -EINVAL, "is not LINK.PARAM=V1,V2");
	parse_is(f, "latency=1ms", -EINVAL, "is not LINK.PARAM=V1,V2");
	parse_is(f, "a-b.=1ms", -EINVAL, "is not LINK.PARAM=V1,V2");
	parse_is(f, "a-b.latency=", -EINVAL, "is not LINK.PARAM=V1,V2");
	parse_is(f, "a-b.latency=1ms,,2ms", -EINVAL, "an empty value");
	parse_is(f, "a-b.latency=1ms,", -EINVAL, "an empty value");
	parse_is(f, "a-x.latency=1ms", -ENOENT, "no emulated link 'a-x'");
	parse_is(f, "nolink.latency=1ms", -ENOENT, "no emulated link 'nolink'");
	parse_is(f, "a-d.latency=1ms", -ENOENT, "no emulated link 'a-d'");
	parse_is(f, "c-d.latency=1ms", -EINVAL, "link 'c-d' is not emulated");
	parse_is(f, "a-b.speed=1ms", -EINVAL, "unknown property 'speed'");
	parse_is(f, "a-b.mtu=1500", -EINVAL, "mtu cannot change while the link is up");
	parse_is(f, "a-b.loss=0,2", -EINVAL, "loss=2: out of range");
	parse_is(f, "a-b.latency=1ms,ten", -EINVAL, "latency=ten");
	parse_is(f, "a-b.capacity=0mbps", -ERANGE, "capacity must be at least");
}

static void test_combinations(void **state)
{
	struct fixture *f = *state;
	struct sweep_axis ax[2];
	char err[UTIL_ERR_LEN];
	size_t idx[2];

	(void)state;
	assert_int_equal(sweep_count(NULL, 0), 1);
	assert_int_equal(sweep_parse(f->x, f->rz, "a-b.latency=1ms,5ms,10ms", &ax[0], err,
				     sizeof(err)), 0);
	assert_int_equal(sweep_parse(f->x, f->rz, "a-b.loss=0,0.5%", &ax[1], err, sizeof(err)), 0);
	assert_int_equal(sweep_count(ax, 2), 6);
	sweep_pick(ax, 2, 0, idx);
	assert_true(idx[0] == 0 && idx[1] == 0);
	sweep_pick(ax, 2, 1, idx);
	assert_true(idx[0] == 0 && idx[1] == 1);
	sweep_pick(ax, 2, 5, idx);
	assert_true(idx[0] == 2 && idx[1] == 1);
	sweep_axis_free(&ax[0]);
	sweep_axis_free(&ax[1]);
}

/* sweep_params_texts' callback: parse each text back into arg. */
static int parse_back(const char *name, const char *text, void *arg)
{
	char err[UTIL_ERR_LEN];
	int r = rz_params_parse(arg, name, text, err, sizeof(err));

	if (r)
		fail_msg("%s", err);
	return r;
}

/* What --repeat restores: every direction's model parameters, written as
 * vtb link set's texts, parse back to the same parameters. */
static void test_params_round_trip(void **state)
{
	struct fixture *f = *state;
	size_t i, j;

	for (i = 0; i < f->x->nlinks; i++) {
		for (j = 0; f->rz->links[i].emulated && j < f->x->links[i].nep; j++) {
			const struct emu_params *p = &f->rz->links[i].dir[j];
			struct emu_params back;
			struct rz_params b;

			/* from other values, so each one must be set */
			rz_params_init(&b, NULL);
			b.p.latency_ns = 77;
			b.p.rate_bps = 12345;
			b.p.queue_pkts = 3;
			assert_int_equal(sweep_params_texts(p, parse_back, &b), 0);
			assert_int_equal(rz_params_finish(&b, &back), 0);
			assert_int_equal(back.latency_ns, p->latency_ns);
			assert_int_equal(back.jitter_ns, p->jitter_ns);
			assert_int_equal(back.rate_bps, p->rate_bps);
			assert_int_equal(back.queue_pkts, p->queue_pkts);
			assert_int_equal(back.queue_bytes, p->queue_bytes);
			assert_true(fabs(emu_params_loss(&back) - emu_params_loss(p)) < 1e-12);
			assert_true(fabs(emu_params_burst(&back) - emu_params_burst(p)) < 1e-9);
		}
	}
	assert_int_equal(f->rz->links[2].dir[0].latency_ns, 1500000);
}

/* Compile a model with one task whose run() has measure text; 0 or the
 * first error in err. */
static int compile_measure(const char *measure, char *err, size_t errlen, struct xir **out)
{
	char src[512];
	struct diag_list d;
	int r;

	snprintf(src, sizeof(src), "a = topo.device('a')\n"
		 "task('t', run(a, 'ping -c 1 10.0.0.1', measure=%s))\n", measure);
	diag_init(&d, "t.vtb", src, strlen(src));
	r = compile_source("t.vtb", src, strlen(src), NULL, out, &d, NULL);
	snprintf(err, errlen, "%s", d.n ? d.v[0].msg : "");
	diag_free(&d);
	return r;
}

static void test_model_measure(void **state)
{
	struct xir *x = NULL, *back = NULL;
	char err[UTIL_ERR_LEN];
	char *json = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(compile_measure("['rtt', 'time=([0-9.]+) ms']", err, sizeof(err), &x), 0);
	assert_int_equal(x->tasks[0].cmd[0].nmeasure, 1);
	assert_string_equal(x->tasks[0].cmd[0].measure[0].name, "rtt");
	assert_string_equal(x->tasks[0].cmd[0].measure[0].re, "time=([0-9.]+) ms");
	/* through the XIR JSON the state database keeps */
	json = xjson_dumps(x);
	assert_non_null(json);
	len = strlen(json);
	xir_free(x);
	x = NULL;
	assert_int_equal(compile_measure("[['rtt', 'time=([0-9.]+)'], ['loss', '([0-9]+)% packet']]",
					 err, sizeof(err), &x), 0);
	assert_int_equal(x->tasks[0].cmd[0].nmeasure, 2);
	assert_string_equal(x->tasks[0].cmd[0].measure[1].name, "loss");
	xir_free(x);
	x = NULL;
	assert_int_not_equal(compile_measure("'rtt'", err, sizeof(err), &x), 0);
	assert_non_null(strstr(err, "measure= takes a [name, regex] pair"));
	assert_int_not_equal(compile_measure("['rtt', 'time=[0-9.]+']", err, sizeof(err), &x), 0);
	assert_non_null(strstr(err, "has no group"));
	assert_int_not_equal(compile_measure("['rtt', 'time=(']", err, sizeof(err), &x), 0);
	assert_non_null(strstr(err, "not a valid regular expression"));
	assert_int_not_equal(compile_measure("['1rtt', '(x)']", err, sizeof(err), &x), 0);
	assert_non_null(strstr(err, "not a valid measurement name"));
	assert_int_not_equal(compile_measure("[['a', '(x)'], ['a', '(y)']]", err, sizeof(err), &x), 0);
	assert_non_null(strstr(err, "measures 'a' twice"));
	{
		struct diag_list d;

		diag_init(&d, "t.json", json, len);
		assert_int_equal(compile_source("t.json", json, len, NULL, &back, &d, NULL), 0);
		diag_free(&d);
	}
	assert_int_equal(back->tasks[0].cmd[0].nmeasure, 1);
	assert_string_equal(back->tasks[0].cmd[0].measure[0].re, "time=([0-9.]+) ms");
	xir_free(back);
	free(json);
}

static void test_measure_mean(void **state)
{
	static const char ping[] =
		"PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n"
		"64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=10.4 ms\n"
		"64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=10.6 ms\n"
		"64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=11.0 ms\n"
		"3 packets transmitted, 3 received, 0% packet loss, time 2003ms\n";
	double mean;
	size_t n;

	(void)state;
	assert_int_equal(measure_mean("time=([0-9.]+) ms", ping, strlen(ping), &mean, &n), 0);
	assert_int_equal(n, 3);
	assert_true(fabs(mean - 10.6666666) < 1e-6);
	assert_int_equal(measure_mean("([0-9.]+)% packet loss", ping, strlen(ping), &mean, &n), 0);
	assert_int_equal(n, 1);
	assert_true(mean == 0);
	/* anchored at each line */
	assert_int_equal(measure_mean("^([0-9]+) bytes", ping, strlen(ping), &mean, &n), 0);
	assert_int_equal(n, 3);
	assert_true(mean == 64);
	assert_int_equal(measure_mean("rtt=([0-9.]+)", ping, strlen(ping), &mean, &n), 0);
	assert_int_equal(n, 0);
	/* a capture that is not a number is skipped */
	assert_int_equal(measure_mean("icmp_(seq)", ping, strlen(ping), &mean, &n), 0);
	assert_int_equal(n, 0);
	/* only finite numbers, and no overflow of their sum */
	assert_int_equal(measure_mean("v=([a-z0-9.e+]+)", "v=nan v=inf v=2 v=4", 19, &mean, &n), 0);
	assert_int_equal(n, 2);
	assert_true(mean == 3);
	assert_int_equal(measure_mean("v=([0-9e]+)", "v=1e308 v=1e308", 15, &mean, &n), 0);
	assert_int_equal(n, 2);
	assert_true(mean == 1e308);
	assert_int_equal(measure_mean("time=[0-9.]+", ping, strlen(ping), &mean, &n), -EINVAL);
	assert_int_equal(measure_mean("time=(", ping, strlen(ping), &mean, &n), -EINVAL);
	assert_int_equal(measure_mean("(x*)", "", 0, &mean, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_combinations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_round_trip, setup, teardown),
		cmocka_unit_test(test_model_measure),
		cmocka_unit_test(test_measure_mean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
