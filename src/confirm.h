/*
 * confirm.h - asking an address to confirm an unsubscribe that proves
 * nothing by itself: a request without a token, a reply to our
 * Message-ID from another address, a token older than tokens.max_age.
 * The mailbox and the one-click endpoint both ask through here.
 */
#ifndef HERALD_CONFIRM_H
#define HERALD_CONFIRM_H

#include "config.h"
#include "store.h"

#define CONFIRM_EVERY 86400	/* at most one open confirmation a day per address */

/*
 * Records a confirmation for address and queues, in the outbox, the mail
 * that asks for it (from unsubscribe+TOKEN@, which the reply goes to),
 * answering in_reply_to when it is not NULL. Call inside the caller's
 * transaction. 0 asked (*cid set), 1 not asked: the address is
 * unsubscribed from every list already or was asked within
 * CONFIRM_EVERY; -1 on a journal error.
 */
int confirm_ask(struct store *st, const struct config *c, const unsigned char *secret,
    const char *address, const char *in_reply_to, long long now, long long *cid);

#endif
