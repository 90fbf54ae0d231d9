/*
 * utc.h - UTC times: the one grammar for times typed by people and sent in
 * requests, the ISO 8601 forms we print, and the proleptic Gregorian
 * calendar arithmetic under both (H. Hinnant's days_from_civil and its
 * inverse; no timegm(), which is not POSIX, no gmtime_r(), no TZ).
 * A time written without a zone is UTC here; labtime.h's labtime_parse
 * reads the same grammar with such a time in the lab's zone (what the
 * metrolog tool does), through utc_parse_wall.
 *
 * A time is an int64_t count of microseconds since 1970-01-01T00:00:00Z,
 * leap seconds not counted (POSIX time). Everything here is a pure function
 * of its arguments: no I/O, no global state, no reading of the clock ("now"
 * is an argument).
 *
 * THE GRAMMAR (utc_parse). 'D' is one ASCII digit; every field has exactly
 * the digits shown (no signs, no spaces, no fewer or more digits):
 *
 *   form                          meaning
 *   ----------------------------  -------------------------------------------
 *   DDDD-DD-DD                    00:00:00 UTC that day
 *   DDDD-DD-DDTDD:DD              that time; the zone is UTC when not given
 *   DDDD-DD-DDTDD:DD:DD           with seconds
 *   DDDD-DD-DDTDD:DD:DD.D...      with 1 or more digits of a second: the
 *                                 first six are exact microseconds, further
 *                                 digits are dropped (toward the earlier time)
 *     ... then one of:            (only after a time of day, not a date)
 *     (nothing) or Z              UTC (utc_parse; labtime_parse: nothing
 *                                 is the lab's local time, Z is UTC)
 *     +DD:DD or -DD:DD            a local time that far ahead of / behind
 *                                 UTC (Vietnam: +07:00): converted to UTC
 *                                 exactly, 2026-01-01T05:00+07:00 is
 *                                 2025-12-31T22:00:00Z
 *   now                           now_us                          (relative)
 *   -Nd -Nh -Nm -Ns               now_us minus N days, hours, minutes or
 *                                 seconds, N one or more digits   (relative)
 *
 * A single space may stand for the 'T' (as RFC 3339 allows). Ranges: year
 * 0001-9999, month 01-12, day 01 to the month's last day (leap years of the
 * Gregorian calendar: 2024-02-29 and 2000-02-29 exist, 2100-02-29 and
 * 1900-02-29 do not), hour 00-23, minute 00-59, second 00-59 (no leap
 * second), offset hours 00-23 and minutes 00-59; an age at most 100,000
 * years. Everything else is refused: impossible dates (2026-02-30), a field
 * out of range, trailing characters, lowercase 'z' or 't'.
 *
 * The flags narrow the grammar for a context, never widen it:
 *   UTC_ABSOLUTE   refuse "now" and ages (a records request's "since", the
 *                  date of a calibration)
 *   UTC_DATE_ONLY  only DDDD-DD-DD (a calibration history's date column)
 */
#ifndef METROLOG_UTC_H
#define METROLOG_UTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTC_SEC_US 1000000LL
#define UTC_DAY_US (86400LL * UTC_SEC_US)

/* Flags of utc_parse (bitwise or). */
#define UTC_ABSOLUTE  1u
#define UTC_DATE_ONLY 2u

/* Buffer sizes of the printed forms, with the NUL, for years 0000-9999. */
#define UTC_US_SIZE   28 /* 2026-11-26T12:00:00.123456Z */
#define UTC_SEC_SIZE  21 /* 2026-11-26T12:00:00Z */
#define UTC_DATE_SIZE 11 /* 2026-11-26 */
/* ... and of utc_format_offset's, with an offset. */
#define UTC_OFF_US_SIZE  33 /* 2026-11-26T19:00:00.123456+07:00 */
#define UTC_OFF_SEC_SIZE 26 /* 2026-11-26T19:00:00+07:00 */

/* A time broken into the fields of the proleptic Gregorian calendar, UTC. */
struct utc_civil {
	int64_t year;
	int month;  /* 1-12 */
	int day;    /* 1-31 */
	int hour;   /* 0-23 */
	int minute; /* 0-59 */
	int second; /* 0-59 */
	int usec;   /* 0-999999 */
};

/*
 * s in the grammar above, narrowed by flags (0: all of it), into *us. now_us
 * is the "now" of the relative forms. Returns 0, or -1 (*us untouched) when
 * s is NULL or not in the grammar.
 */
int utc_parse(const char *s, unsigned flags, int64_t now_us, int64_t *us);

/*
 * utc_parse, also telling whether s wrote a wall-clock time without a zone:
 * *zoneless is true when s is a date, or a time of day followed by neither
 * Z nor an offset; *us is then that clock reading taken as UTC (days x 24 h
 * + the time of day), for the caller to place in a zone (labtime_parse).
 * *zoneless is false for Z, an offset, "now" and the ages (*us the
 * instant, as utc_parse gives it). Returns 0, or -1 (*us untouched).
 */
int utc_parse_wall(const char *s, unsigned flags, int64_t now_us, int64_t *us,
                   bool *zoneless);

/*
 * us in ISO 8601, UTC, with digits (0-6; clamped) digits of a second, the
 * rest dropped toward the earlier time: digits 6 gives
 * "2026-11-26T12:00:00.123456Z" (the MQTT payloads' form), 3
 * "2026-11-26T12:00:00.123Z", 0 "2026-11-26T12:00:00Z". Any int64_t prints
 * (years past 9999 with more digits, before 0000 with a '-'); buf is
 * written as snprintf writes it (a short buf truncates; UTC_US_SIZE and
 * UTC_SEC_SIZE always suffice for years 0000-9999).
 */
void utc_format(int64_t us, int digits, char *buf, size_t size);

/*
 * us as the wall-clock time offset_s seconds east of UTC, followed by that
 * offset, as utc_format prints otherwise: offset_s 25200 and digits 0 give
 * "2026-11-26T19:00:00+07:00" for 2026-11-26T12:00:00Z; offset 0 gives "Z"
 * (utc_format's text exactly). An offset that is not a whole number of
 * minutes within +-23:59 (the local mean times of zones before 1900, such
 * as +07:06:40) cannot be written in ISO 8601: us prints in UTC with "Z",
 * the instant exact. UTC_OFF_US_SIZE and UTC_OFF_SEC_SIZE always suffice
 * for years 0000-9999.
 */
void utc_format_offset(int64_t us, int offset_s, int digits, char *buf,
                       size_t size);

/* The UTC date of us, "2026-11-26", as utc_format writes (UTC_DATE_SIZE). */
void utc_format_date(int64_t us, char *buf, size_t size);

/* us broken into calendar fields (any int64_t; floor toward the past). */
void utc_to_civil(int64_t us, struct utc_civil *c);

/* Days from 1970-01-01 to y-m-d (m 1-12, d 1-31; not checked, a day past
 * the month's end runs into the next month), negative before 1970. */
int64_t utc_days_from_civil(int64_t y, int m, int d);

/* The inverse: the date of a day count. */
void utc_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* The number of days of month m (1-12) of year y: 28 to 31. */
int utc_days_in_month(int64_t y, int m);

#endif
