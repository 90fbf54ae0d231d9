/*
 * test_labtime.c - the lab's time (gateway/core/labtime.c): local dates,
 * the starts and ends of local days, under several zones set with
 * setenv("TZ") + tzset(): UTC, Asia/Ho_Chi_Minh (+07:00, no summer time),
 * Europe/Berlin across both changes of 2027 (days of 23 and 25 hours),
 * America/St_Johns (-03:30, a half-hour offset, and its change),
 * America/Sao_Paulo in 2018 (the clocks skipped midnight: the day began at
 * 01:00). Each zone is named as the tz database names it when
 * /usr/share/zoneinfo has it, else given by the equivalent POSIX TZ rule,
 * so the test does not depend on tzdata being installed.
 *
 * Then the times people read and type: labtime_format (the local time with
 * its offset), labtime_parse (a time without an offset is local; with one
 * it is that instant), labtime_instant across the changes of summer time
 * (a skipped reading is the first instant after, a repeated one the
 * first), and that every printed time reads back as its instant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "labtime.h"
#include "utc.h"

#define H_US   (3600LL * UTC_SEC_US)
#define MIN_US (60LL * UTC_SEC_US)

static void zone(const char *name, const char *posix)
{
	char path[128];

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	assert_int_equal(
	        setenv("TZ", access(path, R_OK) == 0 ? name : posix, 1), 0);
	tzset();
}

static int64_t at(const char *iso)
{
	int64_t us;

	assert_int_equal(utc_parse(iso, UTC_ABSOLUTE, 0, &us), 0);
	return us;
}

static int64_t day_of(const char *date)
{
	return at(date) / UTC_DAY_US;
}

static void date_is(int64_t us, const char *want)
{
	char buf[UTC_DATE_SIZE];

	labtime_format_date(us, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* Around every hour of a year: the day start and end frame the instant,
 * a day starts on its date and the second before it is the day before. */
static void frames_every_hour(int64_t from)
{
	for (int64_t t = from; t < from + 366 * UTC_DAY_US; t += H_US + 7) {
		int64_t d = labtime_day(t);
		int64_t start = labtime_day_start(d);
		int64_t end = labtime_day_end(t);
		assert_true(start <= t);
		assert_true(t < end);
		assert_int_equal(end, labtime_day_start(d + 1));
		assert_int_equal(labtime_day(start), d);
		assert_int_equal(labtime_day(start - 1), d - 1);
		assert_int_equal(labtime_day(end - 1), d);
		/* a day lasts 23 to 25 hours in these zones */
		assert_true(end - start >= 23 * H_US);
		assert_true(end - start <= 25 * H_US);
	}
}

static void utc_zone(void **state)
{
	(void)state;
	zone("UTC", "UTC0");
	int64_t t = at("2027-12-05T10:00:00Z");
	assert_int_equal(labtime_day(t), day_of("2027-12-05"));
	assert_int_equal(labtime_day_start(day_of("2027-12-05")),
	                 at("2027-12-05"));
	assert_int_equal(labtime_day_end(t), at("2027-12-06"));
	assert_int_equal(labtime_day_end(at("2027-12-05")), at("2027-12-06"));
	date_is(t, "2027-12-05");
	date_is(at("1969-12-31T23:59:59.999999Z"), "1969-12-31");
	frames_every_hour(at("2027-01-01"));
}

static void ho_chi_minh(void **state)
{
	(void)state;
	zone("Asia/Ho_Chi_Minh", "<+07>-7");
	/* 2027-12-04T20:00Z is 03:00 on the 5th in Vietnam */
	int64_t t = at("2027-12-04T20:00:00Z");
	date_is(t, "2027-12-05");
	assert_int_equal(labtime_day(t), day_of("2027-12-05"));
	assert_int_equal(labtime_day_start(day_of("2027-12-05")),
	                 at("2027-12-05T00:00+07:00"));
	assert_int_equal(labtime_day_end(t), at("2027-12-06T00:00+07:00"));
	assert_int_equal(
	        labtime_day_end(at("2027-12-05T23:59:59.999999+07:00")),
	        at("2027-12-06T00:00+07:00"));
	date_is(at("2027-12-05T16:59:59.999999Z"), "2027-12-05");
	date_is(at("2027-12-05T17:00:00Z"), "2027-12-06");
	frames_every_hour(at("2027-01-01"));
}

static void berlin_summer_time(void **state)
{
	(void)state;
	zone("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3");
	/* 2027-03-28: 02:00 CET became 03:00 CEST, a day of 23 hours */
	int64_t d = day_of("2027-03-28");
	assert_int_equal(labtime_day_start(d), at("2027-03-27T23:00:00Z"));
	assert_int_equal(labtime_day_start(d + 1), at("2027-03-28T22:00:00Z"));
	assert_int_equal(labtime_day_end(at("2027-03-28T12:00+02:00")),
	                 at("2027-03-29T00:00+02:00"));
	/* 2027-10-31: 03:00 CEST became 02:00 CET, a day of 25 hours */
	d = day_of("2027-10-31");
	assert_int_equal(labtime_day_start(d), at("2027-10-30T22:00:00Z"));
	assert_int_equal(labtime_day_start(d + 1), at("2027-10-31T23:00:00Z"));
	/* the hour that happened twice is of the same day */
	date_is(at("2027-10-31T00:30:00Z"), "2027-10-31");
	date_is(at("2027-10-31T01:30:00Z"), "2027-10-31");
	date_is(at("2027-10-31T22:59:59Z"), "2027-10-31");
	date_is(at("2027-10-31T23:00:00Z"), "2027-11-01");
	frames_every_hour(at("2027-01-01"));
}

static void st_johns_half_hour(void **state)
{
	(void)state;
	zone("America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0");
	/* winter: -03:30 */
	assert_int_equal(labtime_day_start(day_of("2027-01-15")),
	                 at("2027-01-15T03:30:00Z"));
	date_is(at("2027-01-15T03:29:59Z"), "2027-01-14");
	date_is(at("2027-01-15T03:30:00Z"), "2027-01-15");
	/* 2027-03-14, 02:00 NST became 03:00 NDT (-02:30): 23 hours */
	int64_t d = day_of("2027-03-14");
	assert_int_equal(labtime_day_start(d), at("2027-03-14T03:30:00Z"));
	assert_int_equal(labtime_day_start(d + 1), at("2027-03-15T02:30:00Z"));
	frames_every_hour(at("2027-01-01"));
}

static void sao_paulo_skipped_midnight(void **state)
{
	(void)state;
	zone("America/Sao_Paulo", "<-03>3<-02>,M11.1.0/0,M2.3.0/0");
	/* 2018-11-04: 00:00 -03 became 01:00 -02; the day began at 01:00 */
	int64_t d = day_of("2018-11-04");
	assert_int_equal(labtime_day_start(d), at("2018-11-04T03:00:00Z"));
	assert_int_equal(labtime_day_start(d - 1), at("2018-11-03T03:00:00Z"));
	date_is(at("2018-11-04T02:59:59Z"), "2018-11-03");
	date_is(at("2018-11-04T03:00:00Z"), "2018-11-04");
	assert_int_equal(labtime_day_end(at("2018-11-03T12:00:00Z")),
	                 at("2018-11-04T03:00:00Z"));
	frames_every_hour(at("2018-06-01"));
}

static void printed_is(int64_t us, int digits, const char *want)
{
	char buf[UTC_OFF_US_SIZE];

	labtime_format(us, digits, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static int64_t local(const char *s, unsigned flags)
{
	int64_t us;

	if (labtime_parse(s, flags, 0, &us) != 0)
		fail_msg("'%s' refused", s);
	return us;
}

static void zone_is(int64_t us, const char *want)
{
	char buf[16];

	labtime_format_zone(us, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* Every printed time of a year, each 7 hours and 13 s, reads back as its
 * instant (to the second, and to the microsecond with 6 digits). */
static void reads_back(int64_t from)
{
	char buf[UTC_OFF_US_SIZE];

	for (int64_t t = from; t < from + 366 * UTC_DAY_US;
	     t += 7 * H_US + 13 * UTC_SEC_US + 17) {
		labtime_format(t, 6, buf, sizeof(buf));
		assert_int_equal(local(buf, UTC_ABSOLUTE), t);
		labtime_format(t, 0, buf, sizeof(buf));
		assert_int_equal(local(buf, 0), t - t % UTC_SEC_US);
		/* the same wall-clock reading without its offset: the same
		 * instant, unless the clock showed it twice (then the first) */
		buf[19] = '\0';
		int64_t back = local(buf, 0);
		assert_true(back <= t - t % UTC_SEC_US);
		assert_true(back > t - 2 * H_US);
	}
}

static void local_times_utc(void **state)
{
	(void)state;
	zone("UTC", "UTC0");
	int64_t t = at("2026-12-05T14:00:00.123456Z");
	printed_is(t, 0, "2026-12-05T14:00:00Z");
	printed_is(t, 6, "2026-12-05T14:00:00.123456Z");
	zone_is(t, "UTC");
	assert_int_equal(labtime_offset(t), 0);
	assert_int_equal(local("2026-12-05T14:00:00.123456", 0), t);
	assert_int_equal(local("2026-12-05", 0), at("2026-12-05T00:00Z"));
	reads_back(at("2026-01-01"));
}

static void local_times_ho_chi_minh(void **state)
{
	(void)state;
	struct utc_civil c;
	int64_t us = 42;

	zone("Asia/Ho_Chi_Minh", "<+07>-7");
	int64_t t = at("2026-12-05T14:00:00Z");
	printed_is(t, 0, "2026-12-05T21:00:00+07:00");
	printed_is(t + 250000, 3, "2026-12-05T21:00:00.250+07:00");
	printed_is(at("2026-12-05T17:00:00Z"), 0, "2026-12-06T00:00:00+07:00");
	zone_is(t, "UTC+07:00");
	assert_int_equal(labtime_offset(t), 7 * 3600);
	labtime_to_civil(at("2026-12-31T17:30:00Z"), &c);
	assert_true(c.year == 2027 && c.month == 1 && c.day == 1);
	assert_true(c.hour == 0 && c.minute == 30 && c.second == 0);
	/* typed: without an offset local, with one (or Z) that instant */
	assert_int_equal(local("2026-12-05T21:00", 0), t);
	assert_int_equal(local("2026-12-05T21:00:00.5", 0), t + 500000);
	assert_int_equal(local("2026-12-05 21:00", 0), t);
	assert_int_equal(local("2026-12-05T21:00+07:00", 0), t);
	assert_int_equal(local("2026-12-05T14:00Z", 0), t);
	assert_int_equal(local("2026-12-05T23:00+09:00", 0), t);
	/* a date is local midnight: a day's and a month's bounds */
	assert_int_equal(local("2026-12-05", 0), at("2026-12-04T17:00Z"));
	assert_int_equal(local("2026-12-01", UTC_DATE_ONLY),
	                 at("2026-11-30T17:00Z"));
	assert_int_equal(local("2027-01-01", UTC_DATE_ONLY | UTC_ABSOLUTE),
	                 at("2026-12-31T17:00Z"));
	assert_int_equal(local("2026-12-05", 0),
	                 labtime_day_start(day_of("2026-12-05")));
	/* now and ages are instants */
	assert_int_equal(labtime_parse("now", 0, t, &us), 0);
	assert_int_equal(us, t);
	assert_int_equal(labtime_parse("-1d", 0, t, &us), 0);
	assert_int_equal(us, t - UTC_DAY_US);
	/* the grammar's refusals, and the flags narrow it */
	us = 42;
	assert_int_equal(labtime_parse("2026-02-30", 0, 0, &us), -1);
	assert_int_equal(labtime_parse("2026-12-05T21:00+7", 0, 0, &us), -1);
	assert_int_equal(labtime_parse("now", UTC_ABSOLUTE, 0, &us), -1);
	assert_int_equal(
	        labtime_parse("2026-12-05T21:00", UTC_DATE_ONLY, 0, &us), -1);
	assert_int_equal(labtime_parse(NULL, 0, 0, &us), -1);
	assert_int_equal(us, 42);
	reads_back(at("2026-01-01"));
}

static void local_times_berlin(void **state)
{
	(void)state;
	zone("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3");
	printed_is(at("2026-12-05T20:00Z"), 0, "2026-12-05T21:00:00+01:00");
	printed_is(at("2027-07-05T19:00Z"), 0, "2027-07-05T21:00:00+02:00");
	zone_is(at("2026-12-05T20:00Z"), "UTC+01:00");
	zone_is(at("2027-07-05T19:00Z"), "UTC+02:00");
	assert_int_equal(local("2026-12-05T21:00", 0), at("2026-12-05T20:00Z"));
	assert_int_equal(local("2027-07-05T21:00", 0), at("2027-07-05T19:00Z"));
	/* 2027-03-28 02:00 CET became 03:00 CEST: 02:30 was skipped, it is
	 * the first instant after (03:00+02:00) */
	assert_int_equal(local("2027-03-28T02:30", 0), at("2027-03-28T01:00Z"));
	assert_int_equal(local("2027-03-28T01:59:59", 0),
	                 at("2027-03-28T00:59:59Z"));
	assert_int_equal(local("2027-03-28T03:00", 0), at("2027-03-28T01:00Z"));
	printed_is(at("2027-03-28T00:59:59Z"), 0, "2027-03-28T01:59:59+01:00");
	printed_is(at("2027-03-28T01:00:00Z"), 0, "2027-03-28T03:00:00+02:00");
	/* 2027-10-31 03:00 CEST became 02:00 CET: 02:30 came twice, it is the
	 * first (+02:00); the offsets printed tell the two apart */
	assert_int_equal(local("2027-10-31T02:30", 0), at("2027-10-31T00:30Z"));
	printed_is(at("2027-10-31T00:30Z"), 0, "2027-10-31T02:30:00+02:00");
	printed_is(at("2027-10-31T01:30Z"), 0, "2027-10-31T02:30:00+01:00");
	assert_int_equal(local("2027-10-31T02:30+01:00", 0),
	                 at("2027-10-31T01:30Z"));
	/* the month of the change in spring: 31 days less an hour */
	assert_int_equal(local("2027-04-01", 0) - local("2027-03-01", 0),
	                 31 * UTC_DAY_US - H_US);
	assert_int_equal(labtime_instant(day_of("2027-03-28") * UTC_DAY_US),
	                 labtime_day_start(day_of("2027-03-28")));
	reads_back(at("2027-01-01"));
}

static void local_times_st_johns_and_sao_paulo(void **state)
{
	(void)state;
	zone("America/St_Johns", "NST3:30NDT,M3.2.0,M11.1.0");
	printed_is(at("2027-01-15T03:30Z"), 0, "2027-01-15T00:00:00-03:30");
	zone_is(at("2027-01-15T03:30Z"), "UTC-03:30");
	assert_int_equal(local("2027-01-15", 0), at("2027-01-15T03:30Z"));
	reads_back(at("2027-01-01"));

	zone("America/Sao_Paulo", "<-03>3<-02>,M11.1.0/0,M2.3.0/0");
	/* 2018-11-04 began at 01:00: its date is that instant */
	assert_int_equal(local("2018-11-04", 0), at("2018-11-04T03:00Z"));
	assert_int_equal(local("2018-11-04T00:30", 0), at("2018-11-04T03:00Z"));
	printed_is(at("2018-11-04T03:00Z"), 0, "2018-11-04T01:00:00-02:00");
	reads_back(at("2018-06-01"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(utc_zone),
	        cmocka_unit_test(ho_chi_minh),
	        cmocka_unit_test(berlin_summer_time),
	        cmocka_unit_test(st_johns_half_hour),
	        cmocka_unit_test(sao_paulo_skipped_midnight),
	        cmocka_unit_test(local_times_utc),
	        cmocka_unit_test(local_times_ho_chi_minh),
	        cmocka_unit_test(local_times_berlin),
	        cmocka_unit_test(local_times_st_johns_and_sao_paulo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
