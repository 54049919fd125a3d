/* build_dispersed_p2p: the shortcut of a direct dispersed point-to-point
 * link (docs/cluster.md, "The shortcut of a point-to-point link"). Its one
 * local endpoint's port and its VXLAN device stay on the link's bridge,
 * but a tc program on the ingress of each hands every frame straight to
 * the other: the port's frames to the VXLAN device's egress (bpf_redirect),
 * the VXLAN device's into the node (bpf_redirect_peer: the ingress of the
 * node's end of the veth, no second veth transmit and receive) or, for a
 * VM, to its tap's egress. The bridge, its MAC lookup and its netfilter
 * hooks (br_netfilter, when loaded, runs the namespace's iptables hooks
 * on every bridged frame) are skipped in both directions: the bridges
 * took about a sixth of a flood's time between two simulated hosts
 * (docs/benchmarks.md). VTB_DISPERSED_BYPASS=0 keeps the bridge path
 * (the previous one), for benchmarks and as an escape hatch. */
#include "build_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ns.h"
#include "redirect.h"
#include "util.h"

/* May a direct dispersed point-to-point link take the shortcut? Yes
 * unless VTB_DISPERSED_BYPASS is 0. */
static bool p2p_allowed(void)
{
	const char *env = getenv("VTB_DISPERSED_BYPASS");

	return !env || strcmp(env, "0") != 0;
}

struct p2p_job {
	const char *port, *vtep;
	bool peer;              /* the port is a veth: deliver into its other end */
	char err[UTIL_ERR_LEN];
};

/* In the substrate: the port's ingress to the VXLAN device's egress, and
 * the VXLAN device's ingress to the node. 0 or a negative errno with
 * job->err. */
static int p2p_join_here(void *arg)
{
	struct p2p_job *j = arg;

	return redir_join(j->port, j->vtep, j->peer, j->err, sizeof(j->err));
}

/* The task: join the local endpoint t->ep's port and the link's VXLAN
 * device. 0 or a negative errno (after build_fail). */
static int p2p_join(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	const struct xir_link *l = &c->x->links[t->link];
	struct p2p_job j = { .port = build_ep_iface(c, t->link, t->ep)->port_name,
			     .vtep = c->rz->links[t->link].vtep,
			     .peer = build_node_kind_of(c, l->ep[t->ep].node)->netns };
	int r;

	(void)worker;
	r = ns_run_in(c->sub_fd, p2p_join_here, &j);
	if (r)
		build_fail(c, j.err[0] ? j.err : strerror(-r),
			   "cannot join %s and %s for link '%s' (the shortcut; "
			   "VTB_DISPERSED_BYPASS=0 goes without)",
			   j.port, j.vtep, build_link_label(c, t->link));
	return r;
}

int build_dispersed_p2p_plan(struct build_ctx *c, uint32_t link, uint32_t vtep_task,
			     uint32_t port_task)
{
	const struct xir_link *l = &c->x->links[link];
	uint32_t ep, id;
	int r;

	if (l->nep != 2 || !p2p_allowed())
		return 0;
	ep = realize_ep_here(c->rz, link, 0) ? 0 : 1;
	r = build_task(c, p2p_join, 0, link, ep, &id);
	if (!r)
		r = dag_edge(c->g, vtep_task, id);
	if (!r)
		r = dag_edge(c->g, port_task, id);
	return r;
}
