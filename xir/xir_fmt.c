/* xir_fmt: XIR objects and values as one-line messages show them, shared by
 * the checks and the realization. */
#include "xir_fmt.h"

#include <stdio.h>
#include <string.h>

#include "esc.h"

/* Copy s into dst (cap bytes, cap >= 4) for a one-line message, escaped
 * as esc_str does ("\n", "\x1b"); a string that does not fit ends in "...". */
void xir_fmt_clean(char *dst, size_t cap, const char *s)
{
	esc_str(dst, cap, s);
}

/* A node's name, or "#N" for an index that names no node. */
const char *xir_fmt_node(const struct xir *x, size_t i, char buf[XIR_NAME_BUF])
{
	if (i < x->nnodes)
		xir_fmt_clean(buf, XIR_NAME_BUF, x->nodes[i].name);
	else
		snprintf(buf, XIR_NAME_BUF, "#%zu", i);
	return buf;
}

/* "link 'a-b'", or "link N" before xir_finish has named it. */
const char *xir_fmt_link(const struct xir *x, size_t li, char buf[XIR_LABEL_BUF])
{
	char n[XIR_NAME_BUF];

	if (x->links[li].name) {
		xir_fmt_clean(n, sizeof(n), x->links[li].name);
		snprintf(buf, XIR_LABEL_BUF, "link '%s'", n);
	} else {
		snprintf(buf, XIR_LABEL_BUF, "link %zu", li);
	}
	return buf;
}

/* "link 'a-b', endpoint 'x'" */
const char *xir_fmt_endpoint(const struct xir *x, size_t li, size_t ei, char buf[XIR_LABEL_BUF])
{
	char l[XIR_LABEL_BUF], n[XIR_NAME_BUF];

	snprintf(buf, XIR_LABEL_BUF, "%s, endpoint '%s'", xir_fmt_link(x, li, l),
		 xir_fmt_node(x, x->links[li].ep[ei].node, n));
	return buf;
}

/* An integer quantity in the model's own terms when exact (gb(8), ms(10),
 * mbps(100)), otherwise in base units with the unit's name. */
void xir_fmt_quantity(char *buf, size_t cap, int64_t v, enum xir_unit u)
{
	static const struct {
		enum xir_unit unit;
		int64_t mult;
		const char *fn;
	} fns[] = {
		{ XU_BYTES, 1LL << 30, "gb" },     { XU_BYTES, 1LL << 20, "mb" },
		{ XU_BYTES, 1LL << 10, "kb" },     { XU_BPS, 1000000000LL, "gbps" },
		{ XU_BPS, 1000000LL, "mbps" },     { XU_BPS, 1000LL, "kbps" },
		{ XU_NS, 1000000000LL, "s" },      { XU_NS, 1000000LL, "ms" },
		{ XU_NS, 1000LL, "us" },           { XU_HZ, 1000000000LL, "ghz" },
		{ XU_HZ, 1000000LL, "mhz" },
	};
	size_t i;

	if (u == XU_NONE || v == 0) {
		snprintf(buf, cap, "%lld", (long long)v);
		return;
	}
	for (i = 0; i < UTIL_ARRAY_SIZE(fns); i++)
		if (fns[i].unit == u && v % fns[i].mult == 0) {
			snprintf(buf, cap, "%s(%lld)", fns[i].fn, (long long)(v / fns[i].mult));
			return;
		}
	snprintf(buf, cap, "%lld %s", (long long)v, xir_unit_name(u));
}

void xir_fmt_value(char *buf, size_t cap, const struct xir_value *v)
{
	char s[XIR_CONS_BUF - 40];

	switch (v->type) {
	case XV_INT:
		xir_fmt_quantity(buf, cap, v->i, v->unit);
		break;
	case XV_FLOAT:
		snprintf(buf, cap, "%g%s%s", v->f, v->unit ? " " : "", xir_unit_name(v->unit));
		break;
	case XV_BOOL:
		snprintf(buf, cap, "%s", v->b ? "true" : "false");
		break;
	case XV_STR:
		xir_fmt_clean(s, sizeof(s), v->s);
		snprintf(buf, cap, "\"%s\"", s);
		break;
	default:
		xir_fmt_clean(s, sizeof(s), v->s);
		snprintf(buf, cap, "%s", s);
		break;
	}
}

/* "cores > 8" */
const char *xir_fmt_cons(char buf[XIR_CONS_BUF], const struct xir_constraint *c)
{
	char v[XIR_CONS_BUF - 32];

	xir_fmt_value(v, sizeof(v), &c->value);
	snprintf(buf, XIR_CONS_BUF, "%s %s %s", c->prop->name, xir_op_str(c->op), v);
	return buf;
}


/* Append to buf (cap, holding len bytes) what fmt says, cut at the end. */
static size_t xir_fmt_add(char *buf, size_t cap, size_t len, const char *fmt, const char *s)
{
	int n;

	if (len >= cap)
		return len;
	n = snprintf(buf + len, cap - len, fmt, s);
	return n < 0 ? len : len + (size_t)n;
}

const char *xir_fmt_step(const struct xir *x, const struct xir_command *c, char *buf, size_t cap)
{
	char n[XIR_NAME_BUF], v[XIR_CONS_BUF];
	size_t len = 0, i;

	if (c->step == XSTEP_RUN) {
		snprintf(buf, cap, "%s", c->cmd ? c->cmd : "");
		return buf;
	}
	len = xir_fmt_add(buf, cap, len, "%s(", xir_step_name(c->step));
	if (xir_step_on_link(c->step))
		xir_fmt_clean(n, sizeof(n), c->link ? c->link : "?");
	else
		xir_fmt_node(x, c->node, n);
	len = xir_fmt_add(buf, cap, len, "%s", n);
	if (c->step == XSTEP_WAIT_UNTIL)
		len = xir_fmt_add(buf, cap, len, ", '%s'", c->cmd ? c->cmd : "");
	if (c->step == XSTEP_FILE)
		len = xir_fmt_add(buf, cap, len, ", '%s'", c->path ? c->path : "");
	for (i = 0; i < c->set.n; i++)
		len = xir_fmt_add(buf, cap, len, ", %s", xir_fmt_cons(v, &c->set.v[i]));
	if (xir_step_on_host(c->step)) {
		xir_fmt_quantity(v, sizeof(v), c->at_ns, XU_NS);
		len = xir_fmt_add(buf, cap, len, ", at=%s", v);
	}
	xir_fmt_add(buf, cap, len, "%s", ")");
	return buf;
}
