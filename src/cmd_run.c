/*
 * cmd_run.c - herald run: the daemon, in the foreground.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "daemon.h"
#include "diag.h"

int
cmd_run(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "syslog", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o = { g->config, g->verbose, 0 };
	int c;

	while ((c = getopt_long(argc, argv, "sh", opts, NULL)) != -1) {
		if (c == 's') {
			o.use_syslog = 1;
			continue;
		}
		cmd_usage(cmd_current, c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : EXIT_USAGE;
	}
	if (argc != optind) {
		fprintf(stderr, "usage: herald run [--syslog]\n");
		return EXIT_USAGE;
	}
	return daemon_run(&o);
}
