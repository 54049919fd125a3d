/* linkstate: cut a link the way a pulled cable does, and restore it (vtb
 * link down / up). A link with substrate ports (a LAN, an emulated link, a
 * shortbridge) is cut by setting the chosen endpoints' ports down: a
 * container's end of its veth then has no carrier (NO-CARRIER, LOWER_DOWN;
 * its addresses and routes stay, marked linkdown), a VM's tap drops what
 * crosses it. A direct veth has no port: one node end is set down (the
 * chosen endpoint's, or the first's), its peer loses carrier; the end set
 * down keeps its IPv6 addresses (keep_addr_on_down) and gets the model's
 * routes back when it comes up. Nothing is stored: the kernel's state is
 * the link's state. */
#ifndef VTB_LINKSTATE_H
#define VTB_LINKSTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "realize.h"

/* Cut (up false) or restore (up true) link li of rz: endpoint from's side
 * (-1: every endpoint's). Returns the number of interfaces set, or a
 * negative errno with err naming the interface and the kernel's words. */
int linkstate_set(const struct realization *rz, size_t li, int from, bool up, char *err,
		  size_t errlen);

/* Whether link li is cut: 1 when one of its ports (or, on a direct veth,
 * one of its node ends) is down, 0 when none is, or a negative errno
 * (-ENODEV: an interface is gone). */
int linkstate_is_down(const struct realization *rz, size_t li);

#endif
