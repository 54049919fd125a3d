/* test_image: the guest image's per-VM side, without privileges: the text
 * of /etc/vtb.conf and what it refuses, the per-VM initrd (base, padding,
 * a newc archive), and the .modinfo parser on made-up and damaged ELF
 * files. Building and booting an image is tests/system/test_image.c. */
#include "unit.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vtbimgunit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static const struct img_if two_ifs[] = {
	{ .name = "eth0", .mac = { 0x52, 0x54, 0, 0, 0, 1 }, .v4 = "10.0.0.1/24", .v6 = "fd00::1/64",
	  .mtu = 1400 },
	{ .name = "up-link", .mac = { 0x52, 0x54, 0, 0, 0, 0xab }, .v4 = "10.0.1.1/24" },
};
static const struct img_route two_routes[] = { { "default", "10.0.0.254" },
					       { "fd01::/64", "fd00::2" } };

static struct img_vm_conf sample(void)
{
	struct img_vm_conf c = { .hostname = "r1", .ifs = two_ifs, .nifs = 2,
				 .routes = two_routes, .nroutes = 2, .forwarding = true };
	return c;
}

static void test_conf_text(void **state)
{
	struct img_vm_conf c = sample();
	char buf[1024];
	int n;

	(void)state;
	n = img_format_conf(&c, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "# vtb guest configuration (format: vm/image.h)\n"
				 "hostname r1\n"
				 "forwarding 1\n"
				 "iface eth0 52:54:00:00:00:01 1400\n"
				 "iface up-link 52:54:00:00:00:ab 0\n"
				 "addr eth0 10.0.0.1/24\n"
				 "addr eth0 fd00::1/64\n"
				 "addr up-link 10.0.1.1/24\n"
				 "route default 10.0.0.254\n"
				 "route fd01::/64 fd00::2\n");
	/* nothing but the defaults */
	memset(&c, 0, sizeof(c));
	n = img_format_conf(&c, buf, sizeof(buf));
	assert_true(n > 0);
	assert_null(strstr(buf, "hostname"));
	assert_non_null(strstr(buf, "forwarding 0\n"));
	/* too small a buffer */
	c = sample();
	assert_int_equal(img_format_conf(&c, buf, 40), -ENOSPC);
}

/* conf with interface 1 changed by edit must be refused. */
static void refused_if(void (*edit)(struct img_if *), const char *what)
{
	struct img_if ifs[2];
	struct img_vm_conf c = sample();
	char buf[1024];

	memcpy(ifs, two_ifs, sizeof(ifs));
	edit(&ifs[1]);
	c.ifs = ifs;
	if (img_format_conf(&c, buf, sizeof(buf)) != -EINVAL)
		fail_msg("accepted: %s", what);
}

static void name_space(struct img_if *f) { snprintf(f->name, sizeof(f->name), "a b"); }
static void name_newline(struct img_if *f) { snprintf(f->name, sizeof(f->name), "a\nroute"); }
static void name_empty(struct img_if *f) { f->name[0] = '\0'; }
static void name_lo(struct img_if *f) { snprintf(f->name, sizeof(f->name), "lo"); }
static void name_tmp(struct img_if *f) { snprintf(f->name, sizeof(f->name), "vtbtmp0"); }
static void name_dup(struct img_if *f) { snprintf(f->name, sizeof(f->name), "eth0"); }
static void name_long(struct img_if *f) { memset(f->name, 'x', sizeof(f->name)); }
static void mac_multicast(struct img_if *f) { f->mac[0] = 0x01; }
static void mac_zero(struct img_if *f) { memset(f->mac, 0, 6); }
static void mac_dup(struct img_if *f) { f->mac[5] = 1; }
static void mtu_small(struct img_if *f) { f->mtu = 67; }
static void mtu_big(struct img_if *f) { f->mtu = 65536; }
static void v4_is_v6(struct img_if *f) { snprintf(f->v4, sizeof(f->v4), "fd00::1/64"); }
static void v6_is_v4(struct img_if *f) { snprintf(f->v6, sizeof(f->v6), "10.0.0.1/24"); }
static void v4_no_len(struct img_if *f) { snprintf(f->v4, sizeof(f->v4), "10.0.0.1"); }
static void v4_junk(struct img_if *f) { snprintf(f->v4, sizeof(f->v4), "10.0.0.1/24 x"); }
static void v4_unterminated(struct img_if *f) { memset(f->v4, '1', sizeof(f->v4)); }

static void test_conf_refused(void **state)
{
	struct img_route rt[1];
	struct img_vm_conf c = sample();
	char buf[1024];

	(void)state;
	refused_if(name_space, "a name with a space");
	refused_if(name_newline, "a name with a newline");
	refused_if(name_empty, "an empty name");
	refused_if(name_lo, "lo");
	refused_if(name_tmp, "a name the guest uses itself");
	refused_if(name_dup, "two NICs named eth0");
	refused_if(name_long, "a name of 16 characters, unterminated");
	refused_if(mac_multicast, "a multicast MAC");
	refused_if(mac_zero, "MAC 00:00:00:00:00:00");
	refused_if(mac_dup, "two NICs with one MAC");
	refused_if(mtu_small, "MTU 67");
	refused_if(mtu_big, "MTU 65536");
	refused_if(v4_is_v6, "an IPv6 address as v4");
	refused_if(v6_is_v4, "an IPv4 address as v6");
	refused_if(v4_no_len, "an address without a prefix length");
	refused_if(v4_junk, "an address with junk after it");
	refused_if(v4_unterminated, "an unterminated address");

	snprintf(c.hostname, sizeof(c.hostname), "r 1");
	assert_int_equal(img_format_conf(&c, buf, sizeof(buf)), -EINVAL);
	c = sample();
	c.routes = rt;
	c.nroutes = 1;
	snprintf(rt[0].dst, sizeof(rt[0].dst), "default");
	snprintf(rt[0].via, sizeof(rt[0].via), "10.0.0.254/24");
	assert_int_equal(img_format_conf(&c, buf, sizeof(buf)), -EINVAL);
	snprintf(rt[0].via, sizeof(rt[0].via), "fd00::2");
	snprintf(rt[0].dst, sizeof(rt[0].dst), "10.1.0.0/16");
	assert_int_equal(img_format_conf(&c, buf, sizeof(buf)), -EINVAL); /* families differ */
	snprintf(rt[0].dst, sizeof(rt[0].dst), "default via");
	assert_int_equal(img_format_conf(&c, buf, sizeof(buf)), -EINVAL);
	snprintf(rt[0].dst, sizeof(rt[0].dst), "default");
	assert_true(img_format_conf(&c, buf, sizeof(buf)) > 0);
	c.ifs = NULL; /* nifs says 2 */
	assert_int_equal(img_format_conf(&c, buf, sizeof(buf)), -EINVAL);
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

static unsigned long hex8(const char *p)
{
	char f[9];

	memcpy(f, p, 8);
	f[8] = '\0';
	return strtoul(f, NULL, 16);
}

/* Check the newc entry at *off (name, mode, data) and step past it. */
static void expect_entry(const char *a, size_t len, size_t *off, const char *name,
			 unsigned long mode, const char *data)
{
	const char *h = a + *off;
	unsigned long namesize, filesize;

	assert_true(*off + 110 <= len);
	assert_memory_equal(h, "070701", 6);
	assert_int_equal(hex8(h + 14), mode);
	filesize = hex8(h + 54);
	namesize = hex8(h + 94);
	assert_int_equal(namesize, strlen(name) + 1);
	assert_string_equal(h + 110, name);
	*off += (110 + namesize + 3) & ~3ul;
	assert_int_equal(filesize, strlen(data));
	assert_memory_equal(a + *off, data, filesize);
	*off += (filesize + 3) & ~3ul;
}

static void test_vm_initrd(void **state)
{
	struct img_vm_conf c = sample();
	char base[128], out[128], conf[1024], *a;
	size_t len, off;
	int fd;

	(void)state;
	snprintf(base, sizeof(base), "%s/base.img", dir);
	snprintf(out, sizeof(out), "%s/vm.img", dir);
	fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5); /* not a multiple of 4 */
	close(fd);
	assert_int_equal(img_write_vm_initrd(base, &c, out), 0);
	assert_true(img_format_conf(&c, conf, sizeof(conf)) > 0);

	a = slurp(out, &len);
	assert_memory_equal(a, "hello\0\0\0", 8);
	off = 8;
	expect_entry(a, len, &off, "etc", 040755, "");
	expect_entry(a, len, &off, "etc/vtb.conf", 0100644, conf);
	expect_entry(a, len, &off, "TRAILER!!!", 0, "");
	assert_int_equal(off, len);
	free(a);

	/* never over a file or a link that is there already (one planted in
	 * the state directory would make root write through it) */
	assert_int_equal(img_write_vm_initrd(base, &c, out), -EEXIST);
	a = slurp(out, &len);
	assert_int_equal(len, off);
	free(a);
	unlink(out);
	assert_int_equal(symlink(base, out), 0);
	assert_int_equal(img_write_vm_initrd(base, &c, out), -EEXIST);
	a = slurp(base, &len);
	assert_int_equal(len, 5); /* the link's target is untouched */
	free(a);

	/* a bad configuration or a missing base writes nothing */
	unlink(out);
	c.hostname[1] = ' ';
	assert_int_equal(img_write_vm_initrd(base, &c, out), -EINVAL);
	assert_int_equal(access(out, F_OK), -1);
	c = sample();
	snprintf(base, sizeof(base), "%s/missing.img", dir);
	assert_int_equal(img_write_vm_initrd(base, &c, out), -ENOENT);
	assert_int_equal(access(out, F_OK), -1);
}

/* Private directories: a line each after the routes, their seeds (files,
 * directories, links, with their modes) in the per-VM initrd. */
static void test_vm_private(void **state)
{
	struct img_vm_conf c = sample();
	struct img_private privs[2] = { { "/etc/frr", NULL }, { "/run/x", NULL } };
	char seed[160], path[200], base[128], out[128], conf[1024], *a;
	size_t len;
	int fd;

	(void)state;
	snprintf(seed, sizeof(seed), "%s/seed", dir);
	assert_int_equal(mkdir(seed, 0750), 0);
	snprintf(path, sizeof(path), "%s/a.conf", seed);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hostname r1\n", 12), 12);
	close(fd);
	snprintf(path, sizeof(path), "%s/l", seed);
	assert_int_equal(symlink("a.conf", path), 0);
	privs[0].seed = seed;
	c.privs = privs;
	c.nprivs = 2;
	assert_true(img_format_conf(&c, conf, sizeof(conf)) > 0);
	assert_non_null(strstr(conf, "route fd01::/64 fd00::2\n"
				     "private /etc/frr /.vtb-seed/0\n"
				     "private /run/x -\n"));
	snprintf(base, sizeof(base), "%s/base.img", dir);
	snprintf(out, sizeof(out), "%s/vmp.img", dir);
	fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(img_write_vm_initrd(base, &c, out), 0);
	a = slurp(out, &len);
	assert_non_null(memmem(a, len, ".vtb-seed/0\0", 12));
	assert_non_null(memmem(a, len, ".vtb-seed/0/a.conf\0", 19));
	assert_non_null(memmem(a, len, "hostname r1\n", 12));
	assert_non_null(memmem(a, len, ".vtb-seed/0/l\0", 14));
	assert_null(memmem(a, len, ".vtb-seed/1", 11)); /* /run/x has no seed */
	free(a);
	unlink(out);

	/* a path the guest's init cannot take, a seed that is not there */
	privs[1].path = "/run/a b";
	assert_int_equal(img_format_conf(&c, conf, sizeof(conf)), -EINVAL);
	privs[1].path = "run/x";
	assert_int_equal(img_format_conf(&c, conf, sizeof(conf)), -EINVAL);
	privs[1].path = "/run/x";
	privs[0].seed = "/nonexistent/vtb-seed";
	assert_int_equal(img_write_vm_initrd(base, &c, out), -ENOENT);
	assert_int_equal(access(out, F_OK), -1);
}

/* A minimal module: ELF header, .modinfo, .shstrtab, section headers. */
static size_t make_ko(uint8_t *buf, size_t cap, const char *modinfo, size_t mlen)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab";
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				      EV_CURRENT },
			  .e_type = ET_REL, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_ehsize = sizeof(Elf64_Ehdr), .e_shentsize = sizeof(Elf64_Shdr),
			  .e_shnum = 3, .e_shstrndx = 2 };
	Elf64_Shdr sh[3] = { { 0 } };
	size_t off = sizeof(eh);

	assert_true(off + mlen + sizeof(shstr) + sizeof(sh) + 8 <= cap);
	memcpy(buf + off, modinfo, mlen);
	sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_offset = off, .sh_size = mlen };
	off += mlen;
	memcpy(buf + off, shstr, sizeof(shstr));
	sh[2] = (Elf64_Shdr){ .sh_name = 10, .sh_type = SHT_STRTAB, .sh_offset = off,
			      .sh_size = sizeof(shstr) };
	off += sizeof(shstr);
	off = (off + 7) & ~(size_t)7;
	eh.e_shoff = off;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + off, sh, sizeof(sh));
	return off + sizeof(sh);
}

static void test_modinfo(void **state)
{
	static const char mi[] = "license=GPL\0depends=virtio_ring,virtio,net_failover\0"
				 "name=virtio_net\0vermagic=6.1.0 SMP";
	uint8_t ko[1024], *copy;
	const char *val;
	size_t len, vlen, i, cut;

	(void)state;
	len = make_ko(ko, sizeof(ko), mi, sizeof(mi) - 1); /* the last string unterminated */
	assert_int_equal(img_modinfo_get(ko, len, "depends", &val, &vlen), 0);
	assert_int_equal(vlen, strlen("virtio_ring,virtio,net_failover"));
	assert_memory_equal(val, "virtio_ring,virtio,net_failover", vlen);
	assert_int_equal(img_modinfo_get(ko, len, "name", &val, &vlen), 0);
	assert_memory_equal(val, "virtio_net", vlen);
	assert_int_equal(img_modinfo_get(ko, len, "vermagic", &val, &vlen), 0);
	assert_int_equal(vlen, strlen("6.1.0 SMP"));
	assert_int_equal(img_modinfo_get(ko, len, "alias", &val, &vlen), -ENOENT);
	assert_int_equal(img_modinfo_get(ko, len, "depend", &val, &vlen), -ENOENT);
	assert_int_equal(img_modinfo_get((const uint8_t *)"\x7f" "ELF", 4, "name", &val, &vlen),
			 -ENOEXEC);

	/* every truncation and every single-byte change: no crash (ASan
	 * watches), and a value found lies inside the buffer */
	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, ko, cut);
		if (!img_modinfo_get(copy, cut, "depends", &val, &vlen))
			assert_true(val >= (const char *)copy && val + vlen <= (const char *)copy + cut);
		free(copy);
	}
	for (i = 0; i < len; i++) {
		static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };

		for (cut = 0; cut < sizeof(vals); cut++) {
			copy = malloc(len);
			assert_non_null(copy);
			memcpy(copy, ko, len);
			copy[i] = vals[cut];
			if (!img_modinfo_get(copy, len, "depends", &val, &vlen))
				assert_true(val >= (const char *)copy &&
					    val + vlen <= (const char *)copy + len);
			free(copy);
		}
	}
}

static void test_cmdline(void **state)
{
	(void)state;
	assert_non_null(strstr(img_cmdline(), "console=ttyS0"));
	assert_true(strlen(img_cmdline()) < 2048);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_text), cmocka_unit_test(test_conf_refused),
		cmocka_unit_test(test_vm_private),
		cmocka_unit_test(test_vm_initrd), cmocka_unit_test(test_modinfo),
		cmocka_unit_test(test_cmdline),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
