/*
 * t_metrics.c - metrics.c: the escaping of label values and HELP texts
 * (table-driven), and the whole exposition for known inputs. A real
 * Prometheus parser reads what `herald run` serves in
 * tests/integration/metrics.t.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"

#include "metrics.h"
#include "util.h"

struct esc_case {
	const char *in, *label, *help;
};

static const struct esc_case esc_cases[] = {
	{ "", "", "" },
	{ "sent", "sent", "sent" },
	{ "a\"b", "a\\\"b", "a\"b" },
	{ "a\\b", "a\\\\b", "a\\\\b" },
	{ "a\nb", "a\\nb", "a\\nb" },
	{ "\\\"", "\\\\\\\"", "\\\\\"" },
	{ "\\n", "\\\\n", "\\\\n" },		/* a backslash and an n: not a line feed */
	{ "\n\n", "\\n\\n", "\\n\\n" },
	{ "a\tb\rc", "a\tb\rc", "a\tb\rc" },	/* only the three characters are escaped */
	{ "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93" },
	{ "{x=\"1\"}", "{x=\\\"1\\\"}", "{x=\"1\"}" },
};

static void
test_escape(void)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_LEN(esc_cases); i++) {
		buf_reset(&b);
		metrics_escape_label(&b, esc_cases[i].in);
		is_str(buf_str(&b), esc_cases[i].label, "label value escaped");
		buf_reset(&b);
		metrics_escape_help(&b, esc_cases[i].in);
		is_str(buf_str(&b), esc_cases[i].help, "HELP text escaped");
	}
	buf_free(&b);
}

/* The sample lines of out (no comments), joined by '|'. */
static const char *
samples(const char *out)
{
	static char s[4096];
	const char *line, *nl;
	size_t len = 0;

	s[0] = '\0';
	for (line = out; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			return "(a line without its line feed)";
		if (line[0] == '#')
			continue;
		len += (size_t)snprintf(s + len, sizeof(s) - len, "%s%.*s", len ? "|" : "",
		    (int)(nl - line), line);
	}
	return s;
}

/* Every line a HELP, a TYPE or a sample of a herald_ metric; each family's HELP and TYPE before its samples. */
static int
well_formed(const char *out)
{
	const char *line, *nl;
	char family[128] = "";
	size_t n;

	for (line = out; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			return 0;
		if (strncmp(line, "# HELP herald_", 14) == 0) {
			n = strcspn(line + 7, " ");
			snprintf(family, sizeof(family), "%.*s", (int)n, line + 7);
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			if (strncmp(line + 7, family, strlen(family)) != 0)
				return 0;
		} else if (family[0] == '\0' || strncmp(line, family, strlen(family)) != 0 ||
		    strchr("{ ", line[strlen(family)]) == NULL) {
			return 0;
		}
	}
	return 1;
}

static void
test_empty(void)
{
	struct metrics m = { 0 };
	struct buf b = BUF_INIT;

	metrics_render(&b, &m);
	ok(well_formed(buf_str(&b)), "a new journal's exposition is well formed");
	is_str(samples(buf_str(&b)),
	    "herald_deliveries_total{state=\"sent\"} 0|herald_deliveries_total{state=\"deferred\"} 0|"
	    "herald_deliveries_total{state=\"failed\"} 0|herald_deliveries_total{state=\"bounced\"} 0|"
	    "herald_deliveries_total{state=\"skipped\"} 0|"
	    "herald_smtp_replies_total{class=\"2xx\"} 0|herald_smtp_replies_total{class=\"4xx\"} 0|"
	    "herald_smtp_replies_total{class=\"5xx\"} 0|herald_smtp_replies_total{class=\"none\"} 0|"
	    "herald_mailbox_messages_total{kind=\"bounce\"} 0|"
	    "herald_mailbox_messages_total{kind=\"unsubscribe\"} 0|"
	    "herald_mailbox_messages_total{kind=\"subscribe\"} 0|"
	    "herald_mailbox_messages_total{kind=\"auto-reply\"} 0|"
	    "herald_mailbox_messages_total{kind=\"human\"} 0|"
	    "herald_deliveries_queued 0|herald_deliveries_deferred 0",
	    "every known label at 0; no http request yet; the gauges at 0");
	ok(strstr(buf_str(&b), "# HELP herald_http_requests_total ") != NULL &&
	    strstr(buf_str(&b), "# TYPE herald_http_requests_total counter\n") != NULL,
	    "the http family is named even without a sample");
	ok(strstr(buf_str(&b), "# TYPE herald_deliveries_total counter\n") != NULL &&
	    strstr(buf_str(&b), "# TYPE herald_deliveries_queued gauge\n") != NULL,
	    "counters and gauges are typed");
	buf_free(&b);
}

static void
test_values(void)
{
	struct store_counter c[] = {
		{ "deliveries", "deferred", 2 },
		{ "deliveries", "sent", 9000000000LL },
		{ "mailbox_messages", "human", 3 },
		{ "mailbox_messages", "odd\"kind\\\n", 1 },	/* a label the table does not know */
		{ "smtp_replies", "5xx", 4 },
		{ "somebody_elses", "x", 5 },			/* a name the table does not know */
	};
	unsigned long long http[METRICS_CODES] = { 0 };
	struct metrics m = { c, ARRAY_LEN(c), 12, 2, http };
	struct buf b = BUF_INIT;
	const char *s;

	http[200 - METRICS_CODE_MIN] = 7;
	http[404 - METRICS_CODE_MIN] = 1;
	http[100 - METRICS_CODE_MIN] = 1;
	http[599 - METRICS_CODE_MIN] = 1;
	metrics_render(&b, &m);
	s = samples(buf_str(&b));
	ok(well_formed(buf_str(&b)), "the exposition is well formed");
	ok(strstr(s, "herald_deliveries_total{state=\"sent\"} 9000000000|"
	    "herald_deliveries_total{state=\"deferred\"} 2|"
	    "herald_deliveries_total{state=\"failed\"} 0|") != NULL,
	    "the journal's values, in the table's order, 64-bit");
	ok(strstr(s, "herald_mailbox_messages_total{kind=\"human\"} 3|"
	    "herald_mailbox_messages_total{kind=\"odd\\\"kind\\\\\\n\"} 1|") != NULL,
	    "an unknown label follows the known ones, escaped");
	ok(strstr(s, "herald_smtp_replies_total{class=\"5xx\"} 4|") != NULL, "a reply class");
	ok(strstr(buf_str(&b), "somebody_elses") == NULL, "an unknown counter is not shown");
	ok(strstr(s, "herald_http_requests_total{code=\"100\"} 1|"
	    "herald_http_requests_total{code=\"200\"} 7|herald_http_requests_total{code=\"404\"} 1|"
	    "herald_http_requests_total{code=\"599\"} 1|") != NULL,
	    "http requests by code, in order, only the codes seen");
	ok(strstr(s, "|herald_deliveries_queued 12|herald_deliveries_deferred 2") != NULL &&
	    s[strlen(s) - 1] == '2', "the gauges, last");
	buf_free(&b);
}

int
main(void)
{
	test_escape();
	test_empty();
	test_values();
	return done_testing();
}
