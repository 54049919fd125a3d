/* taskmsg: what a host's part of a vtb run across hosts says to the host
 * that coordinates the run (docs/cluster.md, "vtb run across hosts"), one
 * JSON object per line, with no I/O here: the part builds the lines, the
 * coordinator parses them with exact shape checks (the part is on another
 * host, behind the relay). Fuzzed by fuzz/fuzz_taskmsg.c.
 *
 *   {"hello": HOST}                 the part is open (its nodes found)
 *   {"clock": NS}                   its CLOCK_REALTIME, answering "clock"
 *   {"ready": T}                    task T's commands wait at the start line
 *   {"result": {"task", "cmd", "start_ns", "end_ns", "exit", "status",
 *               "out", "err"}}      one command's record (out, err base64)
 *   {"done": T, "late_ns": NS}      task T ended (T = -1: the background
 *                                   commands, at the end of the run); how
 *                                   late its start line was let go
 *   {"error": TEXT, "task": T}      task T (or -1: the part) failed
 *
 * The coordinator's words to a part are lines of text: "clock", "prepare
 * T", "go T NS" (NS in the part's clock), "stop" (stop the commands that
 * run), "end" (stop the background commands, report them, exit). */
#ifndef VTB_TASKMSG_H
#define VTB_TASKMSG_H

#include <stddef.h>
#include <stdint.h>

#include "tasks.h"
#include "util.h"

/* The longest line: a command's two streams of TASKS_OUTPUT_MAX bytes in
 * base64 (4 bytes per 3) and their truncation lines, with room to spare. */
#define TASKMSG_LINE_MAX (4u * TASKS_OUTPUT_MAX)

enum taskmsg_kind {
	TASKMSG_HELLO,
	TASKMSG_CLOCK,
	TASKMSG_READY,
	TASKMSG_RESULT,
	TASKMSG_DONE,
	TASKMSG_ERROR,
};

struct taskmsg {
	enum taskmsg_kind kind;
	int64_t num;               /* CLOCK: the time; READY, DONE, ERROR: the task */
	int64_t late_ns;           /* DONE */
	char text[UTIL_ERR_LEN];   /* HELLO: the host; ERROR: why */
	struct tasks_result res;   /* RESULT: out and err are the caller's */
};

/* Parse one line (len bytes, no newline) of a part of a run of a model of
 * ntasks tasks whose task t has ncmd(t) commands (cmds[t]). 0 with *m,
 * -EPROTO when it is not one of the messages above exactly (an unknown or
 * missing member, a task or command out of range, an exit out of 0-255,
 * bad base64), -ENOMEM. */
int taskmsg_parse(const char *line, size_t len, size_t ntasks, const size_t *cmds,
		  struct taskmsg *m);

/* The line of result v (with its newline), NUL-terminated, the caller's;
 * NULL when out of memory. */
char *taskmsg_result(const struct tasks_result *v);

/* The line of a message without a result: HELLO and ERROR take text, the
 * others num (and DONE late_ns). The caller's; NULL when out of memory. */
char *taskmsg_line(enum taskmsg_kind kind, int64_t num, int64_t late_ns, const char *text);

#endif
