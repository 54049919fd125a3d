/* etcd_parse: the checks and parsers of etcd's JSON gateway replies and of
 * its watch stream (see etcd_parse.h). */
#include "etcd_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* How much of a reply that is not JSON is quoted in err. */
#define ETCD_QUOTE_MAX 120

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int etcd_b64_encode(const void *data, size_t len, char **out)
{
	const unsigned char *p = data;
	size_t o = 0;
	char *s = malloc((len + 2) / 3 * 4 + 1);

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		s[o++] = b64_chars[v >> 18 & 63];
		s[o++] = b64_chars[v >> 12 & 63];
		s[o++] = i + 1 < len ? b64_chars[v >> 6 & 63] : '=';
		s[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
	}
	s[o] = '\0';
	*out = s;
	return 0;
}

/* The value of base64 digit c, or -1. */
static int b64_value(char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

int etcd_b64_decode(const char *s, size_t slen, char **out, size_t *outlen)
{
	size_t o = 0;
	char *d;

	if (slen % 4)
		return -EINVAL;
	d = malloc(slen / 4 * 3 + 1);
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < slen; i += 4) {
		bool last = i + 4 == slen;
		int v[4];
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			v[k] = b64_value(s[i + k]);
			if (v[k] < 0 && last && k >= 2 && s[i + k] == '=' && (k == 3 || s[i + 3] == '='))
				v[k] = 0, pad++;
			else if (v[k] < 0)
				goto out_bad;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		/* canonical: the bits the padding drops are zero */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			goto out_bad;
		d[o++] = (char)(w >> 16);
		if (pad < 2)
			d[o++] = (char)(w >> 8 & 0xff);
		if (pad < 1)
			d[o++] = (char)(w & 0xff);
	}
	d[o] = '\0';
	*out = d;
	*outlen = o;
	return 0;
out_bad:
	free(d);
	return -EINVAL;
}

int etcd_json_int64(const json_t *v, int64_t *out)
{
	const char *s;
	char *end;
	long long x;

	if (!v) {
		*out = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (!*s || json_string_length(v) != strlen(s) || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return -EINVAL;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = x;
	return 0;
}

/* gRPC status codes (google.golang.org/grpc/codes) as errnos: the one table
 * every error of etcd goes through. */
static const int grpc_errno[] = {
	[1] = ECANCELED,  /* Canceled */
	[2] = EIO,        /* Unknown */
	[3] = EINVAL,     /* InvalidArgument */
	[4] = ETIMEDOUT,  /* DeadlineExceeded: etcd's own request timeout */
	[5] = ENOENT,     /* NotFound: a lease that is gone */
	[6] = EEXIST,     /* AlreadyExists */
	[7] = EPERM,      /* PermissionDenied */
	[8] = ENOSPC,     /* ResourceExhausted: request too large, quota */
	[9] = EINVAL,     /* FailedPrecondition */
	[10] = EAGAIN,    /* Aborted */
	[11] = ESTALE,    /* OutOfRange: a revision compacted away */
	[12] = ENOSYS,    /* Unimplemented */
	[13] = EIO,       /* Internal */
	[14] = EAGAIN,    /* Unavailable: no leader */
	[15] = EIO,       /* DataLoss */
	[16] = EACCES,    /* Unauthenticated */
};

static int grpc_to_errno(json_int_t code)
{
	if (code > 0 && code < (json_int_t)UTIL_ARRAY_SIZE(grpc_errno) && grpc_errno[code])
		return -grpc_errno[code];
	return -EPROTO;
}

/* When o is an error reply, fill err with etcd's words and return its
 * errno; 0 when it is not one. */
static int error_of(const json_t *o, char *err)
{
	const json_t *e = json_object_get(o, "error");
	const json_t *msg, *code;

	if (!e)
		return 0;
	if (json_is_object(e)) { /* a stream's error */
		msg = json_object_get(e, "message");
		code = json_object_get(e, "grpc_code");
	} else {
		msg = json_object_get(o, "message");
		code = json_object_get(o, "code");
		if (!json_is_string(msg))
			msg = e;
	}
	util_fmt(err, UTIL_ERR_LEN, "etcd says: %s",
		 json_is_string(msg) ? json_string_value(msg) : "(an error without a message)");
	return grpc_to_errno(json_is_integer(code) ? json_integer_value(code) : -1);
}

int etcd_reply_parse(const char *buf, size_t len, json_t **out, char *err)
{
	json_error_t je;
	json_t *o;
	int r;

	*out = NULL;
	if (len > ETCD_REPLY_MAX) {
		util_fmt(err, UTIL_ERR_LEN, "a reply of %zu bytes (more than %u)", len,
			 ETCD_REPLY_MAX);
		return -EMSGSIZE;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		int q = len < ETCD_QUOTE_MAX ? (int)len : ETCD_QUOTE_MAX;

		util_fmt(err, UTIL_ERR_LEN, "not a JSON object (%s): '%.*s'",
			 o ? "another JSON value" : je.text, q, buf ? buf : "");
		json_decref(o);
		return -EPROTO;
	}
	r = error_of(o, err);
	if (r) {
		json_decref(o);
		return r;
	}
	*out = o;
	return 0;
}

void etcd_kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->val);
	*kv = (struct etcd_kv){ 0 };
}

/* Decode the base64 string member name of o into *out (len bytes); an
 * absent member is "" when optional. */
static int b64_member(const json_t *o, const char *name, bool optional, char **out, size_t *len,
		      char *err)
{
	const json_t *v = json_object_get(o, name);

	if (!v && optional)
		return etcd_b64_decode("", 0, out, len);
	if (!json_is_string(v) ||
	    etcd_b64_decode(json_string_value(v), json_string_length(v), out, len)) {
		util_fmt(err, UTIL_ERR_LEN, "a kv whose %s is not base64", name);
		return -EPROTO;
	}
	return 0;
}

int etcd_kv_from_json(const json_t *o, struct etcd_kv *kv, char *err)
{
	size_t klen;
	int r;

	*kv = (struct etcd_kv){ 0 };
	if (!json_is_object(o)) {
		util_fmt(err, UTIL_ERR_LEN, "a kv that is not an object");
		return -EPROTO;
	}
	r = b64_member(o, "key", false, &kv->key, &klen, err);
	if (r)
		goto out_clear;
	if (memchr(kv->key, '\0', klen)) {
		util_fmt(err, UTIL_ERR_LEN, "a key with a NUL byte");
		r = -EPROTO;
		goto out_clear;
	}
	r = b64_member(o, "value", true, &kv->val, &kv->len, err);
	if (r)
		goto out_clear;
	if (etcd_json_int64(json_object_get(o, "create_revision"), &kv->create_rev) ||
	    etcd_json_int64(json_object_get(o, "mod_revision"), &kv->mod_rev) ||
	    etcd_json_int64(json_object_get(o, "lease"), &kv->lease)) {
		util_fmt(err, UTIL_ERR_LEN, "a kv (key '%s') whose revision or lease is not a number",
			 kv->key);
		r = -EPROTO;
		goto out_clear;
	}
	return 0;
out_clear:
	etcd_kv_clear(kv);
	return r;
}

/* The header's revision of reply o. */
static int header_rev(const json_t *o, int64_t *rev, char *err)
{
	const json_t *h = json_object_get(o, "header");

	if (!json_is_object(h) || etcd_json_int64(json_object_get(h, "revision"), rev)) {
		util_fmt(err, UTIL_ERR_LEN, "a reply without a header revision");
		return -EPROTO;
	}
	return 0;
}

int etcd_reply_range(const char *buf, size_t len, struct etcd_kv **kvs, size_t *n, int64_t *rev,
		     char *err)
{
	struct etcd_kv *v = NULL;
	const json_t *a;
	json_t *o;
	size_t cnt = 0;
	int r;

	*kvs = NULL;
	*n = 0;
	r = etcd_reply_parse(buf, len, &o, err);
	if (r)
		return r;
	r = header_rev(o, rev, err);
	if (r)
		goto out_put;
	a = json_object_get(o, "kvs");
	if (a && !json_is_array(a)) {
		util_fmt(err, UTIL_ERR_LEN, "a range reply whose kvs is not a list");
		r = -EPROTO;
		goto out_put;
	}
	if (json_array_size(a)) {
		v = calloc(json_array_size(a), sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			goto out_put;
		}
	}
	for (; cnt < json_array_size(a); cnt++) {
		r = etcd_kv_from_json(json_array_get(a, cnt), &v[cnt], err);
		if (r) {
			etcd_kvs_free(v, cnt);
			goto out_put;
		}
	}
	*kvs = v;
	*n = cnt;
out_put:
	json_decref(o);
	return r;
}

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		etcd_kv_clear(&kvs[i]);
	free(kvs);
}

int etcd_reply_deleted(const char *buf, size_t len, int64_t *deleted, char *err)
{
	json_t *o;
	int r = etcd_reply_parse(buf, len, &o, err);

	if (r)
		return r;
	if (etcd_json_int64(json_object_get(o, "deleted"), deleted) || *deleted < 0) {
		util_fmt(err, UTIL_ERR_LEN, "a deleterange reply whose deleted is not a count");
		r = -EPROTO;
	}
	json_decref(o);
	return r;
}

int etcd_reply_txn(const char *buf, size_t len, bool *succeeded, char *err)
{
	const json_t *s;
	json_t *o;
	int64_t rev;
	int r = etcd_reply_parse(buf, len, &o, err);

	if (r)
		return r;
	r = header_rev(o, &rev, err);
	s = json_object_get(o, "succeeded"); /* absent when false (proto3) */
	if (!r && s && !json_is_boolean(s)) {
		util_fmt(err, UTIL_ERR_LEN, "a txn reply whose succeeded is not a boolean");
		r = -EPROTO;
	}
	*succeeded = json_is_true(s);
	json_decref(o);
	return r;
}

int etcd_reply_grant(const char *buf, size_t len, int64_t *id, int64_t *ttl, char *err)
{
	json_t *o;
	int r = etcd_reply_parse(buf, len, &o, err);

	if (r)
		return r;
	if (etcd_json_int64(json_object_get(o, "ID"), id) ||
	    etcd_json_int64(json_object_get(o, "TTL"), ttl) || *id == 0 || *ttl <= 0) {
		util_fmt(err, UTIL_ERR_LEN, "a lease grant reply without an ID and a TTL");
		r = -EPROTO;
	}
	json_decref(o);
	return r;
}

int etcd_reply_keepalive(const char *buf, size_t len, int64_t *ttl, char *err)
{
	const json_t *res;
	json_t *o;
	int r = etcd_reply_parse(buf, len, &o, err);

	if (r)
		return r;
	res = json_object_get(o, "result");
	if (!json_is_object(res) || etcd_json_int64(json_object_get(res, "TTL"), ttl)) {
		util_fmt(err, UTIL_ERR_LEN, "a keepalive reply without a result");
		r = -EPROTO;
	} else if (*ttl <= 0) {
		util_fmt(err, UTIL_ERR_LEN, "the lease has expired or was revoked");
		r = -ENOENT;
	}
	json_decref(o);
	return r;
}

void etcd_wstream_init(struct etcd_wstream *s)
{
	*s = (struct etcd_wstream){ 0 };
	util_buf_init(&s->line);
}

void etcd_wstream_free(struct etcd_wstream *s)
{
	util_buf_free(&s->line);
}

/* Call cb for each event of list evs. Returns 0 or cb's nonzero value. */
static int watch_events(const json_t *evs, etcd_watch_cb cb, void *arg, char *err)
{
	for (size_t i = 0; i < json_array_size(evs); i++) {
		const json_t *ev = json_array_get(evs, i);
		const json_t *type = json_object_get(ev, "type");
		struct etcd_kv kv;
		bool deleted;
		int r;

		if (type && !json_is_string(type)) {
			util_fmt(err, UTIL_ERR_LEN, "a watch event whose type is not a string");
			return -EPROTO;
		}
		deleted = type && !strcmp(json_string_value(type), "DELETE");
		if (type && !deleted && strcmp(json_string_value(type), "PUT")) {
			util_fmt(err, UTIL_ERR_LEN, "a watch event of type '%s'", json_string_value(type));
			return -EPROTO;
		}
		r = etcd_kv_from_json(json_object_get(ev, "kv"), &kv, err);
		if (r)
			return r;
		r = cb(&kv, deleted, arg);
		etcd_kv_clear(&kv);
		if (r)
			return r;
	}
	return 0;
}

int etcd_watch_line(struct etcd_wstream *s, const char *line, size_t len, etcd_watch_cb cb,
		    void *arg, char *err)
{
	const json_t *res, *evs, *cmp;
	json_t *o;
	int r;

	if (len == 0 || (len == 1 && line[0] == '\r'))
		return 0; /* a blank line */
	r = etcd_reply_parse(line, len, &o, err);
	if (r)
		return r;
	res = json_object_get(o, "result");
	evs = json_object_get(res, "events");
	if (!json_is_object(res) || (evs && !json_is_array(evs)) ||
	    header_rev(res, &s->rev, err)) {
		util_fmt(err, UTIL_ERR_LEN, "a watch line that is not a result");
		r = -EPROTO;
		goto out_put;
	}
	if (json_is_true(json_object_get(res, "created")))
		s->created = true;
	if (json_is_true(json_object_get(res, "canceled"))) {
		const json_t *why = json_object_get(res, "cancel_reason");
		int64_t crev = 0;

		cmp = json_object_get(res, "compact_revision");
		r = etcd_json_int64(cmp, &crev) == 0 && crev > 0 ? -ESTALE : -ECANCELED;
		util_fmt(err, UTIL_ERR_LEN, "etcd canceled the watch: %s (compacted up to %" PRId64 ")",
			 json_is_string(why) ? json_string_value(why) : "no reason given", crev);
		goto out_put;
	}
	r = watch_events(evs, cb, arg, err);
out_put:
	json_decref(o);
	return r;
}

int etcd_wstream_feed(struct etcd_wstream *s, const char *data, size_t len, etcd_watch_cb cb,
		      void *arg, char *err)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		int r;

		if (s->line.len + take > ETCD_REPLY_MAX) {
			util_fmt(err, UTIL_ERR_LEN, "a watch line of more than %u bytes", ETCD_REPLY_MAX);
			return -EMSGSIZE;
		}
		util_buf_append(&s->line, data, take);
		if (s->line.oom)
			return -ENOMEM;
		if (!nl)
			return 0;
		data += take + 1, len -= take + 1;
		r = etcd_watch_line(s, s->line.s ? s->line.s : "", s->line.len, cb, arg, err);
		s->line.len = 0;
		if (s->line.s)
			s->line.s[0] = '\0';
		if (r)
			return r;
	}
	return 0;
}
