/* netns: named network namespaces, bound where iproute2 expects them
 * (/run/netns/NAME), so `ip netns exec NAME ...` works on vtb's nodes.
 * The substrate's UTS namespace is bound at /run/vtb/uts/NAME too (a
 * node's is reached through its init). */
#ifndef VTB_NETNS_H
#define VTB_NETNS_H

#include <stdint.h>
#include <sys/types.h>

#define NETNS_RUN_DIR "/run/netns"
#define NETNS_UTS_DIR "/run/vtb/uts"

/* Create the namespace NAME (net + uts, hostname set to hostname) and bind
 * it. Returns 0, -EEXIST if NAME is already bound, or a negative errno. On
 * failure nothing is left bound. */
int netns_create(const char *name, const char *hostname);
/* Bind the network namespace of process pid as NAME (a node's init: see
 * noderun.h; its UTS namespace is reached through the init). Returns 0,
 * -EEXIST if NAME is already bound, or a negative errno; on failure
 * nothing is left bound. */
int netns_bind(const char *name, pid_t pid);
/* What NAME's binds are: the network namespace's inode in the low 32 bits,
 * the UTS namespace's in the high 32 (a namespace's inode is a 32-bit proc
 * inum); a half is 0 when that bind cannot be read. */
uint64_t netns_ident(const char *name);
/* netns_delete's answer when a bind of NAME holds a namespace other than
 * the one recorded: that bind is left alone. */
#define NETNS_FOREIGN 1
/* Unbind and remove NAME's binds, each only when it is the namespace
 * recorded in ident (netns_ident when it was bound; a half of 0 is not
 * checked, but a UTS bind is left alone when only the network half was
 * recorded: a node bound by netns_bind has none). Already gone is
 * success. Returns 0, NETNS_FOREIGN, or a negative errno. */
int netns_delete(const char *name, uint64_t ident);
/* Open the bound namespace NAME: O_RDONLY|O_CLOEXEC fd, or a negative errno. */
int netns_open(const char *name);
int netns_open_uts(const char *name);
/* 1 when NAME is bound (a live namespace), 0 when not, -EINVAL for a name
 * that is no path component, or a negative errno when it cannot be told. */
int netns_exists(const char *name);
/* Write value to /proc/sys/KEY (dots or slashes) inside ns_fd (-1: the
 * caller's namespace), e.g. "net/ipv4/ip_forward" "1"; see lib/file.h's
 * file_sysctl_write. */
int netns_sysctl(int ns_fd, const char *key, const char *value);

#endif
