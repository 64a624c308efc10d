/*
 * csvio.h - CSV (RFC 4180) read and written: herald import and export.
 *
 * Reading is libcsv's parser in its strict mode, fed one physical line at
 * a time so that every row is known by the line it starts on. It takes:
 *   - UTF-8 with or without a byte order mark (skipped at the very start);
 *     the bytes are handed on as they are, and the caller judges them;
 *   - rows ended by CRLF, LF or a lone CR, the last one perhaps by
 *     nothing; an empty line is no row;
 *   - fields separated by commas and quoted with '"' when they hold a
 *     comma, a quote (doubled) or a line break; spaces belong to a field.
 * A line break inside a quoted field comes out as one LF, whatever it was
 * written as. A row that cannot be read (a quote in a field that is not
 * quoted whole, text after a closing quote, a quote never closed, a field
 * over CSVIO_FIELD_MAX bytes) is handed on with its error and no fields,
 * and reading goes on at the next line.
 *
 * Pure: bytes in through csvio_feed, rows out through a callback. No I/O,
 * no global state; fuzzed (tests/fuzz/fuzz_csv.c).
 */
#ifndef HERALD_CSVIO_H
#define HERALD_CSVIO_H

#include <stddef.h>

#include "util.h"

#define CSVIO_FIELD_MAX (64 * 1024)

/* One row, the reader's: valid during the callback only. */
struct csvio_row {
	unsigned line;			/* the physical line it starts on, from 1 */
	char **field;			/* each NUL-terminated, len[i] bytes (a NUL may be among them) */
	size_t *len;
	size_t n;
	const char *error;		/* NULL, or why the row cannot be read (n is 0 then) */
};

/* Called with each row in order; nonzero stops the reading. */
typedef int (*csvio_row_fn)(void *arg, const struct csvio_row *row);

struct csvio_reader;

struct csvio_reader *csvio_reader_new(csvio_row_fn fn, void *arg);
/* Reads len more bytes. 0, or 1 once fn stopped the reading (nothing more is read). */
int csvio_feed(struct csvio_reader *r, const void *buf, size_t len);
/* The end of the input: the last row when it has no line break. 0 or 1, as csvio_feed. */
int csvio_end(struct csvio_reader *r);
/* Accepts NULL. */
void csvio_reader_free(struct csvio_reader *r);

/*
 * Appends one row of n fields to out, each quoted only when it must be,
 * ended by CRLF; what csvio reads back as the same fields (a field's CR
 * as LF excepted).
 */
void csvio_put_row(struct buf *out, const char *const *field, const size_t *len, size_t n);

#endif
