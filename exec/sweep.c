/* sweep: --sweep axes and the link changes between runs (sweep.h). */
#include "sweep.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_dir.h"
#include "realize.h"
#include "rz_params.h"
#include "supervisor.h"
#include "util.h"
#include "xir.h"
#include "xir_fmt.h"

/* How long the supervisor may take to apply a change: it does so between
 * two batches of frames, well under a millisecond, unless it is stuck;
 * generous because the experiment itself may load the machine (the same
 * bound as vtb link set's). */
#define SWEEP_SET_TIMEOUT_MS 5000

/* Whether link li of x joins devices a and b (a != b). */
static bool sweep_link_joins(const struct xir *x, size_t li, const char *a, const char *b)
{
	const struct xir_link *l = &x->links[li];
	bool ha = false, hb = false;
	size_t j;

	for (j = 0; j < l->nep; j++) {
		ha = ha || !strcmp(x->nodes[l->ep[j].node].name, a);
		hb = hb || !strcmp(x->nodes[l->ep[j].node].name, b);
	}
	return ha && hb && strcmp(a, b);
}

/* The emulated link named name, or joining A and B when name is "A-B"
 * (split at any '-' that gives two devices). Returns its index, -ENOENT
 * when none, -EEXIST when A-B names several, -EPERM when the link named
 * is not emulated. */
static long sweep_find_link(const struct xir *x, const struct realization *rz, const char *name)
{
	const char *dash;
	long found = -1;
	size_t i;

	for (i = 0; i < x->nlinks; i++)
		if (x->links[i].name && !strcmp(x->links[i].name, name))
			return rz->links[i].emulated ? (long)i : -EPERM;
	for (dash = strchr(name, '-'); dash; dash = strchr(dash + 1, '-')) {
		char a[XIR_NAME_BUF];
		size_t alen = (size_t)(dash - name);

		if (alen >= sizeof(a))
			break;
		memcpy(a, name, alen);
		a[alen] = '\0';
		for (i = 0; i < x->nlinks; i++) {
			if (!rz->links[i].emulated || !sweep_link_joins(x, i, a, dash + 1))
				continue;
			if (found >= 0 && (size_t)found != i)
				return -EEXIST;
			found = (long)i;
		}
	}
	return found >= 0 ? found : -ENOENT;
}

/* Split "V1,V2,..." into ax->vals, each checked as a value of ax->param.
 * Returns 0 or a negative errno with err. */
static int sweep_parse_values(struct sweep_axis *ax, const char *list, char *err, size_t errlen)
{
	const char *p = list;
	struct rz_params check;
	int r;

	rz_params_init(&check, NULL);
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char **vals;

		if (!len) {
			util_fmt(err, errlen, "%s: an empty value in '%s' (give V1,V2,...)", ax->label,
				 list);
			return -EINVAL;
		}
		vals = realloc(ax->vals, (ax->nvals + 1) * sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		ax->vals = vals;
		vals[ax->nvals] = strndup(p, len);
		if (!vals[ax->nvals])
			return -ENOMEM;
		r = rz_params_parse(&check, ax->param, vals[ax->nvals++], err, errlen);
		if (r)
			return r;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* See sweep.h. */
int sweep_parse(const struct xir *x, const struct realization *rz, const char *spec,
		struct sweep_axis *ax, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '='), *dot;
	long li;
	int r = -ENOMEM;

	memset(ax, 0, sizeof(*ax));
	dot = eq ? memrchr(spec, '.', (size_t)(eq - spec)) : NULL;
	if (!eq || !dot || dot == spec || dot + 1 == eq || !eq[1]) {
		util_fmt(err, errlen, "'%s' is not LINK.PARAM=V1,V2,... (such as "
			 "r1-r2.latency=1ms,10ms)", spec);
		return -EINVAL;
	}
	ax->label = strndup(spec, (size_t)(eq - spec));
	ax->link = strndup(spec, (size_t)(dot - spec));
	ax->param = strndup(dot + 1, (size_t)(eq - dot - 1));
	if (!ax->label || !ax->link || !ax->param)
		goto out_free;
	li = sweep_find_link(x, rz, ax->link);
	if (li < 0) {
		r = li == -EPERM ? -EINVAL : (int)li;
		if (li == -EEXIST)
			util_fmt(err, errlen, "%s: '%s' joins devices with several emulated links: "
				 "name one (vtb status)", ax->label, ax->link);
		else if (li == -EPERM)
			util_fmt(err, errlen, "%s: link '%s' is not emulated: give it a link property "
				 "such as latency in the model to change it between runs", ax->label,
				 ax->link);
		else
			util_fmt(err, errlen, "%s: the model has no emulated link '%s' (a link's "
				 "name, or A-B for the devices it joins)", ax->label, ax->link);
		goto out_free;
	}
	free(ax->link);
	ax->link = strdup(x->links[li].name);
	if (!ax->link)
		goto out_free;
	r = sweep_parse_values(ax, eq + 1, err, errlen);
	if (!r)
		return 0;
out_free:
	if (r == -ENOMEM)
		util_fmt(err, errlen, "%s", strerror(ENOMEM));
	sweep_axis_free(ax);
	return r;
}

void sweep_axis_free(struct sweep_axis *ax)
{
	size_t i;

	if (!ax)
		return;
	for (i = 0; i < ax->nvals; i++)
		free(ax->vals[i]);
	free(ax->vals);
	free(ax->label);
	free(ax->link);
	free(ax->param);
	memset(ax, 0, sizeof(*ax));
}

long sweep_count(const struct sweep_axis *ax, size_t n)
{
	long k = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ax[i].nvals || (long)ax[i].nvals > SWEEP_MAX_RUNS / k)
			return 0;
		k *= (long)ax[i].nvals;
	}
	return k;
}

void sweep_pick(const struct sweep_axis *ax, size_t n, long k, size_t *idx)
{
	size_t i;

	for (i = n; i-- > 0;) {
		idx[i] = (size_t)(k % (long)ax[i].nvals);
		k /= (long)ax[i].nvals;
	}
}

/* Send vtb link set's request {"op": "link_set", "link", "from", "set"}
 * to the supervisor of id. Returns 0 or a negative errno with err. */
static int sweep_send(const char *id, const char *link, const char *from, json_t *set, char *err,
		      size_t errlen)
{
	json_t *req, *reply = NULL;
	const char *m;
	int r;

	req = json_pack("{s:s,s:s,s:O}", "op", "link_set", "link", link, "set", set);
	if (!req)
		return -ENOMEM;
	if (from && json_object_set_new(req, "from", json_string(from))) {
		json_decref(req);
		return -ENOMEM;
	}
	r = sup_call(id, req, SWEEP_SET_TIMEOUT_MS, &reply);
	if (r) {
		util_fmt(err, errlen, "link '%s': cannot reach the supervisor: %s", link, strerror(-r));
	} else if (!json_is_true(json_object_get(reply, "ok"))) {
		m = json_string_value(json_object_get(reply, "error"));
		util_fmt(err, errlen, "link '%s': %s", link, m ? m : "refused");
		r = -EINVAL;
	}
	json_decref(reply);
	json_decref(req);
	return r;
}

int sweep_link_set(const char *id, const char *link, const char *param, const char *val,
		   char *err, size_t errlen)
{
	json_t *set = json_pack("{s:s}", param, val);
	int r;

	if (!set)
		return -ENOMEM;
	r = sweep_send(id, link, NULL, set, err, errlen);
	json_decref(set);
	return r;
}

/* forward: below */
static void sweep_fmt_units(char *buf, size_t len, double v, enum xir_unit u);

int sweep_link_set_cset(const char *id, const char *link, const char *from,
			const struct xir_cset *cs, char *err, size_t errlen)
{
	json_t *set = json_object();
	char text[64];
	size_t i;
	int r = set ? 0 : -ENOMEM;

	for (i = 0; !r && i < cs->n; i++) {
		const struct xir_value *v = &cs->v[i].value;

		/* a queue in packets is a plain number, in bytes a size */
		sweep_fmt_units(text, sizeof(text), v->type == XV_INT ? (double)v->i : v->f,
				v->type == XV_INT ? v->unit : XU_NONE);
		r = json_object_set_new(set, cs->v[i].prop->name, json_string(text)) ? -ENOMEM : 0;
	}
	if (!r)
		r = sweep_send(id, link, from, set, err, errlen);
	else
		util_fmt(err, errlen, "%s", strerror(ENOMEM));
	json_decref(set);
	return r;
}

/* A number of base units v as vtb link set's text in unit u: the smallest
 * unit function of u, so any integer value goes back exactly. */
static void sweep_fmt_units(char *buf, size_t len, double v, enum xir_unit u)
{
	const struct xir_unit_fn *f, *best = NULL;
	size_t i;

	for (i = 0; (f = xir_unit_fn_at(i)); i++)
		if (f->unit == u && (!best || f->scale < best->scale))
			best = f;
	if (best && v != 0)
		snprintf(buf, len, "%.17g%s", v / best->scale, best->name);
	else
		snprintf(buf, len, "%.17g", v);
}

/* The text of emulator parameter prop in p. */
static void sweep_param_text(const struct emu_params *p, const struct xir_prop *prop, char *buf,
			     size_t len)
{
	const char *field = (const char *)p + prop->emu.off;
	enum xir_unit u = xir_ptype_unit(prop->type);
	double v = 0;

	switch (prop->emu.kind) {
	case XE_I64:
		v = (double)*(const int64_t *)field;
		break;
	case XE_U64:
		v = (double)*(const uint64_t *)field;
		break;
	case XE_F64:
		v = *(const double *)field;
		break;
	case XE_LOSS:
		v = emu_params_loss(p);
		break;
	case XE_BURST:
		v = emu_params_burst(p);
		break;
	case XE_QUEUE:
		v = (double)p->queue_pkts;
		u = XU_NONE;
		break;
	default:
		break;
	}
	if (v == 0 && (prop->emu.upper || prop->emu.kind == XE_BURST || prop->emu.kind == XE_QUEUE))
		snprintf(buf, len, "off");
	else if (v >= 1.8e19 && prop->emu.upper)
		snprintf(buf, len, "off");
	else
		sweep_fmt_units(buf, len, v, u);
}

int sweep_params_texts(const struct emu_params *p,
		       int (*set_one)(const char *name, const char *text, void *arg), void *arg)
{
	const struct xir_prop *prop;
	char text[64];
	size_t i;
	int r;

	for (i = 0; (prop = xir_prop_at(i)); i++) {
		if (prop->emu.kind == XE_NONE)
			continue;
		sweep_param_text(p, prop, text, sizeof(text));
		r = set_one(prop->name, text, arg);
		/* a queue has a packet bound and a byte bound: the bytes after */
		if (!r && prop->emu.kind == XE_QUEUE && p->queue_bytes) {
			sweep_fmt_units(text, sizeof(text), (double)p->queue_bytes, XU_BYTES);
			r = set_one(prop->name, text, arg);
		}
		if (r)
			return r;
	}
	return 0;
}

/* sweep_params_texts' callback: name: text into the JSON object arg[0],
 * or arg[1] when arg[0] has name already (a queue's byte bound). */
static int sweep_set_json(const char *name, const char *text, void *arg)
{
	json_t **set = arg, *into = json_object_get(set[0], name) ? set[1] : set[0];

	return json_object_set_new(into, name, json_string(text)) ? -ENOMEM : 0;
}

int sweep_restore(const char *id, const struct xir *x, const struct realization *rz, char *err,
		  size_t errlen)
{
	size_t i, j;
	int r = 0;

	for (i = 0; !r && i < x->nlinks; i++) {
		if (!rz->links[i].emulated)
			continue;
		for (j = 0; !r && j < x->links[i].nep; j++) {
			const char *from = x->nodes[x->links[i].ep[j].node].name;
			json_t *set[2] = { json_object(), json_object() };

			r = set[0] && set[1] ? sweep_params_texts(&rz->links[i].dir[j], sweep_set_json, set)
					     : -ENOMEM;
			if (!r)
				r = sweep_send(id, x->links[i].name, from, set[0], err, errlen);
			if (!r && json_object_size(set[1]))
				r = sweep_send(id, x->links[i].name, from, set[1], err, errlen);
			json_decref(set[0]);
			json_decref(set[1]);
		}
	}
	if (r == -ENOMEM)
		util_fmt(err, errlen, "%s", strerror(ENOMEM));
	return r;
}
