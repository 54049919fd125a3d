/* eval_builtin: the functions and methods of the model language:
 * range len str int float, the unit functions, task and run, and topo.device,
 * topo.connect, .spec, list.append. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_int.h"
#include "xir_fmt.h"

/* The unit functions are the XIR's unit table, in the builtins' order. */
_Static_assert(B_GHZ - B_KB + 1 == XIR_UNIT_FNS, "model/eval_int.h B_KB..B_GHZ: one per unit");

static const struct xir_unit_fn *unit_of(int fn)
{
	return fn >= B_KB && fn <= B_GHZ ? xir_unit_fn_at((size_t)(fn - B_KB)) : NULL;
}

static const char *const plain[] = {
	[B_RANGE] = "range", [B_LEN] = "len", [B_STR] = "str", [B_INT] = "int",
	[B_FLOAT] = "float", [B_TASK] = "task", [B_RUN] = "run",
	[B_WAIT_UNTIL] = "wait_until", [B_LINK_SET] = "link_set", [B_LINK_DOWN] = "link_down",
	[B_LINK_UP] = "link_up", [B_NODE_STOP] = "node_stop", [B_NODE_START] = "node_start",
	[B_FILE] = "file",
};

const char *eval_builtin_name(int fn)
{
	if (fn >= 0 && (size_t)fn < UTIL_ARRAY_SIZE(plain) && plain[fn])
		return plain[fn];
	if (unit_of(fn))
		return unit_of(fn)->name;
	return "?";
}

int eval_builtin_find(const char *name)
{
	int i;

	for (i = 0; i < B_COUNT; i++)
		if (!strcmp(eval_builtin_name(i), name))
			return i;
	return -1;
}

bool eval_method_takes_constraints(const char *name)
{
	return !strcmp(name, "device") || !strcmp(name, "connect") || !strcmp(name, "spec");
}

/* Check the argument counts of a call; report and return false if wrong. */
bool eval_argc_ok(struct eval *ev, struct eval_args *a, const char *fn, size_t min, size_t max)
{
	if (a->npos >= min && a->npos <= max)
		return true;
	if (min == max)
		eval_error(ev, a->loc, NULL, "%s() takes %zu argument%s, not %zu", fn, min,
			   min == 1 ? "" : "s", a->npos);
	else
		eval_error(ev, a->loc, NULL, "%s() takes %zu to %zu arguments, not %zu", fn, min, max,
			   a->npos);
	return false;
}

/* Refuse keyword arguments other than the allowed ones (a NULL-ended list). */
bool eval_kw_ok(struct eval *ev, struct eval_args *a, const char *fn, const char *const *allowed)
{
	size_t i, k;

	for (i = 0; i < a->nkw; i++) {
		const char *name = eval_sym(ev, a->kw_arg[i]->kw);
		bool found = false;

		for (k = 0; allowed && allowed[k]; k++)
			found |= !strcmp(allowed[k], name);
		if (!found) {
			eval_error(ev, a->kw_arg[i]->kwloc, NULL, "%s() has no argument '%s'", fn, name);
			return false;
		}
	}
	return true;
}

const struct value *eval_kwarg(struct eval *ev, struct eval_args *a, const char *name,
				 struct src_loc *loc)
{
	size_t i;

	for (i = 0; i < a->nkw; i++)
		if (!strcmp(eval_sym(ev, a->kw_arg[i]->kw), name)) {
			if (loc)
				*loc = a->kw_arg[i]->value->loc;
			return &a->kw[i];
		}
	return NULL;
}

static struct value unit_fn(struct eval *ev, int fn, struct eval_args *a)
{
	const struct xir_unit_fn *u = unit_of(fn);
	const struct value *v;
	double d;

	if (!eval_argc_ok(ev, a, u->name, 1, 1) || !eval_kw_ok(ev, a, u->name, NULL))
		return v_err();
	v = &a->pos[0];
	if ((v->kind != V_INT && v->kind != V_FLOAT) || v->unit)
		return eval_error(ev, a->pos_expr[0]->loc, NULL, "%s() takes a plain number, not %s",
				  u->name, v_kind_name(v));
	if (v->kind == V_INT && u->scale == 1)
		return v_int(v->i, u->unit);
	d = (v->kind == V_INT ? (double)v->i : v->f) * u->scale;
	if (!(fabs(d) < 9.2e18))
		return eval_error(ev, a->loc, NULL, "%s(...) is too large", u->name);
	/* quantities are integers in base units (bytes, bits/s, ns, Hz) */
	return v_int(llround(d), u->unit);
}

static struct value fn_range(struct eval *ev, struct eval_args *a)
{
	int64_t arg[3] = { 0, 0, 1 };
	struct vrange *r;
	size_t i;

	if (!eval_argc_ok(ev, a, "range", 1, 3) || !eval_kw_ok(ev, a, "range", NULL))
		return v_err();
	for (i = 0; i < a->npos; i++) {
		if (a->pos[i].kind != V_INT || a->pos[i].unit)
			return eval_error(ev, a->pos_expr[i]->loc, NULL,
					  "range() takes ints, not %s", v_kind_name(&a->pos[i]));
		arg[a->npos == 1 ? 1 : i] = a->pos[i].i;
	}
	if (!arg[2])
		return eval_error(ev, a->pos_expr[2]->loc, NULL, "range() step must not be zero");
	r = (struct vrange *)vheap_alloc(&ev->heap, V_RANGE, sizeof(*r));
	if (!r)
		return eval_oom(ev, a->loc);
	r->start = arg[0];
	r->stop = arg[1];
	r->step = arg[2];
	return (struct value){ .kind = V_RANGE, .o = &r->h };
}

static struct value fn_len(struct eval *ev, struct eval_args *a)
{
	const struct value *v;

	if (!eval_argc_ok(ev, a, "len", 1, 1) || !eval_kw_ok(ev, a, "len", NULL))
		return v_err();
	v = &a->pos[0];
	switch (v->kind) {
	case V_STR:
		return v_int((int64_t)VSTR(*v)->len, XU_NONE);
	case V_LIST:
		return v_int((int64_t)VLIST(*v)->n, XU_NONE);
	case V_RANGE: {
		uint64_t n = v_range_len(VRANGE(*v));

		if (n > INT64_MAX)
			return eval_error(ev, a->pos_expr[0]->loc, NULL, "len(): the range is too long");
		return v_int((int64_t)n, XU_NONE);
	}
	case V_LINK:
		return v_int((int64_t)ev->x->links[v->idx].nep, XU_NONE);
	default:
		return eval_error(ev, a->pos_expr[0]->loc, NULL, "%s has no length", v_kind_name(v));
	}
}

static struct value fn_str(struct eval *ev, struct eval_args *a)
{
	struct util_buf b;
	struct value out;

	if (!eval_argc_ok(ev, a, "str", 1, 1) || !eval_kw_ok(ev, a, "str", NULL))
		return v_err();
	if (a->pos[0].kind == V_STR)
		return v_ref(a->pos[0]);
	util_buf_init(&b);
	v_format(ev->x, &a->pos[0], false, &b);
	if (b.oom) {
		util_buf_free(&b);
		return eval_oom(ev, a->loc);
	}
	/* str([s]) is longer than s: keep the string cap */
	if (b.len > ev->lim.max_str || !eval_charge(ev, b.len, a->loc)) {
		util_buf_free(&b);
		if (ev->stopped)
			return v_err();
		return eval_error(ev, a->loc, NULL, "string longer than %zu bytes", ev->lim.max_str);
	}
	out = v_str(&ev->heap, b.s ? b.s : "", b.len);
	util_buf_free(&b);
	return out.kind == V_ERR ? eval_oom(ev, a->loc) : out;
}

static struct value fn_number(struct eval *ev, struct eval_args *a, bool to_int)
{
	const char *fn = to_int ? "int" : "float";
	const struct value *v;

	if (!eval_argc_ok(ev, a, fn, 1, 1) || !eval_kw_ok(ev, a, fn, NULL))
		return v_err();
	v = &a->pos[0];
	if (v->kind == V_INT)
		return to_int ? *v : v_float((double)v->i, v->unit);
	if (v->kind == V_FLOAT) {
		if (!to_int)
			return *v;
		if (!(fabs(v->f) < 9.2e18))
			return eval_error(ev, a->loc, NULL, "int(): number out of range");
		return v_int((int64_t)v->f, v->unit); /* truncates toward zero, as Python */
	}
	if (v->kind == V_BOOL)
		return to_int ? v_int(v->b, XU_NONE) : v_float(v->b, XU_NONE);
	if (v->kind == V_STR) {
		char *end;
		const char *s = VSTR(*v)->s;

		errno = 0;
		if (to_int) {
			long long n = strtoll(s, &end, 10);

			if (end != s && !*end && !errno)
				return v_int(n, XU_NONE);
		} else {
			double d = strtod(s, &end);

			if (end != s && !*end && isfinite(d))
				return v_float(d, XU_NONE);
		}
		return eval_error(ev, a->pos_expr[0]->loc, NULL, "%s(): '%s' is not a number", fn, s);
	}
	return eval_error(ev, a->pos_expr[0]->loc, NULL, "%s() cannot convert %s", fn,
			  v_kind_name(v));
}

/* The number of [name, regex] pairs of a run()'s measure= value m (one
 * pair, or a list of them), and pair i of it in *pair; 0 for any other
 * shape. */
static size_t measure_pairs(const struct value *m, size_t i, const struct vlist **pair)
{
	const struct vlist *l = m->kind == V_LIST ? VLIST(*m) : NULL;
	const struct vlist *p;
	size_t k;

	*pair = NULL;
	if (!l || !l->n)
		return 0;
	if (l->v[0].kind == V_STR) {
		*pair = l;
		return l->n == 2 && l->v[1].kind == V_STR ? 1 : 0;
	}
	for (k = 0; k < l->n; k++) {
		p = l->v[k].kind == V_LIST ? VLIST(l->v[k]) : NULL;
		if (!p || p->n != 2 || p->v[0].kind != V_STR || p->v[1].kind != V_STR)
			return 0;
	}
	*pair = i < l->n ? VLIST(l->v[i]) : NULL;
	return l->n;
}

static struct value fn_run(struct eval *ev, struct eval_args *a)
{
	static const char *const kws[] = { "background", "expect", "measure", NULL };
	const struct value *bg, *ex, *me;
	const struct vlist *pair;
	struct src_loc bgloc, exloc, meloc;
	struct vrun *r;

	if (!eval_argc_ok(ev, a, "run", 2, 2) || !eval_kw_ok(ev, a, "run", kws))
		return v_err();
	if (a->pos[0].kind != V_DEVICE)
		return eval_error(ev, a->pos_expr[0]->loc, "run(node, 'command')",
				  "run() needs a device first, not %s", v_kind_name(&a->pos[0]));
	if (a->pos[1].kind != V_STR)
		return eval_error(ev, a->pos_expr[1]->loc, NULL, "run() needs a command string, not %s",
				  v_kind_name(&a->pos[1]));
	bg = eval_kwarg(ev, a, "background", &bgloc);
	if (bg && bg->kind != V_BOOL)
		return eval_error(ev, bgloc, NULL, "background= takes true or false, not %s",
				  v_kind_name(bg));
	ex = eval_kwarg(ev, a, "expect", &exloc);
	if (ex && ex->kind != V_STR && ex->kind != V_NONE)
		return eval_error(ev, exloc, NULL, "expect= takes a regular expression string, not %s",
				  v_kind_name(ex));
	me = eval_kwarg(ev, a, "measure", &meloc);
	if (me && me->kind != V_NONE && !measure_pairs(me, 0, &pair))
		return eval_error(ev, meloc, "measure=['rtt', 'time=([0-9.]+) ms'], or a list of such pairs",
				  "measure= takes a [name, regex] pair or a list of them, not %s",
				  v_kind_name(me));
	r = (struct vrun *)vheap_alloc(&ev->heap, V_RUN, sizeof(*r));
	if (!r)
		return eval_oom(ev, a->loc);
	r->step = XSTEP_RUN;
	r->link = r->set = v_none();
	r->node = a->pos[0].idx;
	r->cmd = v_ref(a->pos[1]);
	r->expect = ex ? v_ref(*ex) : v_none();
	r->measure = me ? v_ref(*me) : v_none();
	r->background = bg && bg->b;
	r->loc = a->loc;
	return (struct value){ .kind = V_RUN, .o = &r->h };
}

/* What a run() takes in the XIR (its steps: eval_step_bytes). */
static size_t run_bytes(const struct vrun *r)
{
	const struct vlist *pair;
	size_t i, n = measure_pairs(&r->measure, 0, &pair), need;

	if (r->step != XSTEP_RUN)
		return eval_step_bytes(r);
	need = sizeof(struct xir_command) + VSTR(r->cmd)->len +
	       (r->expect.kind == V_STR ? VSTR(r->expect)->len : 0);
	for (i = 0; i < n; i++) {
		measure_pairs(&r->measure, i, &pair);
		need += sizeof(struct xir_measure) + VSTR(pair->v[0])->len + VSTR(pair->v[1])->len;
	}
	return need;
}

/* True when name follows the name rule (xir.h); otherwise reports
 * "'a/b' is not a valid device name: '/' is not allowed" at loc. */
static bool name_ok(struct eval *ev, const struct vstr *name, struct src_loc loc, const char *what)
{
	char why[64], shown[XIR_NAME_BUF];

	if (!xir_name_check(name->s, name->len, why, sizeof(why)))
		return true;
	xir_fmt_clean(shown, sizeof(shown), name->s);
	eval_error(ev, loc, XIR_NAME_RULE, "'%s' is not a valid %s name: %s", shown, what, why);
	return false;
}

static int add_run(struct eval *ev, uint32_t task, const struct vrun *r)
{
	const struct vlist *pair;
	size_t i, n;
	int ret;

	if (r->step != XSTEP_RUN)
		return eval_step_add(ev, task, r);
	ret = xir_task_add_command(ev->x, task, r->node, VSTR(r->cmd)->s, r->background,
				       r->expect.kind == V_STR ? VSTR(r->expect)->s : NULL, r->loc);

	n = measure_pairs(&r->measure, 0, &pair);
	for (i = 0; !ret && i < n; i++) {
		measure_pairs(&r->measure, i, &pair);
		ret = xir_command_add_measure(ev->x, task, ev->x->tasks[task].ncmd - 1,
					      VSTR(pair->v[0])->s, VSTR(pair->v[1])->s);
	}
	return ret;
}

static struct value fn_task(struct eval *ev, struct eval_args *a)
{
	static const char *const kws[] = { "timeout", NULL };
	const struct value *to;
	struct src_loc toloc;
	int64_t timeout = XIR_DEFAULT_TIMEOUT_NS;
	uint32_t t;
	size_t i, k, need;

	if (!eval_kw_ok(ev, a, "task", kws))
		return v_err();
	if (a->npos < 1 || a->pos[0].kind != V_STR)
		return eval_error(ev, a->npos ? a->pos_expr[0]->loc : a->loc,
				  "task('name', run(node, 'cmd'), ..., timeout=s(30))",
				  "task() needs a name string first");
	if (!name_ok(ev, VSTR(a->pos[0]), a->pos_expr[0]->loc, "task"))
		return v_err();
	to = eval_kwarg(ev, a, "timeout", &toloc);
	if (to) {
		if ((to->kind != V_INT && to->kind != V_FLOAT) || to->unit != XU_NS)
			return eval_error(ev, toloc, "write timeout=s(30)",
					  "timeout= takes a time, not %s", v_kind_name(to));
		if (to->kind == V_FLOAT && !(fabs(to->f) < 9.2e18))
			return eval_error(ev, toloc, NULL, "timeout= is too large");
		timeout = to->kind == V_INT ? to->i : llround(to->f);
	}
	/* every argument after the name is a run() or a list of them */
	need = sizeof(struct xir_task) + VSTR(a->pos[0])->len;
	for (i = 1; i < a->npos; i++) {
		const struct value *v = &a->pos[i];

		if (v->kind == V_RUN) {
			need += run_bytes(VRUN(*v));
			continue;
		}
		if (v->kind == V_LIST) {
			for (k = 0; k < VLIST(*v)->n; k++) {
				if (VLIST(*v)->v[k].kind != V_RUN)
					return eval_error(ev, a->pos_expr[i]->loc, NULL,
							  "item %zu of this list is %s, not a run() or a step",
							  k, v_kind_name(&VLIST(*v)->v[k]));
				need += run_bytes(VRUN(VLIST(*v)->v[k]));
			}
			continue;
		}
		return eval_error(ev, a->pos_expr[i]->loc, "task('name', run(node, 'cmd'), ...)",
				  "task() takes run() commands and steps, not %s", v_kind_name(v));
	}
	if (!eval_keep(ev, need, a->loc))
		return v_err();
	if (xir_add_task(ev->x, VSTR(a->pos[0])->s, timeout, a->loc, &t))
		return eval_oom(ev, a->loc);
	for (i = 1; i < a->npos; i++) {
		const struct value *v = &a->pos[i];
		int r = 0;

		if (v->kind == V_RUN)
			r = add_run(ev, t, VRUN(*v));
		for (k = 0; v->kind == V_LIST && !r && k < VLIST(*v)->n; k++)
			r = add_run(ev, t, VRUN(VLIST(*v)->v[k]));
		if (r)
			return eval_oom(ev, a->loc);
	}
	return v_none();
}

struct value eval_call_builtin(struct eval *ev, int fn, struct eval_args *a)
{
	switch (fn) {
	case B_RANGE: return fn_range(ev, a);
	case B_LEN: return fn_len(ev, a);
	case B_STR: return fn_str(ev, a);
	case B_INT: return fn_number(ev, a, true);
	case B_FLOAT: return fn_number(ev, a, false);
	case B_RUN: return fn_run(ev, a);
	case B_TASK: return fn_task(ev, a);
	case B_WAIT_UNTIL: case B_LINK_SET: case B_LINK_DOWN: case B_LINK_UP:
	case B_NODE_STOP: case B_NODE_START: return eval_step_call(ev, fn, a);
	case B_FILE: return eval_file_call(ev, a);
	default: return unit_fn(ev, fn, a);
	}
}

int eval_cons_value(const struct vcons *c, struct xir_value *out)
{
	const struct value *v = &c->val;

	memset(out, 0, sizeof(*out));
	switch (v->kind) {
	case V_INT:
		/* a fraction or a factor is a float, as the JSON reader makes it:
		 * loss == 1 reads back the same */
		if (!v->unit && (c->prop->type == XP_FRACTION || c->prop->type == XP_FACTOR))
			*out = (struct xir_value){ .type = XV_FLOAT, .f = (double)v->i };
		else
			*out = (struct xir_value){ .type = XV_INT, .unit = v->unit, .i = v->i };
		return 0;
	case V_FLOAT:
		if (v->unit) {
			if (!(fabs(v->f) < 9.2e18))
				return -ERANGE;
			*out = (struct xir_value){ .type = XV_INT, .unit = v->unit, .i = llround(v->f) };
		} else {
			*out = (struct xir_value){ .type = XV_FLOAT, .f = v->f };
		}
		return 0;
	case V_BOOL:
		*out = (struct xir_value){ .type = XV_BOOL, .b = v->b };
		return 0;
	case V_STR:
		out->type = c->prop->type == XP_ENUM || c->prop->type == XP_SWITCH ? XV_ENUM : XV_STR;
		out->s = strdup(VSTR(*v)->s);
		return out->s ? 0 : -ENOMEM;
	case V_ENUM:
		out->type = XV_ENUM;
		out->s = strdup(v->en->name);
		return out->s ? 0 : -ENOMEM;
	default:
		return -EINVAL;
	}
}

/* Add constraint vc to cs: one XIR constraint, or one per element when
 * its value is a list (a set property: private == ['/a', '/b']). Returns
 * false after an error. */
static bool add_constraint(struct eval *ev, const struct vcons *vc, struct xir_cset *cs)
{
	const struct vlist *l = vc->val.kind == V_LIST ? VLIST(vc->val) : NULL;
	size_t k, n = l ? l->n : 1;

	for (k = 0; k < n; k++) {
		struct vcons one = *vc;
		struct xir_value xv;
		int r;

		if (l)
			one.val = l->v[k];
		if (one.val.kind == V_ERR)
			continue; /* reported where it failed */
		if (l && one.val.kind != V_STR) {
			eval_error(ev, vc->loc, "write private == ['/etc/frr', '/var/lib/frr']",
				   "'%s' takes a list of strings: this one holds %s", vc->prop->name,
				   v_kind_name(&one.val));
			return false;
		}
		if (!eval_keep(ev, sizeof(struct xir_constraint) +
					   (one.val.kind == V_STR ? VSTR(one.val)->len : 0),
			       vc->loc))
			return false;
		r = eval_cons_value(&one, &xv);
		if (r == -ERANGE) {
			eval_error(ev, vc->loc, NULL, "value out of range");
			return false;
		}
		if (r || xir_cset_add(cs, one.prop, one.op, xv, one.loc)) {
			eval_oom(ev, vc->loc);
			return false;
		}
	}
	return true;
}

/* Add the constraints among a's positional arguments from index first on
 * (a constraint, or a list of them) to cs. Returns false after an error. */
static bool add_constraints(struct eval *ev, struct eval_args *a, size_t first, struct xir_cset *cs,
			    const char *fn)
{
	size_t i, k;

	for (i = first; i < a->npos; i++) {
		const struct value *v = &a->pos[i];
		size_t n = v->kind == V_LIST ? VLIST(*v)->n : 1;

		for (k = 0; k < n; k++) {
			const struct value *c = v->kind == V_LIST ? &VLIST(*v)->v[k] : v;

			if (c->kind == V_ERR)
				continue; /* reported where it failed */
			if (c->kind != V_CONS) {
				eval_error(ev, a->pos_expr[i]->loc,
					   "constraints look like cores == 4 or latency == ms(10)",
					   "%s() expects constraints here, not %s", fn, v_kind_name(c));
				return false;
			}
			if (!add_constraint(ev, VCONS(*c), cs))
				return false;
		}
	}
	return true;
}

static struct value topo_device(struct eval *ev, struct eval_args *a)
{
	const struct vstr *name;
	uint32_t idx;

	if (!eval_kw_ok(ev, a, "topo.device", NULL))
		return v_err();
	if (a->npos < 1 || a->pos[0].kind != V_STR)
		return eval_error(ev, a->npos ? a->pos_expr[0]->loc : a->loc,
				  "topo.device('name', cores == 4, ...)",
				  "topo.device() needs a name string first");
	name = VSTR(a->pos[0]);
	if (!name_ok(ev, name, a->pos_expr[0]->loc, "device"))
		return v_err();
	if (!eval_keep(ev, sizeof(struct xir_node) + name->len + 64, a->loc))
		return v_err();
	if (xir_add_node(ev->x, name->s, a->loc, &idx))
		return eval_oom(ev, a->loc);
	if (!add_constraints(ev, a, 1, &ev->x->nodes[idx].cons, "topo.device"))
		return v_err();
	return (struct value){ .kind = V_DEVICE, .idx = idx };
}

static struct value topo_connect(struct eval *ev, struct eval_args *a)
{
	static const char *const kws[] = { "name", NULL };
	const struct value *name, *devs;
	const struct ast_expr *lexpr;
	struct src_loc nameloc;
	uint32_t link;
	size_t i;

	if (!eval_kw_ok(ev, a, "topo.connect", kws))
		return v_err();
	if (a->npos < 1 || a->pos[0].kind != V_LIST)
		return eval_error(ev, a->npos ? a->pos_expr[0]->loc : a->loc,
				  "topo.connect([a, b], latency == ms(1), ...)",
				  "topo.connect() needs a list of devices first");
	devs = &a->pos[0];
	lexpr = a->pos_expr[0];
	for (i = 0; i < VLIST(*devs)->n; i++)
		if (VLIST(*devs)->v[i].kind != V_DEVICE)
			return eval_error(ev, lexpr->kind == E_LIST && lexpr->list.n == VLIST(*devs)->n
						      ? lexpr->list.v[i]->loc : lexpr->loc,
					  NULL, "topo.connect(): item %zu is %s, not a device", i,
					  v_kind_name(&VLIST(*devs)->v[i]));
	name = eval_kwarg(ev, a, "name", &nameloc);
	if (name && name->kind != V_STR)
		return eval_error(ev, nameloc, XIR_NAME_RULE, "name= needs a link name string");
	if (name && !name_ok(ev, VSTR(*name), nameloc, "link"))
		return v_err();
	if (!eval_keep(ev, sizeof(struct xir_link) + VLIST(*devs)->n * sizeof(struct xir_endpoint) + 64,
		       a->loc))
		return v_err();
	if (xir_add_link(ev->x, name ? VSTR(*name)->s : NULL, a->loc, &link))
		return eval_oom(ev, a->loc);
	for (i = 0; i < VLIST(*devs)->n; i++) {
		struct src_loc loc = lexpr->kind == E_LIST && lexpr->list.n == VLIST(*devs)->n
					     ? lexpr->list.v[i]->loc : lexpr->loc;

		if (xir_link_add_endpoint(ev->x, link, VLIST(*devs)->v[i].idx, loc))
			return eval_oom(ev, a->loc);
	}
	if (!add_constraints(ev, a, 1, &ev->x->links[link].cons, "topo.connect"))
		return v_err();
	return (struct value){ .kind = V_LINK, .idx = link };
}

static struct value method_spec(struct eval *ev, struct value self, struct eval_args *a)
{
	struct xir_cset *cs;

	if (!eval_kw_ok(ev, a, "spec", NULL))
		return v_err();
	switch (self.kind) {
	case V_TOPO:
		cs = &ev->x->cons;
		break;
	case V_DEVICE:
		cs = &ev->x->nodes[self.idx].cons;
		break;
	case V_LINK:
		cs = &ev->x->links[self.idx].cons;
		break;
	default: /* V_ENDPOINT */
		cs = &xir_link_endpoint(ev->x, self.idx, self.aux)->cons;
	}
	add_constraints(ev, a, 0, cs, "spec");
	return v_none();
}

static struct value method_append(struct eval *ev, struct value self, struct eval_args *a)
{
	struct vlist *l = VLIST(self);

	if (!eval_argc_ok(ev, a, "append", 1, 1) || !eval_kw_ok(ev, a, "append", NULL))
		return v_err();
	if (l->n >= ev->lim.max_list)
		return eval_error(ev, a->loc, NULL, "list longer than %zu items", ev->lim.max_list);
	if (vheap_list_reserve(&ev->heap, l, l->n + 1))
		return eval_oom(ev, a->loc);
	l->v[l->n++] = v_ref(a->pos[0]);
	return v_none();
}

struct value eval_call_method(struct eval *ev, struct value self, const char *name,
			      struct src_loc nameloc, struct eval_args *a)
{
	bool spec = !strcmp(name, "spec");

	if (self.kind == V_TOPO && !strcmp(name, "device"))
		return topo_device(ev, a);
	if (self.kind == V_TOPO && !strcmp(name, "connect"))
		return topo_connect(ev, a);
	if (spec && (self.kind == V_TOPO || self.kind == V_DEVICE || self.kind == V_LINK ||
		     self.kind == V_ENDPOINT))
		return method_spec(ev, self, a);
	if (self.kind == V_LIST && !strcmp(name, "append"))
		return method_append(ev, self, a);
	if (self.kind == V_TOPO)
		return eval_error(ev, nameloc, "topo has device(), connect() and spec()",
				  "topo has no method '%s'", name);
	return eval_error(ev, nameloc, NULL, "%s has no method '%s'", v_kind_name(&self), name);
}
