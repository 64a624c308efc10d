/*
 * token.c - HMAC tokens for VERP bounces, unsubscribe addresses and
 * Message-IDs; the secret file they are made with.
 */
#define _GNU_SOURCE		/* mkostemp */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <sodium.h>

#include "util.h"

#define MAC_BYTES 10		/* 80 bits */
#define MAC_CHARS 16		/* MAC_BYTES * 8 / 5 */
#define ID_CHARS_MAX 13		/* 64 bits in base32: an undated token's id */
#define EID_CHARS 8		/* 40 bits: a dated token's permuted id */
#define EID_HALF 20		/* bits in each half of the Feistel network */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static int
b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* The MAC of an old token (no day), or of a new one (day >= 0). */
static void
token_mac(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, long day, unsigned char mac[32])
{
	struct buf msg = BUF_INIT;
	const char *p;

	if (day != TOKEN_UNDATED) {
		buf_adds(&msg, "2");
		buf_addc(&msg, '\0');
	}
	buf_adds(&msg, purpose ? purpose : "");
	buf_addc(&msg, '\0');
	buf_addf(&msg, "%llu", id);
	buf_addc(&msg, '\0');
	if (day != TOKEN_UNDATED) {
		buf_addf(&msg, "%ld", day);
		buf_addc(&msg, '\0');
	}
	for (p = address ? address : ""; *p; p++)
		buf_addc(&msg, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, TOKEN_SECRET_LEN,
	    msg.data, msg.len, mac) < 0)
		fatalx("token: hmac-sha256 unavailable");
	buf_free(&msg);
}

/*
 * The id (below 2^40) permuted under the secret, or back (decrypt): a
 * balanced Feistel network of four rounds on 20-bit halves, each round
 * SipHash-2-4 under a key derived from the secret. Four rounds of a
 * pseudorandom function make a pseudorandom permutation (Luby-Rackoff),
 * which is all a token needs: the id part no longer counts the
 * journal's rows.
 */
/*
 * The permutation's key: the first bytes of HMAC-SHA256(secret, label).
 * A message makes three tokens, each thread many messages under one
 * secret: derived once per thread and secret, not once per token.
 */
static const unsigned char *
token_permute_key(const unsigned char secret[TOKEN_SECRET_LEN])
{
	static const char label[] = "herald token id";
	static __thread unsigned char of[TOKEN_SECRET_LEN], key[crypto_shorthash_KEYBYTES];
	static __thread int have;
	unsigned char full[32];

	if (have && memcmp(of, secret, TOKEN_SECRET_LEN) == 0)
		return key;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, TOKEN_SECRET_LEN, label,
	    sizeof(label) - 1, full) < 0)
		fatalx("token: hmac-sha256 unavailable");
	memcpy(key, full, sizeof(key));
	memcpy(of, secret, TOKEN_SECRET_LEN);
	have = 1;
	return key;
}

static unsigned long long
token_permute(const unsigned char secret[TOKEN_SECRET_LEN], unsigned long long v, int decrypt)
{
	const unsigned char *key = token_permute_key(secret);
	unsigned char in[5], out[crypto_shorthash_BYTES];
	const uint32_t mask = (1U << EID_HALF) - 1;
	uint32_t l = (uint32_t)(v >> EID_HALF) & mask, r = (uint32_t)v & mask, f, t;
	int i, round;

	for (i = 0; i < 4; i++) {
		round = decrypt ? 3 - i : i;
		in[0] = (unsigned char)round;
		/* The round function reads the half that this round leaves as it is. */
		t = decrypt ? l : r;
		in[1] = (unsigned char)(t >> 24);
		in[2] = (unsigned char)(t >> 16);
		in[3] = (unsigned char)(t >> 8);
		in[4] = (unsigned char)t;
		crypto_shorthash(out, in, sizeof(in), key);
		f = ((uint32_t)out[0] << 16 | (uint32_t)out[1] << 8 | out[2]) & mask;
		if (!decrypt) {
			t = l ^ f;
			l = r;
			r = t;
		} else {
			t = r ^ f;
			r = l;
			l = t;
		}
	}
	return (unsigned long long)l << EID_HALF | r;
}

/* v in base32 at out: width digits, or as few as it needs when width is 0. */
static size_t
b32_number(unsigned long long v, size_t width, char *out)
{
	char digits[ID_CHARS_MAX];
	size_t n = 0, o = 0;

	do {
		digits[n++] = b32[v & 31];
		v >>= 5;
	} while (v || n < width);
	while (n)
		out[o++] = digits[--n];
	return o;
}

/* The first MAC_BYTES of mac in base32 at out. */
static void
b32_mac(const unsigned char mac[32], char *out)
{
	size_t i;

	for (i = 0; i < MAC_CHARS; i++) {
		size_t bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned w = (unsigned)mac[byte] << 8 | (byte + 1 < MAC_BYTES ? mac[byte + 1] : 0);
		out[i] = b32[(w >> (11 - shift)) & 31];
	}
}

/* The old form, kept to verify tokens mailed before days were carried. */
static void
token_make_undated(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, char out[TOKEN_MAX])
{
	unsigned char mac[32];
	size_t o;

	o = b32_number(id, 0, out);
	out[o++] = '-';
	token_mac(secret, purpose, id, address, TOKEN_UNDATED, mac);
	b32_mac(mac, out + o);
	out[o + MAC_CHARS] = '\0';
}

void
token_make(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, long day, char out[TOKEN_MAX])
{
	unsigned char mac[32];
	size_t o;

	if (day < 0 || day > TOKEN_DAY_MAX)
		fatalx("token: day %ld out of range", day);
	if (id > TOKEN_ID_MAX)
		fatalx("token: row id %llu out of range", id);
	o = b32_number(token_permute(secret, id, 0), EID_CHARS, out);
	out[o++] = '-';
	o += b32_number((unsigned long long)day, 0, out + o);
	out[o++] = '-';
	token_mac(secret, purpose, id, address, day, mac);
	b32_mac(mac, out + o);
	out[o + MAC_CHARS] = '\0';
}

/* A base32 number of 1..max digits, no leading zero digit unless it is "a". */
static int
b32_parse(const char *s, size_t n, size_t max, int fixed, unsigned long long *v)
{
	size_t i;

	*v = 0;
	if (n == 0 || n > max || (fixed && n != max) || (!fixed && n > 1 && b32_value(s[0]) == 0))
		return -1;
	/* 13 digits hold 65 bits: the first is at most 15 ('p') for a 64-bit number. */
	if (n == ID_CHARS_MAX && b32_value(s[0]) > 15)
		return -1;
	for (i = 0; i < n; i++) {
		if (b32_value(s[i]) < 0)
			return -1;
		*v = *v << 5 | (unsigned long long)b32_value(s[i]);
	}
	return 0;
}

int
token_parse(const unsigned char secret[TOKEN_SECRET_LEN], const char *token, size_t len,
    unsigned long long *id, long *day)
{
	const char *d1 = token ? memchr(token, '-', len) : NULL, *d2, *mac;
	unsigned long long v, dv;
	size_t i;

	if (d1 == NULL)
		return -1;
	d2 = memchr(d1 + 1, '-', len - (size_t)(d1 + 1 - token));
	mac = (d2 ? d2 : d1) + 1;
	if ((size_t)(token + len - mac) != MAC_CHARS)
		return -1;
	for (i = 0; i < MAC_CHARS; i++)
		if (b32_value(mac[i]) < 0)
			return -1;
	if (d2 == NULL) {
		if (b32_parse(token, (size_t)(d1 - token), ID_CHARS_MAX, 0, &v) == -1)
			return -1;
		*id = v;
		*day = TOKEN_UNDATED;
		return 0;
	}
	if (b32_parse(token, (size_t)(d1 - token), EID_CHARS, 1, &v) == -1 ||
	    b32_parse(d1 + 1, (size_t)(d2 - d1 - 1), 4, 0, &dv) == -1)
		return -1;
	*id = token_permute(secret, v, 1);
	*day = (long)dv;
	return 0;
}

int
token_verify(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, const char *token, size_t len)
{
	char want[TOKEN_MAX];
	unsigned long long got;
	unsigned char diff = 0;
	long day;
	size_t i;

	if (token_parse(secret, token, len, &got, &day) == -1 || got != id)
		return 0;
	if (day == TOKEN_UNDATED)
		token_make_undated(secret, purpose, id, address, want);
	else
		token_make(secret, purpose, id, address, day, want);
	if (strlen(want) != len)
		return 0;
	for (i = 0; i < len; i++) {
		char c = token[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		diff |= (unsigned char)(c ^ want[i]);
	}
	return diff == 0;
}

static void HERALD_PRINTF(3, 4)
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
read_all(int fd, unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Returns 0 with the secret read, 1 when the file does not exist, -1 on error. */
static int
secret_read(const char *path, unsigned char secret[TOKEN_SECRET_LEN],
    char *err, size_t errlen)
{
	struct stat st;
	int fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			return 1;
		errf(err, errlen, "secret %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		errf(err, errlen, "secret %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "secret %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		errf(err, errlen, "secret %s: mode %04o lets group or others read or "
		    "write it; chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size != TOKEN_SECRET_LEN) {
		errf(err, errlen, "secret %s: %lld bytes, not %d", path,
		    (long long)st.st_size, TOKEN_SECRET_LEN);
		goto out;
	}
	if (read_all(fd, secret, TOKEN_SECRET_LEN) == -1) {
		errf(err, errlen, "secret %s: short read", path);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* The directory part of path ("." when none). The caller owns it. */
static char *
parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Puts tmp at path unless something is there already: a concurrent creator wins. */
static int
secret_publish(const char *tmp, const char *path)
{
	if (link(tmp, path) == 0 || errno == EEXIST)
		return 0;
	/* File systems without hard links: rename, which cannot refuse to replace. */
	if (errno == EPERM || errno == ENOTSUP || errno == ENOSYS)
		return rename(tmp, path);
	return -1;
}

static int
secret_create(const char *path, char *err, size_t errlen)
{
	unsigned char key[TOKEN_SECRET_LEN];
	char *dir = parent_dir(path), *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd = -1, dfd, r, created = 0, ret = -1;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		errf(err, errlen, "secret %s: cannot create %s: %s", path, dir, strerror(errno));
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		errf(err, errlen, "secret %s: cannot create it: %s", path, strerror(errno));
		goto out;
	}
	created = 1;
	if (gnutls_rnd(GNUTLS_RND_KEY, key, sizeof(key)) < 0) {
		errf(err, errlen, "secret %s: no random bytes from gnutls", path);
		goto out;
	}
	if (fchmod(fd, 0600) == -1 || write_all(fd, key, sizeof(key)) == -1 ||
	    fsync(fd) == -1) {
		errf(err, errlen, "secret %s: cannot write %s: %s", path, tmp, strerror(errno));
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r == -1) {
		errf(err, errlen, "secret %s: cannot write %s: %s", path, tmp, strerror(errno));
		goto out;
	}
	if (secret_publish(tmp, path) == -1) {
		errf(err, errlen, "secret %s: cannot put it in place: %s", path, strerror(errno));
		goto out;
	}
	/* Make the new name durable; some file systems refuse fsync on a directory. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	ret = 0;
out:
	gnutls_memset(key, 0, sizeof(key));
	if (fd != -1)
		close(fd);
	if (created)
		unlink(tmp);
	free(tmp);
	free(dir);
	return ret;
}

int
token_secret_load(const char *path, unsigned char secret[TOKEN_SECRET_LEN],
    char *err, size_t errlen)
{
	int attempt, r;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = secret_read(path, secret, err, errlen)) != 1)
			return r;
		if (secret_create(path, err, errlen) == -1)
			return -1;
	}
	errf(err, errlen, "secret %s: missing, and a new one cannot be put there", path);
	return -1;
}
