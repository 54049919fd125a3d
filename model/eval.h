/* eval: runs a model's statements and builds the XIR from topo.device,
 * topo.connect, .spec, task and run calls. Errors are reported to the diag
 * list with their source location and evaluation goes on where it can (a
 * failed expression yields a poison value that silences follow-on errors).
 * Hostile models are bounded: evaluation steps, memory and list length. */
#ifndef VTB_EVAL_H
#define VTB_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"
#include "xir.h"

struct eval_limits {
	uint64_t max_steps;     /* expression and statement evaluations */
	size_t max_bytes;       /* memory held by strings and lists */
	size_t max_list;        /* items in one list */
	size_t max_str;         /* bytes in one string */
};

#define EVAL_MAX_STEPS 20000000ULL
#define EVAL_MAX_BYTES ((size_t)512 << 20)
#define EVAL_MAX_LIST ((size_t)1 << 22)
#define EVAL_MAX_STR ((size_t)1 << 20)

struct eval;

/* Create an evaluator that adds to x and reports to d. lim may be NULL for
 * the defaults. Returns NULL when out of memory. */
struct eval *eval_new(struct xir *x, struct ast_symtab *syms, struct diag_list *d,
		      const struct eval_limits *lim);
void eval_free(struct eval *ev);
/* Run one top-level statement. Returns 0, or -ECANCELED once evaluation
 * has stopped for good (step or memory cap), or -ENOMEM. */
int eval_stmt(struct eval *ev, const struct ast_stmt *s);
uint64_t eval_steps(const struct eval *ev);

#endif
