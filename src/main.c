/*
 * main.c - global options, the command table, usage. Thin.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "diag.h"
#include "version.h"

static const struct command commands[] = {
	{ "check", "",
	  "validate the configuration, lists, templates and releases",
	  "Reads config/herald.yaml and every list, template and release it\n"
	  "points to. Prints \"configuration OK\", or every problem found, one per\n"
	  "line as FILE:LINE:COL: message. Nothing is sent.\n"
	  "\n"
	  "Exit status: 0 all valid; 65 a list, template or release is invalid;\n"
	  "78 the configuration itself is invalid.\n",
	  cmd_check },
	{ "preview", "RELEASE [--list ID] [--to EMAIL]",
	  "print the exact message one subscriber would get",
	  "RELEASE is a release id (releases/ID.yaml) or the path of a release file.\n"
	  "\n"
	  "  -l, --list ID     the list to preview for (default: the release's first list)\n"
	  "  -t, --to EMAIL    the subscriber (default: the list's first subscriber\n"
	  "                    who receives each release); an address not on the list\n"
	  "                    is rendered with no subscriber fields but the address\n"
	  "\n"
	  "The whole RFC 5322 message, CRLF line ends, goes to standard output.\n"
	  "Nothing is sent and nothing is recorded. Message-ID and tokens are\n"
	  "made under state/secret, which is created (mode 0600) if missing.\n"
	  "HERALD_NOW=2017-06-22T09:00:00-03:00 fixes the Date header's time.\n"
	  "\n"
	  "Exit status: 0 printed; 64 bad usage; 65 invalid input; 78 invalid\n"
	  "configuration.\n",
	  cmd_preview },
};

const struct command *cmd_current;

void
cmd_usage(const struct command *c, FILE *out)
{
	fprintf(out, "usage: herald [-C DIR] [-c FILE] [-v] %s%s%s\n\n%s.\n\n%s", c->name,
	    *c->synopsis ? " " : "", c->synopsis, c->summary, c->help);
}

static void
usage(FILE *out)
{
	size_t i;

	fputs("usage: herald [-C DIR] [-c FILE] [-v] COMMAND [ARGS]\n"
	    "\n"
	    "herald sends press releases and newsletters to YAML mailing lists.\n"
	    "\n"
	    "Options:\n"
	    "  -C DIR          change to DIR first (the project folder)\n"
	    "  -c FILE         the configuration (default: $HERALD_CONFIG, else\n"
	    "                  config/herald.yaml)\n"
	    "  -v, --verbose   say more\n"
	    "  -h, --help      this help; `herald COMMAND --help` for a command's\n"
	    "  -V, --version   the version\n"
	    "\n"
	    "Commands:\n", out);
	for (i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nExit status follows sysexits.h: 0 ok, 64 usage, 65 bad input data,\n"
	    "69 a server unavailable, 75 temporary failure, 78 configuration error.\n",
	    out);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct global_opts g = { NULL, 0 };
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+C:c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			if (chdir(optarg) == -1) {
				fprintf(stderr, "herald: cannot change to '%s': %s\n", optarg,
				    strerror(errno));
				return EXIT_USAGE;
			}
			break;
		case 'c':
			g.config = optarg;
			break;
		case 'v':
			g.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("herald %s\n", HERALD_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			cmd_current = &commands[i];
			argc -= optind;
			argv += optind;
			optind = 0;	/* glibc: 0 re-initialises getopt for the command's own options */
			return commands[i].run(&g, argc, argv);
		}
	}
	fprintf(stderr, "herald: unknown command '%s'; see herald --help\n", argv[optind]);
	return EXIT_USAGE;
}
