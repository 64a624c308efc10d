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
 * The journal keeps a segment as text, the --where form one pair a line:
 * "beat=energy\nbeat=climate\nregion=americas\n". Keys hold no '=',
 * whitespace or control character and values no control character (no
 * subscriber field could equal one), so the text needs no escaping.
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
	const struct ynode *node;	/* the key in a release file, or NULL */
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

/* The journal's form; "" for an empty segment. The caller owns it. */
char *segment_text(const struct segment *sg);
/* The journal's form back into *sg (emptied first); -1 when text is not one. */
int segment_parse_text(struct segment *sg, const char *text);
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

#endif
