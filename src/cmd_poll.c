/*
 * cmd_poll.c - herald poll: read the mailbox once, act on what is for
 * herald, move it into its Herald/ folder, send the notices and
 * confirmations that asked for, print a summary, exit.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "journal.h"
#include "mailbox.h"
#include "outbox.h"

static void
poll_summary(const struct mailbox_stats *s, const struct outbox_stats *o)
{
	printf("poll: %zu new message%s: %zu hard bounce%s, %zu soft bounce%s"
	    " (%zu suppressed), %zu unsubscribed, %zu confirmation%s asked, %zu auto-repl%s,"
	    " %zu human, %zu not ours, %zu repeated; %zu moved\n",
	    s->read, s->read == 1 ? "" : "s", s->hard, s->hard == 1 ? "" : "s", s->soft,
	    s->soft == 1 ? "" : "s", s->soft_suppressed, s->unsubscribed, s->confirm_asked,
	    s->confirm_asked == 1 ? "" : "s", s->autoreplies, s->autoreplies == 1 ? "y" : "ies",
	    s->human, s->unmatched, s->repeated, s->moved);
	if (s->join_asked || s->joined)
		printf("poll: subscribing: %zu confirmation%s mailed, %zu joined\n", s->join_asked,
		    s->join_asked == 1 ? "" : "s", s->joined);
	if (o->sent || o->deferred || o->failed || o->waiting)
		printf("poll: herald's own mail: %zu sent, %zu deferred, %zu failed, %zu waiting"
		    " for the relay\n", o->sent, o->deferred, o->failed, o->waiting);
}

/* The exit status of a pass over the mailbox. */
static int
poll_status(enum mailbox_end end)
{
	switch (end) {
	case MAILBOX_DONE:
		return 0;
	case MAILBOX_REFUSED:
		return EXIT_CONFIG;
	case MAILBOX_UNREACHABLE:
		return EXIT_UNAVAILABLE;
	case MAILBOX_JOURNAL:
		return EXIT_CANTCREAT;
	case MAILBOX_INTERRUPTED:
		return EXIT_TEMPFAIL;
	}
	return EXIT_SOFTWARE;
}

int
cmd_poll(const struct global_opts *g, int argc, char **argv)
{
	unsigned char secret[TOKEN_SECRET_LEN];
	struct mailbox_stats ms;
	struct outbox_stats os;
	struct config cfg;
	struct store *st = NULL;
	struct diag d;
	char err[512];
	struct store_lease *lease = NULL;
	int c, status, lock;

	if ((c = cmd_help_only(argc, argv)) >= 0)
		return c;
	if (argc != optind) {
		fprintf(stderr, "usage: herald poll\n");
		return EXIT_USAGE;
	}
	/* A server that goes away while libetpan writes is a lost connection, retried; not death. */
	signal(SIGPIPE, SIG_IGN);
	diag_init(&d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &cfg, &d) == -1) {
		diag_print(&d);
		status = EXIT_CONFIG;
		goto out;
	}
	if (!cfg.imap.enabled) {
		fprintf(stderr, "herald: no mailbox to read: the config has no 'imap' section\n");
		status = EXIT_CONFIG;
		goto out;
	}
	if (token_secret_load(cfg.secret, secret, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		status = EXIT_CONFIG;
		goto out;
	}
	if (journal_open(&cfg, 0, &st) != 0) {
		status = EXIT_CANTCREAT;
		goto out;
	}
	if ((lock = mailbox_lock(st, &lease)) != 0) {
		if (lock == 1)
			fprintf(stderr, "herald: another herald poll (or herald run) is reading the"
			    " mailbox; try again later\n");
		status = lock == 1 ? EXIT_TEMPFAIL : EXIT_CANTCREAT;
		goto out;
	}
	status = poll_status(mailbox_poll(&cfg, st, secret, g->verbose, NULL, &ms, err,
	    sizeof(err)));
	if (err[0])
		fprintf(stderr, "herald: %s\n", err);
	memset(&os, 0, sizeof(os));
	/* What earlier polls queued goes out even when this one failed. */
	if (outbox_send(&cfg, st, (long long)time(NULL), &os) < 0 && status == 0)
		status = EXIT_CANTCREAT;
	poll_summary(&ms, &os);
out:
	store_lease_drop(st, lease);
	explicit_bzero(secret, sizeof(secret));
	store_close(st);
	config_free(&cfg);
	diag_free(&d);
	return status;
}
