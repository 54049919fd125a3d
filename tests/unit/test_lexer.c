/* test_lexer: the model lexer's token stream (Python's indentation and
 * line-joining rules) and the errors it reports, with their exact places. */
#include "unit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

/* ---- lexing a whole source ---- */

struct tok {
	enum tok_type type;
	struct src_loc loc;
	int64_t ival;
	double fval;
	char *s; /* T_STRING: the decoded text */
	size_t slen;
};

struct lexed {
	struct tok *t;
	size_t n, cap;
	char *toks;  /* the tokens in a compact form, see render() */
	char *diags; /* diag_format() of what the lexer reported */
	size_t nerrors;
};

/* One token as text: names, keywords and punctuation as written, numbers by
 * value, strings decoded in quotes, and NL IN DE EOF ERR for the rest. */
static void render(struct util_buf *b, const struct token *t)
{
	if (b->len)
		util_buf_puts(b, " ");
	switch (t->type) {
	case T_NEWLINE: util_buf_puts(b, "NL"); break;
	case T_INDENT: util_buf_puts(b, "IN"); break;
	case T_DEDENT: util_buf_puts(b, "DE"); break;
	case T_EOF: util_buf_puts(b, "EOF"); break;
	case T_ERROR: util_buf_puts(b, "ERR"); break;
	case T_INT: util_buf_printf(b, "%" PRId64, t->ival); break;
	case T_FLOAT: util_buf_printf(b, "%g", t->fval); break;
	case T_STRING:
		util_buf_puts(b, "'");
		util_buf_append(b, t->sval, t->slen);
		util_buf_puts(b, "'");
		break;
	default: util_buf_append(b, t->start, t->len);
	}
}

static struct lexed lex_n(const char *src, size_t len)
{
	struct lexed r = { 0 };
	struct diag_list d;
	struct lexer lx;
	struct token tk;
	struct util_buf b;

	util_buf_init(&b);
	diag_init(&d, "t.vtb", src, len);
	lex_init(&lx, src, len, &d);
	do {
		struct tok t = { 0 };

		lex_next(&lx, &tk);
		t.type = tk.type;
		t.loc = tk.loc;
		t.ival = tk.ival;
		t.fval = tk.fval;
		if (tk.type == T_STRING) {
			t.s = malloc(tk.slen + 1);
			assert_non_null(t.s);
			memcpy(t.s, tk.sval, tk.slen);
			t.s[tk.slen] = '\0';
			t.slen = tk.slen;
		}
		render(&b, &tk);
		assert_int_equal(UTIL_PUSH(r.t, r.n, r.cap, t), 0);
		assert_true(r.n < 1000000);
	} while (tk.type != T_EOF);
	assert_false(d.oom);
	r.toks = util_buf_take(&b);
	assert_non_null(r.toks);
	r.diags = diag_format(&d);
	assert_non_null(r.diags);
	r.nerrors = d.nerrors;
	lex_free(&lx);
	diag_free(&d);
	return r;
}

static struct lexed lex(const char *src)
{
	return lex_n(src, strlen(src));
}

static void lexed_free(struct lexed *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->t[i].s);
	free(r->t);
	free(r->toks);
	free(r->diags);
	memset(r, 0, sizeof(*r));
}

/* Lex src, expect no diagnostics and exactly the tokens want. */
static void clean(const char *src, const char *want)
{
	struct lexed r = lex(src);

	if (r.nerrors || strlen(r.diags))
		fail_msg("unexpected diagnostics for \"%s\":\n%s", src, r.diags);
	assert_string_equal(r.toks, want);
	lexed_free(&r);
}

static void has(const struct lexed *r, const char *want)
{
	if (!strstr(r->diags, want))
		fail_msg("missing \"%s\" in:\n%s", want, r->diags);
}

static void errors(const struct lexed *r, size_t n)
{
	if (r->nerrors != n)
		fail_msg("expected %zu errors, got %zu:\n%s", n, r->nerrors, r->diags);
}

/* The i-th token of type `type` (0-based) in r. */
static const struct tok *nth(const struct lexed *r, enum tok_type type, size_t i)
{
	size_t k, left = i;

	for (k = 0; k < r->n; k++)
		if (r->t[k].type == type && left-- == 0)
			return &r->t[k];
	fail_msg("no token %zu of type %s", i, lex_tok_name(type));
	return NULL;
}

static void at(const struct tok *t, uint32_t line, uint32_t col, uint32_t len)
{
	if (t->loc.line != line || t->loc.col != col || t->loc.len != len)
		fail_msg("%s at %u:%u (len %u), expected %u:%u (len %u)", lex_tok_name(t->type),
			 t->loc.line, t->loc.col, t->loc.len, line, col, len);
}

/* ---- token sequences ---- */

static void test_simple_statement(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("x = 1\n");
	assert_string_equal(r.toks, "x = 1 NL EOF");
	assert_int_equal(r.t[0].type, T_NAME);
	at(&r.t[0], 1, 1, 1);
	assert_int_equal(r.t[1].type, T_ASSIGN);
	at(&r.t[1], 1, 3, 1);
	assert_int_equal(r.t[2].type, T_INT);
	at(&r.t[2], 1, 5, 1);
	assert_int_equal(r.t[3].type, T_NEWLINE);
	at(&r.t[3], 1, 6, 1);
	lexed_free(&r);

	r = lex("device_name2 = topo.device('a')\n");
	assert_string_equal(r.toks, "device_name2 = topo . device ( 'a' ) NL EOF");
	at(&r.t[0], 1, 1, 12);
	at(&r.t[4], 1, 21, 6);  /* device */
	at(&r.t[6], 1, 28, 3);  /* 'a' */
	lexed_free(&r);
}

static void test_indent_dedent(void **state)
{
	struct lexed r;

	(void)state;
	clean("if a:\n    b = 1\n    if c:\n        d\ne\n",
	      "if a : NL IN b = 1 NL if c : NL IN d NL DE DE e NL EOF");
	/* back to a middle level, then to the top */
	clean("for i in x:\n  if y:\n    z\n  w\nv\n",
	      "for i in x : NL IN if y : NL IN z NL DE w NL DE v NL EOF");
	/* blocks still open at the end of the file are closed there */
	clean("if a:\n  if b:\n    c\n", "if a : NL IN if b : NL IN c NL DE DE EOF");
	/* tabs indent too (a tab is a step to the next multiple of 8) */
	clean("if a:\n\tb\n\tif c:\n\t\td\ne\n",
	      "if a : NL IN b NL if c : NL IN d NL DE DE e NL EOF");

	r = lex("if a:\n    b\nc\n");
	at(nth(&r, T_INDENT, 0), 2, 1, 4);
	at(nth(&r, T_DEDENT, 0), 3, 1, 1);
	lexed_free(&r);
}

static void test_blank_and_comment_lines(void **state)
{
	struct lexed r;

	(void)state;
	/* blank lines and comment-only lines, at any indentation, mean nothing */
	r = lex("x = 1\n"
		"\n"
		"   # an indented comment\n"
		"        \n"
		"if y:\n"
		"\n"
		"    # a comment in the block\n"
		"    z = 2   # a trailing comment\n"
		"# a comment at column 1 inside the block\n"
		"    w = 3\n");
	errors(&r, 0);
	assert_string_equal(r.toks, "x = 1 NL if y : NL IN z = 2 NL w = 3 NL DE EOF");
	at(nth(&r, T_NAME, 2), 8, 5, 1);  /* z */
	at(nth(&r, T_NAME, 3), 10, 5, 1); /* w */
	lexed_free(&r);

	clean("", "EOF");
	clean("\n\n\n", "EOF");
	clean("# only a comment\n", "EOF");
	clean("# only a comment", "EOF");
	clean("   \n\t\n  # x\n", "EOF");
	clean("s = '#not a comment'\n", "s = '#not a comment' NL EOF");
	clean("x = 1 # c", "x = 1 NL EOF");
}

static void test_eof_forever(void **state)
{
	struct diag_list d;
	struct lexer lx;
	struct token t;
	int i;

	(void)state;
	diag_init(&d, "t.vtb", "x", 1);
	lex_init(&lx, "x", 1, &d);
	lex_next(&lx, &t);
	assert_int_equal(t.type, T_NAME);
	lex_next(&lx, &t);
	assert_int_equal(t.type, T_NEWLINE);
	for (i = 0; i < 5; i++) {
		lex_next(&lx, &t);
		assert_int_equal(t.type, T_EOF);
	}
	lex_free(&lx);
	diag_free(&d);
}

static void test_no_trailing_newline(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("x = 1");
	assert_string_equal(r.toks, "x = 1 NL EOF");
	at(&r.t[3], 1, 6, 1);
	lexed_free(&r);
	clean("if a:\n    b = 2", "if a : NL IN b = 2 NL DE EOF");
	clean("if a:\n    b = [1,\n  2]", "if a : NL IN b = [ 1 , 2 ] NL DE EOF");
}

static void test_implicit_line_joining(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("x = [1,\n"
		"  2,\n"
		"      3]\n"
		"y = f(a,\n"
		"# a comment between arguments\n"
		"b)\n");
	errors(&r, 0);
	assert_string_equal(r.toks, "x = [ 1 , 2 , 3 ] NL y = f ( a , b ) NL EOF");
	at(nth(&r, T_INT, 1), 2, 3, 1);
	at(nth(&r, T_INT, 2), 3, 7, 1);
	at(nth(&r, T_NAME, 4), 6, 1, 1); /* b */
	lexed_free(&r);

	/* no INDENT/DEDENT for the continuation lines, whatever their indentation */
	clean("if a:\n    x = (1 +\n2)\n    y = 3\n",
	      "if a : NL IN x = ( 1 + 2 ) NL y = 3 NL DE EOF");
	clean("f(\n    a=1,\n    b=[\n        2,\n    ],\n)\nz\n",
	      "f ( a = 1 , b = [ 2 , ] , ) NL z NL EOF");
	/* a comment inside brackets that runs to the end of the file */
	clean("x = (1 # c", "x = ( 1 NL EOF");
}

static void test_backslash_continuation(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("x = 1 + \\\n    2\ny = 3\n");
	errors(&r, 0);
	assert_string_equal(r.toks, "x = 1 + 2 NL y = 3 NL EOF");
	at(nth(&r, T_INT, 1), 2, 5, 1);
	at(nth(&r, T_NAME, 1), 3, 1, 1);
	lexed_free(&r);
	/* inside a block the continuation line's indentation means nothing */
	clean("if a:\n    x = 1 + \\\n2\n    y\n", "if a : NL IN x = 1 + 2 NL y NL DE EOF");

	/* a backslash elsewhere is not continuation */
	r = lex("x = 1 \\ 2\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:7: error: unexpected character '\\'");
	lexed_free(&r);
}

static void test_keywords(void **state)
{
	static const enum tok_type want[] = {
		T_FOR, T_IN, T_IF, T_ELIF, T_ELSE, T_AND, T_OR, T_NOT, T_TRUE, T_TRUE,
		T_FALSE, T_FALSE, T_PASS, T_BREAK, T_CONTINUE, T_NONE, T_NEWLINE, T_EOF,
	};
	struct lexed r;
	size_t i;

	(void)state;
	r = lex("for in if elif else and or not true True false False pass break continue None\n");
	errors(&r, 0);
	assert_int_equal(r.n, UTIL_ARRAY_SIZE(want));
	for (i = 0; i < r.n; i++)
		if (r.t[i].type != want[i])
			fail_msg("token %zu is %s, expected %s", i, lex_tok_name(r.t[i].type),
				 lex_tok_name(want[i]));
	lexed_free(&r);

	/* words that merely start or end like keywords are names */
	r = lex("fore iffy _if True_ none TRUE notx in2 print\n");
	errors(&r, 0);
	for (i = 0; i < 9; i++)
		assert_int_equal(r.t[i].type, T_NAME);
	lexed_free(&r);
}

static void test_punctuation(void **state)
{
	static const enum tok_type want[] = {
		T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_COLON, T_DOT, T_ASSIGN,
		T_PLUSEQ, T_MINUSEQ, T_STAREQ, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_PLUS,
		T_MINUS, T_STAR, T_SLASH, T_DSLASH, T_PERCENT, T_NEWLINE, T_EOF,
	};
	struct lexed r;
	size_t i;

	(void)state;
	r = lex("( ) [ ] , : . = += -= *= == != < <= > >= + - * / // %\n");
	errors(&r, 0);
	assert_int_equal(r.n, UTIL_ARRAY_SIZE(want));
	for (i = 0; i < r.n; i++)
		if (r.t[i].type != want[i])
			fail_msg("token %zu is %s, expected %s", i, lex_tok_name(r.t[i].type),
				 lex_tok_name(want[i]));
	lexed_free(&r);

	/* longest match without spaces */
	clean("a<=b>=c==-1!=d//e\n", "a <= b >= c == - 1 != d // e NL EOF");
	clean("x+=1", "x += 1 NL EOF");
}

static void test_numbers(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("1_000 0x1f 0X1F 0xff_ff 007 0 9223372036854775807\n");
	errors(&r, 0);
	assert_string_equal(r.toks, "1000 31 31 65535 7 0 9223372036854775807 NL EOF");
	assert_int_equal(r.t[0].type, T_INT);
	assert_int_equal(r.t[6].ival, INT64_MAX);
	at(&r.t[0], 1, 1, 5);
	at(&r.t[1], 1, 7, 4);
	lexed_free(&r);

	r = lex("1.5e-3 .5 1e3 2.5E+2 1. 1.e5 0.1 3.25\n");
	errors(&r, 0);
	assert_int_equal(r.t[0].type, T_FLOAT);
	assert_true(r.t[0].fval == 1.5e-3);
	assert_true(r.t[1].fval == 0.5);
	assert_true(r.t[2].fval == 1000.0);
	assert_int_equal(r.t[2].type, T_FLOAT);
	assert_true(r.t[3].fval == 250.0);
	assert_true(r.t[4].fval == 1.0);
	assert_int_equal(r.t[4].type, T_FLOAT);
	assert_true(r.t[5].fval == 1e5);
	assert_true(r.t[6].fval == 0.1);
	assert_true(r.t[7].fval == 3.25);
	at(&r.t[0], 1, 1, 6);
	at(&r.t[1], 1, 8, 2);
	lexed_free(&r);

	/* a sign is an operator, not part of the number */
	clean("-1 +2.5\n", "- 1 + 2.5 NL EOF");
	/* a method on a name, an index after a number */
	clean("x.y[0].z\n", "x . y [ 0 ] . z NL EOF");
}

static void test_number_errors(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("x = 10ms\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:1:7: error: a number cannot be followed by 'ms'\n"
			    "    x = 10ms\n"
			    "          ^~\n"
			    "  hint: units are functions: write ms(10), gb(8), mbps(100)\n"
			    "1 error\n");
	assert_string_equal(r.toks, "x = ERR NL EOF");
	lexed_free(&r);

	r = lex("m = 1.5gb\nt = 3s\n");
	errors(&r, 2);
	has(&r, "t.vtb:1:8: error: a number cannot be followed by 'gb'");
	has(&r, "t.vtb:2:6: error: a number cannot be followed by 's'");
	lexed_free(&r);

	r = lex("x = 1e\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:6: error: a number cannot be followed by 'e'");
	lexed_free(&r);

	r = lex("x = 9223372036854775808\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:5: error: number out of range\n"
		"    x = 9223372036854775808\n"
		"        ^~~~~~~~~~~~~~~~~~~\n");
	lexed_free(&r);

	r = lex("x = 1e999\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:5: error: number out of range");
	lexed_free(&r);

	r = lex("a = 0x8000000000000000\nb = 0x\nc = 0x7fffffffffffffff\n");
	errors(&r, 2);
	has(&r, "t.vtb:1:5: error: bad hexadecimal number");
	has(&r, "t.vtb:2:5: error: bad hexadecimal number");
	assert_int_equal(nth(&r, T_INT, 0)->ival, INT64_MAX);
	lexed_free(&r);
}

static void test_strings(void **state)
{
	struct lexed r;

	(void)state;
	clean("'abc' \"abc\" ''\n", "'abc' 'abc' '' NL EOF");
	r = lex("'it\\'s' \"say \\\"hi\\\"\" 'a\"b' \"a'b\"\n");
	errors(&r, 0);
	assert_string_equal(r.t[0].s, "it's");
	assert_string_equal(r.t[1].s, "say \"hi\"");
	assert_string_equal(r.t[2].s, "a\"b");
	assert_string_equal(r.t[3].s, "a'b");
	at(&r.t[0], 1, 1, 7);
	at(&r.t[1], 1, 9, 12);
	lexed_free(&r);

	r = lex("'\\n\\t\\r\\\\\\0\\x41\\x7a'\n");
	errors(&r, 0);
	assert_int_equal(r.t[0].type, T_STRING);
	assert_int_equal(r.t[0].slen, 7);
	assert_memory_equal(r.t[0].s, "\n\t\r\\\0Az", 7);
	lexed_free(&r);

	/* non-ASCII text is fine inside strings and comments */
	r = lex("s = 'h\xc3\xa9llo' # caf\xc3\xa9\n");
	errors(&r, 0);
	assert_string_equal(nth(&r, T_STRING, 0)->s, "h\xc3\xa9llo");
	lexed_free(&r);

	/* a backslash at the end of a line continues the string */
	r = lex("s = 'ab\\\ncd'\nx\n");
	errors(&r, 0);
	assert_string_equal(r.toks, "s = 'abcd' NL x NL EOF");
	at(nth(&r, T_STRING, 0), 1, 5, 1);
	at(nth(&r, T_NAME, 1), 3, 1, 1);
	lexed_free(&r);
}

static void test_string_errors(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("s = 'abc\nx = 1\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:1:5: error: unterminated string\n"
			    "    s = 'abc\n"
			    "        ^\n"
			    "  hint: close it on the same line\n"
			    "1 error\n");
	/* the next line is lexed normally */
	assert_string_equal(r.toks, "s = ERR NL x = 1 NL EOF");
	lexed_free(&r);

	r = lex("s = \"abc");
	errors(&r, 1);
	has(&r, "t.vtb:1:5: error: unterminated string");
	lexed_free(&r);

	r = lex("s = 'abc\"\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:5: error: unterminated string");
	lexed_free(&r);

	/* unterminated after a continued line: the error is where it starts */
	r = lex("s = 'ab\\\ncd");
	errors(&r, 1);
	has(&r, "t.vtb:1:5: error: unterminated string\n    s = 'ab\\\n        ^\n");
	lexed_free(&r);

	r = lex("s = 'a\\qb'\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:1:7: error: unknown escape '\\q' in string\n"
			    "    s = 'a\\qb'\n"
			    "          ^~\n"
			    "  hint: known escapes: \\n \\t \\r \\0 \\\\ \\' \\\" \\xHH\n"
			    "1 error\n");
	assert_int_equal(r.t[2].type, T_STRING);
	lexed_free(&r);

	r = lex("s = 'ok'\nt = 'bad \\x4g and \\u0041'\n");
	errors(&r, 2);
	has(&r, "t.vtb:2:10: error: unknown escape '\\x' in string");
	has(&r, "t.vtb:2:19: error: unknown escape '\\u' in string");
	lexed_free(&r);
}

static void test_unexpected_characters(void **state)
{
	struct lexed r;

	(void)state;
	r = lex("x = 1 $ 2\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:1:7: error: unexpected character '$'\n"
			    "    x = 1 $ 2\n"
			    "          ^\n"
			    "1 error\n");
	assert_string_equal(r.toks, "x = 1 ERR 2 NL EOF");
	lexed_free(&r);

	r = lex("a = !b\nc = d ? e\nf = {1}\n");
	errors(&r, 4);
	has(&r, "t.vtb:1:5: error: unexpected character '!'");
	has(&r, "t.vtb:2:7: error: unexpected character '?'");
	has(&r, "t.vtb:3:5: error: unexpected character '{'");
	has(&r, "t.vtb:3:7: error: unexpected character '}'");
	lexed_free(&r);

	r = lex("x = \xc3\xa9\n");
	errors(&r, 2);
	has(&r, "t.vtb:1:5: error: unexpected byte 0xc3");
	has(&r, "t.vtb:1:6: error: unexpected byte 0xa9");
	has(&r, "hint: only strings and comments may hold non-ASCII text");
	lexed_free(&r);

	r = lex_n("x = 1\0y\n", 8);
	errors(&r, 1);
	has(&r, "t.vtb:1:6: error: unexpected byte 0x00");
	lexed_free(&r);
}

static void test_indentation_errors(void **state)
{
	struct lexed r;
	struct util_buf b;
	int i;

	(void)state;
	/* tabs and spaces on one line */
	r = lex("if a:\n \tb\n");
	errors(&r, 1);
	has(&r, "t.vtb:2:1: error: indentation mixes tabs and spaces\n"
		"     \tb\n"
		"    ^~\n"
		"  hint: indent with spaces only, or with tabs only, in the whole file\n");
	lexed_free(&r);

	/* a tab-indented file that later indents with spaces: said once */
	r = lex("if a:\n\tb\nif c:\n    d\nif e:\n    f\n");
	errors(&r, 1);
	has(&r, "t.vtb:4:1: error: indentation mixes tabs and spaces");
	assert_string_equal(r.toks, "if a : NL IN b NL DE if c : NL IN d NL DE if e : NL IN f NL DE EOF");
	lexed_free(&r);

	r = lex("if a:\n    if b:\n        c\n  d\ne\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:4:1: error: unindent does not match any outer indentation level\n"
			    "      d\n"
			    "    ^~\n"
			    "  hint: line it up with the block it belongs to\n"
			    "1 error\n");
	/* lexing goes on: e is back at the top level */
	assert_int_equal(nth(&r, T_NAME, 4)->loc.line, 5);
	lexed_free(&r);

	/* more blocks than the lexer keeps: one error, not one per line */
	util_buf_init(&b);
	for (i = 0; i < 120; i++)
		util_buf_printf(&b, "%*sif x:\n", i, "");
	util_buf_printf(&b, "%*spass\ny = 1\n", 120, "");
	assert_false(b.oom);
	r = lex(b.s);
	errors(&r, 1);
	has(&r, "t.vtb:102:1: error: blocks are nested more than 100 deep");
	/* ... and the last line is lexed at the top level */
	assert_int_equal(r.t[r.n - 5].type, T_NAME);
	assert_int_equal(r.t[r.n - 5].loc.line, 122);
	lexed_free(&r);
	util_buf_free(&b);
}

static void test_crlf(void **state)
{
	static const char *lf = "x = 1\n"
				"if x:\n"
				"    y = [1,\n"
				"  2]\n"
				"    # c\n"
				"\n"
				"z = 'a' + \\\n"
				"  'b'\n";
	static const char *crlf = "x = 1\r\n"
				  "if x:\r\n"
				  "    y = [1,\r\n"
				  "  2]\r\n"
				  "    # c\r\n"
				  "\r\n"
				  "z = 'a' + \\\r\n"
				  "  'b'\r\n";
	struct lexed a, b;
	size_t i;

	(void)state;
	a = lex(lf);
	b = lex(crlf);
	errors(&a, 0);
	errors(&b, 0);
	assert_string_equal(a.toks, "x = 1 NL if x : NL IN y = [ 1 , 2 ] NL DE z = 'a' + 'b' NL EOF");
	assert_string_equal(b.toks, a.toks);
	/* the same places, except the newlines themselves (at the \r or the \n) */
	assert_int_equal(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		if (a.t[i].type == T_NEWLINE)
			continue;
		assert_int_equal(a.t[i].loc.line, b.t[i].loc.line);
		assert_int_equal(a.t[i].loc.col, b.t[i].loc.col);
	}
	lexed_free(&a);
	lexed_free(&b);

	/* a string continued at the end of a CRLF line */
	clean("s = 'ab\\\r\ncd'\r\n", "s = 'abcd' NL EOF");

	/* the quoted line in an error has no \r */
	a = lex("x = 10ms\r\n");
	has(&a, "t.vtb:1:7: error: a number cannot be followed by 'ms'\n    x = 10ms\n          ^~\n");
	lexed_free(&a);
}

static void test_tok_names(void **state)
{
	(void)state;
	assert_string_equal(lex_tok_name(T_EOF), "end of file");
	assert_string_equal(lex_tok_name(T_NEWLINE), "end of line");
	assert_string_equal(lex_tok_name(T_NAME), "name");
	assert_string_equal(lex_tok_name(T_FLOAT), "number");
	assert_string_equal(lex_tok_name(T_DSLASH), "'//'");
	assert_string_equal(lex_tok_name(T_ELIF), "'elif'");
	assert_string_equal(lex_tok_name((enum tok_type)999), "token");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_statement),
		cmocka_unit_test(test_indent_dedent),
		cmocka_unit_test(test_blank_and_comment_lines),
		cmocka_unit_test(test_eof_forever),
		cmocka_unit_test(test_no_trailing_newline),
		cmocka_unit_test(test_implicit_line_joining),
		cmocka_unit_test(test_backslash_continuation),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_punctuation),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_number_errors),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_unexpected_characters),
		cmocka_unit_test(test_indentation_errors),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_tok_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
