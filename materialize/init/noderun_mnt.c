/* noderun_mnt: a container node's own mounts (see noderun.h), made by
 * vtb-init in the node's copy of the template mount namespace (noderun.c
 * makes the template): /run, /tmp, /dev, /sys and its private
 * directories. */
#include "noderun_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/fsuid.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "file.h"

/* How deep a seed directory is copied: deeper trees are refused (each
 * level holds a directory buffer and a path on the helper's stack). */
#define NR_SEED_DEPTH 32

unsigned nr_shift(const struct noderun_spec *s, unsigned id)
{
	return !s->privileged && id < VTB_UID_COUNT ? VTB_UID_BASE + id : id;
}

static char *nr_utoa(char *end, unsigned long v)
{
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

static void nr_append(char *buf, size_t len, const char *str)
{
	size_t n = strlen(buf);

	while (*str && n + 1 < len)
		buf[n++] = *str++;
	buf[n] = '\0';
}

static void nr_append_u(char *buf, size_t len, unsigned long v)
{
	char t[24];

	t[23] = '\0';
	nr_append(buf, len, nr_utoa(t + 23, v));
}

static void nr_append_oct(char *buf, size_t len, unsigned mode)
{
	char t[8] = "0000";
	int i;

	for (i = 3; i >= 0; i--, mode >>= 3)
		t[i] = (char)('0' + (mode & 7));
	nr_append(buf, len, t);
}

/* A tmpfs at path owned by (uid, gid) (host ids) with mode and mount
 * flags. Returns 0 or a negative errno. */
static int nr_tmpfs(const char *path, unsigned mode, unsigned uid, unsigned gid,
		    unsigned long flags)
{
	char opt[96] = "mode=";

	nr_append_oct(opt, sizeof(opt), mode);
	nr_append(opt, sizeof(opt), ",uid=");
	nr_append_u(opt, sizeof(opt), uid);
	nr_append(opt, sizeof(opt), ",gid=");
	nr_append_u(opt, sizeof(opt), gid);
	return mount("tmpfs", path, "tmpfs", flags, opt) ? -errno : 0;
}

/* The node's own tmpfs directories (nr_mount_dirs mounts them where the
 * host has them). */
static const struct {
	const char *path;
	unsigned mode;
} nr_dirs[] = { { "/run", 0755 }, { "/var/run", 0755 }, { "/tmp", 01777 },
		{ "/var/tmp", 01777 }, { "/root", 0700 } };

/* The node's own /run, /tmp, /var/tmp and /root (each when the host has
 * that directory), and /var/run when it is a directory and not the usual
 * symlink to /run. */
static int nr_mount_dirs(const struct noderun_spec *s)
{
	unsigned root = nr_shift(s, 0);
	struct stat st;
	size_t i;
	int r;

	for (i = 0; i < sizeof(nr_dirs) / sizeof(nr_dirs[0]); i++) {
		if (lstat(nr_dirs[i].path, &st) || !S_ISDIR(st.st_mode))
			continue;
		r = nr_tmpfs(nr_dirs[i].path, nr_dirs[i].mode, root, root, MS_NOSUID | MS_NODEV);
		if (r)
			return r;
	}
	return 0;
}

/* The node's /dev: a tmpfs with the harmless devices, the usual links, its
 * own devpts instance and /dev/shm. */
static int nr_mount_dev(const struct noderun_spec *s)
{
	static const struct {
		const char *path;
		unsigned major, minor;
	} devs[] = { { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
		     { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 } };
	static const char *const links[][2] = { { "/proc/self/fd", "/dev/fd" },
						{ "/proc/self/fd/0", "/dev/stdin" },
						{ "/proc/self/fd/1", "/dev/stdout" },
						{ "/proc/self/fd/2", "/dev/stderr" },
						{ "pts/ptmx", "/dev/ptmx" } };
	char opt[96] = "newinstance,ptmxmode=0666,mode=0620,gid=";
	unsigned root = nr_shift(s, 0);
	size_t i;
	int r;

	r = nr_tmpfs("/dev", 0755, root, root, MS_NOSUID | MS_NOEXEC);
	if (r)
		return r;
	for (i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		if (mknod(devs[i].path, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor)))
			return -errno;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]))
			return -errno;
	if (mkdir("/dev/pts", 0755) || mkdir("/dev/shm", 01777))
		return -errno;
	nr_append_u(opt, sizeof(opt), nr_shift(s, 5)); /* tty */
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, opt))
		return -errno;
	return nr_tmpfs("/dev/shm", 01777, root, root, MS_NOSUID | MS_NODEV);
}

/* Whether path is strictly under one of the node's own tmpfs directories
 * (one the host has: the node's is mounted there). */
static bool nr_in_tmpfs(const char *path)
{
	struct stat st;
	size_t i, n;

	for (i = 0; i < sizeof(nr_dirs) / sizeof(nr_dirs[0]); i++) {
		n = strlen(nr_dirs[i].path);
		if (!strncmp(path, nr_dirs[i].path, n) && path[n] == '/' &&
		    !stat(nr_dirs[i].path, &st) && S_ISDIR(st.st_mode))
			return true;
	}
	return false;
}

/* See noderun_int.h. A directory under the node's tmpfs is made there
 * later (nr_mount_priv); any other must exist on the host: vtb never
 * makes anything in the host's tree. */
int nr_priv_check(const struct noderun_spec *s, int *step, int *arg)
{
	struct stat st;
	size_t i;

	for (i = 0; i < s->npriv; i++) {
		const char *path = s->priv[i].path;

		*arg = (int)i;
		*step = NR_PRIV;
		if (path[0] != '/' || !path[1])
			return -EINVAL;
		if (nr_in_tmpfs(path))
			continue;
		if (stat(path, &st)) {
			if (errno == ENOENT)
				*step = NR_PRIV_MISSING;
			return -errno;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}

/* Make path and its missing parents in the node's tree (all under one of
 * its tmpfs), owned by node root: made as node root's file system ids (the
 * helper is single-threaded, and its file capabilities come back with
 * fsuid 0). Returns 0 or a negative errno. */
static int nr_mkdirs(const struct noderun_spec *s, const char *path)
{
	unsigned root = nr_shift(s, 0);
	int r;

	setfsgid(root);
	setfsuid(root);
	r = file_mkdir_p(path, 0755);
	setfsuid(0);
	setfsgid(0);
	return r;
}

static int nr_copy_dir(const struct noderun_spec *s, int src, int dst, int depth);

/* Copy regular file name from src to dst (directory fds) with mode. */
static int nr_copy_file(int src, int dst, const char *name, const struct stat *st)
{
	int in, out, r = 0;
	ssize_t n;

	in = openat(src, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0) {
		r = -errno;
		goto out_close_in;
	}
	while ((n = sendfile(out, in, NULL, 1 << 30)) > 0)
		;
	if (n < 0)
		r = -errno;
	close(out);
out_close_in:
	close(in);
	return r;
}

/* Copy one entry of src named name into dst, with its owner shifted. */
static int nr_copy_entry(const struct noderun_spec *s, int src, int dst, const char *name,
			 int depth)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int r = 0, a, b;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dst, name, st.st_mode & 07777))
			return -errno;
		a = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		b = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = a < 0 || b < 0 ? -errno : nr_copy_dir(s, a, b, depth + 1);
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	} else if (S_ISREG(st.st_mode)) {
		r = nr_copy_file(src, dst, name, &st);
	} else if (S_ISLNK(st.st_mode)) {
		n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, dst, name))
			return -errno;
	} else {
		return 0; /* devices, fifos, sockets: not part of a seed */
	}
	if (!r && fchownat(dst, name, nr_shift(s, st.st_uid), nr_shift(s, st.st_gid),
			   AT_SYMLINK_NOFOLLOW))
		r = -errno;
	return r;
}

/* Copy directory src's entries into dst, recursively (getdents64: no
 * malloc). Returns 0 or a negative errno. */
static int nr_copy_dir(const struct noderun_spec *s, int src, int dst, int depth)
{
	char buf[4096];
	long n, off;
	int r = 0;

	if (depth > NR_SEED_DEPTH)
		return -ELOOP;
	while (!r && (n = syscall(SYS_getdents64, src, buf, sizeof(buf))) > 0)
		for (off = 0; !r && off < n;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);

			off += e->d_reclen;
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				r = nr_copy_entry(s, src, dst, e->d_name, depth);
		}
	if (!r && n < 0)
		r = -errno;
	return r;
}

/* Private directory p: a tmpfs with the host directory's owner and mode
 * (shifted into the node), seeded with a copy of p->seed. */
static int nr_mount_priv(const struct noderun_spec *s, const struct rz_private *p, int host_root,
			 int *step)
{
	struct stat st;
	int src, dst, r;

	*step = NR_PRIV;
	if (fstatat(host_root, p->path + 1, &st, 0)) {
		/* none on the host (nr_priv_check): node root's, in its tmpfs */
		if (errno != ENOENT || !nr_in_tmpfs(p->path))
			return -errno;
		st = (struct stat){ .st_mode = 0755 };
	}
	if (nr_in_tmpfs(p->path)) {
		r = nr_mkdirs(s, p->path);
		if (r)
			return r;
	}
	r = nr_tmpfs(p->path, st.st_mode & 07777, nr_shift(s, st.st_uid), nr_shift(s, st.st_gid),
		     MS_NOSUID | MS_NODEV);
	if (r || !p->seed)
		return r;
	*step = NR_SEED;
	src = openat(host_root, p->seed[0] == '/' ? p->seed + 1 : p->seed,
		     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src < 0)
		return -errno;
	dst = open(p->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = dst < 0 ? -errno : nr_copy_dir(s, src, dst, 0);
	if (dst >= 0)
		close(dst);
	close(src);
	return r;
}

int nr_mount_node(const struct noderun_spec *s, int host_root, int *step, int *arg)
{
	size_t i;
	int r;

	*step = NR_RUN;
	r = nr_mount_dirs(s);
	if (!r) {
		*step = NR_DEV;
		r = nr_mount_dev(s);
	}
	if (!r) {
		*step = NR_SYS;
		if (mount("sysfs", "/sys", "sysfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC | (s->privileged ? 0 : MS_RDONLY), NULL))
			r = -errno;
	}
	for (i = 0; !r && i < s->npriv; i++) {
		*arg = (int)i;
		r = nr_mount_priv(s, &s->priv[i], host_root, step);
	}
	return r;
}
