/* capture: libpcap handles in the link's namespaces, one loop writing pcaps. */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib.h"
#include "util.h"

/* The bytes kept of a frame: a jumbo frame whole. A direct veth may carry
 * bigger GSO frames; they are cut there (the pcap keeps their length). In
 * immediate mode (TPACKET_V2) every ring slot is this big, so it also sets
 * how many frames the ring holds. */
#define CAPTURE_SNAPLEN 9216
/* The kernel ring of one interface: 8 MiB is about 900 slots, 90 ms of a
 * 10 kpps link for the capture process to be late by before the kernel
 * drops (counted: capture_out.dropped); libpcap's 2 MiB lost 3% of such a
 * link on a loaded machine. */
#define CAPTURE_BUFFER (8 << 20)

/* The points of the senders (every endpoint, or from) on their ports. */
static size_t plan_ports(const struct realization *rz, size_t li, int from, size_t out,
			 struct capture_point *pts)
{
	size_t j, n = 0;

	for (j = 0; j < rz->x->links[li].nep; j++) {
		if (from >= 0 && (size_t)from != j)
			continue;
		pts[n] = (struct capture_point){ .dir = CAPTURE_IN, .out = out };
		if (!linkside_port(rz, li, j, &pts[n].at))
			n++;
	}
	return n;
}

/* An emulated link's receivers' ends (every endpoint but from) on this
 * host: the frames the emulator delivered, of from's only when given (a
 * receiver on another host is that host's to capture: docs/cluster.md).
 * 0 when a receiver is a VM (the emulator sends to a tap past the kernel's
 * capture taps), *vm then set. */
static size_t plan_receivers(const struct realization *rz, size_t li, int from, size_t out,
			     struct capture_point *pts, bool *vm)
{
	const uint8_t *m = from >= 0 ? realize_ep_iface(rz, li, (size_t)from)->mac : NULL;
	size_t j, n = 0;
	int r;

	for (j = 0; j < rz->x->links[li].nep; j++) {
		if (from >= 0 && (size_t)from == j)
			continue;
		pts[n] = (struct capture_point){ .dir = CAPTURE_IN, .out = out };
		r = linkside_node(rz, li, j, &pts[n].at);
		if (r == -EREMOTE)
			continue;
		*vm = r != 0;
		if (r)
			return 0;
		if (m && rz->links[li].kind == RZ_LAN)
			snprintf(pts[n].match, sizeof(pts[n].match),
				 "ether src %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
				 m[4], m[5]);
		n++;
	}
	return n;
}

size_t capture_plan(const struct realization *rz, size_t li, int from, bool ingress, size_t out,
		    struct capture_point *pts, char *note, size_t notelen)
{
	bool vm = false;
	size_t n;

	note[0] = '\0';
	switch (rz->links[li].cls) {
	case RZ_LC_VETH:
		pts[0] = (struct capture_point){ .dir = from >= 0 ? CAPTURE_OUT : CAPTURE_INOUT,
						 .out = out };
		return linkside_node(rz, li, from >= 0 ? (size_t)from : 0, &pts[0].at) ? 0 : 1;
	case RZ_LC_EMULATED:
		if (!ingress) {
			n = plan_receivers(rz, li, from, out, pts, &vm);
			if (n || !vm)
				return n;
			util_fmt(note, notelen, "link '%s' leads to a VM, whose tap the emulator "
				 "writes past the kernel's capture point: capturing its frames as they "
				 "enter the emulator (--ingress)", rz->x->links[li].name);
		}
		return plan_ports(rz, li, from, out, pts);
	default:
		return plan_ports(rz, li, from, out, pts);
	}
}

/* The filter of a point: its match and the user's expression, both when
 * both are given. A new string or NULL (no memory). */
static char *point_filter(const struct capture_point *pt, const char *filter)
{
	char *s = NULL;
	int w;

	if (filter && *filter && pt->match[0])
		w = asprintf(&s, "(%s) and (%s)", pt->match, filter);
	else
		w = asprintf(&s, "%s", pt->match[0] ? pt->match : filter ? filter : "");
	return w < 0 ? NULL : s;
}

/* Apply direction, filter and non-blocking mode to an activated p. */
static int point_setup(pcap_t *p, const struct capture_point *pt, const char *filter, char *err,
		       size_t errlen)
{
	static const pcap_direction_t dirs[] = {
		[CAPTURE_INOUT] = PCAP_D_INOUT, [CAPTURE_IN] = PCAP_D_IN, [CAPTURE_OUT] = PCAP_D_OUT,
	};
	char ebuf[PCAP_ERRBUF_SIZE], *expr = point_filter(pt, filter);
	struct bpf_program prog;
	int r = 0;

	if (!expr)
		return -ENOMEM;
	if (pcap_setdirection(p, dirs[pt->dir])) {
		util_fmt(err, errlen, "cannot set the direction on %s: %s", pt->at.ifname,
			 pcap_geterr(p));
		r = -EIO;
		goto out_free;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		util_fmt(err, errlen, "filter '%s': %s", expr, pcap_geterr(p));
		r = -EINVAL;
		goto out_free;
	}
	if (pcap_setfilter(p, &prog)) {
		util_fmt(err, errlen, "cannot filter on %s: %s", pt->at.ifname, pcap_geterr(p));
		r = -EIO;
	}
	pcap_freecode(&prog);
	if (!r && pcap_setnonblock(p, 1, ebuf)) {
		util_fmt(err, errlen, "%s: %s", pt->at.ifname, ebuf);
		r = -EIO;
	}
out_free:
	free(expr);
	return r;
}

/* Open point pt in its namespace: an activated, filtered, non-blocking
 * handle in *out (the caller closes it), or a negative errno with err. */
static int point_open(const struct capture_point *pt, const char *filter, pcap_t **out, char *err,
		      size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = NULL;
	int back, r, a;

	r = linkside_enter(pt->at.ns, &back);
	if (r) {
		util_fmt(err, errlen, "cannot enter namespace %s: %s", pt->at.ns, strerror(-r));
		return r;
	}
	p = pcap_create(pt->at.ifname, ebuf);
	if (p) {
		/* immediate: every frame handed over at once (TPACKET_V2), no
		 * block timer between the link and the pcap */
		pcap_set_snaplen(p, CAPTURE_SNAPLEN);
		pcap_set_buffer_size(p, CAPTURE_BUFFER);
		pcap_set_immediate_mode(p, 1);
		a = pcap_activate(p);
	}
	r = linkside_leave(back);
	if (!p) {
		util_fmt(err, errlen, "cannot capture on %s in %s: %s", pt->at.ifname, pt->at.ns, ebuf);
		return -EIO;
	}
	if (a < 0 || r) {
		util_fmt(err, errlen, "cannot capture on %s in %s: %s", pt->at.ifname, pt->at.ns,
			 r ? strerror(-r) : pcap_geterr(p));
		r = a == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV : -EIO;
		goto out_close;
	}
	r = point_setup(p, pt, filter, err, errlen);
	if (r)
		goto out_close;
	*out = p;
	return 0;
out_close:
	pcap_close(p);
	return r;
}

/* One output being written: its dumper and limit. */
struct cap_sink {
	pcap_dumper_t *d;
	struct capture_out *o;
};

/* pcap_dispatch's callback: one frame into its output, up to its limit. */
static void cap_write(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct cap_sink *s = (struct cap_sink *)user;

	if (s->o->count && s->o->seen >= s->o->count)
		return;
	pcap_dump((u_char *)s->d, h, bytes);
	s->o->seen++;
}

/* Whether every output has a limit and has reached it. */
static bool cap_done(const struct capture_out *outs, size_t nouts)
{
	size_t i;

	for (i = 0; i < nouts; i++)
		if (!outs[i].count || outs[i].seen < outs[i].count)
			return false;
	return true;
}

/* The loop: poll every handle, dispatch what is ready into its sink. */
static int cap_loop(pcap_t **ps, struct pollfd *fds, const struct capture_point *pts, size_t n,
		    struct cap_sink *sinks, struct capture_out *outs, size_t nouts,
		    volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	size_t i;

	while (!*stop && !cap_done(outs, nouts)) {
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			util_fmt(err, errlen, "poll: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (pcap_dispatch(ps[i], -1, cap_write, (u_char *)&sinks[pts[i].out]) < 0) {
				util_fmt(err, errlen, "capture on %s in %s: %s", pts[i].at.ifname,
					 pts[i].at.ns, pcap_geterr(ps[i]));
				return -EIO;
			}
			if (pcap_dump_flush(sinks[pts[i].out].d)) {
				util_fmt(err, errlen, "cannot write the capture: %s", strerror(errno));
				return -EIO;
			}
		}
	}
	return 0;
}

int capture_run(const struct capture_point *pts, size_t n, struct capture_out *outs, size_t nouts,
		const struct capture_opts *o, char *err, size_t errlen)
{
	pcap_t **ps = calloc(n, sizeof(*ps)), *dead = NULL;
	struct cap_sink *sinks = calloc(nouts, sizeof(*sinks));
	struct pollfd *fds = calloc(n, sizeof(*fds));
	size_t i;
	int r = dynlib_open(&dynlib_pcap, err, errlen);

	if (r)
		goto out_free;
	r = -ENOMEM;
	dead = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
	if (!ps || !sinks || !fds || !dead)
		goto out_free;
	for (i = 0, r = 0; i < nouts; i++) {
		sinks[i] = (struct cap_sink){ .o = &outs[i] };
		sinks[i].d = pcap_dump_fopen(dead, outs[i].f);
		if (!sinks[i].d) {
			util_fmt(err, errlen, "cannot write the capture: %s", pcap_geterr(dead));
			r = -EIO;
			goto out_free;
		}
		outs[i].f = NULL; /* the dumper owns it */
	}
	for (i = 0; i < n && !r; i++) {
		r = point_open(&pts[i], o->filter, &ps[i], err, errlen);
		if (!r)
			fds[i] = (struct pollfd){ .fd = pcap_get_selectable_fd(ps[i]), .events = POLLIN };
	}
	if (!r && o->ready)
		o->ready(o->arg);
	if (!r)
		r = cap_loop(ps, fds, pts, n, sinks, outs, nouts, o->stop, err, errlen);
out_free:
	for (i = 0; ps && i < n; i++) {
		struct pcap_stat st;

		if (ps[i] && !pcap_stats(ps[i], &st))
			outs[pts[i].out].dropped += st.ps_drop;
		if (ps[i])
			pcap_close(ps[i]);
	}
	for (i = 0; i < nouts; i++) {
		if (sinks && sinks[i].d)
			pcap_dump_close(sinks[i].d);
		else if (outs[i].f)
			fclose(outs[i].f);
		outs[i].f = NULL;
	}
	if (dead)
		pcap_close(dead);
	free(fds);
	free(sinks);
	free(ps);
	return r;
}
