/*
 * delivery.c - the sending engine (delivery.h): rows of one release row
 * claimed, rendered by their source, rate-limited, sent, recorded.
 *
 * The journal is the truth: a row is claimed (sending, owned by this
 * process) before its message goes out and leaves `sending` only with the
 * relay's final reply. A crash therefore re-sends at most the messages in
 * flight, and skips no one.
 */
#include "delivery.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "dkim.h"
#include "log.h"
#include "ratelimit.h"
#include "render.h"
#include "sendpool.h"
#include "smtp.h"
#include "store.h"
#include "timefmt.h"
#include "token.h"

/* A message handed to a sending thread, waiting for the relay's reply. */
struct slot {
	int used;
	struct store_row row;
	const char *domain;	/* inside row.address */
	long long start_us;	/* handed to the pool */
	struct sendjob job;
};

struct dvrun {
	const struct config *cfg;
	const struct delivery_opts *o;
	const struct delivery_source *src;
	struct delivery_ctx ctx;
	struct delivery_result *r;
	struct diag *d;
	struct store *st;
	long long relrow;
	struct render_env env;		/* for the envelope senders (VERP) */
	unsigned char secret[TOKEN_SECRET_LEN];
	struct store_lease *lease;	/* the owner lease rows are claimed under */
	const char *owner;		/* its owner id */
	struct sendpool *pool;
	struct ratelimit *rl;
	struct slot *slots;
	size_t nslots;
	struct store_row *ready;	/* claimed, waiting for the limiter */
	size_t nready, readycap;
	char *password;
	struct dkim_signer *dkim;	/* NULL: no dkim section; shared by the sending threads */
	struct delivery_progress pr;
	int stopping;
	const char *fail_reason;	/* "expired", "cancelled": claimed rows fail, not requeue */
	long long checked_ms;		/* when the release's state was last read */
	unsigned connect_failures;
	int expanded;			/* every row is in the journal */
	long long relay_us;		/* a message's time at the relay, averaged; 0 none yet */
};

static long long
dv_now(void)
{
	return (long long)time(NULL);
}

static long long
dv_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
dv_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The run ends with end, for the reason fmt says (the first reason wins). */
static void
dv_stop(struct dvrun *dv, enum delivery_end end, const char *fmt, ...) HERALD_PRINTF(3, 4);

static void
dv_vfail(struct delivery_result *r, enum delivery_end end, const char *fmt, va_list ap)
{
	r->end = end;
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
}

static void
dv_stop(struct dvrun *dv, enum delivery_end end, const char *fmt, ...)
{
	va_list ap;

	if (dv->stopping)
		return;
	dv->stopping = 1;
	va_start(ap, fmt);
	dv_vfail(dv->r, end, fmt, ap);
	va_end(ap);
}

void
delivery_fail(struct delivery_result *r, enum delivery_end end, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dv_vfail(r, end, fmt, ap);
	va_end(ap);
}

/* ---- the sending threads' side ---- */

/* A sending thread's own: the source's rendering state and its diagnostics. */
struct dvworker {
	struct dvrun *dv;
	struct diag d;
	void *src_state;
};

static void *
dv_worker_make(void *arg, unsigned i)
{
	struct dvrun *dv = arg;
	struct dvworker *w = xcalloc(1, sizeof(*w));

	(void)i;
	w->dv = dv;
	diag_init(&w->d, EXIT_DATAERR);
	w->src_state = dv->src->make ? dv->src->make(dv->src->arg) : NULL;
	return w;
}

/* On the caller's thread, once the threads are gone: their errors join the run's. */
static void
dv_worker_free(void *state)
{
	struct dvworker *w = state;

	if (w->dv->src->free)
		w->dv->src->free(w->src_state);
	diag_move(w->dv->d, &w->d);
	diag_free(&w->d);
	free(w);
}

/* After the message is built, on the thread that built it: the DKIM-Signature first. */
static int
dv_sign(struct dvworker *w, struct sendjob *j, const struct slot *sl)
{
	char err[512];

	if (dkim_signer_sign_parts(w->dv->dkim, &j->msg, err, sizeof(err)) == 0)
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
	struct render_env env;

	if (w->dv->src->render(w->src_state, &sl->row, &j->msg, &j->message_id, &w->d) == -1)
		return -1;
	if (w->dv->dkim && dv_sign(w, j, sl) == -1)
		return -1;
	env = w->dv->env;
	env.token_time = sl->row.first_attempt;
	j->from = render_verp(&env, (unsigned long long)sl->row.id, sl->row.address);
	return 0;
}

/* ---- progress ---- */

static void
dv_progress(struct dvrun *dv, int final)
{
	struct delivery_progress *p = &dv->pr;
	long long now = dv_ms(), el = now - p->start_ms;

	p->rate = el > 0 ? p->sent * 1000.0 / (double)el : 0;
	if (!final && now - p->last_ms < (dv->o->on_progress ? 100 : 5000))
		return;
	p->last_ms = now;
	if (dv->o->on_progress)
		dv->o->on_progress(dv->o->progress_arg, p, final);
	if (!final && dv->o->on_progress)
		return;
	log_info("send", "release=%s sent=%zu deferred=%zu failed=%zu rate=%.0f/s%s",
	    dv->r->release_id, p->sent, p->deferred, p->failed, p->rate,
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
		dv_stop(dv, DELIVERY_INVALID, "cannot render the message for %s", sl->row.address);
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
			dv_stop(dv, DELIVERY_LOGIN_REFUSED, "the relay refused the login: %s", text);
		else if (r->cause == SMTP_CAUSE_TLS)
			dv_stop(dv, DELIVERY_UNREACHABLE, "TLS with the relay failed: %s", text);
		else if (++dv->connect_failures >= dv->nslots)
			dv_stop(dv, DELIVERY_UNREACHABLE, "cannot reach the relay %s: %s",
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
		if (r->hard_bounce) {
			dv_reply_text(r, text, sizeof(text));
			rc = store_suppress_hard_bounce(dv->st, sl->row.address, text, now);
		}
	} else {
		dv_deferred(dv, sl, &o, now);
		if (r->slow_down)
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

/* A message's time from the hand-over to the relay's reply, into the average. */
static void
dv_relay_time(struct dvrun *dv, const struct sendjob *j)
{
	const struct slot *sl = j->data;
	long long t = j->finished_us - sl->start_us;

	if (j->failed || t < 0)
		return;
	dv->relay_us = dv->relay_us ? (7 * dv->relay_us + t) / 8 : t;
}

/*
 * A relay that answers fast (one on this host or this network) leaves
 * herald short of CPU, not of time: there a few replies are waited for a
 * moment (a quarter of a message's time, at most DV_LINGER_MAX_US) so
 * that one transaction records them together, and the caller's thread
 * wakes once for them. The slot of a reply waiting to be recorded stays
 * busy, so a crash still finds at most `connections` messages delivered
 * and not recorded. A slow relay's replies are recorded at once: there
 * every connection's time counts.
 */
#define DV_LINGER_FAST_US 5000
#define DV_LINGER_MAX_US 1000

static void
dv_linger(struct dvrun *dv)
{
	long long us = dv->relay_us / 4;

	if (dv->stopping || !dv->expanded || dv->relay_us == 0 ||
	    dv->relay_us >= DV_LINGER_FAST_US) {
		sendpool_linger(dv->pool, 0, 0);
		return;
	}
	sendpool_linger(dv->pool, (unsigned)dv->nslots, us < DV_LINGER_MAX_US ? (long)us :
	    DV_LINGER_MAX_US);
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
	for (i = 0; i < ndone; i++)
		dv_relay_time(dv, done[i]);
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

/* The source's window (an embargo, an expiry), at the moment each message goes out. */
static int
dv_window_open(struct dvrun *dv, const struct store_row *row)
{
	long long now = dv_now(), until = 0;
	char iso[32];
	size_t n = 0;
	int open;

	if (dv->src->window == NULL || (open = dv->src->window(dv->src->arg, row, now, &until)) == 1)
		return 1;
	timefmt_iso_utc(until, iso, sizeof(iso));
	dv->r->until = until;
	if (open == 0) {
		dv_stop(dv, DELIVERY_NOT_YET, "release %s is under embargo until %s",
		    dv->r->release_id, iso);
		return 0;
	}
	store_fail_pending(dv->st, dv->relrow, "expired", now, &n);
	/* The rows claimed already (and the one at hand) fail with them. */
	n += dv->nready + 1;
	dv->pr.failed += n;
	dv->r->expired = n;
	dv->fail_reason = "expired";
	dv_stop(dv, DELIVERY_EXPIRED, "release %s expired at %s: %zu deliveries failed as expired",
	    dv->r->release_id, iso, n);
	return 0;
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
				dv_stop(dv, DELIVERY_JOURNAL, "journal: %s", store_error(dv->st));
			return -1;
		}
		if (!dv_window_open(dv, &row)) {
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
		sl->start_us = dv_us();
		sendpool_submit(dv->pool, &sl->job);
	}
	return 1000;
}

/*
 * Stopping: claimed rows not yet handed to the relay go back to the queue,
 * or fail with the others when the release has expired or was cancelled;
 * left alone when our lease was lost (they are another process's then).
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
	o.unsent = 1;
	store_begin(dv->st);
	for (i = 0; i < dv->nready; i++) {
		if (store_lease_lost(dv->lease))
			;	/* another process reclaimed them: theirs now */
		else if (dv->fail_reason)
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
	if (store_release_get(dv->st, dv->r->release_id, &cur) == 0 &&
	    cur.state == RS_CANCELLED) {
		dv->fail_reason = "cancelled";
		dv_stop(dv, DELIVERY_CANCELLED,
		    "release %s was cancelled; the messages in flight finished", dv->r->release_id);
	}
	store_release_clear(&cur);
}

/*
 * One more batch of the rows while the first ones are sent: a large list
 * does not hold up its first recipients. The row count grows as it goes;
 * at the end it is read again, as the journal has it (suppressed rows
 * skipped).
 */
static void
dv_expand_more(struct dvrun *dv)
{
	size_t added = 0, counts[DS__COUNT];
	int finished = 0;

	if (dv->expanded)
		return;
	if (dv->src->expand_more(dv->src->arg, &dv->ctx, &added, &finished) == -1) {
		/* The operation said why (r->end, r->detail); the first reason wins. */
		dv->stopping = 1;
		return;
	}
	dv->pr.total += added;
	if (!finished)
		return;
	dv->expanded = 1;
	if (store_counts(dv->st, dv->relrow, counts) == 0)
		dv->pr.total = dv->pr.sent + dv->pr.failed + counts[DS_QUEUED] +
		    counts[DS_DEFERRED] + counts[DS_SENDING];
}

static void
dv_loop(struct dvrun *dv)
{
	struct sendjob **done;
	long long wait;
	size_t n;

	for (;;) {
		if (dv->o->stop && *dv->o->stop)
			dv_stop(dv, DELIVERY_INTERRUPTED, "interrupted");
		if (store_lease_lost(dv->lease))
			dv_stop(dv, DELIVERY_JOURNAL, "journal: this process's lease lapsed (it "
			    "stalled for over %d s) and its deliveries went to another; stopping",
			    STORE_LEASE_TTL);
		dv_check_cancelled(dv);
		wait = dv_fill(dv);
		if (sendpool_in_flight(dv->pool) == 0 && (dv->stopping ||
		    (wait == -1 && dv->expanded)))
			break;
		if (!dv->stopping)
			dv_expand_more(dv);
		/* While rows are still being added, only a look at the replies: no sleep. */
		if (!dv->expanded && !dv->stopping)
			wait = 0;
		else if (wait == -1 || wait > 1000)
			wait = 1000;
		/* Signals must be noticed soon even while a slow relay thinks. */
		if (wait > 200 && dv->o->stop)
			wait = 200;
		dv_linger(dv);
		n = sendpool_wait(dv->pool, (int)wait, &done);
		if (dv_record(dv, done, n) == -1)
			dv_stop(dv, DELIVERY_JOURNAL, "journal: %s", store_error(dv->st));
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
	char err[512];

	if (config_password("smtp", c->smtp.password_env, c->smtp.password_file,
	    &dv->password, err, sizeof(err)) == -1) {
		delivery_fail(dv->r, DELIVERY_CONFIG, "%s", err);
		return -1;
	}
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
		delivery_fail(dv->r, DELIVERY_CONFIG, "cannot set up libcurl");
		return -1;
	}
	dv->nslots = c->smtp.connections;
	dv->slots = xcalloc(dv->nslots, sizeof(*dv->slots));
	dv->rl = ratelimit_new(c->smtp.rates, c->smtp.nrates, c->smtp.burst,
	    c->smtp.domain_rates, c->smtp.ndomain_rates, dv_ms());
	return 0;
}

/* The journal, and an owner lease, renewed while we live, that tells a later run whether our rows are orphans. */
static int
dv_journal(struct dvrun *dv)
{
	char err[512];

	if (store_open(dv->cfg->state, &dv->st, err, sizeof(err)) == -1) {
		delivery_fail(dv->r, DELIVERY_NO_JOURNAL, "%s", err);
		return -1;
	}
	if (store_lease_take(dv->st, NULL, dv_now(), &dv->lease, NULL) != 0 ||
	    store_lease_keep(dv->st, dv->lease) == -1) {
		delivery_fail(dv->r, DELIVERY_NO_JOURNAL, "%s", store_error(dv->st));
		return -1;
	}
	dv->owner = store_lease_owner(dv->lease);
	dv->ctx.st = dv->st;
	return 0;
}

/* The journal's counts once the loop is over; the release is done when nothing waits. */
static void
dv_result(struct dvrun *dv)
{
	struct delivery_result *r = dv->r;
	struct store_release cur;
	size_t counts[DS__COUNT], skipped = 0;

	dv_progress(dv, 1);
	/* Addresses suppressed while the send ran were never claimed: settle them. */
	if (store_skip_suppressed(dv->st, dv->relrow, dv_now(), &skipped) == -1 ||
	    store_counts(dv->st, dv->relrow, counts) == -1) {
		if (!dv->stopping)
			delivery_fail(dv->r, DELIVERY_JOURNAL, "journal: %s", store_error(dv->st));
		return;
	}
	r->counted = 1;
	r->sent = counts[DS_SENT] + counts[DS_BOUNCED];
	r->failed = counts[DS_FAILED];
	r->skipped = counts[DS_SKIPPED];
	r->queued = counts[DS_QUEUED] + counts[DS_SENDING];
	r->deferred = counts[DS_DEFERRED];
	if (dv->pr.total == 0 && r->sent + r->failed + r->queued + r->deferred == 0 &&
	    !dv->stopping) {
		/* Sending to nobody is no success, and nothing went out to call done. */
		if (r->skipped)
			delivery_fail(r, DELIVERY_NOBODY, "release %s: nobody to send it to: all %zu "
			    "recipients are suppressed; nothing sent", r->release_id, r->skipped);
		else
			delivery_fail(r, DELIVERY_NOBODY, "release %s: nobody to send it to: its "
			    "lists have no subscriber who takes each release; nothing sent",
			    r->release_id);
		return;
	}
	if (dv->pr.total == 0 && !dv->stopping)
		delivery_fail(r, DELIVERY_DONE, "release %s: every recipient has had it already; "
		    "nothing to send", r->release_id);
	if (r->queued + r->deferred == 0 && !dv->expanded) {
		/* Stopped before every row was in: the next run adds the rest. */
		if (!dv->stopping)
			r->end = DELIVERY_PENDING;
		return;
	}
	if (r->queued + r->deferred == 0) {
		memset(&cur, 0, sizeof(cur));
		if (store_release_get(dv->st, r->release_id, &cur) == 0 &&
		    cur.state != RS_CANCELLED)
			store_release_set_state(dv->st, dv->relrow, RS_DONE, dv_now());
		store_release_clear(&cur);
		if (!dv->stopping)
			r->end = DELIVERY_DONE;
		return;
	}
	store_next_attempt(dv->st, dv->relrow, &r->next_attempt);
	if (!dv->stopping)
		r->end = DELIVERY_PENDING;
}

/* The key is read and parsed once for the whole send, before anything is claimed. */
static int
dv_dkim(struct dvrun *dv)
{
	char err[512];

	if (!dv->cfg->dkim.enabled)
		return 0;
	if ((dv->dkim = dkim_signer_new(dv->cfg, err, sizeof(err))) == NULL) {
		delivery_fail(dv->r, DELIVERY_CONFIG, "%s", err);
		return -1;
	}
	return 0;
}

/* Tokens and DKIM: what every message is signed with. */
static int
dv_signing(struct dvrun *dv)
{
	char err[512];

	if (token_secret_load(dv->cfg->secret, dv->secret, err, sizeof(err)) == -1) {
		delivery_fail(dv->r, DELIVERY_CONFIG, "%s", err);
		return -1;
	}
	dv->ctx.secret = dv->secret;
	dv->env.cfg = dv->cfg;
	dv->env.secret = dv->secret;
	dv->env.now = dv_now();
	return dv_dkim(dv);
}

/* Prepared: reclaim what a dead process left, then the loop until every row is settled. */
static void
dv_send(struct dvrun *dv)
{
	size_t counts[DS__COUNT];

	if (store_reclaim(dv->st, dv_now(), &dv->r->reclaimed) == -1) {
		delivery_fail(dv->r, DELIVERY_JOURNAL, "journal: %s", store_error(dv->st));
		return;
	}
	if (dv->r->reclaimed)
		log_info("send", "%zu deliveries left sending by a process that is gone are sent "
		    "again", dv->r->reclaimed);
	if (dv_smtp(dv) == -1)
		return;
	if (store_counts(dv->st, dv->relrow, counts) == 0)
		dv->pr.total = counts[DS_QUEUED] + counts[DS_DEFERRED] + counts[DS_SENDING];
	dv->pr.start_ms = dv->pr.last_ms = dv_ms();
	dv_loop(dv);
	/* Under embargo every row still goes in now, as the lift will find them. */
	while (!dv->expanded && dv->r->end == DELIVERY_NOT_YET) {
		dv_expand_more(dv);
		if (dv->r->end != DELIVERY_NOT_YET)
			break;
	}
	dv_result(dv);
}

/* Calls one of the source's operations, when it has it; 0 or -1. */
static int
dv_op(struct dvrun *dv, int (*op)(void *, struct delivery_ctx *))
{
	return op == NULL ? 0 : op(dv->src->arg, &dv->ctx);
}

static void
dv_free(struct dvrun *dv)
{
	size_t i;

	/* First: the threads still read the source, the slots and the signer. */
	sendpool_free(dv->pool);
	dkim_signer_free(dv->dkim);
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
	memset(dv->secret, 0, sizeof(dv->secret));
	if (dv->lease)
		store_lease_drop(dv->st, dv->lease);
	store_close(dv->st);
}

void
delivery_run(const struct config *cfg, const struct delivery_source *src,
    const struct delivery_opts *o, struct delivery_result *r, struct diag *d)
{
	struct dvrun dv;

	memset(r, 0, sizeof(*r));
	memset(&dv, 0, sizeof(dv));
	dv.cfg = cfg;
	dv.o = o;
	dv.src = src;
	dv.r = r;
	dv.d = d;
	dv.ctx.cfg = cfg;
	dv.ctx.o = o;
	dv.ctx.r = r;
	dv.ctx.d = d;
	dv.expanded = src->expand_more == NULL;
	if (dv_op(&dv, src->check) == 0 && dv_journal(&dv) == 0 &&
	    dv_op(&dv, src->prepare) == 0) {
		dv.relrow = dv.ctx.relrow;
		if (dv_signing(&dv) == 0 && dv_op(&dv, src->expand) == 0)
			dv_send(&dv);
	}
	dv_free(&dv);
}

int
delivery_exit_status(const struct delivery_result *r, const struct diag *d)
{
	switch (r->end) {
	case DELIVERY_DONE:
	case DELIVERY_CANCELLED:
		return 0;
	case DELIVERY_PENDING:
	case DELIVERY_INTERRUPTED:
	case DELIVERY_NOT_YET:
		return EXIT_TEMPFAIL;
	case DELIVERY_UNREACHABLE:
		return EXIT_UNAVAILABLE;
	case DELIVERY_LOGIN_REFUSED:
	case DELIVERY_CONFIG:
		return EXIT_CONFIG;
	case DELIVERY_INVALID:
		return d && d->errors ? d->status : EXIT_DATAERR;
	case DELIVERY_REFUSED:
	case DELIVERY_EXPIRED:
	case DELIVERY_NOBODY:
		return EXIT_DATAERR;
	case DELIVERY_USAGE:
		return EXIT_USAGE;
	case DELIVERY_NO_JOURNAL:
		return EXIT_CANTCREAT;
	case DELIVERY_JOURNAL:
		return EXIT_SOFTWARE;
	}
	return EXIT_SOFTWARE;
}
