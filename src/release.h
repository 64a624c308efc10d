/*
 * release.h - releases/NAME.yaml: one press release, validated.
 */
#ifndef HERALD_RELEASE_H
#define HERALD_RELEASE_H

#include "diag.h"
#include "yamltree.h"

/* The text fields a release may carry; each is CommonMark. */
extern const char *const release_text_fields[];

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
	char **attachments;		/* paths in the project, in file order (attach.h) */
	const struct ynode **attachment_nodes;	/* where each was named */
	size_t nattachments;
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
/* The name a reader sees for an attached path: its last component. Points into path. */
const char *release_file_name(const char *path);
/* A text field's value, or NULL. */
const char *release_field(const struct release *r, const char *name);

#endif
