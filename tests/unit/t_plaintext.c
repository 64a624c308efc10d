/*
 * t_plaintext.c - Markdown as the text part shows it: each CommonMark
 * construct, re-flowing at 72 columns, and the 998-octet line limit.
 */
#include <stdlib.h>
#include <string.h>

#include "plaintext.h"
#include "tap.h"

static const struct {
	const char *name, *md;
	unsigned width;
	const char *want;
} cases[] = {
	{ "plain words", "Hello world.", 72, "Hello world." },
	{ "emphasis and strong lose their marks", "An *important* and **bold** _word_.", 72,
	  "An important and bold word." },
	{ "a heading is a line of its own", "# Notes to editors\n\nText.", 72,
	  "Notes to editors\n\nText." },
	{ "a setext heading too", "Contact\n-------\nJo", 72, "Contact\n\nJo" },
	{ "a link with text: text <url>", "See [the site](https://ogp.example/a).", 72,
	  "See the site <https://ogp.example/a>." },
	{ "a link's text over two lines", "[the Summit\nwebsite](https://x.example)", 72,
	  "the Summit website <https://x.example>" },
	{ "an autolink once", "<https://ogp.example/x>", 72, "https://ogp.example/x" },
	{ "an e-mail autolink once", "<press@ogp.example>", 72, "press@ogp.example" },
	{ "a link without text", "[](https://x.example)", 72, "<https://x.example>" },
	{ "an image: its alt text and where", "![a photo](https://x.example/p.png)", 72,
	  "a photo <https://x.example/p.png>" },
	{ "a bullet list", "- one\n- two", 72, "- one\n- two" },
	{ "an ordered list keeps its numbers", "3. three\n4. four", 72, "3. three\n4. four" },
	{ "a nested list is indented", "- a\n  - b\n  - c\n- d", 72,
	  "- a\n  - b\n  - c\n- d" },
	{ "a loose list keeps its blank lines", "- a\n\n- b", 72, "- a\n\n- b" },
	{ "a list item wraps under its text",
	  "- word word word word word word word word word word word word word word word",
	  40, "- word word word word word word word\n  word word word word word word word\n  word" },
	{ "a block quote keeps its marks", "> quoted\n> text\n>\n> more", 72,
	  "> quoted text\n>\n> more" },
	{ "a code block as written, indented", "    a  b\n    c", 72, "    a  b\n    c" },
	{ "a fenced code block too", "```\nx = 1\n```", 72, "    x = 1" },
	{ "an HTML block is left out", "<div>\nraw\n</div>\n\nText.", 72, "Text." },
	{ "inline HTML is left out", "a <b>bold</b> b", 72, "a bold b" },
	{ "code spans lose their backticks", "run `herald send`", 72, "run herald send" },
	{ "a hard break stays", "one  \ntwo", 72, "one\ntwo" },
	{ "a thematic break", "a\n\n---\n\nb", 72, "a\n\n----\n\nb" },
	{ "re-flowed at the width",
	  "aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm nnn ooo ppp qqq rrr sss ttt uuu",
	  20, "aaa bbb ccc ddd eee\nfff ggg hhh iii jjj\nkkk lll mmm nnn ooo\nppp qqq rrr sss ttt\nuuu" },
	{ "width counts characters, not bytes", "àéî õü àéî õü àéî", 7,
	  "àéî õü\nàéî õü\nàéî" },
	{ "a word longer than the width stands alone",
	  "see https://ogp.example/a/very/long/path/that/does/not/fit now", 20,
	  "see\nhttps://ogp.example/a/very/long/path/that/does/not/fit\nnow" },
	{ "width 0: not re-flowed", "one two\nthree", 0, "one two three" },
	{ "empty", "", 72, "" },
};

/* The longest line of s, in octets. */
static size_t
longest(const char *s)
{
	size_t best = 0, n;
	const char *e;

	for (; *s; s = *e ? e + 1 : e) {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		n = (size_t)(e - s);
		if (n > best)
			best = n;
	}
	return best;
}

int
main(void)
{
	struct buf b = BUF_INIT, md = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		buf_reset(&b);
		plaintext_markdown(cases[i].md, strlen(cases[i].md), cases[i].width, &b);
		is_str(buf_str(&b), cases[i].want, cases[i].name);
	}
	/* One word of 5,000 octets, in a quote in a list: no line over 998. */
	buf_adds(&md, "- > ");
	for (i = 0; i < 5000; i++)
		buf_addc(&md, i % 7 ? 'x' : '/');
	buf_reset(&b);
	plaintext_markdown(md.data, md.len, 72, &b);
	ok(longest(buf_str(&b)) <= 998, "a 5,000-octet word is cut: longest line %zu octets",
	    longest(buf_str(&b)));
	ok(b.len >= 5000, "and nothing of it is lost (%zu octets out)", b.len);
	buf_free(&b);
	buf_free(&md);
	return done_testing();
}
