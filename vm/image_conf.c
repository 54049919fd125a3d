/* image_conf: a VM's own configuration (see image.h): /etc/vtb.conf
 * checked and rendered, and the per-VM initrd that carries it after the
 * base initramfs. */
#include "image_impl.h"
#include "addr.h"
#include "file.h"
#include "util.h"
#include "xir_prop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1..max characters, each a letter, digit or one of extra. */
static bool img_word_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strnlen(s, max + 1);
	size_t i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i])))
			return false;
	return true;
}

/* s is "" or a host address with a prefix length of family af. */
static bool img_prefix_ok(const char *s, size_t max, int af, bool empty_ok)
{
	struct addr_prefix p;
	const char *why;

	if (!s[0] || strnlen(s, max) == max)
		return empty_ok && !s[0];
	return !addr_parse_prefix(s, &p, &why) && p.family == af;
}

/* s is a bare address of either family; its family into *af. */
static bool img_addr_ok(const char *s, size_t max, int *af)
{
	char buf[80];
	struct addr_prefix p;
	const char *why;

	if (!s[0] || strnlen(s, max) == max || strchr(s, '/'))
		return false;
	snprintf(buf, sizeof(buf), "%s/%s", s, strchr(s, ':') ? "128" : "32");
	if (addr_parse_prefix(buf, &p, &why))
		return false;
	*af = p.family;
	return true;
}

static int img_check_conf(const struct img_vm_conf *conf)
{
	size_t i, j;

	if (conf->hostname[0] && !img_word_ok(conf->hostname, sizeof(conf->hostname) - 1, "-."))
		return -EINVAL;
	if (conf->nifs && !conf->ifs)
		return -EINVAL;
	if (conf->nroutes && !conf->routes)
		return -EINVAL;
	for (i = 0; i < conf->nifs; i++) {
		const struct img_if *f = &conf->ifs[i];
		static const unsigned char zero[6];

		if (!img_word_ok(f->name, sizeof(f->name) - 1, "_.-") || !strcmp(f->name, "lo") ||
		    !strncmp(f->name, "vtbtmp", 6) || (f->mac[0] & 1) || !memcmp(f->mac, zero, 6) ||
		    (f->mtu && (f->mtu < 68 || f->mtu > 65535)) ||
		    !img_prefix_ok(f->v4, sizeof(f->v4), AF_INET, true) ||
		    !img_prefix_ok(f->v6, sizeof(f->v6), AF_INET6, true))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(f->name, conf->ifs[j].name) || !memcmp(f->mac, conf->ifs[j].mac, 6))
				return -EINVAL;
	}
	if (conf->nprivs && !conf->privs)
		return -EINVAL;
	for (i = 0; i < conf->nprivs; i++)
		if (conf->privs[i].path[0] != '/' ||
		    !img_word_ok(conf->privs[i].path, XIR_DIR_MAX, "/_.-+@:,%~"))
			return -EINVAL;
	for (i = 0; i < conf->nroutes; i++) {
		const struct img_route *rt = &conf->routes[i];
		int af;

		if (!img_addr_ok(rt->via, sizeof(rt->via), &af))
			return -EINVAL;
		if (strcmp(rt->dst, "default") && !img_prefix_ok(rt->dst, sizeof(rt->dst), af, false))
			return -EINVAL;
	}
	return 0;
}

int img_format_conf(const struct img_vm_conf *conf, char *buf, size_t len)
{
	struct util_buf b;
	size_t i;
	int r;

	r = img_check_conf(conf);
	if (r)
		return r;
	util_buf_init(&b);
	util_buf_puts(&b, "# vtb guest configuration (format: vm/image.h)\n");
	if (conf->hostname[0])
		util_buf_printf(&b, "hostname %s\n", conf->hostname);
	util_buf_printf(&b, "forwarding %d\n", conf->forwarding ? 1 : 0);
	for (i = 0; i < conf->nifs; i++) {
		const unsigned char *m = conf->ifs[i].mac;

		util_buf_printf(&b, "iface %s %02x:%02x:%02x:%02x:%02x:%02x %u\n", conf->ifs[i].name,
				m[0], m[1], m[2], m[3], m[4], m[5], conf->ifs[i].mtu);
	}
	for (i = 0; i < conf->nifs; i++) {
		if (conf->ifs[i].v4[0])
			util_buf_printf(&b, "addr %s %s\n", conf->ifs[i].name, conf->ifs[i].v4);
		if (conf->ifs[i].v6[0])
			util_buf_printf(&b, "addr %s %s\n", conf->ifs[i].name, conf->ifs[i].v6);
	}
	for (i = 0; i < conf->nroutes; i++)
		util_buf_printf(&b, "route %s %s\n", conf->routes[i].dst, conf->routes[i].via);
	for (i = 0; i < conf->nprivs; i++)
		if (conf->privs[i].seed)
			util_buf_printf(&b, "private %s /" IMG_SEED_DIR "/%zu\n", conf->privs[i].path, i);
		else
			util_buf_printf(&b, "private %s -\n", conf->privs[i].path);
	if (b.oom)
		r = -ENOMEM;
	else if (b.len >= len)
		r = -ENOSPC;
	else {
		memcpy(buf, b.s, b.len + 1);
		r = (int)b.len;
	}
	util_buf_free(&b);
	return r;
}

/* The seeds of conf's private directories, as IMG_SEED_DIR/N in c. */
static int img_seeds(struct img_cpio *c, const struct img_vm_conf *conf)
{
	size_t budget = IMG_SEED_MAX, i;
	bool top = false;
	char name[64];
	int r = 0;

	for (i = 0; i < conf->nprivs && !r; i++) {
		if (!conf->privs[i].seed)
			continue;
		if (!top)
			img_cpio_entry(c, IMG_SEED_DIR, S_IFDIR | 0700, 0, 0, NULL, 0);
		top = true;
		snprintf(name, sizeof(name), IMG_SEED_DIR "/%zu", i);
		r = img_cpio_tree(c, name, conf->privs[i].seed, &budget);
	}
	return r;
}

int img_write_vm_initrd(const char *base_initrd, const struct img_vm_conf *conf,
			const char *out_path)
{
	static const char zeros[4];
	struct img_cpio c;
	char text[16384];
	int in, out, r;
	ssize_t n;

	r = img_format_conf(conf, text, sizeof(text));
	if (r < 0)
		return r == -ENOSPC ? -E2BIG : r;
	img_cpio_init(&c);
	img_cpio_entry(&c, "etc", S_IFDIR | 0755, 0, 0, NULL, 0);
	img_cpio_entry(&c, "etc/vtb.conf", S_IFREG | 0644, 0, 0, text, (size_t)r);
	r = img_seeds(&c, conf);
	if (r)
		goto out_free;
	img_cpio_trailer(&c);
	if (c.b.oom) {
		r = -ENOMEM;
		goto out_free;
	}
	in = open(base_initrd, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r = -errno;
		goto out_free;
	}
	/* new, and never through a link planted in its place */
	out = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		r = -errno;
		goto out_close_in;
	}
	n = file_copy(in, out);
	r = n < 0 ? (int)n : 0;
	/* the kernel looks for the next archive at a 4-byte boundary */
	if (!r && n % 4)
		r = file_write_all(out, zeros, (size_t)(4 - n % 4));
	if (!r)
		r = file_write_all(out, c.b.s, c.b.len);
	if (close(out) && !r)
		r = -errno;
	if (r)
		unlink(out_path);
out_close_in:
	close(in);
out_free:
	img_cpio_free(&c);
	return r;
}
