/*
 * log.c - stderr logging of the instrument simulator (see log.h).
 *
 * Threading: one thread; `verbose` is written once by log_init() at start.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool verbose;

void log_init(bool v)
{
	verbose = v;
}

bool log_verbose(void)
{
	return verbose;
}

static void vlog(const char *fmt, va_list ap, const char *err)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (err != NULL)
		fprintf(stderr, "metrolog-sim: %s: %s\n", line, err);
	else
		fprintf(stderr, "metrolog-sim: %s\n", line);
}

void log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, err);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}
