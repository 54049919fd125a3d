/* image_kernel: the Debian kernel package, downloaded and unpacked (never
 * installed), and the kernel taken out of it.
 *
 * Which kernel package. linux-image-cloud-amd64 would boot faster (its
 * bzImage is LZ4-compressed, not xz), but its file list (bookworm,
 * 6.1.0-56-cloud-amd64) holds virtio_net and vmxnet3 only: its config
 * leaves out E1000, E1000E, 8139TOO and 8139CP, so it cannot drive the
 * e1000, e1000e and rtl8139 NIC models. linux-image-amd64 has all five as
 * modules, so the image uses it. Its bzImage is xz-compressed, which costs
 * about 5 s of decompression at every boot under TCG; the build unpacks it
 * once into the ELF vmlinux, which QEMU starts through the kernel's PVH
 * entry point (CONFIG_PVH=y): a TCG boot to "vtb-guest-ready" (e1000 and
 * virtio NICs) takes 2.7-3.3 s instead of 6.8 s. When the payload cannot
 * be unpacked (an unknown compressor, no PVH note) the image keeps the
 * bzImage. */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the package ---- */

/* The .deb in dir whose name starts with prefix ("linux-image-"), into
 * buf. */
static int img_find_deb(const char *dir, const char *prefix, char *buf, size_t len)
{
	struct dirent *d;
	size_t n;
	DIR *dh;
	int r = -ENOENT;

	dh = opendir(dir);
	if (!dh)
		return -errno;
	while ((d = readdir(dh))) {
		n = strlen(d->d_name);
		if (n > 4 && !strcmp(d->d_name + n - 4, ".deb") &&
		    !strncmp(d->d_name, prefix, strlen(prefix))) {
			snprintf(buf, len, "%s/%s", dir, d->d_name);
			r = 0;
			break;
		}
	}
	closedir(dh);
	return r;
}

/* Unpack the downloaded package pkg (its .deb in tmp, then removed) into
 * tmp/sub. */
static int img_unpack_deb(const char *tmp, const char *pkg, const char *sub,
			  img_progress_fn progress, void *arg, char *err, size_t errlen)
{
	char prefix[160], deb[1024], dir[600], what[1100];
	const char *x[] = { "dpkg-deb", "-x", deb, dir, NULL };
	struct img_cmd c = { .what = what, .argv = x };
	int r;

	snprintf(prefix, sizeof(prefix), "%s_", pkg);
	r = img_find_deb(tmp, prefix, deb, sizeof(deb));
	if (r) {
		util_fmt(err, errlen, "apt-get download left no %s*.deb in %s", prefix, tmp);
		return r;
	}
	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	snprintf(what, sizeof(what), "dpkg-deb -x %s", strrchr(deb, '/') + 1);
	img_step(progress, arg, "unpacking %s", pkg);
	r = img_run(&c, err, errlen);
	unlink(deb);
	return r;
}

/* Download and unpack the kernel package into tmp/pkg and, for another
 * architecture, busybox-static's into tmp/bb. */
int img_fetch(const char *tmp, const struct img_inputs *in, img_progress_fn progress,
	      void *arg, char *err, size_t errlen)
{
	const struct vm_arch *a = in->arch;
	char spec[200], bbspec[200], what[500];
	const char *args[] = { "download", spec, a->suite ? bbspec : NULL, NULL };
	struct img_apt t;
	struct img_cmd c = { .what = what, .argv = t.argv, .cwd = tmp };
	int r;

	snprintf(spec, sizeof(spec), "%s=%s", in->pkg, in->version);
	snprintf(bbspec, sizeof(bbspec), "%s=%s", a->busybox_pkg, in->busybox);
	snprintf(what, sizeof(what), "apt-get download %s%s%s", spec, a->suite ? " " : "",
		 a->suite ? bbspec : "");
	if (a->suite)
		img_step(progress, arg, "downloading %s %s and %s %s (Debian %s, %s)", in->pkg,
			 in->version, a->busybox_pkg, in->busybox, a->suite, a->deb_arch);
	else
		img_step(progress, arg, "downloading %s %s", in->pkg, in->version);
	img_apt_argv(&t, in, "apt-get", args);
	r = img_run(&c, err, errlen);
	if (r == -ENOENT)
		util_fmt(err, errlen, "apt-get is missing: the guest image needs Debian's apt");
	if (!r)
		r = img_unpack_deb(tmp, in->pkg, "pkg", progress, arg, err, errlen);
	if (!r && a->suite)
		r = img_unpack_deb(tmp, a->busybox_pkg, "bb", progress, arg, err, errlen);
	return r;
}

/* ---- ELF: module info, PVH note, static binaries ---- */

/* More program headers than this and the file is not a kernel or a
 * busybox (they have a handful). */
#define IMG_ELF_MAX_PHDRS 256

/* Section header i of the ELF64 image elf (len bytes) into *sh, copied
 * (the image need not be aligned). false when it lies outside. */
static bool img_elf_shdr(const uint8_t *elf, size_t len, size_t i, Elf64_Shdr *sh)
{
	Elf64_Ehdr eh;
	uint64_t off;

	memcpy(&eh, elf, sizeof(eh));
	if (i >= eh.e_shnum || eh.e_shoff > len || (len - eh.e_shoff) / sizeof(*sh) <= i)
		return false;
	off = eh.e_shoff + (uint64_t)i * sizeof(*sh);
	memcpy(sh, elf + off, sizeof(*sh));
	return sh->sh_offset <= len && len - sh->sh_offset >= sh->sh_size;
}

static bool img_is_elf64(const uint8_t *elf, size_t len)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return false;
	memcpy(&eh, elf, sizeof(eh));
	return !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	       eh.e_ident[EI_DATA] == ELFDATA2LSB && eh.e_shentsize == sizeof(Elf64_Shdr);
}

int img_modinfo_get(const uint8_t *ko, size_t len, const char *key, const char **val,
		    size_t *vlen)
{
	Elf64_Shdr strs, sh;
	Elf64_Ehdr eh;
	size_t i, klen = strlen(key);

	if (!img_is_elf64(ko, len))
		return -ENOEXEC;
	memcpy(&eh, ko, sizeof(eh));
	if (!img_elf_shdr(ko, len, eh.e_shstrndx, &strs))
		return -ENOEXEC;
	for (i = 0; img_elf_shdr(ko, len, i, &sh); i++) {
		const char *p, *end;

		if (sh.sh_name >= strs.sh_size)
			continue;
		p = (const char *)ko + strs.sh_offset + sh.sh_name;
		if (strnlen(p, strs.sh_size - sh.sh_name) != 8 || memcmp(p, ".modinfo", 8))
			continue;
		p = (const char *)ko + sh.sh_offset;
		end = p + sh.sh_size;
		while (p < end) {
			size_t n = strnlen(p, (size_t)(end - p));

			if (n > klen && !memcmp(p, key, klen) && p[klen] == '=') {
				*val = p + klen + 1;
				*vlen = n - klen - 1;
				return 0;
			}
			p += n + 1;
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* Read the ELF header and program headers of path. Returns the number of
 * program headers (0 when it is not a 64-bit little-endian ELF) into
 * *phdrs (the caller frees), or -errno. */
static int img_elf_phdrs(int fd, Elf64_Phdr **phdrs)
{
	Elf64_Ehdr eh;
	ssize_t got;
	size_t sz;

	*phdrs = NULL;
	got = pread(fd, &eh, sizeof(eh), 0);
	if (got < 0)
		return -errno;
	if (got != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum > IMG_ELF_MAX_PHDRS)
		return 0;
	sz = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
	*phdrs = malloc(sz ? sz : 1);
	if (!*phdrs)
		return -ENOMEM;
	got = pread(fd, *phdrs, sz, (off_t)eh.e_phoff);
	if (got != (ssize_t)sz) {
		free(*phdrs);
		*phdrs = NULL;
		return got < 0 ? -errno : 0; /* cut short: not an ELF we can use */
	}
	return eh.e_phnum;
}

/* 1 when the PT_NOTE segments of the ELF open at fd (program headers ph,
 * n of them) hold a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), 0 when
 * not (a segment cut short counts as holding none), or -errno. */
static int img_notes_have_pvh(int fd, const Elf64_Phdr *ph, int n)
{
	uint8_t buf[4096];
	size_t off, len;
	ssize_t got;
	int i;

	for (i = 0; i < n; i++) {
		if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > sizeof(buf))
			continue;
		len = (size_t)ph[i].p_filesz;
		got = pread(fd, buf, len, (off_t)ph[i].p_offset);
		if (got < 0)
			return -errno;
		if ((size_t)got != len)
			continue;
		for (off = 0; off + sizeof(Elf64_Nhdr) <= len;) {
			Elf64_Nhdr nh;
			size_t name, desc;

			memcpy(&nh, buf + off, sizeof(nh));
			name = off + sizeof(nh);
			desc = name + ((nh.n_namesz + 3u) & ~3u);
			if (nh.n_namesz == 4 && desc <= len && !memcmp(buf + name, "Xen", 4) &&
			    nh.n_type == 18 /* XEN_ELFNOTE_PHYS32_ENTRY */)
				return 1;
			off = desc + ((nh.n_descsz + 3u) & ~3u);
		}
	}
	return 0;
}

/* 1 when the ELF at path has a Xen PVH entry note, so QEMU can boot it
 * with -kernel; 0 when not (or it is no 64-bit ELF); a negative errno
 * when it cannot be read. */
static int img_has_pvh_note(const char *path)
{
	Elf64_Phdr *ph;
	int fd, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = img_elf_phdrs(fd, &ph);
	if (n > 0)
		n = img_notes_have_pvh(fd, ph, n);
	free(ph);
	close(fd);
	return n;
}

/* See image_impl.h. */
int img_is_static(const char *path)
{
	Elf64_Phdr *ph;
	int fd, n, i, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = img_elf_phdrs(fd, &ph);
	r = n < 0 ? n : n > 0;
	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_INTERP)
			r = 0;
	free(ph);
	close(fd);
	return r;
}

/* ---- the kernel ---- */

/* How each compressor marks its payload, and the tool that undoes it.
 * Linux appends the uncompressed size (4 bytes) to every payload but
 * gzip's, which the tools would take for trailing garbage. */
static const struct img_unpacker {
	const char *name;
	uint8_t magic[6];
	size_t magic_len, trailer;
	const char *tool;
} img_unpackers[] = {
	{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, 4, "xz" },
	{ "gzip", { 0x1f, 0x8b }, 2, 0, "gzip" },
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, 4, "zstd" },
	{ "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4, 4, "lz4" },
};

static uint32_t img_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Find the compressed kernel in bzImage (x86 boot protocol 2.08+:
 * payload_offset and payload_length in the setup header) and its
 * unpacker. Returns NULL when it is not one we know. */
static const struct img_unpacker *img_bz_payload(const uint8_t *bz, size_t len, size_t *off,
						 size_t *plen)
{
	size_t setup, i;
	uint32_t po, pl;

	if (len < 0x250 || memcmp(bz + 0x202, "HdrS", 4) || (bz[0x206] | bz[0x207] << 8) < 0x208)
		return NULL;
	setup = ((size_t)(bz[0x1f1] ? bz[0x1f1] : 4) + 1) * 512;
	po = img_le32(bz + 0x248);
	pl = img_le32(bz + 0x24c);
	if (setup + po > len || len - setup - po < pl)
		return NULL;
	for (i = 0; i < UTIL_ARRAY_SIZE(img_unpackers); i++) {
		const struct img_unpacker *u = &img_unpackers[i];

		if (pl > u->magic_len + u->trailer && !memcmp(bz + setup + po, u->magic, u->magic_len)) {
			*off = setup + po;
			*plen = pl - u->trailer;
			return u;
		}
	}
	return NULL;
}

/* Unpack the payload (plen bytes at p, compressed with u) into
 * tmp/out/vmlinux. 1 when that is a kernel QEMU can boot (a PVH note), 0
 * when not, with why saying what went wrong; nothing is left behind then. */
static int img_unpack_vmlinux(const char *tmp, const struct img_unpacker *u, const char *p,
			      size_t plen, char *why, size_t whylen)
{
	char payload[600], dst[600];
	const char *argv[] = { u->tool, "-dc", NULL };
	struct img_cmd c = { .what = u->tool, .argv = argv, .in_path = payload, .out_path = dst };
	int r;

	snprintf(payload, sizeof(payload), "%s/payload", tmp);
	snprintf(dst, sizeof(dst), "%s/out/vmlinux", tmp);
	r = file_write(payload, p, plen, 0644);
	if (r) {
		util_fmt(why, whylen, "cannot write %s: %s", payload, strerror(-r));
		return 0;
	}
	r = img_run(&c, why, whylen);
	if (!r) {
		r = img_has_pvh_note(dst);
		if (r == 0)
			util_fmt(why, whylen, "the unpacked kernel has no PVH entry note");
		else if (r < 0)
			util_fmt(why, whylen, "cannot read %s: %s", dst, strerror(-r));
	}
	if (r <= 0)
		unlink(dst);
	return r > 0;
}

/* The Image of an arm64 or riscv64 kernel package (/boot/vmlinuz-KVER on
 * arm64, /boot/vmlinux-KVER on riscv64; both uncompressed Images with an
 * EFI stub in Debian 12 and 13) into tmp/out/Image: moved, or gunzipped
 * when it is gzip-compressed (QEMU's riscv64 loader takes no gzip). */
static int img_kernel_image(const char *tmp, const struct img_inputs *in,
			    img_progress_fn progress, void *arg, char *err, size_t errlen)
{
	static const char *const names[] = { "vmlinuz", "vmlinux" };
	char src[768], dst[600];
	const char *argv[] = { "gzip", "-dc", NULL };
	struct img_cmd c = { .what = "gzip -dc (the kernel)", .argv = argv, .in_path = src,
			     .out_path = dst };
	unsigned char magic[2] = { 0 };
	size_t i;
	int fd, r;

	for (i = 0; i < UTIL_ARRAY_SIZE(names); i++) {
		snprintf(src, sizeof(src), "%s/pkg/boot/%s-%s", tmp, names[i], in->kver);
		if (!access(src, R_OK))
			break;
	}
	if (i == UTIL_ARRAY_SIZE(names)) {
		util_fmt(err, errlen, "%s has no /boot/vmlinuz-%s or vmlinux-%s", in->pkg, in->kver,
			 in->kver);
		return -ENOENT;
	}
	snprintf(dst, sizeof(dst), "%s/out/Image", tmp);
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, magic, sizeof(magic)) < 0) {
		r = -errno;
		util_fmt(err, errlen, "cannot read %s: %s", src, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	close(fd);
	if (magic[0] == 0x1f && magic[1] == 0x8b) {
		img_step(progress, arg, "unpacking the kernel (gzip) into Image");
		return img_run(&c, err, errlen);
	}
	if (rename(src, dst)) {
		r = -errno;
		util_fmt(err, errlen, "cannot move %s to %s: %s", src, dst, strerror(-r));
		return r;
	}
	return 0;
}

/* Put the kernel of the unpacked package (tmp/pkg) into tmp/out: an
 * Image as it is (img_kernel_image); from a bzImage the ELF vmlinux when
 * its payload unpacks into one with a PVH note, else the bzImage itself,
 * as vmlinuz (the progress step says why). */
int img_kernel(const char *tmp, const struct img_inputs *in, img_progress_fn progress, void *arg,
	       char *err, size_t errlen)
{
	char bzpath[768], dst[600], why[UTIL_ERR_LEN] = "its compressor is not one vtb knows";
	const struct img_unpacker *u;
	size_t off, plen, len;
	char *bz;
	int r;

	if (in->arch->kernel_fmt == VM_KERNEL_IMAGE)
		return img_kernel_image(tmp, in, progress, arg, err, errlen);
	snprintf(bzpath, sizeof(bzpath), "%s/pkg/boot/vmlinuz-%s", tmp, in->kver);
	r = file_read_all(bzpath, IMG_MAX_FILE, &bz, &len);
	if (r) {
		util_fmt(err, errlen, "%s has no /boot/vmlinuz-%s: %s", in->pkg, in->kver, strerror(-r));
		return r;
	}
	u = img_bz_payload((const uint8_t *)bz, len, &off, &plen);
	if (u) {
		img_step(progress, arg, "unpacking the kernel (%s) into vmlinux", u->name);
		if (img_unpack_vmlinux(tmp, u, bz + off, plen, why, sizeof(why))) {
			free(bz);
			return 0;
		}
	}
	/* keep the bzImage: slower to boot, but it boots */
	img_step(progress, arg, "keeping the compressed kernel (it boots more slowly): %s", why);
	snprintf(dst, sizeof(dst), "%s/out/vmlinuz", tmp);
	r = file_write(dst, bz, len, 0644);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", dst, strerror(-r));
	free(bz);
	return r;
}
