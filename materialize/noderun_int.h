/* noderun_int: what noderun.c (processes, namespaces) and noderun_mnt.c
 * (the node's mounts) share. Not for other modules. Everything here runs
 * in the forked helper: async-signal-safe calls only, no malloc. */
#ifndef VTB_NODERUN_INT_H
#define VTB_NODERUN_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "noderun.h"

/* The steps of making a node, for the helper's report (noderun.c names
 * them in its messages). */
enum nr_step {
	NR_FORK,       /* fork the helper, its namespace child or the init */
	NR_USERNS,     /* the user namespace and the namespaces it owns */
	NR_IDMAP,      /* its uid and gid maps */
	NR_ENTER,      /* the helper joins them */
	NR_HOSTNAME,
	NR_LO,
	NR_MNTNS,      /* the mount and pid namespaces */
	NR_RUN,        /* the tmpfs on /run, /var/run, /tmp, /var/tmp, /root */
	NR_DEV,
	NR_SYS,
	NR_PRIV,       /* a private directory (arg: its index) */
	NR_PRIV_PARENT, /* its parent is missing on the host (arg: its index) */
	NR_SEED,       /* copying its seed (arg: its index) */
	NR_PROC,       /* the init's /proc */
	NR_STEPS
};

/* The host id of node id `id` (unchanged for a privileged node or an id
 * outside the node's range). */
unsigned nr_shift(const struct noderun_spec *s, unsigned id);

/* Write v in decimal ending at *end (not NUL-terminated); returns the start. */
char *nr_utoa(char *end, unsigned long v);

/* Append str (or v in decimal) to the NUL-terminated buf of size len,
 * truncating. */
void nr_append(char *buf, size_t len, const char *str);
void nr_append_u(char *buf, size_t len, unsigned long v);

/* Before the node's mount namespace, in the host's: make the mount points
 * of private directories the host does not have. Returns 0 or a negative
 * errno with *step and *arg set. */
int nr_priv_prepare(const struct noderun_spec *s, int *step, int *arg);

/* In the node's new mount namespace (a copy of the template): its own
 * /run, /tmp, /dev, /sys and private directories; host_root is an fd of
 * the host's root directory, for seeds and owners the node's tree may
 * hide. Returns 0 or a negative errno with *step and *arg set. */
int nr_mount_node(const struct noderun_spec *s, int host_root, int *step, int *arg);

#endif
