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
	uint64_t available;               /* MemAvailable in bytes; 0: unknown, not checked */
	uint64_t cpu_hz;                  /* the CPU's nominal frequency; 0: unknown (cpufreq refused) */
};

/* What a VM's QEMU takes beyond its guest (rule 9, docs/limits.md). CPU:
 * QEMU's main loop, I/O and timer threads besides the vCPUs, a tenth of a
 * core (an idle TCG guest's QEMU used 2-4% of a core here, virtio traffic
 * more). Memory: QEMU's own heap, the TCG translation cache it fills as the
 * guest runs, device and virtio rings: 256 MiB (QEMU of a 256 MiB x86
 * guest under TCG had 170-200 MiB of resident memory beyond the guest's). */
#define RZ_VM_CPU_OVERHEAD 100ULL          /* thousandths of a core */
#define RZ_VM_MEM_OVERHEAD (256ULL << 20)

/* Rule 9's CPU bandwidth, in thousandths of a core, of cores cores at freq
 * Hz (0: the host's) on a host at host_hz, plus a VM's QEMU overhead. */
uint64_t realize_cpu_milli(uint64_t cores, uint64_t freq, uint64_t host_hz, bool vm);

/* The host memory an experiment takes beyond what its nodes ask for
 * (rule 3): per container, its namespace, loopback, veth ends, sysctl
 * tables and routes. Measured: 200 containers in a ring of direct links
 * took 77.0 MB of MemAvailable (385 KB each), the slab grew by 289 KB
 * each; rounded up. */
#define RZ_MEM_CONTAINER (448ULL << 10)
/* Per emulated port, besides its receive ring (emu_ring_bytes): the packet
 * socket and the emulator's slots for it. Measured: 200 containers on 200
 * emulated links (400 ports, 1 MiB rings) took 460.7 MB of MemAvailable,
 * 37.2 MB of it the supervisor's own (93 KB a port). */
#define RZ_MEM_EMU_PORT (128ULL << 10)
/* Left for the host itself and everything else it runs: an experiment may
 * take MemAvailable minus this. */
#define RZ_MEM_RESERVE (512ULL << 20)

enum rz_node_kind { RZ_CONTAINER, RZ_VM };
enum rz_link_kind { RZ_P2P, RZ_LAN };

/* How a link is made; each is a link kind of materialize/ (build_link_kind).
 * A link of any class but RZ_LC_VETH has a root-side port per endpoint: a
 * veth's root end for a container, a tap for a VM. */
enum rz_link_class {
	RZ_LC_VETH,     /* direct point-to-point between two containers: one
	                 * veth pair straight between their namespaces */
	RZ_LC_SWITCH,   /* direct LAN: a port per endpoint, switched by tc
	                 * programs (materialize/lanswitch.h) */
	RZ_LC_EMULATED, /* through the link emulator: the ports are its own */
	RZ_LC_SHORT,    /* direct point-to-point with a VM: the two ports joined
	                 * by a tc redirect (the Trellis shortbridge) */
	RZ_LC_DISPERSED, /* direct link or LAN whose endpoints are on more than
	                  * one host of a cluster: a bridge with the local
	                  * endpoints' ports and a VXLAN device (rz_cluster.c) */
	RZ_LC_COUNT,
};

#define RZ_NO_PORT UINT32_MAX
#define RZ_NAME_LEN 16 /* IFNAMSIZ */
struct rz_iface {
	uint32_t link;           /* xir link index */
	char name[16];           /* inside the node: eth0, eth1, ... in link order */
	struct addr_prefix v4;   /* family 0 when none */
	struct addr_prefix v6;   /* family 0 when none (only given ones) */
	uint8_t mac[6];          /* given, or stable: derived from experiment name, node, link */
	char nic[12];            /* VMs: the QEMU NIC model ("virtio", "e1000", ...); "" otherwise */
	uint32_t port;           /* the root-side port of this endpoint, RZ_NO_PORT when none */
	char port_name[RZ_NAME_LEN]; /* "vtb<id>p<port>" (realize_name), "" when none */
};

struct rz_route {
	struct addr_prefix dst;  /* plen 0: default route */
	struct addr_prefix via;  /* gateway host address */
};

/* A directory of a node's own (the model's `private`): an empty tmpfs at
 * path, or one seeded with a copy of the host directory seed (a container's
 * in its mount namespace, a VM's in the guest, docs/vms.md). */
struct rz_private {
	const char *path;        /* absolute, no '.' or '..' (checked by compile) */
	const char *seed;        /* host directory to copy, or NULL: empty */
	char *owned;             /* the copy path and seed point into, or NULL */
};

struct rz_node {
	enum rz_node_kind kind;
	bool privileged;         /* `privileged == true`: the host's full root */
	struct rz_private *priv; /* the node's private directories */
	size_t npriv;
	const char *image;       /* VMs: the userland ("debian:bookworm", the XIR's
				  * string) or NULL: the host's */
	const char **pkgs;       /* the image's extra packages (the XIR's strings),
				  * sorted, each once */
	size_t npkgs;
	uint64_t cores, memory;  /* allocated (0: no request) */
	struct rz_iface *ifs;
	size_t nifs;
	struct rz_route *routes;
	size_t nroutes;
	bool forwarding;         /* two or more interfaces: routes between them */
	unsigned vm_cores;       /* VMs: QEMU's -smp */
	uint64_t vm_memory_mib;  /* VMs: QEMU's -m */
	char vm_arch[12];        /* VMs: the guest's architecture, a row of vm/arch.c ("x86_64") */
	uint64_t cpufreq;        /* asked, Hz (0: none) */
	bool cpuset;             /* `cpuset == true`: pinned to its cores */
	uint64_t cpu_milli;      /* enforced CPU bandwidth, thousandths of a core (0: none) */
	uint64_t mem_limit;      /* enforced memory limit, bytes (0: none) */
};

struct rz_link {
	enum rz_link_kind kind;
	bool emulated;           /* through the link emulator (rule 2) */
	struct emu_params *dir;  /* emulated: [j] for the direction leaving endpoint j */
	enum rz_link_class cls;  /* how it is made */
	unsigned mtu;            /* 0: default */
	uint32_t first_port;     /* the port of endpoint 0 (the rest follow), or RZ_NO_PORT */
	char bridge[RZ_NAME_LEN]; /* RZ_LC_DISPERSED: "vtb<id>b<link>" (realize_name) */
	/* dispersed: its VXLAN device on this host: "vtb<id>x<link>" on a
	 * bridge (RZ_LC_DISPERSED) or as the emulator's port of every remote
	 * endpoint of an emulated LAN (realize_link_lan_spread), or, emulated
	 * point-to-point, the remote endpoint's port name (the emulator's port
	 * for that endpoint); "" when not dispersed */
	char vtep[RZ_NAME_LEN];
	struct addr_prefix subnet4, subnet6; /* family 0 when none */
};

struct realization {
	const struct xir *x;     /* not owned */
	struct rz_node *nodes;   /* parallel to x->nodes */
	struct rz_link *links;   /* parallel to x->links */
	/* the interface of (link, endpoint j) is nodes[ep.node].ifs[ep_if[link][j]] */
	uint32_t **ep_if;
	/* The port map: ports are numbered in link order, then endpoint order,
	 * over the links that have them (every class but RZ_LC_VETH). Computed
	 * once here; build, the supervisor's VMs and link emulator, and status
	 * read it instead of counting for themselves. */
	uint32_t nports;
	char id[8];              /* the experiment id the names carry ("" before realize_name) */
	uint32_t group;          /* the netdev group of the experiment's root-side links */
	struct rz_cluster *cluster; /* a fragment's hosts (owned); NULL on one host */
};

/* ---- a fragment: the experiment spread over the hosts of a cluster
 * (rz_cluster.c, docs/cluster.md "Fragments and dispersed links") ---- */

#define RZ_HOST_LEN 64  /* a host name and its NUL (CLCONF_HOST_MAX) */
#define RZ_ADDR4_LEN 16 /* a dotted IPv4 address and its NUL */

/* Which host holds each node, and which host is this one. Every host of a
 * fragment realizes the same XIR and id with the same cluster and gets the
 * same addresses, MACs and ports; only `here` differs. */
struct rz_cluster {
	uint32_t nhosts;
	char (*host)[RZ_HOST_LEN];      /* [nhosts] their names */
	char (*underlay)[RZ_ADDR4_LEN]; /* [nhosts] their underlay IPv4 addresses */
	uint32_t *host_of;              /* [nnodes] an index into host */
	uint32_t *vni;                  /* [nlinks] VNI when dispersed, else 0 */
	uint32_t here;                  /* this host */
};

/* Spread r (from realize, before realize_name) over the hosts of c: r gets
 * a copy of c (its own), each link whose endpoints are on more than one host
 * becomes dispersed (a direct one RZ_LC_DISPERSED, an emulated one stays
 * RZ_LC_EMULATED with a VNI) and the ports are numbered again. Returns 0,
 * -EINVAL with err (a VNI where a link is on one host or none where it is
 * dispersed, a host index out of range), or -ENOMEM. */
int realize_cluster(struct realization *r, const struct rz_cluster *c, char *err, size_t errlen);
/* Whether node is built on this host (always, on one host). */
bool realize_node_here(const struct realization *r, size_t node);
/* Whether endpoint j of link is on this host. */
bool realize_ep_here(const struct realization *r, size_t link, size_t j);
/* Whether link has an endpoint on this host (something of it is built here). */
bool realize_link_here(const struct realization *r, size_t link);
/* Whether link's endpoints are on more than one host. */
bool realize_link_dispersed(const struct realization *r, size_t link);
/* Whether link is an emulated LAN (three endpoints or more) whose
 * endpoints are on more than one host: each host's emulator has the local
 * endpoints' ports and one more, the link's VXLAN device, for every
 * endpoint on other hosts (docs/cluster.md, "Emulated LANs across hosts"). */
bool realize_link_lan_spread(const struct realization *r, size_t link);

/* The constraints the model language has but vtb cannot build yet (cpufreq,
 * vlan, image, ...) into d: errors (what realize does), or with warn the
 * warnings "vtb up will refuse it: ..." that vtb compile prints. */
void realize_unsupported(const struct xir *x, bool warn, struct diag_list *d);

/* Realize x. Problems go to d naming the node, link and constraint, e.g.
 * "device 'a': cores == 4 does not fit: this host has 2 cores, 1 free".
 * Returns 0 and *out, -EINVAL when d holds errors, or -ENOMEM. */
int realize(const struct xir *x, const struct rz_host *host, struct realization **out,
	    struct diag_list *d);
void realize_free(struct realization *r);

/* Name every root-side object of r for experiment id (a short hex string):
 * ports "vtb<id>p<n>" and bridges "vtb<id>b<n>" (n in base 36, so names fit
 * in IFNAMSIZ), and the netdev group that marks them. Returns 0, or
 * -ENAMETOOLONG when id is too long for the names. */
int realize_name(struct realization *r, const char *id);

/* The netdev group that marks experiment id's root-side links. */
uint32_t realize_group_of(const char *id);

/* The interface of endpoint j of link. */
const struct rz_iface *realize_ep_iface(const struct realization *r, size_t link, size_t j);

/* The class name of a link: "veth", "bridge", "emulated", "shortbridge". */
const char *realize_class_name(enum rz_link_class c);

#endif
