/* nodeop: a node failure (see nodeop.h, docs/nodes.md). */
#include "nodeop.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "cgroup.h"
#include "linkstate.h"
#include "noderun.h"
#include "proc.h"
#include "supervisor.h"
#include "util.h"

/* How long a killed process of a restarted node may take to end: SIGKILL
 * ends it at once unless it is in uninterruptible sleep (I/O); the
 * teardown's own 2 s is as generous. */
#define NODEOP_KILL_MS 2000

/* How many times the node's processes are listed while they are frozen:
 * each pass catches what a process not yet frozen forked during the last
 * one, and a frozen one forks nothing, so two passes are the usual case;
 * more means a fork bomb outrunning the freezer. */
#define NODEOP_FREEZE_PASSES 64

/* A process of a node, by pid and start time. */
struct nodeop_proc {
	pid_t pid;
	uint64_t start;
};

/* The freezer cgroup of node of experiment id into dir (exp: the
 * experiment's, which teardown removes). 0, -ENOTSUP (no freezer) or
 * -errno. */
static int nodeop_fz_dir(const char *id, const char *node, char *exp, char *dir, size_t len)
{
	int r = cg_freezer_dir("/proc/self/mountinfo", id, exp, len);

	if (!r && (size_t)snprintf(dir, len, "%s/%s", exp, node) >= len)
		r = -ENAMETOOLONG;
	return r;
}

void nodeop_freezer(const char *id, char *fz, size_t len)
{
	if (cg_freezer_dir("/proc/self/mountinfo", id, fz, len) || access(fz, F_OK))
		fz[0] = '\0';
}

int nodeop_stopped_in(const char *fz, const char *node)
{
	char dir[CG_PATH + 140];
	int r;

	if (!fz[0])
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s", fz, node);
	r = cg_freezer_state(dir);
	return r == -ENOENT ? 0 : r;
}

int nodeop_is_stopped(const char *id, const char *node)
{
	char fz[CG_PATH];

	nodeop_freezer(id, fz, sizeof(fz));
	return nodeop_stopped_in(fz, node);
}

/* The processes of the pid namespace whose init is init, init included,
 * into *v (the caller's, freed with free). 0 or -errno. */
static int nodeop_list(pid_t init, struct nodeop_proc **v, size_t *n)
{
	struct stat ns, st;
	struct dirent *de;
	char path[64];
	size_t cap = 0;
	DIR *d;
	int r = 0;

	*v = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
	if (stat(path, &ns))
		return -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!r && (de = readdir(d))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
		if (stat(path, &st) || st.st_dev != ns.st_dev || st.st_ino != ns.st_ino)
			continue;
		r = UTIL_PUSH(*v, *n, cap,
			      ((struct nodeop_proc){ .pid = pid, .start = proc_start_time(pid) }));
	}
	closedir(d);
	return r;
}

/* Whether (pid, start) is in v. */
static bool nodeop_listed(const struct nodeop_proc *v, size_t n, const struct nodeop_proc *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].pid == p->pid && v[i].start == p->start)
			return true;
	return false;
}

/* Journal exp (the experiment's freezer cgroup) unless rows has it. */
static int nodeop_journal(struct db *db, const char *id, const struct db_obj *rows, size_t nrows,
			  const char *exp)
{
	struct db_obj o = { .kind = DB_CGROUP };
	size_t i;

	for (i = 0; i < nrows; i++)
		if (rows[i].kind == DB_CGROUP && !strcmp(rows[i].name, exp))
			return 0;
	if (strlen(exp) >= sizeof(o.name))
		return -ENAMETOOLONG;
	memcpy(o.name, exp, strlen(exp) + 1);
	return db_journal_add(db, id, &o, 1);
}

/* Freeze node's cgroup (fz: the experiment's freezer, one hierarchy) and
 * move every process of init's pid namespace into it, pass after pass
 * until a pass finds none it had not moved: a task moved into a frozen
 * cgroup is frozen, and a frozen one forks nothing. 0 or -errno. */
static int nodeop_freeze(const struct cg_exp *fz, const char *node, pid_t init, char *err,
			 size_t errlen)
{
	struct nodeop_proc *old = NULL, *cur = NULL;
	char dir[CG_PATH + 140];
	size_t nold = 0, ncur = 0, i, fresh;
	int r, pass;

	snprintf(dir, sizeof(dir), "%s/%s", fz->d[0].path, node);
	r = cg_freezer_set(dir, true);
	for (pass = 0; !r && pass < NODEOP_FREEZE_PASSES; pass++) {
		r = nodeop_list(init, &cur, &ncur);
		for (i = 0, fresh = 0; !r && i < ncur; i++) {
			if (nodeop_listed(old, nold, &cur[i]))
				continue;
			fresh++;
			if (cg_node_attach(fz, node, cur[i].pid) &&
			    proc_alive(cur[i].pid, cur[i].start))
				r = -EIO; /* not moved, and not gone either */
		}
		free(old);
		old = cur;
		nold = ncur;
		cur = NULL;
		if (!r && !fresh)
			break;
	}
	if (!r && pass == NODEOP_FREEZE_PASSES)
		r = -EAGAIN;
	if (r)
		util_fmt(err, errlen, "cannot freeze the processes of %s: %s", dir, strerror(-r));
	free(old);
	return r;
}

/* Make node's freezer cgroup (the experiment's journaled first) and freeze
 * its processes. 0 or -errno with err. */
static int nodeop_stop_procs(struct db *db, const struct db_exp *e, const struct db_obj *rows,
			     size_t nrows, const char *node, pid_t init, char *err, size_t errlen)
{
	struct cg_exp fz = { .ver = CG_V1, .n = 1 };
	char dir[CG_PATH];
	int r = nodeop_fz_dir(e->id, node, fz.d[0].path, dir, sizeof(dir));

	if (r) {
		util_fmt(err, errlen, "%s",
			 r == -ENOTSUP ? "this host has no cgroup v1 freezer (docs/nodes.md)"
				       : strerror(-r));
		return r;
	}
	r = nodeop_journal(db, e->id, rows, nrows, fz.d[0].path);
	if (r) {
		util_fmt(err, errlen, "cannot journal the cgroup %s: %s", fz.d[0].path,
			 strerror(-r));
		return r;
	}
	r = cg_exp_create(&fz, err, errlen);
	if (!r || r == -EEXIST)
		r = cg_node_create(&fz, node, &(struct cg_limits){ 0 }, err, errlen);
	return r ? r : nodeop_freeze(&fz, node, init, err, errlen);
}

/* Thaw node's freezer cgroup. 0 or -errno with err. */
static int nodeop_thaw(const char *id, const char *node, char *err, size_t errlen)
{
	char exp[CG_PATH], dir[CG_PATH];
	int r = nodeop_fz_dir(id, node, exp, dir, sizeof(dir));

	if (!r)
		r = cg_freezer_set(dir, false);
	if (r)
		util_fmt(err, errlen, "cannot thaw %s: %s", dir, strerror(-r));
	return r;
}

/* Set the links of node ni down or up at its side: a LAN's port of the
 * node, a direct veth's node end, both ports of any other point-to-point
 * link (its peer loses carrier as behind a pulled cable), or only the
 * node's when the peer is stopped and the link comes up. 0 or -errno. */
static int nodeop_links(const char *id, const struct realization *rz, size_t ni, bool up,
			char *err, size_t errlen)
{
	const struct xir *x = rz->x;
	size_t li, j;
	int r = 0, from;

	for (li = 0; li < x->nlinks && r >= 0; li++) {
		const struct xir_link *l = &x->links[li];

		for (j = 0; j < l->nep && r >= 0; j++) {
			if (l->ep[j].node != ni)
				continue;
			from = (int)j;
			if (rz->links[li].cls != RZ_LC_VETH && l->nep == 2 &&
			    !(up && nodeop_is_stopped(id, x->nodes[l->ep[1 - j].node].name) == 1))
				from = -1;
			r = linkstate_set(rz, li, from, up, err, errlen);
		}
	}
	return r < 0 ? r : 0;
}

/* SIGKILL every process of init's (frozen) pid namespace but init, thaw
 * it and wait until they have ended. 0 or -errno with err. */
static int nodeop_kill(const char *id, const char *node, pid_t init, char *err, size_t errlen)
{
	struct nodeop_proc *v = NULL;
	size_t n = 0, i;
	int r = nodeop_list(init, &v, &n);

	for (i = 0; !r && i < n; i++)
		if (v[i].pid != init && proc_alive(v[i].pid, v[i].start))
			kill(v[i].pid, SIGKILL);
	if (r)
		util_fmt(err, errlen, "cannot list the processes of '%s': %s", node, strerror(-r));
	else
		r = nodeop_thaw(id, node, err, errlen); /* the kills land now */
	for (i = 0; !r && i < n; i++)
		if (v[i].pid != init)
			r = proc_wait_gone(v[i].pid, v[i].start, NODEOP_KILL_MS);
	if (r && !err[0])
		util_fmt(err, errlen, "a process of '%s' did not end: %s", node, strerror(-r));
	free(v);
	return r;
}

/* How long the supervisor may take to pause or resume a VM: QEMU answers
 * at once, but the supervisor first waits for a command running on the
 * VM's console (vms_power) to end. */
#define NODEOP_VM_POWER_MS 30000

/* Ask the supervisor of id to pause ("stop") or resume ("cont") VM node.
 * 0 when done, 1 when it was so already, or -errno with err. */
static int nodeop_vm_power(const char *id, const char *node, const char *action, char *err,
			   size_t errlen)
{
	json_t *req = json_pack("{s:s,s:s,s:s}", "op", "vm_power", "node", node, "action", action);
	json_t *reply = NULL;
	int r = req ? sup_call(id, req, NODEOP_VM_POWER_MS, &reply) : -ENOMEM;

	if (r)
		util_fmt(err, errlen, "cannot reach the supervisor: %s", strerror(-r));
	else if (!json_is_true(json_object_get(reply, "ok"))) {
		util_fmt(err, errlen, "%s",
			 json_string_value(json_object_get(reply, "error")) ?: "refused");
		r = -EIO;
	} else if (!json_is_true(json_object_get(reply, "changed")))
		r = 1;
	json_decref(req);
	json_decref(reply);
	return r;
}

/* verb to VM ni: paused over QMP and its taps down, or resumed and its
 * taps up; a restart is refused. 0, 1 (nothing to do) or -errno. */
static int nodeop_vm(const char *id, const struct realization *rz, size_t ni,
		     enum nodeop_verb verb, char *err, size_t errlen)
{
	const char *node = rz->x->nodes[ni].name;
	int r;

	if (verb == NODEOP_RESTART) {
		util_fmt(err, errlen,
			 "'%s' is a VM: a restart is not supported yet (vtb node stop and start, "
			 "or vtb down and up)", node);
		return -EOPNOTSUPP;
	}
	r = nodeop_vm_power(id, node, verb == NODEOP_STOP ? "stop" : "cont", err, errlen);
	if (r == 0)
		r = nodeop_links(id, rz, ni, verb == NODEOP_START, err, errlen);
	return r;
}

int nodeop_run(struct db *db, const struct db_exp *e, const struct realization *rz,
	       const struct db_obj *rows, size_t nrows, size_t ni, enum nodeop_verb verb,
	       char *err, size_t errlen)
{
	const char *node = rz->x->nodes[ni].name;
	char ns[160];
	uint64_t start;
	pid_t init;
	int r, stopped;

	err[0] = '\0';
	if (rz->nodes[ni].kind == RZ_VM)
		return nodeop_vm(e->id, rz, ni, verb, err, errlen);
	build_netns_name(e->id, node, ns, sizeof(ns));
	r = noderun_find(rows, nrows, ns, &init, &start);
	if (r || !proc_alive(init, start)) {
		util_fmt(err, errlen, "its init has ended");
		return -ESRCH;
	}
	stopped = nodeop_is_stopped(e->id, node);
	if (stopped < 0) {
		util_fmt(err, errlen, "cannot tell whether it is stopped: %s", strerror(-stopped));
		return stopped;
	}
	if ((verb == NODEOP_STOP && stopped) || (verb == NODEOP_START && !stopped))
		return 1;
	if (!stopped) {
		r = nodeop_stop_procs(db, e, rows, nrows, node, init, err, errlen);
		if (!r)
			r = nodeop_links(e->id, rz, ni, false, err, errlen);
		if (r || verb == NODEOP_STOP)
			return r;
	}
	if (verb == NODEOP_RESTART)
		r = nodeop_kill(e->id, node, init, err, errlen);
	if (!r)
		r = nodeop_links(e->id, rz, ni, true, err, errlen);
	return r ? r : nodeop_thaw(e->id, node, err, errlen);
}
