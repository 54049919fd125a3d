/* eval_int: what eval.c and eval_builtin.c share. Not for other modules. */
#ifndef VTB_EVAL_INT_H
#define VTB_EVAL_INT_H

#include "eval.h"
#include "value.h"

enum builtin {
	B_RANGE, B_LEN, B_STR, B_INT, B_FLOAT, B_TASK, B_RUN,
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

#endif
