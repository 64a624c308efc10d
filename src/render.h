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
 * What every message of one release shares, computed once: the release's
 * fields with their wrapped text and their HTML.
 */
struct render_release {
	const struct release *release;
	struct ydoc *doc;
	struct ynode *fields;	/* the `release` mapping of the context */
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
	/*
	 * The files messages carry (attach.h), or NULL: each message gets
	 * the kit's attachments and the images its HTML shows, by cid:.
	 */
	const struct attach_kit *kit;
};

/*
 * The fields include `attachments`, a sequence of {name} (the file names),
 * when the release has any.
 */
void render_release_init(struct render_release *rr, const struct release *r);
/*
 * Gives each of the release's attachments a url, archive_url + id + "/"
 * + name (percent-encoded): what a digest, which carries none, links to.
 * Nothing when archive_url is NULL.
 */
void render_release_links(struct render_release *rr, const char *archive_url);
void render_release_free(struct render_release *rr);

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
 * The subscriber a journal row holds (its address and render_fields_pack's
 * blob), in w's document, which the caller cleared for the row.
 */
void render_worker_subscriber(struct render_worker *w, const char *address, const void *fields,
    size_t len, struct subscriber *s);

/*
 * A context with every name a message's data can supply (release.*, the
 * digest's releases and period, list.*, subscriber.* with email, name and
 * fields, unsubscribe.*, now), each a non-empty string, in doc: what
 * tmplfile_check_names renders against.
 */
struct ynode *render_model(struct ydoc *doc, char *const *fields, size_t nfields);

#endif
