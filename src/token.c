/*
 * token.c - HMAC tokens for VERP bounces, unsubscribe addresses and
 * Message-IDs; the secret file they are made with.
 */
#define _GNU_SOURCE		/* mkostemp */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "util.h"

#define MAC_BYTES 10		/* 80 bits */
#define MAC_CHARS 16		/* MAC_BYTES * 8 / 5 */
#define ID_CHARS_MAX 13		/* 64 bits in base32 */

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

static void
token_mac(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, unsigned char mac[32])
{
	struct buf msg = BUF_INIT;
	const char *p;

	buf_adds(&msg, purpose ? purpose : "");
	buf_addc(&msg, '\0');
	buf_addf(&msg, "%llu", id);
	buf_addc(&msg, '\0');
	for (p = address ? address : ""; *p; p++)
		buf_addc(&msg, (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p));
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, TOKEN_SECRET_LEN,
	    msg.data, msg.len, mac) < 0)
		fatalx("token: hmac-sha256 unavailable");
	buf_free(&msg);
}

void
token_make(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, char out[TOKEN_MAX])
{
	unsigned char mac[32];
	char digits[ID_CHARS_MAX];
	size_t n = 0, i, o = 0;
	unsigned long long v = id;

	do {
		digits[n++] = b32[v & 31];
		v >>= 5;
	} while (v);
	while (n)
		out[o++] = digits[--n];
	out[o++] = '-';
	token_mac(secret, purpose, id, address, mac);
	for (i = 0; i < MAC_CHARS; i++) {
		size_t bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned w = (unsigned)mac[byte] << 8 | (byte + 1 < MAC_BYTES ? mac[byte + 1] : 0);
		out[o++] = b32[(w >> (11 - shift)) & 31];
	}
	out[o] = '\0';
}

int
token_parse(const char *token, size_t len, unsigned long long *id)
{
	const char *dash = token ? memchr(token, '-', len) : NULL;
	size_t n, i;
	unsigned long long v = 0;

	if (dash == NULL)
		return -1;
	n = (size_t)(dash - token);
	if (n == 0 || n > ID_CHARS_MAX || len - n - 1 != MAC_CHARS ||
	    (n > 1 && b32_value(token[0]) == 0))
		return -1;
	for (i = 0; i < n; i++) {
		if (b32_value(token[i]) < 0 || v > (~0ULL >> 5))
			return -1;
		v = v << 5 | (unsigned long long)b32_value(token[i]);
	}
	for (i = n + 1; i < len; i++)
		if (b32_value(token[i]) < 0)
			return -1;
	*id = v;
	return 0;
}

int
token_verify(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, const char *token, size_t len)
{
	char want[TOKEN_MAX];
	unsigned long long got;
	unsigned char diff = 0;
	size_t i;

	if (token_parse(token, len, &got) == -1 || got != id)
		return 0;
	token_make(secret, purpose, id, address, want);
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
