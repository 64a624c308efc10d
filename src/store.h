/*
 * store.h - the journal, as a contract between herald and its backend.
 *
 * Releases (a snapshot of the release file taken when it is scheduled or
 * sent), deliveries (one row per release and canonical address) and
 * suppressions. Every state move is a transaction; the delivery state
 * machine lives here and an illegal move is a bug (fatalx).
 *
 * The journal is named by its location, the configuration's `state:`
 * value; the backend behind it is store.c's business (today SQLite in WAL
 * mode, a file at that path, and the only file with SQL). Callers never
 * build paths from the location.
 *
 * Crash safety: a process that claims rows holds an owner lease in the
 * journal and renews it while it lives (see "leases" below); rows it has
 * claimed carry its owner id. store_reclaim() gives back to `queued` the
 * `sending` rows whose owner's lease is free: expired, or its holder
 * proven gone.
 *
 * Every function returns 0 on success and -1 on a database error, after
 * logging it (store_error() has the text); "not found" is 1 where a
 * lookup can miss. Strings in out-structs are owned by the struct and
 * freed by its *_clear().
 */
#ifndef HERALD_STORE_H
#define HERALD_STORE_H

#include <stddef.h>

enum dstate {
	DS_QUEUED, DS_SENDING, DS_SENT, DS_DEFERRED, DS_FAILED, DS_SKIPPED,
	DS_BOUNCED, DS__COUNT
};

enum rstate { RS_SCHEDULED, RS_SENDING, RS_DONE, RS_CANCELLED, RS__COUNT };

/* "queued", "sending", ...; and back (-1 when unknown). */
const char *store_dstate_name(enum dstate s);
int store_dstate_parse(const char *name);
const char *store_rstate_name(enum rstate s);

struct store;

/*
 * Opens (creating) the journal at location, the configuration's `state:`
 * value, and migrates its schema to the current version. A path is a
 * SQLite journal, in WAL mode with a busy timeout; its parent directory
 * is created (0700) if needed. err says what failed, location first.
 */
int store_open(const char *location, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_error(const struct store *st);
int store_schema_version(struct store *st);
/* 1 when the journal at location exists (something was recorded), else 0. */
int store_exists(const char *location);
/*
 * The path of the file `name` kept beside a journal stored in a local
 * file ("state/secret" for "state/herald.db"), or NULL when the journal
 * has no folder of its own. The caller frees it.
 */
char *store_beside(const char *location, const char *name);

/*
 * Explicit transactions group many calls into one commit, taking the
 * write lock at once (no two writers interleave). Their durability is a
 * promise of the transaction:
 *   STORE_CRASH_SAFE  a committed transaction survives the crash of any
 *                     process (kill -9); a power loss may undo the last
 *                     ones, never part of one. The send loop's.
 *   STORE_POWER_SAFE  the commit has reached the disk when store_commit
 *                     returns: for an action that something outside the
 *                     journal follows (a message moved on the IMAP server),
 *                     which a power loss must not undo.
 * store_begin is store_begin_as(st, STORE_CRASH_SAFE). A call outside a
 * transaction is a crash-safe transaction of its own.
 */
enum store_durability { STORE_CRASH_SAFE, STORE_POWER_SAFE };
int store_begin(struct store *st);
int store_begin_as(struct store *st, enum store_durability d);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* ---- releases ---- */

struct store_release {
	long long id;			/* row id */
	char *release_id;		/* "ogp-americas-2017" */
	char *file;			/* the path it was read from */
	char *snapshot;			/* the release file's bytes at scheduling/sending */
	size_t snapshot_len;
	char *hash;			/* hex SHA-256 of the snapshot */
	char *lists;			/* list ids, separated by single spaces */
	long long scheduled_at;		/* Unix time; 0: not scheduled (sent by hand) */
	enum rstate state;
	long long created, updated;
	char *segment;			/* segment.h's text form; "": everyone on the lists */
	int segment_counted;		/* the last expansion counted the segment: */
	size_t segment_kept, segment_left;	/* subscribers it kept and left out */
};
void store_release_clear(struct store_release *r);

/*
 * Records a release (or replaces the snapshot, lists, time and state of
 * an existing one with the same release_id that has no delivery rows
 * yet; with rows, only scheduled_at and state change). *rowid is set.
 */
int store_release_put(struct store *st, const struct store_release *r, long long now,
    long long *rowid);
/* 0 found, 1 not found. */
int store_release_get(struct store *st, const char *release_id, struct store_release *out);
int store_release_set_state(struct store *st, long long rowid, enum rstate s,
    long long now);
/* The lists (space-separated) a release has been sent to: digests read them. */
int store_release_set_lists(struct store *st, long long rowid, const char *lists);
/* The release's embargo (0: none), until it has delivery rows: digests wait for it. */
int store_release_set_lift(struct store *st, long long rowid, long long lift);
/*
 * The segment a release goes to from now on (text form) and, when counted,
 * how many subscribers its expansion kept and left out.
 */
int store_release_set_segment(struct store *st, long long rowid, const char *segment, int counted,
    size_t kept, size_t left);
/* 1 when release row rel has a delivery row for address, 0 when not, -1 on error. */
int store_delivery_has(struct store *st, long long rel, const char *address);
/* Scheduled releases due at `now` (scheduled_at <= now, state scheduled), oldest first. */
int store_release_due(struct store *st, long long now, long long **rowids, size_t *n);
/* Every release, newest first (for status). */
int store_release_list(struct store *st, struct store_release **out, size_t *n);

/* ---- deliveries ---- */

/*
 * Adds the delivery of release `rel` to `address` (canonical) from list
 * `list`, with the subscriber's template fields as an opaque blob
 * (fields, fields_len; may be NULL), in state `initial` (DS_QUEUED or
 * DS_SKIPPED, with `reason` for skipped). A second add for the same
 * release and address is ignored (returns 1): an address on two lists
 * gets the release once.
 */
int store_delivery_add(struct store *st, long long rel, const char *address,
    const char *list, const void *fields, size_t fields_len, enum dstate initial,
    const char *reason, long long now);

/*
 * The same with the time the row falls due (queued rows are never claimed
 * before it; 0: at once) and whether it is in a pre-briefing's early wave.
 */
int store_delivery_add_due(struct store *st, long long rel, const char *address,
    const char *list, const void *fields, size_t fields_len, enum dstate initial,
    const char *reason, long long due, int early, long long now);

struct store_row {
	long long id;
	char *address, *list;
	void *fields;
	size_t fields_len;
	int attempts;			/* before this one */
	long long first_attempt;	/* 0: never tried */
	int early;			/* the pre-briefing's wave */
};
void store_row_clear(struct store_row *r);

/*
 * Claims up to `max` rows of release `rel` that are due: queued or
 * deferred, with next_attempt <= now. They become `sending`, owned by
 * `owner`, atomically (two processes never claim one row). The caller
 * owns rows[0..*got) (store_row_clear each). Call inside or outside a
 * transaction.
 */
int store_claim(struct store *st, long long rel, const char *owner, long long now,
    size_t max, struct store_row *rows, size_t *got);

/* The outcome of one attempt, as smtp.c classified it. */
struct store_outcome {
	enum dstate state;		/* DS_SENT, DS_DEFERRED or DS_FAILED */
	int code;			/* SMTP reply code, 0 when none */
	const char *enhanced;		/* "4.2.2" or NULL */
	const char *text;		/* the reply text, or what went wrong */
	const char *message_id;		/* as sent */
	long long next_attempt;		/* DS_DEFERRED: when to try again */
	int unsent;			/* never handed to the relay (expired, cancelled): no reply */
};
/*
 * sending -> sent | deferred | failed; attempts+1; first_attempt set on the
 * first. Counts the outcome (deliveries) and, unless unsent, its reply's
 * class (smtp_replies).
 */
int store_delivery_done(struct store *st, long long row, const struct store_outcome *o,
    long long now);
/* sending -> queued, attempts unchanged (a relay that could not be reached, Ctrl-C). */
int store_delivery_release(struct store *st, long long row, long long now);
/* sent -> bounced, when a bounce names the delivery (mailbox.c); counted. */
int store_delivery_bounced(struct store *st, long long row, const char *text, long long now);
/* Every row of rel still queued or deferred becomes failed with `reason` (expiry), counted. Returns the count in *n. */
int store_fail_pending(struct store *st, long long rel, const char *reason, long long now,
    size_t *n);

/*
 * Rows of rel still queued or deferred whose address has been suppressed
 * (for their list or for all) since they were expanded become skipped.
 * store_claim never hands out such a row; this settles them.
 */
int store_skip_suppressed(struct store *st, long long rel, long long now, size_t *n);

/*
 * Gives back to `queued` every `sending` row whose owner's lease is free
 * at now (expired, never taken, or its holder proven gone; see "leases"),
 * and forgets the expired owner leases. *n is how many rows.
 */
int store_reclaim(struct store *st, long long now, size_t *n);

/*
 * A release's waves: [0] everyone, [1] the pre-briefing's early one. Rows
 * in all, sent (or bounced since), and still waiting for their time after
 * now (deliver_local, the lift), the first and last of those times.
 */
struct store_wave {
	size_t total, sent, waiting;
	long long first, last;
};
int store_waves(struct store *st, long long rel, long long now, struct store_wave waves[2]);

/* Counts by state for release rel (counts has DS__COUNT slots). */
int store_counts(struct store *st, long long rel, size_t counts[DS__COUNT]);
/* When rel's next row falls due: the earliest future time of a queued or deferred row; 0 when none. */
int store_next_attempt(struct store *st, long long rel, long long *when);

struct store_reply {
	char *reply;			/* "450 4.2.2 mailbox full" */
	size_t count;
};
/* The commonest last replies of rel's deferred and failed rows, most first, at most max. */
int store_top_replies(struct store *st, long long rel, size_t max, struct store_reply **out,
    size_t *n);
void store_replies_free(struct store_reply *r, size_t n);

/* ---- suppressions ---- */

/* list NULL: every list. reason: "unsubscribed", "hard-bounce", "manual"...; source: free text. */
int store_suppress(struct store *st, const char *address, const char *list,
    const char *reason, const char *source, long long now);
/*
 * A hard bounce (the address itself is bad, by the relay's reply or by a
 * bounce message): the address is suppressed for every list. The one
 * place that rule is written; source says which reply or message.
 */
int store_suppress_hard_bounce(struct store *st, const char *address, const char *source,
    long long now);
/* Returns 0 removed, 1 there was none. */
int store_unsuppress(struct store *st, const char *address, const char *list);
/* 1 when address is suppressed for list (or for every list), else 0; -1 on error. */
int store_is_suppressed(struct store *st, const char *address, const char *list);

struct store_suppression {
	char *address, *list, *reason, *source;	/* list NULL: all lists */
	long long created;
};
int store_suppressions(struct store *st, struct store_suppression **out, size_t *n);
void store_suppressions_free(struct store_suppression *s, size_t n);

/* ---- the mailbox: lookups, progress, actions (issue 4) ---- */

struct store_delivery {
	long long id;
	char *address, *list, *release_id;
	enum dstate state;
};
void store_delivery_clear(struct store_delivery *d);
/* Delivery row id with its release id; 0 found, 1 not found. */
int store_delivery_get(struct store *st, long long id, struct store_delivery *out);
/* The newest delivery to address that was sent (or has bounced since); 1 when none. */
int store_delivery_latest(struct store *st, const char *address, struct store_delivery *out);
/* 1 when address bounced: a bounce suppression, or a delivery in state bounced. */
int store_has_bounced(struct store *st, const char *address);

/*
 * Progress in one mailbox, by key (account, server and folder): its
 * UIDVALIDITY and the last UID classified. store_mailbox_get returns 1
 * (zeros) when the mailbox was never read.
 */
int store_mailbox_get(struct store *st, const char *key, unsigned long long *uidvalidity,
    unsigned long long *last_uid);
int store_mailbox_set(struct store *st, const char *key, unsigned long long uidvalidity,
    unsigned long long last_uid, long long now);

/* A message herald acted on or moves; human mail gets none. */
struct store_inbound {
	const char *mailbox;		/* the mailbox key */
	unsigned long long uidvalidity, uid;
	const char *message_id;		/* its own Message-ID, or NULL */
	const char *kind;		/* "bounce", "unsubscribe", "auto-reply" */
	const char *action;		/* what was done, "" when nothing */
	const char *folder;		/* where it goes; "" or NULL: it stays */
};
/*
 * Records m. Returns 0, or 1 when that UID was already recorded (by another
 * poller): then act on nothing. Call it first in the action's transaction,
 * and store_inbound_action after acting.
 */
int store_inbound_add(struct store *st, const struct store_inbound *m, long long now);
/* Sets the action of the message m names (after acting). */
int store_inbound_action(struct store *st, const struct store_inbound *m);
/* 1 when a message with this Message-ID was acted on already (a rescan after a new UIDVALIDITY). */
int store_inbound_seen(struct store *st, const char *message_id);

struct store_unmoved {
	unsigned long long uid;
	char *folder;
};
/* Recorded messages of mailbox/uidvalidity still to move, by folder then UID. */
int store_inbound_unmoved(struct store *st, const char *mailbox, unsigned long long uidvalidity,
    struct store_unmoved **out, size_t *n);
void store_unmoved_free(struct store_unmoved *u, size_t n);
int store_inbound_moved(struct store *st, const char *mailbox, unsigned long long uidvalidity,
    unsigned long long uid);

/*
 * Scores a soft bounce of address at now: at most one point a UTC day; a
 * score whose last bounce is older than window (seconds) starts again at
 * 1. *score is the new score.
 */
int store_soft_bounce(struct store *st, const char *address, long long now, long long window,
    long long *score);

/* Unsubscribe requests without a token, waiting for the confirming reply. */
int store_confirm_add(struct store *st, const char *address, long long now, long long *id);
/*
 * The day (since 1970-01-01 UTC) a token made before tokens carried their
 * day counts as made: the day the journal took the change. 0 or -1.
 */
int store_tokens_undated_day(struct store *st, long *day);
/* 1 when a confirmation for address, asked at or after since, is still open. */
int store_confirm_pending(struct store *st, const char *address, long long since);
/* 0 found (*address owned by the caller), 1 not found. */
int store_confirm_get(struct store *st, long long id, char **address, int *done);
/* 0 done now, 1 it was done already. */
int store_confirm_done(struct store *st, long long id, long long now);

/* herald's own mail (notices, confirmations), kept until the relay takes it. */
int store_outbox_add(struct store *st, const char *kind, const char *mail_from,
    const char *rcpt, const void *msg, size_t len, long long now);
struct store_outmsg {
	long long id;
	char *kind, *mail_from, *rcpt, *msg;
	size_t len;
	int attempts;			/* before this one */
	long long created;
};
/* Queued messages due at now with an id above after, oldest first, at most max. */
int store_outbox_due(struct store *st, long long now, long long after, size_t max,
    struct store_outmsg **out, size_t *n);
void store_outmsg_free(struct store_outmsg *m, size_t n);
/* state: "sent", "failed", or "queued" again with next_attempt. */
int store_outbox_done(struct store *st, long long id, const char *state, long long next_attempt,
    const char *text, long long now);

/* ---- the daemon's agenda ---- */

/*
 * The release ids with work at now: scheduled and due, or being sent with
 * rows queued, left sending, or deferred and due. The caller frees each
 * and the array.
 */
int store_work_due(struct store *st, long long now, char ***ids, size_t *n);
/* The earliest future moment with work (a schedule, a deferred row's retry); 0 when none. */
int store_next_due(struct store *st, long long *when);

/* ---- leases: who is alive, and who holds what ---- */

/*
 * A lease is a row of the journal: a name, its holder (an owner id,
 * "HOST-PID-RANDOM") and an expiry that the holder renews. A lease is
 * free when it was never taken, was dropped, has expired (at or after its
 * expiry), or its holder is proven gone. Two kinds:
 *   - an owner lease (name NULL: it is named by its fresh owner id) says
 *     that the process which claims rows under that id lives; rows of an
 *     owner whose lease is free are reclaimed by the next store_reclaim;
 *   - a named lease ("run": the daemon of this journal; "poll": the
 *     mailbox's reader) is held by one process at a time; a second taker
 *     is refused while it is held, and takes it once it is free.
 * A holder renews every STORE_LEASE_RENEW seconds, a lease lives
 * STORE_LEASE_TTL seconds unrenewed: a process that dies or stalls longer
 * loses what it held. The functions take `now` (Unix seconds) so that
 * expiry can be shown; store_lease_keep renews in real time.
 *
 * SQLite's proof of a holder's death: the holder also keeps a flock(2)
 * on a file of its own beside the journal for as long as it lives; a lock
 * that can be taken (or a missing file) proves it gone at once, without
 * waiting for the expiry, which is how a crashed `herald send` has its
 * rows sent again by the very next send.
 */
#define STORE_LEASE_RENEW 5		/* seconds between renewals */
#define STORE_LEASE_TTL 15		/* seconds a lease lives unrenewed */

struct store_lease;

/*
 * Takes lease `name` (lower-case letters; NULL: an owner lease under a
 * fresh owner id) until now + STORE_LEASE_TTL. 0 taken (*out, dropped by
 * store_lease_drop); 1 another holder has it (its process id in *pid when
 * pid is not NULL, 0 when unknown); -1 error (store_error).
 */
int store_lease_take(struct store *st, const char *name, long long now, struct store_lease **out,
    long *pid);
/* The owner id of the lease's holder: claims are made under it. */
const char *store_lease_owner(const struct store_lease *l);
/*
 * Renews l until now + STORE_LEASE_TTL. 0 renewed; 1 lost (it lapsed and
 * another process freed or took it: stop, the work is someone else's);
 * -1 error.
 */
int store_lease_renew(struct store *st, struct store_lease *l, long long now);
/*
 * Renews l every STORE_LEASE_RENEW seconds from a thread of store.c's, on
 * a journal handle of its own, until store_lease_drop. -1 when it cannot
 * start (store_error).
 */
int store_lease_keep(struct store *st, struct store_lease *l);
/* 1 once a renewal found l lost (store_lease_renew's 1); any thread may ask. */
int store_lease_lost(const struct store_lease *l);
/* Stops l's renewals, frees the lease in the journal and l itself. NULL: nothing. */
void store_lease_drop(struct store *st, struct store_lease *l);

/* ---- digests ---- */

/*
 * A digest is a release row of its own, release_id "digest.LIST.TIME" (no
 * release file can take it: release ids hold no '.'), state sending until
 * its rows are settled, with one delivery row per digest subscriber: the
 * claims, outcomes, retries and reclaims above serve it unchanged. These
 * record which release rows are digests and which releases each
 * address's digest carries (digest_items, unique by address and release:
 * a release never reaches an address in two digests).
 */

/* Marks release row rel as a digest of list, made at now. */
int store_digest_add(struct store *st, long long rel, const char *list, long long now);
/* The list of digest release_id: 0 (*list owned by the caller), 1 when it is no digest. */
int store_digest_list(struct store *st, const char *release_id, char **list);
/* When the list's newest digest was made; 0 when it never had one. */
int store_digest_last(struct store *st, const char *list, long long *when);
/*
 * Records that address takes the list's digest, owed the releases that go
 * out from since on; nothing when it is recorded already.
 */
int store_digest_member(struct store *st, const char *list, const char *address,
    long long since, long long now);
/*
 * Records in digest rel, for address on list (a member), every release it
 * is owed: sent to list (state sending or done, not a digest), gone out
 * (scheduled_at, else created) since it became a member, lifted by now
 * (its embargo, store_release_set_lift), carried to it by no digest yet,
 * and without a delivery row to it that is not failed or skipped. *n is
 * how many. Call it in the transaction that adds the address's delivery
 * row of rel.
 */
int store_digest_take(struct store *st, long long rel, const char *list, const char *address,
    long long now, size_t *n);
/* The list's digests still being sent, oldest first; the caller frees each id and the array. */
int store_digest_open(struct store *st, const char *list, char ***ids, size_t *n);

struct store_digest_item {
	char *address;
	long long release;		/* release row id */
};
/* The items of digest rel by address, each address's in the order they went out. */
int store_digest_items(struct store *st, long long rel, struct store_digest_item **out,
    size_t *n);
void store_digest_items_free(struct store_digest_item *v, size_t n);
/* A release by row id: 0 found, 1 not found. */
int store_digest_release(struct store *st, long long rowid, struct store_release *out);

/*
 * A release went to a segment (segment.h's text form): a digest carries it
 * only to the digest subscribers in it. store_digest_segments gives the
 * releases a digest of list may carry that have one; store_digest_drop
 * takes release out of what digest rel carries to address (*n: 1 when it
 * was in), in the transaction of store_digest_take.
 */
struct store_segment {
	long long release;		/* release row id */
	char *segment;
};
int store_digest_segments(struct store *st, const char *list, struct store_segment **out,
    size_t *n);
void store_segments_free(struct store_segment *v, size_t n);
int store_digest_drop(struct store *st, long long rel, const char *address, long long release,
    size_t *n);

/* ---- the archive ---- */

/*
 * A release that went out, as herald archive publishes it: the journal's
 * snapshot (what was sent, not the file now), its lift (releases.lift;
 * 0: none) and when it first went out: its first delivery sent (or
 * bounced since), else, for a release done without one, when it was
 * marked done.
 */
struct store_published {
	char *release_id, *file, *lists;
	char *snapshot;
	size_t snapshot_len;
	long long lift, sent_at;
};
/*
 * Every release that went out: done, or being sent with a delivery sent;
 * never a digest. Published or not is the archive's to say (public,
 * lifted). The caller frees the array with store_published_free.
 */
int store_published(struct store *st, struct store_published **out, size_t *n);
void store_published_free(struct store_published *p, size_t n);

/* ---- members: who joined a list ---- */

/*
 * A list is its file's subscribers plus its members, the people who
 * joined it (by an import, or confirmed by mail or on the web), minus
 * suppressions; for an address the file has, the file wins (members.h).
 * A member is unique by list and canonical address. Its consent record
 * says how it joined (how), what confirms that (ref) and when
 * (consented):
 *   how "import"  ref the CSV row, "FILE:LINE"
 *   how "mail"    ref the confirming message's Message-ID
 *   how "web"     ref the client's address
 */
struct store_member {
	char *list, *address;		/* address canonical (addr.h) */
	char *name, *lang, *tz;		/* NULL: none */
	void *fields;			/* render_subscriber_pack's blob; NULL when empty */
	size_t fields_len;
	int digest;			/* delivery: digest; else each */
	char *how, *ref;		/* the consent record, as above; ref "" when none */
	long long consented;		/* when it joined */
	long long created, updated;
};
void store_member_clear(struct store_member *m);

enum store_change { STORE_SAME, STORE_ADDED, STORE_UPDATED };

/*
 * Adds m (its list, address, name, fields, lang, tz, delivery and consent
 * record; created and updated are now), or updates the member with its
 * list and address: name, fields, lang, tz and delivery always, the
 * consent record only when m's is a confirmation (mail, web), which is a
 * consent of its own: an import never replaces how someone joined.
 * Nothing is written when nothing would change. *change says which. m is
 * only read; how must be one of the three (else a bug: fatalx).
 */
int store_member_put(struct store *st, const struct store_member *m, long long now,
    enum store_change *change);
/* 0 found (*out owned: store_member_clear), 1 none. */
int store_member_get(struct store *st, const char *list, const char *address,
    struct store_member *out);
/* 0 removed, 1 there was none. */
int store_member_remove(struct store *st, const char *list, const char *address);
int store_member_count(struct store *st, const char *list, size_t *n);
/*
 * Each member of list, in the order they joined, to fn; fn returns
 * nonzero to stop (this then returns 1). The struct and its strings are
 * store.c's, valid during the call only. fn may call other store
 * functions (add delivery rows, look up suppressions), but must not
 * change the list's members nor call this again.
 */
int store_member_each(struct store *st, const char *list,
    int (*fn)(void *arg, const struct store_member *m), void *arg);

/* ---- metrics ---- */

/*
 * Counters for /metrics, kept in the journal: releases go out from
 * `herald send` processes as well as from the daemon, which restarts, and
 * each count is added in the transaction of the event it counts (a
 * rolled-back event is never counted). A counter is a name and a label;
 * the state moves above count themselves:
 *   deliveries    sent, deferred, failed (store_delivery_done; failed also
 *                 store_fail_pending), bounced (store_delivery_bounced),
 *                 skipped (store_skip_suppressed, store_delivery_add)
 *   smtp_replies  2xx, 4xx, 5xx, none: each attempt's reply by its class
 *                 (store_delivery_done)
 * Every function here and those moves, called outside a transaction, make
 * one of their own.
 */

/* Adds n (>= 0) to counter name/label; the mailbox counts its messages by kind with it. */
int store_count(struct store *st, const char *name, const char *label, long long n);

struct store_counter {
	char *name, *label;
	long long value;
};
/* Every counter, by name then label. The caller frees them with store_counters_free. */
int store_counters(struct store *st, struct store_counter **out, size_t *n);
void store_counters_free(struct store_counter *c, size_t n);
/* Delivery rows of every release now queued (waiting for their time or a connection) and deferred. */
int store_pending(struct store *st, size_t *queued, size_t *deferred);

/* ---- joins: asking to subscribe (double opt-in) ---- */

/*
 * A request to join a list, by mail to subscribe+LIST@ or on the web,
 * waiting for the confirmation that its token (purpose "j", the row's id)
 * was mailed for. join.h keeps the rules; these only keep the rows.
 */
struct store_join {
	long long id;
	char *list, *address;		/* address canonical */
	char *name;			/* NULL: none given */
	char *how;			/* "mail" or "web": how it was asked */
	char *client;			/* web: the client's address; "" by mail */
	char *ref;			/* mail: the request's Message-ID; "" on the web */
	long long asked, done;		/* done: when confirmed; 0 not yet */
};
void store_join_clear(struct store_join *j);
/* Records j (list, address, name, how, client, ref) asked at now; *id its row. */
int store_join_add(struct store *st, const struct store_join *j, long long now, long long *id);
/*
 * How many requests were recorded at or after since for address (any
 * list), and for client (0 when client is NULL or "").
 */
int store_join_recent(struct store *st, const char *address, const char *client, long long since,
    size_t *by_address, size_t *by_client);
/* 0 found (*out owned: store_join_clear), 1 none, -1 error. */
int store_join_get(struct store *st, long long id, struct store_join *out);
/* Marks the join confirmed at now: 0, or 1 when it was confirmed already. */
int store_join_done(struct store *st, long long id, long long now);
/*
 * A confirmed join lifts what kept address from list: its suppression
 * for list, and one for every list, which stays in force for every other
 * list it could reach (the others the caller names, the lists it is a
 * member of or had deliveries from) as a suppression of each. *lifted:
 * something was lifted. Call inside the caller's transaction.
 */
int store_readmit(struct store *st, const char *address, const char *list,
    const char *const *others, size_t n, int *lifted);

#endif
