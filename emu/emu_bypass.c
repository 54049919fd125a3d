/* emu_bypass: the kernel carries zero-impairment directions (see emu_bypass.h). */
#include "emu_bypass.h"
#include "emu_int.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/membarrier.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bpf_insn.h"

/* tcx, the kernel's BPF-only ingress hook (Linux 6.6; enum bpf_attach_type's
 * BPF_TCX_INGRESS, which this system's headers predate): the redirect runs
 * there without tc's classifier walk (cls_bpf) in front of it. */
#define BP_TCX_INGRESS ((enum bpf_attach_type)46)

/* Where tcx is missing, the tc filter's handle and priority on a port's
 * ingress: its own, apart from the shortbridge's (handle 1), so a query or
 * a detach finds it. */
#define BP_TC_HANDLE 0x7662u
#define BP_TC_PRIO   1u

/* What a port's per-CPU slot holds: the frames redirected on that CPU, and
 * the socket filter's decision for the frame being received there (BP_D_*),
 * which the tc program takes (and clears) right after it. */
struct bp_slot {
	uint64_t pkts, bytes;
	uint32_t decision, pad;
};

/* The socket filter's decision: none (it did not run for this frame: the
 * socket is unhooked, or has no filter yet), the kernel's, the emulator's. */
enum { BP_D_NONE = 0, BP_D_BYPASS = 1, BP_D_EMULATE = 2 };

/* The protocol an unhooked socket is bound to (the IEEE's local
 * experimental EtherType): it stays bound to its port, so the kernel still
 * tells it when the port goes down, but no tap delivers it the port's
 * frames, which tc redirects before any protocol handler sees them. */
#define BP_UNHOOKED_PROTO 0x88b5

enum { BP_MARKED = 1, BP_ATTACHED = 2, BP_ON = 4, BP_FAILED = 8, BP_UNHOOKED = 16,
       BP_STEERED = 32 };

/* Steering (a port with steer): how often the rate of a bypassed
 * direction is looked at, and the rates that turn its steering on and off.
 * A frame steered to another core waits for that core to take it (an
 * inter-processor interrupt, and the core's wake-up when it was idle:
 * 50-100 us on this machine's virtual cores), which only a stream of
 * frames amortizes: a ping through a steered chain took 0.2 ms instead of
 * 0.015 (docs/benchmarks.md). So only a busy direction is steered. */
#define BP_TICK_NS       100000000LL
#define BP_STEER_ON_PPS  50000u
#define BP_STEER_OFF_PPS 10000u

struct emu_bypass {
	int mode_fd, slot_fd;   /* the maps, -1 until the first attach */
	int ncpus;              /* possible CPUs: a per-CPU value's count */
	bool unhook;            /* the kernel waits for an RCU grace period on
	                         * request (membarrier): a bypassed port's socket
	                         * may leave its taps */
	uint8_t *flags;         /* BP_* per port */
	int *tcx_fd;            /* per port: its program on tcx (kept to detach
	                         * it), -1 when on tc's clsact or none */
	uint32_t *marked;       /* ports to look at */
	size_t nmarked;
	int tick_fd;            /* a timerfd in the thread's epoll: the rates
	                         * of steered ports; -1 without any */
	uint64_t *last;         /* per port: frames redirected at the last look */
	struct bp_slot *counts; /* ncpus slots: one port's per-CPU counters as
	                         * read (port_counts, in the data-plane thread) */
};

/* r0 = lookup(map fd, key at fp-4): r2 = fp - 4 first */
#define LOOKUP(fd)       MOV_X(2, 10), ADD_K(2, -4), LD_MAP(fd), CALL(BPF_FUNC_map_lookup_elem)

/* The socket filter of port k's emulator socket: reads k's mode, leaves its
 * decision in k's per-CPU slot for the tc program, and keeps the frame for
 * the socket (all of it) only when the direction is not bypassed. */
static int load_filter(const struct emu_bypass *b, uint32_t k)
{
	struct bpf_insn insns[] = {
		ST(BPF_W, 10, -4, (int32_t)k),
		LOOKUP(b->mode_fd),
		MOV_K(7, 0),
		JEQ_K(0, 0, 1),
		LDX(BPF_W, 7, 0, 0),
		MOV_K(8, BP_D_EMULATE),
		JEQ_K(7, 0, 1),
		MOV_K(8, BP_D_BYPASS),
		LOOKUP(b->slot_fd),
		JEQ_K(0, 0, 1),
		STX(BPF_W, 0, 8, offsetof(struct bp_slot, decision)),
		MOV_K(0, 0),
		JNE_K(7, 0, 1),
		INSN(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, -1), /* 0xffffffff: the whole frame */
		EXIT(),
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "vtb_bp_sock", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

/* The tc program on port k's ingress. It takes the socket filter's
 * decision from k's slot (and clears it): the emulator's, pass; none (the
 * filter did not run: the socket is unhooked, or has no filter yet), k's
 * mode decides. Bypass: count the frame (Ethernet frame bytes, with a VLAN
 * tag the kernel took off, as the emulator counts) and redirect it: with
 * peer, into the ingress of the other end of the veth to_ifindex (the
 * node's interface: one receive instead of two, bpf_redirect_peer), else
 * to the egress of to_ifindex. */
static int load_redirect(const struct emu_bypass *b, uint32_t k, int to_ifindex, bool peer)
{
	struct bpf_insn insns[] = {
		MOV_X(6, 1),
		ST(BPF_W, 10, -4, (int32_t)k),
		LOOKUP(b->slot_fd),
		JEQ_K(0, 0, 28),                                  /* to pass */
		MOV_X(9, 0),                                      /* r9: the slot */
		LDX(BPF_W, 1, 0, offsetof(struct bp_slot, decision)),
		ST(BPF_W, 0, offsetof(struct bp_slot, decision), BP_D_NONE),
		JEQ_K(1, BP_D_EMULATE, 24),                       /* to pass */
		JNE_K(1, BP_D_NONE, 8),                           /* to count */
		LOOKUP(b->mode_fd),
		JEQ_K(0, 0, 17),                                  /* to pass */
		LDX(BPF_W, 1, 0, 0),
		JEQ_K(1, 0, 15),                                  /* to pass */
		MOV_X(0, 9),                                      /* count: */
		LDX(BPF_DW, 1, 0, offsetof(struct bp_slot, pkts)),
		ADD_K(1, 1),
		STX(BPF_DW, 0, 1, offsetof(struct bp_slot, pkts)),
		LDX(BPF_W, 1, 6, offsetof(struct __sk_buff, len)),
		LDX(BPF_W, 2, 6, offsetof(struct __sk_buff, vlan_present)),
		JEQ_K(2, 0, 1),
		ADD_K(1, VLAN_HLEN),
		LDX(BPF_DW, 2, 0, offsetof(struct bp_slot, bytes)),
		ADD_X(2, 1),
		STX(BPF_DW, 0, 2, offsetof(struct bp_slot, bytes)),
		MOV_K(1, to_ifindex),
		MOV_K(2, 0),
		CALL(peer ? BPF_FUNC_redirect_peer : BPF_FUNC_redirect),
		EXIT(),
		MOV_K(0, TC_ACT_OK),                              /* pass: */
		EXIT(),
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "vtb_bp_redir", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

/* The timer of the steered ports' rates, when e has such a port (it is
 * armed for good: a look finds nothing to do on a port not bypassed).
 * 0 or a negative errno. */
static int tick_open(struct emu *e)
{
	struct emu_bypass *b = e->bp;
	struct itimerspec its = { .it_interval.tv_nsec = BP_TICK_NS, .it_value.tv_nsec = BP_TICK_NS };
	size_t k;

	for (k = 0; k < e->nports && !e->ports[k].steer; k++)
		;
	if (k == e->nports || e->sysnet_fd < 0)
		return 0;
	b->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->tick_fd < 0 || timerfd_settime(b->tick_fd, 0, &its, NULL) ||
	    epoll_ctl(e->epfd, EPOLL_CTL_ADD, b->tick_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.u32 = EMU_EV_TICK }))
		return -errno;
	return 0;
}

int emu_bypass_new(struct emu *e)
{
	struct emu_bypass *b;
	size_t i, j;
	bool any = false;

	for (i = 0; i < e->nsegs; i++)
		any = any || (e->segs[i].bypass && e->segs[i].n == 2);
	if (!any)
		return 0;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->mode_fd = b->slot_fd = -1;
	b->flags = calloc(e->nports, sizeof(*b->flags));
	b->marked = calloc(e->nports, sizeof(*b->marked));
	b->tcx_fd = malloc(e->nports * sizeof(*b->tcx_fd));
	b->last = calloc(e->nports, sizeof(*b->last));
	b->tick_fd = -1;
	if (!b->flags || !b->marked || !b->tcx_fd || !b->last) {
		free(b->flags);
		free(b->marked);
		free(b->tcx_fd);
		free(b->last);
		free(b);
		return -ENOMEM;
	}
	for (i = 0; i < e->nports; i++)
		b->tcx_fd[i] = -1;
	e->bp = b;
	for (i = 0; i < e->nsegs; i++)
		for (j = 0; e->segs[i].bypass && e->segs[i].n == 2 && j < 2; j++)
			emu_bypass_mark(e, e->segs[i].first + (uint32_t)j);
	return tick_open(e);
}

/* Detach port k's redirect (best effort: a port already deleted took it). */
static void detach(struct emu_bypass *b, uint32_t k, const struct emu_port *pt)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pt->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BP_TC_HANDLE, .priority = BP_TC_PRIO);

	if (b->tcx_fd[k] >= 0) {
		if (bpf_prog_detach2(b->tcx_fd[k], pt->ifindex, BP_TCX_INGRESS)) {
			/* gone with its interface */
		}
		close(b->tcx_fd[k]);
		b->tcx_fd[k] = -1;
	} else if (bpf_tc_detach(&hook, &opts)) {
		/* gone with its interface, or never attached */
	}
}

void emu_bypass_free(struct emu *e)
{
	struct emu_bypass *b = e->bp;
	size_t i;

	if (!b)
		return;
	for (i = 0; i < e->nports; i++)
		if (b->flags[i] & BP_ATTACHED)
			detach(b, (uint32_t)i, &e->ports[i]);
	if (b->mode_fd >= 0)
		close(b->mode_fd);
	if (b->slot_fd >= 0)
		close(b->slot_fd);
	if (b->tick_fd >= 0)
		close(b->tick_fd);
	free(b->last);
	free(b->counts);
	free(b->flags);
	free(b->marked);
	free(b->tcx_fd);
	free(b);
	e->bp = NULL;
}

void emu_bypass_mark(struct emu *e, uint32_t port)
{
	struct emu_bypass *b = e->bp;
	const struct seg *sg = &e->segs[e->ports[port].seg];

	if (!b || !sg->bypass || sg->n != 2 || (b->flags[port] & BP_MARKED))
		return;
	b->flags[port] |= BP_MARKED;
	b->marked[b->nmarked++] = port;
}

/* The other port of port's point-to-point segment. */
static uint32_t peer_of(const struct emu *e, uint32_t port)
{
	const struct seg *sg = &e->segs[e->ports[port].seg];

	return sg->first + (port == sg->first);
}

void emu_bypass_mark_link(struct emu *e, uint32_t port)
{
	if (!e->bp || e->segs[e->ports[port].seg].n != 2)
		return;
	emu_bypass_mark(e, port);
	emu_bypass_mark(e, peer_of(e, port));
}

/* The maps, at the first attach: the mode of each port's direction (0
 * emulated, 1 bypassed) and each port's per-CPU slot; and whether the
 * kernel can wait for a grace period on request (then a bypassed port's
 * socket leaves its taps). 0 or a negative errno. */
static int maps_open(struct emu_bypass *b, size_t nports)
{
	long q;

	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0)
		return b->ncpus ? b->ncpus : -EINVAL;
	if (!b->counts)
		b->counts = calloc((size_t)b->ncpus, sizeof(*b->counts));
	if (!b->counts)
		return -ENOMEM;
	b->mode_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vtb_bp_mode", sizeof(uint32_t),
				    sizeof(uint32_t), (uint32_t)nports, NULL);
	if (b->mode_fd < 0)
		return b->mode_fd;
	b->slot_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "vtb_bp_slot", sizeof(uint32_t),
				    sizeof(struct bp_slot), (uint32_t)nports, NULL);
	if (b->slot_fd < 0)
		return b->slot_fd;
	q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	b->unhook = q > 0 && (q & MEMBARRIER_CMD_GLOBAL);
	return 0;
}

/* Give port k's ingress the redirect to to (on tcx, else on tc's clsact),
 * then its socket the filter
 * (the tc program first: every frame the filter sees then meets the tc
 * program right after it, which takes the filter's decision, so no stale
 * one is left for a frame the filter does not see; until the filter comes,
 * the mode is 0 and the tc program lets every frame pass). 0 or a negative
 * errno. */
static int attach(struct emu *e, uint32_t k, const struct emu_port *to)
{
	struct emu_bypass *b = e->bp;
	const struct emu_port *pt = &e->ports[k];
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pt->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BP_TC_HANDLE, .priority = BP_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	int fd, r = 0;

	if (b->mode_fd < 0) {
		r = maps_open(b, e->nports);
		if (r)
			return r;
	}
	fd = load_redirect(b, k, to->ifindex, emu_port_driver_is(to, "veth"));
	if (fd < 0)
		return fd;
	if (!bpf_prog_attach_opts(fd, pt->ifindex, BP_TCX_INGRESS, NULL)) {
		b->tcx_fd[k] = fd;
	} else {
		r = bpf_tc_hook_create(&hook);
		if (r == -EEXIST)
			r = 0;
		opts.prog_fd = fd;
		if (!r)
			r = bpf_tc_attach(&hook, &opts);
		close(fd);
		if (r)
			return r;
	}
	fd = load_filter(b, k);
	if (fd < 0)
		return fd;
	if (setsockopt(pt->fd, SOL_SOCKET, SO_ATTACH_BPF, &fd, sizeof(fd)))
		r = -errno;
	close(fd);
	return r;
}

/* Bind port k's socket to its port for proto (the port's frames, or none).
 * A change of protocol makes the kernel wait for a grace period (af_packet
 * unregisters the old hook first). 0 or a negative errno. */
static int bind_port(const struct emu_port *pt, uint16_t proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				   .sll_ifindex = pt->ifindex };

	return bind(pt->fd, (struct sockaddr *)&sll, sizeof(sll)) ? -errno : 0;
}

/* Wait until every frame the kernel is receiving now has left its receive
 * path (an RCU grace period: the receive runs under RCU). 0 or a negative
 * errno. */
static int wait_receives(void)
{
	return syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) ? -errno : 0;
}

/* Set port k's mode; 0 or a negative errno. */
static int set_mode(struct emu_bypass *b, uint32_t k, uint32_t on)
{
	int r = bpf_map_update_elem(b->mode_fd, &k, &on, BPF_ANY);

	if (!r)
		b->flags[k] = (uint8_t)(on ? b->flags[k] | BP_ON : b->flags[k] & ~BP_ON);
	return r;
}

/* Has port pt's receive ring a frame for the thread? */
static bool ring_busy(const struct emu_port *pt)
{
	const struct tpacket2_hdr *h =
		(const struct tpacket2_hdr *)(pt->ring + (size_t)pt->head * pt->frame_size);

	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

/* The frames (and bytes, when bytes is not NULL) the kernel redirected
 * for port k, over every CPU; 0 or a negative errno (then nothing). */
static int port_counts(struct emu_bypass *b, uint32_t k, uint64_t *pkts, uint64_t *bytes)
{
	uint64_t p = 0, n = 0;
	int c, r;

	if (!b->counts)
		return -ENOENT; /* no maps yet: nothing redirected */
	r = bpf_map_lookup_elem(b->slot_fd, &k, b->counts);
	for (c = 0; !r && c < b->ncpus; c++) {
		p += b->counts[c].pkts;
		n += b->counts[c].bytes;
	}
	if (r)
		return r;
	*pkts = p;
	if (bytes)
		*bytes = n;
	return 0;
}

/* Steer the receive of port k (its RPS mask) to the port's core while its
 * direction is bypassed (on), back to none when not: the softirq of the
 * sender's core then no longer carries the frame through every hop after
 * this port. Best effort: without RPS, or with the port gone, the frames
 * stay on the sender's core, as through a veth. */
static void steer(const struct emu *e, uint32_t k, bool on)
{
	const struct emu_port *pt = &e->ports[k];
	char path[64], mask[128] = "0";
	int fd, c, g, at;

	if (!pt->steer || e->sysnet_fd < 0)
		return;
	if (on) {
		/* 32-bit words, the highest first, separated by commas */
		c = pt->steer - 1;
		at = snprintf(mask, sizeof(mask), "%x", 1u << (c % 32));
		for (g = c / 32; g > 0 && at + 9 < (int)sizeof(mask); g--)
			at += snprintf(mask + at, sizeof(mask) - (size_t)at, ",00000000");
	}
	snprintf(path, sizeof(path), "%s/queues/rx-0/rps_cpus", pt->ifname);
	fd = openat(e->sysnet_fd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, mask, strlen(mask)) < 0) {
		/* no RPS in this kernel: the sender's core carries it */
	}
	close(fd);
}

/* Switch port k's direction to the kernel: mode 1 (the filter then drops
 * and the tc program redirects every frame), then the socket leaves the
 * port's taps, so no frame costs a delivery to it (the tc program, seeing
 * no decision, follows the mode). Staying on the taps is still right:
 * the unhook is best effort. 0 or a negative errno (the mode stays 0). */
static int switch_on(struct emu *e, uint32_t k)
{
	struct emu_bypass *b = e->bp;
	int r = set_mode(b, k, 1);

	if (!r && b->unhook && !bind_port(&e->ports[k], BP_UNHOOKED_PROTO))
		b->flags[k] |= BP_UNHOOKED;
	if (!r && e->ports[k].steer)
		port_counts(b, k, &b->last[k], NULL);
	return r;
}

/* Take port k's direction back: the socket on the taps again, then, once
 * every frame that passed the taps without it has been redirected (a grace
 * period), mode 0, so that no frame the filter did not see meets mode 0
 * (the tc program would let it pass, to nobody). 0 or a negative errno:
 * the direction stays in the kernel (look again). */
static int switch_off(struct emu *e, uint32_t k)
{
	struct emu_bypass *b = e->bp;
	int r = 0;

	if ((b->flags[k] & BP_UNHOOKED) && e->ports[k].fd >= 0) {
		r = bind_port(&e->ports[k], ETH_P_ALL);
		if (r == -ENODEV)
			r = 0; /* the port is gone: no frame comes any more */
		if (!r)
			r = wait_receives();
		if (r)
			return r;
	}
	b->flags[k] &= (uint8_t)~BP_UNHOOKED;
	r = set_mode(b, k, 0);
	if (!r && (b->flags[k] & BP_STEERED)) {
		steer(e, k, false);
		b->flags[k] &= (uint8_t)~BP_STEERED;
	}
	return r;
}

/* Look at port k's direction: on, off, or "not yet" (returns true: it
 * may go on but holds frames, or could not be taken back: look again). */
static bool check(struct emu *e, uint32_t k)
{
	struct emu_bypass *b = e->bp;
	struct emu_port *pt = &e->ports[k], *to = &e->ports[peer_of(e, k)];
	bool want = e->segs[pt->seg].n == 2 && !(b->flags[k] & BP_FAILED) &&
		    emu_params_none(&pt->d.p) && pt->state == EMU_PORT_UP &&
		    to->state == EMU_PORT_UP && pt->fd >= 0 && to->fd >= 0;

	if (!want)
		return (b->flags[k] & BP_ON) && switch_off(e, k);
	if (b->flags[k] & BP_ON)
		return false;
	if (pt->d.stats.ring_used || ring_busy(pt))
		return true;
	if (!(b->flags[k] & BP_ATTACHED)) {
		if (attach(e, k, to)) {
			/* no BPF here (or not allowed): the direction stays emulated */
			b->flags[k] |= BP_FAILED;
			return false;
		}
		b->flags[k] |= BP_ATTACHED;
	}
	if (switch_on(e, k))
		b->flags[k] |= BP_FAILED;
	return false;
}

void emu_bypass_run(struct emu *e)
{
	struct emu_bypass *b = e->bp;
	size_t i, n = 0;

	if (!b || !b->nmarked)
		return;
	for (i = 0; i < b->nmarked; i++) {
		uint32_t k = b->marked[i];

		if (check(e, k))
			b->marked[n++] = k;
		else
			b->flags[k] &= (uint8_t)~BP_MARKED;
	}
	b->nmarked = n;
}

void emu_bypass_stats(struct emu *e, uint32_t port, struct emu_port_stats *s)
{
	struct emu_bypass *b = e->bp;
	uint64_t pkts, bytes;

	if (!b || !(b->flags[port] & BP_ATTACHED))
		return;
	s->bypass = (b->flags[port] & BP_ON) != 0;
	s->steered = (b->flags[port] & BP_STEERED) != 0;
	if (port_counts(b, port, &pkts, &bytes))
		return;
	s->dir.rx_pkts += pkts;
	s->dir.tx_pkts += pkts;
	s->dir.rx_bytes += bytes;
	s->dir.tx_bytes += bytes;
}

void emu_bypass_tick(struct emu *e)
{
	struct emu_bypass *b = e->bp;
	uint64_t ticks = 0, pkts, rate;
	uint32_t k;

	if (!b || b->tick_fd < 0 || read(b->tick_fd, &ticks, sizeof(ticks)) != sizeof(ticks) ||
	    !ticks)
		return;
	for (k = 0; k < e->nports; k++) {
		if (!e->ports[k].steer || !(b->flags[k] & BP_ON) || port_counts(b, k, &pkts, NULL))
			continue;
		rate = (pkts - b->last[k]) * 1000000000ULL / (ticks * (uint64_t)BP_TICK_NS);
		b->last[k] = pkts;
		if (!(b->flags[k] & BP_STEERED) && rate >= BP_STEER_ON_PPS) {
			steer(e, k, true);
			b->flags[k] |= BP_STEERED;
		} else if ((b->flags[k] & BP_STEERED) && rate < BP_STEER_OFF_PPS) {
			steer(e, k, false);
			b->flags[k] &= (uint8_t)~BP_STEERED;
		}
	}
}
