/* build: plan, journal and create an experiment's kernel objects with a
 * DAG of small tasks; the node and link kinds (build_node.c, build_link.c)
 * say what each node and link needs. Teardown is in teardown.c. */
#include "build_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "noderun.h"

void build_netns_name(const char *id, const char *node, char *buf, size_t len)
{
	snprintf(buf, len, "vtb%s-%s", id, node);
}

void build_substrate_name(const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "vtb%s", id);
}

/* The link kind of each realization class. */
static const struct build_link_kind *const link_kinds[RZ_LC_COUNT] = {
	[RZ_LC_VETH] = &build_link_veth,
	[RZ_LC_SWITCH] = &build_link_switch,
	[RZ_LC_EMULATED] = &build_link_emulated,
	[RZ_LC_SHORT] = &build_link_short,
	[RZ_LC_DISPERSED] = &build_link_dispersed,
};

void build_fail(struct build_ctx *c, const char *msg, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	if (!c->failed) {
		c->failed = true;
		va_start(ap, fmt);
		vsnprintf(c->err->what, sizeof(c->err->what), fmt, ap);
		va_end(ap);
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", msg);
	}
	pthread_mutex_unlock(&c->lock);
}

void build_not_ours(struct build_ctx *c, enum db_obj_kind kind, const char *name)
{
	struct db_obj o = { .kind = kind };

	snprintf(o.name, sizeof(o.name), "%s", name);
	pthread_mutex_lock(&c->lock);
	if (UTIL_PUSH(c->foreign, c->nforeign, c->capforeign, o))
		c->foreign_lost = true; /* its row stays: forget_foreign says so */
	pthread_mutex_unlock(&c->lock);
}

/* Whether journal row o is the foreign object f, or lives inside f (a
 * namespace that was there before us: nothing inside it is ours). */
static bool is_foreign(const struct db_obj *o, const struct db_obj *f)
{
	if (o->ns[0])
		return f->kind == DB_NETNS && !strcmp(o->ns, f->name);
	return o->kind == f->kind && !strcmp(o->name, f->name);
}

/* Drop the journal rows of the objects that were there before us, so that
 * neither the rollback nor a later vtb clean ever removes them. */
static int forget_foreign(struct db *db, struct build_ctx *c)
{
	struct db_obj *rows = NULL;
	size_t n = 0, i, k;
	int r;

	if (!c->nforeign)
		return c->foreign_lost ? -ENOMEM : 0;
	r = db_journal_list(db, c->id, &rows, &n);
	for (i = 0; !r && i < n; i++)
		for (k = 0; k < c->nforeign; k++)
			if (is_foreign(&rows[i], &c->foreign[k])) {
				r = db_journal_remove(db, c->id, rows[i].seq);
				break;
			}
	free(rows);
	return r ? r : c->foreign_lost ? -ENOMEM : 0;
}

/* One row of kind named name onto (*v, *n, *cap). */
static int id_row(struct db_obj **v, size_t *n, size_t *cap, enum db_obj_kind kind,
		  const char *name)
{
	struct db_obj o = { .kind = kind };

	snprintf(o.name, sizeof(o.name), "%s", name);
	return UTIL_PUSH(*v, *n, *cap, o);
}

/* The cgroups of id (docs/limits.md) that exist, as rows. 0 or -errno. */
static int id_cgroups(const char *id, struct db_obj **v, size_t *n, size_t *cap)
{
	char fz[sizeof((*v)->name)];
	struct cg_host h;
	struct cg_exp e;
	size_t k;
	int r = 0;

	/* a stopped node's freezer cgroup (vtb node stop) */
	if (!cg_freezer_dir("/proc/self/mountinfo", id, fz, sizeof(fz)) && !access(fz, F_OK))
		r = id_row(v, n, cap, DB_CGROUP, fz);
	if (r || cg_detect("/proc/self/mountinfo", "/proc/self/cgroup", &h) || cg_exp_of(&h, id, &e))
		return r; /* no cgroups here: none of id's either */
	for (k = 0; k < e.n && !r; k++)
		if (strlen(e.d[k].path) < sizeof((*v)->name) && !access(e.d[k].path, F_OK))
			r = id_row(v, n, cap, DB_CGROUP, e.d[k].path);
	return r;
}

int build_id_objects(const char *id, struct db_obj **v, size_t *n, size_t *cap)
{
	struct if_nameindex *ifs, *i;
	struct dirent *e;
	char pre[16];
	size_t len = (size_t)snprintf(pre, sizeof(pre), "vtb%s", id);
	DIR *d = opendir(NETNS_RUN_DIR);
	int r = 0;

	if (!d && errno != ENOENT)
		return -errno;
	/* the substrate "vtb<id>" and the nodes' "vtb<id>-*" */
	while (d && !r && (e = readdir(d)))
		if (!strncmp(e->d_name, pre, len) && (e->d_name[len] == '-' || !e->d_name[len]))
			r = id_row(v, n, cap, DB_NETNS, e->d_name);
	if (d)
		closedir(d);
	ifs = r ? NULL : if_nameindex();
	if (!r && !ifs)
		return -errno;
	for (i = ifs; i && i->if_index && !r; i++)
		if (!strncmp(i->if_name, pre, len))
			r = id_row(v, n, cap, i->if_name[len] == 'b' ? DB_BRIDGE : DB_LINK,
				   i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	return r ? r : id_cgroups(id, v, n, cap);
}

int build_id_in_use(const char *id, char *what, size_t len)
{
	struct db_obj *v = NULL;
	size_t n = 0, cap = 0;
	int r = build_id_objects(id, &v, &n, &cap);

	if (!r && n) {
		util_fmt(what, len, "the %s %s",
			 v[0].kind == DB_NETNS	  ? "namespace"
			 : v[0].kind == DB_CGROUP ? "cgroup"
						  : "link",
			 v[0].name);
		r = 1;
	}
	free(v);
	return r;
}

struct nl_sock *build_root_sock(struct build_ctx *c, unsigned worker, int *r)
{
	if (!c->root[worker]) {
		*r = nl_open(&c->root[worker], c->sub_fd);
		if (*r)
			return NULL;
	}
	*r = 0;
	return c->root[worker];
}

const char *build_link_label(const struct build_ctx *c, uint32_t l)
{
	return c->x->links[l].name ? c->x->links[l].name : "?";
}

const struct rz_iface *build_ep_iface(const struct build_ctx *c, uint32_t link, uint32_t ep)
{
	return realize_ep_iface(c->rz, link, ep);
}

int build_journal(struct build_ctx *c, enum db_obj_kind kind, const char *name, const char *ns)
{
	struct db_obj o = { .kind = kind };

	snprintf(o.name, sizeof(o.name), "%s", name);
	snprintf(o.ns, sizeof(o.ns), "%s", ns ? ns : "");
	return UTIL_PUSH(c->obj, c->nobj, c->capobj, o);
}

/* The DAG's trampoline: a task's own body. */
static int run_task(void *ctx, unsigned worker, void *arg)
{
	const struct btask *t = arg;

	(void)ctx;
	return t->run ? t->run(t->c, worker, t) : 0;
}

int build_task(struct build_ctx *c, build_fn run, uint32_t node, uint32_t link, uint32_t ep,
	       uint32_t *id)
{
	struct btask *t;

	if (c->nt == c->capt)
		return -ENOBUFS; /* the plan's size was counted wrong: a bug */
	t = &c->t[c->nt++];
	*t = (struct btask){ .c = c, .run = run, .node = node, .link = link, .ep = ep };
	return dag_add(c->g, run_task, t, id);
}

int build_node_edges(struct build_ctx *c, uint32_t node, uint32_t id)
{
	int r = dag_edge(c->g, node, id);

	return r ? r : dag_edge(c->g, id, (uint32_t)c->x->nnodes + node);
}

int build_port_task(struct build_ctx *c, uint32_t link, uint32_t ep, uint32_t after,
		    uint32_t *id)
{
	uint32_t node = c->x->links[link].ep[ep].node;
	int r;

	r = build_journal(c, DB_LINK, build_ep_iface(c, link, ep)->port_name, c->sub);
	if (!r)
		r = build_task(c, build_node_kind_of(c, node)->attach, node, link, ep, id);
	if (!r)
		r = build_node_edges(c, node, *id);
	if (!r && after != UINT32_MAX)
		r = dag_edge(c->g, after, *id);
	return r;
}

/* The log of the experiment's node inits: <statedir>/<id>.init.log. */
static void init_log_path(const struct build_ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.init.log", db_state_dir(), c->id);
}

/* Whether the experiment has a container node (privileged or not: -1
 * either). */
static bool has_container(const struct build_ctx *c, int privileged)
{
	uint32_t i;

	for (i = 0; i < c->x->nnodes; i++)
		if (build_node_kind_of(c, i)->netns && realize_node_here(c->rz, i) &&
		    (privileged < 0 || c->rz->nodes[i].privileged == (privileged == 1)))
			return true;
	return false;
}

/* What the container nodes share: the mount namespace templates of the
 * kinds of node there are, the inits' log (its journal row is in the
 * plan) and the factory that makes them. Returns 0 or a negative errno
 * with err set. */
static int inits_prepare(struct build_ctx *c)
{
	char path[PATH_MAX];
	int r = 0, k;

	for (k = 0; k < 2 && !r; k++)
		if (has_container(c, k))
			r = noderun_template(k == 1, &c->mnt_tmpl[k]);
	if (r) {
		snprintf(c->err->what, sizeof(c->err->what), "cannot make the nodes' mount namespace");
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", strerror(-r));
		return r;
	}
	if (!has_container(c, -1))
		return 0;
	r = noderun_init_path(c->init_path, sizeof(c->init_path));
	if (r) {
		util_fmt(c->err->what, sizeof(c->err->what), "cannot find the nodes' helper %s",
			 c->init_path);
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", strerror(-r));
		return r;
	}
	init_log_path(c, path, sizeof(path));
	c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (c->log_fd < 0) {
		r = -errno;
		util_fmt(c->err->what, sizeof(c->err->what), "cannot open %s", path);
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", strerror(-r));
		return r;
	}
	r = noderun_factory_start(c->init_path, &c->factory);
	if (r) {
		util_fmt(c->err->what, sizeof(c->err->what), "cannot start the nodes' helper %s",
			 c->init_path);
		snprintf(c->err->msg, sizeof(c->err->msg), "%s", strerror(-r));
	}
	return r;
}

/* Journal the inits the DAG started (known only now: they are its
 * processes), whether the build went well or not, so that teardown ends
 * them. Returns 0 or a negative errno. */
static int inits_journal(struct db *db, struct build_ctx *c)
{
	struct db_obj *rows = calloc(c->x->nnodes ? c->x->nnodes : 1, sizeof(*rows));
	size_t n = 0;
	uint32_t i;
	int r;

	if (!rows)
		return -ENOMEM;
	for (i = 0; i < c->x->nnodes; i++)
		if (c->init[i].pid > 0) {
			rows[n] = (struct db_obj){ .kind = DB_PROCESS, .pid = c->init[i].pid,
						   .start = c->init[i].start };
			build_netns_name(c->id, c->x->nodes[i].name, rows[n].name,
					 sizeof(rows[n].name));
			n++;
		}
	r = n ? db_journal_add(db, c->id, rows, n) : 0;
	free(rows);
	return r;
}

/* The inode of the file behind fd, 0 when it cannot be read (then
 * teardown checks the row by its name only). */
static uint64_t fd_ino(int fd)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) ? (uint64_t)st.st_ino : 0;
}

/* Fill the ident of every row whose object exists now: the namespaces'
 * binds (netns_ident, just made by this build), the log's descriptor and
 * one dump of the substrate's links. Returns 0 or a negative errno. */
static int idents_fill(struct build_ctx *c)
{
	struct nl_link_ent *links = NULL;
	size_t nl = 0, i, k;
	char name[128];
	int r = 0;

	if (c->root[0])
		r = nl_link_list(c->root[0], &links, &nl);
	init_log_path(c, name, sizeof(name));
	for (i = 0; i < c->nobj; i++) {
		struct db_obj *o = &c->obj[i];

		if (o->kind == DB_NETNS) {
			o->ident = netns_ident(o->name);
		} else if (o->kind == DB_FILE && !strcmp(name, o->name)) {
			o->ident = fd_ino(c->log_fd);
		} else if ((o->kind == DB_LINK || o->kind == DB_BRIDGE) && !strcmp(o->ns, c->sub)) {
			for (k = 0; k < nl && strcmp(links[k].name, o->name); k++)
				;
			o->ident = k < nl ? (uint64_t)links[k].ifindex : 0;
		}
	}
	free(links);
	return r;
}

/* Record what the kernel made (idents_fill) in the journal, whether the
 * build went well or not: teardown checks it before removing anything. A
 * failure leaves the rows checked by name only. */
static int idents_journal(struct db *db, struct build_ctx *c)
{
	int r = idents_fill(c);

	if (!r)
		r = db_journal_ident(db, c->id, c->obj, c->nobj);
	return r;
}

/* The plan: every node's first and last task (ids i and nnodes + i), then
 * each link's, through its kind. The tasks live in one array sized up
 * front: at most two per node and, per link, one per endpoint and two. */
static int make_plan(struct build_ctx *c)
{
	const struct xir *x = c->x;
	char name[128];
	uint32_t i, id;
	size_t cap = 2 * x->nnodes;
	int r = 0;

	for (i = 0; i < x->nlinks; i++)
		cap += x->links[i].nep + 2;
	c->t = calloc(cap ? cap : 1, sizeof(*c->t));
	if (!c->t)
		return -ENOMEM;
	c->capt = cap;
	/* the substrate first: build_up creates it before any task runs */
	r = build_journal(c, DB_NETNS, c->sub, NULL);
	if (!r)
		r = build_limits_plan(c);
	if (!r && has_container(c, -1)) {
		init_log_path(c, name, sizeof(name));
		r = build_journal(c, DB_FILE, name, NULL);
	}
	/* a fragment's remote nodes keep their (empty) tasks: ids stay i and
	 * nnodes + i */
	for (i = 0; i < x->nnodes && !r; i++) {
		const struct build_node_kind *k = build_node_kind_of(c, i);
		bool here = realize_node_here(c->rz, i);

		build_netns_name(c->id, x->nodes[i].name, name, sizeof(name));
		r = k->netns && here ? build_journal(c, DB_NETNS, name, NULL) : 0;
		if (!r)
			r = build_task(c, here ? k->create : NULL, i, 0, 0, &id);
	}
	for (i = 0; i < x->nnodes && !r; i++) {
		r = build_task(c, realize_node_here(c->rz, i) ? build_node_kind_of(c, i)->config : NULL,
			       i, 0, 0, &id);
		/* a node with no links still waits for its namespace */
		if (!r)
			r = dag_edge(c->g, i, id);
	}
	for (i = 0; i < x->nlinks && !r; i++)
		if (realize_link_here(c->rz, i))
			r = link_kinds[c->rz->links[i].cls]->plan(c, i);
	return r;
}

/* build_set_stop's flag: the process's one, as signals are. */
static const volatile sig_atomic_t *build_stop;

void build_set_stop(const volatile sig_atomic_t *stop)
{
	build_stop = stop;
}

/* Create the experiment's substrate namespace (c->sub) and hold it in
 * c->sub_fd, then turn IPv6 off in it before any interface exists there:
 * no substrate interface gets an address, sends router solicitations or
 * MLD reports, or answers a node. Where br_netfilter is loaded (Docker
 * hosts load it) every bridged frame would also run the substrate's empty
 * iptables hooks: turned off, as nothing of vtb filters there. A kernel
 * without IPv6 or br_netfilter has nothing to turn off. Returns 0 or a
 * negative errno (after build_fail). */
static int substrate_create(struct build_ctx *c)
{
	static const char *const sysctls[][2] = {
		{ "net/ipv6/conf/all/disable_ipv6", "1" },
		{ "net/ipv6/conf/default/disable_ipv6", "1" },
		{ "net/bridge/bridge-nf-call-iptables", "0" },
		{ "net/bridge/bridge-nf-call-ip6tables", "0" },
		{ "net/bridge/bridge-nf-call-arptables", "0" },
	};
	size_t i;
	int r;

	r = netns_create(c->sub, c->sub);
	if (r == -EEXIST)
		build_not_ours(c, DB_NETNS, c->sub);
	if (!r) {
		c->sub_fd = netns_open(c->sub);
		r = c->sub_fd < 0 ? c->sub_fd : 0;
	}
	for (i = 0; !r && i < UTIL_ARRAY_SIZE(sysctls); i++) {
		r = netns_sysctl(c->sub_fd, sysctls[i][0], sysctls[i][1]);
		if (r == -ENOENT)
			r = 0;
	}
	if (r)
		build_fail(c, strerror(-r), "cannot create the experiment's substrate namespace %s",
			   c->sub);
	return r;
}

static void on_progress(void *ctx, size_t done, size_t total)
{
	struct build_ctx *c = ctx;

	if (c->progress)
		c->progress(c->parg, done, total);
}

int build_up(struct db *db, const char *id, const struct realization *rz,
	     build_progress_fn progress, void *parg, struct build_error *err)
{
	struct build_ctx c = { .id = id, .rz = rz, .x = rz->x, .err = err, .progress = progress,
			       .parg = parg, .sub_fd = -1, .mnt_tmpl = { -1, -1 }, .log_fd = -1,
			       .factory = { .pid = -1, .sock = -1 } };
	size_t i;
	int r;

	memset(err, 0, sizeof(*err));
	build_substrate_name(id, c.sub, sizeof(c.sub));
	pthread_mutex_init(&c.lock, NULL);
	c.ns_fd = malloc((c.x->nnodes + 1) * sizeof(*c.ns_fd));
	c.init = calloc(c.x->nnodes + 1, sizeof(*c.init));
	c.g = dag_new(&c);
	if (!c.ns_fd || !c.init || !c.g) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c.x->nnodes; i++)
		c.ns_fd[i] = -1;
	if (strcmp(rz->id, id)) {
		r = -EINVAL; /* realize_name was not called for this id: a bug */
		goto out;
	}
	r = make_plan(&c);
	if (r)
		goto out;
	/* the journal first: a crash from here on leaves a record of everything
	 * that may exist */
	r = db_journal_add(db, id, c.obj, c.nobj);
	if (r) {
		snprintf(err->what, sizeof(err->what), "cannot write the journal");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
		goto out;
	}
	r = substrate_create(&c);
	if (!r)
		r = build_limits_create(&c);
	if (!r)
		r = inits_prepare(&c);
	if (!r) {
		dag_set_stop(c.g, build_stop);
		/* every node's namespaces before any link: a node's helper
		 * writing its forwarding sysctl takes RTNL with a trylock and
		 * restarts the write until it gets it, spinning while the
		 * workers' netlink requests hold it (26-47 ms of CPU per 100
		 * nodes when they are interleaved) */
		dag_set_first(c.g, (uint32_t)c.x->nnodes);
		r = dag_run(c.g, BUILD_WORKERS, on_progress, NULL);
	}
	if (inits_journal(db, &c) && !r) {
		r = -EIO;
		snprintf(err->what, sizeof(err->what), "cannot journal the nodes' inits");
	}
	if (idents_journal(db, &c) && !r) {
		r = -EIO;
		snprintf(err->what, sizeof(err->what), "cannot journal what the kernel made");
	}
	if (forget_foreign(db, &c) && !r)
		r = -EIO;
out:
	if (r && !err->what[0]) {
		snprintf(err->what, sizeof(err->what), "cannot build the experiment");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
	}
	for (i = 0; i < BUILD_WORKERS; i++)
		nl_close(c.root[i]);
	for (i = 0; c.ns_fd && i < c.x->nnodes; i++)
		if (c.ns_fd[i] >= 0)
			close(c.ns_fd[i]);
	free(c.ns_fd);
	if (c.sub_fd >= 0)
		close(c.sub_fd);
	free(c.init);
	for (i = 0; i < 2; i++)
		if (c.mnt_tmpl[i] >= 0)
			close(c.mnt_tmpl[i]);
	if (c.log_fd >= 0)
		close(c.log_fd);
	noderun_factory_stop(&c.factory);
	dag_free(c.g);
	free(c.t);
	free(c.obj);
	free(c.foreign);
	pthread_mutex_destroy(&c.lock);
	return r;
}

