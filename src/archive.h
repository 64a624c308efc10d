/*
 * archive.h - herald archive: the press room, a static site of the
 * releases that went out.
 *
 *   DIR/index.html            every published release, newest first
 *   DIR/RELEASE/index.html    the release in its own language
 *   DIR/RELEASE/LANG.html     each translation
 *   DIR/feed.atom             Atom 1.0, an entry per release
 *
 * Published: the journal's snapshot (what was sent, not the file now) of
 * each release that went out (done, or being sent with a delivery sent),
 * whose embargo has lifted (the journal's lift and the snapshot's
 * embargo), and that does not say `public: false`. Pages are rendered
 * from a context with no subscriber and no token in it (archive_model
 * names all it holds), through templates/archive.yaml (an `html` key,
 * variants archive.LANG.yaml) when the project has one, else a built-in
 * page; the index and the feed are built in.
 *
 * Every file is written to a temporary name in its own folder and renamed
 * over the old one, so that a reader (a web server) never sees half a
 * page; a file whose bytes would not change is not written at all. Files
 * are 0644 and folders 0755: the site is for others to read. What herald
 * wrote is listed in DIR/.herald-archive; a page listed there that is no
 * longer published is removed, and nothing else in DIR ever is. Two
 * writers at once take turns (a lock on DIR/.herald-archive.lock).
 */
#ifndef HERALD_ARCHIVE_H
#define HERALD_ARCHIVE_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "store.h"
#include "yamltree.h"

/* The template of a release's page: templates/archive.yaml. */
#define ARCHIVE_TEMPLATE "archive"

enum archive_end {
	ARCHIVE_OK,
	ARCHIVE_INVALID,	/* templates/archive.yaml is invalid: the errors are in d */
	ARCHIVE_JOURNAL,	/* the journal could not be read: in d */
	ARCHIVE_WRITE,		/* DIR or a file in it could not be written: in d */
};

struct archive_result {
	enum archive_end end;
	size_t published;	/* releases on the index */
	size_t pages;		/* release pages (each language one) */
	size_t written;		/* files written because they changed */
	size_t removed;		/* pages removed: no longer published */
	size_t withheld;	/* went out, but not public or not lifted yet */
	long long next_lift;	/* the earliest lift still ahead of one withheld for it; 0: none */
};

/*
 * Writes the archive of cfg's journal st (NULL: none yet, nothing went out) into dir, as it stands at now.
 * Journal and write errors and the template's are added to d (as
 * errors; a release whose snapshot no longer loads is a warning, and is
 * left out). Logs nothing; the caller says what happened.
 */
void archive_write(const struct config *cfg, struct store *st, const char *dir, long long now,
    struct archive_result *res, struct diag *d);

/* 1 when a template's file stem is the archive page's (archive, archive.LANG). */
int archive_template_name(const char *stem);

/*
 * Every name a page's context holds, each a non-empty string, in doc:
 * what herald check renders templates/archive.yaml against. No
 * subscriber.* and no unsubscribe.*: a page is for everyone.
 */
struct ynode *archive_model(struct ydoc *doc);

#endif
