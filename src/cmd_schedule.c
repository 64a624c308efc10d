/*
 * cmd_schedule.c - herald schedule, reschedule and cancel: when a release
 * goes out. The daemon (herald run) sends what falls due.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "journal.h"
#include "release.h"
#include "relsrc.h"
#include "segment.h"
#include "timefmt.h"
#include "validate.h"

struct sched {
	const char *release_arg, *at, *tz;
	char **lists;
	size_t nlists;
	int where_ok;			/* schedule takes --where; reschedule keeps the recorded one */
	struct segment where;
	long long when;
	struct config cfg;
	struct diag d;
	struct store *st;
};

/*
 * A time already past would go out at once: a typo in the year breaks an
 * embargo. The current minute is still "now" (someone who types the time
 * they read on the clock is a few seconds late).
 */
#define SCHED_GRACE 60

static int
sched_not_past(const struct sched *s)
{
	long long now = (long long)time(NULL);
	char at[32], iso[32];

	if (s->when >= now - SCHED_GRACE)
		return 0;
	timefmt_iso_utc(s->when, at, sizeof(at));
	timefmt_iso_utc(now, iso, sizeof(iso));
	fprintf(stderr, "herald: --at %s is in the past (it is now %s); use herald send to send "
	    "now\n", at, iso);
	return EXIT_USAGE;
}

/* --at TIME [--tz ZONE]: 0, or EXIT_USAGE after saying what is wrong. */
static int
sched_time(struct sched *s)
{
	int rc;

	/* No --at: the release's own time, once it is read (schedule only). */
	if (s->at == NULL) {
		s->when = 0;
		return 0;
	}
	rc = s->tz ? timefmt_parse_local(s->at, s->tz, &s->when) : timefmt_parse(s->at, &s->when);
	if (rc == 0)
		return sched_not_past(s);
	if (rc == -2)
		fprintf(stderr, "herald: --at '%s' has no UTC offset: add one (e.g. %s-03:00) or give --tz ZONE\n",
		    s->at, s->at);
	else if (rc == -3)
		fprintf(stderr, "herald: --tz '%s' is not a known time zone (e.g. America/Argentina/Buenos_Aires)\n",
		    s->tz);
	else if (rc == -4)
		fprintf(stderr, "herald: --at '%s' does not exist in %s (a daylight-saving change skips it)\n",
		    s->at, s->tz);
	else
		fprintf(stderr, "herald: --at '%s' is not an ISO 8601 time such as 2017-06-22T09:00:00-03:00%s\n",
		    s->at, s->tz ? " (with --tz: 2017-06-22T09:00)" : "");
	return EXIT_USAGE;
}

static int
sched_args(struct sched *s, int argc, char **argv, int want_at)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "tz", required_argument, NULL, 'z' },
		{ "list", required_argument, NULL, 'l' },
		{ "where", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, status;

	while ((c = getopt_long(argc, argv, want_at ? "a:z:l:w:h" : "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			s->at = optarg;
			break;
		case 'z':
			s->tz = optarg;
			break;
		case 'l':
			s->lists = xrealloc(s->lists, (s->nlists + 1) * sizeof(*s->lists));
			s->lists[s->nlists++] = optarg;
			break;
		case 'w':
			if (!s->where_ok) {
				cmd_usage(cmd_current, stderr);
				return EXIT_USAGE;
			}
			if ((status = cmd_where(&s->where, optarg)) != 0)
				return status;
			break;
		case 'h':
			cmd_usage(cmd_current, stdout);
			return 0;
		default:
			cmd_usage(cmd_current, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: herald %s %s\n", cmd_current->name, cmd_current->synopsis);
		return EXIT_USAGE;
	}
	s->release_arg = argv[optind];
	return want_at ? sched_time(s) == 0 ? -1 : EXIT_USAGE : -1;
}

static int
sched_open(struct sched *s, const struct global_opts *g, int validate)
{
	diag_init(&s->d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &s->cfg, &s->d) == -1) {
		diag_print(&s->d);
		return EXIT_CONFIG;
	}
	if (validate) {
		validate_project(&s->cfg, &s->d, NULL);
		if (s->d.errors) {
			diag_print(&s->d);
			return s->d.status;
		}
	}
	return journal_open(&s->cfg, 0, &s->st) == 0 ? 0 : EXIT_CANTCREAT;
}

static void
sched_close(struct sched *s)
{
	store_close(s->st);
	config_free(&s->cfg);
	diag_free(&s->d);
	free(s->lists);
	segment_free(&s->where);
}

/* The release's id: the file's `id:` or stem, whether or not the file is still there. */
static char *
sched_release_id(struct sched *s, struct release *rel, char **data, size_t *len)
{
	char *path = release_path(s->cfg.releases_dir, s->release_arg);

	*data = NULL;
	if (util_read_beneath(path, data, len) == -1) {
		fprintf(stderr, "herald: %s: cannot read: %s\n", path, util_beneath_error(errno));
		free(path);
		return NULL;
	}
	if (release_load_mem(path, *data, *len, rel, &s->d) == -1) {
		diag_print(&s->d);
		free(path);
		return NULL;
	}
	return path;
}

/*
 * Without --at, schedule takes the release's own time: the pre-briefing's
 * (now when it has none: it goes when sent), else the embargo. 0, or an
 * exit status after saying why there is none.
 */
static int
sched_default_time(struct sched *s, const struct release *rel)
{
	if (s->at != NULL)
		return 0;
	if (rel->nprebrief > 0)
		s->when = rel->has_prebrief_at ? rel->prebrief_at : (long long)time(NULL);
	else if (rel->has_embargo)
		s->when = rel->embargo;
	else {
		fprintf(stderr, "herald: --at TIME is required: the release has no embargo to "
		    "take the time from\n");
		return EXIT_USAGE;
	}
	return sched_not_past(s);
}

static int
sched_check_window(const struct release *rel, long long when)
{
	char iso[32];

	if (rel->nprebrief > 0 && rel->has_prebrief_at && when < rel->prebrief_at) {
		timefmt_iso_utc(rel->prebrief_at, iso, sizeof(iso));
		fprintf(stderr, "herald: --at is before the release's pre-briefing (%s); schedule it at or after it\n",
		    iso);
		return EXIT_DATAERR;
	}
	if (rel->nprebrief == 0 && rel->has_embargo && when < rel->embargo) {
		timefmt_iso_utc(rel->embargo, iso, sizeof(iso));
		fprintf(stderr, "herald: --at is before the release's embargo (%s); schedule it at or after it\n",
		    iso);
		return EXIT_DATAERR;
	}
	if (rel->has_expires && when >= rel->expires) {
		timefmt_iso_utc(rel->expires, iso, sizeof(iso));
		fprintf(stderr, "herald: --at is not before the release expires (%s); it could never be sent\n",
		    iso);
		return EXIT_DATAERR;
	}
	return 0;
}

/* "scheduled ID for TIME", and the segment it goes to when it has one (text form). */
static void
sched_say(const char *what, const char *id, long long when, const char *segment)
{
	struct segment_set set;
	struct buf b = BUF_INIT;
	char iso[32];

	timefmt_iso_utc(when, iso, sizeof(iso));
	printf("%s %s for %s", what, id, iso);
	if (segment_set_parse(&set, segment ? segment : "") == 0 && set.n > 0) {
		segment_set_describe(&set, &b);
		printf(" (segment %s)", buf_str(&b));
	}
	putchar('\n');
	segment_set_free(&set);
	buf_free(&b);
}

int
cmd_schedule(const struct global_opts *g, int argc, char **argv)
{
	struct sched s;
	struct release rel;
	struct store_release cur;
	char *lists = NULL;
	char *path = NULL, *data = NULL;
	size_t len;
	long long row;
	int status, found;

	memset(&s, 0, sizeof(s));
	memset(&rel, 0, sizeof(rel));
	memset(&cur, 0, sizeof(cur));
	s.where_ok = 1;
	if ((status = sched_args(&s, argc, argv, 1)) != -1 || (status = sched_open(&s, g, 1)) != 0)
		goto out;
	if ((path = sched_release_id(&s, &rel, &data, &len)) == NULL) {
		status = EXIT_DATAERR;
		goto out;
	}
	if ((status = sched_default_time(&s, &rel)) != 0 ||
	    (status = sched_check_window(&rel, s.when)) != 0)
		goto out;
	if ((found = store_release_get(s.st, rel.id, &cur)) == 0) {
		fprintf(stderr, "herald: release %s is already %s; use reschedule to change its time\n",
		    rel.id, store_rstate_name(cur.state));
		status = EXIT_DATAERR;
		goto out;
	}
	if (s.nlists == 0 && rel.nlists == 0) {
		fprintf(stderr, "herald: the release names no lists; give --list ID\n");
		status = EXIT_USAGE;
		goto out;
	}
	lists = release_lists_joined(&rel, s.lists, s.nlists);
	if (found == -1 || relsrc_record(s.st, &rel, path, data, len, lists, &s.where,
	    RS_SCHEDULED, s.when, (long long)time(NULL), &row) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(s.st));
		status = EXIT_SOFTWARE;
		goto out;
	}
	if (store_release_get(s.st, rel.id, &cur) != 0) {
		fprintf(stderr, "herald: journal: %s\n", store_error(s.st));
		status = EXIT_SOFTWARE;
		goto out;
	}
	sched_say("scheduled", rel.id, s.when, cur.segment);
out:
	free(lists);
	store_release_clear(&cur);
	release_free(&rel);
	free(path);
	free(data);
	sched_close(&s);
	return status;
}

/*
 * The journal's release for the command's RELEASE argument: an id as it
 * is, else the id of the file it names. 0, or an exit status.
 */
static int
sched_get(struct sched *s, struct store_release *cur)
{
	struct release rel;
	char *path = NULL, *data = NULL;
	size_t len;
	int found = 1;

	if (strchr(s->release_arg, '/') == NULL)
		found = store_release_get(s->st, s->release_arg, cur);
	if (found == 1) {
		memset(&rel, 0, sizeof(rel));
		if ((path = sched_release_id(s, &rel, &data, &len)) != NULL)
			found = store_release_get(s->st, rel.id, cur);
		if (found == 1)
			fprintf(stderr, "herald: release %s is not in the journal (never scheduled or sent)\n",
			    path ? rel.id : s->release_arg);
		release_free(&rel);
	}
	free(path);
	free(data);
	return found == 0 ? 0 : found == 1 ? EXIT_DATAERR : EXIT_SOFTWARE;
}

int
cmd_reschedule(const struct global_opts *g, int argc, char **argv)
{
	struct sched s;
	struct store_release cur;
	struct release rel;
	long long row;
	int status;

	memset(&s, 0, sizeof(s));
	memset(&cur, 0, sizeof(cur));
	memset(&rel, 0, sizeof(rel));
	if ((status = sched_args(&s, argc, argv, 1)) != -1)
		goto out;
	if (s.at == NULL) {
		fprintf(stderr, "herald: --at TIME is required\n");
		status = EXIT_USAGE;
		goto out;
	}
	if ((status = sched_open(&s, g, 0)) != 0 || (status = sched_get(&s, &cur)) != 0)
		goto out;
	if (cur.state != RS_SCHEDULED && cur.state != RS_CANCELLED) {
		fprintf(stderr, "herald: release %s is %s; only a scheduled or cancelled release can be rescheduled\n",
		    cur.release_id, store_rstate_name(cur.state));
		status = EXIT_DATAERR;
		goto out;
	}
	if (release_load_mem(cur.file, cur.snapshot, cur.snapshot_len, &rel, &s.d) == -1 ||
	    (status = sched_check_window(&rel, s.when)) != 0) {
		diag_print(&s.d);
		status = status ? status : EXIT_DATAERR;
		goto out;
	}
	cur.scheduled_at = s.when;
	cur.state = RS_SCHEDULED;
	if (store_release_put(s.st, &cur, (long long)time(NULL), &row) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(s.st));
		status = EXIT_SOFTWARE;
		goto out;
	}
	sched_say("rescheduled", cur.release_id, s.when, cur.segment);
out:
	release_free(&rel);
	store_release_clear(&cur);
	sched_close(&s);
	return status;
}

int
cmd_cancel(const struct global_opts *g, int argc, char **argv)
{
	struct sched s;
	struct store_release cur;
	size_t failed = 0;
	long long now = (long long)time(NULL);
	int status;

	memset(&s, 0, sizeof(s));
	memset(&cur, 0, sizeof(cur));
	if ((status = sched_args(&s, argc, argv, 0)) != -1 || (status = sched_open(&s, g, 0)) != 0 ||
	    (status = sched_get(&s, &cur)) != 0)
		goto out;
	if (cur.state == RS_DONE || cur.state == RS_CANCELLED) {
		fprintf(stderr, "herald: release %s is already %s\n", cur.release_id,
		    store_rstate_name(cur.state));
		status = EXIT_DATAERR;
		goto out;
	}
	/* Rows not yet sent stop here; what is in flight finishes in its sender. */
	if (store_begin(s.st) == -1 ||
	    store_fail_pending(s.st, cur.id, "cancelled", now, &failed) == -1 ||
	    store_release_set_state(s.st, cur.id, RS_CANCELLED, now) == -1 ||
	    store_commit(s.st) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(s.st));
		store_rollback(s.st);
		status = EXIT_SOFTWARE;
		goto out;
	}
	printf("cancelled %s", cur.release_id);
	if (failed)
		printf(" (%zu deliveries not yet sent will not be)", failed);
	putchar('\n');
out:
	store_release_clear(&cur);
	sched_close(&s);
	return status;
}
