/* fuzz_taskmsg: libFuzzer target for the lines a host's part of a vtb run
 * across hosts sends its coordinator (exec/taskmsg.c): the bytes are one
 * line of a run of 3 tasks of 1, 2 and 3 commands. A line is refused with
 * -EPROTO, or accepted as one message whose numbers are within the run
 * (a task, a command, an exit of 0-255); an accepted result encodes back
 * to a line that parses to the same record. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "taskmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Result v must encode to a line that parses back to it. */
static void check_result(const struct tasks_result *v, const size_t *cmds)
{
	char *line = taskmsg_result(v);
	struct taskmsg m;

	if (!line)
		return;
	if (taskmsg_parse(line, strlen(line) - 1, 3, cmds, &m) || m.kind != TASKMSG_RESULT ||
	    m.res.task != v->task || m.res.cmd != v->cmd || m.res.exit != v->exit ||
	    m.res.outlen != v->outlen || m.res.errlen != v->errlen ||
	    memcmp(m.res.out, v->out, v->outlen) || memcmp(m.res.err, v->err, v->errlen))
		abort();
	free(m.res.out);
	free(m.res.err);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t cmds[3] = { 1, 2, 3 };
	struct taskmsg m;
	int r = taskmsg_parse((const char *)data, size, 3, cmds, &m);

	if (r && r != -EPROTO && r != -ENOMEM)
		abort();
	if (r)
		return 0;
	if ((m.kind == TASKMSG_READY && (m.num < 0 || m.num > 2)) ||
	    ((m.kind == TASKMSG_DONE || m.kind == TASKMSG_ERROR) && (m.num < -1 || m.num > 2)))
		abort();
	if (m.kind == TASKMSG_RESULT) {
		if (m.res.task > 2 || m.res.cmd >= cmds[m.res.task] || m.res.exit < 0 ||
		    m.res.exit > 255 || !m.res.out || !m.res.err)
			abort();
		check_result(&m.res, cmds);
		free(m.res.out);
		free(m.res.err);
	}
	return 0;
}
