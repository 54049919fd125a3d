/* vtb capture: a pcap of a link's frames (exec/capture.c takes them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "capture_cluster.h"
#include "cli.h"
#include "db.h"
#include "status.h"
#include "util.h"

#define USAGE                                                                                     \
	"usage: vtb capture NAME (LINK | A B) [--from NODE] [--ingress] [-w FILE.pcap] [-c COUNT] " \
	"[-- FILTER] | vtb capture NAME --all -w DIR"

/* What the command line asks. */
struct cap_args {
	const char *name, *pos[2], *from, *file;
	int npos;
	bool ingress, all;
	long count;
	char *filter; /* the words after "--", joined; NULL when none */
};

/* The words after "--" joined by spaces into a->filter. */
static int join_filter(struct cap_args *a, int argc, char **argv)
{
	size_t len = 0;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (!argc)
		return 0;
	a->filter = calloc(1, len);
	if (!a->filter)
		return -ENOMEM;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(a->filter, " ");
		strcat(a->filter, argv[i]);
	}
	return 0;
}

/* Parse argv into a: 0, or CLI_USER after saying what is wrong. */
static int parse_args(int argc, char **argv, struct cap_args *a)
{
	char *end;
	int i;

	if (argc < 2) {
		cli_err("capture: %s", USAGE);
		return CLI_USER;
	}
	a->name = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			if (join_filter(a, argc - i - 1, argv + i + 1))
				return CLI_SYSTEM;
			break;
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			a->from = argv[++i];
		} else if (!strcmp(argv[i], "-w") && i + 1 < argc) {
			a->file = argv[++i];
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			a->count = strtol(argv[++i], &end, 10);
			if (*end || a->count <= 0) {
				cli_err("capture: -c wants a number of frames above 0, not '%s'", argv[i]);
				return CLI_USER;
			}
		} else if (!strcmp(argv[i], "--ingress")) {
			a->ingress = true;
		} else if (!strcmp(argv[i], "--all")) {
			a->all = true;
		} else if (argv[i][0] != '-' && a->npos < 2) {
			a->pos[a->npos++] = argv[i];
		} else {
			cli_err("capture: unexpected '%s' (%s)", argv[i], USAGE);
			return CLI_USER;
		}
	}
	if (a->all ? (a->npos || a->from || !a->file) : !a->npos) {
		cli_err("capture: %s", a->all ? "--all captures every link into -w DIR, one file a link"
					      : USAGE);
		return CLI_USER;
	}
	return CLI_OK;
}

/* capture_cluster.h */
int capture_open_out(const char *file, FILE **f)
{
	if (!file) {
		if (isatty(STDOUT_FILENO)) {
			cli_err("capture: a pcap is no text for a terminal: give -w FILE.pcap or pipe "
				"it (| tcpdump -n -r -)");
			return CLI_USER;
		}
		*f = stdout;
		return CLI_OK;
	}
	*f = fopen(file, "we");
	if (!*f) {
		cli_err("capture: cannot write %s: %s", file, strerror(errno));
		return CLI_USER;
	}
	return CLI_OK;
}

/* The points and outputs of one link (a->from its sender, if given). */
static int plan_one(const struct cap_args *a, const struct xir *x, const struct realization *rz,
		    struct capture_point *pts, size_t *n, struct capture_out *out)
{
	char note[UTIL_ERR_LEN];
	size_t li;
	int st, from = -1;

	st = cli_pick_link(a->name, x, rz, a->pos, a->npos, &li);
	if (st)
		return st;
	if (a->from) {
		from = linkside_ep(x, li, a->from);
		if (from == -ENODEV)
			cli_err("experiment '%s' has no node '%s'", cli_esc(a->name), cli_esc(a->from));
		else if (from < 0)
			cli_err("node '%s' is not on link '%s'", cli_esc(a->from),
				cli_esc(x->links[li].name));
		if (from < 0)
			return CLI_USER;
	}
	*n = capture_plan(rz, li, from, a->ingress, 0, pts, note, sizeof(note));
	if (note[0])
		cli_err("note: %s", note);
	if (!*n) {
		cli_err("link '%s' has no place to capture at (a direct link of a VM's only)",
			cli_esc(x->links[li].name));
		return CLI_USER;
	}
	return capture_open_out(a->file, &out->f);
}

/* Every link, each into DIR/LINK.pcap: outs[i] for link i. */
static int plan_all(const struct cap_args *a, const struct xir *x, const struct realization *rz,
		    struct capture_point *pts, size_t *n, struct capture_out *outs)
{
	char note[UTIL_ERR_LEN], *path;
	size_t li;
	int st = CLI_OK;

	if (mkdir(a->file, 0755) && errno != EEXIST) {
		cli_err("capture: cannot make %s: %s", a->file, strerror(errno));
		return CLI_USER;
	}
	for (li = 0; li < x->nlinks && !st; li++) {
		*n += capture_plan(rz, li, -1, a->ingress, li, pts + *n, note, sizeof(note));
		if (note[0])
			cli_err("note: %s", note);
		if (asprintf(&path, "%s/%s.pcap", a->file, x->links[li].name) < 0)
			return CLI_SYSTEM;
		st = capture_open_out(path, &outs[li].f);
		outs[li].count = a->count;
		free(path);
	}
	return st;
}

/* Say on stderr that the capture runs (a script waits for this line). */
static void say_ready(void *arg)
{
	size_t n = *(const size_t *)arg;

	fprintf(stderr, "capturing at %zu interface%s\n", n, n == 1 ? "" : "s");
}

int cmd_capture(int argc, char **argv)
{
	struct cap_args a = { 0 };
	struct realization *rz = NULL;
	struct capture_point *pts = NULL;
	struct capture_out *outs = NULL;
	struct xir *x = NULL;
	struct db *db = NULL;
	char err[UTIL_ERR_LEN];
	size_t i, n = 0, nouts = 0, maxp = 0;
	struct db_exp e;
	int st, r;

	st = parse_args(argc, argv, &a);
	if (!st)
		st = cli_open_exp("capture", a.name, &db, &e);
	if (st)
		goto out;
	r = status_load(db, &e, &x, &rz);
	if (r) {
		cli_err("cannot load experiment '%s': %s", a.name, strerror(-r));
		st = CLI_SYSTEM;
		goto out;
	}
	for (i = 0; i < x->nlinks; i++)
		maxp += x->links[i].nep;
	nouts = a.all ? x->nlinks : 1;
	pts = calloc(maxp ? maxp : 1, sizeof(*pts));
	outs = calloc(nouts ? nouts : 1, sizeof(*outs));
	if (!pts || !outs) {
		st = CLI_SYSTEM;
		goto out;
	}
	outs[0].count = a.count;
	st = a.all ? plan_all(&a, x, rz, pts, &n, outs) : plan_one(&a, x, rz, pts, &n, outs);
	if (st)
		goto out;
	cli_catch_signals();
	r = capture_run(pts, n, outs, nouts, &(struct capture_opts){ .filter = a.filter,
		.stop = &cli_stop, .ready = say_ready, .arg = &n }, err, sizeof(err));
	if (r) {
		cli_err("capture: %s", err);
		st = r == -EINVAL ? CLI_USER : CLI_SYSTEM;
		goto out;
	}
	for (i = 0; i < nouts; i++)
		fprintf(stderr, "%ld frame%s captured%s%s, %ld dropped by the kernel\n", outs[i].seen,
			outs[i].seen == 1 ? "" : "s", a.all ? " on " : "",
			a.all ? cli_esc(x->links[i].name) : "", outs[i].dropped);
out:
	for (i = 0; outs && i < nouts; i++)
		if (outs[i].f && outs[i].f != stdout)
			fclose(outs[i].f);
	free(outs);
	free(pts);
	free(a.filter);
	realize_free(rz);
	xir_free(x);
	db_close(db);
	return st;
}
