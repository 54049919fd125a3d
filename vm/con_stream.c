/* con_stream: the console's stream parser (see con_stream.h). */
#include "con_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void con_stream_init(struct con_stream *s, const char *prompt)
{
	*s = (struct con_stream){ .phase = CON_IDLE };
	s->plen = (size_t)snprintf(s->prompt, sizeof(s->prompt), "%s", prompt);
	if (s->plen >= sizeof(s->prompt))
		s->plen = sizeof(s->prompt) - 1;
}

void con_stream_free(struct con_stream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

void con_stream_reset(struct con_stream *s)
{
	s->len = 0;
	s->phase = CON_IDLE;
	s->out = NULL;
}

void con_stream_want_prompt(struct con_stream *s)
{
	s->phase = CON_PROMPT;
}

void con_stream_want_cmd(struct con_stream *s, const char *nonce, struct util_buf *out)
{
	s->len = 0;
	s->slen = (size_t)snprintf(s->smark, sizeof(s->smark), "__vtb_s%.64s__", nonce);
	s->elen = (size_t)snprintf(s->emark, sizeof(s->emark), "\n__vtb_e%.64s_", nonce);
	s->out = out;
	s->cr = false;
	s->from = out->len;
	s->status = -1;
	s->phase = CON_START;
}

static void consume(struct con_stream *s, size_t n)
{
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

/* Consume up to and including pat; true when it was there. Otherwise keep
 * only what could be the start of it. */
static bool expect(struct con_stream *s, const char *pat, size_t plen)
{
	char *p = s->len ? memmem(s->buf, s->len, pat, plen) : NULL;

	if (!plen)
		return true;
	if (p) {
		consume(s, (size_t)(p - s->buf) + plen);
		return true;
	}
	if (s->len >= plen)
		consume(s, s->len - (plen - 1));
	return false;
}

/* Append to out what buf holds, CRLF turned into LF; a CR at the very end
 * waits in s->cr for the next byte. Consumes buf. */
static void take_output(struct con_stream *s)
{
	char *p = s->buf, *end = s->buf + s->len, *w = s->buf;

	if (!s->len)
		return;
	if (s->cr && *p != '\n')
		util_buf_append(s->out, "\r", 1);
	s->cr = false;
	for (; p < end; p++) {
		if (*p == '\r') {
			if (p + 1 == end) {
				s->cr = true;
				break;
			}
			if (p[1] == '\n')
				continue;
		}
		*w++ = *p;
	}
	util_buf_append(s->out, s->buf, (size_t)(w - s->buf));
	s->len = 0;
}

/* Give n bytes at p back to the front of buf. 0 or -ENOMEM. */
static int unread(struct con_stream *s, const char *p, size_t n)
{
	if (util_grow((void **)&s->buf, &s->cap, s->len + n, 1))
		return -ENOMEM;
	memmove(s->buf + n, s->buf, s->len);
	memcpy(s->buf, p, n);
	s->len += n;
	return 0;
}

/* Find the end marker (emark DIGITS "__") in out from s->from on. 1 when
 * found (out truncated before it, the bytes after it given back to buf,
 * status set), 0 when not (yet), -ENOMEM. */
static int find_end(struct con_stream *s)
{
	struct util_buf *out = s->out;

	if (!out->s)
		return 0; /* nothing yet (and no pointer to offset) */
	for (;;) {
		char *p = out->len > s->from ? memmem(out->s + s->from, out->len - s->from, s->emark, s->elen)
					     : NULL;
		char *q, *end = out->s + out->len;
		long st = 0;

		if (!p) {
			if (out->len >= s->elen && out->len - (s->elen - 1) > s->from)
				s->from = out->len - (s->elen - 1);
			return 0;
		}
		q = p + s->elen;
		while (q < end && q - (p + s->elen) < 4 && *q >= '0' && *q <= '9')
			st = st * 10 + (*q++ - '0');
		if (q + 2 > end) {
			s->from = (size_t)(p - out->s); /* wait for the rest of the marker */
			return 0;
		}
		if (q == p + s->elen || q[0] != '_' || q[1] != '_') {
			s->from = (size_t)(p - out->s) + 1;
			continue;
		}
		q += 2;
		/* what follows the marker goes back raw, with a CR held back
		 * from the end of the last chunk, so that the prompt is looked
		 * for in the same bytes however the reads were cut */
		if ((s->cr && unread(s, "\r", 1)) || unread(s, q, (size_t)(end - q)))
			return -ENOMEM;
		s->cr = false;
		out->len = (size_t)(p - out->s);
		out->s[out->len] = '\0';
		s->status = (int)st;
		return 1;
	}
}

/* Advance through the phases as far as the bytes held allow. */
static int step(struct con_stream *s)
{
	int r;

	for (;;) {
		switch (s->phase) {
		case CON_IDLE:
			s->len = 0;
			return 0;
		case CON_DONE:
			return 1;
		case CON_PROMPT:
		case CON_END_PROMPT:
			if (!expect(s, s->prompt, s->plen))
				return 0;
			s->phase = CON_DONE;
			break;
		case CON_START:
			if (!expect(s, s->smark, s->slen))
				return 0;
			s->phase = CON_START_NL;
			break;
		case CON_START_NL:
			if (!expect(s, "\n", 1))
				return 0;
			s->phase = CON_OUTPUT;
			break;
		case CON_OUTPUT:
			take_output(s);
			if (s->out->oom)
				return -ENOMEM;
			r = find_end(s);
			if (r <= 0)
				return r;
			s->phase = CON_END_PROMPT;
			break;
		}
	}
}

int con_stream_feed(struct con_stream *s, const uint8_t *p, size_t n)
{
	if (n && s->phase != CON_IDLE && s->phase != CON_DONE) {
		if (util_grow((void **)&s->buf, &s->cap, s->len + n, 1))
			return -ENOMEM;
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
	return step(s);
}
