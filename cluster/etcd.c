/* etcd: the handle, the transport (libcurl easy API, endpoint failover) and
 * the key-value calls of the client of etcd's JSON gateway (etcd.h). */
#include "etcd_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t etcd_curl_once = PTHREAD_ONCE_INIT;

static void etcd_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* curl's write callback for a whole reply: append to e->body, refused past
 * ETCD_REPLY_MAX (the transfer ends with CURLE_WRITE_ERROR). */
static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct etcd *e = arg;
	size_t n = size * nmemb;

	if (e->body.len + n > ETCD_REPLY_MAX)
		return 0;
	util_buf_append(&e->body, data, n);
	return e->body.oom ? 0 : n;
}

/* Whether a transfer that ended with rc never reached the endpoint, so the
 * request can go to the next one without being applied twice: it could
 * not connect, or it timed out before a byte of the request went out. */
static bool never_connected(CURL *c, CURLcode rc)
{
	long sent = 0;

	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_COULDNT_RESOLVE_PROXY)
		return true;
	return rc == CURLE_OPERATION_TIMEDOUT &&
	       curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent == 0;
}

/* Whether rc is TLS refusing: our certificate (etcd's alert comes with
 * the first read under TLS 1.3), or etcd's (it does not verify). */
static bool etcd_tls_refused(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_SSL_CLIENTCERT;
}

/* Whether etcd, over TLS, closed a connection this transfer had just made
 * without a word of an answer: what etcd does to a client whose
 * certificate its --client-crl-file revokes (it checks after the
 * handshake, and closes). */
static bool etcd_shut_at_once(struct etcd *e, CURLcode rc)
{
	long conns = 0, code = 0;

	/* curl's words for it vary with the timing: HTTP/2 stream not
	 * closed cleanly, partial file, receive failure, empty reply */
	if (!e->ca || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_WRITE_ERROR)
		return false;
	return curl_easy_getinfo(e->curl, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0 &&
	       curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 0;
}

/* Set the options of one POST of body to url. */
static void setup(struct etcd *e, const char *url, const char *body, curl_write_callback wcb,
		  void *warg, long timeout_ms)
{
	CURL *c = e->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wcb ? wcb : collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, wcb ? warg : e);
	if (e->ca) {
		curl_easy_setopt(c, CURLOPT_CAINFO, e->ca);
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->key);
	}
	e->curl_err[0] = '\0';
	e->body.len = 0;
	e->body.oom = false;
	if (e->body.s)
		e->body.s[0] = '\0';
}

int etcd_call(struct etcd *e, const char *path, const json_t *req, curl_write_callback wcb,
	      void *warg, long timeout_ms, char *err)
{
	struct util_buf why;
	char *body = json_dumps(req, JSON_COMPACT);
	int r = -ECONNREFUSED;
	bool shut = false;

	if (!body)
		return -ENOMEM;
	util_buf_init(&why);
	for (size_t i = 0; i < e->n; i++) {
		size_t k = (e->cur + i) % e->n;
		long oserr = 0;
		char *url;
		CURLcode rc;

		if (asprintf(&url, "%s%s", e->urls[k], path) < 0) {
			r = -ENOMEM;
			break;
		}
		setup(e, url, body, wcb, warg, timeout_ms);
		rc = curl_easy_perform(e->curl);
		curl_easy_getinfo(e->curl, CURLINFO_OS_ERRNO, &oserr);
		util_buf_printf(&why, "%s%s (%s%s%s)", why.len ? ", " : "", url,
				e->curl_err[0] ? e->curl_err : curl_easy_strerror(rc),
				oserr ? ": " : "", oserr ? strerror((int)oserr) : "");
		free(url);
		if (rc == CURLE_OK) {
			e->cur = k;
			r = 0;
			break;
		}
		if (never_connected(e->curl, rc)) {
			r = rc == CURLE_OPERATION_TIMEDOUT ? -EHOSTUNREACH : oserr ? -(int)oserr : -ECONNREFUSED;
			continue;
		}
		e->cur = k;
		shut = !etcd_tls_refused(rc) && etcd_shut_at_once(e, rc);
		r = etcd_tls_refused(rc) || shut ? -EACCES
		    : rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
		    : rc == CURLE_WRITE_ERROR	   ? (e->body.oom ? -ENOMEM : -EMSGSIZE)
						   : -EIO;
		break;
	}
	if (r == -EACCES && shut)
		util_fmt(err, UTIL_ERR_LEN, "etcd closed the connection at once, without an answer: "
			 "most likely it refuses this host's certificate, which its revocation list "
			 "names (vtb cluster revoke; etcd's log says 'revoked'; a new one: vtb cluster "
			 "cert on the CA's host, then vtb cluster join --bundle): %s",
			 why.s ? why.s : "");
	else if (r == -EACCES)
		util_fmt(err, UTIL_ERR_LEN, "etcd refused this host's TLS certificate, or its own does "
			 "not verify against the cluster CA: %s", why.s ? why.s : "");
	else if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot reach etcd at %s", why.s ? why.s : "no endpoint");
	util_buf_free(&why);
	free(body);
	return r;
}

int etcd_where(const struct etcd *e, const char *path, int r, char *err)
{
	char tmp[UTIL_ERR_LEN];

	if (r && err) {
		snprintf(tmp, sizeof(tmp), "%s", err);
		util_fmt(err, UTIL_ERR_LEN, "etcd at %s%s: %s", e->urls[e->cur], path, tmp);
	}
	return r;
}

json_t *etcd_b64_json(const void *p, size_t n)
{
	char *s;
	json_t *j;

	if (etcd_b64_encode(p, n, &s))
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

json_t *etcd_i64_json(int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_string(s);
}

json_t *etcd_range_json(const char *key, bool prefix)
{
	size_t n = strlen(key);
	char *end;
	json_t *o;

	if (!prefix)
		return json_pack("{s:o}", "key", etcd_b64_json(key, n));
	if (n == 0) /* "\0" to "\0": every key */
		return json_pack("{s:o, s:o}", "key", etcd_b64_json("", 1), "range_end",
				 etcd_b64_json("", 1));
	end = strdup(key);
	if (!end)
		return NULL;
	/* the first key after the prefix: drop trailing 0xff, add one to the last */
	while (n && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (n)
		end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	o = json_pack("{s:o, s:o}", "key", etcd_b64_json(key, strlen(key)), "range_end",
		      n ? etcd_b64_json(end, n) : etcd_b64_json("", 1));
	free(end);
	return o;
}

/* Split endpoints at commas into e->urls. */
static int split_endpoints(struct etcd *e, const char *endpoints, char *err)
{
	size_t cap = 0;
	const char *p = endpoints;

	while (*p) {
		size_t len = strcspn(p, ",");
		char *u;

		while (len && p[len - 1] == '/')
			len--;
		if (len) {
			u = util_strndup(p, len);
			if (!u || UTIL_PUSH(e->urls, e->n, cap, u)) {
				free(u);
				return -ENOMEM;
			}
			if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
				util_fmt(err, UTIL_ERR_LEN, "etcd endpoint '%s' is not an http:// or https:// URL", u);
				return -EINVAL;
			}
		}
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	if (e->n == 0) {
		util_fmt(err, UTIL_ERR_LEN, "no etcd endpoint in '%s'", endpoints);
		return -EINVAL;
	}
	return 0;
}

int etcd_open(const char *endpoints, struct etcd **out, char *err)
{
	return etcd_open_tls(endpoints, NULL, out, err);
}

int etcd_open_tls(const char *endpoints, const struct etcd_tls *tls, struct etcd **out,
		  char *err)
{
	const char *path = "/v3/maintenance/status";
	struct etcd *e;
	json_t *o = NULL;
	int r;

	*out = NULL;
	r = dynlib_open(&dynlib_curl, err, UTIL_ERR_LEN);
	if (r)
		return r;
	pthread_once(&etcd_curl_once, etcd_curl_init);
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	util_buf_init(&e->body);
	r = split_endpoints(e, endpoints, err);
	if (r)
		goto out_close;
	if (tls && tls->ca && tls->ca[0]) {
		e->ca = strdup(tls->ca);
		e->cert = strdup(tls->cert);
		e->key = strdup(tls->key);
		if (!e->ca || !e->cert || !e->key) {
			r = -ENOMEM;
			goto out_close;
		}
	}
	e->curl = curl_easy_init();
	if (!e->curl) {
		r = -ENOMEM;
		goto out_close;
	}
	r = etcd_request(e, path, json_object(), err);
	if (r)
		goto out_close;
	r = etcd_reply_parse(e->body.s, e->body.len, &o, err);
	json_decref(o);
	if (r) {
		etcd_where(e, path, r, err);
		goto out_close;
	}
	*out = e;
	return 0;
out_close:
	etcd_close(e);
	return r;
}

void etcd_close(struct etcd *e)
{
	if (!e)
		return;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	for (size_t i = 0; i < e->n; i++)
		free(e->urls[i]);
	free(e->urls);
	free(e->ca);
	free(e->cert);
	free(e->key);
	util_buf_free(&e->body);
	free(e);
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->urls[e->cur];
}

int etcd_request(struct etcd *e, const char *path, json_t *req, char *err)
{
	int r;

	if (!req)
		return -ENOMEM;
	r = etcd_call(e, path, req, NULL, NULL, ETCD_REQUEST_TIMEOUT_MS, err);
	json_decref(req);
	return r;
}

int etcd_put(struct etcd *e, const char *key, const void *val, size_t len, int64_t lease,
	     char *err)
{
	const char *path = "/v3/kv/put";
	json_t *req = json_pack("{s:o, s:o}", "key", etcd_b64_json(key, strlen(key)), "value",
				etcd_b64_json(val, len));
	json_t *o;
	int r;

	if (req && lease && json_object_set_new(req, "lease", etcd_i64_json(lease))) {
		json_decref(req);
		req = NULL;
	}
	r = etcd_request(e, path, req, err);
	if (r)
		return r;
	r = etcd_reply_parse(e->body.s, e->body.len, &o, err);
	json_decref(o);
	return etcd_where(e, path, r, err);
}

int etcd_range_prefix(struct etcd *e, const char *prefix, struct etcd_kv **kvs, size_t *n,
		      int64_t *rev, char *err)
{
	const char *path = "/v3/kv/range";
	int64_t rv;
	int r;

	*kvs = NULL;
	*n = 0;
	r = etcd_request(e, path, etcd_range_json(prefix, true), err);
	if (r)
		return r;
	r = etcd_reply_range(e->body.s, e->body.len, kvs, n, &rv, err);
	if (r)
		return etcd_where(e, path, r, err);
	if (rev)
		*rev = rv;
	return 0;
}

int etcd_get(struct etcd *e, const char *key, char **val, size_t *len, int64_t *mod_rev,
	     char *err)
{
	const char *path = "/v3/kv/range";
	struct etcd_kv *kvs;
	size_t n;
	int64_t rv;
	int r;

	*val = NULL;
	*len = 0;
	r = etcd_request(e, path, etcd_range_json(key, false), err);
	if (r)
		return r;
	r = etcd_reply_range(e->body.s, e->body.len, &kvs, &n, &rv, err);
	if (r)
		return etcd_where(e, path, r, err);
	if (n != 1 || strcmp(kvs[0].key, key)) {
		etcd_kvs_free(kvs, n);
		util_fmt(err, UTIL_ERR_LEN, "etcd at %s has no key '%s'", etcd_endpoint(e), key);
		return -ENOENT;
	}
	*val = kvs[0].val;
	*len = kvs[0].len;
	if (mod_rev)
		*mod_rev = kvs[0].mod_rev;
	kvs[0].val = NULL;
	etcd_kvs_free(kvs, n);
	return 0;
}

/* Delete key, or every key under it when prefix. */
static int delete_range(struct etcd *e, const char *key, bool prefix, int64_t *deleted,
			char *err)
{
	const char *path = "/v3/kv/deleterange";
	int64_t d;
	int r = etcd_request(e, path, etcd_range_json(key, prefix), err);

	if (r)
		return r;
	r = etcd_reply_deleted(e->body.s, e->body.len, &d, err);
	if (r)
		return etcd_where(e, path, r, err);
	if (deleted)
		*deleted = d;
	return 0;
}

int etcd_delete_prefix(struct etcd *e, const char *prefix, int64_t *deleted, char *err)
{
	return delete_range(e, prefix, true, deleted, err);
}

int etcd_delete(struct etcd *e, const char *key, char *err)
{
	return delete_range(e, key, false, NULL, err);
}
