/* status: an experiment's status document. */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cgroup.h"
#include "linkstate.h"
#include "compile.h"
#include "fragment.h"
#include "netns.h"
#include "nodeop.h"
#include "proc.h"

const char *status_state_name(enum db_exp_state s)
{
	static const char *const names[] = { "creating", "up", "failed", "removing" };

	return (unsigned)s < 4 ? names[s] : "?";
}

/* A fragment's part (status_load): its document, kept by vtb
 * __fragment-up, parsed again; *x is its XIR. -ENOENT when the experiment
 * is not a fragment. */
static int load_fragment(struct db *db, const struct db_exp *exp, struct xir **x,
			 struct frag **f)
{
	char *doc = NULL, err[UTIL_ERR_LEN];
	int r = db_exp_get_doc(db, exp->id, "fragment", &doc);

	if (!r)
		r = frag_parse((const uint8_t *)doc, strlen(doc), f, err);
	if (!r) {
		*x = (*f)->x;
		(*f)->x = NULL;
	}
	free(doc);
	return r;
}

int status_load(struct db *db, const struct db_exp *exp, struct xir **x, struct realization **rz)
{
	/* everything fits: the allocations were checked when it came up */
	struct rz_host host = { .cores = UINT64_MAX / 2, .memory = UINT64_MAX / 2,
				 .cpu_hz = UINT64_MAX / 2 };
	struct frag *f = NULL;
	struct diag_list d;
	char *doc = NULL, err[UTIL_ERR_LEN];
	int r;

	*x = NULL;
	*rz = NULL;
	r = load_fragment(db, exp, x, &f);
	if (r == -ENOENT)
		r = db_exp_get_doc(db, exp->id, "xir", &doc);
	if (r)
		return r;
	diag_init(&d, exp->name, doc, doc ? strlen(doc) : 0);
	if (!f)
		r = compile_source(exp->name, doc, strlen(doc), NULL, x, &d, NULL);
	if (!r) {
		r = realize(*x, &host, rz, &d);
		if (!r && f)
			r = realize_cluster(*rz, &f->cl, err, sizeof(err));
		if (!r)
			r = realize_name(*rz, exp->id);
		if (r) {
			realize_free(*rz);
			*rz = NULL;
			xir_free(*x);
			*x = NULL;
		}
	}
	diag_free(&d);
	free(doc);
	frag_free(f);
	return r;
}

int status_load_id(const char *id, struct xir **x, struct realization **rz)
{
	struct db *db = NULL;
	struct db_exp e;
	char why[128];
	int r;

	*x = NULL;
	*rz = NULL;
	r = db_open(db_state_dir(), &db, why, sizeof(why));
	if (!r)
		r = db_exp_get(db, id, &e);
	if (!r)
		r = status_load(db, &e, x, rz);
	db_close(db);
	return r;
}

static json_t *addr_json(const struct addr_prefix *a)
{
	char buf[64];

	return a->family ? json_string(addr_format(a, buf, sizeof(buf))) : json_null();
}

/* Node i of exp (fz: its freezer, nodeop_freezer). */
static json_t *node_json(const struct db_exp *exp, const struct xir *x,
			 const struct realization *rz, size_t i, const char *fz)
{
	const struct rz_node *n = &rz->nodes[i];
	json_t *o = json_object(), *ifs = json_array();
	char ns[160], mac[32];
	size_t k;
	int r;

	build_netns_name(exp->id, x->nodes[i].name, ns, sizeof(ns));
	json_object_set_new(o, "name", json_string(x->nodes[i].name));
	json_object_set_new(o, "kind", json_string(n->kind == RZ_VM ? "vm" : "container"));
	json_object_set_new(o, "netns", json_string(ns));
	if (n->privileged)
		json_object_set_new(o, "privileged", json_true());
	r = n->kind == RZ_VM ? 0 : netns_exists(ns);
	if (rz->cluster) /* a fragment's: where each node is */
		json_object_set_new(o, "host",
				    json_string(rz->cluster->host[rz->cluster->host_of[i]]));
	json_object_set_new(o, "state", json_string(!realize_node_here(rz, i) ? "remote"
						    : r > 0			  ? "up"
						    : r == 0			  ? "missing"
										  : "unknown"));
	/* by vtb node stop: read from its freezer cgroup, never stored */
	json_object_set_new(o, "stopped",
			    json_boolean(nodeop_stopped_in(fz, x->nodes[i].name) == 1));
	json_object_set_new(o, "cores", json_integer((json_int_t)n->cores));
	json_object_set_new(o, "memory", json_integer((json_int_t)n->memory));
	for (k = 0; k < n->nifs; k++) {
		const struct rz_iface *f = &n->ifs[k];
		json_t *jf = json_object();

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", f->mac[0], f->mac[1],
			 f->mac[2], f->mac[3], f->mac[4], f->mac[5]);
		json_object_set_new(jf, "name", json_string(f->name));
		json_object_set_new(jf, "link", json_string(x->links[f->link].name));
		json_object_set_new(jf, "ipv4", addr_json(&f->v4));
		json_object_set_new(jf, "ipv6", addr_json(&f->v6));
		json_object_set_new(jf, "mac", json_string(mac));
		json_array_append_new(ifs, jf);
	}
	json_object_set_new(o, "interfaces", ifs);
	return o;
}

/* The enforced limits of node name and what they did (docs/limits.md):
 * {"cpu": cores of bandwidth, "memory": bytes, "cpu_s": CPU time used,
 * "oom_kills": processes killed for the memory limit}; NULL when it has
 * none. */
static json_t *limits_json(const struct cg_exp *cg, const char *name)
{
	struct cg_stats s;

	if (!cg->n || cg_node_stats(cg, name, &s))
		return NULL;
	return json_pack("{s:f,s:I,s:f,s:I}", "cpu", s.lim.cpu_milli / 1000.0, "memory",
			 (json_int_t)s.lim.memory, "cpu_s", s.usage_us / 1e6, "oom_kills",
			 (json_int_t)s.oom_kills);
}

uint64_t status_oom_kills(struct db *db, const char *id, const char *node)
{
	struct db_obj *rows = NULL;
	struct cg_exp cg;
	struct cg_stats s = { .oom_kills = 0 };
	size_t n = 0;

	if (!db_journal_list(db, id, &rows, &n) && !cg_exp_from_rows(rows, n, &cg))
		(void)cg_node_stats(&cg, node, &s); /* no cgroup: none */
	free(rows);
	return s.oom_kills;
}

static json_t *link_json(const struct xir *x, const struct realization *rz, size_t i)
{
	const struct xir_link *l = &x->links[i];
	json_t *o = json_object(), *eps = json_array();
	size_t k;

	json_object_set_new(o, "name", json_string(l->name));
	json_object_set_new(o, "kind", json_string(rz->links[i].kind == RZ_LAN ? "lan" : "p2p"));
	json_object_set_new(o, "emulated", json_boolean(rz->links[i].emulated));
	json_object_set_new(o, "class", json_string(realize_class_name(rz->links[i].cls)));
	if (realize_link_dispersed(rz, i))
		json_object_set_new(o, "vni", json_integer(rz->cluster->vni[i]));
	for (k = 0; k < l->nep; k++)
		json_array_append_new(eps, json_string(x->nodes[l->ep[k].node].name));
	json_object_set_new(o, "endpoints", eps);
	json_object_set_new(o, "subnet4", addr_json(&rz->links[i].subnet4));
	json_object_set_new(o, "subnet6", addr_json(&rz->links[i].subnet6));
	/* cut by vtb link down: a port (or a direct veth's end) set down */
	json_object_set_new(o, "down", json_boolean(linkstate_is_down(rz, i) == 1));
	return o;
}

json_t *status_json(struct db *db, const struct db_exp *exp)
{
	struct realization *rz = NULL;
	struct xir *x = NULL;
	json_t *o = json_object(), *nodes = json_array(), *links = json_array();
	bool alive = exp->owner_pid > 0 && proc_start_time(exp->owner_pid) == exp->owner_start;
	struct db_obj *rows = NULL;
	struct cg_exp cg = { .n = 0 };
	size_t i, nrows = 0;
	char fz[CG_PATH];

	json_object_set_new(o, "name", json_string(exp->name));
	json_object_set_new(o, "id", json_string(exp->id));
	json_object_set_new(o, "state", json_string(status_state_name(exp->state)));
	json_object_set_new(o, "model", json_string(exp->model));
	json_object_set_new(o, "created", json_real(exp->created));
	json_object_set_new(o, "supervisor", json_pack("{s:i,s:b}", "pid", (int)exp->owner_pid,
							"alive", alive));
	if (!db_journal_list(db, exp->id, &rows, &nrows))
		(void)cg_exp_from_rows(rows, nrows, &cg); /* none: cg.n stays 0 */
	nodeop_freezer(exp->id, fz, sizeof(fz));
	if (!status_load(db, exp, &x, &rz)) {
		for (i = 0; i < x->nnodes; i++) {
			json_t *n = node_json(exp, x, rz, i, fz);
			json_t *lim = limits_json(&cg, x->nodes[i].name);

			if (lim)
				json_object_set_new(n, "limits", lim);
			json_array_append_new(nodes, n);
		}
		for (i = 0; i < x->nlinks; i++)
			json_array_append_new(links, link_json(x, rz, i));
	}
	json_object_set_new(o, "nodes", nodes);
	json_object_set_new(o, "links", links);
	realize_free(rz);
	xir_free(x);
	free(rows);
	return o;
}
