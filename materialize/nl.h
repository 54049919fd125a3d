/* nl: the one module that talks rtnetlink (libmnl underneath). No other file
 * builds an nlmsghdr. Every request asks for NETLINK_EXT_ACK and a failure
 * carries the kernel's own words in struct nl_err.
 *
 * A struct nl_sock is bound to one network namespace (the caller's, or one
 * given by fd) and is used by one thread at a time. Requests can be batched:
 * between nl_batch_begin and nl_batch_flush they are queued in one buffer and
 * sent with one sendto; the flush reads every ack and reports the first
 * failure with the index of the request that failed.
 *
 * The module's files and what they share: materialize/nl_impl.h. */
#ifndef VTB_NL_H
#define VTB_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct nl_sock;

struct nl_err {
	int code;        /* negative errno, 0 when none */
	char msg[256];   /* the kernel's extended ack, or strerror, or ours */
	size_t index;    /* in a batch: which request failed (0-based) */
};

/* Open a socket in the namespace held by ns_fd (-1: the caller's). The fd
 * is not kept. Returns 0 or a negative errno. */
int nl_open(struct nl_sock **out, int ns_fd);
void nl_close(struct nl_sock *s);

/* Batching. Requests made between begin and flush are queued (up to the
 * buffer's size: a full buffer is flushed on its own). flush returns 0 or
 * the first error (the rest of the batch was still sent; see err->index). */
void nl_batch_begin(struct nl_sock *s);
int nl_batch_flush(struct nl_sock *s, struct nl_err *err);

struct nl_link_opts {
	unsigned mtu;        /* 0: kernel default */
	const uint8_t *mac;  /* 6 bytes or NULL */
	bool up;
	uint32_t group;      /* netdev group (IFLA_GROUP); 0: the default group */
	uint32_t master;     /* ifindex of a bridge to join at creation (IFLA_MASTER,
			      * in the link's own namespace; not for a veth peer);
			      * 0: none */
};

/* Create a veth pair: name in the namespace ns_fd, peer in peer_ns_fd (-1:
 * the socket's namespace), both created there directly (IFLA_NET_NS_FD), so
 * nothing is ever moved. opts apply to name, peer_opts to peer (NULL: none). */
int nl_veth_create(struct nl_sock *s, const char *name, int ns_fd, const struct nl_link_opts *opts,
		   const char *peer, int peer_ns_fd, const struct nl_link_opts *peer_opts,
		   struct nl_err *err);
/* Create a bridge in the socket's namespace, up, with STP off, forward delay
 * 0, and no learning of the host: a plain L2 segment for a LAN. */
int nl_bridge_create(struct nl_sock *s, const char *name, const struct nl_link_opts *opts,
		     struct nl_err *err);
/* Make name a port of bridge master (both in the socket's namespace). */
int nl_link_set_master(struct nl_sock *s, const char *name, const char *master, struct nl_err *err);
/* Set a link up or down / its MTU / its MAC (opts fields that are set). */
int nl_link_set(struct nl_sock *s, const char *name, const struct nl_link_opts *opts,
		struct nl_err *err);
/* Delete a link by name. A link that does not exist is success. */
int nl_link_del(struct nl_sock *s, const char *name, struct nl_err *err);
/* Add an address (with prefix) to a link. An existing identical address is success. */
int nl_addr_add(struct nl_sock *s, const char *ifname, const struct addr_prefix *a,
		struct nl_err *err);
/* Add a route to dst via gateway gw (a host address; prefix ignored). An
 * identical existing route is success. dst with plen 0 is a default route. */
int nl_route_add(struct nl_sock *s, const struct addr_prefix *dst, const struct addr_prefix *gw,
		 struct nl_err *err);
/* A link as a dump lists it. */
struct nl_link_ent {
	char name[16];
	int ifindex;
	uint32_t group;
	unsigned mtu;
};

/* Every link of the socket's namespace (a dump): *v is an array of *n the
 * caller frees. 0 or a negative errno. Not for use inside a batch. */
int nl_link_list(struct nl_sock *s, struct nl_link_ent **v, size_t *n);
/* The names of the links of netdev group `group` in the socket's namespace
 * (a dump). *names is an array of *n names the caller frees. 0 or a
 * negative errno. Not for use inside a batch. */
int nl_group_links(struct nl_sock *s, uint32_t group, char (**names)[16], size_t *n);
/* Put BPF program prog_fd (BPF_PROG_TYPE_SCHED_CLS) on the ingress of
 * link ifindex: a clsact qdisc (one there already is kept) and a
 * direct-action bpf filter named name, handle 1, priority 1 (nl_tc.c).
 * Two requests: in a batch, prog_fd must stay open until the flush. */
int nl_tc_ingress_bpf(struct nl_sock *s, int ifindex, int prog_fd, const char *name,
		      struct nl_err *err);
/* Delete every link of netdev group `group` with one request: the kernel
 * unregisters them as one batch, much faster than one by one (bridges).
 * The caller must know the group holds only what it means to delete. */
int nl_group_del(struct nl_sock *s, uint32_t group, struct nl_err *err);

/* The ifindex of name, -ENODEV when the socket's namespace has no such
 * link, -EINVAL for a name no link can have (empty, IFNAMSIZ or longer),
 * or another negative errno when the lookup failed. */
int nl_ifindex(struct nl_sock *s, const char *name);
/* 1 when a link with this name exists in the socket's namespace, 0 when
 * it does not, or a negative errno when that could not be found out (a
 * failed lookup is not an absent link). */
int nl_link_exists(struct nl_sock *s, const char *name);
/* Wait until the link name is gone from the socket's namespace, at most
 * timeout_ms: on the kernel's RTM_DELLINK event (a socket subscribed to
 * RTNLGRP_LINK before the link is looked up once, so no deletion is
 * missed), not by polling. Returns 0 when it is gone (or never was),
 * -ETIMEDOUT, or a negative errno. */
int nl_link_wait_gone(struct nl_sock *s, const char *name, int timeout_ms);
/* The MTU of the link name in the socket's namespace, or a negative errno
 * (-ENODEV: no such link, -EINVAL: a name no link can have). */
int nl_link_mtu(struct nl_sock *s, const char *name);
/* The link of the socket's namespace that holds the local address a (its
 * host part; plen is ignored), e.g. which interface carries a host's
 * underlay address, with its MTU: 0 and *out, -EADDRNOTAVAIL when no link
 * holds it, or a negative errno. Not for use inside a batch. */
int nl_addr_link(struct nl_sock *s, const struct addr_prefix *a, struct nl_link_ent *out);

/* ---- VXLAN: the kernel side of a dispersed link (nl_vxlan.c) ----------
 * docs/cluster.md ("VXLAN") has the design. */

/* The UDP port VXLAN uses unless told otherwise: IANA's (RFC 7348). Always
 * sent to the kernel, whose own default is Linux's older 8472. */
#define NL_VXLAN_PORT 4789
#define NL_VXLAN_VNI_MAX 0xffffffu /* VNIs are 24 bits */
/* What VXLAN wraps around an inner IP packet: the inner Ethernet header
 * (14), the VXLAN header (8), UDP (8) and the outer IPv4 (20) or IPv6 (40)
 * header. An inner 802.1Q tag would need 4 more. */
#define NL_VXLAN_OVERHEAD4 50
#define NL_VXLAN_OVERHEAD6 70
/* A node interface's MTU when the underlay has room for it (1500 + 50 =
 * 1550 for an IPv4 underlay), and the smallest MTU Linux allows. */
#define NL_VXLAN_NODE_MTU 1500
#define NL_VXLAN_MIN_MTU 68

struct nl_vxlan_conf {
	uint32_t vni;             /* 0 .. NL_VXLAN_VNI_MAX, unique per host and port */
	uint16_t port;            /* UDP port; 0: NL_VXLAN_PORT */
	struct addr_prefix local; /* this host's underlay address, IPv4; plen ignored */
};

/* Create the VXLAN device name (a VTEP) from the socket's namespace (the
 * host's, which holds the underlay address) directly in the namespace
 * ns_fd (-1: the socket's; IFLA_NET_NS_FD). Its UDP socket stays in the
 * socket's namespace: the kernel opens it in the namespace the request
 * came from (see nl_vxlan.c). Learning off, no multicast group: a frame
 * whose MAC has no entry of its own (broadcast, and with only all-zeros
 * entries every frame) goes to each remote VTEP listed with
 * nl_fdb_append. opts: MTU, MAC, group, up, as for a veth. */
int nl_vxlan_create(struct nl_sock *s, const char *name, int ns_fd, const struct nl_vxlan_conf *vx,
		    const struct nl_link_opts *opts, struct nl_err *err);
/* Add the remote VTEP remote (IPv4, plen ignored) to the flooding list of
 * the VXLAN device dev of the socket's namespace (where the device now
 * is): an all-zeros MAC forwarding entry, appended, so every frame whose
 * MAC has no entry of its own is sent once to each remote (head-end
 * replication). An entry already there is success. */
int nl_fdb_append(struct nl_sock *s, const char *dev, const struct addr_prefix *remote,
		  struct nl_err *err);
/* A unicast MAC and the remote VTEP (IPv4, plen ignored) holding it. */
struct nl_fdb_mac {
	uint8_t mac[6];
	struct addr_prefix remote;
};
/* Add a permanent forwarding entry per v[i] to the VXLAN device dev of the
 * socket's namespace: a frame to v[i].mac goes to v[i].remote only,
 * instead of to every remote of the flooding list (broadcast, multicast
 * and MACs without an entry still go to all of them). An entry of the MAC
 * already there is replaced. The entries go with the device. Sent in one
 * batch (or queued in the caller's); 0 or the first failure (err->index:
 * which entry), -EINVAL for a multicast MAC, -EAFNOSUPPORT for a remote
 * that is not IPv4. */
int nl_fdb_add_macs(struct nl_sock *s, const char *dev, const struct nl_fdb_mac *v, size_t n,
		    struct nl_err *err);
/* Remove remote from dev's flooding list (a host leaving the LAN). An
 * entry or device already gone is success. */
int nl_fdb_del(struct nl_sock *s, const char *dev, const struct addr_prefix *remote,
	       struct nl_err *err);
/* The largest inner MTU that crosses an underlay of MTU underlay_mtu
 * unfragmented: underlay_mtu minus NL_VXLAN_OVERHEAD4 (ipv4) or
 * NL_VXLAN_OVERHEAD6, or -ERANGE when that is below NL_VXLAN_MIN_MTU. */
int nl_vxlan_inner_mtu(unsigned underlay_mtu, bool ipv4);
/* The MTU a dispersed link's node interfaces and VTEP get. want 0 (the
 * model sets none): the default NL_VXLAN_NODE_MTU when the underlay has
 * room for it (an IPv4 underlay of 1550 or more), else the largest that
 * crosses (nl_vxlan_inner_mtu), which the caller reports as lowered. want
 * set (the model's `mtu`): want, or -EMSGSIZE when it cannot cross.
 * -ERANGE as nl_vxlan_inner_mtu. */
int nl_vxlan_node_mtu(unsigned underlay_mtu, bool ipv4, unsigned want);

#endif
