/* check_tasks: check_tasks (commands on known devices, valid expect
 * regexes, timeouts above 0) and check_virt (a device that may not be a VM
 * but needs one). */
#include "check_int.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True for NULL or a string of only white space. */
static bool blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* The longest name of a measurement: it is a column of vtb results and a
 * key of the state database's run_values (struct db_value's name). */
#define CHECK_MEASURE_NAME_MAX 63

/* Whether s is a measurement's name: letters, digits, '_', '.' and '-',
 * starting with a letter, at most CHECK_MEASURE_NAME_MAX bytes. */
static bool measure_name_ok(const char *s)
{
	size_t i;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (i = 0; s[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
			return false;
	return i <= CHECK_MEASURE_NAME_MAX;
}

/* Measurement k of command j: a name once, a regex with a group. */
static void check_measure(const char *tl, const struct xir_command *c, size_t j, size_t k,
			  struct src_loc loc, struct diag_list *d)
{
	const struct xir_measure *m = &c->measure[k];
	char name[XIR_NAME_BUF], re_s[XIR_NAME_BUF], err[160];
	regex_t re;
	size_t i;
	int r;

	xir_fmt_clean(name, sizeof(name), m->name);
	if (!measure_name_ok(m->name))
		diag_error(d, loc, "a letter, then letters, digits, '_', '.' or '-' (63 at most)",
			   "%s: command %zu: '%s' is not a valid measurement name", tl, j + 1, name);
	for (i = 0; i < k; i++)
		if (!strcmp(c->measure[i].name, m->name))
			diag_error(d, loc, NULL, "%s: command %zu measures '%s' twice", tl, j + 1, name);
	xir_fmt_clean(re_s, sizeof(re_s), m->re);
	r = regcomp(&re, m->re, REG_EXTENDED);
	if (r) {
		regerror(r, &re, err, sizeof(err));
		diag_error(d, loc, "measure takes a POSIX extended regular expression",
			   "%s: command %zu: measure '%s': \"%s\" is not a valid regular expression: %s",
			   tl, j + 1, name, re_s, err);
		return;
	}
	if (!re.re_nsub)
		diag_error(d, loc, "put the number in a group: 'time=([0-9.]+) ms'",
			   "%s: command %zu: measure '%s': \"%s\" has no group to take the value from",
			   tl, j + 1, name, re_s);
	regfree(&re);
}

/* The index of the link named name, or -1. */
static long check_find_link(const struct xir *x, const char *name)
{
	size_t i;

	for (i = 0; name && i < x->nlinks; i++)
		if (x->links[i].name && !strcmp(x->links[i].name, name))
			return (long)i;
	return -1;
}

/* The parameters of link_set c (step j of task tl): link properties the
 * emulator changes (the table vtb link set uses), each with ==, each
 * value of the property's type, unit and range. */
static void check_link_set(const char *tl, const struct xir_command *c, size_t j,
			   struct src_loc loc, struct diag_list *d)
{
	char names[160], cs[XIR_CONS_BUF];
	struct problem p;
	size_t i;

	xir_prop_emu_names(names, sizeof(names));
	for (i = 0; i < c->set.n && !diag_full(d); i++) {
		const struct xir_constraint *k = &c->set.v[i];
		struct src_loc at = check_pick_loc(k->loc, loc);

		if (!k->prop)
			continue;
		if (k->prop->emu.kind == XE_NONE)
			diag_error(d, at, names, "%s: step %zu: link_set cannot change '%s': it is not "
				   "a parameter of the link emulator", tl, j + 1, k->prop->name);
		else if (check_cons_problem(XS_LINK, k, &p))
			diag_error(d, at, p.hint[0] ? p.hint : NULL, "%s: step %zu: %s", tl, j + 1,
				   p.msg);
		else if (k->op != XIR_EQ)
			diag_error(d, at, "link_set sets a value: write ==", "%s: step %zu: %s is not a "
				   "value to set", tl, j + 1, xir_fmt_cons(cs, k));
	}
}

/* A step other than run() (j of task t): its link or device exists, its
 * times fit, a link_set's parameters are link parameters. */
static void check_step(const struct xir *x, const char *tl, const struct xir_task *t, size_t j,
		       struct src_loc loc, struct diag_list *d)
{
	const struct xir_command *c = &t->cmd[j];
	const char *name = xir_step_name(c->step);
	char n[XIR_NAME_BUF], at[48], tmo[48];

	if (xir_step_on_link(c->step) && check_find_link(x, c->link) < 0) {
		xir_fmt_clean(n, sizeof(n), c->link ? c->link : "?");
		diag_error(d, loc, "give the result of topo.connect() or a link's name (vtb compile "
			   "lists them)", "%s: step %zu: %s: the model has no link '%s'", tl, j + 1,
			   name, n);
		return;
	}
	if (!xir_step_on_link(c->step) && c->node >= x->nnodes) {
		diag_error(d, loc, NULL, "%s: step %zu names no device (index %u)", tl, j + 1, c->node);
		return;
	}
	if (c->step == XSTEP_LINK_SET)
		check_link_set(tl, c, j, loc, d);
	if (c->step == XSTEP_WAIT_UNTIL) {
		if (blank(c->cmd))
			diag_error(d, loc, "give wait_until() a command line",
				   "%s: step %zu: the command is empty", tl, j + 1);
		if (c->timeout_ns <= 0 || c->every_ns <= 0)
			diag_error(d, loc, "write timeout=s(30), every=ms(200)",
				   "%s: step %zu: wait_until's timeout and every must be above 0", tl,
				   j + 1);
	}
	if (xir_step_on_host(c->step) && t->timeout_ns > 0 && c->at_ns >= t->timeout_ns) {
		xir_fmt_quantity(at, sizeof(at), c->at_ns, XU_NS);
		xir_fmt_quantity(tmo, sizeof(tmo), t->timeout_ns, XU_NS);
		diag_error(d, loc, "give the task a longer timeout=, or the step an earlier at=",
			   "%s: step %zu: %s at=%s is not before the task's timeout of %s", tl, j + 1,
			   name, at, tmo);
	}
}

/* One command of a task: a device that exists, a command, valid regexes. */
static void check_command(const struct xir *x, const char *tl, const struct xir_task *t, size_t j,
			  struct diag_list *d)
{
	const struct xir_command *c = &t->cmd[j];
	struct src_loc loc = check_pick_loc(c->loc, t->loc);
	char n[XIR_NAME_BUF], re_s[XIR_NAME_BUF], err[160];
	regex_t re;
	size_t k;
	int r;

	if (c->step != XSTEP_RUN) {
		check_step(x, tl, t, j, loc, d);
		return;
	}
	if (c->node >= x->nnodes) {
		diag_error(d, loc, NULL, "%s: command %zu names no device (index %u)", tl, j + 1,
			   c->node);
		return;
	}
	xir_fmt_node(x, c->node, n);
	if (blank(c->cmd))
		diag_error(d, loc, "give run() a command line", "%s: command %zu on '%s' is empty", tl,
			   j + 1, n);
	for (k = 0; k < c->nmeasure; k++)
		check_measure(tl, c, j, k, loc, d);
	if (!c->expect)
		return;
	r = regcomp(&re, c->expect, REG_EXTENDED | REG_NOSUB);
	if (!r) {
		regfree(&re);
		return;
	}
	regerror(r, &re, err, sizeof(err));
	xir_fmt_clean(re_s, sizeof(re_s), c->expect);
	diag_error(d, loc, "expect takes a POSIX extended regular expression",
		   "%s: command %zu on '%s': expect \"%s\" is not a valid regular expression: %s",
		   tl, j + 1, n, re_s, err);
}

/* Every task has commands, a positive timeout, and well-formed commands. */
void check_tasks(const struct xir *x, struct diag_list *d)
{
	char tl[XIR_LABEL_BUF], n[XIR_NAME_BUF], tmo[48];
	size_t i, j;

	for (i = 0; i < x->ntasks && !diag_full(d); i++) {
		const struct xir_task *t = &x->tasks[i];

		xir_fmt_clean(n, sizeof(n), t->name);
		snprintf(tl, sizeof(tl), "task '%s'", n);
		if (!t->ncmd)
			diag_error(d, t->loc, "add run(device, 'command') to it",
				   "%s: it has no commands", tl);
		if (t->timeout_ns <= 0) {
			xir_fmt_quantity(tmo, sizeof(tmo), t->timeout_ns, XU_NS);
			diag_error(d, t->loc, "write timeout=s(30), for example",
				   "%s: the timeout must be positive, not %s", tl, tmo);
		}
		for (j = 0; j < t->ncmd && !diag_full(d); j++)
			check_command(x, tl, t, j, d);
	}
}

/* ---- check_virt ---- */

/* The node's virt == false, or NULL. */
static const struct xir_constraint *virt_false(const struct xir_node *nd)
{
	size_t i;

	for (i = 0; i < nd->cons.n; i++) {
		const struct xir_constraint *c = &nd->cons.v[i];

		if (c->prop && !strcmp(c->prop->name, "virt") && c->op == XIR_EQ &&
		    c->value.type == XV_BOOL && !c->value.b)
			return c;
	}
	return NULL;
}

/* The first constraint of cs that needs a VM, or NULL. */
static const struct xir_constraint *cset_needs_vm(const struct xir_cset *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (cs->v[i].prop && xir_constraint_needs_vm(&cs->v[i]))
			return &cs->v[i];
	return NULL;
}

/* At the virt == false: "but <why><where> needs a VM". */
static void report_virt(const struct xir *x, size_t node, const struct xir_constraint *vf,
			const struct xir_constraint *why, const char *where, struct diag_list *d)
{
	char n[XIR_NAME_BUF], w[XIR_CONS_BUF];

	diag_error(d, check_pick_loc(vf->loc, x->nodes[node].loc),
		   "only a VM can meet that: remove virt == false or the other constraint",
		   "device '%s': virt == false, but %s%s needs a VM", xir_fmt_node(x, node, n),
		   xir_fmt_cons(w, why), where);
}

/* virt == false on a node that needs a VM for another constraint, on the
 * node itself or on one of its endpoints. O(nodes + endpoints). */
void check_virt(const struct xir *x, struct diag_list *d)
{
	const struct xir_constraint **vf;
	const struct xir_constraint *why;
	char l[XIR_LABEL_BUF], where[XIR_LABEL_BUF + 8];
	size_t i, j, count = 0;

	if (!x->nnodes || diag_full(d))
		return;
	vf = calloc(x->nnodes, sizeof(*vf));
	if (!vf) {
		d->oom = true;
		return;
	}
	for (i = 0; i < x->nnodes && !diag_full(d); i++) {
		vf[i] = virt_false(&x->nodes[i]);
		if (!vf[i])
			continue;
		why = cset_needs_vm(&x->nodes[i].cons);
		if (why) {
			report_virt(x, i, vf[i], why, "", d);
			vf[i] = NULL; /* reported once */
		} else {
			count++;
		}
	}
	for (i = 0; i < x->nlinks && count && !diag_full(d); i++)
		for (j = 0; j < x->links[i].nep; j++) {
			const struct xir_endpoint *e = &x->links[i].ep[j];

			if (e->node >= x->nnodes || !vf[e->node])
				continue;
			why = cset_needs_vm(&e->cons);
			if (!why)
				continue;
			snprintf(where, sizeof(where), " on %s", xir_fmt_link(x, i, l));
			report_virt(x, e->node, vf[e->node], why, where, d);
			vf[e->node] = NULL;
			count--;
		}
	free(vf);
}
