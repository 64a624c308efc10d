/*
 * render.h - one subscriber's message: the template context (release, list,
 * subscriber, unsubscribe, now), the three template parts, and the MIME
 * message around them. Pure but for what it is handed: no clock, no files
 * beyond the partials already loaded.
 */
#ifndef HERALD_RENDER_H
#define HERALD_RENDER_H

#include "attach.h"
#include "config.h"
#include "list.h"
#include "mbuf.h"
#include "release.h"
#include "tmplfile.h"
#include "token.h"

/*
 * What every message of one release in one language shares, computed
 * once: the release's fields in that language with their wrapped text and
 * their HTML, and `lang`.
 */
struct render_release {
	const struct release *release;
	const char *lang;	/* the language of its text; Content-Language */
	struct ydoc *doc;	/* owns fields and lang */
	struct ynode *fields;	/* the `release` mapping of the context */
};

/*
 * A release under embargo, as one reader sees it: `embargo.active` (the
 * pre-briefing's wave before the lift: the subject is marked),
 * `embargo.until` (ISO 8601 UTC) and `embargo.local` (the lift in the
 * reader's zone, "Tue 8 Dec 2026, 09:00 CET").
 */
struct render_embargo {
	int active;
	const char *until, *local;
};

/*
 * Every language of one release, each rendered once per send: v[0] the
 * release's own, then each translation in file order.
 */
struct render_versions {
	struct render_release *v;
	size_t n;
};

struct render_env {
	const struct config *cfg;
	struct partials *partials;
	const unsigned char *secret;	/* TOKEN_SECRET_LEN bytes */
	long long now;
	/*
	 * The day the tokens carry (token.h) is this time's: a delivery's
	 * first attempt, so that a message sent again has the same
	 * Message-ID and tokens; 0: now.
	 */
	long long token_time;
	const char *subject_prefix;	/* before the subject ("[TEST] "), or NULL */
	const struct render_embargo *embargo;	/* NULL: no embargo */
	/*
	 * A digest's Content-Language, set per message as token_time is: the
	 * languages of the releases it carries ("es, en"); NULL: none. A
	 * release's message says its version's language instead.
	 */
	const char *content_language;
	/*
	 * The files messages carry (attach.h), or NULL: each message gets
	 * the kit's attachments and the images its HTML shows, by cid:.
	 */
	const struct attach_kit *kit;
};

/*
 * The release in language lang: when r has a translation into lang, its
 * fields, each one it lacks taken from the release; else the release's
 * own fields (lang is then the release's own language, release_lang).
 * The fields include `attachments`, a sequence of {name} (the file names),
 * when the release has any.
 */
void render_release_init(struct render_release *rr, const struct release *r, const char *lang);
/*
 * Gives each of the release's attachments a url, archive_url + id + "/"
 * + name (percent-encoded): what a digest, which carries none, links to.
 * Nothing when archive_url is NULL.
 */
void render_release_links(struct render_release *rr, const char *archive_url);
void render_release_free(struct render_release *rr);

/* Every version of r; def_lang is the config's `lang` (NULL: none). Free with render_versions_free. */
void render_versions_init(struct render_versions *rv, const struct release *r,
    const char *def_lang);
void render_versions_free(struct render_versions *rv);
/*
 * `release.url` in each version, when archive_url (config
 * sender.archive_url, ending in '/') is set and the release is public: the
 * page herald archive writes of it, archive_url + ID + "/" for the
 * release's own language, + ID + "/LANG.html" for a translation.
 */
void render_versions_link(struct render_versions *rv, const char *archive_url);
/* That page's address of version v of release r (the caller owns it). */
char *render_release_url(const char *archive_url, const struct render_versions *rv, size_t v);
/*
 * The version a reader of `lang` gets: the closest one that serves them
 * (lang.h), else the release's own; lang NULL: the release's own.
 */
const struct render_release *render_versions_pick(const struct render_versions *rv,
    const char *lang);
/*
 * The language a subscriber of a list reads: their own `lang`, else the
 * list's, else fallback (a release's own language; NULL for a digest,
 * whose releases each keep their own then). One rule for every message.
 */
const char *render_reader_lang(const struct subscriber *s, const char *list_lang,
    const char *fallback);

/*
 * Appends the whole message for subscriber s of list l to out. rowid is
 * the delivery row the tokens name (0 in a preview). When message_id is
 * not NULL it receives the Message-ID used (without <>; the caller owns
 * it). 0, or -1 with errors in d and nothing appended.
 */
int render_message(const struct render_env *env, const struct render_release *rr,
    const struct list_info *l, const struct subscriber *s, const struct tmplfile *t,
    unsigned long long rowid, struct buf *out, char **message_id, struct diag *d);
/* The same into out (empty), its files' bytes borrowed from env->kit. */
int render_message_parts(const struct render_env *env, const struct render_release *rr,
    const struct list_info *l, const struct subscriber *s, const struct tmplfile *t,
    unsigned long long rowid, struct mbuf *out, char **message_id, struct diag *d);

/*
 * A digest's message, as render_message makes a release's: the context
 * has `releases` (a sequence of render_release fields mappings) and
 * `period` (a mapping) where a release's has `release`; both belong to
 * s->doc or outlive the call. digest_id names it in the Message-ID.
 */
int render_digest(const struct render_env *env, const char *digest_id, struct ynode *releases,
    struct ynode *period, const struct list_info *l, const struct subscriber *s,
    const struct tmplfile *t, unsigned long long rowid, struct mbuf *out, char **message_id,
    struct diag *d);

/* "local+TOKEN@domain" from "local@domain". The caller owns it. */
char *render_plus_address(const char *address, const char *token);

/* The VERP envelope sender of row `rowid`. The caller owns it. */
char *render_verp(const struct render_env *env, unsigned long long rowid, const char *email);

/*
 * A subscriber's template fields (a mapping of scalars) as a blob for the
 * journal, "key NUL value NUL ...", and back into a mapping in doc.
 */
void render_fields_pack(const struct ynode *fields, struct buf *out);
struct ynode *render_fields_unpack(struct ydoc *doc, const void *blob, size_t len);
/*
 * The blob a delivery row keeps of subscriber s: its fields, then
 * herald's own keys that are no template field (`lang`, `tz`), each under a key
 * that starts with a control character, which no field's key may hold:
 * render_fields_unpack leaves them out, render_worker_subscriber reads
 * them back into the struct subscriber.
 */
void render_subscriber_pack(const struct subscriber *s, struct buf *out);
/* The reader's zone (a subscriber's `tz`) in such a blob: a pointer into it, or NULL. */
const char *render_fields_tz(const void *blob, size_t len);

/*
 * What a sending thread renders with, whatever the source: its own copy
 * of the partials (filled lazily), the environment pointing at them, and a
 * document reused for every row. render_worker_free releases what init made.
 */
struct render_worker {
	struct partials partials;
	struct render_env env;
	struct ydoc *doc;
};
void render_worker_init(struct render_worker *w, const struct render_env *env,
    const struct partials *p);
void render_worker_free(struct render_worker *w);
/*
 * The subscriber a journal row holds (its address and render_subscriber_pack's
 * blob), in w's document, which the caller cleared for the row.
 */
void render_worker_subscriber(struct render_worker *w, const char *address, const void *fields,
    size_t len, struct subscriber *s);

/* `sender`: who sends, as the config says (name, address, postal_address when given). */
struct ynode *render_sender_node(struct ydoc *doc, const struct config *cfg);

/*
 * A context with every name a message's data can supply (release.*, the
 * digest's releases and period, list.*, subscriber.* with email, name and
 * fields, unsubscribe.*, now), each a non-empty string, in doc: what
 * tmplfile_check_names renders against.
 */
struct ynode *render_model(struct ydoc *doc, char *const *fields, size_t nfields);

#endif
