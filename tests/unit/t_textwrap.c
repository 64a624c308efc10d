/* textwrap: Markdown source re-flowed at 72 columns, meaning kept. */
#include <string.h>

#include "tap.h"
#include "textwrap.h"

static const struct {
	const char *name, *in, *want;
	unsigned width;
} cases[] = {
	{ "short paragraph unchanged", "Hello world.\n", "Hello world.\n", 72 },
	{ "paragraph re-flowed", "one two three\nfour five six seven\n",
	  "one two\nthree four\nfive six\nseven\n", 10 },
	{ "UTF-8 counted in characters", "ñññ ééé ççç\n", "ñññ ééé\nççç\n", 7 },
	{ "long word kept whole", "a https://example.org/a/very/long/path b\n",
	  "a\nhttps://example.org/a/very/long/path\nb\n", 10 },
	{ "list items hang", "- one two three four\n- five\n",
	  "- one two\n  three\n  four\n- five\n", 10 },
	{ "numbered item", "12. alpha beta gamma\n", "12. alpha\n    beta\n    gamma\n", 10 },
	{ "heading verbatim", "# A very long heading that stays\ntext\n",
	  "# A very long heading that stays\ntext\n", 10 },
	{ "fenced code verbatim", "```\nlong long long long line\n```\nx y\n",
	  "```\nlong long long long line\n```\nx y\n", 10 },
	{ "indented code verbatim", "    long long long long\n", "    long long long long\n", 10 },
	{ "blank lines kept", "a\n\nb\n", "a\n\nb\n", 10 },
	{ "hard break kept", "a b  \nc d\n", "a b\nc d\n", 72 },
	{ "blockquote prefix", "> one two three four\n", "> one two\n> three\n> four\n", 10 },
	{ "table verbatim", "| a | b |\n|---|---|\n", "| a | b |\n|---|---|\n", 5 },
	{ "CRLF input", "a\r\nb\r\n", "a b\n", 72 },
	{ "no final newline", "a b", "a b\n", 72 },
};

int
main(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf out = BUF_INIT;
		textwrap_markdown(cases[i].in, strlen(cases[i].in), cases[i].width, &out);
		is_str(buf_str(&out), cases[i].want, cases[i].name);
		buf_free(&out);
	}
	return done_testing();
}
