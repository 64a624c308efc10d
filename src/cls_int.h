/*
 * cls_int.h - the classifier's parts, shared among src/cls_*.c and
 * classify.c only; nothing outside the classifier includes it.
 *
 *   classify.c     the message taken apart (libetpan) and the decision
 *   cls_text.c     text helpers, findings
 *   cls_status.c   RFC 3463 status codes, SMTP reply codes, hard or soft
 *   cls_dsn.c      the standard report: RFC 3464 message/delivery-status
 *   cls_mta.c      one small recogniser per MTA or provider format
 *   cls_notice.c   the last resort: a failed address placed in free text
 *   cls_reply.c    auto-replies and challenge-response messages
 *   cls_request.c  an unsubscribe request in so many words
 *
 * Everything here is pure: a buffer in, findings out. Strings a function
 * returns point into its arguments; nothing here allocates for a caller
 * except cls_text_add (the caller frees t->data).
 */
#ifndef HERALD_CLS_INT_H
#define HERALD_CLS_INT_H

#include <stddef.h>

#include "classify.h"

struct mailimf_fields;
struct mailimf_field;

/* Inputs are untrusted: this much text is read, the rest ignored. */
#define CLS_TEXT_MAX (256 * 1024)
#define CLS_FINDINGS_MAX 64
#define CLS_DEPTH_MAX 16
#define CLS_RETURNED_MAX 4

struct cls_text {
	char *data;
	size_t len;
};

struct cls_headers {
	char from[256];		/* the sender's address, lowercase */
	char to[256];		/* the first To address, lowercase */
	char subject[512];
	char auto_submitted[64];
	char mailer[128];	/* X-Mailer, X-MLServer, X-ML-Name: who wrote it */
	int autoreply_header;	/* vacation and out-of-office markers */
	int challenge_header;	/* a challenge-response system's own header */
	int failed_recipients;	/* X-Failed-Recipients or its kin seen */
};

/* The message as classify() took it apart: what every recogniser reads. */
struct cls_msg {
	const struct cls_opts *o;
	struct cls_headers h;
	struct cls_text notice;	/* the human-readable parts, not the returned message */
	size_t notice_len;	/* of notice, before a returned message pasted into it */
	struct cls_text report;	/* message/delivery-status bodies */
	struct cls_text failed;	/* X-Failed-Recipients values */
	int multipart_report;
	int feedback_report;	/* RFC 5965 (ARF): a complaint, no failure */
	int disposition;	/* RFC 8098: a receipt (displayed, dispatched, processed) */
	char orig_id[256];	/* the returned message's Message-ID, when ours */
	/* The returned message's To: addresses (its header part, or pasted in). */
	char returned_to[CLS_RETURNED_MAX][256];
	int returned_n;
	int returned_cc;	/* it had Cc: recipients too */
	char returned_for[256];	/* its last Received: "for <addr>", the envelope's */
};

/* ---- cls_text.c ---- */
void cls_copy_lower(char *dst, size_t size, const char *s, size_t n);
const char *cls_find_ci(const char *s, size_t n, const char *needle);	/* needle lowercase */
int cls_has_any(const char *s, size_t n, const char *const *words);
int cls_starts_any(const char *s, size_t n, const char *const *prefixes);
int cls_line_blank(const char *s, const char *e);
/* The address around the '@' at `at` within [lo, hi) into [*b, *e); 0 when none. */
int cls_addr_at(const char *lo, const char *hi, const char *at, const char **b, const char **e);
/* The first address in [s, s + n), lowercase, into out; 0 when none. */
int cls_first_addr(const char *s, size_t n, char *out, size_t size);
void cls_text_add(struct cls_text *t, const char *s, size_t n);
const char *cls_opt_value(const struct mailimf_field *f, const char *name);
const char *cls_fields_get(const struct mailimf_fields *fs, const char *name);
struct cls_finding *cls_add_finding(struct cls_result *r, enum cls_kind kind);
int cls_have_bounce(const struct cls_result *r, const char *addr);
/* A bounce for addr with status st, hard or soft; NULL when addr has one or r is full. */
struct cls_finding *cls_add_bounce(struct cls_result *r, const char *addr, const char *st,
    int hard);
/* The notice goes to the original's sender, who is no failed recipient; nor are we. */
int cls_ours_or_sender(const char *addr, const struct cls_headers *h, const struct cls_opts *o);

/* ---- cls_status.c ---- */
int cls_find_enhanced(const char *s, size_t n, const char *classes, char *out, size_t size);
int cls_find_reply_code(const char *s, size_t n, char *out, size_t size);
void cls_find_status(const char *s, size_t n, char *out, size_t size);
void cls_find_failure_status(const char *s, size_t n, char *out, size_t size);
/* 1 hard, 0 soft, -1 when the words give no reason. */
int cls_reason_hard(const char *raw, size_t rawlen);
/* Hard or soft from the status ("5.1.1" or "550" or "") and the reason's words together. */
int cls_judge_hard(const char *status, const char *raw, size_t rawlen);

/* ---- cls_dsn.c ---- */
enum cls_dsn { CLS_DSN_NONE, CLS_DSN_FAILED, CLS_DSN_SUCCESS };
enum cls_dsn cls_dsn_report(const struct cls_text *t, struct cls_result *r);

/* ---- cls_mta.c ---- */
struct cls_mta {
	const char *name;
	/* The findings it adds to r (0: not this format, or nothing to name). */
	int (*read)(const struct cls_msg *m, struct cls_result *r);
};
extern const struct cls_mta cls_mtas[];
const struct cls_mta *cls_mta_find(const char *name);
int cls_mta_read(const struct cls_msg *m, struct cls_result *r);

/* ---- cls_notice.c ---- */
size_t cls_notice_end(const struct cls_text *t);
void cls_scan_notice(const char *s, size_t n, const struct cls_headers *h,
    const struct cls_opts *o, struct cls_result *r);
void cls_scan_failed_header(const struct cls_text *t, const char *notice, size_t n,
    struct cls_result *r);

/* ---- cls_reply.c ---- */
int cls_from_mailer(const char *from);
int cls_autoreply(const struct cls_headers *h);
/* machine: it looks like a bounce or an auto-reply already; only then do its words count. */
int cls_challenge(const struct cls_msg *m, int machine);

/* ---- cls_request.c ---- */
int cls_request_line(const char *s, size_t n);
const char *cls_subject_core(const char *s);
void cls_first_own_line(const struct cls_text *t, const char **line, size_t *n);

/* ---- classify.c ---- */
/* Takes raw apart into m (cls_msg_free after) and reads its tokens into r. */
void cls_msg_parse(const char *raw, size_t len, const struct cls_opts *o, struct cls_msg *m,
    struct cls_result *r);
void cls_msg_free(struct cls_msg *m);

#endif
