/*
 * relsrc.c - a release file as a source of the sending engine; see relsrc.h.
 */
#include "relsrc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "attach.h"
#include "diag.h"
#include "dkim.h"
#include "list.h"
#include "log.h"
#include "release.h"
#include "render.h"
#include "spool.h"
#include "store.h"
#include "timefmt.h"
#include "tmplfile.h"
#include "token.h"
#include "validate.h"

/* One list of the release, with the template its messages use. */
struct rslist {
	char *id, *path;
	struct list_info info;
	struct tmplfile tmpl;
	int loaded;
};

/* A list file as the check read it: its info and its subscribers, spooled. */
struct rsheld {
	struct list_info info;		/* file is set from the first subscriber on */
	struct spool *sp;
	size_t digest;			/* subscribers by digest: not spooled */
};

/* A release being sent: read by the sending threads once the rows are in. */
struct relsrc {
	const struct config *cfg;
	const struct relsrc_args *a;
	struct diag *d;
	struct validate_summary vsum;	/* where each list is, from the check */
	int hold;			/* the check keeps the lists' subscribers */
	struct rsheld *held;		/* every list file the check read */
	size_t nheld;
	int held_errno;			/* a spool could not be written: why */
	struct buf pack;
	struct release rel;		/* the journal's snapshot of it */
	struct render_release rr;
	int rr_ready;
	struct partials partials;
	struct attach_kit kit;		/* what every message carries, read once */
	int kit_ready;
	struct render_env env;
	struct rslist *lists;
	size_t nlists;
};

/* A sending thread's own. */
struct rsworker {
	const struct relsrc *rs;
	struct render_worker rw;
};

static long long
rs_now(void)
{
	return (long long)time(NULL);
}

static void
rs_lists_from(struct relsrc *rs, const char *spaced)
{
	char *copy = xstrdup(spaced), *tok, *save = NULL;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		rs->lists = xrealloc(rs->lists, (rs->nlists + 1) * sizeof(*rs->lists));
		memset(&rs->lists[rs->nlists], 0, sizeof(*rs->lists));
		rs->lists[rs->nlists++].id = xstrdup(tok);
	}
	free(copy);
}

int
relsrc_record(struct store *st, const struct release *rel, const char *path,
    const char *data, size_t len, const char *lists, int state, long long scheduled_at,
    long long now, long long *row)
{
	struct store_release put;

	/* store_release_put only reads them. */
	memset(&put, 0, sizeof(put));
	put.release_id = rel->id;
	put.file = (char *)path;
	put.snapshot = (char *)data;
	put.snapshot_len = len;
	put.lists = (char *)lists;
	put.scheduled_at = scheduled_at;
	put.state = state;
	return store_release_put(st, &put, now, row);
}

/* ---- before the journal: nothing is sent when any input is invalid ---- */

/* The list the check reads now (the last one it began), begun at file when new. */
static struct rsheld *
rs_held_at(struct relsrc *rs, const char *file)
{
	struct rsheld *h;

	if (rs->nheld > 0 && strcmp(rs->held[rs->nheld - 1].info.file, file) == 0)
		return &rs->held[rs->nheld - 1];
	rs->held = xrealloc(rs->held, (rs->nheld + 1) * sizeof(*rs->held));
	h = &rs->held[rs->nheld++];
	memset(h, 0, sizeof(*h));
	h->info.file = xstrdup(file);
	return h;
}

static int
rs_hold_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct relsrc *rs = arg;
	struct rsheld *h = rs_held_at(rs, info->file);

	if (s->delivery == DELIVERY_DIGEST) {
		h->digest++;	/* digests carry it (herald digest) */
		return 0;
	}
	if (h->sp == NULL && (h->sp = spool_new()) == NULL) {
		rs->held_errno = errno;
		return 1;
	}
	buf_reset(&rs->pack);
	render_fields_pack(s->fields, &rs->pack);
	if (spool_add(h->sp, s->email, rs->pack.data, rs->pack.len) == -1) {
		rs->held_errno = errno;
		return 1;
	}
	return 0;
}

static void
rs_hold_list(void *arg, struct list_info *info)
{
	struct relsrc *rs = arg;
	struct rsheld *h = rs_held_at(rs, info->file);

	list_info_free(&h->info);
	h->info = *info;
	memset(info, 0, sizeof(*info));
}

static int
rs_check(void *arg, struct delivery_ctx *ctx)
{
	struct relsrc *rs = arg;
	char *path = release_path(rs->cfg->releases_dir, rs->a->release_arg);
	struct validate_sink sink = { rs_hold_one, rs_hold_list, rs };

	/*
	 * The release file is read and parsed here, once, when it is one of
	 * the project's; so is each list, its subscribers held for rs_expand.
	 */
	validate_project_keep(rs->cfg, ctx->d, &rs->vsum, path, rs->a->lists, rs->a->nlists,
	    rs->hold ? &sink : NULL);
	free(path);
	buf_free(&rs->pack);
	if (rs->held_errno) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "cannot keep the lists' subscribers in a "
		    "temporary file (TMPDIR): %s", strerror(rs->held_errno));
		return -1;
	}
	if (ctx->d->errors) {
		ctx->r->end = DELIVERY_INVALID;
		return -1;
	}
	return 0;
}

/* ---- the release row ---- */

static void
rs_not_yet(struct delivery_ctx *ctx, const char *id, long long embargo)
{
	char iso[32];

	timefmt_iso_utc(embargo, iso, sizeof(iso));
	ctx->r->until = embargo;
	delivery_fail(ctx->r, DELIVERY_NOT_YET, "release %s is under embargo until %s; nothing sent "
	    "(herald schedule %s --at %s sends it then)", id, iso, id, iso);
}

/*
 * The release as the journal keeps it, recorded now when it is not there
 * yet: the snapshot taken when it was first scheduled or sent is what
 * goes out, even if the file changed. *sr is the journal's row.
 */
static int
rs_journal_row(struct relsrc *rs, struct delivery_ctx *ctx, const struct release *fresh,
    const char *path, const char *data, size_t len, struct store_release *sr)
{
	char *lists;
	int found, rc;

	if ((found = store_release_get(ctx->st, fresh->id, sr)) == -1)
		goto journal;
	if (found == 0 && sr->state == RS_CANCELLED) {
		delivery_fail(ctx->r, DELIVERY_REFUSED, "release %s was cancelled; reschedule it to send it",
		    fresh->id);
		return -1;
	}
	if (found == 0) {
		/*
		 * A scheduled release that goes out now is being sent: no longer
		 * due; a done one is being sent again to whoever has not had it.
		 */
		if ((sr->state == RS_SCHEDULED || sr->state == RS_DONE) &&
		    store_release_set_state(ctx->st, sr->id, RS_SENDING, rs_now()) == -1)
			goto journal;
		if (sr->snapshot_len != len || memcmp(sr->snapshot, data, len) != 0)
			log_warn("send", "%s changed since it was first scheduled or sent; sending "
			    "the journal's snapshot", path);
		return 0;
	}
	if (fresh->has_embargo && rs_now() < fresh->embargo) {
		/* Nothing is recorded: schedule must still be able to take it. */
		rs_not_yet(ctx, fresh->id, fresh->embargo);
		return -1;
	}
	if (rs->a->nlists == 0 && fresh->nlists == 0) {
		delivery_fail(ctx->r, DELIVERY_USAGE, "the release names no lists; give --list ID");
		return -1;
	}
	lists = release_lists_joined(fresh, rs->a->lists, rs->a->nlists);
	rc = relsrc_record(ctx->st, fresh, path, data, len, lists, RS_SENDING, 0, rs_now(),
	    &sr->id);
	free(lists);
	if (rc == -1 || store_release_get(ctx->st, fresh->id, sr) != 0)
		goto journal;
	return 0;
journal:
	delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
	return -1;
}

/* Each list's file and template, as the project check found them. */
static int
rs_templates(struct relsrc *rs)
{
	const struct validate_list *vl;
	const char *name;
	struct rslist *l;
	size_t i;

	partials_init(&rs->partials, rs->cfg->templates_dir);
	for (i = 0; i < rs->nlists; i++) {
		l = &rs->lists[i];
		if ((vl = validate_find_list(&rs->vsum, l->id)) == NULL) {
			diag_error(rs->d, NULL, 0, 0, "unknown list '%s': no list in %s/ has that id",
			    l->id, rs->cfg->lists_dir);
			return -1;
		}
		l->path = xstrdup(vl->file);
		name = rs->rel.template_name ? rs->rel.template_name : vl->template_name;
		if (name == NULL) {
			diag_error(rs->d, l->path, 0, 0, "no template for list '%s'", l->id);
			return -1;
		}
		if (tmplfile_load(rs->cfg->templates_dir, name, &rs->partials, &l->tmpl,
		    rs->d) == -1)
			return -1;
		l->loaded = 1;
	}
	return 0;
}

/*
 * The release's files, the images its Markdown and its lists' templates
 * show and the logo: read and encoded once, shared by every message.
 */
static int
rs_kit(struct relsrc *rs)
{
	size_t i;
	int rc;

	attach_kit_init(&rs->kit, rs->cfg->sender.domain);
	rs->kit_ready = 1;
	rc = attach_kit_release(&rs->kit, &rs->rel, 0, rs->d);
	for (i = 0; i < rs->nlists; i++)
		if (attach_kit_templates(&rs->kit, &rs->lists[i].tmpl,
		    i + 1 == rs->nlists ? &rs->partials : NULL, rs->d) == -1)
			rc = -1;
	if (attach_kit_logo(&rs->kit, rs->cfg, rs->d) == -1)
		rc = -1;
	return rc;
}

/* Moves *from into *to (a parsed release), leaving *from empty. */
static void
rs_take(struct release *to, struct release *from)
{
	*to = *from;
	memset(from, 0, sizeof(*from));
}

/*
 * The release as the check kept it (read and parsed once), or read now
 * when the check could not keep it (a path outside releases/). *data is
 * the caller's to free only when *owned.
 */
static int
rs_fresh(struct relsrc *rs, struct delivery_ctx *ctx, const char *path,
    struct release *fresh, char **data, size_t *len, int *owned)
{
	*owned = !rs->vsum.kept;
	if (rs->vsum.kept) {
		rs_take(fresh, &rs->vsum.release);
		*data = rs->vsum.release_data;
		*len = rs->vsum.release_len;
		return 0;
	}
	if (util_read_beneath(path, data, len) == -1) {
		diag_error(ctx->d, path, 0, 0, "cannot read: %s", util_beneath_error(errno));
		*data = NULL;
		return -1;
	}
	return release_load_mem(path, *data, *len, fresh, ctx->d);
}

/* 1 when the space-separated list of ids has id. */
static int
rs_has_word(const char *spaced, const char *id)
{
	size_t n = strlen(id);
	const char *p;

	for (p = spaced; (p = strstr(p, id)) != NULL; p += n)
		if ((p == spaced || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * The lists this send goes to (see relsrc.h), and the journal's record
 * of every list the release went to, which digests read.
 */
static int
rs_choose_lists(struct relsrc *rs, struct delivery_ctx *ctx, const struct store_release *sr)
{
	struct buf all = BUF_INIT;
	char *now;
	size_t i;
	int rc = 0;

	if (rs->a->journal_lists)
		now = xstrdup(sr->lists ? sr->lists : "");
	else if (rs->a->nlists == 0 && rs->rel.nlists == 0)
		now = xstrdup(sr->lists ? sr->lists : "");
	else
		now = release_lists_joined(&rs->rel, rs->a->lists, rs->a->nlists);
	rs_lists_from(rs, now);
	buf_adds(&all, sr->lists ? sr->lists : "");
	for (i = 0; i < rs->nlists; i++)
		if (!rs_has_word(buf_str(&all), rs->lists[i].id))
			buf_addf(&all, "%s%s", all.len ? " " : "", rs->lists[i].id);
	if (strcmp(buf_str(&all), sr->lists ? sr->lists : "") != 0 &&
	    store_release_set_lists(ctx->st, sr->id, buf_str(&all)) == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
		rc = -1;
	}
	buf_free(&all);
	free(now);
	return rc;
}

static int
rs_prepare(void *arg, struct delivery_ctx *ctx)
{
	struct relsrc *rs = arg;
	struct store_release sr;
	struct release fresh;
	char *path, *data = NULL;
	size_t len = 0;
	int rc = -1, owned = 1;

	memset(&sr, 0, sizeof(sr));
	memset(&fresh, 0, sizeof(fresh));
	path = release_path(rs->cfg->releases_dir, rs->a->release_arg);
	if (rs_fresh(rs, ctx, path, &fresh, &data, &len, &owned) == -1) {
		ctx->r->end = DELIVERY_INVALID;
		goto out;
	}
	snprintf(ctx->r->release_id, sizeof(ctx->r->release_id), "%s", fresh.id);
	if (rs_journal_row(rs, ctx, &fresh, path, data, len, &sr) == -1)
		goto out;
	ctx->relrow = sr.id;
	/* What goes out is the journal's snapshot: parsed again only when the file changed. */
	if (sr.snapshot_len == len && memcmp(sr.snapshot, data, len) == 0)
		rs_take(&rs->rel, &fresh);
	else if (release_load_mem(path, sr.snapshot, sr.snapshot_len, &rs->rel, ctx->d) == -1) {
		ctx->r->end = DELIVERY_INVALID;
		goto out;
	}
	if (rs_choose_lists(rs, ctx, &sr) == -1)
		goto out;
	if (rs->rel.has_embargo && rs_now() < rs->rel.embargo) {
		rs_not_yet(ctx, rs->rel.id, rs->rel.embargo);
		goto out;
	}
	if (rs_templates(rs) == -1 || rs_kit(rs) == -1) {
		ctx->r->end = DELIVERY_INVALID;
		goto out;
	}
	rc = 0;
out:
	store_release_clear(&sr);
	release_free(&fresh);
	if (owned)
		free(data);
	free(path);
	return rc;
}

/* ---- expansion ---- */

/* What the check held of the list at path, or NULL. */
static struct rsheld *
rs_held(struct relsrc *rs, const char *path)
{
	size_t i;

	for (i = 0; i < rs->nheld; i++)
		if (strcmp(rs->held[i].info.file, path) == 0)
			return &rs->held[i];
	return NULL;
}

struct expand {
	size_t added, skipped, digest, dup;
};

/* One list's held subscribers into the journal, in the order of its file. */
static int
rs_expand_list(struct relsrc *rs, struct delivery_ctx *ctx, struct rslist *l, struct expand *x)
{
	struct rsheld *h = rs_held(rs, l->path);
	const char *email;
	const void *fields;
	size_t len;
	int rc;

	if (h == NULL) {
		delivery_fail(ctx->r, DELIVERY_INVALID, "list '%s' (%s) was not read by the check",
		    l->id, l->path);
		return -1;
	}
	/* The list's name and description, for the messages. */
	list_info_free(&l->info);
	l->info = h->info;
	memset(&h->info, 0, sizeof(h->info));
	h->info.file = xstrdup(l->path);
	x->digest += h->digest;
	if (h->sp == NULL)
		return 0;
	if (spool_rewind(h->sp) == -1)
		goto spool;
	while ((rc = spool_next(h->sp, &email, &fields, &len)) == 1) {
		/* Suppressed addresses too: one statement for all of them makes them skipped. */
		rc = store_delivery_add(ctx->st, ctx->relrow, email, l->id, fields, len,
		    DS_QUEUED, NULL, rs_now());
		if (rc == -1) {
			delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
			return -1;
		}
		if (rc == 1)
			x->dup++;
		else
			x->added++;
	}
	if (rc == 0)
		return 0;
spool:
	delivery_fail(ctx->r, DELIVERY_JOURNAL, "cannot read back the subscribers of list '%s' "
	    "from a temporary file: %s", l->id, strerror(errno));
	return -1;
}

/* What every message of the release shares, once the templates and secret are loaded. */
static void
rs_render_env(struct relsrc *rs, const unsigned char *secret)
{
	rs->env.cfg = rs->cfg;
	rs->env.partials = &rs->partials;
	rs->env.secret = secret;
	rs->env.now = rs_now();
	rs->env.kit = rs->kit_ready ? &rs->kit : NULL;
	render_release_init(&rs->rr, &rs->rel);
	rs->rr_ready = 1;
}

/*
 * The lists' subscribers, as the check read them, into the journal in one
 * transaction: an address on two lists once (the first list wins),
 * suppressed ones as skipped, rows already there left as they are (a
 * resumed send).
 */
static int
rs_expand(void *arg, struct delivery_ctx *ctx)
{
	struct relsrc *rs = arg;
	struct expand x;
	size_t i;

	rs_render_env(rs, ctx->secret);
	memset(&x, 0, sizeof(x));
	if (store_begin(ctx->st) == -1)
		goto journal;
	for (i = 0; i < rs->nlists; i++)
		if (rs_expand_list(rs, ctx, &rs->lists[i], &x) == -1) {
			store_rollback(ctx->st);
			return -1;
		}
	if (store_skip_suppressed(ctx->st, ctx->relrow, rs_now(), &x.skipped) == -1) {
		store_rollback(ctx->st);
		goto journal;
	}
	if (store_commit(ctx->st) == -1)
		goto journal;
	if (ctx->o->verbose)
		log_info("send", "release=%s: expanded %zu new recipients, %zu suppressed, %zu "
		    "already in the journal or on an earlier list, %zu by digest", rs->rel.id,
		    x.added > x.skipped ? x.added - x.skipped : 0, x.skipped, x.dup, x.digest);
	return 0;
journal:
	delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
	return -1;
}

/* ---- the window: embargo and expiry, at the moment each message goes out ---- */

static int
rs_window(void *arg, long long now, long long *until)
{
	const struct relsrc *rs = arg;

	if (rs->rel.has_embargo && now < rs->rel.embargo) {
		*until = rs->rel.embargo;
		return 0;
	}
	if (rs->rel.has_expires && now >= rs->rel.expires) {
		*until = rs->rel.expires;
		return -1;
	}
	return 1;
}

/* ---- rendering, on the sending threads ---- */

static struct rslist *
rs_list(const struct relsrc *rs, const char *id)
{
	size_t i;

	for (i = 0; i < rs->nlists; i++)
		if (strcmp(rs->lists[i].id, id) == 0)
			return &rs->lists[i];
	return NULL;
}

static void *
rs_worker_make(void *arg)
{
	const struct relsrc *rs = arg;
	struct rsworker *w = xcalloc(1, sizeof(*w));

	w->rs = rs;
	render_worker_init(&w->rw, &rs->env, &rs->partials);
	return w;
}

static void
rs_worker_free(void *state)
{
	struct rsworker *w = state;

	if (w == NULL)
		return;
	render_worker_free(&w->rw);
	free(w);
}

/* The message for one row and its Message-ID; rs is only read. */
static int
rs_render(void *state, const struct store_row *row, struct mbuf *msg, char **message_id,
    struct diag *d)
{
	struct rsworker *w = state;
	struct rslist *l = rs_list(w->rs, row->list);
	struct subscriber s;

	if (l == NULL) {
		diag_error(d, NULL, 0, 0, "row %lld names list '%s', not one of the release's",
		    row->id, row->list);
		return -1;
	}
	ydoc_clear(w->rw.doc);
	w->rw.env.token_time = row->first_attempt;
	render_worker_subscriber(&w->rw, row->address, row->fields, row->fields_len, &s);
	return render_message_parts(&w->rw.env, &w->rs->rr, &l->info, &s, &l->tmpl,
	    (unsigned long long)row->id, msg, message_id, d);
}

/* ---- the whole ---- */

static void
rs_init(struct relsrc *rs, const struct config *cfg, const struct relsrc_args *a,
    struct diag *d)
{
	memset(rs, 0, sizeof(*rs));
	rs->cfg = cfg;
	rs->a = a;
	rs->d = d;
}

static void
rs_free(struct relsrc *rs)
{
	size_t i;

	for (i = 0; i < rs->nlists; i++) {
		free(rs->lists[i].id);
		free(rs->lists[i].path);
		list_info_free(&rs->lists[i].info);
		tmplfile_free(&rs->lists[i].tmpl);
	}
	free(rs->lists);
	for (i = 0; i < rs->nheld; i++) {
		list_info_free(&rs->held[i].info);
		spool_free(rs->held[i].sp);
	}
	free(rs->held);
	buf_free(&rs->pack);
	if (rs->rr_ready)
		render_release_free(&rs->rr);
	partials_free(&rs->partials);
	if (rs->kit_ready)
		attach_kit_free(&rs->kit);
	release_free(&rs->rel);
	validate_summary_free(&rs->vsum);
}

void
relsrc_send(const struct config *cfg, const struct relsrc_args *a,
    const struct delivery_opts *o, struct delivery_result *r, struct diag *d)
{
	struct delivery_source src;
	struct relsrc rs;

	rs_init(&rs, cfg, a, d);
	rs.hold = 1;
	memset(&src, 0, sizeof(src));
	src.check = rs_check;
	src.prepare = rs_prepare;
	src.expand = rs_expand;
	src.window = rs_window;
	src.make = rs_worker_make;
	src.free = rs_worker_free;
	src.render = rs_render;
	src.arg = &rs;
	delivery_run(cfg, &src, o, r, d);
	rs_free(&rs);
}

/* ---- dry run: everything but the journal and the relay ---- */

struct dry {
	struct relsrc *rs;
	struct store *st;		/* NULL: no journal yet */
	long long relrow;		/* the release's row in it, 0: none yet */
	struct rslist *list;
	struct relsrc_dry *out;
	struct mbuf msg;
	uint64_t *seen;			/* open addressing; 0 is empty */
	size_t nseen, cap;
	int failed;
};

/* 1 when the address was already seen (on this or an earlier list). */
static int
dry_seen(struct dry *x, const char *email)
{
	uint64_t h = addr_hash(email, strlen(email));
	size_t i, cap;
	uint64_t *old;

	if (2 * (x->nseen + 1) > x->cap) {
		old = x->seen;
		cap = x->cap;
		x->cap = cap ? 2 * cap : 1024;
		x->seen = xcalloc(x->cap, sizeof(*x->seen));
		x->nseen = 0;
		for (i = 0; i < cap; i++) {
			size_t j;
			if (old[i] == 0)
				continue;
			for (j = old[i] & (x->cap - 1); x->seen[j]; j = (j + 1) & (x->cap - 1))
				;
			x->seen[j] = old[i];
			x->nseen++;
		}
		free(old);
	}
	for (i = h & (x->cap - 1); x->seen[i]; i = (i + 1) & (x->cap - 1))
		if (x->seen[i] == h)
			return 1;
	x->seen[i] = h;
	x->nseen++;
	return 0;
}

static int
dry_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct dry *x = arg;
	struct relsrc *rs = x->rs;

	if (s->delivery == DELIVERY_DIGEST) {
		x->out->digest++;
		return 0;
	}
	if (dry_seen(x, s->email)) {
		x->out->dup++;
		return 0;
	}
	/* A send mails only who has no delivery of it yet: so does the count. */
	if (x->relrow && store_delivery_has(x->st, x->relrow, s->email) == 1) {
		x->out->had++;
		return 0;
	}
	if (x->st && store_is_suppressed(x->st, s->email, x->list->id) == 1) {
		x->out->suppressed++;
		return 0;
	}
	if (x->out->count_only) {
		x->out->would++;
		return 0;
	}
	mbuf_reset(&x->msg);
	if (render_message_parts(&rs->env, &rs->rr, info, s, &x->list->tmpl, 0, &x->msg, NULL,
	    rs->d) == -1) {
		x->failed = 1;
		return 1;
	}
	x->out->bytes += mbuf_len(&x->msg);
	x->out->would++;
	return 0;
}

/* The release file, its lists and templates, the secret and the DKIM key, as send reads them. */
static int
dry_inputs(struct relsrc *rs, struct delivery_ctx *ctx, unsigned char *secret)
{
	struct dkim_signer *dk;
	char err[512], *path;

	path = release_path(rs->cfg->releases_dir, rs->a->release_arg);
	if (release_load(path, &rs->rel, rs->d) == -1) {
		free(path);
		ctx->r->end = DELIVERY_INVALID;
		return -1;
	}
	free(path);
	snprintf(ctx->r->release_id, sizeof(ctx->r->release_id), "%s", rs->rel.id);
	if (rs->a->nlists == 0 && rs->rel.nlists == 0) {
		delivery_fail(ctx->r, DELIVERY_USAGE, "the release names no lists; give --list ID");
		return -1;
	}
	path = release_lists_joined(&rs->rel, rs->a->lists, rs->a->nlists);
	rs_lists_from(rs, path);
	free(path);
	if (rs_templates(rs) == -1 || rs_kit(rs) == -1) {
		ctx->r->end = DELIVERY_INVALID;
		return -1;
	}
	if (token_secret_load(rs->cfg->secret, secret, err, sizeof(err)) == -1) {
		delivery_fail(ctx->r, DELIVERY_CONFIG, "%s", err);
		return -1;
	}
	/* A key that send would refuse fails the dry run too. */
	if (rs->cfg->dkim.enabled) {
		if ((dk = dkim_signer_new(rs->cfg, err, sizeof(err))) == NULL) {
			delivery_fail(ctx->r, DELIVERY_CONFIG, "%s", err);
			return -1;
		}
		dkim_signer_free(dk);
	}
	return 0;
}

void
relsrc_dry_run(const struct config *cfg, const struct relsrc_args *a,
    struct relsrc_dry *out, struct delivery_result *r, struct diag *d)
{
	struct delivery_ctx ctx;
	unsigned char secret[TOKEN_SECRET_LEN];
	struct store_release sr;
	struct list_info info;
	struct relsrc rs;
	struct dry x;
	char err[256];
	size_t i;
	int count_only = out->count_only;

	memset(out, 0, sizeof(*out));
	out->count_only = count_only;
	memset(r, 0, sizeof(*r));
	memset(&ctx, 0, sizeof(ctx));
	memset(&x, 0, sizeof(x));
	memset(&sr, 0, sizeof(sr));
	ctx.cfg = cfg;
	ctx.r = r;
	ctx.d = d;
	rs_init(&rs, cfg, a, d);
	x.rs = &rs;
	x.out = out;
	if (rs_check(&rs, &ctx) == -1 || dry_inputs(&rs, &ctx, secret) == -1)
		goto out;
	/* Suppressions count when there is a journal; a dry run never creates one. */
	if (access(cfg->state, F_OK) == 0 && store_open(cfg->state, &x.st, err,
	    sizeof(err)) == -1) {
		delivery_fail(ctx.r, DELIVERY_NO_JOURNAL, "%s", err);
		goto out;
	}
	if (x.st && store_release_get(x.st, rs.rel.id, &sr) == 0)
		x.relrow = sr.id;
	store_release_clear(&sr);
	rs_render_env(&rs, secret);
	for (i = 0; i < rs.nlists && !x.failed; i++) {
		x.list = &rs.lists[i];
		if (list_load(x.list->path, &info, dry_one, &x, d) == -1)
			x.failed = 1;
		list_info_free(&info);
	}
	if (x.failed)
		r->end = DELIVERY_INVALID;
	snprintf(out->release_id, sizeof(out->release_id), "%s", rs.rel.id);
	for (i = 0; i < rs.nlists; i++)
		snprintf(out->lists + strlen(out->lists), sizeof(out->lists) - strlen(out->lists),
		    "%s%s", i ? ", " : "", rs.lists[i].id);
out:
	mbuf_free(&x.msg);
	free(x.seen);
	store_close(x.st);
	memset(secret, 0, sizeof(secret));
	rs_free(&rs);
}
