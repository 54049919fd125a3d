/* diag: collecting and formatting compiler diagnostics. */
#include "diag.h"
#include "esc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag_list *d, const char *file, const char *src, size_t src_len)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
	d->src = src;
	d->src_len = src_len;
}

void diag_free(struct diag_list *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].msg);
		free(d->v[i].hint);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

bool diag_full(const struct diag_list *d)
{
	return d->nerrors >= DIAG_MAX_ERRORS;
}

bool diag_seen(const struct diag_list *d, struct src_loc loc)
{
	size_t i;

	if (diag_full(d))
		return true;
	for (i = d->n; i > 0 && i + 16 > d->n; i--)
		if (d->v[i - 1].loc.line && !memcmp(&d->v[i - 1].loc, &loc, sizeof(loc)))
			return true;
	return false;
}

void diag_add(struct diag_list *d, enum diag_level level, struct src_loc loc, const char *hint,
	      const char *fmt, ...)
{
	struct diag g = { .level = level, .loc = loc };
	struct util_buf b;
	va_list ap;
	char small[512];
	size_t i;

	va_start(ap, fmt);
	vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	/* a loop body repeats its error at the same place: say it once */
	for (i = d->n; i > 0 && i + 16 > d->n; i--)
		if (d->v[i - 1].loc.line && !memcmp(&d->v[i - 1].loc, &loc, sizeof(loc)) &&
		    !strcmp(d->v[i - 1].msg, small))
			return;
	if (level == DIAG_ERROR && diag_full(d)) {
		d->truncated = true;
		d->nerrors++;
		return;
	}
	util_buf_init(&b);
	util_buf_puts(&b, small);
	g.msg = util_buf_take(&b);
	g.hint = hint ? strdup(hint) : NULL;
	if (!g.msg || (hint && !g.hint) || UTIL_PUSH(d->v, d->n, d->cap, g)) {
		free(g.msg);
		free(g.hint);
		d->oom = true;
	}
	if (level == DIAG_ERROR)
		d->nerrors++;
}

static int diag_cmp(const void *pa, const void *pb)
{
	const struct diag *a = pa, *b = pb;
	uint64_t ka = a->loc.line ? ((uint64_t)a->loc.line << 32 | a->loc.col) : UINT64_MAX;
	uint64_t kb = b->loc.line ? ((uint64_t)b->loc.line << 32 | b->loc.col) : UINT64_MAX;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return a < b ? -1 : a > b; /* stable: fall back on the original order */
}

void diag_sort(struct diag_list *d)
{
	size_t i;
	struct diag *tmp;

	/* qsort is not stable; the address tie-break above needs the original
	 * positions, so sort a copy whose order is the insertion order. */
	if (d->n < 2)
		return;
	tmp = malloc(d->n * sizeof(*tmp));
	if (!tmp)
		return;
	for (i = 0; i < d->n; i++)
		tmp[i] = d->v[i];
	qsort(tmp, d->n, sizeof(*tmp), diag_cmp);
	memcpy(d->v, tmp, d->n * sizeof(*tmp));
	free(tmp);
}

/* Find line number `line` (1-based) of the source; returns its start and length. */
static const char *diag_line(const struct diag_list *d, uint32_t line, size_t *len)
{
	const char *p = d->src, *end = d->src + d->src_len, *nl;
	uint32_t i;

	for (i = 1; i < line && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (p >= end && line > 1)
		return NULL;
	nl = memchr(p, '\n', (size_t)(end - p));
	*len = nl ? (size_t)(nl - p) : (size_t)(end - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

static void diag_quote(const struct diag_list *d, const struct diag *g, struct util_buf *b)
{
	size_t len, i, col;
	const char *line;

	if (!d->src || !g->loc.line)
		return;
	line = diag_line(d, g->loc.line, &len);
	if (!line)
		return;
	if (len > 200)
		len = 200; /* a minified or generated line: quote its start only */
	util_buf_puts(b, "    ");
	for (i = 0; i < len; i++) {
		char c = line[i];

		util_buf_append(b, (c == '\t' || (unsigned char)c >= 0x20) ? &c : "?", 1);
	}
	util_buf_puts(b, "\n    ");
	col = g->loc.col ? g->loc.col - 1 : 0;
	/* keep tabs so the caret lines up under the quoted text */
	for (i = 0; i < col && i < len; i++)
		util_buf_append(b, line[i] == '\t' ? "\t" : " ", 1);
	util_buf_puts(b, "^");
	for (i = 1; i < g->loc.len && col + i < len; i++)
		util_buf_puts(b, "~");
	util_buf_puts(b, "\n");
}

/* Append s (NULL: nothing) to b, escaped for a terminal (esc.h). */
static void diag_put(struct util_buf *b, const char *s)
{
	if (s)
		esc_append(b, s, strlen(s));
}

char *diag_format(const struct diag_list *d)
{
	struct util_buf b;
	size_t i, nwarn = 0;

	util_buf_init(&b);
	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		const char *lvl = g->level == DIAG_ERROR ? "error" : "warning";

		if (g->level == DIAG_WARNING)
			nwarn++;
		/* names and words from the model or document are escaped (esc.h) */
		diag_put(&b, d->file);
		if (g->loc.line)
			util_buf_printf(&b, ":%u:%u", g->loc.line, g->loc.col);
		util_buf_printf(&b, ": %s: ", lvl);
		diag_put(&b, g->msg);
		util_buf_puts(&b, "\n");
		diag_quote(d, g, &b);
		if (g->hint) {
			util_buf_puts(&b, "  hint: ");
			diag_put(&b, g->hint);
			util_buf_puts(&b, "\n");
		}
	}
	if (d->truncated || d->nerrors >= DIAG_MAX_ERRORS) {
		diag_put(&b, d->file);
		util_buf_printf(&b, ": too many errors, stopped after %d\n", DIAG_MAX_ERRORS);
	}
	if (d->nerrors)
		util_buf_printf(&b, "%zu error%s", d->nerrors, d->nerrors == 1 ? "" : "s");
	if (nwarn)
		util_buf_printf(&b, "%s%zu warning%s", d->nerrors ? ", " : "", nwarn,
				nwarn == 1 ? "" : "s");
	if (d->nerrors || nwarn)
		util_buf_puts(&b, "\n");
	return util_buf_take(&b);
}
