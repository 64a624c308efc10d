/*
 * outbox.c - herald's own mail, one message at a time over one SMTP
 * connection: there are few, and each outcome is committed before the
 * next is sent. See outbox.h.
 */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "log.h"
#include "smtp.h"
#include "util.h"

#define OUTBOX_BATCH 64

struct outbox_wait {
	int done;
	struct smtp_reply reply;
};

static void
outbox_done(void *arg, void *cookie, const struct smtp_reply *r)
{
	struct outbox_wait *w = arg;

	(void)cookie;
	w->reply = *r;
	w->done = 1;
}

/*
 * Sends one message and waits for its outcome. The journal keeps it
 * unsigned: it is signed (dk, when dkim is configured) as it goes out.
 */
static void
outbox_one(struct smtp *s, struct dkim_signer *dk, const struct store_outmsg *m,
    struct smtp_reply *r)
{
	struct outbox_wait w;
	char *copy = xmalloc(m->len + 1), err[512];
	size_t len = m->len;

	memcpy(copy, m->msg, m->len);
	memset(&w, 0, sizeof(w));
	if (dk && dkim_signer_sign(dk, &copy, &len, err, sizeof(err)) == -1) {
		/* A temporary failure: it stays queued and retries on smtp.retry. */
		free(copy);
		memset(r, 0, sizeof(*r));
		r->result = SMTP_TEMPFAIL;
		snprintf(r->text, sizeof(r->text), "%s", err);
		return;
	}
	if (smtp_submit(s, m->mail_from, m->rcpt, copy, len, NULL) == -1)
		fatalx("outbox: no idle connection");
	while (!w.done)
		smtp_poll(s, 1000, outbox_done, &w);
	*r = w.reply;
}

/* The journal move for one outcome; 1 when the relay could not be reached. */
static int
outbox_outcome(const struct config *c, struct store *st, const struct store_outmsg *m,
    const struct smtp_reply *r, long long now, struct outbox_stats *stats)
{
	char text[600];
	size_t step;

	snprintf(text, sizeof(text), "%d%s%s %s", r->code, r->enhanced[0] ? " " : "",
	    r->enhanced, r->text);
	if (r->result == SMTP_OK) {
		stats->sent++;
		return store_outbox_done(st, m->id, "sent", 0, text, now);
	}
	if (r->result == SMTP_PERMFAIL || now - m->created >= (long long)c->smtp.give_up_after) {
		stats->failed++;
		log_warn("outbox", "outbox: %s to %s failed: %s", m->kind, m->rcpt, text);
		return store_outbox_done(st, m->id, "failed", 0, text, now);
	}
	step = (size_t)m->attempts < c->smtp.nretry ? (size_t)m->attempts : c->smtp.nretry - 1;
	stats->deferred++;
	if (store_outbox_done(st, m->id, "queued", now + (long long)c->smtp.retry[step], text,
	    now) < 0)
		return -1;
	return r->cause == SMTP_CAUSE_CONNECT || r->cause == SMTP_CAUSE_AUTH ||
	    r->cause == SMTP_CAUSE_TLS;
}

/* Sends one batch over s; 1 when the relay could not be reached, -1 on a journal error. */
static int
outbox_batch(const struct config *c, struct store *st, struct smtp *s, struct dkim_signer *dk,
    const struct store_outmsg *m, size_t n, long long now, struct outbox_stats *stats)
{
	struct smtp_reply r;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		outbox_one(s, dk, &m[i], &r);
		if ((rc = outbox_outcome(c, st, &m[i], &r, now, stats)) < 0) {
			log_error("outbox", "journal: %s", store_error(st));
			return -1;
		}
		if (rc == 1) {
			log_warn("outbox", "outbox: relay unavailable: %s", r.text);
			stats->waiting += n - i - 1;
			return 1;
		}
	}
	return 0;
}

static struct smtp *
outbox_smtp(const struct config *c, const char *password)
{
	struct smtp_opts so;
	struct smtp *s;

	memset(&so, 0, sizeof(so));
	so.url = c->smtp.url;
	so.tls = c->smtp.tls;
	so.ca_file = c->smtp.ca_file;
	so.username = c->smtp.username;
	so.password = password;
	so.helo = c->sender.domain;
	so.connections = 1;
	so.timeout = (long)c->smtp.timeout;
	if ((s = smtp_new(&so)) == NULL)
		fatalx("outbox: cannot set up libcurl");
	return s;
}

/* The relay with its signer and login: what every message herald sends itself goes through. */
struct outbox_relay {
	struct smtp *s;
	struct dkim_signer *dk;		/* NULL: no dkim section */
	char *password;
};

/*
 * Opens the relay: 0, or -1 with why in err when the DKIM key or the
 * password cannot be used (nothing goes out unsigned).
 */
static int
outbox_relay_open(const struct config *c, struct outbox_relay *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (c->dkim.enabled && (r->dk = dkim_signer_new(c, err, errlen)) == NULL)
		return -1;
	if (config_password("smtp", c->smtp.password_env, c->smtp.password_file,
	    &r->password, err, errlen) == -1) {
		dkim_signer_free(r->dk);
		r->dk = NULL;
		return -1;
	}
	r->s = outbox_smtp(c, r->password);
	return 0;
}

static void
outbox_relay_close(struct outbox_relay *r)
{
	smtp_free(r->s);
	dkim_signer_free(r->dk);
	if (r->password) {
		memset(r->password, 0, strlen(r->password));
		free(r->password);
	}
	memset(r, 0, sizeof(*r));
}

int
outbox_send(const struct config *c, struct store *st, long long now,
    struct outbox_stats *stats)
{
	struct store_outmsg *m = NULL;
	struct outbox_relay relay = { NULL, NULL, NULL };
	char err[512];
	long long last = 0;
	size_t n = 0;
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	/* Batch after batch, each message once a run (a 4xx may leave it due). */
	while (rc == 0) {
		if (store_outbox_due(st, now, last, OUTBOX_BATCH, &m, &n) < 0) {
			log_error("outbox", "journal: %s", store_error(st));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		/* A key or a password that cannot be used leaves what is queued queued. */
		if (relay.s == NULL && outbox_relay_open(c, &relay, err, sizeof(err)) == -1) {
			log_error("outbox", "outbox: %s", err);
			stats->waiting = n;
			break;
		}
		rc = outbox_batch(c, st, relay.s, relay.dk, m, n, now, stats);
		last = m[n - 1].id;
		store_outmsg_free(m, n);
		m = NULL;
		n = 0;
	}
	store_outmsg_free(m, n);
	outbox_relay_close(&relay);
	return rc < 0 ? -1 : 0;
}

int
outbox_send_one(const struct config *c, const char *mail_from, const char *rcpt,
    const char *msg, size_t len, struct smtp_reply *r, char *err, size_t errlen)
{
	struct outbox_relay relay;
	struct store_outmsg m;

	if (outbox_relay_open(c, &relay, err, errlen) == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.mail_from = (char *)mail_from;
	m.rcpt = (char *)rcpt;
	m.msg = (char *)msg;
	m.len = len;
	outbox_one(relay.s, relay.dk, &m, r);
	outbox_relay_close(&relay);
	return 0;
}
