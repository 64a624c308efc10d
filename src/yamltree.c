/*
 * yamltree.c - libyaml events into a tree of struct ynode with positions.
 */
#define _GNU_SOURCE		/* getrandom */
#include "yamltree.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

/* Deeper nesting than this in a herald input is a mistake or an attack. */
#define YDOC_MAX_DEPTH 64
/*
 * A node nested too deep is still read past (so that a list goes on with
 * its next subscriber) up to this depth, and no further: libyaml walks its
 * whole stack of open flow collections for every token it scans, so that
 * 20,000 '[' cost it seconds. Beyond this, reading stops.
 */
#define YDOC_SKIP_DEPTH (4 * YDOC_MAX_DEPTH)
/* Mappings with more keys than this find duplicates through a hash table. */
#define YKEYS_SCAN 8

struct yanchor {
	char *name;
	struct ynode *node;
};

/*
 * Nodes and scalar text come from chunks that ydoc_clear() keeps for the
 * next use: a streaming reader builds and drops a small tree per list
 * entry, a million times, and malloc/free per node was a tenth of that.
 */
struct ychunk {
	struct ychunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define YCHUNK_SIZE 16384

struct ydoc {
	char *file;
	struct ychunk *chunks, *cur;
	struct ynode **nodes;	/* every node, for freeing */
	size_t n, cap;
	struct ynode *root;
	struct yanchor *anchors;
	size_t na, acap;
	uint64_t seed[2];	/* keys the hash of mapping keys */
	int halt;		/* the parser cannot go on: broken YAML, or too deep */
	/* while loading from memory: the text and its line starts */
	const char *src;
	size_t srclen;
	size_t *lines;
	size_t nlines;
};

static void *
ydoc_alloc(struct ydoc *doc, size_t size)
{
	struct ychunk *c = doc->cur;
	size_t align = sizeof(max_align_t), cap;
	void *p;

	size = (size + align - 1) / align * align;
	while (c != NULL && c->used + size > c->cap)
		c = c->next;	/* later chunks were emptied by ydoc_clear */
	if (c == NULL) {
		cap = size > YCHUNK_SIZE ? size : YCHUNK_SIZE;
		c = xmalloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		c->next = doc->chunks;
		doc->chunks = c;
	}
	doc->cur = c;
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

static char *
ydoc_strndup(struct ydoc *doc, const char *s, size_t n)
{
	char *d = ydoc_alloc(doc, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static struct ynode *
ydoc_node(struct ydoc *doc, enum ynode_kind kind)
{
	struct ynode *n = ydoc_alloc(doc, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->file = doc->file;
	doc->nodes = xgrow(doc->nodes, &doc->cap, doc->n + 1, sizeof(*doc->nodes));
	doc->nodes[doc->n++] = n;
	return n;
}

struct ydoc *
ydoc_new(const char *file)
{
	struct ydoc *doc = xcalloc(1, sizeof(*doc));

	doc->file = xstrdup(file ? file : "-");
	/*
	 * A random key, so that no file can be written whose keys all land in
	 * one slot; without one the table still works, only less surely fast.
	 */
	if (getrandom(doc->seed, sizeof(doc->seed), GRND_NONBLOCK) != (ssize_t)sizeof(doc->seed)) {
		doc->seed[0] = 0x9e3779b97f4a7c15u ^ (uintptr_t)doc;
		doc->seed[1] = 0xc2b2ae3d27d4eb4fu;
	}
	return doc;
}

void
ydoc_clear(struct ydoc *doc)
{
	struct ychunk *c;
	size_t i;

	for (i = 0; i < doc->n; i++)
		free(doc->nodes[i]->items);
	doc->n = 0;
	for (c = doc->chunks; c != NULL; c = c->next)
		c->used = 0;
	doc->cur = doc->chunks;
	for (i = 0; i < doc->na; i++)
		free(doc->anchors[i].name);
	doc->na = 0;
	doc->root = NULL;
}

void
ydoc_free(struct ydoc *doc)
{
	if (doc == NULL)
		return;
	ydoc_clear(doc);
	while (doc->chunks != NULL) {
		struct ychunk *next = doc->chunks->next;
		free(doc->chunks);
		doc->chunks = next;
	}
	free(doc->nodes);
	free(doc->anchors);
	free(doc->lines);
	free(doc->file);
	free(doc);
}

const char *
ydoc_file(const struct ydoc *doc)
{
	return doc->file;
}

struct ynode *
ydoc_root(const struct ydoc *doc)
{
	return doc->root;
}

/*
 * Where a file is not UTF-8: line and column (1-based; the column in
 * characters) and the byte, from src, or from the file when src is NULL.
 * 0 when neither can be read or nothing is wrong.
 */
static int
ydoc_not_utf8(const char *file, const char *src, size_t len, unsigned *line, unsigned *col,
    unsigned *byte)
{
	char *data = NULL;
	size_t i, bad;

	if (src == NULL) {
		if (util_read_file(file, &data, &len) == -1)
			return 0;
		src = data;
	}
	bad = util_utf8_bad(src, len);
	*line = 1;
	*col = 1;
	for (i = 0; i < bad; i++) {
		if (src[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)src[i] & 0xC0) != 0x80) {
			(*col)++;	/* a UTF-8 continuation byte is no new character */
		}
	}
	*byte = bad < len ? (unsigned char)src[bad] : 0;
	free(data);
	return bad < len;
}

void
ydoc_parser_error(const char *file, const yaml_parser_t *p, const char *src, size_t len,
    struct diag *d)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	unsigned line, col, byte;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		fatalx("out of memory parsing %s", file);
	case YAML_READER_ERROR:
		/* Not UTF-8 (a file saved as Latin-1): where, so that it can be found. */
		if (ydoc_not_utf8(file, src, len, &line, &col, &byte))
			diag_error(d, file, line, col, "not UTF-8 (byte 0x%02X): save the file as "
			    "UTF-8", byte);
		else
			diag_error(d, file, 0, 0, "bad YAML: %s at byte %zu", problem,
			    p->problem_offset);
		return;
	default:
		break;
	}
	if (p->context)
		diag_error(d, file, (unsigned)p->problem_mark.line + 1,
		    (unsigned)p->problem_mark.column + 1,
		    "bad YAML: %s (%s at line %u)", problem, p->context,
		    (unsigned)p->context_mark.line + 1);
	else
		diag_error(d, file, (unsigned)p->problem_mark.line + 1,
		    (unsigned)p->problem_mark.column + 1, "bad YAML: %s", problem);
}

static void
ydoc_index_lines(struct ydoc *doc)
{
	size_t i, cap = 0;

	doc->nlines = 0;
	doc->lines = xgrow(doc->lines, &cap, 1, sizeof(*doc->lines));
	doc->lines[doc->nlines++] = 0;
	for (i = 0; i < doc->srclen; i++) {
		if (doc->src[i] != '\n')
			continue;
		doc->lines = xgrow(doc->lines, &cap, doc->nlines + 1,
		    sizeof(*doc->lines));
		doc->lines[doc->nlines++] = i + 1;
	}
}

/*
 * Where a block scalar's text starts: the first line after the indicator
 * that is not blank, and its indentation. Needs the source text; without
 * it, the line after the indicator at the node's column.
 */
static void
ydoc_block_start(struct ydoc *doc, struct ynode *n, unsigned line0)
{
	size_t l, off;
	unsigned indent;

	n->text_line = line0 + 2;
	n->text_col = n->col;
	if (doc->src == NULL)
		return;
	for (l = line0 + 1; l < doc->nlines; l++) {
		off = doc->lines[l];
		indent = 0;
		while (off < doc->srclen && doc->src[off] == ' ') {
			off++;
			indent++;
		}
		if (off < doc->srclen && doc->src[off] != '\n' && doc->src[off] != '\r') {
			n->text_col = indent + 1;
			return;
		}
	}
}

static struct ynode *
ydoc_scalar_event(struct ydoc *doc, const yaml_event_t *ev)
{
	struct ynode *n = ydoc_node(doc, YNODE_SCALAR);

	n->str = ydoc_strndup(doc, (const char *)ev->data.scalar.value,
	    ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	n->text_line = n->line;
	n->text_col = n->col;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		n->style = YSTYLE_SINGLE;
		n->text_col++;
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->style = YSTYLE_DOUBLE;
		n->text_col++;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		n->style = YSTYLE_LITERAL;
		ydoc_block_start(doc, n, (unsigned)ev->start_mark.line);
		break;
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = YSTYLE_FOLDED;
		ydoc_block_start(doc, n, (unsigned)ev->start_mark.line);
		break;
	default:
		n->style = YSTYLE_PLAIN;
		break;
	}
	return n;
}

static void
ydoc_anchor(struct ydoc *doc, const yaml_char_t *name, struct ynode *n)
{
	if (name == NULL)
		return;
	doc->anchors = xgrow(doc->anchors, &doc->acap, doc->na + 1,
	    sizeof(*doc->anchors));
	doc->anchors[doc->na].name = xstrdup((const char *)name);
	doc->anchors[doc->na].node = n;
	doc->na++;
}

static struct ynode *
ydoc_alias(struct ydoc *doc, const yaml_event_t *ev, struct diag *d)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t i;

	/* The latest definition wins, as YAML says. */
	for (i = doc->na; i-- > 0;)
		if (strcmp(doc->anchors[i].name, name) == 0)
			return doc->anchors[i].node;
	diag_error(d, doc->file, (unsigned)ev->start_mark.line + 1,
	    (unsigned)ev->start_mark.column + 1,
	    "alias '*%s' names no anchor defined before it", name);
	return NULL;
}

static int
ydoc_next(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *ev, struct diag *d)
{
	if (yaml_parser_parse(p, ev))
		return 0;
	ydoc_parser_error(doc->file, p, doc->src, doc->srclen, d);
	doc->halt = 1;
	return -1;
}

/* ---- finding duplicate keys ---- */

/*
 * The keys of the mapping being built: a scan while it is small, then a
 * table of pair indices, so that a mapping of 40,000 keys costs 40,000
 * lookups and not 800 million string compares.
 */
struct ykeys {
	size_t *slot;		/* pair index + 1; 0: empty */
	size_t cap;		/* a power of two, or 0 while scanning */
};

#define YROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void
ydoc_sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = YROTL(v[1], 13); v[1] ^= v[0]; v[0] = YROTL(v[0], 32);
	v[2] += v[3]; v[3] = YROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = YROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = YROTL(v[1], 17); v[1] ^= v[2]; v[2] = YROTL(v[2], 32);
}

/* SipHash-1-3 of s under the document's random key: keys cannot be written to collide. */
static uint64_t
ydoc_hash(const struct ydoc *doc, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t v[4] = {
		doc->seed[0] ^ 0x736f6d6570736575u, doc->seed[1] ^ 0x646f72616e646f6du,
		doc->seed[0] ^ 0x6c7967656e657261u, doc->seed[1] ^ 0x7465646279746573u,
	};
	uint64_t m, last = (uint64_t)len << 56;
	size_t i;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&m, p, 8);
		v[3] ^= m;
		ydoc_sipround(v);
		v[0] ^= m;
	}
	for (i = 0; i < len; i++)
		last |= (uint64_t)p[i] << (8 * i);
	v[3] ^= last;
	ydoc_sipround(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	ydoc_sipround(v);
	ydoc_sipround(v);
	ydoc_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* Keys compare as C strings, as ynode_get finds them. */
static size_t
ykeys_slot(const struct ydoc *doc, const struct ykeys *t, const struct ynode *map,
    const char *key)
{
	size_t mask = t->cap - 1, i;

	for (i = ydoc_hash(doc, key, strlen(key)) & mask; t->slot[i]; i = (i + 1) & mask)
		if (strcmp(ynode_key(map, t->slot[i] - 1)->str, key) == 0)
			break;
	return i;
}

/* Makes room for one more key, at most half full. */
static void
ykeys_grow(const struct ydoc *doc, struct ykeys *t, const struct ynode *map)
{
	size_t i;

	if (map->n + 1 <= YKEYS_SCAN || 2 * (map->n + 1) <= t->cap)
		return;
	free(t->slot);
	for (t->cap = t->cap ? 2 * t->cap : 4 * YKEYS_SCAN; 2 * (map->n + 1) > t->cap;)
		t->cap *= 2;
	t->slot = xcalloc(t->cap, sizeof(*t->slot));
	for (i = 0; i < map->n; i++)
		t->slot[ykeys_slot(doc, t, map, ynode_key(map, i)->str)] = i + 1;
}

/* The pair index of key in map, or -1; the table is then ready to take it. */
static ssize_t
ykeys_find(const struct ydoc *doc, struct ykeys *t, const struct ynode *map,
    const char *key)
{
	size_t i;

	if (t->cap == 0) {
		for (i = 0; i < map->n; i++)
			if (strcmp(ynode_key(map, i)->str, key) == 0)
				return (ssize_t)i;
		return -1;
	}
	i = t->slot[ykeys_slot(doc, t, map, key)];
	return (ssize_t)i - 1;
}

/* Notes that the last pair of map holds key (found absent just before). */
static void
ykeys_note(const struct ydoc *doc, struct ykeys *t, const struct ynode *map)
{
	if (t->cap != 0)
		t->slot[ykeys_slot(doc, t, map, ynode_key(map, map->n - 1)->str)] = map->n;
}

static struct ynode *ydoc_build_depth(struct ydoc *, yaml_parser_t *,
    yaml_event_t *, struct diag *, int);

static int
ydoc_map_add(struct ydoc *doc, struct ykeys *keys, struct ynode *map, struct ynode *key,
    struct ynode *val, struct diag *d)
{
	ssize_t first;

	if (key->kind != YNODE_SCALAR) {
		diag_error(d, doc->file, key->line, key->col,
		    "expected a plain key, got %s", ynode_kind_name(key));
		return -1;
	}
	ykeys_grow(doc, keys, map);
	if ((first = ykeys_find(doc, keys, map, key->str)) != -1) {
		diag_error(d, doc->file, key->line, key->col,
		    "duplicate key '%s' (first at line %u)", key->str,
		    ynode_key(map, (size_t)first)->line);
		return -1;
	}
	map->items = xgrow(map->items, &map->cap, 2 * map->n + 2, sizeof(*map->items));
	map->items[2 * map->n] = key;
	map->items[2 * map->n + 1] = val;
	map->n++;
	ykeys_note(doc, keys, map);
	return 0;
}

/*
 * Builds the children of a sequence or mapping until its end event. A
 * child with a semantic error (an unknown alias, a duplicate key, too deep)
 * is reported and left out, but read to its end, so the parser is always
 * left after this node; only broken YAML stops at once.
 */
static int
ydoc_children(struct ydoc *doc, yaml_parser_t *p, struct ynode *n,
    yaml_event_type_t end, struct diag *d, int depth)
{
	yaml_event_t ev;
	struct ynode *key = NULL, *child;
	struct ykeys keys = { NULL, 0 };
	size_t count = 0;
	int rc = 0;

	for (;; count++) {
		if (ydoc_next(doc, p, &ev, d) == -1) {
			rc = -1;
			goto out;
		}
		if (ev.type == end) {
			yaml_event_delete(&ev);
			goto out;
		}
		child = ydoc_build_depth(doc, p, &ev, d, depth + 1);
		if (child == NULL && doc->halt) {
			rc = -1;
			goto out;
		}
		if (child == NULL)
			rc = -1;
		else if (n->kind == YNODE_SEQ)
			ynode_seq_push(n, child);
		else if (count % 2 == 0)
			key = child;
		else if (key != NULL && ydoc_map_add(doc, &keys, n, key, child, d) == -1)
			rc = -1;
		if (n->kind == YNODE_MAP && count % 2 == 1)
			key = NULL;
	}
out:
	free(keys.slot);
	return rc;
}

/*
 * Reads past the node that starts with ev, whose depth is `depth`; reports
 * "nesting too deep" at the first event deeper than YDOC_MAX_DEPTH unless
 * `told` (the caller has), and stops reading beyond YDOC_SKIP_DEPTH.
 */
static int
ydoc_skip_depth(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *ev, struct diag *d,
    int depth, int told)
{
	int open = 0;

	for (;;) {
		if (ev->type == YAML_SEQUENCE_START_EVENT ||
		    ev->type == YAML_MAPPING_START_EVENT)
			open++;
		else if (ev->type == YAML_SEQUENCE_END_EVENT ||
		    ev->type == YAML_MAPPING_END_EVENT)
			open--;
		if (depth + open > YDOC_SKIP_DEPTH || (!told && depth + open > YDOC_MAX_DEPTH)) {
			if (!told)
				diag_error(d, doc->file, (unsigned)ev->start_mark.line + 1,
				    (unsigned)ev->start_mark.column + 1,
				    "nesting too deep (over %d levels)", YDOC_MAX_DEPTH);
			told = 1;
			if (depth + open > YDOC_SKIP_DEPTH) {
				yaml_event_delete(ev);
				doc->halt = 1;
				return -1;
			}
		}
		yaml_event_delete(ev);
		if (open <= 0)
			return 0;
		if (ydoc_next(doc, p, ev, d) == -1)
			return -1;
	}
}

int
ydoc_skip(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *ev, struct diag *d)
{
	doc->halt = 0;
	return ydoc_skip_depth(doc, p, ev, d, 0, 0);
}

static struct ynode *
ydoc_build_depth(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *ev,
    struct diag *d, int depth)
{
	struct ynode *n = NULL;
	yaml_char_t *anchor = NULL;
	yaml_event_type_t end;

	if (depth > YDOC_MAX_DEPTH) {
		diag_error(d, doc->file, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1, "nesting too deep (over %d levels)",
		    YDOC_MAX_DEPTH);
		ydoc_skip_depth(doc, p, ev, d, depth - 1, 1);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = ydoc_scalar_event(doc, ev);
		ydoc_anchor(doc, ev->data.scalar.anchor, n);
		goto out;
	case YAML_ALIAS_EVENT:
		n = ydoc_alias(doc, ev, d);
		goto out;
	case YAML_SEQUENCE_START_EVENT:
		n = ydoc_node(doc, YNODE_SEQ);
		anchor = ev->data.sequence_start.anchor;
		end = YAML_SEQUENCE_END_EVENT;
		break;
	case YAML_MAPPING_START_EVENT:
		n = ydoc_node(doc, YNODE_MAP);
		anchor = ev->data.mapping_start.anchor;
		end = YAML_MAPPING_END_EVENT;
		break;
	default:
		diag_error(d, doc->file, (unsigned)ev->start_mark.line + 1,
		    (unsigned)ev->start_mark.column + 1, "bad YAML: unexpected event");
		goto out;
	}
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	n->text_line = n->line;
	n->text_col = n->col;
	/* Copy the anchor name: the event is deleted before the children end. */
	anchor = anchor ? (yaml_char_t *)xstrdup((const char *)anchor) : NULL;
	yaml_event_delete(ev);
	if (ydoc_children(doc, p, n, end, d, depth) == -1)
		n = NULL;
	else
		ydoc_anchor(doc, anchor, n);	/* after: an alias can never make a cycle */
	free(anchor);
	return n;
out:
	yaml_event_delete(ev);
	return n;
}

struct ynode *
ydoc_build(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *first, struct diag *d,
    int *halted)
{
	size_t before = d->errors;
	struct ynode *n;

	doc->halt = 0;
	n = ydoc_build_depth(doc, p, first, d, 0);
	if (halted != NULL)
		*halted = doc->halt;
	return d->errors > before ? NULL : n;
}

/* Parses a stream holding at most one document into doc->root. */
static int
ydoc_parse(struct ydoc *doc, yaml_parser_t *p, struct diag *d)
{
	yaml_event_t ev;

	for (;;) {
		if (ydoc_next(doc, p, &ev, d) == -1)
			return -1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (doc->root != NULL) {
				diag_error(d, doc->file, (unsigned)ev.start_mark.line + 1,
				    (unsigned)ev.start_mark.column + 1,
				    "expected a single YAML document, found another");
				yaml_event_delete(&ev);
				return -1;
			}
			yaml_event_delete(&ev);
			break;
		default:
			if ((doc->root = ydoc_build(doc, p, &ev, d, NULL)) == NULL)
				return -1;
			break;
		}
	}
}

struct ydoc *
ydoc_load_mem(const char *file, const char *data, size_t len, struct diag *d)
{
	struct ydoc *doc = ydoc_new(file);
	yaml_parser_t p;
	size_t before = d->errors;
	int rc;

	doc->src = data;
	doc->srclen = len;
	ydoc_index_lines(doc);
	if (!yaml_parser_initialize(&p))
		fatalx("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	rc = ydoc_parse(doc, &p, d);
	yaml_parser_delete(&p);
	doc->src = NULL;
	doc->srclen = 0;
	if (rc == -1 || d->errors > before) {
		ydoc_free(doc);
		return NULL;
	}
	return doc;
}

struct ydoc *
ydoc_load_file(const char *path, struct diag *d)
{
	struct ydoc *doc;
	char *data;
	size_t len;

	if (util_read_file(path, &data, &len) == -1) {
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	doc = ydoc_load_mem(path, data, len, d);
	free(data);
	return doc;
}

struct ynode *
ynode_scalar(struct ydoc *doc, const char *s, size_t len)
{
	struct ynode *n = ydoc_node(doc, YNODE_SCALAR);

	n->style = YSTYLE_BUILT;
	n->str = ydoc_strndup(doc, s, len);
	n->len = len;
	return n;
}

struct ynode *
ynode_str(struct ydoc *doc, const char *s)
{
	return ynode_scalar(doc, s, strlen(s));
}

struct ynode *
ynode_map(struct ydoc *doc)
{
	struct ynode *n = ydoc_node(doc, YNODE_MAP);

	n->style = YSTYLE_BUILT;
	return n;
}

struct ynode *
ynode_seq(struct ydoc *doc)
{
	struct ynode *n = ydoc_node(doc, YNODE_SEQ);

	n->style = YSTYLE_BUILT;
	return n;
}

void
ynode_map_set(struct ydoc *doc, struct ynode *map, const char *key,
    struct ynode *val)
{
	size_t i;

	if (map->kind != YNODE_MAP)
		fatalx("ynode_map_set on %s", ynode_kind_name(map));
	for (i = 0; i < map->n; i++) {
		if (strcmp(ynode_key(map, i)->str, key) == 0) {
			map->items[2 * i + 1] = val;
			return;
		}
	}
	ynode_map_push(map, ynode_str(doc, key), val);
}

void
ynode_map_push(struct ynode *map, struct ynode *key, struct ynode *val)
{
	if (map->kind != YNODE_MAP)
		fatalx("ynode_map_push on %s", ynode_kind_name(map));
	map->items = xgrow(map->items, &map->cap, 2 * map->n + 2, sizeof(*map->items));
	map->items[2 * map->n] = key;
	map->items[2 * map->n + 1] = val;
	map->n++;
}

void
ynode_seq_push(struct ynode *seq, struct ynode *item)
{
	if (seq->kind != YNODE_SEQ)
		fatalx("ynode_seq_push on %s", ynode_kind_name(seq));
	seq->items = xgrow(seq->items, &seq->cap, seq->n + 1, sizeof(*seq->items));
	seq->items[seq->n++] = item;
}

struct ynode *
ynode_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(ynode_key(map, i)->str, key) == 0)
			return ynode_val(map, i);
	return NULL;
}

int
ynode_is_null(const struct ynode *n)
{
	if (n == NULL || n->kind != YNODE_SCALAR || n->style != YSTYLE_PLAIN)
		return 0;
	return n->len == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0;
}

int
ynode_bool(const struct ynode *n, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	size_t i;

	if (n == NULL || n->kind != YNODE_SCALAR || n->style != YSTYLE_PLAIN)
		return 0;
	for (i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcmp(n->str, yes[i]) == 0) {
			*out = 1;
			return 1;
		}
		if (strcmp(n->str, no[i]) == 0) {
			*out = 0;
			return 1;
		}
	}
	return 0;
}

const char *
ynode_kind_name(const struct ynode *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->kind) {
	case YNODE_SCALAR:
		return ynode_is_null(n) ? "null" : "a scalar";
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a mapping";
	}
	return "?";
}
