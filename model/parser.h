/* parser: recursive descent from tokens to the AST, one top-level
 * statement at a time, so a huge model never holds its whole tree.
 * Syntax errors go to the diag list; the parser resynchronises at the next
 * line and keeps going to report more. Nesting deeper than PARSE_MAX_DEPTH
 * is refused, so hostile input cannot exhaust the stack. */
#ifndef VTB_PARSER_H
#define VTB_PARSER_H

#include "ast.h"
#include "lexer.h"

#define PARSE_MAX_DEPTH 200

struct parser {
	struct lexer lx;
	struct token tok;  /* current token */
	struct token ahead; /* one token of lookahead, valid when has_ahead */
	bool has_ahead;
	struct diag_list *diag;
	struct ast_arena arena;
	struct ast_symtab *syms;
	int depth;
	int blocks; /* INDENTs consumed minus DEDENTs in this statement */
	bool failed; /* the current statement had a syntax error */
	size_t nsyntax; /* syntax errors so far */
};

void parse_init(struct parser *p, const char *src, size_t len, struct ast_symtab *syms,
		struct diag_list *d);
void parse_free(struct parser *p);

/* Parse the next top-level statement. Returns 1 and sets *out (valid until
 * the next call), or 0 at the end of the input. A statement with a syntax
 * error is reported and skipped. */
int parse_next(struct parser *p, struct ast_stmt **out);

#endif
