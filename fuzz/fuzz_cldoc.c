/* fuzz_cldoc: libFuzzer target for an experiment's document as it comes
 * back from etcd (cluster/cldoc.c): the bytes up to the first NUL are a
 * host's head, the rest the pieces put together. A head is accepted with
 * every field in range or refused with -EPROTO; with an accepted head the
 * pieces give the host's fragment (of exactly the head's size, behind the
 * host's member) or are refused with -EBADMSG (-ENOMEM: too large to
 * allocate here). Input that starts with '{' also packs and comes back
 * the same. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cldoc.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A document packed must come back as itself behind host "h". */
static void check_pack(const uint8_t *data, size_t size)
{
	struct cldoc_head h = { .host = "h" };
	char err[UTIL_ERR_LEN], *doc = NULL;
	uint8_t *z = NULL;
	size_t zlen, len;
	int r = cldoc_pack((const char *)data, size, 64, &z, &zlen, &h);

	if (r && r != -EINVAL && r != -ENOMEM)
		abort();
	if (r)
		return;
	if (cldoc_unpack(&h, z, zlen, &doc, &len, err) || len != size + 11 ||
	    memcmp(doc, "{\"host\":\"h\",", 12) || memcmp(doc + 12, data + 1, size - 1))
		abort();
	free(doc);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t hlen = nul ? (size_t)(nul - data) : size, len;
	struct cldoc_head h;
	char err[UTIL_ERR_LEN], *doc = NULL;
	int r = cldoc_head_parse((const char *)data, hlen, &h, err);

	if (r && r != -EPROTO)
		abort();
	if (!r && nul) {
		r = cldoc_unpack(&h, nul + 1, size - hlen - 1, &doc, &len, err);
		if (r && r != -EBADMSG && r != -ENOMEM)
			abort();
		if (!r && (len != strlen(h.host) + 10 + h.bytes || strlen(doc) > len ||
			   memcmp(doc, "{\"host\":\"", 9)))
			abort();
		free(doc);
	}
	if (size && data[0] == '{')
		check_pack(data, size);
	return 0;
}
