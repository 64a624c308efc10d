/*
 * report.h - the engines' results in words. On the command line, what was
 * done goes to standard output and what went wrong to standard error,
 * "herald: ..."; in the daemon, both go to the log (log.c). The engines
 * themselves print nothing.
 */
#ifndef HERALD_REPORT_H
#define HERALD_REPORT_H

#include <stddef.h>

#include "delivery.h"

/*
 * The journal's counts of r in one line, without a newline:
 * "ID: 9 sent, 0 failed, 0 skipped", and when rows wait ", 2 queued, 1
 * deferred (next retry at T)". Empty when r was not counted.
 */
void report_counts(const struct delivery_result *r, char *out, size_t len);

/*
 * A send on the command line: the reason it stopped on stderr (when
 * there is one), then the counts on stdout, with how to resume when rows
 * wait.
 */
void report_delivery(const struct delivery_result *r);

/* The same in the daemon's log, under subsystem ("run", "digest"). */
void report_delivery_log(const char *subsystem, const struct delivery_result *r);

/* Each of d's errors and warnings in the daemon's log, under subsystem. */
struct diag;
void report_diag_log(const char *subsystem, const struct diag *d);

/* Of two exit statuses, the one to return: an error over a retry later over success. */
int report_worse(int status, int next);

#endif
