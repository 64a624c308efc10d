/*
 * cmd_suppress.c - herald suppress, unsuppress and suppressed: addresses
 * herald never mails again, for one list or for every list.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "journal.h"
#include "project.h"
#include "timefmt.h"
#include "util.h"

struct supp {
	const char *arg, *list;
	int json;
	struct config cfg;
	struct diag d;
	struct store *st;
};

static int
supp_args(struct supp *s, int argc, char **argv, int want_address)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, want_address ? "l:h" : "jh", opts, NULL)) != -1) {
		if (c == 'l')
			s->list = optarg;
		else if (c == 'j')
			s->json = 1;
		else {
			cmd_usage(cmd_current, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (argc - optind != want_address) {
		fprintf(stderr, "usage: herald %s %s\n", cmd_current->name, cmd_current->synopsis);
		return EXIT_USAGE;
	}
	s->arg = want_address ? argv[optind] : NULL;
	return -1;
}

static int
supp_open(struct supp *s, const struct global_opts *g, int must_exist)
{
	char *path;
	int rc;

	diag_init(&s->d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &s->cfg, &s->d) == -1) {
		diag_print(&s->d);
		return EXIT_CONFIG;
	}
	/* A typo in --list would suppress nobody who matters. */
	if (s->list) {
		if ((path = project_list_path(&s->cfg, s->list, &s->d)) == NULL) {
			diag_print(&s->d);
			return EXIT_DATAERR;
		}
		free(path);
	}
	rc = journal_open(&s->cfg, must_exist, &s->st);
	return rc == -1 ? EXIT_CANTCREAT : rc == 1 ? -1 : 0;
}

static void
supp_close(struct supp *s)
{
	store_close(s->st);
	config_free(&s->cfg);
	diag_free(&s->d);
}

static int
supp_change(const struct global_opts *g, int argc, char **argv, int add)
{
	struct supp s;
	char *email = NULL;
	int status, rc;

	memset(&s, 0, sizeof(s));
	if ((status = supp_args(&s, argc, argv, 1)) != -1)
		return status;
	if ((email = journal_address(s.arg)) == NULL)
		return EXIT_DATAERR;
	if ((status = supp_open(&s, g, !add)) > 0)
		goto out;
	if (status == -1) {
		printf("%s was not suppressed\n", email);
		status = 0;
		goto out;
	}
	rc = add ? store_suppress(s.st, email, s.list, "manual", "herald suppress",
	    (long long)time(NULL)) : store_unsuppress(s.st, email, s.list);
	if (rc == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(s.st));
		status = EXIT_SOFTWARE;
	} else if (add) {
		printf("%s is suppressed for %s%s\n", email, s.list ? "list " : "every list",
		    s.list ? s.list : "");
	} else {
		printf(rc == 1 ? "%s was not suppressed%s%s\n" : "%s is no longer suppressed%s%s\n",
		    email, s.list ? " for list " : "", s.list ? s.list : "");
	}
out:
	free(email);
	supp_close(&s);
	return status;
}

int
cmd_suppress(const struct global_opts *g, int argc, char **argv)
{
	return supp_change(g, argc, argv, 1);
}

int
cmd_unsuppress(const struct global_opts *g, int argc, char **argv)
{
	return supp_change(g, argc, argv, 0);
}

static void
supp_print(const struct supp *s, const struct store_suppression *v, size_t n)
{
	struct buf b = BUF_INIT;
	char iso[32];
	size_t i;

	if (s->json)
		buf_addc(&b, '[');
	for (i = 0; i < n; i++) {
		timefmt_iso_utc(v[i].created, iso, sizeof(iso));
		if (!s->json) {
			/* The source names the mail that did it: its Message-ID is the sender's text. */
			printf("%-40s %-12s %-14s %s  %s\n", util_unctrl(v[i].address),
			    v[i].list ? util_unctrl(v[i].list) : "(all)", util_unctrl(v[i].reason), iso,
			    v[i].source ? util_unctrl(v[i].source) : "");
			continue;
		}
		buf_adds(&b, i ? ", {\"address\": " : "{\"address\": ");
		buf_add_json(&b, v[i].address);
		buf_adds(&b, ", \"list\": ");
		if (v[i].list)
			buf_add_json(&b, v[i].list);
		else
			buf_adds(&b, "null");
		buf_adds(&b, ", \"reason\": ");
		buf_add_json(&b, v[i].reason);
		buf_adds(&b, ", \"source\": ");
		buf_add_json(&b, v[i].source ? v[i].source : "");
		buf_adds(&b, ", \"since\": ");
		buf_add_json(&b, iso);
		buf_addc(&b, '}');
	}
	if (s->json)
		printf("%s]\n", buf_str(&b));
	buf_free(&b);
}

int
cmd_suppressed(const struct global_opts *g, int argc, char **argv)
{
	struct store_suppression *v = NULL;
	struct supp s;
	size_t n = 0;
	int status;

	memset(&s, 0, sizeof(s));
	if ((status = supp_args(&s, argc, argv, 0)) != -1)
		return status;
	if ((status = supp_open(&s, g, 1)) > 0)
		goto out;
	if (status == 0 && store_suppressions(s.st, &v, &n) == -1) {
		fprintf(stderr, "herald: journal: %s\n", store_error(s.st));
		status = EXIT_SOFTWARE;
		goto out;
	}
	status = 0;
	if (n == 0 && !s.json)
		printf("no address is suppressed\n");
	else
		supp_print(&s, v, n);
	store_suppressions_free(v, n);
out:
	supp_close(&s);
	return status;
}
