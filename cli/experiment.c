/* experiment: what the experiment commands share. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "compile.h"
#include "diag.h"
#include "cli.h"
#include "db.h"
#include "proc.h"
#include "orphans.h"
#include "supervisor.h"

int cli_need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	cli_err("%s needs root (network namespaces and links): run it as root, e.g. sudo vtb %s ...",
		cmd, cmd);
	return CLI_USER;
}

/* Say so when the database has lost experiments that are still up (it was
 * removed, emptied or replaced): only vtb clean can remove them now. */
static void warn_orphans(struct db *db)
{
	char (*ids)[DB_ID_LEN + 1] = NULL;
	size_t n = 0, i;

	if (orphans_find(db, &ids, &n) || !n)
		goto out;
	for (i = 0; i < n; i++)
		cli_err("the state database does not know experiment id %s, whose control socket "
			"is in %s: the database was removed or replaced while it was up; "
			"vtb clean removes what it created", ids[i], db_state_dir());
out:
	free(ids);
}

int cli_open_db(struct db **db)
{
	char why[256] = "";
	int r = db_open(db_state_dir(), db, why, sizeof(why));

	if (!r) {
		warn_orphans(*db);
		return 0;
	}
	cli_err("cannot open the state database in %s: %s%s%s", db_state_dir(), strerror(-r),
		why[0] ? ": " : "", why);
	return CLI_SYSTEM;
}

int cli_find_exp(struct db *db, const char *name, struct db_exp *exp)
{
	int r = db_exp_find(db, name, exp);

	if (!r)
		return 0;
	if (r == -ENOENT) {
		cli_err("no experiment named '%s' (vtb status lists them)", name);
		return CLI_USER;
	}
	cli_err("cannot read the state database: %s", strerror(-r));
	return CLI_SYSTEM;
}

int cli_open_exp(const char *cmd, const char *name, struct db **db, struct db_exp *exp)
{
	int status = cli_need_root(cmd);

	if (!status)
		status = cli_open_db(db);
	if (!status)
		status = cli_find_exp(*db, name, exp);
	return status;
}

volatile sig_atomic_t cli_stop;

/* Only records the signal: everything else happens outside the handler. */
static void cli_on_signal(int sig)
{
	cli_stop = sig;
}

/* The signals that end a command at a terminal or from a service manager. */
static void cli_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void cli_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = cli_on_signal };

	cli_stop_signals(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void cli_block_signals(void)
{
	sigset_t set;

	cli_stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int cli_pending_signal(void)
{
	sigset_t set;

	if (sigpending(&set))
		return 0;
	return sigismember(&set, SIGINT) ? SIGINT : sigismember(&set, SIGTERM) ? SIGTERM
		: sigismember(&set, SIGHUP) ? SIGHUP : 0;
}

int cli_exp_supervisor(struct db *db, const char *id, pid_t *pid, uint64_t *start)
{
	struct db_obj *v = NULL;
	size_t n = 0, i;
	int r = db_journal_list(db, id, &v, &n);

	for (i = 0; !r && i < n; i++)
		if (v[i].kind == DB_PROCESS && !strcmp(v[i].name, CLI_SUP_JOURNAL_NAME))
			break;
	if (!r && i == n)
		r = -ENOENT;
	if (!r) {
		*pid = v[i].pid;
		*start = v[i].start;
	}
	free(v);
	return r;
}

bool cli_exp_busy(struct db *db, const struct db_exp *e)
{
	pid_t sup;
	uint64_t start;

	if (e->owner_pid <= 0 || proc_start_time(e->owner_pid) != e->owner_start)
		return false;
	if (e->state == DB_UP || e->state == DB_FAILED)
		return true;
	/* creating or removing with the supervisor as owner (a database an
	 * older vtb wrote, which handed it over before the experiment was up):
	 * the vtb that acted on it is gone */
	return cli_exp_supervisor(db, e->id, &sup, &start) || sup != e->owner_pid ||
	       start != e->owner_start;
}

/* How long a supervisor asked to stop gets to stop its QEMUs and the link
 * emulator and exit on its own; the journal's process entry kills it after.
 * Stopping VMs under TCG takes most of this (QMP quit, then the process). */
#define CLI_SUP_STOP_MS 2000

int cli_remove_experiment(struct db *db, const struct db_exp *exp, struct teardown_stats *st,
			  struct build_error *err)
{
	json_t *reply = NULL;
	uint64_t start;
	pid_t sup;

	/* this process owns the removal from now: should it die, vtb clean
	 * sees its owner gone and finishes it */
	db_exp_set_state_owner(db, exp->id, DB_REMOVING, getpid(), proc_start_time(getpid()));
	/* ask the supervisor to stop; the journal's process entry kills it if
	 * it does not answer */
	if (!sup_request(exp->id, "stop", CLI_SUP_STOP_MS, &reply) &&
	    !cli_exp_supervisor(db, exp->id, &sup, &start))
		proc_wait_gone(sup, start, CLI_SUP_STOP_MS);
	json_decref(reply);
	return build_teardown(db, exp->id, st, err);
}

/* See cli.h. Compile the model; print its diagnostics. CLI_OK with *x and the source
 * in *srcp (for quoting later errors; the caller frees it), or the status. */
int cli_load_model(const char *cmd, const char *file, struct xir **x, char **srcp, size_t *lenp)
{
	struct diag_list d;
	char *src = NULL, *text;
	size_t len;
	int r;

	r = compile_read_file(file, &src, &len);
	if (r) {
		cli_err("%s%scannot read %s: %s", cmd ? cmd : "", cmd ? ": " : "", file,
			strerror(-r));
		return r == -ENOENT || r == -EISDIR || r == -EACCES ? CLI_USER : CLI_SYSTEM;
	}
	diag_init(&d, file, src, len);
	r = compile_source(file, src, len, NULL, x, &d, NULL);
	text = diag_format(&d);
	if (text && *text)
		fputs(text, stderr);
	free(text);
	diag_free(&d);
	if (r) {
		free(src);
		return r == -ENOMEM ? CLI_SYSTEM : CLI_USER;
	}
	*srcp = src;
	*lenp = len;
	return CLI_OK;
}
