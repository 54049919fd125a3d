/* etcd_parse: etcd's JSON gateway replies, checked before anything uses
 * them. Every parser takes (const char *, size_t), the bytes as they came,
 * not NUL-terminated, so that it can be fuzzed (fuzz/fuzz_etcd.c) and
 * tested with canned replies (tests/unit/test_etcd_parse.c). No I/O, no
 * curl, nothing prints. err (UTIL_ERR_LEN, may be NULL) gets etcd's own
 * words when it refused, or what was wrong with the bytes. */
#ifndef VTB_ETCD_PARSE_H
#define VTB_ETCD_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd.h"
#include "util.h"

/* The longest reply (or watch line) taken: a range over many keys can be
 * large (etcd's values go up to 1.5 MiB each), but past this a reply is a
 * fault, not data, and is refused instead of eating memory. */
#define ETCD_REPLY_MAX (256u << 20)

/* base64 (RFC 4648, with padding), as Go encodes []byte in JSON. encode:
 * *out NUL-terminated, caller frees; -ENOMEM. decode: *out (caller frees)
 * NUL-terminated, *outlen its bytes; -EINVAL for anything but canonical
 * padded base64. */
int etcd_b64_encode(const void *data, size_t len, char **out);
int etcd_b64_decode(const char *s, size_t slen, char **out, size_t *outlen);

/* An int64 as the gateway writes it (a JSON string of decimal digits) or as
 * a JSON integer; absent (NULL) is 0. -EINVAL otherwise. */
int etcd_json_int64(const json_t *v, int64_t *out);

/* Parse one reply (buf, len) into *out (caller decrefs): a JSON object. An
 * error reply ({"error": ..., "code": N} or {"error": {"grpc_code": N,
 * "message": ...}}) returns the errno of its gRPC code with etcd's message
 * in err, and nothing in *out. */
int etcd_reply_parse(const char *buf, size_t len, json_t **out, char *err);

/* Read one kv object of a reply into kv (fields the caller frees with
 * etcd_kv_clear). */
int etcd_kv_from_json(const json_t *o, struct etcd_kv *kv, char *err);
void etcd_kv_clear(struct etcd_kv *kv);

/* A range reply: its kvs (caller frees with etcd_kvs_free) and the
 * header's revision. */
int etcd_reply_range(const char *buf, size_t len, struct etcd_kv **kvs, size_t *n, int64_t *rev,
		     char *err);
/* A deleterange reply: how many keys went. */
int etcd_reply_deleted(const char *buf, size_t len, int64_t *deleted, char *err);
/* A txn reply: which branch ran. */
int etcd_reply_txn(const char *buf, size_t len, bool *succeeded, char *err);
/* A lease grant reply: the lease's id and TTL. */
int etcd_reply_grant(const char *buf, size_t len, int64_t *id, int64_t *ttl, char *err);
/* A keepalive reply ({"result": {...}}): the TTL left; -ENOENT when the
 * lease is gone (etcd answers with no TTL, or TTL 0 or less). */
int etcd_reply_keepalive(const char *buf, size_t len, int64_t *ttl, char *err);

/* The watch stream: newline-delimited JSON, one {"result": ...} per line,
 * read in whatever pieces the network gives. */
typedef int (*etcd_watch_cb)(const struct etcd_kv *kv, bool deleted, void *arg);
struct etcd_wstream {
	struct util_buf line; /* the bytes of a line not yet complete */
	int64_t rev;          /* the revision of the last result seen */
	bool created;         /* the watch was acknowledged */
};

void etcd_wstream_init(struct etcd_wstream *s);
void etcd_wstream_free(struct etcd_wstream *s);
/* Take len more bytes of the stream; call cb for each event of each whole
 * line, in order. Returns 0 to go on, the callback's nonzero value (the
 * rest of the bytes are not looked at), or a negative errno for a line
 * that is not a watch result, an error from etcd, or a watch etcd
 * canceled (-ESTALE when compacted), with err saying which. */
int etcd_wstream_feed(struct etcd_wstream *s, const char *data, size_t len, etcd_watch_cb cb,
		      void *arg, char *err);
/* One line of the stream (without its newline), as etcd_wstream_feed. */
int etcd_watch_line(struct etcd_wstream *s, const char *line, size_t len, etcd_watch_cb cb,
		    void *arg, char *err);

#endif
