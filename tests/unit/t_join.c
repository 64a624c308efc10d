/*
 * t_join.c - joining a list, double opt-in (join.c over store.c's schema
 * version 9): a request records a join and queues its confirmation in the
 * outbox; the rate limits per address and per client; a token that is
 * forged, for another purpose, or older than seven days names nothing; a
 * confirmation adds the member with its consent record once, keeps what
 * an imported member had, and lifts suppressions (one for every list
 * becoming one for each other list).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

#include "classify.h"
#include "config.h"
#include "join.h"
#include "lookup.h"
#include "store.h"
#include "token.h"
#include "util.h"

static char tmpdir[] = "/tmp/t_join.XXXXXX";
static const unsigned char secret[TOKEN_SECRET_LEN] = "0123456789abcdef0123456789abcde";
static const long long now = 1796000000;	/* 2026-11-30 */

static struct config cfg;

static void
setup(void)
{
	char *path;
	FILE *f;
	const char *const lists[] = { "press", "energy", "Mixed.Case" };
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.sender.from_addr = (char *)"desk@news.example";
	cfg.sender.from_name = (char *)"Desk";
	cfg.sender.domain = (char *)"news.example";
	cfg.sender.bounce_address = (char *)"bounces@news.example";
	cfg.sender.unsubscribe_address = (char *)"unsubscribe@news.example";
	cfg.sender.subscribe_address = (char *)"subscribe@news.example";
	cfg.http.url = (char *)"https://news.example/";
	cfg.imap.enabled = 1;
	cfg.lists_dir = xasprintf("%s/lists", tmpdir);
	if (mkdir(cfg.lists_dir, 0700) < 0)
		fatalx("mkdir: %s", strerror(errno));
	for (i = 0; i < ARRAY_LEN(lists); i++) {
		path = xasprintf("%s/%s.yaml", cfg.lists_dir, lists[i]);
		if ((f = fopen(path, "w")) == NULL)
			fatalx("%s: %s", path, strerror(errno));
		fputs("subscribers: []\n", f);
		fclose(f);
		free(path);
	}
}

static struct store *
open_store(const char *name)
{
	struct store *st;
	char err[512], *path = xasprintf("%s/%s", tmpdir, name);

	if (store_open(path, &st, err, sizeof(err)) < 0)
		fatalx("open %s: %s", path, err);
	free(path);
	return st;
}

static size_t
outbox_count(struct store *st)
{
	struct store_outmsg *o = NULL;
	size_t n = 0;

	if (store_outbox_due(st, LLONG_MAX, 0, 1000, &o, &n) < 0)
		fatalx("outbox: %s", store_error(st));
	store_outmsg_free(o, n);
	return n;
}

static int
ask(struct store *st, const char *list, const char *address, const char *client,
    long long when, long long *jid)
{
	struct join_request q = { list, address, "Ana", client ? "web" : "mail", client,
	    client ? NULL : "req.1@mail.example" };
	int rc;

	if (store_begin(st) < 0)
		fatalx("begin: %s", store_error(st));
	rc = join_ask(st, &cfg, secret, &q, when, jid);
	if (store_commit(st) < 0)
		fatalx("commit: %s", store_error(st));
	return rc;
}

static void
test_lists(void)
{
	ok(join_list_known(&cfg, "press", 5), "a list with a file is known");
	ok(!join_list_known(&cfg, "nosuch", 6), "a list without one is not");
	ok(!join_list_known(&cfg, "../lists/press", 14), "a path is no list");
	ok(!join_list_known(&cfg, "PRESS", 5), "the web takes the file's own spelling only");
}

static void
test_ask_and_limits(void)
{
	struct store *st = open_store("limits.db");
	long long jid, first;
	int i, asked = 0, limited = 0;

	is_int(ask(st, "press", "ana@example.org", "192.0.2.1", now, &first), JOIN_ASKED,
	    "a request is asked");
	ok(first > 0, "and has a row");
	is_int((long long)outbox_count(st), 1, "its confirmation waits in the outbox");
	for (i = 0; i < 10; i++) {
		int rc = ask(st, "press", "ana@example.org", "192.0.2.1", now + i, &jid);

		asked += rc == JOIN_ASKED;
		limited += rc == JOIN_LIMITED_ADDRESS;
	}
	is_int(asked, JOIN_PER_ADDRESS - 1, "an address is mailed at most 3 in the hour");
	is_int(limited, 10 - (JOIN_PER_ADDRESS - 1), "the rest are held back");
	is_int((long long)outbox_count(st), JOIN_PER_ADDRESS, "and queue nothing");
	is_int(ask(st, "press", "ana@example.org", "192.0.2.1", now + JOIN_WINDOW + 1, &jid),
	    JOIN_ASKED, "an hour later the address is mailed again");
	/* The client: 4 rows so far, 3 of them within the window of now + 3601. */
	for (i = 0, asked = limited = 0; i < 12; i++) {
		char address[64];
		int rc;

		snprintf(address, sizeof(address), "p%d@example.org", i);
		rc = ask(st, "press", address, "192.0.2.1", now + JOIN_WINDOW + 2, &jid);
		asked += rc == JOIN_ASKED;
		limited += rc == JOIN_LIMITED_CLIENT;
	}
	is_int(asked, JOIN_PER_CLIENT - 1, "a client makes at most 10 in the hour");
	is_int(limited, 12 - (JOIN_PER_CLIENT - 1), "then it is told so");
	is_int(ask(st, "press", "q@example.org", "192.0.2.2", now + JOIN_WINDOW + 2, &jid),
	    JOIN_ASKED, "another client is not held back");
	is_int(ask(st, "press", "r@example.org", NULL, now + JOIN_WINDOW + 2, &jid),
	    JOIN_ASKED, "nor is a request by mail");
	store_close(st);
}

/* The token of join jid for address, made on the day of when, by purpose. */
static void
token_for(const char *purpose, long long jid, const char *address, long long when,
    char out[TOKEN_MAX])
{
	token_make(secret, purpose, (unsigned long long)jid, address, (long)(when / 86400), out);
}

static void
test_lookup(void)
{
	struct store *st = open_store("lookup.db");
	struct store_join j;
	char tok[TOKEN_MAX];
	long long jid;

	ask(st, "press", "ana@example.org", NULL, now, &jid);
	token_for("j", jid, "ana@example.org", now, tok);
	is_int(join_lookup(st, secret, tok, strlen(tok), now + 60, &j), 0, "its token names it");
	ok(j.id == jid && strcmp(j.list, "press") == 0 && strcmp(j.address, "ana@example.org") == 0 &&
	    strcmp(j.how, "mail") == 0 && strcmp(j.ref, "req.1@mail.example") == 0 && j.done == 0,
	    "with its list, address, how and request");
	store_join_clear(&j);
	is_int(join_lookup(st, secret, tok, strlen(tok), now + JOIN_TTL + 1, &j), LOOKUP_EXPIRED,
	    "seven days later it is too old");
	token_for("u", jid, "ana@example.org", now, tok);
	is_int(join_lookup(st, secret, tok, strlen(tok), now, &j), 1,
	    "an unsubscribe token of the same row is not a join's");
	token_for("j", jid, "eve@example.org", now, tok);
	is_int(join_lookup(st, secret, tok, strlen(tok), now, &j), 1,
	    "nor one made for another address");
	token_for("j", jid + 1, "ana@example.org", now, tok);
	is_int(join_lookup(st, secret, tok, strlen(tok), now, &j), 1, "nor one for no row");
	is_int(join_lookup(st, secret, "press", 5, now, &j), 1, "a list's name is no token");
	store_close(st);
}

static void
member_is(struct store *st, const char *list, const char *address, const char *how,
    const char *ref, const char *name, const char *what)
{
	struct store_member m;
	int rc = store_member_get(st, list, address, &m);

	if (!ok(rc == 0 && strcmp(m.how, how) == 0 && strcmp(m.ref, ref) == 0 &&
	    ((name == NULL && m.name == NULL) || (name && m.name && strcmp(m.name, name) == 0)),
	    "%s", what) && rc == 0)
		tap_diag("how %s ref %s name %s", m.how, m.ref, m.name ? m.name : "(none)");
	store_member_clear(&m);
}

static int
confirm(struct store *st, long long jid, const char *how, const char *ref, long long when,
    int *readmitted)
{
	struct store_join j;
	int rc;

	if (store_join_get(st, jid, &j) != 0)
		fatalx("join %lld: none", jid);
	store_begin(st);
	rc = join_confirm(st, &cfg, &j, how, ref, when, readmitted);
	store_commit(st);
	store_join_clear(&j);
	return rc;
}

static void
test_confirm(void)
{
	struct store *st = open_store("confirm.db");
	struct store_member m;
	enum store_change change;
	long long jid;
	int readmitted;

	ask(st, "press", "ana@example.org", "192.0.2.1", now, &jid);
	is_int(confirm(st, jid, "web", "192.0.2.9", now + 10, &readmitted), 0, "a confirmation joins");
	member_is(st, "press", "ana@example.org", "web", "192.0.2.9", "Ana",
	    "the member has the name asked with and the consent: web, the confirming client");
	ok(!readmitted, "nothing was suppressed");
	is_int(confirm(st, jid, "web", "192.0.2.9", now + 20, &readmitted), 1,
	    "a second confirmation of the same join does nothing");

	/* An imported member keeps its fields; the consent becomes the confirmation. */
	memset(&m, 0, sizeof(m));
	m.list = (char *)"press";
	m.address = (char *)"bo@example.org";
	m.name = (char *)"Bo Imported";
	m.fields = (void *)"email\0bo@example.org\0";
	m.fields_len = 22;
	m.how = (char *)"import";
	m.ref = (char *)"media.csv:2";
	m.consented = now - 100;
	store_member_put(st, &m, now - 100, &change);
	ask(st, "press", "bo@example.org", NULL, now, &jid);
	confirm(st, jid, "mail", "yes.1@mail.example", now + 30, &readmitted);
	member_is(st, "press", "bo@example.org", "mail", "yes.1@mail.example", "Bo Imported",
	    "an imported member keeps its name; its consent is the reply now");

	/* Suppressed for the list: lifted. */
	store_suppress(st, "cy@example.org", "press", "unsubscribed", "test", now - 50);
	ask(st, "press", "cy@example.org", NULL, now, &jid);
	confirm(st, jid, "mail", "yes.2@mail.example", now + 40, &readmitted);
	ok(readmitted && store_is_suppressed(st, "cy@example.org", "press") == 0,
	    "an unsubscribed address that confirms is on the list again");

	/* Suppressed for every list: lifted for this one, kept for the others. */
	store_suppress(st, "di@example.org", NULL, "hard-bounce", "test", now - 50);
	ask(st, "energy", "di@example.org", NULL, now, &jid);
	confirm(st, jid, "mail", "yes.3@mail.example", now + 50, &readmitted);
	ok(readmitted && store_is_suppressed(st, "di@example.org", "energy") == 0,
	    "an address suppressed for every list that confirms is on that list again");
	ok(store_is_suppressed(st, "di@example.org", "press") == 1 &&
	    store_is_suppressed(st, "di@example.org", "Mixed.Case") == 1,
	    "and stays suppressed for each other list of the project");
	store_close(st);
}

static void
test_target(void)
{
	struct store *st = open_store("target.db");
	struct cls_result r;
	struct store_join j;
	char tok[TOKEN_MAX], *list;
	long long jid;
	int expired;

	memset(&r, 0, sizeof(r));
	snprintf(r.sub_detail, sizeof(r.sub_detail), "press");
	is_int(join_target(st, &cfg, secret, &r, now, &j, &list, &expired), 2,
	    "subscribe+press@ asks for press");
	is_str(list, "press", "the list");
	free(list);
	snprintf(r.sub_detail, sizeof(r.sub_detail), "mixed.case");
	is_int(join_target(st, &cfg, secret, &r, now, &j, &list, &expired), 2,
	    "a relay that lowercases the local part still finds Mixed.Case");
	is_str(list, "Mixed.Case", "as its file spells it");
	free(list);
	snprintf(r.sub_detail, sizeof(r.sub_detail), "nosuch");
	is_int(join_target(st, &cfg, secret, &r, now, &j, &list, &expired), 1,
	    "no such list: nothing");
	ask(st, "energy", "ana@example.org", NULL, now, &jid);
	token_for("j", jid, "ana@example.org", now, tok);
	snprintf(r.sub_detail, sizeof(r.sub_detail), "%s", tok);
	is_int(join_target(st, &cfg, secret, &r, now, &j, &list, &expired), 0,
	    "subscribe+TOKEN@ names the join");
	is_str(j.list, "energy", "and its list");
	store_join_clear(&j);
	r.sub_detail[0] = '\0';
	snprintf(r.reply_id, sizeof(r.reply_id), "join.%s@news.example", tok);
	is_int(join_target(st, &cfg, secret, &r, now, &j, &list, &expired), 0,
	    "so does a reply to the confirmation's Message-ID");
	store_join_clear(&j);
	is_int(join_target(st, &cfg, secret, &r, now + JOIN_TTL + 1, &j, &list, &expired), 1,
	    "not after seven days");
	ok(expired, "and says it was too old");
	store_close(st);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(tmpdir) == NULL)
		fatalx("mkdtemp: %s", strerror(errno));
	setup();
	test_lists();
	test_ask_and_limits();
	test_lookup();
	test_confirm();
	test_target();
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	free(cmd);
	free(cfg.lists_dir);
	return done_testing();
}
