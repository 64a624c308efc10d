/*
 * http.h - the RFC 8058 one-click unsubscribe endpoint that `herald run`
 * serves when `http: { listen: HOST:PORT }` is configured (libmicrohttpd),
 * and the metrics beside it.
 *
 *   POST /unsubscribe/TOKEN  body List-Unsubscribe=One-Click (urlencoded
 *                            or multipart): the token's address is
 *                            suppressed for the token's list; 200
 *   GET  /unsubscribe/TOKEN  a page with one button that makes that POST;
 *                            it changes nothing (link scanners fetch links)
 *   GET  /subscribe/LIST     a form (email, name) to join LIST, a list of
 *                            the project; POST sends the confirmation
 *                            (join.h): the same page whether or not the
 *                            address is known; 429 when this client asked
 *                            too often. Only with http.url (the link in
 *                            the confirmation needs it); else 404.
 *   GET  /confirm/TOKEN      a page with one button; its POST adds the
 *                            member (consent: web, the client's address).
 *                            A forged token, or one older than 7 days: 404
 *   GET  /metrics            the Prometheus exposition (metrics.h): the
 *                            journal's counters and counts at that moment,
 *                            and the requests this server answered, by
 *                            status, counted in its memory as each ends
 *
 * TOKEN is the "u" token of render.c. A token that is malformed, forged or
 * names no delivery: 404, nothing changed. A request with more than one
 * Content-Length, with Transfer-Encoding and Content-Length, or with a
 * header field name that is not a token: 400, and the connection closed
 * (what follows could be a request smuggled past a proxy in front). A
 * body other than that one field: 400; over HTTP_BODY_MAX bytes: 413 (or,
 * chunked, the connection is closed). Other methods 405 (with Allow),
 * other paths 404.
 * It takes 128 connections at once, 16 from one address, and closes one
 * whose request is not over 10 s after its accept (or after the request
 * before it on the same connection), however many bytes the client still
 * sends.
 *
 * The server runs in one thread of libmicrohttpd's own, with a journal
 * handle of its own that no other thread touches, and a copy of the
 * secret; a second thread only shuts down connections past their
 * deadline. The daemon's signals are blocked in both, so their
 * handlers run in the main thread. The log names a token only by the first
 * 8 hex digits of its SHA-256, and never an address.
 */
#ifndef HERALD_HTTP_H
#define HERALD_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "token.h"

#define HTTP_BODY_MAX 1024	/* bytes: the field is 26; browsers send a few more */

struct http_listen {
	struct sockaddr_storage ss;	/* port included */
	socklen_t len;
	unsigned port;
};

/*
 * Parses "A.B.C.D:PORT" or "[IPv6]:PORT" (numeric addresses only: a host
 * name could resolve to something else tomorrow). 0, or -1 with a
 * lowercase message in err. Pure.
 */
int http_listen_parse(const char *s, struct http_listen *out, char *err, size_t errlen);

/*
 * The token of a request path "/unsubscribe/TOKEN": 0 with *tok and *len
 * pointing into path, or -1 when the path is anything else (TOKEN must be
 * 1 to TOKEN_MAX - 1 characters of [A-Za-z2-7-]). Pure.
 */
int http_token_path(const char *path, const char **tok, size_t *len);

/*
 * The header fields of a request, as far as its framing goes: fed each
 * field name as parsed (the line's text before its colon), then asked
 * whether the request must be refused. Pure.
 */
struct http_framing {
	unsigned lengths;	/* Content-Length fields */
	unsigned codings;	/* Transfer-Encoding fields */
	int bad_name;		/* a name that is empty or not an RFC 9110 token */
};

void http_framing_add(struct http_framing *f, const char *name);
/* NULL for a request whose body ends where every reader agrees, else why not (static, lowercase). */
const char *http_framing_refusal(const struct http_framing *f);

struct http;

/* Starts serving c->http.listen. NULL, logged, when it cannot. */
struct http *http_start(const struct config *c, const unsigned char secret[TOKEN_SECRET_LEN]);
/*
 * fn(arg) is called from the server's thread when a request queued mail
 * in the outbox (a confirmation), so that whoever sends the outbox does
 * it now; until this is set, the mail waits for their next round.
 */
void http_on_outbox(struct http *h, void (*fn)(void *), void *arg);
/* The listen address it serves, as configured. */
const char *http_listen_addr(const struct http *h);
/* Stops it: requests in flight end, the thread is joined. NULL is fine. */
void http_stop(struct http *h);

#endif
