/* tasks: run an experiment's tasks (vtb run). A task is a set of commands
 * started together on their nodes; it ends when the last of its foreground
 * commands ends (a barrier), and the next one starts only then (Qemunet's
 * Task). Background commands stay up for the later tasks and are stopped at
 * the end of the run.
 *
 * Every command is a child process that waits at the task's start line;
 * what it runs then depends on the node's kind: on a container it enters
 * the node's network and UTS namespaces and runs /bin/sh -c CMD; on a VM it
 * runs vtb's hidden "__vmexec", which sends the command through the
 * supervisor's console proxy to the guest's shell and gives back its
 * output and exit status. The rest (the barrier, output, timeouts,
 * statuses) is the same for every kind.
 *
 * The library prints nothing and does not touch the state database: the
 * caller reports and records the results. */
#ifndef VTB_TASKS_H
#define VTB_TASKS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xir.h"

struct db;

/* At most this much of each stream of a command is kept; the rest is
 * counted and replaced by a "[truncated ...]" line. */
#define TASKS_OUTPUT_MAX (1u << 20)

enum tasks_status {
	TASKS_OK,      /* exit 0 and, if it has one, its expect matched */
	TASKS_FAILED,  /* non-zero exit (128 + N: killed by signal N) */
	TASKS_TIMEOUT, /* still running at the task's timeout: stopped */
	TASKS_EXPECT,  /* exit 0, but stdout does not match expect */
};

/* "ok", "failed", "timeout", "expect" */
const char *tasks_status_name(enum tasks_status s);

/* The result of one command. out and err belong to the result (NUL
 * terminated as well as counted). */
struct tasks_result {
	size_t task, cmd;          /* indexes in x->tasks and in its commands */
	int64_t start_ns, end_ns;  /* CLOCK_REALTIME: when it passed the start line; when it ended */
	int exit;                  /* exit code, 128 + N when killed by signal N */
	enum tasks_status status;
	char *out, *err;
	size_t outlen, errlen;
};

void tasks_results_free(struct tasks_result *v, size_t n);

struct tasks_run;
struct rz_cluster;

/* Whether command c of model x is done on host h of cluster cl: a node's
 * command or step on that node's host, a link step (link_set, link_down,
 * link_up) on every host holding an endpoint of its link (each acts on
 * its own side, as vtb link --local does). */
bool tasks_cmd_on_host(const struct xir *x, const struct rz_cluster *cl,
		       const struct xir_command *c, uint32_t h);

/* Prepare to run x's tasks on experiment id's nodes: open every container
 * node once, by its init's row in id's journal (db). part (may be NULL)
 * keeps the run to the commands done on host part->here of a cluster
 * (tasks_cmd_on_host): the others are neither opened nor run. stop (may be
 * NULL) is polled: when it becomes non-zero (a signal handler sets it),
 * the commands that run are stopped and the task ends as if it had timed
 * out. x must outlive the run. Returns 0 or a negative errno with why
 * naming the node. */
int tasks_open(const struct xir *x, struct db *db, const char *id, const struct rz_cluster *part,
	       const volatile sig_atomic_t *stop, struct tasks_run **out, char *why, size_t whylen);

/* Watch fd (not owned; -1: none) while a task's commands run: when it
 * becomes readable (data, its end, an error) they are stopped, as by the
 * stop flag. vtb run's part on a host of a cluster watches its input, on
 * which the coordinating host sends "stop". */
void tasks_stop_fd(struct tasks_run *r, int fd);

/* Whether a container node of the run has gone (its init ended: the
 * experiment was taken down during the run): 1 with *node its name, or 0. */
int tasks_node_gone(const struct tasks_run *r, const char **node);

/* Run task t: start its commands together, wait for the foreground ones
 * (at most the task's timeout: SIGTERM to each late command's process
 * group, SIGKILL one second later). The results of its foreground commands
 * are appended to *res and *n (the caller's, freed with tasks_results_free);
 * its background commands keep running. Returns 0 however the commands
 * ended, or a negative errno (why says what) when they could not be
 * started: then none of the task's commands ran. The same as
 * tasks_task_ready, then tasks_task_go at once. */
int tasks_run_task(struct tasks_run *r, size_t t, struct tasks_result **res, size_t *n,
		   char *why, size_t whylen);

/* The first half of tasks_run_task: start task t's commands and wait until
 * every one is at the start line. Returns 0, or a negative errno (why says
 * what) with none of them left. */
int tasks_task_ready(struct tasks_run *r, size_t t, char *why, size_t whylen);

/* The second half: let the ready commands of task t go at at_ns
 * (CLOCK_REALTIME, slept for with TIMER_ABSTIME; 0 or past: at once) and
 * wait for them as tasks_run_task does. *late_ns (may be NULL) gets how
 * long after at_ns they were let go. */
int tasks_task_go(struct tasks_run *r, size_t t, int64_t at_ns, int64_t *late_ns,
		  struct tasks_result **res, size_t *n, char *why, size_t whylen);

/* Stop the background commands that still run (SIGTERM to each process
 * group, SIGKILL after one second) and append their results. A background
 * command stopped this way is "ok" (exit 128 + the signal) unless its
 * expect does not match; one that had ended by itself is judged by its
 * exit status. Returns 0 or a negative errno. */
int tasks_stop_background(struct tasks_run *r, struct tasks_result **res, size_t *n);

/* Kill whatever still runs and release the run; accepts NULL. */
void tasks_close(struct tasks_run *r);

#endif
