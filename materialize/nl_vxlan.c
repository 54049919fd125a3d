/* nl_vxlan: the kernel side of a dispersed link (see nl.h and
 * docs/cluster.md ("VXLAN")): the VXLAN device (a VTEP) of one host, the
 * all-zeros forwarding entries that flood to the remote VTEPs, the entries
 * per remote MAC that send unicast to one host only, and the MTU
 * rule that lets a full-size frame cross the underlay unfragmented.
 *
 * Why the UDP socket stays in the host's namespace although the device
 * lives in the substrate namespace: rtnetlink hands a link kind's newlink
 * the namespace the request came from (rtnl_newlink_link_net(): the
 * IFLA_LINK_NETNSID one when given, else the socket's own), and
 * drivers/net/vxlan/vxlan_core.c keeps it (vxlan_config_apply:
 * "vxlan->net = src_net" on creation); vxlan_open opens the device's UDP
 * socket in vxlan->net, and vxlan_get_link_net reports it, so a dump of
 * the device in the substrate carries IFLA_LINK_NETNSID (`ip -d link`:
 * link-netns). IFLA_NET_NS_FD only decides where the device is
 * registered. tests/system/test_vxlan.c checks both: the port is bound in
 * the host namespace and not in the substrate. */
#include "nl_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <string.h>
#include <sys/socket.h>

/* IFLA_INFO_DATA of a VXLAN device. No IFLA_VXLAN_GROUP and no
 * IFLA_VXLAN_REMOTE: flooding goes through the forwarding entries only.
 * Learning off: the remote VTEPs are known, and a learned entry would
 * outlive a node that moved. UDP checksums on (the kernel's default on
 * 6.x, said explicitly): over veth (simulated hosts) the checksum is left
 * partial and never computed, on a NIC with tunnel offload it is computed
 * in hardware, and on a real wire it is the only check of the inner frame
 * (its Ethernet FCS is gone). The source port range is the kernel's
 * default (a hash of the inner flow, so ECMP in the underlay spreads
 * flows). */
static void vxlan_put_data(struct nl_req *r, const struct nl_vxlan_conf *vx)
{
	uint16_t port = htons(vx->port ? vx->port : NL_VXLAN_PORT);
	struct nlattr *data;

	data = nl_req_nest_start(r, IFLA_INFO_DATA);
	nl_req_put_u32(r, IFLA_VXLAN_ID, vx->vni);
	nl_req_put(r, IFLA_VXLAN_PORT, sizeof(port), &port);
	nl_req_put(r, IFLA_VXLAN_LOCAL, 4, vx->local.bytes);
	nl_req_put_u8(r, IFLA_VXLAN_LEARNING, 0);
	nl_req_put_u8(r, IFLA_VXLAN_UDP_CSUM, 1);
	nl_req_nest_end(r, data);
}

/* One RTM_NEWLINK from the socket's namespace, with IFLA_NET_NS_FD when
 * ns_fd is given: the device is registered there, its socket is opened
 * here (see the top of the file). IFF_UP (opts->up) is applied once the
 * device is registered, which opens the socket. The VNI's range and
 * uniqueness (per host namespace and port: every VTEP of the host shares
 * one socket) are the kernel's to judge, in its own words. */
int nl_vxlan_create(struct nl_sock *s, const char *name, int ns_fd, const struct nl_vxlan_conf *vx,
		    const struct nl_link_opts *opts, struct nl_err *err)
{
	struct nl_err dummy;
	struct nlattr *info;
	struct nl_req r;

	err = nl_err_start(err, &dummy);
	if (!name || !vx)
		return nl_req_fail(s, err, -EINVAL, "a VXLAN device needs a name and a VNI");
	if (vx->local.family != AF_INET)
		return nl_req_fail(s, err, -EAFNOSUPPORT,
				   "the underlay address of %s must be IPv4", name);
	info = nl_link_create_start(s, &r, name, ns_fd, opts, "vxlan");
	vxlan_put_data(&r, vx);
	nl_req_nest_end(&r, info);
	return nl_req_submit(s, &r, 0, err);
}

/* One RTM_NEWNEIGH or RTM_DELNEIGH of the forwarding entry (mac, remote)
 * of the VXLAN device ifindex: what `bridge fdb add|append|del MAC dev DEV
 * dst REMOTE` sends. NTF_SELF: the entry is the VXLAN device's own table,
 * not a bridge's. Permanent: never aged out. Submitted (queued in a
 * batch); ok as for nl_req_submit. */
static int fdb_msg(struct nl_sock *s, uint16_t type, uint16_t flags, int ifindex,
		   const uint8_t mac[6], const struct addr_prefix *remote, int ok, struct nl_err *err)
{
	struct nl_req r;
	struct ndmsg *ndm;

	ndm = nl_req_start(s, &r, type, flags, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_NOARP | NUD_PERMANENT;
	ndm->ndm_flags = NTF_SELF;
	nl_req_put(&r, NDA_LLADDR, 6, mac);
	nl_req_put(&r, NDA_DST, 4, remote->bytes);
	return nl_req_submit(s, &r, ok, err);
}

/* The ifindex of the VXLAN device dev (an immediate lookup, see
 * nl_ifindex), or a negative errno recorded in err; -ENODEV unrecorded
 * when gone_ok (a deletion: gone is success). */
static int fdb_dev(struct nl_sock *s, const char *dev, bool gone_ok, struct nl_err *err)
{
	int ifindex = nl_ifindex(s, dev);

	if (ifindex == -ENODEV && gone_ok)
		return ifindex;
	if (ifindex < 0)
		return nl_req_fail(s, err, ifindex, "cannot find the VXLAN device %s: %s",
				   dev ? dev : "(null)", strerror(-ifindex));
	return ifindex;
}

/* dev's all-zeros entry toward remote (the flooding list), added or
 * deleted; gone is success for a deletion, and so is ok (-ENOENT, an
 * entry already gone). */
static int fdb_req(struct nl_sock *s, uint16_t type, uint16_t flags, const char *dev,
		   const struct addr_prefix *remote, int ok, struct nl_err *err)
{
	static const uint8_t zero_mac[6];
	struct nl_err dummy;
	int ifindex;

	err = nl_err_start(err, &dummy);
	if (!remote || remote->family != AF_INET)
		return nl_req_fail(s, err, -EAFNOSUPPORT, "the remote VTEP of %s must be IPv4",
				   dev ? dev : "(null)");
	ifindex = fdb_dev(s, dev, type == RTM_DELNEIGH, err);
	if (ifindex == -ENODEV && type == RTM_DELNEIGH)
		return 0;
	if (ifindex < 0)
		return ifindex;
	return fdb_msg(s, type, flags, ifindex, zero_mac, remote, ok, err);
}

/* One lookup of dev, then every entry in one batch (the caller's, when
 * one is open: its flush reports). NLM_F_REPLACE: an entry of that MAC
 * already there (toward any remote) is made this one, so building again
 * is not an error; the kernel refuses to replace only all-zeros and
 * multicast entries, which a node's MAC never is. */
int nl_fdb_add_macs(struct nl_sock *s, const char *dev, const struct nl_fdb_mac *v, size_t n,
		    struct nl_err *err)
{
	bool own = !s->batching;
	struct nl_err dummy;
	int ifindex, r = 0;
	size_t i;

	err = nl_err_start(err, &dummy);
	for (i = 0; i < n; i++)
		if (v[i].remote.family != AF_INET || (v[i].mac[0] & 1))
			return nl_req_fail(s, err, v[i].remote.family != AF_INET ? -EAFNOSUPPORT
										 : -EINVAL,
					   "a forwarding entry of %s needs a unicast MAC and an "
					   "IPv4 remote VTEP", dev ? dev : "(null)");
	if (!n)
		return 0;
	ifindex = fdb_dev(s, dev, false, err);
	if (ifindex < 0)
		return ifindex;
	if (own)
		nl_batch_begin(s);
	for (i = 0; i < n && !r; i++)
		r = fdb_msg(s, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, v[i].mac,
			    &v[i].remote, 0, err);
	if (own) {
		int f = nl_batch_flush(s, err);

		r = r ? r : f;
	}
	return r;
}

/* NLM_F_APPEND adds remote to the entry's list of destinations (without
 * it a second remote would replace the first); the same remote twice is
 * not an error for the kernel. */
int nl_fdb_append(struct nl_sock *s, const char *dev, const struct addr_prefix *remote,
		  struct nl_err *err)
{
	return fdb_req(s, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, dev, remote, 0, err);
}

/* NDA_DST selects the one destination to remove; the others stay. */
int nl_fdb_del(struct nl_sock *s, const char *dev, const struct addr_prefix *remote,
	       struct nl_err *err)
{
	return fdb_req(s, RTM_DELNEIGH, 0, dev, remote, -ENOENT, err);
}

/* See nl.h. Pure. */
int nl_vxlan_inner_mtu(unsigned underlay_mtu, bool ipv4)
{
	unsigned over = ipv4 ? NL_VXLAN_OVERHEAD4 : NL_VXLAN_OVERHEAD6;

	if (underlay_mtu > INT32_MAX)
		underlay_mtu = INT32_MAX;
	if (underlay_mtu < over + NL_VXLAN_MIN_MTU)
		return -ERANGE;
	return (int)(underlay_mtu - over);
}

/* See nl.h. Pure. The default keeps nodes at 1500 (what every tool and
 * model assumes) when the underlay allows it; a smaller underlay lowers
 * the dispersed link's MTU rather than fragmenting the outer packets
 * (fragments cost the underlay twice the packets, and are lost together).
 * An MTU the model asks for is never lowered behind its back. */
int nl_vxlan_node_mtu(unsigned underlay_mtu, bool ipv4, unsigned want)
{
	int inner = nl_vxlan_inner_mtu(underlay_mtu, ipv4);

	if (inner < 0)
		return inner;
	if (want)
		return want <= (unsigned)inner ? (int)want : -EMSGSIZE;
	return inner < NL_VXLAN_NODE_MTU ? inner : NL_VXLAN_NODE_MTU;
}
