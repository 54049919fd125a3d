/* fuzz_measure: libFuzzer target for the reader of a command's output
 * that takes its declared measurements (exec/measure.c). The output is
 * what another process wrote; the regex is the model's own (checked when
 * it compiles), so the first byte picks one of a few regexes of the kinds
 * models declare (anchored, empty-matching, several groups) and the rest
 * is the output. Any output (binary, NUL bytes, huge numbers, "nan")
 * must give a count and a finite mean, or nothing: never a crash, a hang
 * or a leak. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const res[] = {
	"time=([0-9.]+) ms",
	"([0-9.]+)% packet loss",
	"^([0-9]+) bytes",
	"(x*)",
	"^(.*)$",
	"([-+0-9.eEinfINFaA]+)",
	"rtt min/avg/max/mdev = [0-9.]+/([0-9.]+)/",
	"(([0-9]+)|a)b",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double mean = 0;
	size_t n = 0;
	int r;

	if (!size)
		return 0;
	r = measure_mean(res[data[0] % (sizeof(res) / sizeof(res[0]))], (const char *)data + 1,
			 size - 1, &mean, &n);
	if (r || (!n && mean != 0) || !isfinite(mean))
		abort();
	return 0;
}
