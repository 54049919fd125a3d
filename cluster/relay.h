/* relay: running a vtb command on another host of the cluster, over TLS
 * with both hosts' certificates (docs/cluster.md, "The relay"). Each
 * agent listens on its underlay address, RELAY_PORT; a connection must
 * present a certificate of the cluster's CA whose CN is a host registered
 * in etcd with the connection's source address as its underlay. It sends
 * one request (relay_proto.h): the agent runs `vtb CMD --local ARGS` (a
 * whitelisted command, for this host's part of an experiment) with a
 * pseudo-terminal when the requester is at one, and the two ends stream
 * standard input, output and error, then the exit status. */
#ifndef VTB_RELAY_H
#define VTB_RELAY_H

#include <pthread.h>
#include <stdbool.h>

#include "clconf.h"
#include "util.h"

/* The relay's TCP port, on each host's underlay address only: open it
 * between the cluster's hosts (docs/cluster.md, "What to open"). */
#define RELAY_PORT 7937

/* What relay_call connects to the command's ends: in (-1: no input, the
 * command sees its end at once), out and err (file descriptors), or out
 * collected in *collect when it is not NULL. */
struct relay_io {
	int in, out, err;
	struct util_buf *collect;
};

/* Run vtb's command argv (argc words after "vtb", e.g. "exec" "demo" "a")
 * on host, reached at its underlay address addr, as c's host; the
 * command's exit status in *status. Returns 0 when the command ran (*status
 * says how it went), -EACCES or -EPERM when the host refused (err says
 * why: a certificate, an unknown host, a command not relayed), or another
 * negative errno (err: cannot connect, connection lost). When the input
 * is a terminal the command gets a pseudo-terminal of its size, and the
 * terminal is raw meanwhile. */
int relay_call(const struct clconf *c, const char *host, const char *addr, int argc,
	       char **argv, const struct relay_io *io, int *status, char *err);

/* Serve one connection fd (owned: closed here) as c's host: check the
 * peer, read its request, run `exe CMD --local ARGS` and relay. Returns 0
 * or a negative errno with err (also said to the peer when it refused). */
int relay_serve(const struct clconf *c, int fd, const char *exe, char *err);

/* The agent's listener: a thread accepting on c's underlay address,
 * RELAY_PORT, and starting `exe __relay-session` for each connection (its
 * standard input the connection). */
struct relay_listener {
	int fd;
	pthread_t thread;
	bool running;
	const char *exe;
};

/* Listen (bound when this returns) and start the thread. 0 or a negative
 * errno with err. */
int relay_listen(const struct clconf *c, const char *exe, struct relay_listener *l, char *err);
/* Stop the thread and close the socket (sessions under way go on);
 * nothing when it was not started. */
void relay_listen_stop(struct relay_listener *l);

#endif
