/*
 * t_ratelimit.c - ratelimit.c in simulated time: a sender that waits
 * exactly as long as it is told, then takes. Every figure is exact.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

#include "ratelimit.h"
#include "util.h"

#define DAY_MS (86400LL * 1000)

/* Sends n messages to domain from *t on; times[i] gets each one's instant. */
static int
send_n(struct ratelimit *rl, const char *domain, long long *t, long long *times, size_t n)
{
	int honest = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		*t += ratelimit_wait(rl, domain, *t);
		if (ratelimit_wait(rl, domain, *t) != 0)
			honest = 0;
		ratelimit_take(rl, domain, *t);
		if (times != NULL)
			times[i] = *t;
	}
	return honest;
}

/* The most messages in any window [t, t + width) of sorted times. */
static size_t
max_in_window(const long long *times, size_t n, long long width)
{
	size_t i, j = 0, best = 0;

	for (i = 0; i < n; i++) {
		while (j < n && times[j] < times[i] + width)
			j++;
		if (j - i > best)
			best = j - i;
	}
	return best;
}

/* Messages sent from start until `until` (inclusive) as fast as allowed. */
static long long
count_until(struct ratelimit *rl, long long start, long long until)
{
	long long t = start, n = 0;

	for (;;) {
		t += ratelimit_wait(rl, NULL, t);
		if (t > until)
			return n;
		ratelimit_take(rl, NULL, t);
		n++;
	}
}

static void
test_burst_then_rate(void)
{
	struct rate r = { 20, 1 };
	struct ratelimit *rl = ratelimit_new(&r, 1, 5, NULL, 0, 0);
	long long times[200], t = 0;

	ok(send_n(rl, "example.org", &t, times, 200), "20/s burst 5: a wait of the given length is enough");
	is_int(times[4], 0, "20/s burst 5: the first 5 go at once");
	is_int(times[5], 50, "20/s burst 5: the 6th after 50 ms");
	is_int(times[199], 9750, "20/s burst 5: the 200th at 9750 ms");
	ok(max_in_window(times, 200, 1000) <= 25, "20/s burst 5: no 1 s window holds more than 25 (%zu)",
	    max_in_window(times, 200, 1000));
	ratelimit_free(rl);

	/* from a large monotonic origin: same shape */
	rl = ratelimit_new(&r, 1, 5, NULL, 0, 1700000000000LL);
	t = 1700000000000LL;
	send_n(rl, NULL, &t, times, 200);
	is_int(times[199] - 1700000000000LL, 9750, "the origin of time does not matter");
	ratelimit_free(rl);
}

static void
test_burst_default(void)
{
	struct rate r = { 20, 1 };
	struct rate two[] = { { 10, 1 }, { 100, 60 } };
	struct ratelimit *rl = ratelimit_new(&r, 1, 0, NULL, 0, 0);
	long long times[25], t = 0;

	send_n(rl, NULL, &t, times, 21);
	is_int(times[19], 0, "burst 0 at 20/s: 20 at once");
	is_int(times[20], 50, "burst 0 at 20/s: then one per 50 ms");
	ratelimit_free(rl);

	/* the tightest rate is 100/min: 1.67 a second, so a burst of 1 */
	rl = ratelimit_new(two, 2, 0, NULL, 0, 0);
	t = 0;
	send_n(rl, NULL, &t, times, 3);
	is_int(times[0], 0, "burst 0 with 100/min: the first at once");
	is_int(times[1], 600, "burst 0 with 100/min: the second after 600 ms");
	ratelimit_free(rl);

	/* the burst never exceeds a rate's own count */
	r.count = 3;
	r.per = 60;
	rl = ratelimit_new(&r, 1, 50, NULL, 0, 0);
	t = 0;
	send_n(rl, NULL, &t, times, 4);
	is_int(times[2], 0, "burst 50 at 3/min: 3 at once");
	is_int(times[3], 20000, "burst 50 at 3/min: the 4th after 20 s");
	ratelimit_free(rl);
}

static void
test_several_rates(void)
{
	struct rate r[] = { { 10, 1 }, { 100, 60 } };
	struct ratelimit *rl = ratelimit_new(r, 2, 10, NULL, 0, 0);
	long long times[300], t = 0;

	send_n(rl, NULL, &t, times, 300);
	is_int(times[9], 0, "10/s + 100/min burst 10: 10 at once");
	is_int(times[10], 600, "10/s + 100/min: then the minute bucket paces at 600 ms");
	is_int(times[109], 60000, "10/s + 100/min: the 110th at 60 s");
	is_int(times[299], 174000, "10/s + 100/min: the 300th at 174 s");
	ok(max_in_window(times, 300, 1000) <= 20, "10/s + 100/min: no 1 s window above 10 + 10");
	ok(max_in_window(times, 300, 60000) <= 110, "10/s + 100/min: no 1 min window above 100 + 10");
	ratelimit_free(rl);

	/* when the second rate is the tight one, it is the one that paces */
	r[0].count = 2;
	r[1].count = 6000;
	rl = ratelimit_new(r, 2, 1, NULL, 0, 0);
	t = 0;
	send_n(rl, NULL, &t, times, 11);
	is_int(times[10], 5000, "2/s + 6000/min: the 11th at 5 s");
	ratelimit_free(rl);
}

static void
test_domains(void)
{
	struct rate g = { 10, 1 };
	struct domain_rate d[] = {
		{ "gmail.com", { 2, 1 } },
		{ "fast.example", { 1000, 1 } },
		{ "slow.example", { 1, 1 } },
		{ "SLOW.example", { 30, 60 } },
	};
	struct ratelimit *rl = ratelimit_new(&g, 1, 1, d, ARRAY_LEN(d), 0);
	long long times[50], t;

	ratelimit_take(rl, "gmail.com", 0);
	is_int(ratelimit_wait(rl, "gmail.com", 0), 500, "gmail.com at 2/s: the next after 500 ms");
	is_int(ratelimit_wait(rl, "example.org", 0), 100, "another domain waits only for the global 10/s");
	ratelimit_take(rl, "example.org", 100);
	is_int(ratelimit_wait(rl, "GMail.COM", 100), 400, "domains compare case-insensitively");
	is_int(ratelimit_wait(rl, "fast.example", 150), 50, "a fast domain still waits for the global rate");
	is_int(ratelimit_wait(rl, "example.org", 200), 0, "an unlisted domain is not held back by gmail.com");
	is_int(ratelimit_wait(rl, NULL, 200), 0, "no domain: the global rates only");
	ratelimit_free(rl);

	rl = ratelimit_new(&g, 1, 1, d, ARRAY_LEN(d), 0);
	t = 0;
	send_n(rl, "fast.example", &t, times, 50);
	is_int(times[49], 4900, "1000/s for fast.example, 10/s global: 50 take 4.9 s");
	ratelimit_free(rl);

	/* a domain listed twice has both rates: 1/s and 30/min, so one per 2 s */
	rl = ratelimit_new(&g, 1, 1, d, ARRAY_LEN(d), 0);
	t = 0;
	send_n(rl, "slow.example", &t, times, 5);
	is_int(times[4], 8000, "a domain listed twice is held to both of its rates");
	ratelimit_free(rl);

	/* domain rates without global ones */
	rl = ratelimit_new(NULL, 0, 1, d, 1, 0);
	t = 0;
	send_n(rl, "gmail.com", &t, times, 3);
	is_int(times[2], 1000, "without global rates a domain rate still applies");
	t = 1000;
	send_n(rl, "example.org", &t, times, 50);
	is_int(times[49], 1000, "without global rates other domains are unlimited");
	ratelimit_free(rl);
}

static void
test_no_rates(void)
{
	struct ratelimit *rl = ratelimit_new(NULL, 0, 0, NULL, 0, 0);
	long long t = 0;
	int always = 1, i;

	for (i = 0; i < 10000; i++) {
		if (ratelimit_wait(rl, i % 2 ? "a.example" : NULL, t) != 0)
			always = 0;
		ratelimit_take(rl, i % 2 ? "a.example" : NULL, t);
	}
	ratelimit_slow_down(rl, NULL, t);
	if (ratelimit_wait(rl, NULL, t) != 0)
		always = 0;
	ok(always, "no rates: the wait is always 0, even after a slow-down");
	ratelimit_free(rl);
}

static void
test_slow_down(void)
{
	struct rate r = { 10, 1 };
	struct rate minute = { 1, 60 };
	struct domain_rate d[] = { { "gmail.com", { 10, 1 } } };
	struct ratelimit *rl = ratelimit_new(&r, 1, 1, d, 1, 0);
	int i;

	ratelimit_take(rl, NULL, 0);
	is_int(ratelimit_wait(rl, NULL, 0), 100, "before a slow-down: 100 ms at 10/s");
	ok(ratelimit_factor(rl, NULL) == 1.0, "factor 1 at first");
	ratelimit_slow_down(rl, NULL, 0);
	ok(ratelimit_factor(rl, NULL) == 0.5, "one slow-down: factor 1/2");
	is_int(ratelimit_wait(rl, NULL, 0), 200, "one slow-down: 200 ms");
	ratelimit_slow_down(rl, NULL, 0);
	is_int(ratelimit_wait(rl, NULL, 0), 400, "two slow-downs: 400 ms");
	ok(ratelimit_factor(rl, NULL) == 0.25, "two slow-downs: factor 1/4");
	ok(ratelimit_factor(rl, "gmail.com") == 1.0, "a relay slow-down leaves a domain's own factor");
	is_int(ratelimit_wait(rl, "gmail.com", 0), 400, "but its mail still waits for the relay");
	ratelimit_wait(rl, NULL, 59999);
	ok(ratelimit_factor(rl, NULL) == 0.25, "still 1/4 just before 60 quiet seconds");
	ratelimit_wait(rl, NULL, 60000);
	ok(ratelimit_factor(rl, NULL) == 0.5, "60 quiet seconds: back to 1/2");
	ratelimit_wait(rl, NULL, 120000);
	ok(ratelimit_factor(rl, NULL) == 1.0, "120 quiet seconds: back to 1");
	ratelimit_take(rl, NULL, 120000);
	is_int(ratelimit_wait(rl, NULL, 120000), 100, "recovered: 100 ms again");

	for (i = 0; i < 10; i++)
		ratelimit_slow_down(rl, "gmail.com", 130000);
	ok(ratelimit_factor(rl, "gmail.com") == 1.0 / 16, "ten slow-downs: no lower than 1/16");
	ok(ratelimit_factor(rl, NULL) == 1.0, "a domain slow-down leaves the relay");
	ok(ratelimit_factor(rl, "GMAIL.com") == 1.0 / 16, "the domain's factor, case-insensitively");
	ratelimit_take(rl, "gmail.com", 130000);
	is_int(ratelimit_wait(rl, "gmail.com", 130000), 1600, "gmail.com at 1/16 of 10/s: 1.6 s");
	ratelimit_slow_down(rl, "other.example", 130000);
	ok(ratelimit_factor(rl, NULL) == 0.5, "a domain without a rate of its own slows the relay");
	ok(ratelimit_factor(rl, "other.example") == 0.5, "and reports the relay's factor");
	ratelimit_free(rl);

	/* a slow-down during the quiet time starts it again */
	rl = ratelimit_new(&r, 1, 1, NULL, 0, 0);
	ratelimit_slow_down(rl, NULL, 0);
	ratelimit_slow_down(rl, NULL, 30000);
	ratelimit_wait(rl, NULL, 89999);
	ok(ratelimit_factor(rl, NULL) == 0.25, "a second slow-down restarts the quiet time");
	ratelimit_wait(rl, NULL, 90000);
	ok(ratelimit_factor(rl, NULL) == 0.5, "60 s after the last slow-down: 1/2");
	ratelimit_free(rl);

	/* the wait accounts for the recovery on the way: half a token at 1/2, half at 1 */
	rl = ratelimit_new(&minute, 1, 1, NULL, 0, 0);
	ratelimit_take(rl, NULL, 0);
	ratelimit_slow_down(rl, NULL, 0);
	is_int(ratelimit_wait(rl, NULL, 0), 90000, "1/min slowed to 1/2 for 60 s: the next at 90 s");
	is_int(ratelimit_wait(rl, NULL, 89999), 1, "1 ms before it: 1");
	is_int(ratelimit_wait(rl, NULL, 90000), 0, "at 90 s: 0");
	ratelimit_free(rl);
}

static void
test_large_and_long(void)
{
	struct rate day = { 20000, 86400 };
	struct rate huge = { 1000000000, 1 };
	struct rate ten = { 10, 1 };
	struct rate odd = { 3, 7 };
	struct rate seven = { 7, 60 };
	struct ratelimit *rl;
	long long times[3], t = 0, n;

	rl = ratelimit_new(&day, 1, 0, NULL, 0, 0);
	send_n(rl, NULL, &t, times, 3);
	is_int(times[1], 4320, "20000/day: one every 4.32 s");
	ratelimit_free(rl);
	rl = ratelimit_new(&day, 1, 0, NULL, 0, 0);
	is_int(count_until(rl, 0, DAY_MS), 20001, "20000/day over 24 h: 20000 plus the first");
	ratelimit_free(rl);

	rl = ratelimit_new(&huge, 1, 1000000, NULL, 0, 0);
	is_int(count_until(rl, 0, 0), 1000000, "10^9/s burst 10^6: 10^6 at once");
	is_int(ratelimit_wait(rl, NULL, 0), 1, "10^9/s: then 10^6 a millisecond");
	is_int(count_until(rl, 1000, 1000), 1000000, "10^9/s: full again after a second, no more");
	ratelimit_free(rl);

	rl = ratelimit_new(&ten, 1, 10, NULL, 0, 0);
	n = count_until(rl, 0, DAY_MS);
	ok(llabs(n - (10 + 864000)) <= 1, "10/s for 24 h: %lld, expected 864010", n);
	ratelimit_free(rl);

	rl = ratelimit_new(&odd, 1, 1, NULL, 0, 0);
	n = count_until(rl, 0, DAY_MS);
	ok(llabs(n - (1 + 86400 * 3 / 7)) <= 1, "3 per 7 s for 24 h: %lld, expected %d", n, 1 + 86400 * 3 / 7);
	ratelimit_free(rl);

	rl = ratelimit_new(&seven, 1, 1, NULL, 0, 0);
	n = count_until(rl, 0, DAY_MS);
	ok(llabs(n - (1 + 7 * 1440)) <= 1, "7/min (8571.4 ms apart) for 24 h: %lld, expected %d", n, 1 + 7 * 1440);
	ratelimit_free(rl);

	ratelimit_free(NULL);
	ok(1, "ratelimit_free(NULL) is harmless");
}

/* Random senders, pauses and slow-downs: no window ever holds more than the burst plus the rate. */
static void
test_random_windows(void)
{
	struct rate r[] = { { 7, 1 }, { 50, 60 } };
	struct domain_rate d[] = { { "a.example", { 3, 1 } } };
	struct ratelimit *rl = ratelimit_new(r, 2, 4, d, 1, 0);
	static long long all[2000], a[2000];
	size_t nall = 0, na = 0;
	unsigned long long seed = 42;
	long long t = 0;

	while (nall < ARRAY_LEN(all)) {
		const char *dom;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		dom = (seed >> 33) % 3 == 0 ? "b.example" : "a.example";
		if ((seed >> 40) % 10 == 0)
			t += (long long)((seed >> 20) % 20000);
		if ((seed >> 44) % 50 == 0)
			ratelimit_slow_down(rl, (seed >> 50) % 2 ? NULL : dom, t);
		t += ratelimit_wait(rl, dom, t);
		ratelimit_take(rl, dom, t);
		all[nall++] = t;
		if (dom[0] == 'a')
			a[na++] = t;
	}
	ok(max_in_window(all, nall, 1000) <= 4 + 7, "random: no 1 s window above 4 + 7 (%zu)",
	    max_in_window(all, nall, 1000));
	ok(max_in_window(all, nall, 60000) <= 4 + 50, "random: no 1 min window above 4 + 50 (%zu)",
	    max_in_window(all, nall, 60000));
	ok(max_in_window(a, na, 1000) <= 3 + 3, "random: a.example has no 1 s window above 3 + 3 (%zu)",
	    max_in_window(a, na, 1000));
	ratelimit_free(rl);
}

int
main(void)
{
	test_burst_then_rate();
	test_burst_default();
	test_several_rates();
	test_domains();
	test_no_rates();
	test_slow_down();
	test_large_and_long();
	test_random_windows();
	return done_testing();
}
