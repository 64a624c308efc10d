/*
 * cls_text.c - the classifier's small text helpers and its findings.
 * Pure: buffers in, answers out.
 */
#include "cls_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "util.h"

void
cls_copy_lower(char *dst, size_t size, const char *s, size_t n)
{
	size_t i;

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[n] = '\0';
}

/* Case-insensitive search for a needle in the first n bytes of s. */
const char *
cls_find_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle), i, j;

	if (m == 0 || m > n)
		return NULL;
	for (i = 0; i + m <= n; i++) {
		for (j = 0; j < m; j++)
			if (tolower((unsigned char)s[i + j]) != (unsigned char)needle[j])
				break;
		if (j == m)
			return s + i;
	}
	return NULL;
}

int
cls_has_any(const char *s, size_t n, const char *const *words)
{
	size_t i;

	for (i = 0; words[i]; i++)
		if (cls_find_ci(s, n, words[i]))
			return 1;
	return 0;
}

static int
addr_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

/*
 * The address around the '@' at s[at], within [lo, hi): a dot-atom local
 * part and a domain with a dot. 0 when there is none there.
 */
int
cls_addr_at(const char *lo, const char *hi, const char *at, const char **b, const char **e)
{
	const char *p = at, *q = at + 1;
	int dot = 0;

	while (p > lo && addr_char((unsigned char)p[-1]))
		p--;
	/* Not part of it: a leading dot, or the quote of 'addr'. */
	while (p < at && (*p == '.' || *p == '\'' || *p == '`'))
		p++;
	while (q < hi && (isalnum((unsigned char)*q) || *q == '-' || *q == '.' ||
	    *q == '#' || *q == '_')) {
		dot |= *q == '.';
		q++;
	}
	while (q > at + 1 && q[-1] == '.')
		q--;
	if (p == at || q == at + 1 || !dot)
		return 0;
	*b = p;
	*e = q;
	return 1;
}

/* ---- findings ---- */

struct cls_finding *
cls_add_finding(struct cls_result *r, enum cls_kind kind)
{
	struct cls_finding *f;

	if (r->n >= CLS_FINDINGS_MAX)
		return NULL;
	r->f = xgrow(r->f, &r->cap, r->n + 1, sizeof(*r->f));
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	return f;
}

int
cls_have_bounce(const struct cls_result *r, const char *addr)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->f[i].kind == CLS_BOUNCE && strcmp(r->f[i].address, addr) == 0)
			return 1;
	return 0;
}

void
cls_text_add(struct cls_text *t, const char *s, size_t n)
{
	if (t->len >= CLS_TEXT_MAX)
		return;
	if (n > CLS_TEXT_MAX - t->len)
		n = CLS_TEXT_MAX - t->len;
	t->data = realloc(t->data, t->len + n + 2);
	if (t->data == NULL)
		fatalx("out of memory");
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len++] = '\n';
	t->data[t->len] = '\0';
}


/* The first address in [s, s + n), lowercase, into out; 0 when none. */
int
cls_first_addr(const char *s, size_t n, char *out, size_t size)
{
	const char *end = s + n, *at, *b, *e;

	for (at = s; at < end && (at = memchr(at, '@', (size_t)(end - at))) != NULL; at++)
		if (cls_addr_at(s, end, at, &b, &e)) {
			cls_copy_lower(out, size, b, (size_t)(e - b));
			return 1;
		}
	return 0;
}

struct cls_finding *
cls_add_bounce(struct cls_result *r, const char *addr, const char *st, int hard)
{
	struct cls_finding *f;

	if (addr[0] == '\0' || cls_have_bounce(r, addr) || (f = cls_add_finding(r, CLS_BOUNCE)) == NULL)
		return NULL;
	snprintf(f->address, sizeof(f->address), "%s", addr);
	snprintf(f->status, sizeof(f->status), "%s", st);
	f->hard = hard;
	return f;
}

int
cls_ours_or_sender(const char *addr, const struct cls_headers *h, const struct cls_opts *o)
{
	const char *at = strchr(addr, '@');
	size_t ll = at ? (size_t)(at - addr) : strlen(addr);

	/* The notice goes to the original's sender, who is no failed recipient. */
	if (strcmp(addr, h->from) == 0 || strcmp(addr, h->to) == 0)
		return 1;
	if ((ll == 13 && strncmp(addr, "mailer-daemon", 13) == 0) ||
	    (ll == 10 && strncmp(addr, "postmaster", 10) == 0))
		return 1;
	if (o->bounce_address && strncasecmp(addr, o->bounce_address,
	    strcspn(o->bounce_address, "@")) == 0)
		return 1;
	if (o->unsubscribe_address && strncasecmp(addr, o->unsubscribe_address,
	    strcspn(o->unsubscribe_address, "@")) == 0)
		return 1;
	return 0;
}

/* Does s (n bytes) start with one of the lowercase prefixes, in any case? */
int
cls_starts_any(const char *s, size_t n, const char *const *prefixes)
{
	size_t i, m;

	for (i = 0; prefixes[i]; i++) {
		m = strlen(prefixes[i]);
		if (n >= m && strncasecmp(s, prefixes[i], m) == 0)
			return 1;
	}
	return 0;
}

int
cls_line_blank(const char *s, const char *e)
{
	for (; s < e; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

const char *
cls_opt_value(const struct mailimf_field *f, const char *name)
{
	if (f->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD || f->fld_data.fld_optional_field == NULL)
		return NULL;
	if (strcasecmp(f->fld_data.fld_optional_field->fld_name, name) != 0)
		return NULL;
	return f->fld_data.fld_optional_field->fld_value;
}

const char *
cls_fields_get(const struct mailimf_fields *fs, const char *name)
{
	clistiter *it;
	const char *v;

	if (fs == NULL || fs->fld_list == NULL)
		return NULL;
	for (it = clist_begin(fs->fld_list); it; it = clist_next(it))
		if ((v = cls_opt_value(clist_content(it), name)) != NULL)
			return v;
	return NULL;
}
