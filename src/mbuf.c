/*
 * mbuf.c - a message's own and borrowed bytes; see mbuf.h.
 */
#include "mbuf.h"

#include <stdlib.h>
#include <string.h>

size_t
mbuf_len(const struct mbuf *m)
{
	return m->own.len + m->borrowed;
}

void
mbuf_ref(struct mbuf *m, const char *p, size_t len)
{
	if (len == 0)
		return;
	m->refs = xgrow(m->refs, &m->cap, m->nrefs + 1, sizeof(*m->refs));
	m->refs[m->nrefs].at = m->own.len;
	m->refs[m->nrefs].p = p;
	m->refs[m->nrefs].len = len;
	m->nrefs++;
	m->borrowed += len;
}

void
mbuf_adopt(struct mbuf *m, char *data, size_t len)
{
	if (mbuf_len(m) != 0 || m->own.data != NULL)
		fatalx("mbuf_adopt: the mbuf is not empty");
	/* cap == len: the first byte added reallocates, and terminates it again. */
	m->own.data = data;
	m->own.len = len;
	m->own.cap = len;
}

void
mbuf_prepend(struct mbuf *m, const char *p, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_grow(&b, len + m->own.len);
	buf_add(&b, p, len);
	buf_add(&b, m->own.data, m->own.len);
	buf_free(&m->own);
	m->own = b;
	for (i = 0; i < m->nrefs; i++)
		m->refs[i].at += len;
}

size_t
mbuf_runs(const struct mbuf *m)
{
	return 2 * m->nrefs + 1;
}

void
mbuf_run(const struct mbuf *m, size_t i, const char **p, size_t *len)
{
	size_t k = i / 2, from, to;

	if (i % 2) {
		*p = m->refs[k].p;
		*len = m->refs[k].len;
		return;
	}
	from = k ? m->refs[k - 1].at : 0;
	to = k < m->nrefs ? m->refs[k].at : m->own.len;
	*p = m->own.data ? m->own.data + from : "";
	*len = to - from;
}

size_t
mbuf_read(const struct mbuf *m, size_t off, char *out, size_t n)
{
	size_t i, runs = mbuf_runs(m), len, done = 0, k;
	const char *p;

	for (i = 0; i < runs && done < n; i++) {
		mbuf_run(m, i, &p, &len);
		if (off >= len) {
			off -= len;
			continue;
		}
		k = len - off < n - done ? len - off : n - done;
		memcpy(out + done, p + off, k);
		done += k;
		off = 0;
	}
	return done;
}

void
mbuf_flatten(const struct mbuf *m, struct buf *out)
{
	size_t i, runs = mbuf_runs(m), len;
	const char *p;

	buf_grow(out, mbuf_len(m));
	for (i = 0; i < runs; i++) {
		mbuf_run(m, i, &p, &len);
		buf_add(out, p, len);
	}
}

void
mbuf_move(struct mbuf *to, struct mbuf *m)
{
	*to = *m;
	memset(m, 0, sizeof(*m));
}

void
mbuf_reset(struct mbuf *m)
{
	buf_reset(&m->own);
	m->nrefs = 0;
	m->borrowed = 0;
}

void
mbuf_free(struct mbuf *m)
{
	if (m == NULL)
		return;
	buf_free(&m->own);
	free(m->refs);
	memset(m, 0, sizeof(*m));
}
