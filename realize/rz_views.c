/* rz_views: rule 8, what a node sees of the host: privileged or not
 * (`privileged == true`, containers only: a VM is its own machine), its
 * private directories (`private == ['/etc/frr', '/var/lib/frr=/srv/frr']`,
 * containers and VMs) and a VM's userland (`image == 'debian:bookworm'`
 * with `packages == ['frr']`, or the host's). Paths were checked by
 * compile/check_props.c (absolute, no '.' or '..', not /proc, /sys or
 * /dev), images and package names too. */
#include "rz_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xir_fmt.h"

/* The length of entry v's path (before '='). */
static size_t dir_len(const char *v)
{
	const char *eq = strchr(v, '=');

	return eq ? (size_t)(eq - v) : strlen(v);
}

/* Parents before children ("/etc" before "/etc/frr"): mounting in this
 * order keeps a child's tmpfs on top of its parent's. */
static int priv_cmp(const void *pa, const void *pb)
{
	const struct rz_private *a = pa, *b = pb;

	return strcmp(a->path, b->path);
}

/* Fill node i's private directories from its private == constraints; a
 * path given twice is an error. Returns 0 or -ENOMEM. */
static int node_dirs(struct rz_ctx *c, size_t i, const char *owner)
{
	const struct xir_cset *cs = &c->x->nodes[i].cons;
	struct rz_node *n = &c->r->nodes[i];
	size_t k, j;

	for (k = 0; k < cs->n; k++)
		if (rz_prop_is(&cs->v[k], "private") && cs->v[k].value.type == XV_STR)
			n->npriv++;
	if (!n->npriv)
		return 0;
	n->priv = calloc(n->npriv, sizeof(*n->priv));
	if (!n->priv)
		return -ENOMEM;
	n->npriv = 0;
	for (k = 0; k < cs->n; k++) {
		const struct xir_constraint *e = &cs->v[k];
		struct rz_private *p;

		if (!rz_prop_is(e, "private") || e->value.type != XV_STR)
			continue;
		for (j = 0; j < n->npriv; j++)
			if (dir_len(n->priv[j].path) == dir_len(e->value.s) &&
			    !strncmp(n->priv[j].path, e->value.s, dir_len(e->value.s)))
				break;
		if (j < n->npriv) {
			diag_error(c->d, rz_pick_loc(e->loc, c->x->nodes[i].loc),
				   "give each directory once", "%s: private directory %.*s given twice",
				   owner, (int)dir_len(e->value.s), e->value.s);
			continue;
		}
		p = &n->priv[n->npriv++];
		p->path = e->value.s; /* the XIR's string: "/path" or "/path=/seed" */
	}
	qsort(n->priv, n->npriv, sizeof(*n->priv), priv_cmp);
	return 0;
}

/* Split every entry at its '=': path and seed become separate strings.
 * The XIR's value is "/path=/seed"; the realization points into a copy
 * kept with the entry. */
static int split_seeds(struct rz_node *n)
{
	size_t k;

	for (k = 0; k < n->npriv; k++) {
		const char *eq = strchr(n->priv[k].path, '=');
		size_t at;
		char *copy;

		if (!eq)
			continue;
		at = (size_t)(eq - n->priv[k].path);
		copy = strdup(n->priv[k].path);
		if (!copy)
			return -ENOMEM;
		copy[at] = '\0';
		n->priv[k] = (struct rz_private){ .path = copy, .seed = copy + at + 1, .owned = copy };
	}
	return 0;
}

static int str_cmp(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* Node i's userland: image and packages from its constraints (the
 * packages sorted, each once). packages without an image is an error:
 * the host's userland has what the host installed. 0 or -ENOMEM. */
static int node_userland(struct rz_ctx *c, size_t i, const char *owner)
{
	const struct xir_cset *cs = &c->x->nodes[i].cons;
	struct rz_node *n = &c->r->nodes[i];
	const struct xir_constraint *first = NULL;
	size_t k, m = 0;

	for (k = 0; k < cs->n; k++) {
		const struct xir_constraint *e = &cs->v[k];

		if (rz_prop_is(e, "image") && e->op == XIR_EQ && e->value.type == XV_STR)
			n->image = e->value.s;
		if (rz_prop_is(e, "packages") && e->value.type == XV_STR) {
			first = first ? first : e;
			n->npkgs++;
		}
	}
	if (first && !n->image) {
		diag_error(c->d, rz_pick_loc(first->loc, c->x->nodes[i].loc),
			   "add image == 'debian:bookworm' (a VM on a Debian tree of its own)",
			   "%s: packages are installed in an image: the host's userland has what the "
			   "host installed", owner);
		n->npkgs = 0;
	}
	if (!n->npkgs)
		return 0;
	n->pkgs = calloc(n->npkgs, sizeof(*n->pkgs));
	if (!n->pkgs)
		return -ENOMEM;
	for (k = 0; k < cs->n; k++)
		if (rz_prop_is(&cs->v[k], "packages") && cs->v[k].value.type == XV_STR)
			n->pkgs[m++] = cs->v[k].value.s;
	qsort(n->pkgs, m, sizeof(*n->pkgs), str_cmp);
	for (k = 0, n->npkgs = 0; k < m; k++)
		if (!n->npkgs || strcmp(n->pkgs[n->npkgs - 1], n->pkgs[k]))
			n->pkgs[n->npkgs++] = n->pkgs[k];
	return 0;
}

int realize_views(struct rz_ctx *c)
{
	char name[XIR_NAME_BUF], owner[XIR_NAME_BUF + 16];
	size_t i, k;
	int r;

	for (i = 0; i < c->x->nnodes; i++) {
		const struct xir_cset *cs = &c->x->nodes[i].cons;
		struct rz_node *n = &c->r->nodes[i];

		snprintf(owner, sizeof(owner), "device '%s'", xir_fmt_node(c->x, (uint32_t)i, name));
		for (k = 0; k < cs->n; k++) {
			const struct xir_constraint *e = &cs->v[k];

			if (rz_prop_is(e, "privileged") && e->value.type == XV_BOOL)
				n->privileged = e->op == XIR_EQ ? e->value.b : !e->value.b;
			if (n->kind == RZ_VM && rz_prop_is(e, "privileged") && n->privileged)
				diag_error(c->d, rz_pick_loc(e->loc, c->x->nodes[i].loc),
					   "a VM is a machine of its own: remove it, or make the device "
					   "a container (virt == false)",
					   "%s: %s applies to container devices only", owner,
					   e->prop->name);
		}
		r = node_userland(c, i, owner);
		if (!r)
			r = node_dirs(c, i, owner);
		if (!r)
			r = split_seeds(n);
		if (r)
			return r;
	}
	return 0;
}
