/* xir_json_write: writing the JSON form of the XIR (docs/xir.md). The
 * document is streamed, so a large experiment is never held twice in
 * memory. xir_json_read.c reads it back. */
#include "xir_json.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The writer lays the document out itself, exactly as jansson lays out a
 * whole tree with XJ_DUMP_FLAGS, and lets jansson encode each string and
 * real (escapes, UTF-8 checks, number format). Building a jansson tree per
 * node and dumping it was measured at 1.3 s for 100k nodes and 100k links,
 * most of it in jansson's per-token callbacks and loop checks; this way
 * takes a fraction of that and holds nothing but a small buffer. */

#define XJ_DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

/* Where the text goes. Errors are sticky, as in util_buf: once err is set
 * every later write is a no-op and the caller checks once at the end. */
struct xj_out {
	FILE *f;
	int err; /* 0, -EIO, -ENOMEM, -EILSEQ (not UTF-8) or -EINVAL (not JSON) */
	size_t len;
	char buf[16384];
};

static void xj_fail(struct xj_out *o, int err)
{
	if (!o->err)
		o->err = err;
}

/* Send the buffered text to the file. */
static void xj_flush(struct xj_out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		xj_fail(o, -EIO);
	o->len = 0;
}

/* Append n bytes, flushing the buffer to the file when full. */
static void xj_raw(struct xj_out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (o->len + n > sizeof(o->buf))
		xj_flush(o);
	if (n > sizeof(o->buf)) {
		if (fwrite(s, 1, n, o->f) != n)
			xj_fail(o, -EIO);
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

#define xj_lit(o, s) xj_raw((o), (s), sizeof(s) - 1)

/* A newline and the indentation of nesting level depth. */
static void xj_nl(struct xj_out *o, unsigned depth)
{
	static const char nl[] = "\n                                ";

	xj_raw(o, nl, 1 + 2 * (depth < 16 ? depth : 16));
}

/* Open an object (first key) or continue it, and write "key": at depth. */
static void xj_key(struct xj_out *o, bool first, unsigned depth, const char *key)
{
	xj_raw(o, first ? "{" : ",", 1);
	xj_nl(o, depth);
	xj_lit(o, "\"");
	xj_raw(o, key, strlen(key));
	xj_lit(o, "\": ");
}

static void xj_end_object(struct xj_out *o, unsigned depth)
{
	xj_nl(o, depth);
	xj_lit(o, "}");
}

/* Before element i of an array whose key is at depth. */
static void xj_item(struct xj_out *o, size_t i, unsigned depth)
{
	xj_raw(o, i ? "," : "[", 1);
	xj_nl(o, depth + 1);
}

/* After the n elements of an array whose key is at depth: "[]" when empty. */
static void xj_end_array(struct xj_out *o, size_t n, unsigned depth)
{
	if (!n) {
		xj_lit(o, "[]");
		return;
	}
	xj_nl(o, depth);
	xj_lit(o, "]");
}

/* An integer, as jansson writes it. */
static void xj_int(struct xj_out *o, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	xj_raw(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* json_dump_callback sink for one scalar. */
static int xj_sink(const char *buf, size_t size, void *data)
{
	struct xj_out *o = data;

	xj_raw(o, buf, size);
	return o->err ? -1 : 0;
}

/* Have jansson encode scalar v (reference taken; NULL: its constructor ran
 * out of memory). fail is the error when jansson refuses it. */
static void xj_scalar(struct xj_out *o, json_t *v, int fail)
{
	if (!v) {
		xj_fail(o, -ENOMEM);
		return;
	}
	if (!o->err && json_dump_callback(v, xj_sink, o, XJ_DUMP_FLAGS))
		xj_fail(o, fail);
	json_decref(v);
}

/* A string, or null for NULL. Printable ASCII other than '"' and '\\'
 * (names, commands, addresses: nearly every string) is what jansson would
 * write unchanged, so it is copied; anything else goes to jansson, whose
 * dump checks the UTF-8 that the unchecked constructor let through. */
static void xj_str(struct xj_out *o, const char *s)
{
	const char *p;

	if (!s) {
		xj_lit(o, "null");
		return;
	}
	for (p = s; *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\'; p++)
		;
	if (*p) {
		xj_scalar(o, json_string_nocheck(s), -EILSEQ);
		return;
	}
	xj_lit(o, "\"");
	xj_raw(o, s, (size_t)(p - s));
	xj_lit(o, "\"");
}

/* A real, encoded by jansson (a non-finite one is a broken XIR). */
static void xj_real(struct xj_out *o, double f)
{
	if (!isfinite(f))
		xj_fail(o, -EINVAL); /* JSON has no NaN or infinity */
	else
		xj_scalar(o, json_real(f), -ENOMEM);
}

/* A constraint's value: a number, a bool, or a string (enumerated values
 * too). */
static void xj_value(struct xj_out *o, const struct xir_value *v)
{
	switch (v->type) {
	case XV_INT:
		xj_int(o, v->i);
		break;
	case XV_FLOAT:
		xj_real(o, v->f);
		break;
	case XV_BOOL:
		if (v->b)
			xj_lit(o, "true");
		else
			xj_lit(o, "false");
		break;
	case XV_STR:
	case XV_ENUM:
		xj_str(o, v->s);
		break;
	default:
		xj_fail(o, -EINVAL);
	}
}

/* A constraint object at depth. A number on "queue" also gets "unit":
 * "packets" or the name of its unit. */
static void xj_constraint(struct xj_out *o, const struct xir_constraint *c, unsigned depth)
{
	if (!c->prop || (unsigned)c->op > XIR_GE) {
		xj_fail(o, -EINVAL);
		return;
	}
	xj_key(o, true, depth + 1, "property");
	xj_str(o, c->prop->name);
	xj_key(o, false, depth + 1, "op");
	xj_str(o, xir_op_str(c->op));
	xj_key(o, false, depth + 1, "value");
	xj_value(o, &c->value);
	if (c->prop->type == XP_QUEUE && (c->value.type == XV_INT || c->value.type == XV_FLOAT)) {
		xj_key(o, false, depth + 1, "unit");
		xj_str(o, c->value.unit == XU_NONE ? "packets" : xir_unit_name(c->value.unit));
	}
	xj_end_object(o, depth);
}

/* Writes element i of the array arr (of some XIR record) as the object at
 * depth. */
typedef void (*xj_elem_fn)(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
			   unsigned depth);

/* The array of arr[0..n), as the value of a key at depth, each element
 * written by elem. Stops at the first error. */
static void xj_array(struct xj_out *o, const struct xir *x, const void *arr, size_t n,
		     unsigned depth, xj_elem_fn elem)
{
	size_t i;

	for (i = 0; i < n && !o->err; i++) {
		xj_item(o, i, depth);
		elem(o, x, arr, i, depth + 1);
	}
	xj_end_array(o, n, depth);
}

/* Element writers for xj_array: constraint, node, endpoint, link,
 * command and task i of arr, as the object at depth. */
static void xj_constraint_at(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
			     unsigned depth)
{
	(void)x;
	xj_constraint(o, &((const struct xir_constraint *)arr)[i], depth);
}

/* The array of the constraints in cs, as the value of a key at depth. */
static void xj_cset(struct xj_out *o, const struct xir_cset *cs, unsigned depth)
{
	xj_array(o, NULL, cs->v, cs->n, depth, xj_constraint_at);
}

/* The name of node idx; an index past the nodes is a broken XIR. */
static void xj_node_ref(struct xj_out *o, const struct xir *x, uint32_t idx)
{
	if (idx >= x->nnodes)
		xj_fail(o, -EINVAL);
	else
		xj_str(o, x->nodes[idx].name);
}

/* "name": name, the first key of a node, link or task object at depth. */
static void xj_name(struct xj_out *o, const char *name, unsigned depth)
{
	xj_key(o, true, depth + 1, "name");
	xj_str(o, name);
}

/* "constraints": cs, the last key of an object at depth, and the object's
 * end. */
static void xj_cons_end(struct xj_out *o, const struct xir_cset *cs, unsigned depth)
{
	xj_key(o, false, depth + 1, "constraints");
	xj_cset(o, cs, depth + 1);
	xj_end_object(o, depth);
}

static void xj_node_at(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
		       unsigned depth)
{
	const struct xir_node *n = &((const struct xir_node *)arr)[i];

	(void)x;
	xj_name(o, n->name, depth);
	xj_cons_end(o, &n->cons, depth);
}

static void xj_endpoint_at(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
			   unsigned depth)
{
	const struct xir_endpoint *ep = &((const struct xir_endpoint *)arr)[i];

	xj_key(o, true, depth + 1, "node");
	xj_node_ref(o, x, ep->node);
	xj_cons_end(o, &ep->cons, depth);
}

static void xj_link_at(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
		       unsigned depth)
{
	const struct xir_link *l = &((const struct xir_link *)arr)[i];

	xj_name(o, l->name, depth);
	xj_key(o, false, depth + 1, "endpoints");
	xj_array(o, x, l->ep, l->nep, depth + 1, xj_endpoint_at);
	xj_cons_end(o, &l->cons, depth);
}

/* The keys of a step other than run() at depth: "step", then its node or
 * link, its command, parameters and times. */
static void xj_step(struct xj_out *o, const struct xir *x, const struct xir_command *c,
		    unsigned depth)
{
	xj_key(o, true, depth + 1, "step");
	xj_str(o, xir_step_name(c->step));
	if (xir_step_on_link(c->step)) {
		xj_key(o, false, depth + 1, "link");
		if (c->link)
			xj_str(o, c->link);
		else
			xj_fail(o, -EINVAL);
	} else {
		xj_key(o, false, depth + 1, "node");
		xj_node_ref(o, x, c->node);
	}
	if (c->cmd) {
		xj_key(o, false, depth + 1, "cmd");
		xj_str(o, c->cmd);
	}
	if (c->step == XSTEP_LINK_SET) {
		xj_key(o, false, depth + 1, "set");
		xj_cset(o, &c->set, depth + 1);
	}
	if (xir_step_on_host(c->step)) {
		xj_key(o, false, depth + 1, "at");
		xj_int(o, c->at_ns);
	}
	if (c->step == XSTEP_WAIT_UNTIL) {
		xj_key(o, false, depth + 1, "timeout");
		xj_int(o, c->timeout_ns);
		xj_key(o, false, depth + 1, "every");
		xj_int(o, c->every_ns);
	}
}

/* A command object at depth: "node" and "cmd", then "background",
 * "expect" and "measure" ([[name, regex], ...]) only when set; another
 * step: "step" and its own keys (xj_step). */
static void xj_command_at(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
			  unsigned depth)
{
	const struct xir_command *c = &((const struct xir_command *)arr)[i];

	if (c->step != XSTEP_RUN) {
		xj_step(o, x, c, depth);
		xj_end_object(o, depth);
		return;
	}
	xj_key(o, true, depth + 1, "node");
	xj_node_ref(o, x, c->node);
	xj_key(o, false, depth + 1, "cmd");
	xj_str(o, c->cmd);
	if (c->background) {
		xj_key(o, false, depth + 1, "background");
		xj_lit(o, "true");
	}
	if (c->expect) {
		xj_key(o, false, depth + 1, "expect");
		xj_str(o, c->expect);
	}
	if (c->nmeasure) {
		size_t k;

		xj_key(o, false, depth + 1, "measure");
		for (k = 0; k < c->nmeasure; k++) {
			xj_item(o, k, depth + 1);
			xj_lit(o, "[");
			xj_str(o, c->measure[k].name);
			xj_lit(o, ", ");
			xj_str(o, c->measure[k].re);
			xj_lit(o, "]");
		}
		xj_end_array(o, c->nmeasure, depth + 1);
	}
	xj_end_object(o, depth);
}

static void xj_task_at(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
		       unsigned depth)
{
	const struct xir_task *t = &((const struct xir_task *)arr)[i];

	xj_name(o, t->name, depth);
	xj_key(o, false, depth + 1, "commands");
	xj_array(o, x, t->cmd, t->ncmd, depth + 1, xj_command_at);
	xj_key(o, false, depth + 1, "timeout");
	xj_int(o, t->timeout_ns);
	xj_end_object(o, depth);
}

static void xj_file_at(struct xj_out *o, const struct xir *x, const void *arr, size_t i,
		       unsigned depth)
{
	const struct xir_file *f = &((const struct xir_file *)arr)[i];

	xj_key(o, true, depth + 1, "node");
	xj_node_ref(o, x, f->node);
	xj_key(o, false, depth + 1, "path");
	xj_str(o, f->path);
	xj_key(o, false, depth + 1, "text");
	xj_str(o, f->text);
	xj_end_object(o, depth);
}

/* The document, streamed: nothing is held but the output buffer. The
 * element loops stop at the first error. */
static void xj_doc(struct xj_out *o, const struct xir *x)
{
	xj_key(o, true, 1, "version");
	xj_int(o, XIR_VERSION);
	xj_key(o, false, 1, "name");
	xj_str(o, x->name);
	xj_key(o, false, 1, "constraints");
	xj_cset(o, &x->cons, 1);
	xj_key(o, false, 1, "nodes");
	xj_array(o, x, x->nodes, x->nnodes, 1, xj_node_at);
	xj_key(o, false, 1, "links");
	xj_array(o, x, x->links, x->nlinks, 1, xj_link_at);
	xj_key(o, false, 1, "tasks");
	xj_array(o, x, x->tasks, x->ntasks, 1, xj_task_at);
	if (x->nfiles) {
		xj_key(o, false, 1, "files");
		xj_array(o, x, x->files, x->nfiles, 1, xj_file_at);
	}
	xj_end_object(o, 0);
	xj_lit(o, "\n");
}

/* On error the file may hold part of a document. */
int xjson_write(const struct xir *x, FILE *f)
{
	struct xj_out *o = malloc(sizeof(*o));
	int r;

	if (!o)
		return -ENOMEM;
	o->f = f;
	o->err = 0;
	o->len = 0;
	xj_doc(o, x);
	xj_flush(o);
	r = o->err;
	if (!r && fflush(f))
		r = errno ? -errno : -EIO;
	free(o);
	return r;
}

/* xjson_write into a memory stream; the string is the caller's. */
char *xjson_dumps(const struct xir *x)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	int r;

	if (!f)
		return NULL;
	r = xjson_write(x, f);
	if (fclose(f) && !r)
		r = -ENOMEM;
	if (r) {
		free(s);
		return NULL;
	}
	return s;
}
