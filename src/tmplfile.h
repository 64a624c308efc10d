/*
 * tmplfile.h - templates/NAME.yaml (subject, text, html) and the partials
 * in templates/partials/NAME.mustache they include.
 */
#ifndef HERALD_TMPLFILE_H
#define HERALD_TMPLFILE_H

#include "diag.h"
#include "template.h"
#include "yamltree.h"

struct partial {
	char *name, *file, *src;
	size_t len;
};

/* Partials are read once and kept for every render of the same template set. */
struct partials {
	char *dir;
	struct partial *items;
	size_t n, cap;
	/*
	 * Where a partial that exists but may not be read (a symlink out of
	 * partials/, not a regular file) is reported, once per name; NULL:
	 * it is only unknown. tmplfile_load sets it to its diag.
	 */
	struct diag *d;
	char **refused;
	size_t nrefused;
};

struct tmplfile {
	char *name, *file;
	const char *lang;		/* a variant's language (the end of name), or NULL */
	struct ydoc *doc;
	const struct ynode *subject, *text, *html;
};

/*
 * A template and its language variants: templates/T.yaml and each
 * templates/T.LANG.yaml beside it whose LANG is a language tag in its one
 * spelling (lang.h), such as T.es.yaml or T.pt-BR.yaml. A template is
 * always named by its whole file stem: `template: T.es` names T.es.yaml
 * itself (whose variants would be T.es.LANG.yaml), and T.es.yaml is a
 * variant only of the template T, only when T is the one in use.
 */
struct tmplset {
	struct tmplfile *t;		/* t[0] T itself, then each variant, by name */
	size_t n;
};

enum tmplfile_part { TMPLFILE_SUBJECT, TMPLFILE_TEXT, TMPLFILE_HTML };

void partials_init(struct partials *p, const char *templates_dir);
void partials_free(struct partials *p);
/* dst: every partial src has read so far, for another thread's own use. */
void partials_copy(struct partials *dst, const struct partials *src);
/* A tmpl_partial_fn over a struct partials. */
int partials_lookup(void *arg, const char *name, const char **src, size_t *len,
    struct tmpl_pos *pos);

/* templates_dir/NAME.yaml; 1 when it exists. */
int tmplfile_exists(const char *templates_dir, const char *name);
/*
 * Loads and checks a template: its keys, and the mustache syntax of each part
 * with every partial it includes. 0, or -1 with errors in d.
 */
int tmplfile_load(const char *templates_dir, const char *name, struct partials *p,
    struct tmplfile *t, struct diag *d);
/*
 * A web page's template (herald archive): the same file with only `html`,
 * rendered with HTML escaping; subject and text stay NULL, and every
 * function below skips them.
 */
int tmplfile_load_page(const char *templates_dir, const char *name, struct partials *p,
    struct tmplfile *t, struct diag *d);
void tmplfile_free(struct tmplfile *t);
/*
 * When stem (a file's name without .yaml) is BASE.LANG, LANG a language
 * tag in its one spelling: the length of BASE; else 0.
 */
size_t tmplfile_variant_base(const char *stem);

/* Loads T (name) and every variant of it, as tmplfile_load. 0, or -1 with errors in d. */
int tmplset_load(const char *templates_dir, const char *name, struct partials *p,
    struct tmplset *s, struct diag *d);
/* The same for a page's template and its variants, as tmplfile_load_page. */
int tmplset_load_page(const char *templates_dir, const char *name, struct partials *p,
    struct tmplset *s, struct diag *d);
/* The template for a reader of lang: the variant that serves them best (lang.h), else T itself. */
const struct tmplfile *tmplset_pick(const struct tmplset *s, const char *lang);
void tmplset_free(struct tmplset *s);
/* Renders one part against ctx (HTML escaping for the html part). */
/*
 * Renders every part of t against model, a context that holds every name
 * data could supply, and reports each name it uses that none supplies
 * (see tmpl_opts.strict_names). 0, or -1 with the errors in d.
 */
int tmplfile_check_names(const struct tmplfile *t, const struct ynode *model,
    struct partials *p, struct diag *d);
/*
 * Renders every part of t against model and calls fn for each
 * interpolation whose name model lacks, with where it is (see
 * tmpl_opts.on_missing). Errors are not reported: checked elsewhere.
 */
void tmplfile_find_missing(const struct tmplfile *t, const struct ynode *model,
    struct partials *p, void (*fn)(void *, const char *, unsigned, unsigned, const char *,
    size_t), void *arg);
int tmplfile_render(const struct tmplfile *t, enum tmplfile_part part,
    const struct ynode *ctx, struct partials *p, struct buf *out, struct diag *d);

#endif
