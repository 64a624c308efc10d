/*
 * cls_mta.c - one small recogniser per MTA or provider whose notice is
 * not an RFC 3464 report, or names its failure better than its report.
 *
 * Each is written from its format as documented or widely published, keys
 * on what only that format has, and names the failed recipients with
 * their status; it adds nothing to a notice that is not its own, and the
 * next one is tried. Each has its own cases in tests/unit/t_classify.c.
 * What none of them knows falls to the free-text rules of cls_notice.c.
 */
#include "cls_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ---- shared by the recognisers ---- */

/* The next line of [*p, end) into [*line, *lend); 0 at the end. */
static int
next_line(const char **p, const char *end, const char **line, const char **lend)
{
	if (*p >= end)
		return 0;
	*line = *p;
	*lend = memchr(*p, '\n', (size_t)(end - *p));
	if (*lend == NULL)
		*lend = end;
	*p = *lend + 1;
	return 1;
}

/* Adds the first usable address on [b, e) with its reason [b, rend). */
static int
add_from_line(const struct cls_msg *m, struct cls_result *r, const char *b, const char *e,
    const char *rend)
{
	char addr[256], st[16];

	if (!cls_first_addr(b, (size_t)(e - b), addr, sizeof(addr)) ||
	    cls_ours_or_sender(addr, &m->h, m->o))
		return 0;
	cls_find_status(b, (size_t)(rend - b), st, sizeof(st));
	if (st[0] == '2')
		return 0;
	return cls_add_bounce(r, addr, st, cls_judge_hard(st, b, (size_t)(rend - b))) != NULL;
}

/*
 * The listing most MTAs write: a heading line, then each failed address
 * first on its line (or after a bullet, or in <>), its reason on the lines
 * below it up to the next address or a blank line after some reason.
 */
struct listing {
	const char *heading;	/* lowercase, found anywhere in a line */
	const char *reason;	/* a later heading whose section is every address's reason, or NULL */
	int soft;		/* a heading of delays: every address soft */
};

/* Is the line's first word an address (past blanks, a bullet, '<' or quotes)? */
static int
address_first(const char *line, const char *lend, char *addr, size_t size)
{
	const char *p = line, *b, *e, *at;

	while (p < lend && (isspace((unsigned char)*p) || strchr("*-<\"'", *p)))
		p++;
	for (at = p; at < lend && !isspace((unsigned char)*at) && *at != '@'; at++)
		;
	if (at >= lend || *at != '@' || !cls_addr_at(p, lend, at, &b, &e) || b != p)
		return 0;
	cls_copy_lower(addr, size, b, (size_t)(e - b));
	return 1;
}

static int
read_listing(const struct cls_msg *m, struct cls_result *r, const struct listing *l)
{
	const char *s = m->notice.data ? m->notice.data : "", *end = s + m->notice_len, *p, *line, *lend, *h, *why;
	const char *rb = NULL, *re = NULL;
	char addr[256], st[16];
	size_t before = r->n;

	if (s == NULL || (h = cls_find_ci(s, m->notice_len, l->heading)) == NULL)
		return 0;
	if (l->reason && (why = cls_find_ci(h, (size_t)(end - h), l->reason)) != NULL) {
		/* The heading's line, blank lines, then its paragraph. */
		int text = 0;

		rb = re = why;
		for (p = rb; next_line(&p, end, &line, &lend); re = lend) {
			if (line != rb && cls_line_blank(line, lend) && text)
				break;
			text |= line != rb && !cls_line_blank(line, lend);
		}
	}
	p = memchr(h, '\n', (size_t)(end - h));
	p = p ? p + 1 : end;
	while (next_line(&p, end, &line, &lend)) {
		const char *rs = line, *q = p, *l2, *le2;
		int seen = 0;

		if (rb && line >= rb)
			break;
		if (!address_first(line, lend, addr, sizeof(addr))) {
			if (!cls_line_blank(line, lend) && r->n > before && !rb)
				break;	/* the listing is over */
			continue;
		}
		/* Its reason: the lines below up to the next address or a blank after text. */
		while (next_line(&q, end, &l2, &le2) && !address_first(l2, le2, st, sizeof(st))) {
			if (cls_line_blank(l2, le2) && seen)
				break;
			seen |= !cls_line_blank(l2, le2);
			lend = le2;
			p = q;
		}
		/* An alias expanded (Sendmail, Postfix, Exim): the address we sent to. */
		if ((why = cls_find_ci(rs, (size_t)(lend - rs), "expanded from")) != NULL ||
		    (why = cls_find_ci(rs, (size_t)(lend - rs), "generated from")) != NULL)
			cls_first_addr(why, (size_t)(lend - why), addr, sizeof(addr));
		if (rb) {
			cls_find_status(rb, (size_t)(re - rb), st, sizeof(st));
			rs = rb;
			lend = re;
		} else {
			cls_find_status(rs, (size_t)(lend - rs), st, sizeof(st));
		}
		if (st[0] == '2' || cls_ours_or_sender(addr, &m->h, m->o))
			continue;
		cls_add_bounce(r, addr, st, !l->soft && cls_judge_hard(st, rs, (size_t)(lend - rs)));
	}
	return (int)(r->n - before);
}

/* The listings, one per format, as each MTA words its heading. */
static const struct listing listings[] = {
	/* Exim, and those built on it (mail.ru, GMX, 1&1, SoftBank) */
	{ "following address(es) failed", NULL, 0 },
	{ "address(es) failed:", NULL, 0 },
	{ "has not yet been delivered to one or more", NULL, 1 },
	{ "address to which the message has not yet been delivered", NULL, 1 },
	/* Sendmail, old and new */
	{ "following addresses had permanent fatal errors", NULL, 0 },
	{ "following addresses had transient non-fatal errors", NULL, 1 },
	/* qmail, vpopmail, Yahoo (qmail-derived) */
	{ "wasn't able to deliver your message to the following addresses", NULL, 0 },
	{ "unable to deliver your message to the following address", NULL, 0 },
	{ "unable to deliver message to the following address", NULL, 0 },
	/* Apache James */
	{ "failed recipient(s):", "error message:", 0 },
	/* Lotus Domino */
	{ "was not delivered to:", "because:", 0 },
	/* Gmail */
	{ "delivery to the following recipient failed permanently", "technical details", 0 },
	{ "delivery to the following recipients failed permanently", "technical details", 0 },
	{ "delivery to the following recipient has been delayed", NULL, 1 },
	/* Exchange 2007 and later, Office 365 */
	{ "delivery has failed to these recipients or groups", NULL, 0 },
	/* Exchange Online's long-delay notice, Mirapoint */
	{ "addressed to email address", NULL, 0 },
	/* Amazon SES, AOL, McAfee, Biglobe, Courier */
	{ "error occurred while trying to deliver the mail to the following recipients", NULL, 0 },
	{ "following addresses had delivery problems", NULL, 0 },
	{ "following recipients cannot be delivered", NULL, 0 },
	/* NTT docomo, au (KDDI), SoftBank: the carriers' English notices */
	{ "following recipients did not receive this message", NULL, 0 },
	{ "could not be delivered to the following recipients", NULL, 0 },
	/* French ISPs (Orange, Free, SFR, La Poste) */
	{ "destinataire(s) suivant", NULL, 0 },
	{ "destinataires suivants", NULL, 0 },
	{ "adresse(s) suivante", NULL, 0 },
	{ "adresses suivantes", NULL, 0 },
	/* German (GMX, web.de, T-Online) */
	{ "folgende empf\xc3\xa4nger", NULL, 0 },
	{ "folgenden empf\xc3\xa4nger", NULL, 0 },
};

static int
mta_listing(const struct cls_msg *m, struct cls_result *r)
{
	size_t i;
	int n;

	for (i = 0; i < sizeof(listings) / sizeof(listings[0]); i++)
		if ((n = read_listing(m, r, &listings[i])) > 0)
			return n;
	return 0;
}

/*
 * Zoho: "addr Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <addr>...
 * User unknown", one line per recipient.
 */
static int
mta_zoho(const struct cls_msg *m, struct cls_result *r)
{
	const char *s = m->notice.data ? m->notice.data : "", *end = s + m->notice_len, *p = s, *line, *lend;
	int n = 0;

	if (s == NULL || cls_find_ci(s, m->notice_len, "error_code") == NULL)
		return 0;
	while (next_line(&p, end, &line, &lend)) {
		const char *code = cls_find_ci(line, (size_t)(lend - line), "error_code");
		char addr[256], st[16] = "";

		if (code == NULL || !cls_first_addr(line, (size_t)(lend - line), addr, sizeof(addr)) ||
		    cls_ours_or_sender(addr, &m->h, m->o))
			continue;
		/* "ERROR_CODE :550, ERROR_CODE :5.1.1": the enhanced code, else the reply's. */
		cls_find_enhanced(line, (size_t)(lend - line), "45", st, sizeof(st));
		while (!st[0] && code < lend && !isdigit((unsigned char)*code))
			code++;
		if (!st[0] && lend - code >= 3)
			cls_find_reply_code(code, 3, st, sizeof(st));
		n += cls_add_bounce(r, addr, st, cls_judge_hard(st, line,
		    (size_t)(lend - line))) != NULL;
	}
	return n;
}

/* A JSON string member "key":"value" at or after p, with \" escapes around it too. */
static int
json_member(const char *p, const char *end, const char *key, char *out, size_t size)
{
	const char *k = cls_find_ci(p, (size_t)(end - p), key), *v, *e;

	if (k == NULL)
		return 0;
	for (v = k + strlen(key); v < end && strchr("\\\": \t", *v); v++)
		;
	for (e = v; e < end && *e != '"' && *e != '\\' && *e != '\n'; e++)
		;
	snprintf(out, size, "%.*s", (int)(e - v), v);
	return 1;
}

/*
 * Amazon SES notifications (by email or SNS): JSON with notificationType
 * "Bounce", bounceType Permanent or Transient, and bouncedRecipients each
 * with emailAddress, status and diagnosticCode. A Delivery or Complaint
 * notification names no failure. SES documents its subtypes: NoEmail (no
 * such address), Suppressed and OnAccountSuppressionList (it bounced hard
 * before) are the address's own; General is judged by its code.
 */
static int
mta_ses_json(const struct cls_msg *m, struct cls_result *r)
{
	const char *s = m->notice.data ? m->notice.data : "", *end = s + m->notice.len, *p, *obj;
	char type[32], sub[64], addr[256], st[16], diag[256];
	int n = 0, permanent, known;

	if (s == NULL || (p = cls_find_ci(s, m->notice.len, "bouncedrecipients")) == NULL ||
	    !json_member(s, end, "\"bouncetype", type, sizeof(type)))
		return 0;
	json_member(s, end, "\"bouncesubtype", sub, sizeof(sub));
	permanent = strcasecmp(type, "Permanent") == 0;
	known = strcasecmp(sub, "NoEmail") == 0 || strcasecmp(sub, "Suppressed") == 0 ||
	    strcasecmp(sub, "OnAccountSuppressionList") == 0;
	while ((obj = cls_find_ci(p, (size_t)(end - p), "emailaddress")) != NULL) {
		const char *close = memchr(obj, '}', (size_t)(end - obj));

		if (close == NULL)
			close = end;
		json_member(obj, close, "emailaddress", addr, sizeof(addr));
		st[0] = diag[0] = '\0';
		if (json_member(obj, close, "\"status", diag, sizeof(diag)))
			cls_find_status(diag, strlen(diag), st, sizeof(st));
		json_member(obj, close, "diagnosticcode", diag, sizeof(diag));
		if (!st[0])
			cls_find_status(diag, strlen(diag), st, sizeof(st));
		if (cls_first_addr(addr, strlen(addr), addr, sizeof(addr)))
			n += cls_add_bounce(r, addr, st, permanent && (known ||
			    cls_judge_hard(st, diag, strlen(diag)))) != NULL;
		p = close;
	}
	return n;
}

/*
 * Exchange's "Diagnostic information for administrators": each recipient
 * on its line, the remote server's reply below it ("Remote Server returned
 * '550 5.1.1 ...'", or "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##").
 */
static int
mta_exchange(const struct cls_msg *m, struct cls_result *r)
{
	const char *s = m->notice.data, *end, *p, *line, *lend, *l2, *le2;
	char addr[256];
	int n = 0;

	if (s == NULL || (p = cls_find_ci(s, m->notice_len, "diagnostic information for administrators")) == NULL)
		return 0;
	end = s + m->notice_len;
	while (next_line(&p, end, &line, &lend)) {
		const char *q = p;

		if (!address_first(line, lend, addr, sizeof(addr)) || !next_line(&q, end, &l2, &le2))
			continue;
		if (cls_line_blank(l2, le2) && !next_line(&q, end, &l2, &le2))
			break;
		if (cls_find_ci(l2, (size_t)(le2 - l2), "remote server returned") ||
		    cls_find_ci(l2, (size_t)(le2 - l2), "#5") || cls_find_ci(l2, (size_t)(le2 - l2), "#4"))
			n += add_from_line(m, r, line, lend, le2);
	}
	return n;
}

/* A sentence that names the failed address right after its lead. */
struct sentence {
	const char *lead;	/* lowercase, the address follows it */
	const char *failed;	/* a word the rest of the line must have, or NULL */
	int soft;
};

static const struct sentence sentences[] = {
	/* Gmail */
	{ "wasn't delivered to ", NULL, 0 },
	{ "problem delivering your message to ", NULL, 1 },
	/* Office 365, Gmail's blocks, many providers' plain notices */
	{ "your message to ", "couldn't", 0 },
	{ "your message to ", "could not", 0 },
	{ "your message to ", "blocked", 0 },
	{ "your message to ", "rejected", 0 },
	{ "your message to ", "not be delivered", 0 },
	{ "could not be delivered to ", NULL, 0 },
	{ "couldn't be delivered to ", NULL, 0 },
	{ "was not delivered to ", NULL, 0 },
	{ "which your message was addressed, ", NULL, 0 },
	/* French, German */
	{ "pas pu \xc3\xaatre remis \xc3\xa0 ", NULL, 0 },
	{ "pas pu \xc3\xaatre d\xc3\xa9livr\xc3\xa9 \xc3\xa0 ", NULL, 0 },
	{ "pas pu etre remis a ", NULL, 0 },
	{ "nachricht an ", "nicht zugestellt", 0 },
};

static int
mta_sentence(const struct cls_msg *m, struct cls_result *r)
{
	const char *s = m->notice.data ? m->notice.data : "", *end = s + m->notice_len, *p, *lend, *a;
	char addr[256], st[16];
	size_t i;
	int n = 0, hard;

	if (s == NULL)
		return 0;
	cls_find_failure_status(s, m->notice_len, st, sizeof(st));
	hard = cls_judge_hard(st, s, m->notice_len);
	for (i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++) {
		const struct sentence *c = &sentences[i];

		for (p = s; (p = cls_find_ci(p, (size_t)(end - p), c->lead)) != NULL; p = a) {
			a = p + strlen(c->lead);
			if ((lend = memchr(a, '\n', (size_t)(end - a))) == NULL)
				lend = end;
			while (a < lend && strchr("<\"' ", *a))
				a++;
			if (!address_first(a, lend, addr, sizeof(addr)) ||
			    cls_ours_or_sender(addr, &m->h, m->o) ||
			    (c->failed && !cls_find_ci(a, (size_t)(lend - a), c->failed)))
				continue;
			n += cls_add_bounce(r, addr, st, hard && !c->soft &&
			    !cls_find_ci(p, (size_t)(lend - p), "temporar")) != NULL;
		}
		if (n > 0)
			return n;
	}
	return n;
}

/* In order: the most particular formats first, the sentences last. */
const struct cls_mta cls_mtas[] = {
	{ "ses-json", mta_ses_json },
	{ "zoho", mta_zoho },
	{ "exchange", mta_exchange },
	{ "listing", mta_listing },
	{ "sentence", mta_sentence },
	{ NULL, NULL }
};

const struct cls_mta *
cls_mta_find(const char *name)
{
	size_t i;

	for (i = 0; cls_mtas[i].name; i++)
		if (strcmp(cls_mtas[i].name, name) == 0)
			return &cls_mtas[i];
	return NULL;
}

int
cls_mta_read(const struct cls_msg *m, struct cls_result *r)
{
	size_t i;
	int n;

	for (i = 0; cls_mtas[i].name; i++)
		if ((n = cls_mtas[i].read(m, r)) > 0)
			return n;
	return 0;
}
