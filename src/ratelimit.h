/*
 * ratelimit.h - token buckets for every configured rate at once, global
 * and per recipient domain. Pure: it takes `now` (milliseconds, any
 * monotonic origin) and never sleeps; the send loop asks how long to wait
 * and waits on the network meanwhile.
 *
 * Each rate N/per is a bucket refilled at N/per tokens a second holding
 * at most `burst` tokens (and never more than N); a message takes one
 * token from every global bucket and from its domain's buckets. A
 * slow-down reply (421, 4.7.x) halves the effective rate of the relay, or
 * of one domain, and it recovers step by step once the replies stop.
 */
#ifndef HERALD_RATELIMIT_H
#define HERALD_RATELIMIT_H

#include "config.h"

struct ratelimit;

/*
 * burst 0: one second's worth of the tightest relay rate (at least 1; the
 * domain rates' tightest when there are no relay rates). No rates: no limit.
 */
struct ratelimit *ratelimit_new(const struct rate *rates, size_t nrates,
    unsigned long long burst, const struct domain_rate *domains, size_t ndomains,
    long long now_ms);
void ratelimit_free(struct ratelimit *rl);

/* Milliseconds until a message to `domain` may go (0: now). */
long long ratelimit_wait(struct ratelimit *rl, const char *domain, long long now_ms);
/* Takes the tokens of one message to `domain`; call when ratelimit_wait() said 0. */
void ratelimit_take(struct ratelimit *rl, const char *domain, long long now_ms);
/* A slow-down reply: domain NULL slows the relay, else that domain. */
void ratelimit_slow_down(struct ratelimit *rl, const char *domain, long long now_ms);
/* The current effective factor (1.0 normal, 0.5 after one slow-down...), for logs and tests. */
double ratelimit_factor(const struct ratelimit *rl, const char *domain);

#endif
