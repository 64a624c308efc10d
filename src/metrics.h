/*
 * metrics.h - herald's numbers in the Prometheus text exposition format,
 * version 0.0.4: what `GET /metrics` answers (http.c). Pure: it writes
 * what it is given; the caller reads the journal and keeps the http
 * counts.
 *
 *   herald_deliveries_total{state}       counter, the journal's "deliveries"
 *   herald_smtp_replies_total{class}     counter, the journal's "smtp_replies"
 *   herald_mailbox_messages_total{kind}  counter, the journal's "mailbox_messages"
 *   herald_http_requests_total{code}     counter, the serving process's memory
 *   herald_deliveries_queued             gauge, rows queued now
 *   herald_deliveries_deferred           gauge, rows deferred now
 *
 * A journal counter's known labels (states, classes, kinds) are written
 * at 0 until they first count, so that a rate sees the first event; a
 * label the journal has beyond those follows them. A family with nothing
 * to show is still written (HELP and TYPE), so a scrape always names it.
 */
#ifndef HERALD_METRICS_H
#define HERALD_METRICS_H

#include <stddef.h>

#include "store.h"
#include "util.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The status codes counted: http[code - METRICS_CODE_MIN] for each in range. */
#define METRICS_CODE_MIN 100
#define METRICS_CODE_MAX 599
#define METRICS_CODES (METRICS_CODE_MAX - METRICS_CODE_MIN + 1)

struct metrics {
	const struct store_counter *counters;	/* store_counters(): by name, then label */
	size_t ncounters;
	size_t queued, deferred;		/* store_pending() */
	const unsigned long long *http;		/* METRICS_CODES slots; NULL: none */
};

/* Appends the whole exposition of m to out. */
void metrics_render(struct buf *out, const struct metrics *m);

/* A label value as the format escapes it: backslash, double quote and line feed. */
void metrics_escape_label(struct buf *out, const char *s);
/* A HELP text as the format escapes it: backslash and line feed. */
void metrics_escape_help(struct buf *out, const char *s);

#endif
