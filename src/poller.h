/*
 * poller.h - the daemon's mailbox, on a thread of its own: every
 * imap.poll, or at once when IDLE (RFC 2177) says something came, one
 * mailbox_poll and then the outbox it filled. A server that is slow,
 * stalls or misbehaves then never holds up sending.
 *
 * The thread shares nothing with the daemon's loop but the stop flag and
 * the log: it reads the configuration itself (again after poller_reload),
 * opens its own journal handle, and owns its IDLE session. It blocks
 * SIGTERM, SIGINT and SIGHUP: the daemon's thread handles them.
 */
#ifndef HERALD_POLLER_H
#define HERALD_POLLER_H

#include <signal.h>

#include "token.h"

#define POLLER_STOP_WAIT 5	/* seconds poller_stop waits for the thread */

struct poller;

/*
 * Starts the thread for the configuration at config_path (as given to
 * herald -C; config_path() resolves it). It ends when *stop is set.
 * NULL when the journal cannot be opened or the thread not started (logged).
 */
struct poller *poller_start(const char *config_path, int verbose,
    const unsigned char secret[TOKEN_SECRET_LEN], volatile sig_atomic_t *stop);

/* SIGHUP: the thread reads the configuration again before its next poll. */
void poller_reload(struct poller *p);
/*
 * The outbox has mail (a confirmation the web endpoint queued): the
 * thread sends it now, with or without a mailbox to read. Any thread; the
 * argument is the poller (http_on_outbox's callback).
 */
void poller_outbox(void *p);

/*
 * *stop is set: wakes the thread and waits for it, POLLER_STOP_WAIT
 * seconds at most (a read in progress gives up within a second; a
 * connection being set up may not). A thread still running then is left
 * to end with the process, its memory not freed: poller_stop returns -1,
 * and the process must then end with _exit, not exit (whose teardown of
 * the libraries would run under the thread). 0 otherwise; NULL is fine.
 */
int poller_stop(struct poller *p);

#endif
