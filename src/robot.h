/*
 * robot.h - herald's own short mails: the notice that an address is
 * unsubscribed, and the request to confirm an unsubscribe that came
 * without a token. Pure: the caller gives the time and the ids.
 *
 * Both answer a message, so both carry "Auto-Submitted: auto-replied"
 * (RFC 3834): an auto-responder must not answer them in turn.
 */
#ifndef HERALD_ROBOT_H
#define HERALD_ROBOT_H

#include "config.h"
#include "util.h"

struct robot_mail {
	const char *to;			/* the subscriber's address */
	const char *message_id;		/* without <> */
	const char *in_reply_to;	/* the request's Message-ID, or NULL */
	long long date;
};

/*
 * "You are unsubscribed": from sender.from, for list (its id; NULL: every
 * list). Appends the message to out; -1 when an address is unusable.
 */
int robot_unsubscribed(const struct config *c, const struct robot_mail *m, const char *list,
    struct buf *out);

/*
 * "Confirm your unsubscribe": from confirm_address (unsubscribe+TOKEN@),
 * which is also its Reply-To, so that replying to it confirms.
 */
int robot_confirm(const struct config *c, const struct robot_mail *m,
    const char *confirm_address, struct buf *out);

/*
 * "Confirm your subscription to list": from confirm_address
 * (subscribe+TOKEN@; also its Reply-To, so that replying confirms) when
 * not NULL, else from sender.from; with the link url when not NULL.
 * Auto-Submitted: auto-replied when it answers a mail (m->in_reply_to),
 * else auto-generated.
 */
int robot_join(const struct config *c, const struct robot_mail *m, const char *list,
    const char *confirm_address, const char *url, struct buf *out);

#endif
