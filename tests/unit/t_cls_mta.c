/*
 * t_cls_mta.c - cls_mta.c: each recogniser on its own format, alone and
 * through classify(), and on formats not its own, where it adds nothing.
 *
 * The samples are written for these tests from each format as its MTA or
 * provider documents or publishes it; the addresses are example ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "classify.h"
#include "cls_int.h"
#include "util.h"

static const struct cls_opts opts = { "bounces@ogp.example", "unsubscribe@ogp.example",
    "ogp.example", NULL };

#define HEAD(from, subject) \
	"From: " from "\nTo: bounces+12-abcdefghijklmnopqrstuvwxyz12@ogp.example\n" \
	"Subject: " subject "\n"

struct mta_case {
	const char *mta;	/* the recogniser that reads it */
	const char *msg;
	const char *want;	/* "addr hard 5.1.1;addr soft -;" in order */
	const char *name;
};

static const struct mta_case cases[] = {
	{ "ses-json",
	  HEAD("no-reply@sns.example.com", "AWS Notification Message") "\n"
	  "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\","
	  "\"bounceSubType\":\"General\",\"bouncedRecipients\":[{\"emailAddress\":"
	  "\"gone@example.net\",\"action\":\"failed\",\"status\":\"5.1.1\",\"diagnosticCode\":"
	  "\"smtp; 550 5.1.1 user unknown\"}],\"timestamp\":\"2026-01-01T00:00:00.000Z\"}}\n",
	  "gone@example.net hard 5.1.1;", "Amazon SES: a permanent bounce, its status" },
	{ "ses-json",
	  HEAD("no-reply@sns.example.com", "AWS Notification Message") "\n"
	  "{\"Type\" : \"Notification\", \"Message\" : \"{\\\"notificationType\\\":\\\"Bounce\\\","
	  "\\\"bounce\\\":{\\\"bounceType\\\":\\\"Transient\\\",\\\"bounceSubType\\\":"
	  "\\\"MailboxFull\\\",\\\"bouncedRecipients\\\":[{\\\"emailAddress\\\":"
	  "\\\"full@example.net\\\"}]}}\"}\n",
	  "full@example.net soft -;", "Amazon SES through SNS, escaped: a transient one is soft" },
	{ "ses-json",
	  HEAD("no-reply@sns.example.com", "AWS Notification Message") "\n"
	  "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\","
	  "\"bounceSubType\":\"OnAccountSuppressionList\",\"bouncedRecipients\":[{"
	  "\"emailAddress\":\"suppressionlist@simulator.amazonses.com\"}]}}\n",
	  "suppressionlist@simulator.amazonses.com hard -;",
	  "Amazon SES: the simulator's suppression-list address, hard by its subtype" },
	{ "zoho",
	  HEAD("mailer-daemon@mx.zoho.example", "Undelivered Mail Returned to Sender") "\n"
	  "This message was created automatically by mail delivery software.\n"
	  "A message that you sent could not be delivered to one or more of its recipients.\n\n"
	  "gone@example.net Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <gone@example.net>..."
	  " User unknown\n"
	  "full@example.org, ERROR_CODE :552, ERROR_CODE :Requested mail action aborted, "
	  "exceeded storage allocation\n",
	  "gone@example.net hard 5.1.1;full@example.org soft 552;", "Zoho: one line per recipient" },
	{ "exchange",
	  HEAD("postmaster@example.com", "Undeliverable: OGP Americas") "\n"
	  "Delivery has failed to these recipients or groups:\n\n"
	  "Gone Reader\nThe e-mail address you entered couldn't be found.\n\n"
	  "Diagnostic information for administrators:\n\nGenerating server: mx.example.com\n\n"
	  "gone@example.com\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\n"
	  "Original message headers:\n\nTo: Gone Reader <gone@example.com>\n",
	  "gone@example.com hard 5.1.1;", "Exchange: the administrators' section" },
	{ "exchange",
	  HEAD("postmaster@example.com", "Undeliverable: OGP Americas") "\n"
	  "Diagnostic information for administrators:\n\nGenerating server: mx.example.com\n\n"
	  "full@example.com\nRemote Server returned '554 5.2.2 mailbox full; "
	  "STOREDRV.Deliver.Exception:QuotaExceededException'\n",
	  "full@example.com soft 5.2.2;", "Exchange: Remote Server returned, mailbox full" },
	{ "listing",
	  HEAD("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Mail delivery failed") "\n"
	  "This message was created automatically by mail delivery software.\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n\n"
	  "  gone@example.org\n"
	  "    SMTP error from remote mail server after RCPT TO:<gone@example.org>:\n"
	  "    host mx.example.org [192.0.2.1]: 550 5.1.1 No such user here\n"
	  "  full@example.org\n"
	  "    SMTP error from remote mail server after RCPT TO:<full@example.org>:\n"
	  "    host mx.example.org [192.0.2.1]: 552 5.2.2 Mailbox full\n\n"
	  "------ This is a copy of the message, including all the headers. ------\n\n"
	  "To: someone@example.com\n",
	  "gone@example.org hard 5.1.1;full@example.org soft 5.2.2;",
	  "Exim: each address and its reason below it" },
	{ "listing",
	  HEAD("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Warning: message delayed") "\n"
	  "This message was created automatically by mail delivery software.\n"
	  "A message that you sent has not yet been delivered to one or more of its\n"
	  "recipients after more than 24 hours on the queue on mx.example.org.\n\n"
	  "The address to which the message has not yet been delivered is:\n\n"
	  "  slow@example.org\n"
	  "    Delay reason: SMTP error from remote mail server after RCPT TO:<slow@example.org>:\n"
	  "    host mx.example.org [192.0.2.1]: 550 5.1.1 unknown user\n\n"
	  "No action is required on your part.\n",
	  "slow@example.org soft 5.1.1;", "Exim's delay warning: soft, whatever it quotes" },
	{ "listing",
	  HEAD("MAILER-DAEMON@mx.example.net", "Returned mail: see transcript for details") "\n"
	  "   ----- The following addresses had permanent fatal errors -----\n"
	  "<gone@example.net>\n    (reason: 550 5.1.1 <gone@example.net>... User unknown)\n\n"
	  "   ----- Transcript of session follows -----\n",
	  "gone@example.net hard 5.1.1;", "Sendmail: permanent fatal errors" },
	{ "listing",
	  HEAD("MAILER-DAEMON@mx.example.net", "Warning: could not send message for past 4 hours") "\n"
	  "    **********************************************\n"
	  "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
	  "    **********************************************\n\n"
	  "   ----- The following addresses had transient non-fatal errors -----\n"
	  "<slow@example.net>\n\n   ----- Transcript of session follows -----\n"
	  "<slow@example.net>... Deferred: Connection timed out with mx.example.net.\n",
	  "slow@example.net soft -;", "Sendmail: transient non-fatal errors are soft" },
	{ "listing",
	  HEAD("MAILER-DAEMON@james.example.org", "Mail delivery failure") "\n"
	  "Hi. This is the James mail server at james.example.org.\n"
	  "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	  "This is a permanent error; I've given up. Sorry it didn't work out.  Below\n"
	  "I include the list of recipients and the reason why I was unable to deliver\n"
	  "your message.\n\nFailed recipient(s):\ngone@example.org\n\nError message:\n"
	  "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown\n",
	  "gone@example.org hard 5.1.1;", "Apache James: its recipients and one error message" },
	{ "listing",
	  HEAD("Postmaster@notes.example.com", "DELIVERY FAILURE: User gone not listed") "\n"
	  "Your message\n\n  Subject: OGP Americas\n\nwas not delivered to:\n\n"
	  "  gone@notes.example.com\n\nbecause:\n\n"
	  "  User gone (gone@notes.example.com) not listed in Domino Directory\n",
	  "gone@notes.example.com hard -;", "Lotus Domino: the reason below \"because:\"" },
	{ "listing",
	  HEAD("Mail Delivery Subsystem <mailer-daemon@googlemail.example>",
	  "Delivery Status Notification (Failure)") "\n"
	  "Delivery to the following recipient failed permanently:\n\n     gone@example.com\n\n"
	  "Technical details of permanent failure:\n"
	  "The email account that you tried to reach does not exist. Please try\n"
	  "double-checking the recipient's email address for typos. 550 5.1.1\n",
	  "gone@example.com hard 5.1.1;", "Gmail, the older notice" },
	{ "listing",
	  HEAD("MAILER-DAEMON@amazonses.example", "Delivery Status Notification (Failure)") "\n"
	  "An error occurred while trying to deliver the mail to the following recipients:\n"
	  "gone@example.com\n",
	  "gone@example.com soft -;", "Amazon SES's plain notice: no reason, so soft" },
	{ "listing",
	  HEAD("Postmaster@mobile.example.jp", "Mail Delivery Failure") "\n"
	  "The following recipients did not receive this message:\n\n"
	  "<gone@mobile.example.jp>\n\n"
	  "Please reply to <Postmaster@mobile.example.jp>\nif you feel this message to be in error.\n",
	  "gone@mobile.example.jp soft -;", "a Japanese carrier's English notice" },
	{ "listing",
	  HEAD("MAILER-DAEMON@mx.example.fr", "Echec de la remise du message") "\n"
	  "Votre message n'a pas pu etre remis aux destinataires suivants :\n\n"
	  "  absent@example.fr\n    550 5.1.1 Adresse d au moins un destinataire invalide.\n"
	  "    Invalid recipient. OFR_416\n",
	  "absent@example.fr hard 5.1.1;", "a French ISP: the address below its listing" },
	{ "sentence",
	  HEAD("Mail Delivery Subsystem <mailer-daemon@googlemail.example>",
	  "Delivery Status Notification (Failure)") "\n"
	  "** Address not found **\n\n"
	  "Your message wasn't delivered to gone@example.com because the address couldn't be\n"
	  "found, or is unable to receive mail.\n\nThe response was:\n\n"
	  "550 5.1.1 The email account that you tried to reach does not exist.\n",
	  "gone@example.com hard 5.1.1;", "Gmail: wasn't delivered to ADDRESS" },
	{ "sentence",
	  HEAD("Mail Delivery Subsystem <mailer-daemon@googlemail.example>",
	  "Delivery Status Notification (Delay)") "\n"
	  "** Delivery incomplete **\n\n"
	  "There was a temporary problem delivering your message to slow@example.com. Gmail\n"
	  "will retry for 47 more hours.\n",
	  "slow@example.com soft -;", "Gmail: a temporary problem is soft" },
	{ "sentence",
	  HEAD("postmaster@outlook.example", "Undeliverable: OGP Americas") "\n"
	  "Your message to gone@example.com couldn't be delivered.\n"
	  "gone wasn't found at example.com.\n",
	  "gone@example.com hard -;", "Office 365: your message to ADDRESS couldn't be delivered" },
	{ "sentence",
	  HEAD("MAILER-DAEMON@laposte.example", "Message non remis") "\n"
	  "Bonjour. Votre message n'a pas pu \xc3\xaatre remis \xc3\xa0 absent@example.fr :\n"
	  "bo\xc3\xaete aux lettres pleine.\n",
	  "absent@example.fr soft -;", "French: n'a pas pu être remis à ADDRESS, mailbox full" },
};

/* The findings as "addr hard 5.1.1;" each, in order. */
static void
findings(const struct cls_result *r, char *out, size_t size)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < r->n && n < size; i++)
		if (r->f[i].kind == CLS_BOUNCE)
			n += (size_t)snprintf(out + n, size - n, "%s %s %s;", r->f[i].address,
			    r->f[i].hard ? "hard" : "soft", r->f[i].status[0] ? r->f[i].status : "-");
}

static void
test_own_format(void)
{
	struct cls_result r;
	struct cls_msg m;
	char got[512];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const struct cls_mta *t = cls_mta_find(cases[i].mta);

		if (!ok(t != NULL, "recogniser %s exists", cases[i].mta))
			continue;
		memset(&r, 0, sizeof(r));
		cls_msg_parse(cases[i].msg, strlen(cases[i].msg), &opts, &m, &r);
		t->read(&m, &r);
		findings(&r, got, sizeof(got));
		is_str(got, cases[i].want, cases[i].name);
		cls_msg_free(&m);
		cls_result_free(&r);
		classify(cases[i].msg, strlen(cases[i].msg), &opts, &r);
		findings(&r, got, sizeof(got));
		is_str(got, cases[i].want, "  and so says classify()");
		cls_result_free(&r);
	}
}

/* Messages no recogniser may claim. */
static const char *const foreign[] = {
	"From: Ana <ana@example.org>\nTo: press@ogp.example\nSubject: Your message to the minister\n\n"
	"Your message to press@ogp.example could not be clearer, thanks.\n",
	"From: Ana <ana@example.org>\nTo: press@ogp.example\nSubject: question\n\n"
	"Who speaks on the second day? ERROR_CODE is not a thing I know.\n",
	"From: MAILER-DAEMON@mx.example.org\nTo: press@ogp.example\nSubject: failure notice\n\n"
	"Hi. This is the qmail-send program at mx.example.org.\n"
	"<nobody@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n",
};

static void
test_foreign(void)
{
	struct cls_result r;
	struct cls_msg m;
	size_t i, j;

	for (i = 0; cls_mtas[i].name; i++) {
		for (j = 0; j < ARRAY_LEN(foreign); j++) {
			memset(&r, 0, sizeof(r));
			cls_msg_parse(foreign[j], strlen(foreign[j]), &opts, &m, &r);
			cls_mtas[i].read(&m, &r);
			if (!ok(r.n == 0, "%s adds nothing to foreign message %zu", cls_mtas[i].name, j))
				tap_diag("got %s", r.f[0].address);
			cls_msg_free(&m);
			cls_result_free(&r);
		}
	}
}

int
main(void)
{
	test_own_format();
	test_foreign();
	return done_testing();
}
