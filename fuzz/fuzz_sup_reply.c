/* fuzz_sup_reply: libFuzzer target for the vtb command's parser of the
 * supervisor's replies (exec/sup_proto.c). Any bytes must give an output
 * chunk, a checked JSON reply or a refusal with a sentence, never a crash
 * or a leak; a refused reply carries an error text and a positive errno. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sup_proto.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[UTIL_ERR_LEN] = "";
	struct sup_reply rep;
	volatile size_t sum = 0;
	int r;

	r = sup_proto_parse_reply(data, size, &rep, err, sizeof(err));
	if (r) {
		if (rep.json || !err[0] || r >= 0)
			abort();
		return 0;
	}
	if (rep.kind == SUP_REPLY_OUTPUT) {
		if (rep.data != data + 1 || rep.len != size - 1)
			abort();
		for (size_t i = 0; i < rep.len; i++)
			sum += rep.data[i]; /* every byte readable */
	} else {
		if (!json_is_object(rep.json))
			abort();
		if (!rep.ok && (!rep.error || rep.errnum <= 0))
			abort();
		if (!rep.ok)
			sum += strlen(rep.error);
	}
	sup_reply_free(&rep);
	(void)sum;
	return 0;
}
