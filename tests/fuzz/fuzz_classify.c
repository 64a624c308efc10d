/*
 * fuzz_classify.c - every message in the mailbox is untrusted input:
 * classify() parses its headers, MIME tree, delivery reports and text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cls_opts o = { "bounces@ogp.example", "unsubscribe@ogp.example",
	    "ogp.example", "subscribe@ogp.example" };
	struct cls_result r;
	char *msg = xmalloc(size + 1);
	size_t i;

	/* Not NUL-terminated, as a message read from the wire is not. */
	memcpy(msg, data, size);
	classify(msg, size, &o, &r);
	if (r.n == 0)
		abort();
	for (i = 0; i < r.n; i++)
		if (r.f[i].address[sizeof(r.f[i].address) - 1] != '\0' ||
		    r.f[i].status[sizeof(r.f[i].status) - 1] != '\0')
			abort();
	cls_result_free(&r);
	free(msg);
	return 0;
}
