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
#include "diag.h"
#include "digest.h"
#include "outgoing.h"
#include "relsrc.h"
#include "report.h"
#include "segment.h"

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

/* The progress bar, on a terminal: done of total, the counts, the rate and what is left. */
static void
send_progress(void *arg, const struct delivery_progress *p, int final)
{
	size_t done = p->sent + p->deferred + p->failed, i, fill;
	char bar[31];

	(void)arg;
	if (final) {
		fputc('\n', stderr);
		return;
	}
	fill = p->total ? done * 30 / p->total : 0;
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu sent %zu deferred %zu failed %zu  %.0f msg/s",
	    bar, done, p->total, p->sent, p->deferred, p->failed, p->rate);
	if (p->rate > 0 && p->total > done)
		fprintf(stderr, "  ETA %.0fs ", (double)(p->total - done) / p->rate);
}

/* --dry-run: what would go, and why the others would not; nothing sent or written. */
static int
send_dry_run(const struct config *cfg, const struct relsrc_args *a, struct diag *d)
{
	struct delivery_result r;
	struct relsrc_dry dry;

	if (digest_is_id(a->release_arg)) {
		digest_pending(cfg, a->release_arg, &r);
		if (r.counted)
			printf("dry run: digest %s: %zu queued, %zu deferred, %zu sending; nothing "
			    "sent\n", a->release_arg, r.queued, r.deferred, r.sent);
	} else {
		relsrc_dry_run(cfg, a, &dry, &r, d);
		if (r.end == DELIVERY_DONE)
			printf("dry run: %s would go to %zu recipients (%zu KB rendered); %zu "
			    "suppressed, %zu on more than one list, %zu by digest, %zu have it "
			    "already; nothing sent\n", dry.release_id, dry.would,
			    (dry.bytes + 1023) / 1024, dry.suppressed, dry.dup, dry.digest, dry.had);
		if (r.end == DELIVERY_DONE && dry.early)
			printf("dry run: %zu of them pre-briefed (marked EMBARGOED), the other %zu "
			    "at the lift\n", dry.early, dry.would - dry.early);
		if (r.end == DELIVERY_DONE && dry.segmented)
			printf("dry run: the segment %s keeps %zu of the %zu subscribers of %s who "
			    "take each release, leaves out %zu\n", dry.segment, dry.kept,
			    dry.kept + dry.left, dry.lists, dry.left);
	}
	diag_print(d);
	if (r.detail[0])
		fprintf(stderr, "herald: %s\n", r.detail);
	return delivery_exit_status(&r, d);
}

/*
 * On a terminal, a send asks first: how many, on which lists. 0 go on;
 * else the exit status (nothing was sent, or the count failed).
 */
static int
send_confirm(const struct config *cfg, const struct relsrc_args *a, struct diag *d)
{
	struct delivery_result r;
	struct relsrc_dry dry;
	char answer[64];

	memset(&dry, 0, sizeof(dry));
	dry.count_only = 1;
	relsrc_dry_run(cfg, a, &dry, &r, d);
	if (r.end != DELIVERY_DONE) {
		diag_print(d);
		if (r.detail[0])
			fprintf(stderr, "herald: %s\n", r.detail);
		return delivery_exit_status(&r, d);
	}
	/* Nobody: the send itself says so. */
	if (dry.would == 0)
		return 0;
	fprintf(stderr, "send %s to %zu recipient%s on %s%s%s%s? [y/N] ", dry.release_id,
	    dry.would, dry.would == 1 ? "" : "s", dry.lists, dry.segmented ? " (segment " : "",
	    dry.segmented ? dry.segment : "", dry.segmented ? ")" : "");
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) != NULL &&
	    (strcmp(answer, "y\n") == 0 || strcmp(answer, "yes\n") == 0 ||
	    strcmp(answer, "Y\n") == 0))
		return 0;
	fprintf(stderr, "herald: not sent\n");
	return EXIT_TEMPFAIL;
}

int
cmd_send(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ "test", required_argument, NULL, 't' },
		{ "as", required_argument, NULL, 'a' },
		{ "where", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct delivery_result r;
	struct delivery_opts o;
	struct relsrc_args a;
	struct segment where;
	struct config cfg;
	struct diag d;
	int c, dry_run = 0, yes = 0, status;
	char **tests = NULL;
	size_t ntests = 0;
	const char *as = NULL;

	memset(&o, 0, sizeof(o));
	memset(&a, 0, sizeof(a));
	memset(&where, 0, sizeof(where));
	while ((c = getopt_long(argc, argv, "l:nyt:a:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			a.lists = xrealloc(a.lists, (a.nlists + 1) * sizeof(*a.lists));
			a.lists[a.nlists++] = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'y':
			yes = 1;
			break;
		case 't':
			tests = xrealloc(tests, (ntests + 1) * sizeof(*tests));
			tests[ntests++] = optarg;
			break;
		case 'a':
			as = optarg;
			break;
		case 'w':
			if ((status = cmd_where(&where, optarg)) != 0)
				goto out_args;
			break;
		case 'h':
			cmd_usage(cmd_current, stdout);
			status = 0;
			goto out_args;
		default:
			cmd_usage(cmd_current, stderr);
			status = EXIT_USAGE;
			goto out_args;
		}
	}
	if (argc - optind != 1 || (as && !ntests) || (ntests && (dry_run || a.nlists))) {
		fprintf(stderr, "usage: herald send RELEASE [--list ID]... [--where KEY=VALUE]... "
		    "[--dry-run] [--yes] | herald send RELEASE --test EMAIL... [--as SUBSCRIBER] "
		    "[--where KEY=VALUE]...\n");
		status = EXIT_USAGE;
		goto out_args;
	}
	if (ntests) {
		status = cmd_send_test(g, argv[optind], as, tests, ntests, &where);
		goto out_args;
	}
	free(tests);
	tests = NULL;
	if (where.nkeys && digest_is_id(argv[optind])) {
		fprintf(stderr, "herald: --where is for a release; a digest goes to whoever its "
		    "digest subscribers are owed\n");
		status = EXIT_USAGE;
		goto out_args;
	}
	a.where = &where;
	a.release_arg = argv[optind];
	if (isatty(STDERR_FILENO))
		o.on_progress = send_progress;
	o.verbose = g->verbose;
	o.stop = &send_stop;
	diag_init(&d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		diag_print(&d);
		status = EXIT_CONFIG;
		goto out;
	}
	if (dry_run) {
		status = send_dry_run(&cfg, &a, &d);
		goto out;
	}
	if (!yes && isatty(STDIN_FILENO) && !digest_is_id(a.release_arg) &&
	    (status = send_confirm(&cfg, &a, &d)) != 0)
		goto out;
	diag_free(&d);
	diag_init(&d, EXIT_DATAERR);
	send_signals();
	outgoing_send(&cfg, &a, &o, &r, &d);
	diag_print(&d);
	report_delivery(&r);
	status = delivery_exit_status(&r, &d);
out:
	config_free(&cfg);
	diag_free(&d);
	free(a.lists);
	segment_free(&where);
	return status;
out_args:
	free(a.lists);
	free(tests);
	segment_free(&where);
	return status;
}
