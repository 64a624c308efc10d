/*
 * http.c - the one-click unsubscribe endpoint; see http.h.
 *
 * libmicrohttpd runs one internal thread (epoll where there is one), so
 * the access handler never runs twice at once and the journal handle it
 * uses needs no lock. A request is answered from its first call when the
 * path, the method or the Content-Length already decide; a POST body is
 * fed to MHD's form parser (urlencoded and multipart alike) and judged
 * when it is complete.
 *
 * A whole request has a deadline, which MHD does not know: its
 * CONNECTION_TIMEOUT is an idle timeout, which a client that sends a byte
 * every few seconds never reaches, and nothing of ours runs while a
 * request's headers trickle in (the access handler is first called once
 * they are all there). So MHD tells us of every connection it accepts and
 * closes (NOTIFY_CONNECTION), each goes into a queue with the moment its
 * request must be over, and a thread of ours, the sweeper, sleeps until the
 * earliest of them and shuts that socket down. shutdown(2) is safe beside
 * MHD's thread: that thread then reads end of file and closes the
 * connection its usual way. MHD notifies CLOSED before it closes the
 * socket, and the sweep and the notification hold the same lock, so the
 * sweeper never touches a descriptor that has since been reused.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>

#include "addr.h"
#include "log.h"
#include "confirm.h"
#include "join.h"
#include "list.h"
#include "lookup.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

#define PATH_PREFIX "/unsubscribe/"
#define PATH_METRICS "/metrics"
#define PATH_SUBSCRIBE "/subscribe/"
#define PATH_CONFIRM "/confirm/"
#define EMAIL_MAX 768		/* bytes of the form's email field: 254, %-escaped */
#define NAME_MAX_BYTES 300	/* bytes of its name field: 100, %-escaped */
#define TOKEN_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ234567-"
#define FIELD_NAME "List-Unsubscribe"
#define FIELD_VALUE "One-Click"
#define VALUE_MAX 16		/* bytes kept of the field's value: more is wrong anyway */
#define CONN_MAX 128U		/* connections at once */
/*
 * Connections at once from one address. A browser opens at most 6 to a
 * host and a mail provider's one-click POST is one request; a reverse proxy,
 * whose address is everyone's, answers each request in milliseconds, so 16
 * carries bursts of hundreds a second. An attacker then needs
 * CONN_MAX / CONN_PER_IP = 8 addresses, not 2, to take every connection,
 * and each one it takes is freed at REQUEST_DEADLINE.
 */
#define CONN_PER_IP 16U
#define CONN_TIMEOUT 10U	/* seconds a connection may stay idle */
/*
 * Seconds from a connection's accept to the end of its request (headers,
 * body and answer); for a further request on the same connection, from the
 * end of the one before. A connection past it is closed.
 */
#define REQUEST_DEADLINE 10
#define CONN_MEMORY ((size_t)16 * 1024)	/* per connection: request line and headers */
#define PP_BUFFER 512		/* MHD's form parser's buffer (its minimum is 256) */

/* A connection MHD has accepted and not yet closed: its socket context. */
struct conn {
	TAILQ_ENTRY(conn) due;		/* in http.due while queued */
	int fd;
	int queued;			/* 0 once swept */
	struct timespec deadline;	/* CLOCK_MONOTONIC */
};

TAILQ_HEAD(connq, conn);

struct http {
	struct MHD_Daemon *mhd;
	/* The deadline queue: deadlines only grow, so it is in order by appending. */
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* the queue was empty, or stop */
	struct connq due;
	pthread_t sweeper;
	int sweeping;			/* the sweeper thread runs */
	int stopping;
	struct store *st;		/* the server thread's own */
	unsigned char secret[TOKEN_SECRET_LEN];
	char *listen;
	/*
	 * What an expired link's confirmation mail needs of the configuration,
	 * copied at start (the daemon's own is freed by a SIGHUP): sender.*,
	 * tokens.max_age, imap.enabled (without a mailbox no reply is read).
	 */
	struct config cc;
	/*
	 * Requests answered, by status (index code - METRICS_CODE_MIN): only
	 * the server thread touches them. In memory, unlike the journal's
	 * counters: a request changes nothing else, and a write per request
	 * would let anyone who can reach the listener make the journal write.
	 */
	unsigned long long requests[METRICS_CODES];
	/* Who sends the outbox, told when a request queued mail (under lock). */
	void (*outbox)(void *);
	void *outbox_arg;
};

/* What a POST is for, by its path. */
enum req_kind { REQ_UNSUBSCRIBE, REQ_SUBSCRIBE, REQ_CONFIRM };

/* A POST being read. */
struct req {
	enum req_kind kind;
	struct MHD_PostProcessor *pp;	/* NULL for REQ_CONFIRM: its body is not read */
	size_t body;			/* bytes received */
	int fields;			/* form fields seen */
	char value[VALUE_MAX];		/* the List-Unsubscribe field's value */
	size_t vlen;
	int bad;			/* any other field, a file, too long a value */
	/* REQ_SUBSCRIBE: the form's fields, as sent (still %-escaped) */
	char email[EMAIL_MAX + 1], name[NAME_MAX_BYTES + 1];
	size_t elen, nlen;
};

/*
 * MHD's messages can name the request URL, and with it a token: they go to
 * the debug log, except while MHD_start_daemon runs in the calling thread,
 * when they are kept here to explain a failure (thread-local, so the
 * server thread never writes it).
 */
static __thread char *start_err;

/* ---- pure parts ---- */

static int
http_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "1".."65535", digits only. */
static int
http_port(const char *s, unsigned *port)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return -1;
	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v == 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int
http_listen_parse(const char *s, struct http_listen *out, char *err, size_t errlen)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (colon == NULL || http_port(colon + 1, &out->port) < 0)
		return http_err(err, errlen, "'%s' is not HOST:PORT with a port from 1 to 65535", s);
	if ((hlen = (size_t)(colon - s)) >= sizeof(host))
		hlen = 0;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return http_err(err, errlen, "'%s' is not an IPv6 address", host + 1);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)out->port);
		out->len = sizeof(*a6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return http_err(err, errlen, "'%s' is not an IPv4 address or an IPv6 address in"
		    " brackets ([::1]:8025); host names are not accepted", host);
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)out->port);
	out->len = sizeof(*a4);
	return 0;
}

/* The token after prefix, the whole rest of the path: 0 with *tok, *len; -1 when it is none. */
static int
http_prefixed_token(const char *path, const char *prefix, const char **tok, size_t *len)
{
	size_t n;

	if (strncmp(path, prefix, strlen(prefix)) != 0)
		return -1;
	path += strlen(prefix);
	n = strspn(path, TOKEN_CHARS);
	if (n == 0 || n >= TOKEN_MAX || path[n] != '\0')
		return -1;
	*tok = path;
	*len = n;
	return 0;
}

int
http_token_path(const char *path, const char **tok, size_t *len)
{
	return http_prefixed_token(path, PATH_PREFIX, tok, len);
}

/* RFC 9110's tchar: a field name is one or more of these. */
static int
http_tchar(unsigned char ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

void
http_framing_add(struct http_framing *f, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*p == '\0')
		f->bad_name = 1;
	for (; *p != '\0'; p++)
		if (!isascii(*p) || !http_tchar(*p))
			f->bad_name = 1;
	if (strcasecmp(name, "Content-Length") == 0)
		f->lengths++;
	else if (strcasecmp(name, "Transfer-Encoding") == 0)
		f->codings++;
}

const char *
http_framing_refusal(const struct http_framing *f)
{
	if (f->bad_name)
		return "a header field name that is not a token";
	if (f->lengths > 1)
		return "more than one Content-Length";
	if (f->lengths > 0 && f->codings > 0)
		return "both Transfer-Encoding and Content-Length";
	return NULL;
}

/* ---- answers ---- */

/* The first 8 hex digits of SHA-256 of the token, lowercased: a log line's handle on it. */
static void
http_token_hash(const char *tok, size_t len, char out[9])
{
	unsigned char md[32];
	char low[TOKEN_MAX];
	size_t i;

	for (i = 0; i < len && i < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)tok[i]);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, low, i, md) < 0)
		memset(md, 0, sizeof(md));
	snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

/* A response with the headers every answer carries; NULL when out of memory. */
static struct MHD_Response *
http_response(const char *type, const char *body)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* The token is in the URL: keep the page out of caches and Referer headers. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
	return r;
}

static enum MHD_Result
http_reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body)
{
	struct MHD_Response *r = http_response(type, body);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
http_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return http_reply(c, status, "text/plain; charset=utf-8", msg);
}

/* 405, with the methods the path takes. */
static enum MHD_Result
http_not_allowed(struct MHD_Connection *c, const char *allow)
{
	struct MHD_Response *r = http_response("text/plain; charset=utf-8",
	    "method not allowed\n");
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
	MHD_destroy_response(r);
	return rc;
}

static void
http_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			buf_adds(b, "&lt;");
		else if (*s == '>')
			buf_adds(b, "&gt;");
		else if (*s == '&')
			buf_adds(b, "&amp;");
		else if (*s == '"')
			buf_adds(b, "&quot;");
		else
			buf_addc(b, *s);
	}
}

/* The page: before, one button that makes the one-click POST (no action: the same URL); after, a notice. */
static enum MHD_Result
http_page(struct MHD_Connection *c, const char *list, int done)
{
	struct buf b = BUF_INIT;
	enum MHD_Result rc;

	buf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"robots\" content=\"noindex\"><title>Unsubscribe</title></head>\n<body>\n");
	buf_adds(&b, done ? "<p>You are unsubscribed from the list <b>" :
	    "<p>Unsubscribe from the list <b>");
	http_escape(&b, list);
	buf_adds(&b, done ? "</b>. No more mail from it will reach you.</p>\n" :
	    "</b>?</p>\n<form method=\"post\"><input type=\"hidden\" name=\"" FIELD_NAME
	    "\" value=\"" FIELD_VALUE "\"><button type=\"submit\">Unsubscribe</button></form>\n");
	buf_adds(&b, "</body></html>\n");
	rc = http_reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* ---- the framing of a request ---- */

static enum MHD_Result
http_framing_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind, (void)value;
	http_framing_add(cls, key);
	return MHD_YES;
}

/*
 * libmicrohttpd takes the first of two Content-Lengths, prefers chunked to
 * a Content-Length, and keeps "Content-Length : 26" as a field of another
 * name: where a proxy in front reads such a request otherwise, the rest of
 * the connection is a request it never saw. So such a request is refused
 * before its body is read, and the connection closed, with whatever
 * follows on it.
 */
static enum MHD_Result
http_framing_check(struct MHD_Connection *c, int *refused)
{
	struct http_framing f = { 0 };
	struct MHD_Response *r;
	const char *why;
	enum MHD_Result rc;

	MHD_get_connection_values(c, MHD_HEADER_KIND, http_framing_field, &f);
	if ((why = http_framing_refusal(&f)) == NULL) {
		*refused = 0;
		return MHD_YES;
	}
	*refused = 1;
	log_debug("http", "refused a request with %s", why);
	if ((r = http_response("text/plain; charset=utf-8",
	    "bad request: ambiguous length or malformed header\n")) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	rc = MHD_queue_response(c, MHD_HTTP_BAD_REQUEST, r);
	MHD_destroy_response(r);
	return rc;
}

/* ---- the token ---- */

/*
 * 0 the token is ours and names delivery d (clear it); LOOKUP_EXPIRED it
 * does, but is older than tokens.max_age (clear d too); 1 it is not ours;
 * -1 a journal error.
 */
static int
http_lookup(struct http *h, const char *tok, size_t len, struct store_delivery *d)
{
	struct lookup_key k = { h->secret, (long long)time(NULL), h->cc.tokens.max_age };
	int rc;

	if ((rc = lookup_delivery(h->st, &k, "u", tok, len, d)) != 0 && rc != LOOKUP_EXPIRED)
		return rc;
	/* No list would mean every list: more than the message offered. */
	if (d->list == NULL || d->list[0] == '\0') {
		store_delivery_clear(d);
		return 1;
	}
	return rc;
}

/*
 * A link older than tokens.max_age: it proves nothing any more, so it
 * offers (GET) or sends (POST, asked = 1) a confirmation by mail to the
 * address it went to, whose reply unsubscribes; without a mailbox to read
 * that reply, it says where a working link is.
 */
static enum MHD_Result
http_expired_page(struct http *h, struct MHD_Connection *c, const char *list, int asked)
{
	struct buf b = BUF_INIT;
	enum MHD_Result rc;

	buf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"robots\" content=\"noindex\"><title>Unsubscribe</title></head>\n<body>\n"
	    "<p>This unsubscribe link is too old to use any more.</p>\n");
	if (!h->cc.imap.enabled) {
		buf_adds(&b, "<p>To leave the list <b>");
		http_escape(&b, list);
		buf_adds(&b, "</b>, use the link in a newer message from it.</p>\n");
	} else if (asked) {
		buf_adds(&b, "<p>We have mailed a confirmation to the address this message went "
		    "to. Reply to it, and you are unsubscribed.</p>\n");
	} else {
		buf_adds(&b, "<p>To leave the list <b>");
		http_escape(&b, list);
		buf_adds(&b, "</b>, we can mail a confirmation to the address this message went "
		    "to; replying to it unsubscribes you.</p>\n<form method=\"post\"><input "
		    "type=\"hidden\" name=\"" FIELD_NAME "\" value=\"" FIELD_VALUE "\"><button "
		    "type=\"submit\">Mail me a confirmation</button></form>\n");
	}
	buf_adds(&b, "</body></html>\n");
	rc = http_reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* The confirmation an expired link asks for, in one transaction; 0 or -1. */
static int
http_ask_confirm(struct http *h, const struct store_delivery *d, const char *hash)
{
	long long cid;
	int rc;

	if (store_begin(h->st) == -1)
		return -1;
	if ((rc = confirm_ask(h->st, &h->cc, h->secret, d->address, NULL, (long long)time(NULL),
	    &cid)) < 0 || store_commit(h->st) == -1) {
		store_rollback(h->st);
		return -1;
	}
	if (rc == 0)
		log_info("http", "token=%s list=%s: too old; confirmation %lld asked", hash, d->list,
		    cid);
	else
		log_info("http", "token=%s list=%s: too old; unsubscribed or asked already", hash,
		    d->list);
	return 0;
}

static enum MHD_Result
http_miss(struct http *h, struct MHD_Connection *c, int rc, const char *hash)
{
	if (rc > 0) {
		log_debug("http", "token=%s: not a token of ours; 404", hash);
		return http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	log_error("http", "token=%s: journal: %s", hash, store_error(h->st));
	return http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "try again later\n");
}

static enum MHD_Result
http_get(struct http *h, struct MHD_Connection *c, const char *tok, size_t len)
{
	struct store_delivery d;
	enum MHD_Result rc;
	char hash[9];
	int found = http_lookup(h, tok, len, &d);

	http_token_hash(tok, len, hash);
	if (found != 0 && found != LOOKUP_EXPIRED)
		return http_miss(h, c, found, hash);
	rc = found ? http_expired_page(h, c, d.list, 0) : http_page(c, d.list, 0);
	store_delivery_clear(&d);
	return rc;
}

static enum MHD_Result
http_unsubscribe(struct http *h, struct MHD_Connection *c, const char *tok, size_t len)
{
	struct store_delivery d;
	enum MHD_Result rc;
	char hash[9], *source;
	int found = http_lookup(h, tok, len, &d), was = 0;

	http_token_hash(tok, len, hash);
	if (found != 0 && found != LOOKUP_EXPIRED)
		return http_miss(h, c, found, hash);
	if (found == LOOKUP_EXPIRED) {
		if (h->cc.imap.enabled && http_ask_confirm(h, &d, hash) == -1)
			rc = http_miss(h, c, -1, hash);
		else
			rc = http_expired_page(h, c, d.list, 1);
		store_delivery_clear(&d);
		return rc;
	}
	source = xasprintf("one-click unsubscribe over http, release %s",
	    d.release_id ? d.release_id : "-");
	if ((was = store_is_suppressed(h->st, d.address, d.list)) < 0 ||
	    store_suppress(h->st, d.address, d.list, "unsubscribed", source,
	    (long long)time(NULL)) < 0) {
		rc = http_miss(h, c, -1, hash);
	} else {
		log_info("http", "token=%s list=%s: unsubscribed (one-click)%s", hash, d.list,
		    was ? " already" : "");
		rc = http_page(c, d.list, 1);
	}
	free(source);
	store_delivery_clear(&d);
	return rc;
}

/* ---- /metrics ---- */

/* The exposition: the journal's counters and counts as of now, and this server's requests. */
static enum MHD_Result
http_metrics(struct http *h, struct MHD_Connection *c)
{
	struct store_counter *counters = NULL;
	struct metrics m = { 0 };
	struct buf b = BUF_INIT;
	enum MHD_Result rc;

	if (store_counters(h->st, &counters, &m.ncounters) < 0 ||
	    store_pending(h->st, &m.queued, &m.deferred) < 0) {
		log_error("http", "metrics: journal: %s", store_error(h->st));
		store_counters_free(counters, m.ncounters);
		return http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "try again later\n");
	}
	m.counters = counters;
	m.http = h->requests;
	metrics_render(&b, &m);
	rc = http_reply(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE, buf_str(&b));
	buf_free(&b);
	store_counters_free(counters, m.ncounters);
	return rc;
}

/* ---- subscribing on the web ---- */

void
http_on_outbox(struct http *h, void (*fn)(void *), void *arg)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->outbox = fn;
	h->outbox_arg = arg;
	pthread_mutex_unlock(&h->lock);
}

static void
http_outbox_due(struct http *h)
{
	void (*fn)(void *);
	void *arg;

	pthread_mutex_lock(&h->lock);
	fn = h->outbox;
	arg = h->outbox_arg;
	pthread_mutex_unlock(&h->lock);
	if (fn != NULL)
		fn(arg);
}

/* The form's field key: email or name, each once, a piece at a time. */
static enum MHD_Result
http_join_field(struct req *r, const char *key, const char *filename, const char *data,
    uint64_t off, size_t size)
{
	char *dst;
	size_t *len, max;

	if (strcmp(key, "email") == 0)
		dst = r->email, len = &r->elen, max = EMAIL_MAX;
	else if (strcmp(key, "name") == 0)
		dst = r->name, len = &r->nlen, max = NAME_MAX_BYTES;
	else
		dst = NULL, len = NULL, max = 0;
	if (dst == NULL || filename != NULL || r->fields > 2 || (off == 0 && *len > 0) ||
	    off != *len || size > max - *len) {
		r->bad = 1;
		return MHD_NO;
	}
	memcpy(dst + *len, data, size);
	*len += size;
	dst[*len] = '\0';
	return MHD_YES;
}

/* Text fit for a name: UTF-8 with no control character. */
static int
http_plain_line(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return util_utf8_bad(s, strlen(s)) == strlen(s);
}

/* The list id a path names after prefix: 0 with *id, *len; -1 when it is none. */
static int
http_list_path(const char *path, const char **id, size_t *len)
{
	size_t n;

	if (strncmp(path, PATH_SUBSCRIBE, strlen(PATH_SUBSCRIBE)) != 0)
		return -1;
	path += strlen(PATH_SUBSCRIBE);
	n = strlen(path);
	if (!list_id_ok(path, n))
		return -1;
	*id = path;
	*len = n;
	return 0;
}


/* The client's address, as the listener saw it ("" when unknown). */
static void
http_client(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		    (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)size);
}

/* A page of the subscribing pages: title, then body (HTML already). */
static enum MHD_Result
http_join_page(struct MHD_Connection *c, unsigned status, const char *title, const char *body)
{
	struct buf b = BUF_INIT;
	enum MHD_Result rc;

	buf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<meta name=\"robots\" content=\"noindex\"><title>");
	http_escape(&b, title);
	buf_adds(&b, "</title></head>\n<body>\n<h1>");
	http_escape(&b, title);
	buf_adds(&b, "</h1>\n");
	buf_adds(&b, body);
	buf_adds(&b, "</body></html>\n");
	rc = http_reply(c, status, "text/html; charset=utf-8", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* The form; note, when not NULL, says what was wrong with the last one. */
static enum MHD_Result
http_join_form(struct MHD_Connection *c, unsigned status, const char *list, const char *note)
{
	struct buf b = BUF_INIT, t = BUF_INIT;
	enum MHD_Result rc;

	if (note) {
		buf_adds(&b, "<p role=\"alert\">");
		http_escape(&b, note);
		buf_adds(&b, "</p>\n");
	}
	buf_adds(&b, "<form method=\"post\">\n<p><label>Email address<br><input type=\"email\" "
	    "name=\"email\" required maxlength=\"254\" autocomplete=\"email\"></label></p>\n"
	    "<p><label>Name (optional)<br><input name=\"name\" maxlength=\"100\" "
	    "autocomplete=\"name\"></label></p>\n<p><button type=\"submit\">Subscribe</button>"
	    "</p>\n</form>\n<p>We will mail you a link to confirm. Nothing happens until you "
	    "do.</p>\n");
	buf_addf(&t, "Subscribe to %s", list);
	rc = http_join_page(c, status, buf_str(&t), buf_str(&b));
	buf_free(&t);
	buf_free(&b);
	return rc;
}

/* The list of a /subscribe/ path, when subscribing on the web is on and it is ours. */
static int
http_join_list(struct http *h, const char *url, const char **id, size_t *len)
{
	return h->cc.http.url != NULL && http_list_path(url, id, len) == 0 &&
	    join_list_known(&h->cc, *id, *len) ? 0 : -1;
}

static enum MHD_Result
http_subscribe_get(struct http *h, struct MHD_Connection *c, const char *url)
{
	const char *id;
	size_t len;

	if (http_join_list(h, url, &id, &len) < 0)
		return http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	return http_join_form(c, MHD_HTTP_OK, id, NULL);
}

/*
 * The form sent: a confirmation to the address, within the limits. The
 * answer is the same whether or not the address is known, suppressed, or
 * held back by its own limit; only the client's own limit shows (429).
 */
static enum MHD_Result
http_subscribe_post(struct http *h, struct MHD_Connection *c, const char *url, struct req *r)
{
	struct join_request q = { 0 };
	struct addr a = { 0 };
	struct buf b = BUF_INIT;
	char client[INET6_ADDRSTRLEN], err[128], *name = NULL;
	const char *id;
	enum MHD_Result rc;
	long long jid = 0;
	size_t len;
	int asked;

	if (http_join_list(h, url, &id, &len) < 0)
		return http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (r->bad)
		return http_text(c, MHD_HTTP_BAD_REQUEST, "expected the form's fields email and"
		    " name\n");
	MHD_http_unescape(r->email);
	MHD_http_unescape(r->name);
	if (r->email[0] == '\0')
		snprintf(err, sizeof(err), "An email address is needed.");
	else if (strpbrk(r->email, "<>") != NULL)
		snprintf(err, sizeof(err), "Give the address alone, without a name.");
	else if (addr_parse(r->email, strlen(r->email), &a, err + 1, sizeof(err) - 2) < 0)
		buf_addf(&b, "That is not an email address we can mail: %s.", err + 1);
	else
		err[0] = '\0';
	if (a.email == NULL) {
		rc = http_join_form(c, MHD_HTTP_BAD_REQUEST, id, b.len ? buf_str(&b) : err);
		addr_clear(&a);
		buf_free(&b);
		return rc;
	}
	/* A name is one line of text: control characters go. */
	if (r->name[0] != '\0' && http_plain_line(r->name))
		name = r->name;
	http_client(c, client, sizeof(client));
	q.list = id;
	q.address = a.email;
	q.name = name;
	q.how = "web";
	q.client = client;
	if (store_begin(h->st) == -1 ||
	    (asked = join_ask(h->st, &h->cc, h->secret, &q, (long long)time(NULL), &jid)) < 0 ||
	    store_commit(h->st) == -1) {
		store_rollback(h->st);
		addr_clear(&a);
		log_error("http", "subscribe list=%s: journal: %s", id, store_error(h->st));
		return http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "try again later\n");
	}
	if (asked == JOIN_LIMITED_CLIENT) {
		log_info("http", "subscribe list=%s client=%s: over %d requests an hour", id,
		    client, JOIN_PER_CLIENT);
		addr_clear(&a);
		return http_join_page(c, MHD_HTTP_TOO_MANY_REQUESTS, "Too many requests",
		    "<p>Too many requests have come from your address. Please try again in an "
		    "hour.</p>\n");
	}
	if (asked == JOIN_ASKED) {
		log_info("http", "subscribe list=%s client=%s: confirmation %lld asked", id, client,
		    jid);
		http_outbox_due(h);
	}
	else
		log_info("http", "subscribe list=%s client=%s: that address had %d confirmations"
		    " this hour; none sent", id, client, JOIN_PER_ADDRESS);
	buf_adds(&b, "<p>A message is on its way to <b>");
	http_escape(&b, a.email);
	buf_adds(&b, "</b> with a link to confirm. You are subscribed once you open it and "
	    "press the button; if you do not, nothing happens.</p>\n");
	rc = http_join_page(c, MHD_HTTP_OK, "Check your mail", buf_str(&b));
	buf_free(&b);
	addr_clear(&a);
	return rc;
}

/* The join a /confirm/ path names: 0 with *j; else the answer was queued into *rc. */
static int
http_confirm_find(struct http *h, struct MHD_Connection *c, const char *url,
    struct store_join *j, enum MHD_Result *rc)
{
	const char *tok;
	size_t len;
	char hash[9];
	int found;

	memset(j, 0, sizeof(*j));
	if (h->cc.http.url == NULL || http_prefixed_token(url, PATH_CONFIRM, &tok, &len) < 0) {
		*rc = http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
		return -1;
	}
	http_token_hash(tok, len, hash);
	found = join_lookup(h->st, h->secret, tok, len, (long long)time(NULL), j);
	if (found == 0)
		return 0;
	/* Forged, not ours, or older than seven days: not found, whichever it is. */
	if (found > 0) {
		log_debug("http", "token=%s: no confirmation of ours%s; 404", hash,
		    found == LOOKUP_EXPIRED ? " (too old)" : "");
		*rc = http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	} else {
		log_error("http", "token=%s: journal: %s", hash, store_error(h->st));
		*rc = http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "try again later\n");
	}
	return -1;
}

/* Subscribed: the page after the button, or for a link opened again. */
static enum MHD_Result
http_joined_page(struct MHD_Connection *c, const struct store_join *j)
{
	struct buf b = BUF_INIT;
	enum MHD_Result rc;

	buf_adds(&b, "<p><b>");
	http_escape(&b, j->address);
	buf_adds(&b, "</b> is subscribed to the list <b>");
	http_escape(&b, j->list);
	buf_adds(&b, "</b>. Every message of it carries a link to leave.</p>\n");
	rc = http_join_page(c, MHD_HTTP_OK, "You are subscribed", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* A button, not a change: link scanners open links. */
static enum MHD_Result
http_confirm_get(struct http *h, struct MHD_Connection *c, const char *url)
{
	struct store_join j;
	struct buf b = BUF_INIT, t = BUF_INIT;
	enum MHD_Result rc;

	if (http_confirm_find(h, c, url, &j, &rc) < 0)
		return rc;
	if (j.done) {
		rc = http_joined_page(c, &j);
	} else {
		buf_adds(&b, "<p>Subscribe <b>");
		http_escape(&b, j.address);
		buf_adds(&b, "</b> to the list <b>");
		http_escape(&b, j.list);
		buf_adds(&b, "</b>?</p>\n<form method=\"post\"><button type=\"submit\" "
		    "name=\"confirm\" value=\"yes\">Confirm</button></form>\n");
		buf_addf(&t, "Subscribe to %s", j.list);
		rc = http_join_page(c, MHD_HTTP_OK, buf_str(&t), buf_str(&b));
	}
	buf_free(&t);
	buf_free(&b);
	store_join_clear(&j);
	return rc;
}

static enum MHD_Result
http_confirm_post(struct http *h, struct MHD_Connection *c, const char *url)
{
	struct store_join j;
	char client[INET6_ADDRSTRLEN];
	enum MHD_Result rc;
	int done, readmitted;

	if (http_confirm_find(h, c, url, &j, &rc) < 0)
		return rc;
	http_client(c, client, sizeof(client));
	if (store_begin(h->st) == -1 ||
	    (done = join_confirm(h->st, &h->cc, &j, "web", client, (long long)time(NULL),
	    &readmitted)) < 0 || store_commit(h->st) == -1) {
		store_rollback(h->st);
		log_error("http", "confirm %lld: journal: %s", j.id, store_error(h->st));
		store_join_clear(&j);
		return http_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "try again later\n");
	}
	if (done == 0)
		log_info("http", "confirm %lld list=%s client=%s: joined%s", j.id, j.list, client,
		    readmitted ? "; a suppression lifted" : "");
	rc = http_joined_page(c, &j);
	store_join_clear(&j);
	return rc;
}

/* ---- the POST body ---- */

/* MHD's form parser calls this for each piece of each field, off counting within the field. */
static enum MHD_Result
http_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
    const char *content_type, const char *transfer_encoding, const char *data,
    uint64_t off, size_t size)
{
	struct req *r = cls;

	(void)kind, (void)content_type, (void)transfer_encoding;
	if (off == 0)
		r->fields++;
	if (r->kind == REQ_SUBSCRIBE)
		return http_join_field(r, key, filename, data, off, size);
	if (r->fields > 1 || filename != NULL || strcmp(key, FIELD_NAME) != 0 ||
	    off != r->vlen || size > VALUE_MAX - r->vlen) {
		r->bad = 1;
		return MHD_NO;
	}
	if (size > 0)
		memcpy(r->value + r->vlen, data, size);
	r->vlen += size;
	return MHD_YES;
}

/* The first call of a POST: a Content-Length over the limit is refused before a byte is read. */
static enum MHD_Result
http_post_start(struct MHD_Connection *c, enum req_kind kind, void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct req *r;

	if (cl != NULL && strtoull(cl, NULL, 10) > HTTP_BODY_MAX)
		return http_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n");
	r = xcalloc(1, sizeof(*r));
	r->kind = kind;
	if (kind == REQ_CONFIRM) {
		*con_cls = r;
		return MHD_YES;
	}
	if ((r->pp = MHD_create_post_processor(c, PP_BUFFER, http_field, r)) == NULL) {
		free(r);
		return http_text(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "expected a form:"
		    " application/x-www-form-urlencoded or multipart/form-data\n");
	}
	*con_cls = r;
	return MHD_YES;
}

static enum MHD_Result
http_post_data(struct http *h, struct MHD_Connection *c, const char *url, struct req *r,
    const char *data, size_t *size)
{
	const char *tok = NULL;
	size_t len = 0;
	int ok;

	if (*size > 0) {
		/* Only a chunked body gets here past the limit: close the connection. */
		if (*size > HTTP_BODY_MAX - r->body)
			return MHD_NO;
		r->body += *size;
		if (!r->bad && r->pp != NULL && MHD_post_process(r->pp, data, *size) != MHD_YES)
			r->bad = 1;
		*size = 0;
		return MHD_YES;
	}
	/* Destroying the parser delivers a last urlencoded field that has no '&' after it. */
	if (r->pp != NULL && MHD_destroy_post_processor(r->pp) != MHD_YES)
		r->bad = 1;
	r->pp = NULL;
	if (r->kind == REQ_CONFIRM)
		return http_confirm_post(h, c, url);
	if (r->kind == REQ_SUBSCRIBE)
		return http_subscribe_post(h, c, url, r);
	ok = !r->bad && r->fields == 1 && r->vlen == strlen(FIELD_VALUE) &&
	    memcmp(r->value, FIELD_VALUE, r->vlen) == 0;
	if (!ok || http_token_path(url, &tok, &len) < 0)
		return http_text(c, MHD_HTTP_BAD_REQUEST,
		    "expected the body " FIELD_NAME "=" FIELD_VALUE "\n");
	return http_unsubscribe(h, c, tok, len);
}

/* ---- the deadline of a request ---- */

static int
http_ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Queues k, or moves it to the tail, with REQUEST_DEADLINE from now. The caller holds h->lock. */
static void
http_due_push(struct http *h, struct conn *k)
{
	if (k->queued)
		TAILQ_REMOVE(&h->due, k, due);
	clock_gettime(CLOCK_MONOTONIC, &k->deadline);
	k->deadline.tv_sec += REQUEST_DEADLINE;
	k->queued = 1;
	TAILQ_INSERT_TAIL(&h->due, k, due);
	if (TAILQ_FIRST(&h->due) == k)
		pthread_cond_signal(&h->wake);
}

/* The sweeper thread: shuts down each connection as its deadline passes. */
static void *
http_sweep(void *arg)
{
	struct http *h = arg;
	struct timespec now, next;
	struct conn *k;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		while ((k = TAILQ_FIRST(&h->due)) != NULL && !http_ts_before(&now, &k->deadline)) {
			TAILQ_REMOVE(&h->due, k, due);
			k->queued = 0;
			shutdown(k->fd, SHUT_RDWR);
			log_debug("http", "a request is not over after %d s: connection closed",
			    REQUEST_DEADLINE);
		}
		if (k == NULL) {
			pthread_cond_wait(&h->wake, &h->lock);
			continue;
		}
		next = k->deadline;
		pthread_cond_timedwait(&h->wake, &h->lock, &next);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* MHD accepted a connection (its deadline starts) or closed one (it leaves the queue). */
static void
http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	const union MHD_ConnectionInfo *fd;
	struct conn *k = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD)) == NULL)
			fatalx("http: libmicrohttpd gives no socket for a connection");
		k = xcalloc(1, sizeof(*k));
		k->fd = fd->connect_fd;
		pthread_mutex_lock(&h->lock);
		http_due_push(h, k);
		pthread_mutex_unlock(&h->lock);
		*socket_context = k;
		return;
	}
	if (k == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	if (k->queued)
		TAILQ_REMOVE(&h->due, k, due);
	pthread_mutex_unlock(&h->lock);
	free(k);
	*socket_context = NULL;
}

/* A request is over: the next one on this connection has a deadline of its own. */
static void
http_rearm(struct http *h, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *k = ci != NULL ? ci->socket_context : NULL;

	if (k == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	if (k->queued)
		http_due_push(h, k);
	pthread_mutex_unlock(&h->lock);
}

/* ---- MHD's callbacks ---- */

static enum MHD_Result
http_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct http *h = cls;
	const char *tok;
	size_t len;
	enum MHD_Result rc;
	enum req_kind kind;
	int refused, get;

	(void)version;
	if (*con_cls != NULL)
		return http_post_data(h, c, url, *con_cls, data, size);
	if ((rc = http_framing_check(c, &refused)) != MHD_YES || refused)
		return rc;
	get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (strcmp(url, PATH_METRICS) == 0)
		return get ? http_metrics(h, c) : http_not_allowed(c, "GET, HEAD");
	if (strncmp(url, PATH_SUBSCRIBE, strlen(PATH_SUBSCRIBE)) == 0 ||
	    strncmp(url, PATH_CONFIRM, strlen(PATH_CONFIRM)) == 0) {
		kind = url[1] == 's' ? REQ_SUBSCRIBE : REQ_CONFIRM;
		if (get)
			return kind == REQ_SUBSCRIBE ? http_subscribe_get(h, c, url) :
			    http_confirm_get(h, c, url);
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return http_not_allowed(c, "GET, HEAD, POST");
		return http_post_start(c, kind, con_cls);
	}
	if (http_token_path(url, &tok, &len) < 0)
		return http_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (get)
		return http_get(h, c, tok, len);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return http_not_allowed(c, "GET, HEAD, POST");
	return http_post_start(c, REQ_UNSUBSCRIBE, con_cls);
}

/* A request is over: counted by the status it was answered with, if it was. */
static void
http_count(struct http *h, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_HTTP_STATUS);

	if (ci != NULL && ci->http_status >= METRICS_CODE_MIN &&
	    ci->http_status <= METRICS_CODE_MAX)
		h->requests[ci->http_status - METRICS_CODE_MIN]++;
}

static void
http_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	struct req *r = *con_cls;

	(void)why;
	http_count(cls, c);
	http_rearm(cls, c);
	if (r == NULL)
		return;
	if (r->pp != NULL)
		MHD_destroy_post_processor(r->pp);
	free(r);
	*con_cls = NULL;
}

/* The path is taken as sent: a token spelt with %XX is no token. */
static size_t
http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls, (void)c;
	return strlen(s);
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '.')
		line[n - 1] = '\0';
	if (line[0] != '\0')
		line[0] = (char)tolower((unsigned char)line[0]);
	if (start_err != NULL)
		snprintf(start_err, 512, "%s", line);
	else
		log_debug("http", "libmicrohttpd: %s", line);
}

/* ---- start and stop ---- */

/*
 * MHD's thread and the sweeper inherit the signal mask of the thread that
 * creates them: with the daemon's signals blocked there, their handlers run
 * in the main thread, whose loop they must wake.
 */
static struct MHD_Daemon *
http_mhd_start(struct http *h, const struct http_listen *l, char err[512])
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *mhd = NULL;
	sigset_t block, old;
	int rc;

	if (l->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if ((rc = pthread_create(&h->sweeper, NULL, http_sweep, h)) != 0) {
		snprintf(err, 512, "cannot start a thread: %s", strerror(rc));
		goto out;
	}
	h->sweeping = 1;
	start_err = err;
	mhd = MHD_start_daemon(flags, (uint16_t)l->port, NULL, NULL, http_handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&l->ss,
	    MHD_OPTION_CONNECTION_LIMIT, CONN_MAX,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, CONN_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, http_done, h,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
	    MHD_OPTION_END);
	start_err = NULL;
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return mhd;
}

/* The queue empty; the sweeper's clock is the deadlines' (monotonic). */
static void
http_due_init(struct http *h)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	TAILQ_INIT(&h->due);
}

struct http *
http_start(const struct config *c, const unsigned char secret[TOKEN_SECRET_LEN])
{
	struct http_listen l;
	struct http *h;
	char err[512] = "";

	if (http_listen_parse(c->http.listen, &l, err, sizeof(err)) < 0) {
		log_error("http", "%s", err);
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	http_due_init(h);
	memcpy(h->secret, secret, TOKEN_SECRET_LEN);
	config_copy_sender(&h->cc, c);
	h->listen = xstrdup(c->http.listen);
	if (store_open(c->state, &h->st, err, sizeof(err)) < 0) {
		log_error("http", "%s", err);
		http_stop(h);
		return NULL;
	}
	if ((h->mhd = http_mhd_start(h, &l, err)) == NULL) {
		log_error("http", "cannot serve %s: %s", h->listen, err[0] ? err : "libmicrohttpd failed");
		http_stop(h);
		return NULL;
	}
	log_info("http", "serving one-click unsubscribe on %s", h->listen);
	return h;
}

const char *
http_listen_addr(const struct http *h)
{
	return h->listen;
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	if (h->sweeping) {
		pthread_mutex_lock(&h->lock);
		h->stopping = 1;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->sweeper, NULL);
	}
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	store_close(h->st);
	explicit_bzero(h->secret, sizeof(h->secret));
	free(h->listen);
	config_free(&h->cc);
	free(h);
}
