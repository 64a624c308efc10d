/*
 * mbuf.h - a message's bytes: most its own, some borrowed.
 *
 * A release's attachments are base64-encoded once for the whole send and
 * shared by every message of it: a message holds its own bytes (headers,
 * text, HTML, the MIME frames) and, at places among them, references to
 * those shared runs, which the message never frees. Readers (DKIM,
 * libcurl's upload, a preview) see one stream of bytes, the runs in order.
 *
 * Ownership: the own bytes are the mbuf's; a borrowed run must outlive
 * every mbuf that refers to it (the source that made it frees it after the
 * send, when no message is in flight).
 */
#ifndef HERALD_MBUF_H
#define HERALD_MBUF_H

#include <stddef.h>

#include "util.h"

struct mbuf_ref {
	size_t at;		/* how many own bytes come before it */
	const char *p;
	size_t len;
};

struct mbuf {
	struct buf own;
	struct mbuf_ref *refs;	/* by `at`, never decreasing */
	size_t nrefs, cap;
	size_t borrowed;	/* the bytes of every ref */
};
#define MBUF_INIT { BUF_INIT, NULL, 0, 0, 0 }

/* Every byte: own and borrowed. */
size_t mbuf_len(const struct mbuf *m);
/* Borrows len bytes at p, after the own bytes added so far. */
void mbuf_ref(struct mbuf *m, const char *p, size_t len);
/*
 * Makes data (len bytes, from malloc) the own bytes of m, which must be
 * empty; m frees it. data need not be NUL-terminated.
 */
void mbuf_adopt(struct mbuf *m, char *data, size_t len);
/* Inserts own bytes before everything else. */
void mbuf_prepend(struct mbuf *m, const char *p, size_t len);
/*
 * The runs in order, i from 0 to mbuf_runs(m) - 1: own bytes at even i,
 * borrowed ones at odd i; some may be empty.
 */
size_t mbuf_runs(const struct mbuf *m);
void mbuf_run(const struct mbuf *m, size_t i, const char **p, size_t *len);
/* Copies up to n bytes from offset off to out; how many (0 at the end). */
size_t mbuf_read(const struct mbuf *m, size_t off, char *out, size_t n);
/* Appends every byte to out. */
void mbuf_flatten(const struct mbuf *m, struct buf *out);
/* Hands m's contents to *to (which is overwritten) and leaves m empty. */
void mbuf_move(struct mbuf *to, struct mbuf *m);
/* Empties m, keeping its memory. */
void mbuf_reset(struct mbuf *m);
/* Frees the own bytes and the references; borrowed bytes are not m's. NULL is fine. */
void mbuf_free(struct mbuf *m);

#endif
