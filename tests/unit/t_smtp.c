/*
 * t_smtp.c - smtp_classify, smtp_is_hard_bounce, smtp_is_slow_down: tables
 * of (CURLcode, response code, last reply) -> outcome.
 *
 * The curl codes are what libcurl 7.88.1 reports against Postfix's
 * smtp-sink faults (see tests/integration/smtp-faults.t): 55 for a refused
 * MAIL/RCPT/DATA, 8 for a refused greeting or final dot, 56 when the server
 * hangs up, 28 on a timeout.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

#include "smtp.h"
#include "util.h"

#define STRERROR NULL	/* expect curl_easy_strerror(curl_code) as the text */

struct classify_case {
	const char *name;
	int curl_code;
	long response;
	const char *reply;
	enum smtp_result result;
	enum smtp_cause cause;
	int code;
	const char *enhanced;
	const char *text;
};

static const struct classify_case cases[] = {
	{ "250 after the dot", CURLE_OK, 250, "250 2.0.0 Ok: queued as 4Xk\r\n",
	  SMTP_OK, SMTP_CAUSE_REPLY, 250, "2.0.0", "Ok: queued as 4Xk" },
	{ "250 without an enhanced code", CURLE_OK, 250, "250 Ok\r\n",
	  SMTP_OK, SMTP_CAUSE_REPLY, 250, "", "Ok" },
	{ "CURLE_OK but no reply seen", CURLE_OK, 250, "",
	  SMTP_OK, SMTP_CAUSE_REPLY, 250, "", "" },
	{ "CURLE_OK with no response code is not a success", CURLE_OK, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", "no reply to the end of the message" },
	{ "-r RCPT: 450 on RCPT", CURLE_SEND_ERROR, 450, "450 4.3.0 Error: command failed\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.3.0", "Error: command failed" },
	{ "-b: mailbox full", CURLE_SEND_ERROR, 452, "452 4.2.2 mailbox full\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 452, "4.2.2", "mailbox full" },
	{ "-f RCPT: 500 on RCPT", CURLE_SEND_ERROR, 500, "500 5.3.0 Error: command failed\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 500, "5.3.0", "Error: command failed" },
	{ "user unknown", CURLE_SEND_ERROR, 550, "550 5.1.1 <x@y>: Recipient address rejected\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.1.1", "<x@y>: Recipient address rejected" },
	{ "-f .: 500 after the dot is curl 8", CURLE_WEIRD_SERVER_REPLY, 500,
	  "500 5.3.0 Error: command failed\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 500, "5.3.0", "Error: command failed" },
	{ "-r .: 450 after the dot is curl 8", CURLE_WEIRD_SERVER_REPLY, 450,
	  "450 4.3.0 Error: command failed\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.3.0", "Error: command failed" },
	{ "-Q MAIL: 421 and hang up", CURLE_SEND_ERROR, 421, "421 4.0.0 Server closing connection\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 421, "4.0.0", "Server closing connection" },
	{ "-q DATA: a stale 250 is not trusted", CURLE_RECV_ERROR, 250, "250 2.1.5 Ok\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "-q .: a stale 354 is not trusted", CURLE_RECV_ERROR, 354,
	  "354 End data with <CR><LF>.<CR><LF>\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "send error with a stale 250", CURLE_SEND_ERROR, 250, "250 2.1.5 Ok\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "weird reply that is no failure", CURLE_WEIRD_SERVER_REPLY, 250, "250 2.1.5 Ok\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "garbage instead of a reply", CURLE_WEIRD_SERVER_REPLY, 0, "hello?\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "got nothing", CURLE_GOT_NOTHING, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "timeout after the dot", CURLE_OPERATION_TIMEDOUT, 354, "354 go ahead\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "partial file", CURLE_PARTIAL_FILE, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "connection refused", CURLE_COULDNT_CONNECT, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_CONNECT, 0, "", STRERROR },
	{ "unknown host", CURLE_COULDNT_RESOLVE_HOST, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_CONNECT, 0, "", STRERROR },
	{ "EHLO and HELO refused: the session, not the message", CURLE_REMOTE_ACCESS_DENIED, 550,
	  "550 5.7.1 go away\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_CONNECT, 550, "5.7.1", "go away" },
	{ "login refused", CURLE_LOGIN_DENIED, 535,
	  "535 5.7.8 Authentication credentials invalid\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_AUTH, 535, "5.7.8", "Authentication credentials invalid" },
	{ "login refused, no reply kept", CURLE_LOGIN_DENIED, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_AUTH, 0, "", STRERROR },
	{ "auth error", CURLE_AUTH_ERROR, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_AUTH, 0, "", STRERROR },
	{ "530 authentication required is configuration", CURLE_SEND_ERROR, 530,
	  "530 5.7.0 Authentication required\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_AUTH, 530, "5.7.0", "Authentication required" },
	{ "certificate refused", CURLE_PEER_FAILED_VERIFICATION, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_TLS, 0, "", STRERROR },
	{ "handshake failed", CURLE_SSL_CONNECT_ERROR, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_TLS, 0, "", STRERROR },
	{ "STARTTLS not offered: EHLO's 250 is not the cause", CURLE_USE_SSL_FAILED, 250,
	  "250-smtp.example\r\n250 SIZE 1000\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_TLS, 0, "", STRERROR },
	{ "STARTTLS refused", CURLE_USE_SSL_FAILED, 454, "454 4.7.0 TLS not available\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_TLS, 454, "4.7.0", "TLS not available" },
	{ "bad CA file", CURLE_SSL_CACERT_BADFILE, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_TLS, 0, "", STRERROR },
	{ "something unexpected", CURLE_OUT_OF_MEMORY, 0, "",
	  SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", STRERROR },
	{ "reply and response code disagree: the code wins", CURLE_SEND_ERROR, 451,
	  "250 2.1.0 Ok\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 451, "", STRERROR },

	/* Reading the reply. */
	{ "multi-line reply joined, repeated enhanced code dropped", CURLE_SEND_ERROR, 550,
	  "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
	  "550-5.1.1 Please try double-checking the recipient's email\r\n"
	  "550 5.1.1 address for typos. x-gsmtp\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.1.1",
	  "The email account that you tried to reach does not exist. "
	  "Please try double-checking the recipient's email address for typos. x-gsmtp" },
	{ "multi-line reply without enhanced codes", CURLE_SEND_ERROR, 451,
	  "451-first\r\n451 second\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 451, "", "first second" },
	{ "bare LF line ends", CURLE_SEND_ERROR, 450, "450 4.2.0 busy\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.2.0", "busy" },
	{ "a code alone", CURLE_SEND_ERROR, 554, "554\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 554, "", "" },
	{ "an enhanced code alone", CURLE_SEND_ERROR, 554, "554 5.7.1\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 554, "5.7.1", "" },
	{ "enhanced code of another class is text", CURLE_SEND_ERROR, 550, "550 4.7.1 odd\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "", "4.7.1 odd" },
	{ "not an enhanced code: too many digits", CURLE_SEND_ERROR, 550,
	  "550 5.1234.1 text\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "", "5.1234.1 text" },
	{ "not an enhanced code: glued to the text", CURLE_SEND_ERROR, 550, "550 5.1.1x text\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "", "5.1.1x text" },
	{ "three-digit parts", CURLE_SEND_ERROR, 550, "550 5.1.10 null MX\r\n",
	  SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.1.10", "null MX" },
	{ "control characters become spaces", CURLE_SEND_ERROR, 450,
	  "450 4.3.0 a\tb\033c\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.3.0", "a b c" },
	{ "UTF-8 text kept", CURLE_SEND_ERROR, 450, "450 4.2.1 buzón lleno\r\n",
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.2.1", "buzón lleno" },
	{ "NULL reply", CURLE_SEND_ERROR, 450, NULL,
	  SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "", STRERROR },
};

static void
test_classify(void)
{
	struct smtp_reply r;
	char name[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const struct classify_case *c = &cases[i];
		const char *text = c->text ? c->text : curl_easy_strerror((CURLcode)c->curl_code);

		memset(&r, 0x5a, sizeof(r));
		smtp_classify(c->curl_code, c->response, c->reply, &r);
		snprintf(name, sizeof(name), "%s: result", c->name);
		is_int(r.result, c->result, name);
		snprintf(name, sizeof(name), "%s: cause", c->name);
		is_int(r.cause, c->cause, name);
		snprintf(name, sizeof(name), "%s: code", c->name);
		is_int(r.code, c->code, name);
		snprintf(name, sizeof(name), "%s: enhanced", c->name);
		is_str(r.enhanced, c->enhanced, name);
		snprintf(name, sizeof(name), "%s: text", c->name);
		is_str(r.text, text, name);
	}
}

static void
test_long_text(void)
{
	struct smtp_reply r;
	struct buf raw = BUF_INIT;
	size_t i, len;

	buf_adds(&raw, "550 5.7.1 ");
	for (i = 0; i < 300; i++)
		buf_adds(&raw, "é");		/* 2 bytes each: 600 bytes of text */
	buf_adds(&raw, "\r\n");
	smtp_classify(CURLE_SEND_ERROR, 550, raw.data, &r);
	len = strlen(r.text);
	ok(len < sizeof(r.text), "a long text is cut to fit (%zu bytes)", len);
	ok(len % 2 == 0 && len >= sizeof(r.text) - 3, "and cut between characters");
	ok((unsigned char)r.text[len - 1] == 0xa9, "ending in a whole character");
	buf_free(&raw);

	buf_adds(&raw, "550-5.1.1 first\r\n");
	for (i = 0; i < 200; i++)
		buf_adds(&raw, "550-5.1.1 a continuation line that goes on\r\n");
	buf_adds(&raw, "550 5.1.1 last\r\n");
	smtp_classify(CURLE_SEND_ERROR, 550, raw.data, &r);
	is_str(r.enhanced, "5.1.1", "a very long multi-line reply: enhanced code");
	ok(strncmp(r.text, "first a continuation", 20) == 0, "and its text starts right");
	buf_free(&raw);
}

struct flag_case {
	const char *name;
	enum smtp_result result;
	enum smtp_cause cause;
	int code;
	const char *enhanced;
	int want;
};

static const struct flag_case hard[] = {
	{ "5.1.1 user unknown", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.1.1", 1 },
	{ "5.1.2 bad domain", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.1.2", 1 },
	{ "5.1.3 bad syntax", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 501, "5.1.3", 1 },
	{ "5.1.10 null MX", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 556, "5.1.10", 1 },
	{ "5.2.1 mailbox disabled", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.2.1", 1 },
	{ "5.1.0 is not one of them", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.1.0", 0 },
	{ "5.1.100 is not 5.1.10", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.1.100", 0 },
	{ "5.2.2 mailbox full is soft", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 552, "5.2.2", 0 },
	{ "5.7.1 policy", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 554, "5.7.1", 0 },
	{ "5.3.0 (smtp-sink -f)", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 500, "5.3.0", 0 },
	{ "550 without an enhanced code", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "", 0 },
	{ "4.1.1 is temporary", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.1.1", 0 },
	{ "OK", SMTP_OK, SMTP_CAUSE_REPLY, 250, "2.0.0", 0 },
};

static const struct flag_case slow[] = {
	{ "421", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 421, "4.7.0", 1 },
	{ "421 without enhanced code", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 421, "", 1 },
	{ "421 at the greeting", SMTP_TEMPFAIL, SMTP_CAUSE_CONNECT, 421, "4.0.0", 1 },
	{ "451 4.7.1 try later", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 451, "4.7.1", 1 },
	{ "450 4.7.0 rate limited", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.7.0", 1 },
	{ "452 4.7.28 (three digits)", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 452, "4.7.28", 1 },
	{ "450 4.3.0 (smtp-sink -r)", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 450, "4.3.0", 0 },
	{ "452 4.2.2 mailbox full", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 452, "4.2.2", 0 },
	{ "451 without enhanced code", SMTP_TEMPFAIL, SMTP_CAUSE_REPLY, 451, "", 0 },
	{ "550 5.7.1 is a refusal", SMTP_PERMFAIL, SMTP_CAUSE_REPLY, 550, "5.7.1", 0 },
	{ "timeout", SMTP_TEMPFAIL, SMTP_CAUSE_LOST, 0, "", 0 },
	{ "OK", SMTP_OK, SMTP_CAUSE_REPLY, 250, "2.0.0", 0 },
};

static void
test_flags(const struct flag_case *t, size_t n, int (*fn)(const struct smtp_reply *),
    const char *what)
{
	struct smtp_reply r;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.result = t[i].result;
		r.cause = t[i].cause;
		r.code = t[i].code;
		snprintf(r.enhanced, sizeof(r.enhanced), "%s", t[i].enhanced);
		ok(fn(&r) == t[i].want, "%s: %s -> %d", what, t[i].name, t[i].want);
	}
}

/* The classification and the flags together, from raw replies. */
static void
test_end_to_end(void)
{
	struct smtp_reply r;

	smtp_classify(CURLE_SEND_ERROR, 550, "550 5.1.1 <nobody@example.org>: user unknown\r\n", &r);
	ok(smtp_is_hard_bounce(&r) && !smtp_is_slow_down(&r), "550 5.1.1: a hard bounce");
	smtp_classify(CURLE_SEND_ERROR, 421, "421 4.7.0 too many connections\r\n", &r);
	ok(!smtp_is_hard_bounce(&r) && smtp_is_slow_down(&r), "421 4.7.0: slow down");
	smtp_classify(CURLE_WEIRD_SERVER_REPLY, 451, "451 4.7.1 rate limit exceeded\r\n", &r);
	ok(smtp_is_slow_down(&r) && r.result == SMTP_TEMPFAIL, "451 4.7.1 after the dot: slow down");
	smtp_classify(CURLE_RECV_ERROR, 250, "250 2.1.5 Ok\r\n", &r);
	ok(!smtp_is_hard_bounce(&r) && !smtp_is_slow_down(&r), "a lost connection: neither");
}

int
main(void)
{
	test_classify();
	test_long_text();
	test_flags(hard, ARRAY_LEN(hard), smtp_is_hard_bounce, "hard bounce");
	test_flags(slow, ARRAY_LEN(slow), smtp_is_slow_down, "slow down");
	test_end_to_end();
	return done_testing();
}
