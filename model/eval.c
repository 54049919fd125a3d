/* eval: expressions and statements of the model language. */
#include "eval_int.h"
#include "lexer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct value eval_expr(struct eval *ev, const struct ast_expr *e);
static void exec_block(struct eval *ev, const struct ast_stmt *s);

const char *eval_sym(const struct eval *ev, uint32_t sym)
{
	return ev->syms->names[sym];
}

struct value eval_error(struct eval *ev, struct src_loc loc, const char *hint, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(ev->diag, loc, hint, "%s", msg);
	if (diag_full(ev->diag))
		ev->stopped = true;
	return v_err();
}

struct value eval_oom(struct eval *ev, struct src_loc loc)
{
	if (!ev->stopped) {
		/* not a guess from heap.bytes: a refused 1 MiB string leaves the
		 * heap far below the cap */
		if (ev->heap.malloc_failed) {
			ev->diag->oom = true;
		} else {
			diag_error(ev->diag, loc, "a model this big is probably a runaway loop",
				   "the model needs more than %zu MiB of memory",
				   ev->lim.max_bytes >> 20);
		}
	}
	ev->stopped = true;
	return v_err();
}

struct eval *eval_new(struct xir *x, struct ast_symtab *syms, struct diag_list *d,
		      const struct eval_limits *lim)
{
	struct eval *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->x = x;
	ev->syms = syms;
	ev->diag = d;
	ev->lim = lim ? *lim
		      : (struct eval_limits){ EVAL_MAX_STEPS, EVAL_MAX_BYTES, EVAL_MAX_LIST,
					      EVAL_MAX_STR };
	vheap_init(&ev->heap, ev->lim.max_bytes);
	return ev;
}

void eval_free(struct eval *ev)
{
	if (!ev)
		return;
	free(ev->slots);
	free(ev->bound);
	free(ev->free_val);
	free(ev->free_state);
	vheap_free(&ev->heap);
	free(ev);
}

uint64_t eval_steps(const struct eval *ev)
{
	return ev->steps;
}

/* Make sure there is a slot for every symbol the parser has interned. */
static int ensure_slots(struct eval *ev)
{
	size_t n = ev->syms->n, old = ev->nslots;
	void *p;

	if (n <= old)
		return 0;
	if (n < old * 2)
		n = old * 2;
	p = realloc(ev->slots, n * sizeof(*ev->slots));
	if (!p)
		return -ENOMEM;
	ev->slots = p;
	p = realloc(ev->free_val, n * sizeof(*ev->free_val));
	if (!p)
		return -ENOMEM;
	ev->free_val = p;
	p = realloc(ev->bound, n);
	if (!p)
		return -ENOMEM;
	ev->bound = p;
	memset(ev->bound + old, 0, n - old);
	p = realloc(ev->free_state, n);
	if (!p)
		return -ENOMEM;
	ev->free_state = p;
	memset(ev->free_state + old, 0, n - old);
	ev->nslots = n;
	return 0;
}

static bool step(struct eval *ev, struct src_loc loc)
{
	if (ev->stopped)
		return false;
	if (++ev->steps <= ev->lim.max_steps)
		return true;
	diag_error(ev->diag, loc, "look for a loop that never ends or runs far too often",
		   "evaluation stopped after %llu steps", (unsigned long long)ev->lim.max_steps);
	ev->stopped = true;
	return false;
}

#define EVAL_BYTES_PER_STEP 256

bool eval_charge(struct eval *ev, size_t bytes, struct src_loc loc)
{
	ev->steps += bytes / EVAL_BYTES_PER_STEP;
	return step(ev, loc);
}

bool eval_keep(struct eval *ev, size_t bytes, struct src_loc loc)
{
	if (ev->heap.bytes + bytes > ev->lim.max_bytes) {
		eval_oom(ev, loc);
		return false;
	}
	ev->heap.bytes += bytes;
	return eval_charge(ev, bytes, loc);
}

static void assign_slot(struct eval *ev, uint32_t sym, struct value v)
{
	if (ev->bound[sym])
		v_unref(&ev->heap, ev->slots[sym]);
	ev->slots[sym] = v;
	ev->bound[sym] = 1;
}

/* What an unbound name means: a builtin function, topo, a property or an
 * enumerated value. Returns false when it means nothing. */
static bool resolve_free_name(const char *name, struct value *out)
{
	const struct xir_prop *p;
	const struct xir_enum *en;
	int fn;

	if (!strcmp(name, "topo")) {
		*out = (struct value){ .kind = V_TOPO };
		return true;
	}
	fn = eval_builtin_find(name);
	if (fn >= 0) {
		*out = (struct value){ .kind = V_BUILTIN, .fn = fn };
		return true;
	}
	p = xir_prop_find(name);
	if (p) {
		*out = (struct value){ .kind = V_PROP, .prop = p };
		return true;
	}
	en = xir_enum_any(name);
	if (en) {
		*out = (struct value){ .kind = V_ENUM, .en = en };
		return true;
	}
	return false;
}

/* resolve_free_name, remembered per symbol (the tables are fixed). */
static bool resolve_free_sym(struct eval *ev, uint32_t sym, struct value *out)
{
	if (!ev->free_state[sym])
		ev->free_state[sym] = resolve_free_name(eval_sym(ev, sym), &ev->free_val[sym]) ? 1 : 2;
	if (ev->free_state[sym] != 1)
		return false;
	*out = ev->free_val[sym];
	return true;
}

static bool lookup(struct eval *ev, uint32_t sym, struct value *out)
{
	if (ev->bound[sym]) {
		*out = v_ref(ev->slots[sym]);
		return true;
	}
	return resolve_free_sym(ev, sym, out);
}

/* A did-you-mean over the bound variables, builtins and topo. */
static const char *closest_name(struct eval *ev, const char *word, char *hint, size_t len)
{
	const char **names = NULL;
	size_t n = 0, cap = 0, i;
	const char *best;

	for (i = 0; i < ev->nslots && i < ev->syms->n; i++)
		if (ev->bound[i] && UTIL_PUSH(names, n, cap, (const char *)ev->syms->names[i]))
			goto out;
	for (i = 0; i < B_COUNT; i++)
		if (UTIL_PUSH(names, n, cap, eval_builtin_name((int)i)))
			goto out;
	if (UTIL_PUSH(names, n, cap, "topo"))
		goto out;
	best = util_closest(word, names, n);
	if (best) {
		snprintf(hint, len, "did you mean '%s'?", best);
		free(names);
		return hint;
	}
out:
	free(names);
	return NULL;
}

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

static struct value eval_name(struct eval *ev, const struct ast_expr *e)
{
	struct value v;
	char hint[128];
	const char *name = eval_sym(ev, e->sym);

	if (lookup(ev, e->sym, &v))
		return v;
	if (diag_seen(ev->diag, e->loc))
		return v_err(); /* said already, at this very place */
	return eval_error(ev, e->loc, closest_name(ev, name, hint, sizeof(hint)),
			  "undefined name '%s'", name);
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
	if (resolve_free_name(name, &v))
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

static bool is_free_name(struct eval *ev, const struct ast_expr *e)
{
	return e->kind == E_NAME && !ev->bound[e->sym];
}

static struct value make_cons(struct eval *ev, const struct xir_prop *p, enum xir_op op,
			      struct value val, const struct ast_expr *valexpr, struct src_loc loc)
{
	struct vcons *c;
	struct value v = { .kind = V_CONS };

	switch (val.kind) {
	case V_INT: case V_FLOAT: case V_BOOL: case V_STR: case V_ENUM:
		break;
	case V_ERR:
		return val;
	default: {
		struct value err = eval_error(ev, valexpr->loc, NULL,
					      "'%s' cannot be compared with %s", p->name,
					      v_kind_name(&val));

		v_unref(&ev->heap, val);
		return err;
	}
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

static bool num(const struct value *v)
{
	return v->kind == V_INT || v->kind == V_FLOAT;
}

static double as_f(const struct value *v)
{
	return v->kind == V_INT ? (double)v->i : v->f;
}

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

	if (num(a) && num(b)) {
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
			*c = (as_f(a) > as_f(b)) - (as_f(a) < as_f(b));
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
			if (!step(ev, loc))
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

static struct value eval_cmp(struct eval *ev, const struct ast_expr *e)
{
	const struct ast_expr *le = e->bin.l, *re = e->bin.r;
	enum xir_op op = cmp_op(e->op);
	struct value l, r, out;
	char hint[128];
	int c, rc;

	/* an unknown name on the left of a comparison is a misspelt property */
	if (is_free_name(ev, le) && !resolve_free_sym(ev, le->sym, &l)) {
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

static struct value concat(struct eval *ev, struct value a, struct value b, struct src_loc loc)
{
	struct value out;

	if (a.kind == V_STR) {
		size_t la = VSTR(a)->len, lb = VSTR(b)->len;
		struct vstr *s;

		if (la + lb > ev->lim.max_str)
			return eval_error(ev, loc, NULL, "string longer than %zu bytes",
					  ev->lim.max_str);
		if (!eval_charge(ev, la + lb, loc))
			return v_err();
		s = (struct vstr *)vheap_alloc(&ev->heap, V_STR, sizeof(*s) + la + lb + 1);
		if (!s)
			return eval_oom(ev, loc);
		memcpy(s->s, VSTR(a)->s, la);
		memcpy(s->s + la, VSTR(b)->s, lb);
		s->len = la + lb;
		s->s[s->len] = '\0';
		out = (struct value){ .kind = V_STR, .o = &s->h };
	} else {
		const struct vlist *la = VLIST(a), *lb = VLIST(b);
		size_t i;

		if (la->n + lb->n > ev->lim.max_list)
			return eval_error(ev, loc, NULL, "list longer than %zu items", ev->lim.max_list);
		/* an item costs more than its bytes: references, fresh pages */
		if (!eval_charge(ev, (la->n + lb->n) * 2 * sizeof(struct value), loc))
			return v_err();
		out = v_list(&ev->heap, la->n + lb->n);
		if (out.kind == V_ERR)
			return eval_oom(ev, loc);
		for (i = 0; i < la->n; i++)
			VLIST(out)->v[VLIST(out)->n++] = v_ref(la->v[i]);
		for (i = 0; i < lb->n; i++)
			VLIST(out)->v[VLIST(out)->n++] = v_ref(lb->v[i]);
	}
	return out;
}

static const char *op_text(uint8_t op)
{
	switch (op) {
	case T_PLUS: return "+";
	case T_MINUS: return "-";
	case T_STAR: return "*";
	case T_SLASH: return "/";
	case T_DSLASH: return "//";
	default: return "%";
	}
}

/* The unit of a op b, or -1 when the units do not combine. */
static int result_unit(uint8_t op, const struct value *a, const struct value *b)
{
	switch (op) {
	case T_PLUS:
	case T_MINUS:
	case T_PERCENT:
		if (a->unit == b->unit)
			return a->unit;
		/* 0 without a unit combines with any quantity */
		if (!b->unit && ((b->kind == V_INT && !b->i) || (b->kind == V_FLOAT && !b->f)))
			return a->unit;
		if (!a->unit && ((a->kind == V_INT && !a->i) || (a->kind == V_FLOAT && !a->f)))
			return b->unit;
		return -1;
	case T_STAR:
		if (a->unit && b->unit)
			return -1;
		return a->unit ? a->unit : b->unit;
	default: /* / and // */
		if (!b->unit)
			return a->unit;
		return a->unit == b->unit ? XU_NONE : -1;
	}
}

static struct value arith_int(struct eval *ev, uint8_t op, int64_t a, int64_t b, int unit,
			      struct src_loc loc)
{
	int64_t r = 0;
	bool ovf = false;

	switch (op) {
	case T_PLUS: ovf = __builtin_add_overflow(a, b, &r); break;
	case T_MINUS: ovf = __builtin_sub_overflow(a, b, &r); break;
	case T_STAR: ovf = __builtin_mul_overflow(a, b, &r); break;
	case T_SLASH:
		if (!b)
			return eval_error(ev, loc, NULL, "division by zero");
		return v_float((double)a / (double)b, (uint8_t)unit);
	default: /* // and %, floored as in Python */
		if (!b)
			return eval_error(ev, loc, NULL, "division by zero");
		if (a == INT64_MIN && b == -1) {
			ovf = true;
			break;
		}
		r = op == T_DSLASH ? a / b : a % b;
		if (op == T_DSLASH && (a % b) && ((a < 0) != (b < 0)))
			r--;
		if (op == T_PERCENT && r && ((r < 0) != (b < 0)))
			r += b;
	}
	if (ovf)
		return eval_error(ev, loc, NULL, "integer overflow in %s", op_text(op));
	return v_int(r, (uint8_t)unit);
}

static struct value arith_float(struct eval *ev, uint8_t op, double a, double b, int unit,
				struct src_loc loc)
{
	double r;

	switch (op) {
	case T_PLUS: r = a + b; break;
	case T_MINUS: r = a - b; break;
	case T_STAR: r = a * b; break;
	default:
		if (b == 0)
			return eval_error(ev, loc, NULL, "division by zero");
		if (op == T_SLASH) {
			r = a / b;
		} else if (op == T_DSLASH) {
			r = floor(a / b);
		} else {
			r = fmod(a, b);
			if (r != 0 && ((r < 0) != (b < 0)))
				r += b;
		}
	}
	if (!isfinite(r))
		return eval_error(ev, loc, NULL, "number out of range in %s", op_text(op));
	return v_float(r, (uint8_t)unit);
}

/* a OP b for two evaluated operands (borrowed, not released). */
static struct value binop_values(struct eval *ev, uint8_t op, struct value a, struct value b,
				 struct src_loc loc)
{
	const char *hint = NULL;
	int unit;

	if (num(&a) && num(&b)) {
		unit = result_unit(op, &a, &b);
		if (unit < 0)
			return eval_error(ev, loc, NULL, "cannot %s %s in %s and %s in %s",
					  op == T_PLUS ? "add" : op == T_MINUS ? "subtract" :
					  op == T_STAR ? "multiply" : "divide",
					  v_kind_name(&a), a.unit ? xir_unit_name(a.unit) : "no unit",
					  v_kind_name(&b), b.unit ? xir_unit_name(b.unit) : "no unit");
		if (a.kind == V_INT && b.kind == V_INT)
			return arith_int(ev, op, a.i, b.i, unit, loc);
		return arith_float(ev, op, as_f(&a), as_f(&b), unit, loc);
	}
	if (op == T_PLUS && a.kind == b.kind && (a.kind == V_STR || a.kind == V_LIST))
		return concat(ev, a, b, loc);
	if (op == T_PLUS && (a.kind == V_STR || b.kind == V_STR))
		hint = "use str() to turn a value into a string: 'n' + str(i)";
	else if (a.kind == V_CONS || b.kind == V_CONS)
		hint = "constraints are separate arguments: cores == 4, memory == gb(8)";
	return eval_error(ev, loc, hint, "unsupported operation: %s %s %s", v_kind_name(&a),
			  op_text(op), v_kind_name(&b));
}

static struct value eval_binop(struct eval *ev, const struct ast_expr *e)
{
	struct value a = eval_expr(ev, e->bin.l), b, out;

	if (a.kind == V_ERR)
		return a;
	b = eval_expr(ev, e->bin.r);
	out = b.kind == V_ERR ? b : binop_values(ev, e->op, a, b, e->loc);
	v_unref(&ev->heap, a);
	v_unref(&ev->heap, b);
	return out;
}

static struct value eval_list(struct eval *ev, const struct ast_expr *e)
{
	struct value l;
	uint32_t i;

	if (e->list.n > ev->lim.max_list)
		return eval_error(ev, e->loc, NULL, "list longer than %zu items", ev->lim.max_list);
	l = v_list(&ev->heap, e->list.n);
	if (l.kind == V_ERR)
		return eval_oom(ev, e->loc);
	for (i = 0; i < e->list.n; i++) {
		struct value v = eval_expr(ev, e->list.v[i]);

		if (v.kind == V_ERR) {
			v_unref(&ev->heap, l);
			return v;
		}
		VLIST(l)->v[VLIST(l)->n++] = v;
	}
	return l;
}

/* Resolve a list or string index with Python's negative indexing. */
static bool index_of(struct eval *ev, const struct value *idx, size_t n, const struct ast_expr *e,
		     size_t *out)
{
	uint64_t back;

	if (idx->kind != V_INT || idx->unit) {
		eval_error(ev, e->bin.r->loc, NULL, "an index must be an int, not %s",
			   v_kind_name(idx));
		return false;
	}
	/* unsigned: a range may be longer than INT64_MAX */
	back = idx->i < 0 ? -(uint64_t)idx->i : 0;
	if (idx->i < 0 ? back > n : (uint64_t)idx->i >= n) {
		eval_error(ev, e->bin.r->loc, NULL, "index %lld out of range (length %zu)",
			   (long long)idx->i, n);
		return false;
	}
	*out = idx->i < 0 ? n - back : (size_t)idx->i;
	return true;
}

/* Describe a link for messages: its name if given, else its endpoints. */
static void link_desc(struct eval *ev, uint32_t link, char *buf, size_t len)
{
	const struct xir_link *l = &ev->x->links[link];
	size_t i, off;

	if (l->name) {
		snprintf(buf, len, "'%s'", l->name);
		return;
	}
	off = (size_t)snprintf(buf, len, "[");
	for (i = 0; i < l->nep && off + 40 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					ev->x->nodes[l->ep[i].node].name);
	snprintf(buf + off, len - off, "%s]", i < l->nep ? ", ..." : "");
}

static struct value index_link(struct eval *ev, const struct value *link, const struct value *idx,
			       const struct ast_expr *e)
{
	const struct xir_link *l = &ev->x->links[link->idx];
	char desc[256];
	size_t i;

	if (idx->kind == V_INT && !idx->unit) {
		if (!index_of(ev, idx, l->nep, e, &i))
			return v_err();
		return (struct value){ .kind = V_ENDPOINT, .idx = link->idx, .aux = l->ep[i].node };
	}
	if (idx->kind != V_DEVICE)
		return eval_error(ev, e->bin.r->loc, NULL, "a link is indexed by a device, not %s",
				  v_kind_name(idx));
	if (xir_link_endpoint(ev->x, link->idx, idx->idx))
		return (struct value){ .kind = V_ENDPOINT, .idx = link->idx, .aux = idx->idx };
	link_desc(ev, link->idx, desc, sizeof(desc));
	return eval_error(ev, e->bin.r->loc, NULL, "device '%s' is not on link %s",
			  ev->x->nodes[idx->idx].name, desc);
}

static struct value eval_index(struct eval *ev, const struct ast_expr *e)
{
	struct value obj = eval_expr(ev, e->bin.l), idx, out;
	size_t i;

	if (obj.kind == V_ERR)
		return obj;
	idx = eval_expr(ev, e->bin.r);
	out = v_err();
	if (idx.kind == V_ERR) {
	} else if (obj.kind == V_LIST) {
		if (index_of(ev, &idx, VLIST(obj)->n, e, &i))
			out = v_ref(VLIST(obj)->v[i]);
	} else if (obj.kind == V_STR) {
		if (index_of(ev, &idx, VSTR(obj)->len, e, &i)) {
			out = v_str(&ev->heap, VSTR(obj)->s + i, 1);
			if (out.kind == V_ERR)
				out = eval_oom(ev, e->loc);
		}
	} else if (obj.kind == V_RANGE) {
		const struct vrange *r = VRANGE(obj);

		/* the item is between start and stop; only the steps there may wrap */
		if (index_of(ev, &idx, v_range_len(r), e, &i))
			out = v_int((int64_t)((uint64_t)r->start + (uint64_t)i * (uint64_t)r->step),
				    XU_NONE);
	} else if (obj.kind == V_LINK) {
		out = index_link(ev, &obj, &idx, e);
	} else {
		out = eval_error(ev, e->bin.l->loc, NULL, "%s cannot be indexed", v_kind_name(&obj));
	}
	v_unref(&ev->heap, obj);
	v_unref(&ev->heap, idx);
	return out;
}

static void free_args(struct eval *ev, struct eval_args *a)
{
	size_t i;

	for (i = 0; i < a->npos; i++)
		v_unref(&ev->heap, a->pos[i]);
	for (i = 0; i < a->nkw; i++)
		v_unref(&ev->heap, a->kw[i]);
	if (a->pos != a->pos_buf) {
		free(a->pos);
		free(a->pos_expr);
		free(a->kw);
		free(a->kw_arg);
	}
}

/* Evaluate a call's arguments. Returns false (after reporting) when one of
 * them failed; a is filled either way and must be freed. */
static bool eval_args(struct eval *ev, const struct ast_expr *call, bool cons, struct eval_args *a)
{
	uint32_t i, n = call->call.nargs;
	bool ok = true, saved = ev->cons_args;

	a->npos = a->nkw = 0;
	a->loc = call->loc;
	if (n <= EVAL_INLINE_ARGS) {
		a->pos = a->pos_buf;
		a->pos_expr = a->pos_expr_buf;
		a->kw = a->kw_buf;
		a->kw_arg = a->kw_arg_buf;
	} else {
		a->pos = calloc(n, sizeof(*a->pos));
		a->pos_expr = calloc(n, sizeof(*a->pos_expr));
		a->kw = calloc(n, sizeof(*a->kw));
		a->kw_arg = calloc(n, sizeof(*a->kw_arg));
	}
	if (!a->pos || !a->pos_expr || !a->kw || !a->kw_arg) {
		ev->diag->oom = true;
		ev->stopped = true;
		return false;
	}
	for (i = 0; i < n; i++) {
		const struct ast_arg *arg = &call->call.args[i];
		struct value v;
		size_t k;

		ev->cons_args = cons && arg->kw == AST_NO_SYM;
		v = eval_expr(ev, arg->value);
		ev->cons_args = saved;
		/* a broken constraint is dropped, not the whole device or link,
		 * so that later statements using it still get checked */
		if (v.kind == V_ERR && !(cons && arg->kw == AST_NO_SYM && i > 0))
			ok = false;
		if (arg->kw == AST_NO_SYM) {
			a->pos_expr[a->npos] = arg->value;
			a->pos[a->npos++] = v;
			continue;
		}
		for (k = 0; k < a->nkw; k++)
			if (a->kw_arg[k]->kw == arg->kw) {
				eval_error(ev, arg->kwloc, NULL, "keyword argument '%s' given twice",
					   eval_sym(ev, arg->kw));
				ok = false;
			}
		a->kw_arg[a->nkw] = arg;
		a->kw[a->nkw++] = v;
	}
	return ok;
}

static struct value eval_call(struct eval *ev, const struct ast_expr *e)
{
	const struct ast_expr *fn = e->call.fn;
	struct eval_args a;
	struct value self = v_none(), out;
	bool ok;

	if (fn->kind == E_ATTR) {
		const char *name = eval_sym(ev, fn->attr.sym);

		self = eval_expr(ev, fn->attr.obj);
		if (self.kind == V_ERR)
			return self;
		ok = eval_args(ev, e, eval_method_takes_constraints(name), &a);
		out = ok ? eval_call_method(ev, self, name, fn->attr.nameloc, &a) : v_err();
		free_args(ev, &a);
		v_unref(&ev->heap, self);
		return out;
	}
	self = eval_expr(ev, fn);
	if (self.kind == V_ERR)
		return self;
	if (self.kind != V_BUILTIN) {
		const char *hint = NULL;
		char buf[160];

		if (fn->kind == E_NAME && eval_builtin_find(eval_sym(ev, fn->sym)) >= 0) {
			snprintf(buf, sizeof(buf), "a variable named '%s' hides the function %s()",
				 eval_sym(ev, fn->sym), eval_sym(ev, fn->sym));
			hint = buf;
		}
		out = eval_error(ev, fn->loc, hint, "%s is not a function", v_kind_name(&self));
		v_unref(&ev->heap, self);
		return out;
	}
	ok = eval_args(ev, e, false, &a);
	out = ok ? eval_call_builtin(ev, self.fn, &a) : v_err();
	free_args(ev, &a);
	return out;
}

static struct value eval_expr(struct eval *ev, const struct ast_expr *e)
{
	struct value v;

	if (!step(ev, e->loc))
		return v_err();
	switch (e->kind) {
	case E_INT:
		return v_int(e->i, XU_NONE);
	case E_FLOAT:
		return v_float(e->f, XU_NONE);
	case E_BOOL:
		return v_bool(e->b);
	case E_NONE:
		return v_none();
	case E_STR:
		if (e->str.len > ev->lim.max_str)
			return eval_error(ev, e->loc, NULL, "string longer than %zu bytes",
					  ev->lim.max_str);
		if (!eval_charge(ev, e->str.len, e->loc))
			return v_err();
		v = v_str(&ev->heap, e->str.s, e->str.len);
		return v.kind == V_ERR ? eval_oom(ev, e->loc) : v;
	case E_NAME:
		return eval_name(ev, e);
	case E_LIST:
		return eval_list(ev, e);
	case E_BINOP:
		return eval_binop(ev, e);
	case E_NEG:
		v = eval_expr(ev, e->bin.l);
		if (v.kind == V_INT && v.i != INT64_MIN)
			return v_int(-v.i, v.unit);
		if (v.kind == V_FLOAT)
			return v_float(-v.f, v.unit);
		if (v.kind == V_ERR)
			return v;
		if (v.kind == V_INT) /* INT64_MIN */
			return eval_error(ev, e->loc, NULL, "integer overflow in -");
		v_unref(&ev->heap, v);
		return eval_error(ev, e->loc, NULL, "cannot negate %s", v_kind_name(&v));
	case E_NOT:
		v = eval_expr(ev, e->bin.l);
		if (v.kind == V_ERR)
			return v;
		if (v.kind == V_CONS) {
			v_unref(&ev->heap, v);
			return eval_error(ev, e->loc, "write the opposite comparison: cores != 4",
					  "'not' cannot negate a constraint");
		}
		{
			bool truth = v_truthy(&v); /* before the unref frees a list */

			v_unref(&ev->heap, v);
			return v_bool(!truth);
		}
	case E_AND:
	case E_OR:
		v = eval_expr(ev, e->bin.l);
		if (v.kind == V_ERR)
			return v;
		if (v.kind == V_CONS) {
			v_unref(&ev->heap, v);
			return eval_error(ev, e->loc,
					  "give constraints as separate arguments: cores == 4, memory == gb(8)",
					  "constraints cannot be joined with '%s'",
					  e->kind == E_AND ? "and" : "or");
		}
		if (v_truthy(&v) == (e->kind == E_OR))
			return v;
		v_unref(&ev->heap, v);
		return eval_expr(ev, e->bin.r);
	case E_CMP:
		return eval_cmp(ev, e);
	case E_CALL:
		return eval_call(ev, e);
	case E_INDEX:
		return eval_index(ev, e);
	case E_ATTR:
		return eval_error(ev, e->attr.nameloc, "methods are called: x.spec(...), l.append(v)",
				  "'%s' must be called", eval_sym(ev, e->attr.sym));
	}
	return eval_error(ev, e->loc, NULL, "internal error: unknown expression");
}

static void exec_assign(struct eval *ev, const struct ast_stmt *s)
{
	const struct ast_expr *t = s->assign.target;
	struct value v = eval_expr(ev, s->assign.value);

	if (s->op != T_ASSIGN && v.kind != V_ERR) {
		/* x += v is x = x + v, through the same operator code */
		uint8_t op = s->op == T_PLUSEQ ? T_PLUS : s->op == T_MINUSEQ ? T_MINUS : T_STAR;
		struct value old = t->kind == E_NAME ? eval_name(ev, t) : eval_index(ev, t);
		struct value b = v;

		v = old.kind == V_ERR ? old : binop_values(ev, op, old, b, s->loc);
		v_unref(&ev->heap, old);
		v_unref(&ev->heap, b);
	}
	if (t->kind == E_NAME) {
		assign_slot(ev, t->sym, v);
		return;
	}
	/* list item assignment */
	{
		struct value obj = eval_expr(ev, t->bin.l), idx;
		size_t i;

		if (obj.kind == V_ERR) {
			v_unref(&ev->heap, v);
			return;
		}
		idx = eval_expr(ev, t->bin.r);
		if (obj.kind != V_LIST) {
			if (idx.kind != V_ERR)
				eval_error(ev, t->loc, NULL, "cannot assign to an item of %s",
					   v_kind_name(&obj));
		} else if (idx.kind != V_ERR && index_of(ev, &idx, VLIST(obj)->n, t, &i)) {
			v_unref(&ev->heap, VLIST(obj)->v[i]);
			VLIST(obj)->v[i] = v;
			v = v_none();
		}
		v_unref(&ev->heap, v);
		v_unref(&ev->heap, idx);
		v_unref(&ev->heap, obj);
	}
}

/* Run the loop body once with var bound to v; false when the loop must end. */
static bool loop_once(struct eval *ev, const struct ast_stmt *s, struct value v)
{
	assign_slot(ev, s->loop.var, v);
	exec_block(ev, s->loop.body);
	if (ev->loop_ctl == S_BREAK) {
		ev->loop_ctl = 0;
		return false;
	}
	ev->loop_ctl = 0;
	return !ev->stopped;
}

static void exec_for(struct eval *ev, const struct ast_stmt *s)
{
	struct value it = eval_expr(ev, s->loop.iter);
	size_t i;

	ev->loop_depth++;
	switch (it.kind) {
	case V_ERR:
		/* poison the loop variable so its uses stay quiet */
		assign_slot(ev, s->loop.var, v_err());
		break;
	case V_LIST:
		/* by index over the live list, as Python does */
		for (i = 0; i < VLIST(it)->n; i++)
			if (!loop_once(ev, s, v_ref(VLIST(it)->v[i])))
				break;
		break;
	case V_RANGE: {
		const struct vrange *r = VRANGE(it);
		int64_t k;

		for (k = r->start; r->step > 0 ? k < r->stop : k > r->stop; k += r->step) {
			if (!loop_once(ev, s, v_int(k, XU_NONE)))
				break;
			if ((r->step > 0 && k > INT64_MAX - r->step) ||
			    (r->step < 0 && k < INT64_MIN - r->step))
				break;
		}
		break;
	}
	case V_STR:
		for (i = 0; i < VSTR(it)->len; i++) {
			struct value c = v_str(&ev->heap, VSTR(it)->s + i, 1);

			if (c.kind == V_ERR) {
				eval_oom(ev, s->loc);
				break;
			}
			if (!loop_once(ev, s, c))
				break;
		}
		break;
	default:
		eval_error(ev, s->loop.iter->loc, "loop over a list or range(...)",
			   "cannot loop over %s", v_kind_name(&it));
		assign_slot(ev, s->loop.var, v_err());
	}
	ev->loop_depth--;
	v_unref(&ev->heap, it);
}

static void exec_stmt(struct eval *ev, const struct ast_stmt *s)
{
	struct value v;

	if (!step(ev, s->loc))
		return;
	if (ensure_slots(ev)) {
		ev->diag->oom = true;
		ev->stopped = true;
		return;
	}
	switch (s->kind) {
	case S_EXPR:
		v = eval_expr(ev, s->expr);
		if (v.kind == V_CONS)
			diag_warning(ev->diag, s->loc, "pass it to topo.device(), topo.connect() or .spec()",
				     "this constraint is not attached to anything");
		v_unref(&ev->heap, v);
		break;
	case S_ASSIGN:
		exec_assign(ev, s);
		break;
	case S_FOR:
		exec_for(ev, s);
		break;
	case S_IF:
		v = eval_expr(ev, s->cond.cond);
		if (v.kind == V_CONS) {
			eval_error(ev, s->cond.cond->loc,
				   "a property name compares only inside topo.device(), topo.connect() or .spec()",
				   "a constraint is not a condition");
		} else if (v.kind != V_ERR) {
			if (v_truthy(&v))
				exec_block(ev, s->cond.then);
			else if (s->cond.els)
				exec_block(ev, s->cond.els);
		}
		v_unref(&ev->heap, v);
		break;
	case S_PASS:
		break;
	case S_BREAK:
	case S_CONTINUE:
		if (!ev->loop_depth)
			eval_error(ev, s->loc, NULL, "'%s' outside a loop",
				   s->kind == S_BREAK ? "break" : "continue");
		else
			ev->loop_ctl = s->kind;
		break;
	}
}

static void exec_block(struct eval *ev, const struct ast_stmt *s)
{
	for (; s && !ev->stopped && !ev->loop_ctl; s = s->next)
		exec_stmt(ev, s);
}

int eval_stmt(struct eval *ev, const struct ast_stmt *s)
{
	if (ensure_slots(ev)) {
		ev->diag->oom = true;
		return -ENOMEM;
	}
	exec_stmt(ev, s);
	if (ev->diag->oom)
		return -ENOMEM;
	return ev->stopped ? -ECANCELED : 0;
}
