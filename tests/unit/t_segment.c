/* t_segment.c - segment.c: `where` parsed with positions, --where, combining, the journal form, matching. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "render.h"
#include "segment.h"
#include "yamltree.h"

/*
 * Parses `yaml` and its `where` key; returns segment_from_yaml's result,
 * the first error in err. The keys' nodes belong to the document: freed
 * here unless keep takes it.
 */
static int
from_yaml_keep(const char *yaml, struct segment *sg, char *err, size_t errlen,
    struct ydoc **keep)
{
	struct diag d;
	struct ydoc *doc;
	int rc;

	diag_init(&d, EXIT_DATAERR);
	err[0] = '\0';
	if ((doc = ydoc_load_mem("r.yaml", yaml, strlen(yaml), &d)) == NULL) {
		snprintf(err, errlen, "%s", d.n ? d.items[0].text : "no document");
		diag_free(&d);
		memset(sg, 0, sizeof(*sg));
		return -2;
	}
	rc = segment_from_yaml(sg, ynode_get(ydoc_root(doc), "where"), &d);
	if (d.n)
		snprintf(err, errlen, "%s", d.items[0].text);
	if (rc == 0 && d.errors)
		rc = -3;	/* an error without -1 would be a bug */
	diag_free(&d);
	if (keep != NULL)
		*keep = doc;
	else
		ydoc_free(doc);
	return rc;
}

static int
from_yaml(const char *yaml, struct segment *sg, char *err, size_t errlen)
{
	return from_yaml_keep(yaml, sg, err, errlen, NULL);
}

static char *
describe(const struct segment *sg)
{
	struct buf b = BUF_INIT;

	segment_describe(sg, &b);
	return buf_detach(&b);
}

static void
test_yaml(void)
{
	struct segment sg, copy;
	struct ydoc *doc;
	char err[512], *s;

	is_int(from_yaml_keep("title: x\nwhere: { beat: [energy, climate], region: americas }\n",
	    &sg, err, sizeof(err), &doc), 0, "a mapping of a list and a value is a segment");
	is_int((long long)sg.nkeys, 2, "two keys");
	s = describe(&sg);
	is_str(s, "beat=energy|climate region=americas", "described in file order");
	free(s);
	ok(sg.keys[0].node != NULL && sg.keys[0].node->line == 2 && sg.keys[0].node->col == 10,
	    "each key keeps its position (2:10)");
	segment_combine(&copy, &sg, NULL);
	ok(copy.nkeys == 2 && copy.keys[0].node == NULL && copy.keys[1].node == NULL,
	    "a copy keeps no node of the tree it may outlive");
	segment_free(&copy);
	ydoc_free(doc);
	segment_free(&sg);
	ok(sg.nkeys == 0 && sg.keys == NULL, "segment_free empties it");
	segment_free(&sg);
	segment_free(NULL);

	is_int(from_yaml("title: x\n", &sg, err, sizeof(err)), 0, "no where: no segment");
	is_int((long long)sg.nkeys, 0, "and no keys");

	is_int(from_yaml("where: { year: 2017, on: true, n: \"2017\" }\n", &sg, err, sizeof(err)),
	    0, "numbers and booleans are values, as text");
	s = describe(&sg);
	is_str(s, "year=2017 on=true n=2017", "kept as written");
	free(s);
	segment_free(&sg);
}

static const struct {
	const char *yaml, *error;	/* the first error, "FILE:LINE:COL: ..." start */
} bad_yaml[] = {
	{ "where: [beat]\n", "r.yaml:1:8: expected a mapping of subscriber fields" },
	{ "where: energy\n", "r.yaml:1:8: expected a mapping of subscriber fields" },
	{ "where: {}\n", "r.yaml:1:8: 'where' names no field" },
	{ "where:\n  beat: []\n", "r.yaml:2:9: 'beat' in 'where' is an empty list" },
	{ "where:\n  beat: { a: b }\n", "r.yaml:2:9: expected a value for 'beat' in 'where', got a mapping" },
	{ "where:\n  beat: [a, [b]]\n", "r.yaml:2:13: expected a value for 'beat' in 'where', got a list" },
	{ "where:\n  beat: [a, { b: c }]\n", "r.yaml:2:13: expected a value for 'beat'" },
	{ "where:\n  beat: ~\n", "r.yaml:2:9: 'beat' in 'where' has no value" },
	{ "where:\n  beat:\n", "r.yaml:2:8: 'beat' in 'where' has no value" },
	{ "where:\n  beat: \"\"\n", "r.yaml:2:9: 'beat' in 'where' has no value" },
	{ "where:\n  beat: [a, ~]\n", "r.yaml:2:13: 'beat' in 'where' has no value" },
	{ "where:\n  \"\": x\n", "r.yaml:2:3: an empty key in 'where'" },
	{ "where:\n  \"a b\": x\n", "r.yaml:2:3: 'a b' in 'where' holds '=' or a space" },
	{ "where:\n  \"a=b\": x\n", "r.yaml:2:3: 'a=b' in 'where' holds '=' or a space" },
	{ "where:\n  tz: UTC\n", "r.yaml:2:3: 'tz' in 'where' is no subscriber field" },
	{ "where:\n  delivery: each\n", "r.yaml:2:3: 'delivery' in 'where' is no subscriber field" },
	{ "where:\n  lang: es\n", "r.yaml:2:3: 'lang' in 'where' is no subscriber field" },
	{ "where:\n  beat: \"a\\nb\"\n", "r.yaml:2:9: the value of 'beat' in 'where' holds a line break" },
	{ "where:\n  \"a\\tb\": x\n", "r.yaml:2:3: 'a\tb' in 'where' holds '=' or a space" },
};

static void
test_bad_yaml(void)
{
	struct segment sg;
	char err[512];
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(bad_yaml); i++) {
		rc = from_yaml(bad_yaml[i].yaml, &sg, err, sizeof(err));
		ok(rc == -1 && strncmp(err, bad_yaml[i].error, strlen(bad_yaml[i].error)) == 0,
		    "bad where %zu: %s", i, bad_yaml[i].error);
		if (rc != -1 || strncmp(err, bad_yaml[i].error, strlen(bad_yaml[i].error)) != 0)
			tap_diag("rc %d, got: %s", rc, err);
		ok(sg.nkeys == 0 && sg.keys == NULL, "bad where %zu leaves no segment", i);
	}
}

static void
test_args(void)
{
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{ "beat", "is not KEY=VALUE" },
		{ "=energy", "the key is empty" },
		{ "beat=", "the value is empty" },
		{ "a b=c", "the key holds '=' or a space" },
		{ "tz=UTC", "the key is no subscriber field" },
		{ "beat=a\nb", "the value holds a control character" },
	};
	struct segment sg;
	char err[256], *s;
	size_t i;

	memset(&sg, 0, sizeof(sg));
	ok(segment_add_arg(&sg, "beat=energy", err, sizeof(err)) == 0 &&
	    segment_add_arg(&sg, "region=americas", err, sizeof(err)) == 0 &&
	    segment_add_arg(&sg, "beat=climate", err, sizeof(err)) == 0 &&
	    segment_add_arg(&sg, "beat=energy", err, sizeof(err)) == 0 &&
	    segment_add_arg(&sg, "note=a=b", err, sizeof(err)) == 0,
	    "KEY=VALUE pairs are taken");
	s = describe(&sg);
	is_str(s, "beat=energy|climate region=americas note=a=b",
	    "a repeated key adds a value (once); a value may hold '='");
	free(s);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		ok(segment_add_arg(&sg, bad[i].arg, err, sizeof(err)) == -1 &&
		    strstr(err, bad[i].why) != NULL, "--where case %zu is refused: %s", i,
		    bad[i].why);
		if (strstr(err, bad[i].why) == NULL)
			tap_diag("got: %s", err);
	}
	is_int((long long)sg.nkeys, 3, "and refused ones add nothing");
	segment_free(&sg);
}

static void
test_combine_text(void)
{
	struct segment rel, cli, out, back;
	char err[512], *s, *text;

	from_yaml("where: { beat: [energy, climate], region: americas }\n", &rel, err, sizeof(err));
	memset(&cli, 0, sizeof(cli));
	segment_add_arg(&cli, "region=europe", err, sizeof(err));
	segment_add_arg(&cli, "org=Reuters", err, sizeof(err));
	segment_combine(&out, &rel, &cli);
	s = describe(&out);
	is_str(s, "beat=energy|climate region=europe org=Reuters",
	    "--where's key replaces the release's in place, a new key is added");
	free(s);

	text = segment_text(&out);
	is_str(text, "beat=energy\nbeat=climate\nregion=europe\norg=Reuters\n",
	    "the text form: one KEY=VALUE a line");
	free(text);

	segment_combine(&back, NULL, NULL);
	text = segment_text(&back);
	is_str(text, "", "no segment: the empty text");
	free(text);

	segment_combine(&back, &rel, NULL);
	s = describe(&back);
	is_str(s, "beat=energy|climate region=americas", "without --where: the release's own");
	free(s);
	segment_free(&back);
	segment_combine(&back, NULL, &cli);
	s = describe(&back);
	is_str(s, "region=europe org=Reuters", "without where: --where's");
	free(s);
	segment_free(&back);
	segment_free(&rel);
	segment_free(&cli);
	segment_free(&out);
}

/* A subscriber's fields mapping and the same packed, from "k=v" pairs. */
static void
subscriber(struct ydoc *doc, struct ynode **fields, struct buf *packed, const char *const *kv)
{
	char *k, *eq;

	*fields = ynode_map(doc);
	for (; *kv; kv++) {
		k = xstrdup(*kv);
		eq = strchr(k, '=');
		*eq = '\0';
		ynode_map_set(doc, *fields, k, ynode_str(doc, eq + 1));
		free(k);
	}
	buf_reset(packed);
	render_fields_pack(*fields, packed);
}

static void
test_match(void)
{
	static const struct {
		const char *subscriber[5];
		int in;
		const char *why;
	} cases[] = {
		{ { "email=a@x", "beat=energy", "region=americas", NULL }, 1, "one of the values, and the other key" },
		{ { "email=a@x", "beat=climate", "region=americas", NULL }, 1, "the other value" },
		{ { "email=a@x", "beat=energy", "region=europe", NULL }, 0, "one key not matching" },
		{ { "email=a@x", "region=americas", NULL }, 0, "without the field: left out" },
		{ { "email=a@x", "beat=Energy", "region=americas", NULL }, 0, "case matters" },
		{ { "email=a@x", "beat=energy ", "region=americas", NULL }, 0, "exact text: no trimming" },
		{ { "email=a@x", "beat=sports", "region=americas", NULL }, 0, "another value" },
		{ { "email=a@x", "beat=energy", "region=americas", "org=Y", NULL }, 1, "other fields do not matter" },
	};
	struct segment sg, none;
	struct ydoc *doc = ydoc_new("t");
	struct ynode *fields;
	struct buf packed = BUF_INIT;
	char err[512];
	size_t i;

	from_yaml("where: { beat: [energy, climate], region: americas }\n", &sg, err, sizeof(err));
	memset(&none, 0, sizeof(none));
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		subscriber(doc, &fields, &packed, cases[i].subscriber);
		is_int(segment_match_fields(&sg, fields), cases[i].in, cases[i].why);
		is_int(segment_match_packed(&sg, packed.data, packed.len), cases[i].in,
		    "the same from the packed fields");
		ok(segment_match_fields(&none, fields) && segment_match_packed(&none, packed.data,
		    packed.len), "an empty segment keeps everyone");
		ydoc_clear(doc);
	}
	ok(!segment_match_packed(&sg, NULL, 0), "no fields at all: left out");
	ok(!segment_match_packed(&sg, "beat\0energy\0region", 18), "a truncated blob ends the lookup");
	ok(segment_match_packed(&none, NULL, 0), "but an empty segment keeps them");
	buf_free(&packed);
	ydoc_free(doc);
	segment_free(&sg);
}

static char *
set_describe(const struct segment_set *set)
{
	struct buf b = BUF_INIT;

	segment_set_describe(set, &b);
	return buf_detach(&b);
}

static void
test_sets(void)
{
	struct segment a, b, none;
	struct segment_set set, back;
	struct ydoc *doc = ydoc_new("t");
	struct ynode *fields;
	struct buf packed = BUF_INIT;
	char err[256], *text, *s;
	static const char *const europe[] = { "email=x@y", "beat=energy", "region=europe", NULL };
	static const char *const asia[] = { "email=x@y", "beat=energy", "region=asia", NULL };

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&none, 0, sizeof(none));
	segment_add_arg(&a, "beat=energy", err, sizeof(err));
	segment_add_arg(&a, "region=americas", err, sizeof(err));
	segment_add_arg(&b, "region=europe", err, sizeof(err));
	segment_add_arg(&b, "beat=energy", err, sizeof(err));

	segment_set_one(&set, &a);
	text = segment_set_text(&set);
	is_str(text, "beat=energy\nregion=americas\n\n", "a set of one: its text and an empty line");
	free(text);
	segment_set_add(&set, &b);
	segment_set_add(&set, &a);
	is_int((long long)set.n, 2, "a second segment joins, the first again does not");
	text = segment_set_text(&set);
	is_str(text, "beat=energy\nregion=americas\n\nregion=europe\nbeat=energy\n\n",
	    "the journal's text of two");
	is_int(segment_set_parse(&back, text), 0, "parses back");
	s = set_describe(&back);
	is_str(s, "beat=energy region=americas, or region=europe beat=energy", "to the same two");
	free(s);
	free(text);

	subscriber(doc, &fields, &packed, europe);
	ok(segment_set_match_fields(&back, fields) && segment_set_match_packed(&back, packed.data,
	    packed.len), "a subscriber in the second segment is in the set");
	ydoc_clear(doc);
	subscriber(doc, &fields, &packed, asia);
	ok(!segment_set_match_fields(&back, fields) && !segment_set_match_packed(&back,
	    packed.data, packed.len), "one in neither is not");
	segment_set_free(&back);

	segment_set_add(&set, &none);
	is_int((long long)set.n, 0, "a send without a segment makes the set everyone");
	text = segment_set_text(&set);
	is_str(text, "", "whose text is empty");
	free(text);
	ok(segment_set_match_packed(&set, packed.data, packed.len), "and everyone is in it");
	segment_set_add(&set, &a);
	is_int((long long)set.n, 0, "everyone absorbs a later segment");
	segment_set_one(&set, &none);
	is_int((long long)set.n, 0, "the set of no segment is everyone");

	is_int(segment_set_parse(&back, ""), 0, "the empty text parses");
	ok(back.n == 0, "as everyone");
	is_int(segment_set_parse(&back, "beat=energy\n"), -1, "a segment without its empty line is refused");
	is_int(segment_set_parse(&back, "beat=energy"), -1, "and a line without its newline");
	is_int(segment_set_parse(&back, "\n"), -1, "and an empty segment");
	is_int(segment_set_parse(&back, "beat\n\n"), -1, "and a line without '='");
	is_int(segment_set_parse(&back, "beat=a\n\nregion=b\n"), -1, "and a second one unended");
	ok(back.n == 0 && back.v == NULL, "leaving an empty set");
	segment_set_free(&back);
	segment_set_free(NULL);

	buf_free(&packed);
	ydoc_free(doc);
	segment_free(&a);
	segment_free(&b);
}

int
main(void)
{
	test_yaml();
	test_bad_yaml();
	test_args();
	test_combine_text();
	test_match();
	test_sets();
	return done_testing();
}
