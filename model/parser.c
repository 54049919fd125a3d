/* parser: recursive descent over the token stream, one top-level statement
 * at a time. */
#include "parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ast_expr *parse_expr(struct parser *p);
static struct ast_stmt *parse_stmt(struct parser *p);

void parse_init(struct parser *p, const char *src, size_t len, struct ast_symtab *syms,
		struct diag_list *d)
{
	memset(p, 0, sizeof(*p));
	lex_init(&p->lx, src, len, d);
	p->diag = d;
	p->syms = syms;
	lex_next(&p->lx, &p->tok);
}

void parse_free(struct parser *p)
{
	free(p->ahead.sval);
	lex_free(&p->lx);
	ast_arena_free(&p->arena);
}

static void advance(struct parser *p)
{
	if (p->has_ahead) {
		p->tok = p->ahead;
		p->has_ahead = false;
		/* the lookahead's string was copied out of the lexer's buffer */
		if (p->tok.type == T_STRING) {
			free(p->lx.str.s);
			p->lx.str.s = p->tok.sval;
			p->lx.str.len = p->tok.slen;
			p->lx.str.cap = p->tok.slen + 1;
			p->ahead.sval = NULL;
		}
		return;
	}
	lex_next(&p->lx, &p->tok);
}

/* The token after the current one, without consuming anything. */
static const struct token *peek(struct parser *p)
{
	if (!p->has_ahead) {
		char *keep = NULL;

		/* lexing the next token reuses the string buffer the current token
		 * points into: give the current token its own copy first */
		if (p->tok.type == T_STRING) {
			keep = util_strndup(p->tok.sval, p->tok.slen);
			if (!keep) {
				p->diag->oom = true;
				p->tok.slen = 0;
			}
		}
		lex_next(&p->lx, &p->ahead);
		if (p->ahead.type == T_STRING) {
			char *s = util_strndup(p->ahead.sval, p->ahead.slen);

			p->ahead.sval = s;
			if (!s) {
				p->diag->oom = true;
				p->ahead.slen = 0;
			}
		}
		if (p->tok.type == T_STRING) {
			util_buf_free(&p->lx.str);
			p->lx.str.s = keep;
			p->lx.str.len = p->tok.slen;
			p->lx.str.cap = keep ? p->tok.slen + 1 : 0;
			p->tok.sval = keep;
		}
		p->has_ahead = true;
	}
	return &p->ahead;
}

static void syntax_error(struct parser *p, struct src_loc loc, const char *hint, const char *what)
{
	if (p->failed)
		return;
	p->failed = true;
	p->nsyntax++;
	if (p->tok.type == T_ERROR)
		return; /* the lexer already said what was wrong */
	diag_error(p->diag, loc, hint, "%s", what);
}

static void expected(struct parser *p, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "expected %s, found %s", what, lex_tok_name(p->tok.type));
	syntax_error(p, p->tok.loc, NULL, msg);
}

/* expected a closing bracket: point at the opening one when it is far away */
static void unclosed(struct parser *p, struct src_loc open, const char *what)
{
	char msg[160], hint[96];

	if (p->tok.loc.line == open.line) {
		expected(p, what);
		return;
	}
	snprintf(msg, sizeof(msg), "expected %s, found %s", what, lex_tok_name(p->tok.type));
	snprintf(hint, sizeof(hint), "the bracket opened at line %u, column %u is not closed",
		 open.line, open.col);
	syntax_error(p, p->tok.loc, hint, msg);
}

static bool accept(struct parser *p, enum tok_type t)
{
	if (p->tok.type != t)
		return false;
	advance(p);
	return true;
}

static bool expect(struct parser *p, enum tok_type t, const char *what)
{
	if (accept(p, t))
		return true;
	expected(p, what);
	return false;
}

static bool enter(struct parser *p)
{
	if (++p->depth <= PARSE_MAX_DEPTH)
		return true;
	syntax_error(p, p->tok.loc, "split the expression or the blocks into smaller pieces",
		     "nesting too deep (more than 200 levels)");
	return false;
}

static struct ast_expr *new_expr(struct parser *p, enum ast_ekind kind, struct src_loc loc)
{
	struct ast_expr *e = ast_alloc(&p->arena, sizeof(*e));

	if (!e) {
		p->diag->oom = true;
		p->failed = true;
		return NULL;
	}
	e->kind = (uint8_t)kind;
	e->loc = loc;
	return e;
}

/* A location spanning from a to the end of b (same line), else a. */
static struct src_loc span(struct src_loc a, struct src_loc b)
{
	if (a.line == b.line && b.col >= a.col)
		a.len = b.col + b.len - a.col;
	return a;
}

static uint32_t intern_tok(struct parser *p)
{
	uint32_t s = ast_intern(p->syms, p->tok.start, p->tok.len);

	if (s == AST_NO_SYM) {
		p->diag->oom = true;
		p->failed = true;
	}
	return s;
}

static struct ast_expr *parse_list(struct parser *p)
{
	struct ast_expr *e = new_expr(p, E_LIST, p->tok.loc), **items = NULL;
	size_t n = 0, cap = 0;

	advance(p); /* [ */
	while (e && p->tok.type != T_RBRACK) {
		struct ast_expr *item = parse_expr(p);

		if (!item || UTIL_PUSH(items, n, cap, item)) {
			e = NULL;
			break;
		}
		if (!accept(p, T_COMMA) && p->tok.type != T_RBRACK) {
			unclosed(p, e->loc, "',' or ']' in a list");
			e = NULL;
		}
	}
	if (e) {
		e->loc = span(e->loc, p->tok.loc);
		advance(p); /* ] */
		e->list.n = (uint32_t)n;
		e->list.v = ast_alloc(&p->arena, n * sizeof(*items) + 1);
		if (!e->list.v)
			e = NULL;
		else if (n)
			memcpy(e->list.v, items, n * sizeof(*items));
	}
	free(items);
	return e;
}

static struct ast_expr *parse_atom(struct parser *p)
{
	struct ast_expr *e = NULL;
	struct token *t = &p->tok;

	switch (t->type) {
	case T_NAME:
		e = new_expr(p, E_NAME, t->loc);
		if (e)
			e->sym = intern_tok(p);
		advance(p);
		return p->failed ? NULL : e;
	case T_INT:
		e = new_expr(p, E_INT, t->loc);
		if (e)
			e->i = t->ival;
		break;
	case T_FLOAT:
		e = new_expr(p, E_FLOAT, t->loc);
		if (e)
			e->f = t->fval;
		break;
	case T_STRING:
		e = new_expr(p, E_STR, t->loc);
		if (e) {
			char *s = ast_alloc(&p->arena, t->slen + 1);

			if (!s) {
				p->diag->oom = true;
				p->failed = true;
				return NULL;
			}
			if (t->slen)
				memcpy(s, t->sval, t->slen);
			e->str.s = s;
			e->str.len = t->slen;
		}
		break;
	case T_TRUE:
	case T_FALSE:
		e = new_expr(p, E_BOOL, t->loc);
		if (e)
			e->b = t->type == T_TRUE;
		break;
	case T_NONE:
		e = new_expr(p, E_NONE, t->loc);
		break;
	case T_LPAREN: {
		struct src_loc open = t->loc;

		advance(p);
		e = parse_expr(p);
		if (!e)
			return NULL;
		if (p->tok.type != T_RPAREN) {
			unclosed(p, open, "')'");
			return NULL;
		}
		break;
	}
	case T_LBRACK:
		return parse_list(p);
	default:
		expected(p, "an expression");
		return NULL;
	}
	if (e)
		advance(p);
	return e;
}

static struct ast_expr *parse_call(struct parser *p, struct ast_expr *fn)
{
	struct ast_expr *e = new_expr(p, E_CALL, fn->loc);
	struct ast_arg *args = NULL;
	size_t n = 0, cap = 0;
	bool seen_kw = false;
	struct src_loc open = p->tok.loc;

	advance(p); /* ( */
	while (e && p->tok.type != T_RPAREN) {
		struct ast_arg a = { .kw = AST_NO_SYM };

		if (p->tok.type == T_NAME && peek(p)->type == T_ASSIGN) {
			a.kw = intern_tok(p);
			a.kwloc = p->tok.loc;
			advance(p);
			advance(p);
			seen_kw = true;
		} else if (seen_kw) {
			syntax_error(p, p->tok.loc, "put keyword arguments (name=value) last",
				     "positional argument after a keyword argument");
			e = NULL;
			break;
		}
		a.value = parse_expr(p);
		if (!a.value || UTIL_PUSH(args, n, cap, a)) {
			e = NULL;
			break;
		}
		if (!accept(p, T_COMMA) && p->tok.type != T_RPAREN) {
			unclosed(p, open, "',' or ')' after an argument");
			e = NULL;
		}
	}
	if (e) {
		e->loc = span(fn->loc, p->tok.loc);
		advance(p); /* ) */
		e->call.fn = fn;
		e->call.nargs = (uint32_t)n;
		e->call.args = ast_alloc(&p->arena, n * sizeof(*args) + 1);
		if (!e->call.args)
			e = NULL;
		else if (n)
			memcpy(e->call.args, args, n * sizeof(*args));
	}
	free(args);
	return e;
}

static struct ast_expr *parse_postfix(struct parser *p)
{
	struct ast_expr *e = parse_atom(p), *n;
	int entered = 0;

	while (e && (p->tok.type == T_LPAREN || p->tok.type == T_LBRACK || p->tok.type == T_DOT)) {
		/* f()()() and a[0][0] build deep trees with a loop: count each
		 * level, since the evaluator recurses on them */
		if (!enter(p))
			return NULL;
		entered++;
		if (p->tok.type == T_LPAREN) {
			e = parse_call(p, e);
		} else if (p->tok.type == T_LBRACK) {
			n = new_expr(p, E_INDEX, e->loc);
			advance(p);
			if (!n)
				return NULL;
			n->bin.l = e;
			n->bin.r = parse_expr(p);
			if (!n->bin.r)
				return NULL;
			n->loc = span(e->loc, p->tok.loc);
			if (!expect(p, T_RBRACK, "']'"))
				return NULL;
			e = n;
		} else {
			advance(p);
			if (p->tok.type != T_NAME) {
				expected(p, "a name after '.'");
				return NULL;
			}
			n = new_expr(p, E_ATTR, span(e->loc, p->tok.loc));
			if (!n)
				return NULL;
			n->attr.obj = e;
			n->attr.sym = intern_tok(p);
			n->attr.nameloc = p->tok.loc;
			advance(p);
			e = n;
		}
	}
	p->depth -= entered;
	return e;
}

static struct ast_expr *parse_unary(struct parser *p)
{
	struct ast_expr *e, *inner;
	struct src_loc loc = p->tok.loc;
	bool neg;

	if (p->tok.type != T_MINUS && p->tok.type != T_PLUS)
		return parse_postfix(p);
	neg = p->tok.type == T_MINUS;
	if (!enter(p))
		return NULL;
	advance(p);
	inner = parse_unary(p);
	p->depth--;
	if (!inner || !neg)
		return inner;
	/* fold -literal so that -9223372036854775808 and -1.5 are constants */
	if (inner->kind == E_FLOAT) {
		inner->f = -inner->f;
		inner->loc = span(loc, inner->loc);
		return inner;
	}
	if (inner->kind == E_INT && inner->i != INT64_MIN) {
		inner->i = -inner->i;
		inner->loc = span(loc, inner->loc);
		return inner;
	}
	e = new_expr(p, E_NEG, span(loc, inner->loc));
	if (e)
		e->bin.l = inner;
	return e;
}

static bool binop_level(enum tok_type t, int level)
{
	if (level == 0)
		return t == T_PLUS || t == T_MINUS;
	return t == T_STAR || t == T_SLASH || t == T_DSLASH || t == T_PERCENT;
}

static struct ast_expr *parse_binary(struct parser *p, int level)
{
	struct ast_expr *l = level ? parse_unary(p) : parse_binary(p, 1);
	int entered = 0;

	while (l && binop_level(p->tok.type, level)) {
		struct ast_expr *e;
		struct src_loc oploc = p->tok.loc;

		/* a + b + c... is a tree as deep as the chain is long */
		if (!enter(p))
			return NULL;
		entered++;
		e = new_expr(p, E_BINOP, l->loc);
		if (!e)
			return NULL;
		e->op = (uint8_t)p->tok.type;
		advance(p);
		e->bin.l = l;
		e->bin.r = level ? parse_unary(p) : parse_binary(p, 1);
		if (!e->bin.r)
			return NULL;
		e->loc = span(l->loc, e->bin.r->loc);
		if (e->loc.line != l->loc.line)
			e->loc = oploc;
		l = e;
	}
	p->depth -= entered;
	return l;
}

static bool is_cmp(enum tok_type t)
{
	return t >= T_EQ && t <= T_GE;
}

static struct ast_expr *parse_comparison(struct parser *p)
{
	struct ast_expr *l = parse_binary(p, 0), *e;

	if (!l || !is_cmp(p->tok.type))
		return l;
	e = new_expr(p, E_CMP, l->loc);
	if (!e)
		return NULL;
	e->op = (uint8_t)p->tok.type;
	advance(p);
	e->bin.l = l;
	e->bin.r = parse_binary(p, 0);
	if (!e->bin.r)
		return NULL;
	e->loc = span(l->loc, e->bin.r->loc);
	if (is_cmp(p->tok.type)) {
		syntax_error(p, p->tok.loc,
			     "write two comparisons: cores >= 2, cores <= 4 (or join them with 'and')",
			     "chained comparisons are not supported");
		return NULL;
	}
	return e;
}

static struct ast_expr *parse_not(struct parser *p)
{
	struct ast_expr *e, *inner;
	struct src_loc loc = p->tok.loc;

	if (p->tok.type != T_NOT)
		return parse_comparison(p);
	if (!enter(p))
		return NULL;
	advance(p);
	inner = parse_not(p);
	p->depth--;
	if (!inner)
		return NULL;
	e = new_expr(p, E_NOT, span(loc, inner->loc));
	if (e)
		e->bin.l = inner;
	return e;
}

static struct ast_expr *parse_logic(struct parser *p, enum tok_type op)
{
	struct ast_expr *l = op == T_OR ? parse_logic(p, T_AND) : parse_not(p);
	int entered = 0;

	while (l && p->tok.type == op) {
		struct ast_expr *e;

		if (!enter(p)) /* as in parse_binary */
			return NULL;
		entered++;
		e = new_expr(p, op == T_OR ? E_OR : E_AND, l->loc);
		if (!e)
			return NULL;
		advance(p);
		e->bin.l = l;
		e->bin.r = op == T_OR ? parse_logic(p, T_AND) : parse_not(p);
		if (!e->bin.r)
			return NULL;
		e->loc = span(l->loc, e->bin.r->loc);
		l = e;
	}
	p->depth -= entered;
	return l;
}

static struct ast_expr *parse_expr(struct parser *p)
{
	struct ast_expr *e;

	if (!enter(p))
		return NULL;
	e = parse_logic(p, T_OR);
	p->depth--;
	return e;
}

static struct ast_stmt *new_stmt(struct parser *p, enum ast_skind kind, struct src_loc loc)
{
	struct ast_stmt *s = ast_alloc(&p->arena, sizeof(*s));

	if (!s) {
		p->diag->oom = true;
		p->failed = true;
		return NULL;
	}
	s->kind = (uint8_t)kind;
	s->loc = loc;
	return s;
}

/* A block after ':' — an indented suite, or one simple statement on the same line. */
static struct ast_stmt *parse_block(struct parser *p)
{
	struct ast_stmt *head = NULL, **tail = &head, *s;

	if (p->tok.type == T_ASSIGN) {
		syntax_error(p, p->tok.loc, "use '==' to compare", "unexpected '='");
		return NULL;
	}
	if (!expect(p, T_COLON, "':'"))
		return NULL;
	if (p->tok.type != T_NEWLINE)
		return parse_stmt(p);
	advance(p);
	if (p->tok.type != T_INDENT) {
		syntax_error(p, p->tok.loc, "indent the lines of the block", "expected an indented block");
		return NULL;
	}
	if (!enter(p))
		return NULL;
	advance(p);
	p->blocks++;
	while (p->tok.type != T_DEDENT && p->tok.type != T_EOF) {
		s = parse_stmt(p);
		if (!s) {
			p->depth--;
			return NULL;
		}
		*tail = s;
		while (s->next)
			s = s->next;
		tail = &s->next;
	}
	p->depth--;
	if (accept(p, T_DEDENT))
		p->blocks--;
	return head;
}

static struct ast_stmt *parse_for(struct parser *p)
{
	struct ast_stmt *s = new_stmt(p, S_FOR, p->tok.loc);

	advance(p);
	if (!s)
		return NULL;
	if (p->tok.type != T_NAME) {
		expected(p, "a variable name after 'for'");
		return NULL;
	}
	s->loop.var = intern_tok(p);
	s->loop.varloc = p->tok.loc;
	advance(p);
	if (!expect(p, T_IN, "'in'"))
		return NULL;
	s->loop.iter = parse_expr(p);
	if (!s->loop.iter)
		return NULL;
	s->loc = span(s->loc, s->loop.iter->loc);
	s->loop.body = parse_block(p);
	return p->failed ? NULL : s;
}

static struct ast_stmt *parse_if(struct parser *p)
{
	struct ast_stmt *s = new_stmt(p, S_IF, p->tok.loc);

	advance(p);
	if (!s)
		return NULL;
	s->cond.cond = parse_expr(p);
	if (!s->cond.cond)
		return NULL;
	s->cond.then = parse_block(p);
	if (p->failed)
		return NULL;
	if (p->tok.type == T_ELIF) {
		s->cond.els = parse_if(p); /* elif is an if in the else branch */
	} else if (p->tok.type == T_ELSE) {
		advance(p);
		s->cond.els = parse_block(p);
	}
	return p->failed ? NULL : s;
}

static struct ast_stmt *parse_simple(struct parser *p)
{
	struct ast_stmt *s;
	struct src_loc loc = p->tok.loc;
	struct ast_expr *e;

	switch (p->tok.type) {
	case T_PASS:
	case T_BREAK:
	case T_CONTINUE:
		s = new_stmt(p, p->tok.type == T_PASS ? S_PASS : p->tok.type == T_BREAK ? S_BREAK : S_CONTINUE, loc);
		advance(p);
		break;
	default:
		e = parse_expr(p);
		if (!e)
			return NULL;
		if (p->tok.type == T_ASSIGN || p->tok.type == T_PLUSEQ || p->tok.type == T_MINUSEQ ||
		    p->tok.type == T_STAREQ) {
			if (e->kind != E_NAME && e->kind != E_INDEX) {
				syntax_error(p, e->loc, "assign to a name or a list item",
					     "cannot assign to this expression");
				return NULL;
			}
			s = new_stmt(p, S_ASSIGN, e->loc);
			if (!s)
				return NULL;
			s->op = (uint8_t)p->tok.type;
			advance(p);
			s->assign.target = e;
			s->assign.value = parse_expr(p);
			if (!s->assign.value)
				return NULL;
			s->loc = span(e->loc, s->assign.value->loc);
		} else {
			s = new_stmt(p, S_EXPR, e->loc);
			if (s)
				s->expr = e;
		}
	}
	if (!s)
		return NULL;
	if (p->tok.type != T_NEWLINE && p->tok.type != T_EOF) {
		if (p->tok.type == T_ASSIGN)
			syntax_error(p, p->tok.loc, "use '==' to compare", "unexpected '='");
		else
			expected(p, "end of line");
		return NULL;
	}
	accept(p, T_NEWLINE);
	return s;
}

static struct ast_stmt *parse_stmt(struct parser *p)
{
	switch (p->tok.type) {
	case T_FOR:
		return parse_for(p);
	case T_IF:
		return parse_if(p);
	case T_INDENT:
		syntax_error(p, p->tok.loc, "only the lines of a for or if block are indented",
			     "unexpected indent");
		return NULL;
	case T_ELSE:
	case T_ELIF:
		syntax_error(p, p->tok.loc, NULL, "'else' or 'elif' without a matching 'if'");
		return NULL;
	default:
		return parse_simple(p);
	}
}

/* Skip what is left of a broken statement, including any block it opened. */
static void recover(struct parser *p, int level)
{
	if (p->tok.type != T_NEWLINE && p->tok.type != T_EOF && p->tok.type != T_INDENT &&
	    p->tok.type != T_DEDENT && !p->has_ahead)
		lex_resync(&p->lx);
	for (;;) {
		switch (p->tok.type) {
		case T_EOF:
			return;
		case T_INDENT:
			level++;
			break;
		case T_DEDENT:
			if (--level <= 0) {
				advance(p);
				if (p->tok.type != T_INDENT && p->tok.type != T_DEDENT)
					return;
				continue;
			}
			break;
		case T_NEWLINE:
			if (level <= 0) {
				advance(p);
				if (p->tok.type != T_INDENT)
					return;
				continue;
			}
			break;
		default:
			break;
		}
		advance(p);
	}
}

int parse_next(struct parser *p, struct ast_stmt **out)
{
	ast_arena_reset(&p->arena);
	for (;;) {
		struct ast_stmt *s;
		enum tok_type first;

		while (p->tok.type == T_NEWLINE || p->tok.type == T_DEDENT)
			advance(p);
		if (p->tok.type == T_EOF || diag_full(p->diag) || p->diag->oom)
			return 0;
		p->failed = false;
		p->depth = 0;
		p->blocks = 0;
		first = p->tok.type;
		s = parse_stmt(p);
		if (s && !p->failed) {
			*out = s;
			return 1;
		}
		/* p->blocks: how many blocks deep the error left us */
		recover(p, p->blocks);
		/* the elif/else clauses of a broken if belong to it: skip them
		 * too rather than report them as orphans */
		while (first == T_IF && (p->tok.type == T_ELIF || p->tok.type == T_ELSE))
			recover(p, 0);
		ast_arena_reset(&p->arena);
	}
}
