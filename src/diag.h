/*
 * diag.h - collected input errors.
 *
 * Loaders never stop at the first problem: they add every error they find
 * to a struct diag, and the command prints them all at the end, one line
 * each, "FILE:LINE:COL: message" (the position parts left out when unknown).
 * Each error carries the exit status it implies: EX_CONFIG (78) for the
 * configuration, EX_DATAERR (65) for lists, templates and releases.
 */
#ifndef HERALD_DIAG_H
#define HERALD_DIAG_H

#include <stddef.h>

#include "util.h"

#define EX_OK_ 0
#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_UNAVAILABLE 69
#define EXIT_SOFTWARE 70
#define EXIT_CANTCREAT 73
#define EXIT_IOERR 74
#define EXIT_TEMPFAIL 75
#define EXIT_CONFIG 78

struct diag_item {
	char *text;		/* the whole formatted line, without newline */
	int status;		/* EXIT_CONFIG or EXIT_DATAERR */
	int warning;		/* 1: printed, but not a failure */
};

struct diag {
	struct diag_item *items;
	size_t n, cap;
	size_t errors;		/* items that are not warnings */
	int status;		/* EXIT_CONFIG if any config error, else EXIT_DATAERR if any, else 0 */
	int kind;		/* the status the next errors get; set by the loader */
	size_t limit;		/* stop recording after this many (0: 1000) */
	size_t dropped;
};

void diag_init(struct diag *d, int kind);
void diag_free(struct diag *d);
/* line/col are 1-based; 0 leaves them out. file may be NULL. */
void diag_error(struct diag *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...) HERALD_PRINTF(5, 6);
void diag_warn(struct diag *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...) HERALD_PRINTF(5, 6);
/* Moves every item of from to the end of into (a thread's errors into the run's); from is left empty. */
void diag_move(struct diag *into, struct diag *from);
/* Prints every item to stderr, in the order found. */
void diag_print(const struct diag *d);
/* 1 when the last item's text contains s (tests and callers that refine messages). */
int diag_has(const struct diag *d, const char *s);

#endif
