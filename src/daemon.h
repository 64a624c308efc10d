/*
 * daemon.h - herald run: one process in the foreground that sends
 * scheduled releases when they fall due, retries deferred deliveries at
 * their time, reads the mailbox every imap.poll (on a thread of its own,
 * poller.h: a stalling server never holds up sending), and sends digests
 * on their lists' schedules. It sleeps until the next thing is due.
 *
 * One daemon per state directory (a lock on STATE_DIR/run.lock); send,
 * poll and digest from the command line work beside it. SIGTERM and
 * SIGINT: no new message is started, the SMTP transactions in flight
 * finish, exit 0. SIGHUP: the config is read again; a broken one is
 * reported and the old one kept (lists, templates and releases are read
 * afresh for every send anyway). With `http` configured it also serves
 * the one-click unsubscribe endpoint (http.h) in a thread of its own.
 */
#ifndef HERALD_DAEMON_H
#define HERALD_DAEMON_H

struct daemon_opts {
	const char *config_path;
	int verbose;
	int use_syslog;
};

/* Returns an exit status: 0 after SIGTERM/SIGINT, 75 when another daemon holds the state, 78 a bad config. */
int daemon_run(const struct daemon_opts *o);

#endif
