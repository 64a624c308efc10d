/*
 * cmd_check.c - herald check: every input read, every problem reported.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cmd.h"
#include "config.h"
#include "dkim.h"
#include "list.h"
#include "project.h"
#include "release.h"
#include "render.h"
#include "tmplfile.h"
#include "token.h"
#include "validate.h"

/* Gmail clips a message over 102 KB: what follows, the unsubscribe footer among it, is hidden. */
#define CHECK_CLIP_BYTES (100 * 1024)

/* One release's message for the first subscriber of its first list, to weigh it. */
struct weigh {
	const struct render_env *env;
	const struct render_release *rr;
	const struct tmplfile *t;
	struct buf msg;
	int done;
};

static int
check_weigh_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct weigh *w = arg;
	struct diag quiet;

	if (s->delivery == DELIVERY_DIGEST)
		return 0;
	diag_init(&quiet, EXIT_DATAERR);
	if (render_message(w->env, w->rr, info, s, w->t, 0, &w->msg, NULL, &quiet) == 0)
		w->done = 1;
	diag_free(&quiet);
	return 1;
}

/* A release whose message is heavier than Gmail shows whole: said, for each. */
static void
check_weigh(const struct config *c, const struct validate_summary *sum, const char *path,
    struct diag *d)
{
	const struct validate_list *vl;
	unsigned char secret[TOKEN_SECRET_LEN] = { 0 };	/* tokens weigh the same under any key */
	struct render_env env;
	struct render_release rr;
	struct partials partials;
	struct tmplfile t;
	struct list_info info;
	struct release rel;
	struct weigh w;
	struct diag quiet;
	const char *name;

	diag_init(&quiet, EXIT_DATAERR);
	memset(&w, 0, sizeof(w));
	memset(&t, 0, sizeof(t));
	memset(&info, 0, sizeof(info));
	memset(&rel, 0, sizeof(rel));
	partials_init(&partials, c->templates_dir);
	if (release_load(path, &rel, &quiet) == -1 || rel.nlists == 0 ||
	    (vl = validate_find_list(sum, rel.lists[0])) == NULL)
		goto out;
	name = rel.template_name ? rel.template_name : vl->template_name;
	if (name == NULL || tmplfile_load(c->templates_dir, name, &partials, &t, &quiet) == -1)
		goto out;
	memset(&env, 0, sizeof(env));
	env.cfg = c;
	env.partials = &partials;
	env.secret = secret;
	render_release_init(&rr, &rel, release_lang(&rel, c->lang));
	w.env = &env;
	w.rr = &rr;
	w.t = &t;
	/* Read up to the first subscriber who gets each release, no further. */
	list_load(vl->file, &info, check_weigh_one, &w, &quiet);
	render_release_free(&rr);
	if (w.done && w.msg.len > CHECK_CLIP_BYTES)
		diag_warn(d, path, 0, 0, "its message is %zu KB: Gmail clips a message over 102 KB "
		    "and hides the rest, the unsubscribe footer among it", (w.msg.len + 1023) / 1024);
out:
	buf_free(&w.msg);
	tmplfile_free(&t);
	list_info_free(&info);
	partials_free(&partials);
	release_free(&rel);
	diag_free(&quiet);
}

static void
check_weigh_all(const struct config *c, const struct validate_summary *sum, struct diag *d)
{
	struct diag quiet;
	char **files;
	size_t i, n;

	diag_init(&quiet, EXIT_DATAERR);
	if (project_files(c->releases_dir, &files, &n, &quiet) == 0) {
		for (i = 0; i < n; i++)
			check_weigh(c, sum, files[i], d);
		project_files_free(files, n);
	}
	diag_free(&quiet);
}

/* What is valid but will hurt: said, not refused. */
static void
check_warnings(const struct config *c, struct diag *d)
{
	if (!c->imap.enabled && !c->http.enabled)
		diag_warn(d, c->file, 0, 0, "nothing reads unsubscribe requests: without 'imap' "
		    "no reply or bounce is read, and without 'http' no one-click link is served");
	if (c->sender.subscribe_address && !c->imap.enabled)
		diag_warn(d, c->file, 0, 0, "'sender.subscribe_address' without 'imap': nothing "
		    "reads the requests to it or the replies that confirm them");
	if (c->sender.postal_address == NULL)
		diag_warn(d, c->file, 0, 0, "no 'sender.postal_address': bulk mail must carry "
		    "the sender's postal address (the sample footers show it)");
}

int
cmd_check(const struct global_opts *g, int argc, char **argv)
{
	struct validate_summary sum;
	struct config cfg;
	struct diag d;
	int c, status;

	if ((c = cmd_help_only(argc, argv)) >= 0)
		return c;
	if (optind < argc) {
		fprintf(stderr, "herald: check takes no arguments\n");
		return EXIT_USAGE;
	}
	diag_init(&d, EXIT_DATAERR);
	/* A broken configuration still has usable defaults: check the rest too. */
	if (config_load(config_path(g->config), &cfg, &d) == 0)
		check_warnings(&cfg, &d);
	dkim_check_config(&cfg, &d);
	validate_project_warn(&cfg, &d, &sum);
	if (d.errors == 0)
		check_weigh_all(&cfg, &sum, &d);
	diag_print(&d);
	status = d.status;
	if (status == 0) {
		printf("configuration OK\n");
		if (g->verbose)
			fprintf(stderr, "herald: %zu lists (%zu subscribers), %zu templates, %zu releases\n",
			    sum.lists, sum.subscribers, sum.templates, sum.releases);
	}
	validate_summary_free(&sum);
	diag_free(&d);
	config_free(&cfg);
	return status;
}
