/* test_sup_proto: the shape checks of the supervisor's requests (each
 * operation's good and bad shapes) and the client's reply parser. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "sup_proto.h"

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

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_shapes),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_every_op_has_a_shape),
		cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
