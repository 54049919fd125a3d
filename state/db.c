/* db: opening and closing vtb's state database (see db.h): the state
 * directory, the connection settings and the schema.
 *
 * A struct db holds one connection and a mutex that serialises the calls
 * on it, so a multi-statement transaction of one thread never interleaves
 * with another's. Other processes (the CLI, supervisors) use their own
 * connections; SQLite's locks and a busy timeout arbitrate. The tables are
 * kept by db_exp.c, db_journal.c and db_runs.c, every statement run by
 * db_stmt.c. */
#include "db_int.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define DB_FILE "vtb.db"
#define DB_SCHEMA_VERSION 4
/* How long a statement waits for another process's lock before -EBUSY: a
 * bring-up journals thousands of objects in one transaction, which takes a
 * second or two on a slow disk; 5 s covers that with room. */
#define DB_BUSY_MS 5000

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

/* Version 3 records each journaled object's identity in the kernel (struct
 * db_obj's ident); rows of older versions read 0, not known. */
static const char db_schema_v3[] =
	"ALTER TABLE journal ADD COLUMN ident INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 3;";

/* Version 4 adds the values of a run (vtb results): its parameters (seq 0:
 * a --sweep's "r1-r2.latency" = "10ms") and what its commands measured
 * (seq: the result's, name: the measurement's, value: a number's text). */
static const char db_schema_v4[] =
	"CREATE TABLE IF NOT EXISTS run_values("
	" exp_id TEXT NOT NULL REFERENCES experiments(id),"
	" run INTEGER NOT NULL,"
	" seq INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" value TEXT,"
	" PRIMARY KEY(exp_id, run, seq, name));"
	"PRAGMA user_version = 4;";

/* $VTB_STATE_DIR when set and not empty, else DB_DEFAULT_DIR. */
const char *db_state_dir(void)
{
	const char *d = getenv("VTB_STATE_DIR");

	return d && *d ? d : DB_DEFAULT_DIR;
}

/* One component of the state directory's path, as OpenSSH's StrictModes
 * checks it: owned by root or by us, and writable by nobody else; an
 * ancestor may be writable by everyone when it is sticky (/tmp), where no
 * one can rename or delete what is ours. 0 or -EPERM with why. */
static int db_check_component(const char *path, bool last, char *why, size_t whylen)
{
	struct stat sb;
	mode_t mode;

	if (stat(path, &sb) < 0) {
		int err = errno;

		util_fmt(why, whylen, "%s: %s", path, strerror(err));
		return -err;
	}
	mode = sb.st_mode & 07777;
	if (!S_ISDIR(sb.st_mode)) {
		util_fmt(why, whylen, "state directory %s is not a directory", path);
		return -ENOTDIR;
	}
	if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		util_fmt(why, whylen, "%s (on the state directory's path) belongs to uid %u, not to root; "
			 "refusing to keep vtb's state there (set VTB_STATE_DIR)", path,
			 (unsigned)sb.st_uid);
		return -EPERM;
	}
	if ((mode & 022) && (last || !(mode & S_ISVTX))) {
		util_fmt(why, whylen, "%s%s is writable by %s (mode %04o); refusing to keep vtb's "
			 "state there (chmod go-w, or set VTB_STATE_DIR)", last ? "state directory " : "",
			 path, mode & S_IWOTH ? "every user" : "its group", (unsigned)mode);
		return -EPERM;
	}
	return 0;
}

/* The state directory and every directory above it (links resolved) must
 * be trusted: else whoever controls one could plant a vtb.db whose journal
 * makes vtb clean delete their choice, or links where vtb writes files. */
static int db_check_dir(const char *dir, char *why, size_t whylen)
{
	char real[PATH_MAX];
	size_t i, len;
	int r;

	if (!realpath(dir, real)) {
		int err = errno;

		util_fmt(why, whylen, "%s: %s", dir, strerror(err));
		return -err;
	}
	len = strlen(real);
	r = db_check_component("/", len == 1, why, whylen);
	for (i = 1; !r && i <= len; i++) {
		if (i < len && real[i] != '/')
			continue;
		real[i] = '\0';
		r = db_check_component(real, i == len, why, whylen);
		if (i < len)
			real[i] = '/';
	}
	return r;
}

/* mkdir -p -m 0700 dir: missing parents get the default mode, dir itself
 * 0700. Then refuse a directory that anyone may write to: another user
 * could replace the database or plant a symlink in its place.
 * Returns 0, -EPERM, -ENOTDIR or the errno of mkdir/stat. */
static int db_make_dir(const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX];
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
		if (mkdir(path, last ? 0700 : 0755) < 0 && errno != EEXIST) {
			int err = errno;

			util_fmt(why, whylen, "cannot create directory %s: %s", path, strerror(err));
			return -err;
		}
		if (!last)
			path[i] = '/';
	}
	return db_check_dir(dir, why, whylen);
}

/* Create the tables in a fresh database, or add those of newer versions to
 * an older one (the body of db_init_schema's transaction). Returns 0,
 * -EPROTO for a database from a newer vtb, or a negative errno. */
static int db_schema_tx(struct db *db, void *arg)
{
	int64_t version = 0;
	int r;

	(void)arg;
	r = db_stmt_int(db, "PRAGMA user_version", NULL, 0, &version);
	if (r)
		return r;
	if (version > DB_SCHEMA_VERSION)
		return -EPROTO;
	if (version == 0 && sqlite3_exec(db->conn, db_schema, NULL, NULL, NULL) != SQLITE_OK)
		return db_errno(db->conn, sqlite3_extended_errcode(db->conn));
	if (version < 2 && sqlite3_exec(db->conn, db_schema_v2, NULL, NULL, NULL) != SQLITE_OK)
		return db_errno(db->conn, sqlite3_extended_errcode(db->conn));
	if (version < 3 && sqlite3_exec(db->conn, db_schema_v3, NULL, NULL, NULL) != SQLITE_OK)
		return db_errno(db->conn, sqlite3_extended_errcode(db->conn));
	if (version < 4 && sqlite3_exec(db->conn, db_schema_v4, NULL, NULL, NULL) != SQLITE_OK)
		return db_errno(db->conn, sqlite3_extended_errcode(db->conn));
	return 0;
}

/* The schema, once: the version check and the creation share one write
 * transaction, so two processes opening a new database at once do not both
 * create. Returns as db_schema_tx. */
static int db_init_schema(struct db *db)
{
	return db_tx_unlocked(db, db_schema_tx, NULL);
}

/* Connection settings: WAL so readers do not block the writer and a commit
 * is in the file (if not yet on the disk) when it returns, which is what
 * surviving kill -9 needs. The busy timeout comes first because switching
 * to WAL needs a lock another process may hold. Returns 0 or a negative
 * errno. */
static int db_configure(struct db *db)
{
	static const char *const pragmas[] = {
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = NORMAL",
		"PRAGMA foreign_keys = ON",
	};
	size_t i;
	int rc;

	sqlite3_extended_result_codes(db->conn, 1);
	rc = sqlite3_busy_timeout(db->conn, DB_BUSY_MS);
	for (i = 0; rc == SQLITE_OK && i < UTIL_ARRAY_SIZE(pragmas); i++)
		rc = sqlite3_exec(db->conn, pragmas[i], NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_errno(db->conn, rc);
}

/* Open the connection to path and make it ready. Returns 0 or a negative
 * errno with SQLite's words (or the schema problem) in why. */
static int db_connect(struct db *db, const char *path, char *why, size_t whylen)
{
	struct stat sb;
	int r, rc;

	/* a database someone else could have written is not vtb's journal */
	if (!lstat(path, &sb) && (!S_ISREG(sb.st_mode) || (sb.st_uid != 0 && sb.st_uid != geteuid()) ||
				  (sb.st_mode & 022))) {
		util_fmt(why, whylen, "%s is not a file only vtb (root) can have written (%s, uid %u, "
			 "mode %04o); refusing to act on its journal", path,
			 S_ISLNK(sb.st_mode) ? "a symbolic link" : S_ISREG(sb.st_mode) ? "a file" : "not a file",
			 (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	rc = sqlite3_open_v2(path, &db->conn,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
				     SQLITE_OPEN_NOFOLLOW, NULL);
	r = rc == SQLITE_OK ? 0 : db_errno(db->conn, rc);
	if (!r)
		r = db_configure(db);
	if (!r)
		r = db_init_schema(db);
	if (r == -EPROTO)
		util_fmt(why, whylen, "%s was written by a newer vtb (schema version above %d)", path,
			 DB_SCHEMA_VERSION);
	else if (r)
		/* sqlite3_open_v2 leaves a handle with the message even on failure */
		util_fmt(why, whylen, "%s: %s", path,
			 db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
	return r;
}

/* Open DIR/vtb.db. SQLite's unix VFS opens every file (database, -wal,
 * -shm) with O_CLOEXEC, so no descriptor leaks into the processes vtb
 * starts. On success *out is the caller's, to release with db_close. */
int db_open(const char *dir, struct db **out, char *why, size_t whylen)
{
	char path[PATH_MAX];
	struct db *db;
	int r;

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
	r = db_connect(db, path, why, whylen);
	if (r)
		goto out_close;
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
