/* renewer: a thread that renews every period until stopped (see
 * renewer.h). */
#include "renewer.h"

#include <time.h>

static void *renewer_run(void *arg)
{
	struct renewer *w = arg;
	struct timespec ts;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += w->period_ms / 1000;
		ts.tv_nsec += (long)(w->period_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		if (w->renew(w->arg)) {
			pthread_mutex_lock(&w->lock);
			break;
		}
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int renewer_start(struct renewer *w, int period_ms, int (*renew)(void *arg), void *arg)
{
	int r;

	*w = (struct renewer){ .renew = renew, .arg = arg, .period_ms = period_ms };
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	r = -pthread_create(&w->thread, NULL, renewer_run, w);
	w->running = !r;
	if (r) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
	}
	return r;
}

void renewer_stop(struct renewer *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->running = false;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}
