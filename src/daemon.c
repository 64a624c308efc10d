/*
 * daemon.c - herald run; see daemon.h.
 *
 * Signals only set flags and write a byte to a pipe; the loop sleeps in
 * poll(2) on that pipe with the time to the next due thing as timeout, so
 * it never spins and never misses a signal. Sends run in this thread
 * (delivery_run), watching the same stop flag; the mailbox is read on a
 * thread of its own (poller.c), so that a slow server never holds them up.
 */
#define _GNU_SOURCE		/* pipe2 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "config.h"
#include "delivery.h"
#include "diag.h"
#include "http.h"
#include "journal.h"
#include "log.h"
#include "outgoing.h"
#include "poller.h"
#include "relsrc.h"
#include "report.h"
#include "schedule.h"
#include "token.h"
#include "util.h"

#define IDLE_MAX 15		/* seconds: a release scheduled meanwhile is seen this soon */
#define BACKOFF_FIRST 30	/* a relay that cannot be reached: 30 s, doubling... */
#define BACKOFF_MAX 600		/* ... up to 10 min */

static volatile sig_atomic_t stop_flag, reload_flag;
static int wake_pipe[2] = { -1, -1 };

/* A release that failed for want of a relay waits before the next try. */
struct backoff {
	char *id;
	long long until;
	long long step;
};

struct dmn {
	const struct daemon_opts *o;
	struct config cfg;
	struct store *st;
	unsigned char secret[TOKEN_SECRET_LEN];
	struct store_lease *lease;	/* `run`: one daemon per journal */
	struct backoff *bo;
	size_t nbo, capbo;
	struct schedule *digests;
	struct http *http;		/* the one-click endpoint, when http is configured */
	struct poller *poller;		/* the mailbox, on a thread of its own */
	long long archive_due;		/* a lift the archive waits for (archive.dir); 0: none */
	int lost;			/* the run lease was lost: the loop ended for it */
};

/* ---- signals ---- */

static void
on_signal(int sig)
{
	int saved = errno;
	char c = 1;

	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
	if (write(wake_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is pending anyway */
	}
	errno = saved;
}

static int
dmn_signals(void)
{
	struct sigaction sa;

	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Sleeps until `until` (Unix time) or a signal. */
static void
dmn_sleep(long long until)
{
	struct pollfd p = { wake_pipe[0], POLLIN, 0 };
	long long now = (long long)time(NULL), ms;
	char drain[64];

	if (stop_flag || reload_flag)
		return;
	ms = until > now ? (until - now) * 1000 : 0;
	if (ms > IDLE_MAX * 1000LL)
		ms = IDLE_MAX * 1000LL;
	if (poll(&p, 1, (int)ms) > 0 && p.revents)
		while (read(wake_pipe[0], drain, sizeof(drain)) > 0)
			;
}

/* ---- the run lease ---- */

/*
 * One daemon per journal: the `run` lease, renewed while we live. 0 held;
 * 1 another daemon has it (said); -1 failed (said).
 */
static int
dmn_lease(struct dmn *d)
{
	long pid = 0;
	int rc = store_lease_take(d->st, "run", (long long)time(NULL), &d->lease, &pid);
	char who[32] = "unknown";

	if (rc == 1) {
		if (pid > 0)
			snprintf(who, sizeof(who), "%ld", pid);
		log_error("run", "another herald run (pid %s) already uses %s; exiting", who,
		    d->cfg.state);
		return 1;
	}
	if (rc < 0 || store_lease_keep(d->st, d->lease) < 0) {
		log_error("run", "journal: %s", store_error(d->st));
		return -1;
	}
	return 0;
}

/* ---- the archive ---- */

/*
 * The press room, when archive.dir is set: rewritten at start, after each
 * send, and at the next lift of a release that went out before it (a
 * pre-briefing that reached everyone leaves no send for the lift).
 */
static void
dmn_archive(struct dmn *d)
{
	struct archive_result r;
	struct diag dg;

	d->archive_due = 0;
	if (d->cfg.archive.dir == NULL)
		return;
	diag_init(&dg, EXIT_DATAERR);
	archive_write(&d->cfg, d->st, d->cfg.archive.dir, (long long)time(NULL), &r, &dg);
	report_diag_log("archive", &dg);
	diag_free(&dg);
	if (r.end == ARCHIVE_OK)
		log_info("archive", "%zu releases in %s/: %zu files written, %zu removed",
		    r.published, d->cfg.archive.dir, r.written, r.removed);
	else
		log_error("archive", "%s/ not brought up to date; tried again after the next send",
		    d->cfg.archive.dir);
	d->archive_due = r.next_lift;
}

/* ---- configuration ---- */

static void
dmn_digests_load(struct dmn *d)
{
	schedule_free(d->digests);
	d->digests = schedule_load(&d->cfg, (long long)time(NULL));
}

/*
 * A changed http.listen restarts the endpoint: the new server first, so
 * that one which cannot start leaves the old one serving.
 */
static void
dmn_http_reload(struct dmn *d)
{
	const char *want = d->cfg.http.enabled ? d->cfg.http.listen : NULL;
	const char *have = d->http ? http_listen_addr(d->http) : NULL;
	struct http *h = NULL;

	if (want == have || (want && have && strcmp(want, have) == 0))
		return;
	if (want && (h = http_start(&d->cfg, d->secret)) == NULL) {
		log_error("run", "SIGHUP: http.listen %s cannot be served; %s%s", want,
		    have ? "still serving " : "no http endpoint", have ? have : "");
		return;
	}
	http_stop(d->http);
	d->http = h;
	http_on_outbox(h, poller_outbox, d->poller);
	if (!want)
		log_info("run", "SIGHUP: http endpoint stopped");
}

static void
dmn_reload(struct dmn *d)
{
	struct config fresh;
	struct diag dg;

	reload_flag = 0;
	diag_init(&dg, EXIT_DATAERR);
	if (config_load(config_path(d->o->config_path), &fresh, &dg) == -1) {
		report_diag_log("run", &dg);
		log_error("run", "SIGHUP: the configuration is broken; keeping the one in use");
		config_free(&fresh);
	} else if (strcmp(fresh.state, d->cfg.state) != 0) {
		log_error("run", "SIGHUP: 'state' cannot change while running (restart herald"
		    " run); keeping the configuration in use");
		config_free(&fresh);
	} else {
		config_free(&d->cfg);
		d->cfg = fresh;
		poller_reload(d->poller);
		dmn_digests_load(d);
		dmn_http_reload(d);
		dmn_archive(d);		/* archive.dir may be new, or elsewhere */
		log_info("run", "SIGHUP: configuration read again");
	}
	diag_free(&dg);
	sd_notify(0, "READY=1\nSTATUS=configuration read again");
}

/* ---- releases ---- */

static struct backoff *
dmn_backoff(struct dmn *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->nbo; i++)
		if (strcmp(d->bo[i].id, id) == 0)
			return &d->bo[i];
	return NULL;
}

static void
dmn_backoff_set(struct dmn *d, const char *id, int failed, long long now)
{
	struct backoff *b = dmn_backoff(d, id);

	if (!failed) {
		if (b)
			b->until = 0, b->step = 0;
		return;
	}
	if (b == NULL) {
		d->bo = xgrow(d->bo, &d->capbo, d->nbo + 1, sizeof(*d->bo));
		b = &d->bo[d->nbo++];
		b->id = xstrdup(id);
		b->step = 0;
	}
	b->step = b->step ? (b->step * 2 > BACKOFF_MAX ? BACKOFF_MAX : b->step * 2) :
	    BACKOFF_FIRST;
	b->until = now + b->step;
	log_warn("run", "release=%s: the relay cannot be reached; trying again in %lld s", id,
	    b->step);
}

static void
dmn_send(struct dmn *d, const char *id, long long now)
{
	struct delivery_result r;
	struct delivery_opts o;
	struct relsrc_args a;
	struct backoff *b = dmn_backoff(d, id);
	struct diag dg;
	char status[300];

	if (b && b->until > now)
		return;
	memset(&o, 0, sizeof(o));
	memset(&a, 0, sizeof(a));
	a.release_arg = id;
	a.journal_lists = 1;
	o.verbose = d->o->verbose;
	o.stop = &stop_flag;
	log_info("run", "release=%s: sending", id);
	snprintf(status, sizeof(status), "STATUS=sending %s", id);
	sd_notify(0, status);
	diag_init(&dg, EXIT_DATAERR);
	outgoing_send(&d->cfg, &a, &o, &r, &dg);
	report_diag_log("run", &dg);
	diag_free(&dg);
	if (r.release_id[0] == '\0')
		snprintf(r.release_id, sizeof(r.release_id), "%s", id);
	report_delivery_log("run", &r);
	dmn_backoff_set(d, id, r.end == DELIVERY_UNREACHABLE, (long long)time(NULL));
	if (r.end == DELIVERY_DONE || r.end == DELIVERY_CANCELLED)
		log_info("run", "release=%s: done", id);
	else if (r.end == DELIVERY_PENDING || r.end == DELIVERY_UNREACHABLE ||
	    r.end == DELIVERY_INTERRUPTED || r.end == DELIVERY_NOT_YET)
		log_info("run", "release=%s: waiting (deliveries due later or deferred, or an "
		    "unreachable relay)",
		    id);
	else
		log_warn("run", "release=%s: send ended with status %d", id,
		    delivery_exit_status(&r, NULL));
	/* Whatever may have gone out; a digest is no release of the press room. */
	if (strncmp(id, "digest.", 7) != 0 && (r.end == DELIVERY_DONE ||
	    r.end == DELIVERY_PENDING || r.end == DELIVERY_INTERRUPTED ||
	    r.end == DELIVERY_CANCELLED || r.end == DELIVERY_EXPIRED))
		dmn_archive(d);
	sd_notify(0, "STATUS=idle");
}

/* Every release with work now, one after the other; 0, or -1 on a journal error. */
static int
dmn_releases(struct dmn *d)
{
	char **ids = NULL;
	size_t n = 0, i;

	if (store_work_due(d->st, (long long)time(NULL), &ids, &n) < 0) {
		log_error("run", "journal: %s", store_error(d->st));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!stop_flag)
			dmn_send(d, ids[i], (long long)time(NULL));
		free(ids[i]);
	}
	free(ids);
	return 0;
}

/* ---- the loop ---- */

/* When something is next due: a schedule, a retry, a digest, a backoff. */
static long long
dmn_next_wake(struct dmn *d, long long now)
{
	long long next = now + IDLE_MAX, t = 0;
	size_t i;

	if (store_next_due(d->st, &t) == 0 && t > 0 && t < next)
		next = t;
	if ((t = schedule_next(d->digests)) > 0 && t < next)
		next = t;
	for (i = 0; i < d->nbo; i++)
		if (d->bo[i].until > now && d->bo[i].until < next)
			next = d->bo[i].until;
	if (d->archive_due > 0 && d->archive_due < next)
		next = d->archive_due;
	return next;
}

static void
dmn_loop(struct dmn *d)
{
	while (!stop_flag) {
		if (store_lease_lost(d->lease)) {
			log_error("run", "the journal's run lease lapsed (this process stalled for"
			    " over %d s) and another herald run may have it; exiting",
			    STORE_LEASE_TTL);
			d->lost = 1;
			break;
		}
		if (reload_flag)
			dmn_reload(d);
		if (dmn_releases(d) < 0)
			break;
		if (d->archive_due > 0 && (long long)time(NULL) >= d->archive_due)
			dmn_archive(d);
		if (!stop_flag)
			schedule_run(d->digests, &d->cfg, d->o->verbose, &stop_flag);
		if (!stop_flag)
			dmn_sleep(dmn_next_wake(d, (long long)time(NULL)));
	}
}

static int
dmn_start(struct dmn *d)
{
	struct diag dg;
	char err[512];
	int rc;

	diag_init(&dg, EXIT_DATAERR);
	if (config_load(config_path(d->o->config_path), &d->cfg, &dg) == -1) {
		report_diag_log("run", &dg);
		diag_free(&dg);
		return EXIT_CONFIG;
	}
	diag_free(&dg);
	if (journal_open(&d->cfg, 0, &d->st) != 0)
		return EXIT_CANTCREAT;
	if ((rc = dmn_lease(d)) != 0)
		return rc == 1 ? EXIT_TEMPFAIL : EXIT_CANTCREAT;
	if (token_secret_load(d->cfg.secret, d->secret, err, sizeof(err)) == -1) {
		log_error("run", "%s", err);
		return EXIT_CONFIG;
	}
	if (dmn_signals() < 0) {
		log_error("run", "cannot set up signals: %s", strerror(errno));
		return EXIT_SOFTWARE;
	}
	dmn_digests_load(d);
	if (d->cfg.http.enabled && (d->http = http_start(&d->cfg, d->secret)) == NULL)
		return EXIT_UNAVAILABLE;
	if ((d->poller = poller_start(d->o->config_path, d->o->verbose, d->secret,
	    &stop_flag)) == NULL)
		return EXIT_CANTCREAT;
	http_on_outbox(d->http, poller_outbox, d->poller);
	return 0;
}

int
daemon_run(const struct daemon_opts *o)
{
	struct dmn d;
	size_t i;
	int status, left = 0;

	memset(&d, 0, sizeof(d));
	d.o = o;
	util_pin_tz();		/* before any thread: see util.h */
	if (o->use_syslog)
		log_syslog();
	else
		log_tagged();
	if (o->verbose)
		log_set_level(LOG_LEVEL_DEBUG);
	if ((status = dmn_start(&d)) == 0) {
		log_info("run", "started (pid %ld, state %s)", (long)getpid(), d.cfg.state);
		sd_notify(0, "READY=1\nSTATUS=idle");
		dmn_archive(&d);
		dmn_loop(&d);
		sd_notify(0, "STOPPING=1");
		stop_flag = 1;	/* the loop may also end on a journal error */
		left = poller_stop(d.poller) == -1;
		log_info("run", "stopped");
		if (d.lost)
			status = EXIT_TEMPFAIL;
	}
	http_stop(d.http);
	schedule_free(d.digests);
	for (i = 0; i < d.nbo; i++)
		free(d.bo[i].id);
	free(d.bo);
	store_lease_drop(d.st, d.lease);
	store_close(d.st);
	explicit_bzero(d.secret, sizeof(d.secret));
	config_free(&d.cfg);
	/*
	 * A mailbox thread still stuck on its server: exit() would tear the
	 * libraries (GnuTLS) down under it. What it had not recorded is
	 * in flight, as after a crash; its transaction rolls back.
	 */
	if (left)
		_exit(status);
	return status;
}
