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
#include "members.h"
#include "release.h"
#include "render.h"
#include "segment.h"
#include "spool.h"
#include "store.h"
#include "timefmt.h"
#include "tmplfile.h"
#include "token.h"
#include "validate.h"

/* One list of the release, with the template its messages use and the template's variants. */
struct rslist {
	char *id, *path;
	char *lang;			/* the list's `lang`, or NULL */
	struct list_info info;
	struct tmplset tmpls;
	int loaded;
};

/* A list file as the check read it: its info and its subscribers, spooled. */
struct rsheld {
	struct list_info info;		/* file is set from the first subscriber on */
	struct spool *sp;
	size_t digest;			/* subscribers by digest: not in sp */
	struct spool *dsp;		/* their addresses: a member with one is theirs */
};

/* When a zone's readers get it (deliver_local), worked out once per zone. */
struct rszone {
	char *zone;			/* NULL: UTC */
	long long due;
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
	struct render_versions rv;	/* each language of it, rendered once */
	int rv_ready;
	struct partials partials;
	struct attach_kit kit;		/* what every message carries, read once */
	int kit_ready;
	struct render_env env;
	struct rslist *lists;
	size_t nlists;
	long long base;			/* the day deliver_local counts from: scheduled, else begun */
	struct rszone *zones;		/* deliver_local's times, by zone */
	size_t nzones;
	char until[32];			/* the lift, ISO 8601 UTC */
	struct segment_set set;		/* who of the lists this send keeps; n == 0: everyone */
	char *set_text;			/* the journal's set once this send is recorded */
	struct rsexp *exp;		/* the expansion, while it goes on */
};

/* The lift as one zone's readers see it. */
struct rslocal {
	char *zone;
	char text[64];
};

/* A sending thread's own. */
struct rsworker {
	const struct relsrc *rs;
	struct render_worker rw;
	struct render_embargo emb;
	struct rslocal *locals;
	size_t nlocals;
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
    const char *data, size_t len, const char *lists, const struct segment *where, int state,
    long long scheduled_at, long long now, long long *row)
{
	struct store_release put;
	struct segment_set set;
	struct segment seg;
	int rc;

	segment_combine(&seg, &rel->where, where);
	segment_set_one(&set, &seg);
	/* store_release_put only reads them. */
	memset(&put, 0, sizeof(put));
	put.release_id = rel->id;
	put.file = (char *)path;
	put.snapshot = (char *)data;
	put.snapshot_len = len;
	put.lists = (char *)lists;
	put.scheduled_at = scheduled_at;
	put.state = state;
	put.segment = segment_set_text(&set);
	rc = store_release_put(st, &put, now, row);
	if (rc == 0)
		rc = store_release_set_lift(st, *row, rel->has_embargo ? rel->embargo : 0);
	free(put.segment);
	segment_set_free(&set);
	segment_free(&seg);
	return rc;
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
		/* Digests carry it (herald digest). */
		h->digest++;
		if ((h->dsp == NULL && (h->dsp = spool_new()) == NULL) ||
		    spool_add(h->dsp, s->email, NULL, 0) == -1) {
			rs->held_errno = errno;
			return 1;
		}
		return 0;
	}
	if (h->sp == NULL && (h->sp = spool_new()) == NULL) {
		rs->held_errno = errno;
		return 1;
	}
	buf_reset(&rs->pack);
	render_subscriber_pack(s, &rs->pack);
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
rs_not_yet(struct delivery_ctx *ctx, const struct release *rel)
{
	long long opens = release_opens(rel);
	char iso[32], lift[32];

	timefmt_iso_utc(opens, iso, sizeof(iso));
	timefmt_iso_utc(rel->embargo, lift, sizeof(lift));
	ctx->r->until = opens;
	if (rel->nprebrief > 0)
		delivery_fail(ctx->r, DELIVERY_NOT_YET, "release %s is under embargo until %s and "
		    "its pre-briefing starts at %s; nothing sent (herald schedule %s sends both "
		    "waves then)", rel->id, lift, iso, rel->id);
	else
		delivery_fail(ctx->r, DELIVERY_NOT_YET, "release %s is under embargo until %s; "
		    "nothing sent (herald schedule %s --at %s sends it then)", rel->id, iso,
		    rel->id, iso);
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
	if (rs_now() < release_opens(fresh)) {
		/* Nothing is recorded: schedule must still be able to take it. */
		rs_not_yet(ctx, fresh);
		return -1;
	}
	if (rs->a->nlists == 0 && fresh->nlists == 0) {
		delivery_fail(ctx->r, DELIVERY_USAGE, "the release names no lists; give --list ID");
		return -1;
	}
	lists = release_lists_joined(fresh, rs->a->lists, rs->a->nlists);
	rc = relsrc_record(ctx->st, fresh, path, data, len, lists, rs->a->where, RS_SENDING, 0,
	    rs_now(), &sr->id);
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
		l->lang = vl->lang ? xstrdup(vl->lang) : NULL;
		name = rs->rel.template_name ? rs->rel.template_name : vl->template_name;
		if (name == NULL) {
			diag_error(rs->d, l->path, 0, 0, "no template for list '%s'", l->id);
			return -1;
		}
		if (tmplset_load(rs->cfg->templates_dir, name, &rs->partials, &l->tmpls,
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
	size_t i, j;
	int rc;

	attach_kit_init(&rs->kit, rs->cfg->sender.domain);
	rs->kit_ready = 1;
	rc = attach_kit_release(&rs->kit, &rs->rel, 0, rs->d);
	/* Every template a reader may get, each variant too; the partials once, with the last. */
	for (i = 0; i < rs->nlists; i++)
		for (j = 0; j < rs->lists[i].tmpls.n; j++)
			if (attach_kit_templates(&rs->kit, &rs->lists[i].tmpls.t[j],
			    i + 1 == rs->nlists && j + 1 == rs->lists[i].tmpls.n ? &rs->partials :
			    NULL, rs->d) == -1)
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

/*
 * The pre-briefing's lists first: an address on one of them and on a
 * public list gets it once, early and marked (the first list wins).
 */
static void
rs_prebrief_first(struct relsrc *rs)
{
	struct rslist tmp;
	size_t i, j = 0;

	for (i = 0; i < rs->nlists; i++)
		if (release_prebriefs(&rs->rel, rs->lists[i].id)) {
			tmp = rs->lists[i];
			memmove(&rs->lists[j + 1], &rs->lists[j], (i - j) * sizeof(*rs->lists));
			rs->lists[j++] = tmp;
		}
}

/*
 * Who of the lists this send goes to: for the daemon, every segment the
 * journal recorded for the release (as it takes every list); for a send
 * by hand, the release's own `where` with --where's keys in place, which
 * joins the journal's set.
 */
static int
rs_choose_segment(struct relsrc *rs, struct delivery_ctx *ctx, const struct store_release *sr)
{
	struct segment seg;
	struct segment_set all;

	if (segment_set_parse(&all, sr->segment ? sr->segment : "") == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: release %s has a segment herald "
		    "cannot read", rs->rel.id);
		return -1;
	}
	if (rs->a->journal_lists) {
		rs->set = all;
	} else {
		segment_combine(&seg, &rs->rel.where, rs->a->where);
		segment_set_one(&rs->set, &seg);
		segment_set_add(&all, &seg);
		segment_free(&seg);
	}
	rs->set_text = segment_set_text(rs->a->journal_lists ? &rs->set : &all);
	if (!rs->a->journal_lists)
		segment_set_free(&all);
	return 0;
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
	if (rs_choose_lists(rs, ctx, &sr) == -1 || rs_choose_segment(rs, ctx, &sr) == -1)
		goto out;
	if (rs_now() < release_opens(&rs->rel)) {
		rs_not_yet(ctx, &rs->rel);
		goto out;
	}
	rs->base = sr.scheduled_at ? sr.scheduled_at : sr.created;
	rs_prebrief_first(rs);
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
	size_t members;			/* of added: members of a list who are not in its file */
	size_t kept, left;		/* by the segment, of those who get each release */
};

/* The zone a reader's times are shown and kept in: theirs, else the list's, else the config's. */
static const char *
rs_zone(const struct relsrc *rs, const struct rslist *l, const char *tz)
{
	if (tz)
		return tz;
	return l->info.tz ? l->info.tz : rs->cfg->tz;
}

/*
 * When a row of list l for a reader in zone falls due (0: at once): the
 * pre-briefing's wave at its time; the others at the lift, or at
 * deliver_local's time in the reader's zone on the day the release was
 * scheduled or begun (the next day when that time was past), never before
 * the lift. -1 when the zone cannot be read.
 */
static int
rs_due(struct relsrc *rs, const struct rslist *l, const char *tz, int early, long long *due)
{
	const struct release *r = &rs->rel;
	const char *zone = rs_zone(rs, l, tz);
	size_t i;

	if (early) {
		*due = r->has_prebrief_at ? r->prebrief_at : 0;
		return 0;
	}
	*due = r->has_embargo ? r->embargo : 0;
	if (r->deliver_local < 0)
		return 0;
	for (i = 0; i < rs->nzones; i++)
		if (zone == NULL ? rs->zones[i].zone == NULL :
		    rs->zones[i].zone && strcmp(rs->zones[i].zone, zone) == 0)
			break;
	if (i == rs->nzones) {
		long long at;

		if (timefmt_local_at(rs->base, zone, r->deliver_local, &at) == -1)
			return -1;
		rs->zones = xrealloc(rs->zones, (rs->nzones + 1) * sizeof(*rs->zones));
		rs->zones[i].zone = zone ? xstrdup(zone) : NULL;
		rs->zones[i].due = at;
		rs->nzones++;
	}
	if (rs->zones[i].due > *due)
		*due = rs->zones[i].due;
	return 0;
}

/* One list's expansion, for each row it adds. */
struct rsadd {
	struct relsrc *rs;
	struct delivery_ctx *ctx;
	struct rslist *l;
	struct expand *x;
	int early;			/* the list is in the pre-briefing's early wave */
};

/*
 * One subscriber of the list into the journal (rows already there left as
 * they are: 1), or left out by the segment (2). 0 added; -1 after
 * delivery_fail.
 */
static int
rs_add(struct rsadd *a, const char *email, const void *fields, size_t len)
{
	struct relsrc *rs = a->rs;
	const char *tz;
	long long due;
	int rc;

	/* Left out by the segment: no row at all, so a later send may still reach them. */
	if (!segment_set_match_packed(&rs->set, fields, len)) {
		a->x->left++;
		return 2;
	}
	a->x->kept++;
	tz = render_fields_tz(fields, len);
	if (rs_due(rs, a->l, tz, a->early, &due) == -1) {
		delivery_fail(a->ctx->r, DELIVERY_INVALID, "list '%s': cannot read the time zone "
		    "'%s'", a->l->id, rs_zone(rs, a->l, tz));
		return -1;
	}
	/* Suppressed addresses too: one statement for all of them makes them skipped. */
	rc = store_delivery_add_due(a->ctx->st, a->ctx->relrow, email, a->l->id, fields, len,
	    DS_QUEUED, NULL, due, a->early, rs_now());
	if (rc == -1) {
		delivery_fail(a->ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(a->ctx->st));
		return -1;
	}
	if (rc == 1)
		a->x->dup++;
	else
		a->x->added++;
	return rc;
}

/*
 * The list file's subscribers, as the check spooled them, in the order of
 * the file, up to *budget of them: 1 the file is done, 0 the budget is
 * spent, -1 after delivery_fail.
 */
static int
rs_expand_file(struct rsadd *a, struct rsheld *h, struct members *m, size_t *budget)
{
	const char *email;
	const void *fields;
	size_t len;
	int rc;

	for (; *budget > 0; (*budget)--) {
		if ((rc = spool_next(h->sp, &email, &fields, &len)) == 0)
			return 1;
		if (rc == -1)
			goto spool;
		members_file(m, email);
		if (rs_add(a, email, fields, len) == -1)
			return -1;
	}
	return 0;
spool:
	delivery_fail(a->ctx->r, DELIVERY_JOURNAL, "cannot read back the subscribers of list '%s' "
	    "from a temporary file: %s", a->l->id, strerror(errno));
	return -1;
}

/* The file's digest subscribers' addresses, for the members: theirs is the file's. */
static int
rs_expand_digest(struct rsadd *a, struct rsheld *h, struct members *m)
{
	const char *email;
	const void *fields;
	size_t len;
	int rc;

	if (h->dsp == NULL || members_count(m) == 0)
		return 0;
	if (spool_rewind(h->dsp) == -1)
		goto spool;
	while ((rc = spool_next(h->dsp, &email, &fields, &len)) == 1)
		members_file(m, email);
	if (rc == 0)
		return 0;
spool:
	delivery_fail(a->ctx->r, DELIVERY_JOURNAL, "cannot read back the subscribers of list '%s' "
	    "from a temporary file: %s", a->l->id, strerror(errno));
	return -1;
}

/* A member of the list whom its file does not have: as a subscriber of the file. */
static int
rs_expand_member(void *arg, const struct store_member *mb)
{
	struct rsadd *a = arg;
	int rc;

	if (mb->digest) {
		a->x->digest++;
		return 0;
	}
	if ((rc = rs_add(a, mb->address, mb->fields, mb->fields_len)) == -1)
		return -1;
	a->x->members += rc == 0;
	return 0;
}

/*
 * The expansion, a batch at a time: where it is. Each list's file's
 * subscribers, as the check held them, then its members whom the file
 * does not have (members.h).
 */
struct rsexp {
	struct expand x;
	size_t list;			/* the list being expanded */
	int open;			/* its file's info and its members are taken */
	int file_done;			/* its file's subscribers are in */
	struct rsheld *h;
	struct members m;
	struct rsadd a;
	int done;			/* every list is in */
};

/* One list begun: its name and description for the messages, its members, its spool. */
static int
rs_expand_open(struct relsrc *rs, struct delivery_ctx *ctx, struct rsexp *e)
{
	struct rslist *l = &rs->lists[e->list];
	struct rsheld *h = rs_held(rs, l->path);

	if (h == NULL) {
		delivery_fail(ctx->r, DELIVERY_INVALID, "list '%s' (%s) was not read by the check",
		    l->id, l->path);
		return -1;
	}
	list_info_free(&l->info);
	l->info = h->info;
	memset(&h->info, 0, sizeof(h->info));
	h->info.file = xstrdup(l->path);
	e->x.digest += h->digest;
	e->h = h;
	e->a = (struct rsadd){ rs, ctx, l, &e->x, 0 };
	/* Lifted already: nobody is briefed early any more. */
	e->a.early = release_prebriefs(&rs->rel, l->id) && rs_now() < rs->rel.embargo;
	e->open = 1;
	e->file_done = h->sp == NULL;
	if (members_open(&e->m, ctx->st, l->id) == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
		return -1;
	}
	if (rs_expand_digest(&e->a, h, &e->m) == -1)
		return -1;
	if (h->sp != NULL && spool_rewind(h->sp) == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "cannot read back the subscribers of list "
		    "'%s' from a temporary file: %s", l->id, strerror(errno));
		return -1;
	}
	return 0;
}

/* The list's members whom its file does not have, all at once, and the list is done. */
static int
rs_expand_close(struct delivery_ctx *ctx, struct rsexp *e)
{
	int rc = members_each(&e->m, rs_expand_member, &e->a);

	members_close(&e->m);
	e->open = 0;
	e->list++;
	/* 1: a member's row failed, and said why. */
	if (rc == -1)
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
	return rc == 0 ? 0 : -1;
}

/* Up to budget subscribers into the journal, from where the last batch stopped. */
static int
rs_expand_some(struct relsrc *rs, struct delivery_ctx *ctx, struct rsexp *e, size_t budget)
{
	int rc;

	while (budget > 0 && e->list < rs->nlists) {
		if (!e->open && rs_expand_open(rs, ctx, e) == -1)
			return -1;
		if (!e->file_done) {
			if ((rc = rs_expand_file(&e->a, e->h, &e->m, &budget)) == -1)
				return -1;
			if (rc == 0)
				break;
			e->file_done = 1;
		}
		if (rs_expand_close(ctx, e) == -1)
			return -1;
	}
	return 0;
}

/* What every message of the release shares, once the templates and secret are loaded. */
static void
rs_render_env(struct relsrc *rs, const unsigned char *secret)
{
	rs->env.cfg = rs->cfg;
	rs->env.partials = &rs->partials;
	rs->env.secret = secret;
	rs->env.now = rs_now();
	if (rs->rel.has_embargo)
		timefmt_iso_utc(rs->rel.embargo, rs->until, sizeof(rs->until));
	rs->env.kit = rs->kit_ready ? &rs->kit : NULL;
	render_versions_init(&rs->rv, &rs->rel, rs->cfg->lang);
	render_versions_link(&rs->rv, rs->cfg->sender.archive_url);
	rs->rv_ready = 1;
}

/* The segment this send went to, and what it kept, for status and for the daemon. */
static int
rs_record_segment(struct relsrc *rs, struct delivery_ctx *ctx, const struct expand *x)
{
	int rc;

	rc = store_release_set_segment(ctx->st, ctx->relrow, rs->set_text, rs->set.n > 0,
	    x->kept, x->left);
	if (rs->set.n > 0)
		log_info("send", "release=%s: the segment kept %zu of the lists' subscribers, left "
		    "out %zu", rs->rel.id, x->kept, x->left);
	return rc;
}

/*
 * A segment that keeps none of the lists' subscribers, for a release nobody
 * has had: said as such, not as lists without subscribers.
 */
static int
rs_segment_nobody(struct relsrc *rs, struct delivery_ctx *ctx, const struct expand *x)
{
	size_t counts[DS__COUNT], i, rows = 0;
	struct buf b = BUF_INIT;

	if (rs->set.n == 0 || x->kept > 0)
		return 0;
	if (store_counts(ctx->st, ctx->relrow, counts) == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
		return -1;
	}
	for (i = 0; i < DS__COUNT; i++)
		rows += counts[i];
	if (rows > 0)
		return 0;
	segment_set_describe(&rs->set, &b);
	delivery_fail(ctx->r, DELIVERY_NOBODY, "release %s: nobody to send it to: the segment %s "
	    "keeps none of the %zu subscribers of its lists who take each release; nothing sent",
	    rs->rel.id, buf_str(&b), x->left);
	buf_free(&b);
	return -1;
}

/*
 * Subscribers a batch of the expansion takes: each batch is a transaction
 * of its own, so the first messages go out while a large list is still
 * being expanded, and a list of any size holds the journal's write lock
 * only briefly.
 */
#define RS_EXPAND_BATCH 1024

/* The end of the expansion, in its last batch's transaction: the suppressed and the segment. */
static int
rs_expand_end(struct relsrc *rs, struct delivery_ctx *ctx, struct rsexp *e)
{
	if (store_skip_suppressed(ctx->st, ctx->relrow, rs_now(), &e->x.skipped) == -1 ||
	    rs_record_segment(rs, ctx, &e->x) == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
		return -1;
	}
	e->done = 1;
	return 0;
}

/*
 * One batch of the lists' subscribers, as the check read them, into the
 * journal in one transaction: an address on two lists once (the first list
 * wins), rows already there left as they are (a resumed send, or one that
 * stopped in the middle of its expansion: the next run goes through every
 * list again and adds only who is missing). Suppressed addresses go in
 * queued, which no claim takes, and are made skipped at the end.
 */
static int
rs_expand_more(void *arg, struct delivery_ctx *ctx, size_t *added, int *finished)
{
	struct relsrc *rs = arg;
	struct rsexp *e = rs->exp;
	size_t before = e->x.added;

	*added = 0;
	*finished = e->done;
	if (e->done)
		return 0;
	if (store_begin(ctx->st) == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
		return -1;
	}
	if (rs_expand_some(rs, ctx, e, RS_EXPAND_BATCH) == -1 ||
	    (e->list == rs->nlists && rs_expand_end(rs, ctx, e) == -1)) {
		store_rollback(ctx->st);
		return -1;
	}
	if (store_commit(ctx->st) == -1) {
		delivery_fail(ctx->r, DELIVERY_JOURNAL, "journal: %s", store_error(ctx->st));
		return -1;
	}
	*added = e->x.added - before;
	*finished = e->done;
	if (!e->done)
		return 0;
	if (ctx->o->verbose)
		log_info("send", "release=%s: expanded %zu new recipients (%zu of them members "
		    "who joined), %zu suppressed, %zu already in the journal or on an earlier list, "
		    "%zu by digest", rs->rel.id, e->x.added > e->x.skipped ?
		    e->x.added - e->x.skipped : 0, e->x.members, e->x.skipped, e->x.dup,
		    e->x.digest);
	return rs_segment_nobody(rs, ctx, &e->x);
}

/* The expansion's first batch; rs_expand_more takes the others while the sending goes on. */
static int
rs_expand(void *arg, struct delivery_ctx *ctx)
{
	struct relsrc *rs = arg;
	size_t added;
	int finished;

	rs_render_env(rs, ctx->secret);
	rs->exp = xcalloc(1, sizeof(*rs->exp));
	return rs_expand_more(rs, ctx, &added, &finished);
}

/* ---- the window: embargo and expiry, at the moment each message goes out ---- */

static int
rs_window(void *arg, const struct store_row *row, long long now, long long *until)
{
	const struct relsrc *rs = arg;
	const struct release *r = &rs->rel;

	/* The pre-briefing's wave from its time, everyone else from the lift. */
	if (row->early && r->nprebrief > 0) {
		if (r->has_prebrief_at && now < r->prebrief_at) {
			*until = r->prebrief_at;
			return 0;
		}
	} else if (r->has_embargo && now < r->embargo) {
		*until = r->embargo;
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
	size_t i;

	if (w == NULL)
		return;
	render_worker_free(&w->rw);
	for (i = 0; i < w->nlocals; i++)
		free(w->locals[i].zone);
	free(w->locals);
	free(w);
}

/* The lift as readers in zone see it, worked out once per zone and thread. */
static const char *
rs_lift_local(struct rsworker *w, const char *zone)
{
	struct rslocal *c;
	size_t i;

	for (i = 0; i < w->nlocals; i++)
		if (zone == NULL ? w->locals[i].zone == NULL :
		    w->locals[i].zone && strcmp(w->locals[i].zone, zone) == 0)
			return w->locals[i].text;
	w->locals = xrealloc(w->locals, (w->nlocals + 1) * sizeof(*w->locals));
	c = &w->locals[w->nlocals++];
	c->zone = zone ? xstrdup(zone) : NULL;
	/* A zone the list's check accepted but that is gone now: UTC says the truth. */
	if (timefmt_human(w->rs->rel.embargo, zone, c->text, sizeof(c->text)) == -1)
		timefmt_human(w->rs->rel.embargo, NULL, c->text, sizeof(c->text));
	return c->text;
}

/* What the row's reader is told of the embargo: marked in the early wave before the lift. */
static void
rs_embargo(struct rsworker *w, const struct rslist *l, const struct subscriber *s, int early,
    long long now)
{
	const struct relsrc *rs = w->rs;

	w->rw.env.embargo = NULL;
	if (!rs->rel.has_embargo)
		return;
	w->emb.active = early && rs->rel.nprebrief > 0 && now < rs->rel.embargo;
	w->emb.until = rs->until;
	w->emb.local = rs_lift_local(w, rs_zone(rs, l, s->tz));
	w->rw.env.embargo = &w->emb;
}

/*
 * One subscriber's message: the release in the language they read, in
 * the template's variant for it.
 */
static int
rs_render_one(const struct relsrc *rs, const struct render_env *env, const struct rslist *l,
    const struct list_info *info, const struct subscriber *s, unsigned long long rowid,
    struct mbuf *out, char **message_id, struct diag *d)
{
	const char *lang = render_reader_lang(s, l->lang, rs->rv.v[0].lang);

	return render_message_parts(env, render_versions_pick(&rs->rv, lang), info, s,
	    tmplset_pick(&l->tmpls, lang), rowid, out, message_id, d);
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
	rs_embargo(w, l, &s, row->early, rs_now());
	return rs_render_one(w->rs, &w->rw.env, l, &l->info, &s, (unsigned long long)row->id, msg,
	    message_id, d);
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
		free(rs->lists[i].lang);
		list_info_free(&rs->lists[i].info);
		tmplset_free(&rs->lists[i].tmpls);
	}
	free(rs->lists);
	for (i = 0; i < rs->nheld; i++) {
		list_info_free(&rs->held[i].info);
		spool_free(rs->held[i].sp);
		spool_free(rs->held[i].dsp);
	}
	free(rs->held);
	for (i = 0; i < rs->nzones; i++)
		free(rs->zones[i].zone);
	free(rs->zones);
	if (rs->exp)
		members_close(&rs->exp->m);
	free(rs->exp);
	buf_free(&rs->pack);
	if (rs->rv_ready)
		render_versions_free(&rs->rv);
	partials_free(&rs->partials);
	if (rs->kit_ready)
		attach_kit_free(&rs->kit);
	release_free(&rs->rel);
	segment_set_free(&rs->set);
	free(rs->set_text);
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
	src.expand_more = rs_expand_more;
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
	struct members members;		/* the list's */
	const struct list_info *info;	/* the list's file, once read */
	struct render_worker rw;	/* a member's subscriber is unpacked in its document */
	int rw_ready;
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
	struct render_embargo emb;
	struct render_env env;
	char local[64];
	int early;

	if (s->delivery == DELIVERY_DIGEST) {
		x->out->digest++;
		return 0;
	}
	/* As the expansion: a subscriber left out is not seen, so a later list may have them. */
	if (!segment_set_match_fields(&rs->set, s->fields)) {
		x->out->left++;
		return 0;
	}
	x->out->kept++;
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
	early = release_prebriefs(&rs->rel, x->list->id) && rs_now() < rs->rel.embargo;
	x->out->early += early;
	if (x->out->count_only) {
		x->out->would++;
		return 0;
	}
	env = rs->env;
	if (rs->rel.has_embargo) {
		emb.active = early;
		emb.until = rs->until;
		if (timefmt_human(rs->rel.embargo, rs_zone(rs, x->list, s->tz), local,
		    sizeof(local)) == -1)
			timefmt_human(rs->rel.embargo, NULL, local, sizeof(local));
		emb.local = local;
		env.embargo = &emb;
	}
	mbuf_reset(&x->msg);
	if (rs_render_one(rs, &env, x->list, info, s, 0, &x->msg, NULL, rs->d) == -1) {
		x->failed = 1;
		return 1;
	}
	x->out->bytes += mbuf_len(&x->msg);
	x->out->would++;
	return 0;
}

/* A subscriber of the list's file; a member with the address is theirs. */
static int
dry_file_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct dry *x = arg;

	members_file(&x->members, s->email);
	return dry_one(arg, info, s);
}

/* A member whom the list's file does not have, counted and rendered as one of the file's. */
static int
dry_member(void *arg, const struct store_member *mb)
{
	struct dry *x = arg;
	struct subscriber s;

	if (!x->rw_ready) {
		render_worker_init(&x->rw, &x->rs->env, &x->rs->partials);
		x->rw_ready = 1;
	}
	ydoc_clear(x->rw.doc);
	render_worker_subscriber(&x->rw, mb->address, mb->fields, mb->fields_len, &s);
	s.delivery = mb->digest ? DELIVERY_DIGEST : DELIVERY_EACH;
	return dry_one(x, x->info, &s);
}

/*
 * One list: its file's subscribers, then its members. 0 (x->failed set
 * on invalid input), or -1 after a journal error (r->end set).
 */
static int
dry_list(struct dry *x, struct delivery_result *r, struct diag *d)
{
	struct list_info info;
	int rc = 0;

	memset(&info, 0, sizeof(info));
	if (members_open(&x->members, x->st, x->list->id) == -1)
		rc = -1;
	else if (list_load(x->list->path, &info, dry_file_one, x, d) != 0)
		x->failed = 1;
	else {
		x->info = &info;
		rc = members_each(&x->members, dry_member, x);	/* 1: x->failed */
		x->info = NULL;
	}
	list_info_free(&info);
	members_close(&x->members);
	if (rc != -1)
		return 0;
	delivery_fail(r, DELIVERY_JOURNAL, "journal: %s", store_error(x->st));
	return -1;
}

/* The segment, for people, when there is one. */
static void
dry_segment(const struct relsrc *rs, struct relsrc_dry *out)
{
	struct buf b = BUF_INIT;

	out->segmented = rs->set.n > 0;
	segment_set_describe(&rs->set, &b);
	/* Cut on a character boundary: the text goes to a terminal. */
	snprintf(out->segment, sizeof(out->segment), "%s", buf_str(&b));
	if (b.len >= sizeof(out->segment)) {
		size_t n = sizeof(out->segment) - 4;

		while (n > 0 && ((unsigned char)out->segment[n] & 0xc0) == 0x80)
			n--;
		snprintf(out->segment + n, sizeof(out->segment) - n, "...");
	}
	buf_free(&b);
}

/* The release file, its lists and templates, the secret and the DKIM key, as send reads them. */
static int
dry_inputs(struct relsrc *rs, struct delivery_ctx *ctx, unsigned char *secret)
{
	struct dkim_signer *dk;
	struct segment seg;
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
	rs_prebrief_first(rs);
	segment_combine(&seg, &rs->rel.where, rs->a->where);
	segment_set_one(&rs->set, &seg);
	segment_free(&seg);
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
	if (store_exists(cfg->state) && store_open(cfg->state, &x.st, err,
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
		if (dry_list(&x, r, d) == -1)
			goto out;
	}
	if (x.failed)
		r->end = DELIVERY_INVALID;
	snprintf(out->release_id, sizeof(out->release_id), "%s", rs.rel.id);
	for (i = 0; i < rs.nlists; i++)
		snprintf(out->lists + strlen(out->lists), sizeof(out->lists) - strlen(out->lists),
		    "%s%s", i ? ", " : "", rs.lists[i].id);
	dry_segment(&rs, out);
out:
	if (x.rw_ready)
		render_worker_free(&x.rw);
	mbuf_free(&x.msg);
	free(x.seen);
	store_close(x.st);
	memset(secret, 0, sizeof(secret));
	rs_free(&rs);
}
