/*
 * log.c - see log.h. One line per call: "name: message\n", built in a
 * stack buffer and written with one write(2) so that lines from different
 * threads never interleave. When standard error is the journal (systemd
 * says so in JOURNAL_STREAM), each line starts with its syslog priority,
 * "<4>name: message\n", which journald strips and records as the line's
 * priority (sd-daemon(3)), so that `journalctl -p warning` shows the
 * warnings. When standard error is a terminal, each line starts with the
 * lab's local time to the millisecond ("2026-12-05T21:00:00.125+07:00 "):
 * the journal stamps lines itself, a terminal does not.
 *
 * Threads: log_init() runs before any other thread; then the level and
 * the flags are only read (log_set_level() from the main thread); the lab's
 * zone is set (labtime_use_zone) before any other thread too.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "labtime.h"

/* syslog(3)'s priorities, as the journal reads them from a line's "<N>" */
enum { PRI_ERR = 3, PRI_WARNING = 4, PRI_INFO = 6, PRI_DEBUG = 7 };

static const char *log_name = "metrolog";
static enum log_level log_level = LOG_LEVEL_INFO;
static bool log_journal; /* lines start with "<N>" */
static bool log_stamps;  /* lines start with the local time (a terminal) */

/* Whether standard error is the journal's stream: systemd sets
 * JOURNAL_STREAM to "DEV:INO" of the stream it connected to stderr and
 * stdout; it counts only when stderr is still that stream (not when the
 * variable was inherited by a process whose stderr goes elsewhere). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char more;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &more) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *name, enum log_level level)
{
	log_name = name;
	log_level = level;
	log_journal = stderr_is_journal();
	log_stamps = !log_journal && isatty(STDERR_FILENO);
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

static void vlog(int pri, const char *fmt, va_list ap, int errnum)
{
	char line[1024];
	size_t n = 0;

	if (log_journal)
		n = grown(n, snprintf(line, sizeof(line), "<%d>", pri),
		          sizeof(line));
	if (log_stamps) {
		struct timespec ts;
		char stamp[UTC_OFF_US_SIZE];
		clock_gettime(CLOCK_REALTIME, &ts);
		labtime_format((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
		               3, stamp, sizeof(stamp));
		n = grown(n, snprintf(line + n, sizeof(line) - n, "%s ", stamp),
		          sizeof(line));
	}
	n = grown(n, snprintf(line + n, sizeof(line) - n, "%s: ", log_name),
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

#define LOG_BODY(min, pri, errnum)                                             \
	do {                                                                   \
		if (log_level < (min))                                         \
			return;                                                \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(pri, fmt, ap, errnum);                                    \
		va_end(ap);                                                    \
	} while (0)

void log_warn(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(LOG_LEVEL_WARN, PRI_WARNING, e);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, PRI_WARNING, 0);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, PRI_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, PRI_DEBUG, 0);
}

noreturn void fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_ERR, fmt, ap, e);
	va_end(ap);
	exit(1);
}

noreturn void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(PRI_ERR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void log_thread_name(const char *name)
{
	(void)prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
