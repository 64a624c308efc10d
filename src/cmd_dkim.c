/*
 * cmd_dkim.c - herald dkim-record: the DNS TXT record that publishes the
 * public half of dkim.key_file.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "config.h"
#include "dkim.h"

static int
dkim_record_print(const struct config *c)
{
	struct dkim_keyfile k;
	struct buf out = BUF_INIT;
	enum dkim_alg alg;
	char err[256];

	if (dkim_alg_parse(c->dkim.algorithm, &alg) == -1 ||
	    dkim_keyfile_load(c->dkim.key_file, alg, &k, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: dkim: %s: %s\n", c->dkim.key_file, err);
		return EXIT_CONFIG;
	}
	dkim_record_format(c->dkim.selector, c->dkim.domain, alg, k.pub, &out);
	fputs(buf_str(&out), stdout);
	buf_free(&out);
	dkim_keyfile_free(&k);
	return 0;
}

int
cmd_dkim_record(const struct global_opts *g, int argc, char **argv)
{
	struct config cfg;
	struct diag d;
	int c, status;

	if ((c = cmd_help_only(argc, argv)) >= 0)
		return c;
	if (optind < argc) {
		fprintf(stderr, "herald: dkim-record takes no arguments\n");
		return EXIT_USAGE;
	}
	diag_init(&d, EXIT_CONFIG);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		status = EXIT_CONFIG;
	} else if (!cfg.dkim.enabled) {
		fprintf(stderr, "herald: %s has no dkim section: nothing to publish\n", cfg.file);
		status = EXIT_CONFIG;
	} else {
		status = dkim_record_print(&cfg);
	}
	diag_print(&d);
	diag_free(&d);
	config_free(&cfg);
	return status;
}
