/* An experiment's document in etcd (cluster/cldoc.c), without etcd:
 * packing into pieces and back for a host, every check of what comes back
 * (sizes, CRC, a damaged piece), the head's strict parser, and a document
 * of 100,000 nodes whose pieces each fit in an etcd request. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cldoc.h"
#include "util.h"

static const char doc[] = "{\"version\":1,\"name\":\"demo\",\"id\":\"3a7f\",\"hosts\":"
			  "{\"h1\":\"10.0.0.1\",\"h2\":\"10.0.0.2\"},\"place\":[\"h1\",\"h2\"]}";

/* Pack doc into pieces of piece bytes, unpack it for host: 0 or why not. */
static int roundtrip(const char *d, size_t len, size_t piece, const char *host, char **out,
		     size_t *olen, struct cldoc_head *h)
{
	char err[UTIL_ERR_LEN];
	uint8_t *z = NULL;
	size_t zlen;
	int r;

	memset(h, 0, sizeof(*h));
	r = cldoc_pack(d, len, piece, &z, &zlen, h);
	if (!r) {
		snprintf(h->host, sizeof(h->host), "%s", host);
		r = cldoc_unpack(h, z, zlen, out, olen, err);
	}
	free(z);
	return r;
}

static void test_roundtrip(void **state)
{
	struct cldoc_head h;
	char *out = NULL, want[512];
	size_t olen;

	(void)state;
	assert_int_equal(roundtrip(doc, strlen(doc), 7, "h2", &out, &olen, &h), 0);
	snprintf(want, sizeof(want), "{\"host\":\"h2\",%s", doc + 1);
	assert_string_equal(out, want);
	assert_int_equal(olen, strlen(want));
	assert_int_equal(h.bytes, strlen(doc));
	assert_int_equal(h.parts, (h.zbytes + 6) / 7);
	free(out);
	/* one member only; not an object; empty */
	assert_int_equal(roundtrip("{\"a\":1}", 7, 100, "h1", &out, &olen, &h), 0);
	assert_string_equal(out, "{\"host\":\"h1\",\"a\":1}");
	free(out);
	assert_int_equal(roundtrip("[1,2]", 5, 100, "h1", &out, &olen, &h), -EINVAL);
	assert_int_equal(roundtrip("{}", 2, 100, "h1", &out, &olen, &h), -EINVAL);
}

/* What comes back is checked: its compressed size, a damaged byte, its
 * size and its CRC as the head says. */
static void test_checked(void **state)
{
	struct cldoc_head h = { .host = "h1" };
	char err[UTIL_ERR_LEN], *out = NULL;
	uint8_t *z = NULL;
	size_t zlen, olen, i;
	int bad = 0;

	(void)state;
	assert_int_equal(cldoc_pack(doc, strlen(doc), 64, &z, &zlen, &h), 0);
	assert_int_equal(cldoc_unpack(&h, z, zlen - 1, &out, &olen, err), -EBADMSG);
	assert_non_null(strstr(err, "not the"));
	h.crc32 ^= 1;
	assert_int_equal(cldoc_unpack(&h, z, zlen, &out, &olen, err), -EBADMSG);
	assert_non_null(strstr(err, "CRC-32"));
	h.crc32 ^= 1;
	h.bytes--;
	assert_int_equal(cldoc_unpack(&h, z, zlen, &out, &olen, err), -EBADMSG);
	h.bytes++;
	/* every byte damaged in turn: never accepted as the document */
	for (i = 0; i < zlen; i++) {
		z[i] ^= 0x5a;
		if (cldoc_unpack(&h, z, zlen, &out, &olen, err) == -EBADMSG)
			bad++;
		else
			free(out);
		z[i] ^= 0x5a;
	}
	assert_int_equal(bad, (int)zlen);
	assert_int_equal(cldoc_unpack(&h, z, zlen, &out, &olen, err), 0);
	free(out);
	free(z);
}

static void test_head(void **state)
{
	struct cldoc_head h = { .host = "h7", .parts = 2, .bytes = 15500000, .zbytes = 1300000,
				.crc32 = 4000000000u }, back;
	char err[UTIL_ERR_LEN], *text = cldoc_head_dump(&h);
	static const char *const bad[] = {
		"{\"host\":\"h1\",\"parts\":1,\"bytes\":10,\"zbytes\":5}",
		"{\"host\":\"h1\",\"parts\":1,\"bytes\":10,\"zbytes\":5,\"crc32\":1,\"x\":0}",
		"{\"host\":\"h1\",\"parts\":0,\"bytes\":10,\"zbytes\":5,\"crc32\":1}",
		"{\"host\":\"h1\",\"parts\":1,\"bytes\":-10,\"zbytes\":5,\"crc32\":1}",
		"{\"host\":\"h1\",\"parts\":1,\"bytes\":10,\"zbytes\":5,\"crc32\":4294967296}",
		"{\"host\":\"h 1\",\"parts\":1,\"bytes\":10,\"zbytes\":5,\"crc32\":1}",
		"{\"host\":\"h1\",\"parts\":1,\"parts\":1,\"bytes\":10,\"zbytes\":5,\"crc32\":1}",
		"{\"host\":\"h1\",\"parts\":1,\"bytes\":10,\"zbytes\":\"5\",\"crc32\":1}",
		"{\"host\":\"h1\",\"parts\":1,\"bytes\":2000000000,\"zbytes\":5,\"crc32\":1}",
		"[]",
		"",
	};

	(void)state;
	assert_non_null(text);
	assert_int_equal(cldoc_head_parse(text, strlen(text), &back, err), 0);
	assert_string_equal(back.host, "h7");
	assert_int_equal(back.parts, 2);
	assert_int_equal(back.bytes, 15500000);
	assert_int_equal(back.zbytes, 1300000);
	assert_int_equal(back.crc32, 4000000000u);
	free(text);
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++)
		assert_int_equal(cldoc_head_parse(bad[i], strlen(bad[i]), &back, err), -EPROTO);
}

/* A fragment document of n nodes in a ring as vtb up writes it (the
 * compact XIR's shape: a node and a link each about 155 bytes), into
 * buf. */
static void ring_doc(struct util_buf *b, size_t n)
{
	size_t i;

	util_buf_printf(b, "{\"version\":1,\"name\":\"ring\",\"id\":\"3a7f\",\"hosts\":{");
	for (i = 0; i < 100; i++)
		util_buf_printf(b, "%s\"h%zu\":\"10.0.%zu.%zu\"", i ? "," : "", i, i / 250, i % 250 + 1);
	util_buf_printf(b, "},\"place\":[");
	for (i = 0; i < n; i++)
		util_buf_printf(b, "%s\"h%zu\"", i ? "," : "", i * 100 / n);
	util_buf_printf(b, "],\"vni\":[");
	for (i = 0; i < n; i++)
		util_buf_printf(b, "%s%zu", i ? "," : "", (i + 1) % (n / 100) ? (size_t)0 : i + 4096);
	util_buf_printf(b, "],\"xir\":{\"version\":1,\"name\":\"ring\",\"nodes\":[");
	for (i = 0; i < n; i++)
		util_buf_printf(b, "%s{\"name\":\"d%zu\",\"kind\":\"container\",\"image\":\"default\","
				"\"cores\":1000,\"memory\":67108864,\"line\":%zu}", i ? "," : "", i, i + 2);
	util_buf_printf(b, "],\"links\":[");
	for (i = 0; i < n; i++)
		util_buf_printf(b, "%s{\"name\":\"d%zu-d%zu\",\"kind\":\"emulated\",\"ep\":[{\"node\":"
				"%zu},{\"node\":%zu}],\"latency\":1000000,\"rate\":100000000}",
				i ? "," : "", i, (i + 1) % n, i, (i + 1) % n);
	util_buf_printf(b, "]}}");
}

/* 100,000 nodes: the document is far over etcd's 1.5 MiB request limit,
 * its pieces each within CLDOC_PIECE_MAX, and it comes back whole. */
static void test_large(void **state)
{
	struct util_buf b;
	struct cldoc_head h;
	char *out = NULL;
	size_t olen;

	(void)state;
	util_buf_init(&b);
	ring_doc(&b, 100000);
	assert_false(b.oom);
	assert_true(b.len > 15u << 20);
	assert_int_equal(roundtrip(b.s, b.len, CLDOC_PIECE_MAX, "h42", &out, &olen, &h), 0);
	assert_true(h.zbytes < (uint64_t)h.parts * CLDOC_PIECE_MAX);
	assert_true(h.parts <= 3);
	assert_int_equal(olen, b.len + strlen("\"host\":\"h42\","));
	assert_memory_equal(out + strlen("{\"host\":\"h42\","), b.s + 1, b.len - 1);
	print_message("100,000 nodes: %zu bytes, %llu compressed, %u piece(s)\n", b.len,
		      (unsigned long long)h.zbytes, h.parts);
	free(out);
	util_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_checked),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
