/* lanswitch: a direct LAN's layer-2 switch without a bridge device
 * (docs/cli.md, "What vtb builds"). The LAN's ports in the substrate (a
 * container's veth end, a VM's tap) each get a tc program on their ingress
 * (clsact, direct action) and share one learning table (a BPF hash map from
 * MAC address to port): a frame's source is learnt for the port it came
 * in on; a frame to a known unicast address goes to that port's egress
 * (bpf_redirect); a broadcast, multicast or unknown one is copied to every
 * other port of the LAN (bpf_clone_redirect) and dropped on its own.
 *
 * Why not a Linux bridge: the kernel pays an RCU barrier for every bridge
 * it deletes (br_multicast_dev_del, with RTNL held), about 20 ms here, so
 * an experiment with 100 LANs kept the host's RTNL busy for two seconds
 * after vtb down (docs/benchmarks.md); programs and maps go with their
 * ports at no such cost. No spanning tree (vtb's bridges had it off) and no
 * ageing: a MAC that moves is learnt again from its first frame. */
#ifndef VTB_LANSWITCH_H
#define VTB_LANSWITCH_H

#include <stddef.h>

#include "nl.h"

/* The most entries of one LAN's learning table; a full table still
 * switches, flooding what it cannot learn. */
#define LSW_TABLE_MAX 4096

/* Switch the n ports ifindex[0..n-1] (in the namespace of s, up, n >= 2)
 * as one LAN: one program, put on every port's ingress in one batch on s.
 * Everything goes with the ports. Returns 0 or a negative errno with the
 * kernel's words (the verifier's log when it refuses the program) in err. */
int lsw_attach(struct nl_sock *s, const int *ifindex, size_t n, char *err, size_t errlen);

#endif
