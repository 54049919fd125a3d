/* format: constraints as a person reads them, for summaries, and user
 * text escaped for the terminal. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "esc.h"

/* Escaped strings live in these, used in turn: enough for the arguments of
 * the busiest printf of the commands (a status line has six). */
#define CLI_ESC_SLOTS 8
#define CLI_ESC_LEN 1024 /* a command line as run shows it; longer ones end in "..." */

/* s escaped for a terminal (esc.h), in one of CLI_ESC_SLOTS static buffers
 * used in turn, so up to that many calls can be the arguments of one
 * printf. NULL gives "". Not thread-safe: the commands print from one
 * thread. */
const char *cli_esc(const char *s)
{
	static char slot[CLI_ESC_SLOTS][CLI_ESC_LEN];
	static unsigned next;

	next = (next + 1) % CLI_ESC_SLOTS;
	return esc_str(slot[next], sizeof(slot[next]), s);
}

static void scaled(int64_t v, const char *const *names, const double *scale, size_t n, char *buf,
		   size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double d = (double)v / scale[i];

		if ((v < 0 ? -v : v) >= (int64_t)scale[i] || i == n - 1) {
			snprintf(buf, len, "%.6g %s", d, names[i]);
			return;
		}
	}
}

void cli_format_value(const struct xir_constraint *c, char *buf, size_t len)
{
	static const char *const bytes[] = { "TiB", "GiB", "MiB", "KiB", "bytes" };
	static const double bscale[] = { 1099511627776.0, 1073741824.0, 1048576.0, 1024.0, 1 };
	static const char *const bps[] = { "Gbit/s", "Mbit/s", "kbit/s", "bit/s" };
	static const double rscale[] = { 1e9, 1e6, 1e3, 1 };
	static const char *const ns[] = { "s", "ms", "us", "ns" };
	static const double tscale[] = { 1e9, 1e6, 1e3, 1 };
	static const char *const hz[] = { "GHz", "MHz", "kHz", "Hz" };
	const struct xir_value *v = &c->value;

	switch (v->type) {
	case XV_INT:
		switch (v->unit) {
		case XU_BYTES:
			scaled(v->i, bytes, bscale, 5, buf, len);
			break;
		case XU_BPS:
			scaled(v->i, bps, rscale, 4, buf, len);
			break;
		case XU_NS:
			scaled(v->i, ns, tscale, 4, buf, len);
			break;
		case XU_HZ:
			scaled(v->i, hz, rscale, 4, buf, len);
			break;
		default:
			snprintf(buf, len, "%" PRId64 "%s", v->i,
				 c->prop->type == XP_QUEUE ? " packets" : "");
		}
		break;
	case XV_FLOAT:
		snprintf(buf, len, "%g", v->f);
		break;
	case XV_BOOL:
		snprintf(buf, len, "%s", v->b ? "true" : "false");
		break;
	case XV_STR:
		snprintf(buf, len, "'%s'", cli_esc(v->s));
		break;
	case XV_ENUM:
		snprintf(buf, len, "%s", cli_esc(v->s));
		break;
	}
}

void cli_format_cset(const struct xir_cset *cs, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < cs->n && off + 1 < len; i++) {
		char val[128];
		int n;

		cli_format_value(&cs->v[i], val, sizeof(val));
		n = snprintf(buf + off, len - off, "%s%s %s %s", i ? ", " : "", cs->v[i].prop->name,
			     xir_op_str(cs->v[i].op), val);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
