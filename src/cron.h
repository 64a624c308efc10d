/*
 * cron.h - 5-field cron expressions for digest schedules.
 *
 * Parsing is pure. cron_next reads the zone database when given a zone:
 * it switches the process's TZ for the length of the call (and restores
 * it), so it must not run while another thread uses local time.
 */
#ifndef HERALD_CRON_H
#define HERALD_CRON_H

#include <stddef.h>
#include <stdint.h>

/* One bit per allowed value. */
struct cron {
	uint64_t minute;	/* bits 0-59 */
	uint32_t hour;		/* bits 0-23 */
	uint32_t dom;		/* bits 1-31 */
	uint16_t month;		/* bits 1-12 */
	uint8_t dow;		/* bits 0-6, Sunday 0 */
	/*
	 * The field began with '*' (so "*" and "*\/2"), as classic cron counts
	 * it: a day matches both fields then, else either of them.
	 */
	unsigned char dom_star, dow_star;
};

/*
 * Parses "MIN HOUR DOM MON DOW": *, N, N-M, *\/S, N-M/S, lists with ',';
 * month names JAN-DEC and day names SUN-SAT (any case); DOW 0-7 (0 and 7
 * are Sunday). Returns 0, or -1 with a lowercase one-line message naming
 * the field and the bad part in err (err may be NULL).
 */
int cron_parse(const char *expr, struct cron *c, char *err, size_t errlen);

/*
 * The first whole minute strictly after `after` (Unix time) that c matches
 * in IANA zone tz (NULL or "" = UTC). Returns 0, or -1 when there is none
 * within 5 years (e.g. "0 0 31 2 *") or tz is unknown.
 *
 * Each matching local time fires once: a time that a DST change skips
 * fires at the first minute after the gap, a time that occurs twice fires
 * at its first occurrence only.
 */
int cron_next(const struct cron *c, const char *tz, long long after, long long *next);

#endif
