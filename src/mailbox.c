/*
 * mailbox.c - one pass over the mailbox: fetch what is new in batches,
 * classify (classify.c, pure), act in one transaction per batch with the
 * UIDs recorded, then move. See mailbox.h.
 *
 * Tokens decide, never the From header alone. A Message-ID is no secret:
 * every reply carries ours to whoever is on Cc and to list archives. So
 * a bounce is matched to its delivery by the VERP token (only ever in the
 * envelope), and only that may suppress; our Message-ID in the returned
 * message's header counts as one soft point and never suppresses. An
 * unsubscribe acts on the unsubscribe+TOKEN@ address, or on the
 * Message-ID it replies to when it comes From the delivery's own address.
 * A request that proves nothing gets a confirmation mail, and only the
 * reply to that acts.
 */
#define _GNU_SOURCE		/* getrandom */
#include "mailbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/file.h>
#include <fcntl.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "confirm.h"
#include "diag.h"
#include "imap.h"
#include "join.h"
#include "log.h"
#include "lookup.h"
#include "render.h"
#include "robot.h"
#include "util.h"

#define FETCH_BATCH 200			/* messages per UID FETCH and per commit */
#define FETCH_MAX_BYTES (1u << 20)	/* enough of any message to classify it */
#define IMAP_TIMEOUT 60			/* seconds */
#define MBX_JOURNAL (-3)		/* beside enum imap_status */

enum folder { F_BOUNCES, F_UNSUBSCRIBES, F_AUTOREPLIES, F_SUBSCRIBES, F__COUNT };

static const char *const folder_paths[F__COUNT] = {
	"Herald/Bounces", "Herald/Unsubscribes", "Herald/AutoReplies", "Herald/Subscribes",
};

struct item {
	unsigned long long uid;
	struct cls_result r;
};

struct mbx {
	const struct config *c;
	struct store *st;
	const unsigned char *secret;
	int verbose;
	struct mailbox_stats *stats;
	struct cls_opts co;
	struct imap_opts io;
	struct imap *im;
	char *key;			/* account/mailbox, the journal's name for it */
	unsigned long long uidvalidity;
	char *folders[F__COUNT];	/* the server's names, once per session */
	struct item *items;
	size_t nitems, cap;
	long long now;
	int expired;			/* the message at hand had a token of ours, too old */
	char err[600];
};

/* ---- small helpers ---- */

static int
mbx_journal_fail(struct mbx *m)
{
	snprintf(m->err, sizeof(m->err), "journal: %s", store_error(m->st));
	store_rollback(m->st);
	return MBX_JOURNAL;
}

static void
mbx_items_clear(struct mbx *m)
{
	size_t i;

	for (i = 0; i < m->nitems; i++)
		cls_result_free(&m->items[i].r);
	m->nitems = 0;
}

/* A fresh id for herald's own mail: "KIND.RANDOM@domain". The caller frees it. */
static char *
mbx_msgid(const struct mbx *m, const char *kind)
{
	unsigned char r[12];
	char hex[25];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		fatalx("mailbox: getrandom failed");
	for (i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return xasprintf("%s.%s@%s", kind, hex, m->c->sender.domain);
}

/* ---- herald's answers, queued in the outbox in the action's transaction ---- */

static int
mbx_queue(struct mbx *m, const char *kind, const char *to, const struct buf *msg)
{
	return store_outbox_add(m->st, kind, m->c->sender.bounce_address, to, msg->data,
	    msg->len, m->now);
}

static int
mbx_notice(struct mbx *m, const char *address, const char *list, const char *in_reply_to)
{
	struct robot_mail rm = { address, NULL, in_reply_to, m->now };
	struct buf b = BUF_INIT;
	char *id = mbx_msgid(m, "notice");
	int rc = 0;

	rm.message_id = id;
	if (store_has_bounced(m->st, address))	/* never mail an address that bounced */
		goto out;
	/* An In-Reply-To that does not fit the grammar is dropped, not the notice. */
	if (robot_unsubscribed(m->c, &rm, list, &b) == 0 ||
	    (rm.in_reply_to = NULL, robot_unsubscribed(m->c, &rm, list, &b)) == 0)
		rc = mbx_queue(m, "notice", address, &b);
	else
		log_error("poll", "poll: cannot build the notice to %s", address);
out:
	buf_free(&b);
	free(id);
	return rc;
}


/*
 * A token older than tokens.max_age proves nothing any more (1): a
 * request that carries one is asked to confirm, as one without a token.
 */
static struct lookup_key
mbx_key(const struct mbx *m)
{
	struct lookup_key k = { m->secret, m->now, m->c->tokens.max_age };

	return k;
}

static int
mbx_token_row(struct mbx *m, const char *purpose, const char *token, size_t len,
    struct store_delivery *d)
{
	struct lookup_key k = mbx_key(m);
	int rc = lookup_delivery(m->st, &k, purpose, token, len, d);

	if (rc == LOOKUP_EXPIRED) {
		m->expired = 1;
		store_delivery_clear(d);
		return 1;
	}
	return rc;
}

static int
mbx_token_confirm(struct mbx *m, const char *token, size_t len, long long *cid,
    char **address)
{
	struct lookup_key k = mbx_key(m);
	int rc = lookup_confirm(m->st, &k, token, len, cid, address);

	if (rc == LOOKUP_EXPIRED)
		m->expired = 1;
	return rc == LOOKUP_EXPIRED ? 1 : rc;
}

/* The token of one of our Message-IDs: "release.TOKEN@domain" -> TOKEN. */
static int
mbx_msgid_token(const char *id, const char **token, size_t *len)
{
	const char *at = strrchr(id, '@'), *dot;

	if (at == NULL)
		return -1;
	for (dot = at; dot > id && dot[-1] != '.'; dot--)
		;
	if (dot == id)
		return -1;
	*token = dot;
	*len = (size_t)(at - dot);
	return 0;
}

/* ---- bounces ---- */

/*
 * The delivery a bounce is for, by token: the VERP token (*by_verp = 1),
 * else our Message-ID in the returned message's header. Never the
 * bounce's own In-Reply-To or References: anyone who was on Cc of a reply
 * has those.
 */
static int
mbx_bounce_row(struct mbx *m, const struct cls_result *r, struct store_delivery *d,
    int *by_verp)
{
	const char *tok;
	size_t len;
	int rc;

	*by_verp = 1;
	if (r->verp_token[0] &&
	    (rc = mbx_token_row(m, "b", r->verp_token, strlen(r->verp_token), d)) <= 0)
		return rc;
	*by_verp = 0;
	if (r->orig_id[0] && mbx_msgid_token(r->orig_id, &tok, &len) == 0)
		return mbx_token_row(m, "m", tok, len, d);
	return 1;
}

static int
mbx_bounce_address(struct mbx *m, const struct store_delivery *d, const struct cls_finding *f,
    int by_verp, const char *source, struct buf *action)
{
	long long score;
	char text[64];

	if (!by_verp) {
		/* Anyone can copy a Message-ID into a report: a point, never a suppression. */
		m->stats->soft++;
		if (store_soft_bounce(m->st, d->address, m->now,
		    (long long)m->c->bounces.soft_window, &score) < 0)
			return -1;
		buf_addf(action, "%s bounce%s%s matched by Message-ID only, not by the VERP "
		    "address: counted as soft, score %lld of %llu, suppresses nobody",
		    f->hard ? "hard" : "soft", f->status[0] ? " " : "", f->status, score,
		    m->c->bounces.soft_threshold);
		return 0;
	}
	if (f->hard) {
		m->stats->hard++;
		snprintf(text, sizeof(text), "hard bounce%s%s", f->status[0] ? " " : "", f->status);
		if (store_suppress_hard_bounce(m->st, d->address, source, m->now) < 0 ||
		    (d->state == DS_SENT && store_delivery_bounced(m->st, d->id, text, m->now) < 0))
			return -1;
		buf_addf(action, "%s%s: suppressed for every list", text, "");
		return 0;
	}
	m->stats->soft++;
	if (store_soft_bounce(m->st, d->address, m->now, (long long)m->c->bounces.soft_window,
	    &score) < 0)
		return -1;
	buf_addf(action, "soft bounce%s%s: score %lld of %llu", f->status[0] ? " " : "",
	    f->status, score, m->c->bounces.soft_threshold);
	if ((unsigned long long)score >= m->c->bounces.soft_threshold) {
		m->stats->soft_suppressed++;
		if (store_suppress(m->st, d->address, NULL, "soft-bounces", source, m->now) < 0)
			return -1;
		buf_adds(action, ": suppressed for every list");
	}
	return 0;
}

/* The finding about d's address, else the first: a forwarded address may differ. */
static const struct cls_finding *
mbx_finding_for(const struct cls_result *r, const char *address)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].address, address) == 0)
			return &r->f[i];
	return &r->f[0];
}

/* A bounce for delivery d, which a verified token named. */
static int
mbx_bounce(struct mbx *m, const struct cls_result *r, const struct store_delivery *d,
    int by_verp, const char *source, struct buf *action)
{
	buf_addf(action, "%s (delivery %lld): ", d->address, d->id);
	return mbx_bounce_address(m, d, mbx_finding_for(r, d->address), by_verp, source,
	    action);
}

/* ---- unsubscribes ---- */

/* Suppresses address for list (NULL: every list) and answers with a notice. */
static int
mbx_unsubscribe_now(struct mbx *m, const char *address, const char *list, const char *source,
    const char *in_reply_to, struct buf *action)
{
	int was = store_is_suppressed(m->st, address, list ? list : "");

	if (was < 0 || store_suppress(m->st, address, list, "unsubscribed", source, m->now) < 0)
		return -1;
	m->stats->unsubscribed++;
	buf_addf(action, "%s unsubscribed from %s%s", address, list ? list : "every list",
	    was ? " (already)" : "");
	return was ? 0 : mbx_notice(m, address, list, in_reply_to);
}

static int
mbx_confirmed(struct mbx *m, long long cid, const char *address, const char *source,
    const char *in_reply_to, struct buf *action)
{
	int rc = store_confirm_done(m->st, cid, m->now);

	if (rc < 0)
		return -1;
	if (rc == 1) {
		buf_addf(action, "confirmation %lld for %s was used already", cid, address);
		return 0;
	}
	buf_addf(action, "confirmed: ");
	return mbx_unsubscribe_now(m, address, NULL, source, in_reply_to, action);
}

/* A request that proves nothing: ask the address itself to confirm. */
static int
mbx_ask_confirm(struct mbx *m, const char *address, const char *in_reply_to,
    struct buf *action)
{
	struct store_delivery d;
	long long cid;
	int rc;

	if (address[0] == '\0' || (rc = store_delivery_latest(m->st, address, &d)) == 1) {
		m->stats->unmatched++;
		buf_addf(action, "request from %s, not a recipient of ours: ignored",
		    address[0] ? address : "nobody");
		return 0;
	}
	if (rc < 0)
		return -1;
	store_delivery_clear(&d);
	if ((rc = confirm_ask(m->st, m->c, m->secret, address, in_reply_to, m->now, &cid)) != 0) {
		if (rc < 0)
			return -1;
		buf_addf(action, "request from %s: unsubscribed or asked to confirm already",
		    address);
		return 0;
	}
	m->stats->confirm_asked++;
	buf_addf(action, "request from %s %s: confirmation %lld asked", address,
	    m->expired ? "with a token older than tokens.max_age" : "without a token",
	    cid);
	return 0;
}

/*
 * By a token: a delivery's list, or a confirmation; 1 when the token is
 * not ours, or proves nothing from this sender. A confirmation counts
 * only from the address it was sent to (a ticket system's automatic
 * acknowledgement must not confirm for it), and so does a reply to our
 * Message-ID (purpose "m").
 */
static int
mbx_unsub_token(struct mbx *m, const char *purpose, const char *tok, size_t len,
    const char *from, const char *source, const char *in_reply_to, struct buf *action)
{
	struct store_delivery d;
	char *address;
	long long cid;
	int rc;

	if ((rc = mbx_token_row(m, purpose, tok, len, &d)) == 0) {
		/* A Message-ID is no secret: a reply to one acts only from the delivery's address. */
		if (strcmp(purpose, "m") == 0 && strcasecmp(d.address, from) != 0)
			rc = 1;
		else
			rc = mbx_unsubscribe_now(m, d.address, d.list, source, in_reply_to, action);
		store_delivery_clear(&d);
		return rc;
	}
	if (rc < 0 || (rc = mbx_token_confirm(m, tok, len, &cid, &address)) != 0)
		return rc;
	if (strcasecmp(address, from) != 0) {
		free(address);
		return 1;
	}
	rc = mbx_confirmed(m, cid, address, source, in_reply_to, action);
	free(address);
	return rc;
}

static int
mbx_unsubscribe(struct mbx *m, const struct cls_result *r, const char *source,
    struct buf *action)
{
	const char *in_reply_to = r->message_id[0] ? r->message_id : NULL, *tok;
	size_t len;
	int rc = 1;

	if (r->unsub_token[0])
		rc = mbx_unsub_token(m, "u", r->unsub_token, strlen(r->unsub_token),
		    r->f[0].address, source, in_reply_to, action);
	if (rc == 1 && r->reply_id[0] && mbx_msgid_token(r->reply_id, &tok, &len) == 0)
		rc = mbx_unsub_token(m, "m", tok, len, r->f[0].address, source, in_reply_to,
		    action);
	if (rc == 1)
		rc = mbx_ask_confirm(m, r->f[0].address, in_reply_to, action);
	return rc;
}

/* ---- subscribing ---- */

/*
 * Mail to subscribe+LIST@ asks for a confirmation; the answer to one
 * (to subscribe+TOKEN@, or a reply to its Message-ID) confirms, but only
 * from the address it was mailed to: anyone can write a From header,
 * only that mailbox's owner has the token.
 */
static int
mbx_subscribe(struct mbx *m, const struct cls_result *r, const char *source,
    struct buf *action)
{
	const char *from = r->f[0].address;
	struct join_request q = { 0 };
	struct store_join j;
	char *list = NULL;
	long long jid;
	int rc, expired, readmitted;

	(void)source;
	if ((rc = join_target(m->st, m->c, m->secret, r, m->now, &j, &list, &expired)) < 0)
		return -1;
	if (rc == 1) {
		m->stats->unmatched++;
		buf_addf(action, "subscribe from %s: %s", from[0] ? from : "nobody", expired ?
		    "its confirmation is older than seven days: ignored" :
		    "no list of ours and no confirmation of ours: ignored");
		return 0;
	}
	if (rc == 0) {
		if (strcasecmp(j.address, from) != 0) {
			m->stats->unmatched++;
			buf_addf(action, "confirmation %lld for %s answered by %s: ignored", j.id,
			    j.address, from[0] ? from : "nobody");
			store_join_clear(&j);
			return 0;
		}
		rc = join_confirm(m->st, m->c, &j, "mail", r->message_id, m->now, &readmitted);
		if (rc == 0) {
			m->stats->joined++;
			buf_addf(action, "%s joined %s (confirmation %lld)%s", j.address, j.list,
			    j.id, readmitted ? "; its suppression lifted" : "");
		} else if (rc == 1) {
			buf_addf(action, "confirmation %lld for %s was used already", j.id,
			    j.address);
			rc = 0;
		}
		store_join_clear(&j);
		return rc;
	}
	if (from[0] == '\0') {
		m->stats->unmatched++;
		buf_addf(action, "subscribe to %s from nobody: ignored", list);
		free(list);
		return 0;
	}
	q.list = list;
	q.address = from;
	q.how = "mail";
	q.ref = r->message_id;
	rc = join_ask(m->st, m->c, m->secret, &q, m->now, &jid);
	if (rc == JOIN_ASKED) {
		m->stats->join_asked++;
		buf_addf(action, "subscribe %s to %s: confirmation %lld asked", from, list, jid);
	} else if (rc > 0) {
		buf_addf(action, "subscribe %s to %s: %d confirmations in the last hour already;"
		    " none sent", from, list, JOIN_PER_ADDRESS);
	}
	free(list);
	return rc < 0 ? -1 : 0;
}

/* ---- one message ---- */

static enum folder
mbx_folder_of(enum cls_kind k)
{
	switch (k) {
	case CLS_BOUNCE:
		return F_BOUNCES;
	case CLS_UNSUBSCRIBE:
		return F_UNSUBSCRIBES;
	case CLS_SUBSCRIBE:
		return F_SUBSCRIBES;
	case CLS_AUTOREPLY:
	case CLS_HUMAN:
		break;
	}
	return F_AUTOREPLIES;
}

/* Acts on one message: 0 done (or left alone), 1 another poller has it, -1 a journal error. */
static int
mbx_act_one(struct mbx *m, const struct item *it)
{
	const struct cls_result *r = &it->r;
	enum cls_kind kind = r->f[0].kind;
	struct store_delivery d = { 0, NULL, NULL, NULL, DS_QUEUED };
	struct store_inbound rec;
	struct buf action = BUF_INIT;
	char source[400];
	int rc, by_verp = 0;

	m->stats->read++;
	m->expired = 0;
	if (kind == CLS_HUMAN) {
		m->stats->human++;
		if (m->verbose)
			log_info("poll", "poll: uid %llu: human mail, left alone", it->uid);
		return 0;
	}
	/*
	 * A bounce counts only when a verified token names the delivery:
	 * anyone can write a report naming a subscriber, and a bounce of the
	 * staff's own mail in a shared mailbox is theirs. Those stay put.
	 */
	if (kind == CLS_BOUNCE && (rc = mbx_bounce_row(m, r, &d, &by_verp)) != 0) {
		if (rc < 0)
			return -1;
		m->stats->unmatched++;
		if (m->verbose)
			log_info("poll", "poll: uid %llu: a bounce no token of ours names: left alone",
			    it->uid);
		return 0;
	}
	memset(&rec, 0, sizeof(rec));
	rec.mailbox = m->key;
	rec.uidvalidity = m->uidvalidity;
	rec.uid = it->uid;
	rec.message_id = r->message_id;
	rec.kind = cls_kind_name(kind);
	rec.folder = folder_paths[mbx_folder_of(kind)];
	if ((rc = store_inbound_add(m->st, &rec, m->now)) != 0) {
		store_delivery_clear(&d);
		return rc;			/* 1: another poller has it */
	}
	snprintf(source, sizeof(source), "%s uid %llu%s%s%s", m->key, it->uid,
	    r->message_id[0] ? " <" : "", r->message_id, r->message_id[0] ? ">" : "");
	if ((rc = store_inbound_seen(m->st, r->message_id)) != 0) {
		m->stats->repeated++;
		buf_adds(&action, "acted on before (same Message-ID): moved only");
	} else if (kind == CLS_BOUNCE) {
		rc = mbx_bounce(m, r, &d, by_verp, source, &action);
	} else if (kind == CLS_UNSUBSCRIBE) {
		rc = mbx_unsubscribe(m, r, source, &action);
	} else if (kind == CLS_SUBSCRIBE) {
		rc = mbx_subscribe(m, r, source, &action);
	} else {
		m->stats->autoreplies++;
		buf_adds(&action, "auto-reply: nothing to do");
	}
	if (rc >= 0) {
		rec.action = action.data ? action.data : "";
		rc = store_inbound_action(m->st, &rec);
	}
	if (rc >= 0 && m->verbose)
		log_info("poll", "poll: uid %llu: %s: %s", it->uid, rec.kind, rec.action);
	store_delivery_clear(&d);
	buf_free(&action);
	return rc < 0 ? -1 : 0;
}

/* Acts on one message and counts it by kind, in the batch's transaction. */
static int
mbx_act(struct mbx *m, const struct item *it)
{
	int rc = mbx_act_one(m, it);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return store_count(m->st, "mailbox_messages", cls_kind_name(it->r.f[0].kind), 1);
}

static int
mbx_on_message(void *arg, unsigned long long uid, const char *raw, size_t len)
{
	struct mbx *m = arg;
	struct item *it;

	m->items = xgrow(m->items, &m->cap, m->nitems + 1, sizeof(*m->items));
	it = &m->items[m->nitems];
	it->uid = uid;
	if (classify(raw, len, &m->co, &it->r) < 0 || it->r.n == 0) {
		/* Not a message at all: left alone, like human mail. */
		cls_result_free(&it->r);
		memset(&it->r, 0, sizeof(it->r));
		return 0;
	}
	m->nitems++;
	return 0;
}

/* Acts on the batch and records its UIDs, in one transaction. */
static int
mbx_act_batch(struct mbx *m, unsigned long long last_uid)
{
	size_t i;

	m->now = (long long)time(NULL);
	if (store_begin_as(m->st, STORE_POWER_SAFE) < 0)
		return mbx_journal_fail(m);
	for (i = 0; i < m->nitems; i++)
		if (mbx_act(m, &m->items[i]) < 0)
			return mbx_journal_fail(m);
	if (store_mailbox_set(m->st, m->key, m->uidvalidity, last_uid, m->now) < 0 ||
	    store_commit(m->st) < 0)
		return mbx_journal_fail(m);
	return IMAP_OK;
}

/* ---- moving ---- */

static int
mbx_folder(struct mbx *m, const char *path, const char **name)
{
	size_t f;
	int rc;

	for (f = 0; f < F__COUNT; f++)
		if (strcmp(path, folder_paths[f]) == 0)
			break;
	if (f == F__COUNT)
		fatalx("mailbox: unknown folder %s", path);
	if (m->folders[f] == NULL && (rc = imap_folder(m->im, path, &m->folders[f])) != IMAP_OK)
		return rc;
	*name = m->folders[f];
	return IMAP_OK;
}

static int
mbx_mark_moved(struct mbx *m, const struct store_unmoved *u, size_t n)
{
	size_t i;

	if (store_begin_as(m->st, STORE_POWER_SAFE) < 0)
		return mbx_journal_fail(m);
	for (i = 0; i < n; i++)
		if (store_inbound_moved(m->st, m->key, m->uidvalidity, u[i].uid) < 0)
			return mbx_journal_fail(m);
	if (store_commit(m->st) < 0)
		return mbx_journal_fail(m);
	m->stats->moved += n;
	return IMAP_OK;
}

/* Moves everything recorded and not moved yet, a folder at a time. */
static int
mbx_move_pending(struct mbx *m)
{
	struct store_unmoved *u = NULL;
	unsigned long long *uids = NULL;
	const char *name;
	size_t n = 0, i, j, k;
	int rc = IMAP_OK;

	if (store_inbound_unmoved(m->st, m->key, m->uidvalidity, &u, &n) < 0)
		return mbx_journal_fail(m);
	uids = xcalloc(n ? n : 1, sizeof(*uids));
	for (i = 0; i < n && rc == IMAP_OK; i = j) {
		for (j = i; j < n && strcmp(u[j].folder, u[i].folder) == 0; j++)
			uids[j - i] = u[j].uid;
		for (k = i; k < j && rc == IMAP_OK; k += FETCH_BATCH) {
			size_t cnt = j - k < FETCH_BATCH ? j - k : FETCH_BATCH;

			if ((rc = mbx_folder(m, u[i].folder, &name)) == IMAP_OK &&
			    (rc = imap_move(m->im, uids + (k - i), cnt, name)) == IMAP_OK)
				rc = mbx_mark_moved(m, u + k, cnt);
		}
		/*
		 * The server refused a CREATE or a MOVE (quota, rights): what was
		 * acted on is recorded and waits to be moved; reading goes on.
		 */
		if (rc == IMAP_NO) {
			log_warn("imap", "imap: %s; %zu messages stay in %s until a later poll moves "
			    "them", imap_error(m->im), j - i, m->c->imap.mailbox);
			rc = IMAP_OK;
		}
	}
	free(uids);
	store_unmoved_free(u, n);
	return rc;
}

/* ---- one session ---- */

static int
mbx_imap_fail(struct mbx *m, int rc)
{
	snprintf(m->err, sizeof(m->err), "%s", imap_error(m->im));
	return rc;
}

/*
 * The server refused a batch: one message at a time, and one it cannot
 * read is left alone, like human mail, rather than stopping every poll.
 */
static int
mbx_fetch_each(struct mbx *m, const unsigned long long *uids, size_t n)
{
	size_t i;
	int rc;

	mbx_items_clear(m);
	for (i = 0; i < n; i++) {
		rc = imap_fetch(m->im, uids + i, 1, FETCH_MAX_BYTES, mbx_on_message, m);
		if (rc == IMAP_NO)
			log_warn("imap", "imap: uid %llu cannot be read (%s): left alone", uids[i],
			    imap_error(m->im));
		else if (rc != IMAP_OK)
			return rc;
	}
	return IMAP_OK;
}

/* The journal's progress in this mailbox; a new UIDVALIDITY starts again at 0. */
static int
mbx_progress(struct mbx *m, unsigned long long *last)
{
	unsigned long long uidv;
	int rc;

	if ((rc = store_mailbox_get(m->st, m->key, &uidv, last)) < 0)
		return mbx_journal_fail(m);
	if (rc == 1 || uidv != m->uidvalidity) {
		if (rc == 0)
			log_warn("imap", "imap: %s: UIDVALIDITY changed (%llu, was %llu): reading "
			    "every message again", m->key, m->uidvalidity, uidv);
		*last = 0;
		if (store_mailbox_set(m->st, m->key, m->uidvalidity, 0, (long long)time(NULL)) < 0)
			return mbx_journal_fail(m);
	}
	return IMAP_OK;
}

/* The new messages of UIDs [lo, hi]: fetched, classified and acted on a batch at a time. */
static int
mbx_window(struct mbx *m, unsigned long long lo, unsigned long long hi)
{
	unsigned long long *uids = NULL;
	size_t n = 0, i, cnt;
	int rc;

	if ((rc = imap_uids(m->im, lo, hi, &uids, &n)) != IMAP_OK)
		return rc;
	for (i = 0; i < n && rc == IMAP_OK; i += cnt) {
		cnt = n - i < FETCH_BATCH ? n - i : FETCH_BATCH;
		mbx_items_clear(m);
		rc = imap_fetch(m->im, uids + i, cnt, FETCH_MAX_BYTES, mbx_on_message, m);
		if (rc == IMAP_NO)
			rc = mbx_fetch_each(m, uids + i, cnt);
		if (rc != IMAP_OK)
			break;
		if ((rc = mbx_act_batch(m, uids[i + cnt - 1])) == IMAP_OK)
			rc = mbx_move_pending(m);
	}
	/* Nothing there: recorded, so that the next poll does not search it again. */
	if (rc == IMAP_OK && n == 0) {
		mbx_items_clear(m);
		rc = mbx_act_batch(m, hi);
	}
	free(uids);
	return rc;
}

static int
mbx_session(struct mbx *m)
{
	unsigned long long last, end, lo, hi;
	int rc;

	if ((rc = imap_open(&m->io, &m->im)) != IMAP_OK ||
	    (rc = imap_select(m->im, m->c->imap.mailbox, &m->uidvalidity)) != IMAP_OK)
		return mbx_imap_fail(m, rc);
	free(m->key);
	m->key = xasprintf("%s/%s", imap_account(m->im), m->c->imap.mailbox);
	if ((rc = mbx_progress(m, &last)) != IMAP_OK || (rc = mbx_move_pending(m)) != IMAP_OK ||
	    (rc = imap_uid_end(m->im, &end)) != IMAP_OK)
		goto out;
	/* A window of UIDs at a time: no answer to a SEARCH can hold millions. */
	for (lo = last + 1; lo <= end && rc == IMAP_OK; lo = hi + 1) {
		hi = end - lo < IMAP_SEARCH_WINDOW ? end : lo + IMAP_SEARCH_WINDOW - 1;
		rc = mbx_window(m, lo, hi);
	}
out:
	mbx_items_clear(m);
	if (rc != IMAP_OK && rc != MBX_JOURNAL && m->err[0] == '\0')
		mbx_imap_fail(m, rc);
	return rc;
}

static void
mbx_session_end(struct mbx *m)
{
	size_t f;

	imap_close(m->im);
	m->im = NULL;
	for (f = 0; f < F__COUNT; f++) {
		free(m->folders[f]);
		m->folders[f] = NULL;
	}
}

/* A pause before trying again, cut short by *stop: the daemon polls on a thread of its own. */
static void
mbx_pause(unsigned seconds, volatile sig_atomic_t *stop)
{
	struct timespec tenth = { 0, 100 * 1000 * 1000 };
	unsigned i;

	for (i = 0; i < seconds * 10 && !(stop && *stop); i++)
		nanosleep(&tenth, NULL);
}

enum mailbox_end
mailbox_poll(const struct config *c, struct store *st,
    const unsigned char secret[TOKEN_SECRET_LEN], int verbose, volatile sig_atomic_t *stop,
    struct mailbox_stats *stats, char *err, size_t errlen)
{
	static const unsigned delays[] = { 1, 2, 4, 8, 16 };
	enum mailbox_end end = MAILBOX_DONE;
	struct mbx m;
	char *password = NULL;
	size_t attempt;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&m, 0, sizeof(m));
	err[0] = '\0';
	if (config_password("imap", c->imap.password_env, c->imap.password_file,
	    &password, err, errlen) == -1)
		return MAILBOX_REFUSED;
	m.c = c;
	m.st = st;
	m.secret = secret;
	m.verbose = verbose;
	m.stats = stats;
	m.co.bounce_address = c->sender.bounce_address;
	m.co.unsubscribe_address = c->sender.unsubscribe_address;
	m.co.msgid_domain = c->sender.domain;
	m.co.subscribe_address = c->sender.subscribe_address;
	m.io.url = c->imap.url;
	m.io.username = c->imap.username;
	m.io.password = password;
	m.io.ca_file = c->imap.ca_file;
	m.io.timeout = IMAP_TIMEOUT;
	m.io.stop = stop;
	for (attempt = 0;; attempt++) {
		m.err[0] = '\0';
		rc = mbx_session(&m);
		mbx_session_end(&m);
		if (rc == IMAP_OK)
			break;
		if (rc == MBX_JOURNAL || rc == IMAP_REFUSED || attempt == ARRAY_LEN(delays)) {
			snprintf(err, errlen, "%s%s%s", rc == MBX_JOURNAL ? "" : "imap: ", m.err,
			    rc != IMAP_REFUSED && rc != MBX_JOURNAL ? "; giving up" : "");
			end = rc == MBX_JOURNAL ? MAILBOX_JOURNAL : rc == IMAP_REFUSED ?
			    MAILBOX_REFUSED : MAILBOX_UNREACHABLE;
			break;
		}
		if (stop && *stop) {
			snprintf(err, errlen, "imap: %s; stopping", m.err);
			end = MAILBOX_INTERRUPTED;
			break;
		}
		log_warn("imap", "imap: %s; trying again in %u s", m.err, delays[attempt]);
		stats->reconnects++;
		mbx_pause(delays[attempt], stop);
	}
	free(m.items);
	free(m.key);
	if (password) {
		memset(password, 0, strlen(password));
		free(password);
	}
	return end;
}

/* ---- for herald classify: what a request's token names, acting on nothing ---- */

/* As poll reads a token: one too old names nothing (1). */
static int
target_of(struct store *st, const struct lookup_key *k, const char *purpose,
    const char *tok, size_t len, char **address, char **list)
{
	struct store_delivery d;
	long long cid;
	int rc;

	if ((rc = lookup_delivery(st, k, purpose, tok, len, &d)) == 0) {
		*address = d.address;
		*list = d.list;
		d.address = d.list = NULL;
		store_delivery_clear(&d);
		return 0;
	}
	if (rc == LOOKUP_EXPIRED)
		store_delivery_clear(&d);
	if (rc < 0)
		return -1;
	rc = lookup_confirm(st, k, tok, len, &cid, address);
	return rc == LOOKUP_EXPIRED ? 1 : rc;
}

int
mailbox_unsub_target(struct store *st, const struct lookup_key *k,
    const struct cls_result *r, char **address, char **list)
{
	const char *tok;
	size_t len;
	int rc = 1;

	*address = *list = NULL;
	if (r->unsub_token[0])
		rc = target_of(st, k, "u", r->unsub_token, strlen(r->unsub_token), address,
		    list);
	if (rc == 1 && r->reply_id[0] && mbx_msgid_token(r->reply_id, &tok, &len) == 0 &&
	    (rc = target_of(st, k, "m", tok, len, address, list)) == 0 &&
	    strcasecmp(*address, r->f[0].address) != 0) {
		/* A reply to our Message-ID names a delivery only from its own address. */
		free(*address);
		free(*list);
		*address = *list = NULL;
		rc = 1;
	}
	return rc;
}

int
mailbox_bounce_target(struct store *st, const struct lookup_key *k,
    const struct cls_result *r, char **address)
{
	struct store_delivery d;
	int rc;

	*address = NULL;
	if (!r->verp_token[0])
		return 1;
	rc = lookup_delivery(st, k, "b", r->verp_token, strlen(r->verp_token), &d);
	if (rc == 0) {
		*address = d.address;
		d.address = NULL;
	}
	if (rc == 0 || rc == LOOKUP_EXPIRED)
		store_delivery_clear(&d);
	return rc < 0 ? -1 : rc == 0 ? 0 : 1;
}

/* ---- one reader at a time ---- */

int
mailbox_lock(struct store *st, struct store_lease **lease)
{
	int rc = store_lease_take(st, "poll", (long long)time(NULL), lease, NULL);

	/* Kept while a slow server is read: it lapses only when this process stalls. */
	if (rc == 0 && store_lease_keep(st, *lease) < 0) {
		store_lease_drop(st, *lease);
		*lease = NULL;
		rc = -1;
	}
	if (rc < 0)
		log_error("mailbox", "journal: %s", store_error(st));
	return rc;
}

/* ---- IDLE: a second session that only waits for new mail ---- */

struct mailbox_watch {
	struct imap *im;
	int fd;
	long long since;	/* when the current IDLE began */
};

struct mailbox_watch *
mailbox_watch_open(const struct config *c, long long now, volatile sig_atomic_t *stop,
    char *err, size_t errlen)
{
	struct mailbox_watch *w = xcalloc(1, sizeof(*w));
	struct imap_opts io;
	unsigned long long uidv;
	char *password = NULL;
	int rc;

	err[0] = '\0';
	if (config_password("imap", c->imap.password_env, c->imap.password_file,
	    &password, err, errlen) == -1) {
		free(w);
		return NULL;
	}
	memset(&io, 0, sizeof(io));
	io.url = c->imap.url;
	io.username = c->imap.username;
	io.password = password;
	io.ca_file = c->imap.ca_file;
	io.timeout = IMAP_TIMEOUT;
	io.stop = stop;		/* the watch's reads give up within a second of a stop */
	rc = imap_open(&io, &w->im);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (rc == IMAP_OK)
		rc = imap_select(w->im, c->imap.mailbox, &uidv);
	if (rc == IMAP_OK && !imap_has_idle(w->im)) {
		snprintf(err, errlen, "the server offers no IDLE: reading every imap.poll");
		rc = IMAP_REFUSED;
	} else if (rc == IMAP_OK) {
		rc = imap_idle_start(w->im, &w->fd);
	}
	if (rc != IMAP_OK) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", imap_error(w->im));
		mailbox_watch_close(w);
		return NULL;
	}
	w->since = now;
	return w;
}

int
mailbox_watch_fd(const struct mailbox_watch *w)
{
	return w ? w->fd : -1;
}

long long
mailbox_watch_renew_at(const struct mailbox_watch *w)
{
	return w ? w->since + MAILBOX_IDLE_RENEW : 0;
}

int
mailbox_watch_renew(struct mailbox_watch *w, long long now)
{
	if (imap_idle_done(w->im) != IMAP_OK || imap_idle_start(w->im, &w->fd) != IMAP_OK)
		return -1;
	w->since = now;
	return 0;
}

void
mailbox_watch_close(struct mailbox_watch *w)
{
	if (w == NULL)
		return;
	imap_close(w->im);
	free(w);
}
