/*
 * t_template.c - herald's side of the mustache engine: escaping modes,
 * number printing, falsey values, partial indentation, every error with
 * its exact file:line:col, strict and lenient partials, tmpl_check and
 * the limits that keep hostile templates bounded.
 * (The mustache spec itself is t_mustache_spec.c.)
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "template.h"

/* Partials the tests can name; each in a file of its own. */
static const struct {
	const char *name, *src;
} partials[] = {
	{ "hello", "Hello {{name}}!" },
	{ "lines", "x\ny\n" },
	{ "blank", "a\n\nb\n" },
	{ "outer", "a\n  {{>lines}}\nb\n" },
	{ "inline", "a {{>lines}}\n" },
	{ "bad", "line one\n{{#x}}" },
	{ "self", "{{>self}}" },
	{ "ping", "{{>pong}}" },
	{ "pong", "{{>ping}}{{>nope}}" },
	{ "hidden", "{{/oops}}" },
	{ "twice", "{{>self}}{{>self}}" },
};

static int loads;	/* loader calls, to see each partial loaded once */

static int
test_partial(void *arg, const char *name, const char **src, size_t *len,
    struct tmpl_pos *pos)
{
	size_t i;

	(void)arg;
	loads++;
	for (i = 0; i < ARRAY_LEN(partials); i++) {
		if (strcmp(partials[i].name, name) != 0)
			continue;
		*src = partials[i].src;
		*len = strlen(partials[i].src);
		pos->file = partials[i].name;
		pos->line = 1;
		pos->col = 1;
		return 0;
	}
	return -1;
}

static struct ydoc *
test_data(const char *yaml)
{
	struct diag d;
	struct ydoc *doc;

	diag_init(&d, EXIT_DATAERR);
	doc = ydoc_load_mem("data.yaml", yaml, strlen(yaml), &d);
	if (doc == NULL) {
		diag_print(&d);
		fatalx("test data does not parse: %s", yaml);
	}
	diag_free(&d);
	return doc;
}

/* Every diag line, joined by " | ". The caller owns the result. */
static char *
test_errors(const struct diag *d)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < d->n; i++)
		buf_addf(&b, "%s%s", i ? " | " : "", d->items[i].text);
	return buf_detach(&b);
}

static void
test_opts(struct tmpl_opts *o, enum tmpl_escape esc, int strict)
{
	memset(o, 0, sizeof(*o));
	o->escape = esc;
	o->partial = test_partial;
	o->strict_partials = strict;
	o->pos.file = "t.yaml";
	o->pos.line = 3;
	o->pos.col = 10;
	o->pos.indent = 4;
}

/*
 * Renders; returns the output, or "ERR: " and the errors. The caller
 * owns the result.
 */
static char *
test_render(const char *tmpl, const char *yaml, const struct tmpl_opts *o)
{
	struct ydoc *doc = yaml ? test_data(yaml) : NULL;
	struct buf out = BUF_INIT;
	struct diag d;
	char *res, *errs;
	int rc;

	diag_init(&d, EXIT_DATAERR);
	rc = tmpl_render(tmpl, strlen(tmpl), doc ? ydoc_root(doc) : NULL, o,
	    &out, &d);
	if (rc == 0 && d.n == 0) {
		res = buf_detach(&out);
	} else {
		errs = test_errors(&d);
		res = xasprintf("ERR%s: %s", rc == 0 ? "(rc 0)" : "", errs);
		free(errs);
	}
	buf_free(&out);
	diag_free(&d);
	ydoc_free(doc);
	return res;
}

static const struct {
	const char *name, *tmpl, *data;
	enum tmpl_escape esc;
	const char *want;
} render_cases[] = {
	{ "html escaping", "{{x}}", "x: \"<a href='u'>&\\\"\"", TMPL_ESCAPE_HTML,
	  "&lt;a href=&#39;u&#39;&gt;&amp;&quot;" },
	{ "no escaping", "{{x}}", "x: \"<a href='u'>&\\\"\"", TMPL_ESCAPE_NONE,
	  "<a href='u'>&\"" },
	{ "triple is raw", "{{{x}}}", "x: \"<&>\"", TMPL_ESCAPE_HTML, "<&>" },
	{ "ampersand is raw", "{{& x}}", "x: \"<&>\"", TMPL_ESCAPE_HTML, "<&>" },
	{ "utf-8 passes", "{{x}}", "x: Pérez “q”", TMPL_ESCAPE_HTML, "Pérez “q”" },
	{ "decimal trailing zeros", "{{x}}", "x: 1.210", 0, "1.21" },
	{ "decimal keeps one digit", "{{x}}", "x: 2.00", 0, "2.0" },
	{ "decimal bare point", "{{x}}", "x: 3.", 0, "3.0" },
	{ "decimal leading point", "{{x}}", "x: -.50", 0, "-0.5" },
	{ "decimal exponent", "{{x}}", "x: 1.50e+3", 0, "1.5e+3" },
	{ "integer as is", "{{x}}", "x: 007", 0, "007" },
	{ "hex as is", "{{x}}", "x: 0x1F", 0, "0x1F" },
	{ "quoted decimal as is", "{{x}}", "x: '1.210'", 0, "1.210" },
	{ "version string as is", "{{x}}", "x: 1.2.30", 0, "1.2.30" },
	{ "null prints nothing", "[{{x}}{{y}}{{z}}]", "{x: null, y: ~, z: }", 0, "[]" },
	{ "false prints its text", "{{x}}", "x: false", 0, "false" },
	{ "map prints nothing", "[{{x}}]", "x: {a: 1}", 0, "[]" },
	{ "list prints nothing", "[{{x}}]", "x: [1, 2]", 0, "[]" },
	{ "falsey values",
	  "{{^a}}A{{/a}}{{^b}}B{{/b}}{{^c}}C{{/c}}{{^d}}D{{/d}}{{^e}}E{{/e}}",
	  "{a: null, b: false, c: [], d: ~}", 0, "ABCDE" },
	{ "truthy values",
	  "{{#a}}A{{/a}}{{#b}}B{{/b}}{{#c}}C{{/c}}{{#d}}D{{/d}}{{#e}}E{{/e}}",
	  "{a: 'false', b: 0, c: {}, d: '', e: 'null'}", 0, "ABCDE" },
	{ "no data", "[{{x}}{{.}}{{#x}}y{{/x}}{{^x}}none{{/x}}]", NULL, 0, "[none]" },
	{ "scalar root", "{{.}}{{#.}}={{.}}{{/.}}", "hi", 0, "hi=hi" },
	{ "digest loop",
	  "{{#releases}}* {{title}} ({{list.name}})\n{{/releases}}",
	  "{list: {name: Press}, releases: [{title: A}, {title: B}]}", 0,
	  "* A (Press)\n* B (Press)\n" },
	{ "partial sees the context", "{{>hello}}", "name: Ana", 0, "Hello Ana!" },
	{ "partial indented", "  {{>lines}}\n", "{}", 0, "  x\n  y\n" },
	{ "indented partial leaves empty lines empty", "  {{>blank}}\n", "{}", 0,
	  "  a\n\n  b\n" },
	{ "indentation accumulates", "  {{>outer}}\n", "{}", 0,
	  "  a\n    x\n    y\n  b\n" },
	{ "inline partial is not indented", "  {{>inline}}\n", "{}", 0,
	  "  a x\ny\n\n" },
	{ "lenient unknown partial", "[{{>nope}}]", "{}", 0, "[]" },
	{ "partial error in a false section is not reached",
	  "{{#no}}{{>bad}}{{/no}}ok", "{}", 0, "ok" },
	{ "crlf standalone", "a\r\n{{#t}}\r\nb\r\n{{/t}}\r\n", "t: true", 0,
	  "a\r\nb\r\n" },
	{ "custom delimiters in html", "{{=<% %>=}}<%x%> <%{x}%>", "x: <", 1,
	  "&lt; <" },
};

static void
test_render_cases(void)
{
	struct tmpl_opts o;
	char *got;
	size_t i;

	for (i = 0; i < ARRAY_LEN(render_cases); i++) {
		test_opts(&o, render_cases[i].esc, 0);
		got = test_render(render_cases[i].tmpl, render_cases[i].data, &o);
		is_str(got, render_cases[i].want, render_cases[i].name);
		free(got);
	}
}

/*
 * Errors. The template starts at t.yaml:3:10 and its later lines at
 * column 5 (a block scalar indented by 4).
 */
static const struct {
	const char *name, *tmpl;
	int strict;
	const char *want;
} error_cases[] = {
	{ "unclosed section", "ab{{#a}}x",
	  1, "t.yaml:3:12: unclosed section 'a'" },
	{ "mismatched close on a later line", "x\n  {{#a}}{{/b}}",
	  1, "t.yaml:4:13: section 'a' closed by '/b'" },
	{ "unclosed tag", "ab {{x",
	  1, "t.yaml:3:13: unclosed tag" },
	{ "unclosed triple", "{{{x}}",
	  1, "t.yaml:3:10: unclosed tag ('{' wants '}}}')" },
	{ "empty tag name", "\n\n{{}} {{ }} {{#}}",
	  1, "t.yaml:5:5: empty tag name | t.yaml:5:10: empty tag name | "
	  "t.yaml:5:16: empty tag name" },
	{ "invalid names", "{{a b}}{{a..b}}{{.a}}{{>p q}}",
	  1, "t.yaml:3:10: invalid tag name 'a b' | "
	  "t.yaml:3:17: invalid tag name 'a..b' | "
	  "t.yaml:3:25: invalid tag name '.a' | "
	  "t.yaml:3:31: invalid tag name 'p q'" },
	{ "bad set-delimiter tags", "{{=<%=}}\n{{=a b c=}}\n{{=}}",
	  1, "t.yaml:3:10: bad set-delimiter tag (want =OPEN CLOSE=) | "
	  "t.yaml:4:5: bad set-delimiter tag (want =OPEN CLOSE=) | "
	  "t.yaml:5:5: bad set-delimiter tag (want =OPEN CLOSE=)" },
	{ "close without open", "a\n{{/x}}",
	  1, "t.yaml:4:5: '/x' closes no open section" },
	{ "columns count characters", "é€{{}}",
	  1, "t.yaml:3:12: empty tag name" },
	{ "every error at once", "{{}}\n{{#a}}\n  {{/b}} {{#c}}",
	  1, "t.yaml:3:10: empty tag name | "
	  "t.yaml:5:7: section 'a' closed by '/b' | "
	  "t.yaml:5:14: unclosed section 'c'" },
	{ "after new delimiters", "{{=[ ]=}}\n [#a]",
	  1, "t.yaml:4:6: unclosed section 'a'" },
	{ "unknown partial when strict", "x\n {{>nope}}\n{{>nope}}",
	  1, "t.yaml:4:6: unknown partial 'nope' | t.yaml:5:5: unknown partial 'nope'" },
	{ "error inside a partial", "x {{>bad}}",
	  0, "bad:2:1: unclosed section 'x'" },
	{ "partial recursion", "{{>self}}",
	  0, "self:1:1: partials nested too deeply (recursion?)" },
	{ "mutual recursion", "{{>ping}}",
	  0, "pong:1:1: partials nested too deeply (recursion?)" },
	{ "control bytes in names", "{{#a\x01}}",
	  1, "t.yaml:3:10: unclosed section 'a?'" },
};

static void
test_error_cases(void)
{
	struct tmpl_opts o;
	char *got, *want;
	size_t i;

	for (i = 0; i < ARRAY_LEN(error_cases); i++) {
		test_opts(&o, TMPL_ESCAPE_HTML, error_cases[i].strict);
		got = test_render(error_cases[i].tmpl, "{}", &o);
		want = xasprintf("ERR: %s", error_cases[i].want);
		is_str(got, want, error_cases[i].name);
		free(got);
		free(want);
	}
}

/* A file's position: later lines start at column 1 (indent 0). */
static void
test_whole_file(void)
{
	struct tmpl_opts o;
	char *got;

	test_opts(&o, TMPL_ESCAPE_HTML, 1);
	o.pos.file = "partials/footer.mustache";
	o.pos.line = 0;
	o.pos.col = 0;
	o.pos.indent = 0;
	got = test_render("a\n\n  {{#x}}", "{}", &o);
	is_str(got, "ERR: partials/footer.mustache:3:3: unclosed section 'x'",
	    "whole file: line 3, column 3");
	free(got);
	o.pos.file = NULL;
	got = test_render("{{#x}}", "{}", &o);
	is_str(got, "ERR: unclosed section 'x'", "no file: no position");
	free(got);
}

static void
test_output_buffer(void)
{
	struct tmpl_opts o;
	struct buf out = BUF_INIT;
	struct diag d;

	diag_init(&d, EXIT_DATAERR);
	test_opts(&o, TMPL_ESCAPE_NONE, 1);
	buf_adds(&out, "keep ");
	is_int(tmpl_render("more", 4, NULL, &o, &out, &d), 0, "render appends");
	is_str(buf_str(&out), "keep more", "appended after what was there");
	is_int(tmpl_render("x{{>nope}}y", 11, NULL, &o, &out, &d), -1,
	    "strict unknown partial fails");
	is_str(buf_str(&out), "keep more", "a failed render leaves out as it was");
	is_int(tmpl_render("x{{>hello}}", 11, NULL, NULL, &out, &d), 0,
	    "NULL options: no partials");
	is_str(buf_str(&out), "keep morex", "NULL options: nothing escaped");
	is_int(tmpl_render(NULL, 0, NULL, &o, &out, &d), 0, "NULL, 0 is empty");
	buf_free(&out);
	diag_free(&d);
}

static void
test_loads_once(void)
{
	struct tmpl_opts o;
	char *got;

	test_opts(&o, TMPL_ESCAPE_NONE, 1);
	loads = 0;
	got = test_render("{{#l}}{{>hello}}{{>nope}}{{/l}}", "l: [{name: a}, {name: b}]",
	    &o);
	is_str(got, "ERR: t.yaml:3:26: unknown partial 'nope'",
	    "an unknown partial is reported once per tag");
	is_int(loads, 2, "each partial loaded once per render");
	free(got);
}

static int
test_check(const char *tmpl, int strict, char **errs)
{
	struct tmpl_opts o;
	struct diag d;
	int rc;

	test_opts(&o, TMPL_ESCAPE_HTML, strict);
	diag_init(&d, EXIT_DATAERR);
	rc = tmpl_check(tmpl, strlen(tmpl), &o, &d);
	*errs = test_errors(&d);
	diag_free(&d);
	return rc;
}

static void
test_check_cases(void)
{
	char *e;

	is_int(test_check("{{#a}}{{>hello}}{{/a}}{{>outer}}", 1, &e), 0,
	    "check: good template");
	is_str(e, "", "check: no errors");
	free(e);
	is_int(test_check("{{#a}}{{/b}}", 0, &e), -1, "check: syntax");
	is_str(e, "t.yaml:3:16: section 'a' closed by '/b'", "check: syntax error");
	free(e);
	is_int(test_check("{{^yes}}{{>hidden}}{{/yes}}", 0, &e), -1,
	    "check: a partial in any branch is checked");
	is_str(e, "hidden:1:1: '/oops' closes no open section",
	    "check: the partial's error and position");
	free(e);
	loads = 0;
	is_int(test_check("{{>ping}}{{>ping}}{{>self}}{{>twice}}", 1, &e), -1,
	    "check: recursive partials terminate");
	is_str(e, "pong:1:10: unknown partial 'nope'",
	    "check: unknown partial deep in a chain");
	is_int(loads, 5, "check: each partial loaded once");
	free(e);
	is_int(test_check("{{>ping}}", 0, &e), 0, "check: lenient unknown partial");
	free(e);
	is_int(test_check("{{>bad}}", 0, &e), -1, "check: a partial's syntax");
	is_str(e, "bad:2:1: unclosed section 'x'", "check: error in a partial");
	free(e);
}

/* n nested sections named s, each "{{#s}}", then "x", then n closes. */
static char *
test_nest(int n, const char *open, const char *close)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < n; i++)
		buf_adds(&b, open);
	buf_adds(&b, "x");
	for (i = 0; i < n; i++)
		buf_adds(&b, close);
	return buf_detach(&b);
}

static void
test_limits(void)
{
	struct tmpl_opts o;
	struct buf yaml = BUF_INIT;
	char *t, *got, *data;
	int i;

	test_opts(&o, TMPL_ESCAPE_NONE, 1);
	t = test_nest(TMPL_MAX_SECTIONS, "{{#s}}", "{{/s}}");
	got = test_render(t, "s: true", &o);
	is_str(got, "x", "100 nested sections render");
	free(got);
	free(t);
	t = test_nest(TMPL_MAX_SECTIONS + 1, "{{#s}}", "{{/s}}");
	got = test_render(t, "s: true", &o);
	is_str(got, "ERR: t.yaml:3:610: sections nested too deeply (more than 100)",
	    "101 nested sections are an error, once");
	free(got);
	free(t);
	t = test_nest(100000, "{{^s}}", "");
	got = test_render(t, "{}", &o);
	ok(strstr(got, "sections nested too deeply") != NULL,
	    "100000 open sections: an error, no crash");
	free(got);
	free(t);
	t = test_nest(30, "{{#l}}", "{{/l}}");
	got = test_render(t, "l: [1, 2]", &o);
	ok(strncmp(got, "ERR: t.yaml:3:", 14) == 0 && strstr(got,
	    ": template takes more than 4194304 steps to render (runaway loop?)"),
	    "2^30 passes stop at the step limit");
	free(got);
	free(t);
	buf_adds(&yaml, "l: [");
	for (i = 0; i < 30; i++)
		buf_adds(&yaml, i ? ", 1" : "1");
	buf_adds(&yaml, "]\nx: ");
	for (i = 0; i < 20000; i++)
		buf_addc(&yaml, 'x');
	data = buf_detach(&yaml);
	got = test_render("{{#l}}{{#l}}{{#l}}{{x}}{{/l}}{{/l}}{{/l}}", data, &o);
	is_str(got, "ERR: t.yaml:3:28: rendered text longer than 16777216 bytes",
	    "30^3 copies of 20000 bytes stop at the output limit");
	free(got);
	free(data);
}

/* strict_names: what no data supplies is an error at its tag, with the name meant. */
static const struct {
	const char *name, *tmpl, *data, *want;
} strict_cases[] = {
	{ "a known name renders", "{{s.name}}", "s: {name: Ana}", "Ana" },
	{ "a misspelt key of a map", "{{s.nmae}}", "s: {name: Ana}",
	  "ERR: t.yaml:3:10: unknown name 's.nmae' (did you mean 's.name'?)" },
	{ "a key inside the name", "{{s.firstname}}", "s: {name: Ana}",
	  "ERR: t.yaml:3:10: unknown name 's.firstname' (did you mean 's.name'?)" },
	{ "a first part up the stack", "{{#s}}{{tilte}}{{/s}}", "s: {title: T}\nn: 1",
	  "ERR: t.yaml:3:16: unknown name 'tilte' (did you mean 'title'?)" },
	{ "nothing near", "{{zzzz}}", "s: 1",
	  "ERR: t.yaml:3:10: unknown name 'zzzz'" },
	{ "a section on an unknown name", "{{#cnotact}}x{{/cnotact}}", "contact: c",
	  "ERR: t.yaml:3:10: unknown name 'cnotact' (did you mean 'contact'?)" },
	{ "past a scalar", "{{s.name.x}}", "s: {name: Ana}",
	  "ERR: t.yaml:3:10: unknown name 's.name.x'" },
	{ "the implicit iterator", "{{#l}}{{.}}{{/l}}", "l: [a, b]", "ab" },
};

static void
test_strict_names(void)
{
	struct tmpl_opts o;
	char *got;
	size_t i;

	test_opts(&o, TMPL_ESCAPE_NONE, 1);
	o.strict_names = 1;
	for (i = 0; i < ARRAY_LEN(strict_cases); i++) {
		got = test_render(strict_cases[i].tmpl, strict_cases[i].data, &o);
		is_str(got, strict_cases[i].want, strict_cases[i].name);
		free(got);
	}
	test_opts(&o, TMPL_ESCAPE_NONE, 1);
	got = test_render("[{{s.nmae}}]", "s: {name: Ana}", &o);
	is_str(got, "[]", "without strict_names a missing name renders empty (the spec)");
	free(got);
}

int
main(void)
{
	test_render_cases();
	test_strict_names();
	test_error_cases();
	test_whole_file();
	test_output_buffer();
	test_loads_once();
	test_check_cases();
	test_limits();
	return done_testing();
}
