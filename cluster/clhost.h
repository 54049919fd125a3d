/* clhost: the cluster's host inventory in etcd (docs/cluster.md).
 *
 *   /vtb/cluster          {"created": T, "by": HOST}: made once by
 *                         `vtb cluster init`; `join` wants it
 *   /vtb/hosts/NAME       the host's record, kept while it is a member:
 *                         {"name", "underlay", "cores" (thousandths of a
 *                         core), "memory" (bytes), "kvm", "joined", "seen"
 *                         (unix seconds: the agent's last heartbeat)}
 *   /vtb/alive/NAME       {"pid", "since"} under the agent's lease: present
 *                         while the agent runs and renews it; the kernel of
 *                         "alive or lost"
 *   /vtb/alloc/NAME       {"cores", "memory"}: what experiments hold there
 *                         (the allocation table, taken in transactions)
 *
 * All of it is data of outside origin once read back: every field is
 * checked, a record that does not parse is reported, never trusted. */
#ifndef VTB_CLHOST_H
#define VTB_CLHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "clconf.h"

struct etcd;

#define CLHOST_PREFIX "/vtb/hosts/"
#define CLHOST_ALIVE_PREFIX "/vtb/alive/"
#define CLHOST_ALLOC_PREFIX "/vtb/alloc/"
#define CLHOST_CLUSTER_KEY "/vtb/cluster"

/* The agent's lease: a host whose agent stopped renewing is lost after at
 * most this long (the cluster target: a lost host seen within 10 s). The
 * agent renews at a third of it, so two renewals may fail (a busy etcd, a
 * loaded host) before the host counts as lost. */
#define CLHOST_LEASE_S 6
#define CLHOST_RENEW_MS (CLHOST_LEASE_S * 1000 / 3)

struct clhost {
	char name[CLCONF_HOST_MAX];
	char underlay[CLCONF_ADDR_MAX];
	uint64_t cores;        /* thousandths of a core */
	uint64_t memory;       /* bytes */
	bool kvm;
	int64_t joined, seen;  /* unix seconds */
	/* read back only: */
	bool alive;            /* its agent's lease key exists */
	int64_t alive_since;   /* when that agent started */
	pid_t agent_pid;
	uint64_t used_cores, used_memory; /* the allocation table's */
};

/* This host as c names it: its cores, memory and whether KVM works here
 * (a short probe). 0 or a negative errno. */
int clhost_inventory(const struct clconf *c, struct clhost *h);

/* Put h's record (joined and seen as given). 0 or a negative errno with
 * err (UTIL_ERR_LEN bytes). */
int clhost_put(struct etcd *e, const struct clhost *h, char *err);

/* Put the alive key of h under lease, for agent pid started at since. */
int clhost_alive(struct etcd *e, const char *name, int64_t lease, pid_t pid, int64_t since,
		 char *err);

/* Every host record with its liveness and allocations, sorted by name,
 * in *v (the caller frees it). A record that does not parse is an error
 * naming its key. 0 or a negative errno with err. */
int clhost_list(struct etcd *e, struct clhost **v, size_t *n, char *err);

/* Remove host name's record, alive key and allocation entry. */
int clhost_remove(struct etcd *e, const char *name, char *err);

/* Parse a host record (the value of CLHOST_PREFIX NAME) into *h. 0 or
 * -EINVAL with err naming the field. (For the fuzzer too.) */
int clhost_parse(const char *json, size_t len, struct clhost *h, char *err);

/* A non-negative integer field of o into *v: 0 or -EINVAL (the records'
 * parsers). */
int clhost_uint(json_t *o, const char *field, uint64_t *v);

#endif
