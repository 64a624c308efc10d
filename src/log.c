/*
 * log.c - stderr or syslog; see log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static int use_syslog;
static enum log_level min_level = LOG_LEVEL_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };
static const int priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void
log_syslog(void)
{
	openlog("herald", LOG_PID, LOG_MAIL);
	use_syslog = 1;
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
	if (use_syslog)
		syslog(priorities[l], "%s: %s", subsystem, line);
	else
		fprintf(stderr, "%s %s: %s\n", names[l], subsystem, line);
}
