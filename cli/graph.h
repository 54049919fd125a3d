/* graph: an experiment's topology as a Graphviz graph (libcgraph builds
 * it, libgvc lays it out and renders it), for vtb graph. Containers are
 * boxes, VMs 3-D boxes labelled "VM", a point-to-point link an edge, a LAN
 * (3 or more endpoints) a node of its own with an edge to each member.
 * Links carry their constraints, endpoints their interface and addresses;
 * emulated links are dashed and red. With a status document (a running
 * experiment's, from its supervisor) each emulated direction's counters
 * are added. Library code: nothing here prints. */
#ifndef VTB_GRAPH_H
#define VTB_GRAPH_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "realize.h"
#include "xir.h"

/* Graphs with more nodes (devices and LANs) than this are laid out by sfdp
 * instead of dot. dot draws the neatest pictures but its crossing
 * minimisation grows fast on meshed graphs: measured on a loaded 2-core
 * machine (Graphviz 2.43, a chain with a chord every 5 links and a LAN
 * every 10, labels as vtb writes them), dot took 0.4 s for 100 nodes,
 * 0.75 s for 120, 2.9 s for 150, 10.6 s for 200 and over 100 s for 300;
 * sfdp 0.07 s for 100 and 0.8 s for 1000 (neato 3 s for 1000). */
#define GRAPH_DOT_MAX_NODES 120

struct graph;

/* The graph of x. rz (may be NULL: no addresses, emulation as the model
 * says) gives interfaces, addresses, subnets and which links are
 * emulated; status (may be NULL) a status document whose links have
 * "directions" with "counters" (vtb status --json). Nothing is kept of
 * x, rz or status. 0 and *out (graph_free frees it), or -ENOMEM. */
int graph_build(const struct xir *x, const struct realization *rz, const json_t *status,
		struct graph **out);
void graph_free(struct graph *g);

/* The nodes of the graph: devices and LANs. */
size_t graph_nodes(const struct graph *g);
/* The layout engine for a graph of n nodes: "dot", or "sfdp" above
 * GRAPH_DOT_MAX_NODES. */
const char *graph_engine(size_t n);

/* The output format for file's extension ("svg", "png", "pdf", "dot"), 0;
 * -EINVAL when the extension is not one of them, -ENOTSUP when this
 * Graphviz cannot write that format. */
int graph_format(const char *file, const char **format);
/* "svg, png, pdf, dot": the extensions graph_format takes that this
 * Graphviz can write, in buf. */
void graph_formats(char *buf, size_t len);

/* Write g to out in format (graph_format's): "dot" is the DOT text, not
 * laid out, with the engine to use as the graph's layout attribute (so
 * `dot -Tpng` on it picks it); the others are laid out, then rendered.
 * 0, or -EIO with Graphviz's message in err (UTIL_ERR_LEN bytes). */
int graph_write(struct graph *g, const char *format, FILE *out, char *err, size_t errlen);

#endif
