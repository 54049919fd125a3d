/* tasks: the executor of vtb run (see tasks.h): the node kinds, the
 * tasks' order, their results. The processes, the start line and the waits
 * are in task_proc.c (task_proc.h says how the barrier works). */
#include "tasks.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "db.h"
#include "linkside.h"
#include "noderun.h"
#include "proc.h"
#include "realize.h"
#include "steps.h"
#include "task_proc.h"
#include "util.h"

bool tasks_cmd_on_host(const struct xir *x, const struct rz_cluster *cl,
		       const struct xir_command *c, uint32_t h)
{
	int li;
	size_t k;

	if (!xir_step_on_link(c->step))
		return c->node < x->nnodes && cl->host_of[c->node] == h;
	li = linkside_find(x, c->link ? c->link : "");
	for (k = 0; li >= 0 && k < x->links[li].nep; k++)
		if (cl->host_of[x->links[li].ep[k].node] == h)
			return true;
	return false;
}

/* Whether command c is run here: every one, or those of the run's part. */
static bool tasks_mine(const struct tasks_run *r, const struct xir_command *c)
{
	return !r->part || tasks_cmd_on_host(r->x, r->part, c, r->part->here);
}

/* The container kind's runner: the child is in the node already (its
 * namespaces, node root); the command runs under /bin/sh there. */
static void tasks_exec_container(const struct tasks_node *n, const char *cmd, int64_t start_ns)
{
	(void)start_ns;
	execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, n->envp);
}

/* The VM kind's runner: the command goes through the supervisor's console
 * proxy, by this program's hidden "__vmexec ID NODE CMD" (an exec:
 * async-signal-safe), whose output and exit status are the command's; it
 * hands VTB_EXPERIMENT and VTB_NODE on to the guest's command. */
static void tasks_exec_vm(const struct tasks_node *n, const char *cmd, int64_t start_ns)
{
	(void)start_ns;
	execle("/proc/self/exe", "vtb", "__vmexec", n->id, n->name, cmd, (char *)NULL, n->envp);
}

/* The host steps' runner: this program's hidden "__step ID T:C START_NS"
 * (steps.h; cmd is "T:C"), with the start line's time in decimal, written
 * by hand: the child may only make async-signal-safe calls. */
static void tasks_exec_step(const struct tasks_node *n, const char *cmd, int64_t start_ns)
{
	char digits[24], *p = digits + sizeof(digits) - 1;
	uint64_t v = start_ns > 0 ? (uint64_t)start_ns : 0;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) && p > digits);
	execle("/proc/self/exe", "vtb", "__step", n->id, cmd, p, (char *)NULL, n->envp);
}

/* The environment of node ni's commands (made here: the child may only
 * exec): vtb run's own, without any VTB_EXPERIMENT or VTB_NODE it had, and
 * those two naming the experiment and the node. 0 or -ENOMEM. */
static int tasks_node_env(struct tasks_run *r, uint32_t ni)
{
	char **own = r->nodes[ni].env_own, **v;
	size_t n = 0, k = 0, i;

	while (environ[n])
		n++;
	v = calloc(n + 3, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->nodes[ni].envp = v;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "VTB_EXPERIMENT=", 15) && strncmp(environ[i], "VTB_NODE=", 9))
			v[k++] = environ[i];
	if (asprintf(&own[0], "VTB_EXPERIMENT=%s", r->x->name ? r->x->name : "") < 0)
		own[0] = NULL; /* a failed asprintf leaves it undefined */
	if (asprintf(&own[1], "VTB_NODE=%s", r->x->nodes[ni].name) < 0)
		own[1] = NULL;
	v[k] = own[0];
	v[k + 1] = own[1];
	return own[0] && own[1] ? 0 : -ENOMEM;
}

/* Free what tasks_node_env made. */
static void tasks_node_env_free(struct tasks_node *nd)
{
	free(nd->env_own[0]);
	free(nd->env_own[1]);
	free(nd->envp);
	nd->envp = NULL;
}

/* Open container node ni by its init's journal row (rows, n). Returns 0
 * or a negative errno (why names the node). */
static int tasks_open_container(struct tasks_run *r, uint32_t ni, const struct db_obj *rows,
				size_t n, const char *id, char *why, size_t whylen)
{
	struct tasks_node *nd = &r->nodes[ni];
	const char *name = r->x->nodes[ni].name;
	char ns[160];
	int e;

	build_netns_name(id, name, ns, sizeof(ns));
	e = noderun_find(rows, n, ns, &nd->init, &nd->init_start);
	if (!e)
		e = noderun_open(nd->init, nd->init_start, &nd->fds);
	if (e == -ENOENT || e == -ESRCH)
		util_fmt(why, whylen, "node '%s' is not running (%s): vtb down and up again", name,
			 e == -ENOENT ? "the journal has no init for it" : "its init has ended");
	else if (e)
		util_fmt(why, whylen, "cannot open node '%s' (%s): %s", name, ns, strerror(-e));
	return e;
}

/* Set up the node of every command: a VM's name for its console, or a
 * container's init, opened once. Returns 0 or a negative errno (why
 * names the node). */
static int tasks_open_nodes(struct tasks_run *r, struct db *db, const char *id, char *why,
			    size_t whylen)
{
	const struct xir *x = r->x;
	struct db_obj *rows = NULL;
	size_t t, c, n = 0;
	int e = 0;

	for (t = 0; t < x->ntasks && !e; t++) {
		for (c = 0; c < x->tasks[t].ncmd && !e; c++) {
			uint32_t ni = x->tasks[t].cmd[c].node;
			struct tasks_node *nd = &r->nodes[ni];

			if (nd->exec || xir_step_on_host(x->tasks[t].cmd[c].step) ||
			    !tasks_mine(r, &x->tasks[t].cmd[c]))
				continue;
			e = tasks_node_env(r, ni);
			if (e) {
				util_fmt(why, whylen, "%s", strerror(-e));
				break;
			}
			if (xir_node_wants_vm(x, ni)) {
				nd->id = id;
				nd->name = x->nodes[ni].name;
				nd->exec = tasks_exec_vm;
				continue;
			}
			if (!rows && (e = db_journal_list(db, id, &rows, &n))) {
				util_fmt(why, whylen, "cannot read the journal: %s", strerror(-e));
				break;
			}
			e = tasks_open_container(r, ni, rows, n, id, why, whylen);
			if (!e)
				nd->exec = tasks_exec_container;
		}
	}
	free(rows);
	return e;
}

int tasks_node_gone(const struct tasks_run *r, const char **node)
{
	size_t i;

	for (i = 0; i < r->x->nnodes; i++)
		if (r->nodes[i].fds.pidfd >= 0 &&
		    !proc_alive(r->nodes[i].init, r->nodes[i].init_start)) {
			*node = r->x->nodes[i].name;
			return 1;
		}
	return 0;
}

int tasks_open(const struct xir *x, struct db *db, const char *id, const struct rz_cluster *part,
	       const volatile sig_atomic_t *stop, struct tasks_run **out, char *why, size_t whylen)
{
	struct tasks_run *r;
	struct rlimit rl;
	size_t i;
	int e;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->x = x;
	r->stop = stop;
	r->part = part;
	r->stop_fd = -1;
	r->go[0] = r->go[1] = r->msg[0] = r->msg[1] = -1;
	r->nodes = calloc(x->nnodes ? x->nnodes : 1, sizeof(*r->nodes));
	if (!r->nodes) {
		free(r);
		return -ENOMEM;
	}
	for (i = 0; i < x->nnodes; i++)
		r->nodes[i].fds = (struct noderun_fds){ .pidfd = -1, .userns = -1 };
	r->host = (struct tasks_node){ .fds = { .pidfd = -1, .userns = -1 }, .id = id,
				       .exec = tasks_exec_step, .envp = environ };
	/* three descriptors per command and two per node: use what we may */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	e = tasks_open_nodes(r, db, id, why, whylen);
	if (e) {
		tasks_close(r);
		return e;
	}
	*out = r;
	return 0;
}

/* Does the command's stdout match its expect? A regex that does not
 * compile (the compiler checks them) does not match. */
static bool tasks_expect_met(const char *re, const char *text, size_t len)
{
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)len };
	regex_t rx;
	bool met;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE))
		return false;
	/* REG_STARTEND: the whole output, NUL bytes included */
	met = !regexec(&rx, text, 1, &m, REG_STARTEND);
	regfree(&rx);
	return met;
}

/* A host step's result starts when the step was done: the time its
 * output begins with ("at SECONDS.NANOS ..."), when it has one. */
static void tasks_step_time(struct tasks_result *v)
{
	long long sec, nsec;
	int dot = 0, end = 0;

	if (v->out && sscanf(v->out, "at %lld.%n%9lld%n", &sec, &dot, &nsec, &end) == 2 &&
	    end - dot == 9 && sec > 0)
		v->start_ns = (int64_t)sec * 1000000000 + nsec;
}

/* Turn ended proc p into a result appended to *res. The proc's buffers
 * move into the result. Returns 0 or -ENOMEM. */
static int tasks_result_add(struct tasks_run *r, struct tasks_proc *p, struct tasks_result **res,
			    size_t *n)
{
	const struct xir_command *c = &r->x->tasks[p->task].cmd[p->cmd];
	struct tasks_result v = { .task = p->task, .cmd = p->cmd };
	size_t cap = *n;
	int e;

	v.start_ns = p->start_ns;
	v.end_ns = p->end_ns;
	if (WIFEXITED(p->wstatus))
		v.exit = WEXITSTATUS(p->wstatus);
	else if (WIFSIGNALED(p->wstatus))
		v.exit = 128 + WTERMSIG(p->wstatus);
	e = task_proc_stream_take(&p->out, &v.out, &v.outlen);
	if (!e)
		e = task_proc_stream_take(&p->err, &v.err, &v.errlen);
	if (e)
		goto out_free;
	if (p->timed_out && !p->background)
		v.status = TASKS_TIMEOUT;
	else if (v.exit && !p->stopped)
		v.status = TASKS_FAILED;
	else if (c->expect && !tasks_expect_met(c->expect, v.out, v.outlen))
		v.status = TASKS_EXPECT;
	else
		v.status = TASKS_OK;
	if (xir_step_on_host(c->step))
		tasks_step_time(&v);
	e = util_grow((void **)res, &cap, *n + 1, sizeof(**res));
	if (e)
		goto out_free;
	(*res)[(*n)++] = v;
	return 0;
out_free:
	free(v.out);
	free(v.err);
	return -ENOMEM;
}

/* Release proc i's descriptors and buffers and drop it from the live set. */
static void tasks_proc_drop(struct tasks_run *r, size_t i)
{
	struct tasks_proc *p = &r->procs[i];

	task_proc_close_fd(&p->pidfd);
	task_proc_stream_free(&p->out);
	task_proc_stream_free(&p->err);
	memmove(p, p + 1, (r->nprocs - i - 1) * sizeof(*p));
	r->nprocs--;
}

/* Kill and reap procs[first..nprocs) (a task that could not start) and
 * drop them. */
static void tasks_abort(struct tasks_run *r, size_t first)
{
	size_t i;

	for (i = first; i < r->nprocs; i++) {
		struct tasks_proc *p = &r->procs[i];

		if (p->pid > 0 && !p->reaped) {
			kill(p->pid, SIGKILL);
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
		} else if (p->pid > 0 && p->background) {
			kill(-p->pid, SIGKILL);
		}
	}
	while (r->nprocs > first)
		tasks_proc_drop(r, r->nprocs - 1);
}

/* Add procs for task t's commands and start each on its node. go_rd/go_wr
 * is the start line, msg_wr the status pipe. Returns 0 or a negative errno
 * (why says which node). */
static int tasks_start_all(struct tasks_run *r, size_t t, int go_rd, int go_wr, int msg_wr,
			   char *why, size_t whylen)
{
	const struct xir_task *task = &r->x->tasks[t];
	size_t c;
	int e;

	e = util_grow((void **)&r->procs, &r->cap, r->nprocs + task->ncmd, sizeof(*r->procs));
	if (e)
		return e;
	for (c = 0; c < task->ncmd; c++) {
		const struct xir_command *cmd = &task->cmd[c];
		bool host = xir_step_on_host(cmd->step);
		const struct tasks_node *n = host ? &r->host : &r->nodes[cmd->node];
		struct tasks_proc *p = &r->procs[r->nprocs];
		char tc[48], *script = NULL;

		if (!tasks_mine(r, cmd))
			continue;
		*p = (struct tasks_proc){ .task = t, .cmd = c, .background = cmd->background,
					  .pidfd = -1, .out.fd = -1, .err.fd = -1 };
		r->nprocs++;
		snprintf(tc, sizeof(tc), "%zu:%zu", t, c);
		if (cmd->step == XSTEP_WAIT_UNTIL && !(script = steps_wait_script(cmd)))
			return -ENOMEM;
		/* the child has its copy of script once forked */
		e = task_proc_start(r, r->nprocs - 1, n, host ? tc : script ? script : cmd->cmd, go_rd,
				    go_wr, msg_wr);
		free(script);
		if (e) {
			util_fmt(why, whylen, "cannot start a command on node '%s': %s",
				 host ? "(host)" : r->x->nodes[cmd->node].name, strerror(-e));
			return e;
		}
	}
	return 0;
}

/* Append the results of the ended procs from first on whose background
 * flag is background to *res and *n, and drop them; the others stay.
 * Returns 0 or -ENOMEM (the procs are dropped all the same). */
static int tasks_collect(struct tasks_run *r, size_t first, bool background,
			 struct tasks_result **res, size_t *n)
{
	size_t i = first;
	int e = 0;

	while (i < r->nprocs) {
		if (r->procs[i].background != background || !r->procs[i].reaped) {
			i++;
			continue;
		}
		if (!e)
			e = tasks_result_add(r, &r->procs[i], res, n);
		tasks_proc_drop(r, i);
	}
	return e;
}

/* Start task t's commands and wait until each is at the start line.
 * Returns 0, or a negative errno (why says what) with the task's procs
 * killed and dropped. */
static int tasks_start_task(struct tasks_run *r, size_t t, size_t first, int go[2], int msg[2],
			    char *why, size_t whylen)
{
	const struct xir_task *task = &r->x->tasks[t];
	size_t bad;
	int e;

	e = tasks_start_all(r, t, go[0], go[1], msg[1], why, whylen);
	if (!e) {
		e = task_proc_wait_ready(r, first, msg[0], &bad);
		if (e && bad < r->nprocs && xir_step_on_host(task->cmd[r->procs[bad].cmd].step))
			util_fmt(why, whylen, "step %zu did not get ready: %s", r->procs[bad].cmd + 1,
				 strerror(-e));
		else if (e && bad < r->nprocs)
			util_fmt(why, whylen, "cannot enter node '%s': %s",
				  r->x->nodes[task->cmd[r->procs[bad].cmd].node].name, strerror(-e));
		else if (e)
			util_fmt(why, whylen, "the commands of task '%s' did not get ready: %s",
				  task->name, strerror(-e));
	}
	if (e)
		tasks_abort(r, first);
	return e;
}

void tasks_stop_fd(struct tasks_run *r, int fd)
{
	r->stop_fd = fd;
	r->stop_hit = false;
}

/* Close the ready task's pipes. */
static void tasks_pipes_close(struct tasks_run *r)
{
	task_proc_close_fd(&r->go[0]);
	task_proc_close_fd(&r->go[1]);
	task_proc_close_fd(&r->msg[0]);
	task_proc_close_fd(&r->msg[1]);
	r->prepared = false;
}

int tasks_task_ready(struct tasks_run *r, size_t t, char *why, size_t whylen)
{
	int e;

	if (r->prepared || t >= r->x->ntasks) {
		util_fmt(why, whylen, "task %zu cannot be made ready now", t);
		return -EINVAL;
	}
	r->first = r->nprocs;
	if (pipe2(r->go, O_CLOEXEC) || pipe2(r->msg, O_CLOEXEC)) {
		e = -errno;
		util_fmt(why, whylen, "cannot make pipes: %s", strerror(-e));
		tasks_pipes_close(r);
		return e;
	}
	fcntl(r->msg[0], F_SETFL, O_NONBLOCK);
	e = tasks_start_task(r, t, r->first, r->go, r->msg, why, whylen);
	if (e) {
		tasks_pipes_close(r);
		return e;
	}
	r->prepared = true;
	return 0;
}

/* Sleep until CLOCK_REALTIME reaches at_ns (again after a signal). */
static void tasks_sleep_until(int64_t at_ns)
{
	struct timespec ts = { .tv_sec = at_ns / 1000000000, .tv_nsec = at_ns % 1000000000 };

	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int tasks_task_go(struct tasks_run *r, size_t t, int64_t at_ns, int64_t *late_ns,
		  struct tasks_result **res, size_t *n, char *why, size_t whylen)
{
	const struct xir_task *task = &r->x->tasks[t];
	size_t first = r->first, i;
	int64_t go_ns, deadline;
	bool rt;
	int e;

	if (!r->prepared) {
		util_fmt(why, whylen, "task '%s' is not ready", task->name);
		return -EINVAL;
	}
	/* a start time: slept for at the children's real-time priority, so that
	 * a loaded machine does not wake us late; normal again once they go */
	rt = at_ns > 0 &&
	     !sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 1 });
	if (at_ns > 0)
		tasks_sleep_until(at_ns);
	/* the start line: every child waits in read(go[0]); EOF wakes them all */
	go_ns = util_clock_ns(CLOCK_REALTIME);
	task_proc_close_fd(&r->go[1]);
	task_proc_close_fd(&r->msg[1]);
	if (rt)
		sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ .sched_priority = 0 });
	if (late_ns)
		*late_ns = at_ns > 0 ? go_ns - at_ns : 0;
	for (i = first; i < r->nprocs; i++)
		r->procs[i].start_ns = go_ns; /* until the child says when it saw go */
	deadline = task->timeout_ns > 0 ? util_clock_ns(CLOCK_MONOTONIC) + task->timeout_ns : 0;
	e = task_proc_wait(r, r->msg[0], first, false, deadline, 0);
	if (e) {
		util_fmt(why, whylen, "cannot wait for the commands of task '%s': %s", task->name,
			  strerror(-e));
		tasks_abort(r, first);
		goto out_close_pipes;
	}
	/* the last STARTED messages may still be in the pipe */
	task_proc_msg_drain(r, r->msg[0], first);
	e = tasks_collect(r, first, false, res, n);
out_close_pipes:
	tasks_pipes_close(r);
	return e;
}

int tasks_run_task(struct tasks_run *r, size_t t, struct tasks_result **res, size_t *n,
		   char *why, size_t whylen)
{
	int e = tasks_task_ready(r, t, why, whylen);

	return e ? e : tasks_task_go(r, t, 0, NULL, res, n, why, whylen);
}

int tasks_stop_background(struct tasks_run *r, struct tasks_result **res, size_t *n)
{
	size_t i;
	int e, c;

	for (i = 0; i < r->nprocs; i++)
		if (r->procs[i].background && !r->procs[i].reaped)
			r->procs[i].stopped = true;
	task_proc_signal(r, 0, true, SIGTERM);
	e = task_proc_wait(r, -1, 0, true, 0, util_clock_ns(CLOCK_MONOTONIC) + TASKS_KILL_GRACE_NS);
	/* what the background commands left in their groups goes now */
	task_proc_signal(r, 0, true, SIGKILL);
	c = tasks_collect(r, 0, true, res, n);
	return e ? e : c;
}

void tasks_close(struct tasks_run *r)
{
	size_t i;

	if (!r)
		return;
	tasks_abort(r, 0);
	tasks_pipes_close(r);
	for (i = 0; i < r->x->nnodes; i++) {
		noderun_close(&r->nodes[i].fds);
		tasks_node_env_free(&r->nodes[i]);
	}
	free(r->nodes);
	free(r->procs);
	free(r);
}

void tasks_results_free(struct tasks_result *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].out);
		free(v[i].err);
	}
	free(v);
}
