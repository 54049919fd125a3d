/* fuzz_relay: libFuzzer target for the relay's frames (cluster/
 * relay_proto.c): the bytes are a stream of frames, parsed one after the
 * other as a host receives them; each frame is accepted with a type and a
 * payload within the input and the bounds, or the stream is refused with
 * -EPROTO (-EAGAIN: cut short). A RELAY_REQ's payload goes to the request
 * parser, which accepts it with argc words (NUL-terminated, inside the
 * payload) or refuses it; an accepted request encodes back to the same
 * bytes, and the whitelist answers it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay_proto.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A request parsed from p must encode back to p. */
static void check_req(const uint8_t *p, size_t n)
{
	struct relay_req r;
	char err[UTIL_ERR_LEN];
	uint8_t *back = NULL;
	size_t len = 0;
	int k = relay_req_parse(p, n, &r);

	if (k && k != -EPROTO && k != -ENOMEM)
		abort();
	if (k)
		return;
	if (r.argc < 1 || r.argc > RELAY_ARGC_MAX || r.argv[r.argc] != NULL || !r.argv[0][0])
		abort();
	if (relay_req_encode(r.tty, r.rows, r.cols, (int)r.argc, r.argv, &back, &len) == 0 &&
	    (len != n || memcmp(back, p, n)))
		abort();
	err[0] = '\0';
	if (relay_req_allowed(&r, err) && !err[0])
		abort();
	free(back);
	relay_req_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_frame f;
	size_t at = 0, used;
	int k;

	while (at < size) {
		k = relay_frame_next(data + at, size - at, &f, &used);
		if (k == -EAGAIN || k == -EPROTO)
			break;
		if (k || used != RELAY_HEAD + f.len || used > size - at || f.len > RELAY_FRAME_MAX ||
		    f.data != data + at + RELAY_HEAD)
			abort();
		if (f.type == RELAY_REQ)
			check_req(f.data, f.len);
		at += used;
	}
	return 0;
}
