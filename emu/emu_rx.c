/* emu_rx: the receive side of the link emulator's data plane: frames from
 * a port's ring into slots of its direction (see emu.h, "I/O"), a VM's GSO
 * frames cut into the wire frames they stand for (emu_gso.h), and the
 * MACs a LAN learns. */
#include "emu_gso.h"
#include "emu_int.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>

struct mac_ent *emu_mac_find(struct seg *sg, const uint8_t *mac, bool insert)
{
	uint32_t h = 2166136261u, i, k;

	for (i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	for (i = 0; i < MAC_SLOTS; i++) {
		struct mac_ent *m = &sg->macs[(h + i) & (MAC_SLOTS - 1)];

		if (m->used && !memcmp(m->mac, mac, 6))
			return m;
		if (!m->used) {
			if (!insert)
				return NULL;
			memcpy(m->mac, mac, 6);
			m->used = true;
			return m;
		}
	}
	/* full: forget one at random, it is learned again */
	k = h & (MAC_SLOTS - 1);
	if (insert) {
		memcpy(sg->macs[k].mac, mac, 6);
		return &sg->macs[k];
	}
	return NULL;
}

/* Put p in the list of ports whose direction holds frames. */
static void activate(struct emu *e, struct emu_port *pt)
{
	if (!pt->active) {
		pt->active = true;
		e->active[e->nactive++] = (uint32_t)(pt - e->ports);
	}
}

/* Offer the frame of len bytes in port p's slot, received at ts, to p's
 * direction (a LAN learns its source MAC): the slot holds a reference per
 * copy queued, or is free again. */
static void offer_slot(struct emu *e, struct emu_port *p, uint32_t slot, uint32_t len, uint64_t ts)
{
	uint8_t *dst = p->slab + (size_t)slot * e->slot_size;
	uint32_t held = p->d.stats.ring_used;

	p->slot_len[slot] = len;
	if (e->segs[p->seg].macs && !(dst[6] & 1)) {
		struct mac_ent *m = emu_mac_find(&e->segs[p->seg], dst + 6, true);

		m->port = (uint32_t)(p - e->ports);
	}
	/* one reference per copy queued (a duplicate shares the slot) */
	emu_dir_offer(&p->d, ts, len, slot, NULL);
	p->slot_refs[slot] = (uint8_t)(p->d.stats.ring_used - held);
	if (!p->slot_refs[slot])
		p->free_slots[p->nfree++] = slot;
	else
		activate(e, p);
}

/* A frame of len bytes that no slot can take: counted as the ring bound. */
static void drop_no_slot(struct emu_port *p, uint32_t len)
{
	p->d.stats.rx_pkts++;
	p->d.stats.rx_bytes += len;
	p->d.stats.drop_ring++;
}

/* A frame from a VM's tap whose virtio-net header vh asks for work (GSO or
 * a partial checksum): the wire frames it stands for, each in a slot of
 * its own with complete checksums, offered one by one, so rate, queue,
 * loss and the rest count them as a wire would (docs/link-emulator.md,
 * "Frames of VMs"). A frame that cannot be cut is counted as oversize. */
static void offer_vnet(struct emu *e, struct emu_port *p, const struct virtio_net_hdr *vh,
		       const uint8_t *frame, uint32_t len, uint64_t ts)
{
	struct emu_gso g;
	uint32_t slot, i;

	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (len > e->slot_size || len < ETH_HLEN) {
			p->drop_oversize++;
		} else if (!p->nfree) {
			drop_no_slot(p, len);
		} else {
			slot = p->free_slots[--p->nfree];
			memcpy(p->slab + (size_t)slot * e->slot_size, frame, len);
			if (emu_gso_csum(p->slab + (size_t)slot * e->slot_size, len, vh->csum_start,
					 vh->csum_offset)) {
				p->free_slots[p->nfree++] = slot;
				p->drop_oversize++;
				return;
			}
			offer_slot(e, p, slot, len, ts);
		}
		return;
	}
	if (emu_gso_parse(vh, frame, len, &g) || g.hlen + g.mss > e->slot_size) {
		p->drop_oversize++;
		return;
	}
	for (i = 0; i < g.nseg; i++) {
		if (!p->nfree) {
			drop_no_slot(p, g.hlen + (i + 1 < g.nseg ? g.mss : g.paylen - i * g.mss));
			continue;
		}
		slot = p->free_slots[--p->nfree];
		offer_slot(e, p, slot,
			   emu_gso_segment(&g, frame, i, p->slab + (size_t)slot * e->slot_size), ts);
	}
}

/* Take up to EMU_BATCH frames from port p's ring into its direction;
 * returns how many ring frames it took. */
unsigned emu_rx_drain(struct emu *e, struct emu_port *p, uint64_t now, int64_t real_off)
{
	unsigned n = 0;

	while (n < EMU_BATCH) {
		struct tpacket2_hdr *h =
			(struct tpacket2_hdr *)(p->ring + (size_t)p->head * p->frame_size);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		uint8_t *frame = (uint8_t *)h + h->tp_mac;
		uint32_t len = h->tp_snaplen, slot, vlan = 0;
		uint64_t ts;

		if (!(st & TP_STATUS_USER))
			break;
		/* the kernel's receive time, on the monotonic clock */
		ts = (uint64_t)h->tp_sec * 1000000000ULL + h->tp_nsec;
		ts = (int64_t)ts - real_off > 0 ? (uint64_t)((int64_t)ts - real_off) : now;
		if (ts > now)
			ts = now;
		if (st & TP_STATUS_VLAN_VALID)
			vlan = VLAN_HLEN;
		/* a tap takes no VLAN tag off (tun): its tags are in the frame */
		if (p->vh && !vlan && h->tp_len == h->tp_snaplen &&
		    emu_gso_needed((const struct virtio_net_hdr *)(frame - p->vh))) {
			offer_vnet(e, p, (const struct virtio_net_hdr *)(frame - p->vh), frame, len, ts);
			goto next;
		}
		if (h->tp_len != h->tp_snaplen || len + vlan > e->slot_size || len < ETH_HLEN ||
		    !p->nfree) {
			if (!p->nfree) /* every slot holds a frame: the ring bound */
				drop_no_slot(p, h->tp_len);
			else
				p->drop_oversize++;
			goto next;
		}
		slot = p->free_slots[--p->nfree];
		{
			uint8_t *dst = p->slab + (size_t)slot * e->slot_size;

			if (vlan) {
				uint16_t tpid = htons(h->tp_vlan_tpid ? h->tp_vlan_tpid : 0x8100);
				uint16_t tci = htons(h->tp_vlan_tci);

				memcpy(dst, frame, 12);
				memcpy(dst + 12, &tpid, 2);
				memcpy(dst + 14, &tci, 2);
				memcpy(dst + 16, frame + 12, len - 12);
			} else {
				memcpy(dst, frame, len);
			}
		}
		offer_slot(e, p, slot, len + vlan, ts);
	next:
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		p->head = (p->head + 1) % p->frame_nr;
		n++;
	}
	return n;
}
