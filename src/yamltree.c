/*
 * yamltree.c - libyaml events into a tree of struct ynode with positions.
 */
#include "yamltree.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper nesting than this in a herald input is a mistake or an attack. */
#define YDOC_MAX_DEPTH 64

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
	return -1;
}

static struct ynode *ydoc_build_depth(struct ydoc *, yaml_parser_t *,
    yaml_event_t *, struct diag *, int);

static int
ydoc_map_add(struct ydoc *doc, struct ynode *map, struct ynode *key,
    struct ynode *val, struct diag *d)
{
	struct ynode *prev;

	if (key->kind != YNODE_SCALAR) {
		diag_error(d, doc->file, key->line, key->col,
		    "expected a plain key, got %s", ynode_kind_name(key));
		return -1;
	}
	if ((prev = ynode_get(map, key->str)) != NULL) {
		size_t i;
		for (i = 0; i < map->n; i++)
			if (ynode_val(map, i) == prev)
				break;
		diag_error(d, doc->file, key->line, key->col,
		    "duplicate key '%s' (first at line %u)", key->str,
		    ynode_key(map, i)->line);
		return -1;
	}
	map->items = xgrow(map->items, &map->cap, 2 * map->n + 2, sizeof(*map->items));
	map->items[2 * map->n] = key;
	map->items[2 * map->n + 1] = val;
	map->n++;
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
	size_t count = 0;
	int rc = 0;

	for (;; count++) {
		if (ydoc_next(doc, p, &ev, d) == -1)
			return -1;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return rc;
		}
		child = ydoc_build_depth(doc, p, &ev, d, depth + 1);
		if (child == NULL && p->error != YAML_NO_ERROR)
			return -1;
		if (child == NULL)
			rc = -1;
		else if (n->kind == YNODE_SEQ)
			ynode_seq_push(n, child);
		else if (count % 2 == 0)
			key = child;
		else if (key != NULL && ydoc_map_add(doc, n, key, child, d) == -1)
			rc = -1;
		if (n->kind == YNODE_MAP && count % 2 == 1)
			key = NULL;
	}
}

int
ydoc_skip(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *ev, struct diag *d)
{
	int open = 0;

	for (;;) {
		if (ev->type == YAML_SEQUENCE_START_EVENT ||
		    ev->type == YAML_MAPPING_START_EVENT)
			open++;
		else if (ev->type == YAML_SEQUENCE_END_EVENT ||
		    ev->type == YAML_MAPPING_END_EVENT)
			open--;
		yaml_event_delete(ev);
		if (open <= 0)
			return 0;
		if (ydoc_next(doc, p, ev, d) == -1)
			return -1;
	}
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
		ydoc_skip(doc, p, ev, d);
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
ydoc_build(struct ydoc *doc, yaml_parser_t *p, yaml_event_t *first, struct diag *d)
{
	size_t before = d->errors;
	struct ynode *n = ydoc_build_depth(doc, p, first, d, 0);

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
			if ((doc->root = ydoc_build(doc, p, &ev, d)) == NULL)
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
	map->items = xgrow(map->items, &map->cap, 2 * map->n + 2, sizeof(*map->items));
	map->items[2 * map->n] = ynode_str(doc, key);
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
