/*
 * history.c - the calibration history CSV of `metrolog interval`
 * (history.h has the format). Moved out of tools/calc.c so that it can be
 * unit-tested and fuzzed on its own (tests/unit/test_history.c,
 * tests/fuzz/fuzz_history.c); the messages are the ones the tool printed.
 */
#include "history.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "utc.h"

#define HEADER "date,as_found,as_left,lower,upper,uncertainty"

int history_parse_date(const char *s, long *days)
{
	int64_t us;

	if (utc_parse(s, UTC_DATE_ONLY, 0, &us) < 0)
		return -1;
	*days = (long)(us / UTC_DAY_US);
	return 0;
}

/* Parse one data line into r; on error write the reason to why. */
static int parse_row(char *line, struct history_row *r, char *why, size_t size)
{
	static const char *names[] = {"date",  "as_found", "as_left",
	                              "lower", "upper",    "uncertainty"};
	char *field[6], *p = line;
	double *num[] = {NULL,      &r->found, &r->left,
	                 &r->lower, &r->upper, &r->U};
	int n = 0;

	while (n < 6) {
		field[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n != 6 || p) {
		snprintf(why, size, "expected 6 comma-separated fields, got %s",
		         p ? "more" : "fewer");
		return -1;
	}
	for (int i = 0; i < 6; i++)
		field[i] = text_trim(field[i]);
	if (history_parse_date(field[0], &r->day) < 0) {
		snprintf(why, size, "date '%s' is not a valid YYYY-MM-DD",
		         field[0]);
		return -1;
	}
	for (int i = 1; i < 6; i++) {
		if (text_number(field[i], num[i]) < 0) {
			snprintf(why, size, "%s '%s' is not a number", names[i],
			         field[i]);
			return -1;
		}
	}
	if (r->lower > r->upper) {
		snprintf(why, size, "lower %g is above upper %g", r->lower,
		         r->upper);
		return -1;
	}
	if (r->U < 0) {
		snprintf(why, size, "uncertainty must not be negative");
		return -1;
	}
	return 0;
}

/* One line s (trimmed, not blank, not a comment) after the header, as
 * row n. Returns 0, or -1 with the reason in why. */
static int add_row(char *s, struct history_row *rows, int n, char *why,
                   size_t size)
{
	if (n == HISTORY_ROWS_MAX) {
		snprintf(why, size, "more than %d calibrations",
		         HISTORY_ROWS_MAX);
		return -1;
	}
	if (parse_row(s, &rows[n], why, size) < 0)
		return -1;
	if (n > 0 && rows[n].day <= rows[n - 1].day) {
		snprintf(why, size,
		         "date is not after the previous calibration's");
		return -1;
	}
	return 0;
}

int history_read(FILE *f, const char *name, struct history_row *rows, char *err,
                 size_t errlen)
{
	char buf[HISTORY_LINE_MAX], why[160];
	int lineno = 0, n = 0;
	bool header = false;

	while (fgets(buf, sizeof(buf), f)) {
		char *s;

		lineno++;
		if (!strchr(buf, '\n') && !feof(f)) {
			snprintf(why, sizeof(why),
			         "line longer than %d characters",
			         HISTORY_LINE_MAX - 2);
			goto fail_line;
		}
		s = text_trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		if (!header) {
			if (strcmp(s, HEADER) != 0) {
				snprintf(why, sizeof(why),
				         "expected the header " HEADER);
				goto fail_line;
			}
			header = true;
			continue;
		}
		if (add_row(s, rows, n, why, sizeof(why)) < 0)
			goto fail_line;
		rows[n++].line = lineno;
	}
	if (ferror(f))
		snprintf(err, errlen, "%s: read error", name);
	else if (!header)
		snprintf(err, errlen, "%s: empty file (no header)", name);
	else if (n < 2)
		snprintf(err, errlen,
		         "%s: need at least 2 calibrations, found %d", name, n);
	else
		return n;
	return -1;
fail_line:
	snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
	return -1;
}
