/*
 * validate.h - the whole project checked at once: templates (with their
 * partials), lists, releases and what they refer to. Every problem goes
 * to d; nothing stops at the first.
 */
#ifndef HERALD_VALIDATE_H
#define HERALD_VALIDATE_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "list.h"
#include "project.h"
#include "release.h"
#include "schema.h"
#include "tmplfile.h"

/* What a valid list file defines, so that later steps need not read it again to find it. */
struct validate_list {
	char *id, *file, *template_name;
	char *lang;			/* the list's `lang`, or NULL */
};

struct validate_summary {
	size_t lists, subscribers, templates, releases;
	struct validate_list *index;	/* every list with an id, by file order */
	size_t nindex;
	/* validate_project_keep's release, when kept is 1: its bytes and its parse. */
	int kept;
	struct release release;
	char *release_data;
	size_t release_len;
};

/* sum may be NULL; otherwise free it with validate_summary_free. */
void validate_project(const struct config *cfg, struct diag *d, struct validate_summary *sum);
/*
 * As validate_project, with the warnings only herald check gives: a
 * subscriber field that only some of a list's subscribers have, printed by
 * its template outside a section on it.
 */
void validate_project_warn(const struct config *cfg, struct diag *d,
    struct validate_summary *sum);
/*
 * What a send takes from the check's one reading of the lists: each valid
 * subscriber as list_load() streams it (info->file says from which list),
 * and each list's info once the file is read whole. list may move the
 * info's members out (zeroing *info). Every list of the project with an
 * id is handed over, errors or not: the send acts only when the check
 * found none in the lists it goes to.
 */
struct validate_sink {
	list_sub_fn subscriber;
	void (*list)(void *arg, struct list_info *info);
	void *arg;
};

/*
 * As validate_project, for a send of the release file keep to lists (n
 * ids; none: the release's own). When keep is one of the project's and
 * valid, sum keeps it (kept = 1), so that the send reads and parses it
 * once; sink (may be NULL) gets the lists' subscribers, so that it reads
 * each list once. An error in a list the send does not go to is a warning
 * for it: one bad address in an unrelated list must not hold up every
 * release.
 */
void validate_project_keep(const struct config *cfg, struct diag *d,
    struct validate_summary *sum, const char *keep, char *const *lists, size_t n,
    const struct validate_sink *sink);
void validate_summary_free(struct validate_summary *sum);
/* The list with that id, or NULL. */
const struct validate_list *validate_find_list(const struct validate_summary *sum,
    const char *id);

#endif
