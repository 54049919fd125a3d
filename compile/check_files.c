/* check_files: the files a model writes into its nodes (file(node, path,
 * text)): a plain absolute path in a directory of the node's own, a text
 * that fits a command line, known placeholders, one file per path. */
#include "check_int.h"

#include <stdio.h>
#include <string.h>

/* The directories every container node has of its own (docs/nodes.md):
 * a file there is the node's, never the host's. */
static const char *const check_own_dirs[] = { "/tmp", "/root", "/run", "/var/tmp" };

/* Whether path is dir or under it (dir: len bytes). */
static bool check_under(const char *path, const char *dir, size_t len)
{
	return !strncmp(path, dir, len) && path[len] == '/';
}

/* Whether path is inside a directory container node ni has of its own:
 * one of its private == [...] directories, or check_own_dirs. */
static bool check_path_own(const struct xir *x, uint32_t ni, const char *path)
{
	const struct xir_cset *cs = &x->nodes[ni].cons;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_SIZE(check_own_dirs); i++)
		if (check_under(path, check_own_dirs[i], strlen(check_own_dirs[i])))
			return true;
	for (i = 0; i < cs->n; i++) {
		const struct xir_constraint *c = &cs->v[i];
		const char *eq;

		if (!c->prop || strcmp(c->prop->name, "private") || c->value.type != XV_STR)
			continue;
		eq = strchr(c->value.s, '=');
		if (check_under(path, c->value.s, eq ? (size_t)(eq - c->value.s) : strlen(c->value.s)))
			return true;
	}
	return false;
}

/* The number of interfaces node ni gets: one per link it is on. */
static size_t check_node_ifs(const struct xir *x, uint32_t ni)
{
	size_t i, j, n = 0;

	for (i = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++)
			n += x->links[i].ep[j].node == ni;
	return n;
}

/* Every placeholder of file f (label fl) is one vtb knows, naming an
 * interface its node has. */
static void check_placeholders(const struct xir *x, const struct xir_file *f, const char *fl,
			       struct diag_list *d)
{
	size_t pos = 0, at, len, nlen, nifs = check_node_ifs(x, f->node);
	const char *name;
	enum xir_ph kind;
	unsigned ifidx;

	while (!diag_full(d) && xir_file_next(f->text, &pos, &at, &len, &name, &nlen)) {
		if (xir_placeholder_parse(name, nlen, &kind, &ifidx))
			diag_error(d, f->loc, "known: " XIR_PLACEHOLDERS,
				   "%s: unknown placeholder '%.*s'", fl, (int)len, f->text + at);
		else if (kind != XPH_NODE && ifidx >= nifs)
			diag_error(d, f->loc, "a node has eth0, eth1, ... one per link it is on, in the "
				   "order the links are made", "%s: '%.*s': the device has %zu "
				   "interface%s", fl, (int)len, f->text + at, nifs, nifs == 1 ? "" : "s");
	}
}

/* Every file: a path of the node's own, a text within XIR_FILE_MAX,
 * known placeholders, no path twice on one node. */
void check_files(const struct xir *x, struct diag_list *d)
{
	char fl[XIR_LABEL_BUF], n[XIR_NAME_BUF], p[XIR_NAME_BUF];
	size_t i, k;

	for (i = 0; i < x->nfiles && !diag_full(d); i++) {
		const struct xir_file *f = &x->files[i];
		const char *why;

		if (f->node >= x->nnodes)
			continue;
		xir_fmt_clean(p, sizeof(p), f->path);
		snprintf(fl, sizeof(fl), "file '%s' of '%s'", p, xir_fmt_node(x, f->node, n));
		why = check_path_problem(f->path, strlen(f->path));
		if (why)
			diag_error(d, f->loc, "write a path such as '/etc/bird/bird.conf'", "%s: the path %s",
				   fl, why);
		else if (!xir_node_wants_vm(x, f->node) && !check_path_own(x, f->node, f->path))
			diag_error(d, f->loc, "give the device private == ['/etc/bird'] (docs/nodes.md), "
				   "or use /tmp, /root, /run or /var/tmp",
				   "%s: the path is not in a directory of the device's own: vtb never "
				   "writes the host's files", fl);
		if (strlen(f->text) > XIR_FILE_MAX)
			diag_error(d, f->loc, NULL, "%s: the text is longer than %u bytes", fl,
				   XIR_FILE_MAX);
		for (k = 0; k < i; k++)
			if (x->files[k].node == f->node && !strcmp(x->files[k].path, f->path))
				diag_error(d, f->loc, NULL, "%s: written twice", fl);
		check_placeholders(x, f, fl, d);
	}
}
