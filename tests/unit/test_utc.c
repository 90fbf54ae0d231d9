/*
 * test_utc.c - UTC times (gateway/core/utc.c): the calendar against an
 * independent day-by-day count and against the C library's gmtime_r(), the
 * grammar (every form, every offset case, every refusal), the relative
 * forms at a fixed now, and the printed forms byte for byte against the
 * gmtime_r() formatter the MQTT payloads used before (msg_iso_time).
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, the independent reference */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "utc.h"

#define SEC    1000000LL
#define HOUR   (3600 * SEC)
#define DAY    (24 * HOUR)
#define T2026  1767225600000000LL /* 2026-01-01T00:00:00Z */
#define NOW    1795694400123456LL /* 2026-11-26T12:00:00.123456Z */
#define SENTRY 424242             /* what a refusal must leave in *us */

/* The formatter of the MQTT payloads before utc.c (msg.c, msg_iso_time),
 * kept here as the reference the new one must match byte for byte. */
static void old_iso_time(char *buf, size_t size, int64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000);
	long us = (long)(ts_us % 1000000);
	struct tm tm;

	if (us < 0) {
		us += 1000000;
		t--;
	}
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, us);
}

/* Leap years by the rule as the calendar reform states it. */
static int month_days(int y, int m)
{
	if (m == 2)
		return y % 400 == 0   ? 29
		       : y % 100 == 0 ? 28
		       : y % 4 == 0   ? 29
		                      : 28;
	return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

static int64_t parsed(const char *s, unsigned flags)
{
	int64_t us = SENTRY;

	if (utc_parse(s, flags, NOW, &us) != 0)
		fail_msg("'%s' refused", s);
	return us;
}

static void refused(const char *s, unsigned flags)
{
	int64_t us = SENTRY;

	if (utc_parse(s, flags, NOW, &us) != -1)
		fail_msg("'%s' accepted", s);
	assert_int_equal(us, SENTRY);
}

/* Every day of 0001-9999, counted one by one from 0001-01-01 (day
 * -719162), against both conversions; from 1970 to 2200 also through the
 * parser and the printers. */
static void every_day(void **state)
{
	(void)state;
	int64_t day = -719162, y2;
	int m2, d2;
	char s[32], out[32];

	for (int y = 1; y <= 9999; y++)
		for (int m = 1; m <= 12; m++) {
			assert_int_equal(utc_days_in_month(y, m),
			                 month_days(y, m));
			for (int d = 1; d <= month_days(y, m); d++, day++) {
				assert_int_equal(utc_days_from_civil(y, m, d),
				                 day);
				utc_civil_from_days(day, &y2, &m2, &d2);
				assert_true(y2 == y && m2 == m && d2 == d);
				if (y < 1970 || y > 2200)
					continue;
				snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m,
				         d);
				assert_int_equal(parsed(s, 0), day * DAY);
				assert_int_equal(parsed(s, UTC_DATE_ONLY),
				                 day * DAY);
				utc_format_date(day * DAY, out, sizeof(out));
				assert_string_equal(out, s);
			}
		}
	assert_int_equal(day, utc_days_from_civil(10000, 1, 1));
}

/* Times of day spread over 1970-2200 and before 1970: printed, parsed back
 * to the same microsecond, and printed as the old formatter printed. */
static void round_trips(void **state)
{
	(void)state;
	int64_t lo = utc_days_from_civil(1900, 1, 1) * DAY;
	int64_t hi = utc_days_from_civil(2201, 1, 1) * DAY;
	int64_t step = 7 * DAY + 3 * HOUR + 17 * 60 * SEC + 29 * SEC + 654321;
	char a[UTC_US_SIZE], b[64];

	for (int64_t us = lo; us < hi; us += step) {
		utc_format(us, 6, a, sizeof(a));
		old_iso_time(b, sizeof(b), us);
		assert_string_equal(a, b);
		assert_int_equal(parsed(a, UTC_ABSOLUTE), us);
		utc_format(us, 0, a, sizeof(a));
		assert_int_equal(parsed(a, 0), us - (us % SEC + SEC) % SEC);
	}
	for (int64_t us = -3 * SEC; us <= 3 * SEC; us += 250001) {
		utc_format(us, 6, a, sizeof(a));
		old_iso_time(b, sizeof(b), us);
		assert_string_equal(a, b);
		assert_int_equal(parsed(a, 0), us);
	}
}

static void printed_forms(void **state)
{
	(void)state;
	char buf[64];

	utc_format(NOW, 6, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00.123456Z");
	assert_int_equal(strlen(buf) + 1, UTC_US_SIZE);
	utc_format(NOW, 3, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00.123Z");
	utc_format(NOW, 1, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00.1Z");
	utc_format(NOW, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00Z");
	assert_int_equal(strlen(buf) + 1, UTC_SEC_SIZE);
	utc_format(NOW, 9, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00.123456Z");
	utc_format(NOW, -1, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00Z");
	utc_format_date(NOW, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26");
	assert_int_equal(strlen(buf) + 1, UTC_DATE_SIZE);
	utc_format(0, 6, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	/* before 1970 the fraction still counts forward from the second */
	utc_format(-1, 6, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
	utc_format(-1, 0, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	utc_format_date(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31");
	/* a short buffer truncates like snprintf */
	utc_format(NOW, 6, buf, 11);
	assert_string_equal(buf, "2026-11-26");
	/* the extremes print without overflow */
	utc_format(INT64_MAX, 6, buf, sizeof(buf));
	assert_string_equal(buf, "294247-01-10T04:00:54.775807Z");
	utc_format(INT64_MIN, 6, buf, sizeof(buf));
	assert_string_equal(buf, "-290308-12-21T19:59:05.224192Z");
}

static void civil_fields(void **state)
{
	(void)state;
	struct utc_civil c;

	utc_to_civil(NOW, &c);
	assert_true(c.year == 2026 && c.month == 11 && c.day == 26 &&
	            c.hour == 12 && c.minute == 0 && c.second == 0 &&
	            c.usec == 123456);
	utc_to_civil(-1, &c);
	assert_true(c.year == 1969 && c.month == 12 && c.day == 31 &&
	            c.hour == 23 && c.minute == 59 && c.second == 59 &&
	            c.usec == 999999);
}

static void leap_years(void **state)
{
	(void)state;

	refused("1900-02-29", 0);
	assert_int_equal(parsed("2000-02-29", 0),
	                 utc_days_from_civil(2000, 3, 1) * DAY - DAY);
	assert_int_equal(parsed("2024-02-29", 0),
	                 parsed("2024-02-28", 0) + DAY);
	assert_int_equal(parsed("2024-03-01", 0),
	                 parsed("2024-02-28", 0) + 2 * DAY);
	refused("2100-02-29", 0);
	refused("2023-02-29", 0);
	refused("2024-02-30", 0);
	assert_int_equal(parsed("2100-03-01", 0),
	                 parsed("2100-02-28", 0) + DAY);
	assert_int_equal(utc_days_in_month(1900, 2), 28);
	assert_int_equal(utc_days_in_month(2000, 2), 29);
	assert_int_equal(utc_days_in_month(2024, 2), 29);
	assert_int_equal(utc_days_in_month(2100, 2), 28);
}

static void month_ends(void **state)
{
	(void)state;
	static const char *ok[] = {"2026-01-31", "2026-02-28", "2026-03-31",
	                           "2026-04-30", "2026-05-31", "2026-06-30",
	                           "2026-07-31", "2026-08-31", "2026-09-30",
	                           "2026-10-31", "2026-11-30", "2026-12-31"};
	static const char *bad[] = {"2026-01-32", "2026-02-29", "2026-03-32",
	                            "2026-04-31", "2026-05-32", "2026-06-31",
	                            "2026-07-32", "2026-08-32", "2026-09-31",
	                            "2026-10-32", "2026-11-31", "2026-12-32"};
	int64_t first = T2026;

	for (int i = 0; i < 12; i++) {
		int64_t end = parsed(ok[i], 0);

		assert_int_equal(end, first + (utc_days_in_month(2026, i + 1) -
		                               1) * DAY);
		first = end + DAY;
		refused(bad[i], 0);
	}
	assert_int_equal(parsed("2027-01-01", 0), first);
	assert_int_equal(parsed("2026-12-31T23:59:59.999999Z", 0), first - 1);
}

static void times_of_day(void **state)
{
	(void)state;
	int64_t noon = T2026 + 12 * HOUR;

	assert_int_equal(parsed("2026-01-01T12:00", 0), noon);
	assert_int_equal(parsed("2026-01-01T12:00Z", 0), noon);
	assert_int_equal(parsed("2026-01-01T12:00:00", 0), noon);
	assert_int_equal(parsed("2026-01-01T12:00:00Z", 0), noon);
	assert_int_equal(parsed("2026-01-01 12:00:00Z", 0), noon);
	assert_int_equal(parsed("2026-01-01T12:34:56Z", 0),
	                 noon + 34 * 60 * SEC + 56 * SEC);
	assert_int_equal(parsed("2026-01-01T00:00", 0), T2026);
	assert_int_equal(parsed("2026-01-01T23:59:59", 0), T2026 + DAY - SEC);
}

static void fractions(void **state)
{
	(void)state;
	int64_t t = T2026 + 5 * SEC;

	assert_int_equal(parsed("2026-01-01T00:00:05.1Z", 0), t + 100000);
	assert_int_equal(parsed("2026-01-01T00:00:05.12", 0), t + 120000);
	assert_int_equal(parsed("2026-01-01T00:00:05.000001Z", 0), t + 1);
	assert_int_equal(parsed("2026-01-01T00:00:05.999999Z", 0), t + 999999);
	assert_int_equal(parsed("2026-01-01T00:00:05.123456Z", 0), t + 123456);
	assert_int_equal(parsed("2026-01-01T00:00:05.000000Z", 0), t);
	/* past the sixth digit: dropped, toward the earlier time */
	assert_int_equal(parsed("2026-01-01T00:00:05.1234569Z", 0), t + 123456);
	assert_int_equal(parsed("2026-01-01T00:00:05.123456789+01:00", 0),
	                 t + 123456 - HOUR);
}

static void offsets(void **state)
{
	(void)state;

	/* across midnight, a month end and a year end */
	assert_int_equal(parsed("2026-01-01T05:00+07:00", 0),
	                 parsed("2025-12-31T22:00Z", 0));
	assert_int_equal(parsed("2026-01-01T05:00+07:00", 0), T2026 - 2 * HOUR);
	assert_int_equal(parsed("2025-12-31T20:00:00-05:00", 0), T2026 + HOUR);
	assert_int_equal(parsed("2026-03-01T01:30+02:00", 0),
	                 parsed("2026-02-28T23:30:00Z", 0));
	assert_int_equal(parsed("2024-03-01T00:00+00:01", 0),
	                 parsed("2024-02-29T23:59Z", 0));
	assert_int_equal(parsed("2026-01-31T23:59:59.999999-00:30", 0),
	                 parsed("2026-02-01T00:29:59.999999Z", 0));
	assert_int_equal(parsed("2026-04-30T18:00-09:30", 0),
	                 parsed("2026-05-01T03:30Z", 0));
	/* zero offsets, and the extremes of the fields */
	assert_int_equal(parsed("2026-01-01T00:00+00:00", 0), T2026);
	assert_int_equal(parsed("2026-01-01T00:00-00:00", 0), T2026);
	assert_int_equal(parsed("2026-01-01T00:00+23:59", 0),
	                 T2026 - 23 * HOUR - 59 * 60 * SEC);
	assert_int_equal(parsed("2026-01-01T00:00:00.5+05:45", UTC_ABSOLUTE),
	                 T2026 - 5 * HOUR - 45 * 60 * SEC + 500000);
}

static void refusals(void **state)
{
	(void)state;
	static const char *bad[] = {
	        /* empty, shapes */
	        "",
	        " ",
	        "2026",
	        "2026-01",
	        "2026-1-01",
	        "2026-01-1",
	        "26-01-01",
	        "02026-01-01",
	        "2026/01/01",
	        "20260101",
	        "2026-01-01T",
	        "2026-01-01T1",
	        "2026-01-01T12",
	        "2026-01-01T12:0",
	        "2026-01-01T12:00:",
	        "2026-01-01T12:00:0",
	        "2026-01-01T12:00:00.",
	        "2026-01-01T12:00.5",
	        "2026-01-01T1200",
	        "2026-01-01T12:00:00:00",
	        /* fields out of range */
	        "0000-01-01",
	        "2026-00-01",
	        "2026-13-01",
	        "2026-01-00",
	        "2026-02-30",
	        "2026-01-01T24:00",
	        "2026-01-01T23:60",
	        "2026-01-01T23:59:60",
	        "2026-01-01T12:00+24:00",
	        "2026-01-01T12:00+07:60",
	        /* signs and spaces in fields */
	        "+2026-01-01",
	        "-2026-01-01",
	        " 2026-01-01",
	        "2026-+1-01",
	        "2026-01- 1",
	        "2026-01-01T+1:00",
	        "2026-01-01T 1:00",
	        "2026-01-01T12:-1",
	        "2026-01-01T12:00:+1",
	        "2026-01-01T12:00:00.-1",
	        "2026-01-01T12:00+-7:00",
	        "2026-01-01T12:00+ 7:00",
	        /* trailing garbage, other separators and zones */
	        "2026-01-01x",
	        "2026-01-01 ",
	        "2026-01-01T12:00Zx",
	        "2026-01-01T12:00 ",
	        "2026-01-01T12:00:00ZZ",
	        "2026-01-01T12:00:00.5Z ",
	        "2026-01-01t12:00",
	        "2026-01-01T12:00z",
	        "2026-01-01  12:00",
	        "2026-01-01_12:00",
	        "2026-01-01T12:00+07",
	        "2026-01-01T12:00+0700",
	        "2026-01-01T12:00+07:00Z",
	        "2026-01-01T12:00+07:00:00",
	        "2026-01-01Z",
	        "2026-01-01+07:00",
	        "2026-01-01T12:00UTC",
	        "2026-01-01T12:00:00,5Z",
	        /* words */
	        "now ",
	        "Now",
	        "NOW",
	        "nowx",
	        "yesterday",
	        "today",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], 0);
	refused(NULL, 0);
}

static void relative(void **state)
{
	(void)state;

	assert_int_equal(parsed("now", 0), NOW);
	assert_int_equal(parsed("-30d", 0), NOW - 30 * DAY);
	assert_int_equal(parsed("-12h", 0), NOW - 12 * HOUR);
	assert_int_equal(parsed("-15m", 0), NOW - 15 * 60 * SEC);
	assert_int_equal(parsed("-10s", 0), NOW - 10 * SEC);
	assert_int_equal(parsed("-0s", 0), NOW);
	assert_int_equal(parsed("-007d", 0), NOW - 7 * DAY);
	assert_int_equal(parsed("-36500000d", 0), NOW - 36500000 * DAY);
	static const char *bad[] = {
	        "-",
	        "-d",
	        "-5",
	        "-5x",
	        "-5dd",
	        "-5 d",
	        "- 5d",
	        "-+5d",
	        "--5d",
	        "-5D",
	        "-5.5d",
	        "-1e3d",
	        "-5d ",
	        " -5d",
	        "+5d",
	        "5d",
	        "-5w",
	        "-5y",
	        "-5mo",
	        "-0x5d",
	        /* longer than 100,000 years, and far past any int64_t */
	        "-36600001d",
	        "-99999999999999999999999999s",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], 0);
	/* a now near the bottom of int64_t must not wrap around */
	{
		int64_t us = SENTRY;

		assert_int_equal(utc_parse("-1d", 0, INT64_MIN + DAY - 1, &us),
		                 -1);
		assert_int_equal(us, SENTRY);
		assert_int_equal(utc_parse("-1d", 0, INT64_MIN + DAY, &us), 0);
		assert_int_equal(us, INT64_MIN);
	}
}

static void flags(void **state)
{
	(void)state;

	refused("now", UTC_ABSOLUTE);
	refused("-30d", UTC_ABSOLUTE);
	refused("-0s", UTC_ABSOLUTE);
	assert_int_equal(parsed("2026-01-01", UTC_ABSOLUTE), T2026);
	assert_int_equal(parsed("2026-01-01T05:00+07:00", UTC_ABSOLUTE),
	                 T2026 - 2 * HOUR);
	refused("now", UTC_DATE_ONLY);
	refused("-1d", UTC_DATE_ONLY);
	refused("2026-01-01T00:00", UTC_DATE_ONLY);
	refused("2026-01-01T00:00Z", UTC_DATE_ONLY);
	refused("2026-01-01 00:00", UTC_DATE_ONLY);
	assert_int_equal(parsed("2026-01-01", UTC_DATE_ONLY), T2026);
	assert_int_equal(parsed("2026-01-01", UTC_ABSOLUTE | UTC_DATE_ONLY),
	                 T2026);
}

/* utc_format_offset: the wall-clock time of the offset and the offset; Z
 * for 0; an offset ISO 8601 cannot write prints the instant in UTC. */
static void printed_with_offsets(void **state)
{
	(void)state;
	char buf[64];

	utc_format_offset(NOW, 7 * 3600, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T19:00:00+07:00");
	assert_int_equal(strlen(buf) + 1, UTC_OFF_SEC_SIZE);
	utc_format_offset(NOW, 7 * 3600, 6, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T19:00:00.123456+07:00");
	assert_int_equal(strlen(buf) + 1, UTC_OFF_US_SIZE);
	utc_format_offset(NOW, -(3 * 3600 + 30 * 60), 3, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T08:30:00.123-03:30");
	/* across midnight and the year */
	utc_format_offset(parsed("2025-12-31T22:00Z", 0), 7 * 3600, 0, buf,
	                  sizeof(buf));
	assert_string_equal(buf, "2026-01-01T05:00:00+07:00");
	assert_int_equal(parsed(buf, 0), parsed("2025-12-31T22:00Z", 0));
	utc_format_offset(parsed("2026-01-01T02:00Z", 0), -5 * 3600, 0, buf,
	                  sizeof(buf));
	assert_string_equal(buf, "2025-12-31T21:00:00-05:00");
	/* offset 0: utc_format's text, Z */
	utc_format_offset(NOW, 0, 6, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00.123456Z");
	/* not whole minutes (a local mean time), or a day or more: UTC */
	utc_format_offset(NOW, 7 * 3600 + 400, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00Z");
	utc_format_offset(NOW, 24 * 3600, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26T12:00:00Z");
	utc_format_offset(NOW, 23 * 3600 + 59 * 60, 0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27T11:59:00+23:59");
	/* every offset of whole quarter hours reads back as the instant */
	for (int off = -14 * 3600; off <= 14 * 3600; off += 900) {
		utc_format_offset(NOW, off, 6, buf, sizeof(buf));
		assert_int_equal(parsed(buf, UTC_ABSOLUTE), NOW);
	}
}

/* utc_parse_wall: the grammar of utc_parse, and whether a zone was
 * written: a date or a time without Z or offset is a wall-clock reading. */
static void wall_readings(void **state)
{
	(void)state;
	int64_t us = SENTRY;
	bool zoneless = false;

	assert_int_equal(utc_parse_wall("2026-01-01", 0, NOW, &us, &zoneless),
	                 0);
	assert_true(zoneless);
	assert_int_equal(us, T2026);
	assert_int_equal(
	        utc_parse_wall("2026-01-01T05:00", 0, NOW, &us, &zoneless), 0);
	assert_true(zoneless);
	assert_int_equal(us, T2026 + 5 * HOUR);
	assert_int_equal(utc_parse_wall("2026-01-01 05:00:00.5", UTC_ABSOLUTE,
	                                NOW, &us, &zoneless),
	                 0);
	assert_true(zoneless);
	assert_int_equal(us, T2026 + 5 * HOUR + 500000);
	assert_int_equal(
	        utc_parse_wall("2026-01-01T05:00Z", 0, NOW, &us, &zoneless), 0);
	assert_false(zoneless);
	assert_int_equal(us, T2026 + 5 * HOUR);
	zoneless = true;
	assert_int_equal(utc_parse_wall("2026-01-01T05:00+07:00", 0, NOW, &us,
	                                &zoneless),
	                 0);
	assert_false(zoneless);
	assert_int_equal(us, T2026 - 2 * HOUR);
	zoneless = true;
	assert_int_equal(utc_parse_wall("now", 0, NOW, &us, &zoneless), 0);
	assert_false(zoneless);
	assert_int_equal(us, NOW);
	zoneless = true;
	assert_int_equal(utc_parse_wall("-2h", 0, NOW, &us, &zoneless), 0);
	assert_false(zoneless);
	assert_int_equal(us, NOW - 2 * HOUR);
	/* refusals leave *us alone, as utc_parse's */
	us = SENTRY;
	assert_int_equal(utc_parse_wall("2026-02-30", 0, NOW, &us, &zoneless),
	                 -1);
	assert_int_equal(
	        utc_parse_wall("now", UTC_ABSOLUTE, NOW, &us, &zoneless), -1);
	assert_int_equal(utc_parse_wall("2026-01-01T05:00", UTC_DATE_ONLY, NOW,
	                                &us, &zoneless),
	                 -1);
	assert_int_equal(utc_parse_wall(NULL, 0, NOW, &us, &zoneless), -1);
	assert_int_equal(us, SENTRY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(every_day),
	        cmocka_unit_test(round_trips),
	        cmocka_unit_test(printed_forms),
	        cmocka_unit_test(civil_fields),
	        cmocka_unit_test(leap_years),
	        cmocka_unit_test(month_ends),
	        cmocka_unit_test(times_of_day),
	        cmocka_unit_test(fractions),
	        cmocka_unit_test(offsets),
	        cmocka_unit_test(refusals),
	        cmocka_unit_test(relative),
	        cmocka_unit_test(flags),
	        cmocka_unit_test(printed_with_offsets),
	        cmocka_unit_test(wall_readings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
