/* Unit tests of fragments: the document's parser (realize/fragment.c), each
 * of its refusals, and the realization of a fragment (rz_cluster.c): every
 * host gets the same addresses, MACs, ports and names, and the links whose
 * endpoints are on more than one host are dispersed. */
#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "fragment.h"
#include "realize.h"
#include "xir_json.h"

/* a-b direct over two hosts, c-d emulated over two, a LAN over three, g-x
 * on h3 alone */
static const char model[] = "topo.spec(islands == true)\n"
			    "a = topo.device('a')\nb = topo.device('b')\n"
			    "c = topo.device('c')\nd = topo.device('d')\n"
			    "e = topo.device('e')\nf = topo.device('f')\n"
			    "g = topo.device('g')\nx = topo.device('x')\n"
			    "topo.connect([a, b])\n"
			    "topo.connect([c, d], latency == ms(10))\n"
			    "topo.connect([e, f, g])\n"
			    "topo.connect([g, x])\n";
static const char *const place[] = { "h1", "h2", "h1", "h2", "h1", "h2", "h3", "h3" };
static const int vni[] = { 4242, 4243, 4244, 0 };

/* The model's XIR as a JSON value, named "demo". */
static json_t *model_xir(const char *src)
{
	struct diag_list d;
	struct xir *x = NULL;
	json_t *v;
	char *text;

	diag_init(&d, "t.vtb", src, strlen(src));
	assert_int_equal(compile_source("t.vtb", src, strlen(src), NULL, &x, &d, NULL), 0);
	free(x->name);
	x->name = strdup("demo");
	text = xjson_dumps(x);
	v = json_loads(text, 0, NULL);
	assert_non_null(v);
	free(text);
	xir_free(x);
	diag_free(&d);
	return v;
}

/* The fragment of the model for host. */
static json_t *frag_doc(const char *host)
{
	json_t *p = json_array(), *n = json_array();
	size_t i;

	for (i = 0; i < 8; i++)
		json_array_append_new(p, json_string(place[i]));
	for (i = 0; i < 4; i++)
		json_array_append_new(n, json_integer(vni[i]));
	return json_pack("{s:i,s:s,s:s,s:s,s:{s:s,s:s,s:s},s:o,s:o,s:o}", "version", 1, "name",
			 "demo", "id", "3a7f", "host", host, "hosts", "h1", "10.99.0.1", "h2",
			 "10.99.0.2", "h3", "10.99.0.3", "place", p, "vni", n, "xir",
			 model_xir(model));
}

/* Parse doc; the parser's return and its error in err. */
static int parse(json_t *doc, struct frag **f, char *err)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	int r;

	assert_non_null(text);
	r = frag_parse((const uint8_t *)text, strlen(text), f, err);
	free(text);
	return r;
}

static void test_parse_ok(void **state)
{
	char err[UTIL_ERR_LEN];
	json_t *doc = frag_doc("h2");
	struct frag *f;
	size_t i;

	(void)state;
	assert_int_equal(parse(doc, &f, err), 0);
	assert_string_equal(f->name, "demo");
	assert_string_equal(f->id, "3a7f");
	assert_string_equal(f->host, "h2");
	assert_int_equal(f->cl.nhosts, 3);
	assert_string_equal(f->cl.host[f->cl.here], "h2");
	assert_string_equal(f->cl.underlay[f->cl.here], "10.99.0.2");
	assert_int_equal(f->x->nnodes, 8);
	for (i = 0; i < 8; i++)
		assert_string_equal(f->cl.host[f->cl.host_of[i]], place[i]);
	for (i = 0; i < 4; i++)
		assert_int_equal(f->cl.vni[i], vni[i]);
	frag_free(f);
	json_decref(doc);
}

struct bad {
	const char *field; /* the field to replace (NULL: delete "xir"'s name) */
	const char *json;  /* its new value (NULL: remove the field) */
	const char *err;   /* what the error must say */
};

static const struct bad bads[] = {
	{ "version", "2", "field 'version': 1 expected" },
	{ "version", NULL, "field 'version' is missing" },
	{ "extra", "1", "unknown field 'extra'" },
	{ "name", "\"-x\"", "field 'name': not an experiment name" },
	{ "name", "\"other\"", "field 'xir': its name is not the fragment's ('other')" },
	{ "id", "\"3A7F\"", "field 'id': 4 lowercase hex digits expected" },
	{ "id", "\"3a7\"", "field 'id': 4 lowercase hex digits expected" },
	{ "id", "3", "field 'id': a string of 1 to 4 bytes expected" },
	{ "host", "\"h9\"", "field 'host': 'h9' is not one of 'hosts'" },
	{ "host", "\"h/1\"", "field 'host': not a host name" },
	{ "hosts", "{}", "field 'hosts': an object of 1 to 4096 hosts expected" },
	{ "hosts", "{\"h1\": \"10.99.0.1\", \"h2\": \"10.99.0.1\", \"h3\": \"10.99.0.3\"}",
	  "hosts 'h1' and 'h2' have one underlay address (10.99.0.1)" },
	{ "hosts", "{\"h1\": \"10.99.0.1\", \"h2\": \"::1\", \"h3\": \"10.99.0.3\"}",
	  "host 'h2': a dotted IPv4 address expected" },
	{ "hosts", "{\"h1\": \"10.99.0.1\", \"h 2\": \"10.99.0.2\", \"h3\": \"10.99.0.3\"}",
	  "'h 2' is not a host name" },
	{ "hosts", "{\"h1\": \"10.99.0.1\", \"h2\": \"10.99.0.2\", \"h3\": \"10.99.0.3\", "
		   "\"h4\": \"10.99.0.4\"}", "field 'hosts': host 'h4' holds no device" },
	{ "place", "[\"h1\"]", "field 'place': an array of 8 host names" },
	{ "place", "[\"h1\", \"h2\", \"h1\", \"h2\", \"h1\", \"h2\", \"h3\", \"h9\"]",
	  "field 'place': entry 7 (device 'x'): not one of 'hosts'" },
	{ "place", "[\"h1\", \"h2\", \"h1\", \"h2\", \"h1\", \"h2\", \"h3\", 3]",
	  "entry 7 (device 'x'): not one of 'hosts'" },
	{ "vni", "[4242, 4243, 4244]", "field 'vni': an array of 4 integers" },
	{ "vni", "[4242, 0, 4244, 0]",
	  "entry 1 (link 'c-d'): its devices are on more than one host" },
	{ "vni", "[4242, 4243, 4244, 7]", "entry 3 (link 'g-x'): its devices are on one host" },
	{ "vni", "[16777216, 4243, 4244, 0]", "entry 0 (link 'a-b'): its devices are on more" },
	{ "vni", "[4242, 4242, 4244, 0]", "VNI 4242 is link 0's already" },
	{ "vni", "[4242, \"4243\", 4244, 0]", "entry 1 (link 'c-d')" },
	{ "xir", "[]", "field 'xir': an XIR object expected" },
	{ "xir", "{\"version\": 1}", "field 'xir': " },
};

static void test_parse_errors(void **state)
{
	char err[UTIL_ERR_LEN];
	struct frag *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		json_t *doc = frag_doc("h1");

		if (bads[i].json)
			json_object_set_new(doc, bads[i].field, json_loads(bads[i].json,
									   JSON_DECODE_ANY, NULL));
		else
			json_object_del(doc, bads[i].field);
		f = (struct frag *)1;
		assert_int_equal(parse(doc, &f, err), -EINVAL);
		assert_null(f);
		if (!strstr(err, bads[i].err))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bads[i].err);
		json_decref(doc);
	}
}

/* Bytes that are not a document at all. */
static void test_parse_bytes(void **state)
{
	static const char *const texts[] = { "", "{", "[1]", "{\"version\": 1, \"version\": 1}",
					     "{\"version\": 1}\0x" };
	static const char *const errs[] = { "not JSON", "not JSON: line 1", "a JSON object expected",
					    "not JSON", "not JSON" };
	char err[UTIL_ERR_LEN];
	struct frag *f;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		size_t len = i == 4 ? 17 : strlen(texts[i]);

		assert_int_equal(frag_parse((const uint8_t *)texts[i], len, &f, err), -EINVAL);
		if (!strstr(err, errs[i]))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, errs[i]);
	}
}

/* Host h's realization of its fragment, named for its id. */
static struct realization *realize_on(const char *h, struct frag **f)
{
	struct rz_host host = { .cores = UINT64_MAX / 2, .memory = UINT64_MAX / 2 };
	struct realization *rz = NULL;
	char err[UTIL_ERR_LEN];
	struct diag_list d;
	json_t *doc = frag_doc(h);

	assert_int_equal(parse(doc, f, err), 0);
	json_decref(doc);
	diag_init(&d, "t", NULL, 0);
	assert_int_equal(realize((*f)->x, &host, &rz, &d), 0);
	diag_free(&d);
	assert_int_equal(realize_cluster(rz, &(*f)->cl, err, sizeof(err)), 0);
	assert_int_equal(realize_name(rz, (*f)->id), 0);
	return rz;
}

/* Everything a host builds from, but what is here, is alike. */
static void expect_same(const struct realization *a, const struct realization *b)
{
	size_t i, k;

	assert_int_equal(a->nports, b->nports);
	for (i = 0; i < a->x->nnodes; i++) {
		assert_int_equal(a->nodes[i].nifs, b->nodes[i].nifs);
		for (k = 0; k < a->nodes[i].nifs; k++) {
			const struct rz_iface *p = &a->nodes[i].ifs[k], *q = &b->nodes[i].ifs[k];

			assert_memory_equal(&p->v4, &q->v4, sizeof(p->v4));
			assert_memory_equal(p->mac, q->mac, 6);
			assert_string_equal(p->name, q->name);
			assert_int_equal(p->port, q->port);
			assert_string_equal(p->port_name, q->port_name);
		}
		assert_int_equal(a->nodes[i].nroutes, b->nodes[i].nroutes);
	}
	for (i = 0; i < a->x->nlinks; i++) {
		assert_int_equal(a->links[i].cls, b->links[i].cls);
		assert_string_equal(a->links[i].bridge, b->links[i].bridge);
		assert_int_equal(a->links[i].first_port, b->links[i].first_port);
	}
}

static void test_realize_fragment(void **state)
{
	static const char *const hosts[] = { "h1", "h2", "h3" };
	struct realization *rz[3];
	struct frag *f[3];
	size_t h;

	(void)state;
	for (h = 0; h < 3; h++)
		rz[h] = realize_on(hosts[h], &f[h]);
	expect_same(rz[0], rz[1]);
	expect_same(rz[0], rz[2]);
	assert_int_equal(rz[0]->links[0].cls, RZ_LC_DISPERSED);
	assert_int_equal(rz[0]->links[1].cls, RZ_LC_EMULATED);
	assert_int_equal(rz[0]->links[2].cls, RZ_LC_DISPERSED);
	assert_int_equal(rz[0]->links[3].cls, RZ_LC_VETH);
	assert_string_equal(realize_class_name(RZ_LC_DISPERSED), "dispersed");
	assert_string_equal(rz[0]->links[0].bridge, "vtb3a7fb0");
	assert_string_equal(rz[0]->links[0].vtep, "vtb3a7fx0");
	assert_string_equal(rz[2]->links[2].vtep, "vtb3a7fx2");
	/* the emulated link's VXLAN device is the remote endpoint's port */
	assert_string_equal(rz[0]->links[1].vtep, realize_ep_iface(rz[0], 1, 1)->port_name);
	assert_string_equal(rz[1]->links[1].vtep, realize_ep_iface(rz[1], 1, 0)->port_name);
	assert_true(realize_link_dispersed(rz[0], 2));
	assert_false(realize_link_dispersed(rz[0], 3));
	/* h1 holds a, c, e: not b; g-x is not its */
	assert_true(realize_node_here(rz[0], 0));
	assert_false(realize_node_here(rz[0], 1));
	assert_true(realize_ep_here(rz[1], 0, 1));
	assert_false(realize_link_here(rz[0], 3));
	assert_true(realize_link_here(rz[2], 3));
	assert_true(realize_link_here(rz[2], 2));
	assert_false(realize_link_here(rz[2], 0));
	for (h = 0; h < 3; h++) {
		realize_free(rz[h]);
		frag_free(f[h]);
	}
}

/* Without a cluster nothing changes: every node and link is here. */
static void test_one_host(void **state)
{
	struct rz_host host = { .cores = 64, .memory = 1ULL << 36 };
	struct realization *rz = NULL;
	struct diag_list d;
	struct frag *f;
	char err[UTIL_ERR_LEN];
	json_t *doc = frag_doc("h1");

	(void)state;
	assert_int_equal(parse(doc, &f, err), 0);
	json_decref(doc);
	diag_init(&d, "t", NULL, 0);
	assert_int_equal(realize(f->x, &host, &rz, &d), 0);
	diag_free(&d);
	assert_null(rz->cluster);
	assert_true(realize_node_here(rz, 1));
	assert_true(realize_link_here(rz, 3));
	assert_false(realize_link_dispersed(rz, 0));
	assert_int_equal(rz->links[0].cls, RZ_LC_VETH);
	assert_int_equal(rz->links[2].cls, RZ_LC_SWITCH);
	/* a VNI on a link on one host: refused */
	f->cl.vni[3] = 9;
	assert_int_equal(realize_cluster(rz, &f->cl, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "link 'g-x': it is on one host but has a VNI"));
	assert_null(rz->cluster);
	realize_free(rz);
	frag_free(f);
}

/* An emulated LAN over two hosts (a, b on h1, c on h2) is realized: it
 * stays emulated, each host names its VXLAN device "vtb<id>x<link>" (the
 * emulator's one port for the endpoints on other hosts); a point-to-point
 * emulated link keeps the remote endpoint's port as its device. */
static void test_emulated_lan(void **state)
{
	static const char src[] = "a = topo.device('a')\nb = topo.device('b')\n"
				  "c = topo.device('c')\n"
				  "topo.connect([a, b, c], latency == ms(1))\n"
				  "topo.connect([a, c], latency == ms(1))\n";
	struct rz_host host = { .cores = 64, .memory = 1ULL << 36 };
	struct rz_cluster cl = { .nhosts = 2 };
	char hn[2][RZ_HOST_LEN] = { "h1", "h2" }, ul[2][RZ_ADDR4_LEN] = { "10.0.0.1", "10.0.0.2" };
	uint32_t host_of[3] = { 0, 0, 1 }, v[2] = { 7, 8 }, here;
	struct realization *rz = NULL;
	char err[UTIL_ERR_LEN];
	struct diag_list d;
	struct xir *x = NULL;

	(void)state;
	cl.host = hn;
	cl.underlay = ul;
	cl.host_of = host_of;
	cl.vni = v;
	diag_init(&d, "t", src, strlen(src));
	assert_int_equal(compile_source("t.vtb", src, strlen(src), NULL, &x, &d, NULL), 0);
	diag_free(&d);
	for (here = 0; here < 2; here++) {
		cl.here = here;
		diag_init(&d, "t", src, strlen(src));
		assert_int_equal(realize(x, &host, &rz, &d), 0);
		diag_free(&d);
		assert_int_equal(realize_cluster(rz, &cl, err, sizeof(err)), 0);
		assert_int_equal(realize_name(rz, "3a7f"), 0);
		assert_int_equal(rz->links[0].cls, RZ_LC_EMULATED);
		assert_true(realize_link_lan_spread(rz, 0));
		assert_string_equal(rz->links[0].vtep, "vtb3a7fx0");
		assert_false(realize_link_lan_spread(rz, 1));
		assert_string_equal(rz->links[1].vtep, realize_ep_iface(rz, 1, !here)->port_name);
		realize_free(rz);
		rz = NULL;
	}
	xir_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_bytes),
		cmocka_unit_test(test_realize_fragment),
		cmocka_unit_test(test_one_host),
		cmocka_unit_test(test_emulated_lan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
