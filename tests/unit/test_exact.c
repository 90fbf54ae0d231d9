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
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the fast paths give what the printf/strtod path gives --------------- */

/* The conversions as dec.c made them before its fast paths: the
 * references the fast paths are held to. */
static void ref_from_double(double v, struct dec *d)
{
	char buf[40];

	for (int p = 15; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (strtod(buf, NULL) == v || p == 17)
			break;
	}
	assert_int_equal(dec_parse(buf, d), 0);
}

static void ref_from_double_sig(double v, int sig, struct dec *d)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%.*e", sig - 1, v);
	assert_int_equal(dec_parse(buf, d), 0);
}

static double ref_to_double(const struct dec *d)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%" PRId64 "e%" PRId32, d->m, d->e);
	return strtod(buf, NULL);
}

static void same_dec(const struct dec *a, const struct dec *b, double v,
                     const char *what)
{
	if (a->m != b->m || a->e != b->e)
		fail_msg("%s of %.17g: %" PRId64 "e%" PRId32 ", want %" PRId64
		         "e%" PRId32,
		         what, v, a->m, a->e, b->m, b->e);
}

/* v and its neighbours through dec_from_double and dec_from_double_sig
 * (7 digits, as for float32 channels, and another count), against the
 * references; the decimal back through dec_to_double. */
static void convert_one(double v, int sig)
{
	double near[3] = {v, nextafter(v, INFINITY), nextafter(v, -INFINITY)};
	struct dec a, b;

	for (int i = 0; i < 3; i++) {
		double x = near[i];
		if (!isfinite(x))
			continue;
		assert_int_equal(dec_from_double(x, &a), 0);
		ref_from_double(x, &b);
		same_dec(&a, &b, x, "dec_from_double");
		if (dec_to_double(&a) != x || ref_to_double(&a) != x)
			fail_msg("dec_to_double: %.17g does not read back", x);
		for (int k = 0; k < 2; k++) {
			int n = k == 0 ? 7 : sig;
			assert_int_equal(dec_from_double_sig(x, n, &a), 0);
			ref_from_double_sig(x, n, &b);
			same_dec(&a, &b, x, n == 7 ? "sig 7" : "sig n");
			if (dec_to_double(&a) != ref_to_double(&a))
				fail_msg("dec_to_double of the %d digits of "
				         "%.17g",
				         n, x);
		}
	}
}

#define CONVERSIONS 20000

static void fast_conversions(void **state)
{
	(void)state;
	char buf[64];

	for (long i = 0; i < CONVERSIONS; i++) {
		int sig = (int)xg_range(1, 17), k = (int)xg_range(0, 25);
		int digits = (int)xg_range(1, 17);
		int64_t n = (int64_t)(xg_next() % 100000000000000000ULL);
		uint64_t bits = xg_next();
		double v;

		/* a short decimal as typed: n's first digits x 10^-k */
		while (n >= (int64_t)pow(10, digits))
			n /= 10;
		snprintf(buf, sizeof(buf), "%s%" PRId64 "e-%d",
		         i % 2 ? "-" : "", n, k);
		convert_one(strtod(buf, NULL), sig);
		/* a float32 reading, widened; and a float32 of a short one */
		convert_one((double)(float)strtod(buf, NULL), sig);
		float f;
		uint32_t fb = (uint32_t)bits;
		memcpy(&f, &fb, sizeof(f));
		convert_one((double)f, sig);
		/* any double at all */
		memcpy(&v, &bits, sizeof(v));
		convert_one(v, sig);
		/* decimal ties at the 7th digit (8 digits ending in 5):
		 * the double is a hair above or below the tie */
		snprintf(buf, sizeof(buf), "%" PRId64 "5e%d",
		         xg_range(1000000, 9999999), (int)xg_range(-30, 20));
		convert_one(strtod(buf, NULL), sig);
		/* binary ties at the 7th digit: n + 0.5 (n of 7 digits) x 2^j
		 */
		v = ldexp((double)xg_range(1000000, 9999999) + 0.5,
		          (int)xg_range(-30, 30));
		convert_one(v, sig);
		/* at the edge of a decade */
		convert_one(pow(10, (double)xg_range(-30, 30)), sig);
		convert_one(9999999.5 * pow(10, (double)xg_range(-20, 20)),
		            sig);
	}
	/* dec_to_double about the edges of its fast path: |m| 2^53, e 22 */
	for (long i = 0; i < CONVERSIONS; i++) {
		struct dec d = {(int64_t)(xg_next() >> xg_range(1, 63)),
		                (int32_t)xg_range(-30, 30)};
		if (i % 3 == 0)
			d.m = (int64_t)(1ULL << 53) + xg_range(-3, 3);
		if (i % 2)
			d.m = -d.m;
		if (dec_to_double(&d) != ref_to_double(&d))
			fail_msg("dec_to_double(%" PRId64 "e%" PRId32 ")", d.m,
			         d.e);
	}
}

/* ---- the live state's binary shortcut decides as the decimals do -------- */

struct shortcut_tally {
	long compared;
	long levels[DRIFT_STATES];
};

/* The level of e on c, both ways, thresholds as is and moved in. */
static void level_both(const struct drift_channel *c, double e,
                       struct shortcut_tally *t)
{
	for (int h = 0; h < 2; h++) {
		enum drift_state fast = drift_channel_level_at(c, e, h, false);
		enum drift_state exact = drift_channel_level_at(c, e, h, true);
		if (fast != exact)
			fail_msg("shortcut: e %.17g on [%.17g, %.17g], guard "
			         "%.17g, warn %.17g, hysteresis %.17g, h %d: "
			         "%d, want %d",
			         e, c->cfg.lower, c->cfg.upper, c->cfg.guard,
			         c->cfg.warn_fraction, c->cfg.hysteresis, h,
			         (int)fast, (int)exact);
		t->compared++;
		t->levels[exact]++;
	}
}

/* A decimal of `dig` random digits x 10^q, as a double. */
static double xg_decimal(int dig, int q)
{
	char buf[64];
	int64_t n = (int64_t)(xg_next() % (uint64_t)pow(10, dig));

	snprintf(buf, sizeof(buf), "%" PRId64 "e%d", n, q);
	return strtod(buf, NULL);
}

/* A generated channel: limits of a few digits at a random scale, both
 * symmetric (centre 0) and not, guard, warning and hysteresis fractions
 * among the usual and odd ones. */
static void shortcut_channel(struct drift_channel *c)
{
	static const double warn[] = {0.8, 1, 0.5, 0.05, 0.9, 0.33};
	static const double hyst[] = {0.05, 0, 0.1, 0.5, 0.3, 0.05};
	int q = (int)xg_range(-12, 12), dig = (int)xg_range(1, 6);
	double a = xg_decimal(dig, q), b = xg_decimal(dig, q);
	struct drift_channel_cfg cfg = {.consecutive = 1};

	switch (xg_range(0, 2)) {
	case 0: /* +-L */
		cfg.lower = -a, cfg.upper = a;
		break;
	case 1: /* about a nominal: both limits one side of 0 */
		cfg.lower = fmin(a, b), cfg.upper = fmax(a, b);
		break;
	default: /* asymmetric about 0 */
		cfg.lower = -b, cfg.upper = a;
		break;
	}
	if (xg_range(0, 1))
		cfg.guard = drift_guard_band(xg_num(xg_range(0, 100), 2),
		                             xg_decimal(dig, q - 1));
	cfg.warn_fraction = xg_range(0, 6) < 6 ? warn[xg_range(0, 5)]
	                                       : xg_num(xg_range(1, 100), 2);
	cfg.hysteresis = hyst[xg_range(0, 5)];
	if (drift_channel_init(c, &cfg) < 0) /* lower = upper = 0 ... */
		*c = (struct drift_channel){0};
}

/* Readings of one channel: each threshold (as the nearest double and one
 * and two ulps either side, and at a few margins of it), errors as
 * drift_error makes them from short decimals, and anywhere. */
static void shortcut_errors(const struct drift_channel *c,
                            struct shortcut_tally *t)
{
	const struct drift_exact *x = &c->exact;
	double lo = c->cfg.lower, up = c->cfg.upper, span = up - lo;
	double m = x->slack;

	for (int s = 0; s < 2; s++)
		for (int h = 0; h < 2; h++)
			for (int k = 0; k < 4; k++) {
				double b = k < 3 ? x->t[s][h][k] : x->centre_d;
				double far[] = {m, -m, 2 * m, -2 * m, 16 * m};
				double v = b;
				level_both(c, v, t);
				for (int j = 0; j < 2; j++) {
					v = nextafter(v,
					              j ? INFINITY : -INFINITY);
					level_both(c, v, t);
					level_both(c,
					           nextafter(v, j ? INFINITY
					                          : -INFINITY),
					           t);
				}
				for (int j = 0; j < 5; j++)
					level_both(c, b + far[j], t);
			}
	for (int i = 0; i < 40; i++) {
		double ref =
		        xg_decimal((int)xg_range(1, 9), (int)xg_range(-6, 3));
		double ind = ref + lo - span / 2 +
		             2 * span * (double)(xg_next() >> 11) * 0x1p-53;
		struct dec d;
		/* the indication at the resolution of the limits' digits */
		if (dec_from_double_sig(ind, (int)xg_range(1, 12), &d) == 0)
			ind = dec_to_double(&d);
		level_both(c, drift_error(ind, ref), t);
	}
	level_both(c, 0, t);
	level_both(c, -0.0, t);
	level_both(c, 1e300, t);
	level_both(c, -1e-300, t);
	level_both(c, 5e-324, t);
}

#define CHANNELS 4000

static void shortcut_identical(void **state)
{
	(void)state;
	struct shortcut_tally t = {0};
	struct drift_channel c;

	for (int i = 0; i < CHANNELS; i++) {
		shortcut_channel(&c);
		if (c.cfg.consecutive == 0)
			continue;
		shortcut_errors(&c, &t);
	}
	/* and the exactgen cases: errors on each limit, one step beyond */
	for (int i = 0; i < CASES; i++) {
		struct xcase k = xg_case();
		double L = xg_num(k.limit, k.D);
		struct drift_channel_cfg cfg = {
		        .lower = -L,
		        .upper = L,
		        .guard = drift_guard_band(xg_num(k.r100, 2),
		                                  xg_num(k.U, k.D)),
		        .consecutive = 1};
		assert_int_equal(drift_channel_init(&c, &cfg), 0);
		for (int sg = -1; sg <= 1; sg += 2)
			for (int64_t d = -2; d <= 2; d++) {
				int64_t at[] = {sg * k.limit,
				                sg * (k.limit - k.w)};
				for (int j = 0; j < 2; j++)
					level_both(
					        &c,
					        drift_error(
					                xg_num(k.ref + at[j] +
					                               d,
					                       k.D),
					                xg_num(k.ref, k.D)),
					        &t);
			}
	}
	print_message("%ld levels compared (in tolerance %ld, warning %ld, "
	              "out %ld)\n",
	              t.compared, t.levels[DRIFT_IN_TOLERANCE],
	              t.levels[DRIFT_WARNING],
	              t.levels[DRIFT_OUT_OF_TOLERANCE]);
	assert_true(t.compared > 1000000);
	for (int s = DRIFT_IN_TOLERANCE; s < DRIFT_STATES; s++)
		assert_true(t.levels[s] > t.compared / 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(dec_grammar),
	        cmocka_unit_test(dec_arithmetic),
	        cmocka_unit_test(generated_cases),
	        cmocka_unit_test(issue_example),
	        cmocka_unit_test(fast_conversions),
	        cmocka_unit_test(shortcut_identical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
