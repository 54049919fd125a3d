/* build: plan, journal, create (and remove) an experiment's kernel objects. */
#include "build.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "dag.h"
#include "netns.h"
#include "nl.h"
#include "redirect.h"
#include "proc.h"

void build_netns_name(const char *id, const char *node, char *buf, size_t len)
{
	snprintf(buf, len, "vtb%s-%s", id, node);
}

/* base 36, so an index fits in the 15 bytes of an interface name */
static void b36(unsigned long v, char *buf, size_t len)
{
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
		v /= 36;
	} while (v && n < sizeof(tmp));
	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = tmp[n - 1 - i];
	buf[i] = '\0';
}

/* The netdev group of an experiment's bridges: "vt" and the 16-bit id, so
 * teardown can delete them with one request (see td_bridge_group). */
static uint32_t bridge_group(const char *id)
{
	return 0x76740000u | ((uint32_t)strtoul(id, NULL, 16) & 0xffff);
}

static void bridge_name(const char *id, uint32_t link, char *buf, size_t len)
{
	char n[16];

	b36(link, n, sizeof(n));
	snprintf(buf, len, "vtb%sb%s", id, n);
}

bool build_link_has_ports(const struct realization *rz, uint32_t link)
{
	const struct xir_link *l = &rz->x->links[link];
	size_t j;

	if (rz->links[link].kind == RZ_LAN || rz->links[link].emulated)
		return true;
	for (j = 0; j < l->nep; j++)
		if (rz->nodes[l->ep[j].node].kind == RZ_VM)
			return true;
	return false;
}

int build_tap_open(const char *name, bool persist)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd, r;

	if (strlen(name) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	strcpy(ifr.ifr_name, name);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) || (persist && ioctl(fd, TUNSETPERSIST, 1))) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void build_port_name(const char *id, uint32_t port, char *buf, size_t len)
{
	char n[16];

	b36(port, n, sizeof(n));
	snprintf(buf, len, "vtb%sp%s", id, n);
}

struct build_ctx;

#define NONE UINT32_MAX

/* One unit of work in the DAG. */
struct btask {
	struct build_ctx *c;
	enum { BT_NETNS, BT_BRIDGE, BT_PORT, BT_EPORT, BT_TAP, BT_SHORT, BT_P2P, BT_CONFIG } kind;
	uint32_t node, link, ep, port;
	uint32_t dep, dep2; /* tasks this one waits for besides its node's (UINT32_MAX: none) */
};

struct build_ctx {
	const char *id;
	const struct realization *rz;
	const struct xir *x;
	int *ns_fd;                        /* per node, -1 until its netns exists */
	struct nl_sock *root[BUILD_WORKERS];
	pthread_mutex_t lock;              /* guards err */
	struct build_error *err;
	bool failed;
	build_progress_fn progress;
	void *parg;
};

static void set_error(struct build_ctx *c, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(struct build_ctx *c, const char *msg, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	if (!c->failed) {
		c->failed = true;
		va_start(ap, fmt);
		vsnprintf(c->err->what, sizeof(c->err->what), fmt, ap);
		va_end(ap);
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", msg);
	}
	pthread_mutex_unlock(&c->lock);
}

static struct nl_sock *root_sock(struct build_ctx *c, unsigned worker, int *r)
{
	if (!c->root[worker]) {
		*r = nl_open(&c->root[worker], -1);
		if (*r)
			return NULL;
	}
	*r = 0;
	return c->root[worker];
}

static const char *link_name(const struct build_ctx *c, uint32_t l)
{
	return c->x->links[l].name ? c->x->links[l].name : "?";
}

static int do_netns(struct build_ctx *c, const struct btask *t)
{
	const char *node = c->x->nodes[t->node].name;
	char name[128];
	int r, fd;

	if (c->rz->nodes[t->node].kind == RZ_VM)
		return 0; /* a VM has no namespace: its NICs are taps */
	build_netns_name(c->id, node, name, sizeof(name));
	r = netns_create(name, node);
	if (r) {
		set_error(c, strerror(-r), "cannot create the namespace of device '%s' (%s)", node,
			  name);
		return r;
	}
	fd = netns_open(name);
	if (fd < 0) {
		set_error(c, strerror(-fd), "cannot open the namespace of device '%s' (%s)", node,
			  name);
		return fd;
	}
	c->ns_fd[t->node] = fd;
	/* IPv4 forwarding is per incoming interface, and interfaces copy the
	 * namespace's default when they are created, which is next. Writing
	 * conf/default needs no RTNL lock; conf/all takes it with a trylock
	 * and the write restarts until it succeeds, a spin that costs much
	 * when other workers are creating links. */
	if (c->rz->nodes[t->node].forwarding) {
		r = netns_sysctl(fd, "net/ipv4/conf/default/forwarding", "1");
		if (r) {
			set_error(c, strerror(-r), "cannot enable forwarding in device '%s'", node);
			return r;
		}
	}
	return 0;
}

static int do_bridge(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	struct nl_link_opts o = { .mtu = c->rz->links[t->link].mtu, .up = true,
				  .group = bridge_group(c->id) };
	struct nl_err e = { 0 };
	struct nl_sock *s;
	char name[32];
	int r;

	bridge_name(c->id, t->link, name, sizeof(name));
	s = root_sock(c, worker, &r);
	if (s)
		r = nl_bridge_create(s, name, &o, &e);
	if (r)
		set_error(c, s ? e.msg : strerror(-r), "cannot create LAN '%s' (bridge %s)",
			  link_name(c, t->link), name);
	return r;
}

static const struct rz_iface *ep_iface(const struct build_ctx *c, uint32_t link, uint32_t ep)
{
	uint32_t node = c->x->links[link].ep[ep].node;

	return &c->rz->nodes[node].ifs[c->rz->ep_if[link][ep]];
}

/* The emulator reads the frames a node sends from the root end and
 * writes them to the other ends as they are: checksums must be complete
 * when they leave the node, so the node end computes them itself (no
 * checksum offload, and without it no TSO: the stack segments in software
 * and every frame is at most MTU-sized). */
static int no_offload(void *arg)
{
	struct ethtool_value v = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr = { 0 };
	int fd, r = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", (const char *)arg);
	ifr.ifr_data = (void *)&v;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		r = -errno;
	close(fd);
	return r;
}

/* A container's endpoint with a port: a veth whose root end is a port of
 * the LAN's bridge, of the link emulator (the supervisor opens it; the node
 * end then computes its checksums itself), or of a shortbridge to a VM. */
static int do_port(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	uint32_t node = c->x->links[t->link].ep[t->ep].node;
	const struct rz_iface *ifc = ep_iface(c, t->link, t->ep);
	unsigned mtu = c->rz->links[t->link].mtu;
	struct nl_link_opts host = { .mtu = mtu, .up = true, .group = bridge_group(c->id) };
	struct nl_link_opts node_o = { .mtu = mtu, .mac = ifc->mac, .up = true };
	struct nl_err e = { 0 };
	struct nl_sock *s;
	const struct rz_link *rl = &c->rz->links[t->link];
	char port[32], br[32], ifname[16];
	int r;

	build_port_name(c->id, t->port, port, sizeof(port));
	bridge_name(c->id, t->link, br, sizeof(br));
	s = root_sock(c, worker, &r);
	if (s)
		r = nl_veth_create(s, port, -1, &host, ifc->name, c->ns_fd[node], &node_o, &e);
	if (!r && rl->kind == RZ_LAN && !rl->emulated)
		r = nl_link_set_master(s, port, br, &e);
	if (r) {
		set_error(c, s ? e.msg : strerror(-r),
			  "cannot connect device '%s' to link '%s' (veth %s, %s)",
			  c->x->nodes[node].name, link_name(c, t->link), port, ifc->name);
		return r;
	}
	if (rl->emulated) {
		snprintf(ifname, sizeof(ifname), "%s", ifc->name);
		r = netns_run_in(c->ns_fd[node], no_offload, ifname);
		if (r)
			set_error(c, strerror(-r),
				  "cannot turn checksum offload off on %s in device '%s'", ifc->name,
				  c->x->nodes[node].name);
	}
	return r;
}

/* A VM's endpoint: a persistent tap in the root namespace, named like a
 * port; the supervisor opens it for QEMU. On a LAN it joins the bridge; on
 * an emulated link it is the emulator's port; on a direct point-to-point
 * link a redirect joins it to the other end (BT_SHORT). */
static int do_tap(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	uint32_t node = c->x->links[t->link].ep[t->ep].node;
	const struct rz_link *rl = &c->rz->links[t->link];
	struct nl_link_opts o = { .mtu = rl->mtu, .up = true, .group = bridge_group(c->id) };
	struct nl_err e = { 0 };
	struct nl_sock *s;
	char port[32], br[32];
	int r, fd;

	build_port_name(c->id, t->port, port, sizeof(port));
	fd = build_tap_open(port, true);
	if (fd < 0) {
		set_error(c, strerror(-fd), "cannot create the tap %s of device '%s' on link '%s'",
			  port, c->x->nodes[node].name, link_name(c, t->link));
		return fd;
	}
	close(fd);
	s = root_sock(c, worker, &r);
	if (s)
		r = nl_link_set(s, port, &o, &e);
	if (!r && rl->kind == RZ_LAN && !rl->emulated) {
		bridge_name(c->id, t->link, br, sizeof(br));
		r = nl_link_set_master(s, port, br, &e);
	}
	if (r)
		set_error(c, s ? e.msg : strerror(-r),
			  "cannot set up the tap %s of device '%s' on link '%s'", port,
			  c->x->nodes[node].name, link_name(c, t->link));
	return r;
}

/* The shortbridge of a direct point-to-point link with a VM: each port's
 * ingress redirected to the other's egress. */
static int do_short(struct build_ctx *c, const struct btask *t)
{
	char a[32], b[32], err[512];
	int ia, ib, r;

	build_port_name(c->id, t->port, a, sizeof(a));
	build_port_name(c->id, t->port + 1, b, sizeof(b));
	ia = (int)if_nametoindex(a);
	ib = (int)if_nametoindex(b);
	if (!ia || !ib) {
		set_error(c, strerror(errno), "cannot join %s and %s for link '%s'", a, b,
			  link_name(c, t->link));
		return -ENODEV;
	}
	r = redir_attach(ia, ib, err, sizeof(err));
	if (!r)
		r = redir_attach(ib, ia, err, sizeof(err));
	if (r)
		set_error(c, err, "cannot join %s and %s for link '%s'", a, b,
			  link_name(c, t->link));
	return r;
}

static int do_p2p(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	const struct xir_link *l = &c->x->links[t->link];
	const struct rz_iface *a = ep_iface(c, t->link, 0), *b = ep_iface(c, t->link, 1);
	unsigned mtu = c->rz->links[t->link].mtu;
	struct nl_link_opts oa = { .mtu = mtu, .mac = a->mac, .up = true };
	struct nl_link_opts ob = { .mtu = mtu, .mac = b->mac, .up = true };
	struct nl_err e = { 0 };
	struct nl_sock *s;
	int r;

	s = root_sock(c, worker, &r);
	if (s)
		r = nl_veth_create(s, a->name, c->ns_fd[l->ep[0].node], &oa, b->name,
				   c->ns_fd[l->ep[1].node], &ob, &e);
	if (r)
		set_error(c, s ? e.msg : strerror(-r), "cannot create link '%s' (veth %s-%s)",
			  link_name(c, t->link), a->name, b->name);
	return r;
}

static bool node_has_v6(const struct rz_node *n)
{
	size_t i;

	for (i = 0; i < n->nifs; i++)
		if (n->ifs[i].v6.family)
			return true;
	return false;
}

/* Addresses, routes and forwarding of one node, in one netlink batch. */
static int do_config(struct build_ctx *c, const struct btask *t)
{
	const struct rz_node *n = &c->rz->nodes[t->node];
	const char *node = c->x->nodes[t->node].name;
	struct nl_err e = { 0 };
	struct nl_sock *s = NULL;
	size_t i, nreq = 0;
	int r;

	if (n->kind == RZ_VM)
		return 0; /* the guest configures itself from its initrd */
	r = nl_open(&s, c->ns_fd[t->node]);
	if (r) {
		set_error(c, strerror(-r), "cannot open netlink in device '%s'", node);
		return r;
	}
	/* IPv6 forwarding has no per-interface default that takes effect
	 * without RTNL: set it only where there is IPv6 to forward */
	if (n->forwarding && node_has_v6(n)) {
		r = netns_sysctl(c->ns_fd[t->node], "net/ipv6/conf/all/forwarding", "1");
		if (r) {
			set_error(c, strerror(-r), "cannot enable forwarding in device '%s'", node);
			goto out;
		}
	}
	nl_batch_begin(s);
	for (i = 0; i < n->nifs; i++) {
		if (n->ifs[i].v4.family) {
			nl_addr_add(s, n->ifs[i].name, &n->ifs[i].v4, &e);
			nreq++;
		}
		if (n->ifs[i].v6.family) {
			nl_addr_add(s, n->ifs[i].name, &n->ifs[i].v6, &e);
			nreq++;
		}
	}
	for (i = 0; i < n->nroutes; i++)
		nl_route_add(s, &n->routes[i].dst, &n->routes[i].via, &e);
	r = nl_batch_flush(s, &e);
	if (r) {
		char dst[64];

		if (e.index < nreq)
			set_error(c, e.msg, "cannot add an address in device '%s'", node);
		else
			set_error(c, e.msg, "cannot add the route to %s in device '%s'",
				  addr_format(&n->routes[e.index - nreq].dst, dst, sizeof(dst)),
				  node);
	}
out:
	nl_close(s);
	return r;
}

static int run_task(void *ctx, unsigned worker, void *arg)
{
	struct build_ctx *c = ctx;
	const struct btask *t = arg;

	switch (t->kind) {
	case BT_NETNS:
		return do_netns(c, t);
	case BT_BRIDGE:
		return do_bridge(c, worker, t);
	case BT_PORT:
	case BT_EPORT:
		return do_port(c, worker, t);
	case BT_TAP:
		return do_tap(c, worker, t);
	case BT_SHORT:
		return do_short(c, t);
	case BT_P2P:
		return do_p2p(c, worker, t);
	default:
		return do_config(c, t);
	}
}

static void on_progress(void *ctx, size_t done, size_t total)
{
	struct build_ctx *c = ctx;

	if (c->progress)
		c->progress(c->parg, done, total);
}

/* The plan: tasks, their edges, and the journal rows of what they create. */
struct plan {
	struct btask *t;
	size_t nt, capt;
	struct db_obj *obj;
	size_t nobj, capobj;
};

static int plan_obj(struct plan *p, enum db_obj_kind kind, const char *name, const char *ns)
{
	struct db_obj o = { .kind = kind };

	snprintf(o.name, sizeof(o.name), "%s", name);
	snprintf(o.ns, sizeof(o.ns), "%s", ns ? ns : "");
	return UTIL_PUSH(p->obj, p->nobj, p->capobj, o);
}

static int plan_task(struct plan *p, struct btask t)
{
	return UTIL_PUSH(p->t, p->nt, p->capt, t);
}

/* Build the task list and journal rows. Task order: netns per node, then per
 * link (bridge + ports, or the p2p veth), then config per node. */
static int make_plan(struct build_ctx *c, struct plan *p)
{
	const struct xir *x = c->x;
	char name[128], ns[128];
	uint32_t i, j, port = 0;
	int r = 0;

	for (i = 0; i < x->nnodes && !r; i++) {
		build_netns_name(c->id, x->nodes[i].name, name, sizeof(name));
		r = c->rz->nodes[i].kind == RZ_VM ? 0 : plan_obj(p, DB_NETNS, name, NULL);
		if (!r)
			r = plan_task(p, (struct btask){ c, BT_NETNS, i, 0, 0, 0, NONE, NONE });
	}
	for (i = 0; i < x->nlinks && !r; i++) {
		const struct xir_link *l = &x->links[i];
		const struct rz_link *rl = &c->rz->links[i];
		uint32_t bridge = UINT32_MAX, first = (uint32_t)p->nt;

		if (!build_link_has_ports(c->rz, i)) {
			build_netns_name(c->id, x->nodes[l->ep[0].node].name, ns, sizeof(ns));
			r = plan_obj(p, DB_LINK, ep_iface(c, i, 0)->name, ns);
			if (!r)
				r = plan_task(p, (struct btask){ c, BT_P2P, 0, i, 0, 0, NONE, NONE });
			continue;
		}
		if (rl->kind == RZ_LAN && !rl->emulated) {
			bridge_name(c->id, i, name, sizeof(name));
			bridge = (uint32_t)p->nt;
			r = plan_obj(p, DB_BRIDGE, name, NULL);
			if (!r)
				r = plan_task(p, (struct btask){ c, BT_BRIDGE, 0, i, 0, 0, NONE, NONE });
		}
		for (j = 0; j < l->nep && !r; j++) {
			bool vm = c->rz->nodes[l->ep[j].node].kind == RZ_VM;
			int kind = vm ? BT_TAP : rl->emulated ? BT_EPORT : BT_PORT;

			build_port_name(c->id, port, name, sizeof(name));
			r = plan_obj(p, DB_LINK, name, NULL);
			if (!r)
				r = plan_task(p, (struct btask){ c, kind, l->ep[j].node, i, j, port,
								 bridge, NONE });
			port++;
		}
		/* a direct point-to-point link with a VM: the shortbridge */
		if (!r && rl->kind == RZ_P2P && !rl->emulated)
			r = plan_task(p, (struct btask){ c, BT_SHORT, 0, i, 0, port - 2, first,
							 first + 1 });
	}
	for (i = 0; i < x->nnodes && !r; i++)
		r = plan_task(p, (struct btask){ c, BT_CONFIG, i, 0, 0, 0, NONE, NONE });
	return r;
}

/* Edges: a link's tasks wait for its nodes' namespaces (and a port for its
 * bridge); a node's config waits for every link task touching it. */
static int make_edges(struct build_ctx *c, struct plan *p, struct dag *g)
{
	const struct xir *x = c->x;
	size_t k;
	uint32_t id;
	int r = 0;

	for (k = 0; k < p->nt && !r; k++)
		r = dag_add(g, run_task, &p->t[k], &id);
	for (k = 0; k < p->nt && !r; k++) {
		const struct btask *t = &p->t[k];
		const struct xir_link *l = &x->links[t->link];
		uint32_t cfg0 = (uint32_t)(p->nt - x->nnodes); /* first config task */

		switch (t->kind) {
		case BT_P2P:
			r = dag_edge(g, l->ep[0].node, (uint32_t)k);
			if (!r)
				r = dag_edge(g, l->ep[1].node, (uint32_t)k);
			if (!r)
				r = dag_edge(g, (uint32_t)k, cfg0 + l->ep[0].node);
			if (!r)
				r = dag_edge(g, (uint32_t)k, cfg0 + l->ep[1].node);
			break;
		case BT_PORT:
		case BT_EPORT:
		case BT_TAP:
			r = dag_edge(g, t->node, (uint32_t)k);
			if (!r && t->dep != NONE)
				r = dag_edge(g, t->dep, (uint32_t)k);
			if (!r)
				r = dag_edge(g, (uint32_t)k, cfg0 + t->node);
			break;
		case BT_SHORT:
			r = dag_edge(g, t->dep, (uint32_t)k);
			if (!r)
				r = dag_edge(g, t->dep2, (uint32_t)k);
			break;
		case BT_CONFIG:
			/* a node with no links still waits for its namespace */
			r = dag_edge(g, t->node, (uint32_t)k);
			break;
		default:
			break;
		}
	}
	return r;
}

int build_up(struct db *db, const char *id, const struct realization *rz,
	     build_progress_fn progress, void *parg, struct build_error *err)
{
	struct build_ctx c = { .id = id, .rz = rz, .x = rz->x, .err = err, .progress = progress,
			       .parg = parg };
	struct plan p = { 0 };
	struct dag *g = NULL;
	size_t i;
	int r;

	memset(err, 0, sizeof(*err));
	pthread_mutex_init(&c.lock, NULL);
	c.ns_fd = malloc((c.x->nnodes + 1) * sizeof(*c.ns_fd));
	g = dag_new(&c);
	if (!c.ns_fd || !g) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c.x->nnodes; i++)
		c.ns_fd[i] = -1;
	r = make_plan(&c, &p);
	if (!r)
		r = make_edges(&c, &p, g);
	if (r)
		goto out;
	/* the journal first: a crash from here on leaves a record of everything
	 * that may exist */
	r = db_journal_add(db, id, p.obj, p.nobj);
	if (r) {
		snprintf(err->what, sizeof(err->what), "cannot write the journal");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
		goto out;
	}
	r = dag_run(g, BUILD_WORKERS, on_progress, NULL);
	/* the global switch, for users and routing daemons that read it:
	 * written once the workers are done, so the RTNL trylock behind it
	 * finds the lock free instead of spinning */
	for (i = 0; !r && i < c.x->nnodes; i++)
		if (rz->nodes[i].forwarding) {
			r = netns_sysctl(c.ns_fd[i], "net/ipv4/ip_forward", "1");
			if (r) {
				snprintf(err->what, sizeof(err->what),
					 "cannot enable forwarding in device '%s'", c.x->nodes[i].name);
				snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
			}
		}
out:
	if (r && !err->what[0]) {
		snprintf(err->what, sizeof(err->what), "cannot build the experiment");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
	}
	for (i = 0; i < BUILD_WORKERS; i++)
		nl_close(c.root[i]);
	for (i = 0; c.ns_fd && i < c.x->nnodes; i++)
		if (c.ns_fd[i] >= 0)
			close(c.ns_fd[i]);
	free(c.ns_fd);
	dag_free(g);
	free(p.t);
	free(p.obj);
	pthread_mutex_destroy(&c.lock);
	return r;
}

/* ---- teardown ---- */

struct td_ctx {
	struct db *db;
	const char *id;
	struct db_obj *obj;
	struct nl_sock *root[BUILD_WORKERS];
	pthread_mutex_t lock;
	struct teardown_stats *st;
	struct build_error *err;
	int result;
};

static void td_fail(struct td_ctx *c, const struct db_obj *o, const char *msg)
{
	pthread_mutex_lock(&c->lock);
	c->st->failed++;
	if (!c->result) {
		c->result = -EIO;
		snprintf(c->err->what, sizeof(c->err->what), "cannot remove %s%s%s",
			 o->kind == DB_NETNS ? "namespace " : o->kind == DB_PROCESS ? "process " : "",
			 o->name, o->ns[0] ? " (in its namespace)" : "");
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", msg);
	}
	pthread_mutex_unlock(&c->lock);
}

static void td_count(struct td_ctx *c, size_t *counter)
{
	pthread_mutex_lock(&c->lock);
	(*counter)++;
	pthread_mutex_unlock(&c->lock);
}

/* How long a journaled process (the supervisor) gets between SIGTERM and
 * SIGKILL: it stops its VMs and the emulator in well under this. */
#define TD_STOP_MS 2000

/* Stop a journaled process if it is still the one we started. */
static int stop_process(const struct db_obj *o)
{
	int r = proc_stop(o->pid, o->start, TD_STOP_MS);

	return r == -ETIMEDOUT ? 0 : r; /* SIGKILLed: it cannot hold anything */
}

/* How long teardown waits for a LAN port's root-side veth to go on its
 * own once its node's namespace is deleted. The kernel unregisters the
 * pairs of a deleted namespace in batches in the background (cleanup_net);
 * under load a thousand of them take about a second. 2 s leaves room for
 * that, and a port still there after it is deleted by hand anyway. */
#define TD_PORT_GONE_MS 2000

/* Wait for root link name to disappear on its own, on its RTM_DELLINK
 * event. 1 when it is gone, 0 when it is still there after
 * TD_PORT_GONE_MS, or a negative errno when that could not be found out. */
static int port_gone(struct nl_sock *s, const char *name)
{
	int r = nl_link_wait_gone(s, name, TD_PORT_GONE_MS);

	if (r == -ETIMEDOUT)
		return 0;
	return r < 0 ? r : 1;
}

static int td_task(void *ctx, unsigned worker, void *arg)
{
	struct td_ctx *c = ctx;
	const struct db_obj *o = arg;
	struct nl_err e = { 0 };
	int r = 0;

	switch (o->kind) {
	case DB_PROCESS:
		r = stop_process(o);
		if (!r)
			td_count(c, &c->st->processes);
		break;
	case DB_LINK:
	case DB_BRIDGE:
		/* a link inside a node's namespace goes with the namespace */
		if (o->ns[0])
			break;
		if (!c->root[worker]) {
			r = nl_open(&c->root[worker], -1);
			if (r) {
				td_fail(c, o, strerror(-r));
				return 0;
			}
		}
		/* a LAN port's veth goes with its node's namespace: the kernel
		 * removes such pairs in one batch, in the background, far faster
		 * than one RTM_DELLINK each (about 20 ms apiece). Give it a
		 * moment before deleting what is left by hand. */
		r = o->kind == DB_LINK ? port_gone(c->root[worker], o->name) : 0;
		if (r < 0) {
			td_fail(c, o, strerror(-r));
			break;
		}
		if (r > 0) {
			td_count(c, &c->st->links);
			break;
		}
		r = nl_link_del(c->root[worker], o->name, &e);
		if (r)
			td_fail(c, o, e.msg);
		else
			td_count(c, &c->st->links);
		break;
	case DB_NETNS:
		r = netns_delete(o->name);
		if (r)
			td_fail(c, o, strerror(-r));
		else
			td_count(c, &c->st->netns);
		break;
	case DB_FILE:
		if (unlink(o->name) && errno != ENOENT)
			td_fail(c, o, strerror(errno));
		else
			td_count(c, &c->st->files);
		break;
	}
	return 0; /* keep removing the rest; failures are counted */
}

/* A root-namespace link of the journal: a LAN's bridge or port. */
static bool td_root_link(const struct db_obj *o)
{
	return (o->kind == DB_BRIDGE || o->kind == DB_LINK) && !o->ns[0];
}

/* Delete the experiment's bridges and LAN ports with one request, when
 * their netdev group holds exactly links this journal lists and nothing
 * else: the kernel then unregisters them as one batch (a bridge costs an
 * RCU barrier each: 100 bridges took 3.7 s one by one and 1.9 s as a
 * group; the ports go with it instead of waiting for their namespaces'
 * cleanup). Anything unexpected in the group and it does nothing: the
 * links are then deleted one by one like any other. */
static void td_bridge_group(struct td_ctx *c, size_t n)
{
	char (*names)[16] = NULL;
	struct nl_err e;
	size_t nb = 0, ng = 0, i, k;

	for (i = 0; i < n; i++)
		nb += td_root_link(&c->obj[i]);
	if (!nb || (!c->root[0] && nl_open(&c->root[0], -1)))
		return;
	if (nl_group_links(c->root[0], bridge_group(c->id), &names, &ng) || !ng)
		goto out;
	for (k = 0; k < ng; k++) {
		for (i = 0; i < n; i++)
			if (td_root_link(&c->obj[i]) && !strcmp(c->obj[i].name, names[k]))
				break;
		if (i == n)
			goto out; /* not ours: leave the group alone */
	}
	nl_group_del(c->root[0], bridge_group(c->id), &e);
out:
	free(names);
}

/* One phase of teardown: the objects of these kinds, in parallel. */
static int td_phase(struct td_ctx *c, size_t n, const enum db_obj_kind *kinds, size_t nkinds)
{
	struct dag *g = dag_new(c);
	size_t i, k;
	int r = 0;

	if (!g)
		return -ENOMEM;
	for (i = n; i-- > 0 && !r;)
		for (k = 0; k < nkinds; k++)
			if (c->obj[i].kind == kinds[k])
				r = dag_add(g, td_task, &c->obj[i], NULL);
	if (!r)
		r = dag_run(g, BUILD_WORKERS, NULL, NULL);
	dag_free(g);
	return r;
}

int build_teardown(struct db *db, const char *id, struct teardown_stats *st,
		   struct build_error *err)
{
	static const enum db_obj_kind procs[] = { DB_PROCESS };
	static const enum db_obj_kind links[] = { DB_LINK };
	static const enum db_obj_kind spaces[] = { DB_NETNS, DB_BRIDGE };
	static const enum db_obj_kind files[] = { DB_FILE };
	struct td_ctx c = { .db = db, .id = id, .st = st, .err = err };
	size_t n = 0, i;
	int r;

	memset(st, 0, sizeof(*st));
	memset(err, 0, sizeof(*err));
	pthread_mutex_init(&c.lock, NULL);
	r = db_journal_list(db, id, &c.obj, &n);
	if (r) {
		snprintf(err->what, sizeof(err->what), "cannot read the journal");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
		goto out;
	}
	/* processes first (they hold the rest), then the namespaces (taking
	 * their links, and the veth pairs of LAN ports, with them) and the
	 * bridges side by side (a bridge's deletion waits on RCU, not on its
	 * ports), then any LAN port the kernel has not removed, then files */
	r = td_phase(&c, n, procs, 1);
	if (!r)
		td_bridge_group(&c, n);
	if (!r)
		r = td_phase(&c, n, spaces, 2);
	if (!r)
		r = td_phase(&c, n, links, 1);
	if (!r)
		r = td_phase(&c, n, files, 1);
	if (!r)
		r = c.result;
	if (!r)
		r = db_exp_delete(db, id);
	if (r && !err->what[0]) {
		snprintf(err->what, sizeof(err->what), "cannot finish the teardown");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
	}
out:
	for (i = 0; i < BUILD_WORKERS; i++)
		nl_close(c.root[i]);
	free(c.obj);
	pthread_mutex_destroy(&c.lock);
	return r;
}
