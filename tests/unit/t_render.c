/*
 * t_render.c - the languages of a release (versions, field by field
 * fallback, which version a reader gets), the reader's language, and a
 * subscriber's own keys through a delivery row's blob.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "release.h"
#include "render.h"
#include "util.h"

static const char release_yaml[] =
	"title: Quarterly news\n"
	"lists: [press]\n"
	"summary: The quarter.\n"
	"about: The desk.\n"
	"translations:\n"
	"  es: { title: Noticias, summary: El trimestre. }\n"
	"  pt: { title: Notícias }\n"
	"  pt-PT: { title: Notícias de Portugal }\n";

/* The field key of version v as a string, or NULL. */
static const char *
field(const struct render_release *v, const char *key)
{
	const struct ynode *n = ynode_get(v->fields, key);

	return n ? n->str : NULL;
}

static void
test_versions(void)
{
	struct release r;
	struct render_versions rv;
	struct diag d;
	static const struct {
		const char *want, *got;
	} picks[] = {
		{ NULL, "en" }, { "en", "en" }, { "es", "es" }, { "es-MX", "es" }, { "pt-BR", "pt" },
		{ "pt-PT", "pt-PT" }, { "pt", "pt" }, { "de", "en" }, { "est", "en" },
	};
	size_t i;

	diag_init(&d, EXIT_DATAERR);
	if (!ok(release_load_mem("r.yaml", release_yaml, sizeof(release_yaml) - 1, &r, &d) == 0,
	    "the release loads")) {
		tap_diag("%s", d.n ? d.items[0].text : "");
		diag_free(&d);
		return;
	}
	is_int((long long)r.ntranslations, 3, "three translations, in file order");
	is_str(release_lang(&r, NULL), "en", "no lang, no default: en");
	is_str(release_lang(&r, "fr"), "fr", "no lang: the config's");
	is_str(release_field_in(&r, 0, "title"), "Noticias", "a translated field");
	is_str(release_field_in(&r, 1, "summary"), "The quarter.", "a field the translation lacks");
	is_str(release_field_in(&r, -1, "title"), "Quarterly news", "-1: the release's own");
	is_str(release_field_in(&r, 0, "body"), NULL, "a field neither has");
	is_int(release_translation(&r, "pt-PT"), 2, "the translation into pt-PT");
	is_int(release_translation(&r, "pt-BR"), -1, "no translation into pt-BR itself");

	render_versions_init(&rv, &r, NULL);
	is_int((long long)rv.n, 4, "four versions: the release's own and each translation");
	is_str(rv.v[0].lang, "en", "v[0] is the release's own");
	is_str(field(&rv.v[1], "title"), "Noticias", "es: its title");
	is_str(field(&rv.v[1], "summary"), "El trimestre.", "es: its summary");
	is_str(field(&rv.v[1], "about"), "The desk.", "es: about from the release");
	is_str(field(&rv.v[1], "about_html"), "The desk.", "es: about_html from the release");
	is_str(field(&rv.v[2], "summary"), "The quarter.", "pt: summary from the release");
	is_str(field(&rv.v[2], "lang"), "pt", "release.lang is the version's");
	is_str(field(&rv.v[0], "lang"), "en", "release.lang of the release's own");
	is_str(field(&rv.v[3], "id"), "r", "every version has the id");
	for (i = 0; i < ARRAY_LEN(picks); i++)
		is_str(render_versions_pick(&rv, picks[i].want)->lang, picks[i].got,
		    picks[i].want ? picks[i].want : "(no language)");
	render_versions_free(&rv);
	render_versions_free(&rv);	/* twice is harmless */
	render_versions_init(&rv, &r, "de");
	is_str(rv.v[0].lang, "de", "the config's lang is the release's own when it names none");
	render_versions_free(&rv);
	release_free(&r);
	diag_free(&d);
}

/* release.url: the release's page in the archive, each version its own; none when not public. */
static void
test_url(void)
{
	static const char priv[] = "title: Closed\npublic: false\n";
	static const char bad[] = "title: Closed\npublic: maybe\n";
	static const char base[] = "https://press.example/releases/";
	struct render_versions rv;
	struct release r;
	struct diag d;

	diag_init(&d, EXIT_DATAERR);
	if (!ok(release_load_mem("releases/news.yaml", release_yaml, sizeof(release_yaml) - 1, &r,
	    &d) == 0, "the release loads"))
		goto out;
	is_int(r.is_public, 1, "a release is public unless it says not");
	render_versions_init(&rv, &r, NULL);
	render_versions_link(&rv, NULL);
	is_str(field(&rv.v[0], "url"), NULL, "no archive_url: no release.url");
	render_versions_link(&rv, base);
	is_str(field(&rv.v[0], "url"), "https://press.example/releases/news/",
	    "its own language: the release's folder");
	is_str(field(&rv.v[1], "url"), "https://press.example/releases/news/es.html",
	    "a translation: its page in the folder");
	is_str(field(&rv.v[3], "url"), "https://press.example/releases/news/pt-PT.html",
	    "pt-PT: its page");
	render_versions_free(&rv);
	release_free(&r);

	is_int(release_load_mem("c.yaml", priv, sizeof(priv) - 1, &r, &d), 0,
	    "public: false loads");
	is_int(r.is_public, 0, "and the release is not public");
	render_versions_init(&rv, &r, NULL);
	render_versions_link(&rv, base);
	is_str(field(&rv.v[0], "url"), NULL, "a release that is not public has no release.url");
	render_versions_free(&rv);
	release_free(&r);

	ok(release_load_mem("b.yaml", bad, sizeof(bad) - 1, &r, &d) == -1 &&
	    diag_has(&d, "b.yaml:2:9: 'public' must be true or false"),
	    "public: maybe is an error at its value");
	release_free(&r);
out:
	diag_free(&d);
}

static void
test_reader(void)
{
	struct subscriber s;

	memset(&s, 0, sizeof(s));
	is_str(render_reader_lang(&s, NULL, "en"), "en", "no lang anywhere: the fallback");
	is_str(render_reader_lang(&s, NULL, NULL), NULL, "a digest without a lang: none");
	is_str(render_reader_lang(&s, "fr", "en"), "fr", "the list's");
	s.lang = "es";
	is_str(render_reader_lang(&s, "fr", "en"), "es", "the subscriber's before the list's");
}

static void
test_blob(void)
{
	struct ydoc *doc = ydoc_new("t");
	struct render_worker w;
	struct render_env env;
	struct partials p;
	struct subscriber s, back;
	struct buf b = BUF_INIT;

	memset(&s, 0, sizeof(s));
	s.email = "ana@example.org";
	s.lang = "pt-BR";
	s.fields = ynode_map(doc);
	ynode_map_set(doc, s.fields, "email", ynode_str(doc, "ana@example.org"));
	ynode_map_set(doc, s.fields, "name", ynode_str(doc, "Ana"));
	ynode_map_set(doc, s.fields, "org", ynode_str(doc, "Folha"));
	render_subscriber_pack(&s, &b);

	memset(&env, 0, sizeof(env));
	partials_init(&p, "templates");
	render_worker_init(&w, &env, &p);
	render_worker_subscriber(&w, "ana@example.org", b.data, b.len, &back);
	is_str(back.lang, "pt-BR", "the lang comes back from the blob");
	is_str(back.name, "Ana", "the name too");
	is_int((long long)back.fields->n, 3, "the fields: email, name, org, and no lang");
	ok(ynode_get(back.fields, "lang") == NULL, "lang is no template field");
	/* An older row's blob, of fields only: no lang. */
	buf_reset(&b);
	render_fields_pack(s.fields, &b);
	ydoc_clear(w.doc);
	render_worker_subscriber(&w, "ana@example.org", b.data, b.len, &back);
	is_str(back.lang, NULL, "a blob without herald's keys: no lang");
	/* A blob cut short is read as far as it goes. */
	buf_reset(&b);
	render_subscriber_pack(&s, &b);
	ydoc_clear(w.doc);
	render_worker_subscriber(&w, "ana@example.org", b.data, b.len - 3, &back);
	is_str(back.lang, NULL, "a cut blob: no lang, no overread");
	is_int((long long)back.fields->n, 3, "a cut blob: the fields before the cut");
	render_worker_free(&w);
	partials_free(&p);
	buf_free(&b);
	ydoc_free(doc);
}

int
main(void)
{
	test_versions();
	test_url();
	test_reader();
	test_blob();
	return done_testing();
}
