/* cmd_fragment: "vtb __fragment-up FILE" (FILE or - for standard input),
 * the hidden command a host's agent runs to build this host's part of an
 * experiment placed across a cluster (docs/cluster.md, "Fragments and
 * dispersed links"). It parses the fragment document, refuses one that is
 * for another host, realizes the whole experiment as every host does, and
 * brings up the local part as vtb up does (cli_bring_up: the same record,
 * journal, supervisor and rollback), under the fragment's name and id.
 * `vtb down NAME` and `vtb status NAME` on this host then act on it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "clconf.h"
#include "cli.h"
#include "compile.h"
#include "db.h"
#include "fragment.h"
#include "nl.h"
#include "realize.h"

#define FRAG_USAGE "usage: vtb __fragment-up FILE (a fragment document, or - for standard input)"

/* Read and parse the document at path; CLI_OK with *f and *doc (the
 * caller's), or an exit status (said). */
static int frag_load(const char *path, struct frag **f, char **doc)
{
	char err[UTIL_ERR_LEN];
	size_t len = 0;
	int r;

	r = compile_read_file(path, doc, &len);
	if (r) {
		cli_err("cannot read the fragment %s: %s", path, strerror(-r));
		return CLI_USER;
	}
	r = frag_parse((const uint8_t *)*doc, len, f, err);
	if (r == -ENOMEM) {
		cli_err("out of memory");
		return CLI_SYSTEM;
	}
	if (r) {
		cli_err("fragment %s: %s", path, err);
		return CLI_USER;
	}
	return CLI_OK;
}

/* The fragment is for this host: its name and underlay address are those
 * of this host's cluster configuration. CLI_OK or an exit status (said). */
static int frag_check_host(const struct frag *f)
{
	const struct rz_cluster *cl = &f->cl;
	char err[UTIL_ERR_LEN];
	struct clconf conf;
	int r;

	r = clconf_read(NULL, &conf, err);
	if (r == -ENOENT) {
		cli_err("this host is in no cluster (%s does not exist): a fragment is built by a "
			"host of the cluster it names", clconf_path());
		return CLI_USER;
	}
	if (r) {
		cli_err("%s", err);
		return CLI_SYSTEM;
	}
	if (strcmp(f->host, conf.host)) {
		cli_err("the fragment of experiment '%s' is for host '%s'; this host is '%s': not "
			"built", f->name, f->host, conf.host);
		return CLI_USER;
	}
	if (strcmp(cl->underlay[cl->here], conf.underlay)) {
		cli_err("the fragment gives host '%s' the underlay address %s; this host's is %s "
			"(%s): not built", f->host, cl->underlay[cl->here], conf.underlay,
			clconf_path());
		return CLI_USER;
	}
	return CLI_OK;
}

/* Realize the whole experiment as every host of the fragment does, then
 * spread it over the hosts and fit its dispersed links to the underlay's
 * MTU. *lowered: how many dispersed links got a node MTU below 1500. */
static int frag_realize(const struct frag *f, const char *path, struct realization **rz,
			unsigned *umtu, size_t *lowered)
{
	/* what fits was decided when the experiment was placed, for the whole
	 * cluster; only the CPU's frequency is this host's (limits) */
	struct rz_host host = { .cores = UINT64_MAX / 2, .memory = UINT64_MAX / 2 };
	struct build_error berr = { .what = "" };
	char err[UTIL_ERR_LEN];
	int status, r;

	if (cli_host_cpu_hz(&host.cpu_hz))
		return CLI_USER; /* said */
	status = cli_up_realize(path, NULL, 0, f->x, &host, rz);
	if (status)
		return status;
	r = realize_cluster(*rz, &f->cl, err, sizeof(err));
	if (r) {
		cli_err("fragment %s: %s", path, r == -ENOMEM ? "out of memory" : err);
		return r == -ENOMEM ? CLI_SYSTEM : CLI_USER;
	}
	r = build_dispersed_mtu(*rz, umtu, lowered, &berr);
	if (r) {
		cli_err("%s: %s", berr.what, berr.msg);
		return r == -EMSGSIZE || r == -ERANGE ? CLI_USER : CLI_SYSTEM;
	}
	return CLI_OK;
}

/* See the file's comment. */
int cmd_fragment_up(int argc, char **argv)
{
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	struct realization *rz = NULL;
	struct frag *f = NULL;
	struct db *db = NULL;
	struct db_exp e;
	char *doc = NULL;
	size_t lowered = 0;
	unsigned umtu = 0;
	int status;

	if (argc != 2) {
		cli_err(FRAG_USAGE);
		return CLI_USER;
	}
	status = cli_need_root("__fragment-up");
	if (status)
		return status;
	cli_catch_signals();
	status = frag_load(argv[1], &f, &doc);
	if (!status)
		status = frag_check_host(f);
	if (!status)
		status = cli_open_db(&db);
	if (status)
		goto out;
	if (!db_exp_find(db, f->name, &e)) {
		cli_err("experiment '%s' is already up on this host (id %s): vtb down %s first",
			f->name, e.id, f->name);
		status = CLI_USER;
		goto out;
	}
	status = frag_realize(f, argv[1], &rz, &umtu, &lowered);
	if (status)
		goto out;
	/* the fragment's id, the same on every host: create_exp's forced id */
	if (setenv("VTB_ID", f->id, 1)) {
		status = CLI_SYSTEM;
		goto out;
	}
	if (cli_up_image(rz) && !cli_stop) {
		status = CLI_SYSTEM;
		goto out;
	}
	status = cli_bring_up(db, &(struct cli_up){ .name = f->name, .file = argv[1], .x = f->x,
						    .rz = rz, .fragment = doc }, &e);
	if (status)
		goto out;
	cli_up_summary(&e, f->x, rz, util_clock_s(CLOCK_MONOTONIC) - t0);
	if (lowered)
		printf("MTU: %zu dispersed link%s lowered to fit the underlay (MTU %u): give it %u "
		       "or more to keep 1500\n", lowered, lowered == 1 ? "" : "s", umtu,
		       NL_VXLAN_NODE_MTU + NL_VXLAN_OVERHEAD4);
out:
	realize_free(rz);
	frag_free(f);
	free(doc);
	db_close(db);
	return status;
}
