/*
 * fuzz_history.c - libFuzzer target for the calibration history CSV of
 * `metrolog interval` (core/history.c), and for the advice the tool
 * computes and prints from the rows it accepts (calc_interval_report() in
 * tools/calc.c, on core/drift.c), written to /dev/null.
 *
 * Input: the file. Checked: a result is -1 with a message naming the
 * input, or 2..HISTORY_ROWS_MAX rows with finite numbers, lower <= upper,
 * U >= 0, k >= 1 (2 when the file has no k column), strictly increasing
 * days and increasing line numbers.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calc.h"
#include "fuzz.h"
#include "history.h"

static struct history_row *rows;
static FILE *devnull;

static void check_rows(const struct history_row *r, int n)
{
	CHECK(n >= 2 && n <= HISTORY_ROWS_MAX);
	for (int i = 0; i < n; i++) {
		CHECK(isfinite(r[i].found) && isfinite(r[i].left));
		CHECK(isfinite(r[i].lower) && isfinite(r[i].upper));
		CHECK(r[i].lower <= r[i].upper && r[i].U >= 0);
		CHECK(r[i].k >= 1 && isfinite(r[i].k));
		CHECK(r[i].k_stated || r[i].k == HISTORY_K_DEFAULT);
		CHECK(r[i].line >= 2);
		if (i > 0)
			CHECK(r[i].day > r[i - 1].day &&
			      r[i].line > r[i - 1].line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct calc_interval_opts o;
	char err[2048];
	FILE *f;
	int n;

	if (rows == NULL) {
		rows = calloc(HISTORY_ROWS_MAX, sizeof(*rows));
		devnull = fopen("/dev/null", "w");
		CHECK(rows != NULL && devnull != NULL);
	}
	if (size == 0)
		return 0; /* fmemopen() refuses an empty buffer */
	f = fmemopen((void *)data, size, "r");
	CHECK(f != NULL);
	err[0] = '\0';
	n = history_read(f, "h.csv", rows, err, sizeof(err));
	fclose(f);
	if (n < 0) {
		CHECK(strncmp(err, "h.csv:", 6) == 0);
		return 0;
	}
	check_rows(rows, n);
	calc_interval_defaults(&o);
	o.unit = "mV";
	calc_interval_report(devnull, rows, n, &o, "h.csv");
	/* The other model, one side, and the uncertainty target. */
	o.degree = 2;
	o.sides = DRIFT_LOWER_ONLY;
	o.u_target = 0.5;
	calc_interval_report(devnull, rows, n, &o, "h.csv");
	return 0;
}
