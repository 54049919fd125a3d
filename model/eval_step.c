/* eval_step: the task steps beside run(): wait_until(node, 'cmd',
 * timeout=, every=), link_set(link, latency == ms(20), ..., at=),
 * link_down(link, at=), link_up(link, at=), node_stop(node, at=) and
 * node_start(node, at=). Each is a V_RUN value that task() takes and
 * turns into an XIR command of its step (xir.h, enum xir_step). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_int.h"

/* The step of builtin fn. */
static enum xir_step step_of(int fn)
{
	switch (fn) {
	case B_WAIT_UNTIL: return XSTEP_WAIT_UNTIL;
	case B_LINK_SET: return XSTEP_LINK_SET;
	case B_LINK_DOWN: return XSTEP_LINK_DOWN;
	case B_LINK_UP: return XSTEP_LINK_UP;
	case B_NODE_STOP: return XSTEP_NODE_STOP;
	default: return XSTEP_NODE_START;
	}
}

bool eval_time_kw(struct eval *ev, struct eval_args *a, const char *kw, int64_t *ns)
{
	struct src_loc loc;
	const struct value *v = eval_kwarg(ev, a, kw, &loc);

	if (!v)
		return true;
	if (!eval_num(v) || (v->unit != XU_NS && !(v->kind == V_INT && v->i == 0))) {
		eval_error(ev, loc, "write s(2) or ms(200)", "%s= takes a time, not %s", kw,
			   v_kind_name(v));
		return false;
	}
	if (eval_as_f(v) < 0 || !(eval_as_f(v) < 9.2e18)) {
		eval_error(ev, loc, NULL, "%s= must be a time from 0 on", kw);
		return false;
	}
	*ns = v->kind == V_INT ? v->i : llround(v->f);
	return true;
}

/* The device a step's first argument names: a device, or its name as a
 * string (a device declared before the step). False after reporting. */
static bool step_node(struct eval *ev, struct eval_args *a, const char *fn, uint32_t *node)
{
	const struct value *v = &a->pos[0];

	if (v->kind == V_DEVICE) {
		*node = v->idx;
		return true;
	}
	if (v->kind == V_STR) {
		if (xir_find_node(ev->x, VSTR(*v)->s, node))
			return true;
		eval_error(ev, a->pos_expr[0]->loc, "name a device made before this line",
			   "%s(): the model has no device '%s'", fn, VSTR(*v)->s);
		return false;
	}
	eval_error(ev, a->pos_expr[0]->loc, NULL, "%s() needs a device first, not %s", fn,
		   v_kind_name(v));
	return false;
}

/* Check the constraints a link_set gives (arguments 1 on): each a link
 * property with ==, or a list of them, gathered into a new list in *out.
 * False after reporting. */
static bool step_set(struct eval *ev, struct eval_args *a, struct value *out)
{
	struct vlist *l;
	size_t i, k, n = 0;

	for (i = 1; i < a->npos; i++)
		n += a->pos[i].kind == V_LIST ? VLIST(a->pos[i])->n : 1;
	if (!n) {
		eval_error(ev, a->loc, "link_set(l, loss == 1, latency == ms(20), at=s(2))",
			   "link_set() needs the link parameters to set");
		return false;
	}
	*out = v_list(&ev->heap, n);
	if (out->kind == V_ERR) {
		eval_oom(ev, a->loc);
		return false;
	}
	l = VLIST(*out);
	for (i = 1; i < a->npos; i++) {
		const struct value *v = &a->pos[i];
		size_t m = v->kind == V_LIST ? VLIST(*v)->n : 1;

		for (k = 0; k < m; k++) {
			const struct value *c = v->kind == V_LIST ? &VLIST(*v)->v[k] : v;

			if (c->kind == V_ERR)
				return false; /* reported where it failed */
			if (c->kind != V_CONS) {
				eval_error(ev, a->pos_expr[i]->loc, "write loss == 1 or latency == ms(20)",
					   "link_set() takes link parameters, not %s", v_kind_name(c));
				return false;
			}
			l->v[l->n++] = v_ref(*c);
		}
	}
	return true;
}

/* wait_until's command and times into r. False after reporting. */
static bool step_wait(struct eval *ev, struct eval_args *a, struct vrun *r)
{
	if (a->npos != 2 || a->pos[1].kind != V_STR) {
		eval_error(ev, a->npos == 2 ? a->pos_expr[1]->loc : a->loc,
			   "wait_until(r1, 'ip route | grep -q 10.0.2.0', timeout=s(30))",
			   "wait_until() takes a device and a command string");
		return false;
	}
	r->cmd = v_ref(a->pos[1]);
	r->timeout_ns = XIR_WAIT_TIMEOUT_NS;
	r->every_ns = XIR_WAIT_EVERY_NS;
	return eval_time_kw(ev, a, "timeout", &r->timeout_ns) &&
	       eval_time_kw(ev, a, "every", &r->every_ns);
}

struct value eval_step_call(struct eval *ev, int fn, struct eval_args *a)
{
	static const char *const kw_wait[] = { "timeout", "every", NULL };
	static const char *const kw_at[] = { "at", NULL };
	enum xir_step step = step_of(fn);
	const char *name = xir_step_name(step);
	struct vrun *r;
	struct value out;
	bool ok;

	if (!eval_kw_ok(ev, a, name, step == XSTEP_WAIT_UNTIL ? kw_wait : kw_at))
		return v_err();
	if (!eval_argc_ok(ev, a, name, 1, step == XSTEP_LINK_SET ? SIZE_MAX
					   : step == XSTEP_WAIT_UNTIL ? 2 : 1))
		return v_err();
	r = (struct vrun *)vheap_alloc(&ev->heap, V_RUN, sizeof(*r));
	if (!r)
		return eval_oom(ev, a->loc);
	r->step = (uint8_t)step;
	r->cmd = r->expect = r->measure = r->link = r->set = v_none();
	r->loc = a->loc;
	out = (struct value){ .kind = V_RUN, .o = &r->h };
	if (!xir_step_on_link(step)) {
		ok = step_node(ev, a, name, &r->node);
	} else if (a->pos[0].kind == V_LINK || a->pos[0].kind == V_STR) {
		r->link = v_ref(a->pos[0]);
		ok = true;
	} else {
		ok = false;
		eval_error(ev, a->pos_expr[0]->loc, "give the result of topo.connect() or a link's name",
			   "%s() needs a link first, not %s", name, v_kind_name(&a->pos[0]));
	}
	if (ok && step == XSTEP_WAIT_UNTIL)
		ok = step_wait(ev, a, r);
	else if (ok)
		ok = eval_time_kw(ev, a, "at", &r->at_ns);
	if (ok && step == XSTEP_LINK_SET)
		ok = step_set(ev, a, &r->set);
	if (ok)
		return out;
	v_unref(&ev->heap, out);
	return v_err();
}

struct value eval_file_call(struct eval *ev, struct eval_args *a)
{
	uint32_t node;
	size_t i;

	if (!eval_argc_ok(ev, a, "file", 3, 3) || !eval_kw_ok(ev, a, "file", NULL))
		return v_err();
	if (!step_node(ev, a, "file", &node))
		return v_err();
	for (i = 1; i < 3; i++)
		if (a->pos[i].kind != V_STR)
			return eval_error(ev, a->pos_expr[i]->loc,
					  "file(r1, '/etc/bird/bird.conf', 'router id {{ip.eth0}};\\n')",
					  "file() needs a %s string, not %s", i == 1 ? "path" : "text",
					  v_kind_name(&a->pos[i]));
	if (!eval_keep(ev, sizeof(struct xir_file) + VSTR(a->pos[1])->len + VSTR(a->pos[2])->len,
		       a->loc))
		return v_err();
	if (xir_add_file(ev->x, node, VSTR(a->pos[1])->s, VSTR(a->pos[2])->s, a->loc))
		return eval_oom(ev, a->loc);
	return v_none();
}

size_t eval_step_bytes(const struct vrun *r)
{
	size_t need = sizeof(struct xir_command) + 64;

	if (r->cmd.kind == V_STR)
		need += VSTR(r->cmd)->len;
	if (r->link.kind == V_STR)
		need += VSTR(r->link)->len;
	if (r->set.kind == V_LIST)
		need += VLIST(r->set)->n * sizeof(struct xir_constraint);
	return need;
}

int eval_step_add(struct eval *ev, uint32_t task, const struct vrun *r)
{
	struct xir_command c = { .step = (enum xir_step)r->step, .node = r->node,
				 .link_idx = UINT32_MAX, .at_ns = r->at_ns,
				 .timeout_ns = r->timeout_ns, .every_ns = r->every_ns, .loc = r->loc };
	size_t i;
	int e = 0;

	if (r->cmd.kind == V_STR && !(c.cmd = strdup(VSTR(r->cmd)->s)))
		e = -ENOMEM;
	if (r->link.kind == V_LINK)
		c.link_idx = r->link.idx;
	else if (!e && r->link.kind == V_STR && !(c.link = strdup(VSTR(r->link)->s)))
		e = -ENOMEM;
	for (i = 0; !e && r->set.kind == V_LIST && i < VLIST(r->set)->n; i++) {
		const struct vcons *vc = VCONS(VLIST(r->set)->v[i]);
		struct xir_value xv;

		e = eval_cons_value(vc, &xv);
		/* a value of no XIR kind (a list) is refused by the checks */
		if (e == -EINVAL || e == -ERANGE)
			xv = (struct xir_value){ .type = XV_BOOL };
		if (e != -ENOMEM)
			e = xir_cset_add(&c.set, vc->prop, vc->op, xv, vc->loc);
	}
	if (e) {
		free(c.cmd);
		free(c.link);
		xir_cset_free(&c.set);
		return e;
	}
	return xir_task_add_step(ev->x, task, &c);
}
