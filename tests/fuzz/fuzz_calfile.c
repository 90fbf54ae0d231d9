/*
 * fuzz_calfile.c - libFuzzer target for the text a calibration record is
 * made from (core/calfile.c): the fields file and the points CSV of
 * `metrolog calibrate --file F --points P`. A record it accepts is then
 * checked, decided and hashed as the tool would (calib_validate,
 * calib_evaluate, calib_hash in core/calib.c).
 *
 * Input: the first byte picks the parser (even: fields file, odd: points
 * CSV); the rest is the file. Dates go through the tool's grammar
 * (utc_parse with UTC_ABSOLUTE, as tools/calibrate.c does); a "points = P" line
 * is answered by a hook that opens nothing (P "ok": no points, anything else:
 * refused).
 *
 * Checked: a refusal names the file ("F:"); otherwise at most
 * CALIB_POINTS points and every string NUL-terminated inside its array.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calfile.h"
#include "calib.h"
#include "fuzz.h"
#include "utc.h"

static int date(const char *s, int64_t *us)
{
	return utc_parse(s, UTC_ABSOLUTE, 0, us);
}

static int points(struct calfile *c, const char *path, char *err, size_t errlen)
{
	(void)c;
	if (strcmp(path, "ok") == 0)
		return 0;
	snprintf(err, errlen, "%s: not opened", path);
	return -1;
}

static void check_strings(const struct calib_record *r)
{
	CHECK(r->npoints >= 0 && r->npoints <= CALIB_POINTS);
	CHECK(strnlen(r->instrument, CALIB_ID) < CALIB_ID);
	CHECK(strnlen(r->certificate, CALIB_ID) < CALIB_ID);
	CHECK(strnlen(r->standard, CALIB_ID) < CALIB_ID);
	CHECK(strnlen(r->technician, CALIB_TEXT) < CALIB_TEXT);
	CHECK(strnlen(r->remarks, CALIB_REMARKS) < CALIB_REMARKS);
	for (int i = 0; i < r->npoints; i++) {
		const struct calib_point *p = &r->points[i];
		CHECK(strnlen(p->quantity, CALIB_TEXT) < CALIB_TEXT);
		CHECK(strnlen(p->unit, CALIB_UNIT) < CALIB_UNIT);
		CHECK(isfinite(p->reference) && isfinite(p->U));
	}
}

/* What the tool does next with a record it read. */
static void use(struct calib_record *r)
{
	char err[512], hash[CALIB_HASH];

	if (r->rule == CALIB_RULE_GUARDED && r->guard_factor == 0)
		r->guard_factor = 1;
	if (calib_validate(r, err, sizeof(err)) < 0)
		return;
	calib_evaluate(r);
	CHECK(calib_hash(r, hash) == 0 && strlen(hash) == 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct calib_record r;
	struct calfile c = {.r = &r, .parse_date = date, .read_points = points};
	char err[CALFILE_LINE_MAX + 1024];
	FILE *f;
	int rc;

	if (size < 2)
		return 0; /* fmemopen() refuses an empty buffer */
	memset(&r, 0, sizeof(r));
	f = fmemopen((void *)(data + 1), size - 1, "r");
	CHECK(f != NULL);
	err[0] = '\0';
	if (data[0] & 1)
		rc = calfile_read_points(&r, f, "P", err, sizeof(err));
	else
		rc = calfile_read(&c, f, "F", err, sizeof(err));
	fclose(f);
	if (rc < 0) {
		CHECK(err[0] != '\0');
		CHECK(strncmp(err, data[0] & 1 ? "P:" : "F:", 2) == 0 ||
		      strstr(err, ": not opened") != NULL);
		return 0;
	}
	CHECK(rc == 0);
	check_strings(&r);
	use(&r);
	return 0;
}
