/* place: which cluster host each node of a realization runs on
 * (docs/cluster.md, "Placement"). Pure computation: no kernel, no etcd. The
 * topology graph is partitioned with METIS, weighted by what the nodes ask
 * for and by link capacity, towards each live host's free capacity; then
 * `host == 'NAME'` pins are applied and hosts over capacity are repaired. */
#ifndef VTB_PLACE_H
#define VTB_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "realize.h"
#include "xir.h"

/* A host of the cluster as placement sees it. cores in thousandths of a
 * core (as rz_node.cpu_milli), memory in bytes; used_* is what the
 * allocation table already holds on it. The caller owns name. */
struct place_host {
	const char *name;
	uint64_t cores, memory;
	uint64_t used_cores, used_memory;
	bool kvm;   /* /dev/kvm usable: VMs prefer it (they run under TCG elsewhere) */
	bool alive; /* its agent is up: only live hosts take nodes */
};

/* What a node holds of its host: what the allocation table records. */
struct place_demand {
	uint64_t cpu_milli; /* enforced CPU bandwidth (rz_node.cpu_milli); 0: none asked */
	uint64_t memory;    /* its memory limit or a VM's guest memory plus
	                     * QEMU's, plus a container's kernel memory */
};

/* A node that asks for no CPU still weighs this much when the graph is
 * balanced (it does not count against a host's cores, as on one host where
 * unrequested nodes share the cores): a twentieth of a core, so twenty idle
 * nodes weigh as one that asks for a core. An idle container (a shell, a
 * routing daemon) takes well under a hundredth of a core; the share is for
 * the traffic it forwards once the experiment runs. */
#define PLACE_MIN_CPU_MILLI 50ULL

/* The weight of a link without a capacity (a direct link, or an emulated
 * one without a rate limit), in Mbit/s: 10 Gbit/s, about what one veth pair
 * between namespaces carries with TCP on one core. A limited link weighs
 * its capacity, so a 100 Mbit/s link is cut before a direct one. */
#define PLACE_LINK_DEFAULT_MBPS 10000ULL

/* METIS's random seed: the same model and hosts give the same placement. */
#define PLACE_METIS_SEED 1

/* What node i of r holds of its host. */
void place_demand(const struct realization *r, uint32_t node, struct place_demand *out);

/* Place every node of x (realized as r) on one of hosts[0..nhosts):
 * host_of[i] (x->nnodes entries, the caller's) is the index in hosts of
 * node i's host. Only live hosts take nodes; pins are honoured; no host
 * ends up over its free capacity. Returns 0; -EINVAL with errors in d
 * naming the node (a pin to a host that is not a live host of the cluster,
 * a node that fits on no host, with each host's free capacity); -ENOMEM. */
int place_nodes(const struct xir *x, const struct realization *r, const struct place_host *hosts,
		size_t nhosts, uint32_t *host_of, struct diag_list *d);

/* The links that cross hosts under host_of: a point-to-point link whose
 * two ends are on different hosts counts 1, a LAN counts its endpoints
 * that are not on the host holding most of them. */
uint64_t place_cut(const struct xir *x, const struct realization *r, const uint32_t *host_of);

#endif
