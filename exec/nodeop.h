/* nodeop: a node failure (vtb node stop, start, restart; docs/nodes.md).
 *
 * A container node is stopped by freezing every process of its pid
 * namespace, its init included, in the v1 freezer cgroup "vtb<id>/<node>"
 * (made then, the experiment's "vtb<id>" journaled so that teardown thaws
 * and removes it), and by cutting each of its links at its side the way
 * vtb link down does (linkstate.h): the port of a LAN, the whole of a
 * point-to-point link, the node's end of a direct veth. Started: thawed
 * and its links restored. Restarted: every process but its init killed,
 * its links cut and restored; the namespaces, addresses and the model's
 * routes stay. Whether a node is stopped is read from its freezer cgroup,
 * never stored. A VM is paused over QMP by its supervisor (vms_power) and
 * its taps set down, or resumed and its taps set up; its restart is not
 * supported yet (-EOPNOTSUPP). */
#ifndef VTB_NODEOP_H
#define VTB_NODEOP_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "realize.h"

enum nodeop_verb { NODEOP_STOP, NODEOP_START, NODEOP_RESTART };

/* Do verb to node ni of experiment e (rz realized again, rows its
 * journal): a stop journals the freezer cgroup in db before it makes it.
 * Returns 0 when done, 1 when there was nothing to do (a stop of a stopped
 * node, a start of a running one), or a negative errno with err (-ESRCH:
 * the node's init has ended; -EOPNOTSUPP: a VM's restart). */
int nodeop_run(struct db *db, const struct db_exp *e, const struct realization *rz,
	       const struct db_obj *rows, size_t nrows, size_t ni, enum nodeop_verb verb,
	       char *err, size_t errlen);

/* Whether node of experiment id is stopped: 1, 0 (also when it never
 * was, or the host has no freezer), or a negative errno. */
int nodeop_is_stopped(const char *id, const char *node);

/* The same for many nodes (vtb status): the experiment's freezer cgroup
 * looked up once into fz ("" when it has none: no node was ever stopped),
 * then asked per node. */
void nodeop_freezer(const char *id, char *fz, size_t len);
int nodeop_stopped_in(const char *fz, const char *node);

#endif
