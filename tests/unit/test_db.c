/* test_db: the state database in a fresh temporary directory per test:
 * persistence, ids, the journal, documents, allocations, deletion, several
 * connections and threads, durability across kill -9, and the /proc start
 * time parser. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "proc.h"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vtb-test-db.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
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
	struct fixture *f = *state;
	int r = nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return r;
}

/* Open the fixture's database, failing the test with SQLite's words. */
static struct db *open_ok(const char *dir)
{
	char why[256] = "unset";
	struct db *db = NULL;
	int r = db_open(dir, &db, why, sizeof(why));

	if (r)
		print_message("db_open %s: %s (%s)\n", dir, strerror(-r), why);
	assert_int_equal(r, 0);
	assert_non_null(db);
	return db;
}

static struct db_exp create_ok(struct db *db, const char *name)
{
	struct db_exp e;

	assert_int_equal(db_exp_create(db, name, "model.vtb", getpid(), 42, &e), 0);
	return e;
}

static struct db_obj obj(enum db_obj_kind kind, const char *name, const char *ns)
{
	struct db_obj o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	snprintf(o.name, sizeof(o.name), "%s", name);
	snprintf(o.ns, sizeof(o.ns), "%s", ns);
	return o;
}

static bool is_hex_id(const char *id)
{
	size_t i;

	for (i = 0; i < DB_ID_LEN; i++)
		if (!strchr("0123456789abcdef", id[i]))
			return false;
	return id[DB_ID_LEN] == '\0';
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_state_dir(void **state)
{
	(void)state;
	assert_int_equal(setenv("VTB_STATE_DIR", "/tmp/elsewhere", 1), 0);
	assert_string_equal(db_state_dir(), "/tmp/elsewhere");
	assert_int_equal(unsetenv("VTB_STATE_DIR"), 0);
	assert_string_equal(db_state_dir(), DB_DEFAULT_DIR);
}

/* Every descriptor that names a file under dir is close-on-exec. Returns
 * how many there are. */
static int count_cloexec_fds(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char link[64], target[512];
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, dir, strlen(dir)) != 0)
			continue;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		n++;
	}
	closedir(d);
	return n;
}

static void test_open_reopen(void **state)
{
	struct fixture *f = *state;
	char dir[128], path[160], *doc = NULL;
	struct db_exp e, got;
	struct stat sb;
	struct db *db;

	snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	db = open_ok(dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/vtb.db-wal", dir);
	assert_int_equal(access(path, F_OK), 0); /* WAL mode */
	assert_true(count_cloexec_fds(dir) >= 2);

	e = create_ok(db, "lab");
	assert_true(is_hex_id(e.id));
	assert_string_equal(e.name, "lab");
	assert_string_equal(e.model, "model.vtb");
	assert_int_equal(e.state, DB_CREATING);
	assert_true(e.created > 1.6e9);
	assert_int_equal(db_exp_set_state(db, e.id, DB_UP), 0);
	assert_int_equal(db_exp_set_owner(db, e.id, 1234, 987654321ULL), 0);
	assert_int_equal(db_exp_set_doc(db, e.id, "xir", "{\"a\": 1}"), 0);
	assert_int_equal(db_exp_set_state(db, "zzzz", DB_UP), -ENOENT);
	assert_int_equal(db_exp_set_owner(db, "zzzz", 1, 1), -ENOENT);
	db_close(db);
	db_close(NULL);

	db = open_ok(dir);
	assert_int_equal(db_exp_find(db, "lab", &got), 0);
	assert_string_equal(got.id, e.id);
	assert_string_equal(got.model, "model.vtb");
	assert_int_equal(got.state, DB_UP);
	assert_int_equal(got.owner_pid, 1234);
	assert_int_equal(got.owner_start, 987654321ULL);
	assert_true(got.created == e.created);
	assert_int_equal(db_exp_get_doc(db, e.id, "xir", &doc), 0);
	assert_string_equal(doc, "{\"a\": 1}");
	free(doc);
	assert_int_equal(db_exp_find(db, "nope", &got), -ENOENT);
	db_close(db);
}

static void test_refuses_bad_dir(void **state)
{
	struct fixture *f = *state;
	char why[256] = "", file[128];
	struct db *db = (struct db *)1;
	int fd;

	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(db_open(f->dir, &db, why, sizeof(why)), -EPERM);
	assert_null(db);
	assert_non_null(strstr(why, "writable by every user"));
	assert_non_null(strstr(why, f->dir));
	assert_int_equal(chmod(f->dir, 0700), 0);

	snprintf(file, sizeof(file), "%s/file", f->dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(db_open(file, &db, why, sizeof(why)), -ENOTDIR);
	assert_int_equal(db_open(file, &db, NULL, 0), -ENOTDIR);
}

static void test_duplicate_name(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	char longname[200];
	struct db_exp e;

	create_ok(db, "lab");
	assert_int_equal(db_exp_create(db, "lab", "other.vtb", 1, 1, &e), -EEXIST);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(db_exp_create(db, longname, NULL, 1, 1, &e), -ENAMETOOLONG);
	assert_int_equal(db_exp_create(db, "", NULL, 1, 1, &e), -EINVAL);
	/* a name with SQL in it is just a name */
	e = create_ok(db, "x'); DROP TABLE experiments; --");
	assert_int_equal(db_exp_find(db, "x'); DROP TABLE experiments; --", &e), 0);
	db_close(db);
}

static void test_ids_unique(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	static unsigned char seen[0x10000];
	struct db_exp *v = NULL;
	char name[32];
	size_t n, i;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 300; i++) {
		struct db_exp e;
		unsigned id;

		snprintf(name, sizeof(name), "exp%zu", i);
		e = create_ok(db, name);
		assert_true(is_hex_id(e.id));
		id = (unsigned)strtoul(e.id, NULL, 16);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
	}
	assert_int_equal(db_exp_list(db, &v, &n), 0);
	assert_int_equal(n, 300);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "exp%zu", i);
		assert_string_equal(v[i].name, name); /* oldest first */
		if (i)
			assert_true(v[i].created >= v[i - 1].created);
	}
	free(v);
	db_close(db);
}

/* Check that the journal of id holds exactly the names in want, in order,
 * with ascending seq. */
static void expect_journal(struct db *db, const char *id, const char *const *want, size_t nwant)
{
	struct db_obj *v = NULL;
	size_t n, i;

	assert_int_equal(db_journal_list(db, id, &v, &n), 0);
	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i].name, want[i]);
		if (i)
			assert_true(v[i].seq > v[i - 1].seq);
	}
	free(v);
}

static void test_journal(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	struct db_exp e = create_ok(db, "lab"), e2 = create_ok(db, "other");
	struct db_obj a[3], b[2], c, *v = NULL;
	size_t n;

	a[0] = obj(DB_NETNS, "vtb-ns1", "");
	a[1] = obj(DB_LINK, "veth0", "vtb-ns1");
	a[2] = obj(DB_BRIDGE, "br0", "");
	b[0] = obj(DB_PROCESS, "qemu", "");
	b[0].pid = 4321;
	b[0].start = 1ULL << 40;
	b[1] = obj(DB_FILE, "/run/vtb/x.sock", "");
	assert_int_equal(db_journal_add(db, e.id, a, 3), 0);
	assert_int_equal(db_journal_add(db, e.id, b, 0), 0);
	assert_int_equal(db_journal_add(db, e.id, b, 2), 0);
	assert_int_equal(a[0].seq, 1);
	assert_int_equal(a[2].seq, 3);
	assert_int_equal(b[0].seq, 4);
	assert_int_equal(b[1].seq, 5);

	assert_int_equal(db_journal_list(db, e.id, &v, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(v[1].seq, 2);
	assert_int_equal(v[1].kind, DB_LINK);
	assert_string_equal(v[1].ns, "vtb-ns1");
	assert_int_equal(v[3].kind, DB_PROCESS);
	assert_int_equal(v[3].pid, 4321);
	assert_int_equal(v[3].start, 1ULL << 40);
	assert_string_equal(v[4].name, "/run/vtb/x.sock");
	free(v);

	/* each experiment numbers its own journal */
	c = obj(DB_NETNS, "other-ns", "");
	assert_int_equal(db_journal_add(db, e2.id, &c, 1), 0);
	assert_int_equal(c.seq, 1);

	assert_int_equal(db_journal_remove(db, e.id, 2), 0);
	assert_int_equal(db_journal_remove(db, e.id, 2), 0); /* already gone */
	{
		const char *want[] = { "vtb-ns1", "br0", "qemu", "/run/vtb/x.sock" };

		expect_journal(db, e.id, want, 4);
	}
	c = obj(DB_LINK, "veth1", "");
	assert_int_equal(db_journal_add(db, e.id, &c, 1), 0);
	assert_int_equal(c.seq, 6);
	{
		const char *want[] = { "vtb-ns1", "br0", "qemu", "/run/vtb/x.sock", "veth1" };

		expect_journal(db, e.id, want, 5);
	}
	/* no journal for an experiment that does not exist */
	assert_int_equal(db_journal_add(db, "zzzz", &c, 1), -ENOENT);
	assert_int_equal(db_journal_list(db, "zzzz", &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	db_close(db);
}

/* Bring-up journals thousands of objects at once: one transaction, one
 * statement. The sanitizer build gets more room. */
#ifdef __SANITIZE_ADDRESS__
#define BULK_MS 500
#else
#define BULK_MS 100
#endif

static void test_journal_bulk(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	struct db_exp e = create_ok(db, "big");
	struct db_obj *objs = calloc(5000, sizeof(*objs)), *v = NULL, one;
	struct timespec t0;
	size_t i, n;
	double ms;

	assert_non_null(objs);
	one = obj(DB_NETNS, "first", "");
	assert_int_equal(db_journal_add(db, e.id, &one, 1), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(objs[i].name, sizeof(objs[i].name), "vtb%s-%zu", e.id, i);
		snprintf(objs[i].ns, sizeof(objs[i].ns), "vtb-%s-n%zu", e.id, i / 10);
		objs[i].kind = DB_LINK;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(db_journal_add(db, e.id, objs, 5000), 0);
	ms = ms_since(&t0);
	print_message("db_journal_add of 5000 objects: %.1f ms\n", ms);
	assert_true(ms < BULK_MS);
	assert_int_equal(objs[0].seq, 2);
	assert_int_equal(objs[4999].seq, 5001);

	assert_int_equal(db_journal_list(db, e.id, &v, &n), 0);
	assert_int_equal(n, 5001);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i].seq, (int64_t)i + 1);
	assert_string_equal(v[5000].name, objs[4999].name);
	assert_string_equal(v[5000].ns, objs[4999].ns);
	free(v);
	free(objs);
	db_close(db);
}

static void test_docs(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	struct db_exp e = create_ok(db, "lab");
	char *doc = (char *)1, *big = malloc(1 << 20);

	assert_non_null(big);
	memset(big, 'j', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	assert_int_equal(db_exp_get_doc(db, e.id, "xir", &doc), -ENOENT);
	assert_null(doc);
	assert_int_equal(db_exp_set_doc(db, e.id, "xir", "one"), 0);
	assert_int_equal(db_exp_set_doc(db, e.id, "xir", "two"), 0); /* replaces */
	assert_int_equal(db_exp_set_doc(db, e.id, "realization", big), 0);
	assert_int_equal(db_exp_get_doc(db, e.id, "xir", &doc), 0);
	assert_string_equal(doc, "two");
	free(doc);
	assert_int_equal(db_exp_get_doc(db, e.id, "realization", &doc), 0);
	assert_string_equal(doc, big);
	free(doc);
	assert_int_equal(db_exp_set_doc(db, e.id, "empty", ""), 0);
	assert_int_equal(db_exp_get_doc(db, e.id, "empty", &doc), 0);
	assert_string_equal(doc, "");
	free(doc);
	assert_int_equal(db_exp_set_doc(db, "zzzz", "xir", "x"), -ENOENT);
	free(big);
	db_close(db);
}

static void expect_used(struct db *db, const char *except, uint64_t cores, uint64_t memory)
{
	uint64_t c = 1, m = 1;

	assert_int_equal(db_alloc_used(db, except, &c, &m), 0);
	assert_int_equal(c, cores);
	assert_int_equal(m, memory);
}

static void test_alloc(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	struct db_exp a = create_ok(db, "a"), b = create_ok(db, "b");
	const uint64_t G = 1ULL << 30;

	expect_used(db, NULL, 0, 0);
	assert_int_equal(db_alloc_add(db, a.id, "r1", 4, 1 * G), 0);
	assert_int_equal(db_alloc_add(db, a.id, "r2", 2, 3 * G), 0);
	assert_int_equal(db_alloc_add(db, b.id, "h1", 8, 64 * G), 0);
	expect_used(db, NULL, 14, 68 * G);
	expect_used(db, a.id, 8, 64 * G);
	expect_used(db, b.id, 6, 4 * G);
	expect_used(db, "zzzz", 14, 68 * G);
	assert_int_equal(db_alloc_add(db, "zzzz", "x", 1, 1), -ENOENT);
	assert_int_equal(db_alloc_add(db, a.id, "x", UINT64_MAX, 1), -ERANGE);
	expect_used(db, NULL, 14, 68 * G);
	db_close(db);
}

static void test_delete_cascades(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	struct db_exp a = create_ok(db, "a"), b = create_ok(db, "b"), got;
	struct db_obj o[2] = { obj(DB_NETNS, "ns", ""), obj(DB_LINK, "l", "ns") };
	struct db_obj *v = NULL;
	struct db_exp *ev = NULL;
	char *doc = NULL;
	size_t n;

	assert_int_equal(db_journal_add(db, a.id, o, 2), 0);
	assert_int_equal(db_journal_add(db, b.id, o, 2), 0);
	assert_int_equal(db_exp_set_doc(db, a.id, "xir", "{}"), 0);
	assert_int_equal(db_exp_set_doc(db, b.id, "xir", "{}"), 0);
	assert_int_equal(db_alloc_add(db, a.id, "n", 1, 100), 0);
	assert_int_equal(db_alloc_add(db, b.id, "n", 2, 200), 0);

	assert_int_equal(db_exp_delete(db, a.id), 0);
	assert_int_equal(db_exp_find(db, "a", &got), -ENOENT);
	assert_int_equal(db_journal_list(db, a.id, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(db_exp_get_doc(db, a.id, "xir", &doc), -ENOENT);
	expect_used(db, NULL, 2, 200);
	/* b is untouched */
	assert_int_equal(db_journal_list(db, b.id, &v, &n), 0);
	assert_int_equal(n, 2);
	free(v);
	assert_int_equal(db_exp_get_doc(db, b.id, "xir", &doc), 0);
	free(doc);
	assert_int_equal(db_exp_list(db, &ev, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].name, "b");
	free(ev);

	assert_int_equal(db_exp_delete(db, a.id), 0); /* already gone */
	create_ok(db, "a");                           /* the name is free again */
	db_close(db);
}

static void test_two_connections(void **state)
{
	struct fixture *f = *state;
	struct db *one = open_ok(f->dir), *two = open_ok(f->dir);
	struct db_exp e = create_ok(one, "lab"), got;
	struct db_obj o = obj(DB_NETNS, "ns", ""), *v = NULL;
	size_t n;

	assert_int_equal(db_exp_find(two, "lab", &got), 0);
	assert_string_equal(got.id, e.id);
	assert_int_equal(db_exp_create(two, "lab", NULL, 1, 1, &got), -EEXIST);
	assert_int_equal(db_journal_add(two, e.id, &o, 1), 0);
	assert_int_equal(db_exp_set_state(two, e.id, DB_FAILED), 0);
	assert_int_equal(db_journal_list(one, e.id, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "ns");
	free(v);
	assert_int_equal(db_exp_find(one, "lab", &got), 0);
	assert_int_equal(got.state, DB_FAILED);
	db_close(two);
	db_close(one);
}

#define WRITERS 4
#define BATCHES 200
#define BATCH 10

struct writer {
	const char *dir, *id;
	struct db *shared; /* NULL: open an own connection */
	int idx, err;
};

/* Journal BATCHES batches of BATCH objects named "w<idx>-<k>". */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct db *db = w->shared;
	char why[256];
	int b, i;

	if (!db) {
		w->err = db_open(w->dir, &db, why, sizeof(why));
		if (w->err)
			return NULL;
	}
	for (b = 0; b < BATCHES && !w->err; b++) {
		struct db_obj objs[BATCH];

		memset(objs, 0, sizeof(objs));
		for (i = 0; i < BATCH; i++)
			snprintf(objs[i].name, sizeof(objs[i].name), "w%d-%d", w->idx, b * BATCH + i);
		w->err = db_journal_add(db, w->id, objs, BATCH);
	}
	if (!w->shared)
		db_close(db);
	return NULL;
}

/* Two threads share one connection, two have their own: every entry lands,
 * seq runs 1..N without gaps, and each writer's entries keep their order. */
static void test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	struct db_exp e = create_ok(db, "lab");
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	int next[WRITERS] = { 0 };
	struct db_obj *v = NULL;
	size_t n, i;

	for (i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .dir = f->dir, .id = e.id, .shared = i % 2 ? NULL : db,
					.idx = (int)i };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].err, 0);
	}
	assert_int_equal(db_journal_list(db, e.id, &v, &n), 0);
	assert_int_equal(n, WRITERS * BATCHES * BATCH);
	for (i = 0; i < n; i++) {
		int wi, k;

		assert_int_equal(v[i].seq, (int64_t)i + 1);
		assert_int_equal(sscanf(v[i].name, "w%d-%d", &wi, &k), 2);
		assert_in_range(wi, 0, WRITERS - 1);
		assert_int_equal(k, next[wi]);
		next[wi]++;
	}
	free(v);
	db_close(db);
}

/* A child journals 100 objects (in single commits and one batch of 50) and
 * is killed with SIGKILL, without closing; all 100 are there afterwards. */
static void test_durability(void **state)
{
	struct fixture *f = *state;
	struct db *db = open_ok(f->dir);
	struct db_exp e = create_ok(db, "lab");
	struct db_obj *v = NULL;
	int status;
	size_t n, i;
	pid_t pid;

	db_close(db); /* no SQLite connection may cross fork() */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct db_obj objs[50];
		char why[256];

		if (db_open(f->dir, &db, why, sizeof(why)))
			_exit(2);
		memset(objs, 0, sizeof(objs));
		for (i = 0; i < 50; i++) {
			snprintf(objs[0].name, sizeof(objs[0].name), "obj%zu", i);
			if (db_journal_add(db, e.id, objs, 1))
				_exit(3);
		}
		for (i = 0; i < 50; i++)
			snprintf(objs[i].name, sizeof(objs[i].name), "obj%zu", 50 + i);
		if (db_journal_add(db, e.id, objs, 50))
			_exit(4);
		kill(getpid(), SIGKILL);
		_exit(5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		print_message("child exited with %d\n", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	db = open_ok(f->dir);
	assert_int_equal(db_journal_list(db, e.id, &v, &n), 0);
	assert_int_equal(n, 100);
	for (i = 0; i < n; i++) {
		char want[32];

		snprintf(want, sizeof(want), "obj%zu", i);
		assert_string_equal(v[i].name, want);
		assert_int_equal(v[i].seq, (int64_t)i + 1);
	}
	free(v);
	db_close(db);
}

static void test_proc_start(void **state)
{
	uint64_t self = proc_start_time(getpid());
	int status;
	pid_t pid;

	(void)state;
	assert_true(self != 0);
	assert_int_equal(proc_start_time(getpid()), self);
	assert_int_equal(proc_start_time(0), 0);
	assert_int_equal(proc_start_time(-1), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(proc_start_time(pid), 0); /* reaped: gone */
}

/* A child renames itself "x) (y) 1 2 3": a parser that stops at the first
 * ')' would read the wrong field. The start time does not change with the
 * name, so it must read the same before and after. */
static void test_proc_start_odd_comm(void **state)
{
	int up[2], down[2], status;
	uint64_t before, after;
	char c, path[64], comm[64] = "";
	ssize_t len;
	pid_t pid;
	int fd;

	(void)state;
	assert_int_equal(pipe2(up, O_CLOEXEC), 0);
	assert_int_equal(pipe2(down, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		if (write(up[1], "a", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(1);
		prctl(PR_SET_NAME, "x) (y) 1 2 3", 0, 0, 0);
		if (write(up[1], "b", 1) != 1)
			_exit(1);
		(void)read(down[0], &c, 1); /* until the parent closes */
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);
	before = proc_start_time(pid);
	assert_int_equal(write(down[1], "g", 1), 1);
	assert_int_equal(read(up[0], &c, 1), 1);

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	len = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	assert_true(len > 0);
	assert_non_null(strstr(comm, "x) (y) 1 2 3"));
	after = proc_start_time(pid);

	close(down[1]);
	close(up[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(before != 0);
	assert_int_equal(after, before);
	assert_true(before >= proc_start_time(getpid()));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_dir), T(test_open_reopen),
		T(test_refuses_bad_dir),          T(test_duplicate_name),
		T(test_ids_unique),               T(test_journal),
		T(test_journal_bulk),             T(test_docs),
		T(test_alloc),                    T(test_delete_cascades),
		T(test_two_connections),          T(test_concurrent_writers),
		T(test_durability),               cmocka_unit_test(test_proc_start),
		cmocka_unit_test(test_proc_start_odd_comm),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
