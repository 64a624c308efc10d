/*
 * t_csvio.c - CSV rows with the lines they start on: a BOM, CRLF, LF and
 * lone CR ends, quoted commas, doubled quotes and line breaks inside
 * quotes, empty lines, bad rows reported at their line and the rows after
 * them read, the same rows whatever the bytes are fed in; and rows written
 * that read back as themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "tap.h"

struct got {
	struct buf text;
	size_t stop_after;		/* 0: never stop */
	size_t rows;
};

/* Each row as "LINE:field|field" or "LINE:!error", one a line; LF in a field as "\n". */
static int
collect(void *arg, const struct csvio_row *row)
{
	struct got *g = arg;
	size_t i, j;

	buf_addf(&g->text, "%u:", row->line);
	if (row->error)
		buf_adds(&g->text, "!error");
	for (i = 0; i < row->n; i++) {
		if (i)
			buf_addc(&g->text, '|');
		for (j = 0; j < row->len[i]; j++) {
			if (row->field[i][j] == '\n')
				buf_adds(&g->text, "\\n");
			else if (row->field[i][j] == '\0')
				buf_adds(&g->text, "\\0");
			else
				buf_addc(&g->text, row->field[i][j]);
		}
	}
	buf_addc(&g->text, '\n');
	g->rows++;
	return g->stop_after && g->rows >= g->stop_after;
}

/* The rows of len bytes of in, fed step bytes at a time (0: all at once). */
static char *
read_rows(const char *in, size_t len, size_t step)
{
	struct got g;
	struct csvio_reader *r;
	size_t off, n;

	memset(&g, 0, sizeof(g));
	r = csvio_reader_new(collect, &g);
	for (off = 0; off < len; off += n) {
		n = step && len - off > step ? step : len - off;
		csvio_feed(r, in + off, n);
	}
	csvio_end(r);
	csvio_reader_free(r);
	return buf_detach(&g.text);
}

struct tcase {
	const char *name, *in, *want;
};

static const struct tcase cases[] = {
	{ "LF rows", "email,name\na@x.org,Ana\nb@x.org,Bo\n",
	  "1:email|name\n2:a@x.org|Ana\n3:b@x.org|Bo\n" },
	{ "CRLF rows", "email,name\r\na@x.org,Ana\r\n",
	  "1:email|name\n2:a@x.org|Ana\n" },
	{ "lone CR rows (old Mac spreadsheets)", "email\ra@x.org\rb@x.org",
	  "1:email\n2:a@x.org\n3:b@x.org\n" },
	{ "a BOM is skipped", "\xef\xbb\xbf" "email\na@x.org\n",
	  "1:email\n2:a@x.org\n" },
	{ "a BOM-like start that is not one is data", "\xef\xbb" "x\n",
	  "1:\xef\xbbx\n" },
	{ "no line break at the end", "a,b\nc,d", "1:a|b\n2:c|d\n" },
	{ "empty lines are no rows, and count", "a\n\n\r\n\nb\n", "1:a\n5:b\n" },
	{ "quoted commas", "\"Pérez, Ana\",x\n", "1:Pérez, Ana|x\n" },
	{ "doubled quotes", "\"say \"\"hi\"\"\",\"\"\n", "1:say \"hi\"|\n" },
	{ "a line break inside quotes, and the next row's line",
	  "a,\"one\ntwo\nthree\"\nb,c\n", "1:a|one\\ntwo\\nthree\n4:b|c\n" },
	{ "CRLF and CR inside quotes become LF", "\"x\r\ny\rz\"\r\nw\r\n",
	  "1:x\\ny\\nz\n4:w\n" },
	{ "spaces belong to the field", " a , b \n", "1: a | b \n" },
	{ "a trailing comma is an empty field", "a,\n,\n", "1:a|\n2:|\n" },
	{ "a quote in an unquoted field is a bad row; the next is read",
	  "a,b\nx\"y,z\nc,d\n", "1:a|b\n2:!error\n3:c|d\n" },
	{ "text after a closing quote is a bad row", "\"ab\"c,d\ne\n", "1:!error\n2:e\n" },
	{ "a bad row that spans lines is reported at its first",
	  "h\n\"a\nb\"x\nc\n", "1:h\n2:!error\n4:c\n" },
	{ "a quote never closed is a bad row at its line", "a\n\"open,b\nc\nd\n",
	  "1:a\n2:!error\n" },
	{ "a NUL byte is a byte", "a\0b\n", "1:a\\0b\n" },
};

static void
test_cases(void)
{
	size_t i, step, len;
	char *got;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		len = strlen(cases[i].in);
		if (strcmp(cases[i].name, "a NUL byte is a byte") == 0)
			len = 4;
		got = read_rows(cases[i].in, len, 0);
		is_str(got, cases[i].want, cases[i].name);
		free(got);
		/* The same rows whatever the feeding. */
		for (step = 1; step <= 3; step++) {
			got = read_rows(cases[i].in, len, step);
			if (strcmp(got, cases[i].want) != 0) {
				is_str(got, cases[i].want, cases[i].name);
				tap_diag("fed %zu bytes at a time", step);
				free(got);
				break;
			}
			free(got);
		}
		if (step > 3)
			ok(1, "%s: the same fed 1, 2 and 3 bytes at a time", cases[i].name);
	}
}

static void
test_long_field(void)
{
	size_t n = CSVIO_FIELD_MAX + 10, i;
	char *in = malloc(n + 16), *got;

	memcpy(in, "a\n", 2);
	for (i = 2; i < n; i++)
		in[i] = 'x';
	memcpy(in + n, "\nb\n", 3);
	got = read_rows(in, n + 3, 0);
	is_str(got, "1:a\n2:!error\n3:b\n", "a field over 64 KiB is a bad row, and reading goes on");
	free(got);
	free(in);
}

static void
test_stop(void)
{
	struct got g;
	struct csvio_reader *r;
	int rc;

	memset(&g, 0, sizeof(g));
	g.stop_after = 2;
	r = csvio_reader_new(collect, &g);
	rc = csvio_feed(r, "a\nb\nc\n", 6);
	is_int(rc, 1, "the callback stops the reading");
	is_int(csvio_end(r), 1, "and the end says so");
	is_str(buf_str(&g.text), "1:a\n2:b\n", "no row after the stop");
	csvio_reader_free(r);
	buf_free(&g.text);
	csvio_reader_free(NULL);
}

static void
test_write(void)
{
	static const char *const fields[] = {
		"plain", "with, comma", "with \"quotes\"", "two\nlines", "", " spaced ",
		"\xef\xbb\xbf" "bom",
	};
	const char *f[ARRAY_LEN(fields)];
	size_t len[ARRAY_LEN(fields)], i;
	struct buf out = BUF_INIT;
	char *got;

	for (i = 0; i < ARRAY_LEN(fields); i++) {
		f[i] = fields[ARRAY_LEN(fields) - 1 - i];
		len[i] = strlen(f[i]);
	}
	csvio_put_row(&out, f, len, ARRAY_LEN(fields));
	is_str(buf_str(&out), "\"\xef\xbb\xbf" "bom\", spaced ,,\"two\nlines\",\"with \"\"quotes\"\"\","
	    "\"with, comma\",plain\r\n", "fields are quoted only when they must be");
	buf_reset(&out);
	for (i = 0; i < ARRAY_LEN(fields); i++) {
		f[i] = fields[i];
		len[i] = strlen(f[i]);
	}
	csvio_put_row(&out, f, len, ARRAY_LEN(fields));
	csvio_put_row(&out, f + 4, len + 4, 1);
	csvio_put_row(&out, f, len, 1);
	got = read_rows(out.data, out.len, 0);
	is_str(got, "1:plain|with, comma|with \"quotes\"|two\\nlines|| spaced |\xef\xbb\xbf" "bom\n"
	    "3:\n4:plain\n", "written rows read back as themselves, a lone empty field too");
	free(got);
	buf_free(&out);
}

int
main(void)
{
	test_cases();
	test_long_field();
	test_stop();
	test_write();
	return done_testing();
}
