/* fuzz_console: libFuzzer target for the console proxy's stream parser
 * (vm/con_stream.c). The first byte sets a chunk size (1-32); the rest is
 * what the guest's console "says" while a command runs. Any bytes must
 * parse without a crash or a leak, and the result (phase, output, exit
 * status) must not depend on how the bytes were cut into reads. A second
 * stream looks for the prompt alone, as con_wait_ready does. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "con_stream.h"

#define FUZZ_PROMPT "__vtb_0123456789abcdef__# "
#define FUZZ_NONCE "0123456789abcdefx1"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run a command's stream over data in chunks of chunk bytes. */
static void run(const uint8_t *data, size_t size, size_t chunk, struct util_buf *out, int *phase,
		int *status)
{
	struct con_stream s;

	con_stream_init(&s, FUZZ_PROMPT);
	con_stream_want_cmd(&s, FUZZ_NONCE, out);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (con_stream_feed(&s, data + off, n) < 0)
			abort(); /* small inputs never run out of memory */
	}
	*phase = (int)s.phase;
	*status = s.status;
	con_stream_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct util_buf a, b;
	struct con_stream p;
	int pa, pb, sa, sb, r;
	size_t chunk;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] % 32) + 1;
	data++, size--;
	util_buf_init(&a);
	util_buf_init(&b);
	run(data, size, size ? size : 1, &a, &pa, &sa);
	run(data, size, chunk, &b, &pb, &sb);
	if (pa != pb || (pa == CON_DONE && sa != sb) || a.len != b.len || (a.len && memcmp(a.s, b.s, a.len))) {
		fprintf(stderr, "at once: phase %d status %d output %zu bytes; in chunks of %zu: phase %d "
			"status %d output %zu bytes\n", pa, sa, a.len, chunk, pb, sb, b.len);
		abort();
	}
	if (pa == CON_DONE && (sa < 0 || sa > 9999))
		abort();
	con_stream_init(&p, FUZZ_PROMPT);
	con_stream_want_prompt(&p);
	r = con_stream_feed(&p, data, size);
	if (r != (memmem(data, size, FUZZ_PROMPT, strlen(FUZZ_PROMPT)) != NULL))
		abort();
	con_stream_free(&p);
	util_buf_free(&a);
	util_buf_free(&b);
	return 0;
}
