#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

const char *
schema_suggest(const char *key, const char *const *known)
{
	const char *best = NULL;
	size_t i, dist, best_dist = (size_t)-1, len = strlen(key), limit;

	for (i = 0; known[i]; i++) {
		dist = util_edit_distance(key, known[i]);
		if (dist < best_dist) {
			best_dist = dist;
			best = known[i];
		}
	}
	/* A third of the word may be wrong, and never more than three edits. */
	limit = len / 3 + 1;
	if (limit > 3)
		limit = 3;
	return best_dist <= limit ? best : NULL;
}

void
schema_error(struct diag *d, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (n)
		diag_error(d, n->file, n->line, n->col, "%s", buf_str(&b));
	else
		diag_error(d, NULL, 0, 0, "%s", buf_str(&b));
	buf_free(&b);
}

int
schema_is_map(const struct ynode *n, const char *what, struct diag *d)
{
	if (n != NULL && n->kind == YNODE_MAP)
		return 1;
	if (n != NULL)
		schema_error(d, n, "expected a mapping for %s, got %s", what,
		    ynode_kind_name(n));
	return 0;
}

void
schema_unknown_key(const struct ynode *k, const char *const *known, const char *where,
    struct diag *d)
{
	const char *near = schema_suggest(k->str, known);

	schema_error(d, k, "unknown key '%s'%s%s%s%s%s", k->str, where ? " in " : "",
	    where ? where : "", near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

size_t
schema_unknown_keys(const struct ynode *map, const char *const *known,
    struct diag *d)
{
	size_t i, j, bad = 0;
	const struct ynode *k;

	for (i = 0; map != NULL && map->kind == YNODE_MAP && i < map->n; i++) {
		k = ynode_key(map, i);
		for (j = 0; known[j]; j++)
			if (strcmp(k->str, known[j]) == 0)
				break;
		if (known[j])
			continue;
		bad++;
		schema_unknown_key(k, known, NULL, d);
	}
	return bad;
}

int
schema_lang(const struct ynode *v, const char *what, struct diag *d)
{
	char canon[LANG_MAX];
	int rc;

	if (v->kind != YNODE_SCALAR) {
		schema_error(d, v, "expected a language tag for '%s', got %s", what,
		    ynode_kind_name(v));
		return 0;
	}
	rc = lang_tag_check(v->str, v->len, canon);
	if (rc == 1)
		schema_error(d, v, "language '%s' is written '%s'", v->str, canon);
	else if (rc == -1 && (util_has_ctl(v->str, v->len) || v->len > 40))
		schema_error(d, v, "'%s' is not a language tag such as en, es, pt-BR or zh-Hant",
		    what);
	else if (rc == -1)
		schema_error(d, v, "'%s' in '%s' is not a language tag such as en, es, pt-BR or "
		    "zh-Hant", v->str, what);
	return rc == 0;
}

const char *
schema_string(const struct ynode *map, const char *key, int required,
    const char *where, struct diag *d)
{
	const struct ynode *v = ynode_get(map, key);

	if (v == NULL || ynode_is_null(v)) {
		if (required && map != NULL)
			schema_error(d, v ? v : map, "missing required key '%s' in %s",
			    key, where);
		return NULL;
	}
	if (v->kind != YNODE_SCALAR) {
		schema_error(d, v, "expected a string for '%s', got %s", key,
		    ynode_kind_name(v));
		return NULL;
	}
	if (strlen(v->str) != v->len) {
		schema_error(d, v, "'%s' contains a NUL character", key);
		return NULL;
	}
	return v->str;
}

int
schema_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
schema_parse_duration(const char *s, unsigned long long *secs)
{
	static const struct { const char *unit; unsigned long long mult; } units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "min", 60 }, { "h", 3600 },
		{ "d", 86400 }, { "w", 604800 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > 100ULL * 365 * 86400)
		return -1;
	for (i = 0; i < ARRAY_LEN(units); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*secs = v * units[i].mult;
			return *secs <= 100ULL * 365 * 86400 ? 0 : -1;
		}
	}
	return -1;
}
