/*
 * cmd_classify.c - herald classify [FILE]: what herald makes of one
 * message, one line per finding. It reads the message and the config and
 * touches nothing else.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "cmd.h"
#include "config.h"
#include "diag.h"
#include "join.h"
#include "journal.h"
#include "mailbox.h"
#include "token.h"
#include "util.h"

/* A message larger than this is not a bounce or a reply worth reading whole. */
#define CLASSIFY_MAX (16u << 20)

static int
read_all(FILE *f, char **out, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > CLASSIFY_MAX)
			n = CLASSIFY_MAX - b.len;
		buf_add(&b, chunk, n);
		if (b.len >= CLASSIFY_MAX)
			break;
	}
	if (ferror(f)) {
		buf_free(&b);
		return -1;
	}
	*len = b.len;
	*out = b.data ? buf_detach(&b) : xstrdup("");
	return 0;
}

/*
 * The journal and the secret, when both exist already: then a request's
 * token can be verified and its list named. Never creates either.
 */
static int
classify_journal(const struct config *c, struct store **st,
    unsigned char secret[TOKEN_SECRET_LEN])
{
	char err[512];

	*st = NULL;
	if (access(c->state, F_OK) != 0 || access(c->secret, F_OK) != 0)
		return -1;
	if (token_secret_load(c->secret, secret, err, sizeof(err)) == -1 ||
	    journal_open(c, 1, st) != 0) {
		store_close(*st);
		*st = NULL;
		return -1;
	}
	return 0;
}

/* "LIST", "*" for every list (a confirmed request), or "-": nothing verified names one. */
static void
print_unsubscribe(const struct cls_result *r, const struct cls_finding *f, struct store *st,
    const struct lookup_key *k)
{
	char *address = NULL, *list = NULL;

	if (st && mailbox_unsub_target(st, k, r, &address, &list) == 0) {
		printf("unsubscribe\t%s\t%s\n", util_unctrl(address), list ? list : "*");
	} else {
		address = xstrdup(f->address[0] ? f->address : "-");
		printf("unsubscribe\t%s\t-\n", util_unctrl(address));
	}
	free(address);
	free(list);
}

/*
 * "subscribe ADDRESS LIST": the list a confirmation's token names, else
 * the list subscribe+LIST@ asks for, else "-".
 */
static void
print_subscribe(const struct cls_result *r, const struct cls_finding *f, struct store *st,
    const struct config *c, const struct lookup_key *k)
{
	struct store_join j = { 0 };
	char *list = NULL, *address, *name;
	int rc, expired;

	rc = c ? join_target(st, c, k->secret, r, k->now, &j, &list, &expired) : 1;
	address = xstrdup(f->address[0] ? f->address : "-");
	name = xstrdup(rc == 0 ? j.list : rc == 2 ? list : "-");
	printf("subscribe\t%s\t%s\n", util_unctrl(address), util_unctrl(name));
	free(address);
	free(name);
	store_join_clear(&j);
	free(list);
}

/* A bounce that names no address: the delivery its VERP token stands for, when verified. */
static int
bounce_named(const struct cls_result *r, struct store *st, const struct lookup_key *k,
    char *out, size_t size)
{
	char *address = NULL;
	int found = st && mailbox_bounce_target(st, k, r, &address) == 0;

	if (found)
		snprintf(out, size, "%s", address);
	free(address);
	return found;
}

/* The lines printed: none for a bounce that names nobody. */
static int
print_findings(const struct cls_result *r, struct store *st, const struct config *c,
    const struct lookup_key *k)
{
	int lines = 0;

	const struct cls_finding *f;
	char address[sizeof(f->address)], status[sizeof(f->status)];
	size_t i;

	for (i = 0; i < r->n; i++) {
		f = &r->f[i];
		switch (f->kind) {
		case CLS_BOUNCE:
			if (f->address[0] == '\0' && !bounce_named(r, st, k, address, sizeof(address)))
				break;	/* an address herald cannot name makes no line */
			/* Both are the report's text: no escape reaches the terminal. */
			if (f->address[0])
				snprintf(address, sizeof(address), "%s", f->address);
			snprintf(status, sizeof(status), "%s", f->status[0] ? f->status : "-");
			printf("bounce\t%s\t%s\t%s\n", f->hard ? "hard" : "soft",
			    util_unctrl(address), util_unctrl(status));
			lines++;
			break;
		case CLS_UNSUBSCRIBE:
			print_unsubscribe(r, f, st, k);
			lines++;
			break;
		case CLS_SUBSCRIBE:
			print_subscribe(r, f, st, c, k);
			lines++;
			break;
		case CLS_AUTOREPLY:
		case CLS_HUMAN:
			printf("%s\n", cls_kind_name(f->kind));
			lines++;
			break;
		}
	}
	return lines;
}

int
cmd_classify(const struct global_opts *g, int argc, char **argv)
{
	const char *path, *file = "-";
	struct cls_opts co = { NULL, NULL, NULL, NULL };
	struct cls_result r;
	struct config cfg;
	struct diag d;
	struct store *st = NULL;
	unsigned char secret[TOKEN_SECRET_LEN];
	int c, have_cfg = 0, status = 0;
	char *msg = NULL;
	size_t len = 0;
	FILE *f;

	if ((c = cmd_help_only(argc, argv)) >= 0)
		return c;
	if (argc - optind > 1) {
		fprintf(stderr, "usage: herald classify [FILE]\n");
		return EXIT_USAGE;
	}
	if (optind < argc)
		file = argv[optind];
	diag_init(&d, EXIT_DATAERR);
	/* Without a config the tokens cannot be recognised, but the rest can. */
	path = config_path(g->config);
	if (g->config || access(path, F_OK) == 0) {
		if (config_load(path, &cfg, &d) == -1) {
			diag_print(&d);
			diag_free(&d);
			return EXIT_CONFIG;
		}
		have_cfg = 1;
		classify_journal(&cfg, &st, secret);
		co.bounce_address = cfg.sender.bounce_address;
		co.unsubscribe_address = cfg.sender.unsubscribe_address;
		co.msgid_domain = cfg.sender.domain;
		co.subscribe_address = cfg.sender.subscribe_address;
	}
	f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	if (f == NULL) {
		fprintf(stderr, "herald: %s: %s\n", file, strerror(errno));
		status = EXIT_NOINPUT;
		goto out;
	}
	if (read_all(f, &msg, &len) == -1) {
		fprintf(stderr, "herald: %s: cannot read: %s\n", file, strerror(errno));
		status = EXIT_IOERR;
	} else {
		struct lookup_key k = { secret, (long long)time(NULL),
		    have_cfg ? cfg.tokens.max_age : 0 };

		classify(msg, len, &co, &r);
		if (print_findings(&r, st, have_cfg ? &cfg : NULL, &k) == 0)
			fprintf(stderr, "herald: %s: a bounce that names no recipient\n",
			    strcmp(file, "-") == 0 ? "standard input" : file);
		cls_result_free(&r);
	}
	if (f != stdin)
		fclose(f);
out:
	free(msg);
	store_close(st);
	explicit_bzero(secret, sizeof(secret));
	if (have_cfg)
		config_free(&cfg);
	diag_free(&d);
	return status;
}
