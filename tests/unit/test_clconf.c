/* The cluster configuration file (cluster/clconf.c): what it accepts, and
 * errors naming the line. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clconf.h"

static int parse(const char *text, struct clconf *c, char *err)
{
	return clconf_parse(text, strlen(text), c, err);
}

static void test_good(void **state)
{
	char err[UTIL_ERR_LEN] = "";
	struct clconf c;

	(void)state;
	assert_int_equal(parse("# a comment\n\netcd = http://10.0.0.1:2379,http://e2:2379\n"
			       "  host=h-1.lab   # trailing comment\nunderlay = 10.0.0.11\n",
			       &c, err), 0);
	assert_string_equal(c.etcd, "http://10.0.0.1:2379,http://e2:2379");
	assert_string_equal(c.host, "h-1.lab");
	assert_string_equal(c.underlay, "10.0.0.11");
}

/* Each bad text, and the words its error must hold. */
static void test_bad(void **state)
{
	static const struct {
		const char *text, *words;
	} cases[] = {
		{ "etcd = 10.0.0.1:2379\nhost = a\nunderlay = 10.0.0.1\n", "line 1: etcd wants" },
		{ "etcd = http://e:2379\nhost = a b\nunderlay = 10.0.0.1\n", "line 2: host wants" },
		{ "etcd = http://e:2379\nhost = a\nunderlay = fe80::1\n", "line 3: underlay wants" },
		{ "etcd = http://e:2379\nhost = a\nunderlay = 10.0.0.1\nport = 1\n",
		  "line 4: unknown key" },
		{ "etcd = http://e:2379\nhost a\n", "line 2: expected 'key = value'" },
		{ "etcd = http://e:2379\nunderlay = 10.0.0.1\n", "'host' is missing" },
		{ "", "'etcd' is missing" },
		{ "etcd = http://e:2379,\nhost = a\nunderlay = 10.0.0.1\n", "line 1: etcd wants" },
		{ "etcd = http://e:2379\nhost = a\nunderlay = 10.0.0.1\nca = ca.crt\n",
		  "line 4: ca wants the absolute path" },
		{ "etcd = http://e:2379\nhost = a\nunderlay = 10.0.0.1\nca = /c\ncert = /h\n",
		  "'key' is missing (ca, cert and key go together)" },
		{ "etcd = https://e:2379\nhost = a\nunderlay = 10.0.0.1\n",
		  "etcd is reached over https but ca, cert and key are missing" },
	};
	char err[UTIL_ERR_LEN];
	struct clconf c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(cases[i].text, &c, err), -EINVAL);
		if (!strstr(err, cases[i].words))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].words);
	}
}

static void test_tls_keys(void **state)
{
	char err[UTIL_ERR_LEN] = "";
	struct clconf c;

	(void)state;
	assert_int_equal(parse("etcd = https://e:2379\nhost = a\nunderlay = 10.0.0.1\n"
			       "ca = /etc/vtb/ca.crt\ncert = /etc/vtb/host.crt\nkey = /etc/vtb/host.key\n",
			       &c, err), 0);
	assert_string_equal(c.ca, "/etc/vtb/ca.crt");
	assert_string_equal(c.cert, "/etc/vtb/host.crt");
	assert_string_equal(c.key, "/etc/vtb/host.key");
	assert_int_equal(parse("etcd = http://e:2379\nhost = a\nunderlay = 10.0.0.1\n", &c, err), 0);
	assert_string_equal(c.ca, "");
	clconf_dir("/etc/vtb/cluster.conf", err, sizeof(err));
	assert_string_equal(err, "/etc/vtb");
	clconf_dir("/c.conf", err, sizeof(err));
	assert_string_equal(err, "/");
}

static void test_round_trip(void **state)
{
	char dir[] = "/tmp/vtb-clconf-XXXXXX", path[64], err[UTIL_ERR_LEN];
	struct clconf c = { .etcd = "https://10.99.0.254:2379", .host = "h2", .underlay = "10.99.0.2",
			    .ca = "/etc/vtb/ca.crt", .cert = "/etc/vtb/host.crt",
			    .key = "/etc/vtb/host.key" },
		      d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/cluster.conf", dir);
	assert_int_equal(clconf_read(path, &d, err), -ENOENT);
	assert_int_equal(clconf_write(path, &c, err), 0);
	assert_int_equal(clconf_read(path, &d, err), 0);
	assert_string_equal(d.etcd, c.etcd);
	assert_string_equal(d.host, c.host);
	assert_string_equal(d.underlay, c.underlay);
	assert_string_equal(d.ca, c.ca);
	assert_string_equal(d.cert, c.cert);
	assert_string_equal(d.key, c.key);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_tls_keys),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
