/*
 * addr.h - one mailbox ("Ana Pérez <ana@example.org>") to a canonical form.
 *
 * Parsing is libetpan's RFC 5322 mailbox parser; this file only adds the
 * checks a bulk sender needs on top of it, because libetpan is lenient (it
 * silently drops spaces inside an address, for one). An accepted address:
 *
 *   - is plain ASCII dot-atom "local@domain" (no quoted local part, no
 *     address literal, no comments, no SMTPUTF8: an IDN domain must be
 *     written in punycode);
 *   - has a domain made of hostname labels with at least one dot. There is
 *     deliberately no exception (not even "localhost"): a newsletter goes to
 *     the public internet, and a dotless domain there is always a typo;
 *   - is at most 254 octets, its local part at most 64;
 *   - holds no CR, LF or other control character, and neither does the
 *     display name, after RFC 2047 decoding: nothing from here can inject a
 *     header line.
 *
 * The canonical email is lowercased whole, local part included: herald
 * treats addresses case-insensitively, as practically every mailbox
 * provider does, so "Ana@Example.org" and "ana@example.org" are one
 * subscriber. Pure code: no I/O, no globals.
 */
#ifndef HERALD_ADDR_H
#define HERALD_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_MAX 254
#define ADDR_LOCAL_MAX 64

struct addr {
	char *name;		/* UTF-8 display name, or NULL when none (or empty) */
	char *email;		/* canonical: lowercase local@domain */
};

/*
 * Parses one mailbox from s (len bytes; NULs are rejected), ignoring
 * surrounding spaces and tabs. Returns 0 and fills *out (the caller frees
 * it with addr_clear), or -1 with *out zeroed and a short lowercase reason
 * in err ("missing '@'", "domain has no dot", ...).
 */
int addr_parse(const char *s, size_t len, struct addr *out, char *err,
    size_t errlen);
/* Frees the members and zeroes them; accepts a zeroed struct and NULL. */
void addr_clear(struct addr *a);
/*
 * A 64-bit hash (FNV-1a, then a murmur3 finalizer so that every bit of
 * the result depends on every input bit) of a canonical address, for
 * duplicate detection. Never 0, so tables may use 0 as "empty".
 */
uint64_t addr_hash(const char *canon, size_t len);

#endif
