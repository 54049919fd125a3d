/* cgroup: the enforced limits of nodes (docs/limits.md). An experiment has
 * a cgroup "vtb<id>" in every hierarchy vtb uses and a child per limited
 * node; a container's init or a VM's QEMU is moved into its node's child
 * before it runs anything of the user's, and every command entering a
 * container joins it too.
 *
 * cgroup v2 is used when its hierarchy has the cpu and memory controllers,
 * v1 otherwise (cpu, cpuacct, cpuset and memory, each where it is mounted).
 * The experiment's cgroup is made under the cgroup the caller runs in (v1:
 * in each hierarchy) or, on v2, under the hierarchy's root (v2 forbids
 * controllers below a cgroup that has processes of its own: vtb up's).
 * Everything takes the host's description (cg_detect) or the directories
 * of an experiment (cg_exp), so a unit test can play the kernel with a
 * directory tree. Nothing here prints. */
#ifndef VTB_CGROUP_H
#define VTB_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "db.h"

enum cg_ver { CG_NONE, CG_V1, CG_V2 };

/* controllers, as bits */
enum { CG_CPU = 1, CG_CPUACCT = 2, CG_CPUSET = 4, CG_MEMORY = 8 };

#define CG_MAXH 4     /* hierarchies: v2's one, or v1's cpu, cpuacct, cpuset, memory */
#define CG_PATH 512

/* The CFS period every quota is a share of: the kernel's default (100 ms).
 * A shorter one costs more scheduler work, a longer one lets a capped node
 * run its whole quota in a burst and then stall for longer. */
#define CG_PERIOD_US 100000

struct cg_dir {
	char path[CG_PATH];
	unsigned ctrl;        /* the controllers of this hierarchy (CG_CPU ...) */
};

/* What the host has: the version vtb uses and, per hierarchy, the cgroup
 * an experiment's cgroup is made in (the caller's own on v1, the root on
 * v2), with its mount point. */
struct cg_host {
	enum cg_ver ver;
	size_t n;
	struct cg_dir parent[CG_MAXH];
	char mnt[CG_MAXH][CG_PATH];
};

/* An experiment's cgroup: its directory in each hierarchy. */
struct cg_exp {
	enum cg_ver ver;
	size_t n;
	struct cg_dir d[CG_MAXH];
};

/* A node's limits; 0 / "" is none. */
struct cg_limits {
	uint64_t cpu_milli;   /* CPU bandwidth, thousandths of a core */
	uint64_t memory;      /* bytes, hard, swap off */
	char cpus[64];        /* cpuset.cpus ("0-1"), "" when not pinned */
};

/* A node's counters. */
struct cg_stats {
	uint64_t usage_us;    /* CPU time used */
	uint64_t oom_kills;   /* processes the kernel killed for its memory limit */
	struct cg_limits lim; /* what is set now (cpus not read back) */
};

/* Describe the host from mountinfo (/proc/self/mountinfo) and the caller's
 * own cgroups (/proc/self/cgroup); the paths are parameters so that tests
 * can give a fake tree. Returns 0 (h->ver CG_NONE when the host has no
 * usable cpu and memory controllers) or a negative errno. */
int cg_detect(const char *mountinfo, const char *self, struct cg_host *h);

/* The directories of experiment id's cgroup on host h. Returns 0, or
 * -ENOTSUP when h has no usable cgroups. */
int cg_exp_of(const struct cg_host *h, const char *id, struct cg_exp *e);

/* The experiment's cgroup from its journal rows (DB_CGROUP, one per
 * hierarchy). Returns 0, or -ENOENT when the journal has none. */
int cg_exp_from_rows(const struct db_obj *rows, size_t n, struct cg_exp *e);

/* Make the experiment's cgroup (v2: with cpu, memory and cpuset enabled
 * for its children; v1 cpuset: with its parent's cpus and mems). Returns
 * 0 or a negative errno (-EEXIST: it was there) with err. */
int cg_exp_create(const struct cg_exp *e, char *err, size_t errlen);

/* Make node's child and write its limits. Returns 0 or a negative errno
 * with err. */
int cg_node_create(const struct cg_exp *e, const char *node, const struct cg_limits *l,
		   char *err, size_t errlen);

/* Write node's limits into its existing child (vtb node set): CPU
 * bandwidth, memory with swap off, cpus when l->cpus is set. Returns 0,
 * -ENOENT when the node has no cgroup, or a negative errno with err. */
int cg_node_set(const struct cg_exp *e, const char *node, const struct cg_limits *l, char *err,
		size_t errlen);

/* Move process pid (0: the caller) into node's child in every hierarchy.
 * Returns 0 or a negative errno. */
int cg_node_attach(const struct cg_exp *e, const char *node, pid_t pid);

/* Open node's cgroup.procs in every hierarchy for writing (a child writes
 * "0" to each to move itself in: cg_procs_join). fds[] gets up to CG_MAXH
 * descriptors (O_CLOEXEC, the caller's), *n their number. Returns 0 or a
 * negative errno (none left open). */
int cg_node_procs_open(const struct cg_exp *e, const char *node, int *fds, size_t *n);

/* Move the caller into the cgroups whose cgroup.procs are open at fds:
 * only write(2), so it may run between fork and exec. 0 or -errno. */
int cg_procs_join(const int *fds, size_t n);

/* Open for writing the cgroup.procs of the vtb cgroups (a component
 * "vtb<hex>") that process pid is in, for cg_procs_join: entering a node's
 * init's limits. fds[] gets up to CG_MAXH descriptors (O_CLOEXEC, the
 * caller's), *n their number (0 when pid has no limits). Returns 0 or a
 * negative errno (none left open). */
int cg_join_open(pid_t pid, int *fds, size_t *n);

/* node's counters and limits. Returns 0, -ENOENT when it has no cgroup,
 * or a negative errno. */
int cg_node_stats(const struct cg_exp *e, const char *node, struct cg_stats *s);

/* Remove the experiment cgroup at dir (a journal row): thawed where it
 * is a freezer's, every process still in it or a child is killed and waited for (at most timeout_ms each),
 * then the children and dir are removed. Gone already is success. Returns
 * 0 or a negative errno with err. */
int cg_remove(const char *dir, int timeout_ms, char *err, size_t errlen);

/* The freezer (vtb node stop, docs/nodes.md): experiment id's cgroup
 * "vtb<id>" in v1's freezer hierarchy (made by vtb node stop, journaled,
 * a child per stopped node; it holds no limits, and cg_exp_from_rows
 * leaves it out). The directory into dir: 0, -ENOTSUP when the host has no
 * v1 freezer, or a negative errno. */
int cg_freezer_dir(const char *mountinfo, const char *id, char *dir, size_t len);

/* Freeze (frozen true) or thaw the freezer cgroup dir and everything in
 * it. 0 or a negative errno. */
int cg_freezer_set(const char *dir, bool frozen);

/* 1 when freezer cgroup dir is frozen (or freezing), 0 when thawed, or a
 * negative errno (-ENOENT: there is no such cgroup). */
int cg_freezer_state(const char *dir);

/* Thaw dir and its children where they are freezer cgroups (a frozen
 * process cannot end, not even on SIGKILL: what is killed is thawed
 * first). Gone is success. 0 or a negative errno. */
int cg_thaw_tree(const char *dir);

/* Whether dir is a cgroup directory named vtb<id> (teardown's check that a
 * row is ours). */
bool cg_is_exp_dir(const char *dir, const char *id);

/* The host CPU's nominal frequency in Hz: cpuinfo_max_freq of cpu0, else
 * /proc/cpuinfo's "cpu MHz". Returns 0 or -ENOENT. */
int cg_host_cpu_hz(uint64_t *hz);

/* cpuset.cpus for a node pinned to count cores: the count CPUs the caller
 * may run on starting at the offset-th one (wrapping). buf "" when
 * count is 0. Returns 0 or a negative errno. */
int cg_pick_cpus(unsigned count, unsigned offset, char *buf, size_t len);

#endif
