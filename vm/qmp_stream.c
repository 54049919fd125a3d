/* qmp_stream: QMP's line-delimited JSON, parsed from arbitrary chunks. */
#include "qmp_stream.h"

#include <errno.h>
#include <string.h>

void qmp_stream_init(struct qmp_stream *s)
{
	util_buf_init(&s->buf);
	s->skip = 0;
}

void qmp_stream_free(struct qmp_stream *s)
{
	util_buf_free(&s->buf);
	s->skip = 0;
}

/* Drop the parsed bytes from the front of the buffer. */
static void compact(struct qmp_stream *s)
{
	if (!s->skip)
		return;
	memmove(s->buf.s, s->buf.s + s->skip, s->buf.len - s->skip);
	s->buf.len -= s->skip;
	s->skip = 0;
}

int qmp_stream_feed(struct qmp_stream *s, const uint8_t *p, size_t n)
{
	const char *nl;
	size_t pending;

	compact(s);
	util_buf_append(&s->buf, (const char *)p, n);
	if (s->buf.oom)
		return -ENOMEM;
	/* the unfinished line: what follows the last newline */
	nl = s->buf.len ? memrchr(s->buf.s, '\n', s->buf.len) : NULL;
	pending = nl ? s->buf.len - (size_t)(nl - s->buf.s) - 1 : s->buf.len;
	return pending > QMP_LINE_MAX ? -EMSGSIZE : 0;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

int qmp_stream_next(struct qmp_stream *s, json_t **msg)
{
	*msg = NULL;
	for (;;) {
		const char *line = s->buf.s + s->skip;
		size_t left = s->buf.len - s->skip, len;
		const char *nl = left ? memchr(line, '\n', left) : NULL;
		json_t *j;

		if (!nl)
			return 0;
		len = (size_t)(nl - line);
		s->skip += len + 1;
		if (blank(line, len))
			continue;
		j = json_loadb(line, len, 0, NULL);
		if (!json_is_object(j)) {
			json_decref(j);
			return -EPROTO;
		}
		*msg = j;
		return 1;
	}
}

int qmp_stream_reply(struct qmp_stream *s, unsigned long long id, json_t **ret)
{
	if (ret)
		*ret = NULL;
	for (;;) {
		json_t *msg, *val;
		int r = qmp_stream_next(s, &msg);

		if (r <= 0)
			return r ? r : -EAGAIN;
		val = json_object_get(msg, "id");
		if (json_object_get(msg, "event") || !json_is_integer(val) ||
		    (unsigned long long)json_integer_value(val) != id) {
			json_decref(msg);
			continue;
		}
		if ((val = json_object_get(msg, "return")))
			r = 0;
		else if ((val = json_object_get(msg, "error")))
			r = -EREMOTEIO;
		else
			r = -EPROTO;
		if (ret && val)
			*ret = json_incref(val);
		json_decref(msg);
		return r;
	}
}
