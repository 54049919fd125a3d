/* test_eval: whole models through compile_source(), as `vtb compile` runs
 * them: the XIR they build (counts, constraint values in base units) and
 * the diagnostics a user reads, including hostile models that must end
 * with an error instead of a hang or a crash. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "xir_json.h"

/* ---- compiling ---- */

struct result {
	int r;
	struct xir *x;  /* NULL unless r == 0 */
	char *diags;    /* diag_format() */
	size_t nerrors, nwarnings;
	unsigned long long steps;
};

static struct result compile_as(const char *file, const char *src, size_t len,
				const struct eval_limits *lim)
{
	struct compile_stats stats = { 0 };
	struct result res = { 0 };
	struct diag_list d;
	size_t i;

	diag_init(&d, file, src, len);
	res.r = compile_source(file, src, len, lim, &res.x, &d, &stats);
	assert_false(d.oom);
	res.diags = diag_format(&d);
	assert_non_null(res.diags);
	res.nerrors = d.nerrors;
	for (i = 0; i < d.n; i++)
		res.nwarnings += d.v[i].level == DIAG_WARNING;
	res.steps = stats.steps;
	if (res.r)
		assert_null(res.x);
	diag_free(&d);
	return res;
}

static struct result compile(const char *src)
{
	return compile_as("t.vtb", src, strlen(src), NULL);
}

static void result_free(struct result *res)
{
	xir_free(res->x);
	free(res->diags);
	memset(res, 0, sizeof(*res));
}

/* Compile src and expect success without diagnostics. */
static struct result ok(const char *src)
{
	struct result res = compile(src);

	if (res.r || res.nerrors || res.nwarnings)
		fail_msg("expected a clean compile (r=%d) of:\n%s\n---\n%s", res.r, src, res.diags);
	assert_non_null(res.x);
	return res;
}

/* Compile src and expect exactly n errors. */
static struct result bad(const char *src, size_t n)
{
	struct result res = compile(src);

	if (res.r != -EINVAL || res.nerrors != n)
		fail_msg("expected %zu errors (r=%d, got %zu) for:\n%s\n---\n%s", n, res.r, res.nerrors,
			 src, res.diags);
	return res;
}

static void has(const struct result *res, const char *want)
{
	if (!strstr(res->diags, want))
		fail_msg("missing \"%s\" in:\n%s", want, res->diags);
}

static void lacks(const struct result *res, const char *unwanted)
{
	if (strstr(res->diags, unwanted))
		fail_msg("unexpected \"%s\" in:\n%s", unwanted, res->diags);
}

/* Compile src, expect one error containing want. */
static void one_error(const char *src, const char *want)
{
	struct result res = bad(src, 1);

	has(&res, want);
	result_free(&res);
}

/* ---- looking into the XIR ---- */

static const struct xir_node *node(const struct xir *x, const char *name)
{
	uint32_t i;

	if (!xir_find_node(x, name, &i))
		fail_msg("no node '%s'", name);
	return &x->nodes[i];
}

static const struct xir_constraint *cons(const struct xir_cset *cs, const char *prop)
{
	const struct xir_constraint *c = xir_cset_find(cs, xir_prop_find(prop));

	if (!c)
		fail_msg("no constraint on '%s'", prop);
	return c;
}

/* cs holds "prop op i" with i an integer in unit u */
static void int_cons(const struct xir_cset *cs, const char *prop, enum xir_op op, int64_t i,
		     enum xir_unit u)
{
	const struct xir_constraint *c = cons(cs, prop);

	assert_int_equal(c->op, op);
	assert_int_equal(c->value.type, XV_INT);
	assert_int_equal(c->value.unit, u);
	if (c->value.i != i)
		fail_msg("%s is %lld, expected %lld", prop, (long long)c->value.i, (long long)i);
}

static void str_cons(const struct xir_cset *cs, const char *prop, enum xir_op op,
		     enum xir_vtype type, const char *s)
{
	const struct xir_constraint *c = cons(cs, prop);

	assert_int_equal(c->op, op);
	assert_int_equal(c->value.type, type);
	assert_string_equal(c->value.s, s);
}

static const struct xir_endpoint *endpoint(const struct xir *x, uint32_t link, const char *name)
{
	const struct xir_link *l = &x->links[link];
	uint32_t n;
	size_t i;

	if (!xir_find_node(x, name, &n))
		fail_msg("no node '%s'", name);
	for (i = 0; i < l->nep; i++)
		if (l->ep[i].node == n)
			return &l->ep[i];
	fail_msg("'%s' is not on link %u", name, link);
	return NULL;
}

/* What str(expr) is after the statements in setup: the model runs it as
 * a command, which the XIR keeps verbatim. Caller frees. */
static char *value_after(const char *setup, const char *expr)
{
	struct result res;
	struct util_buf b;
	char *out;

	util_buf_init(&b);
	util_buf_printf(&b, "topo.spec(islands == true)\n%s\nvalue_node = topo.device('value-node')\n"
			    "task('value', run(value_node, '=' + str(%s)))\n", setup, expr);
	assert_false(b.oom);
	res = compile(b.s);
	if (res.r || res.nerrors)
		fail_msg("cannot compute %s:\n%s", expr, res.diags);
	assert_int_equal(res.x->ntasks, 1);
	assert_int_equal(res.x->tasks[0].ncmd, 1);
	assert_int_equal(res.x->tasks[0].cmd[0].cmd[0], '=');
	out = strdup(res.x->tasks[0].cmd[0].cmd + 1);
	assert_non_null(out);
	result_free(&res);
	util_buf_free(&b);
	return out;
}

/* Expect str(expr) == want, after setup. */
static void value_is(const char *setup, const char *expr, const char *want)
{
	char *got = value_after(setup, expr);

	if (strcmp(got, want))
		fail_msg("%s gave '%s', expected '%s'", expr, got, want);
	free(got);
}

static void expr_is(const char *expr, const char *want)
{
	value_is("", expr, want);
}

/* Expect evaluating expr to fail with one error containing want. */
static void expr_fails(const char *expr, const char *want)
{
	struct util_buf b;

	util_buf_init(&b);
	util_buf_printf(&b, "v = %s\n", expr);
	assert_false(b.oom);
	one_error(b.s, want);
	util_buf_free(&b);
}

/* ---- the seed model ---- */

static void test_seed(void **state)
{
	struct result res;
	const struct xir *x;
	const struct xir_node *nx, *ny;

	(void)state;
	res = ok("x = topo.device('nodeX', cores == 4, memory == gb(8))\n"
		 "y = topo.device('nodeY', virt == true)\n"
		 "link = topo.connect([x,y])\n"
		 "link[x].spec(nic == virtio)\n"
		 "link[y].spec(nic >= connect4)\n");
	x = res.x;
	assert_string_equal(x->name, "t");
	assert_int_equal(x->nnodes, 2);
	assert_int_equal(x->nlinks, 1);
	assert_int_equal(x->ntasks, 0);

	nx = node(x, "nodeX");
	assert_int_equal(nx->cons.n, 2);
	int_cons(&nx->cons, "cores", XIR_EQ, 4, XU_NONE);
	int_cons(&nx->cons, "memory", XIR_EQ, 8589934592LL, XU_BYTES);
	assert_int_equal(nx->loc.line, 1);

	ny = node(x, "nodeY");
	assert_int_equal(ny->cons.n, 1);
	assert_int_equal(cons(&ny->cons, "virt")->value.type, XV_BOOL);
	assert_true(cons(&ny->cons, "virt")->value.b);

	assert_string_equal(x->links[0].name, "nodeX-nodeY");
	assert_int_equal(x->links[0].nep, 2);
	assert_int_equal(x->links[0].cons.n, 0);
	assert_int_equal(x->links[0].loc.line, 3);
	str_cons(&endpoint(x, 0, "nodeX")->cons, "nic", XIR_EQ, XV_ENUM, "virtio");
	str_cons(&endpoint(x, 0, "nodeY")->cons, "nic", XIR_GE, XV_ENUM, "connect4");
	result_free(&res);

	/* "virt == true" alone on a line is attached to nothing: a warning */
	res = compile("virt == true\nx = topo.device('x')\n");
	assert_int_equal(res.r, 0);
	assert_int_equal(res.nwarnings, 1);
	has(&res, "t.vtb:1:1: warning: this constraint is not attached to anything\n"
		  "    virt == true\n"
		  "    ^~~~~~~~~~~~\n"
		  "  hint: pass it to topo.device(), topo.connect() or .spec()\n");
	result_free(&res);
}

/* ---- values in base units ---- */

static void test_units(void **state)
{
	struct result res;
	const struct xir_node *n;
	const struct xir_cset *l;

	(void)state;
	res = ok("a = topo.device('a', memory == gb(8), disk == tb(1), cpufreq == ghz(2.2))\n"
		 "b = topo.device('b', memory == mb(256), disk >= kb(1), cpufreq == mhz(800))\n"
		 "c = topo.device('c', memory == gb(1.5), disk == mb(0.5), cpufreq >= khz(1))\n"
		 "topo.connect([a, b], capacity == gbps(1), latency == ms(10), jitter == us(5))\n"
		 "topo.connect([b, c], capacity == mbps(100), latency == s(2), jitter == ns(7))\n"
		 "topo.connect([c, a], capacity == kbps(64), loss == 0.01, queue == 100)\n"
		 "topo.connect([a, b, c], queue == kb(64), latency == ms(10) / 4)\n");
	n = node(res.x, "a");
	int_cons(&n->cons, "memory", XIR_EQ, 8589934592LL, XU_BYTES);
	int_cons(&n->cons, "disk", XIR_EQ, 1099511627776LL, XU_BYTES);
	int_cons(&n->cons, "cpufreq", XIR_EQ, 2200000000LL, XU_HZ);
	n = node(res.x, "b");
	int_cons(&n->cons, "memory", XIR_EQ, 268435456LL, XU_BYTES);
	int_cons(&n->cons, "disk", XIR_GE, 1024, XU_BYTES);
	int_cons(&n->cons, "cpufreq", XIR_EQ, 800000000LL, XU_HZ);
	n = node(res.x, "c");
	int_cons(&n->cons, "memory", XIR_EQ, 1610612736LL, XU_BYTES);
	int_cons(&n->cons, "disk", XIR_EQ, 524288, XU_BYTES);
	int_cons(&n->cons, "cpufreq", XIR_GE, 1000, XU_HZ);

	assert_int_equal(res.x->nlinks, 4);
	l = &res.x->links[0].cons;
	int_cons(l, "capacity", XIR_EQ, 1000000000LL, XU_BPS);
	int_cons(l, "latency", XIR_EQ, 10000000LL, XU_NS);
	int_cons(l, "jitter", XIR_EQ, 5000, XU_NS);
	l = &res.x->links[1].cons;
	int_cons(l, "capacity", XIR_EQ, 100000000LL, XU_BPS);
	int_cons(l, "latency", XIR_EQ, 2000000000LL, XU_NS);
	int_cons(l, "jitter", XIR_EQ, 7, XU_NS);
	l = &res.x->links[2].cons;
	int_cons(l, "capacity", XIR_EQ, 64000, XU_BPS);
	assert_int_equal(cons(l, "loss")->value.type, XV_FLOAT);
	assert_true(cons(l, "loss")->value.f == 0.01);
	int_cons(l, "queue", XIR_EQ, 100, XU_NONE);
	l = &res.x->links[3].cons;
	int_cons(l, "queue", XIR_EQ, 65536, XU_BYTES);
	/* a float quantity becomes an integer in base units */
	int_cons(l, "latency", XIR_EQ, 2500000, XU_NS);
	result_free(&res);

	expr_is("gb(8)", "8589934592");
	expr_is("gbps(1)", "1000000000");
	expr_is("ms(10)", "10000000");
	expr_is("ghz(2.2)", "2200000000");
	expr_is("gb(1.5)", "1610612736");
	expr_fails("ms(ms(1))", "t.vtb:1:8: error: ms() takes a plain number, not a time");
	expr_fails("ms()", "t.vtb:1:5: error: ms() takes 1 argument, not 0");
	expr_fails("gb(1e30)", "t.vtb:1:5: error: gb(...) is too large");
	expr_fails("gb('8')", "gb() takes a plain number, not a string");
}

/* ---- loops, conditions, lists ---- */

static void test_ring(void **state)
{
	struct result res;
	const struct xir *x;
	uint32_t i, n0, n4;

	(void)state;
	res = ok("n = []\n"
		 "for i in range(5):\n"
		 "    n.append(topo.device('n' + str(i), cores == 1))\n"
		 "for i in range(len(n)):\n"
		 "    topo.connect([n[i], n[(i + 1) % len(n)]], latency == ms(1))\n");
	x = res.x;
	assert_int_equal(x->nnodes, 5);
	assert_int_equal(x->nlinks, 5);
	for (i = 0; i < 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "n%u", i);
		assert_string_equal(x->nodes[i].name, name);
		assert_int_equal(x->links[i].nep, 2);
		int_cons(&x->links[i].cons, "latency", XIR_EQ, 1000000, XU_NS);
	}
	/* the last link closes the ring */
	assert_true(xir_find_node(x, "n0", &n0));
	assert_true(xir_find_node(x, "n4", &n4));
	assert_int_equal(x->links[4].ep[0].node, n4);
	assert_int_equal(x->links[4].ep[1].node, n0);
	assert_string_equal(x->links[4].name, "n4-n0");
	result_free(&res);
}

static void test_conditions(void **state)
{
	struct result res;
	const struct xir *x;

	(void)state;
	res = ok("topo.spec(islands == true)\n"
		 "for i in range(6):\n"
		 "    odd = i % 2 == 1\n"
		 "    if i % 2 == 1:\n"
		 "        topo.device('odd' + str(i), cores == 2)\n"
		 "    elif i == 4:\n"
		 "        topo.device('four', cores == 4)\n"
		 "    else:\n"
		 "        topo.device('even' + str(i) + str(odd))\n");
	x = res.x;
	assert_int_equal(x->nnodes, 6);
	int_cons(&node(x, "odd1")->cons, "cores", XIR_EQ, 2, XU_NONE);
	int_cons(&node(x, "odd5")->cons, "cores", XIR_EQ, 2, XU_NONE);
	int_cons(&node(x, "four")->cons, "cores", XIR_EQ, 4, XU_NONE);
	node(x, "even0false");
	node(x, "even2false");
	result_free(&res);

	value_is("b = 3 % 2 == 1", "b", "true");
	value_is("b = 1 > 2", "b", "false");
	/* break, continue, and one-line blocks */
	value_is("l = []\n"
		 "for i in range(10):\n"
		 "    if i == 2: continue\n"
		 "    if i == 5: break\n"
		 "    l.append(i)\n",
		 "l", "[0, 1, 3, 4]");
	/* a constraint is not a condition */
	one_error("if cores == 4:\n    pass\n",
		  "t.vtb:1:4: error: a constraint is not a condition");
	one_error("break\n", "t.vtb:1:1: error: 'break' outside a loop");
	one_error("if true:\n    continue\n", "t.vtb:2:5: error: 'continue' outside a loop");
}

static void test_lists(void **state)
{
	(void)state;
	expr_is("[1, 2] + [3]", "[1, 2, 3]");
	expr_is("[]", "[]");
	expr_is("[1, 'a', 2.5, true, None, [2]]", "[1, 'a', 2.5, true, None, [2]]");
	expr_is("len([1, 2, 3])", "3");
	expr_is("len([])", "0");
	expr_is("[1, 2, 3][0]", "1");
	expr_is("[1, 2, 3][-1]", "3");
	expr_is("[1, 2, 3][-3]", "1");
	expr_is("'abc'[-1]", "c");
	expr_is("len('abc')", "3");
	expr_is("len(range(0, 10, 3))", "4");
	expr_is("range(10, 0, -3)[-1]", "1");
	value_is("l = []\nl.append(1)\nl.append('x')\nl.append([2])", "l", "[1, 'x', [2]]");
	value_is("l = [1, 2, 3]\nl[0] = 5\nl[-1] += 10\nl[1] *= 2", "l", "[5, 4, 13]");
	/* lists are shared, as in Python */
	value_is("a = []\nb = a\nb.append(1)", "len(a)", "1");
	/* + makes a new list */
	value_is("a = [1]\nb = a + [2]\nb.append(3)", "a", "[1]");
	/* the loop walks the list as it is at each step */
	value_is("l = [1, 2]\nn = 0\nfor v in l:\n    n += v\n    if len(l) < 4:\n        l.append(v * 10)",
		 "n", "33");
	value_is("s = ''\nfor c in 'abc':\n    s = c + s", "s", "cba");

	expr_fails("[1, 2, 3][3]", "t.vtb:1:15: error: index 3 out of range (length 3)");
	expr_fails("[1, 2, 3][-4]", "t.vtb:1:15: error: index -4 out of range (length 3)");
	expr_fails("[1, 2][1.0]", "t.vtb:1:12: error: an index must be an int, not a float");
	expr_fails("[1] * 3", "unsupported operation: a list * an int");
	expr_fails("len(5)", "t.vtb:1:9: error: an int has no length");
	expr_fails("5[0]", "t.vtb:1:5: error: an int cannot be indexed");
	one_error("l = [1]\nl.push(2)\n", "t.vtb:2:3: error: a list has no method 'push'");
	one_error("l = [1]\nl[5] = 2\n", "t.vtb:2:3: error: index 5 out of range (length 1)");
	one_error("l = [1]\nl.append(1, 2)\n", "append() takes 1 argument, not 2");
}

static void test_str(void **state)
{
	(void)state;
	expr_is("str(1)", "1");
	expr_is("str(-7)", "-7");
	expr_is("str(2.5)", "2.5");
	expr_is("str(0.5)", "0.5");
	expr_is("str(100.0)", "100.0");
	expr_is("str(1500000.0)", "1500000.0");
	expr_is("str(1e20)", "1e+20");
	expr_is("str(0.00001)", "1e-05");
	expr_is("str(0.1 + 0.2)", "0.30000000000000004");
	expr_is("str(1 / 3)", "0.3333333333333333");
	expr_is("str(true)", "true");
	expr_is("str(false)", "false");
	expr_is("str(None)", "None");
	expr_is("str('x')", "x");
	expr_is("str(gb(1))", "1073741824");
	expr_is("str([1, 'a'])", "[1, 'a']");
	expr_is("str(range(3))", "range(0, 3, 1)");
	expr_is("'n' + str(4)", "n4");
	value_is("d = topo.device('dev1')", "d", "dev1");
	expr_is("str(cores == 4)", "cores == 4");
	expr_fails("str()", "t.vtb:1:5: error: str() takes 1 argument, not 0");
	expr_fails("'n' + 1", "t.vtb:1:5: error: unsupported operation: a string + an int");
	one_error("v = 'n' + 1\n", "  hint: use str() to turn a value into a string: 'n' + str(i)\n");
}

/* ---- arithmetic ---- */

static void test_int_arithmetic(void **state)
{
	(void)state;
	expr_is("2 + 3 * 4", "14");
	expr_is("(2 + 3) * 4", "20");
	expr_is("10 - 2 - 3", "5");
	expr_is("7 // 2", "3");
	expr_is("-7 // 2", "-4");
	expr_is("7 // -2", "-4");
	expr_is("-7 // -2", "3");
	expr_is("-8 // 2", "-4");
	expr_is("7 % 3", "1");
	expr_is("-7 % 3", "2");
	expr_is("7 % -3", "-2");
	expr_is("-7 % -3", "-1");
	expr_is("-6 % 3", "0");
	expr_is("7 / 2", "3.5");
	expr_is("6 / 3", "2.0");
	expr_is("-(3)", "-3");
	expr_is("1_000 + 0x10", "1016");
	expr_is("9223372036854775807", "9223372036854775807");
	expr_is("-9223372036854775807 - 1", "-9223372036854775808");
	expr_is("int(3.9)", "3");
	expr_is("int(-3.9)", "-3");
	expr_is("int('42')", "42");
	expr_is("int(true)", "1");
	expr_is("float(3)", "3.0");
	expr_is("float('1.5')", "1.5");
	value_is("i = 1\ni += 2\ni *= 5\ni -= 1", "i", "14");
	expr_fails("9223372036854775807 + 1", "t.vtb:1:5: error: integer overflow in +");
	expr_fails("-9223372036854775807 - 2", "integer overflow in -");
	expr_fails("4611686018427387904 * 2", "integer overflow in *");
	expr_fails("-(-9223372036854775807 - 1)", "integer overflow in -");
	expr_fails("1 / 0", "t.vtb:1:5: error: division by zero");
	expr_fails("1 // 0", "division by zero");
	expr_fails("1 % 0", "division by zero");
	expr_fails("int('x')", "t.vtb:1:9: error: int(): 'x' is not a number");
	expr_fails("true + 1", "unsupported operation: a boolean + an int");
	expr_fails("-'a'", "cannot negate a string");
}

static void test_float_arithmetic(void **state)
{
	(void)state;
	expr_is("1 + 0.5", "1.5");
	expr_is("1.5 * 2", "3.0");
	expr_is("-7.5 // 2", "-4.0");
	expr_is("7.5 // -2", "-4.0");
	expr_is("-7.5 % 2", "0.5");
	expr_is("7.5 % -2", "-0.5");
	expr_is("0.5 + 0.25", "0.75");
	expr_is("1e3 / 4", "250.0");
	expr_fails("1e300 * 1e300", "t.vtb:1:5: error: number out of range in *");
	expr_fails("1.5 / 0", "division by zero");
	expr_fails("1.5 % 0.0", "division by zero");
}

static void test_unit_arithmetic(void **state)
{
	(void)state;
	expr_is("ms(1) + ms(2)", "3000000");
	expr_is("ms(10) * 2", "20000000");
	expr_is("2 * ms(10)", "20000000");
	expr_is("ms(10) - ms(4)", "6000000");
	expr_is("ms(3) // 2", "1500000");
	expr_is("ms(10) / 4", "2500000.0");
	expr_is("gb(1) / mb(1)", "1024.0");
	expr_is("ms(1) + 0", "1000000");
	expr_is("gb(1) == mb(1024)", "true");
	expr_is("ms(1) < ms(2)", "true");
	expr_is("s(1) > ms(999)", "true");
	expr_fails("ms(1) + gb(1)",
		   "t.vtb:1:5: error: cannot add a time in ns and a size in bytes");
	expr_fails("ms(1) * ms(2)", "cannot multiply a time in ns and a time in ns");
	expr_fails("ms(1) + 1", "cannot add a time in ns and an int in no unit");
	expr_fails("ms(1) < 5", "cannot compare a time in ns with an int in no unit");
	/* the check runs on what the constraint got */
	one_error("a = topo.device('a', memory == ms(1))\n", "memory");
}

static void test_comparisons(void **state)
{
	(void)state;
	expr_is("1 == 1", "true");
	expr_is("1 != 1", "false");
	expr_is("1 < 2.5", "true");
	expr_is("2 >= 2", "true");
	expr_is("'a' < 'b'", "true");
	expr_is("'abc' == 'abc'", "true");
	expr_is("'ab' < 'abc'", "true");
	expr_is("'a' == 1", "false");
	expr_is("'a' != 1", "true");
	expr_is("[1, 2] == [1, 2]", "true");
	expr_is("[1, 2] == [1, 3]", "false");
	expr_is("None == None", "true");
	expr_is("true == true", "true");
	expr_is("not 0", "true");
	expr_is("not [1]", "false");
	expr_is("1 and 2", "2");
	expr_is("0 or 'x'", "x");
	expr_is("0 and undefined_never_evaluated", "0");
	value_is("a = topo.device('a')\nb = topo.device('b')", "[a == a, a == b, a != b]",
		 "[true, false, true]");
	expr_fails("'a' < 1", "t.vtb:1:5: error: cannot order a string and an int");
	expr_fails("[1] < [2]", "cannot order a list and a list");
	one_error("v = not (cores == 4)\n", "'not' cannot negate a constraint");
	one_error("topo.device('a', cores == 4 and memory == gb(1))\n",
		  "constraints cannot be joined with 'and'");
}

/* ---- errors a user makes ---- */

static void test_did_you_mean(void **state)
{
	struct result res;

	(void)state;
	res = bad("x = topo.device('x')\n"
		  "y = topo.device('y')\n"
		  "link = topo.connect([x, y])\n"
		  "link[x].spec(nic == virtoi)\n",
		  1);
	assert_string_equal(res.diags,
			    "t.vtb:4:21: error: unknown NIC model 'virtoi'\n"
			    "    link[x].spec(nic == virtoi)\n"
			    "                        ^~~~~~\n"
			    "  hint: did you mean 'virtio'?\n"
			    "1 error\n");
	result_free(&res);

	res = bad("x = topo.device('x', core == 4)\n", 1);
	assert_string_equal(res.diags,
			    "t.vtb:1:22: error: unknown property 'core'\n"
			    "    x = topo.device('x', core == 4)\n"
			    "                         ^~~~\n"
			    "  hint: did you mean 'cores'?\n"
			    "1 error\n");
	result_free(&res);

	one_error("x = topo.device('x', arch == aarch46)\n", "hint: did you mean 'aarch64'?");
	one_error("x = topo.device('x', arch == virtio)\n",
		  "t.vtb:1:30: error: 'virtio' is a value of 'nic', not of 'arch'");
	one_error("x = topo.device('x', memroy == gb(1))\n", "hint: did you mean 'memory'?");
	res = bad("x = topo.device('x', zzzz == 4)\n", 1);
	has(&res, "t.vtb:1:22: error: unknown property 'zzzz'");
	lacks(&res, "did you mean");
	result_free(&res);
	one_error("nodes = []\nnode.append(1)\n",
		  "t.vtb:2:1: error: undefined name 'node'\n"
		  "    node.append(1)\n"
		  "    ^~~~\n"
		  "  hint: did you mean 'nodes'?\n");
	one_error("for i in rnage(3): pass\n", "hint: did you mean 'range'?");
}

static void test_names_and_calls(void **state)
{
	(void)state;
	one_error("foo(1)\n", "t.vtb:1:1: error: undefined name 'foo'");
	one_error("x = y + 1\n", "t.vtb:1:5: error: undefined name 'y'");
	one_error("q = 3\nq(2)\n", "t.vtb:2:1: error: an int is not a function");
	one_error("len = 3\nlen([1])\n", "hint: a variable named 'len' hides the function len()");
	one_error("'abc'(1)\n", "t.vtb:1:1: error: a string is not a function");
	one_error("topo.devices('x')\n", "t.vtb:1:6: error: topo has no method 'devices'");
	one_error("d = topo.device\n", "t.vtb:1:10: error: 'device' must be called");
	one_error("range(3).foo()\n", "t.vtb:1:10: error: a range has no method 'foo'");
	one_error("x = topo.device('x')\ntask('t', run(x, 'ls', x=1))\n",
		  "t.vtb:2:24: error: run() has no argument 'x'");
	one_error("x = topo.device('x')\ntask('t', run(x, 'a'), timeout=s(1), timeout=s(2))\n",
		  "t.vtb:2:38: error: keyword argument 'timeout' given twice");
	one_error("topo.device('bad name!')\n",
		  "t.vtb:1:13: error: 'bad name!' is not a valid device name");
	one_error("topo.device(cores == 4)\n", "topo.device() needs a name string first");
	one_error("topo.device('a', 4)\n",
		  "t.vtb:1:18: error: topo.device() expects constraints here, not an int");
	one_error("topo.connect('a')\n", "topo.connect() needs a list of devices first");
	one_error("topo.connect([1, 2])\n", "t.vtb:1:15: error: topo.connect(): item 0 is an int, not a device");
}

static void test_endpoints(void **state)
{
	struct result res;

	(void)state;
	res = bad("x = topo.device('x')\n"
		  "y = topo.device('y')\n"
		  "z = topo.device('z')\n"
		  "l = topo.connect([x, y])\n"
		  "topo.connect([y, z])\n"
		  "l[z].spec(nic == virtio)\n",
		  1);
	has(&res, "t.vtb:6:3: error: device 'z' is not on link [x, y]\n"
		  "    l[z].spec(nic == virtio)\n"
		  "      ^\n");
	result_free(&res);

	/* by index, and LANs */
	res = ok("a = topo.device('a')\n"
		 "b = topo.device('b')\n"
		 "c = topo.device('c')\n"
		 "lan = topo.connect([a, b, c], name='lan0')\n"
		 "lan[0].spec(nic == e1000, ip == '10.9.0.1/24')\n"
		 "lan[-1].spec(mtu == 9000)\n"
		 "lan.spec(capacity == mbps(10))\n"
		 "topo.connect([a, b])\n");
	assert_int_equal(res.x->nlinks, 2);
	assert_string_equal(res.x->links[0].name, "lan0");
	assert_int_equal(res.x->links[0].nep, 3);
	str_cons(&endpoint(res.x, 0, "a")->cons, "nic", XIR_EQ, XV_ENUM, "e1000");
	str_cons(&endpoint(res.x, 0, "a")->cons, "ip", XIR_EQ, XV_STR, "10.9.0.1/24");
	int_cons(&endpoint(res.x, 0, "c")->cons, "mtu", XIR_EQ, 9000, XU_NONE);
	int_cons(&res.x->links[0].cons, "capacity", XIR_EQ, 10000000, XU_BPS);
	assert_string_equal(res.x->links[1].name, "a-b");
	result_free(&res);

	one_error("a = topo.device('a')\nb = topo.device('b')\nl = topo.connect([a, b])\nl[2].spec(mtu == 1500)\n",
		  "t.vtb:4:3: error: index 2 out of range (length 2)");
	one_error("a = topo.device('a')\nb = topo.device('b')\nl = topo.connect([a, b])\nl['a'].spec(mtu == 1500)\n",
		  "t.vtb:4:3: error: a link is indexed by a device, not a string");
	expr_is("len(topo.connect([topo.device('p'), topo.device('q'), topo.device('r')]))", "3");
}

static void test_tasks(void **state)
{
	struct result res;
	const struct xir_task *t;
	uint32_t a, b;

	(void)state;
	res = ok("a = topo.device('a')\n"
		 "b = topo.device('b')\n"
		 "topo.connect([a, b])\n"
		 "task('ping', run(a, 'ping -c 3 b'), run(b, 'tcpdump -i any', background=true),\n"
		 "     run(b, 'echo ok', expect='^ok$'), timeout=s(30))\n"
		 "task('plain', [run(a, 'true'), run(b, 'false')])\n"
		 "task('float', run(a, 'x'), timeout=ms(1.5))\n");
	assert_true(xir_find_node(res.x, "a", &a));
	assert_true(xir_find_node(res.x, "b", &b));
	assert_int_equal(res.x->ntasks, 3);

	t = &res.x->tasks[0];
	assert_string_equal(t->name, "ping");
	assert_int_equal(t->timeout_ns, 30000000000LL);
	assert_int_equal(t->loc.line, 4);
	assert_int_equal(t->ncmd, 3);
	assert_int_equal(t->cmd[0].node, a);
	assert_string_equal(t->cmd[0].cmd, "ping -c 3 b");
	assert_false(t->cmd[0].background);
	assert_null(t->cmd[0].expect);
	assert_int_equal(t->cmd[1].node, b);
	assert_true(t->cmd[1].background);
	assert_string_equal(t->cmd[2].expect, "^ok$");
	assert_false(t->cmd[2].background);

	t = &res.x->tasks[1];
	assert_string_equal(t->name, "plain");
	assert_int_equal(t->timeout_ns, 60000000000LL); /* the default, 60 s */
	assert_int_equal(t->ncmd, 2);
	assert_string_equal(t->cmd[1].cmd, "false");
	assert_int_equal(t->cmd[1].node, b);

	assert_int_equal(res.x->tasks[2].timeout_ns, 1500000);
	result_free(&res);

	one_error("x = topo.device('x')\ntask('t', run(x, 'a'), timeout=5)\n",
		  "t.vtb:2:32: error: timeout= takes a time, not an int\n"
		  "    task('t', run(x, 'a'), timeout=5)\n"
		  "                                   ^\n"
		  "  hint: write timeout=s(30)\n");
	one_error("x = topo.device('x')\ntask(run(x, 'a'))\n", "task() needs a name string first");
	one_error("x = topo.device('x')\ntask('u', 'ls')\n",
		  "t.vtb:2:11: error: task() takes run() commands and steps, not a string");
	one_error("x = topo.device('x')\ntask('u', [run(x, 'a'), 3])\n",
		  "item 1 of this list is an int, not a run() or a step");
	one_error("x = topo.device('x')\nv = run(x)\n", "run() takes 2 arguments, not 1");
	one_error("v = run('x', 'ls')\n", "run() needs a device first, not a string");
	one_error("x = topo.device('x')\nv = run(x, 'a', background=1)\n",
		  "t.vtb:2:28: error: background= takes true or false, not an int");
	one_error("x = topo.device('x')\nv = run(x, 'a', expect=3)\n",
		  "expect= takes a regular expression string, not an int");
	one_error("x = topo.device('x')\ntask('v', run(x, 'a', expect='(('))\n",
		  "is not a valid regular expression");
	one_error("x = topo.device('x')\ntask('v', run(x, 'a'), timeout=s(1) * 1e10)\n",
		  "timeout= is too large");
}

static void test_constraint_lists(void **state)
{
	struct result res;
	const struct xir_node *n;

	(void)state;
	res = ok("c = [cores == 2, memory == mb(512)]\n"
		 "a = topo.device('a', c)\n"
		 "b = topo.device('b', [virt == false], cores >= 1)\n"
		 "l = topo.connect([a, b], [latency == ms(5), loss == 0.5], capacity <= gbps(10))\n"
		 "l[a].spec([nic == virtio, mtu == 1400])\n");
	n = node(res.x, "a");
	assert_int_equal(n->cons.n, 2);
	int_cons(&n->cons, "cores", XIR_EQ, 2, XU_NONE);
	int_cons(&n->cons, "memory", XIR_EQ, 536870912, XU_BYTES);
	n = node(res.x, "b");
	assert_int_equal(n->cons.n, 2);
	assert_false(cons(&n->cons, "virt")->value.b);
	int_cons(&n->cons, "cores", XIR_GE, 1, XU_NONE);
	assert_int_equal(res.x->links[0].cons.n, 3);
	int_cons(&res.x->links[0].cons, "latency", XIR_EQ, 5000000, XU_NS);
	int_cons(&res.x->links[0].cons, "capacity", XIR_LE, 10000000000LL, XU_BPS);
	assert_int_equal(endpoint(res.x, 0, "a")->cons.n, 2);
	result_free(&res);

	/* a property on the right flips the operator */
	res = ok("a = topo.device('a', 2 <= cores)\n");
	int_cons(&node(res.x, "a")->cons, "cores", XIR_GE, 2, XU_NONE);
	result_free(&res);

	one_error("c = [cores == 2, 3]\na = topo.device('a', c)\n",
		  "topo.device() expects constraints here, not an int");
}

static void test_topo_spec_and_names(void **state)
{
	struct result res;
	const char *src = "a = topo.device('a')\n";

	(void)state;
	res = ok("topo.spec(name == 'exp1')\na = topo.device('a')\n");
	assert_string_equal(res.x->name, "exp1");
	result_free(&res);

	/* otherwise the file's base name */
	res = compile_as("models/chain.vtb", src, strlen(src), NULL);
	assert_int_equal(res.r, 0);
	assert_string_equal(res.x->name, "chain");
	result_free(&res);
	res = compile_as("-", src, strlen(src), NULL);
	assert_int_equal(res.r, 0);
	assert_string_equal(res.x->name, "experiment");
	result_free(&res);
}

/* ---- poison: one mistake, one error ---- */

static void test_poison(void **state)
{
	struct result res;

	(void)state;
	res = bad("a = undefined_thing\n"
		  "b = a + 1\n"
		  "c = topo.device('c', cores == a)\n"
		  "d = [a, 1]\n"
		  "e = a.foo()\n"
		  "f = str(a)\n",
		  1);
	assert_string_equal(res.diags,
			    "t.vtb:1:5: error: undefined name 'undefined_thing'\n"
			    "    a = undefined_thing\n"
			    "        ^~~~~~~~~~~~~~~\n"
			    "1 error\n");
	result_free(&res);

	/* a failed loop: its variable is quiet in the body */
	one_error("for i in nothing:\n    topo.device('n' + str(i))\nx = i\n",
		  "t.vtb:1:10: error: undefined name 'nothing'");
	/* the same error in every iteration of a loop is said once */
	one_error("for i in range(1000):\n    x = y + i\n", "t.vtb:2:9: error: undefined name 'y'");
	/* a poisoned device in a link, a spec, a task */
	res = bad("a = topo.device('a' + 1)\n"
		  "b = topo.device('b')\n"
		  "l = topo.connect([a, b])\n"
		  "l[a].spec(nic == virtio)\n"
		  "task('t', run(a, 'ls'))\n",
		  1);
	has(&res, "t.vtb:1:17: error: unsupported operation: a string + an int");
	result_free(&res);
}

static void test_several_errors(void **state)
{
	struct result res;

	(void)state;
	res = bad("a = topo.device('a', core == 4)\n"
		  "b = topo.device('b', memory == gb(1) + ms(1))\n"
		  "c = undefined\n"
		  "l = topo.connect([topo.device('p'), topo.device('q')])\n"
		  "l[0].spec(nic == virtoi)\n"
		  "d = 1 / 0\n"
		  "break\n",
		  6);
	has(&res, "t.vtb:1:22: error: unknown property 'core'");
	has(&res, "t.vtb:2:32: error: cannot add a size in bytes and a time in ns");
	has(&res, "t.vtb:3:5: error: undefined name 'undefined'");
	has(&res, "t.vtb:5:18: error: unknown NIC model 'virtoi'");
	has(&res, "t.vtb:6:5: error: division by zero");
	has(&res, "t.vtb:7:1: error: 'break' outside a loop");
	assert_non_null(strstr(res.diags, "6 errors\n"));
	/* in the order of the source */
	assert_true(strstr(res.diags, ":1:22:") < strstr(res.diags, ":2:32:"));
	assert_true(strstr(res.diags, ":6:5:") < strstr(res.diags, ":7:1:"));
	result_free(&res);

	/* syntax errors stop the evaluation but not the parsing */
	res = bad("x = )\ny = 1 2\nz = undefined\n", 2);
	has(&res, "t.vtb:1:5: error: expected an expression, found ')'");
	has(&res, "t.vtb:2:7: error: expected end of line, found number");
	lacks(&res, "undefined name");
	result_free(&res);

	/* at most 20 errors */
	{
		struct util_buf b;
		int i;

		util_buf_init(&b);
		for (i = 0; i < 30; i++)
			util_buf_printf(&b, "v%d = undefined%d\n", i, i);
		assert_false(b.oom);
		res = compile(b.s);
		assert_int_equal(res.r, -EINVAL);
		has(&res, "t.vtb: too many errors, stopped after 20\n");
		has(&res, "t.vtb:20:7: error: undefined name 'undefined19'");
		lacks(&res, "undefined20");
		result_free(&res);
		util_buf_free(&b);
	}
}

static void test_places(void **state)
{
	struct result res;

	(void)state;
	/* a call over several lines: each error on its own line */
	res = bad("a = topo.device('a',\n"
		  "    core == 4,\n"
		  "    memory == gb(1) +\n"
		  "        ms(2))\n",
		  2);
	has(&res, "t.vtb:2:5: error: unknown property 'core'\n"
		  "        core == 4,\n"
		  "        ^~~~\n");
	has(&res, "t.vtb:3:15: error: cannot add a size in bytes and a time in ns");
	result_free(&res);

	/* CRLF models: the same places, the quoted line without its \r */
	res = bad("a = topo.device('a')\r\nb = topo.device('b')\r\nl = topo.connect([a, b])\r\n"
		  "l[a].spec(nic == virtoi)\r\n",
		  1);
	assert_string_equal(res.diags,
			    "t.vtb:4:18: error: unknown NIC model 'virtoi'\n"
			    "    l[a].spec(nic == virtoi)\n"
			    "                     ^~~~~~\n"
			    "  hint: did you mean 'virtio'?\n"
			    "1 error\n");
	result_free(&res);

	/* inside blocks */
	one_error("for i in range(2):\n    if i == 1:\n        x = [1][i]\n",
		  "t.vtb:3:17: error: index 1 out of range (length 1)");
}

/* ---- hostile models ---- */

static void test_step_cap(void **state)
{
	struct result res;

	(void)state;
	res = bad("for i in range(2000000000): pass\n", 1);
	assert_string_equal(res.diags,
			    "t.vtb:1:29: error: evaluation stopped after 20000000 steps\n"
			    "    for i in range(2000000000): pass\n"
			    "                                ^~~~\n"
			    "  hint: look for a loop that never ends or runs far too often\n"
			    "1 error\n");
	assert_true(res.steps >= EVAL_MAX_STEPS);
	assert_true(res.steps <= EVAL_MAX_STEPS + 10);
	result_free(&res);

	/* nested loops; the rest of the model is not evaluated after the cap */
	res = bad("for i in range(100000):\n"
		  "    for j in range(100000):\n"
		  "        x = i * j\n"
		  "y = undefined\n",
		  1);
	has(&res, "evaluation stopped after 20000000 steps");
	lacks(&res, "undefined name");
	result_free(&res);

	/* a smaller cap */
	{
		struct eval_limits lim = { 1000, EVAL_MAX_BYTES, EVAL_MAX_LIST, EVAL_MAX_STR };
		const char *src = "for i in range(10000): pass\n";

		res = compile_as("t.vtb", src, strlen(src), &lim);
		assert_int_equal(res.r, -EINVAL);
		has(&res, "evaluation stopped after 1000 steps");
		result_free(&res);
	}
}

static void test_size_caps(void **state)
{
	struct result res;

	(void)state;
	res = bad("l = [1]\nfor i in range(100):\n    l = l + l\n", 1);
	has(&res, "t.vtb:3:9: error: list longer than 4194304 items");
	result_free(&res);

	res = bad("l = [1]\nfor x in l:\n    l.append(x)\n", 1);
	has(&res, "t.vtb:3:5: error: list longer than 4194304 items");
	result_free(&res);

	res = bad("s = 'ab'\nfor i in range(100):\n    s = s + s\n", 1);
	has(&res, "t.vtb:3:9: error: string longer than 1048576 bytes");
	result_free(&res);

	/* all strings and lists together, with a small cap */
	{
		struct eval_limits lim = { EVAL_MAX_STEPS, (size_t)1 << 20, EVAL_MAX_LIST, EVAL_MAX_STR };
		const char *src = "s = 'x'\n"
				  "for i in range(16):\n"
				  "    s = s + s\n"
				  "l = []\n"
				  "for i in range(100):\n"
				  "    l.append(s + str(i))\n"
				  "y = 1\n";

		res = compile_as("t.vtb", src, strlen(src), &lim);
		assert_int_equal(res.r, -EINVAL);
		assert_int_equal(res.nerrors, 1);
		has(&res, "t.vtb:6:14: error: the model needs more than 1 MiB of memory\n");
		has(&res, "  hint: a model this big is probably a runaway loop\n");
		result_free(&res);
	}
}

/* Compile src with a smaller step cap; expect the step-cap error at want. */
static void stops_at(const char *src, uint64_t steps, const char *want)
{
	struct eval_limits lim = { steps, EVAL_MAX_BYTES, EVAL_MAX_LIST, EVAL_MAX_STR };
	struct result res = compile_as("t.vtb", src, strlen(src), &lim);

	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.nerrors, 1);
	has(&res, want);
	result_free(&res);
}

static void test_copying_counts(void **state)
{
	struct eval_limits lim = { EVAL_MAX_STEPS, (size_t)1 << 20, EVAL_MAX_LIST, EVAL_MAX_STR };
	struct result res;
	const char *src;

	(void)state;
	/* copying big strings and lists is work: a loop that does it a
	 * million times meets the step cap rather than running for hours */
	stops_at("s = 'a'\nfor i in range(19):\n    s = s + s\nfor i in range(1000000):\n    t = s + ''\n",
		 1000000, "t.vtb:5:9: error: evaluation stopped after 1000000 steps");
	stops_at("s = 'a'\nfor i in range(19):\n    s = s + s\nfor i in range(1000000):\n    t = str([s])\n",
		 1000000, "t.vtb:5:9: error: evaluation stopped after 1000000 steps");
	stops_at("s = 'a'\nfor i in range(19):\n    s = s + s\nt = s + ''\nfor i in range(1000000):\n    b = s == t\n",
		 1000000, "t.vtb:6:9: error: evaluation stopped after 1000000 steps");
	stops_at("l = [0]\nfor i in range(19):\n    l = l + l\nfor i in range(1000000):\n    t = l + []\n",
		 1000000, "t.vtb:5:9: error: evaluation stopped after 1000000 steps");

	/* str() keeps the string cap */
	one_error("s = 'a'\nfor i in range(20):\n    s = s + s\nt = str([s])\n",
		  "t.vtb:4:5: error: string longer than 1048576 bytes");

	/* what the XIR keeps counts against the memory cap */
	src = "s = 'a'\n"
	      "for i in range(16):\n"
	      "    s = s + s\n"
	      "x = topo.device('x')\n"
	      "for i in range(100):\n"
	      "    task('t' + str(i), run(x, s))\n";
	res = compile_as("t.vtb", src, strlen(src), &lim);
	assert_int_equal(res.r, -EINVAL);
	has(&res, "t.vtb:6:5: error: the model needs more than 1 MiB of memory");
	result_free(&res);
	src = "for i in range(100000):\n    topo.device('n' + str(i), host == 'i' + str(i))\n";
	res = compile_as("t.vtb", src, strlen(src), &lim);
	assert_int_equal(res.r, -EINVAL);
	assert_int_equal(res.nerrors, 1);
	has(&res, "the model needs more than 1 MiB of memory");
	result_free(&res);
}

static void test_deep_values(void **state)
{
	struct result res;

	(void)state;
	/* a list nested a million deep is built, compared and freed */
	res = bad("l = []\n"
		  "for i in range(1000000):\n"
		  "    l = [l]\n"
		  "same = l == l\n"
		  "other = l == [l]\n"
		  "l = 0\n",
		  1);
	has(&res, "t.vtb:5:9: error: cannot compare lists nested more than 200 deep");
	result_free(&res);

	/* lists that hold themselves */
	value_is("a = [1]\na.append(a)", "[a == a, len(a)]", "[true, 2]");
	res = bad("a = [1]\na.append(a)\nb = [1]\nb.append(b)\nx = a == b\n", 1);
	has(&res, "cannot compare lists nested more than 200 deep");
	result_free(&res);
	{
		char *s = value_after("a = [1]\na.append(a)", "a");

		assert_true(strncmp(s, "[1, [1, [1, ", 12) == 0);
		assert_true(strlen(s) < 65536);
		free(s);
	}

	/* shared sublists make a comparison exponential: the step cap ends it */
	res = bad("a = [0]\nb = [0]\nfor i in range(60):\n    a = [a, a]\n    b = [b, b]\nx = a == b\n", 1);
	has(&res, "t.vtb:6:5: error: evaluation stopped after 20000000 steps");
	result_free(&res);
}

/* Deterministic pseudo-random bytes. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_garbage(void **state)
{
	static const char alpha[] = "()[]:,.=+-*/%<>!#'\"\\\n\n\n\t    abcxyz019_";
	size_t len = (size_t)10 << 20, i;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct result res;
	char *buf = malloc(len);

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = (char)rnd(&seed);
	buf[0] = 'x'; /* not JSON */
	res = compile_as("t.vtb", buf, len, NULL);
	assert_int_equal(res.r, -EINVAL);
	assert_true(res.nerrors > 0);
	has(&res, "t.vtb:1:");
	result_free(&res);

	/* the same size in the model's own characters */
	for (i = 0; i < len; i++)
		buf[i] = alpha[rnd(&seed) % (sizeof(alpha) - 1)];
	res = compile_as("t.vtb", buf, len, NULL);
	assert_int_equal(res.r, -EINVAL);
	assert_true(res.nerrors > 0);
	result_free(&res);

	/* ... and 10 MB of valid statements */
	for (i = 0; i + 6 <= len; i += 6)
		memcpy(buf + i, "x = 1\n", 6);
	res = compile_as("t.vtb", buf, i, NULL);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.nerrors, 0);
	result_free(&res);
	free(buf);

	/* over the size limit: refused before it is read */
	len = COMPILE_MAX_SOURCE + 1;
	buf = malloc(len);
	assert_non_null(buf);
	memset(buf, ' ', len);
	res = compile_as("t.vtb", buf, len, NULL);
	assert_int_equal(res.r, -EFBIG);
	has(&res, "t.vtb: error: the model is over the limit of 64 MiB");
	result_free(&res);
	free(buf);
}

/* ---- XIR JSON in place of a model ---- */

static void test_json(void **state)
{
	static const char *doc =
		"\n  {\"version\": 1, \"name\": \"j\",\n"
		"   \"nodes\": [{\"name\": \"a\", \"constraints\": [{\"property\": \"cores\", \"op\": \">=\", \"value\": 2}]},\n"
		"             {\"name\": \"b\"}],\n"
		"   \"links\": [{\"endpoints\": [{\"node\": \"a\"}, {\"node\": \"b\"}],\n"
		"              \"constraints\": [{\"property\": \"latency\", \"op\": \"==\", \"value\": 1000000}]}],\n"
		"   \"tasks\": [{\"name\": \"t\", \"commands\": [{\"node\": \"b\", \"cmd\": \"ls\"}]}]}\n";
	struct result res, again;
	char *json;

	(void)state;
	res = compile_as("j.json", doc, strlen(doc), NULL);
	if (res.r)
		fail_msg("JSON did not compile:\n%s", res.diags);
	assert_string_equal(res.x->name, "j");
	assert_int_equal(res.x->nnodes, 2);
	assert_int_equal(res.x->nlinks, 1);
	assert_string_equal(res.x->links[0].name, "a-b");
	int_cons(&node(res.x, "a")->cons, "cores", XIR_GE, 2, XU_NONE);
	int_cons(&res.x->links[0].cons, "latency", XIR_EQ, 1000000, XU_NS);
	assert_int_equal(res.x->ntasks, 1);
	assert_int_equal(res.x->tasks[0].timeout_ns, 60000000000LL);
	result_free(&res);

	/* a model, written as JSON, compiles back to the same document */
	res = ok("x = topo.device('nodeX', cores == 4, memory == gb(8))\n"
		 "y = topo.device('nodeY', virt == true)\n"
		 "link = topo.connect([x,y], latency == ms(10))\n"
		 "link[x].spec(nic == virtio)\n"
		 "link[y].spec(nic >= connect4)\n"
		 "task('t', run(x, 'ping nodeY', expect='ok'), timeout=s(5))\n");
	json = xjson_dumps(res.x);
	assert_non_null(json);
	again = compile_as("t.json", json, strlen(json), NULL);
	if (again.r)
		fail_msg("the written JSON did not compile:\n%s", again.diags);
	{
		char *json2 = xjson_dumps(again.x);

		assert_non_null(json2);
		assert_string_equal(json2, json);
		free(json2);
	}
	int_cons(&node(again.x, "nodeX")->cons, "memory", XIR_EQ, 8589934592LL, XU_BYTES);
	free(json);
	result_free(&again);
	result_free(&res);

	/* JSON errors have places too */
	{
		static const char *broken = "  {\"version\": 1,\n \"name\": \"j\",, }";
		static const char *unknown = "{\"version\": 1, \"name\": \"j\", \"nodes\": [{\"name\": \"a\"}],"
					     " \"links\": [{\"endpoints\": [{\"node\": \"a\"}, {\"node\": \"c\"}]}]}";

		res = compile_as("j.json", broken, strlen(broken), NULL);
		assert_int_equal(res.r, -EINVAL);
		has(&res, "j.json:2:14: error:");
		result_free(&res);
		res = compile_as("j.json", unknown, strlen(unknown), NULL);
		assert_int_equal(res.r, -EINVAL);
		has(&res, "unknown node 'c'");
		result_free(&res);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_int_arithmetic),
		cmocka_unit_test(test_float_arithmetic),
		cmocka_unit_test(test_unit_arithmetic),
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_names_and_calls),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_constraint_lists),
		cmocka_unit_test(test_topo_spec_and_names),
		cmocka_unit_test(test_poison),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_places),
		cmocka_unit_test(test_step_cap),
		cmocka_unit_test(test_size_caps),
		cmocka_unit_test(test_copying_counts),
		cmocka_unit_test(test_deep_values),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
