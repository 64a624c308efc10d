/*
 * token.h - short authenticated tokens, and the secret they are made with.
 *
 * A token names one delivery row without trusting anything else in a
 * message: "bounces+TOKEN@", "unsubscribe+TOKEN@", and the part of a
 * Message-ID after its last '.' ("release.TOKEN@domain"). Its form:
 *
 *   base32(E(id)) "-" base32(day) "-" base32(first 80 bits of
 *       HMAC-SHA256(secret, "2" NUL purpose NUL id NUL day NUL address))
 *
 * with id and day in decimal inside the MAC. E is a permutation of 40-bit
 * numbers under the secret (a four-round Feistel network on SipHash), so
 * a token does not tell how many rows the journal has; it is always 8
 * characters (row ids up to TOKEN_ID_MAX, a trillion). day is the day the
 * token was made, in days since 1970-01-01 UTC, so that an old token can
 * be refused (tokens.max_age).
 *
 * Tokens made before days were carried have one '-' and no day:
 *
 *   base32(id) "-" base32(first 80 bits of HMAC-SHA256(secret,
 *                         purpose NUL id-in-decimal NUL address))
 *
 * and still verify (token_parse gives their day as TOKEN_UNDATED).
 *
 * base32 is lowercase RFC 4648 (a-z2-7); numbers are written most
 * significant digit first, with no leading 'a' (zero) digits but in E(id).
 * At most 8 + 1 + 4 + 1 + 16 = 30 characters (29 until the year 2059),
 * none of them '.', '+' or '@'. The
 * address is lowercased before hashing (addr.c's canonical form is
 * lowercase already), and tokens are read case-insensitively, so a relay
 * that changes the case of a local part does not break them.
 *
 * token_make/parse/verify are pure; token_secret_load does file I/O.
 */
#ifndef HERALD_TOKEN_H
#define HERALD_TOKEN_H

#include <stddef.h>

#define TOKEN_SECRET_LEN 32
#define TOKEN_MAX 48		/* bytes for a token and its NUL; 31 are used */
#define TOKEN_UNDATED (-1L)	/* the day of a token made before days were carried */
#define TOKEN_DAY_MAX 1048575L	/* four base32 digits: the year 4840 */
#define TOKEN_ID_MAX ((1ULL << 40) - 1)	/* a dated token's row id: 40 bits */

/*
 * Writes the NUL-terminated token for (purpose, id, address) made on day
 * (days since 1970-01-01 UTC, 0..TOKEN_DAY_MAX) into out. purpose names
 * what the token is for ("bounce", "unsubscribe", ...) so that a token
 * made for one use is not valid for another.
 */
void token_make(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, long day, char out[TOKEN_MAX]);

/*
 * Parses the id and the day out of the len bytes of token (no NUL
 * needed); *day is TOKEN_UNDATED for a token of the old form. Returns 0,
 * or -1 when the token is malformed (then *id and *day are untouched).
 * Parsing does not authenticate: call token_verify before acting on it.
 */
int token_parse(const unsigned char secret[TOKEN_SECRET_LEN], const char *token, size_t len,
    unsigned long long *id, long *day);

/*
 * 1 when token (len bytes) is the one token_make gives for these inputs,
 * else 0. The MAC is compared in constant time.
 */
int token_verify(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, const char *token, size_t len);

/*
 * Loads the secret at path into secret. When the file does not exist it
 * is created first: TOKEN_SECRET_LEN random bytes, mode 0600, written to a
 * temporary file, fsynced and hard-linked into place, so that a secret
 * created by a concurrent process is never overwritten: the first one wins
 * and both use it (on a file system without hard links it is renamed into
 * place instead). The parent directory, not its parents, is created 0700
 * when missing. A secret file
 * that is not a regular file, is readable or writable by group or others,
 * or is not exactly TOKEN_SECRET_LEN bytes is refused. Returns 0, or -1
 * with a lowercase message (naming path) in err (errlen bytes).
 */
int token_secret_load(const char *path, unsigned char secret[TOKEN_SECRET_LEN],
    char *err, size_t errlen);

#endif
