/* rz_util: helpers of realize/ on constraints, bounds and messages. */
#include "rz_int.h"
#include "xir_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- names and values, formatted for one-line messages ---- */

struct src_loc rz_pick_loc(struct src_loc a, struct src_loc b)
{
	return a.line ? a : b;
}

/* "1 core", "3 cores" */
const char *rz_fmt_cores(char *buf, size_t cap, uint64_t n)
{
	snprintf(buf, cap, "%llu core%s", (unsigned long long)n, n == 1 ? "" : "s");
	return buf;
}

/* Bytes in human units: "512 MiB", "1.5 GiB", "4 GiB". */
const char *rz_fmt_bytes(char *buf, size_t cap, uint64_t v)
{
	if (v >= GIB && v % GIB == 0)
		snprintf(buf, cap, "%llu GiB", (unsigned long long)(v / GIB));
	else if (v >= GIB)
		snprintf(buf, cap, "%.1f GiB", (double)v / (double)GIB);
	else if (v % MIB == 0)
		snprintf(buf, cap, "%llu MiB", (unsigned long long)(v / MIB));
	else
		snprintf(buf, cap, "%.1f MiB", (double)v / (double)MIB);
	return buf;
}

bool rz_prop_is(const struct xir_constraint *c, const char *name)
{
	return c->prop && !strcmp(c->prop->name, name);
}

/* topo.spec(name == value) or name != !value, for a boolean setting. */
bool rz_topo_mode(const struct xir *x, const char *name, const char *mode)
{
	size_t i;

	for (i = 0; i < x->cons.n; i++) {
		const struct xir_constraint *c = &x->cons.v[i];

		if (rz_prop_is(c, name) && c->op == XIR_EQ && c->value.type == XV_ENUM &&
		    !strcmp(c->value.s, mode))
			return true;
	}
	return false;
}

bool rz_topo_bool(const struct xir *x, const char *name, bool value)
{
	size_t i;

	for (i = 0; i < x->cons.n; i++) {
		const struct xir_constraint *c = &x->cons.v[i];

		if (rz_prop_is(c, name) && c->value.type == XV_BOOL &&
		    ((c->op == XIR_EQ && c->value.b == value) ||
		     (c->op == XIR_NE && c->value.b != value)))
			return true;
	}
	return false;
}

/* The first ip == of one family in cs, parsed; false when there is none. */
bool rz_cset_ip(const struct xir_cset *cs, int family, struct addr_prefix *out)
{
	const char *why;
	size_t i;

	for (i = 0; i < cs->n; i++) {
		const struct xir_constraint *c = &cs->v[i];
		struct addr_prefix a;

		if (rz_prop_is(c, "ip") && c->op == XIR_EQ && c->value.type == XV_STR && c->value.s &&
		    !addr_parse_prefix(c->value.s, &a, &why) && a.family == family) {
			*out = a;
			return true;
		}
	}
	return false;
}

/* ---- integer properties: the smallest value the constraints allow ---- */


/* Collect the integer constraints on prop in cs. */
void rz_ibound_collect(const struct xir_cset *cs, const char *prop, struct ibound *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < cs->n; i++) {
		const struct xir_constraint *c = &cs->v[i];
		int64_t lo, hi;

		if (!rz_prop_is(c, prop) || c->value.type != XV_INT)
			continue;
		if (!b->any)
			b->first = c;
		b->any = true;
		lo = c->op == XIR_GT && c->value.i < INT64_MAX ? c->value.i + 1 : c->value.i;
		hi = c->op == XIR_LT && c->value.i > INT64_MIN ? c->value.i - 1 : c->value.i;
		if ((c->op == XIR_EQ || c->op == XIR_GE || c->op == XIR_GT) &&
		    (!b->lo_set || lo > b->lo)) {
			b->lo_set = true;
			b->lo = lo;
			b->lo_c = c;
		}
		if ((c->op == XIR_EQ || c->op == XIR_LE || c->op == XIR_LT) &&
		    (!b->hi_set || hi < b->hi)) {
			b->hi_set = true;
			b->hi = hi;
		}
	}
}

/* Step v over the values prop != excludes in cs (v only grows, so each !=
 * moves it at most once). */
int64_t rz_skip_excluded(const struct xir_cset *cs, const char *prop, int64_t v)
{
	size_t i;
	bool moved = true;

	while (moved) {
		moved = false;
		for (i = 0; i < cs->n; i++) {
			const struct xir_constraint *c = &cs->v[i];

			if (rz_prop_is(c, prop) && c->op == XIR_NE && c->value.type == XV_INT &&
			    c->value.i == v && v < INT64_MAX) {
				v++;
				moved = true;
			}
		}
	}
	return v;
}

/* The allocation rule (3) for cores (upper_only 1) and memory (0). */
uint64_t rz_alloc_value(const struct xir_cset *cs, const char *prop, int64_t upper_only,
			    const struct xir_constraint **why)
{
	struct ibound b;
	int64_t v;

	rz_ibound_collect(cs, prop, &b);
	*why = b.lo_c ? b.lo_c : b.first;
	if (!b.any)
		return 0;
	v = b.lo_set ? b.lo : upper_only;
	if (v <= 0)
		return 0;
	v = rz_skip_excluded(cs, prop, v);
	return (uint64_t)v;
}

