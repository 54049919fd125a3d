/* compile: the whole front end. Model source (or XIR JSON) in, a checked
 * XIR out, every problem in the diag list. */
#ifndef VTB_COMPILE_H
#define VTB_COMPILE_H

#include <stddef.h>

#include "diag.h"
#include "eval.h"
#include "xir.h"

#define COMPILE_MAX_SOURCE ((size_t)64 << 20)

struct compile_stats {
	unsigned long long steps; /* evaluation steps the model took */
};

/* Compile src (a model, or an XIR JSON document when its first non-blank
 * character is '{'). file names the model in messages and gives the default
 * experiment name (its base name without .vtb). lim may be NULL.
 * Returns 0 and sets *out, -EINVAL when d holds errors, -EFBIG for a source
 * over COMPILE_MAX_SOURCE, or -ENOMEM. */
int compile_source(const char *file, const char *src, size_t len, const struct eval_limits *lim,
		   struct xir **out, struct diag_list *d, struct compile_stats *stats);

/* Read a whole file (or "-" for standard input) into a NUL-terminated
 * buffer the caller frees. Returns 0 or a negative errno. */
int compile_read_file(const char *path, char **buf, size_t *len);

#endif
