/* rz_route: rule 6 of realization (see realize.c): static routes. */
#include "rz_int.h"
#include "xir_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
			if (iface_addr(rz_ep_iface(r, i, j), fam)->family)
				keys[k++] = (uint64_t)l->ep[j].node << 32 | j;
		qsort(keys, k, sizeof(*keys), rz_u64_cmp);
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
	return (uint64_t)rz_v4_get(a) << 6 | a->plen;
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
		qsort(v, n, sizeof(*v), rz_u64_cmp);
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
		rt->out[rt->nout].dst = rz_v4_make((uint32_t)(k[i] >> 6), (unsigned)(k[i] & 63));
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
	return *iface_addr(rz_ep_iface(rt->r, rt->hop_link[k], rt->hop_ep[k]), fam);
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

/* Drop every route of rt->out but the default ones (one per family). */
static void keep_defaults(struct router *rt)
{
	size_t i, w = 0;

	for (i = 0; i < rt->nout; i++)
		if (!rt->out[i].dst.plen)
			rt->out[w++] = rt->out[i];
	rt->nout = w;
}

/* Rule 6 for every node. Returns 0 or -ENOMEM. */
int realize_routes(struct rz_ctx *c, bool hosts_only)
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
		if (!n->nifs || (hosts_only && n->nifs > 1))
			continue;
		route_family(&rt, &g4, (uint32_t)i);
		if (v6)
			route_family(&rt, &g6, (uint32_t)i);
		if (hosts_only)
			keep_defaults(&rt);
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

