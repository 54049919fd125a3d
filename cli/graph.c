/* graph: an experiment's topology as a Graphviz graph (see graph.h). */
#include "graph.h"

#include <errno.h>
#include <gvc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"
#include "util.h"

#define GRAPH_LABEL_LEN 2048 /* a label: a name, constraints, addresses, two directions' counters */
#define GRAPH_CSET_LEN 512   /* a constraint set as cli_format_cset writes it */
#define GRAPH_LAN_PREFIX "lan:" /* LAN nodes' names: ':' is in no device name (XIR_NAME_RULE) */
#define GRAPH_EMU_COLOR "red3"

struct graph {
	GVC_t *gvc;
	Agraph_t *g;
	size_t nnodes;
};

/* What a link's edges and LAN node look like, and where its data is. */
struct graph_link {
	const struct xir *x;
	const struct realization *rz; /* may be NULL */
	size_t i;                     /* the link */
	bool emulated;
	const json_t *dirs;           /* its directions in the status document, or NULL */
};

/* A Graphviz label being written: lines separated by "\\n" (Graphviz's
 * escape for a centred line break), user text with its backslashes
 * doubled so that Graphviz shows them as they are instead of reading
 * escapes, and newlines in it made line breaks. */
struct label {
	char s[GRAPH_LABEL_LEN];
	size_t n;
};

static void label_text(struct label *l, const char *s)
{
	for (; *s && l->n + 2 < sizeof(l->s); s++) {
		if (*s == '\\' || *s == '\n')
			l->s[l->n++] = '\\';
		l->s[l->n++] = *s == '\n' ? 'n' : *s;
	}
	l->s[l->n] = '\0';
}

/* Start a new line (nothing before the first one). */
static void label_line(struct label *l)
{
	if (l->n)
		label_text(l, "\n");
}

static void __attribute__((format(printf, 2, 3))) label_add(struct label *l, const char *fmt, ...)
{
	char buf[GRAPH_LABEL_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	label_text(l, buf);
}

static void label_cset(struct label *l, const struct xir_cset *cs)
{
	char buf[GRAPH_CSET_LEN];

	if (!cs->n)
		return;
	cli_format_cset(cs, buf, sizeof(buf));
	label_line(l);
	label_text(l, buf);
}

/* Set attribute name of object o; Graphviz copies both strings. */
static void set(void *o, const char *name, const char *value)
{
	agsafeset(o, (char *)name, (char *)value, "");
}

/* The defaults: attributes declared once, so objects only set what differs. */
static void graph_defaults(Agraph_t *g, const char *engine)
{
	agattr(g, AGRAPH, "layout", (char *)engine);
	agattr(g, AGRAPH, "fontname", "Helvetica");
	agattr(g, AGRAPH, "overlap", "false");
	agattr(g, AGRAPH, "labelloc", "t");
	agattr(g, AGRAPH, "ranksep", "0.9"); /* room between ranks for the edges' labels */
	agattr(g, AGNODE, "shape", "box");
	agattr(g, AGNODE, "fontname", "Helvetica");
	agattr(g, AGNODE, "fontsize", "10");
	agattr(g, AGNODE, "style", "solid");
	agattr(g, AGNODE, "color", "black");
	agattr(g, AGEDGE, "fontname", "Helvetica");
	agattr(g, AGEDGE, "fontsize", "9");
	agattr(g, AGEDGE, "labelfontsize", "8");
	agattr(g, AGEDGE, "labelfontcolor", "blue4");
	/* the endpoints' labels away from the edge's own label and the node */
	agattr(g, AGEDGE, "labeldistance", "2");
	agattr(g, AGEDGE, "labelangle", "35");
	agattr(g, AGEDGE, "style", "solid");
	agattr(g, AGEDGE, "color", "black");
	agattr(g, AGEDGE, "fontcolor", "black");
}

static int add_devices(Agraph_t *g, const struct xir *x)
{
	struct label l;
	Agnode_t *n;
	bool *vm;
	size_t i;

	if (xir_vm_nodes(x, &vm))
		return -ENOMEM;
	for (i = 0; i < x->nnodes; i++) {
		n = agnode(g, x->nodes[i].name, 1);
		if (!n)
			break;
		l.n = 0;
		label_text(&l, x->nodes[i].name);
		if (vm[i]) {
			label_text(&l, "\nVM");
			set(n, "shape", "box3d");
		}
		label_cset(&l, &x->nodes[i].cons);
		set(n, "label", l.s);
	}
	free(vm);
	return i < x->nnodes ? -ENOMEM : 0;
}

/* Endpoint j's interface, addresses and constraints, one per line. */
static void endpoint_label(const struct graph_link *gl, size_t j, struct label *l)
{
	const struct xir_endpoint *ep = &gl->x->links[gl->i].ep[j];
	char buf[64];

	l->n = 0;
	l->s[0] = '\0';
	if (gl->rz) {
		const struct rz_iface *f = realize_ep_iface(gl->rz, gl->i, j);

		label_text(l, f->name);
		if (f->v4.family)
			label_add(l, "\n%s", addr_format(&f->v4, buf, sizeof(buf)));
		if (f->v6.family)
			label_add(l, "\n%s", addr_format(&f->v6, buf, sizeof(buf)));
	}
	label_cset(l, &ep->cons);
}

/* "a -> b: packets in 5 out 5, drops 1 (loss 1)": the counters of the
 * directions leaving endpoint j (every direction when j is SIZE_MAX). */
static void counters_label(const struct graph_link *gl, size_t j, struct label *l)
{
	const char *from = j == SIZE_MAX ? NULL : gl->x->nodes[gl->x->links[gl->i].ep[j].node].name;
	const json_t *d, *c, *v;
	const char *k;
	json_int_t total;
	size_t i;

	json_array_foreach(gl->dirs, i, d) {
		const char *df = json_string_value(json_object_get(d, "from"));

		c = json_object_get(d, "counters");
		if (!df || !c || (from && strcmp(from, df)))
			continue;
		total = 0;
		json_object_foreach((json_t *)json_object_get(c, "drops"), k, v)
			total += json_integer_value(v);
		label_line(l);
		label_add(l, "%s -> %s: packets in %lld out %lld, drops %lld", df,
			  json_string_value(json_object_get(d, "to")) ?: "?",
			  (long long)json_integer_value(json_object_get(c, "rx_packets")),
			  (long long)json_integer_value(json_object_get(c, "tx_packets")), (long long)total);
		if (!total)
			continue;
		label_text(l, " (");
		total = 0;
		json_object_foreach((json_t *)json_object_get(c, "drops"), k, v)
			if (json_integer_value(v))
				label_add(l, "%s%s %lld", total++ ? ", " : "", k,
					  (long long)json_integer_value(v));
		label_text(l, ")");
	}
}

/* Draw edge e as its link's kind: an emulated one dashed, red. */
static void edge_style(Agedge_t *e, bool emulated)
{
	if (!emulated)
		return;
	set(e, "style", "dashed");
	set(e, "color", GRAPH_EMU_COLOR);
	set(e, "fontcolor", GRAPH_EMU_COLOR);
}

/* A point-to-point link: one edge, labelled with the link's name, its
 * constraints and both directions' counters, its ends with the endpoints. */
static int add_p2p(Agraph_t *g, const struct graph_link *gl)
{
	const struct xir_link *xl = &gl->x->links[gl->i];
	Agnode_t *a = agnode(g, gl->x->nodes[xl->ep[0].node].name, 0);
	Agnode_t *b = agnode(g, gl->x->nodes[xl->ep[1].node].name, 0);
	struct label l = { .n = 0 };
	Agedge_t *e;

	e = a && b ? agedge(g, a, b, xl->name, 1) : NULL;
	if (!e)
		return -ENOMEM;
	label_text(&l, xl->name);
	label_cset(&l, &xl->cons);
	counters_label(gl, SIZE_MAX, &l);
	set(e, "label", l.s);
	endpoint_label(gl, agtail(e) == a ? 0 : 1, &l);
	set(e, "taillabel", l.s);
	endpoint_label(gl, agtail(e) == a ? 1 : 0, &l);
	set(e, "headlabel", l.s);
	edge_style(e, gl->emulated);
	return 0;
}

/* A LAN: a node of its own (name, subnets, constraints) and an edge from
 * each member, labelled with the member's end and its direction's counters. */
static int add_lan(Agraph_t *g, const struct graph_link *gl)
{
	const struct xir_link *xl = &gl->x->links[gl->i];
	struct label l = { .n = 0 };
	Agnode_t *lan, *m;
	Agedge_t *e;
	char buf[64];
	size_t j;

	label_add(&l, GRAPH_LAN_PREFIX "%s", xl->name);
	lan = agnode(g, l.s, 1);
	if (!lan)
		return -ENOMEM;
	l.n = 0;
	label_text(&l, xl->name);
	if (gl->rz && gl->rz->links[gl->i].subnet4.family)
		label_add(&l, "\n%s", addr_format(&gl->rz->links[gl->i].subnet4, buf, sizeof(buf)));
	if (gl->rz && gl->rz->links[gl->i].subnet6.family)
		label_add(&l, "\n%s", addr_format(&gl->rz->links[gl->i].subnet6, buf, sizeof(buf)));
	label_cset(&l, &xl->cons);
	set(lan, "label", l.s);
	set(lan, "shape", "ellipse");
	set(lan, "style", "filled");
	set(lan, "fillcolor", "grey90");
	if (gl->emulated) {
		set(lan, "style", "filled,dashed");
		set(lan, "color", GRAPH_EMU_COLOR);
	}
	for (j = 0; j < xl->nep; j++) {
		m = agnode(g, gl->x->nodes[xl->ep[j].node].name, 0);
		e = m ? agedge(g, m, lan, NULL, 1) : NULL;
		if (!e)
			return -ENOMEM;
		endpoint_label(gl, j, &l);
		set(e, "taillabel", l.s);
		l.n = 0;
		l.s[0] = '\0';
		counters_label(gl, j, &l);
		set(e, "label", l.s);
		edge_style(e, gl->emulated);
	}
	return 0;
}

/* The "directions" of link name in status, or NULL. */
static const json_t *status_dirs(const json_t *status, const char *name)
{
	const json_t *l;
	size_t i;

	json_array_foreach(json_object_get(status, "links"), i, l) {
		const char *n = json_string_value(json_object_get(l, "name"));

		if (n && !strcmp(n, name))
			return json_object_get(l, "directions");
	}
	return NULL;
}

static int add_links(Agraph_t *g, const struct xir *x, const struct realization *rz,
		     const json_t *status)
{
	struct graph_link gl = { .x = x, .rz = rz };
	int r = 0;

	for (gl.i = 0; gl.i < x->nlinks && !r; gl.i++) {
		gl.emulated = rz ? rz->links[gl.i].emulated : xir_link_is_emulated(x, &x->links[gl.i]);
		gl.dirs = status ? status_dirs(status, x->links[gl.i].name) : NULL;
		r = x->links[gl.i].nep > 2 ? add_lan(g, &gl) : add_p2p(g, &gl);
	}
	return r;
}

int graph_build(const struct xir *x, const struct realization *rz, const json_t *status,
		struct graph **out)
{
	struct graph *g = calloc(1, sizeof(*g));
	size_t i;
	int r = -ENOMEM;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	/* the context first: it declares the defaults (a node's label is its
	 * name) the graphs opened after it start from */
	g->gvc = gvContext();
	if (!g->gvc)
		goto out_free;
	g->g = agopen(x->name, (Agdesc_t){ .maingraph = 1 }, NULL);
	if (!g->g)
		goto out_free;
	g->nnodes = x->nnodes;
	for (i = 0; i < x->nlinks; i++)
		g->nnodes += x->links[i].nep > 2;
	graph_defaults(g->g, graph_engine(g->nnodes));
	set(g->g, "label", x->name);
	r = add_devices(g->g, x);
	if (!r)
		r = add_links(g->g, x, rz, status);
	if (r)
		goto out_free;
	*out = g;
	return 0;
out_free:
	graph_free(g);
	return r;
}

void graph_free(struct graph *g)
{
	if (!g)
		return;
	if (g->g)
		agclose(g->g);
	if (g->gvc)
		gvFreeContext(g->gvc);
	free(g);
}

size_t graph_nodes(const struct graph *g)
{
	return g->nnodes;
}

const char *graph_engine(size_t n)
{
	return n > GRAPH_DOT_MAX_NODES ? "sfdp" : "dot";
}

/* The extensions vtb graph writes, in the order the messages list them;
 * every one but "dot" is a libgvc device. */
static const char *const graph_exts[] = { "svg", "png", "pdf", "dot" };

/* Whether this Graphviz has a renderer for device: 1, 0, or -ENOMEM. */
static int graph_has_device(const char *device)
{
	GVC_t *gvc;
	char **list;
	int i, n = 0, found = 0;

	if (!strcmp(device, "dot"))
		return 1;
	gvc = gvContext();
	if (!gvc)
		return -ENOMEM;
	list = gvPluginList(gvc, "device", &n, NULL);
	for (i = 0; i < n; i++) {
		found = found || !strcmp(list[i], device);
		free(list[i]);
	}
	free(list);
	gvFreeContext(gvc);
	return found;
}

int graph_format(const char *file, const char **format)
{
	const char *dot = strrchr(file, '.');
	size_t i;
	int r;

	*format = NULL;
	if (!dot || strchr(dot, '/'))
		return -EINVAL;
	for (i = 0; i < UTIL_ARRAY_SIZE(graph_exts); i++) {
		if (strcasecmp(dot + 1, graph_exts[i]))
			continue;
		r = graph_has_device(graph_exts[i]);
		if (r <= 0)
			return r < 0 ? r : -ENOTSUP;
		*format = graph_exts[i];
		return 0;
	}
	return -EINVAL;
}

void graph_formats(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < UTIL_ARRAY_SIZE(graph_exts); i++)
		if (graph_has_device(graph_exts[i]) > 0 && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s.%s", n ? ", " : "", graph_exts[i]);
}

/* Graphviz's last error or warning, kept by graph_on_error while
 * graph_write runs (Graphviz would print it on stderr otherwise). */
static char graph_err[UTIL_ERR_LEN];

static int graph_on_error(char *msg)
{
	size_t n;

	util_fmt(graph_err, sizeof(graph_err), "%s", msg);
	n = strlen(graph_err);
	while (n && (graph_err[n - 1] == '\n' || graph_err[n - 1] == ' '))
		graph_err[--n] = '\0';
	return 0;
}

int graph_write(struct graph *g, const char *format, FILE *out, char *err, size_t errlen)
{
	agusererrf old = agseterrf(graph_on_error);
	int r = 0;

	graph_err[0] = '\0';
	if (!strcmp(format, "dot")) {
		if (agwrite(g->g, out) || ferror(out))
			r = -EIO;
	} else {
		if (gvLayout(g->gvc, g->g, graph_engine(g->nnodes)) ||
		    gvRender(g->gvc, g->g, format, out) || ferror(out))
			r = -EIO;
		gvFreeLayout(g->gvc, g->g);
	}
	agseterrf(old);
	if (r)
		util_fmt(err, errlen, "%s", graph_err[0] ? graph_err : "Graphviz could not write it");
	return r;
}
