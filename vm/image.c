/* image: the guest image vtb builds itself, and its cache (see image.h).
 *
 * img_ensure finds the image of the current inputs in the cache or builds
 * it: download and unpack the kernel package, take the kernel out of it,
 * collect the NIC modules, write the initramfs, and rename the result into
 * place. The module's files, one step each:
 *
 *   image.c         the cache: lookup, lock, build directory, sweep
 *   image_key.c     the inputs (apt's candidate, busybox) and the key
 *   image_apt.c     another architecture's packages: a private apt
 *   image_run.c     running the host's tools
 *   image_kernel.c  the Debian package; vmlinux out of its bzImage; ELF
 *   image_mods.c    the NIC modules and their dependencies
 *   image_cpio.c    the newc cpio writer and the base initramfs
 *   image_guest.c   what the guest runs: /init, /etc, modules, cmdline
 *   image_conf.c    a VM's /etc/vtb.conf and its per-VM initrd
 *   image_seed.c    host directories in the per-VM initrd (private seeds)
 *   rootfs.c        the Debian trees of image == 'debian:...' (rootfs.h)
 *
 * What they share is in image_impl.h. */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Build the image into tmp/out. */
static int img_build(const char *tmp, const struct img_inputs *in, img_progress_fn progress,
		     void *arg, char *err, size_t errlen)
{
	struct img_mods *m;
	char path[600], root[600];
	int r;

	snprintf(path, sizeof(path), "%s/out", tmp);
	if (mkdir(path, 0755)) {
		r = -errno;
		util_fmt(err, errlen, "cannot create %s: %s", path, strerror(-r));
		return r;
	}
	r = img_fetch(tmp, in, progress, arg, err, errlen);
	if (r)
		return r;
	r = img_kernel(tmp, in, progress, arg, err, errlen);
	if (r)
		return r;
	/* bookworm keeps modules in /lib, merged-/usr releases in /usr/lib */
	snprintf(root, sizeof(root), "%s/pkg/lib/modules/%s", tmp, in->kver);
	if (access(root, F_OK))
		snprintf(root, sizeof(root), "%s/pkg/usr/lib/modules/%s", tmp, in->kver);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	img_step(progress, arg, "collecting the NIC driver modules");
	r = img_mods_load(m, in->arch, root, err, errlen);
	if (!r) {
		img_step(progress, arg, "writing the initramfs (%zu modules)", m->n);
		r = img_initrd(tmp, in, m, err, errlen);
	}
	img_mods_free(m);
	free(m);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/out/inputs", tmp);
	r = file_write(path, in->text.s, in->text.len, 0644);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", path, strerror(-r));
	return r;
}

/* Fill out for the image in dir; true when it is complete. */
static bool img_lookup(const char *dir, const struct img_inputs *in, const char *key,
		       struct img_paths *out)
{
	static const char *const kernels[] = { "vmlinux", "vmlinuz", "Image" };
	size_t i;

	memset(out, 0, sizeof(*out));
	snprintf(out->key, sizeof(out->key), "%s", key);
	snprintf(out->kernel_version, sizeof(out->kernel_version), "%s", in->kver);
	snprintf(out->initrd, sizeof(out->initrd), "%s/initrd.img", dir);
	if (access(out->initrd, R_OK))
		return false;
	for (i = 0; i < UTIL_ARRAY_SIZE(kernels); i++) {
		snprintf(out->kernel, sizeof(out->kernel), "%s/%s", dir, kernels[i]);
		if (!access(out->kernel, R_OK))
			return true;
	}
	return false;
}

/* Remove what crashed builds left (cache_dir/.tmp-*). Call with the lock. */
static void img_sweep(const char *cache)
{
	char path[1024];
	struct dirent *d;
	DIR *dir;

	dir = opendir(cache);
	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, ".tmp-", 5)) {
			snprintf(path, sizeof(path), "%s/%s", cache, d->d_name);
			file_rm_tree(path);
		}
	closedir(dir);
}

/* A cache hit also clears what a crashed build left, when no build runs
 * now (the lock is free): a crash can leave a tool such as dpkg-deb
 * writing into its build directory for a few seconds after the sweep of
 * the next build, and the next build may be far away. */
void img_sweep_if_idle(const char *cache)
{
	char lock[400];
	int fd;

	snprintf(lock, sizeof(lock), "%s/.lock", cache);
	fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!flock(fd, LOCK_EX | LOCK_NB))
		img_sweep(cache);
	close(fd);
}

/* See image_impl.h. */
int img_build_dir(const char *cache, const char *name, char *tmp, size_t len, char *err,
		  size_t errlen)
{
	int r;

	snprintf(tmp, len, "%s/.tmp-%s-XXXXXX", cache, name);
	if (mkdtemp(tmp))
		return 0;
	r = -errno;
	util_fmt(err, errlen, "cannot create a build directory in %s: %s", cache, strerror(-r));
	return r;
}

/* Build the image for key into dir (with the lock held), atomically. */
static int img_build_locked(const char *cache, const char *dir, const struct img_inputs *in,
			    const char *key, img_progress_fn progress, void *arg, char *err,
			    size_t errlen)
{
	char tmp[400], out[500];
	int r;

	r = img_build_dir(cache, key, tmp, sizeof(tmp), err, errlen);
	if (r)
		return r;
	r = img_build(tmp, in, progress, arg, err, errlen);
	snprintf(out, sizeof(out), "%s/out", tmp);
	if (!r && rename(out, dir)) {
		r = -errno;
		/* force: swap the new image with the old one in one step */
		if ((r == -ENOTEMPTY || r == -EEXIST) && !renameat2(AT_FDCWD, out, AT_FDCWD, dir,
								    RENAME_EXCHANGE))
			r = 0;
		else
			util_fmt(err, errlen, "cannot rename %s to %s: %s", out, dir, strerror(-r));
	}
	img_step(progress, arg, "removing the build directory");
	file_rm_tree(tmp);
	return r;
}

/* See image_impl.h. */
int img_cache_lock(const char *cache, char *err, size_t errlen)
{
	char lock[400];
	int r, fd;

	r = file_mkdir_p(cache, 0755);
	if (r) {
		util_fmt(err, errlen, "cannot create %s: %s", cache, strerror(-r));
		return r;
	}
	snprintf(lock, sizeof(lock), "%s/.lock", cache);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		r = -errno;
		util_fmt(err, errlen, "cannot lock %s: %s", lock, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	img_sweep(cache);
	return fd;
}

int img_ensure(const char *cache_dir, bool force, img_progress_fn progress, void *arg,
	       struct img_paths *out, char *err, size_t errlen)
{
	return img_ensure_arch(cache_dir, NULL, force, progress, arg, out, err, errlen);
}

int img_ensure_arch(const char *cache_dir, const struct vm_arch *arch, bool force,
		    img_progress_fn progress, void *arg, struct img_paths *out, char *err,
		    size_t errlen)
{
	const char *cache = cache_dir ? cache_dir : IMG_CACHE_DIR;
	struct img_inputs in;
	char key[17], dir[400];
	int r, fd;

	util_fmt(err, errlen, "%s", "");
	memset(out, 0, sizeof(*out));
	if (strlen(cache) > 300) {
		util_fmt(err, errlen, "the cache directory's name is too long: %s", cache);
		return -ENAMETOOLONG;
	}
	r = img_key(cache, arch ? arch : vm_arch_host(), &in, key, progress, arg, err, errlen);
	if (r)
		goto out_free;
	snprintf(dir, sizeof(dir), "%s/%s", cache, key);
	if (!force && img_lookup(dir, &in, key, out)) {
		/* a complete image: the rename made it appear whole */
		img_sweep_if_idle(cache);
		goto out_free;
	}
	fd = img_cache_lock(cache, err, errlen);
	if (fd < 0) {
		r = fd;
		goto out_free;
	}
	/* another builder may have finished while we waited */
	if (force || !img_lookup(dir, &in, key, out)) {
		r = img_build_locked(cache, dir, &in, key, progress, arg, err, errlen);
		if (!r && !img_lookup(dir, &in, key, out)) {
			util_fmt(err, errlen, "the image in %s is incomplete after its build", dir);
			r = -EIO;
		}
	}
	close(fd); /* releases the lock */
out_free:
	util_buf_free(&in.text);
	return r;
}
