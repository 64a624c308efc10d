/*
 * smtp.c - delivery over SMTP with libcurl's multi interface, and the one
 * place where a CURLcode and a server reply become OK / TEMPFAIL / PERMFAIL.
 *
 * Each of the `connections` easy handles carries one message at a time. It
 * is removed from the multi handle when its message is done and added again
 * with the next one; the connection stays in the multi handle's cache
 * (CURLMOPT_MAXCONNECTS = connections), so the next MAIL FROM goes on it.
 * After a failed transaction libcurl closes that connection and opens a new
 * one for the next message by itself (and where it would not, conn_kill()
 * makes it).
 *
 * The header callback sees every reply line; the last complete reply of a
 * transfer, with CURLINFO_RESPONSE_CODE, is what smtp_classify() reads. The
 * 221 to the QUIT that libcurl sends when it closes a connection after a
 * failure is not kept, so the reply that failed is.
 *
 * libcurl 7.88.1 waits for the reply to the final dot inside its "done"
 * step, which blocks the whole multi handle for that one reply: a relay that
 * is slow to accept a message holds back the other connections meanwhile
 * (measured: 1 s at the dot, 4 connections, 8 messages take 8 s, not 2).
 */
#include "smtp.h"

#include <curl/curl.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

#define SMTP_DEFAULT_TIMEOUT 60L
/* Continuation lines past this are dropped: a reply's text is short. */
#define SMTP_REPLY_MAX 4096

struct conn {
	CURL *easy;
	struct curl_slist *rcpt;
	struct mbuf msg;
	size_t off;
	void *cookie;
	int busy;
	int local;			/* refused before any transfer: see local_reply */
	struct smtp_reply local_reply;
	struct buf cur;			/* lines of the reply being read */
	size_t line;			/* where cur's unfinished line starts */
	struct buf last;		/* the last complete reply of this transfer */
	unsigned nreplies;		/* complete replies in this transfer */
	char err[CURL_ERROR_SIZE];
};

struct smtp {
	CURLM *multi;
	struct conn *conns;
	unsigned nconns;
	unsigned busy;
	unsigned nlocal;
};

/* ---- reading replies (pure) ---- */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of an RFC 3463 enhanced code of class `cls` at p ("4.2.2"), or 0. */
static size_t
enhanced_len(const char *p, size_t n, char cls)
{
	size_t i = 0, part, digits;

	if (n < 5 || p[0] != cls || p[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; i < n && is_digit(p[i]); i++)
			digits++;
		if (digits < 1 || digits > 3)
			return 0;
		if (part == 0 && (i >= n || p[i++] != '.'))
			return 0;
	}
	if (i < n && p[i] != ' ')
		return 0;
	return i;
}

/* Appends a line's text to out (joined by one space), controls made spaces. */
static void
text_append(char *out, size_t outsz, const char *p, size_t n)
{
	size_t len = strlen(out), i;

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	if (n == 0)
		return;
	if (len > 0 && len + 1 < outsz)
		out[len++] = ' ';
	for (i = 0; i < n && len + 1 < outsz; i++) {
		unsigned char c = (unsigned char)p[i];
		out[len++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	/* Cut short: do not leave half a UTF-8 sequence. */
	if (i < n)
		while (len > 0 && ((unsigned char)out[len - 1] & 0xc0) == 0x80)
			len--;
	if (i < n && len > 0 && ((unsigned char)out[len - 1] & 0xc0) == 0xc0)
		len--;
	out[len] = '\0';
}

/*
 * Reads a raw reply ("452-4.2.2 mailbox\r\n452 4.2.2 full\r\n") into its
 * code, enhanced code and text; lines that do not start with three digits
 * are ignored. The enhanced code counts only in the first line and only of
 * the reply's own class; later lines repeating it lose it from the text.
 */
static void
parse_reply(const char *raw, int *code, char *enh, size_t enhsz, char *text, size_t textsz)
{
	const char *p = raw, *nl, *t;
	size_t n, e;
	int first = 1;

	*code = 0;
	enh[0] = '\0';
	text[0] = '\0';
	for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]))
			continue;
		if (n > 3 && p[3] != ' ' && p[3] != '-')
			continue;
		if (first)
			*code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		t = p + (n > 3 ? 4 : 3);
		n -= (size_t)(t - p);
		if (first) {
			e = enhanced_len(t, n, p[0]);
			if (e > 0 && e < enhsz && p[0] != '1' && p[0] != '3') {
				memcpy(enh, t, e);
				enh[e] = '\0';
			} else {
				e = 0;
			}
		} else {
			e = strlen(enh);
			if (e == 0 || n < e || memcmp(t, enh, e) != 0 || (n > e && t[e] != ' '))
				e = 0;
		}
		text_append(text, textsz, t + e, n - e);
		first = 0;
	}
}

/* ---- classification (pure) ---- */

static int
is_tls_error(int c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

/*
 * The curl codes with which a 4xx/5xx response code is the server's answer
 * to this transaction: 55 (MAIL, RCPT, DATA refused), 8 (greeting or final
 * dot refused), 9 (EHLO and HELO refused). With any other code, or a 2xx/3xx
 * one, the response code is stale: it answered an earlier command.
 */
static int
carries_reply(int c)
{
	return c == CURLE_OK || c == CURLE_SEND_ERROR || c == CURLE_WEIRD_SERVER_REPLY ||
	    c == CURLE_REMOTE_ACCESS_DENIED;
}

static void
set_text(struct smtp_reply *r, const char *s)
{
	r->text[0] = '\0';
	text_append(r->text, sizeof(r->text), s, strlen(s));
}

static void
classify_reply(int curl_code, long response_code, const char *last_reply,
    struct smtp_reply *r)
{
	char enh[sizeof(r->enhanced)], text[sizeof(r->text)];
	int code, failing = response_code >= 400 && response_code <= 599;

	memset(r, 0, sizeof(*r));
	parse_reply(last_reply ? last_reply : "", &code, enh, sizeof(enh), text, sizeof(text));
	r->result = SMTP_TEMPFAIL;
	r->cause = SMTP_CAUSE_LOST;
	if (is_tls_error(curl_code))
		r->cause = SMTP_CAUSE_TLS;
	else if (curl_code == CURLE_LOGIN_DENIED || curl_code == CURLE_AUTH_ERROR)
		r->cause = SMTP_CAUSE_AUTH;
	else if (curl_code == CURLE_COULDNT_RESOLVE_HOST || curl_code == CURLE_COULDNT_CONNECT ||
	    curl_code == CURLE_COULDNT_RESOLVE_PROXY)
		r->cause = SMTP_CAUSE_CONNECT;
	else if (curl_code == CURLE_REMOTE_ACCESS_DENIED && failing)
		r->cause = SMTP_CAUSE_CONNECT;		/* EHLO refused: the session, not this message */
	else if (carries_reply(curl_code) && failing) {
		r->cause = SMTP_CAUSE_REPLY;
		if (response_code >= 500)
			r->result = SMTP_PERMFAIL;
		if (response_code == 530) {	/* RFC 4954: authentication required */
			r->result = SMTP_TEMPFAIL;
			r->cause = SMTP_CAUSE_AUTH;
		}
	} else if (curl_code == CURLE_OK && response_code >= 200 && response_code <= 299) {
		r->result = SMTP_OK;
		r->cause = SMTP_CAUSE_REPLY;
	}

	if (r->result == SMTP_OK || (failing && r->cause != SMTP_CAUSE_LOST)) {
		r->code = (int)response_code;
		if (code == response_code) {
			/* Strings, not the whole arrays: what follows their NUL is uninitialised. */
			snprintf(r->enhanced, sizeof(r->enhanced), "%s", enh);
			snprintf(r->text, sizeof(r->text), "%s", text);
			return;
		}
	}
	if (r->result == SMTP_OK)
		return;
	if (curl_code == CURLE_OK)
		set_text(r, "no reply to the end of the message");
	else
		set_text(r, curl_easy_strerror((CURLcode)curl_code));
}

/* What the reply means for the address and for the pace, decided once, here. */
static void
reply_verdicts(struct smtp_reply *r)
{
	r->hard_bounce = smtp_is_hard_bounce(r);
	r->slow_down = smtp_is_slow_down(r);
}

void
smtp_classify(int curl_code, long response_code, const char *last_reply,
    struct smtp_reply *r)
{
	classify_reply(curl_code, response_code, last_reply, r);
	reply_verdicts(r);
}

/* A refused greeting refuses the session, not this message: nothing was sent. */
static void
greeting_refused(struct smtp_reply *r)
{
	if (r->cause == SMTP_CAUSE_REPLY) {
		r->result = SMTP_TEMPFAIL;
		r->cause = SMTP_CAUSE_CONNECT;
	}
}

int
smtp_is_hard_bounce(const struct smtp_reply *r)
{
	static const char *const hard[] = { "5.1.1", "5.1.2", "5.1.3", "5.1.10", "5.2.1" };
	size_t i;

	if (r->result != SMTP_PERMFAIL)
		return 0;
	for (i = 0; i < ARRAY_LEN(hard); i++)
		if (strcmp(r->enhanced, hard[i]) == 0)
			return 1;
	return 0;
}

int
smtp_is_slow_down(const struct smtp_reply *r)
{
	if (r->code == 421)
		return 1;
	return r->code >= 400 && r->code <= 499 && strncmp(r->enhanced, "4.7.", 4) == 0;
}

/* ---- libcurl callbacks ---- */

static size_t
read_cb(char *out, size_t size, size_t nitems, void *userp)
{
	struct conn *c = userp;
	size_t n = mbuf_read(&c->msg, c->off, out, size * nitems);

	c->off += n;
	return n;
}

/* Called once per reply line (CRLF included); keeps the last complete reply. */
static size_t
header_cb(char *data, size_t size, size_t nitems, void *userp)
{
	struct conn *c = userp;
	size_t n = size * nitems;
	char *line, *nl;
	size_t next;

	buf_add(&c->cur, data, n);
	for (;;) {
		line = c->cur.data + c->line;
		nl = memchr(line, '\n', c->cur.len - c->line);
		if (nl == NULL)
			break;
		next = (size_t)(nl + 1 - c->cur.data);
		if (nl - line >= 3 && line[3] == '-') {
			if (next > SMTP_REPLY_MAX) {	/* drop this continuation line */
				memmove(line, nl + 1, c->cur.len - next);
				c->cur.len -= next - c->line;
				c->cur.data[c->cur.len] = '\0';
			} else {
				c->line = next;
			}
			continue;
		}
		/* 221 answers the QUIT libcurl sends when it closes a connection
		 * after a failure: the reply that matters came before it. */
		if (strncmp(c->cur.data, "221", 3) != 0) {
			buf_reset(&c->last);
			buf_add(&c->last, c->cur.data, next);
			c->nreplies++;
		}
		memmove(c->cur.data, nl + 1, c->cur.len - next);
		c->cur.len -= next;
		c->cur.data[c->cur.len] = '\0';
		c->line = 0;
	}
	return n;
}

static size_t
discard_cb(char *data, size_t size, size_t nitems, void *userp)
{
	(void)data;
	(void)userp;
	return size * nitems;
}

/* ---- the connections ---- */

static char *
make_url(CURL *easy, const struct smtp_opts *o)
{
	size_t n = strlen(o->url);
	char *helo, *url;

	while (n > 0 && o->url[n - 1] == '/')
		n--;
	if (o->helo == NULL || o->helo[0] == '\0')
		return xstrndup(o->url, n);
	helo = curl_easy_escape(easy, o->helo, 0);
	if (helo == NULL)
		fatalx("out of memory (curl_easy_escape)");
	url = xasprintf("%.*s/%s", (int)n, o->url, helo);
	curl_free(helo);
	return url;
}

static int
conn_setup(struct conn *c, const struct smtp_opts *o, const char *url)
{
	long timeout = o->timeout > 0 ? o->timeout : SMTP_DEFAULT_TIMEOUT;
	long use_ssl = o->tls == TLS_REQUIRED ? (long)CURLUSESSL_ALL :
	    o->tls == TLS_OPPORTUNISTIC ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE;
	CURL *e = c->easy;
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)c) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_READDATA, (void *)c) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)c) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->err) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USE_SSL, use_ssl) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	if (o->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file) != CURLE_OK;
	if (o->username) {
		bad |= curl_easy_setopt(e, CURLOPT_USERNAME, o->username) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_PASSWORD,
		    o->password ? o->password : "") != CURLE_OK;
	}
	/* Each wait is bounded, never the whole message: a big one may take long. */
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, timeout) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, timeout) != CURLE_OK;
	return bad ? -1 : 0;
}

struct smtp *
smtp_new(const struct smtp_opts *o)
{
	struct smtp *s;
	char *url = NULL;
	unsigned i, n = o->connections ? o->connections : 1;
	int bad = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->multi = curl_multi_init();
	s->conns = xcalloc(n, sizeof(*s->conns));
	s->nconns = n;
	if (s->multi == NULL)
		goto fail;
	bad |= curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n) != CURLM_OK;
	bad |= curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n) != CURLM_OK;
	/* The default cache size follows the handles added: idle ones would close. */
	bad |= curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)n) != CURLM_OK;
	for (i = 0; i < n && !bad; i++) {
		s->conns[i].easy = curl_easy_init();
		if (s->conns[i].easy == NULL)
			goto fail;
		if (url == NULL)
			url = make_url(s->conns[i].easy, o);
		bad |= conn_setup(&s->conns[i], o, url);
	}
	if (bad)
		goto fail;
	free(url);
	return s;
fail:
	free(url);
	smtp_free(s);
	return NULL;
}

static void
conn_release(struct conn *c)
{
	curl_slist_free_all(c->rcpt);
	c->rcpt = NULL;
	mbuf_free(&c->msg);
	c->off = 0;
	c->cookie = NULL;
	c->busy = c->local = 0;
}

void
smtp_free(struct smtp *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		if (c->busy && !c->local)
			curl_multi_remove_handle(s->multi, c->easy);
		conn_release(c);
		if (c->easy)
			curl_easy_cleanup(c->easy);
		buf_free(&c->cur);
		buf_free(&c->last);
	}
	if (s->multi)
		curl_multi_cleanup(s->multi);
	free(s->conns);
	free(s);
	curl_global_cleanup();
}

unsigned
smtp_idle(const struct smtp *s)
{
	return s->nconns - s->busy;
}

unsigned
smtp_in_flight(const struct smtp *s)
{
	return s->busy;
}

static int
bad_address(const char *a)
{
	return util_has_ctl(a, strlen(a)) || strpbrk(a, "<>") != NULL;
}

int
smtp_submit(struct smtp *s, const char *mail_from, const char *rcpt, char *msg,
    size_t len, void *cookie)
{
	struct mbuf m = MBUF_INIT;

	if (msg)
		mbuf_adopt(&m, msg, len);
	if (smtp_submit_parts(s, mail_from, rcpt, &m, cookie) == 0)
		return 0;
	/* Nothing taken: msg is still the caller's. */
	return -1;
}

int
smtp_submit_parts(struct smtp *s, const char *mail_from, const char *rcpt, struct mbuf *msg,
    void *cookie)
{
	struct conn *c = NULL;
	char *addr;
	unsigned i;

	for (i = 0; i < s->nconns && c == NULL; i++)
		if (!s->conns[i].busy)
			c = &s->conns[i];
	if (c == NULL)
		return -1;
	if (bad_address(mail_from))
		fatalx("smtp: the envelope sender has a control character or angle bracket");
	c->busy = 1;
	s->busy++;
	mbuf_move(&c->msg, msg);
	c->off = 0;
	c->cookie = cookie;
	if (bad_address(rcpt)) {
		/* It would inject SMTP commands: refused here, reported by smtp_poll. */
		memset(&c->local_reply, 0, sizeof(c->local_reply));
		c->local_reply.result = SMTP_PERMFAIL;
		c->local_reply.cause = SMTP_CAUSE_REPLY;
		snprintf(c->local_reply.enhanced, sizeof(c->local_reply.enhanced), "5.1.3");
		set_text(&c->local_reply, "invalid recipient address (refused by herald)");
		c->local = 1;
		s->nlocal++;
		return 0;
	}
	buf_reset(&c->cur);
	buf_reset(&c->last);
	c->line = 0;
	c->nreplies = 0;
	c->err[0] = '\0';
	addr = xasprintf("<%s>", rcpt);
	c->rcpt = curl_slist_append(NULL, addr);
	free(addr);
	if (c->rcpt == NULL)
		fatalx("out of memory (curl_slist_append)");
	addr = xasprintf("<%s>", mail_from);
	if (curl_easy_setopt(c->easy, CURLOPT_MAIL_FROM, addr) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_MAIL_RCPT, c->rcpt) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)mbuf_len(&c->msg)) != CURLE_OK ||
	    curl_multi_add_handle(s->multi, c->easy) != CURLM_OK)
		fatalx("smtp: cannot start a transfer");
	free(addr);
	return 0;
}

/*
 * After a timeout waiting for the reply to the final dot, libcurl 7.88.1
 * keeps the connection and sends the next MAIL FROM on it, where it reads
 * the late reply to the old dot as the answer. A connection whose state is
 * unknown is shut down here, before another transfer can pick it up;
 * libcurl then finds it dead and opens a new one. CURLINFO_ACTIVESOCKET
 * names this transfer's connection only if libcurl kept it.
 */
static void
conn_kill(struct conn *c)
{
	curl_socket_t fd = CURL_SOCKET_BAD;

	if (curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK &&
	    fd != CURL_SOCKET_BAD)
		shutdown(fd, SHUT_RDWR);
}

/* What went wrong, in curl's own words when the server did not say it. */
static void
conn_outcome(struct conn *c, CURLcode code, struct smtp_reply *r)
{
	long response = 0, connects = 0;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &response);
	curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects);
	smtp_classify((int)code, response, buf_str(&c->last), r);
	if (code == CURLE_WEIRD_SERVER_REPLY && c->nreplies == 1 && connects > 0) {
		greeting_refused(r);
		reply_verdicts(r);
	}
	if (r->code == 0 && r->result != SMTP_OK && c->err[0])
		set_text(r, c->err);
	if (r->result != SMTP_OK && r->cause != SMTP_CAUSE_REPLY)
		conn_kill(c);
}

static void
finish(struct smtp *s, struct conn *c, const struct smtp_reply *r, smtp_done_fn done, void *arg)
{
	void *cookie = c->cookie;

	if (c->local) {
		s->nlocal--;
	} else {
		curl_multi_remove_handle(s->multi, c->easy);
		curl_easy_setopt(c->easy, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
	}
	conn_release(c);
	s->busy--;
	/* Last: done() may submit the next message on this very connection. */
	done(arg, cookie, r);
}

static int
drain(struct smtp *s, smtp_done_fn done, void *arg)
{
	struct smtp_reply r;
	CURLMsg *m;
	struct conn *c;
	void *priv;
	int left, n = 0;
	unsigned i;

	for (i = 0; i < s->nconns && s->nlocal > 0; i++) {
		c = &s->conns[i];
		if (c->busy && c->local) {
			r = c->local_reply;
			finish(s, c, &r, done, arg);
			n++;
		}
	}
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		c = priv;
		conn_outcome(c, m->data.result, &r);
		finish(s, c, &r, done, arg);
		n++;
	}
	return n;
}

static void
perform(struct smtp *s)
{
	int running;
	CURLMcode mc = curl_multi_perform(s->multi, &running);

	if (mc != CURLM_OK)
		fatalx("smtp: curl_multi_perform: %s", curl_multi_strerror(mc));
}

/* From another thread: an smtp_poll waiting now, or the next one, returns at once. */
void
smtp_wakeup(struct smtp *s)
{
	curl_multi_wakeup(s->multi);
}

/*
 * Results already there are handed out without waiting. libcurl itself
 * may block in curl_multi_perform: for the reply to a final dot, and for
 * the reply to the QUIT it sends when closing after a failure, each up to
 * the timeout.
 */
int
smtp_poll(struct smtp *s, int timeout_ms, smtp_done_fn done, void *arg)
{
	CURLMcode mc;

	if (s->busy == 0) {
		/* Nothing in flight: the caller is waiting for the limiter. */
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return 0;
	}
	perform(s);
	if (drain(s, done, arg) == 0 && s->busy > 0) {
		mc = curl_multi_poll(s->multi, NULL, 0, timeout_ms < 0 ? 0 : timeout_ms, NULL);
		if (mc != CURLM_OK)
			fatalx("smtp: curl_multi_poll: %s", curl_multi_strerror(mc));
		perform(s);
		drain(s, done, arg);
	}
	return (int)s->busy;
}
