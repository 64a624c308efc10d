/*
 * store.c - the journal's SQLite backend: schema and migrations, cached
 * statements, the delivery state machine and the leases. The only file
 * with SQL.
 *
 * Every statement is prepared once (SQLITE_PREPARE_PERSISTENT), kept in
 * struct store and reset after each use: the send loop runs a claim and a
 * few outcomes per wakeup, thousands of times a second.
 *
 * A lease's holder proves it lives by a flock(2) lock on its file in the
 * owners folder beside the journal, not an fcntl(2) one: an fcntl lock
 * belongs to the process, so a second open of the same file by the same
 * process would not conflict (store_reclaim would think its own process
 * dead) and closing that second descriptor would drop the lock. A flock
 * lock belongs to the open file description, so a separate open() of our
 * own lock file conflicts with the lock we hold, and nothing but our
 * exit (or store_lease_drop) releases it.
 */
#define _GNU_SOURCE		/* getrandom */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <sqlite3.h>

#include "util.h"

#define BUSY_TIMEOUT_MS 10000
/*
 * Tuned on the send loop's transaction (a few outcomes and a claim): its
 * cost is the WAL bytes it writes, a handful of whole pages, and the
 * fsyncs of the checkpoints that follow. 1 KiB pages write a quarter of
 * the bytes of the default 4 KiB ones; a checkpoint every 10000 pages
 * (10 MiB of WAL) writes each hot page back once instead of ten times.
 */
#define DB_PAGE_SIZE 1024
#define WAL_CHECKPOINT_PAGES 10000
#define APPLICATION_ID 0x48524c44	/* "HRLD": refuse other programs' databases */
#define OWNER_HOST_MAX 32
#define OWNER_TAKE_TRIES 16

static const char *const dstate_names[DS__COUNT] = {
	[DS_QUEUED] = "queued", [DS_SENDING] = "sending", [DS_SENT] = "sent",
	[DS_DEFERRED] = "deferred", [DS_FAILED] = "failed", [DS_SKIPPED] = "skipped",
	[DS_BOUNCED] = "bounced",
};

static const char *const rstate_names[RS__COUNT] = {
	[RS_SCHEDULED] = "scheduled", [RS_SENDING] = "sending", [RS_DONE] = "done",
	[RS_CANCELLED] = "cancelled",
};

/* ---- schema ---- */

/*
 * Version 1. suppressions.list is '' for "every list": NULLs are never
 * equal in a UNIQUE constraint, so NULL would allow duplicates.
 * deliveries.owner is set exactly while a row is `sending`.
 */
static const char schema_v1[] =
	"CREATE TABLE releases ("
	" id INTEGER PRIMARY KEY,"
	" release_id TEXT NOT NULL UNIQUE,"
	" file TEXT,"
	" snapshot BLOB,"
	" hash TEXT NOT NULL,"
	" lists TEXT NOT NULL DEFAULT '',"
	" scheduled_at INTEGER NOT NULL DEFAULT 0,"
	" state TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE INDEX releases_due ON releases(state, scheduled_at);"
	"CREATE TABLE deliveries ("
	" id INTEGER PRIMARY KEY,"
	" release INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,"
	" address TEXT NOT NULL,"
	" list TEXT,"
	" fields BLOB,"
	" state TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" first_attempt INTEGER NOT NULL DEFAULT 0,"
	" last_attempt INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL DEFAULT 0,"
	" owner TEXT,"
	" code INTEGER NOT NULL DEFAULT 0,"
	" enhanced TEXT NOT NULL DEFAULT '',"
	" text TEXT NOT NULL DEFAULT '',"
	" message_id TEXT,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL,"
	" UNIQUE(release, address));"
	/*
	 * Claiming (queued; deferred by next_attempt), counting by state, and
	 * store_reclaim's `sending` rows, release by release. One index only:
	 * every state move rewrites its pages, and WAL bytes are the cost.
	 */
	"CREATE INDEX deliveries_due ON deliveries(release, state, next_attempt);"
	"CREATE TABLE suppressions ("
	" id INTEGER PRIMARY KEY,"
	" address TEXT NOT NULL,"
	" list TEXT NOT NULL DEFAULT '',"
	" reason TEXT NOT NULL DEFAULT '',"
	" source TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL,"
	" UNIQUE(address, list));";

struct store;
static int store_exec(struct store *st, const char *sql, const char *what);

/*
 * Version 2: the mailbox. `mailbox` keeps, per account and folder, the
 * UIDVALIDITY and the last UID classified; `inbound` one row per message
 * herald acted on or moves (never human mail), unique by UID so that two
 * pollers never both act; `soft_bounces` the scores; `confirmations` the
 * unsubscribe requests that came without a token; `outbox` herald's own
 * mail (notices, confirmations) until the relay took it. Deliveries get an
 * index by address: a bounce or request without a token is matched by it.
 */
static const char schema_v2[] =
	"CREATE INDEX deliveries_address ON deliveries(address);"
	"CREATE TABLE mailbox ("
	" key TEXT PRIMARY KEY,"
	" uidvalidity INTEGER NOT NULL,"
	" last_uid INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE TABLE inbound ("
	" id INTEGER PRIMARY KEY,"
	" mailbox TEXT NOT NULL,"
	" uidvalidity INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" message_id TEXT NOT NULL DEFAULT '',"
	" kind TEXT NOT NULL,"
	" action TEXT NOT NULL DEFAULT '',"
	" folder TEXT NOT NULL DEFAULT '',"
	" moved INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" UNIQUE(mailbox, uidvalidity, uid));"
	"CREATE INDEX inbound_message_id ON inbound(message_id);"
	"CREATE INDEX inbound_unmoved ON inbound(mailbox, uidvalidity) WHERE moved = 0;"
	"CREATE TABLE soft_bounces ("
	" address TEXT PRIMARY KEY,"
	" score INTEGER NOT NULL,"
	" last_day INTEGER NOT NULL,"
	" last_bounce INTEGER NOT NULL);"
	"CREATE TABLE confirmations ("
	" id INTEGER PRIMARY KEY,"
	" address TEXT NOT NULL,"
	" done INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" mail_from TEXT NOT NULL,"
	" rcpt TEXT NOT NULL,"
	" message BLOB NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued',"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL DEFAULT 0,"
	" text TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt);";

static int
migrate_v1(struct store *st)
{
	return store_exec(st, schema_v1, "schema version 1");
}

static int
migrate_v2(struct store *st)
{
	return store_exec(st, schema_v2, "schema version 2");
}

static int migrate_v3(struct store *st);
static int migrate_v7(struct store *st);

/*
 * Tokens carry the day they were made from this version on; those mailed
 * before count as made on the day of the upgrade (or of a new journal's
 * creation, when no undated token can exist).
 */
static const char schema_v4[] =
	"CREATE TABLE settings ("
	" key TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);"
	"INSERT INTO settings (key, value)"
	" VALUES ('tokens_undated_day', CAST(strftime('%s', 'now') AS INTEGER) / 86400);";

static int
migrate_v4(struct store *st)
{
	return store_exec(st, schema_v4, "schema version 4");
}

/*
 * Deliveries that wait for their time: a queued row's next_attempt is when
 * it falls due (the lift, the reader's local time; 0: at once), as a
 * deferred row's is its retry, so that the time of each row is in the
 * journal and survives a restart. `early` marks the pre-briefing wave;
 * `releases.lift` is the embargo, which digests wait for (a release being
 * pre-briefed is sending before it).
 */
static const char schema_v5[] =
	"ALTER TABLE deliveries ADD COLUMN early INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE releases ADD COLUMN lift INTEGER NOT NULL DEFAULT 0;";

static int
migrate_v5(struct store *st)
{
	return store_exec(st, schema_v5, "schema version 5");
}

/*
 * Segments: the segment a release goes to, in segment.h's text form ('':
 * everyone on its lists), recorded when it is scheduled or sent, so that
 * the daemon sends it to the same; and how many subscribers its last
 * expansion kept and left out (NULL: it had no segment then, or none yet).
 */
static const char schema_v6[] =
	"ALTER TABLE releases ADD COLUMN segment TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE releases ADD COLUMN segment_kept INTEGER;"
	"ALTER TABLE releases ADD COLUMN segment_left INTEGER;";

static int
migrate_v6(struct store *st)
{
	return store_exec(st, schema_v6, "schema version 6");
}

static int migrate_v8(struct store *st);
static int migrate_v9(struct store *st);
static int migrate_v10(struct store *st);

/* migrations[i] takes the schema from version i to i + 1; append only. */
static int (*const migrations[])(struct store *) = {
	migrate_v1,
	migrate_v2,
	migrate_v3,	/* digests: the schema is with the digest functions, at the end */
	migrate_v4,
	migrate_v5,
	migrate_v6,	/* segments */
	migrate_v7,	/* members: the schema is with the member functions, at the end */
	migrate_v8,	/* counters: the schema is with the metrics functions, at the end */
	migrate_v9,	/* joins: the schema is with the join functions, at the end */
	migrate_v10,	/* leases: the schema is with the lease functions */
};
#define SCHEMA_VERSION ((int)ARRAY_LEN(migrations))

/* ---- statements ---- */

enum sid {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_VERSION,
	S_REL_PUT, S_REL_GET, S_REL_STATE, S_REL_LISTS, S_REL_LIFT, S_REL_SEGMENT, S_REL_DUE,
	S_REL_LIST, S_DELIVERY_HAS,
	S_ADD, S_CLAIM, S_DONE, S_RELEASE, S_BOUNCED, S_STATE_OF, S_FAIL_PENDING,
	S_SKIP_SUPPRESSED,
	S_OWNERS, S_RECLAIM, S_COUNTS, S_WAVES, S_NEXT, S_TOP,
	S_SUPPRESS, S_UNSUPPRESS, S_IS_SUPPRESSED, S_SUPPRESSIONS,
	S_DLV_GET, S_DLV_LATEST, S_HAS_BOUNCED,
	S_MBOX_GET, S_MBOX_SET, S_IN_ADD, S_IN_ACTION, S_IN_SEEN, S_IN_UNMOVED, S_IN_MOVED,
	S_SOFT_GET, S_SOFT_PUT, S_CONFIRM_ADD, S_CONFIRM_PENDING, S_CONFIRM_GET, S_CONFIRM_DONE,
	S_OUT_ADD, S_OUT_DUE, S_OUT_DONE,
	S_WORK_DUE, S_NEXT_DUE, S_UNDATED_DAY,
	/* digests: prepared by digest_stmt() from digest_sql[], at the end of this file */
	S_DG_ADD, S_DG_LIST, S_DG_LAST, S_DG_MEMBER, S_DG_TAKE, S_DG_OPEN, S_DG_ITEMS,
	S_DG_RELEASE, S_DG_SEGMENTS, S_DG_DROP,
	S__COUNT
};

/* The counters' statements: prepared by metric_stmt() from metric_sql[], at the end of this file. */
enum cid { C_BUMP, C_BUMP2, C_COUNTERS, C_PENDING, C__COUNT };

/* The leases' statements: prepared by lease_stmt() from lease_sql[], with the lease functions. */
enum lid { L_GET, L_PUT, L_RENEW, L_DROP, L_EXPIRED, L__COUNT };

#define REL_COLS "id, release_id, file, snapshot, hash, lists, scheduled_at, state, " \
	"created, updated, segment, segment_kept, segment_left"
/* A release's snapshot and lists are frozen once it has delivery rows. */
#define FROZEN "EXISTS (SELECT 1 FROM deliveries WHERE deliveries.release = releases.id)"
#define KEEP(col) col " = CASE WHEN " FROZEN " THEN " col " ELSE excluded." col " END"
/* The last reply, "CODE ENHANCED TEXT" without its empty parts. */
#define REPLY "substr(CASE WHEN code > 0 THEN ' ' || code ELSE '' END" \
	" || CASE WHEN enhanced <> '' THEN ' ' || enhanced ELSE '' END" \
	" || CASE WHEN text <> '' THEN ' ' || text ELSE '' END, 2)"

static const char *const sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_VERSION] = "PRAGMA user_version",
	[S_REL_PUT] =
	    "INSERT INTO releases (release_id, file, snapshot, hash, lists, scheduled_at,"
	    " state, created, updated, segment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)"
	    " ON CONFLICT (release_id) DO UPDATE SET "
	    KEEP("file") ", " KEEP("snapshot") ", " KEEP("hash") ", " KEEP("lists") ", "
	    KEEP("segment") ","
	    " scheduled_at = excluded.scheduled_at, state = excluded.state,"
	    " updated = excluded.updated"
	    " RETURNING id",
	[S_REL_GET] = "SELECT " REL_COLS " FROM releases WHERE release_id = ?1",
	[S_REL_STATE] = "UPDATE releases SET state = ?2, updated = ?3 WHERE id = ?1",
	[S_REL_LISTS] = "UPDATE releases SET lists = ?2 WHERE id = ?1",
	[S_REL_LIFT] = "UPDATE releases SET lift = ?2 WHERE id = ?1 AND NOT " FROZEN,
	[S_REL_SEGMENT] =
	    "UPDATE releases SET segment = ?2, segment_kept = ?3, segment_left = ?4 WHERE id = ?1",
	[S_DELIVERY_HAS] =
	    "SELECT EXISTS (SELECT 1 FROM deliveries WHERE release = ?1 AND address = ?2)",
	[S_REL_DUE] =
	    "SELECT id FROM releases WHERE state = 'scheduled' AND scheduled_at <= ?1"
	    " ORDER BY scheduled_at, id",
	[S_REL_LIST] = "SELECT " REL_COLS " FROM releases ORDER BY created DESC, id DESC",
	[S_ADD] =
	    "INSERT INTO deliveries (release, address, list, fields, state, text,"
	    " created, updated, next_attempt, early)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)"
	    " ON CONFLICT (release, address) DO NOTHING",
	/*
	 * Retries that are due first, then fresh rows that are due in the
	 * order they were added; never an address suppressed since it was
	 * expanded (those become skipped in store_skip_suppressed).
	 */
	[S_CLAIM] =
	    "UPDATE deliveries SET state = 'sending', owner = ?1, updated = ?2"
	    " WHERE id IN ("
	    "  SELECT id FROM ("
	    "   SELECT id, address, list FROM deliveries"
	    "    WHERE release = ?3 AND state = 'deferred' AND next_attempt <= ?2"
	    "   UNION ALL"
	    "   SELECT id, address, list FROM deliveries WHERE release = ?3 AND state = 'queued'"
	    "    AND next_attempt <= ?2) d"
	    "  WHERE NOT EXISTS (SELECT 1 FROM suppressions s"
	    "   WHERE s.address = d.address AND s.list IN ('', d.list))"
	    "  LIMIT ?4)"
	    " RETURNING id, address, list, fields, attempts, first_attempt, early",
	[S_SKIP_SUPPRESSED] =
	    "UPDATE deliveries SET state = 'skipped', next_attempt = 0, text = 'suppressed',"
	    " updated = ?2 WHERE release = ?1 AND state IN ('queued', 'deferred')"
	    " AND EXISTS (SELECT 1 FROM suppressions s"
	    "  WHERE s.address = deliveries.address AND s.list IN ('', deliveries.list))",
	[S_DONE] =
	    "UPDATE deliveries SET state = ?2, attempts = attempts + 1,"
	    " first_attempt = CASE WHEN attempts = 0 THEN ?3 ELSE first_attempt END,"
	    " last_attempt = ?3, next_attempt = ?4, owner = NULL, code = ?5,"
	    " enhanced = ?6, text = ?7, message_id = coalesce(?8, message_id), updated = ?3"
	    " WHERE id = ?1 AND state = 'sending'",
	[S_RELEASE] =
	    "UPDATE deliveries SET state = 'queued', owner = NULL, updated = ?2"
	    " WHERE id = ?1 AND state = 'sending'",
	[S_BOUNCED] =
	    "UPDATE deliveries SET state = 'bounced', code = 0, enhanced = '', text = ?2,"
	    " updated = ?3 WHERE id = ?1 AND state = 'sent'",
	[S_STATE_OF] = "SELECT state FROM deliveries WHERE id = ?1",
	[S_FAIL_PENDING] =
	    "UPDATE deliveries SET state = 'failed', next_attempt = 0, code = 0,"
	    " enhanced = '', text = ?2, updated = ?3"
	    " WHERE release = ?1 AND state IN ('queued', 'deferred')",
	/* Through releases, so that deliveries_due finds the `sending` rows. */
	[S_OWNERS] =
	    "SELECT DISTINCT owner FROM deliveries"
	    " WHERE release IN (SELECT id FROM releases) AND state = 'sending'",
	[S_RECLAIM] =
	    "UPDATE deliveries SET state = 'queued', owner = NULL, updated = unixepoch()"
	    " WHERE release IN (SELECT id FROM releases) AND state = 'sending'"
	    " AND owner IS ?1",
	[S_COUNTS] =
	    "SELECT state, count(*) FROM deliveries WHERE release = ?1 GROUP BY state",
	[S_WAVES] =
	    "SELECT early, count(*), sum(state IN ('sent', 'bounced')),"
	    " sum(state = 'queued' AND next_attempt > ?2),"
	    " min(CASE WHEN state = 'queued' AND next_attempt > ?2 THEN next_attempt END),"
	    " max(CASE WHEN state = 'queued' AND next_attempt > ?2 THEN next_attempt END)"
	    " FROM deliveries WHERE release = ?1 GROUP BY early",
	[S_NEXT] =
	    "SELECT min(next_attempt) FROM deliveries"
	    " WHERE release = ?1 AND state IN ('queued', 'deferred') AND next_attempt > 0",
	[S_TOP] =
	    "SELECT " REPLY " AS reply, count(*) AS n FROM deliveries"
	    " WHERE release = ?1 AND state IN ('deferred', 'failed')"
	    " GROUP BY reply ORDER BY n DESC, reply LIMIT ?2",
	[S_SUPPRESS] =
	    "INSERT INTO suppressions (address, list, reason, source, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (address, list) DO NOTHING",
	[S_UNSUPPRESS] = "DELETE FROM suppressions WHERE address = ?1 AND list = ?2",
	[S_IS_SUPPRESSED] =
	    "SELECT EXISTS (SELECT 1 FROM suppressions"
	    " WHERE address = ?1 AND list IN ('', ?2))",
	[S_SUPPRESSIONS] =
	    "SELECT address, list, reason, source, created FROM suppressions"
	    " ORDER BY address, list",
#define DLV_COLS "d.id, d.address, d.list, r.release_id, d.state"
	[S_DLV_GET] =
	    "SELECT " DLV_COLS " FROM deliveries d JOIN releases r ON r.id = d.release"
	    " WHERE d.id = ?1",
	[S_DLV_LATEST] =
	    "SELECT " DLV_COLS " FROM deliveries d JOIN releases r ON r.id = d.release"
	    " WHERE d.address = ?1 AND d.state IN ('sent', 'bounced')"
	    " ORDER BY d.last_attempt DESC, d.id DESC LIMIT 1",
	[S_HAS_BOUNCED] =
	    "SELECT EXISTS (SELECT 1 FROM suppressions WHERE address = ?1"
	    "  AND reason IN ('hard-bounce', 'soft-bounces'))"
	    " OR EXISTS (SELECT 1 FROM deliveries WHERE address = ?1 AND state = 'bounced')",
	[S_MBOX_GET] = "SELECT uidvalidity, last_uid FROM mailbox WHERE key = ?1",
	[S_MBOX_SET] =
	    "INSERT INTO mailbox (key, uidvalidity, last_uid, updated) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (key) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
	    " last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
	    "  THEN max(last_uid, excluded.last_uid) ELSE excluded.last_uid END,"
	    " updated = excluded.updated",
	[S_IN_ADD] =
	    "INSERT INTO inbound (mailbox, uidvalidity, uid, message_id, kind, action, folder,"
	    " moved, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7 = '', ?8)"
	    " ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING",
	[S_IN_ACTION] =
	    "UPDATE inbound SET action = ?4 WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3",
	[S_IN_SEEN] =
	    "SELECT EXISTS (SELECT 1 FROM inbound WHERE message_id = ?1 AND action <> '')",
	[S_IN_UNMOVED] =
	    "SELECT uid, folder FROM inbound WHERE mailbox = ?1 AND uidvalidity = ?2"
	    " AND moved = 0 ORDER BY folder, uid",
	[S_IN_MOVED] =
	    "UPDATE inbound SET moved = 1 WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3",
	[S_SOFT_GET] = "SELECT score, last_day, last_bounce FROM soft_bounces WHERE address = ?1",
	[S_UNDATED_DAY] = "SELECT value FROM settings WHERE key = 'tokens_undated_day'",
	[S_SOFT_PUT] =
	    "INSERT INTO soft_bounces (address, score, last_day, last_bounce)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (address) DO UPDATE SET"
	    " score = excluded.score, last_day = excluded.last_day,"
	    " last_bounce = excluded.last_bounce",
	[S_CONFIRM_ADD] =
	    "INSERT INTO confirmations (address, created, updated) VALUES (?1, ?2, ?2)"
	    " RETURNING id",
	[S_CONFIRM_PENDING] =
	    "SELECT EXISTS (SELECT 1 FROM confirmations WHERE address = ?1 AND done = 0"
	    " AND created >= ?2)",
	[S_CONFIRM_GET] = "SELECT address, done FROM confirmations WHERE id = ?1",
	[S_CONFIRM_DONE] =
	    "UPDATE confirmations SET done = 1, updated = ?2 WHERE id = ?1 AND done = 0",
	/*
	 * What the daemon has to do now: scheduled releases that fell due, and
	 * releases being sent with rows to send (queued, deferred and due, or
	 * left sending by a process that may be gone).
	 */
	[S_WORK_DUE] =
	    "SELECT release_id FROM releases WHERE state = 'scheduled' AND scheduled_at <= ?1"
	    " UNION "
	    "SELECT r.release_id FROM releases r WHERE r.state = 'sending' AND ("
	    " EXISTS (SELECT 1 FROM deliveries d WHERE d.release = r.id"
	    "  AND d.state = 'sending')"
	    " OR EXISTS (SELECT 1 FROM deliveries d WHERE d.release = r.id"
	    "  AND d.state IN ('queued', 'deferred') AND d.next_attempt <= ?1))",
	[S_NEXT_DUE] =
	    "SELECT min(t) FROM ("
	    " SELECT min(scheduled_at) AS t FROM releases WHERE state = 'scheduled'"
	    " UNION ALL"
	    " SELECT min(d.next_attempt) FROM releases r JOIN deliveries d ON d.release = r.id"
	    "  AND d.state IN ('queued', 'deferred') AND d.next_attempt > 0"
	    " WHERE r.state = 'sending')",
	[S_OUT_ADD] =
	    "INSERT INTO outbox (kind, mail_from, rcpt, message, created, updated)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[S_OUT_DUE] =
	    "SELECT id, kind, mail_from, rcpt, message, attempts, created FROM outbox"
	    " WHERE state = 'queued' AND next_attempt <= ?1 AND id > ?3 ORDER BY id LIMIT ?2",
	[S_OUT_DONE] =
	    "UPDATE outbox SET state = ?2, attempts = attempts + 1, next_attempt = ?3,"
	    " text = ?4, updated = ?5 WHERE id = ?1 AND state = 'queued'",
};

/* The members' statements: prepared by member_stmt() from member_sql[], at the end of this file. */
enum mid { M_GET, M_INSERT, M_UPDATE, M_REMOVE, M_COUNT, M_EACH, M__COUNT };
/* The joins' statements: prepared by join_stmt() from join_sql[], at the end of this file. */
enum jid { J_ADD, J_RECENT_ADDR, J_RECENT_CLIENT, J_GET, J_DONE, J_UNSUPPRESS, J_GLOBAL,
	J_NARROW, J_NARROW_SEEN, J__COUNT };

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S__COUNT];
	sqlite3_stmt *mstmt[M__COUNT];
	sqlite3_stmt *cstmt[C__COUNT];
	sqlite3_stmt *jstmt[J__COUNT];
	sqlite3_stmt *lstmt[L__COUNT];
	char *location;			/* as given to store_open: store_lease_keep opens it again */
	char *owner_dir;		/* the lease holders' lock files, beside the journal */
	int sync_full;			/* PRAGMA synchronous is FULL (a power-safe transaction's) */
	char err[512];
};

/* ---- state names ---- */

const char *
store_dstate_name(enum dstate s)
{
	return (unsigned)s < DS__COUNT ? dstate_names[s] : "unknown";
}

int
store_dstate_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < DS__COUNT; i++)
		if (strcmp(name, dstate_names[i]) == 0)
			return i;
	return -1;
}

const char *
store_rstate_name(enum rstate s)
{
	return (unsigned)s < RS__COUNT ? rstate_names[s] : "unknown";
}

static int
store_rstate_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < RS__COUNT; i++)
		if (strcmp(name, rstate_names[i]) == 0)
			return i;
	return -1;
}

/* ---- helpers ---- */

/* Keeps SQLite's message: the next call would overwrite it. */
static int
store_fail(struct store *st, const char *what)
{
	snprintf(st->err, sizeof(st->err), "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

static int
store_exec(struct store *st, const char *text, const char *what)
{
	if (sqlite3_exec(st->db, text, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, what);
	return 0;
}

static sqlite3_stmt *
store_stmt(struct store *st, enum sid id)
{
	if (st->stmt[id] == NULL && sqlite3_prepare_v3(st->db, sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->stmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "prepare");
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

/* A failed bind is a wrong index or type in this file: a bug. */
static void
bind_check(sqlite3_stmt *s, int i, int rc)
{
	if (rc != SQLITE_OK)
		fatalx("store: bind %d of \"%.40s\": %s", i, sqlite3_sql(s), sqlite3_errstr(rc));
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	bind_check(s, i, v != NULL ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) :
	    sqlite3_bind_null(s, i));
}

static void
bind_int(sqlite3_stmt *s, int i, long long v)
{
	bind_check(s, i, sqlite3_bind_int64(s, i, v));
}

static void
bind_blob(sqlite3_stmt *s, int i, const void *v, size_t len)
{
	bind_check(s, i, v != NULL ? sqlite3_bind_blob64(s, i, v, len, SQLITE_STATIC) :
	    sqlite3_bind_null(s, i));
}

static long long
bind_limit(size_t n)
{
	return n > (size_t)INT64_MAX ? INT64_MAX : (long long)n;
}

/* Runs a statement to its end; rows, if any, are ignored. */
static int
store_run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		store_fail(st, what);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Steps a lookup of one row: 0 with the row ready to read (the caller
 * reads its columns, then resets s), 1 when there is none, -1 on an
 * error; s is reset in those two cases.
 */
static int
store_row(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		store_fail(st, what);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : -1;
}

static char *
col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

/* A copy with a NUL after its bytes; NULL for SQL NULL. */
static void *
col_blob(sqlite3_stmt *s, int i, size_t *len)
{
	const void *p;
	char *copy;
	size_t n;

	*len = 0;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(s, i);
	n = (size_t)sqlite3_column_bytes(s, i);
	copy = xmalloc(n + 1);
	if (n > 0)
		memcpy(copy, p, n);
	copy[n] = '\0';
	*len = n;
	return copy;
}

/* The first column of every row of bound statement s, as strings the caller frees. */
static int
store_strings(struct store *st, sqlite3_stmt *s, const char *what, char ***out, size_t *n)
{
	char **v = NULL;
	size_t cap = 0, count = 0, i;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		v[count++] = col_str(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		for (i = 0; i < count; i++)
			free(v[i]);
		free(v);
		return store_fail(st, what);
	}
	*out = v;
	*n = count;
	return 0;
}

/* Makes path's parent directory (not its parents), 0700, when missing. */
static int
mkdir_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (slash == NULL || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = -1;
	free(dir);
	return rc;
}

/* ---- counting a state move in its own transaction ---- */

static int store_bump(struct store *st, const char *name, const char *label, long long n);
static int store_bump_outcome(struct store *st, enum dstate state, const char *reply_class);

/*
 * A state move and its count are one transaction: the caller's, or one of
 * their own when the caller has none open (then a crash between the two
 * cannot count a move that never happened, nor lose one).
 */
static int
store_own_begin(struct store *st, int *own)
{
	*own = sqlite3_get_autocommit(st->db);
	return *own ? store_begin(st) : 0;
}

/* Ends what store_own_begin began: commits when rc >= 0, else rolls back. Returns rc or -1. */
static int
store_own_end(struct store *st, int own, int rc)
{
	if (!own)
		return rc;
	if (rc >= 0 && store_commit(st) == 0)
		return rc;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* ---- open, close, transactions ---- */

static int
store_get_version(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, S_VERSION);
	int v = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	else
		store_fail(st, "schema version");
	sqlite3_reset(s);
	return v;
}

static int
store_set_version(struct store *st, int v)
{
	char text[64];

	snprintf(text, sizeof(text), "PRAGMA user_version = %d", v);
	return store_exec(st, text, "set schema version");
}

static int
store_check_app(struct store *st)
{
	sqlite3_stmt *s;
	long long id = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA application_id", -1, &s, NULL) != SQLITE_OK)
		return store_fail(st, "application id");
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		store_fail(st, "application id");
	sqlite3_finalize(s);
	if (id != 0 && id != APPLICATION_ID) {
		snprintf(st->err, sizeof(st->err), "not a herald journal (application id %#llx)",
		    (unsigned long long)id);
		return -1;
	}
	return id < 0 ? -1 : 0;
}

/* Brings the schema to SCHEMA_VERSION, under the write lock so two processes never both migrate. */
static int
store_migrate(struct store *st)
{
	char text[64];
	int v;

	if ((v = store_get_version(st)) < 0 || v == SCHEMA_VERSION)
		return v < 0 ? -1 : 0;
	if (store_exec(st, "BEGIN IMMEDIATE", "begin migration") < 0)
		return -1;
	if ((v = store_get_version(st)) < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err),
		    "journal schema version %d is newer than this herald's (%d)", v,
		    SCHEMA_VERSION);
		goto fail;
	}
	for (; v < SCHEMA_VERSION; v++)
		if (migrations[v](st) < 0 || store_set_version(st, v + 1) < 0)
			goto fail;
	snprintf(text, sizeof(text), "PRAGMA application_id = %d", APPLICATION_ID);
	if (store_exec(st, text, "application id") < 0 ||
	    store_exec(st, "COMMIT", "commit migration") < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
store_set_wal(struct store *st)
{
	sqlite3_stmt *s;
	int wal = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
		return store_fail(st, "journal mode");
	if (sqlite3_step(s) == SQLITE_ROW)
		wal = sqlite3_column_text(s, 0) != NULL &&
		    strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
	else
		store_fail(st, "journal mode");
	sqlite3_finalize(s);
	if (!wal && st->err[0] == '\0')
		snprintf(st->err, sizeof(st->err), "journal mode: WAL is not available");
	return wal ? 0 : -1;
}

/*
 * SQLite gives each new page cache, including the two ephemeral tables of
 * every claim (its IN list and its RETURNING rows), a first bulk allocation
 * of 20 pages; freed at once, it makes glibc grow and trim the heap on
 * every claim, which made claims three times slower. Process-wide, and
 * only possible before SQLite initializes: store.c is its only user.
 */
static void
store_config_once(void)
{
	static int done;

	if (!done) {
		done = 1;
		sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	}
}

static int
store_setup(struct store *st, const char *path)
{
	char pragmas[160];

	store_config_once();
	/* NOMUTEX: a handle is used by one thread at a time; no lock per call. */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			fatalx("store: out of memory opening %s", path);
		return store_fail(st, "open");
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* page_size only takes on a new file, before it is in WAL mode. */
	snprintf(pragmas, sizeof(pragmas), "PRAGMA page_size = %d; PRAGMA synchronous = NORMAL;"
	    " PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = %d", DB_PAGE_SIZE,
	    WAL_CHECKPOINT_PAGES);
	if (store_check_app(st) < 0 || store_exec(st, pragmas, "pragmas") < 0 ||
	    store_set_wal(st) < 0)
		return -1;
	return store_migrate(st);
}

/* Journals of other kinds, named by a URL, are for a later backend. */
static int
store_is_url(const char *location)
{
	return strstr(location, "://") != NULL;
}

int
store_exists(const char *location)
{
	return !store_is_url(location) && access(location, F_OK) == 0;
}

char *
store_beside(const char *location, const char *name)
{
	const char *slash = strrchr(location, '/');

	if (store_is_url(location))
		return NULL;
	return slash ? xasprintf("%.*s/%s", (int)(slash - location), location, name) :
	    xstrdup(name);
}

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *st;

	*out = NULL;
	if (store_is_url(path)) {
		snprintf(err, errlen, "%s: this herald keeps its journal in a file only (a path)",
		    path);
		return -1;
	}
	st = xcalloc(1, sizeof(*st));
	st->location = xstrdup(path);
	st->owner_dir = store_beside(path, "owners");
	if (mkdir_parent(path) < 0) {
		snprintf(err, errlen, "%s: cannot create its directory: %s", path,
		    strerror(errno));
		store_close(st);
		return -1;
	}
	if (store_setup(st, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, st->err);
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (i = 0; i < M__COUNT; i++)
		sqlite3_finalize(st->mstmt[i]);
	for (i = 0; i < C__COUNT; i++)
		sqlite3_finalize(st->cstmt[i]);
	for (i = 0; i < J__COUNT; i++)
		sqlite3_finalize(st->jstmt[i]);
	for (i = 0; i < L__COUNT; i++)
		sqlite3_finalize(st->lstmt[i]);
	/* No PRAGMA optimize: statistics could only move the plans away from deliveries_due. */
	sqlite3_close(st->db);
	free(st->location);
	free(st->owner_dir);
	free(st);
}

const char *
store_error(const struct store *st)
{
	return st->err;
}

int
store_schema_version(struct store *st)
{
	return store_get_version(st);
}

static int
store_simple(struct store *st, enum sid id, const char *what)
{
	sqlite3_stmt *s = store_stmt(st, id);

	return s != NULL ? store_run(st, s, what) : -1;
}

/*
 * SQLite in WAL mode: synchronous=NORMAL commits survive a crash of the
 * process (the WAL is synced at checkpoints), FULL ones a power loss (the
 * WAL is synced at each commit). Set before BEGIN, kept until a
 * transaction asks for the other.
 */
static int
store_sync(struct store *st, int full)
{
	if (st->sync_full == full)
		return 0;
	if (store_exec(st, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	    "synchronous") < 0)
		return -1;
	st->sync_full = full;
	return 0;
}

int
store_begin_as(struct store *st, enum store_durability d)
{
	if (store_sync(st, d == STORE_POWER_SAFE) < 0)
		return -1;
	return store_simple(st, S_BEGIN, "begin");
}

int
store_begin(struct store *st)
{
	return store_begin_as(st, STORE_CRASH_SAFE);
}

int
store_commit(struct store *st)
{
	return store_simple(st, S_COMMIT, "commit");
}

int
store_rollback(struct store *st)
{
	return store_simple(st, S_ROLLBACK, "rollback");
}

/* ---- releases ---- */

void
store_release_clear(struct store_release *r)
{
	if (r == NULL)
		return;
	free(r->release_id);
	free(r->file);
	free(r->snapshot);
	free(r->hash);
	free(r->lists);
	free(r->segment);
	memset(r, 0, sizeof(*r));
}

static void
store_sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, len > 0 ? data : "", len, md) < 0)
		fatalx("store: sha-256 unavailable");
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

int
store_release_put(struct store *st, const struct store_release *r, long long now,
    long long *rowid)
{
	sqlite3_stmt *s = store_stmt(st, S_REL_PUT);
	char hex[65];
	int rc;

	if (s == NULL)
		return -1;
	if (r->release_id == NULL || (unsigned)r->state >= RS__COUNT)
		fatalx("store: release_put without a release id or with state %d", r->state);
	if (r->hash == NULL)
		store_sha256_hex(r->snapshot, r->snapshot_len, hex);
	bind_text(s, 1, r->release_id);
	bind_text(s, 2, r->file);
	bind_blob(s, 3, r->snapshot != NULL ? r->snapshot : "", r->snapshot_len);
	bind_text(s, 4, r->hash != NULL ? r->hash : hex);
	bind_text(s, 5, r->lists != NULL ? r->lists : "");
	bind_int(s, 6, r->scheduled_at);
	bind_text(s, 7, rstate_names[r->state]);
	bind_int(s, 8, now);
	bind_text(s, 9, r->segment != NULL ? r->segment : "");
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*rowid = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "release put");
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
store_release_read(struct store *st, sqlite3_stmt *s, struct store_release *r)
{
	const char *state = (const char *)sqlite3_column_text(s, 7);
	int rs = store_rstate_parse(state);

	memset(r, 0, sizeof(*r));
	if (rs < 0) {
		snprintf(st->err, sizeof(st->err), "release %lld: unknown state '%s'",
		    (long long)sqlite3_column_int64(s, 0), state ? state : "");
		return -1;
	}
	r->id = sqlite3_column_int64(s, 0);
	r->release_id = col_str(s, 1);
	r->file = col_str(s, 2);
	r->snapshot = col_blob(s, 3, &r->snapshot_len);
	r->hash = col_str(s, 4);
	r->lists = col_str(s, 5);
	r->scheduled_at = sqlite3_column_int64(s, 6);
	r->state = (enum rstate)rs;
	r->created = sqlite3_column_int64(s, 8);
	r->updated = sqlite3_column_int64(s, 9);
	r->segment = col_str(s, 10);
	r->segment_counted = sqlite3_column_type(s, 11) != SQLITE_NULL;
	r->segment_kept = (size_t)sqlite3_column_int64(s, 11);
	r->segment_left = (size_t)sqlite3_column_int64(s, 12);
	return 0;
}

int
store_release_get(struct store *st, const char *release_id, struct store_release *out)
{
	sqlite3_stmt *s = store_stmt(st, S_REL_GET);
	int ret;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	bind_text(s, 1, release_id);
	if ((ret = store_row(st, s, "release get")) == 0) {
		ret = store_release_read(st, s, out);
		sqlite3_reset(s);
	}
	return ret;
}

/* Returns 1 when there is no release rowid. */
int
store_release_set_state(struct store *st, long long rowid, enum rstate s, long long now)
{
	sqlite3_stmt *q = store_stmt(st, S_REL_STATE);

	if (q == NULL)
		return -1;
	if ((unsigned)s >= RS__COUNT)
		fatalx("store: release %lld: bad state %d", rowid, s);
	bind_int(q, 1, rowid);
	bind_text(q, 2, rstate_names[s]);
	bind_int(q, 3, now);
	if (store_run(st, q, "release state") < 0)
		return -1;
	return sqlite3_changes(st->db) == 1 ? 0 : 1;
}

int
store_release_set_lists(struct store *st, long long rowid, const char *lists)
{
	sqlite3_stmt *q = store_stmt(st, S_REL_LISTS);

	if (q == NULL)
		return -1;
	bind_int(q, 1, rowid);
	bind_text(q, 2, lists);
	return store_run(st, q, "release lists") < 0 ? -1 : 0;
}

int
store_release_set_lift(struct store *st, long long rowid, long long lift)
{
	sqlite3_stmt *q = store_stmt(st, S_REL_LIFT);

	if (q == NULL)
		return -1;
	bind_int(q, 1, rowid);
	bind_int(q, 2, lift);
	return store_run(st, q, "release lift") < 0 ? -1 : 0;
}

int
store_release_set_segment(struct store *st, long long rowid, const char *segment, int counted,
    size_t kept, size_t left)
{
	sqlite3_stmt *q = store_stmt(st, S_REL_SEGMENT);

	if (q == NULL)
		return -1;
	bind_int(q, 1, rowid);
	bind_text(q, 2, segment);
	if (counted) {
		bind_int(q, 3, (long long)kept);
		bind_int(q, 4, (long long)left);
	} else {
		bind_check(q, 3, sqlite3_bind_null(q, 3));
		bind_check(q, 4, sqlite3_bind_null(q, 4));
	}
	return store_run(st, q, "release segment") < 0 ? -1 : 0;
}

int
store_delivery_has(struct store *st, long long rel, const char *address)
{
	sqlite3_stmt *s = store_stmt(st, S_DELIVERY_HAS);
	int yes = -1;

	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	bind_text(s, 2, address);
	if (sqlite3_step(s) == SQLITE_ROW)
		yes = sqlite3_column_int(s, 0) != 0;
	else
		store_fail(st, "delivery has");
	sqlite3_reset(s);
	return yes;
}

int
store_release_due(struct store *st, long long now, long long **rowids, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_REL_DUE);
	long long *ids = NULL;
	size_t cap = 0, count = 0;
	int rc;

	*rowids = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ids = xgrow(ids, &cap, count + 1, sizeof(*ids));
		ids[count++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "releases due");
		sqlite3_reset(s);
		free(ids);
		return -1;
	}
	sqlite3_reset(s);
	*rowids = ids;
	*n = count;
	return 0;
}

int
store_release_list(struct store *st, struct store_release **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_REL_LIST);
	struct store_release *rs = NULL;
	size_t cap = 0, count = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rs = xgrow(rs, &cap, count + 1, sizeof(*rs));
		if (store_release_read(st, s, &rs[count]) < 0)
			break;
		count++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(st, "release list");
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		for (i = 0; i < count; i++)
			store_release_clear(&rs[i]);
		free(rs);
		return -1;
	}
	*out = rs;
	*n = count;
	return 0;
}

/* ---- deliveries ---- */

int
store_delivery_add(struct store *st, long long rel, const char *address,
    const char *list, const void *fields, size_t fields_len, enum dstate initial,
    const char *reason, long long now)
{
	return store_delivery_add_due(st, rel, address, list, fields, fields_len, initial,
	    reason, 0, 0, now);
}

int
store_delivery_add_due(struct store *st, long long rel, const char *address,
    const char *list, const void *fields, size_t fields_len, enum dstate initial,
    const char *reason, long long due, int early, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_ADD);
	int own = 0, rc;

	if (s == NULL)
		return -1;
	if (initial != DS_QUEUED && initial != DS_SKIPPED)
		fatalx("store: delivery of release %lld added as %s", rel,
		    store_dstate_name(initial));
	/* A row added skipped is counted; a queued one is not (the gauge shows it). */
	if (initial == DS_SKIPPED && store_own_begin(st, &own) < 0)
		return -1;
	bind_int(s, 1, rel);
	bind_text(s, 2, address);
	bind_text(s, 3, list);
	bind_blob(s, 4, fields, fields_len);
	bind_text(s, 5, dstate_names[initial]);
	bind_text(s, 6, reason != NULL ? reason : "");
	bind_int(s, 7, now);
	bind_int(s, 8, initial == DS_QUEUED ? due : 0);
	bind_int(s, 9, early != 0);
	rc = store_run(st, s, "delivery add") < 0 ? -1 : sqlite3_changes(st->db) == 1 ? 0 : 1;
	if (initial != DS_SKIPPED)
		return rc;
	if (rc == 0)
		rc = store_bump(st, "deliveries", "skipped", 1);
	return store_own_end(st, own, rc);
}

void
store_row_clear(struct store_row *r)
{
	if (r == NULL)
		return;
	free(r->address);
	free(r->list);
	free(r->fields);
	memset(r, 0, sizeof(*r));
}

static void
store_row_read(sqlite3_stmt *s, struct store_row *r)
{
	r->id = sqlite3_column_int64(s, 0);
	r->address = col_str(s, 1);
	r->list = col_str(s, 2);
	r->fields = col_blob(s, 3, &r->fields_len);
	r->attempts = sqlite3_column_int(s, 4);
	r->first_attempt = sqlite3_column_int64(s, 5);
	r->early = sqlite3_column_int(s, 6);
}

/* The UPDATE ... RETURNING itself; every change is made by the first step. */
static int
store_claim_rows(struct store *st, long long rel, const char *owner, long long now,
    size_t max, struct store_row *rows, size_t *got)
{
	sqlite3_stmt *s = store_stmt(st, S_CLAIM);
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, owner);
	bind_int(s, 2, now);
	bind_int(s, 3, rel);
	bind_int(s, 4, bind_limit(max));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*got == max)
			fatalx("store: claim returned more than %zu rows", max);
		memset(&rows[*got], 0, sizeof(rows[*got]));
		store_row_read(s, &rows[(*got)++]);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "claim");
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_claim(struct store *st, long long rel, const char *owner, long long now,
    size_t max, struct store_row *rows, size_t *got)
{
	int own = sqlite3_get_autocommit(st->db);
	size_t i;

	*got = 0;
	if (owner == NULL)
		fatalx("store: claim without an owner");
	if (max == 0)
		return 0;
	if (own && store_begin(st) < 0)
		return -1;
	if (store_claim_rows(st, rel, owner, now, max, rows, got) == 0 &&
	    (!own || store_commit(st) == 0))
		return 0;
	if (own)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < *got; i++)
		store_row_clear(&rows[i]);
	*got = 0;
	return -1;
}

/* The row was not in state `from`: a bug in the caller. Never returns. */
static void
store_illegal(struct store *st, long long row, enum dstate from, enum dstate to)
{
	sqlite3_stmt *s = store_stmt(st, S_STATE_OF);
	char now[32] = "missing";
	const char *t;

	if (s != NULL) {
		bind_int(s, 1, row);
		if (sqlite3_step(s) == SQLITE_ROW &&
		    (t = (const char *)sqlite3_column_text(s, 0)) != NULL)
			snprintf(now, sizeof(now), "%s", t);
		sqlite3_reset(s);
	}
	fatalx("store: delivery %lld: illegal move %s -> %s: the row is %s", row,
	    dstate_names[from], dstate_names[to], now);
}

/* An attempt's reply code by its class: "2xx", "4xx", "5xx"; "none" without a reply. */
static const char *
store_reply_class(int code)
{
	switch (code / 100) {
	case 2:
		return "2xx";
	case 4:
		return "4xx";
	case 5:
		return "5xx";
	default:
		return "none";
	}
}

int
store_delivery_done(struct store *st, long long row, const struct store_outcome *o,
    long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_DONE);
	int own, rc;

	if (s == NULL)
		return -1;
	if (o->state != DS_SENT && o->state != DS_DEFERRED && o->state != DS_FAILED)
		fatalx("store: delivery %lld: outcome %s is not sent, deferred or failed",
		    row, store_dstate_name(o->state));
	if (store_own_begin(st, &own) < 0)
		return -1;
	bind_int(s, 1, row);
	bind_text(s, 2, dstate_names[o->state]);
	bind_int(s, 3, now);
	bind_int(s, 4, o->state == DS_DEFERRED ? o->next_attempt : 0);
	bind_int(s, 5, o->code);
	bind_text(s, 6, o->enhanced != NULL ? o->enhanced : "");
	bind_text(s, 7, o->text != NULL ? o->text : "");
	bind_text(s, 8, o->message_id);
	if ((rc = store_run(st, s, "delivery done")) == 0) {
		if (sqlite3_changes(st->db) != 1)
			store_illegal(st, row, DS_SENDING, o->state);
		rc = store_bump_outcome(st, o->state,
		    o->unsent ? NULL : store_reply_class(o->code));
	}
	return store_own_end(st, own, rc);
}

int
store_delivery_release(struct store *st, long long row, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_RELEASE);

	if (s == NULL)
		return -1;
	bind_int(s, 1, row);
	bind_int(s, 2, now);
	if (store_run(st, s, "delivery release") < 0)
		return -1;
	if (sqlite3_changes(st->db) != 1)
		store_illegal(st, row, DS_SENDING, DS_QUEUED);
	return 0;
}

int
store_delivery_bounced(struct store *st, long long row, const char *text, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_BOUNCED);
	int own, rc;

	if (s == NULL || store_own_begin(st, &own) < 0)
		return -1;
	bind_int(s, 1, row);
	bind_text(s, 2, text != NULL ? text : "");
	bind_int(s, 3, now);
	if ((rc = store_run(st, s, "delivery bounced")) == 0) {
		if (sqlite3_changes(st->db) != 1)
			store_illegal(st, row, DS_SENT, DS_BOUNCED);
		rc = store_bump(st, "deliveries", "bounced", 1);
	}
	return store_own_end(st, own, rc);
}

int
store_fail_pending(struct store *st, long long rel, const char *reason, long long now,
    size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_FAIL_PENDING);
	int own, rc;

	*n = 0;
	if (s == NULL || store_own_begin(st, &own) < 0)
		return -1;
	bind_int(s, 1, rel);
	bind_text(s, 2, reason != NULL ? reason : "");
	bind_int(s, 3, now);
	if ((rc = store_run(st, s, "fail pending")) == 0) {
		*n = (size_t)sqlite3_changes(st->db);
		rc = store_bump(st, "deliveries", "failed", (long long)*n);
	}
	if ((rc = store_own_end(st, own, rc)) < 0)
		*n = 0;
	return rc;
}

int
store_skip_suppressed(struct store *st, long long rel, long long now, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_SKIP_SUPPRESSED);
	int own, rc;

	*n = 0;
	if (s == NULL || store_own_begin(st, &own) < 0)
		return -1;
	bind_int(s, 1, rel);
	bind_int(s, 2, now);
	if ((rc = store_run(st, s, "skip suppressed")) == 0) {
		*n = (size_t)sqlite3_changes(st->db);
		rc = store_bump(st, "deliveries", "skipped", (long long)*n);
	}
	if ((rc = store_own_end(st, own, rc)) < 0)
		*n = 0;
	return rc;
}

int
store_counts(struct store *st, long long rel, size_t counts[DS__COUNT])
{
	sqlite3_stmt *s = store_stmt(st, S_COUNTS);
	const char *name;
	int rc, ds;

	memset(counts, 0, DS__COUNT * sizeof(counts[0]));
	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
		if ((ds = store_dstate_parse(name)) < 0) {
			snprintf(st->err, sizeof(st->err), "release %lld: unknown delivery state '%s'",
			    rel, name != NULL ? name : "");
			break;
		}
		counts[ds] = (size_t)sqlite3_column_int64(s, 1);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_fail(st, "counts");
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_waves(struct store *st, long long rel, long long now, struct store_wave waves[2])
{
	sqlite3_stmt *s = store_stmt(st, S_WAVES);
	struct store_wave *w;
	int rc;

	memset(waves, 0, 2 * sizeof(waves[0]));
	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	bind_int(s, 2, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		w = &waves[sqlite3_column_int(s, 0) != 0];
		w->total = (size_t)sqlite3_column_int64(s, 1);
		w->sent = (size_t)sqlite3_column_int64(s, 2);
		w->waiting = (size_t)sqlite3_column_int64(s, 3);
		w->first = sqlite3_column_int64(s, 4);
		w->last = sqlite3_column_int64(s, 5);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "waves");
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_next_attempt(struct store *st, long long rel, long long *when)
{
	sqlite3_stmt *s = store_stmt(st, S_NEXT);
	int rc;

	*when = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*when = sqlite3_column_int64(s, 0);	/* NULL (no rows) reads as 0 */
	else
		store_fail(st, "next attempt");
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_top_replies(struct store *st, long long rel, size_t max, struct store_reply **out,
    size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_TOP);
	struct store_reply *r = NULL;
	size_t cap = 0, count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	bind_int(s, 2, bind_limit(max));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = xgrow(r, &cap, count + 1, sizeof(*r));
		r[count].reply = col_str(s, 0);
		r[count++].count = (size_t)sqlite3_column_int64(s, 1);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "top replies");
		sqlite3_reset(s);
		store_replies_free(r, count);
		return -1;
	}
	sqlite3_reset(s);
	*out = r;
	*n = count;
	return 0;
}

void
store_replies_free(struct store_reply *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++)
		free(r[i].reply);
	free(r);
}

/* ---- suppressions ---- */

/* A second suppression of one address for one list keeps the first (its date and reason). */
int
store_suppress(struct store *st, const char *address, const char *list,
    const char *reason, const char *source, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_SUPPRESS);

	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_text(s, 2, list != NULL ? list : "");
	bind_text(s, 3, reason != NULL ? reason : "");
	bind_text(s, 4, source != NULL ? source : "");
	bind_int(s, 5, now);
	return store_run(st, s, "suppress");
}

int
store_suppress_hard_bounce(struct store *st, const char *address, const char *source,
    long long now)
{
	return store_suppress(st, address, NULL, "hard-bounce", source, now);
}

int
store_unsuppress(struct store *st, const char *address, const char *list)
{
	sqlite3_stmt *s = store_stmt(st, S_UNSUPPRESS);

	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_text(s, 2, list != NULL ? list : "");
	if (store_run(st, s, "unsuppress") < 0)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}

int
store_is_suppressed(struct store *st, const char *address, const char *list)
{
	sqlite3_stmt *s = store_stmt(st, S_IS_SUPPRESSED);
	int rc, yes = -1;

	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_text(s, 2, list != NULL ? list : "");
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		yes = sqlite3_column_int(s, 0) != 0;
	else
		store_fail(st, "is suppressed");
	sqlite3_reset(s);
	return yes;
}

int
store_suppressions(struct store *st, struct store_suppression **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_SUPPRESSIONS);
	struct store_suppression *v = NULL, *e;
	size_t cap = 0, count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		e = &v[count++];
		e->address = col_str(s, 0);
		e->list = col_str(s, 1);
		if (e->list != NULL && e->list[0] == '\0') {
			free(e->list);
			e->list = NULL;
		}
		e->reason = col_str(s, 2);
		e->source = col_str(s, 3);
		e->created = sqlite3_column_int64(s, 4);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "suppressions");
		sqlite3_reset(s);
		store_suppressions_free(v, count);
		return -1;
	}
	sqlite3_reset(s);
	*out = v;
	*n = count;
	return 0;
}

void
store_suppressions_free(struct store_suppression *s, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++) {
		free(s[i].address);
		free(s[i].list);
		free(s[i].reason);
		free(s[i].source);
	}
	free(s);
}

/* ---- owners ---- */

/* Owner ids name files: nothing that could leave owner_dir. */
static int
owner_name_ok(const char *owner)
{
	return owner != NULL && owner[0] != '\0' && owner[0] != '.' &&
	    strchr(owner, '/') == NULL && strlen(owner) < 200;
}

static char *
owner_path(const char *owner_dir, const char *owner)
{
	return xasprintf("%s/%s.lock", owner_dir, owner);
}

static void
owner_make(char *owner, size_t len)
{
	unsigned char rnd[8];
	char host[256] = "", hex[2 * sizeof(rnd) + 1], *p;
	size_t i;

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "host");
	host[OWNER_HOST_MAX] = '\0';
	for (p = host; *p != '\0' && *p != '.'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			*p = '_';
	*p = '\0';
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) &&
	    gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
		fatalx("store: no random bytes for an owner id");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(owner, len, "%.*s-%ld-%s", OWNER_HOST_MAX, host, (long)getpid(), hex);
}

/* 1 when fd is still the file at path (a reclaimer may have removed it before we locked it). */
static int
owner_linked(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino;
}

/*
 * Creates owner_dir/OWNER.lock under a fresh owner id and locks it, the
 * holder's proof of life on SQLite. Returns -1 with errno set; the owner
 * name is written for people looking at the directory.
 */
static int
owner_take(const char *owner_dir, char *owner, size_t len, int *fd)
{
	char *path;
	int f, tries, saved;

	*fd = -1;
	if (len < 64) {
		errno = ENOBUFS;
		return -1;
	}
	if (mkdir(owner_dir, 0700) < 0 && errno != EEXIST)
		return -1;
	for (tries = 0; tries < OWNER_TAKE_TRIES; tries++) {
		owner_make(owner, len);
		path = owner_path(owner_dir, owner);
		f = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (f >= 0 && flock(f, LOCK_EX) == 0 && owner_linked(f, path)) {
			if (write(f, owner, strlen(owner)) < 0 || write(f, "\n", 1) < 0) {
				/* the name inside is a courtesy; the lock is what counts */
			}
			free(path);
			*fd = f;
			return 0;
		}
		saved = errno;
		if (f >= 0)
			close(f);
		free(path);
		if (f < 0 && saved != EEXIST) {
			errno = saved;
			return -1;
		}
	}
	errno = EAGAIN;
	return -1;
}

static void
owner_drop(const char *owner_dir, const char *owner, int fd)
{
	char *path;

	if (fd < 0)
		return;
	/* Unlinked while still locked: nobody sees our file unlocked. */
	if (owner_name_ok(owner)) {
		path = owner_path(owner_dir, owner);
		unlink(path);
		free(path);
	}
	close(fd);
}

/*
 * 1 when owner is gone, 0 when it lives, -1 on error (errno set). When it
 * is gone and its lock file exists, *lockfd holds that file locked, so
 * that it can be removed after the rows are given back.
 */
static int
owner_dead(const char *owner_dir, const char *owner, int *lockfd)
{
	char *path;
	int f, saved;

	*lockfd = -1;
	if (!owner_name_ok(owner))
		return 1;
	path = owner_path(owner_dir, owner);
	f = open(path, O_RDWR | O_CLOEXEC);
	free(path);
	if (f < 0)
		return errno == ENOENT ? 1 : -1;
	if (flock(f, LOCK_EX | LOCK_NB) == 0) {
		*lockfd = f;
		return 1;
	}
	saved = errno;
	close(f);
	errno = saved;
	return saved == EWOULDBLOCK ? 0 : -1;
}

static int
store_sending_owners(struct store *st, char ***owners, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_OWNERS);
	size_t cap = 0;
	int rc;

	*owners = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*owners = xgrow(*owners, &cap, *n + 1, sizeof(**owners));
		(*owners)[(*n)++] = col_str(s, 0);
	}
	if (rc != SQLITE_DONE)
		store_fail(st, "sending owners");
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Removes lock files left unlocked by owners that died without rows in
 * flight. Safe beside owner_take: it checks, once it holds its lock,
 * that its file is still linked, and starts again if not.
 */
static void
store_sweep_owners(const char *owner_dir)
{
	DIR *d = opendir(owner_dir);
	struct dirent *e;
	size_t len;
	char *path;
	int f;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".lock") != 0)
			continue;
		path = xasprintf("%s/%s", owner_dir, e->d_name);
		if ((f = open(path, O_RDWR | O_CLOEXEC)) >= 0) {
			if (flock(f, LOCK_EX | LOCK_NB) == 0)
				unlink(path);
			close(f);
		}
		free(path);
	}
	closedir(d);
}

/* ---- leases ---- */

/*
 * Version 10: leases (store.h). One row per lease, by name: an owner's is
 * named by its owner id (name = holder), a named one by its name ("run",
 * "poll"); pid is the holder's, for the messages that name it.
 */
static const char schema_v10[] =
	"CREATE TABLE leases ("
	" name TEXT PRIMARY KEY,"
	" holder TEXT NOT NULL,"
	" pid INTEGER NOT NULL DEFAULT 0,"
	" expires INTEGER NOT NULL,"
	" created INTEGER NOT NULL);";

static int
migrate_v10(struct store *st)
{
	return store_exec(st, schema_v10, "schema version 10");
}

static const char *const lease_sql[L__COUNT] = {
	[L_GET] = "SELECT holder, pid, expires FROM leases WHERE name = ?1",
	[L_PUT] =
	    "INSERT INTO leases (name, holder, pid, expires, created) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, pid = excluded.pid,"
	    " expires = excluded.expires, created = excluded.created",
	[L_RENEW] = "UPDATE leases SET expires = ?3 WHERE name = ?1 AND holder = ?2",
	[L_DROP] = "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
	/* Owner leases (named by their holder) that lapsed: their owners are gone. */
	[L_EXPIRED] = "DELETE FROM leases WHERE name = holder AND expires <= ?1",
};

static sqlite3_stmt *
lease_stmt(struct store *st, enum lid id)
{
	if (st->lstmt[id] == NULL && sqlite3_prepare_v3(st->db, lease_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->lstmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "prepare");
		st->lstmt[id] = NULL;
	}
	return st->lstmt[id];
}

struct store_lease {
	char *name;			/* the lease's row; an owner lease's is its owner id */
	char owner[128];		/* the holder: this process, under a fresh owner id */
	int fd;				/* SQLite's proof of life: owners/OWNER.lock, locked */
	_Atomic int lost;
	/* store_lease_keep's thread, on a handle of its own */
	struct store *kst;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int keeping, stop;
};

/* Named leases are words: nothing an owner id ("HOST-PID-HEX") could be. */
static int
lease_name_ok(const char *name)
{
	const char *p;

	for (p = name; *p >= 'a' && *p <= 'z'; p++)
		;
	return *p == '\0' && p != name && p - name < 32;
}

/* The lease row named name: 0 (*holder owned by the caller), 1 none, -1 error. */
static int
lease_get(struct store *st, const char *name, char **holder, long *pid, long long *expires)
{
	sqlite3_stmt *s = lease_stmt(st, L_GET);
	int rc;

	*holder = NULL;
	if (s == NULL)
		return -1;
	bind_text(s, 1, name);
	if ((rc = store_row(st, s, "lease")) != 0)
		return rc;
	*holder = col_str(s, 0);
	*pid = (long)sqlite3_column_int64(s, 1);
	*expires = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	return 0;
}

/*
 * Whether holder, whose lease runs until expires, holds it at now: 1 it
 * does, 0 the lease is free, -1 error. Free when expired, or when the
 * holder's lock file can be locked or is missing: then, when the file
 * exists, *lockfd holds it locked, to be removed once its rows are back.
 */
static int
lease_held(struct store *st, const char *holder, long long expires, long long now, int *lockfd)
{
	int dead;

	*lockfd = -1;
	if (expires <= now)
		return 0;
	if ((dead = owner_dead(st->owner_dir, holder, lockfd)) < 0) {
		snprintf(st->err, sizeof(st->err), "lease: %s/%s.lock: %s", st->owner_dir, holder,
		    strerror(errno));
		return -1;
	}
	return !dead;
}

/* Removes a gone holder's lock file, which lease_held left locked in fd. */
static void
lease_bury(struct store *st, const char *holder, int fd)
{
	char *path;

	if (fd < 0)
		return;
	path = owner_path(st->owner_dir, holder);
	unlink(path);
	free(path);
	close(fd);
}

static int
lease_write(struct store *st, enum lid id, const char *name, const char *holder, long long a,
    long long b)
{
	sqlite3_stmt *s = lease_stmt(st, id);

	if (s == NULL)
		return -1;
	bind_text(s, 1, name);
	if (holder != NULL)
		bind_text(s, 2, holder);
	if (id == L_PUT) {
		bind_int(s, 3, (long long)getpid());
		bind_int(s, 4, a);
		bind_int(s, 5, b);
	} else if (id == L_RENEW) {
		bind_int(s, 3, a);
	}
	return store_run(st, s, "lease");
}

/* Forgets l: its lock file and its memory (not its row). */
static void
lease_free(struct store *st, struct store_lease *l)
{
	owner_drop(st->owner_dir, l->owner, l->fd);
	free(l->name);
	free(l);
}

int
store_lease_take(struct store *st, const char *name, long long now, struct store_lease **out,
    long *pid)
{
	struct store_lease *l = xcalloc(1, sizeof(*l));
	char *holder = NULL;
	long long expires;
	long hpid = 0;
	int own, rc, f = -1;

	*out = NULL;
	if (pid != NULL)
		*pid = 0;
	if (name != NULL && !lease_name_ok(name))
		fatalx("store: bad lease name '%s'", name);
	if (owner_take(st->owner_dir, l->owner, sizeof(l->owner), &l->fd) < 0) {
		snprintf(st->err, sizeof(st->err), "cannot take an owner lock in %s: %s",
		    st->owner_dir, strerror(errno));
		free(l);
		return -1;
	}
	l->name = xstrdup(name != NULL ? name : l->owner);
	if (store_own_begin(st, &own) < 0) {
		lease_free(st, l);
		return -1;
	}
	rc = name != NULL ? lease_get(st, name, &holder, &hpid, &expires) : 1;
	if (rc == 0 && (rc = lease_held(st, holder, expires, now, &f)) == 1) {
		if (pid != NULL)
			*pid = hpid;
	} else if (rc >= 0) {
		rc = lease_write(st, L_PUT, l->name, l->owner, now + STORE_LEASE_TTL, now);
	}
	if ((rc = store_own_end(st, own, rc)) == 0 && holder != NULL)
		lease_bury(st, holder, f);
	else if (f >= 0)
		close(f);
	free(holder);
	if (rc != 0) {
		lease_free(st, l);
		return rc;
	}
	*out = l;
	return 0;
}

const char *
store_lease_owner(const struct store_lease *l)
{
	return l->owner;
}

int
store_lease_renew(struct store *st, struct store_lease *l, long long now)
{
	if (l->lost)
		return 1;
	if (lease_write(st, L_RENEW, l->name, l->owner, now + STORE_LEASE_TTL, 0) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 1)
		return 0;
	l->lost = 1;
	return 1;
}

int
store_lease_lost(const struct store_lease *l)
{
	return l->lost;
}

/* The keeper: renews every STORE_LEASE_RENEW seconds (sooner after an error) until stopped. */
static void *
lease_keeper(void *arg)
{
	struct store_lease *l = arg;
	struct timespec at;
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	while (!l->stop && rc != 1) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += rc == 0 ? STORE_LEASE_RENEW : 1;
		while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &at) != ETIMEDOUT)
			;
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		rc = store_lease_renew(l->kst, l, (long long)time(NULL));
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int
store_lease_keep(struct store *st, struct store_lease *l)
{
	pthread_condattr_t ca;
	char err[512];
	int rc;

	if (l->keeping)
		return 0;
	if (store_open(st->location, &l->kst, err, sizeof(err)) < 0) {
		snprintf(st->err, sizeof(st->err), "lease keeper: %.480s", err);
		return -1;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&l->mu, NULL);
	l->stop = 0;
	if ((rc = pthread_create(&l->thread, NULL, lease_keeper, l)) != 0) {
		snprintf(st->err, sizeof(st->err), "lease keeper: %s", strerror(rc));
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		store_close(l->kst);
		l->kst = NULL;
		return -1;
	}
	l->keeping = 1;
	return 0;
}

void
store_lease_drop(struct store *st, struct store_lease *l)
{
	if (l == NULL)
		return;
	if (l->keeping) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		store_close(l->kst);
	}
	/* Still ours unless lost: freed in the journal first, while our file is still locked. */
	if (!l->lost)
		lease_write(st, L_DROP, l->name, l->owner, 0, 0);
	lease_free(st, l);
}

/* Gives back the rows of one gone owner and forgets its lease; *n grows by their number. */
static int
store_reclaim_owner(struct store *st, const char *owner, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_RECLAIM);

	if (s == NULL)
		return -1;
	bind_text(s, 1, owner);
	if (store_run(st, s, "reclaim") < 0)
		return -1;
	*n += (size_t)sqlite3_changes(st->db);
	return lease_write(st, L_DROP, owner, owner, 0, 0);
}

/* Whether owner's lease is held at now: 1 held, 0 free (*f as lease_held), -1 error. */
static int
owner_alive(struct store *st, const char *owner, long long now, int *f)
{
	char *holder;
	long long expires;
	long pid;
	int rc;

	*f = -1;
	if ((rc = lease_get(st, owner, &holder, &pid, &expires)) != 0)
		return rc == 1 ? 0 : -1;
	rc = strcmp(holder, owner) == 0 ? lease_held(st, holder, expires, now, f) : 0;
	free(holder);
	return rc;
}

int
store_reclaim(struct store *st, long long now, size_t *n)
{
	char **owners;
	size_t count, i;
	int ret, own, alive, *files;

	*n = 0;
	if (store_own_begin(st, &own) < 0)
		return -1;
	if ((ret = store_sending_owners(st, &owners, &count)) < 0)
		return store_own_end(st, own, ret);
	files = xcalloc(count + 1, sizeof(*files));
	for (i = 0; i < count; i++)
		files[i] = -1;
	for (i = 0; i < count && ret == 0; i++) {
		if ((alive = owner_alive(st, owners[i], now, &files[i])) < 0)
			ret = -1;
		else if (!alive)
			ret = store_reclaim_owner(st, owners[i], n);
	}
	if (ret == 0) {
		sqlite3_stmt *s = lease_stmt(st, L_EXPIRED);

		if (s == NULL)
			ret = -1;
		else {
			bind_int(s, 1, now);
			ret = store_run(st, s, "expired leases");
		}
	}
	ret = store_own_end(st, own, ret);
	/* The files of the gone owners go once their rows are back for good. */
	for (i = 0; i < count; i++) {
		if (ret == 0)
			lease_bury(st, owners[i], files[i]);
		else if (files[i] >= 0)
			close(files[i]);
		free(owners[i]);
	}
	free(owners);
	free(files);
	if (ret == 0)
		store_sweep_owners(st->owner_dir);
	if (ret != 0)
		*n = 0;
	return ret;
}
/* ---- deliveries by id and by address (the mailbox's lookups) ---- */

void
store_delivery_clear(struct store_delivery *d)
{
	if (d == NULL)
		return;
	free(d->address);
	free(d->list);
	free(d->release_id);
	memset(d, 0, sizeof(*d));
}

/* One row of DLV_COLS from s, which has a row; 0, or 1 when there was none. */
static int
store_delivery_step(struct store *st, sqlite3_stmt *s, struct store_delivery *out,
    const char *what)
{
	int rc;

	if ((rc = store_row(st, s, what)) != 0)
		return rc;
	out->id = sqlite3_column_int64(s, 0);
	out->address = col_str(s, 1);
	out->list = col_str(s, 2);
	out->release_id = col_str(s, 3);
	out->state = store_dstate_parse((const char *)sqlite3_column_text(s, 4));
	sqlite3_reset(s);
	return 0;
}

int
store_delivery_get(struct store *st, long long id, struct store_delivery *out)
{
	sqlite3_stmt *s = store_stmt(st, S_DLV_GET);

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	bind_int(s, 1, id);
	return store_delivery_step(st, s, out, "delivery get");
}

int
store_delivery_latest(struct store *st, const char *address, struct store_delivery *out)
{
	sqlite3_stmt *s = store_stmt(st, S_DLV_LATEST);

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	return store_delivery_step(st, s, out, "delivery latest");
}

/* The single integer a statement with bound parameters yields; -1 on error. */
static long long
store_int(struct store *st, sqlite3_stmt *s, long long none, const char *what)
{
	long long v = none;
	int rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		v = store_fail(st, what);
	sqlite3_reset(s);
	return v;
}

int
store_has_bounced(struct store *st, const char *address)
{
	sqlite3_stmt *s = store_stmt(st, S_HAS_BOUNCED);

	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	return (int)store_int(st, s, 0, "has bounced");
}

/* ---- the mailbox ---- */

int
store_mailbox_get(struct store *st, const char *key, unsigned long long *uidvalidity,
    unsigned long long *last_uid)
{
	sqlite3_stmt *s = store_stmt(st, S_MBOX_GET);
	int rc;

	*uidvalidity = *last_uid = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, key);
	if ((rc = store_row(st, s, "mailbox get")) != 0)
		return rc;
	*uidvalidity = (unsigned long long)sqlite3_column_int64(s, 0);
	*last_uid = (unsigned long long)sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return 0;
}

int
store_mailbox_set(struct store *st, const char *key, unsigned long long uidvalidity,
    unsigned long long last_uid, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_MBOX_SET);

	if (s == NULL)
		return -1;
	bind_text(s, 1, key);
	bind_int(s, 2, (long long)uidvalidity);
	bind_int(s, 3, (long long)last_uid);
	bind_int(s, 4, now);
	return store_run(st, s, "mailbox set");
}

int
store_inbound_add(struct store *st, const struct store_inbound *m, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_IN_ADD);

	if (s == NULL)
		return -1;
	bind_text(s, 1, m->mailbox);
	bind_int(s, 2, (long long)m->uidvalidity);
	bind_int(s, 3, (long long)m->uid);
	bind_text(s, 4, m->message_id ? m->message_id : "");
	bind_text(s, 5, m->kind);
	bind_text(s, 6, m->action ? m->action : "");
	bind_text(s, 7, m->folder ? m->folder : "");
	bind_int(s, 8, now);
	if (store_run(st, s, "inbound add") < 0)
		return -1;
	return sqlite3_changes(st->db) == 1 ? 0 : 1;
}

int
store_inbound_action(struct store *st, const struct store_inbound *m)
{
	sqlite3_stmt *s = store_stmt(st, S_IN_ACTION);

	if (s == NULL)
		return -1;
	bind_text(s, 1, m->mailbox);
	bind_int(s, 2, (long long)m->uidvalidity);
	bind_int(s, 3, (long long)m->uid);
	bind_text(s, 4, m->action ? m->action : "");
	return store_run(st, s, "inbound action");
}

int
store_inbound_seen(struct store *st, const char *message_id)
{
	sqlite3_stmt *s = store_stmt(st, S_IN_SEEN);

	if (message_id == NULL || message_id[0] == '\0')
		return 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, message_id);
	return (int)store_int(st, s, 0, "inbound seen");
}

void
store_unmoved_free(struct store_unmoved *u, size_t n)
{
	size_t i;

	for (i = 0; u != NULL && i < n; i++)
		free(u[i].folder);
	free(u);
}

int
store_inbound_unmoved(struct store *st, const char *mailbox, unsigned long long uidvalidity,
    struct store_unmoved **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_IN_UNMOVED);
	struct store_unmoved *v = NULL;
	size_t cap = 0, count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, mailbox);
	bind_int(s, 2, (long long)uidvalidity);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		v[count].uid = (unsigned long long)sqlite3_column_int64(s, 0);
		v[count++].folder = col_str(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_unmoved_free(v, count);
		return store_fail(st, "inbound unmoved");
	}
	*out = v;
	*n = count;
	return 0;
}

int
store_inbound_moved(struct store *st, const char *mailbox, unsigned long long uidvalidity,
    unsigned long long uid)
{
	sqlite3_stmt *s = store_stmt(st, S_IN_MOVED);

	if (s == NULL)
		return -1;
	bind_text(s, 1, mailbox);
	bind_int(s, 2, (long long)uidvalidity);
	bind_int(s, 3, (long long)uid);
	return store_run(st, s, "inbound moved");
}

/* ---- soft bounces ---- */

int
store_soft_bounce(struct store *st, const char *address, long long now, long long window,
    long long *score)
{
	sqlite3_stmt *s = store_stmt(st, S_SOFT_GET), *p;
	long long day = now / 86400, last_day = -1, last = 0;
	int rc;

	*score = 0;
	if (s == NULL || (p = store_stmt(st, S_SOFT_PUT)) == NULL)
		return -1;
	bind_text(s, 1, address);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*score = sqlite3_column_int64(s, 0);
		last_day = sqlite3_column_int64(s, 1);
		last = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "soft bounce");
	/* A stale score starts again; one point a day at most, so a long outage counts once a day. */
	if (rc == SQLITE_DONE || now - last > window)
		*score = 1;
	else if (day != last_day)
		(*score)++;
	bind_text(p, 1, address);
	bind_int(p, 2, *score);
	bind_int(p, 3, day);
	bind_int(p, 4, now);
	return store_run(st, p, "soft bounce");
}

/* ---- tokens ---- */

int
store_tokens_undated_day(struct store *st, long *day)
{
	sqlite3_stmt *s = store_stmt(st, S_UNDATED_DAY);
	long long v;

	if (s == NULL || (v = store_int(st, s, -1, "tokens' undated day")) < 0)
		return -1;
	*day = (long)v;
	return 0;
}

/* ---- confirmations ---- */

int
store_confirm_add(struct store *st, const char *address, long long now, long long *id)
{
	sqlite3_stmt *s = store_stmt(st, S_CONFIRM_ADD);

	*id = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_int(s, 2, now);
	*id = store_int(st, s, 0, "confirmation add");
	return *id > 0 ? 0 : -1;
}

int
store_confirm_pending(struct store *st, const char *address, long long since)
{
	sqlite3_stmt *s = store_stmt(st, S_CONFIRM_PENDING);

	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_int(s, 2, since);
	return (int)store_int(st, s, 0, "confirmation pending");
}

int
store_confirm_get(struct store *st, long long id, char **address, int *done)
{
	sqlite3_stmt *s = store_stmt(st, S_CONFIRM_GET);
	int rc;

	*address = NULL;
	*done = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, id);
	if ((rc = store_row(st, s, "confirmation get")) != 0)
		return rc;
	*address = col_str(s, 0);
	*done = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	return 0;
}

int
store_confirm_done(struct store *st, long long id, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_CONFIRM_DONE);

	if (s == NULL)
		return -1;
	bind_int(s, 1, id);
	bind_int(s, 2, now);
	if (store_run(st, s, "confirmation done") < 0)
		return -1;
	return sqlite3_changes(st->db) == 1 ? 0 : 1;
}

/* ---- the outbox ---- */

int
store_outbox_add(struct store *st, const char *kind, const char *mail_from,
    const char *rcpt, const void *msg, size_t len, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_OUT_ADD);

	if (s == NULL)
		return -1;
	bind_text(s, 1, kind);
	bind_text(s, 2, mail_from);
	bind_text(s, 3, rcpt);
	bind_blob(s, 4, msg, len);
	bind_int(s, 5, now);
	return store_run(st, s, "outbox add");
}

void
store_outmsg_free(struct store_outmsg *m, size_t n)
{
	size_t i;

	for (i = 0; m != NULL && i < n; i++) {
		free(m[i].kind);
		free(m[i].mail_from);
		free(m[i].rcpt);
		free(m[i].msg);
	}
	free(m);
}

int
store_outbox_due(struct store *st, long long now, long long after, size_t max,
    struct store_outmsg **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_OUT_DUE);
	struct store_outmsg *v = NULL, *e;
	size_t cap = 0, count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, now);
	bind_int(s, 2, bind_limit(max));
	bind_int(s, 3, after);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		e = &v[count++];
		e->id = sqlite3_column_int64(s, 0);
		e->kind = col_str(s, 1);
		e->mail_from = col_str(s, 2);
		e->rcpt = col_str(s, 3);
		e->msg = col_blob(s, 4, &e->len);
		e->attempts = sqlite3_column_int(s, 5);
		e->created = sqlite3_column_int64(s, 6);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_outmsg_free(v, count);
		return store_fail(st, "outbox due");
	}
	*out = v;
	*n = count;
	return 0;
}

int
store_outbox_done(struct store *st, long long id, const char *state, long long next_attempt,
    const char *text, long long now)
{
	sqlite3_stmt *s = store_stmt(st, S_OUT_DONE);

	if (s == NULL)
		return -1;
	if (strcmp(state, "queued") != 0 && strcmp(state, "sent") != 0 &&
	    strcmp(state, "failed") != 0)
		fatalx("store: outbox %lld: bad state %s", id, state);
	bind_int(s, 1, id);
	bind_text(s, 2, state);
	bind_int(s, 3, next_attempt);
	bind_text(s, 4, text ? text : "");
	bind_int(s, 5, now);
	return store_run(st, s, "outbox done");
}

/* ---- the daemon's agenda ---- */

int
store_work_due(struct store *st, long long now, char ***ids, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, S_WORK_DUE);

	*ids = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, now);
	return store_strings(st, s, "work due", ids, n);
}

int
store_next_due(struct store *st, long long *when)
{
	sqlite3_stmt *s = store_stmt(st, S_NEXT_DUE);
	long long v;

	*when = 0;
	if (s == NULL)
		return -1;
	if ((v = store_int(st, s, 0, "next due")) < 0)
		return -1;
	*when = v;
	return 0;
}

/* ---- digests ---- */

/*
 * Version 3: digests. A digest is a release row of its own (its
 * release_id is "digest.LIST.TIME") whose deliveries go through the same
 * claims, retries and reclaims as any release's. `digests` says which
 * release rows are digests, and of which list. `digest_items` records the
 * releases each address's digest carries, in the transaction that adds
 * its delivery row; UNIQUE(address, release) makes a repeat impossible,
 * even for an address that takes the digests of two lists.
 * `digest_members` keeps since when an address takes a list's digest, so
 * that a newcomer's first digest does not carry the list's whole past.
 */
static const char schema_v3[] =
	"CREATE TABLE digests ("
	" release INTEGER PRIMARY KEY REFERENCES releases(id) ON DELETE CASCADE,"
	" list TEXT NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX digests_list ON digests(list, created);"
	"CREATE TABLE digest_members ("
	" list TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" since INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" PRIMARY KEY (list, address)) WITHOUT ROWID;"
	"CREATE TABLE digest_items ("
	" digest INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,"
	" address TEXT NOT NULL,"
	" release INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,"
	" UNIQUE(address, release));"
	"CREATE INDEX digest_items_digest ON digest_items(digest, address);";

static int
migrate_v3(struct store *st)
{
	return store_exec(st, schema_v3, "schema version 3");
}

/* When a release went out: its schedule, or when it was sent by hand. */
#define DG_SENT_AT "coalesce(nullif(r.scheduled_at, 0), r.created)"

static const char *const digest_sql[S__COUNT - S_DG_ADD] = {
	[S_DG_ADD - S_DG_ADD] =
	    "INSERT INTO digests (release, list, created) VALUES (?1, ?2, ?3)",
	[S_DG_LIST - S_DG_ADD] =
	    "SELECT d.list FROM digests d JOIN releases r ON r.id = d.release"
	    " WHERE r.release_id = ?1",
	[S_DG_LAST - S_DG_ADD] = "SELECT max(created) FROM digests WHERE list = ?1",
	[S_DG_MEMBER - S_DG_ADD] =
	    "INSERT INTO digest_members (list, address, since, created) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (list, address) DO NOTHING",
	/*
	 * Releases sent to the list (being sent or done; never a digest), gone
	 * out since the address took the digest, lifted (pre-briefed is not
	 * public yet), that no digest carried to it
	 * yet and that it has not had (nor is having) by a delivery of its own.
	 */
	[S_DG_TAKE - S_DG_ADD] =
	    "INSERT INTO digest_items (digest, address, release)"
	    " SELECT ?1, ?2, r.id FROM releases r"
	    " WHERE r.state IN ('sending', 'done')"
	    "  AND instr(' ' || r.lists || ' ', ' ' || ?3 || ' ') > 0"
	    "  AND r.id NOT IN (SELECT release FROM digests)"
	    "  AND r.lift <= ?4"
	    "  AND " DG_SENT_AT " >= (SELECT since FROM digest_members"
	    "   WHERE list = ?3 AND address = ?2)"
	    "  AND NOT EXISTS (SELECT 1 FROM digest_items i"
	    "   WHERE i.address = ?2 AND i.release = r.id)"
	    "  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.release = r.id"
	    "   AND d.address = ?2 AND d.state NOT IN ('failed', 'skipped'))",
	[S_DG_OPEN - S_DG_ADD] =
	    "SELECT r.release_id FROM digests d JOIN releases r ON r.id = d.release"
	    " WHERE d.list = ?1 AND r.state = 'sending' ORDER BY d.created, d.release",
	[S_DG_ITEMS - S_DG_ADD] =
	    "SELECT i.address, i.release FROM digest_items i JOIN releases r ON r.id = i.release"
	    " WHERE i.digest = ?1 ORDER BY i.address, " DG_SENT_AT ", r.id",
	[S_DG_RELEASE - S_DG_ADD] = "SELECT " REL_COLS " FROM releases WHERE id = ?1",
	/* The releases a digest of the list may carry that went to a segment. */
	[S_DG_SEGMENTS - S_DG_ADD] =
	    "SELECT r.id, r.segment FROM releases r"
	    " WHERE r.segment <> '' AND r.state IN ('sending', 'done')"
	    "  AND instr(' ' || r.lists || ' ', ' ' || ?1 || ' ') > 0"
	    "  AND r.id NOT IN (SELECT release FROM digests)",
	[S_DG_DROP - S_DG_ADD] =
	    "DELETE FROM digest_items WHERE digest = ?1 AND address = ?2 AND release = ?3",
};

/* store_stmt for the statements of this section. */
static sqlite3_stmt *
digest_stmt(struct store *st, enum sid id)
{
	if (id < S_DG_ADD || id >= S__COUNT)
		fatalx("store: statement %d is not a digest statement", id);
	if (st->stmt[id] == NULL && sqlite3_prepare_v3(st->db, digest_sql[id - S_DG_ADD], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->stmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "prepare");
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

int
store_digest_add(struct store *st, long long rel, const char *list, long long now)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_ADD);

	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	bind_text(s, 2, list);
	bind_int(s, 3, now);
	return store_run(st, s, "digest add");
}

int
store_digest_list(struct store *st, const char *release_id, char **list)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_LIST);
	int rc;

	*list = NULL;
	if (s == NULL)
		return -1;
	bind_text(s, 1, release_id);
	if ((rc = store_row(st, s, "digest list")) != 0)
		return rc;
	*list = col_str(s, 0);
	sqlite3_reset(s);
	return 0;
}

int
store_digest_last(struct store *st, const char *list, long long *when)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_LAST);
	long long v;

	*when = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	if ((v = store_int(st, s, 0, "digest last")) < 0)
		return -1;
	*when = v;
	return 0;
}

int
store_digest_member(struct store *st, const char *list, const char *address, long long since,
    long long now)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_MEMBER);

	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	bind_text(s, 2, address);
	bind_int(s, 3, since);
	bind_int(s, 4, now);
	return store_run(st, s, "digest member");
}

int
store_digest_take(struct store *st, long long rel, const char *list, const char *address,
    long long now, size_t *n)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_TAKE);

	*n = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	bind_text(s, 2, address);
	bind_text(s, 3, list);
	bind_int(s, 4, now);
	if (store_run(st, s, "digest take") < 0)
		return -1;
	*n = (size_t)sqlite3_changes(st->db);
	return 0;
}

int
store_digest_open(struct store *st, const char *list, char ***ids, size_t *n)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_OPEN);

	*ids = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	return store_strings(st, s, "digests open", ids, n);
}

void
store_digest_items_free(struct store_digest_item *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].address);
	free(v);
}

int
store_digest_items(struct store *st, long long rel, struct store_digest_item **out, size_t *n)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_ITEMS);
	struct store_digest_item *v = NULL;
	size_t cap = 0, count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		v[count].address = col_str(s, 0);
		v[count++].release = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_digest_items_free(v, count);
		return store_fail(st, "digest items");
	}
	*out = v;
	*n = count;
	return 0;
}

int
store_digest_release(struct store *st, long long rowid, struct store_release *out)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_RELEASE);
	int ret;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	bind_int(s, 1, rowid);
	if ((ret = store_row(st, s, "digest release")) == 0) {
		ret = store_release_read(st, s, out);
		sqlite3_reset(s);
	}
	return ret;
}

void
store_segments_free(struct store_segment *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].segment);
	free(v);
}

int
store_digest_segments(struct store *st, const char *list, struct store_segment **out, size_t *n)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_SEGMENTS);
	struct store_segment *v = NULL;
	size_t cap = 0, count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		v[count].release = sqlite3_column_int64(s, 0);
		v[count++].segment = col_str(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_segments_free(v, count);
		return store_fail(st, "digest segments");
	}
	*out = v;
	*n = count;
	return 0;
}

int
store_digest_drop(struct store *st, long long rel, const char *address, long long release,
    size_t *n)
{
	sqlite3_stmt *s = digest_stmt(st, S_DG_DROP);

	*n = 0;
	if (s == NULL)
		return -1;
	bind_int(s, 1, rel);
	bind_text(s, 2, address);
	bind_int(s, 3, release);
	if (store_run(st, s, "digest drop") < 0)
		return -1;
	*n = (size_t)sqlite3_changes(st->db);
	return 0;
}

/* ---- the archive ---- */

/*
 * Prepared per call rather than cached with the others: the archive reads
 * it once per run. deliveries_due finds each release's sent rows.
 */
static const char published_sql[] =
	"SELECT r.release_id, r.file, r.snapshot, r.lists, r.lift, coalesce("
	"  (SELECT min(d.last_attempt) FROM deliveries d WHERE d.release = r.id"
	"   AND d.state IN ('sent', 'bounced')),"
	"  CASE WHEN r.state = 'done' THEN r.updated END) AS sent_at"
	" FROM releases r"
	" WHERE r.state IN ('sending', 'done') AND r.id NOT IN (SELECT release FROM digests)"
	" AND sent_at IS NOT NULL ORDER BY sent_at DESC, r.release_id";

void
store_published_free(struct store_published *p, size_t n)
{
	size_t i;

	for (i = 0; p != NULL && i < n; i++) {
		free(p[i].release_id);
		free(p[i].file);
		free(p[i].lists);
		free(p[i].snapshot);
	}
	free(p);
}

int
store_published(struct store *st, struct store_published **out, size_t *n)
{
	struct store_published *v = NULL, *p;
	size_t cap = 0, count = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, published_sql, -1, &s, NULL) != SQLITE_OK)
		return store_fail(st, "prepare");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		p = &v[count++];
		p->release_id = col_str(s, 0);
		p->file = col_str(s, 1);
		p->snapshot = col_blob(s, 2, &p->snapshot_len);
		p->lists = col_str(s, 3);
		p->lift = sqlite3_column_int64(s, 4);
		p->sent_at = sqlite3_column_int64(s, 5);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "releases published");
		sqlite3_finalize(s);
		store_published_free(v, count);
		return -1;
	}
	sqlite3_finalize(s);
	*out = v;
	*n = count;
	return 0;
}

/* ---- members: who joined a list ---- */

/*
 * Version 7: members. A list is its file's subscribers plus the members
 * the journal keeps for it, unique by list and canonical address. fields
 * is the blob a delivery row takes (render_subscriber_pack's); name, lang
 * and tz are repeated in columns for listings; delivery is 'each' or
 * 'digest'. how, ref and consented are the consent record: how they
 * joined ('import', 'mail', 'web'), what confirms it (the CSV's FILE:LINE,
 * the confirming message's Message-ID, the client's address) and when. A
 * rowid table, not WITHOUT ROWID: a row with its blob is large beside the
 * journal's 1 KiB pages.
 */
static const char schema_v7[] =
	"CREATE TABLE members ("
	" id INTEGER PRIMARY KEY,"
	" list TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" name TEXT,"
	" fields BLOB,"
	" lang TEXT,"
	" tz TEXT,"
	" delivery TEXT NOT NULL DEFAULT 'each',"
	" how TEXT NOT NULL,"
	" ref TEXT NOT NULL DEFAULT '',"
	" consented INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL,"
	" UNIQUE(list, address));";

static int
migrate_v7(struct store *st)
{
	return store_exec(st, schema_v7, "schema version 7");
}

/* ---- metrics: counters ---- */

/*
 * Version 8: counters for /metrics. They are kept here, not in a process's
 * memory: releases go out from `herald send` processes as well as from the
 * daemon, which restarts. Each is added to in the transaction of the event
 * it counts, so a rolled-back event is never counted and a committed one
 * always is. One row per name and label, WITHOUT ROWID: the send loop's
 * transaction adds one small page to what it writes.
 */
static const char schema_v8[] =
	"CREATE TABLE counters ("
	" name TEXT NOT NULL,"
	" label TEXT NOT NULL,"
	" value INTEGER NOT NULL,"
	" PRIMARY KEY (name, label)) WITHOUT ROWID;";

static int
migrate_v8(struct store *st)
{
	return store_exec(st, schema_v8, "schema version 8");
}

#define MEMBER_COLS "list, address, name, fields, lang, tz, delivery, how, ref, consented, " \
	"created, updated"

static const char *const member_sql[M__COUNT] = {
	[M_GET] = "SELECT " MEMBER_COLS " FROM members WHERE list = ?1 AND address = ?2",
	[M_INSERT] =
	    "INSERT INTO members (" MEMBER_COLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
	[M_UPDATE] =
	    "UPDATE members SET name = ?3, fields = ?4, lang = ?5, tz = ?6, delivery = ?7,"
	    " how = ?8, ref = ?9, consented = ?10, updated = ?11"
	    " WHERE list = ?1 AND address = ?2",
	[M_REMOVE] = "DELETE FROM members WHERE list = ?1 AND address = ?2",
	[M_COUNT] = "SELECT count(*) FROM members WHERE list = ?1",
	[M_EACH] = "SELECT " MEMBER_COLS " FROM members WHERE list = ?1 ORDER BY consented, id",
};

static sqlite3_stmt *
member_stmt(struct store *st, enum mid id)
{
	if (st->mstmt[id] == NULL && sqlite3_prepare_v3(st->db, member_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->mstmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "prepare");
		st->mstmt[id] = NULL;
	}
	return st->mstmt[id];
}

#define BUMP_UPSERT " ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value"

static const char *const metric_sql[C__COUNT] = {
	[C_BUMP] = "INSERT INTO counters (name, label, value) VALUES (?1, ?2, ?3)" BUMP_UPSERT,
	/* An attempt's outcome: its state and its reply's class in one statement. */
	[C_BUMP2] =
	    "INSERT INTO counters (name, label, value)"
	    " VALUES ('deliveries', ?1, 1), ('smtp_replies', ?2, 1)" BUMP_UPSERT,
	[C_COUNTERS] = "SELECT name, label, value FROM counters ORDER BY name, label",
	/*
	 * Release by release, so that each count is a range of deliveries_due;
	 * CROSS JOIN keeps that order (SQLite's own choice scans the whole
	 * index: 50 times slower at a million rows).
	 */
	[C_PENDING] =
	    "SELECT d.state, count(*) FROM releases r CROSS JOIN deliveries d"
	    " ON d.release = r.id AND d.state IN ('queued', 'deferred') GROUP BY d.state",
};

static sqlite3_stmt *
metric_stmt(struct store *st, enum cid id)
{
	if (st->cstmt[id] == NULL && sqlite3_prepare_v3(st->db, metric_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->cstmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "prepare");
		st->cstmt[id] = NULL;
	}
	return st->cstmt[id];
}

void
store_member_clear(struct store_member *m)
{
	if (m == NULL)
		return;
	free(m->list);
	free(m->address);
	free(m->name);
	free(m->fields);
	free(m->lang);
	free(m->tz);
	free(m->how);
	free(m->ref);
	memset(m, 0, sizeof(*m));
}

/*
 * The row s is on, its strings borrowed from s (valid until it steps
 * again), except that a blob of no bytes is NULL.
 */
static void
member_borrow(sqlite3_stmt *s, struct store_member *m)
{
	memset(m, 0, sizeof(*m));
	m->list = (char *)sqlite3_column_text(s, 0);
	m->address = (char *)sqlite3_column_text(s, 1);
	m->name = (char *)sqlite3_column_text(s, 2);
	m->fields = (void *)sqlite3_column_blob(s, 3);
	m->fields_len = (size_t)sqlite3_column_bytes(s, 3);
	m->lang = (char *)sqlite3_column_text(s, 4);
	m->tz = (char *)sqlite3_column_text(s, 5);
	m->digest = sqlite3_column_text(s, 6) != NULL &&
	    strcmp((const char *)sqlite3_column_text(s, 6), "digest") == 0;
	m->how = (char *)sqlite3_column_text(s, 7);
	m->ref = (char *)sqlite3_column_text(s, 8);
	m->consented = sqlite3_column_int64(s, 9);
	m->created = sqlite3_column_int64(s, 10);
	m->updated = sqlite3_column_int64(s, 11);
}

static char *
member_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

int
store_member_get(struct store *st, const char *list, const char *address,
    struct store_member *out)
{
	sqlite3_stmt *s = member_stmt(st, M_GET);
	struct store_member b;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	bind_text(s, 2, address);
	if ((rc = store_row(st, s, "member get")) != 0)
		return rc;
	member_borrow(s, &b);
	out->list = member_dup(b.list);
	out->address = member_dup(b.address);
	out->name = member_dup(b.name);
	out->fields = col_blob(s, 3, &out->fields_len);
	out->lang = member_dup(b.lang);
	out->tz = member_dup(b.tz);
	out->digest = b.digest;
	out->how = member_dup(b.how);
	out->ref = member_dup(b.ref);
	out->consented = b.consented;
	out->created = b.created;
	out->updated = b.updated;
	sqlite3_reset(s);
	return 0;
}

static int
member_same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* A confirmation (by mail, on the web) is a consent of its own; an import is not. */
static int
member_confirms(const struct store_member *m)
{
	return strcmp(m->how, "import") != 0;
}

/* 1 when writing m over cur would change nothing. */
static int
member_same(const struct store_member *cur, const struct store_member *m)
{
	return member_same_str(cur->name, m->name) && member_same_str(cur->lang, m->lang) &&
	    member_same_str(cur->tz, m->tz) && cur->digest == m->digest &&
	    cur->fields_len == m->fields_len &&
	    (m->fields_len == 0 || memcmp(cur->fields, m->fields, m->fields_len) == 0) &&
	    !member_confirms(m);
}

static void
member_bind(sqlite3_stmt *s, const struct store_member *m, const struct store_member *consent,
    long long now)
{
	bind_text(s, 1, m->list);
	bind_text(s, 2, m->address);
	bind_text(s, 3, m->name);
	bind_blob(s, 4, m->fields_len ? m->fields : NULL, m->fields_len);
	bind_text(s, 5, m->lang);
	bind_text(s, 6, m->tz);
	bind_text(s, 7, m->digest ? "digest" : "each");
	bind_text(s, 8, consent->how);
	bind_text(s, 9, consent->ref ? consent->ref : "");
	bind_int(s, 10, consent->consented);
	bind_int(s, 11, now);
}

int
store_member_put(struct store *st, const struct store_member *m, long long now,
    enum store_change *change)
{
	struct store_member cur;
	sqlite3_stmt *s;
	int found, rc;

	*change = STORE_SAME;
	if (m->how == NULL || (strcmp(m->how, "import") != 0 && strcmp(m->how, "mail") != 0 &&
	    strcmp(m->how, "web") != 0))
		fatalx("store: member %s: how '%s' is none of import, mail, web", m->address,
		    m->how ? m->how : "(null)");
	if ((found = store_member_get(st, m->list, m->address, &cur)) == -1)
		return -1;
	if (found == 0 && member_same(&cur, m)) {
		store_member_clear(&cur);
		return 0;
	}
	s = member_stmt(st, found == 0 ? M_UPDATE : M_INSERT);
	if (s == NULL) {
		store_member_clear(&cur);
		return -1;
	}
	/* An import never replaces how someone joined. */
	member_bind(s, m, found == 0 && !member_confirms(m) ? &cur : m, now);
	rc = store_run(st, s, found == 0 ? "member update" : "member add");
	store_member_clear(&cur);
	if (rc == 0)
		*change = found == 0 ? STORE_UPDATED : STORE_ADDED;
	return rc;
}

int
store_member_remove(struct store *st, const char *list, const char *address)
{
	sqlite3_stmt *s = member_stmt(st, M_REMOVE);

	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	bind_text(s, 2, address);
	if (store_run(st, s, "member remove") == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}

int
store_member_count(struct store *st, const char *list, size_t *n)
{
	sqlite3_stmt *s = member_stmt(st, M_COUNT);
	long long v;

	*n = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	if ((v = store_int(st, s, 0, "member count")) < 0)
		return -1;
	*n = (size_t)v;
	return 0;
}

static int
store_bump(struct store *st, const char *name, const char *label, long long n)
{
	sqlite3_stmt *s;

	if (n == 0)
		return 0;
	if ((s = metric_stmt(st, C_BUMP)) == NULL)
		return -1;
	bind_text(s, 1, name);
	bind_text(s, 2, label);
	bind_int(s, 3, n);
	return store_run(st, s, "count");
}

/* reply_class NULL: the row never reached the relay, so there was no reply to count. */
static int
store_bump_outcome(struct store *st, enum dstate state, const char *reply_class)
{
	sqlite3_stmt *s;

	if (reply_class == NULL)
		return store_bump(st, "deliveries", dstate_names[state], 1);
	if ((s = metric_stmt(st, C_BUMP2)) == NULL)
		return -1;
	bind_text(s, 1, dstate_names[state]);
	bind_text(s, 2, reply_class);
	return store_run(st, s, "count");
}

int
store_count(struct store *st, const char *name, const char *label, long long n)
{
	int own, rc;

	if (n < 0)
		fatalx("store: counter %s/%s would go down by %lld", name, label, -n);
	if (store_own_begin(st, &own) < 0)
		return -1;
	rc = store_bump(st, name, label, n);
	return store_own_end(st, own, rc);
}

void
store_counters_free(struct store_counter *c, size_t n)
{
	size_t i;

	for (i = 0; c != NULL && i < n; i++) {
		free(c[i].name);
		free(c[i].label);
	}
	free(c);
}

int
store_counters(struct store *st, struct store_counter **out, size_t *n)
{
	sqlite3_stmt *s = metric_stmt(st, C_COUNTERS);
	struct store_counter *v = NULL;
	size_t cap = 0, count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		v[count].name = col_str(s, 0);
		v[count].label = col_str(s, 1);
		v[count++].value = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_counters_free(v, count);
		return store_fail(st, "counters");
	}
	*out = v;
	*n = count;
	return 0;
}

int
store_member_each(struct store *st, const char *list,
    int (*fn)(void *arg, const struct store_member *m), void *arg)
{
	sqlite3_stmt *s = member_stmt(st, M_EACH);
	struct store_member m;
	int rc;

	if (s == NULL)
		return -1;
	bind_text(s, 1, list);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		member_borrow(s, &m);
		if (fn(arg, &m) != 0) {
			sqlite3_reset(s);
			return 1;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "members");
	return 0;
}

int
store_pending(struct store *st, size_t *queued, size_t *deferred)
{
	sqlite3_stmt *s = metric_stmt(st, C_PENDING);
	const char *state;
	int rc;

	*queued = *deferred = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(s, 0);
		if (state != NULL && strcmp(state, "queued") == 0)
			*queued = (size_t)sqlite3_column_int64(s, 1);
		else
			*deferred = (size_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, "pending");
}

/* ---- joins: asking to subscribe ---- */

/*
 * Version 9: joins, the requests to subscribe, by mail or on the web,
 * each waiting for its confirmation (double opt-in). A row is the
 * request; its token (purpose "j") is mailed to the address, and done is
 * set when the confirmation came. The two indexes count the recent
 * requests of one address and of one web client, for the rate limits.
 */
static const char schema_v9[] =
	"CREATE TABLE joins ("
	" id INTEGER PRIMARY KEY,"
	" list TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" name TEXT,"
	" how TEXT NOT NULL,"
	" client TEXT NOT NULL DEFAULT '',"
	" ref TEXT NOT NULL DEFAULT '',"
	" asked INTEGER NOT NULL,"
	" done INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX joins_address ON joins(address, asked);"
	"CREATE INDEX joins_client ON joins(client, asked) WHERE client <> '';";

static int
migrate_v9(struct store *st)
{
	return store_exec(st, schema_v9, "schema version 9");
}

static const char *const join_sql[J__COUNT] = {
	[J_ADD] =
	    "INSERT INTO joins (list, address, name, how, client, ref, asked)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
	[J_RECENT_ADDR] = "SELECT count(*) FROM joins WHERE address = ?1 AND asked >= ?2",
	[J_RECENT_CLIENT] = "SELECT count(*) FROM joins WHERE client = ?1 AND asked >= ?2"
	    " AND client <> ''",
	[J_GET] = "SELECT id, list, address, name, how, client, ref, asked, done FROM joins"
	    " WHERE id = ?1",
	[J_DONE] = "UPDATE joins SET done = ?2 WHERE id = ?1 AND done = 0",
	[J_UNSUPPRESS] = "DELETE FROM suppressions WHERE address = ?1 AND list = ?2",
	[J_GLOBAL] = "SELECT EXISTS (SELECT 1 FROM suppressions WHERE address = ?1 AND list = '')",
	/*
	 * Every list but ?2 keeps the suppression for every list as its own
	 * (?3 one list named by the caller; the lists the address has
	 * members rows or deliveries in come from J_NARROW_SEEN).
	 */
	[J_NARROW] =
	    "INSERT INTO suppressions (address, list, reason, source, created)"
	    " SELECT address, ?3, reason, source, created FROM suppressions"
	    " WHERE address = ?1 AND list = '' AND ?3 <> ?2 AND ?3 <> ''"
	    " ON CONFLICT (address, list) DO NOTHING",
	[J_NARROW_SEEN] =
	    "SELECT list FROM members WHERE address = ?1"
	    " UNION SELECT list FROM deliveries WHERE address = ?1 AND list IS NOT NULL",
};

static sqlite3_stmt *
join_stmt(struct store *st, enum jid id)
{
	if (st->jstmt[id] == NULL && sqlite3_prepare_v3(st->db, join_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->jstmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "prepare");
		st->jstmt[id] = NULL;
	}
	return st->jstmt[id];
}

void
store_join_clear(struct store_join *j)
{
	if (j == NULL)
		return;
	free(j->list);
	free(j->address);
	free(j->name);
	free(j->how);
	free(j->client);
	free(j->ref);
	memset(j, 0, sizeof(*j));
}

int
store_join_add(struct store *st, const struct store_join *j, long long now, long long *id)
{
	sqlite3_stmt *s = join_stmt(st, J_ADD);

	*id = 0;
	if (s == NULL)
		return -1;
	if (strcmp(j->how, "mail") != 0 && strcmp(j->how, "web") != 0)
		fatalx("store: a join asked by '%s'", j->how);
	bind_text(s, 1, j->list);
	bind_text(s, 2, j->address);
	bind_text(s, 3, j->name);
	bind_text(s, 4, j->how);
	bind_text(s, 5, j->client ? j->client : "");
	bind_text(s, 6, j->ref ? j->ref : "");
	bind_int(s, 7, now);
	*id = store_int(st, s, 0, "join add");
	return *id > 0 ? 0 : -1;
}

int
store_join_recent(struct store *st, const char *address, const char *client, long long since,
    size_t *by_address, size_t *by_client)
{
	sqlite3_stmt *s = join_stmt(st, J_RECENT_ADDR);
	long long n;

	*by_address = *by_client = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_int(s, 2, since);
	if ((n = store_int(st, s, 0, "joins recent")) < 0)
		return -1;
	*by_address = (size_t)n;
	if (client == NULL || client[0] == '\0')
		return 0;
	if ((s = join_stmt(st, J_RECENT_CLIENT)) == NULL)
		return -1;
	bind_text(s, 1, client);
	bind_int(s, 2, since);
	if ((n = store_int(st, s, 0, "joins recent")) < 0)
		return -1;
	*by_client = (size_t)n;
	return 0;
}

int
store_join_get(struct store *st, long long id, struct store_join *out)
{
	sqlite3_stmt *s = join_stmt(st, J_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	bind_int(s, 1, id);
	if ((rc = store_row(st, s, "join get")) != 0)
		return rc;
	out->id = sqlite3_column_int64(s, 0);
	out->list = col_str(s, 1);
	out->address = col_str(s, 2);
	out->name = col_str(s, 3);
	out->how = col_str(s, 4);
	out->client = col_str(s, 5);
	out->ref = col_str(s, 6);
	out->asked = sqlite3_column_int64(s, 7);
	out->done = sqlite3_column_int64(s, 8);
	sqlite3_reset(s);
	return 0;
}

int
store_join_done(struct store *st, long long id, long long now)
{
	sqlite3_stmt *s = join_stmt(st, J_DONE);

	if (s == NULL)
		return -1;
	bind_int(s, 1, id);
	bind_int(s, 2, now > 0 ? now : 1);
	if (store_run(st, s, "join done") < 0)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}

/* The suppression for every list becomes one for list l, unless l is keep. */
static int
join_narrow_one(struct store *st, const char *address, const char *keep, const char *l)
{
	sqlite3_stmt *s = join_stmt(st, J_NARROW);

	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_text(s, 2, keep);
	bind_text(s, 3, l);
	return store_run(st, s, "join narrow");
}

int
store_readmit(struct store *st, const char *address, const char *list,
    const char *const *others, size_t n, int *lifted)
{
	sqlite3_stmt *s = join_stmt(st, J_UNSUPPRESS);
	char **seen = NULL;
	size_t i, nseen = 0, cap = 0;
	int rc, global;

	*lifted = 0;
	if (s == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_text(s, 2, list);
	if (store_run(st, s, "readmit") < 0)
		return -1;
	*lifted = sqlite3_changes(st->db) > 0;
	if ((s = join_stmt(st, J_GLOBAL)) == NULL)
		return -1;
	bind_text(s, 1, address);
	if ((global = (int)store_int(st, s, 0, "readmit")) <= 0)
		return global;
	/* Collected first: the inserts below would change what the query reads. */
	if ((s = join_stmt(st, J_NARROW_SEEN)) == NULL)
		return -1;
	bind_text(s, 1, address);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		seen = xgrow(seen, &cap, nseen + 1, sizeof(*seen));
		seen[nseen++] = col_str(s, 0);
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : store_fail(st, "readmit");
	for (i = 0; rc == 0 && i < nseen; i++)
		rc = join_narrow_one(st, address, list, seen[i]);
	for (i = 0; rc == 0 && i < n; i++)
		rc = join_narrow_one(st, address, list, others[i]);
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	if (rc < 0)
		return -1;
	if ((s = join_stmt(st, J_UNSUPPRESS)) == NULL)
		return -1;
	bind_text(s, 1, address);
	bind_text(s, 2, "");
	if (store_run(st, s, "readmit") < 0)
		return -1;
	*lifted = 1;
	return 0;
}
