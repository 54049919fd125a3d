/* steps: the task steps vtb run does itself, on the host side
 * (docs/model-language.md, "Tasks"): link_set, link_down, link_up,
 * node_stop and node_start, through the code of vtb link set/down/up and
 * vtb node stop/start (sweep.h's supervisor request, linkstate.h,
 * nodeop.h); and what vtb run --repeat puts back before each run.
 *
 * A host step runs as a command of its task does: a child of vtb run
 * waits at the task's start line and then execs vtb's hidden "__step ID
 * T:C START_NS", which loads the experiment, waits until START_NS plus the
 * step's at=, does the step and says on its stdout when ("at SECONDS.NANOS
 * (+S s): what it did"); the task runner takes that time as the step's
 * start. Library code: nothing is printed here. */
#ifndef VTB_STEPS_H
#define VTB_STEPS_H

#include <stddef.h>

#include "db.h"
#include "realize.h"

/* Do host step c of experiment e (model x realized as rz) now. what gets
 * what was done ("link 'a-b' cut (2 interfaces)"). Returns 0, or a
 * negative errno with err saying why (the link or node, the system's or
 * the supervisor's words). */
int steps_do(struct db *db, const struct db_exp *e, const struct xir *x,
	     const struct realization *rz, const struct xir_command *c, char *what, size_t whatlen,
	     char *err, size_t errlen);

/* Before a run of --repeat or --sweep: start every stopped container
 * node (vtb node start) and restore every cut link (vtb link up), so
 * that the steps of the run before leave nothing behind. *nodes and
 * *links count what was put back. Returns 0 or a negative errno with err
 * naming the node or link. */
int steps_restore(struct db *db, const struct db_exp *e, const struct xir *x,
		  const struct realization *rz, size_t *nodes, size_t *links, char *err,
		  size_t errlen);

/* The shell script that runs wait_until step c: its command retried every
 * c->every_ns until it exits 0 (then its output is the step's), or, past
 * c->timeout_ns, a message naming the command and its last output, and
 * exit status 1. The caller frees it; NULL when out of memory. */
char *steps_wait_script(const struct xir_command *c);

#endif
