/*
 * labtime.c - the lab's time (labtime.h): local days, offsets, printed
 * and typed times, from the C library's localtime_r() and nothing else.
 *
 * The local wall-clock time of a second s, read as if it were UTC
 * ("wall(s)"), is s plus the zone's offset at s. A local day D starts at the
 * first second s with wall(s) >= D x 24 h. The offset of any zone lies well
 * within +-30 h, so that second lies within 30 h of D x 24 h on either side,
 * and a bisection over that window finds it in 18 steps of localtime_r()
 * whatever the day's length (23, 24 or 25 h) or the offset (whole hours or
 * not). The same search turns any local clock reading into an instant
 * (first_second): the day's start is the reading 00:00:00 of that day. mktime()
 * is not used: what it does with a local time that does not exist (a midnight
 * the clocks skip) differs between C libraries.
 */
#include "labtime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utc.h"

#define DAY_S    86400LL
#define WINDOW_S (30LL * 3600)

int labtime_use_zone(const char *name)
{
	char tz[256];

	/* ":NAME": a zoneinfo file, never read as a POSIX TZ rule */
	if (name == NULL || *name == '\0' ||
	    snprintf(tz, sizeof(tz), ":%s", name) >= (int)sizeof(tz) ||
	    setenv("TZ", tz, 1) != 0)
		return -1;
	tzset();
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The local wall-clock time of second s, in seconds as if it were UTC;
 * s itself (UTC) if the C library cannot convert it. */
static int64_t wall(int64_t s)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return s;
	return utc_days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1,
	                           tm.tm_mday) *
	               DAY_S +
	       tm.tm_hour * 3600LL + tm.tm_min * 60LL + tm.tm_sec;
}

static int64_t day_of_second(int64_t s)
{
	return floor_div(wall(s), DAY_S);
}

int64_t labtime_day(int64_t us)
{
	tzset();
	return day_of_second(floor_div(us, UTC_SEC_US));
}

/* The first second s with wall(s) >= target, for target within
 * +-LABTIME_DAY_MAX days of 1970 (tzset() done by the caller). */
static int64_t first_second(int64_t target)
{
	int64_t lo = target - WINDOW_S, hi = target + WINDOW_S;

	/* invariant: wall(lo) < target <= wall(hi) */
	if (wall(lo) >= target || wall(hi) < target)
		return target - (wall(target) - target); /* cannot be */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (wall(mid) >= target)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* The first second of local day `day` (tzset() done by the caller). */
static int64_t start_second(int64_t day)
{
	if (day > LABTIME_DAY_MAX)
		day = LABTIME_DAY_MAX;
	if (day < -LABTIME_DAY_MAX)
		day = -LABTIME_DAY_MAX;
	return first_second(day * DAY_S);
}

int64_t labtime_day_start(int64_t day)
{
	tzset();
	return start_second(day) * UTC_SEC_US;
}

int64_t labtime_day_end(int64_t us)
{
	tzset();
	return start_second(day_of_second(floor_div(us, UTC_SEC_US)) + 1) *
	       UTC_SEC_US;
}

void labtime_format_date(int64_t us, char *buf, size_t size)
{
	utc_format_date(labtime_day(us) * UTC_DAY_US, buf, size);
}

int labtime_offset(int64_t us)
{
	int64_t s = floor_div(us, UTC_SEC_US);

	tzset();
	return (int)(wall(s) - s);
}

void labtime_to_civil(int64_t us, struct utc_civil *c)
{
	utc_to_civil(us + (int64_t)labtime_offset(us) * UTC_SEC_US, c);
}

int64_t labtime_instant(int64_t wall_us)
{
	int64_t max = LABTIME_DAY_MAX * DAY_S;
	int64_t target = floor_div(wall_us, UTC_SEC_US), s;

	if (target > max || target < -max)
		return wall_us; /* beyond any calendar: taken as UTC */
	tzset();
	s = first_second(target);
	if (wall(s) != target) /* skipped by the clocks: the first after */
		return s * UTC_SEC_US;
	return s * UTC_SEC_US + (wall_us - target * UTC_SEC_US);
}

void labtime_format(int64_t us, int digits, char *buf, size_t size)
{
	utc_format_offset(us, labtime_offset(us), digits, buf, size);
}

void labtime_format_zone(int64_t us, char *buf, size_t size)
{
	char t[64];
	size_t n;

	/* the zone utc_format_offset writes: "Z" or the last 6 characters */
	utc_format_offset(us, labtime_offset(us), 0, t, sizeof(t));
	n = strlen(t);
	snprintf(buf, size, "UTC%s", t[n - 1] == 'Z' ? "" : t + n - 6);
}

int labtime_parse(const char *s, unsigned flags, int64_t now_us, int64_t *us)
{
	int64_t v;
	bool zoneless;

	if (utc_parse_wall(s, flags, now_us, &v, &zoneless) < 0)
		return -1;
	*us = zoneless ? labtime_instant(v) : v;
	return 0;
}
