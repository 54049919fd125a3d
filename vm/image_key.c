/* image_key: the inputs of an image and its cache key. The kernel package
 * comes from apt's candidate for the arch's meta package
 * (linux-image-amd64), busybox from the installed busybox-static; for
 * another architecture, both from its suite's candidates (the private
 * apt of image_apt.c). apt's answer is remembered in the cache
 * directory (.candidate) until apt's or dpkg's state changes, because
 * asking apt takes 0.1-1.5 s. The key hashes those versions with the
 * guest's module list, /init and /etc (image_guest.c) and IMG_LAYOUT. */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The value of "Field: value" in an apt/dpkg record, into buf. */
static bool img_field(const char *rec, const char *field, char *buf, size_t len)
{
	size_t fl = strlen(field);
	const char *p = rec;

	while (p && *p) {
		if (!strncmp(p, field, fl) && p[fl] == ':') {
			const char *v = p + fl + 1, *e;

			v += strspn(v, " \t");
			e = v + strcspn(v, "\n");
			snprintf(buf, len, "%.*s", (int)(e - v), v);
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* apt-cache show --no-all-versions pkg (with in->arch's private
 * configuration, when it has one) into out. */
static int img_apt_show(const struct img_inputs *in, const char *pkg, struct util_buf *out,
			char *err, size_t errlen)
{
	const char *args[] = { "show", "--no-all-versions", pkg, NULL };
	struct img_apt t;
	char what[200];
	struct img_cmd c = { .what = what, .argv = t.argv, .out = out };
	int r;

	snprintf(what, sizeof(what), "apt-cache show %s%s%s", pkg, in->arch->suite ? ":" : "",
		 in->arch->suite ? in->arch->deb_arch : "");
	img_apt_argv(&t, in, "apt-cache", args);
	r = img_run(&c, err, errlen);
	if (r == -ENOENT)
		util_fmt(err, errlen, "apt-cache is missing: the guest image needs Debian's apt");
	return r;
}

/* Find the kernel package behind the arch's meta package
 * (linux-image-amd64): the first package of the candidate's Depends, with
 * the version it pins. */
static int img_resolve_kernel(struct img_inputs *in, char *err, size_t errlen)
{
	const char *meta = in->arch->kernel_pkg;
	char dep[512], *p, *q;
	struct util_buf out;
	int r;

	util_buf_init(&out);
	r = img_apt_show(in, meta, &out, err, errlen);
	if (r)
		goto out;
	if (!out.s || !img_field(out.s, "Depends", dep, sizeof(dep)) ||
	    !img_field(out.s, "Version", in->version, sizeof(in->version))) {
		util_fmt(err, errlen, "apt-cache show %s gave no candidate (run apt-get update)", meta);
		r = -ENOENT;
		goto out;
	}
	p = dep + strspn(dep, " ");
	q = p + strcspn(p, " ,|(");
	snprintf(in->pkg, sizeof(in->pkg), "%.*s", (int)(q - p), p);
	if (strncmp(in->pkg, "linux-image-", 12) || !in->pkg[12]) {
		util_fmt(err, errlen, "%s depends on '%s', not on a kernel image", meta, dep);
		r = -EPROTO;
		goto out;
	}
	snprintf(in->kver, sizeof(in->kver), "%s", in->pkg + 12);
	/* "linux-image-6.1.0-56-amd64 (= 6.1.192-2)": take the pinned version */
	p = strstr(q, "(=");
	if (p && (q = strchr(p, ')'))) {
		p += 2 + strspn(p + 2, " ");
		snprintf(in->version, sizeof(in->version), "%.*s", (int)(q - p), p);
	}
out:
	util_buf_free(&out);
	return r;
}

/* busybox-static of the suite of in->arch: the candidate's version. */
static int img_busybox_candidate(struct img_inputs *in, char *err, size_t errlen)
{
	struct util_buf out;
	int r;

	util_buf_init(&out);
	r = img_apt_show(in, in->arch->busybox_pkg, &out, err, errlen);
	if (!r && (!out.s || !img_field(out.s, "Version", in->busybox, sizeof(in->busybox)) ||
		   !in->busybox[0] || strpbrk(in->busybox, " /="))) {
		util_fmt(err, errlen, "Debian %s has no %s for %s", in->arch->suite,
			 in->arch->busybox_pkg, in->arch->deb_arch);
		r = -ENOENT;
	}
	util_buf_free(&out);
	return r;
}

static int img_busybox_version(struct img_inputs *in, char *err, size_t errlen)
{
	const char *argv[] = { "dpkg-query", "-W", "-f=${Version}", "busybox-static", NULL };
	struct img_cmd c = { .what = "dpkg-query -W busybox-static", .argv = argv };
	struct util_buf out;
	int r;

	util_buf_init(&out);
	c.out = &out;
	r = img_run(&c, err, errlen);
	if (!r && (!out.s || !*out.s || strpbrk(out.s, " \n")))
		r = -ENOENT;
	if (r)
		util_fmt(err, errlen, "busybox-static is not installed (apt-get install busybox-static)");
	else
		snprintf(in->busybox, sizeof(in->busybox), "%s", out.s);
	util_buf_free(&out);
	return r;
}

/* What could change apt's candidate or busybox-static's version: apt's
 * lists (apt-get update), dpkg's status (an install), pins and sources.
 * Their modification times, as text, into buf. */
static void img_apt_stamp(char *buf, size_t len)
{
	static const char *const paths[] = { "/var/lib/apt/lists", "/var/lib/dpkg/status",
					     "/etc/apt/preferences", "/etc/apt/preferences.d",
					     "/etc/apt/sources.list", "/etc/apt/sources.list.d" };

	img_stamp_paths(paths, UTIL_ARRAY_SIZE(paths), buf, len);
}

/* See image_impl.h. */
void img_stamp_paths(const char *const *paths, size_t n, char *buf, size_t len)
{
	size_t i, off = 0;
	struct stat st;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		if (stat(paths[i], &st))
			off += (size_t)snprintf(buf + off, len - off, " -");
		else
			off += (size_t)snprintf(buf + off, len - off, " %lld.%09ld",
						(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
}

/* Where apt's answer for arch a is kept: .candidate for the host's arch
 * (as before there were others), .candidate-ARCH for another. */
static void img_memo_path(const char *cache, const struct vm_arch *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s/.candidate%s%s", cache, a->suite ? "-" : "", a->suite ? a->deb_arch : "");
}

/* apt-cache needs 0.1 s to 1.5 s (the latter in containers whose apt keeps
 * no pkgcache.bin), too long for every `vtb up`. So its answer is kept in
 * cache/.candidate with the stamp it was valid for. True when the kept
 * answer is still valid; it is then in *in. */
static bool img_memo_get(const char *cache, const char *stamp, struct img_inputs *in)
{
	char path[400], *text, *nl;
	size_t len;
	bool ok;

	img_memo_path(cache, in->arch, path, sizeof(path));
	if (file_read_all(path, IMG_MAX_FILE, &text, &len))
		return false;
	nl = strchr(text, '\n');
	ok = nl && (size_t)(nl - text) == strlen(stamp) && !memcmp(text, stamp, strlen(stamp)) &&
	     sscanf(nl + 1, "%127s %63s %63s %63s", in->pkg, in->version, in->kver, in->busybox) == 4;
	free(text);
	/* the names become paths and arguments: only what apt could have said */
	return ok && !strncmp(in->pkg, "linux-image-", 12) && !strcmp(in->pkg + 12, in->kver) &&
	       !strpbrk(in->pkg, "/=") && !strpbrk(in->version, "/=") && in->kver[0] != '.';
}

/* Keep the answer (best effort: a cache we cannot write only costs time). */
static void img_memo_put(const char *cache, const char *stamp, const struct img_inputs *in)
{
	char path[400], text[1024];
	int n;

	img_memo_path(cache, in->arch, path, sizeof(path));
	n = snprintf(text, sizeof(text), "%s\n%s %s %s %s\n", stamp, in->pkg, in->version, in->kver,
		     in->busybox);
	if (n <= 0 || (size_t)n >= sizeof(text) || file_mkdir_p(cache, 0755))
		return;
	(void)file_write_atomic(path, text, (size_t)n, 0644);
}

/* The versions of the kernel and busybox (apt's answer, or the one kept). */
static int img_versions(const char *cache, struct img_inputs *in, img_progress_fn progress,
			void *arg, char *err, size_t errlen)
{
	char stamp[512];
	int r;

	r = img_apt_prepare(in, progress, arg, err, errlen);
	if (r)
		return r;
	snprintf(stamp, sizeof(stamp), "vtb-candidate %s", in->arch->kernel_pkg);
	if (in->arch->suite)
		img_apt_stamp_private(in, stamp + strlen(stamp), sizeof(stamp) - strlen(stamp));
	else
		img_apt_stamp(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp));
	if (img_memo_get(cache, stamp, in))
		return 0;
	r = img_resolve_kernel(in, err, errlen);
	if (!r)
		r = in->arch->suite ? img_busybox_candidate(in, err, errlen)
				    : img_busybox_version(in, err, errlen);
	if (!r)
		img_memo_put(cache, stamp, in);
	return r;
}

/* See image_impl.h. */
int img_key(const char *cache, const struct vm_arch *arch, struct img_inputs *in, char key[17],
	    img_progress_fn progress, void *arg, char *err, size_t errlen)
{
	struct util_buf *t = &in->text;
	size_t i;
	int r;

	memset(in, 0, sizeof(*in));
	util_buf_init(t);
	in->arch = arch;
	snprintf(in->cache, sizeof(in->cache), "%s", cache);
	r = img_versions(cache, in, progress, arg, err, errlen);
	if (r)
		return r;
	/* the host's arch hashes what it hashed before there were others */
	util_buf_printf(t, "vtb guest image, layout %s\n", IMG_LAYOUT);
	if (arch->suite)
		util_buf_printf(t, "arch %s, Debian %s\n", arch->deb_arch, arch->suite);
	util_buf_printf(t, "kernel %s %s\n", in->pkg, in->version);
	util_buf_printf(t, "busybox-static %s\n", in->busybox);
	util_buf_puts(t, "modules");
	for (i = 0; i < arch->nmodules; i++)
		util_buf_printf(t, " %s", arch->modules[i]);
	util_buf_puts(t, "\n");
	for (i = 0; i < img_netc; i++)
		util_buf_printf(t, "--- %s\n%s", img_etc[i].path,
				img_etc[i].text);
	util_buf_printf(t, "--- init\n%s%s", arch->suite ? img_init_foreign : "", img_init_script);
	if (t->oom)
		return -ENOMEM;
	snprintf(key, 17, "%016llx", (unsigned long long)util_hash64(t->s, t->len));
	return 0;
}
