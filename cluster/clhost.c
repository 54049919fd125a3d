/* clhost: the cluster's host inventory in etcd (see clhost.h). */
#include "clhost.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "etcd.h"
#include "qemu.h"
#include "util.h"


/* How long the KVM probe may take: a healthy host needs a few ms
 * (qemu.h). */
#define CLHOST_KVM_PROBE_MS 300

int clhost_inventory(const struct clconf *c, struct clhost *h)
{
	struct sysinfo si;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	*h = (struct clhost){ .cores = 0 };
	if (n <= 0 || sysinfo(&si))
		return -errno ? -errno : -EIO;
	snprintf(h->name, sizeof(h->name), "%s", c->host);
	snprintf(h->underlay, sizeof(h->underlay), "%s", c->underlay);
	h->cores = (uint64_t)n * 1000;
	h->memory = (uint64_t)si.totalram * si.mem_unit;
	h->kvm = qemu_probe_kvm(CLHOST_KVM_PROBE_MS, NULL, 0) == 1;
	return 0;
}

/* Put key = the JSON text of o (consumed), with lease (0: none). */
static int clhost_put_json(struct etcd *e, const char *key, json_t *o, int64_t lease, char *err)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r;

	json_decref(o);
	if (!text)
		return -ENOMEM;
	r = etcd_put(e, key, text, strlen(text), lease, err);
	free(text);
	return r;
}

int clhost_put(struct etcd *e, const struct clhost *h, char *err)
{
	char key[sizeof(CLHOST_PREFIX) + CLCONF_HOST_MAX];

	snprintf(key, sizeof(key), CLHOST_PREFIX "%s", h->name);
	return clhost_put_json(e, key,
			       json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:I}", "name", h->name,
					 "underlay", h->underlay, "cores", (json_int_t)h->cores,
					 "memory", (json_int_t)h->memory, "kvm", h->kvm, "joined",
					 (json_int_t)h->joined, "seen", (json_int_t)h->seen),
			       0, err);
}

int clhost_alive(struct etcd *e, const char *name, int64_t lease, pid_t pid, int64_t since,
		 char *err)
{
	char key[sizeof(CLHOST_ALIVE_PREFIX) + CLCONF_HOST_MAX];

	snprintf(key, sizeof(key), CLHOST_ALIVE_PREFIX "%s", name);
	return clhost_put_json(e, key,
			       json_pack("{s:i, s:I}", "pid", (int)pid, "since", (json_int_t)since),
			       lease, err);
}

/* The host of v[0..n) named name (len bytes), or NULL. */
static struct clhost *clhost_find(struct clhost *v, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i].name) == len && !memcmp(v[i].name, name, len))
			return &v[i];
	return NULL;
}

/* Fill the alive fields of v from the alive keys kv[0..n). */
static void clhost_mark_alive(struct clhost *v, size_t nv, const struct etcd_kv *kv, size_t n)
{
	const size_t plen = strlen(CLHOST_ALIVE_PREFIX);
	struct clhost *h;
	uint64_t since, pid;
	json_t *o;
	size_t i;

	for (i = 0; i < n; i++) {
		h = clhost_find(v, nv, kv[i].key + plen, strlen(kv[i].key + plen));
		if (!h)
			continue;
		h->alive = true;
		o = json_loadb(kv[i].val, kv[i].len, 0, NULL);
		if (o && !clhost_uint(o, "since", &since) && !clhost_uint(o, "pid", &pid)) {
			h->alive_since = (int64_t)since;
			h->agent_pid = (pid_t)pid;
		}
		json_decref(o);
	}
}

/* Fill the allocation fields of v from the allocation keys kv[0..n). */
static void clhost_mark_alloc(struct clhost *v, size_t nv, const struct etcd_kv *kv, size_t n)
{
	const size_t plen = strlen(CLHOST_ALLOC_PREFIX);
	struct clhost *h;
	json_t *o;
	size_t i;

	for (i = 0; i < n; i++) {
		h = clhost_find(v, nv, kv[i].key + plen, strlen(kv[i].key + plen));
		o = h ? json_loadb(kv[i].val, kv[i].len, 0, NULL) : NULL;
		if (o && (clhost_uint(o, "cores", &h->used_cores) ||
			  clhost_uint(o, "memory", &h->used_memory)))
			h->used_cores = h->used_memory = 0;
		json_decref(o);
	}
}

static int clhost_cmp(const void *a, const void *b)
{
	return strcmp(((const struct clhost *)a)->name, ((const struct clhost *)b)->name);
}

int clhost_list(struct etcd *e, struct clhost **v, size_t *n, char *err)
{
	struct etcd_kv *hk = NULL, *ak = NULL, *lk = NULL;
	size_t nh = 0, na = 0, nl = 0, i;
	char msg[UTIL_ERR_LEN];
	int64_t rev;
	int r;

	*v = NULL;
	*n = 0;
	r = etcd_range_prefix(e, CLHOST_PREFIX, &hk, &nh, &rev, err);
	if (!r)
		r = etcd_range_prefix(e, CLHOST_ALIVE_PREFIX, &ak, &na, &rev, err);
	if (!r)
		r = etcd_range_prefix(e, CLHOST_ALLOC_PREFIX, &lk, &nl, &rev, err);
	if (r)
		goto out;
	*v = calloc(nh ? nh : 1, sizeof(**v));
	if (!*v) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nh && !r; i++) {
		r = clhost_parse(hk[i].val, hk[i].len, &(*v)[i], msg);
		if (r)
			util_fmt(err, UTIL_ERR_LEN, "etcd key %s: %s", hk[i].key, msg);
	}
	if (r) {
		free(*v);
		*v = NULL;
		goto out;
	}
	*n = nh;
	clhost_mark_alive(*v, nh, ak, na);
	clhost_mark_alloc(*v, nh, lk, nl);
	qsort(*v, nh, sizeof(**v), clhost_cmp);
out:
	etcd_kvs_free(hk, nh);
	etcd_kvs_free(ak, na);
	etcd_kvs_free(lk, nl);
	return r;
}

int clhost_remove(struct etcd *e, const char *name, char *err)
{
	static const char *const prefixes[] = { CLHOST_ALIVE_PREFIX, CLHOST_ALLOC_PREFIX,
						CLHOST_PREFIX };
	char key[64 + CLCONF_HOST_MAX];
	size_t i;
	int r = 0;

	for (i = 0; i < UTIL_ARRAY_SIZE(prefixes) && !r; i++) {
		snprintf(key, sizeof(key), "%s%s", prefixes[i], name);
		r = etcd_delete(e, key, err);
		if (r == -ENOENT)
			r = 0;
	}
	return r;
}
