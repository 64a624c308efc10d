/*
 * cls_reply.c - the machines' own answers that are no bounce: a mailer's
 * name, an auto-reply (RFC 3834, vacation, out of office), and a
 * challenge-response system's request that the sender prove to be human
 * (TMDA, Spam Arrest, Boxbe, Mailinblack, ChoiceMail and their kind) so
 * that the mail held back reaches its reader. The challenge is an
 * auto-reply: the address is good, its owner filters.
 */
#include "cls_int.h"

#include <string.h>

/* The sender's local part names a mailer: MAILER-DAEMON, postmaster, MDaemon, "Mail Delivery System". */
int
cls_from_mailer(const char *from)
{
	static const char *const names[] = { "mailer-daemon", "mailer_daemon", "mailerdaemon",
	    "postmaster", "post_master", "mdaemon", "mail.delivery", "mail-delivery",
	    "maildelivery", "mail-daemon", "maildaemon", NULL };
	const char *at = strchr(from, '@');

	return cls_has_any(from, at ? (size_t)(at - from) : strlen(from), names);
}

int
cls_autoreply(const struct cls_headers *h)
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
	return cls_has_any(h->subject, strlen(h->subject), subjects);
}

/* The services by name, in the sender's domain or the mailer. */
static const char *const services[] = {
	"spamarrest", "spam arrest", "boxbe", "mailinblack", "choicemail", "tmda", "sendio",
	"mailblocks", "bluebottle", "knowspam", "qurb", "spamcease", NULL
};

/* What only a challenge says: prove you are human, get on the list. */
static const char *const asks_proof[] = {
	"you are human", "you are a human", "you're human", "you're a human", "are a real person",
	"not a robot", "human sender", "real human", "not a spammer", "you are not a spam",
	"whitelist", "white list", "approved senders", "approved sender list", "guest list",
	"allowed senders", "list of approved", "safe sender list", "authorized senders",
	"challenge-response", "challenge/response", "challenge response", "spam control",
	"i use a spam", "i am using a spam", "i'm using a spam", "uses a spam", "anti-spam service",
	"antispam service", "spam protection", "spam-protection",
	"un humain", "liste blanche", "lista blanca", "ser humano", "menschlich", NULL
};

/* ...and asks the sender to act on it. */
static const char *const asks_act[] = {
	"verify", "verification", "confirm", "validate", "authenticate", "click", "reply to this",
	"v\xc3\xa9rifi", "confirmer", "valider", "authentifi", "verifica", "confirme",
	"best\xc3\xa4tig", NULL
};

int
cls_challenge(const struct cls_msg *m, int machine)
{
	const char *s = m->notice.data ? m->notice.data : "";
	const char *at = strchr(m->h.from, '@');
	size_t n = m->notice_len;

	if (m->h.challenge_header || cls_has_any(m->h.mailer, strlen(m->h.mailer), services))
		return 1;
	if (at && cls_has_any(at, strlen(at), services))
		return 1;
	/*
	 * By its words only what a machine sent (a person may well ask to be
	 * whitelisted), and never a mailer's notice: a spam block may tell
	 * how to get on a list, and it is still a bounce.
	 */
	return machine && !cls_from_mailer(m->h.from) && cls_has_any(s, n, asks_proof) &&
	    cls_has_any(s, n, asks_act);
}
