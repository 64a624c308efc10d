/*
 * token.h - short authenticated tokens, and the secret they are made with.
 *
 * A token names one delivery row without trusting anything else in a
 * message: "bounces+TOKEN@", "unsubscribe+TOKEN@", and the part of a
 * Message-ID after its last '.' ("release.TOKEN@domain"). Its form:
 *
 *   base32(id) "-" base32(first 80 bits of HMAC-SHA256(secret,
 *                         purpose NUL id-in-decimal NUL address))
 *
 * base32 is lowercase RFC 4648 (a-z2-7); the id is a plain number in it,
 * most significant digit first, no leading 'a' (zero) digits. At most 13 +
 * 1 + 16 = 30 characters, none of them '.', '+' or '@'. The address is
 * lowercased before hashing (addr.c's canonical form is lowercase already),
 * and tokens are read case-insensitively, so a relay that changes the case
 * of a local part does not break them.
 *
 * token_make/parse/verify are pure; token_secret_load does file I/O.
 */
#ifndef HERALD_TOKEN_H
#define HERALD_TOKEN_H

#include <stddef.h>

#define TOKEN_SECRET_LEN 32
#define TOKEN_MAX 48		/* bytes for a token and its NUL; 31 are used */

/*
 * Writes the NUL-terminated token for (purpose, id, address) into out.
 * purpose names what the token is for ("bounce", "unsubscribe", ...) so
 * that a token made for one use is not valid for another.
 */
void token_make(const unsigned char secret[TOKEN_SECRET_LEN], const char *purpose,
    unsigned long long id, const char *address, char out[TOKEN_MAX]);

/*
 * Parses the id out of the len bytes of token (no NUL needed). Returns 0,
 * or -1 when the token is malformed (then *id is untouched). Parsing does
 * not authenticate: call token_verify before acting on the id.
 */
int token_parse(const char *token, size_t len, unsigned long long *id);

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
