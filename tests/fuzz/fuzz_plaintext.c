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

/* 1 when s[0..n) is valid UTF-8 (shortest forms, no surrogates, at most U+10FFFF). */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : s[i] >= 0xC0 ? 2 : 0;
		if (len == 0 || i + len > n)
			return 0;
		cp = s[i] & (0x7F >> len);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

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
	if (utf8_ok(data + 1, size - 1) && !utf8_ok((const unsigned char *)buf_str(&out), out.len))
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
