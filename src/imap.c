/*
 * imap.c - one IMAP session through libetpan's mailimap; see imap.h.
 *
 * libetpan sets up TLS but accepts any certificate, so the chain it saw is
 * checked here with GnuTLS, against the system CAs or ca_file, and the
 * server's name (or IP address) against the certificate, before the
 * password is sent.
 */
#define _GNU_SOURCE		/* strcasestr */
#include "imap.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

#define IMAP_GUARD_WAIT 1	/* seconds the inner stream waits before the stop flag is looked at */

struct imap_guard;

struct imap {
	mailimap *s;
	struct imap_guard *guard;	/* owned by the stream */
	char host[256];
	unsigned port;
	int tls_implicit;
	char account[384];
	unsigned long long uidnext;	/* UIDNEXT of the selected mailbox; 0: not said */
	char err[512];
};

/* ---- the guard: what herald accepts from a server ---- */

/*
 * libetpan reads whatever the server announces: a literal of any size is
 * allocated and read whole, a response line of any length is buffered,
 * and a read waits out the whole timeout however long the daemon has been
 * asked to stop. So the stream libetpan reads from is wrapped: every byte
 * the server sends passes through imap_guard_count, which fails the read
 * at the first literal announced over the limit, a line over
 * IMAP_LINE_MAX, or a response over its limit; and the wrapped stream
 * waits a second at a time, looking at the stop flag in between.
 */
struct imap_guard {
	mailstream_low *inner;
	size_t literal_max, response_max;
	unsigned long long total;	/* bytes read since the last command went out */
	unsigned long long lit_left;	/* bytes of the literal being read */
	unsigned long long num;		/* the number of a "{N}" being read */
	size_t line;			/* bytes of the current line outside literals */
	char head[24];			/* its first bytes: is it a text response? */
	enum { G_TEXT, G_NUM, G_BRACE, G_CR } st;
	long timeout;			/* seconds without a byte before giving up */
	volatile sig_atomic_t *stop;
	int status;			/* IMAP_REFUSED or IMAP_LOST once failed */
	char why[200];
};

static ssize_t
imap_guard_fail(struct imap_guard *g, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ssize_t
imap_guard_fail(struct imap_guard *g, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->why, sizeof(g->why), fmt, ap);
	va_end(ap);
	g->status = status;
	return -1;
}

/*
 * A response whose rest is text, where "{N}" is no literal: a
 * continuation request ("+ ..."), or a status ("* OK ...", "A1 NO ...";
 * OK, NO, BAD, BYE, PREAUTH). libetpan reads no literal there, so the
 * guard must not skip N bytes unread (they could hide the next "{N}").
 */
static int
imap_guard_text_line(const struct imap_guard *g)
{
	static const char *const status[] = { "OK ", "NO ", "BAD ", "BYE ", "PREAUTH " };
	const char *sp;
	size_t i;

	if (g->head[0] == '+')
		return 1;
	if ((sp = strchr(g->head, ' ')) == NULL)
		return 0;
	for (i = 0; i < sizeof(status) / sizeof(status[0]); i++)
		if (strncasecmp(sp + 1, status[i], strlen(status[i])) == 0)
			return 1;
	return 0;
}

/* One byte outside a literal; -1 when it breaks a limit. */
static int
imap_guard_byte(struct imap_guard *g, unsigned char c)
{
	if (++g->line > IMAP_LINE_MAX)
		return (int)imap_guard_fail(g, IMAP_REFUSED, "the server sent a line of more "
		    "than %u bytes, more than herald accepts", IMAP_LINE_MAX);
	if (g->line < sizeof(g->head))
		g->head[g->line - 1] = (char)c;	/* NUL-terminated: the rest stays 0 */
	if (c == '{') {
		g->st = G_NUM;
		g->num = 0;
	} else if (g->st == G_NUM && c >= '0' && c <= '9') {
		if (g->num < 1000000000000ULL)	/* big enough to refuse; no overflow */
			g->num = g->num * 10 + (unsigned)(c - '0');
	} else if (g->st == G_NUM && c == '}') {
		g->st = G_BRACE;
	} else if (g->st == G_BRACE && c == '\r') {
		g->st = G_CR;
	} else if ((g->st == G_BRACE || g->st == G_CR) && c == '\n' && imap_guard_text_line(g)) {
		g->st = G_TEXT;		/* "{N}" at the end of text: the line ends here */
		g->line = 0;
		memset(g->head, 0, sizeof(g->head));
	} else if ((g->st == G_BRACE || g->st == G_CR) && c == '\n') {
		g->st = G_TEXT;
		if (g->num > g->literal_max)
			return (int)imap_guard_fail(g, IMAP_REFUSED, "the server announced a literal "
			    "of %llu bytes, more than the %zu herald accepts here", g->num,
			    g->literal_max);
		g->lit_left = g->num;
	} else {
		if (c == '\n') {
			g->line = 0;
			memset(g->head, 0, sizeof(g->head));
		}
		g->st = G_TEXT;
	}
	return 0;
}

static int
imap_guard_count(struct imap_guard *g, const unsigned char *p, size_t n)
{
	size_t i = 0, skip;

	g->total += n;
	if (g->total > g->response_max)
		return (int)imap_guard_fail(g, IMAP_REFUSED, "the server sent more than %zu bytes "
		    "in answer to one command, more than herald accepts", g->response_max);
	while (i < n) {
		if (g->lit_left) {
			skip = n - i < g->lit_left ? n - i : (size_t)g->lit_left;
			g->lit_left -= skip;
			i += skip;
		} else if (imap_guard_byte(g, p[i++]) < 0) {
			return -1;
		}
	}
	return 0;
}

static double
imap_guard_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The inner stream waits a second at most (IMAP_GUARD_WAIT); a read or a
 * write that failed only after waiting that long found nothing to read or
 * no room to write, and is tried again until the timeout, unless herald
 * is stopping. buf is read into (writing 0) or written from (writing 1).
 */
static ssize_t
imap_guard_io(struct imap_guard *g, int writing, void *buf, size_t count)
{
	double start = imap_guard_clock(), t0;
	ssize_t n;

	if (g->why[0])
		return -1;
	for (;;) {
		if (g->stop && *g->stop)
			return imap_guard_fail(g, IMAP_LOST, "stopped");
		t0 = imap_guard_clock();
		n = writing ? g->inner->driver->mailstream_write(g->inner, buf, count) :
		    g->inner->driver->mailstream_read(g->inner, buf, count);
		if (n >= 0)
			return n;
		if (imap_guard_clock() - t0 < IMAP_GUARD_WAIT / 2.0)
			return -1;	/* a real error: libetpan reports it */
		if (imap_guard_clock() - start >= (double)g->timeout)
			return imap_guard_fail(g, IMAP_LOST, writing ? "could not write for %ld s" :
			    "no answer in %ld s", g->timeout);
	}
}

static ssize_t
imap_guard_read(mailstream_low *s, void *buf, size_t count)
{
	struct imap_guard *g = s->data;
	ssize_t n = imap_guard_io(g, 0, buf, count);

	if (n > 0 && imap_guard_count(g, buf, (size_t)n) < 0)
		return -1;
	return n;
}

/* A command going out: the response to it starts from nothing. */
static ssize_t
imap_guard_write(mailstream_low *s, const void *buf, size_t count)
{
	struct imap_guard *g = s->data;

	if (g->why[0])
		return -1;
	g->total = 0;
	return imap_guard_io(g, 1, (void *)buf, count);
}

static int
imap_guard_close(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	return g->inner->driver->mailstream_close(g->inner);
}

static int
imap_guard_get_fd(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	return g->inner->driver->mailstream_get_fd(g->inner);
}

/* Like libetpan's own drivers, this frees the mailstream_low itself. */
static void
imap_guard_free(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	mailstream_low_free(g->inner);
	free(g);
	free(s);
}

static void
imap_guard_cancel(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	mailstream_low_cancel(g->inner);
}

static struct mailstream_cancel *
imap_guard_get_cancel(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	return mailstream_low_get_cancel(g->inner);
}

static carray *
imap_guard_chain(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	return mailstream_low_get_certificate_chain(g->inner);
}

static int
imap_guard_setup_idle(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	return mailstream_low_setup_idle(g->inner);
}

static int
imap_guard_unsetup_idle(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	return mailstream_low_unsetup_idle(g->inner);
}

static int
imap_guard_interrupt_idle(mailstream_low *s)
{
	struct imap_guard *g = s->data;

	return mailstream_low_interrupt_idle(g->inner);
}

static mailstream_low_driver imap_guard_driver = {
	imap_guard_read, imap_guard_write, imap_guard_close, imap_guard_get_fd,
	imap_guard_free, imap_guard_cancel, imap_guard_get_cancel, imap_guard_chain,
	imap_guard_setup_idle, imap_guard_unsetup_idle, imap_guard_interrupt_idle,
};

/* What herald accepts in answer to the next commands. */
static void
imap_guard_limit(struct imap *im, size_t literal_max, size_t response_max)
{
	if (im->guard == NULL)
		return;
	im->guard->literal_max = literal_max;
	im->guard->response_max = response_max;
}

/* Puts the guard between libetpan and the connected stream. */
static void
imap_guard_wrap(struct imap *im, const struct imap_opts *o)
{
	mailstream *stream = im->s->imap_stream;
	struct imap_guard *g = xcalloc(1, sizeof(*g));
	mailstream_low *low;

	g->inner = mailstream_get_low(stream);
	g->timeout = o->timeout > 0 ? o->timeout : 60;
	g->stop = o->stop;
	mailstream_low_set_timeout(g->inner, IMAP_GUARD_WAIT);
	if ((low = mailstream_low_new(g, &imap_guard_driver)) == NULL)
		fatalx("imap: out of memory");
	mailstream_set_low(stream, low);
	im->guard = g;
	imap_guard_limit(im, IMAP_LITERAL_MAX, IMAP_RESPONSE_MAX);
}

/* ---- errors ---- */

static int
imap_fail(struct imap *im, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
imap_fail(struct imap *im, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(im->err, sizeof(im->err), fmt, ap);
	va_end(ap);
	return status;
}

/* A failed command: the server's own words when it answered, else the stream's fate. */
static int
imap_cmd_fail(struct imap *im, int r, const char *what)
{
	const char *text = im->s ? im->s->imap_response : NULL;

	if (im->guard && im->guard->why[0])
		return imap_fail(im, im->guard->status, "%s: %s:%u: %s", what, im->host, im->port,
		    im->guard->why);
	if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_CONNECTION_REFUSED ||
	    text == NULL || text[0] == '\0')
		return imap_fail(im, IMAP_LOST, "%s: connection to %s:%u lost (libetpan error %d)",
		    what, im->host, im->port, r);
	return imap_fail(im, IMAP_NO, "%s: the server said: %s", what, text);
}

const char *
imap_error(const struct imap *im)
{
	return im ? im->err : "out of memory";
}

const char *
imap_account(const struct imap *im)
{
	return im->account;
}

/* ---- the URL ---- */

static int
imap_parse_url(struct imap *im, const char *url)
{
	const char *p, *end, *colon;
	unsigned long port;
	char *stop;

	if (strncmp(url, "imaps://", 8) == 0) {
		im->tls_implicit = 1;
		p = url + 8;
		im->port = 993;
	} else if (strncmp(url, "imap://", 7) == 0) {
		p = url + 7;
		im->port = 143;
	} else {
		return imap_fail(im, IMAP_REFUSED, "imap url must start with imap:// or imaps://");
	}
	end = p + strcspn(p, "/");
	if (*p == '[') {	/* [IPv6]:port */
		colon = memchr(p, ']', (size_t)(end - p));
		if (colon == NULL)
			return imap_fail(im, IMAP_REFUSED, "imap url: unclosed '[' in %s", url);
		snprintf(im->host, sizeof(im->host), "%.*s", (int)(colon - p - 1), p + 1);
		colon = colon + 1 < end && colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		snprintf(im->host, sizeof(im->host), "%.*s",
		    (int)((colon ? colon : end) - p), p);
	}
	if (colon) {
		port = strtoul(colon + 1, &stop, 10);
		if (stop != end || port == 0 || port > 65535)
			return imap_fail(im, IMAP_REFUSED, "imap url: bad port in %s", url);
		im->port = (unsigned)port;
	}
	if (im->host[0] == '\0')
		return imap_fail(im, IMAP_REFUSED, "imap url: no host in %s", url);
	return IMAP_OK;
}

/* ---- the certificate ---- */

static int
imap_check_name(struct imap *im, gnutls_x509_crt_t crt)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, im->host, ip) == 1) {
		if (gnutls_x509_crt_check_ip(crt, ip, 4, 0))
			return IMAP_OK;
	} else if (inet_pton(AF_INET6, im->host, ip) == 1) {
		if (gnutls_x509_crt_check_ip(crt, ip, 16, 0))
			return IMAP_OK;
	} else if (gnutls_x509_crt_check_hostname2(crt, im->host, 0)) {
		return IMAP_OK;
	}
	return imap_fail(im, IMAP_REFUSED,
	    "the certificate of %s:%u is not for %s: refusing to log in", im->host, im->port,
	    im->host);
}

static int
imap_trust(struct imap *im, gnutls_x509_trust_list_t tl, const char *ca_file)
{
	int n;

	if (ca_file) {
		n = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM,
		    0, 0);
		if (n <= 0)
			return imap_fail(im, IMAP_REFUSED, "imap ca_file %s: no certificate read%s%s",
			    ca_file, n < 0 ? ": " : "", n < 0 ? gnutls_strerror(n) : "");
	} else if (gnutls_x509_trust_list_add_system_trust(tl, 0, 0) <= 0) {
		return imap_fail(im, IMAP_REFUSED, "no system CA certificates to verify %s with",
		    im->host);
	}
	return IMAP_OK;
}

static int
imap_verify(struct imap *im, const char *ca_file)
{
	carray *chain = mailstream_get_certificate_chain(im->s->imap_stream);
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t der, why = { NULL, 0 };
	gnutls_typed_vdata_st purpose;
	unsigned i, n = 0, status = 0;
	int rc;

	if (chain == NULL || carray_count(chain) == 0) {
		rc = imap_fail(im, IMAP_REFUSED, "%s:%u sent no certificate", im->host, im->port);
		goto out;
	}
	crts = xcalloc(carray_count(chain), sizeof(*crts));
	for (n = 0; n < carray_count(chain); n++) {
		MMAPString *s = carray_get(chain, n);

		der.data = (unsigned char *)s->str;
		der.size = (unsigned)s->len;
		if (gnutls_x509_crt_init(&crts[n]) < 0 ||
		    gnutls_x509_crt_import(crts[n], &der, GNUTLS_X509_FMT_DER) < 0) {
			n++;
			rc = imap_fail(im, IMAP_REFUSED, "%s:%u sent a certificate that cannot be read",
			    im->host, im->port);
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		fatalx("imap: out of memory");
	if ((rc = imap_trust(im, tl, ca_file)) != IMAP_OK)
		goto out;
	/* A certificate for a server: not a client's or a code signer's. */
	purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
	purpose.data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	purpose.size = 0;
	if (gnutls_x509_trust_list_verify_crt2(tl, crts, n, &purpose, 1, 0, &status, NULL) < 0 ||
	    status) {
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why,
		    0) < 0)
			why.data = NULL;
		rc = imap_fail(im, IMAP_REFUSED, "the certificate of %s:%u is not trusted%s%s%s:"
		    " refusing to log in", im->host, im->port, why.data ? " (" : "",
		    why.data ? (const char *)why.data : "", why.data ? ")" : "");
		goto out;
	}
	rc = imap_check_name(im, crts[0]);
out:
	gnutls_free(why.data);
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return rc;
}

/* ---- session ---- */

/* SNI: a server that picks its certificate by name must be told the name. */
static void
imap_tls_setup(struct mailstream_ssl_context *ctx, void *arg)
{
	struct imap *im = arg;
	unsigned char ip[16];

	if (inet_pton(AF_INET, im->host, ip) != 1 && inet_pton(AF_INET6, im->host, ip) != 1)
		mailstream_ssl_set_server_name(ctx, im->host);
}

static int
imap_connect(struct imap *im)
{
	int r;

	if (im->tls_implicit) {
		r = mailimap_ssl_connect_with_callback(im->s, im->host, (uint16_t)im->port,
		    imap_tls_setup, im);
	} else {
		r = mailimap_socket_connect(im->s, im->host, (uint16_t)im->port);
		if (r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED || r == MAILIMAP_NO_ERROR) {
			r = mailimap_socket_starttls_with_callback(im->s, imap_tls_setup, im);
			if (r != MAILIMAP_NO_ERROR)
				return imap_fail(im, r == MAILIMAP_ERROR_STREAM ? IMAP_LOST : IMAP_REFUSED,
				    "%s:%u: STARTTLS failed (libetpan error %d): herald never logs in"
				    " in the clear", im->host, im->port, r);
			r = MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
		}
	}
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR)
		return imap_fail(im, IMAP_LOST, "cannot connect to %s:%u (libetpan error %d)",
		    im->host, im->port, r);
	return IMAP_OK;
}

static int
imap_login(struct imap *im, const struct imap_opts *o)
{
	struct mailimap_capability_data *cap = NULL;
	int r;

	r = mailimap_login(im->s, o->username ? o->username : "", o->password ? o->password : "");
	if (r == MAILIMAP_ERROR_STREAM)
		return imap_cmd_fail(im, r, "login");
	/*
	 * "NO [UNAVAILABLE] Temporary authentication failure" comes from a
	 * server that is starting or stopping: try again. Any other NO is the
	 * credentials'.
	 */
	if (r != MAILIMAP_NO_ERROR && im->s->imap_response &&
	    strcasestr(im->s->imap_response, "temporar"))
		return imap_fail(im, IMAP_LOST, "%s:%u: login: %s", im->host, im->port,
		    im->s->imap_response);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(im, IMAP_REFUSED, "%s:%u refused the login of %s: %s", im->host,
		    im->port, o->username ? o->username : "",
		    im->s->imap_response ? im->s->imap_response : "no reason given");
	/* The capabilities change after login (MOVE, UIDPLUS): ask again. */
	r = mailimap_capability(im->s, &cap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_cmd_fail(im, r, "capability");
	mailimap_capability_data_free(cap);
	return IMAP_OK;
}

int
imap_open(const struct imap_opts *o, struct imap **out)
{
	struct imap *im = xcalloc(1, sizeof(*im));
	int rc;

	*out = im;
	if ((rc = imap_parse_url(im, o->url)) != IMAP_OK)
		return rc;
	snprintf(im->account, sizeof(im->account), "%s@%s", o->username ? o->username : "",
	    im->host);
	if ((im->s = mailimap_new(0, NULL)) == NULL)
		fatalx("imap: out of memory");
	mailimap_set_timeout(im->s, o->timeout > 0 ? o->timeout : 60);
	if ((rc = imap_connect(im)) != IMAP_OK)
		return rc;
	imap_guard_wrap(im, o);
	if ((rc = imap_verify(im, o->ca_file)) != IMAP_OK)
		return rc;
	return imap_login(im, o);
}

void
imap_close(struct imap *im)
{
	if (im == NULL)
		return;
	if (im->s) {
		if (im->s->imap_stream)
			mailimap_logout(im->s);
		mailimap_free(im->s);
	}
	free(im);
}

static int imap_exists(struct imap *im, const char *name, int *yes);

/*
 * SELECT said NO. A mailbox that does not exist is the config's mistake;
 * anything else (a server shutting down, a lock) may pass: try again.
 */
static int
imap_select_refused(struct imap *im, const char *mailbox)
{
	char why[sizeof(im->err)];
	int yes = 1;

	snprintf(why, sizeof(why), "%s", im->err);
	if (imap_exists(im, mailbox, &yes) != IMAP_OK || yes) {
		snprintf(im->err, sizeof(im->err), "%s", why);
		return IMAP_LOST;
	}
	return imap_fail(im, IMAP_REFUSED, "mailbox %s does not exist on %s (imap.mailbox)",
	    mailbox, im->host);
}

int
imap_select(struct imap *im, const char *mailbox, unsigned long long *uidvalidity)
{
	int r = mailimap_select(im->s, mailbox), rc;

	*uidvalidity = 0;
	if (r != MAILIMAP_NO_ERROR) {
		rc = imap_cmd_fail(im, r, "select");
		return rc == IMAP_NO ? imap_select_refused(im, mailbox) : rc;
	}
	if (im->s->imap_selection_info == NULL)
		return imap_fail(im, IMAP_LOST, "select %s: no answer", mailbox);
	*uidvalidity = im->s->imap_selection_info->sel_uidvalidity;
	im->uidnext = im->s->imap_selection_info->sel_uidnext;
	return IMAP_OK;
}

/* ---- UIDs and sets ---- */

static int
cmp_uid(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

/* The sorted uids as a set of runs ("3:7,9"), small on the wire. */
static struct mailimap_set *
imap_set(const unsigned long long *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t i = 0, j;

	if (set == NULL)
		fatalx("imap: out of memory");
	while (i < n) {
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
		if (mailimap_set_add_interval(set, (uint32_t)uids[i], (uint32_t)uids[j]) !=
		    MAILIMAP_NO_ERROR)
			fatalx("imap: out of memory");
		i = j + 1;
	}
	return set;
}

/* The UIDs of one UID SEARCH, those in [lo, hi] only, sorted, each once. */
static void
imap_uids_take(clist *result, unsigned long long lo, unsigned long long hi,
    unsigned long long **uids, size_t *n)
{
	unsigned long long *v = NULL, u;
	size_t cap = 0, count = 0, i, k;
	clistiter *it;

	for (it = clist_begin(result); it; it = clist_next(it)) {
		u = *(uint32_t *)clist_content(it);
		if (u < lo || u > hi)
			continue;
		v = xgrow(v, &cap, count + 1, sizeof(*v));
		v[count++] = u;
	}
	if (count > 1)
		qsort(v, count, sizeof(*v), cmp_uid);
	for (i = k = 0; i < count; i++)
		if (k == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	*uids = v;
	*n = k;
}

static int
imap_search(struct imap *im, struct mailimap_set *set, clist **result)
{
	struct mailimap_search_key *key;
	int r;

	*result = NULL;
	if (set == NULL || (key = mailimap_search_key_new_uid(set)) == NULL)
		fatalx("imap: out of memory");
	r = mailimap_uid_search(im->s, NULL, key, result);
	mailimap_search_key_free(key);
	return r == MAILIMAP_NO_ERROR ? IMAP_OK : imap_cmd_fail(im, r, "uid search");
}

int
imap_uid_end(struct imap *im, unsigned long long *end)
{
	clist *result = NULL;
	clistiter *it;
	int rc;

	*end = 0;
	if (im->uidnext > 0) {
		*end = im->uidnext - 1;
		return IMAP_OK;
	}
	/* No UIDNEXT: "UID *" is the highest UID in use, one number. */
	if ((rc = imap_search(im, mailimap_set_new_single(0), &result)) != IMAP_OK)
		return rc;
	for (it = clist_begin(result); it; it = clist_next(it))
		if (*(uint32_t *)clist_content(it) > *end)
			*end = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(result);
	return IMAP_OK;
}

int
imap_uids(struct imap *im, unsigned long long lo, unsigned long long hi,
    unsigned long long **uids, size_t *n)
{
	clist *result = NULL;
	int rc;

	*uids = NULL;
	*n = 0;
	if (hi > 0xffffffffULL)
		hi = 0xffffffffULL;
	if (lo == 0)
		lo = 1;
	if (lo > hi)
		return IMAP_OK;
	if (hi - lo >= IMAP_SEARCH_WINDOW)
		fatalx("imap: a search of %llu UIDs", hi - lo + 1);
	rc = imap_search(im, mailimap_set_new_interval((uint32_t)lo, (uint32_t)hi), &result);
	if (rc != IMAP_OK)
		return rc;
	imap_uids_take(result, lo, hi, uids, n);
	mailimap_search_result_free(result);
	return IMAP_OK;
}

/* ---- fetching ---- */

/* The UID and the body section of one FETCH response. */
static void
imap_msg_parts(struct mailimap_msg_att *m, unsigned long long *uid, const char **body,
    size_t *len)
{
	struct mailimap_msg_att_item *item;
	struct mailimap_msg_att_static *st;
	clistiter *it;

	*uid = 0;
	*body = NULL;
	*len = 0;
	for (it = clist_begin(m->att_list); it; it = clist_next(it)) {
		item = clist_content(it);
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID) {
			*uid = st->att_data.att_uid;
		} else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
		    st->att_data.att_body_section) {
			*body = st->att_data.att_body_section->sec_body_part;
			*len = st->att_data.att_body_section->sec_length;
		}
	}
}

/* One UID FETCH of at most IMAP_FETCH_BUDGET bytes of bodies. */
static int
imap_fetch_some(struct imap *im, const unsigned long long *uids, size_t n, size_t max_bytes,
    imap_msg_fn fn, void *arg)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_fetch_att *att;
	struct mailimap_set *set;
	clist *result = NULL;
	clistiter *it;
	unsigned long long uid;
	const char *body;
	size_t len;
	int r, rc = IMAP_OK;

	set = imap_set(uids, n);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	if (ft == NULL || mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid()) != MAILIMAP_NO_ERROR)
		fatalx("imap: out of memory");
	/* BODY.PEEK: reading a human's mail must not mark it \Seen. */
	att = mailimap_fetch_att_new_body_peek_section_partial(mailimap_section_new(NULL), 0,
	    (uint32_t)max_bytes);
	if (att == NULL || mailimap_fetch_type_new_fetch_att_list_add(ft, att) !=
	    MAILIMAP_NO_ERROR)
		fatalx("imap: out of memory");
	/* A body longer than asked for, or more of them than asked for, is refused. */
	imap_guard_limit(im, max_bytes, IMAP_RESPONSE_MAX + n * max_bytes);
	r = mailimap_uid_fetch(im->s, set, ft, &result);
	imap_guard_limit(im, IMAP_LITERAL_MAX, IMAP_RESPONSE_MAX);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_cmd_fail(im, r, "uid fetch");
	for (it = clist_begin(result); it && rc == IMAP_OK; it = clist_next(it)) {
		imap_msg_parts(clist_content(it), &uid, &body, &len);
		/* Unsolicited FETCH responses (flag changes) carry no body. */
		if (uid == 0 || body == NULL)
			continue;
		if (fn(arg, uid, body, len) < 0)
			rc = imap_fail(im, IMAP_LOST, "stopped");
	}
	mailimap_fetch_list_free(result);
	return rc;
}

int
imap_fetch(struct imap *im, const unsigned long long *uids, size_t n, size_t max_bytes,
    imap_msg_fn fn, void *arg)
{
	size_t per, i, cnt;
	int rc = IMAP_OK;

	if (max_bytes == 0 || max_bytes > IMAP_FETCH_BUDGET)
		fatalx("imap: fetch of %zu bytes a message", max_bytes);
	/* libetpan holds a whole response in memory: a few messages at a time. */
	per = IMAP_FETCH_BUDGET / max_bytes;
	for (i = 0; i < n && rc == IMAP_OK; i += cnt) {
		cnt = n - i < per ? n - i : per;
		rc = imap_fetch_some(im, uids + i, cnt, max_bytes, fn, arg);
	}
	return rc;
}

/* ---- folders and moving ---- */

/* The server's hierarchy delimiter, from LIST "" "". */
static int
imap_delimiter(struct imap *im, char *delim)
{
	struct mailimap_mailbox_list *mb;
	clist *result = NULL;
	int r;

	*delim = '/';
	r = mailimap_list(im->s, "", "", &result);
	if (r != MAILIMAP_NO_ERROR)
		return imap_cmd_fail(im, r, "list");
	if (result && clist_begin(result)) {
		mb = clist_content(clist_begin(result));
		if (mb->mb_delimiter)
			*delim = mb->mb_delimiter;
	}
	if (result)
		mailimap_list_result_free(result);
	return IMAP_OK;
}

static int
imap_exists(struct imap *im, const char *name, int *yes)
{
	clist *result = NULL;
	int r;

	*yes = 0;
	r = mailimap_list(im->s, "", name, &result);
	if (r != MAILIMAP_NO_ERROR)
		return imap_cmd_fail(im, r, "list");
	*yes = result != NULL && clist_count(result) > 0;
	if (result)
		mailimap_list_result_free(result);
	return IMAP_OK;
}

int
imap_folder(struct imap *im, const char *path, char **name)
{
	char delim, *full, *p, save;
	int rc, yes, r;

	*name = NULL;
	if ((rc = imap_delimiter(im, &delim)) != IMAP_OK)
		return rc;
	full = xstrdup(path);
	for (p = full; *p; p++)
		if (*p == '/')
			*p = delim;
	/* Each level in turn: not every server creates the parents itself. */
	for (p = full;; p++) {
		if (*p != delim && *p != '\0')
			continue;
		save = *p;
		*p = '\0';
		if ((rc = imap_exists(im, full, &yes)) != IMAP_OK)
			break;
		if (!yes) {
			r = mailimap_create(im->s, full);
			if (r != MAILIMAP_NO_ERROR) {
				rc = imap_cmd_fail(im, r, "create");
				break;
			}
			mailimap_subscribe(im->s, full);
		}
		*p = save;
		if (save == '\0')
			break;
	}
	if (rc != IMAP_OK) {
		free(full);
		return rc;
	}
	*name = full;
	return IMAP_OK;
}

static int
imap_copy_delete(struct imap *im, struct mailimap_set *set, const char *folder)
{
	struct mailimap_flag_list *flags;
	struct mailimap_store_att_flags *sf;
	int r;

	r = mailimap_uid_copy(im->s, set, folder);
	if (r != MAILIMAP_NO_ERROR)
		return imap_cmd_fail(im, r, "uid copy");
	flags = mailimap_flag_list_new_empty();
	if (flags == NULL || mailimap_flag_list_add(flags, mailimap_flag_new_deleted()) !=
	    MAILIMAP_NO_ERROR || (sf = mailimap_store_att_flags_new_add_flags_silent(flags)) ==
	    NULL)
		fatalx("imap: out of memory");
	r = mailimap_uid_store(im->s, set, sf);
	mailimap_store_att_flags_free(sf);
	if (r != MAILIMAP_NO_ERROR)
		return imap_cmd_fail(im, r, "uid store");
	/*
	 * Only UID EXPUNGE removes exactly these: a plain EXPUNGE would also
	 * remove messages the user marked \Deleted. Without UIDPLUS they stay,
	 * marked, for the user's client to expunge.
	 */
	if (mailimap_has_extension(im->s, "UIDPLUS")) {
		r = mailimap_uid_expunge(im->s, set);
		if (r != MAILIMAP_NO_ERROR)
			return imap_cmd_fail(im, r, "uid expunge");
	}
	return IMAP_OK;
}

int
imap_move(struct imap *im, const unsigned long long *uids, size_t n, const char *folder)
{
	struct mailimap_set *set;
	int r, rc = IMAP_OK;

	if (n == 0)
		return IMAP_OK;
	set = imap_set(uids, n);
	if (mailimap_has_extension(im->s, "MOVE")) {
		r = mailimap_uid_move(im->s, set, folder);
		if (r != MAILIMAP_NO_ERROR)
			rc = imap_cmd_fail(im, r, "uid move");
	} else {
		rc = imap_copy_delete(im, set, folder);
	}
	mailimap_set_free(set);
	return rc;
}

/* ---- IDLE ---- */

int
imap_has_idle(struct imap *im)
{
	return mailimap_has_idle(im->s);
}

int
imap_idle_start(struct imap *im, int *fd)
{
	int r = mailimap_idle(im->s);

	*fd = -1;
	if (r != MAILIMAP_NO_ERROR)
		return imap_cmd_fail(im, r, "idle");
	if ((*fd = mailimap_idle_get_fd(im->s)) < 0)
		return imap_fail(im, IMAP_LOST, "idle: no socket to wait on");
	return IMAP_OK;
}

int
imap_idle_done(struct imap *im)
{
	int r = mailimap_idle_done(im->s);

	return r == MAILIMAP_NO_ERROR ? IMAP_OK : imap_cmd_fail(im, r, "idle done");
}
