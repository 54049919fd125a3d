/* nl_addr: addresses and routes (see nl.h). */
#include "nl_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* The bytes of an address of family: 4, 16, or 0 for another family. */
size_t nl_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Add a to ifname (looked up by an immediate request, see nl_ifindex).
 * NLM_F_EXCL, and -EEXIST (the same address is there) counts as success. */
int nl_addr_add(struct nl_sock *s, const char *ifname, const struct addr_prefix *a,
		struct nl_err *err)
{
	struct nl_err dummy;
	struct ifaddrmsg *ifa;
	struct nl_req r;
	size_t alen;
	int ifindex;

	err = nl_err_start(err, &dummy);
	alen = a ? nl_addr_len(a->family) : 0;
	if (!alen)
		return nl_req_fail(s, err, -EAFNOSUPPORT, "not an IPv4 or IPv6 address");
	ifindex = nl_ifindex(s, ifname);
	if (ifindex < 0)
		return nl_req_fail(s, err, ifindex, "cannot find the link %s: %s",
				   ifname ? ifname : "(null)", strerror(-ifindex));
	ifa = nl_req_start(s, &r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)(a->plen > 255 ? 255 : a->plen);
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	nl_req_put(&r, IFA_LOCAL, alen, a->bytes);
	nl_req_put(&r, IFA_ADDRESS, alen, a->bytes);
	return nl_req_submit(s, &r, -EEXIST, err);
}

/* A static unicast route in the main table. The kernel picks the device
 * from the gateway, so no lookup is needed. dst's host bits are cleared.
 * NLM_F_EXCL, and -EEXIST counts as success: note the kernel says EEXIST
 * for any route to the same destination and metric, whatever its gateway. */
int nl_route_add(struct nl_sock *s, const struct addr_prefix *dst, const struct addr_prefix *gw,
		 struct nl_err *err)
{
	struct addr_prefix net;
	struct nl_err dummy;
	struct rtmsg *rt;
	struct nl_req r;
	size_t alen;

	err = nl_err_start(err, &dummy);
	alen = dst ? nl_addr_len(dst->family) : 0;
	if (!alen || !gw || gw->family != dst->family)
		return nl_req_fail(s, err, -EAFNOSUPPORT,
				"the destination and the gateway must be both IPv4 or both IPv6");
	if (dst->plen > alen * 8)
		return nl_req_fail(s, err, -EINVAL, "prefix length %u is out of range", dst->plen);
	net = addr_network(dst);
	rt = nl_req_start(s, &r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
	rt->rtm_family = (uint8_t)dst->family;
	rt->rtm_dst_len = (uint8_t)dst->plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	if (dst->plen)
		nl_req_put(&r, RTA_DST, alen, net.bytes);
	nl_req_put(&r, RTA_GATEWAY, alen, gw->bytes);
	return nl_req_submit(s, &r, -EEXIST, err);
}
