/* db_runs: the results of vtb run in the state database (see db.h): one
 * row per run of an experiment's tasks, one per command of a run. */
#include "db_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* What db_run_begin's transaction reads and writes. */
struct db_run_new {
	const char *id;
	int64_t run;
};

/* Insert run max + 1 of the experiment, its number into the struct.
 * Returns 0 or a negative errno. */
static int db_run_begin_tx(struct db *db, void *arg)
{
	struct db_run_new *nr = arg;
	int r;

	r = db_stmt_int(db, "SELECT COALESCE(MAX(run), 0) + 1 FROM runs WHERE exp_id = ?",
			DB_ARGS(DB_TEXT(nr->id)), &nr->run);
	if (r)
		return r;
	return db_stmt_exec(db, "INSERT INTO runs(exp_id, run, started, ended, status)"
				" VALUES(?, ?, ?, 0, 'running')",
			    DB_ARGS(DB_TEXT(nr->id), DB_I64(nr->run),
				    DB_REAL(util_clock_s(CLOCK_REALTIME))));
}

/* Number and insert the run in one write transaction, so two vtb run of
 * the same experiment never get the same number. Returns 0, -ENOENT for an
 * unknown id, or a negative errno (*run 0). */
int db_run_begin(struct db *db, const char *id, int64_t *run)
{
	struct db_run_new nr = { .id = id };
	int r = db_tx(db, db_run_begin_tx, &nr);

	*run = r ? 0 : nr.run;
	return r;
}

/* Set the run's status and end time. Returns 0, -ENOENT for an unknown
 * run, or a negative errno. */
int db_run_end(struct db *db, const char *id, int64_t run, const char *status)
{
	int r = db_stmt_write(db, "UPDATE runs SET ended = ?, status = ? WHERE exp_id = ? AND run = ?",
			      DB_ARGS(DB_REAL(util_clock_s(CLOCK_REALTIME)), DB_TEXT(status),
				      DB_TEXT(id), DB_I64(run)));

	return r < 0 ? r : r ? 0 : -ENOENT;
}

/* Add one result of a run. Returns 0, -EEXIST for a seq already stored,
 * -ENOENT for an unknown id, -E2BIG for output SQLite cannot hold, or a
 * negative errno. */
int db_result_add(struct db *db, const char *id, const struct db_result *r)
{
	int ret = db_stmt_write(db, "INSERT INTO results(exp_id, run, seq, task, node, cmd, start_ns,"
				    " end_ns, exit, status, stdout, stderr)"
				    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
				DB_ARGS(DB_TEXT(id), DB_I64(r->run), DB_I64(r->seq), DB_TEXT(r->task),
					DB_TEXT(r->node), DB_TEXT(r->cmd), DB_I64(r->start_ns),
					DB_I64(r->end_ns), DB_I64(r->exit), DB_FIELD(r->status),
					DB_BLOB(r->out, r->outlen), DB_BLOB(r->err, r->errlen)));

	return ret < 0 ? ret : 0;
}

/* Fill a struct db_run from a row of db_run_list's query. Returns 0. */
static int db_run_row(sqlite3_stmt *st, void *item)
{
	struct db_run *u = item;

	u->run = sqlite3_column_int64(st, 0);
	u->started = sqlite3_column_double(st, 1);
	u->ended = sqlite3_column_double(st, 2);
	db_col_copy(st, 3, u->status, sizeof(u->status));
	db_col_copy(st, 4, u->failed_task, sizeof(u->failed_task));
	return 0;
}

/* The runs of id, oldest first, with the task of each one's first result
 * that is not ok; *v (NULL when none) is the caller's to free. */
int db_run_list(struct db *db, const char *id, struct db_run **v, size_t *n)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_list(db, "SELECT run, started, ended, status,"
			     " (SELECT task FROM results AS s WHERE s.exp_id = runs.exp_id"
			     "  AND s.run = runs.run AND s.status <> 'ok' ORDER BY seq LIMIT 1)"
			     " FROM runs WHERE exp_id = ? ORDER BY run", DB_ARGS(DB_TEXT(id)),
			 sizeof(**v), db_run_row, NULL, (void **)v, n);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Fill a struct db_result from a row of "SELECT run, seq, task, node, cmd,
 * start_ns, end_ns, exit, status, stdout, stderr". Returns 0 or -ENOMEM
 * (what was copied stays for db_results_free). */
static int db_result_row(sqlite3_stmt *st, void *item)
{
	struct db_result *r = item;

	r->run = sqlite3_column_int64(st, 0);
	r->seq = sqlite3_column_int64(st, 1);
	r->task = db_col_dup(st, 2, NULL);
	r->node = db_col_dup(st, 3, NULL);
	r->cmd = db_col_dup(st, 4, NULL);
	r->start_ns = sqlite3_column_int64(st, 5);
	r->end_ns = sqlite3_column_int64(st, 6);
	r->exit = sqlite3_column_int(st, 7);
	db_col_copy(st, 8, r->status, sizeof(r->status));
	r->out = db_col_dup(st, 9, &r->outlen);
	r->err = db_col_dup(st, 10, &r->errlen);
	return r->task && r->node && r->cmd && r->out && r->err ? 0 : -ENOMEM;
}

/* db_results_free for db_stmt_list. */
static void db_results_release(void *arr, size_t n)
{
	db_results_free(arr, n);
}

/* The results of run (every run when 0) in run and seq order. */
int db_result_list(struct db *db, const char *id, int64_t run, struct db_result **v, size_t *n)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_list(db, "SELECT run, seq, task, node, cmd, start_ns, end_ns, exit, status,"
			     " stdout, stderr FROM results WHERE exp_id = ?1 AND (?2 = 0 OR run = ?2)"
			     " ORDER BY run, seq", DB_ARGS(DB_TEXT(id), DB_I64(run)),
			 sizeof(**v), db_result_row, db_results_release, (void **)v, n);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Release the results of db_result_list; accepts NULL. */
void db_results_free(struct db_result *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].task);
		free(v[i].node);
		free(v[i].cmd);
		free(v[i].out);
		free(v[i].err);
	}
	free(v);
}

/* See db.h: one parameter or measurement of a run. */
int db_value_add(struct db *db, const char *id, int64_t run, int64_t seq, const char *name,
		 const char *value)
{
	int r = db_stmt_write(db, "INSERT OR REPLACE INTO run_values(exp_id, run, seq, name, value)"
				  " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS"
				  " (SELECT 1 FROM runs WHERE exp_id = ?1 AND run = ?2)",
			      DB_ARGS(DB_TEXT(id), DB_I64(run), DB_I64(seq), DB_TEXT(name),
				      DB_TEXT(value)));

	return r < 0 ? r : r ? 0 : -ENOENT;
}

/* Fill a struct db_value from a row of db_value_list's query. Returns 0. */
static int db_value_row(sqlite3_stmt *st, void *item)
{
	struct db_value *u = item;

	u->run = sqlite3_column_int64(st, 0);
	u->seq = sqlite3_column_int64(st, 1);
	db_col_copy(st, 2, u->name, sizeof(u->name));
	db_col_copy(st, 3, u->value, sizeof(u->value));
	return 0;
}

int db_value_list(struct db *db, const char *id, struct db_value **v, size_t *n)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_list(db, "SELECT run, seq, name, value FROM run_values WHERE exp_id = ?"
			     " ORDER BY run, seq, rowid", DB_ARGS(DB_TEXT(id)),
			 sizeof(**v), db_value_row, NULL, (void **)v, n);
	pthread_mutex_unlock(&db->lock);
	return r;
}
