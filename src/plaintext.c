/*
 * plaintext.c - Markdown as readable plain text; see plaintext.h.
 *
 * cmark parses; each block is laid out as lines with two prefixes, the
 * first line's and the others' (a list item's marker, then as many
 * spaces; a quote's "> "), so blocks nest without knowing each other.
 */
#include "plaintext.h"

#include <cmark.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"

/* RFC 5322: a line is at most 998 octets; a word longer is cut short of it. */
#define PT_MAX_LINE 990
/* Nesting deeper than this adds no more to the prefixes: they must leave room. */
#define PT_MAX_PREFIX 120

struct pt {
	struct buf *out;
	unsigned width;
	int blocks;		/* blocks written: the next one starts after a blank line */
};

/* Characters in s[0..n): the bytes that do not continue a UTF-8 sequence. */
static size_t
pt_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* The longest head of s[0..n) that fits in max octets, not cutting a character. */
static size_t
pt_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* ---- inline text ---- */

static void pt_inlines(cmark_node *n, struct buf *b);

static void
pt_inline(cmark_node *n, struct buf *b)
{
	const char *url, *lit;
	size_t start;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
		buf_adds(b, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_SOFTBREAK:
		buf_addc(b, ' ');
		break;
	case CMARK_NODE_LINEBREAK:
		buf_addc(b, '\n');
		break;
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		start = b->len;
		pt_inlines(n, b);
		url = cmark_node_get_url(n);
		if (url == NULL || *url == '\0')
			break;
		/* An image of the project travels in the message: its path means nothing to a reader. */
		if (cmark_node_get_type(n) == CMARK_NODE_IMAGE && attach_is_path(url))
			break;
		lit = b->data ? b->data + start : "";
		/* An autolink's text is its URL (or the address of a mailto:): once. */
		if (strcmp(lit, url) == 0 ||
		    (strncmp(url, "mailto:", 7) == 0 && strcmp(lit, url + 7) == 0))
			break;
		buf_addf(b, "%s<%s>", b->len > start ? " " : "", url);
		break;
	case CMARK_NODE_HTML_INLINE:
		break;		/* markup, not words */
	default:
		pt_inlines(n, b);	/* emphasis, strong: their words, without the marks */
		break;
	}
}

static void
pt_inlines(cmark_node *n, struct buf *b)
{
	cmark_node *c;

	for (c = cmark_node_first_child(n); c; c = cmark_node_next(c))
		pt_inline(c, b);
}

/* ---- lines ---- */

/* Ends the line being built: no spaces before its end. */
static void
pt_eol(struct buf *out, size_t line_start)
{
	while (out->len > line_start && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	buf_addc(out, '\n');
}

/* Ends the line that starts at line and begins the next with rest: its start, *col its width. */
static size_t
pt_newline(struct buf *out, size_t line, const char *rest, size_t *col)
{
	pt_eol(out, line);
	line = out->len;
	buf_adds(out, rest);
	*col = pt_chars(rest, strlen(rest));
	return line;
}

/*
 * Words of text (a '\n' forces a new line) laid out after first, then
 * rest on each following line, re-flowed to width (0: not re-flowed).
 */
static void
pt_flow(struct pt *p, const char *text, const char *first, const char *rest)
{
	struct buf *out = p->out;
	const char *s = text, *w;
	size_t line = out->len, col, n, k;
	int words = 0;

	buf_adds(out, first);
	col = pt_chars(first, strlen(first));
	while (*s) {
		if (*s == '\n') {
			line = pt_newline(out, line, rest, &col);
			words = 0;
			s++;
			continue;
		}
		if (*s == ' ' || *s == '\t') {
			s++;
			continue;
		}
		for (w = s; *s && *s != ' ' && *s != '\t' && *s != '\n'; s++)
			;
		n = (size_t)(s - w);
		if (words && ((p->width && col + 1 + pt_chars(w, n) > p->width) ||
		    out->len - line + 1 + n > PT_MAX_LINE)) {
			line = pt_newline(out, line, rest, &col);
			words = 0;
		}
		if (words) {
			buf_addc(out, ' ');
			col++;
		}
		/* A word too long for any line is cut where it must be. */
		while (out->len - line + n > PT_MAX_LINE) {
			size_t used = out->len - line;

			if (used + 4 <= PT_MAX_LINE) {
				k = pt_cut(w, n, PT_MAX_LINE - used);
				buf_add(out, w, k);
				w += k;
				n -= k;
			}
			line = pt_newline(out, line, rest, &col);
		}
		buf_add(out, w, n);
		col += pt_chars(w, n);
		words = 1;
	}
	pt_eol(out, line);
}

/* Lines of a literal (code) after prefix and four spaces, as written. */
static void
pt_literal(struct pt *p, const char *text, const char *first, const char *rest)
{
	const char *s = text, *e;
	const char *prefix = first;
	size_t line, n, k;

	while (*s) {
		e = strchr(s, '\n');
		n = e ? (size_t)(e - s) : strlen(s);
		line = p->out->len;
		buf_adds(p->out, prefix);
		buf_adds(p->out, "    ");
		k = PT_MAX_LINE > p->out->len - line + 4 ? pt_cut(s, n, PT_MAX_LINE -
		    (p->out->len - line)) : 0;
		buf_add(p->out, s, k);
		pt_eol(p->out, line);
		prefix = rest;
		s += n;
		if (*s == '\n')
			s++;
	}
}

/* ---- blocks ---- */

static void pt_block(struct pt *p, cmark_node *n, const char *first, const char *rest);

/* The blank line between two blocks, in their container's prefix. */
static void
pt_gap(struct pt *p, const char *rest)
{
	size_t line = p->out->len;

	buf_adds(p->out, rest);
	pt_eol(p->out, line);
}

/* A container's blocks: first prefix on the first line of the first, rest after. */
static void
pt_children(struct pt *p, cmark_node *n, const char *first, const char *rest, int tight)
{
	cmark_node *c;
	int k = 0;

	for (c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
		if (cmark_node_get_type(c) == CMARK_NODE_HTML_BLOCK)
			continue;
		if (k++ && !tight)
			pt_gap(p, rest);
		pt_block(p, c, k == 1 ? first : rest, rest);
	}
}

static void
pt_list(struct pt *p, cmark_node *n, const char *first, const char *rest)
{
	int ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
	int tight = cmark_node_get_list_tight(n), num = cmark_node_get_list_start(n);
	struct buf f = BUF_INIT, r = BUF_INIT;
	char marker[24];
	cmark_node *item;
	size_t i;

	for (item = cmark_node_first_child(n); item; item = cmark_node_next(item), num++) {
		if (item != cmark_node_first_child(n) && !tight)
			pt_gap(p, rest);
		if (ordered)
			snprintf(marker, sizeof(marker), "%d. ", num);
		else
			snprintf(marker, sizeof(marker), "- ");
		buf_reset(&f);
		buf_reset(&r);
		buf_adds(&f, item == cmark_node_first_child(n) ? first : rest);
		buf_adds(&r, rest);
		if (strlen(rest) < PT_MAX_PREFIX) {
			buf_adds(&f, marker);
			for (i = 0; marker[i]; i++)
				buf_addc(&r, ' ');
		}
		if (cmark_node_first_child(item) == NULL)
			pt_flow(p, "", buf_str(&f), buf_str(&r));
		else
			pt_children(p, item, buf_str(&f), buf_str(&r), tight);
	}
	buf_free(&f);
	buf_free(&r);
}

static void
pt_block(struct pt *p, cmark_node *n, const char *first, const char *rest)
{
	struct buf text = BUF_INIT, f = BUF_INIT, r = BUF_INIT;
	const char *lit;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
	case CMARK_NODE_HEADING:
		/* A heading is its words on a line of their own, as a paragraph is. */
		pt_inlines(n, &text);
		pt_flow(p, buf_str(&text), first, rest);
		break;
	case CMARK_NODE_CODE_BLOCK:
		lit = cmark_node_get_literal(n);
		pt_literal(p, lit ? lit : "", first, rest);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		pt_flow(p, "----", first, rest);
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		buf_adds(&f, first);
		buf_adds(&r, rest);
		if (strlen(rest) < PT_MAX_PREFIX) {
			buf_adds(&f, "> ");
			buf_adds(&r, "> ");
		}
		pt_children(p, n, buf_str(&f), buf_str(&r), 0);
		break;
	case CMARK_NODE_LIST:
		pt_list(p, n, first, rest);
		break;
	case CMARK_NODE_HTML_BLOCK:
		break;
	default:
		pt_children(p, n, first, rest, 0);
		break;
	}
	buf_free(&text);
	buf_free(&f);
	buf_free(&r);
}

void
plaintext_markdown(const char *md, size_t len, unsigned width, struct buf *out)
{
	cmark_node *doc = cmark_parse_document(md, len, CMARK_OPT_DEFAULT);
	struct pt p;
	size_t start = out->len;

	memset(&p, 0, sizeof(p));
	p.out = out;
	p.width = width;
	pt_children(&p, doc, "", "", 0);
	cmark_node_free(doc);
	while (out->len > start && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
}
