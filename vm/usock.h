/* usock: connecting to a unix stream socket that another process (QEMU)
 * is about to create, by waiting on events (inotify on its directory, the
 * process's pidfd) rather than sleeping between tries. */
#ifndef VTB_USOCK_H
#define VTB_USOCK_H

/* Connect to the unix stream socket at path, waiting up to timeout_ms
 * while it does not exist or refuses. When pidfd is not -1 and that
 * process ends meanwhile, -ECHILD. Returns the connected fd (O_CLOEXEC,
 * blocking; the caller closes it) or a negative errno: at the deadline the
 * last connect's error (-ENOENT, -ECONNREFUSED), or another connect error
 * at once (-EACCES, -ENAMETOOLONG ...). */
int usock_connect(const char *path, int timeout_ms, int pidfd);

#endif
