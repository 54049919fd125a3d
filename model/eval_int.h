/* eval_int: what the evaluator's files share (eval.c: lifecycle, limits
 * and names; eval_expr.c, eval_cmp.c, eval_ops.c: expressions; eval_stmt.c:
 * statements; eval_builtin.c: builtin functions and methods). Not for other
 * modules. */
#ifndef VTB_EVAL_INT_H
#define VTB_EVAL_INT_H

#include "eval.h"
#include "value.h"

enum builtin {
	B_RANGE, B_LEN, B_STR, B_INT, B_FLOAT, B_TASK, B_RUN,
	B_WAIT_UNTIL, B_LINK_SET, B_LINK_DOWN, B_LINK_UP, B_NODE_STOP, B_NODE_START, B_FILE,
	B_KB, B_MB, B_GB, B_TB, B_KBPS, B_MBPS, B_GBPS, B_NS, B_US, B_MS, B_S, B_KHZ, B_MHZ, B_GHZ,
	B_COUNT,
};

struct eval {
	struct xir *x;
	struct ast_symtab *syms;
	struct diag_list *diag;
	struct eval_limits lim;
	struct vheap heap;
	struct value *slots; /* one per symbol; V_NONE with aux 0 = unbound */
	uint8_t *bound;
	/* per symbol: what the name means when no variable has it (builtin,
	 * topo, property, enum value), found once: 0 unknown yet, 1 resolved,
	 * 2 means nothing */
	struct value *free_val;
	uint8_t *free_state;
	size_t nslots;
	uint64_t steps;
	bool stopped;
	int loop_ctl; /* 0, S_BREAK or S_CONTINUE */
	int loop_depth;
	bool cons_args; /* evaluating the constraint arguments of a call */
};

/* A call's evaluated arguments. */
#define EVAL_INLINE_ARGS 8

struct eval_args {
	struct value *pos;
	const struct ast_expr **pos_expr;
	size_t npos;
	struct value *kw;
	const struct ast_arg **kw_arg;
	size_t nkw;
	struct src_loc loc; /* the whole call */
	/* storage for calls with few arguments, to spare four mallocs a call */
	struct value pos_buf[EVAL_INLINE_ARGS], kw_buf[EVAL_INLINE_ARGS];
	const struct ast_expr *pos_expr_buf[EVAL_INLINE_ARGS];
	const struct ast_arg *kw_arg_buf[EVAL_INLINE_ARGS];
};

const char *eval_builtin_name(int fn);
int eval_builtin_find(const char *name);
struct value eval_call_builtin(struct eval *ev, int fn, struct eval_args *a);
struct value eval_call_method(struct eval *ev, struct value self, const char *name,
			      struct src_loc nameloc, struct eval_args *a);
/* Check a call's argument count (min..max) and keyword names (allowed: a
 * NULL-ended list, NULL for none); report and return false when wrong. */
bool eval_argc_ok(struct eval *ev, struct eval_args *a, const char *fn, size_t min, size_t max);
bool eval_kw_ok(struct eval *ev, struct eval_args *a, const char *fn, const char *const *allowed);
/* The keyword argument name of a (its place in *loc), or NULL. */
const struct value *eval_kwarg(struct eval *ev, struct eval_args *a, const char *name,
			       struct src_loc *loc);
/* The task steps other than run() (eval_step.c): wait_until, link_set,
 * link_down, link_up, node_stop, node_start; a V_RUN value. */
struct value eval_step_call(struct eval *ev, int fn, struct eval_args *a);
/* file(node, path, text): a file written into the node before the
 * tasks (eval_step.c). Returns None. */
struct value eval_file_call(struct eval *ev, struct eval_args *a);
/* The XIR value of constraint c's value: a quantity an integer in base
 * units, a fraction or factor a float, strings copied (the caller owns
 * them). Returns 0, -EINVAL (a value of no XIR kind), -ERANGE or -ENOMEM. */
int eval_cons_value(const struct vcons *c, struct xir_value *out);
/* A time keyword argument kw of a (>= 0) into *ns, left alone when it is
 * absent. False after reporting another value. */
bool eval_time_kw(struct eval *ev, struct eval_args *a, const char *kw, int64_t *ns);
/* Append run or step r to task of the XIR. Returns 0 or -ENOMEM. */
int eval_step_add(struct eval *ev, uint32_t task, const struct vrun *r);
/* What step r takes in the XIR, for eval_keep. */
size_t eval_step_bytes(const struct vrun *r);
/* True for the methods whose positional arguments are constraints. */
bool eval_method_takes_constraints(const char *name);

/* Report an error and return the poison value. */
struct value eval_error(struct eval *ev, struct src_loc loc, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Count copying or comparing `bytes` as steps (one per EVAL_BYTES_PER_STEP),
 * so that a loop over big strings or lists meets the step cap instead of
 * running for hours. False (after reporting) once evaluation has stopped. */
bool eval_charge(struct eval *ev, size_t bytes, struct src_loc loc);
/* The same for `bytes` the XIR keeps, which also count against the memory
 * cap for good: the XIR is the model's memory too. */
bool eval_keep(struct eval *ev, size_t bytes, struct src_loc loc);
/* The out-of-memory / cap error (once) and the poison value. */
struct value eval_oom(struct eval *ev, struct src_loc loc);
const char *eval_sym(const struct eval *ev, uint32_t sym);

/* Count one evaluation step. False (after reporting, once) when evaluation
 * has stopped: the step cap is reached, or it had stopped before. */
bool eval_step(struct eval *ev, struct src_loc loc);
/* Make sure there is a slot for every symbol the parser has interned.
 * Returns 0 or -ENOMEM. */
int eval_ensure_slots(struct eval *ev);
/* Bind variable sym to v (the slot takes the reference), releasing the
 * value it had. */
void eval_assign_slot(struct eval *ev, uint32_t sym, struct value v);
/* What an unbound name means: a builtin function, topo, a property or an
 * enumerated value. Returns false when it means nothing. */
bool eval_resolve_free_name(const char *name, struct value *out);
/* eval_resolve_free_name, remembered per symbol (the tables are fixed). */
bool eval_resolve_free_sym(struct eval *ev, uint32_t sym, struct value *out);

/* Expressions: each returns a new reference, or the poison value after
 * reporting. */
struct value eval_expr(struct eval *ev, const struct ast_expr *e);
/* A name: the variable's value or what the free name means. */
struct value eval_name(struct eval *ev, const struct ast_expr *e);
/* A comparison: a bool, or a constraint when one side is a property. */
struct value eval_cmp(struct eval *ev, const struct ast_expr *e);
/* An arithmetic operator, and the same for two evaluated operands
 * (borrowed, not released), which x += v uses too. */
struct value eval_binop(struct eval *ev, const struct ast_expr *e);
struct value eval_binop_values(struct eval *ev, uint8_t op, struct value a, struct value b,
			       struct src_loc loc);
/* A list literal. */
struct value eval_list(struct eval *ev, const struct ast_expr *e);
/* obj[idx] of an E_INDEX expression. */
struct value eval_index(struct eval *ev, const struct ast_expr *e);
/* Resolve index idx (of E_INDEX expression e) into a sequence of n items
 * with Python's negative indexing. False after reporting a bad index. */
bool eval_index_of(struct eval *ev, const struct value *idx, size_t n, const struct ast_expr *e,
		   size_t *out);

/* True for an int or a float (with or without a unit). */
static inline bool eval_num(const struct value *v)
{
	return v->kind == V_INT || v->kind == V_FLOAT;
}

/* A number as a double. */
static inline double eval_as_f(const struct value *v)
{
	return v->kind == V_INT ? (double)v->i : v->f;
}

#endif
