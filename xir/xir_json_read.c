/* xir_json_read: reading the JSON form of the XIR (docs/xir.md). The text
 * is parsed with jansson; the structure is checked and every problem found
 * is reported, naming the node, link or task. */
#include "xir_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Room for "link 'NAME': endpoint N: constraint M" and for a hint naming a
 * node. Names are cut at 64 bytes in these places, prefixes at 200. */
#define XJ_WHERE_MAX 256

/* The reader's state. Functions named xr_* report problems to d and carry
 * on; they return 0, or -ENOMEM to stop everything. Whether the document
 * was good is decided at the end, by the number of errors in d. */
struct xr {
	struct diag_list *d;
	struct xir *x;
	size_t nerrors; /* errors in d before this read */
};

/* True once this read has filled the diagnostics list: stop early. (A list
 * that came in full must not make the reader skip the document.) */
static bool xr_stop(const struct xr *rd)
{
	return rd->d->nerrors > rd->nerrors && diag_full(rd->d);
}

#define xr_error(rd, hint, ...) diag_error((rd)->d, xir_noloc(), (hint), __VA_ARGS__)

/* "did you mean 'best'?" in buf, or NULL when there is no best. */
static const char *xr_hint(char *buf, size_t size, const char *best)
{
	if (!best)
		return NULL;
	snprintf(buf, size, "did you mean '%s'?", best);
	return buf;
}

/* The property name closest to word, or NULL. */
static const char *xr_closest_prop(const char *word)
{
	const char *names[128];
	size_t i, n = 0;

	for (i = 0; i < xir_prop_count() && n < UTIL_ARRAY_SIZE(names); i++)
		names[n++] = xir_prop_at(i)->name;
	return util_closest(word, names, n);
}

/* The enumerated value of property prop closest to word, or NULL. */
static const char *xr_closest_enum(const char *prop, const char *word)
{
	const char *names[128];
	const struct xir_enum *e;
	size_t i, n = 0;

	for (i = 0; (e = xir_enum_at(i)) && n < UTIL_ARRAY_SIZE(names); i++)
		if (!strcmp(e->prop, prop))
			names[n++] = e->name;
	return util_closest(word, names, n);
}

/* The comparison operator closest to word, or NULL. */
static const char *xr_closest_op(const char *word)
{
	const char *names[XIR_GE + 1];
	unsigned i;

	for (i = XIR_EQ; i <= XIR_GE; i++)
		names[i] = xir_op_str((enum xir_op)i);
	return util_closest(word, names, UTIL_ARRAY_SIZE(names));
}

/* The node name closest to word, or NULL (also when there is no memory for
 * the search: a hint is a courtesy). */
static const char *xr_closest_node(const struct xir *x, const char *word)
{
	const char **names = malloc((x->nnodes ? x->nnodes : 1) * sizeof(*names));
	const char *best;
	size_t i;

	if (!names)
		return NULL;
	for (i = 0; i < x->nnodes; i++)
		names[i] = x->nodes[i].name;
	best = util_closest(word, names, x->nnodes);
	free(names);
	return best;
}

/* Report every key of object obj that is not among keys[0..n), with the
 * closest known key as a hint. */
static void xr_keys(struct xr *rd, const char *where, json_t *obj, const char *const *keys,
		    size_t n)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char hint[XJ_WHERE_MAX];
		size_t i;

		for (i = 0; i < n && strcmp(key, keys[i]); i++)
			;
		if (i == n)
			xr_error(rd, xr_hint(hint, sizeof(hint), util_closest(key, keys, n)),
				 "%s: unknown key \"%s\"", where, key);
	}
}

/* Fetch obj[key] into *out when it has type type (named noun in the
 * message). An optional key may be absent or null (*out is then NULL).
 * Returns 0, or -EINVAL after reporting a missing key or another type. */
static int xr_field(struct xr *rd, const char *where, json_t *obj, const char *key, bool required,
		    json_type type, const char *noun, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || (!required && json_is_null(v))) {
		if (!required)
			return 0;
		xr_error(rd, NULL, "%s: missing \"%s\"", where, key);
		return -EINVAL;
	}
	if (json_typeof(v) != type) {
		xr_error(rd, NULL, "%s: \"%s\" must be %s", where, key, noun);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Fetch obj[key] as a string into *s, like xr_field. */
static int xr_str(struct xr *rd, const char *where, json_t *obj, const char *key, bool required,
		  const char **s)
{
	json_t *v;
	int r = xr_field(rd, where, obj, key, required, JSON_STRING, "a string", &v);

	*s = v ? json_string_value(v) : NULL;
	return r;
}

/* Fetch obj[key] as an array into *a, like xr_field. An absent optional
 * array comes back as NULL, which jansson treats as empty. */
static int xr_array(struct xr *rd, const char *where, json_t *obj, const char *key,
		    bool required, json_t **a)
{
	return xr_field(rd, where, obj, key, required, JSON_ARRAY, "an array", a);
}

/* True when v is an object; reports it otherwise. */
static bool xr_is_object(struct xr *rd, const char *where, json_t *v)
{
	if (json_is_object(v))
		return true;
	xr_error(rd, NULL, "%s: must be an object", where);
	return false;
}

/* The unit of a number on "queue" from its "unit" key: "packets" (no
 * unit), "bytes", or another unit's name, kept so the checks can report
 * it. Returns 0 or -EINVAL after reporting. */
static int xr_queue_unit(struct xr *rd, const char *where, json_t *ju, enum xir_unit *unit)
{
	const char *s = json_string_value(ju);
	unsigned u;

	*unit = XU_NONE;
	if (s && !strcmp(s, "packets"))
		return 0;
	for (u = XU_BYTES; s && u <= XU_HZ; u++)
		if (!strcmp(s, xir_unit_name((enum xir_unit)u))) {
			*unit = (enum xir_unit)u;
			return 0;
		}
	xr_error(rd, NULL, "%s: \"unit\" must be \"packets\" or \"bytes\"", where);
	return -EINVAL;
}

/* Convert a string value of property p: an enumerated name for an XP_ENUM
 * property, a plain string otherwise. Returns 0, -EINVAL after reporting or
 * -ENOMEM. */
static int xr_str_value(struct xr *rd, const char *where, const struct xir_prop *p, json_t *jv,
			struct xir_value *v)
{
	const char *s = json_string_value(jv);
	char hint[XJ_WHERE_MAX];

	v->type = XV_STR;
	if (p->type == XP_ENUM || p->type == XP_SWITCH) {
		if (!xir_enum_find(p->name, s)) {
			xr_error(rd, xr_hint(hint, sizeof(hint), xr_closest_enum(p->name, s)),
				 "%s: unknown %s '%s'", where, p->name, s);
			return -EINVAL;
		}
		v->type = XV_ENUM;
	}
	v->s = strdup(s);
	return v->s ? 0 : -ENOMEM;
}

/* Convert the "value" (and, on "queue", the "unit") of constraint object jc
 * to *v, by the type of property p; p is NULL when the property was unknown
 * (already reported), and then only the JSON types are checked. Returns 0,
 * -EINVAL after reporting, or -ENOMEM. */
static int xr_value(struct xr *rd, const char *where, const struct xir_prop *p, json_t *jc,
		    struct xir_value *v)
{
	json_t *jv = json_object_get(jc, "value"), *ju = json_object_get(jc, "unit");
	enum xir_unit unit = p ? xir_ptype_unit(p->type) : XU_NONE;
	int r = 0;

	if (!jv) {
		xr_error(rd, NULL, "%s: missing \"value\"", where);
		r = -EINVAL;
	} else if (!json_is_number(jv) && !json_is_boolean(jv) && !json_is_string(jv)) {
		xr_error(rd, NULL, "%s: \"value\" must be a number, a boolean or a string", where);
		r = -EINVAL;
	}
	if (ju && p && p->type != XP_QUEUE) {
		xr_error(rd, NULL, "%s: \"unit\" is only for \"queue\"", where);
		r = -EINVAL;
	} else if (ju && xr_queue_unit(rd, where, ju, &unit)) {
		r = -EINVAL;
	}
	if (r || !p)
		return -EINVAL;
	*v = (struct xir_value){ .type = XV_BOOL };
	switch (json_typeof(jv)) {
	case JSON_STRING:
		return xr_str_value(rd, where, p, jv, v);
	case JSON_TRUE:
	case JSON_FALSE:
		v->b = json_is_true(jv);
		break;
	case JSON_INTEGER:
		if (p->type == XP_FRACTION || p->type == XP_FACTOR) {
			v->type = XV_FLOAT;
			v->f = (double)json_integer_value(jv);
		} else {
			v->type = XV_INT;
			v->unit = unit;
			v->i = json_integer_value(jv);
		}
		break;
	default: /* JSON_REAL */
		v->type = XV_FLOAT;
		v->unit = unit;
		v->f = json_real_value(jv);
		break;
	}
	return 0;
}

/* Read constraint object jc and add it to cs; with cs NULL (its owner could
 * not be made) only check it. Returns 0 or -ENOMEM. */
static int xr_constraint(struct xr *rd, const char *where, json_t *jc, struct xir_cset *cs)
{
	static const char *const keys[] = { "property", "op", "value", "unit" };
	const struct xir_prop *p = NULL;
	struct xir_value v = { .type = XV_BOOL };
	const char *pname, *opname;
	enum xir_op op = XIR_EQ;
	bool ok = true;
	char hint[XJ_WHERE_MAX];
	int r;

	if (!xr_is_object(rd, where, jc))
		return 0;
	xr_keys(rd, where, jc, keys, UTIL_ARRAY_SIZE(keys));
	if (xr_str(rd, where, jc, "property", true, &pname)) {
		ok = false;
	} else if (!(p = xir_prop_find(pname))) {
		xr_error(rd, xr_hint(hint, sizeof(hint), xr_closest_prop(pname)),
			 "%s: unknown property '%s'", where, pname);
		ok = false;
	}
	if (xr_str(rd, where, jc, "op", true, &opname)) {
		ok = false;
	} else if (xir_op_parse(opname, &op)) {
		xr_error(rd, xr_hint(hint, sizeof(hint), xr_closest_op(opname)),
			 "%s: unknown op '%s'", where, opname);
		ok = false;
	}
	r = xr_value(rd, where, p, jc, &v);
	if (r == -ENOMEM)
		return r;
	if (r || !ok || !cs) {
		xir_value_free(&v);
		return 0;
	}
	return xir_cset_add(cs, p, op, v, xir_noloc());
}

/* Read the constraint array ja (NULL: none) into cs (NULL: check only). */
static int xr_cset(struct xr *rd, const char *where, json_t *ja, struct xir_cset *cs)
{
	char w[XJ_WHERE_MAX];
	size_t i;
	int r = 0;

	for (i = 0; i < json_array_size(ja) && !r && !xr_stop(rd); i++) {
		snprintf(w, sizeof(w), "%.200s: constraint %zu", where, i + 1);
		r = xr_constraint(rd, w, json_array_get(ja, i), cs);
	}
	return r;
}

/* Start reading element i (0-based) of "nodes", "links" or "tasks": where
 * becomes "KIND N", then "KIND 'NAME'" once the name is read into *name
 * (NULL when absent or wrong), and unknown keys are reported. Returns false,
 * after reporting, when the element is not an object. */
static bool xr_element(struct xr *rd, const char *kind, size_t i, json_t *j, bool name_required,
		       const char *const *keys, size_t nkeys, char where[XJ_WHERE_MAX],
		       const char **name)
{
	*name = NULL;
	snprintf(where, XJ_WHERE_MAX, "%s %zu", kind, i + 1);
	if (!xr_is_object(rd, where, j))
		return false;
	xr_str(rd, where, j, "name", name_required, name);
	if (*name)
		snprintf(where, XJ_WHERE_MAX, "%s '%.64s'", kind, *name);
	xr_keys(rd, where, j, keys, nkeys);
	return true;
}

/* Read the i-th (0-based) element of "nodes". */
static int xr_node(struct xr *rd, size_t i, json_t *jn)
{
	static const char *const keys[] = { "name", "constraints" };
	char where[XJ_WHERE_MAX];
	const char *name;
	json_t *cons;
	uint32_t idx;
	int r;

	if (!xr_element(rd, "node", i, jn, true, keys, UTIL_ARRAY_SIZE(keys), where, &name))
		return 0;
	xr_array(rd, where, jn, "constraints", false, &cons);
	if (!name)
		return xr_cset(rd, where, cons, NULL);
	r = xir_add_node(rd->x, name, xir_noloc(), &idx);
	if (r)
		return r == -E2BIG ? -ENOMEM : r;
	return xr_cset(rd, where, cons, &rd->x->nodes[idx].cons);
}

/* Read endpoint k (0-based) of link li (UINT32_MAX: a link that could not
 * be made, only check). */
static int xr_endpoint(struct xr *rd, const char *lwhere, size_t k, json_t *je, uint32_t li)
{
	static const char *const keys[] = { "node", "constraints" };
	char where[XJ_WHERE_MAX], hint[XJ_WHERE_MAX];
	struct xir_link *l;
	const char *name;
	json_t *cons;
	uint32_t node;
	int r;

	snprintf(where, sizeof(where), "%.200s: endpoint %zu", lwhere, k + 1);
	if (!xr_is_object(rd, where, je))
		return 0;
	xr_keys(rd, where, je, keys, UTIL_ARRAY_SIZE(keys));
	xr_str(rd, where, je, "node", true, &name);
	xr_array(rd, where, je, "constraints", false, &cons);
	if (name && !xir_find_node(rd->x, name, &node)) {
		xr_error(rd, xr_hint(hint, sizeof(hint), xr_closest_node(rd->x, name)),
			 "%s: unknown node '%s'", where, name);
		name = NULL;
	}
	if (!name || li == UINT32_MAX)
		return xr_cset(rd, where, cons, NULL);
	r = xir_link_add_endpoint(rd->x, li, node, xir_noloc());
	if (r)
		return r;
	l = &rd->x->links[li];
	return xr_cset(rd, where, cons, &l->ep[l->nep - 1].cons);
}

/* Reads element k of an endpoint or command array (owner: the link or task
 * index, UINT32_MAX to only check). */
typedef int (*xr_sub_fn)(struct xr *rd, const char *where, size_t k, json_t *j, uint32_t owner);

/* Read every element of array a (NULL: none) with fn, until an error or a
 * full diagnostics list. Returns 0 or fn's negative errno. */
static int xr_each(struct xr *rd, const char *where, json_t *a, xr_sub_fn fn, uint32_t owner)
{
	size_t k;
	int r = 0;

	for (k = 0; k < json_array_size(a) && !r && !xr_stop(rd); k++)
		r = fn(rd, where, k, json_array_get(a, k), owner);
	return r;
}

/* Read the i-th (0-based) element of "links". A link's name may be absent
 * or null: xjson_read names it as the compiler does (xir_finish). */
static int xr_link(struct xr *rd, size_t i, json_t *jl)
{
	static const char *const keys[] = { "name", "endpoints", "constraints" };
	char where[XJ_WHERE_MAX];
	const char *name;
	json_t *eps, *cons;
	uint32_t li = UINT32_MAX;
	int r = 0;

	if (!xr_element(rd, "link", i, jl, false, keys, UTIL_ARRAY_SIZE(keys), where, &name))
		return 0;
	xr_array(rd, where, jl, "endpoints", true, &eps);
	xr_array(rd, where, jl, "constraints", false, &cons);
	r = xir_add_link(rd->x, name, xir_noloc(), &li);
	if (r)
		return r == -E2BIG ? -ENOMEM : r;
	r = xr_each(rd, where, eps, xr_endpoint, li);
	if (!r)
		r = xr_cset(rd, where, cons, &rd->x->links[li].cons);
	return r;
}

/* Check the "measure" array jm ([[name, regex], ...]; NULL: none) of a
 * command, or (cmd not SIZE_MAX) add it to command cmd of task ti. False
 * after reporting a bad shape, or when memory ran out. */
static bool xr_measures(struct xr *rd, const char *where, json_t *jm, uint32_t ti, size_t cmd)
{
	json_t *p;
	size_t k;

	json_array_foreach(jm, k, p) {
		const char *name = json_string_value(json_array_get(p, 0));
		const char *re = json_string_value(json_array_get(p, 1));

		if (json_array_size(p) != 2 || !name || !re) {
			xr_error(rd, NULL, "%s: \"measure\" %zu must be [name, regex]", where, k + 1);
			return false;
		}
		if (cmd != SIZE_MAX && xir_command_add_measure(rd->x, ti, cmd, name, re))
			return false;
	}
	return true;
}

/* obj[key], an integer of nanoseconds at least 0, into *v (left alone
 * when absent). False after reporting another value. */
static bool xr_ns(struct xr *rd, const char *where, json_t *obj, const char *key, int64_t *v)
{
	json_t *j = json_object_get(obj, key);

	if (!j)
		return true;
	if (!json_is_integer(j) || json_integer_value(j) < 0) {
		xr_error(rd, NULL, "%s: \"%s\" must be an integer of nanoseconds, 0 or more", where,
			 key);
		return false;
	}
	*v = json_integer_value(j);
	return true;
}

/* Read jc, a step other than run() (step), into task ti (UINT32_MAX: only
 * check): its node or link, command, parameters and times. */
static int xr_step(struct xr *rd, const char *where, json_t *jc, enum xir_step step, uint32_t ti)
{
	struct xir_command c = { .step = step, .link_idx = UINT32_MAX,
				 .timeout_ns = XIR_WAIT_TIMEOUT_NS, .every_ns = XIR_WAIT_EVERY_NS };
	char hint[XJ_WHERE_MAX];
	const char *name, *link = NULL, *cmd;
	json_t *jset = NULL;
	bool ok = true;
	int r;

	if (xir_step_on_link(step)) {
		ok = !xr_str(rd, where, jc, "link", true, &link);
	} else if (xr_str(rd, where, jc, "node", true, &name)) {
		ok = false;
	} else if (!xir_find_node(rd->x, name, &c.node)) {
		xr_error(rd, xr_hint(hint, sizeof(hint), xr_closest_node(rd->x, name)),
			 "%s: unknown node '%s'", where, name);
		ok = false;
	}
	if (xr_str(rd, where, jc, "cmd", step == XSTEP_WAIT_UNTIL, &cmd))
		ok = false;
	if (step == XSTEP_LINK_SET && xr_array(rd, where, jc, "set", true, &jset))
		ok = false;
	ok = xr_ns(rd, where, jc, "at", &c.at_ns) && ok;
	ok = xr_ns(rd, where, jc, "timeout", &c.timeout_ns) && ok;
	ok = xr_ns(rd, where, jc, "every", &c.every_ns) && ok;
	if (!ok || ti == UINT32_MAX)
		return xr_cset(rd, where, jset, NULL);
	c.link = link ? strdup(link) : NULL;
	c.cmd = cmd ? strdup(cmd) : NULL;
	r = (link && !c.link) || (cmd && !c.cmd) ? -ENOMEM : xr_cset(rd, where, jset, &c.set);
	if (r) {
		free(c.link);
		free(c.cmd);
		xir_cset_free(&c.set);
		return r;
	}
	return xir_task_add_step(rd->x, ti, &c);
}

/* Read command k (0-based) of task ti (UINT32_MAX: only check). */
static int xr_command(struct xr *rd, const char *twhere, size_t k, json_t *jc, uint32_t ti)
{
	static const char *const keys[] = { "node", "cmd", "background", "expect", "measure",
					    "step", "link", "set", "at", "timeout", "every" };
	char where[XJ_WHERE_MAX], hint[XJ_WHERE_MAX];
	const char *name, *cmd, *expect, *sname;
	enum xir_step step = XSTEP_RUN;
	json_t *jb, *jm;
	int r;
	uint32_t node;
	bool ok = true;

	snprintf(where, sizeof(where), "%.200s: command %zu", twhere, k + 1);
	if (!xr_is_object(rd, where, jc))
		return 0;
	xr_keys(rd, where, jc, keys, UTIL_ARRAY_SIZE(keys));
	if (xr_str(rd, where, jc, "step", false, &sname))
		return 0;
	if (sname && (xir_step_parse(sname, &step) || step == XSTEP_FILE)) {
		xr_error(rd, "run wait_until link_set link_down link_up node_stop node_start",
			 "%s: unknown step '%s'", where, sname);
		return 0;
	}
	if (step != XSTEP_RUN)
		return xr_step(rd, where, jc, step, ti);
	if (xr_str(rd, where, jc, "node", true, &name)) {
		ok = false;
	} else if (!xir_find_node(rd->x, name, &node)) {
		xr_error(rd, xr_hint(hint, sizeof(hint), xr_closest_node(rd->x, name)),
			 "%s: unknown node '%s'", where, name);
		ok = false;
	}
	if (xr_str(rd, where, jc, "cmd", true, &cmd))
		ok = false;
	if (xr_str(rd, where, jc, "expect", false, &expect))
		ok = false;
	jb = json_object_get(jc, "background");
	if (jb && !json_is_boolean(jb)) {
		xr_error(rd, NULL, "%s: \"background\" must be true or false", where);
		ok = false;
	}
	if (xr_array(rd, where, jc, "measure", false, &jm) || !xr_measures(rd, where, jm, ti, SIZE_MAX))
		ok = false;
	if (!ok || ti == UINT32_MAX)
		return 0;
	r = xir_task_add_command(rd->x, ti, node, cmd, json_is_true(jb), expect, xir_noloc());
	if (!r && !xr_measures(rd, where, jm, ti, rd->x->tasks[ti].ncmd - 1))
		r = -ENOMEM;
	return r;
}

/* Read the i-th (0-based) element of "tasks". A missing "timeout" is
 * XIR_DEFAULT_TIMEOUT_NS. */
static int xr_task(struct xr *rd, size_t i, json_t *jt)
{
	static const char *const keys[] = { "name", "commands", "timeout" };
	char where[XJ_WHERE_MAX];
	int64_t timeout = XIR_DEFAULT_TIMEOUT_NS;
	const char *name;
	json_t *cmds, *jto;
	uint32_t ti = UINT32_MAX;
	int r = 0;

	if (!xr_element(rd, "task", i, jt, true, keys, UTIL_ARRAY_SIZE(keys), where, &name))
		return 0;
	xr_array(rd, where, jt, "commands", true, &cmds);
	jto = json_object_get(jt, "timeout");
	if (json_is_integer(jto)) {
		timeout = json_integer_value(jto);
	} else if (jto) {
		xr_error(rd, NULL, "%s: \"timeout\" must be an integer (nanoseconds)", where);
		name = NULL;
	}
	if (name)
		r = xir_add_task(rd->x, name, timeout, xir_noloc(), &ti);
	return r ? r : xr_each(rd, where, cmds, xr_command, ti);
}

/* Read the i-th (0-based) element of "files": {"node", "path", "text"}. */
static int xr_file(struct xr *rd, size_t i, json_t *jf)
{
	static const char *const keys[] = { "node", "path", "text" };
	char where[XJ_WHERE_MAX], hint[XJ_WHERE_MAX];
	const char *node, *path, *text;
	uint32_t ni = 0;
	bool ok;

	snprintf(where, sizeof(where), "file %zu", i + 1);
	if (!xr_is_object(rd, where, jf))
		return 0;
	xr_keys(rd, where, jf, keys, UTIL_ARRAY_SIZE(keys));
	ok = !xr_str(rd, where, jf, "node", true, &node);
	ok = !xr_str(rd, where, jf, "path", true, &path) && ok;
	ok = !xr_str(rd, where, jf, "text", true, &text) && ok;
	if (ok && !xir_find_node(rd->x, node, &ni)) {
		xr_error(rd, xr_hint(hint, sizeof(hint), xr_closest_node(rd->x, node)),
			 "%s: unknown node '%s'", where, node);
		ok = false;
	}
	return ok ? xir_add_file(rd->x, ni, path, text, xir_noloc()) : 0;
}

/* Read every element of top-level array key with fn. Returns 0 or -ENOMEM. */
static int xr_list(struct xr *rd, json_t *root, const char *key, bool required,
		   int (*fn)(struct xr *, size_t, json_t *))
{
	json_t *a;
	size_t i;
	int r = 0;

	xr_array(rd, "experiment", root, key, required, &a);
	for (i = 0; i < json_array_size(a) && !r && !xr_stop(rd); i++)
		r = fn(rd, i, json_array_get(a, i));
	return r;
}

/* Check "version". Returns 0, or -EINVAL after reporting: a document of
 * another version is not read further, since its other keys may mean other
 * things. */
static int xr_version(struct xr *rd, json_t *root)
{
	json_t *v = json_object_get(root, "version");

	if (!v) {
		xr_error(rd, NULL, "experiment: missing \"version\"");
		return -EINVAL;
	}
	if (!json_is_integer(v)) {
		xr_error(rd, NULL, "\"version\" must be an integer");
		return -EINVAL;
	}
	if (json_integer_value(v) != XIR_VERSION) {
		xr_error(rd, NULL, "\"version\" %" JSON_INTEGER_FORMAT
			 " is not supported (this vtb reads version %d)",
			 json_integer_value(v), XIR_VERSION);
		return -EINVAL;
	}
	return 0;
}

/* Read the whole document root into rd->x. Returns 0 or -ENOMEM. */
static int xr_doc(struct xr *rd, json_t *root)
{
	static const char *const keys[] = { "version", "name", "constraints",
					     "nodes",   "links", "tasks", "files" };
	const char *name;
	json_t *cons;
	int r = 0;

	xr_keys(rd, "experiment", root, keys, UTIL_ARRAY_SIZE(keys));
	if (!xr_str(rd, "experiment", root, "name", true, &name) && name)
		r = xir_set_name(rd->x, name);
	if (!r && !xr_array(rd, "experiment", root, "constraints", false, &cons))
		r = xr_cset(rd, "experiment", cons, &rd->x->cons);
	if (!r)
		r = xr_list(rd, root, "nodes", true, xr_node);
	if (!r)
		r = xr_list(rd, root, "links", false, xr_link);
	if (!r)
		r = xr_list(rd, root, "tasks", false, xr_task);
	if (!r)
		r = xr_list(rd, root, "files", false, xr_file);
	return r;
}

/* Parses with jansson, reports a syntax error at its line and column (of
 * the end of the offending token), then checks and converts the structure. */
int xjson_read(const char *text, size_t len, struct xir **out, struct diag_list *d)
{
	struct xr rd = { .d = d, .nerrors = d->nerrors };
	json_error_t je;
	json_t *root;
	int r = -EINVAL;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		struct src_loc loc = {
			.line = je.line > 0 ? (uint32_t)je.line : 0,
			.col = je.column > 0 ? (uint32_t)je.column : 0,
			.len = 1,
		};

		if (json_error_code(&je) == json_error_out_of_memory)
			return -ENOMEM;
		diag_error(d, loc, NULL, "%s", je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		diag_error(d, xir_noloc(), NULL, "the document must be a JSON object");
		goto out_free;
	}
	if (xr_version(&rd, root))
		goto out_free;
	rd.x = xir_new(NULL);
	r = rd.x ? xr_doc(&rd, root) : -ENOMEM;
	if (!r && d->nerrors > rd.nerrors)
		r = -EINVAL;
	if (!r)
		r = xir_finish(rd.x);
	if (!r) {
		*out = rd.x;
		rd.x = NULL;
	}
out_free:
	xir_free(rd.x);
	json_decref(root);
	return r;
}
