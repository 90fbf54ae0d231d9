/*
 * calfile.h - the fields of a calibration record as text, the input of
 * `metrolog calibrate` (tools/calibrate.c, docs/TOOL.md):
 *
 *   a field     by its long option name and its value, from the command
 *               line or a line of a fields file (calfile_field)
 *   fields file one "name = value" a line, '#' comments and blank lines
 *               skipped, spaces around name and value and one pair of
 *               double quotes around the value removed; "point" repeats,
 *               "points" names a points CSV (calfile_read)
 *   points CSV  one point a line, "quantity,unit,reference,as_found,
 *               as_left,lower,upper,U,k" (as_found or as_left may be
 *               empty); a line starting "quantity," is the header and is
 *               skipped, as are '#' comments and blank lines
 *               (calfile_read_points)
 *
 *   field              value
 *   instrument, certificate, technician, standard, lab, customer, method,
 *   conditions, authorised, remarks, lab-address, accreditation,
 *   customer-address, customer-contact, customer-id, location,
 *   condition, specification, deviations, standard-reason, amendment
 *                      text, shorter than its array in calib.h less one
 *   point              a point as in the points CSV
 *   points             a points CSV's path, read by the caller's hook
 *   date, received     YYYY-MM-DD or YYYY-MM-DDTHH:MM (the lab's time, or
 *                      with Z or an offset), read by the caller's hook:
 *                      when calibrated, when received
 *   rule               simple or guarded
 *   guard-factor       a number >= 0
 *   interval           whole days, 1..3650
 *   supersedes         a record id, a whole number >= 1
 *   min-tur            a number > 0: the policy's minimum TUR (calib.h)
 *   max-risk           a percentage > 0 and <= 50: its maximum specific
 *                      risk (stored as a fraction)
 *   no-statement       record or refuse: what store_cal_append does with
 *                      a point that gets no statement
 *
 * Numbers are plain decimals kept exactly as typed (text_number: no
 * "0x14", inf, nan or spaces); text fields, quantities and units are
 * printable UTF-8 without control characters (text_printable: no tab,
 * newline or NUL). Lines hold at most CALFILE_LINE_MAX - 2 characters
 * and no NUL byte (refused with its line, never cut). Parsing stops at the
 * first problem, reported as "name:line: what is wrong" (the line of the
 * file it is on) for the caller to print. Files come as streams the caller
 * opened; a "points" field and a date go through the caller's hooks, so
 * this file opens nothing and knows no clock. Any thread.
 */
#ifndef METROLOG_CALFILE_H
#define METROLOG_CALFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "calib.h"

#define CALFILE_LINE_MAX 4096 /* bytes of a line with "\n" and NUL */

struct calfile {
	struct calib_record *r; /* what the fields fill in (the caller's) */
	bool have_date;         /* set when a date was given */
	/* A date's value into UTC microseconds: 0, or -1 when it is not
	 * one. NULL: every date is refused. */
	int (*parse_date)(const char *s, int64_t *us);
	/* Read the points CSV at path into c->r (calfile_read_points() on
	 * the opened file). 0, or -1 with the whole message in err. NULL:
	 * every "points" field is refused. */
	int (*read_points)(struct calfile *c, const char *path, char *err,
	                   size_t errlen);
	void *ctx; /* the caller's, for the hooks */
};

/* A point "quantity,unit,reference,as_found,as_left,lower,upper,U,k" into
 * *p (as_found, as_left: NAN when empty). Returns 0, or -1 with what is
 * wrong in why ("lower 'x' is not a number"). */
int calfile_point(const char *text, struct calib_point *p, char *why,
                  size_t size);

/*
 * Set the field name (a long option name, table above) of c->r to value.
 * at says where it came from: "file:line", or NULL for the command line.
 * Returns 0, or -1 with the message in err; messages name at, or (NULL)
 * "argument" or the option ("--lab: too long (at most 254 bytes)").
 */
int calfile_field(struct calfile *c, const char *name, const char *value,
                  const char *at, char *err, size_t errlen);

/* Read a fields file from f (named name in messages) into c. Returns 0,
 * or -1 with "name:line: what is wrong" in err. f is not closed. */
int calfile_read(struct calfile *c, FILE *f, const char *name, char *err,
                 size_t errlen);

/* Read a points CSV from f (named name) and append its points to r.
 * Returns 0, or -1 with "name:line: what is wrong" in err. */
int calfile_read_points(struct calib_record *r, FILE *f, const char *name,
                        char *err, size_t errlen);

#endif
