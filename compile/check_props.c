/* check_props: check_properties, what is wrong with one constraint: its
 * scope, the type, unit and range of its value, and its operator. */
#include "check_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

static bool problem_set(struct problem *p, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill p with a message and an optional hint; returns true, so a check can
 * `return problem_set(...)`. */
static bool problem_set(struct problem *p, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	snprintf(p->hint, sizeof(p->hint), "%s", hint ? hint : "");
	return true;
}

static const char *scope_article(unsigned bit)
{
	return bit == XS_ENDPOINT || bit == XS_TOPO ? "an" : "a";
}

/* Where a property of scope bit is written, for a hint. */
static const char *scope_where(unsigned bit)
{
	switch (bit) {
	case XS_NODE:
		return "topo.device(...)";
	case XS_LINK:
		return "topo.connect(...)";
	case XS_ENDPOINT:
		return "link[device].spec(...)";
	default:
		return "topo.spec(...)";
	}
}

/* 'cores' on a link: say where the property belongs. */
static bool scope_problem(unsigned scope, const struct xir_prop *prop, struct problem *p)
{
	char kinds[80] = "", where[200] = "write it in ";
	unsigned bit, first = 0;

	if (prop->scope & scope)
		return false;
	for (bit = XS_NODE; bit <= XS_TOPO; bit <<= 1) {
		if (!(prop->scope & bit))
			continue;
		if (!first)
			first = bit;
		else {
			strcat(kinds, " or ");
			strcat(where, " or ");
		}
		strcat(kinds, xir_scope_name(bit));
		strcat(where, scope_where(bit));
	}
	if (!first)
		return problem_set(p, NULL, "'%s' cannot be used here", prop->name);
	return problem_set(p, where, "'%s' is %s %s property, not %s %s property", prop->name,
			   scope_article(first), kinds, scope_article(scope), xir_scope_name(scope));
}

/* What a value is, for "needs X, not Y". */
static const char *got_desc(const struct xir_value *v, char *buf, size_t cap)
{
	static const char *const unit_nouns[] = { "", "a size", "a rate", "a time", "a frequency" };
	char s[XIR_NAME_BUF];

	switch (v->type) {
	case XV_INT:
	case XV_FLOAT:
		if (v->unit != XU_NONE && (size_t)v->unit < UTIL_ARRAY_SIZE(unit_nouns))
			snprintf(buf, cap, "%s", unit_nouns[v->unit]);
		else if (v->type == XV_INT)
			snprintf(buf, cap, "the plain number %lld", (long long)v->i);
		else
			snprintf(buf, cap, "%g", v->f);
		break;
	case XV_BOOL:
		snprintf(buf, cap, "%s", v->b ? "true" : "false");
		break;
	case XV_STR:
		snprintf(buf, cap, "a string");
		break;
	default:
		xir_fmt_clean(s, sizeof(s), v->s);
		snprintf(buf, cap, "%s", s);
		break;
	}
	return buf;
}

/* "'latency' needs a time (us(), ms(), s()), not a size" */
static bool type_problem(const struct xir_prop *prop, const struct xir_value *v, const char *hint,
			 struct problem *p)
{
	char got[XIR_NAME_BUF + 24];

	return problem_set(p, hint, "'%s' needs %s, not %s", prop->name, xir_ptype_name(prop->type),
			   got_desc(v, got, sizeof(got)));
}

/* The unit a valid integer value of prop is expressed in. */
static enum xir_unit value_unit(const struct xir_prop *prop, const struct xir_value *v)
{
	return prop->type == XP_QUEUE ? v->unit : xir_ptype_unit(prop->type);
}

/* An integer outside [min, max] in an == or != comparison. */
static bool range_problem(const struct xir_prop *prop, const struct xir_value *v, struct problem *p)
{
	char lo[48], hi[48], got[48];
	enum xir_unit u = value_unit(prop, v);
	int64_t min, max;

	xir_prop_bounds(prop, u, &min, &max);
	if (v->i >= min && v->i <= max)
		return false;
	xir_fmt_quantity(lo, sizeof(lo), min, u);
	xir_fmt_quantity(hi, sizeof(hi), max, u);
	xir_fmt_quantity(got, sizeof(got), v->i, u);
	if (max == INT64_MAX)
		return problem_set(p, NULL, "'%s' must be at least %s, not %s", prop->name, lo, got);
	return problem_set(p, NULL, "'%s' must be between %s and %s, not %s", prop->name, lo, hi,
			   got);
}

/* What the messages say about each property type: how to write a value of
 * a quantity type, and what a value of a type without order is. */
static const struct {
	const char *example;
	const char *unordered;
} ptype_words[] = {
	[XP_BYTES] = { .example = "write mb(512), for example" },
	[XP_BPS] = { .example = "write mbps(100), for example" },
	[XP_TIME] = { .example = "write ms(10), for example" },
	[XP_FREQ] = { .example = "write ghz(2), for example" },
	[XP_BOOL] = { .unordered = "a boolean" },
	[XP_STRING] = { .unordered = "a string" },
	[XP_ADDR] = { .unordered = "an address" },
	[XP_NET] = { .unordered = "a network" },
	[XP_MAC] = { .unordered = "a MAC address" },
	[XP_DIR] = { .unordered = "a directory" },
	[XP_SWITCH] = { .unordered = "a mode" },
	[XP_HOST] = { .unordered = "a host name" },
	[XP_IMAGE] = { .unordered = "a userland" },
	[XP_PKG] = { .unordered = "a package name" },
};

/* The example hint of a quantity type (NULL for others). */
static const char *quantity_example(enum xir_ptype t)
{
	return (size_t)t < UTIL_ARRAY_SIZE(ptype_words) ? ptype_words[t].example : NULL;
}

/* "an address" for a type whose values have no order, NULL for others. */
static const char *unordered_noun(enum xir_ptype t)
{
	return (size_t)t < UTIL_ARRAY_SIZE(ptype_words) ? ptype_words[t].unordered : NULL;
}

/* Why s (length len) is no plain absolute directory path, or NULL: '/'
 * first, no empty, '.' or '..' component, no trailing '/', not '/' itself,
 * and not in /proc, /sys or /dev (the node's own views of the kernel). */
const char *check_path_problem(const char *s, size_t len)
{
	static const char *const kernel_views[] = { "/proc", "/sys", "/dev" };
	size_t i, k;

	if (!len || s[0] != '/')
		return "is not an absolute path";
	if (len == 1)
		return "is the root directory";
	if (len > XIR_DIR_MAX)
		return "is too long";
	for (i = 0; i < len; i = k) {
		for (k = i + 1; k < len && s[k] != '/'; k++)
			;
		if (k == i + 1 || (k == i + 2 && s[i + 1] == '.') ||
		    (k == i + 3 && s[i + 1] == '.' && s[i + 2] == '.'))
			return "has an empty, '.' or '..' component";
	}
	for (i = 0; i < UTIL_ARRAY_SIZE(kernel_views); i++) {
		k = strlen(kernel_views[i]);
		if (len >= k && !strncmp(s, kernel_views[i], k) && (len == k || s[k] == '/'))
			return "is one of the node's kernel views (/proc, /sys, /dev)";
	}
	return NULL;
}

/* private == '/path' or '/path=/host/seed': both plain absolute paths. */
static bool dir_problem(const struct xir_prop *prop, const struct xir_value *v, struct problem *p)
{
	const char *eq, *why;
	size_t plen;

	if (v->type != XV_STR)
		return type_problem(prop, v, v->type == XV_ENUM ? "put it in quotes" : NULL, p);
	eq = strchr(v->s, '=');
	plen = eq ? (size_t)(eq - v->s) : strlen(v->s);
	why = check_path_problem(v->s, plen);
	if (why)
		return problem_set(p, "write '/etc/frr', or '/etc/frr=/srv/frr' to seed it",
				   "'%s': the directory '%.*s' %s", prop->name, (int)plen, v->s, why);
	why = eq ? check_path_problem(eq + 1, strlen(eq + 1)) : NULL;
	if (why)
		return problem_set(p, "write '/etc/frr=/etc/frr' to seed it from the host's /etc/frr",
				   "'%s': the seed '%s' %s", prop->name, eq + 1, why);
	return false;
}

/* host == 'h1': a string that follows the name rule (cluster host names
 * are names of the same kind as devices'). */
static bool host_problem(const struct xir_prop *prop, const struct xir_value *v, struct problem *p)
{
	char why[64], s[XIR_NAME_BUF];

	if (v->type != XV_STR)
		return type_problem(prop, v, v->type == XV_ENUM ? "put it in quotes" : NULL, p);
	if (!xir_name_check(v->s, strlen(v->s), why, sizeof(why)))
		return false;
	xir_fmt_clean(s, sizeof(s), v->s);
	return problem_set(p, "name a host of the cluster, as vtb cluster status shows it",
			   "'%s': '%s' is not a host name: %s", prop->name, s, why);
}

/* image == 'debian:bookworm': one of the userlands vtb builds. */
static bool image_problem(const struct xir_prop *prop, const struct xir_value *v,
			  struct problem *p)
{
	char list[MSG_BUF], hint[MSG_BUF + 32], s[XIR_NAME_BUF];

	if (v->type != XV_STR)
		return type_problem(prop, v, v->type == XV_ENUM ? "put it in quotes" : NULL, p);
	if (xir_image_known(v->s))
		return false;
	xir_fmt_clean(s, sizeof(s), v->s);
	snprintf(hint, sizeof(hint), "vtb builds %s", xir_image_list(list, sizeof(list)));
	return problem_set(p, hint, "'%s': vtb cannot build the userland '%s'", prop->name, s);
}

/* packages == ['frr', 'iperf3']: Debian package names. */
static bool pkg_problem(const struct xir_prop *prop, const struct xir_value *v, struct problem *p)
{
	char s[XIR_NAME_BUF];

	if (v->type != XV_STR)
		return type_problem(prop, v, v->type == XV_ENUM ? "put it in quotes" : NULL, p);
	if (xir_pkg_name_ok(v->s))
		return false;
	xir_fmt_clean(s, sizeof(s), v->s);
	return problem_set(p, "write Debian package names: 'iperf3', 'frr', 'g++'",
			   "'%s': '%s' is not a Debian package name", prop->name, s);
}

/* memory, capacity, latency, cpufreq: an integer in the property's unit (a
 * unitless 0 is fine: latency == 0). */
static bool quantity_problem(const struct xir_prop *prop, const struct xir_value *v, bool ranged,
			     struct problem *p)
{
	enum xir_unit want = xir_ptype_unit(prop->type);
	char buf[48];

	if (v->type == XV_INT && (v->unit == want || (v->unit == XU_NONE && v->i == 0)))
		return ranged && range_problem(prop, v, p);
	if (v->type == XV_INT && v->unit == XU_NONE)
		return type_problem(prop, v, quantity_example(prop->type), p);
	if (v->type == XV_FLOAT && v->unit == want) {
		snprintf(buf, sizeof(buf), "%g", v->f);
		return problem_set(p, NULL, "'%s' needs a whole number of %s, not %s", prop->name,
				   xir_unit_name(want), buf);
	}
	return type_problem(prop, v, NULL, p);
}

/* loss, dilation: a unitless number; for == and != in [0, 1] or above 0. */
static bool number_problem(const struct xir_prop *prop, const struct xir_value *v, bool ranged,
			   struct problem *p)
{
	double f;

	if ((v->type != XV_INT && v->type != XV_FLOAT) || v->unit != XU_NONE)
		return type_problem(prop, v, NULL, p);
	f = v->type == XV_INT ? (double)v->i : v->f;
	if (!ranged)
		return false;
	if (prop->type == XP_FRACTION && !(f >= 0 && f <= 1))
		return problem_set(p, f > 1 && f <= 100 ? "a fraction: write 0.05 for 5%" : NULL,
				   "'%s' must be between 0 and 1, not %g", prop->name, f);
	if (prop->type == XP_FACTOR && !(f > 0))
		return problem_set(p, NULL, "'%s' must be greater than 0, not %g", prop->name, f);
	return false;
}

/* "known values: virtio, e1000, ..." for prop (only ordered ones if asked). */
static void enum_list(const struct xir_prop *prop, bool ordered, char *buf, size_t cap)
{
	const struct xir_enum *e;
	size_t i, len;

	snprintf(buf, cap, "%s values of '%s':", ordered ? "ordered" : "known", prop->name);
	for (i = 0; (e = xir_enum_at(i)); i++) {
		if (strcmp(e->prop, prop->name) || (ordered && !e->rank))
			continue;
		len = strlen(buf);
		snprintf(buf + len, cap - len, "%s %s", buf[len - 1] == ':' ? "" : ",", e->name);
	}
}

/* An enum property needs one of its own names: not a string, not another
 * property's value, not a typo (suggest the closest name). */
static bool enum_problem(const struct xir_prop *prop, const struct xir_value *v, struct problem *p)
{
	const char *names[64];
	const struct xir_enum *e;
	const char *close;
	char list[MSG_BUF], hint[MSG_BUF], s[XIR_NAME_BUF];
	size_t i, n = 0;

	enum_list(prop, false, list, sizeof(list));
	if (v->type == XV_STR && xir_enum_find(prop->name, v->s)) {
		xir_fmt_clean(s, sizeof(s), v->s);
		snprintf(hint, sizeof(hint), "write %s == %s, without quotes", prop->name, s);
		return type_problem(prop, v, hint, p);
	}
	if (v->type != XV_ENUM)
		return type_problem(prop, v, list, p);
	if (xir_enum_find(prop->name, v->s))
		return false;
	xir_fmt_clean(s, sizeof(s), v->s);
	e = xir_enum_any(v->s);
	if (e)
		return problem_set(p, list, "'%s' has no value %s (%s is a value of '%s')", prop->name,
				   s, s, e->prop);
	for (i = 0; (e = xir_enum_at(i)) && n < UTIL_ARRAY_SIZE(names); i++)
		if (!strcmp(e->prop, prop->name))
			names[n++] = e->name;
	close = util_closest(v->s, names, n);
	if (close)
		snprintf(hint, sizeof(hint), "did you mean %s?", close);
	return problem_set(p, close ? hint : list, "'%s' has no value %s", prop->name, s);
}

/* ip, pool, mac: a string that parses and obeys the address rules. */
static bool address_problem(const struct xir_prop *prop, const struct xir_value *v,
			    struct problem *p)
{
	struct addr_prefix a;
	uint8_t mac[6];
	const char *why = NULL;
	char s[XIR_NAME_BUF];
	int r;

	if (v->type != XV_STR)
		return type_problem(prop, v, NULL, p);
	if (prop->type == XP_MAC) {
		r = addr_parse_mac(v->s, mac, &why);
	} else {
		r = addr_parse_prefix(v->s, &a, &why);
		if (!r)
			r = prop->type == XP_ADDR ? addr_check_host(&a, &why)
						  : addr_check_network(&a, &why);
	}
	if (!r)
		return false;
	xir_fmt_clean(s, sizeof(s), v->s);
	return problem_set(p, prop->type == XP_MAC && strstr(why, "multicast")
				      ? "use a locally administered address such as 02:00:00:00:00:01"
				      : NULL,
			   "%s \"%s\": %s", prop->name, s, why);
}

/* The value's type, unit and range. Ranges apply to == and != only: an
 * ordered comparison with a bound outside the range is judged by
 * check_contradictions ('cores > 4096' can never hold). */
static bool value_problem(const struct xir_constraint *c, struct problem *p)
{
	const struct xir_prop *prop = c->prop;
	const struct xir_value *v = &c->value;
	bool ranged = c->op == XIR_EQ || c->op == XIR_NE;

	if ((v->type == XV_STR || v->type == XV_ENUM) && !v->s)
		return problem_set(p, NULL, "'%s' has no value", prop->name);
	switch (prop->type) {
	case XP_COUNT:
		if (v->type != XV_INT || v->unit != XU_NONE)
			return type_problem(prop, v, NULL, p);
		return ranged && range_problem(prop, v, p);
	case XP_BYTES:
	case XP_BPS:
	case XP_TIME:
	case XP_FREQ:
		return quantity_problem(prop, v, ranged, p);
	case XP_FRACTION:
	case XP_FACTOR:
		return number_problem(prop, v, ranged, p);
	case XP_QUEUE:
		if (v->type != XV_INT || (v->unit != XU_NONE && v->unit != XU_BYTES))
			return type_problem(prop, v, "write 100 for packets or kb(64) for bytes", p);
		return ranged && range_problem(prop, v, p);
	case XP_BOOL:
		return v->type != XV_BOOL && type_problem(prop, v, NULL, p);
	case XP_STRING:
		if (v->type == XV_STR)
			return false;
		return type_problem(prop, v, v->type == XV_ENUM ? "put it in quotes" : NULL, p);
	case XP_ENUM:
		return enum_problem(prop, v, p);
	case XP_ADDR:
	case XP_NET:
	case XP_MAC:
		return address_problem(prop, v, p);
	case XP_DIR:
		return dir_problem(prop, v, p);
	case XP_HOST:
		return host_problem(prop, v, p);
	case XP_IMAGE:
		return image_problem(prop, v, p);
	case XP_PKG:
		return pkg_problem(prop, v, p);
	case XP_SWITCH:
		return v->type != XV_BOOL && enum_problem(prop, v, p);
	}
	return problem_set(p, NULL, "'%s' has an unknown type", prop->name);
}

/* < <= > >= where the property or the value has no order. */
static bool op_problem(const struct xir_constraint *c, struct problem *p)
{
	const struct xir_prop *prop = c->prop;
	const char *noun = unordered_noun(prop->type);
	const struct xir_enum *e;
	char list[MSG_BUF], s[XIR_NAME_BUF];

	if (prop->multi && c->op != XIR_EQ)
		return problem_set(p, NULL, "'%s' is a list of values: only == applies, not %s",
				   prop->name, xir_op_str(c->op));
	if (c->op == XIR_EQ || c->op == XIR_NE)
		return false;
	if (noun)
		return problem_set(p, NULL, "'%s': %s can only be compared with == or !=, not %s",
				   prop->name, noun, xir_op_str(c->op));
	if (prop->eq_only)
		return problem_set(p, NULL, "'%s' can only be compared with == or !=, not %s",
				   prop->name, xir_op_str(c->op));
	if (prop->type != XP_ENUM)
		return false;
	e = xir_enum_find(prop->name, c->value.s);
	if (e && e->rank > 0)
		return false;
	enum_list(prop, true, list, sizeof(list));
	xir_fmt_clean(s, sizeof(s), c->value.s);
	return problem_set(p, list, "%s is not ordered; use == or !=", s);
}

/* True, with p filled, when check_properties refuses c in a set of scope. */
bool check_cons_problem(unsigned scope, const struct xir_constraint *c, struct problem *p)
{
	return scope_problem(scope, c->prop, p) || value_problem(c, p) || op_problem(c, p);
}

/* Report every constraint of the set cs of o that check_properties refuses. */
static void props_cset(const struct xir *x, const struct owner *o, const struct xir_cset *cs,
		       struct diag_list *d)
{
	struct problem p;
	size_t i;

	(void)x;
	for (i = 0; i < cs->n && !diag_full(d); i++) {
		const struct xir_constraint *c = &cs->v[i];

		if (c->prop && check_cons_problem(o->scope, c, &p))
			diag_error(d, check_cons_loc(o, c), p.hint[0] ? p.hint : NULL, "%s: %s", o->name,
				   p.msg);
	}
}

/* Scope, type, unit, range and operator of every constraint. */
void check_properties(const struct xir *x, struct diag_list *d)
{
	check_each_cset(x, d, props_cset);
}
