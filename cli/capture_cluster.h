/* capture_cluster: vtb capture of a link whose endpoints are on several
 * hosts of a cluster (docs/cluster.md, "The relay"): a `vtb capture
 * --local` on every host holding an endpoint (this host's as a child, the
 * others' through their agents), their pcap streams merged into one in
 * timestamp order. */
#ifndef VTB_CAPTURE_CLUSTER_H
#define VTB_CAPTURE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "clconf.h"

/* One host to capture on: its name, its underlay address (the relay's),
 * and whether it is this host (captured by a child, not through the
 * relay). */
struct capcl_host {
	const char *name, *addr;
	bool here;
};

/* Run the capture command argv (argc words, "capture" first, as typed) on
 * the n hosts, each with --local and its output in a pipe, and merge
 * their frames into -w FILE or standard output. Returns vtb's exit status
 * after saying what went wrong (a host that cannot be reached, or whose
 * capture fails, is an error naming it). */
int capcl_run(const struct clconf *c, const struct capcl_host *hosts, size_t n, int argc,
	      char **argv);

/* Open where a capture goes: file, or standard output when NULL (refused
 * when a terminal). CLI_OK with *f, or CLI_USER after saying why
 * (cmd_capture.c). */
int capture_open_out(const char *file, FILE **f);

#endif
