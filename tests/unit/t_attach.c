/*
 * t_attach.c - attach.c's pure part: which URLs name files of the project,
 * how a src is decoded, where <img src> is found in HTML, and the HTML of
 * one message made to name the kit's images by cid: only.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "attach.h"
#include "util.h"

static void
test_is_path(void)
{
	static const struct { const char *url; int want; } cases[] = {
		{ "files/logo.png", 1 }, { "logo.png", 1 }, { "./files/a b.png", 1 },
		{ "../outside.png", 1 }, { "/etc/passwd", 1 }, { "files/a:b.png", 1 },
		{ "https://news.example/logo.png", 0 }, { "HTTP://x/y", 0 }, { "cid:img1@x", 0 },
		{ "data:image/png;base64,AAAA", 0 }, { "mailto:a@b", 0 }, { "//cdn.example/x.png", 0 },
		{ "#top", 0 }, { "", 0 }, { "1x:y", 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		is_int(attach_is_path(cases[i].url), cases[i].want, cases[i].url);
	is_int(attach_is_path(NULL), 0, "NULL is no path");
}

static void
test_decode(void)
{
	static const struct { const char *in; int entities; const char *want; } cases[] = {
		{ "files/a%20b.png", 0, "files/a b.png" },
		{ "files/caf%C3%A9.png", 0, "files/caf\xc3\xa9.png" },
		{ "files/a&amp;b.png", 1, "files/a&b.png" },
		{ "files/a&amp;b.png", 0, "files/a&amp;b.png" },
		{ "files/it&#39;s&#x27;.png", 1, "files/it's'.png" },
		{ "files/&#233;.png", 1, "files/\xc3\xa9.png" },
		{ "files/100%.png", 0, "files/100%.png" },
		{ "files/%zz.png", 0, "files/%zz.png" },
		{ "files/%2", 0, "files/%2" },
		{ "files/&bogus;.png", 1, "files/&bogus;.png" },
		{ "files/&#0;.png", 1, "files/&#0;.png" },
		{ "files/a%00b.png", 0, NULL },
		{ "", 0, NULL },
	};
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		got = attach_decode(cases[i].in, strlen(cases[i].in), cases[i].entities);
		is_str(got, cases[i].want, cases[i].in);
		free(got);
	}
}

struct found {
	const char *html;
	struct buf b;
};

static void
found_one(void *arg, size_t at, size_t vlen)
{
	struct found *f = arg;

	buf_addf(&f->b, "[%.*s]", (int)vlen, f->html + at);
}

static void
test_html_images(void)
{
	static const struct { const char *html, *want; } cases[] = {
		{ "<img src=\"files/a.png\">", "[files/a.png]" },
		{ "<IMG alt='x > y' SRC='files/b.png' />", "[files/b.png]" },
		{ "<img\n  width=10\n  src = files/c.png>", "[files/c.png]" },
		{ "<img src=\"{{sender.logo}}\" alt=\"{{sender.name}}\">", "" },
		{ "<image src=\"no.png\"><imgx src=\"no.png\"><p src=\"no.png\">", "" },
		{ "<!-- <img src=\"gone.png\"> --><img src=\"kept.png\">", "[kept.png]" },
		{ "<img data-src=\"no.png\" src=\"\">", "[]" },
		{ "<img src=\"a.png\"><img src=\"b.png\"", "[a.png][b.png]" },
		{ "<img src=\"unterminated", "[unterminated]" },
		{ "text <img", "" },
	};
	struct found f;
	char *name, *nl;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		memset(&f, 0, sizeof(f));
		f.html = cases[i].html;
		attach_html_images(cases[i].html, strlen(cases[i].html), found_one, &f);
		name = xstrdup(cases[i].html);
		for (nl = name; (nl = strchr(nl, '\n')) != NULL;)
			*nl = ' ';
		is_str(buf_str(&f.b), cases[i].want, name);
		free(name);
		buf_free(&f.b);
	}
}

static void
test_rewrite(void)
{
	static const char html[] = "<p><img src=\"files/logo.png\" alt=\"x\"> and "
	    "<img src=\"files/a%20b&amp;c.png\"></p><img src=\"files/report.pdf\">"
	    "<img src=\"https://x.example/files/logo.png\">";
	struct attach_file files[3];
	struct attach_kit k;
	struct message_file out[3];
	unsigned char used[3] = { 0, 0, 0 };
	struct buf b = BUF_INIT;
	size_t n;

	memset(&k, 0, sizeof(k));
	memset(files, 0, sizeof(files));
	files[0].path = (char *)"files/report.pdf";
	files[0].name = "report.pdf";
	files[0].type = (char *)"application/pdf";
	files[1].path = (char *)"files/logo.png";
	files[1].name = "logo.png";
	files[1].type = (char *)"image/png";
	files[1].cid = (char *)"img2.1@news.example";
	files[2].path = (char *)"files/a b&c.png";
	files[2].name = "a b&c.png";
	files[2].type = (char *)"image/png";
	files[2].cid = (char *)"img3.2@news.example";
	k.files = files;
	k.n = 3;
	attach_html_rewrite(&k, html, strlen(html), &b, used);
	is_str(buf_str(&b), "<p><img src=\"cid:img2.1@news.example\" alt=\"x\"> and "
	    "<img src=\"cid:img3.2@news.example\"></p><img src=\"files/report.pdf\">"
	    "<img src=\"https://x.example/files/logo.png\">",
	    "the kit's images by cid:; an attachment and a URL left alone");
	ok(used[0] == 0 && used[1] == 1 && used[2] == 1, "both images marked used");
	n = attach_message_files(&k, used, out);
	ok(n == 3 && out[0].content_id == NULL && strcmp(out[1].content_id, "img2.1@news.example") == 0,
	    "the message carries the attachment and both images");
	used[2] = 0;
	n = attach_message_files(&k, used, out);
	ok(n == 2 && strcmp(out[1].name, "logo.png") == 0, "an image not shown is not carried");
	buf_reset(&b);
	memset(used, 0, sizeof(used));
	attach_html_rewrite(NULL, "<img src=\"files/logo.png\">", 26, &b, used);
	is_str(buf_str(&b), "<img src=\"files/logo.png\">", "no kit: the HTML as it is");
	buf_free(&b);
}

int
main(void)
{
	test_is_path();
	test_decode();
	test_html_images();
	test_rewrite();
	return done_testing();
}
