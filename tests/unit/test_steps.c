/* Task steps and files in the model: what the evaluator puts in the XIR,
 * the JSON round trip, the wait_until script, the files' placeholders. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "files.h"
#include "steps.h"
#include "xir_fmt.h"
#include "xir_json.h"

static const char *const model =
	"a = topo.device('a', private == ['/etc/bird'])\n"
	"b = topo.device('b')\n"
	"l = topo.connect([a, b], latency == ms(5))\n"
	"m = topo.connect([a, b], name='m')\n"
	"file(a, '/etc/bird/bird.conf', 'id {{ip.eth0}} {{cidr.eth1}} {{node}} {{x}\\n')\n"
	"task('t', run(a, 'ping b'), link_set(l, loss == 0.5, latency == ms(20), at=s(2)),\n"
	"     link_down('m', at=ms(500)), link_up(l), node_stop(b, at=s(1)), node_start('b', at=s(3)))\n"
	"task('w', wait_until(b, 'ip route | grep -q x', timeout=s(3), every=ms(100)))\n";

/* Compile src: 0 and the XIR, or the error; diags in *diags. */
static int compile_str(const char *src, struct xir **x, char **diags)
{
	struct compile_stats stats = { 0 };
	struct diag_list d;
	int r;

	diag_init(&d, "t.vtb", src, strlen(src));
	r = compile_source("t.vtb", src, strlen(src), NULL, x, &d, &stats);
	*diags = diag_format(&d);
	diag_free(&d);
	return r;
}

static void test_steps_in_xir(void **state)
{
	struct xir *x = NULL;
	char *diags = NULL, buf[256];
	const struct xir_command *c;

	(void)state;
	if (compile_str(model, &x, &diags))
		fail_msg("%s", diags);
	assert_int_equal(x->ntasks, 2);
	assert_int_equal(x->tasks[0].ncmd, 6);
	c = x->tasks[0].cmd;
	assert_int_equal(c[0].step, XSTEP_RUN);
	assert_int_equal(c[1].step, XSTEP_LINK_SET);
	assert_string_equal(c[1].link, "a-b");
	assert_int_equal(c[1].at_ns, 2000000000LL);
	assert_int_equal(c[1].set.n, 2);
	assert_string_equal(c[1].set.v[1].prop->name, "latency");
	assert_int_equal(c[2].step, XSTEP_LINK_DOWN);
	assert_string_equal(c[2].link, "m");
	assert_int_equal(c[3].at_ns, 0);
	assert_int_equal(c[4].step, XSTEP_NODE_STOP);
	assert_int_equal(c[5].node, 1);
	assert_string_equal(xir_fmt_step(x, &c[1], buf, sizeof(buf)),
			    "link_set(a-b, loss == 0.5, latency == ms(20), at=s(2))");
	assert_string_equal(xir_fmt_step(x, &c[4], buf, sizeof(buf)), "node_stop(b, at=s(1))");
	c = x->tasks[1].cmd;
	assert_int_equal(c[0].step, XSTEP_WAIT_UNTIL);
	assert_int_equal(c[0].timeout_ns, 3000000000LL);
	assert_int_equal(c[0].every_ns, 100000000LL);
	assert_int_equal(x->nfiles, 1);
	assert_string_equal(x->files[0].path, "/etc/bird/bird.conf");
	xir_free(x);
	free(diags);
}

/* The model, written as JSON and read back, writes the same JSON. */
static void test_steps_json(void **state)
{
	struct xir *x = NULL, *y = NULL;
	char *diags = NULL, *j1 = NULL, *j2 = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f;
	struct diag_list d;

	(void)state;
	if (compile_str(model, &x, &diags))
		fail_msg("%s", diags);
	f = open_memstream(&j1, &n1);
	assert_int_equal(xjson_write(x, f), 0);
	fclose(f);
	assert_non_null(strstr(j1, "\"step\": \"node_start\""));
	diag_init(&d, "t.json", j1, n1);
	assert_int_equal(xjson_read(j1, n1, &y, &d), 0);
	diag_free(&d);
	f = open_memstream(&j2, &n2);
	assert_int_equal(xjson_write(y, f), 0);
	fclose(f);
	assert_string_equal(j1, j2);
	xir_free(x);
	xir_free(y);
	free(j1);
	free(j2);
	free(diags);
}

/* Refused when the model compiles: each names what is wrong. */
static void test_steps_refused(void **state)
{
	static const struct { const char *src, *want; } cases[] = {
		{ "task('t', link_down('nope'))", "the model has no link 'nope'" },
		{ "task('t', link_set(l, mtu == 1400))", "link_set cannot change 'mtu'" },
		{ "task('t', link_set(l, loss > 0.5))", "loss > 0.5 is not a value to set" },
		{ "task('t', node_stop('zz'))", "the model has no device 'zz'" },
		{ "task('t', link_up(l, at=s(9)), timeout=s(5))", "is not before the task's timeout" },
		{ "task('t', wait_until(a, 'x', every=5))", "every= takes a time" },
		{ "file(a, '/etc/x', '')", "not in a directory of the device's own" },
		{ "file(a, '/tmp/x', '{{ip.eth3}}')", "the device has 1 interface" },
		{ "file(a, '/tmp/x', '{{bogus}}')", "unknown placeholder '{{bogus}}'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char src[512], *diags = NULL;
		struct xir *x = NULL;

		snprintf(src, sizeof(src), "a = topo.device('a')\nb = topo.device('b')\n"
			 "l = topo.connect([a, b], latency == ms(1))\n%s\n", cases[i].src);
		assert_int_equal(compile_str(src, &x, &diags), -EINVAL);
		if (!strstr(diags, cases[i].want))
			fail_msg("missing \"%s\" in:\n%s", cases[i].want, diags);
		free(diags);
	}
}

/* The wait_until script quotes the command and says its times. */
static void test_wait_script(void **state)
{
	struct xir_command c = { .step = XSTEP_WAIT_UNTIL, .cmd = (char *)"echo 'it'",
				 .timeout_ns = 1500000000LL, .every_ns = 200000000LL };
	char *s = steps_wait_script(&c);

	(void)state;
	assert_non_null(s);
	assert_non_null(strstr(s, "vtb_c='echo '\\''it'\\'''"));
	assert_non_null(strstr(s, "+ 1500 ))"));
	assert_non_null(strstr(s, "sleep 0.200"));
	assert_non_null(strstr(s, "within 1.500 s"));
	free(s);
}

/* Placeholders are found only in their exact form. */
static void test_placeholders(void **state)
{
	const char *t = "a {{node}} {{ node }} {x} {{ip.eth12}}{{cidr.eth0}} {{";
	size_t pos = 0, at, len, nlen, n = 0;
	const char *name;
	enum xir_ph k;
	unsigned i;

	(void)state;
	while (xir_file_next(t, &pos, &at, &len, &name, &nlen))
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(xir_placeholder_parse("ip.eth12", 8, &k, &i), 0);
	assert_int_equal(k, XPH_IP);
	assert_int_equal(i, 12);
	assert_int_equal(xir_placeholder_parse("ip.eth01", 8, &k, &i), -EINVAL);
	assert_int_equal(xir_placeholder_parse("ip.eth", 6, &k, &i), -EINVAL);
	assert_int_equal(xir_placeholder_parse("node", 4, &k, &i), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps_in_xir),
		cmocka_unit_test(test_steps_json),
		cmocka_unit_test(test_steps_refused),
		cmocka_unit_test(test_wait_script),
		cmocka_unit_test(test_placeholders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
