/* relay_proto: the relay's frames (see relay_proto.h). */
#include "relay_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The request's fixed part: version, flags, rows, cols. */
#define RELAY_REQ_FIXED 6
#define RELAY_FLAG_TTY 1u

uint32_t relay_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint16_t relay_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void relay_frame_head(uint8_t type, uint32_t len, uint8_t head[RELAY_HEAD])
{
	head[0] = type;
	head[1] = (uint8_t)(len >> 24);
	head[2] = (uint8_t)(len >> 16);
	head[3] = (uint8_t)(len >> 8);
	head[4] = (uint8_t)len;
}

/* The payload size a type must have, or -1 for any up to the maximum;
 * -2 for a type that does not exist. */
static long relay_type_size(uint8_t type)
{
	switch (type) {
	case RELAY_EOF:
		return 0;
	case RELAY_WINCH:
	case RELAY_EXIT:
		return 4;
	case RELAY_REQ:
	case RELAY_STDIN:
	case RELAY_STDOUT:
	case RELAY_STDERR:
	case RELAY_ERROR:
		return -1;
	default:
		return -2;
	}
}

int relay_frame_next(const uint8_t *buf, size_t len, struct relay_frame *f, size_t *used)
{
	uint32_t n;
	long want;

	if (len < 1)
		return -EAGAIN;
	want = relay_type_size(buf[0]);
	if (want == -2)
		return -EPROTO;
	if (len < RELAY_HEAD)
		return -EAGAIN;
	n = relay_u32(buf + 1);
	if (n > RELAY_FRAME_MAX || (want >= 0 && n != (uint32_t)want))
		return -EPROTO;
	if (len - RELAY_HEAD < n)
		return -EAGAIN;
	f->type = buf[0];
	f->len = n;
	f->data = buf + RELAY_HEAD;
	*used = RELAY_HEAD + (size_t)n;
	if (f->type == RELAY_EXIT && relay_u32(f->data) > 255)
		return -EPROTO;
	return 0;
}

void relay_req_free(struct relay_req *r)
{
	free(r->argv);
	free(r->buf);
	r->argv = NULL;
	r->buf = NULL;
	r->argc = 0;
}

int relay_req_parse(const uint8_t *p, size_t len, struct relay_req *r)
{
	size_t i, n = 0;

	memset(r, 0, sizeof(*r));
	if (len <= RELAY_REQ_FIXED || len > RELAY_FRAME_MAX || p[0] != RELAY_VERSION ||
	    (p[1] & ~RELAY_FLAG_TTY) || p[len - 1] != '\0')
		return -EPROTO;
	for (i = RELAY_REQ_FIXED; i < len; i++)
		n += p[i] == '\0';
	if (n == 0 || n > RELAY_ARGC_MAX || p[RELAY_REQ_FIXED] == '\0')
		return -EPROTO;
	r->buf = malloc(len - RELAY_REQ_FIXED);
	r->argv = calloc(n + 1, sizeof(*r->argv));
	if (!r->buf || !r->argv) {
		relay_req_free(r);
		return -ENOMEM;
	}
	memcpy(r->buf, p + RELAY_REQ_FIXED, len - RELAY_REQ_FIXED);
	for (i = 0; i < len - RELAY_REQ_FIXED; i += strlen(r->buf + i) + 1)
		r->argv[r->argc++] = r->buf + i;
	r->tty = p[1] & RELAY_FLAG_TTY;
	r->rows = relay_u16(p + 2);
	r->cols = relay_u16(p + 4);
	return 0;
}

int relay_req_encode(bool tty, uint16_t rows, uint16_t cols, int argc, char *const *argv,
		     uint8_t **out, size_t *len)
{
	size_t n = RELAY_REQ_FIXED, at;
	uint8_t *p;
	int i;

	*out = NULL;
	if (argc < 1 || argc > RELAY_ARGC_MAX)
		return -E2BIG;
	for (i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if (n > RELAY_FRAME_MAX)
		return -E2BIG;
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	p[0] = RELAY_VERSION;
	p[1] = tty ? RELAY_FLAG_TTY : 0;
	p[2] = (uint8_t)(rows >> 8);
	p[3] = (uint8_t)rows;
	p[4] = (uint8_t)(cols >> 8);
	p[5] = (uint8_t)cols;
	for (at = RELAY_REQ_FIXED, i = 0; i < argc; i++) {
		memcpy(p + at, argv[i], strlen(argv[i]) + 1);
		at += strlen(argv[i]) + 1;
	}
	*out = p;
	*len = n;
	return 0;
}

/* The commands a host runs for another, and the subcommands of those
 * that have them (NULL: the command's next word is the experiment). */
static const struct {
	const char *cmd;
	const char *const *subs;
} relay_allowed[] = {
	{ "exec", NULL },
	{ "capture", NULL },
	{ "status", NULL },
	{ "run", NULL },
	{ "link", (const char *const[]){ "set", "down", "up", NULL } },
	{ "node", (const char *const[]){ "stop", "start", "restart", "set", NULL } },
};

int relay_req_allowed(const struct relay_req *r, char *err)
{
	size_t i, k;

	for (i = 0; i < UTIL_ARRAY_SIZE(relay_allowed); i++) {
		if (strcmp(r->argv[0], relay_allowed[i].cmd))
			continue;
		if (!relay_allowed[i].subs)
			return 0;
		for (k = 0; r->argc > 1 && relay_allowed[i].subs[k]; k++)
			if (!strcmp(r->argv[1], relay_allowed[i].subs[k]))
				return 0;
		break;
	}
	util_fmt(err, UTIL_ERR_LEN, "'%.64s%s%.64s' is not relayed (only exec, capture, status, run, "
		 "link set/down/up and node stop/start/restart/set are)", r->argv[0],
		 r->argc > 1 ? " " : "", r->argc > 1 ? r->argv[1] : "");
	return -EPERM;
}
