/* links: the supervisor's side of the link emulator (see links.h). */
#include "links.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "db.h"
#include "emu.h"
#include "links_steer.h"
#include "ns.h"
#include "rz_params.h"
#include "status.h"
#include "util.h"

/* The direction of one port: link li, leaving endpoint ep; its port is
 * port of emulator emu. */
#define LINKS_EP_REMOTE UINT32_MAX /* ep of the one port of an emulated LAN's
                                    * endpoints on other hosts: no direction
                                    * of an endpoint, shown and set nowhere */
struct dir_ref {
	uint32_t link, ep;
	uint32_t emu, port;
	int steer;           /* emu_port_cfg's: 1 + the core of its bypass */
};

/* One emulator: a data-plane thread and the links placed on it. Its ports
 * are dirs[first .. first + n). */
struct emu_thread {
	struct emu *emu;
	int cpu;             /* pinned to, or -1 */
	size_t first, n;
};

struct sup_links {
	struct xir *x;
	struct realization *rz;
	struct emu_thread *th;
	size_t nth;
	struct dir_ref *dirs; /* per port, thread by thread */
	size_t ndirs;
	int *core;            /* per node: links_steer_cores */
	int sysnet_fd;        /* the substrate's /sys/class/net, or -1 */
};

void links_stop(struct sup_links *l)
{
	size_t t;

	if (!l)
		return;
	for (t = 0; t < l->nth; t++)
		emu_close(l->th[t].emu);
	free(l->th);
	realize_free(l->rz);
	xir_free(l->x);
	free(l->dirs);
	free(l->core);
	if (l->sysnet_fd >= 0)
		close(l->sysnet_fd);
	free(l);
}

/* The core of the data-plane thread: VTB_EMU_CPU, or the last online
 * core when there are two or more (-1 in VTB_EMU_CPU: not pinned). */
static int emu_cpu(void)
{
	const char *env = getenv("VTB_EMU_CPU");
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (env && *env)
		return atoi(env);
	return n >= 2 ? (int)(n - 1) : -1;
}

/* How many data-plane threads: VTB_EMU_THREADS, default 1 (see
 * docs/link-emulator.md, "Threads"), at most one per link. */
static size_t emu_threads(size_t nsegs)
{
	const char *env = getenv("VTB_EMU_THREADS");
	long n = env && *env ? atol(env) : 1;

	if (n < 1)
		n = 1;
	return (size_t)n < nsegs ? (size_t)n : nsegs;
}

/* The core of thread t: the threads go down from the first one's core
 * (emu_cpu), wrapping around; -1 when the first one is not pinned. */
static int thread_cpu(size_t t)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int base = emu_cpu();

	if (base < 0 || ncpu < 1)
		return base < 0 ? -1 : base;
	return (int)(((long)base - (long)(t % (size_t)ncpu) + ncpu) % ncpu);
}

/* SCHED_FIFO priority of the data-plane thread: VTB_EMU_RT, default 0
 * (the normal scheduler). Measured here: SCHED_FIFO plus the polling
 * margin runs into the kernel's RT throttling (the thread is stopped for
 * the rest of a second once it used 95% of it), which delays frames by
 * tens of milliseconds; the normal scheduler on a pinned core does not. */
static int emu_rt_prio(void)
{
	const char *env = getenv("VTB_EMU_RT");

	return env && *env ? atoi(env) : 0;
}

/* May a zero-impairment direction of a point-to-point link bypass the
 * emulator (docs/link-emulator.md, "Bypass")? Yes unless VTB_EMU_BYPASS
 * is 0: the emulated path, for benchmarks and as an escape hatch. */
static bool emu_bypass_allowed(void)
{
	const char *env = getenv("VTB_EMU_BYPASS");

	return !env || strcmp(env, "0") != 0;
}

/* The ports link li has in this host's emulator: every endpoint's, or for
 * an emulated LAN across hosts the local endpoints' and one for all the
 * others (realize_link_lan_spread). */
static size_t link_nports(const struct realization *rz, size_t li)
{
	size_t j, n = 1;

	if (!realize_link_lan_spread(rz, li))
		return rz->x->links[li].nep;
	for (j = 0; j < rz->x->links[li].nep; j++)
		n += realize_ep_here(rz, li, j);
	return n;
}

/* The segment of an emulated LAN across hosts, link li, into seg: its
 * local endpoints' ports with their directions, and one more port, the
 * link's VXLAN device, for every endpoint on other hosts (LINKS_EP_REMOTE:
 * their traffic was impaired on their own hosts and passes as it comes;
 * the emulator learns their MACs there, and what it sends there the device
 * takes to the host of the destination). Ports into pc, directions into
 * dr, emulator t, its ports numbered from port on. Never bypassed: the
 * VXLAN device is no veth a redirect could reach the peer of. Returns how
 * many ports (link_nports). */
static size_t lan_spread_seg(const struct sup_links *l, size_t li, uint32_t t, uint32_t port,
			     struct emu_seg_cfg *seg, struct emu_port_cfg *pc, struct dir_ref *dr)
{
	size_t j, n = 0;

	for (j = 0; j <= l->x->links[li].nep; j++) {
		bool vtep = j == l->x->links[li].nep;

		if (!vtep && !realize_ep_here(l->rz, li, j))
			continue;
		snprintf(pc[n].ifname, sizeof(pc[n].ifname), "%s",
			 vtep ? l->rz->links[li].vtep : realize_ep_iface(l->rz, li, j)->port_name);
		if (!vtep)
			pc[n].p = l->rz->links[li].dir[j];
		dr[n] = (struct dir_ref){ .link = (uint32_t)li,
					  .ep = vtep ? LINKS_EP_REMOTE : (uint32_t)j, .emu = t,
					  .port = port + (uint32_t)n };
		n++;
	}
	*seg = (struct emu_seg_cfg){ .name = l->x->links[li].name, .ports = pc, .nports = n,
				     .mtu = l->rz->links[li].mtu, .bypass = false };
	return n;
}

/* The ports of thread t of l (links placed round robin, link k on thread
 * k % l->nth, both ends of a link on the same thread: frames cross between
 * them) into segs and ports, their directions from l->dirs[np] on. Returns
 * how many segments. */
static size_t thread_segs(struct sup_links *l, size_t t, struct emu_seg_cfg *segs,
			  struct emu_port_cfg *ports, size_t *np)
{
	size_t i, j, k = 0, nsegs = 0, first = *np;

	for (i = 0; i < l->x->nlinks; i++) {
		const struct xir_link *xl = &l->x->links[i];

		if (l->rz->links[i].cls != RZ_LC_EMULATED || !realize_link_here(l->rz, i))
			continue;
		if (k++ % l->nth != t)
			continue;
		if (realize_link_lan_spread(l->rz, i)) {
			size_t n = lan_spread_seg(l, i, (uint32_t)t, (uint32_t)(*np - first),
						  &segs[nsegs], &ports[*np - first], &l->dirs[*np]);

			nsegs++;
			*np += n;
			continue;
		}
		segs[nsegs] = (struct emu_seg_cfg){ .name = xl->name, .ports = &ports[*np - first],
						    .nports = xl->nep, .mtu = l->rz->links[i].mtu,
						    .bypass = emu_bypass_allowed() };
		nsegs++;
		for (j = 0; j < xl->nep; j++, (*np)++) {
			struct emu_port_cfg *pc = &ports[*np - first];

			snprintf(pc->ifname, sizeof(pc->ifname), "%s",
				 realize_ep_iface(l->rz, i, j)->port_name);
			/* a fragment's remote endpoint: its direction is
			 * emulated on its own host; here it passes as it is */
			if (realize_ep_here(l->rz, i, j))
				pc->p = l->rz->links[i].dir[j];
			/* a container's port (a veth) into a node with a core */
			if (xl->nep == 2 && l->sysnet_fd >= 0 &&
			    l->rz->nodes[xl->ep[j].node].kind == RZ_CONTAINER)
				pc->steer = l->core[xl->ep[!j].node];
			l->dirs[*np] = (struct dir_ref){ .link = (uint32_t)i, .ep = (uint32_t)j,
							 .emu = (uint32_t)t,
							 .port = (uint32_t)(*np - first),
							 .steer = pc->steer };
		}
	}
	return nsegs;
}

/* Open and start the emulators of l, one per thread, with total ports in
 * all. 0 or a negative errno with err. */
static int threads_start(struct sup_links *l, const char *id, size_t total, char *err,
			 size_t errlen)
{
	const char *spin = getenv("VTB_EMU_SPIN_NS");
	/* the seed: the id's FNV-1a, so a run of an experiment repeats */
	struct emu_opts o = { .seed = util_hash64(id, strlen(id)),
			      .spin_ns = spin ? strtoll(spin, NULL, 10) : 0, .ring_nports = total,
			      .sysnet_fd = l->sysnet_fd };
	struct emu_seg_cfg *segs = calloc(total, sizeof(*segs));
	struct emu_port_cfg *ports = calloc(total, sizeof(*ports));
	size_t t, np = 0, nsegs;
	int r = segs && ports ? 0 : -ENOMEM;

	for (t = 0; !r && t < l->nth; t++) {
		struct emu_thread *th = &l->th[t];

		memset(ports, 0, total * sizeof(*ports));
		th->first = np;
		nsegs = thread_segs(l, t, segs, ports, &np);
		th->n = np - th->first;
		th->cpu = thread_cpu(t);
		o.seed += t;
		r = emu_open(segs, nsegs, &o, &th->emu, err, errlen);
		if (!r)
			r = emu_start(th->emu, th->cpu, emu_rt_prio());
	}
	free(segs);
	free(ports);
	return r;
}

int links_start(const char *id, struct sup_links **out, char *err, size_t errlen)
{
	struct sup_links *l = calloc(1, sizeof(*l));
	size_t nsegs = 0, i, total = 0;
	int r;

	*out = NULL;
	err[0] = '\0';
	if (!l)
		return -ENOMEM;
	l->sysnet_fd = -1;
	r = status_load_id(id, &l->x, &l->rz);
	if (r) {
		snprintf(err, errlen, "cannot load the experiment: %s", strerror(-r));
		goto out;
	}
	for (i = 0; i < l->x->nlinks; i++)
		if (l->rz->links[i].cls == RZ_LC_EMULATED && realize_link_here(l->rz, i)) {
			nsegs++;
			total += link_nports(l->rz, i);
		}
	if (!nsegs)
		goto out;
	l->nth = emu_threads(nsegs);
	l->th = calloc(l->nth, sizeof(*l->th));
	l->dirs = calloc(total, sizeof(*l->dirs));
	if (!l->th || !l->dirs) {
		r = -ENOMEM;
		goto out;
	}
	l->ndirs = total;
	l->core = calloc(l->x->nnodes ? l->x->nnodes : 1, sizeof(*l->core));
	if (!l->core) {
		r = -ENOMEM;
		goto out;
	}
	links_steer_cores(l->x, l->rz, emu_bypass_allowed(), l->core);
	for (i = 0; i < l->x->nnodes && !l->core[i]; i++)
		;
	if (i < l->x->nnodes)
		l->sysnet_fd = ns_sysfs_net(); /* none: nothing steered */
	r = threads_start(l, id, total, err, errlen);
out:
	if (r) {
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-r));
		links_stop(l);
		return r;
	}
	*out = l;
	return 0;
}

static json_t *params_json(const struct emu_params *p)
{
	return json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:I,s:I,s:I}", "latency_ns",
			 (json_int_t)p->latency_ns, "jitter_ns", (json_int_t)p->jitter_ns, "loss",
			 emu_params_loss(p), "burst", emu_params_burst(p), "duplicate",
			 p->duplicate, "reorder", p->reorder, "corrupt", p->corrupt, "rate_bps",
			 (json_int_t)p->rate_bps, "queue_pkts",
			 (json_int_t)(p->queue_pkts ? p->queue_pkts : EMU_QUEUE_PKTS_DEFAULT),
			 "queue_bytes", (json_int_t)p->queue_bytes);
}

static json_t *counters_json(const struct emu_port_stats *s)
{
	const struct emu_stats *d = &s->dir;

	return json_pack("{s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I,s:I,s:I,s:I,s:I,s:I}",
			 "rx_packets", (json_int_t)d->rx_pkts, "rx_bytes", (json_int_t)d->rx_bytes,
			 "tx_packets", (json_int_t)d->tx_pkts, "tx_bytes", (json_int_t)d->tx_bytes,
			 "drops", "loss", (json_int_t)d->drop_loss, "queue",
			 (json_int_t)d->drop_queue, "memory", (json_int_t)d->drop_ring, "kernel",
			 (json_int_t)s->drop_kernel, "oversize", (json_int_t)s->drop_oversize, "tx",
			 (json_int_t)s->drop_tx, "port", (json_int_t)(s->drop_port + d->drop_flush),
			 "duplicated", (json_int_t)d->duplicated,
			 "reordered", (json_int_t)d->reordered, "corrupted",
			 (json_int_t)d->corrupted, "queue_packets", (json_int_t)d->backlog_pkts,
			 "queue_bytes", (json_int_t)d->backlog_bytes, "in_flight",
			 (json_int_t)d->ring_used);
}

/* The direction's in port: {"name": "vtb1234p0", "state": "up"}, and a
 * "problem" sentence for vtb status when it is down or gone. */
static json_t *port_json(const char *name, enum emu_port_state st)
{
	char why[UTIL_ERR_LEN];
	json_t *o = json_pack("{s:s,s:s}", "name", name, "state", emu_port_state_name(st));

	if (st == EMU_PORT_GONE)
		util_fmt(why, sizeof(why), "port %s is gone (the node deleted its interface, "
			 "or the port was deleted): this direction has stopped for good", name);
	else if (st == EMU_PORT_DOWN)
		util_fmt(why, sizeof(why), "port %s is down: this direction resumes when it is "
			 "set up again", name);
	if (st != EMU_PORT_UP)
		json_object_set_new(o, "problem", json_string(why));
	return o;
}

/* Every thread's counters into st[l->ndirs]. 0 or a negative errno. */
static int snapshot_all(struct sup_links *l, struct emu_port_stats *st)
{
	size_t t;
	int r = 0;

	for (t = 0; !r && t < l->nth; t++)
		r = emu_snapshot(l->th[t].emu, st + l->th[t].first);
	return r;
}

void links_annotate(struct sup_links *l, json_t *status)
{
	json_t *links = json_object_get(status, "links");
	struct emu_port_stats *st;
	size_t i;

	if (!l || !l->nth || !json_is_array(links))
		return;
	st = calloc(l->ndirs, sizeof(*st));
	if (!st || snapshot_all(l, st)) {
		free(st);
		return;
	}
	for (i = 0; i < l->ndirs; i++) {
		const struct xir_link *xl = &l->x->links[l->dirs[i].link];
		json_t *jl = json_array_get(links, l->dirs[i].link), *dirs, *d;
		uint32_t ep = l->dirs[i].ep;

		if (!jl || ep == LINKS_EP_REMOTE)
			continue;
		dirs = json_object_get(jl, "directions");
		if (!dirs) {
			dirs = json_array();
			json_object_set_new(jl, "directions", dirs);
		}
		d = json_pack("{s:s,s:s}", "from", l->x->nodes[xl->ep[ep].node].name, "to",
			      xl->nep == 2 ? l->x->nodes[xl->ep[!ep].node].name : xl->name);
		json_object_set_new(d, "params", params_json(&st[i].p));
		json_object_set_new(d, "counters", counters_json(&st[i]));
		json_object_set_new(d, "bypass", json_boolean(st[i].bypass));
		json_object_set_new(d, "thread", json_integer(l->dirs[i].emu));
		json_object_set_new(d, "cpu", l->th[l->dirs[i].emu].cpu >= 0 ?
					      json_integer(l->th[l->dirs[i].emu].cpu) : json_null());
		json_object_set_new(d, "kernel_cpu", l->dirs[i].steer && st[i].steered ?
						     json_integer(l->dirs[i].steer - 1) : json_null());
		json_object_set_new(d, "port",
				    port_json(realize_ep_iface(l->rz, l->dirs[i].link, ep)->port_name,
					      st[i].state));
		json_array_append_new(dirs, d);
	}
	free(st);
}

/* Apply the "set" object ({"latency": "20ms", ...}: property names and
 * values as vtb link set takes them) to p, through the property table. */
static int apply_set(json_t *set, struct emu_params *p, char *err, size_t errlen)
{
	struct rz_params b;
	const char *k;
	json_t *v;
	int r;

	rz_params_init(&b, p);
	json_object_foreach(set, k, v) {
		if (!json_is_string(v)) {
			util_fmt(err, errlen, "%s: not a value", k);
			return -EINVAL;
		}
		r = rz_params_parse(&b, k, json_string_value(v), err, errlen);
		if (r)
			return r;
	}
	r = rz_params_finish(&b, p);
	if (r == -EDOM)
		util_fmt(err, errlen, "burst must be 1 or more, with a loss below 1");
	else if (r)
		util_fmt(err, errlen, "the link emulator cannot apply these values");
	return r ? -EINVAL : 0;
}

/* Is direction i one of link's, leaving device from (any when NULL)? */
static bool dir_on_link(const struct sup_links *l, size_t i, const char *link, const char *from)
{
	const struct xir_link *xl = &l->x->links[l->dirs[i].link];

	if (l->dirs[i].ep == LINKS_EP_REMOTE)
		return false;
	return !strcmp(xl->name, link) &&
	       (!from || !strcmp(l->x->nodes[xl->ep[l->dirs[i].ep].node].name, from));
}

int links_set(struct sup_links *l, json_t *req, char *err, size_t errlen)
{
	const char *link = json_string_value(json_object_get(req, "link"));
	const char *from = json_string_value(json_object_get(req, "from"));
	json_t *set = json_object_get(req, "set");
	struct emu_port_stats *st = NULL;
	bool link_seen = false, from_seen = false;
	size_t i;
	int r = 0, n = 0;

	err[0] = '\0';
	if (!link || !json_is_object(set)) {
		snprintf(err, errlen, "bad request");
		return -EINVAL;
	}
	if (!l || !l->nth) {
		snprintf(err, errlen, "link '%s' is not emulated", link);
		return -ENOENT;
	}
	st = calloc(l->ndirs, sizeof(*st));
	if (!st)
		return -ENOMEM;
	r = snapshot_all(l, st);
	/* check every direction first, then apply: all or nothing */
	for (i = 0; !r && i < l->ndirs; i++) {
		link_seen = link_seen || dir_on_link(l, i, link, NULL);
		if (dir_on_link(l, i, link, from)) {
			from_seen = true;
			r = apply_set(set, &st[i].p, err, errlen);
		}
	}
	if (!r && !link_seen) {
		snprintf(err, errlen, "experiment has no emulated link '%s'", link);
		r = -ENOENT;
	} else if (!r && !from_seen) {
		snprintf(err, errlen, "link '%s' has no endpoint on device '%s'", link, from);
		r = -ENOENT;
	}
	for (i = 0; !r && i < l->ndirs; i++)
		if (dir_on_link(l, i, link, from)) {
			r = emu_set(l->th[l->dirs[i].emu].emu, l->dirs[i].port, &st[i].p);
			n += !r;
		}
	free(st);
	return r ? r : n;
}
