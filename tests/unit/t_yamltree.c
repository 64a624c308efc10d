/* yamltree: positions, styles, anchors and aliases, errors. */
#include <string.h>

#include "tap.h"
#include "yamltree.h"

static struct ydoc *
load(const char *text, struct diag *d)
{
	diag_init(d, EXIT_DATAERR);
	return ydoc_load_mem("t.yaml", text, strlen(text), d);
}

static void
test_positions(void)
{
	struct diag d;
	struct ydoc *doc = load("a: 1\nb:\n  - x\n  - 'y z'\nc: {k: \"v\"}\n", &d);
	struct ynode *root = doc ? ydoc_root(doc) : NULL, *n;

	ok(doc != NULL && d.errors == 0, "block and flow styles load");
	if (root == NULL)
		return;
	n = ynode_get(root, "b");
	is_int(n->kind, YNODE_SEQ, "b is a list");
	is_int(n->line, 3, "b's list starts on line 3");
	is_int(n->items[1]->line, 4, "second item line");
	is_int(n->items[1]->col, 5, "second item column");
	is_int(n->items[1]->text_col, 6, "quoted text starts after the quote");
	is_str(n->items[1]->str, "y z", "single-quoted value");
	n = ynode_get(ynode_get(root, "c"), "k");
	is_str(n ? n->str : NULL, "v", "flow mapping value");
	is_int(n->style, YSTYLE_DOUBLE, "double-quoted style");
	is_int(n->col, 8, "flow value column");
	ydoc_free(doc);
	diag_free(&d);
}

static void
test_block_scalars(void)
{
	struct diag d;
	struct ydoc *doc = load("title: x\nbody: |\n\n    Hello\n    World\nfold: >\n  a\n  b\n", &d);
	struct ynode *n;

	ok(doc != NULL, "block scalars load");
	if (doc == NULL)
		return;
	n = ynode_get(ydoc_root(doc), "body");
	is_str(n->str, "\nHello\nWorld\n", "literal keeps lines");
	is_int(n->style, YSTYLE_LITERAL, "literal style");
	is_int(n->text_line, 3, "text starts on the line after the indicator");
	is_int(n->text_col, 5, "text column is the indentation + 1");
	n = ynode_get(ydoc_root(doc), "fold");
	is_str(n->str, "a b\n", "folded joins lines");
	ydoc_free(doc);
	diag_free(&d);
}

static void
test_anchors(void)
{
	struct diag d;
	struct ydoc *doc = load("base: &b {x: 1}\nuse: *b\nname: &n Zoë\nagain: *n\n", &d);
	struct ynode *root;

	ok(doc != NULL, "anchors and aliases load");
	if (doc == NULL)
		return;
	root = ydoc_root(doc);
	ok(ynode_get(root, "use") == ynode_get(root, "base"), "alias shares the anchored node");
	is_str(ynode_get(root, "again")->str, "Zoë", "UTF-8 scalar through an alias");
	ydoc_free(doc);
	diag_free(&d);

	doc = load("a: &x [1, *x]\n", &d);
	ok(doc == NULL, "an alias inside its own anchor is refused");
	ok(d.n == 1 && strstr(d.items[0].text, "t.yaml:1:11: alias '*x' names no anchor") != NULL,
	    "recursive alias error: %s", d.n ? d.items[0].text : "");
	diag_free(&d);
}

static void
test_errors(void)
{
	struct diag d;
	struct ydoc *doc;

	doc = load("a: 1\nb: [1, 2\n", &d);
	ok(doc == NULL && d.n == 1, "unclosed flow sequence fails");
	ok(d.n && strncmp(d.items[0].text, "t.yaml:3:1: bad YAML: did not find expected ',' or ']'", 54) == 0,
	    "syntax error names file:line:col: %s", d.n ? d.items[0].text : "");
	diag_free(&d);

	doc = load("a: 1\nb: 2\na: 3\n", &d);
	ok(doc == NULL, "duplicate key fails");
	is_str(d.n ? d.items[0].text : NULL, "t.yaml:3:1: duplicate key 'a' (first at line 1)",
	    "duplicate key message");
	diag_free(&d);

	doc = load("a: 1\n---\nb: 2\n", &d);
	ok(doc == NULL && d.n == 1, "two documents fail");
	diag_free(&d);

	doc = load("? [a]\n: 1\n", &d);
	ok(doc == NULL && d.n == 1 && strstr(d.items[0].text, "expected a plain key"), "complex key refused");
	diag_free(&d);

	doc = load("", &d);
	ok(doc != NULL && ydoc_root(doc) == NULL, "empty file is an empty document");
	ydoc_free(doc);
	diag_free(&d);
}

/*
 * Big mappings find duplicates through a hash table: the same messages
 * and lines as the scan of small ones, and every key still found.
 */
static void
test_many_keys(void)
{
	static const size_t sizes[] = { 2, 8, 9, 33, 5000 };
	struct buf b = BUF_INIT;
	struct ydoc *doc;
	struct diag d;
	char want[128], key[32];
	size_t i, k, found;

	for (i = 0; i < ARRAY_LEN(sizes); i++) {
		buf_free(&b);
		for (k = 0; k < sizes[i]; k++)
			buf_addf(&b, "k%zu: %zu\n", k, k);
		doc = load(buf_str(&b), &d);
		for (k = 0, found = 0; doc != NULL && k < sizes[i]; k++) {
			snprintf(key, sizeof(key), "k%zu", k);
			found += ynode_get(ydoc_root(doc), key) != NULL;
		}
		ok(doc != NULL && found == sizes[i], "%zu keys: all found", sizes[i]);
		ydoc_free(doc);
		diag_free(&d);
		buf_addf(&b, "k%zu: again\n", sizes[i] / 2);
		doc = load(buf_str(&b), &d);
		snprintf(want, sizeof(want), "t.yaml:%zu:1: duplicate key 'k%zu' (first at line %zu)",
		    sizes[i] + 1, sizes[i] / 2, sizes[i] / 2 + 1);
		ok(doc == NULL && d.n == 1, "%zu keys and a repeat: one error", sizes[i]);
		ok(d.n && strcmp(d.items[0].text, want) == 0, "%zu keys: the repeat's message: %s",
		    sizes[i], d.n ? d.items[0].text : "(none)");
		diag_free(&d);
	}
	buf_free(&b);

	/* The first key is the one with that name, even when its value is an alias. */
	doc = load("a: &x 1\nb: *x\nb: 2\n", &d);
	is_str(d.n ? d.items[0].text : NULL, "t.yaml:3:1: duplicate key 'b' (first at line 2)",
	    "a repeated key whose first value is an alias");
	diag_free(&d);
}

/*
 * A node a little too deep is read past (test_stream_after_error); one
 * hundreds of levels deep stops the reading, since libyaml's time grows
 * with the square of the depth it reads through.
 */
static void
test_depth_halts(void)
{
	static const size_t depths[] = { 100, 300, 20000 };
	struct buf b = BUF_INIT;
	struct ydoc *doc;
	yaml_parser_t p;
	yaml_event_t ev;
	struct diag d;
	struct ynode *n;
	size_t i, k;
	int halted;

	for (i = 0; i < ARRAY_LEN(depths); i++) {
		buf_free(&b);
		buf_addf(&b, "- ");
		for (k = 0; k < depths[i]; k++)
			buf_addf(&b, "[");
		doc = ydoc_new("s.yaml");
		diag_init(&d, EXIT_DATAERR);
		yaml_parser_initialize(&p);
		yaml_parser_set_input_string(&p, (const unsigned char *)buf_str(&b), b.len);
		while (yaml_parser_parse(&p, &ev) && ev.type != YAML_SEQUENCE_START_EVENT)
			yaml_event_delete(&ev);
		yaml_event_delete(&ev);
		yaml_parser_parse(&p, &ev);
		n = ydoc_build(doc, &p, &ev, &d, &halted);
		ok(n == NULL && halted && d.n >= 1, "%zu open '[': reading stops", depths[i]);
		ok(d.n && strcmp(d.items[0].text, "s.yaml:1:68: nesting too deep (over 64 levels)") == 0,
		    "%zu open '[': the first level too deep: %s", depths[i],
		    d.n ? d.items[0].text : "(none)");
		ok(depths[i] < 300 || (d.n == 1 && p.mark.index < 2000),
		    "%zu open '[': one error, and libyaml stopped early (at byte %zu)", depths[i],
		    p.mark.index);
		yaml_parser_delete(&p);
		ydoc_free(doc);
		diag_free(&d);
	}
	buf_free(&b);
}

static void
test_depth(void)
{
	struct diag d;
	char deep[400];
	struct ydoc *doc;

	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	doc = ydoc_load_mem("t.yaml", deep, sizeof(deep), (diag_init(&d, 65), &d));
	ok(doc == NULL && diag_has(&d, "nesting too deep"), "deep nesting is refused");
	diag_free(&d);
}

/* A node with a semantic error is still read to its end: streaming goes on. */
static void
test_stream_after_error(void)
{
	static const char *const inputs[] = {
		"- {a: *nope, b: c}\n- next\n",
		"- {a: 1, a: 2, b: [x, y]}\n- next\n",
		"- [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n- next\n",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(inputs); i++) {
		struct ydoc *doc = ydoc_new("s.yaml");
		yaml_parser_t p;
		yaml_event_t ev;
		struct diag d;
		struct ynode *n;
		int seen = 0;

		diag_init(&d, EXIT_DATAERR);
		yaml_parser_initialize(&p);
		yaml_parser_set_input_string(&p, (const unsigned char *)inputs[i], strlen(inputs[i]));
		while (yaml_parser_parse(&p, &ev) && ev.type != YAML_SEQUENCE_START_EVENT)
			yaml_event_delete(&ev);
		yaml_event_delete(&ev);
		yaml_parser_parse(&p, &ev);
		n = ydoc_build(doc, &p, &ev, &d, NULL);
		ok(n == NULL && d.errors == 1 && p.error == YAML_NO_ERROR,
		    "case %zu: the bad item is reported once", i);
		if (yaml_parser_parse(&p, &ev)) {
			seen = ev.type == YAML_SCALAR_EVENT &&
			    strcmp((const char *)ev.data.scalar.value, "next") == 0;
			yaml_event_delete(&ev);
		}
		ok(seen, "case %zu: the next event is the next item", i);
		yaml_parser_delete(&p);
		ydoc_free(doc);
		diag_free(&d);
	}
}

static void
test_builders(void)
{
	struct ydoc *doc = ydoc_new("built");
	struct ynode *m = ynode_map(doc), *s = ynode_seq(doc);
	int b = -1;

	ynode_map_set(doc, m, "k", ynode_str(doc, "v1"));
	ynode_map_set(doc, m, "k", ynode_str(doc, "v2"));
	ynode_seq_push(s, ynode_str(doc, "x"));
	ynode_map_set(doc, m, "list", s);
	is_int(m->n, 2, "set replaces an existing key");
	is_str(ynode_get(m, "k")->str, "v2", "replaced value");
	ok(!ynode_bool(ynode_str(doc, "false"), &b), "a built string is never a boolean");
	ydoc_free(doc);
}

int
main(void)
{
	test_positions();
	test_block_scalars();
	test_anchors();
	test_errors();
	test_depth();
	test_depth_halts();
	test_many_keys();
	test_stream_after_error();
	test_builders();
	return done_testing();
}
