/*
 * t_token.c - token.c: fixed vectors, round trips, forgeries, the secret file.
 *
 * The fixed vectors were computed independently with Python's hmac module:
 *   hmac.new(secret, purpose + b"\0" + str(id) + b"\0" + address.lower(),
 *            sha256).digest()[:10], base32 lowercase; id in base32 digits.
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

static void
test_vectors(void)
{
	char tok[TOKEN_MAX];
	size_t i;

	for (i = 0; i < ARRAY_LEN(vectors); i++) {
		const struct vector *v = &vectors[i];
		token_make(v->secret, v->purpose, v->id, v->address, tok);
		is_str(tok, v->token, "fixed vector (python hmac)");
		is_int(token_verify(v->secret, v->purpose, v->id, v->address,
		    v->token, strlen(v->token)), 1, "fixed vector verifies");
	}
	is_int(strlen(vectors[3].token), 30, "the longest token is 30 characters");
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
	return dashes == 1;
}

static void
test_round_trip(void)
{
	static const unsigned long long ids[] = {
		0, 1, 31, 32, 1023, 1024, 12345, 4294967296ULL,
		9007199254740993ULL, 18446744073709551615ULL,
	};
	char tok[TOKEN_MAX];
	unsigned long long got;
	size_t i;
	int bad = 0;

	for (i = 0; i < ARRAY_LEN(ids); i++) {
		token_make(secret_seq, "bounce", ids[i], "ana@example.org", tok);
		got = ids[i] + 1;
		if (token_parse(tok, strlen(tok), &got) != 0 || got != ids[i] ||
		    !token_charset_ok(tok) || strlen(tok) >= TOKEN_MAX ||
		    !token_verify(secret_seq, "bounce", ids[i], "ana@example.org",
		    tok, strlen(tok))) {
			tap_diag("round trip failed for %llu: %s", ids[i], tok);
			bad++;
		}
	}
	is_int(bad, 0, "round trip: make, parse, verify; only a-z 2-7 and one '-'");
	/* Parsing takes a length: a token inside a longer string. */
	ok(token_parse("mbz-ihculd47lycpoepm@ogp.example", 20, &got) == 0 && got == 12345,
	    "parse reads only len bytes");
	ok(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org",
	    "mbz-ihculd47lycpoepm@ogp.example", 20), "verify reads only len bytes");
	ok(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org",
	    "MBZ-IHCULD47LYCPOEPM", 20), "a relay's upper case is still accepted");
}

static void
test_forgeries(void)
{
	const char *good = "mbz-ihculd47lycpoepm";
	char tok[TOKEN_MAX];
	size_t i, n = strlen(good);
	int accepted = 0;

	/* Every single-character change of the MAC is caught. */
	for (i = 4; i < n; i++) {
		strcpy(tok, good);
		tok[i] = tok[i] == 'a' ? 'b' : 'a';
		accepted += token_verify(secret_seq, "unsubscribe", 12345,
		    "ana@example.org", tok, n);
	}
	is_int(accepted, 0, "tampered MAC rejected at each of its 16 positions");
	is_int(token_verify(secret_seq, "bounce", 12345, "ana@example.org", good, n), 0,
	    "wrong purpose rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "eve@example.org", good, n), 0,
	    "wrong address rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12346, "ana@example.org", good, n), 0,
	    "wrong id rejected");
	is_int(token_verify(secret_ff, "unsubscribe", 12345, "ana@example.org", good, n), 0,
	    "wrong secret rejected");
	/* The id in the token is bound by the MAC: moving the MAC to another id fails. */
	is_int(token_verify(secret_seq, "unsubscribe", 12346, "ana@example.org",
	    "mb2-ihculd47lycpoepm", n), 0, "MAC moved to another id rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", good, n - 1), 0,
	    "truncated token rejected");
	is_int(token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org",
	    "ambz-ihculd47lycpoepm", n + 1), 0, "leading zero digit rejected");
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
	{ "mbz-ihculd47lycpo-pm", "second dash" },
	{ "mbz+ihculd47lycpoepm", "'+' for the dash" },
	{ "mbz ihculd47lycpoepm", "space for the dash" },
	{ "q777777777777-3drmyzf5vkors4tu", "id of 2^64 overflows" },
	{ "baaaaaaaaaaaaa-3drmyzf5vkors4tu", "id of 14 digits" },
	{ "mbz-ihculd47lycpoe\xc3\xa9", "8-bit bytes" },
};

static void
test_malformed(void)
{
	unsigned long long id = 77;
	size_t i;

	for (i = 0; i < ARRAY_LEN(malformed); i++) {
		const char *t = malformed[i].token;
		ok(token_parse(t, strlen(t), &id) == -1 && id == 77 &&
		    token_verify(secret_seq, "unsubscribe", 12345, "ana@example.org", t,
		    strlen(t)) == 0, "malformed: %s", malformed[i].why);
	}
	ok(token_parse("mbz-ihculd47\0ycpoepm", 20, &id) == -1, "malformed: NUL inside");
	ok(token_parse(NULL, 0, &id) == -1, "malformed: NULL");
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
