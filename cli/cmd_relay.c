/* The relay's command side (docs/cluster.md, "The relay"): `vtb exec`,
 * `link`, `node`, `capture` and `status` of a cluster experiment act on
 * the hosts that hold what they name, through each host's agent
 * (cluster/relay.h); `--local` makes them act on this host's part only
 * (what an agent runs for another host); `vtb __relay-session` serves one
 * connection in the agent's stead. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_cluster.h"
#include "cldoc.h"
#include "clexp.h"
#include "cli.h"
#include "clup.h"
#include "etcd.h"
#include "fragment.h"
#include "linkside.h"
#include "relay.h"
#include "tls.h"
#include "util.h"
#include "xir.h"

bool cli_local;

/* A cluster experiment as the relay needs it: its fragment document
 * (every host's part: the XIR, each node's host, the hosts' underlays). */
struct relay_exp {
	struct clconf c;
	struct frag *f;
	int me; /* this host's index in f->cl.host, -1: none */
};

/* Load experiment name of the cluster: 1 with *x, 0 when this host is in
 * no cluster, has no certificates (no relay) or the cluster has no such
 * experiment (the command acts on this host as ever), or minus the exit
 * status after saying why. */
static int relay_exp_load(const char *name, struct relay_exp *x)
{
	struct etcd *e = NULL;
	struct clexp ce = { 0 };
	char err[UTIL_ERR_LEN], *val = NULL;
	size_t len;
	int r;

	x->f = NULL;
	if (clup_conf(&x->c) != 1 || !x->c.ca[0]) /* no certificates: no relay */
		return 0;
	r = tls_etcd_open(&x->c, &e, err);
	if (!r) /* the relay checks the other host's certificate against it */
		tls_crl_sync(e, &x->c, err);
	if (!r)
		r = clexp_find(e, name, &ce, err);
	if (!r && ce.nhosts == 0)
		r = -ENOENT;
	if (!r)
		r = cldoc_get(e, ce.id, ce.hosts[0], &val, &len, err);
	if (!r)
		r = frag_parse((const uint8_t *)val, len, &x->f, err);
	free(val);
	clexp_free(&ce);
	etcd_close(e);
	if (r == -ENOENT)
		return 0;
	if (r) {
		cli_err("cannot read experiment '%s' of the cluster: %s", cli_esc(name), err);
		return -CLI_SYSTEM;
	}
	x->me = -1;
	for (uint32_t h = 0; h < x->f->cl.nhosts; h++)
		if (!strcmp(x->f->cl.host[h], x->c.host))
			x->me = (int)h;
	return 1;
}

/* The host index of node called node, or -1. */
static int relay_node_host(const struct relay_exp *x, const char *node)
{
	for (size_t i = 0; i < x->f->x->nnodes; i++)
		if (!strcmp(x->f->x->nodes[i].name, node))
			return (int)x->f->cl.host_of[i];
	return -1;
}

/* The link pos names (a link's name, or two of its nodes), or -1. */
static int relay_link(const struct relay_exp *x, const char *const *pos, int npos)
{
	const struct xir *xr = x->f->x;
	size_t i, k;
	int a = -1, b = -1;

	if (npos == 1)
		return linkside_find(xr, pos[0]);
	for (i = 0; i < xr->nnodes; i++) {
		a = strcmp(xr->nodes[i].name, pos[0]) ? a : (int)i;
		b = strcmp(xr->nodes[i].name, pos[1]) ? b : (int)i;
	}
	for (i = 0; npos == 2 && a >= 0 && b >= 0 && i < xr->nlinks; i++) {
		bool ha = false, hb = false;

		for (k = 0; k < xr->links[i].nep; k++) {
			ha |= xr->links[i].ep[k].node == (uint32_t)a;
			hb |= xr->links[i].ep[k].node == (uint32_t)b;
		}
		if (ha && hb)
			return (int)i;
	}
	return -1;
}

/* Run argv (argc words, "--local" put after the command's name) on host
 * index h of x, with our standard input and output (or the output into
 * collect). The command's exit status, or CLI_SYSTEM after saying why. */
static int relay_run(const struct relay_exp *x, uint32_t h, int argc, char **argv, int in,
		     struct util_buf *collect)
{
	struct relay_io io = { .in = in, .out = 1, .err = 2, .collect = collect };
	char err[UTIL_ERR_LEN];
	int st, r;

	fflush(stdout);
	r = relay_call(&x->c, x->f->cl.host[h], x->f->cl.underlay[h], argc, argv, &io, &st, err);
	if (r) {
		cli_err("%s on host '%s': %s", argv[0], cli_esc(x->f->cl.host[h]), err);
		return CLI_SYSTEM;
	}
	return st;
}

/* Whether argv has the option word (before any "--"). */
static bool relay_has(int argc, char **argv, const char *word)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], word))
			return true;
	return false;
}

/* The hosts a command must reach, as a mask over x's hosts (at most 64
 * hosts per command: a link's ends, a node's host), for argv. 0 when the
 * command names nothing found (it runs here and says so). */
static uint64_t relay_targets(const struct relay_exp *x, int argc, char **argv, int *li)
{
	const char *pos[2], *from = NULL;
	int i, npos = 0, h, first = !strcmp(argv[0], "capture") ? 2 : 3, at;
	uint64_t mask = 0;
	bool emu_from;
	size_t k;

	*li = -1;
	if (!strcmp(argv[0], "exec") || !strcmp(argv[0], "node")) {
		at = !strcmp(argv[0], "exec") ? 2 : 3;
		h = at < argc ? relay_node_host(x, argv[at]) : -1;
		return h >= 0 && h < 64 ? 1ull << h : 0;
	}
	for (i = first; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < argc)
			from = argv[++i];
		else if ((!strcmp(argv[i], "-w") || !strcmp(argv[i], "-c")) && i + 1 < argc)
			i++;
		else if (argv[i][0] != '-' && !strchr(argv[i], '=') && npos < 2)
			pos[npos++] = argv[i];
	}
	*li = npos ? relay_link(x, pos, npos) : -1;
	if (*li < 0)
		return 0;
	/* link set with --from, and capture of the frames from sends where it
	 * sends them: its host; else every end's (capture: every receiver's,
	 * where an emulated link delivers them) */
	emu_from = from && !strcmp(argv[0], "capture") && !relay_has(argc, argv, "--ingress") &&
		   xir_link_is_emulated(x->f->x, &x->f->x->links[*li]);
	if (from && !emu_from && (h = relay_node_host(x, from)) >= 0 && h < 64 &&
	    (!strcmp(argv[0], "capture") || !strcmp(argv[1], "set")))
		return 1ull << h;
	for (k = 0; k < x->f->x->links[*li].nep; k++) {
		uint32_t node = x->f->x->links[*li].ep[k].node;

		h = (int)x->f->cl.host_of[node];
		if (!emu_from || strcmp(x->f->x->nodes[node].name, from))
			mask |= h < 64 ? 1ull << h : 0;
	}
	return mask;
}

/* The word of argv naming the experiment, by command; NULL when none. */
static const char *relay_exp_name(int argc, char **argv)
{
	int at = !strcmp(argv[0], "link") || !strcmp(argv[0], "node") ? 2 : 1;

	return at < argc && argv[at][0] != '-' ? argv[at] : NULL;
}


/* link set of a link between hosts, without --from: each direction is
 * emulated on its sending host, so each endpoint's host sets the direction
 * leaving it (--from that endpoint); setting both there would impair the
 * incoming direction a second time. The worst exit status. */
static int relay_link_set(const struct relay_exp *x, int li, int argc, char **argv)
{
	char **v = calloc((size_t)argc + 3, sizeof(*v));
	int st, worst = CLI_OK;
	size_t k;

	if (!v)
		return CLI_SYSTEM;
	memcpy(v, argv, (size_t)argc * sizeof(*v));
	v[argc] = (char *)"--from";
	for (k = 0; k < x->f->x->links[li].nep; k++) {
		uint32_t node = x->f->x->links[li].ep[k].node;

		v[argc + 1] = x->f->x->nodes[node].name;
		st = relay_run(x, x->f->cl.host_of[node], argc + 2, v, -1, NULL);
		worst = st > worst ? st : worst;
	}
	free(v);
	return worst;
}

/* capture of a link across hosts: on every host of mask (this one as a
 * child), merged (capture_cluster.c). Its exit status. */
static int relay_capture(const struct relay_exp *x, uint64_t mask, int argc, char **argv)
{
	struct capcl_host hosts[64];
	size_t n = 0;
	uint32_t h;

	for (h = 0; h < 64 && h < x->f->cl.nhosts; h++)
		if (mask & 1ull << h)
			hosts[n++] = (struct capcl_host){ .name = x->f->cl.host[h],
							  .addr = x->f->cl.underlay[h],
							  .here = (int)h == x->me };
	fflush(stdout);
	return capcl_run(&x->c, hosts, n, argc, argv);
}

int cli_relay_front(int *argc, char **argv)
{
	static const char *const relayed[] = { "exec", "link", "node", "capture", "status" };
	struct relay_exp x = { .f = NULL };
	const char *name;
	uint64_t mask;
	int i, k, li, st, worst = CLI_OK;
	bool known = false;

	for (i = 0; i < (int)UTIL_ARRAY_SIZE(relayed); i++)
		known |= !strcmp(argv[0], relayed[i]);
	for (i = 1; known && i < *argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--local")) {
			memmove(argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof(*argv));
			(*argc)--;
			cli_local = true;
			break;
		}
	if (!known || cli_local || !strcmp(argv[0], "status") || geteuid() != 0)
		return -1;
	name = relay_exp_name(*argc, argv);
	st = name ? relay_exp_load(name, &x) : 0;
	if (st <= 0)
		return st < 0 ? -st : -1;
	mask = relay_targets(&x, *argc, argv, &li);
	if (!mask || (x.me >= 0 && x.me < 64 && mask == 1ull << x.me)) {
		frag_free(x.f);
		return -1; /* here only: the command as on one host */
	}
	if (!strcmp(argv[0], "capture"))
		worst = relay_capture(&x, mask, *argc, argv);
	else if (!strcmp(argv[0], "link") && !strcmp(argv[1], "set") && !relay_has(*argc, argv, "--from"))
		worst = relay_link_set(&x, li, *argc, argv);
	else
		for (k = 0; k < 64 && k < (int)x.f->cl.nhosts; k++) {
			if (!(mask & 1ull << k))
				continue;
			st = relay_run(&x, (uint32_t)k, *argc, argv, mask == (mask & -mask) ? 0 : -1,
				       NULL);
			worst = st > worst ? st : worst;
		}
	frag_free(x.f);
	return worst;
}

/* Whether node entry n (a status document's) is on the host that wrote
 * it (not "remote"). */
static bool relay_node_here(const json_t *n)
{
	const char *s = json_string_value(json_object_get(n, "state"));

	return s && strcmp(s, "remote");
}

/* The host (index into docs) whose document has node called name as its
 * own, or -1. */
static int relay_owner(json_t *const *docs, size_t n, const char *name)
{
	size_t h, i;
	json_t *e;

	for (h = 0; h < n && name; h++)
		json_array_foreach(json_object_get(docs[h], "nodes"), i, e)
			if (relay_node_here(e) && !strcmp(json_string_value(json_object_get(e, "name")) ?: "", name))
				return (int)h;
	return -1;
}

/* Merge the hosts' status documents (docs[h] host h's, NULL when it did
 * not answer) into base, the first one's: each node as its own host
 * reports it (with "host"), each direction of a link as its sending
 * host's emulator counts it (a host holding no end of a link has none),
 * a link down when either end says so. */
static void relay_merge(json_t *base, json_t *const *docs, size_t n, const struct frag *f)
{
	json_t *nodes = json_object_get(base, "nodes"), *links = json_object_get(base, "links");
	json_t *e, *d;
	size_t i, k;
	int h;

	/* links first: the owners are looked up in the documents as they came */
	json_array_foreach(links, i, e) {
		json_t *dirs = json_array();

		for (h = 0; dirs && h < (int)n; h++) {
			json_t *l = json_array_get(json_object_get(docs[h], "links"), i);

			if (json_is_true(json_object_get(l, "down")))
				json_object_set(e, "down", json_true());
			json_array_foreach(json_object_get(l, "directions"), k, d)
				if (relay_owner(docs, n, json_string_value(json_object_get(d, "from"))) == h)
					json_array_append(dirs, d);
		}
		if (json_array_size(dirs))
			json_object_set(e, "directions", dirs);
		json_decref(dirs);
	}
	json_array_foreach(nodes, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));

		h = relay_owner(docs, n, name);
		if (h >= 0 && docs[h] != base)
			json_array_set(nodes, i, json_array_get(json_object_get(docs[h], "nodes"), i));
		json_object_set_new(json_array_get(nodes, i), "host",
				    json_string(h >= 0 ? f->cl.host[h] : "?"));
	}
}

int cli_relay_status(const char *name, bool json, struct json_t *cluster)
{
	char *argv[] = { (char *)"status", (char *)name, (char *)"--json" };
	struct relay_exp x = { .f = NULL };
	json_t **docs = NULL, *base = NULL;
	struct util_buf out;
	size_t h, n;
	int st, worst = CLI_OK;

	st = relay_exp_load(name, &x);
	if (st <= 0)
		return st < 0 ? -st : -1;
	n = x.f->cl.nhosts;
	docs = calloc(n, sizeof(*docs));
	for (h = 0; docs && h < n; h++) {
		util_buf_init(&out);
		st = relay_run(&x, (uint32_t)h, 3, argv, -1, &out);
		docs[h] = !st && out.s ? json_loads(out.s, 0, NULL) : NULL;
		if (!docs[h])
			cli_err("status: host '%s' gave no status of '%s' (exit %d)",
				cli_esc(x.f->cl.host[h]), cli_esc(name), st);
		worst = docs[h] ? worst : CLI_SYSTEM;
		base = base ? base : docs[h];
		util_buf_free(&out);
	}
	if (base) {
		relay_merge(base, docs, n, x.f);
		if (cluster)
			json_object_set(base, "cluster", cluster);
		if (json)
			json_dumpf(base, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER), putchar('\n');
		else
			cli_print_status(base);
	}
	for (h = 0; docs && h < n; h++)
		json_decref(docs[h]);
	free(docs);
	frag_free(x.f);
	return base ? worst : CLI_SYSTEM;
}

int cli_relay_run(const char *name, int argc, char **argv)
{
	struct relay_exp x = { .f = NULL };
	char **v = NULL;
	int st = relay_exp_load(name, &x);

	if (st <= 0)
		return st < 0 ? -st : -1;
	if (x.me >= 0) {
		frag_free(x.f);
		return -1;
	}
	v = calloc((size_t)argc + 2, sizeof(*v));
	st = CLI_SYSTEM;
	if (v) {
		memcpy(v, argv, (size_t)argc * sizeof(*v));
		v[argc] = (char *)"--coordinate";
		cli_err("run: this host holds no part of '%s': its run is coordinated (and recorded) "
			"on host '%s'", cli_esc(name), cli_esc(x.f->cl.host[0]));
		st = relay_run(&x, 0, argc + 1, v, -1, NULL);
	}
	free(v);
	frag_free(x.f);
	return st;
}

/* vtb __relay-session: serve the relay connection on standard input (the
 * agent starts one per connection). Errors go to standard error: the
 * agent's log. */
int cmd_relay_session(int argc, char **argv)
{
	char err[UTIL_ERR_LEN];
	struct clconf c;
	int r;

	(void)argv;
	if (argc != 1 || clup_conf(&c) != 1) {
		cli_err("__relay-session: no cluster configuration");
		return CLI_SYSTEM;
	}
	r = relay_serve(&c, 0, "/proc/self/exe", err);
	if (r)
		cli_err("relay: %s", err);
	return r ? CLI_SYSTEM : CLI_OK;
}
