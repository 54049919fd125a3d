/* sup_proto: the shapes of the supervisor's requests and the parsers of
 * requests and replies (see sup_proto.h). */
#include "sup_proto.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct sup_key shape_none[] = { { NULL, JSON_NULL, false } };

/* links_set (exec/links.c) reads these; "set" maps properties to values
 * that links_set checks one by one. */
static const struct sup_key shape_link_set[] = {
	{ "link", JSON_STRING, true },
	{ "from", JSON_STRING, false },
	{ "set", JSON_OBJECT, true },
	{ NULL, JSON_NULL, false },
};

static const struct sup_key shape_vm_exec[] = {
	{ "node", JSON_STRING, true },
	{ "cmd", JSON_STRING, true },
	{ "timeout_ms", JSON_INTEGER, false },
	{ NULL, JSON_NULL, false },
};

/* vms_wait: the VMs' states once they differ from version since, or
 * after wait_ms (vtb up waits on it instead of polling). */
static const struct sup_key shape_vms_wait[] = {
	{ "since", JSON_INTEGER, true },
	{ "wait_ms", JSON_INTEGER, true },
	{ NULL, JSON_NULL, false },
};

static const struct sup_key shape_vm_attach[] = {
	{ "node", JSON_STRING, true },
	{ NULL, JSON_NULL, false },
};

/* vm_power: pause ("action": "stop") or resume ("cont") a VM (vtb node
 * stop, start) */
static const struct sup_key shape_vm_power[] = {
	{ "node", JSON_STRING, true },
	{ "action", JSON_STRING, true },
	{ NULL, JSON_NULL, false },
};

const struct sup_op sup_ops[SUP_OP_COUNT] = {
	[SUP_OP_PING] = { "ping", shape_none, false },
	[SUP_OP_STATUS] = { "status", shape_none, false },
	[SUP_OP_STOP] = { "stop", shape_none, false },
	[SUP_OP_LINKS_START] = { "links_start", shape_none, false },
	[SUP_OP_LINK_SET] = { "link_set", shape_link_set, false },
	[SUP_OP_VMS_START] = { "vms_start", shape_none, false },
	[SUP_OP_VMS] = { "vms", shape_none, false },
	[SUP_OP_VM_EXEC] = { "vm_exec", shape_vm_exec, true },
	[SUP_OP_VM_ATTACH] = { "vm_attach", shape_vm_attach, true },
	[SUP_OP_VMS_WAIT] = { "vms_wait", shape_vms_wait, true },
	[SUP_OP_VM_POWER] = { "vm_power", shape_vm_power, true },
};

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static const struct sup_key *shape_find(const struct sup_key *shape, const char *key)
{
	for (; shape->name; shape++)
		if (!strcmp(shape->name, key))
			return shape;
	return NULL;
}

/* Check req (an object with a valid "op") against shape: no key outside
 * it, every present key of its type, every required key present. 0 or
 * -EPROTO with err naming the key. */
static int shape_check(const char *op, const struct sup_key *shape, json_t *req, char *err,
		       size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(req, key, v) {
		const struct sup_key *k;

		if (!strcmp(key, "op"))
			continue;
		k = shape_find(shape, key);
		if (!k) {
			util_fmt(err, errlen, "request %s: unexpected key '%s'", op, key);
			return -EPROTO;
		}
		if (json_typeof(v) != k->type) {
			util_fmt(err, errlen, "request %s: '%s' must be %s, not %s", op, key,
				 type_name(k->type), type_name(json_typeof(v)));
			return -EPROTO;
		}
	}
	for (; shape->name; shape++) {
		if (shape->required && !json_object_get(req, shape->name)) {
			util_fmt(err, errlen, "request %s: '%s' is missing", op, shape->name);
			return -EPROTO;
		}
	}
	return 0;
}

int sup_proto_parse_request(const uint8_t *buf, size_t len, json_t **req, enum sup_opcode *op,
			    char *err, size_t errlen)
{
	json_error_t je;
	const char *name;
	json_t *j;
	int r;

	*req = NULL;
	if (len > SUP_MAX_MSG) {
		util_fmt(err, errlen, "request of %zu bytes (at most %u)", len, SUP_MAX_MSG);
		return -EMSGSIZE;
	}
	j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		util_fmt(err, errlen, "request is not a JSON object%s%s", j ? "" : ": ", j ? "" : je.text);
		r = -EBADMSG;
		goto out_free;
	}
	name = json_string_value(json_object_get(j, "op"));
	if (!name) {
		util_fmt(err, errlen, "request has no \"op\" string");
		r = -EPROTO;
		goto out_free;
	}
	for (size_t i = 0; i < SUP_OP_COUNT; i++) {
		if (strcmp(sup_ops[i].name, name))
			continue;
		r = shape_check(name, sup_ops[i].shape, j, err, errlen);
		if (r)
			goto out_free;
		*op = (enum sup_opcode)i;
		*req = j;
		return 0;
	}
	util_fmt(err, errlen, "unknown request '%.64s'", name);
	r = -EOPNOTSUPP;
out_free:
	json_decref(j);
	return r;
}

int sup_proto_parse_reply(const uint8_t *buf, size_t len, struct sup_reply *out, char *err,
			  size_t errlen)
{
	json_error_t je;
	json_t *ok, *e, *n;

	*out = (struct sup_reply){ .kind = SUP_REPLY_JSON };
	if (len > SUP_MAX_REPLY) {
		util_fmt(err, errlen, "a reply of %zu bytes (at most %u)", len, SUP_MAX_REPLY);
		return -EMSGSIZE;
	}
	if (len && buf[0] == (uint8_t)SUP_OUT) {
		*out = (struct sup_reply){ .kind = SUP_REPLY_OUTPUT, .data = buf + 1, .len = len - 1 };
		return 0;
	}
	out->json = json_loadb((const char *)buf, len, 0, &je);
	if (!json_is_object(out->json)) {
		util_fmt(err, errlen, "a malformed answer from the supervisor%s%s", out->json ? "" : ": ",
			 out->json ? "" : je.text);
		goto out_bad;
	}
	ok = json_object_get(out->json, "ok");
	e = json_object_get(out->json, "error");
	n = json_object_get(out->json, "errno");
	if (!json_is_boolean(ok) || (e && !json_is_string(e)) || (n && !json_is_integer(n))) {
		util_fmt(err, errlen, "a malformed answer from the supervisor: bad \"ok\", \"error\" or \"errno\"");
		goto out_bad;
	}
	out->ok = json_is_true(ok);
	if (!out->ok) {
		json_int_t v = json_integer_value(n);

		out->error = e ? json_string_value(e) : "refused";
		out->errnum = v > 0 && v < 4096 ? (int)v : EIO;
	}
	return 0;
out_bad:
	json_decref(out->json);
	out->json = NULL;
	return -EBADMSG;
}

void sup_reply_free(struct sup_reply *r)
{
	if (!r)
		return;
	json_decref(r->json);
	r->json = NULL;
}

void sup_assembly_free(struct sup_assembly *a)
{
	if (!a)
		return;
	free(a->buf);
	*a = (struct sup_assembly){ 0 };
}

/* Keep a piece (the message without its SUP_PART byte) of n bytes. 0 or
 * -EMSGSIZE / -ENOMEM with err. */
static int assembly_add(struct sup_assembly *a, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	if (!n)
		return 0; /* an empty piece: nothing to keep (a->buf may be NULL) */
	if (n > SUP_MAX_REPLY - a->len) {
		util_fmt(err, errlen, "the supervisor's reply is over %u MiB", SUP_MAX_REPLY >> 20);
		return -EMSGSIZE;
	}
	if (util_grow((void **)&a->buf, &a->cap, a->len + n, 1)) {
		util_fmt(err, errlen, "no memory for a reply of %zu bytes", a->len + n);
		return -ENOMEM;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
	return 0;
}

int sup_proto_feed_reply(struct sup_assembly *a, const uint8_t *buf, size_t len,
			 struct sup_reply *out, char *err, size_t errlen)
{
	int r;

	*out = (struct sup_reply){ .kind = SUP_REPLY_JSON };
	if (len > SUP_MAX_MSG) {
		util_fmt(err, errlen, "a message of %zu bytes from the supervisor (at most %u)", len,
			 SUP_MAX_MSG);
		r = -EMSGSIZE;
		goto out_reset;
	}
	if (len && buf[0] == (uint8_t)SUP_PART) {
		r = assembly_add(a, buf + 1, len - 1, err, errlen);
		if (r)
			goto out_reset;
		return 0;
	}
	if (!a->len)
		return sup_proto_parse_reply(buf, len, out, err, errlen) ?: 1;
	if (len && buf[0] == (uint8_t)SUP_OUT) {
		util_fmt(err, errlen, "a malformed answer from the supervisor: output inside a reply");
		r = -EBADMSG;
		goto out_reset;
	}
	r = assembly_add(a, buf, len, err, errlen);
	if (!r && a->buf[0] == (uint8_t)SUP_OUT) {
		/* output would point into a->buf, freed below: only JSON is pieced */
		util_fmt(err, errlen, "a malformed answer from the supervisor: output in pieces");
		r = -EBADMSG;
	} else if (!r) {
		r = sup_proto_parse_reply(a->buf, a->len, out, err, errlen) ?: 1;
	}
out_reset:
	sup_assembly_free(a);
	return r;
}
