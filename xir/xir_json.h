/* xir_json: the JSON form of the XIR (docs/xir.md), written and read with
 * jansson. Writing, reading and writing again gives the same document. */
#ifndef VTB_XIR_JSON_H
#define VTB_XIR_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "xir.h"

/* Write x as an indented JSON document followed by a newline. Returns 0 or
 * a negative errno. */
int xjson_write(const struct xir *x, FILE *f);
/* The same, into a string the caller frees (NULL when out of memory). */
char *xjson_dumps(const struct xir *x);

/* Read an XIR document. Problems (JSON syntax with line and column, missing
 * or mistyped fields, unknown properties or nodes) go to d, naming the node,
 * link or task; *out is set only when there were none. Returns 0, -EINVAL
 * when d holds errors, or -ENOMEM. */
int xjson_read(const char *text, size_t len, struct xir **out, struct diag_list *d);

#endif
