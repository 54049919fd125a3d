/* clconf: a host's cluster configuration (docs/cluster.md), the file
 * `vtb cluster init` or `join` writes and every vtb command of the host
 * reads: /etc/vtb/cluster.conf, or $VTB_CLUSTER_CONF. Without the file the
 * host is on its own (SQLite only, no etcd): the embedded default.
 *
 * The file is lines of "key = value"; '#' starts a comment; blank lines
 * are fine. Keys: etcd (the endpoints, comma-separated URLs), host (this
 * host's name in the cluster), underlay (this host's IPv4 address for the
 * experiments' VXLAN tunnels), and ca, cert, key (TLS: see struct
 * clconf). Unknown keys are errors, with their line. */
#ifndef VTB_CLCONF_H
#define VTB_CLCONF_H

#include <stddef.h>

#include "util.h"

#define CLCONF_DEFAULT_PATH "/etc/vtb/cluster.conf"
/* A host name: letters, digits, '-', '_' and '.', 1 to 63 bytes (a DNS
 * label's length: hosts are often named after their DNS name). */
#define CLCONF_HOST_MAX 64
#define CLCONF_ETCD_MAX 1024
#define CLCONF_ADDR_MAX 64 /* INET6_ADDRSTRLEN and more */
#define CLCONF_PATH_MAX 256

/* ca, cert and key (absolute paths of PEM files: the cluster CA's
 * certificate, this host's certificate and its private key, tls.h) go
 * together: all three or none. They are required when etcd is reached
 * over https; without them the host has no relay (docs/cluster.md,
 * "Security"). */
struct clconf {
	char etcd[CLCONF_ETCD_MAX];     /* "http://10.0.0.1:2379,http://10.0.0.2:2379" */
	char host[CLCONF_HOST_MAX];     /* "h1" */
	char underlay[CLCONF_ADDR_MAX]; /* "10.0.0.11" */
	char ca[CLCONF_PATH_MAX];       /* "/etc/vtb/ca.crt", "" when none */
	char cert[CLCONF_PATH_MAX];     /* "/etc/vtb/host.crt" */
	char key[CLCONF_PATH_MAX];      /* "/etc/vtb/host.key" */
};

/* $VTB_CLUSTER_CONF or CLCONF_DEFAULT_PATH. */
const char *clconf_path(void);

/* Parse the text of a configuration (len bytes, not NUL-terminated) into
 * *c. Returns 0, or -EINVAL with err naming the line and what is wrong
 * (err holds UTIL_ERR_LEN bytes). Every key is required. */
int clconf_parse(const char *text, size_t len, struct clconf *c, char *err);

/* Read path (clconf_path() when NULL). Returns 0; -ENOENT when there is no
 * file (no cluster: not an error for the caller to print); or another
 * negative errno with err saying why ("FILE:LINE: ..."). */
int clconf_read(const char *path, struct clconf *c, char *err);

/* Write c to path (clconf_path() when NULL) atomically, mode 0644, its
 * directory made if missing. Returns 0 or a negative errno with err. */
int clconf_write(const char *path, const struct clconf *c, char *err);

/* The directory of path (clconf_path() when NULL) into dir (len bytes):
 * where init/join install the certificates. */
void clconf_dir(const char *path, char *dir, size_t len);

/* Whether name is a valid host name (CLCONF_HOST_MAX's rule): 0 or
 * -EINVAL. */
int clconf_host_check(const char *name);

#endif
