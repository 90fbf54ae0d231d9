/*
 * log.h - stderr logging of the instrument simulator, after OpenBSD's log.c.
 *
 * Every line is prefixed "metrolog-sim: ". log_warn() appends strerror(errno),
 * log_debug() prints only with -v. The level is checked before formatting, so
 * a disabled log_debug() in the request path costs one branch.
 *
 * Threading: the simulator has one thread; the verbosity is set once at
 * start by log_init().
 */
#ifndef METROLOG_SIM_LOG_H
#define METROLOG_SIM_LOG_H

#include <stdbool.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(bool verbose);
bool log_verbose(void);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
/* The simulator has no log levels but verbose: information is written as
 * a warning without errno is, by the same function. */
#define log_info log_warnx
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
