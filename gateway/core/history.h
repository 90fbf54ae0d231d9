/*
 * history.h - a channel's calibration history as CSV, the input of
 * `metrolog interval` (tools/calc.c, docs/TOOL.md): one calibration a
 * line, after a header that is exactly one of
 *
 *     date,as_found,as_left,lower,upper,uncertainty,k
 *     date,as_found,as_left,lower,upper,uncertainty
 *
 *   field        meaning
 *   date         YYYY-MM-DD, strictly increasing from line to line
 *   as_found     error found before any adjustment (indication - reference)
 *   as_left      error left after adjustment (= as_found if not adjusted)
 *   lower,upper  error limits at that calibration, lower <= upper
 *   uncertainty  uncertainty of that calibration's results, >= 0: expanded
 *                with coverage factor k, or standard when k = 1
 *   k            its coverage factor, >= 1 (1: the column is a standard
 *                uncertainty u; 2: an expanded U = 2u, about 95 %)
 *
 * A file with the six-column header (the format before the k column) is
 * read with k = HISTORY_K_DEFAULT for every row: that format documented
 * its column as an expanded uncertainty, and k = 2 is the usual factor of
 * a calibration certificate (ILAC-P14); history_row.k_stated says which.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HISTORY_ROWS_MAX  10000 /* calibrations in a file, at most */
#define HISTORY_LINE_MAX  1024  /* bytes of a line with "\n" and NUL */
#define HISTORY_K_DEFAULT 2.0   /* k of a file without a k column */

/* One calibration of a channel's history: its day (days since
 * 1970-01-01), the errors as found and as left (indication - reference),
 * the error limits, the uncertainty U as written and its coverage factor
 * k (the standard uncertainty is U / k). */
struct history_row {
	long day;
	double found, left, lower, upper, U;
	double k;      /* >= 1; HISTORY_K_DEFAULT when not stated     */
	bool k_stated; /* the file has a k column                     */
	int line;      /* in the history file, for messages           */
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
