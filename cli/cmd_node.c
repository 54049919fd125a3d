/* vtb node set: change a running node's enforced limits (docs/limits.md):
 * its cgroup's files are rewritten at once. vtb node stop, start, restart:
 * a node failure (docs/nodes.md, exec/nodeop.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cli.h"
#include "db.h"
#include "nodeop.h"
#include "rz_params.h"
#include "status.h"

#define USAGE                                                                            \
	"usage: vtb node set NAME NODE KEY=VALUE... (cores=2 memory=512mb cpufreq=1.1ghz; off: " \
	"no limit)"
#define USAGE_OP "usage: vtb node (stop | start | restart) NAME NODE"

/* What vtb node set was asked; -1: not given, 0: off. */
struct node_ask {
	double cores, memory, cpufreq;
};

int cli_host_cpu_hz(uint64_t *hz)
{
	const char *env = getenv("VTB_HOST_CPUFREQ");
	char err[UTIL_ERR_LEN];
	double v;

	*hz = 0;
	if (!env || !*env) {
		(void)cg_host_cpu_hz(hz); /* unknown: left 0, cpufreq is refused */
		return 0;
	}
	if (rz_value_parse(xir_prop_find("cpufreq"), env, &v, err, sizeof(err))) {
		cli_err("VTB_HOST_CPUFREQ: %s", err);
		return -EINVAL;
	}
	*hz = (uint64_t)v;
	return 0;
}

/* One KEY=VALUE into a, parsed as the model means it (units, range). */
static int parse_kv(const char *arg, struct node_ask *a)
{
	const char *eq = strchr(arg, '=');
	char name[32], err[UTIL_ERR_LEN];
	double v = 0, *slot;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
		cli_err("node set: '%s' is not KEY=VALUE (%s)", arg, USAGE);
		return -EINVAL;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	slot = !strcmp(name, "cores")	  ? &a->cores
	       : !strcmp(name, "memory")  ? &a->memory
	       : !strcmp(name, "cpufreq") ? &a->cpufreq
					  : NULL;
	if (!slot) {
		cli_err("node set: %s: unknown property '%s' (cores memory cpufreq)", arg,
			cli_esc(name));
		return -EINVAL;
	}
	if (strcmp(eq + 1, "off") &&
	    rz_value_parse(xir_prop_find(name), eq + 1, &v, err, sizeof(err))) {
		cli_err("node set: %s", err);
		return -EINVAL;
	}
	*slot = v;
	return 0;
}

/* The new limits of node n from what was asked, the model's values and the
 * limits in force (cur); an error said and -EINVAL when they cannot be. */
static int new_limits(const struct rz_node *n, unsigned idx, const char *node,
		      const struct node_ask *a, const struct cg_limits *cur, struct cg_limits *l)
{
	bool vm = n->kind == RZ_VM;
	uint64_t cores = a->cores >= 0 ? (uint64_t)a->cores
			 : vm	       ? n->vm_cores
			 : n->cores    ? n->cores
				       : 1;
	uint64_t freq = a->cpufreq >= 0 ? (uint64_t)a->cpufreq : n->cpufreq, hz;

	*l = *cur;
	l->cpus[0] = '\0';
	if (vm && a->memory >= 0) {
		cli_err("node set: device '%s' is a VM: its memory is fixed when it boots",
			cli_esc(node));
		return -EINVAL;
	}
	if (a->memory >= 0)
		l->memory = (uint64_t)a->memory;
	if (a->cores < 0 && a->cpufreq < 0)
		return 0;
	if (cli_host_cpu_hz(&hz))
		return -EINVAL;
	if (freq && (!hz || freq > hz)) {
		cli_err("node set: device '%s': cpufreq %.3f GHz %s", cli_esc(node), freq / 1e9,
			hz ? "is above this host's CPU frequency"
			   : "cannot be met: this host's frequency is unknown (set VTB_HOST_CPUFREQ)");
		return -EINVAL;
	}
	l->cpu_milli = a->cores == 0 || (a->cpufreq == 0 && a->cores < 0 && !n->cores)
			       ? 0
			       : realize_cpu_milli(cores, freq, hz, vm);
	if (n->cpuset && l->cpu_milli &&
	    cg_pick_cpus((unsigned)((l->cpu_milli + 999) / 1000), idx, l->cpus, sizeof(l->cpus)))
		l->cpus[0] = '\0';
	return 0;
}

/* A running experiment's node, loaded for a node command. */
struct node_ctx {
	struct xir *x;
	struct realization *rz;
	struct db_obj *rows; /* the journal */
	size_t nrows;
	uint32_t i;          /* the node's index */
};

/* Load experiment e's model, realization and journal and find node in it
 * into c (node_ctx_free frees it, also after a failure). A CLI_* status,
 * said. */
static int node_ctx_load(struct db *db, const struct db_exp *e, const char *node,
			 struct node_ctx *c)
{
	int r = status_load(db, e, &c->x, &c->rz);

	if (!r)
		r = db_journal_list(db, e->id, &c->rows, &c->nrows);
	if (r) {
		cli_err("cannot load experiment '%s': %s", cli_esc(e->name), strerror(-r));
		return CLI_SYSTEM;
	}
	if (!xir_find_node(c->x, node, &c->i)) {
		cli_err("experiment '%s' has no device '%s'", cli_esc(e->name), cli_esc(node));
		return CLI_USER;
	}
	return CLI_OK;
}

static void node_ctx_free(struct node_ctx *c)
{
	free(c->rows);
	realize_free(c->rz);
	xir_free(c->x);
}

/* Apply a to node of experiment e. A CLI_* status. */
static int node_apply(struct db *db, const struct db_exp *e, const char *node,
		      const struct node_ask *a)
{
	char err[UTIL_ERR_LEN], mem[32] = "any";
	struct node_ctx c = { .x = NULL };
	struct cg_stats s;
	struct cg_limits l;
	struct cg_exp cg;
	int status = node_ctx_load(db, e, node, &c), r;

	if (status)
		goto out;
	status = CLI_USER;
	if (cg_exp_from_rows(c.rows, c.nrows, &cg) || cg_node_stats(&cg, node, &s)) {
		cli_err("device '%s' has no limits to change: give it cores, cpufreq or memory in "
			"the model (docs/limits.md)", cli_esc(node));
		goto out;
	}
	if (new_limits(&c.rz->nodes[c.i], c.i, node, a, &s.lim, &l))
		goto out;
	r = cg_node_set(&cg, node, &l, err, sizeof(err));
	if (r) {
		cli_err("cannot set the limits of device '%s': %s", cli_esc(node), err);
		status = CLI_SYSTEM;
		goto out;
	}
	if (l.memory)
		snprintf(mem, sizeof(mem), "%.1f MiB", l.memory / 1048576.0);
	if (l.cpu_milli)
		printf("device '%s': cpu %.2f cores, memory %s\n", cli_esc(node),
		       l.cpu_milli / 1000.0, mem);
	else
		printf("device '%s': cpu any, memory %s\n", cli_esc(node), mem);
	status = CLI_OK;
out:
	node_ctx_free(&c);
	return status;
}

/* Stop, start or restart node of experiment e (verb: argv[1]). A CLI_*
 * status. */
static int node_op(struct db *db, const struct db_exp *e, const char *verb, const char *node)
{
	static const char *const done[] = { "stopped", "started", "restarted" };
	static const char *const already[] = { "already stopped", "not stopped", "" };
	enum nodeop_verb v = !strcmp(verb, "stop")    ? NODEOP_STOP
			     : !strcmp(verb, "start") ? NODEOP_START
						      : NODEOP_RESTART;
	char err[UTIL_ERR_LEN];
	struct node_ctx c = { .x = NULL };
	int status = node_ctx_load(db, e, node, &c), r;

	if (status)
		goto out;
	r = nodeop_run(db, e, c.rz, c.rows, c.nrows, c.i, v, err, sizeof(err));
	if (r < 0) {
		cli_err("cannot %s device '%s' of '%s': %s", verb, cli_esc(node), cli_esc(e->name),
			err);
		status = r == -EOPNOTSUPP ? CLI_USER : CLI_SYSTEM;
		goto out;
	}
	printf("device '%s' %s\n", cli_esc(node), r ? already[v] : done[v]);
	status = CLI_OK;
out:
	node_ctx_free(&c);
	return status;
}

static bool node_is_op(const char *verb)
{
	return !strcmp(verb, "stop") || !strcmp(verb, "start") || !strcmp(verb, "restart");
}

int cmd_node(int argc, char **argv)
{
	struct node_ask a = { -1, -1, -1 };
	struct db *db = NULL;
	struct db_exp e;
	int i, status;

	if (argc == 4 && node_is_op(argv[1])) {
		status = cli_open_exp("node", argv[2], &db, &e);
		if (!status)
			status = node_op(db, &e, argv[1], argv[3]);
		db_close(db);
		return status;
	}
	if (argc < 5 || strcmp(argv[1], "set")) {
		cli_err("node: %s",
			argc >= 2 && node_is_op(argv[1]) ? USAGE_OP : USAGE "; " USAGE_OP);
		return CLI_USER;
	}
	for (i = 4; i < argc; i++)
		if (parse_kv(argv[i], &a))
			return CLI_USER;
	status = cli_open_exp("node", argv[2], &db, &e);
	if (!status)
		status = node_apply(db, &e, argv[3], &a);
	db_close(db);
	return status;
}
