/* build_dispersed: the links of a fragment whose endpoints are on more
 * than one host (docs/cluster.md, "Fragments and dispersed links"). A
 * direct one (RZ_LC_DISPERSED) is a bridge in the substrate with the local
 * endpoints' ports and one VXLAN device; an emulated one keeps the
 * emulator's ports for its local endpoints, and its remote endpoint's port
 * is the VXLAN device itself (named like that port), so this host's
 * emulator impairs what leaves the local endpoint and passes what comes in
 * from the other host as it is; an emulated LAN's VXLAN device is the
 * emulator's one port for all its endpoints on other hosts. Each VXLAN
 * device is created from the host's namespace (its UDP socket stays there,
 * on the underlay address) directly in the substrate, floods to every
 * other host holding an endpoint of the link, and a LAN's sends unicast
 * to the host holding the destination MAC only. */
#include "build_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* The IPv4 address s (dotted) as a prefix; 0 or -EINVAL. */
static int addr4(const char *s, struct addr_prefix *a)
{
	*a = (struct addr_prefix){ .family = AF_INET, .plen = 32 };
	return inet_pton(AF_INET, s, a->bytes) == 1 ? 0 : -EINVAL;
}

/* Whether host h holds an endpoint of link. */
static bool host_on_link(const struct realization *rz, uint32_t link, uint32_t h)
{
	const struct xir_link *l = &rz->x->links[link];
	size_t j;

	for (j = 0; j < l->nep; j++)
		if (rz->cluster->host_of[l->ep[j].node] == h)
			return true;
	return false;
}

/* A LAN's forwarding entries per remote MAC on its VXLAN device vtep: each
 * endpoint on another host, its interface's MAC (every host realizes the
 * same ones) toward that host's underlay address, so a unicast frame goes
 * to the one host holding its destination; broadcast, multicast and a MAC
 * a node set by itself still go to every host (the all-zeros entries). A
 * point-to-point link has one other host: nothing to add. 0 or -errno
 * (in e). */
static int vtep_macs(const struct realization *rz, struct nl_sock *s, uint32_t link,
		     const char *vtep, struct nl_err *e)
{
	const struct rz_cluster *cl = rz->cluster;
	const struct xir_link *l = &rz->x->links[link];
	struct nl_fdb_mac *v;
	size_t j, n = 0;
	int r = 0;

	if (l->nep <= 2)
		return 0;
	v = calloc(l->nep, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (j = 0; j < l->nep && !r; j++)
		if (!realize_ep_here(rz, link, j)) {
			memcpy(v[n].mac, realize_ep_iface(rz, link, j)->mac, sizeof(v[n].mac));
			r = addr4(cl->underlay[cl->host_of[l->ep[j].node]], &v[n++].remote);
		}
	if (!r)
		r = nl_fdb_add_macs(s, vtep, v, n, e);
	free(v);
	return r;
}

/* The link's VXLAN device: created from the host namespace (a socket of
 * this task's own) in the substrate, a port of master when there is one,
 * flooding to the other hosts of the link, and for a LAN sending unicast
 * to the host of its destination (vtep_macs). 0 or -errno (after
 * build_fail). */
static int vtep_make(struct build_ctx *c, unsigned worker, uint32_t link, const char *master)
{
	const struct rz_cluster *cl = c->rz->cluster;
	const struct rz_link *rl = &c->rz->links[link];
	struct nl_link_opts o = { .mtu = rl->mtu, .up = true, .group = c->rz->group };
	struct nl_vxlan_conf vx = { .vni = cl->vni[link] };
	struct nl_sock *hs = NULL, *s = NULL;
	struct addr_prefix remote;
	struct nl_err e = { 0 };
	uint32_t h;
	int r;

	r = addr4(cl->underlay[cl->here], &vx.local);
	if (!r)
		r = nl_open(&hs, -1);
	if (!r)
		r = nl_vxlan_create(hs, rl->vtep, c->sub_fd, &vx, &o, &e);
	if (!r)
		s = build_root_sock(c, worker, &r);
	if (!r && master)
		r = nl_link_set_master(s, rl->vtep, master, &e);
	for (h = 0; h < cl->nhosts && !r; h++)
		if (h != cl->here && host_on_link(c->rz, link, h)) {
			r = addr4(cl->underlay[h], &remote);
			if (!r)
				r = nl_fdb_append(s, rl->vtep, &remote, &e);
		}
	if (!r)
		r = vtep_macs(c->rz, s, link, rl->vtep, &e);
	if (r)
		build_fail(c, e.msg[0] ? e.msg : strerror(-r),
			   "cannot connect link '%s' to the other hosts (VXLAN %s, VNI %u, from %s)",
			   build_link_label(c, link), rl->vtep, vx.vni, cl->underlay[cl->here]);
	nl_close(hs);
	return r;
}

/* A direct dispersed link's bridge, then its VXLAN device on it. */
static int dispersed_create(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	const struct rz_link *rl = &c->rz->links[t->link];
	struct nl_link_opts o = { .mtu = rl->mtu, .up = true, .group = c->rz->group };
	struct nl_err e = { 0 };
	struct nl_sock *s;
	int r;

	s = build_root_sock(c, worker, &r);
	if (s)
		r = nl_bridge_create(s, rl->bridge, &o, &e);
	if (r == -EEXIST)
		build_not_ours(c, DB_BRIDGE, rl->bridge);
	if (r) {
		build_fail(c, s ? e.msg : strerror(-r), "cannot create link '%s' (bridge %s)",
			   build_link_label(c, t->link), rl->bridge);
		return r;
	}
	return vtep_make(c, worker, t->link, rl->bridge);
}

/* An emulated dispersed link's VXLAN device: the emulator's port of the
 * remote endpoint (of every remote endpoint, on a LAN). */
static int emulated_vtep_create(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	return vtep_make(c, worker, t->link, NULL);
}

/* The ports of the link's local endpoints, each after `after`; *id the
 * last one's task. */
static int local_ports_plan(struct build_ctx *c, uint32_t link, uint32_t after, uint32_t *id)
{
	uint32_t j;
	int r = 0;

	for (j = 0; j < c->x->links[link].nep && !r; j++)
		if (realize_ep_here(c->rz, link, j))
			r = build_port_task(c, link, j, after, id);
	return r;
}

/* RZ_LC_DISPERSED: the bridge and the VXLAN device (both go with the
 * substrate namespace), then the local ports on the bridge, then a
 * point-to-point link's shortcut (build_dispersed_p2p.c). */
static int dispersed_plan(struct build_ctx *c, uint32_t link)
{
	const struct rz_link *rl = &c->rz->links[link];
	uint32_t id, port = UINT32_MAX;
	int r;

	r = build_journal(c, DB_BRIDGE, rl->bridge, c->sub);
	if (!r)
		r = build_journal(c, DB_LINK, rl->vtep, c->sub);
	if (!r)
		r = build_task(c, dispersed_create, 0, link, 0, &id);
	if (!r)
		r = local_ports_plan(c, link, id, &port);
	return r ? r : build_dispersed_p2p_plan(c, link, id, port);
}

int build_dispersed_emulated_plan(struct build_ctx *c, uint32_t link)
{
	uint32_t id;
	int r;

	r = build_journal(c, DB_LINK, c->rz->links[link].vtep, c->sub);
	if (!r)
		r = build_task(c, emulated_vtep_create, 0, link, 0, &id);
	return r ? r : local_ports_plan(c, link, UINT32_MAX, &id);
}

const struct build_link_kind build_link_dispersed = { .name = "dispersed",
						      .plan = dispersed_plan };

int build_dispersed_mtu(struct realization *rz, unsigned *underlay_mtu, size_t *lowered,
			struct build_error *err)
{
	const struct rz_cluster *cl = rz->cluster;
	struct nl_link_ent ent;
	struct addr_prefix a;
	struct nl_sock *s = NULL;
	size_t i;
	int r, mtu;

	*lowered = 0;
	*underlay_mtu = 0;
	if (!cl)
		return 0;
	r = addr4(cl->underlay[cl->here], &a);
	if (!r)
		r = nl_open(&s, -1);
	if (!r)
		r = nl_addr_link(s, &a, &ent);
	nl_close(s);
	if (r) {
		util_fmt(err->what, sizeof(err->what),
			 "cannot find the underlay interface (the one holding %s)",
			 cl->underlay[cl->here]);
		util_fmt(err->msg, sizeof(err->msg), "%s",
			 r == -EADDRNOTAVAIL ? "no interface of this host holds that address"
					     : strerror(-r));
		return r;
	}
	*underlay_mtu = ent.mtu;
	for (i = 0; i < rz->x->nlinks; i++) {
		if (!cl->vni[i])
			continue;
		mtu = nl_vxlan_node_mtu(ent.mtu, true, rz->links[i].mtu);
		if (mtu < 0) {
			util_fmt(err->what, sizeof(err->what), "link '%s' cannot cross the underlay",
				 rz->x->links[i].name ? rz->x->links[i].name : "?");
			util_fmt(err->msg, sizeof(err->msg),
				 "%s has MTU %u: %s", ent.name, ent.mtu,
				 mtu == -EMSGSIZE ? "the link's mtu plus VXLAN's 50 bytes is more"
						  : "too small for VXLAN");
			return mtu;
		}
		if (!rz->links[i].mtu && mtu < NL_VXLAN_NODE_MTU)
			(*lowered)++;
		rz->links[i].mtu = (unsigned)mtu;
	}
	return 0;
}
