/* vtb up, down and status on a cluster (docs/cluster.md, "Experiments
 * across hosts"): the experiment is placed on the live hosts, its
 * capacity taken in etcd transactions, one fragment document per host
 * written to etcd, and each host's agent builds its part (vtb
 * __fragment-up) and reports; this process waits, shows each host's
 * progress and, on a failure or a signal, has every host remove its part
 * and gives everything back. */
#include "clup.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cldoc.h"
#include "clexp.h"
#include "clhost.h"
#include "etcd.h"
#include "place.h"
#include "realize.h"
#include "renewer.h"
#include "tls.h"
#include "util.h"
#include "xir_json.h"

/* How long each wait on etcd's watch lasts before vtb looks at the
 * hosts' liveness and at signals again. */
#define CLUP_WATCH_MS 1000
/* How long vtb down (and a rollback) waits for the hosts to report their
 * part removed: a 1000-node part takes about a second to remove. A lost
 * host is not waited for, and one silent this long counts as not
 * reached: its part stays until its agent runs again (clexp_release). */
#define CLUP_DOWN_WAIT_S 120

/* How a removal ended on each host (clup_wait). */
enum { CLUP_REACHED, CLUP_LOST, CLUP_SILENT };

int clup_conf(struct clconf *c)
{
	char err[UTIL_ERR_LEN];
	int r = clconf_read(NULL, c, err);

	if (r == -ENOENT)
		return 0;
	if (r) {
		cli_err("%s", err);
		return -EINVAL;
	}
	return 1;
}

/* The owner lease: the lease of the vtb up or down acting on an
 * experiment, kept by a renewer until this process lets go (or dies). */
struct clup_owner {
	struct etcd *e;     /* its own connection: the renewer's */
	int64_t lease;
	struct renewer w;
};

static int clup_owner_renew(void *arg)
{
	struct clup_owner *o = arg;
	char err[UTIL_ERR_LEN];
	int64_t ttl;

	etcd_lease_keepalive(o->e, o->lease, &ttl, err);
	return 0;
}

/* Take a lease for this process and renew it in a thread. */
static int clup_owner_start(const struct clconf *c, struct clup_owner *o, char *err)
{
	int r;

	*o = (struct clup_owner){ .lease = 0 };
	r = tls_etcd_open(c, &o->e, err);
	if (!r)
		r = etcd_lease_grant(o->e, CLEXP_OWNER_LEASE_S, &o->lease, err);
	if (!r)
		r = renewer_start(&o->w, CLEXP_OWNER_LEASE_S * 1000 / 3, clup_owner_renew, o);
	return r;
}

/* Stop renewing and revoke the lease (the owner key goes with it). */
static void clup_owner_stop(struct clup_owner *o)
{
	char err[UTIL_ERR_LEN];

	renewer_stop(&o->w);
	if (o->lease)
		etcd_lease_revoke(o->e, o->lease, err);
	etcd_close(o->e);
}

/* The live hosts for placement (names point into v). */
static size_t clup_live(const struct clhost *v, size_t n, struct place_host *p)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (v[i].alive)
			p[k++] = (struct place_host){ .name = v[i].name, .cores = v[i].cores,
						      .memory = v[i].memory,
						      .used_cores = v[i].used_cores,
						      .used_memory = v[i].used_memory,
						      .kvm = v[i].kvm, .alive = true };
	return k;
}

/* Realize x against the live hosts' sum and place it. CLI_OK with *rz and
 * host_of (indexes into p), or the exit status (diagnostics said). */
static int clup_place(const char *file, const char *src, size_t len, const struct xir *x,
		      const struct place_host *p, size_t np, struct realization **rz,
		      uint32_t *host_of)
{
	struct rz_host sum = { .cores = 0 };
	struct diag_list d;
	size_t i;
	int r;

	for (i = 0; i < np; i++) {
		sum.cores += p[i].cores / 1000;
		sum.memory += p[i].memory;
	}
	r = cli_host_cpu_hz(&sum.cpu_hz);
	if (r)
		return CLI_USER;
	diag_init(&d, file, src, len);
	r = realize(x, &sum, rz, &d);
	if (!r)
		r = place_nodes(x, *rz, p, np, host_of, &d);
	cli_diag_print(&d);
	return r == -ENOMEM ? CLI_SYSTEM : r ? CLI_USER : CLI_OK;
}

/* An experiment being brought up: what clup_up's steps share. */
struct clup {
	const struct clconf *c;
	struct etcd *e;
	const struct xir *x;
	struct realization *rz;
	const struct clhost *all; /* every host of the cluster (clhost_list) */
	size_t nall;
	struct place_host *p;   /* the live hosts (names point into all) */
	size_t np;
	uint32_t *host_of;      /* per node: index into p */
	uint32_t *vni;          /* per link: its VNI, 0 when on one host */
	struct clexp exp;       /* its record; exp.hosts: the hosts holding part */
	uint32_t *part;         /* per exp.hosts entry: index into p */
};

/* Which hosts hold part of the experiment, in p's order, into u->exp. */
static int clup_hosts(struct clup *u)
{
	bool *used = calloc(u->np + 1, sizeof(*used));
	size_t i;

	u->exp.hosts = calloc(u->np + 1, sizeof(*u->exp.hosts));
	u->part = calloc(u->np + 1, sizeof(*u->part));
	if (!used || !u->exp.hosts || !u->part) {
		free(used);
		return -ENOMEM;
	}
	for (i = 0; i < u->x->nnodes; i++)
		used[u->host_of[i]] = true;
	for (i = 0; i < u->np; i++)
		if (used[i]) {
			u->part[u->exp.nhosts] = (uint32_t)i;
			snprintf(u->exp.hosts[u->exp.nhosts++], CLCONF_HOST_MAX, "%s", u->p[i].name);
		}
	free(used);
	return 0;
}

/* Take what each host's part holds, in one transaction. */
static int clup_alloc(struct clup *u, const struct clhost *caps, size_t ncaps, char *err)
{
	uint64_t *cores = calloc(u->exp.nhosts + 1, sizeof(*cores)),
		 *mem = calloc(u->exp.nhosts + 1, sizeof(*mem));
	struct place_demand d;
	size_t i, k;
	int r = cores && mem ? 0 : -ENOMEM;

	for (i = 0; !r && i < u->x->nnodes; i++) {
		place_demand(u->rz, (uint32_t)i, &d);
		for (k = 0; k < u->exp.nhosts && u->part[k] != u->host_of[i]; k++)
			;
		cores[k] += d.cpu_milli;
		mem[k] += d.memory;
	}
	if (!r)
		r = clexp_alloc(u->e, u->exp.id, u->exp.hosts, cores, mem, u->exp.nhosts, caps, ncaps,
				err);
	free(cores);
	free(mem);
	return r;
}

/* A VNI for each link whose endpoints are on more than one host. */
static int clup_vnis(struct clup *u, char *err)
{
	uint32_t *v = calloc(u->x->nlinks + 1, sizeof(*v));
	size_t i, j, n = 0, k = 0;
	int r;

	u->vni = calloc(u->x->nlinks + 1, sizeof(*u->vni));
	if (!v || !u->vni) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < u->x->nlinks; i++)
		for (j = 1; j < u->x->links[i].nep && !u->vni[i]; j++)
			if (u->host_of[u->x->links[i].ep[j].node] !=
			    u->host_of[u->x->links[i].ep[0].node])
				u->vni[i] = 1, n++;
	r = n ? clexp_vnis(u->e, u->exp.id, v, n, err) : 0;
	for (i = 0; !r && i < u->x->nlinks; i++)
		if (u->vni[i])
			u->vni[i] = v[k++];
	free(v);
	return r;
}

/* The index in u->all of the host named name (one of the live ones). */
static size_t clup_host_index(const struct clup *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->nall && strcmp(u->all[i].name, name); i++)
		;
	return i < u->nall ? i : 0;
}

/* The fragment document every host's is (docs/cluster.md), but for its
 * "host" member, which cldoc_get puts in; the caller frees it. */
static char *clup_fragment(const struct clup *u, json_t *xir)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:{}, s:[], s:[], s:O}", "version", 1, "name",
			      u->exp.name, "id", u->exp.id, "hosts", "place", "vni", "xir", xir);
	json_t *hosts = json_object_get(o, "hosts"), *place = json_object_get(o, "place"),
	       *vni = json_object_get(o, "vni");
	char *text;
	size_t i;

	for (i = 0; o && i < u->exp.nhosts; i++)
		json_object_set_new(hosts, u->exp.hosts[i],
				    json_string(u->all[clup_host_index(u, u->exp.hosts[i])].underlay));
	for (i = 0; o && i < u->x->nnodes; i++)
		json_array_append_new(place, json_string(u->p[u->host_of[i]].name));
	for (i = 0; o && i < u->x->nlinks; i++)
		json_array_append_new(vni, json_integer(u->vni[i]));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

static int clup_wake(const struct etcd_kv *kv, bool deleted, void *arg)
{
	(void)kv;
	(void)deleted;
	(void)arg;
	return 1;
}

/* Whether each host of x is alive (its agent renews its lease): alive[i]
 * per x->hosts entry. */
static int clup_alive(struct etcd *e, const struct clexp *x, bool *alive, char *err)
{
	struct clhost *v = NULL;
	size_t n = 0, i, k;
	int r = clhost_list(e, &v, &n, err);

	for (i = 0; !r && i < x->nhosts; i++) {
		for (k = 0; k < n && strcmp(v[k].name, x->hosts[i]); k++)
			;
		alive[i] = k < n && v[k].alive;
	}
	free(v);
	return r;
}

/* Say what changed in the hosts' reports st (was: the last ones seen).
 * The states already there when a removal starts are no news. */
static void clup_say(const struct clexp *x, char (*st)[16], char (*was)[16],
		     char (*msg)[UTIL_ERR_LEN], bool news)
{
	size_t i;

	for (i = 0; i < x->nhosts; i++) {
		if (strcmp(st[i], was[i]) && st[i][0] && news)
			fprintf(stderr, "vtb: %s: %s%s%s\n", x->hosts[i], st[i], msg[i][0] ? ": " : "",
				msg[i]);
		memcpy(was[i], st[i], sizeof(st[i]));
	}
}

/* Wait until every host of x reports want (CLEXP_UP or CLEXP_DOWN),
 * saying each host's changes. Bringing up (miss NULL): returns 0; -EIO
 * when a host reports failed (err: its words); -EHOSTDOWN when a host is
 * lost (err names it); -EINTR on a signal. Removing (miss: per host): a
 * lost host is not waited for (miss[i] CLUP_LOST), nor one silent past
 * deadline_s (CLUP_SILENT); returns 0 once the others reported. */
static int clup_wait(struct etcd *e, const struct clexp *x, const char *want, int deadline_s,
		     uint8_t *miss, char *err)
{
	char (*st)[16] = calloc(x->nhosts + 1, sizeof(*st)), (*was)[16] = calloc(x->nhosts + 1, 16);
	char (*msg)[UTIL_ERR_LEN] = calloc(x->nhosts + 1, sizeof(*msg)), prefix[64];
	bool *alive = calloc(x->nhosts + 1, sizeof(*alive)), late = false;
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	size_t i, done, rounds = 0;
	int64_t rev;
	int r = st && was && msg && alive ? 0 : -ENOMEM;

	snprintf(prefix, sizeof(prefix), "/vtb/exp/%s/status/", x->id);
	for (i = 0; !r && i < x->nhosts; i++)
		alive[i] = true;
	while (!r) {
		r = clexp_status_get(e, x->id, x->hosts, x->nhosts, st, msg, &rev, err);
		if (!r)
			clup_say(x, st, was, msg, rounds || !miss);
		for (i = 0, done = 0; !r && i < x->nhosts; i++) {
			done += !strcmp(st[i], want) || (miss && (!alive[i] || late));
			if (!strcmp(st[i], CLEXP_FAILED) && !miss) {
				util_fmt(err, UTIL_ERR_LEN, "host '%s': %s", x->hosts[i], msg[i]);
				r = -EIO;
			}
		}
		rounds++;
		if (r || done == x->nhosts)
			break;
		if (cli_stop && !miss) {
			r = -EINTR;
			break;
		}
		late = deadline_s && util_clock_s(CLOCK_MONOTONIC) - t0 > deadline_s;
		if (!late)
			r = clup_alive(e, x, alive, err);
		for (i = 0; !r && !miss && i < x->nhosts; i++)
			if (!alive[i]) {
				util_fmt(err, UTIL_ERR_LEN, "host '%s' is lost (its agent does not renew "
					 "its lease)", x->hosts[i]);
				r = -EHOSTDOWN;
			}
		if (!r && !late) {
			r = etcd_watch_prefix(e, prefix, rev + 1, CLUP_WATCH_MS, clup_wake, NULL, err);
			r = r == -ETIMEDOUT || r > 0 ? 0 : r;
		}
	}
	for (i = 0; !r && miss && i < x->nhosts; i++)
		miss[i] = !strcmp(st[i], want) ? CLUP_REACHED : !alive[i] ? CLUP_LOST : CLUP_SILENT;
	free(st);
	free(was);
	free(msg);
	free(alive);
	return r;
}

/* Have every host remove its part of x and wait for them, then give back
 * what x holds. A host not reached (lost, or silent for CLUP_DOWN_WAIT_S)
 * keeps its part, its allocation and its want until its agent runs again
 * (clexp_release): said, and counted in *left. */
static int clup_remove(struct etcd *e, struct clexp *x, size_t *left, char *err)
{
	uint8_t *miss = calloc(x->nhosts + 1, sizeof(*miss));
	bool *lost = calloc(x->nhosts + 1, sizeof(*lost));
	char why[64];
	size_t i;
	int r = miss && lost ? 0 : -ENOMEM;

	*left = 0;
	snprintf(x->state, sizeof(x->state), CLEXP_REMOVING);
	if (!r)
		r = clexp_put(e, x, err);
	for (i = 0; !r && i < x->nhosts; i++)
		r = clexp_want(e, x, x->hosts[i], false, err);
	if (!r)
		r = clup_wait(e, x, CLEXP_DOWN, CLUP_DOWN_WAIT_S, miss, err);
	for (i = 0; !r && i < x->nhosts; i++) {
		if (miss[i] == CLUP_REACHED)
			continue;
		lost[i] = true;
		++*left;
		if (miss[i] == CLUP_LOST)
			snprintf(why, sizeof(why), "lost: its agent does not renew its lease");
		else
			snprintf(why, sizeof(why), "it did not report within %d s", CLUP_DOWN_WAIT_S);
		cli_err("host '%s' was not reached (%s): its part of '%s' stays there, with its "
			"allocation, until its agent runs again and removes it (etcd: %s%s/%s)",
			x->hosts[i], why, cli_esc(x->name), CLEXP_LEFT_PREFIX, x->id, x->hosts[i]);
	}
	if (!r)
		r = clexp_release(e, x, lost, err);
	free(miss);
	free(lost);
	return r;
}

/* Write the experiment's document once (cldoc: compressed, in pieces,
 * a head per host), then ask each host's agent to build its fragment. */
static int clup_publish(struct clup *u, char *err)
{
	char *doc = xjson_dumps(u->x), *frag = NULL;
	json_t *xir = doc ? json_loads(doc, 0, NULL) : NULL;
	size_t i;
	int r = xir && (frag = clup_fragment(u, xir)) != NULL ? 0 : -ENOMEM;

	if (!r)
		r = cldoc_put(u->e, u->exp.id, frag, strlen(frag), u->exp.hosts, u->exp.nhosts, err);
	for (i = 0; !r && i < u->exp.nhosts; i++)
		r = clexp_want(u->e, &u->exp, u->exp.hosts[i], true, err);
	json_decref(xir);
	free(frag);
	free(doc);
	return r;
}

static void clup_summary(const struct clup *u, double secs)
{
	size_t i, k, cross = 0;
	char a[64];

	for (i = 0; i < u->x->nlinks; i++)
		cross += u->vni[i] != 0;
	printf("experiment '%s' is up (id %s) in %.2f s across %zu host%s: %zu node%s, %zu link%s "
	       "(%zu between hosts)\n", cli_esc(u->exp.name), u->exp.id, secs, u->exp.nhosts,
	       u->exp.nhosts == 1 ? "" : "s", u->x->nnodes, u->x->nnodes == 1 ? "" : "s",
	       u->x->nlinks, u->x->nlinks == 1 ? "" : "s", cross);
	for (i = 0; i < u->x->nnodes && i < CLUP_SUMMARY_MAX; i++) {
		printf("  %-12s %-8s", cli_esc(u->x->nodes[i].name), cli_esc(u->p[u->host_of[i]].name));
		for (k = 0; k < u->rz->nodes[i].nifs; k++) {
			const struct rz_iface *f = &u->rz->nodes[i].ifs[k];

			printf("  %s %s", f->name, f->v4.family ? addr_format(&f->v4, a, sizeof(a)) : "-");
		}
		printf("\n");
	}
	if (i < u->x->nnodes)
		printf("  ... and %zu more\n", u->x->nnodes - i);
	printf("remove: vtb down %s (from any host of the cluster)\n", cli_esc(u->exp.name));
}

/* Steps of clup_up after the claim: names, allocation, VNIs, fragments,
 * the wait. 0 or a negative errno with err. */
static int clup_build(struct clup *u, char *err)
{
	int r = realize_name(u->rz, u->exp.id);

	if (!r)
		r = clup_hosts(u);
	if (!r)
		r = clup_alloc(u, u->all, u->nall, err);
	if (!r)
		r = clup_vnis(u, err);
	if (!r)
		r = clexp_put(u->e, &u->exp, err);
	if (!r)
		r = clup_publish(u, err);
	if (!r)
		r = clup_wait(u->e, &u->exp, CLEXP_UP, 0, NULL, err);
	return r;
}

int clup_up(const struct clconf *c, const char *file, const char *src, size_t len,
	    const struct xir *x)
{
	struct clup u = { .c = c, .x = x };
	struct clhost *all = NULL;
	struct clup_owner own;
	char err[UTIL_ERR_LEN] = "", rerr[UTIL_ERR_LEN];
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	int status = CLI_SYSTEM, r;
	size_t left;

	own = (struct clup_owner){ .e = NULL };
	r = tls_etcd_open(c, &u.e, err);
	if (!r)
		r = clhost_list(u.e, &all, &u.nall, err);
	u.all = all;
	u.p = calloc(u.nall + 1, sizeof(*u.p));
	u.host_of = calloc(x->nnodes + 1, sizeof(*u.host_of));
	if (!r && (!u.p || !u.host_of))
		r = -ENOMEM;
	if (r) {
		cli_err("up: %s", err[0] ? err : strerror(-r));
		goto out;
	}
	u.np = clup_live(all, u.nall, u.p);
	if (!u.np) {
		cli_err("up: no host of the cluster at %s is alive (vtb cluster status; vtb agent)",
			c->etcd);
		goto out;
	}
	status = clup_place(file, src, len, x, u.p, u.np, &u.rz, u.host_of);
	if (status)
		goto out;
	status = CLI_SYSTEM;
	r = clup_owner_start(c, &own, err);
	if (!r)
		r = clexp_claim(u.e, x->name, c->host, own.lease, &u.exp, err);
	if (r == -EEXIST) {
		cli_err("experiment '%s' is already up in the cluster: vtb down %s first, or give --name",
			cli_esc(x->name), cli_esc(x->name));
		status = CLI_USER;
		goto out;
	}
	if (r) {
		cli_err("up: %s", err);
		goto out;
	}
	r = clup_build(&u, err);
	if (!r) {
		snprintf(u.exp.state, sizeof(u.exp.state), CLEXP_UP);
		r = clexp_put(u.e, &u.exp, err);
	}
	if (r) {
		cli_block_signals();
		if (cli_stop)
			cli_err("interrupted (%s): every host removes what it built", strsignal(cli_stop));
		else
			cli_err("up: %s: every host removes what it built", r == -ENOSPC ? err : err[0] ? err : strerror(-r));
		if (clup_remove(u.e, &u.exp, &left, rerr))
			cli_err("and could not give everything back: %s (vtb clean finishes it)", rerr);
		status = cli_stop ? 128 + cli_stop : r == -ENOSPC ? CLI_USER : CLI_SYSTEM;
		goto out;
	}
	clup_summary(&u, util_clock_s(CLOCK_MONOTONIC) - t0);
	status = CLI_OK;
out:
	if (own.e)
		clup_owner_stop(&own);
	clexp_free(&u.exp);
	realize_free(u.rz);
	free(u.part);
	free(u.vni);
	free(u.host_of);
	free(u.p);
	free(all);
	etcd_close(u.e);
	return status;
}

int clup_down(const struct clconf *c, const char *name)
{
	struct etcd *e = NULL;
	struct clup_owner own = { .e = NULL };
	struct clexp x = { .nhosts = 0 };
	char err[UTIL_ERR_LEN];
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	int r, status = CLI_SYSTEM;
	size_t left;

	r = tls_etcd_open(c, &e, err);
	if (!r)
		r = clexp_find(e, name, &x, err);
	if (r == -ENOENT) {
		status = -1; /* not the cluster's: the caller looks here */
		goto out;
	}
	if (!r)
		r = clup_owner_start(c, &own, err);
	if (!r)
		r = clexp_own(e, &x, own.lease, err);
	if (r == -EBUSY) {
		cli_err("experiment '%s' is being changed by another vtb (its up or down runs)",
			cli_esc(name));
		status = CLI_USER;
		goto out;
	}
	cli_block_signals();
	if (!r)
		r = clup_remove(e, &x, &left, err);
	if (r) {
		cli_err("down: %s", err);
		goto out;
	}
	printf("removed experiment '%s' (id %s) from %zu host%s in %.2f s", cli_esc(name), x.id,
	       x.nhosts - left, x.nhosts - left == 1 ? "" : "s", util_clock_s(CLOCK_MONOTONIC) - t0);
	if (left)
		printf("; %zu host%s not reached (vtb status lists what is left)", left,
		       left == 1 ? "" : "s");
	putchar('\n');
	status = CLI_OK;
out:
	if (own.e)
		clup_owner_stop(&own);
	clexp_free(&x);
	etcd_close(e);
	return status;
}

int clup_clean(const struct clconf *c, size_t *removed)
{
	struct clexp *v = NULL;
	struct etcd *e = NULL;
	char err[UTIL_ERR_LEN];
	size_t n = 0, i;
	int r, status = CLI_OK;

	*removed = 0;
	r = tls_etcd_open(c, &e, err);
	if (!r)
		r = clexp_list(e, &v, &n, err);
	if (r) {
		cli_err("clean: %s", err);
		status = CLI_SYSTEM;
	}
	for (i = 0; !r && i < n; i++) {
		if (v[i].owned || !strcmp(v[i].state, CLEXP_UP))
			continue;
		fprintf(stderr, "vtb: clean: experiment '%s' (id %s) was left %s by a vtb that is gone: "
			"removing it from its hosts\n", cli_esc(v[i].name), v[i].id, v[i].state);
		if (clup_down(c, v[i].name) == CLI_OK)
			++*removed;
		else
			status = CLI_SYSTEM;
	}
	for (i = 0; i < n; i++)
		clexp_free(&v[i]);
	free(v);
	etcd_close(e);
	return status;
}
