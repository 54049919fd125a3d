/* emu: the link emulator's data plane. One thread moves frames between
 * ports (the root-namespace ends of the nodes' veths) through the emu_dir
 * state machines.
 *
 * A segment is one emulated link: two ports for a point-to-point link, more
 * for a LAN. Every port has one direction, the frames that arrive from it
 * (that is, the frames its node sends): they are impaired by that port's
 * emu_dir and then leave by the other port (point-to-point) or by the port
 * whose node has the destination MAC (a LAN learns source MACs as frames
 * arrive; unknown, broadcast and multicast destinations go to every other
 * port). So on a point-to-point link the two directions are independent,
 * and on a LAN each endpoint's traffic is impaired on its way into the LAN.
 *
 * I/O. Each port is an AF_PACKET socket bound to its interface with a
 * TPACKET_V2 receive ring (frame-by-frame hand-over: a V3 ring hands frames
 * over a block at a time, when the block fills or its timer, of a
 * millisecond at least, expires, which would add up to that much delay to a
 * frame; see docs/link-emulator.md). Arriving frames are copied once into a
 * slot of the direction's slab (the memory bound: a fixed number of slots,
 * mapped once, touched only as used) and time-stamped with the kernel's
 * receive time. A VM's tap has a virtio-net header on its socket: its GSO
 * frames are cut into the wire frames they stand for on arrival, each in a
 * slot of its own (emu_gso.h, emu_rx.c), and frames leave to it behind an
 * empty header. Due frames go out with sendmmsg(), a batch per port and
 * loop iteration, bypassing the qdisc. One epoll_pwait2 per iteration
 * covers every port and the control eventfd: no per-frame system calls.
 *
 * Timing. The loop computes the earliest departure over the directions
 * that hold frames; it sleeps (timer slack 1 ns) until spin_ns before it
 * and then polls without sleeping until it is due. With nothing queued it
 * sleeps until a frame or a request arrives: an idle experiment costs no CPU.
 *
 * Control. emu_set and emu_snapshot may be called from another thread at
 * any time; the data-plane thread carries them out between two iterations
 * (a change applies at once, to the frames already queued too: see
 * emu_dir_set_params).
 *
 * Ports that go away. The kernel tells a packet socket that its interface
 * went down or was deleted by a socket error (ENETDOWN), which keeps epoll
 * waking until it is read. The thread reads it and looks at the interface:
 * set down, the port's direction is flushed (its frames dropped and
 * counted) and frames due to leave by it are dropped and counted; the
 * socket stays bound and resumes when the interface is set up again (the
 * first frame either way shows it). Deleted (the node deleted its end of
 * the veth pair, which takes the port with it), the same, and the socket
 * leaves the epoll set and is closed: that does not come back. Other
 * ports are not affected. */
#ifndef VTB_EMU_H
#define VTB_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu_dir.h"

#define EMU_BATCH         64u   /* frames per sendmmsg and per ring pass */
/* A port's receive ring holds what its link carries while the data-plane
 * thread is away: a timer wake-up on this VM is late by up to a few ms
 * (docs/link-emulator.md, "Timing"), most often well under 2 ms. */
#define EMU_RING_HOLD_NS    2000000LL
#define EMU_RING_MIN_FRAMES 32u /* a burst of half a batch more than that, at least */

struct emu_port_cfg {
	char ifname[16];      /* the root-namespace interface */
	struct emu_params p;  /* for frames arriving from this port */
	int steer;            /* while this port's direction is bypassed: 1 +
	                       * the core whose softirq carries its frames (the
	                       * port's RPS mask, docs/link-emulator.md,
	                       * "Cores"); 0: the sender's core, as a veth */
};

struct emu_seg_cfg {
	const char *name;     /* the link's name, for messages */
	const struct emu_port_cfg *ports;
	size_t nports;        /* 2 or more */
	unsigned mtu;         /* 0: 1500 */
	bool bypass;          /* a point-to-point link's direction without
	                       * impairment is carried by the kernel (emu_bypass.h) */
};

/* A port's interface, as last seen by the data plane. */
enum emu_port_state {
	EMU_PORT_UP,   /* frames pass */
	EMU_PORT_DOWN, /* set down: frames are dropped until it is set up again */
	EMU_PORT_GONE, /* deleted (with its veth peer): for good */
};

/* What the data plane adds to a direction's emu_stats. */
struct emu_port_stats {
	struct emu_stats dir;
	struct emu_params p;
	uint64_t drop_kernel;   /* the receive ring was full (the kernel's count) */
	uint64_t drop_oversize; /* larger than the link's MTU allows */
	uint64_t drop_tx;       /* the out port refused it (sendmmsg error) */
	uint64_t drop_port;     /* due to leave by a port down or gone (dir.drop_flush
	                         * counts those held when this port went) */
	enum emu_port_state state; /* of this port, the direction's in port */
	bool bypass;            /* carried by the kernel now (its frames are counted
	                         * in dir.rx and dir.tx) */
	bool steered;           /* and steered to its port's core now */
};

/* "up", "down" or "gone". */
const char *emu_port_state_name(enum emu_port_state s);

struct emu;

/* How to open an emulator. An experiment may spread its links over
 * several emulators, one data-plane thread each (exec/links.c). */
struct emu_opts {
	uint64_t seed;      /* of the PRNGs: a run repeats */
	int64_t spin_ns;    /* the least polling margin; 0 picks the default */
	size_t ring_nports; /* the experiment's emulated ports, for the ring
	                     * cap (emu_ring_bytes); 0: this emulator's */
	int sysnet_fd;      /* the ports' namespace's /sys/class/net (a
	                     * directory fd, not owned): where a port with
	                     * steer writes its RPS mask; read only then */
};

/* Open every port of segs (in order; a port's index is its position over
 * all segments) and allocate all memory. No thread yet. On failure err
 * names the link and interface with the system's words. Returns 0 or a
 * negative errno. */
int emu_open(const struct emu_seg_cfg *segs, size_t nsegs, const struct emu_opts *o,
	     struct emu **out, char *err, size_t errlen);
/* Start the data-plane thread, pinned to cpu when cpu >= 0. Pinning
 * matters: with the thread left to the scheduler, it is moved around
 * between the cores the nodes' senders and receivers use, and the
 * zero-impairment rate drops from 96% to about 85% of a direct veth on
 * two cores (docs/benchmarks.md). rt_prio > 0 runs it SCHED_FIFO at that
 * priority (best effort): a frame's departure then does not wait for the
 * scheduler to preempt whatever else runs on the core; the kernel's RT
 * throttling still leaves other tasks 5% of the core when it is saturated. */
int emu_start(struct emu *e, int cpu, int rt_prio);
/* Stop the thread (if any) and free everything. Accepts NULL. */
void emu_close(struct emu *e);

size_t emu_nports(const struct emu *e);
/* The most bytes of the receive ring of a port of an emulator with nports
 * ports: the kernel pins them, so realization counts them (rule 3). A
 * port's ring follows its link's rate below that (emu_port_ring_bytes). */
uint32_t emu_ring_bytes(size_t nports);
/* The bytes of the receive ring of a port whose direction has params p,
 * in an emulator of nports ports with ring frames of frame_size bytes:
 * what the link carries in EMU_RING_HOLD_NS, at least EMU_RING_MIN_FRAMES
 * frames, at most emu_ring_bytes(nports) (and that for an unlimited rate). */
uint32_t emu_port_ring_bytes(const struct emu_params *p, uint32_t frame_size, size_t nports);
/* Change the parameters of port's direction, at once and for the frames it
 * holds too (emu_dir_set_params: re-serialized at a new capacity, a new
 * latency for those not past serialization, the excess of a smaller queue
 * dropped and counted), its slots grown to what p needs (emu_dir_slots;
 * they never shrink). 0, -EINVAL (bad params or port) or -ENOMEM (nothing
 * changed). */
int emu_set(struct emu *e, size_t port, const struct emu_params *p);
/* Copy the counters and parameters of every port into out[emu_nports]. */
int emu_snapshot(struct emu *e, struct emu_port_stats *out);

#endif
