/* rz_params: the link emulator's parameters of one direction, assembled
 * from link properties through the property table (xir_prop's emu field).
 * Realization applies a model's constraints with it, vtb link set checks
 * the user's KEY=VALUE words with it and the supervisor applies them with
 * it, so a property and a unit mean the same in all three. */
#ifndef VTB_RZ_PARAMS_H
#define VTB_RZ_PARAMS_H

#include <stddef.h>

#include "emu_dir.h"
#include "xir_prop.h"

/* Parameters under construction: loss and burst are kept apart until the
 * end, because together they make the Gilbert-Elliott model. */
struct rz_params {
	struct emu_params p;
	double loss, burst;
};

/* Start from from's values (NULL: nothing added, no limit). */
void rz_params_init(struct rz_params *b, const struct emu_params *from);

/* Set link property prop to v (base units; unit XU_BYTES marks a queue in
 * bytes). Returns 0, or -EINVAL when prop is not an emulator parameter. */
int rz_params_set(struct rz_params *b, const struct xir_prop *prop, double v, enum xir_unit unit);

/* Set the property named name from text, written as on the command line
 * ("20ms", "1%", "64kb", "100" packets; "off" for no capacity limit or no
 * burst). Returns 0, or -EINVAL with err saying what to give. */
int rz_params_parse(struct rz_params *b, const char *name, const char *text, char *err,
		    size_t errlen);

/* Parse text as a value of the integer property prop the way the model
 * means it (units of xir_value_parse, range of xir_prop_bounds): vtb node
 * set's cores=2, memory=512mb, cpufreq=1.1ghz. Returns 0 with *v in base
 * units, or -EINVAL / -ERANGE with err ("memory=5: give a number with a
 * unit: b kb mb gb tb"). */
int rz_value_parse(const struct xir_prop *prop, const char *text, double *v, char *err,
		   size_t errlen);

/* Finish into *out: loss with burst, then the emulator's own checks.
 * Returns 0, -EDOM for a burst that does not fit the loss (below 1, or with
 * a loss of 1), or -ERANGE for values the emulator refuses. */
int rz_params_finish(struct rz_params *b, struct emu_params *out);


#endif
