/* vtb run: run the tasks of an experiment that is up, report them, and keep
 * the results in the state database (docs/cli.md). */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "files.h"
#include "measure.h"
#include "realize.h"
#include "run_cluster.h"
#include "status.h"
#include "steps.h"
#include "sweep.h"
#include "tasks.h"
#include "xir_fmt.h"

#define RUN_TAIL_LINES 10
#define RUN_EXIT_INTERRUPTED 130
#define RUN_BAR_WIDTH 30
/* The most --sweep axes of one run: more than any experiment plots */
#define RUN_MAX_SWEEPS 16
/* A task step's description as the results show it: a link_set of every
 * link parameter and its link's name fit */
#define RUN_STEP_BUF 1024

struct run_opts {
	bool json, keep_going, show;
	bool local, serve, coordinate, skew_ok;
	long repeat;
	const char *sweeps[RUN_MAX_SWEEPS]; /* the --sweep words (argv's) */
	size_t nsweeps;
};

struct run_ctx {
	struct db *db;
	const struct db_exp *exp;
	const struct xir *x;
	const struct run_opts *o;
	FILE *hout;       /* human output: stdout, or stderr when stdout carries JSON */
	bool quiet;       /* --repeat: no per-task lines */
	int64_t run;
	int64_t seq;
	size_t tasks_ok, tasks_failed;
	bool gone;        /* the experiment was taken down during the run */
	const struct realization *rz;
	size_t restored;  /* nodes started and links restored between runs */
	struct sweep_axis *ax; /* --sweep: the axes, and each one's value now */
	size_t nax, *idx;
	struct tasks_run *tr;  /* the run's commands on this host, or */
	struct runcl *cl;      /* across the hosts of a cluster (run_cluster.h) */
};

static volatile sig_atomic_t run_stop;

static void run_on_signal(int sig)
{
	run_stop = sig;
}

/* A JSON string of len bytes of possibly binary text: bytes that are not
 * UTF-8 become '?'. */
static json_t *run_json_text(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *copy;
	size_t i;

	if (j)
		return j;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	for (i = 0; i < len; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

/* Print one result as a JSON line on stdout. */
static void run_print_json(const struct run_ctx *c, const struct db_result *d, bool background)
{
	json_t *o = json_object(), *params;
	char *s;
	size_t i;

	json_object_set_new(o, "experiment", json_string(c->exp->name));
	json_object_set_new(o, "run", json_integer(d->run));
	if (c->nax) {
		params = json_object();
		for (i = 0; i < c->nax; i++)
			json_object_set_new(params, c->ax[i].label, json_string(c->ax[i].vals[c->idx[i]]));
		json_object_set_new(o, "params", params);
	}
	json_object_set_new(o, "seq", json_integer(d->seq));
	json_object_set_new(o, "task", run_json_text(d->task, strlen(d->task)));
	json_object_set_new(o, "node", run_json_text(d->node, strlen(d->node)));
	if (c->rz && c->rz->cluster && !c->o->local)
		json_object_set_new(o, "host", json_string(runcl_host_of(c->x, c->rz, d->node)));
	json_object_set_new(o, "command", run_json_text(d->cmd, strlen(d->cmd)));
	if (background)
		json_object_set_new(o, "background", json_true());
	json_object_set_new(o, "start_ns", json_integer(d->start_ns));
	json_object_set_new(o, "end_ns", json_integer(d->end_ns));
	json_object_set_new(o, "exit", json_integer(d->exit));
	json_object_set_new(o, "status", json_string(d->status));
	json_object_set_new(o, "stdout", run_json_text(d->out, d->outlen));
	json_object_set_new(o, "stderr", run_json_text(d->err, d->errlen));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
	fflush(stdout);
}

/* The node a result names: the command's device, "-" for a link step
 * (vtb run does it, on no node). */
static char *run_node(const struct xir *x, const struct xir_command *cmd)
{
	static char none[] = "-";

	return xir_step_on_link(cmd->step) ? none : x->nodes[cmd->node].name;
}

/* The db row of result v. The strings stay v's, the model's and text's
 * (RUN_STEP_BUF bytes: a step's description). */
static struct db_result run_row(const struct run_ctx *c, const struct tasks_result *v, char *text)
{
	const struct xir_task *t = &c->x->tasks[v->task];
	const struct xir_command *cmd = &t->cmd[v->cmd];
	struct db_result d = {
		.run = c->run, .task = t->name, .node = run_node(c->x, cmd),
		.cmd = cmd->step == XSTEP_RUN ? cmd->cmd : text,
		.start_ns = v->start_ns, .end_ns = v->end_ns, .exit = v->exit,
		.out = v->out, .err = v->err, .outlen = v->outlen, .errlen = v->errlen,
	};

	if (cmd->step != XSTEP_RUN)
		xir_fmt_step(c->x, cmd, text, RUN_STEP_BUF);
	snprintf(d.status, sizeof(d.status), "%s", tasks_status_name(v->status));
	return d;
}

/* Print the last RUN_TAIL_LINES lines of one stream, indented. */
static void run_print_tail(FILE *f, const char *what, const char *s, size_t len)
{
	size_t start = len, lines = 0;

	while (len && s[len - 1] == '\n')
		len--;
	if (!len)
		return;
	start = len;
	while (start > 0 && lines < RUN_TAIL_LINES) {
		start--;
		if (s[start] == '\n' && ++lines == RUN_TAIL_LINES) {
			start++;
			break;
		}
	}
	fprintf(f, "  %s (last lines):\n    ", what);
	for (; start < len; start++) {
		fputc(s[start], f);
		if (s[start] == '\n')
			fputs("    ", f);
	}
	fputc('\n', f);
}

/* Say why a command failed, and the tail of its output. */
static void run_print_failure(const struct run_ctx *c, const struct tasks_result *v,
			      const char *what)
{
	const struct xir_task *t = &c->x->tasks[v->task];
	const struct xir_command *cmd = &t->cmd[v->cmd];
	char why[UTIL_ERR_LEN], text[RUN_STEP_BUF];
	uint64_t oom;

	switch (v->status) {
	case TASKS_TIMEOUT:
		if (run_stop) {
			snprintf(why, sizeof(why), "was stopped: vtb run was interrupted (%s)",
				 strsignal(run_stop));
			break;
		}
		if (runcl_stopped_why(c->cl)) {
			snprintf(why, sizeof(why), "was stopped: %s", runcl_stopped_why(c->cl));
			break;
		}
		snprintf(why, sizeof(why), "did not end within the task's timeout of %.3g s (stopped)",
			 (double)t->timeout_ns / 1e9);
		break;
	case TASKS_EXPECT:
		snprintf(why, sizeof(why), "exited 0 but its output does not match '%s'",
			 cli_esc(cmd->expect));
		break;
	default:
		if (v->exit == 128 + SIGKILL && (oom = status_oom_kills(c->db, c->exp->id,
								       c->x->nodes[cmd->node].name)))
			snprintf(why, sizeof(why), "was killed by signal 9 (Killed): the node's memory "
				 "limit has killed %llu process%s so far (vtb status)",
				 (unsigned long long)oom, oom == 1 ? "" : "es");
		else if (v->exit > 128)
			snprintf(why, sizeof(why), "was killed by signal %d (%s)", v->exit - 128,
				 strsignal(v->exit - 128));
		else
			snprintf(why, sizeof(why), "exited %d", v->exit);
	}
	if (xir_step_on_host(cmd->step))
		fprintf(c->hout, "%s '%s' failed: step %s %s\n", what, cli_esc(t->name),
			cli_esc(xir_fmt_step(c->x, cmd, text, sizeof(text))), why);
	else
		fprintf(c->hout, "%s '%s' failed: node '%s' %s '%s' %s\n", what, cli_esc(t->name),
			cli_esc(c->x->nodes[cmd->node].name),
			cmd->step == XSTEP_RUN ? "command" : "step",
			cli_esc(xir_fmt_step(c->x, cmd, text, sizeof(text))), why);
	run_print_tail(c->hout, "stdout", v->out, v->outlen);
	run_print_tail(c->hout, "stderr", v->err, v->errlen);
}

/* Store what result d (of command cmd) measured: each declared
 * measurement its output matched. Returns 0 or a negative errno. */
static int run_store_measures(const struct run_ctx *c, const struct xir_command *cmd,
			      const struct db_result *d)
{
	char text[64];
	double mean;
	size_t k, count;
	int r = 0;

	for (k = 0; !r && k < cmd->nmeasure; k++) {
		r = measure_mean(cmd->measure[k].re, d->out, d->outlen, &mean, &count);
		if (r || !count)
			continue;
		snprintf(text, sizeof(text), "%.10g", mean);
		r = db_value_add(c->db, c->exp->id, d->run, d->seq, cmd->measure[k].name, text);
	}
	return r;
}

/* Store and print the results res[0..n); count the failed ones into
 * *failed. Returns 0 or CLI_SYSTEM (the database refused). */
static int run_record(struct run_ctx *c, const struct tasks_result *res, size_t n,
		      const char *what, size_t *failed)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		char text[RUN_STEP_BUF];
		struct db_result d = run_row(c, &res[i], text);
		bool bg = c->x->tasks[res[i].task].cmd[res[i].cmd].background;

		d.seq = ++c->seq;
		r = c->gone ? 0 : db_result_add(c->db, c->exp->id, &d);
		if (!r && !c->gone)
			r = run_store_measures(c, &c->x->tasks[res[i].task].cmd[res[i].cmd], &d);
		if (r) {
			cli_err("cannot store the results of run %lld: %s", (long long)c->run,
				strerror(-r));
			return CLI_SYSTEM;
		}
		if (c->o->json)
			run_print_json(c, &d, bg);
		if (res[i].status != TASKS_OK) {
			(*failed)++;
			run_print_failure(c, &res[i], what);
		}
	}
	return 0;
}

/* Say once when the experiment was taken down (vtb down, vtb clean)
 * during the run: its nodes' inits ended, and with them every command. Its
 * records went with it, so what the run has is printed, not stored. */
static void run_check_gone(struct run_ctx *c)
{
	const char *node = NULL;
	struct db_exp e;
	int r;

	if (c->gone)
		return;
	/* vtb down marks the experiment first: its inits may still be
	 * exiting when their commands' deaths reach us */
	r = db_exp_get(c->db, c->exp->id, &e);
	if (r != -ENOENT && !(!r && e.state == DB_REMOVING) &&
	    !(c->tr && tasks_node_gone(c->tr, &node)))
		return;
	c->gone = true;
	cli_err("run %s: the experiment was taken down during the run (vtb down or vtb clean%s%s%s: "
		"every command ended with its node); its records are gone, so the results of this "
		"run are printed, not stored", cli_esc(c->exp->name), node ? "; node '" : "",
		node ? cli_esc(node) : "", node ? "' has ended" : "");
}

/* Run task t. *failed becomes true when one of its commands failed.
 * Returns 0, or CLI_SYSTEM when the commands could not be started or a
 * host was lost (what ran is recorded all the same). */
static int run_task(struct run_ctx *c, size_t t, bool *failed)
{
	const struct xir_task *task = &c->x->tasks[t];
	struct tasks_result *res = NULL;
	size_t n = 0, nfailed = 0;
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	char why[UTIL_ERR_LEN] = "";
	int r, status;

	if (!c->quiet)
		fprintf(c->hout, "task '%s' started (%zu command%s)\n", cli_esc(task->name), task->ncmd,
			task->ncmd == 1 ? "" : "s");
	fflush(c->hout);
	r = c->cl ? runcl_run_task(c->cl, t, &res, &n, why, sizeof(why))
		  : tasks_run_task(c->tr, t, &res, &n, why, sizeof(why));
	if (r) {
		cli_err("run %s: task '%s': %s", cli_esc(c->exp->name), cli_esc(task->name), why);
		run_record(c, res, n, "task", &nfailed);
		tasks_results_free(res, n);
		return CLI_SYSTEM;
	}
	run_check_gone(c);
	status = run_record(c, res, n, "task", &nfailed);
	*failed = nfailed > 0;
	if (!c->quiet) {
		if (nfailed)
			fprintf(c->hout, "task '%s' ended in %.3f s: %zu of %zu command%s failed\n",
				cli_esc(task->name), util_clock_s(CLOCK_MONOTONIC) - t0, nfailed, n, n == 1 ? "" : "s");
		else
			fprintf(c->hout, "task '%s' ended in %.3f s: ok\n", cli_esc(task->name),
				util_clock_s(CLOCK_MONOTONIC) - t0);
	}
	fflush(c->hout);
	tasks_results_free(res, n);
	return status;
}

/* Stop the background commands and record them. */
static int run_background(struct run_ctx *c, bool *failed)
{
	struct tasks_result *res = NULL;
	size_t n = 0, nfailed = 0;
	char why[UTIL_ERR_LEN] = "";
	int r, status;

	r = c->cl ? runcl_stop_background(c->cl, &res, &n, why, sizeof(why))
		  : tasks_stop_background(c->tr, &res, &n);
	status = run_record(c, res, n, "background command of task", &nfailed);
	tasks_results_free(res, n);
	if (r) {
		cli_err("run %s: cannot stop the background commands: %s", c->exp->name,
			why[0] ? why : strerror(-r));
		return CLI_SYSTEM;
	}
	*failed = nfailed > 0;
	return status;
}

/* Store the run's --sweep values as its parameters. Returns 0 or a
 * negative errno. */
static int run_store_params(const struct run_ctx *c)
{
	size_t i;
	int r = 0;

	for (i = 0; !r && i < c->nax; i++)
		r = db_value_add(c->db, c->exp->id, c->run, 0, c->ax[i].label,
				 c->ax[i].vals[c->idx[i]]);
	return r;
}

/* Open the run's commands: on this host (its part only with --local on a
 * cluster host), or across the hosts of a cluster. 0 or a negative errno
 * with why (UTIL_ERR_LEN bytes). */
static int run_exec_open(struct run_ctx *c, char *why)
{
	if (c->rz->cluster && !c->o->local)
		return runcl_open(c->x, c->rz, c->exp->name, c->o->skew_ok, &run_stop, &c->cl, why,
				  UTIL_ERR_LEN);
	return tasks_open(c->x, c->db, c->exp->id, c->o->local ? c->rz->cluster : NULL, &run_stop,
			  &c->tr, why, UTIL_ERR_LEN);
}

/* One run of every task: numbered, recorded, reported. Returns CLI_OK,
 * CLI_USER (a task failed), CLI_SYSTEM or RUN_EXIT_INTERRUPTED. */
static int run_once(struct run_ctx *c)
{
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	size_t t, ran = 0;
	bool failed = false, bg_failed = false;
	char why[UTIL_ERR_LEN] = "";
	const char *st;
	int r, status = CLI_OK;

	c->seq = 0;
	c->tasks_ok = c->tasks_failed = 0;
	r = db_run_begin(c->db, c->exp->id, &c->run);
	if (r) {
		cli_err("cannot record a run of '%s': %s", c->exp->name, strerror(-r));
		return CLI_SYSTEM;
	}
	r = run_store_params(c);
	if (r) {
		cli_err("cannot store the parameters of run %lld: %s", (long long)c->run, strerror(-r));
		db_run_end(c->db, c->exp->id, c->run, "error");
		return CLI_SYSTEM;
	}
	r = run_exec_open(c, why);
	if (r) {
		cli_err("run %s: %s", c->exp->name, why);
		db_run_end(c->db, c->exp->id, c->run, "error");
		return CLI_SYSTEM;
	}
	for (t = 0; t < c->x->ntasks && !run_stop; t++) {
		status = run_task(c, t, &failed);
		if (!status && c->gone)
			status = CLI_SYSTEM;
		if (status)
			break;
		ran++;
		if (failed)
			c->tasks_failed++;
		else
			c->tasks_ok++;
		if (failed && !c->o->keep_going)
			break;
	}
	r = run_background(c, &bg_failed);
	if (!status)
		status = r;
	tasks_close(c->tr);
	runcl_close(c->cl);
	c->tr = NULL;
	c->cl = NULL;
	if (!status && (c->tasks_failed || bg_failed))
		status = CLI_USER;
	if ((!status || status == CLI_USER) && run_stop)
		status = RUN_EXIT_INTERRUPTED;
	st = status == CLI_OK ? "ok" : status == CLI_USER ? "failed" :
	     status == RUN_EXIT_INTERRUPTED ? "interrupted" : "error";
	if (!c->gone)
		db_run_end(c->db, c->exp->id, c->run, st);
	if (!c->quiet) {
		fprintf(c->hout, "run %lld of experiment '%s': %zu task%s, %zu ok", (long long)c->run,
			cli_esc(c->exp->name), c->x->ntasks, c->x->ntasks == 1 ? "" : "s", c->tasks_ok);
		if (c->tasks_failed)
			fprintf(c->hout, ", %zu failed", c->tasks_failed);
		if (ran < c->x->ntasks)
			fprintf(c->hout, ", %zu not run", c->x->ntasks - ran);
		if (bg_failed)
			fprintf(c->hout, ", a background command failed");
		if (status == RUN_EXIT_INTERRUPTED)
			fprintf(c->hout, ", interrupted");
		fprintf(c->hout, ", in %.2f s\n", util_clock_s(CLOCK_MONOTONIC) - t0);
	}
	return status;
}

/* The progress of --repeat and --sweep: a bar on a terminal, a line per
 * run otherwise; both with the runs left and the time they should take at
 * the mean pace so far (elapsed: seconds since the first run started). */
static void run_progress(const struct run_ctx *c, bool tty, long done, long total, long failed,
			 int status, double secs, double elapsed)
{
	int i, fill = (int)(RUN_BAR_WIDTH * done / total);
	double left = done ? elapsed / (double)done * (double)(total - done) : 0;

	if (!tty) {
		fprintf(c->hout, "run %lld (%ld/%ld): %s in %.2f s", (long long)c->run, done, total,
			status == CLI_OK ? "ok" : status == CLI_USER ? "failed" : "error", secs);
		if (done < total)
			fprintf(c->hout, "; %ld left, about %.0f s", total - done, left);
		fputc('\n', c->hout);
		fflush(c->hout);
		return;
	}
	fputs("\r[", c->hout);
	for (i = 0; i < RUN_BAR_WIDTH; i++)
		fputc(i < fill ? '#' : ' ', c->hout);
	fprintf(c->hout, "] %ld/%ld runs, %ld failed, %ld left", done, total, failed, total - done);
	if (done && done < total)
		fprintf(c->hout, ", about %.0f s  ", left);
	else
		fputs("          ", c->hout);
	if (done == total)
		fputc('\n', c->hout);
	fflush(c->hout);
}

/* Before a run of --repeat or --sweep: every stopped node started, every
 * cut link restored and every emulated link back to the model's
 * parameters, then the sweep's values of run number k (from 0). Returns 0
 * or CLI_SYSTEM (said). */
static int run_prepare(struct run_ctx *c, long k)
{
	char why[UTIL_ERR_LEN] = "";
	size_t i, nodes, links;
	int r;

	r = steps_restore(c->db, c->exp, c->x, c->rz, &nodes, &links, why, sizeof(why));
	if (r) {
		cli_err("run %s: cannot restore the nodes and links: %s", cli_esc(c->exp->name),
			cli_esc(why));
		return CLI_SYSTEM;
	}
	if (nodes || links)
		c->restored += nodes + links;
	r = sweep_restore(c->exp->id, c->x, c->rz, why, sizeof(why));
	if (r) {
		cli_err("run %s: cannot restore the links' parameters: %s", cli_esc(c->exp->name),
			cli_esc(why));
		return CLI_SYSTEM;
	}
	if (!c->nax)
		return 0;
	sweep_pick(c->ax, c->nax, k / c->o->repeat, c->idx);
	for (i = 0; i < c->nax; i++) {
		r = sweep_link_set(c->exp->id, c->ax[i].link, c->ax[i].param,
				   c->ax[i].vals[c->idx[i]], why, sizeof(why));
		if (r) {
			cli_err("run %s: --sweep %s=%s: %s", cli_esc(c->exp->name),
				cli_esc(c->ax[i].label), cli_esc(c->ax[i].vals[c->idx[i]]),
				cli_esc(why));
			return CLI_SYSTEM;
		}
	}
	return 0;
}

/* --repeat N (and --sweep: N runs of each combination): every run from
 * the model's link parameters, a progress display and a summary. */
static int run_repeat(struct run_ctx *c)
{
	bool tty = isatty(fileno(c->hout));
	long i, passed = 0, failed = 0, total = c->o->repeat * sweep_count(c->ax, c->nax);
	double start = util_clock_s(CLOCK_MONOTONIC);
	int status, worst = CLI_OK;

	c->quiet = true;
	fprintf(c->hout, "%ld runs of experiment '%s'; before each: stopped nodes started, cut links "
		"restored, every emulated link's parameters set to the model's (routes, addresses and "
		"files the commands changed are not put back)\n", total, cli_esc(c->exp->name));
	for (i = 0; i < total && !run_stop; i++) {
		double t0 = util_clock_s(CLOCK_MONOTONIC);

		if (tty && i == 0)
			run_progress(c, tty, 0, total, 0, CLI_OK, 0, 0);
		status = run_prepare(c, i);
		if (!status)
			status = run_once(c);
		if (status == CLI_OK)
			passed++;
		else
			failed++;
		if (tty && status != CLI_OK)
			fputc('\n', c->hout); /* the failure was printed over the bar */
		run_progress(c, tty, i + 1, total, failed, status, util_clock_s(CLOCK_MONOTONIC) - t0,
			     util_clock_s(CLOCK_MONOTONIC) - start);
		if (status == CLI_SYSTEM || status == RUN_EXIT_INTERRUPTED) {
			worst = status;
			break;
		}
		if (status)
			worst = CLI_USER;
	}
	fprintf(c->hout, "%ld run%s of experiment '%s': %ld passed, %ld failed", passed + failed,
		passed + failed == 1 ? "" : "s", cli_esc(c->exp->name), passed, failed);
	if (c->restored)
		fprintf(c->hout, "; %zu node%s or link%s put back between runs", c->restored,
			c->restored == 1 ? "" : "s", c->restored == 1 ? "" : "s");
	fputc('\n', c->hout);
	return worst;
}

/* --show: the runs of the experiment, or with --json their results. */
static int run_show(struct db *db, const struct db_exp *exp, bool json)
{
	struct db_result *res = NULL;
	struct db_run *runs = NULL;
	struct run_ctx c = { .db = db, .exp = exp };
	size_t n = 0, i;
	int r;

	r = json ? db_result_list(db, exp->id, 0, &res, &n) : db_run_list(db, exp->id, &runs, &n);
	if (r) {
		cli_err("cannot read the runs of '%s': %s", exp->name, strerror(-r));
		return CLI_SYSTEM;
	}
	if (json) {
		for (i = 0; i < n; i++)
			run_print_json(&c, &res[i], false);
		db_results_free(res, n);
		return CLI_OK;
	}
	if (!n)
		printf("experiment '%s' has no runs yet (vtb run %s)\n", cli_esc(exp->name),
		       cli_esc(exp->name));
	else
		printf("%-5s %-19s %10s  %-11s %s\n", "RUN", "STARTED", "DURATION", "STATUS",
		       "FAILED TASK");
	for (i = 0; i < n; i++) {
		time_t when = (time_t)runs[i].started;
		struct tm tm;
		char stamp[32] = "?";

		if (localtime_r(&when, &tm))
			strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		if (runs[i].ended > 0)
			printf("%-5lld %-19s %8.2f s  %-11s %s\n", (long long)runs[i].run, stamp,
			       runs[i].ended - runs[i].started, runs[i].status,
			       cli_esc(runs[i].failed_task[0] ? runs[i].failed_task : "-"));
		else
			printf("%-5lld %-19s %10s  %-11s %s\n", (long long)runs[i].run, stamp, "-",
			       runs[i].status, "-");
	}
	free(runs);
	return CLI_OK;
}

static int run_usage(void)
{
	cli_err("run: usage: vtb run NAME [--json] [--keep-going] [--repeat N] "
		"[--sweep LINK.PARAM=V1,V2...]... [--show] [--local] [--skew-ok]");
	return CLI_USER;
}

static int run_parse(int argc, char **argv, struct run_opts *o, const char **name)
{
	char *end;
	int i;

	*name = NULL;
	o->repeat = 1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			o->json = true;
		} else if (!strcmp(argv[i], "--keep-going")) {
			o->keep_going = true;
		} else if (!strcmp(argv[i], "--show")) {
			o->show = true;
		} else if (!strcmp(argv[i], "--local") || !strcmp(argv[i], "--serve")) {
			o->local = true; /* --serve, hidden: a host's part (run_part.c) */
			o->serve |= argv[i][2] == 's';
		} else if (!strcmp(argv[i], "--coordinate")) {
			o->coordinate = true; /* hidden: from a host with no part (cli_relay_run) */
		} else if (!strcmp(argv[i], "--skew-ok")) {
			o->skew_ok = true;
		} else if (!strcmp(argv[i], "--sweep")) {
			if (++i == argc || o->nsweeps == RUN_MAX_SWEEPS)
				return run_usage();
			o->sweeps[o->nsweeps++] = argv[i];
		} else if (!strcmp(argv[i], "--repeat")) {
			if (++i == argc)
				return run_usage();
			errno = 0;
			o->repeat = strtol(argv[i], &end, 10);
			if (errno || *end || end == argv[i] || o->repeat < 1 || o->repeat > 1000000) {
				cli_err("run: --repeat wants a number of runs from 1 to 1000000, not '%s'",
					argv[i]);
				return CLI_USER;
			}
		} else if (argv[i][0] == '-' || *name) {
			return run_usage();
		} else {
			*name = argv[i];
		}
	}
	return *name ? 0 : run_usage();
}

/* Catch SIGINT and SIGTERM (no SA_RESTART, so poll returns): the run stops
 * its commands and records itself as interrupted instead of leaving them
 * running in their own process groups. */
static void run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Parse o's --sweep words into ax[0..*nax) against c's model; say what is
 * wrong with one, or a sweep of too many runs. Returns 0 or CLI_USER. */
static int run_axes(const struct run_ctx *c, const struct run_opts *o, struct sweep_axis *ax,
		    size_t *nax)
{
	char why[UTIL_ERR_LEN];
	long combos;

	for (*nax = 0; *nax < o->nsweeps; (*nax)++)
		if (sweep_parse(c->x, c->rz, o->sweeps[*nax], &ax[*nax], why, sizeof(why))) {
			cli_err("run %s: --sweep %s", cli_esc(c->exp->name), cli_esc(why));
			return CLI_USER;
		}
	combos = sweep_count(ax, *nax);
	if (!combos || combos > SWEEP_MAX_RUNS / o->repeat) {
		cli_err("run %s: the sweep asks for more than %ld runs", cli_esc(c->exp->name),
			SWEEP_MAX_RUNS);
		return CLI_USER;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	struct realization *rz = NULL;
	struct xir *x = NULL;
	struct db *db = NULL;
	struct db_exp e;
	struct sweep_axis ax[RUN_MAX_SWEEPS];
	size_t idx[RUN_MAX_SWEEPS], nax = 0, i;
	struct run_ctx c;
	char why[UTIL_ERR_LEN];
	const char *name;
	int status, r;

	status = run_parse(argc, argv, &o, &name);
	o.local &= !o.coordinate;
	if (!status && !o.local && (r = runcl_elsewhere(name, argc, argv)) >= 0)
		return r;
	if (!status)
		status = cli_open_exp("run", name, &db, &e);
	if (status)
		goto out;
	if (o.show) {
		status = run_show(db, &e, o.json);
		goto out;
	}
	if (e.state != DB_UP) {
		cli_err("experiment '%s' is not up (state %s)", name, status_state_name(e.state));
		status = CLI_USER;
		goto out;
	}
	r = status_load(db, &e, &x, &rz);
	if (r) {
		cli_err("cannot load the model of '%s' from the state database: %s", name,
			strerror(-r));
		status = CLI_SYSTEM;
		goto out;
	}
	r = files_task(x, rz, why, sizeof(why));
	if (r) {
		cli_err("run %s: %s", name, why);
		status = r == -ENOMEM ? CLI_SYSTEM : CLI_USER;
		goto out;
	}
	if (!x->ntasks) {
		cli_err("experiment '%s' has no tasks: add task(...) to its model", name);
		status = CLI_USER;
		goto out;
	}
	run_catch_signals();
	if (o.serve) {
		status = run_part_serve(db, &e, x, rz, &run_stop);
		goto out;
	}
	if (rz->cluster && !o.local && (o.repeat > 1 || o.nsweeps)) {
		cli_err("run %s: --repeat and --sweep are not supported across hosts yet (each run "
			"would restore every host's nodes and links first): run it once at a time, or "
			"--local for this host's part", cli_esc(name));
		status = CLI_USER;
		goto out;
	}
	c = (struct run_ctx){ .db = db, .exp = &e, .x = x, .o = &o, .rz = rz, .ax = ax,
			      .hout = o.json ? stderr : stdout, .idx = idx };
	status = run_axes(&c, &o, ax, &nax);
	if (status)
		goto out;
	c.nax = nax;
	status = o.repeat > 1 || nax ? run_repeat(&c) : run_once(&c);
out:
	for (i = 0; i < nax; i++)
		sweep_axis_free(&ax[i]);
	realize_free(rz);
	xir_free(x);
	db_close(db);
	return status;
}
