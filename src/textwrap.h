/*
 * textwrap.h - Markdown source made readable as plain text: paragraphs and
 * list items re-flowed to a width, code, headings and tables left alone.
 * The text part of every message is built from it. Pure.
 */
#ifndef HERALD_TEXTWRAP_H
#define HERALD_TEXTWRAP_H

#include "util.h"

/* Appends src, wrapped at `width` characters (UTF-8 aware), to out. */
void textwrap_markdown(const char *src, size_t len, unsigned width, struct buf *out);

#endif
