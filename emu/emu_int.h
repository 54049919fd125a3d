/* emu_int: the link emulator's private records, shared by the files of
 * emu/ (emu.c, the data-plane loop; emu_bypass.c, the kernel bypass of
 * zero-impairment directions). */
#ifndef VTB_EMU_INT_H
#define VTB_EMU_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "emu.h"
#include "emu_port.h"

#define MAC_SLOTS    256u          /* per LAN: learned MACs (open addressing) */
#define VLAN_HLEN    4u
#define EMU_EV_WAKE  UINT32_MAX        /* epoll data: the control eventfd */
#define EMU_EV_TICK  (UINT32_MAX - 1)  /* epoll data: emu_bypass's timer */

struct mac_ent {
	uint8_t mac[6];
	bool used;
	uint32_t port;
};

struct seg {
	uint32_t first, n;        /* its ports */
	struct mac_ent *macs;     /* LANs only */
	bool bypass;              /* a direction without impairment may bypass
	                           * the emulator (point-to-point only) */
};

struct emu {
	struct emu_port *ports;
	size_t nports;
	struct seg *segs;
	size_t nsegs;
	uint32_t slot_size;
	uint32_t *active;         /* ports whose direction holds frames */
	size_t nactive;
	uint32_t *suspect;        /* ports a send found down or gone: to look at */
	size_t nsuspect;
	int epfd, evfd;
	int64_t spin_ns;          /* the least margin */
	int64_t spin_cur;         /* the margin now: adapts to late wake-ups */
	uint8_t *scratch;         /* corrupted copies of shared slots */
	uint32_t nscratch;
	uint64_t rng;
	struct emu_bypass *bp;    /* NULL: no segment may be bypassed */
	int sysnet_fd;            /* emu_opts's: for the steered ports */
	pthread_t thread;
	bool running;
	/* control: one request at a time, carried out by the thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int pending;       /* a request waits */
	atomic_int stop;
	int req;                  /* REQ_* */
	size_t req_port;
	const struct emu_params *req_p;
	struct emu_port_stats *req_out;
	int req_r;
	bool req_done;
};

/* Find mac in LAN sg's table, adding it when insert (a full table forgets
 * one at random: it is learned again); NULL when not found. */
struct mac_ent *emu_mac_find(struct seg *sg, const uint8_t *mac, bool insert);
/* Take up to EMU_BATCH frames from port p's ring into its direction, at
 * now (monotonic; real_off is the realtime clock's offset from it, for the
 * ring's timestamps); returns how many ring frames it took. */
unsigned emu_rx_drain(struct emu *e, struct emu_port *p, uint64_t now, int64_t real_off);

#endif
