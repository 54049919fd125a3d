/* noderun: a container node's runtime (see docs/nodes.md).
 *
 * A node is a long-lived init process I: pid 1 of the node's own pid
 * namespace P, in the node's own mount namespace M, network, UTS and IPC
 * namespaces. Unless the node is privileged, the network, UTS and IPC
 * namespaces are owned by a user namespace U of the node's own, whose ids
 * 0..VTB_UID_COUNT-1 are the host's VTB_UID_BASE.. : node root has every
 * capability over what U owns and none over anything else. M and P are
 * owned by the host's user namespace, so node root cannot mount or unmount
 * anything in M. I itself stays in the host's user namespace: node root can
 * neither signal nor trace it. Killing I makes the kernel kill every
 * process of P. Entering a node (vtb exec, vtb run's commands) is
 * noderun_open + noderun_enter (+ noderun_become_root in the command). */
#ifndef VTB_NODERUN_H
#define VTB_NODERUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "db.h"
#include "realize.h"

/* The host uid and gid of node root: node ids 0..VTB_UID_COUNT-1 are host
 * ids VTB_UID_BASE.. in every node of every experiment (one range: a node
 * holds nothing of another's but its own namespaces, which the ids do not
 * give access to). Far above the ids distributions hand out to users and
 * services; never host root, so node root gets nothing the host's kernel
 * checks against uid 0 (kernel.* sysctls, DAC override on host files). */
#define VTB_UID_BASE 0x7FFE0000u
#define VTB_UID_COUNT 65536u

/* What noderun_spawn needs to make one node. */
struct noderun_spec {
	const char *init_path;           /* vtb-init (noderun_init_path), for messages */
	int factory;                     /* noderun_factory's socket */
	const char *id;                  /* the experiment's id */
	const char *name;                /* its namespaces' name (for the log) */
	const char *hostname;            /* the node's name */
	bool privileged;                 /* no user namespace, tree writable */
	bool forwarding;                 /* routes between its interfaces */
	bool ipv6;                       /* has IPv6 addresses (forwards them too) */
	bool limited;                    /* its init goes into the node's cgroups */
	const struct rz_private *priv;   /* the node's private directories */
	size_t npriv;
	int mnt_tmpl;                    /* noderun_template's fd of this kind */
	int log_fd;                      /* the inits' log (O_APPEND), or -1 */
};

/* The path of vtb-init, the nodes' helper and init: next to the running
 * executable (vtb's build puts it there). Returns 0, or a negative errno
 * (-ENOENT when it is missing) with buf holding the path looked for. */
int noderun_init_path(char *buf, size_t len);

/* A mount namespace to copy for each node of one kind: the host's tree
 * with its propagation made slave (host mounts still come in, ours never go
 * out), without vtb's namespace binds (/run/netns, /run/vtb/uts, which every
 * node's copy would otherwise hold and receive), and, unless privileged,
 * read-only with the state directory under an empty read-only tmpfs.
 * *fd is the caller's (O_CLOEXEC). Returns 0 or a negative errno. */
int noderun_template(bool privileged, int *fd);

/* The process that makes one vtb up's nodes: vtb-init in factory mode
 * (materialize/init/noderun_factory.c), spawned once (posix_spawn: the
 * caller may have threads and a large address space, neither of which is
 * copied). For each node it starts a helper K, a clone sharing its own
 * small static address space (materialize/init/noderun_helper.c): no
 * exec, no ELF load, no copy. It exits when sock closes, so it never
 * outlives the caller. */
struct noderun_factory {
	pid_t pid;
	int sock; /* O_CLOEXEC: nothing the caller starts keeps it open */
};

/* Start a factory running init_path into *f. Returns 0 or a negative
 * errno (nothing left then). */
int noderun_factory_start(const char *init_path, struct noderun_factory *f);

/* Close f's socket and reap it (it exits at once: its helpers are not its
 * to wait for). Accepts a factory never started (pid -1, sock -1). */
void noderun_factory_stop(struct noderun_factory *f);

/* A node made but not yet settled: its helper waits to hear whether the
 * caller keeps the init. */
struct noderun_pending {
	int report; /* the helper's report pipe: EOF when it has exited */
	int ack;
};

/* Make one node as s says and return its init's pid in *init. Asks the
 * factory s->factory (any thread may, concurrently) for a helper K, which
 * creates the namespaces, sets the node's forwarding sysctls, makes the
 * node's mounts and forks the init; the init outlives the caller. K then
 * waits on *pend: the caller settles it once the init is where teardown
 * finds it (bound, journaled), and if the caller dies first K kills the
 * init. Returns 0, or a negative errno with err saying what failed
 * (nothing of the node is left then, and nothing to settle). */
int noderun_spawn(const struct noderun_spec *s, pid_t *init, struct noderun_pending *pend,
		  char *err, size_t errlen);

/* Tell the helper whether the caller keeps the init. When it does not,
 * wait until the helper, having killed the init, has exited. */
void noderun_settle(struct noderun_pending *pend, bool keep);

/* A node to enter: its init's pidfd, the user namespace its commands
 * run in (-1: a privileged node, whose commands are host root) and the
 * cgroup.procs of the init's limits (docs/limits.md), ncg of them. */
struct noderun_fds {
	int pidfd, userns;
	int cg[CG_MAXH];
	size_t ncg;
};

/* Open the node whose init is (pid, start) (a journal row). Returns 0,
 * -ESRCH when that init is gone, or a negative errno. The fds are the
 * caller's (noderun_close). */
int noderun_open(pid_t pid, uint64_t start, struct noderun_fds *f);
void noderun_close(struct noderun_fds *f);

/* Move the calling (single-threaded) process into the node's cgroups (its
 * limits), network, UTS, IPC and mount namespaces, and its children into
 * its pid namespace; the caller stays host root in the host's user namespace. Async-signal-safe.
 * Returns 0 or a negative errno. */
int noderun_enter(const struct noderun_fds *f);

/* In a process that entered: become node root (the node's user namespace,
 * uid and gid 0, no supplementary groups); nothing for a privileged node.
 * Async-signal-safe. Returns 0 or a negative errno. */
int noderun_become_root(const struct noderun_fds *f);

/* Find a node's init in an experiment's journal rows by its row name (the
 * node's namespace name, build_netns_name): its pid and start time.
 * Returns 0, or -ENOENT when the journal has no init of that name. */
int noderun_find(const struct db_obj *rows, size_t n, const char *name, pid_t *pid,
		 uint64_t *start);

#endif
