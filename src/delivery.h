/*
 * delivery.h - the sending engine. The rows of one release row of the
 * journal are claimed a batch at a time, rendered by a source on the
 * per-connection sending threads, rate-limited, handed to the relay, and
 * every outcome recorded; rows left sending by a process that is gone are
 * reclaimed first. The engine knows nothing of release files or digests:
 * a source puts the rows into the journal and renders each one
 * (release_send.c for a release file, digest.c for a digest). It prints
 * nothing: it logs through log.c and returns a delivery_result, which the
 * command line turns into words and an exit status and the daemon into a
 * log line and a retry time.
 */
#ifndef HERALD_DELIVERY_H
#define HERALD_DELIVERY_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "mbuf.h"

struct diag;
struct store;
struct store_row;

/* Why a run ended; the command line's exit status follows from it. */
enum delivery_end {
	DELIVERY_DONE,		/* every row settled: sent, failed, skipped */
	DELIVERY_PENDING,	/* rows wait: deferred until next_attempt, or queued */
	DELIVERY_INTERRUPTED,	/* *stop was set; what was not in flight stays queued */
	DELIVERY_CANCELLED,	/* cancelled elsewhere while sending; the unsent failed */
	DELIVERY_NOT_YET,	/* under embargo until `until`; nothing sent */
	DELIVERY_EXPIRED,	/* expired at `until`; the unsent failed as expired */
	DELIVERY_UNREACHABLE,	/* the relay cannot be reached, or TLS with it failed */
	DELIVERY_LOGIN_REFUSED,	/* the relay refused the login */
	DELIVERY_NOBODY,	/* no recipient, and nobody ever got it: nothing marked done */
	DELIVERY_INVALID,	/* invalid input: the errors are in the diag */
	DELIVERY_REFUSED,	/* the journal says no: cancelled, unknown, already done */
	DELIVERY_USAGE,		/* the request cannot be carried out as asked */
	DELIVERY_CONFIG,	/* the configuration cannot be used (secret, key, password) */
	DELIVERY_NO_JOURNAL,	/* the journal or the owner lock cannot be opened */
	DELIVERY_JOURNAL,	/* the journal could not be read or written */
};

struct delivery_result {
	enum delivery_end end;
	char release_id[256];	/* the journal's id of what was sent, once known */
	/* The journal's counts at the end; `counted` is 0 when it stopped before. */
	int counted;
	size_t sent, failed, skipped, queued, deferred;
	long long next_attempt;	/* the earliest deferred row's retry (0: none) */
	long long until;	/* NOT_YET: the embargo; EXPIRED: the expiry */
	size_t expired;		/* EXPIRED: the deliveries failed as expired */
	size_t reclaimed;	/* rows left sending by a process that is gone, sent again */
	char detail[600];	/* the cause in words: the relay's reply, a path, a name */
};

/* How far a run is, for a progress display. */
struct delivery_progress {
	long long start_ms, last_ms;
	size_t total, sent, deferred, failed, skipped, requeued;
	double rate;			/* messages sent per second so far */
};

struct delivery_opts {
	int verbose;
	volatile sig_atomic_t *stop;	/* set by a signal handler: finish what is in flight */
	/*
	 * Called on the caller's thread about ten times a second while
	 * sending, and once with final = 1 at the end; NULL: none (a log
	 * line every 5 s instead).
	 */
	void (*on_progress)(void *arg, const struct delivery_progress *p, int final);
	void *progress_arg;
};

/* What the engine shares with a source's operations, filled as the run goes on. */
struct delivery_ctx {
	const struct config *cfg;
	const struct delivery_opts *o;
	struct store *st;		/* open, and ours, from prepare on */
	const unsigned char *secret;	/* the tokens' key, from expand on */
	long long relrow;		/* set by prepare */
	struct delivery_result *r;	/* end and detail, when an operation fails */
	struct diag *d;			/* input errors, printed by the caller */
};

/*
 * A source of rows. Each operation returns 0, or -1 after setting
 * ctx->r->end (and detail, or errors in ctx->d). NULL operations are
 * skipped. They run on the caller's thread, in this order, except make,
 * free and render, which the sending threads call, and expand_more, which
 * runs between the sends.
 */
struct delivery_source {
	/* Before the journal is opened: the inputs are valid. */
	int (*check)(void *arg, struct delivery_ctx *ctx);
	/* The release row: recorded or found; sets ctx->relrow and r->release_id. */
	int (*prepare)(void *arg, struct delivery_ctx *ctx);
	/* The rows into the journal (a release's lists), or the first batch of them. */
	int (*expand)(void *arg, struct delivery_ctx *ctx);
	/*
	 * The next batch of rows, each batch a transaction, called by the
	 * loop while the rows already in are sent: *added rows added,
	 * *finished once every row is in. NULL: expand put them all in.
	 * Until it finishes, the run neither ends as done nor marks the
	 * release done.
	 */
	int (*expand_more)(void *arg, struct delivery_ctx *ctx, size_t *added, int *finished);
	/*
	 * Whether row's message may go out at now: 1 yes; 0 not yet, until
	 * *until; -1 never again, since *until (every unsent row fails as
	 * expired).
	 */
	int (*window)(void *arg, const struct store_row *row, long long now, long long *until);
	/* A sending thread's own rendering state, and its end (on the caller's thread). */
	void *(*make)(void *arg);
	void (*free)(void *state);
	/*
	 * One row's message into msg (empty; the engine frees it; what it
	 * borrows is the source's until the run ends) and *message_id
	 * (without <>; the engine frees it), or -1 with errors in d, the
	 * thread's own, and nothing sent.
	 */
	int (*render)(void *state, const struct store_row *row, struct mbuf *msg,
	    char **message_id, struct diag *d);
	void *arg;
};

/* Sets r->end and, from fmt, r->detail: how a source's operation says why it failed. */
void delivery_fail(struct delivery_result *r, enum delivery_end end, const char *fmt, ...)
    HERALD_PRINTF(3, 4);

/*
 * Runs src to the end: every row settled, or a reason to stop (see
 * delivery_end). Fills *r (zeroed first); input errors go to d, which the
 * caller prints.
 */
void delivery_run(const struct config *cfg, const struct delivery_source *src,
    const struct delivery_opts *o, struct delivery_result *r, struct diag *d);

/*
 * The exit status (sysexits) that r means for `herald send` and `herald
 * digest`: 0 done (or cancelled); 75 pending, interrupted, under embargo;
 * 69 unreachable; 78 login refused or configuration; 65 invalid, refused,
 * expired, nobody to send to; 64 usage; 73 no journal; 70 a journal error. d gives the status
 * of input errors.
 */
int delivery_exit_status(const struct delivery_result *r, const struct diag *d);

#endif
