/* rz_addr: rule 5 of realization (see realize.c): addresses and subnets. */
#include "rz_int.h"
#include "xir_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- rule 5: addresses ---- */

uint32_t rz_v4_get(const struct addr_prefix *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	       (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

struct addr_prefix rz_v4_make(uint32_t v, unsigned plen)
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
			struct rz_iface *t = rz_ep_iface(c->r, i, j);
			struct addr_prefix net;
			struct v4range rg;

			rz_cset_ip(&x->links[i].ep[j].cons, AF_INET6, &t->v6);
			if (!rz_cset_ip(&x->links[i].ep[j].cons, AF_INET, &t->v4))
				continue;
			net = addr_network(&t->v4);
			rg.lo = rz_v4_get(&net);
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

	p->net = rz_v4_make(10u << 24, 8);
	for (i = 0; i < x->cons.n; i++) {
		const struct xir_constraint *c = &x->cons.v[i];
		struct addr_prefix a;

		if (rz_prop_is(c, "pool") && c->op == XIR_EQ && c->value.type == XV_STR &&
		    !addr_parse_prefix(c->value.s, &a, &why)) {
			p->net = addr_network(&a);
			p->c = c;
			break;
		}
	}
	if (p->net.family == AF_INET) {
		p->lo = rz_v4_get(&p->net);
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
			*out = rz_v4_make((uint32_t)s, plen);
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

int rz_u64_cmp(const void *pa, const void *pb)
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
	diag_error(c->d, rz_pick_loc(l->ep[j].loc, l->loc),
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
	uint64_t base = rz_v4_get(&subnet), size = v4_size(subnet.plen);
	uint64_t h, hmax, ui = 0;
	size_t j;

	h = subnet.plen >= 31 ? 0 : 1;
	hmax = subnet.plen >= 31 ? size - 1 : size - 2;
	pl->nused = 0;
	for (j = 0; j < l->nep; j++) {
		const struct rz_iface *t = rz_ep_iface(c->r, li, j);
		uint64_t a;

		if (t->v4.family != AF_INET)
			continue;
		a = rz_v4_get(&t->v4);
		if (a >= base && a - base < size)
			pl->used[pl->nused++] = a - base;
	}
	if (pl->nused)
		qsort(pl->used, pl->nused, sizeof(*pl->used), rz_u64_cmp);
	for (j = 0; j < l->nep; j++) {
		struct rz_iface *t = rz_ep_iface(c->r, li, j);

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
		t->v4 = rz_v4_make((uint32_t)(base + h), subnet.plen);
		h++;
	}
}

/* Rule 5. Returns 0 or -ENOMEM. */
int realize_addrs(struct rz_ctx *c)
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
			const struct rz_iface *t = rz_ep_iface(c->r, i, j);

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

