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

/*
 * Returns an exit status (sysexits) and prints what happened. A
 * release_arg that names a digest ("digest.LIST.TIME") resumes that
 * digest (digest.h), so `herald send` and the daemon retry digests too.
 */
int delivery_run(const struct config *cfg, const struct delivery_opts *o);

struct diag;
struct store_row;

/*
 * Rows already in the journal under one release row (a digest's), sent
 * by the same loop as a release's: claims, limiter, retries, reclaims
 * after a crash, cancel, the same summary. Only the message differs:
 * make gives each sending thread its own state (called on the caller's
 * thread, as free is), and render makes one row's message on that
 * thread: *msg (*len bytes, the pool frees it) and *message_id (without
 * <>, the loop frees it), or -1 with errors in d and nothing sent.
 */
struct delivery_source {
	const char *release_id;		/* the journal's release_id of the rows */
	void *(*make)(void *arg);
	void (*free)(void *state);
	int (*render)(void *state, const struct store_row *row, char **msg, size_t *len,
	    char **message_id, struct diag *d);
	void *arg;
};

/* As delivery_run, for src's rows; o->release_arg, lists and dry_run are not used. */
int delivery_run_source(const struct config *cfg, const struct delivery_source *src,
    const struct delivery_opts *o);

#endif
