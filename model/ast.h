/* ast: the syntax tree of a model, allocated from an arena. Names are
 * interned into symbols (small integers) so the evaluator can keep variables
 * in an array instead of a hash table. */
#ifndef VTB_AST_H
#define VTB_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "util.h"

#define AST_NO_SYM UINT32_MAX

/* Interned names: id -> name, name -> id. */
struct ast_symtab {
	char **names;
	size_t n, cap;
	struct util_map map;
};

void ast_symtab_init(struct ast_symtab *st);
void ast_symtab_free(struct ast_symtab *st);
/* Returns the symbol of name, adding it if new; AST_NO_SYM when out of memory. */
uint32_t ast_intern(struct ast_symtab *st, const char *name, size_t len);

/* A chunked bump allocator; everything in one statement's tree lives in it. */
struct ast_arena {
	struct ast_chunk *head;
	size_t used_bytes;
};

void *ast_alloc(struct ast_arena *a, size_t size);
void ast_arena_reset(struct ast_arena *a); /* frees everything allocated */
void ast_arena_free(struct ast_arena *a);  /* ... and the arena's own memory */

enum ast_ekind {
	E_INT, E_FLOAT, E_STR, E_BOOL, E_NONE, E_NAME, E_LIST,
	E_BINOP,  /* op: T_PLUS, T_MINUS, T_STAR, T_SLASH, T_DSLASH, T_PERCENT */
	E_NEG, E_NOT,
	E_CMP,    /* op: T_EQ .. T_GE */
	E_AND, E_OR,
	E_CALL, E_INDEX, E_ATTR,
};

struct ast_expr;

struct ast_arg {
	uint32_t kw; /* keyword symbol, or AST_NO_SYM for a positional argument */
	struct src_loc kwloc;
	struct ast_expr *value;
};

struct ast_expr {
	uint8_t kind;
	uint8_t op;
	struct src_loc loc;
	union {
		int64_t i;
		double f;
		bool b;
		struct {
			const char *s;
			size_t len;
		} str;
		uint32_t sym;
		struct {
			struct ast_expr *l, *r;
		} bin;
		struct {
			struct ast_expr **v;
			uint32_t n;
		} list;
		struct {
			struct ast_expr *fn;
			struct ast_arg *args;
			uint32_t nargs;
		} call;
		struct {
			struct ast_expr *obj;
			uint32_t sym;
			struct src_loc nameloc;
		} attr;
	};
};

enum ast_skind { S_EXPR, S_ASSIGN, S_FOR, S_IF, S_PASS, S_BREAK, S_CONTINUE };

struct ast_stmt {
	uint8_t kind;
	uint8_t op; /* S_ASSIGN: T_ASSIGN, T_PLUSEQ, T_MINUSEQ, T_STAREQ */
	struct src_loc loc;
	struct ast_stmt *next;
	union {
		struct ast_expr *expr;
		struct {
			struct ast_expr *target, *value;
		} assign;
		struct {
			uint32_t var;
			struct src_loc varloc;
			struct ast_expr *iter;
			struct ast_stmt *body;
		} loop;
		struct {
			struct ast_expr *cond;
			struct ast_stmt *then, *els;
		} cond;
	};
};

#endif
