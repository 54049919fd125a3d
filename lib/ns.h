/* ns: running code inside another network namespace, by fd. The bottom of
 * the namespace stack: materialize/nl (a socket in a node's namespace) and
 * materialize/netns (named namespaces, their sysctls) both use it. */
#ifndef VTB_NS_H
#define VTB_NS_H

/* Run fn(arg) in this thread with its network namespace switched to ns_fd,
 * then switch back. Returns fn's result, or a negative errno from setns. */
int ns_run_in(int ns_fd, int (*fn)(void *arg), void *arg);

/* The calling thread's network namespace: an O_RDONLY|O_CLOEXEC fd the
 * caller owns, or a negative errno. */
int ns_open_self(void);

/* A directory fd (O_PATH) of /sys/class/net as the calling thread's
 * network namespace sees it, which the host's /sys does not show for
 * another namespace: a sysfs mounted by a thread of its own in a mount
 * namespace of its own, left behind (the mount lives as long as the fd).
 * Returns the fd or a negative errno. */
int ns_sysfs_net(void);

#endif
