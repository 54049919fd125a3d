/* etcd: a client of etcd's v3 JSON gateway (grpc-gateway, etcd 3.4: paths
 * /v3/kv/range, /v3/kv/put, /v3/kv/deleterange, /v3/kv/txn, /v3/lease/...,
 * /v3/watch), over HTTP with libcurl's easy API and JSON with jansson. Keys
 * and values travel base64-encoded; int64 fields come back as JSON strings.
 *
 * A handle holds a list of endpoints (URLs); a request goes to the one that
 * answered last and, when it cannot connect (refused, unreachable, no
 * answer within ETCD_CONNECT_TIMEOUT_MS), to the next, in turn. A request
 * that reached etcd is never sent again elsewhere (a transaction might
 * otherwise apply twice). A handle is not thread-safe: one per thread.
 *
 * Every function returns 0 or a negative errno and fills err (UTIL_ERR_LEN
 * bytes, may be NULL) with a sentence naming the endpoint and, when etcd
 * refused, etcd's own words. etcd's gRPC codes map to errnos in one table
 * (etcd_parse.c): NotFound -ENOENT, InvalidArgument -EINVAL, ... Nothing
 * here prints. */
#ifndef VTB_ETCD_H
#define VTB_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd;

/* One key-value pair as etcd holds it. key and val are NUL-terminated
 * (val may hold NULs too: len counts its bytes). lease is 0 when none. */
struct etcd_kv {
	char *key;
	char *val;
	size_t len;
	int64_t create_rev, mod_rev, lease;
};

/* Open a handle on endpoints ("http://10.0.0.1:2379,http://10.0.0.2:2379")
 * and check that one of them answers (/v3/maintenance/status). *out is the
 * caller's, for etcd_close. */
int etcd_open(const char *endpoints, struct etcd **out, char *err);

/* The files of TLS with a client certificate (PEM): the CA that etcd's
 * certificate must verify against, this host's certificate and key. */
struct etcd_tls {
	const char *ca, *cert, *key;
};

/* etcd_open, with tls (NULL: none) for https endpoints. A refused or
 * unverifiable certificate is -EACCES, err with curl's words. */
int etcd_open_tls(const char *endpoints, const struct etcd_tls *tls, struct etcd **out,
		  char *err);
void etcd_close(struct etcd *e);

/* The endpoint that answered last (for messages). */
const char *etcd_endpoint(const struct etcd *e);

/* Set key to val (len bytes), attached to lease (0: none). */
int etcd_put(struct etcd *e, const char *key, const void *val, size_t len, int64_t lease,
	     char *err);

/* The value of key: *val (NUL-terminated, caller frees), *len its bytes,
 * *mod_rev (may be NULL) the revision of its last change. -ENOENT when
 * absent. */
int etcd_get(struct etcd *e, const char *key, char **val, size_t *len, int64_t *mod_rev,
	     char *err);

/* Every key starting with prefix (all keys when prefix is ""), in key
 * order: *kvs (caller frees with etcd_kvs_free) of *n, and *rev (may be
 * NULL) the store's revision at the time of the read. */
int etcd_range_prefix(struct etcd *e, const char *prefix, struct etcd_kv **kvs, size_t *n,
		      int64_t *rev, char *err);
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);

/* Delete every key starting with prefix; *deleted (may be NULL) how many. */
int etcd_delete_prefix(struct etcd *e, const char *prefix, int64_t *deleted, char *err);
/* Delete key; deleting a key that is not there is success. */
int etcd_delete(struct etcd *e, const char *key, char *err);

/* A transaction: if every comparison holds, the success operations are
 * applied, else the failure ones; all at one revision. */
enum etcd_target { ETCD_MOD, ETCD_VERSION, ETCD_CREATE, ETCD_VALUE };
enum etcd_result { ETCD_EQUAL, ETCD_NOT_EQUAL, ETCD_GREATER, ETCD_LESS };

/* key's target compared with value: a revision or version number (num) or,
 * for ETCD_VALUE, the bytes val (len). A key that does not exist has
 * version, create and mod revision 0. */
struct etcd_cmp {
	const char *key;
	enum etcd_target target;
	enum etcd_result result;
	int64_t num;
	const void *val;
	size_t len;
};

enum etcd_op_kind { ETCD_OP_PUT, ETCD_OP_DELETE, ETCD_OP_DELETE_PREFIX, ETCD_OP_GET };

/* One operation: PUT key=val (len bytes, lease), DELETE key, DELETE every
 * key under a prefix (key), or GET key (its answer is not returned: a GET
 * only makes the transaction read at its revision). */
struct etcd_op {
	enum etcd_op_kind kind;
	const char *key;
	const void *val;
	size_t len;
	int64_t lease;
};

/* Run a transaction; *succeeded says which branch ran. */
int etcd_txn(struct etcd *e, const struct etcd_cmp *c, size_t nc, const struct etcd_op *succ,
	     size_t ns, const struct etcd_op *fail, size_t nf, bool *succeeded, char *err);

/* A lease of ttl_s seconds: *id. Keys put with it go when it expires. */
int etcd_lease_grant(struct etcd *e, int64_t ttl_s, int64_t *id, char *err);
/* Renew lease id once: *ttl_left (may be NULL) its seconds from now;
 * -ENOENT when it has expired or was revoked. */
int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_left, char *err);
/* Revoke lease id (its keys go now); -ENOENT when it is gone already. */
int etcd_lease_revoke(struct etcd *e, int64_t id, char *err);

/* Watch every key under prefix from revision start_rev (0: from now):
 * calls cb(kv, deleted, arg) for each change, in order, until cb returns
 * nonzero (which this returns) or timeout_ms passes (-ETIMEDOUT; a
 * negative timeout_ms waits for ever). -ESTALE when start_rev has been
 * compacted away. kv is valid during the call only. */
int etcd_watch_prefix(struct etcd *e, const char *prefix, int64_t start_rev, int timeout_ms,
		      int (*cb)(const struct etcd_kv *kv, bool deleted, void *arg), void *arg,
		      char *err);

#endif
