/* rz_params: link properties into the link emulator's parameters. */
#include "rz_params.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "xir_fmt.h"

void rz_params_init(struct rz_params *b, const struct emu_params *from)
{
	memset(b, 0, sizeof(*b));
	if (!from)
		return;
	b->p = *from;
	b->loss = emu_params_loss(from);
	b->burst = emu_params_burst(from);
}

int rz_params_set(struct rz_params *b, const struct xir_prop *prop, double v, enum xir_unit unit)
{
	char *field = (char *)&b->p + prop->emu.off;

	switch (prop->emu.kind) {
	case XE_I64:
		*(int64_t *)field = v >= 9.2e18 ? INT64_MAX : (int64_t)llround(v);
		return 0;
	case XE_U64:
		*(uint64_t *)field = v >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(v);
		return 0;
	case XE_F64:
		*(double *)field = v;
		return 0;
	case XE_QUEUE:
		if (unit == XU_BYTES)
			b->p.queue_bytes = v >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(v);
		else
			b->p.queue_pkts = v > UINT32_MAX ? UINT32_MAX : (uint32_t)llround(v);
		return 0;
	case XE_LOSS:
		b->loss = v;
		return 0;
	case XE_BURST:
		b->burst = v;
		return 0;
	default:
		return -EINVAL;
	}
}

/* What to write for a value of type t, for error messages. */
static const char *value_hint(const struct xir_prop *prop, char *buf, size_t len)
{
	char units[64];

	switch (prop->type) {
	case XP_FRACTION:
		return "a fraction from 0 to 1, such as 0.01 or 1%";
	case XP_FACTOR:
		return "the mean loss burst in frames (1 or more), or off";
	case XP_QUEUE:
		snprintf(buf, len, "packets (100) or bytes with a unit: %s (64kb)",
			 xir_unit_fn_names(XU_BYTES, units, sizeof(units)));
		return buf;
	default:
		snprintf(buf, len, "a number with a unit: %s%s",
			 xir_unit_fn_names(xir_ptype_unit(prop->type), units, sizeof(units)),
			 prop->emu.upper ? ", or off" : "");
		return buf;
	}
}

/* Whether an integer property's value v (in unit) is in the range the model
 * allows it (xir_prop_bounds); false with err naming the value when not.
 * Fractions and factors were checked by their parser. */
static bool in_bounds(const struct xir_prop *prop, double v, enum xir_unit unit, const char *text,
		      char *err, size_t errlen)
{
	char lo[48], hi[48];
	int64_t min, max;

	if (prop->type == XP_FRACTION || prop->type == XP_FACTOR)
		return true;
	xir_prop_bounds(prop, unit, &min, &max);
	if (v >= (double)min && v <= (double)max)
		return true;
	xir_fmt_quantity(lo, sizeof(lo), min, unit);
	xir_fmt_quantity(hi, sizeof(hi), max, unit);
	if (max == INT64_MAX)
		util_fmt(err, errlen, "%s=%s: %s must be at least %s%s", prop->name, text, prop->name,
			 lo, prop->emu.upper ? " (off: no limit)" : "");
	else
		util_fmt(err, errlen, "%s=%s: %s must be between %s and %s", prop->name, text,
			 prop->name, lo, hi);
	return false;
}

int rz_params_parse(struct rz_params *b, const char *name, const char *text, char *err,
		    size_t errlen)
{
	const struct xir_prop *prop = xir_prop_find(name);
	enum xir_unit unit = XU_NONE;
	char names[128], hint[160];
	double v = 0;
	int r;

	if (!prop || prop->emu.kind == XE_NONE) {
		if (prop && prop->scope & XS_LINK)
			util_fmt(err, errlen, "%s=%s: %s cannot change while the link is up", name,
				 text, name);
		else
			util_fmt(err, errlen, "%s=%s: unknown property '%s' (%s)", name, text, name,
				 xir_prop_emu_names(names, sizeof(names)));
		return -EINVAL;
	}
	/* off: no limit (capacity, queue: the default) or Bernoulli loss (burst) */
	if (!strcmp(text, "off") && (prop->emu.upper || prop->emu.kind == XE_BURST))
		r = 0;
	else
		r = xir_value_parse(text, prop->type, &v, &unit);
	if (!r && prop->emu.kind == XE_BURST && v != 0 && v < 1)
		r = -ERANGE;
	if (!r && prop->emu.kind == XE_QUEUE && v != 0 && v < 1)
		r = -ERANGE;
	if (r) {
		util_fmt(err, errlen, "%s=%s: %sgive %s", name, text,
			 r == -ERANGE ? "out of range: " : "", value_hint(prop, hint, sizeof(hint)));
		return -EINVAL;
	}
	if (strcmp(text, "off") && !in_bounds(prop, v, unit, text, err, errlen))
		return -ERANGE;
	return rz_params_set(b, prop, v, unit);
}

/* See rz_params.h: the command line's value of any integer property. */
int rz_value_parse(const struct xir_prop *prop, const char *text, double *v, char *err,
		   size_t errlen)
{
	enum xir_unit unit = XU_NONE;
	char hint[160];
	int r = xir_value_parse(text, prop->type, v, &unit);

	if (r) {
		util_fmt(err, errlen, "%s=%s: %sgive %s", prop->name, text,
			 r == -ERANGE ? "out of range: " : "", value_hint(prop, hint, sizeof(hint)));
		return -EINVAL;
	}
	return in_bounds(prop, *v, unit, text, err, errlen) ? 0 : -ERANGE;
}

int rz_params_finish(struct rz_params *b, struct emu_params *out)
{
	if (emu_params_set_loss(&b->p, b->loss, b->burst))
		return -EDOM;
	if (emu_params_check(&b->p))
		return -ERANGE;
	*out = b->p;
	return 0;
}

