/* linkside: the node ends and substrate ports of a link's endpoints. */
#include "linkside.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "build.h"
#include "netns.h"

int linkside_find(const struct xir *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->nlinks; i++)
		if (!strcmp(x->links[i].name, name))
			return (int)i;
	return -ENOENT;
}

/* Whether node name is an endpoint of link l. */
static bool has_node(const struct xir *x, const struct xir_link *l, const char *name)
{
	size_t j;

	for (j = 0; j < l->nep; j++)
		if (!strcmp(x->nodes[l->ep[j].node].name, name))
			return true;
	return false;
}

int linkside_between(const struct xir *x, const struct realization *rz, const char *a,
		     const char *b, size_t *li)
{
	size_t i, nemu = 0;
	bool found = false;

	if (!strcmp(a, b))
		return -ENOENT;
	for (i = 0; i < x->nlinks; i++) {
		if (!has_node(x, &x->links[i], a) || !has_node(x, &x->links[i], b))
			continue;
		if (!found || (rz->links[i].emulated && nemu == 0))
			*li = i;
		found = true;
		nemu += rz->links[i].emulated;
	}
	return !found ? -ENOENT : nemu > 1 ? -EEXIST : 0;
}

int linkside_node_find(const struct xir *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->nnodes; i++)
		if (!strcmp(x->nodes[i].name, name))
			return (int)i;
	return -ENODEV;
}

int linkside_ep(const struct xir *x, size_t li, const char *node)
{
	int i = linkside_node_find(x, node);
	size_t j;

	if (i < 0)
		return i;
	for (j = 0; j < x->links[li].nep; j++)
		if (x->links[li].ep[j].node == (size_t)i)
			return (int)j;
	return -ENOENT;
}

int linkside_node(const struct realization *rz, size_t li, size_t j, struct linkside *out)
{
	size_t n = rz->x->links[li].ep[j].node;

	if (!realize_node_here(rz, n))
		return -EREMOTE;
	if (rz->nodes[n].kind == RZ_VM)
		return -EOPNOTSUPP;
	build_netns_name(rz->id, rz->x->nodes[n].name, out->ns, sizeof(out->ns));
	snprintf(out->ifname, sizeof(out->ifname), "%s", realize_ep_iface(rz, li, j)->name);
	return 0;
}

int linkside_port(const struct realization *rz, size_t li, size_t j, struct linkside *out)
{
	const struct rz_iface *f = realize_ep_iface(rz, li, j);

	if (!realize_ep_here(rz, li, j))
		return -EREMOTE;
	if (f->port == RZ_NO_PORT)
		return -ENOENT;
	build_substrate_name(rz->id, out->ns, sizeof(out->ns));
	snprintf(out->ifname, sizeof(out->ifname), "%s", f->port_name);
	return 0;
}

int linkside_enter(const char *ns, int *back)
{
	int fd, old, r = 0;

	old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (old < 0)
		return -errno;
	fd = netns_open(ns);
	if (fd < 0) {
		r = fd;
		goto out_close_old;
	}
	if (setns(fd, CLONE_NEWNET))
		r = -errno;
	close(fd);
out_close_old:
	if (r)
		close(old);
	else
		*back = old;
	return r;
}

int linkside_leave(int back)
{
	int r = setns(back, CLONE_NEWNET) ? -errno : 0;

	close(back);
	return r;
}

int linkside_is_up(const struct linkside *s)
{
	struct ifreq ifr = { 0 };
	int back, fd, r;

	r = linkside_enter(s->ns, &back);
	if (r)
		return r;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = linkside_leave(back);
	if (fd < 0)
		return -errno;
	if (r)
		goto out_close_fd;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", s->ifname);
	r = ioctl(fd, SIOCGIFFLAGS, &ifr) ? -errno : !!(ifr.ifr_flags & IFF_UP);
out_close_fd:
	close(fd);
	return r;
}
