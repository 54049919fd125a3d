/* redirect: the Trellis "shortbridge" — two root-namespace interfaces
 * joined by a kernel redirect, with no bridge and no MAC lookup. A tc
 * program on the ingress of each (clsact, direct action) hands every frame
 * to the other one's egress: a frame a VM writes to its tap leaves by the
 * veth of the container on the other end, and back. */
#ifndef VTB_REDIRECT_H
#define VTB_REDIRECT_H

#include <stddef.h>

/* Redirect everything arriving on from_ifindex to the egress of
 * to_ifindex. The program goes with the interface: deleting it removes
 * everything. Returns 0 or a negative errno, with the kernel's words
 * (the verifier's log when it refuses the program) in err. */
int redir_attach(int from_ifindex, int to_ifindex, char *err, size_t errlen);

#endif
