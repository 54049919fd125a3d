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

#endif
