/* realize: a checked XIR and a host in, a realization out (DESIGN.md,
 * "Realization"). Pure computation over the XIR; deterministic: the same XIR
 * and host always give the same realization.
 *
 * The rules, in the order they are applied:
 *
 * 1. Node kind. A node is a VM when xir_vm_nodes() says so (virt == true, or
 *    a constraint only a VM can meet: kernel, image, dilation, an arch other
 *    than x86_64, a QEMU NIC model on one of its endpoints); otherwise it is a
 *    container. A VM has vm_cores (its cores allocation, or 1) and
 *    vm_memory_mib (its memory allocation in MiB, rounded up, or 256); each
 *    of its interfaces has a NIC model (the endpoint's nic == model, or
 *    virtio). vtb boots its own guest image, so kernel, image, dilation and
 *    an arch other than x86_64 are refused at their place ("... vtb boots its
 *    own guest image ..."), as are disk, vlan, cpufreq and physical NICs.
 *
 * 2. Links. Two endpoints make RZ_P2P, three or more RZ_LAN.
 *    - A link goes through the link emulator (rz_link.emulated) when it or
 *      an endpoint has latency, jitter, loss, duplicate, reorder or corrupt
 *      (xir_link_is_emulated), and also when it has capacity or queue (the
 *      emulator is the one rate limiter: it counts Ethernet frame bytes and
 *      is as exact as TBF without a second mechanism to document).
 *      rz_link.dir[j] holds the parameters of the direction leaving
 *      endpoint j: the link's constraints, overridden property by property
 *      by the endpoint's. A value is taken from ==, >= and > (the least the
 *      constraint allows); capacity and queue also from <= and < (a limit);
 *      latency <= ms(5) alone asks for nothing to be added. queue in
 *      packets or, with a byte unit, in bytes. burst == b (mean length of a
 *      loss burst, in frames, >= 1) turns loss == p into the Gilbert-Elliott
 *      model with the same mean loss: every frame in the bad state is lost,
 *      none in the good one, p_bg = 1/b, p_gb = p / (b (1 - p)).
 *      Parameters the emulator refuses (a delay over an hour, burst < 1,
 *      loss == 1 with a burst) are errors naming the link.
 *    - mtu is a link property: mtu == v (or >= v, > v: the smallest value
 *      allowed) sets rz_link.mtu; with only < or <= it is the bound when that
 *      is below 1500, otherwise 0 (the kernel's default). mtu on an endpoint
 *      is an error: "per-endpoint mtu is not supported".
 *
 * 3. Allocation. A node's cores and memory are the smallest values that
 *    satisfy its constraints on them: == v gives v, >= v gives v, > v gives
 *    v + 1 (the largest lower bound wins), then values excluded with != are
 *    stepped over; only < or <= gives 1 core / no memory request; no
 *    constraint gives 0 (no request). The sums over the experiment must fit
 *    in the host's free capacity (base minus what other experiments hold).
 *    When they do not, the node at which the running sum (in node order)
 *    first exceeds the free capacity is reported, once for cores and once for
 *    memory, naming the constraint that set the value: "device 'a': cores ==
 *    4 does not fit: this host has 2 cores, 1 free" (followed by ", and
 *    earlier devices take 2" when earlier nodes of this experiment hold some),
 *    hint "other experiments hold 1 core; take one down or ask for less" (or,
 *    when no other experiment holds any, "the devices of this experiment ask
 *    for 5 cores in all; ask for less"). Memory is shown in MiB or GiB.
 *
 * 4. Interfaces. Each node gets eth0, eth1, ... in the order of the links it
 *    is on (xir link order); nifs is its number of endpoints, and
 *    ep_if[link][j] is the index of endpoint j's interface in
 *    nodes[ep.node].ifs. MACs: the endpoint's mac == if given; otherwise
 *    02:xx:xx:xx:xx:xx (unicast, locally administered) from FNV-1a hashes of
 *    the experiment name, node name and link name, rehashed with a counter
 *    until it differs from every given and every earlier generated MAC of
 *    the experiment (endpoints in link order). Given MACs are kept as they
 *    are, even when two endpoints are given the same one.
 *
 * 5. Addresses. An endpoint's first ip == of each family is its address
 *    (IPv4 and/or IPv6, kept as written). A link's IPv4 subnet is the network
 *    of its first given IPv4 address (endpoint order); a link without one
 *    gets a subnet from the pool (topo.spec(pool == '...'), default
 *    10.0.0.0/8): a /24 for up to 253 endpoints, for more the smallest subnet
 *    with at least endpoints + 3 addresses (a /23 up to 509); when the pool
 *    is smaller than that, the smallest subnet with room for the endpoints
 *    (a /30 for two). Subnets are taken in link order, each at the lowest
 *    place after the previous one, aligned to its size, that does not overlap
 *    the network of any given IPv4 address in the experiment. Endpoints without an IPv4
 *    address then get, in endpoint order, the lowest host addresses of the
 *    link's subnet that no given address of the link uses (so on a pool
 *    subnet endpoint j gets host j + 1), with the subnet's prefix length.
 *    A full subnet or an exhausted pool is an error naming the link. IPv6
 *    addresses are only ever given; a link's subnet6 is the network of its
 *    first given IPv6 address. (ip != constraints are not consulted.) Only
 *    IPv4 pools are used: an IPv6 pool is an error once a link needs one.
 *
 * 6. Routes (unless topo.spec(routing == false)), per address family. Links
 *    are hyperedges joining all their endpoints; a node is on a link in a
 *    family when its interface there has an address of that family. From
 *    every node s, a breadth-first search (first hops ranked by link index,
 *    then node index; the queue keeps that order, so every node inherits the
 *    best-ranked first hop among its shortest paths) finds for every link
 *    subnet s is not on the first hop towards the link's nearest endpoint.
 *    The gateway is that first-hop neighbour's address on the link it shares
 *    with s. The gateway used by the most subnets (ties: the best-ranked)
 *    becomes the default route (dst plen 0; for IPv6 only when there are
 *    IPv6 routes); the subnets via other gateways are listed explicitly,
 *    and sibling prefixes via one gateway are merged into their parent
 *    (exactly the same addresses: 10.0.6.0/24 + 10.0.7.0/24 = 10.0.6.0/23),
 *    so a chain's far side takes a few routes, not one per link. A node's
 *    list: the IPv4 default route, the other IPv4 routes by gateway rank and
 *    then destination, then the same for IPv6. Unreachable subnets (islands)
 *    get no route. forwarding = nifs >= 2 (with or without routing).
 *    Routes are computed only when nothing else failed. Cost: O(N (N + E))
 *    time, O(N + E) memory for the search; each node's routes are compressed
 *    as soon as its search is done.
 *
 * Problems go to the diag list; realize() returns -EINVAL when it added any. */
#include "realize.h"
#include "xir_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MSG_BUF 400
#define DEFAULT_MTU 1500
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* What realize() allocates behind struct realization: the interfaces of
 * every node and the ep_if rows are each one block. */
struct rz_priv {
	struct realization r;
	struct rz_iface *if_block;
	uint32_t *ep_block;
};

struct rz_ctx {
	const struct xir *x;
	const struct rz_host *host;
	struct realization *r;
	struct diag_list *d;
};

/* ---- names and values, formatted for one-line messages ---- */

static struct src_loc pick_loc(struct src_loc a, struct src_loc b)
{
	return a.line ? a : b;
}

/* "1 core", "3 cores" */
static const char *fmt_cores(char *buf, size_t cap, uint64_t n)
{
	snprintf(buf, cap, "%llu core%s", (unsigned long long)n, n == 1 ? "" : "s");
	return buf;
}

/* Bytes in human units: "512 MiB", "1.5 GiB", "4 GiB". */
static const char *fmt_bytes(char *buf, size_t cap, uint64_t v)
{
	if (v >= GIB && v % GIB == 0)
		snprintf(buf, cap, "%llu GiB", (unsigned long long)(v / GIB));
	else if (v >= GIB)
		snprintf(buf, cap, "%.1f GiB", (double)v / (double)GIB);
	else if (v % MIB == 0)
		snprintf(buf, cap, "%llu MiB", (unsigned long long)(v / MIB));
	else
		snprintf(buf, cap, "%.1f MiB", (double)v / (double)MIB);
	return buf;
}

static bool prop_is(const struct xir_constraint *c, const char *name)
{
	return c->prop && !strcmp(c->prop->name, name);
}

/* topo.spec(name == value) or name != !value, for a boolean setting. */
static bool topo_bool(const struct xir *x, const char *name, bool value)
{
	size_t i;

	for (i = 0; i < x->cons.n; i++) {
		const struct xir_constraint *c = &x->cons.v[i];

		if (prop_is(c, name) && c->value.type == XV_BOOL &&
		    ((c->op == XIR_EQ && c->value.b == value) ||
		     (c->op == XIR_NE && c->value.b != value)))
			return true;
	}
	return false;
}

/* The first ip == of one family in cs, parsed; false when there is none. */
static bool cset_ip(const struct xir_cset *cs, int family, struct addr_prefix *out)
{
	const char *why;
	size_t i;

	for (i = 0; i < cs->n; i++) {
		const struct xir_constraint *c = &cs->v[i];
		struct addr_prefix a;

		if (prop_is(c, "ip") && c->op == XIR_EQ && c->value.type == XV_STR && c->value.s &&
		    !addr_parse_prefix(c->value.s, &a, &why) && a.family == family) {
			*out = a;
			return true;
		}
	}
	return false;
}

/* ---- structure: interfaces and ep_if ---- */

/* Give every node its interfaces in link order and fill ep_if. Returns 0 or
 * -ENOMEM. */
static int build_ifaces(struct rz_priv *p)
{
	const struct xir *x = p->r.x;
	struct rz_node *nodes = p->r.nodes;
	size_t i, j, total = 0, off = 0;

	for (i = 0; i < x->nlinks; i++) {
		total += x->links[i].nep;
		for (j = 0; j < x->links[i].nep; j++)
			nodes[x->links[i].ep[j].node].nifs++;
	}
	p->if_block = calloc(total ? total : 1, sizeof(*p->if_block));
	p->ep_block = calloc(total ? total : 1, sizeof(*p->ep_block));
	p->r.ep_if = calloc(x->nlinks ? x->nlinks : 1, sizeof(*p->r.ep_if));
	if (!p->if_block || !p->ep_block || !p->r.ep_if)
		return -ENOMEM;
	for (i = 0; i < x->nnodes; i++) {
		nodes[i].ifs = nodes[i].nifs ? p->if_block + off : NULL;
		off += nodes[i].nifs;
		nodes[i].forwarding = nodes[i].nifs >= 2;
		nodes[i].nifs = 0;
	}
	off = 0;
	for (i = 0; i < x->nlinks; i++) {
		p->r.ep_if[i] = p->ep_block + off;
		off += x->links[i].nep;
		for (j = 0; j < x->links[i].nep; j++) {
			struct rz_node *n = &nodes[x->links[i].ep[j].node];
			struct rz_iface *t = &n->ifs[n->nifs];

			t->link = (uint32_t)i;
			snprintf(t->name, sizeof(t->name), "eth%zu", n->nifs);
			p->r.ep_if[i][j] = (uint32_t)n->nifs++;
		}
	}
	return 0;
}

static struct rz_iface *ep_iface(const struct realization *r, size_t link, size_t j)
{
	return &r->nodes[r->x->links[link].ep[j].node].ifs[r->ep_if[link][j]];
}

/* ---- rule 1: node kinds ---- */

/* Decide container or VM for every node. Returns 0 or -ENOMEM. */
static int realize_kinds(struct rz_ctx *c)
{
	bool *vm;
	size_t i;

	if (xir_vm_nodes(c->x, &vm))
		return -ENOMEM;
	for (i = 0; i < c->x->nnodes; i++)
		c->r->nodes[i].kind = vm[i] ? RZ_VM : RZ_CONTAINER;
	free(vm);
	return 0;
}

/* The NIC model of every VM interface (rule 1): the endpoint's nic ==
 * model, or virtio. */
static void realize_nics(struct rz_ctx *c)
{
	size_t i, j, k;

	for (i = 0; i < c->x->nlinks; i++)
		for (j = 0; j < c->x->links[i].nep; j++) {
			const struct xir_endpoint *e = &c->x->links[i].ep[j];
			struct rz_node *n = &c->r->nodes[e->node];
			struct rz_iface *f = &n->ifs[c->r->ep_if[i][j]];

			snprintf(f->nic, sizeof(f->nic), "%s", n->kind == RZ_VM ? "virtio" : "");
			for (k = 0; k < e->cons.n; k++) {
				const struct xir_constraint *m = &e->cons.v[k];

				if (prop_is(m, "nic") && m->op == XIR_EQ && xir_constraint_needs_vm(m) &&
				    m->value.s)
					snprintf(f->nic, sizeof(f->nic), "%s", m->value.s);
			}
		}
}

/* The size of a VM: its allocation, or 1 core and 256 MiB. */
static void realize_vm_size(struct rz_ctx *c)
{
	size_t i;

	for (i = 0; i < c->x->nnodes; i++) {
		struct rz_node *n = &c->r->nodes[i];

		if (n->kind != RZ_VM)
			continue;
		n->vm_cores = n->cores ? (unsigned)n->cores : 1;
		n->vm_memory_mib = n->memory ? (n->memory + MIB - 1) / MIB : 256;
	}
}

/* ---- integer properties: the smallest value the constraints allow ---- */

struct ibound {
	bool any;    /* some constraint on the property */
	bool lo_set, hi_set;
	int64_t lo, hi;
	const struct xir_constraint *lo_c;  /* the constraint that set lo */
	const struct xir_constraint *first; /* the first one */
};

/* Collect the integer constraints on prop in cs. */
static void ibound_collect(const struct xir_cset *cs, const char *prop, struct ibound *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < cs->n; i++) {
		const struct xir_constraint *c = &cs->v[i];
		int64_t lo, hi;

		if (!prop_is(c, prop) || c->value.type != XV_INT)
			continue;
		if (!b->any)
			b->first = c;
		b->any = true;
		lo = c->op == XIR_GT && c->value.i < INT64_MAX ? c->value.i + 1 : c->value.i;
		hi = c->op == XIR_LT && c->value.i > INT64_MIN ? c->value.i - 1 : c->value.i;
		if ((c->op == XIR_EQ || c->op == XIR_GE || c->op == XIR_GT) &&
		    (!b->lo_set || lo > b->lo)) {
			b->lo_set = true;
			b->lo = lo;
			b->lo_c = c;
		}
		if ((c->op == XIR_EQ || c->op == XIR_LE || c->op == XIR_LT) &&
		    (!b->hi_set || hi < b->hi)) {
			b->hi_set = true;
			b->hi = hi;
		}
	}
}

/* Step v over the values prop != excludes in cs (v only grows, so each !=
 * moves it at most once). */
static int64_t skip_excluded(const struct xir_cset *cs, const char *prop, int64_t v)
{
	size_t i;
	bool moved = true;

	while (moved) {
		moved = false;
		for (i = 0; i < cs->n; i++) {
			const struct xir_constraint *c = &cs->v[i];

			if (prop_is(c, prop) && c->op == XIR_NE && c->value.type == XV_INT &&
			    c->value.i == v && v < INT64_MAX) {
				v++;
				moved = true;
			}
		}
	}
	return v;
}

/* The allocation rule (3) for cores (upper_only 1) and memory (0). */
static uint64_t alloc_value(const struct xir_cset *cs, const char *prop, int64_t upper_only,
			    const struct xir_constraint **why)
{
	struct ibound b;
	int64_t v;

	ibound_collect(cs, prop, &b);
	*why = b.lo_c ? b.lo_c : b.first;
	if (!b.any)
		return 0;
	v = b.lo_set ? b.lo : upper_only;
	if (v <= 0)
		return 0;
	v = skip_excluded(cs, prop, v);
	return (uint64_t)v;
}

/* ---- rule 2: links ---- */

struct found {
	const struct xir_constraint *c;
	struct src_loc loc;
};

typedef bool (*cons_pred)(const struct xir_constraint *c);

static bool is_rate(const struct xir_constraint *c)
{
	return prop_is(c, "capacity") || prop_is(c, "queue");
}

/* The first constraint of link li (its own, then its endpoints') that pred
 * accepts, with the most precise place. */
static bool link_find(const struct xir *x, size_t li, cons_pred pred, struct found *f)
{
	const struct xir_link *l = &x->links[li];
	size_t j, k;

	for (k = 0; k < l->cons.n; k++)
		if (pred(&l->cons.v[k])) {
			f->c = &l->cons.v[k];
			f->loc = pick_loc(f->c->loc, l->loc);
			return true;
		}
	for (j = 0; j < l->nep; j++)
		for (k = 0; k < l->ep[j].cons.n; k++)
			if (pred(&l->ep[j].cons.v[k])) {
				f->c = &l->ep[j].cons.v[k];
				f->loc = pick_loc(f->c->loc, pick_loc(l->ep[j].loc, l->loc));
				return true;
			}
	return false;
}

/* The link-level mtu (rule 2). */
static unsigned link_mtu(const struct xir_link *l)
{
	struct ibound b;
	int64_t v;

	ibound_collect(&l->cons, "mtu", &b);
	if (b.lo_set) {
		v = skip_excluded(&l->cons, "mtu", b.lo);
		return v > 0 && v <= 65535 ? (unsigned)v : 0;
	}
	if (b.hi_set && b.hi < DEFAULT_MTU && b.hi > 0)
		return (unsigned)b.hi;
	return 0;
}

/* mtu on an endpoint: one error per endpoint. */
static void check_ep_mtu(struct rz_ctx *c, size_t li)
{
	const struct xir_link *l = &c->x->links[li];
	char lb[XIR_LABEL_BUF], n[XIR_NAME_BUF];
	size_t j, k;

	for (j = 0; j < l->nep && !diag_full(c->d); j++)
		for (k = 0; k < l->ep[j].cons.n; k++) {
			const struct xir_constraint *m = &l->ep[j].cons.v[k];

			if (!prop_is(m, "mtu"))
				continue;
			diag_error(c->d, pick_loc(m->loc, pick_loc(l->ep[j].loc, l->loc)),
				   "give mtu on the link; it applies to every endpoint",
				   "%s, endpoint '%s': per-endpoint mtu is not supported",
				   xir_fmt_link(c->x, li, lb), xir_fmt_node(c->x, l->ep[j].node, n));
			break;
		}
}

static double value_num(const struct xir_value *v)
{
	return v->type == XV_FLOAT ? v->f : v->type == XV_INT ? (double)v->i : 0;
}

/* Apply one constraint to the parameters of a direction; burst is kept
 * aside until loss is known. */
static void apply_cons(const struct xir_constraint *k, struct emu_params *p, double *burst)
{
	bool lower = k->op == XIR_EQ || k->op == XIR_GE || k->op == XIR_GT;
	bool upper = k->op == XIR_EQ || k->op == XIR_LE || k->op == XIR_LT;
	double v = value_num(&k->value);

	if (!k->prop)
		return;
	if (lower && prop_is(k, "latency"))
		p->latency_ns = (int64_t)v;
	else if (lower && prop_is(k, "jitter"))
		p->jitter_ns = (int64_t)v;
	else if (lower && prop_is(k, "loss"))
		p->loss = v;
	else if (lower && prop_is(k, "duplicate"))
		p->duplicate = v;
	else if (lower && prop_is(k, "reorder"))
		p->reorder = v;
	else if (lower && prop_is(k, "corrupt"))
		p->corrupt = v;
	else if (lower && prop_is(k, "burst"))
		*burst = v;
	else if (upper && prop_is(k, "capacity"))
		p->rate_bps = (uint64_t)v;
	else if (upper && prop_is(k, "queue")) {
		if (k->value.unit == XU_BYTES)
			p->queue_bytes = (uint64_t)v;
		else
			p->queue_pkts = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
}

/* The parameters of the direction leaving endpoint j of link li. Returns
 * false (and reports it) when the emulator would refuse them. */
static bool dir_params(struct rz_ctx *c, size_t li, size_t j, struct emu_params *p)
{
	const struct xir_link *l = &c->x->links[li];
	char lb[XIR_LABEL_BUF], n[XIR_NAME_BUF];
	double burst = 0;
	size_t k;

	memset(p, 0, sizeof(*p));
	for (k = 0; k < l->cons.n; k++)
		apply_cons(&l->cons.v[k], p, &burst);
	for (k = 0; k < l->ep[j].cons.n; k++)
		apply_cons(&l->ep[j].cons.v[k], p, &burst);
	if (emu_params_set_loss(p, p->loss, burst)) {
		diag_error(c->d, pick_loc(l->ep[j].loc, l->loc),
			   "burst is the mean number of frames lost in a row: 1 or more, "
			   "with a loss below 1",
			   "%s, direction from '%s': burst == %g does not fit loss == %g",
			   xir_fmt_link(c->x, li, lb), xir_fmt_node(c->x, l->ep[j].node, n), burst,
			   p->loss);
		return false;
	}
	if (emu_params_check(p)) {
		diag_error(c->d, pick_loc(l->ep[j].loc, l->loc),
			   "latency + jitter must stay within an hour",
			   "%s, direction from '%s': the link emulator cannot apply these values",
			   xir_fmt_link(c->x, li, lb), xir_fmt_node(c->x, l->ep[j].node, n));
		return false;
	}
	return true;
}

/* The emulator's parameters of every direction of link li. */
static int link_dirs(struct rz_ctx *c, size_t li)
{
	const struct xir_link *l = &c->x->links[li];
	struct rz_link *rl = &c->r->links[li];
	size_t j;

	rl->dir = calloc(l->nep ? l->nep : 1, sizeof(*rl->dir));
	if (!rl->dir)
		return -ENOMEM;
	for (j = 0; j < l->nep; j++)
		if (!dir_params(c, li, j, &rl->dir[j]))
			break;
	return 0;
}

static int realize_links(struct rz_ctx *c)
{
	struct found f;
	size_t i;

	for (i = 0; i < c->x->nlinks; i++) {
		const struct xir_link *l = &c->x->links[i];
		struct rz_link *rl = &c->r->links[i];

		rl->kind = l->nep > 2 ? RZ_LAN : RZ_P2P;
		rl->emulated = xir_link_is_emulated(c->x, l) || link_find(c->x, i, is_rate, &f);
		rl->mtu = link_mtu(l);
		if (rl->emulated && link_dirs(c, i))
			return -ENOMEM;
		if (diag_full(c->d))
			continue;
		check_ep_mtu(c, i);
	}
	return 0;
}

/* ---- rule 3: allocation ---- */

struct resource {
	const char *prop;    /* "cores", "memory" */
	int64_t upper_only;  /* the allocation when only upper bounds are given */
	uint64_t base, used; /* the host's */
	bool memory;
};

static const char *fmt_amount(const struct resource *res, char *buf, size_t cap, uint64_t v)
{
	return res->memory ? fmt_bytes(buf, cap, v) : fmt_cores(buf, cap, v);
}

/* "device 'a': cores == 4 does not fit: this host has 2 cores, 1 free" */
static void report_fit(struct rz_ctx *c, const struct resource *res, uint32_t node,
		       const struct xir_constraint *why, uint64_t before, uint64_t total)
{
	char n[XIR_NAME_BUF], cs[XIR_CONS_BUF], have[48], fr[48], bf[48], held[48], tot[48];
	char hint[MSG_BUF], earlier[96] = "";
	uint64_t free_ = res->base > res->used ? res->base - res->used : 0;

	if (res->memory)
		fmt_bytes(bf, sizeof(bf), before);
	else
		snprintf(bf, sizeof(bf), "%llu", (unsigned long long)before);
	if (before)
		snprintf(earlier, sizeof(earlier), ", and earlier devices take %s", bf);
	if (res->used)
		snprintf(hint, sizeof(hint),
			 "other experiments hold %s; take one down or ask for less",
			 fmt_amount(res, held, sizeof(held), res->used));
	else
		snprintf(hint, sizeof(hint),
			 "the devices of this experiment ask for %s in all; ask for less",
			 fmt_amount(res, tot, sizeof(tot), total));
	if (res->memory)
		snprintf(have, sizeof(have), "%s of memory", fmt_bytes(fr, sizeof(fr), res->base));
	else
		fmt_cores(have, sizeof(have), res->base);
	if (res->memory)
		fmt_bytes(fr, sizeof(fr), free_);
	else
		snprintf(fr, sizeof(fr), "%llu", (unsigned long long)free_);
	diag_error(c->d, c->x->nodes[node].loc, hint,
		   "device '%s': %s does not fit: this host has %s, %s free%s",
		   xir_fmt_node(c->x, node, n), why ? xir_fmt_cons(cs, why) : res->prop, have, fr,
		   earlier);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Allocate one resource to every node and check that the sum fits. */
static void alloc_resource(struct rz_ctx *c, const struct resource *res)
{
	const struct xir_constraint *why;
	uint64_t free_ = res->base > res->used ? res->base - res->used : 0;
	uint64_t total = 0, sum = 0, v;
	size_t i, bad = SIZE_MAX;
	const struct xir_constraint *bad_why = NULL;
	uint64_t bad_before = 0;

	for (i = 0; i < c->x->nnodes; i++) {
		v = alloc_value(&c->x->nodes[i].cons, res->prop, res->upper_only, &why);
		if (res->memory)
			c->r->nodes[i].memory = v;
		else
			c->r->nodes[i].cores = v;
		total = sat_add(total, v);
		if (bad == SIZE_MAX && v && sat_add(sum, v) > free_) {
			bad = i;
			bad_why = why;
			bad_before = sum;
		}
		sum = sat_add(sum, v);
	}
	if (bad != SIZE_MAX && !diag_full(c->d))
		report_fit(c, res, (uint32_t)bad, bad_why, bad_before, total);
}

static void realize_alloc(struct rz_ctx *c)
{
	struct resource cores = { "cores", 1, c->host->cores, c->host->used_cores, false };
	struct resource mem = { "memory", 0, c->host->memory, c->host->used_memory, true };

	alloc_resource(c, &cores);
	alloc_resource(c, &mem);
}

/* ---- rule 4: MACs ---- */

/* An open-addressing set of 48-bit MACs (0 marks an empty slot: no valid
 * interface MAC is all zero). */
struct macset {
	uint64_t *v;
	size_t mask;
};

static uint64_t mac_key(const uint8_t m[6])
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < 6; i++)
		k = k << 8 | m[i];
	return k;
}

/* Insert key; false when it was there already. */
static bool macset_add(struct macset *s, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 20) & s->mask;

	while (s->v[i]) {
		if (s->v[i] == key)
			return false;
		i = (i + 1) & s->mask;
	}
	s->v[i] = key;
	return true;
}

/* The stable MAC of (experiment, node, link), attempt 0, 1, ... until one
 * is new. key holds "experiment\0node\0link". */
static int mac_generate(struct util_buf *key, struct macset *set, uint8_t mac[6])
{
	size_t base = key->len;
	unsigned attempt;

	for (attempt = 0;; attempt++) {
		uint32_t h1, h2;

		key->len = base;
		if (attempt) {
			util_buf_append(key, "", 1);
			util_buf_printf(key, "%u", attempt);
		}
		util_buf_append(key, "a", 1);
		if (key->oom)
			return -ENOMEM;
		h1 = util_hash(key->s, key->len);
		key->s[key->len - 1] = 'b';
		h2 = util_hash(key->s, key->len);
		mac[0] = 0x02; /* unicast, locally administered */
		mac[1] = (uint8_t)(h1 >> 24);
		mac[2] = (uint8_t)(h1 >> 16);
		mac[3] = (uint8_t)(h1 >> 8);
		mac[4] = (uint8_t)h1;
		mac[5] = (uint8_t)h2;
		if (macset_add(set, mac_key(mac)))
			return 0;
	}
}

/* The endpoint's mac == , parsed; false when none. */
static bool ep_given_mac(const struct xir_endpoint *e, uint8_t mac[6])
{
	const char *why;
	size_t k;

	for (k = 0; k < e->cons.n; k++) {
		const struct xir_constraint *c = &e->cons.v[k];

		if (prop_is(c, "mac") && c->op == XIR_EQ && c->value.type == XV_STR &&
		    !addr_parse_mac(c->value.s, mac, &why))
			return true;
	}
	return false;
}

/* Given MACs first (so generated ones avoid them all), then the generated
 * ones in link order. Returns 0 or -ENOMEM. */
static int realize_macs(struct rz_ctx *c)
{
	const struct xir *x = c->x;
	struct macset set = { NULL, 0 };
	struct util_buf key;
	size_t i, j, total = 0, cap = 16;
	bool *given = NULL;
	int r = -ENOMEM;

	for (i = 0; i < x->nlinks; i++)
		total += x->links[i].nep;
	while (cap < 2 * total + 2)
		cap *= 2;
	set.v = calloc(cap, sizeof(*set.v));
	set.mask = cap - 1;
	given = calloc(total ? total : 1, sizeof(*given));
	util_buf_init(&key);
	if (!set.v || !given)
		goto out_free;
	for (i = 0, total = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++, total++) {
			uint8_t *mac = ep_iface(c->r, i, j)->mac;

			given[total] = ep_given_mac(&x->links[i].ep[j], mac);
			if (given[total])
				macset_add(&set, mac_key(mac));
		}
	for (i = 0, total = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++, total++) {
			if (given[total])
				continue;
			key.len = 0;
			util_buf_append(&key, x->name, strlen(x->name) + 1);
			util_buf_append(&key, x->nodes[x->links[i].ep[j].node].name,
					strlen(x->nodes[x->links[i].ep[j].node].name) + 1);
			util_buf_puts(&key, x->links[i].name ? x->links[i].name : "");
			if (mac_generate(&key, &set, ep_iface(c->r, i, j)->mac))
				goto out_free;
		}
	r = 0;
out_free:
	util_buf_free(&key);
	free(given);
	free(set.v);
	return r;
}

/* ---- rule 5: addresses ---- */

static uint32_t v4_get(const struct addr_prefix *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	       (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

static struct addr_prefix v4_make(uint32_t v, unsigned plen)
{
	struct addr_prefix a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.bytes[0] = (uint8_t)(v >> 24);
	a.bytes[1] = (uint8_t)(v >> 16);
	a.bytes[2] = (uint8_t)(v >> 8);
	a.bytes[3] = (uint8_t)v;
	a.plen = plen;
	return a;
}

static uint64_t v4_size(unsigned plen)
{
	return 1ULL << (32 - plen);
}

/* [lo, hi] of IPv4 space, inclusive */
struct v4range {
	uint64_t lo, hi;
};

static int range_cmp(const void *pa, const void *pb)
{
	const struct v4range *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (a->hi > b->hi) - (a->hi < b->hi);
}

struct pool {
	struct addr_prefix net;
	const struct xir_constraint *c; /* NULL: the default */
	uint64_t lo, hi, cursor;        /* [lo, hi]: the pool; cursor: first unused */
	struct v4range *taken;          /* given subnets, sorted, merged */
	size_t ntaken, ti;
	bool reported;
};

/* The address plan's state: the pool and a scratch array of host numbers. */
struct plan {
	struct pool pool;
	uint64_t *used;
	size_t nused;
};

/* The networks of every given IPv4 address, sorted and merged; also sets
 * each endpoint's given addresses. Returns 0 or -ENOMEM. */
static int collect_given(struct rz_ctx *c, struct pool *p)
{
	const struct xir *x = c->x;
	size_t i, j, n = 0, cap = 0, w;

	for (i = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++) {
			struct rz_iface *t = ep_iface(c->r, i, j);
			struct addr_prefix net;
			struct v4range rg;

			cset_ip(&x->links[i].ep[j].cons, AF_INET6, &t->v6);
			if (!cset_ip(&x->links[i].ep[j].cons, AF_INET, &t->v4))
				continue;
			net = addr_network(&t->v4);
			rg.lo = v4_get(&net);
			rg.hi = rg.lo + v4_size(net.plen) - 1;
			if (UTIL_PUSH(p->taken, n, cap, rg))
				return -ENOMEM;
		}
	if (n)
		qsort(p->taken, n, sizeof(*p->taken), range_cmp);
	for (i = 0, w = 0; i < n; i++) {
		if (w && p->taken[i].lo <= p->taken[w - 1].hi + 1) {
			if (p->taken[i].hi > p->taken[w - 1].hi)
				p->taken[w - 1].hi = p->taken[i].hi;
			continue;
		}
		p->taken[w++] = p->taken[i];
	}
	p->ntaken = w;
	return 0;
}

/* topo.spec(pool == '...'), or 10.0.0.0/8. */
static void pool_init(const struct xir *x, struct pool *p)
{
	const char *why;
	size_t i;

	p->net = v4_make(10u << 24, 8);
	for (i = 0; i < x->cons.n; i++) {
		const struct xir_constraint *c = &x->cons.v[i];
		struct addr_prefix a;

		if (prop_is(c, "pool") && c->op == XIR_EQ && c->value.type == XV_STR &&
		    !addr_parse_prefix(c->value.s, &a, &why)) {
			p->net = addr_network(&a);
			p->c = c;
			break;
		}
	}
	if (p->net.family == AF_INET) {
		p->lo = v4_get(&p->net);
		p->hi = p->lo + v4_size(p->net.plen) - 1;
	}
	p->cursor = p->lo;
}

/* The prefix length of a pool subnet for nep endpoints (rule 5). */
static unsigned subnet_plen(size_t nep, unsigned pool_plen)
{
	unsigned p = 24;

	while (p > 0 && v4_size(p) - 3 < nep)
		p--;
	if (p >= pool_plen)
		return p;
	/* a small pool: just large enough for the endpoints */
	for (p = 30; p > 0 && v4_size(p) - 2 < nep; p--)
		;
	return p;
}

static uint64_t align_up(uint64_t v, uint64_t size)
{
	return (v + size - 1) & ~(size - 1);
}

/* Take the next free subnet for link li from the pool. Returns false (after
 * reporting once) when the pool has none left. */
static bool pool_take(struct rz_ctx *c, struct pool *p, size_t li, struct addr_prefix *out)
{
	size_t nep = c->x->links[li].nep;
	unsigned plen = subnet_plen(nep, p->net.plen);
	uint64_t size = v4_size(plen), s;
	char lb[XIR_LABEL_BUF], pn[64], hint[MSG_BUF];

	if (p->net.family != AF_INET) {
		if (!p->reported && !diag_full(c->d))
			diag_error(c->d, p->c ? p->c->loc : xir_noloc(),
				   "give an IPv4 pool, or IPv4 addresses with ip ==",
				   "%s: the address pool %s is IPv6; addresses are assigned from "
				   "IPv4 pools only",
				   xir_fmt_link(c->x, li, lb), addr_format(&p->net, pn, sizeof(pn)));
		p->reported = true;
		return false;
	}
	s = align_up(p->cursor, size);
	while (plen >= p->net.plen && s + size - 1 <= p->hi) {
		while (p->ti < p->ntaken && p->taken[p->ti].hi < s)
			p->ti++;
		if (p->ti == p->ntaken || p->taken[p->ti].lo > s + size - 1) {
			p->cursor = s + size;
			*out = v4_make((uint32_t)s, plen);
			return true;
		}
		s = align_up(p->taken[p->ti].hi + 1, size);
	}
	if (!p->reported && !diag_full(c->d)) {
		snprintf(hint, sizeof(hint), "use a larger pool with topo.spec(pool == '...'), or "
			 "give some links addresses with ip ==");
		diag_error(c->d, c->x->links[li].loc, hint,
			   "%s: the address pool %s has no free /%u left for it",
			   xir_fmt_link(c->x, li, lb), addr_format(&p->net, pn, sizeof(pn)), plen);
	}
	p->reported = true;
	return false;
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return (a > b) - (a < b);
}

/* Link li's subnet has no address left for endpoint j. */
static void report_full(struct rz_ctx *c, size_t li, size_t j, const struct addr_prefix *subnet)
{
	const struct xir_link *l = &c->x->links[li];
	char lb[XIR_LABEL_BUF], sn[64], n[XIR_NAME_BUF];

	if (diag_full(c->d))
		return;
	diag_error(c->d, pick_loc(l->ep[j].loc, l->loc),
		   "give the subnet a shorter prefix, or this endpoint an address with ip ==",
		   "%s: subnet %s has no free address left for endpoint '%s'",
		   xir_fmt_link(c->x, li, lb), addr_format(subnet, sn, sizeof(sn)),
		   xir_fmt_node(c->x, l->ep[j].node, n));
}

/* Give the endpoints of link li without an IPv4 address the lowest host
 * addresses of subnet that no given address uses. */
static void fill_link(struct rz_ctx *c, struct plan *pl, size_t li, struct addr_prefix subnet)
{
	const struct xir_link *l = &c->x->links[li];
	uint64_t base = v4_get(&subnet), size = v4_size(subnet.plen);
	uint64_t h, hmax, ui = 0;
	size_t j;

	h = subnet.plen >= 31 ? 0 : 1;
	hmax = subnet.plen >= 31 ? size - 1 : size - 2;
	pl->nused = 0;
	for (j = 0; j < l->nep; j++) {
		const struct rz_iface *t = ep_iface(c->r, li, j);
		uint64_t a;

		if (t->v4.family != AF_INET)
			continue;
		a = v4_get(&t->v4);
		if (a >= base && a - base < size)
			pl->used[pl->nused++] = a - base;
	}
	if (pl->nused)
		qsort(pl->used, pl->nused, sizeof(*pl->used), u64_cmp);
	for (j = 0; j < l->nep; j++) {
		struct rz_iface *t = ep_iface(c->r, li, j);

		if (t->v4.family == AF_INET)
			continue;
		for (;; h++) {
			while (ui < pl->nused && pl->used[ui] < h)
				ui++;
			if (ui == pl->nused || pl->used[ui] != h)
				break;
		}
		if (h > hmax) {
			report_full(c, li, j, &subnet);
			return;
		}
		t->v4 = v4_make((uint32_t)(base + h), subnet.plen);
		h++;
	}
}

/* Rule 5. Returns 0 or -ENOMEM. */
static int realize_addrs(struct rz_ctx *c)
{
	const struct xir *x = c->x;
	struct plan pl;
	size_t i, j, maxep = 1;
	int r = -ENOMEM;

	memset(&pl, 0, sizeof(pl));
	for (i = 0; i < x->nlinks; i++)
		if (x->links[i].nep > maxep)
			maxep = x->links[i].nep;
	pl.used = malloc(maxep * sizeof(*pl.used));
	if (!pl.used || collect_given(c, &pl.pool))
		goto out_free;
	pool_init(x, &pl.pool);
	for (i = 0; i < x->nlinks; i++) {
		struct rz_link *rl = &c->r->links[i];
		struct addr_prefix subnet;

		for (j = 0; j < x->links[i].nep; j++) {
			const struct rz_iface *t = ep_iface(c->r, i, j);

			if (t->v6.family == AF_INET6 && !rl->subnet6.family)
				rl->subnet6 = addr_network(&t->v6);
			if (t->v4.family == AF_INET && !rl->subnet4.family)
				rl->subnet4 = addr_network(&t->v4);
		}
		if (rl->subnet4.family)
			subnet = rl->subnet4;
		else if (pool_take(c, &pl.pool, i, &subnet))
			rl->subnet4 = subnet;
		else
			continue;
		fill_link(c, &pl, i, subnet);
	}
	r = 0;
out_free:
	free(pl.used);
	free(pl.pool.taken);
	return r;
}

/* ---- rule 6: routes ---- */

/* The graph of one address family in compact arrays: a node's links (where
 * its interface has an address of the family, in interface order) and a
 * link's endpoints with such an address, sorted by node index. */
struct fgraph {
	int fam;
	uint32_t *noff, *nlink;        /* node -> links */
	uint32_t *loff, *lnode, *lep;  /* link -> (node, endpoint index) */
	bool *lsub;                    /* link has a subnet of the family */
};

struct router {
	const struct xir *x;
	struct realization *r;
	uint32_t gen;
	uint32_t *seen, *ldone;          /* generation stamps: node reached, link expanded */
	uint32_t *fh;                    /* node: rank of its first hop */
	uint32_t *queue;
	uint32_t *hop_link, *hop_ep;     /* rank: the first hop's link and endpoint */
	uint32_t *cnt;                   /* rank: routes through it, then run ends */
	uint32_t *rlink, *rrank, *order; /* routes found: link, first-hop rank; sorted by rank */
	uint64_t *keys;                  /* scratch for route_emit_v4 */
	size_t nfound;
	struct rz_route *out;            /* one node's routes, both families */
	size_t nout;
};

static const struct addr_prefix *iface_addr(const struct rz_iface *t, int fam)
{
	return fam == AF_INET ? &t->v4 : &t->v6;
}

static const struct addr_prefix *link_subnet(const struct rz_link *l, int fam)
{
	return fam == AF_INET ? &l->subnet4 : &l->subnet6;
}

static void fgraph_free(struct fgraph *g)
{
	free(g->noff);
	free(g->nlink);
	free(g->loff);
	free(g->lnode);
	free(g->lep);
	free(g->lsub);
}

/* Build g for family fam. Returns 0 or -ENOMEM. */
static int fgraph_init(struct fgraph *g, const struct realization *r, int fam)
{
	const struct xir *x = r->x;
	size_t i, j, total = 0, maxep = 1, n = 0;
	uint64_t *keys = NULL;

	memset(g, 0, sizeof(*g));
	g->fam = fam;
	for (i = 0; i < x->nlinks; i++) {
		total += x->links[i].nep;
		if (x->links[i].nep > maxep)
			maxep = x->links[i].nep;
	}
	g->noff = calloc(x->nnodes + 1, sizeof(uint32_t));
	g->nlink = calloc(total ? total : 1, sizeof(uint32_t));
	g->loff = calloc(x->nlinks + 1, sizeof(uint32_t));
	g->lnode = calloc(total ? total : 1, sizeof(uint32_t));
	g->lep = calloc(total ? total : 1, sizeof(uint32_t));
	g->lsub = calloc(x->nlinks ? x->nlinks : 1, sizeof(bool));
	keys = malloc(maxep * sizeof(*keys));
	if (!g->noff || !g->nlink || !g->loff || !g->lnode || !g->lep || !g->lsub || !keys) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < x->nnodes; i++) {
		const struct rz_node *nd = &r->nodes[i];

		g->noff[i] = (uint32_t)n;
		for (j = 0; j < nd->nifs; j++)
			if (iface_addr(&nd->ifs[j], fam)->family)
				g->nlink[n++] = nd->ifs[j].link;
	}
	g->noff[x->nnodes] = (uint32_t)n;
	for (i = 0, n = 0; i < x->nlinks; i++) {
		const struct xir_link *l = &x->links[i];
		size_t k = 0;

		g->lsub[i] = link_subnet(&r->links[i], fam)->family != 0;
		g->loff[i] = (uint32_t)n;
		for (j = 0; j < l->nep; j++)
			if (iface_addr(ep_iface(r, i, j), fam)->family)
				keys[k++] = (uint64_t)l->ep[j].node << 32 | j;
		qsort(keys, k, sizeof(*keys), u64_cmp);
		for (j = 0; j < k; j++, n++) {
			g->lnode[n] = (uint32_t)(keys[j] >> 32);
			g->lep[n] = (uint32_t)keys[j];
		}
	}
	g->loff[x->nlinks] = (uint32_t)n;
	free(keys);
	return 0;
}

/* Allocate the search state. Returns 0 or -ENOMEM. */
static int router_init(struct router *rt, const struct xir *x, struct realization *r)
{
	size_t nn = x->nnodes ? x->nnodes : 1, nl = x->nlinks ? x->nlinks : 1;

	memset(rt, 0, sizeof(*rt));
	rt->x = x;
	rt->r = r;
	rt->seen = calloc(nn, sizeof(uint32_t));
	rt->fh = calloc(nn, sizeof(uint32_t));
	rt->queue = calloc(nn, sizeof(uint32_t));
	rt->hop_link = calloc(nn, sizeof(uint32_t));
	rt->hop_ep = calloc(nn, sizeof(uint32_t));
	rt->cnt = calloc(nn + 1, sizeof(uint32_t));
	rt->ldone = calloc(nl, sizeof(uint32_t));
	rt->rlink = calloc(nl, sizeof(uint32_t));
	rt->rrank = calloc(nl, sizeof(uint32_t));
	rt->order = calloc(nl, sizeof(uint32_t));
	rt->out = calloc(2 * (nl + 1), sizeof(*rt->out));
	rt->keys = calloc(nl, sizeof(*rt->keys));
	if (!rt->keys || !rt->seen || !rt->fh || !rt->queue || !rt->hop_link || !rt->hop_ep ||
	    !rt->cnt ||
	    !rt->ldone || !rt->rlink || !rt->rrank || !rt->order || !rt->out)
		return -ENOMEM;
	return 0;
}

static void router_free(struct router *rt)
{
	free(rt->seen);
	free(rt->fh);
	free(rt->queue);
	free(rt->hop_link);
	free(rt->hop_ep);
	free(rt->cnt);
	free(rt->ldone);
	free(rt->rlink);
	free(rt->rrank);
	free(rt->order);
	free(rt->out);
	free(rt->keys);
}

/* Breadth-first search from s in g: every link with a subnet that s is not
 * on goes to rlink/rrank with the rank of its first hop, when the first of
 * its endpoints is taken from the queue. Returns the number of first hops. */
static uint32_t route_search(struct router *rt, const struct fgraph *g, uint32_t s)
{
	uint32_t qh = 0, qt = 0, k = 0, gen = ++rt->gen;

	rt->nfound = 0;
	rt->seen[s] = gen;
	rt->queue[qt++] = s;
	while (qh < qt) {
		uint32_t u = rt->queue[qh++], a, e;

		for (a = g->noff[u]; a < g->noff[u + 1]; a++) {
			uint32_t L = g->nlink[a];

			if (rt->ldone[L] == gen)
				continue;
			rt->ldone[L] = gen;
			if (u != s && g->lsub[L]) {
				rt->rlink[rt->nfound] = L;
				rt->rrank[rt->nfound++] = rt->fh[u];
			}
			for (e = g->loff[L]; e < g->loff[L + 1]; e++) {
				uint32_t v = g->lnode[e];

				if (rt->seen[v] == gen)
					continue;
				rt->seen[v] = gen;
				if (u == s) {
					rt->hop_link[k] = L;
					rt->hop_ep[k] = g->lep[e];
					rt->fh[v] = k++;
				} else {
					rt->fh[v] = rt->fh[u];
				}
				rt->queue[qt++] = v;
			}
		}
	}
	return k;
}

/* a and b are the two halves of one network (a the lower). */
static bool siblings(const struct addr_prefix *a, const struct addr_prefix *b)
{
	unsigned p = a->plen, i = p - 1, full = i / 8;
	uint8_t bit = (uint8_t)(0x80u >> (i % 8)), mask = (uint8_t)~(0xffu >> (i % 8));

	if (a->family != b->family || p == 0 || b->plen != p)
		return false;
	/* the bits before the last prefix bit agree; that bit is 0 in a, 1 in b */
	return !memcmp(a->bytes, b->bytes, full) && !(a->bytes[full] & bit) &&
	       (b->bytes[full] & bit) && (a->bytes[full] & mask) == (b->bytes[full] & mask);
}

/* An IPv4 network as one sortable number: address << 6 | prefix length. */
static uint64_t v4_key(const struct addr_prefix *a)
{
	return (uint64_t)v4_get(a) << 6 | a->plen;
}

static bool v4_key_siblings(uint64_t a, uint64_t b)
{
	unsigned p = (unsigned)(a & 63);
	uint32_t x = (uint32_t)(a >> 6), y = (uint32_t)(b >> 6), bit;

	if (p == 0 || (b & 63) != p)
		return false;
	bit = (uint32_t)(1ULL << (32 - p));
	return !(x & bit) && y == (x | bit);
}

/* Sort v[0..n) ascending: nothing to do when it already is, a reversal when
 * it is descending (the far side of a chain), qsort otherwise. */
static void u64_sort(uint64_t *v, size_t n)
{
	size_t i;

	for (i = 1; i < n && v[i - 1] <= v[i]; i++)
		;
	if (i >= n)
		return;
	for (i = 1; i < n && v[i - 1] >= v[i]; i++)
		;
	if (i < n) {
		qsort(v, n, sizeof(*v), u64_cmp);
		return;
	}
	for (i = 0; i < n / 2; i++) {
		uint64_t t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
}

/* Append routes to the IPv4 subnets of links[0..n) via one gateway, sorted
 * and with sibling networks merged. */
static void route_emit_v4(struct router *rt, const uint32_t *links, size_t n,
			  const struct addr_prefix *via)
{
	uint64_t *k = rt->keys;
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		k[i] = v4_key(&rt->r->links[links[i]].subnet4);
	u64_sort(k, n);
	for (i = 0; i < n; i++) {
		k[w++] = k[i];
		while (w >= 2 && v4_key_siblings(k[w - 2], k[w - 1])) {
			k[w - 2]--; /* one bit shorter */
			w--;
		}
	}
	for (i = 0; i < w; i++) {
		rt->out[rt->nout].dst = v4_make((uint32_t)(k[i] >> 6), (unsigned)(k[i] & 63));
		rt->out[rt->nout].via = *via;
		rt->nout++;
	}
}

static int route_dst_cmp(const void *pa, const void *pb)
{
	const struct rz_route *a = pa, *b = pb;
	int c = memcmp(a->dst.bytes, b->dst.bytes, sizeof(a->dst.bytes));

	if (c)
		return c < 0 ? -1 : 1;
	return (a->dst.plen > b->dst.plen) - (a->dst.plen < b->dst.plen);
}

/* Sort rt->out[from..nout) by destination (unless it already is) and merge
 * sibling prefixes; they all share one gateway. */
static void route_merge(struct router *rt, size_t from)
{
	struct rz_route *v = rt->out;
	size_t i, w = from;

	for (i = from + 1; i < rt->nout; i++)
		if (route_dst_cmp(&v[i - 1], &v[i]) > 0)
			break;
	if (i < rt->nout)
		qsort(v + from, rt->nout - from, sizeof(*v), route_dst_cmp);
	for (i = from; i < rt->nout; i++) {
		v[w++] = v[i];
		while (w - from >= 2 && siblings(&v[w - 2].dst, &v[w - 1].dst)) {
			v[w - 2].dst.plen--;
			w--;
		}
	}
	rt->nout = w;
}

/* The gateway of first hop k in one family. */
static struct addr_prefix hop_addr(const struct router *rt, uint32_t k, int fam)
{
	return *iface_addr(ep_iface(rt->r, rt->hop_link[k], rt->hop_ep[k]), fam);
}

/* Append s's routes of one family to rt->out: a default route via the most
 * used gateway, then the rest by gateway rank, each gateway's sorted by
 * destination and merged. */
static void route_family(struct router *rt, const struct fgraph *g, uint32_t s)
{
	uint32_t k = route_search(rt, g, s), best = 0, r, i;
	uint32_t *cnt = rt->cnt;
	size_t f;

	if (!rt->nfound)
		return;
	memset(cnt, 0, (k + 1) * sizeof(*cnt));
	for (f = 0; f < rt->nfound; f++)
		cnt[rt->rrank[f]]++;
	for (r = 1; r < k; r++)
		if (cnt[r] > cnt[best])
			best = r;
	/* counting sort by rank: cnt[r] becomes the start of rank r's run,
	 * then (after placing) its end */
	for (r = 0, i = 0; r <= k; r++) {
		uint32_t c = cnt[r];

		cnt[r] = i;
		i += c;
	}
	for (f = 0; f < rt->nfound; f++)
		rt->order[cnt[rt->rrank[f]]++] = rt->rlink[f];
	memset(&rt->out[rt->nout], 0, sizeof(*rt->out));
	rt->out[rt->nout].dst.family = g->fam;
	rt->out[rt->nout].via = hop_addr(rt, best, g->fam);
	rt->nout++;
	for (r = 0, i = 0; r < k; i = cnt[r], r++) {
		size_t from = rt->nout;
		struct addr_prefix via;

		if (r == best || i == cnt[r])
			continue;
		via = hop_addr(rt, r, g->fam);
		if (g->fam == AF_INET) {
			route_emit_v4(rt, rt->order + i, cnt[r] - i, &via);
			continue;
		}
		for (; i < cnt[r]; i++) {
			rt->out[rt->nout].dst = *link_subnet(&rt->r->links[rt->order[i]], g->fam);
			rt->out[rt->nout].via = via;
			rt->nout++;
		}
		route_merge(rt, from);
	}
}

/* Rule 6 for every node. Returns 0 or -ENOMEM. */
static int realize_routes(struct rz_ctx *c)
{
	struct router rt;
	struct fgraph g4, g6;
	size_t i;
	bool v6 = false;
	int r = -ENOMEM;

	memset(&g6, 0, sizeof(g6));
	for (i = 0; i < c->x->nlinks; i++)
		v6 |= c->r->links[i].subnet6.family == AF_INET6;
	if (router_init(&rt, c->x, c->r) || fgraph_init(&g4, c->r, AF_INET) ||
	    (v6 && fgraph_init(&g6, c->r, AF_INET6)))
		goto out_free;
	for (i = 0; i < c->x->nnodes; i++) {
		struct rz_node *n = &c->r->nodes[i];

		rt.nout = 0;
		if (!n->nifs)
			continue;
		route_family(&rt, &g4, (uint32_t)i);
		if (v6)
			route_family(&rt, &g6, (uint32_t)i);
		if (!rt.nout)
			continue;
		n->routes = malloc(rt.nout * sizeof(*n->routes));
		if (!n->routes)
			goto out_free;
		memcpy(n->routes, rt.out, rt.nout * sizeof(*n->routes));
		n->nroutes = rt.nout;
	}
	r = 0;
out_free:
	fgraph_free(&g4);
	fgraph_free(&g6);
	router_free(&rt);
	return r;
}

/* ---- the whole ---- */

void realize_free(struct realization *r)
{
	struct rz_priv *p;
	size_t i;

	if (!r)
		return;
	p = (struct rz_priv *)((char *)r - offsetof(struct rz_priv, r));
	if (r->nodes)
		for (i = 0; i < r->x->nnodes; i++)
			free(r->nodes[i].routes);
	free(r->nodes);
	if (r->links)
		for (i = 0; i < r->x->nlinks; i++)
			free(r->links[i].dir);
	free(r->links);
	free(r->ep_if);
	free(p->if_block);
	free(p->ep_block);
	free(p);
}

/* Constraints the model language has but this host cannot meet yet: say
 * so instead of building something that silently ignores them. */
static void cset_unsupported(const struct xir_cset *cs, const char *owner, struct src_loc at,
			     struct diag_list *d)
{
	char c[XIR_CONS_BUF];
	size_t i;

	for (i = 0; i < cs->n && !diag_full(d); i++) {
		const struct xir_constraint *k = &cs->v[i];
		const char *n = k->prop->name, *why = NULL;

		if (!strcmp(n, "nic") && !xir_constraint_needs_vm(k))
			why = "physical NICs (passthrough, SR-IOV) are not in this host's inventory";
		else if (!strcmp(n, "vlan"))
			why = "VLAN tags on endpoints are not supported yet";
		else if (!strcmp(n, "cpufreq"))
			why = "CPU bandwidth limits are not supported yet";
		else if (!strcmp(n, "disk"))
			why = "vtb's guests run from their initramfs and have no disk yet";
		else if (!strcmp(n, "image") || !strcmp(n, "kernel"))
			why = "vtb boots its own guest image (a Debian kernel and a busybox "
			      "initramfs, vtb image build); other images and kernels are not "
			      "supported yet";
		else if (!strcmp(n, "arch") && xir_constraint_needs_vm(k))
			why = "only x86_64 guests are supported";
		else if (!strcmp(n, "dilation"))
			why = "time dilation is not supported yet";
		if (why)
			diag_error(d, k->loc.line ? k->loc : at, "remove it to build the experiment",
				   "%s: %s: %s", owner, xir_fmt_cons(c, k), why);
	}
}

static void realize_unsupported(const struct xir *x, struct diag_list *d)
{
	char name[XIR_NAME_BUF], label[XIR_LABEL_BUF], owner[XIR_LABEL_BUF + XIR_NAME_BUF + 32];
	size_t i, j;

	for (i = 0; i < x->nnodes; i++) {
		snprintf(owner, sizeof(owner), "device '%s'", xir_fmt_node(x, (uint32_t)i, name));
		cset_unsupported(&x->nodes[i].cons, owner, x->nodes[i].loc, d);
	}
	for (i = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++) {
			const struct xir_endpoint *e = &x->links[i].ep[j];

			snprintf(owner, sizeof(owner), "%s, endpoint '%s'", xir_fmt_link(x, i, label),
				 xir_fmt_node(x, e->node, name));
			cset_unsupported(&e->cons, owner, x->links[i].loc, d);
		}
}

int realize(const struct xir *x, const struct rz_host *host, struct realization **out,
	    struct diag_list *d)
{
	struct rz_priv *p = calloc(1, sizeof(*p));
	struct rz_ctx c = { x, host, NULL, d };
	size_t errors = d->nerrors;
	int r = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->r.x = x;
	p->r.nodes = calloc(x->nnodes ? x->nnodes : 1, sizeof(*p->r.nodes));
	p->r.links = calloc(x->nlinks ? x->nlinks : 1, sizeof(*p->r.links));
	if (!p->r.nodes || !p->r.links || build_ifaces(p))
		goto out_free;
	c.r = &p->r;
	realize_unsupported(x, d);
	if (realize_kinds(&c))
		goto out_free;
	if (realize_links(&c))
		goto out_free;
	realize_alloc(&c);
	realize_vm_size(&c);
	if (realize_macs(&c) || realize_addrs(&c))
		goto out_free;
	realize_nics(&c);
	if (d->oom)
		goto out_free;
	if (d->nerrors > errors) {
		r = -EINVAL;
		goto out_free;
	}
	if (!topo_bool(x, "routing", false) && realize_routes(&c))
		goto out_free;
	*out = &p->r;
	return 0;
out_free:
	realize_free(&p->r);
	return r;
}
