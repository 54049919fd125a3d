/* check_contra: check_contradictions, constraints on one object that
 * cannot all hold (cores == 4, cores > 8), found per property by
 * narrowing the allowed range or set of values one constraint at a time. */
#include "check_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr.h"

enum ckind { CK_NUM, CK_ENUM, CK_PLAIN };

/* How constraints on a property of type t are compared: by number, by
 * enumerated value, or plain equality. */
static enum ckind kind_of(enum xir_ptype t)
{
	switch (t) {
	case XP_ENUM:
		return CK_ENUM;
	case XP_BOOL:
	case XP_STRING:
	case XP_DIR:
	case XP_SWITCH:
	case XP_HOST:
	case XP_IMAGE:
	case XP_PKG:
	case XP_ADDR:
	case XP_NET:
	case XP_MAC:
		return CK_PLAIN;
	default:
		return CK_NUM;
	}
}

/* One side of the interval the constraints so far allow. long double holds
 * every int64 exactly. */
struct bound {
	bool set, strict;
	long double v;
	const struct xir_constraint *c; /* NULL: the property's own range */
};

struct cstate {
	const struct xir_prop *prop;
	enum ckind kind;
	bool is_int;        /* integer values (and enum ranks): x > 3 is x >= 4 */
	enum xir_unit unit; /* for printing the property's range */
	struct bound lo, hi;
	const struct xir_constraint *eq; /* the first == */
	long double eqv;
	const struct xir_constraint *ord; /* the first ordered comparison */
	const char *fam;                  /* its enum family */
};

/* What a new constraint contradicts: another constraint, or a bound of the
 * property's own range (with == NULL). */
struct clash {
	const struct xir_constraint *with;
	const struct bound *range;
	bool family; /* enum values of different families */
};

/* The number a valid constraint compares with (an enum: its rank). */
static long double cons_num(const struct xir_constraint *c)
{
	const struct xir_enum *e;

	switch (c->value.type) {
	case XV_INT:
		return (long double)c->value.i;
	case XV_FLOAT:
		return c->value.f;
	case XV_ENUM:
		e = xir_enum_find(c->prop->name, c->value.s);
		return e ? e->rank : 0;
	default:
		return 0;
	}
}

/* Do two valid constraints on one property name the same value? Addresses
 * compare by what they mean (fd00::1 == fd00:0::1), not by spelling. */
static bool same_value(const struct xir_constraint *a, const struct xir_constraint *b)
{
	struct addr_prefix pa, pb;
	uint8_t ma[6], mb[6];
	const char *why;

	switch (a->prop->type) {
	case XP_ENUM:
	case XP_STRING:
	case XP_DIR:
	case XP_HOST:
	case XP_IMAGE:
	case XP_PKG:
		return !strcmp(a->value.s, b->value.s);
	case XP_BOOL:
		return a->value.b == b->value.b;
	case XP_SWITCH:
		if (a->value.type != b->value.type)
			return false;
		return a->value.type == XV_BOOL ? a->value.b == b->value.b
						: !strcmp(a->value.s, b->value.s);
	case XP_ADDR:
	case XP_NET:
		if (addr_parse_prefix(a->value.s, &pa, &why) || addr_parse_prefix(b->value.s, &pb, &why))
			return !strcmp(a->value.s, b->value.s);
		return pa.family == pb.family && pa.plen == pb.plen &&
		       !memcmp(pa.bytes, pb.bytes, sizeof(pa.bytes));
	case XP_MAC:
		if (addr_parse_mac(a->value.s, ma, &why) || addr_parse_mac(b->value.s, mb, &why))
			return !strcasecmp(a->value.s, b->value.s);
		return !memcmp(ma, mb, sizeof(ma));
	default:
		return cons_num(a) == cons_num(b);
	}
}

/* Start with what the property itself allows: [min, max] for integers,
 * [0, 1] for fractions, (0, inf) for factors, anything for the rest. */
static void cstate_init(struct cstate *s, const struct xir_prop *prop, enum xir_unit unit)
{
	memset(s, 0, sizeof(*s));
	s->prop = prop;
	s->kind = kind_of(prop->type);
	s->unit = unit;
	s->is_int = prop->type != XP_FRACTION && prop->type != XP_FACTOR;
	if (s->kind != CK_NUM)
		return;
	if (prop->type == XP_FRACTION) {
		s->lo = (struct bound){ .set = true, .v = 0 };
		s->hi = (struct bound){ .set = true, .v = 1 };
	} else if (prop->type == XP_FACTOR) {
		s->lo = (struct bound){ .set = true, .strict = true, .v = 0 };
	} else {
		s->lo = (struct bound){ .set = true, .v = (long double)prop->min };
		s->hi = (struct bound){ .set = true, .v = (long double)prop->max };
	}
}

/* The bound v breaks, or NULL when v is inside. */
static const struct bound *outside(const struct cstate *s, long double v)
{
	if (s->lo.set && (v < s->lo.v || (v == s->lo.v && s->lo.strict)))
		return &s->lo;
	if (s->hi.set && (v > s->hi.v || (v == s->hi.v && s->hi.strict)))
		return &s->hi;
	return NULL;
}

static bool cs_empty(const struct cstate *s)
{
	return s->lo.set && s->hi.set &&
	       (s->lo.v > s->hi.v || (s->lo.v == s->hi.v && (s->lo.strict || s->hi.strict)));
}

/* The bounds allow exactly one value (s->lo.v). */
static bool pinned(const struct cstate *s)
{
	return s->lo.set && s->hi.set && s->lo.v == s->hi.v && !s->lo.strict && !s->hi.strict;
}

/* Does constraint value e take part in s's ordered world (same family)? */
static bool in_order(const struct cstate *s, const struct xir_enum *e)
{
	if (s->kind == CK_NUM)
		return true;
	return e && e->rank > 0 && s->fam && !strcmp(e->family, s->fam);
}

static bool clash_with(struct clash *k, const struct xir_constraint *c)
{
	k->with = c;
	return true;
}

static bool clash_bound(struct clash *k, const struct bound *b)
{
	if (b->c)
		k->with = b->c;
	else
		k->range = b;
	return true;
}

/* Narrow s by the ordered comparison c (value v). Returns true when the
 * interval shrank; *lower says which side moved. */
static bool tighten(struct cstate *s, const struct xir_constraint *c, long double v, bool *lower)
{
	struct bound nb = { .set = true, .v = v, .c = c };
	struct bound *cur;
	bool tighter;

	*lower = c->op == XIR_GT || c->op == XIR_GE;
	nb.strict = c->op == XIR_GT || c->op == XIR_LT;
	if (s->is_int && nb.strict) {
		nb.v += *lower ? 1 : -1;
		nb.strict = false;
	}
	cur = *lower ? &s->lo : &s->hi;
	tighter = !cur->set || (*lower ? nb.v > cur->v : nb.v < cur->v) ||
		  (nb.v == cur->v && nb.strict && !cur->strict);
	if (tighter)
		*cur = nb;
	return tighter;
}

/* An earlier != among member[0..i) that excludes the value of eq, or
 * (eq NULL) the number v the bounds are pinned to. */
static const struct xir_constraint *earlier_ne(const struct cstate *s, const struct xir_cset *cs,
					       const bool *member, size_t i,
					       const struct xir_constraint *eq, long double v)
{
	size_t j;

	for (j = 0; j < i; j++) {
		const struct xir_constraint *n = &cs->v[j];

		if (!member[j] || n->op != XIR_NE)
			continue;
		if (eq) {
			if (same_value(eq, n))
				return n;
			continue;
		}
		if (s->kind == CK_ENUM && !in_order(s, xir_enum_find(s->prop->name, n->value.s)))
			continue;
		if (cons_num(n) == v)
			return n;
	}
	return NULL;
}

static const struct xir_constraint *later(const struct xir_constraint *a,
					  const struct xir_constraint *b)
{
	if (!a || !b)
		return a ? a : b;
	return a > b ? a : b;
}

/* Add an ordered comparison c to s. Returns true with k filled when the
 * constraints so far can no longer all hold. */
static bool cstep_ordered(struct cstate *s, const struct xir_cset *cs, const bool *member, size_t i,
			  struct clash *k)
{
	const struct xir_constraint *c = &cs->v[i], *ne;
	const struct xir_enum *e = NULL, *ee;
	long double v = cons_num(c);
	bool lower;

	if (s->kind == CK_PLAIN)
		return false; /* refused by check_properties */
	if (s->kind == CK_ENUM) {
		e = xir_enum_find(s->prop->name, c->value.s);
		if (!e)
			return false;
		if (s->fam && strcmp(e->family, s->fam)) {
			k->family = true;
			return clash_with(k, s->ord);
		}
		if (s->eq) {
			ee = xir_enum_find(s->prop->name, s->eq->value.s);
			if (!ee || !ee->rank || strcmp(ee->family, e->family)) {
				k->family = true;
				return clash_with(k, s->eq);
			}
		}
		s->fam = e->family;
	}
	if (!s->ord)
		s->ord = c;
	if (!tighten(s, c, v, &lower))
		return false;
	if (s->eq && outside(s, s->eqv))
		return clash_with(k, s->eq);
	if (cs_empty(s))
		return clash_bound(k, lower ? &s->hi : &s->lo);
	if (pinned(s) && (ne = earlier_ne(s, cs, member, i, NULL, s->lo.v)))
		return clash_with(k, ne);
	return false;
}

/* Add constraint i of cs to s. Returns true with k filled when the
 * constraints so far can no longer all hold. */
static bool cstep(struct cstate *s, const struct xir_cset *cs, const bool *member, size_t i,
		  struct clash *k)
{
	const struct xir_constraint *c = &cs->v[i], *ne;
	const struct xir_enum *e = NULL;
	const struct bound *b;
	long double v = cons_num(c);
	bool ranged;

	memset(k, 0, sizeof(*k));
	if (s->kind == CK_ENUM)
		e = xir_enum_find(s->prop->name, c->value.s);
	ranged = s->kind == CK_NUM || (e && e->rank > 0);
	switch (c->op) {
	case XIR_EQ:
		if (s->eq && !same_value(c, s->eq))
			return clash_with(k, s->eq);
		if (s->kind == CK_ENUM && s->ord && !in_order(s, e)) {
			k->family = true;
			return clash_with(k, s->ord);
		}
		if (ranged && (b = outside(s, v)))
			return clash_bound(k, b);
		if ((ne = earlier_ne(s, cs, member, i, c, v)))
			return clash_with(k, ne);
		if (!s->eq) {
			s->eq = c;
			s->eqv = v;
		}
		return false;
	case XIR_NE:
		if (s->eq && same_value(c, s->eq))
			return clash_with(k, s->eq);
		if (ranged && pinned(s) && in_order(s, e) && v == s->lo.v &&
		    (ne = later(s->lo.c, s->hi.c)))
			return clash_with(k, ne);
		return false;
	default:
		return cstep_ordered(s, cs, member, i, k);
	}
}

/* Say what c contradicts, at c's place. */
static void report_clash(const struct owner *o, const struct cstate *s,
			 const struct xir_constraint *c, const struct clash *k, struct diag_list *d)
{
	char a[XIR_CONS_BUF], b[XIR_CONS_BUF], line[24], lim[64], hint[MSG_BUF];
	const struct xir_enum *ea, *eb;

	xir_fmt_cons(a, c);
	if (k->with) {
		hint[0] = '\0';
		ea = c->value.type == XV_ENUM ? xir_enum_find(s->prop->name, c->value.s) : NULL;
		eb = k->with->value.type == XV_ENUM ? xir_enum_find(s->prop->name, k->with->value.s)
						     : NULL;
		if (k->family && ea && eb)
			snprintf(hint, sizeof(hint), "%s (%s) and %s (%s) are not of one ordered family",
				 ea->name, ea->rank ? ea->family : "unordered", eb->name,
				 eb->rank ? eb->family : "unordered");
		diag_error(d, check_cons_loc(o, c), hint[0] ? hint : NULL, "%s: '%s' contradicts '%s'%s",
			   o->name, a, xir_fmt_cons(b, k->with), check_fmt_line(line, k->with->loc));
		return;
	}
	if (s->is_int)
		xir_fmt_quantity(lim, sizeof(lim), (int64_t)k->range->v, s->unit);
	else
		snprintf(lim, sizeof(lim), "%Lg", k->range->v);
	diag_error(d, check_cons_loc(o, c), NULL, "%s: '%s' can never hold: '%s' is %s %s", o->name, a,
		   s->prop->name,
		   k->range == &s->hi	 ? "at most"
		   : k->range->strict ? "always greater than"
				      : "at least",
		   lim);
}

/* Run the constraints on prop (in unit, for queue) through a cstate;
 * report the first one that makes the set impossible. */
/* The address family of an ip/pool constraint's value (0 if unparsable). */
static int cons_family(const struct xir_constraint *c)
{
	struct addr_prefix a;
	const char *why;

	if (c->value.type != XV_STR || addr_parse_prefix(c->value.s, &a, &why))
		return 0;
	return a.family;
}

/* Check the constraints of cs on prop (of one unit when unit >= 0, one
 * address family when family is set) against each other and report the
 * first that cannot hold with those before it. member is scratch space of
 * cs->n. */
static void contra_prop(const struct owner *o, const struct xir_cset *cs, const bool *ok,
			bool *member, const struct xir_prop *prop, int unit, int family,
			struct diag_list *d)
{
	struct cstate s;
	struct clash k;
	size_t i;

	for (i = 0; i < cs->n; i++)
		member[i] = ok[i] && cs->v[i].prop == prop &&
			    (unit < 0 || (int)cs->v[i].value.unit == unit) &&
			    (!family || cons_family(&cs->v[i]) == family);
	cstate_init(&s, prop, unit < 0 ? xir_ptype_unit(prop->type) : (enum xir_unit)unit);
	for (i = 0; i < cs->n; i++)
		if (member[i] && cstep(&s, cs, member, i, &k)) {
			report_clash(o, &s, &cs->v[i], &k, d);
			return;
		}
}

/* Each property of one object's set in turn; at most one error each. */
static void contra_cset(const struct xir *x, const struct owner *o, const struct xir_cset *cs,
			struct diag_list *d)
{
	struct problem p;
	bool *ok, *member;
	size_t i, j;

	(void)x;
	ok = calloc(cs->n, sizeof(*ok));
	member = calloc(cs->n, sizeof(*member));
	if (!ok || !member) {
		d->oom = true;
		goto out_free;
	}
	/* constraints check_properties refuses are left out: one mistake, one message */
	for (i = 0; i < cs->n; i++)
		ok[i] = cs->v[i].prop && !check_cons_problem(o->scope, &cs->v[i], &p);
	for (i = 0; i < cs->n && !diag_full(d); i++) {
		const struct xir_prop *prop = cs->v[i].prop;

		if (!ok[i])
			continue;
		for (j = 0; j < i; j++)
			if (ok[j] && cs->v[j].prop == prop)
				break;
		if (j < i || prop->multi)
			continue; /* done at its first constraint; a set has no contradiction */
		if (prop->type == XP_QUEUE) {
			/* packets and bytes are separate limits */
			contra_prop(o, cs, ok, member, prop, XU_NONE, 0, d);
			contra_prop(o, cs, ok, member, prop, XU_BYTES, 0, d);
		} else if (prop->type == XP_ADDR || prop->type == XP_NET) {
			/* an interface has an IPv4 and an IPv6 address side by side */
			contra_prop(o, cs, ok, member, prop, -1, AF_INET, d);
			contra_prop(o, cs, ok, member, prop, -1, AF_INET6, d);
		} else {
			contra_prop(o, cs, ok, member, prop, -1, 0, d);
		}
	}
out_free:
	free(ok);
	free(member);
}

/* Constraints on one object that cannot all hold. */
void check_contradictions(const struct xir *x, struct diag_list *d)
{
	check_each_cset(x, d, contra_cset);
}
