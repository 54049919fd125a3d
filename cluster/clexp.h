/* clexp: an experiment of a cluster in etcd (docs/cluster.md, "Experiments
 * across hosts"). The keys:
 *
 *   /vtb/exps/NAME            {"id", "by", "created", "state", "hosts": [..]}
 *   /vtb/ids/ID               NAME: experiment ids are unique cluster-wide
 *   /vtb/owner/ID             {"host", "pid"} under the lease of the vtb
 *                             up or down acting on it: gone when that
 *                             process is (kill -9), so vtb clean knows
 *   /vtb/exp/ID/frag/HOST     the fragment document HOST builds
 *   /vtb/exp/ID/alloc/HOST    {"cores", "memory"}: what ID holds on HOST
 *   /vtb/exp/ID/status/HOST   {"state": building|up|failed|down, "msg"}
 *   /vtb/want/HOST/ID         {"name", "want": up|down}: HOST's agent
 *                             watches its prefix and acts
 *   /vtb/vni/VNI              ID: VXLAN network ids are cluster-wide
 *   /vtb/left/ID/HOST         {"name", "since"}: HOST's part of ID, which a
 *                             vtb down could not reach (HOST was lost);
 *                             HOST's agent removes the part when it runs
 *                             again, then the record (clexp_finish)
 *
 * and each host's total in /vtb/alloc/HOST (clhost.h), changed only in
 * transactions that compare its revision: two vtb up at once never
 * overcommit a host. */
#ifndef VTB_CLEXP_H
#define VTB_CLEXP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clconf.h"
#include "clhost.h"

struct etcd;

#define CLEXP_ID_LEN 5 /* 4 hex digits and NUL, as a single host's */
#define CLEXP_NAME_MAX 64

/* The states of an experiment and of a host's part of it. */
#define CLEXP_CREATING "creating"
#define CLEXP_UP "up"
#define CLEXP_REMOVING "removing"
#define CLEXP_BUILDING "building"
#define CLEXP_FAILED "failed"
#define CLEXP_DOWN "down"

/* The owner's lease: a vtb up or down killed with SIGKILL lets go of the
 * experiment within this long (then vtb clean may take it over). Renewed
 * by a thread of the owner at a third of it. */
#define CLEXP_OWNER_LEASE_S 6

#define CLEXP_LEFT_PREFIX "/vtb/left/"

struct clexp {
	char name[CLEXP_NAME_MAX];
	char id[CLEXP_ID_LEN];
	char by[CLCONF_HOST_MAX];  /* the host whose vtb up made it */
	int64_t created;
	char state[16];
	char (*hosts)[CLCONF_HOST_MAX]; /* the hosts holding part of it */
	size_t nhosts;
	bool owned;                /* its owner key exists (read back only) */
};

void clexp_free(struct clexp *x);

/* Claim name for a new experiment: a fresh id (unique cluster-wide, and
 * whose kernel names are free on this host), the records in state
 * "creating" owned under lease by this process. -EEXIST when the name is
 * taken; 0 with x filled, or a negative errno with err. */
int clexp_claim(struct etcd *e, const char *name, const char *by, int64_t lease, struct clexp *x,
		char *err);

/* The experiment named name: 0, -ENOENT, or a negative errno with err. */
int clexp_find(struct etcd *e, const char *name, struct clexp *x, char *err);

/* Every experiment of the cluster (*v, *n; clexp_free each, free(*v)). */
int clexp_list(struct etcd *e, struct clexp **v, size_t *n, char *err);

/* Write x's record (its state and hosts) as it is now. */
int clexp_put(struct etcd *e, const struct clexp *x, char *err);

/* Own x under lease (a vtb down or clean taking it over): -EBUSY when
 * another process owns it. */
int clexp_own(struct etcd *e, const struct clexp *x, int64_t lease, char *err);

/* Take cores[i] and memory[i] on hosts[i] (i < n) for experiment id, in
 * one transaction per attempt against the hosts' capacities caps
 * (clhost_list's, matched by name): 0, -ENOSPC when a host lacks room
 * (err names it and what is free), or a negative errno. */
int clexp_alloc(struct etcd *e, const char *id, const char (*hosts)[CLCONF_HOST_MAX],
		const uint64_t *cores, const uint64_t *memory, size_t n, const struct clhost *caps,
		size_t ncaps, char *err);

/* n VXLAN ids for experiment id, unique in the cluster, into vni. */
int clexp_vnis(struct etcd *e, const char *id, uint32_t *vni, size_t n, char *err);

/* Give back everything experiment x holds: its allocations (subtracted
 * from the hosts' totals), VNIs, fragments, statuses, wants, its id and
 * its record. lost (may be NULL): per x->hosts entry, whether that host
 * was not reached (lost, or no report in time): its allocation and its
 * want ("down") stay, and so do the id and its VNIs, and a record
 * CLEXP_LEFT_PREFIX ID/HOST says what is left there; that host's agent
 * finishes when it runs again (clexp_finish). 0 or a negative errno (what
 * is left stays listed: vtb clean finishes it). */
int clexp_release(struct etcd *e, const struct clexp *x, const bool *lost, char *err);

/* host's agent has removed its part of experiment id: when a vtb down left
 * it there (its record under CLEXP_LEFT_PREFIX), give back what id holds
 * on host (allocation, want, status, the record) and, the last such host,
 * id itself with its VNIs and keys. 1 when it did, 0 when there was no
 * record, or a negative errno with err. */
int clexp_finish(struct etcd *e, const char *id, const char *host, char *err);

/* What vtb down could not reach: host's part of experiment name (id),
 * left since (unix seconds). */
struct clexp_left {
	char id[CLEXP_ID_LEN];
	char host[CLCONF_HOST_MAX];
	char name[CLEXP_NAME_MAX];
	int64_t since;
};

/* Every such record (*v of *n, the caller frees *v; records that do not
 * parse are skipped). 0 or a negative errno with err. */
int clexp_left_list(struct etcd *e, struct clexp_left **v, size_t *n, char *err);

/* Ask host's agent to build (up) or remove its part of experiment x. */
int clexp_want(struct etcd *e, const struct clexp *x, const char *host, bool up, char *err);

/* Host's report on its part of experiment id: state and a message. */
int clexp_status_put(struct etcd *e, const char *id, const char *host, const char *state,
		     const char *msg, char *err);

/* The reports of experiment id's hosts: for each hosts[i] its state into
 * states[i] (16 bytes, "" when none) and message into msgs[i]
 * (UTIL_ERR_LEN bytes, may be NULL); *rev the store's revision. */
int clexp_status_get(struct etcd *e, const char *id, const char (*hosts)[CLCONF_HOST_MAX],
		     size_t n, char (*states)[16], char (*msgs)[UTIL_ERR_LEN], int64_t *rev,
		     char *err);

#endif
