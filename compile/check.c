/* check: the compile checks that need only the model (DESIGN.md,
 * "Compilation"). Every message names its object ("device 'a'", "link
 * 'a-b', endpoint 'x'", "task 'ping'") so it reads well with or without a
 * source place, and sits at the most specific place the XIR has. Running
 * out of memory sets d->oom: the checks return nothing.
 *
 * This file has the walk over every constraint set, the name, link and
 * island checks and check_all; the others are in check_props.c (scope,
 * type, unit, range, operator), check_contra.c (contradictions),
 * check_addr.c (addresses) and check_tasks.c (tasks and VMs). */
#include "check_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTED 10 /* islands named in one message */

/* ---- the constraint sets of an experiment ---- */

/* " (line N)" when c has a place, "" otherwise. */
const char *check_fmt_line(char buf[24], struct src_loc loc)
{
	buf[0] = '\0';
	if (loc.line)
		snprintf(buf, 24, " (line %u)", loc.line);
	return buf;
}

/* Call fn on every non-empty constraint set: nodes, links, endpoints, and
 * the experiment's, in that order, until d is full. */
void check_each_cset(const struct xir *x, struct diag_list *d, check_cset_fn fn)
{
	struct owner o;
	char n[XIR_NAME_BUF];
	size_t i, j;

	for (i = 0; i < x->nnodes && !diag_full(d); i++) {
		if (!x->nodes[i].cons.n)
			continue;
		o.scope = XS_NODE;
		snprintf(o.name, sizeof(o.name), "device '%s'", xir_fmt_node(x, i, n));
		o.loc = x->nodes[i].loc;
		fn(x, &o, &x->nodes[i].cons, d);
	}
	for (i = 0; i < x->nlinks && !diag_full(d); i++) {
		const struct xir_link *l = &x->links[i];

		if (l->cons.n) {
			o.scope = XS_LINK;
			xir_fmt_link(x, i, o.name);
			o.loc = l->loc;
			fn(x, &o, &l->cons, d);
		}
		for (j = 0; j < l->nep && !diag_full(d); j++) {
			if (!l->ep[j].cons.n)
				continue;
			o.scope = XS_ENDPOINT;
			xir_fmt_endpoint(x, i, j, o.name);
			o.loc = check_pick_loc(l->ep[j].loc, l->loc);
			fn(x, &o, &l->ep[j].cons, d);
		}
	}
	if (x->cons.n && !diag_full(d)) {
		o.scope = XS_TOPO;
		snprintf(o.name, sizeof(o.name), "experiment");
		o.loc = xir_noloc();
		fn(x, &o, &x->cons, d);
	}
}


/* ---- check_names ---- */

/* Report every name that breaks the name rule (xir.h) and every repeated
 * name in an array of n elements (stride bytes apart) whose char *name
 * (NULL: unnamed) and struct src_loc sit at name_off and loc_off. Each is
 * reported at its own place. A model's names were checked as they were
 * made; a JSON document's are checked here. */
static void dup_names(const void *base, size_t n, size_t stride, size_t name_off, size_t loc_off,
		      const char *what, struct diag_list *d)
{
	struct util_map m;
	char name[XIR_NAME_BUF], hint[MSG_BUF], why[64];
	size_t i;

	/* the names stay put while the map lives: no copies */
	util_map_init_borrow(&m);
	if (util_map_reserve(&m, n)) {
		d->oom = true;
		return;
	}
	for (i = 0; i < n && !diag_full(d); i++) {
		const char *elem = (const char *)base + i * stride;
		const char *s;
		struct src_loc loc, first;
		uint32_t old;
		int r;

		memcpy(&s, elem + name_off, sizeof(s));
		if (!s)
			continue;
		memcpy(&loc, elem + loc_off, sizeof(loc));
		if (xir_name_check(s, strlen(s), why, sizeof(why))) {
			xir_fmt_clean(name, sizeof(name), s);
			diag_error(d, loc, XIR_NAME_RULE, "%s '%s' is not a valid name: %s", what, name,
				   why);
			continue;
		}
		r = util_map_put(&m, s, strlen(s), (uint32_t)i, &old);
		if (r == -ENOMEM) {
			d->oom = true;
			break;
		}
		if (!r)
			continue;
		memcpy(&first, (const char *)base + (size_t)old * stride + loc_off, sizeof(first));
		if (first.line)
			snprintf(hint, sizeof(hint), "first defined at line %u", first.line);
		else
			snprintf(hint, sizeof(hint), "%ss %u and %zu (counting from 0) have the same name",
				 what, old, i);
		xir_fmt_clean(name, sizeof(name), s);
		diag_error(d, loc, hint, "%s '%s' is defined twice", what, name);
	}
	util_map_free(&m);
}

/* Devices, links and tasks each need valid, unique names. */
void check_names(const struct xir *x, struct diag_list *d)
{
	dup_names(x->nodes, x->nnodes, sizeof(*x->nodes), offsetof(struct xir_node, name),
		  offsetof(struct xir_node, loc), "device", d);
	dup_names(x->links, x->nlinks, sizeof(*x->links), offsetof(struct xir_link, name),
		  offsetof(struct xir_link, loc), "link", d);
	dup_names(x->tasks, x->ntasks, sizeof(*x->tasks), offsetof(struct xir_task, name),
		  offsetof(struct xir_task, loc), "task", d);
}

/* ---- check_links ---- */

/* A link joins two or more different, existing devices. Uses a per-node
 * "last link seen" stamp, so a LAN with many endpoints costs O(endpoints). */
void check_links(const struct xir *x, struct diag_list *d)
{
	char l[XIR_LABEL_BUF], n[XIR_NAME_BUF];
	size_t *seen, i, j;

	seen = calloc(x->nnodes ? x->nnodes : 1, sizeof(*seen));
	if (!seen) {
		d->oom = true;
		return;
	}
	for (i = 0; i < x->nlinks && !diag_full(d); i++) {
		const struct xir_link *lk = &x->links[i];

		if (lk->nep < 2)
			diag_error(d, lk->loc, "connect it to another device, or remove it",
				   "%s: a link needs at least two devices", xir_fmt_link(x, i, l));
		for (j = 0; j < lk->nep && !diag_full(d); j++) {
			const struct xir_endpoint *e = &lk->ep[j];

			if (e->node >= x->nnodes) {
				diag_error(d, check_pick_loc(e->loc, lk->loc), NULL,
					   "%s: endpoint %zu names no device (index %u)",
					   xir_fmt_link(x, i, l), j, e->node);
				continue;
			}
			if (seen[e->node] == i + 1) {
				diag_error(d, check_pick_loc(e->loc, lk->loc),
					   "a link joins different devices",
					   "%s: device '%s' is on it twice", xir_fmt_link(x, i, l),
					   xir_fmt_node(x, e->node, n));
				continue;
			}
			seen[e->node] = i + 1;
		}
	}
	free(seen);
}

/* ---- check_islands ---- */

/* The root of i's set in the union-find forest parent, compressing the path. */
static uint32_t uf_find(uint32_t *parent, uint32_t i)
{
	uint32_t root = i, next;

	while (parent[root] != root)
		root = parent[root];
	while (parent[i] != root) { /* path compression */
		next = parent[i];
		parent[i] = root;
		i = next;
	}
	return root;
}

/* Join the sets of a and b, the smaller under the larger. */
static void uf_union(uint32_t *parent, uint32_t *size, uint32_t a, uint32_t b)
{
	a = uf_find(parent, a);
	b = uf_find(parent, b);
	if (a == b)
		return;
	if (size[a] < size[b]) {
		uint32_t t = a;

		a = b;
		b = t;
	}
	parent[b] = a;
	size[a] += size[b];
}

/* topo.spec(islands == true) (or islands != false). */
static bool islands_allowed(const struct xir *x)
{
	size_t i;

	for (i = 0; i < x->cons.n; i++) {
		const struct xir_constraint *c = &x->cons.v[i];

		if (c->prop && !strcmp(c->prop->name, "islands") && c->value.type == XV_BOOL &&
		    ((c->op == XIR_EQ && c->value.b) || (c->op == XIR_NE && !c->value.b)))
			return true;
	}
	return false;
}

/* One error naming the first node of each island (at most MAX_LISTED). */
static void report_islands(const struct xir *x, const uint32_t *first, size_t k,
			   struct diag_list *d)
{
	struct util_buf b;
	char n[32];
	size_t i;

	util_buf_init(&b);
	util_buf_printf(&b, "the network is split into %zu islands: ", k);
	for (i = 0; i < k && i < MAX_LISTED; i++) {
		xir_fmt_clean(n, sizeof(n), x->nodes[first[i]].name);
		util_buf_printf(&b, "%s%s", i ? ", " : "", n);
	}
	if (k > MAX_LISTED)
		util_buf_printf(&b, ", and %zu more", k - MAX_LISTED);
	if (b.oom) {
		d->oom = true;
	} else {
		diag_error(d, x->nodes[first[1]].loc,
			   "connect them, or allow it with topo.spec(islands == true)", "%s", b.s);
	}
	util_buf_free(&b);
}

/* Nodes not connected to the rest: union-find over the links, then the
 * first node of each component in node order. O(n alpha(n)). */
void check_islands(const struct xir *x, struct diag_list *d)
{
	uint32_t *parent = NULL, *size = NULL, *first = NULL;
	uint8_t *seen = NULL;
	size_t i, j, k = 0;

	if (x->nnodes < 2 || diag_full(d) || islands_allowed(x))
		return;
	parent = malloc(x->nnodes * sizeof(*parent));
	size = malloc(x->nnodes * sizeof(*size));
	first = malloc(x->nnodes * sizeof(*first));
	seen = calloc(x->nnodes, sizeof(*seen));
	if (!parent || !size || !first || !seen) {
		d->oom = true;
		goto out_free;
	}
	for (i = 0; i < x->nnodes; i++) {
		parent[i] = (uint32_t)i;
		size[i] = 1;
	}
	for (i = 0; i < x->nlinks; i++) {
		const struct xir_link *l = &x->links[i];

		for (j = 1; j < l->nep; j++)
			if (l->ep[0].node < x->nnodes && l->ep[j].node < x->nnodes)
				uf_union(parent, size, l->ep[0].node, l->ep[j].node);
	}
	for (i = 0; i < x->nnodes; i++) {
		uint32_t r = uf_find(parent, (uint32_t)i);

		if (!seen[r]) {
			seen[r] = 1;
			first[k++] = (uint32_t)i;
		}
	}
	if (k > 1)
		report_islands(x, first, k, d);
out_free:
	free(parent);
	free(size);
	free(first);
	free(seen);
}

/* Every check, in the order check.h declares them. */
void check_all(const struct xir *x, struct diag_list *d)
{
	static void (*const checks[])(const struct xir *, struct diag_list *) = {
		check_properties, check_names, check_contradictions, check_links,
		check_islands,    check_addresses, check_tasks,	       check_files, check_virt,
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_SIZE(checks) && !diag_full(d); i++)
		checks[i](x, d);
}
