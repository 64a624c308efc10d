/*
 * timefmt.h - ISO 8601 instants and calendar arithmetic, without the
 * process's time zone: pure, so that parsing never depends on $TZ.
 */
#ifndef HERALD_TIMEFMT_H
#define HERALD_TIMEFMT_H

/*
 * Parses "YYYY-MM-DDTHH:MM[:SS[.frac]]" followed by "Z" or "+HH:MM" /
 * "-HH:MM" / "+HHMM" (a space may stand for the T). Returns 0 with *t in
 * Unix seconds, -1 when malformed, -2 when well formed but without an offset.
 */
int timefmt_parse(const char *s, long long *t);
/*
 * A local time "YYYY-MM-DDTHH:MM[:SS]" in the IANA zone `zone` (for
 * schedule --tz). Not pure: it uses the C library's zone database. Returns
 * 0 with *t, -1 when malformed, -3 when the zone is unknown, -4 when the
 * time does not exist there (skipped by a DST change).
 */
int timefmt_parse_local(const char *s, const char *zone, long long *t);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
/* 1 when zone names a zone of the system's database ("Europe/Berlin"). */
int timefmt_zone_ok(const char *zone);
long long timefmt_days(long long y, unsigned m, unsigned d);
/* "2017-06-22T12:00:00Z" into out (at least 21 bytes). */
void timefmt_iso_utc(long long t, char *out, unsigned long size);

/*
 * t as ISO 8601 local time in zone, with its offset there
 * ("2027-06-22T09:00:00-03:00"). 0, or -1 for an unknown zone.
 */
int timefmt_iso_zone(long long t, const char *zone, char *out, unsigned long size);

/*
 * The instant at `minute` after local midnight (0..1439) in zone (NULL:
 * UTC) on the local day of base, or on the next day when that is before
 * base. A time a DST change skipped is moved forward. 0, or -1 for an
 * unknown zone.
 */
int timefmt_local_at(long long base, const char *zone, int minute, long long *out);
/* t as a reader sees it in zone (NULL: UTC): "Tue 8 Dec 2026, 09:00 CET". 0, or -1. */
int timefmt_human(long long t, const char *zone, char *out, unsigned long size);

/*
 * Whoever sets $TZ to ask the C library about another zone holds this
 * lock until it has set it back (timefmt does inside; cron.c around its
 * own questions), so that threads never read each other's zone.
 */
void timefmt_zone_lock(void);
void timefmt_zone_unlock(void);

#endif
