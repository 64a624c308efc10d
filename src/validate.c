/*
 * validate.c - every input of a project read and checked: what `herald
 * check` prints and what `send` and `schedule` insist on first.
 */
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "lang.h"
#include "attach.h"
#include "list.h"
#include "project.h"
#include "render.h"
#include "release.h"
#include "schema.h"
#include "tmplfile.h"

struct check {
	const struct config *cfg;
	struct diag *d;
	struct partials partials;
	struct validate_list *lists;
	size_t nlists, cap;
	struct validate_summary *sum;
	const char *keep;		/* a release file to keep in sum, or NULL */
	char *const *used;		/* the lists a send goes to; NULL: all matter */
	size_t nused;
	int sending;			/* a send's check: used, else the kept release's lists */
	const struct validate_sink *sink;	/* a send's: takes the lists' subscribers */
	int kept_seen;			/* the kept release is one of the project's */
	int warn;			/* herald check: the warnings of a whole check too */
	char **fields;			/* every subscriber field of every list, once */
	size_t nfields, capfields;
	struct check_partial *partial;	/* fields only some subscribers of a list have */
	size_t npartial, cappartial;
	char **langs;			/* every language a reader may read, once */
	size_t nlangs, caplangs;
	struct check_fields *lfields;	/* herald check: each list's fields, for `where` */
	size_t nlfields, caplfields;
};

/* The fields some subscriber of a list has. */
struct check_fields {
	char *list;
	char **fields;
	size_t nfields;
};

/* A field that only some subscribers of a list have: printed bare, it prints nothing for the others. */
struct check_partial {
	char *list, *template_name, *field;
	char **fields;			/* all of that list's fields */
	size_t nfields;
	size_t missing, total;		/* subscribers without it, of all */
};

/* The images an HTML part names by path are files of the project (attach.h). */
static void
check_template_images(const struct tmplfile *t, struct diag *d)
{
	struct tmpl_pos pos;

	if (t->html == NULL)
		return;
	attach_part_pos(t->html, &pos);
	attach_check_html(t->html->str, t->html->len, &pos, d);
}

static void
check_templates(struct check *k)
{
	struct tmplfile t;
	char **files, *name;
	size_t i, n;

	if (project_files(k->cfg->templates_dir, &files, &n, k->d) == -1)
		return;
	for (i = 0; i < n; i++) {
		name = util_file_stem(files[i]);
		if ((archive_template_name(name) ? tmplfile_load_page : tmplfile_load)(
		    k->cfg->templates_dir, name, &k->partials, &t, k->d) == 0) {
			k->sum->templates++;
			check_template_images(&t, k->d);
		}
		tmplfile_free(&t);
		free(name);
	}
	project_files_free(files, n);
	/* The partials they include, each once. */
	for (i = 0; i < k->partials.n; i++) {
		struct tmpl_pos pos = { k->partials.items[i].file, 1, 1, 0 };

		if (k->partials.items[i].src != NULL)
			attach_check_html(k->partials.items[i].src, k->partials.items[i].len, &pos,
			    k->d);
	}
}

static const struct validate_list *
check_find_list(const struct check *k, const char *id)
{
	size_t i;

	for (i = 0; i < k->nlists; i++)
		if (strcmp(k->lists[i].id, id) == 0)
			return &k->lists[i];
	return NULL;
}

static void
check_list_templates(struct check *k, const struct list_info *info)
{
	if (info->template_name && !project_name_ok(info->template_name))
		diag_error(k->d, info->file, info->template_line, info->template_col,
		    "template '%s' must be the name of a file in %s/, not a path",
		    info->template_name, k->cfg->templates_dir);
	else if (info->template_name &&
	    !tmplfile_exists(k->cfg->templates_dir, info->template_name))
		diag_error(k->d, info->file, info->template_line, info->template_col,
		    "unknown template '%s': there is no %s/%s.yaml", info->template_name,
		    k->cfg->templates_dir, info->template_name);
	if (info->digest_template && !project_name_ok(info->digest_template))
		diag_error(k->d, info->file, info->digest_template_line,
		    info->digest_template_col,
		    "digest template '%s' must be the name of a file in %s/, not a path",
		    info->digest_template, k->cfg->templates_dir);
	else if (info->digest_template &&
	    !tmplfile_exists(k->cfg->templates_dir, info->digest_template))
		diag_error(k->d, info->file, info->digest_template_line,
		    info->digest_template_col, "unknown digest template '%s': there is no %s/%s.yaml",
		    info->digest_template, k->cfg->templates_dir, info->digest_template);
}

/* A language some reader reads: a subscriber's, a list's, or a release's own. */
static void
check_note_lang(struct check *k, const char *lang)
{
	size_t i;

	for (i = 0; i < k->nlangs; i++)
		if (strcmp(k->langs[i], lang) == 0)
			return;
	k->langs = xgrow(k->langs, &k->caplangs, k->nlangs + 1, sizeof(*k->langs));
	k->langs[k->nlangs++] = xstrdup(lang);
}

static void
check_keep_fields(struct check *k, const struct list_info *info)
{
	struct check_fields *f;
	size_t i;

	k->lfields = xgrow(k->lfields, &k->caplfields, k->nlfields + 1, sizeof(*k->lfields));
	f = &k->lfields[k->nlfields++];
	f->list = xstrdup(info->id);
	f->fields = xcalloc(info->nfields ? info->nfields : 1, sizeof(*f->fields));
	f->nfields = 0;
	for (i = 0; i < info->nfields; i++)
		if (info->field_counts[i] > 0)
			f->fields[f->nfields++] = xstrdup(info->fields[i]);
}

/* The fields of the list's subscribers join those of the others. */
static void
check_note_fields(struct check *k, const struct list_info *info)
{
	struct check_partial *cp;
	size_t i, j;

	for (i = 0; i < info->nfields && info->template_name; i++) {
		if (info->field_counts[i] >= info->n_subscribers)
			continue;
		k->partial = xgrow(k->partial, &k->cappartial, k->npartial + 1, sizeof(*k->partial));
		cp = &k->partial[k->npartial++];
		cp->list = xstrdup(info->id);
		cp->template_name = xstrdup(info->template_name);
		cp->field = xstrdup(info->fields[i]);
		cp->fields = xcalloc(info->nfields, sizeof(*cp->fields));
		cp->nfields = 0;
		for (j = 0; j < info->nfields; j++)
			if (j != i)
				cp->fields[cp->nfields++] = xstrdup(info->fields[j]);
		cp->missing = info->n_subscribers - info->field_counts[i];
		cp->total = info->n_subscribers;
	}

	if (k->warn)
		check_keep_fields(k, info);
	for (i = 0; i < info->nfields; i++) {
		for (j = 0; j < k->nfields; j++)
			if (strcmp(k->fields[j], info->fields[i]) == 0)
				break;
		if (j < k->nfields)
			continue;
		k->fields = xgrow(k->fields, &k->capfields, k->nfields + 1, sizeof(*k->fields));
		k->fields[k->nfields++] = xstrdup(info->fields[i]);
	}
}

struct check_missing {
	struct check *k;
	const struct check_partial *cp;
	char *want;			/* "subscriber.FIELD" */
};

static void
check_missing_one(void *arg, const char *file, unsigned line, unsigned col, const char *name,
    size_t len)
{
	struct check_missing *m = arg;
	const struct check_partial *cp = m->cp;

	if (len != strlen(m->want) || memcmp(name, m->want, len) != 0)
		return;
	diag_warn(m->k->d, file, line, col, "'%s' is printed outside a section on it, and %zu "
	    "of the %zu subscribers of list '%s' have no '%s': they get nothing there",
	    m->want, cp->missing, cp->total, cp->list, cp->field);
}

/* Each field only some subscribers of a list have, printed bare by the list's template. */
static void
check_partial_fields(struct check *k, const struct tmplfile *t, const char *name,
    struct ydoc *doc)
{
	struct check_missing m;
	size_t i;

	for (i = 0; i < k->npartial; i++) {
		if (strcmp(k->partial[i].template_name, name) != 0)
			continue;
		m.k = k;
		m.cp = &k->partial[i];
		m.want = xasprintf("subscriber.%s", k->partial[i].field);
		tmplfile_find_missing(t, render_model(doc, k->partial[i].fields,
		    k->partial[i].nfields), &k->partials, check_missing_one, &m);
		free(m.want);
		ydoc_clear(doc);
	}
}

/*
 * Every name each template uses must be one that some release, list or
 * subscriber can supply: {{subscriber.firstname}} would print nothing in
 * every message. The templates that do not load are said already.
 */
static void
check_template_names(struct check *k)
{
	struct tmplfile t;
	struct ydoc *doc;
	struct diag quiet;
	char **files, *name;
	size_t i, n;

	diag_init(&quiet, EXIT_DATAERR);
	if (project_files(k->cfg->templates_dir, &files, &n, &quiet) == -1) {
		diag_free(&quiet);
		return;
	}
	diag_free(&quiet);
	doc = ydoc_new("model");
	for (i = 0; i < n; i++) {
		name = util_file_stem(files[i]);
		diag_init(&quiet, EXIT_DATAERR);
		/* An archive page is for everyone: no subscriber.*, no unsubscribe.* there. */
		if (archive_template_name(name)) {
			if (tmplfile_load_page(k->cfg->templates_dir, name, &k->partials, &t,
			    &quiet) == 0)
				tmplfile_check_names(&t, archive_model(doc), &k->partials, k->d);
		} else if (tmplfile_load(k->cfg->templates_dir, name, &k->partials, &t,
		    &quiet) == 0 && tmplfile_check_names(&t, render_model(doc, k->fields,
		    k->nfields), &k->partials, k->d) == 0) {
			ydoc_clear(doc);
			if (k->warn)
				check_partial_fields(k, &t, name, doc);
		}
		diag_free(&quiet);
		tmplfile_free(&t);
		free(name);
		ydoc_clear(doc);
	}
	ydoc_free(doc);
	project_files_free(files, n);
}

/* 1 when the send goes to list id (or when there is no send: a check). */
static int
check_used(const struct check *k, const char *id)
{
	size_t i;

	if (k->used == NULL)
		return 1;
	for (i = 0; i < k->nused; i++)
		if (strcmp(k->used[i], id) == 0)
			return 1;
	return 0;
}

/* The release a send sends: read, checked and kept with its bytes when valid. */
static void
check_kept_release(struct check *k, const char *path)
{
	struct validate_summary *sum = k->sum;
	size_t errors = k->d->errors;

	sum->release_data = NULL;
	if (util_read_beneath(path, &sum->release_data, &sum->release_len) == -1) {
		/* Said as every other unreadable file is. */
		struct release r;

		release_load(path, &r, k->d);
		release_free(&r);
		return;
	}
	if (release_load_mem(path, sum->release_data, sum->release_len, &sum->release,
	    k->d) == 0)
		sum->releases++;
	sum->kept = k->d->errors == errors;
}

/*
 * A send's lists: the ones asked for, else those of the release kept,
 * parsed now (before the lists, which it names).
 */
static void
check_keep_first(struct check *k)
{
	const char *keep = k->keep;

	if (keep == NULL || !k->sending)
		return;
	check_kept_release(k, keep);
	if (k->used == NULL && k->sum->kept) {
		k->used = k->sum->release.lists;
		k->nused = k->sum->release.nlists;
	}
}

/* A list's errors, as warnings when the send at hand does not go to it. */
static void
check_list_load(struct check *k, const char *path, struct list_info *info)
{
	list_sub_fn fn = k->sink ? k->sink->subscriber : NULL;
	void *arg = k->sink ? k->sink->arg : NULL;
	struct diag own;
	size_t i;

	if (k->used == NULL || !k->sending) {
		list_load(path, info, fn, arg, k->d);
		return;
	}
	diag_init(&own, EXIT_DATAERR);
	list_load(path, info, fn, arg, &own);
	if (info->id == NULL || check_used(k, info->id) || own.errors == 0) {
		diag_move(k->d, &own);
	} else {
		for (i = 0; i < own.n; i++)
			diag_warn(k->d, NULL, 0, 0, "%s (list '%s' is not sent to now; herald check "
			    "shows it as an error)", own.items[i].text, info->id);
		if (own.dropped)
			diag_warn(k->d, NULL, 0, 0, "%zu more in list '%s'", own.dropped, info->id);
	}
	diag_free(&own);
}

static void
check_lists(struct check *k)
{
	const struct validate_list *other;
	struct list_info info;
	struct validate_list *kl;
	char **files;
	size_t i, j, n;

	if (project_files(k->cfg->lists_dir, &files, &n, k->d) == -1)
		return;
	for (i = 0; i < n; i++) {
		check_list_load(k, files[i], &info);
		if (info.id == NULL) {	/* unreadable: no send can go to it */
			list_info_free(&info);
			continue;
		}
		k->sum->subscribers += info.n_subscribers;
		check_list_templates(k, &info);
		check_note_fields(k, &info);
		if (info.lang)
			check_note_lang(k, info.lang);
		for (j = 0; j < info.nlangs; j++)
			check_note_lang(k, info.langs[j]);
		if ((other = check_find_list(k, info.id)) != NULL) {
			diag_error(k->d, files[i], 0, 0, "list id '%s' is already the id of %s",
			    info.id, other->file);
		} else {
			k->lists = xgrow(k->lists, &k->cap, k->nlists + 1, sizeof(*k->lists));
			kl = &k->lists[k->nlists++];
			kl->id = xstrdup(info.id);
			kl->file = xstrdup(files[i]);
			kl->template_name = info.template_name ? xstrdup(info.template_name) : NULL;
			kl->lang = info.lang ? xstrdup(info.lang) : NULL;
		}
		if (k->sink)
			k->sink->list(k->sink->arg, &info);
		list_info_free(&info);
	}
	project_files_free(files, n);
}

/*
 * A translation into the language the release is in already, when that
 * comes from the config (release.c refuses it against an explicit `lang`).
 */
static void
check_release_langs(struct check *k, const struct release *r)
{
	const char *own = release_lang(r, k->cfg->lang);
	size_t i;

	check_note_lang(k, own);
	for (i = 0; r->lang == NULL && i < r->ntranslations; i++)
		if (strcmp(r->translations[i].lang, own) == 0)
			schema_error(k->d, r->translations[i].key, "translation '%s' is the release's "
			    "own language (%s): write that text in the release's own fields, or give "
			    "the release its 'lang'", own, k->cfg->lang ? "the config's 'lang'" :
			    "en, as neither the release nor the config names one");
}

/* Every list a release names exists, and each has a template to render with. */
static void
check_release_refs(struct check *k, const struct release *r)
{
	const struct validate_list *kl;
	size_t i;

	check_release_langs(k, r);
	if (r->nlists == 0)
		diag_warn(k->d, r->file, r->root->line, r->root->col,
		    "the release names no 'lists'; it can only be sent with --list");
	if (r->template_name && !project_name_ok(r->template_name))
		schema_error(k->d, r->template_node,
		    "template '%s' must be the name of a file in %s/, not a path",
		    r->template_name, k->cfg->templates_dir);
	else if (r->template_name && !tmplfile_exists(k->cfg->templates_dir, r->template_name))
		schema_error(k->d, r->template_node,
		    "unknown template '%s': there is no %s/%s.yaml", r->template_name,
		    k->cfg->templates_dir, r->template_name);
	attach_check_release(k->cfg, r, k->d);
	for (i = 0; i < r->nlists; i++) {
		if ((kl = check_find_list(k, r->lists[i])) == NULL) {
			schema_error(k->d, r->list_nodes[i], "unknown list '%s'", r->lists[i]);
			continue;
		}
		if (r->template_name == NULL && kl->template_name == NULL)
			schema_error(k->d, r->list_nodes[i],
			    "no template for list '%s': give 'template' in the release or in %s",
			    r->lists[i], kl->file);
	}
}

/* 1 when some subscriber of list id has field. */
static int
check_list_has_field(const struct check *k, const char *id, const char *field)
{
	size_t i, j;

	for (i = 0; i < k->nlfields; i++) {
		if (strcmp(k->lfields[i].list, id) != 0)
			continue;
		for (j = 0; j < k->lfields[i].nfields; j++)
			if (strcmp(k->lfields[i].fields[j], field) == 0)
				return 1;
	}
	return 0;
}

/*
 * A `where` on a field no subscriber of the release's lists has keeps
 * nobody: a typo, or a list that has not been given the field yet. email
 * every subscriber has; name is not counted, so it is not judged.
 */
static void
check_where_fields(struct check *k, const struct release *r)
{
	const struct segment_key *sk;
	struct buf names = BUF_INIT;
	size_t i, j, known;

	for (i = 0; i < r->where.nkeys; i++) {
		sk = &r->where.keys[i];
		if (strcmp(sk->key, "email") == 0 || strcmp(sk->key, "name") == 0)
			continue;
		buf_reset(&names);
		for (j = known = 0; j < r->nlists; j++) {
			if (check_find_list(k, r->lists[j]) == NULL)
				continue;
			if (check_list_has_field(k, r->lists[j], sk->key))
				break;
			buf_addf(&names, "%s'%s'", known++ ? ", " : "", r->lists[j]);
		}
		if (j == r->nlists && known > 0)
			diag_warn(k->d, r->file, sk->node ? sk->node->line : 0,
			    sk->node ? sk->node->col : 0, "'where' names the field '%s', which no "
			    "subscriber of %s %s has: the segment keeps nobody there", sk->key,
			    known == 1 ? "list" : "lists", buf_str(&names));
	}
	buf_free(&names);
}

static void
check_releases(struct check *k)
{
	struct release r;
	char **files;
	size_t i, n;

	if (project_files(k->cfg->releases_dir, &files, &n, k->d) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (k->keep && strcmp(files[i], k->keep) == 0) {
			if (k->sum->release.root != NULL && k->sum->release.root->kind == YNODE_MAP)
				check_release_refs(k, &k->sum->release);
			k->kept_seen = 1;
			continue;
		}
		if (release_load(files[i], &r, k->d) == 0)
			k->sum->releases++;
		/* A release with other errors may still name a missing list. */
		if (r.root != NULL && r.root->kind == YNODE_MAP)
			check_release_refs(k, &r);
		if (k->warn && r.root != NULL && r.root->kind == YNODE_MAP)
			check_where_fields(k, &r);
		release_free(&r);
	}
	project_files_free(files, n);
}

/*
 * A template variant (T.LANG.yaml beside T.yaml) that no reader's
 * language picks: likely a misnamed language, or a file nobody will see.
 */
static void
check_variants(struct check *k)
{
	struct diag quiet;
	char **files, *stem, *base;
	size_t i, j, n, b;

	diag_init(&quiet, EXIT_DATAERR);
	if (project_files(k->cfg->templates_dir, &files, &n, &quiet) == -1) {
		diag_free(&quiet);
		return;
	}
	for (i = 0; i < n; i++) {
		stem = util_file_stem(files[i]);
		/* An archive page's variant is read for each translation into its language. */
		if ((b = tmplfile_variant_base(stem)) > 0 && !archive_template_name(stem)) {
			base = xstrndup(stem, b);
			for (j = 0; j < k->nlangs && !lang_serves(stem + b + 1, k->langs[j]); j++)
				;
			if (j == k->nlangs && tmplfile_exists(k->cfg->templates_dir, base))
				diag_warn(k->d, files[i], 0, 0, "variant of template '%s' for language "
				    "'%s', which no subscriber, list or release reads: nobody gets it",
				    base, stem + b + 1);
			free(base);
		}
		free(stem);
	}
	project_files_free(files, n);
	diag_free(&quiet);
}

static void
check_free(struct check *k)
{
	while (k->nfields > 0)
		free(k->fields[--k->nfields]);
	free(k->fields);
	while (k->npartial > 0) {
		struct check_partial *cp = &k->partial[--k->npartial];

		free(cp->list);
		free(cp->template_name);
		free(cp->field);
		while (cp->nfields > 0)
			free(cp->fields[--cp->nfields]);
		free(cp->fields);
	}
	free(k->partial);
	while (k->nlangs > 0)
		free(k->langs[--k->nlangs]);
	free(k->langs);
	while (k->nlfields > 0) {
		struct check_fields *f = &k->lfields[--k->nlfields];

		free(f->list);
		while (f->nfields > 0)
			free(f->fields[--f->nfields]);
		free(f->fields);
	}
	free(k->lfields);
	partials_free(&k->partials);
}

void
validate_project(const struct config *cfg, struct diag *d, struct validate_summary *sum)
{
	validate_project_keep(cfg, d, sum, NULL, NULL, 0, NULL);
}

static void validate_run(const struct config *cfg, struct diag *d, struct validate_summary *sum,
    const char *keep, char *const *lists, size_t n, const struct validate_sink *sink, int warn);

void
validate_project_warn(const struct config *cfg, struct diag *d, struct validate_summary *sum)
{
	validate_run(cfg, d, sum, NULL, NULL, 0, NULL, 1);
}

void
validate_project_keep(const struct config *cfg, struct diag *d,
    struct validate_summary *sum, const char *keep, char *const *lists, size_t n,
    const struct validate_sink *sink)
{
	validate_run(cfg, d, sum, keep, lists, n, sink, 0);
}

static void
validate_run(const struct config *cfg, struct diag *d, struct validate_summary *sum,
    const char *keep, char *const *lists, size_t n, const struct validate_sink *sink, int warn)
{
	struct validate_summary ignored;
	struct check k;

	memset(&k, 0, sizeof(k));
	k.warn = warn;
	k.sink = sink;
	k.cfg = cfg;
	k.keep = sum ? keep : NULL;
	k.used = n ? lists : NULL;
	k.nused = n;
	k.sending = k.keep != NULL;
	k.d = d;
	k.sum = sum ? sum : &ignored;
	memset(k.sum, 0, sizeof(*k.sum));
	partials_init(&k.partials, cfg->templates_dir);
	check_keep_first(&k);
	check_templates(&k);
	check_lists(&k);
	check_template_names(&k);
	check_releases(&k);
	/* A release file outside the project: kept all the same, its references checked. */
	if (k.keep && !k.kept_seen && k.sum->release.root != NULL &&
	    k.sum->release.root->kind == YNODE_MAP)
		check_release_refs(&k, &k.sum->release);
	if (k.warn)
		check_variants(&k);
	k.sum->lists = k.nlists;
	k.sum->index = k.lists;
	k.sum->nindex = k.nlists;
	check_free(&k);
	if (sum == NULL)
		validate_summary_free(&ignored);
}

void
validate_summary_free(struct validate_summary *sum)
{
	size_t i;

	if (sum == NULL)
		return;
	for (i = 0; i < sum->nindex; i++) {
		free(sum->index[i].id);
		free(sum->index[i].file);
		free(sum->index[i].template_name);
		free(sum->index[i].lang);
	}
	free(sum->index);
	release_free(&sum->release);
	free(sum->release_data);
	memset(sum, 0, sizeof(*sum));
}

const struct validate_list *
validate_find_list(const struct validate_summary *sum, const char *id)
{
	size_t i;

	for (i = 0; i < sum->nindex; i++)
		if (strcmp(sum->index[i].id, id) == 0)
			return &sum->index[i];
	return NULL;
}
