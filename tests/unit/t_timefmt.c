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
	timefmt_iso_utc(1498132800, iso, sizeof(iso));
	is_str(iso, "2017-06-22T12:00:00Z", "format UTC");
	timefmt_iso_utc(-1, iso, sizeof(iso));
	is_str(iso, "1969-12-31T23:59:59Z", "format before the epoch");
	return done_testing();
}
