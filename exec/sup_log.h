/* sup_log: the supervisor's log, <statedir>/<id>.sup.log. One line per
 * event, "TIME LEVEL MESSAGE" (TIME in UTC, ISO 8601 with milliseconds),
 * every error the supervisor meets and why it exits. The file is bounded:
 * past SUP_LOG_MAX bytes it is renamed to <id>.sup.log.1 (replacing the
 * previous one) and a new one is started, so an experiment never holds
 * more than twice that. The log is also the supervisor's stderr, so a
 * sanitizer's report or an abort message lands there too. Thread-safe. */
#ifndef VTB_SUP_LOG_H
#define VTB_SUP_LOG_H

#include <stddef.h>

/* 1 MiB: thousands of lines, far more than an experiment's errors, and
 * small enough that a runaway loop cannot fill the state directory. */
#define SUP_LOG_MAX (1u << 20)

enum sup_log_level { SUP_LOG_INFO, SUP_LOG_WARN, SUP_LOG_ERROR };

/* The log path of experiment id (the rotated one adds ".1"). */
void sup_log_path(const char *id, char *buf, size_t len);

/* Open (append to) the log of experiment id and make it this process's
 * stderr. 0 or a negative errno; the supervisor runs without a log then. */
int sup_log_open(const char *id);

/* Open (append to) the log at path, bounded and rotated the same way, and
 * make it this process's stderr (the cluster agent's log). 0 or a negative
 * errno. */
int sup_log_open_path(const char *path);

/* Append one line at level; nothing happens when no log is open. */
void sup_log(enum sup_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close the log. */
void sup_log_close(void);

/* Remove the log of experiment id and its rotated copy (vtb down and vtb
 * clean, once the supervisor is gone). Missing files are fine. 0 or a
 * negative errno. */
int sup_log_remove(const char *id);

#endif
