/* dag: the task graph and its worker pool. */
#include "dag.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util.h"

struct dag_task {
	dag_fn fn;
	void *arg;
	uint32_t waiting;     /* unfinished predecessors */
	uint32_t *next;       /* successors */
	size_t nnext, cap;
};

struct dag {
	void *ctx;
	struct dag_task *t;
	size_t n, cap;
	/* run state */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t *ready;      /* a stack of runnable tasks */
	size_t nready;
	uint32_t *first;      /* those with ids below nfirst_ids, taken first */
	size_t nfirst;
	uint32_t nfirst_ids;
	size_t done, running;
	int result;
	uint32_t failed;
	bool stopped;         /* result is -EINTR from *stop, no task's */
	const volatile sig_atomic_t *stop;
	dag_progress_fn progress;
};

struct dag *dag_new(void *ctx)
{
	struct dag *g = calloc(1, sizeof(*g));

	if (g)
		g->ctx = ctx;
	return g;
}

void dag_free(struct dag *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n; i++)
		free(g->t[i].next);
	free(g->t);
	free(g->ready);
	free(g);
}

void dag_set_first(struct dag *g, uint32_t n)
{
	g->nfirst_ids = n;
}

/* Make task id runnable. */
static void dag_push(struct dag *g, uint32_t id)
{
	if (id < g->nfirst_ids)
		g->first[g->nfirst++] = id;
	else
		g->ready[g->nready++] = id;
}

void dag_set_stop(struct dag *g, const volatile sig_atomic_t *stop)
{
	g->stop = stop;
}

size_t dag_count(const struct dag *g)
{
	return g->n;
}

int dag_add(struct dag *g, dag_fn fn, void *arg, uint32_t *id)
{
	struct dag_task t = { .fn = fn, .arg = arg };

	if (g->n >= UINT32_MAX - 1)
		return -E2BIG;
	if (UTIL_PUSH(g->t, g->n, g->cap, t))
		return -ENOMEM;
	if (id)
		*id = (uint32_t)(g->n - 1);
	return 0;
}

int dag_edge(struct dag *g, uint32_t before, uint32_t after)
{
	struct dag_task *b = &g->t[before];

	if (UTIL_PUSH(b->next, b->nnext, b->cap, after))
		return -ENOMEM;
	g->t[after].waiting++;
	return 0;
}

/* Take a runnable task, or return false when there is nothing left to do
 * for this worker (all done, or a failure and nothing running). */
static bool take(struct dag *g, uint32_t *id)
{
	for (;;) {
		if (g->result == 0 && g->stop && *g->stop) {
			g->result = -EINTR;
			g->stopped = true;
		}
		if (g->result == 0 && (g->nfirst || g->nready)) {
			*id = g->nfirst ? g->first[--g->nfirst] : g->ready[--g->nready];
			g->running++;
			return true;
		}
		/* nothing runnable: finished, failed, or waiting for running work */
		if (g->done == g->n || g->running == 0)
			return false;
		pthread_cond_wait(&g->cond, &g->lock);
	}
}

static void finish(struct dag *g, uint32_t id, int r)
{
	struct dag_task *t = &g->t[id];
	size_t i;

	g->running--;
	g->done++;
	if (r && !g->result) {
		g->result = r;
		g->failed = id;
	}
	if (!r)
		for (i = 0; i < t->nnext; i++)
			if (--g->t[t->next[i]].waiting == 0)
				dag_push(g, t->next[i]);
	if (g->progress)
		g->progress(g->ctx, g->done, g->n);
	pthread_cond_broadcast(&g->cond);
}

struct worker {
	struct dag *g;
	unsigned index;
	pthread_t thread;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct dag *g = w->g;
	uint32_t id;

	pthread_mutex_lock(&g->lock);
	while (take(g, &id)) {
		int r;

		pthread_mutex_unlock(&g->lock);
		r = g->t[id].fn(g->ctx, w->index, g->t[id].arg);
		pthread_mutex_lock(&g->lock);
		finish(g, id, r);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int dag_run(struct dag *g, unsigned nworkers, dag_progress_fn progress, uint32_t *failed)
{
	sigset_t all, old;
	struct worker *w;
	unsigned i, started = 0;
	size_t k;
	int r = 0;

	if (!g->n)
		return 0;
	if (!nworkers)
		nworkers = 1;
	g->ready = malloc(g->n * sizeof(*g->ready));
	g->first = malloc(g->n * sizeof(*g->first));
	w = calloc(nworkers, sizeof(*w));
	if (!g->ready || !g->first || !w) {
		r = -ENOMEM;
		goto out;
	}
	g->nready = g->nfirst = g->done = g->running = 0;
	g->result = 0;
	g->stopped = false;
	g->progress = progress;
	for (k = 0; k < g->n; k++)
		if (!g->t[k].waiting)
			dag_push(g, (uint32_t)k);
	if (!g->nready && !g->nfirst) {
		r = -ELOOP; /* every task waits for another: a cycle */
		goto out;
	}
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	/* the workers inherit a mask blocking every signal, so a handler runs
	 * in the caller's thread and never makes a task's system call fail
	 * with EINTR */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < nworkers; i++) {
		w[i].g = g;
		w[i].index = i;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			break;
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started) {
		/* no thread could start: run everything here */
		struct worker self = { .g = g, .index = 0 };

		worker_main(&self);
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	r = g->result;
	if (r && failed && !g->stopped)
		*failed = g->failed;
	if (!r && g->done != g->n)
		r = -ELOOP;
out:
	free(w);
	free(g->ready);
	free(g->first);
	g->ready = g->first = NULL;
	return r;
}
