/* capture: a pcap of a link's frames, taken where the frames are (see
 * linkside.h): a direct veth on a node's end, a LAN or a shortbridge on the
 * ports its frames enter by, an emulated link at the receivers' ends (the
 * frames as they leave the emulator) or with ingress on the senders' ports
 * (as they enter it). libpcap opens each point in its namespace; the frames
 * of all points of one output go to one pcap in arrival order. */
#ifndef VTB_CAPTURE_H
#define VTB_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "linkside.h"

enum capture_dir { CAPTURE_INOUT, CAPTURE_IN, CAPTURE_OUT };

/* One place to capture at: an interface in a namespace, a direction, an
 * extra filter expression ("" for none), and the output it feeds. */
struct capture_point {
	struct linkside at;
	enum capture_dir dir;
	char match[48];
	size_t out;
};

/* At most this many points per link: one per endpoint. */
#define CAPTURE_MAX_POINTS(rz, li) ((rz)->x->links[li].nep)

/* Append the points of link li to pts (room for CAPTURE_MAX_POINTS more),
 * feeding output out: the frames endpoint from sends (-1: every frame of
 * the link), on an emulated link as they leave the emulator, or with
 * ingress as they enter it; only this host's points (realize_ep_here) of
 * a link across hosts. note receives a sentence when the points are
 * not what was asked (an emulated link towards a VM), else "". Returns the
 * number of points added. */
size_t capture_plan(const struct realization *rz, size_t li, int from, bool ingress, size_t out,
		    struct capture_point *pts, char *note, size_t notelen);

/* Where one output goes: f (owned by capture_run from the call on: it is
 * closed at the end) and its frame limit (0: none). */
struct capture_out {
	FILE *f;
	long count;
	long seen;    /* frames written, set by capture_run */
	long dropped; /* frames the kernel dropped (a ring full), set by capture_run */
};

/* How capture_run runs: filter (a pcap expression, or NULL) applies at
 * every point; it ends when *stop is set; ready (or NULL) is called with
 * arg once every point is open, before the first frame is read. */
struct capture_opts {
	const char *filter;
	volatile sig_atomic_t *stop;
	void (*ready)(void *arg);
	void *arg;
};

/* Capture at the n points into the outputs until every output with a
 * limit has its count (when all have one) or *o->stop is set. Returns 0,
 * or a negative errno with err naming the interface and saying why
 * (-EINVAL: the filter). */
int capture_run(const struct capture_point *pts, size_t n, struct capture_out *outs, size_t nouts,
		const struct capture_opts *o, char *err, size_t errlen);

#endif
