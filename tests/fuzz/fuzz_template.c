/*
 * fuzz_template.c - libFuzzer target for the mustache engine.
 *
 * Input: TEMPLATE NUL PARTIAL (no NUL: no partial text). The template can
 * name the partial as {{>p}} and itself as {{>self}}; other names are
 * unknown; {{v}} is the partial's text as a plain YAML scalar (number
 * printing). The input's length picks the options, so every mode is
 * reached. Each input is rendered against a small fixed context and
 * checked with tmpl_check; a broken promise of the API aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

struct fuzz_src {
	const char *tmpl, *part;
	size_t tlen, plen;
};

static int
fuzz_partial(void *arg, const char *name, const char **src, size_t *len,
    struct tmpl_pos *pos)
{
	const struct fuzz_src *f = arg;

	if (strcmp(name, "p") == 0) {
		*src = f->part;
		*len = f->plen;
		pos->file = "p.mustache";
	} else if (strcmp(name, "self") == 0) {
		*src = f->tmpl;
		*len = f->tlen;
		pos->file = "self.mustache";
	} else {
		return -1;
	}
	pos->line = 1;
	pos->col = 1;
	return 0;
}

static struct ynode *
fuzz_plain(struct ydoc *doc, const char *s)
{
	struct ynode *n = ynode_str(doc, s);

	/* As if read from YAML: plain scalars carry null, false and numbers. */
	n->style = YSTYLE_PLAIN;
	return n;
}

static struct ynode *
fuzz_list(struct ydoc *doc, struct ynode *a, struct ynode *b, struct ynode *c)
{
	struct ynode *l = ynode_seq(doc);

	ynode_seq_push(l, a);
	ynode_seq_push(l, b);
	if (c != NULL)
		ynode_seq_push(l, c);
	return l;
}

/*
 * { name: "Ana <&>", t: true, f: false, n: null, num: 1.210, int: 85,
 *   list: [a, b, {name: c}], empty: [], a: {b: {c: deep, list: [1, 2]}} }
 */
static struct ynode *
fuzz_context(struct ydoc *doc)
{
	struct ynode *root = ynode_map(doc), *a = ynode_map(doc),
	    *b = ynode_map(doc), *item = ynode_map(doc);

	ynode_map_set(doc, root, "name", ynode_str(doc, "Ana <&>\"'"));
	ynode_map_set(doc, root, "t", fuzz_plain(doc, "true"));
	ynode_map_set(doc, root, "f", fuzz_plain(doc, "false"));
	ynode_map_set(doc, root, "n", fuzz_plain(doc, "null"));
	ynode_map_set(doc, root, "num", fuzz_plain(doc, "1.210"));
	ynode_map_set(doc, root, "int", fuzz_plain(doc, "85"));
	ynode_map_set(doc, item, "name", ynode_str(doc, "c"));
	ynode_map_set(doc, root, "list", fuzz_list(doc, ynode_str(doc, "a"),
	    ynode_str(doc, "b"), item));
	ynode_map_set(doc, root, "empty", ynode_seq(doc));
	ynode_map_set(doc, b, "c", ynode_str(doc, "deep"));
	ynode_map_set(doc, b, "list", fuzz_list(doc, fuzz_plain(doc, "1"),
	    fuzz_plain(doc, "2.50"), NULL));
	ynode_map_set(doc, a, "b", b);
	ynode_map_set(doc, root, "a", a);
	return root;
}

static void
fuzz_run(const struct fuzz_src *f, const struct ynode *ctx, size_t size)
{
	struct tmpl_opts o;
	struct buf out = BUF_INIT;
	struct diag d;
	int rc;

	memset(&o, 0, sizeof(o));
	o.escape = size & 1 ? TMPL_ESCAPE_HTML : TMPL_ESCAPE_NONE;
	o.strict_partials = (size & 2) != 0;
	o.partial = fuzz_partial;
	o.partial_arg = (void *)f;
	o.pos.file = "t.yaml";
	o.pos.line = 1 + (unsigned)(size & 7);
	o.pos.col = 3;
	o.pos.indent = (unsigned)(size & 4);
	diag_init(&d, EXIT_DATAERR);
	rc = tmpl_render(f->tmpl, f->tlen, ctx, &o, &out, &d);
	/* -1 means errors reported and nothing appended; 0 means neither. */
	if ((rc == -1) != (d.errors > 0) || (rc == -1 && out.len != 0) ||
	    (rc != 0 && rc != -1))
		abort();
	buf_free(&out);
	diag_free(&d);
	diag_init(&d, EXIT_DATAERR);
	rc = tmpl_check(f->tmpl, f->tlen, &o, &d);
	if ((rc == -1) != (d.errors > 0) || (rc != 0 && rc != -1))
		abort();
	diag_free(&d);
}

/* The fixed context plus v: this input's partial text as a plain scalar. */
static struct ynode *
fuzz_with_v(struct ydoc *doc, const struct ynode *fixed, const char *s,
    size_t n)
{
	struct ynode *root = ynode_map(doc), *v = ynode_scalar(doc, s, n);
	size_t i;

	v->style = YSTYLE_PLAIN;
	for (i = 0; i < fixed->n; i++)
		ynode_map_set(doc, root, ynode_key(fixed, i)->str,
		    ynode_val(fixed, i));
	ynode_map_set(doc, root, "v", v);
	return root;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ydoc *fixed_doc;
	static struct ynode *fixed;
	const char *s = (const char *)data, *nul;
	struct fuzz_src f;
	struct ydoc *doc;

	if (fixed_doc == NULL) {
		fixed_doc = ydoc_new("fuzz");
		fixed = fuzz_context(fixed_doc);
	}
	nul = size ? memchr(s, '\0', size) : NULL;
	f.tmpl = size ? s : "";
	f.tlen = nul ? (size_t)(nul - s) : size;
	f.part = nul ? nul + 1 : "";
	f.plen = nul ? size - f.tlen - 1 : 0;
	doc = ydoc_new("fuzz-input");
	fuzz_run(&f, fuzz_with_v(doc, fixed, f.part, f.plen), size);
	ydoc_free(doc);
	return 0;
}
