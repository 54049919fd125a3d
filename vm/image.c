/* image: the guest image vtb builds itself (see image.h).
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
 * bzImage.
 *
 * Modules. The package ships no modules.dep (depmod makes it when the
 * package is installed, which vtb never does), so dependencies come from
 * each module's own .modinfo "depends=", and names map to files through
 * modules.order. Only the modules named in img_modules and what they
 * depend on are copied. Compressed modules (.ko.xz, .ko.zst, .ko.gz:
 * bookworm's are plain .ko, later releases compress them) are decompressed
 * at build time: busybox insmod can read .ko.xz, but only after the
 * kernel refused the raw file with an "Invalid ELF header magic" message
 * on the console.
 *
 * The initramfs is an uncompressed newc cpio written here (so /dev/console
 * needs no mknod and the output does not depend on the host's cpio):
 * under TCG, inflating a gzip archive in the guest costs more than
 * QEMU's copy of the larger file. */
#include "image.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "util.h"

extern char **environ;

/* Bumped whenever the layout of an image changes without any other input
 * changing, so that old cache entries stop matching. */
#define IMG_LAYOUT "1"

#define IMG_KERNEL_PKG "linux-image-amd64"
#define IMG_BUSYBOX "/bin/busybox"
#define IMG_MAX_MODULES 64
#define IMG_MAX_FILE (256u << 20) /* larger files are not what we think they are */

/* The NIC drivers of the five QEMU models, virtio's PCI transport (not a
 * dependency of virtio_net, but what virtio-net-pci needs), and pvpanic,
 * so that QEMU learns of a guest panic. Dependencies are added. */
static const char *const img_modules[] = {
	"virtio_pci", "virtio_net", "e1000",	    "e1000e",	   "8139cp",
	"8139too",    "vmxnet3",    "pvpanic_mmio", "pvpanic_pci",
};

/* /init: PID 1. Its text is part of the cache key. */
static const char img_init_script[] =
	"#!/bin/sh\n"
	"# vtb guest init, PID 1 of every vtb VM (busybox ash). Written by vtb\n"
	"# (vm/image.c); /etc/vtb.conf is described in vm/image.h.\n"
	"export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root PS1='\\h:\\w\\$ '\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"mount -t devtmpfs devtmpfs /dev\n"
	"mkdir -p /dev/pts /dev/shm\n"
	"mount -t devpts devpts /dev/pts\n"
	"mount -t tmpfs tmpfs /dev/shm\n"
	"mount -t tmpfs tmpfs /run\n"
	"dmesg -n 1\n"
	"\n"
	"warn() { echo \"vtb-guest-warning: $*\"; }\n"
	"\n"
	"# The NIC drivers and what they need, dependencies first (vtb wrote the\n"
	"# list). A driver whose device is absent loads and waits for none.\n"
	"while read -r m; do\n"
	"\tinsmod \"$m\" || warn \"cannot load $m\"\n"
	"done </lib/modules/vtb-modules\n"
	"\n"
	"conf=/etc/vtb.conf\n"
	"[ -r $conf ] || { warn \"no $conf: the network is left unconfigured\"; conf=/dev/null; }\n"
	"\n"
	"# by_mac MAC: set dev to the name of the interface with that address.\n"
	"by_mac() {\n"
	"\tlocal d m\n"
	"\tfor d in /sys/class/net/*; do\n"
	"\t\tread -r m 2>/dev/null <\"$d/address\" || continue\n"
	"\t\t[ \"$m\" = \"$1\" ] && { dev=${d##*/}; return 0; }\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	"\n"
	"# The kernel names NICs in probe order, so vtb names them by MAC. First\n"
	"# every NIC moves to a temporary name, so that no wanted name is still\n"
	"# taken by another NIC. A NIC may appear a little after its driver\n"
	"# loads: all of them together get 5 s.\n"
	"n=0\n"
	"t=0\n"
	"while read -r kw name mac mtu; do\n"
	"\t[ \"$kw\" = iface ] || continue\n"
	"\tuntil by_mac \"$mac\" || [ $t -ge 50 ]; do\n"
	"\t\tt=$((t + 1))\n"
	"\t\tsleep 0.1\n"
	"\tdone\n"
	"\tif ! by_mac \"$mac\"; then\n"
	"\t\twarn \"no NIC with MAC $mac (for $name)\"\n"
	"\t\tcontinue\n"
	"\tfi\n"
	"\tip link set dev \"$dev\" name \"vtbtmp$n\" && n=$((n + 1))\n"
	"done <$conf\n"
	"\n"
	"host=vtb\n"
	"while read -r kw a b c; do\n"
	"\tcase $kw in\n"
	"\thostname) host=$a ;;\n"
	"\tforwarding)\n"
	"\t\techo \"$a\" >/proc/sys/net/ipv4/ip_forward\n"
	"\t\techo \"$a\" >/proc/sys/net/ipv6/conf/all/forwarding\n"
	"\t\t;;\n"
	"\tiface)\n"
	"\t\tby_mac \"$b\" || continue\n"
	"\t\tip link set dev \"$dev\" name \"$a\" || warn \"cannot rename $dev to $a\"\n"
	"\t\t[ \"$c\" = 0 ] || ip link set dev \"$a\" mtu \"$c\" || warn \"cannot set MTU $c on $a\"\n"
	"\t\t# addresses are planned: no duplicate address detection to wait for\n"
	"\t\techo 0 2>/dev/null >/proc/sys/net/ipv6/conf/$a/accept_dad\n"
	"\t\tip link set dev \"$a\" up || warn \"cannot bring $a up\"\n"
	"\t\t;;\n"
	"\taddr)\n"
	"\t\tcase $b in\n"
	"\t\t*:*) ip -6 addr add \"$b\" dev \"$a\" ;;\n"
	"\t\t*) ip addr add \"$b\" broadcast + dev \"$a\" ;;\n"
	"\t\tesac || warn \"cannot add address $b to $a\"\n"
	"\t\t;;\n"
	"\troute)\n"
	"\t\tcase $b in\n"
	"\t\t*:*) ip -6 route add \"$a\" via \"$b\" ;;\n"
	"\t\t*) ip route add \"$a\" via \"$b\" ;;\n"
	"\t\tesac || warn \"cannot add route $a via $b\"\n"
	"\t\t;;\n"
	"\tesac\n"
	"done <$conf\n"
	"ip link set dev lo up\n"
	"hostname \"$host\"\n"
	"echo \"$host\" >/etc/hostname\n"
	"echo \"127.0.1.1 $host\" >>/etc/hosts\n"
	"\n"
	"# an e1000 link comes up a moment after its driver: wait (5 s at most)\n"
	"# until every configured NIC has its carrier, so ready means reachable\n"
	"t=0\n"
	"while [ $t -lt 50 ]; do\n"
	"\tdown=0\n"
	"\twhile read -r kw a b c; do\n"
	"\t\t[ \"$kw\" = iface ] || continue\n"
	"\t\tcar=0\n"
	"\t\tread -r car 2>/dev/null </sys/class/net/$a/carrier\n"
	"\t\t[ \"$car\" = 1 ] || down=1\n"
	"\tdone <$conf\n"
	"\t[ $down = 0 ] && break\n"
	"\tt=$((t + 1))\n"
	"\tsleep 0.1\n"
	"done\n"
	"echo vtb-guest-ready\n"
	"# busybox init keeps a shell on ttyS0 (see /etc/inittab) and reaps orphans\n"
	"exec /sbin/init\n";

/* The small files of /etc, also part of the key. */
static const struct img_etc {
	const char *path, *text;
} img_etc[] = {
	{ "etc/inittab", "# vtb: a shell on the serial console, started again when it exits\n"
			 "ttyS0::respawn:/bin/sh\n" },
	{ "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n" },
	{ "etc/group", "root:x:0:\n" },
	{ "etc/hosts", "127.0.0.1 localhost\n::1 localhost\n" },
};

/* ---- small helpers ---- */

static uint64_t img_fnv64(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void img_step(img_progress_fn progress, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void img_step(img_progress_fn progress, void *arg, const char *fmt, ...)
{
	char step[256];
	va_list ap;

	if (!progress)
		return;
	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	progress(arg, step);
}

/* Read all of path into *data (NUL-terminated; the caller frees), its
 * length into *len. Returns 0 or -errno (-EFBIG past IMG_MAX_FILE). */
static int img_read_file(const char *path, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *buf;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out_close;
	}
	if ((uint64_t)st.st_size > IMG_MAX_FILE) {
		r = -EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(buf);
			goto out_close;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
out_close:
	close(fd);
	return r;
}

static int img_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create path (mode 0644) holding data. Returns 0 or -errno. */
static int img_write_file(const char *path, const void *data, size_t len)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = img_write_all(fd, data, len);
	if (close(fd) && !r)
		r = -errno;
	return r;
}

static int img_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

/* Remove the tree at path; one that is gone already is success. */
static int img_rm_tree(const char *path)
{
	if (nftw(path, img_rm_one, 16, FTW_DEPTH | FTW_PHYS))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

/* mkdir -p path (mode 0755). Returns 0 or -errno. */
static int img_mkdir_p(const char *path)
{
	char buf[512];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

/* The line of a tool's stderr worth quoting: apt's first "E: " line (the
 * specific error; later ones sum up, "E: Some files failed to download"),
 * else the last non-empty line. Copied into buf. */
static void img_last_line(const char *text, size_t len, char *buf, size_t buflen)
{
	const char *best = NULL, *best_end = NULL, *p = text, *end = text + len;

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));

		if (!e)
			e = end;
		if (e > p && (!best || strncmp(best, "E: ", 3))) {
			best = p;
			best_end = e;
		}
		p = e + 1;
	}
	if (!best)
		snprintf(buf, buflen, "no message");
	else
		snprintf(buf, buflen, "%.*s", (int)(best_end - best), best);
}

/* ---- running the host's tools ---- */

struct img_cmd {
	const char *what;      /* for messages: "apt-get download linux-image-..." */
	const char *const *argv;
	const char *cwd;       /* NULL: ours */
	const char *in_path;   /* stdin; NULL: /dev/null */
	const char *out_path;  /* stdout into this new file; NULL: into out */
	struct util_buf *out;  /* stdout when out_path is NULL; NULL: discarded */
};

/* Environment for the tools: ours with LC_ALL=C (their messages are
 * quoted in ours) and DEBIAN_FRONTEND=noninteractive. The caller frees the
 * array, not its strings (environ's, and two static ones). */
static char **img_tool_env(void)
{
	static char lc[] = "LC_ALL=C", fe[] = "DEBIAN_FRONTEND=noninteractive";
	size_t n = 0, k = 0, i;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) && strncmp(environ[i], "LANGUAGE=", 9) &&
		    strncmp(environ[i], "DEBIAN_FRONTEND=", 16))
			env[k++] = environ[i];
	env[k++] = lc;
	env[k] = fe;
	return env;
}

/* Read the child's stdout (into out, when given) and stderr (its last 8
 * KiB into tail) until both close. */
static int img_drain(int outfd, struct util_buf *out, int errfd, char *tail, size_t *tail_len,
		     size_t tail_cap)
{
	struct pollfd p[2] = { { .fd = outfd, .events = POLLIN }, { .fd = errfd, .events = POLLIN } };
	char buf[65536];
	ssize_t n;
	int i;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				continue;
			}
			if (i == 0 && out) {
				util_buf_append(out, buf, (size_t)n);
			} else if (i == 1) {
				size_t m = (size_t)n > tail_cap ? tail_cap : (size_t)n;
				size_t keep = *tail_len + m > tail_cap ? tail_cap - m : *tail_len;

				memmove(tail, tail + *tail_len - keep, keep);
				memcpy(tail + keep, buf + n - m, m);
				*tail_len = keep + m;
			}
		}
	}
	return out && out->oom ? -ENOMEM : 0;
}

static int img_spawn_actions(posix_spawn_file_actions_t *fa, const struct img_cmd *c, int outw,
			     int errw)
{
	int r;

	r = posix_spawn_file_actions_addopen(fa, 0, c->in_path ? c->in_path : "/dev/null", O_RDONLY,
					     0);
	if (!r && c->out_path)
		r = posix_spawn_file_actions_addopen(fa, 1, c->out_path,
						     O_WRONLY | O_CREAT | O_TRUNC, 0644);
	else if (!r)
		r = posix_spawn_file_actions_adddup2(fa, outw, 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, errw, 2);
	if (!r && c->cwd)
		r = posix_spawn_file_actions_addchdir_np(fa, c->cwd);
	return -r;
}

/* Run c->argv (argv[0] searched in PATH) and wait for it. posix_spawn,
 * not fork: `vtb up` calls this from a worker thread. Returns 0 when it
 * exited 0; -ENOENT when the program is missing; -EIO when it failed,
 * with err "WHAT failed: <its last error line>"; or another -errno. */
static int img_run(const struct img_cmd *c, char *err, size_t errlen)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, st, r;
	posix_spawn_file_actions_t fa;
	char tail[8192], line[512];
	size_t tail_len = 0;
	char **env = NULL;
	pid_t pid;

	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		r = -errno;
		goto out_close;
	}
	env = img_tool_env();
	if (!env) {
		r = -ENOMEM;
		goto out_close;
	}
	if ((r = -posix_spawn_file_actions_init(&fa)))
		goto out_close;
	r = img_spawn_actions(&fa, c, outp[1], errp[1]);
	if (!r)
		r = -posix_spawnp(&pid, c->argv[0], &fa, NULL, (char *const *)c->argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		util_fmt(err, errlen, "%s failed: cannot run %s: %s", c->what, c->argv[0],
			 strerror(-r));
		goto out_close;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	r = img_drain(outp[0], c->out, errp[0], tail, &tail_len, sizeof(tail));
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			util_fmt(err, errlen, "%s: cannot wait for it: %s", c->what, strerror(errno));
			goto out_close;
		}
	}
	if (r) {
		util_fmt(err, errlen, "%s: cannot read its output: %s", c->what, strerror(-r));
	} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		img_last_line(tail, tail_len, line, sizeof(line));
		if (WIFEXITED(st))
			util_fmt(err, errlen, "%s failed: %s", c->what, line);
		else
			util_fmt(err, errlen, "%s killed by signal %d", c->what, WTERMSIG(st));
		r = -EIO;
	}
out_close:
	free(env);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

/* ---- the inputs and the key ---- */

struct img_inputs {
	char pkg[128];     /* linux-image-6.1.0-56-amd64 */
	char version[64];  /* 6.1.192-2 */
	char kver[64];     /* 6.1.0-56-amd64 */
	char busybox[64];  /* busybox-static's version */
	struct util_buf text; /* everything hashed */
};

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

/* Find the kernel package behind IMG_KERNEL_PKG: the first package of the
 * candidate's Depends, with the version it pins. */
static int img_resolve_kernel(struct img_inputs *in, char *err, size_t errlen)
{
	const char *argv[] = { "apt-cache", "show", "--no-all-versions", IMG_KERNEL_PKG, NULL };
	struct img_cmd c = { .what = "apt-cache show " IMG_KERNEL_PKG, .argv = argv };
	char dep[512], *p, *q;
	struct util_buf out;
	int r;

	util_buf_init(&out);
	c.out = &out;
	r = img_run(&c, err, errlen);
	if (r == -ENOENT)
		util_fmt(err, errlen, "apt-cache is missing: the guest image needs Debian's apt");
	if (r)
		goto out;
	if (!out.s || !img_field(out.s, "Depends", dep, sizeof(dep)) ||
	    !img_field(out.s, "Version", in->version, sizeof(in->version))) {
		util_fmt(err, errlen,
			 "apt-cache show " IMG_KERNEL_PKG " gave no candidate (run apt-get update)");
		r = -ENOENT;
		goto out;
	}
	p = dep + strspn(dep, " ");
	q = p + strcspn(p, " ,|(");
	snprintf(in->pkg, sizeof(in->pkg), "%.*s", (int)(q - p), p);
	if (strncmp(in->pkg, "linux-image-", 12) || !in->pkg[12]) {
		util_fmt(err, errlen, IMG_KERNEL_PKG " depends on '%s', not on a kernel image", dep);
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
	size_t i, off = 0;
	struct stat st;

	buf[0] = '\0';
	for (i = 0; i < UTIL_ARRAY_SIZE(paths) && off < len; i++) {
		if (stat(paths[i], &st))
			off += (size_t)snprintf(buf + off, len - off, " -");
		else
			off += (size_t)snprintf(buf + off, len - off, " %lld.%09ld",
						(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
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

	snprintf(path, sizeof(path), "%s/.candidate", cache);
	if (img_read_file(path, &text, &len))
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
	char path[400], tmp[420], text[1024];
	int n;

	snprintf(path, sizeof(path), "%s/.candidate", cache);
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	n = snprintf(text, sizeof(text), "%s\n%s %s %s %s\n", stamp, in->pkg, in->version, in->kver,
		     in->busybox);
	if (n <= 0 || (size_t)n >= sizeof(text) || img_mkdir_p(cache))
		return;
	if (img_write_file(tmp, text, (size_t)n) || rename(tmp, path))
		unlink(tmp);
}

/* Gather the inputs and hash them into key. */
static int img_inputs(const char *cache, struct img_inputs *in, char key[17], char *err,
		      size_t errlen)
{
	struct util_buf *t = &in->text;
	char stamp[512];
	size_t i;
	int r;

	memset(in, 0, sizeof(*in));
	util_buf_init(t);
	snprintf(stamp, sizeof(stamp), "vtb-candidate " IMG_KERNEL_PKG);
	img_apt_stamp(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp));
	if (!img_memo_get(cache, stamp, in)) {
		r = img_resolve_kernel(in, err, errlen);
		if (!r)
			r = img_busybox_version(in, err, errlen);
		if (r)
			return r;
		img_memo_put(cache, stamp, in);
	}
	util_buf_printf(t, "vtb guest image, layout %s\n", IMG_LAYOUT);
	util_buf_printf(t, "kernel %s %s\n", in->pkg, in->version);
	util_buf_printf(t, "busybox-static %s\n", in->busybox);
	util_buf_puts(t, "modules");
	for (i = 0; i < UTIL_ARRAY_SIZE(img_modules); i++)
		util_buf_printf(t, " %s", img_modules[i]);
	util_buf_puts(t, "\n");
	for (i = 0; i < UTIL_ARRAY_SIZE(img_etc); i++)
		util_buf_printf(t, "--- %s\n%s", img_etc[i].path, img_etc[i].text);
	util_buf_printf(t, "--- init\n%s", img_init_script);
	if (t->oom)
		return -ENOMEM;
	snprintf(key, 17, "%016llx", (unsigned long long)img_fnv64(t->s, t->len));
	return 0;
}

/* ---- newc cpio ---- */

struct img_cpio {
	struct util_buf b;
	uint32_t ino;
	struct util_map dirs; /* directories already written */
};

static void img_cpio_pad(struct util_buf *b)
{
	static const char zeros[4];

	if (b->len % 4)
		util_buf_append(b, zeros, 4 - b->len % 4);
}

/* Append one entry. Its parent directories must be there already. */
static void img_cpio_entry(struct img_cpio *c, const char *name, unsigned mode, unsigned rmaj,
			   unsigned rmin, const void *data, size_t len)
{
	util_buf_printf(&c->b, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
			++c->ino, mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, len, 0u, 0u, rmaj,
			rmin, strlen(name) + 1, 0u);
	util_buf_append(&c->b, name, strlen(name) + 1);
	img_cpio_pad(&c->b);
	if (len)
		util_buf_append(&c->b, data, len);
	img_cpio_pad(&c->b);
}

/* Append directory path and the parents not yet written. */
static void img_cpio_dirs(struct img_cpio *c, const char *path)
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
static void img_cpio_file(struct img_cpio *c, const char *name, unsigned mode, const void *data,
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

static void img_cpio_init(struct img_cpio *c)
{
	memset(c, 0, sizeof(*c));
	util_buf_init(&c->b);
	util_map_init(&c->dirs);
}

static void img_cpio_free(struct img_cpio *c)
{
	util_buf_free(&c->b);
	util_map_free(&c->dirs);
}

static void img_cpio_trailer(struct img_cpio *c)
{
	img_cpio_entry(c, "TRAILER!!!", 0, 0, 0, NULL, 0);
}

/* ---- ELF: module info, PVH note, static binaries ---- */

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
	size_t sz;

	*phdrs = NULL;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum > 256)
		return 0;
	sz = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
	*phdrs = malloc(sz ? sz : 1);
	if (!*phdrs)
		return -ENOMEM;
	if (pread(fd, *phdrs, sz, (off_t)eh.e_phoff) != (ssize_t)sz) {
		free(*phdrs);
		*phdrs = NULL;
		return 0;
	}
	return eh.e_phnum;
}

/* The ELF at path has a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), so
 * QEMU can boot it with -kernel. */
static bool img_has_pvh_note(const char *path)
{
	Elf64_Phdr *ph;
	bool found = false;
	int fd, n, i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = img_elf_phdrs(fd, &ph);
	for (i = 0; i < n && !found; i++) {
		uint8_t buf[4096];
		size_t off = 0, len;

		if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > sizeof(buf))
			continue;
		len = (size_t)ph[i].p_filesz;
		if (pread(fd, buf, len, (off_t)ph[i].p_offset) != (ssize_t)len)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= len) {
			Elf64_Nhdr nh;
			size_t name, desc;

			memcpy(&nh, buf + off, sizeof(nh));
			name = off + sizeof(nh);
			desc = name + ((nh.n_namesz + 3u) & ~3u);
			if (nh.n_namesz == 4 && desc <= len && !memcmp(buf + name, "Xen", 4) &&
			    nh.n_type == 18 /* XEN_ELFNOTE_PHYS32_ENTRY */)
				found = true;
			off = desc + ((nh.n_descsz + 3u) & ~3u);
		}
	}
	free(ph);
	close(fd);
	return found;
}

/* The program at path is statically linked (no PT_INTERP). */
static bool img_is_static(const char *path)
{
	Elf64_Phdr *ph;
	bool stat_ok;
	int fd, n, i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = img_elf_phdrs(fd, &ph);
	stat_ok = n > 0;
	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_INTERP)
			stat_ok = false;
	free(ph);
	close(fd);
	return stat_ok;
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

/* Put the kernel of the unpacked package (tmp/pkg) into tmp/out: the ELF
 * vmlinux when the bzImage's payload unpacks into one with a PVH note,
 * else the bzImage itself, as vmlinuz. */
static int img_kernel(const char *tmp, const struct img_inputs *in, img_progress_fn progress,
		      void *arg, char *err, size_t errlen)
{
	char bzpath[768], payload[600], dst[600];
	const struct img_unpacker *u;
	size_t off, plen, len;
	char *bz;
	int r;

	snprintf(bzpath, sizeof(bzpath), "%s/pkg/boot/vmlinuz-%s", tmp, in->kver);
	r = img_read_file(bzpath, &bz, &len);
	if (r) {
		util_fmt(err, errlen, "%s has no /boot/vmlinuz-%s: %s", in->pkg, in->kver, strerror(-r));
		return r;
	}
	u = img_bz_payload((const uint8_t *)bz, len, &off, &plen);
	if (u) {
		const char *argv[] = { u->tool, "-dc", NULL };
		struct img_cmd c = { .what = u->tool, .argv = argv, .in_path = payload, .out_path = dst };

		img_step(progress, arg, "unpacking the kernel (%s) into vmlinux", u->name);
		snprintf(payload, sizeof(payload), "%s/payload", tmp);
		snprintf(dst, sizeof(dst), "%s/out/vmlinux", tmp);
		r = img_write_file(payload, bz + off, plen);
		if (!r && !img_run(&c, NULL, 0) && img_has_pvh_note(dst)) {
			free(bz);
			return 0;
		}
		unlink(dst);
	}
	img_step(progress, arg, "keeping the compressed kernel (it boots more slowly)");
	/* keep the bzImage: slower to boot, but it boots */
	snprintf(dst, sizeof(dst), "%s/out/vmlinuz", tmp);
	r = img_write_file(dst, bz, len);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", dst, strerror(-r));
	free(bz);
	return r;
}

/* ---- the modules ---- */

struct img_mod {
	char name[64];  /* module name: '-' written '_' */
	char rel[256];  /* file under lib/modules/VER, always ".ko" */
	char *data;
	size_t len;
	uint64_t deps;  /* bit i: needs mods[i], directly or not */
};

struct img_mods {
	const char *root;  /* tmp/pkg/lib/modules/VER */
	char *order;       /* modules.order */
	struct img_mod v[IMG_MAX_MODULES];
	size_t n;          /* loaded, in load order */
	const char *tmp;
};

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
			return img_read_file(path, data, len);
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

static void img_mods_free(struct img_mods *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].data);
	free(m->order);
}

/* Load img_modules and their dependencies from the unpacked package. */
static int img_mods_load(struct img_mods *m, const char *root, char *err, size_t errlen)
{
	char path[700];
	size_t i, len, bit;
	int r;

	m->root = root;
	snprintf(path, sizeof(path), "%s/modules.order", root);
	r = img_read_file(path, &m->order, &len);
	if (r) {
		util_fmt(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	for (i = 0; i < UTIL_ARRAY_SIZE(img_modules); i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s", img_modules[i]);
		r = img_mod_add(m, name, 0, &bit, err, errlen);
		if (r)
			return r;
	}
	return 0;
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

/* Write tmp/out/initrd.img. */
static int img_initrd(const char *tmp, const struct img_inputs *in, const struct img_mods *m,
		      char *err, size_t errlen)
{
	static const char *const dirs[] = { "bin", "sbin", "usr/bin", "usr/sbin", "dev", "etc",
					    "proc", "sys", "run", "tmp", "root", "lib/modules" };
	struct img_cpio c;
	char path[600], *bb;
	size_t i, len;
	int r;

	if (!img_is_static(IMG_BUSYBOX)) {
		util_fmt(err, errlen, IMG_BUSYBOX " is not a static binary: install busybox-static");
		return -ENOEXEC;
	}
	r = img_read_file(IMG_BUSYBOX, &bb, &len);
	if (r) {
		util_fmt(err, errlen, "cannot read " IMG_BUSYBOX ": %s", strerror(-r));
		return r;
	}
	img_cpio_init(&c);
	for (i = 0; i < UTIL_ARRAY_SIZE(dirs); i++)
		img_cpio_dirs(&c, dirs[i]);
	img_cpio_entry(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0);
	img_cpio_file(&c, "bin/busybox", 0755, bb, len);
	free(bb);
	r = img_cpio_applets(&c, err, errlen);
	if (r)
		goto out_free;
	img_cpio_file(&c, "init", 0755, img_init_script, strlen(img_init_script));
	for (i = 0; i < UTIL_ARRAY_SIZE(img_etc); i++)
		img_cpio_file(&c, img_etc[i].path, 0644, img_etc[i].text, strlen(img_etc[i].text));
	img_cpio_mods(&c, m, in->kver);
	img_cpio_trailer(&c);
	if (c.b.oom) {
		r = -ENOMEM;
		goto out_free;
	}
	snprintf(path, sizeof(path), "%s/out/initrd.img", tmp);
	r = img_write_file(path, c.b.s, c.b.len);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", path, strerror(-r));
out_free:
	img_cpio_free(&c);
	return r;
}

/* ---- the build ---- */

/* The one .deb in dir, into buf. */
static int img_find_deb(const char *dir, char *buf, size_t len)
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
		if (n > 4 && !strcmp(d->d_name + n - 4, ".deb")) {
			snprintf(buf, len, "%s/%s", dir, d->d_name);
			r = 0;
			break;
		}
	}
	closedir(dh);
	return r;
}

/* Download and unpack the kernel package into tmp/pkg. */
static int img_fetch(const char *tmp, const struct img_inputs *in, img_progress_fn progress,
		     void *arg, char *err, size_t errlen)
{
	char spec[200], what[300], deb[1024], pkgdir[600];
	const char *dl[] = { "apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", spec, NULL };
	const char *x[] = { "dpkg-deb", "-x", deb, pkgdir, NULL };
	struct img_cmd c = { .what = what, .argv = dl, .cwd = tmp };
	int r;

	snprintf(spec, sizeof(spec), "%s=%s", in->pkg, in->version);
	snprintf(what, sizeof(what), "apt-get download %s", spec);
	img_step(progress, arg, "downloading %s %s", in->pkg, in->version);
	r = img_run(&c, err, errlen);
	if (r == -ENOENT)
		util_fmt(err, errlen, "apt-get is missing: the guest image needs Debian's apt");
	if (r)
		return r;
	r = img_find_deb(tmp, deb, sizeof(deb));
	if (r) {
		util_fmt(err, errlen, "%s left no .deb in %s", what, tmp);
		return r;
	}
	snprintf(pkgdir, sizeof(pkgdir), "%s/pkg", tmp);
	snprintf(what, sizeof(what), "dpkg-deb -x %s", strrchr(deb, '/') + 1);
	c.argv = x;
	c.cwd = NULL;
	img_step(progress, arg, "unpacking %s", in->pkg);
	r = img_run(&c, err, errlen);
	unlink(deb);
	return r;
}

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
	r = img_mods_load(m, root, err, errlen);
	if (!r) {
		img_step(progress, arg, "writing the initramfs (%zu modules)", m->n);
		r = img_initrd(tmp, in, m, err, errlen);
	}
	img_mods_free(m);
	free(m);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/out/inputs", tmp);
	r = img_write_file(path, in->text.s, in->text.len);
	if (r)
		util_fmt(err, errlen, "cannot write %s: %s", path, strerror(-r));
	return r;
}

/* Fill out for the image in dir; true when it is complete. */
static bool img_lookup(const char *dir, const struct img_inputs *in, const char *key,
		       struct img_paths *out)
{
	static const char *const kernels[] = { "vmlinux", "vmlinuz" };
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
			img_rm_tree(path);
		}
	closedir(dir);
}

/* A cache hit also clears what a crashed build left, when no build runs
 * now (the lock is free): a crash can leave a tool such as dpkg-deb
 * writing into its build directory for a few seconds after the sweep of
 * the next build, and the next build may be far away. */
static void img_sweep_if_idle(const char *cache)
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

/* Build the image for key into dir (with the lock held), atomically. */
static int img_build_locked(const char *cache, const char *dir, const struct img_inputs *in,
			    const char *key, img_progress_fn progress, void *arg, char *err,
			    size_t errlen)
{
	char tmp[400], out[500];
	int r;

	img_sweep(cache);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-XXXXXX", cache, key);
	if (!mkdtemp(tmp)) {
		r = -errno;
		util_fmt(err, errlen, "cannot create a build directory in %s: %s", cache, strerror(-r));
		return r;
	}
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
	img_rm_tree(tmp);
	return r;
}

int img_ensure(const char *cache_dir, bool force, img_progress_fn progress, void *arg,
	       struct img_paths *out, char *err, size_t errlen)
{
	const char *cache = cache_dir ? cache_dir : IMG_CACHE_DIR;
	struct img_inputs in;
	char key[17], dir[400], lock[400];
	int r, fd;

	util_fmt(err, errlen, "%s", "");
	memset(out, 0, sizeof(*out));
	if (strlen(cache) > 300) {
		util_fmt(err, errlen, "the cache directory's name is too long: %s", cache);
		return -ENAMETOOLONG;
	}
	r = img_inputs(cache, &in, key, err, errlen);
	if (r)
		goto out_free;
	snprintf(dir, sizeof(dir), "%s/%s", cache, key);
	if (!force && img_lookup(dir, &in, key, out)) {
		/* a complete image: the rename made it appear whole */
		img_sweep_if_idle(cache);
		goto out_free;
	}
	r = img_mkdir_p(cache);
	if (r) {
		util_fmt(err, errlen, "cannot create %s: %s", cache, strerror(-r));
		goto out_free;
	}
	snprintf(lock, sizeof(lock), "%s/.lock", cache);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		r = -errno;
		util_fmt(err, errlen, "cannot lock %s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
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

/* ---- the per-VM configuration ---- */

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

/* Copy in (from its start) to out, in the kernel when it can. Returns the
 * number of bytes or -errno. */
static ssize_t img_copy(int in, int out)
{
	char buf[65536];
	ssize_t n, total = 0;

	for (;;) {
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && total == 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
					   errno == EOPNOTSUPP))
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			return total;
		total += n;
	}
	for (;;) {
		int r;

		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return total;
		r = img_write_all(out, buf, (size_t)n);
		if (r)
			return r;
		total += n;
	}
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
	out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		r = -errno;
		goto out_close_in;
	}
	n = img_copy(in, out);
	r = n < 0 ? (int)n : 0;
	/* the kernel looks for the next archive at a 4-byte boundary */
	if (!r && n % 4)
		r = img_write_all(out, zeros, (size_t)(4 - n % 4));
	if (!r)
		r = img_write_all(out, c.b.s, c.b.len);
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

const char *img_cmdline(void)
{
	/* Each of these saves a little of a TCG boot: cryptomgr.notests skips
	 * the crypto self-tests (0.4 s), mitigations=off the patching for CPU
	 * bugs (the guest runs no untrusted code they would contain),
	 * no_timer_check the timer IRQ test, 8250.nr_uarts=1 and i8042.noaux
	 * probing of ports that are not there. */
	return "console=ttyS0 quiet panic=-1 cryptomgr.notests mitigations=off no_timer_check "
	       "8250.nr_uarts=1 i8042.noaux";
}
