/* lang: the tags herald takes, their one spelling, and which version serves a reader. */
#include <string.h>

#include "lang.h"
#include "tap.h"
#include "util.h"

static const struct {
	const char *in;
	int rc;
	const char *canon;	/* when rc >= 0 */
} tags[] = {
	{ "en", 0, "en" },
	{ "es", 0, "es" },
	{ "fil", 0, "fil" },
	{ "pt-BR", 0, "pt-BR" },
	{ "es-419", 0, "es-419" },
	{ "zh-Hant", 0, "zh-Hant" },
	{ "zh-Hant-TW", 0, "zh-Hant-TW" },
	{ "pt-br", 1, "pt-BR" },
	{ "EN", 1, "en" },
	{ "ZH-HANT-tw", 1, "zh-Hant-TW" },
	{ "Es", 1, "es" },
	{ "", -1, NULL },
	{ "e", -1, NULL },
	{ "engl", -1, NULL },		/* 4 letters: no language */
	{ "english", -1, NULL },
	{ "es-", -1, NULL },
	{ "-es", -1, NULL },
	{ "es--BR", -1, NULL },
	{ "es_ES", -1, NULL },
	{ "es-BR-Latn", -1, NULL },	/* a script after the region */
	{ "es-ES-ES", -1, NULL },
	{ "de-CH-1996", -1, NULL },	/* variants are not taken */
	{ "en-x-private", -1, NULL },
	{ "e1", -1, NULL },
	{ "es-4a9", -1, NULL },
	{ "es-12", -1, NULL },
	{ "es BR", -1, NULL },
	{ "zh-Hant-TW-extra", -1, NULL },
	{ "../x", -1, NULL },
};

static const struct {
	const char *have, *want;
	size_t rank;
} serves[] = {
	{ "es", "es", 2 },
	{ "pt", "pt-BR", 2 },
	{ "pt-BR", "pt-BR", 5 },
	{ "pt-BR", "pt", 0 },		/* a Portuguese reader is not served by the Brazilian version alone */
	{ "pt-PT", "pt-BR", 0 },
	{ "es", "est", 0 },		/* a prefix of letters is no prefix of subtags */
	{ "zh", "zh-Hant-TW", 2 },
	{ "zh-Hant", "zh-Hant-TW", 7 },
	{ "en", "es", 0 },
};

int
main(void)
{
	char canon[LANG_MAX];
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(tags); i++) {
		memset(canon, 'x', sizeof(canon));
		rc = lang_tag_check(tags[i].in, strlen(tags[i].in), canon);
		ok(rc == tags[i].rc && (rc < 0 || strcmp(canon, tags[i].canon) == 0),
		    "'%s' -> %d %s", tags[i].in, rc, rc < 0 ? "" : canon);
	}
	ok(lang_tag_check("es\0BR", 5, canon) == -1, "a NUL inside is no tag");
	ok(lang_tag_check("abcdefghijklmnopqrstu", 21, canon) == -1, "a long string is no tag");
	ok(lang_tag_ok("pt-BR") && !lang_tag_ok("pt-br") && !lang_tag_ok(NULL),
	    "lang_tag_ok takes the one spelling only");
	for (i = 0; i < ARRAY_LEN(serves); i++)
		is_int((long long)lang_serves(serves[i].have, serves[i].want), (long long)serves[i].rank,
		    serves[i].have);
	return done_testing();
}
