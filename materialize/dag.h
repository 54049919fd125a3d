/* dag: a directed acyclic graph of small tasks run by a pool of worker
 * threads as concurrently as the edges allow (Merge's Cogs and their
 * workers). A task that fails stops new work from starting; tasks already
 * running finish; the first failure is kept. */
#ifndef VTB_DAG_H
#define VTB_DAG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct dag;

/* A task body: returns 0 or a negative errno. worker is 0..nworkers-1 (for
 * per-worker resources such as netlink sockets); ctx is the dag's. */
typedef int (*dag_fn)(void *ctx, unsigned worker, void *arg);

/* Progress callback, called from worker threads with a lock held, after
 * each task: done and total task counts. */
typedef void (*dag_progress_fn)(void *ctx, size_t done, size_t total);

struct dag *dag_new(void *ctx);
void dag_free(struct dag *g);

/* Add a task; *id receives its index. arg is not owned. 0 or -ENOMEM. */
int dag_add(struct dag *g, dag_fn fn, void *arg, uint32_t *id);
/* Task `after` runs only when `before` has finished successfully. */
int dag_edge(struct dag *g, uint32_t before, uint32_t after);

/* Stop starting tasks once *stop is non-zero (a signal handler's flag,
 * read between tasks; tasks already running finish): dag_run then returns
 * -EINTR. stop is not owned; NULL (the default) never stops. */
void dag_set_stop(struct dag *g, const volatile sig_atomic_t *stop);

/* Tasks with ids below n are taken before any other runnable task (the
 * default, 0: the most recently made runnable first). */
void dag_set_first(struct dag *g, uint32_t n);

/* Run every task with nworkers threads, which take no signals (they are
 * blocked in them: the caller's thread handles them). Returns 0, the first
 * failure's result with *failed (if not NULL) set to that task's id, or
 * -EINTR when stopped by dag_set_stop's flag (*failed not set). */
int dag_run(struct dag *g, unsigned nworkers, dag_progress_fn progress, uint32_t *failed);
size_t dag_count(const struct dag *g);

#endif
