/* test_emu_gso: a VM's GSO frames cut into wire frames, and partial
 * checksums completed (emu/emu_gso.h). Checksums are verified with a
 * plain big-endian word sum of their own. */
#include "unit.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "emu_gso.h"

#define PAYLOAD 4000u
#define MSS     1448u

/* The big-endian ones' complement sum of n bytes, plus acc, folded. */
static uint32_t be_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* Is the L4 checksum of the frame (IP at l3, L4 at l4, len bytes) valid? */
static bool l4_ok(const uint8_t *f, size_t len, uint32_t l3, uint32_t l4, bool v6, uint8_t proto)
{
	uint32_t l4len = (uint32_t)len - l4, acc;

	acc = be_sum(f + l3 + (v6 ? 8 : 12), v6 ? 32 : 8, 0);
	acc = be_sum((const uint8_t[]){ 0, proto, (uint8_t)(l4len >> 8), (uint8_t)l4len }, 4, acc);
	return be_sum(f + l4, l4len, acc) == 0xffff;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A GSO frame of PAYLOAD bytes: Ethernet, IPv4 or IPv6, TCP (FIN, PSH and
 * CWR set, as a guest's last write of a burst might) or UDP; returns its
 * length. The L4 checksum field holds junk: a GSO frame's is partial. */
static size_t mk_frame(uint8_t *f, bool v6, uint8_t proto)
{
	uint32_t l3 = 14, l4 = l3 + (v6 ? 40 : 20), hl = proto == IPPROTO_TCP ? 20 : 8, i;

	memset(f, 0, l4 + hl);
	memset(f, 0xaa, 12);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[l3] = 0x60;
		f[l3 + 6] = proto;
		f[l3 + 7] = 64;
		for (i = 0; i < 32; i++)
			f[l3 + 8 + i] = (uint8_t)(i * 7 + 1);
	} else {
		f[l3] = 0x45;
		f[l3 + 4] = 0x12; /* id 0x1234 */
		f[l3 + 5] = 0x34;
		f[l3 + 6] = 0x40; /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = proto;
		memcpy(f + l3 + 12, (const uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	}
	f[l4] = 0x13;
	f[l4 + 3] = 0x89;
	if (proto == IPPROTO_TCP) {
		f[l4 + 4] = 0xff; /* seq 0xfffffa00: it wraps */
		f[l4 + 5] = 0xff;
		f[l4 + 6] = 0xfa;
		f[l4 + 12] = 5 << 4;
		f[l4 + 13] = 0x80 | 0x10 | 0x08 | 0x01; /* CWR ACK PSH FIN */
		f[l4 + 16] = 0x5a;
	}
	for (i = 0; i < PAYLOAD; i++)
		f[l4 + hl + i] = (uint8_t)(i * 13 + 5);
	return l4 + hl + PAYLOAD;
}

/* Cut a frame of kind (v6, proto) and check every segment. */
static void check_cut(bool v6, uint8_t proto, uint8_t gso_type)
{
	uint8_t *f = malloc(EMU_GSO_FRAME_MAX), seg[2048];
	size_t len = mk_frame(f, v6, proto);
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = gso_type,
				     .gso_size = MSS };
	struct emu_gso g;
	uint32_t i, got = 0, hl = proto == IPPROTO_TCP ? 20 : 8;

	assert_non_null(f);
	assert_true(emu_gso_needed(&vh));
	assert_int_equal(emu_gso_parse(&vh, f, len, &g), 0);
	assert_int_equal(g.nseg, 3);
	assert_int_equal(g.hlen, 14 + (v6 ? 40 : 20) + hl);
	for (i = 0; i < g.nseg; i++) {
		uint32_t n = emu_gso_segment(&g, f, i, seg), pay = n - g.hlen;
		const uint8_t *th = seg + g.l4;

		assert_int_equal(pay, i < 2 ? MSS : PAYLOAD - 2 * MSS);
		assert_memory_equal(seg + g.hlen, f + g.hlen + got, pay);
		if (v6) {
			assert_int_equal(rd16(seg + 14 + 4), n - 14 - 40);
		} else {
			assert_int_equal(rd16(seg + 14 + 2), n - 14);
			assert_int_equal(rd16(seg + 14 + 4), 0x1234 + i);
			assert_int_equal(be_sum(seg + 14, 20, 0), 0xffff);
		}
		assert_true(l4_ok(seg, n, 14, g.l4, v6, proto));
		if (proto == IPPROTO_TCP) {
			uint32_t seq = (uint32_t)th[4] << 24 | th[5] << 16 | th[6] << 8 | th[7];

			assert_int_equal(seq, (uint32_t)(0xfffffa00u + got));
			assert_int_equal(th[13] & 0x09, i == 2 ? 0x09 : 0); /* FIN PSH */
			assert_int_equal(th[13] & 0x80, i == 0 ? 0x80 : 0); /* CWR */
			assert_int_equal(th[13] & 0x10, 0x10);
		} else {
			assert_int_equal(rd16(th + 4), 8 + pay);
		}
		got += pay;
	}
	assert_int_equal(got, PAYLOAD);
	free(f);
}

static void test_tcp4(void **state)
{
	(void)state;
	check_cut(false, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4);
	check_cut(false, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN);
}

static void test_tcp6(void **state)
{
	(void)state;
	check_cut(true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV6);
}

static void test_udp_l4(void **state)
{
	(void)state;
	check_cut(false, IPPROTO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4);
	check_cut(true, IPPROTO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4);
}

/* A frame with a partial checksum: the field holds the pseudo-header's
 * sum (the kernel's convention), completed to a valid checksum. */
static void test_csum(void **state)
{
	uint8_t *f = malloc(EMU_GSO_FRAME_MAX);
	size_t len;
	uint32_t l4len, ph;
	uint16_t c;

	(void)state;
	assert_non_null(f);
	len = mk_frame(f, false, IPPROTO_TCP) - PAYLOAD + 333; /* odd length */
	l4len = (uint32_t)len - 34;
	ph = be_sum(f + 26, 8, 0);
	ph = be_sum((const uint8_t[]){ 0, IPPROTO_TCP, (uint8_t)(l4len >> 8), (uint8_t)l4len }, 4, ph);
	f[34 + 16] = (uint8_t)(ph >> 8);
	f[34 + 17] = (uint8_t)ph;
	assert_int_equal(emu_gso_csum(f, len, 34, 16), 0);
	assert_true(l4_ok(f, len, 14, 34, false, IPPROTO_TCP));
	memcpy(&c, f + 34 + 16, 2);
	assert_int_not_equal(c, 0);
	assert_int_equal(emu_gso_csum(f, len, (uint32_t)len - 1, 0), -EINVAL);
	free(f);
}

/* What cannot be cut is refused, not read past its end. */
static void test_refused(void **state)
{
	uint8_t *f = malloc(EMU_GSO_FRAME_MAX);
	size_t len;
	struct virtio_net_hdr vh = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = MSS };
	struct virtio_net_hdr none = { 0 };
	struct emu_gso g;

	(void)state;
	assert_non_null(f);
	assert_false(emu_gso_needed(&none));
	len = mk_frame(f, false, IPPROTO_TCP);
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP; /* UFO: IP fragments, not cut here */
	assert_int_equal(emu_gso_parse(&vh, f, len, &g), -EOPNOTSUPP);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* the frame is IPv4 */
	assert_int_equal(emu_gso_parse(&vh, f, len, &g), -EINVAL);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = 0;
	assert_int_equal(emu_gso_parse(&vh, f, len, &g), -EINVAL);
	vh.gso_size = MSS;
	assert_int_equal(emu_gso_parse(&vh, f, 54, &g), -EINVAL); /* headers only */
	assert_int_equal(emu_gso_parse(&vh, f, 40, &g), -EINVAL); /* a cut TCP header */
	assert_int_equal(emu_gso_parse(&vh, f, 13, &g), -EINVAL);
	f[34 + 12] = 2 << 4; /* a TCP header of 8 bytes */
	assert_int_equal(emu_gso_parse(&vh, f, len, &g), -EINVAL);
	len = mk_frame(f, true, IPPROTO_TCP);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	f[14 + 6] = 0; /* a hop-by-hop extension header */
	assert_int_equal(emu_gso_parse(&vh, f, len, &g), -EOPNOTSUPP);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_udp_l4),
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
