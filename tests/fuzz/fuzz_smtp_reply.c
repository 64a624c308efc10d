/*
 * fuzz_smtp_reply.c - a relay's reply lines are untrusted input: smtp_classify
 * parses the code, the enhanced status code and the text out of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	char *text;
	int curl_code;
	long response;

	if (size < 3)
		return 0;
	curl_code = data[0] % 100;
	response = (long)(data[1] % 7) * 100 + data[2] % 60;
	text = xstrndup((const char *)data + 3, size - 3);
	memset(&r, 0, sizeof(r));
	smtp_classify(curl_code, response, text, &r);
	if (r.text[sizeof(r.text) - 1] != '\0' || r.enhanced[sizeof(r.enhanced) - 1] != '\0')
		abort();
	(void)smtp_is_hard_bounce(&r);
	(void)smtp_is_slow_down(&r);
	free(text);
	return 0;
}
