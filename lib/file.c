/* file: whole files, directories, copies and sysctls (see file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How many directories nftw may hold open while removing a tree: deeper
 * trees still work (nftw closes and reopens), this only bounds the fds. */
#define FILE_RM_FDS 16

/* copy_file_range's request per call: large enough that a file of a few
 * hundred MiB takes one call, small enough to fit a ssize_t anywhere. */
#define FILE_COPY_CHUNK (1 << 30)

/* See file.h. One fstat for the size, then reads until it is filled. */
int file_read_all(const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf = NULL;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out_close;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO; /* shrunk while we read it */
			goto out_free;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	goto out_close;
out_free:
	free(buf);
out_close:
	close(fd);
	return r;
}

/* See file.h. A full non-blocking fd (a pty, a socket) is waited on with
 * poll, not retried in a loop. */
int file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	r = file_write_all(fd, data, len);
	if (close(fd) && !r)
		r = -errno;
	return r;
}

/* See file.h. mkostemp makes the name unique per call, so two threads (or
 * processes) replacing one file never write into each other's copy. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fchmod(fd, mode) ? -errno : 0;
	if (!r)
		r = file_write_all(fd, data, len);
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* See file.h. Each prefix of path ending at a slash is made in turn. */
int file_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

static int file_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

int file_rm_tree(const char *path)
{
	if (nftw(path, file_rm_one, FILE_RM_FDS, FTW_DEPTH | FTW_PHYS))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

/* Copy through a buffer: for the file systems and fd kinds that
 * copy_file_range does not serve. */
static ssize_t file_copy_read(int in, int out, ssize_t total)
{
	char buf[65536];
	ssize_t n;
	int r;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return total;
		r = file_write_all(out, buf, (size_t)n);
		if (r)
			return r;
		total += n;
	}
}

/* See file.h. copy_file_range refuses some pairs (across file systems on
 * old kernels, pipes, procfs) before copying anything: those fall back to
 * read and write. */
ssize_t file_copy(int in, int out)
{
	ssize_t n, total = 0;

	for (;;) {
		n = copy_file_range(in, NULL, out, NULL, FILE_COPY_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && total == 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
					   errno == EOPNOTSUPP))
			return file_copy_read(in, out, 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			return total;
		total += n;
	}
}

/* See file.h. /proc/sys/net resolves to the namespace of the thread that
 * opens the file, so a caller switches its thread first to reach another
 * namespace's keys. */
int file_sysctl_write(const char *key, const char *value)
{
	char path[PATH_MAX];
	size_t i, start = sizeof("/proc/sys/") - 1;
	int n, fd, r;

	if (!key || !*key || *key == '/' || !value || strstr(key, ".."))
		return -EINVAL;
	n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (!strchr(key, '/'))
		for (i = start; path[i]; i++)
			if (path[i] == '.')
				path[i] = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = file_write_all(fd, value, strlen(value));
	if (close(fd) && !r)
		r = -errno;
	return r;
}
