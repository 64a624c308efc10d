/*
 * log.h - one line per event, level first, then the subsystem and ids
 * ("info run: release=ogp-2017 sent=120"). Where the lines go is chosen
 * once, by the program: on the command line (the default) each is
 * "herald: message" on stderr, as the commands' own messages are; the
 * daemon writes them tagged with level and subsystem on stderr
 * (log_tagged) or to syslog (log_syslog, facility mail). Lowercase, no
 * trailing period; never a password or a token.
 */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

#include "util.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* From now on, "LEVEL SUBSYSTEM: message" on stderr (the daemon in the foreground). */
void log_tagged(void);
/* From now on, to syslog as "herald" (facility mail) instead of stderr. */
void log_syslog(void);
/* Below this level nothing is written (default: info). */
void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *subsystem, const char *fmt, ...) HERALD_PRINTF(3, 4);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
