/* build_int: what the files of materialize/'s build share: the build
 * context, the DAG tasks, and the node and link kinds behind their tables
 * (as iproute2's struct link_util and Open vSwitch's struct netdev_class:
 * a new kind is a new provider, not a new case in every switch). Not for
 * other modules. */
#ifndef VTB_BUILD_INT_H
#define VTB_BUILD_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "build.h"
#include "cgroup.h"
#include "dag.h"
#include "nl.h"
#include "noderun.h"

struct build_ctx;
struct btask;

/* The body of one task; 0 or a negative errno (after build_fail). */
typedef int (*build_fn)(struct build_ctx *c, unsigned worker, const struct btask *t);

/* One unit of work in the DAG. */
struct btask {
	struct build_ctx *c;
	build_fn run;
	uint32_t node, link, ep;
};

/* A node kind: what the host builds for a node of that kind. Task ids:
 * node i's first task is i (the namespace, or nothing), its last is
 * nnodes + i (the configuration): every task of its links runs between. */
struct build_node_kind {
	const char *name;     /* "container", "vm" (as vtb status says) */
	bool netns;           /* it has a network namespace (journaled, created) */
	build_fn create;      /* its first task: the namespace (NULL: nothing) */
	build_fn attach;      /* endpoint (link, ep)'s root-side port */
	build_fn config;      /* its last task: addresses, routes (NULL: none) */
};

/* A link kind (one per enum rz_link_class): plan its objects and tasks. */
struct build_link_kind {
	const char *name;
	/* Journal link's objects and add its tasks and edges; 0 or -errno. */
	int (*plan)(struct build_ctx *c, uint32_t link);
};

extern const struct build_node_kind build_container, build_vm;
extern const struct build_link_kind build_link_veth, build_link_switch, build_link_emulated,
	build_link_short, build_link_dispersed;
/* An emulated link whose endpoints are on more than one host
 * (build_dispersed.c): its local ports and its VXLAN device. */
int build_dispersed_emulated_plan(struct build_ctx *c, uint32_t link);
/* A direct dispersed point-to-point link's shortcut (build_dispersed_p2p.c):
 * a task after the VXLAN device's (vtep_task) and the local port's
 * (port_task) joining the two by tc redirects; nothing for a LAN or with
 * VTB_DISPERSED_BYPASS=0. 0 or -errno. */
int build_dispersed_p2p_plan(struct build_ctx *c, uint32_t link, uint32_t vtep_task,
			     uint32_t port_task);

/* A container node's init process (noderun.h), journaled after the DAG. */
struct build_init {
	pid_t pid;
	uint64_t start;
};

struct build_ctx {
	const char *id;
	const struct realization *rz;
	const struct xir *x;
	int *ns_fd;                        /* per node, -1 until its netns exists */
	char sub[BUILD_SUBSTRATE_LEN];     /* the substrate namespace's name */
	int sub_fd;                        /* the substrate, -1 until it exists */
	struct build_init *init;           /* per node: its init (pid 0: none yet) */
	int mnt_tmpl[2];                   /* noderun_template: [privileged] */
	int log_fd;                        /* the inits' log, -1 if none */
	char init_path[PATH_MAX];          /* vtb-init (noderun_init_path) */
	struct noderun_factory factory;    /* makes the nodes (pid -1: none) */
	struct nl_sock *root[BUILD_WORKERS]; /* in the substrate */
	pthread_mutex_t lock;              /* guards err */
	struct build_error *err;
	bool failed;
	build_progress_fn progress;
	void *parg;
	/* the plan: tasks (preallocated: the DAG holds pointers into it),
	 * the DAG, and the journal rows of what the tasks create */
	struct btask *t;
	size_t nt, capt;
	struct dag *g;
	struct db_obj *obj;
	size_t nobj, capobj;
	/* objects that existed already when a task came to create them: not
	 * this experiment's, so their journal rows go before any rollback */
	struct db_obj *foreign;
	size_t nforeign, capforeign;
	bool foreign_lost; /* one could not be remembered (out of memory) */
	struct cg_exp cg;  /* the experiment's cgroup (cg.n 0: no node has limits) */
};

/* The nodes' limits (docs/limits.md): journal the experiment's cgroup when
 * a node has limits (in make_plan), then make it and each limited node's
 * child (before the DAG runs). 0 or a negative errno (after build_fail). */
int build_limits_plan(struct build_ctx *c);
int build_limits_create(struct build_ctx *c);

/* The kind of node i. */
const struct build_node_kind *build_node_kind_of(const struct build_ctx *c, uint32_t node);

/* Record the first failure: what (formatted) and the system's words. */
void build_fail(struct build_ctx *c, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Object (kind, name) existed before this experiment tried to create it
 * (EEXIST): remember that its journal row is not ours. */
void build_not_ours(struct build_ctx *c, enum db_obj_kind kind, const char *name);

/* The substrate namespace's netlink socket of this worker, opened on first
 * use (the ports, bridges and taps of every link live there). */
struct nl_sock *build_root_sock(struct build_ctx *c, unsigned worker, int *r);

/* Journal one object (name in namespace ns: a node's, the substrate's
 * c->sub, or NULL: the root). 0 or -ENOMEM. */
int build_journal(struct build_ctx *c, enum db_obj_kind kind, const char *name, const char *ns);

/* Add a task to the DAG (after the node tasks); *id its DAG id. 0 or -errno. */
int build_task(struct build_ctx *c, build_fn run, uint32_t node, uint32_t link, uint32_t ep,
	       uint32_t *id);

/* Add the tasks of endpoint (link, ep)'s port, between its node's first and
 * last task, after `after` (UINT32_MAX: nothing else); *id its DAG id. */
int build_port_task(struct build_ctx *c, uint32_t link, uint32_t ep, uint32_t after,
		    uint32_t *id);

/* Edges from node's first task to id, and from id to node's last task. */
int build_node_edges(struct build_ctx *c, uint32_t node, uint32_t id);

/* The interface of endpoint (link, ep) and a link's name for messages. */
const struct rz_iface *build_ep_iface(const struct build_ctx *c, uint32_t link, uint32_t ep);
const char *build_link_label(const struct build_ctx *c, uint32_t link);

#endif
