/* eval_stmt: the statements of the model language: expressions,
 * assignments (also to list items and with += -= *=), for, if, break,
 * continue. */
#include "eval_int.h"
#include "lexer.h"

#include <errno.h>

static void exec_block(struct eval *ev, const struct ast_stmt *s);

/* x = v, x op= v, or list[i] = v. */
static void exec_assign(struct eval *ev, const struct ast_stmt *s)
{
	const struct ast_expr *t = s->assign.target;
	struct value v = eval_expr(ev, s->assign.value);

	if (s->op != T_ASSIGN && v.kind != V_ERR) {
		/* x += v is x = x + v, through the same operator code */
		uint8_t op = s->op == T_PLUSEQ ? T_PLUS : s->op == T_MINUSEQ ? T_MINUS : T_STAR;
		struct value old = t->kind == E_NAME ? eval_name(ev, t) : eval_index(ev, t);
		struct value b = v;

		v = old.kind == V_ERR ? old : eval_binop_values(ev, op, old, b, s->loc);
		v_unref(&ev->heap, old);
		v_unref(&ev->heap, b);
	}
	if (t->kind == E_NAME) {
		eval_assign_slot(ev, t->sym, v);
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
		} else if (idx.kind != V_ERR && eval_index_of(ev, &idx, VLIST(obj)->n, t, &i)) {
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
	eval_assign_slot(ev, s->loop.var, v);
	exec_block(ev, s->loop.body);
	if (ev->loop_ctl == S_BREAK) {
		ev->loop_ctl = 0;
		return false;
	}
	ev->loop_ctl = 0;
	return !ev->stopped;
}

/* for var in (list, range or string): body, with break and continue. */
static void exec_for(struct eval *ev, const struct ast_stmt *s)
{
	struct value it = eval_expr(ev, s->loop.iter);
	size_t i;

	ev->loop_depth++;
	switch (it.kind) {
	case V_ERR:
		/* poison the loop variable so its uses stay quiet */
		eval_assign_slot(ev, s->loop.var, v_err());
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
		eval_assign_slot(ev, s->loop.var, v_err());
	}
	ev->loop_depth--;
	v_unref(&ev->heap, it);
}

/* One statement, as a step. */
static void exec_stmt(struct eval *ev, const struct ast_stmt *s)
{
	struct value v;

	if (!eval_step(ev, s->loc))
		return;
	if (eval_ensure_slots(ev)) {
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

/* The statements of a block, until evaluation stops or a loop is left. */
static void exec_block(struct eval *ev, const struct ast_stmt *s)
{
	for (; s && !ev->stopped && !ev->loop_ctl; s = s->next)
		exec_stmt(ev, s);
}

/* Run one top-level statement (see eval.h). */
int eval_stmt(struct eval *ev, const struct ast_stmt *s)
{
	if (eval_ensure_slots(ev)) {
		ev->diag->oom = true;
		return -ENOMEM;
	}
	exec_stmt(ev, s);
	if (ev->diag->oom)
		return -ENOMEM;
	return ev->stopped ? -ECANCELED : 0;
}
