/*
 * t_cron.c - cron expressions: parse errors, next firings in UTC and in
 * zones with and without DST changes, and a cross-check against a
 * minute-by-minute walk of the clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"

#include "cron.h"
#include "timefmt.h"
#include "util.h"

static const struct {
	const char *expr;
	const char *msg;	/* a fragment of the message */
} bad[] = {
	{ "", "empty schedule" },
	{ "   ", "empty schedule" },
	{ "0 9 * *", "missing day of week field" },
	{ "0", "missing hour field" },
	{ "0 9 * * MON x", "unexpected sixth field 'x'" },
	{ "60 * * * *", "minute: 60 out of range 0-59 in '60'" },
	{ "* 24 * * *", "hour: 24 out of range 0-23 in '24'" },
	{ "* * 0 * *", "day of month: 0 out of range 1-31 in '0'" },
	{ "* * 32 * *", "day of month: 32 out of range 1-31" },
	{ "* * * 13 *", "month: 13 out of range 1-12 in '13'" },
	{ "* * * 0 *", "month: 0 out of range 1-12" },
	{ "* * * * 8", "day of week: 8 out of range 0-7 in '8'" },
	{ "1,2,99 * * * *", "minute: 99 out of range 0-59 in '99'" },
	{ "99999999999999999999 * * * *", "minute: 99999999999999999999 out of range 0-59" },
	{ "*/0 * * * *", "minute: step 0 out of range 1-60 in '*/0'" },
	{ "* 1-5/0 * * *", "hour: step 0 out of range 1-24 in '1-5/0'" },
	{ "* * * * MON-FRI/0", "day of week: step 0 out of range 1-8 in 'MON-FRI/0'" },
	{ "*/61 * * * *", "minute: step 61 out of range 1-60" },
	{ "*/ * * * *", "minute: missing step in '*/'" },
	{ "5/10 * * * *", "minute: a step needs '*' or a range before it in '5/10'" },
	{ "1,,2 * * * *", "minute: empty item in '1,,2'" },
	{ "1, * * * *", "minute: empty item in '1,'" },
	{ "* ,3 * * *", "hour: empty item in ',3'" },
	{ "5-1 * * * *", "minute: range goes backwards in '5-1'" },
	{ "* * * * FRI-MON", "day of week: range goes backwards in 'FRI-MON'" },
	{ "* * * DEC-JAN *", "month: range goes backwards" },
	{ "5x * * * *", "minute: unexpected 'x' in '5x'" },
	{ "*/5x * * * *", "minute: unexpected 'x' in '*/5x'" },
	{ "-1 * * * *", "minute: unexpected '-' in '-1'" },
	{ "*-5 * * * *", "minute: unexpected '-' in '*-5'" },
	{ "1- * * * *", "minute: missing value in '1-'" },
	{ "1-2-3 * * * *", "minute: unexpected '-' in '1-2-3'" },
	{ "* * * FOO *", "month: unknown name 'FOO' in 'FOO'" },
	{ "* * * MON *", "month: unknown name 'MON'" },
	{ "* * * * JAN", "day of week: unknown name 'JAN'" },
	{ "* * * * MONDAY", "day of week: unknown name 'MONDAY'" },
	{ "JAN * * * *", "minute: unknown name 'JAN'" },
	{ "* * * * MON1", "day of week: unexpected '1' in 'MON1'" },
	{ "@daily", "missing hour field" },
};

/* after and want are ISO instants; want NULL: no firing within 5 years. */
static const struct {
	const char *expr, *tz, *after, *want;
} next[] = {
	/* steps, ranges, lists */
	{ "*/15 * * * *", NULL, "2024-05-10T10:07:00Z", "2024-05-10T10:15:00Z" },
	{ "*/15 * * * *", NULL, "2024-05-10T10:15:00Z", "2024-05-10T10:30:00Z" },
	{ "*/15 * * * *", NULL, "2024-05-10T10:14:59Z", "2024-05-10T10:15:00Z" },
	{ "*/15 * * * *", "", "2024-05-10T10:59:30Z", "2024-05-10T11:00:00Z" },
	{ "10-50/20 * * * *", NULL, "2024-05-10T10:30:00Z", "2024-05-10T10:50:00Z" },
	{ "10-50/20 * * * *", NULL, "2024-05-10T10:50:00Z", "2024-05-10T11:10:00Z" },
	{ "0 9-17 * * *", NULL, "2024-05-10T12:30:00Z", "2024-05-10T13:00:00Z" },
	{ "0 9-17 * * *", NULL, "2024-05-10T17:00:00Z", "2024-05-11T09:00:00Z" },
	{ "0 */6 * * *", NULL, "2024-05-10T18:00:00Z", "2024-05-11T00:00:00Z" },
	{ "5,35 8,20 * * *", NULL, "2024-05-10T08:35:00Z", "2024-05-10T20:05:00Z" },
	{ "0 0 1-3,15 * *", NULL, "2024-05-03T00:00:00Z", "2024-05-15T00:00:00Z" },
	{ "* * * * *", NULL, "2024-05-10T10:07:00Z", "2024-05-10T10:08:00Z" },
	/* names, any case; 7 and 0 are Sunday (2024-05-10 is a Friday) */
	{ "0 0 1 JAN,jul *", NULL, "2024-02-01T00:00:00Z", "2024-07-01T00:00:00Z" },
	{ "0 0 1 Mar-May/2 *", NULL, "2024-03-01T00:00:00Z", "2024-05-01T00:00:00Z" },
	{ "30 6 * * mon-FRI", NULL, "2024-05-10T07:00:00Z", "2024-05-13T06:30:00Z" },
	{ "0 12 * * 7", NULL, "2024-05-10T07:00:00Z", "2024-05-12T12:00:00Z" },
	{ "0 12 * * 0", NULL, "2024-05-10T07:00:00Z", "2024-05-12T12:00:00Z" },
	{ "0 12 * * sun", NULL, "2024-05-10T07:00:00Z", "2024-05-12T12:00:00Z" },
	{ "0 12 * * 6-7", NULL, "2024-05-11T12:00:00Z", "2024-05-12T12:00:00Z" },
	{ "0 12 * * 6-7", NULL, "2024-05-12T12:00:00Z", "2024-05-18T12:00:00Z" },
	/* both day fields restricted: either matches */
	{ "0 0 13 * FRI", NULL, "2024-05-10T00:00:00Z", "2024-05-13T00:00:00Z" },
	{ "0 0 13 * FRI", NULL, "2024-05-13T00:00:00Z", "2024-05-17T00:00:00Z" },
	/* one of them '*' (or "*\/N", as classic cron reads it): both must */
	{ "0 0 * * MON", NULL, "2024-05-13T00:00:00Z", "2024-05-20T00:00:00Z" },
	{ "0 0 13 * *", NULL, "2024-05-13T00:00:00Z", "2024-06-13T00:00:00Z" },
	{ "0 0 */2 * MON", NULL, "2024-05-13T00:00:00Z", "2024-05-27T00:00:00Z" },
	{ "0 0 13 * */2", NULL, "2024-05-10T00:00:00Z", "2024-06-13T00:00:00Z" },	/* a Thursday */
	/* Feb 29, end of month, end of year */
	{ "0 0 29 2 *", NULL, "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z" },
	{ "0 0 29 2 *", NULL, "2023-06-01T00:00:00Z", "2024-02-29T00:00:00Z" },
	{ "0 0 29 2 *", NULL, "2097-03-01T00:00:00Z", NULL },	/* 2100 is not leap */
	{ "0 0 31 2 *", NULL, "2024-01-01T00:00:00Z", NULL },
	{ "0 0 30 2 *", "Europe/Berlin", "2024-01-01T00:00:00Z", NULL },
	{ "0 0 31 * *", NULL, "2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z" },
	{ "0 0 31 * *", NULL, "2024-07-31T00:00:00Z", "2024-08-31T00:00:00Z" },
	{ "59 23 31 12 *", NULL, "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z" },
	{ "0 0 1 1 *", NULL, "2024-12-31T23:59:30Z", "2025-01-01T00:00:00Z" },
	{ "* * * * *", NULL, "2024-12-31T23:59:00Z", "2025-01-01T00:00:00Z" },
	/* Buenos Aires: UTC-3 all year */
	{ "0 9 * * MON", "America/Argentina/Buenos_Aires", "2024-05-10T12:00:00Z", "2024-05-13T12:00:00Z" },
	{ "0 9 * * MON", "America/Argentina/Buenos_Aires", "2024-05-13T11:59:59Z", "2024-05-13T12:00:00Z" },
	{ "0 9 * * MON", "America/Argentina/Buenos_Aires", "2024-05-13T12:00:00Z", "2024-05-20T12:00:00Z" },
	{ "0 22 * * SUN", "America/Argentina/Buenos_Aires", "2024-05-10T12:00:00Z", "2024-05-13T01:00:00Z" },
	/* Berlin, spring forward 2024-03-31 02:00 CET -> 03:00 CEST (01:00Z) */
	{ "30 2 * * *", "Europe/Berlin", "2024-03-30T02:00:00Z", "2024-03-31T01:00:00Z" },
	{ "30 2 * * *", "Europe/Berlin", "2024-03-31T01:00:00Z", "2024-04-01T00:30:00Z" },
	{ "*/15 2 * * *", "Europe/Berlin", "2024-03-31T00:50:00Z", "2024-03-31T01:00:00Z" },
	{ "*/15 2 * * *", "Europe/Berlin", "2024-03-31T01:00:00Z", "2024-04-01T00:00:00Z" },
	{ "0 3 * * *", "Europe/Berlin", "2024-03-31T00:50:00Z", "2024-03-31T01:00:00Z" },
	{ "0 3 * * *", "Europe/Berlin", "2024-03-31T01:00:00Z", "2024-04-01T01:00:00Z" },
	{ "59 1 * * *", "Europe/Berlin", "2024-03-30T12:00:00Z", "2024-03-31T00:59:00Z" },
	/* Berlin, fall back 2024-10-27 03:00 CEST -> 02:00 CET (01:00Z) */
	{ "30 2 * * *", "Europe/Berlin", "2024-10-26T12:00:00Z", "2024-10-27T00:30:00Z" },
	{ "30 2 * * *", "Europe/Berlin", "2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z" },
	{ "30 2 * * *", "Europe/Berlin", "2024-10-27T01:10:00Z", "2024-10-28T01:30:00Z" },
	{ "0 9 * * *", "Europe/Berlin", "2024-10-26T12:00:00Z", "2024-10-27T08:00:00Z" },
	/* New York, spring forward 2024-03-10 02:00 EST -> 03:00 EDT (07:00Z) */
	{ "30 2 * * *", "America/New_York", "2024-03-09T12:00:00Z", "2024-03-10T07:00:00Z" },
	{ "30 2 * * *", "America/New_York", "2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z" },
	{ "0 9 * * MON", "America/New_York", "2024-03-08T12:00:00Z", "2024-03-11T13:00:00Z" },
	/* New York, fall back 2024-11-03 02:00 EDT -> 01:00 EST (06:00Z) */
	{ "30 1 * * *", "America/New_York", "2024-11-02T12:00:00Z", "2024-11-03T05:30:00Z" },
	{ "30 1 * * *", "America/New_York", "2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z" },
	{ "30 1 * * *", "America/New_York", "2024-11-03T06:00:00Z", "2024-11-04T06:30:00Z" },
	{ "0 * * * *", "America/New_York", "2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z" },
	{ "* * * * *", "America/New_York", "2024-11-03T05:59:00Z", "2024-11-03T07:00:00Z" },
	{ "* * * * *", "America/New_York", "2024-11-03T06:20:00Z", "2024-11-03T07:00:00Z" },
	/* Lord Howe: half an hour, 2024-10-06 02:00 -> 02:30 (+10:30 -> +11) */
	{ "15 2 6 10 *", "Australia/Lord_Howe", "2024-10-01T00:00:00Z", "2024-10-05T15:30:00Z" },
	/* Samoa skipped 2011-12-30 whole: its times fire at the start of the 31st */
	{ "0 12 30 12 *", "Pacific/Apia", "2011-12-01T00:00:00Z", "2011-12-30T10:00:00Z" },
	{ "0 12 30 12 *", "Pacific/Apia", "2011-12-30T10:00:00Z", "2012-12-29T22:00:00Z" },
};

static void
test_bad(void)
{
	struct cron c;
	char err[128];
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		strcpy(err, "(none)");
		if (!ok(cron_parse(bad[i].expr, &c, err, sizeof(err)) == -1 &&
		    strstr(err, bad[i].msg) != NULL, "'%s' is refused: %s", bad[i].expr,
		    bad[i].msg))
			tap_diag("got: %s", err);
	}
	is_int(cron_parse("61 * * * *", &c, NULL, 0), -1, "a NULL err buffer is allowed");
	is_int(cron_parse("61 * * * *", &c, err, 8), -1, "a short err buffer is allowed");
	is_int((long long)strlen(err), 7, "and the message is cut to fit");
}

static void
test_good(void)
{
	struct cron c;
	char err[128] = "";

	is_int(cron_parse(" 0\t9 * *  MON ", &c, err, sizeof(err)), 0, "spaces and tabs around fields");
	ok(c.minute == 1 && c.hour == 1 << 9 && c.dom == 0xfffffffe && c.month == 0x1ffe &&
	    c.dow == 1 << 1 && c.dom_star && !c.dow_star, "'0 9 * * MON' bits");
	is_int(cron_parse("*/15 4-20/8 1,15,31 */5 5-7", &c, err, sizeof(err)), 0,
	    "steps, ranges and lists");
	ok(c.minute == (1ULL | 1ULL << 15 | 1ULL << 30 | 1ULL << 45), "*/15: 0 15 30 45");
	ok(c.hour == (1U << 4 | 1U << 12 | 1U << 20), "4-20/8: 4 12 20");
	ok(c.dom == (1U << 1 | 1U << 15 | 1U << 31), "1,15,31");
	ok(c.month == (1 << 1 | 1 << 6 | 1 << 11), "*/5 months: 1 6 11");
	ok(c.dow == (1 << 5 | 1 << 6 | 1 << 0), "5-7: Friday, Saturday, Sunday");
	ok(!c.dom_star && !c.dow_star, "neither day field is '*'");
	is_int(cron_parse("0 0 */2 * sun,Sat", &c, err, sizeof(err)), 0, "day names in a list");
	ok(c.dom_star && c.dom == 0xaaaaaaaa && c.dow == (1 << 0 | 1 << 6), "*/2 days: odd days, counted as '*'");
	is_int(cron_parse("0 0 * * SAT-SUN", &c, err, sizeof(err)), -1,
	    "SAT-SUN goes backwards (SUN is 0)");
	is_int(cron_parse("59 23 31 DEC 0-7", &c, err, sizeof(err)), 0, "upper bounds");
	ok(c.dow == 0x7f, "0-7: every day");
}

static long long
iso(const char *s)
{
	long long t = 0;

	if (timefmt_parse(s, &t) != 0)
		fatalx("bad ISO time in the test: %s", s);
	return t;
}

static void
test_next(void)
{
	char name[256], got[32];
	struct cron c;
	long long t;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(next); i++) {
		if (cron_parse(next[i].expr, &c, got, sizeof(got)) != 0) {
			ok(0, "'%s' parses: %s", next[i].expr, got);
			continue;
		}
		rc = cron_next(&c, next[i].tz, iso(next[i].after), &t);
		if (rc == 0)
			timefmt_iso_utc(t, got, sizeof(got));
		snprintf(name, sizeof(name), "'%s' in %s after %s -> %s", next[i].expr,
		    next[i].tz && *next[i].tz ? next[i].tz : "UTC", next[i].after,
		    next[i].want ? next[i].want : "none");
		is_str(rc == 0 ? got : NULL, next[i].want, name);
	}
}

static void
test_zones(void)
{
	struct cron c;
	long long t = 0;

	cron_parse("0 9 * * *", &c, NULL, 0);
	setenv("TZ", "Asia/Tokyo", 1);
	is_int(cron_next(&c, "Mars/Olympus", 0, &t), -1, "unknown zone");
	is_int(cron_next(&c, "../../etc/passwd", 0, &t), -1, "a path is no zone");
	is_int(cron_next(&c, "/usr/share/zoneinfo/UTC", 0, &t), -1, "an absolute path is no zone");
	is_int(cron_next(&c, "Europe", 0, &t), -1, "a directory is no zone");
	is_int(cron_next(&c, "Europe/Berlin", 0, &t), 0, "a known zone");
	is_str(getenv("TZ"), "Asia/Tokyo", "TZ is restored");
	unsetenv("TZ");
	cron_next(&c, "Europe/Berlin", 0, &t);
	ok(getenv("TZ") == NULL, "an unset TZ stays unset");
}

/* ---- the cross-check ---- */

static long long
wall(long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return t + tm.tm_gmtoff;
}

static int
wall_matches(const struct cron *c, long long w)
{
	time_t tt = (time_t)w;
	struct tm tm;
	int dom, dow;

	gmtime_r(&tt, &tm);
	dom = c->dom >> tm.tm_mday & 1;
	dow = c->dow >> tm.tm_wday & 1;
	return (c->minute >> tm.tm_min & 1) && (c->hour >> tm.tm_hour & 1) &&
	    (c->month >> (tm.tm_mon + 1) & 1) &&
	    (c->dom_star || c->dow_star ? dom && dow : dom || dow);
}

/*
 * Walks the clock a minute at a time: a minute t fires when a matching
 * wall time lies above every wall time shown before t and at or below
 * the one shown at t. Returns the first such t after `after`, or -1.
 */
static long long
brute(const struct cron *c, long long after, long long horizon)
{
	long long t = (after / 60 - 1440) * 60, seen = wall(t), w, x;

	for (t += 60; t <= after + horizon; t += 60) {
		w = wall(t);
		for (x = (seen / 60 + 1) * 60; t > after && x <= w; x += 60)
			if (wall_matches(c, x))
				return t;
		if (w > seen)
			seen = w;
	}
	return -1;
}

static void
test_cross_check(void)
{
	static const char *const fields[5][8] = {
		{ "*", "*/7", "0", "30", "0,30", "15-45/10", "59", "*/20" },
		{ "*", "2", "1", "1-3", "*/5", "0", "23", "2,3" },
		{ "*", "1", "13", "29,30,31", "*/2", "10-20", "6", "3" },
		{ "*", "*", "3", "3,10,11", "*/3", "OCT-DEC", "*", "4" },
		{ "*", "0", "MON-FRI", "7", "*/2", "SAT", "*", "1" },
	};
	static const char *const zones[] = {
		"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
		"America/Argentina/Buenos_Aires", "Pacific/Apia", "America/Sao_Paulo",
	};
	/* near changes of those zones */
	static const char *const afters[] = {
		"2024-03-31T00:37:00Z", "2024-10-27T00:00:00Z", "2024-03-10T05:59:00Z",
		"2024-11-03T05:45:00Z", "2024-10-05T15:00:00Z", "2024-04-06T14:30:00Z",
		"2011-12-29T09:00:00Z", "2018-11-04T02:00:00Z", "2019-02-16T01:30:00Z",
		"2024-02-28T22:00:00Z",
	};
	const long long horizon = 3 * 86400;
	unsigned long long seed = 7;
	char expr[64], a[32], b[32];
	int i, j, bad = 0, fired = 0;
	struct cron c;

	for (i = 0; i < 400; i++) {
		const char *zone;
		long long after, want, got;

		expr[0] = '\0';
		for (j = 0; j < 5; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			strcat(expr, fields[j][seed >> 61]);
			strcat(expr, j < 4 ? " " : "");
		}
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		zone = zones[(seed >> 33) % ARRAY_LEN(zones)];
		after = iso(afters[(seed >> 40) % ARRAY_LEN(afters)]) + (long long)((seed >> 50) % 7200) - 3600;
		if (cron_parse(expr, &c, NULL, 0) != 0) {
			ok(0, "'%s' parses", expr);
			continue;
		}
		if (cron_next(&c, zone, after, &got) != 0)
			got = -1;
		setenv("TZ", zone, 1);
		tzset();
		want = brute(&c, after, horizon);
		unsetenv("TZ");
		tzset();
		fired += want != -1;
		if (want == -1 ? got != -1 && got <= after + horizon : got != want) {
			timefmt_iso_utc(want, a, sizeof(a));
			timefmt_iso_utc(got, b, sizeof(b));
			tap_diag("'%s' in %s after %lld: walk %s, cron_next %s", expr, zone,
			    after, want == -1 ? "none" : a, got == -1 ? "none" : b);
			bad++;
		}
	}
	ok(bad == 0, "400 random schedules (%d firing within 3 days) agree with a walk of "
	    "the clock", fired);
}

static void
test_speed(void)
{
	struct cron c;
	clock_t start = clock();
	long long t, n = 0;
	int i;

	cron_parse("0 0 29 2 MON", &c, NULL, 0);
	for (i = 0, t = 0; i < 50 && cron_next(&c, "Europe/Berlin", t, &t) == 0; i++)
		n++;
	cron_parse("0 0 31 2 *", &c, NULL, 0);
	for (i = 0; i < 100; i++)
		cron_next(&c, "America/New_York", 1700000000LL + i * 86400LL, &t);
	is_int(n, 50, "Feb 29 or a Monday in Feb: 50 firings");
	ok(clock() - start < 2 * CLOCKS_PER_SEC, "50 firings and 100 searches of 5 years "
	    "in under 2 s (%.3f s)", (double)(clock() - start) / CLOCKS_PER_SEC);
}

int
main(void)
{
	test_bad();
	test_good();
	test_next();
	test_zones();
	test_cross_check();
	test_speed();
	return done_testing();
}
