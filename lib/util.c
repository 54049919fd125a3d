/* util: growable arrays, string buffers, edit distance, a string map. */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int util_grow(void **pv, size_t *pcap, size_t need, size_t elem)
{
	size_t cap = *pcap;
	void *nv;

	if (need <= cap)
		return 0;
	/* start small: most arrays (a device's constraints) hold one to three items */
	if (cap < 2)
		cap = 2;
	while (cap < need) {
		if (cap > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		cap *= 2;
	}
	nv = realloc(*pv, cap * elem);
	if (!nv)
		return -ENOMEM;
	*pv = nv;
	*pcap = cap;
	return 0;
}

void util_buf_init(struct util_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void util_buf_free(struct util_buf *b)
{
	free(b->s);
	util_buf_init(b);
}

void util_buf_append(struct util_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (util_grow((void **)&b->s, &b->cap, b->len + n + 1, 1)) {
		b->oom = true;
		return;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void util_buf_puts(struct util_buf *b, const char *s)
{
	util_buf_append(b, s, strlen(s));
}

void util_buf_sh_quote(struct util_buf *b, const char *s)
{
	util_buf_puts(b, "'");
	for (; *s; s++)
		if (*s == '\'')
			util_buf_puts(b, "'\\''");
		else
			util_buf_append(b, s, 1);
	util_buf_puts(b, "'");
}

void util_buf_printf(struct util_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		util_buf_append(b, small, (size_t)n);
		return;
	}
	if (b->oom || util_grow((void **)&b->s, &b->cap, b->len + (size_t)n + 1, 1)) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *util_buf_take(struct util_buf *b)
{
	char *s;

	if (b->oom) {
		util_buf_free(b);
		return NULL;
	}
	s = b->s ? b->s : strdup("");
	util_buf_init(b);
	return s;
}

void util_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

char *util_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Optimal-string-alignment distance: insertions, deletions, substitutions
 * and transpositions of two neighbours ("corse" -> "cores") cost 1. */
size_t util_edit_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t prev2[64], prev[64], cur[64];

	if (lb >= UTIL_ARRAY_SIZE(cur) || la >= UTIL_ARRAY_SIZE(cur))
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t best;

		cur[0] = i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			size_t v = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
		memcpy(prev2, prev, (lb + 1) * sizeof(size_t));
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

const char *util_closest(const char *word, const char *const *names, size_t n)
{
	size_t len = strlen(word), max = len / 3 ? len / 3 : 1, best = max + 1, i;
	const char *found = NULL;

	if (len < 2)
		return NULL; /* every one-letter name is one edit from another */
	for (i = 0; i < n; i++) {
		size_t d = util_edit_distance(word, names[i], max);

		if (d < best && d > 0) {
			best = d;
			found = names[i];
		}
	}
	return found;
}

uint32_t util_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

uint64_t util_hash64(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void util_map_init(struct util_map *m)
{
	memset(m, 0, sizeof(*m));
}

void util_map_init_borrow(struct util_map *m)
{
	util_map_init(m);
	m->borrow = true;
}

void util_map_free(struct util_map *m)
{
	bool borrow = m->borrow;
	size_t i;

	for (i = 0; i < m->cap && !borrow; i++)
		free(m->slots[i].key);
	free(m->slots);
	util_map_init(m);
	m->borrow = borrow;
}

static struct util_map_slot *map_find(const struct util_map *m, const char *key, size_t klen,
				      uint32_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	for (;;) {
		struct util_map_slot *s = &m->slots[i];

		if (!s->key)
			return s;
		if (s->hash == h && s->len == klen && !memcmp(s->key, key, klen))
			return s;
		i = (i + 1) & mask;
	}
}

/* Move every key into a table of ncap slots (a power of two). */
static int map_resize(struct util_map *m, size_t ncap)
{
	struct util_map nm = { .cap = ncap, .n = m->n, .borrow = m->borrow };
	size_t i;

	nm.slots = calloc(ncap, sizeof(*nm.slots));
	if (!nm.slots)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		struct util_map_slot *s = &m->slots[i];

		if (s->key)
			*map_find(&nm, s->key, s->len, s->hash) = *s;
	}
	free(m->slots);
	*m = nm;
	return 0;
}

int util_map_reserve(struct util_map *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;

	while (cap < n * 2) {
		if (cap > SIZE_MAX / 4)
			return -ENOMEM;
		cap *= 2;
	}
	return cap > m->cap ? map_resize(m, cap) : 0;
}

int util_map_put(struct util_map *m, const char *key, size_t klen, uint32_t value, uint32_t *old)
{
	uint32_t h = util_hash(key, klen);
	struct util_map_slot *s;

	if ((m->n + 1) * 2 > m->cap && map_resize(m, m->cap ? m->cap * 2 : 64))
		return -ENOMEM;
	s = map_find(m, key, klen, h);
	if (s->key) {
		if (old)
			*old = s->value;
		return -EEXIST;
	}
	s->key = m->borrow ? (char *)key : util_strndup(key, klen);
	if (!s->key)
		return -ENOMEM;
	s->hash = h;
	s->len = klen;
	s->value = value;
	m->n++;
	return 0;
}

bool util_map_get(const struct util_map *m, const char *key, size_t klen, uint32_t *value)
{
	struct util_map_slot *s;

	if (!m->cap)
		return false;
	s = map_find(m, key, klen, util_hash(key, klen));
	if (!s->key)
		return false;
	*value = s->value;
	return true;
}

int64_t util_clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double util_clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t util_mono_ms(void)
{
	return util_clock_ns(CLOCK_MONOTONIC) / 1000000;
}
