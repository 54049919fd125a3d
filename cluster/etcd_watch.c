/* etcd_watch: the watch of the etcd client (etcd.h): one streaming POST to
 * /v3/watch, whose newline-delimited results are parsed as they come. */
#include "etcd_int.h"

#include <errno.h>
#include <string.h>

struct watch_ctx {
	struct etcd_wstream s;
	etcd_watch_cb cb;
	void *arg;
	int stop;      /* why the transfer was ended: the callback's value or an error */
	bool by_cb;    /* stop is the callback's value */
	char err[UTIL_ERR_LEN];
};

/* The callback between the stream and the caller's: notes who stopped. */
static int watch_event(const struct etcd_kv *kv, bool deleted, void *arg)
{
	struct watch_ctx *w = arg;
	int r = w->cb(kv, deleted, w->arg);

	w->by_cb = r != 0;
	return r;
}

/* curl's write callback: feed the stream; end the transfer (by taking
 * fewer bytes than given) once the callback or the parser says stop. */
static size_t watch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct watch_ctx *w = arg;
	size_t n = size * nmemb;

	w->stop = etcd_wstream_feed(&w->s, data, n, watch_event, w, w->err);
	return w->stop ? 0 : n;
}

/* The watch request: {"create_request": {key, range_end, start_revision}}. */
static json_t *watch_json(const char *prefix, int64_t start_rev)
{
	json_t *c = etcd_range_json(prefix, true);

	if (c && start_rev > 0 &&
	    json_object_set_new(c, "start_revision", etcd_i64_json(start_rev))) {
		json_decref(c);
		return NULL;
	}
	return c ? json_pack("{s:o}", "create_request", c) : NULL;
}

int etcd_watch_prefix(struct etcd *e, const char *prefix, int64_t start_rev, int timeout_ms,
		      int (*cb)(const struct etcd_kv *kv, bool deleted, void *arg), void *arg,
		      char *err)
{
	const char *path = "/v3/watch";
	struct watch_ctx w = { .cb = cb, .arg = arg };
	json_t *req = watch_json(prefix, start_rev);
	int r;

	if (!req)
		return -ENOMEM;
	etcd_wstream_init(&w.s);
	/* curl's 0 is no limit: a negative timeout_ms waits for ever, 0 hardly */
	r = etcd_call(e, path, req, watch_write, &w, timeout_ms < 0 ? 0L : timeout_ms ? timeout_ms : 1L,
		      err);
	json_decref(req);
	if (w.stop) {
		r = w.stop;
		if (!w.by_cb) {
			util_fmt(err, UTIL_ERR_LEN, "%s", w.err);
			etcd_where(e, path, r, err);
		}
	} else if (r == -ETIMEDOUT) {
		util_fmt(err, UTIL_ERR_LEN, "etcd at %s: no change under '%s' within %d ms",
			 etcd_endpoint(e), prefix, timeout_ms);
	} else if (r == 0) {
		/* the stream ended: what is left is an answer without a newline */
		r = etcd_watch_line(&w.s, w.s.line.s ? w.s.line.s : "", w.s.line.len, watch_event,
				    &w, err);
		if (r == 0) {
			util_fmt(err, UTIL_ERR_LEN, "etcd ended the watch");
			r = -ECONNRESET;
		}
		if (!w.by_cb)
			etcd_where(e, path, r, err);
	}
	etcd_wstream_free(&w.s);
	return r;
}
