/* agent: the per-host daemon of a cluster (`vtb agent`, docs/cluster.md).
 * It registers the host in etcd (clhost.h), holds the host's lease so the
 * others see it alive, and renews it every CLHOST_RENEW_MS; it rides out an
 * etcd that is down or a lease that expired meanwhile (a suspended host)
 * by registering again. Everything it does goes to its log (sup_log). */
#ifndef VTB_AGENT_H
#define VTB_AGENT_H

#include <sys/types.h>

#include "clconf.h"

/* The agent's log and lock files, in the state directory. */
#define AGENT_LOG_NAME "agent.log"
#define AGENT_LOCK_NAME "agent.pid"

/* Take the agent's lock (one agent per state directory): 0 with *fd
 * holding it and the pid written in it, -EBUSY with *other the pid of the
 * agent that holds it, or another negative errno. */
int agent_lock(int *fd, pid_t *other);

/* Run the agent of the host c describes until SIGTERM or SIGINT (which the
 * caller has blocked: the agent waits for them with sigtimedwait), or
 * until the host's record is removed (`vtb cluster leave`). Returns 0, or a
 * negative errno when it cannot start (err says why: etcd unreachable at
 * start, no cluster at the endpoints). Logs through sup_log. Once the host
 * is registered and alive, a byte goes to ready_fd, which is closed then
 * (-1: none). */
int agent_run(const struct clconf *c, int ready_fd, char *err);

#endif
