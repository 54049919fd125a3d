/* nl_link: creating, changing and deleting links (see nl.h): veth pairs
 * made directly in their namespaces, bridges, their ports, up/down, MTU
 * and MAC, deletion by name or by netdev group. */
#include "nl_impl.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <string.h>
#include <sys/socket.h>

void nl_link_put_opts(struct nl_req *r, struct ifinfomsg *ifi, const struct nl_link_opts *o)
{
	if (!o)
		return;
	if (o->mtu)
		nl_req_put_u32(r, IFLA_MTU, o->mtu);
	if (o->mac)
		nl_req_put(r, IFLA_ADDRESS, 6, o->mac);
	if (o->group)
		nl_req_put_u32(r, IFLA_GROUP, o->group);
	/* rtnl_newlink_create joins the master once the link is registered
	 * and configured: one request instead of a lookup and a change */
	if (o->master && ifi)
		nl_req_put_u32(r, IFLA_MASTER, o->master);
	if (o->up && ifi) {
		/* Applied by rtnl_configure_link once the device is
		 * registered (not for a veth peer: see nl_veth_create). */
		ifi->ifi_flags |= IFF_UP;
		ifi->ifi_change |= IFF_UP;
	}
}

/* IFLA_INFO_DATA of a veth: the peer, as a whole ifinfomsg + attributes. */
static void veth_put_peer(struct nl_req *r, const char *peer, int peer_ns_fd,
			  const struct nl_link_opts *peer_opts)
{
	struct nlattr *data, *p;
	struct ifinfomsg *ifi;

	data = nl_req_nest_start(r, IFLA_INFO_DATA);
	p = nl_req_nest_start(r, VETH_INFO_PEER);
	ifi = nl_req_put_ifinfo(r);
	if (ifi)
		ifi->ifi_family = AF_UNSPEC;
	nl_req_put_str(r, IFLA_IFNAME, peer);
	if (peer_ns_fd >= 0)
		nl_req_put_u32(r, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	nl_link_put_opts(r, NULL, peer_opts); /* not up: see nl_veth_create */
	nl_req_nest_end(r, p);
	nl_req_nest_end(r, data);
}

/* See nl_impl.h. IFF_UP in opts is applied by rtnl_configure_link once
 * the device is registered in its namespace. */
struct nlattr *nl_link_create_start(struct nl_sock *s, struct nl_req *r, const char *name,
				    int ns_fd, const struct nl_link_opts *opts, const char *kind)
{
	struct ifinfomsg *ifi;
	struct nlattr *info;

	ifi = nl_req_start(s, r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	nl_req_put_str(r, IFLA_IFNAME, name);
	if (ns_fd >= 0)
		nl_req_put_u32(r, IFLA_NET_NS_FD, (uint32_t)ns_fd);
	nl_link_put_opts(r, ifi, opts);
	info = nl_req_nest_start(r, IFLA_LINKINFO);
	nl_req_put_str(r, IFLA_INFO_KIND, kind);
	return info;
}

/* One RTM_NEWLINK creates both ends, each directly in its namespace.
 *
 * Kernel quirk: IFF_UP cannot be asked for the peer in VETH_INFO_PEER's
 * ifinfomsg. veth_newlink applies it (rtnl_configure_link) before the two
 * ends are linked to each other, so veth_open finds no peer and the whole
 * creation fails with ENOTCONN. name's IFF_UP is applied after the pair is
 * complete and works. So the peer is brought up by a second request once
 * the creation is acknowledged, from a socket in the peer's namespace (see
 * defer_run); in a batch that happens when the queue is flushed, and a
 * failure is reported at the creation's index. */
int nl_veth_create(struct nl_sock *s, const char *name, int ns_fd, const struct nl_link_opts *opts,
		   const char *peer, int peer_ns_fd, const struct nl_link_opts *peer_opts,
		   struct nl_err *err)
{
	struct nl_err dummy;
	struct nlattr *info;
	struct nl_req r;
	int ret;

	err = nl_err_start(err, &dummy);
	if (!name || !peer)
		return nl_req_fail(s, err, -EINVAL, "a veth needs a name for each end");
	info = nl_link_create_start(s, &r, name, ns_fd, opts, "veth");
	veth_put_peer(&r, peer, peer_ns_fd, peer_opts);
	nl_req_nest_end(&r, info);
	ret = nl_req_submit(s, &r, 0, err);
	if (ret || !peer_opts || !peer_opts->up)
		return ret;
	/* Queued (batch) or created (now): the peer goes up after the ack. */
	ret = nl_defer_add(s, peer, peer_ns_fd, err);
	if (ret || s->batching)
		return ret;
	nl_defer_run(s, err);
	return err->code;
}

/* The bridge is always brought up (opts->up is not consulted). STP off and
 * forward delay 0 make ports forward as soon as they are up; multicast
 * snooping off sends multicast to every port, as a plain switch does. */
int nl_bridge_create(struct nl_sock *s, const char *name, const struct nl_link_opts *opts,
		     struct nl_err *err)
{
	struct nl_err dummy;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;
	struct nl_req r;

	err = nl_err_start(err, &dummy);
	if (!name)
		return nl_req_fail(s, err, -EINVAL, "a bridge needs a name");
	ifi = nl_req_start(s, &r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	nl_req_put_str(&r, IFLA_IFNAME, name);
	nl_link_put_opts(&r, NULL, opts);
	info = nl_req_nest_start(&r, IFLA_LINKINFO);
	nl_req_put_str(&r, IFLA_INFO_KIND, "bridge");
	data = nl_req_nest_start(&r, IFLA_INFO_DATA);
	nl_req_put_u32(&r, IFLA_BR_FORWARD_DELAY, 0);
	nl_req_put_u32(&r, IFLA_BR_STP_STATE, 0);
	nl_req_put_u8(&r, IFLA_BR_MCAST_SNOOPING, 0);
	nl_req_nest_end(&r, data);
	nl_req_nest_end(&r, info);
	return nl_req_submit(s, &r, 0, err);
}

/* Start an RTM_NEWLINK that changes the existing link name. The kernel
 * finds it by IFLA_IFNAME (ifi_index 0), so no lookup is needed and the
 * request can follow the link's creation in the same batch. */
static struct ifinfomsg *link_change_start(struct nl_sock *s, struct nl_req *r, const char *name)
{
	struct ifinfomsg *ifi = nl_req_start(s, r, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	nl_req_put_str(r, IFLA_IFNAME, name);
	return ifi;
}

/* Look up master's index (an immediate request, see nl_ifindex), then
 * queue or send the change of name's IFLA_MASTER. */
int nl_link_set_master(struct nl_sock *s, const char *name, const char *master, struct nl_err *err)
{
	struct nl_err dummy;
	struct nl_req r;
	int m;

	err = nl_err_start(err, &dummy);
	if (!name)
		return nl_req_fail(s, err, -EINVAL, "no link name");
	m = nl_ifindex(s, master);
	if (m < 0)
		return nl_req_fail(s, err, m, "cannot find the bridge %s: %s", master ? master : "(null)",
				   strerror(-m));
	link_change_start(s, &r, name);
	nl_req_put_u32(&r, IFLA_MASTER, (uint32_t)m);
	return nl_req_submit(s, &r, 0, err);
}

/* Set name up or down (always, as opts->up says), and its MTU and MAC when
 * given. opts must not be NULL. */
int nl_link_set(struct nl_sock *s, const char *name, const struct nl_link_opts *opts,
		struct nl_err *err)
{
	struct nl_err dummy;
	struct ifinfomsg *ifi;
	struct nl_req r;

	err = nl_err_start(err, &dummy);
	if (!name || !opts)
		return nl_req_fail(s, err, -EINVAL, "no link name or settings");
	ifi = link_change_start(s, &r, name);
	nl_link_put_opts(&r, ifi, opts);
	ifi->ifi_change |= IFF_UP; /* down too, when opts->up is false */
	return nl_req_submit(s, &r, 0, err);
}

/* Queue or send an RTM_DELLINK that selects links by one attribute (a
 * name, a group); -ENODEV (nothing matched, gone already) is success. */
static int link_del_by(struct nl_sock *s, uint16_t type, size_t len, const void *val,
		       struct nl_err *err)
{
	struct ifinfomsg *ifi;
	struct nl_req r;

	ifi = nl_req_start(s, &r, RTM_DELLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	nl_req_put(&r, type, len, val);
	return nl_req_submit(s, &r, -ENODEV, err);
}

/* Delete name (found by the kernel by name); -ENODEV counts as success. */
int nl_link_del(struct nl_sock *s, const char *name, struct nl_err *err)
{
	struct nl_err dummy;

	err = nl_err_start(err, &dummy);
	if (!name)
		return nl_req_fail(s, err, -EINVAL, "no link name");
	return link_del_by(s, IFLA_IFNAME, strlen(name) + 1, name, err);
}

/* See nl.h: one request, the kernel deletes the whole group. */
int nl_group_del(struct nl_sock *s, uint32_t group, struct nl_err *err)
{
	struct nl_err dummy;

	err = nl_err_start(err, &dummy);
	if (!group)
		return nl_req_fail(s, err, -EINVAL, "refusing to delete the default group");
	return link_del_by(s, IFLA_GROUP, sizeof(group), &group, err);
}
