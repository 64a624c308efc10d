/*
 * schema.h - checks shared by every loader of a YAML tree: known keys
 * (with "did you mean"), required keys, and typed scalar reads. All report
 * to a struct diag with the position of the node at fault.
 */
#ifndef HERALD_SCHEMA_H
#define HERALD_SCHEMA_H

#include "diag.h"
#include "yamltree.h"

/* The known key nearest to `key` when it is a plausible typo, else NULL. */
const char *schema_suggest(const char *key, const char *const *known);

/*
 * 1 when n is a mapping; else reports "expected a mapping for WHAT, got ..."
 * at n (or at `parent` when n is NULL) and returns 0.
 */
int schema_is_map(const struct ynode *n, const char *what, struct diag *d);

/* Reports every key of map not in the NULL-terminated `known`. Returns the number reported. */
size_t schema_unknown_keys(const struct ynode *map, const char *const *known,
    struct diag *d);
/*
 * Reports key k as unknown, with the nearest of `known` when it is a
 * plausible typo: "unknown key 'titel' in WHERE; did you mean 'title'?"
 * (where NULL: no " in WHERE").
 */
void schema_unknown_key(const struct ynode *k, const char *const *known, const char *where,
    struct diag *d);

/*
 * 1 when the scalar v is a language tag in its one spelling (lang.h);
 * else reports at v what is wrong with it (what names the key: "lang")
 * and returns 0.
 */
int schema_lang(const struct ynode *v, const char *what, struct diag *d);

/*
 * The string value of key in map, or NULL. When absent (or null) and
 * `required`, reports "missing required key 'KEY' in WHERE" at the map.
 * When present but not a scalar, reports "expected a string for 'KEY', got a list".
 */
const char *schema_string(const struct ynode *map, const char *key, int required,
    const char *where, struct diag *d);

/* Reports an error at node n: "FILE:LINE:COL: message". */
void schema_error(struct diag *d, const struct ynode *n, const char *fmt, ...)
    HERALD_PRINTF(3, 4);

/*
 * Parses a duration ("90s", "5m", "2h", "7d", "1w"; a bare number is seconds).
 * Returns 0 with *secs, or -1.
 */
int schema_parse_duration(const char *s, unsigned long long *secs);

/* A positive integer; returns 0 with *out, or -1. */
int schema_parse_uint(const char *s, unsigned long long max, unsigned long long *out);

#endif
