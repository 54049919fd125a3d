/* measure: a declared measurement's value from a command's output. */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

int measure_mean(const char *re, const char *text, size_t len, double *mean, size_t *count)
{
	regmatch_t m[2];
	regex_t rx;
	char *buf, *p;
	int r = -EINVAL;

	*mean = 0;
	*count = 0;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE))
		return -EINVAL;
	if (!rx.re_nsub)
		goto out_free_re;
	r = -ENOMEM;
	buf = malloc(len + 1);
	if (!buf)
		goto out_free_re;
	memcpy(buf, text, len);
	buf[len] = '\0';
	/* a match that ended inside a line leaves the rest of it not at a
	 * line's beginning (REG_NOTBOL): '^' does not match there */
	for (p = buf; *p && !regexec(&rx, p, 2, m, p > buf && p[-1] != '\n' ? REG_NOTBOL : 0);) {
		char *end;
		double v;

		if (m[1].rm_so >= 0 && m[1].rm_eo > m[1].rm_so) {
			v = strtod(p + m[1].rm_so, &end);
			/* a running mean: a sum of large values would overflow */
			if (end > p + m[1].rm_so && end <= p + m[1].rm_eo && isfinite(v)) {
				(*count)++;
				*mean += (v - *mean) / (double)*count;
			}
		}
		p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
		if (p > buf + len)
			break;
	}
	free(buf);
	r = 0;
out_free_re:
	regfree(&rx);
	return r;
}
