/* sup_proto: the bytes of the supervisor's control protocol, checked
 * before anything acts on them (as OpenBSD ntpd checks an imsg's length
 * before it reads it). A request is one JSON object per SOCK_SEQPACKET
 * message, {"op": NAME, ...}; each operation has a shape (which keys, of
 * which JSON type, required or optional) and a request with an unknown op,
 * an unknown key, a missing key or a key of the wrong type is refused with
 * a sentence saying which. A reply is either a chunk of command output (a
 * message whose first byte is SUP_OUT) or a JSON object {"ok": true, ...}
 * or {"ok": false, "error": TEXT, "errno": N}.
 *
 * A JSON reply of any size (a status of thousands of nodes) travels in
 * pieces: every message but the last starts with SUP_PART and carries up
 * to SUP_CHUNK bytes of the text; the last one is the rest, plain. So a
 * reply of up to SUP_CHUNK bytes is one plain message. (A SOCK_SEQPACKET
 * message must fit the sender's socket buffer: sendmsg refuses one longer
 * than sk_sndbuf - 32 with EMSGSIZE, about 208 KiB by default.) The client
 * puts the pieces together with sup_proto_feed_reply, up to SUP_MAX_REPLY.
 *
 * No I/O here and nothing prints: both parsers take (const uint8_t *,
 * size_t) so that they can be fuzzed (fuzz/fuzz_sup_request.c,
 * fuzz/fuzz_sup_reply.c). */
#ifndef VTB_SUP_PROTO_H
#define VTB_SUP_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most bytes of text or output in one message: well under the default
 * socket buffer (see above), and few messages for a large status. */
#define SUP_CHUNK (64u << 10)
/* The longest message: a request, or SUP_CHUNK bytes after a first byte. */
#define SUP_MAX_MSG (SUP_CHUNK + 1)
/* The longest JSON reply a client takes: a status of 100,000 nodes is
 * about 60 MiB; past this the client says so instead of eating memory. */
#define SUP_MAX_REPLY (256u << 20)
#define SUP_OUT '\x01'  /* first byte of a message of command output (vm_exec) */
#define SUP_PART '\x02' /* first byte of a piece of a JSON reply, more to come */

/* The operations, in the order of sup_ops[]. */
enum sup_opcode {
	SUP_OP_PING,
	SUP_OP_STATUS,
	SUP_OP_STOP,
	SUP_OP_LINKS_START,
	SUP_OP_LINK_SET,
	SUP_OP_VMS_START,
	SUP_OP_VMS,
	SUP_OP_VM_EXEC,
	SUP_OP_VM_ATTACH,
	SUP_OP_VMS_WAIT,
	SUP_OP_VM_POWER,
	SUP_OP_COUNT
};

/* One key of a request: its name, the JSON type its value must have, and
 * whether it must be there. */
struct sup_key {
	const char *name;
	json_type type;
	bool required;
};

/* One operation: its name on the wire, its shape (the keys besides "op",
 * ended by a NULL name), and whether it is served by a thread of its own
 * (it may take long: a command on a VM, an attached console). */
struct sup_op {
	const char *name;
	const struct sup_key *shape;
	bool threaded;
};

/* The protocol, indexed by enum sup_opcode. */
extern const struct sup_op sup_ops[SUP_OP_COUNT];

/* Parse and check one request of len bytes. Returns 0 with *req (the
 * caller json_decref()s it) and *op, or a negative errno with err saying
 * why: -EMSGSIZE (longer than SUP_MAX_MSG), -EBADMSG (not a JSON object),
 * -EOPNOTSUPP (unknown op), -EPROTO (the shape does not match). */
int sup_proto_parse_request(const uint8_t *buf, size_t len, json_t **req, enum sup_opcode *op,
			    char *err, size_t errlen);

/* A parsed reply. For SUP_REPLY_OUTPUT, data/len point into the caller's
 * buffer (the output without the SUP_OUT byte); for SUP_REPLY_JSON, json
 * is the whole object (owned: sup_reply_free), ok its "ok", and when ok
 * is false, error points into json (never NULL) and errnum is the
 * positive errno the supervisor gave (EIO when it gave none). */
struct sup_reply {
	enum { SUP_REPLY_OUTPUT, SUP_REPLY_JSON } kind;
	const uint8_t *data;
	size_t len;
	json_t *json;
	bool ok;
	const char *error;
	int errnum;
};

/* Parse one reply message of len bytes into *out. Returns 0, or a
 * negative errno with err saying why: -EMSGSIZE, -EBADMSG (not a JSON
 * object, or "ok" is not a boolean, or "error"/"errno" of the wrong type). */
int sup_proto_parse_reply(const uint8_t *buf, size_t len, struct sup_reply *out, char *err,
			  size_t errlen);
/* Release what sup_proto_parse_reply gave. */
void sup_reply_free(struct sup_reply *r);

/* The pieces of a JSON reply received so far (start zeroed; free with
 * sup_assembly_free). */
struct sup_assembly {
	uint8_t *buf;
	size_t len, cap;
};

/* Feed one received message of len bytes. Returns 1 with *out (as
 * sup_proto_parse_reply gives it; output chunks point into buf) when a
 * reply is whole, 0 when the message was a SUP_PART piece kept in a, or a
 * negative errno with err: -EMSGSIZE (a message over SUP_MAX_MSG, or the
 * pieces over SUP_MAX_REPLY), -EBADMSG (output in the middle of a piece
 * reply, or a malformed reply). After a reply or an error a is empty. */
int sup_proto_feed_reply(struct sup_assembly *a, const uint8_t *buf, size_t len,
			 struct sup_reply *out, char *err, size_t errlen);
void sup_assembly_free(struct sup_assembly *a);

#endif
