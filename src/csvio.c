/*
 * csvio.c - CSV read through libcsv with line numbers, and written; see
 * csvio.h.
 *
 * libcsv ends a row only at a CR or LF outside quotes and says nothing of
 * lines. Fed one physical line at a time, a row that ends while a line is
 * fed ends at that line's break, and a row that begins while a line is fed
 * begins on that line: so each row's first line is known without looking
 * into the parser's state.
 */
#include "csvio.h"

#include <stdlib.h>
#include <string.h>

#include <csv.h>

#define CSVIO_BLOCK 4096

static const unsigned char csvio_bom[3] = { 0xef, 0xbb, 0xbf };

struct csvio_reader {
	struct csv_parser p;
	csvio_row_fn fn;
	void *arg;
	/* The row being read. */
	char **field;
	size_t *len;
	size_t n, cap;
	unsigned line;			/* the line the next byte is on */
	unsigned row_line;		/* the line the row being read began on */
	int in_row;			/* a row began and has not ended */
	int ended;			/* a row ended in the piece just fed */
	int cr;				/* the last byte was a CR: an LF next ends no other line */
	int skip;			/* after an error: the rest of the line is no row */
	int stopped;
	size_t nbom;			/* leading bytes that match the BOM so far */
	int started;			/* past the BOM, or sure there is none */
};

/* Spaces are a field's own (RFC 4180): nothing is trimmed. */
static int
csvio_no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* A field may grow to CSVIO_FIELD_MAX bytes; beyond, libcsv says ENOMEM. Real OOM is fatal. */
static void *
csvio_realloc(void *p, size_t size)
{
	if (size > CSVIO_FIELD_MAX)
		return NULL;
	return xrealloc(p, size);
}

static void
csvio_parser_init(struct csvio_reader *r)
{
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		fatalx("csvio: csv_init failed");
	csv_set_space_func(&r->p, csvio_no_space);
	csv_set_realloc_func(&r->p, csvio_realloc);
	csv_set_blk_size(&r->p, CSVIO_BLOCK);
}

static void
csvio_clear_row(struct csvio_reader *r)
{
	while (r->n > 0)
		free(r->field[--r->n]);
}

/* libcsv's field callback: a copy, each CRLF or CR in it an LF. */
static void
csvio_on_field(void *s, size_t len, void *arg)
{
	struct csvio_reader *r = arg;
	const char *in = s;
	char *out;
	size_t i, j;

	if (r->n == r->cap) {
		size_t cap = r->cap;

		r->field = xgrow(r->field, &r->cap, r->n + 1, sizeof(*r->field));
		r->len = xgrow(r->len, &cap, r->n + 1, sizeof(*r->len));
	}
	out = xmalloc(len + 1);
	for (i = j = 0; i < len; i++) {
		if (in[i] == '\r') {
			out[j++] = '\n';
			if (i + 1 < len && in[i + 1] == '\n')
				i++;
		} else
			out[j++] = in[i];
	}
	out[j] = '\0';
	r->field[r->n] = out;
	r->len[r->n++] = j;
}

static void
csvio_hand_on(struct csvio_reader *r, const char *error)
{
	struct csvio_row row;

	row.line = r->row_line;
	row.field = error ? NULL : r->field;
	row.len = error ? NULL : r->len;
	row.n = error ? 0 : r->n;
	row.error = error;
	if (!r->stopped && r->fn(r->arg, &row) != 0)
		r->stopped = 1;
	csvio_clear_row(r);
}

/* libcsv's row callback. */
static void
csvio_on_row(int c, void *arg)
{
	struct csvio_reader *r = arg;

	(void)c;
	r->ended = 1;
	csvio_hand_on(r, NULL);
}

static const char *
csvio_error(int status)
{
	if (status == CSV_ENOMEM || status == CSV_ETOOBIG)
		return "a field is longer than 64 KiB";
	return "bad quoting: a field with a '\"' in it must be quoted whole, and the '\"' "
	    "doubled (\"say \"\"hi\"\"\")";
}

/* The row cannot be read: said, and the parser starts afresh. */
static void
csvio_fail(struct csvio_reader *r, const char *error)
{
	csvio_hand_on(r, error);
	csv_free(&r->p);
	csvio_parser_init(r);
	r->in_row = 0;
}

/*
 * Feeds n bytes of one physical line; breaks: they end with its line
 * break. cont: an LF after a CR that ended the line before (no line of
 * its own).
 */
static void
csvio_piece(struct csvio_reader *r, const unsigned char *s, size_t n, int breaks, int cont)
{
	size_t done, content = cont ? 0 : n;

	if (r->skip) {
		if (breaks) {
			r->skip = 0;
			r->line++;
		}
		return;
	}
	while (breaks && content > 0 && (s[content - 1] == '\n' || s[content - 1] == '\r'))
		content--;
	if (!r->in_row && !cont)
		r->row_line = r->line;
	r->ended = 0;
	done = csv_parse(&r->p, s, n, csvio_on_field, csvio_on_row, r);
	if (done < n) {
		csvio_fail(r, csvio_error(csv_error(&r->p)));
		r->skip = !breaks;
	} else if (r->ended)
		r->in_row = 0;
	else if (content > 0)
		r->in_row = 1;
	if (breaks)
		r->line++;
}

/* Splits bytes (past any BOM) into pieces of physical lines. */
static void
csvio_split(struct csvio_reader *r, const unsigned char *s, size_t len)
{
	const unsigned char *end = s + len, *e;

	while (s < end && !r->stopped) {
		if (r->cr && *s == '\n') {
			r->cr = 0;
			csvio_piece(r, s, 1, 0, 1);
			s++;
			continue;
		}
		r->cr = 0;
		for (e = s; e < end && *e != '\n' && *e != '\r'; e++)
			;
		if (e == end) {
			csvio_piece(r, s, (size_t)(e - s), 0, 0);
			break;
		}
		if (*e == '\r' && e + 1 < end && e[1] == '\n')
			e++;
		else if (*e == '\r')
			r->cr = 1;	/* its LF may come with the next bytes */
		e++;
		csvio_piece(r, s, (size_t)(e - s), 1, 0);
		s = e;
	}
}

struct csvio_reader *
csvio_reader_new(csvio_row_fn fn, void *arg)
{
	struct csvio_reader *r = xcalloc(1, sizeof(*r));

	r->fn = fn;
	r->arg = arg;
	r->line = 1;
	r->row_line = 1;
	csvio_parser_init(r);
	return r;
}

/* Bytes that begin like a BOM but are none are the file's first bytes. */
static void
csvio_not_bom(struct csvio_reader *r)
{
	size_t n = r->nbom;

	r->started = 1;
	r->nbom = 0;
	csvio_split(r, csvio_bom, n);
}

int
csvio_feed(struct csvio_reader *r, const void *buf, size_t len)
{
	const unsigned char *s = buf;

	while (!r->started && len > 0) {
		if (*s != csvio_bom[r->nbom]) {
			csvio_not_bom(r);
			break;
		}
		s++;
		len--;
		if (++r->nbom == sizeof(csvio_bom)) {
			r->started = 1;
			r->nbom = 0;
		}
	}
	if (!r->stopped && len > 0)
		csvio_split(r, s, len);
	return r->stopped;
}

int
csvio_end(struct csvio_reader *r)
{
	if (!r->started)
		csvio_not_bom(r);
	if (r->stopped || r->skip)
		return r->stopped;
	if (!r->in_row)
		r->row_line = r->line;
	if (csv_fini(&r->p, csvio_on_field, csvio_on_row, r) != 0)
		csvio_fail(r, "a quoted field is never closed: its closing '\"' is missing");
	r->in_row = 0;
	return r->stopped;
}

void
csvio_reader_free(struct csvio_reader *r)
{
	if (r == NULL)
		return;
	csvio_clear_row(r);
	free(r->field);
	free(r->len);
	csv_free(&r->p);
	free(r);
}

/* A field that would not read back as itself bare. */
static int
csvio_needs_quotes(const char *s, size_t len, int first)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	/* At the very start of a file these bytes would be read as its BOM. */
	return first && len >= 3 && memcmp(s, csvio_bom, 3) == 0;
}

void
csvio_put_row(struct buf *out, const char *const *field, const size_t *len, size_t n)
{
	size_t i, j;

	/* A row of one empty field would be an empty line, which is no row. */
	if (n == 0 || (n == 1 && len[0] == 0)) {
		buf_adds(out, "\"\"\r\n");
		return;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(out, ',');
		if (!csvio_needs_quotes(field[i], len[i], i == 0)) {
			buf_add(out, field[i], len[i]);
			continue;
		}
		buf_addc(out, '"');
		for (j = 0; j < len[i]; j++) {
			if (field[i][j] == '"')
				buf_addc(out, '"');
			buf_addc(out, field[i][j]);
		}
		buf_addc(out, '"');
	}
	buf_adds(out, "\r\n");
}
