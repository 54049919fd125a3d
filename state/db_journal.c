/* db_journal: the journal of the kernel objects and processes each
 * experiment created (what teardown must remove), and the allocation table
 * (what each experiment holds of this host). See db.h. */
#include "db_int.h"

#include <errno.h>
#include <string.h>

/* What db_journal_add's transaction writes. */
struct db_journal_batch {
	const char *id;
	struct db_obj *objs;
	size_t n;
};

/* Journal the batch with seq after the highest of its experiment through one
 * INSERT, writing each seq back. Returns 0 or a negative errno. */
static int db_journal_tx(struct db *db, void *arg)
{
	struct db_journal_batch *b = arg;
	sqlite3_stmt *st;
	int64_t seq = 0;
	size_t i;
	int r;

	r = db_stmt_int(db, "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE exp_id = ?",
			DB_ARGS(DB_TEXT(b->id)), &seq);
	if (!r)
		r = db_stmt_prepare(db, "INSERT INTO journal(exp_id, seq, kind, name, ns, pid, start,"
					" ident) VALUES(?, ?, ?, ?, ?, ?, ?, ?)", DB_ARGS(DB_TEXT(b->id)), &st);
	if (r)
		return r;
	for (i = 0; r >= 0 && i < b->n; i++) {
		struct db_obj *o = &b->objs[i];

		o->seq = seq + 1 + (int64_t)i;
		r = db_stmt_bind(db, st, 2, DB_ARGS(DB_I64(o->seq), DB_I64(o->kind), DB_FIELD(o->name),
						    DB_FIELD(o->ns), DB_I64(o->pid), DB_U64(o->start),
						    DB_I64((int64_t)o->ident)));
		if (!r)
			r = db_stmt_done(db, st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

/* Journal objs[0..n) of experiment id with seq max+1, max+2, ... (written
 * back into objs[i].seq) in one write transaction with one statement, which
 * is what keeps bring-up of thousands of objects fast. On failure nothing is
 * journaled. Returns 0, -ENOENT for an unknown id, -ERANGE for a start time
 * above INT64_MAX, or a negative errno. */
int db_journal_add(struct db *db, const char *id, struct db_obj *objs, size_t n)
{
	struct db_journal_batch b = { .id = id, .objs = objs, .n = n };

	return n ? db_tx(db, db_journal_tx, &b) : 0;
}

/* Fill a struct db_obj from a row of "SELECT seq, kind, name, ns, pid,
 * start, ident". Returns 0. */
static int db_obj_row(sqlite3_stmt *st, void *item)
{
	struct db_obj *o = item;

	o->seq = sqlite3_column_int64(st, 0);
	o->kind = (enum db_obj_kind)sqlite3_column_int(st, 1);
	db_col_copy(st, 2, o->name, sizeof(o->name));
	db_col_copy(st, 3, o->ns, sizeof(o->ns));
	o->pid = (pid_t)sqlite3_column_int64(st, 4);
	o->start = (uint64_t)sqlite3_column_int64(st, 5);
	o->ident = (uint64_t)sqlite3_column_int64(st, 6);
	return 0;
}

/* The journal of id by ascending seq, into a malloc'd array the caller
 * frees (NULL and 0 when empty or on failure). */
int db_journal_list(struct db *db, const char *id, struct db_obj **v, size_t *n)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_list(db, "SELECT seq, kind, name, ns, pid, start, ident FROM journal"
			     " WHERE exp_id = ? ORDER BY seq", DB_ARGS(DB_TEXT(id)),
			 sizeof(**v), db_obj_row, NULL, (void **)v, n);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Forget journal entry (id, seq). One that is already gone is success. */
int db_journal_remove(struct db *db, const char *id, int64_t seq)
{
	int r = db_stmt_write(db, "DELETE FROM journal WHERE exp_id = ? AND seq = ?",
			      DB_ARGS(DB_TEXT(id), DB_I64(seq)));

	return r < 0 ? r : 0;
}

/* db_journal_ident's transaction: one UPDATE statement, rebound per row. */
static int db_journal_ident_tx(struct db *db, void *arg)
{
	const struct db_journal_batch *b = arg;
	sqlite3_stmt *st;
	size_t i;
	int r;

	r = db_stmt_prepare(db, "UPDATE journal SET ident = ? WHERE exp_id = ? AND seq = ?",
			    DB_ARGS(DB_I64(0), DB_TEXT(b->id)), &st);
	if (r)
		return r;
	for (i = 0; r >= 0 && i < b->n; i++) {
		if (!b->objs[i].ident)
			continue;
		r = db_stmt_bind(db, st, 1, DB_ARGS(DB_I64((int64_t)b->objs[i].ident)));
		if (!r)
			r = db_stmt_bind(db, st, 3, DB_ARGS(DB_I64(b->objs[i].seq)));
		if (!r)
			r = db_stmt_done(db, st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

/* See db.h. Rows without an ident are left as they are. Returns 0 or a
 * negative errno (nothing recorded). */
int db_journal_ident(struct db *db, const char *id, const struct db_obj *objs, size_t n)
{
	struct db_journal_batch b = { .id = id, .objs = (struct db_obj *)objs, .n = n };

	return n ? db_tx(db, db_journal_ident_tx, &b) : 0;
}

/* Record that experiment id holds cores and memory on node. Returns 0,
 * -ENOENT for an unknown id, -ERANGE for quantities above INT64_MAX, or a
 * negative errno. */
int db_alloc_add(struct db *db, const char *id, const char *node, uint64_t cores, uint64_t memory)
{
	int r = db_stmt_write(db, "INSERT INTO allocations(exp_id, node, cores, memory)"
				  " VALUES(?, ?, ?, ?)",
			      DB_ARGS(DB_TEXT(id), DB_TEXT(node), DB_U64(cores), DB_U64(memory)));

	return r < 0 ? r : 0;
}

/* Both sums of a row of db_alloc_used's query into uint64_t[2]. */
static int db_alloc_row(sqlite3_stmt *st, void *out)
{
	uint64_t *sum = out;

	sum[0] = (uint64_t)sqlite3_column_int64(st, 0);
	sum[1] = (uint64_t)sqlite3_column_int64(st, 1);
	return 0;
}

/* Sum the allocations of every experiment but except (NULL: of all).
 * Returns 0 or a negative errno (the sums 0). */
int db_alloc_used(struct db *db, const char *except, uint64_t *cores, uint64_t *memory)
{
	uint64_t sum[2] = { 0, 0 };
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_row(db, "SELECT COALESCE(SUM(cores), 0), COALESCE(SUM(memory), 0)"
			    " FROM allocations WHERE ?1 IS NULL OR exp_id <> ?1",
			DB_ARGS(DB_TEXT_OR_NULL(except)), db_alloc_row, sum);
	pthread_mutex_unlock(&db->lock);
	*cores = r ? 0 : sum[0];
	*memory = r ? 0 : sum[1];
	return r;
}
