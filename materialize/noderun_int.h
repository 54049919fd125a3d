/* noderun_int: what noderun.c (vtb's side: spawning, entering) shares with
 * vtb-init (materialize/init/: the helper K and the init I of one node, a
 * small static program of its own). Not for other modules. */
#ifndef VTB_NODERUN_INT_H
#define VTB_NODERUN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "noderun.h"

/* The steps of making a node, for the helper's report (noderun.c names
 * them in its messages). */
enum nr_step {
	NR_FORK,       /* start the helper or fork the init */
	NR_ARGS,       /* vtb-init's command line */
	NR_USERNS,     /* the user namespace and the namespaces it owns */
	NR_IDMAP,      /* its uid and gid maps */
	NR_ENTER,      /* the helper joins them */
	NR_HOSTNAME,
	NR_LO,
	NR_SYSCTL,     /* the node's forwarding sysctls */
	NR_MNTNS,      /* the mount and pid namespaces */
	NR_RUN,        /* the tmpfs on /run, /var/run, /tmp, /var/tmp, /root */
	NR_DEV,
	NR_SYS,
	NR_PRIV,       /* a private directory (arg: its index) */
	NR_PRIV_MISSING, /* it is missing on the host, outside the node's tmpfs (arg) */
	NR_SEED,       /* copying its seed (arg: its index) */
	NR_PROC,       /* the init's /proc */
	NR_STEPS
};

/* The helper's report on its report pipe: fixed size, one atomic write. */
struct nr_report {
	int32_t err;  /* 0 or an errno */
	int32_t step; /* enum nr_step of the failure */
	int32_t arg;  /* the private directory of NR_PRIV.. */
	int32_t init; /* the init's pid */
};

/* vtb-init's command line (noderun_spawn writes it, vtb-init reads it):
 *   vtb-init ID NODE -n NAME -r REPORT_FD -a ACK_FD -m TEMPLATE_FD
 *            [-l LOG_FD] [-P] [-f] [-6] [-d PATH[=SEED]]...
 * ID and NODE first: the init's command line is cut after them (ps shows
 * `vtb-init ID NODE`). -P privileged, -f forwarding, -6 IPv6 addresses,
 * -d a private directory (in order: the report's arg is its index). */
#define NR_INIT_NAME "vtb-init"

/* In vtb-init (materialize/init/noderun_mnt.c), the node's mounts. */

/* The host id of node id `id` (unchanged for a privileged node or an id
 * outside the node's range). */
unsigned nr_shift(const struct noderun_spec *s, unsigned id);

/* Before the node's namespaces, in the host's: check that each private
 * directory is either on the host or under one of the node's own tmpfs
 * directories (made there). Nothing on the host is changed. Returns 0 or
 * a negative errno with *step and *arg set. */
int nr_priv_check(const struct noderun_spec *s, int *step, int *arg);

/* In the node's new mount namespace (a copy of the template): its own
 * /run, /tmp, /dev, /sys and private directories; host_root is an fd of
 * the host's root directory, for seeds and owners the node's tree may
 * hide. Returns 0 or a negative errno with *step and *arg set. */
int nr_mount_node(const struct noderun_spec *s, int host_root, int *step, int *arg);

#endif
