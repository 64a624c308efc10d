/*
 * cron.c - cron expressions (see cron.h).
 *
 * cron_next searches local wall-clock minutes with calendar arithmetic
 * alone, skipping months, days and hours that cannot match, and asks the
 * zone only to turn each candidate into an instant. That map sends a
 * wall time to the first instant at which the clock shows it or a later
 * time: a time that occurs twice goes to its first occurrence, a time in
 * a spring-forward gap to the end of the gap. The map never decreases,
 * so the first candidate whose instant is after `after` is the answer.
 */
#include "cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "timefmt.h"

#define CRON_SHOW_MAX 32		/* bytes of a bad part quoted in a message */
#define CRON_HORIZON (5LL * 366 * 86400)
#define CRON_ZONE_SPAN (27LL * 3600)	/* more than any UTC offset */
#define CRON_LAST 253402300799LL	/* 9999-12-31T23:59:59Z: far enough, no overflow */

enum { F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_N };

struct cron_field {
	const char *name;
	int lo, hi;
	const char *const *names;	/* names[i] is lo + i */
};

static const char *const cron_months[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec", NULL
};
static const char *const cron_days[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const struct cron_field cron_fields[F_N] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, cron_months },
	{ "day of week", 0, 7, cron_days },
};

/* The part of an expression being parsed, for messages. */
struct cron_item {
	const struct cron_field *f;
	const char *s;
	size_t len;
	char *err;
	size_t errlen;
};

/* ---- parsing ---- */

static int __attribute__((format(printf, 2, 3)))
cron_error(const struct cron_item *it, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (it->err == NULL || it->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(it->err, it->errlen, "%s: %s '%.*s'%s", it->f->name, what,
	    (int)(it->len > CRON_SHOW_MAX ? CRON_SHOW_MAX : it->len), it->s,
	    it->len > CRON_SHOW_MAX ? "..." : "");
	return -1;
}

/* A number or a name at *p (before end). Returns 0 with *v, or -1. */
static int
cron_value(const struct cron_item *it, const char **p, const char *end, int *v)
{
	const char *s = *p;
	size_t i, n;

	if (s < end && isdigit((unsigned char)*s)) {
		long val = 0;

		for (; s < end && isdigit((unsigned char)*s); s++)
			if ((val = val * 10 + (*s - '0')) > 9999)
				val = 9999;	/* out of range, and no overflow */
		if (val < it->f->lo || val > it->f->hi)
			return cron_error(it, "%.*s out of range %d-%d in",
			    (int)(s - *p > CRON_SHOW_MAX ? CRON_SHOW_MAX : s - *p), *p,
			    it->f->lo, it->f->hi);
		*v = (int)val;
		*p = s;
		return 0;
	}
	for (n = 0; s + n < end && isalpha((unsigned char)s[n]); n++)
		;
	if (n == 0 && s == end)
		return cron_error(it, "missing value in");
	if (n == 0)
		return cron_error(it, "unexpected '%c' in", *s);
	for (i = 0; it->f->names && it->f->names[i]; i++)
		if (n == 3 && strncasecmp(s, it->f->names[i], 3) == 0) {
			*v = it->f->lo + (int)i;
			*p = s + n;
			return 0;
		}
	return cron_error(it, "unknown name '%.*s' in", (int)n, s);
}

/* One item of a list: *, N, N-M, with /S after * or a range. */
static int
cron_item(const struct cron_item *it, uint64_t *bits)
{
	const char *p = it->s, *end = it->s + it->len;
	int lo = it->f->lo, hi = it->f->hi, step = 1, v, range = 1;

	if (*p == '*')
		p++;
	else {
		if (cron_value(it, &p, end, &lo) == -1)
			return -1;
		hi = lo;
		range = p < end && *p == '-';
		if (range) {
			p++;
			if (cron_value(it, &p, end, &hi) == -1)
				return -1;
			if (hi < lo)
				return cron_error(it, "range goes backwards in");
		}
	}
	if (p < end && *p == '/') {
		if (!range)
			return cron_error(it, "a step needs '*' or a range before it in");
		p++;
		if (p == end || !isdigit((unsigned char)*p))
			return cron_error(it, "missing step in");
		for (step = 0; p < end && isdigit((unsigned char)*p); p++)
			if ((step = step * 10 + (*p - '0')) > 9999)
				step = 9999;
		if (step < 1 || step > it->f->hi - it->f->lo + 1)
			return cron_error(it, "step %d out of range 1-%d in", step,
			    it->f->hi - it->f->lo + 1);
	}
	if (p < end)
		return cron_error(it, "unexpected '%c' in", *p);
	for (v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

/* A whole field: items separated by ','. */
static int
cron_field(const struct cron_field *f, const char *s, size_t len, uint64_t *bits,
    char *err, size_t errlen)
{
	struct cron_item it = { f, s, 0, err, errlen };
	const char *end = s + len, *comma;

	*bits = 0;
	for (;;) {
		comma = memchr(it.s, ',', (size_t)(end - it.s));
		it.len = (size_t)((comma ? comma : end) - it.s);
		if (it.len == 0) {
			/* quote the whole field: an empty item shows nothing */
			it.s = s;
			it.len = len;
			return cron_error(&it, "empty item in");
		}
		if (cron_item(&it, bits) == -1)
			return -1;
		if (comma == NULL)
			return 0;
		it.s = comma + 1;
	}
}

int
cron_parse(const char *expr, struct cron *c, char *err, size_t errlen)
{
	const char *p = expr, *start[F_N];
	size_t len[F_N], n = 0;
	uint64_t bits[F_N];

	memset(c, 0, sizeof(*c));
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == F_N) {
			if (err && errlen)
				snprintf(err, errlen, "unexpected sixth field '%.*s'",
				    CRON_SHOW_MAX, p);
			return -1;
		}
		start[n] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		len[n] = (size_t)(p - start[n]);
		n++;
	}
	if (n < F_N) {
		if (err && errlen)
			snprintf(err, errlen, n == 0 ? "empty schedule%s" :
			    "missing %s field", n == 0 ? "" : cron_fields[n].name);
		return -1;
	}
	for (n = 0; n < F_N; n++)
		if (cron_field(&cron_fields[n], start[n], len[n], &bits[n], err, errlen) == -1)
			return -1;
	c->minute = bits[F_MIN];
	c->hour = (uint32_t)bits[F_HOUR];
	c->dom = (uint32_t)bits[F_DOM];
	c->month = (uint16_t)bits[F_MON];
	/* 7 is Sunday too */
	c->dow = (uint8_t)((bits[F_DOW] | bits[F_DOW] >> 7) & 0x7f);
	c->dom_star = start[F_DOM][0] == '*';
	c->dow_star = start[F_DOW][0] == '*';
	return 0;
}

/* ---- the zone ---- */

struct cron_zone {
	int utc;
	int had_tz;
	char *saved;
};

static int
cron_zone_open(struct cron_zone *z, const char *tz)
{
	char path[512];
	struct stat st;
	const char *old;

	memset(z, 0, sizeof(*z));
	if (tz == NULL || *tz == '\0') {
		z->utc = 1;
		return 0;
	}
	/* glibc takes an unknown zone for UTC without a word: look first. */
	if (tz[0] == '/' || strstr(tz, "..") != NULL)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz) >= sizeof(path) ||
	    stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return -1;
	timefmt_zone_lock();
	if ((old = getenv("TZ")) != NULL) {
		z->had_tz = 1;
		if ((z->saved = strdup(old)) == NULL) {
			timefmt_zone_unlock();
			return -1;
		}
	}
	setenv("TZ", tz, 1);
	tzset();
	return 0;
}

static void
cron_zone_close(struct cron_zone *z)
{
	if (z->utc)
		return;
	if (z->had_tz)
		setenv("TZ", z->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(z->saved);
	z->saved = NULL;
	timefmt_zone_unlock();
}

/* The UTC offset in seconds at instant t. */
static long long
cron_offset(const struct cron_zone *z, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (z->utc || localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/* The wall clock at t, as seconds since 1970-01-01T00:00 local. */
static long long
cron_wall(const struct cron_zone *z, long long t)
{
	return t + cron_offset(z, t);
}

/*
 * The first instant at which the clock shows wall time w or later. The
 * offsets that can apply to w are those in force a day either side; any
 * two changes of a zone lie further apart than that.
 */
static long long
cron_instant(const struct cron_zone *z, long long w)
{
	long long off[3], t, best = 0, lo, hi, mid;
	int i, found = 0;

	off[0] = cron_offset(z, w - CRON_ZONE_SPAN);
	off[1] = cron_offset(z, w);
	off[2] = cron_offset(z, w + CRON_ZONE_SPAN);
	for (i = 0; i < 3; i++) {
		t = w - off[i];
		if (cron_offset(z, t) == off[i] && (!found || t < best)) {
			best = t;
			found = 1;
		}
	}
	if (found)
		return best;
	/* In a gap: find the change, where the clock jumps past w. */
	lo = w - CRON_ZONE_SPAN;	/* the clock shows less than w */
	hi = w + CRON_ZONE_SPAN;	/* and more */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (cron_wall(z, mid) > w)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* ---- the calendar ---- */

static long long
cron_floor_div(long long a, long long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Howard Hinnant's civil_from_days. */
static void
cron_civil(long long days, long long *y, unsigned *m, unsigned *d)
{
	long long z = days + 719468, era, doe, yoe, doy, mp;

	era = cron_floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The lowest set bit of bits at or above from, or -1. */
static int
cron_bit_from(uint64_t bits, int from, int size)
{
	int i;

	for (i = from; i < size; i++)
		if (bits >> i & 1)
			return i;
	return -1;
}

static int
cron_day_matches(const struct cron *c, long long days, unsigned d)
{
	int dom = c->dom >> d & 1;
	int dow = c->dow >> ((days + 4) % 7 + 7) % 7 & 1;	/* 1970-01-01 was a Thursday */

	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/*
 * The first wall minute at or after *w that c matches, into *w. Returns
 * 0, or -1 when there is none before limit.
 */
static int
cron_find(const struct cron *c, long long *w, long long limit)
{
	long long days = cron_floor_div(*w, 86400), y;
	long long rem = *w - days * 86400;
	int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), nh, nm;
	unsigned m, d;

	while (days * 86400 <= limit) {
		cron_civil(days, &y, &m, &d);
		if (!(c->month >> m & 1)) {
			days = m == 12 ? timefmt_days(y + 1, 1, 1) : timefmt_days(y, m + 1, 1);
			h = mi = 0;
			continue;
		}
		if (!cron_day_matches(c, days, d) ||
		    (nh = cron_bit_from(c->hour, h, 24)) == -1) {
			days++;
			h = mi = 0;
			continue;
		}
		if (nh != h) {
			h = nh;
			mi = 0;
		}
		if ((nm = cron_bit_from(c->minute, mi, 60)) == -1) {
			mi = 0;
			if (++h == 24) {
				h = 0;
				days++;
			}
			continue;
		}
		*w = days * 86400 + h * 3600 + nm * 60;
		return *w <= limit ? 0 : -1;
	}
	return -1;
}

int
cron_next(const struct cron *c, const char *tz, long long after, long long *next)
{
	struct cron_zone z;
	long long wall, w, limit, t;
	int rc = -1;

	if (after < -CRON_LAST || after > CRON_LAST || cron_zone_open(&z, tz) == -1)
		return -1;
	wall = cron_wall(&z, after);
	limit = wall + CRON_HORIZON;
	/* Wall times up to the clock at `after` map to `after` or before. */
	w = (cron_floor_div(wall, 60) + 1) * 60;
	while (cron_find(c, &w, limit) == 0) {
		/* A wall time met a second time after a fall-back has fired already. */
		if ((t = cron_instant(&z, w)) > after) {
			*next = t;
			rc = 0;
			break;
		}
		w += 60;
	}
	cron_zone_close(&z);
	return rc;
}
