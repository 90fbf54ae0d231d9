/*
 * history.h - a channel's calibration history as CSV, the input of
 * `metrolog interval` (tools/calc.c, docs/TOOL.md): one calibration a
 * line, after a header that is exactly
 *
 *     date,as_found,as_left,lower,upper,uncertainty
 *
 *   field        meaning
 *   date         YYYY-MM-DD, strictly increasing from line to line
 *   as_found     error found before any adjustment (indication - reference)
 *   as_left      error left after adjustment (= as_found if not adjusted)
 *   lower,upper  error limits at that calibration, lower <= upper
 *   uncertainty  expanded uncertainty U of the as-found result, >= 0
 *
 * Blank lines and lines starting with '#' are skipped; spaces around a
 * field are ignored; a line holds at most HISTORY_LINE_MAX - 2 characters.
 *
 * Pure parsing: it reads a stream the caller opened (a file, standard
 * input, a memory stream) and reports what is wrong as "name:line: what"
 * for the caller to print. No global state, any thread.
 */
#ifndef METROLOG_HISTORY_H
#define METROLOG_HISTORY_H

#include <stddef.h>
#include <stdio.h>

#define HISTORY_ROWS_MAX 10000 /* calibrations in a file, at most */
#define HISTORY_LINE_MAX 1024  /* bytes of a line with "\n" and NUL */

/* One calibration of a channel's history: its day (days since
 * 1970-01-01), the errors as found and as left (indication - reference),
 * the error limits and the expanded uncertainty. */
struct history_row {
	long day;
	double found, left, lower, upper, U;
	int line; /* in the history file, for messages */
};

/* Days since 1970-01-01 of an ISO date "YYYY-MM-DD" (exactly that form, a
 * real date of the proleptic Gregorian calendar, years 1-9999) into *days.
 * Returns 0, or -1 (*days untouched) when s is not one. */
int history_parse_date(const char *s, long *days);

/*
 * Read the history from f, named name in messages, into rows (room for
 * HISTORY_ROWS_MAX). Returns the number of calibrations (at least 2), or
 * -1 with the first problem in err: "name:line: what is wrong", or
 * "name: what is wrong" when no line applies (no header, fewer than 2
 * calibrations, a read error). f is read to the first problem, not closed.
 */
int history_read(FILE *f, const char *name, struct history_row *rows, char *err,
                 size_t errlen);

#endif
