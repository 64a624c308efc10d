/*
 * cls_dsn.c - the standard report: the per-recipient blocks of an RFC
 * 3464 message/delivery-status part (or RFC 6533's global one), read with
 * libetpan's header parser.
 *
 * A recipient counts as failed when its Action is "failed" (or, with no
 * Action, its Status is 5.x.x). "delivered", "relayed" and "expanded" are
 * successes (a 2.x.x status), and a report of nothing else is no bounce
 * at all: a delivery receipt someone asked for with NOTIFY=SUCCESS.
 * "delayed" counts, soft, only in a report of delays alone (a warning).
 */
#include "cls_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <libetpan/libetpan.h>

/* What one block said about its recipient. */
enum block { BLOCK_NONE, BLOCK_FAILED, BLOCK_DELAYED, BLOCK_SUCCESS };

/* "rfc822; user@example.org" -> the address, lowercase, without <>. */
static int
dsn_address(const char *v, char *out, size_t size)
{
	const char *semi = strchr(v, ';'), *b, *e, *at;

	if (semi)
		v = semi + 1;
	at = strchr(v, '@');
	if (at == NULL || !cls_addr_at(v, v + strlen(v), at, &b, &e))
		return 0;
	cls_copy_lower(out, size, b, (size_t)(e - b));
	return 1;
}

static enum block
block_kind(const char *action, const char *st)
{
	static const char *const success[] = { "delivered", "relayed", "expanded", NULL };

	while (action && isspace((unsigned char)*action))
		action++;
	if (action && *action) {
		if (strncasecmp(action, "failed", 6) == 0)
			return st[0] == '2' ? BLOCK_SUCCESS : BLOCK_FAILED;
		if (strncasecmp(action, "delayed", 7) == 0)
			return BLOCK_DELAYED;
		return cls_starts_any(action, strlen(action), success) ? BLOCK_SUCCESS : BLOCK_NONE;
	}
	/* No Action: the Status alone. */
	return st[0] == '5' ? BLOCK_FAILED : st[0] == '4' ? BLOCK_DELAYED :
	    st[0] == '2' ? BLOCK_SUCCESS : BLOCK_NONE;
}

/*
 * One per-recipient block. The Original-Recipient (RFC 3464 2.3.1) is the
 * address as we sent it, before forwarding or aliases; the Final-Recipient
 * only when there is none. A delayed recipient is taken, soft, only when
 * the caller says so.
 */
static enum block
dsn_block(const char *s, size_t n, struct cls_result *r, int delayed)
{
	struct mailimf_fields *fs = NULL;
	const char *action, *status, *diag, *rcpt;
	char addr[256], st[16] = "";
	enum block kind = BLOCK_NONE;
	size_t idx = 0;

	while (n > 0 && (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 0 || mailimf_optional_fields_parse(s, n, &idx, &fs) != MAILIMF_NO_ERROR ||
	    fs == NULL)
		return BLOCK_NONE;
	action = cls_fields_get(fs, "Action");
	status = cls_fields_get(fs, "Status");
	diag = cls_fields_get(fs, "Diagnostic-Code");
	if (status)
		cls_find_enhanced(status, strlen(status), "245", st, sizeof(st));
	if (!st[0] && diag)
		cls_find_status(diag, strlen(diag), st, sizeof(st));
	kind = block_kind(action, st);
	rcpt = cls_fields_get(fs, "Original-Recipient");
	if (rcpt == NULL || !dsn_address(rcpt, addr, sizeof(addr))) {
		rcpt = cls_fields_get(fs, "Final-Recipient");
		if (rcpt == NULL || !dsn_address(rcpt, addr, sizeof(addr)))
			goto out;
	}
	if (kind == BLOCK_FAILED && !delayed)
		cls_add_bounce(r, addr, st, cls_judge_hard(st, diag ? diag : "",
		    diag ? strlen(diag) : 0));
	else if (kind == BLOCK_DELAYED && delayed)
		cls_add_bounce(r, addr, st, 0);
out:
	mailimf_fields_free(fs);
	return kind;
}

/* Each block, separated by empty lines; the first is per message. Returns the kinds seen. */
static unsigned
dsn_blocks(const struct cls_text *t, struct cls_result *r, int delayed)
{
	const char *s = t->data, *end, *p, *blank;
	unsigned seen = 0;

	end = s + t->len;
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
			seen |= 1u << dsn_block(p, (size_t)(end - p), r, delayed);
			break;
		}
		seen |= 1u << dsn_block(p, (size_t)(blank - p), r, delayed);
	}
	return seen;
}

enum cls_dsn
cls_dsn_report(const struct cls_text *t, struct cls_result *r)
{
	size_t before = r->n;
	unsigned seen;

	if (t->len == 0 || t->data == NULL)
		return CLS_DSN_NONE;
	seen = dsn_blocks(t, r, 0);
	if (r->n == before && (seen & (1u << BLOCK_DELAYED)))
		dsn_blocks(t, r, 1);
	if (r->n > before)
		return CLS_DSN_FAILED;
	if (seen == (1u << BLOCK_SUCCESS) || seen == ((1u << BLOCK_SUCCESS) | (1u << BLOCK_NONE)))
		return CLS_DSN_SUCCESS;
	return CLS_DSN_NONE;
}
