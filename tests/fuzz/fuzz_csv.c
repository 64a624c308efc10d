/*
 * fuzz_csv.c - a CSV file to import comes from anyone's spreadsheet:
 * csvio must take any bytes, give the same rows however they are fed,
 * number them with lines that never go back, and write rows that read
 * back as themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"

struct rows {
	struct buf text;		/* every row, as bytes that tell rows and fields apart */
	unsigned last_line;
	size_t good, bad;
	struct buf fields;		/* the good rows' fields alone */
	struct buf rewrite;		/* the good rows, written again */
};

static int
collect(void *arg, const struct csvio_row *row)
{
	struct rows *r = arg;
	size_t i;

	if (row->line < 1 || row->line < r->last_line)
		abort();	/* lines start at 1 and never go back */
	r->last_line = row->line;
	if (row->error != NULL && row->n != 0)
		abort();
	buf_addf(&r->text, "%u%c%zu", row->line, row->error ? '!' : ':', row->n);
	for (i = 0; i < row->n; i++) {
		if (row->field[i][row->len[i]] != '\0' || memchr(row->field[i], '\r', row->len[i]))
			abort();	/* NUL-terminated, and a CR inside quotes came out as LF */
		buf_addf(&r->text, "/%zu:", row->len[i]);
		buf_add(&r->text, row->field[i], row->len[i]);
	}
	buf_addc(&r->text, '\n');
	r->bad += row->error != NULL;
	if (row->error == NULL) {
		r->good++;
		buf_addf(&r->fields, "%zu", row->n);
		for (i = 0; i < row->n; i++) {
			buf_addf(&r->fields, "/%zu:", row->len[i]);
			buf_add(&r->fields, row->field[i], row->len[i]);
		}
		csvio_put_row(&r->rewrite, (const char *const *)row->field, row->len, row->n);
	}
	return 0;
}

/* Reads data fed step bytes at a time (0: at once) into *r. */
static void
read_all(const uint8_t *data, size_t size, size_t step, struct rows *r)
{
	struct csvio_reader *rd = csvio_reader_new(collect, r);
	size_t off, n;

	for (off = 0; off < size; off += n) {
		n = step && size - off > step ? step : size - off;
		csvio_feed(rd, data + off, n);
	}
	csvio_end(rd);
	csvio_reader_free(rd);
}

static int
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(buf_str(a), buf_str(b), a->len) == 0;
}

static void
rows_free(struct rows *r)
{
	buf_free(&r->text);
	buf_free(&r->fields);
	buf_free(&r->rewrite);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rows whole, bits, again;
	size_t step = size ? 1 + data[0] % 7 : 1;

	memset(&whole, 0, sizeof(whole));
	memset(&bits, 0, sizeof(bits));
	memset(&again, 0, sizeof(again));
	read_all(data, size, 0, &whole);
	read_all(data, size, step, &bits);
	if (!same(&whole.text, &bits.text))
		abort();	/* the same rows however the bytes come */
	read_all((const uint8_t *)buf_str(&whole.rewrite), whole.rewrite.len, step, &again);
	if (again.good != whole.good || again.bad != 0 || !same(&again.fields, &whole.fields))
		abort();	/* every good row written reads back as itself, none of them bad */
	rows_free(&whole);
	rows_free(&bits);
	rows_free(&again);
	return 0;
}
