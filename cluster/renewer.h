/* renewer: a thread that calls a renewal every period until stopped, the
 * one mechanism behind every etcd lease vtb keeps alive (the agent's host
 * lease, the owner lease of a vtb up or down). The wait between calls is
 * a condition variable, so renewer_stop ends it at once. */
#ifndef VTB_RENEWER_H
#define VTB_RENEWER_H

#include <pthread.h>
#include <stdbool.h>

struct renewer {
	int (*renew)(void *arg); /* nonzero: the thread ends */
	void *arg;
	int period_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, running;
};

/* Start calling renew(arg) every period_ms (first after one period) in a
 * thread of its own. 0 or a negative errno (then nothing runs, and
 * renewer_stop does nothing). */
int renewer_start(struct renewer *w, int period_ms, int (*renew)(void *arg), void *arg);

/* Stop the thread (waiting for a renewal under way) and free w's parts;
 * nothing when it was not started (a zeroed w included). */
void renewer_stop(struct renewer *w);

#endif
