/*
 * classify.c - what a message in the mailbox is, from its bytes alone.
 *
 * The message is parsed by libetpan (RFC 5322 headers, the MIME tree,
 * transfer decoding) into a struct cls_msg, which the readers of
 * src/cls_*.c take in turn (cls_int.h says which does what): a bounce's
 * failed recipients from its RFC 3464 report, else from X-Failed-Recipients,
 * else from the one recogniser that knows its MTA's format,
 * else from the notice's free text, else from the returned message's To:.
 * The address reported is always the one we sent to: a report's
 * Original-Recipient before its Final-Recipient.
 *
 * Not a bounce: a report of success (delivered, relayed, expanded), a
 * read receipt, a complaint (ARF), a challenge to prove the sender human.
 */
#include "classify.h"
#include "cls_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "util.h"

const char *
cls_kind_name(enum cls_kind k)
{
	switch (k) {
	case CLS_BOUNCE:
		return "bounce";
	case CLS_UNSUBSCRIBE:
		return "unsubscribe";
	case CLS_SUBSCRIBE:
		return "subscribe";
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
	cls_copy_lower(out, size, buf, strlen(buf));
}

/*
 * Text in its declared charset, appended to t as UTF-8 so that the words
 * of a notice in ISO-8859-1 or ISO-2022-JP read as the tables spell them.
 */
static void
text_utf8(const struct mailmime *m, const char *s, size_t n, struct cls_text *t)
{
	char *charset = m->mm_content_type ? mailmime_content_charset_get(m->mm_content_type) : NULL;
	char *out = NULL;
	size_t outlen = 0;

	if (charset == NULL || strcasecmp(charset, "us-ascii") == 0 ||
	    strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0 ||
	    charconv_buffer("utf-8", charset, s, n, &out, &outlen) != MAIL_CHARCONV_NO_ERROR) {
		cls_text_add(t, s, n);
		return;
	}
	cls_text_add(t, out, outlen);
	charconv_buffer_free(out);
}

/* The decoded body of a single part, appended to t. */
static void
part_text(const struct mailmime *m, struct cls_text *t)
{
	const struct mailmime_data *d = m->mm_data.mm_single;
	char *dec = NULL;
	size_t idx = 0, n = 0;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return;
	if (d->dt_encoded && mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, d->dt_encoding, &dec, &n) == MAILIMF_NO_ERROR) {
		text_utf8(m, dec, n, t);
		mailmime_decoded_part_free(dec);
		return;
	}
	text_utf8(m, d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length, t);
}

/* HTML to lines of text: tags dropped, <br> and block ends as newlines, a few entities. */
static void
html_to_text(struct cls_text *t, size_t from)
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
			if (cls_find_ci(s, (size_t)(gt - s), "br") || cls_find_ci(s, (size_t)(gt - s), "/p") ||
			    cls_find_ci(s, (size_t)(gt - s), "/div") || cls_find_ci(s, (size_t)(gt - s), "/tr"))
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

/* ---- walking the MIME tree ---- */

/* The returned message's To: addresses, and whether it had Cc: too. */
static void
returned_fields(const struct mailimf_fields *fs, struct cls_msg *m)
{
	const struct mailimf_field *f;
	const struct mailimf_address *a;
	clistiter *it, *jt;
	const char *v, *w;

	if (fs == NULL || fs->fld_list == NULL || m->returned_n > 0)
		return;
	for (it = clist_begin(fs->fld_list); it; it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type == MAILIMF_FIELD_CC)
			m->returned_cc = 1;
		if ((v = cls_opt_value(f, "Received")) != NULL && !m->returned_for[0] &&
		    ((w = cls_find_ci(v, strlen(v), "for <")) != NULL ||
		    (w = cls_find_ci(v, strlen(v), " for ")) != NULL))
			cls_first_addr(w, strcspn(w, ";"), m->returned_for, sizeof(m->returned_for));
		if (f->fld_type != MAILIMF_FIELD_TO || f->fld_data.fld_to == NULL ||
		    f->fld_data.fld_to->to_addr_list == NULL ||
		    f->fld_data.fld_to->to_addr_list->ad_list == NULL)
			continue;
		for (jt = clist_begin(f->fld_data.fld_to->to_addr_list->ad_list); jt; jt = clist_next(jt)) {
			a = clist_content(jt);
			if (a->ad_type != MAILIMF_ADDRESS_MAILBOX || a->ad_data.ad_mailbox == NULL ||
			    a->ad_data.ad_mailbox->mb_addr_spec == NULL) {
				m->returned_cc = 1;	/* a group: not one recipient */
				continue;
			}
			if (m->returned_n < CLS_RETURNED_MAX)
				cls_copy_lower(m->returned_to[m->returned_n++], sizeof(m->returned_to[0]),
				    a->ad_data.ad_mailbox->mb_addr_spec,
				    strlen(a->ad_data.ad_mailbox->mb_addr_spec));
		}
	}
}

/* text/rfc822-headers (RFC 6522): the returned message's header only. */
static void
headers_part(const struct mailmime *mm, struct cls_msg *m)
{
	struct cls_text t = { NULL, 0 };
	struct mailimf_fields *fs = NULL;
	size_t idx = 0;

	part_text(mm, &t);
	if (t.data && mailimf_fields_parse(t.data, t.len, &idx, &fs) == MAILIMF_NO_ERROR) {
		fields_our_id(fs, m->o->msgid_domain, m->orig_id, sizeof(m->orig_id));
		returned_fields(fs, m);
		mailimf_fields_free(fs);
	}
	if (t.data)
		text_our_id(t.data, t.len, m->o->msgid_domain, m->orig_id, sizeof(m->orig_id));
	free(t.data);
}

/*
 * RFC 8098: a receipt says the message was displayed, dispatched or
 * processed; "deleted" (a Sieve reject, RFC 5429) is a failure told as one.
 */
static void
disposition(const struct mailmime *mm, struct cls_msg *m)
{
	struct cls_text t = { NULL, 0 };
	const char *d;

	part_text(mm, &t);
	if (t.data && (d = cls_find_ci(t.data, t.len, "disposition:")) != NULL)
		m->disposition = !cls_find_ci(d, strcspn(d, "\n"), "deleted");
	free(t.data);
}

static void
walk(struct cls_msg *w, const struct mailmime *m, int depth, int inside_returned)
{
	char type[128];
	clistiter *it;
	size_t from;

	if (m == NULL || depth > CLS_DEPTH_MAX)
		return;
	part_type(m, type, sizeof(type));
	switch (m->mm_type) {
	case MAILMIME_MULTIPLE:
		if (strcmp(type, "multipart/report") == 0 && !inside_returned)
			w->multipart_report = 1;
		if (m->mm_data.mm_multipart.mm_mp_list == NULL)
			return;
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it))
			walk(w, clist_content(it), depth + 1, inside_returned);
		return;
	case MAILMIME_MESSAGE:
		/* The top, or a returned message, whose text names no failure. */
		if (depth > 0) {
			fields_our_id(m->mm_data.mm_message.mm_fields, w->o->msgid_domain, w->orig_id,
			    sizeof(w->orig_id));
			returned_fields(m->mm_data.mm_message.mm_fields, w);
		}
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
		headers_part(m, w);
	} else if (inside_returned) {
		return;
	} else if (strcmp(type, "message/feedback-report") == 0) {
		w->feedback_report = 1;
	} else if (strcmp(type, "message/disposition-notification") == 0) {
		disposition(m, w);
	} else if (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0) {
		from = w->notice.len;
		part_text(m, &w->notice);
		if (strcmp(type, "text/html") == 0)
			html_to_text(&w->notice, from);
	}
}

/* ---- headers ---- */



/* The detail of base's plus form local+DETAIL@domain in s, made of chars, into tok. */
static void
plus_detail(const char *base, const char *s, const char *chars, char *tok, size_t size)
{
	const char *at, *p, *b, *e;
	size_t ll, dl;

	if (base == NULL || (at = strchr(base, '@')) == NULL || tok[0])
		return;
	ll = (size_t)(at - base);
	dl = strlen(at);
	for (p = s; (p = cls_find_ci(p, strlen(p), "+")) != NULL; p++) {
		if ((size_t)(p - s) < ll || strncasecmp(p - ll, base, ll) != 0)
			continue;
		/* The whole local part: "unsubscribe+" is no "subscribe+". */
		if (p - ll > s && (isalnum((unsigned char)*(p - ll - 1)) ||
		    strchr("!#$%&'*+-/=?^_`{|}~.", *(p - ll - 1))))
			continue;
		b = p + 1;
		for (e = b; *e && *e != '@' && (isalnum((unsigned char)*e) || strchr(chars, *e)); e++)
			;
		if (*e != '@' || strncasecmp(e, at, dl) != 0 || e == b)
			continue;
		cls_copy_lower(tok, size, b, (size_t)(e - b));
		return;
	}
}

/* A token's characters are letters, digits and '-'. */
static void
plus_token(const char *base, const char *s, char *tok, size_t size)
{
	plus_detail(base, s, "-", tok, size);
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
	/* A list id (letters, digits, '.', '-', '_') or a token. */
	if (addressed)
		plus_detail(o->subscribe_address, spec, ".-_", r->sub_detail, sizeof(r->sub_detail));
	if (addressed && is_unsubscribe_address(spec, o))
		r->to_unsubscribe = 1;
}

static void
mailbox_addr(const struct mailimf_mailbox *mb, char *out, size_t size)
{
	if (mb && mb->mb_addr_spec && !out[0])
		cls_copy_lower(out, size, mb->mb_addr_spec, strlen(mb->mb_addr_spec));
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

/*
 * X-Failed-Recipients (Exim) and its kin: any header whose name says it
 * holds the failed recipients (X-Failed-Recipient, Failed-Recipients).
 */
static const char *
failed_value(const struct mailimf_field *f)
{
	const char *name;

	if (f->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD || f->fld_data.fld_optional_field == NULL ||
	    (name = f->fld_data.fld_optional_field->fld_name) == NULL)
		return NULL;
	if (cls_find_ci(name, strlen(name), "failed-recipient") == NULL)
		return NULL;
	return f->fld_data.fld_optional_field->fld_value;
}

/* Who wrote it (X-Mailer, a list server's own header), and a challenge system's mark. */
static void
mailer_value(const struct mailimf_field *f, struct cls_headers *h)
{
	static const char *const mailers[] = { "X-Mailer", "X-MLServer", "X-ML-Server",
	    "X-ML-Name", "X-Delivery-Agent", "List-Software", NULL };
	static const char *const challenges[] = { "challenge", "tmda", "boxbe", "spamarrest",
	    "spam-arrest", "mailinblack", "choicemail", "sendio", NULL };
	const char *v, *name;
	size_t i;

	for (i = 0; mailers[i]; i++)
		if ((v = cls_opt_value(f, mailers[i])) != NULL && !h->mailer[0])
			cls_copy_lower(h->mailer, sizeof(h->mailer), v, strlen(v));
	if (f->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD && f->fld_data.fld_optional_field &&
	    (name = f->fld_data.fld_optional_field->fld_name) != NULL &&
	    strncasecmp(name, "x-", 2) == 0 && cls_has_any(name, strlen(name), challenges))
		h->challenge_header = 1;
}

static void
read_headers(const struct mailimf_fields *fs, const struct cls_opts *o, struct cls_result *r,
    struct cls_headers *h, struct cls_text *failed)
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
				if ((v = cls_opt_value(f, envelope[i])) != NULL)
					addr_tokens(v, o, r, 0);
			}
			if ((v = cls_opt_value(f, "Auto-Submitted")) != NULL)
				cls_copy_lower(h->auto_submitted, sizeof(h->auto_submitted), v, strlen(v));
			if (cls_opt_value(f, "X-Autoreply") || cls_opt_value(f, "X-Autorespond") ||
			    cls_opt_value(f, "X-Auto-Response-Suppress-Replies") ||
			    cls_opt_value(f, "X-Vacation") || cls_opt_value(f, "X-Mailer-Vacation"))
				h->autoreply_header = 1;
			if ((v = cls_opt_value(f, "X-Autoreply")) != NULL && strcasecmp(v, "no") == 0)
				h->autoreply_header = 0;
			if ((v = cls_opt_value(f, "Precedence")) != NULL &&
			    (strcasecmp(v, "auto_reply") == 0))
				h->autoreply_header = 1;
			if ((v = failed_value(f)) != NULL) {
				h->failed_recipients = 1;
				cls_text_add(failed, v, strlen(v));
			}
			mailer_value(f, h);
			break;
		default:
			break;
		}
	}
}

/* ---- taking the message apart ---- */

/*
 * A returned message pasted into a plain-text notice, after its marker:
 * the To: line of its header block, when MIME gave none.
 */
static void
pasted_to(struct cls_msg *m)
{
	const char *s = m->notice.data, *end, *line, *lend;
	struct mailimf_fields *fs = NULL;
	size_t idx = 0;
	int lines = 0;

	if (s == NULL || m->returned_n > 0 || m->notice_len >= m->notice.len)
		return;
	end = s + m->notice.len;
	/* The first header-like line after the marker starts the header. */
	for (line = s + m->notice_len; line < end && lines < 8; line = lend + 1, lines++) {
		if ((lend = memchr(line, '\n', (size_t)(end - line))) == NULL)
			lend = end;
		if (lend > line && memchr(line, ':', (size_t)(lend - line)) &&
		    isalpha((unsigned char)*line) &&
		    mailimf_fields_parse(line, (size_t)(end - line), &idx, &fs) == MAILIMF_NO_ERROR) {
			returned_fields(fs, m);
			mailimf_fields_free(fs);
			fs = NULL;
			if (m->returned_n > 0)
				return;
		}
		idx = 0;
		if (lend == end)
			return;
	}
}

/*
 * No returned message, but its To: quoted in the notice above the marker
 * ("Subject: ...", "To: addr"): one address there is the recipient.
 */
static void
quoted_to(struct cls_msg *m)
{
	const char *s = m->notice.data, *end, *line, *lend, *p;
	char addr[256];

	if (s == NULL || m->returned_n > 0)
		return;
	end = s + m->notice_len;
	for (line = s; line < end; line = lend + 1) {
		if ((lend = memchr(line, '\n', (size_t)(end - line))) == NULL)
			lend = end;
		for (p = line; p < lend && (*p == ' ' || *p == '\t' || *p == '>'); p++)
			;
		if (lend - p > 3 && strncasecmp(p, "to:", 3) == 0 &&
		    cls_first_addr(p, (size_t)(lend - p), addr, sizeof(addr))) {
			if (m->returned_n > 0 && strcmp(addr, m->returned_to[0]) != 0) {
				m->returned_cc = 1;	/* two: neither is sure */
				return;
			}
			snprintf(m->returned_to[0], sizeof(m->returned_to[0]), "%s", addr);
			m->returned_n = 1;
		}
		if (lend == end)
			break;
	}
}

void
cls_msg_parse(const char *raw, size_t len, const struct cls_opts *o, struct cls_msg *m,
    struct cls_result *r)
{
	struct mailimf_fields *fs = NULL;
	struct mailmime *mime = NULL;
	size_t idx = 0;

	memset(m, 0, sizeof(*m));
	m->o = o;
	/* A message saved from an mbox starts with its "From " separator line. */
	if (len >= 5 && strncmp(raw, "From ", 5) == 0) {
		const char *lf = memchr(raw, '\n', len);
		size_t skip = lf ? (size_t)(lf - raw) + 1 : len;
		raw += skip;
		len -= skip;
	}
	/* The MIME parse reads the headers too; on its own only when it fails. */
	if (mailmime_parse(raw, len, &idx, &mime) == MAILIMF_NO_ERROR) {
		if (mime->mm_type == MAILMIME_MESSAGE)
			read_headers(mime->mm_data.mm_message.mm_fields, o, r, &m->h, &m->failed);
		walk(m, mime, 0, 0);
	} else {
		idx = 0;
		if (mailimf_fields_parse(raw, len, &idx, &fs) == MAILIMF_NO_ERROR)
			read_headers(fs, o, r, &m->h, &m->failed);
	}
	m->notice_len = m->notice.len ? cls_notice_end(&m->notice) : 0;
	pasted_to(m);
	quoted_to(m);
	if (mime)
		mailmime_free(mime);
	if (fs)
		mailimf_fields_free(fs);
}

void
cls_msg_free(struct cls_msg *m)
{
	free(m->failed.data);
	free(m->notice.data);
	free(m->report.data);
	memset(m, 0, sizeof(*m));
}

/* ---- what kind of message ---- */

static int
looks_like_bounce(const struct cls_msg *m, const struct cls_result *r)
{
	static const char *const subjects[] = {
		"undeliver", "delivery status notification", "failure notice", "returned mail",
		"mail delivery fail", "delivery failure", "undelivered", "delivery failed",
		"mail system error", "nondeliverable", "non-deliverable", "could not deliver",
		"delivery notification", "mail delivery problem", "rejected:", "bounce",
		"message not delivered", "delivery has failed", "permanent error",
		"could not be delivered", "non-delivery", "nondelivery", "failed mail",
		"delivery warning", "delayed mail", "user unknown", "mail failure",
		"not delivered", "returned to sender", "delivery problem", "delivery error",
		/* French, German, Spanish, Portuguese, Italian (Exchange and ISPs) */
		"non remis", "non distribu", "impossible de remettre", "chec de la remise",
		"non d\xc3\xa9livr\xc3\xa9", "unzustellbar", "nicht zustellbar", "no se puede entregar",
		"no entregado", "n\xc3\xa3o entregue", "nao entregue", "non recapitabile", NULL
	};
	const struct cls_headers *h = &m->h;

	if (m->multipart_report || m->report.len || h->failed_recipients)
		return 1;
	/* Amazon SES's bounce notification, by email or through SNS (cls_mta.c reads it). */
	if (m->notice.data && cls_find_ci(m->notice.data, m->notice.len, "bouncedrecipients"))
		return 1;
	if (cls_from_mailer(h->from))
		return 1;
	/*
	 * RFC 3834 sends auto-replies to the return path, our VERP address:
	 * the token alone makes no bounce of a vacation notice.
	 */
	if (r->verp_token[0] && !cls_autoreply(h))
		return 1;
	return cls_has_any(h->subject, strlen(h->subject), subjects);
}

/*
 * Only the returned message names the recipient: its To:, when it had
 * exactly one and no Cc (our messages go to one subscriber each).
 */
static void
returned_recipient(const struct cls_msg *m, struct cls_result *r)
{
	const char *s = m->notice.data ? m->notice.data : "";
	char st[16];

	/* Sent on elsewhere (a list, a forward): the To: is not who failed. */
	if (m->returned_for[0] && m->returned_n == 1 && strcmp(m->returned_for, m->returned_to[0]) != 0)
		return;
	if (m->returned_n != 1 || m->returned_cc ||
	    cls_ours_or_sender(m->returned_to[0], &m->h, m->o) ||
	    strchr(m->returned_to[0], '@') == NULL)
		return;
	cls_find_failure_status(s, m->notice_len, st, sizeof(st));
	if (!st[0] && m->report.len)
		cls_find_failure_status(m->report.data, m->report.len, st, sizeof(st));
	cls_add_bounce(r, m->returned_to[0], st, cls_judge_hard(st, s, m->notice_len));
}

/*
 * The failed recipients of what looks like a bounce (the report was read
 * already): X-Failed-Recipients, its MTA's own format, the notice's text,
 * the returned message's To:. The first reader that names one wins.
 */
static void
find_bounces(const struct cls_msg *m, struct cls_result *r)
{
	struct cls_finding *f;

	if (r->n == 0 && m->failed.len)
		cls_scan_failed_header(&m->failed, m->notice.data, m->notice_len, r);
	if (r->n == 0)
		cls_mta_read(m, r);
	if (r->n == 0 && m->notice.len)
		cls_scan_notice(m->notice.data, m->notice_len, &m->h, m->o, r);
	if (r->n == 0)
		returned_recipient(m, r);
	if (r->n == 0 && (r->verp_token[0] || m->report.len || m->h.failed_recipients ||
	    m->multipart_report)) {
		/*
		 * A bounce whose recipient only the VERP token can name: the
		 * mailbox acts on it by the token; `herald classify` prints no line.
		 */
		f = cls_add_finding(r, CLS_BOUNCE);
		if (f && m->notice.len) {
			cls_find_failure_status(m->notice.data, m->notice_len, f->status,
			    sizeof(f->status));
			f->hard = cls_judge_hard(f->status, m->notice.data, m->notice_len);
		}
	}
}

/*
 * Mail to unsubscribe+TOKEN@ or to the unsubscribe address, whatever it
 * says; or any message whose subject or first own line is the request.
 */
static int
asks_unsubscribe(const struct cls_msg *m, const struct cls_result *r)
{
	const char *subject = cls_subject_core(m->h.subject), *first;
	size_t n;

	if (r->unsub_token[0] || r->to_unsubscribe || cls_request_line(subject, strlen(subject)))
		return 1;
	cls_first_own_line(&m->notice, &first, &n);
	return first && cls_request_line(first, n);
}

/*
 * A machine's answer that reports no failure: a receipt of success (RFC
 * 3464 delivered, relayed, expanded), a read receipt (RFC 8098), a
 * complaint (RFC 5965), a challenge to prove the sender human.
 */
static int
no_failure(const struct cls_msg *m, enum cls_dsn dsn, int bouncy)
{
	if (dsn == CLS_DSN_SUCCESS || (dsn == CLS_DSN_NONE && (m->feedback_report || m->disposition)))
		return 1;
	return dsn == CLS_DSN_NONE && !m->h.failed_recipients &&
	    cls_challenge(m, bouncy || cls_autoreply(&m->h));
}

int
classify(const char *raw, size_t len, const struct cls_opts *o, struct cls_result *r)
{
	struct cls_finding *f;
	struct cls_msg m;
	enum cls_dsn dsn;
	int machine, bouncy;

	memset(r, 0, sizeof(*r));
	cls_msg_parse(raw, len, o, &m, r);
	dsn = cls_dsn_report(&m.report, r);
	bouncy = dsn == CLS_DSN_FAILED || looks_like_bounce(&m, r);
	machine = no_failure(&m, dsn, bouncy);
	if (!machine && bouncy)
		find_bounces(&m, r);
	/*
	 * The bounce's link to the delivery when it did not come to the VERP
	 * address: only a returned message's own header, never a Message-ID
	 * quoted in the notice's text, which anyone can write.
	 */
	if (r->n > 0)
		snprintf(r->orig_id, sizeof(r->orig_id), "%s", m.orig_id);
	/* An auto-reply is never an unsubscribe, not even one sent to unsubscribe+TOKEN@. */
	if (r->n == 0 && (machine || cls_autoreply(&m.h)))
		cls_add_finding(r, CLS_AUTOREPLY);
	/*
	 * Written to subscribe+DETAIL@, which nothing else is: that decides
	 * whatever the text says. A reply to a confirmation's Message-ID
	 * ("join.TOKEN@") counts only when it asks nothing else.
	 */
	if (r->n == 0 && r->sub_detail[0] && (f = cls_add_finding(r, CLS_SUBSCRIBE)))
		snprintf(f->address, sizeof(f->address), "%s", m.h.from);
	if (r->n == 0 && asks_unsubscribe(&m, r) && (f = cls_add_finding(r, CLS_UNSUBSCRIBE)))
		snprintf(f->address, sizeof(f->address), "%s", m.h.from);
	if (r->n == 0 && strncmp(r->reply_id, "join.", 5) == 0 &&
	    (f = cls_add_finding(r, CLS_SUBSCRIBE)))
		snprintf(f->address, sizeof(f->address), "%s", m.h.from);
	if (r->n == 0)
		cls_add_finding(r, CLS_HUMAN);
	cls_msg_free(&m);
	return 0;
}
