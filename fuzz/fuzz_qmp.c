/* fuzz_qmp: libFuzzer target for the QMP stream parser (vm/qmp_stream.c).
 * The first byte sets a chunk size (1-16); the rest is what QEMU "says".
 * Any bytes must parse without a crash or a leak, and the messages (and
 * refused lines) must be the same whether the bytes come at once or in
 * chunks. Then the same bytes go through qmp_stream_reply for id 1, as
 * qemu_qmp_cmd reads them. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Take every message s has; append each one's dump (or "!" for a refused
 * line) to log. */
static void drain(struct qmp_stream *s, struct util_buf *log)
{
	json_t *msg;
	int r;

	while ((r = qmp_stream_next(s, &msg)) != 0) {
		if (r < 0) {
			util_buf_puts(log, "!\n");
			continue;
		}
		char *d = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);

		util_buf_puts(log, d ? d : "?");
		util_buf_puts(log, "\n");
		free(d);
		json_decref(msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_stream a, b, c;
	struct util_buf la, lb;
	size_t chunk;
	json_t *ret = NULL;
	int r;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] % 16) + 1;
	data++, size--;
	util_buf_init(&la);
	util_buf_init(&lb);
	qmp_stream_init(&a);
	qmp_stream_init(&b);
	qmp_stream_init(&c);
	if (qmp_stream_feed(&a, data, size) == 0)
		drain(&a, &la);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (qmp_stream_feed(&b, data + off, n))
			abort(); /* small inputs never pass QMP_LINE_MAX */
		drain(&b, &lb);
	}
	if (la.len != lb.len || (la.len && memcmp(la.s, lb.s, la.len))) {
		fprintf(stderr, "at once:\n%.*s\nin chunks of %zu:\n%.*s\n", (int)la.len, la.s ? la.s : "",
			chunk, (int)lb.len, lb.s ? lb.s : "");
		abort();
	}
	qmp_stream_feed(&c, data, size);
	do {
		r = qmp_stream_reply(&c, 1, &ret);
		if ((r == 0 || r == -EREMOTEIO) && !ret)
			abort();
		json_decref(ret);
		ret = NULL;
	} while (r == -EPROTO || r == 0 || r == -EREMOTEIO);
	if (r != -EAGAIN)
		abort();
	qmp_stream_free(&a);
	qmp_stream_free(&b);
	qmp_stream_free(&c);
	util_buf_free(&la);
	util_buf_free(&lb);
	return 0;
}
