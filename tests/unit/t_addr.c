/* t_addr.c - addr_parse: input -> canonical email and name, or the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "addr.h"
#include "util.h"

struct ok_case {
	const char *in;
	const char *email;
	const char *name;
};

struct bad_case {
	const char *in;
	const char *reason;
};

static const struct ok_case good[] = {
	{ "bob@example.net", "bob@example.net", NULL },
	{ "Ana Pérez <ana@example.org>", "ana@example.org", "Ana Pérez" },
	{ "\"Smith, Bob\" <bob@x.org>", "bob@x.org", "Smith, Bob" },
	{ "  Bob@Example.NET \t", "bob@example.net", NULL },
	{ "<ANA@EXAMPLE.ORG>", "ana@example.org", NULL },
	{ "Ana   Pérez    <ana@example.org>", "ana@example.org", "Ana Pérez" },
	{ "=?UTF-8?Q?Ana_P=C3=A9rez?= <ana@example.org>", "ana@example.org", "Ana Pérez" },
	{ "=?utf-8?b?Sm9zw6kgTXXDsW96?= <jose@example.org>", "jose@example.org", "José Muñoz" },
	{ "=?iso-8859-1?q?Jos=E9?= <j@example.org>", "j@example.org", "José" },
	{ "=?UTF-8?Q?Fran=C3=A7ois?= Dupont <f@example.fr>", "f@example.fr", "François Dupont" },
	{ "\"\" <a@example.org>", "a@example.org", NULL },
	{ "Zoë <zoe+news@mail.example.co.uk>", "zoe+news@mail.example.co.uk", "Zoë" },
	{ "o'brien@example.ie", "o'brien@example.ie", NULL },
	{ "first.last@sub-domain.example.com", "first.last@sub-domain.example.com", NULL },
	{ "x@xn--bcher-kva.example", "x@xn--bcher-kva.example", NULL },
	{ "\"a\\\"b\" <x@y.example>", "x@y.example", "a\"b" },
};

static const struct bad_case bad[] = {
	{ "", "empty address" },
	{ "   ", "empty address" },
	{ "bob", "missing '@'" },
	{ "Bob Smith", "missing '@'" },
	{ "bob@", "missing domain" },
	{ "Bob <bob@>", "missing domain" },
	{ "@example.org", "missing local part" },
	{ "bob@localhost", "domain has no dot" },
	{ "Bob <bob@x>", "domain has no dot" },
	{ "bob@x..org", "invalid domain" },
	{ "bob@-x.org", "invalid domain" },
	{ "bob@x-.org", "invalid domain" },
	{ "bob@x.org.", "invalid domain" },
	{ "bob@x_y.org", "invalid domain" },
	{ "a@b@example.org", "invalid domain" },
	{ "bob@[192.0.2.1]", "address literal not supported" },
	{ "bob.@x.org", "invalid local part" },
	{ ".bob@x.org", "invalid local part" },
	{ "b..ob@x.org", "invalid local part" },
	{ "\"bob smith\"@x.org", "quoted local part not supported" },
	{ "a b@x.org", "invalid address" },
	{ "bob@x.org junk", "invalid address" },
	{ "Bob <bob @x.org>", "invalid address" },
	{ "Bob <bob@x.org", "invalid local part" },
	{ "bob@x.org (comment)", "invalid address" },
	{ "bob@x.org, eve@y.org", "invalid address" },
	{ "bob@x.org\r\nBcc: eve@y.org", "address contains a line break" },
	{ "Bob\n <bob@x.org>", "address contains a line break" },
	{ "bob\001@x.org", "address contains a control character" },
	{ "=?utf-8?q?Bob=0D=0ABcc:_eve@y.org?= <bob@x.org>", "name contains a line break" },
	{ "=?utf-8?q?Bob=07?= <bob@x.org>", "name contains a control character" },
	{ "J\xe9r\xf4me <jerome@example.org>", "name is not valid utf-8" },
	{ "josé@example.org", "non-ascii address (write the domain in punycode)" },
	{ "jose@exámple.org", "non-ascii address (write the domain in punycode)" },
};

/* The input with control characters escaped, for TAP test names. */
static const char *
show(const char *s)
{
	static char out[512];
	size_t n = 0;

	for (; *s && n + 5 < sizeof(out); s++) {
		if ((unsigned char)*s < 0x20)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "\\x%02x", *s);
		else
			out[n++] = *s;
	}
	out[n] = '\0';
	return out;
}

static void
test_good(void)
{
	struct addr a;
	char err[128], name[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(good); i++) {
		err[0] = '\0';
		int r = addr_parse(good[i].in, strlen(good[i].in), &a, err, sizeof(err));
		if (!ok(r == 0, "accepts '%s'", good[i].in)) {
			tap_diag("reason: %s", err);
			continue;
		}
		snprintf(name, sizeof(name), "email of '%s'", good[i].in);
		is_str(a.email, good[i].email, name);
		snprintf(name, sizeof(name), "name of '%s'", good[i].in);
		is_str(a.name, good[i].name, name);
		addr_clear(&a);
	}
}

static void
test_bad(void)
{
	struct addr a;
	char err[128], name[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		int r = addr_parse(bad[i].in, strlen(bad[i].in), &a, err, sizeof(err));
		snprintf(name, sizeof(name), "rejects '%s'", show(bad[i].in));
		if (!ok(r == -1 && a.email == NULL && a.name == NULL, "%s", name)) {
			addr_clear(&a);
			continue;
		}
		snprintf(name, sizeof(name), "reason for '%s'", show(bad[i].in));
		is_str(err, bad[i].reason, name);
	}
}

static void
test_limits(void)
{
	char buf[400], err[128];
	struct addr a;
	size_t n;

	/* 64-octet local part: accepted; 65: rejected. */
	memset(buf, 'a', 64);
	strcpy(buf + 64, "@example.org");
	ok(addr_parse(buf, strlen(buf), &a, err, sizeof(err)) == 0, "64-octet local part");
	addr_clear(&a);
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.org");
	ok(addr_parse(buf, strlen(buf), &a, err, sizeof(err)) == -1, "65-octet local part");
	is_str(err, "local part longer than 64 octets", "reason for 65-octet local part");

	/* 254 octets in all: accepted; 255: rejected. */
	n = 0;
	memcpy(buf, "a@", 2), n = 2;
	while (n < 254 - 4) {
		size_t k = 254 - 4 - n > 60 ? 60 : 254 - 4 - n;
		memset(buf + n, 'b', k);
		n += k;
		if (n < 254 - 4)
			buf[n++] = '.';
	}
	memcpy(buf + n, ".org", 5);
	is_int((long long)strlen(buf), 254, "built a 254-octet address");
	ok(addr_parse(buf, strlen(buf), &a, err, sizeof(err)) == 0, "254-octet address");
	addr_clear(&a);
	memmove(buf + 3, buf + 2, strlen(buf + 2) + 1);
	buf[2] = 'c';
	ok(addr_parse(buf, strlen(buf), &a, err, sizeof(err)) == -1, "255-octet address");
	is_str(err, "address longer than 254 octets", "reason for 255-octet address");

	/* A NUL inside the given length is a control character. */
	ok(addr_parse("bob@x.org\0z", 11, &a, err, sizeof(err)) == -1, "embedded NUL");
	is_str(err, "address contains a control character", "reason for embedded NUL");

	/* Only len bytes are read. */
	ok(addr_parse("bob@x.orgZZZ", 9, &a, err, sizeof(err)) == 0, "honours len");
	is_str(a.email, "bob@x.org", "email with len");
	addr_clear(&a);

	/* A tiny err buffer is truncated, never overrun. */
	ok(addr_parse("bob", 3, &a, err, 4) == -1 && strcmp(err, "mis") == 0, "short err buffer");
	addr_clear(NULL);
}

static void
test_hash(void)
{
	uint64_t a = addr_hash("ana@example.org", 15);
	uint64_t b = addr_hash("ana@example.org", 15);
	uint64_t c = addr_hash("ana@example.orh", 15);

	ok(a == b, "hash is deterministic");
	ok(a != c, "hash differs for a one-letter change");
	ok(addr_hash("", 0) != 0, "hash is never 0");
}

int
main(void)
{
	test_good();
	test_bad();
	test_limits();
	test_hash();
	return done_testing();
}
