/* linkside: where a link's frames can be seen and cut on this host. Each
 * endpoint of a link has a node end (ethN in the node's namespace
 * vtb<id>-<node>; none for a VM, whose end is in the guest) and, for every
 * link class but a direct veth, a port in the substrate namespace vtb<id>
 * (the root end of the node's veth, or the VM's tap: realize_name's port
 * map). vtb capture and vtb link down/up find their places here. */
#ifndef VTB_LINKSIDE_H
#define VTB_LINKSIDE_H

#include <stddef.h>

#include "realize.h"

struct linkside {
	char ns[96];     /* the bound network namespace (/run/netns/NAME) */
	char ifname[16]; /* the interface in it */
};

/* The index of the link named name in x, or -ENOENT. */
int linkside_find(const struct xir *x, const char *name);
/* The index of the link joining nodes a and b (an emulated one first): 0
 * with *li, -ENOENT when none does, -EEXIST when several emulated ones do. */
int linkside_between(const struct xir *x, const struct realization *rz, const char *a,
		     const char *b, size_t *li);
/* The index of the node named name in x, or -ENODEV. */
int linkside_node_find(const struct xir *x, const char *name);
/* The endpoint of link li that node is: its index, -ENODEV when x has no
 * such node, -ENOENT when the node is not on the link. */
int linkside_ep(const struct xir *x, size_t li, const char *node);
/* The node end of endpoint j of link li: 0, -EOPNOTSUPP for a VM, or
 * -EREMOTE for a node of a fragment on another host. */
int linkside_node(const struct realization *rz, size_t li, size_t j, struct linkside *out);
/* The substrate port of endpoint j of link li: 0, -ENOENT for a direct
 * veth (no port), or -EREMOTE for an endpoint of a fragment on another
 * host. */
int linkside_port(const struct realization *rz, size_t li, size_t j, struct linkside *out);
/* Move the calling thread into the bound network namespace ns; *back
 * receives an fd of the one it was in (the caller gives it to
 * linkside_leave). Sockets opened in between stay in ns. 0 or -errno. */
int linkside_enter(const char *ns, int *back);
/* Go back to the namespace of back and close it. 0 or -errno. */
int linkside_leave(int back);
/* Whether interface ifname in ns is administratively up: 1, 0, or -errno
 * (-ENODEV when it is not there). */
int linkside_is_up(const struct linkside *s);

#endif
