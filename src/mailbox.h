/*
 * mailbox.h - reading the mailbox: every new message classified, acted on
 * once, and moved into its Herald/ folder; human mail left exactly as it
 * was (not moved, not marked \Seen).
 *
 * Progress is kept by UIDVALIDITY and UID in the journal. A message's
 * action and its UID are committed in one transaction before it is moved,
 * and a message recorded but not yet moved is moved at the start of the
 * next session; so a crash or a lost connection anywhere repeats nothing
 * and loses nothing. A new UIDVALIDITY rescans the mailbox; a message
 * whose Message-ID was acted on already is moved but not acted on again.
 */
#ifndef HERALD_MAILBOX_H
#define HERALD_MAILBOX_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "store.h"
#include "lookup.h"
#include "token.h"

struct mailbox_stats {
	size_t read;			/* messages classified */
	size_t hard, soft;		/* bounces of ours, by kind */
	size_t soft_suppressed;		/* addresses whose soft score reached the threshold */
	size_t unsubscribed;		/* suppressed at once (token, reply, confirmation) */
	size_t confirm_asked;		/* requests without a token: confirmation queued */
	size_t join_asked;		/* requests to subscribe: confirmation queued */
	size_t joined;			/* confirmations of those: members added */
	size_t autoreplies, human;
	size_t unmatched;		/* bounces and requests that name nobody of ours */
	size_t repeated;		/* acted on before (same Message-ID) */
	size_t moved;
	size_t reconnects;
};

/* How a pass over the mailbox ended. */
enum mailbox_end {
	MAILBOX_DONE,		/* every new message read and acted on */
	MAILBOX_REFUSED,	/* certificate not trusted, login refused, no password, no mailbox */
	MAILBOX_UNREACHABLE,	/* the server stayed unreachable through every retry */
	MAILBOX_JOURNAL,	/* the journal could not be written */
	MAILBOX_INTERRUPTED,	/* *stop was set while waiting to try again */
};

/*
 * One pass over the configured mailbox (c->imap must be enabled). A lost
 * connection is retried with backoff (1, 2, 4, 8, 16 s), each retry
 * logged. Returns how it ended, with why in err (errlen bytes) when it
 * did not end DONE; what it did is in *stats either way.
 */
enum mailbox_end mailbox_poll(const struct config *c, struct store *st,
    const unsigned char secret[TOKEN_SECRET_LEN], int verbose, volatile sig_atomic_t *stop,
    struct mailbox_stats *stats, char *err, size_t errlen);

/*
 * One reader of the mailbox and sender of the outbox at a time per
 * journal (its `poll` lease, store.h): two would send the same notices.
 * Returns 0 with *lease held (store_lease_drop it to unlock), 1 when
 * another process holds it, -1 on an error (logged).
 */
int mailbox_lock(struct store *st, struct store_lease **lease);

/*
 * IDLE (RFC 2177) for the daemon: a second session that selects the
 * mailbox and waits. Its fd becomes readable when the server announces
 * something; then mailbox_watch_renew (DONE, IDLE again) and a
 * mailbox_poll read what came. Renew it by mailbox_watch_renew_at too:
 * servers drop an IDLE after 30 minutes. mailbox_watch_open returns NULL
 * with the reason in err when the server cannot be reached or offers no
 * IDLE (then the daemon reads every imap.poll). A renew failing (-1):
 * close the watch and open another later.
 */
#define MAILBOX_IDLE_RENEW (25 * 60)
struct mailbox_watch;
struct mailbox_watch *mailbox_watch_open(const struct config *c, long long now,
    volatile sig_atomic_t *stop, char *err, size_t errlen);
int mailbox_watch_fd(const struct mailbox_watch *w);
long long mailbox_watch_renew_at(const struct mailbox_watch *w);
int mailbox_watch_renew(struct mailbox_watch *w, long long now);
void mailbox_watch_close(struct mailbox_watch *w);

struct cls_result;

/*
 * What the tokens of an unsubscribe request name, acting on nothing: the
 * address and its list (*list NULL: a confirmed request, every list).
 * 0 found (the caller frees both), 1 no valid token (a reply to our
 * Message-ID names nothing unless it comes from the delivery's own
 * address), -1 journal error.
 */
int mailbox_unsub_target(struct store *st, const struct lookup_key *k,
    const struct cls_result *r, char **address, char **list);

/*
 * The address a bounce's VERP token names, for a bounce that names none
 * itself: 0 found (the caller frees *address), 1 no valid token, -1
 * journal error.
 */
int mailbox_bounce_target(struct store *st, const struct lookup_key *k,
    const struct cls_result *r, char **address);

#endif
