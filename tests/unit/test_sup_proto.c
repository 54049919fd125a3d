/* test_sup_proto: the shape checks of the supervisor's requests (each
 * operation's good and bad shapes) and the client's reply parser. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "sup_proto.h"
#include "supervisor.h"

/* Parse text as a request; the errno, and the op when it was accepted. */
static int parse(const char *text, enum sup_opcode *op, char *err, size_t errlen)
{
	json_t *req = NULL;
	enum sup_opcode o = SUP_OP_COUNT;
	int r = sup_proto_parse_request((const uint8_t *)text, strlen(text), &req, &o, err, errlen);

	if (r == 0) {
		assert_non_null(req);
		json_decref(req);
	} else {
		assert_null(req);
		assert_true(err[0] != '\0');
	}
	if (op)
		*op = o;
	return r;
}

static void test_good_shapes(void **state)
{
	static const struct {
		const char *text;
		enum sup_opcode op;
	} good[] = {
		{ "{\"op\":\"ping\"}", SUP_OP_PING },
		{ "{\"op\":\"status\"}", SUP_OP_STATUS },
		{ "{\"op\":\"stop\"}", SUP_OP_STOP },
		{ "{\"op\":\"links_start\"}", SUP_OP_LINKS_START },
		{ "{\"op\":\"vms_start\"}", SUP_OP_VMS_START },
		{ "{\"op\":\"vms\"}", SUP_OP_VMS },
		{ "{\"op\":\"link_set\",\"link\":\"a-b\",\"set\":{\"delay\":\"5ms\"}}", SUP_OP_LINK_SET },
		{ "{\"link\":\"a-b\",\"from\":\"a\",\"set\":{},\"op\":\"link_set\"}", SUP_OP_LINK_SET },
		{ "{\"op\":\"vm_exec\",\"node\":\"v\",\"cmd\":\"true\"}", SUP_OP_VM_EXEC },
		{ "{\"op\":\"vm_exec\",\"node\":\"v\",\"cmd\":\"\",\"timeout_ms\":5}", SUP_OP_VM_EXEC },
		{ "{\"op\":\"vm_attach\",\"node\":\"v\"}", SUP_OP_VM_ATTACH },
		{ "{\"op\":\"vms_wait\",\"since\":3,\"wait_ms\":1000}", SUP_OP_VMS_WAIT },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		enum sup_opcode op;

		err[0] = '\0';
		assert_int_equal(parse(good[i].text, &op, err, sizeof(err)), 0);
		assert_int_equal(op, good[i].op);
	}
}

static void test_bad_shapes(void **state)
{
	static const struct {
		const char *text;
		int r;
		const char *says;
	} bad[] = {
		{ "", -EBADMSG, "not a JSON object" },
		{ "[\"ping\"]", -EBADMSG, "not a JSON object" },
		{ "{\"op\":\"ping\"", -EBADMSG, "not a JSON object" },
		{ "{}", -EPROTO, "no \"op\"" },
		{ "{\"op\":1}", -EPROTO, "no \"op\"" },
		{ "{\"op\":\"reboot\"}", -EOPNOTSUPP, "unknown request 'reboot'" },
		{ "{\"op\":\"ping\",\"x\":1}", -EPROTO, "unexpected key 'x'" },
		{ "{\"op\":\"status\",\"node\":\"v\"}", -EPROTO, "unexpected key 'node'" },
		{ "{\"op\":\"stop\",\"now\":true}", -EPROTO, "unexpected key 'now'" },
		{ "{\"op\":\"links_start\",\"id\":\"x\"}", -EPROTO, "unexpected key 'id'" },
		{ "{\"op\":\"vms_start\",\"vms\":[]}", -EPROTO, "unexpected key 'vms'" },
		{ "{\"op\":\"vms\",\"all\":null}", -EPROTO, "unexpected key 'all'" },
		{ "{\"op\":\"link_set\",\"set\":{}}", -EPROTO, "'link' is missing" },
		{ "{\"op\":\"link_set\",\"link\":\"a-b\"}", -EPROTO, "'set' is missing" },
		{ "{\"op\":\"link_set\",\"link\":\"a-b\",\"set\":[]}", -EPROTO, "'set' must be an object, not an array" },
		{ "{\"op\":\"link_set\",\"link\":3,\"set\":{}}", -EPROTO, "'link' must be a string, not an integer" },
		{ "{\"op\":\"link_set\",\"link\":\"l\",\"from\":null,\"set\":{}}", -EPROTO, "'from' must be a string" },
		{ "{\"op\":\"vm_exec\",\"cmd\":\"x\"}", -EPROTO, "'node' is missing" },
		{ "{\"op\":\"vm_exec\",\"node\":\"v\"}", -EPROTO, "'cmd' is missing" },
		{ "{\"op\":\"vm_exec\",\"node\":\"v\",\"cmd\":\"x\",\"timeout_ms\":1.5}", -EPROTO,
		  "'timeout_ms' must be an integer, not a number" },
		{ "{\"op\":\"vm_exec\",\"node\":\"v\",\"cmd\":[\"x\"]}", -EPROTO, "'cmd' must be a string" },
		{ "{\"op\":\"vm_attach\"}", -EPROTO, "'node' is missing" },
		{ "{\"op\":\"vms_wait\",\"wait_ms\":5}", -EPROTO, "'since' is missing" },
		{ "{\"op\":\"vms_wait\",\"since\":1}", -EPROTO, "'wait_ms' is missing" },
		{ "{\"op\":\"vms_wait\",\"since\":\"1\",\"wait_ms\":5}", -EPROTO,
		  "'since' must be an integer, not a string" },
		{ "{\"op\":\"vm_attach\",\"node\":true}", -EPROTO, "'node' must be a string, not a boolean" },
		{ "{\"op\":\"ping\",\"op\":\"stop\"}", -EBADMSG, "not a JSON object" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i].text, NULL, err, sizeof(err)), bad[i].r);
		if (!strstr(err, bad[i].says))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].text, err, bad[i].says);
	}
}

static void test_too_long(void **state)
{
	char err[128] = "";
	json_t *req = NULL;
	enum sup_opcode op;
	static const uint8_t b[1] = { '{' };

	(void)state;
	assert_int_equal(sup_proto_parse_request(b, SUP_MAX_MSG + 1, &req, &op, err, sizeof(err)), -EMSGSIZE);
	assert_null(req);
}

static void test_every_op_has_a_shape(void **state)
{
	(void)state;
	for (size_t i = 0; i < SUP_OP_COUNT; i++) {
		assert_non_null(sup_ops[i].name);
		assert_non_null(sup_ops[i].shape);
	}
	assert_true(sup_ops[SUP_OP_VM_EXEC].threaded);
	assert_true(sup_ops[SUP_OP_VM_ATTACH].threaded);
	assert_false(sup_ops[SUP_OP_STOP].threaded);
}

/* Parse text as a reply; the errno. */
static int reply(const char *text, struct sup_reply *rep)
{
	char err[256] = "";
	int r = sup_proto_parse_reply((const uint8_t *)text, strlen(text), rep, err, sizeof(err));

	if (r)
		assert_true(err[0] != '\0');
	return r;
}

static void test_replies(void **state)
{
	struct sup_reply rep;
	static const char out[] = "\001hello";

	(void)state;
	assert_int_equal(reply(out, &rep), 0);
	assert_int_equal(rep.kind, SUP_REPLY_OUTPUT);
	assert_int_equal(rep.len, 5);
	assert_memory_equal(rep.data, "hello", 5);
	sup_reply_free(&rep);

	assert_int_equal(reply("{\"ok\":true,\"status\":3}", &rep), 0);
	assert_int_equal(rep.kind, SUP_REPLY_JSON);
	assert_true(rep.ok);
	sup_reply_free(&rep);

	assert_int_equal(reply("{\"ok\":false,\"error\":\"booting\",\"errno\":11}", &rep), 0);
	assert_false(rep.ok);
	assert_string_equal(rep.error, "booting");
	assert_int_equal(rep.errnum, EAGAIN);
	sup_reply_free(&rep);

	assert_int_equal(reply("{\"ok\":false}", &rep), 0);
	assert_string_equal(rep.error, "refused");
	assert_int_equal(rep.errnum, EIO);
	sup_reply_free(&rep);

	assert_int_equal(reply("{\"ok\":false,\"error\":\"x\",\"errno\":-4}", &rep), 0);
	assert_int_equal(rep.errnum, EIO);
	sup_reply_free(&rep);

	assert_int_equal(reply("{\"ok\":\"yes\"}", &rep), -EBADMSG);
	assert_null(rep.json);
	assert_int_equal(reply("{\"ok\":false,\"error\":5}", &rep), -EBADMSG);
	assert_int_equal(reply("{\"ok\":true,\"errno\":\"x\"}", &rep), -EBADMSG);
	assert_int_equal(reply("[]", &rep), -EBADMSG);
	assert_int_equal(reply("", &rep), -EBADMSG);
}

/* A reply of BIG bytes: {"ok":true,"status":{"blob":"xxx..."}}. */
#define BIG (10u << 20)

struct sender {
	int fd;
	char *text;
	size_t len;
	int r;
	size_t messages;
};

/* The supervisor's side: sup_send_piece until the whole text is sent. */
static void *send_all(void *arg)
{
	struct sender *sd = arg;
	size_t off = 0;

	while (off < sd->len && !sd->r) {
		sd->r = sup_send_piece(sd->fd, sd->text, sd->len, &off, 0);
		sd->messages++;
	}
	return NULL;
}

static char *big_reply(size_t *len)
{
	static const char head[] = "{\"ok\":true,\"status\":{\"blob\":\"", tail[] = "\"}}";
	char *t = malloc(BIG + 1);

	assert_non_null(t);
	memcpy(t, head, sizeof(head) - 1);
	memset(t + sizeof(head) - 1, 'x', BIG - (sizeof(head) - 1) - (sizeof(tail) - 1));
	memcpy(t + BIG - (sizeof(tail) - 1), tail, sizeof(tail));
	*len = BIG;
	return t;
}

/* A 10 MiB reply crosses a SOCK_SEQPACKET socketpair (whose messages must
 * fit the socket buffer, about 208 KiB) in pieces and is put together
 * whole: the supervisor's sender and the client's assembler. */
static void test_big_reply_in_pieces(void **state)
{
	struct sender sd = { .r = 0 };
	struct sup_assembly a = { 0 };
	struct sup_reply rep;
	uint8_t *buf = malloc(SUP_MAX_MSG);
	char err[256] = "";
	pthread_t th;
	int sv[2], r = 0;
	size_t got = 0;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	sd.fd = sv[0];
	sd.text = big_reply(&sd.len);
	assert_int_equal(pthread_create(&th, NULL, send_all, &sd), 0);
	while (r == 0) {
		ssize_t n = recv(sv[1], buf, SUP_MAX_MSG, MSG_TRUNC);

		assert_true(n > 0 && (size_t)n <= SUP_MAX_MSG);
		got++;
		r = sup_proto_feed_reply(&a, buf, (size_t)n, &rep, err, sizeof(err));
	}
	pthread_join(th, NULL);
	assert_int_equal(sd.r, 0);
	assert_int_equal(r, 1);
	assert_int_equal(got, sd.messages);
	assert_int_equal(got, (BIG + SUP_CHUNK - 1) / SUP_CHUNK);
	assert_int_equal(rep.kind, SUP_REPLY_JSON);
	assert_true(rep.ok);
	assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(rep.json, "status"), "blob"))),
			 BIG - 32); /* less the head and tail */
	assert_null(a.buf);
	sup_reply_free(&rep);
	close(sv[0]);
	close(sv[1]);
	free(sd.text);
	free(buf);
}

/* Feed one message given as text (its first byte may be SUP_PART). */
static int feed(struct sup_assembly *a, const char *text, struct sup_reply *rep)
{
	char err[256] = "";
	int r = sup_proto_feed_reply(a, (const uint8_t *)text, strlen(text), rep, err, sizeof(err));

	if (r < 0)
		assert_true(err[0] != '\0');
	return r;
}

static void test_feed_reply(void **state)
{
	struct sup_assembly a = { 0 };
	struct sup_reply rep;
	static const uint8_t b[1] = { '{' };
	char err[128];

	(void)state;
	/* a small reply is one plain message, as before pieces */
	assert_int_equal(feed(&a, "{\"ok\":true}", &rep), 1);
	assert_true(rep.ok);
	sup_reply_free(&rep);
	/* output chunks pass through */
	assert_int_equal(feed(&a, "\001out", &rep), 1);
	assert_int_equal(rep.kind, SUP_REPLY_OUTPUT);
	assert_int_equal(rep.len, 3);
	/* pieces, then the plain rest */
	assert_int_equal(feed(&a, "\002{\"ok\":", &rep), 0);
	assert_int_equal(feed(&a, "\002fal", &rep), 0);
	assert_int_equal(feed(&a, "se,\"error\":\"no\",\"errno\":2}", &rep), 1);
	assert_false(rep.ok);
	assert_string_equal(rep.error, "no");
	assert_int_equal(rep.errnum, ENOENT);
	sup_reply_free(&rep);
	assert_null(a.buf);
	/* output inside a pieced reply, output in pieces, a bad whole */
	assert_int_equal(feed(&a, "\002{\"ok\":", &rep), 0);
	assert_int_equal(feed(&a, "\001x", &rep), -EBADMSG);
	assert_null(a.buf);
	assert_int_equal(feed(&a, "\002\001x", &rep), 0);
	assert_int_equal(feed(&a, "y", &rep), -EBADMSG);
	assert_int_equal(feed(&a, "\002{\"ok\":", &rep), 0);
	assert_int_equal(feed(&a, "1}", &rep), -EBADMSG);
	assert_null(rep.json);
	/* a message longer than any the supervisor sends */
	assert_int_equal(sup_proto_feed_reply(&a, b, SUP_MAX_MSG + 1, &rep, err, sizeof(err)), -EMSGSIZE);
	sup_assembly_free(&a);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_shapes),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_every_op_has_a_shape),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_big_reply_in_pieces),
		cmocka_unit_test(test_feed_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
