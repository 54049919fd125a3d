/* db_exp: the experiments table of the state database (see db.h) and what
 * hangs off an experiment: its documents, and its removal with every row
 * that refers to it. */
#include "db_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

#define DB_EXP_COLUMNS "id, name, model, state, owner_pid, owner_start, created"
/* Random ids tried before walking through every id in turn. */
#define DB_ID_RANDOM_TRIES 16
#define DB_ID_COUNT 0x10000 /* DB_ID_LEN hex digits */

/* Fill e from a row of "SELECT " DB_EXP_COLUMNS. Returns 0. */
static int db_exp_row(sqlite3_stmt *st, void *item)
{
	struct db_exp *e = item;

	memset(e, 0, sizeof(*e));
	db_col_copy(st, 0, e->id, sizeof(e->id));
	db_col_copy(st, 1, e->name, sizeof(e->name));
	db_col_copy(st, 2, e->model, sizeof(e->model));
	e->state = (enum db_exp_state)sqlite3_column_int(st, 3);
	e->owner_pid = (pid_t)sqlite3_column_int64(st, 4);
	e->owner_start = (uint64_t)sqlite3_column_int64(st, 5);
	e->created = sqlite3_column_double(st, 6);
	return 0;
}

/* Next candidate id: DB_ID_RANDOM_TRIES random tries, then a walk through
 * every id from the last random one, so a nearly full table still yields
 * its free ids. Returns 0 or a negative errno. */
static int db_next_id(unsigned tries, unsigned *v)
{
	const char *forced = getenv("VTB_ID");
	uint16_t rnd;
	ssize_t got;
	char *end;

	/* VTB_ID=hhhh draws exactly that id (tests; reproducing a run) */
	if (forced && *forced) {
		unsigned long f = strtoul(forced, &end, 16);

		if (*end || strlen(forced) != DB_ID_LEN || f >= DB_ID_COUNT)
			return -EINVAL;
		if (tries)
			return -EADDRINUSE;
		*v = (unsigned)f;
		return 0;
	}
	if (tries >= DB_ID_RANDOM_TRIES) {
		*v = (*v + 1) & (DB_ID_COUNT - 1);
		return 0;
	}
	do
		got = getrandom(&rnd, sizeof(rnd), 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	if (got != sizeof(rnd))
		return -EIO;
	*v = rnd;
	return 0;
}

/* Step the prepared INSERT (everything but the id bound) with fresh ids
 * until one is new: the primary key makes the choice atomic against other
 * processes. The id used goes to id. Returns 0, -EEXIST for a taken name,
 * -ENOSPC when all ids are in use, or another negative errno. */
static int db_exp_insert_id(struct db *db, sqlite3_stmt *st, char id[DB_ID_LEN + 1])
{
	unsigned tries, v = 0;
	bool taken;
	int r;

	for (tries = 0; tries < DB_ID_RANDOM_TRIES + DB_ID_COUNT; tries++) {
		r = db_next_id(tries, &v);
		if (r)
			return r;
		snprintf(id, DB_ID_LEN + 1, "%04x", v);
		r = db_stmt_bind(db, st, 1, DB_ARGS(DB_TEXT(id)));
		if (!r)
			r = db_stmt_done(db, st);
		/* a taken id is a primary key clash; a taken name a unique one */
		taken = r == -EEXIST &&
			sqlite3_extended_errcode(db->conn) == SQLITE_CONSTRAINT_PRIMARYKEY;
		sqlite3_reset(st);
		if (!taken)
			return r < 0 ? r : 0;
	}
	return -ENOSPC;
}

/* Insert the experiment under a fresh id and fill out. Returns as
 * db_exp_insert_id. */
static int db_exp_insert(struct db *db, const char *name, const char *model, pid_t owner,
			 uint64_t owner_start, struct db_exp *out)
{
	sqlite3_stmt *st;
	char id[DB_ID_LEN + 1];
	double now = util_clock_s(CLOCK_REALTIME);
	int r;

	r = db_stmt_prepare(db, "INSERT INTO experiments(" DB_EXP_COLUMNS ") VALUES(?,?,?,?,?,?,?)",
			    NULL, 0, &st);
	if (r)
		return r;
	r = db_stmt_bind(db, st, 2, DB_ARGS(DB_TEXT(name), DB_TEXT(model), DB_I64(DB_CREATING),
					    DB_I64(owner), DB_U64(owner_start), DB_REAL(now)));
	if (!r)
		r = db_exp_insert_id(db, st, id);
	if (r)
		goto out_finalize;
	memset(out, 0, sizeof(*out));
	memcpy(out->id, id, sizeof(out->id));
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->model, sizeof(out->model), "%s", model ? model : "");
	out->state = DB_CREATING;
	out->owner_pid = owner;
	out->owner_start = owner_start;
	out->created = now;

out_finalize:
	sqlite3_finalize(st);
	return r;
}

/* Add an experiment (state DB_CREATING) under a fresh random id. Names
 * and models that do not fit struct db_exp are refused with -ENAMETOOLONG,
 * an empty name with -EINVAL. */
int db_exp_create(struct db *db, const char *name, const char *model, pid_t owner,
		  uint64_t owner_start, struct db_exp *out)
{
	int r;

	if (!name || !*name)
		return -EINVAL;
	if (strlen(name) >= sizeof(out->name) || (model && strlen(model) >= sizeof(out->model)))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&db->lock);
	r = db_exp_insert(db, name, model, owner, owner_start, out);
	pthread_mutex_unlock(&db->lock);
	return r;
}

int db_exp_adopt(struct db *db, const char *id, const char *name, struct db_exp *out)
{
	double now = util_clock_s(CLOCK_REALTIME);
	int r;

	if (strlen(id) != DB_ID_LEN || strlen(name) >= sizeof(out->name))
		return -EINVAL;
	r = db_stmt_write(db, "INSERT INTO experiments(" DB_EXP_COLUMNS ") VALUES(?,?,?,?,?,?,?)",
			  DB_ARGS(DB_TEXT(id), DB_TEXT(name), DB_TEXT(""), DB_I64(DB_REMOVING),
				  DB_I64(0), DB_U64(0), DB_REAL(now)));
	if (r < 0)
		return r; /* else the number of rows added: 1 */
	return db_exp_get(db, id, out);
}

/* The experiment that the query sql (with one parameter, value) selects.
 * Returns 0, -ENOENT or a negative errno. */
static int db_exp_by(struct db *db, const char *sql, const char *value, struct db_exp *out)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_row(db, sql, DB_ARGS(DB_TEXT(value)), db_exp_row, out);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Look an experiment up by name. */
int db_exp_find(struct db *db, const char *name, struct db_exp *out)
{
	return db_exp_by(db, "SELECT " DB_EXP_COLUMNS " FROM experiments WHERE name = ?", name, out);
}

/* Look an experiment up by id. */
int db_exp_get(struct db *db, const char *id, struct db_exp *out)
{
	return db_exp_by(db, "SELECT " DB_EXP_COLUMNS " FROM experiments WHERE id = ?", id, out);
}

/* All experiments, oldest first, into a malloc'd array the caller frees.
 * On failure *v is NULL and *n 0. */
int db_exp_list(struct db *db, struct db_exp **v, size_t *n)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_list(db, "SELECT " DB_EXP_COLUMNS " FROM experiments ORDER BY created, rowid",
			 NULL, 0, sizeof(**v), db_exp_row, NULL, (void **)v, n);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Returns 0, -ENOENT for an unknown id, or a negative errno. */
int db_exp_set_state(struct db *db, const char *id, enum db_exp_state state)
{
	int r = db_stmt_write(db, "UPDATE experiments SET state = ?2 WHERE id = ?1",
			      DB_ARGS(DB_TEXT(id), DB_I64(state)));

	return r < 0 ? r : r ? 0 : -ENOENT;
}

/* Returns 0, -ENOENT for an unknown id, -ERANGE for a start time above
 * INT64_MAX, or a negative errno. */
int db_exp_set_owner(struct db *db, const char *id, pid_t pid, uint64_t start)
{
	int r = db_stmt_write(db, "UPDATE experiments SET owner_pid = ?2, owner_start = ?3 WHERE id = ?1",
			      DB_ARGS(DB_TEXT(id), DB_I64(pid), DB_U64(start)));

	return r < 0 ? r : r ? 0 : -ENOENT;
}

/* The state and the owner in one write, so that no crash leaves one
 * without the other (a built experiment handed to its supervisor, a
 * removal taken over by the vtb that does it). Returns as
 * db_exp_set_owner. */
int db_exp_set_state_owner(struct db *db, const char *id, enum db_exp_state state, pid_t pid,
			   uint64_t start)
{
	int r = db_stmt_write(db,
			      "UPDATE experiments SET state = ?2, owner_pid = ?3, owner_start = ?4 "
			      "WHERE id = ?1",
			      DB_ARGS(DB_TEXT(id), DB_I64(state), DB_I64(pid), DB_U64(start)));

	return r < 0 ? r : r ? 0 : -ENOENT;
}

/* Store doc under (id, key), replacing an older one. The text is copied.
 * Returns 0, -ENOENT when there is no experiment id, or a negative errno. */
int db_exp_set_doc(struct db *db, const char *id, const char *key, const char *doc)
{
	int r = db_stmt_write(db, "INSERT OR REPLACE INTO docs(exp_id, key, doc) VALUES(?, ?, ?)",
			      DB_ARGS(DB_TEXT(id), DB_TEXT(key), DB_TEXT_OR_NULL(doc)));

	return r < 0 ? r : 0;
}

/* Copy the document of the row into *(char **)out. Returns 0 or -ENOMEM. */
static int db_doc_row(sqlite3_stmt *st, void *out)
{
	const char *s = (const char *)sqlite3_column_text(st, 0);
	char **doc = out;

	/* column_text of NULL is NULL, also when out of memory */
	if (!s && sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
		return -ENOMEM;
	*doc = util_strndup(s ? s : "", s ? (size_t)sqlite3_column_bytes(st, 0) : 0);
	return *doc ? 0 : -ENOMEM;
}

/* Load the document (id, key) into a malloc'd string the caller frees.
 * Returns 0, -ENOENT or a negative errno (*doc NULL). */
int db_exp_get_doc(struct db *db, const char *id, const char *key, char **doc)
{
	int r;

	*doc = NULL;
	pthread_mutex_lock(&db->lock);
	r = db_stmt_row(db, "SELECT doc FROM docs WHERE exp_id = ? AND key = ?",
			DB_ARGS(DB_TEXT(id), DB_TEXT(key)), db_doc_row, doc);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Delete every row of experiment *(const char **)arg (db_exp_delete's
 * transaction). Returns 0 or a negative errno. */
static int db_exp_delete_tx(struct db *db, void *arg)
{
	static const char *const sql[] = {
		"DELETE FROM docs WHERE exp_id = ?",
		"DELETE FROM journal WHERE exp_id = ?",
		"DELETE FROM allocations WHERE exp_id = ?",
		"DELETE FROM run_values WHERE exp_id = ?",
		"DELETE FROM results WHERE exp_id = ?",
		"DELETE FROM runs WHERE exp_id = ?",
		"DELETE FROM experiments WHERE id = ?",
	};
	const char *id = arg;
	size_t i;
	int r = 0;

	for (i = 0; r >= 0 && i < UTIL_ARRAY_SIZE(sql); i++)
		r = db_stmt_exec(db, sql[i], DB_ARGS(DB_TEXT(id)));
	return r;
}

/* Remove experiment id and every row that refers to it (documents,
 * journal, allocations, runs and results), in one transaction. An id that
 * is already gone is success. Returns 0 or a negative errno. */
int db_exp_delete(struct db *db, const char *id)
{
	return db_tx(db, db_exp_delete_tx, (void *)id);
}
