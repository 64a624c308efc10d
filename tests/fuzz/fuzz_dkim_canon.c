/*
 * fuzz_dkim_canon.c - the bodies and header fields herald signs carry
 * whatever a release's authors wrote. Relaxed canonicalization must give
 * a canonical text (one its shortcut recognises), change nothing a second
 * time, leave alone what the shortcut calls canonical, and make a header
 * field's value one line of single spaces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "util.h"

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
	return 0;
}
