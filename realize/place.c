/* place: nodes onto cluster hosts (docs/cluster.md, "Placement").
 *
 * 1. The graph: a vertex per node and one per LAN (the LAN's bridge, a star
 *    hub of weight 0: a LAN of n endpoints is n edges, not a clique of
 *    n(n-1)/2), an edge per point-to-point link or LAN endpoint weighing
 *    the link's capacity in Mbit/s (PLACE_LINK_DEFAULT_MBPS without one).
 *    Vertex weights: two constraints, CPU (at least PLACE_MIN_CPU_MILLI)
 *    and memory (place_demand).
 * 2. METIS_PartGraphKway into one part per live host with free capacity,
 *    target part weights proportional to each host's free CPU and memory.
 *    One such host: no METIS (METIS 5.1's k-way divides by zero for one
 *    part); two parts work with k-way as with more.
 * 3. Pins (host == 'NAME') move their nodes; host != 'NAME' moves a node
 *    off that host; a VM on a host without KVM moves to a KVM host with
 *    room where it cuts least.
 * 4. Repair: while a host holds more than its free capacity, the node on it
 *    whose move adds the least cut goes to a host with room; when none can
 *    move, the error names the node, what it asks for and each live host's
 *    free capacity. */
#include "dynlib.h"
#include "place.h"

#include <errno.h>
#include <metis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rz_int.h"
#include "xir_fmt.h"

#define NONE UINT32_MAX
#define NCON 2 /* vertex weight constraints: CPU, memory */
/* The largest sum of one kind of METIS weight: idx_t is 32 bits here, and
 * METIS adds weights up (and scales them) in idx_t. */
#define WEIGHT_SUM_MAX (1LL << 28)
#define BPS_PER_MBPS 1000000ULL
#define LIST_BUF 600 /* the hosts named in one message */

struct edge {
	uint32_t u, v;
	uint64_t w;
};

/* The topology graph in compressed rows: vertices 0..nnodes-1 are the
 * nodes, then one hub per LAN. */
struct graph {
	size_t nv, nnodes;
	size_t *row;  /* nv + 1 */
	uint32_t *col;
	uint64_t *w;  /* Mbit/s */
};

struct place {
	const struct xir *x;
	const struct realization *r;
	const struct place_host *h;
	size_t nh;
	struct diag_list *d;
	struct graph g;
	struct place_demand *dem; /* per node */
	uint32_t *pin;            /* per node: the host of host == 'NAME', or NONE */
	uint32_t *at;             /* per vertex: its host */
	uint64_t *load_cpu, *load_mem; /* per host: what this experiment puts there */
};

void place_demand(const struct realization *r, uint32_t node, struct place_demand *out)
{
	const struct rz_node *n = &r->nodes[node];

	out->cpu_milli = n->cpu_milli;
	if (n->kind == RZ_VM)
		out->memory = (n->vm_memory_mib << 20) + RZ_VM_MEM_OVERHEAD;
	else
		out->memory = n->mem_limit + RZ_MEM_CONTAINER;
}

static uint64_t free_cpu(const struct place_host *h)
{
	return h->cores > h->used_cores ? h->cores - h->used_cores : 0;
}

static uint64_t free_mem(const struct place_host *h)
{
	return h->memory > h->used_memory ? h->memory - h->used_memory : 0;
}

/* A link's weight in Mbit/s: its largest rate limit, or the default. */
static uint64_t link_mbps(const struct realization *r, size_t l)
{
	const struct rz_link *k = &r->links[l];
	uint64_t bps = 0;
	size_t j;

	if (k->emulated && k->dir)
		for (j = 0; j < r->x->links[l].nep; j++)
			if (k->dir[j].rate_bps > bps)
				bps = k->dir[j].rate_bps;
	if (!bps)
		return PLACE_LINK_DEFAULT_MBPS;
	return bps / BPS_PER_MBPS ? (bps + BPS_PER_MBPS - 1) / BPS_PER_MBPS : 1;
}

static int edge_cmp(const void *pa, const void *pb)
{
	const struct edge *a = pa, *b = pb;

	if (a->u != b->u)
		return a->u < b->u ? -1 : 1;
	return a->v < b->v ? -1 : a->v > b->v;
}

/* Both directions of every edge of x, in e (the caller frees); *nlans the
 * LAN hubs. Returns the number of entries, or -ENOMEM. */
static long collect_edges(const struct place *p, struct edge **e, size_t *nlans)
{
	const struct xir *x = p->x;
	size_t l, j, n = 0, cap = 0, hub = x->nnodes;
	struct edge *v;

	for (l = 0; l < x->nlinks; l++)
		cap += x->links[l].nep >= 3 ? 2 * x->links[l].nep : 2;
	v = malloc((cap ? cap : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (l = 0; l < x->nlinks; l++) {
		const struct xir_link *k = &x->links[l];
		uint64_t w = link_mbps(p->r, l);

		if (k->nep == 2 && k->ep[0].node != k->ep[1].node) {
			v[n++] = (struct edge){ k->ep[0].node, k->ep[1].node, w };
			v[n++] = (struct edge){ k->ep[1].node, k->ep[0].node, w };
		} else if (k->nep >= 3) {
			for (j = 0; j < k->nep; j++) {
				v[n++] = (struct edge){ k->ep[j].node, (uint32_t)hub, w };
				v[n++] = (struct edge){ (uint32_t)hub, k->ep[j].node, w };
			}
			hub++;
		}
	}
	*e = v;
	*nlans = hub - x->nnodes;
	return (long)n;
}

/* Build p->g from x: parallel edges (two links between one pair) merge,
 * their weights added, as METIS wants one entry per neighbour. */
static int graph_build(struct place *p)
{
	struct graph *g = &p->g;
	struct edge *e;
	size_t nlans, i, m = 0;
	long n = collect_edges(p, &e, &nlans);

	if (n < 0)
		return (int)n;
	qsort(e, (size_t)n, sizeof(*e), edge_cmp);
	for (i = 0; i < (size_t)n; i++) {
		if (m && e[m - 1].u == e[i].u && e[m - 1].v == e[i].v)
			e[m - 1].w += e[i].w;
		else
			e[m++] = e[i];
	}
	g->nnodes = p->x->nnodes;
	g->nv = g->nnodes + nlans;
	g->row = calloc(g->nv + 1, sizeof(*g->row));
	g->col = malloc((m ? m : 1) * sizeof(*g->col));
	g->w = malloc((m ? m : 1) * sizeof(*g->w));
	if (!g->row || !g->col || !g->w) {
		free(e);
		return -ENOMEM;
	}
	for (i = 0; i < m; i++) {
		g->row[e[i].u + 1]++;
		g->col[i] = e[i].v;
		g->w[i] = e[i].w;
	}
	for (i = 0; i < g->nv; i++)
		g->row[i + 1] += g->row[i];
	free(e);
	return 0;
}

/* What vertex v would cut on host h: the weight of its edges to vertices
 * elsewhere. */
static uint64_t cut_on(const struct place *p, uint32_t v, uint32_t h)
{
	uint64_t c = 0;
	size_t k;

	for (k = p->g.row[v]; k < p->g.row[v + 1]; k++)
		if (p->at[p->g.col[k]] != h)
			c += p->g.w[k];
	return c;
}

/* Put every LAN hub on the host holding most of its edge weight (the
 * lowest such host): where the LAN's bridge mostly is. */
static void hubs_rehome(struct place *p)
{
	uint32_t v, h, best;
	uint64_t c, least;

	for (v = (uint32_t)p->g.nnodes; v < p->g.nv; v++) {
		best = p->at[v];
		least = UINT64_MAX;
		for (h = 0; h < p->nh; h++) {
			if (!p->h[h].alive || (c = cut_on(p, v, h)) >= least)
				continue;
			least = c;
			best = h;
		}
		p->at[v] = best;
	}
}

/* w[i * stride] for i < n as METIS weights in out (same layout): divided
 * by one factor so that their sum stays under WEIGHT_SUM_MAX; a weight
 * that was not 0 stays at least 1. */
static void scale_weights(const uint64_t *w, size_t n, size_t stride, idx_t *out)
{
	uint64_t sum = 0, div;
	size_t i;

	for (i = 0; i < n; i++)
		sum += w[i * stride];
	div = sum / WEIGHT_SUM_MAX + 1;
	for (i = 0; i < n; i++) {
		uint64_t s = w[i * stride] / div;

		out[i * stride] = (idx_t)(s || !w[i * stride] ? s : 1);
	}
}

/* The hosts METIS partitions over: alive, with free CPU and memory. */
static size_t usable_hosts(const struct place *p, uint32_t *out)
{
	size_t h, n = 0;

	for (h = 0; h < p->nh; h++)
		if (p->h[h].alive && free_cpu(&p->h[h]) && free_mem(&p->h[h]))
			out[n++] = (uint32_t)h;
	return n;
}

/* Vertex and edge weights as METIS takes them, into vw (nv * NCON) and ew
 * (one per adjacency entry). Returns 0 or -ENOMEM. */
static int metis_weights(const struct place *p, idx_t *vw, idx_t *ew)
{
	const struct graph *g = &p->g;
	uint64_t *w = calloc(g->nv * NCON + 1, sizeof(*w));
	size_t v;

	if (!w)
		return -ENOMEM;
	for (v = 0; v < g->nnodes; v++) {
		uint64_t cpu = p->dem[v].cpu_milli;

		w[v * NCON] = cpu > PLACE_MIN_CPU_MILLI ? cpu : PLACE_MIN_CPU_MILLI;
		w[v * NCON + 1] = p->dem[v].memory;
	}
	scale_weights(w, g->nv, NCON, vw);
	scale_weights(w + 1, g->nv, NCON, vw + 1);
	scale_weights(g->w, g->row[g->nv], 1, ew);
	free(w);
	return 0;
}

/* Target part weights: each usable host's share of the free CPU and of
 * the free memory. */
static void metis_targets(const struct place *p, const uint32_t *use, size_t n, real_t *tp)
{
	long double cpu = 0, mem = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		cpu += free_cpu(&p->h[use[i]]);
		mem += free_mem(&p->h[use[i]]);
	}
	for (i = 0; i < n; i++) {
		tp[i * NCON] = (real_t)(free_cpu(&p->h[use[i]]) / cpu);
		tp[i * NCON + 1] = (real_t)(free_mem(&p->h[use[i]]) / mem);
	}
}

/* Partition the graph into n >= 2 parts, one per host of use, into p->at.
 * Returns 0, -ENOMEM, or -EINVAL when METIS refuses (reported). */
static int partition(struct place *p, const uint32_t *use, size_t n)
{
	const struct graph *g = &p->g;
	idx_t nv = (idx_t)g->nv, ncon = NCON, nparts = (idx_t)n, cut, opt[METIS_NOPTIONS];
	idx_t *xadj = malloc((g->nv + 1) * sizeof(*xadj));
	idx_t *adj = malloc((g->row[g->nv] + 1) * sizeof(*adj));
	idx_t *ew = malloc((g->row[g->nv] + 1) * sizeof(*ew));
	idx_t *vw = malloc(g->nv * NCON * sizeof(*vw)), *part = malloc(g->nv * sizeof(*part));
	real_t *tp = malloc(n * NCON * sizeof(*tp));
	char err[UTIL_ERR_LEN];
	size_t i;
	int r = -ENOMEM, m;

	if (!xadj || !adj || !ew || !vw || !part || !tp || metis_weights(p, vw, ew))
		goto out_free;
	r = dynlib_open(&dynlib_metis, err, sizeof(err));
	if (r) {
		diag_error(p->d, xir_noloc(), NULL, "placement across hosts: %s", err);
		r = -EINVAL;
		goto out_free;
	}
	for (i = 0; i <= g->nv; i++)
		xadj[i] = (idx_t)g->row[i];
	for (i = 0; i < g->row[g->nv]; i++)
		adj[i] = (idx_t)g->col[i];
	metis_targets(p, use, n, tp);
	METIS_SetDefaultOptions(opt);
	opt[METIS_OPTION_SEED] = PLACE_METIS_SEED;
	m = METIS_PartGraphKway(&nv, &ncon, xadj, adj, vw, NULL, ew, &nparts, tp, NULL, opt, &cut,
				part);
	r = m == METIS_OK ? 0 : m == METIS_ERROR_MEMORY ? -ENOMEM : -EINVAL;
	if (r == -EINVAL)
		diag_error(p->d, xir_noloc(), NULL, "the graph partitioner (METIS) failed (%d)", m);
	for (i = 0; !r && i < g->nv; i++)
		p->at[i] = use[part[i]];
out_free:
	free(xadj);
	free(adj);
	free(ew);
	free(vw);
	free(part);
	free(tp);
	return r;
}

/* "h1, h3" (the live hosts) into buf; "none" when there are none. */
static const char *live_list(const struct place *p, char *buf, size_t cap)
{
	size_t h, at = 0;

	buf[0] = '\0';
	for (h = 0; h < p->nh && at + 1 < cap; h++)
		if (p->h[h].alive)
			at += (size_t)snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", p->h[h].name);
	if (!at)
		snprintf(buf, cap, "none");
	return buf;
}

/* The host named s, or NONE. */
static uint32_t host_find(const struct place *p, const char *s)
{
	size_t h;

	for (h = 0; h < p->nh; h++)
		if (p->h[h].name && !strcmp(p->h[h].name, s))
			return (uint32_t)h;
	return NONE;
}

/* Node v's pin: its first host == (the checks refuse two different
 * ones), or NULL. */
static const struct xir_constraint *pin_cons(const struct place *p, uint32_t v)
{
	const struct xir_cset *cs = &p->x->nodes[v].cons;
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (rz_prop_is(&cs->v[i], "host") && cs->v[i].op == XIR_EQ &&
		    cs->v[i].value.type == XV_STR)
			return &cs->v[i];
	return NULL;
}

/* The pin of node v into p->pin[v] (NONE without one); an error naming
 * the node, the constraint and the live hosts when that host is not a
 * live host of the cluster. */
static void pin_read(struct place *p, uint32_t v)
{
	const struct xir_constraint *c = pin_cons(p, v);
	char n[XIR_NAME_BUF], k[XIR_CONS_BUF], live[LIST_BUF];
	uint32_t h;

	p->pin[v] = NONE;
	if (!c)
		return;
	h = host_find(p, c->value.s);
	if (h != NONE && p->h[h].alive) {
		p->pin[v] = h;
		return;
	}
	diag_error(p->d, rz_pick_loc(c->loc, p->x->nodes[v].loc),
		   "pin it to a live host, or remove the constraint",
		   "device '%s': %s: %s (live hosts: %s)", xir_fmt_node(p->x, v, n),
		   xir_fmt_cons(k, c),
		   h == NONE ? "the cluster has no such host" : "that host is not alive",
		   live_list(p, live, sizeof(live)));
}

/* May node v run on host h: alive, its pin if it has one, and no host !=
 * naming h. */
static bool allowed(const struct place *p, uint32_t v, uint32_t h)
{
	const struct xir_cset *cs = &p->x->nodes[v].cons;
	size_t i;

	if (!p->h[h].alive || (p->pin[v] != NONE && p->pin[v] != h))
		return false;
	for (i = 0; i < cs->n; i++)
		if (rz_prop_is(&cs->v[i], "host") && cs->v[i].op == XIR_NE &&
		    cs->v[i].value.type == XV_STR && p->h[h].name &&
		    !strcmp(cs->v[i].value.s, p->h[h].name))
			return false;
	return true;
}

static bool fits(const struct place *p, uint32_t v, uint32_t h)
{
	return p->load_cpu[h] + p->dem[v].cpu_milli <= free_cpu(&p->h[h]) &&
	       p->load_mem[h] + p->dem[v].memory <= free_mem(&p->h[h]);
}

static void move(struct place *p, uint32_t v, uint32_t to)
{
	uint32_t from = p->at[v];

	p->load_cpu[from] -= p->dem[v].cpu_milli;
	p->load_mem[from] -= p->dem[v].memory;
	p->load_cpu[to] += p->dem[v].cpu_milli;
	p->load_mem[to] += p->dem[v].memory;
	p->at[v] = to;
}

/* The host node v may run on where it cuts least (the lowest on a tie),
 * among those with room for it when room is set, with KVM when kvm is
 * set; NONE when there is none. */
static uint32_t best_host(const struct place *p, uint32_t v, bool room, bool kvm)
{
	uint32_t h, best = NONE;
	uint64_t c, least = UINT64_MAX;

	for (h = 0; h < p->nh; h++) {
		if (!allowed(p, v, h) || (kvm && !p->h[h].kvm) || (room && !fits(p, v, h)))
			continue;
		c = cut_on(p, v, h);
		if (c < least) {
			least = c;
			best = h;
		}
	}
	return best;
}

/* Pins, host != and KVM: every node onto a host it may run on (the one
 * where it cuts least, with room if one has it), every VM off a host
 * without KVM when a KVM host has room for it. Returns 0, or -EINVAL when
 * a node's host != constraints leave it no live host (reported). */
static int place_prefs(struct place *p)
{
	char n[XIR_NAME_BUF], live[LIST_BUF];
	uint32_t v, h;

	for (v = 0; v < p->g.nnodes; v++) {
		if (p->pin[v] != NONE) {
			move(p, v, p->pin[v]);
			continue;
		}
		if (allowed(p, v, p->at[v]))
			continue;
		h = best_host(p, v, true, false);
		if (h == NONE)
			h = best_host(p, v, false, false);
		if (h == NONE) {
			diag_error(p->d, p->x->nodes[v].loc, "allow it at least one live host",
				   "device '%s': its host != constraints leave no live host (live "
				   "hosts: %s)",
				   xir_fmt_node(p->x, v, n), live_list(p, live, sizeof(live)));
			return -EINVAL;
		}
		move(p, v, h);
	}
	for (v = 0; v < p->g.nnodes; v++) {
		if (p->r->nodes[v].kind != RZ_VM || p->h[p->at[v]].kvm || p->pin[v] != NONE)
			continue;
		h = best_host(p, v, true, true);
		if (h != NONE)
			move(p, v, h);
	}
	return 0;
}

static bool over(const struct place *p, uint32_t h)
{
	return p->load_cpu[h] > free_cpu(&p->h[h]) || p->load_mem[h] > free_mem(&p->h[h]);
}

/* "1 core", "1.5 cores", "0.05 cores" from thousandths of a core. */
static const char *fmt_milli(char *buf, size_t cap, uint64_t m)
{
	snprintf(buf, cap, "%.3g core%s", (double)m / 1000, m == 1000 ? "" : "s");
	return buf;
}

/* "h1 4 cores and 8 GiB; h2 ..." (each live host's free capacity) in buf. */
static const char *free_list(const struct place *p, char *buf, size_t cap)
{
	char cpu[32], mem[32];
	size_t h, at = 0;

	buf[0] = '\0';
	for (h = 0; h < p->nh && at + 1 < cap; h++)
		if (p->h[h].alive)
			at += (size_t)snprintf(buf + at, cap - at, "%s%s %s and %s", at ? "; " : "",
					       p->h[h].name,
					       fmt_milli(cpu, sizeof(cpu), free_cpu(&p->h[h])),
					       rz_fmt_bytes(mem, sizeof(mem), free_mem(&p->h[h])));
	return buf;
}

/* Node v fits on no host (or not on the host it is pinned to): say what
 * it asks for, what each live host has free and what the whole experiment
 * asks for. */
static void report_nofit(struct place *p, uint32_t v)
{
	char n[XIR_NAME_BUF], k[XIR_CONS_BUF], cpu[32], mem[32], list[LIST_BUF], hint[LIST_BUF];
	char where[XIR_CONS_BUF + 32];
	const struct xir_constraint *c = pin_cons(p, v);
	uint64_t all_cpu = 0, all_mem = 0;
	size_t i;

	for (i = 0; i < p->g.nnodes; i++) {
		all_cpu += p->dem[i].cpu_milli;
		all_mem += p->dem[i].memory;
	}
	snprintf(hint, sizeof(hint),
		 "the devices of this experiment ask for %s and %s in all; ask for less, take other "
		 "experiments down, or add hosts to the cluster",
		 fmt_milli(cpu, sizeof(cpu), all_cpu), rz_fmt_bytes(mem, sizeof(mem), all_mem));
	if (p->pin[v] != NONE && c)
		snprintf(where, sizeof(where), "does not fit on its host (%s)", xir_fmt_cons(k, c));
	else
		snprintf(where, sizeof(where), "fits on no host");
	diag_error(p->d, p->x->nodes[v].loc, hint,
		   "device '%s' %s: it asks for %s and %s of memory; free before this experiment: %s",
		   xir_fmt_node(p->x, v, n), where, fmt_milli(cpu, sizeof(cpu), p->dem[v].cpu_milli),
		   rz_fmt_bytes(mem, sizeof(mem), p->dem[v].memory),
		   free_list(p, list, sizeof(list)));
}

/* Does moving v off h help what h is over in? */
static bool relieves(const struct place *p, uint32_t v, uint32_t h)
{
	return (p->load_cpu[h] > free_cpu(&p->h[h]) && p->dem[v].cpu_milli) ||
	       (p->load_mem[h] > free_mem(&p->h[h]) && p->dem[v].memory);
}

/* The node of host h to blame when none can move: the largest. */
static uint32_t largest_on(const struct place *p, uint32_t h)
{
	uint32_t v, big = NONE;
	bool cpu = p->load_cpu[h] > free_cpu(&p->h[h]);

	for (v = 0; v < p->g.nnodes; v++) {
		if (p->at[v] != h)
			continue;
		if (big == NONE || (cpu ? p->dem[v].cpu_milli > p->dem[big].cpu_milli
					: p->dem[v].memory > p->dem[big].memory))
			big = v;
	}
	return big;
}

/* One repair step on host h, which is over: move the node of h whose move
 * adds the least cut to a host with room. Returns 0, or -EINVAL when no
 * node can move (reported). */
static int repair_one(struct place *p, uint32_t h)
{
	uint32_t v, to, best_v = NONE, best_to = NONE;
	int64_t delta, least = INT64_MAX;

	for (v = 0; v < p->g.nnodes; v++) {
		if (p->at[v] != h || p->pin[v] != NONE || !relieves(p, v, h))
			continue;
		for (to = 0; to < p->nh; to++) {
			if (to == h || !allowed(p, v, to) || !fits(p, v, to))
				continue;
			delta = (int64_t)cut_on(p, v, to) - (int64_t)cut_on(p, v, h);
			if (p->r->nodes[v].kind == RZ_VM && !p->h[to].kvm)
				delta += INT64_MAX / 4; /* a VM goes without KVM last */
			if (delta < least) {
				least = delta;
				best_v = v;
				best_to = to;
			}
		}
	}
	if (best_v == NONE) {
		report_nofit(p, largest_on(p, h));
		return -EINVAL;
	}
	move(p, best_v, best_to);
	return 0;
}

/* Move nodes until no host holds more than its free capacity. Each move
 * lowers what the hosts are over by and never puts a host over, so this
 * ends. Returns 0 or -EINVAL (reported). */
static int repair(struct place *p)
{
	uint32_t h;
	int r;

	for (h = 0; h < p->nh; h++)
		while (over(p, h))
			if ((r = repair_one(p, h)))
				return r;
	return 0;
}

/* Everything on the first usable host (or the first live one): the start
 * when there is nothing to partition. */
static void place_all_on(struct place *p, uint32_t h)
{
	size_t v;

	for (v = 0; v < p->g.nv; v++)
		p->at[v] = h;
}

/* Allocate p's arrays and the graph. Returns 0 or -ENOMEM. */
static int place_init(struct place *p)
{
	size_t i;
	int r;

	p->dem = calloc(p->x->nnodes, sizeof(*p->dem));
	p->pin = calloc(p->x->nnodes, sizeof(*p->pin));
	p->load_cpu = calloc(p->nh + 1, sizeof(*p->load_cpu));
	p->load_mem = calloc(p->nh + 1, sizeof(*p->load_mem));
	if (!p->dem || !p->pin || !p->load_cpu || !p->load_mem)
		return -ENOMEM;
	if ((r = graph_build(p)))
		return r;
	p->at = calloc(p->g.nv, sizeof(*p->at));
	if (!p->at)
		return -ENOMEM;
	for (i = 0; i < p->x->nnodes; i++)
		place_demand(p->r, (uint32_t)i, &p->dem[i]);
	return 0;
}

static void place_fini(struct place *p)
{
	free(p->g.row);
	free(p->g.col);
	free(p->g.w);
	free(p->dem);
	free(p->pin);
	free(p->at);
	free(p->load_cpu);
	free(p->load_mem);
}

/* The first placement: a partition over the usable hosts, or all on one. */
static int place_start(struct place *p)
{
	uint32_t *use = malloc((p->nh + 1) * sizeof(*use));
	size_t n, h;
	int r = 0;

	if (!use)
		return -ENOMEM;
	n = usable_hosts(p, use);
	if (n >= 2) {
		r = partition(p, use, n);
	} else {
		for (h = 0; n == 0 && h < p->nh && !p->h[h].alive; h++)
			;
		place_all_on(p, n ? use[0] : (uint32_t)h);
	}
	free(use);
	return r;
}

int place_nodes(const struct xir *x, const struct realization *r, const struct place_host *hosts,
		size_t nhosts, uint32_t *host_of, struct diag_list *d)
{
	struct place p = { .x = x, .r = r, .h = hosts, .nh = nhosts, .d = d };
	size_t errors = d->nerrors, v, h;
	int rc;

	if (!x->nnodes)
		return 0;
	for (h = 0; h < nhosts && !hosts[h].alive; h++)
		;
	if (h == nhosts) {
		diag_error(d, xir_noloc(), "start vtb agent on the hosts", "no host of the cluster is alive");
		return -EINVAL;
	}
	rc = place_init(&p);
	for (v = 0; !rc && v < x->nnodes; v++)
		pin_read(&p, (uint32_t)v);
	if (!rc && d->nerrors > errors)
		rc = -EINVAL;
	if (!rc)
		rc = place_start(&p);
	for (v = 0; !rc && v < x->nnodes; v++) {
		p.load_cpu[p.at[v]] += p.dem[v].cpu_milli;
		p.load_mem[p.at[v]] += p.dem[v].memory;
	}
	if (!rc)
		rc = place_prefs(&p);
	if (!rc) {
		hubs_rehome(&p);
		rc = repair(&p);
	}
	for (v = 0; !rc && v < x->nnodes; v++)
		host_of[v] = p.at[v];
	place_fini(&p);
	return rc;
}

uint64_t place_cut(const struct xir *x, const struct realization *r, const uint32_t *host_of)
{
	uint64_t cut = 0;
	size_t l, j, k, same, most;

	(void)r;
	for (l = 0; l < x->nlinks; l++) {
		const struct xir_link *lk = &x->links[l];

		if (lk->nep == 2) {
			cut += host_of[lk->ep[0].node] != host_of[lk->ep[1].node];
			continue;
		}
		/* a LAN: its endpoints away from the host holding most of them */
		most = 0;
		for (j = 0; j < lk->nep; j++) {
			for (same = 0, k = 0; k < lk->nep; k++)
				same += host_of[lk->ep[k].node] == host_of[lk->ep[j].node];
			if (same > most)
				most = same;
		}
		cut += lk->nep - most;
	}
	return cut;
}
