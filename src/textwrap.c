/*
 * textwrap.c - re-flows Markdown paragraphs and list items; everything
 * whose line breaks carry meaning (code, headings, tables, HTML, rules)
 * passes through as it is.
 */
#include "textwrap.h"

#include <string.h>

struct para {
	struct buf text;	/* the words, joined by single spaces */
	struct buf first;	/* prefix of the first line ("- ", "> ", "") */
	struct buf rest;	/* prefix of the following lines */
	int active;
};

static size_t
textwrap_cols(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static void
textwrap_flush(struct para *p, unsigned width, struct buf *out)
{
	const char *s = buf_str(&p->text), *end = s + p->text.len, *w, *prefix;
	size_t col = 0, wlen, plen;
	int first = 1, line_empty = 1;

	if (!p->active)
		return;
	prefix = buf_str(&p->first);
	plen = p->first.len;
	buf_add(out, prefix, plen);
	col = textwrap_cols(prefix, plen);
	while (s < end) {
		while (s < end && *s == ' ')
			s++;
		if (s >= end)
			break;
		w = s;
		while (s < end && *s != ' ')
			s++;
		wlen = (size_t)(s - w);
		if (!line_empty && col + 1 + textwrap_cols(w, wlen) > width) {
			buf_addc(out, '\n');
			if (first) {
				first = 0;
				prefix = buf_str(&p->rest);
				plen = p->rest.len;
			}
			buf_add(out, prefix, plen);
			col = textwrap_cols(prefix, plen);
			line_empty = 1;
		}
		if (!line_empty) {
			buf_addc(out, ' ');
			col++;
		}
		buf_add(out, w, wlen);
		col += textwrap_cols(w, wlen);
		line_empty = 0;
	}
	buf_addc(out, '\n');
	buf_reset(&p->text);
	p->active = 0;
}

static void
textwrap_start(struct para *p, const char *first, size_t flen, size_t rest_spaces)
{
	size_t i;

	buf_reset(&p->first);
	buf_reset(&p->rest);
	buf_add(&p->first, first, flen);
	for (i = 0; i < rest_spaces; i++)
		buf_addc(&p->rest, ' ');
	p->active = 1;
}

static void
textwrap_words(struct para *p, const char *s, size_t len)
{
	if (p->text.len)
		buf_addc(&p->text, ' ');
	buf_add(&p->text, s, len);
}

/* Length of a list marker with its space at s ("- ", "12. "), or 0. */
static size_t
textwrap_marker(const char *s, size_t len)
{
	size_t i = 0;

	if (len >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ')
		return 2;
	while (i < len && i < 9 && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i > 0 && i + 1 < len && (s[i] == '.' || s[i] == ')') && s[i + 1] == ' ')
		return i + 2;
	return 0;
}

static int
textwrap_fence(const char *s, size_t len)
{
	return len >= 3 && (strncmp(s, "```", 3) == 0 || strncmp(s, "~~~", 3) == 0);
}

/* Lines whose breaks carry meaning: headings, tables, HTML, rules. */
static int
textwrap_verbatim(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return 0;
	if (s[0] == '#' || s[0] == '|' || s[0] == '<')
		return 1;
	if (s[0] == '-' || s[0] == '*' || s[0] == '_' || s[0] == '=') {
		while (i < len && (s[i] == s[0] || s[i] == ' '))
			i++;
		return i == len && len >= 3;
	}
	return 0;
}

static void
textwrap_line(struct para *p, const char *line, size_t len, unsigned width,
    struct buf *out)
{
	size_t indent = 0, m;
	const char *s;
	int hard;

	while (indent < len && line[indent] == ' ')
		indent++;
	s = line + indent;
	hard = len >= 2 && (strncmp(line + len - 2, "  ", 2) == 0 || line[len - 1] == '\\');
	if (indent >= 4 && !p->active) {
		buf_add(out, line, len);
		buf_addc(out, '\n');
		return;
	}
	if (indent < 4 && textwrap_verbatim(s, len - indent)) {
		textwrap_flush(p, width, out);
		buf_add(out, line, len);
		buf_addc(out, '\n');
		return;
	}
	if ((m = textwrap_marker(s, len - indent)) > 0) {
		textwrap_flush(p, width, out);
		textwrap_start(p, line, indent + m, indent + m);
		s += m;
	} else if (*s == '>') {
		m = s[1] == ' ' ? 2 : 1;
		if (!p->active || p->first.len == 0 || buf_str(&p->first)[indent] != '>') {
			textwrap_flush(p, width, out);
			textwrap_start(p, line, indent + m, 0);
			buf_add(&p->rest, line, indent + m);
		}
		s += m;
	} else if (!p->active) {
		textwrap_start(p, "", 0, 0);
	}
	textwrap_words(p, s, (size_t)(line + len - s));
	if (hard)
		textwrap_flush(p, width, out);
}

void
textwrap_markdown(const char *src, size_t len, unsigned width, struct buf *out)
{
	struct para p = { BUF_INIT, BUF_INIT, BUF_INIT, 0 };
	const char *line = src, *end = src + len, *nl;
	size_t llen, indent;
	int fenced = 0;

	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		llen = (size_t)((nl ? nl : end) - line);
		if (llen && line[llen - 1] == '\r')
			llen--;
		for (indent = 0; indent < llen && line[indent] == ' '; indent++)
			;
		if (fenced || (indent < 4 && textwrap_fence(line + indent, llen - indent))) {
			if (!fenced)
				textwrap_flush(&p, width, out);
			else if (indent < 4 && textwrap_fence(line + indent, llen - indent))
				fenced = -1;
			fenced = fenced == -1 ? 0 : 1;
			buf_add(out, line, llen);
			buf_addc(out, '\n');
		} else if (indent == llen) {
			textwrap_flush(&p, width, out);
			buf_addc(out, '\n');
		} else {
			textwrap_line(&p, line, llen, width, out);
		}
		line = nl ? nl + 1 : end;
	}
	textwrap_flush(&p, width, out);
	buf_free(&p.text);
	buf_free(&p.first);
	buf_free(&p.rest);
}
