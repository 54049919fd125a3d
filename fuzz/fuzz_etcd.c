/* fuzz_etcd: libFuzzer target for the parsers of etcd's JSON gateway
 * replies (cluster/etcd_parse.c). The first byte sets a chunk size (1-16);
 * the rest is what an etcd endpoint "says". The bytes go to each reply
 * parser (range, txn, deleterange, lease grant, keepalive), which must
 * accept them with well-formed results or refuse them with a negative
 * errno and a sentence; and to the watch stream at once and in chunks,
 * which must give the same events and the same end both ways. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal must say why; an acceptance must not be an error. */
static void check(int r, const char *err)
{
	if (r > 0 || (r < 0 && !err[0]))
		abort();
}

/* The watch callback: log each event; stop (return 3) at a key "stop". */
static int log_event(const struct etcd_kv *kv, bool deleted, void *arg)
{
	struct util_buf *log = arg;

	if (!kv->key || !kv->val || kv->val[kv->len] != '\0')
		abort();
	util_buf_printf(log, "%c %s %zu %lld %lld %lld\n", deleted ? 'D' : 'P', kv->key, kv->len,
			(long long)kv->create_rev, (long long)kv->mod_rev, (long long)kv->lease);
	util_buf_append(log, kv->val, kv->len);
	return strcmp(kv->key, "stop") ? 0 : 3;
}

static void replies(const char *s, size_t n)
{
	char err[UTIL_ERR_LEN] = "";
	struct etcd_kv *kvs;
	size_t nkv;
	int64_t a, b;
	bool ok;
	int r;

	r = etcd_reply_range(s, n, &kvs, &nkv, &a, err);
	check(r, err);
	if (r && (kvs || nkv))
		abort();
	for (size_t i = 0; i < nkv; i++)
		if (kvs[i].val[kvs[i].len] != '\0' || !kvs[i].key)
			abort();
	etcd_kvs_free(kvs, nkv);
	err[0] = '\0';
	check(etcd_reply_txn(s, n, &ok, err), err);
	err[0] = '\0';
	r = etcd_reply_deleted(s, n, &a, err);
	check(r, err);
	if (r == 0 && a < 0)
		abort();
	err[0] = '\0';
	r = etcd_reply_grant(s, n, &a, &b, err);
	check(r, err);
	if (r == 0 && (a == 0 || b <= 0))
		abort();
	err[0] = '\0';
	r = etcd_reply_keepalive(s, n, &a, err);
	check(r, err);
	if (r == 0 && a <= 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ea[UTIL_ERR_LEN] = "", eb[UTIL_ERR_LEN] = "";
	struct etcd_wstream a, b;
	struct util_buf la, lb;
	const char *s;
	size_t chunk;
	int ra, rb = 0;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] % 16) + 1;
	s = (const char *)data + 1;
	size--;
	replies(s, size);
	util_buf_init(&la);
	util_buf_init(&lb);
	etcd_wstream_init(&a);
	etcd_wstream_init(&b);
	ra = etcd_wstream_feed(&a, s, size, log_event, &la, ea);
	for (size_t off = 0; off < size && rb == 0; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		rb = etcd_wstream_feed(&b, s + off, n, log_event, &lb, eb);
	}
	if (ra != rb || la.len != lb.len || (la.len && memcmp(la.s, lb.s, la.len)) ||
	    strcmp(ea, eb)) {
		fprintf(stderr, "at once: %d %s\n%.*s\nin chunks of %zu: %d %s\n%.*s\n", ra, ea,
			(int)la.len, la.s ? la.s : "", chunk, rb, eb, (int)lb.len, lb.s ? lb.s : "");
		abort();
	}
	if (ra != 0 && ra != 3)
		check(ra, ea);
	etcd_wstream_free(&a);
	etcd_wstream_free(&b);
	util_buf_free(&la);
	util_buf_free(&lb);
	return 0;
}
