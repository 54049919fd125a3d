/* emu_port: one port of the link emulator (see emu_port.h). */
#include "emu_port.h"
#include "emu_gso.h"

#include <errno.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* A ring block: 16 KiB holds 8 frames of a 1500-byte MTU's slot (a ring
 * can be sized to a link in steps that small), and the kernel's block
 * allocation stays an order-2 page run; a jumbo frame's block is one frame. */
#define RING_BLOCK (1u << 14)
/* A tap's ring: blocks of about 1 MiB (the kernel allocates a block as a
 * power-of-two page run, falling back to vmalloc when none is free). */
#define RING_BLOCK_GSO (1u << 20)
/* What a tap's ring frame needs: the tpacket header and address, the
 * kernel's 16 bytes before the network header, the virtio-net header and
 * the largest GSO frame (macoff + snaplen in af_packet's tpacket_rcv). */
#define RING_FRAME_GSO_NEED \
	(TPACKET_ALIGN(TPACKET2_HDRLEN) + 16 + sizeof(struct virtio_net_hdr) + EMU_GSO_FRAME_MAX)

bool emu_port_driver_is(const struct emu_port *pt, const char *driver)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (char *)&info };

	if (!if_indextoname((unsigned)pt->ifindex, ifr.ifr_name) ||
	    ioctl(pt->fd, SIOCETHTOOL, &ifr))
		return false;
	return !strcmp(info.driver, driver);
}

/* A VM's tap: a virtio-net header on pt's socket (before its ring: the
 * kernel refuses it after), and what its ring takes a GSO frame in. */
static int port_vnet(struct emu_port *pt, uint32_t *frame_size, uint32_t *block,
		     uint32_t *ring_bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int one = 1;

	if (setsockopt(pt->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		return -errno;
	pt->vh = sizeof(struct virtio_net_hdr);
	/* whole pages, and a block of whole frames: the data plane finds
	 * frame k at k * frame_size (17 pages, 15 of them in a block of 1 MiB
	 * less a page, at 4 KiB pages) */
	*frame_size = (uint32_t)((RING_FRAME_GSO_NEED + page - 1) / page * page);
	*block = *frame_size * (RING_BLOCK_GSO / *frame_size ? RING_BLOCK_GSO / *frame_size : 1);
	if (*ring_bytes < EMU_PORT_GSO_RING)
		*ring_bytes = EMU_PORT_GSO_RING;
	return 0;
}

/* Ring frames: the tpacket header, room for the address, and the frame. */
int emu_port_open(struct emu_port *pt, const char *ifname, uint32_t frame_size,
		  uint32_t ring_bytes)
{
	struct tpacket_req req = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	uint32_t block = RING_BLOCK > frame_size ? RING_BLOCK : frame_size;
	int v2 = TPACKET_V2, one = 1, r = 0;

	snprintf(pt->ifname, sizeof(pt->ifname), "%s", ifname);
	pt->state = EMU_PORT_UP;
	pt->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (pt->fd < 0)
		return -errno;
	pt->ifindex = (int)if_nametoindex(ifname);
	if (!pt->ifindex)
		return -errno;
	if (emu_port_driver_is(pt, "tun")) {
		r = port_vnet(pt, &frame_size, &block, &ring_bytes);
		if (r)
			return r;
	}
	req.tp_block_size = block;
	req.tp_block_nr = ring_bytes / req.tp_block_size ? ring_bytes / req.tp_block_size : 1;
	req.tp_frame_size = frame_size;
	req.tp_frame_nr = req.tp_block_nr * (req.tp_block_size / frame_size);
	if (setsockopt(pt->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) ||
	    setsockopt(pt->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) ||
	    setsockopt(pt->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    setsockopt(pt->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)))
		return -errno;
	pt->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	pt->ring = mmap(NULL, pt->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, pt->fd, 0);
	if (pt->ring == MAP_FAILED) {
		pt->ring = NULL;
		return -errno;
	}
	pt->frame_size = frame_size;
	pt->frame_nr = req.tp_frame_nr;
	sll.sll_ifindex = pt->ifindex;
	if (bind(pt->fd, (struct sockaddr *)&sll, sizeof(sll)))
		r = -errno;
	return r;
}

void emu_port_reset_slots(struct emu_port *pt)
{
	uint32_t cap = pt->d.capacity, i;

	for (i = 0; i < cap; i++)
		pt->free_slots[i] = cap - 1 - i;
	memset(pt->slot_refs, 0, cap);
	pt->nfree = cap;
}

int emu_port_alloc_dir(struct emu_port *pt, const struct emu_params *p, uint32_t slot_size,
		       uint64_t seed)
{
	uint32_t cap = emu_dir_slots(p, slot_size);
	int r;

	r = emu_dir_init(&pt->d, p, cap, seed);
	if (r)
		return r;
	pt->slab = mmap(NULL, (size_t)cap * slot_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pt->slab == MAP_FAILED) {
		pt->slab = NULL;
		return -ENOMEM;
	}
	pt->free_slots = malloc(cap * sizeof(*pt->free_slots));
	pt->slot_len = calloc(cap, sizeof(*pt->slot_len));
	pt->slot_refs = calloc(cap, 1);
	if (!pt->free_slots || !pt->slot_len || !pt->slot_refs)
		return -ENOMEM;
	emu_port_reset_slots(pt);
	return 0;
}

int emu_port_grow(struct emu_port *pt, const struct emu_params *p, uint32_t slot_size)
{
	uint32_t cap = emu_dir_slots(p, slot_size), old = pt->d.capacity, *free_slots, *slot_len;
	uint8_t *slot_refs, *slab;
	int r;

	if (cap <= old)
		return 0;
	/* bigger arrays than the capacity are harmless if a later step fails */
	free_slots = realloc(pt->free_slots, cap * sizeof(*free_slots));
	if (free_slots)
		pt->free_slots = free_slots;
	slot_len = realloc(pt->slot_len, cap * sizeof(*slot_len));
	if (slot_len)
		pt->slot_len = slot_len;
	slot_refs = realloc(pt->slot_refs, cap);
	if (slot_refs)
		pt->slot_refs = slot_refs;
	if (!free_slots || !slot_len || !slot_refs)
		return -ENOMEM;
	slab = mremap(pt->slab, (size_t)old * slot_size, (size_t)cap * slot_size, MREMAP_MAYMOVE);
	if (slab == MAP_FAILED)
		return -ENOMEM;
	pt->slab = slab;
	r = emu_dir_grow(&pt->d, cap);
	if (r) {
		/* back to the old size: shrinking in place does not fail */
		pt->slab = mremap(pt->slab, (size_t)cap * slot_size, (size_t)old * slot_size, 0);
		return r;
	}
	memset(pt->slot_refs + old, 0, cap - old);
	for (uint32_t i = cap; i-- > old;)
		pt->free_slots[pt->nfree++] = i;
	return 0;
}

void emu_port_kernel_drops(struct emu_port *pt)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (pt->fd >= 0 && !getsockopt(pt->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		pt->drop_kernel += st.tp_drops;
}

/* By index, not by name: the node cannot rename the root end, and a new
 * interface that took the name is not the one the socket was bound to. */
int emu_port_probe(const struct emu_port *pt)
{
	struct ifreq ifr = { .ifr_ifindex = pt->ifindex };

	if (pt->fd < 0)
		return EMU_PORT_GONE;
	if (ioctl(pt->fd, SIOCGIFNAME, &ifr))
		return errno == ENODEV ? EMU_PORT_GONE : -errno;
	if (ioctl(pt->fd, SIOCGIFFLAGS, &ifr))
		return errno == ENODEV ? EMU_PORT_GONE : -errno;
	return ifr.ifr_flags & IFF_UP ? EMU_PORT_UP : EMU_PORT_DOWN;
}

void emu_port_close_socket(struct emu_port *pt)
{
	if (pt->ring)
		munmap(pt->ring, pt->ring_len);
	if (pt->fd >= 0)
		close(pt->fd);
	pt->ring = NULL;
	pt->fd = -1;
}

void emu_port_close(struct emu_port *pt, uint32_t slot_size)
{
	if (pt->slab)
		munmap(pt->slab, (size_t)pt->d.capacity * slot_size);
	emu_port_close_socket(pt);
	emu_dir_free(&pt->d);
	free(pt->free_slots);
	free(pt->slot_len);
	free(pt->slot_refs);
}

/* The kernel's ring memory is pinned: smaller rings for big experiments. */
uint32_t emu_ring_bytes(size_t nports)
{
	return nports <= 64 ? (4u << 20) : nports <= 512 ? (1u << 20) : (256u << 10);
}

uint32_t emu_port_ring_bytes(const struct emu_params *p, uint32_t frame_size, size_t nports)
{
	uint64_t max = emu_ring_bytes(nports), want;

	if (p->rate_bps == 0)
		return (uint32_t)max;
	want = (uint64_t)((unsigned __int128)p->rate_bps * EMU_RING_HOLD_NS / 8u / 1000000000u);
	/* in whole frames: a ring frame carries one frame of the link */
	want = (want / frame_size + 1) * frame_size;
	if (want < (uint64_t)EMU_RING_MIN_FRAMES * frame_size)
		want = (uint64_t)EMU_RING_MIN_FRAMES * frame_size;
	return (uint32_t)(want < max ? want : max);
}
