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

#define HEADER     "date,as_found,as_left,lower,upper,uncertainty"
#define HEADER_K   HEADER ",k"
#define FIELDS_MAX 7

int history_parse_date(const char *s, long *days)
{
	int64_t us;

	if (utc_parse(s, UTC_DATE_ONLY, 0, &us) < 0)
		return -1;
	*days = (long)(us / UTC_DAY_US);
	return 0;
}

/* Split line at commas into exactly want fields; on error write the
 * reason to why. */
static int split(char *line, char **field, int want, char *why, size_t size)
{
	char *p = line;
	int n = 0;

	while (n < want) {
		field[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n != want || p) {
		snprintf(why, size,
		         "expected %d comma-separated fields, got %s", want,
		         p ? "more" : "fewer");
		return -1;
	}
	for (int i = 0; i < want; i++)
		field[i] = text_trim(field[i]);
	return 0;
}

/* The numbers of a row after its date, each checked. */
static int check_row(const struct history_row *r, char *why, size_t size)
{
	if (r->lower > r->upper) {
		snprintf(why, size, "lower %g is above upper %g", r->lower,
		         r->upper);
		return -1;
	}
	if (r->U < 0) {
		snprintf(why, size, "uncertainty must not be negative");
		return -1;
	}
	if (!(r->k >= 1)) {
		snprintf(why, size,
		         "k %g is below 1 (k = 1: a standard uncertainty)",
		         r->k);
		return -1;
	}
	return 0;
}

/* Parse one data line into r, with a k column when with_k; on error
 * write the reason to why. */
static int parse_row(char *line, bool with_k, struct history_row *r, char *why,
                     size_t size)
{
	static const char *names[] = {"date",  "as_found", "as_left",
	                              "lower", "upper",    "uncertainty",
	                              "k"};
	char *field[FIELDS_MAX];
	double *num[] = {NULL,      &r->found, &r->left, &r->lower,
	                 &r->upper, &r->U,     &r->k};
	int want = with_k ? 7 : 6;

	if (split(line, field, want, why, size) < 0)
		return -1;
	if (history_parse_date(field[0], &r->day) < 0) {
		snprintf(why, size, "date '%s' is not a valid YYYY-MM-DD",
		         field[0]);
		return -1;
	}
	r->k = HISTORY_K_DEFAULT;
	r->k_stated = with_k;
	for (int i = 1; i < want; i++) {
		if (text_number(field[i], num[i]) < 0) {
			snprintf(why, size, "%s '%s' is not a number", names[i],
			         field[i]);
			return -1;
		}
	}
	return check_row(r, why, size);
}

/* One line s (trimmed, not blank, not a comment) after the header, as
 * row n. Returns 0, or -1 with the reason in why. */
static int add_row(char *s, bool with_k, struct history_row *rows, int n,
                   char *why, size_t size)
{
	if (n == HISTORY_ROWS_MAX) {
		snprintf(why, size, "more than %d calibrations",
		         HISTORY_ROWS_MAX);
		return -1;
	}
	if (parse_row(s, with_k, &rows[n], why, size) < 0)
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
	bool header = false, with_k = false;

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
			with_k = strcmp(s, HEADER_K) == 0;
			if (!with_k && strcmp(s, HEADER) != 0) {
				snprintf(why, sizeof(why),
				         "expected the header " HEADER_K
				         " (k optional)");
				goto fail_line;
			}
			header = true;
			continue;
		}
		if (add_row(s, with_k, rows, n, why, sizeof(why)) < 0)
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
