/* test_etcd: the etcd client (cluster/etcd.h) against a real etcd (Debian's
 * etcd-server) that the test starts on 127.0.0.1 with free ports and a
 * temporary data directory, and stops and removes at the end. Needs no
 * root; it is a system test because it runs a server. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "etcd.h"
#include "proc.h"
#include "util.h"

/* How long etcd may take to be ready: a new single member elects itself
 * after one election timeout (1 s) and is ready in about 1-2 s; 30 s for a
 * 2-core machine shared with other builds and tests. */
#define START_TIMEOUT_MS 30000
/* How long etcd may take to stop after SIGTERM (it syncs its WAL). */
#define STOP_TIMEOUT_MS 10000
/* The lease asked for: etcd's shortest (its minimum TTL is 1.5 election
 * timeouts, rounded up to 2 s) keeps the test short. */
#define LEASE_TTL_S 2
/* A watch for something that must happen: a lease's expiry is checked by
 * etcd's lessor every 500 ms, on top of the TTL; generous for a busy host. */
#define EXPIRY_WAIT_MS 15000
/* A watch for something that must not happen, in steps shorter than the
 * lease's TTL so that a keepalive between two steps keeps it alive. */
#define QUIET_STEP_MS 700

static char dir[64];
static pid_t etcd_pid;
static uint64_t etcd_start;
static int etcd_log = -1;
static char url[64], dead_url[64];

/* A TCP port free on 127.0.0.1 now (bound by the kernel's choice and
 * released: nothing else on this machine takes ports from that range on
 * purpose within the test's few seconds). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Read etcd's log (its stderr) until it says it serves clients, at most
 * START_TIMEOUT_MS. Returns 0 when ready. */
static int wait_ready(int fd)
{
	int64_t deadline = util_mono_ms() + START_TIMEOUT_MS;
	struct util_buf log;
	int r = -ETIMEDOUT;

	util_buf_init(&log);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - util_mono_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			r = -EPIPE;
			break;
		}
		util_buf_append(&log, buf, (size_t)n);
		if (log.s && strstr(log.s, "ready to serve client requests")) {
			r = 0;
			break;
		}
	}
	if (r)
		print_message("etcd did not start: %s\n", log.s ? log.s : "(no output)");
	util_buf_free(&log);
	return r;
}

/* Start etcd on two free ports with a data directory under dir. */
static int start_etcd(void **state)
{
	char client[64], peer[64], cluster[96], data[96];
	int pipefd[2];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vtbetcd.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(client, sizeof(client), "http://127.0.0.1:%d", free_port());
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", free_port());
	snprintf(cluster, sizeof(cluster), "test=%s", peer);
	snprintf(url, sizeof(url), "%s", client);
	snprintf(dead_url, sizeof(dead_url), "http://127.0.0.1:%d", free_port());
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	/* etcd logs a few KiB in this test; a pipe this large never blocks it */
	fcntl(pipefd[0], F_SETPIPE_SZ, 1 << 20);
	etcd_pid = fork();
	assert_true(etcd_pid >= 0);
	if (etcd_pid == 0) {
		dup2(pipefd[1], 2);
		dup2(pipefd[1], 1);
		execlp("etcd", "etcd", "--name", "test", "--data-dir", data, "--listen-client-urls",
		       client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
		       "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster,
		       (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	etcd_log = pipefd[0];
	etcd_start = proc_start_time(etcd_pid);
	return wait_ready(etcd_log);
}

static int stop_etcd(void **state)
{
	char cmd[96];

	(void)state;
	if (etcd_pid > 0) {
		proc_stop(etcd_pid, etcd_start, STOP_TIMEOUT_MS);
		waitpid(etcd_pid, NULL, 0);
	}
	if (etcd_log >= 0)
		close(etcd_log);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct etcd *open_ok(const char *endpoints)
{
	char err[UTIL_ERR_LEN] = "";
	struct etcd *e;
	int r = etcd_open(endpoints, &e, err);

	if (r)
		print_message("etcd_open %s: %s\n", endpoints, err);
	assert_int_equal(r, 0);
	return e;
}

static void test_kv(void **state)
{
	char err[UTIL_ERR_LEN];
	struct etcd *e = open_ok(url);
	struct etcd_kv *kvs;
	size_t n, len;
	int64_t rev, mod, del;
	char *v;

	(void)state;
	assert_int_equal(etcd_put(e, "kv/a", "one", 3, 0, err), 0);
	assert_int_equal(etcd_put(e, "kv/b", "t\0o", 3, 0, err), 0);
	assert_int_equal(etcd_put(e, "kw", "other", 5, 0, err), 0);
	assert_int_equal(etcd_get(e, "kv/a", &v, &len, &mod, err), 0);
	assert_string_equal(v, "one");
	assert_int_equal(len, 3);
	assert_true(mod > 0);
	free(v);
	assert_int_equal(etcd_get(e, "kv/", &v, &len, NULL, err), -ENOENT);
	assert_non_null(strstr(err, "kv/"));
	assert_int_equal(etcd_range_prefix(e, "kv/", &kvs, &n, &rev, err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].key, "kv/a");
	assert_string_equal(kvs[1].key, "kv/b");
	assert_int_equal(kvs[1].len, 3);
	assert_memory_equal(kvs[1].val, "t\0o", 3);
	assert_true(rev >= kvs[1].mod_rev);
	etcd_kvs_free(kvs, n);
	assert_int_equal(etcd_delete_prefix(e, "kv/", &del, err), 0);
	assert_int_equal(del, 2);
	assert_int_equal(etcd_range_prefix(e, "kv/", &kvs, &n, NULL, err), 0);
	assert_int_equal(n, 0);
	etcd_kvs_free(kvs, n);
	assert_int_equal(etcd_get(e, "kw", &v, &len, NULL, err), 0);
	free(v);
	assert_int_equal(etcd_delete(e, "kw", err), 0);
	assert_int_equal(etcd_delete(e, "kw", err), 0); /* gone already: success */
	assert_int_equal(etcd_get(e, "kw", &v, &len, NULL, err), -ENOENT);
	etcd_close(e);
}

/* Take take units of the capacity under key as read at revision mod: a
 * transaction that applies only if nobody changed key since. */
static int take(struct etcd *e, const char *key, long have, int64_t mod, long want, bool *won)
{
	char err[UTIL_ERR_LEN], left[24];
	struct etcd_cmp c = { .key = key, .target = ETCD_MOD, .result = ETCD_EQUAL, .num = mod };
	struct etcd_op put = { .kind = ETCD_OP_PUT, .key = key, .val = left };
	struct etcd_op get = { .kind = ETCD_OP_GET, .key = key };
	int r;

	put.len = (size_t)snprintf(left, sizeof(left), "%ld", have - want);
	r = etcd_txn(e, &c, 1, &put, 1, &get, 1, won, err);
	if (r)
		print_message("etcd_txn: %s\n", err);
	return r;
}

static void test_txn_race(void **state)
{
	char err[UTIL_ERR_LEN];
	struct etcd *a = open_ok(url), *b = open_ok(url);
	int64_t mod_a, mod_b;
	bool won_a, won_b;
	size_t len;
	char *va, *vb, *v;

	(void)state;
	assert_int_equal(etcd_put(a, "cap/h1", "4", 1, 0, err), 0);
	/* both read the same capacity, then both try to take 3 of the 4 */
	assert_int_equal(etcd_get(a, "cap/h1", &va, &len, &mod_a, err), 0);
	assert_int_equal(etcd_get(b, "cap/h1", &vb, &len, &mod_b, err), 0);
	assert_int_equal(mod_a, mod_b);
	assert_int_equal(take(a, "cap/h1", atol(va), mod_a, 3, &won_a), 0);
	assert_int_equal(take(b, "cap/h1", atol(vb), mod_b, 3, &won_b), 0);
	assert_true(won_a != won_b); /* exactly one wins */
	assert_true(won_a);
	assert_int_equal(etcd_get(a, "cap/h1", &v, &len, NULL, err), 0);
	assert_string_equal(v, "1");
	free(va), free(vb), free(v);
	/* a transaction on a key that does not exist: create revision 0 */
	struct etcd_cmp absent = { .key = "cap/h2", .target = ETCD_CREATE, .result = ETCD_EQUAL };
	struct etcd_op mk = { .kind = ETCD_OP_PUT, .key = "cap/h2", .val = "8", .len = 1 };
	struct etcd_cmp val = { .key = "cap/h2", .target = ETCD_VALUE, .result = ETCD_EQUAL, .val = "8", .len = 1 };
	struct etcd_op rm = { .kind = ETCD_OP_DELETE_PREFIX, .key = "cap/" };
	assert_int_equal(etcd_txn(a, &absent, 1, &mk, 1, NULL, 0, &won_a, err), 0);
	assert_true(won_a);
	assert_int_equal(etcd_txn(b, &absent, 1, &mk, 1, NULL, 0, &won_b, err), 0);
	assert_false(won_b);
	assert_int_equal(etcd_txn(b, &val, 1, &rm, 1, NULL, 0, &won_b, err), 0);
	assert_true(won_b);
	assert_int_equal(etcd_get(a, "cap/h1", &v, &len, NULL, err), -ENOENT);
	etcd_close(a);
	etcd_close(b);
}

/* Watch callbacks: stop at the first deletion, or at the first put of key arg. */
static int on_delete(const struct etcd_kv *kv, bool deleted, void *arg)
{
	(void)kv, (void)arg;
	return deleted ? 1 : 0;
}

static int on_put_of(const struct etcd_kv *kv, bool deleted, void *arg)
{
	return !deleted && !strcmp(kv->key, arg) ? (kv->len == 3 && !memcmp(kv->val, "new", 3) ? 1 : 2) : 0;
}

static void test_lease(void **state)
{
	char err[UTIL_ERR_LEN];
	struct etcd *e = open_ok(url);
	struct etcd_kv *kvs;
	int64_t id, ttl, rev;
	size_t n;
	char *v;

	(void)state;
	/* kept alive: the key stays past its TTL */
	assert_int_equal(etcd_lease_grant(e, LEASE_TTL_S, &id, err), 0);
	assert_int_equal(etcd_put(e, "lease/kept", "x", 1, id, err), 0);
	assert_int_equal(etcd_range_prefix(e, "lease/", &kvs, &n, &rev, err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(kvs[0].lease, id);
	etcd_kvs_free(kvs, n);
	for (int i = 0; i < 5; i++) { /* 3.5 s, well past the 2 s TTL */
		assert_int_equal(etcd_watch_prefix(e, "lease/", rev + 1, QUIET_STEP_MS, on_delete, NULL, err),
				 -ETIMEDOUT);
		assert_int_equal(etcd_lease_keepalive(e, id, &ttl, err), 0);
		assert_true(ttl > 0);
	}
	/* left alone: it expires, and its key goes */
	assert_int_equal(etcd_watch_prefix(e, "lease/", rev + 1, EXPIRY_WAIT_MS, on_delete, NULL, err), 1);
	assert_int_equal(etcd_range_prefix(e, "lease/", &kvs, &n, NULL, err), 0);
	assert_int_equal(n, 0);
	etcd_kvs_free(kvs, n);
	assert_int_equal(etcd_lease_keepalive(e, id, &ttl, err), -ENOENT);
	assert_int_equal(etcd_lease_revoke(e, id, err), -ENOENT);
	assert_non_null(strstr(err, "lease not found"));
	assert_non_null(strstr(err, url));
	/* revoked: its key goes at once */
	assert_int_equal(etcd_lease_grant(e, 60, &id, err), 0);
	assert_int_equal(etcd_put(e, "lease/r", "x", 1, id, err), 0);
	assert_int_equal(etcd_lease_revoke(e, id, err), 0);
	assert_int_equal(etcd_get(e, "lease/r", &v, &n, NULL, err), -ENOENT);
	etcd_close(e);
}

/* The other client of test_watch: puts watch/k while the watch runs. */
static void *put_later(void *arg)
{
	char err[UTIL_ERR_LEN];
	struct etcd *e = open_ok(arg);

	assert_int_equal(etcd_put(e, "watch/other", "o", 1, 0, err), 0);
	assert_int_equal(etcd_put(e, "watch/k", "new", 3, 0, err), 0);
	etcd_close(e);
	return NULL;
}

static void test_watch(void **state)
{
	char err[UTIL_ERR_LEN];
	struct etcd *e = open_ok(url);
	struct etcd_kv *kvs;
	pthread_t t;
	int64_t rev;
	size_t n;

	(void)state;
	assert_int_equal(etcd_range_prefix(e, "watch/", &kvs, &n, &rev, err), 0);
	etcd_kvs_free(kvs, n);
	/* from the next revision, so it sees the put whenever the thread makes it */
	assert_int_equal(pthread_create(&t, NULL, put_later, url), 0);
	assert_int_equal(etcd_watch_prefix(e, "watch/", rev + 1, EXPIRY_WAIT_MS, on_put_of, "watch/k", err), 1);
	pthread_join(t, NULL);
	assert_int_equal(etcd_watch_prefix(e, "nothing/", 0, 300, on_put_of, "x", err), -ETIMEDOUT);
	assert_non_null(strstr(err, "nothing/"));
	etcd_close(e);
}

static void test_failover_and_errors(void **state)
{
	char err[UTIL_ERR_LEN], both[160];
	struct etcd *e;
	size_t len;
	char *v;

	(void)state;
	assert_int_equal(etcd_open(dead_url, &e, err), -ECONNREFUSED);
	assert_null(e);
	print_message("refused: %s\n", err);
	assert_non_null(strstr(err, dead_url));
	assert_non_null(strstr(err, "refused"));
	assert_int_equal(etcd_open("ftp://x", &e, err), -EINVAL);
	assert_int_equal(etcd_open(" , ", &e, err), -EINVAL);
	/* the first endpoint is dead: every call goes to the second */
	snprintf(both, sizeof(both), "%s,%s/", dead_url, url);
	e = open_ok(both);
	assert_string_equal(etcd_endpoint(e), url);
	assert_int_equal(etcd_put(e, "fo", "1", 1, 0, err), 0);
	assert_int_equal(etcd_get(e, "fo", &v, &len, NULL, err), 0);
	free(v);
	assert_int_equal(etcd_delete(e, "fo", err), 0);
	etcd_close(e);
	/* etcd's own words: a lease that does not exist */
	e = open_ok(url);
	assert_int_equal(etcd_put(e, "x", "1", 1, 12345, err), -ENOENT);
	print_message("bad lease: %s\n", err);
	assert_non_null(strstr(err, "requested lease not found"));
	etcd_close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_txn_race),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_failover_and_errors),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_etcd, stop_etcd);
}
