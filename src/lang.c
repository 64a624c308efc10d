/*
 * lang.c - language tags; see lang.h.
 */
#include "lang.h"

#include <string.h>

static int
lang_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
lang_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char
lang_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* n bytes of s, all letters (digits when digits is set). */
static int
lang_all(const char *s, size_t n, int digits)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (digits ? !(s[i] >= '0' && s[i] <= '9') : !lang_alpha(s[i]))
			return 0;
	return 1;
}

int
lang_tag_check(const char *s, size_t len, char canon[LANG_MAX])
{
	/* 0: the language; 1: a script may come; 2: a region may come; 3: nothing more. */
	int want = 0;
	size_t i = 0, n, j, out = 0;
	const char *sub;

	if (len == 0 || len >= LANG_MAX)
		return -1;
	while (i <= len) {
		sub = s + i;
		for (n = 0; i + n < len && s[i + n] != '-'; n++)
			;
		if (want == 0 && (n == 2 || n == 3) && lang_all(sub, n, 0)) {
			for (j = 0; j < n; j++)
				canon[out++] = lang_lower(sub[j]);
			want = 1;
		} else if (want == 1 && n == 4 && lang_all(sub, n, 0)) {
			canon[out++] = '-';
			canon[out++] = lang_upper(sub[0]);
			for (j = 1; j < n; j++)
				canon[out++] = lang_lower(sub[j]);
			want = 2;
		} else if (want >= 1 && want <= 2 && ((n == 2 && lang_all(sub, n, 0)) ||
		    (n == 3 && lang_all(sub, n, 1)))) {
			canon[out++] = '-';
			for (j = 0; j < n; j++)
				canon[out++] = lang_upper(sub[j]);
			want = 3;
		} else
			return -1;
		i += n + 1;
	}
	canon[out] = '\0';
	return memcmp(canon, s, len) == 0 ? 0 : 1;
}

int
lang_tag_ok(const char *s)
{
	char canon[LANG_MAX];

	return s != NULL && lang_tag_check(s, strlen(s), canon) == 0;
}

size_t
lang_serves(const char *have, const char *want)
{
	size_t n = strlen(have);

	if (strncmp(have, want, n) != 0 || (want[n] != '\0' && want[n] != '-'))
		return 0;
	return n;
}
