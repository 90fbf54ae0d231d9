/*
 * Unit tests of the text a calibration record is made from
 * (gateway/core/calfile.c): a point, a field by name from the command line
 * or a file, a fields file and a points CSV; every bad input refused with
 * the message `metrolog calibrate` prints, naming the file and line.
 * Files are memory streams (fmemopen); the date and points hooks are
 * stubs that record what they were asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calfile.h"

static struct calib_record rec;
static char err[CALFILE_LINE_MAX + 1024];
static char points_asked[256];

/* Dates: only "2026-03-01" (and "...T08:30"), as 1772323200 s. */
static int stub_date(const char *s, int64_t *us)
{
	if (strcmp(s, "2026-03-01") == 0)
		*us = 1772323200LL * 1000000;
	else if (strcmp(s, "2026-03-01T08:30") == 0)
		*us = (1772323200LL + 8 * 3600 + 30 * 60) * 1000000;
	else
		return -1;
	return 0;
}

/* Points files: "pts.csv" holds one point, any other is not there. */
static int stub_points(struct calfile *c, const char *path, char *e, size_t n)
{
	static const char text[] = "quantity,unit,reference,as_found,as_left,"
	                           "lower,upper,U,k\n"
	                           "p,V,1,1.1,,-1,1,0.1,2\n";
	FILE *f;
	int rc;

	snprintf(points_asked, sizeof(points_asked), "%s", path);
	if (strcmp(path, "pts.csv") != 0) {
		snprintf(e, n, "%s: No such file or directory", path);
		return -1;
	}
	f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	rc = calfile_read_points(c->r, f, path, e, n);
	fclose(f);
	return rc;
}

static struct calfile cf;

static int setup(void **state)
{
	(void)state;
	memset(&rec, 0, sizeof(rec));
	cf = (struct calfile){
	        .r = &rec, .parse_date = stub_date, .read_points = stub_points};
	err[0] = points_asked[0] = '\0';
	return 0;
}

/* calfile_read() of text named "F". */
static int read_fields(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(f);
	rc = calfile_read(&cf, f, "F", err, sizeof(err));
	fclose(f);
	return rc;
}

static int read_points(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(f);
	rc = calfile_read_points(&rec, f, "P", err, sizeof(err));
	fclose(f);
	return rc;
}

static void refused(const char *text, const char *want)
{
	setup(NULL);
	assert_int_equal(read_fields(text), -1);
	assert_string_equal(err, want);
}

static void point(void **state)
{
	(void)state;
	struct calib_point p;
	char why[256];

	assert_int_equal(calfile_point("c0,degC,20,20.03,,-0.1,0.1,0.02,2", &p,
	                               why, sizeof(why)),
	                 0);
	assert_string_equal(p.quantity, "c0");
	assert_string_equal(p.unit, "degC");
	assert_true(p.reference == 20 && p.as_found == 20.03);
	assert_true(isnan(p.as_left));
	assert_true(p.lower == -0.1 && p.upper == 0.1 && p.U == 0.02 &&
	            p.k == 2);
	assert_int_equal(calfile_point("a,b,1,,,0,0,0", &p, why, sizeof(why)),
	                 -1);
	assert_string_equal(why, "expected 9 fields quantity,unit,reference,"
	                         "as_found,as_left,lower,upper,U,k; got "
	                         "fewer");
	assert_int_equal(
	        calfile_point("a,b,1,,,0,0,0,2,9", &p, why, sizeof(why)), -1);
	assert_string_equal(why, "expected 9 fields quantity,unit,reference,"
	                         "as_found,as_left,lower,upper,U,k; got more");
	assert_int_equal(
	        calfile_point("a,b,,1,1,0,0,0,2", &p, why, sizeof(why)), -1);
	assert_string_equal(why, "reference '' is not a number");
	assert_int_equal(
	        calfile_point("a,b,1,1,1,0,0,nan,2", &p, why, sizeof(why)), -1);
	assert_string_equal(why, "U 'nan' is not a number");
	assert_int_equal(
	        calfile_point("a,b,1,1,1,0,0,0,2 ", &p, why, sizeof(why)), -1);
	assert_string_equal(why, "k '2 ' is not a number");
}

static void fields_file(void **state)
{
	(void)state;
	assert_int_equal(
	        read_fields("# a record\n"
	                    "instrument = TB-01\n"
	                    "  certificate=C-1  \n"
	                    "\n"
	                    "date = 2026-03-01T08:30\n"
	                    "technician = \"Phạm Thu Hà\"\n"
	                    "remarks = \"\"\"\n"
	                    "rule = guarded\n"
	                    "guard-factor = 0.83\n"
	                    "interval = 365\n"
	                    "supersedes = 2\n"
	                    "points = pts.csv\n"
	                    "point = c0,degC,0,0.05,,-0.1,0.1,0.02,2\n"),
	        0);
	assert_string_equal(rec.instrument, "TB-01");
	assert_string_equal(rec.certificate, "C-1");
	assert_string_equal(rec.technician, "Phạm Thu Hà");
	assert_string_equal(rec.remarks, "\"");
	assert_true(cf.have_date);
	assert_true(rec.performed_us == (1772323200LL + 30600) * 1000000);
	assert_int_equal(rec.rule, CALIB_RULE_GUARDED);
	assert_true(rec.guard_factor == 0.83);
	assert_int_equal(rec.interval_days, 365);
	assert_int_equal(rec.supersedes, 2);
	assert_string_equal(points_asked, "pts.csv");
	assert_int_equal(rec.npoints, 2); /* the file's, then the line's */
	assert_string_equal(rec.points[0].quantity, "p");
	assert_string_equal(rec.points[1].quantity, "c0");
}

static void fields_file_errors(void **state)
{
	(void)state;
	refused("# x\n\ninstrument TB-01\n", "F:3: expected name = value");
	refused("instrument = A\nbogus = 1\n", "F:2: unknown field 'bogus'");
	refused("\n\n\ndate = now\n",
	        "F:4: date 'now': use YYYY-MM-DD or YYYY-MM-DDTHH:MM (the "
	        "lab's time; Z or +07:00 after it: that offset)");
	refused("#\nrule = strict\n", "F:2: rule 'strict': simple or guarded");
	refused("point = a,b,1,1,1,0,x,0,2\n",
	        "F:1: point 'a,b,1,1,1,0,x,0,2': upper 'x' is not a number");
	refused("interval = 0\n", "F:1: --interval: whole days, 1..3650");
	refused("interval = 3651\n", "F:1: --interval: whole days, 1..3650");
	refused("interval = 1.5\n", "F:1: --interval: whole days, 1..3650");
	refused("\nsupersedes = 1.5\n",
	        "F:2: --supersedes '1.5': need a whole number >= 1");
	/* once converted to int64_t whatever its size (fuzz_calfile) */
	refused("supersedes = 1e300\n",
	        "F:1: --supersedes '1e300': need a whole number >= 1");
	refused("supersedes = 9223372036854775808\n",
	        "F:1: --supersedes '9223372036854775808': need a whole number "
	        ">= 1");
	refused("supersedes = 0\n",
	        "F:1: --supersedes '0': need a whole number >= 1");
	refused("guard-factor = -1\n",
	        "F:1: --guard-factor '-1': need a number >= 0");
	refused("points = missing.csv\n",
	        "missing.csv: No such file or directory");
}

static void long_values(void **state)
{
	(void)state;
	char text[CALFILE_LINE_MAX + 64];
	int n;

	/* an instrument id fills at most 63 bytes of its 65 */
	n = snprintf(text, sizeof(text), "\ninstrument = ");
	memset(text + n, 'A', 64);
	strcpy(text + n + 64, "\n");
	refused(text, "F:2: --instrument: too long (at most 63 bytes)");
	text[n + 63] = '\n';
	text[n + 64] = '\0';
	setup(NULL);
	assert_int_equal(read_fields(text), 0);
	assert_int_equal(strlen(rec.instrument), 63);
	/* 4094 characters and the newline: one too many */
	n = snprintf(text, sizeof(text), "#\nremarks = ");
	memset(text + n, 'r', CALFILE_LINE_MAX - 1 - (n - 2));
	strcpy(text + 2 + CALFILE_LINE_MAX - 1, "\n");
	refused(text, "F:2: line longer than 4094 characters");
}

static void too_many_points(void **state)
{
	(void)state;
	size_t size = (CALIB_POINTS + 1) * 48;
	char *text = malloc(size), *p = text;

	assert_non_null(text);
	for (int i = 0; i <= CALIB_POINTS; i++)
		p += sprintf(p, "point = c%d,V,%d,%d,,-1,1,0.1,2\n", i, i, i);
	refused(text, "F:65: more than 64 points");
	free(text);
}

static void points_csv(void **state)
{
	(void)state;
	setup(NULL);
	assert_int_equal(read_points("quantity,unit,reference,as_found,as_left,"
	                             "lower,upper,U,k\n"
	                             "c0,degC,20,20.01,,-0.1,0.1,0.02,2\n"
	                             "# a comment line\n"
	                             "\n"
	                             "  c1,degC,50,,50.02,-0.1,0.1,0.02,2\r\n"),
	                 0);
	assert_int_equal(rec.npoints, 2);
	assert_string_equal(rec.points[1].quantity, "c1");
	assert_true(isnan(rec.points[1].as_found));
	assert_true(rec.points[1].as_left == 50.02);
	setup(NULL);
	assert_int_equal(read_points("c0,degC,20,20.01,,-0.1,0.1,0.02,2\n"
	                             "#\n"
	                             "c1,degC,50\n"),
	                 -1);
	assert_string_equal(err, "P:3: point 'c1,degC,50': expected 9 fields "
	                         "quantity,unit,reference,as_found,as_left,"
	                         "lower,upper,U,k; got fewer");
	assert_int_equal(rec.npoints, 1);
}

/* From the command line (at NULL): the tool's messages, unchanged. */
static void command_line(void **state)
{
	(void)state;
	char lab[CALIB_TEXT + 1];

	setup(NULL);
	assert_int_equal(
	        calfile_field(&cf, "point", "a,b", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "argument: point 'a,b': expected 9 fields "
	                         "quantity,unit,reference,as_found,as_left,"
	                         "lower,upper,U,k; got fewer");
	assert_int_equal(calfile_field(&cf, "date", "2026-13-01", NULL, err,
	                               sizeof(err)),
	                 -1);
	assert_string_equal(err, "argument: date '2026-13-01': use YYYY-MM-DD "
	                         "or YYYY-MM-DDTHH:MM (the lab's time; Z or "
	                         "+07:00 after it: that offset)");
	memset(lab, 'L', CALIB_TEXT - 1);
	lab[CALIB_TEXT - 1] = '\0';
	assert_int_equal(calfile_field(&cf, "lab", lab, NULL, err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "--lab: too long (at most 254 bytes)");
	assert_int_equal(calfile_field(&cf, "date", "2026-03-01", NULL, err,
	                               sizeof(err)),
	                 0);
	assert_true(cf.have_date);
	/* no hooks: dates and points files refused */
	cf.parse_date = NULL;
	cf.read_points = NULL;
	assert_int_equal(calfile_field(&cf, "date", "2026-03-01", "F:9", err,
	                               sizeof(err)),
	                 -1);
	assert_string_equal(err, "F:9: date '2026-03-01': use YYYY-MM-DD or "
	                         "YYYY-MM-DDTHH:MM (the lab's time; Z or "
	                         "+07:00 after it: that offset)");
	assert_int_equal(calfile_field(&cf, "points", "pts.csv", "F:9", err,
	                               sizeof(err)),
	                 -1);
	assert_string_equal(err, "F:9: points: no files here");
}

/* calfile_read() / calfile_read_points() of n bytes (NUL bytes
 * included), named "F" / "P"; rec and err as above. */
static int read_bytes(const char *text, size_t n, bool points)
{
	FILE *f = fmemopen((void *)text, n, "r");
	int rc;

	setup(NULL);
	assert_non_null(f);
	rc = points ? calfile_read_points(&rec, f, "P", err, sizeof(err))
	            : calfile_read(&cf, f, "F", err, sizeof(err));
	fclose(f);
	return rc;
}

/* Numbers are decimals kept exactly as typed; nothing else. */
static void numbers_only_decimal(void **state)
{
	(void)state;
	struct calib_point p;
	char why[256];
	static const char *bad[] = {
	        "0x14",
	        "0X1p4",
	        "inf",
	        "-inf",
	        "nan",
	        "1e400",
	        "-1e999",
	        "1e-400",
	        " 20",
	        "20 ",
	        "2;0",
	        "1_000",
	        "+-1",
	        "20.0.1",
	        "0.1000000000000000001" /* not kept by a double */,
	};
	static const char *good[] = {
	        "20",     "-20.05",         "+.5", "5.", "1e3",
	        "1.5E-3", "123456789012345"};
	char text[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "c,V,%s,1,,-1,1,0.1,2", bad[i]);
		assert_int_equal(calfile_point(text, &p, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "is not a number"));
		setup(NULL);
		assert_int_equal(calfile_field(&cf, "guard-factor", bad[i],
		                               NULL, err, sizeof(err)),
		                 -1);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "c,V,%s,1,,-1,1,0.1,2", good[i]);
		assert_int_equal(calfile_point(text, &p, why, sizeof(why)), 0);
	}
	/* the interval and a record number: hexadecimal is not a number */
	setup(NULL);
	assert_int_equal(
	        calfile_field(&cf, "interval", "0x1E", NULL, err, sizeof(err)),
	        -1);
	assert_int_equal(calfile_field(&cf, "supersedes", "0x10", NULL, err,
	                               sizeof(err)),
	                 -1);
}

/* Names and free text: printable UTF-8, no control characters, with
 * the field and the line named. */
static void text_printable_only(void **state)
{
	(void)state;
	struct calib_point p;
	char why[256];

	setup(NULL);
	assert_int_equal(calfile_field(&cf, "lab", "Phòng đo lường – VILAS 123",
	                               NULL, err, sizeof(err)),
	                 0);
	assert_int_equal(
	        calfile_field(&cf, "lab", "A\tB", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "--lab: a control character (0x09) at byte 2");
	assert_int_equal(calfile_field(&cf, "remarks", "one\ntwo", NULL, err,
	                               sizeof(err)),
	                 -1);
	assert_string_equal(err,
	                    "--remarks: a control character (0x0A) at byte 4");
	assert_int_equal(calfile_field(&cf, "technician", "An\x1b[31m", NULL,
	                               err, sizeof(err)),
	                 -1);
	assert_int_equal(calfile_field(&cf, "customer", "caf\xe9", NULL, err,
	                               sizeof(err)),
	                 -1);
	assert_string_equal(err, "--customer: invalid UTF-8 at byte 4");
	assert_int_equal(calfile_field(&cf, "method", "\xc0\xaf overlong", NULL,
	                               err, sizeof(err)),
	                 -1);
	assert_int_equal(calfile_field(&cf, "method", "\xed\xa0\x80 surrogate",
	                               NULL, err, sizeof(err)),
	                 -1);
	assert_int_equal(calfile_field(&cf, "conditions", "del\x7f", NULL, err,
	                               sizeof(err)),
	                 -1);
	assert_int_equal(calfile_field(&cf, "conditions", "c1\xc2\x85", NULL,
	                               err, sizeof(err)),
	                 -1);
	/* a point's quantity and unit */
	assert_int_equal(calfile_point("te\tmp,degC,20,20,,-1,1,0.1,2", &p, why,
	                               sizeof(why)),
	                 -1);
	assert_string_equal(why,
	                    "quantity: a control character (0x09) at byte 3");
	assert_int_equal(calfile_point("temp,\xb0"
	                               "C,20,20,,-1,1,0.1,2",
	                               &p, why, sizeof(why)),
	                 -1);
	assert_string_equal(why, "unit: invalid UTF-8 at byte 1");
	assert_int_equal(calfile_point("temp,\xc2\xb0"
	                               "C,20,20,,-1,1,0.1,2",
	                               &p, why, sizeof(why)),
	                 0);
	/* in a file: the line is named */
	refused("lab = ok\ncustomer = a\x01"
	        "b\n",
	        "F:2: --customer: a control character (0x01) at byte 2");
	setup(NULL);
	assert_int_equal(read_points("quantity,unit,reference,as_found,"
	                             "as_left,lower,upper,U,k\n"
	                             "p,V,1,1.1,,-1,1,0.1,2\n"
	                             "p,V\x7f,1,1.1,,-1,1,0.1,2\n"),
	                 -1);
	assert_non_null(strstr(err, "P:3: point"));
	assert_non_null(strstr(err, "unit: a control character (0x7F)"));
}

/* A NUL byte in a line is refused with its line, not cut off silently
 * (fgets would have kept "lab = A" and dropped the rest). */
static void nul_in_a_line(void **state)
{
	(void)state;
	static const char fields[] = "lab = A\0B\ntechnician = An\n";
	static const char points[] = "p,V,1,1.1,,-1,1,0.1,2\n"
	                             "p,V,1,1.1,,-1,1,0.1,2\0garbage\n";

	assert_int_equal(read_bytes(fields, sizeof(fields) - 1, false), -1);
	assert_string_equal(err,
	                    "F:1: a NUL byte in the line (not a text file?)");
	assert_string_equal(rec.lab, "");
	assert_int_equal(read_bytes(points, sizeof(points) - 1, true), -1);
	assert_string_equal(err,
	                    "P:2: a NUL byte in the line (not a text file?)");
	/* a last line without its newline is still read */
	assert_int_equal(read_bytes("lab = A", 7, false), 0);
	assert_string_equal(rec.lab, "A");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(point, setup),
	        cmocka_unit_test_setup(fields_file, setup),
	        cmocka_unit_test_setup(fields_file_errors, setup),
	        cmocka_unit_test_setup(long_values, setup),
	        cmocka_unit_test_setup(too_many_points, setup),
	        cmocka_unit_test_setup(points_csv, setup),
	        cmocka_unit_test_setup(command_line, setup),
	        cmocka_unit_test_setup(numbers_only_decimal, setup),
	        cmocka_unit_test_setup(text_printable_only, setup),
	        cmocka_unit_test_setup(nul_in_a_line, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
