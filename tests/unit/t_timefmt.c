/* timefmt: ISO 8601 instants with offsets, independent of $TZ. */
#include <stdlib.h>

#include "tap.h"
#include "timefmt.h"
#include "util.h"

static const struct {
	const char *in;
	int rc;
	long long t;
} cases[] = {
	{ "2017-06-22T09:00:00-03:00", 0, 1498132800 },
	{ "2017-06-22T12:00:00Z", 0, 1498132800 },
	{ "2017-06-22 12:00Z", 0, 1498132800 },
	{ "2017-06-22T14:30:00+0230", 0, 1498132800 },
	{ "2017-06-22T12:00:00.750Z", 0, 1498132800 },
	{ "2024-02-29T00:00:00Z", 0, 1709164800 },
	{ "1969-12-31T23:59:59Z", 0, -1 },
	{ "2017-06-22T09:00:00", -2, 0 },
	{ "2023-02-29T00:00:00Z", -1, 0 },
	{ "2017-13-01T00:00:00Z", -1, 0 },
	{ "2017-06-22T24:00:00Z", -1, 0 },
	{ "2017-06-22", -1, 0 },
	{ "2017-06-22T09:00:00+3", -1, 0 },
	{ "tomorrow", -1, 0 },
	{ "", -1, 0 },
};

int
main(void)
{
	char iso[32];
	size_t i;

	setenv("TZ", "America/Argentina/Buenos_Aires", 1);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		long long t = 0;
		int rc = timefmt_parse(cases[i].in, &t);
		ok(rc == cases[i].rc && (rc != 0 || t == cases[i].t), "parse '%s' -> %d %lld",
		    cases[i].in, rc, t);
	}
	{
		long long t = 0;
		is_int(timefmt_parse_local("2017-06-22T09:00", "America/Argentina/Buenos_Aires", &t), 0,
		    "local time in Buenos Aires");
		is_int(t, 1498132800, "09:00 in Buenos Aires is 12:00Z");
		is_int(timefmt_parse_local("2026-03-08T02:30", "America/New_York", &t), -4,
		    "a time skipped by DST does not exist");
		is_int(timefmt_parse_local("2026-07-01T09:00", "Mars/Olympus", &t), -3, "unknown zone");
		is_int(timefmt_parse_local("2026-07-01T09:00", "../etc/passwd", &t), -3, "zone path refused");
		is_int(timefmt_parse_local("2026-07-01 9am", "UTC", &t), -1, "malformed local time");
		is_str(getenv("TZ"), "America/Argentina/Buenos_Aires", "TZ is restored");
	}
	{
		/* deliver_local: 09:00 where the reader is, on the day of the schedule. */
		long long t = 0, base = 1498132800;	/* 2017-06-22T12:00Z */
		char human[64];

		is_int(timefmt_local_at(base, "UTC", 13 * 60, &t), 0, "13:00 UTC that day");
		is_int(t, base + 3600, "is an hour after noon UTC");
		is_int(timefmt_local_at(base, NULL, 13 * 60, &t), 0, "no zone is UTC");
		is_int(t, base + 3600, "the same hour");
		is_int(timefmt_local_at(base, "Asia/Tokyo", 9 * 60, &t), 0, "09:00 in Tokyo");
		is_int(t, 1498176000, "past there that day (21:00 JST): the next day's, 2017-06-23T00:00Z");
		is_int(timefmt_local_at(base, "America/Argentina/Buenos_Aires", 9 * 60, &t), 0,
		    "09:00 in Buenos Aires");
		is_int(t, base, "is the base itself (not past): that day");
		is_int(timefmt_local_at(base, "Mars/Olympus", 9 * 60, &t), -1, "an unknown zone");
		is_int(timefmt_local_at(base, "UTC", 24 * 60, &t), -1, "a minute past the day");
		/* 2026-03-08 02:30 does not exist in New York: moved forward to 03:30 EDT. */
		is_int(timefmt_local_at(1772946000, "America/New_York", 150, &t), 0,
		    "a time a DST change skipped");
		is_int(t, 1772955000, "becomes 03:30 EDT, 07:30Z");
		/* Across the autumn change the next day is still 09:00 local. */
		is_int(timefmt_local_at(1792918800, "Europe/Berlin", 9 * 60, &t), 0,
		    "09:00 in Berlin after 10:00 on the day DST ends");
		is_int(t, 1793001600, "is 09:00 CET the next day, 08:00Z");
		is_int(timefmt_human(1796716800, "Europe/Berlin", human, sizeof(human)), 0, "human CET");
		is_str(human, "Tue 8 Dec 2026, 09:00 CET", "as a reader reads it");
		is_int(timefmt_human(1796716800, "America/Argentina/Buenos_Aires", human,
		    sizeof(human)), 0, "human in a zone without a name");
		is_str(human, "Tue 8 Dec 2026, 05:00 UTC-03:00", "its offset stands for the name");
		is_int(timefmt_human(1796716800, NULL, human, sizeof(human)), 0, "human UTC");
		is_str(human, "Tue 8 Dec 2026, 08:00 UTC", "no zone: UTC");
		is_str(getenv("TZ"), "America/Argentina/Buenos_Aires", "TZ is restored");
	}
	timefmt_iso_utc(1498132800, iso, sizeof(iso));
	is_str(iso, "2017-06-22T12:00:00Z", "format UTC");
	timefmt_iso_utc(-1, iso, sizeof(iso));
	is_str(iso, "1969-12-31T23:59:59Z", "format before the epoch");
	return done_testing();
}
