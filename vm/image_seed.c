/* image_seed: host directories copied into a VM's per-VM initrd, to seed
 * the model's private directories in the guest (docs/vms.md, "Private
 * directories"). */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories nest at most this deep in a seed: deeper is a loop through
 * a bind mount or not a configuration directory. */
#define IMG_SEED_DEPTH 32

static int img_seed_dir(struct img_cpio *c, const char *name, int fd, const struct stat *st,
			size_t *budget, int depth);

/* Append the entry at name of the directory dfd (st its stat) as path. */
static int img_seed_one(struct img_cpio *c, const char *path, int dfd, const char *name,
			const struct stat *st, size_t *budget, int depth)
{
	char target[PATH_MAX], *data;
	ssize_t n;
	size_t len;
	int fd, r;

	if (S_ISLNK(st->st_mode)) {
		n = readlinkat(dfd, name, target, sizeof(target));
		if (n < 0 || (size_t)n >= sizeof(target))
			return n < 0 ? -errno : -ENAMETOOLONG;
		img_cpio_entry_owned(c, path, S_IFLNK | 0777, st->st_uid, st->st_gid, 0, 0, target,
				     (size_t)n);
		return 0;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return 0; /* sockets, devices, fifos: nothing to copy */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
				       (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0));
	if (fd < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return img_seed_dir(c, path, fd, st, budget, depth + 1); /* takes fd */
	r = st->st_size > (off_t)*budget ? -EFBIG : 0;
	if (!r) {
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		r = file_read_all(proc, *budget, &data, &len);
	}
	close(fd);
	if (r)
		return r;
	*budget -= len;
	img_cpio_entry_owned(c, path, S_IFREG | (st->st_mode & 07777), st->st_uid, st->st_gid, 0, 0,
			     data, len);
	free(data);
	return 0;
}

/* Append the directory open at fd (st its stat; fd is closed) as name,
 * then its entries. */
static int img_seed_dir(struct img_cpio *c, const char *name, int fd, const struct stat *st,
			size_t *budget, int depth)
{
	char path[PATH_MAX];
	struct dirent *d;
	struct stat est;
	DIR *dir;
	int r = 0;

	if (depth > IMG_SEED_DEPTH) {
		close(fd);
		return -ELOOP;
	}
	img_cpio_entry_owned(c, name, S_IFDIR | (st->st_mode & 07777), st->st_uid, st->st_gid, 0, 0,
			     NULL, 0);
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	while (!r && (d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", name, d->d_name) >= sizeof(path))
			r = -ENAMETOOLONG;
		else if (fstatat(dirfd(dir), d->d_name, &est, AT_SYMLINK_NOFOLLOW))
			r = -errno;
		else
			r = img_seed_one(c, path, dirfd(dir), d->d_name, &est, budget, depth);
	}
	closedir(dir);
	return r;
}

/* See image_impl.h. */
int img_cpio_tree(struct img_cpio *c, const char *name, const char *dir, size_t *budget)
{
	struct stat st;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return img_seed_dir(c, name, fd, &st, budget, 0);
}
