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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(utc_zone),
	        cmocka_unit_test(ho_chi_minh),
	        cmocka_unit_test(berlin_summer_time),
	        cmocka_unit_test(st_johns_half_hour),
	        cmocka_unit_test(sao_paulo_skipped_midnight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
