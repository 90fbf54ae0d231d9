/*
 * Unit tests of drift: every tolerance form and decision rule at its
 * boundaries, the probability of conformance and the t quantile against
 * known values, EWMA and CUSUM step by step against hand computation, the
 * channel state machine with noisy input (no flapping), the trend on
 * synthetic data with known slope and noise at realistic epoch timestamps,
 * and the interval methods against worked numbers.
 *
 * Boundary tests use values exactly representable in binary (0.5, 0.125,
 * 0.375) so "exactly at the limit" is exact; nextafter() gives the value one
 * ulp beyond. Reference values marked "mpmath" were checked with mpmath at
 * 30 digits (normal and t distributions, binomial sums, a root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "drift.h"

#define EPOCH_US INT64_C(1800000000000000) /* 2027-01-15, 1.8e15 us */
#define HOUR_US  INT64_C(3600000000)
#define DAY_US   (24 * HOUR_US)

static void near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (tolerance %g)", got, want,
		         tol);
}

static void near_rel(double got, double want, double rel)
{
	near(got, want, fabs(want) * rel);
}

/* ---- Tolerance forms ------------------------------------------------- */

static void limits(const struct drift_tol *t, double reading, double lo,
                   double up)
{
	double l = 99, u = 99;

	assert_int_equal(drift_tol_limits(t, reading, &l, &u), 0);
	near(l, lo, 1e-15);
	near(u, up, 1e-15);
}

static void tolerance_forms(void **state)
{
	(void)state;
	struct drift_tol t = {.form = DRIFT_TOL_ABS, .abs = 0.5};

	limits(&t, 123.4, -0.5, 0.5);
	limits(&t, -7, -0.5, 0.5);

	/* 0.5 % of reading: 0.005 * 200 = 1.0, also for -200 (|reading|). */
	t = (struct drift_tol){.form = DRIFT_TOL_PCT_READING, .pct = 0.5};
	limits(&t, 200, -1, 1);
	limits(&t, -200, -1, 1);
	limits(&t, 0, 0, 0);

	/* 0.25 % of a 400 kPa span: 0.0025 * 400 = 1.0 at any reading. */
	t = (struct drift_tol){
	        .form = DRIFT_TOL_PCT_SPAN, .pct = 0.25, .span = 400};
	limits(&t, 3, -1, 1);

	/* DMM, 10 ppm of reading + 2 ppm of the 10 V range at 5 V:
	 * (10*5 + 2*10) * 1e-6 = 70e-6 V. */
	t = (struct drift_tol){.form = DRIFT_TOL_PPM,
	                       .ppm_reading = 10,
	                       .ppm_range = 2,
	                       .range = 10};
	limits(&t, 5, -70e-6, 70e-6);
	limits(&t, -5, -70e-6, 70e-6);

	/* +-(0.5 % of reading + 2 digits), resolution 0.01 at 100:
	 * 0.005 * 100 + 2 * 0.01 = 0.52. */
	t = (struct drift_tol){.form = DRIFT_TOL_PCT_DIGITS,
	                       .pct = 0.5,
	                       .digits = 2,
	                       .resolution = 0.01};
	limits(&t, 100, -0.52, 0.52);

	t = (struct drift_tol){
	        .form = DRIFT_TOL_ASYM, .lower = -0.25, .upper = 0.5};
	limits(&t, 42, -0.25, 0.5);
}

static void tolerance_bad(void **state)
{
	(void)state;
	double l = 7, u = 8;
	struct drift_tol t = {.form = DRIFT_TOL_ABS, .abs = -1};

	assert_int_equal(drift_tol_limits(&t, 1, &l, &u), -1);
	t = (struct drift_tol){.form = DRIFT_TOL_ASYM, .lower = 1, .upper = 0};
	assert_int_equal(drift_tol_limits(&t, 1, &l, &u), -1);
	t = (struct drift_tol){.form = DRIFT_TOL_PCT_SPAN, .pct = NAN};
	assert_int_equal(drift_tol_limits(&t, 1, &l, &u), -1);
	t = (struct drift_tol){.form = (enum drift_tol_form)99};
	assert_int_equal(drift_tol_limits(&t, 1, &l, &u), -1);
	t = (struct drift_tol){.form = DRIFT_TOL_ABS, .abs = 1};
	assert_int_equal(drift_tol_limits(&t, NAN, &l, &u), -1);
	assert_int_equal(drift_tol_limits(NULL, 1, &l, &u), -1);
	near(l, 7, 0); /* untouched */
	near(u, 8, 0);
}

/* ---- Decision rules -------------------------------------------------- */

static enum drift_decision decide(double e, double lo, double up, double U,
                                  double r)
{
	struct drift_verdict v;

	assert_int_equal(drift_decide(e, lo, up, U, r, &v), 0);
	return v.decision;
}

static void decision_simple(void **state)
{
	(void)state;
	/* Limits +-0.5, U = 0.125, r = 0: w = 0, pass/fail only. */
	assert_int_equal(decide(0, -0.5, 0.5, 0.125, 0), DRIFT_PASS);
	assert_int_equal(decide(0.5, -0.5, 0.5, 0.125, 0), DRIFT_PASS);
	assert_int_equal(decide(-0.5, -0.5, 0.5, 0.125, 0), DRIFT_PASS);
	assert_int_equal(decide(nextafter(0.5, 1), -0.5, 0.5, 0.125, 0),
	                 DRIFT_FAIL);
	assert_int_equal(decide(nextafter(-0.5, -1), -0.5, 0.5, 0.125, 0),
	                 DRIFT_FAIL);
	assert_int_equal(decide(0.6, -0.5, 0.5, 0.125, 0), DRIFT_FAIL);
}

static void decision_guarded(void **state)
{
	(void)state;
	struct drift_verdict v;

	/* r = 1, U = 0.125: w = 0.125; acceptance [-0.375, 0.375];
	 * conditional fail up to 0.5 + 0.125 = 0.625. */
	assert_int_equal(drift_decide(0, -0.5, 0.5, 0.125, 1, &v), 0);
	near(v.guard, 0.125, 0);
	near(v.accept_lower, -0.375, 0);
	near(v.accept_upper, 0.375, 0);
	assert_int_equal(decide(0.375, -0.5, 0.5, 0.125, 1), DRIFT_PASS);
	assert_int_equal(decide(-0.375, -0.5, 0.5, 0.125, 1), DRIFT_PASS);
	assert_int_equal(decide(nextafter(0.375, 1), -0.5, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_PASS);
	assert_int_equal(decide(nextafter(-0.375, -1), -0.5, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_PASS);
	assert_int_equal(decide(0.5, -0.5, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_PASS);
	assert_int_equal(decide(nextafter(0.5, 1), -0.5, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_FAIL);
	assert_int_equal(decide(0.625, -0.5, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_FAIL);
	assert_int_equal(decide(-0.625, -0.5, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_FAIL);
	assert_int_equal(decide(nextafter(0.625, 1), -0.5, 0.5, 0.125, 1),
	                 DRIFT_FAIL);
	assert_int_equal(decide(nextafter(-0.625, -1), -0.5, 0.5, 0.125, 1),
	                 DRIFT_FAIL);

	/* r = 0.5: w = 0.0625, acceptance limit 0.4375. */
	assert_int_equal(decide(0.4375, -0.5, 0.5, 0.125, 0.5), DRIFT_PASS);
	assert_int_equal(decide(0.4453125, -0.5, 0.5, 0.125, 0.5),
	                 DRIFT_CONDITIONAL_PASS);

	/* Asymmetric (-0.25, 0.5), w = 0.125: acceptance [-0.125, 0.375]. */
	assert_int_equal(decide(-0.125, -0.25, 0.5, 0.125, 1), DRIFT_PASS);
	assert_int_equal(decide(-0.1875, -0.25, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_PASS);
	assert_int_equal(decide(-0.375, -0.25, 0.5, 0.125, 1),
	                 DRIFT_CONDITIONAL_FAIL);
	assert_int_equal(decide(-0.5, -0.25, 0.5, 0.125, 1), DRIFT_FAIL);

	/* Guard band wider than half the tolerance: nothing can pass. */
	assert_int_equal(decide(0, -0.5, 0.5, 0.75, 1), DRIFT_CONDITIONAL_PASS);

	assert_int_equal(drift_decide(0, -0.5, 0.5, -1, 1, &v), -1);
	assert_int_equal(drift_decide(0, -0.5, 0.5, 1, -1, &v), -1);
	assert_int_equal(drift_decide(NAN, -0.5, 0.5, 1, 1, &v), -1);
	assert_int_equal(drift_decide(0, 0.5, -0.5, 1, 1, &v), -1);
	assert_string_equal(drift_decision_name(DRIFT_CONDITIONAL_FAIL),
	                    "conditional fail");
}

/* ---- Distributions and conformance ---------------------------------- */

static void quantiles(void **state)
{
	(void)state;
	near(drift_phi(0), 0.5, 0);
	near(drift_phi_inv(0.95), 1.6448536269514722, 1e-13);
	near(drift_phi_inv(0.025), -1.959963984540054, 1e-13);
	assert_true(isnan(drift_phi_inv(1)));
	/* Student t (mpmath): */
	near(drift_t_quantile(0.95, 1), 6.313751514675037, 1e-11);
	near(drift_t_quantile(0.95, 2), 2.919985580353724, 1e-11);
	near(drift_t_quantile(0.975, 10), 2.228138851986274, 1e-11);
	near(drift_t_quantile(0.95, 30), 1.697260886593957, 1e-11);
	near(drift_t_quantile(0.95, 500), 1.647906853929511, 1e-10);
	near(drift_t_quantile(0.975, 2000), 1.961150826099438, 1e-9);
	near(drift_t_quantile(0.05, 2), -2.919985580353724, 1e-11);
	near(drift_t_quantile(0.5, 7), 0, 0);
	assert_true(isnan(drift_t_quantile(0.95, 0)));
}

static void conformance(void **state)
{
	(void)state;
	/* At the limit: half the distribution is outside. */
	near(drift_conformance(0.5, 0.1, -INFINITY, 0.5), 0.5, 1e-15);
	near(drift_conformance(0.5, 0.1, -1e9, 0.5), 0.5, 1e-15);
	/* One-sided dominated: y = TU - 1.645u, TL 20u below:
	 * Phi(1.645) = 0.950015094460879 (mpmath), Phi(-18.355) ~ 1e-75. */
	near(drift_conformance(1 - 1.645 * 0.01, 0.01, 0.8, 1),
	     0.950015094460879, 1e-12);
	/* Two-sided: +-1.959963984540054 u around y: 0.95. */
	near(drift_conformance(0, 1, -1.959963984540054, 1.959963984540054),
	     0.95, 1e-14);
	/* Tails keep precision: Q(8) - Q(9), and 2 Q(10) = erfc(10/sqrt 2)
	 * (mpmath). */
	near_rel(drift_conformance(0, 1, 8, 9), 6.219831985865830e-16, 1e-9);
	near_rel(drift_nonconformance(0, 1, -10, 10), 1.523970604832105e-23,
	         1e-9);
	near(drift_nonconformance(0.5, 0.1, -INFINITY, 0.5), 0.5, 1e-15);
	assert_true(isnan(drift_conformance(0, 0, -1, 1)));
	assert_true(isnan(drift_conformance(0, 1, 1, -1)));

	/* Worst-case false accept at the acceptance limit, u = 1,
	 * limits +-10: w = U = 2u -> Q(2) = 0.0227501319481792;
	 * w = 0.83 U = 1.66u -> Q(1.66) = 0.0484572262667228 (mpmath);
	 * the far limit adds Phi(-18) ~ 1e-72. */
	near(drift_worst_pfa(-10, 10, 2, 1), 0.0227501319481792, 1e-14);
	near(drift_worst_pfa(-10, 10, 1.66, 1), 0.0484572262667228, 1e-14);
	/* Simple acceptance: at the limit itself, 0.5. */
	near(drift_worst_pfa(-10, 10, 0, 1), 0.5, 1e-15);
	assert_true(isnan(drift_worst_pfa(-1, 1, 1.5, 1)));
}

/* ---- Control charts -------------------------------------------------- */

static void ewma_by_hand(void **state)
{
	(void)state;
	struct drift_baseline b;
	struct drift_ewma c;

	/* mu = 10, sigma = 1, lambda = 0.2, L = 3; limit_i =
	 * 3 * sqrt(0.2/1.8 * (1 - 0.8^(2i))). */
	drift_baseline_given(&b, 10, 1);
	assert_int_equal(drift_ewma_init(&c, 0.2, 3, &b), 0);
	/* z1 = 0.2*10.5 + 0.8*10 = 10.1; limit = 3*sqrt(0.1111*0.36) =
	 * 3*0.2 = 0.6 */
	assert_int_equal(drift_ewma_update(&c, 10.5), DRIFT_SIGNAL_NONE);
	near(c.z, 10.1, 1e-12);
	near(c.limit, 0.6, 1e-12);
	/* z2 = 2.2 + 8.08 = 10.28; limit = 3*sqrt(0.1111*(1-0.4096)) =
	 * 3*sqrt(0.0656) = 0.768375 */
	assert_int_equal(drift_ewma_update(&c, 11), DRIFT_SIGNAL_NONE);
	near(c.z, 10.28, 1e-12);
	near(c.limit, 3 * sqrt(0.0656), 1e-12);
	/* z3 = 2.4 + 8.224 = 10.624; 0.624 < 3*sqrt(0.081984) = 0.8589855 */
	assert_int_equal(drift_ewma_update(&c, 12), DRIFT_SIGNAL_NONE);
	near(c.z, 10.624, 1e-12);
	near(c.limit, 0.8589855, 1e-6);
	/* z4 = 2.8 + 8.4992 = 11.2992; 1.2992 > 3*sqrt(0.09246976) =
	 * 0.912265: signal. */
	assert_int_equal(drift_ewma_update(&c, 14), DRIFT_SIGNAL_HIGH);
	near(c.z, 11.2992, 1e-12);
	near(c.limit, 0.912265, 1e-6);

	/* Downwards from a fresh start: z1 = 0.2*6 + 8 = 9.2; -0.8 < -0.6. */
	assert_int_equal(drift_ewma_init(&c, 0.2, 3, &b), 0);
	assert_int_equal(drift_ewma_update(&c, 6), DRIFT_SIGNAL_LOW);
	near(c.z, 9.2, 1e-12);

	/* lambda = 1 is a Shewhart chart: limit = L*sigma = 3 exactly at
	 * every step; 13 is on the limit (in control), 13.5 beyond. */
	assert_int_equal(drift_ewma_init(&c, 1, 3, &b), 0);
	assert_int_equal(drift_ewma_update(&c, 13), DRIFT_SIGNAL_NONE);
	assert_int_equal(drift_ewma_update(&c, 13.5), DRIFT_SIGNAL_HIGH);

	assert_int_equal(drift_ewma_init(&c, 0, 3, &b), -1);
	assert_int_equal(drift_ewma_init(&c, 0.2, 0, &b), -1);
}

static void baseline_learned(void **state)
{
	(void)state;
	struct drift_baseline b;
	struct drift_ewma c;

	/* Learn from 9, 11, 9, 11: mean 10, sum of squares 4,
	 * s = sqrt(4/3) = 1.1547005383792515. */
	assert_int_equal(drift_baseline_learn(&b, 4), 0);
	assert_int_equal(drift_ewma_init(&c, 0.2, 3, &b), 0);
	assert_int_equal(drift_ewma_update(&c, 9), DRIFT_SIGNAL_NONE);
	assert_int_equal(drift_ewma_update(&c, 11), DRIFT_SIGNAL_NONE);
	assert_int_equal(drift_ewma_update(&c, 100), DRIFT_SIGNAL_NONE);
	assert_false(c.base.ready);
	assert_int_equal(drift_baseline_learn(&b, 4), 0);
	assert_int_equal(drift_ewma_init(&c, 0.2, 3, &b), 0);
	drift_ewma_update(&c, 9);
	drift_ewma_update(&c, 11);
	drift_ewma_update(&c, 9);
	assert_int_equal(drift_ewma_update(&c, 11), DRIFT_SIGNAL_NONE);
	assert_true(c.base.ready);
	near(c.base.mu, 10, 1e-14);
	near(c.base.sigma, 1.1547005383792515, 1e-14);
	near(c.z, 10, 1e-14);
	/* First charted point: z1 = 0.2*10.5 + 8 = 10.1,
	 * limit = 0.6 * 1.1547 = 0.6928 */
	assert_int_equal(drift_ewma_update(&c, 10.5), DRIFT_SIGNAL_NONE);
	near(c.limit, 0.6 * 1.1547005383792515, 1e-12);
	assert_int_equal(drift_baseline_learn(&b, 1), -1);
}

static void cusum_by_hand(void **state)
{
	(void)state;
	struct drift_baseline b;
	struct drift_cusum c;

	/* mu = 0, sigma = 0.5, k = 0.5, h = 4 (sigma units): z = 2x. */
	drift_baseline_given(&b, 0, 0.5);
	assert_int_equal(drift_cusum_init(&c, 0.5, 4, &b), 0);
	/* z = 1, 2, 0.5, 3: C+ = 0.5, 2.0, 2.0, 4.5 > 4 -> HIGH. */
	assert_int_equal(drift_cusum_update(&c, 0.5), DRIFT_SIGNAL_NONE);
	near(c.cp, 0.5, 0);
	assert_int_equal(drift_cusum_update(&c, 1.0), DRIFT_SIGNAL_NONE);
	near(c.cp, 2.0, 0);
	assert_int_equal(drift_cusum_update(&c, 0.25), DRIFT_SIGNAL_NONE);
	near(c.cp, 2.0, 0);
	near(c.cm, 0, 0);
	assert_int_equal(drift_cusum_update(&c, 1.5), DRIFT_SIGNAL_HIGH);
	/* The signal ends the run: the sum that crossed (4.5) and the run's
	 * length are kept, both sums restart at 0. (Before the restart was
	 * made the practice, C+ stayed at 4.5 and decayed from there.) */
	near(c.last_sum, 4.5, 0);
	assert_int_equal(c.last_run, 4);
	near(c.cp, 0, 0);
	near(c.cm, 0, 0);
	assert_int_equal(c.run, 0);
	assert_true(c.news);
	/* z = 0 after the restart: C+ = max(0, 0 - 0.5) = 0, in control */
	assert_int_equal(drift_cusum_update(&c, 0), DRIFT_SIGNAL_NONE);
	near(c.cp, 0, 0);
	assert_false(c.news);

	/* Exactly at h is in control: z = 1.5 four times, C+ = 1, 2, 3, 4;
	 * then z = 0.75: 4.25 -> HIGH. */
	drift_cusum_reset(&c);
	for (int i = 0; i < 4; i++)
		assert_int_equal(drift_cusum_update(&c, 0.75),
		                 DRIFT_SIGNAL_NONE);
	near(c.cp, 4.0, 0);
	assert_int_equal(drift_cusum_update(&c, 0.375), DRIFT_SIGNAL_HIGH);
	near(c.last_sum, 4.25, 0);
	near(c.cp, 0, 0);

	/* Downwards: z = -3, -3: C- = 2.5, 5.0 -> LOW; C+ decays to 0. */
	drift_cusum_reset(&c);
	assert_int_equal(drift_cusum_update(&c, -1.5), DRIFT_SIGNAL_NONE);
	near(c.cm, 2.5, 0);
	/* NaN (missing reading) changes nothing. */
	assert_int_equal(drift_cusum_update(&c, NAN), DRIFT_SIGNAL_NONE);
	near(c.cm, 2.5, 0);
	assert_int_equal(drift_cusum_update(&c, -1.5), DRIFT_SIGNAL_LOW);
	near(c.last_sum, 5.0, 0);
	assert_int_equal(c.last_run, 2);
	near(c.cm, 0, 0);
	near(c.cp, 0, 0);
	/* another side: a new episode */
	assert_true(c.news);

	assert_int_equal(drift_cusum_init(&c, -1, 4, &b), -1);
	assert_int_equal(drift_cusum_init(&c, 0.5, 0, &b), -1);
}

/* A persistent shift restarts the CUSUM run after run: sigma 1, k = 0.5,
 * h = 5, z = 2 adds 1.5 a reading, so each run signals at its 4th reading
 * (6 > 5), then both sums restart: 40 readings give exactly 10 signals,
 * and one episode (news once), since the gap between two signals (3
 * readings) is far below the quiet gap. Back to z = 0 for the quiet gap
 * (ceil(2 x 6.166^2) = 77 readings), the episode ends, and the same shift
 * again is news again. */
static void cusum_restarts_once_per_run(void **state)
{
	(void)state;
	struct drift_baseline b;
	struct drift_cusum c;
	int signals = 0, news = 0;

	drift_baseline_given(&b, 0, 1);
	assert_int_equal(drift_cusum_init(&c, 0.5, 5, &b), 0);
	assert_int_equal(c.quiet, 77);
	assert_int_equal(drift_cusum_quiet(5), 77);
	assert_int_equal(drift_cusum_quiet(0), 1);
	for (int i = 1; i <= 40; i++) {
		enum drift_signal g = drift_cusum_update(&c, 2);
		assert_int_equal(g, i % 4 == 0 ? DRIFT_SIGNAL_HIGH
		                               : DRIFT_SIGNAL_NONE);
		signals += g != DRIFT_SIGNAL_NONE;
		news += c.news;
		assert_true(c.cp <= c.h);
	}
	assert_int_equal(signals, 10);
	assert_int_equal(news, 1);
	assert_int_equal(c.last_run, 4);
	near(c.last_sum, 6, 0);
	/* quiet for 76 readings: the episode is still open */
	for (int i = 0; i < 76; i++)
		assert_int_equal(drift_cusum_update(&c, 0), DRIFT_SIGNAL_NONE);
	assert_int_equal(c.episode, 1);
	assert_int_equal(drift_cusum_update(&c, 0), DRIFT_SIGNAL_NONE);
	assert_int_equal(c.episode, 0);
	for (int i = 0; i < 4; i++)
		drift_cusum_update(&c, 2);
	assert_true(c.news);
	assert_int_equal(c.episode, 1);
}

/* The EWMA signals at every reading while z is outside its limits, but
 * opens one episode: news at the first signal only, until z comes back
 * to the centre line. mu = 0, sigma = 1, lambda = 0.5, L = 1 (exact
 * arithmetic): x = 4 puts z at 2, 3, 3.5, ... all outside. */
static void ewma_one_episode_while_out(void **state)
{
	(void)state;
	struct drift_baseline b;
	struct drift_ewma c;
	int signals = 0, news = 0;

	drift_baseline_given(&b, 0, 1);
	assert_int_equal(drift_ewma_init(&c, 0.5, 1, &b), 0);
	for (int i = 0; i < 20; i++) {
		signals += drift_ewma_update(&c, 4) == DRIFT_SIGNAL_HIGH;
		news += c.news;
	}
	assert_int_equal(signals, 20);
	assert_int_equal(news, 1);
	/* x = 0: z halves (inside the limit from z < 0.577) but stays above
	 * the centre line: the same episode, whatever comes back outside */
	for (int i = 0; i < 6; i++)
		drift_ewma_update(&c, 0);
	assert_true(c.z > 0);
	assert_int_equal(drift_ewma_update(&c, 4), DRIFT_SIGNAL_HIGH);
	assert_false(c.news);
	/* z to the centre line (x = -z exactly): the episode ends; out
	 * again is news */
	drift_ewma_update(&c, -c.z);
	assert_true(c.z == 0);
	assert_int_equal(c.episode, 0);
	for (int i = 0; i < 3 && !c.news; i++)
		drift_ewma_update(&c, 4);
	assert_true(c.news);
	/* the other side at once is news too */
	for (int i = 0; i < 10 && c.episode != -1; i++)
		drift_ewma_update(&c, -8);
	assert_int_equal(c.episode, -1);
	assert_true(c.news);
}

/* ---- Channel state --------------------------------------------------- */

static uint64_t rng_state;

static double uniform(void) /* xorshift64*, [0, 1) */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) *
	       0x1p-53;
}

static double gaussian(void) /* Box-Muller */
{
	double u1 = uniform(), u2 = uniform();
	if (u1 <= 0)
		u1 = 0x1p-53;
	return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Run length to the first signal of a CUSUM (k = 0.5, h = 5) or EWMA
 * (lambda = 0.2, L = 3) on N(0, 1) noise, baseline given (n = 0) or
 * learned from n readings; *signals counts every signal in `len`
 * readings after the baseline. */
static long chart_run(bool cusum, int n, long len, long *signals)
{
	struct drift_baseline b;
	struct drift_cusum cu;
	struct drift_ewma ew;
	long first = -1;

	if (n > 0)
		drift_baseline_learn(&b, n);
	else
		drift_baseline_given(&b, 0, 1);
	drift_cusum_init(&cu, 0.5, 5, &b);
	drift_ewma_init(&ew, 0.2, 3, &b);
	for (int i = 0; i < n; i++) {
		double x = gaussian();
		drift_cusum_update(&cu, x);
		drift_ewma_update(&ew, x);
	}
	for (long i = 0; i < len; i++) {
		double x = gaussian();
		enum drift_signal g = cusum ? drift_cusum_update(&cu, x)
		                            : drift_ewma_update(&ew, x);
		if (g == DRIFT_SIGNAL_NONE)
			continue;
		if (first < 0)
			first = i + 1;
		(*signals)++;
	}
	return first < 0 ? len : first;
}

/* The in-control run lengths of the charts as published for known
 * parameters (Montgomery: CUSUM k = 0.5, h = 5: ARL0 = 465; Lucas and
 * Saccucci: EWMA lambda = 0.2, L = 3: 562), measured on 400 channels of
 * noise from a fixed seed (standard error about 5 %); and the cost of a
 * learned baseline: the CUSUM's false signals per reading with 30
 * readings learned (the old default) are far more than with sigma
 * given, with DRIFT_BASELINE_DEFAULT (1000) close to it. The full
 * figures: tools/bench/bench-charts, docs/METROLOGY.md. */
static void charts_in_control_run_length(void **state)
{
	(void)state;
	double sum_c = 0, sum_e = 0;
	long sig = 0, s0 = 0, s30 = 0, s1000 = 0;

	rng_state = 20261231;
	for (int i = 0; i < 400; i++) {
		sum_c += (double)chart_run(true, 0, 20000, &sig);
		sum_e += (double)chart_run(false, 0, 20000, &sig);
	}
	assert_true(sum_c / 400 > 465 * 0.85 && sum_c / 400 < 465 * 1.15);
	assert_true(sum_e / 400 > 562 * 0.85 && sum_e / 400 < 562 * 1.15);
	for (int i = 0; i < 200; i++) {
		chart_run(true, 0, 5000, &s0);
		chart_run(true, 30, 5000, &s30);
		chart_run(true, DRIFT_BASELINE_DEFAULT, 5000, &s1000);
	}
	assert_true(s30 > 1.4 * s0);
	assert_true(s1000 < 1.15 * s0 && s1000 > 0.85 * s0);
}

static void channel_levels(void **state)
{
	(void)state;
	struct drift_channel_cfg k = {
	        .lower = -1, .upper = 1, .warn_fraction = 0.8};

	assert_int_equal(drift_channel_level(&k, 0.8), DRIFT_IN_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, nextafter(0.8, 1)),
	                 DRIFT_WARNING);
	assert_int_equal(drift_channel_level(&k, -1), DRIFT_WARNING);
	assert_int_equal(drift_channel_level(&k, nextafter(1, 2)),
	                 DRIFT_OUT_OF_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, NAN), DRIFT_NO_DATA);
	/* Guard band 0.25 inside a limit: warn from just above 0.75. */
	k.guard = 0.25;
	assert_int_equal(drift_channel_level(&k, 0.75), DRIFT_IN_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, nextafter(0.75, 1)),
	                 DRIFT_WARNING);
	/* Asymmetric (-0.5, 1): 80 % of each side: -0.4 and 0.8. */
	k = (struct drift_channel_cfg){
	        .lower = -0.5, .upper = 1, .warn_fraction = 0.8};
	assert_int_equal(drift_channel_level(&k, -0.375), DRIFT_IN_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, -0.4375), DRIFT_WARNING);
	assert_int_equal(drift_channel_level(&k, 0.75), DRIFT_IN_TOLERANCE);
	/* Limits not straddling 0 (0.5, 1.5): centre 1, half-width 0.5. */
	k = (struct drift_channel_cfg){
	        .lower = 0.5, .upper = 1.5, .warn_fraction = 0.8};
	assert_int_equal(drift_channel_level(&k, 1.375), DRIFT_IN_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, 0.5625), DRIFT_WARNING);
	assert_int_equal(drift_channel_level(&k, 0.25), DRIFT_OUT_OF_TOLERANCE);
}

static int feed(struct drift_channel *c, int64_t *ts, double e, int n)
{
	int changes = 0;

	for (int i = 0; i < n; i++) {
		*ts += 1000000;
		changes += drift_channel_update(c, *ts, e);
	}
	return changes;
}

/* The statement policy (drift_statement_of), the one of calibrate,
 * conformity and the live states: U = 0.5 against +-0.05 (TUR 0.1) is no
 * statement; a TUR of exactly 4 is enough; a conditional decision is a
 * statement; overlapping guard bands never are. */
static void statement_policy(void **state)
{
	(void)state;
	struct drift_verdict v;
	struct drift_statement st;
	char why[128];

	assert_int_equal(drift_decide_at(0.04, 0, -0.05, 0.05, 0.5, 0, &v), 0);
	assert_int_equal(v.decision, DRIFT_PASS);
	assert_int_equal(
	        drift_statement_of(&v, -0.05, 0.05, 0.5, 0.25, 0, 0, &st), 0);
	assert_false(st.made);
	near(st.tur, 0.1, 1e-15);
	near(st.risk, 0.84347, 1e-5);
	drift_statement_why(&st, why, sizeof(why));
	assert_string_equal(why,
	                    "TUR 0.1 < 4 and specific risk 84.3 % > 2.5 %");
	/* the lab's own policy: TUR >= 0.1 */
	assert_int_equal(
	        drift_statement_of(&v, -0.05, 0.05, 0.5, 0.25, 0.1, 0, &st), 0);
	assert_true(st.made);
	drift_statement_why(&st, why, sizeof(why));
	assert_string_equal(why, "");
	/* TUR = 0.08 / (2 x 0.01) = 4 exactly, at the limit (risk 50 %) */
	assert_int_equal(drift_decide_at(0.04, 0, -0.04, 0.04, 0.01, 0, &v), 0);
	assert_int_equal(
	        drift_statement_of(&v, -0.04, 0.04, 0.01, 0.005, 0, 0, &st), 0);
	assert_true(st.made);
	/* conditional: a statement whatever the TUR */
	assert_int_equal(drift_decide_at(0.045, 0, -0.05, 0.05, 0.02, 1, &v),
	                 0);
	assert_int_equal(v.decision, DRIFT_CONDITIONAL_PASS);
	assert_int_equal(
	        drift_statement_of(&v, -0.05, 0.05, 0.02, 0.01, 0, 0, &st), 0);
	assert_true(st.made);
	/* guard bands overlapping: 2w = 1.5 > 1 */
	assert_int_equal(drift_decide_at(0, 0, -0.5, 0.5, 0.75, 1, &v), 0);
	assert_int_equal(
	        drift_statement_of(&v, -0.5, 0.5, 0.75, 0.375, 0, 0, &st), 0);
	assert_true(st.overlap);
	assert_false(st.made);
	drift_statement_why(&st, why, sizeof(why));
	assert_string_equal(
	        why, "the guard bands overlap (2w = 1.5 > upper - lower = 1)");
	v.decision = DRIFT_NO_STATEMENT;
	assert_int_equal(
	        drift_statement_of(&v, -0.5, 0.5, 0.75, 0.375, 0, 0, &st), -1);
}

/* The live state under the policy: limits +-0.05, U = 0.02 (k = 2, TUR
 * 2.5 < 4). A reading at 0.035 is inside the warning fraction (0.04) but
 * its specific risk Q(1.5) = 6.7 % > 2.5 %: a warning, not in tolerance;
 * 0.03 (risk Q(2) = 2.3 %) is in tolerance. Without U, or with a TUR of
 * 5, 0.035 is in tolerance. */
static void channel_policy(void **state)
{
	(void)state;
	struct drift_channel_cfg k = {.lower = -0.05,
	                              .upper = 0.05,
	                              .warn_fraction = 0.8,
	                              .hysteresis = 0.05,
	                              .consecutive = 3};
	struct drift_channel c;
	int64_t ts = 0;

	assert_int_equal(drift_channel_level(&k, 0.035), DRIFT_IN_TOLERANCE);
	k.U = 0.02;
	k.u = 0.01;
	assert_int_equal(drift_channel_level(&k, 0), DRIFT_IN_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, 0.03), DRIFT_IN_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, -0.03), DRIFT_IN_TOLERANCE);
	assert_int_equal(drift_channel_level(&k, 0.035), DRIFT_WARNING);
	assert_int_equal(drift_channel_level(&k, -0.035), DRIFT_WARNING);
	assert_int_equal(drift_channel_level(&k, 0.06), DRIFT_OUT_OF_TOLERANCE);
	/* the lab's policy: a TUR of 2.5 is enough */
	k.min_tur = 2.5;
	assert_int_equal(drift_channel_level(&k, 0.035), DRIFT_IN_TOLERANCE);
	k.min_tur = 0;
	/* a smaller U: TUR 5 */
	k.U = 0.01;
	k.u = 0.005;
	assert_int_equal(drift_channel_level(&k, 0.035), DRIFT_IN_TOLERANCE);
	k.U = 0.02;
	k.u = 0.01;
	/* U without u is refused */
	k.u = 0;
	assert_int_equal(drift_channel_init(&c, &k), -1);
	k.u = 0.01;
	/* the state machine: to warning after 3 readings at 0.035; 0.03 is
	 * not enough to come back (with the hysteresis it counts as 0.0325,
	 * risk 4 %); 0.02 is */
	assert_int_equal(drift_channel_init(&c, &k), 0);
	feed(&c, &ts, 0, 3);
	assert_int_equal(c.state, DRIFT_IN_TOLERANCE);
	assert_int_equal(feed(&c, &ts, 0.035, 3), 1);
	assert_int_equal(c.state, DRIFT_WARNING);
	assert_int_equal(feed(&c, &ts, 0.03, 5), 0);
	assert_int_equal(c.state, DRIFT_WARNING);
	assert_int_equal(feed(&c, &ts, 0.02, 3), 1);
	assert_int_equal(c.state, DRIFT_IN_TOLERANCE);
}

static void channel_hysteresis(void **state)
{
	(void)state;
	struct drift_channel c;
	struct drift_channel_cfg k = {
	        .lower = -1, .upper = 1, .hysteresis = 0.05};
	int64_t ts = EPOCH_US;

	/* Defaults: warn at 0.8, 3 consecutive readings. */
	assert_int_equal(drift_channel_init(&c, &k), 0);
	near(c.cfg.warn_fraction, 0.8, 0);
	assert_int_equal(c.cfg.consecutive, 3);
	assert_int_equal(c.state, DRIFT_NO_DATA);

	assert_false(drift_channel_update(&c, ts += 1000000, 0));
	assert_false(drift_channel_update(&c, ts += 1000000, 0));
	assert_true(drift_channel_update(&c, ts += 1000000, 0));
	assert_int_equal(c.state, DRIFT_IN_TOLERANCE);
	assert_true(c.since_us == ts);

	/* Two bad readings and a good one: the run is broken. */
	assert_int_equal(feed(&c, &ts, 1.5, 2), 0);
	assert_int_equal(feed(&c, &ts, 0, 1), 0);
	assert_int_equal(feed(&c, &ts, 1.5, 2), 0);
	assert_int_equal(c.state, DRIFT_IN_TOLERANCE);
	assert_true(drift_channel_update(&c, ts += 1000000, 1.5));
	assert_int_equal(c.state, DRIFT_OUT_OF_TOLERANCE);

	/* Back inside but within the hysteresis (0.97: 0.03 < 0.05 inside
	 * the limit): stays out. */
	assert_int_equal(feed(&c, &ts, 0.97, 10), 0);
	assert_int_equal(c.state, DRIFT_OUT_OF_TOLERANCE);
	/* 0.9: inside by 0.1 >= 0.05, and above 0.8 - 0.05: warning. */
	assert_int_equal(feed(&c, &ts, 0.9, 3), 1);
	assert_int_equal(c.state, DRIFT_WARNING);
	/* 0.78 is below 0.8 but not below the return threshold 0.75. */
	assert_int_equal(feed(&c, &ts, 0.78, 10), 0);
	assert_int_equal(feed(&c, &ts, 0.7, 3), 1);
	assert_int_equal(c.state, DRIFT_IN_TOLERANCE);

	/* A worse run mixing warning and out: the level all of it supports
	 * (warning); then out once three out readings follow. */
	feed(&c, &ts, 0.9, 1);
	feed(&c, &ts, 1.5, 1);
	assert_int_equal(feed(&c, &ts, 0.9, 1), 1);
	assert_int_equal(c.state, DRIFT_WARNING);
	assert_int_equal(feed(&c, &ts, 1.5, 3), 1);
	assert_int_equal(c.state, DRIFT_OUT_OF_TOLERANCE);

	/* Missing readings: NO_DATA after three, back after three valid
	 * ones, to the most severe level among them. */
	assert_int_equal(feed(&c, &ts, NAN, 3), 1);
	assert_int_equal(c.state, DRIFT_NO_DATA);
	feed(&c, &ts, 0, 2);
	assert_int_equal(feed(&c, &ts, 0.9, 1), 1);
	assert_int_equal(c.state, DRIFT_WARNING);

	k.consecutive = 1;
	k.lower = 2;
	assert_int_equal(drift_channel_init(&c, &k), -1);
	k.lower = -1;
	k.hysteresis = 1;
	assert_int_equal(drift_channel_init(&c, &k), -1);
	assert_string_equal(drift_state_name(DRIFT_WARNING), "warning");
}

static void channel_no_flapping(void **state)
{
	(void)state;
	struct drift_channel c;
	struct drift_channel_cfg k = {
	        .lower = -1, .upper = 1, .hysteresis = 0.05};
	struct drift_channel_cfg raw = {
	        .lower = -1, .upper = 1, .consecutive = 1};
	int64_t ts = EPOCH_US;
	int changes = 0, raw_changes = 0;
	struct drift_channel r;

	/* Noise +-0.03 around the warning threshold 0.8, 2000 readings. */
	rng_state = 42;
	assert_int_equal(drift_channel_init(&c, &k), 0);
	assert_int_equal(drift_channel_init(&r, &raw), 0);
	feed(&c, &ts, 0, 3);
	feed(&r, &ts, 0, 1);
	for (int i = 0; i < 2000; i++) {
		double e = 0.8 + 0.06 * (uniform() - 0.5);
		ts += 1000000;
		changes += drift_channel_update(&c, ts, e);
		raw_changes += drift_channel_update(&r, ts, e);
	}
	assert_int_equal(changes, 1);
	assert_int_equal(c.state, DRIFT_WARNING);
	assert_true(raw_changes > 100); /* the input does flap */

	/* Noise around the limit itself: into warning/out, never back. */
	assert_int_equal(drift_channel_init(&c, &k), 0);
	feed(&c, &ts, 0, 3);
	changes = 0;
	for (int i = 0; i < 2000; i++) {
		double e = 1.0 + 0.06 * (uniform() - 0.5);
		ts += 1000000;
		changes += drift_channel_update(&c, ts, e);
	}
	assert_in_range(changes, 1, 2);
	assert_int_equal(c.state, DRIFT_OUT_OF_TOLERANCE);
}

/* ---- Trend ----------------------------------------------------------- */

#define NTREND 1440 /* hourly for 60 days */

static struct drift_point ring_a[2048], ring_b[2048];

static void trend_known_slope(void **state)
{
	(void)state;
	struct drift_trend a, b;
	struct drift_fit fa, fb, f2;
	struct drift_forecast fc;
	static double xs[NTREND], ys[NTREND];
	const double slope = 0.002, sigma = 0.01; /* per day, units */

	assert_int_equal(drift_trend_init(&a, ring_a, 2048, INT64_MAX), 0);
	assert_int_equal(drift_trend_init(&b, ring_b, 2048, INT64_MAX), 0);
	rng_state = 7;
	for (int i = 0; i < NTREND; i++) {
		double day = i / 24.0;
		double e = slope * day + sigma * gaussian();
		assert_int_equal(drift_trend_add(&a, EPOCH_US + i * HOUR_US, e),
		                 0);
		assert_int_equal(drift_trend_add(&b, i * HOUR_US, e), 0);
		xs[i] = day;
		ys[i] = e;
	}
	assert_int_equal(drift_trend_fit(&a, &fa), 0);
	assert_int_equal(drift_trend_fit(&b, &fb), 0);
	assert_int_equal(drift_fit_points(xs, ys, NTREND, &f2), 0);
	/* se ~ sigma / sqrt(n * var(x)) = 0.01 / sqrt(1440 * 60^2/12)
	 * = 0.01 / 657.3 = 1.52e-5 per day. */
	near(fa.se_slope, 1.52e-5, 0.1e-5);
	near(fa.slope, slope, 3 * fa.se_slope);
	near(fa.s, sigma, 0.001);
	/* Epoch timestamps vs the same data at t = 0, and vs two-pass. */
	near_rel(fa.slope, fb.slope, 1e-9);
	near_rel(fa.se_slope, fb.se_slope, 1e-9);
	near_rel(fa.slope, f2.slope, 1e-9);
	near_rel(fa.s, f2.s, 1e-9);

	/* Upper limit 0.2: the true line crosses it at day 100. */
	assert_int_equal(drift_trend_forecast(&a, -0.2, 0.2, 0.95, 3650, &fc),
	                 0);
	assert_true(fc.line_crosses && fc.bound_crosses);
	assert_true(fc.bound_us < fc.line_us);
	{
		double dl = (double)(fc.line_us - EPOCH_US) / DAY_US;
		double db = (double)(fc.bound_us - EPOCH_US) / DAY_US;
		/* The true date lies within the interval [bound, line +
		 * (line - bound)] and the bound is conservative. */
		assert_true(db < 100);
		assert_true(100 < dl + (dl - db));
		near(dl, 100, 3 * 0.2 / slope * fa.se_slope / slope);
		/* The bound at its date is on the limit. */
		double x = drift_trend_day(&a, fc.bound_us);
		near(drift_fit_predict(&fa, x) +
		             drift_fit_halfwidth(&fa, x, 0.95),
		     0.2, 1e-6);
	}
	near_rel(fc.slope, fa.slope, 0);

	/* A horizon short of the crossing: none predicted. */
	assert_int_equal(drift_trend_forecast(&a, -0.2, 0.2, 0.95, 5, &fc), 0);
	assert_false(fc.line_crosses);
	assert_false(fc.bound_crosses);
	/* Timestamps going backwards are refused. */
	assert_int_equal(drift_trend_add(&a, EPOCH_US, 0), -1);
	assert_int_equal(drift_trend_add(&a, EPOCH_US + NTREND * HOUR_US, NAN),
	                 -1);
}

static void trend_sliding(void **state)
{
	(void)state;
	struct drift_trend t;
	struct drift_fit f, g;
	double xs[100], ys[100];

	/* Capacity 100: slope +1/day for 500 hours, then -1/day; after 1000
	 * points the window holds only the falling part (exact line). */
	assert_int_equal(drift_trend_init(&t, ring_a, 100, INT64_MAX), 0);
	for (int i = 0; i < 1000; i++) {
		double day = i / 24.0;
		double e = i < 500 ? day : 2 * (500 / 24.0) - day;
		assert_int_equal(drift_trend_add(&t, EPOCH_US + i * HOUR_US, e),
		                 0);
		if (i >= 900) {
			xs[i - 900] = day;
			ys[i - 900] = e;
		}
	}
	assert_int_equal(t.count, 100);
	assert_int_equal(drift_trend_fit(&t, &f), 0);
	assert_int_equal(drift_fit_points(xs, ys, 100, &g), 0);
	near(f.slope, -1, 1e-9);
	near(f.s, 0, 1e-6);
	near(drift_fit_predict(&f,
	                       drift_trend_day(&t, EPOCH_US + 999 * HOUR_US)),
	     ys[99], 1e-9);

	/* A window of 10 days, hourly points: 241 remain (ages 0..240 h). */
	assert_int_equal(drift_trend_init(&t, ring_b, 2048, 10 * DAY_US), 0);
	for (int i = 0; i < 480; i++)
		drift_trend_add(&t, EPOCH_US + i * HOUR_US, 0.5 + i * 1e-3);
	assert_int_equal(t.count, 241);
	assert_int_equal(drift_trend_fit(&t, &f), 0);
	near(f.slope, 24e-3, 1e-9);

	/* A gap longer than the window empties it. */
	drift_trend_add(&t, EPOCH_US + 1000 * DAY_US, 1);
	assert_int_equal(t.count, 1);
	assert_int_equal(drift_trend_fit(&t, &f), -1);
	assert_int_equal(drift_trend_init(&t, ring_b, 2, 1), -1);
}

/* ---- Interval advice ------------------------------------------------- */

static void interval_stair(void **state)
{
	(void)state;
	struct drift_stair s = {.interval = 180,
	                        .a = DRIFT_STAIR_A,
	                        .b = DRIFT_STAIR_B,
	                        .in_tolerance = true};

	/* 180 * 1.10 = 198; 180 * (1 - 0.55) = 81. */
	assert_int_equal(drift_interval_stair(&s), 0);
	near(s.suggested, 198, 1e-12);
	s.in_tolerance = false;
	assert_int_equal(drift_interval_stair(&s), 0);
	near(s.suggested, 81, 1e-12);
	s.min = 90;
	assert_int_equal(drift_interval_stair(&s), 0);
	near(s.suggested, 90, 0);
	s.in_tolerance = true;
	s.max = 190;
	assert_int_equal(drift_interval_stair(&s), 0);
	near(s.suggested, 190, 0);
	s.b = 1;
	assert_int_equal(drift_interval_stair(&s), -1);
}

static void interval_a3(void **state)
{
	(void)state;
	/* Binomial sums (mpmath), n = 10, p = 0.95:
	 * P(10) = 0.95^10 = 0.598737, P(9) = 10*0.95^9*0.05 = 0.315125,
	 * P(8) = 45*0.95^8*0.05^2 = 0.074635; P(X<=8) = 1 - P(9) - P(10)
	 * = 0.0861384, P(X<=7) = 0.0115036, P(X<=6) = 0.0010285. */
	near(drift_binom_cdf(8, 10, 0.95), 0.0861383558993165, 1e-13);
	near(drift_binom_cdf(7, 10, 0.95), 0.0115035573792969, 1e-13);
	near(drift_binom_cdf(6, 10, 0.95), 0.00102849793789063, 1e-14);
	near(drift_binom_cdf(10, 10, 0.95), 1, 0);
	near(drift_binom_cdf(-1, 10, 0.95), 0, 0);

	/* 8 of 10 in tolerance against R* = 0.95: P = 0.086 > 0.05, keep;
	 * C = 1 - 2 * 0.0861384 = 0.827723 is still reported. */
	struct drift_a3 a = {.interval = 365,
	                     .target = 0.95,
	                     .alpha = 0.05,
	                     .n = 10,
	                     .x = 8};
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, 0);
	near(a.suggested, 365, 0);
	near(a.factor, 1, 0);
	near(a.observed, 0.8, 1e-15);
	near(a.confidence, 0.827723288201367, 1e-13);
	/* 7 of 10: P = 0.0115 <= 0.05, shorten; C = 1 - 2 * 0.0115036 =
	 * 0.976993, factor 10^((0.7 - 0.95) * 0.976993) = 10^-0.244248 =
	 * 0.569838 (inside [1/2, 2]), 365 * 0.569838 = 207.991 days
	 * (mpmath, 30 digits). */
	a.x = 7;
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, -1);
	near(a.confidence, 0.976992885241406, 1e-13);
	near(a.factor, 0.569838487608190, 1e-12);
	near(a.suggested, 207.991047976989, 1e-9);
	/* 3 of 10: P(X<=3) = 8.2e-8, C = 0.99999984, 10^(-0.65 C) = 0.2239:
	 * clamped to 1/2 (Suncal's maximum change of 2), 182.5 days. */
	a.x = 3;
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, -1);
	near(a.factor, 0.5, 0);
	near(a.suggested, 182.5, 1e-12);
	/* 0 of 10: R_hat = 0 needs no substitute, 10^(-0.95 C) = 0.1122 with
	 * C = 1 - 2 * 0.05^10 (1 - 2e-13); clamped to 1/2. */
	a.x = 0;
	assert_int_equal(drift_interval_a3(&a), 0);
	near(a.observed, 0, 0);
	near(a.confidence, 1 - 2 * pow(0.05, 10), 1e-15);
	assert_int_equal(a.change, -1);
	near(a.factor, 0.5, 0);
	/* 170 of 200 against 0.9: P(X<=170) = 0.0163 (mpmath); C =
	 * 0.967347, factor 10^(-0.05 * 0.967347) = 10^-0.0483673 =
	 * 0.894608, 89.4608 days. */
	a = (struct drift_a3){.interval = 100,
	                      .target = 0.9,
	                      .alpha = 0.05,
	                      .n = 200,
	                      .x = 170};
	assert_int_equal(drift_interval_a3(&a), 0);
	near(a.p_low, 0.0163265659317664, 1e-12);
	assert_int_equal(a.change, -1);
	near(a.confidence, 0.967346868136467, 1e-12);
	near(a.factor, 0.894607750908017, 1e-12);
	near(a.suggested, 89.4607750908017, 1e-10);
	/* 20 of 20 against 0.8: P(X>=20) = 0.8^20 = 0.011529, lengthen;
	 * R_hat = 1 needs no substitute: C = 1 - 2 * 0.8^20 = 0.976942,
	 * factor 10^(0.2 * 0.976942) = 10^0.195388 = 1.568153, 156.815 days
	 * (the factor is at most 10^(1 - R*), so the clamp at 2 can bind only
	 * for R* < 1 - log10 2 = 0.699). */
	a = (struct drift_a3){.interval = 100,
	                      .target = 0.8,
	                      .alpha = 0.05,
	                      .n = 20,
	                      .x = 20};
	assert_int_equal(drift_interval_a3(&a), 0);
	near(a.p_high, 0.01152921504606848, 1e-14);
	assert_int_equal(a.change, 1);
	near(a.confidence, 0.976941569907863, 1e-13);
	near(a.factor, 1.56815256941764, 1e-12);
	near(a.suggested, 156.815256941764, 1e-10);
	/* 20 of 20 against 0.6: P(X>=20) = 0.6^20 = 3.656e-5, C = 0.999927,
	 * 10^(0.4 * C) = 2.5117: clamped to 2, 200 days. */
	a.target = 0.6;
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, 1);
	near(a.factor, 2, 0);
	near(a.suggested, 200, 0);
	/* Suncal's own made-up case (test_interval.py, testA3): 42 of 50
	 * at 365 days, R* = 0.9, change confidence 0.3 (alpha 0.35 per
	 * side here): rejection confidence 0.7557, 329 days. mpmath:
	 * P(X<=42) = 0.122145, C = 0.755710, 365 * 10^(-0.06 C) = 328.814. */
	a = (struct drift_a3){.interval = 365,
	                      .target = 0.9,
	                      .alpha = 0.35,
	                      .n = 50,
	                      .x = 42};
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, -1);
	near(a.confidence, 0.755709832797443, 1e-12);
	near(a.suggested, 328.813980433529, 1e-9);
	near(round(a.suggested), 329, 0);
	/* R_hat = R* (19 of 20 against 0.95): C = 0, keep. A side with
	 * p > 1/2 gives 1 - 2p < 0, reported as 0 (4 of 4 against 0.95 has
	 * R_hat > R* and P(X>=4) = 0.8145). */
	a = (struct drift_a3){.interval = 365,
	                      .target = 0.95,
	                      .alpha = 0.05,
	                      .n = 20,
	                      .x = 19};
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, 0);
	near(a.confidence, 0, 0);
	a.n = 4;
	a.x = 4;
	assert_int_equal(drift_interval_a3(&a), 0);
	near(a.p_high, 0.81450625, 1e-15);
	near(a.confidence, 0, 0);
	assert_int_equal(a.change, 0);
	a.x = 5;
	assert_int_equal(drift_interval_a3(&a), -1);
	a.x = 4;
	a.alpha = 0.5;
	assert_int_equal(drift_interval_a3(&a), -1);
}

/*
 * Published worked example of Method A3: the three assets of the NCSL
 * International 2019 Workshop & Symposium tutorial on calibration
 * intervals, as reproduced with their pass/fail histories and published
 * results in Sandia's Suncal (sandialabs/suncal, test/test_interval.py,
 * testA3). Every interval equals the assigned one; target R* = 0.95.
 *   asset 1: 15 of 20 in tolerance at 365 days: rejection confidence
 *            0.9949, new interval 231 days;
 *   asset 2: 14 of 20 at 365 days: 0.9993, 205 days;
 *   asset 3: 16 of 20 at 730 days: 0.9682, 523 days.
 * Our A3 is the published step (docs/METROLOGY.md, "Calibration-interval
 * advice"): C = 1 - 2 P(X <= x), I * 10^((x/n - R*) C), no clamp binding
 * (factors 0.632, 0.563, 0.716). mpmath, 30 digits:
 *   asset 1: P(X <= 15) = 0.00257394, C = 0.994852, 10^(-0.2 C) =
 *            0.632455, 365 * 0.632455 = 230.846 days;
 *   asset 2: P(X <= 14) = 0.000329294, C = 0.999341, 10^(-0.25 C) =
 *            0.562555, 205.332 days;
 *   asset 3: P(X <= 16) = 0.0159015, C = 0.968197, 10^(-0.15 C) =
 *            0.715765, 730 * 0.715765 = 522.508 days.
 * Checked: C to the published 4 decimals, our suggestion to the published
 * whole day, and our suggestion to 1e-9 day against mpmath.
 */
static void published_a3_ncsli(void **state)
{
	(void)state;
	static const struct {
		int x, n;
		double interval, conf, days, exact;
	} pub[] = {
	        {15, 20, 365, 0.9949, 231, 230.846046194026},
	        {14, 20, 365, 0.9993, 205, 205.332413353768},
	        {16, 20, 730, 0.9682, 523, 522.508449617011},
	};

	for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		struct drift_a3 a = {.interval = pub[i].interval,
		                     .target = 0.95,
		                     .alpha = 0.05,
		                     .n = pub[i].n,
		                     .x = pub[i].x};

		assert_int_equal(drift_interval_a3(&a), 0);
		assert_int_equal(a.change, -1);
		near(a.confidence, 1 - 2 * a.p_low, 0);
		near(a.confidence, pub[i].conf, 0.5e-4);
		near(round(a.suggested), pub[i].days, 0);
		near(a.suggested, pub[i].exact, 1e-9);
	}
	near(drift_binom_cdf(15, 20, 0.95), 0.00257394033465228, 1e-15);
}

static void fit_with_intercept(void **state)
{
	(void)state;
	/* y on the line 0.001 x plus residuals +-0.01 orthogonal to x:
	 * xbar = 250, sxx = 2*(150^2 + 50^2) = 50000, slope = 0.001,
	 * s^2 = 4 * 0.01^2 / 2 = 0.0002, se = 0.014142 / 223.607 =
	 * 6.3246e-5. The line reaches 0.5 at x = 500. The upper bound:
	 * 0.25 + 0.001 d + 2.919986 * 0.014142 * sqrt(1.25 + d^2/50000)
	 * = 0.5 with d = x - 250; by hand d = 190 gives 0.24799, d = 192
	 * gives 0.25021, so x ~ 441.8 (mpmath: 441.8078977). */
	double x[] = {100, 200, 300, 400};
	double y[] = {0.11, 0.19, 0.29, 0.41};
	struct drift_fit f;
	double xl, xb;

	assert_int_equal(drift_fit_points(x, y, 4, &f), 0);
	assert_int_equal(f.dof, 2);
	near(f.slope, 0.001, 1e-15);
	near(f.s, sqrt(0.0002), 1e-15);
	near(f.se_slope, 6.32455532e-5, 1e-12);
	assert_int_equal(
	        drift_fit_crossing(&f, 0, -0.5, 0.5, 0.95, 3650, &xl, &xb), 0);
	near(xl, 500, 1e-9);
	near(xb, 441.807897666648, 1e-6);
	/* Starting past the bound's crossing: at once. */
	assert_int_equal(
	        drift_fit_crossing(&f, 450, -0.5, 0.5, 0.95, 3650, &xl, &xb),
	        0);
	near(xb, 450, 0);
	/* All x equal: no fit. */
	double same[] = {5, 5, 5, 5};
	assert_int_equal(drift_fit_points(same, y, 4, &f), -1);
	assert_int_equal(drift_fit_points(x, y, 2, &f), -1);
}

static void interval_variables(void **state)
{
	(void)state;
	/* Through the origin: sum t d = 11 + 38 + 87 + 164 = 300, sum t^2
	 * = 300000, beta = 0.001; residuals +-0.01, s^2 = 4e-4/3,
	 * s = 0.0115470, se = s / sqrt(300000) = 2.10819e-5. Line reaches
	 * 0.5 at t = 500. Bound: 0.001 t + 2.353363 * 0.011547 *
	 * sqrt(1 + t^2/300000) = 0.5; by hand t = 464 gives 0.499615,
	 * t = 465 gives 0.500647 (mpmath: 464.3735762654). */
	double t[] = {100, 200, 300, 400};
	double d[] = {0.11, 0.19, 0.29, 0.41};
	/* The first-degree model without u0, both limits each against a
	 * one-sided 95 % bound (two-sided 90 %: t = t_{0.95, 3}). */
	struct drift_vd v = {.degree = 1,
	                     .lower = -0.5,
	                     .upper = 0.5,
	                     .sides = DRIFT_TWO_SIDED,
	                     .conf = 0.90,
	                     .horizon = 3650};

	assert_int_equal(drift_interval_vd(t, d, 4, &v), 0);
	assert_int_equal(v.fit.dof, 3);
	near(v.fit.b[0], 0.001, 1e-15);
	near(v.fit.s, sqrt(4e-4 / 3), 1e-15);
	near(sqrt(v.fit.cov[0][0]), 2.10818510677892e-5, 1e-15);
	near(v.k, 2.35336343480182, 1e-9);
	near(v.t_line, 500, 1e-9);
	near(v.suggested, 464.373576265433, 1e-6);
	assert_false(v.capped);

	/* Horizon shorter: capped. */
	v.horizon = 300;
	assert_int_equal(drift_interval_vd(t, d, 4, &v), 0);
	assert_true(v.capped);
	near(v.suggested, 300, 0);
	assert_int_equal(drift_interval_vd(t, d, 1, &v), -1);

	/* Every interval 182 days: beta = mean delta / 182 =
	 * 0.021 / 182 = 1.153846e-4 per day. With limits +-0.05 the line
	 * reaches 0.05 at 0.05 / 1.153846e-4 = 433.3 days, the bound
	 * earlier. */
	double t2[] = {182, 182, 182, 182};
	double d2[] = {0.020, 0.025, 0.018, 0.021};
	v.horizon = 3650;
	v.lower = -0.05;
	v.upper = 0.05;
	assert_int_equal(drift_interval_vd(t2, d2, 4, &v), 0);
	near(v.fit.b[0], 0.021 / 182, 1e-15);
	near(v.t_line, 0.05 * 182 / 0.021, 1e-9);
	assert_true(v.suggested < v.t_line);
	assert_false(v.capped);
}

/*
 * The worked example of NASA-HDBK-8739.19-5 (variables data), as its
 * numbers are reproduced in Sandia's Suncal (sandialabs/suncal,
 * test/test_interval.py, test_variables; the handbook's own text was not
 * found in the stored copies we could search):
 *   Table 7-2  deltas 0.100, 0.110, 0.251, 0.299, 0.403, 0.615 after 70,
 *              86, 104, 135, 167, 173 days;
 *   Table 7-3  second-degree fit through the origin: b1 = 0.00015741,
 *              b2 = 0.00001674, var(b1) = 0.00000101, var(b2) =
 *              4.549e-11, cov(b1, b2) = -6.607e-9, s = 0.0708;
 *   Table 7-7  uncertainty target 0.5 with u0 = 0.28: 327.15 days;
 *   Table 7-4  limits 9 and 11 about the as-left 10.03, u0 = 0.28, 90 %
 *              two-sided: 140.1 days;
 *   Table 7-5  the upper limit 11 alone, 90 % one-sided: 171.75 days;
 *   Table 7-6  the lower limit 9 alone about an as-left 9.03: the table
 *              lists 153.04 days, where the 90 % lower bound comes back UP
 *              across 9; at t = 0 that bound (8.587) is already below 9,
 *              so the interval is 0 (Suncal's reading, and ours).
 * Independent values (mpmath, 40 digits, the same formulas written
 * again: normal equations solved exactly, t quantiles by integrating
 * Student's density, roots by findroot): b1 = 1.57406752652684e-4,
 * b2 = 1.67379250591236e-5, s = 0.0708286569263556, var(b1) =
 * 1.010050592e-6, var(b2) = 4.549472265e-11, cov = -6.606828918e-9,
 * t_{0.95,4} = 2.13184678632665, t_{0.90,4} = 1.53320627405894; uncertainty
 * target 327.153339838551, two-sided 140.090981640441, upper alone
 * 171.747997747464, lower bound back at 9 at 153.042529478006 days.
 * The first-degree model on the same data (the old method's) gives
 * b1 = 2.5881196107105e-3, s = 0.100955242460624 (5 dof).
 */
static const double hb_t[] = {70, 86, 104, 135, 167, 173};
static const double hb_d[] = {0.1, 0.11, 0.251, 0.299, 0.403, 0.615};

static void published_vd_nasa(void **state)
{
	(void)state;
	struct drift_vd v = {.degree = 2,
	                     .y0 = 10.03,
	                     .u0 = 0.28,
	                     .lower = 9,
	                     .upper = 11,
	                     .sides = DRIFT_TWO_SIDED,
	                     .conf = 0.90,
	                     .u_target = 0.5,
	                     .horizon = 3650};

	assert_int_equal(drift_interval_vd(hb_t, hb_d, 6, &v), 0);
	assert_int_equal(v.fit.degree, 2);
	assert_int_equal(v.fit.dof, 4);
	/* Table 7-3, to its printed digits. */
	near(v.fit.b[0], 0.00015741, 0.5e-8);
	near(v.fit.b[1], 0.00001674, 0.5e-8);
	near(v.fit.cov[0][0], 0.00000101, 0.5e-8);
	near(v.fit.cov[1][1], 4.549e-11, 0.5e-14);
	near(v.fit.cov[0][1], -6.607e-9, 0.5e-12);
	near(v.fit.cov[1][0], -6.607e-9, 0.5e-12);
	near(v.fit.s, 0.0708, 0.5e-4);
	/* ... and to the independent values. */
	near(v.fit.b[0], 1.57406752652684e-4, 1e-15);
	near(v.fit.b[1], 1.67379250591236e-5, 1e-16);
	near(v.fit.s, 0.0708286569263556, 1e-13);
	near(v.fit.cov[0][0], 1.010050592e-6, 1e-15);
	near(v.fit.cov[1][1], 4.549472265e-11, 1e-19);
	near(v.k, 2.13184678632665, 1e-9);
	/* Table 7-7 and Table 7-4. */
	assert_false(v.u_capped);
	near(v.u_interval, 327.15, 0.005);
	near(v.u_interval, 327.153339838551, 1e-6);
	assert_false(v.capped);
	near(v.suggested, 140.1, 0.05);
	near(v.suggested, 140.090981640441, 1e-6);
	near(drift_vd_bound(&v, v.suggested, 1), 11, 1e-9);

	/* Table 7-5: the upper limit alone, one-sided. */
	v.sides = DRIFT_UPPER_ONLY;
	assert_int_equal(drift_interval_vd(hb_t, hb_d, 6, &v), 0);
	near(v.k, 1.53320627405894, 1e-9);
	near(v.suggested, 171.75, 0.005);
	near(v.suggested, 171.747997747464, 1e-6);

	/* Table 7-6: the lower limit alone about 9.03: already reached at
	 * t = 0; the table's 153.04 days is where the bound returns. */
	v.sides = DRIFT_LOWER_ONLY;
	v.y0 = 9.03;
	assert_int_equal(drift_interval_vd(hb_t, hb_d, 6, &v), 0);
	near(v.suggested, 0, 0);
	assert_false(v.capped);
	assert_true(drift_vd_bound(&v, 0, -1) < 9);
	near(drift_vd_bound(&v, 0, -1), 8.587180144, 1e-9);
	near(drift_vd_bound(&v, 153.04, -1), 9, 1e-4);
	near(drift_vd_bound(&v, 153.042529478006, -1), 9, 1e-9);

	/* Chosen by the data: degree 2 (s 0.0708 against 0.101). */
	v = (struct drift_vd){.degree = 0,
	                      .y0 = 10.03,
	                      .u0 = 0.28,
	                      .lower = 9,
	                      .upper = 11,
	                      .conf = 0.90,
	                      .horizon = 3650};
	assert_int_equal(drift_interval_vd(hb_t, hb_d, 6, &v), 0);
	assert_int_equal(v.fit.degree, 2);
	near(v.suggested, 140.090981640441, 1e-6);
	assert_true(isnan(v.u_interval)); /* not asked */
}

/* The first-degree model, the choice between degrees, u0 and the
 * uncertainty target on hand-checked cases. */
static void vd_models(void **state)
{
	(void)state;
	struct drift_vd_fit f;
	struct drift_vd v;

	/* Degree 1 on the handbook's data (independent values above). */
	assert_int_equal(drift_vd_fit(hb_t, hb_d, 6, 1, &f), 0);
	assert_int_equal(f.dof, 5);
	near(f.b[0], 2.5881196107105e-3, 1e-15);
	near(f.s, 0.100955242460624, 1e-13);
	/* Exactly quadratic data: degree 2 fits with s = 0 and is chosen;
	 * d = 0.001 t + 0.0001 t^2 at t = 10, 20, 30: 0.02, 0.06, 0.12. */
	double tq[] = {10, 20, 30}, dq[] = {0.02, 0.06, 0.12};
	assert_int_equal(drift_vd_fit(tq, dq, 3, 0, &f), 0);
	assert_int_equal(f.degree, 2);
	near(f.b[0], 0.001, 1e-15);
	near(f.b[1], 0.0001, 1e-16);
	near(f.s, 0, 1e-15);
	near(drift_vd_delta(&f, 40), 0.2, 1e-14);
	/* Every interval one length: degree 2 is singular; auto takes 1,
	 * asked for it fails; fewer points than the degree plus one fail. */
	double te[] = {182, 182, 182, 182}, de[] = {0.02, 0.025, 0.018, 0.021};
	assert_int_equal(drift_vd_fit(te, de, 4, 0, &f), 0);
	assert_int_equal(f.degree, 1);
	assert_int_equal(drift_vd_fit(te, de, 4, 2, &f), -1);
	assert_int_equal(drift_vd_fit(tq, dq, 2, 2, &f), -1);
	assert_int_equal(drift_vd_fit(tq, dq, 1, 1, &f), -1);
	assert_int_equal(drift_vd_fit(tq, dq, 3, 3, &f), -1);

	/* No drift (every delta 0): s = 0, u(t) = u0, the bound y0 +- k u0.
	 * With u0 = 0.1 and u_target 0.1: met at once (0 days); limits
	 * +-1 with k finite: never reached, capped at the horizon. */
	double z[] = {0, 0, 0};
	v = (struct drift_vd){.degree = 1,
	                      .u0 = 0.1,
	                      .lower = -1,
	                      .upper = 1,
	                      .conf = 0.95,
	                      .u_target = 0.1,
	                      .horizon = 1000};
	assert_int_equal(drift_interval_vd(tq, z, 3, &v), 0);
	assert_true(v.capped);
	near(v.suggested, 1000, 0);
	assert_true(isnan(v.t_line));
	near(v.u_interval, 0, 0);
	/* Uncertainty growth by hand, degree 1 through t = 1, 2, 3 with
	 * d = 0.1, 0.1, 0.4: b1 = (0.1 + 0.2 + 1.2) / 14 = 3/28, residuals
	 * 0.1 - 3/28 = -1/140, 0.1 - 6/28 = -16/140, 0.4 - 9/28 = 11/140,
	 * sse = (1 + 256 + 121) / 19600 = 378/19600, s^2 = 189/19600,
	 * var(b1) = s^2 / 14. u(t)^2 = u0^2 + s^2 (1 + t^2/14); with u0 = 0
	 * and target^2 = 2 s^2: t^2 = 14, t = sqrt(14) = 3.741657. */
	double t3[] = {1, 2, 3}, d3[] = {0.1, 0.1, 0.4};
	v = (struct drift_vd){.degree = 1,
	                      .lower = -100,
	                      .upper = 100,
	                      .conf = 0.95,
	                      .u_target = sqrt(2 * 189.0 / 19600),
	                      .horizon = 100};
	assert_int_equal(drift_interval_vd(t3, d3, 3, &v), 0);
	near(v.fit.b[0], 3.0 / 28, 1e-15);
	near(v.fit.s, sqrt(189.0 / 19600), 1e-15);
	near(v.u_interval, sqrt(14), 1e-9);
	assert_false(v.u_capped);
	/* u0 adds in quadrature: u(0) = sqrt(u0^2 + s^2). */
	v.u0 = 0.3;
	assert_int_equal(drift_interval_vd(t3, d3, 3, &v), 0);
	near(drift_vd_u(&v, 0), sqrt(0.09 + 189.0 / 19600), 1e-15);
	/* Bad inputs. */
	v.u0 = -0.1;
	assert_int_equal(drift_interval_vd(t3, d3, 3, &v), -1);
	v.u0 = 0;
	v.conf = 1;
	assert_int_equal(drift_interval_vd(t3, d3, 3, &v), -1);
	v.conf = 0.95;
	v.lower = 200;
	assert_int_equal(drift_interval_vd(t3, d3, 3, &v), -1);
	v.lower = -100;
	v.sides = (enum drift_sides)3;
	assert_int_equal(drift_interval_vd(t3, d3, 3, &v), -1);
	assert_string_equal(drift_sides_name(DRIFT_UPPER_ONLY),
	                    "upper limit only");
}

/*
 * RP-1 A3 counts only the results at the interval being tested. The
 * issue's case: 59 results at 30 days, then 1 at 365 days, all in
 * tolerance. Counting all 60 gave P(X >= 60) = 0.95^60 = 0.0461 <= 0.05,
 * "lengthen" to 365 x 10^(0.05 x 0.9079) = 405 days. At 365 days (band
 * min(56, 182.5) = 56 days) only 1 result counts: 1 of 1, P(X >= 1) =
 * 0.95, not significant: keep 365.
 */
static void a3_current_interval(void **state)
{
	(void)state;
	double t[60];
	bool ok[60];
	int used = -1, x = -1;

	near(drift_a3_band(365), 56, 0);
	near(drift_a3_band(30), 15, 0);
	near(drift_a3_band(112), 56, 0);
	assert_true(isnan(drift_a3_band(0)));
	for (int i = 0; i < 60; i++) {
		t[i] = i < 59 ? 30 : 365;
		ok[i] = true;
	}
	assert_int_equal(drift_a3_count(t, ok, 60, 365, 56, &used, &x), 0);
	assert_int_equal(used, 1);
	assert_int_equal(x, 1);
	struct drift_a3 a = {.interval = 365,
	                     .target = 0.95,
	                     .alpha = 0.05,
	                     .n = used,
	                     .x = x};
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, 0);
	near(a.suggested, 365, 0);
	/* What counting every result did. */
	a = (struct drift_a3){.interval = 365,
	                      .target = 0.95,
	                      .alpha = 0.05,
	                      .n = 60,
	                      .x = 60};
	assert_int_equal(drift_interval_a3(&a), 0);
	assert_int_equal(a.change, 1);
	near(round(a.suggested), 405, 0);
	/* The band's edges are inside: |t - I| <= band. */
	double te[] = {309, 308.5, 421, 421.5, 365};
	bool oe[] = {true, true, false, true, true};
	assert_int_equal(drift_a3_count(te, oe, 5, 365, 56, &used, &x), 0);
	assert_int_equal(used, 3);
	assert_int_equal(x, 2);
	assert_int_equal(drift_a3_count(te, oe, 5, 365, -1, &used, &x), -1);
	assert_int_equal(drift_a3_count(te, oe, 5, 0, 56, &used, &x), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(tolerance_forms),
	        cmocka_unit_test(tolerance_bad),
	        cmocka_unit_test(decision_simple),
	        cmocka_unit_test(decision_guarded),
	        cmocka_unit_test(quantiles),
	        cmocka_unit_test(conformance),
	        cmocka_unit_test(ewma_by_hand),
	        cmocka_unit_test(baseline_learned),
	        cmocka_unit_test(cusum_by_hand),
	        cmocka_unit_test(cusum_restarts_once_per_run),
	        cmocka_unit_test(ewma_one_episode_while_out),
	        cmocka_unit_test(charts_in_control_run_length),
	        cmocka_unit_test(channel_levels),
	        cmocka_unit_test(statement_policy),
	        cmocka_unit_test(channel_policy),
	        cmocka_unit_test(channel_hysteresis),
	        cmocka_unit_test(channel_no_flapping),
	        cmocka_unit_test(trend_known_slope),
	        cmocka_unit_test(trend_sliding),
	        cmocka_unit_test(interval_stair),
	        cmocka_unit_test(interval_a3),
	        cmocka_unit_test(published_a3_ncsli),
	        cmocka_unit_test(fit_with_intercept),
	        cmocka_unit_test(interval_variables),
	        cmocka_unit_test(published_vd_nasa),
	        cmocka_unit_test(vd_models),
	        cmocka_unit_test(a3_current_interval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
