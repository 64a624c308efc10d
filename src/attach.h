/*
 * attach.h - a release's press kit: the files it attaches and the images
 * its HTML shows, checked by `herald check`, then read, typed (libmagic)
 * and base64-encoded once for every message of a send.
 *
 * A path names a file of the project, relative to the folder herald runs
 * in (as lists/ and templates/ are), and is opened beneath it
 * (util_open_under): a path that leads out ('..', a symlink, an absolute
 * path), a missing file and anything but a regular file are refused.
 *
 * Images travel inline: an image that a release's Markdown
 * (`![logo](files/logo.png)`) or a template (`<img src="files/logo.png">`)
 * names by path, and the configuration's sender.logo, is carried in a
 * multipart/related beside the HTML, which names it by cid: only. Every
 * message carries the release's attachments, and the images its own HTML
 * shows.
 */
#ifndef HERALD_ATTACH_H
#define HERALD_ATTACH_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "message.h"
#include "release.h"
#include "tmplfile.h"
#include "util.h"

struct attach_file {
	char *path;		/* as named, decoded: "files/report.pdf" */
	const char *name;	/* the name a reader sees, in path: "report.pdf" */
	char *type;		/* libmagic's, e.g. "application/pdf" */
	char *cid;		/* an image the HTML shows: its Content-ID; NULL: attached */
	unsigned long long size;
	struct buf b64;		/* message_base64 of its bytes, shared by every message */
};

/* Made before the sending threads start, and only read by them. */
struct attach_kit {
	char *domain;		/* of the Content-IDs */
	struct attach_file *files;
	size_t n, cap;
	void *magic;		/* libmagic's handle, opened for the first file */
};

/* ---- pure ---- */

/*
 * 1 when an image's src or Markdown URL names a file of the project: it
 * has no scheme ("https:", "cid:", "data:") and does not start with "//"
 * (another host) or "#".
 */
int attach_is_path(const char *url);

/*
 * A URL as the file path it names: HTML character references (&amp;,
 * &#39;, ...) when `entities`, then %XX escapes, decoded. NULL when that
 * gives a NUL byte. The caller owns it.
 */
char *attach_decode(const char *s, size_t len, int entities);

/*
 * Each src attribute of an <img> tag in html: where its value starts (an
 * offset) and its length, quotes left out. A value with "{{" in it (a
 * template's name, filled in per message) is not reported.
 */
void attach_html_images(const char *html, size_t len,
    void (*fn)(void *arg, size_t at, size_t vlen), void *arg);

/*
 * html (len bytes) appended to out with the src of every image of k it
 * shows made "cid:ID"; used[i] is set to 1 for each file i so shown (the
 * rest of used is left as it is).
 */
void attach_html_rewrite(const struct attach_kit *k, const char *html, size_t len,
    struct buf *out, unsigned char *used);

/*
 * What one message carries, into out (room for k->n): every attachment
 * of k, and the images that used marks. Returns how many; the strings
 * point into k.
 */
size_t attach_message_files(const struct attach_kit *k, const unsigned char *used,
    struct message_file *out);

/* ---- herald check ---- */

/*
 * The release's attachments and the images its Markdown names: each a
 * file of the project, and all of them together within limits.attachments.
 * Each problem an error at the YAML node that names the file.
 */
void attach_check_release(const struct config *cfg, const struct release *r, struct diag *d);

/*
 * The images an HTML template (or a partial) names by a literal path:
 * each a file of the project. pos is where html starts in its file.
 */
void attach_check_html(const char *html, size_t len, const struct tmpl_pos *pos,
    struct diag *d);

/* ---- the kit of a send ---- */

void attach_kit_init(struct attach_kit *k, const char *domain);
/*
 * Reads what the release carries: its attachments (unless images_only: a
 * digest carries none) and the images its Markdown names. 0, or -1 with
 * errors in d.
 */
int attach_kit_release(struct attach_kit *k, const struct release *r, int images_only,
    struct diag *d);
/* The images a template part or a partial names by a literal path; as above. */
int attach_kit_html(struct attach_kit *k, const char *html, size_t len,
    const struct tmpl_pos *pos, struct diag *d);
/* The images a loaded template and its partials name, as attach_kit_html. */
int attach_kit_templates(struct attach_kit *k, const struct tmplfile *t,
    const struct partials *p, struct diag *d);
/* sender.logo, when configured. */
int attach_kit_logo(struct attach_kit *k, const struct config *cfg, struct diag *d);
/* Bytes of every file of the kit, as base64: what a message carries at most. */
size_t attach_kit_bytes(const struct attach_kit *k);
void attach_kit_free(struct attach_kit *k);

/* Where a template part starts in its file, for attach_check_html. */
void attach_part_pos(const struct ynode *n, struct tmpl_pos *pos);

#endif
