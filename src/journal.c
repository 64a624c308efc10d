#include "journal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"

int
journal_open(const struct config *cfg, int must_exist, struct store **st)
{
	char err[512];

	*st = NULL;
	if (must_exist && !store_exists(cfg->state))
		return 1;
	if (store_open(cfg->state, st, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		return -1;
	}
	return 0;
}

char *
journal_address(const char *arg)
{
	struct addr a = { 0 };
	char err[128], *email;

	if (addr_parse(arg, strlen(arg), &a, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: invalid address '%s': %s\n", arg, err);
		return NULL;
	}
	email = a.email;
	a.email = NULL;
	addr_clear(&a);
	return email;
}
