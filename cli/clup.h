/* clup: vtb up, down, status and clean on a cluster (docs/cluster.md,
 * "Experiments across hosts"). Used when /etc/vtb/cluster.conf exists. */
#ifndef VTB_CLUP_H
#define VTB_CLUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "clconf.h"
#include "cli.h"
#include "xir.h"

#define CLUP_SUMMARY_MAX 40

/* Whether this host is in a cluster: 1 with *c filled, 0 when not, or a
 * negative errno after saying why (a bad configuration file). */
int clup_conf(struct clconf *c);

/* Bring x (compiled from file, whose text is src) up across the live
 * hosts; the exit status. */
int clup_up(const struct clconf *c, const char *file, const char *src, size_t len,
	    const struct xir *x);

/* Remove experiment name from every host: the exit status, or -1 when the
 * cluster has no experiment of that name (the caller looks in the local
 * state then). */
int clup_down(const struct clconf *c, const char *name);

/* Remove the cluster's experiments whose vtb up or down is gone (their
 * owner's lease expired) and that are not up: the exit status, *removed
 * how many. */
int clup_clean(const struct clconf *c, size_t *removed);

/* vtb status: the cluster's experiments and what vtb down left on hosts
 * it could not reach (name NULL), or one experiment: each host's report,
 * lost hosts and what is gone with them (clstatus.c). With view, the one
 * experiment as JSON in *view (the caller's) and nothing printed; without,
 * printed as text. CLI_OK, -1 when the cluster has no experiment name, or
 * an exit status (said). */
int clup_status_view(const struct clconf *c, const char *name, json_t **view);

#endif
