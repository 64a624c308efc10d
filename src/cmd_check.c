/*
 * cmd_check.c - herald check: every input read, every problem reported.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "dkim.h"
#include "validate.h"

/* What is valid but will hurt: said, not refused. */
static void
check_warnings(const struct config *c, struct diag *d)
{
	if (!c->imap.enabled && !c->http.enabled)
		diag_warn(d, c->file, 0, 0, "nothing reads unsubscribe requests: without 'imap' "
		    "no reply or bounce is read, and without 'http' no one-click link is served");
	if (c->sender.postal_address == NULL)
		diag_warn(d, c->file, 0, 0, "no 'sender.postal_address': bulk mail must carry "
		    "the sender's postal address (the sample footers show it)");
}

int
cmd_check(const struct global_opts *g, int argc, char **argv)
{
	struct validate_summary sum;
	struct config cfg;
	struct diag d;
	int c, status;

	if ((c = cmd_help_only(argc, argv)) >= 0)
		return c;
	if (optind < argc) {
		fprintf(stderr, "herald: check takes no arguments\n");
		return EXIT_USAGE;
	}
	diag_init(&d, EXIT_DATAERR);
	/* A broken configuration still has usable defaults: check the rest too. */
	if (config_load(config_path(g->config), &cfg, &d) == 0)
		check_warnings(&cfg, &d);
	dkim_check_config(&cfg, &d);
	validate_project(&cfg, &d, &sum);
	diag_print(&d);
	status = d.status;
	if (status == 0) {
		printf("configuration OK\n");
		if (g->verbose)
			fprintf(stderr, "herald: %zu lists (%zu subscribers), %zu templates, %zu releases\n",
			    sum.lists, sum.subscribers, sum.templates, sum.releases);
	}
	validate_summary_free(&sum);
	diag_free(&d);
	config_free(&cfg);
	return status;
}
