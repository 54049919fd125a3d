/* test_db_runs: the results of vtb run in the state database: run numbers,
 * results with binary output, listing, the failed task of a run, deletion
 * with the experiment, and the upgrade of a version 1 database. */
#include "unit.h"

#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

static int setup(void **state)
{
	char *dir = strdup("/tmp/vtb-test-runs.XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	int r = nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(*state);
	return r;
}

static struct db *open_ok(const char *dir)
{
	char why[256] = "";
	struct db *db = NULL;

	assert_int_equal(db_open(dir, &db, why, sizeof(why)), 0);
	return db;
}

static struct db_result result(int64_t run, int64_t seq, const char *task, const char *status)
{
	struct db_result r = {
		.run = run, .seq = seq, .task = (char *)task, .node = "a", .cmd = "echo hi",
		.start_ns = 1000 * seq, .end_ns = 2000 * seq, .exit = 0,
		.out = "hi\n", .outlen = 3, .err = "", .errlen = 0,
	};

	snprintf(r.status, sizeof(r.status), "%s", status);
	return r;
}

static void test_runs_numbered(void **state)
{
	struct db *db = open_ok(*state);
	struct db_exp e, f;
	struct db_run *runs = NULL;
	int64_t run;
	size_t n;

	assert_int_equal(db_exp_create(db, "x", "m.vtb", getpid(), 1, &e), 0);
	assert_int_equal(db_exp_create(db, "y", "m.vtb", getpid(), 1, &f), 0);
	assert_int_equal(db_run_begin(db, e.id, &run), 0);
	assert_int_equal(run, 1);
	assert_int_equal(db_run_begin(db, e.id, &run), 0);
	assert_int_equal(run, 2);
	assert_int_equal(db_run_begin(db, f.id, &run), 0);
	assert_int_equal(run, 1); /* numbered per experiment */
	assert_int_equal(db_run_end(db, e.id, 1, "ok"), 0);
	assert_int_equal(db_run_end(db, e.id, 9, "ok"), -ENOENT);
	assert_int_equal(db_run_begin(db, "zzzz", &run), -ENOENT);
	assert_int_equal(db_run_list(db, e.id, &runs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(runs[0].run, 1);
	assert_string_equal(runs[0].status, "ok");
	assert_true(runs[0].ended >= runs[0].started && runs[0].started > 0);
	assert_string_equal(runs[1].status, "running");
	assert_true(runs[1].ended == 0);
	free(runs);
	db_close(db);
}

static void test_results(void **state)
{
	struct db *db = open_ok(*state);
	struct db_result r, *v = NULL;
	struct db_run *runs = NULL;
	struct db_exp e;
	int64_t run;
	size_t n;
	const char bin[] = { 'a', 0, (char)0xff, 'b' };

	assert_int_equal(db_exp_create(db, "x", "m.vtb", getpid(), 1, &e), 0);
	assert_int_equal(db_run_begin(db, e.id, &run), 0);
	r = result(run, 1, "one", "ok");
	assert_int_equal(db_result_add(db, e.id, &r), 0);
	assert_int_equal(db_result_add(db, e.id, &r), -EEXIST);
	r = result(run, 2, "two", "timeout");
	r.out = (char *)bin;
	r.outlen = sizeof(bin);
	r.exit = 143;
	assert_int_equal(db_result_add(db, e.id, &r), 0);
	r = result(run, 3, "three", "expect");
	assert_int_equal(db_result_add(db, e.id, &r), 0);
	assert_int_equal(db_run_begin(db, e.id, &run), 0);
	r = result(run, 1, "one", "ok");
	assert_int_equal(db_result_add(db, e.id, &r), 0);

	assert_int_equal(db_result_list(db, e.id, 1, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].task, "one");
	assert_string_equal(v[0].node, "a");
	assert_string_equal(v[0].cmd, "echo hi");
	assert_int_equal(v[0].outlen, 3);
	assert_memory_equal(v[0].out, "hi\n", 3);
	assert_int_equal(v[1].outlen, sizeof(bin));
	assert_memory_equal(v[1].out, bin, sizeof(bin)); /* binary output survives */
	assert_int_equal(v[1].exit, 143);
	assert_int_equal(v[1].start_ns, 2000);
	assert_int_equal(v[1].end_ns, 4000);
	assert_string_equal(v[1].status, "timeout");
	db_results_free(v, n);
	assert_int_equal(db_result_list(db, e.id, 0, &v, &n), 0);
	assert_int_equal(n, 4); /* every run */
	assert_int_equal(v[3].run, 2);
	db_results_free(v, n);

	assert_int_equal(db_run_list(db, e.id, &runs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(runs[0].failed_task, "two"); /* the first that is not ok */
	assert_string_equal(runs[1].failed_task, "");
	free(runs);

	/* deleting the experiment deletes its runs and results */
	assert_int_equal(db_exp_delete(db, e.id), 0);
	assert_int_equal(db_run_list(db, e.id, &runs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(db_result_list(db, e.id, 0, &v, &n), 0);
	assert_int_equal(n, 0);
	db_close(db);
}

/* A version 1 database (no runs tables) gets them when opened. */
static void test_upgrade_v1(void **state)
{
	char path[256];
	sqlite3 *conn;
	struct db *db;
	struct db_exp e;
	int64_t run;

	struct db_obj row = { .kind = DB_NETNS, .name = "vtbold", .ident = 7 }, *rows = NULL;
	size_t n = 0;

	db = open_ok(*state);
	assert_int_equal(db_exp_create(db, "old", "m.vtb", getpid(), 1, &e), 0);
	assert_int_equal(db_journal_add(db, e.id, &row, 1), 0);
	db_close(db);
	/* what version 1 was: no runs, no results, no journal idents */
	snprintf(path, sizeof(path), "%s/vtb.db", (char *)*state);
	assert_int_equal(sqlite3_open(path, &conn), SQLITE_OK);
	assert_int_equal(sqlite3_exec(conn, "DROP TABLE results; DROP TABLE runs;"
				      " ALTER TABLE journal DROP COLUMN ident;"
				      " PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(conn);

	db = open_ok(*state);
	assert_int_equal(db_exp_find(db, "old", &e), 0);
	assert_int_equal(db_run_begin(db, e.id, &run), 0);
	assert_int_equal(run, 1);
	/* an old row's ident is not known, and a new one can be recorded */
	assert_int_equal(db_journal_list(db, e.id, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].ident, 0);
	rows[0].ident = 0xF0000001F0000002ULL; /* two namespace inodes */
	assert_int_equal(db_journal_ident(db, e.id, rows, 1), 0);
	free(rows);
	assert_int_equal(db_journal_list(db, e.id, &rows, &n), 0);
	assert_int_equal(rows[0].ident, 0xF0000001F0000002ULL);
	free(rows);
	db_close(db);
}

/* A run's parameters and measurements: stored for a run that exists,
 * listed in run and seq order, gone with the experiment; a version 3
 * database gets the table when opened. */
static void test_values(void **state)
{
	struct db_value *v = NULL;
	struct db_exp e;
	struct db *db;
	int64_t run;
	size_t n = 0;
	char path[256];
	sqlite3 *conn;

	db = open_ok(*state);
	assert_int_equal(db_exp_create(db, "vals", "m.vtb", getpid(), 1, &e), 0);
	db_close(db);
	snprintf(path, sizeof(path), "%s/vtb.db", (char *)*state);
	assert_int_equal(sqlite3_open(path, &conn), SQLITE_OK);
	assert_int_equal(sqlite3_exec(conn, "DROP TABLE run_values; PRAGMA user_version = 3;", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(conn);
	db = open_ok(*state);
	assert_int_equal(db_value_add(db, e.id, 1, 0, "a-b.latency", "1ms"), -ENOENT);
	assert_int_equal(db_run_begin(db, e.id, &run), 0);
	assert_int_equal(db_value_add(db, e.id, run, 2, "rtt", "10.5"), 0);
	assert_int_equal(db_value_add(db, e.id, run, 0, "a-b.latency", "5ms"), 0);
	assert_int_equal(db_value_add(db, e.id, run, 0, "a-b.loss", "0"), 0);
	assert_int_equal(db_value_add(db, e.id, run, 2, "rtt", "10.6"), 0); /* replaced */
	assert_int_equal(db_value_list(db, e.id, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "a-b.latency");
	assert_string_equal(v[0].value, "5ms");
	assert_string_equal(v[1].name, "a-b.loss");
	assert_int_equal(v[2].seq, 2);
	assert_string_equal(v[2].value, "10.6");
	free(v);
	v = NULL;
	assert_int_equal(db_exp_delete(db, e.id), 0);
	assert_int_equal(db_value_list(db, e.id, &v, &n), 0);
	assert_int_equal(n, 0);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runs_numbered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
