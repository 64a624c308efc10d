/*
 * cmd_digest.c - herald digest LIST: send the list's due digest now (cron).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "delivery.h"
#include "diag.h"
#include "digest.h"
#include "report.h"

static volatile sig_atomic_t digest_stop;

static void
digest_on_signal(int sig)
{
	(void)sig;
	digest_stop = 1;
}

/* As for send: Ctrl-C and SIGTERM let the messages in flight finish; the rest stays queued. */
static void
digest_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = digest_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Runs the digest and says what it did: one line per digest sent, or why none was. */
static int
digest_report(const struct config *cfg, const char *list, int verbose)
{
	struct digest_result r;
	struct delivery_opts o;
	struct diag d;
	size_t i;
	int status = 0;

	memset(&o, 0, sizeof(o));
	o.verbose = verbose;
	o.stop = &digest_stop;
	diag_init(&d, EXIT_DATAERR);
	digest_run(cfg, list, &o, &r, &d);
	for (i = 0; i < r.nsent; i++) {
		const struct digest_sent *e = &r.sent[i];

		if (e->rows)
			printf("digest %s: %s carries %zu release%s to %zu of %zu digest "
			    "subscribers\n", list, e->id, e->releases, e->releases == 1 ? "" : "s",
			    e->rows, r.subscribers);
		report_delivery(&e->r);
		status = report_worse(status, delivery_exit_status(&e->r, &d));
	}
	diag_print(&d);
	if (r.why.end != DELIVERY_DONE) {
		if (r.why.detail[0])
			fprintf(stderr, "herald: %s\n", r.why.detail);
		status = report_worse(status, delivery_exit_status(&r.why, &d));
	} else if (r.subscribers == 0) {
		printf("digest %s: no subscriber takes the digest; nothing sent\n", list);
	} else if (r.nothing_new) {
		printf("digest %s: nothing new since the last digest; nothing sent\n", list);
	}
	digest_result_free(&r);
	diag_free(&d);
	return status;
}

/* --dry-run: who the next digest would go to, and what it would carry; nothing recorded. */
static int
digest_dry_report(const struct config *cfg, const char *list)
{
	struct delivery_result r;
	struct digest_dry dry;
	struct diag d;
	int status = 0;

	diag_init(&d, EXIT_DATAERR);
	digest_dry(cfg, list, NULL, &dry, NULL, &r, &d);
	diag_print(&d);
	if (r.end != DELIVERY_DONE) {
		if (r.detail[0])
			fprintf(stderr, "herald: %s\n", r.detail);
		status = delivery_exit_status(&r, &d);
	} else if (dry.subscribers == 0) {
		printf("dry run: digest %s: no subscriber takes the digest; nothing would be sent\n",
		    list);
	} else if (dry.rows == 0) {
		printf("dry run: digest %s: nothing new since the last digest; nothing would be "
		    "sent\n", list);
	} else {
		printf("dry run: digest %s would go to %zu of %zu digest subscribers, carrying %zu "
		    "release%s; nothing sent\n", list, dry.rows, dry.subscribers, dry.releases,
		    dry.releases == 1 ? "" : "s");
	}
	diag_free(&d);
	return status;
}

int
cmd_digest(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	struct diag d;
	int c, status, dry_run = 0;

	while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
		if (c == 'n') {
			dry_run = 1;
			continue;
		}
		cmd_usage(cmd_current, c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : EXIT_USAGE;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: herald digest LIST [--dry-run]\n");
		return EXIT_USAGE;
	}
	diag_init(&d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		diag_print(&d);
		status = EXIT_CONFIG;
		goto out;
	}
	if (dry_run) {
		status = digest_dry_report(&cfg, argv[optind]);
		goto out;
	}
	digest_signals();
	status = digest_report(&cfg, argv[optind], g->verbose);
out:
	config_free(&cfg);
	diag_free(&d);
	return status;
}
