/*
 * t_digest.c - what a digest subscriber is owed (store_digest_take and
 * its neighbours, on a scratch journal) and digest.c's pure helpers:
 * ids, and finding one address's items.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#include "digest.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/t_digest.XXXXXX";

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
put_release(struct store *st, const char *id, const char *lists, enum rstate state,
    long long created, long long scheduled_at)
{
	struct store_release r = { 0 };
	long long rowid = 0;

	r.release_id = (char *)id;
	r.snapshot = (char *)"title: test\n";
	r.snapshot_len = strlen(r.snapshot);
	r.lists = (char *)lists;
	r.state = state;
	r.scheduled_at = scheduled_at;
	if (store_release_put(st, &r, created, &rowid) < 0)
		fatalx("release put: %s", store_error(st));
	return rowid;
}

/* A delivery of rel to address that ended in state s (queued, sent, failed, skipped). */
static void
put_delivery(struct store *st, long long rel, const char *address, enum dstate s)
{
	struct store_outcome o = { 0 };
	struct store_row row;
	size_t got = 0;

	if (store_delivery_add(st, rel, address, "press", NULL, 0,
	    s == DS_SKIPPED ? DS_SKIPPED : DS_QUEUED, NULL, 1) != 0)
		fatalx("delivery add: %s", store_error(st));
	if (s == DS_QUEUED || s == DS_SKIPPED)
		return;
	if (store_claim(st, rel, "t", 2, 1, &row, &got) < 0 || got != 1)
		fatalx("claim: %s", store_error(st));
	o.state = s;
	if (store_delivery_done(st, row.id, &o, 3) < 0)
		fatalx("done: %s", store_error(st));
	store_row_clear(&row);
}

/* A new digest of list at now: its release row, marked as a digest. */
static long long
new_digest(struct store *st, const char *list, long long now)
{
	char *id = digest_make_id(list, now, 1);
	long long rel = put_release(st, id, list, RS_SENDING, now, 0);

	if (store_digest_add(st, rel, list, now) < 0)
		fatalx("digest add: %s", store_error(st));
	free(id);
	return rel;
}

/* How many releases digest rel takes for address on list, a member since `since`. */
static long long
take(struct store *st, long long rel, const char *list, const char *address, long long since)
{
	size_t n = 0;

	if (store_digest_member(st, list, address, since, 1) < 0 ||
	    store_digest_take(st, rel, list, address, 1000, &n) < 0)
		fatalx("take: %s", store_error(st));
	return (long long)n;
}

/* The release ids digest rel carries to address, "r1 r2", in the order they went out. */
static char *
carried(struct store *st, long long rel, const char *address)
{
	struct store_digest_item *v;
	struct store_release r;
	struct buf b = BUF_INIT;
	size_t n, i, first, count;

	if (store_digest_items(st, rel, &v, &n) < 0)
		fatalx("items: %s", store_error(st));
	first = digest_find(v, n, address, &count);
	for (i = first; i < first + count; i++) {
		if (store_digest_release(st, v[i].release, &r) != 0)
			fatalx("release %lld", v[i].release);
		buf_addf(&b, "%s%s", b.len ? " " : "", r.release_id);
		store_release_clear(&r);
	}
	store_digest_items_free(v, n);
	return buf_detach(&b);
}

static void
is_carried(struct store *st, long long rel, const char *address, const char *want,
    const char *name)
{
	char *got = carried(st, rel, address);

	is_str(got, want, name);
	free(got);
}

static void
test_owed(struct store *st)
{
	long long r1, r2, r8, dg1, dg2, dg3, last = 0;
	char **ids;
	char *list = NULL;
	size_t n;

	r1 = put_release(st, "r1", "press", RS_DONE, 100, 0);
	/* Scheduled for 200, recorded at 10: it went out at 200. */
	r2 = put_release(st, "r2", "other press", RS_SENDING, 10, 200);
	put_release(st, "r3", "press", RS_SCHEDULED, 50, 60);
	put_release(st, "r4", "press", RS_CANCELLED, 120, 0);
	put_release(st, "r5", "other", RS_DONE, 130, 0);
	put_release(st, "r6", "pressroom", RS_DONE, 140, 0);
	put_delivery(st, r1, "b@example.org", DS_SENT);
	put_delivery(st, r1, "c@example.org", DS_FAILED);
	put_delivery(st, r2, "e@example.org", DS_QUEUED);
	put_delivery(st, r1, "f@example.org", DS_SKIPPED);

	dg1 = new_digest(st, "press", 300);
	is_int(take(st, dg1, "press", "a@example.org", 0), 2,
	    "a subscriber with nothing is owed the list's two sent releases");
	is_carried(st, dg1, "a@example.org", "r1 r2",
	    "oldest first; not scheduled, cancelled, another list's, a longer id's or a digest");
	is_int(take(st, dg1, "press", "b@example.org", 0), 1,
	    "a subscriber who had r1 by itself is owed r2 only (a switcher)");
	is_carried(st, dg1, "b@example.org", "r2", "and it is r2");
	is_int(take(st, dg1, "press", "c@example.org", 0), 2,
	    "a delivery that failed is not a release had");
	is_int(take(st, dg1, "press", "e@example.org", 0), 1,
	    "a delivery still queued is one being had: r1 only");
	is_carried(st, dg1, "e@example.org", "r1", "and it is r1");
	is_int(take(st, dg1, "press", "f@example.org", 0), 2, "a skipped delivery is not had");
	is_int(take(st, dg1, "press", "d@example.org", 150), 1,
	    "a member since 150 is owed only what went out since (r2, at 200)");
	is_int(take(st, dg1, "press", "d@example.org", 0), 0,
	    "taking again in the same digest adds nothing");

	dg2 = new_digest(st, "press", 400);
	is_int(take(st, dg2, "press", "a@example.org", 0), 0, "the next digest repeats nothing");
	is_int(take(st, dg2, "press", "d@example.org", 0), 0,
	    "a member's first `since` is kept: r1 is still not owed to d");
	put_release(st, "r7", "press", RS_DONE, 450, 0);
	is_int(take(st, dg2, "press", "a@example.org", 0), 1, "a new release is owed once");
	is_carried(st, dg2, "a@example.org", "r7", "and it is r7");

	/* Pre-briefed (sending) before its lift at 2000: no digest carries it yet. */
	r8 = put_release(st, "r8", "press", RS_SENDING, 460, 0);
	is_int(store_release_set_lift(st, r8, 2000), 0, "a release lifted at 2000");
	is_int(take(st, dg2, "press", "a@example.org", 0), 0,
	    "a release being pre-briefed is in no digest before its lift");
	is_int(store_release_set_lift(st, r8, 900), 0, "lifted at 900 instead");
	is_int(take(st, dg2, "press", "a@example.org", 0), 1, "after its lift it is owed");

	dg3 = new_digest(st, "other", 500);
	is_int(take(st, dg3, "other", "a@example.org", 0), 1,
	    "another list's digest: r5 only; r2, on both lists, came with the first");
	is_carried(st, dg3, "a@example.org", "r5", "and it is r5");

	is_int(store_digest_last(st, "press", &last), 0, "store_digest_last");
	is_int(last, 400, "the list's newest digest was made at 400");
	is_int(store_digest_last(st, "nosuch", &last) == 0 && last == 0, 1,
	    "a list that never had one: 0");
	ok(store_digest_list(st, "r1", &list) == 1 && list == NULL, "a release is no digest");
	ok(store_digest_list(st, "digest.other.19700101T000820Z", &list) == 0 &&
	    list != NULL && strcmp(list, "other") == 0, "a digest names its list");
	free(list);
	ok(store_digest_open(st, "press", &ids, &n) == 0 && n == 2 &&
	    strcmp(ids[0], "digest.press.19700101T000500Z") == 0,
	    "both press digests are still being sent, oldest first");
	while (n > 0)
		free(ids[--n]);
	free(ids);
}

static void
test_ids(void)
{
	char *id;

	id = digest_make_id("press", 1498132800, 1);
	is_str(id, "digest.press.20170622T120000Z", "a digest id: list and UTC time");
	ok(digest_is_id(id), "digest_is_id knows it");
	free(id);
	id = digest_make_id("press", 1498132800, 3);
	is_str(id, "digest.press.20170622T120000Z-3", "a third digest in that second");
	free(id);
	ok(!digest_is_id("ogp-americas-2017"), "a release id is no digest id");
	ok(!digest_is_id("digest-press"), "a release id may start with digest-");
	ok(!digest_is_id("releases/digest.yaml"), "nor is a path");
	ok(!digest_is_id(NULL), "nor NULL");
}

static void
test_find(void)
{
	static const struct store_digest_item v[] = {
		{ (char *)"a@x", 1 }, { (char *)"a@x", 2 }, { (char *)"b@x", 1 },
		{ (char *)"d@x", 3 }, { (char *)"d@x", 4 }, { (char *)"d@x", 5 },
	};
	static const struct {
		const char *address;
		size_t first, count;
	} cases[] = {
		{ "a@x", 0, 2 }, { "b@x", 2, 1 }, { "d@x", 3, 3 }, { "c@x", 3, 0 },
		{ "0@x", 0, 0 }, { "z@x", 6, 0 },
	};
	size_t i, first, count;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		first = digest_find(v, ARRAY_LEN(v), cases[i].address, &count);
		ok(count == cases[i].count && (count == 0 || first == cases[i].first),
		    "digest_find %s: %zu items from %zu (got %zu from %zu)", cases[i].address,
		    cases[i].count, cases[i].first, count, first);
	}
	digest_find(NULL, 0, "a@x", &count);
	is_int((long long)count, 0, "no items: none found");
}

int
main(void)
{
	struct store *st;
	char *path, *cmd;

	if (mkdtemp(tmpdir) == NULL)
		fatalx("mkdtemp");
	path = xasprintf("%s/herald.db", tmpdir);
	st = open_store(path);
	test_owed(st);
	store_close(st);
	test_ids();
	test_find();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	free(cmd);
	free(path);
	return done_testing();
}
