/*
 * Unit tests of the calibration history CSV of `metrolog interval`
 * (gateway/core/history.c): a good file read row by row with its line
 * numbers, and every bad file refused with "name:line: what is wrong" for
 * the line it is on. Files are memory streams (fmemopen).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

#define H  "date,as_found,as_left,lower,upper,uncertainty\n"
#define HK "date,as_found,as_left,lower,upper,uncertainty,k\n"

static struct history_row rows[HISTORY_ROWS_MAX];
static char err[2048];

/* history_read() of text named "h.csv". */
static int read_text(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int n;

	assert_non_null(f);
	err[0] = '\0';
	n = history_read(f, "h.csv", rows, err, sizeof(err));
	fclose(f);
	return n;
}

static void refused(const char *text, const char *want)
{
	assert_int_equal(read_text(text), -1);
	assert_string_equal(err, want);
}

static void dates(void **state)
{
	(void)state;
	long d = 7;

	assert_int_equal(history_parse_date("1970-01-01", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(history_parse_date("0001-01-01", &d), 0);
	assert_int_equal(d, -719162);
	assert_int_equal(history_parse_date("9999-12-31", &d), 0);
	assert_int_equal(d, 2932896);
	assert_int_equal(history_parse_date("2024-02-29", &d), 0);
	assert_int_equal(d, 19782);
	d = 7;
	assert_int_equal(history_parse_date("0000-01-01", &d), -1);
	assert_int_equal(history_parse_date("2023-02-29", &d), -1);
	assert_int_equal(history_parse_date("2024-00-10", &d), -1);
	assert_int_equal(history_parse_date("2024-01-00", &d), -1);
	assert_int_equal(history_parse_date("2024-01-1 ", &d), -1);
	assert_int_equal(history_parse_date("+024-01-01", &d), -1);
	assert_int_equal(history_parse_date("2024/01/01", &d), -1);
	assert_int_equal(history_parse_date(NULL, &d), -1);
	assert_int_equal(d, 7);
}

static void good_file(void **state)
{
	(void)state;
	int n = read_text("# a comment\n" H "\n"
	                  "2020-01-01,0.02,0,-0.5,0.5,0.02\n"
	                  "  # another\n"
	                  "2020-04-10, -0.11 ,0.01,-0.5,0.5,0\r\n"
	                  "2021-01-01,1e-3,0,-1,2,0.5"); /* no newline */

	assert_int_equal(n, 3);
	assert_int_equal(rows[0].day, 18262);
	assert_int_equal(rows[0].line, 4);
	assert_true(rows[0].found == 0.02 && rows[0].U == 0.02);
	assert_int_equal(rows[1].line, 6);
	assert_true(rows[1].found == -0.11 && rows[1].left == 0.01);
	assert_true(rows[1].lower == -0.5 && rows[1].upper == 0.5);
	assert_int_equal(rows[2].line, 7);
	assert_true(rows[2].found == 1e-3 && rows[2].upper == 2);
	/* No k column: k = 2 for every row, and said so. */
	for (int i = 0; i < 3; i++)
		assert_true(rows[i].k == HISTORY_K_DEFAULT &&
		            !rows[i].k_stated);
}

/* The k column: the coverage factor of each row's uncertainty. */
static void k_column(void **state)
{
	(void)state;
	int n = read_text(HK "2020-01-01,0.02,0,-0.5,0.5,0.02,1\n"
	                     "2020-04-10,0.11,0,-0.5,0.5,0.05, 2.5 \n");

	assert_int_equal(n, 2);
	assert_true(rows[0].U == 0.02 && rows[0].k == 1 && rows[0].k_stated);
	assert_true(rows[1].U == 0.05 && rows[1].k == 2.5 && rows[1].k_stated);
	refused(HK "2020-01-01,0,0,-1,1,0.1\n",
	        "h.csv:2: expected 7 comma-separated fields, got fewer");
	refused(HK "2020-01-01,0,0,-1,1,0.1,2,3\n",
	        "h.csv:2: expected 7 comma-separated fields, got more");
	refused(HK "2020-01-01,0,0,-1,1,0.1,\n",
	        "h.csv:2: k '' is not a number");
	refused(HK "2020-01-01,0,0,-1,1,0.1,nan\n",
	        "h.csv:2: k 'nan' is not a number");
	refused(HK "2020-01-01,0,0,-1,1,0.1,0.5\n",
	        "h.csv:2: k 0.5 is below 1 (k = 1: a standard uncertainty)");
	refused(HK "2020-01-01,0,0,-1,1,0.1,-2\n",
	        "h.csv:2: k -2 is below 1 (k = 1: a standard uncertainty)");
	refused("date,as_found,as_left,lower,upper,uncertainty,K\n",
	        "h.csv:1: expected the header date,as_found,as_left,lower,"
	        "upper,uncertainty,k (k optional)");
}

static void bad_lines(void **state)
{
	(void)state;
	refused("# first\ndate,found,left\n",
	        "h.csv:2: expected the header date,as_found,as_left,lower,"
	        "upper,uncertainty,k (k optional)");
	refused(H "2020-01-01,0,0,-1,1,0\n\n2020-02-30,0,0,-1,1,0\n",
	        "h.csv:4: date '2020-02-30' is not a valid YYYY-MM-DD");
	refused(H "2020-01-01,0,0,-1,1,0\n2020-01-01,0,0,-1,1,0\n",
	        "h.csv:3: date is not after the previous calibration's");
	refused(H "2020-01-01,0,0,-1,1\n",
	        "h.csv:2: expected 6 comma-separated fields, got fewer");
	refused(H "2020-01-01,0,0,-1,1,0,7\n",
	        "h.csv:2: expected 6 comma-separated fields, got more");
	refused(H "2020-01-01,0,abc,-1,1,0\n",
	        "h.csv:2: as_left 'abc' is not a number");
	refused(H "2020-01-01,0,0,-1,1,\n",
	        "h.csv:2: uncertainty '' is not a number");
	refused(H "2020-01-01,inf,0,-1,1,0\n",
	        "h.csv:2: as_found 'inf' is not a number");
	refused(H "2020-01-01,1e999,0,-1,1,0\n",
	        "h.csv:2: as_found '1e999' is not a number");
	refused(H "2020-01-01,0,0,1,-1,0\n",
	        "h.csv:2: lower 1 is above upper -1");
	refused(H "2020-01-01,0,0,-1,1,-0.1\n",
	        "h.csv:2: uncertainty must not be negative");
}

static void bad_files(void **state)
{
	(void)state;
	char line[HISTORY_LINE_MAX + 8];

	refused("", "h.csv: empty file (no header)");
	refused("# only a comment\n\n", "h.csv: empty file (no header)");
	refused(H "2020-01-01,0,0,-1,1,0\n",
	        "h.csv: need at least 2 calibrations, found 1");
	/* 1023 characters and the newline: one too many */
	memset(line, '#', HISTORY_LINE_MAX - 1);
	line[HISTORY_LINE_MAX - 1] = '\n';
	line[HISTORY_LINE_MAX] = '\0';
	char *text = malloc(strlen(H) + sizeof(line));
	assert_non_null(text);
	snprintf(text, strlen(H) + sizeof(line), "%s%s", H, line);
	refused(text, "h.csv:2: line longer than 1022 characters");
	/* 1022 and the newline: fits */
	line[HISTORY_LINE_MAX - 2] = '\n';
	line[HISTORY_LINE_MAX - 1] = '\0';
	snprintf(text, strlen(H) + sizeof(line), "%s%s", H, line);
	refused(text, "h.csv: need at least 2 calibrations, found 0");
	free(text);
}

static void too_many(void **state)
{
	(void)state;
	size_t size = strlen(H) + (HISTORY_ROWS_MAX + 1) * 32;
	char *text = malloc(size), *p = text;

	assert_non_null(text);
	p += sprintf(p, "%s", H);
	/* strictly increasing dates: 28 days in each month */
	for (long i = 0; i <= HISTORY_ROWS_MAX; i++)
		p += sprintf(p, "%04ld-%02ld-%02ld,0,0,-1,1,0\n",
		             1000 + i / 336, i % 336 / 28 + 1, i % 28 + 1);
	refused(text, "h.csv:10002: more than 10000 calibrations");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(dates),     cmocka_unit_test(good_file),
	        cmocka_unit_test(k_column),  cmocka_unit_test(bad_lines),
	        cmocka_unit_test(bad_files), cmocka_unit_test(too_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
