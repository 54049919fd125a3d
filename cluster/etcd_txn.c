/* etcd_txn: transactions (/v3/kv/txn) and leases (/v3/lease/...) of the
 * etcd client (etcd.h). */
#include "etcd_int.h"

#include <errno.h>
#include <string.h>

/* The gateway's names of the targets and results, and the field each
 * target compares (etcd's Compare message). */
static const struct {
	const char *name, *field;
} cmp_targets[] = {
	[ETCD_MOD] = { "MOD", "mod_revision" },
	[ETCD_VERSION] = { "VERSION", "version" },
	[ETCD_CREATE] = { "CREATE", "create_revision" },
	[ETCD_VALUE] = { "VALUE", "value" },
};
static const char *const cmp_results[] = {
	[ETCD_EQUAL] = "EQUAL",
	[ETCD_NOT_EQUAL] = "NOT_EQUAL",
	[ETCD_GREATER] = "GREATER",
	[ETCD_LESS] = "LESS",
};

/* One comparison as JSON (NULL: out of memory or a bad enum). */
static json_t *cmp_json(const struct etcd_cmp *c)
{
	json_t *v;

	if ((unsigned)c->target >= UTIL_ARRAY_SIZE(cmp_targets) ||
	    (unsigned)c->result >= UTIL_ARRAY_SIZE(cmp_results))
		return NULL;
	v = c->target == ETCD_VALUE ? etcd_b64_json(c->val, c->len) : etcd_i64_json(c->num);
	return json_pack("{s:o, s:s, s:s, s:o}", "key", etcd_b64_json(c->key, strlen(c->key)),
			 "target", cmp_targets[c->target].name, "result", cmp_results[c->result],
			 cmp_targets[c->target].field, v);
}

/* One operation as JSON (NULL: out of memory or a bad kind). */
static json_t *op_json(const struct etcd_op *op)
{
	json_t *o;

	switch (op->kind) {
	case ETCD_OP_PUT:
		o = json_pack("{s:o, s:o}", "key", etcd_b64_json(op->key, strlen(op->key)), "value",
			      etcd_b64_json(op->val, op->len));
		if (o && op->lease && json_object_set_new(o, "lease", etcd_i64_json(op->lease))) {
			json_decref(o);
			return NULL;
		}
		return o ? json_pack("{s:o}", "request_put", o) : NULL;
	case ETCD_OP_DELETE:
	case ETCD_OP_DELETE_PREFIX:
		o = etcd_range_json(op->key, op->kind == ETCD_OP_DELETE_PREFIX);
		return o ? json_pack("{s:o}", "request_delete_range", o) : NULL;
	case ETCD_OP_GET:
		o = etcd_range_json(op->key, false);
		return o ? json_pack("{s:o}", "request_range", o) : NULL;
	}
	return NULL;
}

/* A list of n operations as JSON. */
static json_t *ops_json(const struct etcd_op *ops, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, op_json(&ops[i]))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The request of a transaction (NULL: out of memory or a bad enum). */
static json_t *txn_json(const struct etcd_cmp *c, size_t nc, const struct etcd_op *succ,
			size_t ns, const struct etcd_op *fail, size_t nf)
{
	json_t *cmps = json_array();

	for (size_t i = 0; cmps && i < nc; i++) {
		if (json_array_append_new(cmps, cmp_json(&c[i]))) {
			json_decref(cmps);
			return NULL;
		}
	}
	return json_pack("{s:o, s:o, s:o}", "compare", cmps, "success", ops_json(succ, ns),
			 "failure", ops_json(fail, nf));
}

int etcd_txn(struct etcd *e, const struct etcd_cmp *c, size_t nc, const struct etcd_op *succ,
	     size_t ns, const struct etcd_op *fail, size_t nf, bool *succeeded, char *err)
{
	const char *path = "/v3/kv/txn";
	json_t *req = txn_json(c, nc, succ, ns, fail, nf);
	int r;

	*succeeded = false;
	if (!req) {
		util_fmt(err, UTIL_ERR_LEN, "cannot build the transaction (out of memory or a bad target, result or kind)");
		return -EINVAL;
	}
	r = etcd_request(e, path, req, err);
	if (r)
		return r;
	return etcd_where(e, path, etcd_reply_txn(e->body.s, e->body.len, succeeded, err), err);
}

/* POST {name: v} to a lease path: 0 when etcd answered (in e->body). */
static int lease_request(struct etcd *e, const char *path, const char *name, int64_t v, char *err)
{
	return etcd_request(e, path, json_pack("{s:o}", name, etcd_i64_json(v)), err);
}

int etcd_lease_grant(struct etcd *e, int64_t ttl_s, int64_t *id, char *err)
{
	const char *path = "/v3/lease/grant";
	int64_t ttl;
	int r = lease_request(e, path, "TTL", ttl_s, err);

	if (r)
		return r;
	return etcd_where(e, path, etcd_reply_grant(e->body.s, e->body.len, id, &ttl, err), err);
}

int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_left, char *err)
{
	const char *path = "/v3/lease/keepalive";
	int64_t ttl = 0;
	/* a stream in gRPC; the gateway answers the one request and ends */
	int r = lease_request(e, path, "ID", id, err);

	if (r)
		return r;
	r = etcd_reply_keepalive(e->body.s, e->body.len, &ttl, err);
	if (ttl_left && r == 0)
		*ttl_left = ttl;
	return etcd_where(e, path, r, err);
}

int etcd_lease_revoke(struct etcd *e, int64_t id, char *err)
{
	const char *path = "/v3/lease/revoke";
	json_t *o;
	int r = lease_request(e, path, "ID", id, err);

	if (r)
		return r;
	r = etcd_reply_parse(e->body.s, e->body.len, &o, err);
	json_decref(o);
	return etcd_where(e, path, r, err);
}
