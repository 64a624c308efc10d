/*
 * lang.h - language tags, and which version of a text serves a reader.
 * Pure: strings in, answers out.
 *
 * The tags herald takes are the common part of BCP 47 (RFC 5646): a
 * language of 2 or 3 letters, then optionally a script of 4 letters, then
 * optionally a region of 2 letters or 3 digits, joined by '-': "es",
 * "pt-BR", "es-419", "zh-Hant-TW". Extensions, variants and private use
 * are not taken. Each tag has one spelling, the one BCP 47 recommends
 * (language lowercase, script titlecase, region uppercase): it names
 * template files (T.pt-BR.yaml), and "pt-br" beside "pt-BR" would be two
 * languages to a file system and one to a reader.
 *
 * A reader of "pt-BR" is served by a "pt-BR" version, else by a "pt" one
 * (RFC 4647 lookup: subtags dropped from the end), never by "pt-PT".
 */
#ifndef HERALD_LANG_H
#define HERALD_LANG_H

#include <stddef.h>

#define LANG_MAX 16		/* the longest tag taken, with its NUL, fits */

/*
 * Checks len bytes of s. 0: a tag as herald takes it; 1: a tag in another
 * case ("pt-br"), canon (LANG_MAX bytes) then holds its one spelling; -1:
 * not a tag herald takes.
 */
int lang_tag_check(const char *s, size_t len, char canon[LANG_MAX]);

/* 1 when s is a tag in its one spelling. */
int lang_tag_ok(const char *s);

/*
 * How well a version in language `have` serves a reader of `want`: 0 not
 * at all, else the length of have (a longer match is a closer one). Both
 * are tags in their one spelling.
 */
size_t lang_serves(const char *have, const char *want);

#endif
