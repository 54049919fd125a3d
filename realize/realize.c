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
 *    virtio). A VM's guest architecture (vm_arch) is its arch == value,
 *    x86_64 (the host's), arm64 (or aarch64) or riscv64 (vm/arch.c), and
 *    each NIC must be a model that guest drives (rz_arch.c). vtb boots its
 *    own guest image, so kernel, image and other arch values are refused
 *    at their place ("... vtb boots its own guest image ..."), as are
 *    dilation (why: docs/vms.md), disk, vlan and physical NICs.
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
 *    Then the host's memory: each container takes RZ_MEM_CONTAINER of
 *    kernel memory, each emulated port its pinned receive ring
 *    (emu_ring_bytes) and RZ_MEM_EMU_PORT, each VM its vm_memory_mib; the
 *    sum must fit in MemAvailable minus RZ_MEM_RESERVE when the host's
 *    MemAvailable is known: "1000000 containers need about 427 GiB of
 *    kernel memory; this host has 22.1 GiB available".
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
 * 6. Routes (unless topo.spec(routing == false); with routing == hosts only
 *    the default routes of hosts, nodes with one interface), per address family. Links
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
 * 7. Link classes and ports (rz_ports.c). An emulated link is RZ_LC_EMULATED;
 *    a direct LAN RZ_LC_SWITCH; a direct point-to-point link with a VM on it
 *    RZ_LC_SHORT (a tap cannot be a veth's end: the two ports are joined by
 *    a redirect); the rest RZ_LC_VETH (one veth pair, no port). Every
 *    endpoint of a link of the first three classes has a root-side port,
 *    numbered in link order, then endpoint order (rz_iface.port); the names
 *    ("vtb<id>p<n>", "vtb<id>b<link>") come with realize_name once the
 *    experiment has an id. Deterministic: the same XIR gives the same map
 *    (status and the supervisor realize the stored XIR again).
 *
 * 8. Views (rz_views.c): privileged and private directories.
 *
 * 9. Limits (rz_limits.c): cores == n is a CPU bandwidth of n cores, scaled
 *    by cpufreq / the host's frequency (a cpufreq above it is an error);
 *    memory == m a hard limit with swap off; cpuset == true pins the cores.
 *
 * Problems go to the diag list; realize() returns -EINVAL when it added any. */
#include "emu.h"
#include "rz_int.h"
#include "xir_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

struct rz_iface *rz_ep_iface(const struct realization *r, size_t link, size_t j)
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

				if (rz_prop_is(m, "nic") && m->op == XIR_EQ && xir_constraint_needs_vm(m) &&
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

/* ---- rule 3: allocation ---- */

struct resource {
	const char *prop;    /* "cores", "memory" */
	int64_t upper_only;  /* the allocation when only upper bounds are given */
	uint64_t base, used; /* the host's */
	bool memory;
};

static const char *fmt_amount(const struct resource *res, char *buf, size_t cap, uint64_t v)
{
	return res->memory ? rz_fmt_bytes(buf, cap, v) : rz_fmt_cores(buf, cap, v);
}

/* "device 'a': cores == 4 does not fit: this host has 2 cores, 1 free" */
static void report_fit(struct rz_ctx *c, const struct resource *res, uint32_t node,
		       const struct xir_constraint *why, uint64_t before, uint64_t total)
{
	char n[XIR_NAME_BUF], cs[XIR_CONS_BUF], have[48], fr[48], bf[48], held[48], tot[48];
	char hint[MSG_BUF], earlier[96] = "";
	uint64_t free_ = res->base > res->used ? res->base - res->used : 0;

	if (res->memory)
		rz_fmt_bytes(bf, sizeof(bf), before);
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
		snprintf(have, sizeof(have), "%s of memory", rz_fmt_bytes(fr, sizeof(fr), res->base));
	else
		rz_fmt_cores(have, sizeof(have), res->base);
	if (res->memory)
		rz_fmt_bytes(fr, sizeof(fr), free_);
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
		v = rz_alloc_value(&c->x->nodes[i].cons, res->prop, res->upper_only, &why);
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

/* The host memory the experiment takes besides its nodes' requests: its
 * containers' and emulated ports' kernel memory and its VMs' memory
 * (rule 3). Reported when it does not fit in what the host has available. */
static void realize_host_memory(struct rz_ctx *c)
{
	uint64_t ncont = 0, nvm = 0, nports = 0, need = 0, vm_mem = 0, room;
	char needs[48], have[48], what[160];
	size_t i;

	if (!c->host->available)
		return;
	for (i = 0; i < c->x->nnodes; i++) {
		if (c->r->nodes[i].kind == RZ_CONTAINER) {
			ncont++;
		} else {
			nvm++;
			vm_mem = sat_add(vm_mem, c->r->nodes[i].vm_memory_mib << 20);
		}
	}
	for (i = 0; i < c->x->nlinks; i++)
		if (c->r->links[i].cls == RZ_LC_EMULATED)
			nports += c->x->links[i].nep;
	need = sat_add(ncont * RZ_MEM_CONTAINER,
		       nports * (emu_ring_bytes((size_t)nports) + RZ_MEM_EMU_PORT));
	room = c->host->available > RZ_MEM_RESERVE ? c->host->available - RZ_MEM_RESERVE : 0;
	if (sat_add(need, vm_mem) <= room || diag_full(c->d))
		return;
	snprintf(what, sizeof(what), "%llu container%s", (unsigned long long)ncont,
		 ncont == 1 ? "" : "s");
	if (nports)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " and %llu emulated port%s", (unsigned long long)nports,
			 nports == 1 ? "" : "s");
	if (nvm)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " (and %llu VM%s with %s of memory)", (unsigned long long)nvm,
			 nvm == 1 ? "" : "s", rz_fmt_bytes(have, sizeof(have), vm_mem));
	rz_fmt_bytes(needs, sizeof(needs), need);
	rz_fmt_bytes(have, sizeof(have), c->host->available);
	diag_error(c->d, xir_noloc(), "make the experiment smaller, or free memory on this host",
		   "%s need about %s of kernel memory; this host has %s available", what, needs,
		   have);
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

		if (rz_prop_is(c, "mac") && c->op == XIR_EQ && c->value.type == XV_STR &&
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
			uint8_t *mac = rz_ep_iface(c->r, i, j)->mac;

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
			if (mac_generate(&key, &set, rz_ep_iface(c->r, i, j)->mac))
				goto out_free;
		}
	r = 0;
out_free:
	util_buf_free(&key);
	free(given);
	free(set.v);
	return r;
}

/* ---- the whole ---- */

void realize_free(struct realization *r)
{
	struct rz_priv *p;
	size_t i, k;

	if (!r)
		return;
	p = (struct rz_priv *)((char *)r - offsetof(struct rz_priv, r));
	if (r->nodes)
		for (i = 0; i < r->x->nnodes; i++) {
			free(r->nodes[i].routes);
			for (k = 0; k < r->nodes[i].npriv; k++)
				free(r->nodes[i].priv[k].owned);
			free(r->nodes[i].priv);
			free(r->nodes[i].pkgs);
		}
	free(r->nodes);
	if (r->links)
		for (i = 0; i < r->x->nlinks; i++)
			free(r->links[i].dir);
	free(r->links);
	free(r->ep_if);
	rz_cluster_free(r->cluster);
	free(p->if_block);
	free(p->ep_block);
	free(p);
}

/* Constraints the model language has but this host cannot meet yet: say
 * so instead of building something that silently ignores them (errors for
 * vtb up, warnings of what vtb up will refuse for vtb compile). */
static void cset_unsupported(const struct xir_cset *cs, const char *owner, struct src_loc at,
			     bool warn, struct diag_list *d)
{
	char c[XIR_CONS_BUF], arch[200];
	size_t i;

	for (i = 0; i < cs->n && !diag_full(d); i++) {
		const struct xir_constraint *k = &cs->v[i];
		const char *n = k->prop->name, *why = NULL;

		if (!strcmp(n, "nic") && !xir_constraint_needs_vm(k))
			why = "physical NICs (passthrough, SR-IOV) are not in this host's inventory";
		else if (!strcmp(n, "vlan"))
			why = "VLAN tags on endpoints are not supported yet";
		else if (!strcmp(n, "disk"))
			why = "vtb's guests run from their initramfs and have no disk yet";
		else if (!strcmp(n, "kernel"))
			why = "vtb boots its own guest kernel (Debian's, vtb image build); other "
			      "kernels are not supported yet";
		else if (!strcmp(n, "arch") && xir_constraint_needs_vm(k))
			why = rz_arch_refusal(k, arch, sizeof(arch));
		else if (!strcmp(n, "dilation"))
			why = "time dilation is refused: QEMU's one clock control, -icount, ties "
			      "the guest's clock to the instructions it executes (2^shift ns "
			      "each), so the guest's time runs at whatever pace the host "
			      "emulates it, not slowed by a fixed factor relative to real time "
			      "(docs/vms.md, \"Time dilation\")";
		if (why)
			diag_add(d, warn ? DIAG_WARNING : DIAG_ERROR, k->loc.line ? k->loc : at,
				 "remove it to build the experiment", "%s: %s: %s%s", owner,
				 xir_fmt_cons(c, k), warn ? "vtb up will refuse it: " : "", why);
	}
}

void realize_unsupported(const struct xir *x, bool warn, struct diag_list *d)
{
	char name[XIR_NAME_BUF], label[XIR_LABEL_BUF], owner[XIR_LABEL_BUF + XIR_NAME_BUF + 32];
	size_t i, j;

	for (i = 0; i < x->nnodes; i++) {
		snprintf(owner, sizeof(owner), "device '%s'", xir_fmt_node(x, (uint32_t)i, name));
		cset_unsupported(&x->nodes[i].cons, owner, x->nodes[i].loc, warn, d);
	}
	for (i = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++) {
			const struct xir_endpoint *e = &x->links[i].ep[j];

			snprintf(owner, sizeof(owner), "%s, endpoint '%s'", xir_fmt_link(x, i, label),
				 xir_fmt_node(x, e->node, name));
			cset_unsupported(&e->cons, owner, x->links[i].loc, warn, d);
		}
}

int realize(const struct xir *x, const struct rz_host *host, struct realization **out,
	    struct diag_list *d)
{
	struct rz_priv *p = calloc(1, sizeof(*p));
	struct rz_ctx c = { .x = x, .host = host, .d = d };
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
	realize_unsupported(x, false, d);
	if (realize_kinds(&c) || realize_views(&c))
		goto out_free;
	if (realize_links(&c))
		goto out_free;
	realize_ports(&p->r);
	realize_alloc(&c);
	realize_vm_size(&c);
	realize_limits(&c);
	realize_host_memory(&c);
	if (realize_macs(&c) || realize_addrs(&c))
		goto out_free;
	realize_nics(&c);
	realize_vm_arch(&c);
	if (d->oom)
		goto out_free;
	if (d->nerrors > errors) {
		r = -EINVAL;
		goto out_free;
	}
	if (!rz_topo_bool(x, "routing", false) &&
	    realize_routes(&c, rz_topo_mode(x, "routing", "hosts")))
		goto out_free;
	*out = &p->r;
	return 0;
out_free:
	realize_free(&p->r);
	return r;
}

