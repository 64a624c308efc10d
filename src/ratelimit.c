/*
 * ratelimit.c - token buckets, exact over any span of time.
 *
 * Levels are integers, so a day of sending neither drifts nor rounds a
 * wait up by one millisecond too many. A bucket of N tokens per `per`
 * seconds counts in units of 1/(per * 1000 * 16) token: at factor 1 it
 * gains N * 16 units every millisecond, and at every slowed-down factor
 * (1/2 ... 1/16) still a whole number of units.
 *
 * Buckets that share a slow-down factor form a group: one for the relay
 * (the global rates) and one per configured domain. A group's factor is
 * 1/2^k; a slow-down raises k (at most MAX_SLOW) and every RECOVER_MS
 * without another one lowers it by one, computed lazily from `now`.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "ratelimit.h"
#include "util.h"

#define SUB		16		/* 2^MAX_SLOW: keeps the slowest rate whole */
#define MAX_SLOW	4		/* factor 1/16 at most */
#define RECOVER_MS	60000LL		/* quiet time that doubles the factor again */
#define MAX_COUNT	(1ULL << 40)	/* config allows 10^9; keeps products in range */
#define MAX_PER		(1ULL << 32)
#define MAX_LEVEL	(INT64_C(1) << 60)
#define MIN_LEVEL	(-(INT64_C(1) << 60))

struct bucket {
	int64_t unit;		/* units in one token */
	int64_t cap;		/* units held at most */
	int64_t rate;		/* units gained per millisecond at factor 1 */
	int64_t level;		/* units held; negative after a take beyond the wait */
};

struct group {
	char *domain;		/* NULL for the relay */
	struct bucket *b;
	size_t nb;
	int64_t last;		/* the levels are as of this instant */
	int slow;		/* k at `since` */
	int64_t since;		/* the last slow-down */
};

struct ratelimit {
	struct group relay;
	struct group *domains;
	size_t ndomains;
	int64_t now;		/* the latest instant seen, for ratelimit_factor() */
};

/* k, the factor being 1/2^k, at time t (t >= g->since). */
static int
group_slow_at(const struct group *g, int64_t t)
{
	int64_t steps;

	if (t <= g->since)
		return g->slow;
	steps = (t - g->since) / RECOVER_MS;
	return steps >= g->slow ? 0 : g->slow - (int)steps;
}

/* The end of the span starting at t over which k stays the same; INT64_MAX when k is 0. */
static int64_t
group_span_end(const struct group *g, int64_t t)
{
	if (group_slow_at(g, t) == 0)
		return INT64_MAX;
	return g->since + ((t - g->since) / RECOVER_MS + 1) * RECOVER_MS;
}

/*
 * A sender can only go on a whole millisecond, so when a bucket fills up
 * at a fraction of one it keeps that fraction (less than a token) as long
 * as the millisecond lasts; clipped at exactly `cap`, a bucket of one
 * token at 7/min would lose 0.57 ms a message and send 7 a day too few.
 */
static void
bucket_fill(struct bucket *b, int64_t ms, int64_t rate)
{
	int64_t keep = rate < b->unit ? rate : b->unit;
	int64_t room = b->cap - b->level;

	if (room <= 0 || ms > (room + keep) / rate) {
		b->level = b->cap;	/* full for a millisecond or more: no fraction left */
		return;
	}
	/* ms * rate <= room + keep: no overflow */
	b->level += ms * rate;
	if (b->level >= b->cap + keep)
		b->level = b->cap;
}

/* Brings every level of g up to now, span by span of constant factor. */
static void
group_refill(struct group *g, int64_t now)
{
	size_t i;

	while (g->last < now) {
		int k = group_slow_at(g, g->last);
		int64_t end = group_span_end(g, g->last);

		if (end > now)
			end = now;
		for (i = 0; i < g->nb; i++)
			bucket_fill(&g->b[i], end - g->last, g->b[i].rate >> k);
		g->last = end;
	}
}

/* Milliseconds from g->last until b holds a whole token, the factor recovering on the way. */
static int64_t
bucket_wait(const struct group *g, const struct bucket *b)
{
	int64_t need = b->unit - b->level, t = g->last;

	while (need > 0) {
		int64_t rate = b->rate >> group_slow_at(g, t);
		int64_t end = group_span_end(g, t);

		if (end == INT64_MAX || (end - t) >= (need + rate - 1) / rate)
			return t - g->last + (need + rate - 1) / rate;
		need -= (end - t) * rate;
		t = end;
	}
	return t - g->last;
}

static int64_t
group_wait(struct group *g, int64_t now)
{
	int64_t w, max = 0;
	size_t i;

	group_refill(g, now);
	for (i = 0; i < g->nb; i++)
		if ((w = bucket_wait(g, &g->b[i])) > max)
			max = w;
	return max;
}

static void
group_take(struct group *g, int64_t now)
{
	size_t i;

	group_refill(g, now);
	for (i = 0; i < g->nb; i++) {
		g->b[i].level -= g->b[i].unit;
		if (g->b[i].level < MIN_LEVEL)
			g->b[i].level = MIN_LEVEL;
	}
}

static void
group_slow_down(struct group *g, int64_t now)
{
	int k;

	group_refill(g, now);
	k = group_slow_at(g, now) + 1;
	g->slow = k > MAX_SLOW ? MAX_SLOW : k;
	g->since = now;
}

/* One second's worth of the tightest rate, at least 1. */
static unsigned long long
default_burst(const struct rate *rates, size_t nrates,
    const struct domain_rate *domains, size_t ndomains)
{
	unsigned long long best = ULLONG_MAX, v;
	size_t i;

	for (i = 0; i < nrates; i++)
		if (rates[i].count > 0 && rates[i].per > 0 &&
		    (v = rates[i].count / rates[i].per) < best)
			best = v;
	/* The relay's rates set the burst; domain rates only when there are no others. */
	for (i = 0; i < ndomains && best == ULLONG_MAX; i++)
		if (domains[i].rate.count > 0 && domains[i].rate.per > 0 &&
		    (v = domains[i].rate.count / domains[i].rate.per) < best)
			best = v;
	return best == 0 ? 1 : best;
}

/* Adds a full bucket for r to g; a rate of 0 (rejected by config) limits nothing. */
static void
group_add(struct group *g, const struct rate *r, unsigned long long burst)
{
	unsigned long long count = r->count, per = r->per, tokens;
	struct bucket *b;

	if (count == 0 || per == 0)
		return;
	if (count > MAX_COUNT)
		count = MAX_COUNT;
	if (per > MAX_PER)
		per = MAX_PER;
	g->b = xrealloc(g->b, (g->nb + 1) * sizeof(*g->b));
	b = &g->b[g->nb++];
	b->unit = (int64_t)(per * 1000 * SUB);
	b->rate = (int64_t)(count * SUB);
	tokens = burst < count ? burst : count;
	if (tokens > (unsigned long long)(MAX_LEVEL / b->unit))
		tokens = (unsigned long long)(MAX_LEVEL / b->unit);
	b->cap = (int64_t)tokens * b->unit;
	b->level = b->cap;
}

static struct group *
ratelimit_domain(const struct ratelimit *rl, const char *domain)
{
	size_t i;

	if (domain == NULL)
		return NULL;
	for (i = 0; i < rl->ndomains; i++)
		if (util_strcaseeq(rl->domains[i].domain, domain))
			return &rl->domains[i];
	return NULL;
}

struct ratelimit *
ratelimit_new(const struct rate *rates, size_t nrates,
    unsigned long long burst, const struct domain_rate *domains, size_t ndomains,
    long long now_ms)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));
	struct group *g;
	size_t i;

	if (burst == 0)
		burst = default_burst(rates, nrates, domains, ndomains);
	rl->now = now_ms;
	rl->relay.last = rl->relay.since = now_ms;
	for (i = 0; i < nrates; i++)
		group_add(&rl->relay, &rates[i], burst);
	rl->domains = xcalloc(ndomains ? ndomains : 1, sizeof(*rl->domains));
	for (i = 0; i < ndomains; i++) {
		/* a domain listed twice gets both rates */
		if ((g = ratelimit_domain(rl, domains[i].domain)) == NULL) {
			g = &rl->domains[rl->ndomains++];
			g->domain = xstrdup(domains[i].domain);
			g->last = g->since = now_ms;
		}
		group_add(g, &domains[i].rate, burst);
	}
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	size_t i;

	if (rl == NULL)
		return;
	for (i = 0; i < rl->ndomains; i++) {
		free(rl->domains[i].domain);
		free(rl->domains[i].b);
	}
	free(rl->domains);
	free(rl->relay.b);
	free(rl);
}

/* The clock should be monotonic; an instant before one already seen counts as that one. */
static int64_t
ratelimit_seen(struct ratelimit *rl, long long now_ms)
{
	if (now_ms > rl->now)
		rl->now = now_ms;
	return rl->now;
}

long long
ratelimit_wait(struct ratelimit *rl, const char *domain, long long now_ms)
{
	struct group *g = ratelimit_domain(rl, domain);
	int64_t now = ratelimit_seen(rl, now_ms), w = 0, wd;

	if (rl->relay.nb > 0)
		w = group_wait(&rl->relay, now);
	if (g != NULL && (wd = group_wait(g, now)) > w)
		w = wd;
	return w + (now - now_ms);
}

void
ratelimit_take(struct ratelimit *rl, const char *domain, long long now_ms)
{
	struct group *g = ratelimit_domain(rl, domain);
	int64_t now = ratelimit_seen(rl, now_ms);

	group_take(&rl->relay, now);
	if (g != NULL)
		group_take(g, now);
}

/* A domain without a rate of its own is governed by the relay's buckets: slow those. */
void
ratelimit_slow_down(struct ratelimit *rl, const char *domain, long long now_ms)
{
	struct group *g = ratelimit_domain(rl, domain);
	int64_t now = ratelimit_seen(rl, now_ms);

	group_slow_down(g != NULL ? g : &rl->relay, now);
}

double
ratelimit_factor(const struct ratelimit *rl, const char *domain)
{
	const struct group *g = ratelimit_domain(rl, domain);

	if (g == NULL)
		g = &rl->relay;
	return 1.0 / (double)(1 << group_slow_at(g, rl->now));
}
