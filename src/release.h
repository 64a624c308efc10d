/*
 * release.h - releases/NAME.yaml: one press release, validated.
 */
#ifndef HERALD_RELEASE_H
#define HERALD_RELEASE_H

#include "diag.h"
#include "segment.h"
#include "yamltree.h"

/* The text fields a release may carry; each is CommonMark, and each may be translated. */
extern const char *const release_text_fields[];

/* One entry of `translations:`: a language and the text fields written in it. */
struct release_translation {
	const char *lang;		/* a tag in its one spelling (lang.h) */
	const struct ynode *key;	/* where it was named */
	const struct ynode *fields;	/* a mapping of text fields; those it lacks are the release's */
};

struct release {
	char *file, *id;
	struct ydoc *doc;		/* owns every node below */
	const struct ynode *root;
	const struct ynode *title;	/* the title node, for positions */
	char **lists;			/* list ids, in file order */
	const struct ynode **list_nodes;	/* where each was named */
	size_t nlists;
	const char *template_name;	/* or NULL: each list's template */
	const struct ynode *template_node;
	int has_embargo, has_expires;
	long long embargo, expires;
	/*
	 * `prebrief`: these lists get it before the lift (embargo), marked;
	 * from prebrief_at when has_prebrief_at, else from when it is sent.
	 */
	char **prebrief_lists;
	size_t nprebrief;
	int has_prebrief_at;
	long long prebrief_at;
	/* `deliver_local: "HH:MM"`: minutes after local midnight, or -1. */
	int deliver_local;
	const char *lang;		/* `lang:`, or NULL: release_lang says which */
	const struct ynode *lang_node;
	struct release_translation *translations;	/* in file order */
	size_t ntranslations;
	struct segment where;		/* `where`; no keys: everyone on the lists */
	char **attachments;		/* paths in the project, in file order (attach.h) */
	const struct ynode **attachment_nodes;	/* where each was named */
	size_t nattachments;
	/*
	 * `public: false`: never in the archive (herald archive) and no
	 * release.url in its messages; default true.
	 */
	int is_public;
};

/* RELEASE on the command line: an id in dir, or a path to a file. The caller owns the result. */
char *release_path(const char *dir, const char *arg);
/* Loads and checks one release; 0, or -1 with every error in d. Free with release_free. */
int release_load(const char *path, struct release *r, struct diag *d);
/* The same from a buffer (a snapshot in the journal); path names it in errors. */
int release_load_mem(const char *path, const char *data, size_t len, struct release *r,
    struct diag *d);
void release_free(struct release *r);
/*
 * The list ids a send or schedule uses, separated by single spaces: the
 * `override` ones (--list) when there are any, else the release's own.
 * The caller owns the result ("" when there are none).
 */
char *release_lists_joined(const struct release *r, char **override, size_t n);
/* 1 when list id is one of the release's pre-briefing lists. */
int release_prebriefs(const struct release *r, const char *list);
/*
 * The first moment anything of the release may go out: the pre-briefing's
 * time (0 when it goes when sent), else the embargo, else 0.
 */
long long release_opens(const struct release *r);
/* The name a reader sees for an attached path: its last component. Points into path. */
const char *release_file_name(const char *path);
/* A text field's value, or NULL. */
const char *release_field(const struct release *r, const char *name);
/*
 * A text field in translation tr (an index of r->translations; -1: the
 * release's own): the translation's value, else the release's; NULL when
 * neither has it.
 */
const char *release_field_in(const struct release *r, long tr, const char *name);
/* The release's own language: its `lang`, else def (the config's `lang`), else "en". */
const char *release_lang(const struct release *r, const char *def);
/* The index of the translation into lang, or -1. */
long release_translation(const struct release *r, const char *lang);

#endif
