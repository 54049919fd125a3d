/* ast: symbol interning and the arena the syntax tree lives in. */
#include "ast.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AST_CHUNK 65536

struct ast_chunk {
	struct ast_chunk *next;
	size_t used, size;
	max_align_t data[];
};

void ast_symtab_init(struct ast_symtab *st)
{
	memset(st, 0, sizeof(*st));
	util_map_init(&st->map);
}

void ast_symtab_free(struct ast_symtab *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		free(st->names[i]);
	free(st->names);
	util_map_free(&st->map);
	memset(st, 0, sizeof(*st));
}

uint32_t ast_intern(struct ast_symtab *st, const char *name, size_t len)
{
	uint32_t id;
	char *copy;

	if (util_map_get(&st->map, name, len, &id))
		return id;
	if (st->n >= AST_NO_SYM - 1)
		return AST_NO_SYM;
	copy = util_strndup(name, len);
	if (!copy)
		return AST_NO_SYM;
	if (UTIL_PUSH(st->names, st->n, st->cap, copy)) {
		free(copy);
		return AST_NO_SYM;
	}
	id = (uint32_t)(st->n - 1);
	if (util_map_put(&st->map, name, len, id, NULL)) {
		st->n--;
		free(copy);
		return AST_NO_SYM;
	}
	return id;
}

void *ast_alloc(struct ast_arena *a, size_t size)
{
	struct ast_chunk *c = a->head;
	void *p;

	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!c || c->used + size > c->size) {
		size_t csize = size > AST_CHUNK ? size : AST_CHUNK;

		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->size = csize;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	a->used_bytes += size;
	memset(p, 0, size);
	return p;
}

void ast_arena_reset(struct ast_arena *a)
{
	struct ast_chunk *c, *next;

	/* keep the newest chunk: most statements fit in it, so the next one
	 * allocates nothing */
	if (!a->head)
		return;
	for (c = a->head->next; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head->next = NULL;
	a->head->used = 0;
	a->used_bytes = 0;
}

void ast_arena_free(struct ast_arena *a)
{
	ast_arena_reset(a);
	free(a->head);
	a->head = NULL;
}
