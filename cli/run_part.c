/* run_part: one host's part of a vtb run across hosts (`vtb run --local
 * NAME --serve`, run by the host's agent for the coordinating host through
 * the relay, or by the coordinator itself for its own host): the commands
 * of the experiment's tasks that are done on this host, task by task as
 * the coordinator says, with their records sent back (exec/taskmsg.h
 * gives the lines; docs/cluster.md, "vtb run across hosts"). */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "run_cluster.h"
#include "taskmsg.h"

/* The longest line the coordinator sends ("go T NS" is about 40 bytes). */
#define RUN_PART_CMD_MAX 128
/* The furthest in the future a start line may be: the coordinator gives
 * tens of milliseconds; more is a mistake not to sleep on. */
#define RUN_PART_LEAD_MAX_NS (10 * 1000000000LL)

/* Send line (owned: freed here) on standard output, whole. 0 or a
 * negative errno (-ENOMEM when there is no line). */
static int run_part_send(char *line)
{
	int r = line ? file_write_all(1, line, strlen(line)) : -ENOMEM;

	free(line);
	return r;
}

/* Send the results res[0..n) and free them. 0 or a negative errno. */
static int run_part_results(struct tasks_result *res, size_t n)
{
	size_t i;
	int r = 0;

	for (i = 0; !r && i < n; i++)
		r = run_part_send(taskmsg_result(&res[i]));
	tasks_results_free(res, n);
	return r;
}

/* Read one line of the coordinator's (a byte at a time: nothing is read
 * ahead, so what follows stays in the pipe for the run's stop watch) into
 * buf. 1 with a line, 0 at its end, or a negative errno (-EINTR: a signal
 * came). */
static int run_part_getline(char *buf, size_t size)
{
	size_t n = 0;
	ssize_t got;
	char ch;

	for (;;) {
		got = read(0, &ch, 1);
		if (got < 0)
			return -errno;
		if (got == 0)
			return 0;
		if (ch == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	return 1;
}

/* "go T NS": let task t's ready commands go at NS and send their records.
 * 0 or a negative errno (the coordinator is gone). */
static int run_part_go(struct tasks_run *tr, const struct xir *x, size_t t, int64_t at)
{
	struct tasks_result *res = NULL;
	char why[UTIL_ERR_LEN] = "";
	int64_t late = 0;
	size_t n = 0;
	int r;

	if (at > util_clock_ns(CLOCK_REALTIME) + RUN_PART_LEAD_MAX_NS) {
		util_fmt(why, sizeof(why), "task '%s': a start %" PRId64 " ns ahead is too far",
			 x->tasks[t].name, at - util_clock_ns(CLOCK_REALTIME));
		at = 0;
	}
	tasks_stop_fd(tr, 0);
	r = tasks_task_go(tr, t, at, &late, &res, &n, why, sizeof(why));
	tasks_stop_fd(tr, -1);
	sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ .sched_priority = 0 });
	if (!r)
		r = run_part_results(res, n);
	else
		tasks_results_free(res, n);
	if (why[0] && !r)
		r = run_part_send(taskmsg_line(TASKMSG_ERROR, (int64_t)t, 0, why));
	return r ? r : run_part_send(taskmsg_line(TASKMSG_DONE, (int64_t)t, late, NULL));
}

/* Act on one of the coordinator's lines. 0 to go on, 1 at "end", or a
 * negative errno. */
static int run_part_command(struct tasks_run *tr, const struct xir *x, const char *line)
{
	char why[UTIL_ERR_LEN] = "", tail;
	unsigned long t;
	long long at;

	if (strncmp(line, "go ", 3)) /* only a go is awaited at real-time priority */
		sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ .sched_priority = 0 });
	if (!strcmp(line, "end"))
		return 1;
	if (!strcmp(line, "stop"))
		return 0; /* the task it was meant for has ended already */
	if (!strcmp(line, "clock"))
		return run_part_send(taskmsg_line(TASKMSG_CLOCK, util_clock_ns(CLOCK_REALTIME), 0, NULL));
	if (sscanf(line, "prepare %lu%c", &t, &tail) == 1 && t < x->ntasks) {
		if (tasks_task_ready(tr, t, why, sizeof(why)))
			return run_part_send(taskmsg_line(TASKMSG_ERROR, (int64_t)t, 0, why));
		/* the go is read at the children's real-time priority: a loaded
		 * host must not read it after its start time (tasks_task_go drops
		 * the priority once they go) */
		sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 1 });
		return run_part_send(taskmsg_line(TASKMSG_READY, (int64_t)t, 0, NULL));
	}
	if (sscanf(line, "go %lu %lld%c", &t, &at, &tail) == 2 && t < x->ntasks && at >= 0)
		return run_part_go(tr, x, t, at);
	return -EPROTO;
}

int run_part_serve(struct db *db, const struct db_exp *e, const struct xir *x,
		   const struct realization *rz, const volatile sig_atomic_t *stop)
{
	struct tasks_result *res = NULL;
	struct tasks_run *tr = NULL;
	char why[UTIL_ERR_LEN] = "", line[RUN_PART_CMD_MAX];
	size_t n = 0;
	int r;

	if (!rz->cluster) {
		cli_err("run %s: --serve is for an experiment across hosts", cli_esc(e->name));
		return CLI_USER;
	}
	r = tasks_open(x, db, e->id, rz->cluster, stop, &tr, why, sizeof(why));
	if (r)
		return run_part_send(taskmsg_line(TASKMSG_ERROR, -1, 0, why)) ? CLI_SYSTEM : CLI_USER;
	r = run_part_send(taskmsg_line(TASKMSG_HELLO, 0, 0, rz->cluster->host[rz->cluster->here]));
	while (!r && !(stop && *stop)) {
		r = run_part_getline(line, sizeof(line));
		if (r == -EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0)
			break; /* the coordinator is gone: as "end" */
		r = run_part_command(tr, x, line);
	}
	/* the background commands: stopped, reported, whatever ended the run */
	tasks_stop_background(tr, &res, &n);
	if (r >= 0 && !run_part_results(res, n))
		run_part_send(taskmsg_line(TASKMSG_DONE, -1, 0, NULL));
	else if (r < 0)
		tasks_results_free(res, n);
	tasks_close(tr);
	return r < 0 ? CLI_SYSTEM : CLI_OK;
}
