/* util: small containers shared by every stage (growable arrays, string
 * buffers, string interning). Nothing here prints or aborts: allocation
 * failures come back as -ENOMEM or NULL. */
#ifndef VTB_UTIL_H
#define VTB_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define UTIL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Grow *pv (an array of elem-sized items, *pcap allocated) so that it can
 * hold at least need items. Returns 0 or -ENOMEM (the array is unchanged). */
int util_grow(void **pv, size_t *pcap, size_t need, size_t elem);

/* Append one item to a typed array (v, n, cap). Evaluates to 0 or -ENOMEM. */
#define UTIL_PUSH(v, n, cap, item)                                              \
	(util_grow((void **)&(v), &(cap), (n) + 1, sizeof(*(v))) ? -ENOMEM            \
	                                                         : ((v)[(n)++] = (item), 0))

/* A growable, always NUL-terminated string. A failed append sets oom and
 * makes later appends no-ops, so a caller checks once at the end. */
struct util_buf {
	char *s;
	size_t len, cap;
	bool oom;
};

void util_buf_init(struct util_buf *b);
void util_buf_free(struct util_buf *b);
void util_buf_append(struct util_buf *b, const char *s, size_t n);
void util_buf_puts(struct util_buf *b, const char *s);
void util_buf_printf(struct util_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s single-quoted for /bin/sh ('it'\''s'), whatever it holds. */
void util_buf_sh_quote(struct util_buf *b, const char *s);
/* Take the string out of the buffer (caller frees); NULL if it ran out of memory. */
char *util_buf_take(struct util_buf *b);

char *util_strndup(const char *s, size_t n);

/* Clock c (CLOCK_MONOTONIC, CLOCK_REALTIME, ...) in nanoseconds, in
 * seconds, and the monotonic clock in milliseconds. Async-signal-safe. */
int64_t util_clock_ns(clockid_t c);
double util_clock_s(clockid_t c);
int64_t util_mono_ms(void);

/* The size of a "why" buffer (char err[UTIL_ERR_LEN]) that a function
 * fills with util_fmt when it fails: room for a path, a node or link name
 * and the kernel's or a program's own words (QEMU's errors run long). */
#define UTIL_ERR_LEN 1200

/* snprintf into buf when the caller gave one (buf may be NULL or len 0):
 * for the optional "why" buffers of functions that explain a failure. */
void util_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Levenshtein distance, capped: returns max+1 as soon as it exceeds max. */
size_t util_edit_distance(const char *a, const char *b, size_t max);

/* The closest of names[0..n) to word, if close enough to be a typo of it
 * (distance at most max(1, strlen(word) / 3)); NULL otherwise. */
const char *util_closest(const char *word, const char *const *names, size_t n);

/* FNV-1a, 32 and 64 bits (the wider one for cache keys that name files). */
uint32_t util_hash(const char *s, size_t n);
uint64_t util_hash64(const char *s, size_t n);

/* A string -> uint32 map with open addressing. Keys are copied. */
struct util_map {
	struct util_map_slot {
		char *key;
		uint32_t hash, value;
		size_t len;
	} *slots;
	size_t n, cap;
	bool borrow; /* keys are the caller's, not copied */
};

void util_map_init(struct util_map *m);
/* A map whose keys are not copied: each key must stay valid and unchanged
 * for the map's life. Saves a copy per key in large maps. */
void util_map_init_borrow(struct util_map *m);
/* Make room for n keys without rehashing. 0 or -ENOMEM. */
int util_map_reserve(struct util_map *m, size_t n);
void util_map_free(struct util_map *m);
/* Insert key -> value. Returns 0, -EEXIST (value left alone, *old set to
 * the existing value when old is not NULL) or -ENOMEM. */
int util_map_put(struct util_map *m, const char *key, size_t klen, uint32_t value, uint32_t *old);
/* Returns true and sets *value when key is present. */
bool util_map_get(const struct util_map *m, const char *key, size_t klen, uint32_t *value);

#endif
