/*
 * yamltree.h - libyaml events into a small tree that keeps positions.
 *
 * Every node knows its file, line and column (1-based, columns counted in
 * characters as libyaml counts them), so each loader can say exactly where
 * a problem is. Anchors and aliases are resolved by sharing: an alias is
 * the anchored node itself, so a tree may be a DAG (never a cycle: libyaml
 * only lets an alias name an anchor that is already complete... or, for a
 * node still open, ydoc reports an error).
 *
 * All nodes belong to their struct ydoc and are freed with it; nothing in
 * a tree is freed alone. Scalars are NUL-terminated (and may hold NULs
 * before `len`, which loaders reject where it matters).
 *
 * The same tree doubles as the template engine's data model, so a few
 * builders let code put computed values into a document.
 */
#ifndef HERALD_YAMLTREE_H
#define HERALD_YAMLTREE_H

#include <stddef.h>
#include <yaml.h>

#include "diag.h"

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

enum ystyle {
	YSTYLE_PLAIN,
	YSTYLE_SINGLE,
	YSTYLE_DOUBLE,
	YSTYLE_LITERAL,
	YSTYLE_FOLDED,
	YSTYLE_BUILT		/* made by a builder, not read from a file */
};

struct ynode {
	enum ynode_kind kind;
	enum ystyle style;	/* scalars */
	const char *file;	/* owned by the document */
	unsigned line, col;	/* where the node starts */
	/*
	 * Where a scalar's text starts: for a block scalar (| or >) the
	 * first content line and its indentation (text_col = indent + 1);
	 * for others the first character after any quote.
	 */
	unsigned text_line, text_col;
	char *str;		/* SCALAR: the value */
	size_t len;
	size_t n;		/* SEQ: items; MAP: pairs */
	size_t cap;
	struct ynode **items;	/* SEQ: n items; MAP: 2n entries, key then value */
};

struct ydoc;

/* Parses a whole file; NULL when it could not be read or parsed (errors in d). */
struct ydoc *ydoc_load_file(const char *path, struct diag *d);
/* Parses a buffer; `file` names it in errors. NULL on error. */
struct ydoc *ydoc_load_mem(const char *file, const char *data, size_t len,
    struct diag *d);
/* An empty document, for builders and streaming readers. */
struct ydoc *ydoc_new(const char *file);
void ydoc_free(struct ydoc *doc);
/* Frees every node but keeps the document (streaming readers reuse it). */
void ydoc_clear(struct ydoc *doc);
const char *ydoc_file(const struct ydoc *doc);
/* The root node; NULL for an empty document. */
struct ynode *ydoc_root(const struct ydoc *doc);

/*
 * Streaming: builds the node that starts with `first` (already taken from
 * the parser; it is deleted here) from the parser's next events. Anchors
 * are local to this document. Returns NULL after any reported error; unless
 * *halted (when not NULL) is set, the whole node has still been read, so
 * the caller can go on with the next one. Halted means the parser cannot
 * go on: the YAML is broken, or nested so deep (hundreds of levels) that
 * reading past the node would cost libyaml time quadratic in the depth.
 */
struct ynode *ydoc_build(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *first,
    struct diag *d, int *halted);
/*
 * Reads past the node that starts with `ev` (taken from the parser; deleted
 * here). 0, or -1 when the parser cannot go on: the YAML is broken, or the
 * node is nested too deep to read past (both reported).
 */
int ydoc_skip(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *ev, struct diag *d);
/* Reports libyaml's error for a failed yaml_parser_parse(). */
/* src (len bytes; NULL: read file) is the text parsed, for the place of a reader error. */
void ydoc_parser_error(const char *file, const yaml_parser_t *p, const char *src, size_t len,
    struct diag *d);

/* Builders; the document owns what they return. */
struct ynode *ynode_scalar(struct ydoc *doc, const char *s, size_t len);
struct ynode *ynode_str(struct ydoc *doc, const char *s);
struct ynode *ynode_map(struct ydoc *doc);
struct ynode *ynode_seq(struct ydoc *doc);
/* Sets key to val, replacing an existing value. */
void ynode_map_set(struct ydoc *doc, struct ynode *map, const char *key,
    struct ynode *val);
/*
 * Adds key (a scalar of any document) and val without looking for the key:
 * the caller knows map lacks it. Linear where ynode_map_set is not.
 */
void ynode_map_push(struct ynode *map, struct ynode *key, struct ynode *val);
void ynode_seq_push(struct ynode *seq, struct ynode *item);

/* Lookups; NULL when absent or when `map` is not a mapping. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
static inline struct ynode *ynode_key(const struct ynode *map, size_t i) { return map->items[2 * i]; }
static inline struct ynode *ynode_val(const struct ynode *map, size_t i) { return map->items[2 * i + 1]; }

/* A plain scalar "", "~", "null", "Null" or "NULL". */
int ynode_is_null(const struct ynode *n);
/* A plain true/false/True/FALSE... (YAML 1.2 core: not yes/no). Returns 1 with *out, or 0. */
int ynode_bool(const struct ynode *n, int *out);
/* "a scalar", "a list", "a mapping": for "expected X, got Y" errors. */
const char *ynode_kind_name(const struct ynode *n);

#endif
