/* build_link: the link kinds, one per realization class (enum
 * rz_link_class): a veth pair straight between two containers, a LAN's
 * ports switched by tc programs (lanswitch.h), the link emulator's ports,
 * and the shortbridge
 * (two ports joined by a tc redirect) of a direct link with a VM. Each
 * plans its journal rows and tasks; a port is made by its node's kind. */
#include "build_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanswitch.h"
#include "ns.h"
#include "redirect.h"
#include "util.h"

static int veth_create(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	const struct xir_link *l = &c->x->links[t->link];
	const struct rz_iface *a = build_ep_iface(c, t->link, 0), *b = build_ep_iface(c, t->link, 1);
	unsigned mtu = c->rz->links[t->link].mtu;
	/* both ends come up with their nodes' addresses (container_config) */
	struct nl_link_opts oa = { .mtu = mtu, .mac = a->mac };
	struct nl_link_opts ob = { .mtu = mtu, .mac = b->mac };
	struct nl_err e = { 0 };
	struct nl_sock *s;
	int r;

	s = build_root_sock(c, worker, &r);
	if (s)
		r = nl_veth_create(s, a->name, c->ns_fd[l->ep[0].node], &oa, b->name,
				   c->ns_fd[l->ep[1].node], &ob, &e);
	if (r)
		build_fail(c, s ? e.msg : strerror(-r), "cannot create link '%s' (veth %s-%s)",
			  build_link_label(c, t->link), a->name, b->name);
	return r;
}

/* A veth pair between two containers: journaled by its end in endpoint
 * 0's namespace (it goes with that namespace). */
static int veth_plan(struct build_ctx *c, uint32_t link)
{
	const struct xir_link *l = &c->x->links[link];
	char ns[128];
	uint32_t id;
	int r;

	build_netns_name(c->id, c->x->nodes[l->ep[0].node].name, ns, sizeof(ns));
	r = build_journal(c, DB_LINK, build_ep_iface(c, link, 0)->name, ns);
	if (!r)
		r = build_task(c, veth_create, 0, link, 0, &id);
	if (!r)
		r = build_node_edges(c, l->ep[0].node, id);
	if (!r)
		r = build_node_edges(c, l->ep[1].node, id);
	return r;
}

/* Every endpoint's port, each after `after`. */
static int ports_plan(struct build_ctx *c, uint32_t link, uint32_t after, uint32_t *ids)
{
	uint32_t j, id;
	int r = 0;

	for (j = 0; j < c->x->links[link].nep && !r; j++) {
		r = build_port_task(c, link, j, after, &id);
		if (ids && j < 2)
			ids[j] = id;
	}
	return r;
}

/* A direct LAN's switch, once its ports exist (lanswitch.h). */
static int switch_create(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	size_t n = c->x->links[t->link].nep, i;
	char err[UTIL_ERR_LEN] = "";
	struct nl_sock *s;
	int *idx, r;

	idx = calloc(n, sizeof(*idx));
	s = build_root_sock(c, worker, &r);
	if (!idx)
		r = -ENOMEM;
	for (i = 0; i < n && !r; i++) {
		const char *port = build_ep_iface(c, t->link, (uint32_t)i)->port_name;

		idx[i] = nl_ifindex(s, port);
		r = idx[i] < 0 ? idx[i] : 0;
		if (r)
			util_fmt(err, sizeof(err), "cannot find %s: %s", port, strerror(-r));
	}
	if (!r)
		r = lsw_attach(s, idx, n, err, sizeof(err));
	if (r)
		build_fail(c, err[0] ? err : strerror(-r), "cannot switch LAN '%s'",
			   build_link_label(c, t->link));
	free(idx);
	return r;
}

/* A direct LAN: a port per endpoint, then the switch over them. Its nodes
 * are configured meanwhile: what they send before the switch is there (an
 * IPv6 router solicitation) is dropped, and vtb up returns after it. */
static int switch_plan(struct build_ctx *c, uint32_t link)
{
	uint32_t id, port, j;
	int r;

	r = build_task(c, switch_create, 0, link, 0, &id);
	for (j = 0; j < c->x->links[link].nep && !r; j++) {
		r = build_port_task(c, link, j, UINT32_MAX, &port);
		if (!r)
			r = dag_edge(c->g, port, id);
	}
	return r;
}

/* The emulator's ports: the supervisor opens them once they exist. */
static int emulated_plan(struct build_ctx *c, uint32_t link)
{
	if (realize_link_dispersed(c->rz, link))
		return build_dispersed_emulated_plan(c, link);
	return ports_plan(c, link, UINT32_MAX, NULL);
}

struct short_job {
	const char *a, *b;  /* the two ports */
	char err[UTIL_ERR_LEN];
};

/* In the substrate: each port's ingress redirected to the other's egress.
 * 0 or a negative errno with job->err. */
static int short_join_here(void *arg)
{
	struct short_job *j = arg;

	return redir_join(j->a, j->b, false, j->err, sizeof(j->err));
}

/* The shortbridge of a direct point-to-point link with a VM: its two
 * ports joined by redirects, in the substrate where the ports are. */
static int short_join(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	struct short_job j = { .a = build_ep_iface(c, t->link, 0)->port_name,
			       .b = build_ep_iface(c, t->link, 1)->port_name };
	int r;

	(void)worker;
	r = ns_run_in(c->sub_fd, short_join_here, &j);
	if (r)
		build_fail(c, j.err[0] ? j.err : strerror(-r), "cannot join %s and %s for link '%s'",
			   j.a, j.b, build_link_label(c, t->link));
	return r;
}

static int short_plan(struct build_ctx *c, uint32_t link)
{
	uint32_t ports[2], id;
	int r;

	r = ports_plan(c, link, UINT32_MAX, ports);
	if (!r)
		r = build_task(c, short_join, 0, link, 0, &id);
	if (!r)
		r = dag_edge(c->g, ports[0], id);
	if (!r)
		r = dag_edge(c->g, ports[1], id);
	return r;
}

const struct build_link_kind build_link_veth = { .name = "veth", .plan = veth_plan };
const struct build_link_kind build_link_switch = { .name = "switch", .plan = switch_plan };
const struct build_link_kind build_link_emulated = { .name = "emulated", .plan = emulated_plan };
const struct build_link_kind build_link_short = { .name = "shortbridge", .plan = short_plan };
