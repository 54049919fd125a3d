/* clexp: an experiment of a cluster in etcd (see clexp.h). */
#include "clexp.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "nl.h"
#include "etcd.h"
#include "util.h"

/* How often a transaction that lost a race is tried again with fresh
 * values: each loser sees the winner's write, so a few suffice unless
 * many vtb up run at once. */
#define CLEXP_TXN_TRIES 16
/* The most operations one transaction may hold: etcd's --max-txn-ops
 * default (128); etcd refuses more ("too many operations in txn
 * request"), so the VNIs of a large experiment and the allocation over
 * many hosts go in transactions of at most this many. */
#define CLEXP_TXN_OPS_MAX 128
/* Ids drawn before giving up: 65536 ids, a cluster holds far fewer. */
#define CLEXP_ID_TRIES 64

void clexp_free(struct clexp *x)
{
	free(x->hosts);
	x->hosts = NULL;
	x->nhosts = 0;
}

/* The JSON text of x's record; the caller frees it. */
static char *clexp_dump(const struct clexp *x)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:[]}", "id", x->id, "by", x->by, "created",
			      (json_int_t)x->created, "state", x->state, "hosts"),
	       *h = json_object_get(o, "hosts");
	char *text;
	size_t i;

	for (i = 0; h && i < x->nhosts; i++)
		json_array_append_new(h, json_string(x->hosts[i]));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* Parse a record of experiment name. 0 or -EINVAL with err. */
static int clexp_parse(const char *name, const char *text, size_t len, struct clexp *x, char *err)
{
	json_t *o = json_loadb(text, len, 0, NULL), *hosts, *h;
	const char *id, *by, *state;
	size_t i;
	int r = -EINVAL;

	*x = (struct clexp){ .created = 0 };
	id = json_string_value(json_object_get(o, "id"));
	by = json_string_value(json_object_get(o, "by"));
	state = json_string_value(json_object_get(o, "state"));
	hosts = json_object_get(o, "hosts");
	if (!id || strlen(id) != CLEXP_ID_LEN - 1 || !by || clconf_host_check(by) || !state ||
	    strlen(state) >= sizeof(x->state) || !json_is_array(hosts) ||
	    !json_is_integer(json_object_get(o, "created")) || strlen(name) >= sizeof(x->name))
		goto out;
	x->hosts = calloc(json_array_size(hosts) + 1, sizeof(*x->hosts));
	if (!x->hosts) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(hosts, i, h) {
		if (!json_is_string(h) || clconf_host_check(json_string_value(h)))
			goto out;
		strcpy(x->hosts[x->nhosts++], json_string_value(h));
	}
	strcpy(x->name, name);
	strcpy(x->id, id);
	strcpy(x->by, by);
	strcpy(x->state, state);
	x->created = (int64_t)json_integer_value(json_object_get(o, "created"));
	r = 0;
out:
	if (r == -EINVAL)
		util_fmt(err, UTIL_ERR_LEN, "etcd key /vtb/exps/%s: not an experiment record", name);
	if (r)
		clexp_free(x);
	json_decref(o);
	return r;
}

int clexp_put(struct etcd *e, const struct clexp *x, char *err)
{
	char key[32 + CLEXP_NAME_MAX], *text = clexp_dump(x);
	int r;

	if (!text)
		return -ENOMEM;
	snprintf(key, sizeof(key), "/vtb/exps/%s", x->name);
	r = etcd_put(e, key, text, strlen(text), 0, err);
	free(text);
	return r;
}

/* The owner key of id for this process under lease. */
static int clexp_owner_op(const struct clexp *x, int64_t lease, char *key, size_t klen, char *val,
			  size_t vlen, struct etcd_op *op)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(key, klen, "/vtb/owner/%s", x->id);
	snprintf(val, vlen, "{\"host\":\"%s\",\"pid\":%d}", x->by[0] ? x->by : "?", (int)getpid());
	*op = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = key, .val = val, .len = strlen(val),
				.lease = lease };
	return 0;
}

int clexp_claim(struct etcd *e, const char *name, const char *by, int64_t lease, struct clexp *x,
		char *err)
{
	char nkey[32 + CLEXP_NAME_MAX], ikey[32], okey[32], oval[128], what[64], *text = NULL;
	struct etcd_cmp cmp[2];
	struct etcd_op op[3];
	bool done = false;
	int r = 0, tries, used;

	*x = (struct clexp){ .created = (int64_t)time(NULL) };
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->by, sizeof(x->by), "%s", by);
	snprintf(x->state, sizeof(x->state), CLEXP_CREATING);
	snprintf(nkey, sizeof(nkey), "/vtb/exps/%s", name);
	for (tries = 0; tries < CLEXP_ID_TRIES && !done && !r; tries++) {
		snprintf(x->id, sizeof(x->id), "%04x", (unsigned)(util_clock_ns(CLOCK_REALTIME) ^
								 (getpid() << 8) ^ tries * 7919) & 0xffff);
		used = build_id_in_use(x->id, what, sizeof(what));
		if (used < 0)
			r = used;
		if (used)
			continue;
		snprintf(ikey, sizeof(ikey), "/vtb/ids/%s", x->id);
		free(text);
		text = clexp_dump(x);
		if (!text) {
			r = -ENOMEM;
			break;
		}
		cmp[0] = (struct etcd_cmp){ .key = nkey, .target = ETCD_CREATE, .result = ETCD_EQUAL };
		cmp[1] = (struct etcd_cmp){ .key = ikey, .target = ETCD_CREATE, .result = ETCD_EQUAL };
		op[0] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = nkey, .val = text,
					  .len = strlen(text) };
		op[1] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = ikey, .val = name,
					  .len = strlen(name) };
		clexp_owner_op(x, lease, okey, sizeof(okey), oval, sizeof(oval), &op[2]);
		r = etcd_txn(e, cmp, 2, op, 3, NULL, 0, &done, err);
		if (!r && !done) { /* the name or the id: which? */
			char *v = NULL;
			size_t len;

			r = etcd_get(e, nkey, &v, &len, NULL, err);
			free(v);
			if (!r)
				r = -EEXIST;
			else if (r == -ENOENT)
				r = 0;
		}
	}
	free(text);
	if (!r && !done) {
		util_fmt(err, UTIL_ERR_LEN, "no free experiment id after %d tries", CLEXP_ID_TRIES);
		r = -EADDRINUSE;
	}
	return r;
}

int clexp_own(struct etcd *e, const struct clexp *x, int64_t lease, char *err)
{
	struct etcd_cmp cmp;
	struct etcd_op op;
	char key[32], val[128];
	bool done = false;
	int r;

	clexp_owner_op(x, lease, key, sizeof(key), val, sizeof(val), &op);
	cmp = (struct etcd_cmp){ .key = key, .target = ETCD_CREATE, .result = ETCD_EQUAL };
	r = etcd_txn(e, &cmp, 1, &op, 1, NULL, 0, &done, err);
	return r ? r : done ? 0 : -EBUSY;
}

/* Whether experiment id has an owner (its owner key). */
static bool clexp_owned(struct etcd *e, const char *id)
{
	char key[32], err[UTIL_ERR_LEN], *v = NULL;
	size_t len;
	int r;

	snprintf(key, sizeof(key), "/vtb/owner/%s", id);
	r = etcd_get(e, key, &v, &len, NULL, err);
	free(v);
	return r != -ENOENT;
}

int clexp_find(struct etcd *e, const char *name, struct clexp *x, char *err)
{
	char key[32 + CLEXP_NAME_MAX], *v = NULL;
	size_t len;
	int r;

	*x = (struct clexp){ .created = 0 };
	if (strlen(name) >= CLEXP_NAME_MAX)
		return -ENOENT;
	snprintf(key, sizeof(key), "/vtb/exps/%s", name);
	r = etcd_get(e, key, &v, &len, NULL, err);
	if (!r)
		r = clexp_parse(name, v, len, x, err);
	free(v);
	if (!r)
		x->owned = clexp_owned(e, x->id);
	return r;
}

int clexp_list(struct etcd *e, struct clexp **v, size_t *n, char *err)
{
	struct etcd_kv *kv = NULL;
	size_t nkv = 0, i;
	int64_t rev;
	int r;

	*v = NULL;
	*n = 0;
	r = etcd_range_prefix(e, "/vtb/exps/", &kv, &nkv, &rev, err);
	if (!r && !(*v = calloc(nkv + 1, sizeof(**v))))
		r = -ENOMEM;
	for (i = 0; !r && i < nkv; i++) {
		r = clexp_parse(kv[i].key + strlen("/vtb/exps/"), kv[i].val, kv[i].len, &(*v)[i], err);
		if (!r) {
			(*v)[i].owned = clexp_owned(e, (*v)[i].id);
			++*n;
		}
	}
	if (r) {
		for (i = 0; *v && i < *n; i++)
			clexp_free(&(*v)[i]);
		free(*v);
		*v = NULL;
		*n = 0;
	}
	etcd_kvs_free(kv, nkv);
	return r;
}

/* A host's allocation total at key: *cores, *memory and its revision
 * (0: the key does not exist). */
static int clexp_total(struct etcd *e, const char *key, uint64_t *cores, uint64_t *memory,
		       int64_t *rev, char *err)
{
	json_t *o;
	char *v = NULL;
	size_t len;
	int r;

	*cores = *memory = 0;
	*rev = 0;
	r = etcd_get(e, key, &v, &len, rev, err);
	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	o = json_loadb(v, len, 0, NULL);
	free(v);
	if (!json_is_integer(json_object_get(o, "cores")) ||
	    !json_is_integer(json_object_get(o, "memory"))) {
		util_fmt(err, UTIL_ERR_LEN, "etcd key %s: not an allocation record", key);
		json_decref(o);
		return -EINVAL;
	}
	*cores = (uint64_t)json_integer_value(json_object_get(o, "cores"));
	*memory = (uint64_t)json_integer_value(json_object_get(o, "memory"));
	json_decref(o);
	return 0;
}

/* The keys and values of one allocation transaction over n hosts. */
struct clexp_txn {
	char (*key)[96];
	char (*val)[96];
	struct etcd_cmp *cmp;
	struct etcd_op *op;
};

static void clexp_txn_free(struct clexp_txn *t)
{
	free(t->key);
	free(t->val);
	free(t->cmp);
	free(t->op);
}

static int clexp_txn_init(struct clexp_txn *t, size_t n)
{
	t->key = calloc(2 * n + 1, sizeof(*t->key));
	t->val = calloc(2 * n + 1, sizeof(*t->val));
	t->cmp = calloc(n + 1, sizeof(*t->cmp));
	t->op = calloc(2 * n + 1, sizeof(*t->op));
	if (t->key && t->val && t->cmp && t->op)
		return 0;
	clexp_txn_free(t);
	*t = (struct clexp_txn){ .key = NULL };
	return -ENOMEM;
}

/* The capacity record of host name in caps, or NULL. */
static const struct clhost *clexp_cap(const struct clhost *caps, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(caps[i].name, name))
			return &caps[i];
	return NULL;
}

/* One attempt of clexp_alloc: fill t from the totals now, 0 with the
 * transaction ready, -ENOSPC when a host lacks room, or an error. */
static int clexp_alloc_plan(struct etcd *e, const char *id, const char (*hosts)[CLCONF_HOST_MAX],
			    const uint64_t *cores, const uint64_t *memory, size_t n,
			    const struct clhost *caps, size_t ncaps, struct clexp_txn *t, char *err)
{
	const struct clhost *cap;
	uint64_t c, m;
	int64_t rev;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		snprintf(t->key[i], sizeof(t->key[i]), CLHOST_ALLOC_PREFIX "%s", hosts[i]);
		r = clexp_total(e, t->key[i], &c, &m, &rev, err);
		if (r)
			return r;
		cap = clexp_cap(caps, ncaps, hosts[i]);
		if (!cap || (cap->cores && c + cores[i] > cap->cores) || m + memory[i] > cap->memory) {
			util_fmt(err, UTIL_ERR_LEN, "host '%s' has no room: it has %.1f cores and %.1f "
				 "GiB free, the experiment's part there wants %.1f and %.1f",
				 hosts[i], cap ? (double)(cap->cores - (c > cap->cores ? cap->cores : c)) / 1000 : 0,
				 cap ? (double)(cap->memory - (m > cap->memory ? cap->memory : m)) / (1 << 30) : 0,
				 (double)cores[i] / 1000, (double)memory[i] / (1 << 30));
			return -ENOSPC;
		}
		t->cmp[i] = (struct etcd_cmp){ .key = t->key[i], .target = rev ? ETCD_MOD : ETCD_CREATE,
					       .result = ETCD_EQUAL, .num = rev };
		snprintf(t->val[i], sizeof(t->val[i]), "{\"cores\":%llu,\"memory\":%llu}",
			 (unsigned long long)(c + cores[i]), (unsigned long long)(m + memory[i]));
		t->op[i] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = t->key[i], .val = t->val[i],
					     .len = strlen(t->val[i]) };
		snprintf(t->key[n + i], sizeof(t->key[n + i]), "/vtb/exp/%s/alloc/%s", id, hosts[i]);
		snprintf(t->val[n + i], sizeof(t->val[n + i]), "{\"cores\":%llu,\"memory\":%llu}",
			 (unsigned long long)cores[i], (unsigned long long)memory[i]);
		t->op[n + i] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = t->key[n + i],
						 .val = t->val[n + i], .len = strlen(t->val[n + i]) };
	}
	return 0;
}

int clexp_alloc(struct etcd *e, const char *id, const char (*hosts)[CLCONF_HOST_MAX],
		const uint64_t *cores, const uint64_t *memory, size_t n, const struct clhost *caps,
		size_t ncaps, char *err)
{
	const size_t most = CLEXP_TXN_OPS_MAX / 2; /* two operations per host */
	struct clexp_txn t;
	bool done = true;
	size_t k, c;
	int r, tries;

	/* a transaction per most hosts: each host's total is still compared
	 * and changed at once; a later one that finds no room leaves the
	 * earlier ones' entries, which the caller's release gives back */
	r = clexp_txn_init(&t, n < most ? n : most);
	for (k = 0; !r && done && k < n; k += c) {
		c = n - k < most ? n - k : most;
		done = false;
		for (tries = 0; !r && !done && tries < CLEXP_TXN_TRIES; tries++) {
			r = clexp_alloc_plan(e, id, hosts + k, cores + k, memory + k, c, caps, ncaps,
					     &t, err);
			if (!r)
				r = etcd_txn(e, t.cmp, c, t.op, 2 * c, NULL, 0, &done, err);
		}
	}
	if (!r && !done) {
		util_fmt(err, UTIL_ERR_LEN, "the allocation table changed %d times while taking it",
			 CLEXP_TXN_TRIES);
		r = -EAGAIN;
	}
	clexp_txn_free(&t);
	return r;
}

/* Give back what experiment id holds on host: the host's total lowered
 * and the experiment's entry removed in one transaction. */
static int clexp_free_host(struct etcd *e, const char *id, const char *host, char *err)
{
	char key[96], mine[96], val[96];
	uint64_t c, m, mc, mm;
	struct etcd_cmp cmp;
	struct etcd_op op[2];
	bool done = false;
	int64_t rev, mrev;
	int r = 0, tries;

	snprintf(key, sizeof(key), CLHOST_ALLOC_PREFIX "%s", host);
	snprintf(mine, sizeof(mine), "/vtb/exp/%s/alloc/%s", id, host);
	for (tries = 0; !r && !done && tries < CLEXP_TXN_TRIES; tries++) {
		r = clexp_total(e, mine, &mc, &mm, &mrev, err);
		if (!r && !mrev)
			return 0; /* nothing held there */
		if (!r)
			r = clexp_total(e, key, &c, &m, &rev, err);
		if (r)
			break;
		snprintf(val, sizeof(val), "{\"cores\":%llu,\"memory\":%llu}",
			 (unsigned long long)(c > mc ? c - mc : 0), (unsigned long long)(m > mm ? m - mm : 0));
		cmp = (struct etcd_cmp){ .key = key, .target = rev ? ETCD_MOD : ETCD_CREATE,
					 .result = ETCD_EQUAL, .num = rev };
		op[0] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = key, .val = val, .len = strlen(val) };
		op[1] = (struct etcd_op){ .kind = ETCD_OP_DELETE, .key = mine };
		r = etcd_txn(e, &cmp, 1, op, 2, NULL, 0, &done, err);
	}
	return r ? r : done ? 0 : -EAGAIN;
}

/* Draw VNIs vni[k..k+c) for experiment id (attempt tries), none equal to
 * another of vni[0..k+c): a repeat would put one key twice in the
 * transaction, which etcd refuses. */
static void clexp_vni_draw(const char *id, uint32_t *vni, size_t k, size_t c, int tries)
{
	char salt[64];
	size_t i, j;
	int again;

	for (i = k; i < k + c; i++) {
		again = 0;
		do {
			snprintf(salt, sizeof(salt), "%s/%zu/%d/%d", id, i, tries, again++);
			vni[i] = util_hash(salt, strlen(salt)) % (NL_VXLAN_VNI_MAX - 1) + 1;
			for (j = 0; j < i && vni[j] != vni[i]; j++)
				;
		} while (j < i);
	}
}

/* Take vni[k..k+c) (c < CLEXP_TXN_OPS_MAX) in one transaction that also
 * lists vni[0..k+c) under /vtb/exp/ID/vnis (so a release finds every one
 * taken so far): 0, or a negative errno. */
static int clexp_vni_chunk(struct etcd *e, const char *id, uint32_t *vni, size_t k, size_t c,
			   char *err)
{
	char (*key)[32] = calloc(c + 1, sizeof(*key)), list[32], *text = NULL;
	struct etcd_cmp cmp[CLEXP_TXN_OPS_MAX];
	struct etcd_op op[CLEXP_TXN_OPS_MAX];
	json_t *a = json_array();
	bool done = false;
	int r = key && a ? 0 : -ENOMEM, tries;
	size_t i;

	snprintf(list, sizeof(list), "/vtb/exp/%s/vnis", id);
	for (tries = 0; !r && !done && tries < CLEXP_TXN_TRIES; tries++) {
		clexp_vni_draw(id, vni, k, c, tries);
		json_array_clear(a);
		for (i = 0; i < k + c; i++)
			json_array_append_new(a, json_integer(vni[i]));
		for (i = 0; i < c; i++) {
			snprintf(key[i], sizeof(key[i]), "/vtb/vni/%u", vni[k + i]);
			cmp[i] = (struct etcd_cmp){ .key = key[i], .target = ETCD_CREATE,
						    .result = ETCD_EQUAL };
			op[i] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = key[i], .val = id,
						  .len = strlen(id) };
		}
		free(text);
		text = json_dumps(a, JSON_COMPACT);
		op[c] = (struct etcd_op){ .kind = ETCD_OP_PUT, .key = list, .val = text,
					  .len = text ? strlen(text) : 0 };
		r = text ? etcd_txn(e, cmp, c, op, c + 1, NULL, 0, &done, err) : -ENOMEM;
	}
	if (!r && !done) {
		util_fmt(err, UTIL_ERR_LEN, "no free VXLAN ids after %d tries", CLEXP_TXN_TRIES);
		r = -EADDRINUSE;
	}
	free(text);
	json_decref(a);
	free(key);
	return r;
}

int clexp_vnis(struct etcd *e, const char *id, uint32_t *vni, size_t n, char *err)
{
	size_t k, c;
	int r = 0;

	for (k = 0; !r && k < n; k += c) {
		c = n - k < CLEXP_TXN_OPS_MAX - 1 ? n - k : CLEXP_TXN_OPS_MAX - 1;
		r = clexp_vni_chunk(e, id, vni, k, c, err);
	}
	return r;
}

/* Delete the VNI keys experiment id lists. */
static int clexp_free_vnis(struct etcd *e, const char *id, char *err)
{
	char key[48], *v = NULL;
	json_t *a, *n;
	size_t len, i;
	int r;

	snprintf(key, sizeof(key), "/vtb/exp/%s/vnis", id);
	r = etcd_get(e, key, &v, &len, NULL, err);
	if (r)
		return r == -ENOENT ? 0 : r;
	a = json_loadb(v, len, 0, NULL);
	free(v);
	json_array_foreach(a, i, n) {
		if (!json_is_integer(n))
			continue;
		snprintf(key, sizeof(key), "/vtb/vni/%lld", (long long)json_integer_value(n));
		r = etcd_delete(e, key, err);
		if (r && r != -ENOENT)
			break;
		r = 0;
	}
	json_decref(a);
	return r;
}

/* Delete key; gone already is success. */
static int clexp_del(struct etcd *e, const char *key, char *err)
{
	int r = etcd_delete(e, key, err);

	return r == -ENOENT ? 0 : r;
}

/* Record that host's part of x was not reached (CLEXP_LEFT_PREFIX ID/HOST)
 * and ask its agent again to remove it: the want is put after the record,
 * so the agent that acts on it sees the record. */
static int clexp_leave(struct etcd *e, const struct clexp *x, const char *host, char *err)
{
	char key[128], *text;
	json_t *o = json_pack("{s:s, s:I}", "name", x->name, "since", (json_int_t)time(NULL));
	int r;

	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	snprintf(key, sizeof(key), CLEXP_LEFT_PREFIX "%s/%s", x->id, host);
	r = etcd_put(e, key, text, strlen(text), 0, err);
	free(text);
	return r ? r : clexp_want(e, x, host, false, err);
}

int clexp_release(struct etcd *e, const struct clexp *x, const bool *lost, char *err)
{
	static const char *const parts[] = { "frag/", "doc/", "status/" };
	bool any = false;
	char key[128];
	size_t i;
	int r = 0;

	for (i = 0; !r && i < x->nhosts; i++) {
		snprintf(key, sizeof(key), "/vtb/want/%s/%s", x->hosts[i], x->id);
		if (lost && lost[i]) {
			any = true;
			r = clexp_leave(e, x, x->hosts[i], err);
		} else if (!(r = clexp_free_host(e, x->id, x->hosts[i], err))) {
			r = clexp_del(e, key, err);
		}
	}
	/* the id, its VNIs and the lost hosts' allocations stay while a
	 * host's part is left: its agent finishes (clexp_finish) */
	if (!r && !any)
		r = clexp_free_vnis(e, x->id, err);
	for (i = 0; !r && i < UTIL_ARRAY_SIZE(parts); i++) {
		snprintf(key, sizeof(key), "/vtb/exp/%s/%s", x->id, any ? parts[i] : "");
		r = etcd_delete_prefix(e, key, NULL, err);
		if (!any)
			break; /* the whole prefix went at once */
	}
	snprintf(key, sizeof(key), "/vtb/ids/%s", x->id);
	if (!r && !any)
		r = clexp_del(e, key, err);
	snprintf(key, sizeof(key), "/vtb/exps/%s", x->name);
	if (!r)
		r = clexp_del(e, key, err);
	snprintf(key, sizeof(key), "/vtb/owner/%s", x->id);
	if (!r)
		r = clexp_del(e, key, err);
	return r;
}

int clexp_finish(struct etcd *e, const char *id, const char *host, char *err)
{
	char key[128], *v = NULL;
	struct etcd_kv *kv = NULL;
	size_t len, n = 0;
	int r;

	snprintf(key, sizeof(key), CLEXP_LEFT_PREFIX "%s/%s", id, host);
	r = etcd_get(e, key, &v, &len, NULL, err);
	free(v);
	if (r)
		return r == -ENOENT ? 0 : r;
	r = clexp_free_host(e, id, host, err);
	snprintf(key, sizeof(key), "/vtb/want/%s/%s", host, id);
	if (!r)
		r = clexp_del(e, key, err);
	snprintf(key, sizeof(key), "/vtb/exp/%s/status/%s", id, host);
	if (!r)
		r = clexp_del(e, key, err);
	snprintf(key, sizeof(key), CLEXP_LEFT_PREFIX "%s/%s", id, host);
	if (!r)
		r = clexp_del(e, key, err);
	/* the last host left of id gives back the id and its VNIs (two
	 * finishing at once: the later one's read sees neither record) */
	snprintf(key, sizeof(key), CLEXP_LEFT_PREFIX "%s/", id);
	if (!r)
		r = etcd_range_prefix(e, key, &kv, &n, NULL, err);
	etcd_kvs_free(kv, n);
	if (r || n)
		return r ? r : 1;
	r = clexp_free_vnis(e, id, err);
	snprintf(key, sizeof(key), "/vtb/exp/%s/", id);
	if (!r)
		r = etcd_delete_prefix(e, key, NULL, err);
	snprintf(key, sizeof(key), "/vtb/ids/%s", id);
	if (!r)
		r = clexp_del(e, key, err);
	return r ? r : 1;
}

int clexp_left_list(struct etcd *e, struct clexp_left **v, size_t *n, char *err)
{
	const size_t plen = strlen(CLEXP_LEFT_PREFIX);
	struct etcd_kv *kv = NULL;
	struct clexp_left *l;
	size_t nkv = 0, i;
	const char *id, *host, *name;
	json_t *o;
	int r;

	*v = NULL;
	*n = 0;
	r = etcd_range_prefix(e, CLEXP_LEFT_PREFIX, &kv, &nkv, NULL, err);
	if (!r && !(*v = calloc(nkv + 1, sizeof(**v))))
		r = -ENOMEM;
	for (i = 0; !r && i < nkv; i++) {
		id = kv[i].key + plen;
		host = strchr(id, '/');
		o = json_loadb(kv[i].val, kv[i].len, 0, NULL);
		name = json_string_value(json_object_get(o, "name"));
		l = &(*v)[*n];
		if (host && host - id == CLEXP_ID_LEN - 1 && !clconf_host_check(host + 1) && name &&
		    strlen(name) < sizeof(l->name) &&
		    json_is_integer(json_object_get(o, "since"))) {
			memcpy(l->id, id, CLEXP_ID_LEN - 1);
			strcpy(l->host, host + 1);
			strcpy(l->name, name);
			l->since = (int64_t)json_integer_value(json_object_get(o, "since"));
			++*n;
		}
		json_decref(o);
	}
	etcd_kvs_free(kv, nkv);
	return r;
}

int clexp_want(struct etcd *e, const struct clexp *x, const char *host, bool up, char *err)
{
	char key[128], val[160];

	snprintf(key, sizeof(key), "/vtb/want/%s/%s", host, x->id);
	snprintf(val, sizeof(val), "{\"name\":\"%s\",\"want\":\"%s\"}", x->name,
		 up ? CLEXP_UP : CLEXP_DOWN);
	return etcd_put(e, key, val, strlen(val), 0, err);
}

int clexp_status_put(struct etcd *e, const char *id, const char *host, const char *state,
		     const char *msg, char *err)
{
	char key[128], *text;
	json_t *o = json_pack("{s:s, s:s, s:I}", "state", state, "msg", msg ? msg : "", "t",
			      (json_int_t)time(NULL));
	int r;

	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	snprintf(key, sizeof(key), "/vtb/exp/%s/status/%s", id, host);
	r = etcd_put(e, key, text, strlen(text), 0, err);
	free(text);
	return r;
}

int clexp_status_get(struct etcd *e, const char *id, const char (*hosts)[CLCONF_HOST_MAX],
		     size_t n, char (*states)[16], char (*msgs)[UTIL_ERR_LEN], int64_t *rev,
		     char *err)
{
	struct etcd_kv *kv = NULL;
	char prefix[64];
	const char *s, *m;
	size_t nkv = 0, i, j, plen;
	json_t *o;
	int r;

	snprintf(prefix, sizeof(prefix), "/vtb/exp/%s/status/", id);
	plen = strlen(prefix);
	for (i = 0; i < n; i++) {
		states[i][0] = '\0';
		if (msgs)
			msgs[i][0] = '\0';
	}
	r = etcd_range_prefix(e, prefix, &kv, &nkv, rev, err);
	for (j = 0; !r && j < nkv; j++) {
		for (i = 0; i < n && strcmp(kv[j].key + plen, hosts[i]); i++)
			;
		o = i < n ? json_loadb(kv[j].val, kv[j].len, 0, NULL) : NULL;
		s = json_string_value(json_object_get(o, "state"));
		m = json_string_value(json_object_get(o, "msg"));
		if (s)
			snprintf(states[i], sizeof(states[i]), "%s", s);
		if (m && msgs)
			snprintf(msgs[i], UTIL_ERR_LEN, "%s", m);
		json_decref(o);
	}
	etcd_kvs_free(kv, nkv);
	return r;
}
