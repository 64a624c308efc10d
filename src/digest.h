/*
 * digest.h - `herald digest LIST`: one message to each digest subscriber
 * carrying every release sent to the list that they have not had.
 *
 * Subscribers with `delivery: digest` get no message per release (relsrc.c
 * skips them). A digest is a release row of its own in the journal,
 * release_id "digest.LIST.YYYYMMDDTHHMMSSZ" (a release id cannot hold a
 * '.', so no release file can take it), with one delivery row per digest
 * subscriber that is owed something; it is sent by delivery.c's loop, so
 * it has the same limiter, retries, crash safety, tokens and headers as a
 * release, and `herald status`, `herald cancel` and `herald send ID` take
 * its id.
 *
 * What a subscriber is owed (store_digest_take): each release sent to the
 * list (state sending or done) since they took the list's digest, that no
 * digest carried to them yet and that they did not have by a delivery of
 * their own (a row not failed or skipped). The releases each digest carries
 * are recorded per subscriber in the transaction that adds the
 * subscriber's delivery row, so a crash never loses or repeats an item. A
 * subscriber first seen at a digest is owed the releases since the list's
 * previous digest (all of them when the list had none): someone who joins
 * today does not get the list's whole past. A delivery row that ends
 * failed or skipped (suppressed) still counts as carrying its items, as a
 * release's row does.
 *
 * Rendering (on the sending threads): the list's digest template against
 * `releases` (each release's fields as a release template sees them, plus
 * `date`, the UTC day it went out, oldest first), `list`, `subscriber`,
 * `unsubscribe`, `period.from` (the day the subscriber's oldest release
 * went out), `period.to` (the day the digest was made) and `now`. The
 * releases are rendered from the journal's snapshots, the list's name and
 * template from the current files.
 */
#ifndef HERALD_DIGEST_H
#define HERALD_DIGEST_H

#include <stddef.h>

#include "config.h"
#include "delivery.h"
#include "store.h"

/* One digest that digest_run sent or resumed. */
struct digest_sent {
	char *id;
	size_t releases, rows;		/* a new one: what it carries, to how many; else 0 */
	struct delivery_result r;
};

struct digest_result {
	/* Why nothing more could be done, when the setup failed (end DELIVERY_DONE: it did not). */
	struct delivery_result why;
	struct digest_sent *sent;	/* the list's digests still being sent, then a new one */
	size_t nsent;
	size_t subscribers;		/* the list's digest subscribers */
	int nothing_new;		/* 1: nobody is owed a release; nothing recorded */
};

/*
 * Sends list_id's due digest now: first the list's digests still being
 * sent (deferred rows that are due, rows left by a crash), then a new one
 * when some digest subscriber is owed a release. Fills *r (zeroed first;
 * digest_result_free it); input errors go to d. stop may be NULL.
 */
void digest_run(const struct config *cfg, const char *list_id, const struct delivery_opts *o,
    struct digest_result *r, struct diag *d);
void digest_result_free(struct digest_result *r);

/* What the list's next digest would be (digest_dry). */
struct digest_dry {
	size_t subscribers;		/* the list's digest subscribers */
	size_t rows;			/* of them owed something: who would get one */
	size_t releases;		/* the releases it would carry, in all */
	char to[256];			/* the subscriber previewed (or counted for owed) */
	size_t owed;			/* the releases that subscriber's digest carries */
};

/*
 * The list's next digest, worked out in the very transaction herald digest
 * would commit, then rolled back: nothing is recorded, nothing sent, no
 * journal made. With msg, the message of subscriber to (canonical; NULL:
 * the first one owed) is appended to it. r->end is DELIVERY_DONE when it
 * went through.
 */
void digest_dry(const struct config *cfg, const char *list_id, const char *to,
    struct digest_dry *out, struct buf *msg, struct delivery_result *r, struct diag *d);

/* 1 when arg (a RELEASE argument) names a digest, "digest.LIST.TIME". */
int digest_is_id(const char *arg);

/* Resumes the digest id names (`herald send ID`, the daemon's retries); as delivery_run. */
void digest_resume(const struct config *cfg, const char *id, const struct delivery_opts *o,
    struct delivery_result *r, struct diag *d);

/* How many messages of the digest id wait: counts in *r (r->counted), or r->end says why not. */
void digest_pending(const struct config *cfg, const char *id, struct delivery_result *r);

/*
 * "digest.LIST.YYYYMMDDTHHMMSSZ" for list at t (UTC), "-SEQ" appended when
 * seq > 1 (two digests in one second). The caller owns it.
 */
char *digest_make_id(const char *list, long long t, unsigned seq);

/*
 * The items of one address in v (n items sorted by address, as
 * store_digest_items gives them): the index of the first, *count of them
 * (0 when none).
 */
size_t digest_find(const struct store_digest_item *v, size_t n, const char *address,
    size_t *count);

#endif
