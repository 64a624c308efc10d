/*
 * attach.c - a release's press kit: attachments and inline images. See attach.h.
 */
#define _GNU_SOURCE		/* memmem */
#include "attach.h"

#include <cmark.h>
#include <errno.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.h"

/* ---- pure: paths in URLs, <img> in HTML ---- */

int
attach_is_path(const char *url)
{
	const char *p = url;

	if (url == NULL || *url == '\0' || *url == '#' || strncmp(url, "//", 2) == 0)
		return 0;
	/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
			p++;
		if (*p == ':')
			return 0;
	}
	return 1;
}

static int
attach_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A code point as UTF-8. */
static void
attach_utf8(struct buf *b, unsigned long cp)
{
	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | (cp >> 6)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xe0 | (cp >> 12)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | (cp >> 18)));
		buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* The character reference at s (after '&'), appended; how many bytes it took, 0 if none. */
static size_t
attach_entity(const char *s, size_t len, struct buf *out)
{
	static const struct { const char *name; char c; } named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		{ "apos;", '\'' },
	};
	unsigned long cp = 0;
	size_t i, k;
	int hexa, v;

	for (i = 0; i < ARRAY_LEN(named); i++) {
		k = strlen(named[i].name);
		if (len >= k && memcmp(s, named[i].name, k) == 0) {
			buf_addc(out, named[i].c);
			return k;
		}
	}
	if (len < 3 || s[0] != '#')
		return 0;
	hexa = s[1] == 'x' || s[1] == 'X';
	for (i = hexa ? 2 : 1; i < len && i < 10; i++) {
		v = hexa ? attach_hex(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
		if (v < 0)
			break;
		cp = cp * (hexa ? 16 : 10) + (unsigned long)v;
	}
	if (i == (hexa ? 2u : 1u) || i >= len || s[i] != ';' || cp == 0 || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	attach_utf8(out, cp);
	return i + 1;
}

char *
attach_decode(const char *s, size_t len, int entities)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t i, k;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (entities && s[i] == '&' && (k = attach_entity(s + i + 1, len - i - 1, &a)) > 0)
			i += k;
		else
			buf_addc(&a, s[i]);
	}
	for (i = 0; i < a.len; i++) {
		if (a.data[i] == '%' && i + 2 < a.len &&
		    (hi = attach_hex(a.data[i + 1])) >= 0 && (lo = attach_hex(a.data[i + 2])) >= 0) {
			buf_addc(&b, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_addc(&b, a.data[i]);
		}
	}
	buf_free(&a);
	if (b.len == 0 || memchr(b.data, '\0', b.len) != NULL) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static int
attach_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Past the attribute at i of a tag: its name and value; the value's span when it is src. */
static size_t
attach_attr(const char *h, size_t len, size_t i, size_t *vat, size_t *vlen, int *is_src)
{
	size_t name = i, end;
	char q;

	while (i < len && !attach_space(h[i]) && h[i] != '=' && h[i] != '>' && h[i] != '/')
		i++;
	*is_src = i - name == 3 && strncasecmp(h + name, "src", 3) == 0;
	while (i < len && attach_space(h[i]))
		i++;
	if (i >= len || h[i] != '=') {
		*is_src = 0;
		return i;
	}
	for (i++; i < len && attach_space(h[i]); i++)
		;
	if (i < len && (h[i] == '"' || h[i] == '\'')) {
		q = h[i++];
		for (end = i; end < len && h[end] != q; end++)
			;
		*vat = i;
		*vlen = end - i;
		return end < len ? end + 1 : end;
	}
	for (end = i; end < len && !attach_space(h[end]) && h[end] != '>'; end++)
		;
	*vat = i;
	*vlen = end - i;
	return end;
}

void
attach_html_images(const char *h, size_t len, void (*fn)(void *arg, size_t at, size_t vlen),
    void *arg)
{
	size_t i = 0, vat = 0, vlen = 0, next;
	const char *p, *e;
	int is_src;

	while (i < len && (p = memchr(h + i, '<', len - i)) != NULL) {
		i = (size_t)(p - h);
		if (len - i >= 4 && memcmp(p, "<!--", 4) == 0) {
			/* Markup in a comment shows nothing. */
			for (e = p + 4; e + 3 <= h + len && memcmp(e, "-->", 3) != 0; e++)
				;
			i = e + 3 <= h + len ? (size_t)(e - h) + 3 : len;
			continue;
		}
		i++;
		if (len - i < 4 || strncasecmp(h + i, "img", 3) != 0 ||
		    !(attach_space(h[i + 3]) || h[i + 3] == '/' || h[i + 3] == '>'))
			continue;
		for (i += 3; i < len && h[i] != '>';) {
			if (attach_space(h[i]) || h[i] == '/') {
				i++;
				continue;
			}
			next = attach_attr(h, len, i, &vat, &vlen, &is_src);
			if (is_src && (vlen < 2 || memmem(h + vat, vlen, "{{", 2) == NULL))
				fn(arg, vat, vlen);
			i = next > i ? next : i + 1;
		}
	}
}

static const struct attach_file *
attach_find(const struct attach_kit *k, const char *path, int image, size_t *at)
{
	size_t i;

	for (i = 0; k && i < k->n; i++)
		if ((k->files[i].cid != NULL) == image && strcmp(k->files[i].path, path) == 0) {
			if (at)
				*at = i;
			return &k->files[i];
		}
	return NULL;
}

struct attach_rewrite {
	const struct attach_kit *k;
	const char *html;
	struct buf *out;
	size_t done;		/* bytes of html already out */
	unsigned char *used;
};

static void
attach_rewrite_one(void *arg, size_t at, size_t vlen)
{
	struct attach_rewrite *w = arg;
	const struct attach_file *f;
	char *path = attach_decode(w->html + at, vlen, 1);
	size_t i;

	if (path != NULL && attach_is_path(path) && (f = attach_find(w->k, path, 1, &i)) != NULL) {
		buf_add(w->out, w->html + w->done, at - w->done);
		buf_addf(w->out, "cid:%s", f->cid);
		w->done = at + vlen;
		w->used[i] = 1;
	}
	free(path);
}

void
attach_html_rewrite(const struct attach_kit *k, const char *html, size_t len, struct buf *out,
    unsigned char *used)
{
	struct attach_rewrite w = { k, html, out, 0, used };

	if (k != NULL && k->n > 0)
		attach_html_images(html, len, attach_rewrite_one, &w);
	buf_add(out, html + w.done, len - w.done);
}

size_t
attach_message_files(const struct attach_kit *k, const unsigned char *used,
    struct message_file *out)
{
	size_t i, n = 0;

	for (i = 0; i < k->n; i++) {
		const struct attach_file *f = &k->files[i];
		if (f->cid != NULL && !used[i])
			continue;
		out[n].name = f->name;
		out[n].type = f->type;
		out[n].content_id = f->cid;
		out[n].b64 = f->b64.data;
		out[n].b64_len = f->b64.len;
		n++;
	}
	return n;
}

/* ---- positions and refusals ---- */

void
attach_part_pos(const struct ynode *n, struct tmpl_pos *pos)
{
	pos->file = n->file;
	pos->line = n->text_line;
	pos->col = n->text_col;
	pos->indent = n->style == YSTYLE_LITERAL || n->style == YSTYLE_FOLDED ?
	    n->text_col - 1 : 0;
}

/* Where line `line`, column `col` (1-based) of a text that pos places is in its file. */
static void
attach_at(const struct tmpl_pos *pos, unsigned line, unsigned col, unsigned *fline,
    unsigned *fcol)
{
	*fline = pos->line + (line > 0 ? line - 1 : 0);
	*fcol = line <= 1 ? pos->col + (col > 0 ? col - 1 : 0) : pos->indent + col;
}

/* Line and column of byte `at` of text. */
static void
attach_offset_lc(const char *text, size_t at, unsigned *line, unsigned *col)
{
	size_t i, start = 0;

	*line = 1;
	for (i = 0; i < at; i++)
		if (text[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	*col = (unsigned)(at - start) + 1;
}

static const char *
attach_refusal(int err)
{
	switch (err) {
	case ENOENT:
		return "no such file in the project";
	case EXDEV:
		return "outside the project (an absolute path, '..' or a symlink that leads out): "
		    "refused";
	case EINVAL:
		return "not a regular file: refused";
	default:
		return strerror(err);
	}
}

/* The file at path, opened beneath the project; -1 with errno. */
static int
attach_open(const char *path)
{
	return util_open_under(".", path);
}

static void
attach_size_str(unsigned long long n, char *out, size_t size)
{
	if (n >= 1ULL << 30)
		snprintf(out, size, "%.1f GB", (double)n / (1ULL << 30));
	else if (n >= 1ULL << 20)
		snprintf(out, size, "%.1f MB", (double)n / (1ULL << 20));
	else if (n >= 1ULL << 10)
		snprintf(out, size, "%.1f KB", (double)n / (1ULL << 10));
	else
		snprintf(out, size, "%llu bytes", n);
}

/* ---- herald check ---- */

struct attach_check {
	const struct config *cfg;
	struct diag *d;
	struct tmpl_pos pos;		/* where its text starts */
	unsigned long long total;
	int over;
	char **seen;			/* the images counted already */
	size_t nseen, capseen;
};

/* One file, weighed; errors at file:line:col. */
static void
attach_check_file(struct attach_check *c, const char *what, const char *path, const char *file,
    unsigned line, unsigned col)
{
	char have[32], lim[32];
	struct stat st;
	int fd;

	if ((fd = attach_open(path)) == -1) {
		diag_error(c->d, file, line, col, "%s '%s': %s", what, path, attach_refusal(errno));
		return;
	}
	if (fstat(fd, &st) == 0)
		c->total += (unsigned long long)st.st_size;
	close(fd);
	if (!c->over && c->total > c->cfg->limits.attachments) {
		c->over = 1;
		attach_size_str(c->total, have, sizeof(have));
		attach_size_str(c->cfg->limits.attachments, lim, sizeof(lim));
		diag_error(c->d, file, line, col, "with %s '%s' the release carries %s, over "
		    "limits.attachments (%s)", what, path, have, lim);
	}
}

/* Each image of a Markdown field, at its own position when cmark knows it. */
static void
attach_field_images(const char *md, size_t len, const struct tmpl_pos *pos,
    void (*fn)(void *arg, const char *path, unsigned line, unsigned col), void *arg)
{
	cmark_node *doc = cmark_parse_document(md, len, CMARK_OPT_DEFAULT), *n;
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	unsigned line, col;
	const char *url;
	char *path;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(n) != CMARK_NODE_IMAGE)
			continue;
		url = cmark_node_get_url(n);
		if (!attach_is_path(url) || (path = attach_decode(url, strlen(url), 0)) == NULL)
			continue;
		attach_at(pos, (unsigned)cmark_node_get_start_line(n),
		    (unsigned)cmark_node_get_start_column(n), &line, &col);
		fn(arg, path, line, col);
		free(path);
	}
	cmark_iter_free(it);
	cmark_node_free(doc);
}

static void
attach_check_md_image(void *arg, const char *path, unsigned line, unsigned col)
{
	struct attach_check *c = arg;
	size_t i;

	for (i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], path) == 0)
			return;
	c->seen = xgrow(c->seen, &c->capseen, c->nseen + 1, sizeof(*c->seen));
	c->seen[c->nseen++] = xstrdup(path);
	attach_check_file(c, "image", path, c->pos.file, line, col);
}

void
attach_check_release(const struct config *cfg, const struct release *r, struct diag *d)
{
	struct attach_check c;
	const struct ynode *n;
	size_t i;
	long t;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.d = d;
	for (i = 0; i < r->nattachments; i++) {
		n = r->attachment_nodes[i];
		attach_check_file(&c, "attachment", r->attachments[i], n->file, n->line, n->col);
	}
	/* The release's own text and each translation's: any may show an image. */
	for (t = -1; t < (long)r->ntranslations; t++)
		for (i = 0; release_text_fields[i]; i++) {
			n = ynode_get(t < 0 ? r->root : r->translations[t].fields,
			    release_text_fields[i]);
			if (n == NULL || n->kind != YNODE_SCALAR || ynode_is_null(n))
				continue;
			attach_part_pos(n, &c.pos);
			attach_field_images(n->str, n->len, &c.pos, attach_check_md_image, &c);
		}
	while (c.nseen > 0)
		free(c.seen[--c.nseen]);
	free(c.seen);
}

struct attach_html_check {
	const char *html;
	const struct tmpl_pos *pos;
	struct diag *d;
	struct attach_kit *kit;		/* NULL: a check, nothing read */
	int failed;
};

static int attach_kit_add(struct attach_kit *k, const char *path, int image, const char *file,
    unsigned line, unsigned col, struct diag *d);

static void
attach_html_one(void *arg, size_t at, size_t vlen)
{
	struct attach_html_check *c = arg;
	unsigned line, col, fline, fcol;
	char *path = attach_decode(c->html + at, vlen, 1);
	int fd;

	if (path == NULL || !attach_is_path(path)) {
		free(path);
		return;
	}
	attach_offset_lc(c->html, at, &line, &col);
	attach_at(c->pos, line, col, &fline, &fcol);
	if (c->kit) {
		if (attach_kit_add(c->kit, path, 1, c->pos->file, fline, fcol, c->d) == -1)
			c->failed = 1;
	} else if ((fd = attach_open(path)) == -1) {
		diag_error(c->d, c->pos->file, fline, fcol, "image '%s': %s", path,
		    attach_refusal(errno));
	} else {
		close(fd);
	}
	free(path);
}

void
attach_check_html(const char *html, size_t len, const struct tmpl_pos *pos, struct diag *d)
{
	struct attach_html_check c = { html, pos, d, NULL, 0 };

	attach_html_images(html, len, attach_html_one, &c);
}

/* ---- the kit of a send ---- */

void
attach_kit_init(struct attach_kit *k, const char *domain)
{
	memset(k, 0, sizeof(*k));
	k->domain = xstrdup(domain ? domain : "herald.invalid");
}

/* FNV-1a of the bytes: the Content-ID tells images apart, and is the same in every message. */
static unsigned long long
attach_hash(const char *p, size_t len)
{
	unsigned long long h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* "type/subtype" libmagic gave, or application/octet-stream; "; charset=" for text. */
static char *
attach_type(struct attach_kit *k, const char *data, size_t len)
{
	const char *t, *cs;
	char *type;

	if (k->magic == NULL) {
		k->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
		if (k->magic != NULL && magic_load(k->magic, NULL) == -1) {
			magic_close(k->magic);
			k->magic = NULL;
		}
	}
	if (k->magic == NULL || magic_setflags(k->magic, MAGIC_MIME_TYPE) == -1 ||
	    (t = magic_buffer(k->magic, data, len)) == NULL ||
	    strchr(t, '/') == NULL || strpbrk(t, " ;\"\r\n") != NULL)
		return xstrdup("application/octet-stream");
	type = xstrdup(t);
	if (strncmp(type, "text/", 5) != 0 || magic_setflags(k->magic, MAGIC_MIME_ENCODING) == -1 ||
	    (cs = magic_buffer(k->magic, data, len)) == NULL)
		return type;
	if (strcmp(cs, "us-ascii") == 0 || strcmp(cs, "utf-8") == 0 ||
	    strcmp(cs, "iso-8859-1") == 0) {
		char *with = xasprintf("%s; charset=%s", type, cs);
		free(type);
		return with;
	}
	return type;
}

static int
attach_kit_add(struct attach_kit *k, const char *path, int image, const char *file,
    unsigned line, unsigned col, struct diag *d)
{
	struct attach_file *f;
	char *data;
	size_t len;
	int fd;

	if (attach_find(k, path, image, NULL) != NULL)
		return 0;
	if ((fd = attach_open(path)) == -1 || util_read_fd(fd, &data, &len) == -1) {
		diag_error(d, file, line, col, "%s '%s': %s", image ? "image" : "attachment", path,
		    attach_refusal(errno));
		return -1;
	}
	k->files = xgrow(k->files, &k->cap, k->n + 1, sizeof(*k->files));
	f = &k->files[k->n++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->name = release_file_name(f->path);
	f->size = len;
	f->type = attach_type(k, data, len);
	if (image)
		f->cid = xasprintf("img%zu.%016llx@%s", k->n, attach_hash(data, len), k->domain);
	message_base64(data, len, &f->b64);
	free(data);
	return 0;
}

struct attach_kit_md {
	struct attach_kit *k;
	struct diag *d;
	const char *file;
	int failed;
};

static void
attach_kit_md_image(void *arg, const char *path, unsigned line, unsigned col)
{
	struct attach_kit_md *m = arg;

	if (attach_kit_add(m->k, path, 1, m->file, line, col, m->d) == -1)
		m->failed = 1;
}

int
attach_kit_release(struct attach_kit *k, const struct release *r, int images_only,
    struct diag *d)
{
	struct attach_kit_md m = { k, d, NULL, 0 };
	const struct ynode *n;
	struct tmpl_pos pos;
	size_t i;
	long t;
	int rc = 0;

	for (i = 0; !images_only && i < r->nattachments; i++) {
		n = r->attachment_nodes[i];
		if (attach_kit_add(k, r->attachments[i], 0, n->file, n->line, n->col, d) == -1)
			rc = -1;
	}
	for (t = -1; t < (long)r->ntranslations; t++)
		for (i = 0; release_text_fields[i]; i++) {
			n = ynode_get(t < 0 ? r->root : r->translations[t].fields,
			    release_text_fields[i]);
			if (n == NULL || n->kind != YNODE_SCALAR || ynode_is_null(n))
				continue;
			attach_part_pos(n, &pos);
			m.file = pos.file;
			attach_field_images(n->str, n->len, &pos, attach_kit_md_image, &m);
		}
	return rc == 0 && !m.failed ? 0 : -1;
}

int
attach_kit_html(struct attach_kit *k, const char *html, size_t len, const struct tmpl_pos *pos,
    struct diag *d)
{
	struct attach_html_check c = { html, pos, d, k, 0 };

	attach_html_images(html, len, attach_html_one, &c);
	return c.failed ? -1 : 0;
}

int
attach_kit_templates(struct attach_kit *k, const struct tmplfile *t, const struct partials *p,
    struct diag *d)
{
	struct tmpl_pos pos;
	size_t i;
	int rc = 0;

	if (t->html != NULL) {
		attach_part_pos(t->html, &pos);
		rc = attach_kit_html(k, t->html->str, t->html->len, &pos, d);
	}
	for (i = 0; p != NULL && i < p->n; i++) {
		if (p->items[i].src == NULL)
			continue;
		pos.file = p->items[i].file;
		pos.line = pos.col = 1;
		pos.indent = 0;
		if (attach_kit_html(k, p->items[i].src, p->items[i].len, &pos, d) == -1)
			rc = -1;
	}
	return rc;
}

int
attach_kit_logo(struct attach_kit *k, const struct config *cfg, struct diag *d)
{
	if (cfg->sender.logo == NULL)
		return 0;
	return attach_kit_add(k, cfg->sender.logo, 1, cfg->file, 0, 0, d);
}

size_t
attach_kit_bytes(const struct attach_kit *k)
{
	size_t i, n = 0;

	for (i = 0; i < k->n; i++)
		n += k->files[i].b64.len;
	return n;
}

void
attach_kit_free(struct attach_kit *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++) {
		free(k->files[i].path);
		free(k->files[i].type);
		free(k->files[i].cid);
		buf_free(&k->files[i].b64);
	}
	free(k->files);
	free(k->domain);
	if (k->magic)
		magic_close(k->magic);
	memset(k, 0, sizeof(*k));
}
