/* check_int: what the files of the compile checks share (check.c: names,
 * links, islands and the shared walk; check_props.c, check_contra.c,
 * check_addr.c, check_tasks.c). Not for other modules. */
#ifndef VTB_CHECK_INT_H
#define VTB_CHECK_INT_H

#include "check.h"
#include "xir_fmt.h"

#define MSG_BUF 360 /* a message or hint of one finding */

/* The object a constraint set belongs to. */
struct owner {
	unsigned scope;      /* the XS_* bit of the set */
	char name[XIR_LABEL_BUF]; /* "device 'a'", "link 'a-b', endpoint 'x'", "experiment" */
	struct src_loc loc;  /* the object's place (line 0: none) */
};

/* What is wrong with one constraint. */
struct problem {
	char msg[MSG_BUF];
	char hint[MSG_BUF]; /* "" for none */
};

/* True, with p filled, when check_properties refuses constraint c in a set
 * of scope (an XS_* bit): the other checks skip such constraints. */
bool check_cons_problem(unsigned scope, const struct xir_constraint *c, struct problem *p);

/* Why s (length len) is no plain absolute path, or NULL: '/' first, no
 * empty, '.' or '..' component, no trailing '/', not '/' itself, and not
 * in /proc, /sys or /dev (the node's own views of the kernel). */
const char *check_path_problem(const char *s, size_t len);

/* a when it has a place, else b. */
static inline struct src_loc check_pick_loc(struct src_loc a, struct src_loc b)
{
	return a.line ? a : b;
}

/* Where to report constraint c of o: its own place, else o's. */
static inline struct src_loc check_cons_loc(const struct owner *o, const struct xir_constraint *c)
{
	return check_pick_loc(c->loc, o->loc);
}

/* " (line N)" when loc is a place, "" otherwise, in buf. */
const char *check_fmt_line(char buf[24], struct src_loc loc);

typedef void (*check_cset_fn)(const struct xir *x, const struct owner *o,
			      const struct xir_cset *cs, struct diag_list *d);

/* Call fn on every non-empty constraint set: nodes, links, endpoints, and
 * the experiment's, in that order, until d is full. */
void check_each_cset(const struct xir *x, struct diag_list *d, check_cset_fn fn);

#endif
