/*
 * t_http.c - http.c's pure parts: the listen address, the request path and
 * the framing check of a request's header fields.
 * The server itself is tested over real HTTP by tests/integration/oneclick.t.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

#include "http.h"

static void
listen_good(const char *s, int family, unsigned port, const char *addr)
{
	struct http_listen l;
	char err[256] = "", text[INET6_ADDRSTRLEN] = "";
	const void *a;

	if (!ok(http_listen_parse(s, &l, err, sizeof(err)) == 0, "listen '%s' is accepted", s)) {
		tap_diag("%s", err);
		return;
	}
	a = family == AF_INET ? (const void *)&((struct sockaddr_in *)&l.ss)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)&l.ss)->sin6_addr;
	inet_ntop(family, a, text, sizeof(text));
	ok(l.ss.ss_family == family && l.port == port && strcmp(text, addr) == 0,
	    "'%s' is %s port %u", s, addr, port);
}

static void
listen_bad(const char *s, const char *why)
{
	struct http_listen l;
	char err[256] = "";

	ok(http_listen_parse(s, &l, err, sizeof(err)) == -1 && err[0] != '\0',
	    "listen '%s' is refused: %s", s, why);
}

static void
test_listen(void)
{
	listen_good("127.0.0.1:8025", AF_INET, 8025, "127.0.0.1");
	listen_good("0.0.0.0:1", AF_INET, 1, "0.0.0.0");
	listen_good("[::1]:65535", AF_INET6, 65535, "::1");
	listen_good("[2001:db8::7]:80", AF_INET6, 80, "2001:db8::7");
	listen_bad("127.0.0.1", "no port");
	listen_bad("127.0.0.1:", "an empty port");
	listen_bad("127.0.0.1:0", "port 0");
	listen_bad("127.0.0.1:65536", "a port over 65535");
	listen_bad("127.0.0.1:+80", "a sign");
	listen_bad("127.0.0.1:80x", "junk after the port");
	listen_bad("localhost:8025", "a host name");
	listen_bad("::1:8025", "IPv6 without brackets");
	listen_bad("[::1:8025", "an open bracket");
	listen_bad("[]:8025", "empty brackets");
	listen_bad("[127.0.0.1]:8025", "IPv4 in brackets");
	listen_bad("1.2.3:8025", "three octets");
	listen_bad(":8025", "no address");
}

static void
path_good(const char *path, const char *want)
{
	const char *tok = NULL;
	size_t len = 0;

	ok(http_token_path(path, &tok, &len) == 0 && len == strlen(want) &&
	    memcmp(tok, want, len) == 0, "path '%s' carries token '%s'", path, want);
}

static void
path_bad(const char *path, const char *why)
{
	const char *tok;
	size_t len;

	ok(http_token_path(path, &tok, &len) == -1, "path '%s' is no token's: %s", path, why);
}

static void
test_path(void)
{
	char longest[64], too_long[65];

	path_good("/unsubscribe/b-abcdefghijklmnop", "b-abcdefghijklmnop");
	path_good("/unsubscribe/B-ABCDEFGHIJKLMNOP", "B-ABCDEFGHIJKLMNOP");
	memcpy(longest, "/unsubscribe/", 13);
	memset(longest + 13, 'a', TOKEN_MAX - 1);
	longest[13 + TOKEN_MAX - 1] = '\0';
	path_good(longest, longest + 13);
	memcpy(too_long, longest, sizeof(longest));
	strcat(too_long, "a");
	path_bad(too_long, "longer than TOKEN_MAX - 1");
	path_bad("/unsubscribe/", "no token");
	path_bad("/unsubscribe", "no slash");
	path_bad("/unsubscribe/b-abc/", "a trailing slash");
	path_bad("/unsubscribe/b-abc/x", "more path");
	path_bad("/unsubscribe/b-abc0", "a 0 (not base32)");
	path_bad("/unsubscribe/b-ab%63", "a percent escape");
	path_bad("/unsubscribe/b_abc", "an underscore");
	path_bad("/Unsubscribe/b-abc", "another path");
	path_bad("/unsubscribe/../etc", "dots");
	path_bad("//unsubscribe/b-abc", "a double slash");
	path_bad("", "empty");
}

/* Each case: the field names of one request, "|" between them; NULL or the refusal expected. */
static const struct {
	const char *names;
	const char *why;
} framing_cases[] = {
	{ "Host|Content-Type|Content-Length", NULL },
	{ "Host|Transfer-Encoding", NULL },
	{ "Host", NULL },
	{ "host|content-length|X-Forwarded-For|Accept-Encoding", NULL },
	{ "A1!#$%&'*+-.^_`|~z", NULL },
	{ "Content-Length|Content-Length", "more than one Content-Length" },
	{ "Content-Length|content-length", "more than one Content-Length" },
	{ "Content-Length|Transfer-Encoding", "both Transfer-Encoding and Content-Length" },
	{ "Transfer-Encoding|CONTENT-LENGTH", "both Transfer-Encoding and Content-Length" },
	{ "Host|Content-Length ", "a header field name that is not a token" },
	{ "Content-Length\t", "a header field name that is not a token" },
	{ "X Foo", "a header field name that is not a token" },
	{ " Host", "a header field name that is not a token" },
	{ "X@Foo", "a header field name that is not a token" },
	{ "X(Foo)", "a header field name that is not a token" },
	{ "X\"Foo", "a header field name that is not a token" },
	{ "X\001", "a header field name that is not a token" },
	{ "X\303\251", "a header field name that is not a token" },
	{ "", "a header field name that is not a token" },
};

static void
test_framing(void)
{
	char names[128], *name, *save;
	size_t i;

	for (i = 0; i < sizeof(framing_cases) / sizeof(framing_cases[0]); i++) {
		struct http_framing f = { 0 };
		const char *want = framing_cases[i].why, *got;

		snprintf(names, sizeof(names), "%s", framing_cases[i].names);
		if (names[0] == '\0')
			http_framing_add(&f, "");
		for (name = strtok_r(names, "|", &save); name; name = strtok_r(NULL, "|", &save))
			http_framing_add(&f, name);
		got = http_framing_refusal(&f);
		ok(want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0,
		    "fields '%s': %s", framing_cases[i].names, want ? want : "accepted");
	}
}

int
main(void)
{
	test_listen();
	test_path();
	test_framing();
	return done_testing();
}
