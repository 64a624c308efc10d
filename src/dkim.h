/*
 * dkim.h - DKIM signing of every message herald sends (RFC 6376, with
 * RFC 8463's ed25519-sha256), the DNS record that publishes the key, and
 * the checks `herald check` makes.
 *
 * One signer per process (or per send): the key file is read and parsed
 * once and shared, read-only, by the sending threads; each message is
 * signed on the thread that built it.
 */
#ifndef HERALD_DKIM_H
#define HERALD_DKIM_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "mbuf.h"
#include "util.h"

enum dkim_alg { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 };

/*
 * A private key as read from key_file: PEM (PKCS#1 "RSA PRIVATE KEY" or
 * PKCS#8 "PRIVATE KEY", not encrypted), or for ed25519 the base64 of the
 * raw 32-byte seed (dknewkey's format). pem is always PKCS#1/PKCS#8 PEM,
 * what OpenSSL reads; pub is the p= of the DNS record (base64).
 */
struct dkim_keyfile {
	enum dkim_alg alg;
	unsigned bits;
	char *pem;
	char *pub;
};

/* "rsa-sha256" / "ed25519-sha256" to the enum; -1 for anything else. */
int dkim_alg_parse(const char *name, enum dkim_alg *alg);

/*
 * Reads and checks path for algorithm alg. 0, or -1 with a one-line,
 * lowercase reason in err (the path is the caller's to add). The caller
 * frees *k with dkim_keyfile_free.
 */
int dkim_keyfile_load(const char *path, enum dkim_alg alg, struct dkim_keyfile *k,
    char *err, size_t errlen);
void dkim_keyfile_free(struct dkim_keyfile *k);

/*
 * The zone-file line for the key: SELECTOR._domainkey.DOMAIN. IN TXT
 * "v=DKIM1; k=rsa; p=..." with the text split into 255-byte strings, and
 * a newline. Pure.
 */
void dkim_record_format(const char *selector, const char *domain, enum dkim_alg alg,
    const char *pub, struct buf *out);

/*
 * 1 when the DKIM domain d aligns with the From domain f in DMARC's
 * relaxed sense, as far as herald can tell without the public suffix
 * list: equal, or one a subdomain of the other (case-insensitive). Pure.
 */
int dkim_aligned(const char *d, const char *f);

/*
 * What `herald check` adds about the dkim section: a bad 'headers' name,
 * or a signer that cannot be made (the key unreadable or not of the
 * algorithm, a selector or domain that is no DNS name) is an error
 * (EXIT_CONFIG); a domain that does not align with sender.from a warning.
 * Nothing when dkim is not configured.
 */
void dkim_check_config(const struct config *c, struct diag *d);

/*
 * RFC 6376's relaxed canonicalization, appended to out. A header field is
 * its whole text (name, colon, value and folded lines, with or without
 * its CRLF); out gets "name:value" and CRLF. A body (CRLF line ends) gets
 * each run of white space made one space, none at a line's end, and no
 * empty lines at its end. Pure.
 */
void dkim_canon_header(const char *field, size_t len, struct buf *out);
void dkim_canon_body(const char *body, size_t len, struct buf *out);

/* 1 when dkim_canon_body would give body back unchanged (the common case). Pure. */
int dkim_body_canonical(const char *body, size_t len);

struct dkim_signer;

/*
 * A signer for c->dkim (which must be enabled and have passed
 * config_load), tried on a first message; NULL with the reason in err
 * ("dkim: FILE: ...") when the key or the names cannot be used. Freed by
 * dkim_signer_free (NULL is fine), after every thread is done with it.
 */
struct dkim_signer *dkim_signer_new(const struct config *c, char *err, size_t errlen);
void dkim_signer_free(struct dkim_signer *s);

/*
 * Signs the message (*msg, *len bytes, CRLF line ends) and replaces it by
 * a new one (xmalloc) that starts with the DKIM-Signature field; the old
 * one is freed. Safe on several threads at once. 0, or -1 with err set
 * and *msg unchanged.
 */
int dkim_signer_sign(struct dkim_signer *s, char **msg, size_t *len, char *err,
    size_t errlen);
/*
 * The same for a message with borrowed runs (mbuf.h): the body is hashed
 * run by run, never copied, and the field is put before the message's own
 * bytes. The header must be all own bytes. 0, or -1 with err set and msg
 * unchanged.
 */
int dkim_signer_sign_parts(struct dkim_signer *s, struct mbuf *msg, char *err,
    size_t errlen);

/*
 * The SHA-256 of the relaxed canonical form of the body made of n runs,
 * in order (a line may cross from one run into the next): what bh= is the
 * base64 of. Equal to hashing dkim_canon_body of the runs joined. Pure.
 */
void dkim_body_hash_runs(const char *const *runs, const size_t *lens, size_t n,
    unsigned char md[32]);

#endif
