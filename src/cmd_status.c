/*
 * cmd_status.c - herald status: where each release stands.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "journal.h"
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
    const size_t counts[DS__COUNT], const struct store_reply *rep, size_t nrep)
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
	buf_adds(b, "]}");
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
    const size_t counts[DS__COUNT], const struct store_reply *rep, size_t nrep)
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
	status_table_segment(r);
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

	if (store_counts(st, r->id, counts) == -1 ||
	    store_top_replies(st, r->id, STATUS_REPLIES, &rep, &nrep) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(st));
		return -1;
	}
	if (o->json)
		status_json(json, st, r, counts, rep, nrep);
	else
		status_table_row(r, o, counts, rep, nrep);
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
