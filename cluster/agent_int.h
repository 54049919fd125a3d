/* agent_int: what agent.c (registration, renewal) shares with
 * agent_want.c (the host's wants: building and removing its parts of the
 * cluster's experiments). Not for other modules. */
#ifndef VTB_AGENT_INT_H
#define VTB_AGENT_INT_H

#include <stdbool.h>

#include "clconf.h"

struct etcd;

/* How long one watch for wants lasts before the agent looks at signals
 * and at whether its host left: a signal is acted on within this. */
#define AGENT_WATCH_MS 1000

/* Serve the wants of host c->host over w until *left becomes true or
 * stop() says a signal came: first every want already there (an agent
 * that was down catches up), then each new one as etcd's watch delivers
 * it. One at a time: a part is built or removed by a child vtb
 * (__fragment-up, down --local) whose output goes to the log. */
void agent_wants(struct etcd *w, const struct clconf *c, volatile bool *left, int (*stop)(void));

#endif
