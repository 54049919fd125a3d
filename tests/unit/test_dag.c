/* test_dag: the task graph's stop flag (tasks stop starting once it is
 * set, dag_run says -EINTR), its workers' signal mask (they take no
 * signals: a handler runs in the caller's thread) and dag_set_first (the
 * tasks it names run before any other runnable one). */
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "dag.h"

struct ctx {
	volatile sig_atomic_t stop;
	atomic_size_t ran;
	atomic_int unblocked; /* tasks that ran with SIGINT or SIGTERM not blocked */
};

/* Counts itself; the third task to run sets the stop flag. */
static int count_task(void *p, unsigned worker, void *arg)
{
	struct ctx *c = p;
	sigset_t now;

	(void)worker;
	(void)arg;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	if (!sigismember(&now, SIGINT) || !sigismember(&now, SIGTERM))
		atomic_fetch_add(&c->unblocked, 1);
	if (atomic_fetch_add(&c->ran, 1) + 1 == 3)
		c->stop = SIGINT;
	return 0;
}

/* A chain of 100 tasks: the flag set by the third stops the rest. */
static void test_stop(void **state)
{
	struct ctx c = { .stop = 0 };
	struct dag *g = dag_new(&c);
	uint32_t id, prev = 0, failed = 12345;
	int i;

	(void)state;
	assert_non_null(g);
	for (i = 0; i < 100; i++) {
		assert_int_equal(dag_add(g, count_task, NULL, &id), 0);
		if (i)
			assert_int_equal(dag_edge(g, prev, id), 0);
		prev = id;
	}
	dag_set_stop(g, &c.stop);
	assert_int_equal(dag_run(g, 4, NULL, &failed), -EINTR);
	assert_int_equal(atomic_load(&c.ran), 3);
	assert_int_equal(failed, 12345); /* no task failed */
	assert_int_equal(atomic_load(&c.unblocked), 0);
	dag_free(g);
}

/* Without a flag (or with it clear) everything runs, and the caller's
 * signal mask is as it was. */
struct order {
	uint32_t seq[16];
	size_t n;
};

/* Records its id (arg) in the order it ran (one worker: no lock). */
static int order_task(void *p, unsigned worker, void *arg)
{
	struct order *o = p;

	(void)worker;
	o->seq[o->n++] = (uint32_t)(uintptr_t)arg;
	return 0;
}

/* Three "nodes" 0-2, each with a "link" 3-5 after it: with dag_set_first(3)
 * every node runs before any link, although each link becomes runnable as
 * soon as its node is done (without it, a link runs right after its node). */
static void test_first(void **state)
{
	struct order o = { .n = 0 };
	uint32_t id, i;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct dag *g = dag_new(&o);

		assert_non_null(g);
		for (i = 0; i < 6; i++)
			assert_int_equal(dag_add(g, order_task, (void *)(uintptr_t)i, &id), 0);
		for (i = 0; i < 3; i++)
			assert_int_equal(dag_edge(g, i, i + 3), 0);
		if (k)
			dag_set_first(g, 3);
		o.n = 0;
		assert_int_equal(dag_run(g, 1, NULL, NULL), 0);
		assert_int_equal(o.n, 6);
		for (i = 0; i < 3; i++)
			if (k)
				assert_true(o.seq[i] < 3);
		if (!k)
			assert_true(o.seq[1] >= 3);
		dag_free(g);
	}
}

static void test_no_stop(void **state)
{
	struct ctx c = { .stop = 0 };
	struct dag *g = dag_new(&c);
	sigset_t before, after;
	int i;

	(void)state;
	assert_non_null(g);
	for (i = 0; i < 50; i++)
		assert_int_equal(dag_add(g, count_task, NULL, NULL), 0);
	pthread_sigmask(SIG_BLOCK, NULL, &before);
	assert_int_equal(dag_run(g, 4, NULL, NULL), 0);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	assert_int_equal(sigismember(&before, SIGINT), sigismember(&after, SIGINT));
	assert_int_equal(atomic_load(&c.ran), 50);
	dag_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_no_stop),
		cmocka_unit_test(test_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
