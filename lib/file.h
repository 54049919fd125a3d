/* file: the file helpers several modules need (a whole file in or out, a
 * file replaced atomically, mkdir -p, rm -r, a kernel copy between fds, a
 * sysctl written). Nothing here prints; every fd is O_CLOEXEC; every
 * function returns 0 (or a count) or a negative errno. */
#ifndef VTB_FILE_H
#define VTB_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Read all of path into *data (NUL-terminated, the caller frees it) and its
 * length into *len. A file larger than max bytes is -EFBIG (it is not what
 * the caller thinks it is). Returns 0 or a negative errno. For regular
 * files: it reads as many bytes as fstat says, and /proc files say 0. */
int file_read_all(const char *path, size_t max, char **data, size_t *len);

/* Write all len bytes of data to fd, going on after EINTR and a short
 * write, and waiting (poll) while a non-blocking fd is full. */
int file_write_all(int fd, const void *data, size_t len);

/* Create or truncate path (mode) and write data into it. */
int file_write(const char *path, const void *data, size_t len, mode_t mode);

/* Replace path with a file holding data, in one step: written to a new
 * temporary file beside it (path.XXXXXX) and renamed over path, so a reader
 * sees the old content or the new one, never a part. Nothing is left
 * behind on failure. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mkdir -p: path and its missing parents (each with mode). An existing
 * directory is success. */
int file_mkdir_p(const char *path, mode_t mode);

/* rm -r: remove the tree at path, not following symlinks. One that is gone
 * already is success. */
int file_rm_tree(const char *path);

/* Copy what is left of in (from its offset) to out, in the kernel when it
 * can (copy_file_range), else through a buffer. Returns the number of
 * bytes copied or a negative errno. */
ssize_t file_copy(int in, int out);

/* Write value to the sysctl key of the calling thread's namespaces:
 * "net.ipv4.ip_forward" (dots become slashes, as sysctl(8) does) or a path
 * under /proc/sys with slashes, kept as it is (an interface name such as
 * eth0.100 keeps its dots). -EINVAL for a key that leaves /proc/sys,
 * -ENOENT for a key the kernel does not have. */
int file_sysctl_write(const char *key, const char *value);

#endif
