/* lexer: turns model source into tokens, Python style. Indentation becomes
 * INDENT/DEDENT tokens; newlines inside brackets are ignored; mixing tabs and
 * spaces in indentation is an error. Tokens are produced one at a time so
 * huge models need no token array. Errors go to the diag list. */
#ifndef VTB_LEXER_H
#define VTB_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "util.h"

#define LEX_MAX_INDENT 100

enum tok_type {
	T_EOF, T_NEWLINE, T_INDENT, T_DEDENT, T_NAME, T_INT, T_FLOAT, T_STRING,
	/* keywords */
	T_FOR, T_IN, T_IF, T_ELIF, T_ELSE, T_AND, T_OR, T_NOT, T_TRUE, T_FALSE, T_PASS,
	T_BREAK, T_CONTINUE, T_NONE,
	/* punctuation */
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_COLON, T_DOT, T_ASSIGN,
	T_PLUSEQ, T_MINUSEQ, T_STAREQ, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_PLUS, T_MINUS,
	T_STAR, T_SLASH, T_DSLASH, T_PERCENT,
	T_ERROR,
};

struct token {
	enum tok_type type;
	struct src_loc loc;
	const char *start; /* into the source */
	size_t len;
	int64_t ival;
	double fval;
	char *sval;        /* T_STRING: decoded text, owned by the lexer until the next token */
	size_t slen;
};

struct lexer {
	const char *src, *p, *end;
	uint32_t line;
	const char *line_start;
	struct diag_list *diag;
	int indent[LEX_MAX_INDENT + 1];
	int nindent;
	int pending_dedents;
	bool at_line_start;
	int paren_depth;
	char indent_char;    /* ' ' or '\t' once the file has indented a line */
	bool mixed_reported;
	bool deep_reported;  /* "nested more than LEX_MAX_INDENT deep", once */
	bool emitted_eof_newline;
	struct util_buf str; /* decoded string literal */
};

void lex_init(struct lexer *lx, const char *src, size_t len, struct diag_list *d);
void lex_free(struct lexer *lx);
/* Produce the next token into *t. At the end it yields NEWLINE (if the last
 * line had tokens), the DEDENTs that close open blocks, then EOF forever. */
void lex_next(struct lexer *lx, struct token *t);
/* After a syntax error: forget bracket nesting and skip the rest of the
 * current line, so parsing can resume at the next statement. */
void lex_resync(struct lexer *lx);
const char *lex_tok_name(enum tok_type t);

#endif
