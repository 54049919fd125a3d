/* image_mods: the guest's kernel modules and their dependencies.
 *
 * The package ships no modules.dep (depmod makes it when the package is
 * installed, which vtb never does), so dependencies come from each
 * module's own .modinfo "depends=", and names map to files through
 * modules.order. Only the modules named in the arch row and what they
 * depend on are copied. Compressed modules (.ko.xz, .ko.zst, .ko.gz:
 * bookworm's are plain .ko, later releases compress them) are decompressed
 * at build time: busybox insmod can read .ko.xz, but only after the
 * kernel refused the raw file with an "Invalid ELF header magic" message
 * on the console. */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void img_mod_norm(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/* The path (relative to the modules directory) modules.order gives for
 * module name, into rel. */
static bool img_mod_find(const struct img_mods *m, const char *name, char *rel, size_t len)
{
	const char *p = m->order;

	while (p && *p) {
		const char *e = p + strcspn(p, "\n"), *base = p, *s;
		char stem[64];

		for (s = p; s < e; s++)
			if (*s == '/')
				base = s + 1;
		if (e - base > 3 && e - base < (long)sizeof(stem) + 3 && !memcmp(e - 3, ".ko", 3)) {
			snprintf(stem, sizeof(stem), "%.*s", (int)(e - base - 3), base);
			img_mod_norm(stem);
			if (!strcmp(stem, name)) {
				snprintf(rel, len, "%.*s", (int)(e - p), p);
				return true;
			}
		}
		p = *e ? e + 1 : e;
	}
	return false;
}

/* Read module rel, decompressing a .ko.xz, .ko.zst or .ko.gz. */
static int img_mod_read(struct img_mods *m, const char *rel, char **data, size_t *len, char *err,
			size_t errlen)
{
	static const struct {
		const char *ext, *tool;
	} z[] = { { "", NULL }, { ".xz", "xz" }, { ".zst", "zstd" }, { ".gz", "gzip" } };
	char path[600];
	size_t i;
	int r;

	for (i = 0; i < UTIL_ARRAY_SIZE(z); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", m->root, rel, z[i].ext);
		if (access(path, F_OK))
			continue;
		if (!z[i].tool)
			return file_read_all(path, IMG_MAX_FILE, data, len);
		{
			const char *argv[] = { z[i].tool, "-dc", path, NULL };
			char what[700];
			struct util_buf out;
			struct img_cmd c = { .what = what, .argv = argv, .out = &out };

			snprintf(what, sizeof(what), "%s -dc %s", z[i].tool, rel);
			util_buf_init(&out);
			r = img_run(&c, err, errlen);
			if (!r && out.len > IMG_MAX_FILE)
				r = -EFBIG;
			if (r) {
				util_buf_free(&out);
				return r;
			}
			*len = out.len;
			*data = util_buf_take(&out);
			return *data ? 0 : -ENOMEM;
		}
	}
	util_fmt(err, errlen, "module file %s is missing", rel);
	return -ENOENT;
}

/* Add module name and, first, what it depends on. *bit gets its index. */
static int img_mod_add(struct img_mods *m, const char *name, int depth, size_t *bit, char *err,
		       size_t errlen)
{
	struct img_mod mod;
	const char *dep;
	size_t i, dlen;
	int r;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name)) {
			*bit = i;
			return 0;
		}
	if (depth > 16 || m->n == IMG_MAX_MODULES) {
		util_fmt(err, errlen, "module %s: dependencies too deep or too many", name);
		return -ELOOP;
	}
	memset(&mod, 0, sizeof(mod));
	snprintf(mod.name, sizeof(mod.name), "%s", name);
	if (!img_mod_find(m, name, mod.rel, sizeof(mod.rel))) {
		util_fmt(err, errlen, "the kernel package has no module %s", name);
		return -ENOENT;
	}
	r = img_mod_read(m, mod.rel, &mod.data, &mod.len, err, errlen);
	if (r)
		return r;
	if (!img_modinfo_get((const uint8_t *)mod.data, mod.len, "depends", &dep, &dlen)) {
		while (dlen) {
			const char *comma = memchr(dep, ',', dlen);
			size_t n = comma ? (size_t)(comma - dep) : dlen, di;
			char dname[64];

			snprintf(dname, sizeof(dname), "%.*s", (int)n, dep);
			img_mod_norm(dname);
			if (n && (r = img_mod_add(m, dname, depth + 1, &di, err, errlen))) {
				free(mod.data);
				return r;
			}
			if (n)
				mod.deps |= 1ull << di | m->v[di].deps;
			dep += n < dlen ? n + 1 : n;
			dlen -= n < dlen ? n + 1 : n;
		}
	}
	*bit = m->n;
	m->v[m->n++] = mod;
	return 0;
}

void img_mods_free(struct img_mods *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].data);
	free(m->order);
}

/* Load a's modules and their dependencies from the unpacked package. */
int img_mods_load(struct img_mods *m, const struct vm_arch *a, const char *root, char *err,
		  size_t errlen)
{
	char path[700];
	size_t i, len, bit;
	int r;

	m->root = root;
	snprintf(path, sizeof(path), "%s/modules.order", root);
	r = file_read_all(path, IMG_MAX_FILE, &m->order, &len);
	if (r) {
		util_fmt(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	for (i = 0; i < a->nmodules; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s", a->modules[i]);
		r = img_mod_add(m, name, 0, &bit, err, errlen);
		if (r)
			return r;
	}
	return 0;
}
