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
#include "journal.h"
#include "lang.h"
#include "list.h"
#include "project.h"
#include "release.h"
#include "render.h"
#include "segment.h"
#include "timefmt.h"
#include "tmplfile.h"

struct preview {
	const char *release_arg, *list_id, *to, *digest;
	const char *lang;		/* --lang: the reader's language, whatever theirs */
	char **tests;			/* send --test: where the message goes instead */
	size_t ntests;
	char *to_canon;
	struct segment where_own;	/* preview's --where */
	const struct segment *where;	/* --where (preview's or send --test's), or NULL */
	struct segment seg;		/* the release's where with --where's keys in place */
	struct config cfg;
	struct release rel;
	struct render_versions rv;
	struct partials partials;
	struct tmplset tmpls;
	struct attach_kit kit;		/* what the message carries, as a send reads it */
	struct render_env env;
	unsigned char secret[TOKEN_SECRET_LEN];
	struct list_info info;
	struct diag d;
	struct buf out;
	int found;
	char *found_email;		/* the subscriber rendered for */
};

/* --lang: a language tag as herald takes it (lang.h). */
static int
preview_lang_ok(const char *lang)
{
	char canon[LANG_MAX];
	int rc = lang_tag_check(lang, strlen(lang), canon);

	if (rc == 0)
		return 0;
	if (rc == 1)
		fprintf(stderr, "herald: --lang: language '%s' is written '%s'\n", lang, canon);
	else
		fprintf(stderr, "herald: --lang: '%s' is not a language tag such as en, es, pt-BR "
		    "or zh-Hant\n", lang);
	return -1;
}

static int
preview_args(struct preview *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "digest", required_argument, NULL, 'd' },
		{ "lang", required_argument, NULL, 'L' },
		{ "where", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, status;

	while ((c = getopt_long(argc, argv, "l:t:d:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if ((status = cmd_where(&p->where_own, optarg)) != 0)
				return status;
			p->where = &p->where_own;
			break;
		case 'd':
			p->digest = optarg;
			break;
		case 'L':
			p->lang = optarg;
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
	if (p->digest ? argc != optind || p->list_id || p->lang || p->where :
	    argc - optind != 1) {
		fprintf(stderr, "usage: herald preview RELEASE [--list ID] [--to EMAIL] [--lang LANG] "
		    "[--where KEY=VALUE]... | herald preview --digest LIST [--to EMAIL]\n");
		return EXIT_USAGE;
	}
	if (p->lang && preview_lang_ok(p->lang) == -1)
		return EXIT_USAGE;
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

/* Under embargo: marked as the pre-briefing's wave sees it, when the list is briefed early. */
static void
preview_embargo(struct preview *p, const struct list_info *info, const struct subscriber *s,
    struct render_embargo *e, char *until, char *local)
{
	const char *zone = s->tz ? s->tz : info->tz ? info->tz : p->cfg.tz;

	p->env.embargo = NULL;
	if (!p->rel.has_embargo)
		return;
	e->active = release_prebriefs(&p->rel, info->id) && p->env.now < p->rel.embargo;
	timefmt_iso_utc(p->rel.embargo, until, 32);
	if (timefmt_human(p->rel.embargo, zone, local, 64) == -1)
		timefmt_human(p->rel.embargo, NULL, local, 64);
	e->until = until;
	e->local = local;
	p->env.embargo = e;
}

/* The message in the subscriber's language (p->info is the list's, read whole), or in --lang. */
static int
preview_render(struct preview *p, const struct list_info *info,
    const struct subscriber *s)
{
	const char *lang = p->lang ? p->lang : render_reader_lang(s, p->info.lang,
	    p->rv.v[0].lang);
	struct render_embargo e;
	char until[32], local[64];

	preview_embargo(p, info, s, &e, until, local);
	if (render_message(&p->env, render_versions_pick(&p->rv, lang), info, s,
	    tmplset_pick(&p->tmpls, lang), 0, &p->out, NULL, &p->d) == 0) {
		p->found = 1;
		free(p->found_email);
		p->found_email = xstrdup(s->email);
	}
	p->env.embargo = NULL;
	return 1;
}

/* The first subscriber in the segment who gets each release, or the one --to names. */
static int
preview_pick(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct preview *p = arg;
	struct buf b = BUF_INIT;
	int in = segment_match_fields(&p->seg, s->fields);

	if (p->to_canon ? strcmp(s->email, p->to_canon) != 0 : s->delivery != DELIVERY_EACH || !in)
		return 0;
	if (!in) {
		segment_describe(&p->seg, &b);
		fprintf(stderr, "herald: note: the segment %s leaves %s out; they would not get "
		    "this release\n", buf_str(&b), s->email);
		buf_free(&b);
	}
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
	const struct ynode *model = render_model(doc, p->info.fields, p->info.nfields);
	size_t i;
	int rc = 0;

	for (i = 0; i < p->tmpls.n; i++)
		if (tmplfile_check_names(&p->tmpls.t[i], model, &p->partials, &p->d) == -1)
			rc = -1;
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
	segment_combine(&p->seg, &p->rel.where, p->where);
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
	if (tmplset_load(p->cfg.templates_dir, tname, &p->partials, &p->tmpls, &p->d) == -1 ||
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

static void
preview_nobody(struct preview *p, const char *list_path)
{
	struct buf b = BUF_INIT;

	if (p->seg.nkeys == 0) {
		diag_error(&p->d, list_path, 0, 0, "the list has no subscriber who gets each release");
		return;
	}
	segment_describe(&p->seg, &b);
	diag_error(&p->d, list_path, 0, 0, "the list has no subscriber in the segment %s who gets "
	    "each release", buf_str(&b));
	buf_free(&b);
}

/* The images every variant of the template names, as a send reads them; the partials once. */
static int
preview_kit_templates(struct preview *p)
{
	size_t i;

	for (i = 0; i < p->tmpls.n; i++)
		if (attach_kit_templates(&p->kit, &p->tmpls.t[i],
		    i + 1 == p->tmpls.n ? &p->partials : NULL, &p->d) == -1)
			return -1;
	return 0;
}

/*
 * --to a member who joined the list and is not in its file: rendered from
 * the journal's record of them. 1 when they are one; a preview never
 * makes a journal.
 */
static int
preview_member(struct preview *p)
{
	struct store_member m;
	struct subscriber s;
	struct store *st = NULL;
	const struct ynode *name;
	struct ydoc *doc;
	int found;

	if (journal_open(&p->cfg, 1, &st) != 0)
		return 0;
	found = store_member_get(st, p->info.id, p->to_canon, &m);
	if (found == -1)
		fprintf(stderr, "herald: journal: %s\n", store_error(st));
	store_close(st);
	if (found != 0)
		return 0;
	doc = ydoc_new("journal");
	memset(&s, 0, sizeof(s));
	s.email = p->to_canon;
	s.doc = doc;
	s.fields = render_fields_unpack(doc, m.fields, m.fields_len);
	s.name = (name = ynode_get(s.fields, "name")) != NULL ? name->str : NULL;
	s.lang = m.lang;
	s.tz = m.tz;
	s.delivery = m.digest ? DELIVERY_DIGEST : DELIVERY_EACH;
	preview_pick(p, &p->info, &s);
	ydoc_free(doc);
	store_member_clear(&m);
	return 1;
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
	    preview_kit_templates(p) == -1 ||
	    attach_kit_logo(&p->kit, &p->cfg, &p->d) == -1) {
		status = EXIT_DATAERR;
		goto out;
	}
	p->env.kit = &p->kit;
	render_versions_init(&p->rv, &p->rel, p->cfg.lang);
	render_versions_link(&p->rv, p->cfg.sender.archive_url);
	if (p->lang && lang_serves(render_versions_pick(&p->rv, p->lang)->lang, p->lang) == 0)
		fprintf(stderr, "herald: note: release %s has no translation into %s; its readers get "
		    "it in %s\n", p->rel.id, p->lang, p->rv.v[0].lang);
	p->env.cfg = &p->cfg;
	p->env.partials = &p->partials;
	p->env.secret = p->secret;
	list_load(list_path, &again, preview_pick, p, &p->d);
	list_info_free(&again);
	if (!p->found && p->d.errors == 0 && p->to_canon && !preview_member(p))
		preview_stranger(p);
	if (!p->found && p->d.errors == 0 && p->to_canon == NULL)
		preview_nobody(p, list_path);
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
	segment_free(&p->where_own);
	segment_free(&p->seg);
	list_info_free(&p->info);
	tmplset_free(&p->tmpls);
	partials_free(&p->partials);
	attach_kit_free(&p->kit);
	render_versions_free(&p->rv);
	release_free(&p->rel);
	config_free(&p->cfg);
	diag_free(&p->d);
}

int
cmd_send_test(const struct global_opts *g, const char *release_arg, const char *as,
    char **tests, size_t ntests, const struct segment *where)
{
	struct preview p;
	int status;

	memset(&p, 0, sizeof(p));
	p.release_arg = release_arg;
	p.to = as;
	p.tests = tests;
	p.ntests = ntests;
	p.where = where;
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
	if ((status = preview_args(&p, argc, argv)) != -1) {
		segment_free(&p.where_own);
		return status;
	}
	diag_init(&p.d, EXIT_DATAERR);
	status = p.digest ? preview_digest(&p, g) : preview_run(&p, g);
	diag_print(&p.d);
	if (status == 0 && p.d.errors)
		status = p.d.status;
	preview_free(&p);
	return status;
}
