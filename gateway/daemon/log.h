/*
 * log.h - logging to stderr (journald picks it up), after OpenBSD's log.c.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. fatal() and
 * fatalx() log and exit(1). The level is checked before formatting, so a
 * disabled log_debug() costs one comparison. Thread-safe: each line is
 * written with a single write() call.
 */
#ifndef METROLOG_LOG_H
#define METROLOG_LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Prefix every line with name (the program) and keep lines up to level. */
void log_init(const char *name, enum log_level level);
void log_set_level(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

#endif
