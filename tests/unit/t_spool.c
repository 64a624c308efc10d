/*
 * t_spool.c - a list's subscribers through a spool and back: every record
 * as written, in order, fields with NUL bytes and empty ones alike, read
 * twice over.
 */
#include <stdio.h>
#include <string.h>

#include "spool.h"
#include "tap.h"

#define N 20000

int
main(void)
{
	struct spool *sp = spool_new();
	char email[64], fields[64];
	const char *e;
	const void *f;
	size_t len, i, bad;
	int pass, rc;

	if (!ok(sp != NULL, "a spool is made in TMPDIR"))
		return done_testing();
	for (i = 0; i < N; i++) {
		snprintf(email, sizeof(email), "user%06zu@example.org", i);
		/* every third record without fields; the rest with a NUL inside */
		len = i % 3 == 0 ? 0 : (size_t)snprintf(fields, sizeof(fields), "n%zu", i) + 1;
		if (len)
			fields[len - 1] = '\0';
		if (spool_add(sp, email, fields, len) == -1)
			break;
	}
	is_int((long long)i, N, "every record is written");
	is_int((long long)spool_count(sp), N, "spool_count counts them");
	for (pass = 1; pass <= 2; pass++) {
		ok(spool_rewind(sp) == 0, "rewound for reading, pass %d", pass);
		bad = 0;
		for (i = 0; (rc = spool_next(sp, &e, &f, &len)) == 1; i++) {
			snprintf(email, sizeof(email), "user%06zu@example.org", i);
			if (strcmp(e, email) != 0)
				bad++;
			else if (i % 3 == 0 ? len != 0 :
			    (len != (size_t)snprintf(fields, sizeof(fields), "n%zu", i) + 1 ||
			    memcmp(f, fields, len - 1) != 0 || ((const char *)f)[len - 1] != '\0'))
				bad++;
		}
		is_int(rc, 0, "the end is 0, not an error");
		is_int((long long)i, N, "as many records read as written");
		is_int((long long)bad, 0, "each record read back as it was written, in order");
	}
	spool_free(sp);
	spool_free(NULL);
	return done_testing();
}
