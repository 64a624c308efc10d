/*
 * classify.c - what a message in the mailbox is, from its bytes alone.
 *
 * The message is parsed by libetpan (RFC 5322 headers, the MIME tree,
 * transfer decoding; RFC 3464 report fields with its header parser). What
 * libetpan cannot know is the wording of the non-standard bounces; those
 * rules are here, written from the formats of the MTAs that produce them:
 * the failed address on a line of its own or after a bullet (qmail, Yahoo,
 * old Sendmail, IIS), before a colon (Postfix, qmail), before "..."
 * (Sendmail), before " on DATE" (Exchange), after RCPT TO in a transcript,
 * after "undeliverable to" (SMTP32), inside an SMTP reply, as the original
 * of an expanded alias (Sendmail, Postfix, Exim), or in X-Failed-Recipients
 * (Exim). The address reported is always the one we sent to: a report's
 * Original-Recipient before its Final-Recipient.
 *
 * An unsubscribe request is recognised from a table of whole phrases in
 * four languages, never from a word found inside a longer sentence.
 */
#include "classify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "util.h"

/* Inputs are untrusted: this much text is read, the rest ignored. */
#define CLS_TEXT_MAX (256 * 1024)
#define CLS_FINDINGS_MAX 64
#define CLS_DEPTH_MAX 16

const char *
cls_kind_name(enum cls_kind k)
{
	switch (k) {
	case CLS_BOUNCE:
		return "bounce";
	case CLS_UNSUBSCRIBE:
		return "unsubscribe";
	case CLS_AUTOREPLY:
		return "auto-reply";
	case CLS_HUMAN:
		return "human";
	}
	return "?";
}

void
cls_result_free(struct cls_result *r)
{
	free(r->f);
	memset(r, 0, sizeof(*r));
}

/* ---- small text helpers ---- */

static void
copy_lower(char *dst, size_t size, const char *s, size_t n)
{
	size_t i;

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[n] = '\0';
}

/* Case-insensitive search for a needle in the first n bytes of s. */
static const char *
find_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle), i, j;

	if (m == 0 || m > n)
		return NULL;
	for (i = 0; i + m <= n; i++) {
		for (j = 0; j < m; j++)
			if (tolower((unsigned char)s[i + j]) != needle[j])
				break;
		if (j == m)
			return s + i;
	}
	return NULL;
}

static int
has_any(const char *s, size_t n, const char *const *words)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (find_ci(s, n, words[i]))
			return 1;
	return 0;
}

static int
addr_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

/*
 * The address around the '@' at s[at], within [lo, hi): a dot-atom local
 * part and a domain with a dot. 0 when there is none there.
 */
static int
addr_at(const char *lo, const char *hi, const char *at, const char **b, const char **e)
{
	const char *p = at, *q = at + 1;
	int dot = 0;

	while (p > lo && addr_char((unsigned char)p[-1]))
		p--;
	/* Not part of it: a leading dot, or the quote of 'addr'. */
	while (p < at && (*p == '.' || *p == '\'' || *p == '`'))
		p++;
	while (q < hi && (isalnum((unsigned char)*q) || *q == '-' || *q == '.' ||
	    *q == '#' || *q == '_')) {
		dot |= *q == '.';
		q++;
	}
	while (q > at + 1 && q[-1] == '.')
		q--;
	if (p == at || q == at + 1 || !dot)
		return 0;
	*b = p;
	*e = q;
	return 1;
}

/* ---- findings ---- */

static struct cls_finding *
add_finding(struct cls_result *r, enum cls_kind kind)
{
	struct cls_finding *f;

	if (r->n >= CLS_FINDINGS_MAX)
		return NULL;
	r->f = xgrow(r->f, &r->cap, r->n + 1, sizeof(*r->f));
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	return f;
}

static int
have_bounce(const struct cls_result *r, const char *addr)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->f[i].kind == CLS_BOUNCE && strcmp(r->f[i].address, addr) == 0)
			return 1;
	return 0;
}

/* ---- status codes and hard or soft ---- */

/* The first enhanced status code (RFC 3463) of one of the classes in the text, into out. */
static int
find_enhanced(const char *s, size_t n, const char *classes, char *out, size_t size)
{
	size_t i, j, k;

	for (i = 0; i + 5 <= n; i++) {
		if (s[i] == '\0' || strchr(classes, s[i]) == NULL || s[i + 1] != '.' ||
		    (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.')))
			continue;
		for (j = i + 2; j < n && j < i + 5 && isdigit((unsigned char)s[j]); j++)
			;
		if (j == i + 2 || j >= n || s[j] != '.')
			continue;
		for (k = j + 1; k < n && k < j + 4 && isdigit((unsigned char)s[k]); k++)
			;
		if (k == j + 1 || (k < n && (isalnum((unsigned char)s[k]) ||
		    (s[k] == '.' && k + 1 < n && isdigit((unsigned char)s[k + 1])))))
			continue;
		copy_lower(out, size, s + i, k - i);
		return 1;
	}
	return 0;
}

/* The first SMTP reply code 4xx or 5xx standing as a word in the text. */
static int
find_reply_code(const char *s, size_t n, char *out, size_t size)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if ((s[i] != '4' && s[i] != '5') || !isdigit((unsigned char)s[i + 1]) ||
		    !isdigit((unsigned char)s[i + 2]))
			continue;
		if (i > 0 && (isalnum((unsigned char)s[i - 1]) || strchr(".-:/", s[i - 1])))
			continue;
		if (i + 3 < n && (isalnum((unsigned char)s[i + 3]) || s[i + 3] == '.' ||
		    s[i + 3] == ':' || s[i + 3] == '/'))
			continue;
		if (s[i + 1] > '5')
			continue;
		copy_lower(out, size, s + i, 3);
		return 1;
	}
	return 0;
}

static void
find_status(const char *s, size_t n, char *out, size_t size)
{
	if (!find_enhanced(s, n, "245", out, size) && !find_reply_code(s, n, out, size))
		out[0] = '\0';
}

/*
 * A failure's status from a whole notice: a 2.x.x there is some version
 * number ("Version 2.0.12"), not this recipient's success.
 */
static void
find_failure_status(const char *s, size_t n, char *out, size_t size)
{
	if (!find_enhanced(s, n, "45", out, size) && !find_reply_code(s, n, out, size))
		out[0] = '\0';
}

/* Failures that can pass, whatever their class. */
static const char *const soft_words[] = {
	"quota", "mailbox full", "mailbox is full", "mailfolder is full", "box is full",
	"full mailbox", "insufficient", "too large", "too big", "size limit", "exceeds",
	"exceeded", "message size", "spam", "blacklist", "blocklist", "block list", "blocked",
	"listed", "reputation", "policy", "greylist", "graylist", "try again", "temporar",
	"delay", "deferred", "postponed", "timed out", "timeout", "rate limit", "too many",
	"not accepted", "content", "virus", "rejected due to", "denied", "relay access",
	"unsolicited", "retry", NULL
};

/* The address itself is bad. */
static const char *const hard_words[] = {
	"user unknown", "unknown user", "no such user", "user not found", "unknown recipient",
	"recipient unknown", "recipient not found", "recipient address rejected: user",
	"no such recipient", "invalid recipient", "bad recipient", "invalid mailbox",
	"no mailbox", "mailbox not found", "mailbox unavailable", "mailbox does not exist",
	"does not exist", "doesn't exist", "not exist", "unknown address", "address unknown",
	"addressee unknown", "not a valid", "is not valid", "not a known user", "not known",
	"not an active address", "no longer", "disabled", "deactivated", "inactive", "closed",
	"not recognized", "unknown local", "not our customer", "host unknown", "unknown host",
	"no such domain", "domain not found", "domain does not", "no such host",
	"host not found", "unrouteable", "unroutable", "name service error",
	"bad destination", "moved", "not listed", "no account", "account has been",
	"invalid address", "bad address", "unknown or illegal", "no such mailbox",
	"does not have an account", NULL
};

static int
status_hard(const char *st)
{
	static const char *const hard[] = { "5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10",
	    "5.2.1", NULL };
	size_t i;

	for (i = 0; hard[i]; i++)
		if (strcmp(st, hard[i]) == 0)
			return 1;
	return 0;
}

/*
 * The reason's words on one line: replies are folded anywhere ("does not\n
 * exist"), MTAs write BAD_RECIPIENT and "mail-box" or "mail box".
 */
static size_t
reason_text(const char *raw, size_t rawlen, char *text, size_t size)
{
	size_t n = 0, i;

	for (i = 0; i < rawlen && n + 1 < size; i++) {
		if (isspace((unsigned char)raw[i]) || raw[i] == '_') {
			if (n > 0 && text[n - 1] != ' ')
				text[n++] = ' ';
		} else {
			text[n++] = (char)tolower((unsigned char)raw[i]);
		}
	}
	text[n] = '\0';
	for (i = 0; i + 8 <= n; i++)
		if (strncmp(text + i, "mail", 4) == 0 && (text[i + 4] == ' ' || text[i + 4] == '-') &&
		    strncmp(text + i + 5, "box", 3) == 0) {
			memmove(text + i + 4, text + i + 5, n - i - 4);
			n--;
		}
	return n;
}

/* 1 hard, 0 soft, -1 when the text gives no reason. */
static int
reason_hard(const char *raw, size_t rawlen)
{
	char text[2048];
	size_t n = reason_text(raw, rawlen, text, sizeof(text));

	if (has_any(text, n, hard_words) && !find_ci(text, n, "quota") &&
	    !find_ci(text, n, "full"))
		return 1;
	if (has_any(text, n, soft_words))
		return 0;
	return -1;
}

/* Hard only when the address is bad and the failure permanent. */
static int
judge_hard(const char *status, const char *raw, size_t rawlen)
{
	int h;

	if (status[0] == '4' || status[0] == '2')
		return 0;
	if ((h = reason_hard(raw, rawlen)) >= 0)
		return h;
	return status_hard(status);
}

/* ---- the message's parts ---- */

struct text {
	char *data;
	size_t len;
};

static void
text_add(struct text *t, const char *s, size_t n)
{
	if (t->len >= CLS_TEXT_MAX)
		return;
	if (n > CLS_TEXT_MAX - t->len)
		n = CLS_TEXT_MAX - t->len;
	t->data = realloc(t->data, t->len + n + 2);
	if (t->data == NULL)
		fatalx("out of memory");
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len++] = '\n';
	t->data[t->len] = '\0';
}

/* "type/subtype" of a part, lowercase. */
static void
part_type(const struct mailmime *m, char *out, size_t size)
{
	const struct mailmime_content *ct = m->mm_content_type;
	const char *type = "text", *sub = "plain";
	char buf[128];

	if (ct && ct->ct_type) {
		if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
			switch (ct->ct_type->tp_data.tp_discrete_type->dt_type) {
			case MAILMIME_DISCRETE_TYPE_TEXT: type = "text"; break;
			case MAILMIME_DISCRETE_TYPE_IMAGE: type = "image"; break;
			case MAILMIME_DISCRETE_TYPE_AUDIO: type = "audio"; break;
			case MAILMIME_DISCRETE_TYPE_VIDEO: type = "video"; break;
			case MAILMIME_DISCRETE_TYPE_APPLICATION: type = "application"; break;
			default:
				type = ct->ct_type->tp_data.tp_discrete_type->dt_extension ?
				    ct->ct_type->tp_data.tp_discrete_type->dt_extension : "x";
			}
		} else if (ct->ct_type->tp_data.tp_composite_type) {
			switch (ct->ct_type->tp_data.tp_composite_type->ct_type) {
			case MAILMIME_COMPOSITE_TYPE_MESSAGE: type = "message"; break;
			case MAILMIME_COMPOSITE_TYPE_MULTIPART: type = "multipart"; break;
			default:
				type = ct->ct_type->tp_data.tp_composite_type->ct_token ?
				    ct->ct_type->tp_data.tp_composite_type->ct_token : "x";
			}
		}
		if (ct->ct_subtype)
			sub = ct->ct_subtype;
	}
	snprintf(buf, sizeof(buf), "%s/%s", type, sub);
	copy_lower(out, size, buf, strlen(buf));
}

/* The decoded body of a single part, appended to t. */
static void
part_text(const struct mailmime *m, struct text *t)
{
	const struct mailmime_data *d = m->mm_data.mm_single;
	char *dec = NULL;
	size_t idx = 0, n = 0;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return;
	if (d->dt_encoded && mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, d->dt_encoding, &dec, &n) == MAILIMF_NO_ERROR) {
		text_add(t, dec, n);
		mailmime_decoded_part_free(dec);
		return;
	}
	text_add(t, d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length);
}

/* HTML to lines of text: tags dropped, <br> and block ends as newlines, a few entities. */
static void
html_to_text(struct text *t, size_t from)
{
	char *s, *w, *end;

	if (t->data == NULL)
		return;
	s = w = t->data + from;
	end = t->data + t->len;

	while (s < end) {
		if (*s == '<') {
			char *gt = memchr(s, '>', (size_t)(end - s));
			if (gt == NULL)
				break;
			if (find_ci(s, (size_t)(gt - s), "br") || find_ci(s, (size_t)(gt - s), "/p") ||
			    find_ci(s, (size_t)(gt - s), "/div") || find_ci(s, (size_t)(gt - s), "/tr"))
				*w++ = '\n';
			s = gt + 1;
		} else if (*s == '&') {
			if (end - s >= 6 && strncmp(s, "&nbsp;", 6) == 0) {
				*w++ = ' ';
				s += 6;
			} else if (end - s >= 4 && strncmp(s, "&lt;", 4) == 0) {
				*w++ = '<';
				s += 4;
			} else if (end - s >= 4 && strncmp(s, "&gt;", 4) == 0) {
				*w++ = '>';
				s += 4;
			} else if (end - s >= 5 && strncmp(s, "&amp;", 5) == 0) {
				*w++ = '&';
				s += 5;
			} else {
				*w++ = *s++;
			}
		} else {
			*w++ = *s++;
		}
	}
	t->len = (size_t)(w - t->data);
	t->data[t->len] = '\0';
}

/* ---- the returned message's Message-ID ---- */

/* Is id (without <>) one of ours: ending in "@" + domain? */
static int
our_id(const char *id, size_t n, const char *domain)
{
	const char *at;
	size_t dl;

	if (domain == NULL || domain[0] == '\0' || id == NULL)
		return 0;
	dl = strlen(domain);
	for (at = id + n; at > id && at[-1] != '@'; at--)
		;
	return at > id + 1 && (size_t)(id + n - at) == dl && strncasecmp(at, domain, dl) == 0;
}

static void
fields_our_id(const struct mailimf_fields *fs, const char *domain, char *out, size_t size)
{
	const struct mailimf_field *f;
	clistiter *it;
	const char *id;

	if (fs == NULL || fs->fld_list == NULL || out[0])
		return;
	for (it = clist_begin(fs->fld_list); it; it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type != MAILIMF_FIELD_MESSAGE_ID || f->fld_data.fld_message_id == NULL)
			continue;
		id = f->fld_data.fld_message_id->mid_value;
		if (id && strlen(id) < size && our_id(id, strlen(id), domain)) {
			snprintf(out, size, "%s", id);
			return;
		}
	}
}

/* A "Message-ID: <id>" line of ours in a text/rfc822-headers part, maybe with "> ". */
static void
text_our_id(const char *s, size_t n, const char *domain, char *out, size_t size)
{
	const char *end, *line, *lend, *p, *gt;

	if (s == NULL || out[0])
		return;
	end = s + n;
	for (line = s; line < end; line = lend + 1) {
		lend = memchr(line, '\n', (size_t)(end - line));
		if (lend == NULL)
			lend = end;
		for (p = line; p < lend && (isspace((unsigned char)*p) || *p == '>'); p++)
			;
		if (lend - p >= 11 && strncasecmp(p, "message-id:", 11) == 0) {
			/* The id may be folded onto the next line. */
			for (p += 11; p < end && isspace((unsigned char)*p); p++)
				;
			gt = p < end && *p == '<' ? memchr(p, '>', (size_t)(end - p)) : NULL;
			if (gt && (size_t)(gt - p - 1) < size && our_id(p + 1, (size_t)(gt - p - 1), domain)) {
				snprintf(out, size, "%.*s", (int)(gt - p - 1), p + 1);
				return;
			}
		}
		if (lend == end)
			break;
	}
}

/* text/rfc822-headers (RFC 6522): the returned message's header only. */
static void
headers_part_our_id(const struct mailmime *m, const char *domain, char *out, size_t size)
{
	struct text t = { NULL, 0 };
	struct mailimf_fields *fs = NULL;
	size_t idx = 0;

	if (out[0] || domain == NULL)
		return;
	part_text(m, &t);
	if (t.data && mailimf_fields_parse(t.data, t.len, &idx, &fs) == MAILIMF_NO_ERROR) {
		fields_our_id(fs, domain, out, size);
		mailimf_fields_free(fs);
	}
	if (t.data)
		text_our_id(t.data, t.len, domain, out, size);
	free(t.data);
}

/* ---- walking the MIME tree ---- */

struct walk {
	struct text notice;	/* the human-readable report, not the returned message */
	struct text report;	/* message/delivery-status bodies */
	int multipart_report;
	const char *msgid_domain;
	char orig_id[256];	/* the returned message's Message-ID, when ours */
};

static void
walk(struct walk *w, const struct mailmime *m, int depth, int inside_returned)
{
	char type[128];
	clistiter *it;
	size_t from;

	if (m == NULL || depth > CLS_DEPTH_MAX)
		return;
	part_type(m, type, sizeof(type));
	switch (m->mm_type) {
	case MAILMIME_MULTIPLE:
		if (strcmp(type, "multipart/report") == 0)
			w->multipart_report = 1;
		if (m->mm_data.mm_multipart.mm_mp_list == NULL)
			return;
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it))
			walk(w, clist_content(it), depth + 1, inside_returned);
		return;
	case MAILMIME_MESSAGE:
		/* The top, or a returned message, whose text names no failure. */
		if (depth > 0)
			fields_our_id(m->mm_data.mm_message.mm_fields, w->msgid_domain, w->orig_id,
			    sizeof(w->orig_id));
		walk(w, m->mm_data.mm_message.mm_msg_mime, depth + 1, inside_returned || depth > 0);
		return;
	default:
		break;
	}
	if (strncmp(type, "message/", 8) == 0 && strlen(type) >= 23 &&
	    strcmp(type + strlen(type) - 15, "delivery-status") == 0) {
		/* delivery-status, global-delivery-status (RFC 6533), x-delivery-status */
		part_text(m, &w->report);
	} else if (strcmp(type, "text/rfc822-headers") == 0 ||
	    strcmp(type, "message/rfc822-headers") == 0) {
		headers_part_our_id(m, w->msgid_domain, w->orig_id, sizeof(w->orig_id));
	} else if (inside_returned) {
		return;
	} else if (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0) {
		from = w->notice.len;
		part_text(m, &w->notice);
		if (strcmp(type, "text/html") == 0)
			html_to_text(&w->notice, from);
	}
}

/* ---- headers ---- */

struct headers {
	char from[256];		/* the sender's address, lowercase */
	char to[256];		/* the first To address, lowercase */
	char subject[512];
	char auto_submitted[64];
	int autoreply_header;	/* vacation and out-of-office markers */
	int failed_recipients;	/* X-Failed-Recipients seen */
};

static const char *
opt_value(const struct mailimf_field *f, const char *name)
{
	if (f->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD || f->fld_data.fld_optional_field == NULL)
		return NULL;
	if (strcasecmp(f->fld_data.fld_optional_field->fld_name, name) != 0)
		return NULL;
	return f->fld_data.fld_optional_field->fld_value;
}

/* The token of ADDRESS's plus form local+TOKEN@domain in s, into tok. */
static void
plus_token(const char *base, const char *s, char *tok, size_t size)
{
	const char *at, *p, *b, *e;
	size_t ll, dl;

	if (base == NULL || (at = strchr(base, '@')) == NULL || tok[0])
		return;
	ll = (size_t)(at - base);
	dl = strlen(at);
	for (p = s; (p = find_ci(p, strlen(p), "+")) != NULL; p++) {
		if ((size_t)(p - s) < ll || strncasecmp(p - ll, base, ll) != 0)
			continue;
		b = p + 1;
		for (e = b; *e && *e != '@' && (isalnum((unsigned char)*e) || *e == '-'); e++)
			;
		if (*e != '@' || strncasecmp(e, at, dl) != 0 || e == b)
			continue;
		copy_lower(tok, size, b, (size_t)(e - b));
		return;
	}
}

/* Is spec ("addr", "<addr>", " addr ") the unsubscribe address itself? */
static int
is_unsubscribe_address(const char *spec, const struct cls_opts *o)
{
	size_t n;

	if (o->unsubscribe_address == NULL || o->unsubscribe_address[0] == '\0')
		return 0;
	while (isspace((unsigned char)*spec) || *spec == '<')
		spec++;
	for (n = strlen(spec); n > 0 && (isspace((unsigned char)spec[n - 1]) || spec[n - 1] == '>'); n--)
		;
	return n == strlen(o->unsubscribe_address) &&
	    strncasecmp(spec, o->unsubscribe_address, n) == 0;
}

/*
 * Either of our plus addresses, when spec is one, or the unsubscribe
 * address. The bare unsubscribe address counts only where the writer put
 * it (To, Cc): a server stamps Delivered-To on every message of the
 * mailbox, and the unsubscribe address may well deliver into the one herald
 * reads, beside human mail. A token is proof enough wherever it stands.
 */
static void
addr_tokens(const char *spec, const struct cls_opts *o, struct cls_result *r, int addressed)
{
	plus_token(o->bounce_address, spec, r->verp_token, sizeof(r->verp_token));
	plus_token(o->unsubscribe_address, spec, r->unsub_token, sizeof(r->unsub_token));
	if (addressed && is_unsubscribe_address(spec, o))
		r->to_unsubscribe = 1;
}

static void
mailbox_addr(const struct mailimf_mailbox *mb, char *out, size_t size)
{
	if (mb && mb->mb_addr_spec && !out[0])
		copy_lower(out, size, mb->mb_addr_spec, strlen(mb->mb_addr_spec));
}

/* The tokens among a list's addresses; the first mailbox into first, when asked. */
static void
address_list_tokens(const struct mailimf_address_list *l, const struct cls_opts *o,
    struct cls_result *r, char *first, size_t size)
{
	clistiter *it, *jt;
	const struct mailimf_address *a;

	if (l == NULL || l->ad_list == NULL)
		return;
	for (it = clist_begin(l->ad_list); it; it = clist_next(it)) {
		a = clist_content(it);
		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX && a->ad_data.ad_mailbox &&
		    a->ad_data.ad_mailbox->mb_addr_spec) {
			addr_tokens(a->ad_data.ad_mailbox->mb_addr_spec, o, r, 1);
			if (first)
				mailbox_addr(a->ad_data.ad_mailbox, first, size);
		} else if (a->ad_type == MAILIMF_ADDRESS_GROUP && a->ad_data.ad_group &&
		    a->ad_data.ad_group->grp_mb_list && a->ad_data.ad_group->grp_mb_list->mb_list) {
			for (jt = clist_begin(a->ad_data.ad_group->grp_mb_list->mb_list); jt;
			    jt = clist_next(jt)) {
				const struct mailimf_mailbox *mb = clist_content(jt);
				if (mb->mb_addr_spec)
					addr_tokens(mb->mb_addr_spec, o, r, 1);
			}
		}
	}
}

/* Our Message-ID among a reply's In-Reply-To or References. */
static void
reply_ids(const clist *ids, const struct cls_opts *o, struct cls_result *r)
{
	clistiter *it;
	const char *id, *at;

	if (ids == NULL || o->msgid_domain == NULL || r->reply_id[0])
		return;
	for (it = clist_begin((clist *)ids); it; it = clist_next(it)) {
		id = clist_content(it);
		if (id && (at = strrchr(id, '@')) != NULL && strcasecmp(at + 1, o->msgid_domain) == 0) {
			snprintf(r->reply_id, sizeof(r->reply_id), "%s", id);
			return;
		}
	}
}

/* Well-formed UTF-8 with at least one 8-bit byte? */
static int
utf8_8bit(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int eight = 0, k;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		eight = 1;
		if (*p >= 0xc2 && *p <= 0xdf)
			k = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			k = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			k = 3;
		else
			return 0;
		for (p++; k > 0; k--, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return eight;
}

/* RFC 2047 words decoded to UTF-8; raw 8-bit text is taken as UTF-8 when it is, else Latin-1. */
static void
decode_subject(const char *raw, char *out, size_t size)
{
	char *dec = NULL;
	size_t idx = 0;

	if (mailmime_encoded_phrase_parse(utf8_8bit(raw) ? "utf-8" : "iso-8859-1", raw,
	    strlen(raw), &idx, "utf-8", &dec) == MAILIMF_NO_ERROR && dec) {
		snprintf(out, size, "%s", dec);
		free(dec);
		return;
	}
	snprintf(out, size, "%s", raw);
}

static void
read_headers(const struct mailimf_fields *fs, const struct cls_opts *o, struct cls_result *r,
    struct headers *h, struct text *failed)
{
	static const char *const envelope[] = { "Delivered-To", "X-Original-To", "Envelope-To",
	    "X-Envelope-To", "X-Rcpt-To", NULL };
	const struct mailimf_field *f;
	clistiter *it;
	const char *v;
	size_t i;

	if (fs == NULL || fs->fld_list == NULL)
		return;
	for (it = clist_begin(fs->fld_list); it; it = clist_next(it)) {
		f = clist_content(it);
		switch (f->fld_type) {
		case MAILIMF_FIELD_FROM:
			if (f->fld_data.fld_from && f->fld_data.fld_from->frm_mb_list &&
			    f->fld_data.fld_from->frm_mb_list->mb_list &&
			    clist_begin(f->fld_data.fld_from->frm_mb_list->mb_list))
				mailbox_addr(clist_content(clist_begin(
				    f->fld_data.fld_from->frm_mb_list->mb_list)), h->from, sizeof(h->from));
			break;
		case MAILIMF_FIELD_TO:
			if (f->fld_data.fld_to)
				address_list_tokens(f->fld_data.fld_to->to_addr_list, o, r, h->to,
				    sizeof(h->to));
			break;
		case MAILIMF_FIELD_CC:
			if (f->fld_data.fld_cc)
				address_list_tokens(f->fld_data.fld_cc->cc_addr_list, o, r, NULL, 0);
			break;
		case MAILIMF_FIELD_SUBJECT:
			if (f->fld_data.fld_subject && f->fld_data.fld_subject->sbj_value && !h->subject[0])
				decode_subject(f->fld_data.fld_subject->sbj_value, h->subject,
				    sizeof(h->subject));
			break;
		case MAILIMF_FIELD_MESSAGE_ID:
			if (f->fld_data.fld_message_id && f->fld_data.fld_message_id->mid_value)
				snprintf(r->message_id, sizeof(r->message_id), "%s",
				    f->fld_data.fld_message_id->mid_value);
			break;
		case MAILIMF_FIELD_IN_REPLY_TO:
			if (f->fld_data.fld_in_reply_to)
				reply_ids(f->fld_data.fld_in_reply_to->mid_list, o, r);
			break;
		case MAILIMF_FIELD_REFERENCES:
			if (f->fld_data.fld_references)
				reply_ids(f->fld_data.fld_references->mid_list, o, r);
			break;
		case MAILIMF_FIELD_OPTIONAL_FIELD:
			for (i = 0; envelope[i]; i++) {
				if ((v = opt_value(f, envelope[i])) != NULL)
					addr_tokens(v, o, r, 0);
			}
			if ((v = opt_value(f, "Auto-Submitted")) != NULL)
				copy_lower(h->auto_submitted, sizeof(h->auto_submitted), v, strlen(v));
			if (opt_value(f, "X-Autoreply") || opt_value(f, "X-Autorespond") ||
			    opt_value(f, "X-Auto-Response-Suppress-Replies") ||
			    opt_value(f, "X-Vacation") || opt_value(f, "X-Mailer-Vacation"))
				h->autoreply_header = 1;
			if ((v = opt_value(f, "X-Autoreply")) != NULL && strcasecmp(v, "no") == 0)
				h->autoreply_header = 0;
			if ((v = opt_value(f, "Precedence")) != NULL &&
			    (strcasecmp(v, "auto_reply") == 0))
				h->autoreply_header = 1;
			if ((v = opt_value(f, "X-Failed-Recipients")) != NULL) {
				h->failed_recipients = 1;
				text_add(failed, v, strlen(v));
			}
			break;
		default:
			break;
		}
	}
}

/* ---- RFC 3464 reports ---- */

/* "rfc822; user@example.org" -> the address, lowercase, without <>. */
static int
dsn_address(const char *v, char *out, size_t size)
{
	const char *semi = strchr(v, ';'), *b, *e, *at;

	if (semi)
		v = semi + 1;
	at = strchr(v, '@');
	if (at == NULL || !addr_at(v, v + strlen(v), at, &b, &e))
		return 0;
	copy_lower(out, size, b, (size_t)(e - b));
	return 1;
}

static const char *
fields_get(const struct mailimf_fields *fs, const char *name)
{
	clistiter *it;
	const char *v;

	if (fs == NULL || fs->fld_list == NULL)
		return NULL;
	for (it = clist_begin(fs->fld_list); it; it = clist_next(it))
		if ((v = opt_value(clist_content(it), name)) != NULL)
			return v;
	return NULL;
}

/*
 * One per-recipient block of a report. The Original-Recipient (RFC 3464
 * 2.3.1) is the address as we sent it, before forwarding or aliases; the
 * Final-Recipient only when there is none. A delayed recipient is taken,
 * soft, only when the caller says so (a warning-only report).
 */
static void
dsn_block(const char *s, size_t n, struct cls_result *r, int delayed)
{
	struct mailimf_fields *fs = NULL;
	const char *action, *status, *diag, *rcpt;
	char addr[256], st[16] = "";
	struct cls_finding *f;
	size_t idx = 0;

	while (n > 0 && (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 0 || mailimf_optional_fields_parse(s, n, &idx, &fs) != MAILIMF_NO_ERROR ||
	    fs == NULL)
		return;
	action = fields_get(fs, "Action");
	status = fields_get(fs, "Status");
	diag = fields_get(fs, "Diagnostic-Code");
	rcpt = fields_get(fs, "Original-Recipient");
	if (rcpt == NULL || !dsn_address(rcpt, addr, sizeof(addr))) {
		rcpt = fields_get(fs, "Final-Recipient");
		if (rcpt == NULL || !dsn_address(rcpt, addr, sizeof(addr)))
			goto out;
	}
	while (action && isspace((unsigned char)*action))
		action++;
	if (action && strncasecmp(action, "failed", 6) != 0 &&
	    !(delayed && strncasecmp(action, "delayed", 7) == 0))
		goto out;	/* delivered, relayed, expanded */
	if (action == NULL && (status == NULL || (*status != '5' &&
	    !(delayed && *status == '4') && strchr(" \t", *status) == NULL)))
		goto out;
	if (status)
		find_enhanced(status, strlen(status), "245", st, sizeof(st));
	if (!st[0] && diag)
		find_status(diag, strlen(diag), st, sizeof(st));
	if (st[0] == '2' || have_bounce(r, addr) || (f = add_finding(r, CLS_BOUNCE)) == NULL)
		goto out;
	snprintf(f->address, sizeof(f->address), "%s", addr);
	snprintf(f->status, sizeof(f->status), "%s", st);
	f->hard = !delayed && judge_hard(st, diag ? diag : "", diag ? strlen(diag) : 0);
out:
	mailimf_fields_free(fs);
}

static void
dsn_blocks(const struct text *t, struct cls_result *r, int delayed)
{
	const char *s = t->data, *end, *p, *blank;

	end = s + t->len;
	/* Blocks are separated by empty lines; the first is per message. */
	for (p = s; p < end; p = blank) {
		const char *q = p, *lf;
		blank = end;
		while ((lf = memchr(q, '\n', (size_t)(end - q))) != NULL) {
			const char *nx = lf + 1;
			if (nx < end && (*nx == '\n' || (*nx == '\r' && nx + 1 < end && nx[1] == '\n'))) {
				blank = nx + (*nx == '\r' ? 2 : 1);
				break;
			}
			q = nx;
		}
		if (blank == end || lf == NULL) {
			dsn_block(p, (size_t)(end - p), r, delayed);
			break;
		}
		dsn_block(p, (size_t)(blank - p), r, delayed);
	}
}

/* The failed recipients; a report of delays only (a warning) names its delayed ones. */
static void
dsn_report(const struct text *t, struct cls_result *r)
{
	if (t->len == 0 || t->data == NULL)
		return;
	dsn_blocks(t, r, 0);
	if (r->n == 0)
		dsn_blocks(t, r, 1);
}

/* ---- the non-standard formats ---- */

static int
ours_or_sender(const char *addr, const struct headers *h, const struct cls_opts *o)
{
	const char *at = strchr(addr, '@');
	size_t ll = at ? (size_t)(at - addr) : strlen(addr);

	/* The notice goes to the original's sender, who is no failed recipient. */
	if (strcmp(addr, h->from) == 0 || strcmp(addr, h->to) == 0)
		return 1;
	if ((ll == 13 && strncmp(addr, "mailer-daemon", 13) == 0) ||
	    (ll == 10 && strncmp(addr, "postmaster", 10) == 0))
		return 1;
	if (o->bounce_address && strncasecmp(addr, o->bounce_address,
	    strcspn(o->bounce_address, "@")) == 0)
		return 1;
	if (o->unsubscribe_address && strncasecmp(addr, o->unsubscribe_address,
	    strcspn(o->unsubscribe_address, "@")) == 0)
		return 1;
	return 0;
}

/* Does s (n bytes) start with one of the lowercase prefixes, in any case? */
static int
starts_any(const char *s, size_t n, const char *const *prefixes)
{
	size_t i, m;

	for (i = 0; prefixes[i]; i++) {
		m = strlen(prefixes[i]);
		if (n >= m && strncasecmp(s, prefixes[i], m) == 0)
			return 1;
	}
	return 0;
}

/* Where the returned message starts inside a plain-text notice. */
static size_t
notice_end(const struct text *t)
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
		if ((m = find_ci(s, t->len, markers[i])) != NULL && (size_t)(m - s) < best &&
		    (size_t)(m - s) > 0)
			best = (size_t)(m - s);
	/*
	 * Returned headers pasted in (a Received: or Return-Path: line), or the
	 * returned part's own MIME header when the MIME structure was not parsed.
	 */
	while (line < s + best) {
		const char *lf = memchr(line, '\n', (size_t)(end - line));
		if (line > s && starts_any(line, (size_t)(end - line), returned))
			return (size_t)(line - s) < best ? (size_t)(line - s) : best;
		if (lf == NULL)
			break;
		line = lf + 1;
	}
	return best;
}

static int
line_blank(const char *s, const char *e)
{
	for (; s < e; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
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

	if (p[-1] == ':' && has_any(line, before, colon_leads))
		return 1;
	if (word_before(line, p, "to") && (has_any(line, before, to_leads) ||
	    has_any(q, after, fail_after)))
		return 1;
	if (word_before(line, p, "from:") && (find_ci(line, before, "expanded from") ||
	    find_ci(line, before, "generated from")))
		return 1;
	if (any_word_before(line, p, nouns) && has_any(q, after, fail_after))
		return 1;
	return (rt = reply_text(line, lend)) != NULL && !find_ci(line, before, "from") &&
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
	if (p > line && find_ci(line, (size_t)(b - line), "rcpt to"))
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
	return b[-1] == '<' && line_blank(q, lend) && memchr(line, ':', (size_t)(b - line)) == NULL;
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

	if (has_any(q, (size_t)(lend - q), marks))
		return 1;
	if (lend >= end)
		return 0;
	nx = lend + 1;
	nend = memchr(nx, '\n', (size_t)(end - nx));
	if (nend == NULL)
		nend = end;
	while (nx < nend && isspace((unsigned char)*nx))
		nx++;
	if (nx < nend && *nx == '(' && has_any(nx, (size_t)(nend - nx), marks))
		return 1;
	return find_ci(nx, (size_t)(nend - nx), "original address:") == nx ||
	    find_ci(nx, (size_t)(nend - nx), "original recipient:") == nx;
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
		if (line_blank(ctx_end + 1, nx) && lines > 0)
			break;
		ctx_end = nx;
		lines++;
	}
	return ctx_end;
}

static void
notice_finding(const char *s, size_t n, const char *line, const char *lend, const char *addr,
    struct cls_result *r)
{
	const char *ctx_end = reason_end(lend, s + n);
	struct cls_finding *f;
	char st[16];
	int h;

	find_status(line, (size_t)(ctx_end - line), st, sizeof(st));
	if (!st[0])
		find_failure_status(s, n, st, sizeof(st));
	if (st[0] == '2' || (f = add_finding(r, CLS_BOUNCE)) == NULL)
		return;	/* delivered after all */
	snprintf(f->address, sizeof(f->address), "%s", addr);
	snprintf(f->status, sizeof(f->status), "%s", st);
	/* The reason by the address, or else the notice's, or else the status. */
	if (st[0] == '4')
		h = 0;
	else if ((h = reason_hard(line, (size_t)(ctx_end - line))) < 0 &&
	    (h = reason_hard(s, n)) < 0)
		h = status_hard(st);
	f->hard = h;
}

static void
scan_notice(const char *s, size_t n, const struct headers *h, const struct cls_opts *o,
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
		    !line_blank(line, lend))
			continue;
		if ((quoting = header_like(line, lend)) != 0)
			continue;
		if (has_any(line, (size_t)(lend - line), listings))
			listing = 1;
		for (at = line; (at = memchr(at, '@', (size_t)(lend - at))) != NULL; at++) {
			if (!addr_at(line, lend, at, &b, &e))
				continue;
			/* X.400 in Exchange 5.5: "...;dda:SMTP=addr;" */
			if (at - b > 5 && b > line && b[-1] == ':' && strncasecmp(b, "smtp=", 5) == 0)
				b += 5;
			copy_lower(addr, sizeof(addr), b, (size_t)(e - b));
			for (q = e; q < lend && (*q == '>' || *q == '"' || *q == '\''); q++)
				;
			if (ours_or_sender(addr, h, o) || have_bounce(r, addr) ||
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

static void
scan_failed_header(const struct text *t, const struct text *notice, struct cls_result *r)
{
	const char *s = t->data, *end = s + t->len, *at, *b, *e;
	char addr[256], st[16];
	struct cls_finding *f;

	for (at = s; at && (at = memchr(at, '@', (size_t)(end - at))) != NULL; at++) {
		if (!addr_at(s, end, at, &b, &e))
			continue;
		copy_lower(addr, sizeof(addr), b, (size_t)(e - b));
		if (have_bounce(r, addr) || (f = add_finding(r, CLS_BOUNCE)) == NULL)
			continue;
		find_failure_status(notice->data ? notice->data : "", notice->len, st, sizeof(st));
		snprintf(f->address, sizeof(f->address), "%s", addr);
		snprintf(f->status, sizeof(f->status), "%s", st);
		f->hard = judge_hard(st, notice->data ? notice->data : "", notice->len);
		at = e - 1;
	}
}

/* ---- what kind of message ---- */

/* The sender's local part names a mailer: MAILER-DAEMON, postmaster, MDaemon, "Mail Delivery System". */
static int
from_mailer(const char *from)
{
	static const char *const names[] = { "mailer-daemon", "mailer_daemon", "mailerdaemon",
	    "postmaster", "mdaemon", "mail.delivery", "mail-delivery", "maildelivery", NULL };
	const char *at = strchr(from, '@');

	return has_any(from, at ? (size_t)(at - from) : strlen(from), names);
}

static int is_autoreply(const struct headers *h);

static int
looks_like_bounce(const struct headers *h, const struct walk *w, const struct cls_result *r)
{
	static const char *const subjects[] = {
		"undeliver", "delivery status notification", "failure notice", "returned mail",
		"mail delivery fail", "delivery failure", "undelivered", "delivery failed",
		"mail system error", "nondeliverable", "non-deliverable", "could not deliver",
		"delivery notification", "mail delivery problem", "rejected:", "bounce",
		"message not delivered", "delivery has failed", "permanent error",
		"could not be delivered", "non-delivery", "nondelivery", "failed mail",
		"delivery warning", "delayed mail", "user unknown", NULL
	};

	if (w->multipart_report || w->report.len || h->failed_recipients)
		return 1;
	if (from_mailer(h->from))
		return 1;
	/*
	 * RFC 3834 sends auto-replies to the return path, our VERP address:
	 * the token alone makes no bounce of a vacation notice.
	 */
	if (r->verp_token[0] && !is_autoreply(h))
		return 1;
	return has_any(h->subject, strlen(h->subject), subjects);
}

static int
is_autoreply(const struct headers *h)
{
	static const char *const subjects[] = {
		"out of office", "out of the office", "auto reply", "autoreply", "auto-reply",
		"automatic reply", "auto response", "autoresponse", "away from", "vacation",
		"on leave", "fuera de la oficina", "respuesta automática", "ausente",
		"resposta automática", "fora do escritório", "absence", "réponse automatique",
		"absent", "please confirm your", "verify your email", "challenge", NULL
	};

	if (h->auto_submitted[0] && strncmp(h->auto_submitted, "no", 2) != 0)
		return 1;
	if (h->autoreply_header)
		return 1;
	return has_any(h->subject, strlen(h->subject), subjects);
}

/* ---- unsubscribe requests ---- */

/* U+00C0..U+00FF without their accents, lowercase; x and / are no letters. */
static const char unaccent[] = "aaaaaaaceeeeiiiidnooooo ouuuuyts" "aaaaaaaceeeeiiiidnooooo ouuuuyty";

/* The next character of s as a lowercase ASCII letter, ' ', or 0 for none. */
static char
request_char(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];

	if (c < 0x80) {
		(*i)++;
		if (isalnum(c))
			return (char)tolower(c);
		return c == '\'' || c == '`' ? 0 : ' ';	/* "s'il" is "sil" */
	}
	if (*i + 1 < n && (s[*i + 1] & 0xc0) == 0x80 && c >= 0xc2) {
		/* UTF-8: Latin-1 letters; a right quote is an apostrophe; the rest no letter. */
		size_t k = *i;
		*i += 1;
		while (*i < n && (s[*i] & 0xc0) == 0x80)
			(*i)++;
		if (c == 0xc3 && *i - k == 2)
			return unaccent[s[k + 1] & 0x3f];
		if (c == 0xc2 && *i - k == 2)
			return ' ';	/* no-break space, inverted marks, guillemets */
		if (c == 0xe2 && *i - k == 3 && s[k + 1] == 0x80 && (s[k + 2] == 0x98 || s[k + 2] == 0x99))
			return 0;
		if (c == 0xe2 && *i - k == 3 && s[k + 1] == 0x80)
			return ' ';	/* dashes, quotes, ellipsis */
		return '#';
	}
	(*i)++;
	return c >= 0xc0 ? unaccent[c - 0xc0] : ' ';	/* Latin-1 */
}

/*
 * A line as lowercase ASCII words, single spaces between: accents stripped
 * (from UTF-8 or Latin-1), apostrophes dropped, other punctuation a space.
 * A letter with no ASCII form becomes '#', which no phrase has.
 */
static void
request_words(const char *s, size_t n, char *out, size_t size)
{
	size_t i = 0, o = 0;
	char ch;

	while (i < n && o + 1 < size) {
		ch = request_char((const unsigned char *)s, n, &i);
		if (ch == 0 || (ch == ' ' && (o == 0 || out[o - 1] == ' ')))
			continue;
		out[o++] = ch;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* Removes the words w from the start (at_end 0) or the end of s; 1 if it did. */
static int
strip_words(char *s, const char *w, int at_end)
{
	size_t n = strlen(s), m = strlen(w);

	if (m > n)
		return 0;
	if (!at_end && strncmp(s, w, m) == 0 && (s[m] == ' ' || s[m] == '\0')) {
		memmove(s, s + m + (s[m] == ' '), n - m + (s[m] != ' '));
		return 1;
	}
	if (at_end && strcmp(s + n - m, w) == 0 && (n == m || s[n - m - 1] == ' ')) {
		s[n == m ? 0 : n - m - 1] = '\0';
		return 1;
	}
	return 0;
}

static int
strip_any(char *s, const char *const *words, int at_end)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (strip_words(s, words[i], at_end))
			return 1;
	return 0;
}

static const char *const greetings[] = {
	"hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening",
	"hola", "buenos dias", "buenas tardes", "buenas noches", "buenas", "estimado",
	"estimada", "estimados", "estimadas", "ola", "oi", "bom dia", "boa tarde", "boa noite",
	"prezado", "prezada", "prezados", "prezadas", "caro", "cara", "bonjour", "bonsoir",
	"salut", "cher", "chere", "madame", "monsieur", NULL
};

/* Polite words around a request; the longer of two that share a word first. */
static const char *const polite[] = {
	"please", "pls", "plz", "kindly", "thank you very much", "thank you", "thanks a lot",
	"many thanks", "thanks", "thx", "por favor", "favor", "muchas gracias", "gracias",
	"muito obrigado", "muito obrigada", "obrigado", "obrigada", "sil vous plait", "svp",
	"merci beaucoup", "merci", NULL
};

/* "... from this list" and its kind, after a request. */
static const char *const list_tails[] = {
	"from this list", "from your list", "from the list", "from this mailing list",
	"from your mailing list", "from the mailing list", "from this newsletter",
	"from your newsletter", "from the newsletter", "from this email list",
	"from your email list", "from your mailing", "from all lists", "from your lists",
	"off this list", "off your list", "off the list", "off your mailing list",
	"de la lista", "de esta lista", "de su lista", "de tu lista", "de la lista de correo",
	"del boletin", "de este boletin", "da lista", "desta lista", "dessa lista",
	"da sua lista", "da lista de emails", "do boletim", "da newsletter", "de la liste",
	"de cette liste", "de votre liste", "de la newsletter", "de vos listes", NULL
};

/* The requests themselves, in English, Spanish, Portuguese and French. */
static const char *const requests[] = {
	"unsubscribe", "unsubscribe me", "unsub", "remove", "remove me", "remove my address",
	"remove my email", "remove my email address", "stop", "opt out", "opt me out",
	"optout", "take me off", "cancel my subscription", "cancel subscription",
	"i want to unsubscribe", "i would like to unsubscribe", "id like to unsubscribe",
	"baja", "dar de baja", "darme de baja", "dame de baja", "denme de baja",
	"quiero darme de baja", "deseo darme de baja", "solicito la baja",
	"cancelar suscripcion", "cancelar mi suscripcion", "cancelar la suscripcion",
	"desuscribir", "desuscribirme", "borrarme", "eliminarme",
	"descadastrar", "descadastrar me", "me descadastrar", "descadastre me", "me descadastre",
	"descadastro", "quero me descadastrar", "cancelar inscricao", "cancelar minha inscricao",
	"cancelar assinatura", "cancelar a assinatura", "cancelar minha assinatura", "remover",
	"remova me", "me remova", "me remover",
	"desabonner", "me desabonner", "desabonnez moi", "desabonnement", "desinscription",
	"desinscrire", "se desinscrire", "me desinscrire", "desinscrivez moi",
	"je veux me desabonner", "je souhaite me desabonner", "je voudrais me desabonner",
	"retirez moi", "supprimez moi", NULL
};

/*
 * Is this line itself an unsubscribe request: once the greeting, the polite
 * words and a "from this list" are taken away, exactly one of the phrases?
 * "I will never unsubscribe" or "How do I stop getting two copies?" is not.
 */
static int
request_line(const char *s, size_t n)
{
	char w[256];
	size_t i;

	request_words(s, n, w, sizeof(w));
	strip_any(w, greetings, 0);
	while (strip_any(w, polite, 0) || strip_any(w, polite, 1) || strip_any(w, list_tails, 1))
		;
	for (i = 0; requests[i]; i++)
		if (strcmp(w, requests[i]) == 0)
			return 1;
	return 0;
}

/* The subject past "Re:", "RE[2]:", "Fwd:", "AW:", "RV:", "Enc:", "TR:", "Réf. :" and the like. */
static const char *
subject_core(const char *s)
{
	static const char *const prefixes[] = { "re", "fwd", "fw", "aw", "rv", "enc", "tr", "ref",
	    "r\xc3\xa9" "f", "r\xc3\x89" "f", "rif", "res", "sv", "vs", "wg", "antw", "odp", "r",
	    NULL };
	const char *p, *q;
	size_t i, m;

again:
	for (p = s; *p && (isspace((unsigned char)*p) || ispunct((unsigned char)*p)); p++)
		;
	for (i = 0; prefixes[i]; i++) {
		m = strlen(prefixes[i]);
		if (strncasecmp(p, prefixes[i], m) != 0)
			continue;
		q = p + m;
		if (*q == '.')
			q++;
		if (*q == '[' || *q == '(') {
			for (q++; isdigit((unsigned char)*q); q++)
				;
			if (*q == ']' || *q == ')')
				q++;
		}
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == ':') {
			s = q + 1;
			goto again;
		}
	}
	return p;
}

/* "Hi", "Hi Ana,", "Dear Sir or Madam,", "Estimados señores:" (w as request_words made it) */
static int
greeting_only(char *w, char last)
{
	size_t words = 1;
	const char *p;

	if (!strip_any(w, greetings, 0))
		return 0;
	if (w[0] == '\0')
		return 1;
	if (last != ',' && last != ':' && last != '!')
		return 0;
	for (p = w; *p; p++)
		words += *p == ' ';
	return words <= 3;
}

/* The first line of the body that is not quoted, not empty, not a greeting alone. */
static void
first_own_line(const struct text *t, const char **line, size_t *n)
{
	const char *s = t->data, *end, *lend, *e;
	char w[256];

	*line = NULL;
	*n = 0;
	if (s == NULL)
		return;
	end = s + t->len;
	for (; s < end; s = lend + 1) {
		lend = memchr(s, '\n', (size_t)(end - s));
		if (lend == NULL)
			lend = end;
		while (s < lend && isspace((unsigned char)*s))
			s++;
		for (e = lend; e > s && isspace((unsigned char)e[-1]); e--)
			;
		if (s < e && *s != '>') {
			request_words(s, (size_t)(e - s), w, sizeof(w));
			if (!greeting_only(w, e[-1])) {
				*line = s;
				*n = (size_t)(e - s);
				return;
			}
		}
		if (lend == end)
			return;
	}
}

/* The failed recipients of what looks like a bounce: the report, X-Failed-Recipients, the text. */
static void
find_bounces(const struct headers *h, const struct walk *w, const struct text *failed,
    const struct cls_opts *o, struct cls_result *r)
{
	struct cls_finding *f;

	dsn_report(&w->report, r);
	if (r->n == 0 && failed->len)
		scan_failed_header(failed, &w->notice, r);
	if (r->n == 0 && w->notice.len)
		scan_notice(w->notice.data, notice_end(&w->notice), h, o, r);
	if (r->n == 0 && (r->verp_token[0] || w->report.len || h->failed_recipients ||
	    w->multipart_report)) {
		/* A bounce whose recipient only the VERP token can name. */
		f = add_finding(r, CLS_BOUNCE);
		if (f && w->notice.len) {
			find_failure_status(w->notice.data, w->notice.len, f->status,
			    sizeof(f->status));
			f->hard = judge_hard(f->status, w->notice.data, w->notice.len);
		}
	}
}

/*
 * Mail to unsubscribe+TOKEN@ or to the unsubscribe address, whatever it
 * says; or any message whose subject or first own line is the request.
 */
static int
asks_unsubscribe(const struct headers *h, const struct walk *w, const struct cls_result *r)
{
	const char *subject = subject_core(h->subject), *first;
	size_t n;

	if (r->unsub_token[0] || r->to_unsubscribe || request_line(subject, strlen(subject)))
		return 1;
	first_own_line(&w->notice, &first, &n);
	return first && request_line(first, n);
}

int
classify(const char *raw, size_t len, const struct cls_opts *o, struct cls_result *r)
{
	struct mailimf_fields *fs = NULL;
	struct mailmime *mime = NULL;
	struct headers h;
	struct walk w;
	struct text failed = { NULL, 0 };
	struct cls_finding *f;
	size_t idx = 0;

	memset(r, 0, sizeof(*r));
	/* A message saved from an mbox starts with its "From " separator line. */
	if (len >= 5 && strncmp(raw, "From ", 5) == 0) {
		const char *lf = memchr(raw, '\n', len);
		size_t skip = lf ? (size_t)(lf - raw) + 1 : len;
		raw += skip;
		len -= skip;
	}
	memset(&h, 0, sizeof(h));
	memset(&w, 0, sizeof(w));
	w.msgid_domain = o->msgid_domain;
	/* The MIME parse reads the headers too; on its own only when it fails. */
	if (mailmime_parse(raw, len, &idx, &mime) == MAILIMF_NO_ERROR) {
		if (mime->mm_type == MAILMIME_MESSAGE)
			read_headers(mime->mm_data.mm_message.mm_fields, o, r, &h, &failed);
		walk(&w, mime, 0, 0);
	} else {
		idx = 0;
		if (mailimf_fields_parse(raw, len, &idx, &fs) == MAILIMF_NO_ERROR)
			read_headers(fs, o, r, &h, &failed);
	}
	if (looks_like_bounce(&h, &w, r))
		find_bounces(&h, &w, &failed, o, r);
	/*
	 * The bounce's link to the delivery when it did not come to the VERP
	 * address: only a returned message's own header, never a Message-ID
	 * quoted in the notice's text, which anyone can write.
	 */
	if (r->n > 0)
		snprintf(r->orig_id, sizeof(r->orig_id), "%s", w.orig_id);
	/* An auto-reply is never an unsubscribe, not even one sent to unsubscribe+TOKEN@. */
	if (r->n == 0 && is_autoreply(&h))
		add_finding(r, CLS_AUTOREPLY);
	if (r->n == 0 && asks_unsubscribe(&h, &w, r) && (f = add_finding(r, CLS_UNSUBSCRIBE)))
		snprintf(f->address, sizeof(f->address), "%s", h.from);
	if (r->n == 0)
		add_finding(r, CLS_HUMAN);
	free(failed.data);
	free(w.notice.data);
	free(w.report.data);
	if (mime)
		mailmime_free(mime);
	if (fs)
		mailimf_fields_free(fs);
	return 0;
}
