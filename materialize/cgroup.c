/* cgroup: the enforced limits of nodes (see cgroup.h, docs/limits.md). */
#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/* A cgroup mount of mountinfo. */
struct cg_mount {
	char mnt[CG_PATH];
	char root[CG_PATH];
	unsigned ctrl;
	bool v2;
	bool freezer;         /* v1's freezer controller */
};

#define CG_MAXMNT 16

static const struct {
	const char *name;
	unsigned bit;
} cg_ctrls[] = {
	{ "cpu", CG_CPU }, { "cpuacct", CG_CPUACCT }, { "cpuset", CG_CPUSET }, { "memory", CG_MEMORY },
};

/* The controller bits named in a comma or space separated list. */
static unsigned cg_ctrl_bits(const char *list)
{
	char buf[CG_PATH], *save = NULL, *w;
	unsigned bits = 0;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", list);
	for (w = strtok_r(buf, ", \n", &save); w; w = strtok_r(NULL, ", \n", &save))
		for (i = 0; i < UTIL_ARRAY_SIZE(cg_ctrls); i++)
			if (!strcmp(w, cg_ctrls[i].name))
				bits |= cg_ctrls[i].bit;
	return bits;
}

/* Whether word is one of the comma separated words of list. */
static bool cg_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p;

	for (p = strstr(list, word); p; p = strstr(p + 1, word))
		if ((p == list || p[-1] == ',') && (p[wl] == ',' || !p[wl]))
			return true;
	return false;
}

/* Read the small file dir/name into buf (NUL-terminated). 0 or -errno. */
static int cg_read(const char *dir, const char *name, char *buf, size_t len)
{
	char path[CG_PATH * 3];
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		r = -errno;
	buf[n < 0 ? 0 : n] = '\0';
	close(fd);
	return r;
}

/* Write text to the file dir/name. 0 or -errno (err says which file when
 * given). O_CREAT opens an existing cgroup file as usual and makes the
 * file in a unit test's fake tree; cgroupfs itself creates nothing (a
 * missing file fails there, with EACCES). */
static int cg_write(const char *dir, const char *name, const char *text, char *err,
		    size_t errlen)
{
	char path[CG_PATH * 3];
	size_t len = strlen(text);
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r && err)
		util_fmt(err, errlen, "cannot write %s to %s: %s", text, path, strerror(-r));
	return r;
}

static bool cg_has(const char *dir, const char *name)
{
	char path[CG_PATH * 3];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The value of "key N" in the file dir/name, 0 when absent. */
static uint64_t cg_keyed(const char *dir, const char *name, const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (cg_read(dir, name, buf, sizeof(buf)))
		return 0;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

/* The cgroup mounts listed in mountinfo (at most CG_MAXMNT). 0 or -errno. */
static int cg_mounts(const char *mountinfo, struct cg_mount *m, size_t *n)
{
	FILE *f = fopen(mountinfo, "re");
	char line[4096];

	*n = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && *n < CG_MAXMNT) {
		char root[CG_PATH], mnt[CG_PATH], fstype[32], opts[CG_PATH];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, opts) != 2)
			continue;
		if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
			continue;
		m[*n] = (struct cg_mount){ .v2 = !strcmp(fstype, "cgroup2"),
					   .ctrl = cg_ctrl_bits(opts) };
		snprintf(m[*n].mnt, CG_PATH, "%s", mnt);
		snprintf(m[*n].root, CG_PATH, "%s", root);
		if (m[*n].v2)
			m[*n].ctrl = 0;
		m[*n].freezer = !m[*n].v2 && cg_word(opts, "freezer");
		(*n)++;
	}
	fclose(f);
	return 0;
}

/* The path of the cgroup of controller ctrl (0: v2's) in the
 * /proc/PID/cgroup file self into path; "" when not listed. */
static void cg_self_path(const char *self, unsigned ctrl, char *path, size_t len)
{
	FILE *f = fopen(self, "re");
	char line[CG_PATH + 64], *a, *b;

	path[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		a = strchr(line, ':');
		b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = '\0';
		if (ctrl ? (cg_ctrl_bits(a + 1) & ctrl) != 0 : a[1] == '\0') {
			snprintf(path, len, "%s", b + 1);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* mount m's directory of cgroup path (as /proc/PID/cgroup shows it) */
static void cg_mount_path(const struct cg_mount *m, const char *path, char *out, size_t len)
{
	size_t rl = strlen(m->root);

	if (!strcmp(m->root, "/"))
		rl = 0;
	else if (strncmp(path, m->root, rl))
		rl = 0;
	snprintf(out, len, "%s%s", m->mnt, !strcmp(path + rl, "/") ? "" : path + rl);
}

/* The v2 hierarchy, when it has the cpu and memory controllers. */
static bool cg_detect_v2(const struct cg_mount *m, size_t n, struct cg_host *h)
{
	char ctl[256];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!m[i].v2 || cg_read(m[i].mnt, "cgroup.controllers", ctl, sizeof(ctl)))
			continue;
		if ((cg_ctrl_bits(ctl) & (CG_CPU | CG_MEMORY)) != (CG_CPU | CG_MEMORY))
			continue;
		h->ver = CG_V2;
		h->n = 1;
		memcpy(h->mnt[0], m[i].mnt, CG_PATH);
		h->parent[0].ctrl = cg_ctrl_bits(ctl) & (CG_CPU | CG_MEMORY | CG_CPUSET);
		memcpy(h->parent[0].path, m[i].mnt, CG_PATH);
		return true;
	}
	return false;
}

/* See cgroup.h. v1: one hierarchy per mount that has one of our
 * controllers (cpu and cpuacct are often mounted together). */
int cg_detect(const char *mountinfo, const char *self, struct cg_host *h)
{
	struct cg_mount m[CG_MAXMNT];
	unsigned have = 0;
	char path[CG_PATH];
	size_t n, i;
	int r;

	memset(h, 0, sizeof(*h));
	r = cg_mounts(mountinfo, m, &n);
	if (r || cg_detect_v2(m, n, h))
		return r;
	for (i = 0; i < n && h->n < CG_MAXH; i++) {
		if (m[i].v2 || !m[i].ctrl)
			continue;
		cg_self_path(self, m[i].ctrl, path, sizeof(path));
		memcpy(h->mnt[h->n], m[i].mnt, CG_PATH);
		cg_mount_path(&m[i], path[0] ? path : "/", h->parent[h->n].path, CG_PATH);
		h->parent[h->n++].ctrl = m[i].ctrl;
		have |= m[i].ctrl;
	}
	h->ver = (have & (CG_CPU | CG_MEMORY)) == (CG_CPU | CG_MEMORY) ? CG_V1 : CG_NONE;
	if (h->ver == CG_NONE)
		h->n = 0;
	return 0;
}

int cg_exp_of(const struct cg_host *h, const char *id, struct cg_exp *e)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	if (h->ver == CG_NONE)
		return -ENOTSUP;
	e->ver = h->ver;
	e->n = h->n;
	for (i = 0; i < h->n; i++) {
		e->d[i].ctrl = h->parent[i].ctrl;
		if ((size_t)snprintf(e->d[i].path, CG_PATH, "%s/vtb%s", h->parent[i].path, id) >=
		    CG_PATH)
			return -ENAMETOOLONG;
	}
	return 0;
}

/* The controllers of the cgroup directory dir, from the files it has. */
static unsigned cg_dir_ctrl(const char *dir)
{
	unsigned c = 0;

	if (cg_has(dir, "cpu.max") || cg_has(dir, "cpu.cfs_quota_us"))
		c |= CG_CPU;
	if (cg_has(dir, "cpuacct.usage"))
		c |= CG_CPUACCT;
	if (cg_has(dir, "cpuset.cpus"))
		c |= CG_CPUSET;
	if (cg_has(dir, "memory.max") || cg_has(dir, "memory.limit_in_bytes"))
		c |= CG_MEMORY;
	return c;
}

int cg_exp_from_rows(const struct db_obj *rows, size_t n, struct cg_exp *e)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < n && e->n < CG_MAXH; i++) {
		/* a freezer's (vtb node stop) holds no limits */
		if (rows[i].kind != DB_CGROUP || cg_has(rows[i].name, "freezer.state"))
			continue;
		snprintf(e->d[e->n].path, CG_PATH, "%s", rows[i].name);
		e->d[e->n].ctrl = cg_dir_ctrl(rows[i].name);
		e->ver = cg_has(rows[i].name, "cgroup.controllers") ? CG_V2 : CG_V1;
		e->n++;
	}
	return e->n ? 0 : -ENOENT;
}

/* v1 cpuset: a new cgroup has no cpus and mems; copy its parent's (or
 * take cpus when given). 0 or -errno with err. */
static int cg_cpuset_init(const char *dir, const char *cpus, char *err, size_t errlen)
{
	char parent[CG_PATH], val[256];
	int r;

	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	r = cg_read(parent, "cpuset.mems", val, sizeof(val));
	if (!r)
		r = cg_write(dir, "cpuset.mems", val, err, errlen);
	if (!r && !(cpus && *cpus))
		r = cg_read(parent, "cpuset.cpus", val, sizeof(val));
	if (!r)
		r = cg_write(dir, "cpuset.cpus", cpus && *cpus ? cpus : val, err, errlen);
	else if (!err[0])
		util_fmt(err, errlen, "cannot read the cpuset of %s: %s", parent, strerror(-r));
	return r;
}

/* v2: enable the controllers of ctrl for dir's children. */
static int cg_enable(const char *dir, unsigned ctrl, char *err, size_t errlen)
{
	size_t i;
	char w[16];
	int r = 0;

	for (i = 0; i < UTIL_ARRAY_SIZE(cg_ctrls) && !r; i++)
		if (ctrl & cg_ctrls[i].bit) {
			snprintf(w, sizeof(w), "+%s", cg_ctrls[i].name);
			r = cg_write(dir, "cgroup.subtree_control", w, err, errlen);
		}
	return r;
}

int cg_exp_create(const struct cg_exp *e, char *err, size_t errlen)
{
	char parent[CG_PATH];
	size_t i;
	int r = 0;

	err[0] = '\0';
	for (i = 0; i < e->n && !r; i++) {
		const struct cg_dir *d = &e->d[i];

		snprintf(parent, sizeof(parent), "%s", d->path);
		*strrchr(parent, '/') = '\0';
		if (e->ver == CG_V2)
			r = cg_enable(parent, d->ctrl, err, errlen);
		if (!r && mkdir(d->path, 0755)) {
			r = -errno;
			util_fmt(err, errlen, "cannot create the cgroup %s: %s", d->path,
				 strerror(errno));
		}
		if (!r && e->ver == CG_V2)
			r = cg_enable(d->path, d->ctrl, err, errlen);
		if (!r && e->ver == CG_V1 && (d->ctrl & CG_CPUSET))
			r = cg_cpuset_init(d->path, NULL, err, errlen);
	}
	return r;
}

/* d's child for node into buf. */
static void cg_child(const struct cg_dir *d, const char *node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->path, node);
}

int cg_node_create(const struct cg_exp *e, const char *node, const struct cg_limits *l,
		   char *err, size_t errlen)
{
	char dir[CG_PATH + 140];
	size_t i;
	int r = 0;

	err[0] = '\0';
	for (i = 0; i < e->n && !r; i++) {
		cg_child(&e->d[i], node, dir, sizeof(dir));
		/* the experiment's cgroup is new and ours: a child there is too */
		if (mkdir(dir, 0755) && errno != EEXIST) {
			r = -errno;
			util_fmt(err, errlen, "cannot create the cgroup %s: %s", dir,
				 strerror(errno));
		}
		if (!r && e->ver == CG_V1 && (e->d[i].ctrl & CG_CPUSET))
			r = cg_cpuset_init(dir, l->cpus, err, errlen);
	}
	return r ? r : cg_node_set(e, node, l, err, errlen);
}

/* v1 memory: the limit and, where the kernel accounts swap, the same
 * limit on memory + swap (no swap), else swappiness 0. memsw must never
 * be below the limit, so a raise writes memsw first. */
static int cg_v1_memory(const char *dir, uint64_t bytes, char *err, size_t errlen)
{
	char v[32];
	int r;

	snprintf(v, sizeof(v), "%" PRId64, bytes ? (int64_t)bytes : -1);
	if (!cg_has(dir, "memory.memsw.limit_in_bytes")) {
		r = cg_write(dir, "memory.limit_in_bytes", v, err, errlen);
		if (!r && cg_has(dir, "memory.swappiness"))
			r = cg_write(dir, "memory.swappiness", bytes ? "0" : "60", err, errlen);
		return r;
	}
	r = cg_write(dir, "memory.limit_in_bytes", v, NULL, 0);
	if (!r)
		return cg_write(dir, "memory.memsw.limit_in_bytes", v, err, errlen);
	r = cg_write(dir, "memory.memsw.limit_in_bytes", v, err, errlen);
	return r ? r : cg_write(dir, "memory.limit_in_bytes", v, err, errlen);
}

/* Write l into node's child in hierarchy d. */
static int cg_set_one(enum cg_ver ver, const char *dir, unsigned ctrl, const struct cg_limits *l,
		      char *err, size_t errlen)
{
	char v[64];
	int r = 0;

	if (ver == CG_V2) {
		if (l->cpu_milli)
			snprintf(v, sizeof(v), "%" PRIu64 " %d",
				 l->cpu_milli * CG_PERIOD_US / 1000, CG_PERIOD_US);
		else
			snprintf(v, sizeof(v), "max %d", CG_PERIOD_US);
		r = cg_write(dir, "cpu.max", v, err, errlen);
		snprintf(v, sizeof(v), "%" PRIu64, l->memory);
		if (!r)
			r = cg_write(dir, "memory.max", l->memory ? v : "max", err, errlen);
		if (!r && cg_has(dir, "memory.swap.max"))
			r = cg_write(dir, "memory.swap.max", l->memory ? "0" : "max", err, errlen);
		/* an OOM kill takes the one process, not the node's whole cgroup */
		if (!r && cg_has(dir, "memory.oom.group"))
			r = cg_write(dir, "memory.oom.group", "0", err, errlen);
		if (!r && l->cpus[0] && (ctrl & CG_CPUSET))
			r = cg_write(dir, "cpuset.cpus", l->cpus, err, errlen);
		return r;
	}
	if (ctrl & CG_CPU) {
		snprintf(v, sizeof(v), "%d", CG_PERIOD_US);
		r = cg_write(dir, "cpu.cfs_period_us", v, err, errlen);
		snprintf(v, sizeof(v), "%" PRId64,
			 l->cpu_milli ? (int64_t)(l->cpu_milli * CG_PERIOD_US / 1000) : -1);
		if (!r)
			r = cg_write(dir, "cpu.cfs_quota_us", v, err, errlen);
	}
	if (!r && (ctrl & CG_MEMORY))
		r = cg_v1_memory(dir, l->memory, err, errlen);
	if (!r && (ctrl & CG_CPUSET) && l->cpus[0])
		r = cg_write(dir, "cpuset.cpus", l->cpus, err, errlen);
	return r;
}

int cg_node_set(const struct cg_exp *e, const char *node, const struct cg_limits *l, char *err,
		size_t errlen)
{
	char dir[CG_PATH + 140];
	struct stat st;
	size_t i;
	int r = 0;

	for (i = 0; i < e->n && !r; i++) {
		cg_child(&e->d[i], node, dir, sizeof(dir));
		if (stat(dir, &st)) {
			util_fmt(err, errlen, "%s: %s", dir, strerror(errno));
			return -errno;
		}
		r = cg_set_one(e->ver, dir, e->d[i].ctrl, l, err, errlen);
	}
	return r;
}

int cg_node_attach(const struct cg_exp *e, const char *node, pid_t pid)
{
	char dir[CG_PATH + 140], v[24];
	size_t i;
	int r = 0;

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (i = 0; i < e->n && !r; i++) {
		cg_child(&e->d[i], node, dir, sizeof(dir));
		r = cg_write(dir, "cgroup.procs", v, NULL, 0);
	}
	return r;
}

/* Open path (a cgroup.procs) for writing as fds[*n]; on failure, close
 * fds[0..*n) too. 0 or -errno. */
static int cg_procs_add(const char *path, int *fds, size_t *n)
{
	int r;

	fds[*n] = open(path, O_WRONLY | O_CLOEXEC);
	if (fds[*n] >= 0) {
		(*n)++;
		return 0;
	}
	r = -errno;
	for (; *n > 0; (*n)--)
		close(fds[*n - 1]);
	return r;
}

int cg_node_procs_open(const struct cg_exp *e, const char *node, int *fds, size_t *n)
{
	char path[CG_PATH + 160];
	size_t i;
	int r = 0;

	*n = 0;
	for (i = 0; i < e->n && !r; i++) {
		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", e->d[i].path, node);
		r = cg_procs_add(path, fds, n);
	}
	return r;
}

int cg_procs_join(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (write(fds[i], "0", 1) != 1)
			return -errno;
	return 0;
}

/* Whether cgroup path has a component "vtb<hex>" (an experiment's). */
static bool cg_path_is_vtb(const char *path)
{
	const char *p;

	for (p = strstr(path, "/vtb"); p; p = strstr(p + 1, "/vtb")) {
		const char *q = p + 4;

		while (isxdigit((unsigned char)*q))
			q++;
		if (q > p + 4 && (*q == '/' || !*q))
			return true;
	}
	return false;
}

int cg_join_open(pid_t pid, int *fds, size_t *n)
{
	struct cg_mount m[CG_MAXMNT];
	char self[64], path[CG_PATH], dir[CG_PATH * 2 + 16];
	size_t nm, i;
	int r;

	*n = 0;
	r = cg_mounts("/proc/self/mountinfo", m, &nm);
	snprintf(self, sizeof(self), "/proc/%d/cgroup", (int)pid);
	for (i = 0; i < nm && !r && *n < CG_MAXH; i++) {
		if (!m[i].v2 && !m[i].ctrl)
			continue;
		cg_self_path(self, m[i].ctrl, path, sizeof(path));
		if (!cg_path_is_vtb(path))
			continue;
		cg_mount_path(&m[i], path, dir, CG_PATH * 2);
		strcat(dir, "/cgroup.procs");
		r = cg_procs_add(dir, fds, n);
	}
	return r;
}

/* A v1 value of "no limit" is a huge number (PAGE_COUNTER_MAX pages). */
static uint64_t cg_v1_limit(const char *dir, const char *name)
{
	char buf[64];
	long long v;

	if (cg_read(dir, name, buf, sizeof(buf)))
		return 0;
	v = strtoll(buf, NULL, 10);
	return v <= 0 || v >= (1LL << 60) ? 0 : (uint64_t)v;
}

int cg_node_stats(const struct cg_exp *e, const char *node, struct cg_stats *s)
{
	char dir[CG_PATH + 140], buf[64];
	unsigned long long q = 0, p = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < e->n; i++) {
		cg_child(&e->d[i], node, dir, sizeof(dir));
		if (access(dir, F_OK))
			return -errno;
		if (e->ver == CG_V2) {
			s->usage_us = cg_keyed(dir, "cpu.stat", "usage_usec");
			s->oom_kills = cg_keyed(dir, "memory.events", "oom_kill");
			if (!cg_read(dir, "cpu.max", buf, sizeof(buf)) &&
			    sscanf(buf, "%llu %llu", &q, &p) == 2 && p)
				s->lim.cpu_milli = q * 1000 / p;
			if (!cg_read(dir, "memory.max", buf, sizeof(buf)))
				s->lim.memory = strtoull(buf, NULL, 10);
			continue;
		}
		if ((e->d[i].ctrl & CG_CPUACCT) && !cg_read(dir, "cpuacct.usage", buf, sizeof(buf)))
			s->usage_us = strtoull(buf, NULL, 10) / 1000;
		if (e->d[i].ctrl & CG_MEMORY) {
			s->oom_kills = cg_keyed(dir, "memory.oom_control", "oom_kill");
			s->lim.memory = cg_v1_limit(dir, "memory.limit_in_bytes");
		}
		if (e->d[i].ctrl & CG_CPU) {
			q = cg_v1_limit(dir, "cpu.cfs_quota_us");
			p = cg_v1_limit(dir, "cpu.cfs_period_us");
			s->lim.cpu_milli = p ? q * 1000 / p : 0;
		}
	}
	return 0;
}

/* Kill what is in cgroup dir and wait until it has ended. 0 or -errno. */
static int cg_empty(const char *dir, int timeout_ms)
{
	char buf[4096], *p, *end;
	int r, guard;

	/* a process forking while we kill shows up in the next read */
	for (guard = 0; guard < 64; guard++) {
		r = cg_read(dir, "cgroup.procs", buf, sizeof(buf));
		if (r || !buf[0])
			return r == -ENOENT ? 0 : r;
		for (p = buf; *p; p = end) {
			pid_t pid = (pid_t)strtol(p, &end, 10);
			uint64_t start = proc_start_time(pid);

			if (end == p)
				break;
			if (pid > 0 && start && !kill(pid, SIGKILL))
				r = proc_wait_gone(pid, start, timeout_ms);
			if (r)
				return r;
		}
	}
	return -EBUSY;
}

/* Call fn on each child directory of cgroup dir, then on dir; stops at
 * the first failure. A dir that is gone is success. 0 or -errno. */
static int cg_walk(const char *dir, int (*fn)(const char *d, void *arg), void *arg)
{
	char sub[CG_PATH + 260];
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		r = fn(sub, arg);
	}
	closedir(d);
	return r ? r : fn(dir, arg);
}

/* What cg_remove_one needs besides the directory. */
struct cg_remove_ctx {
	int timeout_ms;
	char *err;
	size_t errlen;
};

/* Empty and remove cgroup dir (a cg_walk step). */
static int cg_remove_one(const char *dir, void *arg)
{
	struct cg_remove_ctx *c = arg;
	int r = cg_empty(dir, c->timeout_ms);

	if (!r && rmdir(dir) && errno != ENOENT)
		r = -errno;
	if (r)
		util_fmt(c->err, c->errlen, "%s: %s", dir, strerror(-r));
	return r;
}

int cg_remove(const char *dir, int timeout_ms, char *err, size_t errlen)
{
	struct cg_remove_ctx c = { .timeout_ms = timeout_ms, .err = err, .errlen = errlen };
	int r = cg_thaw_tree(dir); /* a frozen process cannot die */

	if (r) {
		util_fmt(err, errlen, "cannot thaw %s: %s", dir, strerror(-r));
		return r;
	}
	return cg_walk(dir, cg_remove_one, &c);
}

bool cg_is_exp_dir(const char *dir, const char *id)
{
	const char *base = strrchr(dir, '/');

	return dir[0] == '/' && !strstr(dir, "/../") && base && !strncmp(base + 1, "vtb", 3) &&
	       !strcmp(base + 4, id);
}

int cg_host_cpu_hz(uint64_t *hz)
{
	char buf[256];
	FILE *f;
	double mhz = 0;

	if (!cg_read("/sys/devices/system/cpu/cpu0/cpufreq", "cpuinfo_max_freq", buf, sizeof(buf)) &&
	    strtoull(buf, NULL, 10)) {
		*hz = strtoull(buf, NULL, 10) * 1000;
		return 0;
	}
	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "cpu MHz : %lf", &mhz) == 1 || sscanf(buf, "cpu MHz\t: %lf", &mhz) == 1)
			break;
	if (f)
		fclose(f);
	if (mhz <= 0)
		return -ENOENT;
	*hz = (uint64_t)(mhz * 1e6);
	return 0;
}

int cg_pick_cpus(unsigned count, unsigned offset, char *buf, size_t len)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], n = 0, i;
	size_t at = 0;

	buf[0] = '\0';
	if (!count)
		return 0;
	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	if (!n)
		return -ENOENT;
	for (i = 0; i < (int)count && i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%d", i ? "," : "",
				       cpus[(offset + (unsigned)i) % (unsigned)n]);
	return at < len ? 0 : -ENAMETOOLONG;
}

int cg_freezer_dir(const char *mountinfo, const char *id, char *dir, size_t len)
{
	struct cg_mount m[CG_MAXMNT];
	size_t n, i;
	int r = cg_mounts(mountinfo, m, &n);

	for (i = 0; !r && i < n; i++)
		if (m[i].freezer)
			return (size_t)snprintf(dir, len, "%s/vtb%s", m[i].mnt, id) < len
				       ? 0
				       : -ENAMETOOLONG;
	return r ? r : -ENOTSUP;
}

int cg_freezer_set(const char *dir, bool frozen)
{
	return cg_write(dir, "freezer.state", frozen ? "FROZEN" : "THAWED", NULL, 0);
}

int cg_freezer_state(const char *dir)
{
	char buf[32];
	int r = cg_read(dir, "freezer.state", buf, sizeof(buf));

	if (r)
		return r;
	/* FREEZING: a task has not stopped yet, but none runs user code */
	return strncmp(buf, "THAWED", 6) != 0;
}

/* Thaw dir when it is a freezer cgroup (a cg_walk step). */
static int cg_thaw_one(const char *dir, void *arg)
{
	(void)arg;
	return cg_has(dir, "freezer.state") ? cg_freezer_set(dir, false) : 0;
}

int cg_thaw_tree(const char *dir)
{
	return cg_walk(dir, cg_thaw_one, NULL);
}
