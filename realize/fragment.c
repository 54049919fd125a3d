/* fragment: the strict parser of a fragment document (fragment.h). */
#include "fragment.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "clconf.h"
#include "compile.h"
#include "util.h"

/* The fields of a document, each required, no other allowed. */
static const char *const frag_keys[] = { "version", "name", "id", "host", "hosts",
					 "place", "vni", "xir" };

void frag_free(struct frag *f)
{
	if (!f)
		return;
	free(f->cl.host);
	free(f->cl.underlay);
	free(f->cl.host_of);
	free(f->cl.vni);
	xir_free(f->x);
	free(f);
}

/* Every key of o is one of frag_keys and each of them is there. */
static int check_keys(json_t *o, char *err)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; i < UTIL_ARRAY_SIZE(frag_keys) && strcmp(k, frag_keys[i]); i++)
			;
		if (i == UTIL_ARRAY_SIZE(frag_keys)) {
			util_fmt(err, UTIL_ERR_LEN, "unknown field '%.64s'", k);
			return -EINVAL;
		}
	}
	for (i = 0; i < UTIL_ARRAY_SIZE(frag_keys); i++)
		if (!json_object_get(o, frag_keys[i])) {
			util_fmt(err, UTIL_ERR_LEN, "field '%s' is missing", frag_keys[i]);
			return -EINVAL;
		}
	return 0;
}

/* The string field key of o into buf (at most len - 1 bytes, no NUL
 * inside). 0 or -EINVAL with err. */
static int get_str(json_t *o, const char *key, char *buf, size_t len, char *err)
{
	json_t *v = json_object_get(o, key);
	size_t n = json_string_length(v);

	if (!json_is_string(v) || !n || n >= len || memchr(json_string_value(v), 0, n)) {
		util_fmt(err, UTIL_ERR_LEN, "field '%s': a string of 1 to %zu bytes expected", key,
			 len - 1);
		return -EINVAL;
	}
	memcpy(buf, json_string_value(v), n + 1);
	return 0;
}

/* version, name, id and host. */
static int parse_head(json_t *o, struct frag *f, char *err)
{
	json_t *v = json_object_get(o, "version");
	char why[64];
	size_t i;

	if (!json_is_integer(v) || json_integer_value(v) != FRAG_VERSION) {
		util_fmt(err, UTIL_ERR_LEN, "field 'version': %d expected", FRAG_VERSION);
		return -EINVAL;
	}
	if (get_str(o, "name", f->name, sizeof(f->name), err) ||
	    get_str(o, "id", f->id, sizeof(f->id), err) ||
	    get_str(o, "host", f->host, sizeof(f->host), err))
		return -EINVAL;
	if (xir_name_check(f->name, strlen(f->name), why, sizeof(why))) {
		util_fmt(err, UTIL_ERR_LEN, "field 'name': not an experiment name: %s", why);
		return -EINVAL;
	}
	for (i = 0; i < FRAG_ID_LEN && f->id[i] && strchr("0123456789abcdef", f->id[i]); i++)
		;
	if (i != FRAG_ID_LEN || f->id[i]) {
		util_fmt(err, UTIL_ERR_LEN, "field 'id': %d lowercase hex digits expected",
			 FRAG_ID_LEN);
		return -EINVAL;
	}
	if (clconf_host_check(f->host)) {
		util_fmt(err, UTIL_ERR_LEN, "field 'host': not a host name");
		return -EINVAL;
	}
	return 0;
}

/* The index of host name among the first n of f's hosts, or n. */
static uint32_t host_index(const struct frag *f, uint32_t n, const char *name)
{
	uint32_t i;

	for (i = 0; i < n && strcmp(f->cl.host[i], name); i++)
		;
	return i;
}

/* hosts: {"NAME": "IPv4", ...}, names and addresses unique; here. */
static int parse_hosts(json_t *o, struct frag *f, char *err)
{
	json_t *h = json_object_get(o, "hosts"), *v;
	size_t n = json_object_size(h);
	struct in_addr a;
	const char *k;
	uint32_t i = 0;

	if (!json_is_object(h) || !n || n > FRAG_HOSTS_MAX) {
		util_fmt(err, UTIL_ERR_LEN, "field 'hosts': an object of 1 to %d hosts expected",
			 FRAG_HOSTS_MAX);
		return -EINVAL;
	}
	f->cl.host = calloc(n, sizeof(*f->cl.host));
	f->cl.underlay = calloc(n, sizeof(*f->cl.underlay));
	if (!f->cl.host || !f->cl.underlay)
		return -ENOMEM;
	json_object_foreach(h, k, v) {
		const char *s = json_string_value(v);

		if (strlen(k) >= RZ_HOST_LEN || clconf_host_check(k)) {
			util_fmt(err, UTIL_ERR_LEN, "field 'hosts': '%.64s' is not a host name", k);
			return -EINVAL;
		}
		if (!s || json_string_length(v) >= RZ_ADDR4_LEN || inet_pton(AF_INET, s, &a) != 1) {
			util_fmt(err, UTIL_ERR_LEN,
				 "field 'hosts': host '%s': a dotted IPv4 address expected", k);
			return -EINVAL;
		}
		snprintf(f->cl.host[i], RZ_HOST_LEN, "%s", k);
		inet_ntop(AF_INET, &a, f->cl.underlay[i], RZ_ADDR4_LEN);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(f->cl.underlay[j], f->cl.underlay[i])) {
				util_fmt(err, UTIL_ERR_LEN,
					 "field 'hosts': hosts '%s' and '%s' have one underlay "
					 "address (%s)", f->cl.host[j], k, f->cl.underlay[i]);
				return -EINVAL;
			}
		i++;
	}
	f->cl.nhosts = i;
	f->cl.here = host_index(f, i, f->host);
	if (f->cl.here == i) {
		util_fmt(err, UTIL_ERR_LEN, "field 'host': '%s' is not one of 'hosts'", f->host);
		return -EINVAL;
	}
	return 0;
}

/* place: one host name per node; every host holds a node. */
static int parse_place(json_t *o, struct frag *f, char *err)
{
	json_t *p = json_object_get(o, "place"), *v;
	size_t i, n = f->x->nnodes;
	uint32_t k;

	if (!json_is_array(p) || json_array_size(p) != n) {
		util_fmt(err, UTIL_ERR_LEN, "field 'place': an array of %zu host names (one per "
			 "device of the XIR) expected", n);
		return -EINVAL;
	}
	f->cl.host_of = calloc(n ? n : 1, sizeof(*f->cl.host_of));
	if (!f->cl.host_of)
		return -ENOMEM;
	json_array_foreach(p, i, v) {
		k = json_is_string(v) ? host_index(f, f->cl.nhosts, json_string_value(v))
				      : f->cl.nhosts;
		if (k == f->cl.nhosts) {
			util_fmt(err, UTIL_ERR_LEN, "field 'place': entry %zu (device '%s'): not "
				 "one of 'hosts'", i, f->x->nodes[i].name);
			return -EINVAL;
		}
		f->cl.host_of[i] = k;
	}
	for (k = 0; k < f->cl.nhosts; k++) {
		for (i = 0; i < n && f->cl.host_of[i] != k; i++)
			;
		if (i == n) {
			util_fmt(err, UTIL_ERR_LEN, "field 'hosts': host '%s' holds no device",
				 f->cl.host[k]);
			return -EINVAL;
		}
	}
	return 0;
}

/* Whether link l's endpoints are on more than one host of f. */
static bool frag_dispersed(const struct frag *f, size_t l)
{
	const struct xir_link *xl = &f->x->links[l];
	size_t j;

	for (j = 1; j < xl->nep; j++)
		if (f->cl.host_of[xl->ep[j].node] != f->cl.host_of[xl->ep[0].node])
			return true;
	return false;
}

/* vni: one per link, 1..0xffffff exactly where dispersed, 0 elsewhere,
 * no VNI twice (the kernel keeps one device per VNI and host). */
static int parse_vni(json_t *o, struct frag *f, char *err)
{
	json_t *a = json_object_get(o, "vni"), *v;
	size_t i, k, n = f->x->nlinks;

	if (!json_is_array(a) || json_array_size(a) != n) {
		util_fmt(err, UTIL_ERR_LEN, "field 'vni': an array of %zu integers (one per link "
			 "of the XIR) expected", n);
		return -EINVAL;
	}
	f->cl.vni = calloc(n ? n : 1, sizeof(*f->cl.vni));
	if (!f->cl.vni)
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		json_int_t x = json_integer_value(v);
		const char *name = f->x->links[i].name ? f->x->links[i].name : "?";
		bool disp = frag_dispersed(f, i);

		if (!json_is_integer(v) || x < 0 || x > 0xffffff || (disp != (x != 0))) {
			util_fmt(err, UTIL_ERR_LEN, "field 'vni': entry %zu (link '%s'): %s", i,
				 name, disp ? "its devices are on more than one host: a VNI of "
					      "1 to 16777215 expected"
					    : "its devices are on one host: 0 expected");
			return -EINVAL;
		}
		f->cl.vni[i] = (uint32_t)x;
		for (k = 0; x && k < i; k++)
			if (f->cl.vni[k] == (uint32_t)x) {
				util_fmt(err, UTIL_ERR_LEN, "field 'vni': entry %zu (link '%s'): "
					 "VNI %u is link %zu's already", i, name, (unsigned)x, k);
				return -EINVAL;
			}
	}
	return 0;
}

/* xir: an XIR document, compiled as a stored experiment's is; its name
 * is the fragment's. */
static int parse_xir(json_t *o, struct frag *f, char *err)
{
	json_t *v = json_object_get(o, "xir");
	struct diag_list d;
	char *text;
	int r;

	if (!json_is_object(v)) {
		util_fmt(err, UTIL_ERR_LEN, "field 'xir': an XIR object expected");
		return -EINVAL;
	}
	text = json_dumps(v, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	diag_init(&d, "xir", text, strlen(text));
	r = compile_source(f->name, text, strlen(text), NULL, &f->x, &d, NULL);
	if (r == -EINVAL || r == -EFBIG) {
		size_t i;

		for (i = 0; i < d.n && d.v[i].level != DIAG_ERROR; i++)
			;
		util_fmt(err, UTIL_ERR_LEN, "field 'xir': %s",
			 i < d.n ? d.v[i].msg : "not a valid XIR");
		r = -EINVAL;
	}
	diag_free(&d);
	free(text);
	if (!r && strcmp(f->x->name, f->name)) {
		util_fmt(err, UTIL_ERR_LEN, "field 'xir': its name is not the fragment's ('%s')",
			 f->name);
		r = -EINVAL;
	}
	return r;
}

int frag_parse(const uint8_t *buf, size_t len, struct frag **out, char *err)
{
	struct frag *f = calloc(1, sizeof(*f));
	json_error_t je;
	json_t *o = NULL;
	int r;

	*out = NULL;
	err[0] = '\0';
	if (!f)
		return -ENOMEM;
	if (len > COMPILE_MAX_SOURCE) {
		util_fmt(err, UTIL_ERR_LEN, "the document is over %zu bytes", COMPILE_MAX_SOURCE);
		r = -EFBIG;
		goto out_free;
	}
	o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		if (o)
			util_fmt(err, UTIL_ERR_LEN, "a JSON object expected");
		else
			util_fmt(err, UTIL_ERR_LEN, "not JSON: line %d column %d: %s", je.line,
				 je.column, je.text);
		r = -EINVAL;
		goto out_free;
	}
	r = check_keys(o, err);
	if (!r)
		r = parse_head(o, f, err);
	if (!r)
		r = parse_hosts(o, f, err);
	if (!r)
		r = parse_xir(o, f, err);
	if (!r)
		r = parse_place(o, f, err);
	if (!r)
		r = parse_vni(o, f, err);
	if (r)
		goto out_free;
	json_decref(o);
	*out = f;
	return 0;
out_free:
	if (r == -ENOMEM && !err[0])
		util_fmt(err, UTIL_ERR_LEN, "out of memory");
	json_decref(o);
	frag_free(f);
	return r;
}
