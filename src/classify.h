/*
 * classify.h - what a message in the mailbox is, from its bytes alone.
 *
 * Pure: no journal, no network, no clock. It parses with libetpan's RFC
 * 5322 and MIME parsers and reports findings; acting on them (verifying
 * tokens against the journal, suppressing, moving) is the caller's.
 *
 *   - a bounce: each failed recipient, hard or soft, with its status
 *     (from an RFC 3464 report, X-Failed-Recipients, one recogniser per
 *     MTA or provider format, the notice's free text, or the returned
 *     message's To:); hard only when the address itself is bad
 *     (cls_status.c has the rule); a recipient no reader can name is a
 *     finding with address "" that only the VERP token can place;
 *   - an unsubscribe: mail to unsubscribe+TOKEN@ or to the unsubscribe
 *     address itself, or any message whose subject or first own line is
 *     itself the request (English, Spanish, Portuguese, French, or a list
 *     server's "unsubscribe LIST");
 *   - a request to subscribe: mail to subscribe+LIST@, or the answer to
 *     a confirmation herald asked for (to subscribe+TOKEN@, or a reply to
 *     its Message-ID); never an auto-reply;
 *   - an auto-reply (RFC 3834, vacation, out of office), and the machines'
 *     answers that report no failure: a report of success (delivered,
 *     relayed, expanded), a read receipt, a complaint (ARF), a
 *     challenge-response system's request to prove the sender human;
 *   - otherwise human mail.
 */
#ifndef HERALD_CLASSIFY_H
#define HERALD_CLASSIFY_H

#include <stddef.h>

enum cls_kind { CLS_BOUNCE, CLS_UNSUBSCRIBE, CLS_SUBSCRIBE, CLS_AUTOREPLY, CLS_HUMAN };

struct cls_finding {
	enum cls_kind kind;
	int hard;		/* a bounce for a bad address */
	char address[256];	/* bounce: the failed recipient (lowercase); unsubscribe,
				   subscribe: the sender, "" when unknown */
	char status[16];	/* "5.1.1", or a reply code "550", or "" */
};

struct cls_opts {
	const char *bounce_address;	 /* bounces@example.org: VERP is bounces+TOKEN@ */
	const char *unsubscribe_address; /* unsubscribe@example.org */
	const char *msgid_domain;	 /* our Message-IDs end in @this */
	const char *subscribe_address;	 /* subscribe@example.org (subscribe+LIST@), or NULL */
};

struct cls_result {
	struct cls_finding *f;
	size_t n, cap;
	char verp_token[64];	/* from bounces+TOKEN@ among the recipients, or "" */
	char unsub_token[64];	/* from unsubscribe+TOKEN@, or "" */
	char sub_detail[136];	/* from subscribe+DETAIL@ (a list id, or a token), or "" */
	char reply_id[256];	/* the In-Reply-To/References id that is ours, or "" */
	char message_id[256];	/* the message's own Message-ID, without <> */
	int to_unsubscribe;	/* a recipient is the unsubscribe address itself */
	char orig_id[256];	/* bounce: the Message-ID in the returned message's
				   header (a message/rfc822 or text/rfc822-headers part)
				   when it is ours (ends in @msgid_domain), without <>,
				   or ""; never one quoted in the notice's text */
};

/* Always fills r with at least one finding; -1 only when raw is not a message at all. */
int classify(const char *raw, size_t len, const struct cls_opts *o, struct cls_result *r);
void cls_result_free(struct cls_result *r);

const char *cls_kind_name(enum cls_kind k);

#endif
