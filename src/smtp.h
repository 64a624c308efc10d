/*
 * smtp.h - delivery over SMTP with libcurl's multi interface.
 *
 * `connections` easy handles, each reused for message after message so
 * that its connection stays open. Every outcome is classified here, at the
 * edge, into OK / TEMPFAIL / PERMFAIL with the server's reply code,
 * enhanced status code and text; nothing outside this file sees a
 * CURLcode. A 250 after the final dot is the only success.
 */
#ifndef HERALD_SMTP_H
#define HERALD_SMTP_H

#include <stddef.h>

#include "config.h"
#include "mbuf.h"

enum smtp_result { SMTP_OK, SMTP_TEMPFAIL, SMTP_PERMFAIL };

/* Why a TEMPFAIL/PERMFAIL happened, beyond the reply itself. */
enum smtp_cause {
	SMTP_CAUSE_REPLY,	/* the server answered 4xx/5xx */
	SMTP_CAUSE_CONNECT,	/* the relay could not be reached at all */
	SMTP_CAUSE_LOST,	/* connection lost or timed out mid-transaction */
	SMTP_CAUSE_AUTH,	/* login refused: a configuration problem */
	SMTP_CAUSE_TLS		/* TLS could not be set up or verified */
};

struct smtp_reply {
	enum smtp_result result;
	enum smtp_cause cause;
	int code;		/* 250, 450, 554...; 0 when there was no reply */
	char enhanced[16];	/* "4.2.2", or "" */
	char text[512];		/* the reply's text without code and enhanced code,
				   or a description of what went wrong */
	/* The verdicts, decided here once (smtp_is_hard_bounce, smtp_is_slow_down). */
	int hard_bounce;	/* the address itself is bad: never mail it again */
	int slow_down;		/* the relay (421) or the domain (4.7.x) asks for less */
};

struct smtp_opts {
	const char *url;	/* smtp://host:port or smtps://host:port */
	enum tls_mode tls;
	const char *ca_file;	/* NULL: system CAs */
	const char *username;	/* NULL: no AUTH */
	const char *password;
	const char *helo;	/* EHLO name, e.g. the sender domain */
	unsigned connections;
	long timeout;		/* seconds, for connecting and for each reply */
};

struct smtp;

/* NULL on failure (curl could not be initialised); the options are copied. */
struct smtp *smtp_new(const struct smtp_opts *o);
void smtp_free(struct smtp *s);

/* How many more messages can be submitted now (connections - in flight). */
unsigned smtp_idle(const struct smtp *s);
unsigned smtp_in_flight(const struct smtp *s);

/*
 * Starts sending one message (CRLF line ends; dot-stuffing is libcurl's
 * job) from envelope sender mail_from to rcpt. smtp takes ownership of
 * msg (freed with free() when done). cookie comes back with the outcome.
 * Returns 0, or -1 when no connection is idle.
 */
int smtp_submit(struct smtp *s, const char *mail_from, const char *rcpt, char *msg,
    size_t len, void *cookie);
/*
 * The same for a message with borrowed runs: smtp takes *msg (leaving it
 * empty) and frees its own bytes when done; what it borrows must outlive
 * the transfer. -1 (and *msg untouched) when no connection is idle.
 */
int smtp_submit_parts(struct smtp *s, const char *mail_from, const char *rcpt,
    struct mbuf *msg, void *cookie);

typedef void (*smtp_done_fn)(void *arg, void *cookie, const struct smtp_reply *r);

/*
 * Waits at most timeout_ms for network activity (never busy-waits), moves
 * the transfers on, and calls done() for each message that finished.
 * Returns the number still in flight.
 */
int smtp_poll(struct smtp *s, int timeout_ms, smtp_done_fn done, void *arg);
/* The one call that is safe from another thread: smtp_poll returns soon. */
void smtp_wakeup(struct smtp *s);

/* Classifies a finished transfer; exported for the unit tests. curl_code is a CURLcode. */
void smtp_classify(int curl_code, long response_code, const char *last_reply,
    struct smtp_reply *r);

/* 1 for the enhanced codes that mean the address itself is bad (5.1.1, 5.1.2, 5.1.3, 5.1.10, 5.2.1). */
int smtp_is_hard_bounce(const struct smtp_reply *r);
/* 1 for replies that ask to slow down: 421, and 4.7.x. */
int smtp_is_slow_down(const struct smtp_reply *r);

#endif
