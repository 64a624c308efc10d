/*
 * schedule.c - the daemon's digest timetable; see schedule.h.
 */
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "diag.h"
#include "digest.h"
#include "list.h"
#include "log.h"
#include "project.h"
#include "report.h"
#include "util.h"

struct entry {
	char *list, *tz;
	struct cron cron;
	long long next;
};

struct schedule {
	struct entry *e;
	size_t n, cap;
};

static void
schedule_add(struct schedule *s, const struct list_info *info, const char *tz, long long now)
{
	struct entry *e;
	char err[256];

	s->e = xgrow(s->e, &s->cap, s->n + 1, sizeof(*s->e));
	e = &s->e[s->n];
	memset(e, 0, sizeof(*e));
	if (cron_parse(info->digest_schedule, &e->cron, err, sizeof(err)) < 0) {
		log_error("digest", "list=%s: bad schedule \"%s\": %s", info->id,
		    info->digest_schedule, err);
		return;
	}
	if (cron_next(&e->cron, tz, now, &e->next) < 0) {
		log_error("digest", "list=%s: schedule \"%s\" never falls due in zone %s", info->id,
		    info->digest_schedule, tz ? tz : "UTC");
		return;
	}
	e->list = xstrdup(info->id);
	e->tz = tz ? xstrdup(tz) : NULL;
	s->n++;
}

struct schedule *
schedule_load(const struct config *c, long long now)
{
	struct schedule *s = xcalloc(1, sizeof(*s));
	struct list_info info;
	struct diag d;
	char **paths = NULL;
	size_t n = 0, i;

	diag_init(&d, EXIT_DATAERR);
	if (project_files(c->lists_dir, &paths, &n, &d) == 0) {
		for (i = 0; i < n; i++) {
			if (list_load(paths[i], &info, NULL, NULL, &d) == 0 && info.digest_schedule)
				schedule_add(s, &info, info.tz ? info.tz : c->tz, now);
			list_info_free(&info);
		}
	}
	if (d.errors)
		diag_print(&d);
	diag_free(&d);
	project_files_free(paths, n);
	return s;
}

void
schedule_free(struct schedule *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->e[i].list);
		free(s->e[i].tz);
	}
	free(s->e);
	free(s);
}

long long
schedule_next(const struct schedule *s)
{
	long long next = 0;
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (next == 0 || s->e[i].next < next)
			next = s->e[i].next;
	return next;
}

/* One list's digest, and what came of it in the log. */
static void
schedule_digest(const struct config *c, const char *list, int verbose,
    volatile sig_atomic_t *stop)
{
	struct digest_result r;
	struct delivery_opts o;
	struct diag d;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.verbose = verbose;
	o.stop = stop;
	diag_init(&d, EXIT_DATAERR);
	digest_run(c, list, &o, &r, &d);
	report_diag_log("digest", &d);
	for (i = 0; i < r.nsent; i++) {
		if (r.sent[i].rows)
			log_info("digest", "list=%s: %s carries %zu release%s to %zu of %zu digest "
			    "subscribers", list, r.sent[i].id, r.sent[i].releases,
			    r.sent[i].releases == 1 ? "" : "s", r.sent[i].rows, r.subscribers);
		report_delivery_log("digest", &r.sent[i].r);
	}
	if (r.why.end != DELIVERY_DONE && r.why.end != DELIVERY_INTERRUPTED)
		log_warn("digest", "list=%s: no digest sent%s%s", list, r.why.detail[0] ? ": " : "",
		    r.why.detail);
	else if (r.why.end == DELIVERY_DONE && r.subscribers == 0)
		log_info("digest", "list=%s: no subscriber takes the digest", list);
	else if (r.nothing_new)
		log_info("digest", "list=%s: nothing new since the last digest", list);
	digest_result_free(&r);
	diag_free(&d);
}

void
schedule_run(struct schedule *s, const struct config *c, int verbose,
    volatile sig_atomic_t *stop)
{
	long long now;
	struct entry *e;
	size_t i;

	for (i = 0; s && i < s->n && !*stop; i++) {
		e = &s->e[i];
		now = (long long)time(NULL);
		if (e->next > now)
			continue;
		log_info("digest", "list=%s: due", e->list);
		schedule_digest(c, e->list, verbose, stop);
		if (cron_next(&e->cron, e->tz, now, &e->next) < 0)
			e->next = now + 366LL * 86400;
	}
}
