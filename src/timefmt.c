#include "timefmt.h"

#include <pthread.h>
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

/*
 * The C library knows one zone per process, $TZ: whoever needs another
 * one sets TZ, asks, and sets it back, holding this lock, so that two
 * threads never read each other's zone.
 */
static pthread_mutex_t timefmt_tz_mutex = PTHREAD_MUTEX_INITIALIZER;

void
timefmt_zone_lock(void)
{
	pthread_mutex_lock(&timefmt_tz_mutex);
}

void
timefmt_zone_unlock(void)
{
	pthread_mutex_unlock(&timefmt_tz_mutex);
}

/*
 * Sets TZ to zone (NULL: back to what it was) and tells the C library;
 * the lock is taken on the way in and given back on the way out.
 */
static void
timefmt_set_tz(const char *zone, char **saved)
{
	if (zone) {
		timefmt_zone_lock();
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
	if (zone == NULL)
		timefmt_zone_unlock();
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

/*
 * The local calendar time of t in zone (NULL: UTC), with the zone's
 * abbreviation there copied to abbr (tm_zone points into the C library's
 * zone, which the next caller replaces). 0, or -1 for an unknown zone.
 */
static int
timefmt_local(long long t, const char *zone, struct tm *tm, char *abbr, size_t abbrlen)
{
	char *saved = NULL;
	time_t r = (time_t)t;
	int ok;

	if (zone == NULL) {
		snprintf(abbr, abbrlen, "UTC");
		return gmtime_r(&r, tm) != NULL ? 0 : -1;
	}
	if (!timefmt_zone_ok(zone))
		return -1;
	timefmt_set_tz(zone, &saved);
	ok = localtime_r(&r, tm) != NULL;
	if (ok)
		snprintf(abbr, abbrlen, "%s", tm->tm_zone ? tm->tm_zone : "");
	timefmt_set_tz(NULL, &saved);
	tm->tm_zone = NULL;
	return ok ? 0 : -1;
}

/* The instant of local date y-m-d (d may overflow into the next month) at minute in zone. */
static int
timefmt_wall(const char *zone, int y, int m, int d, int minute, long long *out)
{
	char *saved = NULL;
	struct tm tm;
	time_t r;

	if (zone == NULL) {
		*out = timefmt_days(y, (unsigned)m, 1) * 86400 + (d - 1) * 86400LL + minute * 60;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = minute / 60;
	tm.tm_min = minute % 60;
	tm.tm_isdst = -1;
	/* A time a DST change skipped becomes one that exists: mktime moves it forward. */
	timefmt_set_tz(zone, &saved);
	r = mktime(&tm);
	timefmt_set_tz(NULL, &saved);
	if (r == (time_t)-1)
		return -1;
	*out = (long long)r;
	return 0;
}

int
timefmt_local_at(long long base, const char *zone, int minute, long long *out)
{
	char abbr[16];
	struct tm tm;

	if (minute < 0 || minute >= 24 * 60 ||
	    timefmt_local(base, zone, &tm, abbr, sizeof(abbr)) == -1 ||
	    timefmt_wall(zone, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, minute, out) == -1)
		return -1;
	/* Already past there that day: the next day's. */
	if (*out < base)
		return timefmt_wall(zone, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + 1, minute,
		    out);
	return 0;
}

int
timefmt_human(long long t, const char *zone, char *out, unsigned long size)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	char abbr[16];
	struct tm tm;
	long off;

	if (timefmt_local(t, zone, &tm, abbr, sizeof(abbr)) == -1)
		return -1;
	off = tm.tm_gmtoff;
	/* A zone without a name of its own ("-03") is shown as its offset. */
	if (abbr[0] == '\0' || abbr[0] == '+' || abbr[0] == '-')
		snprintf(abbr, sizeof(abbr), "UTC%c%02d:%02d", off < 0 ? '-' : '+',
		    (int)(labs(off) / 3600 % 24), (int)(labs(off) / 60 % 60));
	snprintf(out, size, "%s %d %s %d, %02d:%02d %s", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, abbr);
	return 0;
}
