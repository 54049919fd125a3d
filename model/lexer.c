/* lexer: model source to tokens, with Python's indentation rules. */
#include "lexer.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *word;
	enum tok_type type;
} keywords[] = {
	{ "for", T_FOR },     { "in", T_IN },       { "if", T_IF },
	{ "elif", T_ELIF },   { "else", T_ELSE },   { "and", T_AND },
	{ "or", T_OR },       { "not", T_NOT },     { "true", T_TRUE },
	{ "True", T_TRUE },   { "false", T_FALSE }, { "False", T_FALSE },
	{ "pass", T_PASS },   { "break", T_BREAK }, { "continue", T_CONTINUE },
	{ "None", T_NONE },
};

void lex_init(struct lexer *lx, const char *src, size_t len, struct diag_list *d)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = lx->p = lx->line_start = src;
	lx->end = src + len;
	lx->line = 1;
	lx->diag = d;
	lx->at_line_start = true;
	util_buf_init(&lx->str);
}

void lex_free(struct lexer *lx)
{
	util_buf_free(&lx->str);
}

static struct src_loc lex_loc(const struct lexer *lx, const char *at, size_t len)
{
	return (struct src_loc){ lx->line, (uint32_t)(at - lx->line_start) + 1,
				 (uint32_t)(len ? len : 1) };
}

static void lex_newline(struct lexer *lx)
{
	lx->line++;
	lx->line_start = lx->p;
}

void lex_resync(struct lexer *lx)
{
	lx->paren_depth = 0;
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
}

/* Measure the indentation of a new logical line and queue INDENT/DEDENT.
 * Returns true (and fills t) when a token must be produced now. */
static bool lex_indentation(struct lexer *lx, struct token *t)
{
	for (;;) {
		const char *s = lx->p;
		int width = 0;
		bool tabs = false, spaces = false;

		while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t')) {
			if (*lx->p == '\t') {
				tabs = true;
				width = (width / 8 + 1) * 8;
			} else {
				spaces = true;
				width++;
			}
			lx->p++;
		}
		if (lx->p < lx->end && *lx->p == '\r')
			lx->p++;
		if (lx->p >= lx->end)
			return false; /* end of file: the caller closes blocks */
		if (*lx->p == '\n' || *lx->p == '#') {
			/* blank or comment-only line: no indentation meaning */
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			if (lx->p < lx->end) {
				lx->p++;
				lex_newline(lx);
			}
			continue;
		}
		lx->at_line_start = false;
		if (((tabs && spaces) || (tabs && lx->indent_char == ' ') ||
		     (spaces && lx->indent_char == '\t')) && !lx->mixed_reported) {
			/* once per file: every later line would say the same */
			lx->mixed_reported = true;
			diag_error(lx->diag, lex_loc(lx, s, (size_t)(lx->p - s)),
				   "indent with spaces only, or with tabs only, in the whole file",
				   "indentation mixes tabs and spaces");
		} else if (tabs || spaces) {
			lx->indent_char = tabs ? '\t' : ' ';
		}
		if (width > lx->indent[lx->nindent]) {
			if (lx->nindent >= LEX_MAX_INDENT) {
				/* once: every deeper line would say it again */
				if (!lx->deep_reported)
					diag_error(lx->diag, lex_loc(lx, s, (size_t)(lx->p - s)), NULL,
						   "blocks are nested more than %d deep", LEX_MAX_INDENT);
				lx->deep_reported = true;
				t->type = T_ERROR;
				t->loc = lex_loc(lx, lx->p, 1);
				return true;
			}
			lx->indent[++lx->nindent] = width;
			t->type = T_INDENT;
			t->loc = lex_loc(lx, s, (size_t)(lx->p - s));
			return true;
		}
		while (width < lx->indent[lx->nindent]) {
			lx->nindent--;
			lx->pending_dedents++;
		}
		if (width != lx->indent[lx->nindent]) {
			diag_error(lx->diag, lex_loc(lx, s, (size_t)(lx->p - s)),
				   "line it up with the block it belongs to",
				   "unindent does not match any outer indentation level");
			lx->indent[++lx->nindent] = width; /* adopt it to avoid a cascade */
			lx->pending_dedents--;
		}
		return false;
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void lex_string(struct lexer *lx, struct token *t)
{
	char q = *lx->p++;
	const char *s = t->start;

	lx->str.len = 0;
	util_buf_append(&lx->str, "", 0);
	while (lx->p < lx->end && *lx->p != q && *lx->p != '\n') {
		char c = *lx->p++;

		if (c == '\\' && lx->p < lx->end) {
			char e = *lx->p++;

			if (e == '\r' && lx->p < lx->end && *lx->p == '\n')
				e = *lx->p++; /* \ at the end of a CRLF line */
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '0': c = '\0'; break;
			case '\\': case '\'': case '"': c = e; break;
			case '\n':
				lex_newline(lx);
				continue;
			case 'x':
				if (lx->p + 1 < lx->end && hexval(lx->p[0]) >= 0 && hexval(lx->p[1]) >= 0) {
					c = (char)(hexval(lx->p[0]) * 16 + hexval(lx->p[1]));
					lx->p += 2;
					break;
				}
				/* fall through */
			default:
				diag_error(lx->diag, lex_loc(lx, lx->p - 2, 2),
					   "known escapes: \\n \\t \\r \\0 \\\\ \\' \\\" \\xHH",
					   "unknown escape '\\%c' in string", e);
				continue;
			}
		}
		util_buf_append(&lx->str, &c, 1);
	}
	if (lx->p >= lx->end || *lx->p != q) {
		/* t->loc, not lex_loc(s): a \-newline may have moved line_start */
		diag_error(lx->diag, t->loc, "close it on the same line", "unterminated string");
		t->type = T_ERROR;
		t->len = (size_t)(lx->p - s);
		return;
	}
	lx->p++;
	if (lx->str.oom) {
		lx->diag->oom = true;
		t->type = T_ERROR;
		return;
	}
	t->type = T_STRING;
	t->sval = lx->str.s;
	t->slen = lx->str.len;
	t->len = (size_t)(lx->p - s);
}

static void lex_number(struct lexer *lx, struct token *t)
{
	char buf[128];
	size_t n = 0;
	bool is_float = false, bad = false;
	const char *s = lx->p;

	if (lx->p + 1 < lx->end && lx->p[0] == '0' && (lx->p[1] == 'x' || lx->p[1] == 'X')) {
		uint64_t v = 0;

		lx->p += 2;
		while (lx->p < lx->end && (isxdigit((unsigned char)*lx->p) || *lx->p == '_')) {
			if (*lx->p != '_') {
				if (v >> 60)
					bad = true;
				v = v * 16 + (uint64_t)hexval(*lx->p);
			}
			lx->p++;
		}
		t->len = (size_t)(lx->p - s);
		if (bad || v > INT64_MAX || t->len == 2) {
			diag_error(lx->diag, lex_loc(lx, s, t->len), NULL, "bad hexadecimal number");
			t->type = T_ERROR;
			return;
		}
		t->type = T_INT;
		t->ival = (int64_t)v;
		return;
	}
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (isdigit((unsigned char)c) || c == '_') {
		} else if (c == '.' && !is_float) {
			is_float = true;
		} else if ((c == 'e' || c == 'E') && lx->p + 1 < lx->end &&
			   (isdigit((unsigned char)lx->p[1]) ||
			    ((lx->p[1] == '-' || lx->p[1] == '+') && lx->p + 2 < lx->end &&
			     isdigit((unsigned char)lx->p[2])))) {
			is_float = true;
			if (n < sizeof(buf) - 1)
				buf[n++] = c;
			c = *++lx->p;
		} else {
			break;
		}
		if (c != '_' && n < sizeof(buf) - 1)
			buf[n++] = c;
		else if (c != '_')
			bad = true;
		lx->p++;
	}
	buf[n] = '\0';
	t->len = (size_t)(lx->p - s);
	if (lx->p < lx->end && (isalpha((unsigned char)*lx->p) || *lx->p == '_')) {
		const char *u = lx->p;

		while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
			lx->p++;
		diag_error(lx->diag, lex_loc(lx, u, (size_t)(lx->p - u)),
			   "units are functions: write ms(10), gb(8), mbps(100)",
			   "a number cannot be followed by '%.*s'", (int)(lx->p - u), u);
		t->type = T_ERROR;
		return;
	}
	errno = 0;
	if (is_float) {
		t->type = T_FLOAT;
		t->fval = strtod(buf, NULL);
		if (bad || !isfinite(t->fval))
			goto out_range;
	} else {
		t->type = T_INT;
		t->ival = strtoll(buf, NULL, 10);
		if (bad || errno == ERANGE)
			goto out_range;
	}
	return;
out_range:
	diag_error(lx->diag, lex_loc(lx, s, t->len), NULL, "number out of range");
	t->type = T_ERROR;
}

static const struct {
	const char *s;
	enum tok_type type;
} puncts[] = {
	{ "//", T_DSLASH }, { "==", T_EQ },     { "!=", T_NE },    { "<=", T_LE },
	{ ">=", T_GE },     { "+=", T_PLUSEQ }, { "-=", T_MINUSEQ }, { "*=", T_STAREQ },
	{ "(", T_LPAREN },  { ")", T_RPAREN },  { "[", T_LBRACK }, { "]", T_RBRACK },
	{ ",", T_COMMA },   { ":", T_COLON },   { ".", T_DOT },    { "=", T_ASSIGN },
	{ "<", T_LT },      { ">", T_GT },      { "+", T_PLUS },   { "-", T_MINUS },
	{ "*", T_STAR },    { "/", T_SLASH },   { "%", T_PERCENT },
};

static void lex_punct(struct lexer *lx, struct token *t)
{
	size_t i, left = (size_t)(lx->end - lx->p);

	for (i = 0; i < UTIL_ARRAY_SIZE(puncts); i++) {
		size_t n = puncts[i].s[1] ? 2 : 1;

		if (n <= left && puncts[i].s[0] == lx->p[0] && (n == 1 || puncts[i].s[1] == lx->p[1])) {
			t->type = puncts[i].type;
			t->len = n;
			lx->p += n;
			if (t->type == T_LPAREN || t->type == T_LBRACK)
				lx->paren_depth++;
			else if ((t->type == T_RPAREN || t->type == T_RBRACK) && lx->paren_depth > 0)
				lx->paren_depth--;
			return;
		}
	}
	if ((unsigned char)*lx->p >= 0x80)
		diag_error(lx->diag, lex_loc(lx, lx->p, 1), "only strings and comments may hold non-ASCII text",
			   "unexpected byte 0x%02x", (unsigned char)*lx->p);
	else if (isprint((unsigned char)*lx->p))
		diag_error(lx->diag, lex_loc(lx, lx->p, 1), NULL, "unexpected character '%c'", *lx->p);
	else
		diag_error(lx->diag, lex_loc(lx, lx->p, 1), NULL, "unexpected byte 0x%02x",
			   (unsigned char)*lx->p);
	lx->p++;
	t->type = T_ERROR;
	t->len = 1;
}

void lex_next(struct lexer *lx, struct token *t)
{
	memset(t, 0, sizeof(*t));
again:
	if (lx->pending_dedents > 0) {
		lx->pending_dedents--;
		t->type = T_DEDENT;
		t->loc = lex_loc(lx, lx->p, 1);
		return;
	}
	if (lx->at_line_start && lx->paren_depth == 0) {
		if (lex_indentation(lx, t))
			return;
		if (lx->pending_dedents > 0)
			goto again;
	}
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' ||
				   *lx->p == '\f' || (*lx->p == '\n' && lx->paren_depth > 0) ||
				   (*lx->p == '\\' && lx->p + 1 < lx->end && lx->p[1] == '\n') ||
				   (*lx->p == '\\' && lx->p + 2 < lx->end && lx->p[1] == '\r' &&
				    lx->p[2] == '\n'))) {
		if (*lx->p == '\\')
			lx->p += lx->p[1] == '\r' ? 2 : 1; /* CRLF files continue lines too */
		if (*lx->p == '\n') {
			lx->p++;
			lex_newline(lx);
			continue;
		}
		lx->p++;
	}
	if (lx->p < lx->end && *lx->p == '#') {
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
		if (lx->paren_depth > 0)
			goto again;
	}
	t->start = lx->p;
	if (lx->p >= lx->end) {
		if (!lx->at_line_start && !lx->emitted_eof_newline) {
			lx->emitted_eof_newline = true;
			lx->at_line_start = true;
			t->type = T_NEWLINE;
			t->loc = lex_loc(lx, lx->p, 1);
			return;
		}
		if (lx->nindent > 0) {
			lx->nindent--;
			t->type = T_DEDENT;
			t->loc = lex_loc(lx, lx->p, 1);
			return;
		}
		t->type = T_EOF;
		t->loc = lex_loc(lx, lx->p, 1);
		return;
	}
	t->loc = lex_loc(lx, lx->p, 1);
	if (*lx->p == '\n') {
		t->type = T_NEWLINE;
		lx->p++;
		lex_newline(lx);
		lx->at_line_start = true;
		return;
	}
	if (isalpha((unsigned char)*lx->p) || *lx->p == '_') {
		size_t i;

		while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
			lx->p++;
		t->len = (size_t)(lx->p - t->start);
		t->type = T_NAME;
		/* keywords are 2 to 8 lowercase-first letters: most names fail fast */
		for (i = 0; t->len >= 2 && t->len <= 8 && i < UTIL_ARRAY_SIZE(keywords); i++)
			if (keywords[i].word[0] == t->start[0] &&
			    strlen(keywords[i].word) == t->len &&
			    !memcmp(keywords[i].word, t->start, t->len)) {
				t->type = keywords[i].type;
				break;
			}
	} else if (isdigit((unsigned char)*lx->p) ||
		   (*lx->p == '.' && lx->p + 1 < lx->end && isdigit((unsigned char)lx->p[1]))) {
		lex_number(lx, t);
	} else if (*lx->p == '\'' || *lx->p == '"') {
		lex_string(lx, t);
	} else {
		lex_punct(lx, t);
	}
	t->loc.len = (uint32_t)(t->len ? t->len : 1);
	if (t->loc.line != lx->line) /* a string or number ran over a line end */
		t->loc.len = 1;
}

const char *lex_tok_name(enum tok_type t)
{
	static const char *const names[] = {
		[T_EOF] = "end of file", [T_NEWLINE] = "end of line", [T_INDENT] = "indent",
		[T_DEDENT] = "dedent", [T_NAME] = "name", [T_INT] = "number",
		[T_FLOAT] = "number", [T_STRING] = "string", [T_FOR] = "'for'",
		[T_IN] = "'in'", [T_IF] = "'if'", [T_ELIF] = "'elif'", [T_ELSE] = "'else'",
		[T_AND] = "'and'", [T_OR] = "'or'", [T_NOT] = "'not'", [T_TRUE] = "'true'",
		[T_FALSE] = "'false'", [T_PASS] = "'pass'", [T_BREAK] = "'break'",
		[T_CONTINUE] = "'continue'", [T_NONE] = "'None'", [T_LPAREN] = "'('",
		[T_RPAREN] = "')'", [T_LBRACK] = "'['", [T_RBRACK] = "']'", [T_COMMA] = "','",
		[T_COLON] = "':'", [T_DOT] = "'.'", [T_ASSIGN] = "'='", [T_PLUSEQ] = "'+='",
		[T_MINUSEQ] = "'-='", [T_STAREQ] = "'*='", [T_EQ] = "'=='", [T_NE] = "'!='",
		[T_LT] = "'<'", [T_LE] = "'<='", [T_GT] = "'>'", [T_GE] = "'>='",
		[T_PLUS] = "'+'", [T_MINUS] = "'-'", [T_STAR] = "'*'", [T_SLASH] = "'/'",
		[T_DSLASH] = "'//'", [T_PERCENT] = "'%'", [T_ERROR] = "bad token",
	};

	return (unsigned)t < UTIL_ARRAY_SIZE(names) && names[t] ? names[t] : "token";
}
