/*
 * cmd_archive.c - herald archive: the press room, written now.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "cmd.h"
#include "journal.h"

/* The archive's folder: --out, else the config's archive.dir, else public/. */
static const char *
archive_dir(const char *out, const struct config *cfg)
{
	return out ? out : cfg->archive.dir ? cfg->archive.dir : "public";
}

static int
archive_status(const struct archive_result *r)
{
	switch (r->end) {
	case ARCHIVE_OK:
		return 0;
	case ARCHIVE_INVALID:
		return EXIT_DATAERR;
	case ARCHIVE_JOURNAL:
	case ARCHIVE_WRITE:
		break;
	}
	return EXIT_CANTCREAT;
}

static void
archive_say(const struct archive_result *r, const char *dir)
{
	char lift[32];
	struct tm tm;
	time_t t = (time_t)r->next_lift;

	printf("archive: %zu release%s (%zu page%s) in %s/; %zu file%s written, %zu removed\n",
	    r->published, r->published == 1 ? "" : "s", r->pages, r->pages == 1 ? "" : "s", dir,
	    r->written, r->written == 1 ? "" : "s", r->removed);
	if (r->withheld == 0)
		return;
	printf("archive: %zu more went out but %s not published: public: false, or under "
	    "embargo", r->withheld, r->withheld == 1 ? "is" : "are");
	if (r->next_lift && gmtime_r(&t, &tm) && strftime(lift, sizeof(lift),
	    "%Y-%m-%dT%H:%M:%SZ", &tm))
		printf(" (the next lift: %s)", lift);
	printf("\n");
}

int
cmd_archive(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct archive_result r;
	struct store *st = NULL;
	struct config cfg;
	struct diag d;
	const char *out = NULL, *dir;
	int c, status, rc;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o' && *optarg) {
			out = optarg;
			continue;
		}
		if (c == 'o')
			fprintf(stderr, "herald: --out needs a folder\n");
		else
			cmd_usage(cmd_current, c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "usage: herald archive %s\n", cmd_current->synopsis);
		return EXIT_USAGE;
	}
	diag_init(&d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		diag_print(&d);
		status = EXIT_CONFIG;
		goto out;
	}
	/* No journal yet: nothing went out, and an empty press room is written. */
	if ((rc = journal_open(&cfg, 1, &st)) == -1) {
		status = EXIT_CANTCREAT;
		goto out;
	}
	dir = archive_dir(out, &cfg);
	archive_write(&cfg, st, dir, (long long)time(NULL), &r, &d);
	diag_print(&d);
	if ((status = archive_status(&r)) == 0)
		archive_say(&r, dir);
out:
	store_close(st);
	config_free(&cfg);
	diag_free(&d);
	return status;
}
