/*
 * delivery.c - a release from its file to every subscriber's mailbox.
 *
 * The journal is the truth: recipients are expanded into it first; a row
 * is claimed (sending, owned by this process) before its message goes
 * out and leaves `sending` only with the relay's final reply. A crash
 * therefore re-sends at most the messages in flight, and skips no one.
 */
#include "delivery.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "digest.h"
#include "dkim.h"
#include "list.h"
#include "ratelimit.h"
#include "sendpool.h"
#include "release.h"
#include "render.h"
#include "smtp.h"
#include "store.h"
#include "timefmt.h"
#include "tmplfile.h"
#include "validate.h"

/* One list of the release, with the template its messages use. */
struct dlist {
	char *id, *path;
	struct list_info info;
	struct tmplfile tmpl;
	int loaded;
};

/* A message handed to a sending thread, waiting for the relay's reply. */
struct slot {
	int used;
	struct store_row row;
	const char *domain;	/* inside row.address */
	struct sendjob job;
};

struct progress {
	long long start_ms, last_ms;
	size_t total, sent, deferred, failed, skipped, requeued;
};

struct dvrun {
	const struct config *cfg;
	const struct delivery_opts *o;
	const struct delivery_source *src;	/* rows of a digest; NULL: a release file's */
	struct diag d;
	struct validate_summary vsum;	/* where each list is, from the check */
	struct store *st;
	struct release rel;
	struct store_release srel;
	long long relrow;
	struct render_release rr;
	int rr_ready;
	struct partials partials;
	struct render_env env;
	unsigned char secret[TOKEN_SECRET_LEN];
	struct dlist *lists;
	size_t nlists;
	char *owner_dir;
	char owner[128];
	int owner_fd;
	struct sendpool *pool;
	struct ratelimit *rl;
	struct slot *slots;
	size_t nslots;
	struct store_row *ready;	/* claimed, waiting for the limiter */
	size_t nready, readycap;
	char *password;
	struct dkim_signer *dkim;	/* NULL: no dkim section; shared by the sending threads */
	struct progress pr;
	int status;			/* why the loop stopped, as an exit status */
	int stopping;
	const char *fail_reason;	/* "expired", "cancelled": claimed rows fail, not requeue */
	long long checked_ms;		/* when the release's state was last read */
	unsigned connect_failures;
	char stop_text[600];
};

static long long
dv_now(void)
{
	return (long long)time(NULL);
}

static long long
dv_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
dv_stop(struct dvrun *dv, int status, const char *fmt, ...) HERALD_PRINTF(3, 4);

static void
dv_stop(struct dvrun *dv, int status, const char *fmt, ...)
{
	va_list ap;

	if (dv->stopping)
		return;
	dv->stopping = 1;
	dv->status = status;
	va_start(ap, fmt);
	vsnprintf(dv->stop_text, sizeof(dv->stop_text), fmt, ap);
	va_end(ap);
}

/* ---- preparing ---- */

static int
dv_lists_from(struct dvrun *dv, const char *spaced)
{
	char *copy = xstrdup(spaced), *tok, *save = NULL;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		dv->lists = xrealloc(dv->lists, (dv->nlists + 1) * sizeof(*dv->lists));
		memset(&dv->lists[dv->nlists], 0, sizeof(*dv->lists));
		dv->lists[dv->nlists++].id = xstrdup(tok);
	}
	free(copy);
	return dv->nlists ? 0 : -1;
}

static void
dv_say_embargo(const char *id, long long embargo)
{
	char iso[32];

	timefmt_iso_utc(embargo, iso, sizeof(iso));
	fprintf(stderr, "herald: release %s is under embargo until %s; nothing sent "
	    "(herald schedule %s --at %s sends it then)\n", id, iso, id, iso);
}

/*
 * The release as the journal keeps it: the snapshot taken when it was
 * first scheduled or sent is what goes out, even if the file changed.
 */
static int
dv_release(struct dvrun *dv)
{
	struct store_release put;
	struct release fresh;
	char *path, *data = NULL, *lists = NULL;
	size_t len;
	int rc, found;

	path = release_path(dv->cfg->releases_dir, dv->o->release_arg);
	if (util_read_file(path, &data, &len) == -1) {
		diag_error(&dv->d, path, 0, 0, "cannot read: %s", strerror(errno));
		free(path);
		return EXIT_DATAERR;
	}
	rc = release_load_mem(path, data, len, &fresh, &dv->d);
	if (rc == -1)
		goto out;
	if ((found = store_release_get(dv->st, fresh.id, &dv->srel)) == -1) {
		rc = -1;
		goto out;
	}
	if (found == 0 && dv->srel.state == RS_CANCELLED) {
		fprintf(stderr, "herald: release %s was cancelled; reschedule it to send it\n",
		    fresh.id);
		rc = -2;
		goto out;
	}
	if (found == 1 && fresh.has_embargo && dv_now() < fresh.embargo) {
		/* Nothing is recorded: schedule must still be able to take it. */
		dv_say_embargo(fresh.id, fresh.embargo);
		rc = -4;
		goto out;
	}
	if (found == 1) {
		if (dv->o->nlists == 0 && fresh.nlists == 0) {
			fprintf(stderr, "herald: the release names no lists; give --list ID\n");
			rc = -3;
			goto out;
		}
		lists = release_lists_joined(&fresh, dv->o->lists, dv->o->nlists);
		memset(&put, 0, sizeof(put));
		put.release_id = fresh.id;
		put.file = path;
		put.snapshot = data;
		put.snapshot_len = len;
		put.lists = lists;
		put.state = RS_SENDING;
		if (store_release_put(dv->st, &put, dv_now(), &dv->relrow) == -1 ||
		    store_release_get(dv->st, fresh.id, &dv->srel) != 0) {
			rc = -1;
			goto out;
		}
	} else {
		dv->relrow = dv->srel.id;
		/* A scheduled release that goes out now is being sent: no longer due. */
		if (dv->srel.state == RS_SCHEDULED &&
		    store_release_set_state(dv->st, dv->relrow, RS_SENDING, dv_now()) == -1) {
			rc = -1;
			goto out;
		}
		if (dv->srel.snapshot_len != len || memcmp(dv->srel.snapshot, data, len) != 0)
			fprintf(stderr, "herald: note: %s changed since it was first scheduled or "
			    "sent; sending the journal's snapshot\n", path);
	}
	rc = release_load_mem(path, dv->srel.snapshot, dv->srel.snapshot_len, &dv->rel, &dv->d);
	if (rc == 0)
		dv_lists_from(dv, dv->srel.lists);
out:
	release_free(&fresh);
	free(lists);
	free(data);
	free(path);
	if (rc == -1)
		return dv->d.errors ? dv->d.status : EXIT_SOFTWARE;
	if (rc == -4)
		return EXIT_TEMPFAIL;
	return rc == 0 ? 0 : rc == -2 ? EXIT_DATAERR : EXIT_USAGE;
}

/* Each list's file and template, as the project check found them. */
static int
dv_templates(struct dvrun *dv)
{
	const struct validate_list *vl;
	const char *name;
	struct dlist *l;
	size_t i;

	partials_init(&dv->partials, dv->cfg->templates_dir);
	for (i = 0; i < dv->nlists; i++) {
		l = &dv->lists[i];
		if ((vl = validate_find_list(&dv->vsum, l->id)) == NULL) {
			diag_error(&dv->d, NULL, 0, 0, "unknown list '%s': no list in %s/ has that id",
			    l->id, dv->cfg->lists_dir);
			return -1;
		}
		l->path = xstrdup(vl->file);
		name = dv->rel.template_name ? dv->rel.template_name : vl->template_name;
		if (name == NULL) {
			diag_error(&dv->d, l->path, 0, 0, "no template for list '%s'", l->id);
			return -1;
		}
		if (tmplfile_load(dv->cfg->templates_dir, name, &dv->partials, &l->tmpl, &dv->d) == -1)
			return -1;
		l->loaded = 1;
	}
	return 0;
}

/* ---- expansion ---- */

struct expand {
	struct dvrun *dv;
	struct dlist *list;
	struct buf fields;
	size_t added, skipped, digest, dup;
	int failed;
};

static int
dv_expand_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct expand *x = arg;
	struct dvrun *dv = x->dv;
	int rc;

	(void)info;
	if (s->delivery == DELIVERY_DIGEST) {
		x->digest++;	/* digests carry it (herald digest) */
		return 0;
	}
	/* Suppressed addresses too: one statement for all of them makes them skipped. */
	buf_reset(&x->fields);
	render_fields_pack(s->fields, &x->fields);
	rc = store_delivery_add(dv->st, dv->relrow, s->email, x->list->id, x->fields.data,
	    x->fields.len, DS_QUEUED, NULL, dv_now());
	if (rc == -1) {
		x->failed = 1;
		return 1;
	}
	if (rc == 1)
		x->dup++;
	else
		x->added++;
	return 0;
}

/*
 * The lists' current subscribers into the journal, in one transaction:
 * an address on two lists once (the first list wins), suppressed ones as
 * skipped, rows already there left as they are (a resumed send).
 */
static int
dv_expand(struct dvrun *dv)
{
	struct expand x;
	size_t i;
	int rc = 0;

	memset(&x, 0, sizeof(x));
	x.dv = dv;
	if (store_begin(dv->st) == -1)
		return -1;
	for (i = 0; i < dv->nlists && rc == 0; i++) {
		/* This pass also gives the list's name and description to the messages. */
		x.list = &dv->lists[i];
		list_info_free(&x.list->info);
		if (list_load(x.list->path, &x.list->info, dv_expand_one, &x, &dv->d) == -1 ||
		    x.failed)
			rc = -1;
	}
	buf_free(&x.fields);
	if (rc == 0 && store_skip_suppressed(dv->st, dv->relrow, dv_now(), &x.skipped) == -1)
		rc = -1;
	if (rc == -1) {
		store_rollback(dv->st);
		return -1;
	}
	if (store_commit(dv->st) == -1)
		return -1;
	if (dv->o->verbose)
		fprintf(stderr, "herald: expanded %zu new recipients, %zu suppressed, %zu already "
		    "in the journal or on an earlier list, %zu by digest\n",
		    x.added > x.skipped ? x.added - x.skipped : 0, x.skipped, x.dup, x.digest);
	return 0;
}

/* ---- rendering ---- */

static struct dlist *
dv_list(struct dvrun *dv, const char *id)
{
	size_t i;

	for (i = 0; i < dv->nlists; i++)
		if (strcmp(dv->lists[i].id, id) == 0)
			return &dv->lists[i];
	return NULL;
}

/*
 * The message for one row and its Message-ID; the caller owns *msg and
 * *message_id. It runs on the sending threads: dv is only read, and env,
 * doc and d are the thread's own.
 */
static int
dv_render(struct dvrun *dv, const struct render_env *env, struct diag *d,
    const struct store_row *row, struct ydoc *doc, char **msg, size_t *len, char **message_id)
{
	struct dlist *l = dv_list(dv, row->list);
	struct subscriber s;
	struct buf out = BUF_INIT;
	const struct ynode *name;

	if (l == NULL) {
		diag_error(d, NULL, 0, 0, "row %lld names list '%s', not one of the release's",
		    row->id, row->list);
		return -1;
	}
	ydoc_clear(doc);
	memset(&s, 0, sizeof(s));
	s.email = row->address;
	s.doc = doc;
	s.fields = render_fields_unpack(doc, row->fields, row->fields_len);
	if ((name = ynode_get(s.fields, "name")) != NULL)
		s.name = name->str;
	if (render_message(env, &dv->rr, &l->info, &s, &l->tmpl, (unsigned long long)row->id,
	    &out, message_id, d) == -1) {
		buf_free(&out);
		return -1;
	}
	*len = out.len;
	*msg = buf_detach(&out);
	return 0;
}

/* ---- the sending threads' side ---- */

/* What a sending thread renders with: its own partials, document and diagnostics. */
struct dvworker {
	struct dvrun *dv;
	struct partials partials;
	struct render_env env;
	struct ydoc *doc;
	struct diag d;
	void *src_state;	/* dv->src's, when it has rows of its own */
};

static void *
dv_worker_make(void *arg, unsigned i)
{
	struct dvrun *dv = arg;
	struct dvworker *w = xcalloc(1, sizeof(*w));

	(void)i;
	w->dv = dv;
	partials_copy(&w->partials, &dv->partials);
	w->env = dv->env;
	w->env.partials = &w->partials;
	w->doc = ydoc_new("journal");
	diag_init(&w->d, EXIT_DATAERR);
	if (dv->src)
		w->src_state = dv->src->make(dv->src->arg);
	return w;
}

/* On the caller's thread, once the threads are gone: their errors are printed. */
static void
dv_worker_free(void *state)
{
	struct dvworker *w = state;

	if (w->dv->src)
		w->dv->src->free(w->src_state);
	diag_print(&w->d);
	diag_free(&w->d);
	ydoc_free(w->doc);
	partials_free(&w->partials);
	free(w);
}

/* After the message is built, on the thread that built it: the DKIM-Signature first. */
static int
dv_sign(struct dvworker *w, struct sendjob *j, const struct slot *sl)
{
	char err[512];

	if (dkim_signer_sign(w->dv->dkim, &j->msg, &j->len, err, sizeof(err)) == 0)
		return 0;
	/* The pool frees j->msg, the loop j->message_id. */
	diag_error(&w->d, NULL, 0, 0, "%s (message for %s)", err, sl->row.address);
	return -1;
}

static int
dv_worker_prepare(void *state, struct sendjob *j)
{
	struct dvworker *w = state;
	const struct slot *sl = j->data;
	int rc;

	if (w->dv->src)
		rc = w->dv->src->render(w->src_state, &sl->row, &j->msg, &j->len, &j->message_id,
		    &w->d);
	else
		rc = dv_render(w->dv, &w->env, &w->d, &sl->row, w->doc, &j->msg, &j->len,
		    &j->message_id);
	if (rc == -1)
		return -1;
	if (w->dv->dkim && dv_sign(w, j, sl) == -1)
		return -1;
	j->from = render_verp(&w->env, (unsigned long long)sl->row.id, sl->row.address);
	return 0;
}

/* ---- progress ---- */

static void
dv_progress(struct dvrun *dv, int final)
{
	struct progress *p = &dv->pr;
	long long now = dv_ms(), el = now - p->start_ms;
	size_t done = p->sent + p->deferred + p->failed;
	double rate = el > 0 ? p->sent * 1000.0 / (double)el : 0;
	char bar[31];
	size_t i, fill;

	if (!final && now - p->last_ms < (dv->o->progress ? 100 : 5000))
		return;
	p->last_ms = now;
	if (dv->o->progress && !final) {
		fill = p->total ? done * 30 / p->total : 0;
		for (i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %zu/%zu sent %zu deferred %zu failed %zu  %.0f msg/s",
		    bar, done, p->total, p->sent, p->deferred, p->failed, rate);
		if (rate > 0 && p->total > done)
			fprintf(stderr, "  ETA %.0fs ", (double)(p->total - done) / rate);
		return;
	}
	if (dv->o->progress)
		fputc('\n', stderr);
	fprintf(stderr, "herald: send: release=%s sent=%zu deferred=%zu failed=%zu rate=%.0f/s%s\n",
	    dv->rel.id, p->sent, p->deferred, p->failed, rate,
	    !final ? "" : dv->stopping ? " (stopped)" : " (finished)");
}

/* ---- outcomes ---- */

static void
dv_reply_text(const struct smtp_reply *r, char *out, size_t len)
{
	if (r->code)
		snprintf(out, len, "%d%s%s %s", r->code, *r->enhanced ? " " : "", r->enhanced,
		    r->text);
	else
		snprintf(out, len, "%s", r->text);
}

/* A temporary failure: the next backoff step, or failed once give_up_after has passed. */
static void
dv_deferred(struct dvrun *dv, const struct slot *sl, struct store_outcome *o, long long now)
{
	const struct config *c = dv->cfg;
	long long first = sl->row.first_attempt ? sl->row.first_attempt : now;
	size_t step = (size_t)sl->row.attempts < c->smtp.nretry ? (size_t)sl->row.attempts :
	    c->smtp.nretry - 1;

	if (now - first >= (long long)c->smtp.give_up_after) {
		o->state = DS_FAILED;
		dv->pr.failed++;
		return;
	}
	o->state = DS_DEFERRED;
	o->next_attempt = now + (long long)c->smtp.retry[step];
	dv->pr.deferred++;
}

static int
dv_outcome(struct dvrun *dv, struct slot *sl, long long now)
{
	const struct smtp_reply *r = &sl->job.reply;
	struct store_outcome o;
	char text[600];
	int rc = 0;

	if (sl->job.failed) {
		/* It could not be rendered: nothing went out, and the row waits. */
		rc = store_delivery_release(dv->st, sl->row.id, now);
		dv_stop(dv, EXIT_DATAERR, "cannot render the message for %s", sl->row.address);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.code = r->code;
	o.enhanced = *r->enhanced ? r->enhanced : NULL;
	o.text = r->text;
	o.message_id = sl->job.message_id;
	if (r->result != SMTP_OK && r->cause != SMTP_CAUSE_REPLY && r->cause != SMTP_CAUSE_LOST) {
		/* Not this recipient's fault: the row waits for the relay. */
		rc = store_delivery_release(dv->st, sl->row.id, now);
		dv->pr.requeued++;
		dv_reply_text(r, text, sizeof(text));
		if (r->cause == SMTP_CAUSE_AUTH)
			dv_stop(dv, EXIT_CONFIG, "the relay refused the login: %s", text);
		else if (r->cause == SMTP_CAUSE_TLS)
			dv_stop(dv, EXIT_UNAVAILABLE, "TLS with the relay failed: %s", text);
		else if (++dv->connect_failures >= dv->nslots)
			dv_stop(dv, EXIT_UNAVAILABLE, "cannot reach the relay %s: %s",
			    dv->cfg->smtp.url, text);
		goto out;
	}
	dv->connect_failures = 0;
	if (r->result == SMTP_OK) {
		o.state = DS_SENT;
		dv->pr.sent++;
	} else if (r->result == SMTP_PERMFAIL) {
		o.state = DS_FAILED;
		dv->pr.failed++;
		if (smtp_is_hard_bounce(r)) {
			dv_reply_text(r, text, sizeof(text));
			rc = store_suppress(dv->st, sl->row.address, NULL, "hard-bounce", text, now);
		}
	} else {
		dv_deferred(dv, sl, &o, now);
		if (smtp_is_slow_down(r))
			ratelimit_slow_down(dv->rl, r->code == 421 ? NULL : sl->domain, dv_ms());
	}
	if (rc == 0)
		rc = store_delivery_done(dv->st, sl->row.id, &o, now);
out:
	store_row_clear(&sl->row);
	free(sl->job.message_id);
	memset(sl, 0, sizeof(*sl));
	return rc;
}

/*
 * Every reply since the last call, recorded in one transaction. A slot is
 * free again only once its outcome is committed, so a crash finds at most
 * one message per connection delivered but not recorded.
 */
static int
dv_record(struct dvrun *dv, struct sendjob **done, size_t ndone)
{
	long long now = dv_now();
	size_t i;
	int rc = 0;

	if (ndone == 0)
		return 0;
	if (store_begin(dv->st) == -1)
		return -1;
	for (i = 0; i < ndone && rc == 0; i++)
		rc = dv_outcome(dv, done[i]->data, now);
	if (rc == -1) {
		store_rollback(dv->st);
		return -1;
	}
	return store_commit(dv->st);
}

/* ---- the loop ---- */

static struct slot *
dv_free_slot(struct dvrun *dv)
{
	size_t i;

	for (i = 0; i < dv->nslots; i++)
		if (!dv->slots[i].used)
			return &dv->slots[i];
	return NULL;
}

/*
 * Rows are claimed a batch at a time: a claim is a transaction, and a
 * claimed row that never reached the relay is simply sent by whoever
 * reclaims it after a crash, so batching costs no duplicates.
 */
#define DV_CLAIM_BATCH 32

/* The next claimed row, claiming a batch when none is waiting. 0 none, 1 got one. */
static int
dv_next_row(struct dvrun *dv, struct store_row *row)
{
	size_t got = 0;

	if (dv->nready == 0) {
		dv->ready = xgrow(dv->ready, &dv->readycap, DV_CLAIM_BATCH, sizeof(*dv->ready));
		if (store_claim(dv->st, dv->relrow, dv->owner, dv_now(), DV_CLAIM_BATCH,
		    dv->ready, &got) == -1)
			return -1;
		dv->nready = got;
	}
	if (dv->nready == 0)
		return 0;
	*row = dv->ready[0];
	memmove(dv->ready, dv->ready + 1, (dv->nready - 1) * sizeof(*dv->ready));
	dv->nready--;
	return 1;
}

static void
dv_unget(struct dvrun *dv, const struct store_row *row)
{
	dv->ready = xgrow(dv->ready, &dv->readycap, dv->nready + 1, sizeof(*dv->ready));
	memmove(dv->ready + 1, dv->ready, dv->nready * sizeof(*dv->ready));
	dv->ready[0] = *row;
	dv->nready++;
}

/* Embargo and expiry, at the moment each message goes out. */
static int
dv_window_open(struct dvrun *dv)
{
	long long now = dv_now();
	char iso[32];
	size_t n = 0;

	if (dv->rel.has_embargo && now < dv->rel.embargo) {
		timefmt_iso_utc(dv->rel.embargo, iso, sizeof(iso));
		dv_stop(dv, EXIT_TEMPFAIL, "release %s is under embargo until %s", dv->rel.id, iso);
		return 0;
	}
	if (dv->rel.has_expires && now >= dv->rel.expires) {
		timefmt_iso_utc(dv->rel.expires, iso, sizeof(iso));
		store_fail_pending(dv->st, dv->relrow, "expired", now, &n);
		/* The rows claimed already (and the one at hand) fail with them. */
		n += dv->nready + 1;
		dv->pr.failed += n;
		dv->fail_reason = "expired";
		dv_stop(dv, EXIT_DATAERR, "release %s expired at %s: %zu deliveries failed as expired",
		    dv->rel.id, iso, n);
		return 0;
	}
	return 1;
}

/*
 * Starts as many messages as connections and the limiter allow. Returns
 * how long to wait before trying again (ms), or -1 when no row is due.
 */
static long long
dv_fill(struct dvrun *dv)
{
	struct store_row row;
	const char *domain;
	struct slot *sl;
	long long wait;
	int got;

	while (!dv->stopping && sendpool_idle(dv->pool) > 0) {
		if ((got = dv_next_row(dv, &row)) <= 0) {
			if (got == -1)
				dv_stop(dv, EXIT_SOFTWARE, "journal: %s", store_error(dv->st));
			return -1;
		}
		if (!dv_window_open(dv)) {
			dv_unget(dv, &row);
			return 0;
		}
		domain = strrchr(row.address, '@') + 1;
		if ((wait = ratelimit_wait(dv->rl, domain, dv_ms())) > 0) {
			dv_unget(dv, &row);
			return wait;
		}
		if ((sl = dv_free_slot(dv)) == NULL)
			fatalx("an idle connection without a free slot");
		ratelimit_take(dv->rl, domain, dv_ms());
		sl->used = 1;
		sl->row = row;
		sl->domain = strrchr(sl->row.address, '@') + 1;
		sl->job.data = sl;
		sl->job.rcpt = sl->row.address;
		sendpool_submit(dv->pool, &sl->job);
	}
	return 1000;
}

/*
 * Stopping: claimed rows not yet handed to the relay go back to the queue,
 * or fail with the others when the release has expired or was cancelled.
 */
static void
dv_requeue_ready(struct dvrun *dv)
{
	struct store_outcome o;
	long long now = dv_now();
	size_t i;

	memset(&o, 0, sizeof(o));
	o.state = DS_FAILED;
	o.text = dv->fail_reason;
	store_begin(dv->st);
	for (i = 0; i < dv->nready; i++) {
		if (dv->fail_reason)
			store_delivery_done(dv->st, dv->ready[i].id, &o, now);
		else
			store_delivery_release(dv->st, dv->ready[i].id, now);
		store_row_clear(&dv->ready[i]);
	}
	store_commit(dv->st);
	dv->nready = 0;
}

/* `herald cancel` from another process: stop, and what is claimed fails too. */
static void
dv_check_cancelled(struct dvrun *dv)
{
	struct store_release cur;
	long long now = dv_ms();

	if (now - dv->checked_ms < 1000)
		return;
	dv->checked_ms = now;
	memset(&cur, 0, sizeof(cur));
	if (store_release_get(dv->st, dv->rel.id, &cur) == 0 && cur.state == RS_CANCELLED) {
		dv->fail_reason = "cancelled";
		dv_stop(dv, 0, "release %s was cancelled; the messages in flight finished",
		    dv->rel.id);
	}
	store_release_clear(&cur);
}

static void
dv_loop(struct dvrun *dv)
{
	struct sendjob **done;
	long long wait;
	size_t n;

	for (;;) {
		if (dv->o->stop && *dv->o->stop)
			dv_stop(dv, EXIT_TEMPFAIL, "interrupted");
		dv_check_cancelled(dv);
		wait = dv_fill(dv);
		if (sendpool_in_flight(dv->pool) == 0 && (wait == -1 || dv->stopping))
			break;
		if (wait == -1 || wait > 1000)
			wait = 1000;
		/* Signals must be noticed soon even while a slow relay thinks. */
		if (wait > 200 && dv->o->stop)
			wait = 200;
		n = sendpool_wait(dv->pool, (int)wait, &done);
		if (dv_record(dv, done, n) == -1)
			dv_stop(dv, EXIT_SOFTWARE, "journal: %s", store_error(dv->st));
		dv_progress(dv, 0);
	}
	dv_requeue_ready(dv);
}

/* ---- the whole run ---- */

static int
dv_smtp(struct dvrun *dv)
{
	const struct config *c = dv->cfg;
	struct smtp_opts so;
	struct sendpool_ops ops = { dv_worker_make, dv_worker_free, dv_worker_prepare, dv };

	if (config_password("smtp", c->smtp.password_env, c->smtp.password_file,
	    &dv->password) == -1)
		return -1;
	memset(&so, 0, sizeof(so));
	so.url = c->smtp.url;
	so.tls = c->smtp.tls;
	so.ca_file = c->smtp.ca_file;
	so.username = c->smtp.username;
	so.password = dv->password;
	so.helo = c->sender.domain;
	so.connections = c->smtp.connections;
	so.timeout = (long)c->smtp.timeout;
	if ((dv->pool = sendpool_new(&so, sendpool_threads(so.connections), &ops)) == NULL) {
		fprintf(stderr, "herald: cannot set up libcurl\n");
		return -1;
	}
	dv->nslots = c->smtp.connections;
	dv->slots = xcalloc(dv->nslots, sizeof(*dv->slots));
	dv->rl = ratelimit_new(c->smtp.rates, c->smtp.nrates, c->smtp.burst,
	    c->smtp.domain_rates, c->smtp.ndomain_rates, dv_ms());
	return 0;
}

static int
dv_journal(struct dvrun *dv)
{
	char err[512], *slash;

	if (store_open(dv->cfg->state, &dv->st, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		return EXIT_CANTCREAT;
	}
	slash = strrchr(dv->cfg->state, '/');
	dv->owner_dir = slash ? xasprintf("%.*s/owners", (int)(slash - dv->cfg->state),
	    dv->cfg->state) : xstrdup("owners");
	if (store_owner_take(dv->owner_dir, dv->owner, sizeof(dv->owner), &dv->owner_fd) == -1) {
		fprintf(stderr, "herald: cannot take an owner lock in %s: %s\n", dv->owner_dir,
		    strerror(errno));
		return EXIT_CANTCREAT;
	}
	return 0;
}

static int
dv_summary(struct dvrun *dv)
{
	size_t counts[DS__COUNT];
	long long next = 0;
	char iso[32];

	struct store_release cur;
	size_t skipped = 0;

	dv_progress(dv, 1);
	/* Addresses suppressed while the send ran were never claimed: settle them. */
	if (store_skip_suppressed(dv->st, dv->relrow, dv_now(), &skipped) == -1 ||
	    store_counts(dv->st, dv->relrow, counts) == -1)
		return EXIT_SOFTWARE;
	if (dv->stopping)
		fprintf(stderr, "herald: %s\n", dv->stop_text);
	if (counts[DS_QUEUED] + counts[DS_DEFERRED] + counts[DS_SENDING] == 0) {
		memset(&cur, 0, sizeof(cur));
		if (store_release_get(dv->st, dv->rel.id, &cur) == 0 && cur.state != RS_CANCELLED)
			store_release_set_state(dv->st, dv->relrow, RS_DONE, dv_now());
		store_release_clear(&cur);
		printf("%s: %zu sent, %zu failed, %zu skipped\n", dv->rel.id, counts[DS_SENT] +
		    counts[DS_BOUNCED], counts[DS_FAILED], counts[DS_SKIPPED]);
		return dv->stopping ? dv->status : 0;
	}
	store_next_attempt(dv->st, dv->relrow, &next);
	printf("%s: %zu sent, %zu failed, %zu skipped, %zu queued, %zu deferred", dv->rel.id,
	    counts[DS_SENT] + counts[DS_BOUNCED], counts[DS_FAILED], counts[DS_SKIPPED],
	    counts[DS_QUEUED] + counts[DS_SENDING], counts[DS_DEFERRED]);
	if (next) {
		timefmt_iso_utc(next, iso, sizeof(iso));
		printf(" (next retry at %s)", iso);
	}
	printf("; herald send %s resumes\n", dv->rel.id);
	return dv->stopping ? dv->status : EXIT_TEMPFAIL;
}

/* What every message of the release shares, once the templates and secret are loaded. */
static void
dv_render_env(struct dvrun *dv)
{
	dv->env.cfg = dv->cfg;
	dv->env.partials = &dv->partials;
	dv->env.secret = dv->secret;
	dv->env.now = dv_now();
	if (dv->src)
		return;
	render_release_init(&dv->rr, &dv->rel);
	dv->rr_ready = 1;
}

static int
dv_check_inputs(struct dvrun *dv)
{
	validate_project(dv->cfg, &dv->d, &dv->vsum);
	if (dv->d.errors)
		return dv->d.status;
	return 0;
}

/* The key is read and parsed once for the whole send, before anything is claimed. */
static int
dv_dkim(struct dvrun *dv)
{
	char err[512];

	if (!dv->cfg->dkim.enabled)
		return 0;
	if ((dv->dkim = dkim_signer_new(dv->cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "herald: %s\n", err);
		return EXIT_CONFIG;
	}
	return 0;
}

/* Shared by a release's and a digest's preparation: tokens, DKIM, the renderer. */
static int
dv_prepare_signing(struct dvrun *dv)
{
	char err[512];
	int status;

	if (token_secret_load(dv->cfg->secret, dv->secret, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		return EXIT_CONFIG;
	}
	if ((status = dv_dkim(dv)) != 0)
		return status;
	dv_render_env(dv);
	return 0;
}

static int
dv_prepare(struct dvrun *dv)
{
	int status;

	if ((status = dv_check_inputs(dv)) != 0 || (status = dv_journal(dv)) != 0 ||
	    (status = dv_release(dv)) != 0)
		return status;
	if (dv->rel.has_embargo && dv_now() < dv->rel.embargo) {
		dv_say_embargo(dv->rel.id, dv->rel.embargo);
		return EXIT_TEMPFAIL;
	}
	if (dv_templates(dv) == -1)
		return dv->d.errors ? dv->d.status : EXIT_SOFTWARE;
	return dv_prepare_signing(dv);
}

static void
dv_free(struct dvrun *dv)
{
	size_t i;

	/* First: the threads still read the lists, templates, slots and signer. */
	sendpool_free(dv->pool);
	dkim_signer_free(dv->dkim);
	for (i = 0; i < dv->nlists; i++) {
		free(dv->lists[i].id);
		free(dv->lists[i].path);
		list_info_free(&dv->lists[i].info);
		tmplfile_free(&dv->lists[i].tmpl);
	}
	free(dv->lists);
	for (i = 0; i < dv->nslots; i++) {
		store_row_clear(&dv->slots[i].row);
		free(dv->slots[i].job.message_id);
	}
	free(dv->slots);
	free(dv->ready);
	ratelimit_free(dv->rl);
	if (dv->password) {
		memset(dv->password, 0, strlen(dv->password));
		free(dv->password);
	}
	if (dv->rr_ready)
		render_release_free(&dv->rr);
	partials_free(&dv->partials);
	release_free(&dv->rel);
	store_release_clear(&dv->srel);
	if (dv->owner[0])
		store_owner_drop(dv->owner_dir, dv->owner, dv->owner_fd);
	free(dv->owner_dir);
	store_close(dv->st);
	validate_summary_free(&dv->vsum);
	diag_free(&dv->d);
}

/* ---- dry run: everything but the journal and the relay ---- */

struct dry {
	struct dvrun *dv;
	struct dlist *list;
	struct buf msg;
	uint64_t *seen;			/* open addressing; 0 is empty */
	size_t nseen, cap;
	size_t would, suppressed, digest, dup, bytes;
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
	struct dvrun *dv = x->dv;
	int supp = 0;

	if (s->delivery == DELIVERY_DIGEST) {
		x->digest++;
		return 0;
	}
	if (dry_seen(x, s->email)) {
		x->dup++;
		return 0;
	}
	if (dv->st && (supp = store_is_suppressed(dv->st, s->email, x->list->id)) == 1) {
		x->suppressed++;
		return 0;
	}
	buf_reset(&x->msg);
	if (render_message(&dv->env, &dv->rr, info, s, &x->list->tmpl, 0, &x->msg, NULL, &dv->d) == -1) {
		x->failed = 1;
		return 1;
	}
	x->bytes += x->msg.len;
	x->would++;
	return 0;
}

static int
dv_dry_run(struct dvrun *dv)
{
	struct list_info info;
	struct dry x;
	char err[256], *path;
	size_t i;
	int status;

	memset(&x, 0, sizeof(x));
	x.dv = dv;
	path = release_path(dv->cfg->releases_dir, dv->o->release_arg);
	if (release_load(path, &dv->rel, &dv->d) == -1) {
		free(path);
		return dv->d.status;
	}
	free(path);
	if (dv->o->nlists == 0 && dv->rel.nlists == 0) {
		fprintf(stderr, "herald: the release names no lists; give --list ID\n");
		return EXIT_USAGE;
	}
	path = release_lists_joined(&dv->rel, dv->o->lists, dv->o->nlists);
	dv_lists_from(dv, path);
	free(path);
	if (dv_templates(dv) == -1)
		return dv->d.status ? dv->d.status : EXIT_SOFTWARE;
	if (token_secret_load(dv->cfg->secret, dv->secret, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		return EXIT_CONFIG;
	}
	/* A key that send would refuse fails the dry run too. */
	if ((status = dv_dkim(dv)) != 0)
		return status;
	/* Suppressions count when there is a journal; a dry run never creates one. */
	if (access(dv->cfg->state, F_OK) == 0 && store_open(dv->cfg->state, &dv->st, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		return EXIT_CANTCREAT;
	}
	dv_render_env(dv);
	for (i = 0; i < dv->nlists && !x.failed; i++) {
		x.list = &dv->lists[i];
		if (list_load(x.list->path, &info, dry_one, &x, &dv->d) == -1)
			x.failed = 1;
		list_info_free(&info);
	}
	buf_free(&x.msg);
	free(x.seen);
	if (x.failed)
		return dv->d.errors ? dv->d.status : EXIT_SOFTWARE;
	printf("dry run: %s would go to %zu recipients (%zu KB rendered); %zu suppressed, "
	    "%zu on more than one list, %zu by digest; nothing sent\n", dv->rel.id, x.would,
	    (x.bytes + 1023) / 1024, x.suppressed, x.dup, x.digest);
	return 0;
}

/* The rows of a source: they are in the journal already, and it renders them. */
static int
dv_prepare_source(struct dvrun *dv)
{
	int status, found;

	if ((status = dv_journal(dv)) != 0)
		return status;
	if ((found = store_release_get(dv->st, dv->src->release_id, &dv->srel)) != 0) {
		if (found == 1)
			fprintf(stderr, "herald: %s is not in the journal\n", dv->src->release_id);
		else
			fprintf(stderr, "herald: journal: %s\n", store_error(dv->st));
		return found == 1 ? EXIT_DATAERR : EXIT_SOFTWARE;
	}
	if (dv->srel.state == RS_CANCELLED) {
		fprintf(stderr, "herald: %s was cancelled\n", dv->src->release_id);
		return EXIT_DATAERR;
	}
	dv->relrow = dv->srel.id;
	/* The loop's messages and its cancel check name the release by rel.id. */
	dv->rel.id = xstrdup(dv->src->release_id);
	partials_init(&dv->partials, dv->cfg->templates_dir);
	return dv_prepare_signing(dv);
}

/* Prepared: the rows into the journal (a release's), then the loop until they are settled. */
static int
dv_send(struct dvrun *dv)
{
	size_t counts[DS__COUNT], reclaimed = 0;

	if ((!dv->src && dv_expand(dv) == -1) ||
	    store_reclaim(dv->st, dv->owner_dir, &reclaimed) == -1) {
		if (!dv->d.errors)
			fprintf(stderr, "herald: journal: %s\n", store_error(dv->st));
		return dv->d.errors ? dv->d.status : EXIT_SOFTWARE;
	}
	if (reclaimed)
		fprintf(stderr, "herald: %zu deliveries left sending by a process that is gone "
		    "are sent again\n", reclaimed);
	if (dv_smtp(dv) == -1)
		return EXIT_CONFIG;
	if (store_counts(dv->st, dv->relrow, counts) == 0)
		dv->pr.total = counts[DS_QUEUED] + counts[DS_DEFERRED] + counts[DS_SENDING];
	dv->pr.start_ms = dv->pr.last_ms = dv_ms();
	dv_loop(dv);
	return dv_summary(dv);
}

static void
dv_init(struct dvrun *dv, const struct config *cfg, const struct delivery_opts *o,
    const struct delivery_source *src)
{
	memset(dv, 0, sizeof(*dv));
	dv->cfg = cfg;
	dv->o = o;
	dv->src = src;
	dv->owner_fd = -1;
	diag_init(&dv->d, EXIT_DATAERR);
}

int
delivery_run(const struct config *cfg, const struct delivery_opts *o)
{
	struct dvrun dv;
	int status;

	if (digest_is_id(o->release_arg))
		return digest_resume(cfg, o);
	dv_init(&dv, cfg, o, NULL);
	if (o->dry_run) {
		if ((status = dv_check_inputs(&dv)) == 0)
			status = dv_dry_run(&dv);
	} else if ((status = dv_prepare(&dv)) == 0) {
		status = dv_send(&dv);
	}
	diag_print(&dv.d);
	dv_free(&dv);
	return status;
}

int
delivery_run_source(const struct config *cfg, const struct delivery_source *src,
    const struct delivery_opts *o)
{
	struct dvrun dv;
	int status;

	dv_init(&dv, cfg, o, src);
	if ((status = dv_prepare_source(&dv)) == 0)
		status = dv_send(&dv);
	diag_print(&dv.d);
	dv_free(&dv);
	return status;
}
