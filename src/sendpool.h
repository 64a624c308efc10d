/*
 * sendpool.h - sending threads for one relay.
 *
 * Each thread owns a libcurl multi handle with its share of the
 * connections and prepares (renders) every message it sends, so that
 * rendering and SMTP use every core while the caller keeps the journal on
 * its own thread. It also means a connection that libcurl blocks on (it
 * reads the reply to a final dot synchronously) holds up only its own
 * thread's share of the connections.
 *
 * The caller decides what goes out and when: it submits a job only while
 * sendpool_idle() says a connection is free, and learns each job's outcome
 * from sendpool_wait(). Jobs are the caller's memory; the pool only
 * borrows them between submit and wait.
 */
#ifndef HERALD_SENDPOOL_H
#define HERALD_SENDPOOL_H

#include <stddef.h>

#include "smtp.h"

struct sendjob {
	/* The caller's. */
	void *data;
	const char *rcpt;	/* the envelope recipient */
	/* Set by the prepare callback, on the sending thread. */
	struct mbuf msg;	/* the message; the pool frees it */
	char *from;		/* the envelope sender; the pool frees it */
	char *message_id;	/* the caller's to free */
	/* The outcome. */
	int failed;		/* 1: prepare failed, nothing was sent */
	long long finished_us;	/* when the thread had it (CLOCK_MONOTONIC, microseconds) */
	struct smtp_reply reply;
	unsigned worker;	/* the pool's */
};

struct sendpool_ops {
	/* Per-thread state for thread i, made and freed on the caller's thread. */
	void *(*make)(void *arg, unsigned i);
	void (*free)(void *state);
	/* Fills msg, len, from and message_id; -1 when the message cannot be made. */
	int (*prepare)(void *state, struct sendjob *j);
	void *arg;
};

struct sendpool;

/* `threads` of them share o->connections; NULL when libcurl cannot be set up. */
struct sendpool *sendpool_new(const struct smtp_opts *o, unsigned threads,
    const struct sendpool_ops *ops);
/* Asks the threads to finish what is in flight, and waits for them. */
void sendpool_free(struct sendpool *p);

unsigned sendpool_idle(const struct sendpool *p);
unsigned sendpool_in_flight(const struct sendpool *p);

/* Hands j to a thread with a free connection; fatal when there is none. */
void sendpool_submit(struct sendpool *p, struct sendjob *j);

/*
 * The jobs finished since the last call, waiting up to timeout_ms for the
 * first. *done points into the pool and is valid until the next call.
 */
size_t sendpool_wait(struct sendpool *p, int timeout_ms, struct sendjob ***done);

/*
 * Once a job has finished, sendpool_wait waits up to `us` more until
 * `want` have (when that many are in flight), so that their outcomes are
 * recorded together. 0: it returns at the first.
 */
void sendpool_linger(struct sendpool *p, unsigned want, long us);

/* Threads to start for `connections`: one a connection, up to 64. */
unsigned sendpool_threads(unsigned connections);

#endif
