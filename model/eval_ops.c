/* eval_ops: arithmetic with units (+ - * / // %), string and list
 * concatenation, list literals and indexing (lists, strings, ranges, links). */
#include "eval_int.h"
#include "lexer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* a + b for two strings or two lists (borrowed): a new value, within the
 * length caps. */
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

/* The text of an arithmetic operator token, for messages. */
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

/* a op b for two ints, with overflow checks; / gives a float, // and %
 * are floored as in Python. */
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

/* a op b for two floats; an infinite or NaN result is an error. */
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
struct value eval_binop_values(struct eval *ev, uint8_t op, struct value a, struct value b,
				 struct src_loc loc)
{
	const char *hint = NULL;
	int unit;

	if (eval_num(&a) && eval_num(&b)) {
		unit = result_unit(op, &a, &b);
		if (unit < 0)
			return eval_error(ev, loc, NULL, "cannot %s %s in %s and %s in %s",
					  op == T_PLUS ? "add" : op == T_MINUS ? "subtract" :
					  op == T_STAR ? "multiply" : "divide",
					  v_kind_name(&a), a.unit ? xir_unit_name(a.unit) : "no unit",
					  v_kind_name(&b), b.unit ? xir_unit_name(b.unit) : "no unit");
		if (a.kind == V_INT && b.kind == V_INT)
			return arith_int(ev, op, a.i, b.i, unit, loc);
		return arith_float(ev, op, eval_as_f(&a), eval_as_f(&b), unit, loc);
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

/* An arithmetic expression: both operands, then eval_binop_values. */
struct value eval_binop(struct eval *ev, const struct ast_expr *e)
{
	struct value a = eval_expr(ev, e->bin.l), b, out;

	if (a.kind == V_ERR)
		return a;
	b = eval_expr(ev, e->bin.r);
	out = b.kind == V_ERR ? b : eval_binop_values(ev, e->op, a, b, e->loc);
	v_unref(&ev->heap, a);
	v_unref(&ev->heap, b);
	return out;
}

/* A list literal, item by item; the first failing item fails the list. */
struct value eval_list(struct eval *ev, const struct ast_expr *e)
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
bool eval_index_of(struct eval *ev, const struct value *idx, size_t n, const struct ast_expr *e,
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

/* link[i] or link[device]: the endpoint of that link. */
static struct value index_link(struct eval *ev, const struct value *link, const struct value *idx,
			       const struct ast_expr *e)
{
	const struct xir_link *l = &ev->x->links[link->idx];
	char desc[256];
	size_t i;

	if (idx->kind == V_INT && !idx->unit) {
		if (!eval_index_of(ev, idx, l->nep, e, &i))
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

/* obj[idx] for a list, a string, a range or a link. */
struct value eval_index(struct eval *ev, const struct ast_expr *e)
{
	struct value obj = eval_expr(ev, e->bin.l), idx, out;
	size_t i;

	if (obj.kind == V_ERR)
		return obj;
	idx = eval_expr(ev, e->bin.r);
	out = v_err();
	if (idx.kind == V_ERR) {
	} else if (obj.kind == V_LIST) {
		if (eval_index_of(ev, &idx, VLIST(obj)->n, e, &i))
			out = v_ref(VLIST(obj)->v[i]);
	} else if (obj.kind == V_STR) {
		if (eval_index_of(ev, &idx, VSTR(obj)->len, e, &i)) {
			out = v_str(&ev->heap, VSTR(obj)->s + i, 1);
			if (out.kind == V_ERR)
				out = eval_oom(ev, e->loc);
		}
	} else if (obj.kind == V_RANGE) {
		const struct vrange *r = VRANGE(obj);

		/* the item is between start and stop; only the steps there may wrap */
		if (eval_index_of(ev, &idx, v_range_len(r), e, &i))
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
