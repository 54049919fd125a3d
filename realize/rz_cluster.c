/* rz_cluster: a realization spread over the hosts of a cluster (a
 * fragment, docs/cluster.md "Fragments and dispersed links"). realize()
 * runs unchanged on every host; realize_cluster then records which host
 * holds each node and which is this one, and gives each link whose
 * endpoints are on more than one host its dispersed form. Nothing of it
 * depends on `here`, so every host numbers the ports and names the
 * objects alike. */
#include "rz_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void rz_cluster_free(struct rz_cluster *c)
{
	if (!c)
		return;
	free(c->host);
	free(c->underlay);
	free(c->host_of);
	free(c->vni);
	free(c);
}

/* A copy of src for x (arrays sized by its nodes and links), or NULL. */
static struct rz_cluster *cluster_copy(const struct rz_cluster *src, const struct xir *x)
{
	struct rz_cluster *c = calloc(1, sizeof(*c));
	size_t nh = src->nhosts ? src->nhosts : 1;

	if (!c)
		return NULL;
	*c = (struct rz_cluster){ .nhosts = src->nhosts, .here = src->here };
	c->host = calloc(nh, sizeof(*c->host));
	c->underlay = calloc(nh, sizeof(*c->underlay));
	c->host_of = calloc(x->nnodes ? x->nnodes : 1, sizeof(*c->host_of));
	c->vni = calloc(x->nlinks ? x->nlinks : 1, sizeof(*c->vni));
	if (!c->host || !c->underlay || !c->host_of || !c->vni) {
		rz_cluster_free(c);
		return NULL;
	}
	memcpy(c->host, src->host, src->nhosts * sizeof(*c->host));
	memcpy(c->underlay, src->underlay, src->nhosts * sizeof(*c->underlay));
	memcpy(c->host_of, src->host_of, x->nnodes * sizeof(*c->host_of));
	memcpy(c->vni, src->vni, x->nlinks * sizeof(*c->vni));
	return c;
}

bool realize_node_here(const struct realization *r, size_t node)
{
	return !r->cluster || r->cluster->host_of[node] == r->cluster->here;
}

bool realize_ep_here(const struct realization *r, size_t link, size_t j)
{
	return realize_node_here(r, r->x->links[link].ep[j].node);
}

bool realize_link_here(const struct realization *r, size_t link)
{
	size_t j;

	for (j = 0; j < r->x->links[link].nep; j++)
		if (realize_ep_here(r, link, j))
			return true;
	return false;
}

bool realize_link_dispersed(const struct realization *r, size_t link)
{
	const struct xir_link *l = &r->x->links[link];
	size_t j;

	if (!r->cluster)
		return false;
	for (j = 1; j < l->nep; j++)
		if (r->cluster->host_of[l->ep[j].node] != r->cluster->host_of[l->ep[0].node])
			return true;
	return false;
}

bool realize_link_lan_spread(const struct realization *r, size_t link)
{
	return r->links[link].emulated && r->x->links[link].nep > 2 &&
	       realize_link_dispersed(r, link);
}

/* Check c against r's XIR: host indexes in range, a VNI exactly where a
 * link is dispersed. 0 or -EINVAL with err. */
static int cluster_check(const struct realization *r, const struct rz_cluster *c, char *err,
			 size_t errlen)
{
	size_t i;

	if (c->here >= c->nhosts) {
		util_fmt(err, errlen, "this host is not one of the fragment's hosts");
		return -EINVAL;
	}
	for (i = 0; i < r->x->nnodes; i++)
		if (c->host_of[i] >= c->nhosts) {
			util_fmt(err, errlen, "device '%s' is on no host of the fragment",
				 r->x->nodes[i].name);
			return -EINVAL;
		}
	for (i = 0; i < r->x->nlinks; i++) {
		const char *name = r->x->links[i].name ? r->x->links[i].name : "?";
		bool disp = realize_link_dispersed(r, i);

		if (disp != (c->vni[i] != 0) || c->vni[i] > 0xffffffu) {
			util_fmt(err, errlen, "link '%s': %s", name,
				 c->vni[i] > 0xffffffu ? "its VNI is over 24 bits"
				 : disp ? "its endpoints are on more than one host but it has no VNI"
					: "it is on one host but has a VNI");
			return -EINVAL;
		}
	}
	return 0;
}

int realize_cluster(struct realization *r, const struct rz_cluster *c, char *err, size_t errlen)
{
	struct rz_cluster *own;
	int e;

	err[0] = '\0';
	if (r->cluster || r->id[0]) {
		util_fmt(err, errlen, "the realization is spread or named already");
		return -EINVAL; /* a caller's bug: before realize_name, once */
	}
	own = cluster_copy(c, r->x);
	if (!own)
		return -ENOMEM;
	r->cluster = own; /* realize_link_dispersed reads it */
	e = cluster_check(r, own, err, errlen);
	if (e) {
		r->cluster = NULL;
		rz_cluster_free(own);
		return e;
	}
	realize_ports(r);
	return 0;
}
