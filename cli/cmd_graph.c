/* vtb graph: draw a model's or a running experiment's topology. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "compile.h"
#include "db.h"
#include "dynlib.h"
#include "graph.h"
#include "status.h"
#include "supervisor.h"

#define USAGE "usage: vtb graph (MODEL | NAME) [-o FILE.svg|.png|.pdf|.dot]"

/* How long the supervisor may take to send the status with the links'
 * counters: it reads them between two batches of frames, well under a
 * millisecond, unless the experiment loads the machine (as vtb status). */
#define GRAPH_SUP_MS 5000

/* What is drawn: the XIR, its realization (NULL: no addresses) and the
 * status document with the links' counters (NULL: none). */
struct graph_src {
	struct xir *x;
	struct realization *rz;
	json_t *status;
};

/* Compile model file (as vtb compile does, its diagnostics on stderr) and
 * realize it for the addresses, as if the host had room for everything.
 * CLI_OK with src filled, or the exit status. */
static int load_model(const char *file, struct graph_src *src)
{
	struct rz_host host = { .cores = UINT64_MAX / 2, .memory = UINT64_MAX / 2,
				 .cpu_hz = UINT64_MAX / 2 };
	struct diag_list d;
	char *s = NULL;
	size_t len;
	int status = cli_load_model("graph", file, &src->x, &s, &len);

	if (status)
		return status;
	/* a model vtb up would refuse is still drawn, without addresses */
	diag_init(&d, file, s, len);
	if (realize(src->x, &host, &src->rz, &d)) {
		src->rz = NULL;
		cli_err("graph: %s is drawn without addresses: vtb up would refuse it "
			"(vtb compile %s says why)", file, file);
	}
	diag_free(&d);
	free(s);
	return CLI_OK;
}

/* Experiment name's XIR and realization from the state database, and the
 * links' counters from its supervisor when it answers. CLI_OK with src
 * filled, or the exit status (the message says that name is neither a
 * model file nor an experiment). */
static int load_exp(const char *name, struct graph_src *src)
{
	struct db *db = NULL;
	json_t *reply = NULL;
	struct db_exp e;
	int r, status;

	if (geteuid() != 0) {
		cli_err("graph: there is no file '%s'; a running experiment of that name can only be "
			"drawn as root (sudo vtb graph %s)", name, name);
		return CLI_USER;
	}
	status = cli_open_db(&db);
	if (status)
		goto out;
	r = db_exp_find(db, name, &e);
	if (r) {
		if (r == -ENOENT)
			cli_err("graph: '%s' is neither a model file nor an experiment (vtb status "
				"lists the experiments)", name);
		else
			cli_err("cannot read the state database: %s", strerror(-r));
		status = r == -ENOENT ? CLI_USER : CLI_SYSTEM;
		goto out;
	}
	r = status_load(db, &e, &src->x, &src->rz);
	if (r) {
		cli_err("cannot load experiment '%s': %s", name, strerror(-r));
		status = CLI_SYSTEM;
		goto out;
	}
	r = sup_request(e.id, "status", GRAPH_SUP_MS, &reply);
	if (!r && json_is_true(json_object_get(reply, "ok")))
		src->status = json_incref(json_object_get(reply, "status"));
	else
		cli_err("graph: the supervisor of '%s' did not answer (%s): the picture has no "
			"counters", name, r ? strerror(-r) : "an error reply");
out:
	json_decref(reply);
	db_close(db);
	return status;
}

/* The format for -o path, or the exit status with the message. */
static int pick_format(const char *path, const char **format)
{
	const char *ext = strrchr(path, '.');
	char ok[64];
	int r = graph_format(path, format);

	if (!r)
		return CLI_OK;
	graph_formats(ok, sizeof(ok));
	if (r == -ENOTSUP)
		cli_err("graph: this Graphviz cannot write %s (it can write %s)", ext, ok);
	else if (r == -EINVAL && ext && !strchr(ext, '/'))
		cli_err("graph: cannot write '%s': unknown extension '%s' (use %s; without -o, "
			"the DOT text goes to standard output)", path, ext, ok);
	else if (r == -EINVAL)
		cli_err("graph: '%s' has no extension to say the format (use %s)", path, ok);
	else
		cli_err("graph: %s", strerror(-r));
	return r == -ENOMEM ? CLI_SYSTEM : CLI_USER;
}

/* Draw g into path (NULL: the DOT text on standard output). A file that
 * could not be written whole is removed. CLI_OK or the exit status. */
static int write_out(struct graph *g, const char *path, const char *format)
{
	char err[UTIL_ERR_LEN];
	FILE *f = stdout;
	int r, w;

	if (path) {
		f = fopen(path, "we");
		if (!f) {
			r = errno;
			cli_err("graph: cannot write %s: %s", path, strerror(r));
			return r == ENOMEM || r == EMFILE || r == ENFILE ? CLI_SYSTEM : CLI_USER;
		}
	}
	r = graph_write(g, format, f, err, sizeof(err));
	if (r)
		cli_err("graph: cannot draw the topology: %s", err);
	w = path ? fclose(f) : fflush(f);
	if (!r && w) {
		cli_err("graph: cannot write %s: %s", path ? path : "the output", strerror(errno));
		r = -EIO;
	}
	if (r && path)
		unlink(path);
	return r ? CLI_SYSTEM : CLI_OK;
}

int cmd_graph(int argc, char **argv)
{
	struct graph_src src = { .x = NULL };
	const char *what = NULL, *path = NULL, *format = "dot";
	struct graph *g = NULL;
	char err[UTIL_ERR_LEN];
	struct stat st;
	int i, status;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			path = argv[++i];
		} else if ((argv[i][0] == '-' && argv[i][1]) || what) {
			cli_err("graph: unexpected '%s' (%s)", argv[i], USAGE);
			return CLI_USER;
		} else {
			what = argv[i];
		}
	}
	if (!what) {
		cli_err("graph: which model or experiment? %s", USAGE);
		return CLI_USER;
	}
	if (dynlib_open(&dynlib_gvc, err, sizeof(err)) ||
	    dynlib_open(&dynlib_cgraph, err, sizeof(err))) {
		cli_err("graph: %s", err);
		return CLI_SYSTEM;
	}
	status = path ? pick_format(path, &format) : CLI_OK;
	if (status)
		return status;
	/* a word that names a file is a model; anything else an experiment */
	if (!strcmp(what, "-") || !stat(what, &st))
		status = load_model(what, &src);
	else
		status = load_exp(what, &src);
	if (status)
		goto out;
	if (graph_build(src.x, src.rz, src.status, &g)) {
		cli_err("graph: out of memory");
		status = CLI_SYSTEM;
		goto out;
	}
	status = write_out(g, path, format);
out:
	graph_free(g);
	json_decref(src.status);
	realize_free(src.rz);
	xir_free(src.x);
	return status;
}
