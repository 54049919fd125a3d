/* Unit tests of xir_json: the exact text of a small experiment, the round
 * trip of a bigger one, and the errors malformed documents produce. */
#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "xir.h"
#include "xir_json.h"

/* ------------------------------------------------------------- builders */

static const struct xir_prop *prop(const char *name)
{
	const struct xir_prop *p = xir_prop_find(name);

	assert_non_null(p);
	return p;
}

static void add_int(struct xir_cset *cs, const char *name, enum xir_op op, int64_t i,
		    enum xir_unit unit)
{
	struct xir_value v = { .type = XV_INT, .unit = unit, .i = i };

	assert_int_equal(xir_cset_add(cs, prop(name), op, v, xir_noloc()), 0);
}

static void add_float(struct xir_cset *cs, const char *name, enum xir_op op, double f)
{
	struct xir_value v = { .type = XV_FLOAT, .f = f };

	assert_int_equal(xir_cset_add(cs, prop(name), op, v, xir_noloc()), 0);
}

static void add_bool(struct xir_cset *cs, const char *name, bool b)
{
	struct xir_value v = { .type = XV_BOOL, .b = b };

	assert_int_equal(xir_cset_add(cs, prop(name), XIR_EQ, v, xir_noloc()), 0);
}

/* A string (XV_STR) or enumerated (XV_ENUM) value. */
static void add_str(struct xir_cset *cs, const char *name, enum xir_vtype t, const char *s)
{
	struct xir_value v = { .type = t, .s = strdup(s) };

	assert_non_null(v.s);
	assert_int_equal(xir_cset_add(cs, prop(name), XIR_EQ, v, xir_noloc()), 0);
}

static uint32_t add_node(struct xir *x, const char *name)
{
	uint32_t i;

	assert_int_equal(xir_add_node(x, name, xir_noloc(), &i), 0);
	return i;
}

/* A link between a and b, or a LAN of a, b and c when c != UINT32_MAX. */
static uint32_t add_link(struct xir *x, const char *name, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t l;

	assert_int_equal(xir_add_link(x, name, xir_noloc(), &l), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, a, xir_noloc()), 0);
	assert_int_equal(xir_link_add_endpoint(x, l, b, xir_noloc()), 0);
	if (c != UINT32_MAX)
		assert_int_equal(xir_link_add_endpoint(x, l, c, xir_noloc()), 0);
	return l;
}

/* Two nodes, one link with endpoint constraints, one task. */
static struct xir *small_xir(void)
{
	struct xir *x = xir_new("pair");
	uint32_t n0, n1, l, t;

	assert_non_null(x);
	add_bool(&x->cons, "routing", false);
	n0 = add_node(x, "n0");
	n1 = add_node(x, "n1");
	add_int(&x->nodes[n0].cons, "cores", XIR_EQ, 4, XU_NONE);
	add_int(&x->nodes[n0].cons, "memory", XIR_GE, 268435456, XU_BYTES);
	l = add_link(x, NULL, n0, n1, UINT32_MAX);
	add_int(&x->links[l].cons, "latency", XIR_EQ, 1000000, XU_NS);
	add_float(&x->links[l].cons, "loss", XIR_LT, 0.2);
	add_int(&x->links[l].cons, "queue", XIR_LE, 100, XU_NONE);
	add_str(&xir_link_endpoint(x, l, n0)->cons, "ip", XV_STR, "10.0.0.1/24");
	add_str(&xir_link_endpoint(x, l, n1)->cons, "nic", XV_ENUM, "e1000");
	assert_int_equal(xir_add_task(x, "ping", 30000000000LL, xir_noloc(), &t), 0);
	assert_int_equal(xir_task_add_command(x, t, n0, "ping -c 3 10.0.0.2", false,
					      "3 received", xir_noloc()), 0);
	assert_int_equal(xir_task_add_command(x, t, n1, "tcpdump -c 3", true, NULL,
					      xir_noloc()), 0);
	assert_int_equal(xir_finish(x), 0);
	return x;
}

/* Every value type, queues in bytes and packets, a LAN, unusual strings,
 * an empty task, and enough nodes to exercise the lists. */
static struct xir *big_xir(void)
{
	struct xir *x = xir_new("big \"one\"\n\ttabbed \xc3\xa9");
	uint32_t n[40], l, t;
	char name[32];
	size_t i;

	assert_non_null(x);
	add_str(&x->cons, "pool", XV_STR, "10.0.0.0/16");
	add_bool(&x->cons, "islands", true);
	for (i = 0; i < UTIL_ARRAY_SIZE(n); i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		n[i] = add_node(x, name);
		add_int(&x->nodes[n[i]].cons, "cores", XIR_GE, (int64_t)i + 1, XU_NONE);
	}
	add_int(&x->nodes[n[0]].cons, "cpufreq", XIR_EQ, 2200000000LL, XU_HZ);
	add_int(&x->nodes[n[0]].cons, "disk", XIR_GT, 10737418240LL, XU_BYTES);
	add_float(&x->nodes[n[0]].cons, "dilation", XIR_EQ, 2.5);
	add_bool(&x->nodes[n[1]].cons, "virt", true);
	add_str(&x->nodes[n[1]].cons, "arch", XV_ENUM, "aarch64");
	add_str(&x->nodes[n[1]].cons, "image", XV_STR, "/var/lib/vtb/debian.qcow2");
	/* extremes of the number formats */
	add_int(&x->nodes[n[2]].cons, "memory", XIR_LE, INT64_MAX, XU_BYTES);
	add_int(&x->nodes[n[2]].cons, "cores", XIR_NE, INT64_MIN, XU_NONE);
	add_float(&x->nodes[n[2]].cons, "dilation", XIR_LT, 1e300);
	add_float(&x->nodes[n[2]].cons, "dilation", XIR_GT, 1e-7);
	add_float(&x->nodes[n[2]].cons, "dilation", XIR_NE, 100.0);
	add_str(&x->nodes[n[3]].cons, "kernel", XV_STR, "a\\b/c\x01\x1f\x7f\r\"");
	for (i = 0; i + 1 < UTIL_ARRAY_SIZE(n); i++) {
		l = add_link(x, NULL, n[i], n[i + 1], UINT32_MAX);
		add_int(&x->links[l].cons, "capacity", XIR_EQ, 100000000, XU_BPS);
		add_int(&x->links[l].cons, "jitter", XIR_LE, 50000, XU_NS);
		add_float(&x->links[l].cons, "duplicate", XIR_EQ, 0.001 * (double)i);
		add_float(&x->links[l].cons, "corrupt", XIR_NE, 1.0 / 3.0);
	}
	l = add_link(x, "backbone", n[0], n[10], n[20]);
	add_int(&x->links[l].cons, "queue", XIR_EQ, 65536, XU_BYTES);
	add_int(&x->links[l].cons, "mtu", XIR_EQ, 9000, XU_NONE);
	add_str(&x->links[l].ep[0].cons, "ip", XV_STR, "fd00::1/64");
	add_str(&x->links[l].ep[0].cons, "mac", XV_STR, "02:00:00:00:00:01");
	add_str(&x->links[l].ep[1].cons, "nic", XV_ENUM, "connect5");
	add_int(&x->links[l].ep[1].cons, "queue", XIR_LT, 1000, XU_NONE);
	add_int(&x->links[l].ep[2].cons, "vlan", XIR_EQ, 42, XU_NONE);
	add_float(&x->links[l].ep[2].cons, "reorder", XIR_GE, 0.25);
	assert_int_equal(xir_add_task(x, "iperf", XIR_DEFAULT_TIMEOUT_NS, xir_noloc(), &t), 0);
	assert_int_equal(xir_task_add_command(x, t, n[0], "iperf3 -s", true, NULL, xir_noloc()), 0);
	assert_int_equal(xir_task_add_command(x, t, n[39], "iperf3 -c 10.0.0.1 -J", false,
					      "\"bits_per_second\": [0-9.e+]+", xir_noloc()), 0);
	assert_int_equal(xir_add_task(x, "nothing", 1, xir_noloc(), NULL), 0);
	assert_int_equal(xir_finish(x), 0);
	return x;
}

/* ------------------------------------------------------------- helpers */

/* Read text; on failure *msgs holds the formatted diagnostics. */
static int read_doc(const char *text, struct xir **out, char **msgs)
{
	struct diag_list d;
	int r;

	diag_init(&d, "x.json", text, strlen(text));
	r = xjson_read(text, strlen(text), out, &d);
	*msgs = diag_format(&d);
	assert_non_null(*msgs);
	diag_free(&d);
	return r;
}

/* Assert that text is rejected with each of the expected substrings. */
static void expect_errors(const char *text, const char *const *want, size_t n)
{
	struct xir *x = NULL;
	bool ok = true;
	char *msgs;
	size_t i;
	int r;

	r = read_doc(text, &x, &msgs);
	for (i = 0; i < n; i++)
		if (!strstr(msgs, want[i])) {
			print_error("expected \"%s\" in:\n%s", want[i], msgs);
			ok = false;
		}
	free(msgs);
	assert_int_equal(r, -EINVAL);
	assert_null(x);
	assert_true(ok);
}

#define EXPECT_ERRORS(text, ...)                                                           \
	do {                                                                               \
		static const char *const want_[] = { __VA_ARGS__ };                        \
		expect_errors((text), want_, UTIL_ARRAY_SIZE(want_));                      \
	} while (0)

/* The skeleton of a document with one node "a" and one link "a-b". */
#define DOC(nodes_extra, links, tasks)                                                     \
	"{\"version\": 1, \"name\": \"t\", \"nodes\": [{\"name\": \"a\"}, {\"name\": \"b\"}" \
	nodes_extra "], \"links\": [" links "], \"tasks\": [" tasks "]}"

/* ------------------------------------------------------------- writing */

static void test_write_small(void **state)
{
	static const char want[] =
		"{\n"
		"  \"version\": 1,\n"
		"  \"name\": \"pair\",\n"
		"  \"constraints\": [\n"
		"    {\n"
		"      \"property\": \"routing\",\n"
		"      \"op\": \"==\",\n"
		"      \"value\": false\n"
		"    }\n"
		"  ],\n"
		"  \"nodes\": [\n"
		"    {\n"
		"      \"name\": \"n0\",\n"
		"      \"constraints\": [\n"
		"        {\n"
		"          \"property\": \"cores\",\n"
		"          \"op\": \"==\",\n"
		"          \"value\": 4\n"
		"        },\n"
		"        {\n"
		"          \"property\": \"memory\",\n"
		"          \"op\": \">=\",\n"
		"          \"value\": 268435456\n"
		"        }\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"n1\",\n"
		"      \"constraints\": []\n"
		"    }\n"
		"  ],\n"
		"  \"links\": [\n"
		"    {\n"
		"      \"name\": \"n0-n1\",\n"
		"      \"endpoints\": [\n"
		"        {\n"
		"          \"node\": \"n0\",\n"
		"          \"constraints\": [\n"
		"            {\n"
		"              \"property\": \"ip\",\n"
		"              \"op\": \"==\",\n"
		"              \"value\": \"10.0.0.1/24\"\n"
		"            }\n"
		"          ]\n"
		"        },\n"
		"        {\n"
		"          \"node\": \"n1\",\n"
		"          \"constraints\": [\n"
		"            {\n"
		"              \"property\": \"nic\",\n"
		"              \"op\": \"==\",\n"
		"              \"value\": \"e1000\"\n"
		"            }\n"
		"          ]\n"
		"        }\n"
		"      ],\n"
		"      \"constraints\": [\n"
		"        {\n"
		"          \"property\": \"latency\",\n"
		"          \"op\": \"==\",\n"
		"          \"value\": 1000000\n"
		"        },\n"
		"        {\n"
		"          \"property\": \"loss\",\n"
		"          \"op\": \"<\",\n"
		"          \"value\": 0.2\n"
		"        },\n"
		"        {\n"
		"          \"property\": \"queue\",\n"
		"          \"op\": \"<=\",\n"
		"          \"value\": 100,\n"
		"          \"unit\": \"packets\"\n"
		"        }\n"
		"      ]\n"
		"    }\n"
		"  ],\n"
		"  \"tasks\": [\n"
		"    {\n"
		"      \"name\": \"ping\",\n"
		"      \"commands\": [\n"
		"        {\n"
		"          \"node\": \"n0\",\n"
		"          \"cmd\": \"ping -c 3 10.0.0.2\",\n"
		"          \"expect\": \"3 received\"\n"
		"        },\n"
		"        {\n"
		"          \"node\": \"n1\",\n"
		"          \"cmd\": \"tcpdump -c 3\",\n"
		"          \"background\": true\n"
		"        }\n"
		"      ],\n"
		"      \"timeout\": 30000000000\n"
		"    }\n"
		"  ]\n"
		"}\n";
	struct xir *x = small_xir();
	char *s = xjson_dumps(x);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	xir_free(x);
}

static void test_write_empty(void **state)
{
	struct xir *x = xir_new("void");
	char *s;

	(void)state;
	assert_non_null(x);
	s = xjson_dumps(x);
	assert_non_null(s);
	assert_string_equal(s, "{\n  \"version\": 1,\n  \"name\": \"void\",\n"
			       "  \"constraints\": [],\n  \"nodes\": [],\n  \"links\": [],\n"
			       "  \"tasks\": []\n}\n");
	free(s);
	xir_free(x);
}

/* The streamed layout must be exactly what jansson makes of the whole tree. */
static void test_write_layout_is_janssons(void **state)
{
	struct xir *x = big_xir();
	char *s = xjson_dumps(x), *again;
	json_t *j;

	(void)state;
	assert_non_null(s);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	again = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	assert_non_null(again);
	assert_int_equal(strlen(s), strlen(again) + 1);
	assert_memory_equal(s, again, strlen(again));
	assert_int_equal(s[strlen(again)], '\n');
	free(again);
	json_decref(j);
	free(s);
	xir_free(x);
}

static void test_write_null_link_name(void **state)
{
	struct xir *x = xir_new("t");
	char *s;

	(void)state;
	assert_non_null(x);
	add_link(x, NULL, add_node(x, "a"), add_node(x, "b"), UINT32_MAX);
	s = xjson_dumps(x);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"name\": null,\n      \"endpoints\""));
	free(s);
	xir_free(x);
}

static void test_write_rejects_bad_utf8(void **state)
{
	struct xir *x = xir_new("t");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(x);
	assert_non_null(f);
	add_node(x, "caf\xe9");
	assert_null(xjson_dumps(x));
	assert_int_equal(xjson_write(x, f), -EILSEQ);
	fclose(f);
	free(buf);
	xir_free(x);
}

static void test_write_rejects_nan(void **state)
{
	struct xir *x = xir_new("t");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint32_t n;

	(void)state;
	assert_non_null(x);
	assert_non_null(f);
	n = add_node(x, "a");
	add_float(&x->nodes[n].cons, "dilation", XIR_EQ, NAN);
	assert_null(xjson_dumps(x));
	assert_int_equal(xjson_write(x, f), -EINVAL);
	fclose(f);
	free(buf);
	xir_free(x);
}

/* ------------------------------------------------------------- reading */

static void test_round_trip(void **state)
{
	struct xir *x = big_xir(), *y = NULL;
	char *s = xjson_dumps(x), *t, *msgs;

	(void)state;
	assert_non_null(s);
	assert_non_null(strstr(s, "\"value\": 65536,\n          \"unit\": \"bytes\""));
	assert_non_null(strstr(s, "\"value\": 1000,\n              \"unit\": \"packets\""));
	assert_int_equal(read_doc(s, &y, &msgs), 0);
	free(msgs);
	assert_non_null(y);
	t = xjson_dumps(y);
	assert_non_null(t);
	assert_string_equal(s, t);

	/* the values came back with the types and units of the original */
	assert_int_equal(y->nnodes, x->nnodes);
	assert_int_equal(y->nlinks, x->nlinks);
	assert_string_equal(y->name, x->name);
	{
		const struct xir_link *l = &y->links[y->nlinks - 1];
		const struct xir_constraint *q = xir_cset_find(&l->cons, prop("queue"));

		assert_non_null(q);
		assert_int_equal(q->value.type, XV_INT);
		assert_int_equal(q->value.unit, XU_BYTES);
		q = xir_cset_find(&l->ep[1].cons, prop("queue"));
		assert_int_equal(q->value.unit, XU_NONE);
		assert_int_equal(xir_cset_find(&l->ep[1].cons, prop("nic"))->value.type, XV_ENUM);
		assert_int_equal(xir_cset_find(&l->ep[0].cons, prop("ip"))->value.type, XV_STR);
		assert_int_equal(l->ep[2].node, 20);
	}
	assert_int_equal(xir_cset_find(&y->nodes[0].cons, prop("cpufreq"))->value.unit, XU_HZ);
	assert_int_equal(xir_cset_find(&y->nodes[0].cons, prop("dilation"))->value.type, XV_FLOAT);
	assert_true(xir_cset_find(&y->nodes[1].cons, prop("virt"))->value.b);
	assert_true(y->tasks[0].cmd[0].background);
	assert_false(y->tasks[0].cmd[1].background);
	assert_string_equal(y->tasks[0].cmd[1].expect, "\"bits_per_second\": [0-9.e+]+");
	assert_int_equal(y->tasks[1].timeout_ns, 1);
	free(t);
	free(s);
	xir_free(y);
	xir_free(x);
}

/* What a generating program may leave out: constraints, links, tasks, link
 * names (named as the compiler names them), timeouts; numbers written as
 * integers where the XIR keeps a float. */
static void test_read_defaults(void **state)
{
	static const char doc[] =
		"{\"version\": 1, \"name\": \"g\", \"nodes\": [{\"name\": \"a\"}, {\"name\": \"b\"}],"
		" \"links\": [{\"endpoints\": [{\"node\": \"a\"}, {\"node\": \"b\"}],"
		"   \"constraints\": [{\"property\": \"loss\", \"op\": \"<=\", \"value\": 0},"
		"                     {\"property\": \"queue\", \"op\": \"==\", \"value\": 10}]},"
		"   {\"name\": null, \"endpoints\": [{\"node\": \"a\"}, {\"node\": \"b\"}]}],"
		" \"tasks\": [{\"name\": \"t\", \"commands\": [{\"node\": \"b\", \"cmd\": \"true\"}]}]}";
	struct xir *x = NULL;
	char *msgs;

	(void)state;
	assert_int_equal(read_doc(doc, &x, &msgs), 0);
	free(msgs);
	assert_non_null(x);
	assert_int_equal(x->nnodes, 2);
	assert_int_equal(x->cons.n, 0);
	assert_string_equal(x->links[0].name, "a-b");
	assert_string_equal(x->links[1].name, "a-b.2");
	assert_int_equal(x->links[0].cons.v[0].value.type, XV_FLOAT);
	assert_true(x->links[0].cons.v[0].value.f == 0.0);
	assert_int_equal(x->links[0].cons.v[1].value.type, XV_INT);
	assert_int_equal(x->links[0].cons.v[1].value.unit, XU_NONE);
	assert_int_equal(x->tasks[0].timeout_ns, XIR_DEFAULT_TIMEOUT_NS);
	assert_int_equal(x->tasks[0].cmd[0].node, 1);
	assert_null(x->tasks[0].cmd[0].expect);
	xir_free(x);
}

static void test_read_syntax_error(void **state)
{
	(void)state;
	EXPECT_ERRORS("{\n  \"version\": 1,\n  \"name\": \"x\"\n  \"nodes\": []\n}",
		      "x.json:4:9: error: '}' expected near '\"nodes\"'", "1 error");
	EXPECT_ERRORS("[1, 2", "x.json:1:", "expected");
	EXPECT_ERRORS("", "x.json:", "error: ");
}

static void test_read_duplicate_key(void **state)
{
	(void)state;
	EXPECT_ERRORS("{\"version\": 1,\n \"name\": \"a\",\n \"name\": \"b\", \"nodes\": []}",
		      "x.json:3:7: error: duplicate object key");
}

static void test_read_version(void **state)
{
	(void)state;
	EXPECT_ERRORS("{\"version\": 2, \"name\": \"a\", \"colour\": 1}",
		      "x.json: error: \"version\" 2 is not supported (this vtb reads version 1)\n"
		      "1 error\n");
	EXPECT_ERRORS("{\"name\": \"a\", \"nodes\": []}", "experiment: missing \"version\"");
	EXPECT_ERRORS("{\"version\": \"1\", \"name\": \"a\", \"nodes\": []}",
		      "\"version\" must be an integer");
	EXPECT_ERRORS("[{\"version\": 1}]", "the document must be a JSON object");
}

static void test_read_unknown_property(void **state)
{
	(void)state;
	EXPECT_ERRORS(DOC(", {\"name\": \"c\", \"constraints\": [{\"property\": \"cores\", \"op\": "
			  "\"==\", \"value\": 1}, {\"property\": \"cors\", \"op\": \"==\", "
			  "\"value\": 4}]}", "", ""),
		      "x.json: error: node 'c': constraint 2: unknown property 'cors'\n"
		      "  hint: did you mean 'cores'?\n");
	/* util_closest counts a transposition as two edits, so no hint here yet */
	EXPECT_ERRORS("{\"version\": 1, \"name\": \"t\", \"nodes\": [], \"constraints\": "
		      "[{\"property\": \"corse\", \"op\": \"==\", \"value\": 4}]}",
		      "x.json: error: experiment: constraint 1: unknown property 'corse'\n");
}

static void test_read_unknown_node(void **state)
{
	(void)state;
	EXPECT_ERRORS(DOC("", "{\"name\": \"a-b\", \"endpoints\": [{\"node\": \"a\"}, "
			  "{\"node\": \"zz\"}]}", ""),
		      "error: link 'a-b': endpoint 2: unknown node 'zz'\n");
	EXPECT_ERRORS(DOC("", "{\"endpoints\": [{\"node\": \"bb\"}]}",
			  "{\"name\": \"ping\", \"commands\": [{\"node\": \"q\", \"cmd\": \"x\"}]}"),
		      "link 1: endpoint 1: unknown node 'bb'\n  hint: did you mean 'b'?",
		      "task 'ping': command 1: unknown node 'q'\n", "2 errors");
}

static void test_read_bad_values(void **state)
{
	(void)state;
	EXPECT_ERRORS(DOC(", {\"name\": \"c\", \"constraints\": ["
			  "{\"property\": \"cores\", \"op\": \"==\", \"value\": [4]},"
			  "{\"property\": \"cores\", \"op\": \"=<\", \"value\": 4},"
			  "{\"property\": \"arch\", \"op\": \"==\", \"value\": \"aarch65\"},"
			  "{\"property\": \"cores\", \"op\": \"==\", \"value\": 4, \"unit\": \"bytes\"},"
			  "{\"property\": \"queue\", \"op\": \"==\", \"value\": 4, \"unit\": \"pkts\"},"
			  "{\"property\": \"cores\", \"op\": \"==\"},"
			  "{\"property\": 7, \"op\": \"==\", \"value\": null},"
			  "5]}",
			  "", ""),
		      "node 'c': constraint 1: \"value\" must be a number, a boolean or a string\n",
		      "node 'c': constraint 2: unknown op '=<'\n  hint: did you mean '=='?\n",
		      "node 'c': constraint 3: unknown arch 'aarch65'\n"
		      "  hint: did you mean 'aarch64'?\n",
		      "node 'c': constraint 4: \"unit\" is only for \"queue\"\n",
		      "node 'c': constraint 5: \"unit\" must be \"packets\" or \"bytes\"\n",
		      "node 'c': constraint 6: missing \"value\"\n",
		      "node 'c': constraint 7: \"property\" must be a string\n",
		      "node 'c': constraint 7: \"value\" must be a number",
		      "node 'c': constraint 8: must be an object\n", "9 errors");
}

static void test_read_bad_structure(void **state)
{
	(void)state;
	EXPECT_ERRORS("{\"version\": 1, \"nodes\": [{\"name\": \"a\", \"colour\": \"red\"},"
		      " {\"constraints\": []}, {\"name\": 3}], \"link\": [],"
		      " \"tasks\": [{\"name\": \"t\", \"timeout\": 1.5, \"commands\": "
		      "[{\"node\": \"a\", \"background\": 1, \"expect\": 2}]}]}",
		      "experiment: unknown key \"link\"\n  hint: did you mean 'links'?\n",
		      "experiment: missing \"name\"\n",
		      "node 'a': unknown key \"colour\"\n",
		      "node 2: missing \"name\"\n", "node 3: \"name\" must be a string\n",
		      "task 't': \"timeout\" must be an integer (nanoseconds)\n",
		      "task 't': command 1: missing \"cmd\"\n",
		      "task 't': command 1: \"expect\" must be a string\n",
		      "task 't': command 1: \"background\" must be true or false\n");
	EXPECT_ERRORS("{\"version\": 1, \"name\": \"a\", \"links\": {}}",
		      "experiment: missing \"nodes\"\n", "experiment: \"links\" must be an array\n");
	EXPECT_ERRORS(DOC("", "{\"name\": \"l\"}", "{\"name\": \"t\"}"),
		      "link 'l': missing \"endpoints\"\n", "task 't': missing \"commands\"\n");
}

/* Many errors: the reader stops when the list is full. */
static void test_read_stops_when_full(void **state)
{
	struct util_buf b;
	struct xir *x = NULL;
	char *doc, *msgs;
	int i;

	(void)state;
	util_buf_init(&b);
	util_buf_puts(&b, "{\"version\": 1, \"name\": \"a\", \"nodes\": [");
	for (i = 0; i < 100; i++)
		util_buf_printf(&b, "%s{\"name\": \"n%d\", \"constraints\": [{\"property\": \"x\","
				" \"op\": \"==\", \"value\": 1}]}", i ? ", " : "", i);
	util_buf_puts(&b, "]}");
	doc = util_buf_take(&b);
	assert_non_null(doc);
	assert_int_equal(read_doc(doc, &x, &msgs), -EINVAL);
	assert_null(x);
	assert_non_null(strstr(msgs, "node 'n19': constraint 1: unknown property 'x'"));
	assert_null(strstr(msgs, "node 'n20'"));
	assert_non_null(strstr(msgs, "\n20 errors\n"));
	free(msgs);
	free(doc);
}

/* A list already full of someone else's errors does not cut the read short. */
static void test_read_with_full_list(void **state)
{
	static const char doc[] = DOC("", "{\"endpoints\": [{\"node\": \"a\"}, {\"node\": \"b\"}]}", "");
	struct diag_list d;
	struct xir *x = NULL;
	int i;

	(void)state;
	diag_init(&d, "x.json", doc, strlen(doc));
	for (i = 0; i < DIAG_MAX_ERRORS; i++)
		diag_error(&d, xir_noloc(), NULL, "earlier %d", i);
	assert_true(diag_full(&d));
	assert_int_equal(xjson_read(doc, strlen(doc), &x, &d), 0);
	assert_non_null(x);
	assert_int_equal(x->nnodes, 2);
	assert_int_equal(x->nlinks, 1);
	assert_int_equal(x->links[0].nep, 2);
	xir_free(x);
	diag_free(&d);
}

/* *out is left alone on failure, even when it held something. */
static void test_read_keeps_out(void **state)
{
	struct xir *x = (struct xir *)&x;
	char *msgs;

	(void)state;
	assert_int_equal(read_doc("{\"version\": 1}", &x, &msgs), -EINVAL);
	assert_ptr_equal(x, (struct xir *)&x);
	free(msgs);
}

/* ------------------------------------------------------------- names */

/* Compile a JSON document as vtb up does; the diagnostics in *msgs. */
static int compile_doc(const char *text, char **msgs)
{
	struct xir *x = NULL;
	struct diag_list d;
	int r;

	diag_init(&d, "j.json", text, strlen(text));
	r = compile_source("j.json", text, strlen(text), NULL, &x, &d, NULL);
	*msgs = diag_format(&d);
	assert_non_null(*msgs);
	diag_free(&d);
	xir_free(x);
	return r;
}

/* A document whose node "a" (or link, or task) is renamed to name (JSON text). */
static void expect_bad_name(const char *what, const char *json_name, const char *want)
{
	char doc[1024], *msgs;
	int r;

	if (!strcmp(what, "device"))
		snprintf(doc, sizeof(doc),
			 "{\"version\": 1, \"name\": \"t\", \"nodes\": [{\"name\": \"%s\"}, "
			 "{\"name\": \"b\"}], \"links\": [{\"endpoints\": [{\"node\": \"%s\"}, "
			 "{\"node\": \"b\"}]}]}", json_name, json_name);
	else if (!strcmp(what, "link"))
		snprintf(doc, sizeof(doc), DOC("", "{\"name\": \"%s\", \"endpoints\": "
					       "[{\"node\": \"a\"}, {\"node\": \"b\"}]}", ""),
			 json_name);
	else
		snprintf(doc, sizeof(doc), DOC("", "{\"endpoints\": [{\"node\": \"a\"}, "
					       "{\"node\": \"b\"}]}",
					       "{\"name\": \"%s\", \"commands\": "
					       "[{\"node\": \"a\", \"cmd\": \"true\"}]}"),
			 json_name);
	r = compile_doc(doc, &msgs);
	if (!strstr(msgs, want))
		fail_msg("expected \"%s\" in:\n%s", want, msgs);
	/* nothing raw: no control character reaches the terminal */
	for (const char *p = msgs; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n')
			fail_msg("a raw control character 0x%02x in:\n%s", *p, msgs);
	free(msgs);
	assert_int_equal(r, -EINVAL);
}

static void test_read_bad_names(void **state)
{
	static const struct {
		const char *what, *json, *want;
	} cases[] = {
		{ "device", "../../../tmp/x",
		  "j.json: error: device '../../../tmp/x' is not a valid name: it starts with '.'" },
		{ "device", "a/b", "j.json: error: device 'a/b' is not a valid name: '/' is not allowed" },
		{ "device", "$(touch x)", "device '$(touch x)' is not a valid name: '$' is not allowed" },
		{ "device", "..", "device '..' is not a valid name: it starts with '.'" },
		{ "device", ".", "device '.' is not a valid name: it starts with '.'" },
		{ "device", "a b", "device 'a b' is not a valid name: a space is not allowed" },
		{ "device", "", "device '' is not a valid name: it is empty" },
		{ "device", "nl\\nx", "device 'nl\\nx' is not a valid name: '\\n' is not allowed" },
		{ "device", "-x", "device '-x' is not a valid name: it starts with '-'" },
		{ "device", "n234567890123456789012345678901234567890123456789012345678901234",
		  "is not a valid name: it is 64 characters long" },
		{ "link", "l\\u001b[31mred", "link 'l\\x1b[31mred' is not a valid name: '\\x1b' is not allowed" },
		{ "link", "a/b", "link 'a/b' is not a valid name: '/' is not allowed" },
		{ "task", "t\\u001b]0;title\\u0007", "task 't\\x1b]0;title\\x07' is not a valid name" },
		{ "task", "x y", "task 'x y' is not a valid name: a space is not allowed" },
		{ "task", "\\u00c2\\u009b2J", "task '\xc3\x82\\u009b2J' is not a valid name: '\\xc3' is not allowed" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_SIZE(cases); i++)
		expect_bad_name(cases[i].what, cases[i].json, cases[i].want);
}

/* Good names pass, the longest (63 characters) included. */
static void test_read_good_names(void **state)
{
	static const char doc[] =
		"{\"version\": 1, \"name\": \"t\", \"nodes\": [{\"name\": \"a.b-c_D9\"}, "
		"{\"name\": \"n23456789012345678901234567890123456789012345678901234567890123\"}], "
		"\"links\": [{\"name\": \"L.1\", \"endpoints\": [{\"node\": \"a.b-c_D9\"}, "
		"{\"node\": \"n23456789012345678901234567890123456789012345678901234567890123\"}]}], "
		"\"tasks\": [{\"name\": \"ping_1\", \"commands\": [{\"node\": \"a.b-c_D9\", "
		"\"cmd\": \"true\"}]}]}";
	char *msgs;

	(void)state;
	assert_int_equal(compile_doc(doc, &msgs), 0);
	assert_string_equal(msgs, "");
	free(msgs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_small),
		cmocka_unit_test(test_write_empty),
		cmocka_unit_test(test_write_layout_is_janssons),
		cmocka_unit_test(test_write_null_link_name),
		cmocka_unit_test(test_write_rejects_bad_utf8),
		cmocka_unit_test(test_write_rejects_nan),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_read_defaults),
		cmocka_unit_test(test_read_syntax_error),
		cmocka_unit_test(test_read_duplicate_key),
		cmocka_unit_test(test_read_version),
		cmocka_unit_test(test_read_unknown_property),
		cmocka_unit_test(test_read_unknown_node),
		cmocka_unit_test(test_read_bad_values),
		cmocka_unit_test(test_read_bad_structure),
		cmocka_unit_test(test_read_stops_when_full),
		cmocka_unit_test(test_read_with_full_list),
		cmocka_unit_test(test_read_keeps_out),
		cmocka_unit_test(test_read_bad_names),
		cmocka_unit_test(test_read_good_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
