/* db_int: what the files of the state database share (db.c opens it,
 * db_stmt.c runs statements, db_exp.c, db_journal.c and db_runs.c keep the
 * tables). Not for other modules.
 *
 * Every statement goes through db_stmt.c: a constant SQL text and a list of
 * typed arguments, DB_ARGS(DB_TEXT(id), DB_I64(seq)), bound in order to ?1,
 * ?2... SQLite's result codes are turned into 0 or a negative errno there,
 * once. The callers hold db->lock around their statements. */
#ifndef VTB_DB_INT_H
#define VTB_DB_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct db {
	sqlite3 *conn;
	pthread_mutex_t lock;
};

enum db_arg_type {
	DB_ARG_TEXT,    /* a C string; NULL binds "" */
	DB_ARG_TEXT_OR_NULL, /* a C string; NULL binds SQL NULL */
	DB_ARG_FIELD,   /* a fixed-size char array, maybe unterminated */
	DB_ARG_I64,
	DB_ARG_U64,     /* -ERANGE above INT64_MAX (SQLite integers are signed) */
	DB_ARG_REAL,
	DB_ARG_BLOB,    /* len bytes at p (an empty blob for none); -E2BIG above INT_MAX */
};

/* One argument of a statement. The pointed-to bytes must live until the
 * statement is finalized (they are bound SQLITE_STATIC). */
struct db_arg {
	enum db_arg_type type;
	const void *p;  /* TEXT, TEXT_OR_NULL, FIELD, BLOB */
	size_t len;     /* FIELD: the array's size; BLOB: bytes */
	int64_t i;      /* I64 */
	uint64_t u;     /* U64 */
	double d;       /* REAL */
};

#define DB_TEXT(s) ((struct db_arg){ .type = DB_ARG_TEXT, .p = (s) })
#define DB_TEXT_OR_NULL(s) ((struct db_arg){ .type = DB_ARG_TEXT_OR_NULL, .p = (s) })
#define DB_FIELD(a) ((struct db_arg){ .type = DB_ARG_FIELD, .p = (a), .len = sizeof(a) })
#define DB_I64(v) ((struct db_arg){ .type = DB_ARG_I64, .i = (v) })
#define DB_U64(v) ((struct db_arg){ .type = DB_ARG_U64, .u = (v) })
#define DB_REAL(v) ((struct db_arg){ .type = DB_ARG_REAL, .d = (v) })
#define DB_BLOB(b, n) ((struct db_arg){ .type = DB_ARG_BLOB, .p = (b), .len = (n) })

/* The argument list of a statement helper: an array and its length. */
#define DB_ARGS(...)                                                                               \
	(const struct db_arg[]){ __VA_ARGS__ },                                                     \
		sizeof((const struct db_arg[]){ __VA_ARGS__ }) / sizeof(struct db_arg)

/* Fill one element of a list from the current row: 0 or a negative errno. */
typedef int (*db_row_fn)(sqlite3_stmt *st, void *item);
/* Release n elements of a list (and the array). */
typedef void (*db_release_fn)(void *arr, size_t n);

/* Map an (extended) SQLite result code to a negative errno. */
int db_errno(sqlite3 *conn, int rc);

/* Prepare sql (a constant) and bind args[0..n) to ?1..?n. Returns 0 or a
 * negative errno; on success *st is the caller's to sqlite3_finalize, on
 * failure it is NULL. */
int db_stmt_prepare(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		    sqlite3_stmt **st);
/* Bind args[0..n) to ?first, ?first+1... of st. Returns 0 or a negative errno. */
int db_stmt_bind(struct db *db, sqlite3_stmt *st, int first, const struct db_arg *args, size_t n);
/* Step a statement that returns no rows and reset it for another use.
 * Returns the number of rows it changed, or a negative errno. */
int db_stmt_done(struct db *db, sqlite3_stmt *st);
/* Prepare, bind, step and finalize a statement that returns no rows.
 * Returns the number of rows it changed, or a negative errno. */
int db_stmt_exec(struct db *db, const char *sql, const struct db_arg *args, size_t n);
/* The same under db->lock, for a statement of its own. */
int db_stmt_write(struct db *db, const char *sql, const struct db_arg *args, size_t n);
/* Run a query and give its first row to row(st, out). Returns 0, -ENOENT
 * when there is no row, or a negative errno (also row's). */
int db_stmt_row(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		db_row_fn row, void *out);
/* Run a query and turn each row into the next elem-sized item of a growing
 * array with row() (the item zeroed first). On success *v (the caller's) and
 * *cnt; on failure *v is NULL, *cnt 0, and the items made so far are released
 * with release (free() when NULL). Returns 0 or a negative errno. */
int db_stmt_list(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		 size_t elem, db_row_fn row, db_release_fn release, void **v, size_t *cnt);
/* The first column of the first row as an integer into *out (0 when there
 * is no row). Returns 0 or a negative errno. */
int db_stmt_int(struct db *db, const char *sql, const struct db_arg *args, size_t n,
		int64_t *out);

/* Run body(db, arg) in one write transaction under db->lock: BEGIN
 * IMMEDIATE (the write lock at once, so two writers never deadlock
 * upgrading), then COMMIT when body returned 0 or more, ROLLBACK otherwise.
 * Returns 0 or a negative errno (body's or the transaction's). */
int db_tx(struct db *db, int (*body)(struct db *db, void *arg), void *arg);
/* The same, for db_open: the caller holds no lock (none is needed yet). */
int db_tx_unlocked(struct db *db, int (*body)(struct db *db, void *arg), void *arg);

/* Copy a text column into a fixed buffer, truncating; NULL reads as "". */
void db_col_copy(sqlite3_stmt *st, int col, char *dst, size_t size);
/* A malloc'd copy of column col (text or blob) with a NUL after it, its
 * length in *len (if len). NULL when out of memory. */
char *db_col_dup(sqlite3_stmt *st, int col, size_t *len);

#endif
