/* fragment: the document that tells one host of a cluster its part of an
 * experiment (docs/cluster.md, "Fragments and dispersed links"): the
 * experiment's name, id and XIR, the hosts holding part of it with their
 * underlay addresses, each node's host and each dispersed link's VNI.
 * Bytes from another host (through etcd): parsed strictly, every field
 * checked, with a sentence naming what is wrong. */
#ifndef VTB_FRAGMENT_H
#define VTB_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "realize.h"
#include "xir.h"

#define FRAG_VERSION 1
#define FRAG_ID_LEN 4      /* the experiment id: 4 lowercase hex digits */
#define FRAG_HOSTS_MAX 4096 /* far above any cluster vtb is made for */

struct frag {
	char name[XIR_NAME_MAX + 1];   /* the experiment's name (the XIR's) */
	char id[FRAG_ID_LEN + 1];
	char host[RZ_HOST_LEN];        /* the host this fragment is for */
	struct rz_cluster cl;          /* hosts, host_of, vni; here: host's index */
	struct xir *x;                 /* the compiled XIR (owned) */
};

/* Parse a fragment document of len bytes (JSON, not NUL-terminated). The
 * XIR is compiled as a stored experiment's is (compile_source). Returns 0
 * and *out (the caller's, frag_free), -EINVAL with err (UTIL_ERR_LEN bytes:
 * which field, what is wrong), -EFBIG for a document over
 * COMPILE_MAX_SOURCE, or -ENOMEM. */
int frag_parse(const uint8_t *buf, size_t len, struct frag **out, char *err);
void frag_free(struct frag *f);

#endif
