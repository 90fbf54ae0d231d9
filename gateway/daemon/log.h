/*
 * log.h - logging to stderr (journald picks it up), after OpenBSD's log.c.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. fatal() and
 * fatalx() log and exit(1). The level is checked before formatting, so a
 * disabled log_debug() costs one comparison. Thread-safe: each line is
 * written with a single write() call.
 *
 * Under systemd (JOURNAL_STREAM names standard error's device and inode),
 * each line starts with its syslog priority for journald (sd-daemon(3)):
 * <3> fatal(), fatalx(); <4> log_warn(), log_warnx(); <6> log_info();
 * <7> log_debug(). Elsewhere (a terminal, a file, a test) no prefix.
 */
#ifndef METROLOG_LOG_H
#define METROLOG_LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Prefix every line with name (the program) and keep lines up to level;
 * decide whether stderr is the journal (above). Call before any other
 * thread starts. */
void log_init(const char *name, enum log_level level);
void log_set_level(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

/* Name the calling thread (its first 15 bytes): what top -H, ps -L,
 * /proc/PID/task/TID/comm and gdb show, so that an operator can tell which
 * of a daemon's threads takes the CPU. */
void log_thread_name(const char *name);

#endif
