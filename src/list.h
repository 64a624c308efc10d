/*
 * list.h - lists/NAME.yaml, read as a stream.
 *
 * A list may hold a million subscribers, so it is never loaded whole: the
 * file is read through libyaml event by event, each subscriber entry is
 * built into a small tree of its own (reused for the next), validated,
 * handed to a callback and forgotten. What is kept per subscriber is one
 * 64-bit hash of its canonical address, for duplicate detection. When a
 * hash repeats, the file is streamed a second time to find the first
 * occurrence's line for the error message (and to tell a true duplicate
 * from a hash collision); lists without duplicates are read once.
 *
 * File format (DESIGN.md): top-level keys id, name, description,
 * template, digest { template, schedule }, tz, lang, fields, subscribers
 * (required, a list). A subscriber is "Name <addr>" or a mapping with
 * email (required), name, delivery (each | digest), tz (an IANA zone
 * name), lang (a language tag, lang.h) and any other key, a template
 * field whose value must be a scalar. No name, field or
 * address may hold CR, LF or another control character.
 *
 * Every problem is reported to a struct diag as FILE:LINE:COL and reading
 * goes on, except after bad YAML syntax, which stops the reader. Errors
 * come in file order, but repeated subscribers ("duplicate subscriber
 * 'x' (first at line N)", found by the second reading) come after the
 * rest.
 */
#ifndef HERALD_LIST_H
#define HERALD_LIST_H

#include <stddef.h>

#include "diag.h"
#include "yamltree.h"

enum delivery { DELIVERY_EACH, DELIVERY_DIGEST };

/*
 * What the file says about the list itself. Every string is owned by the
 * struct and freed by list_info_free(); absent keys are NULL (id defaults
 * to the file's stem). Keys may come after `subscribers` in the file, so
 * the struct is complete only when list_load() returns: a callback sees
 * only the keys above the subscribers and counts that are still growing.
 */
struct list_info {
	char *file;			/* the path given to list_load */
	char *id;			/* `id:`, else the file stem; never NULL */
	char *name, *description;
	char *template_name;		/* `template:` */
	char *digest_template, *digest_schedule;	/* `digest:`; NULL when absent */
	char *tz;			/* `tz:`, the zone of the digest schedule; NULL when absent */
	char *lang;			/* `lang:`, its readers' language; NULL when absent */
	char **langs;			/* every subscriber's `lang`, once each */
	size_t nlangs, caplangs;
	unsigned template_line, template_col;	/* of the `template:` value, for "unknown template" */
	unsigned digest_template_line, digest_template_col;	/* of digest's `template:` value */
	size_t n_subscribers;		/* valid subscribers handed to the callback */
	size_t n_digest;		/* of which delivery: digest */
	char **fields;			/* every template field some subscriber has, once */
	size_t *field_counts;		/* how many subscribers have each */
	size_t nfields, capfields;
	int fields_declared;		/* `fields:` names them: no subscriber may have another */
};

/*
 * One subscriber, valid only during the callback: every pointer belongs
 * to the reader and is reused for the next subscriber.
 */
struct subscriber {
	const char *email;		/* canonical (addr.h) */
	const char *name;		/* UTF-8, or NULL */
	enum delivery delivery;
	const char *tz;			/* IANA zone name, or NULL */
	const char *lang;		/* a language tag in its one spelling (lang.h), or NULL */
	unsigned line, col;		/* of the entry in the file */
	/*
	 * A mapping for templates (`subscriber.*`): email (canonical), name
	 * (when given) and every template field, all scalars; delivery, tz
	 * and lang are herald's and not in it. Built only when list_load() was given a callback.
	 */
	struct ynode *fields;
	struct ydoc *doc;		/* owns fields; callbacks may add nodes to it */
};

/* Return nonzero to stop the stream (list_load then returns 1). */
typedef int (*list_sub_fn)(void *arg, const struct list_info *info,
    const struct subscriber *s);

/*
 * Reads, validates and streams the list at path. fn (may be NULL) is
 * called for each valid subscriber, in file order (with one exception too
 * rare to matter in practice: a subscriber whose address's 64-bit hash
 * collides with an earlier address is called back after the rest).
 * Subscribers repeated later in the file are errors and are not called
 * back. A callback may be called before an error later in the file is
 * found, so act on nothing until list_load() returned 0.
 *
 * Fills *info (zeroed first; free it with list_info_free() whatever the
 * result). Returns -1 after reporting errors to d (even when fn stopped
 * the stream), else 1 when fn stopped the stream, else 0.
 */
int list_load(const char *path, struct list_info *info, list_sub_fn fn,
    void *arg, struct diag *d);
/* Frees the members and zeroes *info; accepts NULL. */
void list_info_free(struct list_info *info);

/*
 * A list id: letters, digits, '.', '-', '_'; not empty, no leading dot, at
 * most 128 bytes: safe as a file name and in List-Id. Releases name lists
 * by it, so both sides check with this one rule.
 */
int list_id_ok(const char *s, size_t len);

/*
 * 1 when len bytes of s name a time zone a subscriber's `tz` may: an IANA
 * name (words, '/', '-', '_', '+') of a zone file under /usr/share/zoneinfo.
 */
int list_tz_known(const char *s, size_t len);

#endif
