/*
 * cmd_preview.c - herald preview: the exact message one subscriber gets.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "attach.h"
#include "cmd.h"
#include "outbox.h"
#include "smtp.h"
#include "delivery.h"
#include "digest.h"
#include "config.h"
#include "dkim.h"
#include "list.h"
#include "project.h"
#include "release.h"
#include "render.h"
#include "timefmt.h"
#include "tmplfile.h"

struct preview {
	const char *release_arg, *list_id, *to, *digest;
	char **tests;			/* send --test: where the message goes instead */
	size_t ntests;
	char *to_canon;
	struct config cfg;
	struct release rel;
	struct render_release rr;
	struct partials partials;
	struct tmplfile tmpl;
	struct attach_kit kit;		/* what the message carries, as a send reads it */
	struct render_env env;
	unsigned char secret[TOKEN_SECRET_LEN];
	struct list_info info;
	struct diag d;
	struct buf out;
	int found;
	char *found_email;		/* the subscriber rendered for */
};

static int
preview_args(struct preview *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "digest", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "l:t:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			p->digest = optarg;
			break;
		case 'l':
			p->list_id = optarg;
			break;
		case 't':
			p->to = optarg;
			break;
		case 'h':
			cmd_usage(cmd_current, stdout);
			return 0;
		default:
			cmd_usage(cmd_current, stderr);
			return EXIT_USAGE;
		}
	}
	if (p->digest ? argc != optind || p->list_id : argc - optind != 1) {
		fprintf(stderr, "usage: herald preview RELEASE [--list ID] [--to EMAIL] | "
		    "herald preview --digest LIST [--to EMAIL]\n");
		return EXIT_USAGE;
	}
	p->release_arg = p->digest ? NULL : argv[optind];
	return -1;
}

static int
preview_now(long long *now)
{
	const char *s = getenv("HERALD_NOW");

	if (s == NULL || *s == '\0') {
		*now = (long long)time(NULL);
		return 0;
	}
	if (timefmt_parse(s, now) != 0) {
		fprintf(stderr, "herald: HERALD_NOW '%s' is not an ISO 8601 time with offset\n", s);
		return -1;
	}
	return 0;
}

static int
preview_render(struct preview *p, const struct list_info *info,
    const struct subscriber *s)
{
	if (render_message(&p->env, &p->rr, info, s, &p->tmpl, 0, &p->out, NULL, &p->d) == 0) {
		p->found = 1;
		free(p->found_email);
		p->found_email = xstrdup(s->email);
	}
	return 1;
}

static int
preview_pick(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct preview *p = arg;

	if (p->to_canon ? strcmp(s->email, p->to_canon) != 0 : s->delivery != DELIVERY_EACH)
		return 0;
	return preview_render(p, info, s);
}

/* --to an address that is not subscribed: the message as it would look to them. */
static void
preview_stranger(struct preview *p)
{
	struct subscriber s;
	struct ydoc *doc = ydoc_new("--to");

	memset(&s, 0, sizeof(s));
	s.email = p->to_canon;
	s.doc = doc;
	s.fields = ynode_map(doc);
	ynode_map_set(doc, s.fields, "email", ynode_str(doc, p->to_canon));
	fprintf(stderr, "herald: note: %s is not on list '%s'; rendering without subscriber fields\n",
	    p->to_canon, p->info.id);
	preview_render(p, &p->info, &s);
	ydoc_free(doc);
}

static int
preview_to(struct preview *p)
{
	struct addr a = { 0 };
	char err[128];

	if (p->to == NULL)
		return 0;
	if (addr_parse(p->to, strlen(p->to), &a, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: --to '%s': %s\n", p->to, err);
		return -1;
	}
	p->to_canon = a.email;
	a.email = NULL;
	addr_clear(&a);
	return 0;
}

/* Loads and validates everything the message depends on. */
/* A name the template uses that this list's data cannot supply would print nothing. */
static int
preview_check_names(struct preview *p)
{
	struct ydoc *doc = ydoc_new("model");
	int rc;

	rc = tmplfile_check_names(&p->tmpl, render_model(doc, p->info.fields, p->info.nfields),
	    &p->partials, &p->d);
	ydoc_free(doc);
	return rc;
}

static int
preview_load(struct preview *p, const struct global_opts *g, char **list_path)
{
	const char *tname;
	char *path, err[256];

	if (config_load(config_path(g->config), &p->cfg, &p->d) == -1)
		return EXIT_CONFIG;
	attach_kit_init(&p->kit, p->cfg.sender.domain);
	path = release_path(p->cfg.releases_dir, p->release_arg);
	if (release_load(path, &p->rel, &p->d) == -1) {
		free(path);
		return EXIT_DATAERR;
	}
	free(path);
	if (p->list_id == NULL && p->rel.nlists == 0) {
		fprintf(stderr, "herald: the release names no lists; give --list ID\n");
		return EXIT_USAGE;
	}
	if (p->list_id == NULL)
		p->list_id = p->rel.lists[0];
	if ((*list_path = project_list_path(&p->cfg, p->list_id, &p->d)) == NULL)
		return EXIT_DATAERR;
	/* The whole list first: nothing is rendered from an invalid list. */
	if (list_load(*list_path, &p->info, NULL, NULL, &p->d) == -1)
		return EXIT_DATAERR;
	tname = p->rel.template_name ? p->rel.template_name : p->info.template_name;
	if (tname == NULL) {
		diag_error(&p->d, p->rel.file, 0, 0,
		    "no template: give 'template' in the release or in list '%s'", p->info.id);
		return EXIT_DATAERR;
	}
	partials_init(&p->partials, p->cfg.templates_dir);
	if (tmplfile_load(p->cfg.templates_dir, tname, &p->partials, &p->tmpl, &p->d) == -1 ||
	    preview_check_names(p) == -1)
		return EXIT_DATAERR;
	if (token_secret_load(p->cfg.secret, p->secret, err, sizeof(err)) == -1) {
		fprintf(stderr, "herald: %s\n", err);
		return EXIT_CONFIG;
	}
	if (preview_now(&p->env.now) == -1 || preview_to(p) == -1)
		return EXIT_USAGE;
	return 0;
}

/* The message as it would go out: signed when dkim is configured, as send signs it. */
static int
preview_write(struct preview *p)
{
	struct dkim_signer *s = NULL;
	size_t len = p->out.len;
	char *msg = buf_detach(&p->out), err[512];
	int status = 0;

	if (p->cfg.dkim.enabled && ((s = dkim_signer_new(&p->cfg, err, sizeof(err))) == NULL ||
	    dkim_signer_sign(s, &msg, &len, err, sizeof(err)) == -1)) {
		fprintf(stderr, "herald: %s\n", err);
		status = EXIT_CONFIG;
	} else if (fwrite(msg, 1, len, stdout) != len || fflush(stdout) != 0) {
		perror("herald: writing the message");
		status = EXIT_IOERR;
	}
	dkim_signer_free(s);
	free(msg);
	return status;
}

/*
 * send --test: the message, as rendered, to each test address. Not a
 * delivery: nothing is recorded, and its tokens (of row 0) name nobody,
 * so a bounce, an unsubscribe or a click on it changes nothing.
 */
static int
preview_test_send(struct preview *p)
{
	struct smtp_reply r;
	char err[512];
	size_t i;
	int status = 0, one;

	for (i = 0; i < p->ntests; i++) {
		if (outbox_send_one(&p->cfg, p->cfg.sender.bounce_address, p->tests[i],
		    p->out.data, p->out.len, &r, err, sizeof(err)) == -1) {
			fprintf(stderr, "herald: %s\n", err);
			return EXIT_CONFIG;
		}
		if (r.result == SMTP_OK) {
			printf("test: %s sent to %s, as %s would get it\n", p->rel.id, p->tests[i],
			    p->found_email);
			continue;
		}
		fprintf(stderr, "herald: test to %s: %d%s%s %s\n", p->tests[i], r.code,
		    r.enhanced[0] ? " " : "", r.enhanced, r.text);
		one = r.result == SMTP_PERMFAIL ? EXIT_DATAERR : r.cause == SMTP_CAUSE_REPLY ||
		    r.cause == SMTP_CAUSE_LOST ? EXIT_TEMPFAIL : r.cause == SMTP_CAUSE_AUTH ?
		    EXIT_CONFIG : EXIT_UNAVAILABLE;
		status = status ? status : one;
	}
	fflush(stdout);
	return status;
}

static int
preview_run(struct preview *p, const struct global_opts *g)
{
	struct list_info again;
	char *list_path = NULL;
	int status;

	if ((status = preview_load(p, g, &list_path)) != 0)
		goto out;
	if (attach_kit_release(&p->kit, &p->rel, 0, &p->d) == -1 ||
	    attach_kit_templates(&p->kit, &p->tmpl, &p->partials, &p->d) == -1 ||
	    attach_kit_logo(&p->kit, &p->cfg, &p->d) == -1) {
		status = EXIT_DATAERR;
		goto out;
	}
	p->env.kit = &p->kit;
	render_release_init(&p->rr, &p->rel);
	p->env.cfg = &p->cfg;
	p->env.partials = &p->partials;
	p->env.secret = p->secret;
	list_load(list_path, &again, preview_pick, p, &p->d);
	list_info_free(&again);
	if (!p->found && p->d.errors == 0 && p->to_canon)
		preview_stranger(p);
	if (!p->found && p->d.errors == 0 && p->to_canon == NULL)
		diag_error(&p->d, list_path, 0, 0, "the list has no subscriber who gets each release");
	if (!p->found) {
		status = EXIT_DATAERR;
		goto out;
	}
	status = p->ntests ? preview_test_send(p) : preview_write(p);
out:
	free(list_path);
	return status;
}

/* --digest LIST: the message the list's next digest would be for one subscriber. */
static int
preview_digest(struct preview *p, const struct global_opts *g)
{
	struct delivery_result r;
	struct digest_dry dry;

	if (config_load(config_path(g->config), &p->cfg, &p->d) == -1)
		return EXIT_CONFIG;
	if (p->to && preview_to(p) == -1)
		return EXIT_USAGE;
	if (preview_now(&p->env.now) == -1)
		return EXIT_USAGE;
	digest_dry(&p->cfg, p->digest, p->to_canon, &dry, &p->out, &r, &p->d);
	if (r.end != DELIVERY_DONE) {
		if (r.detail[0])
			fprintf(stderr, "herald: %s\n", r.detail);
		return delivery_exit_status(&r, &p->d);
	}
	if (dry.owed == 0) {
		fprintf(stderr, "herald: digest %s: %s\n", p->digest, dry.rows == 0 ?
		    "nothing new since the last digest; it would carry nothing" :
		    "this subscriber is owed nothing; the next digest has nothing for them");
		return EXIT_DATAERR;
	}
	return preview_write(p);
}

static void
preview_free(struct preview *p)
{
	buf_free(&p->out);
	free(p->to_canon);
	free(p->found_email);
	list_info_free(&p->info);
	tmplfile_free(&p->tmpl);
	partials_free(&p->partials);
	attach_kit_free(&p->kit);
	render_release_free(&p->rr);
	release_free(&p->rel);
	config_free(&p->cfg);
	diag_free(&p->d);
}

int
cmd_send_test(const struct global_opts *g, const char *release_arg, const char *as,
    char **tests, size_t ntests)
{
	struct preview p;
	int status;

	memset(&p, 0, sizeof(p));
	p.release_arg = release_arg;
	p.to = as;
	p.tests = tests;
	p.ntests = ntests;
	p.env.subject_prefix = "[TEST] ";
	diag_init(&p.d, EXIT_DATAERR);
	status = preview_run(&p, g);
	diag_print(&p.d);
	if (status == 0 && p.d.errors)
		status = p.d.status;
	preview_free(&p);
	return status;
}

int
cmd_preview(const struct global_opts *g, int argc, char **argv)
{
	struct preview p;
	int status;

	memset(&p, 0, sizeof(p));
	if ((status = preview_args(&p, argc, argv)) != -1)
		return status;
	diag_init(&p.d, EXIT_DATAERR);
	status = p.digest ? preview_digest(&p, g) : preview_run(&p, g);
	diag_print(&p.d);
	if (status == 0 && p.d.errors)
		status = p.d.status;
	preview_free(&p);
	return status;
}
