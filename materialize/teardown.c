/* teardown: remove what an experiment's journal lists, newest first,
 * kind by kind (see build.h); what is already gone counts as removed. */
#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "dag.h"
#include "esc.h"
#include "netns.h"
#include "nl.h"
#include "proc.h"
#include "util.h"

/* A process and the network namespace it is in (td_scan_procs). */
struct td_nsproc {
	dev_t dev;
	ino_t ino;
	pid_t pid;
	uint64_t start;
};

struct td_ctx {
	struct td_nsproc *nsp; /* processes outside our namespace, scanned once */
	size_t nnsp;
	struct db *db;
	const char *id;
	struct db_obj *obj;
	char sub[BUILD_SUBSTRATE_LEN]; /* the substrate namespace's name */
	bool sub_going;                /* its row is removed in this teardown */
	struct nl_sock *root[BUILD_WORKERS];
	struct nl_sock *insub[BUILD_WORKERS]; /* in the substrate, when it stays */
	pthread_mutex_t lock;
	struct teardown_stats *st;
	struct build_error *err;
	int result;
};

/* Record a failure to remove o: counted, and the first one explained. */
static void td_fail(struct td_ctx *c, const struct db_obj *o, const char *label,
		    const char *msg)
{
	pthread_mutex_lock(&c->lock);
	c->st->failed++;
	if (!c->result) {
		c->result = -EIO;
		snprintf(c->err->what, sizeof(c->err->what), "cannot remove %s %s%s", label,
			 o->name, o->ns[0] ? " (in its namespace)" : "");
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", msg);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Whether journal row o names something of experiment id: every kernel
 * object vtb makes carries "vtb<id>" and every file is "<statedir>/<id>.*"
 * (a process is checked by its start time when it is stopped). A row that
 * does not is never acted on: a journal someone else wrote, or a bug. */
static bool td_ours(const struct td_ctx *c, const struct db_obj *o)
{
	const char *dir = db_state_dir(), *base;
	char pre[16];
	size_t n, dl = strlen(dir);

	n = (size_t)snprintf(pre, sizeof(pre), "vtb%s", c->id);
	switch (o->kind) {
	case DB_NETNS: /* the substrate "vtb<id>" or a node's "vtb<id>-*" */
		return !strncmp(o->name, pre, n) && (o->name[n] == '-' || !o->name[n]);
	case DB_LINK:
	case DB_BRIDGE:
		if (o->ns[0])
			return !strncmp(o->ns, pre, n) && (o->ns[n] == '-' || !o->ns[n]);
		return !strncmp(o->name, pre, n) && o->name[n];
	case DB_CGROUP: /* "<hierarchy>/.../vtb<id>" */
		return cg_is_exp_dir(o->name, c->id);
	case DB_FILE:
		base = o->name + dl + 1;
		return !strncmp(o->name, dir, dl) && o->name[dl] == '/' && !strchr(base, '/') &&
		       !strncmp(base, c->id, strlen(c->id)) && base[strlen(c->id)] == '.';
	default:
		return true;
	}
}

/* A remove function's answer for an object under a journaled name that is
 * not the one the experiment made: ours is gone, that one is left alone. */
#define TD_FOREIGN 2

/* Whether the object found under o's name (inode or ifindex `now`) is the
 * one the journal recorded when vtb made it. One recorded before vtb knew
 * it (ident 0) is taken by its name alone. */
static bool td_same(const struct db_obj *o, uint64_t now)
{
	return !o->ident || o->ident == now;
}

/* How long a journaled process (the supervisor) gets between SIGTERM and
 * SIGKILL: it stops its VMs and the emulator in well under this. */
#define TD_STOP_MS 2000

/* Stop a journaled process if it is still the one we started. */
static int td_process(struct td_ctx *c, unsigned worker, const struct db_obj *o, char *msg,
		      size_t len)
{
	int r = proc_stop(o->pid, o->start, TD_STOP_MS);

	(void)c;
	(void)worker;
	if (r == -ETIMEDOUT)
		return 0; /* SIGKILLed: it cannot hold anything */
	if (r)
		util_fmt(msg, len, "%s", strerror(-r));
	return r;
}

/* How long teardown waits for a LAN port's root-side veth to go on its
 * own once its node's namespace is deleted. The kernel unregisters the
 * pairs of a deleted namespace in batches in the background (cleanup_net);
 * under load a thousand of them take about a second. 2 s leaves room for
 * that, and a port still there after it is deleted by hand anyway. */
#define TD_PORT_GONE_MS 2000

/* Wait for root link name to disappear on its own, on its RTM_DELLINK
 * event. 1 when it is gone, 0 when it is still there after
 * TD_PORT_GONE_MS, or a negative errno when that could not be found out. */
static int port_gone(struct nl_sock *s, const char *name)
{
	int r = nl_link_wait_gone(s, name, TD_PORT_GONE_MS);

	if (r == -ETIMEDOUT)
		return 0;
	return r < 0 ? r : 1;
}

/* The socket of this worker for link row o: *s in the root namespace (a
 * row of an older vtb) or in the substrate. 0, 1 when the substrate is
 * gone (and what was in it), or a negative errno with msg. */
static int td_sock(struct td_ctx *c, unsigned worker, const struct db_obj *o,
		   struct nl_sock **s, char *msg, size_t len)
{
	struct nl_sock **slot = o->ns[0] ? &c->insub[worker] : &c->root[worker];
	int fd = -1, r = 0;

	if (!*slot && o->ns[0]) {
		fd = netns_open(c->sub);
		if (fd == -ENOENT)
			return 1;
		r = fd < 0 ? fd : 0;
	}
	if (!*slot && !r)
		r = nl_open(slot, fd);
	if (fd >= 0)
		close(fd);
	if (r)
		util_fmt(msg, len, "%s", strerror(-r));
	*s = *slot;
	return r;
}

/* A bridge or port. One inside a node's namespace goes with that
 * namespace: 1, nothing done. One in the substrate goes with the
 * substrate when its row is removed in this teardown too: 0, counted, no
 * RTM_DELLINK (the kernel deletes a namespace's devices in one batch, in
 * the background; each bridge still costs it an RCU barrier there, in
 * br_multicast_dev_del with RTNL held). Otherwise it is deleted by name. */
static int td_link(struct td_ctx *c, unsigned worker, const struct db_obj *o, char *msg,
		   size_t len)
{
	struct nl_err e = { 0 };
	struct nl_sock *s;
	int r;

	if (o->ns[0] && strcmp(o->ns, c->sub))
		return 1;
	if (o->ns[0] && c->sub_going)
		return 0;
	r = td_sock(c, worker, o, &s, msg, len);
	if (r)
		return r == 1 ? 0 : r;
	/* a LAN port's veth goes with its node's namespace: the kernel
	 * removes such pairs in one batch, in the background, far faster
	 * than one RTM_DELLINK each (about 20 ms apiece). Give it a
	 * moment before deleting what is left by hand. */
	if (o->kind == DB_LINK) {
		r = port_gone(s, o->name);
		if (r == 1)
			return 0;
		if (r < 0) {
			util_fmt(msg, len, "cannot look it up: %s", strerror(-r));
			return r;
		}
	}
	if (o->ident) {
		r = nl_ifindex(s, o->name);
		if (r == -ENODEV)
			return 0;
		if (r < 0) {
			util_fmt(msg, len, "cannot look it up: %s", strerror(-r));
			return r;
		}
		if (!td_same(o, (uint64_t)r))
			return TD_FOREIGN;
	}
	r = nl_link_del(s, o->name, &e);
	if (r)
		util_fmt(msg, len, "%s", e.msg);
	return r;
}

/* The command name of process pid (its /proc comm) into comm, "?" when
 * it cannot be read (it may have just gone). */
static void td_comm(int pid, char *comm, size_t len)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, len - 1);
		close(fd);
	}
	if (n <= 0)
		n = snprintf(comm, len, "?");
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* The first process whose network namespace is the one bound at path: 0
 * (none, or path is gone), 1 with *pid and its comm, or a negative errno.
 * One scan of /proc. */
static int td_holder(const char *path, int *pid, char *comm, size_t len)
{
	struct stat ns, st;
	char p[64];
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (stat(path, &ns))
		return errno == ENOENT ? 0 : -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!r && (e = readdir(d))) {
		*pid = atoi(e->d_name);
		if (*pid <= 0)
			continue; /* not a process */
		snprintf(p, sizeof(p), "/proc/%d/ns/net", *pid);
		if (stat(p, &st) || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue; /* gone meanwhile, a zombie, or elsewhere */
		td_comm(*pid, comm, len);
		r = 1;
	}
	closedir(d);
	return r;
}

/* Every process's network namespace, scanned once for the whole teardown
 * after the journaled processes (the nodes' inits) have ended: what is
 * still in a node's namespace then is what a crash left without a journal
 * row (an init started but not yet journaled). Processes in our own
 * namespace are left out. Best effort: 0 or -ENOMEM. */
static int td_scan_procs(struct td_ctx *c)
{
	struct stat self, st;
	struct dirent *e;
	char path[64];
	size_t cap = 0;
	DIR *d;
	int r = 0;

	if (stat("/proc/self/ns/net", &self))
		return 0;
	d = opendir("/proc");
	while (d && !r && (e = readdir(d))) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		if (stat(path, &st) || (st.st_dev == self.st_dev && st.st_ino == self.st_ino))
			continue;
		r = UTIL_PUSH(c->nsp, c->nnsp, cap,
			      ((struct td_nsproc){ .dev = st.st_dev, .ino = st.st_ino, .pid = pid,
						   .start = proc_start_time(pid) }));
	}
	if (d)
		closedir(d);
	return r;
}

/* SIGKILL what td_scan_procs saw in the namespace bound as name and wait
 * until it has ended. Returns 0 or a negative errno. */
static int td_ns_kill(const struct td_ctx *c, const char *name)
{
	char path[160];
	struct stat st;
	size_t i;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	if (stat(path, &st))
		return 0;
	for (i = 0; i < c->nnsp; i++)
		if (c->nsp[i].dev == st.st_dev && c->nsp[i].ino == st.st_ino &&
		    proc_alive(c->nsp[i].pid, c->nsp[i].start))
			kill(c->nsp[i].pid, SIGKILL);
	for (i = 0; i < c->nnsp && !r; i++)
		if (c->nsp[i].dev == st.st_dev && c->nsp[i].ino == st.st_ino)
			r = proc_wait_gone(c->nsp[i].pid, c->nsp[i].start, TD_STOP_MS);
	return r;
}

/* A namespace. A node's: what is still in it is killed first (td_ns_kill).
 * The substrate is unbound only when no process has it as its network
 * namespace any more: the kernel frees it (and every bridge, port and tap
 * in it) when nothing holds it, and a holder would keep them alive where
 * no one can reach them. */
static int td_netns(struct td_ctx *c, unsigned worker, const struct db_obj *o, char *msg,
		    size_t len)
{
	char path[sizeof(NETNS_RUN_DIR) + sizeof(o->name)], comm[64], shown[ESC_NAME_BUF];
	uint32_t now;
	int r = 0, pid = 0;

	(void)worker;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, o->name);
	/* a network namespace other than the recorded one: ours is unbound
	 * already, the name is someone else's now: nothing in it is killed,
	 * and netns_delete leaves that bind alone */
	now = (uint32_t)netns_ident(o->name);
	if (now && (uint32_t)o->ident && (uint32_t)o->ident != now) {
		r = netns_delete(o->name, o->ident); /* the UTS bind, if it is ours */
		if (r < 0)
			util_fmt(msg, len, "%s", strerror(-r));
		return r < 0 ? r : TD_FOREIGN;
	}
	if (!strcmp(o->name, c->sub)) {
		r = td_holder(path, &pid, comm, sizeof(comm));
		if (r == 1) {
			/* its comm is the process's own words */
			util_fmt(msg, len, "process %d (%s) is still in it", pid,
				 esc_str(shown, sizeof(shown), comm));
			return -EBUSY;
		}
	} else {
		r = td_ns_kill(c, o->name);
	}
	if (!r)
		r = netns_delete(o->name, o->ident);
	if (r < 0)
		util_fmt(msg, len, "%s", strerror(-r));
	return r == NETNS_FOREIGN ? TD_FOREIGN : r;
}

static int td_file(struct td_ctx *c, unsigned worker, const struct db_obj *o, char *msg,
		   size_t len)
{
	struct stat st;

	(void)c;
	(void)worker;
	if (lstat(o->name, &st)) {
		util_fmt(msg, len, "%s", strerror(errno));
		return errno == ENOENT ? 0 : -errno;
	}
	if (!td_same(o, (uint64_t)st.st_ino))
		return TD_FOREIGN;
	if (unlink(o->name) && errno != ENOENT) {
		util_fmt(msg, len, "%s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* An experiment's cgroup (one row per hierarchy): what is still in it is
 * killed, then its nodes' children and it are removed. */
static int td_cgroup(struct td_ctx *c, unsigned worker, const struct db_obj *o, char *msg,
		     size_t len)
{
	(void)c;
	(void)worker;
	return cg_remove(o->name, TD_STOP_MS, msg, len);
}

/* How each kind of journaled object is removed (0 removed, already gone
 * included; 1 nothing to do; TD_FOREIGN another object holds its name;
 * -errno with msg) and where it is counted. */
static const struct td_kind {
	enum db_obj_kind kind;
	const char *label;
	int (*remove)(struct td_ctx *c, unsigned worker, const struct db_obj *o, char *msg,
		      size_t len);
	size_t counter; /* offsetof(struct teardown_stats, ...) */
} td_kinds[] = {
	{ DB_PROCESS, "process", td_process, offsetof(struct teardown_stats, processes) },
	{ DB_LINK, "link", td_link, offsetof(struct teardown_stats, links) },
	{ DB_BRIDGE, "bridge", td_link, offsetof(struct teardown_stats, links) },
	{ DB_NETNS, "namespace", td_netns, offsetof(struct teardown_stats, netns) },
	{ DB_FILE, "file", td_file, offsetof(struct teardown_stats, files) },
	{ DB_CGROUP, "cgroup", td_cgroup, offsetof(struct teardown_stats, files) },
};

static int td_task(void *ctx, unsigned worker, void *arg)
{
	struct td_ctx *c = ctx;
	const struct db_obj *o = arg;
	char msg[UTIL_ERR_LEN] = "";
	size_t i;
	int r;

	for (i = 0; i < UTIL_ARRAY_SIZE(td_kinds); i++) {
		const struct td_kind *k = &td_kinds[i];

		if (k->kind != o->kind)
			continue;
		if (!td_ours(c, o)) {
			td_fail(c, o, k->label, "its name does not carry this experiment's id: left alone");
			continue;
		}
		r = k->remove(c, worker, o, msg, sizeof(msg));
		if (r < 0) {
			td_fail(c, o, k->label, msg);
		} else if (r == 0 || r == TD_FOREIGN) {
			pthread_mutex_lock(&c->lock);
			if (r == TD_FOREIGN)
				c->st->foreign++;
			else
				(*(size_t *)((char *)c->st + k->counter))++;
			pthread_mutex_unlock(&c->lock);
		}
	}
	return 0; /* keep removing the rest; failures are counted */
}

/* A root-namespace link of the journal: a LAN's bridge or port. */
static bool td_root_link(const struct db_obj *o)
{
	return (o->kind == DB_BRIDGE || o->kind == DB_LINK) && !o->ns[0];
}

/* Delete the experiment's bridges and LAN ports with one request, when
 * their netdev group holds exactly links this journal lists and nothing
 * else: the kernel then unregisters them as one batch (a bridge costs an
 * RCU barrier each: 100 bridges took 3.7 s one by one and 1.9 s as a
 * group; the ports go with it instead of waiting for their namespaces'
 * cleanup). Anything unexpected in the group and it does nothing: the
 * links are then deleted one by one like any other. */
static void td_bridge_group(struct td_ctx *c, size_t n)
{
	char (*names)[16] = NULL;
	struct nl_err e;
	size_t nb = 0, ng = 0, i, k;

	for (i = 0; i < n; i++)
		nb += td_root_link(&c->obj[i]);
	if (!nb || (!c->root[0] && nl_open(&c->root[0], -1)))
		return;
	if (nl_group_links(c->root[0], realize_group_of(c->id), &names, &ng) || !ng)
		goto out;
	for (k = 0; k < ng; k++) {
		for (i = 0; i < n; i++)
			if (td_root_link(&c->obj[i]) && td_ours(c, &c->obj[i]) &&
			    !strcmp(c->obj[i].name, names[k]))
				break;
		if (i == n)
			goto out; /* not ours: leave the group alone */
	}
	nl_group_del(c->root[0], realize_group_of(c->id), &e);
out:
	free(names);
}

/* Thaw the experiment's freezer cgroups (nodes vtb node stop left
 * stopped): a frozen process ends on no signal, and a node's init that
 * ends waits for every process of its pid namespace to end. Best effort:
 * what stays frozen is reported by the cgroup's removal. */
static void td_thaw(struct td_ctx *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c->obj[i].kind == DB_CGROUP && td_ours(c, &c->obj[i]))
			(void)cg_thaw_tree(c->obj[i].name);
}

/* SIGTERM every node init of the journal (a row named after its node's
 * namespace, "vtb<id>-<node>") that still runs, all in one pass before
 * the processes' phase waits on each: the inits and their pid namespaces
 * end side by side instead of one worker's at a time. The signal goes
 * through a pidfd opened while the start time still matches, so it
 * reaches exactly the journaled process. Best effort: the phase after it
 * signals again and waits. */
static void td_term_inits(const struct td_ctx *c, size_t n)
{
	char pre[16];
	size_t i, len = (size_t)snprintf(pre, sizeof(pre), "vtb%s-", c->id);
	int fd;

	for (i = 0; i < n; i++) {
		const struct db_obj *o = &c->obj[i];

		if (o->kind != DB_PROCESS || strncmp(o->name, pre, len) || o->pid <= 0)
			continue;
		fd = (int)syscall(SYS_pidfd_open, o->pid, 0);
		if (fd < 0)
			continue;
		if (proc_alive(o->pid, o->start))
			(void)syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
		close(fd);
	}
}

/* One phase of teardown: the objects of these kinds, in parallel. */
static int td_phase(struct td_ctx *c, size_t n, const enum db_obj_kind *kinds, size_t nkinds)
{
	struct dag *g = dag_new(c);
	size_t i, k;
	int r = 0;

	if (!g)
		return -ENOMEM;
	for (i = n; i-- > 0 && !r;)
		for (k = 0; k < nkinds; k++)
			if (c->obj[i].kind == kinds[k])
				r = dag_add(g, td_task, &c->obj[i], NULL);
	if (!r)
		r = dag_run(g, BUILD_WORKERS, NULL, NULL);
	dag_free(g);
	return r;
}

int build_teardown(struct db *db, const char *id, struct teardown_stats *st,
		   struct build_error *err)
{
	static const enum db_obj_kind procs[] = { DB_PROCESS };
	static const enum db_obj_kind links[] = { DB_LINK };
	static const enum db_obj_kind spaces[] = { DB_NETNS, DB_BRIDGE };
	static const enum db_obj_kind files[] = { DB_FILE, DB_CGROUP };
	struct td_ctx c = { .db = db, .id = id, .st = st, .err = err };
	size_t n = 0, i;
	int r;

	memset(st, 0, sizeof(*st));
	memset(err, 0, sizeof(*err));
	build_substrate_name(id, c.sub, sizeof(c.sub));
	pthread_mutex_init(&c.lock, NULL);
	r = db_journal_list(db, id, &c.obj, &n);
	if (r) {
		snprintf(err->what, sizeof(err->what), "cannot read the journal");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
		goto out;
	}
	for (i = 0; i < n; i++)
		if (c.obj[i].kind == DB_NETNS && !strcmp(c.obj[i].name, c.sub))
			c.sub_going = true;
	/* stopped nodes thawed (a frozen process does not end), every node
	 * init signalled at once, then processes first (they hold the rest: the supervisor and QEMU hold
	 * the substrate), then the namespaces (taking their links with them:
	 * the substrate takes every bridge, port and tap, and the node ends of
	 * the ports) and the bridges of an older vtb's journal side by side (a
	 * bridge's deletion waits on RCU, not on its ports), then any root LAN
	 * port the kernel has not removed, then files and cgroups (their
	 * processes have ended with the inits and QEMU by then) */
	td_thaw(&c, n);
	td_term_inits(&c, n);
	r = td_phase(&c, n, procs, 1);
	if (!r)
		r = td_scan_procs(&c);
	if (!r)
		td_bridge_group(&c, n);
	if (!r)
		r = td_phase(&c, n, spaces, 2);
	if (!r)
		r = td_phase(&c, n, links, 1);
	if (!r)
		r = td_phase(&c, n, files, 2);
	if (!r)
		r = c.result;
	if (!r)
		r = db_exp_delete(db, id);
	if (r && !err->what[0]) {
		snprintf(err->what, sizeof(err->what), "cannot finish the teardown");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
	}
out:
	for (i = 0; i < BUILD_WORKERS; i++) {
		nl_close(c.root[i]);
		nl_close(c.insub[i]);
	}
	free(c.obj);
	free(c.nsp);
	pthread_mutex_destroy(&c.lock);
	return r;
}
