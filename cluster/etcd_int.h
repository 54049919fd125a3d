/* etcd_int: what the files of the etcd client share (etcd.c the handle,
 * the transport and the key-value calls; etcd_txn.c transactions and
 * leases; etcd_watch.c the watch). Not for other modules. */
#ifndef VTB_ETCD_INT_H
#define VTB_ETCD_INT_H

#include <curl/curl.h>
#include <jansson.h>

#include "dynlib.h"
#include "etcd.h"
#include "etcd_parse.h"
#include "util.h"

/* How long a connection to one endpoint may take before the next one is
 * tried. On a LAN or loopback a TCP handshake takes well under a
 * millisecond and a dead port answers with a reset at once; a host that is
 * down answers nothing, and 2 s lets a loaded machine's SYN be sent again
 * once (Linux's first retransmission comes after 1 s) before giving up. */
#define ETCD_CONNECT_TIMEOUT_MS 2000L
/* How long a request may take in all. Longer than etcd's own server-side
 * request timeout (5 s plus two election timeouts of 1 s: 7 s by default),
 * so that a slow or leaderless etcd answers with its own error ("request
 * timed out", "no leader") before we cut the connection. */
#define ETCD_REQUEST_TIMEOUT_MS 10000L

struct etcd {
	CURL *curl;
	char **urls;          /* the endpoints, without a trailing '/' */
	size_t n, cur;        /* how many; the one that answered last */
	struct util_buf body; /* the last reply */
	char *ca, *cert, *key; /* PEM files for https (NULL: none) */
	char curl_err[CURL_ERROR_SIZE];
};

/* Send req (a JSON object, not consumed) to path on the current endpoint,
 * failing over to the next ones on a connection failure; etcd's reply is
 * in e->body. wcb/warg (NULL: the reply is collected in e->body) take the
 * bytes as they come instead, and timeout_ms bounds the whole request.
 * Returns 0 when an endpoint answered (whatever it said), -ETIMEDOUT, or
 * another negative errno; err names the endpoint(s) and curl's words. */
int etcd_call(struct etcd *e, const char *path, const json_t *req, curl_write_callback wcb,
	      void *warg, long timeout_ms, char *err);

/* etcd_call with the default timeout, of req (consumed; NULL means out of
 * memory): 0 when etcd answered, the reply in e->body. */
int etcd_request(struct etcd *e, const char *path, json_t *req, char *err);

/* When r is an error, put "etcd at URL PATH: " in front of err (after a
 * parser filled it). Returns r. */
int etcd_where(const struct etcd *e, const char *path, int r, char *err);

/* The base64 of n bytes at p as a new JSON string (NULL: out of memory). */
json_t *etcd_b64_json(const void *p, size_t n);
/* An int64 as the gateway writes it: a JSON string of digits. */
json_t *etcd_i64_json(int64_t v);
/* {"key": key} or, when prefix, {"key": key, "range_end": the first key
 * after every key starting with key} ("" as a prefix: every key). NULL when
 * out of memory. */
json_t *etcd_range_json(const char *key, bool prefix);

#endif
