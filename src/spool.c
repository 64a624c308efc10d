/*
 * spool.c - a list's subscribers kept in a temporary file; see spool.h.
 */
#include "spool.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct spool {
	FILE *f;
	size_t n;
	char *rec;		/* the record being read: address, NUL, fields */
	size_t cap;
};

struct spool *
spool_new(void)
{
	struct spool *sp;
	FILE *f;

	if ((f = tmpfile()) == NULL)
		return NULL;
	sp = xcalloc(1, sizeof(*sp));
	sp->f = f;
	return sp;
}

/* A record: two 32-bit lengths (address, fields), then their bytes. */
int
spool_add(struct spool *sp, const char *email, const void *fields, size_t len)
{
	uint32_t h[2];

	h[0] = (uint32_t)strlen(email);
	h[1] = (uint32_t)len;
	if (fwrite(h, sizeof(h), 1, sp->f) != 1 || fwrite(email, 1, h[0], sp->f) != h[0] ||
	    (len > 0 && fwrite(fields, 1, len, sp->f) != len))
		return -1;
	sp->n++;
	return 0;
}

int
spool_rewind(struct spool *sp)
{
	if (fflush(sp->f) == EOF)
		return -1;
	rewind(sp->f);
	return 0;
}

int
spool_next(struct spool *sp, const char **email, const void **fields, size_t *len)
{
	uint32_t h[2];
	size_t need;

	if (fread(h, sizeof(h), 1, sp->f) != 1) {
		if (ferror(sp->f))
			return -1;
		return 0;
	}
	need = (size_t)h[0] + 1 + h[1];
	if (need > sp->cap) {
		sp->cap = need;
		sp->rec = xrealloc(sp->rec, sp->cap);
	}
	if (fread(sp->rec, 1, h[0], sp->f) != h[0] ||
	    fread(sp->rec + h[0] + 1, 1, h[1], sp->f) != h[1]) {
		if (!ferror(sp->f))
			errno = EIO;	/* a record cut short: the file was truncated */
		return -1;
	}
	sp->rec[h[0]] = '\0';
	*email = sp->rec;
	*fields = sp->rec + h[0] + 1;
	*len = h[1];
	return 1;
}

size_t
spool_count(const struct spool *sp)
{
	return sp->n;
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	fclose(sp->f);
	free(sp->rec);
	free(sp);
}
