/*
 * report.h - the monthly summary of each instrument, computed from the
 * database (read-only, through query.h) into a struct that any output can
 * print: `metrolog report` prints it as CSV or JSON, and report_pdf() lays
 * it out as an A4 document (draw.h) with these definitions in it.
 *
 * How each figure is computed (also in `metrolog report --help` and
 * docs/TOOL.md). The month is [from, to): local midnight of its first day
 * to local midnight of the next month's first day, in the lab's zone
 * (labtime.h); the time figures stop at min(to, now) ("the period"):
 *   polls       the readings of the instrument's channel with the most
 *               readings in the month (each poll records one reading per
 *               channel, good or not)
 *   readings, good   readings of all its channels in the month, and those
 *               of quality good; good_pct = 100 * good / readings
 *   online_pct  100 * online / known: the link state at each instant is
 *               that of the last online/offline event before it; "known"
 *               is the time of the period after the first such event ever,
 *               "online" the part of it in state online. metrologd being
 *               stopped is not an event: that time counts in the last state
 *   oot         time of the period during which at least one channel was
 *               out_of_tolerance, by the new state of its tolerance events
 *   events      events of each kind with ts in the month
 *   calibrations  records performed in the month that correct no other
 *               (a correction repeats a calibration, it is not a new one)
 *   due         the due state at the month's end (to - 1 us) of the
 *               calibration in force then
 * Percentages are NAN when their denominator is 0.
 *
 * Threading: as the struct query given.
 */
#ifndef METROLOG_REPORT_H
#define METROLOG_REPORT_H

#include <stdint.h>

#include "query.h"

struct report_row {
	/* the instrument as listed at the month's end (to - 1): calibration
	 * in force and due state then */
	struct query_instrument in;
	int64_t from_us, to_us; /* the month */
	int64_t polls, readings, good;
	double good_pct;
	int64_t known_us, online_us;
	double online_pct;
	int64_t oot_us;
	int64_t online_events, offline_events, tolerance_events, drift_events,
	        other_events;
	int calibrations;
};

/* "YYYY-MM" into the month's bounds [from, to): the instants of local
 * midnight of its first day and of the next month's first day in the lab's
 * zone (labtime_day_start; 2026-12 in Vietnam is [2026-11-30T17:00Z,
 * 2026-12-31T17:00Z)). Returns 0, -1 when s is not such a month. */
int report_parse_month(const char *s, int64_t *from_us, int64_t *to_us);

/* The figures of one instrument (in: as query_instrument() gives it at
 * to_us - 1) over [from_us, to_us), time figures up to min(to_us, now_us).
 * Returns 0, -1 on a database error (query_error()). */
int report_instrument(struct query *q, const struct query_instrument *in,
                      int64_t from_us, int64_t to_us, int64_t now_us,
                      struct report_row *out);

/* report_instrument() for every instrument and standard (owner NULL) or
 * those of one owner, by name; fn as for query.h listings. */
int report_month(struct query *q, const char *owner, int64_t from_us,
                 int64_t to_us, int64_t now_us,
                 int (*fn)(void *ctx, const struct report_row *), void *ctx);

/* What the PDF says of the report besides its rows. */
struct report_pdf_info {
	const char *month; /* "YYYY-MM", the month of from_us */
	const char *site;  /* what names the lab's data: the database */
	const char *owner; /* NULL: every owner */
	int64_t from_us, to_us, now_us; /* as for report_month() */
};

/* report_month() as an A4 PDF (landscape) at path, in Vietnamese with the
 * English below: title, month, site, generation time, owner filter, one
 * table row per instrument with every figure (header repeated on each
 * page), how each figure is computed, "page x of y" in each footer.
 * Written whole or not at all (draw.h). Returns 0, or -1 with the reason
 * in err. */
int report_pdf(struct query *q, const struct report_pdf_info *info,
               const char *path, char *err, size_t errlen);

#endif
