/*
 * template.h - mustache templates rendered against a yamltree.
 *
 * The full mustache spec (interpolation, sections, inverted sections,
 * comments, partials, set delimiters; no lambdas), with herald's data
 * model: a plain YAML null or false, an empty sequence and a missing name
 * are falsey; a plain YAML decimal prints in normal form ("1.210" as
 * "1.21"); a map or a sequence interpolates as nothing.
 *
 * Pure: no I/O, no globals, no clock. Partials come from a caller's
 * loader. Every error is reported as file:line:col, computed from the
 * tmpl_pos of the text it is in. Hostile input is bounded: sections nest
 * at most TMPL_MAX_SECTIONS deep in one text, partials TMPL_MAX_PARTIALS
 * deep, and a render stops with an error after TMPL_MAX_STEPS steps or
 * TMPL_MAX_OUTPUT bytes of output.
 */
#ifndef HERALD_TEMPLATE_H
#define HERALD_TEMPLATE_H

#include <stddef.h>

#include "util.h"
#include "diag.h"
#include "yamltree.h"

#define TMPL_MAX_SECTIONS 100
#define TMPL_MAX_PARTIALS 64
#define TMPL_MAX_STEPS (1UL << 22)
#define TMPL_MAX_OUTPUT (16UL << 20)

enum tmpl_escape { TMPL_ESCAPE_NONE, TMPL_ESCAPE_HTML };

/*
 * Where a text starts in its file: line and col 1-based (0 is taken as 1);
 * lines after the first start at column indent+1 (the indentation of a
 * YAML block scalar; 0 for a whole file). file may be NULL (errors then
 * carry no position); the caller owns it.
 */
struct tmpl_pos {
	const char *file;
	unsigned line, col;
	unsigned indent;
};

/*
 * Loads a partial by name: returns 0 and sets *src, *len and *pos (where
 * the partial's text starts, for error positions); the loader owns the
 * memory, which must stay valid until tmpl_render/tmpl_check returns.
 * Returns -1: no such partial. Called at most once per name per call.
 */
typedef int (*tmpl_partial_fn)(void *arg, const char *name, const char **src,
    size_t *len, struct tmpl_pos *pos);

struct tmpl_opts {
	enum tmpl_escape escape;	/* {{x}}: HTML-escaped or not */
	tmpl_partial_fn partial;	/* NULL: no partials exist */
	void *partial_arg;
	int strict_partials;		/* 1: an unknown partial is an error; 0: it renders empty (the spec) */
	/*
	 * 1: a name that resolves to nothing is an error ("unknown name
	 * 'subscriber.firstname' (did you mean 'subscriber.name'?)"), for a
	 * check against a context that has every name data could supply;
	 * 0: it is falsey and renders empty (the spec).
	 */
	int strict_names;
	/*
	 * Called, when set, for each interpolation ({{x}}, {{{x}}}) whose name
	 * resolves to nothing, with where it is; sections are not reported:
	 * a name used only inside a section on it is guarded.
	 */
	void (*on_missing)(void *arg, const char *file, unsigned line, unsigned col,
	    const char *name, size_t len);
	void *missing_arg;
	struct tmpl_pos pos;		/* where src[0] is in its file */
};

/*
 * Renders src against ctx (ctx may be NULL: no data) and appends the
 * result to out. Returns 0, or -1 after adding every error to d; on -1
 * out is left as it was. Syntax errors in src stop the render before any
 * output; a problem in a partial (syntax, unknown when strict) is
 * reported where the render reaches it, once, and rendering goes on to
 * find the others. src and ctx are only read; o may be NULL (defaults).
 */
int tmpl_render(const char *src, size_t len, const struct ynode *ctx,
    const struct tmpl_opts *o, struct buf *out, struct diag *d);

/*
 * Checks syntax only: src, and every partial it names that the loader
 * has, recursively, each once; with strict_partials an unknown partial is
 * an error at each tag that names it. Returns 0 or -1 with errors in d.
 * "Once" is per call: checking several texts that share a broken partial
 * reports it once for each.
 */
int tmpl_check(const char *src, size_t len, const struct tmpl_opts *o,
    struct diag *d);

#endif
