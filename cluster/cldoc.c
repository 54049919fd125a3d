/* cldoc: an experiment's fragment document in etcd, compressed, in
 * pieces, checked when read back (cldoc.h). */
#include "cldoc.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "etcd.h"
#include "util.h"

/* "/vtb/exp/ID/doc/NNNN": four digits keep the pieces in key order. */
#define CLDOC_PIECE_KEY "/vtb/exp/%s/doc/%04" PRIu32

int cldoc_pack(const char *doc, size_t len, size_t piece, uint8_t **z, size_t *zlen,
	       struct cldoc_head *h)
{
	uLongf n;

	*z = NULL;
	*zlen = 0;
	if (len < 3 || doc[0] != '{' || len > CLDOC_MAX || !piece)
		return -EINVAL;
	n = compressBound((uLong)len);
	*z = malloc(n);
	if (!*z)
		return -ENOMEM;
	if (compress2(*z, &n, (const Bytef *)doc, (uLong)len, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(*z);
		*z = NULL;
		return -ENOMEM;
	}
	*zlen = n;
	h->bytes = len;
	h->zbytes = n;
	h->parts = (uint32_t)((n + piece - 1) / piece);
	h->crc32 = (uint32_t)crc32(0L, (const Bytef *)doc, (uInt)len);
	return 0;
}

char *cldoc_head_dump(const struct cldoc_head *h)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "host", h->host, "parts",
			      (json_int_t)h->parts, "bytes", (json_int_t)h->bytes, "zbytes",
			      (json_int_t)h->zbytes, "crc32", (json_int_t)h->crc32);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

/* Field name of o as an integer of 0 to max into *v: 0 or -EPROTO. */
static int cldoc_int(json_t *o, const char *name, uint64_t max, uint64_t *v)
{
	json_t *j = json_object_get(o, name);

	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    (uint64_t)json_integer_value(j) > max)
		return -EPROTO;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

int cldoc_head_parse(const char *text, size_t len, struct cldoc_head *h, char *err)
{
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *host;
	uint64_t parts = 0, crc = 0;
	int r = -EPROTO;

	host = json_object_get(o, "host");
	if (!json_is_object(o) || json_object_size(o) != 5 || !json_is_string(host) ||
	    clconf_host_check(json_string_value(host)) ||
	    cldoc_int(o, "parts", CLDOC_PARTS_MAX, &parts) ||
	    cldoc_int(o, "bytes", CLDOC_MAX, &h->bytes) ||
	    cldoc_int(o, "zbytes", (uint64_t)CLDOC_PARTS_MAX * CLDOC_PIECE_MAX, &h->zbytes) ||
	    cldoc_int(o, "crc32", UINT32_MAX, &crc) || !parts) {
		util_fmt(err, UTIL_ERR_LEN, "a fragment's head that is not {\"host\", \"parts\", "
			 "\"bytes\", \"zbytes\", \"crc32\"} in range");
		goto out;
	}
	snprintf(h->host, sizeof(h->host), "%s", json_string_value(host));
	h->parts = (uint32_t)parts;
	h->crc32 = (uint32_t)crc;
	r = 0;
out:
	json_decref(o);
	return r;
}

int cldoc_unpack(const struct cldoc_head *h, const uint8_t *z, size_t zlen, char **doc,
		 size_t *len, char *err)
{
	size_t pre = strlen(h->host) + sizeof("{\"host\":\"\",") - 1;
	uLongf n = (uLongf)h->bytes;
	char *d;
	int k;

	*doc = NULL;
	*len = 0;
	if (zlen != h->zbytes || h->bytes < 3 || h->bytes > CLDOC_MAX) {
		util_fmt(err, UTIL_ERR_LEN, "the fragment's pieces hold %zu bytes, not the %" PRIu64
			 " its head says", zlen, h->zbytes);
		return -EBADMSG;
	}
	d = malloc(pre + h->bytes + 1);
	if (!d)
		return -ENOMEM;
	/* the shared document from its '{' on, after this host's member */
	k = uncompress((Bytef *)d + pre - 1, &n, z, (uLong)zlen);
	if (k != Z_OK || n != h->bytes || d[pre - 1] != '{' ||
	    (uint32_t)crc32(0L, (const Bytef *)d + pre - 1, (uInt)n) != h->crc32) {
		util_fmt(err, UTIL_ERR_LEN, "the fragment's document does not check out (%s)",
			 k == Z_MEM_ERROR ? "out of memory" : k != Z_OK ? "does not decompress"
			 : n != h->bytes ? "not the size its head says" : "its CRC-32 is not its head's");
		free(d);
		return k == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
	}
	snprintf(d, pre, "{\"host\":\"%s\"", h->host);
	d[pre - 1] = ','; /* over the document's '{' */
	*len = pre - 1 + (size_t)n;
	d[*len] = '\0';
	*doc = d;
	return 0;
}

int cldoc_put(struct etcd *e, const char *id, const char *doc, size_t len,
	      const char (*hosts)[CLCONF_HOST_MAX], size_t nhosts, char *err)
{
	struct cldoc_head h = { .host = "" };
	char key[128], *head;
	uint8_t *z = NULL;
	size_t zlen, i;
	uint32_t k;
	int r = cldoc_pack(doc, len, CLDOC_PIECE_MAX, &z, &zlen, &h);

	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot compress the experiment's document: %s",
			 strerror(-r));
	for (k = 0; !r && k < h.parts; k++) {
		size_t at = (size_t)k * CLDOC_PIECE_MAX;

		snprintf(key, sizeof(key), CLDOC_PIECE_KEY, id, k);
		r = etcd_put(e, key, z + at, zlen - at < CLDOC_PIECE_MAX ? zlen - at : CLDOC_PIECE_MAX,
			     0, err);
	}
	for (i = 0; !r && i < nhosts; i++) {
		snprintf(h.host, sizeof(h.host), "%s", hosts[i]);
		head = cldoc_head_dump(&h);
		snprintf(key, sizeof(key), "/vtb/exp/%s/frag/%s", id, hosts[i]);
		r = head ? etcd_put(e, key, head, strlen(head), 0, err) : -ENOMEM;
		free(head);
	}
	free(z);
	return r;
}

int cldoc_get(struct etcd *e, const char *id, const char *host, char **doc, size_t *len,
	      char *err)
{
	struct cldoc_head h;
	char key[128], *val = NULL;
	uint8_t *z = NULL;
	size_t vlen, at = 0;
	uint32_t k;
	int r;

	*doc = NULL;
	snprintf(key, sizeof(key), "/vtb/exp/%s/frag/%s", id, host);
	r = etcd_get(e, key, &val, &vlen, NULL, err);
	if (!r && (r = cldoc_head_parse(val, vlen, &h, err)) == 0 && strcmp(h.host, host)) {
		util_fmt(err, UTIL_ERR_LEN, "%s: the head of host '%s'", key, h.host);
		r = -EPROTO;
	}
	free(val);
	z = r ? NULL : malloc(h.zbytes ? h.zbytes : 1);
	if (!r && !z)
		r = -ENOMEM;
	for (k = 0; !r && k < h.parts; k++) {
		snprintf(key, sizeof(key), CLDOC_PIECE_KEY, id, k);
		r = etcd_get(e, key, &val, &vlen, NULL, err);
		if (r == -ENOENT)
			util_fmt(err, UTIL_ERR_LEN, "%s: piece %" PRIu32 " of %" PRIu32 " is missing",
				 key, k + 1, h.parts);
		if (!r && (vlen > h.zbytes - at || (k + 1 < h.parts && vlen != CLDOC_PIECE_MAX))) {
			util_fmt(err, UTIL_ERR_LEN, "%s: a piece of %zu bytes, not what the head says",
				 key, vlen);
			r = -EBADMSG;
		}
		if (!r) {
			memcpy(z + at, val, vlen);
			at += vlen;
		}
		free(val);
		val = NULL;
	}
	if (!r)
		r = cldoc_unpack(&h, z, at, doc, len, err);
	if (r == -EPROTO) /* a head that does not parse */
		r = -EBADMSG;
	free(z);
	return r;
}
