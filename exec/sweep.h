/* sweep: vtb run's --sweep axes (LINK.PARAM=V1,V2,...) and the link
 * changes they make between runs. A value goes to the supervisor the way
 * vtb link set sends it (the "link_set" request, checked first with
 * rz_params, the same table and parser the supervisor applies it with);
 * restoring a link's model parameters goes the same way. */
#ifndef VTB_SWEEP_H
#define VTB_SWEEP_H

#include <stddef.h>

struct xir;
struct realization;

/* One --sweep: a parameter of an emulated link and its values. */
struct sweep_axis {
	char *label;   /* as written before '=': "r1-r2.latency" */
	char *link;    /* the link's name in the model */
	char *param;   /* "latency" */
	char **vals;   /* "1ms", "10ms": as written, each checked */
	size_t nvals;
};

/* The most runs a sweep (combinations times repetitions) may ask for. */
#define SWEEP_MAX_RUNS 1000000L

/* Parse spec ("LINK.PARAM=V1,V2,...": LINK a link's name or A-B, the
 * devices it joins) against the model x as realized in rz. Returns 0 with
 * *ax filled (release with sweep_axis_free), or -EINVAL / -ENOENT /
 * -ERANGE with err naming what is wrong (the syntax, the link, the
 * parameter or the value). */
int sweep_parse(const struct xir *x, const struct realization *rz, const char *spec,
		struct sweep_axis *ax, char *err, size_t errlen);
void sweep_axis_free(struct sweep_axis *ax);

/* The number of combinations of the n axes (1 when n is 0), or 0 when it
 * exceeds SWEEP_MAX_RUNS. */
long sweep_count(const struct sweep_axis *ax, size_t n);
/* The value index of each axis for combination k (0 <= k < sweep_count),
 * the last axis changing fastest, into idx[0..n). */
void sweep_pick(const struct sweep_axis *ax, size_t n, long k, size_t *idx);

/* Set param to val on every direction of link of experiment id, through
 * the supervisor (vtb link set's request). Returns 0, or a negative errno
 * with err saying why (the supervisor's words when it refused). */
int sweep_link_set(const char *id, const char *link, const char *param, const char *val,
		   char *err, size_t errlen);

struct xir_cset;
/* Set every parameter of cs (link properties with ==, as a link_set task
 * step gives them) on every direction of link of experiment id (only the
 * one leaving node from, when not NULL), in one request to the supervisor
 * (vtb link set's). Returns 0, or a negative errno with err saying why. */
int sweep_link_set_cset(const char *id, const char *link, const char *from,
			const struct xir_cset *cs, char *err, size_t errlen);

/* Give every emulated link of experiment id (model x realized as rz) the
 * parameters the model gave each of its directions, through the
 * supervisor. Returns 0 or a negative errno with err naming the link. */
int sweep_restore(const char *id, const struct xir *x, const struct realization *rz, char *err,
		  size_t errlen);

struct emu_params;
/* The emulator parameters p as the KEY=VALUE texts vtb link set takes,
 * one set_one(name, text, arg) call per parameter in order (the queue
 * twice when it has a byte bound: its packets, then its bytes); stops at
 * the first call that does not return 0 and returns it. A byte bound that
 * vtb link set gave a queue the model bounds in packets only stays: vtb
 * link set has no word that removes it. */
int sweep_params_texts(const struct emu_params *p,
		       int (*set_one)(const char *name, const char *text, void *arg), void *arg);

#endif
