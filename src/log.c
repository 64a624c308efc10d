/*
 * log.c - stderr or syslog; see log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "util.h"

static enum { TO_PLAIN, TO_TAGGED, TO_SYSLOG } mode;
static enum log_level min_level = LOG_LEVEL_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };
static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void
log_tagged(void)
{
	mode = TO_TAGGED;
}

void
log_syslog(void)
{
	openlog("herald", LOG_PID, LOG_MAIL);
	mode = TO_SYSLOG;
}

void
log_set_level(enum log_level l)
{
	min_level = l;
}

void
log_msg(enum log_level l, const char *subsystem, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (l > min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* A line may quote mail (an address, a Message-ID): no escape reaches a terminal. */
	util_unctrl(line);
	switch (mode) {
	case TO_SYSLOG:
		syslog(priorities[l], "%s: %s", subsystem, line);
		break;
	case TO_TAGGED:
		fprintf(stderr, "%s %s: %s\n", names[l], subsystem, line);
		break;
	case TO_PLAIN:
		fprintf(stderr, "herald: %s\n", line);
		break;
	}
}
