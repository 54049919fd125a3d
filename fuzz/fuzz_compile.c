/* fuzz_compile: libFuzzer target for the whole front end. The input is a
 * model (or an XIR JSON document) given to compile_source with small
 * evaluation limits so that each input runs in milliseconds. When it
 * compiles, the XIR must survive the JSON round trip:
 *   dump(x) == dump(read(dump(x)))
 * and the dumped document must itself compile (the JSON path of
 * compile_source, as `vtb up` would take it) to the same document.
 * Any difference aborts, which libFuzzer reports as a crash. Everything is
 * freed on every path so that LeakSanitizer can report leaks. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "diag.h"
#include "xir.h"
#include "xir_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct eval_limits fuzz_limits = {
	.max_steps = 200000,
	.max_bytes = (size_t)64 << 20,
	.max_list = (size_t)1 << 16,
	.max_str = (size_t)1 << 16,
};

/* Print both documents and abort: the fuzzer saves the input. */
static void fuzz_mismatch(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz_compile: %s\n--- first\n%s\n--- second\n%s\n", what, a, b);
	abort();
}

/* Read doc back and dump it again; the caller frees the result. Aborts when
 * a document the writer produced is rejected by the reader. */
static char *fuzz_reread(const char *doc)
{
	struct diag_list d;
	struct xir *x = NULL;
	char *again = NULL, *msg;
	int r;

	diag_init(&d, "fuzz.json", doc, strlen(doc));
	r = xjson_read(doc, strlen(doc), &x, &d);
	if (r == -ENOMEM)
		goto out;
	if (r) {
		msg = diag_format(&d);
		fuzz_mismatch("xjson_read rejects what xjson_dumps wrote", doc, msg ? msg : "?");
	}
	again = xjson_dumps(x);
out:
	xir_free(x);
	diag_free(&d);
	return again;
}

/* Compile doc through the JSON path of compile_source and dump the result;
 * the caller frees it. A checked model's own XIR must compile again. */
static char *fuzz_recompile(const char *doc)
{
	struct diag_list d;
	struct xir *x = NULL;
	char *again = NULL, *msg;
	int r;

	diag_init(&d, "fuzz.json", doc, strlen(doc));
	r = compile_source("fuzz.json", doc, strlen(doc), &fuzz_limits, &x, &d, NULL);
	if (r == -ENOMEM)
		goto out;
	if (r) {
		msg = diag_format(&d);
		fuzz_mismatch("the XIR of a model that compiles does not compile", doc,
			      msg ? msg : "?");
	}
	again = xjson_dumps(x);
out:
	xir_free(x);
	diag_free(&d);
	return again;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *src = (const char *)data;
	struct compile_stats stats;
	struct diag_list d;
	struct xir *x = NULL;
	char *first = NULL, *second = NULL, *third = NULL, *msg;

	diag_init(&d, "fuzz.vtb", src, size);
	if (compile_source("fuzz.vtb", src, size, &fuzz_limits, &x, &d, &stats)) {
		/* errors: formatting them must not crash either */
		msg = diag_format(&d);
		free(msg);
		goto out;
	}
	first = xjson_dumps(x);
	if (!first)
		goto out;
	second = fuzz_reread(first);
	if (second && strcmp(first, second))
		fuzz_mismatch("JSON round trip changed the XIR", first, second);
	third = fuzz_recompile(first);
	if (third && strcmp(first, third))
		fuzz_mismatch("compiling the XIR changed it", first, third);
out:
	free(third);
	free(second);
	free(first);
	xir_free(x);
	diag_free(&d);
	return 0;
}
