/*
 * t_classify.c - classify.c: the fields the IMAP side acts on that
 * `herald classify` does not print (to_unsubscribe, orig_id), the
 * unsubscribe request rule, the hard/soft rule of cls_status.c, what is
 * no bounce (success reports, receipts, complaints, challenges), and where
 * a failed address may stand; table-driven. The samples are written for
 * these tests from the RFCs and the formats as published.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "classify.h"
#include "cls_int.h"
#include "util.h"

static const struct cls_opts opts = { "bounces@ogp.example", "unsubscribe@ogp.example",
    "ogp.example", "subscribe@ogp.example" };

static struct cls_result
run(const char *msg, const struct cls_opts *o)
{
	struct cls_result r;

	if (classify(msg, strlen(msg), o, &r) == -1 || r.n == 0)
		fatalx("t_classify: classify found nothing");
	return r;
}

/* ---- to_unsubscribe ---- */

struct to_case {
	const char *headers;	/* the recipient headers */
	int to_unsubscribe;
	int tokened;		/* unsub_token is set */
	const char *name;
};

static const struct to_case to_cases[] = {
	{ "To: unsubscribe@ogp.example\n", 1, 0, "To: the bare address" },
	{ "To: Press <Unsubscribe@OGP.Example>\n", 1, 0, "To: compared case-insensitively" },
	{ "To: press@ogp.example\nCc: a@example.org, unsubscribe@ogp.example\n", 1, 0, "Cc:" },
	/* The server stamps these on every message of the mailbox: no request. */
	{ "To: press@ogp.example\nDelivered-To: unsubscribe@ogp.example\n", 0, 0,
	  "Delivered-To: is no request" },
	{ "To: undisclosed-recipients:;\nX-Original-To: <unsubscribe@ogp.example>\n", 0, 0,
	  "X-Original-To: is no request" },
	{ "To: unsubscribe+12-abcdefghijklmnopqrstuvwxyz12@ogp.example\n", 0, 1,
	  "the tokened address is a token, not the bare address" },
	{ "To: unsubscribe@other.example\n", 0, 0, "another domain's unsubscribe address" },
	{ "To: nounsubscribe@ogp.example\n", 0, 0, "a longer local part" },
	{ "To: press@ogp.example\n", 0, 0, "our press address" },
};

static void
test_to_unsubscribe(void)
{
	struct cls_result r;
	size_t i;
	char *msg;

	for (i = 0; i < ARRAY_LEN(to_cases); i++) {
		const struct to_case *c = &to_cases[i];
		msg = xasprintf("From: Ana <Ana@Example.ORG>\n%sSubject: hello\n\n"
		    "What is this list about?\n", c->headers);
		r = run(msg, &opts);
		is_int(r.to_unsubscribe, c->to_unsubscribe, c->name);
		is_int(r.unsub_token[0] != '\0', c->tokened, "  and its token");
		/* To the unsubscribe address, whatever the content: a request. */
		is_int(r.f[0].kind, c->to_unsubscribe || c->tokened ? CLS_UNSUBSCRIBE : CLS_HUMAN,
		    "  and its kind");
		if (r.f[0].kind == CLS_UNSUBSCRIBE)
			is_str(r.f[0].address, "ana@example.org", "  the sender, lowercase");
		cls_result_free(&r);
		free(msg);
	}
}

/* ---- orig_id ---- */

#define DSN_HEAD \
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n" \
	"To: press@ogp.example\n" \
	"Subject: Undelivered Mail Returned to Sender\n" \
	"MIME-Version: 1.0\n" \
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n" \
	"--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n" \
	"--B\nContent-Type: message/delivery-status\n\n" \
	"Reporting-MTA: dns; mx.example.net\n\n" \
	"Final-Recipient: rfc822; gone@example.net\nAction: failed\nStatus: 5.1.1\n\n"

struct id_case {
	const char *msg;
	const char *orig_id;
	const char *name;
};

static const struct id_case id_cases[] = {
	{ DSN_HEAD "--B\nContent-Type: message/rfc822\n\n"
	  "From: OGP <press@ogp.example>\nTo: gone@example.net\n"
	  "Message-ID: <ogp-2017.12-abcdefghijklmnop@ogp.example>\nSubject: x\n\nbody\n--B--\n",
	  "ogp-2017.12-abcdefghijklmnop@ogp.example", "message/rfc822: its Message-ID" },
	{ DSN_HEAD "--B\nContent-Type: text/rfc822-headers\nContent-Transfer-Encoding: quoted-printable\n\n"
	  "From: OGP <press@ogp.example>\nTo: gone@example.net\n"
	  "Message-ID: =\n<ogp-2017.13-abcdefghijklmnop@OGP.Example>\nSubject: x\n--B--\n",
	  "ogp-2017.13-abcdefghijklmnop@OGP.Example",
	  "text/rfc822-headers, quoted-printable, the domain in another case" },
	{ DSN_HEAD "--B\nContent-Type: message/rfc822\n\n"
	  "From: someone <a@example.com>\nMessage-ID: <1234@example.com>\nSubject: x\n\nbody\n--B--\n",
	  "", "a returned message that is not ours" },
	{ "From: MAILER-DAEMON@mail.example.org\nTo: press@ogp.example\nSubject: failure notice\n\n"
	  "Hi. This is the qmail-send program at mail.example.org.\n"
	  "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
	  "<nobody@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
	  "--- Below this line is a copy of the message.\n\n"
	  "Return-Path: <press@ogp.example>\nMessage-ID:\n <ogp-2017.14-abcdefghijklmnop@ogp.example>\n"
	  "To: nobody@example.org\n",
	  "", "qmail: a header quoted in the notice's text is not read (anyone can write it)" },
	{ "From: postmaster@example.com\nTo: press@ogp.example\nSubject: Undeliverable: OGP\n\n"
	  "Delivery to the following recipients failed.\n\n       gone@example.com\n\n"
	  "> Message-ID: <1@elsewhere.example>\n"
	  "> Message-ID: <ogp-2017.15-abcdefghijklmnop@ogp.example>\n",
	  "", "headers quoted with '> ' in the text: not read either" },
	{ "From: Ana <ana@example.org>\nTo: press@ogp.example\nSubject: question\n\n"
	  "Who speaks?\n\nMessage-ID: <ogp-2017.16-abcdefghijklmnop@ogp.example>\n",
	  "", "human mail quoting our Message-ID: no bounce, no orig_id" },
	{ DSN_HEAD "--B\nContent-Type: message/rfc822\n\n"
	  "Message-ID: <ogp-2017.17@notogp.example>\nSubject: x\n\nbody\n--B--\n",
	  "", "a domain that only ends like ours" },
};

static void
test_orig_id(void)
{
	static const struct cls_opts no_domain = { "bounces@ogp.example",
	    "unsubscribe@ogp.example", NULL, NULL };
	struct cls_result r;
	size_t i;

	for (i = 0; i < ARRAY_LEN(id_cases); i++) {
		r = run(id_cases[i].msg, &opts);
		is_str(r.orig_id, id_cases[i].orig_id, id_cases[i].name);
		cls_result_free(&r);
	}
	r = run(id_cases[0].msg, &opts);
	ok(r.f[0].kind == CLS_BOUNCE && strcmp(r.f[0].address, "gone@example.net") == 0 &&
	    r.verp_token[0] == '\0', "not to the VERP address: the bounce names its recipient");
	cls_result_free(&r);
	r = run(id_cases[0].msg, &no_domain);
	is_str(r.orig_id, "", "no msgid_domain: no orig_id");
	cls_result_free(&r);
}

/* ---- the request line ---- */

struct req_case {
	const char *subject;
	const char *body;
	enum cls_kind kind;
};

static const struct req_case req_cases[] = {
	/* As the subject, any number of reply prefixes. */
	{ "unsubscribe", "", CLS_UNSUBSCRIBE },
	{ "Re: Unsubscribe me", "Sent from my phone", CLS_UNSUBSCRIBE },
	{ "RE: Fwd: AW: please unsubscribe me!", "", CLS_UNSUBSCRIBE },
	{ "Re[2]: STOP", "", CLS_UNSUBSCRIBE },
	{ "RV: darme de baja", "", CLS_UNSUBSCRIBE },
	{ "Enc: descadastrar", "", CLS_UNSUBSCRIBE },
	{ "TR : désabonner", "", CLS_UNSUBSCRIBE },
	{ "=?utf-8?q?R=C3=A9f=2E_=3A_D=C3=A9sabonnez-moi?=", "", CLS_UNSUBSCRIBE },
	{ "=?iso-8859-1?q?cancelar_suscripci=F3n?=", "", CLS_UNSUBSCRIBE },
	{ "Re: remove me from this list, thanks", "", CLS_UNSUBSCRIBE },
	{ "Re: cancelar inscri\xc3\xa7\xc3\xa3o", "", CLS_UNSUBSCRIBE },	/* raw UTF-8 */
	{ "Re: Me d\xc3\xa9sabonner, merci", "", CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "", CLS_HUMAN },
	/* As the first own line of the body. */
	{ "Re: OGP Americas", "please remove me from this list\n", CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "\n\n  Stop.  \n\n> Dear journalists,\n", CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "Hola,\n\nquiero darme de baja, gracias\n", CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "Por favor, cancelar mi suscripci\xc3\xb3n de la lista.\n",
	  CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "Baja\n", CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "me descadastre da lista, obrigado\n", CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "Cancelar inscri\xe7\xe3o\n", CLS_UNSUBSCRIBE },	/* Latin-1 */
	{ "Re: OGP Americas", "Bonjour,\nSe d\xc3\xa9sinscrire s\xe2\x80\x99il vous pla\xc3\xaet\n",
	  CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "d\xc3\xa9sinscription\n", CLS_UNSUBSCRIBE },
	/* Not the request itself: a sentence that mentions it, a quote, a longer line. */
	{ "Re: OGP Americas", "I will never unsubscribe, this is great\n", CLS_HUMAN },
	{ "How do I stop getting two copies?", "", CLS_HUMAN },
	{ "Re: OGP Americas", "Don't remove me but change my address\n", CLS_HUMAN },
	{ "Stop the presses: who speaks on day two?", "", CLS_HUMAN },
	{ "Re: OGP Americas", "Thanks, see you there.\n\n> unsubscribe\n", CLS_HUMAN },
	{ "Re: OGP Americas", "> unsubscribe\nThanks, see you there.\n", CLS_HUMAN },
	{ "unsubscribed", "", CLS_HUMAN },
	{ "Re: OGP Americas", "stopped\n", CLS_HUMAN },
	{ "Re: OGP Americas", "stop \xf0\x9f\x98\x80\n", CLS_HUMAN },
	{ "Re: baja California", "", CLS_HUMAN },
	/* The list servers' command: the list named after the keyword (Majordomo, Listserv). */
	{ "unsubscribe ogp-americas", "", CLS_UNSUBSCRIBE },
	{ "UNSUBSCRIBE OGP.Americas", "", CLS_UNSUBSCRIBE },
	{ "unsubscribe ogp-news bea@example.com.ar", "", CLS_UNSUBSCRIBE },
	{ "signoff ogp-news", "", CLS_UNSUBSCRIBE },
	{ "Re: OGP Americas", "unsubscribe ogp-americas\n", CLS_UNSUBSCRIBE },
	{ "unsubscribe link broken", "", CLS_HUMAN },
	{ "Unsubscribe problem", "", CLS_HUMAN },
	{ "unsubscribe ogp-news tomorrow please", "", CLS_HUMAN },
	{ "Re: OGP Americas", "unsubscribe from what?\n", CLS_HUMAN },
};

/* The body for a test's name: newlines as "\n", 60 bytes at most. */
static void
one_line(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 3 < size && n < 60; s++) {
		if (*s == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

static void
test_request_line(void)
{
	struct cls_result r;
	char body[80];
	size_t i;
	char *msg;

	for (i = 0; i < ARRAY_LEN(req_cases); i++) {
		const struct req_case *c = &req_cases[i];
		msg = xasprintf("From: Bea <bea@example.com.ar>\nTo: press@ogp.example\n"
		    "Subject: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s",
		    c->subject, c->body);
		r = run(msg, &opts);
		one_line(c->body, body, sizeof(body));
		if (!ok(r.f[0].kind == c->kind, "%s: subject \"%s\", body \"%s\"",
		    cls_kind_name(c->kind), c->subject, body))
			tap_diag("got %s", cls_kind_name(r.f[0].kind));
		cls_result_free(&r);
		free(msg);
	}
}

/* An auto-reply to unsubscribe+TOKEN@ stays an auto-reply; a bounce wins over both. */
static void
test_precedence(void)
{
	static const char *const autoreplies[] = {
		"Auto-Submitted: auto-replied\n", "X-Autoreply: yes\n", "Precedence: auto_reply\n",
	};
	struct cls_result r;
	size_t i;
	char *msg;

	for (i = 0; i < ARRAY_LEN(autoreplies); i++) {
		msg = xasprintf("From: Carla <carla@example.org>\n"
		    "To: unsubscribe+14-abcdefghijklmnopqrstuvwxyz12@ogp.example\n%s"
		    "Subject: unsubscribe\n\nunsubscribe\n", autoreplies[i]);
		r = run(msg, &opts);
		is_int(r.f[0].kind, CLS_AUTOREPLY, "an auto-reply to unsubscribe+TOKEN@");
		cls_result_free(&r);
		free(msg);
	}
	r = run("From: MAILER-DAEMON@mx.example.net\nTo: unsubscribe@ogp.example\n"
	    "Subject: Undelivered Mail Returned to Sender\n\n"
	    "<gone@example.net>: host mx said: 550 5.1.1 User unknown\n", &opts);
	ok(r.f[0].kind == CLS_BOUNCE && r.f[0].hard && r.to_unsubscribe,
	    "a bounce to the unsubscribe address is a bounce");
	cls_result_free(&r);
}


/* ---- hard or soft: the table in cls_status.c ---- */

struct judge_case {
	const char *status;
	const char *reason;
	int hard;
};

static const struct judge_case judge_cases[] = {
	{ "5.1.1", "550 5.1.1 <a@example.net>: Recipient address rejected: User unknown", 1 },
	{ "5.1.1", "", 1 },				/* the code alone leans hard */
	{ "5.0.0", "", 0 },				/* says nothing: soft */
	{ "550", "", 0 },				/* 550 alone: soft */
	{ "550", "550 No such user here", 1 },
	{ "5.2.2", "552 5.2.2 Mailbox full", 0 },
	{ "5.2.2", "550 5.2.2 user unknown", 0 },		/* they disagree: soft */
	{ "5.1.1", "550 5.1.1 quota exceeded", 0 },		/* a full mailbox can empty */
	{ "5.7.1", "554 5.7.1 Message rejected as spam", 0 },
	{ "5.7.1", "550 5.7.1 Service unavailable; client host blocked using a blocklist", 0 },
	{ "5.7.1", "550 5.7.1 No such user", 1 },		/* a gateway's code for it */
	{ "5.4.4", "Host or domain name not found. Name service error", 1 },
	{ "5.1.2", "", 1 },
	{ "4.2.2", "452 4.2.2 user unknown", 0 },		/* a delay is never hard */
	{ "5.7.1", "550 5.7.1 Sender address rejected: Domain not found", 0 },
	{ "5.0.0", "551 <a@example.net> is a deactivated mailbox", 1 },
	{ "5.1.1", "550 5.1.1 Adresse d au moins un destinataire invalide", 1 },
	{ "5.2.2", "552 5.2.2 Boite du destinataire pleine", 0 },
	{ "5.0.0", "550 \xe5\xae\x9b\xe5\x85\x88\xe4\xb8\x8d\xe6\x98\x8e", 1 },	/* Japanese */
	{ "5.4.1", "550 5.4.1 Recipient address rejected: Access denied", 1 },
	{ "5.0.0", "550 Relay access denied", 0 },
};

static void
test_judge(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(judge_cases); i++) {
		const struct judge_case *c = &judge_cases[i];
		is_int(cls_judge_hard(c->status, c->reason, strlen(c->reason)), c->hard,
		    c->reason[0] ? c->reason : c->status);
	}
}

/* ---- no bounce, and where the failed address stands ---- */

#define REPORT(parts) \
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n" \
	"To: bounces+12-abcdefghijklmnopqrstuvwxyz12@ogp.example\n" \
	"Subject: Delivery Status Notification\nMIME-Version: 1.0\n" \
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n" \
	"--B\nContent-Type: text/plain\n\nA report on your message.\n\n" \
	"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" \
	parts "\n--B--\n"

struct kind_case {
	const char *msg;
	const char *want;	/* "auto-reply", "human", or the bounces "addr hard|soft;" (a
				   bounce that names nobody and has no token is left to a person) */
	const char *name;
};

static const struct kind_case kind_cases[] = {
	{ REPORT("Final-Recipient: rfc822; reader@example.net\nAction: delivered\nStatus: 2.1.5\n"),
	  "auto-reply", "a report of success (delivered, 2.1.5) is no bounce" },
	{ REPORT("Final-Recipient: rfc822; reader@example.net\nAction: relayed\nStatus: 2.0.0\n\n"
	  "Final-Recipient: rfc822; list@example.net\nAction: expanded\nStatus: 2.0.0\n"),
	  "auto-reply", "relayed and expanded are no failures either" },
	{ REPORT("Final-Recipient: rfc822; ok@example.net\nAction: delivered\nStatus: 2.1.5\n\n"
	  "Final-Recipient: rfc822; gone@example.net\nAction: failed\nStatus: 5.1.1\n"),
	  "gone@example.net hard;", "a mixed report: the failed one only" },
	{ "From: Ana <ana@example.org>\nTo: press@ogp.example\nSubject: Read: OGP Americas\n"
	  "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=disposition-notification; "
	  "boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nYour message was displayed.\n\n"
	  "--B\nContent-Type: message/disposition-notification\n\nReporting-UA: mua.example.org\n"
	  "Final-Recipient: rfc822; ana@example.org\n"
	  "Disposition: manual-action/MDN-sent-manually; displayed\n\n--B--\n",
	  "auto-reply", "a read receipt (RFC 8098) is no bounce" },
	{ "From: MAILER-DAEMON@mx.example.org\nTo: press@ogp.example\nSubject: Automatically rejected mail\n"
	  "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=disposition-notification; "
	  "boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\n"
	  "Your message to <full@example.org> was automatically rejected:\nQuota exceeded\n\n"
	  "--B\nContent-Type: message/disposition-notification\n\nReporting-UA: mx; Sieve\n"
	  "Final-Recipient: rfc822; full@example.org\n"
	  "Disposition: automatic-action/MDN-sent-automatically; deleted\n\n--B--\n",
	  "full@example.org soft;", "a Sieve reject (RFC 5429, \"deleted\") is a bounce" },
	{ "From: abuse@isp.example\nTo: bounces+12-abcdefghijklmnopqrstuvwxyz12@ogp.example\n"
	  "Subject: Abuse report\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\n\n"
	  "--B\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n"
	  "--B\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
	  "Original-Rcpt-To: reader@example.net\n\n--B--\n",
	  "auto-reply", "a complaint (ARF, RFC 5965) is no bounce" },
	/* Challenge-response: the recipient filters; the address is good. */
	{ "From: Reader <reader@example.net>\n"
	  "To: bounces+12-abcdefghijklmnopqrstuvwxyz12@ogp.example\n"
	  "Subject: Re: OGP Americas [please verify]\n\n"
	  "I am protecting myself from spam. Please confirm you are human so your mail\n"
	  "reaches me: click the link below once, and you are on my approved senders.\n",
	  "auto-reply", "a challenge by its words, to the VERP address: an auto-reply" },
	{ "From: Reader <reader@example.net>\nTo: press@ogp.example\n"
	  "Subject: Your message is awaiting verification\nX-Boxbe-Challenge: 1\n\n"
	  "Your message is waiting on my guest list.\n",
	  "auto-reply", "a challenge system's own header" },
	{ "From: Reader via filter <noreply@mailinblack.example>\n"
	  "To: bounces+12-abcdefghijklmnopqrstuvwxyz12@ogp.example\n"
	  "Subject: Votre message est en attente\n\n"
	  "Merci de confirmer que vous \xc3\xaates un humain : cliquez sur le lien.\n",
	  "auto-reply", "a challenge service by its sender's domain (French)" },
	{ "From: MAILER-DAEMON@mx.example.net\nTo: press@ogp.example\n"
	  "Subject: Undelivered Mail Returned to Sender\n\n"
	  "<gone@example.net>: host mx said: 550 5.7.1 blocked as spam; if you are human and\n"
	  "not a spammer, verify your server and ask to be whitelisted\n",
	  "gone@example.net soft;", "a mailer's spam block that speaks of whitelists stays a bounce" },
	{ "From: Ana <ana@example.org>\nTo: press@ogp.example\nSubject: whitelist\n\n"
	  "Please add us to your whitelist and confirm when done.\n",
	  "human", "a person asking to be whitelisted is human mail" },
	/* Where the failed address stands. */
	{ "From: postmaster@mx.example.net\nTo: press@ogp.example\nSubject: Delivery failure\n"
	  "X-Failed-Recipient: gone@example.net\n\nThe mailbox does not exist.\n",
	  "gone@example.net hard;", "only in an X-Failed-Recipient header" },
	{ "From: postmaster@mx.example.net\nTo: press@ogp.example\nSubject: Delivery failure\n\n"
	  "Mail to gone@example.net could not be delivered: user unknown.\n",
	  "gone@example.net hard;", "only in a free-text line of the notice" },
	{ "From: MAILER-DAEMON@mx.example.net\nTo: press@ogp.example\nSubject: Undeliverable\n"
	  "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
	  "--B\nContent-Type: text/plain\n\nYour message could not be delivered: "
	  "mailbox unavailable.\n\n--B\nContent-Type: message/rfc822\n\n"
	  "From: OGP <press@ogp.example>\nTo: Gone <gone@example.net>\nSubject: x\n\nbody\n--B--\n",
	  "gone@example.net hard;", "only in the returned message's To:" },
	{ "From: MAILER-DAEMON@mx.example.net\nTo: press@ogp.example\nSubject: Undeliverable\n"
	  "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
	  "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
	  "--B\nContent-Type: text/rfc822-headers\n\n"
	  "From: OGP <press@ogp.example>\nTo: Full <full@example.net>\nSubject: x\n--B--\n",
	  "full@example.net soft;", "only in the returned header part's To:" },
	{ "From: MAILER-DAEMON@mx.example.org\nTo: press@ogp.example\nSubject: failure notice\n\n"
	  "I'm afraid I wasn't able to deliver the following message.\n"
	  "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	  "Subject: OGP Americas\nTo: gone@example.org\n\n--- Below this line is a copy of the message.\n",
	  "gone@example.org soft;", "only in a To: quoted by the notice" },
	{ "From: MAILER-DAEMON@mx.example.net\nTo: press@ogp.example\nSubject: Undeliverable\n"
	  "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
	  "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
	  "--B\nContent-Type: message/rfc822\n\n"
	  "Received: from mx.example.net by relay.example.net for <member@elsewhere.example>;"
	  " Mon, 1 Jan 2026 00:00:00 +0000\n"
	  "From: OGP <press@ogp.example>\nTo: list@example.net\nSubject: x\n\nbody\n--B--\n",
	  "human", "a returned To: sent on elsewhere (Received: for another) names nobody" },
	{ "From: MAILER-DAEMON@mx.example.net\nTo: press@ogp.example\nSubject: Undeliverable\n"
	  "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
	  "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
	  "--B\nContent-Type: message/rfc822\n\n"
	  "From: OGP <press@ogp.example>\nTo: a@example.net, b@example.net\nSubject: x\n\nbody\n--B--\n",
	  "human", "two returned To: recipients: neither is sure (a person reads it)" },
};

static void
test_kinds(void)
{
	struct cls_result r;
	char got[512];
	size_t i, j, n;

	for (i = 0; i < ARRAY_LEN(kind_cases); i++) {
		const struct kind_case *c = &kind_cases[i];

		classify(c->msg, strlen(c->msg), &opts, &r);
		got[0] = '\0';
		for (j = n = 0; j < r.n && n < sizeof(got); j++) {
			if (r.f[j].kind != CLS_BOUNCE)
				n += (size_t)snprintf(got + n, sizeof(got) - n, "%s", cls_kind_name(r.f[j].kind));
			else if (r.f[j].address[0])
				n += (size_t)snprintf(got + n, sizeof(got) - n, "%s %s;", r.f[j].address,
				    r.f[j].hard ? "hard" : "soft");
		}
		is_str(got, c->want, c->name);
		cls_result_free(&r);
	}
}

/* ---- subscribe ---- */

struct sub_case {
	const char *headers;	/* recipients, and any more */
	enum cls_kind kind;
	const char *detail;	/* sub_detail */
	const char *name;
};

static const struct sub_case sub_cases[] = {
	{ "To: subscribe+press@ogp.example\n", CLS_SUBSCRIBE, "press",
	  "To: subscribe+LIST@ asks to join LIST" },
	{ "To: Subscribe+Press.EN_2@OGP.example\n", CLS_SUBSCRIBE, "press.en_2",
	  "a list id's characters, lowercased" },
	{ "To: desk@ogp.example\nCc: subscribe+energy@ogp.example\n", CLS_SUBSCRIBE, "energy",
	  "Cc: counts" },
	{ "To: subscribe+atg7xwpz-ujy-b4ygjmspkbx46ggh@ogp.example\n", CLS_SUBSCRIBE,
	  "atg7xwpz-ujy-b4ygjmspkbx46ggh", "a token takes the same place" },
	{ "To: unsubscribe+press@ogp.example\n", CLS_UNSUBSCRIBE, "",
	  "unsubscribe+X@ is no subscribe+X@" },
	{ "To: subscribe@ogp.example\n", CLS_HUMAN, "", "the bare address names no list" },
	{ "To: subscribe+press@other.example\n", CLS_HUMAN, "", "another domain's" },
	{ "To: press@ogp.example\nDelivered-To: subscribe+press@ogp.example\n", CLS_HUMAN, "",
	  "Delivered-To: is no request" },
	{ "To: subscribe+press@ogp.example\nAuto-Submitted: auto-replied\n", CLS_AUTOREPLY, "press",
	  "an auto-reply to it confirms nothing" },
	{ "To: desk@ogp.example\nIn-Reply-To: <join.abc-def-ghi@ogp.example>\n", CLS_SUBSCRIBE, "",
	  "a reply to a confirmation's Message-ID" },
	{ "To: desk@ogp.example\nIn-Reply-To: <release.abc-def-ghi@ogp.example>\n", CLS_HUMAN, "",
	  "a reply to a release is not" },
};

static void
test_subscribe(void)
{
	struct cls_result r;
	size_t i;
	char *msg;

	for (i = 0; i < ARRAY_LEN(sub_cases); i++) {
		const struct sub_case *c = &sub_cases[i];
		msg = xasprintf("From: Ana <Ana@Example.ORG>\n%sSubject: hello\n\n"
		    "Please add me.\n", c->headers);
		r = run(msg, &opts);
		is_str(cls_kind_name(r.f[0].kind), cls_kind_name(c->kind), c->name);
		is_str(r.sub_detail, c->detail, "  and the detail");
		if (r.f[0].kind == CLS_SUBSCRIBE)
			is_str(r.f[0].address, "ana@example.org", "  the sender, lowercase");
		cls_result_free(&r);
		free(msg);
	}
}

int
main(void)
{
	test_to_unsubscribe();
	test_subscribe();
	test_orig_id();
	test_request_line();
	test_precedence();
	test_judge();
	test_kinds();
	return done_testing();
}
