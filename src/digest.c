/*
 * digest.c - a list's digest: who is owed which releases, recorded in the
 * journal in one transaction, then sent by the engine (delivery.h) with
 * this file as its source. See digest.h for the rules.
 */
#include "digest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "diag.h"
#include "list.h"
#include "log.h"
#include "members.h"
#include "release.h"
#include "render.h"
#include "segment.h"
#include "timefmt.h"
#include "tmplfile.h"
#include "token.h"
#include "validate.h"

#define DIGEST_PREFIX "digest."

/* One release a digest carries, rendered once in each of its languages for every message. */
struct dgrel {
	long long row;
	struct release rel;
	struct render_versions rv;
	int ready;			/* loaded and rendered */
	char date[11];			/* the UTC day it went out */
};

/* A digest subscriber as the list has them now: the address and template fields. */
struct dgsub {
	char *email;
	char *fields;			/* render_subscriber_pack's blob */
	size_t fields_len;
};

/* What every message of one digest shares; only read once sending starts. */
struct digest {
	const struct config *cfg;
	struct diag *d;
	struct list_info info;
	struct dgsub *subs;		/* the list's digest subscribers */
	size_t nsubs, subscap;
	struct members members;		/* the list's, while its file is read */
	struct tmplset tmpls;		/* the digest template and its language variants */
	struct partials partials;
	unsigned char secret[TOKEN_SECRET_LEN];
	long long now;
	/* The digest at hand (dg_load). */
	char *id;
	char to[11];			/* period.to: the day it was made */
	struct dgrel *rels;		/* by row id */
	size_t nrels;
	struct store_digest_item *items;	/* by address */
	size_t nitems;
	struct attach_kit kit;		/* the images its messages show; never an attachment */
	int kit_ready;
};

/* A sending thread's own. */
struct dgworker {
	const struct digest *dg;
	struct render_worker rw;
};

/* ---- pure helpers ---- */

int
digest_is_id(const char *arg)
{
	return arg != NULL && strncmp(arg, DIGEST_PREFIX, strlen(DIGEST_PREFIX)) == 0 &&
	    strchr(arg, '/') == NULL;
}

char *
digest_make_id(const char *list, long long t, unsigned seq)
{
	char iso[32], stamp[32];
	size_t i, j;

	/* 2017-06-22T12:00:00Z -> 20170622T120000Z: no ':' in a Message-ID's left part. */
	timefmt_iso_utc(t, iso, sizeof(iso));
	for (i = j = 0; iso[i] && j + 1 < sizeof(stamp); i++)
		if (iso[i] != '-' && iso[i] != ':')
			stamp[j++] = iso[i];
	stamp[j] = '\0';
	if (seq > 1)
		return xasprintf(DIGEST_PREFIX "%s.%s-%u", list, stamp, seq);
	return xasprintf(DIGEST_PREFIX "%s.%s", list, stamp);
}

size_t
digest_find(const struct store_digest_item *v, size_t n, const char *address, size_t *count)
{
	size_t lo = 0, hi = n, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].address, address) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < n && strcmp(v[lo].address, address) == 0)
		lo++;
	*count = lo - first;
	return first;
}

static void
dg_day(long long t, char out[11])
{
	char iso[32];

	timefmt_iso_utc(t, iso, sizeof(iso));
	memcpy(out, iso, 10);
	out[10] = '\0';
}

/* ---- the inputs: the project checked, the list and its digest template ---- */

static int
dg_status(struct digest *dg, int fallback)
{
	return dg->d->errors ? dg->d->status : fallback;
}

static void
dg_sub_add(struct digest *dg, const char *email, const void *fields, size_t len)
{
	struct dgsub *e;

	dg->subs = xgrow(dg->subs, &dg->subscap, dg->nsubs + 1, sizeof(*dg->subs));
	e = &dg->subs[dg->nsubs++];
	e->email = xstrdup(email);
	e->fields = xmalloc(len + 1);
	if (len > 0)
		memcpy(e->fields, fields, len);
	e->fields[len] = '\0';
	e->fields_len = len;
}

static int
dg_sub_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct digest *dg = arg;
	struct buf b = BUF_INIT;

	(void)info;
	members_file(&dg->members, s->email);
	if (s->delivery != DELIVERY_DIGEST)
		return 0;
	render_subscriber_pack(s, &b);
	dg_sub_add(dg, s->email, b.data, b.len);
	buf_free(&b);
	return 0;
}

/* A member of the list whom its file does not have, when they take the digest. */
static int
dg_member_one(void *arg, const struct store_member *mb)
{
	if (mb->digest)
		dg_sub_add(arg, mb->address, mb->fields, mb->fields_len);
	return 0;
}

/* The list's digest subscribers: its file's, then its members' (st NULL: no journal yet). */
static int
dg_subs(struct digest *dg, const char *file, const char *list_id, struct store *st,
    char *why, size_t whylen)
{
	int rc;

	if (members_open(&dg->members, st, list_id) == -1) {
		snprintf(why, whylen, "journal: %s", store_error(st));
		members_close(&dg->members);
		return EXIT_SOFTWARE;
	}
	rc = list_load(file, &dg->info, dg_sub_one, dg, dg->d) == -1 ? dg_status(dg, EXIT_DATAERR) : 0;
	if (rc == 0 && members_each(&dg->members, dg_member_one, dg) == -1) {
		snprintf(why, whylen, "journal: %s", store_error(st));
		rc = EXIT_SOFTWARE;
	}
	members_close(&dg->members);
	return rc;
}

/*
 * The whole project is checked first (nothing is sent when any input is
 * invalid), then the list's keys, its digest subscribers and its digest
 * template are read. The subscribers are kept, so that the transaction
 * that records a new digest does not hold the journal while a long list
 * is read.
 */
static int
dg_setup(struct digest *dg, const struct config *cfg, struct diag *d,
    struct validate_summary *vsum, const char *list_id, struct store *st, char *why,
    size_t whylen)
{
	const struct validate_list *vl;
	char err[256];
	int rc;

	dg->cfg = cfg;
	dg->d = d;
	dg->now = (long long)time(NULL);
	partials_init(&dg->partials, cfg->templates_dir);
	validate_project(cfg, d, vsum);
	if (d->errors)
		return d->status;
	if ((vl = validate_find_list(vsum, list_id)) == NULL) {
		diag_error(d, NULL, 0, 0, "unknown list '%s': no list in %s/ has that id", list_id,
		    cfg->lists_dir);
		return EXIT_DATAERR;
	}
	if ((rc = dg_subs(dg, vl->file, list_id, st, why, whylen)) != 0)
		return rc;
	if (dg->info.digest_template == NULL) {
		diag_error(d, vl->file, 0, 0, "list '%s' has no digest template "
		    "(digest: { template: NAME })", list_id);
		return EXIT_DATAERR;
	}
	if (tmplset_load(cfg->templates_dir, dg->info.digest_template, &dg->partials,
	    &dg->tmpls, d) == -1)
		return dg_status(dg, EXIT_DATAERR);
	if (token_secret_load(cfg->secret, dg->secret, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "%s", err);
		return EXIT_CONFIG;
	}
	return 0;
}

static void
dg_unload(struct digest *dg)
{
	size_t i;

	for (i = 0; i < dg->nrels; i++) {
		if (dg->rels[i].ready)
			render_versions_free(&dg->rels[i].rv);
		release_free(&dg->rels[i].rel);
	}
	free(dg->rels);
	dg->rels = NULL;
	dg->nrels = 0;
	if (dg->kit_ready)
		attach_kit_free(&dg->kit);
	dg->kit_ready = 0;
	store_digest_items_free(dg->items, dg->nitems);
	dg->items = NULL;
	dg->nitems = 0;
	free(dg->id);
	dg->id = NULL;
}

static void
dg_free(struct digest *dg)
{
	size_t i;

	dg_unload(dg);
	for (i = 0; i < dg->nsubs; i++) {
		free(dg->subs[i].email);
		free(dg->subs[i].fields);
	}
	free(dg->subs);
	list_info_free(&dg->info);
	tmplset_free(&dg->tmpls);
	partials_free(&dg->partials);
	memset(dg->secret, 0, sizeof(dg->secret));
}

/* ---- one digest from the journal: its items and the releases they name ---- */

static struct dgrel *
dg_rel(const struct digest *dg, long long row)
{
	size_t lo = 0, hi = dg->nrels;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dg->rels[mid].row == row)
			return &dg->rels[mid];
		if (dg->rels[mid].row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
dg_cmp_row(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The distinct release rows of the items, sorted, as dg->rels (not loaded yet). */
static void
dg_collect(struct digest *dg)
{
	long long *rows = xcalloc(dg->nitems ? dg->nitems : 1, sizeof(*rows));
	size_t i, n = 0;

	for (i = 0; i < dg->nitems; i++)
		rows[i] = dg->items[i].release;
	qsort(rows, dg->nitems, sizeof(*rows), dg_cmp_row);
	dg->rels = xcalloc(dg->nitems ? dg->nitems : 1, sizeof(*dg->rels));
	for (i = 0; i < dg->nitems; i++)
		if (n == 0 || dg->rels[n - 1].row != rows[i])
			dg->rels[n++].row = rows[i];
	dg->nrels = n;
	free(rows);
}

/* A release as the journal's snapshot has it, rendered once, with the day it went out. */
static int
dg_rel_load(struct digest *dg, struct store *st, struct dgrel *r)
{
	struct store_release sr;
	size_t i;
	int rc;

	if ((rc = store_digest_release(st, r->row, &sr)) != 0) {
		if (rc == 1)
			diag_error(dg->d, NULL, 0, 0, "digest %s: release row %lld is gone", dg->id,
			    r->row);
		return -1;
	}
	rc = release_load_mem(sr.file ? sr.file : sr.release_id, sr.snapshot, sr.snapshot_len,
	    &r->rel, dg->d);
	if (rc == 0) {
		dg_day(sr.scheduled_at ? sr.scheduled_at : sr.created, r->date);
		render_versions_init(&r->rv, &r->rel, dg->cfg->lang);
		render_versions_link(&r->rv, dg->cfg->sender.archive_url);
		/* A digest carries no attachments: it names them, or links to them. */
		for (i = 0; i < r->rv.n; i++)
			render_release_links(&r->rv.v[i], dg->cfg->sender.archive_url);
		r->ready = 1;
		for (i = 0; i < r->rv.n; i++)
			ynode_map_set(r->rv.v[i].doc, r->rv.v[i].fields, "date",
			    ynode_str(r->rv.v[i].doc, r->date));
	}
	store_release_clear(&sr);
	return rc;
}

/*
 * The images the digest's messages show: the template's, the logo, and
 * each release's. A release's image that is gone since it was sent is
 * left out with a warning: it must not hold up every later digest.
 */
static int
dg_kit(struct digest *dg)
{
	struct diag gone;
	size_t i, j;
	int rc = 0;

	attach_kit_init(&dg->kit, dg->cfg->sender.domain);
	dg->kit_ready = 1;
	for (i = 0; i < dg->tmpls.n; i++)
		if (attach_kit_templates(&dg->kit, &dg->tmpls.t[i],
		    i + 1 == dg->tmpls.n ? &dg->partials : NULL, dg->d) == -1)
			rc = -1;
	if (attach_kit_logo(&dg->kit, dg->cfg, dg->d) == -1)
		rc = -1;
	for (i = 0; i < dg->nrels; i++) {
		if (!dg->rels[i].ready)
			continue;
		diag_init(&gone, EXIT_DATAERR);
		attach_kit_release(&dg->kit, &dg->rels[i].rel, 1, &gone);
		for (j = 0; j < gone.n; j++)
			log_warn("digest", "digest %s: %s; the digest shows it without the image",
			    dg->id, gone.items[j].text);
		diag_free(&gone);
	}
	return rc;
}

/* 0, 1 when id is no digest of the journal, -1 on errors (in dg->d, or the store's). */
static int
dg_load(struct digest *dg, struct store *st, const char *id)
{
	struct store_release sr;
	size_t i;
	int rc;

	dg->id = xstrdup(id);
	if ((rc = store_release_get(st, id, &sr)) != 0)
		return rc;
	dg_day(sr.created, dg->to);
	rc = store_digest_items(st, sr.id, &dg->items, &dg->nitems);
	store_release_clear(&sr);
	if (rc == -1)
		return -1;
	dg_collect(dg);
	for (i = 0; i < dg->nrels; i++)
		if (dg_rel_load(dg, st, &dg->rels[i]) == -1)
			return -1;
	return dg_kit(dg);
}

/* ---- rendering, on the sending threads ---- */

static void *
dg_worker_make(void *arg)
{
	const struct digest *dg = arg;
	struct dgworker *w = xcalloc(1, sizeof(*w));
	struct render_env env;

	memset(&env, 0, sizeof(env));
	env.cfg = dg->cfg;
	env.secret = dg->secret;
	env.now = (long long)time(NULL);
	env.kit = dg->kit_ready ? &dg->kit : NULL;
	w->dg = dg;
	render_worker_init(&w->rw, &env, &dg->partials);
	return w;
}

static void
dg_worker_free(void *state)
{
	struct dgworker *w = state;

	if (w == NULL)
		return;
	render_worker_free(&w->rw);
	free(w);
}

/* lang joins the languages of langs ("es, en"), when it is not there yet. */
static void
dg_add_lang(struct buf *langs, const char *lang)
{
	const char *p = buf_str(langs);
	size_t n = strlen(lang);

	for (; (p = strstr(p, lang)) != NULL; p += n)
		if ((p == buf_str(langs) || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return;
	buf_addf(langs, "%s%s", langs->len ? ", " : "", lang);
}

/*
 * The row's releases, oldest first, as a sequence, each in the version a
 * reader of lang gets (NULL: each in its own); NULL when it has none.
 * langs gets their languages.
 */
static struct ynode *
dg_releases(const struct digest *dg, struct ydoc *doc, const char *address, const char *lang,
    const struct dgrel **oldest, struct buf *langs)
{
	const struct render_release *v;
	struct ynode *seq;
	struct dgrel *r;
	size_t first, n, i;

	first = digest_find(dg->items, dg->nitems, address, &n);
	if (n == 0)
		return NULL;
	seq = ynode_seq(doc);
	for (i = first; i < first + n; i++) {
		if ((r = dg_rel(dg, dg->items[i].release)) == NULL || !r->ready)
			return NULL;
		if (i == first)
			*oldest = r;
		v = render_versions_pick(&r->rv, lang);
		dg_add_lang(langs, v->lang);
		ynode_seq_push(seq, v->fields);
	}
	return seq;
}

static int
dg_render(void *state, const struct store_row *row, struct mbuf *msg, char **message_id,
    struct diag *d)
{
	struct dgworker *w = state;
	const struct digest *dg = w->dg;
	const struct dgrel *oldest = NULL;
	struct ydoc *doc = w->rw.doc;
	struct ynode *releases, *period;
	struct buf langs = BUF_INIT;
	struct subscriber s;
	const char *lang;
	int rc;

	ydoc_clear(doc);
	render_worker_subscriber(&w->rw, row->address, row->fields, row->fields_len, &s);
	s.delivery = DELIVERY_DIGEST;
	lang = render_reader_lang(&s, dg->info.lang, NULL);
	if ((releases = dg_releases(dg, doc, row->address, lang, &oldest, &langs)) == NULL) {
		diag_error(d, NULL, 0, 0, "digest %s: no releases recorded for %s", dg->id,
		    row->address);
		buf_free(&langs);
		return -1;
	}
	period = ynode_map(doc);
	ynode_map_set(doc, period, "from", ynode_str(doc, oldest->date));
	ynode_map_set(doc, period, "to", ynode_str(doc, dg->to));
	w->rw.env.token_time = row->first_attempt;
	w->rw.env.content_language = buf_str(&langs);
	rc = render_digest(&w->rw.env, dg->id, releases, period, &dg->info, &s,
	    tmplset_pick(&dg->tmpls, lang), (unsigned long long)row->id, msg, message_id, d);
	w->rw.env.content_language = NULL;
	buf_free(&langs);
	return rc;
}

/* The digest's release row, which dg_create recorded. */
static int
dg_prepare(void *arg, struct delivery_ctx *ctx)
{
	const struct digest *dg = arg;
	struct store_release sr;
	int found;

	snprintf(ctx->r->release_id, sizeof(ctx->r->release_id), "%s", dg->id);
	if ((found = store_release_get(ctx->st, dg->id, &sr)) != 0) {
		if (found == 1)
			delivery_fail(ctx->r, DELIVERY_REFUSED, "%s is not in the journal", dg->id);
		else
			delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
		return -1;
	}
	ctx->relrow = sr.id;
	found = sr.state == RS_CANCELLED;
	store_release_clear(&sr);
	if (found) {
		delivery_fail(ctx->r, DELIVERY_REFUSED, "%s was cancelled", dg->id);
		return -1;
	}
	return 0;
}

/* Sends (or resumes) the loaded digest through the engine, as its source. */
static void
dg_send(struct digest *dg, const struct delivery_opts *o, struct delivery_result *r)
{
	struct delivery_source src;

	memset(&src, 0, sizeof(src));
	src.prepare = dg_prepare;
	src.make = dg_worker_make;
	src.free = dg_worker_free;
	src.render = dg_render;
	src.arg = dg;
	delivery_run(dg->cfg, &src, o, r, dg->d);
}

/* ---- a new digest: who is owed what, in one transaction ---- */

/* A release that went to a segment: the digest carries it only to those in it. */
struct dgseg {
	long long release;
	struct segment_set set;		/* every segment it went to */
	int ok;				/* 0: unreadable, a segment of nobody's */
};

struct dgtake {
	struct store *st;
	const char *list;
	long long rel, since, now;
	const struct dgsub *first;	/* the first subscriber owed something */
	size_t rows;
	struct dgseg *segs;
	size_t nsegs;
};

/* The segments of the releases this digest may carry, read in its transaction. */
static int
dg_segments(struct dgtake *t)
{
	struct store_segment *v;
	size_t n, i;

	if (store_digest_segments(t->st, t->list, &v, &n) == -1)
		return -1;
	t->segs = xcalloc(n ? n : 1, sizeof(*t->segs));
	for (i = 0; i < n; i++) {
		t->segs[t->nsegs].release = v[i].release;
		t->segs[t->nsegs].ok = segment_set_parse(&t->segs[t->nsegs].set, v[i].segment) == 0;
		t->nsegs++;
	}
	store_segments_free(v, n);
	return 0;
}

static void
dg_segments_free(struct dgtake *t)
{
	while (t->nsegs > 0)
		segment_set_free(&t->segs[--t->nsegs].set);
	free(t->segs);
	t->segs = NULL;
}

/* What digest t->rel carries to s, less the releases whose segment leaves s out. */
static int
dg_take_segments(struct dgtake *t, const struct dgsub *s, size_t *n)
{
	size_t i, dropped;

	for (i = 0; i < t->nsegs && *n > 0; i++) {
		if (t->segs[i].ok && segment_set_match_packed(&t->segs[i].set, s->fields,
		    s->fields_len))
			continue;
		if (store_digest_drop(t->st, t->rel, s->email, t->segs[i].release, &dropped) == -1)
			return -1;
		*n -= dropped;
	}
	return 0;
}

/*
 * What one subscriber is owed, recorded with their delivery row.
 * Suppressed addresses too: store_skip_suppressed settles them, as for a
 * release, and what their row carried counts as carried.
 */
static int
dg_take_one(struct dgtake *t, const struct dgsub *s)
{
	size_t n;

	if (store_digest_member(t->st, t->list, s->email, t->since, t->now) == -1 ||
	    store_digest_take(t->st, t->rel, t->list, s->email, t->now, &n) == -1 ||
	    dg_take_segments(t, s, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if (store_delivery_add(t->st, t->rel, s->email, t->list, s->fields, s->fields_len,
	    DS_QUEUED, NULL, t->now) == -1)
		return -1;
	if (t->rows++ == 0)
		t->first = s;
	return 0;
}

/* The digest's own release row, under an id no other digest has. *id is the caller's. */
static int
dg_new_row(struct dgtake *t, char **id)
{
	struct store_release put, cur;
	char iso[32], *snapshot;
	unsigned seq;
	int found, rc;

	for (seq = 1;; seq++) {
		*id = digest_make_id(t->list, t->now, seq);
		found = store_release_get(t->st, *id, &cur);
		store_release_clear(&cur);
		if (found != 0)
			break;
		free(*id);
	}
	if (found == -1)
		return -1;
	timefmt_iso_utc(t->now, iso, sizeof(iso));
	snapshot = xasprintf("digest: %s\ncreated: %s\n", t->list, iso);
	memset(&put, 0, sizeof(put));
	put.release_id = *id;
	put.snapshot = snapshot;
	put.snapshot_len = strlen(snapshot);
	put.lists = (char *)t->list;
	put.state = RS_SENDING;
	rc = store_release_put(t->st, &put, t->now, &t->rel);
	free(snapshot);
	if (rc == -1)
		return -1;
	return store_digest_add(t->st, t->rel, t->list, t->now);
}

/*
 * Records a new digest of the list: its row, and each digest subscriber's
 * delivery row with the releases it carries. 0 made (*id the caller's);
 * 1 nobody is owed anything (nothing recorded); -1 on errors.
 */
static int
dg_create_in(struct digest *dg, struct store *st, struct dgtake *t, char **id)
{
	size_t i, skipped = 0;
	int rc = -1;

	*id = NULL;
	t->st = st;
	t->list = dg->info.id;
	t->now = dg->now;
	if (store_begin(st) == -1)
		return -1;
	if (store_digest_last(st, t->list, &t->since) == -1 || dg_new_row(t, id) == -1 ||
	    dg_segments(t) == -1)
		goto out;
	for (i = 0; i < dg->nsubs; i++)
		if (dg_take_one(t, &dg->subs[i]) == -1)
			goto out;
	if (store_skip_suppressed(st, t->rel, t->now, &skipped) == 0)
		rc = t->rows ? 0 : 1;
out:
	dg_segments_free(t);
	if (rc == -1) {
		store_rollback(st);
		free(*id);
		*id = NULL;
	}
	return rc;
}

/*
 * Records a new digest of the list: its row, and each digest subscriber's
 * delivery row with the releases it carries. 0 made (*id the caller's);
 * 1 nobody is owed anything (nothing recorded); -1 on errors.
 */
static int
dg_create(struct digest *dg, struct store *st, struct dgtake *t, char **id)
{
	int rc = dg_create_in(dg, st, t, id);

	if (rc == 1) {
		store_rollback(st);
		free(*id);
		*id = NULL;
	}
	if (rc != 0)
		return rc;
	return store_commit(st);
}

/* ---- the commands' side ---- */


/* The status a failed setup means, by the errors in d. */
static enum delivery_end
dg_setup_end(int status)
{
	switch (status) {
	case EXIT_CONFIG:
		return DELIVERY_CONFIG;
	case EXIT_SOFTWARE:
		return DELIVERY_JOURNAL;
	default:
		return DELIVERY_INVALID;
	}
}

/*
 * Loads and sends one digest of the journal; st is only read. A new one
 * has rows > 0: what it carries is said with its result.
 */
static void
dg_load_send(struct digest *dg, struct store *st, const char *id, size_t rows,
    const struct delivery_opts *o, struct digest_result *res)
{
	struct digest_sent *e;
	int rc;

	res->sent = xrealloc(res->sent, (res->nsent + 1) * sizeof(*res->sent));
	e = &res->sent[res->nsent++];
	memset(e, 0, sizeof(*e));
	e->id = xstrdup(id);
	snprintf(e->r.release_id, sizeof(e->r.release_id), "%s", id);
	if ((rc = dg_load(dg, st, id)) != 0) {
		e->r.end = rc == 1 ? DELIVERY_REFUSED : dg->d->errors ? DELIVERY_INVALID :
		    DELIVERY_JOURNAL;
		if (rc == 1)
			snprintf(e->r.detail, sizeof(e->r.detail), "%s is not in the journal", id);
		else if (!dg->d->errors)
			snprintf(e->r.detail, sizeof(e->r.detail), "journal: %s", store_error(st));
	} else {
		e->releases = rows ? dg->nrels : 0;
		e->rows = rows;
		dg_send(dg, o, &e->r);
	}
	dg_unload(dg);
}

/* The list's digests still being sent: deferred rows due, rows left by a crash. */
static int
dg_resume_open(struct digest *dg, struct store *st, const struct delivery_opts *o,
    struct digest_result *res)
{
	char **ids;
	size_t n, i;

	if (store_digest_open(st, dg->info.id, &ids, &n) == -1) {
		delivery_fail(&res->why, DELIVERY_JOURNAL, "journal: %s", store_error(st));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!(o->stop && *o->stop))
			dg_load_send(dg, st, ids[i], 0, o, res);
		free(ids[i]);
	}
	free(ids);
	return 0;
}

/* A new digest when someone is owed a release, and its sending. */
static void
dg_new(struct digest *dg, struct store *st, const struct delivery_opts *o,
    struct digest_result *res)
{
	struct dgtake t;
	char *id;
	int rc;

	if (dg->nsubs == 0)
		return;
	memset(&t, 0, sizeof(t));
	if ((rc = dg_create(dg, st, &t, &id)) == -1) {
		if (dg->d->errors)
			res->why.end = DELIVERY_INVALID;
		else
			delivery_fail(&res->why, DELIVERY_JOURNAL, "journal: %s", store_error(st));
		return;
	}
	if (rc == 1) {
		res->nothing_new = 1;
		return;
	}
	dg_load_send(dg, st, id, t.rows, o, res);
	free(id);
}

void
digest_run(const struct config *cfg, const char *list_id, const struct delivery_opts *o,
    struct digest_result *r, struct diag *d)
{
	struct validate_summary vsum;
	struct digest dg;
	struct store *st = NULL;
	char err[512];
	int status;

	memset(r, 0, sizeof(*r));
	memset(&dg, 0, sizeof(dg));
	memset(&vsum, 0, sizeof(vsum));
	err[0] = '\0';
	/* The list's members are in the journal, when there is one; an invalid project makes none. */
	if (store_exists(cfg->state) && store_open(cfg->state, &st, err, sizeof(err)) == -1) {
		delivery_fail(&r->why, DELIVERY_NO_JOURNAL, "%s", err);
		goto out;
	}
	if ((status = dg_setup(&dg, cfg, d, &vsum, list_id, st, err, sizeof(err))) != 0) {
		delivery_fail(&r->why, dg_setup_end(status), "%s", err);
		goto out;
	}
	r->subscribers = dg.nsubs;
	if (st == NULL && store_open(cfg->state, &st, err, sizeof(err)) == -1) {
		delivery_fail(&r->why, DELIVERY_NO_JOURNAL, "%s", err);
		goto out;
	}
	if (dg_resume_open(&dg, st, o, r) == 0) {
		if (o->stop && *o->stop)
			r->why.end = DELIVERY_INTERRUPTED;
		else
			dg_new(&dg, st, o, r);
	}
out:
	store_close(st);
	dg_free(&dg);
	validate_summary_free(&vsum);
}

void
digest_result_free(struct digest_result *r)
{
	size_t i;

	for (i = 0; i < r->nsent; i++)
		free(r->sent[i].id);
	free(r->sent);
	memset(r, 0, sizeof(*r));
}

/* The list a digest of the journal is of; 0, or -1 with r->end set. The caller owns *list. */
static int
dg_list_of(const struct config *cfg, const char *id, struct store **st, char **list,
    struct delivery_result *r)
{
	char err[512];
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->release_id, sizeof(r->release_id), "%s", id);
	*list = NULL;
	if (store_open(cfg->state, st, err, sizeof(err)) == -1) {
		delivery_fail(r, DELIVERY_NO_JOURNAL, "%s", err);
		return -1;
	}
	if ((rc = store_digest_list(*st, id, list)) != 0) {
		if (rc == 1)
			delivery_fail(r, DELIVERY_REFUSED, "digest %s is not in the journal", id);
		else
			delivery_fail(r, DELIVERY_JOURNAL, "journal: %s", store_error(*st));
		return -1;
	}
	return 0;
}

void
digest_pending(const struct config *cfg, const char *id, struct delivery_result *r)
{
	struct store_release sr;
	struct store *st = NULL;
	size_t counts[DS__COUNT];
	char *list;

	if (dg_list_of(cfg, id, &st, &list, r) == 0) {
		if (store_release_get(st, id, &sr) != 0 || store_counts(st, sr.id, counts) == -1) {
			delivery_fail(r, DELIVERY_JOURNAL, "journal: %s", store_error(st));
		} else {
			r->counted = 1;
			r->queued = counts[DS_QUEUED];
			r->deferred = counts[DS_DEFERRED];
			r->sent = counts[DS_SENDING];	/* in flight, for the dry run's words */
		}
		store_release_clear(&sr);
	}
	free(list);
	store_close(st);
}

void
digest_resume(const struct config *cfg, const char *id, const struct delivery_opts *o,
    struct delivery_result *r, struct diag *d)
{
	struct digest_result res;
	struct validate_summary vsum;
	struct digest dg;
	struct store *st = NULL;
	char *list = NULL, err[512];
	int status;

	if (dg_list_of(cfg, id, &st, &list, r) == -1)
		goto out;
	memset(&dg, 0, sizeof(dg));
	memset(&vsum, 0, sizeof(vsum));
	memset(&res, 0, sizeof(res));
	err[0] = '\0';
	if ((status = dg_setup(&dg, cfg, d, &vsum, list, st, err, sizeof(err))) != 0) {
		delivery_fail(r, dg_setup_end(status), "%s", err);
	} else {
		dg_load_send(&dg, st, id, 0, o, &res);
		*r = res.sent[0].r;
	}
	digest_result_free(&res);
	dg_free(&dg);
	validate_summary_free(&vsum);
out:
	free(list);
	store_close(st);
}

/* ---- what the next digest would be, recording nothing ---- */

/* The digest subscriber with that address (canonical), or NULL. */
static const struct dgsub *
dg_sub(const struct digest *dg, const char *address)
{
	size_t i;

	for (i = 0; i < dg->nsubs; i++)
		if (strcmp(dg->subs[i].email, address) == 0)
			return &dg->subs[i];
	return NULL;
}

/* One subscriber's message of the digest loaded, as the sending threads make it. */
static int
dg_preview_one(struct digest *dg, const struct dgsub *s, struct buf *msg)
{
	struct store_row row;
	void *w = dg_worker_make(dg);
	struct mbuf out = MBUF_INIT;
	char *mid = NULL;
	int rc;

	memset(&row, 0, sizeof(row));
	row.address = s->email;
	row.list = dg->info.id;
	row.fields = s->fields;
	row.fields_len = s->fields_len;
	if ((rc = dg_render(w, &row, &out, &mid, dg->d)) == 0)
		mbuf_flatten(&out, msg);
	mbuf_free(&out);
	free(mid);
	dg_worker_free(w);
	return rc;
}

void
digest_dry(const struct config *cfg, const char *list_id, const char *to,
    struct digest_dry *out, struct buf *msg, struct delivery_result *r, struct diag *d)
{
	struct validate_summary vsum;
	struct digest dg;
	struct dgtake t;
	struct store *st = NULL;
	const struct dgsub *who = NULL;
	char err[512], *id = NULL;
	int status, rc;

	memset(out, 0, sizeof(*out));
	memset(r, 0, sizeof(*r));
	memset(&dg, 0, sizeof(dg));
	memset(&vsum, 0, sizeof(vsum));
	memset(&t, 0, sizeof(t));
	err[0] = '\0';
	/* Nothing was ever sent without a journal (nor did anyone join); a dry run never makes one. */
	if (store_exists(cfg->state) && store_open(cfg->state, &st, err, sizeof(err)) == -1) {
		delivery_fail(r, DELIVERY_NO_JOURNAL, "%s", err);
		goto out;
	}
	if ((status = dg_setup(&dg, cfg, d, &vsum, list_id, st, err, sizeof(err))) != 0) {
		delivery_fail(r, dg_setup_end(status), "%s", err);
		goto out;
	}
	out->subscribers = dg.nsubs;
	if (to != NULL && (who = dg_sub(&dg, to)) == NULL) {
		delivery_fail(r, DELIVERY_USAGE, "%s takes no digest of list '%s'", to, list_id);
		goto out;
	}
	if (st == NULL)
		goto out;
	/* The very transaction a digest would commit, rolled back. */
	if ((rc = dg_create_in(&dg, st, &t, &id)) == -1) {
		if (!d->errors)
			delivery_fail(r, DELIVERY_JOURNAL, "journal: %s", store_error(st));
		else
			r->end = DELIVERY_INVALID;
	} else if (rc == 0) {
		out->rows = t.rows;
		if (dg_load(&dg, st, id) != 0) {
			if (!d->errors)
				delivery_fail(r, DELIVERY_JOURNAL, "journal: %s", store_error(st));
		} else {
			out->releases = dg.nrels;
			if (who == NULL)
				who = t.first;
			if (msg != NULL && digest_find(dg.items, dg.nitems, who->email,
			    &out->owed) < dg.nitems && out->owed > 0 &&
			    dg_preview_one(&dg, who, msg) == -1)
				r->end = DELIVERY_INVALID;
			if (msg == NULL)
				digest_find(dg.items, dg.nitems, who->email, &out->owed);
			snprintf(out->to, sizeof(out->to), "%s", who->email);
		}
		dg_unload(&dg);
	}
	if (rc != -1)
		store_rollback(st);
	free(id);
out:
	store_close(st);
	dg_free(&dg);
	validate_summary_free(&vsum);
}
