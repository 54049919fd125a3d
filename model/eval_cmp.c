/* eval_cmp: comparisons. Two values compare to a bool; a property compared
 * with a value ("cores == 4") makes a constraint, with precise messages for
 * misspelt properties and enumerated values. */
#include "eval_int.h"
#include "lexer.h"

#include <stdio.h>
#include <string.h>

/* "did you mean 'P'?" in hint for the property closest to word, or NULL. */
static const char *closest_prop(const char *word, char *hint, size_t len)
{
	const char *names[64];
	size_t n = 0, i;
	const char *best;

	for (i = 0; xir_prop_at(i) && n < UTIL_ARRAY_SIZE(names); i++)
		names[n++] = xir_prop_at(i)->name;
	best = util_closest(word, names, n);
	if (!best)
		return NULL;
	snprintf(hint, len, "did you mean '%s'?", best);
	return hint;
}


/* The enumerated values of a property, for a hint: "virtio, e1000, ...". */
static void enum_values(const struct xir_prop *p, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; xir_enum_at(i); i++) {
		const struct xir_enum *en = xir_enum_at(i);

		if (strcmp(en->prop, p->name) || off + 16 >= len)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", en->name);
	}
}

/* The right side of "prop OP name" where name is not a variable: an
 * enumerated value of prop, with a precise message when it is not one. */
static struct value eval_enum_operand(struct eval *ev, const struct xir_prop *p,
				      const struct ast_expr *e)
{
	const char *name = eval_sym(ev, e->sym);
	const struct xir_enum *en = xir_enum_find(p->name, name), *other;
	const char *names[64];
	char values[512], hint[640];
	struct value v;
	size_t i, n = 0;

	if (en)
		return (struct value){ .kind = V_ENUM, .en = en };
	if (p->type != XP_ENUM)
		return eval_name(ev, e);
	other = xir_enum_any(name);
	if (other)
		return eval_error(ev, e->loc, NULL, "'%s' is a value of '%s', not of '%s'", name,
				  other->prop, p->name);
	if (eval_resolve_free_name(name, &v))
		return v;
	for (i = 0; xir_enum_at(i) && n < UTIL_ARRAY_SIZE(names); i++)
		if (!strcmp(xir_enum_at(i)->prop, p->name))
			names[n++] = xir_enum_at(i)->name;
	enum_values(p, values, sizeof(values));
	if (util_closest(name, names, n))
		snprintf(hint, sizeof(hint), "did you mean '%s'?", util_closest(name, names, n));
	else
		snprintf(hint, sizeof(hint), "known values: %s", values);
	return eval_error(ev, e->loc, hint, "unknown %s '%s'",
			  !strcmp(p->name, "nic") ? "NIC model" : p->name, name);
}

/* True for a name that no variable has (a property or enumerated value). */
static bool is_free_name(struct eval *ev, const struct ast_expr *e)
{
	return e->kind == E_NAME && !ev->bound[e->sym];
}

/* The constraint "p op val" (val's reference moves into it), or the
 * poison value after reporting a value that cannot be compared. */
static struct value make_cons(struct eval *ev, const struct xir_prop *p, enum xir_op op,
			      struct value val, const struct ast_expr *valexpr, struct src_loc loc)
{
	struct vcons *c;
	struct value v = { .kind = V_CONS };

	switch (val.kind) {
	case V_INT: case V_FLOAT: case V_BOOL: case V_STR: case V_ENUM:
		break;
	case V_LIST:
		if (p->multi)
			break; /* private == ['/a', '/b']: one constraint per element */
		/* fall through */
	default: {
		struct value err = eval_error(ev, valexpr->loc, NULL,
					      "'%s' cannot be compared with %s", p->name,
					      v_kind_name(&val));

		v_unref(&ev->heap, val);
		return err;
	}
	case V_ERR:
		return val;
	}
	c = (struct vcons *)vheap_alloc(&ev->heap, V_CONS, sizeof(*c));
	if (!c) {
		v_unref(&ev->heap, val);
		return eval_oom(ev, loc);
	}
	c->prop = p;
	c->op = op;
	c->val = val;
	c->loc = loc;
	v.o = &c->h;
	return v;
}

/* The operator with its sides swapped: 4 < cores is cores > 4. */
static enum xir_op flip(enum xir_op op)
{
	switch (op) {
	case XIR_LT: return XIR_GT;
	case XIR_LE: return XIR_GE;
	case XIR_GT: return XIR_LT;
	case XIR_GE: return XIR_LE;
	default: return op;
	}
}

/* The XIR operator of a comparison token. */
static enum xir_op cmp_op(uint8_t tok)
{
	switch (tok) {
	case T_NE: return XIR_NE;
	case T_LT: return XIR_LT;
	case T_LE: return XIR_LE;
	case T_GT: return XIR_GT;
	case T_GE: return XIR_GE;
	default: return XIR_EQ;
	}
}
/* Whether op holds for a comparison result c (-1, 0, 1). */
static bool op_holds(enum xir_op op, int c)
{
	switch (op) {
	case XIR_EQ: return c == 0;
	case XIR_NE: return c != 0;
	case XIR_LT: return c < 0;
	case XIR_LE: return c <= 0;
	case XIR_GT: return c > 0;
	default: return c >= 0;
	}
}

#define EVAL_MAX_CMP_DEPTH 200

/* Compare two ordinary values. Returns 0 and sets *c (-1, 0, 1), 1 when
 * they are simply unequal (different kinds, ==/!= only), or -1 when they
 * cannot be compared (an error has been reported). */
static int compare(struct eval *ev, const struct value *a, const struct value *b, enum xir_op op,
		   struct src_loc loc, int *c, int depth)
{
	bool eqonly = op == XIR_EQ || op == XIR_NE;

	if (eval_num(a) && eval_num(b)) {
		if (a->unit != b->unit && !(a->kind == V_INT && a->i == 0 && !a->unit) &&
		    !(b->kind == V_INT && b->i == 0 && !b->unit)) {
			eval_error(ev, loc, NULL, "cannot compare %s in %s with %s in %s",
				   v_kind_name(a), a->unit ? xir_unit_name(a->unit) : "no unit",
				   v_kind_name(b), b->unit ? xir_unit_name(b->unit) : "no unit");
			return -1;
		}
		if (a->kind == V_INT && b->kind == V_INT)
			*c = (a->i > b->i) - (a->i < b->i);
		else
			*c = (eval_as_f(a) > eval_as_f(b)) - (eval_as_f(a) < eval_as_f(b));
		return 0;
	}
	if (a->kind == V_STR && b->kind == V_STR) {
		size_t la = VSTR(*a)->len, lb = VSTR(*b)->len;
		int r;

		if (!eval_charge(ev, la < lb ? la : lb, loc))
			return -1;
		r = memcmp(VSTR(*a)->s, VSTR(*b)->s, la < lb ? la : lb);
		*c = r ? (r > 0) - (r < 0) : (la > lb) - (la < lb);
		return 0;
	}
	if (a->kind == V_ENUM && b->kind == V_ENUM && !eqonly) {
		if (!a->en->rank || !b->en->rank || strcmp(a->en->family, b->en->family)) {
			eval_error(ev, loc, NULL, "'%s' and '%s' are not ordered", a->en->name,
				   b->en->name);
			return -1;
		}
		*c = (a->en->rank > b->en->rank) - (a->en->rank < b->en->rank);
		return 0;
	}
	if (!eqonly) {
		eval_error(ev, loc, NULL, "cannot order %s and %s", v_kind_name(a), v_kind_name(b));
		return -1;
	}
	if (a->kind != b->kind)
		return 1;
	switch (a->kind) {
	case V_NONE: *c = 0; return 0;
	case V_BOOL: *c = a->b != b->b; return 0;
	case V_DEVICE: case V_LINK: *c = a->idx != b->idx; return 0;
	case V_ENDPOINT: *c = a->idx != b->idx || a->aux != b->aux; return 0;
	case V_ENUM: *c = a->en != b->en; return 0;
	case V_PROP: *c = a->prop != b->prop; return 0;
	case V_LIST: {
		const struct vlist *la = VLIST(*a), *lb = VLIST(*b);
		size_t i;

		if (la == lb) { /* the same list, which may hold itself */
			*c = 0;
			return 0;
		}
		if (la->n != lb->n)
			return 1;
		/* lists may nest (or contain themselves) without bound: do not
		 * follow them off the end of the stack */
		if (depth >= EVAL_MAX_CMP_DEPTH) {
			eval_error(ev, loc, NULL, "cannot compare lists nested more than %d deep",
				   EVAL_MAX_CMP_DEPTH);
			return -1;
		}
		for (i = 0; i < la->n; i++) {
			int r;

			/* each item is a step: shared sublists can make this exponential */
			if (!eval_step(ev, loc))
				return -1;
			r = compare(ev, &la->v[i], &lb->v[i], XIR_EQ, loc, c, depth + 1);
			if (r)
				return r;
			if (*c)
				return 0;
		}
		*c = 0;
		return 0;
	}
	default:
		*c = a->o != b->o;
		return 0;
	}
}

/* A comparison: a bool for two values, a constraint when one side is a
 * property. An unknown name on the left is reported as a misspelt property. */
struct value eval_cmp(struct eval *ev, const struct ast_expr *e)
{
	const struct ast_expr *le = e->bin.l, *re = e->bin.r;
	enum xir_op op = cmp_op(e->op);
	struct value l, r, out;
	char hint[128];
	int c, rc;

	/* an unknown name on the left of a comparison is a misspelt property */
	if (is_free_name(ev, le) && !eval_resolve_free_sym(ev, le->sym, &l)) {
		const char *name = eval_sym(ev, le->sym);
		const char *h;

		if (diag_seen(ev->diag, le->loc))
			return v_err();
		h = closest_prop(name, hint, sizeof(hint));

		if (h || ev->cons_args)
			return eval_error(ev, le->loc, h ? h : "see docs/model-language.md for the properties",
					  "unknown property '%s'", name);
		return eval_name(ev, le);
	}
	l = eval_expr(ev, le);
	if (l.kind == V_PROP && is_free_name(ev, re))
		r = eval_enum_operand(ev, l.prop, re);
	else
		r = eval_expr(ev, re);
	if (l.kind == V_ERR || r.kind == V_ERR) {
		v_unref(&ev->heap, l);
		v_unref(&ev->heap, r);
		return v_err();
	}
	if (l.kind == V_PROP && r.kind == V_PROP)
		return eval_error(ev, e->loc, NULL, "cannot compare two properties");
	if (l.kind == V_PROP)
		return make_cons(ev, l.prop, op, r, re, e->loc);
	if (r.kind == V_PROP)
		return make_cons(ev, r.prop, flip(op), l, le, e->loc);
	rc = compare(ev, &l, &r, op, e->loc, &c, 0);
	out = rc < 0 ? v_err() : v_bool(rc > 0 ? op == XIR_NE : op_holds(op, c));
	v_unref(&ev->heap, l);
	v_unref(&ev->heap, r);
	return out;
}
