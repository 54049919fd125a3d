/* cldoc: an experiment's fragment document compressed, in pieces, and
 * checked when it comes back (cldoc.h); no etcd here (cldoc_etcd.c), so
 * that the parsers can be fuzzed alone. */
#include "cldoc.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util.h"

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
