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
	"contact", "attachments", NULL };

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

static void
release_lists(struct release *r, struct diag *d)
{
	const struct ynode *n = ynode_get(r->root, "lists"), *item;
	size_t i, count;

	if (n == NULL || ynode_is_null(n))
		return;
	count = n->kind == YNODE_SEQ ? n->n : 1;
	r->lists = xcalloc(count, sizeof(*r->lists));
	r->list_nodes = xcalloc(count, sizeof(*r->list_nodes));
	for (i = 0; i < count; i++) {
		item = n->kind == YNODE_SEQ ? n->items[i] : n;
		if (item->kind != YNODE_SCALAR || !list_id_ok(item->str, item->len)) {
			schema_error(d, item, "expected a list id in 'lists', got %s",
			    item->kind == YNODE_SCALAR ? "a name with other characters"
			    : ynode_kind_name(item));
			continue;
		}
		r->list_nodes[r->nlists] = item;
		r->lists[r->nlists++] = xstrdup(item->str);
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
release_texts(struct release *r, struct diag *d)
{
	const char *s;
	size_t i;

	for (i = 0; release_text_fields[i]; i++) {
		s = schema_string(r->root, release_text_fields[i],
		    strcmp(release_text_fields[i], "title") == 0, "the release", d);
		if (s == NULL)
			continue;
		/* The title is the subject line: a line break there would be a header injection. */
		if (strcmp(release_text_fields[i], "title") == 0 &&
		    util_has_ctl(s, strlen(s)))
			schema_error(d, ynode_get(r->root, "title"),
			    "'title' contains a line break or control character");
	}
	r->title = ynode_get(r->root, "title");
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
	release_texts(r, d);
	release_lists(r, d);
	release_attachments(r, d);
	if ((tmpl = schema_string(r->root, "template", 0, NULL, d)) != NULL) {
		r->template_name = tmpl;
		r->template_node = ynode_get(r->root, "template");
	}
	release_time(r, "embargo", &r->has_embargo, &r->embargo, d);
	release_time(r, "expires", &r->has_expires, &r->expires, d);
	if (r->has_embargo && r->has_expires && r->expires <= r->embargo)
		schema_error(d, ynode_get(r->root, "expires"),
		    "'expires' is not after 'embargo': the release could never be sent");
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

const char *
release_file_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

const char *
release_field(const struct release *r, const char *name)
{
	const struct ynode *n = ynode_get(r->root, name);

	return n && n->kind == YNODE_SCALAR && !ynode_is_null(n) ? n->str : NULL;
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
	for (i = 0; i < r->nattachments; i++)
		free(r->attachments[i]);
	free(r->attachments);
	free(r->attachment_nodes);
	ydoc_free(r->doc);
	free(r->file);
	free(r->id);
	memset(r, 0, sizeof(*r));
}
