/*
 * t_mbuf.c - mbuf.c: own and borrowed bytes read as one stream, at any
 * offset and in any chunk size; a prepend moves the references with it.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "mbuf.h"
#include "util.h"

static const char shared1[] = "BORROWED-ONE\r\n", shared2[] = "two\r\n";

/* "head:" + shared1 + "mid:" + shared2 + "tail" */
static void
make(struct mbuf *m)
{
	buf_adds(&m->own, "head:");
	mbuf_ref(m, shared1, strlen(shared1));
	buf_adds(&m->own, "mid:");
	mbuf_ref(m, shared2, strlen(shared2));
	mbuf_ref(m, "", 0);
	buf_adds(&m->own, "tail");
}

int
main(void)
{
	static const char want[] = "head:BORROWED-ONE\r\nmid:two\r\ntail";
	struct mbuf m = MBUF_INIT, moved;
	struct buf flat = BUF_INIT;
	char out[64];
	size_t n, off, chunk, bad = 0;
	const char *p;
	char *own;

	make(&m);
	is_int((long long)mbuf_len(&m), (long long)strlen(want), "length: own and borrowed");
	is_int((long long)m.nrefs, 2, "an empty reference is not kept");
	is_int((long long)mbuf_runs(&m), 5, "five runs: own, borrowed, own, borrowed, own");
	mbuf_run(&m, 1, &p, &n);
	ok(p == shared1 && n == strlen(shared1), "a borrowed run is the very bytes");
	mbuf_flatten(&m, &flat);
	is_str(buf_str(&flat), want, "flattened in order");
	for (chunk = 1; chunk <= sizeof(want); chunk++) {
		struct buf got = BUF_INIT;

		for (off = 0; (n = mbuf_read(&m, off, out, chunk)) > 0; off += n)
			buf_add(&got, out, n);
		if (strcmp(buf_str(&got), want) != 0)
			bad++;
		buf_free(&got);
	}
	ok(bad == 0, "read in chunks of 1..%zu bytes gives the same stream", sizeof(want));
	is_int((long long)mbuf_read(&m, strlen(want), out, 10), 0, "nothing past the end");
	mbuf_prepend(&m, "DKIM: x\r\n", 9);
	buf_reset(&flat);
	mbuf_flatten(&m, &flat);
	ok(strncmp(buf_str(&flat), "DKIM: x\r\n", 9) == 0 && strcmp(buf_str(&flat) + 9, want) == 0,
	    "a prepend goes first, the borrowed runs stay where they were");
	mbuf_move(&moved, &m);
	ok(mbuf_len(&m) == 0 && m.refs == NULL && mbuf_len(&moved) == strlen(want) + 9,
	    "a move leaves the source empty");
	mbuf_reset(&moved);
	ok(mbuf_len(&moved) == 0 && mbuf_runs(&moved) == 1, "reset: empty again");
	mbuf_free(&moved);
	own = xmalloc(3);
	memcpy(own, "abc", 3);
	mbuf_adopt(&m, own, 3);
	mbuf_ref(&m, shared2, 3);
	buf_adds(&m.own, "!");
	buf_reset(&flat);
	mbuf_flatten(&m, &flat);
	is_str(buf_str(&flat), "abctwo!", "adopted bytes, then more");
	mbuf_free(&m);
	mbuf_free(NULL);
	buf_free(&flat);
	return done_testing();
}
