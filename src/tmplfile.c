/*
 * tmplfile.c - template files and their partials.
 */
#include "tmplfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang.h"
#include "project.h"
#include "schema.h"

static const char *const tmplfile_keys[] = { "subject", "text", "html", NULL };
static const char *const tmplfile_page_keys[] = { "html", NULL };

void
partials_init(struct partials *p, const char *templates_dir)
{
	memset(p, 0, sizeof(*p));
	p->dir = xasprintf("%s/partials", templates_dir);
}

void
partials_free(struct partials *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->items[i].name);
		free(p->items[i].file);
		free(p->items[i].src);
	}
	free(p->items);
	free(p->dir);
	for (i = 0; i < p->nrefused; i++)
		free(p->refused[i]);
	free(p->refused);
	memset(p, 0, sizeof(*p));
}

void
partials_copy(struct partials *dst, const struct partials *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->dir = xstrdup(src->dir);
	dst->items = xgrow(NULL, &dst->cap, src->n ? src->n : 1, sizeof(*dst->items));
	for (i = 0; i < src->n; i++) {
		dst->items[i].name = xstrdup(src->items[i].name);
		dst->items[i].file = xstrdup(src->items[i].file);
		dst->items[i].src = xmalloc(src->items[i].len + 1);
		memcpy(dst->items[i].src, src->items[i].src, src->items[i].len);
		dst->items[i].src[src->items[i].len] = '\0';
		dst->items[i].len = src->items[i].len;
	}
	dst->n = src->n;
}

/* A partial's name becomes a path: no directories, no dot files. */
/* A partial that is there but may not be read: said once, not as merely unknown. */
static void
partials_refuse(struct partials *p, const char *file, int err)
{
	size_t i;

	for (i = 0; i < p->nrefused; i++)
		if (strcmp(p->refused[i], file) == 0)
			return;
	p->refused = xrealloc(p->refused, (p->nrefused + 1) * sizeof(*p->refused));
	p->refused[p->nrefused++] = xstrdup(file);
	if (p->d)
		diag_error(p->d, file, 0, 0, "cannot read: %s", util_beneath_error(err));
}

int
partials_lookup(void *arg, const char *name, const char **src, size_t *len,
    struct tmpl_pos *pos)
{
	struct partials *p = arg;
	struct partial *it;
	char *file, *data;
	size_t i, n;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->items[i].name, name) == 0)
			goto found;
	if (!project_name_ok(name))
		return -1;
	file = xasprintf("%s/%s.mustache", p->dir, name);
	if (util_read_beneath(file, &data, &n) == -1) {
		if (errno != ENOENT)
			partials_refuse(p, file, errno);
		free(file);
		return -1;
	}
	p->items = xgrow(p->items, &p->cap, p->n + 1, sizeof(*p->items));
	it = &p->items[p->n++];
	it->name = xstrdup(name);
	it->file = file;
	it->src = data;
	it->len = n;
found:
	it = &p->items[i];
	*src = it->src;
	*len = it->len;
	pos->file = it->file;
	pos->line = 1;
	pos->col = 1;
	pos->indent = 0;
	return 0;
}

int
tmplfile_exists(const char *templates_dir, const char *name)
{
	char *file;
	int ok;

	if (!project_name_ok(name))
		return 0;
	file = project_yaml_path(templates_dir, name);
	ok = access(file, F_OK) == 0;

	free(file);
	return ok;
}

static const struct ynode *
tmplfile_part_node(const struct tmplfile *t, enum tmplfile_part part)
{
	switch (part) {
	case TMPLFILE_SUBJECT:
		return t->subject;
	case TMPLFILE_TEXT:
		return t->text;
	case TMPLFILE_HTML:
		return t->html;
	}
	return NULL;
}

static void
tmplfile_opts(const struct ynode *n, enum tmplfile_part part, struct partials *p,
    struct tmpl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->escape = part == TMPLFILE_HTML ? TMPL_ESCAPE_HTML : TMPL_ESCAPE_NONE;
	o->partial = partials_lookup;
	o->partial_arg = p;
	o->strict_partials = 1;
	o->pos.file = n->file;
	o->pos.line = n->text_line;
	o->pos.col = n->text_col;
	o->pos.indent = n->style == YSTYLE_LITERAL || n->style == YSTYLE_FOLDED ?
	    n->text_col - 1 : 0;
}

static const struct ynode *
tmplfile_part(struct tmplfile *t, const char *key, enum tmplfile_part part,
    struct partials *p, struct diag *d)
{
	const struct ynode *root = ydoc_root(t->doc), *n;
	struct tmpl_opts o;

	if (schema_string(root, key, 1, "the template", d) == NULL)
		return NULL;
	n = ynode_get(root, key);
	tmplfile_opts(n, part, p, &o);
	if (tmpl_check(n->str, n->len, &o, d) == -1)
		return NULL;
	return n;
}

/* A message's template (subject, text, html), or a page's when page (html only). */
static int
tmplfile_load_as(const char *templates_dir, const char *name, int page, struct partials *p,
    struct tmplfile *t, struct diag *d)
{
	size_t before = d->errors, len;
	char *data;

	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	if (!project_name_ok(name)) {
		diag_error(d, NULL, 0, 0, "template '%s' is not a name of a file in %s/",
		    name, templates_dir);
		return -1;
	}
	t->file = project_yaml_path(templates_dir, name);
	if (util_read_beneath(t->file, &data, &len) == -1) {
		diag_error(d, t->file, 0, 0, "cannot read: %s", util_beneath_error(errno));
		return -1;
	}
	t->doc = ydoc_load_mem(t->file, data, len, d);
	free(data);
	if (t->doc == NULL)
		return -1;
	if (ydoc_root(t->doc) == NULL) {
		diag_error(d, t->file, 0, 0, "the template is empty");
		return -1;
	}
	if (!schema_is_map(ydoc_root(t->doc), "the template", d))
		return -1;
	schema_unknown_keys(ydoc_root(t->doc), page ? tmplfile_page_keys : tmplfile_keys, d);
	p->d = d;
	if (!page) {
		t->subject = tmplfile_part(t, "subject", TMPLFILE_SUBJECT, p, d);
		t->text = tmplfile_part(t, "text", TMPLFILE_TEXT, p, d);
	}
	t->html = tmplfile_part(t, "html", TMPLFILE_HTML, p, d);
	p->d = NULL;	/* d may not outlive this call; p does */
	return d->errors > before ? -1 : 0;
}

int
tmplfile_load(const char *templates_dir, const char *name, struct partials *p,
    struct tmplfile *t, struct diag *d)
{
	return tmplfile_load_as(templates_dir, name, 0, p, t, d);
}

int
tmplfile_load_page(const char *templates_dir, const char *name, struct partials *p,
    struct tmplfile *t, struct diag *d)
{
	return tmplfile_load_as(templates_dir, name, 1, p, t, d);
}

void
tmplfile_free(struct tmplfile *t)
{
	if (t == NULL)
		return;
	ydoc_free(t->doc);
	free(t->name);
	free(t->file);
	memset(t, 0, sizeof(*t));
}

size_t
tmplfile_variant_base(const char *stem)
{
	const char *dot = strrchr(stem, '.');

	/* A tag holds no '.': the language is what follows the last one. */
	return dot != NULL && dot > stem && lang_tag_ok(dot + 1) ? (size_t)(dot - stem) : 0;
}

/* The stems of dir's templates that are variants of name, sorted. The caller frees each. */
static size_t
tmplset_variants(const char *templates_dir, const char *name, char ***out)
{
	struct diag quiet;
	char **files, *stem;
	size_t i, n, len = strlen(name), nv = 0;

	*out = NULL;
	diag_init(&quiet, EXIT_DATAERR);
	/* A folder that cannot be listed: tmplfile_load of T itself says why. */
	if (project_files(templates_dir, &files, &n, &quiet) == 0) {
		*out = xcalloc(n ? n : 1, sizeof(**out));
		for (i = 0; i < n; i++) {
			stem = util_file_stem(files[i]);
			if (strncmp(stem, name, len) == 0 && stem[len] == '.' &&
			    lang_tag_ok(stem + len + 1))
				(*out)[nv++] = stem;
			else
				free(stem);
		}
		project_files_free(files, n);
	}
	diag_free(&quiet);
	return nv;
}

static int
tmplset_load_as(const char *templates_dir, const char *name, int page, struct partials *p,
    struct tmplset *s, struct diag *d)
{
	char **stems = NULL;
	size_t i, nv;
	int rc;

	memset(s, 0, sizeof(*s));
	nv = project_name_ok(name) ? tmplset_variants(templates_dir, name, &stems) : 0;
	s->t = xcalloc(1 + nv, sizeof(*s->t));
	rc = tmplfile_load_as(templates_dir, name, page, p, &s->t[0], d);
	s->n = 1;
	for (i = 0; i < nv; i++) {
		if (tmplfile_load_as(templates_dir, stems[i], page, p, &s->t[s->n], d) == -1)
			rc = -1;
		s->t[s->n].lang = s->t[s->n].name + strlen(name) + 1;
		s->n++;
		free(stems[i]);
	}
	free(stems);
	return rc;
}

int
tmplset_load(const char *templates_dir, const char *name, struct partials *p,
    struct tmplset *s, struct diag *d)
{
	return tmplset_load_as(templates_dir, name, 0, p, s, d);
}

int
tmplset_load_page(const char *templates_dir, const char *name, struct partials *p,
    struct tmplset *s, struct diag *d)
{
	return tmplset_load_as(templates_dir, name, 1, p, s, d);
}

const struct tmplfile *
tmplset_pick(const struct tmplset *s, const char *lang)
{
	size_t i, best = 0, rank, best_rank = 0;

	for (i = 1; lang && i < s->n; i++)
		if ((rank = lang_serves(s->t[i].lang, lang)) > best_rank) {
			best_rank = rank;
			best = i;
		}
	return &s->t[best];
}

void
tmplset_free(struct tmplset *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		tmplfile_free(&s->t[i]);
	free(s->t);
	memset(s, 0, sizeof(*s));
}

int
tmplfile_check_names(const struct tmplfile *t, const struct ynode *model,
    struct partials *p, struct diag *d)
{
	static const enum tmplfile_part parts[] = { TMPLFILE_SUBJECT, TMPLFILE_TEXT,
		TMPLFILE_HTML };
	struct tmpl_opts o;
	struct buf out = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < ARRAY_LEN(parts); i++) {
		const struct ynode *n = tmplfile_part_node(t, parts[i]);

		if (n == NULL)		/* a page's subject and text */
			continue;
		tmplfile_opts(n, parts[i], p, &o);
		o.strict_names = 1;
		if (tmpl_render(n->str, n->len, model, &o, &out, d) == -1)
			rc = -1;
		buf_reset(&out);
	}
	buf_free(&out);
	return rc;
}

void
tmplfile_find_missing(const struct tmplfile *t, const struct ynode *model,
    struct partials *p, void (*fn)(void *, const char *, unsigned, unsigned, const char *,
    size_t), void *arg)
{
	static const enum tmplfile_part parts[] = { TMPLFILE_SUBJECT, TMPLFILE_TEXT,
		TMPLFILE_HTML };
	struct tmpl_opts o;
	struct buf out = BUF_INIT;
	struct diag quiet;
	size_t i;

	diag_init(&quiet, EXIT_DATAERR);
	for (i = 0; i < ARRAY_LEN(parts); i++) {
		const struct ynode *n = tmplfile_part_node(t, parts[i]);

		if (n == NULL)
			continue;
		tmplfile_opts(n, parts[i], p, &o);
		o.on_missing = fn;
		o.missing_arg = arg;
		tmpl_render(n->str, n->len, model, &o, &out, &quiet);
		buf_reset(&out);
	}
	buf_free(&out);
	diag_free(&quiet);
}

int
tmplfile_render(const struct tmplfile *t, enum tmplfile_part part,
    const struct ynode *ctx, struct partials *p, struct buf *out, struct diag *d)
{
	const struct ynode *n = tmplfile_part_node(t, part);
	struct tmpl_opts o;

	if (n == NULL)
		fatalx("rendering a template that failed to load");
	tmplfile_opts(n, part, p, &o);
	return tmpl_render(n->str, n->len, ctx, &o, out, d);
}
