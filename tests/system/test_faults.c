/* test_faults: rollback and teardown never touch what vtb did not create
 * (issue 12, finding 1; the rest of that issue is still open). Needs root.
 * Decoys are real kernel objects and files named like an experiment's;
 * each is removed by the test itself, after the check, whatever happened.
 *   - build_up meets an object that exists already (a namespace, a bridge,
 *     a port named like the experiment's: another state directory's, or
 *     made by hand): it fails with the kernel's "File exists", and the
 *     rollback removes what it made and leaves the decoy alone.
 *   - a journal row whose name does not carry the experiment's id (a
 *     planted or corrupt journal) is refused by teardown, not acted on.
 *   - build_id_in_use sees a decoy, so vtb up draws another id.
 *   - a state directory someone else controls (finding 2) is refused
 *     before its database is read: a directory or database of another
 *     user, one writable by others, a database that is a symbolic link. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "compile.h"
#include "db.h"
#include "netns.h"
#include "realize.h"

static char state_dir[64];

/* A LAN of three containers: ports "vtb<id>p0-2", switched (no bridge). */
static const char lan_src[] =
	"a = topo.device('a')\nb = topo.device('b')\nc = topo.device('c')\n"
	"topo.connect([a, b, c])\n";

struct exp {
	struct db *db;
	struct db_exp e;
	struct xir *x;
	struct realization *rz;
};

static void exp_open(struct exp *t)
{
	static const struct rz_host host = { .cores = 64, .memory = 1ULL << 36 };
	struct diag_list d;
	char why[256];

	memset(t, 0, sizeof(*t));
	assert_int_equal(db_open(state_dir, &t->db, why, sizeof(why)), 0);
	diag_init(&d, "t.vtb", lan_src, strlen(lan_src));
	assert_int_equal(compile_source("t.vtb", lan_src, strlen(lan_src), NULL, &t->x, &d, NULL), 0);
	assert_int_equal(realize(t->x, &host, &t->rz, &d), 0);
	diag_free(&d);
	assert_int_equal(db_exp_create(t->db, "faults", "t.vtb", getpid(), 0, &t->e), 0);
	assert_int_equal(realize_name(t->rz, t->e.id), 0);
}

static void exp_close(struct exp *t)
{
	realize_free(t->rz);
	xir_free(t->x);
	db_close(t->db);
}

static bool link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

/* Build with a decoy named like one of the experiment's namespaces (a
 * node's, or the substrate with a link inside named like one of the
 * experiment's ports): up fails with EEXIST, the rollback leaves the decoy (and
 * what is inside it) and removes the rest. */
static void build_meets(const char *kind)
{
	struct build_error err, terr;
	struct teardown_stats st;
	char decoy[64], netns_b[96], sub[BUILD_SUBSTRATE_LEN], cmd[256];
	bool substrate = !strcmp(kind, "substrate");
	const char *port;
	struct exp t;
	int r;

	exp_open(&t);
	port = realize_ep_iface(t.rz, 0, 0)->port_name;
	build_substrate_name(t.e.id, sub, sizeof(sub));
	if (substrate)
		snprintf(decoy, sizeof(decoy), "%s", sub);
	else
		build_netns_name(t.e.id, "a", decoy, sizeof(decoy));
	assert_int_equal(sh("ip netns add %s", decoy, ""), 0);
	if (substrate)
		assert_int_equal(sh("ip -n %s link add %s type veth", decoy, port), 0);
	r = build_up(t.db, t.e.id, t.rz, NULL, NULL, &err);
	assert_int_equal(r, -EEXIST);
	assert_non_null(strstr(err.msg, "exists"));
	r = build_teardown(t.db, t.e.id, &st, &terr); /* the rollback */
	if (r)
		print_message("rollback: %s: %s\n", terr.what, terr.msg);
	assert_int_equal(r, 0);
	assert_int_equal(netns_exists(decoy), 1);
	if (substrate) {
		snprintf(cmd, sizeof(cmd), "ip -n %s link show %s >/dev/null", decoy, port);
		assert_int_equal(system(cmd), 0);
	}
	/* and what it did create is gone */
	build_netns_name(t.e.id, "b", netns_b, sizeof(netns_b));
	assert_int_equal(netns_exists(netns_b), 0);
	if (!substrate)
		assert_int_equal(netns_exists(sub), 0);
	assert_int_equal(sh("ip netns del %s", decoy, ""), 0);
	exp_close(&t);
}

static void test_decoy_netns(void **state)
{
	(void)state;
	build_meets("netns");
}

static void test_decoy_substrate(void **state)
{
	(void)state;
	build_meets("substrate");
}

/* Links in the host's namespace named like the experiment's ports: the
 * experiment's are in its substrate, so up works, and down leaves the
 * host's alone. */
static void test_host_names_free(void **state)
{
	struct build_error err;
	struct teardown_stats st;
	char port[32], port0[32];
	struct exp t;

	(void)state;
	exp_open(&t);
	snprintf(port, sizeof(port), "%s", realize_ep_iface(t.rz, 0, 1)->port_name);
	snprintf(port0, sizeof(port0), "%s", realize_ep_iface(t.rz, 0, 0)->port_name);
	assert_int_equal(sh("ip link add %s type bridge", port0, ""), 0);
	assert_int_equal(sh("ip link add %s type veth peer name %sx", port, port), 0);
	assert_int_equal(build_up(t.db, t.e.id, t.rz, NULL, NULL, &err), 0);
	assert_int_equal(build_teardown(t.db, t.e.id, &st, &err), 0);
	assert_true(link_exists(port0));
	assert_true(link_exists(port));
	sh("ip link del %s", port0, "");
	sh("ip link del %s", port, "");
	exp_close(&t);
}

/* A journal that lists things without the experiment's id in their names:
 * teardown refuses each (failed, with a message), and every one survives. */
static void test_foreign_rows(void **state)
{
	struct db_obj rows[4] = { { .kind = DB_NETNS }, { .kind = DB_LINK }, { .kind = DB_FILE },
				  { .kind = DB_FILE } };
	struct build_error err;
	struct teardown_stats st;
	char ns[64], link[32], file[128], file2[128];
	struct exp t;
	int fd;

	(void)state;
	exp_open(&t);
	snprintf(ns, sizeof(ns), "vtbdecoy%d", (int)getpid());
	snprintf(link, sizeof(link), "vtbdcy%d", (int)getpid() % 100000);
	snprintf(file, sizeof(file), "/tmp/vtbdecoy%d", (int)getpid());
	snprintf(file2, sizeof(file2), "%s/x%s.sock", state_dir, t.e.id);
	assert_int_equal(sh("ip netns add %s", ns, ""), 0);
	assert_int_equal(sh("ip link add %s type veth peer name %sx", link, link), 0);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	fd = open(file2, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(rows[0].name, sizeof(rows[0].name), "%s", ns);
	snprintf(rows[1].name, sizeof(rows[1].name), "%s", link);
	snprintf(rows[2].name, sizeof(rows[2].name), "%s", file);
	snprintf(rows[3].name, sizeof(rows[3].name), "%s", file2);
	assert_int_equal(db_journal_add(t.db, t.e.id, rows, 4), 0);
	assert_int_equal(build_teardown(t.db, t.e.id, &st, &err), -EIO);
	assert_int_equal(st.failed, 4);
	assert_non_null(strstr(err.msg, "does not carry this experiment's id"));
	assert_int_equal(netns_exists(ns), 1);
	assert_true(link_exists(link));
	assert_int_equal(access(file, F_OK), 0);
	assert_int_equal(access(file2, F_OK), 0);
	sh("ip netns del %s", ns, "");
	sh("ip link del %s", link, "");
	unlink(file);
	unlink(file2);
	assert_int_equal(db_exp_delete(t.db, t.e.id), 0);
	exp_close(&t);
}

/* vtb up's id check: a decoy's name makes its id "in use". */
static void test_id_in_use(void **state)
{
	char what[64], decoy[32];

	(void)state;
	assert_int_equal(build_id_in_use("fe1d", what, sizeof(what)), 0);
	snprintf(decoy, sizeof(decoy), "vtbfe1d-a");
	assert_int_equal(sh("ip netns add %s", decoy, ""), 0);
	assert_int_equal(build_id_in_use("fe1d", what, sizeof(what)), 1);
	assert_non_null(strstr(what, decoy));
	sh("ip netns del %s", decoy, "");
	assert_int_equal(sh("ip link add vtbfe1dp0 type veth peer name vtbfe1dx", "", ""), 0);
	assert_int_equal(build_id_in_use("fe1d", what, sizeof(what)), 1);
	assert_non_null(strstr(what, "vtbfe1d"));
	sh("ip link del vtbfe1dp0", "", "");
	assert_int_equal(build_id_in_use("fe1d", what, sizeof(what)), 0);
	/* a substrate "vtb<id>" */
	assert_int_equal(sh("ip netns add vtbfe1d", "", ""), 0);
	assert_int_equal(build_id_in_use("fe1d", what, sizeof(what)), 1);
	assert_non_null(strstr(what, "namespace vtbfe1d"));
	sh("ip netns del vtbfe1d", "", "");
	assert_int_equal(build_id_in_use("fe1d", what, sizeof(what)), 0);
}

/* db_open of dir: the error, and the reason's words in why. */
static int open_in(const char *dir, char *why, size_t len)
{
	struct db *db = NULL;
	int r = db_open(dir, &db, why, len);

	db_close(db);
	return r;
}

static void test_untrusted_state_dir(void **state)
{
	char dir[96], sub_dir[128], dbf[160], why[512];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/other", state_dir);
	snprintf(dbf, sizeof(dbf), "%s/vtb.db", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(open_in(dir, why, sizeof(why)), 0); /* ours: fine, and a vtb.db made */
	/* another user's directory, with a planted database */
	assert_int_equal(chown(dir, 1000, 1000), 0);
	assert_int_equal(open_in(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "belongs to uid 1000"));
	assert_int_equal(chown(dir, 0, 0), 0);
	/* writable by its group */
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(open_in(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by its group"));
	assert_int_equal(chmod(dir, 0700), 0);
	/* an ancestor writable by everyone, not sticky: anyone can swap the rest */
	snprintf(sub_dir, sizeof(sub_dir), "%s/inner", dir);
	assert_int_equal(mkdir(sub_dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(open_in(sub_dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by every user"));
	assert_int_equal(chmod(dir, 01777), 0); /* sticky, like /tmp: fine */
	assert_int_equal(open_in(sub_dir, why, sizeof(why)), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	/* the database: another user's, writable by others, or a link */
	assert_int_equal(chown(dbf, 1000, 1000), 0);
	assert_int_equal(open_in(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "uid 1000"));
	assert_int_equal(chown(dbf, 0, 0), 0);
	assert_int_equal(chmod(dbf, 0666), 0);
	assert_int_equal(open_in(dir, why, sizeof(why)), -EPERM);
	assert_int_equal(chmod(dbf, 0600), 0);
	assert_int_equal(open_in(dir, why, sizeof(why)), 0);
	unlink(dbf);
	fd = open("/tmp/vtbfaults-target.db", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink("/tmp/vtbfaults-target.db", dbf), 0);
	assert_int_equal(open_in(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "symbolic link"));
	unlink("/tmp/vtbfaults-target.db");
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid()) {
		fprintf(stderr, "test_faults needs root (real namespaces and links)\n");
		return -1;
	}
	snprintf(state_dir, sizeof(state_dir), "/tmp/vtbfaults.XXXXXX");
	if (!mkdtemp(state_dir))
		return -1;
	setenv("VTB_STATE_DIR", state_dir, 1);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoy_netns),
		cmocka_unit_test(test_decoy_substrate),
		cmocka_unit_test(test_host_names_free),
		cmocka_unit_test(test_foreign_rows),
		cmocka_unit_test(test_id_in_use),
		cmocka_unit_test(test_untrusted_state_dir),
	};

	return cmocka_run_group_tests_name("faults", tests, group_setup, group_teardown);
}
