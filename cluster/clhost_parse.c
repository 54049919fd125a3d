/* clhost_parse: a host record of etcd read back (clhost.h), on its own so
 * that the fuzzer builds it without etcd's client. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "clhost.h"
#include "util.h"

/* A non-negative integer field of o, or -EINVAL. */
int clhost_uint(json_t *o, const char *field, uint64_t *v)
{
	json_t *f = json_object_get(o, field);

	if (!json_is_integer(f) || json_integer_value(f) < 0)
		return -EINVAL;
	*v = (uint64_t)json_integer_value(f);
	return 0;
}

int clhost_parse(const char *json, size_t len, struct clhost *h, char *err)
{
	const char *name, *underlay, *bad = NULL;
	uint64_t joined = 0, seen = 0;
	json_t *o = json_loadb(json, len, 0, NULL), *kvm;
	int r = -EINVAL;

	*h = (struct clhost){ .cores = 0 };
	if (!json_is_object(o)) {
		bad = "not a JSON object";
		goto out;
	}
	name = json_string_value(json_object_get(o, "name"));
	underlay = json_string_value(json_object_get(o, "underlay"));
	kvm = json_object_get(o, "kvm");
	if (!name || clconf_host_check(name))
		bad = "name";
	else if (!underlay || strlen(underlay) >= sizeof(h->underlay))
		bad = "underlay";
	else if (clhost_uint(o, "cores", &h->cores))
		bad = "cores";
	else if (clhost_uint(o, "memory", &h->memory))
		bad = "memory";
	else if (!json_is_boolean(kvm))
		bad = "kvm";
	else if (clhost_uint(o, "joined", &joined) || clhost_uint(o, "seen", &seen))
		bad = "joined or seen";
	if (bad)
		goto out;
	strcpy(h->name, name);
	strcpy(h->underlay, underlay);
	h->kvm = json_is_true(kvm);
	h->joined = (int64_t)joined;
	h->seen = (int64_t)seen;
	r = 0;
out:
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "bad host record: %s", bad);
	json_decref(o);
	return r;
}

