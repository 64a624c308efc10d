/*
 * fuzz_token.c - tokens come from anyone who writes to herald or opens a
 * link: token_parse and token_verify must take any bytes, and what parses
 * as a dated token must come back the same from token_make.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char secret[TOKEN_SECRET_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const char *tok = (const char *)data;
	char again[TOKEN_MAX];
	unsigned long long id, id2;
	long day, day2;

	if (token_parse(secret, tok, size, &id, &day) != 0) {
		if (token_verify(secret, "u", 1, "a@example.org", tok, size) != 0)
			abort();	/* what does not parse never verifies */
		return 0;
	}
	token_verify(secret, "u", id, "a@example.org", tok, size);
	if (day == TOKEN_UNDATED)
		return 0;
	if (day < 0 || day > TOKEN_DAY_MAX || id > TOKEN_ID_MAX)
		abort();
	token_make(secret, "u", id, "a@example.org", day, again);
	if (token_parse(secret, again, strlen(again), &id2, &day2) != 0 || id2 != id ||
	    day2 != day || !token_verify(secret, "u", id, "a@example.org", again, strlen(again)))
		abort();
	return 0;
}
