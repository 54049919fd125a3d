/* con_stream: the parser of what a console's shell prints, for the
 * command-shell proxy (console.c; the protocol is in console.h). It is fed
 * bytes as they come, in chunks of any size, and keeps its state here:
 * waiting for the prompt, or for a command's start marker, its output up
 * to the end marker with the exit status, and the prompt after it. No I/O
 * and nothing prints, so it can be fuzzed (fuzz/fuzz_console.c). */
#ifndef VTB_CON_STREAM_H
#define VTB_CON_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum con_phase {
	CON_IDLE,        /* nothing expected: bytes are dropped */
	CON_PROMPT,      /* waiting for the prompt */
	CON_START,       /* waiting for the command's start marker */
	CON_START_NL,    /* waiting for the end of the start marker's line */
	CON_OUTPUT,      /* collecting output up to the end marker */
	CON_END_PROMPT,  /* the command ended; waiting for the prompt */
	CON_DONE,        /* what was expected came (status set for a command) */
};

struct con_stream {
	enum con_phase phase;
	char prompt[48];
	size_t plen;
	char smark[80], emark[80];  /* "__vtb_s<nonce>__", "\n__vtb_e<nonce>_" */
	size_t slen, elen;
	char *buf;                  /* received, not yet consumed */
	size_t len, cap;
	struct util_buf *out;       /* the caller's, for CON_OUTPUT */
	bool cr;                    /* a CR ended the last output chunk */
	size_t from;                /* where in out to look for the end marker */
	int status;                 /* the command's exit status */
};

/* Start in CON_IDLE, with the prompt to look for (shorter than 48 bytes). */
void con_stream_init(struct con_stream *s, const char *prompt);
void con_stream_free(struct con_stream *s);

/* Drop whatever was received and expect nothing (CON_IDLE). */
void con_stream_reset(struct con_stream *s);

/* Expect the prompt (what was received so far counts). */
void con_stream_want_prompt(struct con_stream *s);

/* Expect the command with nonce (shorter than 64 bytes): its output is
 * appended to out (CRLF turned into LF), its status is s->status. Drops
 * what was received so far. */
void con_stream_want_cmd(struct con_stream *s, const char *nonce, struct util_buf *out);

/* Feed n bytes (p may be NULL when n is 0, to run the parser on what it
 * holds). 1 when the phase is CON_DONE, 0 when more is needed, -ENOMEM. */
int con_stream_feed(struct con_stream *s, const uint8_t *p, size_t n);

#endif
