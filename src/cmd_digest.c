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
	struct delivery_result why;
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
	if (r.end != DELIVERY_DONE) {
		memset(&why, 0, sizeof(why));
		why.end = r.end;
		if (r.detail[0])
			fprintf(stderr, "herald: %s\n", r.detail);
		status = report_worse(status, delivery_exit_status(&why, &d));
	} else if (r.subscribers == 0) {
		printf("digest %s: no subscriber takes the digest; nothing sent\n", list);
	} else if (r.nothing_new) {
		printf("digest %s: nothing new since the last digest; nothing sent\n", list);
	}
	digest_result_free(&r);
	diag_free(&d);
	return status;
}

int
cmd_digest(const struct global_opts *g, int argc, char **argv)
{
	struct config cfg;
	struct diag d;
	int c, status;

	if ((c = cmd_help_only(argc, argv)) >= 0)
		return c;
	if (argc - optind != 1) {
		fprintf(stderr, "usage: herald digest LIST\n");
		return EXIT_USAGE;
	}
	diag_init(&d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		diag_print(&d);
		status = EXIT_CONFIG;
		goto out;
	}
	digest_signals();
	status = digest_report(&cfg, argv[optind], g->verbose);
out:
	config_free(&cfg);
	diag_free(&d);
	return status;
}
