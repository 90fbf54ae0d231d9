/*
 * Unit tests of exact decisions: the decimal numbers of dec.c, and the
 * rule that a value on a limit is on it, over thousands of generated
 * (reference, limit, resolution, U, r) cases (exactgen.h), through every
 * function that decides: drift_decide_at (calib_evaluate and `metrolog
 * conformity` use it), calib_evaluate itself, and the live state
 * (drift_channel_level on drift_error's error). Each case puts an
 * indication exactly on each limit (upper and lower, tolerance and
 * acceptance limit, simple and guarded rule) and one resolution step, and
 * one step of the finest digit, beyond it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "calib.h"
#include "dec.h"
#include "drift.h"
#include "exactgen.h"

#define CASES 4000

static struct dec D(const char *s) {
	struct dec d;
	assert_int_equal(dec_parse(s, &d), 0);
	return d;
}

static void
dec_grammar(void **state)
{
	(void)state;
	struct dec d;
	char buf[64];
	static const char *bad[] = {
	        "",      "+",
	        "-",     ".",
	        "e5",    "1e",
	        "1e+",   "0x14",
	        "0X1p3", "inf",
	        "nan",   "1,5",
	        " 1",    "1 ",
	        "1..2",  "1.2.3",
	        "--1",   "1e5.0",
	        "1f",    "١",
	        "1e-",   "12345678901234567890" /* 20 significant digits */,
	        "1e401", "1e-401",
	};
	static const struct {
		const char *in, *out;
	} good[] = {
	        {"20.05", "20.05"},
	        {"-0.05", "-0.05"},
	        {"+3", "3"},
	        {".5", "0.5"},
	        {"5.", "5"},
	        {"20.0500", "20.05"},
	        {"1e3", "1000"},
	        {"1.5E-3", "0.0015"},
	        {"-0", "0"},
	        {"0.000", "0"},
	        {"100", "100"},
	        {"0e999", "0"},
	        {"123456789012345678", "123456789012345678"},
	        {"1000000000000000000000000", "1e24"},
	        {"12e30", "12e30"},
	        {"1e-40", "1e-40"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dec_parse(bad[i], &d), -1);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		d = D(good[i].in);
		dec_format(&d, buf, sizeof(buf));
		assert_string_equal(buf, good[i].out);
	}
}

static void dec_arithmetic(void **state)
{
	(void)state;
	struct dec a = D("20.05"), b = D("20"), c, big = D("1e300"),
	           tiny = D("1e-300");
	char buf[64];

	/* the issue's example: exact where binary gives 0.0500...071 */
	assert_int_equal(dec_sub(&a, &b, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "0.05");
	assert_true(20.05 - 20 > 0.05);
	assert_int_equal(dec_cmp(&c, &(struct dec){5, -2}), 0);
	/* 0.7 + 0.1 is 0.8, not 0.7999999999999999 */
	a = D("0.7");
	b = D("0.1");
	assert_int_equal(dec_add(&a, &b, &c), 0);
	assert_int_equal(dec_cmp(&c, &(struct dec){8, -1}), 0);
	a = D("0.83");
	b = D("0.012");
	assert_int_equal(dec_mul(&a, &b, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "0.00996");
	/* too far apart to subtract exactly: refused, never rounded */
	assert_int_equal(dec_sub(&big, &tiny, &c), -1);
	a = D("999999999999999999");
	assert_int_equal(dec_mul(&a, &a, &c), -1);
	/* comparison is exact whatever the magnitudes */
	assert_int_equal(dec_cmp(&big, &tiny), 1);
	assert_int_equal(dec_cmp(&tiny, &big), -1);
	a = D("-1e300");
	assert_int_equal(dec_cmp(&a, &tiny), -1);
	a = D("1000000000000000000");
	b = D("999999999999999999");
	assert_int_equal(dec_cmp(&a, &b), 1);
	a = D("9999999999999999990");
	b = D("999999999999999999e1");
	assert_int_equal(dec_cmp(&a, &b), 0);
	/* from a double: the shortest decimal that reads back */
	assert_int_equal(dec_from_double(20.05, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "20.05");
	assert_int_equal(dec_from_double(0.1 + 0.2, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "0.30000000000000004");
	assert_int_equal(dec_from_double(NAN, &c), -1);
	assert_int_equal(dec_from_double(INFINITY, &c), -1);
	assert_int_equal(dec_from_double_sig((double)20.05f, 7, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "20.05");
	assert_true(dec_to_double(&c) == 20.05);
	/* quantize */
	a = D("20.0549");
	b = D("0.01");
	assert_int_equal(dec_quantize(&a, &b, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "20.05");
	a = D("-20.055");
	assert_int_equal(dec_quantize(&a, &b, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "-20.06");
	b = D("0.25");
	a = D("1.126");
	assert_int_equal(dec_quantize(&a, &b, &c), 0);
	dec_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "1.25");
	assert_int_equal(dec_quantize(&tiny, &b, &c), 0);
	assert_int_equal(c.m, 0);
	b = D("0");
	assert_int_equal(dec_quantize(&a, &b, &c), -1);
}

/* ---- generated cases ---------------------------------------------------- */

struct tally {
	long decided, binary_wrong;
};

/* One indication (units) of case c under rule r100 (0: simple) through
 * drift_decide_at and calib_evaluate; want the decision. */
static void decide_one(const struct xcase *c, int64_t ind, int r100, int want,
                       struct tally *t)
{
	struct drift_verdict v;
	struct calib_record *rec = calloc(1, sizeof(*rec));
	double ref = xg_num(c->ref, c->D), L = xg_num(c->limit, c->D);
	double U = xg_num(c->U, c->D), r = xg_num(r100, 2);
	double x = xg_num(ind, c->D);
	char ti[40], tr[40], tl[40];

	assert_non_null(rec);
	if (drift_decide_at(x, ref, -L, L, U, r, &v) != 0 ||
	    (int)v.decision != want)
		fail_msg("indication %s, reference %s, limits +-%s, r %d/100: "
		         "decision %d, want %d",
		         xg_text(ind, c->D, ti, sizeof(ti)),
		         xg_text(c->ref, c->D, tr, sizeof(tr)),
		         xg_text(c->limit, c->D, tl, sizeof(tl)), r100,
		         (int)v.decision, want);
	/* the same through a calibration record */
	rec->rule = r100 > 0 ? CALIB_RULE_GUARDED : CALIB_RULE_SIMPLE;
	rec->guard_factor = r;
	rec->npoints = 1;
	rec->points[0] = (struct calib_point){.reference = ref,
	                                      .as_found = x,
	                                      .as_left = NAN,
	                                      .lower = -L,
	                                      .upper = L,
	                                      .U = U,
	                                      .k = 2};
	assert_int_equal(calib_evaluate(rec), 0);
	assert_int_equal(rec->points[0].found, want);
	assert_int_equal(rec->result_found, want);
	free(rec);
	/* what the binary rule of before would have said */
	struct drift_verdict b;
	double e = x - ref, w = r * U;
	b.decision = e >= -L + w && e <= L - w   ? DRIFT_PASS
	             : e >= -L && e <= L         ? DRIFT_CONDITIONAL_PASS
	             : e >= -L - w && e <= L + w ? DRIFT_CONDITIONAL_FAIL
	                                         : DRIFT_FAIL;
	t->decided++;
	t->binary_wrong += (int)b.decision != want;
}

/* The live level of an indication: drift_error, then the state machine's
 * thresholds with warn_fraction 1 (warning only in the guard band). */
static void live_one(const struct xcase *c, int64_t ind, int r100,
                     enum drift_state want)
{
	double L = xg_num(c->limit, c->D);
	struct drift_channel_cfg cfg = {
	        .lower = -L,
	        .upper = L,
	        .guard = drift_guard_band(xg_num(r100, 2), xg_num(c->U, c->D)),
	        .warn_fraction = 1,
	        .hysteresis = 0.05,
	        .consecutive = 1};
	double e = drift_error(xg_num(ind, c->D), xg_num(c->ref, c->D));
	char a[40], b[40];

	if (drift_channel_level(&cfg, e) != want)
		fail_msg("live: indication %s, reference %s: level %d, want %d",
		         xg_text(ind, c->D, a, sizeof(a)),
		         xg_text(c->ref, c->D, b, sizeof(b)),
		         (int)drift_channel_level(&cfg, e), (int)want);
}

/* Both sides of one case: sign +1 the upper limit, -1 the lower. */
static void check_side(const struct xcase *c, int sign, struct tally *t)
{
	int64_t L = sign * c->limit, w = sign * c->w, s = sign * c->step;
	int64_t one = sign, ref = c->ref;

	/* simple acceptance: on the limit passes, one step beyond fails */
	decide_one(c, ref + L, 0, DRIFT_PASS, t);
	decide_one(c, ref + L + s, 0, DRIFT_FAIL, t);
	decide_one(c, ref + L + one, 0, DRIFT_FAIL, t);
	live_one(c, ref + L, 0, DRIFT_IN_TOLERANCE);
	live_one(c, ref + L + one, 0, DRIFT_OUT_OF_TOLERANCE);
	if (c->w == 0)
		return;
	/* guarded: every zone boundary is inside its zone */
	decide_one(c, ref + L - w, c->r100, DRIFT_PASS, t);
	decide_one(c, ref + L - w + one, c->r100, DRIFT_CONDITIONAL_PASS, t);
	decide_one(c, ref + L, c->r100, DRIFT_CONDITIONAL_PASS, t);
	decide_one(c, ref + L + one, c->r100, DRIFT_CONDITIONAL_FAIL, t);
	decide_one(c, ref + L + w, c->r100, DRIFT_CONDITIONAL_FAIL, t);
	decide_one(c, ref + L + w + one, c->r100, DRIFT_FAIL, t);
	if (c->w >= c->step)
		decide_one(c, ref + L - w + s, c->r100, DRIFT_CONDITIONAL_PASS,
		           t);
	live_one(c, ref + L - w, c->r100, DRIFT_IN_TOLERANCE);
	live_one(c, ref + L - w + one, c->r100, DRIFT_WARNING);
	live_one(c, ref + L, c->r100, DRIFT_WARNING);
	live_one(c, ref + L + one, c->r100, DRIFT_OUT_OF_TOLERANCE);
}

static void generated_cases(void **state)
{
	(void)state;
	struct tally t = {0};

	for (int i = 0; i < CASES; i++) {
		struct xcase c = xg_case();
		check_side(&c, 1, &t);
		check_side(&c, -1, &t);
	}
	print_message("%ld decisions; the binary rule of before got %ld "
	              "wrong (%.1f %%)\n",
	              t.decided, t.binary_wrong,
	              100.0 * (double)t.binary_wrong / (double)t.decided);
	assert_true(t.decided > 10 * CASES);
	/* the cases are ones binary arithmetic gets wrong: the test could
	 * fail before this rule */
	assert_true(t.binary_wrong > t.decided / 100);
}

/* The issue's example: 20.05 against 20 +- 0.05 is on the limit. */
static void issue_example(void **state)
{
	(void)state;
	struct drift_verdict v;
	struct drift_channel_cfg cfg = {.lower = -0.05,
	                                .upper = 0.05,
	                                .warn_fraction = 1,
	                                .consecutive = 1};

	assert_int_equal(drift_decide_at(20.05, 20, -0.05, 0.05, 0.01, 0, &v),
	                 0);
	assert_int_equal(v.decision, DRIFT_PASS);
	assert_true(v.error == 0.05);
	assert_int_equal(drift_decide_at(19.95, 20, -0.05, 0.05, 0.01, 0, &v),
	                 0);
	assert_int_equal(v.decision, DRIFT_PASS);
	assert_int_equal(drift_decide_at(20.06, 20, -0.05, 0.05, 0.01, 0, &v),
	                 0);
	assert_int_equal(v.decision, DRIFT_FAIL);
	assert_int_equal(drift_channel_level(&cfg, drift_error(20.05, 20)),
	                 DRIFT_IN_TOLERANCE);
	/* 0.25 % of 20 is 0.05 exactly */
	struct drift_tol t = {.form = DRIFT_TOL_PCT_READING, .pct = 0.25};
	double lo, up;
	assert_int_equal(drift_tol_limits(&t, 20, &lo, &up), 0);
	assert_true(up == 0.05 && lo == -0.05);
	assert_true(drift_guard_band(0.83, 0.012) == 0.00996);
	/* refused, not rounded: numbers too far apart to subtract */
	assert_int_equal(drift_decide_at(1e300, 1e-300, -1, 1, 0, 0, &v), -1);
	assert_int_equal(drift_decide_at(INFINITY, 0, -1, 1, 0, 0, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(dec_grammar),
	        cmocka_unit_test(dec_arithmetic),
	        cmocka_unit_test(generated_cases),
	        cmocka_unit_test(issue_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
