/*
 * archive.c - the press room: a static site of the releases that went out; see archive.h.
 */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "lang.h"
#include "list.h"
#include "project.h"
#include "release.h"
#include "render.h"
#include "template.h"
#include "timefmt.h"
#include "tmplfile.h"

#define ARCHIVE_MANIFEST ".herald-archive"
#define ARCHIVE_LOCK ".herald-archive.lock"
#define ARCHIVE_FILE_MODE 0644
#define ARCHIVE_DIR_MODE 0755

/* What every built-in page shares: readable on a phone, a long link wraps instead of widening it. */
#define ARCHIVE_STYLE \
	"<style>\n" \
	"body { margin: 0; background: #f6f7f9; color: #1f2933;" \
	" font: 17px/1.6 Georgia, 'Times New Roman', serif; }\n" \
	"header, main, footer { max-width: 42rem; margin: 0 auto; padding: 0 20px;" \
	" overflow-wrap: anywhere; word-break: break-word; }\n" \
	"header { padding-top: 20px; font: bold 13px/1.4 Helvetica, Arial, sans-serif;" \
	" letter-spacing: 1px; text-transform: uppercase; }\n" \
	"header a { color: #0b2f4a; text-decoration: none; }\n" \
	"footer { padding-top: 24px; padding-bottom: 32px; border-top: 1px solid #e5e7eb;" \
	" font: 13px/1.5 Helvetica, Arial, sans-serif; color: #6b7280; }\n" \
	"a { color: #0b5cab; }\n" \
	"h1 { margin: 24px 0 8px; font: bold 28px/1.25 Helvetica, Arial, sans-serif; color: #0b2f4a; }\n" \
	"h2 { margin: 24px 0 8px; font: bold 19px/1.3 Helvetica, Arial, sans-serif; color: #0b2f4a; }\n" \
	".meta, nav { font: 14px/1.5 Helvetica, Arial, sans-serif; color: #4b5563; }\n" \
	".summary { font-size: 19px; color: #374151; }\n" \
	".about { padding: 4px 20px; background: #eef3f8; border-left: 4px solid #0b5cab; font-size: 15px; }\n" \
	"img { max-width: 100%; height: auto; }\n" \
	"pre { overflow-x: auto; white-space: pre-wrap; }\n" \
	"blockquote { margin: 0 0 16px; padding-left: 16px; border-left: 3px solid #c9d3dd; }\n" \
	"ol.releases { list-style: none; margin: 0; padding: 0; }\n" \
	"ol.releases li { padding: 8px 0 16px; border-bottom: 1px solid #e5e7eb; }\n" \
	"</style>\n"

/* A release's page when the project has no templates/archive.yaml. */
static const char archive_page[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"{{release.lang}}\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>{{release.title}}</title>\n"
	"{{#release.summary}}\n"
	"<meta name=\"description\" content=\"{{release.summary}}\">\n"
	"{{/release.summary}}\n"
	"{{#release.url}}\n"
	"<link rel=\"canonical\" href=\"{{release.url}}\">\n"
	"{{/release.url}}\n"
	"{{#translated}}\n"
	"{{#versions}}\n"
	"<link rel=\"alternate\" hreflang=\"{{lang}}\" href=\"{{href}}\">\n"
	"{{/versions}}\n"
	"{{/translated}}\n"
	"<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{{archive.title}}\""
	" href=\"{{archive.feed}}\">\n"
	ARCHIVE_STYLE
	"</head>\n"
	"<body>\n"
	"<header><a href=\"{{archive.index}}\">{{archive.title}}</a></header>\n"
	"<main>\n"
	"<article>\n"
	"{{#translated}}\n"
	"<nav aria-label=\"Languages\">\n"
	"{{#versions}}\n"
	"{{#current}}<strong lang=\"{{lang}}\">{{lang}}</strong>{{/current}}"
	"{{^current}}<a href=\"{{href}}\" hreflang=\"{{lang}}\" lang=\"{{lang}}\">{{lang}}</a>{{/current}}\n"
	"{{/versions}}\n"
	"</nav>\n"
	"{{/translated}}\n"
	"<h1>{{release.title}}</h1>\n"
	"<p class=\"meta\"><time datetime=\"{{release.date}}\">{{release.date_local}}</time>"
	"{{#release.byline}} &middot; By {{release.byline}}{{/release.byline}}"
	"{{#release.dateline}} &middot; {{release.dateline}}{{/release.dateline}}</p>\n"
	"{{#release.summary_html}}\n"
	"<div class=\"summary\">{{{release.summary_html}}}</div>\n"
	"{{/release.summary_html}}\n"
	"{{#release.body_html}}\n"
	"<div class=\"prose\">\n"
	"{{{release.body_html}}}\n"
	"</div>\n"
	"{{/release.body_html}}\n"
	"{{#release.about_html}}\n"
	"<section class=\"about\">\n"
	"<h2>Notes to editors</h2>\n"
	"<div>{{{release.about_html}}}</div>\n"
	"</section>\n"
	"{{/release.about_html}}\n"
	"{{#release.contact_html}}\n"
	"<section class=\"contact\">\n"
	"<h2>Contact</h2>\n"
	"<div>{{{release.contact_html}}}</div>\n"
	"</section>\n"
	"{{/release.contact_html}}\n"
	"{{#files}}\n"
	"<section class=\"files\">\n"
	"<h2>Files</h2>\n"
	"<ul>\n"
	"{{#release.attachments}}\n"
	"<li><a href=\"{{href}}\">{{name}}</a></li>\n"
	"{{/release.attachments}}\n"
	"</ul>\n"
	"</section>\n"
	"{{/files}}\n"
	"</article>\n"
	"</main>\n"
	"<footer>\n"
	"<p>Sent to {{#lists}}<span class=\"list\">{{name}}</span> {{/lists}}&middot;"
	" <a href=\"{{archive.index}}\">All releases</a> &middot;"
	" <a href=\"{{archive.feed}}\">Atom feed</a></p>\n"
	"<p>{{sender.name}}{{#sender.postal_address}}, {{sender.postal_address}}"
	"{{/sender.postal_address}}</p>\n"
	"</footer>\n"
	"</body>\n"
	"</html>\n";

/* The index: every published release, newest first. */
static const char archive_index[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"{{lang}}\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>{{archive.title}}</title>\n"
	"{{#archive.url}}\n"
	"<link rel=\"canonical\" href=\"{{archive.url}}\">\n"
	"{{/archive.url}}\n"
	"<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{{archive.title}}\""
	" href=\"feed.atom\">\n"
	ARCHIVE_STYLE
	"</head>\n"
	"<body>\n"
	"<header>{{sender.name}}</header>\n"
	"<main>\n"
	"<h1>Press releases</h1>\n"
	"{{^any}}\n"
	"<p>No releases yet.</p>\n"
	"{{/any}}\n"
	"{{#any}}\n"
	"<ol class=\"releases\">\n"
	"{{#releases}}\n"
	"<li lang=\"{{lang}}\">\n"
	"<h2><a href=\"{{href}}\">{{title}}</a></h2>\n"
	"<p class=\"meta\"><time datetime=\"{{date}}\">{{date_local}}</time>"
	"{{#translated}} &middot; {{#versions}}<a href=\"{{href}}\" hreflang=\"{{lang}}\""
	" lang=\"{{lang}}\">{{lang}}</a> {{/versions}}{{/translated}}</p>\n"
	"{{#summary_html}}\n"
	"<div>{{{summary_html}}}</div>\n"
	"{{/summary_html}}\n"
	"</li>\n"
	"{{/releases}}\n"
	"</ol>\n"
	"{{/any}}\n"
	"</main>\n"
	"<footer>\n"
	"<p><a href=\"feed.atom\">Atom feed</a></p>\n"
	"<p>{{sender.name}}{{#sender.postal_address}}, {{sender.postal_address}}"
	"{{/sender.postal_address}}</p>\n"
	"</footer>\n"
	"</body>\n"
	"</html>\n";

/*
 * Atom 1.0 (RFC 4287). Mustache's HTML escaping (& < > " ') is XML's too.
 * An entry has one alternate link, its page: readers differ on which of
 * several they take (the first, the last). Its translations are related
 * links, by their hreflang.
 */
static const char archive_feed[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{{lang}}\">\n"
	"<id>{{feed.id}}</id>\n"
	"<title>{{archive.title}}</title>\n"
	"<updated>{{feed.updated}}</updated>\n"
	"<author><name>{{sender.name}}</name></author>\n"
	"{{#feed.self}}\n"
	"<link rel=\"self\" type=\"application/atom+xml\" href=\"{{feed.self}}\"/>\n"
	"{{/feed.self}}\n"
	"<link rel=\"alternate\" type=\"text/html\" href=\"{{feed.home}}\"/>\n"
	"<generator>herald</generator>\n"
	"{{#entries}}\n"
	"<entry xml:lang=\"{{lang}}\">\n"
	"<id>{{id}}</id>\n"
	"<title>{{title}}</title>\n"
	"<link rel=\"alternate\" type=\"text/html\" hreflang=\"{{lang}}\" href=\"{{link}}\"/>\n"
	"{{#translations}}\n"
	"<link rel=\"related\" type=\"text/html\" hreflang=\"{{lang}}\" href=\"{{link}}\""
	" title=\"{{title}}\"/>\n"
	"{{/translations}}\n"
	"<published>{{published}}</published>\n"
	"<updated>{{published}}</updated>\n"
	"{{#summary}}\n"
	"<summary>{{summary}}</summary>\n"
	"{{/summary}}\n"
	"</entry>\n"
	"{{/entries}}\n"
	"</feed>\n";

/* A list a release went to, as pages name it. */
struct alist {
	char *id, *name, *description;
};

/* A release on the index: when it became public, and its index and feed entries. */
struct aentry {
	long long published;
	const char *id;
	struct ynode *index, *feed;
};

struct archive {
	const struct config *cfg;
	long long now;
	struct diag *d;
	struct archive_result *res;
	const char *dir;
	int dirfd, lockfd;
	struct partials partials;
	struct tmplset tmpls;		/* templates/archive.yaml and its variants; n == 0: built in */
	struct alist *lists;
	size_t nlists, caplists;
	struct ydoc *doc;		/* the entries, kept for the index and the feed */
	struct ydoc *page;		/* one page's context, cleared for the next */
	struct aentry *entries;
	size_t nentries, capentries;
	char **files;			/* what this run published, "RELEASE/NAME.html" */
	size_t nfiles, capfiles;
	char *title;			/* "SENDER: press releases" */
	struct buf out;
};

/* ---- writing ---- */

/* Which failure ends the run: the first one is kept. */
static void
archive_fail(struct archive *a, enum archive_end end, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	diag_error(a->d, NULL, 0, 0, "archive: %s", text);
	if (a->res->end == ARCHIVE_OK)
		a->res->end = end;
}

/* 1 when dirfd/name holds exactly data. */
static int
archive_same(int dirfd, const char *name, const char *data, size_t len)
{
	char chunk[65536];
	struct stat st;
	size_t off = 0;
	ssize_t got;
	int fd, same;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len &&
	    (st.st_mode & 07777) == ARCHIVE_FILE_MODE;
	while (same && off < len) {
		got = read(fd, chunk, len - off < sizeof(chunk) ? len - off : sizeof(chunk));
		if (got <= 0 || memcmp(chunk, data + off, (size_t)got) != 0)
			same = 0;
		else
			off += (size_t)got;
	}
	close(fd);
	return same;
}

/*
 * data as dirfd/name, through a temporary name beside it and a rename: a
 * reader sees the old file or the new one, never a part. 0 written, 1
 * unchanged (not written), -1 with errno.
 */
static int
archive_put(int dirfd, const char *name, const char *data, size_t len)
{
	static unsigned long seq;
	char tmp[300];
	size_t off = 0;
	ssize_t w;
	int fd, saved;

	if (archive_same(dirfd, name, data, len))
		return 1;
	snprintf(tmp, sizeof(tmp), ".%s.%ld.%lu.tmp", name, (long)getpid(), ++seq);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    ARCHIVE_FILE_MODE)) < 0)
		return -1;
	/* The process's umask (077: the journal is private) must not hide a public page. */
	if (fchmod(fd, ARCHIVE_FILE_MODE) < 0)
		goto fail;
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

/* A folder of the site, made readable by all when herald makes it. */
static int
archive_mkdir(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, ARCHIVE_DIR_MODE) == 0)
		return fchmodat(dirfd, name, ARCHIVE_DIR_MODE, 0);
	return errno == EEXIST ? 0 : -1;
}

/* dir and its parents, as mkdir -p; then dir open and locked against another writer. */
static int
archive_open_dir(struct archive *a)
{
	char *path = xstrdup(a->dir), *p;
	int rc = 0;

	for (p = path + 1; *p && rc == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		rc = archive_mkdir(AT_FDCWD, path);
		*p = '/';
	}
	if (rc == 0)
		rc = archive_mkdir(AT_FDCWD, path);
	free(path);
	if (rc < 0 || (a->dirfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		archive_fail(a, ARCHIVE_WRITE, "cannot make or open %s: %s", a->dir, strerror(errno));
		return -1;
	}
	a->lockfd = openat(a->dirfd, ARCHIVE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->lockfd < 0 || flock(a->lockfd, LOCK_EX) < 0) {
		archive_fail(a, ARCHIVE_WRITE, "cannot lock %s/%s: %s", a->dir, ARCHIVE_LOCK,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A page's bytes: C0 controls other than tab and line ends (a YAML
 * "\x01" can carry them) are no character HTML or XML may hold; each
 * becomes a space.
 */
static void
archive_clean(struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			b->data[i] = ' ';
	}
}

/* Renders ctx through t (NULL: the built-in src) into a->out. 0, or -1 (ARCHIVE_INVALID). */
static int
archive_render(struct archive *a, const struct tmplfile *t, const char *src,
    const struct ynode *ctx)
{
	struct tmpl_opts o;
	int rc;

	buf_reset(&a->out);
	if (t != NULL) {
		rc = tmplfile_render(t, TMPLFILE_HTML, ctx, &a->partials, &a->out, a->d);
	} else {
		memset(&o, 0, sizeof(o));
		o.escape = TMPL_ESCAPE_HTML;
		rc = tmpl_render(src, strlen(src), ctx, &o, &a->out, a->d);
	}
	if (rc == -1) {
		if (a->res->end == ARCHIVE_OK)
			a->res->end = ARCHIVE_INVALID;
		return -1;
	}
	archive_clean(&a->out);
	return 0;
}

/* a->out as dirfd/name; rel names it in errors and in the manifest (NULL: not listed). */
static int
archive_emit(struct archive *a, int dirfd, const char *name, const char *rel)
{
	int rc = archive_put(dirfd, name, a->out.data ? a->out.data : "", a->out.len);

	if (rc < 0) {
		archive_fail(a, ARCHIVE_WRITE, "cannot write %s/%s: %s", a->dir, rel ? rel : name,
		    strerror(errno));
		return -1;
	}
	if (rc == 0)
		a->res->written++;
	if (rel) {
		a->files = xgrow(a->files, &a->capfiles, a->nfiles + 1, sizeof(*a->files));
		a->files[a->nfiles++] = xstrdup(rel);
	}
	return 0;
}

/* ---- what a page says ---- */

static struct ynode *
archive_bool(struct ydoc *doc, int v)
{
	struct ynode *n = ynode_str(doc, v ? "true" : "false");

	n->style = YSTYLE_PLAIN;	/* a boolean to sections, as in YAML */
	return n;
}

/* A text node of doc, from s, which is freed. */
static struct ynode *
archive_own(struct ydoc *doc, char *s)
{
	struct ynode *n = ynode_str(doc, s);

	free(s);
	return n;
}

static int
archive_list_first(void *arg, const struct list_info *info, const struct subscriber *s)
{
	(void)arg, (void)info, (void)s;
	return 1;	/* the list's own keys come before its subscribers: read no further */
}

/* List id's name and description, read once per run; the id when its file is gone. */
static const struct alist *
archive_list(struct archive *a, const char *id)
{
	struct list_info info;
	struct alist *l;
	struct diag quiet;
	char *path;
	size_t i;

	for (i = 0; i < a->nlists; i++)
		if (strcmp(a->lists[i].id, id) == 0)
			return &a->lists[i];
	diag_init(&quiet, EXIT_DATAERR);
	memset(&info, 0, sizeof(info));
	if ((path = project_list_path(a->cfg, id, &quiet)) != NULL)
		list_load(path, &info, archive_list_first, NULL, &quiet);
	a->lists = xgrow(a->lists, &a->caplists, a->nlists + 1, sizeof(*a->lists));
	l = &a->lists[a->nlists++];
	l->id = xstrdup(id);
	l->name = xstrdup(info.name ? info.name : id);
	l->description = info.description ? xstrdup(info.description) : NULL;
	list_info_free(&info);
	free(path);
	diag_free(&quiet);
	return l;
}

/* `lists`: the lists the release went to, by their names. */
static struct ynode *
archive_lists_node(struct archive *a, struct ydoc *doc, const char *spaced)
{
	struct ynode *seq = ynode_seq(doc), *m;
	char *copy = xstrdup(spaced ? spaced : ""), *tok, *save = NULL;
	const struct alist *l;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		l = archive_list(a, tok);
		m = ynode_map(doc);
		ynode_map_set(doc, m, "id", ynode_str(doc, l->id));
		ynode_map_set(doc, m, "name", ynode_str(doc, l->name));
		if (l->description)
			ynode_map_set(doc, m, "description", ynode_str(doc, l->description));
		ynode_seq_push(seq, m);
	}
	free(copy);
	return seq;
}

/* `archive`: the site's title, where its index and feed are from a page, its address. */
static struct ynode *
archive_site_node(struct archive *a, struct ydoc *doc, const char *up)
{
	struct ynode *m = ynode_map(doc);

	ynode_map_set(doc, m, "title", ynode_str(doc, a->title));
	ynode_map_set(doc, m, "index", archive_own(doc, xasprintf("%sindex.html", up)));
	ynode_map_set(doc, m, "feed", archive_own(doc, xasprintf("%sfeed.atom", up)));
	if (a->cfg->sender.archive_url)
		ynode_map_set(doc, m, "url", ynode_str(doc, a->cfg->sender.archive_url));
	return m;
}

/* The file of version v in its release's folder: index.html, or LANG.html. */
static char *
archive_page_name(const struct render_versions *rv, size_t v)
{
	return v == 0 ? xstrdup("index.html") : xasprintf("%s.html", rv->v[v].lang);
}

/*
 * `versions`: every language of the release, each with its title, its
 * link from prefix (the page's own folder: ""; the index: "ID/") and its
 * address; current marks version cur (-1: none).
 */
static struct ynode *
archive_versions_node(struct archive *a, struct ydoc *doc, const struct render_versions *rv,
    const char *prefix, long cur)
{
	struct ynode *seq = ynode_seq(doc), *m;
	const struct ynode *title;
	char *name;
	size_t i;

	for (i = 0; i < rv->n; i++) {
		m = ynode_map(doc);
		ynode_map_set(doc, m, "lang", ynode_str(doc, rv->v[i].lang));
		if ((title = ynode_get(rv->v[i].fields, "title")) != NULL)
			ynode_map_set(doc, m, "title", ynode_str(doc, title->str));
		name = archive_page_name(rv, i);
		ynode_map_set(doc, m, "href", archive_own(doc, xasprintf("%s%s", prefix, name)));
		free(name);
		if (a->cfg->sender.archive_url)
			ynode_map_set(doc, m, "url", archive_own(doc, render_release_url(
			    a->cfg->sender.archive_url, rv, i)));
		ynode_map_set(doc, m, "current", archive_bool(doc, (long)i == cur));
		ynode_seq_push(seq, m);
	}
	return seq;
}

/* ---- one release ---- */

/* A text field of version v, or NULL. */
static const char *
archive_field(const struct render_versions *rv, size_t v, const char *name)
{
	const struct ynode *n = ynode_get(rv->v[v].fields, name);

	return n ? n->str : NULL;
}

/* The tag URI (RFC 4151) of a release: the sender's domain, the day it went public, its id. */
static char *
archive_tag(const struct archive *a, long long day_of, const char *what)
{
	char iso[32];

	timefmt_iso_utc(day_of, iso, sizeof(iso));
	return xasprintf("tag:%s,%.10s:%s", a->cfg->sender.domain, iso, what);
}

/* The release on the index: its title, date, summary and languages, linked from the index. */
static struct ynode *
archive_index_entry(struct archive *a, const struct render_versions *rv, const char *id,
    const char *iso, const char *local)
{
	struct ydoc *doc = a->doc;
	struct ynode *ix = ynode_map(doc);
	const char *title = archive_field(rv, 0, "title"), *summary = archive_field(rv, 0,
	    "summary_html");

	ynode_map_set(doc, ix, "id", ynode_str(doc, id));
	ynode_map_set(doc, ix, "lang", ynode_str(doc, rv->v[0].lang));
	ynode_map_set(doc, ix, "title", ynode_str(doc, title ? title : id));
	if (summary)
		ynode_map_set(doc, ix, "summary_html", ynode_str(doc, summary));
	ynode_map_set(doc, ix, "date", ynode_str(doc, iso));
	ynode_map_set(doc, ix, "date_local", ynode_str(doc, local));
	ynode_map_set(doc, ix, "href", archive_own(doc, xasprintf("%s/index.html", id)));
	ynode_map_set(doc, ix, "versions", archive_versions_node(a, doc, rv,
	    archive_own(doc, xasprintf("%s/", id))->str, -1));
	ynode_map_set(doc, ix, "translated", archive_bool(doc, rv->n > 1));
	return ix;
}

/*
 * The release in the feed: its tag URI, title, summary, the time it went
 * public, and its page; each translation's page as a related link. The
 * links are relative to the feed, which sits beside the folders, without
 * archive_url.
 */
static struct ynode *
archive_feed_entry(struct archive *a, const struct render_versions *rv, const char *id,
    long long published, const char *iso)
{
	const char *base = a->cfg->sender.archive_url ? a->cfg->sender.archive_url : "";
	struct ydoc *doc = a->doc;
	struct ynode *fe = ynode_map(doc), *seq = ynode_seq(doc), *m;
	const char *text;
	size_t i;

	ynode_map_set(doc, fe, "id", archive_own(doc, archive_tag(a, published, id)));
	text = archive_field(rv, 0, "title");
	ynode_map_set(doc, fe, "title", ynode_str(doc, text ? text : id));
	if ((text = archive_field(rv, 0, "summary")) != NULL)
		ynode_map_set(doc, fe, "summary", ynode_str(doc, text));
	ynode_map_set(doc, fe, "published", ynode_str(doc, iso));
	ynode_map_set(doc, fe, "lang", ynode_str(doc, rv->v[0].lang));
	ynode_map_set(doc, fe, "link", archive_own(doc, render_release_url(base, rv, 0)));
	for (i = 1; i < rv->n; i++) {
		m = ynode_map(doc);
		ynode_map_set(doc, m, "lang", ynode_str(doc, rv->v[i].lang));
		ynode_map_set(doc, m, "link", archive_own(doc, render_release_url(base, rv, i)));
		text = archive_field(rv, i, "title");
		ynode_map_set(doc, m, "title", ynode_str(doc, text ? text : id));
		ynode_seq_push(seq, m);
	}
	ynode_map_set(doc, fe, "translations", seq);
	return fe;
}

/* The release's entries on the index and in the feed, kept in a->doc until both are written. */
static void
archive_entries(struct archive *a, const struct render_versions *rv, const char *id,
    long long published, const char *iso, const char *local)
{
	struct aentry *e;

	a->entries = xgrow(a->entries, &a->capentries, a->nentries + 1, sizeof(*a->entries));
	e = &a->entries[a->nentries++];
	e->published = published;
	e->index = archive_index_entry(a, rv, id, iso, local);
	e->feed = archive_feed_entry(a, rv, id, published, iso);
	e->id = ynode_get(e->index, "id")->str;
}

/* Version v's page: its context (no subscriber, no token), rendered and written into relfd. */
static int
archive_page_write(struct archive *a, const struct store_published *p,
    const struct render_versions *rv, size_t v, int relfd)
{
	struct ydoc *doc = a->page;
	struct ynode *ctx = ynode_map(doc);
	const struct tmplfile *t = a->tmpls.n ? tmplset_pick(&a->tmpls, rv->v[v].lang) : NULL;
	char *name = archive_page_name(rv, v), *rel = xasprintf("%s/%s", p->release_id, name);
	int rc = -1;

	ynode_map_set(doc, ctx, "release", rv->v[v].fields);
	ynode_map_set(doc, ctx, "versions", archive_versions_node(a, doc, rv, "", (long)v));
	ynode_map_set(doc, ctx, "translated", archive_bool(doc, rv->n > 1));
	ynode_map_set(doc, ctx, "files", archive_bool(doc, ynode_get(rv->v[v].fields,
	    "attachments") != NULL));
	ynode_map_set(doc, ctx, "lists", archive_lists_node(a, doc, p->lists));
	ynode_map_set(doc, ctx, "sender", render_sender_node(doc, a->cfg));
	ynode_map_set(doc, ctx, "archive", archive_site_node(a, doc, "../"));
	if (archive_render(a, t, archive_page, ctx) == 0 && archive_emit(a, relfd, name, rel) == 0)
		rc = 0;
	a->res->pages++;
	free(rel);
	free(name);
	ydoc_clear(doc);
	return rc;
}

/* ---- the files a release's pages show ---- */

/*
 * The release's attachments and the images its text shows, copied into
 * its folder under their own names so that the pages can link and show
 * them (and a digest's links under sender.archive_url lead somewhere):
 * messages carry them, pages cannot.
 */
struct afile {
	char *path;			/* of the project, decoded */
	char *name;			/* in the release's folder */
};

struct afiles {
	struct afile *v;
	size_t n, cap;
};

static void
afiles_free(struct afiles *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].name);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* A name that could be a page's: index.html, LANG.html. */
static int
archive_page_like(const char *name)
{
	char lang[LANG_MAX];
	size_t n = strlen(name);

	return strcmp(name, "index.html") == 0 || (n > 5 && strcmp(name + n - 5, ".html") == 0 &&
	    n - 5 < LANG_MAX && lang_tag_check(name, n - 5, lang) == 0);
}

/* path's name in the folder (its own, unless another file or a page has it); path is taken. */
static const char *
afiles_add(struct afiles *f, char *path)
{
	const char *base = release_file_name(path);
	char *name;
	size_t i, k = 1;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].path, path) == 0) {
			free(path);
			return f->v[i].name;
		}
	name = xstrdup(base[0] != '\0' && base[0] != '.' ? base : "file");
	for (;;) {
		for (i = 0; i < f->n && strcmp(f->v[i].name, name) != 0; i++)
			;
		if (i == f->n && !archive_page_like(name))
			break;
		free(name);
		name = xasprintf("%zu-%s", ++k, base[0] != '\0' && base[0] != '.' ? base : "file");
	}
	f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	f->v[f->n].path = path;
	f->v[f->n].name = name;
	return f->v[f->n++].name;
}

/* name as a relative URL: unreserved characters kept, every other byte %XX. */
static void
archive_href(struct buf *b, const char *name)
{
	const unsigned char *c;

	for (c = (const unsigned char *)name; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("-._~", *c))
			buf_addc(b, (char)*c);
		else
			buf_addf(b, "%%%02X", *c);
	}
}

struct arewrite {
	const char *html;
	struct afiles *f;
	struct buf out;
	size_t done;			/* bytes of html copied to out */
};

/* One <img src>: a path of the project becomes the name of its copy. */
static void
archive_image(void *arg, size_t at, size_t vlen)
{
	struct arewrite *w = arg;
	char *path = attach_decode(w->html + at, vlen, 1);

	if (path == NULL || !attach_is_path(path)) {
		free(path);
		return;
	}
	buf_add(&w->out, w->html + w->done, at - w->done);
	archive_href(&w->out, afiles_add(w->f, path));
	w->done = at + vlen;
}

/*
 * In every version's *_html field, each image a path names now shows its
 * copy; and each attachment gets href, its copy's relative address.
 */
static void
archive_files_note(struct render_versions *rv, const struct release *r, struct afiles *f)
{
	struct arewrite w;
	struct ynode *fields, *v, *seq;
	struct buf href = BUF_INIT;
	const char *name;
	size_t i, j, n;

	for (i = 0; i < r->nattachments; i++)
		afiles_add(f, xstrdup(r->attachments[i]));
	for (i = 0; i < rv->n; i++) {
		fields = rv->v[i].fields;
		for (j = 0; j < fields->n; j++) {
			v = fields->items[2 * j + 1];
			n = strlen(fields->items[2 * j]->str);
			if (v->kind != YNODE_SCALAR || n < 5 ||
			    strcmp(fields->items[2 * j]->str + n - 5, "_html") != 0)
				continue;
			memset(&w, 0, sizeof(w));
			w.html = v->str;
			w.f = f;
			attach_html_images(v->str, v->len, archive_image, &w);
			if (w.done == 0)
				continue;
			buf_add(&w.out, v->str + w.done, v->len - w.done);
			fields->items[2 * j + 1] = ynode_str(rv->v[i].doc, buf_str(&w.out));
			buf_free(&w.out);
		}
		seq = (struct ynode *)ynode_get(fields, "attachments");
		for (j = 0; seq && seq->kind == YNODE_SEQ && j < seq->n && j < r->nattachments; j++) {
			name = afiles_add(f, xstrdup(r->attachments[j]));
			buf_reset(&href);
			archive_href(&href, name);
			ynode_map_set(rv->v[i].doc, seq->items[j], "href",
			    ynode_str(rv->v[i].doc, buf_str(&href)));
			ynode_map_set(rv->v[i].doc, seq->items[j], "file",
			    ynode_str(rv->v[i].doc, name));
		}
	}
	buf_free(&href);
}

/* The copies, each listed for the manifest; one that cannot be read is left out, said. */
static void
archive_files_copy(struct archive *a, const char *release_id, const struct afiles *f,
    int relfd)
{
	char *data, *rel;
	size_t i, len;
	int fd, rc;

	for (i = 0; i < f->n; i++) {
		if ((fd = util_open_under(".", f->v[i].path)) < 0 ||
		    util_read_fd(fd, &data, &len) < 0) {
			diag_warn(a->d, NULL, 0, 0, "archive: release %s: %s: %s; its page links "
			    "to it in vain", release_id, f->v[i].path, util_beneath_error(errno));
			continue;
		}
		rel = xasprintf("%s/%s", release_id, f->v[i].name);
		rc = archive_put(relfd, f->v[i].name, data, len);
		if (rc < 0)
			archive_fail(a, ARCHIVE_WRITE, "cannot write %s/%s: %s", a->dir, rel,
			    strerror(errno));
		else {
			if (rc == 0)
				a->res->written++;
			a->files = xgrow(a->files, &a->capfiles, a->nfiles + 1, sizeof(*a->files));
			a->files[a->nfiles++] = xstrdup(rel);
		}
		free(rel);
		free(data);
	}
}

/* Every page of a published release, in its folder. */
static int
archive_release_pages(struct archive *a, const struct store_published *p,
    struct render_versions *rv, const struct release *r, long long published)
{
	struct afiles files = { 0 };
	char iso[32], local[64];
	size_t v;
	int relfd, rc = 0;

	timefmt_iso_utc(published, iso, sizeof(iso));
	if (timefmt_human(published, a->cfg->tz, local, sizeof(local)) == -1)
		timefmt_human(published, NULL, local, sizeof(local));
	for (v = 0; v < rv->n; v++) {
		ynode_map_set(rv->v[v].doc, rv->v[v].fields, "date", ynode_str(rv->v[v].doc, iso));
		ynode_map_set(rv->v[v].doc, rv->v[v].fields, "date_local",
		    ynode_str(rv->v[v].doc, local));
	}
	if (archive_mkdir(a->dirfd, p->release_id) < 0 ||
	    (relfd = openat(a->dirfd, p->release_id, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0) {
		archive_fail(a, ARCHIVE_WRITE, "cannot make %s/%s: %s", a->dir, p->release_id,
		    strerror(errno));
		return -1;
	}
	archive_files_note(rv, r, &files);
	for (v = 0; v < rv->n && rc == 0; v++)
		rc = archive_page_write(a, p, rv, v, relfd);
	if (rc == 0)
		archive_files_copy(a, p->release_id, &files, relfd);
	afiles_free(&files);
	close(relfd);
	if (rc == 0)
		archive_entries(a, rv, p->release_id, published, iso, local);
	return rc;
}

/*
 * One release that went out: its pages when it is public and lifted;
 * else withheld, and its lift noted when that is what it waits for.
 */
static int
archive_release(struct archive *a, const struct store_published *p)
{
	struct render_versions rv;
	struct release rel;
	struct diag quiet;
	long long lift, published;
	int rc = 0;

	diag_init(&quiet, EXIT_DATAERR);
	if (release_load_mem(p->file ? p->file : p->release_id, p->snapshot ? p->snapshot : "",
	    p->snapshot_len, &rel, &quiet) == -1) {
		diag_warn(a->d, NULL, 0, 0, "archive: release %s: the journal's copy no longer "
		    "reads as a release; left out", p->release_id);
		a->res->withheld++;
		goto out;
	}
	lift = rel.has_embargo && rel.embargo > p->lift ? rel.embargo : p->lift;
	if (!rel.is_public || lift > a->now) {
		a->res->withheld++;
		if (rel.is_public && (a->res->next_lift == 0 || lift < a->res->next_lift))
			a->res->next_lift = lift;
		goto out;
	}
	published = p->sent_at > lift ? p->sent_at : lift;
	render_versions_init(&rv, &rel, a->cfg->lang);
	render_versions_link(&rv, a->cfg->sender.archive_url);
	rc = archive_release_pages(a, p, &rv, &rel, published);
	render_versions_free(&rv);
out:
	release_free(&rel);
	diag_free(&quiet);
	return rc;
}

/* ---- the index, the feed, and what is no longer published ---- */

/* Newest first; the id breaks a tie, so that the order never changes between runs. */
static int
archive_entry_cmp(const void *x, const void *y)
{
	const struct aentry *a = x, *b = y;

	if (a->published != b->published)
		return a->published > b->published ? -1 : 1;
	return strcmp(a->id, b->id);
}

static int
archive_index_write(struct archive *a)
{
	struct ydoc *doc = a->page;
	struct ynode *ctx = ynode_map(doc), *ix = ynode_seq(doc), *fe = ynode_seq(doc), *feed;
	char iso[32], *s;
	size_t i;
	int rc = -1;

	if (a->nentries > 1)
		qsort(a->entries, a->nentries, sizeof(*a->entries), archive_entry_cmp);
	for (i = 0; i < a->nentries; i++) {
		ynode_seq_push(ix, a->entries[i].index);
		ynode_seq_push(fe, a->entries[i].feed);
	}
	ynode_map_set(doc, ctx, "lang", ynode_str(doc, a->cfg->lang ? a->cfg->lang : "en"));
	ynode_map_set(doc, ctx, "sender", render_sender_node(doc, a->cfg));
	ynode_map_set(doc, ctx, "archive", archive_site_node(a, doc, ""));
	ynode_map_set(doc, ctx, "any", archive_bool(doc, a->nentries > 0));
	ynode_map_set(doc, ctx, "releases", ix);
	ynode_map_set(doc, ctx, "entries", fe);
	/* The feed's id stays put: the day its oldest release went public. */
	feed = ynode_map(doc);
	s = archive_tag(a, a->nentries ? a->entries[a->nentries - 1].published : a->now, "archive");
	ynode_map_set(doc, feed, "id", ynode_str(doc, s));
	free(s);
	timefmt_iso_utc(a->nentries ? a->entries[0].published : a->now, iso, sizeof(iso));
	ynode_map_set(doc, feed, "updated", ynode_str(doc, iso));
	if (a->cfg->sender.archive_url) {
		s = xasprintf("%sfeed.atom", a->cfg->sender.archive_url);
		ynode_map_set(doc, feed, "self", ynode_str(doc, s));
		free(s);
	}
	ynode_map_set(doc, feed, "home", ynode_str(doc, a->cfg->sender.archive_url ?
	    a->cfg->sender.archive_url : "index.html"));
	ynode_map_set(doc, ctx, "feed", feed);
	if (archive_render(a, NULL, archive_index, ctx) == 0 &&
	    archive_emit(a, a->dirfd, "index.html", NULL) == 0 &&
	    archive_render(a, NULL, archive_feed, ctx) == 0 &&
	    archive_emit(a, a->dirfd, "feed.atom", NULL) == 0)
		rc = 0;
	ydoc_clear(doc);
	return rc;
}

/*
 * A manifest line herald could have written: RELEASE/index.html,
 * RELEASE/LANG.html, or a file's copy RELEASE/NAME.
 */
static int
archive_manifest_ok(const char *line)
{
	const char *slash = strchr(line, '/'), *name;

	if (slash == NULL || slash == line || slash - line > 64 ||
	    strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
	    (size_t)(slash - line))
		return 0;
	name = slash + 1;
	/* A page, or a file's copy: one plain name, never a hidden one. */
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

/* dirfd/name's text; NULL when there is none (the first run). The caller owns it. */
static char *
archive_read_at(int dirfd, const char *name)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	ssize_t got;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)got);
	close(fd);
	return buf_detach(&b);
}

static int
archive_str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * The pages the last run listed that this one did not write are no
 * longer published: removed, and their folder when that leaves it empty.
 * Then the list of this run's pages replaces the last one's.
 */
static int
archive_prune(struct archive *a)
{
	char *data = NULL, *line, *save = NULL, *slash, *key;
	struct buf manifest = BUF_INIT;
	size_t i;
	int rc = 0;

	if (a->nfiles > 1)
		qsort(a->files, a->nfiles, sizeof(*a->files), archive_str_cmp);
	data = archive_read_at(a->dirfd, ARCHIVE_MANIFEST);
	for (line = data ? strtok_r(data, "\n", &save) : NULL; line;
	    line = strtok_r(NULL, "\n", &save)) {
		key = line;
		if (!archive_manifest_ok(line) ||
		    bsearch(&key, a->files, a->nfiles, sizeof(*a->files), archive_str_cmp))
			continue;
		if (unlinkat(a->dirfd, line, 0) == 0)
			a->res->removed++;
		else if (errno != ENOENT)
			archive_fail(a, ARCHIVE_WRITE, "cannot remove %s/%s: %s", a->dir, line,
			    strerror(errno));
		slash = strchr(line, '/');
		*slash = '\0';
		unlinkat(a->dirfd, line, AT_REMOVEDIR);	/* only when empty: it may hold more */
	}
	free(data);
	for (i = 0; i < a->nfiles; i++)
		buf_addf(&manifest, "%s\n", a->files[i]);
	if (archive_put(a->dirfd, ARCHIVE_MANIFEST, manifest.data ? manifest.data : "",
	    manifest.len) < 0) {
		archive_fail(a, ARCHIVE_WRITE, "cannot write %s/%s: %s", a->dir, ARCHIVE_MANIFEST,
		    strerror(errno));
		rc = -1;
	}
	buf_free(&manifest);
	return rc;
}

/* ---- the run ---- */

/* templates/archive.yaml and its variants, when the project has them, checked as check does. */
static int
archive_templates(struct archive *a)
{
	struct ydoc *doc;
	size_t i, before = a->d->errors;

	if (!tmplfile_exists(a->cfg->templates_dir, ARCHIVE_TEMPLATE))
		return 0;
	if (tmplset_load_page(a->cfg->templates_dir, ARCHIVE_TEMPLATE, &a->partials, &a->tmpls,
	    a->d) == 0) {
		doc = ydoc_new("model");
		for (i = 0; i < a->tmpls.n; i++)
			tmplfile_check_names(&a->tmpls.t[i], archive_model(doc), &a->partials, a->d);
		ydoc_free(doc);
	}
	if (a->d->errors == before)
		return 0;
	a->res->end = ARCHIVE_INVALID;
	return -1;
}

static void
archive_free(struct archive *a)
{
	size_t i;

	for (i = 0; i < a->nlists; i++) {
		free(a->lists[i].id);
		free(a->lists[i].name);
		free(a->lists[i].description);
	}
	free(a->lists);
	for (i = 0; i < a->nfiles; i++)
		free(a->files[i]);
	free(a->files);
	free(a->entries);
	ydoc_free(a->doc);
	ydoc_free(a->page);
	tmplset_free(&a->tmpls);
	partials_free(&a->partials);
	buf_free(&a->out);
	free(a->title);
	if (a->lockfd >= 0)
		close(a->lockfd);	/* and the lock with it */
	if (a->dirfd >= 0)
		close(a->dirfd);
}

void
archive_write(const struct config *cfg, struct store *st, const char *dir, long long now,
    struct archive_result *res, struct diag *d)
{
	struct store_published *pubs = NULL;
	struct archive a;
	size_t i, n = 0;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	a.cfg = cfg;
	a.now = now;
	a.d = d;
	a.res = res;
	a.dir = dir;
	a.dirfd = a.lockfd = -1;
	a.doc = ydoc_new("archive");
	a.page = ydoc_new("archive");
	a.title = xasprintf("%s: press releases", cfg->sender.from_name ? cfg->sender.from_name :
	    cfg->sender.from_addr);
	partials_init(&a.partials, cfg->templates_dir);
	/* Nothing is written when the template is invalid or the journal cannot be read. */
	if (archive_templates(&a) == -1)
		goto out;
	if (st != NULL && store_published(st, &pubs, &n) == -1) {
		archive_fail(&a, ARCHIVE_JOURNAL, "journal: %s", store_error(st));
		goto out;
	}
	if (archive_open_dir(&a) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (archive_release(&a, &pubs[i]) == -1)
			goto out;
	res->published = a.nentries;
	/* The index stops naming a page before the page goes. */
	if (archive_index_write(&a) == 0)
		archive_prune(&a);
out:
	store_published_free(pubs, n);
	archive_free(&a);
}

int
archive_template_name(const char *stem)
{
	size_t b = tmplfile_variant_base(stem);

	return strcmp(stem, ARCHIVE_TEMPLATE) == 0 ||
	    (b == strlen(ARCHIVE_TEMPLATE) && strncmp(stem, ARCHIVE_TEMPLATE, b) == 0);
}

struct ynode *
archive_model(struct ydoc *doc)
{
	static const char *const release_more[] = { "id", "lang", "embargo", "expires", "url",
		"date", "date_local", NULL };
	static const char *const version_keys[] = { "lang", "title", "href", "url", "current",
		NULL };
	static const char *const list_keys[] = { "id", "name", "description", NULL };
	static const char *const sender_keys[] = { "name", "address", "postal_address", NULL };
	static const char *const site_keys[] = { "title", "index", "feed", "url", NULL };
	static const char *const file_keys[] = { "name", "href", "file", NULL };
	struct ynode *ctx = ynode_map(doc), *m, *seq;
	char *key;
	size_t i;

	m = ynode_map(doc);
	for (i = 0; release_text_fields[i]; i++) {
		ynode_map_set(doc, m, release_text_fields[i], ynode_str(doc, "x"));
		key = xasprintf("%s_html", release_text_fields[i]);
		ynode_map_set(doc, m, key, ynode_str(doc, "x"));
		free(key);
		key = xasprintf("%s_source", release_text_fields[i]);
		ynode_map_set(doc, m, key, ynode_str(doc, "x"));
		free(key);
	}
	for (i = 0; release_more[i]; i++)
		ynode_map_set(doc, m, release_more[i], ynode_str(doc, "x"));
	seq = ynode_seq(doc);
	ynode_seq_push(seq, ynode_map(doc));
	for (i = 0; file_keys[i]; i++)
		ynode_map_set(doc, seq->items[0], file_keys[i], ynode_str(doc, "x"));
	ynode_map_set(doc, m, "attachments", seq);
	ynode_map_set(doc, ctx, "release", m);
	ynode_map_set(doc, ctx, "files", ynode_str(doc, "x"));
	m = ynode_map(doc);
	for (i = 0; version_keys[i]; i++)
		ynode_map_set(doc, m, version_keys[i], ynode_str(doc, "x"));
	seq = ynode_seq(doc);
	ynode_seq_push(seq, m);
	ynode_map_set(doc, ctx, "versions", seq);
	ynode_map_set(doc, ctx, "translated", ynode_str(doc, "x"));
	m = ynode_map(doc);
	for (i = 0; list_keys[i]; i++)
		ynode_map_set(doc, m, list_keys[i], ynode_str(doc, "x"));
	seq = ynode_seq(doc);
	ynode_seq_push(seq, m);
	ynode_map_set(doc, ctx, "lists", seq);
	m = ynode_map(doc);
	for (i = 0; sender_keys[i]; i++)
		ynode_map_set(doc, m, sender_keys[i], ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "sender", m);
	m = ynode_map(doc);
	for (i = 0; site_keys[i]; i++)
		ynode_map_set(doc, m, site_keys[i], ynode_str(doc, "x"));
	ynode_map_set(doc, ctx, "archive", m);
	return ctx;
}
