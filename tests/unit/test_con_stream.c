/* test_con_stream: the console's stream parser, fed a command's transcript
 * cut at every byte boundary (and byte by byte): the output, the exit
 * status and the phase must not depend on the cuts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "con_stream.h"

#define PROMPT "__vtb_00aa11bb22cc33dd__# "
#define NONCE "00aa11bb22cc33ddx5"

/* What a guest prints for `printf 'a\r\nb'; exit 3`, with kernel noise,
 * the echo of the line (which must not match), a false end marker and
 * CRLF line ends. */
static const char transcript[] =
	"[    2.5] random: crng init done\r\n"
	"printf '__vtb_s%s__\\n' " NONCE "; (eval 'x')\r\n"
	"__vtb_s" NONCE "__\r\n"
	"line one\r\n"
	"a\rb\r\r\n"
	"__vtb_e" NONCE "_x__ is not the end\r\n"
	"last, no newline"
	"\r\n__vtb_e" NONCE "_3__\r\n" PROMPT "tail";
static const char expect_out[] = "line one\na\rb\r\n__vtb_e" NONCE "_x__ is not the end\nlast, no newline";

/* Feed the transcript in the pieces [0, cut) [cut, end) (or byte by byte
 * when cut is (size_t)-1) and check the result. */
static void run_cut(size_t cut)
{
	struct con_stream s;
	struct util_buf out;
	size_t len = strlen(transcript);
	int r = 0;

	util_buf_init(&out);
	con_stream_init(&s, PROMPT);
	con_stream_want_cmd(&s, NONCE, &out);
	if (cut == (size_t)-1) {
		for (size_t i = 0; i < len; i++)
			r = con_stream_feed(&s, (const uint8_t *)transcript + i, 1);
	} else {
		r = con_stream_feed(&s, (const uint8_t *)transcript, cut);
		r = con_stream_feed(&s, (const uint8_t *)transcript + cut, len - cut);
	}
	assert_int_equal(r, 1);
	assert_int_equal(s.phase, CON_DONE);
	assert_int_equal(s.status, 3);
	if (out.len != strlen(expect_out) || memcmp(out.s, expect_out, out.len))
		fail_msg("cut at %zu: output \"%.*s\"", cut, (int)out.len, out.s ? out.s : "");
	con_stream_free(&s);
	util_buf_free(&out);
}

static void test_every_cut(void **state)
{
	(void)state;
	for (size_t cut = 0; cut <= strlen(transcript); cut++)
		run_cut(cut);
	run_cut((size_t)-1);
}

/* Waiting for the prompt, cut at every byte; nothing else matches. */
static void test_prompt(void **state)
{
	static const char text[] = "login banner\r\n__vtb_00aa11bb22cc33dd__ # no\r\n" PROMPT;
	size_t len = strlen(text);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct con_stream s;

		con_stream_init(&s, PROMPT);
		con_stream_want_prompt(&s);
		assert_int_equal(con_stream_feed(&s, (const uint8_t *)text, cut), cut == len);
		assert_int_equal(con_stream_feed(&s, (const uint8_t *)text + cut, len - cut), 1);
		con_stream_free(&s);
	}
}

/* The end marker without its prompt yet: not done; the status is known. */
static void test_end_before_prompt(void **state)
{
	static const char text[] = "__vtb_s" NONCE "__\nout\n__vtb_e" NONCE "_0__\n";
	struct con_stream s;
	struct util_buf out;

	(void)state;
	util_buf_init(&out);
	con_stream_init(&s, PROMPT);
	con_stream_want_cmd(&s, NONCE, &out);
	assert_int_equal(con_stream_feed(&s, (const uint8_t *)text, strlen(text)), 0);
	assert_int_equal(s.phase, CON_END_PROMPT);
	assert_int_equal(s.status, 0);
	assert_string_equal(out.s, "out");
	assert_int_equal(con_stream_feed(&s, (const uint8_t *)PROMPT, strlen(PROMPT)), 1);
	con_stream_free(&s);
	util_buf_free(&out);
}

/* A CR held back at the end of a read (it may start a CRLF) right after
 * the end marker belongs to what follows: a prompt with a CR inside is
 * not the prompt, however the reads are cut (found by fuzz_console). */
static void test_cr_after_end_marker(void **state)
{
	static const char text[] = "__vtb_s" NONCE "__\nout\n__vtb_e" NONCE "_0____vtb_0\r0aa11bb22cc33dd__# ";
	size_t len = strlen(text);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct con_stream s;
		struct util_buf out;

		util_buf_init(&out);
		con_stream_init(&s, PROMPT);
		con_stream_want_cmd(&s, NONCE, &out);
		assert_int_equal(con_stream_feed(&s, (const uint8_t *)text, cut), 0);
		assert_int_equal(con_stream_feed(&s, (const uint8_t *)text + cut, len - cut), 0);
		assert_int_equal(s.phase, CON_END_PROMPT);
		con_stream_free(&s);
		util_buf_free(&out);
	}
}

/* Idle: bytes are dropped, nothing is kept. */
static void test_idle(void **state)
{
	struct con_stream s;

	(void)state;
	con_stream_init(&s, PROMPT);
	assert_int_equal(con_stream_feed(&s, (const uint8_t *)PROMPT, strlen(PROMPT)), 0);
	assert_int_equal(s.len, 0);
	con_stream_free(&s);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_prompt),
		cmocka_unit_test(test_end_before_prompt),
		cmocka_unit_test(test_cr_after_end_marker),
		cmocka_unit_test(test_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
