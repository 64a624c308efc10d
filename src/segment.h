/*
 * segment.h - who of a release's lists it goes to: a release's `where`
 * and the command line's --where KEY=VALUE. Pure: no I/O, no clock.
 *
 * A segment is a set of keys, each with the values it may have. A
 * subscriber is in it when, for every key (keys are ANDed), their field of
 * that name equals one of its values (values are ORed). Values compare as
 * exact text, byte for byte: `2017` matches `2017` and "2017", not
 * `2017.0`; case matters. A subscriber without the field is left out. The
 * fields are those templates see as `subscriber.*`: email (canonical),
 * name and every key of the subscriber's own. An empty segment (no keys)
 * keeps everyone.
 *
 * A segment's text is the --where form, one pair a line:
 * "beat=energy\nbeat=climate\nregion=americas\n". Keys hold no '=',
 * whitespace or control character and values no control character (no
 * subscriber field could equal one), so the text needs no escaping.
 *
 * The journal keeps every segment a release went to (a send by hand may
 * reach another segment of its lists later), as it keeps every list: a
 * segment set, whose text is each segment's text followed by an empty
 * line. A subscriber in any of them is in the set. Everyone is the empty
 * text: a send without a segment makes the set everyone for good.
 *
 * Every string in a struct segment is owned by it and freed by
 * segment_free().
 */
#ifndef HERALD_SEGMENT_H
#define HERALD_SEGMENT_H

#include <stddef.h>

#include "diag.h"
#include "util.h"
#include "yamltree.h"

struct segment_key {
	char *key;
	char **values;
	size_t nvalues;
	const struct ynode *node;	/* segment_from_yaml's: the key in the file; else NULL */
};

struct segment {
	struct segment_key *keys;	/* in the order first named */
	size_t nkeys;
};

/*
 * A release's `where` (a mapping of keys to a scalar or a non-empty list of
 * scalars) into *sg (emptied first). Every problem goes to d at its
 * position; returns 0, or -1 when there was one (*sg is then empty).
 */
int segment_from_yaml(struct segment *sg, const struct ynode *where, struct diag *d);
/*
 * Adds one KEY=VALUE (a repeated key adds a value to it). 0, or -1 with
 * what is wrong in err (no '=', an empty key or value, a key that is no
 * field name, a control character).
 */
int segment_add_arg(struct segment *sg, const char *arg, char *err, size_t errlen);
/*
 * base with each key of over replacing base's key of that name and the
 * others added, into *out (emptied first). Either may be NULL.
 */
void segment_combine(struct segment *out, const struct segment *base,
    const struct segment *over);

/* The text form; "" for an empty segment. The caller owns it. */
char *segment_text(const struct segment *sg);
/* For people: "beat=energy|climate region=americas"; "" when empty. Appends to out. */
void segment_describe(const struct segment *sg, struct buf *out);

/*
 * 1 when the subscriber whose field KEY has the value get(arg, KEY) (NULL:
 * no such field) is in sg, else 0. The one rule; the two below call it.
 */
int segment_match(const struct segment *sg, const char *(*get)(void *arg, const char *key),
    void *arg);
/* The same for a subscriber's fields mapping (list.h, struct subscriber.fields). */
int segment_match_fields(const struct segment *sg, const struct ynode *fields);
/* The same for the fields as render_fields_pack() packs them (key\0value\0...). */
int segment_match_packed(const struct segment *sg, const void *blob, size_t len);

/* Frees the members and zeroes *sg; accepts NULL. */
void segment_free(struct segment *sg);

struct segment_set {
	struct segment *v;		/* n segments, none empty; n == 0: everyone */
	size_t n;
};

/* The set of the one segment sg (everyone when it has no keys), into *set. */
void segment_set_one(struct segment_set *set, const struct segment *sg);
/* The journal's text into *set (emptied first); -1 when text is not a set's. */
int segment_set_parse(struct segment_set *set, const char *text);
/* The journal's text; "" for everyone. The caller owns it. */
char *segment_set_text(const struct segment_set *set);
/* Adds sg (everyone absorbs every segment; a segment already there is not added twice). */
void segment_set_add(struct segment_set *set, const struct segment *sg);
/* 1 when the packed fields (or the mapping) are in some segment of set, or set is everyone. */
int segment_set_match_packed(const struct segment_set *set, const void *blob, size_t len);
int segment_set_match_fields(const struct segment_set *set, const struct ynode *fields);
/* For people: each segment described, ", or " between them; "" for everyone. */
void segment_set_describe(const struct segment_set *set, struct buf *out);
void segment_set_free(struct segment_set *set);

#endif
