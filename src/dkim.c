/*
 * dkim.c - DKIM: the key file (GnuTLS), the DNS record, the checks, and
 * signing (libopendkim). See dkim.h.
 */
#define _GNU_SOURCE		/* RTLD_NEXT */
#include "dkim.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <opendkim/dkim.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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

/* libopendkim turns the names into regular expressions: keep them plain field names. */
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

/* ---- the parsed key, once per process ---- */

/*
 * libopendkim parses the PEM key again for every message it signs
 * (dkim_privkey_load calls PEM_read_bio_PrivateKey), and OpenSSL 3.0's
 * decoder takes 0.6-0.9 ms for it: more than an RSA signature, ten times
 * an ed25519 one. herald's own PEM_read_bio_PrivateKey, which the dynamic
 * linker gives libopendkim, hands back a reference to the key parsed once
 * when the memory it is asked to read holds exactly that key's text;
 * everything else reaches OpenSSL's.
 *
 * The keys stay here, reachable, for the life of the process (one per
 * distinct key file text): libopendkim 2.11 drops its reference for RSA
 * but never for ed25519, so a key's count of references says nothing
 * about when it could be freed.
 */
struct dkim_cached {
	char *pem;
	size_t len;
	EVP_PKEY *pkey;
	struct dkim_cached *next;
};

static pthread_mutex_t dkim_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dkim_cached *dkim_cache;

typedef EVP_PKEY *(*dkim_pem_read_fn)(BIO *, EVP_PKEY **, pem_password_cb *, void *);

static dkim_pem_read_fn dkim_pem_read;
static pthread_once_t dkim_pem_read_once = PTHREAD_ONCE_INIT;

/* OpenSSL's own, the next definition after herald's in the lookup order. */
static void
dkim_find_pem_read(void)
{
	dkim_pem_read = (dkim_pem_read_fn)dlsym(RTLD_NEXT, "PEM_read_bio_PrivateKey");
	if (dkim_pem_read == NULL)
		fatalx("dkim: OpenSSL's PEM_read_bio_PrivateKey is not loaded");
}

static EVP_PKEY *
dkim_real_pem_read(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
	pthread_once(&dkim_pem_read_once, dkim_find_pem_read);
	return dkim_pem_read(bp, x, cb, u);
}

/* The entry for exactly these n bytes; the caller holds dkim_cache_lock. */
static struct dkim_cached *
dkim_cache_find(const char *data, size_t n)
{
	struct dkim_cached *c;

	for (c = dkim_cache; c; c = c->next)
		if (n == c->len && memcmp(data, c->pem, n) == 0)
			return c;
	return NULL;
}

EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u);

EVP_PKEY *
PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
	struct dkim_cached *c = NULL;
	char *data;
	long n;

	if (x == NULL && bp && BIO_method_type(bp) == BIO_TYPE_MEM &&
	    (n = BIO_get_mem_data(bp, &data)) > 0) {
		pthread_mutex_lock(&dkim_cache_lock);
		if ((c = dkim_cache_find(data, (size_t)n)) != NULL && EVP_PKEY_up_ref(c->pkey) != 1)
			c = NULL;
		pthread_mutex_unlock(&dkim_cache_lock);
	}
	return c ? c->pkey : dkim_real_pem_read(bp, x, cb, u);
}

/* Parses pem with OpenSSL, once per process; -1 when OpenSSL cannot. */
static int
dkim_cache_add(const char *pem)
{
	struct dkim_cached *c;
	size_t len = strlen(pem);
	EVP_PKEY *k;
	BIO *b;
	int found;

	pthread_mutex_lock(&dkim_cache_lock);
	found = dkim_cache_find(pem, len) != NULL;
	pthread_mutex_unlock(&dkim_cache_lock);
	if (found)
		return 0;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatalx("dkim: out of memory");
	k = dkim_real_pem_read(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		return -1;
	c = xcalloc(1, sizeof(*c));
	c->pem = xstrdup(pem);
	c->len = len;
	c->pkey = k;
	pthread_mutex_lock(&dkim_cache_lock);
	c->next = dkim_cache;
	dkim_cache = c;
	pthread_mutex_unlock(&dkim_cache_lock);
	return 0;
}

/* ---- libopendkim's memory, per message ---- */

/*
 * Each DKIM handle allocates through these, with a dkim_mem of its own as
 * the closure (NULL: the library's own, plain malloc). What the handle
 * has not freed when it is done is freed with it: libopendkim 2.11 keeps
 * the signature buffer of every ed25519 message otherwise.
 */
struct dkim_mem {
	void **p;
	size_t n, cap;
};

static void *
dkim_mem_alloc(void *closure, size_t n)
{
	struct dkim_mem *m = closure;
	void *p = xmalloc(n ? n : 1);

	if (m) {
		m->p = xgrow(m->p, &m->cap, m->n + 1, sizeof(*m->p));
		m->p[m->n++] = p;
	}
	return p;
}

static void
dkim_mem_free(void *closure, void *p)
{
	struct dkim_mem *m = closure;
	size_t i;

	/* Newest first: most blocks are short-lived. */
	for (i = m ? m->n : 0; i > 0; i--)
		if (m->p[i - 1] == p) {
			m->p[i - 1] = m->p[--m->n];
			break;
		}
	free(p);
}

static void
dkim_mem_release(struct dkim_mem *m)
{
	while (m->n > 0)
		free(m->p[--m->n]);
	free(m->p);
}

/* ---- signing ---- */

struct dkim_signer {
	DKIM_LIB *lib;			/* shared: libopendkim keeps per-message state in DKIM handles */
	struct dkim_keyfile key;
	char *selector, *domain;
	dkim_alg_t alg;
};

/* The fields to sign: dkim_always, then the config's, as libopendkim wants them. */
static int
dkim_signer_headers(struct dkim_signer *s, const struct config *c, char *err, size_t errlen)
{
	size_t i, n = 0;
	const char **h = xcalloc(ARRAY_LEN(dkim_always) + c->dkim.nheaders + 1, sizeof(*h));
	int rc = 0;

	for (i = 0; i < ARRAY_LEN(dkim_always); i++)
		h[n++] = dkim_always[i];
	for (i = 0; i < c->dkim.nheaders && rc == 0; i++) {
		if (!dkim_header_ok(c->dkim.headers[i])) {
			snprintf(err, errlen, "dkim: '%s' in 'headers' is not a header name",
			    c->dkim.headers[i]);
			rc = -1;
		}
		h[n++] = c->dkim.headers[i];
	}
	/* The option takes the address of the array; libopendkim compiles it into its own. */
	if (rc == 0 && dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, h,
	    sizeof(h)) != DKIM_STAT_OK) {
		snprintf(err, errlen, "dkim: libopendkim refused the header list");
		rc = -1;
	}
	free(h);
	return rc;
}

/*
 * One message signed before any is sent: a key or name libopendkim
 * refuses fails here, not on the sending threads, and what OpenSSL
 * derives from the key on first use is made on this one thread.
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
	enum dkim_alg alg;
	char why[256];

	if (dkim_alg_parse(c->dkim.algorithm, &alg) == -1)
		fatalx("dkim: algorithm '%s' passed the config check", c->dkim.algorithm);
	/* They become s= and d=, and the DNS name verifiers look the key up at. */
	if (!dkim_word_ok(c->dkim.selector, 1) || !dkim_word_ok(c->dkim.domain, 1)) {
		snprintf(err, errlen, "dkim: selector '%s' and domain '%s' must be DNS names",
		    c->dkim.selector, c->dkim.domain);
		goto fail;
	}
	if (dkim_keyfile_load(c->dkim.key_file, alg, &s->key, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "dkim: %s: %s", c->dkim.key_file, why);
		goto fail;
	}
	if (dkim_cache_add(s->key.pem) == -1) {
		snprintf(err, errlen, "dkim: %s: libopendkim's OpenSSL cannot read the key",
		    c->dkim.key_file);
		goto fail;
	}
	if ((s->lib = dkim_init(dkim_mem_alloc, dkim_mem_free)) == NULL)
		fatalx("dkim: out of memory");
	if (dkim_signer_headers(s, c, err, errlen) == -1)
		goto fail;
	s->alg = alg == DKIM_ALG_RSA_SHA256 ? DKIM_SIGN_RSASHA256 : DKIM_SIGN_ED25519SHA256;
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
	if (s == NULL)
		return;
	if (s->lib)
		dkim_close(s->lib);
	dkim_keyfile_free(&s->key);
	free(s->selector);
	free(s->domain);
	free(s);
}

/* The field as libopendkim folds it (LF, tab), with herald's CRLF line ends. */
static void
dkim_add_field(struct buf *out, const unsigned char *v, size_t len)
{
	size_t i;

	buf_adds(out, DKIM_SIGNHEADER ": ");
	for (i = 0; i < len; i++) {
		if (v[i] == '\n')
			buf_addc(out, '\r');
		if (v[i] != '\r')
			buf_addc(out, (char)v[i]);
	}
	buf_adds(out, "\r\n");
}

static const char *
dkim_why(DKIM *h, DKIM_STAT st)
{
	const char *e = h ? dkim_geterror(h) : NULL;

	return e && *e ? e : dkim_getresultstr(st);
}

/* Feeds the message to h and puts the finished field before it in out. */
static DKIM_STAT
dkim_run(DKIM *h, const char *msg, size_t len, struct buf *out)
{
	unsigned char *field;
	size_t flen;
	DKIM_STAT st;

	if ((st = dkim_chunk(h, (unsigned char *)msg, len)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(h, NULL, 0)) != DKIM_STAT_OK ||
	    (st = dkim_eom(h, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(h, strlen(DKIM_SIGNHEADER) + 2, &field, &flen)) != DKIM_STAT_OK)
		return st;
	buf_grow(out, flen + 32 + len);
	dkim_add_field(out, field, flen);
	buf_add(out, msg, len);
	return DKIM_STAT_OK;
}

int
dkim_signer_sign(struct dkim_signer *s, char **msg, size_t *len, char *err, size_t errlen)
{
	struct dkim_mem mem = { NULL, 0, 0 };
	struct buf out = BUF_INIT;
	DKIM_STAT st;
	DKIM *h;

	h = dkim_sign(s->lib, (const unsigned char *)"herald", &mem,
	    (unsigned char *)s->key.pem, (const unsigned char *)s->selector,
	    (const unsigned char *)s->domain, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, s->alg, -1,
	    &st);
	if (h != NULL && (st = dkim_run(h, *msg, *len, &out)) == DKIM_STAT_OK) {
		free(*msg);
		*len = out.len;
		*msg = buf_detach(&out);
	} else {
		snprintf(err, errlen, "dkim: cannot sign: %s", dkim_why(h, st));
		buf_free(&out);
	}
	if (h)
		dkim_free(h);
	dkim_mem_release(&mem);
	return st == DKIM_STAT_OK ? 0 : -1;
}
