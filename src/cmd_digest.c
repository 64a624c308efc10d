/*
 * cmd_digest.c - herald digest LIST: send the list's due digest now (cron).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "digest.h"

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
	status = digest_run(&cfg, argv[optind], g->verbose, &digest_stop);
out:
	config_free(&cfg);
	diag_free(&d);
	return status;
}
