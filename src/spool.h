/*
 * spool.h - a list's subscribers as the project check read them, kept for
 * the expansion that follows, so that a send reads and parses each list
 * file once.
 *
 * A spool is an unlinked temporary file (tmpfile(3), so in TMPDIR when
 * set): a million subscribers cost disk, not memory. Each record is an
 * address and its template fields packed by render_fields_pack().
 */
#ifndef HERALD_SPOOL_H
#define HERALD_SPOOL_H

#include <stddef.h>

struct spool;

/* NULL with errno set when no temporary file can be made. */
struct spool *spool_new(void);
/* Appends one record; -1 with errno set on a write error. */
int spool_add(struct spool *sp, const char *email, const void *fields, size_t len);
/* Ends writing and starts reading from the first record; -1 with errno set. */
int spool_rewind(struct spool *sp);
/*
 * The next record: 1 with *email and *fields valid until the next call,
 * 0 at the end, -1 on a read error or a short record (errno set).
 */
int spool_next(struct spool *sp, const char **email, const void **fields, size_t *len);
size_t spool_count(const struct spool *sp);
/* Closes and frees; accepts NULL. */
void spool_free(struct spool *sp);

#endif
