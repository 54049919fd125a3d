/* db: vtb's state, one SQLite database in the state directory
 * (/var/lib/vtb, or $VTB_STATE_DIR): the experiments, the journal of the
 * kernel objects and processes each one created, the allocation table, and
 * the results of vtb run.
 *
 * A struct db is one connection, safe to share between threads (calls are
 * serialised by a mutex). Every write is committed before the call returns,
 * so it survives kill -9 of the process (WAL, synchronous=NORMAL). */
#ifndef VTB_DB_H
#define VTB_DB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DB_DEFAULT_DIR "/var/lib/vtb"
#define DB_ID_LEN 4 /* hex digits of an experiment id */

struct db;

enum db_exp_state { DB_CREATING, DB_UP, DB_FAILED, DB_REMOVING };

struct db_exp {
	char id[DB_ID_LEN + 1];
	char name[128];
	enum db_exp_state state;
	pid_t owner_pid;          /* the vtb up (down, clean) acting on it; the supervisor once up */
	uint64_t owner_start;     /* its start time (/proc/PID/stat field 22), against pid reuse */
	char model[512];          /* the model file as given */
	double created;           /* unix time */
};

enum db_obj_kind { DB_NETNS, DB_LINK, DB_BRIDGE, DB_PROCESS, DB_FILE, DB_CGROUP };

/* A journaled object: what teardown must remove. */
struct db_obj {
	int64_t seq;              /* order of creation */
	enum db_obj_kind kind;
	char name[128];           /* netns name, link name, file path, cgroup directory; process: its name */
	char ns[128];             /* DB_LINK: the netns it lives in ("" = root) */
	pid_t pid;                /* DB_PROCESS */
	uint64_t start;           /* DB_PROCESS: start time, against pid reuse */
	/* what the kernel answered when the object was made, checked before
	 * it is removed: DB_NETNS the namespace's inode, DB_LINK and DB_BRIDGE
	 * the ifindex, DB_FILE the inode; 0 when not known (recorded after the
	 * creation: a crash in between, an older vtb, a recovered journal);
	 * stored as SQLite's signed 64 bits, read back as these */
	uint64_t ident;
};

/* The state directory: $VTB_STATE_DIR or DB_DEFAULT_DIR. */
const char *db_state_dir(void);

/* Open (creating the directory 0700 and the schema if needed). Returns 0 or
 * a negative errno; *why gets SQLite's own words when it failed. */
int db_open(const char *dir, struct db **out, char *why, size_t whylen);
void db_close(struct db *db);

/* Add an experiment with a fresh id unique among those in the database.
 * Returns 0, -EEXIST when the name is taken, or a negative errno. */
int db_exp_create(struct db *db, const char *name, const char *model, pid_t owner,
		  uint64_t owner_start, struct db_exp *out);
int db_exp_find(struct db *db, const char *name, struct db_exp *out); /* -ENOENT */
/* Record experiment id, which this database lost (see exec/orphans.h), as
 * name in state DB_REMOVING with no owner, so that teardown can remove it.
 * Returns 0 with *out, -EEXIST when the id or name is known, or -errno. */
int db_exp_adopt(struct db *db, const char *id, const char *name, struct db_exp *out);
int db_exp_get(struct db *db, const char *id, struct db_exp *out);    /* by id; -ENOENT */
/* All experiments, oldest first; *v is freed by the caller. */
int db_exp_list(struct db *db, struct db_exp **v, size_t *n);
int db_exp_set_state(struct db *db, const char *id, enum db_exp_state state);
int db_exp_set_owner(struct db *db, const char *id, pid_t pid, uint64_t start);
/* Both in one write: the owner is the vtb process acting on the
 * experiment (vtb up while it is creating, vtb down or clean while it is
 * removing) or, once up, its supervisor; vtb clean takes over an
 * experiment whose owner is gone. */
int db_exp_set_state_owner(struct db *db, const char *id, enum db_exp_state state, pid_t pid,
			   uint64_t start);
/* Store / load an opaque document with the experiment (the XIR JSON and the
 * realization, so status and teardown need not recompile the model). */
int db_exp_set_doc(struct db *db, const char *id, const char *key, const char *doc);
int db_exp_get_doc(struct db *db, const char *id, const char *key, char **doc); /* -ENOENT */
/* Remove the experiment, its journal, documents and allocations. */
int db_exp_delete(struct db *db, const char *id);

/* Journal objects (in one transaction), before they are created. seq is
 * assigned in order. */
int db_journal_add(struct db *db, const char *id, struct db_obj *objs, size_t n);
/* The journal of an experiment in creation order; *v freed by the caller. */
int db_journal_list(struct db *db, const char *id, struct db_obj **v, size_t *n);
/* Forget one object (after it was removed). */
int db_journal_remove(struct db *db, const char *id, int64_t seq);
/* Record the ident of every objs[i] (by its seq) that has one, in one
 * transaction. */
int db_journal_ident(struct db *db, const char *id, const struct db_obj *objs, size_t n);

/* The allocation table: what each experiment holds of this host. */
int db_alloc_add(struct db *db, const char *id, const char *node, uint64_t cores, uint64_t memory);
/* Totals held by every experiment but `except` (NULL: all). */
int db_alloc_used(struct db *db, const char *except, uint64_t *cores, uint64_t *memory);

/* One run of an experiment's tasks (vtb run). */
struct db_run {
	int64_t run;              /* 1, 2, ... per experiment */
	double started, ended;    /* unix time; ended is 0 while it runs */
	char status[16];          /* "running", "ok", "failed", "interrupted", "error" */
	char failed_task[128];    /* the task of its first result that is not ok, or "" */
};

/* The result of one command of a run. The strings belong to the struct
 * (db_result_list allocates them; db_results_free releases them). */
struct db_result {
	int64_t run, seq;         /* seq: order within the run, from 1 */
	char *task, *node, *cmd;
	int64_t start_ns, end_ns; /* CLOCK_REALTIME, nanoseconds */
	int exit;                 /* exit code; 128 + N when killed by signal N */
	char status[16];          /* "ok", "failed", "timeout", "expect" */
	char *out, *err;          /* stdout and stderr (not NUL-terminated: use the lengths) */
	size_t outlen, errlen;
};

/* Start run number max + 1 of experiment id (status "running", started
 * now) and put its number in *run. Returns 0, -ENOENT for an unknown id, or
 * a negative errno. */
int db_run_begin(struct db *db, const char *id, int64_t *run);
/* Set the run's status and end time (now). -ENOENT for an unknown run. */
int db_run_end(struct db *db, const char *id, int64_t run, const char *status);
/* Add one result of a run (r->run, r->seq and the rest as given; NULL
 * strings are stored as empty). Returns 0, -EEXIST for a seq already
 * stored, -ENOENT for an unknown id, or a negative errno. */
int db_result_add(struct db *db, const char *id, const struct db_result *r);
/* The runs of id, oldest first; *v freed by the caller. */
int db_run_list(struct db *db, const char *id, struct db_run **v, size_t *n);
/* The results of run (or of every run when run is 0) in run and seq order;
 * release with db_results_free. */
int db_result_list(struct db *db, const char *id, int64_t run, struct db_result **v, size_t *n);
void db_results_free(struct db_result *v, size_t n);

/* A value of a run (vtb results): a parameter (seq 0: "r1-r2.latency" =
 * "10ms") or a measurement of its result seq ("rtt" = "10.4"). */
struct db_value {
	int64_t run, seq;
	char name[64];
	char value[64];
};
/* Store one value of run (replacing the one of the same run, seq and
 * name). Returns 0, -ENOENT for an unknown id, or a negative errno. */
int db_value_add(struct db *db, const char *id, int64_t run, int64_t seq, const char *name,
		 const char *value);
/* The values of every run of id in run, seq and insertion order; *v (NULL
 * when none) is the caller's to free. */
int db_value_list(struct db *db, const char *id, struct db_value **v, size_t *n);


#endif
