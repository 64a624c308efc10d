/*
 * members.c - a list's file and the journal's members as one list, and
 * CSV imports into the members; see members.h.
 */
#include "members.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "csvio.h"
#include "lang.h"
#include "render.h"
#include "schema.h"
#include "util.h"

#define MEMBERS_SHOW_MAX 60		/* bytes of a bad value quoted in a message */
#define MEMBERS_TZ_CACHE 16		/* zones an import has found good, most recent first */
#define MEMBERS_READ 65536

/* ---- the file wins ---- */

static int
members_hash_has(const struct members *m, uint64_t h)
{
	size_t i;

	if (m->caphash == 0)
		return 0;
	for (i = h & (m->caphash - 1); m->hash[i]; i = (i + 1) & (m->caphash - 1))
		if (m->hash[i] == h)
			return 1;
	return 0;
}

static void
members_hash_add(struct members *m, uint64_t h)
{
	uint64_t *old = m->hash;
	size_t cap = m->caphash, i, j;

	if (2 * (m->nhash + 1) > m->caphash) {
		m->caphash = cap ? 2 * cap : 64;
		m->hash = xcalloc(m->caphash, sizeof(*m->hash));
		for (i = 0; i < cap; i++) {
			if (old[i] == 0)
				continue;
			for (j = old[i] & (m->caphash - 1); m->hash[j]; j = (j + 1) & (m->caphash - 1))
				;
			m->hash[j] = old[i];
		}
		free(old);
	}
	for (i = h & (m->caphash - 1); m->hash[i]; i = (i + 1) & (m->caphash - 1))
		if (m->hash[i] == h)
			return;
	m->hash[i] = h;
	m->nhash++;
}

static int
members_open_one(void *arg, const struct store_member *mb)
{
	members_hash_add(arg, addr_hash(mb->address, strlen(mb->address)));
	return 0;
}

int
members_open(struct members *m, struct store *st, const char *list)
{
	memset(m, 0, sizeof(*m));
	m->st = st;
	m->list = xstrdup(list);
	if (st == NULL)
		return 0;
	return store_member_each(st, list, members_open_one, m) == -1 ? -1 : 0;
}

size_t
members_count(const struct members *m)
{
	return m->nhash;
}

void
members_file(struct members *m, const char *address)
{
	if (m->nhash == 0 || !members_hash_has(m, addr_hash(address, strlen(address))))
		return;
	m->shadow = xgrow(m->shadow, &m->capshadow, m->nshadow + 1, sizeof(*m->shadow));
	m->shadow[m->nshadow++] = xstrdup(address);
	m->sorted = 0;
}

static int
members_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct members_each_ctx {
	struct members *m;
	int (*fn)(void *, const struct store_member *);
	void *arg;
};

static int
members_each_one(void *arg, const struct store_member *mb)
{
	struct members_each_ctx *c = arg;
	const char *key = mb->address;

	if (c->m->nshadow > 0 && bsearch(&key, c->m->shadow, c->m->nshadow,
	    sizeof(*c->m->shadow), members_cmp) != NULL)
		return 0;	/* the file has them: the file's entry is the one */
	return c->fn(c->arg, mb);
}

int
members_each(struct members *m, int (*fn)(void *arg, const struct store_member *mb), void *arg)
{
	struct members_each_ctx c = { m, fn, arg };

	if (m->st == NULL || m->nhash == 0)
		return 0;
	if (!m->sorted && m->nshadow > 1) {
		qsort(m->shadow, m->nshadow, sizeof(*m->shadow), members_cmp);
		m->sorted = 1;
	}
	return store_member_each(m->st, m->list, members_each_one, &c);
}

void
members_close(struct members *m)
{
	if (m == NULL)
		return;
	while (m->nshadow > 0)
		free(m->shadow[--m->nshadow]);
	free(m->shadow);
	free(m->hash);
	free(m->list);
	memset(m, 0, sizeof(*m));
}

/* ---- the whole list ---- */

struct walk {
	struct members m;
	struct store_suppression *supp;	/* every suppression, by address */
	size_t nsupp;
	const char *list;
	int (*fn)(void *, const struct list_info *, const struct members_entry *);
	void *arg;
	const struct list_info *info;
	struct ydoc *doc;
	int stopped;
};

/* Whether address is suppressed for the list or for every list, and why. */
static int
walk_suppressed(const struct walk *w, const char *address, const char **reason)
{
	size_t lo = 0, hi = w->nsupp, i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(w->supp[mid].address, address) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < w->nsupp && strcmp(w->supp[i].address, address) == 0; i++) {
		if (w->supp[i].list == NULL || strcmp(w->supp[i].list, w->list) == 0) {
			*reason = w->supp[i].reason;
			return 1;
		}
	}
	*reason = NULL;
	return 0;
}

static int
walk_file_one(void *arg, const struct list_info *info, const struct subscriber *s)
{
	struct walk *w = arg;
	struct members_entry e;

	members_file(&w->m, s->email);
	memset(&e, 0, sizeof(e));
	e.email = s->email;
	e.name = s->name;
	e.lang = s->lang;
	e.tz = s->tz;
	e.digest = s->delivery == DELIVERY_DIGEST;
	e.fields = s->fields;
	e.line = s->line;
	e.suppressed = walk_suppressed(w, s->email, &e.reason);
	if (w->fn(w->arg, info, &e) != 0) {
		w->stopped = 1;
		return 1;
	}
	return 0;
}

static int
walk_member_one(void *arg, const struct store_member *mb)
{
	struct walk *w = arg;
	struct members_entry e;

	ydoc_clear(w->doc);
	memset(&e, 0, sizeof(e));
	e.email = mb->address;
	e.name = mb->name;
	e.lang = mb->lang;
	e.tz = mb->tz;
	e.digest = mb->digest;
	e.fields = render_fields_unpack(w->doc, mb->fields, mb->fields_len);
	e.member = mb;
	e.suppressed = walk_suppressed(w, mb->address, &e.reason);
	if (w->fn(w->arg, w->info, &e) != 0) {
		w->stopped = 1;
		return 1;
	}
	return 0;
}

int
members_walk(const char *list_path, const char *list_id, struct store *st,
    struct list_info *info,
    int (*fn)(void *arg, const struct list_info *info, const struct members_entry *e),
    void *arg, struct diag *d)
{
	struct walk w;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	memset(info, 0, sizeof(*info));
	w.list = list_id;
	w.fn = fn;
	w.arg = arg;
	w.info = info;
	w.doc = ydoc_new("journal");
	if (members_open(&w.m, st, list_id) == -1 ||
	    (st != NULL && store_suppressions(st, &w.supp, &w.nsupp) == -1))
		goto out;
	if ((rc = list_load(list_path, info, walk_file_one, &w, d)) != 0)
		goto out;
	rc = members_each(&w.m, walk_member_one, &w);
	if (rc == 0 && w.stopped)
		rc = 1;
out:
	store_suppressions_free(w.supp, w.nsupp);
	members_close(&w.m);
	ydoc_free(w.doc);
	return rc;
}

/* ---- import ---- */

enum col_kind { COL_EMAIL, COL_NAME, COL_LANG, COL_TZ, COL_DELIVERY, COL_FIELD };

/* herald's own columns, by enum col_kind. */
static const char *const members_own[] = { "email", "name", "lang", "tz", "delivery", NULL };

struct col {
	enum col_kind kind;
	char *name;			/* as the header has it, trimmed */
};

/* An address seen in this file, for "duplicate address (first at line N)". */
struct seen {
	uint64_t h;
	char *email;
	unsigned line;
};

struct import {
	struct store *st;
	const struct list_info *info;
	const char *path;
	long long now;
	struct members_import *res;
	struct diag *d;
	struct col *cols;
	size_t ncols;
	int header_done;
	int failed;			/* a journal error: stop, import nothing */
	struct seen *seen;		/* open addressing, power of two */
	size_t nseen, capseen;
	char *zones[MEMBERS_TZ_CACHE];
	struct ydoc *doc;
	struct buf pack, ref, show;
	struct addr a;
};

/* s, safe to quote in a one-line message (im->show). */
static const char *
import_show(struct import *im, const char *s, size_t len)
{
	size_t n = len, i;

	if (n > MEMBERS_SHOW_MAX) {
		n = MEMBERS_SHOW_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	buf_reset(&im->show);
	for (i = 0; i < n; i++)
		buf_addc(&im->show, util_has_ctl(s + i, 1) || s[i] == '\n' ? '?' : s[i]);
	if (n < len)
		buf_adds(&im->show, "...");
	return buf_str(&im->show);
}

/* Spaces and tabs around a value of herald's own, or a column's name. */
static void
import_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* ---- the header ---- */

/* A column name one slip from one of herald's ("emial", "nmae"), as list.c judges keys. */
static const char *
import_typo(const char *name, int has_email)
{
	size_t i, limit;

	for (i = 0; members_own[i]; i++) {
		limit = strlen(members_own[i]) <= 4 ? 1 : 2;
		if (i == COL_EMAIL && !has_email)
			continue;	/* the missing email is the error to say */
		if (util_edit_distance(name, members_own[i]) <= limit)
			return members_own[i];
	}
	return NULL;
}

/* A field column of a list that names its fields: one of them. */
static int
import_declared(struct import *im, unsigned line, const char *name)
{
	const struct list_info *info = im->info;
	struct buf names = BUF_INIT;
	const char *near = NULL;
	size_t i, best = (size_t)-1, dist;

	for (i = 0; i < info->nfields; i++) {
		if (strcmp(info->fields[i], name) == 0)
			return 1;
		buf_addf(&names, "%s%s", i ? ", " : "", info->fields[i]);
		if ((dist = util_edit_distance(name, info->fields[i])) < best) {
			best = dist;
			near = info->fields[i];
		}
	}
	if (near && best <= strlen(name) / 3 + 1)
		diag_error(im->d, im->path, line, 0, "unknown column '%s'; did you mean '%s'? (the "
		    "fields of list '%s': %s)", import_show(im, name, strlen(name)), near, info->id,
		    buf_str(&names));
	else
		diag_error(im->d, im->path, line, 0, "unknown column '%s': the fields of list '%s' "
		    "are %s", import_show(im, name, strlen(name)), info->id,
		    info->nfields ? buf_str(&names) : "none");
	buf_free(&names);
	return 0;
}

/* Column i of the header; 0, or -1 after reporting what is wrong with it. */
static int
import_column(struct import *im, unsigned line, size_t i, const char *s, size_t len,
    int has_email)
{
	struct col *c = &im->cols[i];
	const char *typo;
	size_t k;

	import_trim(&s, &len);
	c->name = xstrndup(s, len);
	if (len == 0) {
		diag_error(im->d, im->path, line, 0, "column %zu has no name", i + 1);
		return -1;
	}
	if (strlen(c->name) != len || util_has_ctl(s, len) || util_utf8_bad(s, len) != len) {
		diag_error(im->d, im->path, line, 0, "the name of column %zu is not UTF-8 text on "
		    "one line", i + 1);
		return -1;
	}
	for (k = 0; members_own[k]; k++)
		if (util_strcaseeq(c->name, members_own[k])) {
			c->kind = (enum col_kind)k;
			return 0;
		}
	c->kind = COL_FIELD;
	if (im->info->fields_declared)
		return import_declared(im, line, c->name) ? 0 : -1;
	if ((typo = import_typo(c->name, has_email)) != NULL) {
		diag_error(im->d, im->path, line, 0, "unknown column '%s'; did you mean '%s'?",
		    import_show(im, s, len), typo);
		return -1;
	}
	return 0;
}

/* 1 when columns a and b are one (a herald key in any case, or a field's exact name). */
static int
import_same_col(const struct col *a, const struct col *b)
{
	if (a->kind != b->kind)
		return 0;
	return a->kind != COL_FIELD || strcmp(a->name, b->name) == 0;
}

static int
import_header(struct import *im, const struct csvio_row *row)
{
	size_t i, j, errors = im->d->errors;
	int has_email = 0;

	im->header_done = 1;
	if (row->error) {
		diag_error(im->d, im->path, row->line, 0, "the header row: %s", row->error);
		return -1;
	}
	im->ncols = row->n;
	im->cols = xcalloc(row->n, sizeof(*im->cols));
	for (i = 0; i < row->n; i++) {
		const char *s = row->field[i];
		size_t len = row->len[i];

		import_trim(&s, &len);
		if (len == 5 && strncasecmp(s, "email", 5) == 0)
			has_email = 1;
	}
	for (i = 0; i < row->n; i++)
		import_column(im, row->line, i, row->field[i], row->len[i], has_email);
	for (i = 0; i < row->n; i++)
		for (j = 0; j < i; j++)
			if (im->cols[i].name[0] && import_same_col(&im->cols[i], &im->cols[j])) {
				diag_error(im->d, im->path, row->line, 0, "column '%s' is there twice "
				    "(columns %zu and %zu)", import_show(im, im->cols[i].name,
				    strlen(im->cols[i].name)), j + 1, i + 1);
				break;
			}
	if (!has_email) {
		const char *typo = NULL;

		for (i = 0; i < row->n && typo == NULL; i++)
			if (im->cols[i].kind == COL_FIELD &&
			    schema_suggest(im->cols[i].name, members_own) == members_own[COL_EMAIL])
				typo = im->cols[i].name;
		if (typo)
			diag_error(im->d, im->path, row->line, 0, "no column 'email' in the header "
			    "row; is '%s' a typo?", typo);
		else
			diag_error(im->d, im->path, row->line, 0, "no column 'email' in the header "
			    "row (the first row names the columns: email,name,...)");
	}
	return im->d->errors > errors ? -1 : 0;
}

/* ---- one row ---- */

/* The first line address had in this file; 0 when it had none (it is noted now). */
static unsigned
import_seen(struct import *im, const char *email, unsigned line)
{
	uint64_t h = addr_hash(email, strlen(email));
	size_t i, cap;

	if (2 * (im->nseen + 1) > im->capseen) {
		struct seen *old = im->seen;

		cap = im->capseen;
		im->capseen = cap ? 2 * cap : 1024;
		im->seen = xcalloc(im->capseen, sizeof(*im->seen));
		for (i = 0; i < cap; i++) {
			size_t j;
			if (old[i].h == 0)
				continue;
			for (j = old[i].h & (im->capseen - 1); im->seen[j].h;
			    j = (j + 1) & (im->capseen - 1))
				;
			im->seen[j] = old[i];
		}
		free(old);
	}
	for (i = h & (im->capseen - 1); im->seen[i].h; i = (i + 1) & (im->capseen - 1))
		if (im->seen[i].h == h && strcmp(im->seen[i].email, email) == 0)
			return im->seen[i].line;
	im->seen[i].h = h;
	im->seen[i].email = xstrdup(email);
	im->seen[i].line = line;
	im->nseen++;
	return 0;
}

static int
import_tz_ok(struct import *im, const char *s, size_t len)
{
	size_t i;
	char *hit;

	for (i = 0; i < MEMBERS_TZ_CACHE && im->zones[i]; i++)
		if (strlen(im->zones[i]) == len && memcmp(im->zones[i], s, len) == 0)
			break;
	if (i == MEMBERS_TZ_CACHE || im->zones[i] == NULL) {
		if (!list_tz_known(s, len))
			return 0;
		if (i == MEMBERS_TZ_CACHE)
			free(im->zones[--i]);
		hit = xstrndup(s, len);
	} else
		hit = im->zones[i];
	memmove(&im->zones[1], &im->zones[0], i * sizeof(*im->zones));
	im->zones[0] = hit;
	return 1;
}

/* What a row says of one member, its strings in the row's fields or in im. */
struct import_row {
	const char *email, *name, *lang, *tz;
	int digest;
};

/* A value of herald's own column c; NULL (no error) when empty. -1 on a reported error. */
static int
import_own(struct import *im, unsigned line, const struct col *c, char *s, size_t len,
    struct import_row *r)
{
	char canon[LANG_MAX], err[128], *v;
	const char *t = s;
	int rc;

	import_trim(&t, &len);
	if (len == 0)
		return 0;
	v = s + (t - s);
	v[len] = '\0';	/* the trimmed value, in the reader's copy of the row */
	switch (c->kind) {
	case COL_EMAIL:
		if (addr_parse(v, len, &im->a, err, sizeof(err)) == -1) {
			diag_error(im->d, im->path, line, 0, "invalid address '%s'%s%s",
			    import_show(im, v, len), strcmp(err, "invalid address") ? ": " : "",
			    strcmp(err, "invalid address") ? err : "");
			return -1;
		}
		r->email = im->a.email;
		return 0;
	case COL_NAME:
		if (util_has_ctl(v, len) || memchr(v, '\n', len)) {
			diag_error(im->d, im->path, line, 0, "the name contains a %s",
			    memchr(v, '\n', len) ? "line break" : "control character");
			return -1;
		}
		r->name = v;
		return 0;
	case COL_LANG:
		if ((rc = lang_tag_check(v, len, canon)) != 0) {
			if (rc == 1)
				diag_error(im->d, im->path, line, 0, "language '%s' is written '%s'",
				    import_show(im, v, len), canon);
			else
				diag_error(im->d, im->path, line, 0, "'%s' in 'lang' is not a language "
				    "tag such as en, es, pt-BR or zh-Hant", import_show(im, v, len));
			return -1;
		}
		r->lang = v;
		return 0;
	case COL_TZ:
		if (!import_tz_ok(im, v, len)) {
			diag_error(im->d, im->path, line, 0, "unknown time zone '%s'",
			    import_show(im, v, len));
			return -1;
		}
		r->tz = v;
		return 0;
	case COL_DELIVERY:
		if (strcmp(v, "digest") == 0 && im->info->digest_template == NULL) {
			diag_error(im->d, im->path, line, 0, "delivery 'digest' but list '%s' has no "
			    "'digest' key", im->info->id);
			return -1;
		}
		if (strcmp(v, "each") != 0 && strcmp(v, "digest") != 0) {
			diag_error(im->d, im->path, line, 0, "invalid delivery '%s'; expected 'each' "
			    "or 'digest'", import_show(im, v, len));
			return -1;
		}
		r->digest = strcmp(v, "digest") == 0;
		return 0;
	case COL_FIELD:
		break;
	}
	fatalx("members: column kind %d is none of herald's", (int)c->kind);
}

/* A field's value: any UTF-8 text, a line break (a cell of several lines) and tab included. */
static int
import_field_ok(struct import *im, unsigned line, const struct col *c, const char *s,
    size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != '\n' && util_has_ctl(s + i, 1)) {
			diag_error(im->d, im->path, line, 0, "field '%s' contains a control character",
			    c->name);
			return 0;
		}
	return 1;
}

/* Every cell of the row is UTF-8; 0 after reporting the first that is not. */
static int
import_utf8(struct import *im, const struct csvio_row *row)
{
	size_t i;

	for (i = 0; i < row->n; i++)
		if (util_utf8_bad(row->field[i], row->len[i]) != row->len[i]) {
			diag_error(im->d, im->path, row->line, 0, "column '%s' is not UTF-8 (save the "
			    "file as CSV UTF-8)", im->cols[i].name);
			return 0;
		}
	return 1;
}

/* 1 when every cell of the row is empty: a spreadsheet's blank row. */
static int
import_blank(const struct csvio_row *row)
{
	size_t i;

	for (i = 0; i < row->n; i++)
		if (row->len[i] > 0)
			return 0;
	return 1;
}

/* The blob a delivery row takes, as list.c and render_subscriber_pack make it. */
static void
import_pack(struct import *im, const struct csvio_row *row, const struct import_row *r)
{
	struct subscriber s;
	size_t i;

	ydoc_clear(im->doc);
	memset(&s, 0, sizeof(s));
	s.email = r->email;
	s.name = r->name;
	s.lang = r->lang;
	s.tz = r->tz;
	s.delivery = r->digest ? DELIVERY_DIGEST : DELIVERY_EACH;
	s.doc = im->doc;
	s.fields = ynode_map(im->doc);
	ynode_map_set(im->doc, s.fields, "email", ynode_str(im->doc, r->email));
	if (r->name)
		ynode_map_set(im->doc, s.fields, "name", ynode_str(im->doc, r->name));
	for (i = 0; i < im->ncols; i++)
		if (im->cols[i].kind == COL_FIELD && row->len[i] > 0)
			ynode_map_set(im->doc, s.fields, im->cols[i].name,
			    ynode_scalar(im->doc, row->field[i], row->len[i]));
	buf_reset(&im->pack);
	render_subscriber_pack(&s, &im->pack);
}

/* The row into the journal. */
static int
import_put(struct import *im, const struct csvio_row *row, const struct import_row *r)
{
	struct store_member m;
	enum store_change change;
	int sup;

	import_pack(im, row, r);
	buf_reset(&im->ref);
	buf_addf(&im->ref, "%s:%u", im->path, row->line);
	memset(&m, 0, sizeof(m));
	m.list = im->info->id;
	m.address = (char *)r->email;
	m.name = (char *)r->name;
	m.lang = (char *)r->lang;
	m.tz = (char *)r->tz;
	m.fields = im->pack.data;
	m.fields_len = im->pack.len;
	m.digest = r->digest;
	m.how = (char *)"import";
	m.ref = im->ref.data;
	m.consented = im->now;
	if (store_member_put(im->st, &m, im->now, &change) == -1 ||
	    (sup = store_is_suppressed(im->st, r->email, im->info->id)) == -1)
		return -1;
	im->res->added += change == STORE_ADDED;
	im->res->updated += change == STORE_UPDATED;
	im->res->same += change == STORE_SAME;
	im->res->suppressed += sup == 1;
	return 0;
}

/* One row below the header: 0 imported, 1 bad (reported), -1 a journal error. */
static int
import_row(struct import *im, const struct csvio_row *row)
{
	struct import_row r;
	size_t i;
	unsigned first;
	int bad = 0;

	if (row->error) {
		diag_error(im->d, im->path, row->line, 0, "%s", row->error);
		return 1;
	}
	if (row->n != im->ncols) {
		diag_error(im->d, im->path, row->line, 0, "%zu field%s where the header has %zu",
		    row->n, row->n == 1 ? "" : "s", im->ncols);
		return 1;
	}
	if (!import_utf8(im, row))
		return 1;
	memset(&r, 0, sizeof(r));
	addr_clear(&im->a);
	for (i = 0; i < row->n && !bad; i++) {
		if (im->cols[i].kind == COL_FIELD)
			bad = !import_field_ok(im, row->line, &im->cols[i], row->field[i], row->len[i]);
		else
			bad = import_own(im, row->line, &im->cols[i], row->field[i], row->len[i], &r) == -1;
	}
	if (bad)
		return 1;
	if (r.email == NULL) {
		diag_error(im->d, im->path, row->line, 0, "no email");
		return 1;
	}
	if (r.name == NULL)
		r.name = im->a.name;	/* "Ana Pérez <ana@example.org>" names her */
	if ((first = import_seen(im, r.email, row->line)) != 0) {
		diag_error(im->d, im->path, row->line, 0, "duplicate address '%s' (first at line %u)",
		    r.email, first);
		return 1;
	}
	return import_put(im, row, &r) == -1 ? -1 : 0;
}

static int
import_on_row(void *arg, const struct csvio_row *row)
{
	struct import *im = arg;
	int rc;

	if (!im->header_done) {
		if (import_header(im, row) == -1) {
			im->res->header_bad = 1;
			return 1;
		}
		return 0;
	}
	if (row->error == NULL && import_blank(row))
		return 0;
	im->res->rows++;
	if ((rc = import_row(im, row)) == -1) {
		im->failed = 1;
		return 1;
	}
	im->res->bad += rc == 1;
	return 0;
}

/* The file through the reader. 0, or -1 after reporting that it cannot be read. */
static int
import_read(struct import *im)
{
	struct csvio_reader *r = csvio_reader_new(import_on_row, im);
	char *chunk = xmalloc(MEMBERS_READ);
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(im->path, O_RDONLY | O_CLOEXEC)) == -1) {
		diag_error(im->d, im->path, 0, 0, "cannot read: %s", strerror(errno));
		rc = -1;
		goto out;
	}
	while ((n = read(fd, chunk, MEMBERS_READ)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			diag_error(im->d, im->path, 0, 0, "cannot read: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (csvio_feed(r, chunk, (size_t)n) != 0)
			break;
	}
	if (rc == 0)
		csvio_end(r);
	close(fd);
out:
	free(chunk);
	csvio_reader_free(r);
	return rc;
}

static void
import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->ncols; i++)
		free(im->cols[i].name);
	free(im->cols);
	for (i = 0; i < im->capseen; i++)
		free(im->seen[i].email);
	free(im->seen);
	for (i = 0; i < MEMBERS_TZ_CACHE; i++)
		free(im->zones[i]);
	ydoc_free(im->doc);
	buf_free(&im->pack);
	buf_free(&im->ref);
	buf_free(&im->show);
	addr_clear(&im->a);
}

int
members_import(struct store *st, const struct list_info *info, const char *path,
    long long now, struct members_import *res, struct diag *d)
{
	struct import im;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&im, 0, sizeof(im));
	im.st = st;
	im.info = info;
	im.path = path;
	im.now = now;
	im.res = res;
	im.d = d;
	im.doc = ydoc_new(path);
	if (store_begin(st) == -1) {
		im.failed = 1;
		goto out;
	}
	if (import_read(&im) == -1 || im.failed || res->header_bad) {
		store_rollback(st);
		if (!im.failed)
			rc = res->header_bad ? 0 : -1;
		goto out;
	}
	if (!im.header_done) {
		diag_error(d, path, 1, 0, "empty file: no header row (email,name,...)");
		res->header_bad = 1;
		store_rollback(st);
		rc = 0;
		goto out;
	}
	rc = store_commit(st);
out:
	import_free(&im);
	return rc;
}
