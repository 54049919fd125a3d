/* test_parser: the shape of the trees the parser builds (precedence,
 * associativity, calls, blocks), its syntax errors with their places, and
 * how it recovers: every error in a file is reported once, and hostile
 * nesting is refused with one error instead of a crash. */
#include "unit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

/* ---- dumping trees as S-expressions ---- */

static const char *op_name(uint8_t op)
{
	switch (op) {
	case T_PLUS: return "+";
	case T_MINUS: return "-";
	case T_STAR: return "*";
	case T_SLASH: return "/";
	case T_DSLASH: return "//";
	case T_PERCENT: return "%";
	case T_EQ: return "==";
	case T_NE: return "!=";
	case T_LT: return "<";
	case T_LE: return "<=";
	case T_GT: return ">";
	case T_GE: return ">=";
	case T_ASSIGN: return "=";
	case T_PLUSEQ: return "+=";
	case T_MINUSEQ: return "-=";
	case T_STAREQ: return "*=";
	}
	return "?";
}

static void dump_expr(struct util_buf *b, const struct ast_symtab *st, const struct ast_expr *e)
{
	uint32_t i;

	switch (e->kind) {
	case E_INT: util_buf_printf(b, "%" PRId64, e->i); break;
	case E_FLOAT: util_buf_printf(b, "%g", e->f); break;
	case E_STR:
		util_buf_puts(b, "'");
		util_buf_append(b, e->str.s, e->str.len);
		util_buf_puts(b, "'");
		break;
	case E_BOOL: util_buf_puts(b, e->b ? "true" : "false"); break;
	case E_NONE: util_buf_puts(b, "None"); break;
	case E_NAME: util_buf_puts(b, st->names[e->sym]); break;
	case E_LIST:
		util_buf_puts(b, "[");
		for (i = 0; i < e->list.n; i++) {
			if (i)
				util_buf_puts(b, " ");
			dump_expr(b, st, e->list.v[i]);
		}
		util_buf_puts(b, "]");
		break;
	case E_BINOP:
	case E_CMP:
		util_buf_printf(b, "(%s ", op_name(e->op));
		dump_expr(b, st, e->bin.l);
		util_buf_puts(b, " ");
		dump_expr(b, st, e->bin.r);
		util_buf_puts(b, ")");
		break;
	case E_AND:
	case E_OR:
		util_buf_puts(b, e->kind == E_AND ? "(and " : "(or ");
		dump_expr(b, st, e->bin.l);
		util_buf_puts(b, " ");
		dump_expr(b, st, e->bin.r);
		util_buf_puts(b, ")");
		break;
	case E_NEG:
	case E_NOT:
		util_buf_puts(b, e->kind == E_NEG ? "(neg " : "(not ");
		dump_expr(b, st, e->bin.l);
		util_buf_puts(b, ")");
		break;
	case E_CALL:
		util_buf_puts(b, "(call ");
		dump_expr(b, st, e->call.fn);
		for (i = 0; i < e->call.nargs; i++) {
			util_buf_puts(b, " ");
			if (e->call.args[i].kw != AST_NO_SYM)
				util_buf_printf(b, "%s=", st->names[e->call.args[i].kw]);
			dump_expr(b, st, e->call.args[i].value);
		}
		util_buf_puts(b, ")");
		break;
	case E_INDEX:
		util_buf_puts(b, "(index ");
		dump_expr(b, st, e->bin.l);
		util_buf_puts(b, " ");
		dump_expr(b, st, e->bin.r);
		util_buf_puts(b, ")");
		break;
	case E_ATTR:
		util_buf_puts(b, "(attr ");
		dump_expr(b, st, e->attr.obj);
		util_buf_printf(b, " %s)", st->names[e->attr.sym]);
		break;
	default:
		fail_msg("unknown expression kind %d", e->kind);
	}
}

static void dump_block(struct util_buf *b, const struct ast_symtab *st, const struct ast_stmt *s);

static void dump_stmt(struct util_buf *b, const struct ast_symtab *st, const struct ast_stmt *s)
{
	switch (s->kind) {
	case S_EXPR:
		dump_expr(b, st, s->expr);
		break;
	case S_ASSIGN:
		util_buf_printf(b, "(%s ", op_name(s->op));
		dump_expr(b, st, s->assign.target);
		util_buf_puts(b, " ");
		dump_expr(b, st, s->assign.value);
		util_buf_puts(b, ")");
		break;
	case S_FOR:
		util_buf_printf(b, "(for %s ", st->names[s->loop.var]);
		dump_expr(b, st, s->loop.iter);
		util_buf_puts(b, " ");
		dump_block(b, st, s->loop.body);
		util_buf_puts(b, ")");
		break;
	case S_IF:
		util_buf_puts(b, "(if ");
		dump_expr(b, st, s->cond.cond);
		util_buf_puts(b, " ");
		dump_block(b, st, s->cond.then);
		if (s->cond.els) {
			util_buf_puts(b, " ");
			dump_block(b, st, s->cond.els);
		}
		util_buf_puts(b, ")");
		break;
	case S_PASS: util_buf_puts(b, "pass"); break;
	case S_BREAK: util_buf_puts(b, "break"); break;
	case S_CONTINUE: util_buf_puts(b, "continue"); break;
	default:
		fail_msg("unknown statement kind %d", s->kind);
	}
}

static void dump_block(struct util_buf *b, const struct ast_symtab *st, const struct ast_stmt *s)
{
	util_buf_puts(b, "[");
	for (; s; s = s->next) {
		dump_stmt(b, st, s);
		if (s->next)
			util_buf_puts(b, "; ");
	}
	util_buf_puts(b, "]");
}

/* ---- parsing a whole source ---- */

struct parsed {
	char *tree;  /* one line per top-level statement: "LINE: (s-expression)" */
	char *diags; /* diag_format() */
	size_t nerrors, nstmts, nsyntax;
};

static struct parsed parse_n(const char *src, size_t len)
{
	struct parsed r = { 0 };
	struct ast_symtab st;
	struct diag_list d;
	struct parser p;
	struct ast_stmt *s;
	struct util_buf b;

	util_buf_init(&b);
	ast_symtab_init(&st);
	diag_init(&d, "t.vtb", src, len);
	parse_init(&p, src, len, &st, &d);
	while (parse_next(&p, &s) > 0) {
		util_buf_printf(&b, "%u: ", s->loc.line);
		dump_stmt(&b, &st, s);
		util_buf_puts(&b, "\n");
		r.nstmts++;
	}
	/* the end stays the end */
	assert_int_equal(parse_next(&p, &s), 0);
	assert_false(d.oom);
	assert_false(b.oom);
	r.tree = util_buf_take(&b);
	if (!r.tree)
		r.tree = strdup("");
	assert_non_null(r.tree);
	r.diags = diag_format(&d);
	assert_non_null(r.diags);
	r.nerrors = d.nerrors;
	r.nsyntax = p.nsyntax;
	parse_free(&p);
	ast_symtab_free(&st);
	diag_free(&d);
	return r;
}

static struct parsed parse(const char *src)
{
	return parse_n(src, strlen(src));
}

static void parsed_free(struct parsed *r)
{
	free(r->tree);
	free(r->diags);
	memset(r, 0, sizeof(*r));
}

static void has(const struct parsed *r, const char *want)
{
	if (!strstr(r->diags, want))
		fail_msg("missing \"%s\" in:\n%s", want, r->diags);
}

static void lacks(const struct parsed *r, const char *unwanted)
{
	if (strstr(r->diags, unwanted))
		fail_msg("unexpected \"%s\" in:\n%s", unwanted, r->diags);
}

static void errors(const struct parsed *r, size_t n)
{
	if (r->nerrors != n)
		fail_msg("expected %zu errors, got %zu:\n%s", n, r->nerrors, r->diags);
}

/* Parse src (one line or a block, no errors expected) and compare the tree
 * of its statements, without the line numbers, to want. */
static void tree(const char *src, const char *want)
{
	struct parsed r = parse(src);
	struct util_buf b;
	const char *line;

	if (r.nerrors)
		fail_msg("unexpected errors for \"%s\":\n%s", src, r.diags);
	util_buf_init(&b);
	for (line = r.tree; *line;) {
		const char *colon = strchr(line, ' '), *nl = strchr(line, '\n');

		assert_non_null(colon);
		assert_non_null(nl);
		if (b.len)
			util_buf_puts(&b, " | ");
		util_buf_append(&b, colon + 1, (size_t)(nl - colon - 1));
		line = nl + 1;
	}
	assert_false(b.oom);
	if (strcmp(b.s ? b.s : "", want))
		fail_msg("for \"%s\":\n  got  %s\n  want %s", src, b.s ? b.s : "", want);
	util_buf_free(&b);
	parsed_free(&r);
}

/* Parse src, expect exactly one error, containing want. */
static void one_error(const char *src, const char *want)
{
	struct parsed r = parse(src);

	errors(&r, 1);
	has(&r, want);
	parsed_free(&r);
}

/* ---- expressions ---- */

static void test_precedence(void **state)
{
	(void)state;
	tree("a + b * c", "(+ a (* b c))");
	tree("a * b + c", "(+ (* a b) c)");
	tree("a + b * c - d", "(- (+ a (* b c)) d)");
	tree("(a + b) * c", "(* (+ a b) c)");
	tree("a % b + c // d", "(+ (% a b) (// c d))");
	tree("a + b == c * d", "(== (+ a b) (* c d))");
	tree("a < b + 1", "(< a (+ b 1))");
	tree("not a == b", "(not (== a b))");
	tree("not a and b", "(and (not a) b)");
	tree("a or b and c", "(or a (and b c))");
	tree("a and b or c and d", "(or (and a b) (and c d))");
	tree("not a == b and c or d", "(or (and (not (== a b)) c) d)");
	tree("-a * b", "(* (neg a) b)");
	tree("-a.b", "(neg (attr a b))");
	tree("-x[1].y(2)", "(neg (call (attr (index x 1) y) 2))");
	tree("a == -b", "(== a (neg b))");
	tree("cores >= 2", "(>= cores 2)");
	tree("memory == gb(8)", "(== memory (call gb 8))");
}

static void test_associativity(void **state)
{
	(void)state;
	tree("a - b - c", "(- (- a b) c)");
	tree("a + b - c + d", "(+ (- (+ a b) c) d)");
	tree("a / b / c", "(/ (/ a b) c)");
	tree("a // b % c / d * e", "(* (/ (% (// a b) c) d) e)");
	tree("a and b and c", "(and (and a b) c)");
	tree("a or b or c", "(or (or a b) c)");
	tree("a - (b - c)", "(- a (- b c))");
	tree("not not a", "(not (not a))");
	tree("- -a", "(neg (neg a))");
}

static void test_literals_and_unary(void **state)
{
	(void)state;
	/* a minus sign on a literal makes a negative constant */
	tree("-1", "-1");
	tree("-2 * 3", "(* -2 3)");
	tree("--1", "1");
	tree("+x", "x");
	tree("-1.5", "-1.5");
	tree("[1, 'a', 2.5, true, false, None]", "[1 'a' 2.5 true false None]");
	tree("[]", "[]");
	tree("[1, 2,]", "[1 2]");
	tree("[[1], [2, [3]]]", "[[1] [2 [3]]]");
	tree("'a' + \"b\"", "(+ 'a' 'b')");
	tree("x = -9223372036854775807 - 1", "(= x (- -9223372036854775807 1))");
}

static void test_postfix(void **state)
{
	(void)state;
	tree("a.b(1)[2].c", "(attr (index (call (attr a b) 1) 2) c)");
	tree("x[1][2]", "(index (index x 1) 2)");
	tree("f(1)(2)", "(call (call f 1) 2)");
	tree("n[i + 1]", "(index n (+ i 1))");
	tree("link[x].spec(nic == virtio)", "(call (attr (index link x) spec) (== nic virtio))");
}

static void test_calls(void **state)
{
	struct parsed r;

	(void)state;
	tree("f()", "(call f)");
	tree("f(1)", "(call f 1)");
	tree("f(1,)", "(call f 1)");
	tree("f(1, 'a', k=2, j=x + 1)", "(call f 1 'a' k=2 j=(+ x 1))");
	tree("f(a='x', b='y')", "(call f a='x' b='y')");
	tree("f(a == 'x', b='y')", "(call f (== a 'x') b='y')");
	tree("topo.device('nodeX', cores == 4, memory == gb(8))",
	     "(call (attr topo device) 'nodeX' (== cores 4) (== memory (call gb 8)))");
	tree("task('ping', run(n, 'ping -c 3 x'), timeout=s(30))",
	     "(call task 'ping' (call run n 'ping -c 3 x') timeout=(call s 30))");
	/* arguments may span lines */
	tree("f(1,\n  k=2,\n)\n", "(call f 1 k=2)");

	r = parse("f(k=1, 2)\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:1:8: error: positional argument after a keyword argument\n"
			    "    f(k=1, 2)\n"
			    "           ^\n"
			    "  hint: put keyword arguments (name=value) last\n"
			    "1 error\n");
	parsed_free(&r);
	one_error("f(a, k=1, b)\n", "t.vtb:1:11: error: positional argument after a keyword argument");
	one_error("f(1 2)\n", "t.vtb:1:5: error: expected ',' or ')' after an argument, found number");
	one_error("f(1, k=)\n", "t.vtb:1:8: error: expected an expression, found ')'");
	one_error("x.1\n", "t.vtb:1:2: error: expected end of line, found number");
	one_error("x.(1)\n", "t.vtb:1:3: error: expected a name after '.', found '('");
}

static void test_comparisons(void **state)
{
	struct parsed r;

	(void)state;
	tree("a == b", "(== a b)");
	tree("a != b", "(!= a b)");
	tree("a <= b", "(<= a b)");
	tree("(a < b) < c", "(< (< a b) c)");
	tree("a < b and b < c", "(and (< a b) (< b c))");

	r = parse("a < b < c\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:1:7: error: chained comparisons are not supported\n"
			    "    a < b < c\n"
			    "          ^\n"
			    "  hint: write two comparisons: cores >= 2, cores <= 4 (or join them with 'and')\n"
			    "1 error\n");
	parsed_free(&r);
	one_error("x = a == b != c\n", "t.vtb:1:12: error: chained comparisons are not supported");
	one_error("topo.device('a', 2 <= cores <= 4)\n",
		  "t.vtb:1:29: error: chained comparisons are not supported");
}

/* ---- statements ---- */

static void test_assignment(void **state)
{
	struct parsed r;

	(void)state;
	tree("x = 1", "(= x 1)");
	tree("x[0] = 1", "(= (index x 0) 1)");
	tree("x[i][j] = f(2)", "(= (index (index x i) j) (call f 2))");
	tree("x = y == 1", "(= x (== y 1))");
	tree("x += 1", "(+= x 1)");
	tree("x[0] -= 2", "(-= (index x 0) 2)");
	tree("y *= 3 + 1", "(*= y (+ 3 1))");

	r = parse("f(x) = 2\n1 = x\nx.y = 1\na + b = 1\n[a, b] = c\nf() += 1\nok = 1\n");
	errors(&r, 6);
	has(&r, "t.vtb:1:1: error: cannot assign to this expression\n"
		"    f(x) = 2\n"
		"    ^~~~\n"
		"  hint: assign to a name or a list item\n");
	has(&r, "t.vtb:2:1: error: cannot assign to this expression");
	has(&r, "t.vtb:3:1: error: cannot assign to this expression\n    x.y = 1\n    ^~~\n");
	has(&r, "t.vtb:4:1: error: cannot assign to this expression\n    a + b = 1\n    ^~~~~\n");
	has(&r, "t.vtb:5:1: error: cannot assign to this expression");
	has(&r, "t.vtb:6:1: error: cannot assign to this expression");
	assert_string_equal(r.tree, "7: (= ok 1)\n");
	parsed_free(&r);

	r = parse("x = y = 1\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:7: error: unexpected '='\n"
		"    x = y = 1\n"
		"          ^\n"
		"  hint: use '==' to compare\n");
	parsed_free(&r);
	one_error("x /= 2\n", "t.vtb:1:4: error: expected an expression, found '='");
	one_error("x = \n", "t.vtb:1:5: error: expected an expression, found end of line");
}

static void test_blocks(void **state)
{
	struct parsed r;

	(void)state;
	tree("for i in range(3):\n    x = i\n    y = 2\n",
	     "(for i (call range 3) [(= x i); (= y 2)])");
	tree("if a:\n    x = 1\nelif b:\n    x = 2\nelif c:\n    x = 3\nelse:\n    x = 4\n",
	     "(if a [(= x 1)] [(if b [(= x 2)] [(if c [(= x 3)] [(= x 4)])])])");
	tree("if a:\n    x = 1\nelse:\n    pass\n", "(if a [(= x 1)] [pass])");
	tree("if a:\n    pass\n", "(if a [pass])");
	/* one-line blocks */
	tree("if x: pass", "(if x [pass])");
	tree("if x: pass\nelse: pass\n", "(if x [pass] [pass])");
	tree("if x: y = 1\nelif z: y = 2\nelse: y = 3\n", "(if x [(= y 1)] [(if z [(= y 2)] [(= y 3)])])");
	tree("for i in r: x = i", "(for i r [(= x i)])");
	tree("for i in r: pass\ny = 1\n", "(for i r [pass]) | (= y 1)");
	/* nesting, break and continue */
	tree("for i in range(10):\n"
	     "    if i % 2 == 1:\n"
	     "        continue\n"
	     "    for j in [1, 2]:\n"
	     "        if j: break\n"
	     "    n.append(i)\n"
	     "z = 0\n",
	     "(for i (call range 10) [(if (== (% i 2) 1) [continue]); "
	     "(for j [1 2] [(if j [break])]); (call (attr n append) i)]) | (= z 0)");
	/* blank and comment lines between a block and its else */
	tree("if a:\n  pass\n\n# c\nelse:\n  pass\n", "(if a [pass] [pass])");
	/* statements on the lines they start on */
	r = parse("x = 1\n\nfor i in r:\n    y = i\n\n# c\nz = [1,\n  2]\nw = 3\n");
	errors(&r, 0);
	assert_string_equal(r.tree, "1: (= x 1)\n3: (for i r [(= y i)])\n7: (= z [1 2])\n9: (= w 3)\n");
	parsed_free(&r);
}

static void test_block_errors(void **state)
{
	struct parsed r;

	(void)state;
	r = parse("if x:\ny = 1\nz = 2\n");
	has(&r, "t.vtb:2:1: error: expected an indented block\n"
		"    y = 1\n"
		"    ^\n"
		"  hint: indent the lines of the block\n");
	parsed_free(&r);

	r = parse("x = 1\n    y = 2\n    y = 3\nz = 4\n");
	errors(&r, 1);
	has(&r, "t.vtb:2:1: error: unexpected indent\n"
		"        y = 2\n"
		"    ^~~~\n"
		"  hint: only the lines of a for or if block are indented\n");
	assert_string_equal(r.tree, "1: (= x 1)\n4: (= z 4)\n");
	parsed_free(&r);

	r = parse("else: pass\nelif x: pass\ny = 1\n");
	errors(&r, 2);
	has(&r, "t.vtb:1:1: error: 'else' or 'elif' without a matching 'if'");
	has(&r, "t.vtb:2:1: error: 'else' or 'elif' without a matching 'if'");
	assert_string_equal(r.tree, "3: (= y 1)\n");
	parsed_free(&r);

	r = parse("if x = 1: pass\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:6: error: unexpected '='\n"
		"    if x = 1: pass\n"
		"         ^\n"
		"  hint: use '==' to compare\n");
	parsed_free(&r);

	one_error("for 1 in x: pass\n",
		  "t.vtb:1:5: error: expected a variable name after 'for', found number");
	one_error("for i range(3): pass\n", "t.vtb:1:7: error: expected 'in', found name");
	one_error("if x pass\n", "t.vtb:1:6: error: expected ':', found 'pass'");
	one_error("for i in x:\n", "t.vtb:2:1: error: expected an indented block");
	one_error("if x:", "t.vtb:1:6: error: expected an indented block");
	one_error("x = 1 2\n", "t.vtb:1:7: error: expected end of line, found number");
}

/* ---- recovery ---- */

static void test_several_errors(void **state)
{
	struct parsed r;

	(void)state;
	r = parse("a = 1\n"
		  "b = 2 +\n"
		  "c = 3\n"
		  "d = [1 2]\n"
		  "e = 4\n"
		  "f(k=1, 2)\n"
		  "g = 5\n"
		  "h = )\n"
		  "i = 6\n");
	errors(&r, 4);
	assert_int_equal(r.nsyntax, 4);
	has(&r, "t.vtb:2:8: error: expected an expression, found end of line");
	has(&r, "t.vtb:4:8: error: expected ',' or ']' in a list, found number");
	has(&r, "t.vtb:6:8: error: positional argument after a keyword argument");
	has(&r, "t.vtb:8:5: error: expected an expression, found ')'");
	/* every good statement in between is parsed, on its own line */
	assert_string_equal(r.tree, "1: (= a 1)\n3: (= c 3)\n5: (= e 4)\n7: (= g 5)\n9: (= i 6)\n");
	parsed_free(&r);

	/* an error in a nested block: the rest of the block is skipped, the
	 * next top-level statement is not */
	r = parse("for i in r:\n"
		  "    if x:\n"
		  "        y = 1 1\n"
		  "        z = 2\n"
		  "    w = 3\n"
		  "v = 4\n"
		  "u = )\n");
	errors(&r, 2);
	has(&r, "t.vtb:3:15: error: expected end of line, found number");
	has(&r, "t.vtb:7:5: error: expected an expression, found ')'");
	assert_string_equal(r.tree, "6: (= v 4)\n");
	parsed_free(&r);

	/* a lexer error is reported once, by the lexer */
	r = parse("x = 10ms\ny = 1\nz = 'abc\nw = 2\n");
	errors(&r, 2);
	has(&r, "t.vtb:1:7: error: a number cannot be followed by 'ms'");
	has(&r, "t.vtb:3:5: error: unterminated string");
	assert_string_equal(r.tree, "2: (= y 1)\n4: (= w 2)\n");
	parsed_free(&r);
}

static void test_no_cascades(void **state)
{
	struct parsed r;

	(void)state;
	/* a broken for header: its block is skipped, not "unexpected indent" */
	r = parse("for i in range(3)\n    x = 1\n    y = 2\nz = 3\n");
	errors(&r, 1);
	assert_string_equal(r.diags,
			    "t.vtb:1:18: error: expected ':', found end of line\n"
			    "    for i in range(3)\n"
			    "                     ^\n"
			    "1 error\n");
	lacks(&r, "unexpected indent");
	assert_string_equal(r.tree, "4: (= z 3)\n");
	parsed_free(&r);

	r = parse("for in x:\n    a = 1\n    if b\n        c = 2\nq = 3\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:5: error: expected a variable name after 'for', found 'in'");
	assert_string_equal(r.tree, "5: (= q 3)\n");
	parsed_free(&r);

	/* a broken if header: its elif and else go with it */
	r = parse("if x\n    y = 1\nelif z:\n    y = 2\nelse:\n    y = 3\nw = 1\n");
	errors(&r, 1);
	has(&r, "t.vtb:1:5: error: expected ':', found end of line");
	lacks(&r, "without a matching 'if'");
	assert_string_equal(r.tree, "7: (= w 1)\n");
	parsed_free(&r);

	/* an error inside the if block: the same */
	r = parse("if x:\n    y = (\nelse: pass\nw = 1\nelse: pass\n");
	errors(&r, 2);
	has(&r, "t.vtb:3:1: error: expected an expression, found 'else'");
	/* ... while a real orphan else further on is still reported */
	has(&r, "t.vtb:5:1: error: 'else' or 'elif' without a matching 'if'");
	assert_string_equal(r.tree, "4: (= w 1)\n");
	parsed_free(&r);

	/* an unclosed bracket points back at where it was opened */
	r = parse("x = foo(1,\n    2\ny = 3\nz = 4\n");
	errors(&r, 1);
	has(&r, "t.vtb:3:1: error: expected ',' or ')' after an argument, found name\n"
		"    y = 3\n"
		"    ^\n"
		"  hint: the bracket opened at line 1, column 8 is not closed\n");
	assert_string_equal(r.tree, "4: (= z 4)\n");
	parsed_free(&r);
}

/* ---- nesting ---- */

/* src = prefix + rep * n + middle + rep2 * n + "\n" + tail */
static char *nested(const char *prefix, const char *rep, size_t n, const char *middle,
		    const char *rep2, const char *tail)
{
	struct util_buf b;
	size_t i;

	util_buf_init(&b);
	util_buf_puts(&b, prefix);
	for (i = 0; i < n; i++)
		util_buf_puts(&b, rep);
	util_buf_puts(&b, middle);
	for (i = 0; i < n; i++)
		util_buf_puts(&b, rep2);
	util_buf_puts(&b, "\n");
	util_buf_puts(&b, tail);
	assert_false(b.oom);
	return util_buf_take(&b);
}

/* Parse src: one "nesting too deep" error and then the line "y = 1" parsed. */
static void too_deep(char *src)
{
	struct parsed r = parse(src);

	errors(&r, 1);
	has(&r, "error: nesting too deep (more than 200 levels)");
	has(&r, "  hint: split the expression or the blocks into smaller pieces\n");
	assert_string_equal(r.tree, "2: (= y 1)\n");
	parsed_free(&r);
	free(src);
}

static void test_nesting_too_deep(void **state)
{
	(void)state;
	too_deep(nested("x = ", "(", 200000, "1", ")", "y = 1\n"));
	too_deep(nested("x = ", "not ", 100000, "a", "", "y = 1\n"));
	too_deep(nested("x = ", "-", 100000, "a", "", "y = 1\n"));
	too_deep(nested("x = ", "- ", 100000, "1", "", "y = 1\n"));
	too_deep(nested("x = ", "[", 100000, "", "]", "y = 1\n"));
	too_deep(nested("x = ", "f(", 100000, "", ")", "y = 1\n"));
	too_deep(nested("x = ", "a[", 100000, "0", "]", "y = 1\n"));
	/* long chains make deep trees too */
	too_deep(nested("x = 1", " + 1", 1000000, "", "", "y = 1\n"));
	too_deep(nested("x = 1", " and 1", 1000000, "", "", "y = 1\n"));
	too_deep(nested("x = f", "()", 1000000, "", "", "y = 1\n"));
	too_deep(nested("x = a", "[0]", 1000000, "", "", "y = 1\n"));
	too_deep(nested("x = a", ".b", 1000000, "", "", "y = 1\n"));
}

static void test_nesting_allowed(void **state)
{
	struct parsed r;
	struct util_buf b;
	char *src;
	int i;

	(void)state;
	/* ordinary depths parse */
	src = nested("x = ", "(", 150, "1", ")", "y = 1\n");
	r = parse(src);
	errors(&r, 0);
	assert_string_equal(r.tree, "1: (= x 1)\n2: (= y 1)\n");
	parsed_free(&r);
	free(src);
	src = nested("x = 1", " + 1", 150, "", "", "");
	r = parse(src);
	errors(&r, 0);
	parsed_free(&r);
	free(src);

	/* 60 nested blocks */
	util_buf_init(&b);
	for (i = 0; i < 60; i++)
		util_buf_printf(&b, "%*sif x:\n", i, "");
	util_buf_printf(&b, "%*spass\ny = 1\n", 60, "");
	assert_false(b.oom);
	r = parse(b.s);
	errors(&r, 0);
	assert_int_equal(r.nstmts, 2);
	parsed_free(&r);
	util_buf_free(&b);
}

static void test_empty_input(void **state)
{
	struct parsed r;

	(void)state;
	r = parse("");
	errors(&r, 0);
	assert_int_equal(r.nstmts, 0);
	parsed_free(&r);
	r = parse("\n\n# nothing\n   \n");
	errors(&r, 0);
	assert_int_equal(r.nstmts, 0);
	parsed_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_associativity),
		cmocka_unit_test(test_literals_and_unary),
		cmocka_unit_test(test_postfix),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_assignment),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_block_errors),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_no_cascades),
		cmocka_unit_test(test_nesting_too_deep),
		cmocka_unit_test(test_nesting_allowed),
		cmocka_unit_test(test_empty_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
