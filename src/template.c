/*
 * template.c - mustache, parsed to a flat token list, then rendered.
 *
 * Neither recurses: parsing is one forward pass with a stack of open
 * sections, rendering a loop over a stack of frames (one per section or
 * partial being rendered), both on the heap, so no input can exhaust the
 * C stack. Rendering is metered in steps and output bytes, so that no
 * template can loop for hours or fill memory.
 */
#define _GNU_SOURCE		/* memmem */
#include "template.h"

#include <stdint.h>
#include <string.h>

enum tmpl_kind {
	TMPL_TEXT,
	TMPL_VAR,		/* {{x}}: escaped as the options say */
	TMPL_RAW,		/* {{{x}}} and {{&x}} */
	TMPL_SECTION,
	TMPL_INVERTED,
	TMPL_PARTIAL
};

struct tmpl_partial;

struct tmpl_tok {
	enum tmpl_kind kind;
	unsigned char line_start;	/* starts a source line: a partial's indentation goes here */
	unsigned char standalone;	/* its line was removed: no indentation */
	unsigned char reported;		/* its render error is in the diag already */
	/*
	 * TEXT: the text (at most one newline, at its end); VAR, RAW,
	 * SECTION, INVERTED: the name as written; PARTIAL: the indentation
	 * of a standalone tag.
	 */
	const char *text;
	size_t len;
	size_t name;			/* offset in tmpl.names: NUL-separated segments */
	unsigned nseg;			/* 0: the implicit iterator '.' */
	size_t end;			/* SECTION, INVERTED: the token after the body */
	unsigned line, col;		/* where it starts (a tag's opening delimiter) */
	struct tmpl_partial *partial;	/* PARTIAL: looked up on first use */
};

struct tmpl {
	struct tmpl_tok *toks;
	size_t n, cap;
	struct buf names;
	const char *file;
	unsigned errors;		/* syntax errors reported while parsing */
};

struct tmpl_partial {
	char *name;
	struct tmpl *t;			/* NULL: the loader has no such partial */
};

/* Partials by name, each loaded and parsed once per call. */
struct tmpl_cache {
	struct tmpl_partial **slots;	/* open addressing; cap a power of 2 */
	size_t cap, n;
};

struct tmpl_parser {
	struct tmpl *t;
	struct diag *d;
	const char *src;
	size_t len;
	size_t cur;			/* the first byte not yet turned into tokens */
	struct buf open, close;		/* the delimiters */
	struct buf close3, close_eq;	/* "}" + close and "=" + close */
	/*
	 * Where a search for close3 / close_eq found nothing to the end:
	 * from there on it never will, and searching again for each of many
	 * broken tags would be quadratic.
	 */
	size_t miss3, miss_eq;
	size_t *secs;			/* the open sections' token indexes */
	size_t nsecs, capsecs;
	int stop;			/* nothing sensible follows: give up */
	int deep;			/* stopped by nesting: no unclosed-section noise */
	/* Positions are counted forward incrementally: linear, however many errors. */
	size_t woff;
	unsigned wline, wcol, indent;
};

/* What a frame undoes when its run of tokens ends. */
enum tmpl_fkind {
	TMPL_F_RUN,			/* nothing: the top level, an inverted section */
	TMPL_F_PUSHED,			/* a section: pop its value */
	TMPL_F_LIST,			/* a section over a list: pop, then the next item */
	TMPL_F_PARTIAL			/* a partial: one level less */
};

struct tmpl_frame {
	enum tmpl_fkind kind;
	struct tmpl *t;
	size_t i, begin, end;		/* the next token; the run is [begin, end) */
	size_t ind, indlen;		/* this text's indentation in tmpl_render.indent */
	const struct ynode *list;	/* TMPL_F_LIST: the list and the item now */
	size_t item;
};

struct tmpl_render {
	const struct tmpl_opts *o;
	struct diag *d;
	struct tmpl_cache cache;
	struct buf *out;
	size_t start;			/* out->len on entry */
	const struct ynode **stack;	/* the context stack, top last */
	size_t depth, cap;
	struct tmpl_frame *frames;
	size_t nframes, capframes;
	/* Indentation of nested standalone partials; each frame owns a slice. */
	struct buf indent;
	unsigned partials;		/* partial nesting now */
	unsigned long steps;
	unsigned errors;
	int stop;
	const struct tmpl *at_t;	/* the token being rendered, for errors */
	const struct tmpl_tok *at;
};

static int
tmpl_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static int
tmpl_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* A name fit for a one-line message: control bytes shown as '?', long ones cut. */
static const char *
tmpl_clip(char *q, size_t qsize, const char *s, size_t n)
{
	size_t i, max = qsize - 4;

	if (n > max) {
		/* Cut before a UTF-8 continuation byte, not inside a character. */
		while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
			max--;
	}
	for (i = 0; i < n && i < max; i++)
		q[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (i < n)
		q[i++] = '.', q[i++] = '.', q[i++] = '.';
	q[i] = '\0';
	return q;
}

/* ---- positions ---- */

static void
tmpl_where(struct tmpl_parser *p, size_t off, unsigned *line, unsigned *col)
{
	for (; p->woff < off; p->woff++) {
		if (p->src[p->woff] == '\n') {
			p->wline++;
			p->wcol = p->indent + 1;
		} else if (((unsigned char)p->src[p->woff] & 0xc0) != 0x80) {
			/* Columns count characters, as libyaml's do. */
			p->wcol++;
		}
	}
	*line = p->wline;
	*col = p->wcol;
}

/* ---- the token list ---- */

static void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->toks);
	buf_free(&t->names);
	free(t);
}

static struct tmpl_tok *
tmpl_add_tok(struct tmpl_parser *p, enum tmpl_kind kind, size_t off)
{
	struct tmpl *t = p->t;
	struct tmpl_tok *k;

	t->toks = xgrow(t->toks, &t->cap, t->n + 1, sizeof(*t->toks));
	k = &t->toks[t->n++];
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->line_start = off == 0 || p->src[off - 1] == '\n';
	/* Any token may be where a render stops: each knows its place. */
	tmpl_where(p, off, &k->line, &k->col);
	return k;
}

/* Text split after each newline, so that indentation can go before any line. */
static void
tmpl_add_text(struct tmpl_parser *p, size_t a, size_t b)
{
	const char *nl;
	struct tmpl_tok *k;
	size_t e;

	while (a < b) {
		nl = memchr(p->src + a, '\n', b - a);
		e = nl ? (size_t)(nl - p->src) + 1 : b;
		k = tmpl_add_tok(p, TMPL_TEXT, a);
		k->text = p->src + a;
		k->len = e - a;
		a = e;
	}
}

/* Stores a name with its dots turned into NULs: lookups need no copying. */
static size_t
tmpl_add_name(struct tmpl *t, const char *s, size_t n, int split, unsigned *nseg)
{
	size_t off = t->names.len, i;

	buf_add(&t->names, s, n);
	buf_addc(&t->names, '\0');
	*nseg = 1;
	if (!split)
		return off;
	if (n == 1 && s[0] == '.') {
		*nseg = 0;
		return off;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			t->names.data[off + i] = '\0';
			(*nseg)++;
		}
	}
	return off;
}

/* ---- errors while parsing ---- */

static void HERALD_PRINTF(3, 4)
tmpl_perror(struct tmpl_parser *p, size_t off, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	unsigned line, col;
	va_list ap;

	tmpl_where(p, off, &line, &col);
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	diag_error(p->d, p->t->file, line, col, "%s", buf_str(&msg));
	buf_free(&msg);
	p->t->errors++;
}

/* Reports an error at an earlier token, whose position is known already. */
static void
tmpl_perror_tok(struct tmpl_parser *p, const struct tmpl_tok *k, const char *what)
{
	char q[64];

	diag_error(p->d, p->t->file, k->line, k->col, "%s '%s'", what,
	    tmpl_clip(q, sizeof(q), k->text, k->len));
	p->t->errors++;
}

/* ---- tags ---- */

static void
tmpl_set_delims(struct tmpl_parser *p, const char *o, size_t olen,
    const char *c, size_t clen)
{
	buf_reset(&p->open);
	buf_add(&p->open, o, olen);
	buf_reset(&p->close);
	buf_add(&p->close, c, clen);
	buf_reset(&p->close3);
	buf_addc(&p->close3, '}');
	buf_add(&p->close3, c, clen);
	buf_reset(&p->close_eq);
	buf_addc(&p->close_eq, '=');
	buf_add(&p->close_eq, c, clen);
	p->miss3 = p->miss_eq = SIZE_MAX;
}

/*
 * A tag alone on its line (but for blanks) vanishes with its line. Sets
 * *lp to where the line starts and *next past its newline.
 */
static int
tmpl_standalone(struct tmpl_parser *p, size_t ts, size_t te, size_t *lp,
    size_t *next)
{
	const char *s = p->src;
	size_t a = ts, b = te;

	while (a > p->cur && (s[a - 1] == ' ' || s[a - 1] == '\t'))
		a--;
	if (a > 0 && s[a - 1] != '\n')
		return 0;
	while (b < p->len && (s[b] == ' ' || s[b] == '\t'))
		b++;
	if (b < p->len && s[b] == '\n')
		b++;
	else if (b + 1 < p->len && s[b] == '\r' && s[b + 1] == '\n')
		b += 2;
	else if (b < p->len)
		return 0;
	*lp = a;
	*next = b;
	return 1;
}

/* 0 when s is a name that can be looked up; else reports why not. */
static int
tmpl_check_name(struct tmpl_parser *p, size_t ts, const char *s, size_t n,
    int dotted)
{
	char q[64];
	size_t i;
	int bad = 0;

	if (n == 0) {
		tmpl_perror(p, ts, "empty tag name");
		return -1;
	}
	for (i = 0; i < n; i++)
		bad |= tmpl_isspace(s[i]);
	if (dotted && !(n == 1 && s[0] == '.'))
		bad |= s[0] == '.' || s[n - 1] == '.' || memmem(s, n, "..", 2);
	if (bad)
		tmpl_perror(p, ts, "invalid tag name '%s'",
		    tmpl_clip(q, sizeof(q), s, n));
	return bad ? -1 : 0;
}

static struct tmpl_tok *
tmpl_add_tag(struct tmpl_parser *p, enum tmpl_kind kind, size_t ts,
    const char *s, size_t n)
{
	struct tmpl_tok *k = tmpl_add_tok(p, kind, ts);

	k->text = s;
	k->len = n;
	k->name = tmpl_add_name(p->t, s, n, kind != TMPL_PARTIAL, &k->nseg);
	return k;
}

static void
tmpl_tag_open(struct tmpl_parser *p, enum tmpl_kind kind, size_t ts,
    const char *s, size_t n, int standalone)
{
	if (tmpl_check_name(p, ts, s, n, 1) == -1)
		return;
	if (p->nsecs >= TMPL_MAX_SECTIONS) {
		tmpl_perror(p, ts, "sections nested too deeply (more than %d)",
		    TMPL_MAX_SECTIONS);
		p->stop = p->deep = 1;
		return;
	}
	p->secs = xgrow(p->secs, &p->capsecs, p->nsecs + 1, sizeof(*p->secs));
	p->secs[p->nsecs++] = p->t->n;
	tmpl_add_tag(p, kind, ts, s, n)->standalone = standalone;
}

static void
tmpl_tag_close(struct tmpl_parser *p, size_t ts, const char *s, size_t n)
{
	struct tmpl_tok *k;
	char q[64], q2[64];

	if (tmpl_check_name(p, ts, s, n, 1) == -1)
		return;
	if (p->nsecs == 0) {
		tmpl_perror(p, ts, "'/%s' closes no open section",
		    tmpl_clip(q, sizeof(q), s, n));
		return;
	}
	k = &p->t->toks[p->secs[--p->nsecs]];
	k->end = p->t->n;
	if (k->len != n || memcmp(k->text, s, n) != 0)
		tmpl_perror(p, ts, "section '%s' closed by '/%s'",
		    tmpl_clip(q, sizeof(q), k->text, k->len),
		    tmpl_clip(q2, sizeof(q2), s, n));
}

static void
tmpl_tag_partial(struct tmpl_parser *p, size_t ts, const char *s, size_t n,
    int standalone, size_t lp)
{
	struct tmpl_tok *k;

	if (tmpl_check_name(p, ts, s, n, 0) == -1)
		return;
	k = tmpl_add_tag(p, TMPL_PARTIAL, ts, s, n);
	k->standalone = standalone;
	if (standalone) {
		k->text = p->src + lp;
		k->len = ts - lp;
	} else {
		k->text = NULL;
		k->len = 0;
	}
}

/* {{=OPEN CLOSE=}}: s is what is between the equals signs. */
static void
tmpl_tag_delims(struct tmpl_parser *p, size_t ts, const char *s, size_t n)
{
	size_t a = 0, b, e;

	while (a < n && !tmpl_isspace(s[a]))
		a++;
	for (b = a; b < n && tmpl_isspace(s[b]); b++)
		;
	for (e = b; e < n && !tmpl_isspace(s[e]); e++)
		;
	if (a == 0 || b == a || e == b || e != n || memchr(s, '=', n)) {
		tmpl_perror(p, ts, "bad set-delimiter tag (want =OPEN CLOSE=)");
		return;
	}
	tmpl_set_delims(p, s, a, s + b, e - b);
}

static void
tmpl_trim(const char **s, size_t *n)
{
	while (*n > 0 && tmpl_isspace(**s))
		(*s)++, (*n)--;
	while (*n > 0 && tmpl_isspace((*s)[*n - 1]))
		(*n)--;
}

/* Searches for needle from cs, unless an earlier search from *miss failed. */
static const char *
tmpl_find(struct tmpl_parser *p, size_t cs, const struct buf *needle,
    size_t *miss)
{
	const char *hit;

	if (miss != NULL && cs >= *miss)
		return NULL;
	hit = memmem(p->src + cs, p->len - cs, needle->data, needle->len);
	if (hit == NULL && miss != NULL)
		*miss = cs;
	return hit;
}

/* The end of a tag whose content starts at cs, or -1 after reporting it. */
static int
tmpl_tag_end(struct tmpl_parser *p, size_t ts, size_t cs, char sigil,
    size_t *ce, size_t *te)
{
	const struct buf *needle = &p->close;
	const char *hit;
	size_t *miss = NULL;
	char q[64];

	if (sigil == '{')
		needle = &p->close3, miss = &p->miss3;
	else if (sigil == '=')
		needle = &p->close_eq, miss = &p->miss_eq;
	hit = tmpl_find(p, cs, needle, miss);
	if (hit != NULL) {
		*ce = (size_t)(hit - p->src);
		*te = *ce + needle->len;
		return 0;
	}
	hit = tmpl_find(p, cs, &p->close, NULL);
	if (hit == NULL || needle == &p->close) {
		tmpl_perror(p, ts, "unclosed tag");
		p->stop = 1;
		return -1;
	}
	/* Recover after the plain closing delimiter: more errors may follow. */
	if (sigil == '=')
		tmpl_perror(p, ts, "bad set-delimiter tag (want =OPEN CLOSE=)");
	else
		tmpl_perror(p, ts, "unclosed tag ('{' wants '%s')",
		    tmpl_clip(q, sizeof(q), needle->data, needle->len));
	p->cur = (size_t)(hit - p->src) + p->close.len;
	return -1;
}

static void
tmpl_parse_tag(struct tmpl_parser *p, size_t ts)
{
	size_t cs = ts + p->open.len, ce, te, lp = ts, next;
	char sigil = cs < p->len ? p->src[cs] : '\0';
	int standalone = 0;
	const char *s;
	size_t n;

	if (sigil == '\0' || strchr("{=&#^/>!", sigil) == NULL)
		sigil = '\0';
	else
		cs++;
	if (tmpl_tag_end(p, ts, cs, sigil, &ce, &te) == -1)
		return;
	if (sigil != '\0' && strchr("#^/>!=", sigil))
		standalone = tmpl_standalone(p, ts, te, &lp, &next);
	tmpl_add_text(p, p->cur, standalone ? lp : ts);
	p->cur = standalone ? next : te;
	s = p->src + cs;
	n = ce - cs;
	tmpl_trim(&s, &n);
	switch (sigil) {
	case '!':
		break;
	case '=':
		tmpl_tag_delims(p, ts, s, n);
		break;
	case '#':
	case '^':
		tmpl_tag_open(p, sigil == '#' ? TMPL_SECTION : TMPL_INVERTED,
		    ts, s, n, standalone);
		break;
	case '/':
		tmpl_tag_close(p, ts, s, n);
		break;
	case '>':
		tmpl_tag_partial(p, ts, s, n, standalone, lp);
		break;
	default:
		if (tmpl_check_name(p, ts, s, n, 1) == 0)
			tmpl_add_tag(p, sigil ? TMPL_RAW : TMPL_VAR, ts, s, n);
		break;
	}
}

static void
tmpl_parser_init(struct tmpl_parser *p, const char *src, size_t len,
    const struct tmpl_pos *pos, struct diag *d)
{
	memset(p, 0, sizeof(*p));
	p->t = xcalloc(1, sizeof(*p->t));
	p->t->file = pos->file;
	p->d = d;
	p->src = src ? src : "";
	p->len = src ? len : 0;
	p->wline = pos->line ? pos->line : 1;
	p->wcol = pos->col ? pos->col : 1;
	p->indent = pos->indent;
	tmpl_set_delims(p, "{{", 2, "}}", 2);
}

/* Always returns a template; t->errors says whether it may be rendered. */
static struct tmpl *
tmpl_parse(const char *src, size_t len, const struct tmpl_pos *pos,
    struct diag *d)
{
	struct tmpl_parser p;
	const char *hit;
	size_t i;

	tmpl_parser_init(&p, src, len, pos, d);
	while (p.cur < p.len && !p.stop) {
		hit = memmem(p.src + p.cur, p.len - p.cur, p.open.data, p.open.len);
		if (hit == NULL) {
			tmpl_add_text(&p, p.cur, p.len);
			break;
		}
		tmpl_parse_tag(&p, (size_t)(hit - p.src));
	}
	for (i = 0; i < p.nsecs; i++) {
		p.t->toks[p.secs[i]].end = p.t->n;
		if (!p.deep)
			tmpl_perror_tok(&p, &p.t->toks[p.secs[i]], "unclosed section");
	}
	free(p.secs);
	buf_free(&p.open);
	buf_free(&p.close);
	buf_free(&p.close3);
	buf_free(&p.close_eq);
	return p.t;
}

/* ---- partials ---- */

static uint32_t
tmpl_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct tmpl_partial **
tmpl_cache_slot(struct tmpl_partial **slots, size_t cap, const char *name)
{
	size_t mask = cap - 1, i = tmpl_hash(name) & mask;

	while (slots[i] != NULL && strcmp(slots[i]->name, name) != 0)
		i = (i + 1) & mask;
	return &slots[i];
}

static void
tmpl_cache_grow(struct tmpl_cache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 16, i;
	struct tmpl_partial **slots = xcalloc(cap, sizeof(*slots));

	for (i = 0; i < c->cap; i++)
		if (c->slots[i] != NULL)
			*tmpl_cache_slot(slots, cap, c->slots[i]->name) = c->slots[i];
	free(c->slots);
	c->slots = slots;
	c->cap = cap;
}

static void
tmpl_cache_free(struct tmpl_cache *c)
{
	size_t i;

	for (i = 0; i < c->cap; i++) {
		if (c->slots[i] == NULL)
			continue;
		tmpl_free(c->slots[i]->t);
		free(c->slots[i]->name);
		free(c->slots[i]);
	}
	free(c->slots);
	memset(c, 0, sizeof(*c));
}

static struct tmpl *
tmpl_load(const char *name, const struct tmpl_opts *o, struct diag *d)
{
	struct tmpl_pos pos;
	const char *src = NULL;
	size_t len = 0;

	memset(&pos, 0, sizeof(pos));
	if (o->partial == NULL ||
	    o->partial(o->partial_arg, name, &src, &len, &pos) != 0)
		return NULL;
	return tmpl_parse(src, len, &pos, d);
}

/* The partial called name, loaded and parsed on first use (*fresh = 1). */
static struct tmpl_partial *
tmpl_cache_get(struct tmpl_cache *c, const char *name,
    const struct tmpl_opts *o, struct diag *d, int *fresh)
{
	struct tmpl_partial **slot, *pt;

	*fresh = 0;
	if (c->n + 1 > c->cap / 2)
		tmpl_cache_grow(c);
	slot = tmpl_cache_slot(c->slots, c->cap, name);
	if (*slot != NULL)
		return *slot;
	pt = xcalloc(1, sizeof(*pt));
	pt->name = xstrdup(name);
	*slot = pt;
	c->n++;
	pt->t = tmpl_load(name, o, d);
	*fresh = 1;
	return pt;
}

/* ---- rendering ---- */

static void HERALD_PRINTF(2, 3)
tmpl_rerror(struct tmpl_render *r, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (r->at != NULL)
		diag_error(r->d, r->at_t->file, r->at->line, r->at->col, "%s",
		    buf_str(&msg));
	else
		diag_error(r->d, NULL, 0, 0, "%s", buf_str(&msg));
	buf_free(&msg);
	r->errors++;
}

static int
tmpl_step(struct tmpl_render *r, size_t n)
{
	r->steps += n;
	if (r->steps <= TMPL_MAX_STEPS)
		return 0;
	if (!r->stop)
		tmpl_rerror(r, "template takes more than %lu steps to render "
		    "(runaway loop?)", (unsigned long)TMPL_MAX_STEPS);
	r->stop = 1;
	return -1;
}

static void
tmpl_emit(struct tmpl_render *r, const char *s, size_t n)
{
	if (r->stop)
		return;
	if (n > TMPL_MAX_OUTPUT - (r->out->len - r->start)) {
		tmpl_rerror(r, "rendered text longer than %lu bytes",
		    (unsigned long)TMPL_MAX_OUTPUT);
		r->stop = 1;
		return;
	}
	buf_add(r->out, s, n);
}

static const char *
tmpl_entity(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

static void
tmpl_emit_html(struct tmpl_render *r, const char *s, size_t n)
{
	const char *ent;
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if ((ent = tmpl_entity(s[i])) == NULL)
			continue;
		tmpl_emit(r, s + run, i - run);
		tmpl_emit(r, ent, strlen(ent));
		run = i + 1;
	}
	tmpl_emit(r, s + run, n - run);
}

static size_t
tmpl_digits(const char *s, size_t i, size_t n)
{
	while (i < n && tmpl_isdigit(s[i]))
		i++;
	return i;
}

/*
 * A YAML 1.2 core decimal with a point, [-+]?(\.D+|D+\.D*)([eE][-+]?D+)?,
 * in normal form, as the spec wants ("1.210" is "1.21"): no trailing
 * zeros in the fraction but one digit, a 0 before a bare point.
 * Returns 0 when s is no such decimal.
 */
static int
tmpl_decimal(const char *s, size_t n, struct buf *b)
{
	size_t ip = 0, dot, fe, e, x;

	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		ip = 1;
	dot = tmpl_digits(s, ip, n);
	if (dot >= n || s[dot] != '.')
		return 0;
	e = fe = tmpl_digits(s, dot + 1, n);
	if (ip == dot && fe == dot + 1)
		return 0;
	if (e < n && (s[e] == 'e' || s[e] == 'E')) {
		x = e + 1 < n && (s[e + 1] == '+' || s[e + 1] == '-') ? e + 2 : e + 1;
		if (tmpl_digits(s, x, n) != n || x == n)
			return 0;
	} else if (e != n) {
		return 0;
	}
	while (fe > dot + 2 && s[fe - 1] == '0')
		fe--;
	buf_add(b, s, dot);
	if (ip == dot)
		buf_addc(b, '0');
	buf_add(b, s + dot, fe - dot);
	if (fe == dot + 1)
		buf_addc(b, '0');
	buf_add(b, s + e, n - e);
	return 1;
}

static void
tmpl_push(struct tmpl_render *r, const struct ynode *v)
{
	r->stack = xgrow(r->stack, &r->cap, r->depth + 1, sizeof(*r->stack));
	r->stack[r->depth++] = v;
}

/* The key of map nearest to want (a slip: a third of the word at most), or NULL. */
static const char *
tmpl_nearest(const struct ynode *map, const char *want, size_t *best)
{
	const char *near = NULL, *key;
	size_t i, dist, limit = strlen(want) / 3 + 1;

	if (map == NULL || map->kind != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++) {
		key = ynode_key(map, i)->str;
		dist = util_edit_distance(want, key);
		/* "firstname" for "name": a key inside the name, said when nothing is nearer. */
		if (dist > limit && strlen(key) >= 3 && strstr(want, key) != NULL)
			dist = limit;
		if (dist <= limit && dist < *best) {
			*best = dist;
			near = ynode_key(map, i)->str;
		}
	}
	return near;
}

/*
 * strict_names: the name k resolves to nothing. Said at the tag, with the
 * name it may have meant: the nearest key of the map where the path
 * stopped (for its first part, of any map on the stack).
 */
static void
tmpl_unknown_name(struct tmpl_render *r, const struct tmpl *t, const struct tmpl_tok *k)
{
	const char *seg = t->names.data + k->name, *near = NULL, *n;
	const struct ynode *v = NULL, *at = NULL;
	struct buf meant = BUF_INIT;
	size_t i, best = (size_t)-1;
	unsigned s;

	for (i = r->depth; i > 0 && v == NULL; i--)
		v = ynode_get(r->stack[i - 1], seg);
	if (v == NULL) {
		for (i = r->depth; i > 0; i--)
			if ((n = tmpl_nearest(r->stack[i - 1], seg, &best)) != NULL)
				near = n;
	}
	for (s = 1; s < k->nseg && v != NULL; s++) {
		buf_adds(&meant, seg);
		buf_addc(&meant, '.');
		seg += strlen(seg) + 1;
		at = v;
		v = ynode_get(v, seg);
		if (v == NULL)
			near = tmpl_nearest(at, seg, &best);
	}
	if (near)
		tmpl_rerror(r, "unknown name '%.*s' (did you mean '%s%s'?)", (int)k->len, k->text,
		    buf_str(&meant), near);
	else
		tmpl_rerror(r, "unknown name '%.*s'", (int)k->len, k->text);
	buf_free(&meant);
}

/* The spec's resolution: the first part up the stack, the rest inside it. */
static const struct ynode *
tmpl_lookup(struct tmpl_render *r, const struct tmpl *t,
    const struct tmpl_tok *k)
{
	const char *seg = t->names.data + k->name;
	const struct ynode *v = NULL;
	size_t i;
	unsigned s;

	if (k->nseg == 0)
		return r->depth ? r->stack[r->depth - 1] : NULL;
	for (i = r->depth; i > 0 && v == NULL; i--)
		v = ynode_get(r->stack[i - 1], seg);
	/* A deep stack makes every lookup slow: it counts as work. */
	if (tmpl_step(r, r->depth - i) == -1)
		return NULL;
	for (s = 1; s < k->nseg && v != NULL; s++) {
		seg += strlen(seg) + 1;
		v = ynode_get(v, seg);
	}
	if (v == NULL && r->o->strict_names)
		tmpl_unknown_name(r, t, k);
	if (v == NULL && r->o->on_missing && (k->kind == TMPL_VAR || k->kind == TMPL_RAW) &&
	    r->at != NULL)
		r->o->on_missing(r->o->missing_arg, r->at_t->file, r->at->line, r->at->col,
		    k->text, k->len);
	return v;
}

static int
tmpl_truthy(const struct ynode *v)
{
	int b;

	if (v == NULL)
		return 0;
	if (v->kind == YNODE_SEQ)
		return v->n > 0;
	if (v->kind == YNODE_MAP)
		return 1;
	if (ynode_is_null(v))
		return 0;
	if (ynode_bool(v, &b))
		return b;
	return 1;
}

static void
tmpl_render_var(struct tmpl_render *r, const struct tmpl *t,
    const struct tmpl_tok *k)
{
	const struct ynode *v = tmpl_lookup(r, t, k);
	struct buf num = BUF_INIT;
	const char *s;
	size_t n;

	if (v == NULL || v->kind != YNODE_SCALAR || ynode_is_null(v))
		return;
	s = v->str;
	n = v->len;
	if (v->style == YSTYLE_PLAIN && tmpl_decimal(s, n, &num)) {
		s = num.data;
		n = num.len;
	}
	if (k->kind == TMPL_VAR && r->o->escape == TMPL_ESCAPE_HTML)
		tmpl_emit_html(r, s, n);
	else
		tmpl_emit(r, s, n);
	buf_free(&num);
}

static struct tmpl_frame *
tmpl_frame_push(struct tmpl_render *r, enum tmpl_fkind kind,
    const struct tmpl_frame *parent, size_t begin, size_t end)
{
	struct tmpl_frame *f;

	r->frames = xgrow(r->frames, &r->capframes, r->nframes + 1,
	    sizeof(*r->frames));
	f = &r->frames[r->nframes++];
	*f = *parent;
	f->kind = kind;
	f->i = f->begin = begin;
	f->end = end;
	f->list = NULL;
	f->item = 0;
	return f;
}

/* A run has ended: undo what its frame did, or start it over with a list's next item. */
static void
tmpl_frame_done(struct tmpl_render *r, struct tmpl_frame *f)
{
	switch (f->kind) {
	case TMPL_F_LIST:
		r->depth--;
		/* Empty bodies cost nothing else: each pass counts. */
		if (++f->item < f->list->n && tmpl_step(r, 1) == 0) {
			tmpl_push(r, f->list->items[f->item]);
			f->i = f->begin;
			return;
		}
		break;
	case TMPL_F_PUSHED:
		r->depth--;
		break;
	case TMPL_F_PARTIAL:
		r->partials--;
		break;
	case TMPL_F_RUN:
		break;
	}
	r->nframes--;
}

/* f is a copy: pushing a frame may move the frame array. */
static void
tmpl_open_section(struct tmpl_render *r, const struct tmpl_frame *f,
    const struct tmpl_tok *k, size_t at)
{
	const struct ynode *v = tmpl_lookup(r, f->t, k);
	struct tmpl_frame *sub;

	if (k->kind == TMPL_INVERTED) {
		if (!tmpl_truthy(v))
			tmpl_frame_push(r, TMPL_F_RUN, f, at + 1, k->end);
		return;
	}
	if (!tmpl_truthy(v))
		return;
	if (v->kind != YNODE_SEQ) {
		tmpl_frame_push(r, TMPL_F_PUSHED, f, at + 1, k->end);
		tmpl_push(r, v);
		return;
	}
	sub = tmpl_frame_push(r, TMPL_F_LIST, f, at + 1, k->end);
	sub->list = v;
	tmpl_push(r, v->items[0]);
}

/* The partial of k, or NULL (reported) when it cannot be rendered. */
static struct tmpl *
tmpl_resolve(struct tmpl_render *r, struct tmpl_tok *k, const char *name)
{
	char q[64];
	int fresh;

	if (k->partial == NULL) {
		k->partial = tmpl_cache_get(&r->cache, name, r->o, r->d, &fresh);
		if (fresh && k->partial->t != NULL)
			r->errors += k->partial->t->errors;
	}
	if (k->partial->t == NULL) {
		if (r->o->strict_partials && !k->reported)
			tmpl_rerror(r, "unknown partial '%s'",
			    tmpl_clip(q, sizeof(q), name, strlen(name)));
		k->reported = 1;
		return NULL;
	}
	return k->partial->t->errors ? NULL : k->partial->t;
}

/* f is a copy: pushing a frame may move the frame array. */
static void
tmpl_open_partial(struct tmpl_render *r, const struct tmpl_frame *f,
    struct tmpl_tok *k)
{
	struct tmpl_frame *sub;
	struct tmpl *t;

	t = tmpl_resolve(r, k, f->t->names.data + k->name);
	if (t == NULL)
		return;
	if (r->partials >= TMPL_MAX_PARTIALS) {
		tmpl_rerror(r, "partials nested too deeply (recursion?)");
		r->stop = 1;
		return;
	}
	sub = tmpl_frame_push(r, TMPL_F_PARTIAL, f, 0, t->n);
	sub->t = t;
	/* Spec: a standalone tag's indentation goes before each line of the partial. */
	r->indent.len = f->ind + f->indlen;
	if (k->standalone) {
		buf_add(&r->indent, k->text, k->len);
		sub->indlen += k->len;
	} else {
		sub->ind += sub->indlen;
		sub->indlen = 0;
	}
	r->partials++;
}

/* Empty lines of an indented partial stay empty: no trailing blanks. */
static int
tmpl_wants_indent(const struct tmpl_frame *f, const struct tmpl_tok *k)
{
	if (f->indlen == 0 || !k->line_start || k->standalone)
		return 0;
	return !(k->kind == TMPL_TEXT && (k->text[0] == '\n' ||
	    (k->len > 1 && k->text[0] == '\r' && k->text[1] == '\n')));
}

static void
tmpl_render_tok(struct tmpl_render *r, const struct tmpl_frame *f,
    struct tmpl_tok *k, size_t at)
{
	if (tmpl_wants_indent(f, k))
		tmpl_emit(r, r->indent.data + f->ind, f->indlen);
	switch (k->kind) {
	case TMPL_TEXT:
		tmpl_emit(r, k->text, k->len);
		break;
	case TMPL_VAR:
	case TMPL_RAW:
		tmpl_render_var(r, f->t, k);
		break;
	case TMPL_SECTION:
	case TMPL_INVERTED:
		tmpl_open_section(r, f, k, at);
		break;
	case TMPL_PARTIAL:
		tmpl_open_partial(r, f, k);
		break;
	}
}

/* Renders the token list of the bottom frame and of every frame it opens. */
static void
tmpl_run(struct tmpl_render *r)
{
	struct tmpl_frame *f, cur;
	struct tmpl_tok *k;
	size_t at;

	while (r->nframes > 0 && !r->stop) {
		f = &r->frames[r->nframes - 1];
		if (f->i >= f->end) {
			tmpl_frame_done(r, f);
			continue;
		}
		at = f->i;
		k = &f->t->toks[at];
		f->i = k->kind == TMPL_SECTION || k->kind == TMPL_INVERTED ?
		    k->end : at + 1;
		cur = *f;
		r->at_t = cur.t;
		r->at = k;
		if (tmpl_step(r, 1) == -1)
			break;
		tmpl_render_tok(r, &cur, k, at);
	}
}

int
tmpl_render(const char *src, size_t len, const struct ynode *ctx,
    const struct tmpl_opts *o, struct buf *out, struct diag *d)
{
	struct tmpl_opts none;
	struct tmpl_render r;
	struct tmpl_frame f;
	struct tmpl *t;
	int rc = -1;

	memset(&none, 0, sizeof(none));
	memset(&r, 0, sizeof(r));
	r.o = o ? o : &none;
	r.d = d;
	r.out = out;
	r.start = out->len;
	t = tmpl_parse(src, len, &r.o->pos, d);
	if (t->errors)
		goto out;
	if (ctx != NULL)
		tmpl_push(&r, ctx);
	memset(&f, 0, sizeof(f));
	f.t = t;
	tmpl_frame_push(&r, TMPL_F_RUN, &f, 0, t->n);
	tmpl_run(&r);
	rc = r.errors ? -1 : 0;
out:
	if (rc == -1 && out->data != NULL) {
		out->len = r.start;
		out->data[out->len] = '\0';
	}
	buf_free(&r.indent);
	free(r.frames);
	free(r.stack);
	tmpl_cache_free(&r.cache);
	tmpl_free(t);
	return rc;
}

/* ---- checking ---- */

struct tmpl_check {
	const struct tmpl_opts *o;
	struct diag *d;
	struct tmpl_cache cache;
	struct tmpl **todo;		/* parsed texts whose partials to look at */
	size_t n, cap;
	unsigned errors;
};

static void
tmpl_check_partials(struct tmpl_check *c, const struct tmpl *t)
{
	const struct tmpl_tok *k;
	struct tmpl_partial *pt;
	const char *name;
	char q[64];
	size_t i;
	int fresh;

	for (i = 0; i < t->n; i++) {
		k = &t->toks[i];
		if (k->kind != TMPL_PARTIAL)
			continue;
		name = t->names.data + k->name;
		pt = tmpl_cache_get(&c->cache, name, c->o, c->d, &fresh);
		if (pt->t == NULL && c->o->strict_partials) {
			diag_error(c->d, t->file, k->line, k->col,
			    "unknown partial '%s'",
			    tmpl_clip(q, sizeof(q), name, strlen(name)));
			c->errors++;
		}
		if (!fresh || pt->t == NULL)
			continue;
		c->errors += pt->t->errors;
		c->todo = xgrow(c->todo, &c->cap, c->n + 1, sizeof(*c->todo));
		c->todo[c->n++] = pt->t;
	}
}

int
tmpl_check(const char *src, size_t len, const struct tmpl_opts *o,
    struct diag *d)
{
	struct tmpl_opts none;
	struct tmpl_check c;
	struct tmpl *t;
	size_t i;

	memset(&none, 0, sizeof(none));
	memset(&c, 0, sizeof(c));
	c.o = o ? o : &none;
	c.d = d;
	t = tmpl_parse(src, len, &c.o->pos, d);
	c.errors = t->errors;
	/* A worklist, not recursion: a chain of partials may be long. */
	tmpl_check_partials(&c, t);
	for (i = 0; i < c.n; i++)
		tmpl_check_partials(&c, c.todo[i]);
	free(c.todo);
	tmpl_cache_free(&c.cache);
	tmpl_free(t);
	return c.errors ? -1 : 0;
}
