/* linkstate: ports and node ends set down and up (vtb link down / up). */
#include "linkstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "linkside.h"
#include "netns.h"
#include "nl.h"
#include "util.h"

/* Set s down or up; with again, then add the node's routes of the model
 * (those through another interface that is down fail, quietly: they come
 * back with that one). 0 or a negative errno with err. */
static int set_one(const struct linkside *s, bool up, const struct rz_node *again, char *err,
		   size_t errlen)
{
	struct nl_sock *sock = NULL;
	struct nl_err e = { 0 };
	char key[64];
	size_t i;
	int fd, r;

	fd = netns_open(s->ns);
	if (fd < 0) {
		util_fmt(err, errlen, "cannot open namespace %s: %s", s->ns, strerror(-fd));
		return fd;
	}
	if (!up && again) {
		/* a node end set down would lose its IPv6 addresses */
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/keep_addr_on_down", s->ifname);
		netns_sysctl(fd, key, "1");
	}
	r = nl_open(&sock, fd);
	if (r) {
		util_fmt(err, errlen, "cannot talk to namespace %s: %s", s->ns, strerror(-r));
		goto out_close_fd;
	}
	r = nl_link_set(sock, s->ifname, &(struct nl_link_opts){ .up = up }, &e);
	if (r) {
		util_fmt(err, errlen, "cannot set %s %s in %s: %s", s->ifname, up ? "up" : "down",
			 s->ns, e.msg);
		goto out_close_sock;
	}
	for (i = 0; up && again && i < again->nroutes; i++)
		nl_route_add(sock, &again->routes[i].dst, &again->routes[i].via, NULL);
out_close_sock:
	nl_close(sock);
out_close_fd:
	close(fd);
	return r;
}

int linkstate_set(const struct realization *rz, size_t li, int from, bool up, char *err,
		  size_t errlen)
{
	const struct xir_link *l = &rz->x->links[li];
	struct linkside s;
	size_t j;
	int r, n = 0;

	if (rz->links[li].cls == RZ_LC_VETH) {
		j = from >= 0 ? (size_t)from : 0;
		r = linkside_node(rz, li, j, &s);
		if (!r)
			r = set_one(&s, up, &rz->nodes[l->ep[j].node], err, errlen);
		return r ? r : 1;
	}
	for (j = 0; j < l->nep; j++) {
		if (from >= 0 && (size_t)from != j)
			continue;
		r = linkside_port(rz, li, j, &s);
		if (r == -EREMOTE)
			continue; /* a fragment's: its own host sets it */
		if (!r)
			r = set_one(&s, up, NULL, err, errlen);
		if (r)
			return r;
		n++;
	}
	return n;
}

int linkstate_is_down(const struct realization *rz, size_t li)
{
	struct linkside s;
	size_t j;
	int r;

	for (j = 0; j < rz->x->links[li].nep; j++) {
		r = rz->links[li].cls == RZ_LC_VETH ? linkside_node(rz, li, j, &s)
						     : linkside_port(rz, li, j, &s);
		if (r)
			continue;
		r = linkside_is_up(&s);
		if (r <= 0)
			return r < 0 ? r : 1;
	}
	return 0;
}
