/* task_proc: the processes of vtb run (internal to exec/tasks.c and
 * exec/task_proc.c; see tasks.h for the public side).
 *
 * The barrier: each command of a task is a child that gets ready (enters
 * its node, its own process group, its output pipes; in a container node
 * the child C1 enters the node's namespaces and forks the command's
 * process C2 into its pid namespace, and waits for it: C2 does the rest), writes a "ready"
 * message to the task's status pipe, and blocks reading the task's "go"
 * pipe. When every child is ready the parent closes the go pipe's write
 * end: the kernel wakes all the readers at once with EOF, each notes the
 * time (its start time), reports it and execs its node kind's command
 * runner. The parent then polls the output pipes, the status pipe and a
 * pidfd per child until every foreground command has been reaped or the
 * timeout passed. */
#ifndef VTB_TASK_PROC_H
#define VTB_TASK_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "noderun.h"
#include "tasks.h"

/* SIGTERM to a late command's group, then SIGKILL this much later: a
 * second is what a well-behaved command (a server, ping) needs to flush
 * and exit, and is the grace tasks.h promises. */
#define TASKS_KILL_GRACE_NS 1000000000LL

struct tasks_stream {
	int fd;           /* read end (non-blocking), -1 at EOF */
	char *buf;
	size_t len, cap;
	uint64_t dropped; /* bytes beyond TASKS_OUTPUT_MAX */
};

/* A command that runs (or ran) in this run. */
struct tasks_proc {
	size_t task, cmd;
	bool background;
	pid_t pid;        /* also its process group */
	int pidfd;        /* -1 once reaped */
	struct tasks_stream out, err;
	int64_t start_ns, end_ns;
	int wstatus;
	bool reaped, ready, started;
	bool timed_out;   /* stopped at the task's timeout */
	bool stopped;     /* background: stopped at the end of the run */
};

struct tasks_node;
struct rz_cluster;

/* A node kind's last step in the child, past the start line (which it
 * passed at start_ns, CLOCK_REALTIME): exec what runs cmd on node n (only
 * async-signal-safe calls; returns only when the exec failed). */
typedef void (*tasks_exec_fn)(const struct tasks_node *n, const char *cmd, int64_t start_ns);

struct tasks_node {
	struct noderun_fds fds; /* a container to enter; pidfd -1: none (a VM) */
	pid_t init;             /* a container's init and its start time */
	uint64_t init_start;
	const char *id;      /* VMs: the experiment, for the supervisor */
	const char *name;    /* VMs: the node's name */
	tasks_exec_fn exec;  /* NULL until a command runs there */
	char **envp;         /* the commands' environment: vtb run's, with
				VTB_EXPERIMENT and VTB_NODE (tasks_node_env) */
	char *env_own[2];    /* those two, ours to free */
};

struct tasks_run {
	const struct xir *x;
	struct tasks_node *nodes;
	struct tasks_node host;   /* where the host steps run: vtb run's own namespaces */
	struct tasks_proc *procs; /* live: the current task's and the background ones */
	size_t nprocs, cap;
	const volatile sig_atomic_t *stop;
	const struct rz_cluster *part; /* NULL, or the cluster host whose commands run */
	int stop_fd;              /* -1, or stop when it becomes readable */
	bool stop_hit;            /* it did */
	int go[2], msg[2];        /* the ready task's start line and status pipe */
	size_t first;             /* its first proc */
	bool prepared;            /* a task is ready (tasks_task_ready) */
};

/* Whether the run is to stop: its stop flag, or its stop_fd said so. */
static inline bool task_proc_stopping(const struct tasks_run *r)
{
	return (r->stop && *r->stop) || r->stop_hit;
}

/* Close *fd if open and set it to -1. */
void task_proc_close_fd(int *fd);

/* Fork procs[pi]'s child for cmd on node n with its output pipes; it gets
 * ready, reports on msg_wr and waits at the start line (go_rd; go_wr is
 * the parent's end, which the child closes). On success the proc holds
 * the pid, the pidfd and the read ends. Returns 0 or a negative errno. */
int task_proc_start(struct tasks_run *r, size_t pi, const struct tasks_node *n, const char *cmd,
		    int go_rd, int go_wr, int msg_wr);

/* Wait until procs[first..nprocs) are all ready. Returns 0, or a negative
 * errno with *err_idx the child that failed to get ready (nprocs when it
 * was a timeout). */
int task_proc_wait_ready(struct tasks_run *r, size_t first, int msg_rd, size_t *err_idx);

/* Handle the messages that wait on the status pipe msg_rd (the last
 * STARTED ones once the commands ended). Returns 0 when the pipe may say
 * more, or a negative errno (-EPIPE: at its end, every writer gone). */
int task_proc_msg_drain(struct tasks_run *r, int msg_rd, size_t first);

/* Signal the waited-for procs (see task_proc_wait) with sig. */
void task_proc_signal(struct tasks_run *r, size_t first, bool background, int sig);

/* Wait for the procs of the current task (first..) or, with background,
 * for the background ones, until they end, reading their output.
 * deadline_ns (CLOCK_MONOTONIC, 0 for none): then SIGTERM, and SIGKILL
 * TASKS_KILL_GRACE_NS later. kill_at_ns (0 for none): they were sent
 * SIGTERM already; SIGKILL then. The run's stop flag acts as a deadline.
 * Returns 0 or a negative errno. */
int task_proc_wait(struct tasks_run *r, int msg_rd, size_t first, bool background,
		   int64_t deadline_ns, int64_t kill_at_ns);

/* Read what is left in s's pipe, then hand its text over (NUL terminated,
 * with a "[truncated]" line when some was dropped); *text is the caller's.
 * Returns 0 or -ENOMEM. */
int task_proc_stream_take(struct tasks_stream *s, char **text, size_t *len);

/* Close s's pipe and free its buffer. */
void task_proc_stream_free(struct tasks_stream *s);

#endif
