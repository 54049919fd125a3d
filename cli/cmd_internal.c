/* cmd_internal: the hidden commands vtb runs itself, never a user:
 * "__supervise ID READY_FD RELEASE_FD" (the experiment's supervisor,
 * started by `vtb up`), "__vmexec ID NODE CMD" (a task's command on a
 * VM) and "__step ID T:C START_NS" (a task's host step, steps.h), both
 * exec'd by exec/tasks.c so that the task runner only ever waits on a
 * process. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "files.h"
#include "status.h"
#include "steps.h"
#include "supervisor.h"
#include "util.h"

/* How long a task's command on a VM may run: tasks have no time limit of
 * their own (a benchmark may run for hours), so this only bounds a command
 * whose VM stopped answering; a day is far past any real task. */
#define CLI_VMEXEC_TIMEOUT_MS (24 * 3600 * 1000)

int cmd_supervise(int argc, char **argv)
{
	if (argc != 4)
		return CLI_USER;
	return sup_main(argv[1], atoi(argv[2]), atoi(argv[3]));
}

/* Run the command on the VM with its output on our stdout (fd 1); exit
 * with its status, or 126 when it could not be run (as a shell does). */
int cmd_vmexec(int argc, char **argv)
{
	char err[UTIL_ERR_LEN];
	int status = 0, r;

	const char *e = getenv("VTB_EXPERIMENT"), *n = getenv("VTB_NODE");
	char *cmd = NULL;

	if (argc != 4)
		return CLI_USER;
	/* the task runner's VTB_EXPERIMENT and VTB_NODE, for the guest's
	 * command too (names: letters, digits, '-', '_' and '.', no quoting
	 * needed inside single quotes) */
	if (e && n && asprintf(&cmd, "export VTB_EXPERIMENT='%s' VTB_NODE='%s'; %s", e, n, argv[3]) < 0)
		cmd = NULL;
	r = sup_vm_exec(argv[1], argv[2], cmd ? cmd : argv[3], CLI_VMEXEC_TIMEOUT_MS, 1, &status,
			err, sizeof(err));
	free(cmd);
	if (r) {
		cli_err("VM '%s': %s", argv[2], err);
		return 126;
	}
	return status;
}

/* Sleep until CLOCK_REALTIME reaches at_ns (a time to wait for, not a
 * poll: clock_nanosleep with TIMER_ABSTIME, again after a signal). */
static void step_wait_until(int64_t at_ns)
{
	struct timespec ts = { .tv_sec = at_ns / 1000000000, .tv_nsec = at_ns % 1000000000 };

	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Do step T:C of experiment ID at START_NS + its at=: say on stdout when
 * ("at SECONDS.NANOS (+S s): what") and exit 0, or say why on stderr and
 * exit 1 (the step failed) or 126 (it could not be tried). */
int cmd_step(int argc, char **argv)
{
	char what[UTIL_ERR_LEN] = "", err[UTIL_ERR_LEN] = "";
	struct realization *rz = NULL;
	struct xir *x = NULL;
	struct db *db = NULL;
	unsigned long t, c;
	long long start;
	struct db_exp e;
	int64_t at;
	int status = 126, r;

	if (argc != 4 || sscanf(argv[2], "%lu:%lu", &t, &c) != 2 || sscanf(argv[3], "%lld", &start) != 1)
		return CLI_USER;
	/* a step of a vtb run that has died is not done (no cut at +2 s of a
	 * run nobody records) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
		return 126;
	if (cli_open_db(&db))
		goto out;
	r = db_exp_get(db, argv[1], &e);
	if (!r)
		r = status_load(db, &e, &x, &rz);
	/* the tasks as vtb run numbers them: the files' task first */
	if (!r)
		r = files_task(x, rz, err, sizeof(err));
	if (r || t >= x->ntasks || c >= x->tasks[t].ncmd) {
		cli_err("step: cannot load experiment %s: %s", argv[1], strerror(r ? -r : EINVAL));
		goto out;
	}
	step_wait_until(start + x->tasks[t].cmd[c].at_ns);
	at = util_clock_ns(CLOCK_REALTIME);
	r = steps_do(db, &e, x, rz, &x->tasks[t].cmd[c], what, sizeof(what), err, sizeof(err));
	if (r) {
		cli_err("%s", err);
		status = 1;
		goto out;
	}
	printf("at %lld.%09lld (+%.3f s): %s\n", (long long)(at / 1000000000),
	       (long long)(at % 1000000000), (double)(at - start) / 1e9, what);
	status = 0;
out:
	realize_free(rz);
	xir_free(x);
	db_close(db);
	return status;
}
