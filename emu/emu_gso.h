/* emu_gso: the frames a VM hands the link emulator with a virtio-net
 * header (a tap's port reads them with PACKET_VNET_HDR), made into the
 * frames a wire would carry. Pure functions on (const uint8_t *, size_t):
 * no state, no allocation, fuzzable.
 *
 * A virtio-net guest with TSO hands over TCP segments of up to 64 KiB with
 * a partial checksum (the header says GSO TCPv4 or TCPv6, the segment size,
 * and where the checksum goes). A real link carries them as segments of
 * gso_size payload bytes, each with its own headers: emu_gso_parse finds
 * the headers and the count, emu_gso_segment writes segment i as the
 * kernel's GSO would (IPv4 id + i, TCP sequence + i * gso_size, FIN and PSH
 * on the last only, CWR on the first only; UDP (USO) datagrams with their
 * own length), every checksum complete. A frame with only a partial
 * checksum is completed by emu_gso_csum. See docs/link-emulator.md,
 * "Frames of VMs". */
#ifndef VTB_EMU_GSO_H
#define VTB_EMU_GSO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UDP segmentation (USO, Linux 6.2): older headers lack its number */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* The largest GSO frame: a 64 KiB IP packet, its Ethernet header and two
 * VLAN tags in the frame. */
#define EMU_GSO_FRAME_MAX (65536u + 14u + 8u)

/* Where a GSO frame's headers are, and what it stands for. */
struct emu_gso {
	uint32_t l3, l4;   /* offsets of the IP and the TCP/UDP header */
	uint32_t hlen;     /* header bytes every segment repeats (up to the payload) */
	uint32_t mss;      /* payload bytes per segment (the last has the rest) */
	uint32_t paylen;   /* payload bytes of the whole frame */
	uint32_t nseg;     /* segments */
	uint8_t proto;     /* IPPROTO_TCP or IPPROTO_UDP */
	bool v6;
};

/* Does the header ask for work before the frame is on a wire (GSO or a
 * partial checksum)? */
bool emu_gso_needed(const struct virtio_net_hdr *vh);

/* Parse the GSO frame (len bytes, from its Ethernet header) that vh
 * describes into g. 0, -EOPNOTSUPP (a GSO kind other than TCPv4, TCPv6
 * and UDP L4, or IPv6 extension headers) or -EINVAL (headers that do not
 * hold together). */
int emu_gso_parse(const struct virtio_net_hdr *vh, const uint8_t *frame, size_t len,
		  struct emu_gso *g);

/* Write segment i (< g->nseg) of frame, parsed into g, to dst (room for
 * g->hlen + g->mss bytes), with complete checksums; returns its length. */
uint32_t emu_gso_segment(const struct emu_gso *g, const uint8_t *frame, uint32_t i, uint8_t *dst);

/* Complete the partial checksum of frame (len bytes) as the kernel does:
 * the ones' complement sum from start to the end, over the pseudo-header
 * sum already in the field at start + off, written there. 0 or -EINVAL
 * (the field is not inside the frame). */
int emu_gso_csum(uint8_t *frame, size_t len, uint32_t start, uint32_t off);

#endif
