/* db: vtb's state in one SQLite database (see db.h).
 *
 * Every statement is prepared with bound parameters; no SQL is built from
 * user text. A struct db holds one connection and a mutex that serialises
 * the calls on it, so a multi-statement transaction of one thread never
 * interleaves with another's. Other processes (the CLI, supervisors) use
 * their own connections; SQLite's locks and a 5 s busy timeout arbitrate. */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define DB_FILE "vtb.db"
#define DB_SCHEMA_VERSION 2
#define DB_BUSY_MS 5000

struct db {
	sqlite3 *conn;
	pthread_mutex_t lock;
};

/* Version 1. The child tables reference experiments (foreign_keys=ON), so a
 * row can only be added for an experiment that exists. */
static const char db_schema[] =
	"CREATE TABLE experiments("
	" id TEXT PRIMARY KEY,"
	" name TEXT UNIQUE NOT NULL,"
	" model TEXT,"
	" state INTEGER,"
	" owner_pid INTEGER,"
	" owner_start INTEGER,"
	" created REAL);"
	"CREATE TABLE docs("
	" exp_id TEXT NOT NULL REFERENCES experiments(id),"
	" key TEXT NOT NULL,"
	" doc TEXT,"
	" PRIMARY KEY(exp_id, key));"
	"CREATE TABLE journal("
	" exp_id TEXT NOT NULL REFERENCES experiments(id),"
	" seq INTEGER NOT NULL,"
	" kind INTEGER,"
	" name TEXT,"
	" ns TEXT,"
	" pid INTEGER,"
	" start INTEGER,"
	" PRIMARY KEY(exp_id, seq));"
	"CREATE TABLE allocations("
	" exp_id TEXT NOT NULL REFERENCES experiments(id),"
	" node TEXT,"
	" cores INTEGER,"
	" memory INTEGER);"
	"CREATE INDEX allocations_exp ON allocations(exp_id);"
	"PRAGMA user_version = 1;";

/* Version 2 adds the results of vtb run: one row per run of an
 * experiment's tasks and one per command of it. IF NOT EXISTS, so a
 * version 1 database upgrades in place. */
static const char db_schema_v2[] =
	"CREATE TABLE IF NOT EXISTS runs("
	" exp_id TEXT NOT NULL REFERENCES experiments(id),"
	" run INTEGER NOT NULL,"
	" started REAL,"
	" ended REAL,"
	" status TEXT,"
	" PRIMARY KEY(exp_id, run));"
	"CREATE TABLE IF NOT EXISTS results("
	" exp_id TEXT NOT NULL REFERENCES experiments(id),"
	" run INTEGER NOT NULL,"
	" seq INTEGER NOT NULL,"
	" task TEXT,"
	" node TEXT,"
	" cmd TEXT,"
	" start_ns INTEGER,"
	" end_ns INTEGER,"
	" exit INTEGER,"
	" status TEXT,"
	" stdout BLOB,"
	" stderr BLOB,"
	" PRIMARY KEY(exp_id, run, seq));"
	"PRAGMA user_version = 2;";

/* Map an (extended) SQLite result code to a negative errno. I/O and open
 * failures carry the errno of the system call that failed, when there is
 * one, because "Permission denied" says more than "I/O error". */
static int db_errno(sqlite3 *conn, int rc)
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
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		sys = conn ? sqlite3_system_errno(conn) : 0;
		return sys > 0 ? -sys : -EIO;
	default:
		return -EIO;
	}
}

/* Copy a text column into a fixed buffer, truncating; NULL reads as "". */
static void db_col_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	size_t len = s ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (len >= size)
		len = size - 1;
	if (len)
		memcpy(dst, s, len);
	dst[len] = '\0';
}

/* Bind a fixed-size, possibly unterminated char array as text. */
static int db_bind_field(sqlite3_stmt *st, int idx, const char *s, size_t size)
{
	return sqlite3_bind_text(st, idx, s, (int)strnlen(s, size), SQLITE_STATIC);
}

/* Bind an unsigned quantity; SQLite integers are signed 64-bit. */
static int db_bind_u64(sqlite3_stmt *st, int idx, uint64_t v)
{
	if (v > INT64_MAX)
		return SQLITE_RANGE;
	return sqlite3_bind_int64(st, idx, (sqlite3_int64)v);
}

/* Prepare sql (a constant) on the connection. Returns an SQLite code. */
static int db_prepare(struct db *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db->conn, sql, -1, st, NULL);
}

/* Run a constant statement that returns no rows (BEGIN, COMMIT...).
 * Returns an SQLite code. */
static int db_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(db->conn, sql, NULL, NULL, NULL);
}

/* Roll back the open transaction, if any, after a failure. */
static void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		db_exec(db, "ROLLBACK");
}

/* Step a statement that returns no rows. Returns an SQLite code (DONE is
 * success). */
static int db_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_ROW ? SQLITE_MISUSE : rc;
}

const char *db_state_dir(void)
{
	const char *d = getenv("VTB_STATE_DIR");

	return d && *d ? d : DB_DEFAULT_DIR;
}

/* mkdir -p -m 0700 dir: missing parents get the default mode, dir itself
 * 0700. Then refuse a directory that anyone may write to: another user
 * could replace the database or plant a symlink in its place.
 * Returns 0, -EPERM, -ENOTDIR or the errno of mkdir/stat. */
static int db_make_dir(const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t len = strlen(dir), i;

	if (!len || len >= sizeof(path)) {
		util_fmt(why, whylen, "state directory '%s': bad path", dir);
		return len ? -ENAMETOOLONG : -EINVAL;
	}
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		bool last = i == len;

		if (!last && path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, last ? 0700 : 0777) < 0 && errno != EEXIST) {
			int err = errno;

			util_fmt(why, whylen, "cannot create directory %s: %s", path, strerror(err));
			return -err;
		}
		if (!last)
			path[i] = '/';
	}
	if (stat(dir, &sb) < 0) {
		int err = errno;

		util_fmt(why, whylen, "%s: %s", dir, strerror(err));
		return -err;
	}
	if (!S_ISDIR(sb.st_mode)) {
		util_fmt(why, whylen, "state directory %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (sb.st_mode & S_IWOTH) {
		util_fmt(why, whylen,
		       "state directory %s is writable by every user (mode %04o); "
		       "refusing to keep vtb's state there (chmod o-w, or set VTB_STATE_DIR)",
		       dir, (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Create the tables in a fresh database, or add those of newer versions to
 * an older one, once: the version check and the creation share one write
 * transaction, so two processes opening a new
 * database at once do not both create. Returns an SQLite code, or
 * SQLITE_SCHEMA for a database from a newer vtb. */
static int db_init_schema(struct db *db)
{
	sqlite3_stmt *st = NULL;
	int rc, version;

	rc = db_exec(db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return rc;
	rc = db_prepare(db, "PRAGMA user_version", &st);
	if (rc != SQLITE_OK)
		goto out_rollback;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		goto out_rollback;
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version > DB_SCHEMA_VERSION) {
		rc = SQLITE_SCHEMA;
		goto out_rollback;
	}
	if (version == 0) {
		rc = db_exec(db, db_schema);
		if (rc != SQLITE_OK)
			goto out_rollback;
	}
	if (version < 2) {
		rc = db_exec(db, db_schema_v2);
		if (rc != SQLITE_OK)
			goto out_rollback;
	}
	rc = db_exec(db, "COMMIT");
	if (rc != SQLITE_OK)
		goto out_rollback;
	return SQLITE_OK;

out_rollback:
	sqlite3_finalize(st);
	db_rollback(db);
	return rc;
}

/* Connection settings: WAL so readers do not block the writer and a commit
 * is in the file (if not yet on the disk) when it returns, which is what
 * surviving kill -9 needs. The busy timeout comes first because switching
 * to WAL needs a lock another process may hold. Returns an SQLite code. */
static int db_configure(struct db *db)
{
	int rc;

	sqlite3_extended_result_codes(db->conn, 1);
	rc = sqlite3_busy_timeout(db->conn, DB_BUSY_MS);
	if (rc == SQLITE_OK)
		rc = db_exec(db, "PRAGMA journal_mode = WAL");
	if (rc == SQLITE_OK)
		rc = db_exec(db, "PRAGMA synchronous = NORMAL");
	if (rc == SQLITE_OK)
		rc = db_exec(db, "PRAGMA foreign_keys = ON");
	return rc;
}

/* Open DIR/vtb.db. SQLite's unix VFS opens every file (database, -wal,
 * -shm) with O_CLOEXEC, so no descriptor leaks into the processes vtb
 * starts. On success *out is the caller's, to release with db_close. */
int db_open(const char *dir, struct db **out, char *why, size_t whylen)
{
	char path[PATH_MAX];
	struct db *db;
	int r, rc;

	*out = NULL;
	util_fmt(why, whylen, "%s", "");
	r = db_make_dir(dir, why, whylen);
	if (r)
		return r;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, DB_FILE) >= sizeof(path)) {
		util_fmt(why, whylen, "state directory path too long");
		return -ENAMETOOLONG;
	}
	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	r = -pthread_mutex_init(&db->lock, NULL);
	if (r)
		goto out_free;
	rc = sqlite3_open_v2(path, &db->conn,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = db_configure(db);
	if (rc == SQLITE_OK)
		rc = db_init_schema(db);
	if (rc == SQLITE_SCHEMA) {
		util_fmt(why, whylen, "%s was written by a newer vtb (schema version above %d)", path,
		       DB_SCHEMA_VERSION);
		r = -EPROTO;
		goto out_close;
	}
	if (rc != SQLITE_OK) {
		/* sqlite3_open_v2 leaves a handle with the message even on failure */
		util_fmt(why, whylen, "%s: %s", path,
		       db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
		r = db_errno(db->conn, rc);
		goto out_close;
	}
	*out = db;
	return 0;

out_close:
	sqlite3_close(db->conn);
	pthread_mutex_destroy(&db->lock);
out_free:
	free(db);
	return r;
}

/* Close the connection; accepts NULL. Every statement is finalized by the
 * call that prepared it, so the close cannot be refused as busy. */
void db_close(struct db *db)
{
	if (!db)
		return;
	sqlite3_close(db->conn);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

/* Fill e from a row of "SELECT id, name, model, state, owner_pid,
 * owner_start, created". */
static void db_exp_from_row(sqlite3_stmt *st, struct db_exp *e)
{
	memset(e, 0, sizeof(*e));
	db_col_copy(st, 0, e->id, sizeof(e->id));
	db_col_copy(st, 1, e->name, sizeof(e->name));
	db_col_copy(st, 2, e->model, sizeof(e->model));
	e->state = (enum db_exp_state)sqlite3_column_int(st, 3);
	e->owner_pid = (pid_t)sqlite3_column_int64(st, 4);
	e->owner_start = (uint64_t)sqlite3_column_int64(st, 5);
	e->created = sqlite3_column_double(st, 6);
}

#define DB_EXP_COLUMNS "id, name, model, state, owner_pid, owner_start, created"

/* Next candidate id: 16 random tries, then a walk through every id from the
 * last random one, so a nearly full table still yields its free ids. */
static int db_next_id(unsigned tries, unsigned *v)
{
	uint16_t rnd;
	ssize_t got;

	if (tries >= 16) {
		*v = (*v + 1) & 0xffff;
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

/* INSERT with fresh ids until the id is new: the primary key makes the
 * choice atomic against other processes. Returns 0, -EEXIST for a taken
 * name, -ENOSPC when all 65536 ids are in use, or another negative errno. */
static int db_exp_insert(struct db *db, const char *name, const char *model, pid_t owner,
			 uint64_t owner_start, struct db_exp *out)
{
	sqlite3_stmt *st = NULL;
	unsigned tries, v = 0;
	char id[DB_ID_LEN + 1];
	double now = util_clock_s(CLOCK_REALTIME);
	int r = -ENOSPC, rc;

	rc = db_prepare(db, "INSERT INTO experiments(" DB_EXP_COLUMNS ") VALUES(?,?,?,?,?,?,?)", &st);
	if (rc != SQLITE_OK)
		return db_errno(db->conn, rc);
	rc = sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, model ? model : "", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 4, DB_CREATING);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, owner);
	if (rc == SQLITE_OK)
		rc = db_bind_u64(st, 6, owner_start);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_double(st, 7, now);
	if (rc != SQLITE_OK) {
		r = rc == SQLITE_RANGE ? -ERANGE : db_errno(db->conn, rc);
		goto out_finalize;
	}
	for (tries = 0; tries < 16 + 0x10000; tries++) {
		r = db_next_id(tries, &v);
		if (r)
			break;
		snprintf(id, sizeof(id), "%04x", v);
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = db_step_done(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			r = 0;
			break;
		}
		if (rc != SQLITE_CONSTRAINT_PRIMARYKEY) {
			r = db_errno(db->conn, rc);
			break;
		}
		r = -ENOSPC; /* the id is taken: try the next */
	}
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

/* Look an experiment up by name. Returns 0, -ENOENT or a negative errno. */
/* The experiment that the query sql (with one parameter, value) selects. */
static int db_exp_by(struct db *db, const char *sql, const char *value, struct db_exp *out)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, sql, &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		db_exp_from_row(st, out);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_errno(db->conn, rc);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

int db_exp_find(struct db *db, const char *name, struct db_exp *out)
{
	return db_exp_by(db, "SELECT " DB_EXP_COLUMNS " FROM experiments WHERE name = ?", name, out);
}

int db_exp_get(struct db *db, const char *id, struct db_exp *out)
{
	return db_exp_by(db, "SELECT " DB_EXP_COLUMNS " FROM experiments WHERE id = ?", id, out);
}

/* Step st to its end, turning each row into the next elem-sized item of a
 * growing array with row(). On success *v (the caller frees it) and *n;
 * on failure the items made so far are released with release (free() when
 * NULL) and a negative errno is returned. */
static int db_collect(struct db *db, sqlite3_stmt *st, size_t elem,
		      int (*row)(sqlite3_stmt *, void *), void (*release)(void *, size_t),
		      void **v, size_t *n)
{
	char *arr = NULL;
	size_t cnt = 0, cap = 0;
	int r = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = util_grow((void **)&arr, &cap, cnt + 1, elem);
		if (r)
			goto out_fail;
		memset(arr + cnt * elem, 0, elem);
		r = row(st, arr + cnt++ * elem);
		if (r)
			goto out_fail;
	}
	if (rc != SQLITE_DONE) {
		r = db_errno(db->conn, rc);
		goto out_fail;
	}
	*v = arr;
	*n = cnt;
	return 0;
out_fail:
	if (release)
		release(arr, cnt);
	else
		free(arr);
	return r;
}

/* All experiments, oldest first, into a malloc'd array the caller frees.
 * On failure *v is NULL and *n 0. */
static int db_exp_row(sqlite3_stmt *st, void *item)
{
	db_exp_from_row(st, item);
	return 0;
}

int db_exp_list(struct db *db, struct db_exp **v, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*v = NULL;
	*n = 0;
	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "SELECT " DB_EXP_COLUMNS " FROM experiments ORDER BY created, rowid",
			&st);
	r = rc == SQLITE_OK ? db_collect(db, st, sizeof(**v), db_exp_row, NULL, (void **)v, n)
			    : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Run an UPDATE of one experiment: sql has the id as ?1 and vals[0..n) as
 * ?2, ?3... Returns 0, -ENOENT when no row matched, or a negative errno. */
static int db_exp_update(struct db *db, const char *sql, const char *id,
			 const sqlite3_int64 *vals, int n)
{
	sqlite3_stmt *st = NULL;
	int i, r, rc;

	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, sql, &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	for (i = 0; rc == SQLITE_OK && i < n; i++)
		rc = sqlite3_bind_int64(st, i + 2, vals[i]);
	if (rc == SQLITE_OK)
		rc = db_step_done(st);
	if (rc == SQLITE_DONE)
		r = sqlite3_changes(db->conn) ? 0 : -ENOENT;
	else
		r = db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Returns 0, -ENOENT for an unknown id, or a negative errno. */
int db_exp_set_state(struct db *db, const char *id, enum db_exp_state state)
{
	sqlite3_int64 v = state;

	return db_exp_update(db, "UPDATE experiments SET state = ?2 WHERE id = ?1", id, &v, 1);
}

/* Returns 0, -ENOENT for an unknown id, -ERANGE for a start time above
 * INT64_MAX, or a negative errno. */
int db_exp_set_owner(struct db *db, const char *id, pid_t pid, uint64_t start)
{
	sqlite3_int64 v[2] = { pid, (sqlite3_int64)start };

	if (start > INT64_MAX)
		return -ERANGE;
	return db_exp_update(db, "UPDATE experiments SET owner_pid = ?2, owner_start = ?3 WHERE id = ?1",
			     id, v, 2);
}

/* Store doc under (id, key), replacing an older one. The text is copied.
 * Returns 0, -ENOENT when there is no experiment id, or a negative errno. */
int db_exp_set_doc(struct db *db, const char *id, const char *key, const char *doc)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "INSERT OR REPLACE INTO docs(exp_id, key, doc) VALUES(?, ?, ?)", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = db_step_done(st);
	r = rc == SQLITE_DONE ? 0 : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Load the document (id, key) into a malloc'd string the caller frees.
 * Returns 0, -ENOENT or a negative errno (*doc NULL). */
int db_exp_get_doc(struct db *db, const char *id, const char *key, char **doc)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*doc = NULL;
	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "SELECT doc FROM docs WHERE exp_id = ? AND key = ?", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);

		/* column_text of NULL is NULL, also when out of memory */
		if (!s && sqlite3_errcode(db->conn) == SQLITE_NOMEM)
			r = -ENOMEM;
		else if (!(*doc = util_strndup(s ? s : "", s ? (size_t)sqlite3_column_bytes(st, 0) : 0)))
			r = -ENOMEM;
		else
			r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_errno(db->conn, rc);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Remove experiment id and every row that refers to it (documents,
 * journal, allocations, runs and results), in one
 * transaction. An id that is already gone is success. */
int db_exp_delete(struct db *db, const char *id)
{
	static const char *const sql[] = {
		"DELETE FROM docs WHERE exp_id = ?",
		"DELETE FROM journal WHERE exp_id = ?",
		"DELETE FROM allocations WHERE exp_id = ?",
		"DELETE FROM results WHERE exp_id = ?",
		"DELETE FROM runs WHERE exp_id = ?",
		"DELETE FROM experiments WHERE id = ?",
	};
	sqlite3_stmt *st;
	size_t i;
	int rc;

	pthread_mutex_lock(&db->lock);
	rc = db_exec(db, "BEGIN IMMEDIATE");
	for (i = 0; rc == SQLITE_OK && i < UTIL_ARRAY_SIZE(sql); i++) {
		st = NULL;
		rc = db_prepare(db, sql[i], &st);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = db_step_done(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_OK)
		rc = db_exec(db, "COMMIT");
	if (rc != SQLITE_OK) {
		rc = db_errno(db->conn, rc);
		db_rollback(db);
	}
	pthread_mutex_unlock(&db->lock);
	return rc;
}

/* Run a query of one integer with the experiment id as its parameter
 * (SELECT COALESCE(MAX(...), 0) ... WHERE exp_id = ?) into *out. Returns an
 * SQLite code. */
static int db_query_int(struct db *db, const char *sql, const char *id, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, sql, &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The highest seq journaled for id (0 if none) into *seq. */
static int db_journal_max(struct db *db, const char *id, int64_t *seq)
{
	return db_query_int(db, "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE exp_id = ?", id,
			    seq);
}

/* Bind one journal object to the INSERT (exp_id already bound as ?1). */
static int db_journal_bind(sqlite3_stmt *st, const struct db_obj *o)
{
	int rc = sqlite3_bind_int64(st, 2, o->seq);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 3, (int)o->kind);
	if (rc == SQLITE_OK)
		rc = db_bind_field(st, 4, o->name, sizeof(o->name));
	if (rc == SQLITE_OK)
		rc = db_bind_field(st, 5, o->ns, sizeof(o->ns));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, o->pid);
	if (rc == SQLITE_OK)
		rc = db_bind_u64(st, 7, o->start);
	return rc;
}

/* Journal objs[0..n) of experiment id with seq max+1, max+2, ... (written
 * back into objs[i].seq) in one write transaction with one statement, which
 * is what keeps bring-up of thousands of objects fast. On failure nothing is
 * journaled. Returns 0, -ENOENT for an unknown id, or a negative errno. */
int db_journal_add(struct db *db, const char *id, struct db_obj *objs, size_t n)
{
	sqlite3_stmt *st = NULL;
	int64_t seq = 0;
	size_t i;
	int r, rc;

	if (!n)
		return 0;
	pthread_mutex_lock(&db->lock);
	rc = db_exec(db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = db_journal_max(db, id, &seq);
	if (rc == SQLITE_OK)
		rc = db_prepare(db, "INSERT INTO journal(exp_id, seq, kind, name, ns, pid, start)"
				    " VALUES(?, ?, ?, ?, ?, ?, ?)", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	for (i = 0; rc == SQLITE_OK && i < n; i++) {
		objs[i].seq = seq + 1 + (int64_t)i;
		rc = db_journal_bind(st, &objs[i]);
		if (rc == SQLITE_OK)
			rc = db_step_done(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = db_exec(db, "COMMIT");
	r = rc == SQLITE_OK ? 0 : rc == SQLITE_RANGE ? -ERANGE : db_errno(db->conn, rc);
	if (r)
		db_rollback(db);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Fill o from a row of "SELECT seq, kind, name, ns, pid, start". */
static void db_obj_from_row(sqlite3_stmt *st, struct db_obj *o)
{
	memset(o, 0, sizeof(*o));
	o->seq = sqlite3_column_int64(st, 0);
	o->kind = (enum db_obj_kind)sqlite3_column_int(st, 1);
	db_col_copy(st, 2, o->name, sizeof(o->name));
	db_col_copy(st, 3, o->ns, sizeof(o->ns));
	o->pid = (pid_t)sqlite3_column_int64(st, 4);
	o->start = (uint64_t)sqlite3_column_int64(st, 5);
}

/* The journal of id by ascending seq, into a malloc'd array the caller
 * frees (NULL and 0 when empty or on failure). */
static int db_obj_row(sqlite3_stmt *st, void *item)
{
	db_obj_from_row(st, item);
	return 0;
}

int db_journal_list(struct db *db, const char *id, struct db_obj **v, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*v = NULL;
	*n = 0;
	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "SELECT seq, kind, name, ns, pid, start FROM journal"
			    " WHERE exp_id = ? ORDER BY seq", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = rc == SQLITE_OK ? db_collect(db, st, sizeof(**v), db_obj_row, NULL, (void **)v, n)
			    : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Forget journal entry (id, seq). One that is already gone is success. */
int db_journal_remove(struct db *db, const char *id, int64_t seq)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "DELETE FROM journal WHERE exp_id = ? AND seq = ?", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, seq);
	if (rc == SQLITE_OK)
		rc = db_step_done(st);
	r = rc == SQLITE_DONE ? 0 : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Record that experiment id holds cores and memory on node. Returns 0,
 * -ENOENT for an unknown id, -ERANGE for quantities above INT64_MAX, or a
 * negative errno. */
int db_alloc_add(struct db *db, const char *id, const char *node, uint64_t cores, uint64_t memory)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "INSERT INTO allocations(exp_id, node, cores, memory) VALUES(?, ?, ?, ?)",
			&st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, node ? node : "", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = db_bind_u64(st, 3, cores);
	if (rc == SQLITE_OK)
		rc = db_bind_u64(st, 4, memory);
	if (rc == SQLITE_OK)
		rc = db_step_done(st);
	r = rc == SQLITE_DONE ? 0 : rc == SQLITE_RANGE ? -ERANGE : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Sum the allocations of every experiment but except (NULL: of all). */
int db_alloc_used(struct db *db, const char *except, uint64_t *cores, uint64_t *memory)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*cores = 0;
	*memory = 0;
	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "SELECT COALESCE(SUM(cores), 0), COALESCE(SUM(memory), 0)"
			    " FROM allocations WHERE ?1 IS NULL OR exp_id <> ?1", &st);
	if (rc == SQLITE_OK)
		rc = except ? sqlite3_bind_text(st, 1, except, -1, SQLITE_STATIC)
			    : sqlite3_bind_null(st, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*cores = (uint64_t)sqlite3_column_int64(st, 0);
		*memory = (uint64_t)sqlite3_column_int64(st, 1);
		r = 0;
	} else {
		r = db_errno(db->conn, rc);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* The next run number of id into *run, inside the caller's transaction.
 * Returns an SQLite code. */
static int db_run_next(struct db *db, const char *id, int64_t *run)
{
	return db_query_int(db, "SELECT COALESCE(MAX(run), 0) + 1 FROM runs WHERE exp_id = ?", id,
			    run);
}

/* Number and insert the run in one write transaction, so two vtb run of
 * the same experiment never get the same number. */
int db_run_begin(struct db *db, const char *id, int64_t *run)
{
	sqlite3_stmt *st = NULL;
	int64_t next = 0;
	int r, rc;

	*run = 0;
	pthread_mutex_lock(&db->lock);
	rc = db_exec(db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = db_run_next(db, id, &next);
	if (rc == SQLITE_OK)
		rc = db_prepare(db, "INSERT INTO runs(exp_id, run, started, ended, status)"
				    " VALUES(?, ?, ?, 0, 'running')", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, next);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_double(st, 3, util_clock_s(CLOCK_REALTIME));
	if (rc == SQLITE_OK)
		rc = db_step_done(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		rc = db_exec(db, "COMMIT");
	r = rc == SQLITE_OK ? 0 : db_errno(db->conn, rc);
	if (r)
		db_rollback(db);
	else
		*run = next;
	pthread_mutex_unlock(&db->lock);
	return r;
}

int db_run_end(struct db *db, const char *id, int64_t run, const char *status)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "UPDATE runs SET ended = ?, status = ? WHERE exp_id = ? AND run = ?",
			&st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_double(st, 1, util_clock_s(CLOCK_REALTIME));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, run);
	if (rc == SQLITE_OK)
		rc = db_step_done(st);
	if (rc == SQLITE_DONE)
		r = sqlite3_changes(db->conn) ? 0 : -ENOENT;
	else
		r = db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* Bind a possibly NULL string as text ("" for NULL). */
static int db_bind_str(sqlite3_stmt *st, int idx, const char *s)
{
	return sqlite3_bind_text(st, idx, s ? s : "", -1, SQLITE_STATIC);
}

/* Bind len bytes of data as a blob (an empty blob for none). */
static int db_bind_blob(sqlite3_stmt *st, int idx, const char *data, size_t len)
{
	if (len > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_blob(st, idx, len ? data : "", (int)len, SQLITE_STATIC);
}

/* Bind every column of r to the INSERT of db_result_add (id is ?1). */
static int db_result_bind(sqlite3_stmt *st, const struct db_result *r)
{
	int rc = sqlite3_bind_int64(st, 2, r->run);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, r->seq);
	if (rc == SQLITE_OK)
		rc = db_bind_str(st, 4, r->task);
	if (rc == SQLITE_OK)
		rc = db_bind_str(st, 5, r->node);
	if (rc == SQLITE_OK)
		rc = db_bind_str(st, 6, r->cmd);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 7, r->start_ns);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, r->end_ns);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 9, r->exit);
	if (rc == SQLITE_OK)
		rc = db_bind_field(st, 10, r->status, sizeof(r->status));
	if (rc == SQLITE_OK)
		rc = db_bind_blob(st, 11, r->out, r->outlen);
	if (rc == SQLITE_OK)
		rc = db_bind_blob(st, 12, r->err, r->errlen);
	return rc;
}

int db_result_add(struct db *db, const char *id, const struct db_result *r)
{
	sqlite3_stmt *st = NULL;
	int ret, rc;

	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "INSERT INTO results(exp_id, run, seq, task, node, cmd, start_ns, end_ns,"
			    " exit, status, stdout, stderr) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = db_result_bind(st, r);
	if (rc == SQLITE_OK)
		rc = db_step_done(st);
	ret = rc == SQLITE_DONE ? 0 : rc == SQLITE_TOOBIG ? -E2BIG : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return ret;
}

/* Fill a struct db_run from a row of db_run_list's query. */
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

int db_run_list(struct db *db, const char *id, struct db_run **v, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*v = NULL;
	*n = 0;
	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "SELECT run, started, ended, status,"
			    " (SELECT task FROM results AS s WHERE s.exp_id = runs.exp_id"
			    "  AND s.run = runs.run AND s.status <> 'ok' ORDER BY seq LIMIT 1)"
			    " FROM runs WHERE exp_id = ? ORDER BY run", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = rc == SQLITE_OK ? db_collect(db, st, sizeof(**v), db_run_row, NULL, (void **)v, n)
			    : db_errno(db->conn, rc);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return r;
}

/* A malloc'd copy of column col (text or blob) with a NUL after it, its
 * length in *len (if len). NULL when out of memory. */
static char *db_col_dup(sqlite3_stmt *st, int col, size_t *len)
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

/* Fill r from a row of "SELECT run, seq, task, node, cmd, start_ns, end_ns,
 * exit, status, stdout, stderr". Returns 0 or -ENOMEM. */
static int db_result_from_row(sqlite3_stmt *st, struct db_result *r)
{
	memset(r, 0, sizeof(*r));
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

static int db_result_row(sqlite3_stmt *st, void *item)
{
	return db_result_from_row(st, item);
}

static void db_results_release(void *arr, size_t n)
{
	db_results_free(arr, n);
}

int db_result_list(struct db *db, const char *id, int64_t run, struct db_result **v, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*v = NULL;
	*n = 0;
	pthread_mutex_lock(&db->lock);
	rc = db_prepare(db, "SELECT run, seq, task, node, cmd, start_ns, end_ns, exit, status,"
			    " stdout, stderr FROM results WHERE exp_id = ?1 AND (?2 = 0 OR run = ?2)"
			    " ORDER BY run, seq", &st);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, run);
	r = rc == SQLITE_OK ? db_collect(db, st, sizeof(**v), db_result_row, db_results_release,
					 (void **)v, n)
			    : db_errno(db->conn, rc);
	sqlite3_finalize(st);
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

/* Field 22 (starttime, clock ticks after boot) of /proc/PID/stat, or 0.
 * The comm field (2) is in parentheses and may itself hold spaces and
 * parentheses, so parsing starts after the LAST ')'; the fields after it
 * have none. */
