/* xir_fmt: names, values and constraints formatted for one-line messages:
 * control characters escaped (esc.h: "\n", "\x1b"), long names cut with
 * "...", quantities in the model's own terms (gb(8), ms(10)) when exact. */
#ifndef VTB_XIR_FMT_H
#define VTB_XIR_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "xir.h"

#define XIR_NAME_BUF 72   /* a name as shown: 64 characters and "...", or less when escaped */
#define XIR_LABEL_BUF 200 /* "link 'a-b', endpoint 'x'" */
#define XIR_CONS_BUF 160  /* "memory == gb(8)" */

/* Copy s into dst (cap >= 4), escaped as esc_str does, and a string that
 * does not fit ends in "...". */
void xir_fmt_clean(char *dst, size_t cap, const char *s);
/* A node's name, or "#N" for an index that names no node. */
const char *xir_fmt_node(const struct xir *x, size_t i, char buf[XIR_NAME_BUF]);
/* "link 'a-b'", or "link N" before xir_finish has named it. */
const char *xir_fmt_link(const struct xir *x, size_t li, char buf[XIR_LABEL_BUF]);
/* "link 'a-b', endpoint 'x'" */
const char *xir_fmt_endpoint(const struct xir *x, size_t li, size_t ei, char buf[XIR_LABEL_BUF]);
/* gb(8), ms(10), mbps(100) when exact, else base units with the unit's name. */
void xir_fmt_quantity(char *buf, size_t cap, int64_t v, enum xir_unit u);
void xir_fmt_value(char *buf, size_t cap, const struct xir_value *v);
/* "cores > 8", "image == \"debian\"" */
const char *xir_fmt_cons(char buf[XIR_CONS_BUF], const struct xir_constraint *c);
/* A task step as the model writes it: a run()'s command line as it is;
 * "link_down(r1-r2, at=s(2))", "link_set(r1-r2, loss == 1, at=0)",
 * "wait_until(r1, 'cmd')" for the others. Returns buf. */
const char *xir_fmt_step(const struct xir *x, const struct xir_command *c, char *buf, size_t cap);

#endif
