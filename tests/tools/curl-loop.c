/*
 * curl-loop - the ceiling of plain libcurl for the send benchmark: THREADS
 * threads, each one reused easy handle calling curl_easy_perform on one
 * fixed message, COUNT messages in all. No rendering, no journal, no
 * multi interface: what a sender built on libcurl can do at best here.
 *
 *   curl-loop -u URL -m MESSAGE_FILE [-c THREADS] [-n COUNT] [-f FROM] RCPT
 *
 * The message file is sent as it is (LF line ends become CRLF once, at
 * load). One line goes to stderr:
 *
 *   curl-loop: N messages in S s (R msg/s), CPU C us/msg: ok=N failed=N
 *
 * Exit 0 when every message was sent, 1 when any was not, 64 on a usage error.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct loop {
	const char *url, *from, *rcpt;
	const char *msg;
	size_t len;
	unsigned long count;
	atomic_ulong next, ok, failed;
};

struct upload {
	const char *p;
	size_t left;
};

static void
usage(void)
{
	fputs("usage: curl-loop -u URL -m MESSAGE_FILE [-c THREADS] [-n COUNT] [-f FROM] RCPT\n",
	    stderr);
	exit(64);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static void *
worker(void *arg)
{
	struct loop *l = arg;
	struct curl_slist *rcpts;
	struct upload u;
	CURL *c;

	if ((c = curl_easy_init()) == NULL)
		fatalx("curl-loop: curl_easy_init failed");
	rcpts = curl_slist_append(NULL, l->rcpt);
	curl_easy_setopt(c, CURLOPT_URL, l->url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, l->from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	while (atomic_fetch_add(&l->next, 1) < l->count) {
		u.p = l->msg;
		u.left = l->len;
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)l->len);
		if (curl_easy_perform(c) == CURLE_OK)
			atomic_fetch_add(&l->ok, 1);
		else
			atomic_fetch_add(&l->failed, 1);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpts);
	return NULL;
}

/* The file's bytes with every bare LF made CRLF; the caller owns the result. */
static char *
load_message(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	FILE *f;
	int ch, prev = 0;

	if ((f = fopen(path, "r")) == NULL)
		fatalx("curl-loop: %s: cannot open", path);
	while ((ch = getc(f)) != EOF) {
		if (ch == '\n' && prev != '\r')
			buf_addc(&b, '\r');
		buf_addc(&b, (char)ch);
		prev = ch;
	}
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

int
main(int argc, char **argv)
{
	struct loop l = { .from = "bench@bench.example", .count = 1000 };
	const char *file = NULL;
	unsigned long threads = 8, i;
	struct rusage ru;
	pthread_t *tids;
	double t0, secs, cpu;
	char *msg;
	int ch;

	while ((ch = getopt(argc, argv, "u:m:c:n:f:")) != -1) {
		switch (ch) {
		case 'u': l.url = optarg; break;
		case 'm': file = optarg; break;
		case 'c': threads = strtoul(optarg, NULL, 10); break;
		case 'n': l.count = strtoul(optarg, NULL, 10); break;
		case 'f': l.from = optarg; break;
		default: usage();
		}
	}
	if (l.url == NULL || file == NULL || threads == 0 || optind + 1 != argc)
		usage();
	l.rcpt = argv[optind];
	msg = load_message(file, &l.len);
	l.msg = msg;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	tids = xcalloc(threads, sizeof(*tids));
	t0 = now();
	for (i = 0; i < threads; i++)
		if (pthread_create(&tids[i], NULL, worker, &l) != 0)
			fatalx("curl-loop: pthread_create failed");
	for (i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	secs = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr, "curl-loop: %lu messages in %.3f s (%.0f msg/s), CPU %.0f us/msg: "
	    "ok=%lu failed=%lu\n", l.count, secs, secs > 0 ? (double)l.count / secs : 0.0,
	    l.count ? cpu * 1e6 / (double)l.count : 0.0, (unsigned long)l.ok,
	    (unsigned long)l.failed);
	free(tids);
	free(msg);
	curl_global_cleanup();
	return l.failed == 0 ? 0 : 1;
}
