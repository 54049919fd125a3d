/* compile: lexer + parser + evaluator + checks, or JSON + checks. */
#include "compile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "parser.h"
#include "xir_json.h"

/* "dir/chain.vtb" -> "chain" */
static char *default_name(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t len;

	base = base ? base + 1 : file;
	len = strlen(base);
	if (len > 4 && !strcmp(base + len - 4, ".vtb"))
		len -= 4;
	else if (len > 5 && !strcmp(base + len - 5, ".json"))
		len -= 5;
	if (!len || !strcmp(file, "-"))
		return strdup("experiment");
	return util_strndup(base, len);
}

static bool looks_like_json(const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r')
			continue;
		return src[i] == '{';
	}
	return false;
}

/* Run the model through the parser and the evaluator, a statement at a time. */
static int compile_model(const char *src, size_t len, const struct eval_limits *lim,
			 struct xir *x, struct diag_list *d, struct compile_stats *stats)
{
	struct ast_symtab syms;
	struct parser p;
	struct eval *ev;
	struct ast_stmt *s;
	bool stopped = false;
	int r = 0;

	ast_symtab_init(&syms);
	parse_init(&p, src, len, &syms, d);
	ev = eval_new(x, &syms, d, lim);
	if (!ev) {
		r = -ENOMEM;
		goto out;
	}
	while (parse_next(&p, &s) > 0) {
		/* after a syntax error keep parsing to report more, but stop
		 * evaluating: later statements may depend on the broken one */
		if (p.nsyntax || stopped)
			continue;
		r = eval_stmt(ev, s);
		if (r == -ECANCELED) {
			stopped = true; /* a cap was hit; it has been reported */
			r = 0;
		}
		if (r || diag_full(d))
			break;
	}
	if (stats)
		stats->steps = eval_steps(ev);
	if (d->oom)
		r = -ENOMEM;
out:
	eval_free(ev);
	parse_free(&p);
	ast_symtab_free(&syms);
	return r;
}

/* The experiment name from topo.spec(name == '...'), if given. */
static int apply_topo_name(struct xir *x)
{
	const struct xir_constraint *c = xir_cset_find(&x->cons, xir_prop_find("name"));

	if (c && c->op == XIR_EQ && c->value.type == XV_STR && c->value.s[0])
		return xir_set_name(x, c->value.s);
	return 0;
}

/* Report a model over COMPILE_MAX_SOURCE. compile_read_file stops reading
 * just past the limit, so the size is the file's own when file is a
 * regular file, and otherwise only known to be over the limit. */
static void report_size(const char *file, struct diag_list *d)
{
	struct stat st;

	if (strcmp(file, "-") && !stat(file, &st) && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > COMPILE_MAX_SOURCE)
		diag_error(d, xir_noloc(), NULL, "the model is %llu bytes (%llu MiB); the limit is %zu MiB",
			   (unsigned long long)st.st_size, (unsigned long long)st.st_size >> 20,
			   COMPILE_MAX_SOURCE >> 20);
	else
		diag_error(d, xir_noloc(), NULL, "the model is over the limit of %zu MiB",
			   COMPILE_MAX_SOURCE >> 20);
}

int compile_source(const char *file, const char *src, size_t len, const struct eval_limits *lim,
		   struct xir **out, struct diag_list *d, struct compile_stats *stats)
{
	struct xir *x = NULL;
	char *name = NULL;
	bool clean;
	int r;

	if (len > COMPILE_MAX_SOURCE) {
		report_size(file, d);
		return -EFBIG;
	}
	if (looks_like_json(src, len)) {
		r = xjson_read(src, len, &x, d);
		if (r)
			return r;
	} else {
		name = default_name(file);
		x = name ? xir_new(name) : NULL;
		free(name);
		if (!x)
			return -ENOMEM;
		r = compile_model(src, len, lim, x, d, stats);
		if (r)
			goto out_free;
	}
	r = apply_topo_name(x);
	if (!r)
		r = xir_finish(x);
	if (r)
		goto out_free;
	clean = d->nerrors == 0;
	if (clean) {
		check_all(x, d);
	} else {
		/* the model is incomplete: skip the checks whose findings would
		 * only echo the errors already found (islands) */
		check_properties(x, d);
		check_names(x, d);
		check_contradictions(x, d);
		check_links(x, d);
		check_addresses(x, d);
		check_tasks(x, d);
		check_files(x, d);
		check_virt(x, d);
	}
	if (d->oom) {
		r = -ENOMEM;
		goto out_free;
	}
	diag_sort(d);
	if (d->nerrors) {
		r = -EINVAL;
		goto out_free;
	}
	*out = x;
	return 0;
out_free:
	xir_free(x);
	return r;
}

int compile_read_file(const char *path, char **buf, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	size_t n = 0, cap = 0;
	char *b = NULL;
	int r = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		size_t want;
		ssize_t got;

		if (util_grow((void **)&b, &cap, n + 65536 + 1, 1)) {
			r = -ENOMEM;
			goto out_close;
		}
		want = cap - n - 1;
		if (want > COMPILE_MAX_SOURCE + 1 - n)
			want = COMPILE_MAX_SOURCE + 1 - n; /* never more than a byte past the limit */
		got = read(fd, b + n, want);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out_close;
		}
		if (!got)
			break;
		n += (size_t)got;
		if (n > COMPILE_MAX_SOURCE)
			break; /* compile_source reports the size */
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out_close:
	if (fd != STDIN_FILENO)
		close(fd);
	free(b);
	return r;
}
