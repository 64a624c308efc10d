/*
 * fuzz_dkim_canon.c - the bodies and header fields herald signs carry
 * whatever a release's authors wrote. Relaxed canonicalization must give
 * a canonical text (one its shortcut recognises), change nothing a second
 * time, leave alone what the shortcut calls canonical, and make a header
 * field's value one line of single spaces. A body hashed in runs (a
 * message with attachments) hashes as the whole canonicalized, wherever
 * the runs are cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "dkim.h"
#include "util.h"

/* The input cut in up to four runs at places its first bytes choose. */
static void
check_runs(const char *in, size_t n)
{
	unsigned char got[32], want[32];
	struct buf canon = BUF_INIT;
	const char *runs[4];
	const unsigned char *choice = (const unsigned char *)in;
	size_t lens[4], cut[5], k, i, nruns;

	if (n < 3)
		return;
	nruns = 1 + choice[0] % 4;
	in += 3;
	n -= 3;
	cut[0] = 0;
	cut[nruns] = n;
	for (i = 1; i < nruns; i++) {
		k = ((size_t)choice[i % 3] * 31 + i * 7) % (n + 1);
		cut[i] = k < cut[i - 1] ? cut[i - 1] : k;
	}
	for (i = 0; i < nruns; i++) {
		runs[i] = in + cut[i];
		lens[i] = cut[i + 1] - cut[i];
	}
	dkim_body_hash_runs(runs, lens, nruns, got);
	dkim_canon_body(in, n, &canon);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, canon.data ? canon.data : "", canon.len, want) < 0 ||
	    memcmp(got, want, sizeof(got)) != 0)
		abort();
	buf_free(&canon);
}

static void
check_body(const char *in, size_t n)
{
	struct buf once = BUF_INIT, twice = BUF_INIT;

	dkim_canon_body(in, n, &once);
	if (!dkim_body_canonical(once.data ? once.data : "", once.len))
		abort();
	dkim_canon_body(once.data ? once.data : "", once.len, &twice);
	if (twice.len != once.len || (once.len && memcmp(once.data, twice.data, once.len) != 0))
		abort();
	if (dkim_body_canonical(in, n) && (once.len != n || (n && memcmp(once.data, in, n) != 0)))
		abort();
	buf_free(&once);
	buf_free(&twice);
}

static void
check_header(const char *in, size_t n)
{
	struct buf out = BUF_INIT;
	const char *colon = memchr(in, ':', n);
	size_t i;

	if (colon == NULL)
		return;
	dkim_canon_header(in, n, &out);
	if (out.len < 3 || memcmp(out.data + out.len - 2, "\r\n", 2) != 0)
		abort();
	/* The name is as it came, lowercased and trimmed; the value starts after it. */
	i = (size_t)(memchr(out.data, ':', out.len) - (void *)out.data);
	if (i > (size_t)(colon - in) || out.data[i + 1] == ' ')
		abort();
	for (i++; i + 2 < out.len; i++)
		if (out.data[i] == '\r' || out.data[i] == '\n' || out.data[i] == '\t' ||
		    (out.data[i] == ' ' && out.data[i + 1] == ' '))
			abort();
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_body((const char *)data, size);
	check_header((const char *)data, size);
	check_runs((const char *)data, size);
	return 0;
}
