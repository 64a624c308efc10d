/*
 * segment.c - a release's `where` and --where KEY=VALUE; see segment.h.
 */
#include "segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/*
 * Subscriber keys herald reads itself: not in the fields, so a segment on
 * one would keep nobody.
 */
static const char *const segment_not_fields[] = { "delivery", "tz", "lang", NULL };

/* NULL when key can name a field, else why not. */
static const char *
segment_key_bad(const char *key, size_t len)
{
	size_t i;

	if (len == 0)
		return "is empty";
	if (strlen(key) != len || util_has_ctl(key, len))
		return "holds a control character";
	if (strpbrk(key, "= \t") != NULL)
		return "holds '=' or a space";
	for (i = 0; segment_not_fields[i]; i++)
		if (strcmp(key, segment_not_fields[i]) == 0)
			return "is no subscriber field (herald reads it itself)";
	return NULL;
}

static struct segment_key *
segment_find(const struct segment *sg, const char *key)
{
	size_t i;

	for (i = 0; sg != NULL && i < sg->nkeys; i++)
		if (strcmp(sg->keys[i].key, key) == 0)
			return &sg->keys[i];
	return NULL;
}

static struct segment_key *
segment_key_add(struct segment *sg, const char *key, const struct ynode *node)
{
	struct segment_key *k;

	if ((k = segment_find(sg, key)) != NULL)
		return k;
	sg->keys = xrealloc(sg->keys, (sg->nkeys + 1) * sizeof(*sg->keys));
	k = &sg->keys[sg->nkeys++];
	memset(k, 0, sizeof(*k));
	k->key = xstrdup(key);
	k->node = node;
	return k;
}

static void
segment_value_add(struct segment_key *k, const char *value)
{
	size_t i;

	for (i = 0; i < k->nvalues; i++)
		if (strcmp(k->values[i], value) == 0)
			return;
	k->values = xrealloc(k->values, (k->nvalues + 1) * sizeof(*k->values));
	k->values[k->nvalues++] = xstrdup(value);
}

/* ---- a release's where ---- */

/* One value of key in a release: 0, or -1 after saying what is wrong at v. */
static int
segment_yaml_value(struct segment_key *k, const struct ynode *v, struct diag *d)
{
	if (v->kind != YNODE_SCALAR) {
		schema_error(d, v, "expected a value for '%s' in 'where', got %s (a list may "
		    "hold only values)", k->key, ynode_kind_name(v));
		return -1;
	}
	if (ynode_is_null(v) || v->len == 0) {
		schema_error(d, v, "'%s' in 'where' has no value", k->key);
		return -1;
	}
	if (util_has_ctl(v->str, v->len)) {
		schema_error(d, v, "the value of '%s' in 'where' holds a line break or control "
		    "character: no subscriber field can", k->key);
		return -1;
	}
	segment_value_add(k, v->str);
	return 0;
}

static int
segment_yaml_key(struct segment *sg, const struct ynode *key, const struct ynode *v,
    struct diag *d)
{
	struct segment_key *k;
	const char *why;
	size_t i;
	int rc = 0;

	if (key->kind != YNODE_SCALAR) {
		schema_error(d, key, "expected a field name as a key of 'where', got %s",
		    ynode_kind_name(key));
		return -1;
	}
	if (key->len == 0) {
		schema_error(d, key, "an empty key in 'where': name a subscriber field");
		return -1;
	}
	if ((why = segment_key_bad(key->str, key->len)) != NULL) {
		schema_error(d, key, "'%s' in 'where' %s", key->str, why);
		return -1;
	}
	k = segment_key_add(sg, key->str, key);
	if (v->kind != YNODE_SEQ)
		return segment_yaml_value(k, v, d);
	if (v->n == 0) {
		schema_error(d, v, "'%s' in 'where' is an empty list: it would keep nobody",
		    key->str);
		return -1;
	}
	for (i = 0; i < v->n; i++)
		if (segment_yaml_value(k, v->items[i], d) == -1)
			rc = -1;
	return rc;
}

int
segment_from_yaml(struct segment *sg, const struct ynode *where, struct diag *d)
{
	size_t i;
	int rc = 0;

	memset(sg, 0, sizeof(*sg));
	if (where == NULL)
		return 0;
	if (where->kind != YNODE_MAP) {
		schema_error(d, where, "expected a mapping of subscriber fields to values for "
		    "'where' (e.g. where: { beat: [energy, climate] }), got %s",
		    ynode_kind_name(where));
		return -1;
	}
	if (where->n == 0) {
		schema_error(d, where, "'where' names no field: leave it out to send to everyone");
		return -1;
	}
	for (i = 0; i < where->n; i++)
		if (segment_yaml_key(sg, ynode_key(where, i), ynode_val(where, i), d) == -1)
			rc = -1;
	if (rc == -1)
		segment_free(sg);
	return rc;
}

/* ---- the command line and the journal ---- */

int
segment_add_arg(struct segment *sg, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '='), *why;
	char *key;

	if (eq == NULL) {
		snprintf(err, errlen, "'%s' is not KEY=VALUE", arg);
		return -1;
	}
	key = xstrndup(arg, (size_t)(eq - arg));
	if ((why = segment_key_bad(key, strlen(key))) != NULL) {
		snprintf(err, errlen, "'%s': the key %s", arg, why);
		free(key);
		return -1;
	}
	if (eq[1] == '\0' || util_has_ctl(eq + 1, strlen(eq + 1))) {
		snprintf(err, errlen, "'%s': %s", arg, eq[1] == '\0' ? "the value is empty" :
		    "the value holds a control character");
		free(key);
		return -1;
	}
	segment_value_add(segment_key_add(sg, key, NULL), eq + 1);
	free(key);
	return 0;
}

static void
segment_copy_key(struct segment *out, const struct segment_key *k)
{
	/* A copy may outlive the release's tree: it keeps no node of it. */
	struct segment_key *to = segment_key_add(out, k->key, NULL);
	size_t i;

	for (i = 0; i < k->nvalues; i++)
		segment_value_add(to, k->values[i]);
}

void
segment_combine(struct segment *out, const struct segment *base, const struct segment *over)
{
	size_t i;

	const struct segment_key *k;

	/* In base's order, a replaced key where it was; over's new keys after. */
	memset(out, 0, sizeof(*out));
	for (i = 0; base != NULL && i < base->nkeys; i++) {
		k = segment_find(over, base->keys[i].key);
		segment_copy_key(out, k ? k : &base->keys[i]);
	}
	for (i = 0; over != NULL && i < over->nkeys; i++)
		segment_copy_key(out, &over->keys[i]);
}

char *
segment_text(const struct segment *sg)
{
	struct buf b = BUF_INIT;
	size_t i, j;

	buf_adds(&b, "");
	for (i = 0; sg != NULL && i < sg->nkeys; i++)
		for (j = 0; j < sg->keys[i].nvalues; j++)
			buf_addf(&b, "%s=%s\n", sg->keys[i].key, sg->keys[i].values[j]);
	return buf_detach(&b);
}

void
segment_describe(const struct segment *sg, struct buf *out)
{
	size_t i, j;

	buf_adds(out, "");
	for (i = 0; sg != NULL && i < sg->nkeys; i++) {
		buf_addf(out, "%s%s=", i ? " " : "", sg->keys[i].key);
		for (j = 0; j < sg->keys[i].nvalues; j++)
			buf_addf(out, "%s%s", j ? "|" : "", sg->keys[i].values[j]);
	}
}

/* ---- who is in it ---- */

int
segment_match(const struct segment *sg, const char *(*get)(void *arg, const char *key),
    void *arg)
{
	const struct segment_key *k;
	const char *have;
	size_t i, j;

	for (i = 0; sg != NULL && i < sg->nkeys; i++) {
		k = &sg->keys[i];
		if ((have = get(arg, k->key)) == NULL)
			return 0;
		for (j = 0; j < k->nvalues; j++)
			if (strcmp(have, k->values[j]) == 0)
				break;
		if (j == k->nvalues)
			return 0;
	}
	return 1;
}

static const char *
segment_get_field(void *arg, const char *key)
{
	const struct ynode *v = ynode_get(arg, key);

	/* A value with a NUL inside equals no value of a segment. */
	return v != NULL && v->kind == YNODE_SCALAR && strlen(v->str) == v->len ? v->str : NULL;
}

int
segment_match_fields(const struct segment *sg, const struct ynode *fields)
{
	return segment_match(sg, segment_get_field, (void *)fields);
}

struct packed {
	const char *p;
	size_t len;
};

static const char *
segment_get_packed(void *arg, const char *key)
{
	const struct packed *pk = arg;
	const char *p = pk->p, *end = pk->p + pk->len, *k, *v;

	while (p < end) {
		k = p;
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return NULL;
		v = ++p;
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return NULL;
		p++;
		if (strcmp(k, key) == 0)
			return v;
	}
	return NULL;
}

int
segment_match_packed(const struct segment *sg, const void *blob, size_t len)
{
	struct packed pk = { blob, blob ? len : 0 };

	return segment_match(sg, segment_get_packed, &pk);
}

void
segment_free(struct segment *sg)
{
	size_t i, j;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->nkeys; i++) {
		for (j = 0; j < sg->keys[i].nvalues; j++)
			free(sg->keys[i].values[j]);
		free(sg->keys[i].values);
		free(sg->keys[i].key);
	}
	free(sg->keys);
	memset(sg, 0, sizeof(*sg));
}

/* ---- sets: every segment a release went to ---- */

static void
segment_copy(struct segment *to, const struct segment *from)
{
	size_t i;

	memset(to, 0, sizeof(*to));
	for (i = 0; i < from->nkeys; i++)
		segment_copy_key(to, &from->keys[i]);
}

/* 1 when a and b keep the same subscribers: the same keys with the same values. */
static int
segment_same(const struct segment *a, const struct segment *b)
{
	const struct segment_key *k;
	size_t i, j, l;

	if (a->nkeys != b->nkeys)
		return 0;
	for (i = 0; i < a->nkeys; i++) {
		if ((k = segment_find(b, a->keys[i].key)) == NULL ||
		    k->nvalues != a->keys[i].nvalues)
			return 0;
		for (j = 0; j < k->nvalues; j++) {
			for (l = 0; l < k->nvalues; l++)
				if (strcmp(a->keys[i].values[j], k->values[l]) == 0)
					break;
			if (l == k->nvalues)
				return 0;
		}
	}
	return 1;
}

void
segment_set_one(struct segment_set *set, const struct segment *sg)
{
	memset(set, 0, sizeof(*set));
	if (sg == NULL || sg->nkeys == 0)
		return;
	set->v = xcalloc(1, sizeof(*set->v));
	segment_copy(&set->v[0], sg);
	set->n = 1;
}

void
segment_set_add(struct segment_set *set, const struct segment *sg)
{
	size_t i;

	if (set->n == 0)
		return;		/* everyone already: a segment adds nobody */
	if (sg == NULL || sg->nkeys == 0) {
		segment_set_free(set);
		return;
	}
	for (i = 0; i < set->n; i++)
		if (segment_same(&set->v[i], sg))
			return;
	set->v = xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
	segment_copy(&set->v[set->n++], sg);
}

int
segment_set_parse(struct segment_set *set, const char *text)
{
	struct segment cur;
	const char *p = text, *nl;
	char err[256], *line;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	memset(&cur, 0, sizeof(cur));
	while (rc == 0 && *p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL) {
			rc = -1;
			break;
		}
		if (nl == p) {		/* the empty line that ends a segment */
			if (cur.nkeys == 0) {
				rc = -1;
				break;
			}
			set->v = xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
			set->v[set->n++] = cur;
			memset(&cur, 0, sizeof(cur));
		} else {
			line = xstrndup(p, (size_t)(nl - p));
			rc = segment_add_arg(&cur, line, err, sizeof(err));
			free(line);
		}
		p = nl + 1;
	}
	if (cur.nkeys > 0)
		rc = -1;	/* a segment not ended by its empty line */
	segment_free(&cur);
	if (rc == -1)
		segment_set_free(set);
	return rc;
}

char *
segment_set_text(const struct segment_set *set)
{
	struct buf b = BUF_INIT;
	char *one;
	size_t i;

	buf_adds(&b, "");
	for (i = 0; i < set->n; i++) {
		one = segment_text(&set->v[i]);
		buf_addf(&b, "%s\n", one);
		free(one);
	}
	return buf_detach(&b);
}

int
segment_set_match_packed(const struct segment_set *set, const void *blob, size_t len)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (segment_match_packed(&set->v[i], blob, len))
			return 1;
	return set->n == 0;	/* everyone */
}

int
segment_set_match_fields(const struct segment_set *set, const struct ynode *fields)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (segment_match_fields(&set->v[i], fields))
			return 1;
	return set->n == 0;	/* everyone */
}

void
segment_set_describe(const struct segment_set *set, struct buf *out)
{
	size_t i;

	buf_adds(out, "");
	for (i = 0; i < set->n; i++) {
		if (i)
			buf_adds(out, ", or ");
		segment_describe(&set->v[i], out);
	}
}

void
segment_set_free(struct segment_set *set)
{
	if (set == NULL)
		return;
	while (set->n > 0)
		segment_free(&set->v[--set->n]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}
