/*
 * robot.c - herald's own short mails; see robot.h.
 */
#include "robot.h"

#include <stdlib.h>
#include <string.h>

#include "message.h"

static void
robot_base(const struct config *c, const struct robot_mail *r, struct message *m)
{
	memset(m, 0, sizeof(*m));
	m->from_name = c->sender.from_name;
	m->from_addr = c->sender.from_addr;
	m->to_addr = r->to;
	m->message_id = r->message_id;
	m->in_reply_to = r->in_reply_to;
	m->date = r->date;
	m->robot = MESSAGE_AUTO_REPLIED;
}

int
robot_unsubscribed(const struct config *c, const struct robot_mail *r, const char *list,
    struct buf *out)
{
	struct message m;
	char *subject, *text;
	int rc;

	robot_base(c, r, &m);
	if (list) {
		subject = xasprintf("You are unsubscribed from %s", list);
		text = xasprintf("%s will get no more mail from the list %s.\n\n"
		    "Nothing else is needed. If this was a mistake, write to %s.\n",
		    r->to, list, c->sender.from_addr);
	} else {
		subject = xstrdup("You are unsubscribed");
		text = xasprintf("%s will get no more mail from %s.\n\n"
		    "Nothing else is needed. If this was a mistake, write to %s.\n",
		    r->to, c->sender.domain, c->sender.from_addr);
	}
	m.subject = subject;
	m.text = text;
	rc = message_build(&m, out);
	free(subject);
	free(text);
	return rc;
}

int
robot_confirm(const struct config *c, const struct robot_mail *r, const char *confirm_address,
    struct buf *out)
{
	struct message m;
	char *text;
	int rc;

	robot_base(c, r, &m);
	m.from_addr = confirm_address;
	m.reply_to = confirm_address;
	m.subject = "Confirm: unsubscribe";
	text = xasprintf("Someone, perhaps you, asked that %s get no more mail from %s.\n\n"
	    "To confirm, reply to this message, or send any message to\n%s\n\n"
	    "If you did not ask, do nothing: you stay subscribed.\n",
	    r->to, c->sender.domain, confirm_address);
	m.text = text;
	rc = message_build(&m, out);
	free(text);
	return rc;
}

int
robot_join(const struct config *c, const struct robot_mail *r, const char *list,
    const char *confirm_address, const char *url, struct buf *out)
{
	struct message m;
	struct buf text = BUF_INIT;
	char *subject;
	int rc;

	robot_base(c, r, &m);
	if (r->in_reply_to == NULL)
		m.robot = MESSAGE_AUTO_GENERATED;
	if (confirm_address) {
		m.from_addr = confirm_address;
		m.reply_to = confirm_address;
	}
	subject = xasprintf("Confirm: subscribe to %s", list);
	m.subject = subject;
	buf_addf(&text, "Someone, perhaps you, asked that %s get the mail of the list %s "
	    "from %s.\n\n", r->to, list, c->sender.domain);
	if (url)
		buf_addf(&text, "To confirm, open this link and press the button:\n%s\n\n", url);
	if (confirm_address)
		buf_addf(&text, "%s reply to this message, or send any message to\n%s\n\n",
		    url ? "Or" : "To confirm,", confirm_address);
	buf_adds(&text, "This works for seven days. If you did not ask, do nothing: you will "
	    "not be subscribed.\n");
	m.text = buf_str(&text);
	rc = message_build(&m, out);
	buf_free(&text);
	free(subject);
	return rc;
}
