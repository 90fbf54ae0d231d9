/*
 * labtime.h - the lab's time: local dates and local days of instants.
 *
 * The lab's time is the machine's local time zone, as the C library knows
 * it (Debian's convention): the TZ environment variable when set, else
 * /etc/localtime. Dates people read (a calibration's due date) are local
 * dates, and a day ends at local midnight, not at 00:00 UTC: a due date
 * printed "2027-12-05" in Vietnam (UTC+07:00) ends at
 * 2027-12-06T00:00+07:00 = 2027-12-05T17:00:00Z.
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

#endif
