/* links_steer: the cores that carry the bypassed links' frames (see
 * links_steer.h). */
#include "links_steer.h"

#include <errno.h>
#include <metis.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib.h"
#include "util.h"

#define STEER_METIS_SEED 1 /* a run repeats */

/* Is link li bypassable here: point-to-point, emulated, both ends on this
 * host (a dispersed link's far end is a VXLAN device, no veth)? */
static bool steerable(const struct xir *x, const struct realization *rz, size_t li)
{
	return rz->links[li].cls == RZ_LC_EMULATED && x->links[li].nep == 2 &&
	       realize_link_here(rz, li) && !realize_link_lan_spread(rz, li) &&
	       realize_ep_here(rz, li, 0) && realize_ep_here(rz, li, 1);
}

/* The cores this process may run on, into cpus[CPU_SETSIZE]; how many. */
static size_t usable_cores(int *cpus)
{
	cpu_set_t set;
	size_t n = 0;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static int idx_cmp(const void *a, const void *b)
{
	idx_t x = *(const idx_t *)a, y = *(const idx_t *)b;

	return (x > y) - (x < y);
}

/* The graph's rows (CSR, xadj[nv + 1] and adj) of the bypassable links
 * between the vertices vert[node], parallel links once. Returns 0 or
 * -ENOMEM; *adjp is the caller's to free. */
static int graph(const struct xir *x, const struct realization *rz, const idx_t *vert,
		 idx_t nv, idx_t *xadj, idx_t **adjp)
{
	idx_t *adj, *fill = calloc((size_t)nv + 1, sizeof(*fill));
	size_t li, n = 0;
	idx_t v, k, w;

	*adjp = NULL;
	if (!fill)
		return -ENOMEM;
	memset(xadj, 0, ((size_t)nv + 1) * sizeof(*xadj));
	for (li = 0; li < x->nlinks; li++)
		if (steerable(x, rz, li) && x->links[li].ep[0].node != x->links[li].ep[1].node) {
			xadj[vert[x->links[li].ep[0].node] + 1]++;
			xadj[vert[x->links[li].ep[1].node] + 1]++;
			n += 2;
		}
	adj = malloc((n ? n : 1) * sizeof(*adj));
	if (!adj) {
		free(fill);
		return -ENOMEM;
	}
	for (v = 0; v < nv; v++)
		xadj[v + 1] += xadj[v];
	for (li = 0; li < x->nlinks; li++)
		if (steerable(x, rz, li) && x->links[li].ep[0].node != x->links[li].ep[1].node) {
			idx_t a = vert[x->links[li].ep[0].node], b = vert[x->links[li].ep[1].node];

			adj[xadj[a] + fill[a]++] = b;
			adj[xadj[b] + fill[b]++] = a;
		}
	/* each row sorted, its repeats dropped (METIS wants each edge once) */
	for (v = 0, w = 0; v < nv; v++) {
		idx_t start = w;

		qsort(adj + xadj[v], (size_t)(xadj[v + 1] - xadj[v]), sizeof(*adj), idx_cmp);
		for (k = xadj[v]; k < xadj[v + 1]; k++)
			if (w == start || adj[w - 1] != adj[k])
				adj[w++] = adj[k];
		xadj[v] = start;
	}
	xadj[nv] = w;
	free(fill);
	*adjp = adj;
	return 0;
}

/* Divide the nv vertices into nparts >= 2 parts, few edges between them,
 * into part[nv]. 0 or a negative errno (METIS missing or failing). */
static int divide(const struct xir *x, const struct realization *rz, const idx_t *vert, idx_t nv,
		  idx_t nparts, idx_t *part)
{
	idx_t *xadj = malloc(((size_t)nv + 1) * sizeof(*xadj)), *adj = NULL, ncon = 1, cut;
	idx_t opt[METIS_NOPTIONS];
	char err[UTIL_ERR_LEN];
	idx_t v;
	int r = xadj ? 0 : -ENOMEM;

	if (!r && nparts >= nv) {
		for (v = 0; v < nv; v++)
			part[v] = v;
		goto out;
	}
	if (!r)
		r = graph(x, rz, vert, nv, xadj, &adj);
	if (!r)
		r = dynlib_open(&dynlib_metis, err, sizeof(err));
	if (r)
		goto out;
	METIS_SetDefaultOptions(opt);
	opt[METIS_OPTION_SEED] = STEER_METIS_SEED;
	if (METIS_PartGraphKway(&nv, &ncon, xadj, adj, NULL, NULL, NULL, &nparts, NULL, NULL, opt,
				&cut, part) != METIS_OK)
		r = -EINVAL;
out:
	free(xadj);
	free(adj);
	return r;
}

void links_steer_cores(const struct xir *x, const struct realization *rz, bool bypass,
		       int *core)
{
	const char *env = getenv("VTB_EMU_STEER");
	idx_t *vert = malloc((x->nnodes ? x->nnodes : 1) * sizeof(*vert)), *part = NULL, nv = 0;
	int *cpus = malloc(CPU_SETSIZE * sizeof(*cpus));
	size_t li, j, node, ncores = cpus ? usable_cores(cpus) : 0;

	memset(core, 0, x->nnodes * sizeof(*core));
	if (!vert || !bypass || (env && !strcmp(env, "0")) || ncores < 2)
		goto out;
	for (node = 0; node < x->nnodes; node++)
		vert[node] = -1;
	for (li = 0; li < x->nlinks; li++)
		for (j = 0; j < 2 && steerable(x, rz, li); j++)
			if (vert[x->links[li].ep[j].node] < 0)
				vert[x->links[li].ep[j].node] = nv++;
	part = malloc(((size_t)nv + 1) * sizeof(*part));
	if (nv < 2 || !part ||
	    divide(x, rz, vert, nv, (idx_t)(ncores < (size_t)nv ? ncores : (size_t)nv), part))
		goto out;
	for (node = 0; node < x->nnodes; node++)
		if (vert[node] >= 0)
			core[node] = 1 + cpus[part[vert[node]]];
out:
	free(vert);
	free(part);
	free(cpus);
}
