/* esc: user text made safe for a terminal (see esc.h). */
#include "esc.h"

#include <stdio.h>
#include <string.h>

#define ESC_PIECE_MAX 8 /* the longest piece: "\u009b" and its NUL */

/* The length of the valid UTF-8 sequence at s (len > 0, s[0] >= 0x80),
 * or 0 when the bytes there are not one (overlong forms, surrogates and
 * code points past U+10FFFF are not). *cp gets the code point. */
static size_t esc_utf8(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		*cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		*cp = s[0] & 0x0fu;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		*cp = s[0] & 0x07u;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3fu);
	}
	return n;
}

/* The next character of s[0..len) (len > 0) as it is printed, in out (NUL
 * terminated); *used gets the bytes of s it takes. Returns strlen(out). */
static size_t esc_piece(const char *s, size_t len, char out[ESC_PIECE_MAX], size_t *used)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned cp;
	size_t n;

	*used = 1;
	if (u[0] >= 0x20 && u[0] < 0x7f) {
		out[0] = s[0];
		out[1] = '\0';
		return 1;
	}
	if (u[0] == '\n' || u[0] == '\t' || u[0] == '\r')
		return (size_t)snprintf(out, ESC_PIECE_MAX, "\\%c",
					u[0] == '\n' ? 'n' : u[0] == '\t' ? 't' : 'r');
	n = u[0] >= 0x80 ? esc_utf8(u, len, &cp) : 0;
	if (!n)
		return (size_t)snprintf(out, ESC_PIECE_MAX, "\\x%02x", u[0]);
	*used = n;
	if (cp < 0xa0) /* the C1 controls: U+0080..U+009F */
		return (size_t)snprintf(out, ESC_PIECE_MAX, "\\u%04x", cp);
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

void esc_append(struct util_buf *b, const char *s, size_t len)
{
	char piece[ESC_PIECE_MAX];
	size_t used, n;

	while (len) {
		n = esc_piece(s, len, piece, &used);
		util_buf_append(b, piece, n);
		s += used;
		len -= used;
	}
}

/* The escaped length of s[0..len). */
static size_t esc_len(const char *s, size_t len)
{
	char piece[ESC_PIECE_MAX];
	size_t used, total = 0;

	while (len) {
		total += esc_piece(s, len, piece, &used);
		s += used;
		len -= used;
	}
	return total;
}

const char *esc_str(char *dst, size_t cap, const char *s)
{
	char piece[ESC_PIECE_MAX];
	size_t len, used, n, at = 0, room;

	if (!s)
		s = "";
	len = strlen(s);
	/* whole pieces only; leave room for "..." when the whole does not fit */
	room = esc_len(s, len) < cap ? cap - 1 : cap - 4;
	while (len) {
		n = esc_piece(s, len, piece, &used);
		if (at + n > room)
			break;
		memcpy(dst + at, piece, n);
		at += n;
		s += used;
		len -= used;
	}
	if (len) {
		memcpy(dst + at, "...", 3);
		at += 3;
	}
	dst[at] = '\0';
	return dst;
}
