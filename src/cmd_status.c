/*
 * cmd_status.c - herald status: where each release stands.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "journal.h"
#include "release.h"
#include "segment.h"
#include "timefmt.h"

#define STATUS_REPLIES 5

struct status_opts {
	const char *release;
	int json;
	const char *tz;			/* the times' zone; NULL: UTC */
	int idw, whenw;			/* the widths of the RELEASE and SCHEDULED columns */
};

/* When r is scheduled, in the zone status speaks in; "-" when it is not. */
static void
status_when(const struct store_release *r, const struct status_opts *o, char *out,
    size_t size)
{
	snprintf(out, size, "-");
	if (r->scheduled_at == 0)
		return;
	if (o->tz == NULL || timefmt_iso_zone(r->scheduled_at, o->tz, out, size) == -1)
		timefmt_iso_utc(r->scheduled_at, out, size);
}

/* Columns as wide as their widest entry: any id fits. */
static void
status_widths(const struct store_release *all, size_t n, struct status_opts *o)
{
	char when[40];
	size_t i;

	o->idw = 24;
	o->whenw = 20;
	for (i = 0; i < n; i++) {
		if ((int)strlen(all[i].release_id) > o->idw)
			o->idw = (int)strlen(all[i].release_id);
		status_when(&all[i], o, when, sizeof(when));
		if ((int)strlen(when) > o->whenw)
			o->whenw = (int)strlen(when);
	}
}

/* "changed" when the file no longer matches the snapshot that is sent. */
static int
status_file_changed(const struct store_release *r)
{
	char *data;
	size_t len;
	int changed;

	if (r->file == NULL || util_read_beneath(r->file, &data, &len) == -1)
		return -1;
	changed = len != r->snapshot_len || memcmp(data, r->snapshot, len) != 0;
	free(data);
	return changed;
}

/* A time status shows, in its zone. */
static void
status_time(long long t, const struct status_opts *o, char *out, size_t size)
{
	if (o->tz == NULL || timefmt_iso_zone(t, o->tz, out, size) == -1)
		timefmt_iso_utc(t, out, size);
}

/*
 * A scheduled release that will go in waves: what its snapshot says of
 * them, before any row exists.
 */
static void
status_plan(const struct store_release *r, const struct status_opts *o)
{
	struct release rel;
	struct diag d;
	char at[40], lift[40];
	size_t i;

	if (r->state != RS_SCHEDULED)
		return;
	diag_init(&d, EXIT_DATAERR);
	if (release_load_mem(r->file ? r->file : r->release_id, r->snapshot, r->snapshot_len,
	    &rel, &d) == 0) {
		if (rel.has_embargo)
			status_time(rel.embargo, o, lift, sizeof(lift));
		if (rel.nprebrief > 0) {
			status_time(r->scheduled_at, o, at, sizeof(at));
			printf("  pre-briefing: at %s to", at);
			for (i = 0; i < rel.nprebrief; i++)
				printf("%s %s", i ? "," : "", rel.prebrief_lists[i]);
			printf("; public: at the lift, %s\n", lift);
		}
		if (rel.deliver_local >= 0)
			printf("  each reader at %02d:%02d in their zone%s%s\n", rel.deliver_local / 60,
			    rel.deliver_local % 60, rel.has_embargo ? ", not before " : "",
			    rel.has_embargo ? lift : "");
	}
	release_free(&rel);
	diag_free(&d);
}

/* A release in two waves, or with rows waiting for their time: one line each. */
static void
status_waves_text(const struct store_wave w[2], const struct status_opts *o)
{
	static const char *const names[] = { "public", "pre-briefing" };
	char first[40], last[40];
	int i;

	if (w[1].total == 0 && w[0].waiting == 0)
		return;
	for (i = 1; i >= 0; i--) {
		if (w[i].total == 0)
			continue;
		printf("  %s: %zu of %zu sent", w[1].total ? names[i] : "deliveries", w[i].sent,
		    w[i].total);
		if (w[i].waiting) {
			status_time(w[i].first, o, first, sizeof(first));
			status_time(w[i].last, o, last, sizeof(last));
			if (w[i].first == w[i].last)
				printf(", %zu waiting until %s", w[i].waiting, first);
			else
				printf(", %zu waiting from %s to %s", w[i].waiting, first, last);
		}
		putchar('\n');
	}
}

static void
status_waves_json(struct buf *b, const struct store_wave w[2])
{
	static const char *const names[] = { "public", "prebrief" };
	char iso[32];
	int i, any = 0;

	buf_adds(b, ", \"waves\": [");
	for (i = 1; i >= 0; i--) {
		if (w[i].total == 0)
			continue;
		buf_addf(b, "%s{\"wave\": \"%s\", \"total\": %zu, \"sent\": %zu, \"waiting\": %zu",
		    any++ ? ", " : "", names[i], w[i].total, w[i].sent, w[i].waiting);
		if (w[i].waiting) {
			timefmt_iso_utc(w[i].first, iso, sizeof(iso));
			buf_addf(b, ", \"first_due\": \"%s\"", iso);
			timefmt_iso_utc(w[i].last, iso, sizeof(iso));
			buf_addf(b, ", \"last_due\": \"%s\"", iso);
		}
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* The segment r goes to, for people, into out; 0 when it has none. */
static int
status_segment(const struct store_release *r, struct buf *out)
{
	struct segment_set set;
	int has;

	buf_reset(out);
	if (r->segment == NULL || segment_set_parse(&set, r->segment) == -1)
		return 0;
	segment_set_describe(&set, out);
	has = set.n > 0;
	segment_set_free(&set);
	return has;
}

static void
status_json_segment(struct buf *b, const struct store_release *r)
{
	struct buf seg = BUF_INIT;

	buf_adds(b, ", \"segment\": ");
	if (!status_segment(r, &seg))
		buf_adds(b, "null");
	else
		buf_add_json(b, buf_str(&seg));
	if (seg.len && r->segment_counted)
		buf_addf(b, ", \"segment_kept\": %zu, \"segment_left_out\": %zu", r->segment_kept,
		    r->segment_left);
	else
		buf_adds(b, ", \"segment_kept\": null, \"segment_left_out\": null");
	buf_free(&seg);
}

static void
status_json(struct buf *b, struct store *st, const struct store_release *r,
    const size_t counts[DS__COUNT], const struct store_reply *rep, size_t nrep,
    const struct store_wave waves[2])
{
	char iso[32];
	size_t i;

	buf_adds(b, "{\"release\": ");
	buf_add_json(b, r->release_id);
	buf_adds(b, ", \"state\": ");
	buf_add_json(b, store_rstate_name(r->state));
	if (r->scheduled_at) {
		timefmt_iso_utc(r->scheduled_at, iso, sizeof(iso));
		buf_adds(b, ", \"scheduled_at\": ");
		buf_add_json(b, iso);
	}
	buf_addf(b, ", \"file_changed\": %s", status_file_changed(r) == 1 ? "true" : "false");
	status_json_segment(b, r);
	for (i = 0; i < DS__COUNT; i++)
		buf_addf(b, ", \"%s\": %zu", store_dstate_name((enum dstate)i), counts[i]);
	buf_adds(b, ", \"replies\": [");
	for (i = 0; i < nrep; i++) {
		buf_adds(b, i ? ", {\"reply\": " : "{\"reply\": ");
		buf_add_json(b, rep[i].reply);
		buf_addf(b, ", \"count\": %zu}", rep[i].count);
	}
	buf_addc(b, ']');
	status_waves_json(b, waves);
	buf_addc(b, '}');
	(void)st;
}

static void
status_table_segment(const struct store_release *r)
{
	struct buf seg = BUF_INIT;

	if (status_segment(r, &seg) && r->segment_counted)
		printf("  segment %s: the last send kept %zu of the lists' subscribers, left out %zu\n",
		    buf_str(&seg), r->segment_kept, r->segment_left);
	else if (seg.len)
		printf("  segment %s: counted when it is sent\n", buf_str(&seg));
	buf_free(&seg);
}

static void
status_table_row(const struct store_release *r, const struct status_opts *o,
    const size_t counts[DS__COUNT], const struct store_reply *rep, size_t nrep,
    const struct store_wave waves[2])
{
	char when[40];
	size_t i;

	status_when(r, o, when, sizeof(when));
	printf("%-*s %-10s %-*s", o->idw, r->release_id, store_rstate_name(r->state), o->whenw,
	    when);
	for (i = 0; i < DS__COUNT; i++)
		printf(" %8zu", counts[i]);
	putchar('\n');
	if (status_file_changed(r) == 1)
		printf("  note: %s changed since the snapshot; the snapshot is what is sent\n", r->file);
	status_plan(r, o);
	status_table_segment(r);
	status_waves_text(waves, o);
	for (i = 0; i < nrep; i++)
		printf("  %6zu x %s\n", rep[i].count, rep[i].reply);
}

static void
status_header(const struct status_opts *o)
{
	size_t i;

	printf("%-*s %-10s %-*s", o->idw, "RELEASE", "STATE", o->whenw, "SCHEDULED");
	for (i = 0; i < DS__COUNT; i++) {
		char name[16];
		size_t j;
		snprintf(name, sizeof(name), "%s", store_dstate_name((enum dstate)i));
		for (j = 0; name[j]; j++)
			if (name[j] >= 'a' && name[j] <= 'z')
				name[j] -= 'a' - 'A';
		printf(" %8s", name);
	}
	putchar('\n');
}

static int
status_one(struct store *st, const struct store_release *r, const struct status_opts *o,
    struct buf *json)
{
	size_t counts[DS__COUNT], nrep = 0;
	struct store_reply *rep = NULL;
	struct store_wave waves[2];

	if (store_counts(st, r->id, counts) == -1 ||
	    store_waves(st, r->id, (long long)time(NULL), waves) == -1 ||
	    store_top_replies(st, r->id, STATUS_REPLIES, &rep, &nrep) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(st));
		return -1;
	}
	if (o->json)
		status_json(json, st, r, counts, rep, nrep, waves);
	else
		status_table_row(r, o, counts, rep, nrep, waves);
	store_replies_free(rep, nrep);
	return 0;
}

static int
status_run(struct store *st, struct status_opts *o)
{
	struct store_release one, *all = NULL;
	struct buf json = BUF_INIT;
	size_t i, n = 0;
	int rc = 0, found;

	memset(&one, 0, sizeof(one));
	if (o->release) {
		if ((found = store_release_get(st, o->release, &one)) != 0) {
			if (found == 1)
				fprintf(stderr, "herald: release '%s' is not in the journal (never scheduled or sent)\n",
				    o->release);
			return found == 1 ? EXIT_DATAERR : EXIT_SOFTWARE;
		}
		all = &one;
		n = 1;
	} else if (store_release_list(st, &all, &n) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(st));
		return EXIT_SOFTWARE;
	}
	status_widths(all, n, o);
	if (!o->json && n)
		status_header(o);
	if (o->json && !o->release)
		buf_addc(&json, '[');
	for (i = 0; i < n && rc == 0; i++) {
		if (o->json && !o->release && i)
			buf_adds(&json, ", ");
		rc = status_one(st, &all[i], o, &json);
	}
	if (o->json && !o->release)
		buf_addc(&json, ']');
	if (o->json)
		printf("%s\n", buf_str(&json));
	else if (n == 0)
		printf("no releases scheduled or sent yet\n");
	buf_free(&json);
	for (i = 0; i < n; i++)
		store_release_clear(&all[i]);
	if (!o->release)
		free(all);
	return rc == 0 ? 0 : EXIT_SOFTWARE;
}

int
cmd_status(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "utc", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status_opts o = { NULL, 0, NULL, 24, 20 };
	struct store *st = NULL;
	struct config cfg;
	struct diag d;
	int c, status, rc, utc = 0;

	while ((c = getopt_long(argc, argv, "juh", opts, NULL)) != -1) {
		if (c == 'j' || c == 'u') {
			*(c == 'j' ? &o.json : &utc) = 1;
			continue;
		}
		cmd_usage(cmd_current, c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : EXIT_USAGE;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "usage: herald status [RELEASE] [--json] [--utc]\n");
		return EXIT_USAGE;
	}
	o.release = optind < argc ? argv[optind] : NULL;
	diag_init(&d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		diag_print(&d);
		status = EXIT_CONFIG;
		goto out;
	}
	o.tz = utc ? NULL : cfg.tz;
	if ((rc = journal_open(&cfg, 1, &st)) == -1) {
		status = EXIT_CANTCREAT;
	} else if (rc == 1 && o.release) {
		fprintf(stderr, "herald: release '%s' is not in the journal (nothing scheduled or sent yet)\n",
		    o.release);
		status = EXIT_DATAERR;
	} else if (rc == 1) {
		printf(o.json ? "[]\n" : "no releases scheduled or sent yet\n");
		status = 0;
	} else {
		status = status_run(st, &o);
	}
out:
	store_close(st);
	config_free(&cfg);
	diag_free(&d);
	return status;
}
