/* orphans: experiments of this state directory that its database has lost
 * (vtb.db removed, emptied or replaced while they were up). Their traces
 * are their files in the state directory, "<id>.sock" first, which only
 * vtb (root) can have made there (the directory is trusted, see db_open),
 * and their kernel objects, which carry the id in their names. vtb up never
 * draws an id whose names the kernel holds (build_id_in_use), so while they
 * exist no other experiment can have the same id. */
#ifndef VTB_ORPHANS_H
#define VTB_ORPHANS_H

#include <stddef.h>

#include "db.h"

/* The ids with a control socket in the state directory that db does not
 * know, into *ids (DB_ID_LEN + 1 bytes each; the caller frees). Returns 0
 * or a negative errno. */
int orphans_find(struct db *db, char (**ids)[DB_ID_LEN + 1], size_t *n);

/* Record orphan id in db as "lost-<id>" (state removing) with a journal of
 * what it left: its supervisor (found by asking it, when it answers), its
 * namespaces "vtb<id>-*", its root links "vtb<id>*" and its files
 * "<statedir>/<id>.*". Teardown then removes exactly those. Returns 0 with
 * *exp, or a negative errno. */
int orphans_adopt(struct db *db, const char *id, struct db_exp *exp);

#endif
