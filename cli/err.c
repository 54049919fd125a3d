/* err: how every command reports, at the bottom of the command layer (the
 * commands, main.c and experiment.c all use it; it uses none of them). */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("vtb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
