/*
 * fuzz_yaml.c - the YAML loader and the loaders on top of it (config and
 * release checks) against any bytes; a valid release is then rendered in
 * each of its languages (translations, field by field fallback), with its
 * pages' addresses (release.url), and goes on through the press kit's
 * check (attach.h: its attachments and the images its Markdown names,
 * opened beneath the working folder, never read) and the fields templates
 * see of its attachments.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "config.h"
#include "diag.h"
#include "release.h"
#include "render.h"
#include "yamltree.h"

/* What a release that loads goes on to: the check of its files, and its template fields. */
static void
fuzz_release_kit(const struct release *r, struct diag *d)
{
	struct render_release rr;
	struct config c;

	memset(&c, 0, sizeof(c));
	c.limits.attachments = 4096;
	attach_check_release(&c, r, d);
	render_release_init(&rr, r, NULL);
	render_release_links(&rr, "https://news.example/files/");
	render_release_free(&rr);
}

static void
fuzz_file(const uint8_t *data, size_t size, int which)
{
	char path[] = "/tmp/herald-fuzz-XXXXXX";
	int fd = mkstemp(path);
	struct config c;
	struct release r;
	struct render_versions rv;
	struct diag d;

	if (fd == -1)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	diag_init(&d, EXIT_DATAERR);
	if (which) {
		config_load(path, &c, &d);
		config_free(&c);
	} else {
		if (release_load(path, &r, &d) == 0) {
			render_versions_init(&rv, &r, "pt-BR");
			render_versions_link(&rv, "https://press.example/releases/");
			render_versions_pick(&rv, "pt-BR");
			render_versions_free(&rv);
			fuzz_release_kit(&r, &d);
		}
		release_free(&r);
	}
	diag_free(&d);
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct ydoc *doc;

	diag_init(&d, EXIT_DATAERR);
	doc = ydoc_load_mem("fuzz.yaml", (const char *)data, size, &d);
	ydoc_free(doc);
	diag_free(&d);
	if (size > 0)
		fuzz_file(data + 1, size - 1, data[0] & 1);
	return 0;
}
