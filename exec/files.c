/* files: the model's files, written by vtb run (files.h). */
#include "files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

/* The value of placeholder name[0..nlen) of file f into b. Returns 0, or
 * -EINVAL with err. */
static int files_value(const struct xir *x, const struct realization *rz, const struct xir_file *f,
		       const char *name, size_t nlen, struct util_buf *b, char *err, size_t errlen)
{
	const struct rz_node *n = &rz->nodes[f->node];
	char a[64];
	enum xir_ph kind;
	unsigned i;
	struct addr_prefix host;

	if (xir_placeholder_parse(name, nlen, &kind, &i)) {
		util_fmt(err, errlen, "file '%s' of '%s': unknown placeholder '{{%.*s}}' (known: %s)",
			 f->path, x->nodes[f->node].name, (int)nlen, name, XIR_PLACEHOLDERS);
		return -EINVAL;
	}
	if (kind == XPH_NODE) {
		util_buf_puts(b, x->nodes[f->node].name);
		return 0;
	}
	if (i >= n->nifs || !n->ifs[i].v4.family) {
		util_fmt(err, errlen, "file '%s' of '%s': '{{%.*s}}': the device has no IPv4 address "
			 "on eth%u", f->path, x->nodes[f->node].name, (int)nlen, name, i);
		return -EINVAL;
	}
	host = n->ifs[i].v4;
	addr_format(&host, a, sizeof(a));
	if (kind == XPH_IP)
		a[strcspn(a, "/")] = '\0';
	util_buf_puts(b, a);
	return 0;
}

int files_text(const struct xir *x, const struct realization *rz, const struct xir_file *f,
	       char **out, char *err, size_t errlen)
{
	size_t pos = 0, at, len, nlen, done = 0;
	const char *name;
	struct util_buf b;
	int r = 0;

	util_buf_init(&b);
	while (!r && xir_file_next(f->text, &pos, &at, &len, &name, &nlen)) {
		util_buf_append(&b, f->text + done, at - done);
		r = files_value(x, rz, f, name, nlen, &b, err, errlen);
		done = at + len;
	}
	util_buf_puts(&b, f->text + done);
	*out = util_buf_take(&b);
	if (r) {
		free(*out);
		*out = NULL;
		return r;
	}
	return *out ? 0 : -ENOMEM;
}

/* The shell command that writes text to path: its directory made, the
 * text as it is (printf %s). *out is the caller's. 0 or -ENOMEM. */
static int files_command(const char *path, const char *text, char **out)
{
	const char *slash = strrchr(path, '/');
	char *dir = util_strndup(path, slash && slash != path ? (size_t)(slash - path) : 1);
	struct util_buf b;

	if (!dir)
		return -ENOMEM;
	util_buf_init(&b);
	util_buf_puts(&b, "mkdir -p ");
	util_buf_sh_quote(&b, dir);
	util_buf_puts(&b, " && printf %s ");
	util_buf_sh_quote(&b, text);
	util_buf_puts(&b, " >");
	util_buf_sh_quote(&b, path);
	free(dir);
	*out = util_buf_take(&b);
	return *out ? 0 : -ENOMEM;
}

/* Move the last task of x to the front. */
static void files_first(struct xir *x)
{
	struct xir_task t = x->tasks[x->ntasks - 1];

	memmove(x->tasks + 1, x->tasks, (x->ntasks - 1) * sizeof(*x->tasks));
	x->tasks[0] = t;
}

int files_task(struct xir *x, const struct realization *rz, char *err, size_t errlen)
{
	uint32_t t;
	size_t i;
	int r;

	if (!x->nfiles)
		return 0;
	r = xir_add_task(x, FILES_TASK, FILES_TIMEOUT_NS, xir_noloc(), &t);
	for (i = 0; !r && i < x->nfiles; i++) {
		const struct xir_file *f = &x->files[i];
		struct xir_command c = { .step = XSTEP_FILE, .node = f->node, .link_idx = UINT32_MAX };
		char *text = NULL;

		r = files_text(x, rz, f, &text, err, errlen);
		if (!r)
			r = files_command(f->path, text, &c.cmd);
		free(text);
		if (!r && !(c.path = strdup(f->path)))
			r = -ENOMEM;
		if (!r)
			r = xir_task_add_step(x, t, &c);
		else
			free(c.cmd);
	}
	if (r == -ENOMEM)
		util_fmt(err, errlen, "%s", strerror(ENOMEM));
	if (x->ntasks && !strcmp(x->tasks[x->ntasks - 1].name, FILES_TASK))
		files_first(x);
	return r;
}
