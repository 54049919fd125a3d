/* fuzz_json: libFuzzer target for the XIR JSON reader alone. Any input must
 * be accepted or rejected with diagnostics, never crash or leak; an accepted
 * document must dump, and that dump must read back to the same dump. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xir.h"
#include "xir_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read text and return its dump (caller frees), or NULL when rejected. */
static char *fuzz_read_dump(const char *text, size_t len, int *err)
{
	struct diag_list d;
	struct xir *x = NULL;
	char *out = NULL, *msg;

	diag_init(&d, "fuzz.json", text, len);
	*err = xjson_read(text, len, &x, &d);
	if (*err) {
		msg = diag_format(&d);
		free(msg);
	} else {
		out = xjson_dumps(x);
	}
	xir_free(x);
	diag_free(&d);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *first, *second;
	int r;

	first = fuzz_read_dump((const char *)data, size, &r);
	if (!first)
		return 0;
	second = fuzz_read_dump(first, strlen(first), &r);
	if (!second && r != -ENOMEM) {
		fprintf(stderr, "fuzz_json: xjson_read rejects its own dump:\n%s\n", first);
		abort();
	}
	if (second && strcmp(first, second)) {
		fprintf(stderr, "fuzz_json: round trip changed the XIR\n--- first\n%s\n--- second\n%s\n",
			first, second);
		abort();
	}
	free(second);
	free(first);
	return 0;
}
