/* redirect: the Trellis "shortbridge" — two root-namespace interfaces
 * joined by a kernel redirect, with no bridge and no MAC lookup (also the
 * shortcut of a direct dispersed point-to-point link: its port and its
 * VXLAN device, build_dispersed_p2p.c). A tc
 * program on the ingress of each (clsact, direct action) hands every frame
 * to the other one's egress: a frame a VM writes to its tap leaves by the
 * veth of the container on the other end, and back. */
#ifndef VTB_REDIRECT_H
#define VTB_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>

/* Redirect everything arriving on from_ifindex to the egress of
 * to_ifindex. The program goes with the interface: deleting it removes
 * everything. Returns 0 or a negative errno, with the kernel's words
 * (the verifier's log when it refuses the program) in err. */
int redir_attach(int from_ifindex, int to_ifindex, char *err, size_t errlen);

/* Redirect everything arriving on from_ifindex into the ingress of the
 * other end of the veth veth_ifindex, in its own namespace
 * (bpf_redirect_peer): the frame is received there without a transmit
 * and a second receive. The kernel drops what it cannot deliver (the
 * other end down, or in from_ifindex's namespace). As redir_attach. */
int redir_attach_peer(int from_ifindex, int veth_ifindex, char *err, size_t errlen);

/* Join interfaces a and b (names in the calling thread's network
 * namespace): a's ingress to b's egress, and b's ingress to a's egress,
 * or, with into_peer_of_a (a is a veth), into the other end of a. As
 * redir_attach. */
int redir_join(const char *a, const char *b, bool into_peer_of_a, char *err, size_t errlen);

#endif
