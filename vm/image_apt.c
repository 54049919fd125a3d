/* image_apt: Debian's packages of another architecture (a row of
 * vm/arch.h with a suite: arm64 from bookworm, riscv64 from trixie)
 * through a private apt configuration under CACHE/apt-ARCH/: its own
 * sources.list (the suite's main, [arch=ARCH], signed-by Debian's archive
 * keyring), its own package lists and archive cache, no dpkg status
 * (nothing of that architecture is installed) and APT::Architectures
 * holding only ARCH. apt still reads the host's configuration files (a
 * proxy set there applies) but writes none of the host's state: its
 * lists, cache and sources stay as they were.
 *
 * Signatures: apt checks the suite's InRelease against the keyring named
 * in signed-by, /usr/share/keyrings/debian-archive-keyring.gpg. Debian 12's
 * debian-archive-keyring (2023.3+deb12u2) holds trixie's keys too (the
 * archive's 2025 keys, debian-archive-trixie-*.gpg), so the riscv64
 * packages from trixie are verified like bookworm's. */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Debian's own redirector; VTB_DEBIAN_MIRROR names another mirror. */
#define IMG_APT_MIRROR "http://deb.debian.org/debian"
#define IMG_APT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
/* The private lists are fetched again when older than this. Debian
 * replaces a suite's kernel at its point releases (every two or three
 * months) and security updates, and the mirror then drops the old
 * package, which old lists still name; a day keeps the lists that fresh
 * while a `vtb up` of the same day finds its image without asking the
 * mirror (a fetch of new lists costs 2-3 s and may change the key). */
#define IMG_APT_MAX_AGE_S (24 * 3600)

/* The private directory of in->arch: CACHE/apt-ARCH. */
static void img_apt_dir(const struct img_inputs *in, const char *sub, char *buf, size_t len)
{
	snprintf(buf, len, "%s/apt-%s%s%s", in->cache, in->arch->deb_arch, sub ? "/" : "",
		 sub ? sub : "");
}

/* See image_impl.h. */
void img_apt_argv(struct img_apt *t, const struct img_inputs *in, const char *tool,
		  const char *const *args)
{
	char lists[360], cache[360], src[360];
	size_t n = 0, k = 0, i;

	memset(t, 0, sizeof(*t));
	t->argv[n++] = tool;
	t->argv[n++] = "-q";
	/* apt's download helper runs as _apt, which cannot write our directories */
	t->argv[n++] = "-o";
	t->argv[n++] = "APT::Sandbox::User=root";
	if (in->arch->suite) {
		const char *a = in->arch->deb_arch;

		img_apt_dir(in, "lists", lists, sizeof(lists));
		img_apt_dir(in, "cache", cache, sizeof(cache));
		img_apt_dir(in, "sources.list", src, sizeof(src));
		snprintf(t->opt[k++], sizeof(t->opt[0]), "APT::Architecture=%s", a);
		snprintf(t->opt[k++], sizeof(t->opt[0]), "APT::Architectures::=%s", a);
		snprintf(t->opt[k++], sizeof(t->opt[0]), "Dir::Etc::SourceList=%s", src);
		snprintf(t->opt[k++], sizeof(t->opt[0]), "Dir::Etc::SourceParts=/dev/null");
		snprintf(t->opt[k++], sizeof(t->opt[0]), "Dir::Etc::Preferences=/dev/null");
		snprintf(t->opt[k++], sizeof(t->opt[0]), "Dir::Etc::PreferencesParts=/dev/null");
		snprintf(t->opt[k++], sizeof(t->opt[0]), "Dir::State::Lists=%s", lists);
		snprintf(t->opt[k++], sizeof(t->opt[0]), "Dir::State::status=/dev/null");
		snprintf(t->opt[k++], sizeof(t->opt[0]), "Dir::Cache=%s", cache);
		for (i = 0; i < k; i++) {
			t->argv[n++] = "-o";
			t->argv[n++] = t->opt[i];
		}
	}
	for (i = 0; args[i] && n + 1 < UTIL_ARRAY_SIZE(t->argv); i++)
		t->argv[n++] = args[i];
	t->argv[n] = NULL;
}

/* The sources.list of in->arch into path (rewritten when it differs, so
 * that a change of mirror shows in the stamp). */
static int img_apt_sources(const struct img_inputs *in, const char *path, char *err,
			   size_t errlen)
{
	const char *mirror = getenv("VTB_DEBIAN_MIRROR");
	char text[600], *old = NULL;
	size_t len = 0;
	int n, r;

	if (!mirror || !*mirror || strpbrk(mirror, " \n]"))
		mirror = IMG_APT_MIRROR;
	n = snprintf(text, sizeof(text),
		     "# vtb: the %s packages of VM guests (vm/image_apt.c)\n"
		     "deb [arch=%s signed-by=%s] %s %s main\n",
		     in->arch->name, in->arch->deb_arch, IMG_APT_KEYRING, mirror, in->arch->suite);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENAMETOOLONG;
	if (!file_read_all(path, IMG_MAX_FILE, &old, &len) && len == (size_t)n &&
	    !memcmp(old, text, len)) {
		free(old);
		return 0;
	}
	free(old);
	r = file_write_atomic(path, text, (size_t)n, 0644);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", path, strerror(-r));
	return r;
}

/* Whether the private lists are missing or older than IMG_APT_MAX_AGE_S
 * (the age of the stamp written after each apt-get update that worked). */
static bool img_apt_stale(const struct img_inputs *in)
{
	char lists[400];
	struct stat st;

	img_apt_dir(in, "stamp", lists, sizeof(lists));
	if (stat(lists, &st))
		return true;
	return time(NULL) - st.st_mtime > IMG_APT_MAX_AGE_S || time(NULL) < st.st_mtime;
}

/* apt-get update with the private configuration, then touch the stamp. */
static int img_apt_update(const struct img_inputs *in, img_progress_fn progress, void *arg,
			  char *err, size_t errlen)
{
	static const char *const args[] = { "update", NULL };
	char what[200], stamp[400];
	struct img_apt t;
	struct img_cmd c = { .what = what, .argv = t.argv };
	int r;

	snprintf(what, sizeof(what), "apt-get update (Debian %s, %s)", in->arch->suite,
		 in->arch->deb_arch);
	img_step(progress, arg, "fetching Debian %s's package lists for %s", in->arch->suite,
		 in->arch->deb_arch);
	img_apt_argv(&t, in, "apt-get", args);
	r = img_run(&c, err, errlen);
	if (r == -ENOENT)
		util_fmt(err, errlen, "apt-get is missing: the guest image needs Debian's apt");
	if (r)
		return r;
	img_apt_dir(in, "stamp", stamp, sizeof(stamp));
	r = file_write_atomic(stamp, "", 0, 0644);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", stamp, strerror(-r));
	return r;
}

/* See image_impl.h. */
int img_apt_prepare(const struct img_inputs *in, img_progress_fn progress, void *arg, char *err,
		    size_t errlen)
{
	static const char *const dirs[] = { "lists/partial", "cache/archives/partial" };
	char path[400];
	bool lists;
	size_t i;
	int r, fd;

	if (!in->arch->suite)
		return 0;
	for (i = 0; i < UTIL_ARRAY_SIZE(dirs); i++) {
		img_apt_dir(in, dirs[i], path, sizeof(path));
		r = file_mkdir_p(path, 0755);
		if (r) {
			util_fmt(err, errlen, "cannot create %s: %s", path, strerror(-r));
			return r;
		}
	}
	/* one updater at a time: apt-get update does not wait for its lock */
	img_apt_dir(in, "vtb.lock", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		r = -errno;
		util_fmt(err, errlen, "cannot lock %s: %s", path, strerror(-r));
		goto out_close;
	}
	img_apt_dir(in, "sources.list", path, sizeof(path));
	r = img_apt_sources(in, path, err, errlen);
	if (!r && img_apt_stale(in)) {
		img_apt_dir(in, "stamp", path, sizeof(path));
		lists = !access(path, F_OK);
		r = img_apt_update(in, progress, arg, err, errlen);
		if (r && lists) {
			/* the mirror is out of reach: the lists we have may do */
			img_step(progress, arg, "keeping the old package lists: %s", err);
			r = 0;
		}
	}
out_close:
	if (fd >= 0)
		close(fd);
	return r;
}

/* See image_impl.h. */
void img_apt_stamp_private(const struct img_inputs *in, char *buf, size_t len)
{
	char stamp[360], sources[360];
	const char *const paths[] = { stamp, sources };

	img_apt_dir(in, "stamp", stamp, sizeof(stamp));
	img_apt_dir(in, "sources.list", sources, sizeof(sources));
	img_stamp_paths(paths, UTIL_ARRAY_SIZE(paths), buf, len);
}
