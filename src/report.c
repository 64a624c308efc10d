/*
 * report.c - the engines' results in words; see report.h.
 */
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "log.h"
#include "timefmt.h"

void
report_counts(const struct delivery_result *r, char *out, size_t len)
{
	size_t n;
	char iso[32];

	out[0] = '\0';
	if (!r->counted)
		return;
	n = (size_t)snprintf(out, len, "%s: %zu sent, %zu failed, %zu skipped", r->release_id,
	    r->sent, r->failed, r->skipped);
	if (r->queued + r->deferred == 0 || n >= len)
		return;
	n += (size_t)snprintf(out + n, len - n, ", %zu queued, %zu deferred", r->queued,
	    r->deferred);
	if (r->next_attempt && n < len) {
		timefmt_iso_utc(r->next_attempt, iso, sizeof(iso));
		snprintf(out + n, len - n, " (next %s at %s)", r->deferred ? "retry" : "due", iso);
	}
}

void
report_delivery(const struct delivery_result *r)
{
	char line[1024];

	if (r->detail[0])
		fprintf(stderr, "herald: %s\n", r->detail);
	report_counts(r, line, sizeof(line));
	if (line[0] == '\0')
		return;
	if (r->queued + r->deferred == 0)
		printf("%s\n", line);
	else if (r->deferred == 0 && r->end == DELIVERY_PENDING && r->next_attempt > time(NULL))
		printf("%s; the rest wait for their time (the lift, the reader's local time): "
		    "herald run sends them then\n", line);
	else
		printf("%s; herald send %s resumes\n", line, r->release_id);
	fflush(stdout);
}

void
report_delivery_log(const char *subsystem, const struct delivery_result *r)
{
	char line[1024];

	if (r->detail[0]) {
		if (r->end == DELIVERY_DONE || r->end == DELIVERY_PENDING ||
		    r->end == DELIVERY_CANCELLED || r->end == DELIVERY_NOT_YET)
			log_info(subsystem, "release=%s: %s", r->release_id, r->detail);
		else
			log_warn(subsystem, "release=%s: %s", r->release_id, r->detail);
	}
	report_counts(r, line, sizeof(line));
	if (line[0])
		log_info(subsystem, "release=%s", line);
}

void
report_diag_log(const char *subsystem, const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (d->items[i].warning)
			log_warn(subsystem, "%s", d->items[i].text);
		else
			log_error(subsystem, "%s", d->items[i].text);
	}
	if (d->dropped)
		log_error(subsystem, "%zu more errors not shown", d->dropped);
}

int
report_worse(int status, int next)
{
	if (status == 0 || (status == EXIT_TEMPFAIL && next != 0))
		return next;
	return status;
}
