/* relay_proto: the frames of the relay between hosts (docs/cluster.md,
 * "The relay"), with no I/O: what both ends build and the parsers of what
 * arrives, which take bytes and a length and check every shape (the peer
 * is authenticated, but a bug there must not become one here). Fuzzed by
 * fuzz/fuzz_relay.c.
 *
 * A frame is a type byte, a 4-byte big-endian payload length and the
 * payload (at most RELAY_FRAME_MAX bytes). The requesting host sends one
 * RELAY_REQ first, then RELAY_STDIN data, RELAY_EOF once its input ends
 * and RELAY_WINCH when its terminal changes size; the serving host sends
 * RELAY_STDOUT and RELAY_STDERR data, then RELAY_EXIT with the command's
 * exit status, or RELAY_ERROR with why it refused, and closes. */
#ifndef VTB_RELAY_PROTO_H
#define VTB_RELAY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_HEAD 5
/* The largest payload: a pipe's default capacity, so one read of a
 * command's output is one frame. */
#define RELAY_FRAME_MAX 65536u
/* A request's words, at most: a vtb command line is a few dozen. */
#define RELAY_ARGC_MAX 256
#define RELAY_VERSION 1

enum relay_type {
	RELAY_REQ = 1,    /* {version, flags, rows, cols, argv...} */
	RELAY_STDIN = 2,  /* data for the command's standard input */
	RELAY_EOF = 3,    /* the requester's input ended (no payload) */
	RELAY_WINCH = 4,  /* rows and columns, 2 bytes each */
	RELAY_STDOUT = 5, /* data the command wrote */
	RELAY_STDERR = 6,
	RELAY_EXIT = 7,   /* the exit status, 4 bytes (0 to 255) */
	RELAY_ERROR = 8,  /* why the request was refused (text) */
};

/* One frame parsed from a buffer: data points into that buffer. */
struct relay_frame {
	uint8_t type;
	uint32_t len;
	const uint8_t *data;
};

/* The first frame of buf (len bytes): 0 with *f and *used (the frame's
 * bytes in all), -EAGAIN when buf holds only part of it, -EPROTO when it
 * is not a frame (unknown type, too long, a fixed-size payload of the
 * wrong size). */
int relay_frame_next(const uint8_t *buf, size_t len, struct relay_frame *f, size_t *used);

/* The head of a frame of type with len bytes of payload into head. */
void relay_frame_head(uint8_t type, uint32_t len, uint8_t head[RELAY_HEAD]);

/* A request: the command (vtb's words after "vtb", e.g. "exec" "demo" "a"
 * "--" "ls"), whether the requester's input is a terminal and its size. */
struct relay_req {
	bool tty;
	uint16_t rows, cols;
	size_t argc;
	char **argv; /* argc words and a NULL, pointing into buf */
	char *buf;
};

/* Parse a RELAY_REQ payload into *r (relay_req_free). 0 or -EPROTO. */
int relay_req_parse(const uint8_t *p, size_t len, struct relay_req *r);
void relay_req_free(struct relay_req *r);

/* The payload of a request for argc words of argv, into *out (the
 * caller's, free) of *len bytes. 0, -E2BIG when it does not fit a frame,
 * -ENOMEM. */
int relay_req_encode(bool tty, uint16_t rows, uint16_t cols, int argc, char *const *argv,
		     uint8_t **out, size_t *len);

/* Whether the host serving r runs it: one of the commands acting on an
 * experiment's part on one host (exec, link set/down/up, node
 * stop/start/restart/set, capture, status). 0, or -EPERM with err (UTIL_ERR_LEN
 * bytes) saying which are allowed. */
int relay_req_allowed(const struct relay_req *r, char *err);

/* A 4-byte big-endian number of a RELAY_EXIT or the two 2-byte numbers of
 * a RELAY_WINCH (the frame's size is checked by relay_frame_next). */
uint32_t relay_u32(const uint8_t *p);
uint16_t relay_u16(const uint8_t *p);

#endif
