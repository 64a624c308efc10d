#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

long long
timefmt_days(long long y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days_from_civil. */
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
timefmt_digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
timefmt_expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

static unsigned
timefmt_mdays(unsigned y, unsigned m)
{
	static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static int
timefmt_offset(const char *p, long long *off)
{
	unsigned hh, mm;
	int sign;

	if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0) {
		*off = 0;
		return 0;
	}
	if (*p == '\0')
		return -2;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (timefmt_digits(&p, 2, &hh) == -1)
		return -1;
	if (*p == ':')
		p++;
	if (timefmt_digits(&p, 2, &mm) == -1 || *p != '\0' || hh > 23 || mm > 59)
		return -1;
	*off = sign * (long long)(hh * 3600 + mm * 60);
	return 0;
}

int
timefmt_parse(const char *s, long long *t)
{
	unsigned y, mo, d, h, mi, sec = 0;
	const char *p = s;
	long long off;
	int rc;

	if (timefmt_digits(&p, 4, &y) || timefmt_expect(&p, '-') ||
	    timefmt_digits(&p, 2, &mo) || timefmt_expect(&p, '-') ||
	    timefmt_digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (timefmt_digits(&p, 2, &h) || timefmt_expect(&p, ':') ||
	    timefmt_digits(&p, 2, &mi))
		return -1;
	if (*p == ':' && (p++, timefmt_digits(&p, 2, &sec)))
		return -1;
	if (*p == '.' || *p == ',') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > timefmt_mdays(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if ((rc = timefmt_offset(p, &off)) != 0)
		return rc;
	*t = timefmt_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

void
timefmt_iso_utc(long long t, char *out, unsigned long size)
{
	long long days = t / 86400, rem = t % 86400, z, era, doe, yoe, doy, mp, y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* civil_from_days */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	snprintf(out, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d,
	    rem / 3600, rem / 60 % 60, rem % 60);
}

int
timefmt_zone_ok(const char *zone)
{
	char path[512];
	struct stat st;

	if (zone[0] == '\0' || zone[0] == '/' || strstr(zone, "..") != NULL)
		return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Sets TZ to zone (NULL: back to what it was) and tells the C library. */
static void
timefmt_set_tz(const char *zone, char **saved)
{
	if (zone) {
		*saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
		setenv("TZ", zone, 1);
	} else if (*saved) {
		setenv("TZ", *saved, 1);
		free(*saved);
		*saved = NULL;
	} else {
		unsetenv("TZ");
	}
	tzset();
}

int
timefmt_parse_local(const char *s, const char *zone, long long *t)
{
	char buf[64], *saved = NULL;
	struct tm want, got;
	long long utc;
	time_t r;
	size_t n = strlen(s);

	if (!timefmt_zone_ok(zone))
		return -3;
	/* Parse the fields as if UTC, then let the zone say what they mean. */
	if (n + 2 > sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	memcpy(buf + n, "Z", 2);
	if (timefmt_parse(buf, &utc) != 0)
		return -1;
	r = (time_t)utc;
	gmtime_r(&r, &want);
	want.tm_isdst = -1;
	got = want;
	timefmt_set_tz(zone, &saved);
	r = mktime(&got);
	if (r != (time_t)-1)
		localtime_r(&r, &got);
	timefmt_set_tz(NULL, &saved);
	if (r == (time_t)-1)
		return -1;
	/* mktime moves a time that a DST change skipped: it did not exist. */
	if (got.tm_hour != want.tm_hour || got.tm_min != want.tm_min)
		return -4;
	*t = (long long)r;
	return 0;
}

int
timefmt_iso_zone(long long t, const char *zone, char *out, unsigned long size)
{
	char *saved = NULL;
	struct tm tm;
	time_t r = (time_t)t;
	long off;
	int ok;

	if (!timefmt_zone_ok(zone))
		return -1;
	timefmt_set_tz(zone, &saved);
	ok = localtime_r(&r, &tm) != NULL;
	timefmt_set_tz(NULL, &saved);
	if (!ok)
		return -1;
	off = tm.tm_gmtoff;
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    labs(off) / 3600, labs(off) / 60 % 60);
	return 0;
}
