/*
 * cmd_send.c - herald send: deliver a release now, in the foreground.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "delivery.h"

static volatile sig_atomic_t send_stop;

static void
send_on_signal(int sig)
{
	(void)sig;
	send_stop = 1;
}

/* Ctrl-C and SIGTERM finish the messages in flight and leave the rest queued. */
static void
send_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = send_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
cmd_send(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct delivery_opts o;
	struct config cfg;
	struct diag d;
	int c, status;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "l:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.lists = xrealloc(o.lists, (o.nlists + 1) * sizeof(*o.lists));
			o.lists[o.nlists++] = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'h':
			cmd_usage(cmd_current, stdout);
			free(o.lists);
			return 0;
		default:
			cmd_usage(cmd_current, stderr);
			free(o.lists);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: herald send RELEASE [--list ID]... [--dry-run]\n");
		free(o.lists);
		return EXIT_USAGE;
	}
	o.release_arg = argv[optind];
	o.progress = isatty(STDERR_FILENO);
	o.verbose = g->verbose;
	o.stop = &send_stop;
	diag_init(&d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		diag_print(&d);
		status = EXIT_CONFIG;
		goto out;
	}
	send_signals();
	status = delivery_run(&cfg, &o);
out:
	config_free(&cfg);
	diag_free(&d);
	free(o.lists);
	return status;
}
