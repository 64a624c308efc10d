/*
 * message.c - MIME building, RFC 2047, quoted-printable, headers. Pure.
 */
#include "message.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_SOFT 78		/* header lines stay within this when they can */
#define QP_LINE 76		/* RFC 2045 */
#define EW_MAX 75		/* RFC 2047: one encoded-word */
#define EW_OVERHEAD 12		/* "=?UTF-8?Q?" and "?=" */
#define EW_MIN_TEXT 12		/* room for the longest character, Q-encoded */
#define QUOTED_MAX 66		/* longer display names are not one quoted string */
#define ID_MAX 900		/* addresses, ids and URLs: keeps lines under 998 */

static const char hex[] = "0123456789ABCDEF";

/*
 * Decodes one UTF-8 sequence at s (n > 0 bytes left). Returns its length,
 * or 0 when it is invalid (overlong, surrogate, beyond U+10FFFF, cut).
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Anything a header reader could take as a line break or a control. */
static int
is_control(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029;
}

/*
 * A value for a header: valid UTF-8, each control a space, surrounding
 * spaces dropped. Appended to out.
 */
static void
header_clean(const char *value, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)(value ? value : "");
	size_t n = strlen((const char *)s), i = 0, len, start = out->len;
	unsigned long cp;

	while (i < n) {
		len = utf8_decode(s + i, n - i, &cp);
		if (len == 0) {
			buf_adds(out, "\xef\xbf\xbd");
			i++;
		} else if (is_control(cp)) {
			buf_addc(out, ' ');
			i += len;
		} else {
			buf_add(out, s + i, len);
			i += len;
		}
	}
	buf_grow(out, 0);
	while (out->len > start && out->data[out->len - 1] == ' ')
		out->len--;
	for (i = start; i < out->len && out->data[i] == ' '; i++)
		;
	memmove(out->data + start, out->data + i, out->len - i);
	out->len -= i - start;
	out->data[out->len] = '\0';
}

/* Folding: words separated by one space each, a line break before the space. */
struct fold {
	struct buf *out;
	size_t col;		/* columns on the current line */
	int empty;		/* nothing written after "Name:" yet */
	int lead_fold;		/* a structured field: may fold right after "Name:" */
};

/*
 * Python's reader keeps the white space of a fold right after the colon
 * in the value: harmless in a structured field, not in an unstructured one.
 */
static void
fold_begin(struct fold *f, struct buf *out, const char *name, int lead_fold)
{
	f->out = out;
	f->col = strlen(name) + 1;
	f->empty = 1;
	f->lead_fold = lead_fold;
	buf_adds(out, name);
	buf_addc(out, ':');
}

static void
fold_break(struct fold *f)
{
	buf_adds(f->out, "\r\n");
	f->col = 0;
}

/* Writes a space and an unbreakable word, folding first when it would not fit. */
static void
fold_word(struct fold *f, const char *w, size_t len)
{
	if (f->col + 1 + len > LINE_SOFT &&
	    (!f->empty || (f->lead_fold && 1 + len <= LINE_SOFT)))
		fold_break(f);
	buf_addc(f->out, ' ');
	buf_add(f->out, w, len);
	f->col += 1 + len;
	f->empty = 0;
}

static void
fold_end(struct fold *f)
{
	if (f->empty)
		buf_addc(f->out, ' ');
	buf_adds(f->out, "\r\n");
}

/* The characters RFC 2047 lets a Q encoded-word carry as themselves, even in a phrase. */
static int
q_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

static size_t
q_cost(unsigned char c)
{
	return q_literal(c) || c == ' ' ? 1 : 3;
}

static size_t
b_cost(size_t bytes)
{
	return (bytes + 2) / 3 * 4;
}

static size_t
utf8_seqlen(unsigned char c)
{
	if (c < 0xc0)
		return 1;
	if (c < 0xe0)
		return 2;
	return c < 0xf0 ? 3 : 4;
}

/* How many bytes of s, whole characters only, fit in `room` characters of encoded text. */
static size_t
ew_take(const char *s, size_t len, int b64, size_t room)
{
	size_t n = 0, cost = 0, k, c, i;

	while (n < len) {
		k = utf8_seqlen((unsigned char)s[n]);
		if (k > len - n)
			k = len - n;
		if (b64) {
			c = b_cost(n + k);
		} else {
			for (c = cost, i = n; i < n + k; i++)
				c += q_cost((unsigned char)s[i]);
		}
		if (c > room && n > 0)
			break;
		cost = c;
		n += k;
	}
	return n;
}

static void
ew_write(struct buf *w, const char *s, size_t len, int b64)
{
	static const char b64chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)s;
	unsigned long v;
	size_t i;

	buf_adds(w, b64 ? "=?UTF-8?B?" : "=?UTF-8?Q?");
	for (i = 0; b64 && i < len; i += 3) {
		v = (unsigned long)u[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		buf_addc(w, b64chars[(v >> 18) & 63]);
		buf_addc(w, b64chars[(v >> 12) & 63]);
		buf_addc(w, i + 1 < len ? b64chars[(v >> 6) & 63] : '=');
		buf_addc(w, i + 2 < len ? b64chars[v & 63] : '=');
	}
	for (i = 0; !b64 && i < len; i++) {
		if (u[i] == ' ')
			buf_addc(w, '_');
		else if (q_literal(u[i]))
			buf_addc(w, (char)u[i]);
		else
			buf_addf(w, "=%c%c", hex[u[i] >> 4], hex[u[i] & 15]);
	}
	buf_adds(w, "?=");
}

/* Room for the next encoded-word, folding first when too little is left on this line. */
static size_t
ew_room(struct fold *f)
{
	size_t room = f->col + 1 < LINE_SOFT ? LINE_SOFT - f->col - 1 : 0;

	if (room < EW_OVERHEAD + EW_MIN_TEXT && !f->empty) {
		fold_break(f);
		room = LINE_SOFT - 1;
	}
	if (room > EW_MAX)
		room = EW_MAX;
	if (room < EW_OVERHEAD + EW_MIN_TEXT)	/* a very long header name */
		room = EW_OVERHEAD + EW_MIN_TEXT;
	return room - EW_OVERHEAD;
}

/* Where to end a word cut from n bytes of s: after its last inner space, or 0. */
static size_t
ew_cut(const char *s, size_t n)
{
	while (n > 1 && s[n - 1] != ' ')
		n--;
	return n > 1 ? n : 0;
}

/*
 * Writes s as a run of encoded-words. Decoders drop the white space between
 * adjacent encoded-words, so the run may be cut at any character; it is
 * cut after a space where it can, so that words stay whole for the eye.
 */
static void
fold_encoded(struct fold *f, const char *s, size_t len)
{
	struct buf w = BUF_INIT;
	size_t i, qc = 0, n, cut;
	int b64;

	for (i = 0; i < len; i++)
		qc += q_cost((unsigned char)s[i]);
	/* Q reads better; B only where it is much shorter (non-Latin text). */
	b64 = b_cost(len) * 3 < qc * 2;
	for (i = 0; i < len; i += n) {
		n = ew_take(s + i, len - i, b64, ew_room(f));
		cut = n < len - i ? ew_cut(s + i, n) : n;
		if (cut == 0 && !f->empty && f->col > 1 &&
		    ew_take(s + i, len - i, b64, EW_MAX - EW_OVERHEAD) > n) {
			fold_break(f);	/* the first word fits better on a line of its own */
			n = 0;
			continue;
		}
		n = cut ? cut : n;
		buf_reset(&w);
		ew_write(&w, s + i, n, b64);
		fold_word(f, w.data, w.len);
	}
	buf_free(&w);
}

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * A word that can be written as itself: printable ASCII (atext in a
 * phrase), not mistakable for an encoded-word, short enough for one line.
 * text is the word with any extra spaces before it; col is where the line
 * stands when the word starts it (0: a continuation line).
 */
static int
plain_word(const char *text, size_t len, size_t col, int phrase)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c > 0x7e || (phrase && c != ' ' && !is_atext(c)))
			return 0;
		if (c == '=' && i + 1 < len && text[i + 1] == '?')
			return 0;
	}
	return col + 1 + len <= LINE_SOFT;
}

/*
 * Writes a cleaned value: plain words as themselves, each run of other
 * words as encoded-words. The one space before a word is where a line may
 * fold; further spaces belong to the word. In a phrase, Python's reader
 * keeps the space between two encoded-words that RFC 2047 drops, so plain
 * words stay atoms there and runs are cut after a space (fold_encoded):
 * both readers then see the same words. Only a single word too long for
 * one encoded-word (some 20 CJK characters) must be cut inside; Python
 * then shows a space there.
 */
static void
fold_text(struct fold *f, const char *s, size_t len, int phrase)
{
	const char *end = s + len, *p, *tok, *run = NULL, *run_end = NULL;

	for (p = s; p < end; p++) {
		tok = p;
		while (p < end && *p == ' ')
			p++;
		while (p < end && *p != ' ')
			p++;
		if (plain_word(tok, (size_t)(p - tok), f->empty && !run ? f->col : 0, phrase)) {
			if (run)
				fold_encoded(f, run, (size_t)(run_end - run));
			run = NULL;
			fold_word(f, tok, (size_t)(p - tok));
		} else {
			if (run == NULL)
				run = tok;
			run_end = p;
		}
	}
	if (run)
		fold_encoded(f, run, (size_t)(run_end - run));
}

void
message_header(struct buf *out, const char *name, const char *value)
{
	struct buf clean = BUF_INIT;
	struct fold f;

	header_clean(value, &clean);
	fold_begin(&f, out, name, 0);
	fold_text(&f, buf_str(&clean), clean.len, 0);
	fold_end(&f);
	buf_free(&clean);
}

/* RFC 5322 dot-atom-text of exactly len bytes. */
static int
dot_atom_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Hostname labels: letters, digits, inner hyphens, separated by single dots. */
static int
domain_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0 && s[len - 1] != '-';
}

/* local@domain, the local part a dot-atom, the domain hostname labels. */
static int
addr_usable(const char *a)
{
	const char *at;

	if (a == NULL || strlen(a) > 254 || (at = strrchr(a, '@')) == NULL)
		return 0;
	return dot_atom_ok(a, (size_t)(at - a)) &&
	    domain_ok(at + 1, strlen(at + 1));
}

/*
 * A msg-id without its angle brackets: dot-atom "@" (dot-atom or
 * [literal]). A surrounding <> in id is tolerated; *len gets the inner length.
 */
static const char *
msgid_inner(const char *id, size_t *len)
{
	const char *at, *right;
	size_t n, i;

	if (id == NULL)
		return NULL;
	n = strlen(id);
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		id++, n -= 2;
	if (n > ID_MAX || (at = memchr(id, '@', n)) == NULL)
		return NULL;
	right = at + 1;
	*len = n;
	n -= (size_t)(right - id);
	if (!dot_atom_ok(id, (size_t)(at - id)))
		return NULL;
	if (n >= 2 && right[0] == '[' && right[n - 1] == ']') {
		for (i = 1; i + 1 < n; i++)
			if (right[i] < 33 || right[i] > 126 || strchr("[]\\", right[i]))
				return NULL;
		return id;
	}
	return dot_atom_ok(right, n) ? id : NULL;
}

/* RFC 3986 characters only: no space, quote, angle bracket or control. */
static int
url_usable(const char *u)
{
	static const char extra[] = "-._~:/?#[]@!$&'()*+,;=%";
	size_t i, n = u ? strlen(u) : 0;

	if (n == 0 || n > ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(extra, c)))
			return 0;
	}
	return 1;
}

/*
 * An ASCII display name with specials (a comma, a period, quotes) reads
 * best as one quoted string. Not when it holds "=?": Python's reader
 * decodes encoded-words even inside quotes.
 */
static int
phrase_quoted(const char *s, size_t len)
{
	size_t i, quoted = 2;
	int specials = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80 || (c == '=' && i + 1 < len && s[i + 1] == '?'))
			return 0;
		specials |= c != ' ' && !is_atext(c);
		quoted += (c == '"' || c == '\\') ? 2 : 1;
	}
	return specials && quoted <= QUOTED_MAX;
}

/* "Name: phrase <spec>"; without a phrase "Name: spec", or "<spec>" when angle. */
static void
phrase_header(struct buf *out, const char *name, const char *display,
    const char *spec, int angle)
{
	struct buf clean = BUF_INIT, w = BUF_INIT;
	struct fold f;
	const char *s;
	size_t i;

	header_clean(display, &clean);
	s = buf_str(&clean);
	fold_begin(&f, out, name, 1);
	if (phrase_quoted(s, clean.len)) {
		buf_addc(&w, '"');
		for (i = 0; i < clean.len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_addc(&w, '\\');
			buf_addc(&w, s[i]);
		}
		buf_addc(&w, '"');
		fold_word(&f, w.data, w.len);
	} else {
		fold_text(&f, s, clean.len, 1);
	}
	buf_reset(&w);
	if (clean.len || angle)
		buf_addf(&w, "<%s>", spec);
	else
		buf_adds(&w, spec);
	fold_word(&f, w.data, w.len);
	fold_end(&f);
	buf_free(&w);
	buf_free(&clean);
}

int
message_mailbox_header(struct buf *out, const char *name, const char *display,
    const char *addr)
{
	if (!addr_usable(addr))
		return -1;
	phrase_header(out, name, display, addr, 0);
	return 0;
}

/* 1 when position i of s is the end of a line (or of the text). */
static int
qp_line_end(const char *s, size_t len, size_t i)
{
	return i == len || s[i] == '\n' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n');
}

/*
 * The fast path of message_qp_encode: copies the run of bytes from *i that
 * need no encoding and fit on the current line, exactly as the byte-wise
 * path would write them. Leaves *i on the run's last byte and returns 1,
 * or returns 0 when the byte at *i needs the byte-wise path.
 */
static int
qp_run(const char *s, size_t len, size_t *i, size_t col, char **p, size_t *colp)
{
	size_t j = *i, room = QP_LINE - 1 - col;
	unsigned char c = (unsigned char)s[j];

	if (col == 0 && (c == '.' || c == 'F'))
		return 0;
	while (j < len && j - *i < room) {
		c = (unsigned char)s[j];
		if (!((c > ' ' && c < 0x7f && c != '=') || c == ' ' || c == '\t'))
			break;
		j++;
	}
	/* A space or tab that ends a line is encoded: the byte-wise path does it. */
	if (j > *i && (s[j - 1] == ' ' || s[j - 1] == '\t') && qp_line_end(s, len, j))
		j--;
	if (j == *i)
		return 0;
	memcpy(*p, s + *i, j - *i);
	*p += j - *i;
	*colp = col + (j - *i);
	*i = j - 1;
	return 1;
}

void
message_qp_encode(const char *s, size_t len, struct buf *out)
{
	size_t i, col = 0, w, eol;
	unsigned char c;
	int last, enc;
	char *p;

	/*
	 * Written straight into the buffer: this runs for every byte of every
	 * message. At most 3 bytes out per byte in, plus a soft break for
	 * every 73 columns of output.
	 */
	buf_grow(out, 3 * len + (len / 20 + 2) * 3);
	p = out->data + out->len;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (qp_run(s, len, &i, col, &p, &col))
			continue;
		eol = c == '\n' ? 1 : (c == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 0;
		if (eol) {
			*p++ = '\r';
			*p++ = '\n';
			col = 0;
			i += eol - 1;
			continue;
		}
		last = qp_line_end(s, len, i + 1);
		for (;;) {
			enc = c == '=' || c < 0x20 || c >= 0x7f;
			if (c == ' ' || c == '\t')
				enc = last;
			else if (col == 0 && (c == '.' || (c == 'F' &&
			    len - i >= 5 && memcmp(s + i, "From ", 5) == 0)))
				enc = 1;
			w = enc ? 3 : 1;
			if (col + w <= (size_t)(last ? QP_LINE : QP_LINE - 1))
				break;
			*p++ = '=';
			*p++ = '\r';
			*p++ = '\n';
			col = 0;
		}
		if (enc) {
			*p++ = '=';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
		col += w;
	}
	out->len = (size_t)(p - out->data);
	*p = '\0';
}

/* RFC 5322 date-time in UTC; -1 outside years 1970..9999. */
static int
date_format(long long t, char *out, size_t size)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || t > 253402300799LL || gmtime_r(&tt, &tm) == NULL)
		return -1;
	snprintf(out, size, "%.3s, %02d %.3s %04d %02d:%02d:%02d +0000",
	    days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

/* A mailto: URI may carry an address's atext only where RFC 6068 allows it. */
static void
mailto_add(struct buf *b, const char *addr)
{
	const unsigned char *p;

	buf_adds(b, "<mailto:");
	for (p = (const unsigned char *)addr; *p; p++) {
		if (strchr("#%/?^`{|}", *p))
			buf_addf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		else
			buf_addc(b, (char)*p);
	}
	buf_adds(b, "?subject=unsubscribe>");
}

static void
unsubscribe_headers(struct buf *b, const struct message *m)
{
	struct buf w = BUF_INIT;
	struct fold f;

	fold_begin(&f, b, "List-Unsubscribe", 1);
	if (m->unsub_mailto) {
		mailto_add(&w, m->unsub_mailto);
		if (m->unsub_url)
			buf_addc(&w, ',');
		fold_word(&f, w.data, w.len);
	}
	if (m->unsub_url) {
		buf_reset(&w);
		buf_addf(&w, "<%s>", m->unsub_url);
		fold_word(&f, w.data, w.len);
	}
	fold_end(&f);
	if (m->unsub_url)
		buf_adds(b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
	buf_free(&w);
}

/* Content-Language's value: tags (letters, digits, '-') separated by ", ", at most a line. */
static int
language_list_ok(const char *s)
{
	size_t n = strlen(s), i;
	int tag = 0;

	if (n == 0 || n > 900)
		return 0;
	for (i = 0; i < n; i++) {
		if (isalnum((unsigned char)s[i]) || (s[i] == '-' && tag)) {
			tag = 1;
			continue;
		}
		if (s[i] != ',' || !tag || s[i + 1] != ' ')
			return 0;
		tag = 0;
		i++;
	}
	return tag;
}

/* RFC 2045 token characters: printable ASCII but space and tspecials. */
static size_t
token_span(const char *s)
{
	size_t i;

	for (i = 0; s[i] > ' ' && s[i] < 0x7f && strchr("()<>@,;:\\\"/[]?=", s[i]) == NULL; i++)
		;
	return i;
}

/* "type/subtype", or that and "; charset=token". */
static int
type_usable(const char *t)
{
	size_t n;

	if (t == NULL || strlen(t) > 200 || (n = token_span(t)) == 0 || t[n] != '/')
		return 0;
	t += n + 1;
	if ((n = token_span(t)) == 0)
		return 0;
	t += n;
	if (*t == '\0')
		return 1;
	if (strncmp(t, "; charset=", 10) != 0 || (n = token_span(t + 10)) == 0)
		return 0;
	return t[10 + n] == '\0';
}

static int
files_usable(const struct message *m)
{
	size_t i, n;

	for (i = 0; i < m->nfiles; i++) {
		const struct message_file *f = &m->files[i];
		if (f->name == NULL || !type_usable(f->type) ||
		    (f->b64 == NULL && f->b64_len > 0) ||
		    (f->content_id && (m->html == NULL || !msgid_inner(f->content_id, &n))))
			return 0;
	}
	return 1;
}

static int
message_usable(const struct message *m)
{
	size_t n;

	return addr_usable(m->from_addr) && addr_usable(m->to_addr) &&
	    m->subject && m->text && msgid_inner(m->message_id, &n) &&
	    (m->list_id == NULL || (strlen(m->list_id) <= ID_MAX &&
	    dot_atom_ok(m->list_id, strlen(m->list_id)))) &&
	    (m->unsub_mailto == NULL || addr_usable(m->unsub_mailto)) &&
	    (m->unsub_url == NULL || url_usable(m->unsub_url)) &&
	    (m->in_reply_to == NULL || msgid_inner(m->in_reply_to, &n)) &&
	    (m->reply_to == NULL || addr_usable(m->reply_to)) &&
	    (m->content_language == NULL || language_list_ok(m->content_language)) &&
	    files_usable(m);
}

static void
msgid_header(struct buf *b, const char *name, const char *id)
{
	struct buf w = BUF_INIT;
	struct fold f;
	size_t n;

	id = msgid_inner(id, &n);
	buf_addf(&w, "<%.*s>", (int)n, id);
	fold_begin(&f, b, name, 1);
	fold_word(&f, w.data, w.len);
	fold_end(&f);
	buf_free(&w);
}

static void
message_headers(struct buf *b, const struct message *m, const char *date)
{
	phrase_header(b, "From", m->from_name, m->from_addr, 0);
	phrase_header(b, "To", m->to_name, m->to_addr, 0);
	if (m->reply_to)
		phrase_header(b, "Reply-To", NULL, m->reply_to, 0);
	message_header(b, "Subject", m->subject);
	buf_addf(b, "Date: %s\r\n", date);
	msgid_header(b, "Message-ID", m->message_id);
	buf_adds(b, "MIME-Version: 1.0\r\n");
	if (m->content_language)
		buf_addf(b, "Content-Language: %s\r\n", m->content_language);
	if (m->list_id)
		phrase_header(b, "List-Id", m->list_name, m->list_id, 1);
	if (m->unsub_mailto || m->unsub_url)
		unsubscribe_headers(b, m);
	if (m->bulk)
		buf_adds(b, "Precedence: bulk\r\n");
	if (m->robot)
		buf_adds(b, m->robot == MESSAGE_AUTO_REPLIED ? "Auto-Submitted: auto-replied\r\n" :
		    "Auto-Submitted: auto-generated\r\n");
	if (m->in_reply_to)
		msgid_header(b, "In-Reply-To", m->in_reply_to);
}

/*
 * A stable boundary from the bodies. Any value would do ("=_" alone keeps
 * it out of quoted-printable text); eight bytes a step, because this runs
 * over every byte of every message.
 */
static unsigned long long
body_hash(unsigned long long h, const char *s)
{
	size_t len = s ? strlen(s) : 0, i;
	unsigned long long w;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	w = 0;
	if (len > i)
		memcpy(&w, s + i, len - i);
	h = (h ^ w ^ len) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

static void
body_part(struct buf *b, const char *type, const char *body)
{
	buf_addf(b, "Content-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
	message_qp_encode(body, strlen(body), b);
}

void
message_base64(const void *data, size_t len, struct buf *out)
{
	static const char b64chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = data;
	size_t i, col = 0;
	unsigned long v;
	char *p;

	/* 4 characters for every 3 bytes, and a CRLF for every 57. */
	buf_grow(out, (len + 2) / 3 * 4 + (len / 57 + 1) * 2);
	p = out->data + out->len;
	for (i = 0; i < len; i += 3) {
		v = (unsigned long)u[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		*p++ = b64chars[(v >> 18) & 63];
		*p++ = b64chars[(v >> 12) & 63];
		*p++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		*p++ = i + 2 < len ? b64chars[v & 63] : '=';
		if ((col += 4) == 76 || i + 3 >= len) {
			*p++ = '\r';
			*p++ = '\n';
			col = 0;
		}
	}
	out->len = (size_t)(p - out->data);
	*p = '\0';
}

/* RFC 5987's attr-char: what an RFC 2231 value carries as itself. */
static int
attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c && strchr("!#$&+-.^_`|~", c));
}

/* A name short enough and plain enough for filename="...". */
#define FILENAME_QUOTED_MAX 60
#define FILENAME_SECTION 56

static int
filename_plain(const char *s, size_t len)
{
	size_t i;

	if (len > FILENAME_QUOTED_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
		/* Python decodes encoded-words even inside quotes. */
		if (s[i] == '=' && i + 1 < len && s[i + 1] == '?')
			return 0;
	}
	return 1;
}

/*
 * Content-Disposition with the file's name: a quoted string when it is
 * short printable ASCII; else RFC 2231's UTF-8, percent-encoded, cut into
 * numbered sections so that no line grows past 78 columns (never inside
 * a %XX).
 */
static void
disposition_header(struct buf *b, const char *disp, const char *name)
{
	struct buf clean = BUF_INIT, enc = BUF_INIT;
	const unsigned char *s;
	size_t i, start, sec, cut;

	header_clean(name, &clean);
	buf_addf(b, "Content-Disposition: %s", disp);
	s = (const unsigned char *)buf_str(&clean);
	if (clean.len == 0) {
		buf_adds(b, "\r\n");
	} else if (filename_plain((const char *)s, clean.len)) {
		buf_adds(b, ";\r\n filename=\"");
		for (i = 0; i < clean.len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_addc(b, '\\');
			buf_addc(b, (char)s[i]);
		}
		buf_adds(b, "\"\r\n");
	} else {
		for (i = 0; i < clean.len; i++) {
			if (attr_char(s[i]))
				buf_addc(&enc, (char)s[i]);
			else
				buf_addf(&enc, "%%%c%c", hex[s[i] >> 4], hex[s[i] & 15]);
		}
		if (enc.len <= FILENAME_SECTION) {
			buf_addf(b, ";\r\n filename*=utf-8''%s\r\n", enc.data);
		} else {
			for (start = 0, sec = 0; start < enc.len; start = cut, sec++) {
				cut = start + FILENAME_SECTION < enc.len ? start + FILENAME_SECTION :
				    enc.len;
				/* Back off a cut that would split %XX. */
				if (cut < enc.len && enc.data[cut - 1] == '%')
					cut -= 1;
				else if (cut < enc.len && enc.data[cut - 2] == '%')
					cut -= 2;
				buf_addf(b, ";\r\n filename*%zu*=%s%.*s", sec, sec ? "" : "utf-8''",
				    (int)(cut - start), enc.data + start);
			}
			buf_adds(b, "\r\n");
		}
	}
	buf_free(&enc);
	buf_free(&clean);
}

/* One file's part: its headers, then its base64, referred to. */
static void
file_part(struct mbuf *mb, const struct message_file *f)
{
	struct buf *b = &mb->own;

	buf_addf(b, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n", f->type);
	if (f->content_id) {
		msgid_header(b, "Content-ID", f->content_id);
		disposition_header(b, "inline", f->name);
	} else {
		disposition_header(b, "attachment", f->name);
	}
	buf_adds(b, "\r\n");
	/* Its last CRLF is the next boundary's; an empty file has none of its own. */
	if (f->b64_len > 0)
		mbuf_ref(mb, f->b64, f->b64_len);
	else
		buf_adds(b, "\r\n");
}

static size_t
files_count(const struct message *m, int inline_images)
{
	size_t i, n = 0;

	for (i = 0; i < m->nfiles; i++)
		n += (m->files[i].content_id != NULL) == inline_images;
	return n;
}

/*
 * The HTML part, in a multipart/related with the images it shows when it
 * has any. A file part ends in CRLF, the next delimiter's.
 */
static void
html_part(struct mbuf *mb, const struct message *m, unsigned long long h)
{
	struct buf *b = &mb->own;
	size_t i;

	if (files_count(m, 1) == 0) {
		body_part(b, "text/html", m->html);
		return;
	}
	buf_addf(b, "Content-Type: multipart/related; type=\"text/html\";\r\n"
	    " boundary=\"=_r%016llx\"\r\n\r\n--=_r%016llx\r\n", h, h);
	body_part(b, "text/html", m->html);
	buf_adds(b, "\r\n");
	for (i = 0; i < m->nfiles; i++) {
		if (m->files[i].content_id == NULL)
			continue;
		buf_addf(b, "--=_r%016llx\r\n", h);
		file_part(mb, &m->files[i]);
	}
	buf_addf(b, "--=_r%016llx--\r\n", h);
}

static void
message_text(struct mbuf *mb, const struct message *m, unsigned long long h)
{
	struct buf *b = &mb->own;

	if (m->html == NULL) {
		body_part(b, "text/plain", m->text);
		return;
	}
	buf_addf(b, "Content-Type: multipart/alternative;"
	    " boundary=\"=_%016llx\"\r\n\r\n", h);
	buf_addf(b, "--=_%016llx\r\n", h);
	body_part(b, "text/plain", m->text);
	buf_addf(b, "\r\n--=_%016llx\r\n", h);
	html_part(mb, m, h);
	buf_addf(b, "\r\n--=_%016llx--\r\n", h);
}

/*
 * The body. The boundaries come from one hash of the bodies: "=_" never
 * occurs in quoted-printable or base64, and the letter after it keeps the
 * nested ones apart.
 */
static void
message_body(struct mbuf *mb, const struct message *m)
{
	struct buf *b = &mb->own;
	unsigned long long h;
	size_t i;

	h = body_hash(body_hash(14695981039346656037ULL, m->text), m->html);
	if (files_count(m, 0) == 0) {
		message_text(mb, m, h);
		return;
	}
	buf_addf(b, "Content-Type: multipart/mixed; boundary=\"=_m%016llx\"\r\n\r\n"
	    "--=_m%016llx\r\n", h, h);
	message_text(mb, m, h);
	buf_adds(b, "\r\n");
	for (i = 0; i < m->nfiles; i++) {
		if (m->files[i].content_id != NULL)
			continue;
		buf_addf(b, "--=_m%016llx\r\n", h);
		file_part(mb, &m->files[i]);
	}
	buf_addf(b, "--=_m%016llx--\r\n", h);
}

int
message_build_parts(const struct message *m, struct mbuf *out)
{
	char date[64];

	if (!message_usable(m) || date_format(m->date, date, sizeof(date)) == -1)
		return -1;
	message_headers(&out->own, m, date);
	message_body(out, m);
	return 0;
}

int
message_build(const struct message *m, struct buf *out)
{
	struct mbuf mb = MBUF_INIT;
	struct buf flat = BUF_INIT;
	int rc;

	/* Built on out's own bytes: without files, nothing is copied. */
	mb.own = *out;
	rc = message_build_parts(m, &mb);
	if (mb.nrefs == 0) {
		*out = mb.own;
	} else {
		mbuf_flatten(&mb, &flat);
		buf_free(&mb.own);
		*out = flat;
	}
	free(mb.refs);
	return rc;
}
