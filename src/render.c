/*
 * render.c - template context and message for one subscriber.
 */
#include "render.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "message.h"
#include "plaintext.h"
#include "timefmt.h"

#define RENDER_WIDTH 72

/* Herald's own keys in a row's blob start with this: no field's key may hold a control character. */
#define RENDER_OWN '\001'

/* Fields that are running text: re-flowed for the text part. */
static const char *const render_wrapped[] = { "summary", "body", "about", NULL };

static int
render_in(const char *s, const char *const *set)
{
	size_t i;

	for (i = 0; set[i]; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

/*
 * A one-line field (a title, a byline) becomes inline HTML: cmark's
 * paragraph around it would break the layout it is placed in.
 */
static char *
render_html(const char *text)
{
	size_t len = strlen(text), hl;
	int oneline = memchr(text, '\n', len) == NULL ||
	    (len > 0 && strchr(text, '\n') == text + len - 1);
	char *html = cmark_markdown_to_html(text, len, CMARK_OPT_DEFAULT), *inl;

	hl = strlen(html);
	if (!oneline || hl < 8 || strncmp(html, "<p>", 3) != 0 ||
	    strcmp(html + hl - 5, "</p>\n") != 0 || strstr(html + 3, "<p>") != NULL)
		return html;
	inl = xstrndup(html + 3, hl - 8);
	free(html);
	return inl;
}

/*
 * A field as the text part shows it: Markdown made plain text, the long
 * fields re-flowed at RENDER_WIDTH, ending as the field ends (a block
 * scalar's newline): templates lay out around it.
 */
static char *
render_plain(const char *field, const char *text)
{
	struct buf b = BUF_INIT;
	size_t len = strlen(text);

	plaintext_markdown(text, len, render_in(field, render_wrapped) ? RENDER_WIDTH : 0, &b);
	if (len > 0 && text[len - 1] == '\n')
		buf_addc(&b, '\n');
	return buf_detach(&b);
}

/* `attachments`: each file's name, for a template that lists them. */
static void
render_release_files(struct render_release *rr, const struct release *r)
{
	struct ynode *seq, *m;
	size_t i;

	if (r->nattachments == 0)
		return;
	seq = ynode_seq(rr->doc);
	for (i = 0; i < r->nattachments; i++) {
		m = ynode_map(rr->doc);
		ynode_map_set(rr->doc, m, "name",
		    ynode_str(rr->doc, release_file_name(r->attachments[i])));
		ynode_seq_push(seq, m);
	}
	ynode_map_set(rr->doc, rr->fields, "attachments", seq);
}

void
render_release_init(struct render_release *rr, const struct release *r, const char *lang)
{
	char iso[32], *key, *v;
	const char *text;
	long tr = release_translation(r, lang);
	struct ynode *ln;
	size_t i;

	rr->release = r;
	rr->doc = ydoc_new(r->file);
	rr->fields = ynode_map(rr->doc);
	ynode_map_set(rr->doc, rr->fields, "id", ynode_str(rr->doc, r->id));
	ln = ynode_str(rr->doc, tr >= 0 ? lang : release_lang(r, lang));
	rr->lang = ln->str;
	ynode_map_set(rr->doc, rr->fields, "lang", ln);
	for (i = 0; release_text_fields[i]; i++) {
		if ((text = release_field_in(r, tr, release_text_fields[i])) == NULL)
			continue;
		v = render_plain(release_text_fields[i], text);
		ynode_map_set(rr->doc, rr->fields, release_text_fields[i],
		    ynode_str(rr->doc, v));
		free(v);
		key = xasprintf("%s_source", release_text_fields[i]);
		ynode_map_set(rr->doc, rr->fields, key, ynode_str(rr->doc, text));
		free(key);
		key = xasprintf("%s_html", release_text_fields[i]);
		v = render_html(text);
		ynode_map_set(rr->doc, rr->fields, key, ynode_str(rr->doc, v));
		free(v);
		free(key);
	}
	if (r->has_embargo) {
		timefmt_iso_utc(r->embargo, iso, sizeof(iso));
		ynode_map_set(rr->doc, rr->fields, "embargo", ynode_str(rr->doc, iso));
	}
	if (r->has_expires) {
		timefmt_iso_utc(r->expires, iso, sizeof(iso));
		ynode_map_set(rr->doc, rr->fields, "expires", ynode_str(rr->doc, iso));
	}
	render_release_files(rr, r);
}

void
render_release_links(struct render_release *rr, const char *archive_url)
{
	static const char unreserved[] = "-._~";
	struct ynode *seq = (struct ynode *)ynode_get(rr->fields, "attachments"), *m;
	const unsigned char *p;
	struct buf url = BUF_INIT;
	size_t i;

	for (i = 0; archive_url && seq && seq->kind == YNODE_SEQ && i < seq->n; i++) {
		m = seq->items[i];
		buf_reset(&url);
		buf_addf(&url, "%s%s/", archive_url, rr->release->id);
		for (p = (const unsigned char *)ynode_get(m, "name")->str; *p; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr(unreserved, *p))
				buf_addc(&url, (char)*p);
			else
				buf_addf(&url, "%%%02X", *p);
		}
		ynode_map_set(rr->doc, m, "url", ynode_str(rr->doc, buf_str(&url)));
	}
	buf_free(&url);
}

void
render_release_free(struct render_release *rr)
{
	if (rr == NULL)
		return;
	ydoc_free(rr->doc);
	memset(rr, 0, sizeof(*rr));
}

void
render_versions_init(struct render_versions *rv, const struct release *r, const char *def_lang)
{
	size_t i;

	rv->n = 1 + r->ntranslations;
	rv->v = xcalloc(rv->n, sizeof(*rv->v));
	render_release_init(&rv->v[0], r, release_lang(r, def_lang));
	for (i = 0; i < r->ntranslations; i++)
		render_release_init(&rv->v[i + 1], r, r->translations[i].lang);
}

void
render_versions_free(struct render_versions *rv)
{
	size_t i;

	if (rv == NULL)
		return;
	for (i = 0; i < rv->n; i++)
		render_release_free(&rv->v[i]);
	free(rv->v);
	memset(rv, 0, sizeof(*rv));
}

char *
render_release_url(const char *archive_url, const struct render_versions *rv, size_t v)
{
	const char *id = rv->v[0].release->id;

	if (v == 0)
		return xasprintf("%s%s/", archive_url, id);
	return xasprintf("%s%s/%s.html", archive_url, id, rv->v[v].lang);
}

void
render_versions_link(struct render_versions *rv, const char *archive_url)
{
	char *url;
	size_t i;

	if (archive_url == NULL || rv->n == 0 || !rv->v[0].release->is_public)
		return;
	for (i = 0; i < rv->n; i++) {
		url = render_release_url(archive_url, rv, i);
		ynode_map_set(rv->v[i].doc, rv->v[i].fields, "url", ynode_str(rv->v[i].doc, url));
		free(url);
	}
}

const struct render_release *
render_versions_pick(const struct render_versions *rv, const char *lang)
{
	size_t i, best = 0, rank, best_rank = 0;

	for (i = 0; lang && i < rv->n; i++)
		if ((rank = lang_serves(rv->v[i].lang, lang)) > best_rank) {
			best_rank = rank;
			best = i;
		}
	return &rv->v[best];
}

const char *
render_reader_lang(const struct subscriber *s, const char *list_lang, const char *fallback)
{
	return s->lang ? s->lang : list_lang ? list_lang : fallback;
}

char *
render_plus_address(const char *address, const char *token)
{
	const char *at = strrchr(address, '@');

	if (at == NULL)
		fatalx("address without '@': %s", address);
	return xasprintf("%.*s+%s%s", (int)(at - address), address, token, at);
}

/* The day env's tokens are made on. */
static long
render_token_day(const struct render_env *env)
{
	return (long)((env->token_time ? env->token_time : env->now) / 86400);
}

static char *
render_message_id(const struct render_env *env, const char *release_id,
    unsigned long long rowid, const char *email)
{
	char token[TOKEN_MAX];

	token_make(env->secret, "m", rowid, email, render_token_day(env), token);
	return xasprintf("%s.%s@%s", release_id, token, env->cfg->sender.domain);
}

char *
render_verp(const struct render_env *env, unsigned long long rowid, const char *email)
{
	char token[TOKEN_MAX];

	token_make(env->secret, "b", rowid, email, render_token_day(env), token);
	return render_plus_address(env->cfg->sender.bounce_address, token);
}

void
render_fields_pack(const struct ynode *fields, struct buf *out)
{
	const struct ynode *v;
	size_t i;

	for (i = 0; fields != NULL && fields->kind == YNODE_MAP && i < fields->n; i++) {
		v = ynode_val(fields, i);
		if (v->kind != YNODE_SCALAR)
			continue;
		buf_add(out, ynode_key(fields, i)->str, strlen(ynode_key(fields, i)->str) + 1);
		buf_add(out, v->str, strlen(v->str) + 1);
	}
}

void
render_subscriber_pack(const struct subscriber *s, struct buf *out)
{
	render_fields_pack(s->fields, out);
	if (s->lang) {
		buf_addf(out, "%clang", RENDER_OWN);
		buf_add(out, "", 1);
		buf_add(out, s->lang, strlen(s->lang) + 1);
	}
	if (s->tz) {
		buf_addf(out, "%ctz", RENDER_OWN);
		buf_add(out, "", 1);
		buf_add(out, s->tz, strlen(s->tz) + 1);
	}
}

/*
 * Each key and value of a blob, in order: fn(arg, key, value); the keys
 * herald's own when own, else the fields.
 */
static void
render_blob_each(const void *blob, size_t len, int own,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	const char *p = blob, *end = p + len, *key, *val;

	while (p < end) {
		key = p;
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL)
			break;
		val = ++p;
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL)
			break;
		p++;
		if ((key[0] == RENDER_OWN) == own)
			fn(arg, own ? key + 1 : key, val);
	}
}

struct render_unpack {
	struct ydoc *doc;
	struct ynode *map;
	struct subscriber *s;
};

static void
render_unpack_field(void *arg, const char *key, const char *val)
{
	struct render_unpack *u = arg;

	ynode_map_set(u->doc, u->map, key, ynode_str(u->doc, val));
}

static void
render_unpack_own(void *arg, const char *key, const char *val)
{
	struct render_unpack *u = arg;

	if (strcmp(key, "lang") == 0 && lang_tag_ok(val))
		u->s->lang = ynode_str(u->doc, val)->str;
	else if (strcmp(key, "tz") == 0)
		u->s->tz = ynode_str(u->doc, val)->str;
}

struct ynode *
render_fields_unpack(struct ydoc *doc, const void *blob, size_t len)
{
	struct render_unpack u = { doc, ynode_map(doc), NULL };

	render_blob_each(blob, len, 0, render_unpack_field, &u);
	return u.map;
}

static void
render_find_tz(void *arg, const char *key, const char *val)
{
	if (strcmp(key, "tz") == 0)
		*(const char **)arg = val;
}

const char *
render_fields_tz(const void *blob, size_t len)
{
	const char *tz = NULL;

	render_blob_each(blob, len, 1, render_find_tz, &tz);
	return tz;
}

void
render_worker_init(struct render_worker *w, const struct render_env *env,
    const struct partials *p)
{
	partials_copy(&w->partials, p);
	w->env = *env;
	w->env.partials = &w->partials;
	w->doc = ydoc_new("journal");
}

void
render_worker_free(struct render_worker *w)
{
	ydoc_free(w->doc);
	partials_free(&w->partials);
}

void
render_worker_subscriber(struct render_worker *w, const char *address, const void *fields,
    size_t len, struct subscriber *s)
{
	struct render_unpack u = { w->doc, NULL, s };
	const struct ynode *name;

	memset(s, 0, sizeof(*s));
	s->email = address;
	s->doc = w->doc;
	s->fields = render_fields_unpack(w->doc, fields, len);
	if ((name = ynode_get(s->fields, "name")) != NULL)
		s->name = name->str;
	render_blob_each(fields, len, 1, render_unpack_own, &u);
}

static struct ynode *
render_list_node(struct ydoc *doc, const struct list_info *l)
{
	struct ynode *m = ynode_map(doc);

	ynode_map_set(doc, m, "id", ynode_str(doc, l->id));
	ynode_map_set(doc, m, "name", ynode_str(doc, l->name ? l->name : l->id));
	if (l->description)
		ynode_map_set(doc, m, "description", ynode_str(doc, l->description));
	return m;
}

struct render_ids {
	char utoken[TOKEN_MAX];
	char *message_id, *unsub_address, *unsub_mailto, *unsub_url, *list_id;
};

/* id names the release (or digest) in the Message-ID. */
static void
render_ids_make(struct render_ids *ids, const struct render_env *env, const char *id,
    const struct list_info *l, const struct subscriber *s, unsigned long long rowid)
{
	const struct config *c = env->cfg;

	token_make(env->secret, "u", rowid, s->email, render_token_day(env), ids->utoken);
	ids->message_id = render_message_id(env, id, rowid, s->email);
	ids->unsub_address = render_plus_address(c->sender.unsubscribe_address,
	    ids->utoken);
	ids->unsub_mailto = xasprintf("mailto:%s?subject=unsubscribe", ids->unsub_address);
	ids->unsub_url = c->sender.unsubscribe_url ?
	    xasprintf("%s%s", c->sender.unsubscribe_url, ids->utoken) : NULL;
	ids->list_id = xasprintf("%s.%s", l->id, c->sender.domain);
}

static void
render_ids_free(struct render_ids *ids)
{
	free(ids->message_id);
	free(ids->unsub_address);
	free(ids->unsub_mailto);
	free(ids->unsub_url);
	free(ids->list_id);
}

struct ynode *
render_model(struct ydoc *doc, char *const *fields, size_t nfields)
{
	static const char *const release_more[] = { "id", "lang", "embargo", "expires", "url",
		NULL };
	static const char *const list_keys[] = { "id", "name", "description", NULL };
	static const char *const unsub_keys[] = { "address", "mailto", "url", NULL };
	struct ynode *ctx = ynode_map(doc), *rel = ynode_map(doc), *m, *seq;
	char *key;
	size_t i;

	for (i = 0; release_text_fields[i]; i++) {
		ynode_map_set(doc, rel, release_text_fields[i], ynode_str(doc, "x"));
		key = xasprintf("%s_html", release_text_fields[i]);
		ynode_map_set(doc, rel, key, ynode_str(doc, "x"));
		free(key);
		key = xasprintf("%s_source", release_text_fields[i]);
		ynode_map_set(doc, rel, key, ynode_str(doc, "x"));
		free(key);
	}
	for (i = 0; release_more[i]; i++)
		ynode_map_set(doc, rel, release_more[i], ynode_str(doc, "x"));
	/* The attachments' names, and the links a digest gives them. */
	m = ynode_map(doc);
	ynode_map_set(doc, m, "name", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "url", ynode_str(doc, "x"));
	seq = ynode_seq(doc);
	ynode_seq_push(seq, m);
	ynode_map_set(doc, rel, "attachments", seq);
	ynode_map_set(doc, ctx, "release", rel);
	/* A digest's releases: each as a release, and the day it went out. */
	m = ynode_map(doc);
	for (i = 0; i < rel->n; i++)
		ynode_map_set(doc, m, ynode_key(rel, i)->str, ynode_val(rel, i)->kind ==
		    YNODE_SCALAR ? ynode_str(doc, "x") : ynode_val(rel, i));
	ynode_map_set(doc, m, "date", ynode_str(doc, "x"));
	seq = ynode_seq(doc);
	ynode_seq_push(seq, m);
	ynode_map_set(doc, ctx, "releases", seq);
	m = ynode_map(doc);
	ynode_map_set(doc, m, "from", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "to", ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "period", m);
	m = ynode_map(doc);
	for (i = 0; list_keys[i]; i++)
		ynode_map_set(doc, m, list_keys[i], ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "list", m);
	m = ynode_map(doc);
	ynode_map_set(doc, m, "email", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "name", ynode_str(doc, "x"));
	for (i = 0; i < nfields; i++)
		ynode_map_set(doc, m, fields[i], ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "subscriber", m);
	m = ynode_map(doc);
	for (i = 0; unsub_keys[i]; i++)
		ynode_map_set(doc, m, unsub_keys[i], ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "unsubscribe", m);
	ynode_map_set(doc, ctx, "now", ynode_str(doc, "x"));
	m = ynode_map(doc);
	ynode_map_set(doc, m, "name", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "address", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "postal_address", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "logo", ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "sender", m);
	m = ynode_map(doc);
	ynode_map_set(doc, m, "active", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "until", ynode_str(doc, "x"));
	ynode_map_set(doc, m, "local", ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "embargo", m);
	return ctx;
}

/* `embargo`: for every message of a release under embargo (active: false when lifted). */
static struct ynode *
render_embargo_node(struct ydoc *doc, const struct render_embargo *e)
{
	struct ynode *m = ynode_map(doc), *active = ynode_str(doc, e->active ? "true" : "false");

	active->style = YSTYLE_PLAIN;	/* a boolean to sections, as in YAML */
	ynode_map_set(doc, m, "active", active);
	ynode_map_set(doc, m, "until", ynode_str(doc, e->until));
	ynode_map_set(doc, m, "local", ynode_str(doc, e->local));
	return m;
}

/* `sender`: who sends, as the config says; postal_address and logo only when given. */
struct ynode *
render_sender_node(struct ydoc *doc, const struct config *cfg)
{
	struct ynode *m = ynode_map(doc);

	ynode_map_set(doc, m, "name", ynode_str(doc, cfg->sender.from_name ?
	    cfg->sender.from_name : cfg->sender.from_addr));
	ynode_map_set(doc, m, "address", ynode_str(doc, cfg->sender.from_addr));
	if (cfg->sender.postal_address)
		ynode_map_set(doc, m, "postal_address", ynode_str(doc, cfg->sender.postal_address));
	/* A path: the message carries the image, and its HTML names it by cid: (attach.h). */
	if (cfg->sender.logo)
		ynode_map_set(doc, m, "logo", ynode_str(doc, cfg->sender.logo));
	return m;
}

/* What every message's context holds; the caller adds release, or releases and period. */
static struct ynode *
render_context(const struct render_env *env, const struct list_info *l,
    const struct subscriber *s, const struct render_ids *ids)
{
	struct ydoc *doc = s->doc;
	struct ynode *ctx = ynode_map(doc), *unsub = ynode_map(doc);
	char iso[32];

	ynode_map_set(doc, ctx, "list", render_list_node(doc, l));
	ynode_map_set(doc, ctx, "subscriber", s->fields);
	ynode_map_set(doc, unsub, "address", ynode_str(doc, ids->unsub_address));
	ynode_map_set(doc, unsub, "mailto", ynode_str(doc, ids->unsub_mailto));
	if (ids->unsub_url)
		ynode_map_set(doc, unsub, "url", ynode_str(doc, ids->unsub_url));
	ynode_map_set(doc, ctx, "unsubscribe", unsub);
	timefmt_iso_utc(env->now, iso, sizeof(iso));
	ynode_map_set(doc, ctx, "now", ynode_str(doc, iso));
	ynode_map_set(doc, ctx, "sender", render_sender_node(doc, env->cfg));
	if (env->embargo)
		ynode_map_set(doc, ctx, "embargo", render_embargo_node(doc, env->embargo));
	return ctx;
}

/* A subject is one line: every run of spaces and controls becomes one space. */
static void
render_one_line(char *s)
{
	char *w = s, *r = s;
	int space = 1;

	for (; *r; r++) {
		unsigned char c = (unsigned char)*r;
		if (c <= ' ' || c == 0x7f) {
			if (!space)
				*w++ = ' ';
			space = 1;
			continue;
		}
		*w++ = *r;
		space = 0;
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

/*
 * The HTML's images made cid: and what the message carries (env->kit's
 * attachments, the images it shows) into *files; how many.
 */
static size_t
render_files(const struct render_env *env, struct buf *html, struct message_file **files)
{
	const struct attach_kit *k = env->kit;
	struct buf out = BUF_INIT;
	unsigned char *used;
	size_t n;

	*files = NULL;
	if (k == NULL || k->n == 0)
		return 0;
	used = xcalloc(k->n, 1);
	attach_html_rewrite(k, buf_str(html), html->len, &out, used);
	buf_free(html);
	*html = out;
	*files = xcalloc(k->n, sizeof(**files));
	n = attach_message_files(k, used, *files);
	free(used);
	return n;
}

/* The three parts rendered against ctx, and the MIME message around them. */
static int
render_build(const struct render_env *env, const struct list_info *l,
    const struct subscriber *s, const struct tmplfile *t, const struct ynode *ctx,
    const char *lang, struct render_ids *ids, struct mbuf *out, char **message_id,
    struct diag *d)
{
	struct buf subject = BUF_INIT, text = BUF_INIT, html = BUF_INIT;
	struct message_file *files = NULL;
	struct message m;
	int rc = -1;

	if (tmplfile_render(t, TMPLFILE_SUBJECT, ctx, env->partials, &subject, d) == -1 ||
	    tmplfile_render(t, TMPLFILE_TEXT, ctx, env->partials, &text, d) == -1 ||
	    tmplfile_render(t, TMPLFILE_HTML, ctx, env->partials, &html, d) == -1)
		goto out;
	if (env->subject_prefix || (env->embargo && env->embargo->active)) {
		struct buf pre = BUF_INIT;

		if (env->subject_prefix)
			buf_adds(&pre, env->subject_prefix);
		if (env->embargo && env->embargo->active)
			buf_addf(&pre, "EMBARGOED until %s: ", env->embargo->local);
		buf_adds(&pre, buf_str(&subject));
		buf_free(&subject);
		subject = pre;
	}
	render_one_line(subject.data ? subject.data : (char *)"");
	memset(&m, 0, sizeof(m));
	m.nfiles = render_files(env, &html, &files);
	m.files = files;
	m.from_name = env->cfg->sender.from_name;
	m.from_addr = env->cfg->sender.from_addr;
	m.to_name = s->name;
	m.to_addr = s->email;
	m.subject = buf_str(&subject);
	m.date = env->now;
	m.message_id = ids->message_id;
	m.list_name = l->name ? l->name : l->id;
	m.list_id = ids->list_id;
	m.unsub_mailto = ids->unsub_address;
	m.unsub_url = ids->unsub_url;
	m.bulk = 1;
	m.reply_to = env->cfg->sender.reply_to;
	m.content_language = lang;
	m.text = buf_str(&text);
	m.html = buf_str(&html);
	if (message_build_parts(&m, out) == -1) {
		diag_error(d, t->file, 0, 0, "cannot build the message for %s", s->email);
		goto out;
	}
	if (message_id) {
		*message_id = ids->message_id;
		ids->message_id = NULL;
	}
	rc = 0;
out:
	free(files);
	buf_free(&subject);
	buf_free(&text);
	buf_free(&html);
	return rc;
}

int
render_message_parts(const struct render_env *env, const struct render_release *rr,
    const struct list_info *l, const struct subscriber *s, const struct tmplfile *t,
    unsigned long long rowid, struct mbuf *out, char **message_id, struct diag *d)
{
	struct render_ids ids;
	struct ynode *ctx;
	int rc;

	memset(&ids, 0, sizeof(ids));
	render_ids_make(&ids, env, rr->release->id, l, s, rowid);
	ctx = render_context(env, l, s, &ids);
	ynode_map_set(s->doc, ctx, "release", rr->fields);
	rc = render_build(env, l, s, t, ctx, rr->lang, &ids, out, message_id, d);
	render_ids_free(&ids);
	return rc;
}

int
render_message(const struct render_env *env, const struct render_release *rr,
    const struct list_info *l, const struct subscriber *s, const struct tmplfile *t,
    unsigned long long rowid, struct buf *out, char **message_id, struct diag *d)
{
	struct mbuf m = MBUF_INIT;
	int rc;

	if ((rc = render_message_parts(env, rr, l, s, t, rowid, &m, message_id, d)) == 0)
		mbuf_flatten(&m, out);
	mbuf_free(&m);
	return rc;
}

int
render_digest(const struct render_env *env, const char *digest_id, struct ynode *releases,
    struct ynode *period, const struct list_info *l, const struct subscriber *s,
    const struct tmplfile *t, unsigned long long rowid, struct mbuf *out, char **message_id,
    struct diag *d)
{
	struct render_ids ids;
	struct ynode *ctx;
	int rc;

	memset(&ids, 0, sizeof(ids));
	render_ids_make(&ids, env, digest_id, l, s, rowid);
	ctx = render_context(env, l, s, &ids);
	ynode_map_set(s->doc, ctx, "releases", releases);
	ynode_map_set(s->doc, ctx, "period", period);
	rc = render_build(env, l, s, t, ctx, env->content_language, &ids, out, message_id, d);
	render_ids_free(&ids);
	return rc;
}
