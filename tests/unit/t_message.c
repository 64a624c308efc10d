/*
 * t_message.c - message.c: quoted-printable, RFC 2047 headers, whole messages.
 *
 * Fixed inputs are compared byte for byte against expected output; random
 * inputs (a fixed seed) are decoded again by the independent decoders
 * below and checked for line lengths and header injection.
 *
 * Run with --samples, --emit N or --expect N it prints the sample messages
 * that tests/integration/message-python.t feeds to Python's email package.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "message.h"
#include "util.h"

/* ---- decoders for checking, written apart from message.c ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, j;
	unsigned long c;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			k = 2, c = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			k = 3, c = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			k = 4, c = s[i] & 0x07;
		else
			return 0;
		if (n - i < k)
			return 0;
		for (j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 3 && c < 0x800) || (k == 4 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += k;
	}
	return 1;
}

/*
 * Decodes quoted-printable as a strict reader would, checking what
 * message_qp_encode promises. Returns 0, or -1 (and sets *why) on a violation.
 */
static int
qp_decode(const char *s, size_t len, struct buf *out, const char **why)
{
	size_t i = 0, j, start, end, cend;
	int soft;

	while (i < len) {
		for (start = i; i < len && s[i] != '\r' && s[i] != '\n'; i++)
			;
		if (i < len && (s[i] != '\r' || i + 1 == len || s[i + 1] != '\n')) {
			*why = "bare CR or LF";
			return -1;
		}
		end = i;
		soft = end > start && s[end - 1] == '=';
		cend = end - (size_t)soft;
		if (end - start > 76) {
			*why = "line over 76";
			return -1;
		}
		if (!soft && end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
			*why = "trailing white space";
			return -1;
		}
		if (end > start && (s[start] == '.' || (end - start >= 5 &&
		    memcmp(s + start, "From ", 5) == 0))) {
			*why = "unencoded . or From at line start";
			return -1;
		}
		for (j = start; j < cend; j++) {
			unsigned char c = (unsigned char)s[j];
			if (c == '=') {
				if (j + 2 >= cend || hexval(s[j + 1]) < 0 || hexval(s[j + 2]) < 0) {
					*why = "bad or split =XX";
					return -1;
				}
				buf_addc(out, (char)(hexval(s[j + 1]) * 16 + hexval(s[j + 2])));
				j += 2;
			} else if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
				buf_addc(out, (char)c);
			} else {
				*why = "raw byte outside printable ASCII";
				return -1;
			}
		}
		if (i < len) {
			i += 2;
			if (!soft)
				buf_adds(out, "\r\n");
		} else if (soft) {
			*why = "soft break at the end";
			return -1;
		}
	}
	return 0;
}

static int
b64val(char c)
{
	const char *set =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(set, c) : NULL;

	return p ? (int)(p - set) : -1;
}

/* One encoded-word ("=?UTF-8?Q?...?=") of exactly len bytes, or -1. */
static int
ew_decode(const char *w, size_t len, struct buf *out)
{
	size_t i, start = out->len;
	int b64, v[4], k;

	if (len > 75 || len < 12 || strncmp(w, "=?UTF-8?", 8) != 0 ||
	    (w[8] != 'Q' && w[8] != 'B') || w[9] != '?' ||
	    w[len - 2] != '?' || w[len - 1] != '=')
		return -1;
	b64 = w[8] == 'B';
	w += 10;
	len -= 12;
	for (i = 0; b64 && i < len; i += 4) {
		if (len % 4)
			return -1;
		for (k = 0; k < 4; k++)
			v[k] = w[i + k] == '=' ? 0 : b64val(w[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			return -1;
		buf_addc(out, (char)(v[0] << 2 | v[1] >> 4));
		if (w[i + 2] != '=')
			buf_addc(out, (char)((v[1] & 15) << 4 | v[2] >> 2));
		if (w[i + 3] != '=')
			buf_addc(out, (char)((v[2] & 3) << 6 | v[3]));
	}
	for (i = 0; !b64 && i < len; i++) {
		if (w[i] == '_') {
			buf_addc(out, ' ');
		} else if (w[i] == '=') {
			if (i + 2 >= len || hexval(w[i + 1]) < 0 || hexval(w[i + 2]) < 0)
				return -1;
			buf_addc(out, (char)(hexval(w[i + 1]) * 16 + hexval(w[i + 2])));
			i += 2;
		} else if (strchr("?", w[i]) || w[i] <= ' ' || w[i] > '~') {
			return -1;
		} else {
			buf_addc(out, w[i]);
		}
	}
	/* Each encoded-word must hold whole characters. */
	return utf8_valid((unsigned char *)out->data + start, out->len - start) ? 0 : -1;
}

static int
is_ew(const char *w, size_t len)
{
	return len >= 12 && strncmp(w, "=?UTF-8?", 8) == 0 &&
	    w[len - 2] == '?' && w[len - 1] == '=';
}

/*
 * Checks the shape of one header field written by message.c (one field,
 * CRLF, folded lines starting with a space, lines within max) and returns
 * it unfolded, without "Name: " and the final CRLF. NULL and *why on a fault.
 */
static char *
header_unfold(const char *h, const char *name, size_t max, const char **why)
{
	struct buf out = BUF_INIT;
	size_t n = strlen(name), col = 0;
	const char *p;

	if (strncmp(h, name, n) != 0 || h[n] != ':' || h[n + 1] != ' ') {
		*why = "no 'Name: '";
		return NULL;
	}
	for (p = h; *p; p++) {
		if (*p == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\0')) {
			if (col > max) {
				*why = "line too long";
				goto fail;
			}
			col = 0;
			p++;
			continue;
		}
		if (*p == '\r' || *p == '\n' || (*p > 0 && *p < ' ' && *p != '\t') || *p == 0x7f) {
			*why = "control character";
			goto fail;
		}
		if ((unsigned char)*p >= 0x80) {
			*why = "raw 8-bit byte";
			goto fail;
		}
		col++;
		if (p >= h + n + 2)
			buf_addc(&out, *p);
	}
	if (col != 0 || p == h || p[-1] != '\n') {
		*why = "no final CRLF";
		goto fail;
	}
	return buf_detach(&out);
fail:
	buf_free(&out);
	return NULL;
}

/* RFC 2047 decoding of an unstructured value: white space between encoded-words goes. */
static char *
unstructured_decode(const char *v, const char **why)
{
	struct buf out = BUF_INIT;
	const char *p = v, *w, *sp;
	int last_ew = 0;

	while (*p) {
		sp = p;
		while (*p == ' ')
			p++;
		w = p;
		while (*p && *p != ' ')
			p++;
		if (w < p && is_ew(w, (size_t)(p - w))) {
			if (!last_ew)
				buf_add(&out, sp, (size_t)(w - sp));
			if (ew_decode(w, (size_t)(p - w), &out) == -1) {
				*why = "bad encoded-word";
				buf_free(&out);
				return NULL;
			}
			last_ew = 1;
		} else {
			buf_add(&out, sp, (size_t)(p - sp));
			last_ew = 0;
		}
	}
	return buf_detach(&out);
}

/* ---- quoted-printable ---- */

struct qp_case {
	const char *in;
	const char *out;
};

static const struct qp_case qp_cases[] = {
	{ "", "" },
	{ "hello\n", "hello\r\n" },
	{ "a\r\nb", "a\r\nb" },
	{ "a\n\nb\n", "a\r\n\r\nb\r\n" },
	{ "a=b", "a=3Db" },
	{ "=_boundary?", "=3D_boundary?" },
	{ "trail \n", "trail=20\r\n" },
	{ "trail\t", "trail=09" },
	{ "two  \r\nx", "two =20\r\nx" },
	{ "tab\tinside", "tab\tinside" },
	{ "From here\nFrom\nFromage\n From x", "=46rom here\r\nFrom\r\nFromage\r\n From x" },
	{ ".\n.x\na.\n", "=2E\r\n=2Ex\r\na.\r\n" },
	{ "caf\xc3\xa9", "caf=C3=A9" },
	{ "it’s", "it=E2=80=99s" },
	{ "b\rc\r", "b=0Dc=0D" },
	{ "\r\r\n", "=0D\r\n" },
	{ "\x01\x1b\x7f\xff", "=01=1B=7F=FF" },
	{ "-- \nOGP", "--=20\r\nOGP" },
};

/* n times 'x' followed by tail, and what it must encode to. */
struct qp_long_case {
	size_t n;
	const char *tail;
	size_t out_n;
	const char *out_tail;
};

static const struct qp_long_case qp_long_cases[] = {
	{ 76, "", 76, "" },
	{ 76, "\n", 76, "\r\n" },
	{ 77, "", 75, "=\r\nxx" },
	{ 75, "=", 75, "=\r\n=3D" },
	{ 73, "=", 73, "=3D" },
	{ 72, "=a", 72, "=3Da" },
	{ 73, "=a", 73, "=\r\n=3Da" },
	{ 74, "é", 74, "=\r\n=C3=A9" },
	{ 73, "é", 73, "=\r\n=C3=A9" },
	{ 72, "é", 72, "=C3=\r\n=A9" },
	{ 75, " ", 75, "=\r\n=20" },
	{ 73, " ", 73, "=20" },
	{ 74, " x", 74, " x" },
	{ 75, " x", 75, "=\r\n x" },
	{ 75, "From you", 75, "=\r\n=46rom you" },
	{ 75, ".x", 75, "=\r\n=2Ex" },
	{ 150, "", 75, "=\r\n" },	/* checked by prefix only */
};

static char *
xs(size_t n, const char *tail)
{
	char *s = xmalloc(n + strlen(tail) + 1);

	memset(s, 'x', n);
	strcpy(s + n, tail);
	return s;
}

static void
test_qp_table(void)
{
	struct buf b = BUF_INIT;
	char *in, *want;
	size_t i;

	for (i = 0; i < ARRAY_LEN(qp_cases); i++) {
		buf_reset(&b);
		message_qp_encode(qp_cases[i].in, strlen(qp_cases[i].in), &b);
		is_str(buf_str(&b), qp_cases[i].out, "qp: table case");
	}
	for (i = 0; i < ARRAY_LEN(qp_long_cases); i++) {
		const struct qp_long_case *c = &qp_long_cases[i];
		in = xs(c->n, c->tail);
		want = xs(c->out_n, c->out_tail);
		buf_reset(&b);
		message_qp_encode(in, strlen(in), &b);
		if (c->n == 150)
			ok(strncmp(buf_str(&b), want, strlen(want)) == 0 &&
			    b.len == 75 + 3 + 75, "qp: 150 x -> 75 + soft break + 75");
		else
			is_str(buf_str(&b), want, "qp: long line case");
		free(in);
		free(want);
	}
	/* Embedded NUL: the length, not strlen, bounds the input. */
	buf_reset(&b);
	message_qp_encode("a\0b", 3, &b);
	is_str(buf_str(&b), "a=00b", "qp: NUL byte encoded");
	buf_free(&b);
}

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

/* LF not after CR becomes CRLF: what a QP round trip gives back. */
static void
crlf(const char *s, size_t len, struct buf *b)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf_addc(b, '\r');
		buf_addc(b, s[i]);
	}
}

static void
test_qp_random(void)
{
	static const char *pieces[] = {
		"x", "word ", " ", "\t", "=", "\n", "\r\n", "\r", ".", "From ",
		"é", "’", "\xff", "\0", "_", "?", "=_", "-- ",
	};
	struct buf in = BUF_INIT, enc = BUF_INIT, dec = BUF_INIT, want = BUF_INIT;
	const char *why = "", *p;
	int i, k, n, bad = 0, bad_bound = 0;

	for (i = 0; i < 3000; i++) {
		buf_reset(&in);
		n = (int)rnd(120);
		for (k = 0; k < n; k++) {
			p = pieces[rnd(ARRAY_LEN(pieces))];
			if (rnd(10) == 0)
				buf_add(&in, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 35);
			buf_add(&in, p, *p ? strlen(p) : 1);
		}
		buf_reset(&enc);
		message_qp_encode(buf_str(&in), in.len, &enc);
		if (strstr(buf_str(&enc), "=_"))
			bad_bound++;
		buf_reset(&dec);
		buf_reset(&want);
		crlf(buf_str(&in), in.len, &want);
		if (qp_decode(buf_str(&enc), enc.len, &dec, &why) == -1 ||
		    dec.len != want.len || memcmp(buf_str(&dec), buf_str(&want), dec.len)) {
			if (!bad++)
				tap_diag("qp round trip failed (%s): %s", why, buf_str(&enc));
		}
	}
	is_int(bad, 0, "qp: 3000 random inputs decode back, lines <= 76, no trailing space");
	is_int(bad_bound, 0, "qp: output never contains \"=_\"");
	buf_free(&in);
	buf_free(&enc);
	buf_free(&dec);
	buf_free(&want);
}

/* ---- unstructured headers ---- */

struct header_case {
	const char *in;
	const char *out;
};

static const struct header_case header_cases[] = {
	{ "Hello world", "Subject: Hello world\r\n" },
	{ "Hi\r\nBcc: evil@example.com", "Subject: Hi  Bcc: evil@example.com\r\n" },
	{ "", "Subject: \r\n" },
	{ " \t\r\n", "Subject: \r\n" },
	{ "  lead and trail \n", "Subject: lead and trail\r\n" },
	{ "a  b", "Subject: a  b\r\n" },
	{ "OGP’s summit", "Subject: =?UTF-8?Q?OGP=E2=80=99s?= summit\r\n" },
	{ "=?utf-8?q?x?= y", "Subject: =?UTF-8?Q?=3D=3Futf-8=3Fq=3Fx=3F=3D?= y\r\n" },
	{ "The Open Government Partnership announces the Americas regional summit in Buenos Aires, November 2026",
	    "Subject: The Open Government Partnership announces the Americas regional\r\n"
	    " summit in Buenos Aires, November 2026\r\n" },
	{ "Cumbre de las Américas: declaración final para la sociedad civil y los gobiernos de la región",
	    "Subject: Cumbre de las =?UTF-8?Q?Am=C3=A9ricas=3A_declaraci=C3=B3n?= final\r\n"
	    " para la sociedad civil y los gobiernos de la =?UTF-8?Q?regi=C3=B3n?=\r\n" },
	{ "Resumo: ação, informação e participação cidadã nas Américas — relatório",
	    "Subject: Resumo: =?UTF-8?Q?a=C3=A7=C3=A3o=2C_informa=C3=A7=C3=A3o?= e\r\n"
	    " =?UTF-8?Q?participa=C3=A7=C3=A3o_cidad=C3=A3?= nas =?UTF-8?Q?Am=C3=A9ricas_?=\r\n"
	    " =?UTF-8?Q?=E2=80=94_relat=C3=B3rio?=\r\n" },
	{ "日本語のテキストです。日本語のテキストです。",
	    "Subject: =?UTF-8?B?5pel5pys6Kqe44Gu44OG44Kt44K544OI44Gn44GZ44CC5pel5pys6Kqe?=\r\n"
	    " =?UTF-8?B?44Gu44OG44Kt44K544OI44Gn44GZ44CC?=\r\n" },
	{ "caf\xe9 ok", "Subject: =?UTF-8?Q?caf=EF=BF=BD?= ok\r\n" },
	{ "a\xc2\x85" "b\xe2\x80\xa8" "c\x7f" "d\te", "Subject: a b c d e\r\n" },
	{ "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 end",
	    "Subject: =?UTF-8?Q?012345678901234567890123456789012345678901234567890123456?=\r\n"
	    " =?UTF-8?Q?7890123456789012345678901234567890123456789?= end\r\n" },
};

static void
test_header_table(void)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_LEN(header_cases); i++) {
		buf_reset(&b);
		message_header(&b, "Subject", header_cases[i].in);
		is_str(buf_str(&b), header_cases[i].out, "header: table case");
	}
	buf_reset(&b);
	message_header(&b, "Subject", NULL);
	is_str(buf_str(&b), "Subject: \r\n", "header: NULL value");
	buf_reset(&b);
	buf_adds(&b, "X: y\r\n");
	message_header(&b, "X-Herald-Release", "ogp-americas-2017");
	is_str(buf_str(&b), "X: y\r\nX-Herald-Release: ogp-americas-2017\r\n",
	    "header: appends, any name");
	buf_free(&b);
}

/* A piece of random header input and what cleaning makes of it. */
struct piece {
	const char *in;
	const char *clean;
};

static const struct piece header_pieces[] = {
	{ "a", "a" }, { "word", "word" }, { "Américas", "Américas" },
	{ "’", "’" }, { "日本", "日本" }, { "😀", "😀" }, { " ", " " },
	{ "  ", "  " }, { "\r\n", "  " }, { "\n", " " }, { "\t", " " },
	{ "\x1b", " " }, { "\xc2\x85", " " }, { "\xe2\x80\xa8", " " },
	{ "=?", "=?" }, { "?=", "?=" }, { "_", "_" }, { "=", "=" },
	{ "\"", "\"" }, { ",", "," }, { "\xff", "\xef\xbf\xbd" },
	{ "\xc3", "\xef\xbf\xbd" }, { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
	{ "Bcc: evil@example.com", "Bcc: evil@example.com" },
};

static char *
trim_spaces(const char *s)
{
	size_t n = strlen(s);

	while (*s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	return xstrndup(s, n);
}

static void
test_header_random(void)
{
	struct buf in = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
	const char *why = "";
	char *v, *dec, *exp;
	int i, k, n, bad = 0;

	for (i = 0; i < 5000; i++) {
		buf_reset(&in);
		buf_reset(&want);
		n = (int)rnd(i < 4000 ? 25 : 200);
		for (k = 0; k < n; k++) {
			const struct piece *p = &header_pieces[rnd(ARRAY_LEN(header_pieces))];
			buf_adds(&in, p->in);
			buf_adds(&want, p->clean);
		}
		buf_reset(&out);
		message_header(&out, "Subject", buf_str(&in));
		exp = trim_spaces(buf_str(&want));
		dec = NULL;
		if ((v = header_unfold(buf_str(&out), "Subject", 78, &why)) != NULL &&
		    (dec = unstructured_decode(v, &why)) != NULL &&
		    strcmp(dec, exp) != 0)
			why = "decodes to something else";
		if (dec == NULL || strcmp(dec, exp) != 0) {
			if (!bad++)
				tap_diag("%s: %s", why, buf_str(&out));
		}
		free(v);
		free(dec);
		free(exp);
	}
	is_int(bad, 0, "header: 5000 random values: one field, lines <= 78, "
	    "encoded-words <= 75 with whole characters, decode to the cleaned input");
	buf_free(&in);
	buf_free(&want);
	buf_free(&out);
}

/* ---- From/To ---- */

struct mailbox_case {
	const char *display, *addr;
	int ret;
	const char *out;
};

static const struct mailbox_case mailbox_cases[] = {
	{ NULL, "press@ogp.example", 0, "To: press@ogp.example\r\n" },
	{ "", "press@ogp.example", 0, "To: press@ogp.example\r\n" },
	{ " \t\n", "press@ogp.example", 0, "To: press@ogp.example\r\n" },
	{ "OGP Press", "press@ogp.example", 0, "To: OGP Press <press@ogp.example>\r\n" },
	{ "Smith, John \"Jack\"", "john@example.org", 0,
	    "To: \"Smith, John \\\"Jack\\\"\" <john@example.org>\r\n" },
	{ "back\\slash", "b@example.org", 0, "To: \"back\\\\slash\" <b@example.org>\r\n" },
	{ "J. Smith", "j@example.org", 0, "To: \"J. Smith\" <j@example.org>\r\n" },
	{ "Ana  Two", "a@example.org", 0, "To: Ana  Two <a@example.org>\r\n" },
	{ "José Pérez", "jose@example.org", 0,
	    "To: =?UTF-8?Q?Jos=C3=A9_P=C3=A9rez?= <jose@example.org>\r\n" },
	{ "Pérez, José \"Pepe\"", "jose@example.org", 0,
	    "To: =?UTF-8?Q?P=C3=A9rez=2C_Jos=C3=A9_=22Pepe=22?= <jose@example.org>\r\n" },
	{ "Eve\r\nBcc: x@evil.example", "eve@example.org", 0,
	    "To: \"Eve  Bcc: x@evil.example\" <eve@example.org>\r\n" },
	{ "=?utf-8?q?fake?=", "f@example.org", 0,
	    "To: =?UTF-8?Q?=3D=3Futf-8=3Fq=3Ffake=3F=3D?= <f@example.org>\r\n" },
	{ "The Open Government Partnership Support Unit Press and Communications Office",
	    "press@ogp.example", 0,
	    "To: The Open Government Partnership Support Unit Press and Communications\r\n"
	    " Office <press@ogp.example>\r\n" },
	{ "Ministério da Transparência, Fiscalização e Controladoria-Geral da União (Brasil)",
	    "cgu@example.gov.br", 0,
	    "To: =?UTF-8?Q?Minist=C3=A9rio?= da =?UTF-8?Q?Transpar=C3=AAncia=2C_?=\r\n"
	    " =?UTF-8?Q?Fiscaliza=C3=A7=C3=A3o?= e Controladoria-Geral da\r\n"
	    " =?UTF-8?Q?Uni=C3=A3o_=28Brasil=29?= <cgu@example.gov.br>\r\n" },
	{ "x", "o'brien+tag@example.org", 0, "To: x <o'brien+tag@example.org>\r\n" },
	{ "OGP Press List – Américas", "press@ogp.example", 0,
	    "To: OGP Press List =?UTF-8?Q?=E2=80=93_Am=C3=A9ricas?= <press@ogp.example>\r\n" },
	{ "中华人民共和国国务院新闻办公室", "press@example.cn", 0,
	    "To: =?UTF-8?B?5Lit5Y2O5Lq65rCR5YWx5ZKM5Zu95Zu95Yqh6Zmi5paw6Ze75Yqe5YWs5a6k?=\r\n"
	    " <press@example.cn>\r\n" },
	{ "x", "bad address@example.org", -1, NULL },
	{ "x", "a@example.org\r\nBcc: x@evil.example", -1, NULL },
	{ NULL, "no-at-sign", -1, NULL },
	{ NULL, "a..b@example.org", -1, NULL },
	{ NULL, ".a@example.org", -1, NULL },
	{ NULL, "a@-example.org", -1, NULL },
	{ NULL, "a@example-.org", -1, NULL },
	{ NULL, "a@example..org", -1, NULL },
	{ NULL, "a@example.org.", -1, NULL },
	{ NULL, "@example.org", -1, NULL },
	{ NULL, "a@", -1, NULL },
	{ NULL, "\"q\"@example.org", -1, NULL },
	{ NULL, "<a@example.org>", -1, NULL },
	{ NULL, "josé@example.org", -1, NULL },
	{ NULL, "a@[192.0.2.1]", -1, NULL },
	{ NULL, NULL, -1, NULL },
};

static void
test_mailbox_table(void)
{
	struct buf b = BUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(mailbox_cases); i++) {
		const struct mailbox_case *c = &mailbox_cases[i];
		buf_reset(&b);
		buf_adds(&b, "keep");
		r = message_mailbox_header(&b, "To", c->display, c->addr);
		if (c->ret == 0) {
			ok(r == 0 && strncmp(buf_str(&b), "keep", 4) == 0,
			    "mailbox: accepted %s", c->addr);
			is_str(buf_str(&b) + 4, c->out, "mailbox: table case");
		} else {
			ok(r == -1 && strcmp(buf_str(&b), "keep") == 0,
			    "mailbox: refused, nothing appended: case %zu", i);
		}
	}
	buf_free(&b);
}

static void
test_mailbox_random(void)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	const char *why = "";
	char *v;
	int i, k, n, bad = 0;

	for (i = 0; i < 3000; i++) {
		buf_reset(&in);
		n = (int)rnd(30);
		for (k = 0; k < n; k++)
			buf_adds(&in, header_pieces[rnd(ARRAY_LEN(header_pieces))].in);
		buf_reset(&out);
		message_mailbox_header(&out, "From", buf_str(&in), "press@ogp.example");
		v = header_unfold(buf_str(&out), "From", 78, &why);
		if (v == NULL || (strcmp(v, "press@ogp.example") != 0 &&
		    (strlen(v) < 21 || strcmp(v + strlen(v) - 20, " <press@ogp.example>") != 0))) {
			if (!bad++)
				tap_diag("%s: %s", v ? "address mangled" : why, buf_str(&out));
		}
		free(v);
	}
	is_int(bad, 0, "mailbox: 3000 random display names: one field, lines <= 78");
	buf_free(&in);
	buf_free(&out);
}

/* ---- whole messages ---- */

static const struct message press = {
	.from_name = "OGP Press", .from_addr = "press@ogp.example",
	.to_name = "Ana Pérez", .to_addr = "ana@example.org",
	.subject = "OGP’s Americas summit: declaración final",
	.date = 1795768500,
	.message_id = "ogp-americas-2017.bcde-abcdefghijklmnop@ogp.example",
	.list_name = "OGP Press List", .list_id = "press.ogp.example",
	.unsub_mailto = "unsubscribe+bcde-abcdefghijklmnop@ogp.example",
	.unsub_url = "https://ogp.example/u/bcde-abcdefghijklmnop",
	.bulk = 1,
	.text = "Hello Ana,\n\nThe summit closed with a joint declaration = progress.\n-- \nOGP\n",
	.html = "<p>Hello Ana,</p>\n<p>The summit closed with a <em>joint declaration</em>.</p>\n",
};

static const char press_want[] =
    "From: OGP Press <press@ogp.example>\r\n"
    "To: Ana =?UTF-8?Q?P=C3=A9rez?= <ana@example.org>\r\n"
    "Subject: =?UTF-8?Q?OGP=E2=80=99s?= Americas summit:\r\n"
    " =?UTF-8?Q?declaraci=C3=B3n?= final\r\n"
    "Date: Fri, 27 Nov 2026 08:35:00 +0000\r\n"
    "Message-ID: <ogp-americas-2017.bcde-abcdefghijklmnop@ogp.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "List-Id: OGP Press List <press.ogp.example>\r\n"
    "List-Unsubscribe:\r\n"
    " <mailto:unsubscribe+bcde-abcdefghijklmnop@ogp.example?subject=unsubscribe>,\r\n"
    " <https://ogp.example/u/bcde-abcdefghijklmnop>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "Precedence: bulk\r\n"
    "Content-Type: multipart/alternative; boundary=\"=_652863307ebf61b1\"\r\n"
    "\r\n"
    "--=_652863307ebf61b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Hello Ana,\r\n"
    "\r\n"
    "The summit closed with a joint declaration =3D progress.\r\n"
    "--=20\r\n"
    "OGP\r\n"
    "\r\n"
    "--=_652863307ebf61b1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<p>Hello Ana,</p>\r\n"
    "<p>The summit closed with a <em>joint declaration</em>.</p>\r\n"
    "\r\n"
    "--=_652863307ebf61b1--\r\n";

static const struct message confirm = {
	.from_addr = "press@ogp.example", .to_addr = "jo@example.org",
	.subject = "Confirm: unsubscribe from OGP Press List",
	.date = 0,
	.message_id = "<confirm.b-aaaaaaaaaaaaaaaa@ogp.example>",
	.in_reply_to = "req.1@mail.example.org",
	.robot = 1,
	.text = "Reply to this message to confirm.",
};

static const char confirm_want[] =
    "From: press@ogp.example\r\n"
    "To: jo@example.org\r\n"
    "Subject: Confirm: unsubscribe from OGP Press List\r\n"
    "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
    "Message-ID: <confirm.b-aaaaaaaaaaaaaaaa@ogp.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Auto-Submitted: auto-generated\r\n"
    "In-Reply-To: <req.1@mail.example.org>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Reply to this message to confirm.";

static void
test_build_whole(void)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct message m = press;

	is_int(message_build(&press, &a), 0, "build: press release");
	is_str(buf_str(&a), press_want, "build: press release, byte for byte");
	is_int(message_build(&press, &b), 0, "build: again");
	ok(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "build: same input, same bytes");
	buf_reset(&b);
	m.html = "<p>Hello Ana!</p>\n";
	message_build(&m, &b);
	ok(strstr(buf_str(&b), "boundary=\"=_652863307ebf61b1\"") == NULL,
	    "build: another body, another boundary");
	buf_reset(&a);
	is_int(message_build(&confirm, &a), 0, "build: robot confirmation");
	is_str(buf_str(&a), confirm_want, "build: text-only robot mail, byte for byte");
	buf_free(&a);
	buf_free(&b);
}

/* ---- files: base64, names, the multipart around them ---- */

/* Decodes base64 (CRLF lines ignored) into out; -1 on a stray character. */
static int
b64_decode(const char *s, size_t len, struct buf *out)
{
	unsigned long v = 0;
	size_t i, n = 0;
	int pad = 0, k;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			pad++;
			k = 0;
		} else if ((k = b64val(s[i])) < 0 || pad) {
			return -1;
		}
		v = v << 6 | (unsigned long)k;
		if (++n % 4 == 0) {
			buf_addc(out, (char)(v >> 16));
			if (pad < 2)
				buf_addc(out, (char)(v >> 8 & 255));
			if (pad < 1)
				buf_addc(out, (char)(v & 255));
			v = 0;
		}
	}
	return n % 4 ? -1 : 0;
}

static void
test_base64(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "", "" }, { "f", "Zg==\r\n" }, { "fo", "Zm8=\r\n" }, { "foo", "Zm9v\r\n" },
		{ "foob", "Zm9vYg==\r\n" }, { "fooba", "Zm9vYmE=\r\n" }, { "foobar", "Zm9vYmFy\r\n" },
	};
	struct buf b = BUF_INIT, d = BUF_INIT;
	unsigned char data[1000];
	size_t i, n, bad = 0, longest, line;
	unsigned seed = 3;
	const char *p;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		buf_reset(&b);
		message_base64(cases[i].in, strlen(cases[i].in), &b);
		is_str(buf_str(&b), cases[i].want, "base64 of RFC 4648's test vectors");
	}
	memset(data, 'x', sizeof(data));
	buf_reset(&b);
	message_base64(data, 57, &b);
	ok(b.len == 78 && memcmp(b.data + 76, "\r\n", 2) == 0, "57 bytes: one line of 76");
	buf_reset(&b);
	message_base64(data, 58, &b);
	ok(b.len == 78 + 6 && strcmp(b.data + 78, "eA==\r\n") == 0, "58 bytes: a second, short line");
	for (n = 0; n < 400; n++) {
		for (i = 0; i < n; i++)
			data[i] = (unsigned char)((seed = seed * 1103515245u + 12345u) >> 16);
		buf_reset(&b);
		buf_reset(&d);
		message_base64(data, n, &b);
		longest = line = 0;
		for (p = buf_str(&b); *p; p++) {
			if (*p == '\r') {
				longest = line > longest ? line : longest;
				line = 0;
				p++;
			} else {
				line++;
			}
		}
		if (b64_decode(buf_str(&b), b.len, &d) == -1 || d.len != n ||
		    (n && memcmp(d.data, data, n) != 0) || longest > 76 || line != 0)
			bad++;
	}
	ok(bad == 0, "base64 of 0..399 random bytes decodes back, lines of 76 at most (%zu bad)",
	    bad);
	buf_free(&b);
	buf_free(&d);
}

/* The value of filename (quoted, or RFC 2231 sections joined and decoded) in the field at p. */
static char *
disposition_name(const char *p)
{
	struct buf out = BUF_INIT;
	const char *q, *end = strstr(p, "\r\n\r\n");
	char key[32];
	int sec = 0, hi, lo;

	if ((q = strstr(p, "filename=\"")) != NULL && q < end) {
		for (q += 10; *q && *q != '"'; q++) {
			if (*q == '\\')
				q++;
			buf_addc(&out, *q);
		}
		return buf_detach(&out);
	}
	for (;;) {
		snprintf(key, sizeof(key), sec == 0 && strstr(p, "filename*=") &&
		    strstr(p, "filename*=") < end ? "filename*=" : "filename*%d*=", sec);
		if ((q = strstr(p, key)) == NULL || q > end)
			break;
		q += strlen(key);
		if (strncmp(q, "utf-8''", 7) == 0)
			q += 7;
		for (; *q && *q != ';' && *q != '\r'; q++) {
			if (*q == '%' && (hi = hexval(q[1])) >= 0 && (lo = hexval(q[2])) >= 0) {
				buf_addc(&out, (char)(hi << 4 | lo));
				q += 2;
			} else {
				buf_addc(&out, *q);
			}
		}
		if (strcmp(key, "filename*=") == 0)
			break;
		sec++;
	}
	return buf_detach(&out);
}

static void
test_build_files(void)
{
	static const char *const names[] = {
		"report.pdf", "a \"quoted\" \\ name.pdf", "Größe der Welt.pdf",
		"Informe anual de la Alianza para el Gobierno Abierto – edición 2026 (versión final).pdf",
		"a name in plain ASCII that is far too long for one quoted string on a line.pdf",
		"日本語のファイル名が長い場合のテストのための名前です.png", "=?utf-8?q?x?=.pdf",
	};
	struct message_file files[3];
	struct message m = press;
	struct buf a = BUF_INIT, flat = BUF_INIT, b64 = BUF_INIT;
	struct mbuf mb = MBUF_INIT;
	const char *p;
	char *got;
	size_t i, line, longest;

	message_base64("%PDF-1.4 tiny", 13, &b64);
	memset(files, 0, sizeof(files));
	files[0].name = "logo.png";
	files[0].type = "image/png";
	files[0].content_id = "img1.abc@news.example";
	files[0].b64 = "iVBORw0KGgo=\r\n";
	files[0].b64_len = 14;
	files[1].name = "report.pdf";
	files[1].type = "application/pdf";
	files[1].b64 = b64.data;
	files[1].b64_len = b64.len;
	files[2].name = "empty.txt";
	files[2].type = "text/plain; charset=us-ascii";
	m.files = files;
	m.nfiles = 3;
	is_int(message_build_parts(&m, &mb), 0, "files: built in parts");
	is_int((long long)mb.nrefs, 2, "files: the two files with bytes are referred to, not copied");
	ok(mb.refs[0].p == files[0].b64 && mb.refs[1].p == b64.data, "files: the very bytes given");
	mbuf_flatten(&mb, &flat);
	is_int(message_build(&m, &a), 0, "files: built whole");
	ok(a.len == flat.len && memcmp(a.data, flat.data, a.len) == 0,
	    "files: the same bytes either way");
	p = buf_str(&a);
	ok(strstr(p, "Content-Type: multipart/mixed; boundary=\"=_m") != NULL &&
	    strstr(p, "multipart/mixed") < strstr(p, "multipart/alternative") &&
	    strstr(p, "multipart/alternative") < strstr(p, "text/plain; charset=utf-8") &&
	    strstr(p, "text/plain; charset=utf-8") < strstr(p, "multipart/related; type=\"text/html\"") &&
	    strstr(p, "multipart/related") < strstr(p, "Content-Type: text/html") &&
	    strstr(p, "Content-Type: text/html") < strstr(p, "Content-Type: image/png") &&
	    strstr(p, "image/png") < strstr(p, "application/pdf"),
	    "files: mixed > (alternative > (plain, related > (html, image)), pdf)");
	ok(strstr(p, "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
	    "Content-ID: <img1.abc@news.example>\r\nContent-Disposition: inline;\r\n"
	    " filename=\"logo.png\"\r\n\r\niVBORw0KGgo=\r\n--=_r") != NULL,
	    "files: the image inline, with its Content-ID, its base64 ending at the boundary");
	ok(strstr(p, "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n filename=\"report.pdf\"\r\n\r\n") != NULL,
	    "files: the PDF attached, with its name");
	ok(strstr(p, "filename=\"empty.txt\"\r\n\r\n\r\n--=_m") != NULL,
	    "files: an empty file has an empty body");
	ok(strlen(p) == a.len && a.len > 4 && memcmp(p + a.len - 4, "--\r\n", 4) == 0,
	    "files: the message ends with the closing boundary");
	for (i = 0; i < ARRAY_LEN(names); i++) {
		files[1].name = names[i];
		buf_reset(&a);
		if (!ok(message_build(&m, &a) == 0, "name %zu builds", i))
			continue;
		p = strstr(buf_str(&a), "Content-Disposition: attachment;");
		got = p ? disposition_name(p) : NULL;
		is_str(got, names[i], "a file name reads back as given");
		free(got);
		longest = line = 0;
		for (p = strstr(buf_str(&a), "Content-Disposition: attachment;"); p && *p &&
		    strncmp(p, "\r\n\r\n", 4) != 0; p++) {
			if (*p == '\r') {
				longest = line > longest ? line : longest;
				line = 0;
				p++;
			} else {
				line++;
			}
		}
		longest = line > longest ? line : longest;
		ok(longest <= 78, "name %zu: its header lines stay within 78 columns (%zu)", i,
		    longest);
	}
	ok(strstr(buf_str(&a), "filename*=utf-8''") != NULL || strstr(buf_str(&a),
	    "filename*0*=utf-8''") != NULL, "a name that looks like an encoded-word is RFC 2231");
	files[1].name = "report.pdf";
	files[1].type = "application/pdf; name=x";
	mbuf_reset(&mb);
	is_int(message_build_parts(&m, &mb), -1, "files: a type with other parameters is refused");
	files[1].type = "application pdf";
	is_int(message_build_parts(&m, &mb), -1, "files: a type that is no type/subtype is refused");
	files[1].type = "text/plain; charset=utf-8";
	is_int(message_build_parts(&m, &mb), 0, "files: a text type with its charset is fine");
	mbuf_reset(&mb);
	files[0].content_id = "no at sign";
	is_int(message_build_parts(&m, &mb), -1, "files: a Content-ID that is no msg-id is refused");
	files[0].content_id = "img1.abc@news.example";
	m.html = NULL;
	is_int(message_build_parts(&m, &mb), -1, "files: an inline image needs an HTML part");
	m.nfiles = 2;
	m.files = files + 1;
	mbuf_reset(&mb);
	is_int(message_build_parts(&m, &mb), 0, "files: attachments to a text-only message");
	buf_reset(&flat);
	mbuf_flatten(&mb, &flat);
	ok(strstr(buf_str(&flat), "multipart/alternative") == NULL &&
	    strstr(buf_str(&flat), "--=_m") < strstr(buf_str(&flat), "Content-Type: text/plain; "
	    "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"),
	    "files: mixed around the one text part");
	mbuf_free(&mb);
	buf_free(&a);
	buf_free(&flat);
	buf_free(&b64);
}

/* One field of a struct message set to a value, for table-driven variants. */
enum field {
	F_FROM, F_TO, F_SUBJECT, F_MSGID, F_LISTID, F_LISTNAME, F_MAILTO, F_URL,
	F_REPLY, F_TEXT, F_HTML, F_DATE, F_FROMNAME, F_LANG, F_NONE
};

static void
set_field(struct message *m, enum field f, const char *v, long long date)
{
	switch (f) {
	case F_FROM: m->from_addr = v; break;
	case F_TO: m->to_addr = v; break;
	case F_SUBJECT: m->subject = v; break;
	case F_MSGID: m->message_id = v; break;
	case F_LISTID: m->list_id = v; break;
	case F_LISTNAME: m->list_name = v; break;
	case F_MAILTO: m->unsub_mailto = v; break;
	case F_URL: m->unsub_url = v; break;
	case F_REPLY: m->in_reply_to = v; break;
	case F_TEXT: m->text = v; break;
	case F_HTML: m->html = v; break;
	case F_DATE: m->date = date; break;
	case F_FROMNAME: m->from_name = v; break;
	case F_LANG: m->content_language = v; break;
	case F_NONE: break;
	}
}

struct refuse_case {
	enum field f;
	const char *v;
	long long date;
	const char *why;
};

static const struct refuse_case refuse_cases[] = {
	{ F_FROM, NULL, 0, "no From address" },
	{ F_TO, NULL, 0, "no To address" },
	{ F_TO, "ana@example.org\r\nBcc: x@evil.example", 0, "CRLF in To address" },
	{ F_TO, "Ana <ana@example.org>", 0, "a mailbox instead of an address" },
	{ F_SUBJECT, NULL, 0, "no subject" },
	{ F_TEXT, NULL, 0, "no text body" },
	{ F_MSGID, NULL, 0, "no Message-ID" },
	{ F_MSGID, "no-at-sign", 0, "Message-ID without @" },
	{ F_MSGID, "a b@ogp.example", 0, "Message-ID with a space" },
	{ F_MSGID, "a@ogp.example>\r\nBcc: x@evil.example", 0, "Message-ID with CRLF" },
	{ F_MSGID, "<a@ogp.example", 0, "Message-ID with one bracket" },
	{ F_MSGID, "a@b@ogp.example", 0, "Message-ID with two @" },
	{ F_LISTID, "press list", 0, "List-Id with a space" },
	{ F_LISTID, "<press.ogp.example>", 0, "List-Id with brackets" },
	{ F_LISTID, "", 0, "empty List-Id" },
	{ F_MAILTO, "unsubscribe", 0, "unsubscribe mailto without @" },
	{ F_URL, "https://ogp.example/u/a b", 0, "URL with a space" },
	{ F_URL, "https://ogp.example/u/>, <https://evil.example/", 0, "URL with brackets" },
	{ F_URL, "https://ogp.example/u/\r\nBcc: x@evil.example", 0, "URL with CRLF" },
	{ F_URL, "https://ogp.example/ú", 0, "URL with 8-bit bytes" },
	{ F_URL, "", 0, "empty URL" },
	{ F_REPLY, "not an id", 0, "In-Reply-To not a msg-id" },
	{ F_LANG, "es\r\nBcc: x@evil.example", 0, "Content-Language with CRLF" },
	{ F_LANG, "", 0, "empty Content-Language" },
	{ F_LANG, "es,en", 0, "Content-Language without the space" },
	{ F_LANG, ", es", 0, "Content-Language starting with a comma" },
	{ F_LANG, "es, ", 0, "Content-Language ending with a comma" },
	{ F_LANG, "-es", 0, "Content-Language starting with a dash" },
	{ F_LANG, "es en", 0, "Content-Language with a bare space" },
	{ F_DATE, NULL, -1, "date before 1970" },
	{ F_DATE, NULL, 253402300800LL, "date after 9999" },
};

static void
test_build_refuse(void)
{
	struct buf b = BUF_INIT;
	struct message m;
	size_t i;

	for (i = 0; i < ARRAY_LEN(refuse_cases); i++) {
		m = press;
		set_field(&m, refuse_cases[i].f, refuse_cases[i].v, refuse_cases[i].date);
		buf_reset(&b);
		buf_adds(&b, "keep");
		ok(message_build(&m, &b) == -1 && strcmp(buf_str(&b), "keep") == 0,
		    "build: refused, nothing appended: %s", refuse_cases[i].why);
	}
	buf_free(&b);
}

/* A variant of the press release, and a line its output must (or must not) hold. */
struct variant_case {
	enum field f, f2;
	const char *v, *v2;
	long long date;
	const char *has, *lacks;
	const char *name;
};

static const struct variant_case variant_cases[] = {
	{ F_MAILTO, F_NONE, NULL, NULL, 0,
	    "\r\nList-Unsubscribe: <https://ogp.example/u/bcde-abcdefghijklmnop>\r\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", NULL,
	    "URL only: List-Unsubscribe <URL> and Post" },
	{ F_URL, F_NONE, NULL, NULL, 0,
	    "\r\nList-Unsubscribe:\r\n"
	    " <mailto:unsubscribe+bcde-abcdefghijklmnop@ogp.example?subject=unsubscribe>\r\n"
	    "Precedence: bulk\r\n", "List-Unsubscribe-Post",
	    "mailto only: no Post" },
	{ F_URL, F_MAILTO, NULL, NULL, 0, "\r\nPrecedence: bulk\r\n", "List-Unsubscribe",
	    "neither: no List-Unsubscribe" },
	{ F_MAILTO, F_NONE, "a/b?c#d%e@ogp.example", NULL, 0,
	    "<mailto:a%2Fb%3Fc%23d%25e@ogp.example?subject=unsubscribe>", NULL,
	    "mailto address percent-encoded" },
	{ F_LISTID, F_NONE, NULL, NULL, 0, "\r\nMIME-Version: 1.0\r\nList-Unsubscribe:\r\n", "List-Id",
	    "no list_id: no List-Id" },
	{ F_LISTNAME, F_NONE, NULL, NULL, 0, "\r\nList-Id: <press.ogp.example>\r\n", NULL,
	    "List-Id without a name" },
	{ F_LISTNAME, F_NONE, "Prensa: Américas", NULL, 0,
	    "\r\nList-Id: =?UTF-8?Q?Prensa=3A_Am=C3=A9ricas?= <press.ogp.example>\r\n", NULL,
	    "List-Id name RFC 2047" },
	{ F_LISTNAME, F_NONE, "Press\r\nBcc: x@evil.example", NULL, 0,
	    "\r\nList-Id: \"Press  Bcc: x@evil.example\" <press.ogp.example>\r\n", NULL,
	    "List-Id name with CRLF quoted, no injection" },
	{ F_REPLY, F_NONE, "<req.1@mail.example.org>", NULL, 0,
	    "\r\nPrecedence: bulk\r\nIn-Reply-To: <req.1@mail.example.org>\r\nContent-Type: ", NULL,
	    "In-Reply-To given with <> not doubled" },
	{ F_REPLY, F_NONE, "x@[192.0.2.1]", NULL, 0, "\r\nIn-Reply-To: <x@[192.0.2.1]>\r\n", NULL,
	    "In-Reply-To with a literal right part" },
	{ F_MSGID, F_NONE, "ogp-americas-regional-summit-2017.bcde-abcdefghijklmnop@ogp.example",
	    NULL, 0, "\r\nMessage-ID:\r\n"
	    " <ogp-americas-regional-summit-2017.bcde-abcdefghijklmnop@ogp.example>\r\n",
	    NULL, "a long Message-ID folds after the colon" },
	{ F_TO, F_NONE, "an-address-so-long-that-it-cannot-fit-after-the-name@mail.example.org", NULL, 0,
	    "\r\nTo: Ana =?UTF-8?Q?P=C3=A9rez?=\r\n"
	    " <an-address-so-long-that-it-cannot-fit-after-the-name@mail.example.org>\r\n",
	    NULL, "a long address folds after the display name" },
	{ F_FROM, F_FROMNAME, "an-address-so-long-that-it-cannot-fit-after-the-name-xyz@mail.example.org",
	    NULL, 0,
	    "From:\r\n an-address-so-long-that-it-cannot-fit-after-the-name-xyz@mail.example.org\r\n",
	    NULL, "a long bare address folds after the colon" },
	{ F_MSGID, F_NONE, "<a.b@ogp.example>", NULL, 0, "\r\nMessage-ID: <a.b@ogp.example>\r\n", "<<",
	    "Message-ID given with <> not doubled" },
	{ F_DATE, F_NONE, NULL, NULL, 951782400, "\r\nDate: Tue, 29 Feb 2000 00:00:00 +0000\r\n", NULL,
	    "leap day date" },
	{ F_DATE, F_NONE, NULL, NULL, 253402300799LL, "\r\nDate: Fri, 31 Dec 9999 23:59:59 +0000\r\n", NULL,
	    "last representable date" },
	{ F_FROMNAME, F_NONE, NULL, NULL, 0, "From: press@ogp.example\r\nTo: ", NULL,
	    "From without a name" },
	{ F_HTML, F_NONE, NULL, NULL, 0,
	    "\r\nPrecedence: bulk\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello Ana,\r\n", "multipart",
	    "no html: single text/plain part" },
	{ F_TEXT, F_HTML, "", "", 0, "Content-Transfer-Encoding: quoted-printable\r\n\r\n\r\n--=_", NULL,
	    "empty bodies" },
	{ F_SUBJECT, F_NONE, "", NULL, 0, "\r\nSubject: \r\nDate: ", NULL,
	    "empty subject" },
	{ F_LANG, F_NONE, "pt-BR", NULL, 0,
	    "\r\nMIME-Version: 1.0\r\nContent-Language: pt-BR\r\nList-Id: ", NULL,
	    "Content-Language after MIME-Version" },
	{ F_LANG, F_NONE, "es, en, zh-Hant-TW", NULL, 0,
	    "\r\nContent-Language: es, en, zh-Hant-TW\r\n", NULL,
	    "Content-Language of several languages" },
	{ F_NONE, F_NONE, NULL, NULL, 0, "\r\nMIME-Version: 1.0\r\nList-Id: ", "Content-Language",
	    "no language: no Content-Language" },
};

static void
test_build_variants(void)
{
	struct buf b = BUF_INIT;
	struct message m;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(variant_cases); i++) {
		const struct variant_case *c = &variant_cases[i];
		m = press;
		set_field(&m, c->f, c->v, c->date);
		set_field(&m, c->f2, c->v2, c->date);
		buf_reset(&b);
		r = message_build(&m, &b);
		if (!ok(r == 0 && strstr(buf_str(&b), c->has) &&
		    (c->lacks == NULL || !strstr(buf_str(&b), c->lacks)),
		    "build: variant: %s", c->name))
			tap_diag("%s", buf_str(&b));
	}
	m = press;
	m.robot = 1;
	m.bulk = 0;
	m.in_reply_to = "r@x.example";
	buf_reset(&b);
	message_build(&m, &b);
	ok(strstr(buf_str(&b), "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
	    "Auto-Submitted: auto-generated\r\nIn-Reply-To: <r@x.example>\r\n"
	    "Content-Type: multipart/alternative;") != NULL,
	    "build: Auto-Submitted without Precedence, in order");
	buf_free(&b);
}

/*
 * Messages for Python's email package (tests/integration/message-python.t),
 * with what it must decode: subject and display names after cleaning.
 */
struct sample {
	struct message m;
	const char *subject, *from_display, *to_display;
};

static char long_line[2101], long_subject[301];

static struct sample samples[] = {
	{ .subject = "OGP’s Americas summit: declaración final",
	  .from_display = "OGP Press", .to_display = "Ana Pérez" },
	{ .m = {
		.from_name = "Smith, John \"Jack\" \\o/", .from_addr = "press@ogp.example",
		.to_name = "João da Conceição\r\nBcc: evil@example.com", .to_addr = "joao@example.org",
		.date = 1795768500, .message_id = "ogp-americas-2017.bcde-abcdefghijklmnop@ogp.example",
		.list_name = "OGP Press List – Américas", .list_id = "press.ogp.example",
		.unsub_mailto = "unsubscribe+bcde-abcdefghijklmnop@ogp.example",
		.unsub_url = "https://ogp.example/u/bcde-abcdefghijklmnop?l=press,americas",
		.in_reply_to = "<abc@def.example>", .robot = 1, .bulk = 1,
		.html = "<p>Olá, ação — it’s “here”.</p>\r\nFrom here\n.\nend   \n\tx\r\n",
	  },
	  .from_display = "Smith, John \"Jack\" \\o/",
	  .to_display = "João da Conceição Bcc: evil@example.com" },
	{ .m = {
		.from_name = "The Open Government Partnership Support Unit Press and Communications Office",
		.from_addr = "press@ogp.example",
		.to_name = "=?utf-8?q?fake?= 日本語", .to_addr = "x@example.org",
		.subject = "日本語のテキストです。 =?utf-8?q?not_me?= \xff tab\there\r\n Bcc: x@evil.example",
		.date = 951782400, .message_id = "<a.b@ogp.example>",
		.text = "From the start\n.\n\rlone CR, \xff invalid, trailing\t\n",
		.html = "",
	  },
	  .subject = "日本語のテキストです。 =?utf-8?q?not_me?= \xef\xbf\xbd tab here   Bcc: x@evil.example",
	  .from_display = "The Open Government Partnership Support Unit Press and Communications Office",
	  .to_display = "=?utf-8?q?fake?= 日本語" },
	{ .m = {
		.from_addr = "press@ogp.example", .to_addr = "jo@example.org",
		.subject = "Confirm: unsubscribe from OGP Press List", .date = 0,
		.message_id = "confirm.b-aaaaaaaaaaaaaaaa@ogp.example",
		.in_reply_to = "req.1@mail.example.org", .robot = 1,
		.text = "Reply to this message to confirm.",
	  },
	  .subject = "Confirm: unsubscribe from OGP Press List",
	  .from_display = "", .to_display = "" },
};

static void
samples_init(void)
{
	static const char sp[] = "Cumbre de las Américas: “declaración” ";
	size_t i;

	for (i = 0; i < 2000; i++)
		long_line[i] = "the quick brown fox jumps over = the lazy dog"[i % 45];
	memcpy(long_line + 2000, "\n", 2);
	for (i = 0; i < 300; i++)
		long_subject[i] = sp[i % (sizeof(sp) - 1)];
	/* Cut at a character boundary, without trailing space, as cleaning would. */
	for (i = 300; (long_subject[i] & 0xc0) == 0x80 || long_subject[i - 1] == ' '; i--)
		;
	long_subject[i] = '\0';
	samples[0].m = press;
	samples[1].m.subject = long_subject;
	samples[1].subject = long_subject;
	samples[1].m.text = long_line;
}

static int
sample_print(const char *what, const char *arg)
{
	struct buf b = BUF_INIT;
	long n = strtol(arg, NULL, 10);
	const struct sample *s;

	if (n < 1 || (size_t)n > ARRAY_LEN(samples))
		return 2;
	s = &samples[n - 1];
	if (strcmp(what, "--emit") == 0) {
		if (message_build(&s->m, &b) == -1)
			return 1;
		fwrite(b.data, 1, b.len, stdout);
	} else {
		/* NUL-separated: subject, From name, To name, text, html. */
		fwrite(s->subject, 1, strlen(s->subject) + 1, stdout);
		fwrite(s->from_display, 1, strlen(s->from_display) + 1, stdout);
		fwrite(s->to_display, 1, strlen(s->to_display) + 1, stdout);
		fwrite(s->m.text, 1, strlen(s->m.text) + 1, stdout);
		if (s->m.html)
			fwrite(s->m.html, 1, strlen(s->m.html), stdout);
	}
	buf_free(&b);
	return 0;
}

static void
test_samples(void)
{
	struct buf b = BUF_INIT;
	size_t i, line, max_hdr, max_body;
	const char *p, *body;

	for (i = 0; i < ARRAY_LEN(samples); i++) {
		buf_reset(&b);
		is_int(message_build(&samples[i].m, &b), 0, "sample builds");
		body = strstr(buf_str(&b), "\r\n\r\n");
		max_hdr = max_body = line = 0;
		for (p = buf_str(&b); *p; p++) {
			if (*p == '\r' && p[1] == '\n') {
				size_t *max = body && p > body ? &max_body : &max_hdr;
				*max = line > *max ? line : *max;
				line = 0;
				p++;
			} else {
				line++;
			}
		}
		ok(max_body <= 76 && max_hdr <= 998, "sample %zu: body lines <= 76 (%zu), "
		    "header lines <= 998 (%zu)", i + 1, max_body, max_hdr);
	}
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	samples_init();
	if (argc == 2 && strcmp(argv[1], "--samples") == 0)
		return printf("%zu\n", ARRAY_LEN(samples)) < 0;
	if (argc == 3)
		return sample_print(argv[1], argv[2]);
	test_qp_table();
	test_qp_random();
	test_header_table();
	test_header_random();
	test_mailbox_table();
	test_mailbox_random();
	test_build_whole();
	test_build_refuse();
	test_build_variants();
	test_base64();
	test_build_files();
	test_samples();
	return done_testing();
}
