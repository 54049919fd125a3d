/* taskmsg: the lines of a host's part of a vtb run across hosts
 * (taskmsg.h). */
#include "taskmsg.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_parse.h"

/* Here rather than in tasks.c: the records' words are the messages'
 * too, and the parser is built without the task runner (fuzz/). */
const char *tasks_status_name(enum tasks_status s)
{
	static const char *const names[] = { "ok", "failed", "timeout", "expect" };

	return (unsigned)s < UTIL_ARRAY_SIZE(names) ? names[s] : "?";
}

/* A JSON integer member of o within [lo, hi] into *v: 0 or -EPROTO. */
static int taskmsg_int(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi)
		return -EPROTO;
	*v = json_integer_value(j);
	return 0;
}

/* The base64 member key of o decoded into *out (the caller's) of *len
 * bytes, at most TASKS_OUTPUT_MAX and its truncation line. 0, -EPROTO or
 * -ENOMEM. */
static int taskmsg_bytes(const json_t *o, const char *key, char **out, size_t *len)
{
	const json_t *j = json_object_get(o, key);
	int r;

	if (!json_is_string(j) || json_string_length(j) > TASKMSG_LINE_MAX / 2)
		return -EPROTO;
	r = etcd_b64_decode(json_string_value(j), json_string_length(j), out, len);
	return r == -ENOMEM ? r : r ? -EPROTO : 0;
}

/* The "result" object o into *v. 0, -EPROTO or -ENOMEM (nothing kept). */
static int taskmsg_parse_result(const json_t *o, size_t ntasks, const size_t *cmds,
				struct tasks_result *v)
{
	const char *st = json_string_value(json_object_get(o, "status"));
	int64_t t, c, e;
	int r, s;

	*v = (struct tasks_result){ .task = 0 };
	if (!json_is_object(o) || json_object_size(o) != 8 || !st ||
	    taskmsg_int(o, "task", 0, (int64_t)ntasks - 1, &t) ||
	    taskmsg_int(o, "cmd", 0, (int64_t)cmds[t] - 1, &c) ||
	    taskmsg_int(o, "start_ns", 0, INT64_MAX, &v->start_ns) ||
	    taskmsg_int(o, "end_ns", 0, INT64_MAX, &v->end_ns) || taskmsg_int(o, "exit", 0, 255, &e))
		return -EPROTO;
	for (s = TASKS_OK; s <= TASKS_EXPECT && strcmp(st, tasks_status_name(s)); s++)
		;
	if (s > TASKS_EXPECT)
		return -EPROTO;
	v->task = (size_t)t;
	v->cmd = (size_t)c;
	v->exit = (int)e;
	v->status = (enum tasks_status)s;
	r = taskmsg_bytes(o, "out", &v->out, &v->outlen);
	if (!r)
		r = taskmsg_bytes(o, "err", &v->err, &v->errlen);
	if (r) {
		free(v->out);
		free(v->err);
		v->out = v->err = NULL;
	}
	return r;
}

/* The members a message of each kind has: its own key first. */
static const struct {
	const char *key, *other;
	size_t members;
} taskmsg_shapes[] = {
	[TASKMSG_HELLO] = { "hello", NULL, 1 },	  [TASKMSG_CLOCK] = { "clock", NULL, 1 },
	[TASKMSG_READY] = { "ready", NULL, 1 },	  [TASKMSG_RESULT] = { "result", NULL, 1 },
	[TASKMSG_DONE] = { "done", "late_ns", 2 }, [TASKMSG_ERROR] = { "error", "task", 2 },
};

/* The fields of message o of kind k into *m. 0, -EPROTO or -ENOMEM. */
static int taskmsg_fields(const json_t *o, enum taskmsg_kind k, size_t ntasks, const size_t *cmds,
			  struct taskmsg *m)
{
	const json_t *v = json_object_get(o, taskmsg_shapes[k].key);

	switch (k) {
	case TASKMSG_HELLO:
	case TASKMSG_ERROR:
		if (!json_is_string(v) || json_string_length(v) >= sizeof(m->text) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return -EPROTO;
		memcpy(m->text, json_string_value(v), json_string_length(v) + 1);
		return k == TASKMSG_ERROR ? taskmsg_int(o, "task", -1, (int64_t)ntasks - 1, &m->num)
					  : 0;
	case TASKMSG_CLOCK:
		return taskmsg_int(o, "clock", 1, INT64_MAX, &m->num);
	case TASKMSG_READY:
		return taskmsg_int(o, "ready", 0, (int64_t)ntasks - 1, &m->num);
	case TASKMSG_DONE:
		return taskmsg_int(o, "done", -1, (int64_t)ntasks - 1, &m->num) ||
		       taskmsg_int(o, "late_ns", INT64_MIN, INT64_MAX, &m->late_ns) ? -EPROTO : 0;
	case TASKMSG_RESULT:
		return taskmsg_parse_result(v, ntasks, cmds, &m->res);
	}
	return -EPROTO;
}

int taskmsg_parse(const char *line, size_t len, size_t ntasks, const size_t *cmds,
		  struct taskmsg *m)
{
	json_t *o;
	size_t k;
	int r = -EPROTO;

	memset(m, 0, sizeof(*m));
	if (len > TASKMSG_LINE_MAX)
		return -EPROTO;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o))
		goto out_free;
	for (k = 0; k < UTIL_ARRAY_SIZE(taskmsg_shapes); k++) {
		if (!json_object_get(o, taskmsg_shapes[k].key))
			continue;
		if (json_object_size(o) != taskmsg_shapes[k].members ||
		    (taskmsg_shapes[k].other && !json_object_get(o, taskmsg_shapes[k].other)))
			break;
		m->kind = (enum taskmsg_kind)k;
		r = taskmsg_fields(o, m->kind, ntasks, cmds, m);
		break;
	}
out_free:
	json_decref(o);
	return r;
}

/* o as a compact line with its newline; o is released. NULL when out of
 * memory. */
static char *taskmsg_dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL, *line = NULL;

	json_decref(o);
	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	free(s);
	return line;
}

char *taskmsg_result(const struct tasks_result *v)
{
	char *out = NULL, *err = NULL;
	json_t *o = NULL;

	if (!etcd_b64_encode(v->out ? v->out : "", v->outlen, &out) &&
	    !etcd_b64_encode(v->err ? v->err : "", v->errlen, &err))
		o = json_pack("{s:{s:I,s:I,s:I,s:I,s:i,s:s,s:s,s:s}}", "result", "task",
			      (json_int_t)v->task, "cmd", (json_int_t)v->cmd, "start_ns",
			      (json_int_t)v->start_ns, "end_ns", (json_int_t)v->end_ns, "exit", v->exit,
			      "status", tasks_status_name(v->status), "out", out, "err", err);
	free(out);
	free(err);
	return taskmsg_dump(o);
}

char *taskmsg_line(enum taskmsg_kind kind, int64_t num, int64_t late_ns, const char *text)
{
	switch (kind) {
	case TASKMSG_HELLO:
		return taskmsg_dump(json_pack("{s:s}", "hello", text));
	case TASKMSG_ERROR:
		return taskmsg_dump(json_pack("{s:s,s:I}", "error", text, "task", (json_int_t)num));
	case TASKMSG_DONE:
		return taskmsg_dump(json_pack("{s:I,s:I}", "done", (json_int_t)num, "late_ns",
					      (json_int_t)late_ns));
	case TASKMSG_CLOCK:
	case TASKMSG_READY:
		return taskmsg_dump(json_pack("{s:I}", taskmsg_shapes[kind].key, (json_int_t)num));
	default:
		return NULL;
	}
}
