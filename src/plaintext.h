/*
 * plaintext.h - Markdown (CommonMark) as readable plain text, for the text
 * part of a message: emphasis marks dropped, a heading a line of its own,
 * a link as "text <url>", lists and block quotes kept with their markers,
 * code kept as written and indented, raw HTML left out. Paragraphs are
 * re-flowed to a width (UTF-8 aware); a word longer than the width stands
 * on a line of its own, and no line is ever longer than 998 octets (RFC
 * 5322). Pure: cmark parses, nothing else is read.
 */
#ifndef HERALD_PLAINTEXT_H
#define HERALD_PLAINTEXT_H

#include <stddef.h>

#include "util.h"

/*
 * Appends the plain-text rendering of md (len bytes) to out, wrapped at
 * width characters (0: paragraphs are not re-flowed). Blocks are separated
 * by one blank line; the result ends without a newline.
 */
void plaintext_markdown(const char *md, size_t len, unsigned width, struct buf *out);

#endif
