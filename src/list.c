/*
 * list.c - lists/NAME.yaml as a stream of subscribers (see list.h).
 *
 * Memory is what bounds this file: a list of a million subscribers must be
 * checked in a few megabytes. Nothing grows with the list but the set of
 * address hashes, kept in 256 small open-addressing tables that each grow
 * by half when 80% full, so that growing never holds two copies of the
 * whole set and the set stays about 65% full (some 12 MB per million).
 */
#include "list.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cron.h"
#include "schema.h"
#include "util.h"

#define LIST_ZONEINFO "/usr/share/zoneinfo/"
#define LIST_TZ_SLOTS 1024	/* a cache of zone names; there are some 600 */
#define LIST_SHOW_MAX 60	/* bytes of a bad value quoted in a message */

enum list_key {
	KEY_ID, KEY_NAME, KEY_DESCRIPTION, KEY_TEMPLATE, KEY_DIGEST, KEY_TZ, KEY_FIELDS,
	KEY_SUBSCRIBERS, KEY_LANG, KEY_N
};

static const char *const list_keys[] = {
	"id", "name", "description", "template", "digest", "tz", "fields", "subscribers",
	"lang", NULL
};
static const char *const list_digest_keys[] = { "template", "schedule", NULL };
static const char *const list_sub_keys[] = {
	"email", "name", "delivery", "tz", "lang", NULL
};

struct hpart {
	uint64_t *slot;		/* 0: empty */
	size_t cap, n;
};

/* A set of address hashes, split by their top byte. */
struct hset {
	struct hpart part[256];
};

/* The first occurrence of an address whose hash repeats (second pass). */
struct first {
	uint64_t h;
	char *email;
	unsigned line;
};

struct tzent {
	char *name;
	int ok;
};

/* One subscriber entry while it is checked. */
struct entry {
	struct subscriber s;
	const struct ynode *node;	/* the entry */
	const struct ynode *email_node;	/* where address errors point */
	int have_addr;			/* the address is valid: it counts for duplicates */
};

struct lctx {
	const char *path;
	struct list_info *info;
	list_sub_fn fn;
	void *arg;
	struct diag *out;	/* the caller's */
	struct diag *d;		/* where check errors go: out, or a scratch in pass 2 */
	int pass;		/* 1; 2 looks for the first line of repeated addresses */
	yaml_parser_t p;
	struct ydoc *top, *sub;
	struct addr a;
	struct hset seen, dups;
	size_t ndup;		/* repeated hashes met in pass 1 */
	struct first *firsts;	/* pass 2: open addressing, power of two */
	size_t nfirsts, nfirsts_cap;
	struct tzent tz[LIST_TZ_SLOTS];
	size_t ntz;
	unsigned key_line[KEY_N];	/* first line of each top-level key; 0: unseen */
	unsigned root_line, root_col;
	unsigned digest_line, digest_col;	/* first subscriber asking for a digest */
	int stopped;		/* fn returned nonzero */
	char show[LIST_SHOW_MAX + 8];
	/* `fields:`: the subscribers' own keys, when the list names them. */
	int has_fields;
	char **fields;
	size_t nfields;
};

/* ---- the set of hashes ---- */

/* h scaled to [0, cap), from the bits below the part index. */
static size_t
hpart_index(uint64_t h, size_t cap)
{
	return (size_t)(((unsigned __int128)(h << 8) * cap) >> 64);
}

static void
hpart_grow(struct hpart *t)
{
	size_t cap = t->cap < 16 ? 16 : t->cap + t->cap / 2, i, j;
	uint64_t *slot = xcalloc(cap, sizeof(*slot));

	for (i = 0; i < t->cap; i++) {
		if (t->slot[i] == 0)
			continue;
		for (j = hpart_index(t->slot[i], cap); slot[j]; j = (j + 1) % cap)
			;
		slot[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
}

/* 1 when h was added, 0 when it was there already. h is never 0. */
static int
hset_add(struct hset *s, uint64_t h)
{
	struct hpart *t = &s->part[h >> 56];
	size_t i;

	if ((t->n + 1) * 5 > t->cap * 4)
		hpart_grow(t);
	for (i = hpart_index(h, t->cap); t->slot[i]; i = i + 1 < t->cap ? i + 1 : 0)
		if (t->slot[i] == h)
			return 0;
	t->slot[i] = h;
	t->n++;
	return 1;
}

static int
hset_has(const struct hset *s, uint64_t h)
{
	const struct hpart *t = &s->part[h >> 56];
	size_t i;

	if (t->cap == 0)
		return 0;
	for (i = hpart_index(h, t->cap); t->slot[i]; i = i + 1 < t->cap ? i + 1 : 0)
		if (t->slot[i] == h)
			return 1;
	return 0;
}

static void
hset_free(struct hset *s)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(s->part); i++)
		free(s->part[i].slot);
	memset(s, 0, sizeof(*s));
}

/* Sized from pass 1, this only grows if the file changed between passes. */
static void
list_firsts_grow(struct lctx *c)
{
	size_t cap = c->nfirsts_cap * 2, i, j;
	struct first *t = xcalloc(cap, sizeof(*t));

	for (i = 0; i < c->nfirsts_cap; i++) {
		if (c->firsts[i].h == 0)
			continue;
		for (j = c->firsts[i].h & (cap - 1); t[j].h; j = (j + 1) & (cap - 1))
			;
		t[j] = c->firsts[i];
	}
	free(c->firsts);
	c->firsts = t;
	c->nfirsts_cap = cap;
}

/*
 * Pass 2: the first occurrence of email, or NULL after recording this one
 * as the first. *collided is 1 when another address with the same hash
 * came before it (pass 1 took this one for a repeat and skipped it).
 */
static const struct first *
list_first(struct lctx *c, uint64_t h, const char *email, unsigned line,
    int *collided)
{
	size_t mask, i;
	struct first *f;

	if ((c->nfirsts + 1) * 2 > c->nfirsts_cap)
		list_firsts_grow(c);
	mask = c->nfirsts_cap - 1;
	*collided = 0;
	for (i = h & mask; c->firsts[i].h; i = (i + 1) & mask) {
		f = &c->firsts[i];
		if (f->h != h)
			continue;
		if (strcmp(f->email, email) == 0)
			return f;
		*collided = 1;
	}
	c->firsts[i].h = h;
	c->firsts[i].email = xstrdup(email);
	c->firsts[i].line = line;
	c->nfirsts++;
	return NULL;
}

/* ---- small checks ---- */

/* s, safe to quote in a one-line message (a buffer in c). */
static const char *
list_show(struct lctx *c, const char *s, size_t len)
{
	size_t n = len, i;

	if (n > LIST_SHOW_MAX) {
		n = LIST_SHOW_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;	/* never cut a UTF-8 sequence */
	}
	for (i = 0; i < n; i++)
		c->show[i] = util_has_ctl(s + i, 1) ? '?' : s[i];
	strcpy(c->show + n, n < len ? "..." : "");
	return c->show;
}

static const char *
list_event_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.plain_implicit &&
		    (ev->data.scalar.length == 0 ||
		    strcmp((const char *)ev->data.scalar.value, "~") == 0 ||
		    strcmp((const char *)ev->data.scalar.value, "null") == 0 ||
		    strcmp((const char *)ev->data.scalar.value, "Null") == 0 ||
		    strcmp((const char *)ev->data.scalar.value, "NULL") == 0))
			return "null";
		return "a scalar";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "nothing";
	}
}

static void
list_error_at(struct lctx *c, const yaml_event_t *ev, const char *fmt,
    const char *arg)
{
	diag_error(c->d, c->path, (unsigned)ev->start_mark.line + 1,
	    (unsigned)ev->start_mark.column + 1, fmt, arg);
}

/* 1 when v is a scalar; else reports "expected a scalar for 'KEY'". */
static int
list_is_scalar(struct lctx *c, const struct ynode *v, const char *key)
{
	if (v->kind == YNODE_SCALAR)
		return 1;
	schema_error(c->d, v, "expected a scalar for '%s', got %s", key,
	    ynode_kind_name(v));
	return 0;
}

/* 0, or -1 after reporting a line break or control character in v. */
static int
list_check_text(struct lctx *c, const struct ynode *v, const char *what,
    int allow_lf)
{
	size_t i;

	if (!util_has_ctl(v->str, v->len))
		return 0;
	if (memchr(v->str, '\r', v->len) ||
	    (!allow_lf && memchr(v->str, '\n', v->len))) {
		schema_error(c->d, v, "%s contains a line break", what);
		return -1;
	}
	for (i = 0; i < v->len; i++) {
		if (v->str[i] != '\n' && util_has_ctl(v->str + i, 1)) {
			schema_error(c->d, v, "%s contains a control character", what);
			return -1;
		}
	}
	return 0;
}

int
list_id_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 128 || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' ||
		    s[i] == '_'))
			return 0;
	return 1;
}

/* Zone names are words separated by single slashes: nothing like "..". */
static int
list_tz_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 128 || s[0] == '/' || s[len - 1] == '/')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '/' && s[i + 1] == '/')
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '/' || s[i] == '-' ||
		    s[i] == '_' || s[i] == '+'))
			return 0;
	}
	return 1;
}

/* A regular file under the zoneinfo directory, starting with TZif. */
static int
list_tz_file_ok(const char *name)
{
	char path[sizeof(LIST_ZONEINFO) + 130], magic[4];
	struct stat st;
	int fd, ok;

	snprintf(path, sizeof(path), "%s%s", LIST_ZONEINFO, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

int
list_tz_known(const char *s, size_t len)
{
	char name[130];

	if (!list_tz_name_ok(s, len))
		return 0;
	memcpy(name, s, len);
	name[len] = '\0';
	return list_tz_file_ok(name);
}

/* Whether name is a known zone, cached: a list names few zones many times. */
static int
list_tz_ok(struct lctx *c, const char *name, size_t len)
{
	size_t i;
	int ok;

	if (!list_tz_name_ok(name, len))
		return 0;
	for (i = addr_hash(name, len) % LIST_TZ_SLOTS; c->tz[i].name;
	    i = (i + 1) % LIST_TZ_SLOTS)
		if (strcmp(c->tz[i].name, name) == 0)
			return c->tz[i].ok;
	ok = list_tz_file_ok(name);
	if (c->ntz < LIST_TZ_SLOTS / 2) {
		c->tz[i].name = xstrndup(name, len);
		c->tz[i].ok = ok;
		c->ntz++;
	}
	return ok;
}

/* ---- reading events ---- */

static int
list_next(struct lctx *c, yaml_event_t *ev)
{
	if (yaml_parser_parse(&c->p, ev))
		return 0;
	ydoc_parser_error(c->path, &c->p, NULL, 0, c->d);
	return -1;
}

/* Skips the node that starts with ev (deleted here). 0, or -1 on bad YAML. */
static int
list_skip(struct lctx *c, yaml_event_t *ev)
{
	return ydoc_skip(c->sub, &c->p, ev, c->d);
}

/*
 * Builds the node starting with ev. NULL after a reported error; *fatal
 * then says whether the parser cannot go on (broken YAML, or nesting too
 * deep to read past), which ends the reading (otherwise ydoc_build has
 * read the whole node and the next one follows).
 */
static struct ynode *
list_build(struct lctx *c, struct ydoc *doc, yaml_event_t *ev, int *fatal)
{
	return ydoc_build(doc, &c->p, ev, c->d, fatal);
}

/* ---- one subscriber ---- */

static void
list_set_addr(struct lctx *c, struct entry *e, const struct ynode *v)
{
	char err[128];

	e->email_node = v;
	if (addr_parse(v->str, v->len, &c->a, err, sizeof(err)) == -1) {
		if (strcmp(err, "invalid address") == 0)
			schema_error(c->d, v, "invalid address '%s'",
			    list_show(c, v->str, v->len));
		else
			schema_error(c->d, v, "invalid address '%s': %s",
			    list_show(c, v->str, v->len), err);
		return;
	}
	e->have_addr = 1;
	e->s.email = c->a.email;
	if (e->s.name == NULL)
		e->s.name = c->a.name;
}

static void
list_sub_delivery(struct lctx *c, struct entry *e, const struct ynode *v)
{
	if (ynode_is_null(v) || !list_is_scalar(c, v, "delivery"))
		return;
	if (strcmp(v->str, "each") == 0 && v->len == 4)
		e->s.delivery = DELIVERY_EACH;
	else if (strcmp(v->str, "digest") == 0 && v->len == 6) {
		e->s.delivery = DELIVERY_DIGEST;
		if (c->digest_line == 0) {
			c->digest_line = v->line;
			c->digest_col = v->col;
		}
	} else
		schema_error(c->d, v, "invalid delivery '%s'; expected 'each' or 'digest'",
		    list_show(c, v->str, v->len));
}

static void
list_sub_tz(struct lctx *c, struct entry *e, const struct ynode *v)
{
	if (ynode_is_null(v) || !list_is_scalar(c, v, "tz"))
		return;
	if (!list_tz_ok(c, v->str, v->len)) {
		schema_error(c->d, v, "unknown time zone '%s'",
		    list_show(c, v->str, v->len));
		return;
	}
	e->s.tz = v->str;
}

/* A language the list's subscribers read, noted once (for herald check's template variants). */
static void
list_note_lang(struct list_info *info, const char *lang)
{
	size_t i;

	for (i = 0; i < info->nlangs; i++)
		if (strcmp(info->langs[i], lang) == 0)
			return;
	if (info->nlangs >= 256)
		return;		/* more languages than any list has readers of */
	info->langs = xgrow(info->langs, &info->caplangs, info->nlangs + 1, sizeof(*info->langs));
	info->langs[info->nlangs++] = xstrdup(lang);
}

static void
list_sub_lang(struct lctx *c, struct entry *e, const struct ynode *v)
{
	if (ynode_is_null(v) || !list_is_scalar(c, v, "lang") || !schema_lang(v, "lang", c->d))
		return;
	e->s.lang = v->str;
	if (c->pass == 1)
		list_note_lang(c->info, v->str);
}

static void
list_sub_name(struct lctx *c, struct entry *e, const struct ynode *v)
{
	if (ynode_is_null(v) || !list_is_scalar(c, v, "name") ||
	    list_check_text(c, v, "name", 0) == -1)
		return;
	if (v->len > 0)
		e->s.name = v->str;
}

/* A key the subscriber mapping lacks 'email' for, when it looks like a typo of it. */
static const char *
list_email_typo(const struct ynode *map)
{
	static const char *const email[] = { "email", NULL };
	size_t i;

	for (i = 0; i < map->n; i++)
		if (schema_suggest(ynode_key(map, i)->str, email) != NULL)
			return ynode_key(map, i)->str;
	return NULL;
}

/*
 * A key of the subscriber's own that is one slip from one herald reads
 * ("delivry", "Email", "nmae") would silently become a template field, and
 * the subscriber would get what they did not ask for: an error, with the
 * key meant. One edit for the short keys, two for the long ones.
 */
/*
 * A template field, noted once with how many subscribers have it (n: 1
 * for a subscriber's key, 0 for a declaration): checks of templates ask
 * which exist, and which only some subscribers have.
 */
static void
list_note_field(struct list_info *info, const char *key, size_t n)
{
	size_t i, cap;

	for (i = info->nfields; i > 0; i--) {
		if (strcmp(info->fields[i - 1], key) == 0) {
			info->field_counts[i - 1] += n;
			return;
		}
	}
	if (info->nfields >= 256)
		return;		/* a list of that many kinds of field is no list of people */
	cap = info->capfields;
	info->fields = xgrow(info->fields, &info->capfields, info->nfields + 1,
	    sizeof(*info->fields));
	info->field_counts = xgrow(info->field_counts, &cap, info->nfields + 1,
	    sizeof(*info->field_counts));
	info->field_counts[info->nfields] = n;
	info->fields[info->nfields++] = xstrdup(key);
}

/* A list that names its fields: any other key of a subscriber is an error. */
static int
list_undeclared(struct lctx *c, const struct ynode *k)
{
	struct buf names = BUF_INIT;
	const char *near = NULL;
	size_t i, best = (size_t)-1, dist;

	for (i = 0; i < c->nfields; i++) {
		if (strcmp(c->fields[i], k->str) == 0)
			return 0;
		buf_addf(&names, "%s%s", i ? ", " : "", c->fields[i]);
		if ((dist = util_edit_distance(k->str, c->fields[i])) < best) {
			best = dist;
			near = c->fields[i];
		}
	}
	if (near && best <= strlen(k->str) / 3 + 1)
		schema_error(c->d, k, "unknown key '%s' in subscriber; did you mean '%s'? (the "
		    "list's fields: %s)", list_show(c, k->str, k->len), near, buf_str(&names));
	else
		schema_error(c->d, k, "unknown key '%s' in subscriber: the list's fields are %s",
		    list_show(c, k->str, k->len), c->nfields ? buf_str(&names) : "none");
	buf_free(&names);
	return 1;
}

/* `fields: [beat, org]`: before the subscribers, names that are not herald's. */
static void
list_declare_fields(struct lctx *c, const struct ynode *v)
{
	static const char *const herald[] = { "email", "name", "delivery", "tz", "lang", NULL };
	const struct ynode *item;
	size_t i, j;

	if (c->key_line[KEY_SUBSCRIBERS] != 0) {
		schema_error(c->d, v, "'fields' must come before 'subscribers'");
		return;
	}
	if (v->kind != YNODE_SEQ) {
		schema_error(c->d, v, "expected a sequence of field names in 'fields', got %s",
		    ynode_kind_name(v));
		return;
	}
	c->has_fields = 1;
	c->info->fields_declared = 1;
	for (i = 0; i < v->n; i++) {
		item = v->items[i];
		if (item->kind != YNODE_SCALAR || item->len == 0 || util_has_ctl(item->str, item->len)) {
			schema_error(c->d, item, "expected a field name in 'fields'");
			continue;
		}
		for (j = 0; herald[j] && strcmp(herald[j], item->str) != 0; j++)
			;
		if (herald[j]) {
			schema_error(c->d, item, "'%s' is herald's own key, not a field", herald[j]);
			continue;
		}
		c->fields = xrealloc(c->fields, (c->nfields + 1) * sizeof(*c->fields));
		c->fields[c->nfields++] = xstrdup(item->str);
		list_note_field(c->info, item->str, 0);
	}
}

/* has_email: the subscriber has an 'email' key (looked up once, not per key). */
static const char *
list_key_typo(struct lctx *c, const struct ynode *k, int has_email)
{
	static const char *const meant[] = { "email", "name", "delivery", "tz", "lang", NULL };
	size_t i, limit;

	for (i = 0; meant[i]; i++) {
		if (strcmp(k->str, meant[i]) == 0)
			return NULL;
	}
	for (i = 0; meant[i]; i++) {
		limit = strlen(meant[i]) <= 4 ? 1 : 2;
		/* Without an 'email' at all, the missing email is the error to say. */
		if (i == 0 && !has_email)
			continue;
		if (util_edit_distance(k->str, meant[i]) <= limit) {
			schema_error(c->d, k, "unknown key '%s' in subscriber; did you mean '%s'?",
			    list_show(c, k->str, k->len), meant[i]);
			return meant[i];
		}
	}
	return NULL;
}

static void
list_sub_map(struct lctx *c, struct entry *e, const struct ynode *map)
{
	const struct ynode *k, *v, *email = NULL;
	const char *typo;
	int has_email = ynode_get(map, "email") != NULL;
	size_t i;

	for (i = 0; i < map->n; i++) {
		k = ynode_key(map, i);
		v = ynode_val(map, i);
		if (util_has_ctl(k->str, k->len))
			schema_error(c->d, k, "key contains a control character");
		else if (strcmp(k->str, "email") == 0)
			email = v;
		else if (strcmp(k->str, "name") == 0)
			list_sub_name(c, e, v);
		else if (strcmp(k->str, "delivery") == 0)
			list_sub_delivery(c, e, v);
		else if (strcmp(k->str, "tz") == 0)
			list_sub_tz(c, e, v);
		else if (strcmp(k->str, "lang") == 0)
			list_sub_lang(c, e, v);
		else if (c->has_fields ? list_undeclared(c, k) : list_key_typo(c, k, has_email) != NULL)
			continue;
		else if (list_is_scalar(c, v, k->str)) {
			char what[LIST_SHOW_MAX + 16];
			if (c->pass == 1)
				list_note_field(c->info, k->str, 1);
			snprintf(what, sizeof(what), "field '%s'", list_show(c, k->str, k->len));
			list_check_text(c, v, what, 0);
		}
	}
	if (email != NULL && !ynode_is_null(email)) {
		if (list_is_scalar(c, email, "email"))
			list_set_addr(c, e, email);
	} else if ((typo = list_email_typo(map)) != NULL)
		schema_error(c->d, map, "missing required key 'email' in subscriber; "
		    "is '%s' a typo?", list_show(c, typo, strlen(typo)));
	else
		schema_error(c->d, map, "missing required key 'email' in subscriber");
}

/* The mapping templates see as `subscriber`. */
static struct ynode *
list_fields(struct lctx *c, const struct entry *e)
{
	struct ynode *m = ynode_map(c->sub);
	const struct ynode *k;
	size_t i, j;

	ynode_map_set(c->sub, m, "email", ynode_str(c->sub, e->s.email));
	if (e->s.name)
		ynode_map_set(c->sub, m, "name", ynode_str(c->sub, e->s.name));
	if (e->node->kind != YNODE_MAP)
		return m;
	for (i = 0; i < e->node->n; i++) {
		k = ynode_key(e->node, i);
		for (j = 0; list_sub_keys[j]; j++)
			if (strcmp(k->str, list_sub_keys[j]) == 0)
				break;
		/* Keys in the tree are unique, and not email or name: no search. */
		if (list_sub_keys[j] == NULL)
			ynode_map_push(m, ynode_key(e->node, i), ynode_val(e->node, i));
	}
	return m;
}

static void
list_deliver(struct lctx *c, struct entry *e)
{
	c->info->n_subscribers++;
	if (e->s.delivery == DELIVERY_DIGEST)
		c->info->n_digest++;
	if (c->fn == NULL)
		return;
	e->s.doc = c->sub;
	e->s.fields = list_fields(c, e);
	if (c->fn(c->arg, c->info, &e->s) != 0)
		c->stopped = 1;
}

/* Pass 2: reports a repeated address with the line of its first occurrence. */
static void
list_repeat(struct lctx *c, struct entry *e, uint64_t h, int valid)
{
	const struct first *f;
	int collided;

	if (!hset_has(&c->dups, h))
		return;
	f = list_first(c, h, e->s.email, e->email_node->line, &collided);
	if (f != NULL)
		diag_error(c->out, c->path, e->email_node->line, e->email_node->col,
		    "duplicate subscriber '%s' (first at line %u)", e->s.email,
		    f->line);
	else if (collided && valid)
		list_deliver(c, e);
}

static void
list_entry(struct lctx *c, const struct ynode *n)
{
	struct entry e;
	size_t before = c->d->errors;
	uint64_t h;
	int valid;

	memset(&e, 0, sizeof(e));
	e.node = n;
	e.s.line = n->line;
	e.s.col = n->col;
	if (n->kind == YNODE_MAP)
		list_sub_map(c, &e, n);
	else if (n->kind == YNODE_SCALAR && !ynode_is_null(n))
		list_set_addr(c, &e, n);
	else
		schema_error(c->d, n, "expected a mapping or a string, got %s",
		    ynode_kind_name(n));
	valid = e.have_addr && c->d->errors == before;
	if (e.have_addr) {
		h = addr_hash(e.s.email, strlen(e.s.email));
		if (c->pass == 2)
			list_repeat(c, &e, h, valid);
		else if (!hset_add(&c->seen, h)) {
			hset_add(&c->dups, h);
			c->ndup++;
		} else if (valid)
			list_deliver(c, &e);
	}
	addr_clear(&c->a);
}

static int
list_subscribers(struct lctx *c)
{
	yaml_event_t ev;
	struct ynode *n;
	int fatal;

	if (list_next(c, &ev) == -1)
		return -1;
	if (ev.type == YAML_SCALAR_EVENT && strcmp(list_event_kind(&ev), "null") == 0) {
		yaml_event_delete(&ev);
		return 0;
	}
	if (ev.type != YAML_SEQUENCE_START_EVENT) {
		if (c->pass == 1)
			list_error_at(c, &ev, "expected a list of subscribers, got %s",
			    list_event_kind(&ev));
		return list_skip(c, &ev);
	}
	yaml_event_delete(&ev);
	while (!c->stopped) {
		if (list_next(c, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type == YAML_ALIAS_EVENT) {
			/* Anchors live only as long as one subscriber's tree. */
			if (c->pass == 1)
				list_error_at(c, &ev, "alias '*%s' cannot refer to another "
				    "subscriber", (const char *)ev.data.alias.anchor);
			yaml_event_delete(&ev);
			continue;
		}
		n = list_build(c, c->sub, &ev, &fatal);
		if (n != NULL)
			list_entry(c, n);
		ydoc_clear(c->sub);
		if (fatal)
			return -1;
	}
	return 0;
}

/* ---- the rest of the file ---- */

static char *
list_top_string(struct lctx *c, const struct ynode *v, const char *key,
    int allow_lf)
{
	if (ynode_is_null(v) || !list_is_scalar(c, v, key) ||
	    list_check_text(c, v, key, allow_lf) == -1)
		return NULL;
	return xstrndup(v->str, v->len);
}

static char *
list_template_name(struct lctx *c, const struct ynode *v, const char *key)
{
	char *s = list_top_string(c, v, key, 0);

	if (s != NULL && !list_id_ok(s, v->len)) {
		schema_error(c->d, v, "invalid template name '%s'",
		    list_show(c, v->str, v->len));
		free(s);
		return NULL;
	}
	return s;
}

static void
list_digest(struct lctx *c, const struct ynode *v)
{
	struct list_info *info = c->info;
	const struct ynode *t, *s;
	struct cron cron;
	char err[128];

	if (ynode_is_null(v) || !schema_is_map(v, "digest", c->d))
		return;
	schema_unknown_keys(v, list_digest_keys, c->d);
	if ((t = ynode_get(v, "template")) == NULL || ynode_is_null(t))
		schema_error(c->d, v, "missing required key 'template' in digest");
	else {
		info->digest_template = list_template_name(c, t, "template");
		info->digest_template_line = t->line;
		info->digest_template_col = t->col;
	}
	if ((s = ynode_get(v, "schedule")) != NULL &&
	    (info->digest_schedule = list_top_string(c, s, "schedule", 0)) != NULL &&
	    cron_parse(info->digest_schedule, &cron, err, sizeof(err)) == -1)
		schema_error(c->d, s, "bad digest schedule: %s", err);
}

static void
list_top_value(struct lctx *c, enum list_key key, const struct ynode *v)
{
	struct list_info *info = c->info;
	char *s;

	switch (key) {
	case KEY_ID:
		if ((s = list_top_string(c, v, "id", 0)) == NULL)
			break;
		if (!list_id_ok(s, v->len)) {
			schema_error(c->d, v, "invalid list id '%s': use letters, digits, "
			    "'.', '-' and '_'", list_show(c, v->str, v->len));
			free(s);
			break;
		}
		free(info->id);
		info->id = s;
		break;
	case KEY_NAME:
		info->name = list_top_string(c, v, "name", 0);
		break;
	case KEY_DESCRIPTION:
		info->description = list_top_string(c, v, "description", 1);
		break;
	case KEY_TEMPLATE:
		info->template_name = list_template_name(c, v, "template");
		info->template_line = v->line;
		info->template_col = v->col;
		break;
	case KEY_DIGEST:
		list_digest(c, v);
		break;
	case KEY_FIELDS:
		list_declare_fields(c, v);
		break;
	case KEY_TZ:
		if (ynode_is_null(v) || !list_is_scalar(c, v, "tz"))
			break;
		if (!list_tz_ok(c, v->str, v->len))
			schema_error(c->d, v, "unknown time zone '%s'", list_show(c, v->str, v->len));
		else
			info->tz = xstrndup(v->str, v->len);
		break;
	case KEY_LANG:
		if (!ynode_is_null(v) && list_is_scalar(c, v, "lang") && schema_lang(v, "lang", c->d))
			info->lang = xstrndup(v->str, v->len);
		break;
	default:
		fatalx("list: no handler for key %d", (int)key);
	}
}

static int
list_value(struct lctx *c, const char *key, unsigned line, unsigned col)
{
	yaml_event_t ev;
	struct ynode *v;
	const char *near;
	size_t k;
	int fatal;

	for (k = 0; list_keys[k] && strcmp(list_keys[k], key) != 0; k++)
		;
	if (c->pass == 1 && list_keys[k] == NULL) {
		if ((near = schema_suggest(key, list_keys)) != NULL)
			diag_error(c->d, c->path, line, col,
			    "unknown key '%s'; did you mean '%s'?", key, near);
		else
			diag_error(c->d, c->path, line, col, "unknown key '%s'", key);
	} else if (c->pass == 1 && c->key_line[k] != 0)
		diag_error(c->d, c->path, line, col,
		    "duplicate key '%s' (first at line %u)", key, c->key_line[k]);
	if (list_keys[k] != NULL && c->key_line[k] == 0) {
		c->key_line[k] = line;
		if (k == KEY_SUBSCRIBERS)
			return list_subscribers(c);
		if (c->pass == 1) {
			if (list_next(c, &ev) == -1)
				return -1;
			if ((v = list_build(c, c->top, &ev, &fatal)) != NULL)
				list_top_value(c, (enum list_key)k, v);
			return fatal ? -1 : 0;
		}
	}
	if (list_next(c, &ev) == -1)
		return -1;
	return list_skip(c, &ev);
}

/* The keys of the top-level mapping, up to its end. */
static int
list_root(struct lctx *c)
{
	yaml_event_t ev;
	unsigned line, col;
	char *key;
	int rc;

	while (!c->stopped) {
		if (list_next(c, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		line = (unsigned)ev.start_mark.line + 1;
		col = (unsigned)ev.start_mark.column + 1;
		if (ev.type != YAML_SCALAR_EVENT ||
		    util_has_ctl((const char *)ev.data.scalar.value, ev.data.scalar.length)) {
			if (c->pass == 1)
				list_error_at(c, &ev, "expected a plain key, got %s",
				    ev.type == YAML_SCALAR_EVENT ?
				    "a control character" : list_event_kind(&ev));
			if (list_skip(c, &ev) == -1 || list_next(c, &ev) == -1 ||
			    list_skip(c, &ev) == -1)
				return -1;
			continue;
		}
		key = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
		rc = list_value(c, key, line, col);
		free(key);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* After the root node: nothing but the end of the stream. */
static int
list_tail(struct lctx *c)
{
	yaml_event_t ev;

	if (list_next(c, &ev) == -1)
		return -1;
	yaml_event_delete(&ev);		/* DOCUMENT-END */
	if (list_next(c, &ev) == -1)
		return -1;
	if (ev.type == YAML_DOCUMENT_START_EVENT && c->pass == 1)
		list_error_at(c, &ev, "%s", "expected a single YAML document, found another");
	yaml_event_delete(&ev);
	return 0;
}

/* The document: a mapping. Returns -1 when reading had to stop. */
static int
list_document(struct lctx *c)
{
	yaml_event_t ev;

	if (list_next(c, &ev) == -1)
		return -1;
	if (ev.type != YAML_MAPPING_START_EVENT) {
		if (c->pass == 1)
			list_error_at(c, &ev, "expected a mapping with 'subscribers', got %s",
			    list_event_kind(&ev));
		list_skip(c, &ev);
		return -1;
	}
	c->root_line = (unsigned)ev.start_mark.line + 1;
	c->root_col = (unsigned)ev.start_mark.column + 1;
	yaml_event_delete(&ev);
	if (list_root(c) == -1)
		return -1;
	if (c->stopped)
		return 0;
	if (c->pass == 1 && c->key_line[KEY_SUBSCRIBERS] == 0)
		diag_error(c->d, c->path, c->root_line, c->root_col,
		    "missing required key 'subscribers'");
	return list_tail(c);
}

/* One reading of the file. 0, or -1 when it stopped at an error. */
static int
list_stream(struct lctx *c)
{
	yaml_event_t ev;
	FILE *fp;
	int fd, rc = -1;

	memset(c->key_line, 0, sizeof(c->key_line));
	if ((fd = util_open_beneath(c->path)) == -1 || (fp = fdopen(fd, "rb")) == NULL) {
		diag_error(c->d, c->path, 0, 0, "cannot read: %s", util_beneath_error(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!yaml_parser_initialize(&c->p))
		fatalx("yaml_parser_initialize failed");
	yaml_parser_set_input_file(&c->p, fp);
	if (list_next(c, &ev) == -1)
		goto out;
	yaml_event_delete(&ev);		/* STREAM-START */
	if (list_next(c, &ev) == -1)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		if (c->pass == 1)
			diag_error(c->d, c->path, 1, 1,
			    "empty list: missing required key 'subscribers'");
		rc = 0;
	} else
		rc = list_document(c);
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&c->p);
	fclose(fp);
	return rc;
}

/* Checks that need the whole file read. */
static void
list_finish(struct lctx *c)
{
	if (c->digest_line && c->key_line[KEY_DIGEST] == 0)
		diag_error(c->d, c->path, c->digest_line, c->digest_col,
		    "delivery 'digest' but the list has no 'digest' key");
}

/* Pass 2, only when pass 1 met a repeated hash. */
static void
list_find_firsts(struct lctx *c)
{
	struct diag scratch;
	size_t i;

	diag_init(&scratch, c->out->kind);
	scratch.limit = 1;
	c->d = &scratch;
	c->pass = 2;
	for (c->nfirsts_cap = 16; c->nfirsts_cap < 4 * c->ndup; c->nfirsts_cap *= 2)
		;
	c->firsts = xcalloc(c->nfirsts_cap, sizeof(*c->firsts));
	list_stream(c);
	for (i = 0; i < c->nfirsts_cap; i++)
		free(c->firsts[i].email);
	free(c->firsts);
	c->firsts = NULL;
	diag_free(&scratch);
	c->d = c->out;
}

static void
list_ctx_free(struct lctx *c)
{
	size_t i;

	for (i = 0; i < LIST_TZ_SLOTS; i++)
		free(c->tz[i].name);
	for (i = 0; i < c->nfields; i++)
		free(c->fields[i]);
	free(c->fields);
	hset_free(&c->seen);
	hset_free(&c->dups);
	addr_clear(&c->a);
	ydoc_free(c->top);
	ydoc_free(c->sub);
	free(c);
}

int
list_load(const char *path, struct list_info *info, list_sub_fn fn, void *arg,
    struct diag *d)
{
	struct lctx *c = xcalloc(1, sizeof(*c));
	size_t before = d->errors;
	int stopped;

	memset(info, 0, sizeof(*info));
	info->file = xstrdup(path);
	info->id = util_file_stem(path);	/* until an `id:` says otherwise */
	c->path = path;
	c->info = info;
	c->fn = fn;
	c->arg = arg;
	c->out = c->d = d;
	c->pass = 1;
	c->top = ydoc_new(path);
	c->sub = ydoc_new(path);
	if (list_stream(c) == 0 && !c->stopped)
		list_finish(c);
	if (!c->stopped && c->key_line[KEY_ID] == 0 &&
	    !list_id_ok(info->id, strlen(info->id)))
		diag_error(d, path, 1, 1, "invalid list id '%s' (from the file name): "
		    "add 'id:' with letters, digits, '.', '-' and '_'",
		    list_show(c, info->id, strlen(info->id)));
	if (c->ndup > 0 && !c->stopped)
		list_find_firsts(c);
	stopped = c->stopped;
	list_ctx_free(c);
	if (d->errors > before)
		return -1;
	return stopped ? 1 : 0;
}

void
list_info_free(struct list_info *info)
{
	if (info == NULL)
		return;
	free(info->file);
	free(info->id);
	free(info->name);
	free(info->description);
	free(info->tz);
	free(info->lang);
	while (info->nlangs > 0)
		free(info->langs[--info->nlangs]);
	free(info->langs);
	free(info->template_name);
	free(info->digest_template);
	free(info->digest_schedule);
	while (info->nfields > 0)
		free(info->fields[--info->nfields]);
	free(info->fields);
	free(info->field_counts);
	memset(info, 0, sizeof(*info));
}
