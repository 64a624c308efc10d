/*
 * digest.h - `herald digest LIST`: one message to each digest subscriber
 * carrying every release sent to the list that they have not had.
 *
 * Subscribers with `delivery: digest` get no message per release (delivery.c
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

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "delivery.h"
#include "store.h"

/*
 * Sends list_id's due digest now: first the list's digests still being
 * sent (deferred rows that are due, rows left by a crash), then a new one
 * when some digest subscriber is owed a release. Prints what it did, one
 * line each ("digest LIST: nothing new since the last digest; nothing
 * sent" when nobody is owed anything; then no mail and 0). Returns an exit
 * status: 0; 65 an unknown list, a list without a digest template, or
 * invalid input; 75 deliveries wait for a retry or *stop was set; 69, 78
 * as for herald send. stop may be NULL.
 */
int digest_run(const struct config *cfg, const char *list_id, int verbose,
    volatile sig_atomic_t *stop);

/* 1 when arg (a RELEASE argument) names a digest, "digest.LIST.TIME". */
int digest_is_id(const char *arg);

/*
 * Resumes the digest o->release_arg names (delivery_run calls it for
 * `herald send ID` and the daemon's retries); with o->dry_run only says
 * how many wait. Returns an exit status, as delivery_run.
 */
int digest_resume(const struct config *cfg, const struct delivery_opts *o);

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
