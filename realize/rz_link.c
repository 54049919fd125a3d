/* rz_link: rule 2 of realization (see realize.c): how each link is made,
 * the link emulator's parameters of each direction, and the mtu. */
#include "rz_int.h"
#include "rz_params.h"
#include "xir_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- rule 2: links ---- */

struct found {
	const struct xir_constraint *c;
	struct src_loc loc;
};

typedef bool (*cons_pred)(const struct xir_constraint *c);

/* A limit (capacity, queue): the emulator is the one rate limiter. */
static bool is_rate(const struct xir_constraint *c)
{
	return c->prop && c->prop->emu.upper;
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
			f->loc = rz_pick_loc(f->c->loc, l->loc);
			return true;
		}
	for (j = 0; j < l->nep; j++)
		for (k = 0; k < l->ep[j].cons.n; k++)
			if (pred(&l->ep[j].cons.v[k])) {
				f->c = &l->ep[j].cons.v[k];
				f->loc = rz_pick_loc(f->c->loc, rz_pick_loc(l->ep[j].loc, l->loc));
				return true;
			}
	return false;
}

/* The link-level mtu (rule 2). */
static unsigned link_mtu(const struct xir_link *l)
{
	struct ibound b;
	int64_t v;

	rz_ibound_collect(&l->cons, "mtu", &b);
	if (b.lo_set) {
		v = rz_skip_excluded(&l->cons, "mtu", b.lo);
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

			if (!rz_prop_is(m, "mtu"))
				continue;
			diag_error(c->d, rz_pick_loc(m->loc, rz_pick_loc(l->ep[j].loc, l->loc)),
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

/* Apply one constraint to the parameters of a direction, through the
 * property table: a limit (capacity, queue) from ==, <= and <, the rest
 * from ==, >= and > (latency <= ms(5) alone asks for nothing). */
static void apply_cons(const struct xir_constraint *k, struct rz_params *b)
{
	bool lower = k->op == XIR_EQ || k->op == XIR_GE || k->op == XIR_GT;
	bool upper = k->op == XIR_EQ || k->op == XIR_LE || k->op == XIR_LT;

	if (k->prop && k->prop->emu.kind != XE_NONE && (k->prop->emu.upper ? upper : lower))
		rz_params_set(b, k->prop, value_num(&k->value), k->value.unit);
}

/* The parameters of the direction leaving endpoint j of link li. Returns
 * false (and reports it) when the emulator would refuse them. */
static bool dir_params(struct rz_ctx *c, size_t li, size_t j, struct emu_params *p)
{
	const struct xir_link *l = &c->x->links[li];
	char lb[XIR_LABEL_BUF], n[XIR_NAME_BUF];
	struct rz_params b;
	size_t k;
	int r;

	rz_params_init(&b, NULL);
	for (k = 0; k < l->cons.n; k++)
		apply_cons(&l->cons.v[k], &b);
	for (k = 0; k < l->ep[j].cons.n; k++)
		apply_cons(&l->ep[j].cons.v[k], &b);
	r = rz_params_finish(&b, p);
	if (r == -EDOM)
		diag_error(c->d, rz_pick_loc(l->ep[j].loc, l->loc),
			   "burst is the mean number of frames lost in a row: 1 or more, "
			   "with a loss below 1",
			   "%s, direction from '%s': burst == %g does not fit loss == %g",
			   xir_fmt_link(c->x, li, lb), xir_fmt_node(c->x, l->ep[j].node, n), b.burst,
			   b.loss);
	else if (r)
		diag_error(c->d, rz_pick_loc(l->ep[j].loc, l->loc),
			   "latency + jitter must stay within an hour",
			   "%s, direction from '%s': the link emulator cannot apply these values",
			   xir_fmt_link(c->x, li, lb), xir_fmt_node(c->x, l->ep[j].node, n));
	return !r;
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

int realize_links(struct rz_ctx *c)
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

