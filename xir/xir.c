/* xir: building and freeing the experiment intermediate representation. */
#include "xir.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"

struct xir *xir_new(const char *name)
{
	struct xir *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	/* keys are the nodes' own names, which live as long as the xir */
	util_map_init_borrow(&x->node_map);
	if (xir_set_name(x, name ? name : "experiment")) {
		free(x);
		return NULL;
	}
	return x;
}

int xir_set_name(struct xir *x, const char *name)
{
	char *s = strdup(name);

	if (!s)
		return -ENOMEM;
	free(x->name);
	x->name = s;
	return 0;
}

void xir_value_free(struct xir_value *v)
{
	if (v->type == XV_STR || v->type == XV_ENUM) {
		free(v->s);
		v->s = NULL;
	}
}

int xir_value_copy(struct xir_value *dst, const struct xir_value *src)
{
	*dst = *src;
	if (src->type == XV_STR || src->type == XV_ENUM) {
		dst->s = strdup(src->s);
		if (!dst->s)
			return -ENOMEM;
	}
	return 0;
}

bool xir_value_equal(const struct xir_value *a, const struct xir_value *b)
{
	if (a->type != b->type || a->unit != b->unit)
		return false;
	switch (a->type) {
	case XV_INT:
		return a->i == b->i;
	case XV_FLOAT:
		return a->f == b->f;
	case XV_BOOL:
		return a->b == b->b;
	default:
		return !strcmp(a->s, b->s);
	}
}

void xir_cset_free(struct xir_cset *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		xir_value_free(&cs->v[i].value);
	free(cs->v);
}

void xir_free(struct xir *x)
{
	size_t i, j, k;

	if (!x)
		return;
	for (i = 0; i < x->nnodes; i++) {
		free(x->nodes[i].name);
		xir_cset_free(&x->nodes[i].cons);
	}
	for (i = 0; i < x->nlinks; i++) {
		struct xir_link *l = &x->links[i];

		for (j = 0; j < l->nep; j++)
			xir_cset_free(&l->ep[j].cons);
		free(l->ep);
		free(l->name);
		xir_cset_free(&l->cons);
	}
	for (i = 0; i < x->ntasks; i++) {
		struct xir_task *t = &x->tasks[i];

		for (j = 0; j < t->ncmd; j++) {
			free(t->cmd[j].cmd);
			free(t->cmd[j].expect);
			for (k = 0; k < t->cmd[j].nmeasure; k++) {
				free(t->cmd[j].measure[k].name);
				free(t->cmd[j].measure[k].re);
			}
			free(t->cmd[j].measure);
			free(t->cmd[j].link);
			free(t->cmd[j].path);
			xir_cset_free(&t->cmd[j].set);
		}
		free(t->cmd);
		free(t->name);
	}
	for (i = 0; i < x->nfiles; i++) {
		free(x->files[i].path);
		free(x->files[i].text);
	}
	free(x->files);
	xir_cset_free(&x->cons);
	free(x->nodes);
	free(x->links);
	free(x->tasks);
	free(x->name);
	util_map_free(&x->node_map);
	free(x);
}

int xir_add_node(struct xir *x, const char *name, struct src_loc loc, uint32_t *idx)
{
	struct xir_node n = { .loc = loc };
	int r;

	if (x->nnodes >= UINT32_MAX)
		return -E2BIG;
	n.name = strdup(name);
	if (!n.name)
		return -ENOMEM;
	r = UTIL_PUSH(x->nodes, x->nnodes, x->cap_nodes, n);
	if (r)
		goto out_free;
	/* the map borrows the node's own copy of the name: add it only once
	 * the node is in place. A duplicate keeps the first node's index. */
	r = util_map_put(&x->node_map, n.name, strlen(n.name), (uint32_t)(x->nnodes - 1), NULL);
	if (r && r != -EEXIST) {
		x->nnodes--;
		goto out_free;
	}
	if (idx)
		*idx = (uint32_t)(x->nnodes - 1);
	return 0;
out_free:
	free(n.name);
	return r;
}

bool xir_find_node(const struct xir *x, const char *name, uint32_t *idx)
{
	return util_map_get(&x->node_map, name, strlen(name), idx);
}

int xir_add_link(struct xir *x, const char *name, struct src_loc loc, uint32_t *idx)
{
	struct xir_link l = { .loc = loc };
	int r;

	if (x->nlinks >= UINT32_MAX)
		return -E2BIG;
	if (name) {
		l.name = strdup(name);
		if (!l.name)
			return -ENOMEM;
	}
	r = UTIL_PUSH(x->links, x->nlinks, x->cap_links, l);
	if (r) {
		free(l.name);
		return r;
	}
	if (idx)
		*idx = (uint32_t)(x->nlinks - 1);
	return 0;
}

int xir_link_add_endpoint(struct xir *x, uint32_t link, uint32_t node, struct src_loc loc)
{
	struct xir_link *l = &x->links[link];
	struct xir_endpoint e = { .node = node, .loc = loc };

	return UTIL_PUSH(l->ep, l->nep, l->cap, e);
}

struct xir_endpoint *xir_link_endpoint(struct xir *x, uint32_t link, uint32_t node)
{
	struct xir_link *l = &x->links[link];
	size_t i;

	for (i = 0; i < l->nep; i++)
		if (l->ep[i].node == node)
			return &l->ep[i];
	return NULL;
}

int xir_add_task(struct xir *x, const char *name, int64_t timeout_ns, struct src_loc loc,
		 uint32_t *idx)
{
	struct xir_task t = { .timeout_ns = timeout_ns, .loc = loc };
	int r;

	t.name = strdup(name);
	if (!t.name)
		return -ENOMEM;
	r = UTIL_PUSH(x->tasks, x->ntasks, x->cap_tasks, t);
	if (r) {
		free(t.name);
		return r;
	}
	if (idx)
		*idx = (uint32_t)(x->ntasks - 1);
	return 0;
}

int xir_task_add_command(struct xir *x, uint32_t task, uint32_t node, const char *cmd,
			 bool background, const char *expect, struct src_loc loc)
{
	struct xir_task *t = &x->tasks[task];
	struct xir_command c = { .node = node, .background = background, .loc = loc,
				 .link_idx = UINT32_MAX };
	int r = -ENOMEM;

	c.cmd = strdup(cmd);
	if (!c.cmd)
		goto out_free;
	if (expect) {
		c.expect = strdup(expect);
		if (!c.expect)
			goto out_free;
	}
	r = UTIL_PUSH(t->cmd, t->ncmd, t->cap, c);
	if (!r)
		return 0;
out_free:
	free(c.cmd);
	free(c.expect);
	return r;
}

int xir_task_add_step(struct xir *x, uint32_t task, struct xir_command *c)
{
	struct xir_task *t = &x->tasks[task];
	int r = UTIL_PUSH(t->cmd, t->ncmd, t->cap, *c);

	if (r) {
		free(c->cmd);
		free(c->link);
		free(c->path);
		xir_cset_free(&c->set);
	}
	return r;
}

int xir_add_file(struct xir *x, uint32_t node, const char *path, const char *text,
		 struct src_loc loc)
{
	struct xir_file f = { .node = node, .path = strdup(path), .text = strdup(text), .loc = loc };
	int r = f.path && f.text ? UTIL_PUSH(x->files, x->nfiles, x->cap_files, f) : -ENOMEM;

	if (r) {
		free(f.path);
		free(f.text);
	}
	return r;
}

bool xir_file_next(const char *text, size_t *pos, size_t *at, size_t *len, const char **name,
		   size_t *nlen)
{
	const char *p = text + *pos, *o, *n;

	while ((o = strstr(p, "{{"))) {
		for (n = o + 2; *n && n - o - 2 <= XIR_PLACEHOLDER_MAX &&
				(isalnum((unsigned char)*n) || *n == '_' || *n == '.'); n++)
			;
		if (n > o + 2 && n - o - 2 <= XIR_PLACEHOLDER_MAX && n[0] == '}' && n[1] == '}') {
			*at = (size_t)(o - text);
			*len = (size_t)(n + 2 - o);
			*name = o + 2;
			*nlen = (size_t)(n - o - 2);
			*pos = *at + *len;
			return true;
		}
		p = o + 1;
	}
	return false;
}

int xir_placeholder_parse(const char *name, size_t nlen, enum xir_ph *kind, unsigned *ifidx)
{
	size_t skip, i;
	unsigned long n = 0;

	*ifidx = 0;
	if (nlen == 4 && !memcmp(name, "node", 4)) {
		*kind = XPH_NODE;
		return 0;
	}
	if (nlen > 6 && !memcmp(name, "ip.eth", 6)) {
		*kind = XPH_IP;
		skip = 6;
	} else if (nlen > 8 && !memcmp(name, "cidr.eth", 8)) {
		*kind = XPH_CIDR;
		skip = 8;
	} else {
		return -EINVAL;
	}
	for (i = skip; i < nlen; i++) {
		if (!isdigit((unsigned char)name[i]) || (i > skip && name[skip] == '0') || n > 99999)
			return -EINVAL;
		n = n * 10 + (unsigned long)(name[i] - '0');
	}
	*ifidx = (unsigned)n;
	return 0;
}

static const char *const xir_steps[XSTEP_COUNT] = {
	[XSTEP_RUN] = "run",		 [XSTEP_WAIT_UNTIL] = "wait_until", [XSTEP_FILE] = "file",
	[XSTEP_LINK_SET] = "link_set",	 [XSTEP_LINK_DOWN] = "link_down",
	[XSTEP_LINK_UP] = "link_up",	 [XSTEP_NODE_STOP] = "node_stop",
	[XSTEP_NODE_START] = "node_start",
};

const char *xir_step_name(enum xir_step s)
{
	return (unsigned)s < XSTEP_COUNT ? xir_steps[s] : NULL;
}

int xir_step_parse(const char *s, enum xir_step *out)
{
	size_t i;

	for (i = 0; i < XSTEP_COUNT; i++)
		if (!strcmp(xir_steps[i], s)) {
			*out = (enum xir_step)i;
			return 0;
		}
	return -EINVAL;
}

int xir_command_add_measure(struct xir *x, uint32_t task, size_t cmd, const char *name,
			    const char *re)
{
	struct xir_command *c = &x->tasks[task].cmd[cmd];
	struct xir_measure m = { .name = strdup(name), .re = strdup(re) };
	int r = -ENOMEM;

	if (m.name && m.re)
		r = UTIL_PUSH(c->measure, c->nmeasure, c->cap_measure, m);
	if (r) {
		free(m.name);
		free(m.re);
	}
	return r;
}

int xir_cset_add(struct xir_cset *cs, const struct xir_prop *prop, enum xir_op op,
		 struct xir_value value, struct src_loc loc)
{
	struct xir_constraint c = { .prop = prop, .op = op, .value = value, .loc = loc };
	int r = UTIL_PUSH(cs->v, cs->n, cs->cap, c);

	if (r)
		xir_value_free(&value);
	return r;
}

const struct xir_constraint *xir_cset_find(const struct xir_cset *cs, const struct xir_prop *prop)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (cs->v[i].prop == prop)
			return &cs->v[i];
	return NULL;
}

/* Claim name in taken, or name.2, name.3... (base cut so that the name
 * stays within XIR_NAME_MAX). Returns the claimed name (owned by the
 * caller) or NULL. */
static char *claim_name(struct util_map *taken, const char *base)
{
	struct util_buf b;
	unsigned k;

	for (k = 1; k < UINT32_MAX; k++) {
		char suffix[16] = "";
		size_t keep = strlen(base);
		char *s;
		int r;

		if (k > 1)
			snprintf(suffix, sizeof(suffix), ".%u", k);
		if (keep + strlen(suffix) > XIR_NAME_MAX)
			keep = XIR_NAME_MAX - strlen(suffix);
		util_buf_init(&b);
		util_buf_append(&b, base, keep);
		util_buf_puts(&b, suffix);
		s = util_buf_take(&b);
		if (!s)
			return NULL;
		r = util_map_put(taken, s, strlen(s), 0, NULL);
		if (!r)
			return s;
		free(s);
		if (r != -EEXIST)
			return NULL;
	}
	return NULL;
}

/* Give the link steps that name their link by value its name. 0 or
 * -ENOMEM. */
static int xir_name_steps(struct xir *x)
{
	size_t t, c;

	for (t = 0; t < x->ntasks; t++)
		for (c = 0; c < x->tasks[t].ncmd; c++) {
			struct xir_command *s = &x->tasks[t].cmd[c];

			if (s->link || s->link_idx >= x->nlinks || !x->links[s->link_idx].name)
				continue;
			s->link = strdup(x->links[s->link_idx].name);
			if (!s->link)
				return -ENOMEM;
		}
	return 0;
}

int xir_finish(struct xir *x)
{
	struct util_map taken;
	size_t i, nlan = 0;
	int r = 0;

	util_map_init(&taken);
	for (i = 0; i < x->nlinks; i++) {
		const char *n = x->links[i].name;

		if (n) {
			r = util_map_put(&taken, n, strlen(n), 0, NULL);
			if (r == -ENOMEM)
				goto out;
			r = 0;
		}
	}
	for (i = 0; i < x->nlinks; i++) {
		struct xir_link *l = &x->links[i];
		char base[64];

		if (l->name)
			continue;
		if (l->nep == 2)
			snprintf(base, sizeof(base), "%.30s-%.30s", x->nodes[l->ep[0].node].name,
				 x->nodes[l->ep[1].node].name);
		else
			snprintf(base, sizeof(base), "lan%zu", nlan++);
		l->name = claim_name(&taken, base);
		if (!l->name) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = xir_name_steps(x);
out:
	util_map_free(&taken);
	return r;
}

const char *xir_op_str(enum xir_op op)
{
	static const char *const s[] = { "==", "!=", "<", "<=", ">", ">=" };

	return (unsigned)op < UTIL_ARRAY_SIZE(s) ? s[op] : "?";
}

int xir_op_parse(const char *s, enum xir_op *op)
{
	unsigned i;

	for (i = XIR_EQ; i <= XIR_GE; i++)
		if (!strcmp(s, xir_op_str((enum xir_op)i))) {
			*op = (enum xir_op)i;
			return 0;
		}
	return -EINVAL;
}

static bool cset_emulated(const struct xir_cset *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (cs->v[i].prop->emulated)
			return true;
	return false;
}

bool xir_link_is_emulated(const struct xir *x, const struct xir_link *l)
{
	size_t i;

	(void)x;
	if (cset_emulated(&l->cons))
		return true;
	for (i = 0; i < l->nep; i++)
		if (cset_emulated(&l->ep[i].cons))
			return true;
	return false;
}

bool xir_constraint_needs_vm(const struct xir_constraint *c)
{
	const char *n = c->prop->name;

	if (!strcmp(n, "kernel") || !strcmp(n, "image") || !strcmp(n, "dilation"))
		return true;
	if (!strcmp(n, "arch"))
		return c->value.type == XV_ENUM && c->value.s && strcmp(c->value.s, "x86_64");
	if (!strcmp(n, "nic") && c->op == XIR_EQ && c->value.type == XV_ENUM && c->value.s) {
		const struct xir_enum *e = xir_enum_find("nic", c->value.s);

		return e && e->vm_only;
	}
	return false;
}

static bool cons_wants_vm(const struct xir_constraint *c)
{
	if (!strcmp(c->prop->name, "virt"))
		return c->op == XIR_EQ && c->value.type == XV_BOOL && c->value.b;
	return xir_constraint_needs_vm(c);
}

bool xir_node_wants_vm(const struct xir *x, uint32_t node)
{
	const struct xir_node *n = &x->nodes[node];
	size_t i, j;

	for (i = 0; i < n->cons.n; i++)
		if (cons_wants_vm(&n->cons.v[i]))
			return true;
	for (i = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++) {
			const struct xir_endpoint *e = &x->links[i].ep[j];
			size_t k;

			if (e->node != node)
				continue;
			for (k = 0; k < e->cons.n; k++)
				if (cons_wants_vm(&e->cons.v[k]))
					return true;
		}
	return false;
}

int xir_vm_nodes(const struct xir *x, bool **out)
{
	bool *vm = calloc(x->nnodes + 1, sizeof(*vm));
	size_t i, j, k;

	if (!vm)
		return -ENOMEM;
	for (i = 0; i < x->nnodes; i++)
		for (k = 0; k < x->nodes[i].cons.n && !vm[i]; k++)
			vm[i] = cons_wants_vm(&x->nodes[i].cons.v[k]);
	for (i = 0; i < x->nlinks; i++)
		for (j = 0; j < x->links[i].nep; j++) {
			const struct xir_endpoint *e = &x->links[i].ep[j];

			for (k = 0; k < e->cons.n && !vm[e->node]; k++)
				vm[e->node] = cons_wants_vm(&e->cons.v[k]);
		}
	*out = vm;
	return 0;
}

/* The name rule (xir.h): 0, or -EINVAL with the reason in why. */
int xir_name_check(const char *s, size_t len, char *why, size_t cap)
{
	char c[2] = { 0, 0 }, shown[8];
	size_t i;

	if (!len) {
		util_fmt(why, cap, "it is empty");
		return -EINVAL;
	}
	if (len > XIR_NAME_MAX) {
		util_fmt(why, cap, "it is %zu characters long", len);
		return -EINVAL;
	}
	if (s[0] == '-' || s[0] == '.') {
		util_fmt(why, cap, "it starts with '%c'", s[0]);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.')
			continue;
		c[0] = s[i];
		if (s[i] == ' ')
			util_fmt(why, cap, "a space is not allowed");
		else
			util_fmt(why, cap, "'%s' is not allowed", esc_str(shown, sizeof(shown), c));
		return -EINVAL;
	}
	return 0;
}
