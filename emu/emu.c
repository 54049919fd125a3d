/* emu: the link emulator's data plane (see emu.h). */
#include "emu.h"
#include "emu_bypass.h"
#include "emu_int.h"
#include "util.h"

#include <errno.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SPIN_DEFAULT 60000LL       /* ns of polling before a deadline, at least */
#define SPIN_MAX     5000000LL     /* the margin grows up to this when wake-ups come late */

enum { REQ_NONE, REQ_SET, REQ_SNAP };

/* The virtio-net header of every frame sent to a VM's tap: complete, no
 * GSO (the emulator sends wire frames). Never written. */
static struct virtio_net_hdr vnet_none;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

void emu_close(struct emu *e)
{
	size_t i;

	if (!e)
		return;
	if (e->running) {
		atomic_store(&e->stop, 1);
		if (write(e->evfd, &(uint64_t){ 1 }, 8) != 8) {
			/* the thread also polls stop at every iteration */
		}
		pthread_join(e->thread, NULL);
	}
	emu_bypass_free(e);
	for (i = 0; i < e->nports; i++)
		emu_port_close(&e->ports[i], e->slot_size);
	for (i = 0; i < e->nsegs; i++)
		free(e->segs[i].macs);
	if (e->scratch)
		munmap(e->scratch, (size_t)EMU_BATCH * e->slot_size);
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->evfd >= 0)
		close(e->evfd);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e->ports);
	free(e->segs);
	free(e->active);
	free(e->suspect);
	free(e);
}

int emu_open(const struct emu_seg_cfg *segs, size_t nsegs, const struct emu_opts *o,
	     struct emu **out, char *err, size_t errlen)
{
	struct emu *e;
	unsigned mtu = 0;
	uint32_t frame_size;
	size_t i, j, n = 0, k = 0;
	int r = 0;

	*out = NULL;
	err[0] = '\0';
	for (i = 0; i < nsegs; i++) {
		n += segs[i].nports;
		if (segs[i].mtu > mtu)
			mtu = segs[i].mtu;
	}
	if (!mtu)
		mtu = 1500;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->epfd = e->evfd = -1;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	e->sysnet_fd = o->sysnet_fd;
	e->spin_ns = o->spin_ns > 0 ? o->spin_ns : SPIN_DEFAULT;
	e->spin_cur = e->spin_ns;
	e->rng = o->seed ^ 0x5bd1e995u;
	/* a frame: Ethernet header, a VLAN tag put back, the MTU's payload */
	e->slot_size = (uint32_t)((ETH_HLEN + VLAN_HLEN + mtu + 63) & ~63u);
	frame_size = pow2_at_least(TPACKET_ALIGN(TPACKET2_HDRLEN) + 64 + e->slot_size);
	e->ports = calloc(n ? n : 1, sizeof(*e->ports));
	e->segs = calloc(nsegs ? nsegs : 1, sizeof(*e->segs));
	e->active = calloc(n ? n : 1, sizeof(*e->active));
	e->suspect = calloc(n ? n : 1, sizeof(*e->suspect));
	if (!e->ports || !e->segs || !e->active || !e->suspect) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		e->ports[i].fd = -1;
	e->nports = n;
	e->nsegs = nsegs;
	e->scratch = mmap(NULL, (size_t)EMU_BATCH * e->slot_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->scratch == MAP_FAILED) {
		e->scratch = NULL;
		r = -ENOMEM;
		goto out;
	}
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->epfd < 0 || e->evfd < 0) {
		r = -errno;
		goto out;
	}
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->evfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.u32 = EMU_EV_WAKE })) {
		r = -errno;
		goto out;
	}
	for (i = 0; i < nsegs && !r; i++) {
		struct seg *sg = &e->segs[i];

		sg->first = (uint32_t)k;
		sg->n = (uint32_t)segs[i].nports;
		sg->bypass = segs[i].bypass;
		if (sg->n < 2) {
			snprintf(err, errlen, "link '%s': an emulated link needs two ports",
				 segs[i].name);
			r = -EINVAL;
			break;
		}
		if (sg->n > 2) {
			sg->macs = calloc(MAC_SLOTS, sizeof(*sg->macs));
			if (!sg->macs) {
				r = -ENOMEM;
				break;
			}
		}
		for (j = 0; j < segs[i].nports && !r; j++, k++) {
			struct emu_port *pt = &e->ports[k];
			const struct emu_port_cfg *pc = &segs[i].ports[j];

			pt->seg = (uint32_t)i;
			pt->steer = pc->steer;
			r = emu_params_check(&pc->p);
			if (r) {
				snprintf(err, errlen, "link '%s': invalid parameters for %s",
					 segs[i].name, pc->ifname);
				break;
			}
			r = emu_port_open(pt, pc->ifname, frame_size,
					  emu_port_ring_bytes(&pc->p, frame_size,
							      o->ring_nports ? o->ring_nports : n));
			if (!r)
				r = emu_port_alloc_dir(pt, &pc->p, e->slot_size, rng_next(&e->rng));
			if (!r && epoll_ctl(e->epfd, EPOLL_CTL_ADD, pt->fd,
					    &(struct epoll_event){ .events = EPOLLIN,
								   .data.u32 = (uint32_t)k }))
				r = -errno;
			if (r)
				snprintf(err, errlen, "link '%s': cannot open port %s: %s",
					 segs[i].name, pc->ifname, strerror(-r));
		}
	}
	if (!r)
		r = emu_bypass_new(e);
out:
	if (r) {
		emu_close(e);
		return r;
	}
	*out = e;
	return 0;
}

size_t emu_nports(const struct emu *e)
{
	return e->nports;
}

const char *emu_port_state_name(enum emu_port_state s)
{
	switch (s) {
	case EMU_PORT_UP: return "up";
	case EMU_PORT_DOWN: return "down";
	case EMU_PORT_GONE: return "gone";
	}
	return "?";
}

static void release_slot(struct emu_port *pt, uint32_t slot)
{
	if (--pt->slot_refs[slot] == 0)
		pt->free_slots[pt->nfree++] = slot;
}

/* Is err what a send to a port whose interface is down or gone fails with? */
static bool port_err_down(int err)
{
	return err == ENETDOWN || err == ENXIO || err == ENODEV;
}

/* Port pt's interface is now st: a change may switch a bypass on or off. */
static void set_state(struct emu *e, struct emu_port *pt, enum emu_port_state st)
{
	if (pt->state != st)
		emu_bypass_mark_link(e, (uint32_t)(pt - e->ports));
	pt->state = st;
}

/* Send what is batched for port o; what the port refuses is dropped and
 * counted on the direction it came from. A port down or gone refuses
 * everything (counted as drop_port) and is looked at after this iteration
 * (the send may have taken the socket error that epoll would have shown);
 * a send that passes shows a port down is up again. */
static void flush_port(struct emu *e, struct emu_port *o)
{
	uint32_t done = 0, i;
	int n;

	while (done < o->nout) {
		n = sendmmsg(o->fd, o->msg + done, o->nout - done, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && port_err_down(errno)) {
			set_state(e, o, EMU_PORT_DOWN);
			if (!o->suspect) {
				o->suspect = true;
				e->suspect[e->nsuspect++] = (uint32_t)(o - e->ports);
			}
			for (; done < o->nout; done++)
				e->ports[o->out_ref[done].port].drop_port++;
			break;
		}
		if (n <= 0) {
			/* the first refused frame is dropped, then go on */
			e->ports[o->out_ref[done].port].drop_tx++;
			done++;
			continue;
		}
		set_state(e, o, EMU_PORT_UP);
		done += (uint32_t)n;
	}
	for (i = 0; i < o->nout; i++) {
		if (o->out_ref[i].slot == UINT32_MAX)
			continue; /* a scratch copy */
		release_slot(&e->ports[o->out_ref[i].port], o->out_ref[i].slot);
	}
	o->nout = 0;
}

static void flush_all(struct emu *e)
{
	size_t i;

	for (i = 0; i < e->nports; i++)
		if (e->ports[i].nout)
			flush_port(e, &e->ports[i]);
	e->nscratch = 0;
}

/* Queue a frame of port src's slot for port o. */
static void out_frame(struct emu *e, struct emu_port *o, uint32_t src, uint32_t slot, uint8_t *data,
		      uint32_t len)
{
	uint32_t k;

	if (o->state == EMU_PORT_GONE) {
		e->ports[src].drop_port++;
		return;
	}
	if (o->nout == EMU_BATCH)
		flush_port(e, o);
	k = o->nout++;
	memset(&o->msg[k], 0, sizeof(o->msg[k]));
	o->msg[k].msg_hdr.msg_iov = &o->iov[2 * k];
	o->msg[k].msg_hdr.msg_iovlen = 1;
	if (o->vh) {
		/* a VM's tap: a complete frame, nothing for the guest to do */
		o->iov[2 * k] = (struct iovec){ .iov_base = &vnet_none, .iov_len = o->vh };
		o->msg[k].msg_hdr.msg_iovlen = 2;
	}
	o->iov[2 * k + o->msg[k].msg_hdr.msg_iovlen - 1] =
		(struct iovec){ .iov_base = data, .iov_len = len };
	o->out_ref[k].port = src;
	o->out_ref[k].slot = slot;
	if (slot != UINT32_MAX)
		e->ports[src].slot_refs[slot]++;
}

/* A frame of port p's direction is due: send it where it goes. */
static void deliver(struct emu *e, struct emu_port *p, const struct emu_pkt *pk)
{
	uint32_t src = (uint32_t)(p - e->ports), slot = (uint32_t)pk->cookie, i;
	struct seg *sg = &e->segs[p->seg];
	uint8_t *data = p->slab + (size_t)slot * e->slot_size;
	uint32_t len = p->slot_len[slot];

	if (pk->flags & EMU_PKT_CORRUPT) {
		/* a random bit after the Ethernet header, so the frame still
		 * reaches its node and the damage shows in its checksums; on a
		 * copy when the slot is shared with a duplicate */
		uint64_t bit;

		if (len <= ETH_HLEN) {
			release_slot(p, slot);
			return;
		}
		if (p->slot_refs[slot] > 1) {
			if (e->nscratch == EMU_BATCH)
				flush_all(e);
			uint8_t *copy = e->scratch + (size_t)e->nscratch++ * e->slot_size;

			memcpy(copy, data, len);
			release_slot(p, slot);
			data = copy;
			slot = UINT32_MAX;
		}
		bit = rng_next(&e->rng) % ((uint64_t)(len - ETH_HLEN) * 8);
		data[ETH_HLEN + bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	if (sg->n == 2) {
		out_frame(e, &e->ports[sg->first + (src == sg->first)], src, slot, data, len);
	} else {
		struct mac_ent *m = (data[0] & 1) ? NULL : emu_mac_find(sg, data, false);

		if (m && m->port != src) {
			out_frame(e, &e->ports[m->port], src, slot, data, len);
		} else if (!m) {
			for (i = sg->first; i < sg->first + sg->n; i++)
				if (i != src)
					out_frame(e, &e->ports[i], src, slot, data, len);
		}
	}
	/* the reference the direction held */
	if (slot != UINT32_MAX)
		release_slot(p, slot);
}

/* Send everything due; returns the earliest remaining deadline. */
static uint64_t run_due(struct emu *e, uint64_t now)
{
	struct emu_pkt pk[EMU_BATCH];
	uint64_t next = UINT64_MAX, dl;
	size_t i = 0, n, k;

	while (i < e->nactive) {
		struct emu_port *p = &e->ports[e->active[i]];

		do {
			n = emu_dir_due(&p->d, now, pk, EMU_BATCH);
			for (k = 0; k < n; k++)
				deliver(e, p, &pk[k]);
		} while (n == EMU_BATCH);
		dl = emu_dir_next_deadline(&p->d);
		if (dl == UINT64_MAX) {
			if (e->bp && emu_params_none(&p->d.p))
				emu_bypass_mark(e, e->active[i]); /* emptied: it may go on */
			p->active = false;
			e->active[i] = e->active[--e->nactive];
			continue;
		}
		if (dl < next)
			next = dl;
		i++;
	}
	flush_all(e);
	return next;
}

/* Copy every port's counters, parameters and state into out. A port seen
 * down is looked at again: set up with nothing sent since, it shows up. */
static void snapshot(struct emu *e, struct emu_port_stats *out)
{
	size_t i;

	for (i = 0; i < e->nports; i++) {
		struct emu_port *pt = &e->ports[i];

		emu_port_kernel_drops(pt);
		if (pt->state == EMU_PORT_DOWN && emu_port_probe(pt) == EMU_PORT_UP)
			set_state(e, pt, EMU_PORT_UP);
		out[i] = (struct emu_port_stats){
			.dir = pt->d.stats,
			.p = pt->d.p,
			.drop_kernel = pt->drop_kernel,
			.drop_oversize = pt->drop_oversize,
			.drop_tx = pt->drop_tx,
			.drop_port = pt->drop_port,
			.state = pt->state,
		};
		emu_bypass_stats(e, (uint32_t)i, &out[i]);
	}
}

/* A copy a change of parameters dropped from port ctx's queue: its slot
 * reference goes. */
static void drop_copy(void *ctx, uint64_t cookie)
{
	release_slot(ctx, (uint32_t)cookie);
}

/* Apply params p to port's direction now, queued frames included
 * (emu_dir_set_params), its slots grown first to what p needs; between two
 * iterations no frame is batched (the slab may move). 0, -EINVAL or
 * -ENOMEM (nothing changed). */
static int set_port(struct emu *e, size_t port, const struct emu_params *p)
{
	struct emu_port *pt = &e->ports[port];
	int r = emu_port_grow(pt, p, e->slot_size);

	if (!r)
		r = emu_dir_set_params(&pt->d, (uint64_t)util_clock_ns(CLOCK_MONOTONIC), p,
				       drop_copy, pt);
	if (!r) {
		/* a bypassed direction comes back now, before the caller
		 * hears the change is made */
		emu_bypass_mark(e, (uint32_t)port);
		emu_bypass_run(e);
	}
	return r;
}

static void serve_request(struct emu *e)
{
	pthread_mutex_lock(&e->mu);
	e->req_r = 0;
	if (e->req == REQ_SET)
		e->req_r = set_port(e, e->req_port, e->req_p);
	else if (e->req == REQ_SNAP)
		snapshot(e, e->req_out);
	e->req = REQ_NONE;
	e->req_done = true;
	atomic_store(&e->pending, 0);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* Port p's socket has an error pending: the kernel's ENETDOWN when its
 * interface went down or was deleted. Read it (a pending error keeps epoll
 * waking: the thread spun on it), take what the ring holds, then look at
 * the interface. Up: nothing to do. Down or gone: the direction's frames
 * are dropped and counted (drop_flush), and frames due to leave by it are
 * dropped from now on (drop_port); a port down keeps its socket, bound and
 * in the epoll set, to resume when set up again; a port gone leaves the
 * epoll set and its socket is closed. A deletion is seen as down, then
 * gone: the kernel sets the error for each. */
static void port_changed(struct emu *e, struct emu_port *p, uint64_t now, int64_t real_off)
{
	int err = 0, st;
	socklen_t len = sizeof(err);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len)) {
		/* cannot happen on an open socket; the probe below still decides */
	}
	while (emu_rx_drain(e, p, now, real_off) == EMU_BATCH)
		;
	st = emu_port_probe(p);
	if (st < 0)
		st = EMU_PORT_DOWN; /* cannot tell: stop it, a frame sent or received resumes it */
	if (st == EMU_PORT_UP) {
		set_state(e, p, EMU_PORT_UP);
		return;
	}
	emu_dir_flush(&p->d);
	emu_port_reset_slots(p);
	set_state(e, p, (enum emu_port_state)st);
	if (st == EMU_PORT_GONE) {
		emu_port_kernel_drops(p);
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, p->fd, NULL);
		emu_port_close_socket(p);
	}
}

/* Look at the ports a send found down or gone (no frame of theirs is
 * batched: run_due flushed every batch). */
static void check_suspects(struct emu *e, uint64_t now, int64_t real_off)
{
	size_t i;

	for (i = 0; i < e->nsuspect; i++) {
		struct emu_port *p = &e->ports[e->suspect[i]];

		p->suspect = false;
		if (p->fd >= 0)
			port_changed(e, p, now, real_off);
	}
	e->nsuspect = 0;
}

/* An event on the epoll set: the control eventfd, or a port's socket. */
static void on_event(struct emu *e, const struct epoll_event *ev, uint64_t now, int64_t real_off)
{
	struct emu_port *p;
	uint64_t drain;

	if (ev->data.u32 == EMU_EV_WAKE) {
		if (read(e->evfd, &drain, 8) != 8) {
			/* nothing to drain: another wake-up took it */
		}
		return;
	}
	if (ev->data.u32 == EMU_EV_TICK) {
		emu_bypass_tick(e);
		return;
	}
	p = &e->ports[ev->data.u32];
	if (p->fd < 0)
		return; /* gone earlier in this batch of events */
	if (ev->events & (EPOLLERR | EPOLLHUP)) {
		port_changed(e, p, now, real_off);
		return;
	}
	/* a frame from a port seen down: it is up again */
	if (emu_rx_drain(e, p, now, real_off) && p->state == EMU_PORT_DOWN)
		set_state(e, p, EMU_PORT_UP);
}

static void *loop(void *arg)
{
	struct emu *e = arg;
	struct epoll_event ev[64];
	uint64_t next = UINT64_MAX, now;
	int64_t real_off = (int64_t)((uint64_t)util_clock_ns(CLOCK_REALTIME) - (uint64_t)util_clock_ns(CLOCK_MONOTONIC));
	int n, i;

	prctl(PR_SET_TIMERSLACK, 1UL);
	while (!atomic_load(&e->stop)) {
		struct timespec to, *top = &to;
		uint64_t wake = 0;

		emu_bypass_run(e); /* between two iterations: nothing batched */
		now = (uint64_t)util_clock_ns(CLOCK_MONOTONIC);
		if (next == UINT64_MAX) {
			top = NULL; /* nothing queued: sleep until a frame comes */
		} else if (next > now + (uint64_t)e->spin_cur) {
			uint64_t d = next - now - (uint64_t)e->spin_cur;

			wake = now + d;
			to.tv_sec = (time_t)(d / 1000000000ULL);
			to.tv_nsec = (long)(d % 1000000000ULL);
		} else {
			to.tv_sec = 0;
			to.tv_nsec = 0;
		}
		n = epoll_pwait2(e->epfd, ev, 64, top, NULL);
		now = (uint64_t)util_clock_ns(CLOCK_MONOTONIC);
		/* How late did the timer wake us? On a VM whose idle vCPU its host
		 * deschedules, much later than on bare metal: the margin grows
		 * with what is seen (up to SPIN_MAX), and decays slowly. */
		if (n == 0 && wake) {
			int64_t late = (int64_t)(now - wake);

			if (late * 2 > e->spin_cur)
				e->spin_cur = late * 2 < SPIN_MAX ? late * 2 : SPIN_MAX;
			else
				e->spin_cur -= (e->spin_cur - e->spin_ns) / 256;
		}
		real_off = (int64_t)((uint64_t)util_clock_ns(CLOCK_REALTIME) - now);
		for (i = 0; i < n; i++)
			on_event(e, &ev[i], now, real_off);
		if (atomic_load(&e->pending))
			serve_request(e);
		next = run_due(e, (uint64_t)util_clock_ns(CLOCK_MONOTONIC));
		if (e->nsuspect) {
			check_suspects(e, now, real_off);
			next = run_due(e, (uint64_t)util_clock_ns(CLOCK_MONOTONIC));
		}
	}
	return NULL;
}

int emu_start(struct emu *e, int cpu, int rt_prio)
{
	int r = pthread_create(&e->thread, NULL, loop, e);

	if (r)
		return -r;
	e->running = true;
	if (rt_prio > 0) {
		struct sched_param sp = { .sched_priority = rt_prio };

		/* best effort: without it the thread still runs, less exactly */
		pthread_setschedparam(e->thread, SCHED_FIFO, &sp);
	}
	if (cpu >= 0 && cpu < CPU_SETSIZE) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		r = pthread_setaffinity_np(e->thread, sizeof(set), &set);
		if (r)
			return -r; /* the thread runs; emu_close stops it */
	}
	return 0;
}

static int request(struct emu *e, int kind, size_t port, const struct emu_params *p,
		   struct emu_port_stats *out)
{
	int r;

	if (!e->running) {
		if (kind == REQ_SET)
			return set_port(e, port, p);
		snapshot(e, out);
		return 0;
	}
	pthread_mutex_lock(&e->mu);
	while (e->req != REQ_NONE)
		pthread_cond_wait(&e->cv, &e->mu);
	e->req = kind;
	e->req_port = port;
	e->req_p = p;
	e->req_out = out;
	e->req_done = false;
	atomic_store(&e->pending, 1);
	if (write(e->evfd, &(uint64_t){ 1 }, 8) != 8) {
		/* the counter is saturated: the thread is being woken anyway */
	}
	while (!e->req_done)
		pthread_cond_wait(&e->cv, &e->mu);
	r = e->req_r;
	pthread_mutex_unlock(&e->mu);
	return r;
}

int emu_set(struct emu *e, size_t port, const struct emu_params *p)
{
	if (port >= e->nports || emu_params_check(p))
		return -EINVAL;
	return request(e, REQ_SET, port, p, NULL);
}

int emu_snapshot(struct emu *e, struct emu_port_stats *out)
{
	return request(e, REQ_SNAP, 0, NULL, out);
}
