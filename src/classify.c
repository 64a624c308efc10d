/*
 * classify.c - what a message in the mailbox is, from its bytes alone.
 *
 * The message is parsed by libetpan (RFC 5322 headers, the MIME tree,
 * transfer decoding; RFC 3464 report fields with its header parser). What
 * libetpan cannot know is the wording of the non-standard bounces; those
 * rules are here, written from the formats of the MTAs that produce them:
 * the failed address on a line of its own (qmail, Yahoo, old Sendmail),
 * before a colon (Postfix, qmail), before "..." (Sendmail), before " on
 * DATE" (Exchange), after RCPT TO in a transcript, or in
 * X-Failed-Recipients (Exim).
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
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
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
	while (p < at && *p == '.')
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

/* The first enhanced status code (RFC 3463) in the text, into out. */
static int
find_enhanced(const char *s, size_t n, char *out, size_t size)
{
	size_t i, j, k;

	for (i = 0; i + 5 <= n; i++) {
		if ((s[i] != '2' && s[i] != '4' && s[i] != '5') || s[i + 1] != '.' ||
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
	if (!find_enhanced(s, n, out, size) && !find_reply_code(s, n, out, size))
		out[0] = '\0';
}

/* Failures that can pass, whatever their class. */
static const char *const soft_words[] = {
	"quota", "mailbox full", "mailbox is full", "mailfolder is full", "box is full",
	"insufficient", "too large", "too big", "size limit", "exceeds",
	"spam", "blacklist", "blocklist", "block list", "blocked", "listed", "reputation",
	"policy", "greylist", "graylist", "try again", "temporar", "delay", "deferred",
	"timed out", "timeout", "rate limit", "too many", "not accepted", "content",
	"virus", "rejected due to", "denied", "relay access", "unsolicited",
	"retry", NULL
};

/* The address itself is bad. */
static const char *const hard_words[] = {
	"user unknown", "unknown user", "no such user", "user not found", "unknown recipient",
	"recipient unknown", "recipient not found", "recipient address rejected: user",
	"no such recipient", "invalid recipient", "invalid mailbox", "no mailbox",
	"mailbox not found", "mailbox unavailable", "mailbox does not exist",
	"does not exist", "doesn't exist", "not exist", "unknown address", "address unknown",
	"addressee unknown", "not a valid", "is not valid", "no longer", "disabled",
	"deactivated", "inactive", "closed", "not recognized", "unknown local",
	"not our customer", "host unknown", "unknown host", "no such domain",
	"domain not found", "domain does not", "no such host", "host not found",
	"unrouteable", "unroutable", "name service error", "bad destination", "moved",
	"not listed", "no account", "account has been", "invalid address", "bad address",
	"unknown or illegal", "no such mailbox", "does not have an account", NULL
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

/* Hard only when the address is bad and the failure permanent. */
static int
judge_hard(const char *status, const char *raw, size_t rawlen)
{
	char text[2048];
	size_t n = 0, i;

	if (status[0] == '4' || status[0] == '2')
		return 0;
	/* Replies are folded anywhere: "does not\n    exist" reads as one phrase. */
	for (i = 0; i < rawlen && n + 1 < sizeof(text); i++) {
		if (isspace((unsigned char)raw[i])) {
			if (n > 0 && text[n - 1] != ' ')
				text[n++] = ' ';
		} else {
			text[n++] = raw[i];
		}
	}
	text[n] = '\0';
	if (has_any(text, n, hard_words) && !find_ci(text, n, "quota") &&
	    !find_ci(text, n, "full"))
		return 1;
	if (has_any(text, n, soft_words))
		return 0;
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

struct walk {
	struct text notice;	/* the human-readable report, not the returned message */
	struct text report;	/* message/delivery-status bodies */
	int multipart_report;
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
		walk(w, m->mm_data.mm_message.mm_msg_mime, depth + 1, inside_returned || depth > 0);
		return;
	default:
		break;
	}
	if (strcmp(type, "message/delivery-status") == 0 ||
	    strcmp(type, "message/global-delivery-status") == 0) {
		part_text(m, &w->report);
	} else if (inside_returned || strcmp(type, "text/rfc822-headers") == 0 ||
	    strcmp(type, "message/rfc822-headers") == 0) {
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

/* Either of our plus addresses, when spec is one. */
static void
addr_tokens(const char *spec, const struct cls_opts *o, struct cls_result *r)
{
	plus_token(o->bounce_address, spec, r->verp_token, sizeof(r->verp_token));
	plus_token(o->unsubscribe_address, spec, r->unsub_token, sizeof(r->unsub_token));
}

static void
mailbox_addr(const struct mailimf_mailbox *mb, char *out, size_t size)
{
	if (mb && mb->mb_addr_spec && !out[0])
		copy_lower(out, size, mb->mb_addr_spec, strlen(mb->mb_addr_spec));
}

static void
address_list_tokens(const struct mailimf_address_list *l, const struct cls_opts *o,
    struct cls_result *r)
{
	clistiter *it, *jt;
	const struct mailimf_address *a;

	if (l == NULL || l->ad_list == NULL)
		return;
	for (it = clist_begin(l->ad_list); it; it = clist_next(it)) {
		a = clist_content(it);
		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX && a->ad_data.ad_mailbox &&
		    a->ad_data.ad_mailbox->mb_addr_spec) {
			addr_tokens(a->ad_data.ad_mailbox->mb_addr_spec, o, r);
		} else if (a->ad_type == MAILIMF_ADDRESS_GROUP && a->ad_data.ad_group &&
		    a->ad_data.ad_group->grp_mb_list && a->ad_data.ad_group->grp_mb_list->mb_list) {
			for (jt = clist_begin(a->ad_data.ad_group->grp_mb_list->mb_list); jt;
			    jt = clist_next(jt)) {
				const struct mailimf_mailbox *mb = clist_content(jt);
				if (mb->mb_addr_spec)
					addr_tokens(mb->mb_addr_spec, o, r);
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

static void
decode_subject(const char *raw, char *out, size_t size)
{
	char *dec = NULL;
	size_t idx = 0;

	if (mailmime_encoded_phrase_parse("iso-8859-1", raw, strlen(raw), &idx, "utf-8",
	    &dec) == MAILIMF_NO_ERROR && dec) {
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
				address_list_tokens(f->fld_data.fld_to->to_addr_list, o, r);
			break;
		case MAILIMF_FIELD_CC:
			if (f->fld_data.fld_cc)
				address_list_tokens(f->fld_data.fld_cc->cc_addr_list, o, r);
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
					addr_tokens(v, o, r);
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

/* One per-recipient block of a report. */
static void
dsn_block(const char *s, size_t n, struct cls_result *r)
{
	struct mailimf_fields *fs = NULL;
	const char *action, *status, *diag, *fr;
	char addr[256], st[16] = "";
	struct cls_finding *f;
	size_t idx = 0;

	if (mailimf_optional_fields_parse(s, n, &idx, &fs) != MAILIMF_NO_ERROR || fs == NULL)
		return;
	action = fields_get(fs, "Action");
	status = fields_get(fs, "Status");
	diag = fields_get(fs, "Diagnostic-Code");
	fr = fields_get(fs, "Final-Recipient");
	if (fr == NULL || !dsn_address(fr, addr, sizeof(addr))) {
		fr = fields_get(fs, "Original-Recipient");
		if (fr == NULL || !dsn_address(fr, addr, sizeof(addr)))
			goto out;
	}
	if (action) {
		while (isspace((unsigned char)*action))
			action++;
		if (strncasecmp(action, "failed", 6) != 0)
			goto out;	/* delayed, delivered, relayed, expanded */
	} else if (status == NULL || (*status != '5' && strchr(" \t", *status) == NULL)) {
		goto out;
	}
	if (status)
		find_enhanced(status, strlen(status), st, sizeof(st));
	if (!st[0] && diag)
		find_status(diag, strlen(diag), st, sizeof(st));
	if (st[0] == '2' || have_bounce(r, addr) || (f = add_finding(r, CLS_BOUNCE)) == NULL)
		goto out;
	snprintf(f->address, sizeof(f->address), "%s", addr);
	snprintf(f->status, sizeof(f->status), "%s", st);
	f->hard = judge_hard(st, diag ? diag : "", diag ? strlen(diag) : 0);
out:
	mailimf_fields_free(fs);
}

static void
dsn_report(const struct text *t, struct cls_result *r)
{
	const char *s = t->data, *end, *p, *blank;

	if (t->len == 0 || s == NULL)
		return;
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
			dsn_block(p, (size_t)(end - p), r);
			break;
		}
		dsn_block(p, (size_t)(blank - p), r);
	}
}

/* ---- the non-standard formats ---- */

static int
ours_or_sender(const char *addr, const struct headers *h, const struct cls_opts *o)
{
	const char *at = strchr(addr, '@');
	size_t ll = at ? (size_t)(at - addr) : strlen(addr);

	if (strcmp(addr, h->from) == 0)
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
	const char *s = t->data, *end = t->data + t->len, *line = s, *m;
	size_t i, best = t->len;

	for (i = 0; markers[i]; i++)
		if ((m = find_ci(s, t->len, markers[i])) != NULL && (size_t)(m - s) < best &&
		    (size_t)(m - s) > 0)
			best = (size_t)(m - s);
	/* Returned headers pasted in: a Received: or Return-Path: line. */
	while (line < s + best) {
		const char *lf = memchr(line, '\n', (size_t)(end - line));
		if ((strncasecmp(line, "Received: ", 10) == 0 ||
		    strncasecmp(line, "Return-Path: ", 13) == 0) && line > s)
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

/*
 * Is the address at [b, e) on this line placed as a failed recipient?
 * Alone on its line, before ':' or '...', before " on DATE", after RCPT TO,
 * after "failed ... :" or in a "recipient" phrase.
 */
static int
placed_as_failed(const char *line, const char *lend, const char *b, const char *e, int listing)
{
	const char *p = b, *q = e;

	while (p > line && (p[-1] == '<' || p[-1] == '"' || p[-1] == '\'' || isspace((unsigned char)p[-1])))
		p--;
	while (q < lend && (*q == '>' || *q == '"' || *q == '\''))
		q++;
	if (p > line && find_ci(line, (size_t)(b - line), "rcpt to"))
		return 1;
	if (p == line) {
		const char *r = q;
		while (r < lend && isspace((unsigned char)*r))
			r++;
		if (r == lend || *r == ':' || *r == ',' || *r == ';')
			return 1;
		if (lend - r >= 3 && strncmp(r, "...", 3) == 0)
			return 1;
		if (lend - r >= 3 && strncmp(r, "on ", 3) == 0 && listing)
			return 1;
		if (lend - r >= 1 && *r == '(' && listing)
			return 1;
		return 0;
	}
	/* "Delivery failed 20 attempts: addr", "Failed recipient: addr" */
	if (p > line && p[-1] == ':') {
		size_t n = (size_t)(p - line);
		static const char *const lead[] = { "fail", "recipient", "unknown", "undeliver",
		    "could not", "unable", "invalid", "address", "user", "mailbox", "error",
		    "rejected", "bounce", "not delivered", NULL };
		return has_any(line, n, lead);
	}
	return 0;
}

static int
header_like(const char *line, const char *lend)
{
	static const char *const names[] = { "to:", "cc:", "bcc:", "from:", "sender:",
	    "reply-to:", "return-path:", "x-original-to:", "delivered-to:", "envelope-to:",
	    "message-id:", "references:", "in-reply-to:", "received:", NULL };
	size_t i, n;

	while (line < lend && (*line == ' ' || *line == '\t'))
		line++;
	for (i = 0; names[i]; i++) {
		n = strlen(names[i]);
		if ((size_t)(lend - line) >= n && strncasecmp(line, names[i], n) == 0)
			return 1;
	}
	return 0;
}

static void
scan_notice(const char *s, size_t n, const struct headers *h, const struct cls_opts *o,
    struct cls_result *r)
{
	const char *end = s + n, *line = s, *lend, *at, *b, *e;
	char addr[256], st[16];
	struct cls_finding *f;
	int listing = 0;

	int quoting = 0;

	while (line < end) {
		lend = memchr(line, '\n', (size_t)(end - line));
		if (lend == NULL)
			lend = end;
		/*
		 * The original's To:, Cc: and From: quoted in the notice (Exchange
		 * does it), with their continuation lines, name no failed recipient.
		 */
		if (quoting && line < lend && (*line == ' ' || *line == '\t') &&
		    !line_blank(line, lend)) {
			line = lend + 1;
			continue;
		}
		quoting = header_like(line, lend);
		if (quoting) {
			line = lend + 1;
			continue;
		}
		if (has_any(line, (size_t)(lend - line), (const char *const[]){ "following recipient",
		    "following address", "did not reach", "could not be delivered to",
		    "following destination", "recipients failed", NULL }))
			listing = 1;
		for (at = line; (at = memchr(at, '@', (size_t)(lend - at))) != NULL; at++) {
			if (!addr_at(line, lend, at, &b, &e))
				continue;
			copy_lower(addr, sizeof(addr), b, (size_t)(e - b));
			if (ours_or_sender(addr, h, o) || have_bounce(r, addr) ||
			    !placed_as_failed(line, lend, b, e, listing))
				continue;
			/* The reason: this line and what follows up to a blank line. */
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
				find_status(line, (size_t)(ctx_end - line), st, sizeof(st));
				if (!st[0])
					find_status(s, n, st, sizeof(st));
				if (st[0] == '2')
					continue;	/* delivered after all */
				if ((f = add_finding(r, CLS_BOUNCE)) == NULL)
					return;
				snprintf(f->address, sizeof(f->address), "%s", addr);
				snprintf(f->status, sizeof(f->status), "%s", st);
				f->hard = judge_hard(st, line, (size_t)(ctx_end - line));
			}
			at = e - 1;
		}
		line = lend + 1;
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
		find_status(notice->data ? notice->data : "", notice->len, st, sizeof(st));
		snprintf(f->address, sizeof(f->address), "%s", addr);
		snprintf(f->status, sizeof(f->status), "%s", st);
		f->hard = judge_hard(st, notice->data ? notice->data : "", notice->len);
		at = e - 1;
	}
}

/* ---- what kind of message ---- */

static int
looks_like_bounce(const struct headers *h, const struct walk *w, const struct cls_result *r)
{
	static const char *const subjects[] = {
		"undeliver", "delivery status notification", "failure notice", "returned mail",
		"mail delivery fail", "delivery failure", "undelivered", "delivery failed",
		"mail system error", "nondeliverable", "non-deliverable", "could not deliver",
		"delivery notification", "mail delivery problem", "rejected:", "bounce",
		"message not delivered", "delivery has failed", "permanent error", NULL
	};
	const char *at = strchr(h->from, '@');
	size_t ll = at ? (size_t)(at - h->from) : 0;

	if (w->multipart_report || w->report.len || h->failed_recipients || r->verp_token[0])
		return 1;
	if ((ll == 13 && strncmp(h->from, "mailer-daemon", 13) == 0) ||
	    (ll == 10 && strncmp(h->from, "postmaster", 10) == 0) ||
	    find_ci(h->from, strlen(h->from), "mailer-daemon") ||
	    find_ci(h->from, strlen(h->from), "mail delivery"))
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

/* The first line of the body that is not quoted, not empty, not a greeting. */
static void
first_own_line(const struct text *t, char *out, size_t size)
{
	const char *s = t->data, *end, *lend;

	out[0] = '\0';
	if (s == NULL)
		return;
	end = s + t->len;
	while (s && s < end) {
		lend = memchr(s, '\n', (size_t)(end - s));
		if (lend == NULL)
			lend = end;
		while (s < lend && isspace((unsigned char)*s))
			s++;
		if (s < lend && *s != '>') {
			size_t n = (size_t)(lend - s);
			copy_lower(out, size, s, n);
			return;
		}
		s = lend + 1;
	}
}

static int
asks_unsubscribe(const char *s)
{
	static const char *const words[] = {
		"unsubscribe", "remove me", "stop", "opt out", "opt-out", "take me off",
		"darme de baja", "dar de baja", "baja", "cancelar suscripci", "desuscrib",
		"descadastr", "cancelar inscri", "cancelar a assinatura", "remover",
		"désabonn", "desabonn", "désinscri", "desinscri", "retirez-moi", NULL
	};

	return has_any(s, strlen(s), words);
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
	char first[256];
	size_t idx = 0, cut;

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
	if (looks_like_bounce(&h, &w, r)) {
		dsn_report(&w.report, r);
		if (r->n == 0 && failed.len)
			scan_failed_header(&failed, &w.notice, r);
		if (r->n == 0 && w.notice.len) {
			cut = notice_end(&w.notice);
			scan_notice(w.notice.data, cut, &h, o, r);
		}
		if (r->n == 0 && (r->verp_token[0] || w.report.len || h.failed_recipients ||
		    w.multipart_report)) {
			/* A bounce whose recipient only the VERP token can name. */
			f = add_finding(r, CLS_BOUNCE);
			if (f && w.notice.len) {
				find_status(w.notice.data, w.notice.len, f->status, sizeof(f->status));
				f->hard = judge_hard(f->status, w.notice.data, w.notice.len);
			}
		}
	}
	if (r->n == 0 && is_autoreply(&h))
		add_finding(r, CLS_AUTOREPLY);
	if (r->n == 0) {
		first_own_line(&w.notice, first, sizeof(first));
		if (r->unsub_token[0] || (r->reply_id[0] && (asks_unsubscribe(h.subject) ||
		    asks_unsubscribe(first)))) {
			f = add_finding(r, CLS_UNSUBSCRIBE);
			if (f)
				snprintf(f->address, sizeof(f->address), "%s", h.from);
		}
	}
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
