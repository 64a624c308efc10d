/*
 * journal.h - opening the journal for the commands that only read or
 * change it (status, schedule, cancel, suppress...), with the errors and
 * exit statuses they share.
 */
#ifndef HERALD_JOURNAL_H
#define HERALD_JOURNAL_H

#include "config.h"
#include "store.h"

/*
 * Opens cfg's journal. With must_exist and no journal yet, returns 1
 * (nothing recorded so far) without creating one. 0 opened, -1 failed
 * (printed).
 */
int journal_open(const struct config *cfg, int must_exist, struct store **st);

/* The canonical form of an address from the command line; NULL (printed) when invalid. The caller owns it. */
char *journal_address(const char *arg);

#endif
