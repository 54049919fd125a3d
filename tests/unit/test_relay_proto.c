/* The relay's frames and requests (cluster/relay_proto.c): what they
 * accept, what they refuse, a stream cut at every byte, and the
 * whitelist of commands a host runs for another. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relay_proto.h"
#include "util.h"

static void test_frames(void **state)
{
	uint8_t buf[64], *p = buf;
	struct relay_frame f;
	size_t used, at, cut;

	(void)state;
	relay_frame_head(RELAY_STDOUT, 3, p);
	memcpy(p + RELAY_HEAD, "abc", 3);
	p += RELAY_HEAD + 3;
	relay_frame_head(RELAY_EOF, 0, p);
	p += RELAY_HEAD;
	relay_frame_head(RELAY_EXIT, 4, p);
	memcpy(p + RELAY_HEAD, "\0\0\0\x07", 4);
	p += RELAY_HEAD + 4;
	/* every prefix of the first frame is incomplete; the whole stream parses */
	for (cut = 0; cut < RELAY_HEAD + 3; cut++)
		assert_int_equal(relay_frame_next(buf, cut, &f, &used), -EAGAIN);
	at = 0;
	assert_int_equal(relay_frame_next(buf + at, (size_t)(p - buf) - at, &f, &used), 0);
	assert_int_equal(f.type, RELAY_STDOUT);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.data, "abc", 3);
	at += used;
	assert_int_equal(relay_frame_next(buf + at, (size_t)(p - buf) - at, &f, &used), 0);
	assert_int_equal(f.type, RELAY_EOF);
	at += used;
	assert_int_equal(relay_frame_next(buf + at, (size_t)(p - buf) - at, &f, &used), 0);
	assert_int_equal(f.type, RELAY_EXIT);
	assert_int_equal(relay_u32(f.data), 7);
	at += used;
	assert_int_equal(at, (size_t)(p - buf));
}

/* Each bad frame head is refused, whatever follows. */
static void test_bad_frames(void **state)
{
	static const uint8_t bad[][9] = {
		{ 0, 0, 0, 0, 0 },                    /* type 0 */
		{ 9, 0, 0, 0, 0 },                    /* unknown type */
		{ RELAY_EOF, 0, 0, 0, 1, 'x' },       /* EOF with a payload */
		{ RELAY_WINCH, 0, 0, 0, 3, 1, 2, 3 }, /* WINCH of 3 bytes */
		{ RELAY_EXIT, 0, 0, 0, 4, 0, 0, 1, 0 }, /* status 256 */
		{ RELAY_STDIN, 0, 1, 0, 1 },          /* 65537 bytes */
		{ RELAY_STDIN, 0xff, 0xff, 0xff, 0xff },
	};
	struct relay_frame f;
	size_t i, used;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (relay_frame_next(bad[i], sizeof(bad[i]), &f, &used) != -EPROTO)
			fail_msg("case %zu accepted", i);
}

static void test_request(void **state)
{
	char *argv[] = { "exec", "demo", "a", "--", "sh", "-c", "", NULL };
	struct relay_req r;
	uint8_t *p = NULL;
	size_t len, i;

	(void)state;
	assert_int_equal(relay_req_encode(true, 24, 80, 7, argv, &p, &len), 0);
	assert_int_equal(relay_req_parse(p, len, &r), 0);
	assert_true(r.tty);
	assert_int_equal(r.rows, 24);
	assert_int_equal(r.cols, 80);
	assert_int_equal(r.argc, 7);
	for (i = 0; i < 7; i++)
		assert_string_equal(r.argv[i], argv[i]);
	assert_null(r.argv[7]);
	relay_req_free(&r);
	/* a cut inside a word is refused (no final NUL); one after a word is a
	 * shorter request. A bad version or flag is refused. */
	for (i = 0; i < len - 1; i++) {
		int k = relay_req_parse(p, i, &r);

		assert_int_equal(k, i > 7 && p[i - 1] == '\0' ? 0 : -EPROTO);
		relay_req_free(&r);
	}
	p[0] = 2;
	assert_int_equal(relay_req_parse(p, len, &r), -EPROTO);
	p[0] = RELAY_VERSION;
	p[1] = 2;
	assert_int_equal(relay_req_parse(p, len, &r), -EPROTO);
	p[1] = 0;
	p[6] = '\0'; /* an empty command name */
	assert_int_equal(relay_req_parse(p, len, &r), -EPROTO);
	free(p);
}

static void test_allowed(void **state)
{
	static const struct {
		const char *words[3];
		int r;
	} cases[] = {
		{ { "exec", "demo", "a" }, 0 },
		{ { "link", "set", "demo" }, 0 },
		{ { "link", "down", "demo" }, 0 },
		{ { "node", "stop", "demo" }, 0 },
		{ { "capture", "demo", "ab" }, 0 },
		{ { "status", "demo", "--json" }, 0 },
		{ { "run", "demo", "--serve" }, 0 },
		{ { "down", "demo", "x" }, -EPERM },
		{ { "up", "/etc/x.vtb", "x" }, -EPERM },
		{ { "link", "delete", "demo" }, -EPERM },
		{ { "cluster", "leave", "x" }, -EPERM },
		{ { "__supervise", "x", "x" }, -EPERM },
	};
	char err[UTIL_ERR_LEN];
	struct relay_req r;
	uint8_t *p;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(relay_req_encode(false, 0, 0, 3, (char **)cases[i].words, &p, &len), 0);
		assert_int_equal(relay_req_parse(p, len, &r), 0);
		err[0] = '\0';
		if (relay_req_allowed(&r, err) != cases[i].r)
			fail_msg("case %zu (%s %s)", i, cases[i].words[0], cases[i].words[1]);
		if (cases[i].r && !strstr(err, "is not relayed"))
			fail_msg("case %zu: '%s'", i, err);
		relay_req_free(&r);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
