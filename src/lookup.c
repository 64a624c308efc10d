/*
 * lookup.c - tokens of ours to journal rows; see lookup.h.
 */
#include "lookup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
lookup_delivery(struct store *st, const unsigned char secret[TOKEN_SECRET_LEN],
    const char *purpose, const char *token, size_t len, struct store_delivery *d)
{
	unsigned long long id;
	int rc;

	memset(d, 0, sizeof(*d));
	if (token_parse(token, len, &id) < 0 || id > (unsigned long long)INT64_MAX)
		return 1;
	if ((rc = store_delivery_get(st, (long long)id, d)) != 0)
		return rc;
	if (!token_verify(secret, purpose, id, d->address, token, len)) {
		store_delivery_clear(d);
		return 1;
	}
	return 0;
}

int
lookup_confirm(struct store *st, const unsigned char secret[TOKEN_SECRET_LEN],
    const char *token, size_t len, long long *cid, char **address)
{
	unsigned long long id;
	int rc, done;

	*address = NULL;
	if (token_parse(token, len, &id) < 0 || id > (unsigned long long)INT64_MAX)
		return 1;
	if ((rc = store_confirm_get(st, (long long)id, address, &done)) != 0)
		return rc;
	if (!token_verify(secret, "c", id, *address, token, len)) {
		free(*address);
		*address = NULL;
		return 1;
	}
	*cid = (long long)id;
	return 0;
}
