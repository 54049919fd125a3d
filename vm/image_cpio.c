/* image_cpio: the newc cpio writer and the base initramfs.
 *
 * The initramfs is an uncompressed newc cpio written here (so /dev/console
 * needs no mknod and the output does not depend on the host's cpio):
 * under TCG, inflating a gzip archive in the guest costs more than
 * QEMU's copy of the larger file. It holds a static busybox and its
 * applets, /init and /etc (image_guest.c) and the modules (image_mods.c). */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- newc cpio ---- */

static void img_cpio_pad(struct util_buf *b)
{
	static const char zeros[4];

	if (b->len % 4)
		util_buf_append(b, zeros, 4 - b->len % 4);
}

/* Append one entry of owner uid:gid. Its parent directories must be there
 * already. */
void img_cpio_entry_owned(struct img_cpio *c, const char *name, unsigned mode, unsigned uid,
			  unsigned gid, unsigned rmaj, unsigned rmin, const void *data, size_t len)
{
	util_buf_printf(&c->b, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
			++c->ino, mode, uid, gid, S_ISDIR(mode) ? 2u : 1u, 0u, len, 0u, 0u, rmaj,
			rmin, strlen(name) + 1, 0u);
	util_buf_append(&c->b, name, strlen(name) + 1);
	img_cpio_pad(&c->b);
	if (len)
		util_buf_append(&c->b, data, len);
	img_cpio_pad(&c->b);
}

/* Append one entry owned by root. */
void img_cpio_entry(struct img_cpio *c, const char *name, unsigned mode, unsigned rmaj,
		    unsigned rmin, const void *data, size_t len)
{
	img_cpio_entry_owned(c, name, mode, 0, 0, rmaj, rmin, data, len);
}

/* Append directory path and the parents not yet written. */
void img_cpio_dirs(struct img_cpio *c, const char *path)
{
	char buf[512];
	size_t i, n = strlen(path);
	uint32_t seen;

	if (n >= sizeof(buf)) {
		c->b.oom = true; /* fails the build: no path is that long */
		return;
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (!util_map_get(&c->dirs, buf, i, &seen)) {
			if (util_map_put(&c->dirs, buf, i, 0, NULL))
				c->b.oom = true;
			img_cpio_entry(c, buf, S_IFDIR | (strcmp(buf, "tmp") ? 0755 : 01777), 0, 0, NULL,
				       0);
		}
		buf[i] = path[i];
	}
}

/* Append a file and the directories above it. */
void img_cpio_file(struct img_cpio *c, const char *name, unsigned mode, const void *data,
		   size_t len)
{
	const char *slash = strrchr(name, '/');

	if (slash) {
		char dir[512];

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name);
		img_cpio_dirs(c, dir);
	}
	img_cpio_entry(c, name, S_IFREG | mode, 0, 0, data, len);
}

void img_cpio_init(struct img_cpio *c)
{
	memset(c, 0, sizeof(*c));
	util_buf_init(&c->b);
	util_map_init(&c->dirs);
}

void img_cpio_free(struct img_cpio *c)
{
	util_buf_free(&c->b);
	util_map_free(&c->dirs);
}

void img_cpio_trailer(struct img_cpio *c)
{
	img_cpio_entry(c, "TRAILER!!!", 0, 0, 0, NULL, 0);
}

/* ---- the initramfs ---- */

/* Symlinks for every busybox applet ("bin/sh" -> /bin/busybox). */
static int img_cpio_applets(struct img_cpio *c, char *err, size_t errlen)
{
	const char *argv[] = { IMG_BUSYBOX, "--list-full", NULL };
	struct img_cmd cmd = { .what = IMG_BUSYBOX " --list-full", .argv = argv };
	struct util_buf out;
	char *p, *next;
	int r;

	util_buf_init(&out);
	cmd.out = &out;
	r = img_run(&cmd, err, errlen);
	for (p = out.s; !r && p && *p; p = next) {
		char *e = p + strcspn(p, "\n"), *slash;

		next = *e ? e + 1 : e;
		*e = '\0';
		if (!*p || *p == '/' || strstr(p, "..") || e - p > 200 || !strcmp(p, "bin/busybox"))
			continue;
		slash = strrchr(p, '/');
		if (slash) {
			*slash = '\0';
			img_cpio_dirs(c, p);
			*slash = '/';
		}
		img_cpio_entry(c, p, S_IFLNK | 0777, 0, 0, IMG_BUSYBOX, strlen(IMG_BUSYBOX));
	}
	util_buf_free(&out);
	return r;
}

/* The modules, the load order for /init and a modules.dep for modprobe. */
static void img_cpio_mods(struct img_cpio *c, const struct img_mods *m, const char *kver)
{
	struct util_buf order, dep;
	char path[512];
	size_t i, j;

	util_buf_init(&order);
	util_buf_init(&dep);
	for (i = 0; i < m->n; i++) {
		snprintf(path, sizeof(path), "lib/modules/%s/%s", kver, m->v[i].rel);
		img_cpio_file(c, path, 0644, m->v[i].data, m->v[i].len);
		util_buf_printf(&order, "/%s\n", path);
		util_buf_printf(&dep, "%s:", m->v[i].rel);
		for (j = i; j-- > 0;)
			if (m->v[i].deps & 1ull << j)
				util_buf_printf(&dep, " %s", m->v[j].rel);
		util_buf_puts(&dep, "\n");
	}
	if (order.oom || dep.oom)
		c->b.oom = true;
	img_cpio_file(c, "lib/modules/vtb-modules", 0644, order.s, order.len);
	snprintf(path, sizeof(path), "lib/modules/%s/modules.dep", kver);
	img_cpio_file(c, path, 0644, dep.s, dep.len);
	util_buf_free(&order);
	util_buf_free(&dep);
}

/* The busybox of the image into path: the host's for the host's arch,
 * else the one unpacked from the suite's busybox-static (tmp/bb; trixie's
 * is in /usr/bin). It must be static: the initramfs has no libc. */
static int img_busybox_path(const char *tmp, const struct img_inputs *in, char *path,
			    size_t len, char *err, size_t errlen)
{
	static const char *const in_pkg[] = { "bin/busybox", "usr/bin/busybox" };
	size_t i;
	int r;

	snprintf(path, len, "%s", IMG_BUSYBOX);
	for (i = 0; in->arch->suite && i < UTIL_ARRAY_SIZE(in_pkg); i++) {
		snprintf(path, len, "%s/bb/%s", tmp, in_pkg[i]);
		if (!access(path, R_OK))
			break;
	}
	r = img_is_static(path);
	if (r < 0)
		util_fmt(err, errlen, "cannot read %s: %s", path, strerror(-r));
	else if (r == 0)
		util_fmt(err, errlen, "%s is not a static binary: install busybox-static", path);
	return r < 0 ? r : r == 0 ? -ENOEXEC : 0;
}

/* /init and the small files of /etc, for the image's arch. */
static void img_cpio_guest(struct img_cpio *c, const struct vm_arch *a)
{
	struct util_buf init;
	size_t i;

	util_buf_init(&init);
	if (a->suite)
		util_buf_puts(&init, img_init_foreign);
	util_buf_puts(&init, img_init_script);
	if (init.oom)
		c->b.oom = true;
	img_cpio_file(c, "init", 0755, init.s, init.len);
	util_buf_free(&init);
	for (i = 0; i < img_netc; i++) {
		const char *text = img_etc[i].text;

		img_cpio_file(c, img_etc[i].path, 0644, text, strlen(text));
	}
}

/* Write tmp/out/initrd.img. */
int img_initrd(const char *tmp, const struct img_inputs *in, const struct img_mods *m,
	       char *err, size_t errlen)
{
	static const char *const dirs[] = { "bin", "sbin", "usr/bin", "usr/sbin", "dev", "etc",
					    "proc", "sys", "run", "tmp", "root", "lib/modules" };
	struct img_cpio c;
	char path[600], bbpath[600], *bb;
	size_t i, len;
	int r;

	r = img_busybox_path(tmp, in, bbpath, sizeof(bbpath), err, errlen);
	if (r)
		return r;
	r = file_read_all(bbpath, IMG_MAX_FILE, &bb, &len);
	if (r) {
		util_fmt(err, errlen, "cannot read %s: %s", bbpath, strerror(-r));
		return r;
	}
	img_cpio_init(&c);
	for (i = 0; i < UTIL_ARRAY_SIZE(dirs); i++)
		img_cpio_dirs(&c, dirs[i]);
	img_cpio_entry(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
	img_cpio_file(&c, "bin/busybox", 0755, bb, len);
	free(bb);
	/* another arch's busybox links its applets at boot (img_init_foreign) */
	r = in->arch->suite ? 0 : img_cpio_applets(&c, err, errlen);
	if (r)
		goto out_free;
	img_cpio_guest(&c, in->arch);
	img_cpio_mods(&c, m, in->kver);
	img_cpio_trailer(&c);
	if (c.b.oom) {
		r = -ENOMEM;
		goto out_free;
	}
	snprintf(path, sizeof(path), "%s/out/initrd.img", tmp);
	r = file_write(path, c.b.s, c.b.len, 0644);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", path, strerror(-r));
out_free:
	img_cpio_free(&c);
	return r;
}
