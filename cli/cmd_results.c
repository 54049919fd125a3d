/* vtb results: the stored runs of an experiment with their parameters
 * (--sweep) and what their commands measured, as a table, CSV or JSON
 * lines, or drawn with gnuplot (docs/cli.md). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "xir_prop.h"

#define USAGE "usage: vtb results NAME [--csv | --json | --plot X Y [-o FILE.png]]"
/* The most distinct parameters plus measurements a table shows: columns */
#define RES_MAX_COLS 64

extern char **environ;

/* The rows to print: one per result (a command of a run), with the names
 * of the columns (parameters first, then measurements) and, per row, the
 * index of each column's value in vals (or -1). */
struct res_table {
	struct db_result *res;
	size_t nres;
	struct db_value *vals;
	size_t nvals;
	const char *cols[RES_MAX_COLS];
	size_t ncols, nparams;
	long *cell; /* [row * ncols + col] */
};

/* The column of name among the kind's columns (params: [0, nparams)),
 * added when new. -1 when there are too many. */
static long res_col(struct res_table *t, const char *name, bool param)
{
	size_t i, from = param ? 0 : t->nparams, to = param ? t->nparams : t->ncols;

	for (i = from; i < to; i++)
		if (!strcmp(t->cols[i], name))
			return (long)i;
	if (t->ncols == RES_MAX_COLS)
		return -1;
	if (param) {
		/* parameters come first: every one before the measurements */
		memmove(&t->cols[t->nparams + 1], &t->cols[t->nparams],
			(t->ncols - t->nparams) * sizeof(t->cols[0]));
		t->cols[t->nparams] = name;
		t->ncols++;
		return (long)t->nparams++;
	}
	t->cols[t->ncols] = name;
	return (long)t->ncols++;
}

/* Read the results and values of experiment id into t and lay them out.
 * Returns 0 or a negative errno (-E2BIG: too many columns). */
static int res_load(struct db *db, const char *id, struct res_table *t)
{
	size_t i, row = 0;
	int r;

	r = db_result_list(db, id, 0, &t->res, &t->nres);
	if (!r)
		r = db_value_list(db, id, &t->vals, &t->nvals);
	if (r)
		return r;
	/* the columns first (a parameter moves the measurements' columns) */
	for (i = 0; i < t->nvals; i++)
		if (res_col(t, t->vals[i].name, t->vals[i].seq == 0) < 0)
			return -E2BIG;
	t->cell = malloc((t->nres ? t->nres : 1) * t->ncols * sizeof(*t->cell) + 1);
	if (!t->cell)
		return -ENOMEM;
	for (i = 0; i < t->nres * t->ncols; i++)
		t->cell[i] = -1;
	/* both lists are in run and seq order: walk them together */
	for (i = 0; i < t->nvals; i++) {
		const struct db_value *v = &t->vals[i];
		long col = res_col(t, v->name, v->seq == 0);
		size_t k;

		while (row < t->nres && (t->res[row].run < v->run ||
					 (t->res[row].run == v->run && t->res[row].seq < v->seq)))
			row++;
		if (v->seq)
			t->cell[row * t->ncols + (size_t)col] = row < t->nres &&
				t->res[row].seq == v->seq && t->res[row].run == v->run ? (long)i : -1;
		for (k = row; !v->seq && k < t->nres && t->res[k].run == v->run; k++)
			t->cell[k * t->ncols + (size_t)col] = (long)i;
	}
	return 0;
}

static void res_free(struct res_table *t)
{
	db_results_free(t->res, t->nres);
	free(t->vals);
	free(t->cell);
}

/* The value of row's column col, or NULL. */
static const char *res_cell(const struct res_table *t, size_t row, size_t col)
{
	long i = t->cell[row * t->ncols + col];

	return i < 0 ? NULL : t->vals[i].value;
}

/* s as one CSV field: quoted when it holds a comma, a quote or a line
 * break (RFC 4180). */
static void res_csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* The table as CSV, a header line first. */
static void res_print_csv(const struct res_table *t)
{
	size_t i, c;

	fputs("run,task,node,command,status,exit", stdout);
	for (c = 0; c < t->ncols; c++) {
		putchar(',');
		res_csv_field(t->cols[c]);
	}
	putchar('\n');
	for (i = 0; i < t->nres; i++) {
		const struct db_result *d = &t->res[i];

		printf("%lld,", (long long)d->run);
		res_csv_field(d->task);
		putchar(',');
		res_csv_field(d->node);
		putchar(',');
		res_csv_field(d->cmd);
		printf(",%s,%d", d->status, d->exit);
		for (c = 0; c < t->ncols; c++) {
			putchar(',');
			res_csv_field(res_cell(t, i, c) ? res_cell(t, i, c) : "");
		}
		putchar('\n');
	}
}

/* The table as JSON lines: {"run", "task", "node", "command", "status",
 * "exit", "params": {name: text}, "measures": {name: number}}. */
static int res_print_json(const struct res_table *t)
{
	size_t i, c;

	for (i = 0; i < t->nres; i++) {
		const struct db_result *d = &t->res[i];
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:{},s:{}}", "run", (json_int_t)d->run,
				      "task", d->task, "node", d->node, "command", d->cmd, "status",
				      d->status, "exit", d->exit, "params", "measures");
		char *s;

		if (!o) {
			cli_err("results: run %lld: its task, node or command is not UTF-8 text",
				(long long)d->run);
			return -EINVAL;
		}
		for (c = 0; c < t->ncols; c++) {
			const char *v = res_cell(t, i, c);

			if (!v)
				continue;
			json_object_set_new(json_object_get(o, c < t->nparams ? "params" : "measures"),
					    t->cols[c], c < t->nparams ? json_string(v) :
					    json_real(strtod(v, NULL)));
		}
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (!s)
			return -ENOMEM;
		printf("%s\n", s);
		free(s);
	}
	return 0;
}

/* The table for a terminal: the commands that have a value only. */
static void res_print_table(const struct res_table *t, const char *name)
{
	size_t i, c, shown = 0;

	for (i = 0; i < t->nres; i++) {
		for (c = 0; c < t->ncols && !res_cell(t, i, c); c++)
			;
		if (c == t->ncols && t->ncols)
			continue;
		if (!shown++) {
			printf("%-5s %-12s %-10s %-8s", "RUN", "TASK", "NODE", "STATUS");
			for (c = 0; c < t->ncols; c++)
				printf(" %14s", cli_esc(t->cols[c]));
			putchar('\n');
		}
		printf("%-5lld %-12s %-10s %-8s", (long long)t->res[i].run, cli_esc(t->res[i].task),
		       cli_esc(t->res[i].node), t->res[i].status);
		for (c = 0; c < t->ncols; c++)
			printf(" %14s", res_cell(t, i, c) ? cli_esc(res_cell(t, i, c)) : "-");
		putchar('\n');
	}
	if (!shown)
		printf("experiment '%s' has no results yet (vtb run %s)\n", cli_esc(name),
		       cli_esc(name));
}

/* One point of a plot: the other parameters' values (the line it is on),
 * x and y. */
struct res_pt {
	char line[256];
	double x, y;
};

static int res_pt_cmp(const void *a, const void *b)
{
	const struct res_pt *p = a, *q = b;
	int c = strcmp(p->line, q->line);

	return c ? c : (p->x > q->x) - (p->x < q->x);
}

/* The column named name, or -1. */
static long res_find_col(const struct res_table *t, const char *name)
{
	size_t c;

	for (c = 0; c < t->ncols; c++)
		if (!strcmp(t->cols[c], name))
			return (long)c;
	return -1;
}

/* The number text v gives column col: "10ms" is 10 with unit "ms" (into
 * unit, which must be the same for every value of a column), or when the
 * units differ, the value in the parameter's base unit ("latency": ns).
 * Returns 0, or -EINVAL when it is not a number. */
static int res_number(const char *col, const char *v, char *unit, size_t unitlen, bool *base,
		      double *x)
{
	const char *dot = strrchr(col, '.');
	const struct xir_prop *prop = xir_prop_find(dot ? dot + 1 : col);
	enum xir_unit u;
	char *end;

	*x = strtod(v, &end);
	if (end == v)
		return -EINVAL;
	if (!*base && !unit[0] && *end)
		snprintf(unit, unitlen, "%s", end);
	if (!*base && !strcmp(unit, end))
		return 0;
	if (!prop || xir_value_parse(v, prop->type, x, &u))
		return -EINVAL;
	if (!*base)
		snprintf(unit, unitlen, "%s", xir_unit_name(xir_ptype_unit(prop->type)));
	*base = true;
	return 0;
}

/* s in a gnuplot single-quoted string ('' for a quote). */
static void res_gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if ((unsigned char)*s >= ' ')
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* The gnuplot script drawing pts[0..n) (sorted by line, then x): a
 * datablock per line of mean and standard deviation over the points of
 * each x, then the plot. */
static void res_gp_script(FILE *f, const struct res_pt *pts, size_t n, const char *name,
			  const char *xl, const char *xunit, const char *yl, const char *out)
{
	size_t i = 0, j, k, line = 0, first;
	char label[160];

	fputs("set terminal png size 960,640 noenhanced\nset output ", f);
	res_gp_str(f, out);
	fputs("\nset title ", f);
	res_gp_str(f, name);
	snprintf(label, sizeof(label), "%s%s%s%s", xl, xunit[0] ? " (" : "", xunit,
		 xunit[0] ? ")" : "");
	fputs("\nset xlabel ", f);
	res_gp_str(f, label);
	fputs("\nset ylabel ", f);
	res_gp_str(f, yl);
	/* a margin, so that the error bars of the first and last x show */
	fputs("\nset key outside below\nset grid\nset offsets graph 0.05, graph 0.05, graph 0.05, "
	      "graph 0.05\n", f);
	while (i < n) {
		fprintf(f, "$d%zu << EOD\n", line++);
		for (first = i; i < n && !strcmp(pts[i].line, pts[first].line); i = j) {
			double sum = 0, sq = 0, mean;

			for (j = i; j < n && !strcmp(pts[j].line, pts[i].line) && pts[j].x == pts[i].x; j++)
				sum += pts[j].y;
			mean = sum / (double)(j - i);
			for (k = i; k < j; k++)
				sq += (pts[k].y - mean) * (pts[k].y - mean);
			fprintf(f, "%.17g %.17g %.17g\n", pts[i].x, mean,
				j - i > 1 ? sqrt(sq / (double)(j - i - 1)) : 0.0);
		}
		fputs("EOD\n", f);
	}
	fputs("plot ", f);
	for (i = 0, k = 0; i < n; k++) {
		fprintf(f, "%s$d%zu using 1:2:3 with yerrorlines title ", k ? ", " : "", k);
		res_gp_str(f, pts[i].line[0] ? pts[i].line : yl);
		for (first = i; i < n && !strcmp(pts[i].line, pts[first].line); i++)
			;
	}
	fputc('\n', f);
}

/* Run gnuplot with script (the caller's) on its standard input. Returns
 * 0, or a negative errno (-ENOENT: no gnuplot; -EPROTO: it failed). A
 * gnuplot that ends before reading it all is -EPIPE (SIGPIPE is ignored
 * from then on: vtb results writes nothing else to a pipe). */
static int res_gnuplot(const char *script, size_t len)
{
	char *argv[] = { "gnuplot", NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], r, st;
	size_t off = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	r = -posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (r) {
		close(fds[1]);
		return r;
	}
	while (!r && off < len) {
		ssize_t w = write(fds[1], script + off, len - off);

		if (w < 0 && errno != EINTR)
			r = -errno;
		off += w > 0 ? (size_t)w : 0;
	}
	close(fds[1]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return r ? r : WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 :
	       WIFEXITED(st) && WEXITSTATUS(st) == 127 ? -ENOENT : -EPROTO;
}

/* The points of Y against X: one per row with both, on the line of the
 * other parameters' values. *pts the caller's. Returns their number, or
 * -1 with the error said. */
static long res_points(const struct res_table *t, long cx, long cy, char *xunit, size_t ulen,
		       struct res_pt **pts)
{
	size_t i, c, n = 0;
	bool base = false;

	*pts = calloc(t->nres ? t->nres : 1, sizeof(**pts));
	if (!*pts) {
		cli_err("results: %s", strerror(ENOMEM));
		return -1;
	}
	for (i = 0; i < t->nres; i++) {
		const char *xv = res_cell(t, i, (size_t)cx), *yv = res_cell(t, i, (size_t)cy);
		struct res_pt *p = &(*pts)[n];
		size_t at = 0;

		if (!xv || !yv)
			continue;
		if (res_number(t->cols[cx], xv, xunit, ulen, &base, &p->x)) {
			cli_err("results: %s = '%s' is not a number", cli_esc(t->cols[cx]), cli_esc(xv));
			return -1;
		}
		p->y = strtod(yv, NULL);
		for (c = 0; c < t->nparams; c++)
			if (c != (size_t)cx && c != (size_t)cy && res_cell(t, i, c) && at < sizeof(p->line))
				at += (size_t)snprintf(p->line + at, sizeof(p->line) - at, "%s%s=%s",
						       at ? ", " : "", t->cols[c], res_cell(t, i, c));
		n++;
	}
	qsort(*pts, n, sizeof(**pts), res_pt_cmp);
	return (long)n;
}

/* --plot X Y: Y against X, one line per combination of the other
 * parameters, error bars over the repetitions, into out (default
 * NAME.png). Returns the exit status. */
static int res_plot(const struct res_table *t, const char *name, const char *x, const char *y,
		    const char *out)
{
	long cx = res_find_col(t, x), cy = res_find_col(t, y), n;
	char xunit[32] = "", *script = NULL, deflt[300];
	struct res_pt *pts = NULL;
	size_t len = 0;
	FILE *f;
	int r, status = CLI_USER;

	if (cx < 0 || cy < 0) {
		cli_err("results %s: no parameter or measurement '%s' (vtb results %s shows them)",
			cli_esc(name), cli_esc(cx < 0 ? x : y), cli_esc(name));
		return CLI_USER;
	}
	n = res_points(t, cx, cy, xunit, sizeof(xunit), &pts);
	if (n <= 0) {
		if (!n)
			cli_err("results %s: no run has both '%s' and '%s'", cli_esc(name), cli_esc(x),
				cli_esc(y));
		goto out_free_pts;
	}
	if (!out) {
		snprintf(deflt, sizeof(deflt), "%s.png", name);
		out = deflt;
	}
	f = open_memstream(&script, &len);
	if (!f) {
		status = CLI_SYSTEM;
		goto out_free_pts;
	}
	res_gp_script(f, pts, (size_t)n, name, x, xunit, y, out);
	fclose(f);
	r = res_gnuplot(script, len);
	if (r == -ENOENT)
		cli_err("results: cannot run gnuplot: install it (Debian: apt-get install gnuplot-nox)");
	else if (r)
		cli_err("results: gnuplot could not draw %s: %s", cli_esc(out),
			r == -EPROTO ? "it failed (its message is above)" : strerror(-r));
	else
		printf("%s: %s against %s, %ld points\n", out, y, x, n);
	status = r == -ENOENT || r == -EPROTO ? CLI_USER : r ? CLI_SYSTEM : CLI_OK;
	free(script);
out_free_pts:
	free(pts);
	return status;
}

int cmd_results(int argc, char **argv)
{
	const char *name = NULL, *plot_x = NULL, *plot_y = NULL, *out = NULL;
	struct res_table t = { 0 };
	struct db *db = NULL;
	struct db_exp e;
	bool csv = false, json = false;
	int i, r, status = CLI_USER;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--csv")) {
			csv = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--plot") && i + 2 < argc) {
			plot_x = argv[++i];
			plot_y = argv[++i];
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (argv[i][0] == '-' || name) {
			cli_err("results: unexpected '%s' (%s)", cli_esc(argv[i]), USAGE);
			return CLI_USER;
		} else {
			name = argv[i];
		}
	}
	if (!name || csv + json + !!plot_x > 1 || (out && !plot_x)) {
		cli_err("results: %s", USAGE);
		return CLI_USER;
	}
	status = cli_open_exp("results", name, &db, &e);
	if (status)
		goto out;
	r = res_load(db, e.id, &t);
	if (r) {
		cli_err("cannot read the results of '%s': %s", cli_esc(name),
			r == -E2BIG ? "more than 64 parameters and measurements" : strerror(-r));
		status = CLI_SYSTEM;
		goto out;
	}
	status = CLI_OK;
	if (csv)
		res_print_csv(&t);
	else if (json)
		status = res_print_json(&t) ? CLI_SYSTEM : CLI_OK;
	else if (plot_x)
		status = res_plot(&t, name, plot_x, plot_y, out);
	else
		res_print_table(&t, name);
out:
	res_free(&t);
	db_close(db);
	return status;
}
