/* eval: the evaluator's lifecycle, its limits (steps, memory), errors, and
 * what names mean: variables, builtins, topo, properties, enumerated values.
 * The expressions are in eval_expr.c, eval_cmp.c and eval_ops.c, the
 * statements in eval_stmt.c, the builtin functions in eval_builtin.c. */
#include "eval_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *eval_sym(const struct eval *ev, uint32_t sym)
{
	return ev->syms->names[sym];
}

/* Report an error at loc (a full list stops evaluation) and return the
 * poison value. */
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

/* Report running out of memory or over the memory cap, once, stop
 * evaluation, and return the poison value. */
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

/* A new evaluator (see eval.h); the caller frees it with eval_free. */
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

/* Release the evaluator and every value it holds; accepts NULL. */
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
int eval_ensure_slots(struct eval *ev)
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

/* One step; past the cap, report once and stop. */
bool eval_step(struct eval *ev, struct src_loc loc)
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

/* Bytes copied or compared, as steps. */
bool eval_charge(struct eval *ev, size_t bytes, struct src_loc loc)
{
	ev->steps += bytes / EVAL_BYTES_PER_STEP;
	return eval_step(ev, loc);
}

/* Bytes the XIR keeps: against the memory cap, and as steps. */
bool eval_keep(struct eval *ev, size_t bytes, struct src_loc loc)
{
	if (ev->heap.bytes + bytes > ev->lim.max_bytes) {
		eval_oom(ev, loc);
		return false;
	}
	ev->heap.bytes += bytes;
	return eval_charge(ev, bytes, loc);
}

/* Bind sym to v; the slot owns the reference. */
void eval_assign_slot(struct eval *ev, uint32_t sym, struct value v)
{
	if (ev->bound[sym])
		v_unref(&ev->heap, ev->slots[sym]);
	ev->slots[sym] = v;
	ev->bound[sym] = 1;
}

/* What an unbound name means: a builtin function, topo, a property or an
 * enumerated value. Returns false when it means nothing. */
bool eval_resolve_free_name(const char *name, struct value *out)
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
bool eval_resolve_free_sym(struct eval *ev, uint32_t sym, struct value *out)
{
	if (!ev->free_state[sym])
		ev->free_state[sym] = eval_resolve_free_name(eval_sym(ev, sym), &ev->free_val[sym]) ? 1 : 2;
	if (ev->free_state[sym] != 1)
		return false;
	*out = ev->free_val[sym];
	return true;
}

/* The value of sym: its variable (a new reference), else what the free
 * name means. False when it means nothing. */
static bool lookup(struct eval *ev, uint32_t sym, struct value *out)
{
	if (ev->bound[sym]) {
		*out = v_ref(ev->slots[sym]);
		return true;
	}
	return eval_resolve_free_sym(ev, sym, out);
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


/* A name's value, or an "undefined name" error with a did-you-mean. */
struct value eval_name(struct eval *ev, const struct ast_expr *e)
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
