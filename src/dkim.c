/*
 * dkim.c - DKIM: the key file (GnuTLS), the DNS record, the checks, and
 * signing: relaxed/relaxed canonicalization here, SHA-256 by GnuTLS, RSA
 * signatures by OpenSSL's libcrypto and ed25519 ones by libsodium. See
 * dkim.h.
 */
#define _GNU_SOURCE		/* memmem */
#include "dkim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#define DKIM_SIGNHEADER "DKIM-Signature"

/* The fields every signature covers, when the message has them (RFC 8058 needs the List-*). */
static const char *const dkim_always[] = {
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
};

int
dkim_alg_parse(const char *name, enum dkim_alg *alg)
{
	if (name && strcmp(name, "rsa-sha256") == 0)
		*alg = DKIM_ALG_RSA_SHA256;
	else if (name && strcmp(name, "ed25519-sha256") == 0)
		*alg = DKIM_ALG_ED25519_SHA256;
	else
		return -1;
	return 0;
}

/* ---- the key file ---- */

/* RFC 8410's PKCS#8 wrapping of a raw Ed25519 seed: this, then the 32 bytes. */
static const unsigned char ed25519_pkcs8[] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
	0x04, 0x22, 0x04, 0x20,
};

static char *
dkim_datum_str(const gnutls_datum_t *d)
{
	return xstrndup((const char *)d->data, d->size);
}

/* dknewkey's ed25519 format, the base64 of the bare seed, as a PKCS#8 PEM. */
static char *
dkim_seed_pem(const char *text)
{
	gnutls_datum_t in = { (unsigned char *)text, (unsigned)strlen(text) }, seed, pem;
	unsigned char der[sizeof(ed25519_pkcs8) + 32];
	gnutls_datum_t dd = { der, sizeof(der) };
	char *out = NULL;

	if (gnutls_base64_decode2(&in, &seed) < 0)
		return NULL;
	if (seed.size == 32) {
		memcpy(der, ed25519_pkcs8, sizeof(ed25519_pkcs8));
		memcpy(der + sizeof(ed25519_pkcs8), seed.data, 32);
		if (gnutls_pem_base64_encode2("PRIVATE KEY", &dd, &pem) == 0) {
			out = dkim_datum_str(&pem);
			gnutls_free(pem.data);
		}
		memset(der, 0, sizeof(der));
	}
	gnutls_memset(seed.data, 0, seed.size);
	gnutls_free(seed.data);
	return out;
}

/* Trims ASCII white space at both ends, in place; returns the new start. */
static char *
dkim_trim(char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
	    s[len - 1] == '\n'))
		s[--len] = '\0';
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

/* The file's text as PEM; NULL with err when it is none of the accepted forms. */
static char *
dkim_key_text(const char *path, enum dkim_alg alg, char *err, size_t errlen)
{
	char *data, *pem = NULL, *p;
	size_t len;

	if (util_read_file(path, &data, &len) == -1) {
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
		return NULL;
	}
	p = dkim_trim(data, len);
	if (strstr(p, "ENCRYPTED") != NULL)
		snprintf(err, errlen, "the key is encrypted; herald needs it without a passphrase");
	else if (strncmp(p, "-----BEGIN ", 11) == 0)
		pem = xasprintf("%s\n", p);
	else if (alg != DKIM_ALG_ED25519_SHA256 || (pem = dkim_seed_pem(p)) == NULL)
		snprintf(err, errlen, "not a PEM private key%s", alg == DKIM_ALG_ED25519_SHA256 ?
		    " nor the base64 of a 32-byte ed25519 seed" : "");
	memset(data, 0, len);
	free(data);
	return pem;
}

/* The p= of the record: RSA's SubjectPublicKeyInfo, ed25519's bare 32 bytes (RFC 8463). */
static char *
dkim_pub_b64(gnutls_pubkey_t pub, enum dkim_alg alg)
{
	gnutls_datum_t raw = { NULL, 0 }, b64;
	gnutls_ecc_curve_t curve;
	char *out = NULL;
	int rc;

	if (alg == DKIM_ALG_RSA_SHA256)
		rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &raw);
	else
		rc = gnutls_pubkey_export_ecc_raw2(pub, &curve, &raw, NULL, 0);
	if (rc == 0 && gnutls_base64_encode2(&raw, &b64) == 0) {
		out = dkim_datum_str(&b64);
		gnutls_free(b64.data);
	}
	gnutls_free(raw.data);
	return out;
}

/* Parses k->pem and checks it against k->alg; fills bits and pub. */
static int
dkim_key_parse(struct dkim_keyfile *k, char *err, size_t errlen)
{
	gnutls_datum_t d = { (unsigned char *)k->pem, (unsigned)strlen(k->pem) };
	gnutls_x509_privkey_t xk = NULL;
	gnutls_privkey_t pk = NULL;
	gnutls_pubkey_t pub = NULL;
	int rc = -1, pka;

	if (gnutls_x509_privkey_init(&xk) < 0 || gnutls_privkey_init(&pk) < 0 ||
	    gnutls_pubkey_init(&pub) < 0)
		fatalx("dkim: out of memory");
	if (gnutls_x509_privkey_import2(xk, &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		snprintf(err, errlen, "not a private key herald can read");
		goto out;
	}
	pka = gnutls_x509_privkey_get_pk_algorithm2(xk, &k->bits);
	if (k->alg == DKIM_ALG_RSA_SHA256 && pka != GNUTLS_PK_RSA) {
		snprintf(err, errlen, "not an RSA key (it is %s), but the algorithm is rsa-sha256",
		    gnutls_pk_get_name((gnutls_pk_algorithm_t)pka));
		goto out;
	}
	if (k->alg == DKIM_ALG_ED25519_SHA256 && pka != GNUTLS_PK_EDDSA_ED25519) {
		snprintf(err, errlen, "not an ed25519 key (it is %s), but the algorithm is "
		    "ed25519-sha256", gnutls_pk_get_name((gnutls_pk_algorithm_t)pka));
		goto out;
	}
	/* RFC 8301: verifiers may ignore anything shorter. */
	if (pka == GNUTLS_PK_RSA && k->bits < 1024) {
		snprintf(err, errlen, "the RSA key has %u bits; DKIM needs 1024 or more (2048 advised)",
		    k->bits);
		goto out;
	}
	if (gnutls_privkey_import_x509(pk, xk, 0) < 0 ||
	    gnutls_pubkey_import_privkey(pub, pk, 0, 0) < 0 ||
	    (k->pub = dkim_pub_b64(pub, k->alg)) == NULL) {
		snprintf(err, errlen, "cannot derive the public key");
		goto out;
	}
	rc = 0;
out:
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(pk);
	gnutls_x509_privkey_deinit(xk);
	return rc;
}

int
dkim_keyfile_load(const char *path, enum dkim_alg alg, struct dkim_keyfile *k, char *err,
    size_t errlen)
{
	memset(k, 0, sizeof(*k));
	k->alg = alg;
	if ((k->pem = dkim_key_text(path, alg, err, errlen)) == NULL)
		return -1;
	if (dkim_key_parse(k, err, errlen) == -1) {
		dkim_keyfile_free(k);
		return -1;
	}
	return 0;
}

void
dkim_keyfile_free(struct dkim_keyfile *k)
{
	if (k->pem) {
		memset(k->pem, 0, strlen(k->pem));
		free(k->pem);
	}
	free(k->pub);
	memset(k, 0, sizeof(*k));
}

/* ---- the DNS record ---- */

/* One TXT string is at most 255 bytes (RFC 1035); a longer text is several strings. */
#define DKIM_TXT_CHUNK 255

void
dkim_record_format(const char *selector, const char *domain, enum dkim_alg alg,
    const char *pub, struct buf *out)
{
	struct buf txt = BUF_INIT;
	size_t i, n;

	buf_addf(&txt, "v=DKIM1; k=%s; p=%s", alg == DKIM_ALG_RSA_SHA256 ? "rsa" : "ed25519",
	    pub);
	buf_addf(out, "%s._domainkey.%s%s IN TXT", selector, domain,
	    domain[0] && domain[strlen(domain) - 1] == '.' ? "" : ".");
	for (i = 0; i < txt.len; i += n) {
		n = txt.len - i < DKIM_TXT_CHUNK ? txt.len - i : DKIM_TXT_CHUNK;
		buf_addf(out, " \"%.*s\"", (int)n, txt.data + i);
	}
	buf_addc(out, '\n');
	buf_free(&txt);
}

/* ---- checks ---- */

/* 1 when sub is dom or a subdomain of it. */
static int
dkim_under(const char *sub, const char *dom)
{
	size_t ls = strlen(sub), ld = strlen(dom);

	if (ls == ld)
		return strcasecmp(sub, dom) == 0;
	return ls > ld && sub[ls - ld - 1] == '.' && strcasecmp(sub + ls - ld, dom) == 0;
}

int
dkim_aligned(const char *d, const char *f)
{
	return dkim_under(d, f) || dkim_under(f, d);
}

/* Letters, digits, '-', '_', and '.' when dots is set; not empty. */
static int
dkim_word_ok(const char *name, int dots)
{
	const char *p;

	for (p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || (dots && *p == '.')))
			return 0;
	return p != name;
}

/* A field name as it appears in h=: letters, digits, '-' and '_'. */
static int
dkim_header_ok(const char *name)
{
	return dkim_word_ok(name, 0);
}

/* A signer made as send makes it (it signs a first message): what fails here would stop every send. */
static void
dkim_check_signer(const struct config *c, struct diag *d)
{
	struct dkim_signer *s;
	enum dkim_alg alg;
	struct stat st;
	char err[512];

	/* config_load has reported a missing field or file, or a bad mode, already. */
	if (c->dkim.domain == NULL || c->dkim.selector == NULL || c->dkim.key_file == NULL ||
	    dkim_alg_parse(c->dkim.algorithm, &alg) == -1 || stat(c->dkim.key_file, &st) == -1 ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)))
		return;
	if ((s = dkim_signer_new(c, err, sizeof(err))) == NULL)
		diag_error(d, NULL, 0, 0, "%s", err);
	dkim_signer_free(s);
}

void
dkim_check_config(const struct config *c, struct diag *d)
{
	const char *at;
	int kind = d->kind;
	size_t i, errors = d->errors;

	if (!c->dkim.enabled)
		return;
	d->kind = EXIT_CONFIG;
	for (i = 0; i < c->dkim.nheaders; i++)
		if (!dkim_header_ok(c->dkim.headers[i]))
			diag_error(d, c->file, 0, 0, "dkim: '%s' in 'headers' is not a header name",
			    c->dkim.headers[i]);
	if (d->errors == errors)
		dkim_check_signer(c, d);
	at = c->sender.from_addr ? strrchr(c->sender.from_addr, '@') : NULL;
	if (at && c->dkim.domain && !dkim_aligned(c->dkim.domain, at + 1))
		diag_warn(d, c->file, 0, 0, "dkim domain '%s' does not align with the From domain "
		    "'%s': DMARC needs the same domain or one a subdomain of the other",
		    c->dkim.domain, at + 1);
	d->kind = kind;
}

/* ---- canonicalization (RFC 6376 3.4.2 and 3.4.4, "relaxed") ---- */

static int
dkim_wsp(char c)
{
	return c == ' ' || c == '\t';
}

void
dkim_canon_header(const char *field, size_t len, struct buf *out)
{
	const char *colon = memchr(field, ':', len), *p, *end = field + len;
	char *o;
	size_t n;
	int space = 0, any = 0;

	if (colon == NULL)
		fatalx("dkim: a header field without a colon");
	/* Never longer than the field, and its CRLF. */
	buf_grow(out, len + 3);
	o = out->data + out->len;
	/* The name lowercased, without the white space before the colon. */
	for (n = (size_t)(colon - field); n > 0 && dkim_wsp(field[n - 1]); n--)
		;
	for (p = field; p < field + n; p++)
		*o++ = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	*o++ = ':';
	/* The value unfolded, each run of white space one space, none at either end. */
	for (p = colon + 1; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (dkim_wsp(*p)) {
			space = 1;
			continue;
		}
		if (space && any)
			*o++ = ' ';
		*o++ = *p;
		space = 0;
		any = 1;
	}
	*o++ = '\r';
	*o++ = '\n';
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

void
dkim_canon_body(const char *body, size_t len, struct buf *out)
{
	const char *p = body, *end = body + len, *nl, *stop;
	size_t blank = 0;
	char *o;

	/* At most twice the body and a CRLF: a line ending in a bare LF gets a CRLF. */
	buf_grow(out, 2 * len + 3);
	o = out->data + out->len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		stop = nl ? nl : end;
		if (nl && stop > p && stop[-1] == '\r')
			stop--;
		while (stop > p && dkim_wsp(stop[-1]))
			stop--;
		if (stop == p) {
			/* Empty lines wait: those at the end of the body are dropped. */
			blank++;
		} else {
			for (; blank > 0; blank--) {
				*o++ = '\r';
				*o++ = '\n';
			}
			/* Each run of white space one space; there is none at the end now. */
			while (p < stop) {
				if (dkim_wsp(*p)) {
					*o++ = ' ';
					while (dkim_wsp(*p))
						p++;
				} else {
					*o++ = *p++;
				}
			}
			*o++ = '\r';
			*o++ = '\n';
		}
		p = nl ? nl + 1 : end;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

int
dkim_body_canonical(const char *body, size_t len)
{
	const char *p, *end = body + len;

	if (len == 0)
		return 1;
	/* One CRLF at the end, and no empty line before it. */
	if (len < 3 || memcmp(end - 2, "\r\n", 2) != 0 ||
	    (len >= 4 && memcmp(end - 4, "\r\n\r\n", 4) == 0))
		return 0;
	/* No tab, no run of spaces, no space at a line's end. */
	if (memchr(body, '\t', len) || memmem(body, len, "  ", 2) || memmem(body, len, " \r\n", 3))
		return 0;
	/* Every LF after a CR. */
	for (p = body; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		if (p == body || p[-1] != '\r')
			return 0;
	return 1;
}

/* ---- signing ---- */

/*
 * The key is parsed once and only read by the sending threads. RSA signs
 * with OpenSSL's libcrypto (0.99 ms a signature on the 2-core bench
 * machine; GnuTLS takes 2.4), ed25519 with libsodium (31 us; GnuTLS 46,
 * libcrypto 60).
 */
struct dkim_signer {
	EVP_PKEY *rsa;
	unsigned char ed25519[crypto_sign_SECRETKEYBYTES];	/* seed and public key */
	enum dkim_alg alg;
	char *selector, *domain;
	char **names;			/* the fields to sign, lowercase, each once */
	size_t nnames, namecap;
};

static void
dkim_add_name(struct dkim_signer *s, const char *name)
{
	char *lower = xstrdup(name), *p;
	size_t i;

	for (p = lower; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	for (i = 0; i < s->nnames; i++)
		if (strcmp(s->names[i], lower) == 0) {
			free(lower);
			return;
		}
	s->names = xgrow(s->names, &s->namecap, s->nnames + 1, sizeof(*s->names));
	s->names[s->nnames++] = lower;
}

/* The fields to sign: dkim_always, then the config's. */
static int
dkim_signer_headers(struct dkim_signer *s, const struct config *c, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(dkim_always); i++)
		dkim_add_name(s, dkim_always[i]);
	for (i = 0; i < c->dkim.nheaders; i++) {
		if (!dkim_header_ok(c->dkim.headers[i])) {
			snprintf(err, errlen, "dkim: '%s' in 'headers' is not a header name",
			    c->dkim.headers[i]);
			return -1;
		}
		dkim_add_name(s, c->dkim.headers[i]);
	}
	return 0;
}

/* The key from the PEM text the key file gave, for the library that signs with it. */
static int
dkim_signer_key(struct dkim_signer *s, const struct dkim_keyfile *k)
{
	gnutls_datum_t d = { (unsigned char *)k->pem, (unsigned)strlen(k->pem) }, x, seed;
	unsigned char pub[crypto_sign_PUBLICKEYBYTES];
	gnutls_privkey_t pk;
	gnutls_ecc_curve_t curve;
	int rc = -1;
	BIO *b;

	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		/* libsodium's secret key is made from the 32-byte seed PKCS#8 wraps. */
		if (sodium_init() < 0 || gnutls_privkey_init(&pk) < 0)
			fatalx("dkim: cannot start libsodium or GnuTLS");
		if (gnutls_privkey_import_x509_raw(pk, &d, GNUTLS_X509_FMT_PEM, NULL, 0) == 0 &&
		    gnutls_privkey_export_ecc_raw2(pk, &curve, &x, NULL, &seed, 0) == 0) {
			if (curve == GNUTLS_ECC_CURVE_ED25519 && seed.size == crypto_sign_SEEDBYTES &&
			    x.size == sizeof(pub) &&
			    crypto_sign_seed_keypair(pub, s->ed25519, seed.data) == 0 &&
			    memcmp(pub, x.data, sizeof(pub)) == 0)
				rc = 0;
			gnutls_memset(seed.data, 0, seed.size);
			gnutls_free(seed.data);
			gnutls_free(x.data);
		}
		gnutls_privkey_deinit(pk);
		return rc;
	}
	if ((b = BIO_new_mem_buf(k->pem, (int)d.size)) == NULL)
		fatalx("dkim: out of memory");
	s->rsa = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return s->rsa && EVP_PKEY_get_id(s->rsa) == EVP_PKEY_RSA ? 0 : -1;
}

/*
 * One message signed before any is sent: a key OpenSSL cannot use fails
 * here, not on the sending threads.
 */
static int
dkim_signer_probe(struct dkim_signer *s, char *err, size_t errlen)
{
	static const char probe[] = "From: <probe@herald.invalid>\r\n\r\n";
	char *msg = xstrdup(probe), why[256];
	size_t len = sizeof(probe) - 1;
	int rc;

	if ((rc = dkim_signer_sign(s, &msg, &len, why, sizeof(why))) == -1)
		snprintf(err, errlen, "%s (selector '%s', domain '%s')", why, s->selector, s->domain);
	free(msg);
	return rc;
}

struct dkim_signer *
dkim_signer_new(const struct config *c, char *err, size_t errlen)
{
	struct dkim_signer *s = xcalloc(1, sizeof(*s));
	struct dkim_keyfile key;
	char why[256];

	if (dkim_alg_parse(c->dkim.algorithm, &s->alg) == -1)
		fatalx("dkim: algorithm '%s' passed the config check", c->dkim.algorithm);
	/* They become s= and d=, and the DNS name verifiers look the key up at. */
	if (!dkim_word_ok(c->dkim.selector, 1) || !dkim_word_ok(c->dkim.domain, 1)) {
		snprintf(err, errlen, "dkim: selector '%s' and domain '%s' must be DNS names",
		    c->dkim.selector, c->dkim.domain);
		goto fail;
	}
	if (dkim_keyfile_load(c->dkim.key_file, s->alg, &key, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "dkim: %s: %s", c->dkim.key_file, why);
		goto fail;
	}
	if (dkim_signer_key(s, &key) == -1) {
		dkim_keyfile_free(&key);
		snprintf(err, errlen, "dkim: %s: cannot load the key for signing", c->dkim.key_file);
		goto fail;
	}
	dkim_keyfile_free(&key);
	if (dkim_signer_headers(s, c, err, errlen) == -1)
		goto fail;
	s->selector = xstrdup(c->dkim.selector);
	s->domain = xstrdup(c->dkim.domain);
	if (dkim_signer_probe(s, err, errlen) == -1)
		goto fail;
	return s;
fail:
	dkim_signer_free(s);
	return NULL;
}

void
dkim_signer_free(struct dkim_signer *s)
{
	size_t i;

	if (s == NULL)
		return;
	EVP_PKEY_free(s->rsa);
	sodium_memzero(s->ed25519, sizeof(s->ed25519));
	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->selector);
	free(s->domain);
	free(s);
}

/* One header field of the message: where it starts, and its length with its CRLF. */
struct dkim_field {
	const char *p;
	size_t len, namelen;
};

/* The fields of the header (up to the empty line); returns how many. */
static size_t
dkim_fields(const char *msg, size_t hlen, struct dkim_field **out)
{
	const char *p = msg, *end = msg + hlen, *nl, *colon;
	struct dkim_field *f = NULL;
	size_t n = 0, cap = 0;

	while (p < end) {
		/* A field runs on over the lines that start with white space. */
		const char *q = p;
		do {
			nl = memchr(q, '\n', (size_t)(end - q));
			q = nl ? nl + 1 : end;
		} while (q < end && dkim_wsp(*q));
		colon = memchr(p, ':', (size_t)(q - p));
		if (colon != NULL) {
			f = xgrow(f, &cap, n + 1, sizeof(*f));
			f[n].p = p;
			f[n].len = (size_t)(q - p);
			for (f[n].namelen = (size_t)(colon - p);
			    f[n].namelen > 0 && dkim_wsp(p[f[n].namelen - 1]); f[n].namelen--)
				;
			n++;
		}
		p = q;
	}
	*out = f;
	return n;
}

/* Folding: a line of the DKIM-Signature field is kept under 78 columns. */
#define DKIM_COLS 76

struct dkim_folder {
	struct buf *out;
	size_t col;
};

/*
 * Adds text, after a space when space is set, starting a new line (CRLF,
 * tab) instead when need columns would not fit on this one.
 */
static void
dkim_fold_add(struct dkim_folder *f, const char *text, size_t n, size_t need, int space)
{
	if (f->col + (space ? 1 : 0) + need > DKIM_COLS && f->col > 1) {
		buf_adds(f->out, "\r\n\t");
		f->col = 1;
	} else if (space) {
		buf_addc(f->out, ' ');
		f->col++;
	}
	buf_add(f->out, text, n);
	f->col += n;
}

/* A tag made from fmt, after a space or on a new line; tmp is scratch space. */
static void dkim_fold_tagf(struct dkim_folder *f, struct buf *tmp, const char *fmt, ...)
    HERALD_PRINTF(3, 4);

static void
dkim_fold_tagf(struct dkim_folder *f, struct buf *tmp, const char *fmt, ...)
{
	va_list ap;

	buf_reset(tmp);
	va_start(ap, fmt);
	buf_vaddf(tmp, fmt, ap);
	va_end(ap);
	dkim_fold_add(f, tmp->data, tmp->len, tmp->len, 1);
}

static char *
dkim_base64(const unsigned char *data, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

/*
 * The signature over data: RSASSA-PKCS1-v1_5 with SHA-256 for rsa-sha256;
 * for ed25519-sha256, PureEdDSA over data's SHA-256 (RFC 8463).
 */
static int
dkim_signature(struct dkim_signer *s, const struct buf *data, unsigned char *sig,
    size_t *siglen)
{
	unsigned char md[32];
	unsigned long long n;
	EVP_MD_CTX *ctx;
	int ok;

	if (s->alg == DKIM_ALG_ED25519_SHA256) {
		if (*siglen < crypto_sign_BYTES ||
		    gnutls_hash_fast(GNUTLS_DIG_SHA256, data->data, data->len, md) < 0 ||
		    crypto_sign_detached(sig, &n, md, sizeof(md), s->ed25519) != 0)
			return -1;
		*siglen = (size_t)n;
		return 0;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("dkim: out of memory");
	ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->rsa) == 1 &&
	    EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)data->data, data->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * RFC 6376's relaxed body canonicalization of a body that comes in runs
 * (mbuf.h), hashed as it goes: a run that is canonical already (herald's
 * quoted-printable and base64 are) is hashed where it is; any other is
 * canonicalized byte by byte into a small buffer. Lines may cross runs.
 */
struct dkim_bodyhash {
	EVP_MD_CTX *h;		/* libcrypto's SHA-256: twice GnuTLS's speed here, on bodies of MBs */
	size_t blank;		/* empty lines seen and not hashed: dropped at the end */
	int any;		/* the line so far has something besides white space */
	int space;		/* white space waits: one space, if more follows on the line */
	int cr;			/* a CR waits: a line end if an LF follows */
	struct buf out;
};

#define DKIM_BH_CHUNK 65536

static void
dkim_bh_hash(struct dkim_bodyhash *bh, const char *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(bh->h, p, n) != 1)
		fatalx("dkim: SHA-256 failed");
}

static void
dkim_bh_flush(struct dkim_bodyhash *bh)
{
	dkim_bh_hash(bh, bh->out.data, bh->out.len);
	buf_reset(&bh->out);
}

/* The empty lines that turned out not to end the body. */
static void
dkim_bh_blanks(struct dkim_bodyhash *bh)
{
	for (; bh->blank > 0; bh->blank--)
		buf_add(&bh->out, "\r\n", 2);
}

static void
dkim_bh_content(struct dkim_bodyhash *bh, char c)
{
	if (!bh->any)
		dkim_bh_blanks(bh);
	if (bh->space)
		buf_addc(&bh->out, ' ');
	buf_addc(&bh->out, c);
	bh->any = 1;
	bh->space = 0;
}

static void
dkim_bh_byte(struct dkim_bodyhash *bh, char c)
{
	if (bh->cr) {
		bh->cr = 0;
		if (c != '\n')
			dkim_bh_content(bh, '\r');
	}
	if (c == '\n') {
		if (bh->any)
			buf_add(&bh->out, "\r\n", 2);
		else
			bh->blank++;
		bh->any = bh->space = 0;
	} else if (c == '\r') {
		bh->cr = 1;
	} else if (dkim_wsp(c)) {
		bh->space = 1;
	} else {
		dkim_bh_content(bh, c);
	}
}

/*
 * Canonical as it stands, from the start of a line: whole CRLF-ended
 * lines, no tab, no run of spaces, none at a line's end.
 */
static int
dkim_run_canonical(const char *p, size_t len)
{
	const char *q, *end = p + len;

	if (len < 2 || memcmp(end - 2, "\r\n", 2) != 0 || p[0] == '\n' || memchr(p, '\t', len))
		return 0;
	/* Base64 has no space at all: memmem is slow beside memchr, so only where there is one. */
	if (memchr(p, ' ', len) && (memmem(p, len, "  ", 2) || memmem(p, len, " \r\n", 3)))
		return 0;
	for (q = p; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		if (q[-1] != '\r')
			return 0;
	return 1;
}

static void
dkim_bh_run(struct dkim_bodyhash *bh, const char *p, size_t len)
{
	size_t i, e = len, trailing = 0;

	if (bh->any || bh->space || bh->cr || !dkim_run_canonical(p, len)) {
		for (i = 0; i < len; i++) {
			dkim_bh_byte(bh, p[i]);
			if (bh->out.len >= DKIM_BH_CHUNK)
				dkim_bh_flush(bh);
		}
		return;
	}
	/* Its empty lines at the end wait, as the body may end after them. */
	while (e >= 4 && memcmp(p + e - 4, "\r\n\r\n", 4) == 0) {
		e -= 2;
		trailing++;
	}
	if (e == 2) {
		bh->blank += trailing + 1;
		return;
	}
	dkim_bh_blanks(bh);
	dkim_bh_flush(bh);
	dkim_bh_hash(bh, p, e);
	bh->blank = trailing;
}

/* The body hash of the runs of m from own offset `body` on. */
static void
dkim_body_hash(const struct mbuf *m, size_t body, unsigned char md[32])
{
	struct dkim_bodyhash bh;
	size_t i, runs = mbuf_runs(m), len;
	const char *p;

	memset(&bh, 0, sizeof(bh));
	if ((bh.h = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(bh.h, EVP_sha256(), NULL) != 1)
		fatalx("dkim: SHA-256 failed");
	for (i = 0; i < runs; i++) {
		mbuf_run(m, i, &p, &len);
		if (i == 0) {
			p += body;
			len -= body;
		}
		dkim_bh_run(&bh, p, len);
	}
	if (bh.cr) {
		bh.cr = 0;
		dkim_bh_content(&bh, '\r');
	}
	if (bh.any)
		buf_add(&bh.out, "\r\n", 2);
	dkim_bh_flush(&bh);
	if (EVP_DigestFinal_ex(bh.h, md, NULL) != 1)
		fatalx("dkim: SHA-256 failed");
	EVP_MD_CTX_free(bh.h);
	buf_free(&bh.out);
}

void
dkim_body_hash_runs(const char *const *runs, const size_t *lens, size_t n, unsigned char md[32])
{
	struct mbuf m = MBUF_INIT;
	size_t i;

	/* Own runs between borrowed ones: empty own bytes, every run borrowed. */
	for (i = 0; i < n; i++)
		mbuf_ref(&m, runs[i], lens[i]);
	dkim_body_hash(&m, 0, md);
	mbuf_free(&m);
}

int
dkim_signer_sign_parts(struct dkim_signer *s, struct mbuf *msg, char *err, size_t errlen)
{
	const char *m = msg->own.data ? msg->own.data : "", *blank;
	size_t own = msg->own.len, first = msg->nrefs ? msg->refs[0].at : own;
	struct buf canon = BUF_INIT, field = BUF_INIT;
	struct dkim_folder f = { &field, 0 };
	struct dkim_field *fl = NULL;
	unsigned char md[32], sig[1024];
	size_t hlen, body, nf, i, j, k, siglen = sizeof(sig), hstart, blen;
	struct buf tag = BUF_INIT;
	char *bh, *b;
	int rc = 0;

	/* The header ends at the empty line; the body follows it. It is all the message's own. */
	blank = memmem(m, first, "\r\n\r\n", 4);
	if (blank == NULL && msg->nrefs > 0) {
		snprintf(err, errlen, "dkim: cannot sign: a file before the end of the header");
		return -1;
	}
	hlen = blank ? (size_t)(blank - m) + 2 : own;
	body = blank ? hlen + 2 : own;
	dkim_body_hash(msg, body, md);
	bh = dkim_base64(md, sizeof(md));
	/* The tags, folded as they go out; the signed fields in h= as they are hashed. */
	buf_reset(&canon);
	buf_adds(&field, DKIM_SIGNHEADER ":");
	f.col = field.len;
	dkim_fold_tagf(&f, &tag, "v=1; a=%s; c=relaxed/relaxed;",
	    s->alg == DKIM_ALG_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256");
	dkim_fold_tagf(&f, &tag, "d=%s;", s->domain);
	dkim_fold_tagf(&f, &tag, "s=%s;", s->selector);
	dkim_fold_tagf(&f, &tag, "t=%lld;", (long long)time(NULL));
	nf = dkim_fields(m, hlen, &fl);
	hstart = 0;
	for (i = 0; i < s->nnames; i++) {
		size_t nl = strlen(s->names[i]);
		/* Every instance of a field, the last first (RFC 6376 5.4.2). */
		for (j = nf; j > 0; j--) {
			k = j - 1;
			if (fl[k].namelen != nl || strncasecmp(fl[k].p, s->names[i], nl) != 0)
				continue;
			dkim_canon_header(fl[k].p, fl[k].len, &canon);
			buf_reset(&tag);
			buf_addf(&tag, "%s%s", hstart++ ? ":" : "h=", s->names[i]);
			dkim_fold_add(&f, tag.data, tag.len, tag.len, hstart == 1);
		}
	}
	free(fl);
	if (hstart == 0) {
		snprintf(err, errlen, "dkim: cannot sign: the message has none of the fields to sign");
		rc = -1;
		goto out;
	}
	buf_addc(&field, ';');
	f.col++;
	dkim_fold_tagf(&f, &tag, "bh=%s;", bh);
	/* Some of the signature on the line of b=: no folding white space right after '='. */
	dkim_fold_add(&f, "b=", 2, 2 + 16, 1);
	/* The field itself, with b= empty and without its CRLF, ends what is signed. */
	dkim_canon_header(field.data, field.len, &canon);
	canon.len -= 2;
	if (dkim_signature(s, &canon, sig, &siglen) == -1) {
		snprintf(err, errlen, "dkim: cannot sign: OpenSSL refused the signature");
		rc = -1;
		goto out;
	}
	b = dkim_base64(sig, siglen);
	blen = strlen(b);
	for (i = 0; i < blen; i += k) {
		if ((k = DKIM_COLS > f.col ? DKIM_COLS - f.col : 0) == 0) {
			buf_adds(&field, "\r\n\t");
			f.col = 1;
			continue;
		}
		if (k > blen - i)
			k = blen - i;
		buf_add(&field, b + i, k);
		f.col += k;
	}
	free(b);
	buf_adds(&field, "\r\n");
	mbuf_prepend(msg, field.data, field.len);
out:
	free(bh);
	buf_free(&tag);
	buf_free(&canon);
	buf_free(&field);
	return rc;
}

int
dkim_signer_sign(struct dkim_signer *s, char **msg, size_t *len, char *err, size_t errlen)
{
	struct mbuf m = MBUF_INIT;

	mbuf_adopt(&m, *msg, *len);
	if (dkim_signer_sign_parts(s, &m, err, errlen) == -1)
		return -1;	/* *msg is still m's bytes, untouched */
	*len = m.own.len;
	*msg = buf_detach(&m.own);
	mbuf_free(&m);
	return 0;
}
