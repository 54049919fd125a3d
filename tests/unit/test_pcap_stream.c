/* pcap_stream_parse (exec/pcap_stream.c): a stream cut at every byte,
 * both byte orders, and what is no pcap. */
#include "unit.h"

#include <byteswap.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pcap_stream.h"

/* A pcap of two frames (3 and 0 bytes) in buf, byte-swapped when swap:
 * its length. */
static size_t make(uint8_t *buf, bool swap)
{
	uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 9216, 1 };
	uint32_t r1[4] = { 100, 5, 3, 60 }, r2[4] = { 101, 999999, 0, 0 };
	size_t i;

	for (i = 0; swap && i < 6; i++)
		hdr[i] = bswap_32(hdr[i]);
	for (i = 0; swap && i < 4; i++)
		r1[i] = bswap_32(r1[i]), r2[i] = bswap_32(r2[i]);
	if (swap) /* the version's two halves are 16-bit: not looked at */
		hdr[1] = 0;
	memcpy(buf, hdr, 24);
	memcpy(buf + 24, r1, 16);
	memcpy(buf + 40, "abc", 3);
	memcpy(buf + 43, r2, 16);
	return 59;
}

static void test_stream(void **state)
{
	struct pcap_stream_rec rec;
	uint8_t buf[64];
	size_t len, cut;
	int sw, swap;

	(void)state;
	for (swap = 0; swap < 2; swap++) {
		len = make(buf, swap);
		sw = -1;
		for (cut = 0; cut < 24; cut++)
			assert_int_equal(pcap_stream_parse(buf, cut, &sw, &rec), 0);
		assert_int_equal(pcap_stream_parse(buf, len, &sw, &rec), 24);
		assert_null(rec.data);
		assert_int_equal(sw, swap);
		for (cut = 24; cut < 43; cut++)
			assert_int_equal(pcap_stream_parse(buf + 24, cut - 24, &sw, &rec), 0);
		assert_int_equal(pcap_stream_parse(buf + 24, len - 24, &sw, &rec), 19);
		assert_int_equal(rec.sec, 100);
		assert_int_equal(rec.usec, 5);
		assert_int_equal(rec.caplen, 3);
		assert_int_equal(rec.len, 60);
		assert_memory_equal(rec.data, "abc", 3);
		assert_int_equal(pcap_stream_parse(buf + 43, len - 43, &sw, &rec), 16);
		assert_int_equal(rec.usec, 999999);
		assert_int_equal(rec.caplen, 0);
	}
}

static void test_bad(void **state)
{
	struct pcap_stream_rec rec;
	uint8_t buf[64], bad[64];
	uint32_t v;
	int sw;

	(void)state;
	make(buf, false);
	memcpy(bad, buf, sizeof(bad));
	bad[0] ^= 1; /* no magic */
	sw = -1;
	assert_int_equal(pcap_stream_parse(bad, 59, &sw, &rec), -EPROTO);
	memcpy(bad, buf, sizeof(bad));
	bad[20] = 101; /* no Ethernet */
	sw = -1;
	assert_int_equal(pcap_stream_parse(bad, 59, &sw, &rec), -EPROTO);
	/* a frame's header: usec of a second, caplen above the limit, a
	 * length below caplen */
	for (int k = 0; k < 3; k++) {
		static const uint32_t at[] = { 4, 8, 12 }, val[] = { 1000000, PCAP_STREAM_MAX_FRAME + 1, 2 };

		memcpy(bad, buf, sizeof(bad));
		v = val[k];
		memcpy(bad + 24 + at[k], &v, 4);
		sw = 0;
		assert_int_equal(pcap_stream_parse(bad + 24, 35, &sw, &rec), -EPROTO);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
