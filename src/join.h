/*
 * join.h - joining a list, always double opt-in: a request (by mail to
 * subscribe+LIST@, or a form on the web) records a join in the journal
 * and mails its token to the address; only the answer to that mail (a
 * reply to subscribe+TOKEN@, or the link's button) adds the member. The
 * mailbox and the web endpoint both go through here.
 *
 * Nothing a request gets back tells whether the address was known: a
 * member, a stranger and a suppressed address get the same confirmation.
 * Rate limits keep one address from being mailed more than
 * JOIN_PER_ADDRESS confirmations in JOIN_WINDOW, and one web client from
 * asking more than JOIN_PER_CLIENT in it, counted in the journal so that
 * they hold across restarts.
 */
#ifndef HERALD_JOIN_H
#define HERALD_JOIN_H

#include <stddef.h>

#include "classify.h"
#include "config.h"
#include "store.h"

#define JOIN_TTL (7LL * 86400)	/* a confirmation's token is good this long */
#define JOIN_WINDOW 3600LL	/* the rate limits' window */
#define JOIN_PER_ADDRESS 3	/* confirmations one address gets in a window */
#define JOIN_PER_CLIENT 10	/* requests one web client makes in a window */

/* A request to join. */
struct join_request {
	const char *list;		/* a list of the project (join_list_known) */
	const char *address;		/* canonical */
	const char *name;		/* NULL: none given */
	const char *how;		/* "mail" or "web" */
	const char *client;		/* web: the client's address; else NULL */
	const char *ref;		/* mail: the request's Message-ID; else NULL */
};

enum join_asked { JOIN_ASKED, JOIN_LIMITED_ADDRESS, JOIN_LIMITED_CLIENT };

/*
 * Records q and queues in the outbox the mail that asks its address to
 * confirm (answering the request's Message-ID when it came by mail), in
 * the caller's transaction: JOIN_ASKED (*jid set), a JOIN_LIMITED_* when
 * a rate limit holds it back (nothing written), or -1 on a journal error.
 */
int join_ask(struct store *st, const struct config *c, const unsigned char *secret,
    const struct join_request *q, long long now, long long *jid);

/*
 * The join a token (len bytes) names: 0 with *j (store_join_clear it),
 * LOOKUP_EXPIRED (nothing filled) when it was asked more than JOIN_TTL
 * ago, 1 when it is no join token of ours, -1 on a journal error.
 */
int join_lookup(struct store *st, const unsigned char *secret, const char *token, size_t len,
    long long now, struct store_join *j);

/*
 * Confirms j: its address becomes a member of its list, with the consent
 * record how ("mail" or "web"), ref (the confirming message's Message-ID,
 * or the client's address) and now; a suppression that kept it from the
 * list is lifted (store_readmit), *readmitted says so. In the caller's
 * transaction: 0 joined, 1 it was confirmed already, -1 a journal error.
 */
int join_confirm(struct store *st, const struct config *c, const struct store_join *j,
    const char *how, const char *ref, long long now, int *readmitted);

/* 1 when list (len bytes) is a list id with a file in the project's lists folder. */
int join_list_known(const struct config *c, const char *list, size_t len);

/*
 * What a subscribe finding of classify is about: the join its token names
 * (subscribe+TOKEN@, or a reply to "join.TOKEN@"): 0 with *j; else the list
 * subscribe+LIST@ asks for: 2 with *list (the caller frees it); 1 neither
 * (a token of ours too old is neither: *expired is set); -1 journal error.
 */
int join_target(struct store *st, const struct config *c, const unsigned char *secret,
    const struct cls_result *r, long long now, struct store_join *j, char **list, int *expired);

#endif
