/*
 * fuzz_http_path.c - the one-click endpoint's request paths come from
 * anyone on the network: http_token_path must accept only
 * /unsubscribe/TOKEN with a token of the token alphabet, and never read
 * outside the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = xstrndup((const char *)data, size);
	const char *tok = NULL;
	size_t len = 0, i;

	if (http_token_path(path, &tok, &len) == 0) {
		/* What it hands back lies inside the path, in the alphabet. */
		if (tok < path || tok + len > path + strlen(path) || len == 0)
			abort();
		for (i = 0; i < len; i++)
			if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ234567-",
			    tok[i]) == NULL)
				abort();
	}
	free(path);
	return 0;
}
