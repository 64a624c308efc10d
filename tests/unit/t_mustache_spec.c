/*
 * t_mustache_spec.c - the official mustache spec, every case, through
 * tmpl_render with HTML escaping and partials from each case's map.
 * The spec lives in $SHARED/conformance/mustache ($SHARED: ../shared); a
 * clone alone has no ../shared, and there every case is a TAP skip.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "template.h"

static const char *const spec_files[] = {
	"comments", "delimiters", "interpolation", "inverted", "partials",
	"sections",
};

/* Partials come from the case's `partials` map, positioned where YAML has them. */
static int
spec_partial(void *arg, const char *name, const char **src, size_t *len,
    struct tmpl_pos *pos)
{
	const struct ynode *v = ynode_get(arg, name);

	if (v == NULL || v->kind != YNODE_SCALAR)
		return -1;
	*src = v->str;
	*len = v->len;
	pos->file = v->file;
	pos->line = v->text_line;
	pos->col = v->text_col;
	pos->indent = v->style == YSTYLE_LITERAL || v->style == YSTYLE_FOLDED ?
	    v->text_col - 1 : 0;
	return 0;
}

static const char *
spec_str(const struct ynode *c, const char *key, size_t *len)
{
	const struct ynode *v = ynode_get(c, key);

	if (v == NULL || v->kind != YNODE_SCALAR) {
		*len = 0;
		return NULL;
	}
	*len = v->len;
	return v->str;
}

/* One case: 1 when it renders exactly the expected text. */
static int
spec_case(const char *file, const struct ynode *c)
{
	struct tmpl_opts o;
	struct buf out = BUF_INIT;
	struct diag d;
	const char *name, *tmpl, *want;
	size_t nlen, tlen, wlen;
	int rc, pass;

	diag_init(&d, EXIT_DATAERR);
	memset(&o, 0, sizeof(o));
	o.escape = TMPL_ESCAPE_HTML;
	o.partial = spec_partial;
	o.partial_arg = ynode_get(c, "partials");
	name = spec_str(c, "name", &nlen);
	tmpl = spec_str(c, "template", &tlen);
	want = spec_str(c, "expected", &wlen);
	rc = tmpl && want ? tmpl_render(tmpl, tlen, ynode_get(c, "data"), &o,
	    &out, &d) : -1;
	pass = ok(rc == 0 && out.len == wlen &&
	    memcmp(buf_str(&out), want, wlen) == 0, "%s: %s", file,
	    name ? name : "(no name)");
	if (!pass) {
		tap_diag("     got: '%s' (rc %d)", buf_str(&out), rc);
		tap_diag("expected: '%s'", want ? want : "(none)");
		diag_print(&d);
	}
	buf_free(&out);
	diag_free(&d);
	return pass;
}

/* Runs one spec file; adds its cases to *total and the passing ones to *pass. */
static void
spec_file(const char *dir, const char *stem, int *total, int *pass)
{
	struct ydoc *doc;
	struct diag d;
	const struct ynode *tests;
	char *path = xasprintf("%s/%s.yml", dir, stem);
	size_t i;

	diag_init(&d, EXIT_DATAERR);
	doc = ydoc_load_file(path, &d);
	tests = doc ? ynode_get(ydoc_root(doc), "tests") : NULL;
	/* Only a failure gets a TAP line of its own: one line per case. */
	if (tests == NULL || tests->kind != YNODE_SEQ) {
		ok(0, "%s loads", path);
		diag_print(&d);
	}
	for (i = 0; tests != NULL && tests->kind == YNODE_SEQ && i < tests->n;
	    i++) {
		(*total)++;
		*pass += spec_case(stem, tests->items[i]);
	}
	ydoc_free(doc);
	diag_free(&d);
	free(path);
}

int
main(void)
{
	const char *shared = getenv("SHARED");
	struct stat st;
	char *dir;
	int total = 0, pass = 0;
	size_t i;

	dir = xasprintf("%s/conformance/mustache",
	    shared && *shared ? shared : "../shared");
	if (stat(dir, &st) == -1) {
		printf("1..0 # SKIP ../shared not present (%s)\n", dir);
		free(dir);
		return 0;
	}
	for (i = 0; i < ARRAY_LEN(spec_files); i++)
		spec_file(dir, spec_files[i], &total, &pass);
	tap_diag("mustache spec: %d/%d cases pass", pass, total);
	free(dir);
	return done_testing();
}
