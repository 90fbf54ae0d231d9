/*
 * labtime.h - the lab's time: local dates and local days of instants, the
 * local times the metrolog tool prints (with their offset) and reads.
 *
 * The lab's time is the machine's local time zone, as the C library knows
 * it (Debian's convention): the TZ environment variable when set, else
 * /etc/localtime; a program told the lab's zone by name (the lab group's
 * timezone setting) sets it with labtime_use_zone(). Dates people read (a
 * calibration's due date) are local dates, and a day ends at local midnight,
 * not at 00:00 UTC: a due date printed "2027-12-05" in Vietnam (UTC+07:00) ends
 * at 2027-12-06T00:00+07:00 = 2027-12-05T17:00:00Z.
 *
 * This is the one module of gateway/core that is not a pure function of its
 * arguments: it reads the zone the C library loaded. Every function calls
 * tzset() first, so a program (or a test) that changes TZ with setenv()
 * is followed at the next call.
 *
 * A local day is named by its day number: the days from 1970-01-01 to its
 * local date (utc.h's utc_days_from_civil / utc_civil_from_days convert).
 * A local day is not 24 hours long everywhere: a change to or from summer
 * time makes it 23 or 25 hours (Europe/Berlin), and offsets may be of half
 * hours (America/St_Johns, UTC-03:30). The functions below never add 24
 * hours: they ask the zone.
 *
 * Instants are microseconds since 1970-01-01T00:00:00Z (utc.h). The days
 * handled are those of years 1 to 9999 and well beyond (any day number
 * within +-LABTIME_DAY_MAX).
 */
#ifndef METROLOG_LABTIME_H
#define METROLOG_LABTIME_H

#include <stddef.h>
#include <stdint.h>

#include "utc.h"

/* Take the IANA zone name (e.g. "Asia/Ho_Chi_Minh", a file of the system's
 * zoneinfo database) as the lab's time from now on: sets TZ for this
 * process. Returns 0, or -1 when name is empty or too long for TZ. */
int labtime_use_zone(const char *name);

/* The largest day number handled (about 270,000 years from 1970). */
#define LABTIME_DAY_MAX 100000000LL

/* The local day number of instant us: floor of (local wall-clock time of
 * us, as if it were UTC) / 24 h. */
int64_t labtime_day(int64_t us);

/*
 * The instant local day `day` starts: the first whole second at or after
 * which the local date is `day` or later (local midnight; when the clocks
 * skip midnight, the first instant of the day that exists, e.g. 01:00).
 * Every instant before it has a local date before `day`, every instant from
 * it on (until clocks are set back across midnight, which no zone in use
 * does) has `day` or later. day is clamped to +-LABTIME_DAY_MAX.
 */
int64_t labtime_day_start(int64_t day);

/* The end of the local day containing us: the start of the next local day
 * (labtime_day_start(labtime_day(us) + 1)), the first instant of the next
 * local date; us < labtime_day_end(us) always. */
int64_t labtime_day_end(int64_t us);

/* The local date of us, "2027-12-05", as utc_format_date writes one
 * (UTC_DATE_SIZE bytes suffice for years 0000-9999). */
void labtime_format_date(int64_t us, char *buf, size_t size);

/* us broken into the fields of the lab's local calendar and clock (utc.h's
 * struct utc_civil of us + labtime_offset(us)). */
void labtime_to_civil(int64_t us, struct utc_civil *c);

/* The lab's offset from UTC at instant us, in seconds east of UTC
 * (Vietnam 25200; Berlin 3600 in winter, 7200 in summer). */
int labtime_offset(int64_t us);

/*
 * The instant at which the lab's clock reads wall_us (a local clock reading
 * taken as if it were UTC: days x 24 h + the time of day), the inverse of
 * adding labtime_offset. When the clocks skip the reading (02:30 on the day
 * summer time starts in Berlin), the first instant after the skip (03:00,
 * UTC+02:00); when they show it twice (02:30 on the day it ends), the first
 * of the two (UTC+02:00). In general: the first instant from which the
 * clock reads wall_us or later, so a reading of 00:00 on a day is
 * labtime_day_start of that day. A reading more than LABTIME_DAY_MAX days
 * from 1970 is returned as it is (taken as UTC).
 */
int64_t labtime_instant(int64_t wall_us);

/* us as the lab's local time with its offset, as utc_format_offset
 * prints (digits 0-6 of a second): "2026-12-05T21:00:00+07:00" in Vietnam,
 * "2026-12-05T14:00:00Z" where the offset is 0 (a lab on UTC prints what
 * utc_format prints). UTC_OFF_SEC_SIZE / UTC_OFF_US_SIZE bytes suffice. */
void labtime_format(int64_t us, int digits, char *buf, size_t size);

/* The lab's zone at us for a caption: "UTC+07:00", "UTC-03:30", or "UTC"
 * where the offset is 0 (or cannot be written, as labtime_format). 10 bytes
 * suffice. */
void labtime_format_zone(int64_t us, char *buf, size_t size);

/*
 * s in utc.h's grammar narrowed by flags (utc_parse), with one difference:
 * a date or time of day written without Z or an offset is the lab's local
 * time (labtime_instant): "2026-12-05" is local midnight, "2026-12-05T21:00"
 * 21:00 on the lab's clock. With Z or an offset it is that instant
 * ("2026-12-05T21:00+07:00" is 14:00Z anywhere); "now" and ages are
 * instants. Returns 0, or -1 (*us untouched) when s is not in the grammar.
 */
int labtime_parse(const char *s, unsigned flags, int64_t now_us, int64_t *us);

#endif
