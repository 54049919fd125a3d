/* The lines of a host's part of a vtb run across hosts (exec/taskmsg.c):
 * each message made and parsed back, a result's bytes kept exactly (not
 * UTF-8, NUL included), and the shapes refused. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "taskmsg.h"

static const size_t cmds[2] = { 1, 3 };

/* Parse line (with its newline) into *m: the parser's return. */
static int parse(const char *line, struct taskmsg *m)
{
	return taskmsg_parse(line, strlen(line) - 1, 2, cmds, m);
}

static void test_messages(void **state)
{
	struct taskmsg m;
	char *l;

	(void)state;
	l = taskmsg_line(TASKMSG_HELLO, 0, 0, "h2");
	assert_int_equal(parse(l, &m), 0);
	assert_int_equal(m.kind, TASKMSG_HELLO);
	assert_string_equal(m.text, "h2");
	free(l);
	l = taskmsg_line(TASKMSG_CLOCK, 1796483681995911765LL, 0, NULL);
	assert_int_equal(parse(l, &m), 0);
	assert_int_equal(m.kind, TASKMSG_CLOCK);
	assert_true(m.num == 1796483681995911765LL);
	free(l);
	l = taskmsg_line(TASKMSG_DONE, -1, 1500000, NULL);
	assert_int_equal(parse(l, &m), 0);
	assert_int_equal(m.kind, TASKMSG_DONE);
	assert_int_equal(m.num, -1);
	assert_int_equal(m.late_ns, 1500000);
	free(l);
	l = taskmsg_line(TASKMSG_ERROR, 1, 0, "node 'b' is not running");
	assert_int_equal(parse(l, &m), 0);
	assert_int_equal(m.kind, TASKMSG_ERROR);
	assert_int_equal(m.num, 1);
	assert_string_equal(m.text, "node 'b' is not running");
	free(l);
}

static void test_result(void **state)
{
	char out[] = "ok\n\xff\x00tail", err[] = "";
	struct tasks_result v = { .task = 1, .cmd = 2, .start_ns = 1796483681995911765LL,
				  .end_ns = 1796483682000000000LL, .exit = 137,
				  .status = TASKS_TIMEOUT, .out = out, .outlen = sizeof(out) - 1,
				  .err = err, .errlen = 0 };
	struct taskmsg m;
	char *l = taskmsg_result(&v);

	(void)state;
	assert_non_null(l);
	assert_int_equal(parse(l, &m), 0);
	assert_int_equal(m.kind, TASKMSG_RESULT);
	assert_int_equal(m.res.task, 1);
	assert_int_equal(m.res.cmd, 2);
	assert_int_equal(m.res.exit, 137);
	assert_int_equal(m.res.status, TASKS_TIMEOUT);
	assert_true(m.res.start_ns == v.start_ns && m.res.end_ns == v.end_ns);
	assert_int_equal(m.res.outlen, v.outlen);
	assert_memory_equal(m.res.out, out, v.outlen);
	assert_int_equal(m.res.errlen, 0);
	free(m.res.out);
	free(m.res.err);
	free(l);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"ready\":2}", "{\"ready\":-1}", "{\"ready\":\"1\"}",
		"{\"hello\":\"h\",\"x\":1}", "{\"done\":0}", "{\"done\":2,\"late_ns\":0}",
		"{\"error\":\"x\"}", "{\"clock\":0}", "{\"ready\":1,\"ready\":1}", "{\"bogus\":1}",
		"{\"result\":{\"task\":0,\"cmd\":1,\"start_ns\":1,\"end_ns\":1,\"exit\":0,"
		"\"status\":\"ok\",\"out\":\"\",\"err\":\"\"}}",
		"{\"result\":{\"task\":1,\"cmd\":0,\"start_ns\":1,\"end_ns\":1,\"exit\":256,"
		"\"status\":\"ok\",\"out\":\"\",\"err\":\"\"}}",
		"{\"result\":{\"task\":1,\"cmd\":0,\"start_ns\":1,\"end_ns\":1,\"exit\":0,"
		"\"status\":\"fine\",\"out\":\"\",\"err\":\"\"}}",
		"{\"result\":{\"task\":1,\"cmd\":0,\"start_ns\":1,\"end_ns\":1,\"exit\":0,"
		"\"status\":\"ok\",\"out\":\"a\",\"err\":\"\"}}",
		"{\"result\":{\"task\":1,\"cmd\":0,\"start_ns\":1,\"end_ns\":1,\"exit\":0,"
		"\"status\":\"ok\",\"out\":\"\",\"err\":\"\",\"x\":0}}",
	};
	struct taskmsg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (taskmsg_parse(bad[i], strlen(bad[i]), 2, cmds, &m) != -EPROTO)
			fail_msg("case %zu accepted: %s", i, bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
