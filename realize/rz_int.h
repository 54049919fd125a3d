/* rz_int: what the files of realize/ share: the realization under
 * construction, and small helpers on constraints and messages. Not for
 * other modules. */
#ifndef VTB_RZ_INT_H
#define VTB_RZ_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "realize.h"

#define MSG_BUF 400
#define DEFAULT_MTU 1500
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* What realize() allocates behind struct realization: the interfaces of
 * every node and the ep_if rows are each one block. */
struct rz_priv {
	struct realization r;
	struct rz_iface *if_block;
	uint32_t *ep_block;
};

struct rz_ctx {
	const struct xir *x;
	const struct rz_host *host;
	struct realization *r;
	struct diag_list *d;
};

struct ibound {
	bool any;    /* some constraint on the property */
	bool lo_set, hi_set;
	int64_t lo, hi;
	const struct xir_constraint *lo_c;  /* the constraint that set lo */
	const struct xir_constraint *first; /* the first one */
};

/* a when it has a place, else b. */
struct src_loc rz_pick_loc(struct src_loc a, struct src_loc b);
/* Whether constraint c is on property name. */
bool rz_prop_is(const struct xir_constraint *c, const char *name);
/* Bytes in human units: "512 MiB", "1.5 GiB", "4 GiB". */
const char *rz_fmt_bytes(char *buf, size_t cap, uint64_t v);
/* "1 core", "3 cores" */
const char *rz_fmt_cores(char *buf, size_t cap, uint64_t n);
/* topo.spec(name == mode), for a setting with named modes (routing == hosts). */
bool rz_topo_mode(const struct xir *x, const char *name, const char *mode);
/* topo.spec(name == value) or name != !value, for a boolean setting. */
bool rz_topo_bool(const struct xir *x, const char *name, bool value);
/* The first ip == of one family in cs, parsed; false when there is none. */
bool rz_cset_ip(const struct xir_cset *cs, int family, struct addr_prefix *out);
/* The interface of endpoint j of link. */
struct rz_iface *rz_ep_iface(const struct realization *r, size_t link, size_t j);
/* The allocation a node asks for with its constraints on prop (rule 3). */
uint64_t rz_alloc_value(const struct xir_cset *cs, const char *prop, int64_t upper_only,
			const struct xir_constraint **why);
/* Collect the integer constraints on prop in cs. */
void rz_ibound_collect(const struct xir_cset *cs, const char *prop, struct ibound *b);
/* v, stepped past the values that != constraints on prop exclude. */
int64_t rz_skip_excluded(const struct xir_cset *cs, const char *prop, int64_t v);
/* Rule 2: every link's kind, emulator parameters and mtu. */
int realize_links(struct rz_ctx *c);
/* An IPv4 prefix as a host-order integer, and back. */
uint32_t rz_v4_get(const struct addr_prefix *a);
struct addr_prefix rz_v4_make(uint32_t v, unsigned plen);
/* qsort comparison of uint64_t. */
int rz_u64_cmp(const void *pa, const void *pb);
/* Rule 5: every interface's addresses and every link's subnets. */
int realize_addrs(struct rz_ctx *c);
/* Rule 7: every link's class and the port map (after rules 1 and 2). */
void realize_ports(struct realization *r);
/* Rule 8: what each container sees of the host (privileged, private
 * directories); errors for VMs. Returns 0 or -ENOMEM. */
int realize_views(struct rz_ctx *c);
/* Rule 1: every VM's guest architecture (rz_node.vm_arch) and the check
 * that its NICs are models that guest drives (after realize_nics). */
void realize_vm_arch(struct rz_ctx *c);
/* Why the arch constraint k, which asks for a VM, cannot be met (into
 * why, len bytes), or NULL when it can (arch == a row of vm/arch.c). */
const char *rz_arch_refusal(const struct xir_constraint *k, char *why, size_t len);
/* Rule 9: every node's enforced limits (after rules 1 and 3). */
void realize_limits(struct rz_ctx *c);
/* Rule 6: every node's static routes; hosts_only: a host (one interface)
 * keeps only its default routes and a router gets none (routing == hosts,
 * for the model's own routing daemons). */
int realize_routes(struct rz_ctx *c, bool hosts_only);

/* Free a cluster realize_cluster copied (NULL is fine). */
void rz_cluster_free(struct rz_cluster *c);

#endif
