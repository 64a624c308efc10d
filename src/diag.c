#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
diag_init(struct diag *d, int kind)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
}

void
diag_free(struct diag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->items[i].text);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static int
diag_seen(const struct diag *d, const char *text)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->items[i].text, text) == 0)
			return 1;
	return 0;
}

static void
diag_add(struct diag *d, int warning, const char *file, unsigned line,
    unsigned col, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	size_t limit = d->limit ? d->limit : 1000;

	if (file)
		buf_addf(&b, "%s:", file);
	if (file && line)
		buf_addf(&b, "%u:", line);
	if (file && line && col)
		buf_addf(&b, "%u:", col);
	if (file)
		buf_addc(&b, ' ');
	if (warning)
		buf_adds(&b, "warning: ");
	buf_vaddf(&b, fmt, ap);
	/* A partial shared by two parts of a template is checked twice: say it once. */
	if (diag_seen(d, buf_str(&b))) {
		buf_free(&b);
		return;
	}
	if (!warning) {
		d->errors++;
		if (d->kind == EXIT_CONFIG || d->status == 0)
			d->status = d->kind ? d->kind : EXIT_DATAERR;
	}
	if (d->n >= limit) {
		d->dropped++;
		buf_free(&b);
		return;
	}
	d->items = xgrow(d->items, &d->cap, d->n + 1, sizeof(*d->items));
	d->items[d->n].text = buf_detach(&b);
	d->items[d->n].status = d->kind;
	d->items[d->n].warning = warning;
	d->n++;
}

void
diag_error(struct diag *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, 0, file, line, col, fmt, ap);
	va_end(ap);
}

void
diag_warn(struct diag *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, 1, file, line, col, fmt, ap);
	va_end(ap);
}

void
diag_print(const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->items[i].text);
	if (d->dropped)
		fprintf(stderr, "herald: %zu more errors not shown\n", d->dropped);
}

int
diag_has(const struct diag *d, const char *s)
{
	return d->n > 0 && strstr(d->items[d->n - 1].text, s) != NULL;
}

void
diag_move(struct diag *into, struct diag *from)
{
	size_t i;

	for (i = 0; i < from->n; i++) {
		struct diag_item *it = &from->items[i];

		if (!it->warning) {
			into->errors++;
			if (it->status == EXIT_CONFIG || into->status == 0)
				into->status = it->status ? it->status : EXIT_DATAERR;
		}
		into->items = xgrow(into->items, &into->cap, into->n + 1, sizeof(*into->items));
		into->items[into->n++] = *it;
	}
	into->dropped += from->dropped;
	free(from->items);
	from->items = NULL;
	from->n = from->cap = from->errors = from->dropped = 0;
	from->status = 0;
}
