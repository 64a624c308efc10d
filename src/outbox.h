/*
 * outbox.h - sending herald's own mail (unsubscribe notices and
 * confirmations) that the mailbox reader queued in the journal. A message
 * leaves the outbox only when the relay accepted it (250 after the final
 * dot) or refused it for good; a relay that cannot be reached leaves it
 * queued for the next run, and 4xx replies retry on smtp.retry.
 */
#ifndef HERALD_OUTBOX_H
#define HERALD_OUTBOX_H

#include <stddef.h>

#include "config.h"
#include "store.h"

struct outbox_stats {
	size_t sent, deferred, failed, waiting;	/* waiting: the relay was unreachable */
};

/* Sends what is due at now. 0, or -1 on a journal error (logged). */
int outbox_send(const struct config *c, struct store *st, long long now,
    struct outbox_stats *stats);

struct smtp_reply;

/*
 * Sends msg (len bytes) now to rcpt, from the envelope sender mail_from,
 * through smtp.url (signed when dkim is configured), and waits for the
 * relay's reply in *r. Nothing is recorded: for a test send. Returns 0,
 * or -1 with why in err when the password or the DKIM key cannot be used.
 */
int outbox_send_one(const struct config *c, const char *mail_from, const char *rcpt,
    const char *msg, size_t len, struct smtp_reply *r, char *err, size_t errlen);

#endif
