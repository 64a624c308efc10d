/* t_list.c - list_load on the fixtures in tests/data/lists/: what it streams, what it reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#include "list.h"
#include "util.h"

#define DIR "tests/data/lists/"

struct got {
	char *email, *name, *tz, *org, *lang;
	enum delivery delivery;
	unsigned line, col;
	size_t nfields;
};

struct collect {
	struct got *subs;
	size_t n, cap;
	size_t stop_after;	/* 0: never stop */
};

static int
collect_fn(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct collect *c = arg;
	struct got *g;
	struct ynode *org;

	(void)info;
	c->subs = xgrow(c->subs, &c->cap, c->n + 1, sizeof(*c->subs));
	g = &c->subs[c->n++];
	g->email = xstrdup(s->email);
	g->name = s->name ? xstrdup(s->name) : NULL;
	g->tz = s->tz ? xstrdup(s->tz) : NULL;
	g->lang = s->lang ? xstrdup(s->lang) : NULL;
	org = ynode_get(s->fields, "org");
	g->org = org ? xstrdup(org->str) : NULL;
	g->delivery = s->delivery;
	g->line = s->line;
	g->col = s->col;
	g->nfields = s->fields->n;
	/* Callbacks may add to the subscriber's document. */
	ynode_map_set(s->doc, s->fields, "added", ynode_str(s->doc, "by the callback"));
	return c->stop_after && c->n >= c->stop_after;
}

static void
collect_free(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->subs[i].email);
		free(c->subs[i].name);
		free(c->subs[i].tz);
		free(c->subs[i].lang);
		free(c->subs[i].org);
	}
	free(c->subs);
	memset(c, 0, sizeof(*c));
}

static void
test_good(void)
{
	struct collect c = { 0 };
	struct list_info info;
	struct diag d;
	int rc;

	diag_init(&d, EXIT_DATAERR);
	rc = list_load(DIR "good.yaml", &info, collect_fn, &c, &d);
	is_int(rc, 0, "good.yaml loads");
	is_int((long long)d.n, 0, "good.yaml: no diagnostics");
	if (d.n)
		tap_diag("%s", d.items[0].text);
	is_str(info.file, DIR "good.yaml", "info.file");
	is_str(info.id, "press", "id given after the subscribers");
	is_str(info.name, "OGP Press List", "info.name");
	is_str(info.description, "Press releases of the Open Government Partnership.\nTwo lines.\n",
	    "a block description keeps its line breaks");
	is_str(info.template_name, "press-release", "info.template_name");
	is_int(info.template_line, 6, "template line");
	is_int(info.template_col, 11, "template col");
	is_str(info.digest_template, "digest", "digest template");
	is_str(info.digest_schedule, "0 9 * * MON", "digest schedule");
	is_int(info.digest_template_line, 7, "digest template line");
	is_int(info.digest_template_col, 21, "digest template col");
	is_int((long long)info.n_subscribers, 7, "7 subscribers");
	is_int((long long)info.n_digest, 2, "2 of them by digest");
	is_int((long long)c.n, 7, "7 callbacks");
	if (c.n == 7) {
		is_str(c.subs[0].email, "ana@example.org", "mapping: canonical email");
		is_str(c.subs[0].name, "Ana Pérez", "mapping: accented name");
		is_str(c.subs[0].tz, "America/Argentina/Buenos_Aires", "mapping: tz");
		is_str(c.subs[0].org, "La Nación", "mapping: template field");
		is_int(c.subs[0].delivery, DELIVERY_DIGEST, "mapping: digest delivery");
		is_int(c.subs[0].line, 9, "mapping: line");
		is_int(c.subs[0].col, 5, "mapping: col");
		is_int((long long)c.subs[0].nfields, 3, "fields: email, name, org");
		is_str(c.subs[1].email, "bob@example.net", "string: email");
		is_str(c.subs[1].name, "Bob Smith", "string: name");
		is_int(c.subs[1].delivery, DELIVERY_EACH, "string: delivery each");
		is_int(c.subs[1].line, 14, "string: line");
		is_int((long long)c.subs[1].nfields, 2, "string fields: email, name");
		is_str(c.subs[2].email, "carol@example.com", "bare address");
		is_str(c.subs[2].name, NULL, "bare address: no name");
		is_int((long long)c.subs[2].nfields, 1, "bare address fields: email");
		is_str(c.subs[3].name, "François Dupont", "RFC 2047 name decoded");
		is_str(c.subs[4].email, "zoe@example.se", "mapping with a name in email");
		is_str(c.subs[4].name, "Zoë Ångström", "name taken from the email value");
		is_str(c.subs[5].name, "Dan \"The Man\" O'Neil", "name with quotes");
		is_str(c.subs[5].tz, "UTC", "tz UTC");
		is_int((long long)c.subs[5].nfields, 4, "fields: email, name, beat, notes");
		is_str(c.subs[6].name, NULL, "name: ~ is no name");
	}
	collect_free(&c);
	list_info_free(&info);
	list_info_free(&info);	/* twice is harmless */
	list_info_free(NULL);
	diag_free(&d);
}

/* A fixture, its result, and every diagnostic in order. */
struct bad_case {
	const char *file;
	int rc;
	size_t n;		/* valid subscribers */
	const char *errors[12];
};

static const struct bad_case bad[] = {
	{ "unknown-key.yaml", -1, 0, {
		DIR "unknown-key.yaml:2:1: unknown key 'templte'; did you mean 'template'?",
		DIR "unknown-key.yaml:3:1: unknown key 'colour'",
		DIR "unknown-key.yaml:4:1: unknown key 'subscibers'; did you mean 'subscribers'?",
		DIR "unknown-key.yaml:1:1: missing required key 'subscribers'",
	} },
	{ "wrong-type.yaml", -1, 1, {
		DIR "wrong-type.yaml:3:5: expected a mapping or a string, got a list",
		DIR "wrong-type.yaml:4:4: expected a mapping or a string, got null",
		DIR "wrong-type.yaml:7:7: expected a scalar for 'org', got a mapping",
		DIR "wrong-type.yaml:8:11: expected a scalar for 'tags', got a list",
	} },
	{ "bad-address.yaml", -1, 1, {
		DIR "bad-address.yaml:2:5: invalid address 'ana@example': domain has no dot",
		DIR "bad-address.yaml:3:12: invalid address 'bob': missing '@'",
		DIR "bad-address.yaml:4:5: invalid address 'Carol <carol@>': missing domain",
		DIR "bad-address.yaml:5:12: invalid address 'dan smith@example.org'",
		DIR "bad-address.yaml:6:5: missing required key 'email' in subscriber",
		DIR "bad-address.yaml:7:5: missing required key 'email' in subscriber; is 'emial' a typo?",
	} },
	{ "duplicate.yaml", -1, 3, {
		DIR "duplicate.yaml:5:5: duplicate subscriber 'ana@example.org' (first at line 2)",
		DIR "duplicate.yaml:6:12: duplicate subscriber 'bob@example.net' (first at line 3)",
		DIR "duplicate.yaml:8:5: duplicate subscriber 'ana@example.org' (first at line 2)",
	} },
	{ "crlf-name.yaml", -1, 0, {
		DIR "crlf-name.yaml:3:11: name contains a line break",
		DIR "crlf-name.yaml:5:11: name contains a control character",
		DIR "crlf-name.yaml:7:10: field 'org' contains a line break",
		DIR "crlf-name.yaml:8:5: invalid address '=?utf-8?q?Dan=0D=0ABcc:_x@y.org?= "
		    "<dan@example.org>': name contains a line break",
	} },
	{ "bad-delivery.yaml", -1, 0, {
		DIR "bad-delivery.yaml:4:15: invalid delivery 'weekly'; expected 'each' or 'digest'",
		DIR "bad-delivery.yaml:6:15: expected a scalar for 'delivery', got a list",
	} },
	{ "bad-tz.yaml", -1, 1, {
		DIR "bad-tz.yaml:3:9: unknown time zone 'America/Buenos_Aries'",
		DIR "bad-tz.yaml:5:9: unknown time zone '../../../etc/passwd'",
		DIR "bad-tz.yaml:9:9: unknown time zone 'zone.tab'",
	} },
	{ "bad-syntax.yaml", -1, 1, {
		DIR "bad-syntax.yaml:7:1: bad YAML: found unexpected end of stream "
		    "(while scanning a quoted scalar at line 5)",
	} },
	{ "many-errors.yaml", -1, 1, {
		DIR "many-errors.yaml:1:1: unknown key 'nmae'; did you mean 'name'?",
		DIR "many-errors.yaml:4:5: invalid address 'bob@localhost': domain has no dot",
		DIR "many-errors.yaml:6:15: invalid delivery 'sometimes'; expected 'each' or 'digest'",
		DIR "many-errors.yaml:8:9: unknown time zone 'Nowhere/City'",
		DIR "many-errors.yaml:11:11: name contains a line break",
		DIR "many-errors.yaml:12:39: expected a scalar for 'extra', got a mapping",
		DIR "many-errors.yaml:13:11: invalid template name '42/x'",
		DIR "many-errors.yaml:9:5: duplicate subscriber 'ana@example.org' (first at line 3)",
	} },
	{ "no-digest.yaml", -1, 3, {
		DIR "no-digest.yaml:4:15: delivery 'digest' but the list has no 'digest' key",
	} },
	{ "alias.yaml", -1, 3, {
		DIR "alias.yaml:4:10: alias '*o' names no anchor defined before it",
		DIR "alias.yaml:6:35: alias '*nope' names no anchor defined before it",
		DIR "alias.yaml:7:5: alias '*a' cannot refer to another subscriber",
	} },
	{ "not-a-map.yaml", -1, 0, {
		DIR "not-a-map.yaml:1:1: expected a mapping with 'subscribers', got a list",
	} },
	{ "empty.yaml", -1, 0, {
		DIR "empty.yaml:1:1: empty list: missing required key 'subscribers'",
	} },
	{ "dup-keys.yaml", -1, 2, {
		DIR "dup-keys.yaml:5:5: duplicate key 'email' (first at line 4)",
		DIR "dup-keys.yaml:7:1: duplicate key 'name' (first at line 1)",
		DIR "dup-keys.yaml:8:1: duplicate key 'subscribers' (first at line 2)",
	} },
	{ "digest-bad.yaml", -1, 0, {
		DIR "digest-bad.yaml:2:3: unknown key 'schedul'; did you mean 'schedule'?",
		DIR "digest-bad.yaml:2:3: missing required key 'template' in digest",
	} },
	{ "two-docs.yaml", -1, 1, {
		DIR "two-docs.yaml:2:1: expected a single YAML document, found another",
	} },
	{ "top-types.yaml", -1, 1, {
		DIR "top-types.yaml:1:7: expected a scalar for 'name', got a list",
		DIR "top-types.yaml:2:5: invalid list id 'my list': use letters, digits, '.', '-' and '_'",
		DIR "top-types.yaml:3:14: description contains a control character",
		DIR "top-types.yaml:4:9: expected a mapping for digest, got a scalar",
		DIR "top-types.yaml:5:11: invalid template name '../secret'",
		DIR "top-types.yaml:6:3: expected a plain key, got a list",
	} },
	{ "subscribers-map.yaml", -1, 0, {
		DIR "subscribers-map.yaml:2:3: expected a list of subscribers, got a mapping",
	} },
	{ "bad-lang.yaml", -1, 1, {
		DIR "bad-lang.yaml:1:7: 'Español' in 'lang' is not a language tag such as en, es, "
		    "pt-BR or zh-Hant",
		DIR "bad-lang.yaml:3:35: language 'PT-br' is written 'pt-BR'",
		DIR "bad-lang.yaml:4:35: expected a scalar for 'lang', got a list",
		DIR "bad-lang.yaml:5:35: 'e' in 'lang' is not a language tag such as en, es, "
		    "pt-BR or zh-Hant",
		DIR "bad-lang.yaml:6:29: unknown key 'lnag' in subscriber; did you mean 'lang'?",
	} },
};

static void
test_bad(void)
{
	struct collect c = { 0 };
	struct list_info info;
	struct diag d;
	char name[256], path[256];
	size_t i, j, want;
	int rc;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(path, sizeof(path), DIR "%s", bad[i].file);
		diag_init(&d, EXIT_DATAERR);
		rc = list_load(path, &info, collect_fn, &c, &d);
		snprintf(name, sizeof(name), "%s: result", bad[i].file);
		is_int(rc, bad[i].rc, name);
		snprintf(name, sizeof(name), "%s: valid subscribers", bad[i].file);
		is_int((long long)info.n_subscribers, (long long)bad[i].n, name);
		snprintf(name, sizeof(name), "%s: callbacks", bad[i].file);
		is_int((long long)c.n, (long long)bad[i].n, name);
		for (want = 0; want < ARRAY_LEN(bad[i].errors) && bad[i].errors[want]; want++)
			;
		snprintf(name, sizeof(name), "%s: number of errors", bad[i].file);
		if (!is_int((long long)d.n, (long long)want, name))
			for (j = 0; j < d.n; j++)
				tap_diag("%s", d.items[j].text);
		for (j = 0; j < want && j < d.n; j++) {
			snprintf(name, sizeof(name), "%s: error %zu", bad[i].file, j + 1);
			is_str(d.items[j].text, bad[i].errors[j], name);
		}
		is_int(d.status, EXIT_DATAERR, "status is EX_DATAERR");
		snprintf(name, sizeof(name), "%s: an id even after errors", bad[i].file);
		ok(info.id != NULL, "%s", name);
		collect_free(&c);
		list_info_free(&info);
		diag_free(&d);
	}
}

/* Languages: the list's, each subscriber's (herald's, not a field), and the set of them. */
static void
test_langs(void)
{
	struct collect c = { 0 };
	struct list_info info;
	struct diag d;

	diag_init(&d, EXIT_DATAERR);
	is_int(list_load(DIR "langs.yaml", &info, collect_fn, &c, &d), 0, "langs.yaml loads");
	is_str(info.lang, "es", "the list's lang");
	is_int((long long)info.nlangs, 2, "two languages among the subscribers");
	if (info.nlangs == 2) {
		is_str(info.langs[0], "pt-BR", "pt-BR, once");
		is_str(info.langs[1], "fr", "then fr");
	}
	is_int((long long)c.n, 4, "4 subscribers");
	if (c.n == 4) {
		is_str(c.subs[0].lang, "pt-BR", "a subscriber's lang");
		is_int((long long)c.subs[0].nfields, 2, "fields: email, org; lang is not one");
		is_str(c.subs[1].lang, NULL, "no lang of their own");
		is_str(c.subs[3].lang, "fr", "lang beside tz");
		is_int((long long)c.subs[3].nfields, 1, "fields: email; neither lang nor tz");
	}
	is_int((long long)info.nfields, 1, "the list's fields: org only");
	collect_free(&c);
	list_info_free(&info);
	diag_free(&d);
}

static void
test_stop_and_missing(void)
{
	struct collect c = { 0 };
	struct list_info info;
	struct diag d;
	int rc;

	diag_init(&d, EXIT_DATAERR);
	c.stop_after = 2;
	rc = list_load(DIR "good.yaml", &info, collect_fn, &c, &d);
	is_int(rc, 1, "a callback stops the stream");
	is_int((long long)c.n, 2, "no callback after stopping");
	is_int((long long)d.n, 0, "stopping is no error");
	collect_free(&c);
	list_info_free(&info);

	rc = list_load(DIR "no-such-list.yaml", &info, NULL, NULL, &d);
	is_int(rc, -1, "a missing file fails");
	is_str(d.n ? d.items[0].text : NULL,
	    DIR "no-such-list.yaml: cannot read: No such file or directory", "missing file reported");
	is_str(info.id, "no-such-list", "id from the stem even so");
	list_info_free(&info);
	diag_free(&d);

	/* Without a callback: counts only. */
	diag_init(&d, EXIT_DATAERR);
	rc = list_load(DIR "good.yaml", &info, NULL, NULL, &d);
	is_int(rc, 0, "no callback: loads");
	is_int((long long)info.n_subscribers, 7, "no callback: counts");
	list_info_free(&info);
	diag_free(&d);
}

/* A list file written for the test; returns its path (the caller frees it and unlinks). */
static char *
write_tmp(const char *dir, const char *base, const char *text)
{
	char *path = xasprintf("%s/%s", dir, base);
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) == EOF || fclose(fp) != 0)
		fatalx("cannot write %s", path);
	return path;
}

/* A list whose file name is no valid id must say `id:`. */
static void
test_stem_id(const char *dir)
{
	struct list_info info;
	struct diag d;
	char *path, *want;

	diag_init(&d, EXIT_DATAERR);
	path = write_tmp(dir, "my list.yaml", "subscribers: [ana@example.org]\n");
	is_int(list_load(path, &info, NULL, NULL, &d), -1, "a file name with a space");
	want = xasprintf("%s:1:1: invalid list id 'my list' (from the file name): add 'id:' "
	    "with letters, digits, '.', '-' and '_'", path);
	is_str(d.n ? d.items[0].text : NULL, want, "bad stem reported");
	list_info_free(&info);
	diag_free(&d);
	free(want);
	unlink(path);
	free(path);

	diag_init(&d, EXIT_DATAERR);
	path = write_tmp(dir, "my list.yaml", "id: mine\nsubscribers: [ana@example.org]\n");
	is_int(list_load(path, &info, NULL, NULL, &d), 0, "a bad stem is fine with id:");
	is_str(info.id, "mine", "id: wins over the stem");
	list_info_free(&info);
	diag_free(&d);
	unlink(path);
	free(path);
}

/*
 * Enough subscribers to grow the hash tables many times, with repeats far
 * apart, in both forms and in other letter cases.
 */
static void
test_many(const char *dir)
{
	struct list_info info;
	struct buf b = BUF_INIT;
	struct diag d;
	char *path, *want;
	size_t i, n = 60000;
	int rc;

	buf_adds(&b, "subscribers:\n");
	for (i = 0; i < n; i++) {
		if (i % 2)
			buf_addf(&b, "  - \"Person %zu <p%zu@example%zu.org>\"\n", i, i, i % 7);
		else
			buf_addf(&b, "  - email: p%zu@example%zu.org\n    n: %zu\n", i, i % 7, i);
	}
	/* line of subscriber i: odd i take one line, even two */
	buf_adds(&b, "  - P17@EXAMPLE3.ORG\n");
	buf_adds(&b, "  - email: p40000@example2.org\n");
	path = write_tmp(dir, "many.yaml", buf_str(&b));
	diag_init(&d, EXIT_DATAERR);
	rc = list_load(path, &info, NULL, NULL, &d);
	is_int(rc, -1, "many: repeats are errors");
	is_int((long long)info.n_subscribers, (long long)n, "many: every first occurrence counted");
	is_int((long long)d.n, 2, "many: two repeats");
	/* subscriber i starts on line 2 + i + i/2 (rounded up for odd i: even ones take 2 lines) */
	want = xasprintf("%s:%zu:5: duplicate subscriber 'p17@example3.org' (first at line %zu)",
	    path, 2 + n + n / 2, (size_t)(2 + 17 + 9));
	is_str(d.n > 0 ? d.items[0].text : NULL, want, "many: first repeat");
	free(want);
	want = xasprintf("%s:%zu:12: duplicate subscriber 'p40000@example2.org' (first at line %zu)",
	    path, 3 + n + n / 2, (size_t)(2 + 40000 + 20000));
	is_str(d.n > 1 ? d.items[1].text : NULL, want, "many: second repeat");
	free(want);
	list_info_free(&info);
	diag_free(&d);
	unlink(path);
	free(path);
	buf_free(&b);
}

int
main(void)
{
	char dir[] = "/tmp/t_list.XXXXXX";

	if (mkdtemp(dir) == NULL)
		fatalx("mkdtemp failed");
	test_good();
	test_bad();
	test_langs();
	test_stop_and_missing();
	test_stem_id(dir);
	test_many(dir);
	rmdir(dir);
	return done_testing();
}
