/* test_proc: process identity by start time and the pidfd waits. */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/* A child that sleeps ms, ignoring SIGTERM when stubborn. */
static pid_t child(int ms, int stubborn)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

		if (stubborn)
			signal(SIGTERM, SIG_IGN);
		while (nanosleep(&t, &t) && errno == EINTR)
			;
		_exit(0);
	}
	assert_true(pid > 0);
	return pid;
}

static void test_wait_gone(void **state)
{
	pid_t pid = child(150, 0);
	uint64_t start = proc_start_time(pid);
	int64_t t0 = util_mono_ms();

	(void)state;
	assert_true(start > 0);
	assert_int_equal(proc_alive(pid, start), 1);
	assert_int_equal(proc_alive(pid, start + 1), 0); /* another process's pid */
	assert_int_equal(proc_wait_gone(pid, start, 20), -ETIMEDOUT);
	assert_int_equal(proc_wait_gone(pid, start, 10000), 0);
	assert_true(util_mono_ms() - t0 < 5000); /* the exit ended the wait */
	assert_int_equal(proc_alive(pid, start), 0); /* a zombie has ended */
	assert_int_equal(proc_wait_gone(pid, start, 10), 0);
	waitpid(pid, NULL, 0);
	assert_int_equal(proc_wait_gone(pid, start, 10), 0); /* reaped: never there */
	assert_int_equal(proc_wait_gone(-1, 1, 10), 0);
}

static void test_stop(void **state)
{
	pid_t soft = child(60000, 0), hard = child(60000, 1);
	uint64_t s1 = proc_start_time(soft), s2 = proc_start_time(hard);
	int st;

	(void)state;
	usleep(50000); /* let the stubborn child ignore SIGTERM */
	assert_int_equal(proc_stop(soft, s1, 5000), 0);
	assert_int_equal(waitpid(soft, &st, 0), soft);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	assert_int_equal(proc_stop(hard, s2, 100), 0); /* SIGTERM ignored: SIGKILL */
	assert_int_equal(waitpid(hard, &st, 0), hard);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(proc_stop(hard, s2, 100), 0); /* gone: nothing to do */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_gone),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
