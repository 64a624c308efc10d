/*
 * release.c - loads a release and checks every key.
 */
#include "release.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "list.h"
#include "project.h"
#include "schema.h"
#include "timefmt.h"

const char *const release_text_fields[] = { "title", "byline", "dateline",
	"summary", "body", "about", "contact", NULL };

static const char *const release_keys[] = { "id", "title", "byline", "dateline",
	"lists", "template", "embargo", "expires", "summary", "body", "about",
	"contact", "prebrief", "deliver_local", "lang", "translations", "where", "attachments",
	"public", NULL };
static const char *const prebrief_keys[] = { "lists", "at", NULL };

char *
release_path(const char *dir, const char *arg)
{
	struct stat st;

	if (strchr(arg, '/') != NULL || (stat(arg, &st) == 0 && S_ISREG(st.st_mode)))
		return xstrdup(arg);
	return project_yaml_path(dir, arg);
}

/* Ids name files, Message-IDs and List-Ids: keep them to a safe alphabet. */
static int
release_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static void
release_time(struct release *r, const char *key, int *has, long long *t,
    struct diag *d)
{
	const char *s = schema_string(r->root, key, 0, NULL, d);
	int rc;

	if (s == NULL)
		return;
	if ((rc = timefmt_parse(s, t)) == 0) {
		*has = 1;
		return;
	}
	schema_error(d, ynode_get(r->root, key), rc == -2 ?
	    "'%s' has no UTC offset: write e.g. %s-03:00 or %sZ" :
	    "'%s' is not an ISO 8601 time such as 2017-06-22T09:00:00-03:00%s%s",
	    s, rc == -2 ? s : "", rc == -2 ? s : "");
}

/* A list id or a sequence of them (n not NULL) into ids; what names each into nodes. */
static void
release_list_ids(const struct ynode *n, const char *key, char ***ids,
    const struct ynode ***nodes, size_t *count, struct diag *d)
{
	const struct ynode *item;
	size_t i, max = n->kind == YNODE_SEQ ? n->n : 1;

	*ids = xcalloc(max ? max : 1, sizeof(**ids));
	if (nodes)
		*nodes = xcalloc(max ? max : 1, sizeof(**nodes));
	for (i = 0; i < max; i++) {
		item = n->kind == YNODE_SEQ ? n->items[i] : n;
		if (item->kind != YNODE_SCALAR || !list_id_ok(item->str, item->len)) {
			schema_error(d, item, "expected a list id in '%s', got %s", key,
			    item->kind == YNODE_SCALAR ? "a name with other characters"
			    : ynode_kind_name(item));
			continue;
		}
		if (nodes)
			(*nodes)[*count] = item;
		(*ids)[(*count)++] = xstrdup(item->str);
	}
}

/* Why path cannot name a file of the project by itself, or NULL. */
static const char *
release_path_bad(const char *path, size_t len)
{
	if (len == 0)
		return "an empty path";
	if (path[0] == '/')
		return "an absolute path: name a file inside the project, relative to it";
	if (util_has_ctl(path, len) || memchr(path, '\t', len) != NULL)
		return "a path with a control character";
	if (path[len - 1] == '/')
		return "a folder, not a file";
	if (len > 1024)
		return "a path longer than 1024 bytes";
	return NULL;
}

/* `attachments`: paths of files in the project; opened and weighed by the check (attach.h). */
static void
release_attachments(struct release *r, struct diag *d)
{
	const struct ynode *n = ynode_get(r->root, "attachments"), *item;
	const char *why;
	size_t i, j, count;

	if (n == NULL || ynode_is_null(n))
		return;
	count = n->kind == YNODE_SEQ ? n->n : 1;
	r->attachments = xcalloc(count, sizeof(*r->attachments));
	r->attachment_nodes = xcalloc(count, sizeof(*r->attachment_nodes));
	for (i = 0; i < count; i++) {
		item = n->kind == YNODE_SEQ ? n->items[i] : n;
		if (item->kind != YNODE_SCALAR || ynode_is_null(item)) {
			schema_error(d, item, "expected the path of a file in 'attachments', got %s",
			    ynode_kind_name(item));
			continue;
		}
		if ((why = release_path_bad(item->str, item->len)) != NULL) {
			schema_error(d, item, "attachment '%s': %s", item->str, why);
			continue;
		}
		for (j = 0; j < r->nattachments; j++)
			if (strcmp(r->attachments[j], item->str) == 0)
				break;
		if (j < r->nattachments) {
			schema_error(d, item, "attachment '%s' is named twice", item->str);
			continue;
		}
		r->attachment_nodes[r->nattachments] = item;
		r->attachments[r->nattachments++] = xstrdup(item->str);
	}
}

static void
release_lists(struct release *r, struct diag *d)
{
	const struct ynode *n = ynode_get(r->root, "lists");

	if (n == NULL || ynode_is_null(n))
		return;
	release_list_ids(n, "lists", &r->lists, &r->list_nodes, &r->nlists, d);
}

/* The key node of key in map, for errors about the whole entry. */
static const struct ynode *
release_key(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (strcmp(ynode_key(map, i)->str, key) == 0)
			return ynode_key(map, i);
	return map;
}

/*
 * `prebrief: { lists: [...], at: TIME }`: only with an embargo, its lists
 * among the release's, its time before the lift.
 */
static void
release_prebrief(struct release *r, struct diag *d)
{
	const struct ynode *n = ynode_get(r->root, "prebrief"), *ls, *at;
	const char *s;
	size_t i, j;
	int rc;

	if (n == NULL || ynode_is_null(n) || !schema_is_map(n, "'prebrief'", d))
		return;
	schema_unknown_keys(n, prebrief_keys, d);
	if (!r->has_embargo && ynode_get(r->root, "embargo") == NULL)
		schema_error(d, release_key(r->root, "prebrief"), "'prebrief' needs an 'embargo': "
		    "pre-briefing is getting it before the lift");
	ls = ynode_get(n, "lists");
	if (ls == NULL || ynode_is_null(ls) || (ls->kind == YNODE_SEQ && ls->n == 0)) {
		schema_error(d, ls ? ls : n, "'prebrief' needs 'lists': the lists briefed early");
	} else {
		release_list_ids(ls, "prebrief.lists", &r->prebrief_lists, NULL, &r->nprebrief, d);
		for (i = 0; i < r->nprebrief && r->nlists > 0; i++) {
			for (j = 0; j < r->nlists; j++)
				if (strcmp(r->prebrief_lists[i], r->lists[j]) == 0)
					break;
			if (j == r->nlists)
				schema_error(d, ls->kind == YNODE_SEQ ? ls->items[i] : ls,
				    "pre-briefing list '%s' is not one of the release's 'lists'",
				    r->prebrief_lists[i]);
		}
	}
	at = ynode_get(n, "at");
	if (at == NULL || ynode_is_null(at))
		return;
	if ((s = schema_string(n, "at", 0, NULL, d)) == NULL)
		return;
	if ((rc = timefmt_parse(s, &r->prebrief_at)) != 0) {
		schema_error(d, at, rc == -2 ? "'at' has no UTC offset: write e.g. %s-03:00 or %sZ" :
		    "'at' is not an ISO 8601 time such as 2017-06-22T09:00:00-03:00%s%s",
		    rc == -2 ? s : "", rc == -2 ? s : "");
		return;
	}
	r->has_prebrief_at = 1;
	if (r->has_embargo && r->prebrief_at >= r->embargo)
		schema_error(d, at, "'prebrief.at' is not before 'embargo': pre-briefing comes "
		    "before the lift");
}

/* `deliver_local: "HH:MM"`. */
static void
release_local(struct release *r, struct diag *d)
{
	const char *s = schema_string(r->root, "deliver_local", 0, NULL, d);
	unsigned h, m;
	char end;

	r->deliver_local = -1;
	if (s == NULL)
		return;
	if (strlen(s) != 5 || sscanf(s, "%2u:%2u%c", &h, &m, &end) != 2 || s[2] != ':' ||
	    h > 23 || m > 59 || strspn(s, "0123456789:") != 5) {
		schema_error(d, ynode_get(r->root, "deliver_local"),
		    "'deliver_local' is not a time of day such as \"09:00\" (HH:MM, 24-hour)");
		return;
	}
	r->deliver_local = (int)(h * 60 + m);
}

/* `public: true | false`, a YAML boolean: whether the archive shows the release. */
static void
release_public(struct release *r, struct diag *d)
{
	const struct ynode *n = ynode_get(r->root, "public");

	r->is_public = 1;
	if (n != NULL && !ynode_is_null(n) && !ynode_bool(n, &r->is_public))
		schema_error(d, n, "'public' must be true or false (false: never in the archive)");
}

/* The text fields of map, the release's (where the title is required) or a translation's. */
static void
release_texts(const struct ynode *map, int own, struct diag *d)
{
	const char *s;
	size_t i;

	for (i = 0; release_text_fields[i]; i++) {
		s = schema_string(map, release_text_fields[i],
		    own && strcmp(release_text_fields[i], "title") == 0, "the release", d);
		if (s == NULL)
			continue;
		/* The title is the subject line: a line break there would be a header injection. */
		if (strcmp(release_text_fields[i], "title") == 0 &&
		    util_has_ctl(s, strlen(s)))
			schema_error(d, ynode_get(map, "title"),
			    "'title' contains a line break or control character");
	}
}

static int
release_in(const char *key, const char *const *set)
{
	size_t i;

	for (i = 0; set[i]; i++)
		if (strcmp(key, set[i]) == 0)
			return 1;
	return 0;
}

/*
 * A translation holds text fields only: a release key that is not one
 * (lists, embargo) is said as such, any other key as unknown, with the
 * text field it is nearest to.
 */
static void
release_translation_keys(const struct ynode *map, const char *lang, struct diag *d)
{
	struct buf texts = BUF_INIT;
	const struct ynode *k;
	char *where;
	size_t i;

	for (i = 0; release_text_fields[i]; i++)
		buf_addf(&texts, "%s%s", i ? ", " : "", release_text_fields[i]);
	where = xasprintf("translation '%s'", lang);
	for (i = 0; i < map->n; i++) {
		k = ynode_key(map, i);
		if (release_in(k->str, release_text_fields))
			continue;
		if (release_in(k->str, release_keys))
			schema_error(d, k, "'%s' is not translated: a translation holds only text "
			    "fields (%s)", k->str, buf_str(&texts));
		else
			schema_unknown_key(k, release_text_fields, where, d);
	}
	free(where);
	buf_free(&texts);
}

/* `lang` and `translations`: each translation a language other than the release's own. */
static void
release_langs(struct release *r, struct diag *d)
{
	const struct ynode *n, *k, *v;
	size_t i;

	if ((n = ynode_get(r->root, "lang")) != NULL && !ynode_is_null(n) &&
	    schema_lang(n, "lang", d)) {
		r->lang = n->str;
		r->lang_node = n;
	}
	n = ynode_get(r->root, "translations");
	if (n == NULL || ynode_is_null(n) || !schema_is_map(n, "'translations'", d))
		return;
	r->translations = xcalloc(n->n ? n->n : 1, sizeof(*r->translations));
	for (i = 0; i < n->n; i++) {
		k = ynode_key(n, i);
		v = ynode_val(n, i);
		if (!schema_lang(k, "translations", d))
			continue;
		if (r->lang && strcmp(k->str, r->lang) == 0) {
			schema_error(d, k, "translation '%s' is the release's own language (lang: %s): "
			    "its text is the release's own fields", k->str, r->lang);
			continue;
		}
		if (v->kind != YNODE_MAP) {
			schema_error(d, v, "expected a mapping of text fields for translation '%s', "
			    "got %s", k->str, ynode_kind_name(v));
			continue;
		}
		release_translation_keys(v, k->str, d);
		release_texts(v, 0, d);
		r->translations[r->ntranslations].lang = k->str;
		r->translations[r->ntranslations].key = k;
		r->translations[r->ntranslations++].fields = v;
	}
}

int
release_load(const char *path, struct release *r, struct diag *d)
{
	char *data;
	size_t len;
	int rc;

	if (util_read_beneath(path, &data, &len) == -1) {
		memset(r, 0, sizeof(*r));
		diag_error(d, path, 0, 0, "cannot read: %s", util_beneath_error(errno));
		return -1;
	}
	rc = release_load_mem(path, data, len, r, d);
	free(data);
	return rc;
}

int
release_load_mem(const char *path, const char *data, size_t len, struct release *r,
    struct diag *d)
{
	size_t before = d->errors;
	const struct ynode *where;
	const char *id, *tmpl;

	memset(r, 0, sizeof(*r));
	r->file = xstrdup(path);
	if ((r->doc = ydoc_load_mem(path, data, len, d)) == NULL)
		return -1;
	r->root = ydoc_root(r->doc);
	if (r->root == NULL) {
		diag_error(d, path, 0, 0, "the release is empty");
		return -1;
	}
	if (!schema_is_map(r->root, "the release", d))
		return -1;
	schema_unknown_keys(r->root, release_keys, d);
	id = schema_string(r->root, "id", 0, NULL, d);
	r->id = id ? xstrdup(id) : util_file_stem(path);
	if (!release_id_ok(r->id))
		schema_error(d, id ? ynode_get(r->root, "id") : r->root,
		    "release id '%s' may hold only letters, digits, '-' and '_'", r->id);
	release_texts(r->root, 1, d);
	r->title = ynode_get(r->root, "title");
	release_langs(r, d);
	release_lists(r, d);
	release_attachments(r, d);
	if ((tmpl = schema_string(r->root, "template", 0, NULL, d)) != NULL) {
		r->template_name = tmpl;
		r->template_node = ynode_get(r->root, "template");
	}
	release_time(r, "embargo", &r->has_embargo, &r->embargo, d);
	release_time(r, "expires", &r->has_expires, &r->expires, d);
	/* `where:` with nothing after it is no segment, as `lists:` is no list. */
	if ((where = ynode_get(r->root, "where")) != NULL && ynode_is_null(where))
		where = NULL;
	segment_from_yaml(&r->where, where, d);
	if (r->has_embargo && r->has_expires && r->expires <= r->embargo)
		schema_error(d, ynode_get(r->root, "expires"),
		    "'expires' is not after 'embargo': the release could never be sent");
	release_prebrief(r, d);
	release_local(r, d);
	release_public(r, d);
	return d->errors > before ? -1 : 0;
}

char *
release_lists_joined(const struct release *r, char **override, size_t n)
{
	struct buf b = BUF_INIT;
	char **ids = n ? override : r->lists;
	size_t i;

	if (n == 0)
		n = r->nlists;
	for (i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, ids[i]);
	}
	return buf_detach(&b);
}

int
release_prebriefs(const struct release *r, const char *list)
{
	size_t i;

	for (i = 0; i < r->nprebrief; i++)
		if (strcmp(r->prebrief_lists[i], list) == 0)
			return 1;
	return 0;
}

long long
release_opens(const struct release *r)
{
	if (r->nprebrief > 0)
		return r->has_prebrief_at ? r->prebrief_at : 0;
	return r->has_embargo ? r->embargo : 0;
}

/* A text field of map (a scalar, not null), or NULL. */
static const char *
release_text_of(const struct ynode *map, const char *name)
{
	const struct ynode *n = ynode_get(map, name);

	return n && n->kind == YNODE_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

const char *
release_file_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

const char *
release_field(const struct release *r, const char *name)
{
	return release_text_of(r->root, name);
}

const char *
release_field_in(const struct release *r, long tr, const char *name)
{
	const char *s = NULL;

	if (tr >= 0 && (size_t)tr < r->ntranslations)
		s = release_text_of(r->translations[tr].fields, name);
	return s ? s : release_field(r, name);
}

const char *
release_lang(const struct release *r, const char *def)
{
	return r->lang ? r->lang : def ? def : "en";
}

long
release_translation(const struct release *r, const char *lang)
{
	size_t i;

	for (i = 0; lang && i < r->ntranslations; i++)
		if (strcmp(r->translations[i].lang, lang) == 0)
			return (long)i;
	return -1;
}

void
release_free(struct release *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nlists; i++)
		free(r->lists[i]);
	free(r->lists);
	free(r->list_nodes);
	for (i = 0; i < r->nprebrief; i++)
		free(r->prebrief_lists[i]);
	free(r->prebrief_lists);
	free(r->translations);
	segment_free(&r->where);
	for (i = 0; i < r->nattachments; i++)
		free(r->attachments[i]);
	free(r->attachments);
	free(r->attachment_nodes);
	ydoc_free(r->doc);
	free(r->file);
	free(r->id);
	memset(r, 0, sizeof(*r));
}
