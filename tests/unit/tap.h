/*
 * tap.h - a tiny TAP producer for the C unit tests run by prove.
 * Header-only: each test program includes it once.
 */
#ifndef HERALD_TAP_H
#define HERALD_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static int __attribute__((format(printf, 2, 3), unused))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	return cond;
}

/* Compares strings; on a mismatch prints both as TAP diagnostics. */
static int __attribute__((unused))
is_str(const char *got, const char *want, const char *name)
{
	int same = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	if (!ok(same, "%s", name)) {
		printf("#      got: '%s'\n", got ? got : "(null)");
		printf("# expected: '%s'\n", want ? want : "(null)");
	}
	return same;
}

static int __attribute__((unused))
is_int(long long got, long long want, const char *name)
{
	if (!ok(got == want, "%s", name))
		printf("#      got: %lld\n# expected: %lld\n", got, want);
	return got == want;
}

static void __attribute__((unused))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Prints the plan; use as `return done_testing();` */
static int __attribute__((unused))
done_testing(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
