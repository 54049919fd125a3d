/* rootfs: Debian trees for VM nodes, built with mmdebstrap (see rootfs.h). */
#include "rootfs.h"
#include "image_impl.h"
#include "file.h"
#include "util.h"
#include "xir_prop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bumped whenever the way a tree is made changes without any other input
 * changing, so that old cache entries stop matching. */
#define ROOTFS_LAYOUT "1"
#define ROOTFS_PROG "/usr/bin/mmdebstrap"
/* Essential:yes packages and what the model's packages need; no apt, no
 * init system: the guest's init is vtb's (busybox). */
#define ROOTFS_VARIANT "essential"
#define ROOTFS_MAX_PKGS 256
/* mmdebstrap names its version in one line of its (perl) source. */
#define ROOTFS_VERSION_TAG "our $VERSION = '"

/* The dpkg options of every tree: documentation, manual pages and
 * translations are no use in a test node and a third of the tree. */
static const char *const rootfs_dpkgopts[] = {
	"--dpkgopt=path-exclude=/usr/share/doc/*",
	"--dpkgopt=path-exclude=/usr/share/man/*",
	"--dpkgopt=path-exclude=/usr/share/info/*",
	"--dpkgopt=path-exclude=/usr/share/locale/*",
};

/* mmdebstrap's version, from its source, into buf. */
static int rootfs_tool_version(char *buf, size_t len, char *err, size_t errlen)
{
	char *text, *at;
	size_t n;
	int r;

	r = file_read_all(ROOTFS_PROG, IMG_MAX_FILE, &text, &n);
	if (r) {
		util_fmt(err, errlen, "mmdebstrap is not installed (apt-get install mmdebstrap): %s",
			 strerror(-r));
		return r == -ENOENT ? -ENOENT : r;
	}
	at = strstr(text, ROOTFS_VERSION_TAG);
	if (!at)
		snprintf(buf, len, "%016llx", (unsigned long long)util_hash64(text, n));
	else
		snprintf(buf, len, "%.*s", (int)strcspn(at + strlen(ROOTFS_VERSION_TAG), "'\n"),
			 at + strlen(ROOTFS_VERSION_TAG));
	free(text);
	return 0;
}

/* Check q and write its inputs into t, the key into key. */
static int rootfs_key(const struct rootfs_req *q, struct util_buf *t, char key[17], char *err,
		      size_t errlen)
{
	char version[64];
	size_t i;
	int r;

	if (!xir_image_known(q->image) || strncmp(q->image, "debian:", 7)) {
		util_fmt(err, errlen, "vtb cannot build the userland '%s'", q->image ? q->image : "");
		return -EINVAL;
	}
	if (q->npkgs > ROOTFS_MAX_PKGS) {
		util_fmt(err, errlen, "%zu packages: at most %d", q->npkgs, ROOTFS_MAX_PKGS);
		return -EINVAL;
	}
	for (i = 0; i < q->npkgs; i++)
		if (!xir_pkg_name_ok(q->pkgs[i]) || (i && strcmp(q->pkgs[i - 1], q->pkgs[i]) >= 0)) {
			util_fmt(err, errlen, "'%s' is not a Debian package name, or out of order",
				 q->pkgs[i]);
			return -EINVAL;
		}
	r = rootfs_tool_version(version, sizeof(version), err, errlen);
	if (r)
		return r;
	util_buf_printf(t, "vtb rootfs, layout %s\nimage %s\nmirror %s\nvariant %s\nmmdebstrap %s\n",
			ROOTFS_LAYOUT, q->image, ROOTFS_MIRROR, ROOTFS_VARIANT, version);
	for (i = 0; i < UTIL_ARRAY_SIZE(rootfs_dpkgopts); i++)
		util_buf_printf(t, "%s\n", rootfs_dpkgopts[i]);
	util_buf_puts(t, "packages");
	for (i = 0; i < q->npkgs; i++)
		util_buf_printf(t, " %s", q->pkgs[i]);
	util_buf_puts(t, "\n");
	if (t->oom)
		return -ENOMEM;
	snprintf(key, 17, "%016llx", (unsigned long long)util_hash64(t->s, t->len));
	return 0;
}

/* A complete tree: its inputs file is written last, and the rename made
 * the directory appear whole. */
static bool rootfs_complete(const char *dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/inputs", dir);
	return !access(path, R_OK);
}

/* mmdebstrap's progress lines ("I: ...") become build steps. */
struct rootfs_progress {
	img_progress_fn fn;
	void *arg;
	const char *image;
};

static void rootfs_line(void *arg, const char *line)
{
	const struct rootfs_progress *p = arg;

	if (!strncmp(line, "I: ", 3))
		img_step(p->fn, p->arg, "%s: %s", p->image, line + 3);
}

/* Say which package does not exist when mmdebstrap's error (in err) is
 * apt's "Unable to locate package X" or "Package 'X' has no installation
 * candidate": -ENOPKG with err rewritten; else err gets the log's name. */
static int rootfs_explain(const struct rootfs_req *q, const char *log, int r, char *err,
			  size_t errlen)
{
	static const char *const forms[] = { "Unable to locate package ", "Package '" };
	char why[UTIL_ERR_LEN], pkg[160];
	const char *at = NULL;
	size_t i;

	snprintf(why, sizeof(why), "%s", err);
	for (i = 0; i < UTIL_ARRAY_SIZE(forms) && !at; i++)
		if ((at = strstr(why, forms[i])))
			at += strlen(forms[i]);
	if (r != -EIO || !at) {
		util_fmt(err, errlen, "%s (mmdebstrap's log: %s)", why, log);
		return r;
	}
	snprintf(pkg, sizeof(pkg), "%.*s", (int)strcspn(at, "' \n"), at);
	util_fmt(err, errlen, "package '%s' does not exist in %s (%s; mmdebstrap's log: %s)", pkg,
		 q->image, why, log);
	return -ENOPKG;
}

/* Run mmdebstrap for q into target, in a mount namespace of its own, its
 * output into log_fd. */
static int rootfs_mmdebstrap(const struct rootfs_req *q, const char *target, int log_fd,
			     struct rootfs_progress *p, char *err, size_t errlen)
{
	const char *argv[32];
	struct util_buf inc;
	size_t n = 0, i;
	int r;

	util_buf_init(&inc);
	for (i = 0; i < q->npkgs; i++)
		util_buf_printf(&inc, "%s%s", i ? "," : "--include=", q->pkgs[i]);
	if (inc.oom)
		return -ENOMEM;
	/* mmdebstrap's root mode mounts /proc, /sys and /dev's parts in the
	 * tree: in a namespace of their own they end with it, and a crashed
	 * build leaves no mount for the next build's sweep to descend into */
	argv[n++] = "unshare";
	argv[n++] = "--mount";
	argv[n++] = "--propagation";
	argv[n++] = "private";
	argv[n++] = "--";
	argv[n++] = ROOTFS_PROG;
	argv[n++] = "--mode=root";
	argv[n++] = "--variant=" ROOTFS_VARIANT;
	argv[n++] = "--format=directory";
	for (i = 0; i < UTIL_ARRAY_SIZE(rootfs_dpkgopts); i++)
		argv[n++] = rootfs_dpkgopts[i];
	if (inc.s)
		argv[n++] = inc.s;
	argv[n++] = q->image + strlen("debian:");
	argv[n++] = target;
	argv[n++] = ROOTFS_MIRROR;
	argv[n] = NULL;
	r = img_run(&(struct img_cmd){ .what = "mmdebstrap", .argv = argv, .log_fd = log_fd,
				       .on_line = rootfs_line, .line_arg = p },
		    err, errlen);
	util_buf_free(&inc);
	return r;
}

/* Build the tree of q into dir (with the lock held): in tmp/out, renamed
 * into place once complete. */
static int rootfs_build(const char *cache, const char *dir, const char *key,
			const struct rootfs_req *q, const struct util_buf *inputs,
			struct rootfs_progress *p, char *err, size_t errlen)
{
	char tmp[400], out[500], path[600], log[400];
	int r, log_fd;

	snprintf(log, sizeof(log), "%s/rootfs-%s.log", cache, key);
	log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		r = -errno;
		util_fmt(err, errlen, "cannot create %s: %s", log, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "rootfs-%s", key);
	r = img_build_dir(cache, path, tmp, sizeof(tmp), err, errlen);
	if (r)
		goto out_close;
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(path, sizeof(path), "%s/root", out);
	img_step(p->fn, p->arg, "building %s with mmdebstrap from %s (a minute or more; its log: %s)",
		 q->image, ROOTFS_MIRROR, log);
	r = mkdir(out, 0755) ? -errno : 0;
	if (!r)
		r = rootfs_mmdebstrap(q, path, log_fd, p, err, errlen);
	if (r) {
		r = rootfs_explain(q, log, r, err, errlen);
		goto out_rm;
	}
	snprintf(path, sizeof(path), "%s/inputs", out);
	r = file_write(path, inputs->s, inputs->len, 0644);
	if (!r && rename(out, dir))
		r = -errno;
	if (r)
		util_fmt(err, errlen, "cannot put the tree in %s: %s", dir, strerror(-r));
out_rm:
	img_step(p->fn, p->arg, "removing the build directory");
	file_rm_tree(tmp);
out_close:
	close(log_fd);
	return r;
}

int rootfs_ensure(const char *cache_dir, const struct rootfs_req *q, img_progress_fn progress,
		  void *arg, char *root, size_t rootlen, char *err, size_t errlen)
{
	const char *cache = cache_dir ? cache_dir : IMG_CACHE_DIR;
	struct rootfs_progress p = { .fn = progress, .arg = arg, .image = q->image };
	struct util_buf inputs;
	char key[17], dir[400];
	int r, fd;

	util_fmt(err, errlen, "%s", "");
	util_buf_init(&inputs);
	if (strlen(cache) > 300) {
		util_fmt(err, errlen, "the cache directory's name is too long: %s", cache);
		r = -ENAMETOOLONG;
		goto out_free;
	}
	r = rootfs_key(q, &inputs, key, err, errlen);
	if (r)
		goto out_free;
	snprintf(dir, sizeof(dir), "%s/rootfs-%s", cache, key);
	if (rootfs_complete(dir)) {
		img_sweep_if_idle(cache);
		goto out_found;
	}
	fd = img_cache_lock(cache, err, errlen);
	if (fd < 0) {
		r = fd;
		goto out_free;
	}
	/* another builder may have finished while we waited */
	if (!rootfs_complete(dir))
		r = rootfs_build(cache, dir, key, q, &inputs, &p, err, errlen);
	close(fd); /* releases the lock */
out_found:
	if (!r && (size_t)snprintf(root, rootlen, "%s/root", dir) >= rootlen)
		r = -ENAMETOOLONG;
out_free:
	util_buf_free(&inputs);
	return r;
}
