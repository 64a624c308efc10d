/*
 * t_members.c - who joined a list: the journal's members (store.c's
 * schema version 7, its migration, adding, updating, the consent record
 * an import keeps and a confirmation replaces), the file winning over a
 * member with its address, and CSV imports: rows, bad rows at their
 * lines, header errors that import nothing, idempotence, suppressions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tap.h"

#include "members.h"
#include "render.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/t_members.XXXXXX";

static struct store *
open_store(const char *path)
{
	struct store *st;
	char err[512];

	if (store_open(path, &st, err, sizeof(err)) < 0)
		fatalx("open %s: %s", path, err);
	return st;
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

static void
member(struct store_member *m, const char *address, const char *name, const char *how,
    const char *ref, long long when)
{
	memset(m, 0, sizeof(*m));
	m->list = (char *)"press";
	m->address = (char *)address;
	m->name = (char *)name;
	m->fields = (void *)"email\0x\0";
	m->fields_len = 8;
	m->how = (char *)how;
	m->ref = (char *)ref;
	m->consented = when;
}

/* ---- the schema ---- */

static void
test_schema(void)
{
	char *path = xasprintf("%s/old.db", tmpdir);
	struct store *st;
	size_t n = 9;

	st = open_store(path);
	is_int(store_schema_version(st), 10, "a new journal is at schema version 10");
	store_close(st);
	raw_sql(path, "DROP TABLE members; DROP TABLE counters; DROP TABLE joins; DROP TABLE leases;"
	    " PRAGMA user_version = 6");
	st = open_store(path);
	is_int(store_schema_version(st), 10, "a journal of version 6 is migrated to 10");
	ok(store_member_count(st, "press", &n) == 0 && n == 0, "and has a members table, empty");
	store_close(st);
	free(path);
}

/* ---- the journal's members ---- */

static int
collect(void *arg, const struct store_member *m)
{
	buf_addf(arg, "%s(%s) ", m->address, m->how);
	return 0;
}

static void
test_put(struct store *st)
{
	struct store_member m, got;
	enum store_change ch;
	struct buf b = BUF_INIT;
	size_t n;

	member(&m, "ana@example.org", "Ana", "import", "a.csv:2", 100);
	ok(store_member_put(st, &m, 100, &ch) == 0 && ch == STORE_ADDED, "a member is added");
	ok(store_member_put(st, &m, 200, &ch) == 0 && ch == STORE_SAME,
	    "the same again changes nothing");
	ok(store_member_get(st, "press", "ana@example.org", &got) == 0 && got.updated == 100 &&
	    strcmp(got.name, "Ana") == 0 && got.fields_len == 8 &&
	    memcmp(got.fields, "email\0x\0", 8) == 0 && strcmp(got.how, "import") == 0 &&
	    strcmp(got.ref, "a.csv:2") == 0 && got.consented == 100 && !got.digest,
	    "and it reads back as put, not updated");
	store_member_clear(&got);
	member(&m, "ana@example.org", "Ana Pérez", "import", "b.csv:9", 300);
	m.digest = 1;
	m.tz = (char *)"Europe/Madrid";
	ok(store_member_put(st, &m, 300, &ch) == 0 && ch == STORE_UPDATED,
	    "another name and delivery update it");
	store_member_get(st, "press", "ana@example.org", &got);
	ok(strcmp(got.name, "Ana Pérez") == 0 && got.digest && strcmp(got.tz, "Europe/Madrid") == 0 &&
	    strcmp(got.ref, "a.csv:2") == 0 && got.consented == 100 && got.updated == 300,
	    "an import keeps how and when the member joined");
	store_member_clear(&got);
	m.how = (char *)"web";
	m.ref = (char *)"203.0.113.7";
	ok(store_member_put(st, &m, 400, &ch) == 0 && ch == STORE_UPDATED,
	    "a confirmation on the web is a consent of its own");
	store_member_get(st, "press", "ana@example.org", &got);
	ok(strcmp(got.how, "web") == 0 && strcmp(got.ref, "203.0.113.7") == 0 &&
	    got.consented == 300, "and replaces the consent record");
	store_member_clear(&got);
	member(&m, "bo@example.org", NULL, "mail", "abc@mail.example", 50);
	store_member_put(st, &m, 500, &ch);
	m.list = (char *)"other";
	store_member_put(st, &m, 500, &ch);
	ok(store_member_count(st, "press", &n) == 0 && n == 2, "two members of press");
	store_member_each(st, "press", collect, &b);
	is_str(buf_str(&b), "bo@example.org(mail) ana@example.org(web) ",
	    "each in the order they joined");
	is_int(store_member_get(st, "press", "cy@example.org", &got), 1, "a stranger is none");
	is_int(store_member_remove(st, "other", "bo@example.org"), 0, "removed from a list");
	is_int(store_member_remove(st, "other", "bo@example.org"), 1, "not twice");
	ok(store_member_count(st, "press", &n) == 0 && n == 2, "and still on the other");
	buf_free(&b);
}

/* ---- the file wins ---- */

static int
collect_member(void *arg, const struct store_member *m)
{
	buf_addf(arg, "%s ", m->address);
	return 0;
}

static void
test_file_wins(struct store *st)
{
	struct members m;
	struct buf b = BUF_INIT;

	ok(members_open(&m, st, "press") == 0 && members_count(&m) == 2, "the members are opened");
	members_file(&m, "ana@example.org");
	members_file(&m, "zed@example.org");
	members_each(&m, collect_member, &b);
	is_str(buf_str(&b), "bo@example.org ", "a member the file has is the file's");
	members_close(&m);
	buf_reset(&b);
	ok(members_open(&m, NULL, "press") == 0 && members_count(&m) == 0 &&
	    members_each(&m, collect_member, &b) == 0 && b.len == 0, "no journal: no members");
	members_close(&m);
	buf_free(&b);
}

/* ---- import ---- */

static char *
write_csv(const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(text, 1, len, fp) != len || fclose(fp) != 0)
		fatalx("%s: %s", path, strerror(errno));
	return path;
}

static void
diag_text(const struct diag *d, struct buf *b)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < d->n; i++)
		buf_addf(b, "%s\n", d->items[i].text);
}

/* Imports text as name into list info; the errors, with the file's path cut to its name. */
static int
import(struct store *st, const struct list_info *info, const char *name, const char *text,
    struct members_import *r, struct buf *errors)
{
	char *path = write_csv(name, text, strlen(text)), *p;
	struct diag d;
	struct buf b = BUF_INIT;
	int rc;

	diag_init(&d, EXIT_DATAERR);
	rc = members_import(st, info, path, 1000, r, &d);
	diag_text(&d, &b);
	buf_reset(errors);
	for (p = b.data; p && *p; ) {
		char *hit = strstr(p, path);
		if (hit == NULL) {
			buf_adds(errors, p);
			break;
		}
		buf_add(errors, p, (size_t)(hit - p));
		buf_adds(errors, name);
		p = hit + strlen(path);
	}
	buf_free(&b);
	diag_free(&d);
	free(path);
	return rc;
}

static void
test_import(struct store *st)
{
	struct list_info info;
	struct members_import r;
	struct store_member got;
	struct buf err = BUF_INIT;
	const char *csv =
	    "\xef\xbb\xbf" "Email,Name,beat,lang,tz,delivery\r\n"
	    "ana@example.org,\"Pérez, Ana\",\"energy, climate\",es,Europe/Madrid,\r\n"
	    "not-an-address,X,,,,\r\n"
	    "Bo Bold <BO@example.org>,,\"two\r\nlines\",,,digest\r\n"
	    "\r\n"
	    ",,,,,\r\n"
	    "cy@example.org,\"Cy \"\"C\"\"\",,pt-br,,\r\n"
	    "dee@example.org,Dee,,,Mars/Base,\r\n"
	    "ana@example.org,Again,,,,\r\n"
	    "eve@example.org,Eve,,,,weekly\r\n"
	    "fay@example.org,Fay\r\n"
	    "gus@example.org,\"Gus\"x,,,,\r\n"
	    "hal@example.org,Hal,,en,,each\r\n";
	const char *want =
	    "one.csv:3: invalid address 'not-an-address': missing '@'\n"
	    "one.csv:8: language 'pt-br' is written 'pt-BR'\n"
	    "one.csv:9: unknown time zone 'Mars/Base'\n"
	    "one.csv:10: duplicate address 'ana@example.org' (first at line 2)\n"
	    "one.csv:11: invalid delivery 'weekly'; expected 'each' or 'digest'\n"
	    "one.csv:12: 2 fields where the header has 6\n"
	    "one.csv:13: bad quoting: a field with a '\"' in it must be quoted whole, and the '\"' "
	    "doubled (\"say \"\"hi\"\"\")\n";

	memset(&info, 0, sizeof(info));
	info.id = (char *)"imp";
	info.digest_template = (char *)"digest";
	store_suppress(st, "hal@example.org", NULL, "unsubscribed", "test", 1);
	is_int(import(st, &info, "one.csv", csv, &r, &err), 0, "a CSV file is imported");
	is_str(buf_str(&err), want, "each bad row at the line it starts on, the blank ones skipped");
	ok(r.rows == 10 && r.bad == 7 && r.added == 3 && r.updated == 0 && r.same == 0,
	    "10 rows: 7 bad, 3 added (%zu %zu %zu %zu %zu)", r.rows, r.bad, r.added, r.updated,
	    r.same);
	is_int((long long)r.suppressed, 1, "a suppressed address is imported and counted");
	is_int(store_is_suppressed(st, "hal@example.org", "imp"), 1, "and stays suppressed");
	ok(store_member_get(st, "imp", "ana@example.org", &got) == 0 &&
	    strcmp(got.name, "Pérez, Ana") == 0 && strcmp(got.lang, "es") == 0 &&
	    strcmp(got.tz, "Europe/Madrid") == 0 && !got.digest &&
	    strcmp(got.how, "import") == 0 && strstr(got.ref, "one.csv:2") != NULL,
	    "a quoted comma in a name; lang, tz, and the row in the consent record");
	{
		static const char blob[] = "email\0ana@example.org\0name\0Pérez, Ana\0beat\0"
		    "energy, climate\0\001lang\0es\0\001tz\0Europe/Madrid\0";
		struct buf want_blob = BUF_INIT;

		buf_add(&want_blob, blob, sizeof(blob) - 1);
		ok(got.fields_len == want_blob.len && memcmp(got.fields, want_blob.data,
		    want_blob.len) == 0, "the fields blob as a list's subscriber has it");
		buf_free(&want_blob);
	}
	store_member_clear(&got);
	ok(store_member_get(st, "imp", "bo@example.org", &got) == 0 && got.digest &&
	    strcmp(got.name, "Bo Bold") == 0, "\"Name <addr>\" names them; delivery digest");
	ok(got.fields_len > 0 && memmem(got.fields, got.fields_len, "beat\0two\nlines", 14),
	    "a field keeps its line break, as one LF");
	store_member_clear(&got);

	is_int(import(st, &info, "one.csv", csv, &r, &err), 0, "imported twice");
	ok(r.added == 0 && r.updated == 0 && r.same == 3 && r.bad == 7,
	    "the second time nothing changes: 3 unchanged");

	is_int(import(st, &info, "two.csv", "email,name\nana@example.org,Ana\n", &r, &err), 0,
	    "another file");
	ok(r.updated == 1 && store_member_get(st, "imp", "ana@example.org", &got) == 0 &&
	    strcmp(got.name, "Ana") == 0 && got.lang == NULL && strstr(got.ref, "one.csv:2"),
	    "updates what it says, and keeps where the member came from");
	store_member_clear(&got);
	buf_free(&err);
}

static void
test_import_header(struct store *st)
{
	static const struct {
		const char *csv, *want;
	} cases[] = {
		{ "name,org\nx@example.org,y\n",
		  "h.csv:1: no column 'email' in the header row (the first row names the columns: "
		  "email,name,...)\n" },
		{ "emial,name\n", "h.csv:1: no column 'email' in the header row; is 'emial' a typo?\n" },
		{ "email,nmae\n", "h.csv:1: unknown column 'nmae'; did you mean 'name'?\n" },
		{ "email,Email\n", "h.csv:1: column 'Email' is there twice (columns 1 and 2)\n" },
		{ "email,,org\n", "h.csv:1: column 2 has no name\n" },
		{ "\n\n", "h.csv:1: empty file: no header row (email,name,...)\n" },
		{ "email,\"a\"b\n", "h.csv:1: the header row: bad quoting: a field with a '\"' in it "
		  "must be quoted whole, and the '\"' doubled (\"say \"\"hi\"\"\")\n" },
	};
	struct list_info info;
	struct members_import r;
	struct buf err = BUF_INIT;
	char *declared[] = { (char *)"beat", (char *)"org" };
	size_t i, n;

	memset(&info, 0, sizeof(info));
	info.id = (char *)"hdr";
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		ok(import(st, &info, "h.csv", cases[i].csv, &r, &err) == 0 && r.header_bad,
		    "a bad header imports nothing (%zu)", i);
		is_str(buf_str(&err), cases[i].want, "and says why");
	}
	info.fields = declared;
	info.nfields = 2;
	info.fields_declared = 1;
	import(st, &info, "h.csv", "email,beta\nx@example.org,energy\n", &r, &err);
	is_str(buf_str(&err), "h.csv:1: unknown column 'beta'; did you mean 'beat'? (the fields "
	    "of list 'hdr': beat, org)\n", "a list that names its fields takes only those");
	ok(r.header_bad && store_member_count(st, "hdr", &n) == 0 && n == 0, "nothing imported");
	import(st, &info, "h.csv", "email,delivery\nx@example.org,digest\n", &r, &err);
	is_str(buf_str(&err), "h.csv:2: delivery 'digest' but list 'hdr' has no 'digest' key\n",
	    "a digest needs the list's digest");
	buf_free(&err);
}

int
main(void)
{
	struct store *st;
	char *path, *cmd;

	if (mkdtemp(tmpdir) == NULL)
		fatalx("mkdtemp: %s", strerror(errno));
	test_schema();
	path = xasprintf("%s/journal.db", tmpdir);
	st = open_store(path);
	test_put(st);
	test_file_wins(st);
	test_import(st);
	test_import_header(st);
	store_close(st);
	free(path);
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	free(cmd);
	return done_testing();
}
