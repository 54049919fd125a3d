/* check: the compile checks that need only the model (DESIGN.md,
 * "Compilation"). Each adds its findings to a diag_list with the source
 * location the XIR carries, or names the node/link when it has none. */
#ifndef VTB_CHECK_H
#define VTB_CHECK_H

#include "diag.h"
#include "xir.h"

/* Every property sits where it may (scope), with a value of the right type,
 * unit and range, and an operator that makes sense for it. */
void check_properties(const struct xir *x, struct diag_list *d);
/* Device, link and task names that break the name rule (xir.h) or repeat. */
void check_names(const struct xir *x, struct diag_list *d);
/* Contradictory constraints on one object: cores == 4, cores > 8. */
void check_contradictions(const struct xir *x, struct diag_list *d);
/* Links need two or more distinct endpoints. */
void check_links(const struct xir *x, struct diag_list *d);
/* Groups of nodes not connected to the rest (unless topo.spec(islands == true)). */
void check_islands(const struct xir *x, struct diag_list *d);
/* Malformed addresses, the same address twice, overlapping link subnets. */
void check_addresses(const struct xir *x, struct diag_list *d);
/* Tasks: commands on known nodes, valid expect regexes, timeouts > 0. */
void check_tasks(const struct xir *x, struct diag_list *d);
/* A node that may not be a VM (virt == false) but needs one. */
void check_virt(const struct xir *x, struct diag_list *d);
/* file(node, path, text): a path of the node's own, known placeholders. */
void check_files(const struct xir *x, struct diag_list *d);

/* All of the above, in order. */
void check_all(const struct xir *x, struct diag_list *d);

#endif
