/* qmp_stream: the parser of what QEMU says on QMP, fed bytes as they come
 * (a partial line, several messages in one read, events interleaved with
 * the reply). QMP is one JSON object per line: a greeting {"QMP": ...},
 * replies {"return": V, "id": N} or {"error": {"class", "desc"}, "id": N},
 * and events {"event": NAME, ...}. No I/O here and nothing prints, so it
 * can be fuzzed (fuzz/fuzz_qmp.c). */
#ifndef VTB_QMP_STREAM_H
#define VTB_QMP_STREAM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A QMP line longer than this is refused: QEMU's largest answers
 * (query-qmp-schema) are a few hundred KiB. */
#define QMP_LINE_MAX (16u << 20)

/* Bytes received and not yet a whole line. */
struct qmp_stream {
	struct util_buf buf;
	size_t skip;            /* bytes of buf already parsed */
};

void qmp_stream_init(struct qmp_stream *s);
void qmp_stream_free(struct qmp_stream *s);

/* Append n bytes. 0, -ENOMEM, or -EMSGSIZE when the line being received
 * passes QMP_LINE_MAX (the stream is unusable then). */
int qmp_stream_feed(struct qmp_stream *s, const uint8_t *p, size_t n);

/* Take the next whole message: 1 with *msg (a JSON object the caller
 * json_decref()s), 0 when no whole line is there yet, -EPROTO for a line
 * that is not a JSON object (consumed: the next call goes on after it).
 * Blank lines are skipped. */
int qmp_stream_next(struct qmp_stream *s, json_t **msg);

/* Consume messages until the reply to command id: 0 with *ret (its
 * "return", which the caller json_decref()s; ret may be NULL), -EREMOTEIO
 * with *ret the "error" object, -EAGAIN when the reply is not there yet
 * (feed more), -EPROTO for a malformed line or a reply to id that has
 * neither. Events, the greeting and replies to other ids are skipped. */
int qmp_stream_reply(struct qmp_stream *s, unsigned long long id, json_t **ret);

#endif
