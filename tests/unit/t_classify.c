/*
 * t_classify.c - classify.c: the fields the IMAP side acts on that
 * `herald classify` does not print (to_unsubscribe, orig_id), and the
 * unsubscribe request rule, table-driven.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "classify.h"
#include "util.h"

static const struct cls_opts opts = { "bounces@ogp.example", "unsubscribe@ogp.example",
    "ogp.example" };

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
	    "unsubscribe@ogp.example", NULL };
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

int
main(void)
{
	test_to_unsubscribe();
	test_orig_id();
	test_request_line();
	test_precedence();
	return done_testing();
}
