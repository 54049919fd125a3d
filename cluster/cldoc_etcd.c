/* cldoc_etcd: an experiment's fragment document written to etcd and read
 * back (cldoc.h). */
#include "cldoc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "util.h"

/* "/vtb/exp/ID/doc/NNNN": four digits keep the pieces in key order. */
#define CLDOC_PIECE_KEY "/vtb/exp/%s/doc/%04" PRIu32

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
