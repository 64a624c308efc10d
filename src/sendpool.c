/*
 * sendpool.c - sending threads for one relay.
 *
 * One mutex guards every queue: the caller's thread hands jobs to a
 * thread's inbox, the threads hand finished jobs to one shared outbox.
 * A thread with nothing in flight sleeps on its condition variable; one
 * with transfers running sleeps in curl_multi_poll, and smtp_wakeup()
 * brings it out when a job arrives. Nobody spins.
 */
#include "sendpool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* A thread in the middle of libcurl still looks at its inbox this often. */
#define SENDPOOL_POLL_MS 1000

struct jobs {
	struct sendjob **v;
	size_t n, cap;
};

struct worker {
	struct sendpool *pool;
	unsigned index;
	pthread_t tid;
	int started;
	struct smtp *smtp;
	void *state;
	unsigned idle;		/* free connections, as the caller's thread counts them */
	struct jobs inbox;	/* under pool->mu */
	pthread_cond_t cv;	/* the thread waits here when nothing is in flight */
	int on_cv;		/* under pool->mu: it is waiting there, not in libcurl */
	int quit;		/* under pool->mu */
	struct jobs finished;	/* the thread's own, between polls */
};

struct sendpool {
	struct sendpool_ops ops;
	pthread_mutex_t mu;
	pthread_cond_t done_cv;	/* the caller waits here */
	struct jobs done;	/* under mu */
	struct jobs out;	/* the caller's: what sendpool_wait returned */
	struct worker *w;
	unsigned nw;
	unsigned in_flight;	/* the caller's count */
	unsigned linger_want;	/* sendpool_linger */
	long linger_us;
	size_t waiting_for;	/* under mu: the caller sleeps until done has this many; 0 awake */
};

static void
jobs_push(struct jobs *q, struct sendjob *j)
{
	q->v = xgrow(q->v, &q->cap, q->n + 1, sizeof(*q->v));
	q->v[q->n++] = j;
}

static void
jobs_swap(struct jobs *a, struct jobs *b)
{
	struct jobs t = *a;

	*a = *b;
	*b = t;
}

static void
lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		fatalx("sendpool: pthread_mutex_lock failed");
}

static void
unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		fatalx("sendpool: pthread_mutex_unlock failed");
}

/*
 * One connection a thread: libcurl 7.88 waits for the reply to a final
 * dot without serving the multi handle's other connections, so two
 * connections on one thread take turns at the relay's slowest moment. A
 * relay that answers the dot after 100 ms (it writes the message to disk
 * first) got 38 messages a second from 8 connections on 4 threads, and
 * 74 on 8. On an instant local sink the extra threads cost about 5%
 * (scripts/bench-send). Past SENDPOOL_MAX_THREADS connections share.
 */
#define SENDPOOL_MAX_THREADS 64

unsigned
sendpool_threads(unsigned connections)
{
	if (connections == 0)
		return 1;
	return connections < SENDPOOL_MAX_THREADS ? connections : SENDPOOL_MAX_THREADS;
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
worker_done(void *arg, void *cookie, const struct smtp_reply *r)
{
	struct worker *w = arg;
	struct sendjob *j = cookie;

	j->reply = *r;
	j->finished_us = now_us();
	jobs_push(&w->finished, j);
}

/* The finished jobs of one poll, to the caller in one go. */
static void
worker_hand_back(struct worker *w)
{
	struct sendpool *p = w->pool;
	size_t i;

	if (w->finished.n == 0)
		return;
	lock(&p->mu);
	for (i = 0; i < w->finished.n; i++)
		jobs_push(&p->done, w->finished.v[i]);
	/* Woken for what it waits for, not for each job on the way there. */
	if (p->waiting_for > 0 && p->done.n >= p->waiting_for)
		pthread_cond_signal(&p->done_cv);
	unlock(&p->mu);
	w->finished.n = 0;
}

static void
worker_start_job(struct worker *w, struct sendjob *j)
{
	if (w->pool->ops.prepare(w->state, j) == -1) {
		mbuf_free(&j->msg);
		free(j->from);
		j->from = NULL;
		j->failed = 1;
		j->finished_us = now_us();
		jobs_push(&w->finished, j);
		return;
	}
	/* The message belongs to the connection now. */
	if (smtp_submit_parts(w->smtp, j->from, j->rcpt, &j->msg, j) == -1)
		fatalx("sendpool: a job for a thread without a free connection");
	free(j->from);
	j->from = NULL;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct sendpool *p = w->pool;
	struct jobs take = { NULL, 0, 0 };
	size_t i;
	int quit;

	for (;;) {
		lock(&p->mu);
		while (w->inbox.n == 0 && !w->quit && smtp_in_flight(w->smtp) == 0) {
			w->on_cv = 1;
			pthread_cond_wait(&w->cv, &p->mu);
			w->on_cv = 0;
		}
		jobs_swap(&take, &w->inbox);
		quit = w->quit;
		unlock(&p->mu);
		for (i = 0; i < take.n; i++)
			worker_start_job(w, take.v[i]);
		take.n = 0;
		worker_hand_back(w);
		if (smtp_in_flight(w->smtp) == 0) {
			if (quit)
				break;
			continue;
		}
		smtp_poll(w->smtp, SENDPOOL_POLL_MS, worker_done, w);
		worker_hand_back(w);
	}
	free(take.v);
	return NULL;
}

static void
pool_stop(struct sendpool *p)
{
	unsigned i;

	lock(&p->mu);
	for (i = 0; i < p->nw; i++) {
		p->w[i].quit = 1;
		pthread_cond_signal(&p->w[i].cv);
	}
	unlock(&p->mu);
	for (i = 0; i < p->nw; i++) {
		if (!p->w[i].started)
			continue;
		smtp_wakeup(p->w[i].smtp);
		pthread_join(p->w[i].tid, NULL);
		p->w[i].started = 0;
	}
}

void
sendpool_free(struct sendpool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pool_stop(p);
	for (i = 0; i < p->nw; i++) {
		struct worker *w = &p->w[i];
		if (w->state && p->ops.free)
			p->ops.free(w->state);
		smtp_free(w->smtp);
		pthread_cond_destroy(&w->cv);
		free(w->inbox.v);
		free(w->finished.v);
	}
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
	free(p->done.v);
	free(p->out.v);
	free(p->w);
	free(p);
}

struct sendpool *
sendpool_new(const struct smtp_opts *o, unsigned threads, const struct sendpool_ops *ops)
{
	struct sendpool *p = xcalloc(1, sizeof(*p));
	unsigned conns = o->connections ? o->connections : 1, i;
	struct smtp_opts so = *o;
	pthread_condattr_t ca;
	sigset_t all, old;
	int bad = 0;

	if (threads == 0)
		threads = 1;
	if (threads > conns)
		threads = conns;
	p->ops = *ops;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	p->w = xcalloc(threads, sizeof(*p->w));
	p->nw = threads;
	for (i = 0; i < threads; i++) {
		struct worker *w = &p->w[i];
		w->pool = p;
		w->index = i;
		pthread_cond_init(&w->cv, NULL);
		/* The connections shared out as evenly as they go. */
		so.connections = conns / threads + (i < conns % threads);
		w->idle = so.connections;
		if ((w->smtp = smtp_new(&so)) == NULL)
			bad = 1;
	}
	if (bad) {
		sendpool_free(p);
		return NULL;
	}
	for (i = 0; i < threads; i++)
		p->w[i].state = ops->make ? ops->make(ops->arg, i) : NULL;
	/* Signals are the caller's thread's business: the threads never take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < threads; i++) {
		errno = pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]);
		if (errno != 0)
			fatalx("sendpool: cannot start a thread: %s", strerror(errno));
		p->w[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

unsigned
sendpool_idle(const struct sendpool *p)
{
	unsigned i, n = 0;

	for (i = 0; i < p->nw; i++)
		n += p->w[i].idle;
	return n;
}

unsigned
sendpool_in_flight(const struct sendpool *p)
{
	return p->in_flight;
}

void
sendpool_submit(struct sendpool *p, struct sendjob *j)
{
	struct worker *w = NULL;
	unsigned i;
	int wake;

	/* The thread with the most free connections: the load spreads evenly. */
	for (i = 0; i < p->nw; i++)
		if (p->w[i].idle > 0 && (w == NULL || p->w[i].idle > w->idle))
			w = &p->w[i];
	if (w == NULL)
		fatalx("sendpool: a job without a free connection");
	w->idle--;
	p->in_flight++;
	j->worker = w->index;
	j->failed = 0;
	memset(&j->msg, 0, sizeof(j->msg));
	j->from = j->message_id = NULL;
	memset(&j->reply, 0, sizeof(j->reply));
	lock(&p->mu);
	jobs_push(&w->inbox, j);
	/* A thread on its condition variable needs no more; one in libcurl's poll does. */
	wake = !w->on_cv;
	pthread_cond_signal(&w->cv);
	unlock(&p->mu);
	if (wake)
		smtp_wakeup(w->smtp);
}

static void
deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void
deadline_after_us(struct timespec *ts, long us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += us / 1000000;
	ts->tv_nsec += (us % 1000000) * 1000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void
sendpool_linger(struct sendpool *p, unsigned want, long us)
{
	p->linger_want = want;
	p->linger_us = us;
}

size_t
sendpool_wait(struct sendpool *p, int timeout_ms, struct sendjob ***done)
{
	struct timespec until;
	size_t i;
	int rc = 0;

	p->out.n = 0;
	if (timeout_ms > 0)
		deadline_after(&until, timeout_ms);
	lock(&p->mu);
	p->waiting_for = 1;
	while (p->done.n == 0 && timeout_ms > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p->done_cv, &p->mu, &until);
	if (p->done.n > 0 && p->done.n < p->linger_want && p->linger_want <= p->in_flight) {
		/* A few more, so that one transaction records them together. */
		rc = 0;
		p->waiting_for = p->linger_want;
		deadline_after_us(&until, p->linger_us);
		while (p->done.n < p->linger_want && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&p->done_cv, &p->mu, &until);
	}
	p->waiting_for = 0;
	jobs_swap(&p->out, &p->done);
	unlock(&p->mu);
	for (i = 0; i < p->out.n; i++) {
		p->w[p->out.v[i]->worker].idle++;
		p->in_flight--;
	}
	*done = p->out.v;
	return p->out.n;
}
