/* proc: processes named by pid and start time (a pid alone may be reused by
 * the time we look), and waiting for them to end on a pidfd instead of a
 * sleep loop. Nothing here prints. */
#ifndef VTB_PROC_H
#define VTB_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* The start time of process pid (field 22 of /proc/PID/stat, clock ticks
 * since boot), or 0 when it does not exist or has ended (a zombie counts as
 * ended: PID 1 in a container often never reaps it). A journaled process
 * is the one we started when its pid exists with the same start time. */
uint64_t proc_start_time(pid_t pid);

/* 1 when pid runs and started at start, 0 when not (gone, a zombie, or the
 * pid now belongs to another process). */
int proc_alive(pid_t pid, uint64_t start);

/* Wait until process (pid, start) has ended, at most timeout_ms (a
 * negative timeout waits for ever). Waits on a pidfd, which the kernel
 * makes readable when the process exits (also for a process that is not
 * our child, and before anyone reaps it). Returns 0 when it has ended (or
 * was never there), -ETIMEDOUT, or a negative errno. */
int proc_wait_gone(pid_t pid, uint64_t start, int timeout_ms);

/* Stop process (pid, start) if it still runs: SIGTERM, up to timeout_ms
 * for it to end, then SIGKILL (and up to timeout_ms again). Returns 0 when
 * it is gone, or a negative errno (-ETIMEDOUT: even SIGKILL did not end
 * it in time, e.g. a task stuck in the kernel). */
int proc_stop(pid_t pid, uint64_t start, int timeout_ms);

#endif
