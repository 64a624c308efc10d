/*
 * t_dkim.c - dkim.c: the DKIM-Signature field of a fixed message (tags,
 * signed fields, folding), key files (PEM, dknewkey's raw ed25519 seed,
 * the wrong algorithm, garbage), the DNS record, alignment, and the
 * checks herald check makes. Keys are made here with GnuTLS; the
 * signature itself is verified by tests/integration/dkim.t (python3-dkim).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tap.h"

#include "config.h"
#include "diag.h"
#include "dkim.h"
#include "util.h"

static char tmpdir[] = "/tmp/t_dkim.XXXXXX";

static const char message[] =
	"From: Test Desk <desk@news.example>\r\n"
	"To: Ana <ana@example.org>\r\n"
	"Subject: Quarterly news\r\n"
	"Date: Thu, 22 Jun 2017 12:00:00 +0000\r\n"
	"Message-ID: <news.abc@news.example>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=UTF-8\r\n"
	"List-Id: Generated <a.news.example>\r\n"
	"List-Unsubscribe: <mailto:unsubscribe+abc@news.example>,\r\n"
	" <https://news.example/unsubscribe/abc>\r\n"
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
	"Precedence: bulk\r\n"
	"X-Campaign: q3\r\n"
	"\r\n"
	"Something happened.\r\n";

/* A new key of algorithm pk written to dir/name as PKCS#8 PEM, mode 0600; its path. */
static char *
make_key(gnutls_pk_algorithm_t pk, unsigned bits, const char *name)
{
	gnutls_x509_privkey_t k;
	gnutls_datum_t pem;
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f;

	if (gnutls_x509_privkey_init(&k) < 0 || gnutls_x509_privkey_generate(k, pk, bits, 0) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
	    &pem) < 0)
		fatalx("cannot make a test key");
	f = fopen(path, "w");
	fwrite(pem.data, 1, pem.size, f);
	fclose(f);
	chmod(path, 0600);
	gnutls_free(pem.data);
	gnutls_x509_privkey_deinit(k);
	return path;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

static void
config_for(struct config *c, const char *key, const char *alg, char **headers, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->file = (char *)"config/herald.yaml";
	c->sender.from_addr = (char *)"desk@news.example";
	c->dkim.enabled = 1;
	c->dkim.domain = (char *)"news.example";
	c->dkim.selector = (char *)"herald2026";
	c->dkim.key_file = (char *)key;
	c->dkim.algorithm = (char *)alg;
	c->dkim.headers = headers;
	c->dkim.nheaders = n;
}

/* The value of the first header field of msg, unfolded, whitespace dropped. */
static char *
field_value(const char *msg, size_t len)
{
	const char *p = strchr(msg, ':') + 1, *end = msg + len;
	struct buf b = BUF_INIT;

	for (; p < end; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] != ' ' && p[2] != '\t')
			break;
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			buf_addc(&b, *p);
	}
	return buf_detach(&b);
}

/* The tag's value in an unfolded tag list ("a=x;b=y"), or "". */
static char *
tag(const char *list, const char *name)
{
	char *want = xasprintf(";%s=", name), *all = xasprintf(";%s", list), *p, *e;
	char *out;

	p = strstr(all, want);
	if (p == NULL) {
		out = xstrdup("");
	} else {
		p += strlen(want);
		e = strchr(p, ';');
		out = e ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
	}
	free(want);
	free(all);
	return out;
}

/* 1 when the colon-separated list h names field (case-insensitive). */
static int
signs(const char *h, const char *field)
{
	char *l = xasprintf(":%s:", h), *f = xasprintf(":%s:", field), *p;
	int found = 0;

	for (p = l; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	for (p = f; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	found = strstr(l, f) != NULL;
	free(l);
	free(f);
	return found;
}

/* Every line CRLF-terminated and under 78 columns, up to the message's own first line. */
static int
folded_ok(const char *m, size_t len)
{
	const char *p = m, *nl;

	while (p < m + len && strncmp(p, "From:", 5) != 0) {
		if ((nl = memchr(p, '\n', (size_t)(m + len - p))) == NULL || nl == p ||
		    nl[-1] != '\r' || nl - 1 - p > 77)
			return 0;
		p = nl + 1;
	}
	return 1;
}

static void
test_sign(const char *key, const char *alg)
{
	static const char *const required[] = { "From", "To", "Subject", "Date", "Message-ID",
		"MIME-Version", "Content-Type", "List-Id", "List-Unsubscribe",
		"List-Unsubscribe-Post", "X-Campaign" };
	char *headers[] = { (char *)"X-Campaign" };
	struct dkim_signer *s;
	struct config c;
	char err[512], *msg, *v, *t;
	size_t len = sizeof(message) - 1, i;

	config_for(&c, key, alg, headers, 1);
	s = dkim_signer_new(&c, err, sizeof(err));
	if (!ok(s != NULL, "%s: signer made", alg)) {
		tap_diag("%s", err);
		return;
	}
	msg = xstrdup(message);
	if (!ok(dkim_signer_sign(s, &msg, &len, err, sizeof(err)) == 0, "%s: signed", alg))
		tap_diag("%s", err);
	ok(strncmp(msg, "DKIM-Signature: ", 16) == 0, "%s: DKIM-Signature comes first", alg);
	ok(len > sizeof(message) && memcmp(msg + len - (sizeof(message) - 1), message,
	    sizeof(message) - 1) == 0, "%s: the message follows unchanged", alg);
	ok(folded_ok(msg, len), "%s: the field is folded under 78 columns, CRLF", alg);
	v = field_value(msg, len);
	is_str(t = tag(v, "v"), "1", "v=1"); free(t);
	is_str(t = tag(v, "a"), alg, "a= is the algorithm"); free(t);
	is_str(t = tag(v, "c"), "relaxed/relaxed", "c=relaxed/relaxed"); free(t);
	is_str(t = tag(v, "d"), "news.example", "d= is dkim.domain"); free(t);
	is_str(t = tag(v, "s"), "herald2026", "s= is dkim.selector"); free(t);
	ok(strlen(t = tag(v, "bh")) == 44, "bh= is a SHA-256 in base64"); free(t);
	ok(strlen(t = tag(v, "b")) > 40, "b= holds a signature"); free(t);
	t = tag(v, "h");
	for (i = 0; i < ARRAY_LEN(required); i++)
		ok(signs(t, required[i]), "%s: h= covers %s", alg, required[i]);
	ok(!signs(t, "Precedence"), "%s: h= leaves out fields nobody asked for", alg);
	free(t);
	free(v);
	free(msg);
	dkim_signer_free(s);
}

static void
test_keys(const char *rsa, const char *ed)
{
	struct dkim_keyfile k, k2;
	char err[256], *seed = xasprintf("%s/seed.b64", tmpdir), *junk = xasprintf("%s/junk",
	    tmpdir), *enc = xasprintf("%s/enc.pem", tmpdir);

	ok(dkim_keyfile_load(rsa, DKIM_ALG_RSA_SHA256, &k, err, sizeof(err)) == 0 &&
	    k.bits == 2048 && strncmp(k.pub, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 32) == 0,
	    "an RSA key: p= is its SubjectPublicKeyInfo");
	dkim_keyfile_free(&k);
	ok(dkim_keyfile_load(ed, DKIM_ALG_ED25519_SHA256, &k, err, sizeof(err)) == 0 &&
	    strlen(k.pub) == 44, "an ed25519 key: p= is its 32 bytes");
	ok(dkim_keyfile_load(rsa, DKIM_ALG_ED25519_SHA256, &k2, err, sizeof(err)) == -1 &&
	    strstr(err, "not an ed25519 key") != NULL, "an RSA key for ed25519-sha256 is refused");
	ok(dkim_keyfile_load(ed, DKIM_ALG_RSA_SHA256, &k2, err, sizeof(err)) == -1 &&
	    strstr(err, "not an RSA key") != NULL, "an ed25519 key for rsa-sha256 is refused");
	/* RFC 8032's first test vector: this seed has this public key. */
	write_file(seed, "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n");
	ok(dkim_keyfile_load(seed, DKIM_ALG_ED25519_SHA256, &k2, err, sizeof(err)) == 0,
	    "the base64 of a raw ed25519 seed is read");
	is_str(k2.pub, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "its public key is derived");
	dkim_keyfile_free(&k2);
	dkim_keyfile_free(&k);
	write_file(junk, "hello\n");
	ok(dkim_keyfile_load(junk, DKIM_ALG_RSA_SHA256, &k, err, sizeof(err)) == -1 &&
	    strstr(err, "not a PEM private key") != NULL, "garbage is refused");
	write_file(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMII=\n"
	    "-----END ENCRYPTED PRIVATE KEY-----\n");
	ok(dkim_keyfile_load(enc, DKIM_ALG_RSA_SHA256, &k, err, sizeof(err)) == -1 &&
	    strstr(err, "encrypted") != NULL, "an encrypted key is refused, saying why");
	ok(dkim_keyfile_load("/nonexistent/key", DKIM_ALG_RSA_SHA256, &k, err,
	    sizeof(err)) == -1 && strstr(err, "cannot read") != NULL, "a missing file is refused");
	free(seed);
	free(junk);
	free(enc);
}

static void
test_record(void)
{
	struct buf b = BUF_INIT;
	char pub[401];

	dkim_record_format("s1", "news.example", DKIM_ALG_ED25519_SHA256, "AAAA", &b);
	is_str(buf_str(&b), "s1._domainkey.news.example. IN TXT \"v=DKIM1; k=ed25519; p=AAAA\"\n",
	    "ed25519 record");
	buf_reset(&b);
	dkim_record_format("s1", "news.example.", DKIM_ALG_RSA_SHA256, "AAAA", &b);
	is_str(buf_str(&b), "s1._domainkey.news.example. IN TXT \"v=DKIM1; k=rsa; p=AAAA\"\n",
	    "rsa record; a domain's final dot is not doubled");
	buf_reset(&b);
	memset(pub, 'Q', 400);
	pub[400] = '\0';
	dkim_record_format("s", "d.example", DKIM_ALG_RSA_SHA256, pub, &b);
	/* 22 bytes of "v=DKIM1; k=rsa; p=" and 400 of key: 255 + 163. */
	ok(strstr(buf_str(&b), "IN TXT \"v=DKIM1; k=rsa; p=QQQ") != NULL &&
	    strchr(buf_str(&b), '"')[256] == '"' && strstr(buf_str(&b), "\" \"") != NULL &&
	    strlen(strstr(buf_str(&b), "\" \"") + 3) == 163 + 2,
	    "a long text is split into 255-byte strings");
	buf_free(&b);
}

static void
test_aligned(void)
{
	static const struct { const char *d, *f; int want; } cases[] = {
		{ "news.example", "news.example", 1 },
		{ "NEWS.example", "news.EXAMPLE", 1 },
		{ "news.example", "mail.news.example", 1 },
		{ "mail.news.example", "news.example", 1 },
		{ "news.example", "othernews.example", 0 },
		{ "ews.example", "news.example", 0 },
		{ "other.example", "news.example", 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		is_int(dkim_aligned(cases[i].d, cases[i].f), cases[i].want, cases[i].f);
}

static void
test_check(const char *rsa, const char *ed)
{
	char *bad[] = { (char *)"X-Bad Name" };
	struct config c;
	struct diag d;

	config_for(&c, rsa, "rsa-sha256", NULL, 0);
	diag_init(&d, EXIT_DATAERR);
	dkim_check_config(&c, &d);
	ok(d.n == 0 && d.status == 0, "check: a good key, an aligned domain: nothing to say");
	diag_free(&d);

	config_for(&c, ed, "rsa-sha256", NULL, 0);
	c.dkim.domain = (char *)"other.example";
	diag_init(&d, EXIT_DATAERR);
	dkim_check_config(&c, &d);
	ok(d.errors == 1 && d.status == EXIT_CONFIG && strstr(d.items[0].text, "not an RSA key"),
	    "check: a key of the wrong algorithm is a configuration error");
	ok(d.n == 2 && d.items[1].warning && strstr(d.items[1].text, "does not align"),
	    "check: a domain that does not align with From is a warning");
	diag_free(&d);

	config_for(&c, ed, "ed25519-sha256", bad, 1);
	diag_init(&d, EXIT_DATAERR);
	dkim_check_config(&c, &d);
	ok(d.errors == 1 && strstr(d.items[0].text, "not a header name"),
	    "check: a bad name in 'headers' is an error");
	diag_free(&d);
}

/*
 * Relaxed canonicalization against what python3-dkim (dkim.canonicalization.
 * Relaxed) makes of the same input, RFC 6376 3.4.5's example first.
 */
static void
test_canon(void)
{
	static const struct {
		const char *in, *want;
	} body[] = {
		{ " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n" },
		{ "", "" },
		{ "\r\n\r\n", "" },
		{ "a", "a\r\n" },
		{ "a  \t b\t\r\n \t \r\n\r\nc\r\n\r\n", "a b\r\n\r\n\r\nc\r\n" },
		{ "  lead\r\ntrail \t\r\n", " lead\r\ntrail\r\n" },
		{ "x\r\n \r\n\t\r\ny\r\n", "x\r\n\r\n\r\ny\r\n" },
	}, header[] = {
		{ "A: X\r\n", "a:X\r\n" },
		{ "B : Y\t\r\n\tZ  \r\n", "b:Y Z\r\n" },
		{ "Subject:\t  a \r\n  b\r\n", "subject:a b\r\n" },
		{ "List-Id: <a.b>", "list-id:<a.b>\r\n" },
		{ "X-Empty:   \r\n", "x-empty:\r\n" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_LEN(body); i++) {
		buf_reset(&b);
		dkim_canon_body(body[i].in, strlen(body[i].in), &b);
		ok(b.len == strlen(body[i].want) && memcmp(b.data, body[i].want, b.len) == 0,
		    "relaxed body %zu as python3-dkim makes it", i);
	}
	for (i = 0; i < ARRAY_LEN(header); i++) {
		buf_reset(&b);
		dkim_canon_header(header[i].in, strlen(header[i].in), &b);
		ok(b.len == strlen(header[i].want) && memcmp(b.data, header[i].want, b.len) == 0,
		    "relaxed header %zu as python3-dkim makes it", i);
	}
	/*
	 * The shortcut: a body it calls canonical comes back unchanged, for
	 * 20,000 random bodies of the characters that matter.
	 */
	{
		static const char alphabet[] = "ab \t\r\n\n\r\n";
		char in[24];
		size_t k, n, said = 0, wrong = 0;
		unsigned seed = 1;

		for (k = 0; k < 20000; k++) {
			n = (seed = seed * 1103515245u + 12345u) >> 16 & 15;
			for (i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
			}
			/* Half of them made to end in a CRLF, as messages do. */
			if (k % 2 && n + 2 <= sizeof(in)) {
				in[n++] = '\r';
				in[n++] = '\n';
			}
			if (!dkim_body_canonical(in, n))
				continue;
			said++;
			buf_reset(&b);
			dkim_canon_body(in, n, &b);
			if (b.len != n || memcmp(b.data, in, n) != 0)
				wrong++;
		}
		ok(said > 100 && wrong == 0, "every body called canonical is its own canonical form "
		    "(%zu of 20000 called so, %zu wrong)", said, wrong);
		ok(dkim_body_canonical("a b\r\nc\r\n", 8) && !dkim_body_canonical("a b\r\n\r\n", 7) &&
		    !dkim_body_canonical("a  b\r\n", 6) && !dkim_body_canonical("a\nb\r\n", 6) &&
		    !dkim_body_canonical("a \r\n", 4) && !dkim_body_canonical("a", 1),
		    "canonical: one CRLF at the end, single spaces, CRLF line ends, none at a line's end");
	}
	/* Appended: what is there already stays. */
	buf_reset(&b);
	buf_adds(&b, "x");
	dkim_canon_body("y \r\n", 4, &b);
	is_str(b.data, "xy\r\n", "canonical text is appended to out");
	buf_free(&b);
}

/*
 * A body in runs (a message with borrowed attachments) hashes as the same
 * body in one piece canonicalized: random bodies of the characters that
 * matter and of base64 lines, cut at random places, lines crossing runs.
 */
static void
test_body_runs(void)
{
	static const char alphabet[] = "ab \t\r\n\n\r\n";
	static const char *const lines[] = { "QUJD\r\n", "aGVsbG8=\r\n", "\r\n", "x y\r\n" };
	unsigned char md[32], want[32];
	const char *runs[4];
	size_t lens[4], cuts[5], k, i, n, nruns, wrong = 0;
	struct buf body = BUF_INIT, canon = BUF_INIT;
	unsigned seed = 7;

	for (k = 0; k < 20000; k++) {
		buf_reset(&body);
		n = (seed = seed * 1103515245u + 12345u) >> 16 & 31;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			if (k % 3 == 0)
				buf_adds(&body, lines[(seed >> 16) % ARRAY_LEN(lines)]);
			else
				buf_addc(&body, alphabet[(seed >> 16) % (sizeof(alphabet) - 1)]);
		}
		nruns = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 4;
		cuts[0] = 0;
		cuts[nruns] = body.len;
		for (i = 1; i < nruns; i++) {
			seed = seed * 1103515245u + 12345u;
			cuts[i] = body.len ? ((seed >> 16) % (body.len + 1)) : 0;
			if (cuts[i] < cuts[i - 1])
				cuts[i] = cuts[i - 1];
		}
		for (i = 0; i < nruns; i++) {
			runs[i] = buf_str(&body) + cuts[i];
			lens[i] = cuts[i + 1] - cuts[i];
		}
		dkim_body_hash_runs(runs, lens, nruns, md);
		buf_reset(&canon);
		dkim_canon_body(buf_str(&body), body.len, &canon);
		gnutls_hash_fast(GNUTLS_DIG_SHA256, buf_str(&canon), canon.len, want);
		if (memcmp(md, want, sizeof(md)) != 0 && wrong++ < 3)
			tap_diag("body %zu in %zu runs hashes differently", k, nruns);
	}
	ok(wrong == 0, "20000 bodies in runs hash as the whole canonicalized (%zu wrong)", wrong);
	buf_free(&body);
	buf_free(&canon);
}

/* A domain longer than any line: d= carries all of it, and h= names a field given twice twice. */
static void
test_long_tags(const char *key)
{
	static const char twice[] = "From: <a@news.example>\r\nX-Tag: one\r\nX-Tag: two\r\n\r\nx\r\n";
	char *headers[] = { (char *)"X-Tag" }, *msg, *v, *t, err[512];
	char domain[200];
	struct dkim_signer *s;
	struct config c;
	size_t len = sizeof(twice) - 1, i;

	for (i = 0; i + 1 < sizeof(domain); i++)
		domain[i] = i % 20 == 19 ? '.' : 'a' + (char)(i % 20);
	domain[sizeof(domain) - 1] = '\0';
	config_for(&c, key, "ed25519-sha256", headers, 1);
	c.dkim.domain = domain;
	if (!ok((s = dkim_signer_new(&c, err, sizeof(err))) != NULL, "a 199-byte domain: signer made")) {
		tap_diag("%s", err);
		return;
	}
	msg = xstrdup(twice);
	ok(dkim_signer_sign(s, &msg, &len, err, sizeof(err)) == 0, "a 199-byte domain: signed");
	v = field_value(msg, len);
	is_str(t = tag(v, "d"), domain, "d= holds the whole domain"); free(t);
	is_str(t = tag(v, "h"), "from:x-tag:x-tag", "h= names a field once for each time it appears");
	free(t);
	free(v);
	free(msg);
	dkim_signer_free(s);
}

int
main(void)
{
	char *rsa, *ed, *cmd;

	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	rsa = make_key(GNUTLS_PK_RSA, 2048, "rsa.pem");
	ed = make_key(GNUTLS_PK_EDDSA_ED25519, 256, "ed.pem");
	test_canon();
	test_long_tags(ed);
	test_body_runs();
	test_sign(rsa, "rsa-sha256");
	test_sign(ed, "ed25519-sha256");
	test_keys(rsa, ed);
	test_record();
	test_aligned();
	test_check(rsa, ed);
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	free(cmd);
	free(rsa);
	free(ed);
	return done_testing();
}
