/* run_cluster: vtb run of an experiment across the hosts of a cluster
 * (docs/cluster.md, "vtb run across hosts"). The host vtb run is started
 * on coordinates: it starts a part on every host holding commands (`vtb
 * run --local NAME --serve`: its own directly, the others' through their
 * agents, the relay), measures each one's clock against its own, and for
 * each task has every part make its commands ready, gives them one start
 * time (in each host's clock), and gathers their records. The same calls
 * as tasks.h's, so that cmd_run.c records and reports a run across hosts
 * as one on one host. */
#ifndef VTB_RUN_CLUSTER_H
#define VTB_RUN_CLUSTER_H

#include <signal.h>
#include <stdbool.h>

#include "cli.h"
#include "db.h"
#include "realize.h"
#include "tasks.h"

struct runcl;

/* Start the parts of experiment name (model x, realized as rz, whose
 * rz->cluster says where each node is) and measure their clocks. A host
 * whose clock is not known to RUN_CL_CLOCK_MAX_NS is refused unless
 * skew_ok. stop is vtb run's signal flag. Returns 0 with *out, or a
 * negative errno with why naming the host. */
int runcl_open(const struct xir *x, const struct realization *rz, const char *name, bool skew_ok,
	       const volatile sig_atomic_t *stop, struct runcl **out, char *why, size_t whylen);

/* Run task t on every host (tasks_run_task's contract). The records of
 * what ran are appended to *res and *n even when it returns an error: a
 * part that could not make its commands ready (none ran), or a host lost
 * during the task (its agent's lease lapsed, or its connection broke: why
 * names it and the task; the other hosts' commands are stopped). */
int runcl_run_task(struct runcl *c, size_t t, struct tasks_result **res, size_t *n, char *why,
		   size_t whylen);

/* Stop every part's background commands and gather their records; the
 * parts end. 0 or a negative errno with why. */
int runcl_stop_background(struct runcl *c, struct tasks_result **res, size_t *n, char *why,
			  size_t whylen);

/* Why the commands of the last task were stopped when a host was lost
 * ("host 'h3' was lost"), or NULL. */
const char *runcl_stopped_why(const struct runcl *c);

/* End every part still running and release c; accepts NULL. */
void runcl_close(struct runcl *c);

/* The host that ran a command on node of x (realized across hosts as rz):
 * its name, or "-" for a link step (each endpoint's host did its side). */
const char *runcl_host_of(const struct xir *x, const struct realization *rz, const char *node);

/* vtb run NAME (argc words of argv) on a cluster host whose state has no
 * experiment NAME: when the cluster has it, its run is coordinated by one
 * of its hosts (cli_relay_run). -1 when this host has it or the cluster
 * has not, else the exit status. */
int runcl_elsewhere(const char *name, int argc, char **argv);

/* vtb run --local NAME --serve: this host's part (run_part.c), speaking
 * on standard input and output. The exit status. */
int run_part_serve(struct db *db, const struct db_exp *e, const struct xir *x,
		   const struct realization *rz, const volatile sig_atomic_t *stop);

#endif
