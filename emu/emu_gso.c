/* emu_gso: GSO frames made into wire frames (see emu_gso.h). The
 * virtio-net header of a packet socket is in the host's byte order (the
 * kernel's vio_le(): virtio's legacy layout, native on this host). */
#include "emu_gso.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define ETH_HLEN_    14u
#define IP4_HLEN_MIN 20u
#define IP6_HLEN     40u
#define TCP_HLEN_MIN 20u
#define UDP_HLEN     8u
#define TCP_FIN      0x01u
#define TCP_PSH      0x08u
#define TCP_CWR      0x80u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The ones' complement sum of n bytes, in the host's order (RFC 1071: the
 * order of the words does not change the sum, only the bytes of the
 * result), added to acc. Each call but the last must cover an even n. */
static uint64_t sum_add(uint64_t acc, const uint8_t *p, size_t n)
{
	uint32_t w;
	uint16_t h = 0;

	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		h = 0;
		memcpy(&h, p, 1); /* the last byte, padded with a zero after it */
		acc += h;
	}
	return acc;
}

/* The checksum of the sum acc, to store as it is (in the host's order). */
static uint16_t sum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)~acc;
}

bool emu_gso_needed(const struct virtio_net_hdr *vh)
{
	return vh->gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	       (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

int emu_gso_csum(uint8_t *frame, size_t len, uint32_t start, uint32_t off)
{
	uint16_t c;

	if ((size_t)start + off + 2 > len)
		return -EINVAL;
	c = sum_fold(sum_add(0, frame + start, len - start));
	if (!c)
		c = 0xffff; /* a UDP checksum of 0 means none; for TCP the same */
	memcpy(frame + start + off, &c, 2);
	return 0;
}

/* The offset of the IP header after the Ethernet header and its tags, and
 * the ethertype there; 0 when the frame is too short. */
static uint32_t l3_find(const uint8_t *frame, size_t len, uint16_t *type)
{
	uint32_t off = 12;
	int tags = 0;

	while (off + 2 <= len) {
		*type = rd16(frame + off);
		if ((*type != 0x8100 && *type != 0x88a8) || tags == 2)
			return off + 2;
		off += 4;
		tags++;
	}
	return 0;
}

/* g's IP header (l3 set, the ethertype type): l4 and proto; 0 or a
 * negative errno. */
static int l3_parse(const uint8_t *frame, size_t len, uint16_t type, struct emu_gso *g)
{
	const uint8_t *ip = frame + g->l3;

	if (type == 0x0800 && !g->v6) {
		uint32_t ihl;

		if (g->l3 + IP4_HLEN_MIN > len)
			return -EINVAL;
		ihl = (ip[0] & 0xfu) * 4u;
		if (ip[0] >> 4 != 4 || ihl < IP4_HLEN_MIN)
			return -EINVAL;
		g->l4 = g->l3 + ihl;
		return ip[9] == g->proto ? 0 : -EINVAL;
	}
	if (type == 0x86dd && g->v6) {
		if (g->l3 + IP6_HLEN > len || ip[0] >> 4 != 6)
			return -EINVAL;
		g->l4 = g->l3 + IP6_HLEN;
		return ip[6] == g->proto ? 0 : -EOPNOTSUPP; /* extension headers */
	}
	return -EINVAL;
}

int emu_gso_parse(const struct virtio_net_hdr *vh, const uint8_t *frame, size_t len,
		  struct emu_gso *g)
{
	uint16_t type = 0;
	int r;

	memset(g, 0, sizeof(*g));
	switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4: g->proto = IPPROTO_TCP; break;
	case VIRTIO_NET_HDR_GSO_TCPV6: g->proto = IPPROTO_TCP; g->v6 = true; break;
	case VIRTIO_NET_HDR_GSO_UDP_L4: g->proto = IPPROTO_UDP; break;
	default: return -EOPNOTSUPP;
	}
	if (len > EMU_GSO_FRAME_MAX || !vh->gso_size)
		return -EINVAL;
	g->l3 = l3_find(frame, len, &type);
	if (!g->l3)
		return -EINVAL;
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4)
		g->v6 = type == 0x86dd;
	r = l3_parse(frame, len, type, g);
	if (r)
		return r;
	if (g->proto == IPPROTO_TCP) {
		uint32_t thl;

		if (g->l4 + TCP_HLEN_MIN > len)
			return -EINVAL;
		thl = (frame[g->l4 + 12] >> 4) * 4u;
		if (thl < TCP_HLEN_MIN)
			return -EINVAL;
		g->hlen = g->l4 + thl;
	} else {
		g->hlen = g->l4 + UDP_HLEN;
	}
	if (g->hlen >= len)
		return -EINVAL; /* no payload: nothing to cut */
	g->mss = vh->gso_size;
	g->paylen = (uint32_t)len - g->hlen;
	g->nseg = (g->paylen + g->mss - 1) / g->mss;
	return 0;
}

/* The L4 checksum of the segment in dst (its l4 bytes on), over the
 * pseudo-header of its addresses, protocol and L4 length. */
static void l4_sum(const struct emu_gso *g, uint8_t *dst, uint32_t l4len)
{
	uint32_t coff = g->proto == IPPROTO_TCP ? 16u : 6u;
	const uint8_t *addrs = dst + g->l3 + (g->v6 ? 8u : 12u);
	uint8_t ph[4] = { 0, g->proto, (uint8_t)(l4len >> 8), (uint8_t)l4len };
	uint64_t acc;
	uint16_t c;

	memset(dst + g->l4 + coff, 0, 2);
	acc = sum_add(0, addrs, g->v6 ? 32u : 8u);
	acc = sum_add(acc, ph, sizeof(ph));
	c = sum_fold(sum_add(acc, dst + g->l4, l4len));
	if (!c)
		c = 0xffff;
	memcpy(dst + g->l4 + coff, &c, 2);
}

uint32_t emu_gso_segment(const struct emu_gso *g, const uint8_t *frame, uint32_t i, uint8_t *dst)
{
	uint32_t off = i * g->mss, n = g->paylen - off < g->mss ? g->paylen - off : g->mss;
	uint32_t l4len = g->hlen - g->l4 + n;
	uint8_t *ip = dst + g->l3;

	memcpy(dst, frame, g->hlen);
	memcpy(dst + g->hlen, frame + g->hlen + off, n);
	if (g->v6) {
		wr16(ip + 4, (uint16_t)(g->hlen - g->l3 - IP6_HLEN + n));
	} else {
		uint16_t c;

		wr16(ip + 2, (uint16_t)(g->hlen - g->l3 + n));
		wr16(ip + 4, (uint16_t)(rd16(ip + 4) + i)); /* the id, as the kernel's GSO */
		memset(ip + 10, 0, 2);
		c = sum_fold(sum_add(0, ip, g->l4 - g->l3));
		memcpy(ip + 10, &c, 2);
	}
	if (g->proto == IPPROTO_TCP) {
		uint8_t *th = dst + g->l4;
		uint32_t seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];

		seq += off;
		th[4] = (uint8_t)(seq >> 24);
		th[5] = (uint8_t)(seq >> 16);
		th[6] = (uint8_t)(seq >> 8);
		th[7] = (uint8_t)seq;
		if (i + 1 < g->nseg)
			th[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i)
			th[13] &= (uint8_t)~TCP_CWR;
	} else {
		wr16(dst + g->l4 + 4, (uint16_t)l4len);
	}
	l4_sum(g, dst, l4len);
	return g->hlen + n;
}
