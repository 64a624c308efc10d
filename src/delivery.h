/*
 * delivery.h - one release delivered: recipients expanded into the
 * journal, then claimed, rendered, rate-limited and handed to the relay,
 * every outcome recorded. `herald send` runs it in the foreground; the
 * daemon runs it for scheduled releases.
 */
#ifndef HERALD_DELIVERY_H
#define HERALD_DELIVERY_H

#include <signal.h>
#include <stddef.h>

#include "config.h"

struct delivery_opts {
	const char *release_arg;	/* id or path */
	char **lists;			/* --list; NULL/0: the release's own */
	size_t nlists;
	int dry_run;
	int progress;			/* 1: a progress bar on stderr (a terminal) */
	int verbose;
	volatile sig_atomic_t *stop;	/* set by a signal handler: finish what is in flight */
};

/* Returns an exit status (sysexits) and prints what happened. */
int delivery_run(const struct config *cfg, const struct delivery_opts *o);

#endif
