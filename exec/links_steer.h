/* links_steer: the cores that carry the bypassed links' frames
 * (docs/link-emulator.md, "Cores").
 *
 * A bypassed direction is carried by the kernel in the softirq of whatever
 * core received the frame: without steering, the sender's, through every
 * bypassed hop after it (a veth hands a frame to its peer on the same
 * core), so a chain of ten nodes runs on one core however many the machine
 * has. Steering gives each node a core: the experiment's nodes joined by
 * bypassable links (point-to-point, emulated, both ends on this host) are
 * divided into one part per usable core (METIS, as placement across hosts,
 * so that few links cross between parts), and the port of a direction
 * into node B has its receive steered (RPS) to B's core while the
 * direction is bypassed: each core carries the hops into its part's
 * nodes. A frame crosses cores only on a link between parts. */
#ifndef VTB_LINKS_STEER_H
#define VTB_LINKS_STEER_H

#include "realize.h"
#include "xir.h"

/* The core of every node of x into core[x->nnodes]: 1 + a core for a node
 * at an end of a bypassable link (bypass says whether bypass is allowed at
 * all), 0 for the others and for all when there is nothing to divide (one
 * usable core, one such node, VTB_EMU_STEER=0, or METIS missing or
 * failing: then the kernel's way, the sender's core, as before). */
void links_steer_cores(const struct xir *x, const struct realization *rz, bool bypass,
		       int *core);

#endif
