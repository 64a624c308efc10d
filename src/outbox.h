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

#endif
