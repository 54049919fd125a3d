/* check: the compile checks that need only the model (DESIGN.md,
 * "Compilation"). Every message names its object ("device 'a'", "link
 * 'a-b', endpoint 'x'", "task 'ping'") so it reads well with or without a
 * source place, and sits at the most specific place the XIR has. Running
 * out of memory sets d->oom: the checks return nothing. */
#include "check.h"
#include "xir_fmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr.h"

#define MSG_BUF 360
#define MAX_LISTED 10 /* islands named in one message */

/* ---- names and values, formatted for one-line messages ---- */

static struct src_loc pick_loc(struct src_loc a, struct src_loc b)
{
	return a.line ? a : b;
}

/* " (line N)" when c has a place, "" otherwise. */
static const char *fmt_line(char buf[24], struct src_loc loc)
{
	buf[0] = '\0';
	if (loc.line)
		snprintf(buf, 24, " (line %u)", loc.line);
	return buf;
}

/* ---- the object a constraint set belongs to ---- */

struct owner {
	unsigned scope;      /* the XS_* bit of the set */
	char name[XIR_LABEL_BUF]; /* "device 'a'", "link 'a-b', endpoint 'x'", "experiment" */
	struct src_loc loc;  /* the object's place (line 0: none) */
};

static struct src_loc cons_loc(const struct owner *o, const struct xir_constraint *c)
{
	return pick_loc(c->loc, o->loc);
}

typedef void (*cset_fn)(const struct xir *x, const struct owner *o, const struct xir_cset *cs,
			struct diag_list *d);

/* Call fn on every non-empty constraint set: nodes, links, endpoints, and
 * the experiment's, in that order, until d is full. */
static void each_cset(const struct xir *x, struct diag_list *d, cset_fn fn)
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
			o.loc = pick_loc(l->ep[j].loc, l->loc);
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

/* ---- check_properties: what is wrong with one constraint ---- */

struct problem {
	char msg[MSG_BUF];
	char hint[MSG_BUF]; /* "" for none */
};

static bool problem_set(struct problem *p, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill p with a message and an optional hint; returns true, so a check can
 * `return problem_set(...)`. */
static bool problem_set(struct problem *p, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	snprintf(p->hint, sizeof(p->hint), "%s", hint ? hint : "");
	return true;
}

static const char *scope_article(unsigned bit)
{
	return bit == XS_ENDPOINT || bit == XS_TOPO ? "an" : "a";
}

static const char *scope_where(unsigned bit)
{
	switch (bit) {
	case XS_NODE:
		return "topo.device(...)";
	case XS_LINK:
		return "topo.connect(...)";
	case XS_ENDPOINT:
		return "link[device].spec(...)";
	default:
		return "topo.spec(...)";
	}
}

/* 'cores' on a link: say where the property belongs. */
static bool scope_problem(unsigned scope, const struct xir_prop *prop, struct problem *p)
{
	char kinds[80] = "", where[200] = "write it in ";
	unsigned bit, first = 0;

	if (prop->scope & scope)
		return false;
	for (bit = XS_NODE; bit <= XS_TOPO; bit <<= 1) {
		if (!(prop->scope & bit))
			continue;
		if (!first)
			first = bit;
		else {
			strcat(kinds, " or ");
			strcat(where, " or ");
		}
		strcat(kinds, xir_scope_name(bit));
		strcat(where, scope_where(bit));
	}
	if (!first)
		return problem_set(p, NULL, "'%s' cannot be used here", prop->name);
	return problem_set(p, where, "'%s' is %s %s property, not %s %s property", prop->name,
			   scope_article(first), kinds, scope_article(scope), xir_scope_name(scope));
}

/* What a value is, for "needs X, not Y". */
static const char *got_desc(const struct xir_value *v, char *buf, size_t cap)
{
	static const char *const unit_nouns[] = { "", "a size", "a rate", "a time", "a frequency" };
	char s[XIR_NAME_BUF];

	switch (v->type) {
	case XV_INT:
	case XV_FLOAT:
		if (v->unit != XU_NONE && (size_t)v->unit < UTIL_ARRAY_SIZE(unit_nouns))
			snprintf(buf, cap, "%s", unit_nouns[v->unit]);
		else if (v->type == XV_INT)
			snprintf(buf, cap, "the plain number %lld", (long long)v->i);
		else
			snprintf(buf, cap, "%g", v->f);
		break;
	case XV_BOOL:
		snprintf(buf, cap, "%s", v->b ? "true" : "false");
		break;
	case XV_STR:
		snprintf(buf, cap, "a string");
		break;
	default:
		xir_fmt_clean(s, sizeof(s), v->s);
		snprintf(buf, cap, "%s", s);
		break;
	}
	return buf;
}

/* "'latency' needs a time (us(), ms(), s()), not a size" */
static bool type_problem(const struct xir_prop *prop, const struct xir_value *v, const char *hint,
			 struct problem *p)
{
	char got[XIR_NAME_BUF + 24];

	return problem_set(p, hint, "'%s' needs %s, not %s", prop->name, xir_ptype_name(prop->type),
			   got_desc(v, got, sizeof(got)));
}

/* The unit a valid integer value of prop is expressed in. */
static enum xir_unit value_unit(const struct xir_prop *prop, const struct xir_value *v)
{
	return prop->type == XP_QUEUE ? v->unit : xir_ptype_unit(prop->type);
}

/* An integer outside [min, max] in an == or != comparison. */
static bool range_problem(const struct xir_prop *prop, const struct xir_value *v, struct problem *p)
{
	char lo[48], hi[48], got[48];
	enum xir_unit u = value_unit(prop, v);

	if (v->i >= prop->min && v->i <= prop->max)
		return false;
	xir_fmt_quantity(lo, sizeof(lo), prop->min, u);
	xir_fmt_quantity(hi, sizeof(hi), prop->max, u);
	xir_fmt_quantity(got, sizeof(got), v->i, u);
	if (prop->max == INT64_MAX)
		return problem_set(p, NULL, "'%s' must be at least %s, not %s", prop->name, lo, got);
	return problem_set(p, NULL, "'%s' must be between %s and %s, not %s", prop->name, lo, hi,
			   got);
}

static const char *quantity_example(enum xir_ptype t)
{
	switch (t) {
	case XP_BYTES:
		return "write mb(512), for example";
	case XP_BPS:
		return "write mbps(100), for example";
	case XP_TIME:
		return "write ms(10), for example";
	default:
		return "write ghz(2), for example";
	}
}

/* memory, capacity, latency, cpufreq: an integer in the property's unit (a
 * unitless 0 is fine: latency == 0). */
static bool quantity_problem(const struct xir_prop *prop, const struct xir_value *v, bool ranged,
			     struct problem *p)
{
	enum xir_unit want = xir_ptype_unit(prop->type);
	char buf[48];

	if (v->type == XV_INT && (v->unit == want || (v->unit == XU_NONE && v->i == 0)))
		return ranged && range_problem(prop, v, p);
	if (v->type == XV_INT && v->unit == XU_NONE)
		return type_problem(prop, v, quantity_example(prop->type), p);
	if (v->type == XV_FLOAT && v->unit == want) {
		snprintf(buf, sizeof(buf), "%g", v->f);
		return problem_set(p, NULL, "'%s' needs a whole number of %s, not %s", prop->name,
				   xir_unit_name(want), buf);
	}
	return type_problem(prop, v, NULL, p);
}

/* loss, dilation: a unitless number; for == and != in [0, 1] or above 0. */
static bool number_problem(const struct xir_prop *prop, const struct xir_value *v, bool ranged,
			   struct problem *p)
{
	double f;

	if ((v->type != XV_INT && v->type != XV_FLOAT) || v->unit != XU_NONE)
		return type_problem(prop, v, NULL, p);
	f = v->type == XV_INT ? (double)v->i : v->f;
	if (!ranged)
		return false;
	if (prop->type == XP_FRACTION && !(f >= 0 && f <= 1))
		return problem_set(p, f > 1 && f <= 100 ? "a fraction: write 0.05 for 5%" : NULL,
				   "'%s' must be between 0 and 1, not %g", prop->name, f);
	if (prop->type == XP_FACTOR && !(f > 0))
		return problem_set(p, NULL, "'%s' must be greater than 0, not %g", prop->name, f);
	return false;
}

/* "known values: virtio, e1000, ..." for prop (only ordered ones if asked). */
static void enum_list(const struct xir_prop *prop, bool ordered, char *buf, size_t cap)
{
	const struct xir_enum *e;
	size_t i, len;

	snprintf(buf, cap, "%s values of '%s':", ordered ? "ordered" : "known", prop->name);
	for (i = 0; (e = xir_enum_at(i)); i++) {
		if (strcmp(e->prop, prop->name) || (ordered && !e->rank))
			continue;
		len = strlen(buf);
		snprintf(buf + len, cap - len, "%s %s", buf[len - 1] == ':' ? "" : ",", e->name);
	}
}

/* An enum property needs one of its own names: not a string, not another
 * property's value, not a typo (suggest the closest name). */
static bool enum_problem(const struct xir_prop *prop, const struct xir_value *v, struct problem *p)
{
	const char *names[64];
	const struct xir_enum *e;
	const char *close;
	char list[MSG_BUF], hint[MSG_BUF], s[XIR_NAME_BUF];
	size_t i, n = 0;

	enum_list(prop, false, list, sizeof(list));
	if (v->type == XV_STR && xir_enum_find(prop->name, v->s)) {
		xir_fmt_clean(s, sizeof(s), v->s);
		snprintf(hint, sizeof(hint), "write %s == %s, without quotes", prop->name, s);
		return type_problem(prop, v, hint, p);
	}
	if (v->type != XV_ENUM)
		return type_problem(prop, v, list, p);
	if (xir_enum_find(prop->name, v->s))
		return false;
	xir_fmt_clean(s, sizeof(s), v->s);
	e = xir_enum_any(v->s);
	if (e)
		return problem_set(p, list, "'%s' has no value %s (%s is a value of '%s')", prop->name,
				   s, s, e->prop);
	for (i = 0; (e = xir_enum_at(i)) && n < UTIL_ARRAY_SIZE(names); i++)
		if (!strcmp(e->prop, prop->name))
			names[n++] = e->name;
	close = util_closest(v->s, names, n);
	if (close)
		snprintf(hint, sizeof(hint), "did you mean %s?", close);
	return problem_set(p, close ? hint : list, "'%s' has no value %s", prop->name, s);
}

/* ip, pool, mac: a string that parses and obeys the address rules. */
static bool address_problem(const struct xir_prop *prop, const struct xir_value *v,
			    struct problem *p)
{
	struct addr_prefix a;
	uint8_t mac[6];
	const char *why = NULL;
	char s[XIR_NAME_BUF];
	int r;

	if (v->type != XV_STR)
		return type_problem(prop, v, NULL, p);
	if (prop->type == XP_MAC) {
		r = addr_parse_mac(v->s, mac, &why);
	} else {
		r = addr_parse_prefix(v->s, &a, &why);
		if (!r)
			r = prop->type == XP_ADDR ? addr_check_host(&a, &why)
						  : addr_check_network(&a, &why);
	}
	if (!r)
		return false;
	xir_fmt_clean(s, sizeof(s), v->s);
	return problem_set(p, prop->type == XP_MAC && strstr(why, "multicast")
				      ? "use a locally administered address such as 02:00:00:00:00:01"
				      : NULL,
			   "%s \"%s\": %s", prop->name, s, why);
}

/* The value's type, unit and range. Ranges apply to == and != only: an
 * ordered comparison with a bound outside the range is judged by
 * check_contradictions ('cores > 4096' can never hold). */
static bool value_problem(const struct xir_constraint *c, struct problem *p)
{
	const struct xir_prop *prop = c->prop;
	const struct xir_value *v = &c->value;
	bool ranged = c->op == XIR_EQ || c->op == XIR_NE;

	if ((v->type == XV_STR || v->type == XV_ENUM) && !v->s)
		return problem_set(p, NULL, "'%s' has no value", prop->name);
	switch (prop->type) {
	case XP_COUNT:
		if (v->type != XV_INT || v->unit != XU_NONE)
			return type_problem(prop, v, NULL, p);
		return ranged && range_problem(prop, v, p);
	case XP_BYTES:
	case XP_BPS:
	case XP_TIME:
	case XP_FREQ:
		return quantity_problem(prop, v, ranged, p);
	case XP_FRACTION:
	case XP_FACTOR:
		return number_problem(prop, v, ranged, p);
	case XP_QUEUE:
		if (v->type != XV_INT || (v->unit != XU_NONE && v->unit != XU_BYTES))
			return type_problem(prop, v, "write 100 for packets or kb(64) for bytes", p);
		return ranged && range_problem(prop, v, p);
	case XP_BOOL:
		return v->type != XV_BOOL && type_problem(prop, v, NULL, p);
	case XP_STRING:
		if (v->type == XV_STR)
			return false;
		return type_problem(prop, v, v->type == XV_ENUM ? "put it in quotes" : NULL, p);
	case XP_ENUM:
		return enum_problem(prop, v, p);
	case XP_ADDR:
	case XP_NET:
	case XP_MAC:
		return address_problem(prop, v, p);
	}
	return problem_set(p, NULL, "'%s' has an unknown type", prop->name);
}

static const char *unordered_noun(enum xir_ptype t)
{
	switch (t) {
	case XP_ADDR:
		return "an address";
	case XP_NET:
		return "a network";
	case XP_MAC:
		return "a MAC address";
	case XP_STRING:
		return "a string";
	case XP_BOOL:
		return "a boolean";
	default:
		return NULL;
	}
}

/* < <= > >= where the property or the value has no order. */
static bool op_problem(const struct xir_constraint *c, struct problem *p)
{
	const struct xir_prop *prop = c->prop;
	const char *noun = unordered_noun(prop->type);
	const struct xir_enum *e;
	char list[MSG_BUF], s[XIR_NAME_BUF];

	if (c->op == XIR_EQ || c->op == XIR_NE)
		return false;
	if (noun)
		return problem_set(p, NULL, "'%s': %s can only be compared with == or !=, not %s",
				   prop->name, noun, xir_op_str(c->op));
	if (prop->eq_only)
		return problem_set(p, NULL, "'%s' can only be compared with == or !=, not %s",
				   prop->name, xir_op_str(c->op));
	if (prop->type != XP_ENUM)
		return false;
	e = xir_enum_find(prop->name, c->value.s);
	if (e && e->rank > 0)
		return false;
	enum_list(prop, true, list, sizeof(list));
	xir_fmt_clean(s, sizeof(s), c->value.s);
	return problem_set(p, list, "%s is not ordered; use == or !=", s);
}

/* True, with p filled, when check_properties refuses c in a set of scope. */
static bool cons_problem(unsigned scope, const struct xir_constraint *c, struct problem *p)
{
	return scope_problem(scope, c->prop, p) || value_problem(c, p) || op_problem(c, p);
}

static void props_cset(const struct xir *x, const struct owner *o, const struct xir_cset *cs,
		       struct diag_list *d)
{
	struct problem p;
	size_t i;

	(void)x;
	for (i = 0; i < cs->n && !diag_full(d); i++) {
		const struct xir_constraint *c = &cs->v[i];

		if (c->prop && cons_problem(o->scope, c, &p))
			diag_error(d, cons_loc(o, c), p.hint[0] ? p.hint : NULL, "%s: %s", o->name,
				   p.msg);
	}
}

/* Scope, type, unit, range and operator of every constraint. */
void check_properties(const struct xir *x, struct diag_list *d)
{
	each_cset(x, d, props_cset);
}

/* ---- check_names ---- */

/* Report every repeated name in an array of n elements (stride bytes
 * apart) whose char *name (NULL: unnamed) and struct src_loc sit at
 * name_off and loc_off. Each repeat is reported at its own place. */
static void dup_names(const void *base, size_t n, size_t stride, size_t name_off, size_t loc_off,
		      const char *what, struct diag_list *d)
{
	struct util_map m;
	char name[XIR_NAME_BUF], hint[MSG_BUF];
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
		r = util_map_put(&m, s, strlen(s), (uint32_t)i, &old);
		if (r == -ENOMEM) {
			d->oom = true;
			break;
		}
		if (!r)
			continue;
		memcpy(&loc, elem + loc_off, sizeof(loc));
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

/* Devices, links and tasks each need unique names. */
void check_names(const struct xir *x, struct diag_list *d)
{
	dup_names(x->nodes, x->nnodes, sizeof(*x->nodes), offsetof(struct xir_node, name),
		  offsetof(struct xir_node, loc), "device", d);
	dup_names(x->links, x->nlinks, sizeof(*x->links), offsetof(struct xir_link, name),
		  offsetof(struct xir_link, loc), "link", d);
	dup_names(x->tasks, x->ntasks, sizeof(*x->tasks), offsetof(struct xir_task, name),
		  offsetof(struct xir_task, loc), "task", d);
}

/* ---- check_contradictions ---- */

enum ckind { CK_NUM, CK_ENUM, CK_PLAIN };

static enum ckind kind_of(enum xir_ptype t)
{
	switch (t) {
	case XP_ENUM:
		return CK_ENUM;
	case XP_BOOL:
	case XP_STRING:
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
		return !strcmp(a->value.s, b->value.s);
	case XP_BOOL:
		return a->value.b == b->value.b;
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
		ea = xir_enum_find(s->prop->name, c->value.s);
		eb = xir_enum_find(s->prop->name, k->with->value.s);
		if (k->family && ea && eb)
			snprintf(hint, sizeof(hint), "%s (%s) and %s (%s) are not of one ordered family",
				 ea->name, ea->rank ? ea->family : "unordered", eb->name,
				 eb->rank ? eb->family : "unordered");
		diag_error(d, cons_loc(o, c), hint[0] ? hint : NULL, "%s: '%s' contradicts '%s'%s",
			   o->name, a, xir_fmt_cons(b, k->with), fmt_line(line, k->with->loc));
		return;
	}
	if (s->is_int)
		xir_fmt_quantity(lim, sizeof(lim), (int64_t)k->range->v, s->unit);
	else
		snprintf(lim, sizeof(lim), "%Lg", k->range->v);
	diag_error(d, cons_loc(o, c), NULL, "%s: '%s' can never hold: '%s' is %s %s", o->name, a,
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
		ok[i] = cs->v[i].prop && !cons_problem(o->scope, &cs->v[i], &p);
	for (i = 0; i < cs->n && !diag_full(d); i++) {
		const struct xir_prop *prop = cs->v[i].prop;

		if (!ok[i])
			continue;
		for (j = 0; j < i; j++)
			if (ok[j] && cs->v[j].prop == prop)
				break;
		if (j < i)
			continue; /* this property was done at its first constraint */
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
	each_cset(x, d, contra_cset);
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
				diag_error(d, pick_loc(e->loc, lk->loc), NULL,
					   "%s: endpoint %zu names no device (index %u)",
					   xir_fmt_link(x, i, l), j, e->node);
				continue;
			}
			if (seen[e->node] == i + 1) {
				diag_error(d, pick_loc(e->loc, lk->loc),
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

/* ---- check_addresses ---- */

struct addr_ent {
	struct addr_prefix p; /* as written; in the overlap pass: its network */
	uint32_t link, ep;
	size_t seq; /* collection order: keeps the sorts stable */
	const struct xir_constraint *c;
};

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

static struct src_loc ent_loc(const struct xir *x, const struct addr_ent *e)
{
	const struct xir_link *l = &x->links[e->link];

	return pick_loc(e->c->loc, pick_loc(l->ep[e->ep].loc, l->loc));
}

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
				    cons_problem(XS_ENDPOINT, c, &p) ||
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
			   fmt_line(line, ent_loc(x, &v[first])));
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
			   xir_fmt_link(x, o->link, b), fmt_line(line, ent_loc(x, o)));
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

/* ---- check_tasks ---- */

static bool blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* One command of a task: a device that exists, a command, a valid regex. */
static void check_command(const struct xir *x, const char *tl, const struct xir_task *t, size_t j,
			  struct diag_list *d)
{
	const struct xir_command *c = &t->cmd[j];
	struct src_loc loc = pick_loc(c->loc, t->loc);
	char n[XIR_NAME_BUF], re_s[XIR_NAME_BUF], err[160];
	regex_t re;
	int r;

	if (c->node >= x->nnodes) {
		diag_error(d, loc, NULL, "%s: command %zu names no device (index %u)", tl, j + 1,
			   c->node);
		return;
	}
	xir_fmt_node(x, c->node, n);
	if (blank(c->cmd))
		diag_error(d, loc, "give run() a command line", "%s: command %zu on '%s' is empty", tl,
			   j + 1, n);
	if (!c->expect)
		return;
	r = regcomp(&re, c->expect, REG_EXTENDED | REG_NOSUB);
	if (!r) {
		regfree(&re);
		return;
	}
	regerror(r, &re, err, sizeof(err));
	xir_fmt_clean(re_s, sizeof(re_s), c->expect);
	diag_error(d, loc, "expect takes a POSIX extended regular expression",
		   "%s: command %zu on '%s': expect \"%s\" is not a valid regular expression: %s",
		   tl, j + 1, n, re_s, err);
}

/* Every task has commands, a positive timeout, and well-formed commands. */
void check_tasks(const struct xir *x, struct diag_list *d)
{
	char tl[XIR_LABEL_BUF], n[XIR_NAME_BUF], tmo[48];
	size_t i, j;

	for (i = 0; i < x->ntasks && !diag_full(d); i++) {
		const struct xir_task *t = &x->tasks[i];

		xir_fmt_clean(n, sizeof(n), t->name);
		snprintf(tl, sizeof(tl), "task '%s'", n);
		if (!t->ncmd)
			diag_error(d, t->loc, "add run(device, 'command') to it",
				   "%s: it has no commands", tl);
		if (t->timeout_ns <= 0) {
			xir_fmt_quantity(tmo, sizeof(tmo), t->timeout_ns, XU_NS);
			diag_error(d, t->loc, "write timeout=s(30), for example",
				   "%s: the timeout must be positive, not %s", tl, tmo);
		}
		for (j = 0; j < t->ncmd && !diag_full(d); j++)
			check_command(x, tl, t, j, d);
	}
}

/* ---- check_virt ---- */

/* The node's virt == false, or NULL. */
static const struct xir_constraint *virt_false(const struct xir_node *nd)
{
	size_t i;

	for (i = 0; i < nd->cons.n; i++) {
		const struct xir_constraint *c = &nd->cons.v[i];

		if (c->prop && !strcmp(c->prop->name, "virt") && c->op == XIR_EQ &&
		    c->value.type == XV_BOOL && !c->value.b)
			return c;
	}
	return NULL;
}

static const struct xir_constraint *cset_needs_vm(const struct xir_cset *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (cs->v[i].prop && xir_constraint_needs_vm(&cs->v[i]))
			return &cs->v[i];
	return NULL;
}

/* At the virt == false: "but <why><where> needs a VM". */
static void report_virt(const struct xir *x, size_t node, const struct xir_constraint *vf,
			const struct xir_constraint *why, const char *where, struct diag_list *d)
{
	char n[XIR_NAME_BUF], w[XIR_CONS_BUF];

	diag_error(d, pick_loc(vf->loc, x->nodes[node].loc),
		   "only a VM can meet that: remove virt == false or the other constraint",
		   "device '%s': virt == false, but %s%s needs a VM", xir_fmt_node(x, node, n),
		   xir_fmt_cons(w, why), where);
}

/* virt == false on a node that needs a VM for another constraint, on the
 * node itself or on one of its endpoints. O(nodes + endpoints). */
void check_virt(const struct xir *x, struct diag_list *d)
{
	const struct xir_constraint **vf;
	const struct xir_constraint *why;
	char l[XIR_LABEL_BUF], where[XIR_LABEL_BUF + 8];
	size_t i, j, count = 0;

	if (!x->nnodes || diag_full(d))
		return;
	vf = calloc(x->nnodes, sizeof(*vf));
	if (!vf) {
		d->oom = true;
		return;
	}
	for (i = 0; i < x->nnodes && !diag_full(d); i++) {
		vf[i] = virt_false(&x->nodes[i]);
		if (!vf[i])
			continue;
		why = cset_needs_vm(&x->nodes[i].cons);
		if (why) {
			report_virt(x, i, vf[i], why, "", d);
			vf[i] = NULL; /* reported once */
		} else {
			count++;
		}
	}
	for (i = 0; i < x->nlinks && count && !diag_full(d); i++)
		for (j = 0; j < x->links[i].nep; j++) {
			const struct xir_endpoint *e = &x->links[i].ep[j];

			if (e->node >= x->nnodes || !vf[e->node])
				continue;
			why = cset_needs_vm(&e->cons);
			if (!why)
				continue;
			snprintf(where, sizeof(where), " on %s", xir_fmt_link(x, i, l));
			report_virt(x, e->node, vf[e->node], why, where, d);
			vf[e->node] = NULL;
			count--;
		}
	free(vf);
}

/* Every check, in the order check.h declares them. */
void check_all(const struct xir *x, struct diag_list *d)
{
	static void (*const checks[])(const struct xir *, struct diag_list *) = {
		check_properties, check_names, check_contradictions, check_links,
		check_islands,    check_addresses, check_tasks,	       check_virt,
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_SIZE(checks) && !diag_full(d); i++)
		checks[i](x, d);
}
