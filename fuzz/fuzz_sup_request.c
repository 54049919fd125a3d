/* fuzz_sup_request: libFuzzer target for the supervisor's request parser
 * (exec/sup_proto.c). Any bytes must be accepted or refused with a
 * sentence, never crash or leak; an accepted request must name a known
 * operation, match its shape, and parse again, to the same operation, from
 * its own compact dump. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sup_proto.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[UTIL_ERR_LEN] = "";
	enum sup_opcode op, op2;
	json_t *req = NULL, *again = NULL;
	char *text;
	int r;

	r = sup_proto_parse_request(data, size, &req, &op, err, sizeof(err));
	if (r) {
		if (req || !err[0] || r >= 0)
			abort(); /* a refusal gives nothing and says why */
		return 0;
	}
	if ((unsigned)op >= SUP_OP_COUNT || !json_is_object(req))
		abort();
	for (const struct sup_key *k = sup_ops[op].shape; k->name; k++) {
		json_t *v = json_object_get(req, k->name);

		if ((k->required && !v) || (v && json_typeof(v) != k->type))
			abort();
	}
	text = json_dumps(req, JSON_COMPACT);
	if (text) {
		r = sup_proto_parse_request((const uint8_t *)text, strlen(text), &again, &op2, err,
					    sizeof(err));
		if (r || op2 != op) {
			fprintf(stderr, "round trip failed (%d): %s\n%s\n", r, err, text);
			abort();
		}
	}
	free(text);
	json_decref(again);
	json_decref(req);
	return 0;
}
