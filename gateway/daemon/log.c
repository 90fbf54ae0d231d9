/*
 * log.c - see log.h. One line per call: "name: message\n", built in a
 * stack buffer and written with one write(2) so that lines from different
 * threads never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_name = "metrolog";
static enum log_level log_level = LOG_LEVEL_INFO;

void log_init(const char *name, enum log_level level)
{
	log_name = name;
	log_level = level;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

/* Length after appending m more characters (a snprintf result) to n,
 * leaving room for the newline. */
static size_t grown(size_t n, int m, size_t size)
{
	if (m > 0)
		n += (size_t)m;
	return n > size - 2 ? size - 2 : n;
}

static void vlog(const char *fmt, va_list ap, int errnum)
{
	char line[1024];
	size_t n = grown(0, snprintf(line, sizeof(line), "%s: ", log_name),
	                 sizeof(line));

	n = grown(n, vsnprintf(line + n, sizeof(line) - n, fmt, ap),
	          sizeof(line));
	if (errnum != 0)
		n = grown(n,
		          snprintf(line + n, sizeof(line) - n, ": %s",
		                   strerror(errnum)),
		          sizeof(line));
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w; /* nowhere left to report a failed write of the log */
}

#define LOG_BODY(min, errnum)                                                  \
	do {                                                                   \
		if (log_level < (min))                                         \
			return;                                                \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(fmt, ap, errnum);                                         \
		va_end(ap);                                                    \
	} while (0)

void log_warn(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(LOG_LEVEL_WARN, e);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

noreturn void fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, e);
	va_end(ap);
	exit(1);
}

noreturn void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, 0);
	va_end(ap);
	exit(1);
}
