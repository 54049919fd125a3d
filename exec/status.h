/* status: what an experiment is, as a JSON document (docs/cli.md): nodes
 * with their namespace, interfaces and addresses, links with their kind and
 * subnets, and whether the kernel objects are still there. Built from the
 * state database (the stored XIR, realized again: realization is
 * deterministic) and a look at the kernel. */
#ifndef VTB_STATUS_H
#define VTB_STATUS_H

#include <jansson.h>

#include "db.h"
#include "realize.h"

/* Load experiment exp's XIR from the database and realize it again (for
 * its addresses and names). The caller frees both with realize_free and
 * xir_free. Returns 0 or a negative errno. */
int status_load(struct db *db, const struct db_exp *exp, struct xir **x, struct realization **rz);
/* The same for experiment id, opening the state database for the time it
 * takes (the supervisor's way in). 0, -ENOENT or a negative errno. */
int status_load_id(const char *id, struct xir **x, struct realization **rz);

/* The status document of one experiment (a new reference), or NULL. */
json_t *status_json(struct db *db, const struct db_exp *exp);

/* "creating", "up", "failed", "removing" */
/* How many processes node's memory limit has killed (its cgroup's
 * oom_kill count), 0 when it has no limits. */
uint64_t status_oom_kills(struct db *db, const char *id, const char *node);

const char *status_state_name(enum db_exp_state s);

#endif
