/* realize: turn a checked XIR into a realization on this host: each node's
 * kind (container or VM) and allocation, each link's kind, every interface
 * name, address and MAC, and the static routes. Pure computation: nothing
 * here touches the kernel or the database. */
#ifndef VTB_REALIZE_H
#define VTB_REALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "diag.h"
#include "emu_dir.h"
#include "xir.h"

/* What this host offers and what other experiments already hold. */
struct rz_host {
	uint64_t cores, memory;           /* base capacity */
	uint64_t used_cores, used_memory; /* held by experiments already up */
	bool kvm;                         /* KVM runs a guest */
};

enum rz_node_kind { RZ_CONTAINER, RZ_VM };
enum rz_link_kind { RZ_P2P, RZ_LAN };

struct rz_iface {
	uint32_t link;           /* xir link index */
	char name[16];           /* inside the node: eth0, eth1, ... in link order */
	struct addr_prefix v4;   /* family 0 when none */
	struct addr_prefix v6;   /* family 0 when none (only given ones) */
	uint8_t mac[6];          /* given, or stable: derived from experiment name, node, link */
	char nic[12];            /* VMs: the QEMU NIC model ("virtio", "e1000", ...); "" otherwise */
};

struct rz_route {
	struct addr_prefix dst;  /* plen 0: default route */
	struct addr_prefix via;  /* gateway host address */
};

struct rz_node {
	enum rz_node_kind kind;
	uint64_t cores, memory;  /* allocated (0: no request) */
	struct rz_iface *ifs;
	size_t nifs;
	struct rz_route *routes;
	size_t nroutes;
	bool forwarding;         /* two or more interfaces: routes between them */
	unsigned vm_cores;       /* VMs: QEMU's -smp */
	uint64_t vm_memory_mib;  /* VMs: QEMU's -m */
};

struct rz_link {
	enum rz_link_kind kind;
	bool emulated;           /* through the link emulator (rule 2) */
	struct emu_params *dir;  /* emulated: [j] for the direction leaving endpoint j */
	unsigned mtu;            /* 0: default */
	struct addr_prefix subnet4, subnet6; /* family 0 when none */
};

struct realization {
	const struct xir *x;     /* not owned */
	struct rz_node *nodes;   /* parallel to x->nodes */
	struct rz_link *links;   /* parallel to x->links */
	/* the interface of (link, endpoint j) is nodes[ep.node].ifs[ep_if[link][j]] */
	uint32_t **ep_if;
};

/* Realize x. Problems go to d naming the node, link and constraint, e.g.
 * "device 'a': cores == 4 does not fit: this host has 2 cores, 1 free".
 * Returns 0 and *out, -EINVAL when d holds errors, or -ENOMEM. */
int realize(const struct xir *x, const struct rz_host *host, struct realization **out,
	    struct diag_list *d);
void realize_free(struct realization *r);

#endif
