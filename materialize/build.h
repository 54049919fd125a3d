/* build: materialization on this host. From a realization it plans the
 * kernel objects (a named netns per node, a veth pair per point-to-point
 * link, a bridge in the root namespace per LAN with a veth per endpoint),
 * journals every one of them before anything is created, and creates them
 * with a DAG of small tasks run by worker threads. teardown removes what an
 * experiment's journal lists, in reverse order; what is already gone counts
 * as removed, so it is idempotent and serves crash recovery too. */
#ifndef VTB_BUILD_H
#define VTB_BUILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "realize.h"
#include "util.h"

#define BUILD_WORKERS 4

/* Kernel object names carry the experiment id: "vtb<id>-<node>" for a
 * node's namespace (buf holds at least 96 bytes); the root-side ports and
 * bridges are named in the realization's port map (realize_name). */
void build_netns_name(const char *id, const char *node, char *buf, size_t len);
/* The experiment's substrate namespace "vtb<id>" (buf holds at least
 * BUILD_SUBSTRATE_LEN bytes): every root-side object of the experiment
 * (bridges, ports, taps, redirects) and its supervisor live there, outside
 * every node and out of the host's namespace. No '-': it cannot be a
 * node's. */
#define BUILD_SUBSTRATE_LEN 32
void build_substrate_name(const char *id, char *buf, size_t len);
/* Whether the kernel already has a name experiment id would use (a
 * namespace "vtb<id>" or "vtb<id>-*" or a root link "vtb<id>*", made by another state
 * directory or by hand): 1 with what naming it, 0, or a negative errno.
 * vtb up draws another id then, so it never meets what it did not create. */
int build_id_in_use(const char *id, char *what, size_t len);

/* Every kernel object that carries experiment id in its name, as journal
 * rows appended to (*v, *n, *cap) (the caller frees *v): the substrate
 * "vtb<id>" and node namespaces "vtb<id>-*", and what an older vtb left in
 * the root namespace: bridges "vtb<id>b*" and other links "vtb<id>*" (what
 * is inside the substrate goes with it and is not listed), and the
 * experiment's cgroups "vtb<id>" where this process would make them.
 * Returns 0 or a negative errno. */
int build_id_objects(const char *id, struct db_obj **v, size_t *n, size_t *cap);

/* With persist, create the tap name (IFF_TAP | IFF_NO_PI) and make it
 * persistent: -EBUSY when it exists already (it is not ours). Without,
 * open the existing tap (QEMU's fd). With vnet_hdr the fd reads and writes
 * frames behind a virtio-net header (IFF_VNET_HDR: checksum offload and
 * GSO frames between the kernel and QEMU; the flag belongs to this fd, not
 * the tap). The tap is in the namespace held by ns_fd (-1: the caller's;
 * the substrate's for vtb). Returns the fd (the caller's) or a negative
 * errno. */
int build_tap_open(const char *name, bool persist, bool vnet_hdr, int ns_fd);

struct build_error {
	char what[256];  /* "cannot create link 'a-b' (veth eth0 in vtb3a7f-a)" */
	char msg[UTIL_ERR_LEN]; /* the kernel's or the system's words */
};

/* Progress: objects done of total. */
typedef void (*build_progress_fn)(void *arg, size_t done, size_t total);

/* Have build_up stop creating once *stop is non-zero (the flag of a
 * signal handler, checked between tasks): it then returns -EINTR and the
 * caller rolls back as after a failure. stop is not owned; NULL: never. */
void build_set_stop(const volatile sig_atomic_t *stop);

/* Create everything for experiment id, journaling it all first. On failure
 * *err says what failed and why; the caller removes what was created with
 * build_teardown (the journal lists it). Returns 0 or a negative errno. */
int build_up(struct db *db, const char *id, const struct realization *rz,
	     build_progress_fn progress, void *parg, struct build_error *err);

/* A fragment (rz->cluster set): find the interface holding this host's
 * underlay address (in the caller's namespace, the host's) and give each
 * dispersed link of rz the node MTU nl_vxlan_node_mtu allows over it:
 * *underlay_mtu is its MTU, *lowered the number of links whose MTU is below
 * the usual 1500 for it. On one host nothing changes. Returns 0, or a
 * negative errno with *err (no interface holds the address, a link's mtu
 * cannot cross). */
int build_dispersed_mtu(struct realization *rz, unsigned *underlay_mtu, size_t *lowered,
			struct build_error *err);

struct teardown_stats {
	size_t netns, links, processes, files, failed;
	/* objects found under a journaled name that are not the ones the
	 * experiment made (their ident differs: ours are gone), left alone */
	size_t foreign;
};

/* Remove what the journal of id lists, newest first, then forget the
 * experiment. Returns 0, or a negative errno with *err set (the journal
 * then still lists what could not be removed). */
int build_teardown(struct db *db, const char *id, struct teardown_stats *st,
		   struct build_error *err);

#endif
