/* check_addr: check_addresses, malformed addresses, the same address
 * twice, addresses outside their link's subnet, and overlapping subnets of
 * different links. */
#include "check_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

struct addr_ent {
	struct addr_prefix p; /* as written; in the overlap pass: its network */
	uint32_t link, ep;
	size_t seq; /* collection order: keeps the sorts stable */
	const struct xir_constraint *c;
};

/* Order two entries by family, address bytes, prefix length, then
 * collection order. */
static int addr_cmp_bytes(const struct addr_ent *a, const struct addr_ent *b)
{
	int r;

	if (a->p.family != b->p.family)
		return a->p.family < b->p.family ? -1 : 1;
	r = memcmp(a->p.bytes, b->p.bytes, sizeof(a->p.bytes));
	return r < 0 ? -1 : r > 0;
}

/* By address, then collection order. */
static int addr_cmp_host(const void *pa, const void *pb)
{
	const struct addr_ent *a = pa, *b = pb;
	int r = addr_cmp_bytes(a, b);

	if (r)
		return r;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* By network, then shorter prefix first (a network before the ones inside
 * it), then collection order. */
static int addr_cmp_net(const void *pa, const void *pb)
{
	const struct addr_ent *a = pa, *b = pb;
	int r = addr_cmp_bytes(a, b);

	if (r)
		return r;
	if (a->p.plen != b->p.plen)
		return a->p.plen < b->p.plen ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Where to report an address: its constraint, else its endpoint, else its link. */
static struct src_loc ent_loc(const struct xir *x, const struct addr_ent *e)
{
	const struct xir_link *l = &x->links[e->link];

	return check_pick_loc(e->c->loc, check_pick_loc(l->ep[e->ep].loc, l->loc));
}

/* The address of p as text in buf ("?" when it cannot be printed). */
static const char *host_str(const struct addr_prefix *p, char *buf, socklen_t len)
{
	if (!inet_ntop(p->family, p->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* The first valid ip == on every endpoint, in link order. */
static int addr_collect(const struct xir *x, struct addr_ent **out, size_t *nout)
{
	struct addr_ent *v = NULL, e;
	struct problem p;
	const char *why;
	size_t n = 0, cap = 0, i, j, k;

	for (i = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++) {
			const struct xir_cset *cs = &x->links[i].ep[j].cons;

			for (k = 0; k < cs->n; k++) {
				const struct xir_constraint *c = &cs->v[k];

				if (!c->prop || c->prop->type != XP_ADDR || c->op != XIR_EQ ||
				    check_cons_problem(XS_ENDPOINT, c, &p) ||
				    addr_parse_prefix(c->value.s, &e.p, &why))
					continue;
				e.link = (uint32_t)i;
				e.ep = (uint32_t)j;
				e.seq = n;
				e.c = c;
				if (UTIL_PUSH(v, n, cap, e)) {
					free(v);
					return -ENOMEM;
				}
				break;
			}
		}
	*out = v;
	*nout = n;
	return 0;
}

/* Endpoints of one link (contiguous in v) in different subnets: a warning
 * for the first such endpoint of each link and family. Warnings are not
 * capped by diag_list, so past DIAG_MAX_ERRORS of them only a count is given. */
static void addr_subnets(const struct xir *x, const struct addr_ent *v, size_t n,
			 struct diag_list *d)
{
	char la[XIR_LABEL_BUF], na[XIR_NAME_BUF], nb[XIR_NAME_BUF], sa[64], sb[64];
	size_t i = 0, j, warned = 0;

	while (i < n) {
		const struct addr_ent *f4 = NULL, *f6 = NULL;
		bool w4 = false, w6 = false;
		size_t end = i;

		while (end < n && v[end].link == v[i].link)
			end++;
		for (j = i; j < end; j++) {
			bool v4 = v[j].p.family == AF_INET;
			const struct addr_ent **first = v4 ? &f4 : &f6;
			bool *w = v4 ? &w4 : &w6;
			const struct xir_link *l = &x->links[v[j].link];
			struct addr_prefix a, b;

			if (!*first) {
				*first = &v[j];
				continue;
			}
			a = addr_network(&(*first)->p);
			b = addr_network(&v[j].p);
			if (*w || (a.plen == b.plen && addr_same_host(&a, &b)))
				continue;
			*w = true;
			if (warned++ >= DIAG_MAX_ERRORS)
				continue;
			diag_warning(d, ent_loc(x, &v[j]),
				     "endpoints of one link need one subnet to reach each other",
				     "%s: endpoint '%s' (%s) is not in the subnet of endpoint '%s' (%s)",
				     xir_fmt_link(x, v[j].link, la), xir_fmt_node(x, l->ep[v[j].ep].node, na),
				     addr_format(&v[j].p, sb, sizeof(sb)),
				     xir_fmt_node(x, l->ep[(*first)->ep].node, nb),
				     addr_format(&a, sa, sizeof(sa)));
		}
		i = end;
	}
	if (warned > DIAG_MAX_ERRORS)
		diag_warning(d, xir_noloc(), NULL,
			     "%zu more links have endpoints in different subnets",
			     warned - DIAG_MAX_ERRORS);
}

/* The same address on two endpoints: sort by address, report all but the
 * first of each run. */
static void addr_dups(const struct xir *x, struct addr_ent *v, size_t n, struct diag_list *d)
{
	char a[XIR_LABEL_BUF], b[XIR_LABEL_BUF], h[INET6_ADDRSTRLEN], line[24];
	size_t i, first = 0;

	qsort(v, n, sizeof(*v), addr_cmp_host);
	for (i = 1; i < n && !diag_full(d); i++) {
		if (addr_cmp_bytes(&v[i], &v[first])) {
			first = i;
			continue;
		}
		diag_error(d, ent_loc(x, &v[i]), "give every interface its own address",
			   "%s: address %s is already used by %s%s", xir_fmt_endpoint(x, v[i].link, v[i].ep, a),
			   host_str(&v[i].p, h, sizeof(h)), xir_fmt_endpoint(x, v[first].link, v[first].ep, b),
			   check_fmt_line(line, ent_loc(x, &v[first])));
	}
}

/* Subnets of different links that overlap. After sorting by network (a
 * network before the ones inside it), the networks containing the current
 * one form a chain of strictly growing prefix lengths: a stack of at most
 * 129 entries. */
static void addr_overlaps(const struct xir *x, struct addr_ent *v, size_t n, struct diag_list *d)
{
	const struct addr_ent *stack[130];
	char a[XIR_LABEL_BUF], b[XIR_LABEL_BUF], sa[64], sb[64], line[24];
	uint32_t last_a = UINT32_MAX, last_b = UINT32_MAX;
	size_t i, sp = 0, k;

	for (i = 0; i < n; i++)
		v[i].p = addr_network(&v[i].p);
	qsort(v, n, sizeof(*v), addr_cmp_net);
	for (i = 0; i < n && !diag_full(d); i++) {
		const struct addr_ent *e = &v[i], *o = NULL;

		while (sp && !(stack[sp - 1]->p.plen <= e->p.plen && addr_overlap(&stack[sp - 1]->p, &e->p)))
			sp--;
		if (sp && stack[sp - 1]->p.plen == e->p.plen) {
			/* the same network again: the top was already checked */
			if (stack[sp - 1]->link != e->link)
				o = stack[sp - 1];
		} else {
			for (k = sp; k-- > 0;)
				if (stack[k]->link != e->link) {
					o = stack[k];
					break;
				}
			if (sp < UTIL_ARRAY_SIZE(stack))
				stack[sp++] = e;
		}
		if (!o || (e->link == last_a && o->link == last_b))
			continue;
		last_a = e->link;
		last_b = o->link;
		diag_error(d, ent_loc(x, e), "give each link its own subnet",
			   "%s: subnet %s overlaps subnet %s of %s%s", xir_fmt_link(x, e->link, a),
			   addr_format(&e->p, sa, sizeof(sa)), addr_format(&o->p, sb, sizeof(sb)),
			   xir_fmt_link(x, o->link, b), check_fmt_line(line, ent_loc(x, o)));
	}
}

/* Addresses given with ip == on endpoints: each used once, one subnet per
 * link (a warning), no two links' subnets overlapping. O(n log n). */
void check_addresses(const struct xir *x, struct diag_list *d)
{
	struct addr_ent *v = NULL;
	size_t n = 0;

	if (diag_full(d))
		return;
	if (addr_collect(x, &v, &n)) {
		d->oom = true;
		return;
	}
	if (!n)
		return; /* v is NULL: no qsort on it */
	addr_subnets(x, v, n, d);
	addr_dups(x, v, n, d);
	addr_overlaps(x, v, n, d);
	free(v);
}
