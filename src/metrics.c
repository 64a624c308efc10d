/*
 * metrics.c - the Prometheus text exposition of herald's numbers; see
 * metrics.h.
 */
#include "metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "classify.h"

/* Labels of the journal's counters that are written at 0 before they first count. */
static const char *const delivery_states[] = {
	"sent", "deferred", "failed", "bounced", "skipped", NULL,
};
static const char *const reply_classes[] = { "2xx", "4xx", "5xx", "none", NULL };

/* One family of counters the journal keeps. */
struct family {
	const char *key;		/* the journal's counter name */
	const char *name;		/* the metric's */
	const char *label;		/* its one label's name */
	const char *help;
};

static const struct family families[] = {
	{ "deliveries", "herald_deliveries_total", "state",
	  "Deliveries that moved to a state: sent (the relay took it), deferred (a"
	  " temporary failure; each retry counts again), failed, bounced (a bounce named"
	  " a sent one), skipped (suppressed before it went)." },
	{ "smtp_replies", "herald_smtp_replies_total", "class",
	  "Replies of the relay to delivery attempts, by class: 2xx, 4xx, 5xx; none when"
	  " an attempt ended without a reply (a lost connection, a timeout)." },
	{ "mailbox_messages", "herald_mailbox_messages_total", "kind",
	  "Messages read from the mailbox, by what they were classified as: bounce,"
	  " unsubscribe, subscribe, auto-reply, human." },
};

void
metrics_escape_label(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_adds(out, "\\\\");
		else if (*s == '"')
			buf_adds(out, "\\\"");
		else if (*s == '\n')
			buf_adds(out, "\\n");
		else
			buf_addc(out, *s);
	}
}

void
metrics_escape_help(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_adds(out, "\\\\");
		else if (*s == '\n')
			buf_adds(out, "\\n");
		else
			buf_addc(out, *s);
	}
}

static void
metrics_head(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_addf(out, "# HELP %s ", name);
	metrics_escape_help(out, help);
	buf_addf(out, "\n# TYPE %s %s\n", name, type);
}

static void
metrics_sample(struct buf *out, const char *name, const char *label, const char *value,
    long long n)
{
	buf_adds(out, name);
	if (label != NULL) {
		buf_addf(out, "{%s=\"", label);
		metrics_escape_label(out, value);
		buf_adds(out, "\"}");
	}
	buf_addf(out, " %lld\n", n);
}

/* The labels of a family that are written at 0 before they count: the i-th, NULL past the last. */
static const char *
metrics_known(const struct family *f, size_t i)
{
	if (strcmp(f->key, "deliveries") == 0)
		return delivery_states[i];
	if (strcmp(f->key, "smtp_replies") == 0)
		return reply_classes[i];
	return i <= CLS_HUMAN ? cls_kind_name((enum cls_kind)i) : NULL;
}

static int
metrics_is_known(const struct family *f, const char *label)
{
	const char *k;
	size_t i;

	for (i = 0; (k = metrics_known(f, i)) != NULL; i++)
		if (strcmp(k, label) == 0)
			return 1;
	return 0;
}

/* The journal's value of f/label; 0 when it never counted. */
static long long
metrics_value(const struct metrics *m, const struct family *f, const char *label)
{
	size_t i;

	for (i = 0; i < m->ncounters; i++)
		if (strcmp(m->counters[i].name, f->key) == 0 &&
		    strcmp(m->counters[i].label, label) == 0)
			return m->counters[i].value;
	return 0;
}

static void
metrics_family(struct buf *out, const struct metrics *m, const struct family *f)
{
	const struct store_counter *c;
	const char *k;
	size_t i;

	metrics_head(out, f->name, "counter", f->help);
	for (i = 0; (k = metrics_known(f, i)) != NULL; i++)
		metrics_sample(out, f->name, f->label, k, metrics_value(m, f, k));
	for (i = 0; i < m->ncounters; i++) {
		c = &m->counters[i];
		if (strcmp(c->name, f->key) == 0 && !metrics_is_known(f, c->label))
			metrics_sample(out, f->name, f->label, c->label, c->value);
	}
}

static void
metrics_http(struct buf *out, const unsigned long long *http)
{
	char code[8];
	size_t i;

	metrics_head(out, "herald_http_requests_total", "counter",
	    "HTTP requests answered, by status code, since this herald run started serving"
	    " (kept in its memory, not in the journal).");
	for (i = 0; http != NULL && i < METRICS_CODES; i++) {
		if (http[i] == 0)
			continue;
		snprintf(code, sizeof(code), "%zu", i + METRICS_CODE_MIN);
		metrics_sample(out, "herald_http_requests_total", "code", code,
		    http[i] > (unsigned long long)INT64_MAX ? INT64_MAX : (long long)http[i]);
	}
}

void
metrics_render(struct buf *out, const struct metrics *m)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(families); i++)
		metrics_family(out, m, &families[i]);
	metrics_http(out, m->http);
	metrics_head(out, "herald_deliveries_queued", "gauge",
	    "Deliveries queued now: waiting for a connection, for their time (a reader's"
	    " local hour, a wave) or for an embargo to lift.");
	metrics_sample(out, "herald_deliveries_queued", NULL, NULL, (long long)m->queued);
	metrics_head(out, "herald_deliveries_deferred", "gauge",
	    "Deliveries deferred now: a temporary failure, waiting to be retried.");
	metrics_sample(out, "herald_deliveries_deferred", NULL, NULL, (long long)m->deferred);
}
