/*
 * utc.c - UTC times (utc.h): the one parser of times people type and
 * requests send, the ISO 8601 printers, and the calendar arithmetic.
 *
 * The parser reads the string left to right with a cursor, one field at a
 * time, each of a fixed number of digits; nothing of the C library that
 * skips spaces or accepts signs (strtol, sscanf) is used, so " 1" or "+1"
 * in a field cannot slip through. Pure: no I/O, no state, no clock.
 */
#include "utc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The longest age accepted: 100,000 years of 366 days. */
#define AGE_MAX_US (100000LL * 366 * UTC_DAY_US)

/* ---- calendar ------------------------------------------------------- */

int64_t utc_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400; /* 0-399 */
	int64_t doy =
	        (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0-365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;     /* 0-146096 */

	return era * 146097 + doe - 719468;
}

void utc_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097; /* 0-146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* 0-365 */
	int64_t mp = (5 * doy + 2) / 153;                      /* 0-11 */

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int utc_days_in_month(int64_t y, int m)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
	                            31, 31, 30, 31, 30, 31};

	return mdays[m - 1] + (m == 2 && leap_year(y));
}

void utc_to_civil(int64_t us, struct utc_civil *c)
{
	/* floor division without overflow at INT64_MIN */
	int64_t days = us / UTC_DAY_US;
	int64_t rest = us % UTC_DAY_US; /* then 0 to a day - 1 us */

	if (rest < 0) {
		rest += UTC_DAY_US;
		days--;
	}
	int64_t sec = rest / UTC_SEC_US;

	utc_civil_from_days(days, &c->year, &c->month, &c->day);
	c->hour = (int)(sec / 3600);
	c->minute = (int)(sec / 60 % 60);
	c->second = (int)(sec % 60);
	c->usec = (int)(rest % UTC_SEC_US);
}

/* ---- printing -------------------------------------------------------- */

/* The offset in "+07:00" form ("Z" for 0) into buf; false when it is not a
 * whole number of minutes within +-23:59 (it cannot be printed so). */
static bool format_offset(int offset_s, char *buf, size_t size)
{
	int a = offset_s < 0 ? -offset_s : offset_s;

	if (offset_s == 0) {
		snprintf(buf, size, "Z");
		return true;
	}
	if (a % 60 != 0 || a >= 24 * 3600)
		return false;
	snprintf(buf, size, "%c%02d:%02d", offset_s < 0 ? '-' : '+', a / 3600,
	         a / 60 % 60);
	return true;
}

void utc_format_offset(int64_t us, int offset_s, int digits, char *buf,
                       size_t size)
{
	struct utc_civil c;
	char frac[8] = "", zone[8];
	int f;

	if (!format_offset(offset_s, zone, sizeof(zone))) {
		offset_s = 0; /* the instant exactly, in UTC */
		snprintf(zone, sizeof(zone), "Z");
	}
	utc_to_civil(us + (int64_t)offset_s * UTC_SEC_US, &c);
	if (digits > 6)
		digits = 6;
	if (digits > 0) {
		f = c.usec;
		for (int i = digits; i < 6; i++)
			f /= 10;
		snprintf(frac, sizeof(frac), ".%0*d", digits, f);
	}
	snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d%s%s",
	         (long long)c.year, c.month, c.day, c.hour, c.minute, c.second,
	         frac, zone);
}

void utc_format(int64_t us, int digits, char *buf, size_t size)
{
	utc_format_offset(us, 0, digits, buf, size);
}

void utc_format_date(int64_t us, char *buf, size_t size)
{
	struct utc_civil c;

	utc_to_civil(us, &c);
	snprintf(buf, size, "%04lld-%02d-%02d", (long long)c.year, c.month,
	         c.day);
}

/* ---- parsing --------------------------------------------------------- */

/* Exactly n digits at *s, in [lo, hi], into *v; advances *s. */
static bool field(const char **s, int n, int lo, int hi, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char ch = (*s)[i];

		if (ch < '0' || ch > '9')
			return false;
		x = x * 10 + (ch - '0');
	}
	if (x < lo || x > hi)
		return false;
	*s += n;
	*v = x;
	return true;
}

/* The character c at *s; advances *s. */
static bool mark(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

/* "-N" and a unit d, h, m or s: now_us minus that age. */
static int parse_age(const char *s, int64_t now_us, int64_t *us)
{
	int64_t n = 0, unit;

	if (*s++ != '-' || *s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (*s - '0');
		if (n > AGE_MAX_US / UTC_SEC_US) /* too long for any unit */
			return -1;
	}
	switch (*s) {
	case 'd':
		unit = UTC_DAY_US;
		break;
	case 'h':
		unit = 3600 * UTC_SEC_US;
		break;
	case 'm':
		unit = 60 * UTC_SEC_US;
		break;
	case 's':
		unit = UTC_SEC_US;
		break;
	default:
		return -1;
	}
	if (s[1] != '\0' || n > AGE_MAX_US / unit ||
	    now_us < INT64_MIN + n * unit)
		return -1;
	*us = now_us - n * unit;
	return 0;
}

/* "DDDD-DD-DD", a real date: days since 1970-01-01; advances *s. */
static bool parse_date(const char **s, int64_t *days)
{
	int y, m, d;

	if (!field(s, 4, 1, 9999, &y) || !mark(s, '-') ||
	    !field(s, 2, 1, 12, &m) || !mark(s, '-') ||
	    !field(s, 2, 1, utc_days_in_month(y, m), &d))
		return false;
	*days = utc_days_from_civil(y, m, d);
	return true;
}

/* "HH:MM[:SS[.f...]]": microseconds since midnight; advances *s. */
static bool parse_clock(const char **s, int64_t *us)
{
	int h, m, sec = 0, frac = 0, n = 0;

	if (!field(s, 2, 0, 23, &h) || !mark(s, ':') || !field(s, 2, 0, 59, &m))
		return false;
	if (mark(s, ':')) {
		if (!field(s, 2, 0, 59, &sec))
			return false;
		if (mark(s, '.')) {
			for (; **s >= '0' && **s <= '9'; (*s)++, n++)
				if (n < 6)
					frac = frac * 10 + (**s - '0');
			if (n == 0)
				return false;
			for (; n < 6; n++)
				frac *= 10;
		}
	}
	*us = ((int64_t)h * 3600 + m * 60 + sec) * UTC_SEC_US + frac;
	return true;
}

/* "", "Z", "+HH:MM" or "-HH:MM" and the end: what to add to a local time to
 * get UTC; *given false for "" (no zone written). */
static bool parse_zone(const char *s, int64_t *add_us, bool *given)
{
	int sign, h, m;

	*add_us = 0;
	*given = *s != '\0';
	if (*s == '\0')
		return true;
	if (*s == 'Z')
		return s[1] == '\0';
	if (*s != '+' && *s != '-')
		return false;
	sign = *s++ == '+' ? -1 : 1;
	if (!field(&s, 2, 0, 23, &h) || !mark(&s, ':') ||
	    !field(&s, 2, 0, 59, &m) || *s != '\0')
		return false;
	*add_us = sign * ((int64_t)h * 3600 + m * 60) * UTC_SEC_US;
	return true;
}

int utc_parse_wall(const char *s, unsigned flags, int64_t now_us, int64_t *us,
                   bool *zoneless)
{
	int64_t days, clock = 0, zone = 0;
	bool given = false;

	if (s == NULL)
		return -1;
	if (strcmp(s, "now") == 0 || s[0] == '-') {
		if (flags & (UTC_ABSOLUTE | UTC_DATE_ONLY))
			return -1;
		*zoneless = false;
		if (s[0] == 'n') {
			*us = now_us;
			return 0;
		}
		return parse_age(s, now_us, us);
	}
	if (!parse_date(&s, &days))
		return -1;
	if (*s != '\0') {
		if ((flags & UTC_DATE_ONLY) || (*s != 'T' && *s != ' '))
			return -1;
		s++;
		if (!parse_clock(&s, &clock) || !parse_zone(s, &zone, &given))
			return -1;
	}
	*zoneless = !given;
	*us = days * UTC_DAY_US + clock + zone;
	return 0;
}

int utc_parse(const char *s, unsigned flags, int64_t now_us, int64_t *us)
{
	bool zoneless;

	return utc_parse_wall(s, flags, now_us, us, &zoneless);
}
