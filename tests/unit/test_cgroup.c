/* test_cgroup: the cgroup module against a fake tree (a temporary
 * directory playing cgroupfs, with its own mountinfo and /proc/self/cgroup):
 * which version and hierarchies it picks, and what it writes for each
 * limit on v2 and on v1. This machine's controllers are bound to v1, so the
 * v2 writes are checked here (tests/system/test_cgroup.sh runs v1 for
 * real). */
#include "unit.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* The content of root/rel, one trailing newline cut. */
static const char *get(const char *rel)
{
	static char buf[256];
	char p[512];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "r");
	if (!f)
		return "(missing)";
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vtb-cgtest.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mountinfo with a v2 hierarchy at root/unified and v1 cpu at root/cpu */
static void fake_mounts(const char *v2ctl)
{
	char mi[1024];

	snprintf(mi, sizeof(mi),
		 "30 22 0:27 / %s rw,relatime - tmpfs tmpfs rw\n"
		 "31 30 0:28 / %s/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
		 "33 30 0:30 / %s/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
		 "34 30 0:31 / %s/memory rw,relatime - cgroup cgroup rw,memory\n"
		 "40 30 0:37 / %s/unified rw,relatime - cgroup2 cgroup2 rw\n",
		 root, root, root, root, root);
	put("mountinfo", mi);
	put("self", "4:memory:/sandbox/x\n3:cpuset:/\n1:cpu,cpuacct:/\n0::/\n");
	dir("unified");
	put("unified/cgroup.controllers", v2ctl);
	put("unified/cgroup.subtree_control", "");
}

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", root, rel);
}

/* v2 with cpu and memory: one hierarchy at its root; the experiment's
 * cgroup enables the controllers for its children; a node's limits are
 * cpu.max, memory.max with swap off, the OOM group off, its cpus; vtb node
 * set's rewrite, "no limit" included; the counters read back. */
static void test_v2(void **state)
{
	char mi[512], self[512], want[512];
	struct cg_limits l = { .cpu_milli = 500, .memory = 64 << 20, .cpus = "1" };
	struct cg_host h;
	struct cg_exp e, back;
	struct cg_stats s;
	struct db_obj row = { .kind = DB_CGROUP };
	char err[256];

	(void)state;
	fake_mounts("cpuset cpu io memory pids\n");
	path_of(mi, sizeof(mi), "mountinfo");
	path_of(self, sizeof(self), "self");
	assert_int_equal(cg_detect(mi, self, &h), 0);
	assert_int_equal(h.ver, CG_V2);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.parent[0].ctrl, CG_CPU | CG_MEMORY | CG_CPUSET);
	assert_int_equal(cg_exp_of(&h, "ab12", &e), 0);
	path_of(want, sizeof(want), "unified/vtbab12");
	assert_string_equal(e.d[0].path, want);
	assert_int_equal(cg_exp_create(&e, err, sizeof(err)), 0);
	/* the last controller written is memory's, in the parent and in it */
	assert_string_equal(get("unified/cgroup.subtree_control"), "+memory");
	assert_string_equal(get("unified/vtbab12/cgroup.subtree_control"), "+memory");
	assert_int_equal(cg_exp_create(&e, err, sizeof(err)), -EEXIST);
	/* the kernel's files of the node's child */
	dir("unified/vtbab12/a");
	put("unified/vtbab12/a/memory.swap.max", "max\n");
	put("unified/vtbab12/a/memory.oom.group", "0\n");
	assert_int_equal(cg_node_create(&e, "a", &l, err, sizeof(err)), 0);
	assert_string_equal(get("unified/vtbab12/a/cpu.max"), "50000 100000");
	assert_string_equal(get("unified/vtbab12/a/memory.max"), "67108864");
	assert_string_equal(get("unified/vtbab12/a/memory.swap.max"), "0");
	assert_string_equal(get("unified/vtbab12/a/memory.oom.group"), "0");
	assert_string_equal(get("unified/vtbab12/a/cpuset.cpus"), "1");
	/* vtb node set: two cores, no memory limit */
	l = (struct cg_limits){ .cpu_milli = 2000 };
	assert_int_equal(cg_node_set(&e, "a", &l, err, sizeof(err)), 0);
	assert_string_equal(get("unified/vtbab12/a/cpu.max"), "200000 100000");
	assert_string_equal(get("unified/vtbab12/a/memory.max"), "max");
	assert_string_equal(get("unified/vtbab12/a/memory.swap.max"), "max");
	l.cpu_milli = 0;
	assert_int_equal(cg_node_set(&e, "a", &l, err, sizeof(err)), 0);
	assert_string_equal(get("unified/vtbab12/a/cpu.max"), "max 100000");
	assert_int_equal(cg_node_set(&e, "nope", &l, err, sizeof(err)), -ENOENT);
	/* the counters, from the journal's row */
	put("unified/vtbab12/cgroup.controllers", "cpuset cpu memory\n");
	put("unified/vtbab12/cpu.max", "max 100000\n");
	put("unified/vtbab12/memory.max", "max\n");
	put("unified/vtbab12/cpuset.cpus", "\n");
	put("unified/vtbab12/a/cpu.max", "25000 100000\n");
	put("unified/vtbab12/a/cpu.stat", "usage_usec 1234\nuser_usec 1000\n");
	put("unified/vtbab12/a/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n");
	assert_true(strlen(e.d[0].path) < sizeof(row.name));
	memcpy(row.name, e.d[0].path, strlen(e.d[0].path) + 1);
	assert_int_equal(cg_exp_from_rows(&row, 1, &back), 0);
	assert_int_equal(back.ver, CG_V2);
	assert_int_equal(back.d[0].ctrl, CG_CPU | CG_MEMORY | CG_CPUSET);
	assert_int_equal(cg_node_stats(&back, "a", &s), 0);
	assert_int_equal(s.usage_us, 1234);
	assert_int_equal(s.oom_kills, 1);
	assert_int_equal(s.lim.cpu_milli, 250);
	assert_int_equal(s.lim.memory, 0);
	assert_int_equal(cg_node_stats(&back, "nope", &s), -ENOENT);
	row.kind = DB_FILE;
	assert_int_equal(cg_exp_from_rows(&row, 1, &back), -ENOENT);
}

/* v2 without the cpu controller (this machine: bound to v1): v1, a
 * hierarchy per mount, under the caller's own cgroup of each; the cpuset
 * is copied from the parent; quota, memory and memory + swap. */
static void test_v1(void **state)
{
	char mi[512], self[512], want[512], err[256];
	struct cg_limits l = { .cpu_milli = 1500, .memory = 64 << 20 };
	struct cg_host h;
	struct cg_exp e;
	size_t i;

	(void)state;
	fake_mounts("hugetlb\n");
	dir("cpu");
	dir("cpuset");
	dir("memory");
	dir("memory/sandbox");
	dir("memory/sandbox/x");
	put("cpuset/cpuset.cpus", "0-1\n");
	put("cpuset/cpuset.mems", "0\n");
	path_of(mi, sizeof(mi), "mountinfo");
	path_of(self, sizeof(self), "self");
	assert_int_equal(cg_detect(mi, self, &h), 0);
	assert_int_equal(h.ver, CG_V1);
	assert_int_equal(h.n, 3);
	assert_int_equal(cg_exp_of(&h, "00ff", &e), 0);
	for (i = 0; i < e.n; i++)
		if (e.d[i].ctrl == CG_MEMORY) {
			path_of(want, sizeof(want), "memory/sandbox/x/vtb00ff");
			assert_string_equal(e.d[i].path, want);
		}
	assert_int_equal(e.d[0].ctrl, CG_CPU | CG_CPUACCT);
	assert_int_equal(cg_exp_create(&e, err, sizeof(err)), 0);
	assert_string_equal(get("cpuset/vtb00ff/cpuset.cpus"), "0-1");
	assert_string_equal(get("cpuset/vtb00ff/cpuset.mems"), "0");
	dir("memory/sandbox/x/vtb00ff/a");
	put("memory/sandbox/x/vtb00ff/a/memory.memsw.limit_in_bytes", "9223372036854771712\n");
	assert_int_equal(cg_node_create(&e, "a", &l, err, sizeof(err)), 0);
	assert_string_equal(get("cpu/vtb00ff/a/cpu.cfs_period_us"), "100000");
	assert_string_equal(get("cpu/vtb00ff/a/cpu.cfs_quota_us"), "150000");
	assert_string_equal(get("memory/sandbox/x/vtb00ff/a/memory.limit_in_bytes"), "67108864");
	assert_string_equal(get("memory/sandbox/x/vtb00ff/a/memory.memsw.limit_in_bytes"),
			    "67108864");
	assert_string_equal(get("cpuset/vtb00ff/a/cpuset.cpus"), "0-1");
	l = (struct cg_limits){ .cpu_milli = 0 };
	assert_int_equal(cg_node_set(&e, "a", &l, err, sizeof(err)), 0);
	assert_string_equal(get("cpu/vtb00ff/a/cpu.cfs_quota_us"), "-1");
	assert_string_equal(get("memory/sandbox/x/vtb00ff/a/memory.limit_in_bytes"), "-1");
}

/* Neither a v2 hierarchy with cpu and memory nor v1's: no cgroups. */
static void test_none(void **state)
{
	char mi[512], self[512];
	struct cg_host h;
	struct cg_exp e;

	(void)state;
	put("mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
	put("self", "0::/\n");
	path_of(mi, sizeof(mi), "mountinfo");
	path_of(self, sizeof(self), "self");
	assert_int_equal(cg_detect(mi, self, &h), 0);
	assert_int_equal(h.ver, CG_NONE);
	assert_int_equal(cg_exp_of(&h, "ab12", &e), -ENOTSUP);
}

/* Teardown's check that a journal row names this experiment's cgroup. */
static void test_is_exp_dir(void **state)
{
	(void)state;
	assert_true(cg_is_exp_dir("/sys/fs/cgroup/cpu/vtbab12", "ab12"));
	assert_true(cg_is_exp_dir("/sys/fs/cgroup/memory/x/y/vtbab12", "ab12"));
	assert_false(cg_is_exp_dir("/sys/fs/cgroup/cpu/vtbab123", "ab12"));
	assert_false(cg_is_exp_dir("/sys/fs/cgroup/cpu/vtbab12/a", "ab12"));
	assert_false(cg_is_exp_dir("/sys/fs/cgroup/cpu", "ab12"));
	assert_false(cg_is_exp_dir("relative/vtbab12", "ab12"));
	assert_false(cg_is_exp_dir("/sys/fs/cgroup/../../etc/vtbab12", "ab12"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test(test_is_exp_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
