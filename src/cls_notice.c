/*
 * cls_notice.c - the last resort: a failed address placed in the free
 * text of a notice that no recogniser knew.
 *
 * The rules are about where an address stands, written from the formats
 * of the MTAs that produce them: on a line of its own or after a bullet
 * (qmail, Yahoo, old Sendmail, IIS), before a colon (Postfix, qmail),
 * before "..." (Sendmail), before " on DATE" (Exchange), after RCPT TO in
 * a transcript, after "undeliverable to" (SMTP32), inside an SMTP reply,
 * or as the original of an expanded alias (Sendmail, Postfix, Exim).
 */
#include "cls_int.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Where the returned message starts inside a plain-text notice. */
size_t
cls_notice_end(const struct cls_text *t)
{
	static const char *const markers[] = {
		"original message follows", "below this line is a copy of the message",
		"this is a copy of the message", "copy of the original message",
		"original message headers", "--- original message", "----- original message",
		"unsent message below", "message headers follow", "returned message",
		"the headers of your message", "original message text", NULL
	};
	static const char *const returned[] = { "received: ", "return-path: ",
	    "content-type: message/rfc822", "content-type: text/rfc822-headers", NULL };
	const char *s = t->data, *end = t->data + t->len, *line = s, *m;
	size_t i, best = t->len;

	for (i = 0; markers[i]; i++)
		if ((m = cls_find_ci(s, t->len, markers[i])) != NULL && (size_t)(m - s) < best &&
		    (size_t)(m - s) > 0)
			best = (size_t)(m - s);
	/*
	 * Returned headers pasted in (a Received: or Return-Path: line), or the
	 * returned part's own MIME header when the MIME structure was not parsed.
	 */
	while (line < s + best) {
		const char *lf = memchr(line, '\n', (size_t)(end - line));
		if (line > s && cls_starts_any(line, (size_t)(end - line), returned))
			return (size_t)(line - s) < best ? (size_t)(line - s) : best;
		if (lf == NULL)
			break;
		line = lf + 1;
	}
	return best;
}


/* Past leading blanks and a list bullet: "* ", "- ", "o ", "1. ", "2) ", U+2022. */
static const char *
line_start(const char *line, const char *lend)
{
	const char *p = line, *d;

	while (p < lend && isspace((unsigned char)*p))
		p++;
	if (p < lend && *p != '\0' && strchr("*-+o", *p))
		d = p + 1;
	else if (lend - p >= 3 && memcmp(p, "\xe2\x80\xa2", 3) == 0)
		d = p + 3;
	else {
		for (d = p; d < lend && isdigit((unsigned char)*d); d++)
			;
		if (d == p || d - p > 3 || d >= lend || (*d != '.' && *d != ')'))
			return p;
		d++;
	}
	if (d >= lend || !isspace((unsigned char)*d))
		return p;
	while (d < lend && isspace((unsigned char)*d))
		d++;
	return d;
}

/* Does the text before p end with the word w, past blanks? "w:" makes a colon after it optional. */
static int
word_before(const char *line, const char *p, const char *w)
{
	size_t n = strlen(w);

	while (p > line && isspace((unsigned char)p[-1]))
		p--;
	if (n > 1 && w[n - 1] == ':') {
		n--;
		if (p > line && p[-1] == ':')
			p--;
		while (p > line && isspace((unsigned char)p[-1]))
			p--;
	}
	if ((size_t)(p - line) < n || strncasecmp(p - n, w, n) != 0)
		return 0;
	return p - n == line || !isalnum((unsigned char)p[-(ptrdiff_t)n - 1]);
}

static int
any_word_before(const char *line, const char *p, const char *const *words)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (word_before(line, p, words[i]))
			return 1;
	return 0;
}

/* After an SMTP reply code starting the line ("550 ", "550-5.1.1 "), or NULL. */
static const char *
reply_text(const char *line, const char *lend)
{
	const char *p = line;

	while (p < lend && isspace((unsigned char)*p))
		p++;
	if (lend - p < 4 || (*p != '4' && *p != '5') || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || (p[3] != ' ' && p[3] != '-'))
		return NULL;
	p += 4;
	if (lend - p >= 2 && (*p == '4' || *p == '5') && p[1] == '.') {
		while (p < lend && !isspace((unsigned char)*p))
			p++;
		while (p < lend && isspace((unsigned char)*p))
			p++;
	}
	return p;
}

/* Words after an address that say its delivery failed. */
static const char *const fail_after[] = {
	"undeliverable", "failed", "could not", "not delivered", "rejected", "bounced",
	"unavailable", "unknown", "not found", "does not exist", "doesn't exist", "invalid",
	"disabled", "no such", "is not", "over quota", "is full", NULL
};

/*
 * An address first on its line (or after a bullet), r just past it: alone,
 * before ':', ',', '...' (Sendmail), " - " (MDaemon); in a listing of failed
 * recipients also before " on DATE" (Exchange) or "(reason)" (GroupWise).
 */
static int
placed_first(const char *q, const char *lend, int listing)
{
	const char *r = q;

	while (r < lend && isspace((unsigned char)*r))
		r++;
	if (r == lend || *r == ':' || *r == ',' || *r == ';')
		return 1;
	if (lend - r >= 3 && strncmp(r, "...", 3) == 0)
		return 1;
	if (lend - r >= 2 && r[0] == '-' && isspace((unsigned char)r[1]) && r > q)
		return 1;
	if (lend - r >= 3 && strncmp(r, "on ", 3) == 0 && listing)
		return 1;
	return *r == '(' && listing;
}

/*
 * An address inside a sentence or a reply, p before it (past quotes and
 * brackets), q after it: "Failed recipient: addr", "undeliverable to addr",
 * "addressed to 'addr'", "(expanded from: addr)" (Sendmail, Postfix),
 * "(generated from addr)" (Exim), "Local mailbox addr is unavailable",
 * "550 <addr>: ...", "552 Quota violation for addr".
 */
static int
placed_in_text(const char *line, const char *lend, const char *p, const char *q)
{
	static const char *const colon_leads[] = { "fail", "recipient", "unknown", "undeliver",
	    "could not", "unable", "invalid", "address", "user", "mailbox", "error",
	    "rejected", "bounce", "not delivered", NULL };
	static const char *const to_leads[] = { "deliver", "addressed", "fail", "unable",
	    "reject", "could not", NULL };
	static const char *const nouns[] = { "mailbox", "recipient", "user", "address",
	    "addressee", NULL };
	static const char *const reply_leads[] = { "for", "to", "user", "recipient", "mailbox",
	    "address", "rcpt", NULL };
	size_t before = (size_t)(p - line), after = (size_t)(lend - q);
	const char *rt;

	if (p[-1] == ':' && cls_has_any(line, before, colon_leads))
		return 1;
	if (word_before(line, p, "to") && (cls_has_any(line, before, to_leads) ||
	    cls_has_any(q, after, fail_after)))
		return 1;
	if (word_before(line, p, "from:") && (cls_find_ci(line, before, "expanded from") ||
	    cls_find_ci(line, before, "generated from")))
		return 1;
	if (any_word_before(line, p, nouns) && cls_has_any(q, after, fail_after))
		return 1;
	return (rt = reply_text(line, lend)) != NULL && !cls_find_ci(line, before, "from") &&
	    (p <= rt || any_word_before(line, p, reply_leads));
}

/* Is the address at [b, e) on this line placed as a failed recipient? */
static int
placed_as_failed(const char *line, const char *lend, const char *b, const char *e, int listing)
{
	const char *p = b, *q = e;

	while (p > line && (p[-1] == '<' || p[-1] == '"' || p[-1] == '\'' ||
	    isspace((unsigned char)p[-1])))
		p--;
	while (q < lend && (*q == '>' || *q == '"' || *q == '\''))
		q++;
	/* A mailto: URI (a list's headers, a help text) names no recipient. */
	if (b - line >= 7 && strncasecmp(b - 7, "mailto:", 7) == 0)
		return 0;
	/* A transcript: ">>> RCPT TO:<addr>" */
	if (p > line && cls_find_ci(line, (size_t)(b - line), "rcpt to"))
		return 1;
	if (p <= line_start(line, lend))
		return placed_first(q, lend, listing);
	if (placed_in_text(line, lend, p, q))
		return 1;
	if (!listing)
		return 0;
	/* Exchange 5.5's X.400 form: "c=US;a= ;p=ORG;o=X;dda:SMTP=addr; on DATE" */
	if (b - line >= 5 && strncasecmp(b - 5, "smtp=", 5) == 0)
		return 1;
	/* A mailbox alone on its line: "Name" <addr> */
	return b[-1] == '<' && cls_line_blank(q, lend) && memchr(line, ':', (size_t)(b - line)) == NULL;
}

static int
header_like(const char *line, const char *lend)
{
	static const char *const names[] = { "to:", "cc:", "bcc:", "from:", "sender:",
	    "reply-to:", "return-path:", "x-original-to:", "delivered-to:", "envelope-to:",
	    "message-id:", "references:", "in-reply-to:", "received:", NULL };
	size_t i, n;

	/* Quoted too: "> To: ..." */
	while (line < lend && (*line == ' ' || *line == '\t' || *line == '>'))
		line++;
	for (i = 0; names[i]; i++) {
		n = strlen(names[i]);
		if ((size_t)(lend - line) >= n && strncasecmp(line, names[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * An address followed, on its line or the next, by the address it was
 * expanded from, or by PMDF's "Original address:": that one is reported.
 */
static int
has_original(const char *q, const char *lend, const char *end)
{
	static const char *const marks[] = { "expanded from", "generated from", NULL };
	const char *nx, *nend;

	if (cls_has_any(q, (size_t)(lend - q), marks))
		return 1;
	if (lend >= end)
		return 0;
	nx = lend + 1;
	nend = memchr(nx, '\n', (size_t)(end - nx));
	if (nend == NULL)
		nend = end;
	while (nx < nend && isspace((unsigned char)*nx))
		nx++;
	if (nx < nend && *nx == '(' && cls_has_any(nx, (size_t)(nend - nx), marks))
		return 1;
	return cls_find_ci(nx, (size_t)(nend - nx), "original address:") == nx ||
	    cls_find_ci(nx, (size_t)(nend - nx), "original recipient:") == nx;
}

/* The failure's reason: this line and what follows up to a blank line. */
static const char *
reason_end(const char *lend, const char *end)
{
	const char *ctx_end = lend, *nx;
	int lines = 0;

	while (ctx_end < end && lines < 6) {
		nx = memchr(ctx_end + 1, '\n', (size_t)(end - ctx_end - 1));
		if (nx == NULL)
			nx = end;
		if (cls_line_blank(ctx_end + 1, nx) && lines > 0)
			break;
		ctx_end = nx;
		lines++;
	}
	return ctx_end;
}

/*
 * The status and hard or soft for an address on [line, lend) of the
 * notice [s, s + n): the reason by the address (its line and what follows
 * up to a blank line), or else the notice's own words.
 */
static void
judge_near(const char *s, size_t n, const char *line, const char *lend, char *st, size_t size,
    int *hard)
{
	const char *ctx_end = reason_end(lend, s + n);
	size_t near = (size_t)(ctx_end - line);

	cls_find_status(line, near, st, size);
	if (!st[0])
		cls_find_failure_status(s, n, st, size);
	if (cls_reason_hard(line, near) >= 0)
		*hard = cls_judge_hard(st, line, near);
	else
		*hard = cls_judge_hard(st, s, n);
}

static void
notice_finding(const char *s, size_t n, const char *line, const char *lend, const char *addr,
    struct cls_result *r)
{
	char st[16];
	int h;

	judge_near(s, n, line, lend, st, sizeof(st), &h);
	if (st[0] != '2')	/* else delivered after all */
		cls_add_bounce(r, addr, st, h);
}

void
cls_scan_notice(const char *s, size_t n, const struct cls_headers *h, const struct cls_opts *o,
    struct cls_result *r)
{
	static const char *const listings[] = { "following recipient", "following address",
	    "did not reach", "could not be delivered to", "following destination",
	    "recipients failed", "to the following", "following user", NULL };
	const char *end = s + n, *line = s, *lend, *at, *b, *e, *q;
	char addr[256];
	int listing = 0, quoting = 0;

	for (; line < end; line = lend + 1) {
		lend = memchr(line, '\n', (size_t)(end - line));
		if (lend == NULL)
			lend = end;
		/*
		 * The original's To:, Cc: and From: quoted in the notice (Exchange
		 * does it), with their continuation lines, name no failed recipient.
		 */
		if (quoting && line < lend && (*line == ' ' || *line == '\t') &&
		    !cls_line_blank(line, lend))
			continue;
		if ((quoting = header_like(line, lend)) != 0)
			continue;
		if (cls_has_any(line, (size_t)(lend - line), listings))
			listing = 1;
		for (at = line; (at = memchr(at, '@', (size_t)(lend - at))) != NULL; at++) {
			if (!cls_addr_at(line, lend, at, &b, &e))
				continue;
			/* X.400 in Exchange 5.5: "...;dda:SMTP=addr;" */
			if (at - b > 5 && b > line && b[-1] == ':' && strncasecmp(b, "smtp=", 5) == 0)
				b += 5;
			cls_copy_lower(addr, sizeof(addr), b, (size_t)(e - b));
			for (q = e; q < lend && (*q == '>' || *q == '"' || *q == '\''); q++)
				;
			if (cls_ours_or_sender(addr, h, o) || cls_have_bounce(r, addr) ||
			    !placed_as_failed(line, lend, b, e, listing) || has_original(q, lend, end))
				continue;
			notice_finding(s, n, line, lend, addr, r);
			if (r->n >= CLS_FINDINGS_MAX)
				return;
			at = e - 1;
		}
		if (lend == end)
			break;
	}
}

void
cls_scan_failed_header(const struct cls_text *t, const char *s, size_t n, struct cls_result *r)
{
	const char *end = t->data + t->len, *at, *b, *e, *in, *line, *lend;
	char addr[256], st[16];
	int h;

	for (at = t->data; at && (at = memchr(at, '@', (size_t)(end - at))) != NULL; at++) {
		if (!cls_addr_at(t->data, end, at, &b, &e))
			continue;
		cls_copy_lower(addr, sizeof(addr), b, (size_t)(e - b));
		at = e - 1;
		/* Where the notice names it, its reason is there. */
		if (s && (in = cls_find_ci(s, n, addr)) != NULL) {
			for (line = in; line > s && line[-1] != '\n'; line--)
				;
			if ((lend = memchr(in, '\n', (size_t)(s + n - in))) == NULL)
				lend = s + n;
			judge_near(s, n, line, lend, st, sizeof(st), &h);
		} else {
			cls_find_failure_status(s ? s : "", s ? n : 0, st, sizeof(st));
			h = cls_judge_hard(st, s ? s : "", s ? n : 0);
		}
		cls_add_bounce(r, addr, st[0] == '2' ? "" : st, h);
	}
}
