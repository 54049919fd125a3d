/* eval_expr: one expression to a value, and the calls of builtins and
 * methods with their evaluated arguments. */
#include "eval_int.h"
#include "lexer.h"

#include <stdio.h>
#include <stdlib.h>

/* Release a call's argument values and any storage eval_args allocated. */
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

/* A call: a method (x.spec(...)) or a builtin function. */
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
	ok = eval_args(ev, e, self.fn == B_LINK_SET, &a);
	out = ok ? eval_call_builtin(ev, self.fn, &a) : v_err();
	free_args(ev, &a);
	return out;
}

/* -x for an int or a float, keeping its unit. */
static struct value eval_neg(struct eval *ev, const struct ast_expr *e)
{
	struct value v = eval_expr(ev, e->bin.l);

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
}

/* The left operand of not, and, or: its value, or the poison value after
 * reporting a constraint there (what: the message, hint: how to write it). */
static struct value eval_logic_operand(struct eval *ev, const struct ast_expr *e,
				       const char *hint, const char *what)
{
	struct value v = eval_expr(ev, e->bin.l);

	if (v.kind != V_CONS)
		return v;
	v_unref(&ev->heap, v);
	return eval_error(ev, e->loc, hint, "%s", what);
}

/* not x: a bool. */
static struct value eval_not(struct eval *ev, const struct ast_expr *e)
{
	struct value v = eval_logic_operand(ev, e, "write the opposite comparison: cores != 4",
					    "'not' cannot negate a constraint");
	bool truth;

	if (v.kind == V_ERR)
		return v;
	truth = v_truthy(&v); /* before the unref frees a list */
	v_unref(&ev->heap, v);
	return v_bool(!truth);
}

/* x and y, x or y: the deciding operand, as in Python (y is evaluated only
 * when x does not decide). */
static struct value eval_and_or(struct eval *ev, const struct ast_expr *e)
{
	bool is_or = e->kind == E_OR;
	struct value v = eval_logic_operand(
		ev, e, "give constraints as separate arguments: cores == 4, memory == gb(8)",
		is_or ? "constraints cannot be joined with 'or'" : "constraints cannot be joined with 'and'");

	if (v.kind == V_ERR || v_truthy(&v) == is_or)
		return v;
	v_unref(&ev->heap, v);
	return eval_expr(ev, e->bin.r);
}

/* One expression to a value (a new reference), or the poison value after
 * reporting. Every expression is a step against the cap. */
struct value eval_expr(struct eval *ev, const struct ast_expr *e)
{
	struct value v;

	if (!eval_step(ev, e->loc))
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
		return eval_neg(ev, e);
	case E_NOT:
		return eval_not(ev, e);
	case E_AND:
	case E_OR:
		return eval_and_or(ev, e);
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
