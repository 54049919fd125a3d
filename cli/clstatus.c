/* vtb status on a cluster (docs/cluster.md, "Hosts that die and come
 * back"): the cluster's experiments, or one of them with each host's
 * report and liveness; an experiment with a host lost is shown degraded,
 * with the nodes and links gone with that host; the parts a vtb down could
 * not reach are listed. */
#include "clup.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cldoc.h"
#include "clexp.h"
#include "clhost.h"
#include "etcd.h"
#include "tls.h"
#include "fragment.h"
#include "util.h"

/* What clup_status_view shows of one experiment. */
struct clst {
	struct clexp x;
	char (*st)[16];            /* per host: its report */
	char (*msg)[UTIL_ERR_LEN];
	bool *alive;               /* per host: its agent renews its lease */
	int64_t *seen;             /* per host: its agent's last renewal */
	size_t nlost;
	struct frag *f;            /* the fragment (any host's), when a host is lost */
};

static void clst_free(struct clst *s)
{
	clexp_free(&s->x);
	free(s->st);
	free(s->msg);
	free(s->alive);
	free(s->seen);
	frag_free(s->f);
}

/* The state shown: "degraded" for an experiment up with a host lost. */
static const char *clst_state(const struct clexp *x, size_t nlost)
{
	return nlost && !strcmp(x->state, CLEXP_UP) ? "degraded" : x->state;
}

/* Mark each host of x alive or lost from the cluster's list v. */
static size_t clst_liveness(const struct clexp *x, const struct clhost *v, size_t n, bool *alive,
			    int64_t *seen)
{
	size_t i, k, lost = 0;

	for (i = 0; i < x->nhosts; i++) {
		for (k = 0; k < n && strcmp(v[k].name, x->hosts[i]); k++)
			;
		alive[i] = k < n && v[k].alive;
		seen[i] = k < n ? v[k].seen : 0;
		lost += !alive[i];
	}
	return lost;
}

/* Read experiment name: its record, reports, hosts' liveness and, when a
 * host is lost, a fragment (every host's holds the whole XIR and where
 * each node is). 0, -ENOENT, or a negative errno with err. */
static int clst_load(struct etcd *e, const char *name, struct clst *s, char *err)
{
	struct clhost *v = NULL;
	char *doc = NULL;
	size_t n = 0, len;
	int64_t rev;
	int r;

	*s = (struct clst){ .nlost = 0 };
	r = clexp_find(e, name, &s->x, err);
	if (r)
		return r;
	s->st = calloc(s->x.nhosts + 1, sizeof(*s->st));
	s->msg = calloc(s->x.nhosts + 1, sizeof(*s->msg));
	s->alive = calloc(s->x.nhosts + 1, sizeof(*s->alive));
	s->seen = calloc(s->x.nhosts + 1, sizeof(*s->seen));
	if (!s->st || !s->msg || !s->alive || !s->seen)
		return -ENOMEM;
	r = clexp_status_get(e, s->x.id, s->x.hosts, s->x.nhosts, s->st, s->msg, &rev, err);
	if (!r)
		r = clhost_list(e, &v, &n, err);
	if (!r)
		s->nlost = clst_liveness(&s->x, v, n, s->alive, s->seen);
	free(v);
	if (r || !s->nlost || !s->x.nhosts)
		return r;
	if (cldoc_get(e, s->x.id, s->x.hosts[0], &doc, &len, err) ||
	    frag_parse((const uint8_t *)doc, len, &s->f, err))
		s->f = NULL; /* shown without the nodes and links then */
	free(doc);
	return 0;
}

/* Whether node i of s's fragment is on host h (an index into s->x.hosts). */
static bool clst_on(const struct clst *s, uint32_t node, size_t h)
{
	return !strcmp(s->f->cl.host[s->f->cl.host_of[node]], s->x.hosts[h]);
}

/* Whether link l of s's fragment has an endpoint on host h. */
static bool clst_link_on(const struct clst *s, const struct xir_link *l, size_t h)
{
	size_t j;

	for (j = 0; j < l->nep; j++)
		if (clst_on(s, l->ep[j].node, h))
			return true;
	return false;
}

/* The names of the nodes (links) gone with host h, as a JSON array. */
static json_t *clst_gone(const struct clst *s, size_t h, bool links)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && s->f && i < (links ? s->f->x->nlinks : s->f->x->nnodes); i++)
		if (links ? clst_link_on(s, &s->f->x->links[i], h) : clst_on(s, (uint32_t)i, h))
			json_array_append_new(a, json_string(links ? s->f->x->links[i].name
								   : s->f->x->nodes[i].name));
	return a;
}

/* Print a list of names, at most CLUP_SUMMARY_MAX of them. */
static void clst_names(const char *what, json_t *a)
{
	size_t i, n = json_array_size(a);

	printf("%zu %s%s", n, what, n == 1 ? "" : "s");
	for (i = 0; i < n && i < CLUP_SUMMARY_MAX; i++)
		printf("%s%s", i ? ", " : " (", cli_esc(json_string_value(json_array_get(a, i))));
	printf("%s", i < n ? ", ...)" : n ? ")" : "");
}

static void clst_text(const struct clst *s)
{
	json_t *nodes, *links;
	int64_t now = (int64_t)time(NULL);
	size_t i;

	printf("experiment '%s' (id %s): %s across %zu host%s (made on %s)%s\n", cli_esc(s->x.name),
	       s->x.id, clst_state(&s->x, s->nlost), s->x.nhosts, s->x.nhosts == 1 ? "" : "s",
	       s->x.by, s->nlost ? ": a host is lost" : "");
	for (i = 0; i < s->x.nhosts; i++) {
		if (s->alive[i]) {
			printf("  %-12s %-9s %s\n", s->x.hosts[i], s->st[i][0] ? s->st[i] : "-", s->msg[i]);
			continue;
		}
		printf("  %-12s %-9s last heard %lld s ago; its part was %s\n", s->x.hosts[i], "lost",
		       (long long)(now - s->seen[i]), s->st[i][0] ? s->st[i] : "not reported");
	}
	for (i = 0; s->nlost && i < s->x.nhosts; i++) {
		if (s->alive[i])
			continue;
		if (!s->f) {
			printf("  gone with %s: its nodes and links (the fragment is unreadable)\n",
			       s->x.hosts[i]);
			continue;
		}
		nodes = clst_gone(s, i, false);
		links = clst_gone(s, i, true);
		printf("  gone with %s: ", s->x.hosts[i]);
		clst_names("node", nodes);
		printf("; ");
		clst_names("link", links);
		printf("\n");
		json_decref(nodes);
		json_decref(links);
	}
}

/* The cluster's view of one experiment as JSON (docs/cluster.md), or NULL
 * when out of memory. */
static json_t *clst_view(const struct clst *s)
{
	json_t *o, *hosts, *lost;
	size_t i;

	o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:[], s:[]}", "name", s->x.name, "id", s->x.id,
		      "state", clst_state(&s->x, s->nlost), "by", s->x.by, "degraded",
		      s->nlost != 0, "hosts", "lost");
	hosts = json_object_get(o, "hosts");
	lost = json_object_get(o, "lost");
	for (i = 0; o && i < s->x.nhosts; i++) {
		json_array_append_new(hosts, json_pack("{s:s, s:s, s:s, s:b, s:I}", "name",
						       s->x.hosts[i], "state", s->st[i], "msg",
						       s->msg[i], "alive", s->alive[i], "last_heard",
						       (json_int_t)s->seen[i]));
		if (!s->alive[i])
			json_array_append_new(lost, json_pack("{s:s, s:o, s:o}", "host", s->x.hosts[i],
							      "nodes", clst_gone(s, i, false),
							      "links", clst_gone(s, i, true)));
	}
	return o;
}

/* The cluster's experiments, one line each, and what vtb down left on
 * hosts it could not reach. */
static int clst_list(struct etcd *e, char *err)
{
	struct clexp *v = NULL;
	struct clexp_left *left = NULL;
	struct clhost *hv = NULL;
	size_t n = 0, nl = 0, nh = 0, i, lost;
	int r = clexp_list(e, &v, &n, err);
	bool *alive = NULL;
	int64_t *seen = NULL;

	if (!r)
		r = clhost_list(e, &hv, &nh, err);
	if (!r)
		r = clexp_left_list(e, &left, &nl, err);
	for (i = 0; !r && i < n; i++) {
		alive = calloc(v[i].nhosts + 1, sizeof(*alive));
		seen = calloc(v[i].nhosts + 1, sizeof(*seen));
		lost = alive && seen ? clst_liveness(&v[i], hv, nh, alive, seen) : 0;
		printf("%-16s %s  %-9s %zu host%s, made on %s%s", cli_esc(v[i].name), v[i].id,
		       clst_state(&v[i], lost), v[i].nhosts, v[i].nhosts == 1 ? "" : "s", v[i].by,
		       v[i].owned || !strcmp(v[i].state, CLEXP_UP) ? "" : " (its vtb is gone: vtb clean)");
		printf("%s\n", lost ? " (a host is lost: vtb status NAME)" : "");
		free(alive);
		free(seen);
	}
	for (i = 0; !r && i < nl; i++)
		printf("%-16s %s  %-9s its part on %s was not reached by vtb down %lld s ago: "
		       "removed when that host's agent runs again\n", cli_esc(left[i].name),
		       left[i].id, "left", left[i].host, (long long)(time(NULL) - left[i].since));
	for (i = 0; i < n; i++)
		clexp_free(&v[i]);
	free(v);
	free(hv);
	free(left);
	return r;
}

int clup_status_view(const struct clconf *c, const char *name, json_t **view)
{
	char err[UTIL_ERR_LEN];
	struct etcd *e = NULL;
	struct clst s = { .nlost = 0 };
	int r, status = CLI_OK;

	r = tls_etcd_open(c, &e, err);
	if (!r && !name)
		r = clst_list(e, err);
	else if (!r)
		r = clst_load(e, name, &s, err);
	if (r == -ENOENT) {
		status = -1;
		goto out;
	}
	if (r) {
		cli_err("status: %s", r == -ENOMEM ? strerror(-r) : err);
		status = CLI_SYSTEM;
		goto out;
	}
	if (name && view) {
		*view = clst_view(&s);
		status = *view ? CLI_OK : CLI_SYSTEM;
	} else if (name) {
		clst_text(&s);
	}
out:
	clst_free(&s);
	etcd_close(e);
	return status;
}
