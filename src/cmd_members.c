/*
 * cmd_members.c - herald subscribers, import and export: a list as its
 * file and the journal's members make it (members.h), listed, filled from
 * a CSV file, and written as one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "csvio.h"
#include "journal.h"
#include "members.h"
#include "project.h"
#include "timefmt.h"
#include "util.h"

enum mformat { MF_TEXT, MF_JSON, MF_CSV };

struct mcmd {
	const char *list;		/* the id given */
	const char *file;		/* import's CSV */
	enum mformat format;
	struct config cfg;
	struct diag d;
	char *path;			/* the list's file */
	struct store *st;		/* NULL: no journal yet */
};

/*
 * Options and operands: LIST, and FILE for import (want_file). -1 to go
 * on, else the exit status.
 */
static int
mcmd_args(struct mcmd *m, int argc, char **argv, int formats, int want_file)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, formats ? "jch" : "h", opts, NULL)) != -1) {
		if (formats && (c == 'j' || c == 'c'))
			m->format = c == 'j' ? MF_JSON : MF_CSV;
		else {
			cmd_usage(cmd_current, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (argc - optind != 1 + want_file) {
		fprintf(stderr, "usage: herald %s %s\n", cmd_current->name, cmd_current->synopsis);
		return EXIT_USAGE;
	}
	m->list = argv[optind];
	m->file = want_file ? argv[optind + 1] : NULL;
	return -1;
}

/*
 * The config, the list's file (read whole: its errors come before any
 * output; info is the caller's to free) and the journal (made when
 * create). 0, or the exit status after saying why.
 */
static int
mcmd_open(struct mcmd *m, const struct global_opts *g, struct list_info *info, int create)
{
	diag_init(&m->d, EXIT_DATAERR);
	if (config_load(config_path(g->config), &m->cfg, &m->d) == -1) {
		diag_print(&m->d);
		return EXIT_CONFIG;
	}
	if ((m->path = project_list_path(&m->cfg, m->list, &m->d)) == NULL ||
	    list_load(m->path, info, NULL, NULL, &m->d) == -1) {
		diag_print(&m->d);
		return EXIT_DATAERR;
	}
	/* Without a journal (and create not asked), nobody joined: m->st stays NULL. */
	if (journal_open(&m->cfg, !create, &m->st) == -1)
		return EXIT_CANTCREAT;
	return 0;
}

static void
mcmd_close(struct mcmd *m)
{
	store_close(m->st);
	free(m->path);
	config_free(&m->cfg);
	diag_free(&m->d);
}

/* ---- herald import LIST FILE.csv ---- */

static void
import_say(const struct mcmd *m, const struct members_import *r)
{
	printf("list %s, %s: %zu row%s: %zu added, %zu updated, %zu unchanged\n", m->list, m->file,
	    r->rows, r->rows == 1 ? "" : "s", r->added, r->updated, r->same);
	if (r->bad)
		printf("%zu bad row%s skipped (see above); the others are imported\n", r->bad,
		    r->bad == 1 ? "" : "s");
	if (r->suppressed)
		printf("%zu of %s suppressed: imported, and still never mailed (herald suppressed "
		    "lists them; herald unsuppress EMAIL mails one again)\n", r->suppressed,
		    r->suppressed == 1 ? "them is" : "them are");
}

int
cmd_import(const struct global_opts *g, int argc, char **argv)
{
	struct members_import res;
	struct list_info info;
	struct mcmd m;
	int status;

	memset(&m, 0, sizeof(m));
	memset(&info, 0, sizeof(info));
	if ((status = mcmd_args(&m, argc, argv, 0, 1)) != -1)
		return status;
	/* Before the journal, which a first import makes. */
	if (access(m.file, R_OK) == -1) {
		fprintf(stderr, "%s: cannot read: %s\n", m.file, strerror(errno));
		return EXIT_NOINPUT;
	}
	if ((status = mcmd_open(&m, g, &info, 1)) != 0)
		goto out;
	if (members_import(m.st, &info, m.file, (long long)time(NULL), &res, &m.d) == -1) {
		diag_print(&m.d);
		if (m.d.errors)
			status = EXIT_NOINPUT;
		else {
			fprintf(stderr, "herald: journal: %s; nothing imported\n", store_error(m.st));
			status = EXIT_SOFTWARE;
		}
		goto out;
	}
	diag_print(&m.d);
	if (res.header_bad) {
		fprintf(stderr, "herald: %s: nothing imported\n", m.file);
		status = EXIT_DATAERR;
		goto out;
	}
	import_say(&m, &res);
	status = res.bad ? EXIT_DATAERR : 0;
out:
	list_info_free(&info);
	mcmd_close(&m);
	return status;
}

/* ---- herald subscribers LIST ---- */

struct listing {
	const struct mcmd *m;
	struct buf out;
	size_t n, members, suppressed;
};

/* Where e came from, for people: "lists/press.yaml:12", "imported 2026-...". */
static void
listing_origin(const struct mcmd *m, const struct members_entry *e, struct buf *b)
{
	char iso[32];

	if (e->member == NULL) {
		buf_addf(b, "%s:%u", m->path, e->line);
		return;
	}
	timefmt_iso_utc(e->member->consented, iso, sizeof(iso));
	if (strcmp(e->member->how, "import") == 0)
		buf_addf(b, "imported %s (%s)", iso, e->member->ref);
	else if (strcmp(e->member->how, "mail") == 0)
		buf_addf(b, "joined %s by mail, confirmed by <%s>", iso, e->member->ref);
	else
		buf_addf(b, "joined %s on the web, confirmed from %s", iso, e->member->ref);
}

static void
listing_json(struct listing *l, const struct members_entry *e)
{
	struct buf *b = &l->out;
	char iso[32];

	buf_adds(b, l->n ? ",\n {\"email\": " : "[{\"email\": ");
	buf_add_json(b, e->email);
	buf_adds(b, ", \"name\": ");
	if (e->name)
		buf_add_json(b, e->name);
	else
		buf_adds(b, "null");
	buf_addf(b, ", \"delivery\": \"%s\", \"source\": ", e->digest ? "digest" : "each");
	buf_add_json(b, e->member ? e->member->how : "file");
	buf_adds(b, ", \"file\": ");
	if (e->member == NULL) {
		buf_add_json(b, l->m->path);
		buf_addf(b, ", \"line\": %u, \"joined\": null, \"ref\": null", e->line);
	} else {
		timefmt_iso_utc(e->member->consented, iso, sizeof(iso));
		buf_adds(b, "null, \"line\": null, \"joined\": ");
		buf_add_json(b, iso);
		buf_adds(b, ", \"ref\": ");
		buf_add_json(b, e->member->ref);
	}
	buf_addf(b, ", \"suppressed\": %s}", e->suppressed ? "true" : "false");
}

static void
listing_csv(struct listing *l, const struct members_entry *e)
{
	const char *f[9];
	size_t len[9], i;
	char line[16] = "", iso[32] = "";

	if (e->member == NULL)
		snprintf(line, sizeof(line), "%u", e->line);
	else
		timefmt_iso_utc(e->member->consented, iso, sizeof(iso));
	f[0] = e->email;
	f[1] = e->name ? e->name : "";
	f[2] = e->digest ? "digest" : "each";
	f[3] = e->member ? e->member->how : "file";
	f[4] = e->member ? "" : l->m->path;
	f[5] = line;
	f[6] = iso;
	f[7] = e->member ? e->member->ref : "";
	f[8] = e->suppressed ? "yes" : "no";
	for (i = 0; i < 9; i++)
		len[i] = strlen(f[i]);
	csvio_put_row(&l->out, f, len, 9);
}

static void
listing_text(struct listing *l, const struct members_entry *e)
{
	char *name = xstrdup(e->name ? e->name : "-");
	struct buf origin = BUF_INIT;

	listing_origin(l->m, e, &origin);
	buf_addf(&l->out, "%-32s %-24s %-6s %s", e->email, util_unctrl(name),
	    e->digest ? "digest" : "each", util_unctrl(origin.data));
	if (e->suppressed)
		buf_addf(&l->out, "  suppressed%s%s%s", e->reason ? " (" : "",
		    e->reason ? e->reason : "", e->reason ? ")" : "");
	buf_addc(&l->out, '\n');
	buf_free(&origin);
	free(name);
}

static int
listing_one(void *arg, const struct list_info *info, const struct members_entry *e)
{
	struct listing *l = arg;

	(void)info;
	if (l->m->format == MF_JSON)
		listing_json(l, e);
	else if (l->m->format == MF_CSV)
		listing_csv(l, e);
	else
		listing_text(l, e);
	l->n++;
	l->members += e->member != NULL;
	l->suppressed += e->suppressed != 0;
	/* Out as it comes: a list may be long. */
	if (l->out.len > 65536) {
		fwrite(l->out.data, 1, l->out.len, stdout);
		buf_reset(&l->out);
	}
	return 0;
}

static void
listing_end(struct listing *l)
{
	if (l->m->format == MF_JSON)
		buf_adds(&l->out, l->n ? "]\n" : "[]\n");
	else if (l->m->format == MF_TEXT)
		buf_addf(&l->out, "%zu subscriber%s: %zu in %s, %zu who joined; %zu suppressed\n",
		    l->n, l->n == 1 ? "" : "s", l->n - l->members, l->m->path, l->members,
		    l->suppressed);
	fwrite(buf_str(&l->out), 1, l->out.len, stdout);
}

int
cmd_subscribers(const struct global_opts *g, int argc, char **argv)
{
	static const char *const head[] = {
		"email", "name", "delivery", "source", "file", "line", "joined", "ref", "suppressed",
	};
	struct list_info info, walked;
	struct listing l;
	struct mcmd m;
	size_t len[ARRAY_LEN(head)], i;
	int status, rc;

	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	memset(&info, 0, sizeof(info));
	l.m = &m;
	if ((status = mcmd_args(&m, argc, argv, 1, 0)) != -1)
		return status;
	if ((status = mcmd_open(&m, g, &info, 0)) != 0)
		goto out;
	if (m.format == MF_CSV) {
		for (i = 0; i < ARRAY_LEN(head); i++)
			len[i] = strlen(head[i]);
		csvio_put_row(&l.out, head, len, ARRAY_LEN(head));
	}
	rc = members_walk(m.path, m.list, m.st, &walked, listing_one, &l, &m.d);
	list_info_free(&walked);
	if (rc == -1) {
		diag_print(&m.d);
		if (!m.d.errors)
			fprintf(stderr, "herald: journal: %s\n", store_error(m.st));
		status = m.d.errors ? EXIT_DATAERR : EXIT_SOFTWARE;
	} else
		listing_end(&l);
out:
	buf_free(&l.out);
	list_info_free(&info);
	mcmd_close(&m);
	return status;
}

/* ---- herald export LIST ---- */

/* The columns after email and name: every field once, then herald's lang, tz, delivery when used. */
struct columns {
	char **field;
	size_t nfield, cap;
	int lang, tz, delivery;
	size_t left_out;		/* suppressed: not exported */
	struct buf out;
	const char **row;		/* one row's values */
	size_t *len;
};

static void
columns_note(struct columns *c, const char *key)
{
	size_t i;

	if (strcmp(key, "email") == 0 || strcmp(key, "name") == 0)
		return;
	for (i = 0; i < c->nfield; i++)
		if (strcmp(c->field[i], key) == 0)
			return;
	c->field = xgrow(c->field, &c->cap, c->nfield + 1, sizeof(*c->field));
	c->field[c->nfield++] = xstrdup(key);
}

static int
export_columns(void *arg, const struct list_info *info, const struct members_entry *e)
{
	struct columns *c = arg;
	size_t i;

	(void)info;
	if (e->suppressed)
		return 0;
	for (i = 0; e->fields && i < e->fields->n; i++)
		columns_note(c, ynode_key(e->fields, i)->str);
	c->lang |= e->lang != NULL;
	c->tz |= e->tz != NULL;
	c->delivery |= e->digest;
	return 0;
}

/* The header row; c->row and c->len get room for a row. */
static void
export_header(struct columns *c)
{
	size_t n = 0, i;

	c->row = xcalloc(c->nfield + 5, sizeof(*c->row));
	c->len = xcalloc(c->nfield + 5, sizeof(*c->len));
	c->row[n++] = "email";
	c->row[n++] = "name";
	for (i = 0; i < c->nfield; i++)
		c->row[n++] = c->field[i];
	if (c->lang)
		c->row[n++] = "lang";
	if (c->tz)
		c->row[n++] = "tz";
	if (c->delivery)
		c->row[n++] = "delivery";
	for (i = 0; i < n; i++)
		c->len[i] = strlen(c->row[i]);
	csvio_put_row(&c->out, c->row, c->len, n);
}

static int
export_row(void *arg, const struct list_info *info, const struct members_entry *e)
{
	struct columns *c = arg;
	const struct ynode *v;
	size_t n = 0, i;

	(void)info;
	if (e->suppressed) {
		c->left_out++;
		return 0;
	}
	c->row[n++] = e->email;
	c->row[n++] = e->name ? e->name : "";
	for (i = 0; i < c->nfield; i++) {
		v = e->fields ? ynode_get(e->fields, c->field[i]) : NULL;
		c->row[n++] = v && v->kind == YNODE_SCALAR ? v->str : "";
	}
	if (c->lang)
		c->row[n++] = e->lang ? e->lang : "";
	if (c->tz)
		c->row[n++] = e->tz ? e->tz : "";
	if (c->delivery)
		c->row[n++] = e->digest ? "digest" : "each";
	for (i = 0; i < n; i++)
		c->len[i] = strlen(c->row[i]);
	csvio_put_row(&c->out, c->row, c->len, n);
	if (c->out.len > 65536) {
		fwrite(c->out.data, 1, c->out.len, stdout);
		buf_reset(&c->out);
	}
	return 0;
}

static void
columns_free(struct columns *c)
{
	while (c->nfield > 0)
		free(c->field[--c->nfield]);
	free(c->field);
	free(c->row);
	free(c->len);
	buf_free(&c->out);
}

int
cmd_export(const struct global_opts *g, int argc, char **argv)
{
	struct list_info info, walked;
	struct columns c;
	struct mcmd m;
	int status, rc;

	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	memset(&info, 0, sizeof(info));
	if ((status = mcmd_args(&m, argc, argv, 0, 0)) != -1)
		return status;
	if ((status = mcmd_open(&m, g, &info, 0)) != 0)
		goto out;
	/* Twice through the list: the columns first, then the rows under them. */
	rc = members_walk(m.path, m.list, m.st, &walked, export_columns, &c, &m.d);
	list_info_free(&walked);
	if (rc == 0) {
		export_header(&c);
		rc = members_walk(m.path, m.list, m.st, &walked, export_row, &c, &m.d);
		list_info_free(&walked);
	}
	if (rc == -1) {
		diag_print(&m.d);
		if (!m.d.errors)
			fprintf(stderr, "herald: journal: %s\n", store_error(m.st));
		status = m.d.errors ? EXIT_DATAERR : EXIT_SOFTWARE;
		goto out;
	}
	fwrite(buf_str(&c.out), 1, c.out.len, stdout);
	if (fflush(stdout) == EOF) {
		perror("herald: standard output");
		status = EXIT_IOERR;
	}
	if (c.left_out)
		fprintf(stderr, "herald: %zu suppressed address%s left out\n", c.left_out,
		    c.left_out == 1 ? "" : "es");
out:
	columns_free(&c);
	list_info_free(&info);
	mcmd_close(&m);
	return status;
}
