/*
 * lookup.h - what a token of ours names in the journal, verified against
 * state/secret: a delivery (VERP bounces, unsubscribe addresses and
 * links, our Message-IDs) or a confirmation. The one place a token is
 * turned into a row: the mailbox and the one-click endpoint both ask here.
 */
#ifndef HERALD_LOOKUP_H
#define HERALD_LOOKUP_H

#include <stddef.h>

#include "store.h"
#include "token.h"

/* What a token is checked with: the secret, and how old it may be. */
struct lookup_key {
	const unsigned char *secret;	/* TOKEN_SECRET_LEN bytes */
	long long now;			/* seconds since 1970 */
	unsigned long long max_age;	/* seconds (tokens.max_age) */
};

/* A token of ours made more than max_age ago (one made before tokens were dated: since the upgrade). */
#define LOOKUP_EXPIRED 2

/*
 * The delivery token (len bytes) names for purpose ("b" bounce, "u"
 * unsubscribe, "m" Message-ID): 0 with *d filled (store_delivery_clear it),
 * LOOKUP_EXPIRED with *d filled too (the token is ours but too old to act
 * on: offer a confirmation instead), 1 when it is not a valid token of
 * ours for that purpose, -1 on a journal error.
 */
int lookup_delivery(struct store *st, const struct lookup_key *k, const char *purpose,
    const char *token, size_t len, struct store_delivery *d);

/*
 * The confirmation token names: 0 with *cid and *address (the caller
 * owns it), LOOKUP_EXPIRED (nothing filled) when it is too old, 1 when it
 * is not one of ours, -1 on a journal error.
 */
int lookup_confirm(struct store *st, const struct lookup_key *k, const char *token,
    size_t len, long long *cid, char **address);

#endif
