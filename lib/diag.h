/* diag: compiler diagnostics. Stages add errors with a source location, a
 * message and an optional hint; the command layer formats and prints them.
 * The list keeps at most DIAG_MAX_ERRORS errors and then stops taking more. */
#ifndef VTB_DIAG_H
#define VTB_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define DIAG_MAX_ERRORS 20

/* A place in the model source. line 0 means "no place" (a model read from
 * JSON, or an experiment-wide problem); len is the width of the caret run. */
struct src_loc {
	uint32_t line, col, len;
};

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_level level;
	struct src_loc loc;
	char *msg;  /* one line, no trailing period */
	char *hint; /* one line or NULL */
};

struct diag_list {
	const char *file; /* model file name shown in messages (not owned) */
	const char *src;  /* model source, for quoting lines; may be NULL (not owned) */
	size_t src_len;
	struct diag *v;
	size_t n, cap;
	size_t nerrors;
	bool truncated; /* more errors happened than were kept */
	bool oom;
};

void diag_init(struct diag_list *d, const char *file, const char *src, size_t src_len);
void diag_free(struct diag_list *d);

/* Record a diagnostic. hint may be NULL. */
void diag_add(struct diag_list *d, enum diag_level level, struct src_loc loc, const char *hint,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define diag_error(d, loc, hint, ...) diag_add((d), DIAG_ERROR, (loc), (hint), __VA_ARGS__)
#define diag_warning(d, loc, hint, ...) diag_add((d), DIAG_WARNING, (loc), (hint), __VA_ARGS__)

/* True once the list holds DIAG_MAX_ERRORS errors: stages stop early. */
bool diag_full(const struct diag_list *d);
/* True when a diagnostic at exactly loc was among the last ones added (or
 * the list is full): a loop repeating an error need not build its message
 * and hint again, which diag_add would drop anyway. */
bool diag_seen(const struct diag_list *d, struct src_loc loc);

/* Render every diagnostic in the form
 *   FILE:LINE:COL: error: MESSAGE
 *       source line
 *       ^~~~
 *     hint: HINT
 * and a closing count line. Returns a string the caller frees, or NULL. */
char *diag_format(const struct diag_list *d);

/* Sort diagnostics by source position (stable; unplaced ones last). */
void diag_sort(struct diag_list *d);

#endif
