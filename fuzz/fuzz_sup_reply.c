/* fuzz_sup_reply: libFuzzer target for the vtb command's reader of the
 * supervisor's replies (exec/sup_proto.c): the input is a run of messages
 * separated by the two bytes FF FF (an input without them is one message),
 * each fed to sup_proto_feed_reply as the client feeds what it receives.
 * Any bytes must give output chunks, checked JSON replies (whole or put
 * together from SUP_PART pieces) or refusals with a sentence, never a
 * crash or a leak; a refused reply carries an error text and a positive
 * errno. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sup_proto.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t sep[2] = { 0xff, 0xff };

/* Check one whole reply that msg (len bytes) completed. */
static void check_reply(const struct sup_reply *rep, const uint8_t *msg, size_t len)
{
	volatile size_t sum = 0;

	if (rep->kind == SUP_REPLY_OUTPUT) {
		if (rep->data != msg + 1 || rep->len != len - 1)
			abort();
		for (size_t i = 0; i < rep->len; i++)
			sum += rep->data[i]; /* every byte readable */
	} else {
		if (!json_is_object(rep->json))
			abort();
		if (!rep->ok && (!rep->error || rep->errnum <= 0))
			abort();
		if (!rep->ok)
			sum += strlen(rep->error);
	}
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sup_assembly a = { 0 };
	const uint8_t *end = data + size;

	while (data <= end) {
		const uint8_t *next = memmem(data, (size_t)(end - data), sep, sizeof(sep));
		size_t len = (size_t)((next ? next : end) - data);
		char err[UTIL_ERR_LEN] = "";
		struct sup_reply rep;
		int r = sup_proto_feed_reply(&a, data, len, &rep, err, sizeof(err));

		if (r < 0 && (rep.json || !err[0] || a.buf))
			abort();
		if (r == 0 && (rep.json || !len || data[0] != (uint8_t)SUP_PART))
			abort();
		if (r == 1)
			check_reply(&rep, data, len);
		sup_reply_free(&rep);
		if (!next)
			break;
		data = next + sizeof(sep);
	}
	sup_assembly_free(&a);
	return 0;
}
