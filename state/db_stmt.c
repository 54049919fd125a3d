/* db_stmt: running one statement of the state database (see db_int.h).
 *
 * Every statement is prepared from a constant SQL text with bound
 * parameters; no SQL is built from user text. This file is the one place
 * that binds, steps and turns SQLite's result codes into negative errnos. */
#include "db_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Map an (extended) SQLite result code to a negative errno. I/O and open
 * failures carry the errno of the system call that failed, when there is
 * one, because "Permission denied" says more than "I/O error". */
int db_errno(sqlite3 *conn, int rc)
{
	int sys;

	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT; /* no such experiment */
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		sys = conn ? sqlite3_system_errno(conn) : 0;
		return sys > 0 ? -sys : -EIO;
	default:
		return -EIO;
	}
}

/* Bind one argument to ?idx. Returns an SQLite code, or the negative
 * errno of a value SQLite cannot hold (-ERANGE, -E2BIG). */
static int db_bind_one(sqlite3_stmt *st, int idx, const struct db_arg *a)
{
	const char *s = a->p;

	switch (a->type) {
	case DB_ARG_TEXT:
		return sqlite3_bind_text(st, idx, s ? s : "", -1, SQLITE_STATIC);
	case DB_ARG_TEXT_OR_NULL:
		return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
	case DB_ARG_FIELD:
		return sqlite3_bind_text(st, idx, s, (int)strnlen(s, a->len), SQLITE_STATIC);
	case DB_ARG_I64:
		return sqlite3_bind_int64(st, idx, a->i);
	case DB_ARG_U64:
		if (a->u > INT64_MAX)
			return -ERANGE;
		return sqlite3_bind_int64(st, idx, (sqlite3_int64)a->u);
	case DB_ARG_REAL:
		return sqlite3_bind_double(st, idx, a->d);
	case DB_ARG_BLOB:
		if (a->len > INT_MAX)
			return -E2BIG;
		return sqlite3_bind_blob(st, idx, a->len ? a->p : "", (int)a->len, SQLITE_STATIC);
	}
	return SQLITE_MISUSE;
}

/* Bind args[0..n) to ?first... of st. Returns 0 or a negative errno. */
int db_stmt_bind(struct db *db, sqlite3_stmt *st, int first, const struct db_arg *args, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = db_bind_one(st, first + (int)i, &args[i]);
		if (rc < 0)
			return rc;
		if (rc != SQLITE_OK)
			return db_errno(db->conn, rc);
	}
	return 0;
}

/* Prepare and bind; on failure nothing is left to finalize. */
int db_stmt_prepare(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		    sqlite3_stmt **st)
{
	int r, rc;

	*st = NULL;
	rc = sqlite3_prepare_v2(db->conn, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return db_errno(db->conn, rc);
	}
	r = db_stmt_bind(db, *st, 1, args, n);
	if (r) {
		sqlite3_finalize(*st);
		*st = NULL;
	}
	return r;
}

/* A row from a statement that should return none is a misuse (-EIO). The
 * statement is not reset: the connection's error code stays readable
 * (sqlite3_extended_errcode) until the caller resets or finalizes it. */
int db_stmt_done(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return sqlite3_changes(db->conn);
	return db_errno(db->conn, rc == SQLITE_ROW ? SQLITE_MISUSE : rc);
}

/* Prepare, bind, step once, finalize. */
int db_stmt_exec(struct db *db, const char *sql, const struct db_arg *args, size_t n)
{
	sqlite3_stmt *st;
	int r;

	r = db_stmt_prepare(db, sql, args, n, &st);
	if (r)
		return r;
	r = db_stmt_done(db, st);
	sqlite3_finalize(st);
	return r;
}

/* db_stmt_exec under the connection's lock. */
int db_stmt_write(struct db *db, const char *sql, const struct db_arg *args, size_t n)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_stmt_exec(db, sql, args, n);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* The first row of a query, handed to row(). */
int db_stmt_row(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		db_row_fn row, void *out)
{
	sqlite3_stmt *st;
	int r, rc;

	r = db_stmt_prepare(db, sql, args, n, &st);
	if (r)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = row(st, out);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	return r;
}

/* Step st to its end, collecting rows (see db_stmt_list). */
static int db_collect(struct db *db, sqlite3_stmt *st, size_t elem, db_row_fn row,
		      db_release_fn release, void **v, size_t *n)
{
	char *arr = NULL;
	size_t cnt = 0, cap = 0;
	int r = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = util_grow((void **)&arr, &cap, cnt + 1, elem);
		if (r)
			goto out_release;
		memset(arr + cnt * elem, 0, elem);
		r = row(st, arr + cnt++ * elem);
		if (r)
			goto out_release;
	}
	if (rc != SQLITE_DONE) {
		r = db_errno(db->conn, rc);
		goto out_release;
	}
	*v = arr;
	*n = cnt;
	return 0;

out_release:
	if (release)
		release(arr, cnt);
	else
		free(arr);
	return r;
}

/* Every row of a query, into a growing array. */
int db_stmt_list(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		 size_t elem, db_row_fn row, db_release_fn release, void **v, size_t *cnt)
{
	sqlite3_stmt *st;
	int r;

	*v = NULL;
	*cnt = 0;
	r = db_stmt_prepare(db, sql, args, n, &st);
	if (r)
		return r;
	r = db_collect(db, st, elem, row, release, v, cnt);
	sqlite3_finalize(st);
	return r;
}

/* Row function of db_stmt_int. */
static int db_int_row(sqlite3_stmt *st, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(st, 0);
	return 0;
}

/* One integer; a query without rows gives 0. */
int db_stmt_int(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		int64_t *out)
{
	int r;

	*out = 0;
	r = db_stmt_row(db, sql, args, n, db_int_row, out);
	return r == -ENOENT ? 0 : r;
}

/* Run a constant statement that takes no parameters and returns no rows.
 * Returns 0 or a negative errno. */
static int db_tx_exec(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_errno(db->conn, rc);
}

/* Roll back the open transaction, if any (a failed BEGIN left none). */
static void db_tx_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

/* BEGIN IMMEDIATE, body, COMMIT or ROLLBACK. */
int db_tx_unlocked(struct db *db, int (*body)(struct db *db, void *arg), void *arg)
{
	int r;

	r = db_tx_exec(db, "BEGIN IMMEDIATE");
	if (r)
		return r;
	r = body(db, arg);
	if (r >= 0)
		r = db_tx_exec(db, "COMMIT");
	if (r < 0)
		db_tx_rollback(db);
	return r < 0 ? r : 0;
}

/* db_tx_unlocked under db->lock. */
int db_tx(struct db *db, int (*body)(struct db *db, void *arg), void *arg)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db_tx_unlocked(db, body, arg);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Copy a text column, truncating to size - 1 bytes. */
void db_col_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	size_t len = s ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (len >= size)
		len = size - 1;
	if (len)
		memcpy(dst, s, len);
	dst[len] = '\0';
}

/* A NUL-terminated malloc'd copy of a text or blob column. */
char *db_col_dup(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t l = p ? (size_t)sqlite3_column_bytes(st, col) : 0;
	char *s = malloc(l + 1);

	if (!s)
		return NULL;
	if (l)
		memcpy(s, p, l);
	s[l] = '\0';
	if (len)
		*len = l;
	return s;
}
