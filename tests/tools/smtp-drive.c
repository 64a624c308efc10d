/*
 * smtp-drive - sends messages through smtp.c and prints each outcome, for
 * the integration tests and the throughput benchmark.
 *
 *   smtp-drive [-u URL] [-t required|opportunistic|none] [-a CA_FILE]
 *              [-U USER] [-e HELO] [-c CONNECTIONS] [-T TIMEOUT]
 *              [-n COUNT] [-s SIZE] [-f FROM] [-q] [RCPT...]
 *
 * The recipients are the arguments, or else the lines of stdin. COUNT
 * messages (default: one per recipient) of about SIZE bytes go to the
 * recipients in turn. The password comes from $SMTP_DRIVE_PASSWORD, never
 * from the command line. Each outcome is one line on stdout:
 *
 *   rcpt TAB OK|TEMPFAIL|PERMFAIL TAB cause TAB code TAB enhanced TAB text
 *
 * (-q: none); a summary with the rate goes to stderr. Exit 0 when every
 * message was sent, 1 when any was not, 64 on a usage error.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtp.h"
#include "util.h"

struct tally {
	char **rcpts;
	int quiet;
	unsigned long done, ok, temp, perm;
};

static const char *const result_names[] = { "OK", "TEMPFAIL", "PERMFAIL" };
static const char *const cause_names[] = { "REPLY", "CONNECT", "LOST", "AUTH", "TLS" };

static void
usage(void)
{
	fputs("usage: smtp-drive [-u URL] [-t required|opportunistic|none] [-a CA_FILE]\n"
	    "                  [-U USER] [-e HELO] [-c CONNECTIONS] [-T TIMEOUT]\n"
	    "                  [-n COUNT] [-s SIZE] [-f FROM] [-q] [RCPT...]\n", stderr);
	exit(64);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_done(void *arg, void *cookie, const struct smtp_reply *r)
{
	struct tally *t = arg;
	const char *rcpt = t->rcpts[(uintptr_t)cookie];

	t->done++;
	if (r->result == SMTP_OK)
		t->ok++;
	else if (r->result == SMTP_TEMPFAIL)
		t->temp++;
	else
		t->perm++;
	if (!t->quiet)
		printf("%s\t%s\t%s\t%d\t%s\t%s\n", rcpt, result_names[r->result],
		    cause_names[r->cause], r->code, r->enhanced, r->text);
}

/* A plain message of about `size` bytes; its body starts with a dot to stuff. */
static char *
make_message(const char *from, const char *rcpt, unsigned long n, const struct buf *body,
    size_t *len)
{
	struct buf b = BUF_INIT;

	buf_grow(&b, body->len + 512);
	buf_addf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: smtp-drive %lu\r\n"
	    "Message-ID: <%lu.smtp-drive@localhost>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n", from, rcpt, n, n);
	buf_add(&b, body->data, body->len);
	*len = b.len;
	return buf_detach(&b);
}

/* The body, made once: the benchmark measures smtp.c, not this program. */
static void
make_body(struct buf *b, size_t size)
{
	size_t i;

	buf_adds(b, ".a line that starts with a dot\r\n");
	while (b->len + 78 + 200 <= size) {
		for (i = 0; i < 76; i++)
			buf_addc(b, (char)('a' + (b->len + i) % 26));
		buf_adds(b, "\r\n");
	}
}

static void
read_rcpts(int argc, char **argv, char ***rcpts, size_t *n)
{
	size_t cap = 0;
	char line[1024];
	int i;

	*rcpts = NULL;
	*n = 0;
	for (i = 0; i < argc; i++) {
		*rcpts = xgrow(*rcpts, &cap, *n + 1, sizeof(**rcpts));
		(*rcpts)[(*n)++] = xstrdup(argv[i]);
	}
	if (argc > 0)
		return;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		*rcpts = xgrow(*rcpts, &cap, *n + 1, sizeof(**rcpts));
		(*rcpts)[(*n)++] = xstrdup(line);
	}
}

int
main(int argc, char **argv)
{
	struct smtp_opts o = { .url = "smtp://127.0.0.1:25", .tls = TLS_NONE,
	    .helo = "smtp-drive.localhost", .connections = 1, .timeout = 10 };
	const char *from = "bounces@smtp-drive.localhost";
	struct tally t = { 0 };
	struct buf body = BUF_INIT;
	unsigned long count = 0, next = 0;
	size_t size = 1000, nrcpts, len, i;
	struct smtp *s;
	double t0, secs;
	char *msg;
	int ch;

	while ((ch = getopt(argc, argv, "u:t:a:U:e:c:T:n:s:f:q")) != -1) {
		switch (ch) {
		case 'u': o.url = optarg; break;
		case 't':
			if (strcmp(optarg, "required") == 0)
				o.tls = TLS_REQUIRED;
			else if (strcmp(optarg, "opportunistic") == 0)
				o.tls = TLS_OPPORTUNISTIC;
			else if (strcmp(optarg, "none") == 0)
				o.tls = TLS_NONE;
			else
				usage();
			break;
		case 'a': o.ca_file = optarg; break;
		case 'U': o.username = optarg; break;
		case 'e': o.helo = optarg; break;
		case 'c': o.connections = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o.timeout = strtol(optarg, NULL, 10); break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		case 'f': from = optarg; break;
		case 'q': t.quiet = 1; break;
		default: usage();
		}
	}
	if (o.connections == 0)
		usage();
	o.password = getenv("SMTP_DRIVE_PASSWORD");
	read_rcpts(argc - optind, argv + optind, &t.rcpts, &nrcpts);
	if (nrcpts == 0)
		usage();
	if (count == 0)
		count = nrcpts;
	if ((s = smtp_new(&o)) == NULL) {
		fputs("smtp-drive: cannot set up libcurl\n", stderr);
		return 1;
	}
	make_body(&body, size);
	t0 = now();
	while (next < count || smtp_in_flight(s) > 0) {
		while (next < count && smtp_idle(s) > 0) {
			i = next % nrcpts;
			msg = make_message(from, t.rcpts[i], next, &body, &len);
			if (smtp_submit(s, from, t.rcpts[i], msg, len, (void *)(uintptr_t)i) != 0)
				fatalx("smtp_submit refused with a connection idle");
			next++;
		}
		smtp_poll(s, 1000, on_done, &t);
	}
	secs = now() - t0;
	smtp_free(s);
	fflush(stdout);
	fprintf(stderr, "smtp-drive: %lu messages in %.3f s (%.0f msg/s): ok=%lu tempfail=%lu permfail=%lu\n",
	    t.done, secs, secs > 0 ? (double)t.done / secs : 0.0, t.ok, t.temp, t.perm);
	buf_free(&body);
	for (i = 0; i < nrcpts; i++)
		free(t.rcpts[i]);
	free(t.rcpts);
	return t.ok == t.done ? 0 : 1;
}
