/*
 * lookup.c - tokens of ours to journal rows; see lookup.h.
 */
#include "lookup.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 1 when a token made on day is older than the key allows; -1 on a journal error. */
static int
lookup_too_old(struct store *st, const struct lookup_key *k, long day)
{
	if (day == TOKEN_UNDATED && store_tokens_undated_day(st, &day) == -1)
		return -1;
	return k->now - (long long)day * 86400 > (long long)k->max_age;
}

int
lookup_delivery(struct store *st, const struct lookup_key *k, const char *purpose,
    const char *token, size_t len, struct store_delivery *d)
{
	unsigned long long id;
	long day;
	int rc;

	memset(d, 0, sizeof(*d));
	if (token_parse(k->secret, token, len, &id, &day) < 0 || id > (unsigned long long)INT64_MAX)
		return 1;
	if ((rc = store_delivery_get(st, (long long)id, d)) != 0)
		return rc;
	if (!token_verify(k->secret, purpose, id, d->address, token, len)) {
		store_delivery_clear(d);
		return 1;
	}
	if ((rc = lookup_too_old(st, k, day)) != 0) {
		if (rc < 0)
			store_delivery_clear(d);
		return rc < 0 ? -1 : LOOKUP_EXPIRED;
	}
	return 0;
}

int
lookup_confirm(struct store *st, const struct lookup_key *k, const char *token, size_t len,
    long long *cid, char **address)
{
	unsigned long long id;
	long day;
	int rc, done;

	*address = NULL;
	if (token_parse(k->secret, token, len, &id, &day) < 0 || id > (unsigned long long)INT64_MAX)
		return 1;
	if ((rc = store_confirm_get(st, (long long)id, address, &done)) != 0)
		return rc;
	if (!token_verify(k->secret, "c", id, *address, token, len)) {
		free(*address);
		*address = NULL;
		return 1;
	}
	if ((rc = lookup_too_old(st, k, day)) != 0) {
		free(*address);
		*address = NULL;
		return rc < 0 ? -1 : LOOKUP_EXPIRED;
	}
	*cid = (long long)id;
	return 0;
}
