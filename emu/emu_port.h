/* emu_port: one port of the link emulator, private to emu/: the AF_PACKET
 * socket bound to a root-namespace interface, its TPACKET_V2 receive ring,
 * the direction of the frames arriving from it with the slab that holds
 * them, and what is known of the interface (up, down or gone). */
#ifndef VTB_EMU_PORT_H
#define VTB_EMU_PORT_H

#include <linux/if_packet.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "emu.h"

/* The least receive ring of a VM's tap: 30 GSO frames of 64 KiB, 2 MiB
 * pinned per VM endpoint of an emulated link (docs/link-emulator.md). */
#define EMU_PORT_GSO_RING (2u << 20)

struct emu_port {
	int fd, ifindex;          /* fd -1 once the interface is gone */
	char ifname[16];          /* for messages */
	enum emu_port_state state;
	uint32_t seg;
	int steer;                /* emu_port_cfg's steer */
	uint8_t *ring;
	size_t ring_len;
	uint32_t frame_size, frame_nr, head;
	uint32_t vh;              /* a VM's tap: its frames come and go behind a
	                           * virtio-net header of vh bytes (0: none) */
	/* the direction of frames arriving here */
	struct emu_dir d;
	uint8_t *slab;            /* slots of slot_size bytes */
	uint32_t *free_slots, nfree;
	uint32_t *slot_len;
	uint8_t *slot_refs;
	bool active;              /* in the active list */
	bool suspect;             /* in the list of ports to look at */
	/* frames leaving by this port in the current iteration */
	struct mmsghdr msg[EMU_BATCH];
	struct iovec iov[2 * EMU_BATCH]; /* two a frame: a virtio-net header, the frame */
	struct { uint32_t port, slot; } out_ref[EMU_BATCH];
	uint32_t nout;
	uint64_t drop_kernel, drop_oversize, drop_tx, drop_port;
};

/* Open pt's socket on ifname with a receive ring of about ring_bytes in
 * frames of frame_size bytes, and bind it. A VM's tap (the tun driver)
 * gets a virtio-net header on its socket (PACKET_VNET_HDR, pt->vh) and a
 * ring of EMU_PORT_GSO_RING bytes at least, in frames that hold a GSO frame
 * (emu_gso.h). pt->fd is -1 beforehand; on failure what was opened stays
 * in pt for emu_port_close. Returns 0 or a negative errno. */
int emu_port_open(struct emu_port *pt, const char *ifname, uint32_t frame_size,
		  uint32_t ring_bytes);
/* Is pt's interface one of driver's ("veth", "tun")? false when it
 * cannot tell. */
bool emu_port_driver_is(const struct emu_port *pt, const char *driver);
/* Set up pt's direction with params p and seed, and its slab of slots of
 * slot_size bytes (mapped once, touched only as used). 0 or a negative errno. */
int emu_port_alloc_dir(struct emu_port *pt, const struct emu_params *p, uint32_t slot_size,
		       uint64_t seed);
/* Grow pt's slots (slab of slot_size slots, its arrays and its direction)
 * to what params p need (emu_dir_slots), when that is more than now; the
 * frames held stay. Only between two iterations (no frame batched: the
 * slab may move). 0 or -ENOMEM (pt keeps its slots). */
int emu_port_grow(struct emu_port *pt, const struct emu_params *p, uint32_t slot_size);
/* Mark every slot of pt's slab free: only when no frame of it is queued or
 * batched (at open, and after its direction was flushed). */
void emu_port_reset_slots(struct emu_port *pt);
/* Add the kernel's count of frames its full ring dropped since the last
 * call to pt->drop_kernel (the kernel resets it when read). */
void emu_port_kernel_drops(struct emu_port *pt);
/* What the kernel has of pt's interface now: EMU_PORT_UP, EMU_PORT_DOWN
 * (it exists, set down) or EMU_PORT_GONE (no interface of its index in the
 * namespace any more), or a negative errno when it cannot tell. */
int emu_port_probe(const struct emu_port *pt);
/* Close pt's socket and unmap its ring (its interface is gone); the
 * direction and the counters stay. */
void emu_port_close_socket(struct emu_port *pt);
/* Release everything of pt (slab of slot_size slots). Accepts a pt that
 * was never opened (fd -1, pointers NULL). */
void emu_port_close(struct emu_port *pt, uint32_t slot_size);

#endif
