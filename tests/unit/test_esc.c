/* test_esc: user text escaped for a terminal (lib/esc.h), and cut to fit. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "esc.h"

static void expect(const char *in, const char *want)
{
	char buf[ESC_NAME_BUF];
	struct util_buf b;

	assert_string_equal(esc_str(buf, sizeof(buf), in), want);
	util_buf_init(&b);
	esc_append(&b, in, strlen(in));
	assert_false(b.oom);
	assert_string_equal(b.s ? b.s : "", want);
	util_buf_free(&b);
}

static void test_escapes(void **state)
{
	(void)state;
	expect("plain-name_1.x", "plain-name_1.x");
	expect("", "");
	expect("nl\nx", "nl\\nx");
	expect("a\tb\rc", "a\\tb\\rc");
	expect("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	expect("\x1b]0;title\x07", "\\x1b]0;title\\x07");
	expect("del\x7f", "del\\x7f");
	expect("c1 \xc2\x9b" "2J", "c1 \\u009b2J");      /* CSI as U+009B */
	expect("bad \xff\xfe utf8", "bad \\xff\\xfe utf8"); /* not UTF-8 */
	expect("\xc0\xaf", "\\xc0\\xaf");                   /* overlong '/' */
	expect("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* a surrogate */
	expect("cut \xe2\x82", "cut \\xe2\\x82");           /* a sequence cut short */
	expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	expect("back\\slash", "back\\slash");               /* kept: escaping twice is a no-op */
	assert_string_equal(esc_str((char[8]){ 0 }, 8, NULL), "");
}

/* A result that does not fit is cut between pieces and ends in "...". */
static void test_cut(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(esc_str(buf, sizeof(buf), "abcdefg"), "abcdefg");
	assert_string_equal(esc_str(buf, sizeof(buf), "abcdefgh"), "abcd...");
	assert_string_equal(esc_str(buf, sizeof(buf), "ab\ncdefgh"), "ab\\n...");
	assert_string_equal(esc_str(buf, sizeof(buf), "abc\x1b" "defgh"), "abc...");
	assert_string_equal(esc_str(buf, sizeof(buf), "\x1b\x1b"), "\\x1b...");
	assert_string_equal(esc_str(buf, sizeof(buf), "a\xe2\x82\xac" "cdef"), "a\xe2\x82\xac...");
	assert_string_equal(esc_str(buf, sizeof(buf), "ab\xe2\x82\xac" "cdef"), "ab..."); /* not half a character */
	assert_string_equal(esc_str(buf, 4, "abcdef"), "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
