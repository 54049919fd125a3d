/* test_qmp_stream: the QMP stream parser: split reads, several messages
 * in one read, events before the reply, errors, malformed lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "qmp_stream.h"

static const char greeting[] =
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 8}}, \"capabilities\": []}}\r\n";
static const char event[] = "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESUME\"}\r\n";
static const char reply7[] = "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 7}\r\n";

static void feed(struct qmp_stream *s, const char *text)
{
	assert_int_equal(qmp_stream_feed(s, (const uint8_t *)text, strlen(text)), 0);
}

/* The whole text, cut at every byte: the greeting, then the reply. */
static void test_split_reads(void **state)
{
	char text[1024];
	size_t len;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), "%s%s%s", greeting, event, reply7);
	for (size_t cut = 0; cut <= len; cut++) {
		struct qmp_stream s;
		json_t *msg = NULL, *ret = NULL;

		qmp_stream_init(&s);
		assert_int_equal(qmp_stream_feed(&s, (const uint8_t *)text, cut), 0);
		if (cut < strlen(greeting))
			assert_int_equal(qmp_stream_next(&s, &msg), 0);
		assert_int_equal(qmp_stream_feed(&s, (const uint8_t *)text + cut, len - cut), 0);
		if (cut < strlen(greeting)) {
			assert_int_equal(qmp_stream_next(&s, &msg), 1);
			assert_non_null(json_object_get(msg, "QMP"));
			json_decref(msg);
		}
		assert_int_equal(qmp_stream_reply(&s, 7, &ret), 0);
		assert_string_equal(json_string_value(json_object_get(ret, "status")), "running");
		json_decref(ret);
		assert_int_equal(qmp_stream_reply(&s, 7, &ret), -EAGAIN);
		qmp_stream_free(&s);
	}
}

/* Byte by byte: the reply is there only after its newline. */
static void test_byte_by_byte(void **state)
{
	struct qmp_stream s;
	json_t *ret = NULL;
	size_t len = strlen(reply7);

	(void)state;
	qmp_stream_init(&s);
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(qmp_stream_reply(&s, 7, &ret), -EAGAIN);
		assert_int_equal(qmp_stream_feed(&s, (const uint8_t *)reply7 + i, 1), 0);
	}
	assert_int_equal(qmp_stream_reply(&s, 7, &ret), 0);
	json_decref(ret);
	qmp_stream_free(&s);
}

/* Events and replies to other ids before ours, several in one read. */
static void test_events_first(void **state)
{
	struct qmp_stream s;
	json_t *ret = NULL;

	(void)state;
	qmp_stream_init(&s);
	feed(&s, event);
	feed(&s, "{\"return\": {}, \"id\": 6}\n");
	feed(&s, event);
	feed(&s, reply7);
	feed(&s, event);
	assert_int_equal(qmp_stream_reply(&s, 7, &ret), 0);
	assert_true(json_is_true(json_object_get(ret, "running")));
	json_decref(ret);
	assert_int_equal(qmp_stream_reply(&s, 7, &ret), -EAGAIN);
	assert_null(ret);
	qmp_stream_free(&s);
}

static void test_error_reply(void **state)
{
	struct qmp_stream s;
	json_t *ret = NULL;

	(void)state;
	qmp_stream_init(&s);
	feed(&s, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such device\"}, \"id\": 3}\n");
	assert_int_equal(qmp_stream_reply(&s, 3, &ret), -EREMOTEIO);
	assert_string_equal(json_string_value(json_object_get(ret, "class")), "GenericError");
	json_decref(ret);
	/* a reply to our id with neither "return" nor "error" */
	feed(&s, "{\"id\": 4}\n");
	assert_int_equal(qmp_stream_reply(&s, 4, &ret), -EPROTO);
	assert_null(ret);
	qmp_stream_free(&s);
}

/* A line that is not a JSON object is refused and skipped; blank lines
 * are skipped silently. */
static void test_malformed(void **state)
{
	struct qmp_stream s;
	json_t *msg = NULL, *ret = NULL;

	(void)state;
	qmp_stream_init(&s);
	feed(&s, "garbage\n\r\n  \n[1, 2]\n");
	feed(&s, reply7);
	assert_int_equal(qmp_stream_next(&s, &msg), -EPROTO);
	assert_null(msg);
	assert_int_equal(qmp_stream_next(&s, &msg), -EPROTO);
	assert_int_equal(qmp_stream_reply(&s, 7, &ret), 0);
	json_decref(ret);
	qmp_stream_free(&s);
}

static void test_line_too_long(void **state)
{
	struct qmp_stream s;
	size_t n = QMP_LINE_MAX + 1;
	uint8_t *big = malloc(n);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	qmp_stream_init(&s);
	assert_int_equal(qmp_stream_feed(&s, big, n), -EMSGSIZE);
	qmp_stream_free(&s);
	free(big);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_reads),   cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_events_first),  cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_malformed),     cmocka_unit_test(test_line_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
