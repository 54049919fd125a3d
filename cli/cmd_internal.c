/* cmd_internal: the hidden commands vtb runs itself, never a user:
 * "__supervise ID READY_FD RELEASE_FD" (the experiment's supervisor,
 * started by `vtb up`) and "__vmexec ID NODE CMD" (a task's command on a
 * VM, exec'd by exec/tasks.c so that the task runner only ever waits on a
 * process). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
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
