/* measure: the values a command's output gives its declared measurements
 * (run(..., measure=[name, regex]), docs/model-language.md). */
#ifndef VTB_MEASURE_H
#define VTB_MEASURE_H

#include <stddef.h>

/* The mean of the numbers the first group of POSIX extended regex re
 * captures at each of its matches in text[0..len) (line by line: '^' and
 * '$' match at every line, '.' not a newline; a capture that is not a
 * finite number, such as "nan" or "inf", is skipped), into *mean, and their number into *count (0: *mean
 * is 0). Returns 0, or -EINVAL for a regex that does not compile or has no
 * group, -ENOMEM. */
int measure_mean(const char *re, const char *text, size_t len, double *mean, size_t *count);

#endif
