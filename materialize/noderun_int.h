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

/* vtb-init's command line (noderun_factory_start writes it):
 *   vtb-init -F SOCK_FD PAD
 * the factory: for each request on SOCK_FD (a SOCK_SEQPACKET socket) it
 * starts a helper K that makes one node. PAD (NR_TITLE_LEN spaces, which
 * the factory zeroes) leaves room in the command line for the title: at
 * its first request the factory cuts it to `vtb-init ID` (ps), which the
 * inits share with it (a command line is the address space's).
 *
 * A request (noderun_spawn writes it, nr_request_parse reads it): the
 * node's arguments, each NUL-terminated,
 *   ID NODE -n NAME [-P] [-f] [-6] [-l] [-d PATH[=SEED]]...
 * -P privileged, -f forwarding, -6 IPv6 addresses, -l limited (its init
 * goes into the node's cgroups: noderun_helper.c), -d a private directory
 * (in order: the report's arg is its index), at most NR_REQ_MAX bytes;
 * with it (SCM_RIGHTS) the report pipe, the ack pipe, the template and,
 * when the inits log, the log, in that order (NR_REQ_FDS). */
#define NR_REQ_MAX 65536
#define NR_REQ_FDS 4
/* The title: DB_ID_LEN and its NUL. */
#define NR_TITLE_LEN (DB_ID_LEN + 1)
#define NR_INIT_NAME "vtb-init"

/* In vtb-init (materialize/init/). */

/* A parsed request: the spec and its pipes. */
struct nr_args {
	struct noderun_spec s;
	int rep, ack; /* the report pipe, vtb up's word */
};

/* One request as the helper K has it (noderun_helper.c puts it in K's own
 * memory): the arguments, the descriptors received with them, the
 * factory's socket (which K closes) and room for the parse (argv: nargs
 * + 1 entries; priv: nargs / 2 + 1). */
struct nr_kreq {
	char *buf;
	size_t len, nargs, nfd;
	int fds[NR_REQ_FDS];
	int sock;
	char **argv;
	struct rz_private *priv;
};

/* Parse K's request k (its strings stay in k->buf) into *a, whose private
 * directories are k->priv. Returns 0 or -EINVAL. */
int nr_request_parse(const struct nr_kreq *k, struct nr_args *a);

/* Once, in the factory before its first helper: find whether a helper can
 * share the factory's address space (then keep every process sharing it
 * out of the OOM killer's choice) or must be a fork. */
void nr_helper_setup(void);

/* Start the helper K for request buf (len bytes) with its descriptors fds
 * (nfd, which stay the caller's to close) as pid 1 of a new pid namespace,
 * in an address space of its own when own_mm (or when it cannot share the
 * factory's): fn runs in K with K's copy of the request and never returns.
 * Returns K's pid or a negative errno. */
pid_t nr_helper_start(const char *buf, size_t len, const int *fds, size_t nfd, int sock,
		      bool own_mm, int (*fn)(void *));

/* K (noderun_init.c), pid 1 of a new pid namespace: make the node of a,
 * report, wait for vtb up's word and, given it, become the node's init
 * (never returns); otherwise return K's exit status. */
int nr_helper(const struct nr_args *a);

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
