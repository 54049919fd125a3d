/* test_etcd_parse: the parsers of etcd's JSON gateway replies
 * (cluster/etcd_parse.c) on canned replies, as etcd 3.4.23 writes them. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_parse.h"

#define HDR "\"header\":{\"cluster_id\":\"15118495548433857066\",\"member_id\":\"1\",\"revision\":\"7\",\"raft_term\":\"2\"}"

static int parse_range(const char *s, struct etcd_kv **kvs, size_t *n, int64_t *rev, char *err)
{
	return etcd_reply_range(s, strlen(s), kvs, n, rev, err);
}

static void test_b64(void **state)
{
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char *s, *d;
	size_t len;

	(void)state;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(in); i++) {
		assert_int_equal(etcd_b64_encode(in[i], strlen(in[i]), &s), 0);
		assert_string_equal(s, out[i]);
		assert_int_equal(etcd_b64_decode(s, strlen(s), &d, &len), 0);
		assert_int_equal(len, strlen(in[i]));
		assert_string_equal(d, in[i]);
		free(s), free(d);
	}
	assert_int_equal(etcd_b64_encode("\0\xff", 2, &s), 0);
	assert_string_equal(s, "AP8=");
	free(s);
	/* not canonical, or not base64 */
	const char *bad[] = { "Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm9v!", "Zm 9", "=Zg=" };
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++)
		assert_int_equal(etcd_b64_decode(bad[i], strlen(bad[i]), &d, &len), -EINVAL);
	/* a NUL inside the string is not a digit */
	assert_int_equal(etcd_b64_decode("Zg\0=", 4, &d, &len), -EINVAL);
}

static void test_range(void **state)
{
	char err[UTIL_ERR_LEN];
	struct etcd_kv *kvs;
	size_t n;
	int64_t rev;

	(void)state;
	assert_int_equal(parse_range("{" HDR ",\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\","
				     "\"mod_revision\":\"3\",\"version\":\"2\",\"value\":\"YmF6\"},"
				     "{\"key\":\"Zm9w\",\"mod_revision\":\"5\",\"lease\":\"4111120457015887624\"}],"
				     "\"count\":\"2\"}",
				     &kvs, &n, &rev, err),
			 0);
	assert_int_equal(rev, 7);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].key, "foo");
	assert_string_equal(kvs[0].val, "baz");
	assert_int_equal(kvs[0].len, 3);
	assert_int_equal(kvs[0].create_rev, 2);
	assert_int_equal(kvs[0].mod_rev, 3);
	assert_int_equal(kvs[0].lease, 0);
	assert_string_equal(kvs[1].val, ""); /* an empty value is left out */
	assert_int_equal(kvs[1].lease, 4111120457015887624LL);
	etcd_kvs_free(kvs, n);
	/* no kvs: an empty range */
	assert_int_equal(parse_range("{" HDR "}", &kvs, &n, &rev, err), 0);
	assert_int_equal(n, 0);
	assert_null(kvs);
	/* broken replies */
	const char *bad[] = {
		"",
		"Not Found",
		"[]",
		"{}",
		"{\"header\":{\"revision\":\"x7\"}}",
		"{" HDR ",\"kvs\":{}}",
		"{" HDR ",\"kvs\":[1]}",
		"{" HDR ",\"kvs\":[{\"value\":\"YQ==\"}]}",
		"{" HDR ",\"kvs\":[{\"key\":\"!!\"}]}",
		"{" HDR ",\"kvs\":[{\"key\":\"AA==\"}]}",
		"{" HDR ",\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"9223372036854775808\"}]}",
		"{" HDR ",\"kvs\":[{\"key\":\"YQ==\",\"lease\":true}]}",
		"{" HDR ",\"kvs\":[{\"key\":\"YQ==\"},{\"key\":7}]}",
	};
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(parse_range(bad[i], &kvs, &n, &rev, err), -EPROTO);
		assert_true(err[0] != '\0');
		assert_null(kvs);
	}
}

static void test_errors(void **state)
{
	char err[UTIL_ERR_LEN];
	const char *s;
	json_t *o;
	int64_t ttl;

	(void)state;
	s = "{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: requested lease not found\",\"code\":5}";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -ENOENT);
	assert_null(o);
	assert_string_equal(err, "etcd says: etcdserver: requested lease not found");
	s = "{\"error\":\"illegal base64 data at input byte 0\",\"code\":3}";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -EINVAL);
	assert_non_null(strstr(err, "illegal base64"));
	s = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\"}}";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -EAGAIN);
	assert_non_null(strstr(err, "no leader"));
	s = "{\"error\":\"x\",\"code\":99}";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -EPROTO);
	s = "{\"error\":\"x\",\"code\":0}";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -EPROTO);
	s = "{\"error\":{}}";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -EPROTO);
	assert_non_null(strstr(err, "without a message"));
	s = "Not Found";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -EPROTO);
	assert_non_null(strstr(err, "'Not Found'"));
	/* duplicate keys are refused */
	s = "{\"a\":1,\"a\":2}";
	assert_int_equal(etcd_reply_parse(s, strlen(s), &o, err), -EPROTO);
	/* a keepalive of a lease that is gone: a result without a TTL */
	s = "{\"result\":{" HDR ",\"ID\":\"12345\"}}";
	assert_int_equal(etcd_reply_keepalive(s, strlen(s), &ttl, err), -ENOENT);
	s = "{\"result\":{" HDR ",\"ID\":\"12345\",\"TTL\":\"5\"}}";
	assert_int_equal(etcd_reply_keepalive(s, strlen(s), &ttl, err), 0);
	assert_int_equal(ttl, 5);
	s = "{" HDR ",\"ID\":\"12345\",\"TTL\":\"5\"}";
	assert_int_equal(etcd_reply_keepalive(s, strlen(s), &ttl, err), -EPROTO);
}

static void test_small_replies(void **state)
{
	char err[UTIL_ERR_LEN];
	const char *s;
	int64_t a, b;
	bool ok;

	(void)state;
	s = "{" HDR ",\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"3\"}}}]}";
	assert_int_equal(etcd_reply_txn(s, strlen(s), &ok, err), 0);
	assert_true(ok);
	s = "{" HDR ",\"responses\":[]}"; /* false is left out */
	ok = true;
	assert_int_equal(etcd_reply_txn(s, strlen(s), &ok, err), 0);
	assert_false(ok);
	s = "{" HDR ",\"succeeded\":\"yes\"}";
	assert_int_equal(etcd_reply_txn(s, strlen(s), &ok, err), -EPROTO);
	s = "{" HDR ",\"deleted\":\"2\"}";
	assert_int_equal(etcd_reply_deleted(s, strlen(s), &a, err), 0);
	assert_int_equal(a, 2);
	s = "{" HDR "}";
	assert_int_equal(etcd_reply_deleted(s, strlen(s), &a, err), 0);
	assert_int_equal(a, 0);
	s = "{" HDR ",\"deleted\":\"-1\"}";
	assert_int_equal(etcd_reply_deleted(s, strlen(s), &a, err), -EPROTO);
	s = "{" HDR ",\"ID\":\"4111120457015887624\",\"TTL\":\"5\"}";
	assert_int_equal(etcd_reply_grant(s, strlen(s), &a, &b, err), 0);
	assert_int_equal(a, 4111120457015887624LL);
	assert_int_equal(b, 5);
	s = "{" HDR ",\"ID\":\"1\"}";
	assert_int_equal(etcd_reply_grant(s, strlen(s), &a, &b, err), -EPROTO);
}

struct seen {
	char log[512];
	int stop_at; /* stop (return 7) at this event, counting from 1 */
	int count;
};

static int record(const struct etcd_kv *kv, bool deleted, void *arg)
{
	struct seen *s = arg;
	size_t l = strlen(s->log);

	snprintf(s->log + l, sizeof(s->log) - l, "%s %s=%s@%lld;", deleted ? "del" : "put", kv->key,
		 kv->val, (long long)kv->mod_rev);
	return ++s->count == s->stop_at ? 7 : 0;
}

#define WATCH_CREATED "{\"result\":{" HDR ",\"created\":true}}\n"
#define WATCH_PUT "{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"YTE=\",\"create_revision\":\"5\",\"mod_revision\":\"5\",\"version\":\"1\",\"value\":\"eA==\"}}]}}\n"
#define WATCH_DEL "{\"result\":{" HDR ",\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"YTE=\",\"mod_revision\":\"6\"}}]}}\n"

static void test_watch_stream(void **state)
{
	const char *all = WATCH_CREATED WATCH_PUT WATCH_DEL;
	size_t len = strlen(all);
	char err[UTIL_ERR_LEN];

	(void)state;
	/* at once, and cut at every byte: the same events */
	for (size_t cut = 0; cut <= len; cut++) {
		struct etcd_wstream w;
		struct seen s = { .stop_at = 0 };

		etcd_wstream_init(&w);
		assert_int_equal(etcd_wstream_feed(&w, all, cut, record, &s, err), 0);
		assert_int_equal(etcd_wstream_feed(&w, all + cut, len - cut, record, &s, err), 0);
		assert_string_equal(s.log, "put a1=x@5;del a1=@6;");
		assert_true(w.created);
		assert_int_equal(w.rev, 7);
		etcd_wstream_free(&w);
	}
	/* the callback stops it */
	struct etcd_wstream w;
	struct seen s = { .stop_at = 1 };
	etcd_wstream_init(&w);
	assert_int_equal(etcd_wstream_feed(&w, all, len, record, &s, err), 7);
	assert_string_equal(s.log, "put a1=x@5;");
	etcd_wstream_free(&w);
	/* canceled, compacted, an error, a line that is not a result */
	const char *bad[] = {
		"{\"result\":{" HDR ",\"canceled\":true,\"compact_revision\":\"4\",\"cancel_reason\":\"mvcc: required revision has been compacted\"}}\n",
		"{\"result\":{" HDR ",\"canceled\":true}}\n",
		"{\"error\":{\"grpc_code\":14,\"message\":\"etcdserver: no leader\"}}\n",
		"{\"result\":{" HDR ",\"events\":[{\"type\":\"MERGE\",\"kv\":{\"key\":\"YQ==\"}}]}}\n",
		"{\"result\":{" HDR ",\"events\":{}}}\n",
		"{\"result\":7}\n",
		"oops\n",
	};
	const int want[] = { -ESTALE, -ECANCELED, -EAGAIN, -EPROTO, -EPROTO, -EPROTO, -EPROTO };
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
		struct seen t = { .stop_at = 0 };

		etcd_wstream_init(&w);
		err[0] = '\0';
		assert_int_equal(etcd_wstream_feed(&w, bad[i], strlen(bad[i]), record, &t, err), want[i]);
		assert_true(err[0] != '\0');
		etcd_wstream_free(&w);
	}
	/* blank lines and CRLF are nothing */
	etcd_wstream_init(&w);
	assert_int_equal(etcd_wstream_feed(&w, "\n\r\n", 3, record, &s, err), 0);
	etcd_wstream_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_small_replies),
		cmocka_unit_test(test_watch_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
