/*
 * t_store.c - the journal's contract (store.h), as a conformance suite run
 * against each backend in backends[] (today SQLite): releases,
 * deliveries, the state machine (illegal moves abort in a child), claims
 * from two handles and two processes, leases (expiry, renewal, reclaim,
 * named leases), suppressions, reports, counters; and a benchmark of the
 * send loop's transaction, printed as a diagnostic. Then what is SQLite's
 * own: the file, WAL, versions and migrations, and flock(2) as the proof
 * that a lease's holder is gone.
 *
 * A forked child never uses a store handle opened before the fork: SQLite
 * forbids it, so the parent closes its handle first and reopens after.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tap.h"

#include "store.h"
#include "util.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ABCD "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"

static char tmpdir[] = "/tmp/t_store.XXXXXX";
static char *db_path, *owner_dir, *reclaim_path;

/*
 * A backend: its name and where a test's fresh journal is (a location as
 * `state:` names it). A backend is added here and runs every test of
 * conformance().
 */
struct backend {
	const char *name;
	char *(*location)(const char *test);
};

static char *
sqlite_location(const char *test)
{
	return xasprintf("%s/%s.db", tmpdir, test);
}

static const struct backend backends[] = {
	{ "sqlite", sqlite_location },
};

static const struct backend *be;	/* the backend under test */

static char *
location(const char *test)
{
	return be->location(test);
}

/* ---- helpers ---- */

static struct store *
open_store(const char *path)
{
	struct store *st;
	char err[512];

	if (store_open(path, &st, err, sizeof(err)) < 0)
		fatalx("open %s: %s", path, err);
	return st;
}

static long long
new_release(struct store *st, const char *id, long long now)
{
	struct store_release r = { 0 };
	long long rowid = 0;

	r.release_id = (char *)id;
	r.snapshot = (char *)"title: test\n";
	r.snapshot_len = strlen(r.snapshot);
	r.lists = (char *)"press";
	r.state = RS_SENDING;
	if (store_release_put(st, &r, now, &rowid) < 0)
		fatalx("release put: %s", store_error(st));
	return rowid;
}

/* Adds n queued rows "prefix<i>@example.org" in one transaction. */
static void
add_rows(struct store *st, long long rel, const char *prefix, int n)
{
	char addr[64];
	int i;

	if (store_begin(st) < 0)
		fatalx("begin: %s", store_error(st));
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "%s%d@example.org", prefix, i);
		if (store_delivery_add(st, rel, addr, "press", NULL, 0, DS_QUEUED, NULL, 1) != 0)
			fatalx("delivery add: %s", store_error(st));
	}
	if (store_commit(st) < 0)
		fatalx("commit: %s", store_error(st));
}

/* "queued:6 sent:1" - the non-zero counts in state order. */
static const char *
counts_str(struct store *st, long long rel)
{
	static char out[256];
	size_t c[DS__COUNT], len = 0;
	int i;

	if (store_counts(st, rel, c) < 0)
		return store_error(st);
	out[0] = '\0';
	for (i = 0; i < DS__COUNT; i++)
		if (c[i] > 0)
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s:%zu",
			    len ? " " : "", store_dstate_name((enum dstate)i), c[i]);
	return out;
}

static int
cmp_row(const void *a, const void *b)
{
	const struct store_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Claims up to max rows, sorted by id (RETURNING promises no order). */
static size_t
claim(struct store *st, long long rel, const char *owner, long long now, size_t max,
    struct store_row *rows)
{
	size_t got = 0;

	if (store_claim(st, rel, owner, now, max, rows, &got) < 0)
		fatalx("claim: %s", store_error(st));
	qsort(rows, got, sizeof(rows[0]), cmp_row);
	return got;
}

static void
clear_rows(struct store_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_row_clear(&rows[i]);
}

static void
done(struct store *st, long long row, enum dstate s, int code, const char *enh,
    const char *text, long long next, long long now)
{
	struct store_outcome o = { s, code, enh, text, NULL, next, 0 };

	if (store_delivery_done(st, row, &o, now) < 0)
		fatalx("done: %s", store_error(st));
}

static int
file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static char *
lock_path(const char *owner)
{
	return xasprintf("%s/%s.lock", owner_dir, owner);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
raw_sql(const char *path, const char *sql)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fatalx("%s: %s", path, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* ---- schema ---- */

static void
test_open(void)
{
	char *other = xasprintf("%s/other.db", tmpdir);
	char *future = xasprintf("%s/future.db", tmpdir);
	char *wal = xasprintf("%s-wal", db_path);
	char err[512];
	struct store *st;
	struct stat sb;

	st = open_store(db_path);
	is_int(store_schema_version(st), 10, "a new journal is at schema version 10");
	ok(stat(tmpdir, &sb) == 0 && file_exists(db_path), "the journal file exists");
	new_release(st, "open-test", 1);
	ok(file_exists(wal), "the journal is in WAL mode (a -wal file beside it)");
	store_close(st);
	st = open_store(db_path);
	is_int(store_schema_version(st), 10, "reopened, the version is kept");
	store_close(st);

	st = open_store(future);
	store_close(st);
	raw_sql(future, "PRAGMA user_version = 99");
	is_int(store_open(future, &st, err, sizeof(err)), -1, "a newer schema is refused");
	ok(strstr(err, "newer") != NULL && strstr(err, "99") != NULL, "and says so: %s", err);
	ok(st == NULL, "no handle on failure");

	raw_sql(other, "PRAGMA application_id = 7; CREATE TABLE t (x)");
	is_int(store_open(other, &st, err, sizeof(err)), -1,
	    "another program's database is refused");
	ok(strstr(err, "not a herald journal") != NULL, "and says so: %s", err);
	free(other);
	free(future);
	free(wal);
}

static void
test_parent_dir(void)
{
	char *path = xasprintf("%s/state/journal.db", tmpdir);
	char *dir = xasprintf("%s/state", tmpdir);
	struct store *st = open_store(path);
	struct stat sb;

	ok(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700,
	    "the parent directory is created 0700");
	store_close(st);
	free(path);
	free(dir);
}

/* ---- releases ---- */

static void
test_release_put_get(struct store *st)
{
	struct store_release r = { 0 }, got;
	long long id1 = 0, id2 = 0;

	r.release_id = (char *)"ogp-2017";
	r.file = (char *)"releases/ogp-2017.yaml";
	r.snapshot = (char *)"abc";
	r.snapshot_len = 3;
	r.lists = (char *)"press partners";
	r.scheduled_at = 5000;
	r.state = RS_SCHEDULED;
	is_int(store_release_put(st, &r, 100, &id1), 0, "release put");
	ok(id1 > 0, "it has a row id");
	is_int(store_release_get(st, "ogp-2017", &got), 0, "release get");
	is_int(got.id, id1, "same row id");
	is_str(got.file, "releases/ogp-2017.yaml", "file");
	ok(got.snapshot_len == 3 && memcmp(got.snapshot, "abc", 4) == 0,
	    "snapshot, NUL-terminated");
	is_str(got.hash, SHA_ABC, "hash: SHA-256 of the snapshot");
	is_str(got.lists, "press partners", "lists");
	is_int(got.scheduled_at, 5000, "scheduled_at");
	is_str(store_rstate_name(got.state), "scheduled", "state");
	ok(got.created == 100 && got.updated == 100, "created, updated");
	store_release_clear(&got);
	is_int(store_release_get(st, "nope", &got), 1, "an unknown release is not found");

	r.snapshot = (char *)"abcd";
	r.snapshot_len = 4;
	r.lists = (char *)"press";
	r.scheduled_at = 6000;
	is_int(store_release_put(st, &r, 200, &id2), 0, "put again, no rows yet");
	is_int(id2, id1, "same row");
	store_release_get(st, "ogp-2017", &got);
	ok(got.snapshot_len == 4 && strcmp(got.snapshot, "abcd") == 0, "snapshot replaced");
	is_str(got.hash, SHA_ABCD, "hash follows");
	is_str(got.lists, "press", "lists replaced");
	ok(got.scheduled_at == 6000 && got.created == 100 && got.updated == 200,
	    "time replaced, created kept");
	store_release_clear(&got);

	is_int(store_delivery_add(st, id1, "a@example.org", "press", NULL, 0, DS_QUEUED,
	    NULL, 250), 0, "a delivery row");
	r.snapshot = (char *)"xyz";
	r.snapshot_len = 3;
	r.lists = (char *)"other";
	r.file = (char *)"elsewhere.yaml";
	r.scheduled_at = 7000;
	r.state = RS_CANCELLED;
	is_int(store_release_put(st, &r, 300, &id2), 0, "put again, with rows");
	is_int(id2, id1, "same row");
	store_release_get(st, "ogp-2017", &got);
	ok(strcmp(got.snapshot, "abcd") == 0 && strcmp(got.hash, SHA_ABCD) == 0,
	    "snapshot and hash frozen by the rows");
	ok(strcmp(got.lists, "press") == 0 && strcmp(got.file, "releases/ogp-2017.yaml") == 0,
	    "lists and file frozen");
	ok(got.scheduled_at == 7000 && got.state == RS_CANCELLED, "time and state changed");
	store_release_clear(&got);

	r.release_id = (char *)"given-hash";
	r.hash = (char *)"feed";
	store_release_put(st, &r, 300, &id2);
	store_release_get(st, "given-hash", &got);
	is_str(got.hash, "feed", "a hash given by the caller is kept");
	store_release_clear(&got);
}

static void
test_release_due_list(struct store *st)
{
	struct store_release r = { 0 }, *all;
	long long *ids, b = 0, c = 0, ogp;
	size_t n;

	r.release_id = (char *)"b";
	r.scheduled_at = 3000;
	r.state = RS_SCHEDULED;
	store_release_put(st, &r, 400, &b);
	r.release_id = (char *)"c";
	r.scheduled_at = 9000;
	store_release_put(st, &r, 500, &c);
	is_int(store_release_due(st, 6500, &ids, &n), 0, "releases due");
	ok(n == 1 && ids[0] == b, "only the scheduled one whose time has come");
	free(ids);
	store_release_get(st, "ogp-2017", &r);
	ogp = r.id;
	store_release_clear(&r);
	is_int(store_release_set_state(st, ogp, RS_SCHEDULED, 600), 0, "set state");
	store_release_due(st, 7500, &ids, &n);
	ok(n == 2 && ids[0] == b && ids[1] == ogp, "oldest first");
	free(ids);
	is_int(store_release_set_state(st, 999999, RS_DONE, 600), 1,
	    "set state of a missing release: 1");
	is_int(store_release_list(st, &all, &n), 0, "release list");
	ok(n == 4 && strcmp(all[0].release_id, "c") == 0 &&
	    strcmp(all[1].release_id, "b") == 0 && strcmp(all[2].release_id, "given-hash") == 0 &&
	    strcmp(all[3].release_id, "ogp-2017") == 0, "newest first");
	while (n > 0)
		store_release_clear(&all[--n]);
	free(all);
}

/* ---- deliveries ---- */

static void
test_delivery_add(struct store *st)
{
	long long rel = new_release(st, "add-test", 1);
	struct store_row row;
	size_t got;

	is_int(store_delivery_add(st, rel, "a@example.org", "press", "F1", 2, DS_QUEUED,
	    NULL, 10), 0, "add");
	is_int(store_delivery_add(st, rel, "a@example.org", "partners", "F2", 2, DS_QUEUED,
	    NULL, 10), 1, "the same address again (other list) is ignored: 1");
	is_int(store_delivery_add(st, rel, "b@example.org", "press", NULL, 0, DS_SKIPPED,
	    "suppressed", 10), 0, "add skipped");
	is_str(counts_str(st, rel), "queued:1 skipped:1", "counts");
	is_int(store_delivery_add(st, 999999, "c@example.org", "press", NULL, 0, DS_QUEUED,
	    NULL, 10), -1, "a row for a missing release fails");
	ok(strstr(store_error(st), "FOREIGN KEY") != NULL, "store_error: %s", store_error(st));
	got = claim(st, rel, "me", 20, 1, &row);
	is_int((long long)got, 1, "claim the row");
	ok(strcmp(row.address, "a@example.org") == 0 && strcmp(row.list, "press") == 0,
	    "address and first list");
	ok(row.fields_len == 2 && memcmp(row.fields, "F1", 2) == 0, "fields blob");
	ok(row.attempts == 0 && row.first_attempt == 0, "never tried");
	store_row_clear(&row);
}

static void
test_suppressions(struct store *st)
{
	struct store_suppression *s;
	size_t n;

	is_int(store_suppress(st, "a@example.org", "press", "unsubscribed", "imap", 5), 0,
	    "suppress for one list");
	is_int(store_is_suppressed(st, "a@example.org", "press"), 1, "suppressed there");
	is_int(store_is_suppressed(st, "a@example.org", "other"), 0, "not for another list");
	is_int(store_is_suppressed(st, "a@example.org", NULL), 0, "not for every list");
	is_int(store_suppress(st, "b@example.org", NULL, "hard-bounce", "dsn", 6), 0,
	    "suppress for every list");
	is_int(store_is_suppressed(st, "b@example.org", "press"), 1, "suppressed for press");
	is_int(store_is_suppressed(st, "b@example.org", "other"), 1, "and for other");
	is_int(store_suppress(st, "b@example.org", NULL, "manual", "cli", 7), 0,
	    "suppress again: fine");
	is_int(store_suppressions(st, &s, &n), 0, "list suppressions");
	ok(n == 2, "no duplicate for every list (NULL)");
	ok(n == 2 && strcmp(s[0].list, "press") == 0 && s[1].list == NULL, "NULL means every list");
	ok(n == 2 && strcmp(s[1].reason, "hard-bounce") == 0 && s[1].created == 6,
	    "the first suppression is kept");
	store_suppressions_free(s, n);
	is_int(store_unsuppress(st, "a@example.org", "press"), 0, "unsuppress");
	is_int(store_unsuppress(st, "a@example.org", "press"), 1, "there was none: 1");
	is_int(store_is_suppressed(st, "a@example.org", "press"), 0, "no longer suppressed");
	is_int(store_unsuppress(st, "b@example.org", NULL), 0, "unsuppress every list");
	is_int(store_is_suppressed(st, "b@example.org", "press"), 0, "gone");
}

static void
test_claim_due(struct store *st)
{
	long long rel = new_release(st, "claim-test", 1), when;
	struct store_row rows[16];
	size_t got;

	add_rows(st, rel, "r", 10);
	got = claim(st, rel, "me", 1000, 4, rows);
	is_int((long long)got, 4, "claim respects max");
	ok(strcmp(rows[0].address, "r0@example.org") == 0 &&
	    strcmp(rows[3].address, "r3@example.org") == 0, "in the order added");
	is_str(counts_str(st, rel), "queued:6 sending:4", "claimed rows are sending");
	done(st, rows[0].id, DS_SENT, 250, "2.0.0", "ok queued as X", 0, 1000);
	done(st, rows[1].id, DS_DEFERRED, 450, "4.2.2", "mailbox full", 1100, 1000);
	done(st, rows[2].id, DS_DEFERRED, 451, NULL, "try later", 2000, 1000);
	done(st, rows[3].id, DS_FAILED, 550, "5.1.1", "no such user", 0, 1000);
	is_str(counts_str(st, rel), "queued:6 sent:1 deferred:2 failed:1",
	    "sent, deferred, failed");
	store_next_attempt(st, rel, &when);
	is_int(when, 1100, "next attempt: the earliest deferred");
	clear_rows(rows, got);

	is_int((long long)claim(st, rel, "me", 1050, 0, rows), 0, "max 0 claims nothing");
	got = claim(st, rel, "me", 1050, 16, rows);
	is_int((long long)got, 6, "before their time, deferred rows are not claimed");
	is_int(store_delivery_release(st, rows[5].id, 1060), 0, "release one: sending -> queued");
	is_str(counts_str(st, rel), "queued:1 sending:5 sent:1 deferred:2 failed:1", "counts");
	clear_rows(rows, got);
	got = claim(st, rel, "me", 1100, 16, rows);
	is_int((long long)got, 2, "at its time the deferred row comes back, with the released one");
	ok(got == 2 && rows[0].attempts == 1 && rows[0].first_attempt == 1000,
	    "the retry knows its attempts and first attempt");
	ok(got == 2 && rows[1].attempts == 0, "release kept attempts at 0");
	is_int((long long)claim(st, rel, "me", 1100, 16, rows + 2), 0, "nothing else is due");
	done(st, rows[0].id, DS_DEFERRED, 450, "4.2.2", "still full", 3000, 1200);
	clear_rows(rows, got);
	got = claim(st, rel, "me", 3000, 16, rows);
	is_int((long long)got, 2, "both deferred rows are due at 3000");
	ok(got == 2 && rows[0].attempts == 2 && rows[0].first_attempt == 1000,
	    "attempts 2, first attempt kept");
	clear_rows(rows, got);
}

/* Rows that wait for their time (the lift, a reader's local time) and the pre-briefing's wave. */
static void
test_due_waves(struct store *st)
{
	long long rel = new_release(st, "waves", 1), when = 0;
	struct store_row rows[8];
	struct store_wave w[2];
	char **ids = NULL;
	size_t got, n = 0, i;

	store_release_set_state(st, rel, RS_SENDING, 1);
	is_int(store_delivery_add_due(st, rel, "early@example.org", "press", NULL, 0, DS_QUEUED,
	    NULL, 0, 1, 1), 0, "an early row, due at once");
	is_int(store_delivery_add_due(st, rel, "lift@example.org", "public", NULL, 0, DS_QUEUED,
	    NULL, 5000, 0, 1), 0, "a row due at the lift");
	is_int(store_delivery_add_due(st, rel, "later@example.org", "public", NULL, 0, DS_QUEUED,
	    NULL, 9000, 0, 1), 0, "a row due later still");
	is_int(store_delivery_add_due(st, rel, "early@example.org", "public", NULL, 0, DS_QUEUED,
	    NULL, 5000, 0, 1), 1, "the same address again is ignored: once, early");
	got = claim(st, rel, "me", 1000, 8, rows);
	ok(got == 1 && strcmp(rows[0].address, "early@example.org") == 0 && rows[0].early == 1,
	    "before the lift only the early row is claimed, and says it is early");
	done(st, rows[0].id, DS_SENT, 250, "2.0.0", "ok", 0, 1000);
	clear_rows(rows, got);
	store_next_attempt(st, rel, &when);
	is_int(when, 5000, "the next row falls due at the lift");
	is_int(store_work_due(st, 4999, &ids, &n), 0, "work due before the lift");
	for (i = 0; i < n; i++)
		ok(strcmp(ids[i], "waves") != 0, "a release whose rows wait is no work yet (%s)", ids[i]);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	ids = NULL;
	is_int(store_next_due(st, &when), 0, "next due");
	ok(when > 0 && when <= 5000, "the daemon wakes by the lift (%lld)", when);
	is_int(store_waves(st, rel, 1000, w), 0, "waves");
	ok(w[1].total == 1 && w[1].sent == 1 && w[1].waiting == 0, "the early wave: 1 of 1 sent");
	ok(w[0].total == 2 && w[0].sent == 0 && w[0].waiting == 2 && w[0].first == 5000 &&
	    w[0].last == 9000, "the public wave: 2 waiting, from 5000 to 9000");
	got = claim(st, rel, "me", 5000, 8, rows);
	ok(got == 1 && strcmp(rows[0].address, "lift@example.org") == 0 && rows[0].early == 0,
	    "at the lift the row due then is claimed");
	/* Given back (a relay that could not be reached): still due, claimed again. */
	store_delivery_release(st, rows[0].id, 5001);
	clear_rows(rows, got);
	got = claim(st, rel, "me", 5002, 8, rows);
	is_int((long long)got, 1, "a row given back stays due");
	clear_rows(rows, got);
	is_int(store_work_due(st, 9000, &ids, &n), 0, "work due at the last time");
	for (i = 0, got = 0; i < n; i++) {
		got += strcmp(ids[i], "waves") == 0;
		free(ids[i]);
	}
	free(ids);
	is_int((long long)got, 1, "then the release is work");
}

static void
test_bounced(struct store *st)
{
	long long rel = new_release(st, "bounce-test", 1);
	struct store_row row;

	add_rows(st, rel, "b", 1);
	claim(st, rel, "me", 10, 1, &row);
	done(st, row.id, DS_SENT, 250, NULL, "ok", 0, 10);
	is_int(store_delivery_bounced(st, row.id, "5.1.1 user unknown (dsn)", 20), 0,
	    "sent -> bounced");
	is_str(counts_str(st, rel), "bounced:1", "counts");
	store_row_clear(&row);
}

/* Soft-bounce scoring: one point a day at most; a stale score starts again. */
static void
test_soft_bounces(struct store *st)
{
	const long long day = 86400, week = 7 * day, t0 = 1000 * day + 3600;
	long long score = -1;

	store_soft_bounce(st, "soft@example.org", t0, week, &score);
	is_int(score, 1, "soft bounce: the first scores 1");
	store_soft_bounce(st, "soft@example.org", t0 + 60, week, &score);
	is_int(score, 1, "soft bounce: a second the same day adds nothing");
	store_soft_bounce(st, "soft@example.org", t0 + day, week, &score);
	is_int(score, 2, "soft bounce: the next day adds one");
	store_soft_bounce(st, "soft@example.org", t0 + 2 * day, week, &score);
	is_int(score, 3, "soft bounce: and the day after");
	store_soft_bounce(st, "soft@example.org", t0 + 2 * day + week + 1, week, &score);
	is_int(score, 1, "soft bounce: after a quiet window the score starts again");
	store_soft_bounce(st, "other@example.org", t0, week, &score);
	is_int(score, 1, "soft bounce: scores are per address");
}

/* The mailbox's records: a UID is acted on once; moves are remembered. */
static void
test_inbound(struct store *st)
{
	struct store_inbound m = { "press@host:993/INBOX", 7, 42, "x@y", "bounce", "", "Herald/Bounces" };
	struct store_unmoved *u;
	unsigned long long uidv, last;
	size_t n;

	is_int(store_mailbox_get(st, m.mailbox, &uidv, &last), 1, "mailbox: never read");
	store_mailbox_set(st, m.mailbox, 7, 50, 1);
	store_mailbox_set(st, m.mailbox, 7, 40, 2);
	store_mailbox_get(st, m.mailbox, &uidv, &last);
	is_int((long long)last, 50, "mailbox: the last UID never goes back");
	store_mailbox_set(st, m.mailbox, 8, 3, 3);
	store_mailbox_get(st, m.mailbox, &uidv, &last);
	ok(uidv == 8 && last == 3, "mailbox: a new UIDVALIDITY starts again");
	is_int(store_inbound_add(st, &m, 1), 0, "inbound: recorded");
	is_int(store_inbound_seen(st, "x@y"), 0, "inbound: not acted on until its action is set");
	m.action = "suppressed";
	store_inbound_action(st, &m);
	is_int(store_inbound_add(st, &m, 1), 1, "inbound: the same UID again is refused");
	is_int(store_inbound_seen(st, "x@y"), 1, "inbound: seen by Message-ID");
	store_inbound_unmoved(st, m.mailbox, 7, &u, &n);
	ok(n == 1 && u[0].uid == 42 && strcmp(u[0].folder, "Herald/Bounces") == 0,
	    "inbound: waiting to be moved");
	store_unmoved_free(u, n);
	store_inbound_moved(st, m.mailbox, 7, 42);
	store_inbound_unmoved(st, m.mailbox, 7, &u, &n);
	is_int((long long)n, 0, "inbound: moved");
	store_unmoved_free(u, n);
}

static void
test_confirm_outbox(struct store *st)
{
	struct store_outmsg *o;
	long long id = 0;
	char *addr = NULL;
	int done = -1;
	size_t n;

	store_confirm_add(st, "ask@example.org", 100, &id);
	ok(id > 0, "confirmation: added");
	is_int(store_confirm_pending(st, "ask@example.org", 50), 1, "confirmation: pending");
	is_int(store_confirm_get(st, id, &addr, &done), 0, "confirmation: found");
	ok(addr && strcmp(addr, "ask@example.org") == 0 && done == 0, "confirmation: address");
	free(addr);
	is_int(store_confirm_done(st, id, 200), 0, "confirmation: done");
	is_int(store_confirm_done(st, id, 201), 1, "confirmation: done only once");
	is_int(store_confirm_pending(st, "ask@example.org", 50), 0, "confirmation: no longer pending");
	store_outbox_add(st, "notice", "b@x", "ask@example.org", "msg", 3, 100);
	store_outbox_due(st, 100, 0, 10, &o, &n);
	ok(n == 1 && o[0].len == 3 && memcmp(o[0].msg, "msg", 3) == 0, "outbox: due");
	store_outbox_done(st, o[0].id, "queued", 500, "451 later", 101);
	store_outmsg_free(o, n);
	store_outbox_due(st, 200, 0, 10, &o, &n);
	is_int((long long)n, 0, "outbox: deferred until its time");
	store_outmsg_free(o, n);
	store_outbox_due(st, 500, 0, 10, &o, &n);
	ok(n == 1 && o[0].attempts == 1, "outbox: due again, one attempt counted");
	store_outbox_done(st, o[0].id, "sent", 0, "250 ok", 501);
	store_outmsg_free(o, n);
	store_outbox_due(st, 1000, 0, 10, &o, &n);
	is_int((long long)n, 0, "outbox: sent is gone");
	store_outmsg_free(o, n);
}

static void
test_two_handles(void)
{
	struct store *a = open_store(db_path), *b = open_store(db_path);
	long long rel = new_release(a, "two-handles", 1), base;
	struct store_row rows[7];
	char seen[500] = { 0 };
	int dup = 0, missing = 0, i, turn = 0, idle = 0;
	size_t got, j;

	add_rows(a, rel, "h", 500);
	claim(a, rel, "probe", 1, 1, rows);
	base = rows[0].id;
	store_delivery_release(a, rows[0].id, 1);
	store_row_clear(&rows[0]);
	while (idle < 2) {
		got = claim(turn ? b : a, rel, turn ? "b" : "a", 5, 7, rows);
		idle = got == 0 ? idle + 1 : 0;
		for (j = 0; j < got; j++) {
			if (rows[j].id - base < 0 || rows[j].id - base >= 500 ||
			    seen[rows[j].id - base]++)
				dup++;
		}
		clear_rows(rows, got);
		turn = !turn;
	}
	for (i = 0; i < 500; i++)
		missing += !seen[i];
	is_int(dup, 0, "two handles: no row claimed twice");
	is_int(missing, 0, "two handles: every row claimed");
	store_close(b);
	store_close(a);
}

/* The send loop's shape: per transaction, the outcomes of the last batch and a new claim. */
static int
claim_loop(struct store *st, long long rel, const char *owner, FILE *ids)
{
	struct store_row rows[5];
	size_t got = 0, j;

	do {
		if (store_begin(st) < 0)
			return -1;
		for (j = 0; j < got; j++) {
			done(st, rows[j].id, DS_SENT, 250, NULL, "ok", 0, 10);
			store_row_clear(&rows[j]);
		}
		if (store_claim(st, rel, owner, 10, 5, rows, &got) < 0 || store_commit(st) < 0)
			return -1;
		for (j = 0; j < got; j++)
			fprintf(ids, "%lld\n", rows[j].id);
		usleep(500);	/* SQLite's busy wait polls: leave it gaps to interleave */
	} while (got > 0);
	return 0;
}

static void
test_fork_claims(void)
{
	struct store *st = open_store(db_path);
	long long rel = new_release(st, "fork-claims", 1), id, lo, hi;
	char *child_ids = xasprintf("%s/child.ids", tmpdir), *seen, go;
	int gate[2], ready[2], status, dup = 0, missing = 0, mine = 0, theirs = 0;
	FILE *f, *mem;
	char *buf = NULL;
	size_t len = 0, i;
	pid_t pid;

	add_rows(st, rel, "f", 3000);
	store_close(st);
	if (pipe(gate) < 0 || pipe(ready) < 0)
		fatalx("pipe");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(gate[1]);
		st = open_store(db_path);
		f = fopen(child_ids, "w");
		if (write(ready[1], "r", 1) != 1 || read(gate[0], &go, 1) != 1 || f == NULL ||
		    claim_loop(st, rel, "child", f) < 0)
			_exit(1);
		fclose(f);
		store_close(st);
		_exit(0);
	}
	close(gate[0]);
	st = open_store(db_path);
	mem = open_memstream(&buf, &len);
	if (read(ready[0], &go, 1) != 1 || write(gate[1], "g", 1) != 1 ||
	    claim_loop(st, rel, "parent", mem) < 0)
		fatalx("parent claim loop: %s", store_error(st));
	store_close(st);
	fclose(mem);
	close(gate[1]);
	close(ready[0]);
	close(ready[1]);
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) && WEXITSTATUS(status) == 0, 1, "the child's claims went well");

	lo = LLONG_MAX;
	hi = 0;
	seen = xcalloc(1, 1 << 20);
	f = fopen(child_ids, "r");
	for (i = 0; i < 2; i++) {
		FILE *in = i == 0 ? fmemopen(buf, len + 1, "r") : f;
		while (in != NULL && fscanf(in, "%lld", &id) == 1) {
			if (id < 0 || id >= (1 << 20) || seen[id]++)
				dup++;
			lo = id < lo ? id : lo;
			hi = id > hi ? id : hi;
			*(i == 0 ? &mine : &theirs) += 1;
		}
		if (in != NULL)
			fclose(in);
	}
	for (id = lo; id <= hi && id < (1 << 20); id++)
		missing += !seen[id];
	is_int(dup, 0, "parent and child: no row claimed twice");
	is_int(mine + theirs, 3000, "parent and child: every row claimed");
	is_int(hi - lo + 1, 3000, "and nothing else");
	is_int(missing, 0, "no gap between the first and last ids");
	ok(mine > 0 && theirs > 0, "both processes claimed rows (parent %d, child %d)", mine,
	    theirs);
	st = open_store(db_path);
	is_str(counts_str(st, rel), "sent:3000", "all sent");
	store_close(st);
	free(seen);
	free(buf);
	free(child_ids);
}

/* ---- illegal moves ---- */

enum move { MV_DONE, MV_RELEASE, MV_BOUNCED, MV_BAD_OUTCOME };

/* Runs the move in a child with stderr in a file; 1 when it aborted saying `want`. */
static int
aborts(enum move mv, long long row, const char *want)
{
	char *errfile = xasprintf("%s/child.err", tmpdir), *text = NULL;
	struct store_outcome o = { DS_SENT, 250, NULL, "ok", NULL, 0, 0 };
	size_t len;
	int status, fd, found;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct store *st;
		fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		st = open_store(db_path);
		if (mv == MV_BAD_OUTCOME)
			o.state = DS_QUEUED;
		if (mv == MV_DONE || mv == MV_BAD_OUTCOME)
			store_delivery_done(st, row, &o, 50);
		else if (mv == MV_RELEASE)
			store_delivery_release(st, row, 50);
		else
			store_delivery_bounced(st, row, "bounce", 50);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (util_read_file(errfile, &text, &len) < 0)
		text = xstrdup("");
	found = strstr(text, want) != NULL;
	if (!found)
		tap_diag("child said: %s", text);
	free(text);
	free(errfile);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && found;
}

static void
test_illegal(void)
{
	struct store *st = open_store(db_path);
	long long rel = new_release(st, "illegal", 1), queued, sent, failed, sending;
	struct store_row rows[4];

	add_rows(st, rel, "i", 4);
	claim(st, rel, "me", 10, 3, rows);
	sent = rows[0].id;
	failed = rows[1].id;
	sending = rows[2].id;
	queued = rows[2].id + 1;
	done(st, sent, DS_SENT, 250, NULL, "ok", 0, 10);
	done(st, failed, DS_FAILED, 550, NULL, "no", 0, 10);
	clear_rows(rows, 3);
	store_close(st);

	ok(aborts(MV_DONE, queued, "illegal move sending -> sent: the row is queued"),
	    "done on a queued row aborts");
	ok(aborts(MV_DONE, sent, "the row is sent"), "done twice aborts");
	ok(aborts(MV_RELEASE, failed, "illegal move sending -> queued: the row is failed"),
	    "release of a failed row aborts");
	ok(aborts(MV_BOUNCED, failed, "illegal move sent -> bounced: the row is failed"),
	    "bounce of a failed row aborts");
	ok(aborts(MV_DONE, 999999, "the row is missing"), "done on a missing row aborts");
	ok(aborts(MV_BAD_OUTCOME, sending, "is not sent, deferred or failed"),
	    "an outcome that is not final aborts");
	st = open_store(db_path);
	is_str(counts_str(st, rel), "queued:1 sending:1 sent:1 failed:1",
	    "nothing changed");
	store_close(st);
}

/* ---- owners ---- */

static int
owner_format_ok(const char *owner)
{
	char mid[32];
	const char *hex = strrchr(owner, '-');
	size_t i;

	snprintf(mid, sizeof(mid), "-%ld-", (long)getpid());
	if (hex == NULL || strlen(hex + 1) != 16 || strstr(owner, mid) == NULL)
		return 0;
	for (i = 1; hex[i]; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return 0;
	return owner[0] != '-';
}

/*
 * A child that takes an owner lease at time 10, claims n rows, reports its
 * owner on `out`, then waits until the parent closes the pipe hold (when
 * hold is not NULL), and dies without a word: a crash.
 */
static pid_t
spawn_owner(long long rel, size_t n, int out, const int *hold)
{
	struct store_row rows[8];
	struct store_lease *l;
	char owner[128];
	struct store *st;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) != 0)
		return pid;
	st = open_store(reclaim_path);
	if (store_lease_take(st, NULL, 10, &l, NULL) != 0)
		_exit(1);
	snprintf(owner, sizeof(owner), "%s", store_lease_owner(l));
	if (claim(st, rel, owner, 10, n, rows) != n)
		_exit(2);
	if (write(out, owner, strlen(owner) + 1) < 0)
		_exit(3);
	if (hold != NULL) {
		close(hold[1]);
		while (read(hold[0], owner, 1) > 0)
			;
	}
	_exit(0);	/* no store_lease_drop, no store_close: a crash */
}

static void
read_owner(int fd, char *owner, size_t len)
{
	size_t i = 0;

	while (i + 1 < len && read(fd, &owner[i], 1) == 1 && owner[i] != '\0')
		i++;
	owner[i] = '\0';
}

/*
 * SQLite's proof of death: a crashed owner's rows come back at the next
 * reclaim, long before its lease would lapse, because its lock file is
 * no longer locked; a living one's stay.
 */
static void
test_reclaim(void)
{
	char me[128], dead[128], alive[128], *path, *stale;
	struct store_row rows[4];
	struct store_lease *mine;
	int fd, p1[2], p2[2], hold[2], status;
	struct store *st = open_store(reclaim_path);
	long long rel = new_release(st, "reclaim", 1);
	pid_t a, b;
	size_t n;

	add_rows(st, rel, "o", 20);
	is_int(store_lease_take(st, NULL, 10, &mine, NULL), 0, "take an owner lease");
	snprintf(me, sizeof(me), "%s", store_lease_owner(mine));
	ok(owner_format_ok(me), "owner is host-pid-hex: %s", me);
	path = lock_path(me);
	ok(file_exists(path), "its lock file exists");
	fd = open(path, O_RDWR);
	ok(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK,
	    "our own lock conflicts with a second open in this process");
	close(fd);
	free(path);
	is_int((long long)claim(st, rel, me, 10, 3, rows), 3, "this process claims 3 rows");
	clear_rows(rows, 3);
	store_close(st);

	if (pipe(p1) < 0 || pipe(p2) < 0 || pipe(hold) < 0)
		fatalx("pipe");
	a = spawn_owner(rel, 4, p1[1], NULL);
	read_owner(p1[0], dead, sizeof(dead));
	waitpid(a, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0, "a child claimed 4 rows and died");
	b = spawn_owner(rel, 2, p2[1], hold);
	close(hold[0]);
	read_owner(p2[0], alive, sizeof(alive));
	ok(alive[0] != '\0', "another child claimed 2 rows and lives");

	st = open_store(reclaim_path);
	claim(st, rel, "ghost-1-00", 10, 1, rows);
	store_row_clear(&rows[0]);
	stale = xasprintf("%s/stale-1-ab.lock", owner_dir);
	fd = open(stale, O_RDWR | O_CREAT, 0600);
	close(fd);
	is_str(counts_str(st, rel), "queued:10 sending:10", "10 rows in flight");
	is_int(store_reclaim(st, 11, &n), 0, "reclaim, every lease still current");
	is_int((long long)n, 5, "the dead child's 4 rows and the ghost's (no lease) 1 come back");
	is_str(counts_str(st, rel), "queued:15 sending:5", "ours and the living child's stay");
	path = lock_path(dead);
	ok(!file_exists(path), "the dead owner's lock file is removed");
	free(path);
	ok(!file_exists(stale), "a stale lock file without rows is swept");
	path = lock_path(me);
	ok(file_exists(path), "ours is kept");
	free(path);
	is_int(store_reclaim(st, 11, &n), 0, "reclaim again");
	is_int((long long)n, 0, "nothing more");

	close(hold[1]);
	waitpid(b, &status, 0);
	store_reclaim(st, 11, &n);
	is_int((long long)n, 2, "once the other child exits, its rows come back");
	path = lock_path(alive);
	ok(!file_exists(path), "and its lock file goes");
	free(path);

	path = lock_path(me);
	store_lease_drop(st, mine);
	ok(!file_exists(path), "dropping the lease removes our lock file");
	free(path);
	store_reclaim(st, 11, &n);
	is_int((long long)n, 3, "after drop, our own rows are reclaimable too");
	is_str(counts_str(st, rel), "queued:20", "all queued again");
	store_close(st);
	free(stale);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

/* A named lease whose holder died is free at once: its lock file is not locked. */
static void
test_named_dead(void)
{
	struct store_lease *l;
	struct store *st;
	int status;
	pid_t pid;
	long who;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		st = open_store(db_path);
		_exit(store_lease_take(st, "poll", 100, &l, NULL) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	    "a child took the poll lease and died holding it");
	st = open_store(db_path);
	is_int(store_lease_take(st, "poll", 101, &l, &who), 0,
	    "the poll lease is free at once, well before it would lapse");
	store_lease_drop(st, l);
	store_close(st);
}

/* A journal of version 8 (before leases) is upgraded, and takes leases. */
static void
test_migrate_leases(void)
{
	char *path = xasprintf("%s/v8.db", tmpdir);
	struct store *st = open_store(path);
	long long rel = new_release(st, "old", 1);
	struct store_lease *l;
	struct store_row rows[2];
	size_t n;

	add_rows(st, rel, "m", 2);
	claim(st, rel, "old-1-ab", 10, 2, rows);
	clear_rows(rows, 2);
	store_close(st);
	raw_sql(path, "DROP TABLE leases; DROP TABLE joins; PRAGMA user_version = 8");
	st = open_store(path);
	is_int(store_schema_version(st), 10, "a journal of version 8 is migrated to 10");
	is_str(counts_str(st, rel), "sending:2", "its rows are kept");
	is_int(store_lease_take(st, "run", 20, &l, NULL), 0, "and it takes leases");
	is_int(store_reclaim(st, 20, &n), 0, "reclaim");
	is_int((long long)n, 2, "rows left sending by an owner from before leases come back");
	store_lease_drop(st, l);
	store_close(st);
	free(path);
}

/* ---- leases (the contract) ---- */

/*
 * An owner lease: its rows stay while it is current and come back once it
 * has lapsed, even though its holder (this process) lives on; a renewal
 * moves the expiry; the lapsed holder learns that it lost the lease.
 */
static void
test_lease_expiry(void)
{
	char *path = location("leases");
	struct store *st = open_store(path), *other = open_store(path);
	long long rel = new_release(st, "leased", 1), t0 = 1000;
	struct store_lease *l, *fresh;
	struct store_row rows[3];
	size_t n;

	add_rows(st, rel, "l", 5);
	is_int(store_lease_take(st, NULL, t0, &l, NULL), 0, "an owner lease is taken");
	ok(owner_format_ok(store_lease_owner(l)), "under an owner id: %s", store_lease_owner(l));
	is_int((long long)claim(st, rel, store_lease_owner(l), t0, 3, rows), 3,
	    "3 rows claimed under it");
	clear_rows(rows, 3);
	is_int(store_reclaim(other, t0 + STORE_LEASE_TTL - 1, &n), 0, "reclaim from another handle");
	is_int((long long)n, 0, "a current lease keeps its rows");
	is_int(store_lease_renew(st, l, t0 + 10), 0, "the lease is renewed");
	store_reclaim(other, t0 + STORE_LEASE_TTL + 5, &n);
	is_int((long long)n, 0, "a renewed lease outlives its first expiry");
	is_str(counts_str(st, rel), "queued:2 sending:3", "its rows still sending");
	is_int(store_lease_lost(l), 0, "not lost");
	store_reclaim(other, t0 + 10 + STORE_LEASE_TTL, &n);
	is_int((long long)n, 3, "once it lapses, its rows come back, its holder alive or not");
	is_str(counts_str(st, rel), "queued:5", "all queued");
	is_int(store_lease_renew(st, l, t0 + 30), 1, "the late renewal finds the lease lost");
	is_int(store_lease_lost(l), 1, "and says so after");
	store_lease_drop(st, l);

	is_int(store_lease_take(st, NULL, t0, &l, NULL), 0, "a second owner lease");
	is_int(store_lease_take(other, NULL, t0, &fresh, NULL), 0, "and a third, beside it");
	ok(strcmp(store_lease_owner(l), store_lease_owner(fresh)) != 0, "under another id");
	store_reclaim(other, t0 + STORE_LEASE_TTL, &n);
	is_int(store_lease_renew(st, l, t0 + STORE_LEASE_TTL + 1), 1,
	    "a lapsed owner lease is forgotten by the next reclaim, rows or none");
	store_lease_drop(st, l);
	store_lease_drop(other, fresh);
	store_close(other);
	store_close(st);
	free(path);
}

/* Named leases: one holder at a time, each name on its own; free when dropped or lapsed. */
static void
test_named_leases(void)
{
	char *path = location("named");
	struct store *st = open_store(path), *other = open_store(path);
	struct store_lease *run, *run2, *poll;
	long long t0 = 2000;
	long who = -1;

	is_int(store_lease_take(st, "run", t0, &run, NULL), 0, "run is taken");
	is_int(store_lease_take(other, "run", t0 + 1, &run2, &who), 1, "a second taker is refused");
	ok(run2 == NULL, "and gets no lease");
	is_int(who, (long long)getpid(), "told the holder's pid");
	is_int(store_lease_take(other, "poll", t0 + 1, &poll, NULL), 0,
	    "poll is a lease of its own");
	is_int(store_lease_renew(st, run, t0 + 10), 0, "run is renewed");
	is_int(store_lease_take(other, "run", t0 + STORE_LEASE_TTL + 5, &run2, NULL), 1,
	    "renewed, it is still held after its first expiry");
	is_int(store_lease_take(other, "run", t0 + 10 + STORE_LEASE_TTL, &run2, NULL), 0,
	    "once lapsed, another takes it");
	is_int(store_lease_renew(st, run, t0 + 30), 1, "the lapsed holder finds it lost");
	store_lease_drop(st, run);
	is_int(store_lease_take(st, "run", t0 + 31, &run, NULL), 1,
	    "dropping a lost lease leaves the new holder's alone");
	store_lease_drop(other, run2);
	is_int(store_lease_take(st, "run", t0 + 31, &run, NULL), 0, "a dropped lease is free");
	store_lease_drop(st, run);
	store_lease_drop(other, poll);
	store_close(other);
	store_close(st);
	free(path);
}

/* store_lease_keep renews in real time, on a thread of its own, until the drop. */
static void
test_lease_keep(void)
{
	char *path = location("keep");
	struct store *st = open_store(path), *other = open_store(path);
	/* Taken as if long ago: without a renewal it lapses within 2 s. */
	long long now = (long long)time(NULL), t0 = now - STORE_LEASE_TTL + 2;
	struct store_lease *l, *l2;

	is_int(store_lease_take(st, "run", t0, &l, NULL), 0, "a lease about to lapse");
	is_int(store_lease_keep(st, l), 0, "kept");
	sleep(STORE_LEASE_RENEW + 1);
	now = (long long)time(NULL);
	is_int(store_lease_take(other, "run", now + STORE_LEASE_TTL - STORE_LEASE_RENEW - 2, &l2,
	    NULL), 1, "renewed by its keeper: held past its first expiry");
	is_int(store_lease_lost(l), 0, "not lost");
	store_lease_drop(st, l);
	is_int(store_lease_take(other, "run", now, &l2, NULL), 0, "dropped (keeper and all): free");
	store_lease_drop(other, l2);
	store_close(other);
	store_close(st);
	free(path);
}

/* ---- reports ---- */

static void
test_fail_pending(struct store *st)
{
	long long rel = new_release(st, "expiry", 1);
	struct store_row rows[3];
	struct store_reply *top;
	size_t n;

	add_rows(st, rel, "e", 6);
	claim(st, rel, "me", 10, 3, rows);
	done(st, rows[0].id, DS_SENT, 250, NULL, "ok", 0, 10);
	done(st, rows[1].id, DS_DEFERRED, 450, NULL, "later", 99, 10);
	clear_rows(rows, 3);
	is_int(store_fail_pending(st, rel, "expired", 20, &n), 0, "fail pending");
	is_int((long long)n, 4, "3 queued and 1 deferred");
	is_str(counts_str(st, rel), "sending:1 sent:1 failed:4", "the row in flight is left alone");
	store_top_replies(st, rel, 5, &top, &n);
	ok(n == 1 && strcmp(top[0].reply, "expired") == 0 && top[0].count == 4,
	    "their reply is the reason");
	store_replies_free(top, n);
}

/* ---- counters (metrics) ---- */

/* "deliveries/sent=1 smtp_replies/2xx=1": every counter, in the journal's order. */
static const char *
counters_str(struct store *st)
{
	static char out[512];
	struct store_counter *c;
	size_t n, i, len = 0;

	if (store_counters(st, &c, &n) < 0)
		return store_error(st);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s/%s=%lld",
		    len ? " " : "", c[i].name, c[i].label, c[i].value);
	store_counters_free(c, n);
	return out;
}

static const char *
pending_str(struct store *st)
{
	static char out[64];
	size_t q, d;

	if (store_pending(st, &q, &d) < 0)
		return store_error(st);
	snprintf(out, sizeof(out), "queued:%zu deferred:%zu", q, d);
	return out;
}

/*
 * Each state move counts itself, in the caller's transaction or one of its
 * own: a rolled-back move is not counted; a second handle (another process)
 * adds to the same counters; they outlive the handle.
 */
static void
test_counters(void)
{
	char *path = location("counters");
	struct store *st = open_store(path), *other;
	struct store_outcome unsent = { DS_FAILED, 0, NULL, "cancelled", NULL, 0, 1 };
	struct store_row rows[6];
	long long rel, sent;
	size_t n;

	is_str(counters_str(st), "", "a new journal has no counter");
	rel = new_release(st, "counted", 1);
	add_rows(st, rel, "c", 8);
	is_str(pending_str(st), "queued:8 deferred:0", "8 rows queued");
	claim(st, rel, "me", 10, 6, rows);
	done(st, sent = rows[0].id, DS_SENT, 250, NULL, "ok", 0, 10);
	done(st, rows[1].id, DS_DEFERRED, 450, "4.2.0", "later", 99, 10);
	done(st, rows[2].id, DS_FAILED, 550, "5.1.1", "unknown", 0, 10);
	done(st, rows[3].id, DS_FAILED, 0, NULL, "connection lost", 0, 10);
	is_int(store_delivery_done(st, rows[4].id, &unsent, 10), 0, "an outcome never sent");
	is_str(counters_str(st), "deliveries/deferred=1 deliveries/failed=3 deliveries/sent=1 "
	    "smtp_replies/2xx=1 smtp_replies/4xx=1 smtp_replies/5xx=1 smtp_replies/none=1",
	    "outcomes by state, replies by class; the unsent one has no reply");
	is_str(pending_str(st), "queued:2 deferred:1", "2 queued, 1 deferred (1 sending)");

	store_begin(st);
	done(st, rows[5].id, DS_SENT, 250, NULL, "ok", 0, 11);
	store_rollback(st);
	is_str(counters_str(st), "deliveries/deferred=1 deliveries/failed=3 deliveries/sent=1 "
	    "smtp_replies/2xx=1 smtp_replies/4xx=1 smtp_replies/5xx=1 smtp_replies/none=1",
	    "a rolled-back outcome is not counted");
	clear_rows(rows, 6);

	is_int(store_delivery_bounced(st, sent, "5.1.1", 12), 0, "bounced");
	store_suppress(st, "c6@example.org", NULL, "manual", "test", 12);
	is_int(store_skip_suppressed(st, rel, 12, &n), 0, "skip suppressed");
	is_int((long long)n, 1, "one row skipped");
	is_int(store_fail_pending(st, rel, "expired", 13, &n), 0, "fail pending");
	is_int((long long)n, 2, "1 queued and 1 deferred failed");
	store_close(st);

	other = open_store(path);
	is_int(store_count(other, "mailbox_messages", "human", 2), 0, "count by name");
	is_int(store_count(other, "mailbox_messages", "human", 0), 0, "adding 0 is fine");
	store_close(other);
	st = open_store(path);
	is_str(counters_str(st), "deliveries/bounced=1 deliveries/deferred=1 deliveries/failed=5 "
	    "deliveries/sent=1 deliveries/skipped=1 mailbox_messages/human=2 smtp_replies/2xx=1 "
	    "smtp_replies/4xx=1 smtp_replies/5xx=1 smtp_replies/none=1",
	    "bounced, skipped, expired, and another handle's count; kept across reopening");
	is_str(pending_str(st), "queued:0 deferred:0", "nothing pending");
	store_close(st);
	free(path);
}

static void
test_top_replies(struct store *st)
{
	long long rel = new_release(st, "replies", 1), when;
	struct store_row rows[8];
	struct store_reply *top;
	size_t n;

	add_rows(st, rel, "t", 8);
	claim(st, rel, "me", 10, 8, rows);
	done(st, rows[0].id, DS_DEFERRED, 450, "4.2.2", "mailbox full", 5000, 10);
	done(st, rows[1].id, DS_DEFERRED, 450, "4.2.2", "mailbox full", 4000, 10);
	done(st, rows[2].id, DS_FAILED, 550, "5.1.1", "no such user", 0, 10);
	done(st, rows[3].id, DS_DEFERRED, 450, "4.2.2", "mailbox full", 4500, 10);
	done(st, rows[4].id, DS_FAILED, 550, "5.1.1", "no such user", 0, 10);
	done(st, rows[5].id, DS_DEFERRED, 0, NULL, "connection refused", 6000, 10);
	done(st, rows[6].id, DS_FAILED, 421, NULL, "too busy", 0, 10);
	done(st, rows[7].id, DS_SENT, 250, "2.0.0", "ok", 0, 10);
	clear_rows(rows, 8);
	is_int(store_top_replies(st, rel, 10, &top, &n), 0, "top replies");
	is_int((long long)n, 4, "4 distinct replies (sent rows left out)");
	if (n == 4) {
		ok(strcmp(top[0].reply, "450 4.2.2 mailbox full") == 0 && top[0].count == 3,
		    "commonest first: %s", top[0].reply);
		ok(strcmp(top[1].reply, "550 5.1.1 no such user") == 0 && top[1].count == 2,
		    "then: %s", top[1].reply);
		is_str(top[2].reply, "421 too busy", "empty parts left out (enhanced)");
		is_str(top[3].reply, "connection refused", "empty parts left out (code)");
	}
	store_replies_free(top, n);
	store_top_replies(st, rel, 2, &top, &n);
	is_int((long long)n, 2, "at most max");
	store_replies_free(top, n);
	store_next_attempt(st, rel, &when);
	is_int(when, 4000, "next attempt: the earliest of the deferred");
	store_next_attempt(st, new_release(st, "no-deferred", 1), &when);
	is_int(when, 0, "next attempt without deferred rows: 0");
}

/* ---- benchmark ---- */

static void
bench(void)
{
	char *path = location("bench");
	struct store *st = open_store(path);
	long long rel = new_release(st, "bench", 1), prev = 0;
	struct store_row rows[16];
	int total = 20000, pairs = 0, ok_run = 1;
	double t0, t1;
	size_t got, j;

	t0 = seconds();
	add_rows(st, rel, "bench", total);
	t1 = seconds();
	tap_diag("bench: %d delivery_add in one transaction: %.0f rows/s", total,
	    total / (t1 - t0));
	t0 = seconds();
	do {
		ok_run &= store_begin(st) == 0;
		if (prev != 0)
			done(st, prev, DS_SENT, 250, "2.0.0", "ok", 0, 2);
		ok_run &= store_claim(st, rel, "bench", 2, 1, rows, &got) == 0;
		ok_run &= store_commit(st) == 0;
		prev = got ? rows[0].id : 0;
		clear_rows(rows, got);
		pairs++;
	} while (got > 0 && pairs < total / 2);
	t1 = seconds();
	tap_diag("bench: %d transactions of delivery_done + claim(1): %.0f pairs/s", pairs,
	    pairs / (t1 - t0));
	if (prev != 0)
		done(st, prev, DS_SENT, 250, NULL, "ok", 0, 2);
	t0 = seconds();
	pairs = 0;
	got = 0;
	do {
		ok_run &= store_begin(st) == 0;
		for (j = 0; j < got; j++)
			done(st, rows[j].id, DS_SENT, 250, "2.0.0", "ok", 0, 3);
		clear_rows(rows, got);
		ok_run &= store_claim(st, rel, "bench", 3, 16, rows, &got) == 0;
		ok_run &= store_commit(st) == 0;
		pairs += (int)got;
	} while (got > 0);
	t1 = seconds();
	tap_diag("bench: transactions of 16 delivery_done + claim(16): %.0f rows/s",
	    pairs / (t1 - t0));
	ok(ok_run, "benchmark transactions all succeeded");
	is_str(counts_str(st, rel), "sent:20000", "every benchmark row sent once");
	store_close(st);
	free(path);
}

/* A release's segment and its counts; digests drop what a segment leaves out. */
static void
test_segment(struct store *st)
{
	struct store_release r = { 0 }, got;
	struct store_segment *segs;
	long long row, dg, plain;
	size_t n, dropped;

	r.release_id = (char *)"seg-test";
	r.snapshot = (char *)"title: seg\n";
	r.snapshot_len = strlen(r.snapshot);
	r.lists = (char *)"seglist";
	r.state = RS_SENDING;
	r.segment = (char *)"beat=energy\n";
	ok(store_release_put(st, &r, 5000, &row) == 0, "a release with a segment is put");
	ok(store_release_get(st, "seg-test", &got) == 0, "and read back");
	is_str(got.segment, "beat=energy\n", "with its segment");
	ok(!got.segment_counted, "not counted before an expansion");
	store_release_clear(&got);
	ok(store_release_set_segment(st, row, "beat=climate\n", 1, 3, 7) == 0,
	    "the segment of a send and its counts are set");
	store_release_get(st, "seg-test", &got);
	ok(strcmp(got.segment, "beat=climate\n") == 0 && got.segment_counted &&
	    got.segment_kept == 3 && got.segment_left == 7, "kept 3, left out 7");
	store_release_clear(&got);
	store_release_set_segment(st, row, "", 0, 0, 0);
	store_release_get(st, "seg-test", &got);
	ok(strcmp(got.segment, "") == 0 && !got.segment_counted, "no segment: not counted");
	store_release_clear(&got);
	store_release_set_segment(st, row, "beat=energy\n", 1, 1, 1);

	plain = new_release(st, "seg-plain", 5000);
	store_release_set_lists(st, plain, "seglist");
	r.release_id = (char *)"digest.seglist.1";
	r.segment = NULL;
	store_release_put(st, &r, 6000, &dg);
	store_digest_add(st, dg, "seglist", 6000);
	ok(store_digest_segments(st, "seglist", &segs, &n) == 0 && n == 1 &&
	    segs[0].release == row && strcmp(segs[0].segment, "beat=energy\n") == 0,
	    "the digest of the list sees the one release with a segment");
	store_segments_free(segs, n);
	store_digest_member(st, "seglist", "d@x.org", 0, 6000);
	store_digest_take(st, dg, "seglist", "d@x.org", 1000, &n);
	is_int((long long)n, 2, "the digest takes both releases");
	ok(store_digest_drop(st, dg, "d@x.org", row, &dropped) == 0 && dropped == 1,
	    "the segmented one is dropped for an address it leaves out");
	store_digest_drop(st, dg, "d@x.org", row, &dropped);
	is_int((long long)dropped, 0, "dropping again drops nothing");
	{
		struct store_digest_item *items;
		store_digest_items(st, dg, &items, &n);
		ok(n == 1 && items[0].release == plain, "the digest carries the other one only");
		store_digest_items_free(items, n);
	}
}

/* Every promise of store.h, on backend b. */
static void
conformance(const struct backend *b)
{
	struct store *st;

	be = b;
	tap_diag("the journal's contract on %s", be->name);
	db_path = location("journal");
	reclaim_path = location("reclaim");
	st = open_store(db_path);
	test_release_put_get(st);
	test_release_due_list(st);
	test_delivery_add(st);
	test_suppressions(st);
	test_claim_due(st);
	test_due_waves(st);
	test_bounced(st);
	test_fail_pending(st);
	test_top_replies(st);
	test_soft_bounces(st);
	test_inbound(st);
	test_confirm_outbox(st);
	test_segment(st);
	store_close(st);
	test_two_handles();
	test_fork_claims();
	test_illegal();
	test_lease_expiry();
	test_named_leases();
	test_lease_keep();
	test_counters();
	bench();
	free(db_path);
	free(reclaim_path);
}

/* SQLite's own: its file and folder, WAL, versions and migrations, flock as the proof of death. */
static void
sqlite_only(void)
{
	be = &backends[0];
	tap_diag("SQLite's own");
	db_path = xasprintf("%s/sqlite.db", tmpdir);
	reclaim_path = xasprintf("%s/sqlite-reclaim.db", tmpdir);
	test_open();
	test_parent_dir();
	test_reclaim();
	test_named_dead();
	test_migrate_leases();
	free(db_path);
	free(reclaim_path);
}

int
main(void)
{
	char *cmd;
	size_t i;

	if (mkdtemp(tmpdir) == NULL)
		fatalx("mkdtemp: %s", strerror(errno));
	owner_dir = xasprintf("%s/owners", tmpdir);

	is_str(store_dstate_name(DS_DEFERRED), "deferred", "dstate name");
	is_int(store_dstate_parse("bounced"), DS_BOUNCED, "dstate parse");
	is_int(store_dstate_parse("nope"), -1, "dstate parse: unknown");
	is_str(store_rstate_name(RS_CANCELLED), "cancelled", "rstate name");

	for (i = 0; i < ARRAY_LEN(backends); i++)
		conformance(&backends[i]);
	sqlite_only();

	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	free(cmd);
	free(owner_dir);
	return done_testing();
}
