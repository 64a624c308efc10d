/*
 * relsrc.h - a release file as a source of the sending engine
 * (delivery.h): the project checked, the release recorded in the journal
 * (its snapshot is what goes out, even if the file changes later), its
 * lists expanded into delivery rows, each row rendered from the list's
 * template; the embargo and the expiry are its window. `herald send` and
 * the daemon send releases through it; `herald send --dry-run` renders
 * everything without the journal or the relay.
 */
#ifndef HERALD_RELSRC_H
#define HERALD_RELSRC_H

#include <stddef.h>

#include "config.h"
#include "delivery.h"

struct diag;
struct release;
struct segment;
struct store;

/*
 * Which lists a send goes to: each --list when given; else, for the daemon
 * (journal_lists), the lists the journal recorded when it was scheduled;
 * else the release's own. Every current recipient of those lists who has
 * no delivery of the release yet gets it, also after the release is done.
 *
 * Who of them: the release's `where` with --where's keys in place of its
 * keys of the same name (segment_combine); for the daemon, the segment
 * the journal recorded. A subscriber left out gets no delivery row.
 */
struct relsrc_args {
	const char *release_arg;	/* an id (releases/ID.yaml) or a path */
	char **lists;			/* --list; NULL/0: the release's own */
	size_t nlists;
	const struct segment *where;	/* --where; NULL or no keys: the release's own */
	int journal_lists;		/* the daemon: lists and segment from the journal */
};

/* Sends (or resumes) the release; as delivery_run. */
void relsrc_send(const struct config *cfg, const struct relsrc_args *a,
    const struct delivery_opts *o, struct delivery_result *r, struct diag *d);

/* What a dry run found: the messages that would go, and why the others would not. */
struct relsrc_dry {
	int count_only;			/* in: count who would get it, render nothing */
	char release_id[256];
	char lists[256];		/* the lists it would go to, "a, b" */
	size_t would, suppressed, dup, digest;
	size_t had;			/* have a delivery of it already */
	size_t early;			/* of `would`: in the pre-briefing's early wave */
	size_t bytes;			/* of every message rendered */
	/* With a segment: it, and of the subscribers who get each release, how many it kept. */
	int segmented;
	char segment[256];
	size_t kept, left;
};

/*
 * Expands and renders everything, sends nothing, writes nothing (the
 * journal is read, when there is one, for suppressions). r->end is
 * DELIVERY_DONE when it went through, else as delivery_run says.
 * out->count_only is read: set it to count without rendering.
 */
void relsrc_dry_run(const struct config *cfg, const struct relsrc_args *a,
    struct relsrc_dry *out, struct delivery_result *r, struct diag *d);

/*
 * Records rel (read from path as data, len bytes) in the journal: its
 * snapshot, the lists it goes to (lists, space-separated), the segment
 * (rel's `where` with `where`'s keys in place), its state (RS_SCHEDULED
 * with scheduled_at, or RS_SENDING) at now. The one place a release enters
 * the journal: `herald schedule` and a send call it. Returns 0 with *row,
 * or -1 (store_error says why).
 */
int relsrc_record(struct store *st, const struct release *rel, const char *path,
    const char *data, size_t len, const char *lists, const struct segment *where, int state,
    long long scheduled_at, long long now, long long *row);

#endif
