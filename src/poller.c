/*
 * poller.c - the daemon's mailbox thread; see poller.h.
 *
 * The thread sleeps in poll(2) on its own wake pipe and, when the server
 * offers it, the IDLE session's socket, until the next poll is due.
 */
#define _GNU_SOURCE		/* pipe2, pthread_timedjoin_np */
#include "poller.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "log.h"
#include "mailbox.h"
#include "outbox.h"
#include "store.h"
#include "util.h"

#define POLLER_IDLE_MAX 15	/* seconds between looks at the stop and reload flags */

struct poller {
	pthread_t thread;
	char *config_path;
	int verbose;
	unsigned char secret[TOKEN_SECRET_LEN];
	volatile sig_atomic_t *stop;
	_Atomic int reload;		/* set by the main thread, read by this one */
	_Atomic int outbox;		/* the outbox has mail: set by any thread */
	int wake[2];
	struct config cfg;
	struct store *st;
	long long next_poll;
	struct mailbox_watch *watch;	/* IDLE on the mailbox, when the server offers it */
	long long watch_retry;		/* when to open a watch again; 0: now */
};

static void
poller_free(struct poller *p)
{
	mailbox_watch_close(p->watch);
	store_close(p->st);
	config_free(&p->cfg);
	if (p->wake[0] >= 0)
		close(p->wake[0]);
	if (p->wake[1] >= 0)
		close(p->wake[1]);
	explicit_bzero(p->secret, sizeof(p->secret));
	free(p->config_path);
	free(p);
}

/* 0, or -1 when the configuration cannot be read (the daemon's thread says why); *c is filled either way. */
static int
poller_config(const char *path, struct config *c)
{
	struct diag dg;
	int rc;

	diag_init(&dg, EXIT_DATAERR);
	rc = config_load(config_path(path), c, &dg);
	diag_free(&dg);
	return rc;
}

/* A new configuration, unless broken or for another state (the daemon keeps the old one then too). */
static void
poller_reread(struct poller *p)
{
	struct config fresh;

	p->reload = 0;
	if (poller_config(p->config_path, &fresh) == -1 || strcmp(fresh.state, p->cfg.state) != 0) {
		config_free(&fresh);
		return;
	}
	config_free(&p->cfg);
	p->cfg = fresh;
	p->next_poll = 0;
	mailbox_watch_close(p->watch);
	p->watch = NULL;
	p->watch_retry = 0;
}

/* IDLE where the server offers it: new mail is read at once, not at imap.poll. */
static void
poller_watch_open(struct poller *p)
{
	long long now = (long long)time(NULL);
	char err[600];

	if (p->watch || now < p->watch_retry || *p->stop || !p->cfg.imap.enabled)
		return;
	if ((p->watch = mailbox_watch_open(&p->cfg, now, p->stop, err, sizeof(err))) != NULL) {
		log_info("mailbox", "waiting for new mail (IDLE)");
		return;
	}
	/* No IDLE on this server: imap.poll alone, until a SIGHUP. */
	p->watch_retry = strstr(err, "no IDLE") ? LLONG_MAX : now + 30;
	log_warn("mailbox", "cannot wait with IDLE: %s%s", err,
	    p->watch_retry == LLONG_MAX ? "" : "; trying again in 30 s");
}

/* The watch spoke (new mail, or the server went away), or it is due for renewal. */
static void
poller_watch_wake(struct poller *p, int spoke)
{
	long long now = (long long)time(NULL);

	if (p->watch == NULL || (!spoke && now < mailbox_watch_renew_at(p->watch)))
		return;
	if (spoke)
		p->next_poll = 0;
	if (mailbox_watch_renew(p->watch, now) < 0) {
		log_info("mailbox", "the IDLE session ended; opening another");
		mailbox_watch_close(p->watch);
		p->watch = NULL;
		p->watch_retry = now + 2;
		p->next_poll = 0;
	}
}

static void
poller_poll(struct poller *p)
{
	struct mailbox_stats ms;
	struct outbox_stats os;
	enum mailbox_end end;
	struct store_lease *lease;
	char err[600];

	if (mailbox_lock(p->st, &lease) != 0) {
		log_info("mailbox", "another process is reading it; next time");
		p->next_poll = (long long)time(NULL) + (long long)p->cfg.imap.poll;
		return;
	}
	end = mailbox_poll(&p->cfg, p->st, p->secret, p->verbose, p->stop, &ms, err,
	    sizeof(err));
	if (end == MAILBOX_DONE && (ms.read || ms.moved))
		log_info("mailbox", "read=%zu hard=%zu soft=%zu unsubscribed=%zu confirm=%zu"
		    " join_asked=%zu joined=%zu autoreplies=%zu human=%zu moved=%zu", ms.read,
		    ms.hard, ms.soft, ms.unsubscribed, ms.confirm_asked, ms.join_asked, ms.joined,
		    ms.autoreplies, ms.human, ms.moved);
	else if (end != MAILBOX_DONE && !*p->stop)
		log_warn("mailbox", "not read (%s); trying again in %llu s", err,
		    p->cfg.imap.poll);
	if (!*p->stop && outbox_send(&p->cfg, p->st, (long long)time(NULL), &os) == 0 &&
	    (os.sent || os.failed))
		log_info("outbox", "sent=%zu deferred=%zu failed=%zu", os.sent, os.deferred,
		    os.failed);
	store_lease_drop(p->st, lease);
	p->next_poll = (long long)time(NULL) + (long long)p->cfg.imap.poll;
}

/*
 * herald's own mail, between polls (or without a mailbox): under the
 * mailbox's lease, which keeps two processes from sending the same mail.
 * While another holds it, the mail waits for this thread's next round.
 */
static void
poller_outbox_send(struct poller *p)
{
	struct store_lease *lease;
	struct outbox_stats os;

	if (mailbox_lock(p->st, &lease) != 0)
		return;
	p->outbox = 0;
	if (outbox_send(&p->cfg, p->st, (long long)time(NULL), &os) == 0 && (os.sent || os.failed))
		log_info("outbox", "sent=%zu deferred=%zu failed=%zu", os.sent, os.deferred,
		    os.failed);
	store_lease_drop(p->st, lease);
}

/* Until the next poll, the watch's renewal or retry, a wake-up, or the watch speaking (1). */
static int
poller_sleep(struct poller *p)
{
	struct pollfd fds[2] = { { p->wake[0], POLLIN, 0 }, { mailbox_watch_fd(p->watch), POLLIN, 0 } };
	long long now = (long long)time(NULL), next = now + POLLER_IDLE_MAX, ms;
	char drain[64];

	if (p->cfg.imap.enabled && p->next_poll < next)
		next = p->next_poll;
	if (p->watch && mailbox_watch_renew_at(p->watch) < next)
		next = mailbox_watch_renew_at(p->watch);
	if (p->cfg.imap.enabled && !p->watch && p->watch_retry > now && p->watch_retry < next)
		next = p->watch_retry;
	ms = next > now ? (next - now) * 1000 : 0;
	if (poll(fds, fds[1].fd >= 0 ? 2 : 1, (int)ms) <= 0)
		return 0;
	if (fds[0].revents)
		while (read(p->wake[0], drain, sizeof(drain)) > 0)
			;
	return fds[1].fd >= 0 && fds[1].revents != 0;
}

static void *
poller_main(void *arg)
{
	struct poller *p = arg;

	while (!*p->stop) {
		if (p->reload)
			poller_reread(p);
		if (p->cfg.imap.enabled && (long long)time(NULL) >= p->next_poll)
			poller_poll(p);
		else if (p->outbox)
			poller_outbox_send(p);
		poller_watch_open(p);
		if (!*p->stop && !p->reload)
			poller_watch_wake(p, poller_sleep(p));
	}
	return NULL;
}

static void
poller_wake(struct poller *p)
{
	char c = 1;

	if (write(p->wake[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is pending anyway */
	}
}

struct poller *
poller_start(const char *config_path, int verbose, const unsigned char secret[TOKEN_SECRET_LEN],
    volatile sig_atomic_t *stop)
{
	struct poller *p = xcalloc(1, sizeof(*p));
	sigset_t block, old;
	char err[512];
	int rc;

	p->wake[0] = p->wake[1] = -1;
	p->config_path = config_path ? xstrdup(config_path) : NULL;
	p->verbose = verbose;
	p->stop = stop;
	p->outbox = 1;		/* what an earlier run left in it */
	memcpy(p->secret, secret, TOKEN_SECRET_LEN);
	if (poller_config(p->config_path, &p->cfg) == -1) {
		log_error("mailbox", "the configuration cannot be read again");
		goto fail;
	}
	if (store_open(p->cfg.state, &p->st, err, sizeof(err)) < 0) {
		log_error("mailbox", "%s", err);
		goto fail;
	}
	if (pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		log_error("mailbox", "pipe: %s", strerror(errno));
		goto fail;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&p->thread, NULL, poller_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_error("mailbox", "cannot start the mailbox thread: %s", strerror(rc));
		goto fail;
	}
	return p;
fail:
	poller_free(p);
	return NULL;
}

void
poller_outbox(void *arg)
{
	struct poller *p = arg;

	p->outbox = 1;
	poller_wake(p);
}

void
poller_reload(struct poller *p)
{
	if (p == NULL)
		return;
	p->reload = 1;
	poller_wake(p);
}

int
poller_stop(struct poller *p)
{
	struct timespec until;

	if (p == NULL)
		return 0;
	poller_wake(p);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POLLER_STOP_WAIT;
	if (pthread_timedjoin_np(p->thread, NULL, &until) != 0) {
		log_warn("mailbox", "the mailbox thread is still waiting on the server; leaving it");
		return -1;
	}
	poller_free(p);
	return 0;
}
