/*
 * t_token.c - token.c: fixed vectors, round trips, forgeries, the secret file.
 *
 * The fixed vectors were computed independently with Python's hmac module:
 *   hmac.new(secret, purpose + b"\0" + str(id) + b"\0" + address.lower(),
 *            sha256).digest()[:10], base32 lowercase; id in base32 digits
 * (undated tokens, as mailed before tokens carried their day); and for a
 * dated one, over b"2\0" + purpose + b"\0" + str(id) + b"\0" + str(day)
 * + b"\0" + address.lower().
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

#include "token.h"
#include "util.h"

static unsigned char secret_seq[TOKEN_SECRET_LEN];	/* 0, 1, ..., 31 */
static unsigned char secret_ff[TOKEN_SECRET_LEN];	/* all 0xff */

struct vector {
	const unsigned char *secret;
	const char *purpose;
	unsigned long long id;
	const char *address;
	const char *token;
};

static const struct vector vectors[] = {
	{ secret_seq, "unsubscribe", 12345, "ana@example.org", "mbz-ihculd47lycpoepm" },
	{ secret_seq, "unsubscribe", 12345, "Ana@Example.ORG", "mbz-ihculd47lycpoepm" },
	{ secret_seq, "bounce", 0, "ana@example.org", "a-63cekv362i2juozo" },
	{ secret_ff, "msgid", 18446744073709551615ULL, "x@y.example",
	  "p777777777777-3drmyzf5vkors4tu" },
};

#define DAY 20426L	/* 2025-12-04 */

static void
test_vectors(void)
{
	char tok[TOKEN_MAX];
	unsigned long long id;
	size_t i;
	long day;

	/* Tokens mailed before days were carried still verify, undated. */
	for (i = 0; i < ARRAY_LEN(vectors); i++) {
		const struct vector *v = &vectors[i];
		is_int(token_verify(v->secret, v->purpose, v->id, v->address,
		    v->token, strlen(v->token)), 1, "an undated fixed vector (python hmac) verifies");
		ok(token_parse(v->secret, v->token, strlen(v->token), &id, &day) == 0 &&
		    id == v->id && day == TOKEN_UNDATED, "and parses undated, with its id");
	}
	/* The MAC of a dated token, computed with python's hmac over "2" NUL purpose NUL id NUL day NUL address. */
	token_make(secret_seq, "unsubscribe", 12345, "Ana@Example.org", DAY, tok);
	ok(strlen(tok) == 8 + 1 + 3 + 1 + 16 && strcmp(tok + 13, "pgr6spg7kgcwed4b") == 0 &&
	    strncmp(tok + 8, "-t6k-", 5) == 0, "a dated token: 8 id digits, the day, the MAC (%s)",
	    tok);
	token_make(secret_seq, "b", 0, "ana@example.org", 0, tok);
	is_str(tok + 11, "lv4do73alpd5dnni", "day 0 and id 0: the MAC");
	token_make(secret_ff, "msgid", TOKEN_ID_MAX, "x@y.example", TOKEN_DAY_MAX, tok);
	is_int((long long)strlen(tok), 30, "the longest token is 30 characters, as before");
	ok(30 < TOKEN_MAX, "and fits TOKEN_MAX with its NUL");
}

static int
token_charset_ok(const char *t)
{
	int dashes = 0;

	for (; *t; t++) {
		if (*t == '-')
			dashes++;
		else if (!((*t >= 'a' && *t <= 'z') || (*t >= '2' && *t <= '7')))
			return 0;
	}
	return dashes == 2;
}

static void
test_round_trip(void)
{
	static const unsigned long long ids[] = {
		0, 1, 31, 32, 1023, 1024, 12345, 1048575, 1048576, 4294967296ULL, TOKEN_ID_MAX,
	};
	static const long days[] = { 0, 1, 31, 32, DAY, TOKEN_DAY_MAX };
	char tok[TOKEN_MAX], prev[TOKEN_MAX];
	unsigned long long got;
	size_t i, j, up = 0;
	long day;
	int bad = 0;

	for (i = 0; i < ARRAY_LEN(ids); i++) {
		for (j = 0; j < ARRAY_LEN(days); j++) {
			token_make(secret_seq, "bounce", ids[i], "ana@example.org", days[j], tok);
			got = ids[i] + 1;
			if (token_parse(secret_seq, tok, strlen(tok), &got, &day) != 0 ||
			    got != ids[i] || day != days[j] || !token_charset_ok(tok) ||
			    strlen(tok) >= TOKEN_MAX || strchr(tok, '-') - tok != 8 ||
			    !token_verify(secret_seq, "bounce", ids[i], "ana@example.org",
			    tok, strlen(tok))) {
				tap_diag("round trip failed for %llu, day %ld: %s", ids[i], days[j],
				    tok);
				bad++;
			}
		}
	}
	is_int(bad, 0, "round trip: make, parse, verify; a-z 2-7, two '-', 8 id digits");
	/* The id part does not count rows: consecutive ids give unrelated digits. */
	prev[0] = '\0';
	for (i = 1; i <= 1000; i++) {
		token_make(secret_seq, "u", i, "ana@example.org", DAY, tok);
		if (prev[0] && memcmp(tok, prev, 8) > 0)
			up++;
		memcpy(prev, tok, sizeof(tok));
	}
	ok(up > 400 && up < 600, "ids 1..1000 give id digits in no order (%zu of 999 rose)", up);
	token_make(secret_seq, "u", 1, "ana@example.org", DAY, tok);
	token_make(secret_ff, "u", 1, "ana@example.org", DAY, prev);
	ok(memcmp(tok, prev, 8) != 0, "and other digits under another secret");
	/* Parsing takes a length: a token inside a longer string. */
	token_make(secret_seq, "unsubscribe", 12345, "ana@example.org", DAY, tok);
	strcpy(prev, tok);
	strcat(prev, "@ogp.example");
	ok(token_parse(secret_seq, prev, strlen(tok), &got, &day) == 0 && got == 12345,
	    "parse reads only len bytes");
	ok(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", prev, strlen(tok)),
	    "verify reads only len bytes");
	for (i = 0; tok[i]; i++)
		prev[i] = tok[i] >= 'a' && tok[i] <= 'z' ? (char)(tok[i] - 'a' + 'A') : tok[i];
	ok(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", prev, strlen(tok)),
	    "a relay's upper case is still accepted");
}

static void
test_forgeries(void)
{
	const char *old = "mbz-ihculd47lycpoepm";
	char good[TOKEN_MAX], tok[TOKEN_MAX], other[TOKEN_MAX];
	size_t i, n;
	int accepted = 0;

	token_make(secret_seq, "unsubscribe", 12345, "ana@example.org", DAY, good);
	n = strlen(good);
	/* Every single-character change is caught: id, day and MAC. */
	for (i = 0; i < n; i++) {
		if (good[i] == '-')
			continue;
		strcpy(tok, good);
		tok[i] = tok[i] == 'a' ? 'b' : 'a';
		accepted += token_verify(secret_seq, "unsubscribe", 12345,
		    "ana@example.org", tok, n);
	}
	is_int(accepted, 0, "a change at any position of a dated token is rejected");
	is_int(token_verify(secret_seq, "bounce", 12345, "ana@example.org", good, n), 0,
	    "wrong purpose rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "eve@example.org", good, n), 0,
	    "wrong address rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12346, "ana@example.org", good, n), 0,
	    "wrong id rejected");
	is_int(token_verify(secret_ff, "unsubscribe", 12345, "ana@example.org", good, n), 0,
	    "wrong secret rejected");
	/* A newer day on an old token: the MAC binds it. */
	token_make(secret_seq, "unsubscribe", 12345, "ana@example.org", DAY + 365, other);
	memcpy(tok, good, 8);
	memcpy(tok + 8, other + 8, strlen(other + 8) - 16);
	strcpy(tok + 8 + strlen(other + 8) - 16, good + n - 16);
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", tok,
	    strlen(tok)), 0, "a day moved forward under the old MAC is rejected");
	/* An undated token's MAC does not pass as a dated one's, nor the other way. */
	snprintf(tok, sizeof(tok), "%.8s-a-%s", good, old + 4);
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", tok,
	    strlen(tok)), 0, "an undated MAC under a dated id is rejected");
	/* The undated form keeps its checks. */
	for (i = 4, accepted = 0; i < strlen(old); i++) {
		strcpy(tok, old);
		tok[i] = tok[i] == 'a' ? 'b' : 'a';
		accepted += token_verify(secret_seq, "unsubscribe", 12345,
		    "ana@example.org", tok, strlen(old));
	}
	is_int(accepted, 0, "a tampered undated MAC is rejected at each of its 16 positions");
	is_int(token_verify(secret_seq, "unsubscribe", 12346, "ana@example.org",
	    "mb2-ihculd47lycpoepm", strlen(old)), 0, "an undated MAC moved to another id rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", old,
	    strlen(old) - 1), 0, "truncated token rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org",
	    "ambz-ihculd47lycpoepm", strlen(old) + 1), 0, "leading zero digit rejected");
}

struct malformed {
	const char *token;
	const char *why;
};

static const struct malformed malformed[] = {
	{ "", "empty" },
	{ "-", "a dash alone" },
	{ "mbz", "no dash" },
	{ "mbz-", "no MAC" },
	{ "-ihculd47lycpoepm", "no id" },
	{ "mbz-ihculd47lycpoep", "MAC of 15" },
	{ "mbz-ihculd47lycpoepmm", "MAC of 17" },
	{ "ab-ihculd47lycpoepm", "leading zero digit" },
	{ "aa-ihculd47lycpoepm", "zero written twice" },
	{ "m1z-ihculd47lycpoepm", "'1' is not base32" },
	{ "m8z-ihculd47lycpoepm", "'8' is not base32" },
	{ "mbz-ihculd47lycpoep1", "'1' in the MAC" },
	{ "mbz-ihculd47lycpoe.m", "'.' in the MAC" },
	{ "mbz-ihculd47lycpo-pm", "second dash inside the MAC" },
	{ "mbz+ihculd47lycpoepm", "'+' for the dash" },
	{ "mbz ihculd47lycpoepm", "space for the dash" },
	{ "q777777777777-3drmyzf5vkors4tu", "id of 2^64 overflows" },
	{ "baaaaaaaaaaaaa-3drmyzf5vkors4tu", "id of 14 digits" },
	{ "mbz-ihculd47lycpoe\xc3\xa9", "8-bit bytes" },
	{ "aaaabcd-t6k-pgr6spg7kgcwed4b", "dated: the id of 7 digits, not 8" },
	{ "aaaaaabcd-t6k-pgr6spg7kgcwed4b", "dated: the id of 9 digits" },
	{ "aaaaabcd--pgr6spg7kgcwed4b", "dated: no day" },
	{ "aaaaabcd-at6k-pgr6spg7kgcwed4b", "dated: a leading zero in the day" },
	{ "aaaaabcd-bt6kb-pgr6spg7kgcwed4b", "dated: a day of five digits" },
	{ "aaaaabcd-t6k-pgr6spg7kgcwed4b-", "dated: a third dash" },
	{ "aaaaabcd-t6k-pgr6spg7kgcwed4", "dated: a MAC of 14" },
};

static void
test_malformed(void)
{
	unsigned long long id = 77;
	long day = 7;
	size_t i;

	for (i = 0; i < ARRAY_LEN(malformed); i++) {
		const char *t = malformed[i].token;
		ok(token_parse(secret_seq, t, strlen(t), &id, &day) == -1 && id == 77 && day == 7 &&
		    token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", t,
		    strlen(t)) == 0, "malformed: %s", malformed[i].why);
	}
	ok(token_parse(secret_seq, "mbz-ihculd47\0ycpoepm", 20, &id, &day) == -1,
	    "malformed: NUL inside");
	ok(token_parse(secret_seq, NULL, 0, &id, &day) == -1, "malformed: NULL");
}

/* ---- the secret file ---- */

static char tmpdir[] = "/tmp/t_token.XXXXXX";

static char *
tpath(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static int
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd == -1 || write(fd, data, len) != (ssize_t)len)
		return -1;
	fchmod(fd, mode);
	return close(fd);
}

static size_t
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
test_secret_create(void)
{
	unsigned char a[TOKEN_SECRET_LEN], b[TOKEN_SECRET_LEN], c[TOKEN_SECRET_LEN];
	char err[256] = "", *state = tpath("state"), *path = tpath("state/secret");
	char *other = tpath("other-secret");
	struct stat st;

	is_int(token_secret_load(path, a, err, sizeof(err)), 0, "secret: created when missing");
	if (err[0])
		tap_diag("%s", err);
	ok(stat(state, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	    "secret: missing parent directory created 0700");
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600,
	    "secret: file mode 0600");
	is_int(st.st_size, TOKEN_SECRET_LEN, "secret: 32 bytes");
	is_int((long long)dir_entries(state), 1, "secret: no temporary file left behind");
	is_int(token_secret_load(path, b, err, sizeof(err)), 0, "secret: loaded again");
	ok(memcmp(a, b, sizeof(a)) == 0, "secret: the same bytes the second time");
	is_int(token_secret_load(other, c, NULL, 0), 0, "secret: a second one (err NULL)");
	ok(memcmp(a, c, sizeof(a)) != 0, "secret: two new secrets differ");
	free(state);
	free(path);
	free(other);
}

struct refuse {
	const char *file;	/* under tmpdir */
	size_t size;
	mode_t mode;
	const char *err;	/* a part of the message */
};

static const struct refuse refusals[] = {
	{ "s0644", 32, 0644, "mode 0644" },
	{ "s0640", 32, 0640, "mode 0640" },
	{ "s0604", 32, 0604, "mode 0604" },
	{ "s0620", 32, 0620, "mode 0620" },
	{ "short", 31, 0600, "31 bytes, not 32" },
	{ "long", 33, 0600, "33 bytes, not 32" },
	{ "empty", 0, 0600, "0 bytes, not 32" },
};

static void
test_secret_refuse(void)
{
	unsigned char s[TOKEN_SECRET_LEN], data[64];
	char err[256], *path;
	size_t i;

	memset(data, 0x5a, sizeof(data));
	for (i = 0; i < ARRAY_LEN(refusals); i++) {
		const struct refuse *r = &refusals[i];
		path = tpath(r->file);
		write_file(path, data, r->size, r->mode);
		err[0] = '\0';
		if (!ok(token_secret_load(path, s, err, sizeof(err)) == -1 &&
		    strstr(err, r->err) && strstr(err, path),
		    "secret: refused: %s", r->file))
			tap_diag("err: %s", err);
		free(path);
	}
	path = tpath("s0400");
	write_file(path, data, 32, 0400);
	ok(token_secret_load(path, s, err, sizeof(err)) == 0 && s[0] == 0x5a,
	    "secret: a read-only 0400 secret is fine");
	free(path);
	path = tpath("state");
	ok(token_secret_load(path, s, err, sizeof(err)) == -1 &&
	    strstr(err, "not a regular file"), "secret: a directory is refused");
	free(path);
	path = tpath("no/such/secret");
	ok(token_secret_load(path, s, err, sizeof(err)) == -1 && err[0],
	    "secret: only the parent directory is created");
	free(path);
}

static void
cleanup(void)
{
	static const char *files[] = {
		"state/secret", "state", "other-secret", "s0644", "s0640", "s0604",
		"s0620", "short", "long", "empty", "s0400",
	};
	size_t i;
	char *p;

	for (i = 0; i < ARRAY_LEN(files); i++) {
		p = tpath(files[i]);
		if (remove(p) == -1)
			tap_diag("cannot remove %s", p);
		free(p);
	}
	rmdir(tmpdir);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < TOKEN_SECRET_LEN; i++) {
		secret_seq[i] = (unsigned char)i;
		secret_ff[i] = 0xff;
	}
	test_vectors();
	test_round_trip();
	test_forgeries();
	test_malformed();
	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	test_secret_create();
	test_secret_refuse();
	cleanup();
	return done_testing();
}
