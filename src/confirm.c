/*
 * confirm.c - the confirmation an unsubscribe without proof asks for; see
 * confirm.h.
 */
#include "confirm.h"

#include <stdlib.h>

#include "log.h"
#include "render.h"
#include "robot.h"
#include "token.h"
#include "util.h"

int
confirm_ask(struct store *st, const struct config *c, const unsigned char *secret,
    const char *address, const char *in_reply_to, long long now, long long *cid)
{
	struct robot_mail rm = { address, NULL, in_reply_to, now };
	struct buf b = BUF_INIT;
	char token[TOKEN_MAX], *confirm_addr, *id;
	int rc;

	*cid = 0;
	if ((rc = store_is_suppressed(st, address, "")) != 0 ||
	    (rc = store_confirm_pending(st, address, now - CONFIRM_EVERY)) != 0)
		return rc < 0 ? -1 : 1;
	if (store_confirm_add(st, address, now, cid) < 0)
		return -1;
	token_make(secret, "c", (unsigned long long)*cid, address, (long)(now / 86400), token);
	confirm_addr = render_plus_address(c->sender.unsubscribe_address, token);
	id = xasprintf("confirm.%s@%s", token, c->sender.domain);
	rm.message_id = id;
	rc = 0;
	/* An In-Reply-To that does not fit the grammar is dropped, not the mail. */
	if (robot_confirm(c, &rm, confirm_addr, &b) == 0 ||
	    (rm.in_reply_to = NULL, robot_confirm(c, &rm, confirm_addr, &b)) == 0)
		rc = store_outbox_add(st, "confirmation", c->sender.bounce_address, address,
		    b.data, b.len, now) < 0 ? -1 : 0;
	else
		log_error("confirm", "cannot build the confirmation to %s", address);
	buf_free(&b);
	free(id);
	free(confirm_addr);
	return rc;
}
