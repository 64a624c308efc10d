/*
 * fuzz_plaintext.c - libFuzzer target for Markdown as plain text: what a
 * release author writes becomes every text part. The first byte picks the
 * width (0 to 120). The promises checked: no crash, the output is valid
 * UTF-8 when the input is, and no line is over 998 octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plaintext.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	const char *s, *e;
	unsigned width;

	if (size == 0)
		return 0;
	width = data[0] % 121;
	plaintext_markdown((const char *)data + 1, size - 1, width, &out);
	if (util_utf8_bad((const char *)data + 1, size - 1) == size - 1 &&
	    util_utf8_bad(buf_str(&out), out.len) != out.len)
		abort();
	for (s = buf_str(&out); *s; s = *e ? e + 1 : e) {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		if (e - s > 998)
			abort();
	}
	buf_free(&out);
	return 0;
}
