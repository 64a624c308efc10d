/*
 * digest.c - a list's digest: who is owed which releases, recorded in the
 * journal in one transaction, then sent by delivery.c's loop with a
 * renderer of its own. See digest.h for the rules.
 */
#include "digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "list.h"
#include "release.h"
#include "render.h"
#include "timefmt.h"
#include "tmplfile.h"
#include "token.h"
#include "validate.h"

#define DIGEST_PREFIX "digest."

/* One release a digest carries, rendered once for every message. */
struct dgrel {
	long long row;
	struct release rel;
	struct render_release rr;
	int ready;			/* loaded and rendered */
	char date[11];			/* the UTC day it went out */
};

/* A digest subscriber as the list has them now: the address and template fields. */
struct dgsub {
	char *email;
	char *fields;			/* render_fields_pack's blob */
	size_t fields_len;
};

/* What every message of one digest shares; only read once sending starts. */
struct digest {
	const struct config *cfg;
	struct diag *d;
	struct list_info info;
	struct dgsub *subs;		/* the list's digest subscribers */
	size_t nsubs, subscap;
	struct tmplfile tmpl;
	int tmpl_loaded;
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
};

/* A sending thread's own: partials are filled lazily, documents are reused. */
struct dgworker {
	const struct digest *dg;
	struct partials partials;
	struct render_env env;
	struct ydoc *doc;
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

static int
dg_sub_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct digest *dg = arg;
	struct dgsub *e;
	struct buf b = BUF_INIT;

	(void)info;
	if (s->delivery != DELIVERY_DIGEST)
		return 0;
	dg->subs = xgrow(dg->subs, &dg->subscap, dg->nsubs + 1, sizeof(*dg->subs));
	e = &dg->subs[dg->nsubs++];
	e->email = xstrdup(s->email);
	render_fields_pack(s->fields, &b);
	e->fields_len = b.len;
	e->fields = buf_detach(&b);
	return 0;
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
    struct validate_summary *vsum, const char *list_id)
{
	const struct validate_list *vl;
	char err[256];

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
	if (list_load(vl->file, &dg->info, dg_sub_one, dg, d) == -1)
		return dg_status(dg, EXIT_DATAERR);
	if (dg->info.digest_template == NULL) {
		diag_error(d, vl->file, 0, 0, "list '%s' has no digest template "
		    "(digest: { template: NAME })", list_id);
		return EXIT_DATAERR;
	}
	if (tmplfile_load(cfg->templates_dir, dg->info.digest_template, &dg->partials,
	    &dg->tmpl, d) == -1)
		return dg_status(dg, EXIT_DATAERR);
	dg->tmpl_loaded = 1;
	if (token_secret_load(cfg->secret, dg->secret, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
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
			render_release_free(&dg->rels[i].rr);
		release_free(&dg->rels[i].rel);
	}
	free(dg->rels);
	dg->rels = NULL;
	dg->nrels = 0;
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
	if (dg->tmpl_loaded)
		tmplfile_free(&dg->tmpl);
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
		render_release_init(&r->rr, &r->rel);
		r->ready = 1;
		ynode_map_set(r->rr.doc, r->rr.fields, "date", ynode_str(r->rr.doc, r->date));
	}
	store_release_clear(&sr);
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
	return 0;
}

/* ---- rendering, on the sending threads ---- */

static void *
dg_worker_make(void *arg)
{
	const struct digest *dg = arg;
	struct dgworker *w = xcalloc(1, sizeof(*w));

	w->dg = dg;
	partials_copy(&w->partials, &dg->partials);
	w->env.cfg = dg->cfg;
	w->env.partials = &w->partials;
	w->env.secret = dg->secret;
	w->env.now = (long long)time(NULL);
	w->doc = ydoc_new("journal");
	return w;
}

static void
dg_worker_free(void *state)
{
	struct dgworker *w = state;

	if (w == NULL)
		return;
	ydoc_free(w->doc);
	partials_free(&w->partials);
	free(w);
}

/* The row's releases, oldest first, as a sequence; NULL when it has none. */
static struct ynode *
dg_releases(const struct digest *dg, struct ydoc *doc, const char *address,
    const struct dgrel **oldest)
{
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
		ynode_seq_push(seq, r->rr.fields);
	}
	return seq;
}

static int
dg_render(void *state, const struct store_row *row, char **msg, size_t *len,
    char **message_id, struct diag *d)
{
	struct dgworker *w = state;
	const struct digest *dg = w->dg;
	const struct dgrel *oldest = NULL;
	struct ynode *releases, *period, *name;
	struct buf out = BUF_INIT;
	struct subscriber s;

	ydoc_clear(w->doc);
	if ((releases = dg_releases(dg, w->doc, row->address, &oldest)) == NULL) {
		diag_error(d, NULL, 0, 0, "digest %s: no releases recorded for %s", dg->id,
		    row->address);
		return -1;
	}
	period = ynode_map(w->doc);
	ynode_map_set(w->doc, period, "from", ynode_str(w->doc, oldest->date));
	ynode_map_set(w->doc, period, "to", ynode_str(w->doc, dg->to));
	memset(&s, 0, sizeof(s));
	s.email = row->address;
	s.delivery = DELIVERY_DIGEST;
	s.doc = w->doc;
	s.fields = render_fields_unpack(w->doc, row->fields, row->fields_len);
	if ((name = ynode_get(s.fields, "name")) != NULL)
		s.name = name->str;
	if (render_digest(&w->env, dg->id, releases, period, &dg->info, &s, &dg->tmpl,
	    (unsigned long long)row->id, &out, message_id, d) == -1) {
		buf_free(&out);
		return -1;
	}
	*len = out.len;
	*msg = buf_detach(&out);
	return 0;
}

/* Sends (or resumes) the loaded digest through delivery.c's loop. */
static int
dg_send(struct digest *dg, const struct delivery_opts *o)
{
	struct delivery_source src;

	memset(&src, 0, sizeof(src));
	src.release_id = dg->id;
	src.make = dg_worker_make;
	src.free = dg_worker_free;
	src.render = dg_render;
	src.arg = dg;
	return delivery_run_source(dg->cfg, &src, o);
}

/* ---- a new digest: who is owed what, in one transaction ---- */

struct dgtake {
	struct store *st;
	const char *list;
	long long rel, since, now;
	size_t rows;
};

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
	    store_digest_take(t->st, t->rel, t->list, s->email, &n) == -1)
		return -1;
	if (n == 0)
		return 0;
	if (store_delivery_add(t->st, t->rel, s->email, t->list, s->fields, s->fields_len,
	    DS_QUEUED, NULL, t->now) == -1)
		return -1;
	t->rows++;
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
dg_create(struct digest *dg, struct store *st, struct dgtake *t, char **id)
{
	size_t i, skipped = 0;
	int rc = -1;

	*id = NULL;
	t->st = st;
	t->list = dg->info.id;
	t->now = dg->now;
	if (store_begin(st) == -1)
		return -1;
	if (store_digest_last(st, t->list, &t->since) == -1 || dg_new_row(t, id) == -1)
		goto out;
	for (i = 0; i < dg->nsubs; i++)
		if (dg_take_one(t, &dg->subs[i]) == -1)
			goto out;
	if (store_skip_suppressed(st, t->rel, t->now, &skipped) == 0)
		rc = t->rows ? 0 : 1;
out:
	if (rc != 0) {
		store_rollback(st);
		free(*id);
		*id = NULL;
		return rc;
	}
	return store_commit(st);
}

/* ---- the commands' side ---- */

static struct store *
dg_journal(const struct config *cfg)
{
	struct store *st;
	char err[512];

	if (store_open(cfg->state, &st, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		return NULL;
	}
	return st;
}

/* A worse status wins: an error over a retry later over success. */
static int
dg_worse(int status, int next)
{
	if (status == 0 || (status == EXIT_TEMPFAIL && next != 0))
		return next;
	return status;
}

/*
 * Loads and sends one digest of the journal; st is only read. A new one
 * (rows > 0) is announced first, with what it carries.
 */
static int
dg_load_send(struct digest *dg, struct store *st, const char *id, size_t rows,
    const struct delivery_opts *o)
{
	int rc, status;

	if ((rc = dg_load(dg, st, id)) != 0) {
		if (rc == -1 && !dg->d->errors)
			fprintf(stderr, "herald: journal: %s\n", store_error(st));
		status = rc == 1 ? EXIT_DATAERR : dg_status(dg, EXIT_SOFTWARE);
	} else {
		if (rows) {
			printf("digest %s: %s carries %zu release%s to %zu of %zu digest "
			    "subscribers\n", dg->info.id, id, dg->nrels, dg->nrels == 1 ? "" : "s",
			    rows, dg->nsubs);
			fflush(stdout);
		}
		status = dg_send(dg, o);
	}
	dg_unload(dg);
	return status;
}

/* The list's digests still being sent: deferred rows due, rows left by a crash. */
static int
dg_resume_open(struct digest *dg, struct store *st, const struct delivery_opts *o)
{
	char **ids;
	size_t n, i;
	int status = 0;

	if (store_digest_open(st, dg->info.id, &ids, &n) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(st));
		return EXIT_SOFTWARE;
	}
	for (i = 0; i < n; i++) {
		if (!(o->stop && *o->stop))
			status = dg_worse(status, dg_load_send(dg, st, ids[i], 0, o));
		free(ids[i]);
	}
	free(ids);
	return status;
}

/* A new digest when someone is owed a release, and its sending. */
static int
dg_new(struct digest *dg, struct store *st, const struct delivery_opts *o)
{
	struct dgtake t;
	char *id;
	int rc, status;

	if (dg->nsubs == 0) {
		printf("digest %s: no subscriber takes the digest; nothing sent\n", dg->info.id);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	if ((rc = dg_create(dg, st, &t, &id)) == -1) {
		if (!dg->d->errors)
			fprintf(stderr, "herald: journal: %s\n", store_error(st));
		return dg_status(dg, EXIT_SOFTWARE);
	}
	if (rc == 1) {
		printf("digest %s: nothing new since the last digest; nothing sent\n", dg->info.id);
		return 0;
	}
	status = dg_load_send(dg, st, id, t.rows, o);
	free(id);
	return status;
}

int
digest_run(const struct config *cfg, const char *list_id, int verbose,
    volatile sig_atomic_t *stop)
{
	struct delivery_opts o;
	struct validate_summary vsum;
	struct digest dg;
	struct store *st = NULL;
	struct diag d;
	int status;

	memset(&o, 0, sizeof(o));
	memset(&dg, 0, sizeof(dg));
	memset(&vsum, 0, sizeof(vsum));
	o.verbose = verbose;
	o.stop = stop;
	diag_init(&d, EXIT_DATAERR);
	if ((status = dg_setup(&dg, cfg, &d, &vsum, list_id)) != 0)
		goto out;
	if ((st = dg_journal(cfg)) == NULL) {
		status = EXIT_CANTCREAT;
		goto out;
	}
	status = dg_resume_open(&dg, st, &o);
	if (stop && *stop)
		status = dg_worse(status, EXIT_TEMPFAIL);
	else
		status = dg_worse(status, dg_new(&dg, st, &o));
out:
	diag_print(&d);
	store_close(st);
	dg_free(&dg);
	validate_summary_free(&vsum);
	diag_free(&d);
	return status;
}

/* A dry run of a digest in the journal: how many of its messages wait. */
static int
dg_dry(struct store *st, const char *id)
{
	struct store_release sr;
	size_t counts[DS__COUNT];

	if (store_release_get(st, id, &sr) != 0 || store_counts(st, sr.id, counts) == -1) {
		store_release_clear(&sr);
		fprintf(stderr, "herald: journal: %s\n", store_error(st));
		return EXIT_SOFTWARE;
	}
	store_release_clear(&sr);
	printf("dry run: digest %s: %zu queued, %zu deferred, %zu sending; nothing sent\n", id,
	    counts[DS_QUEUED], counts[DS_DEFERRED], counts[DS_SENDING]);
	return 0;
}

int
digest_resume(const struct config *cfg, const struct delivery_opts *o)
{
	struct validate_summary vsum;
	struct digest dg;
	struct store *st;
	struct diag d;
	char *list = NULL;
	int rc, status;

	if ((st = dg_journal(cfg)) == NULL)
		return EXIT_CANTCREAT;
	if ((rc = store_digest_list(st, o->release_arg, &list)) != 0) {
		if (rc == 1)
			fprintf(stderr, "herald: digest %s is not in the journal\n", o->release_arg);
		else
			fprintf(stderr, "herald: journal: %s\n", store_error(st));
		store_close(st);
		return rc == 1 ? EXIT_DATAERR : EXIT_SOFTWARE;
	}
	if (o->dry_run) {
		status = dg_dry(st, o->release_arg);
		store_close(st);
		free(list);
		return status;
	}
	memset(&dg, 0, sizeof(dg));
	memset(&vsum, 0, sizeof(vsum));
	diag_init(&d, EXIT_DATAERR);
	if ((status = dg_setup(&dg, cfg, &d, &vsum, list)) == 0)
		status = dg_load_send(&dg, st, o->release_arg, 0, o);
	diag_print(&d);
	store_close(st);
	dg_free(&dg);
	validate_summary_free(&vsum);
	diag_free(&d);
	free(list);
	return status;
}
