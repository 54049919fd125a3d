/* value: reference-counted values of the model language. */
#include "value.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vheap_init(struct vheap *h, size_t max_bytes)
{
	memset(h, 0, sizeof(*h));
	h->max_bytes = max_bytes;
}

static void vobj_release(struct vheap *h, struct vobj *o, bool children);

void vheap_free(struct vheap *h)
{
	/* Objects may point at each other (a list holding itself): drop all
	 * without following references. */
	while (h->all)
		vobj_release(h, h->all, false);
}

struct vobj *vheap_alloc(struct vheap *h, uint8_t kind, size_t size)
{
	struct vobj *o;

	if (h->bytes + size > h->max_bytes) {
		h->over = true;
		return NULL;
	}
	o = calloc(1, size);
	if (!o) {
		h->over = h->malloc_failed = true;
		return NULL;
	}
	o->ref = 1;
	o->kind = kind;
	o->bytes = size;
	o->next = h->all;
	if (h->all)
		h->all->prev = o;
	h->all = o;
	h->bytes += size;
	return o;
}

int vheap_list_reserve(struct vheap *h, struct vlist *l, size_t need)
{
	size_t old = l->cap;

	if (need <= l->cap)
		return 0;
	if (need < l->cap * 2)
		need = l->cap * 2;
	if (need < 4)
		need = 4;
	if (h->bytes + (need - old) * sizeof(struct value) > h->max_bytes) {
		h->over = true;
		return -ENOMEM;
	}
	if (util_grow((void **)&l->v, &l->cap, need, sizeof(struct value))) {
		h->over = h->malloc_failed = true;
		return -ENOMEM;
	}
	h->bytes += (l->cap - old) * sizeof(struct value);
	l->h.bytes += (l->cap - old) * sizeof(struct value);
	return 0;
}

struct value v_ref(struct value v)
{
	if (v_is_heap(&v))
		v.o->ref++;
	return v;
}

static void vobj_unlink(struct vheap *h, struct vobj *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		h->all = o->next;
	if (o->next)
		o->next->prev = o->prev;
}

/* Drop a dying object's reference to v; when v dies too, unlink it and
 * push it on *dead (through its next pointer) instead of recursing. */
static void vobj_drop(struct vheap *h, struct value v, struct vobj **dead)
{
	if (v_is_heap(&v) && --v.o->ref == 0) {
		vobj_unlink(h, v.o);
		v.o->next = *dead;
		*dead = v.o;
	}
}

static void vobj_release(struct vheap *h, struct vobj *o, bool children)
{
	struct vobj *dead = o;

	/* a worklist, not recursion: a list nested a million deep must not
	 * overflow the stack when it is freed */
	vobj_unlink(h, o);
	o->next = NULL;
	while (dead) {
		o = dead;
		dead = o->next;
		h->bytes -= o->bytes;
		if (o->kind == V_LIST) {
			struct vlist *l = (struct vlist *)o;
			size_t i;

			if (children)
				for (i = 0; i < l->n; i++)
					vobj_drop(h, l->v[i], &dead);
			free(l->v);
		} else if (o->kind == V_CONS && children) {
			vobj_drop(h, ((struct vcons *)o)->val, &dead);
		} else if (o->kind == V_RUN && children) {
			vobj_drop(h, ((struct vrun *)o)->cmd, &dead);
			vobj_drop(h, ((struct vrun *)o)->expect, &dead);
			vobj_drop(h, ((struct vrun *)o)->measure, &dead);
			vobj_drop(h, ((struct vrun *)o)->link, &dead);
			vobj_drop(h, ((struct vrun *)o)->set, &dead);
		}
		free(o);
	}
}

void v_unref(struct vheap *h, struct value v)
{
	if (v_is_heap(&v) && --v.o->ref == 0)
		vobj_release(h, v.o, true);
}

struct value v_str(struct vheap *h, const char *s, size_t len)
{
	struct vstr *o = (struct vstr *)vheap_alloc(h, V_STR, sizeof(struct vstr) + len + 1);
	struct value v = { .kind = V_STR };

	if (!o)
		return v_err();
	o->len = len;
	memcpy(o->s, s, len);
	o->s[len] = '\0';
	v.o = &o->h;
	return v;
}

struct value v_list(struct vheap *h, size_t cap)
{
	struct vlist *o = (struct vlist *)vheap_alloc(h, V_LIST, sizeof(struct vlist));
	struct value v = { .kind = V_LIST };

	if (!o)
		return v_err();
	v.o = &o->h;
	if (cap && vheap_list_reserve(h, o, cap)) {
		v_unref(h, v);
		return v_err();
	}
	return v;
}

void v_format_float(double f, char *buf, size_t len)
{
	char sci[40];
	int prec, exp;

	if (isnan(f)) {
		snprintf(buf, len, "nan");
		return;
	}
	if (isinf(f)) {
		snprintf(buf, len, f < 0 ? "-inf" : "inf");
		return;
	}
	/* the fewest significant digits that read back, then laid out as
	 * Python's repr does: positional unless the exponent is < -4 or >= 16
	 * (plain %g would print 100.0 as "1e+02") */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec - 1, f);
		if (strtod(sci, NULL) == f)
			break;
	}
	exp = atoi(strchr(sci, 'e') + 1);
	if (exp < -4 || exp >= 16)
		snprintf(buf, len, "%s", sci);
	else
		snprintf(buf, len, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, f);
	if (!strpbrk(buf, ".eni"))
		strncat(buf, ".0", len - strlen(buf) - 1);
}

uint64_t v_range_len(const struct vrange *r)
{
	uint64_t span, step;

	/* in unsigned arithmetic: stop - start overflows int64_t for
	 * range(-2**62 * 3, 2**62 * 3) */
	if (r->step > 0) {
		if (r->start >= r->stop)
			return 0;
		span = (uint64_t)r->stop - (uint64_t)r->start;
		step = (uint64_t)r->step;
	} else {
		if (r->start <= r->stop)
			return 0;
		span = (uint64_t)r->start - (uint64_t)r->stop;
		step = -(uint64_t)r->step;
	}
	return (span - 1) / step + 1;
}

const char *v_kind_name(const struct value *v)
{
	switch (v->kind) {
	case V_NONE: return "None";
	case V_ERR: return "an error";
	case V_INT:
	case V_FLOAT:
		switch (v->unit) {
		case XU_BYTES: return "a size";
		case XU_BPS: return "a rate";
		case XU_NS: return "a time";
		case XU_HZ: return "a frequency";
		default: return v->kind == V_INT ? "an int" : "a float";
		}
	case V_BOOL: return "a boolean";
	case V_STR: return "a string";
	case V_LIST: return "a list";
	case V_RANGE: return "a range";
	case V_DEVICE: return "a device";
	case V_LINK: return "a link";
	case V_ENDPOINT: return "a link endpoint";
	case V_PROP: return "a property";
	case V_ENUM: return "a name";
	case V_CONS: return "a constraint";
	case V_RUN: return "a run() command or step";
	case V_BUILTIN: return "a function";
	case V_TOPO: return "the topology";
	}
	return "a value";
}

bool v_truthy(const struct value *v)
{
	switch (v->kind) {
	case V_NONE: return false;
	case V_BOOL: return v->b;
	case V_INT: return v->i != 0;
	case V_FLOAT: return v->f != 0;
	case V_STR: return VSTR(*v)->len != 0;
	case V_LIST: return VLIST(*v)->n != 0;
	case V_RANGE: {
		const struct vrange *r = VRANGE(*v);

		return r->step > 0 ? r->start < r->stop : r->start > r->stop;
	}
	default: return true;
	}
}

void v_format(const struct xir *x, const struct value *v, bool quote, struct util_buf *b)
{
	char num[64];
	size_t i;

	switch (v->kind) {
	case V_NONE:
		util_buf_puts(b, "None");
		break;
	case V_INT:
		util_buf_printf(b, "%" PRId64, v->i);
		break;
	case V_FLOAT:
		v_format_float(v->f, num, sizeof(num));
		util_buf_puts(b, num);
		break;
	case V_BOOL:
		util_buf_puts(b, v->b ? "true" : "false");
		break;
	case V_STR:
		if (quote)
			util_buf_puts(b, "'");
		util_buf_append(b, VSTR(*v)->s, VSTR(*v)->len);
		if (quote)
			util_buf_puts(b, "'");
		break;
	case V_LIST:
		util_buf_puts(b, "[");
		for (i = 0; i < VLIST(*v)->n && b->len < 4096; i++) {
			if (i)
				util_buf_puts(b, ", ");
			v_format(x, &VLIST(*v)->v[i], true, b);
		}
		if (i < VLIST(*v)->n)
			util_buf_puts(b, ", ...");
		util_buf_puts(b, "]");
		break;
	case V_RANGE:
		util_buf_printf(b, "range(%" PRId64 ", %" PRId64 ", %" PRId64 ")", VRANGE(*v)->start,
				VRANGE(*v)->stop, VRANGE(*v)->step);
		break;
	case V_DEVICE:
		util_buf_puts(b, x->nodes[v->idx].name);
		break;
	case V_LINK:
		util_buf_printf(b, "link %u", v->idx);
		break;
	case V_ENDPOINT:
		util_buf_printf(b, "link %u endpoint %s", v->idx, x->nodes[v->aux].name);
		break;
	case V_PROP:
		util_buf_puts(b, v->prop->name);
		break;
	case V_ENUM:
		util_buf_puts(b, v->en->name);
		break;
	case V_CONS:
		util_buf_printf(b, "%s %s ", VCONS(*v)->prop->name, xir_op_str(VCONS(*v)->op));
		v_format(x, &VCONS(*v)->val, true, b);
		break;
	case V_RUN:
		util_buf_printf(b, "%s(", xir_step_name(VRUN(*v)->step));
		if (xir_step_on_link(VRUN(*v)->step))
			v_format(x, &VRUN(*v)->link, true, b);
		else
			util_buf_puts(b, x->nodes[VRUN(*v)->node].name);
		if (VRUN(*v)->cmd.kind == V_STR) {
			util_buf_puts(b, ", ");
			v_format(x, &VRUN(*v)->cmd, true, b);
		}
		util_buf_puts(b, ")");
		break;
	default:
		util_buf_puts(b, v_kind_name(v));
	}
}
