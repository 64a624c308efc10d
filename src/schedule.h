/*
 * schedule.h - the daemon's digest timetable: for each list with a
 * `digest: { schedule }`, the next time its cron expression falls due (in
 * the list's `tz`, else the config's, else UTC), and the digest sent
 * then through digest_run.
 *
 * Times are counted from when the timetable was loaded: a digest that fell
 * due while the daemon was stopped is sent by the next `herald digest`
 * (cron) or at its next due time, not at start-up in a burst.
 */
#ifndef HERALD_SCHEDULE_H
#define HERALD_SCHEDULE_H

#include <signal.h>

#include "config.h"

struct schedule;

/* Reads every list's digest schedule; lists without one are left out. Never NULL. */
struct schedule *schedule_load(const struct config *c, long long now);
void schedule_free(struct schedule *s);
/* The earliest due time, or 0 when no list has a schedule. */
long long schedule_next(const struct schedule *s);
/* Sends the digests due now, each then set to its next due time. */
void schedule_run(struct schedule *s, const struct config *c, int verbose,
    volatile sig_atomic_t *stop);

#endif
