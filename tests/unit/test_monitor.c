/*
 * test_monitor.c - the tolerance monitor (gateway/src/monitor.c) on the
 * configurations of tests/fixtures/config/tolerance.cfg: a state change
 * becomes one SAMPLE_STATE with the new and old states in its detail;
 * failed readings lead to no_data; a CUSUM chart's episode is one
 * sample; a reload keeps the state of an unchanged channel and restarts
 * a changed one; a reading no statement can be made of is a warning
 * (policy.cfg).
 *
 * Threading: one thread, as the ingest thread uses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "drift.h"
#include "monitor.h"

#define FIXTURES METROLOG_FIXTURES "/config"
#define SEC      1000000LL

static struct config *load(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), FIXTURES "/%s", name);
	struct config *c = config_load(path, stderr);
	assert_non_null(c);
	return c;
}

static struct sample reading(uint32_t index, int64_t ts, double v, int q)
{
	return (struct sample){.ts_us = ts,
	                       .index = index,
	                       .kind = SAMPLE_READING,
	                       .quality = (uint8_t)q,
	                       .value = q == QUALITY_GOOD ? v : 0};
}

/* Feed n equal readings; returns the state samples they made in out. */
static size_t feed(struct monitor *m, uint32_t index, int64_t *ts, double v,
                   int q, int n, struct sample *out)
{
	size_t made = 0;

	for (int i = 0; i < n; i++) {
		struct sample r = reading(index, (*ts += SEC), v, q);
		made += monitor_sample(m, &r, out + made);
	}
	return made;
}

/* Channel "abs": 20 +- 0.5, guarded w = 0.125, warning 0.75, 5 in a row. */
static void state_changes_are_samples(void **state)
{
	(void)state;
	struct config *c = load("tolerance.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[64];
	int64_t ts = 1000 * SEC;

	assert_non_null(m);
	assert_int_equal(monitor_state(m, 0), DRIFT_NO_DATA);
	assert_int_equal(feed(m, 0, &ts, 20.0, QUALITY_GOOD, 4, out), 0);
	assert_int_equal(feed(m, 0, &ts, 20.0, QUALITY_GOOD, 1, out), 1);
	assert_int_equal(out[0].kind, SAMPLE_STATE);
	assert_int_equal(out[0].index, 0);
	assert_int_equal(out[0].ts_us, ts);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_IN_TOLERANCE);
	assert_int_equal(SAMPLE_STATE_OLD(out[0].detail), DRIFT_NO_DATA);
	/* into the guard band: warning, with the error as the value */
	assert_int_equal(feed(m, 0, &ts, 20.4375, QUALITY_GOOD, 5, out), 1);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_WARNING);
	assert_int_equal(SAMPLE_STATE_OLD(out[0].detail), DRIFT_IN_TOLERANCE);
	assert_true(out[0].value == 0.4375);
	/* out of tolerance below */
	assert_int_equal(feed(m, 0, &ts, 19.25, QUALITY_GOOD, 5, out), 1);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail),
	                 DRIFT_OUT_OF_TOLERANCE);
	/* failed readings: no data after 5 */
	assert_int_equal(feed(m, 0, &ts, 0, QUALITY_TIMEOUT, 5, out), 1);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_NO_DATA);
	/* a channel without tolerance, other kinds, a stray index: nothing */
	assert_int_equal(feed(m, 6, &ts, 99, QUALITY_GOOD, 10, out), 0);
	struct sample on = {.kind = SAMPLE_ONLINE, .index = 0};
	assert_int_equal(monitor_sample(m, &on, out), 0);
	assert_int_equal(feed(m, 1000, &ts, 99, QUALITY_GOOD, 10, out), 0);
	monitor_free(m);
	monitor_free(NULL);
	config_free(c);
}

/* Channel "asym": CUSUM h = 5, k = 0.5, sigma 0.125 given: an error of
 * 0.25 (z = 2) adds 1.5 per reading, so the 4th signals, once. */
static void cusum_signals_once(void **state)
{
	(void)state;
	struct config *c = load("tolerance.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[64];
	int64_t ts = 1000 * SEC;

	assert_int_equal(feed(m, 5, &ts, 0.25, QUALITY_GOOD, 3, out), 1);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_IN_TOLERANCE);
	size_t n = feed(m, 5, &ts, 0.25, QUALITY_GOOD, 1, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].detail, SAMPLE_STATE_CHART |
	                                        SAMPLE_STATE_CUSUM |
	                                        SAMPLE_STATE_HIGH);
	assert_int_equal(feed(m, 5, &ts, 0.25, QUALITY_GOOD, 20, out), 0);
	monitor_free(m);
	config_free(c);
}

/* Channel "uut" (7) against "plain" (6), limits +-0.5: the error is the
 * difference at the same ts, whichever of the two arrives first; a
 * reading whose reference never comes counts as missing. */
static void comparison_against_a_reference_channel(void **state)
{
	(void)state;
	struct config *c = load("tolerance.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[64], r;
	int64_t ts = 1000 * SEC;
	size_t n = 0;

	assert_int_equal(monitor_room(m), MONITOR_MAX_PER_READING);
	for (int i = 0; i < 3; i++) { /* reference first */
		ts += SEC;
		r = reading(6, ts, 50.0, QUALITY_GOOD);
		n += monitor_sample(m, &r, out + n);
		r = reading(7, ts, 50.25, QUALITY_GOOD);
		n += monitor_sample(m, &r, out + n);
	}
	assert_int_equal(n, 1);
	assert_int_equal(out[0].index, 7);
	assert_true(out[0].value == 0.25);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_IN_TOLERANCE);
	n = 0;
	for (int i = 0; i < 3; i++) { /* unit under test first */
		ts += SEC;
		r = reading(7, ts, 50.75, QUALITY_GOOD);
		n += monitor_sample(m, &r, out + n);
		r = reading(6, ts, 50.0, QUALITY_GOOD);
		n += monitor_sample(m, &r, out + n);
	}
	assert_int_equal(n, 1);
	assert_int_equal(out[0].index, 7);
	assert_int_equal(out[0].ts_us, ts);
	assert_true(out[0].value == 0.75);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail),
	                 DRIFT_OUT_OF_TOLERANCE);
	/* the reference stops answering (or its reads fail): no data */
	n = 0;
	for (int i = 0; i < 3; i++) {
		ts += SEC;
		r = reading(7, ts, 50.0, QUALITY_GOOD);
		n += monitor_sample(m, &r, out + n);
		r = reading(6, ts, 0, QUALITY_TIMEOUT);
		n += monitor_sample(m, &r, out + n);
	}
	assert_int_equal(n, 1);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_NO_DATA);
	n = 0;
	for (int i = 0; i < 4; i++) {
		ts += SEC;
		r = reading(7, ts, 50.0, QUALITY_GOOD);
		n += monitor_sample(m, &r, out + n);
	}
	/* 3 never completed, the 4th still waits */
	assert_int_equal(n, 0);
	assert_int_equal(monitor_state(m, 7), DRIFT_NO_DATA);
	monitor_free(m);
	config_free(c);
}

/* A reload keeps what did not change. */
static void rebuild_keeps_unchanged_channels(void **state)
{
	(void)state;
	struct config *c = load("tolerance.cfg");
	struct config *same = load("tolerance.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[64];
	int64_t ts = 1000 * SEC;

	feed(m, 0, &ts, 20.0, QUALITY_GOOD, 5, out);
	feed(m, 1, &ts, 200.0, QUALITY_GOOD, 3, out);
	assert_int_equal(monitor_state(m, 0), DRIFT_IN_TOLERANCE);
	assert_int_equal(monitor_state(m, 1), DRIFT_IN_TOLERANCE);
	assert_int_equal(monitor_rebuild(m, same), 0);
	config_free(c);
	assert_int_equal(monitor_state(m, 0), DRIFT_IN_TOLERANCE);
	assert_int_equal(monitor_state(m, 1), DRIFT_IN_TOLERANCE);
	/* a changed tolerance starts again */
	struct config *changed = load("tolerance.cfg");
	changed->instruments[0].channels[1].tolerance->warning = 0.5;
	assert_int_equal(monitor_rebuild(m, changed), 0);
	config_free(same);
	assert_int_equal(monitor_state(m, 0), DRIFT_IN_TOLERANCE);
	assert_int_equal(monitor_state(m, 1), DRIFT_NO_DATA);
	monitor_free(m);
	config_free(changed);
}

/* trend.cfg: 20 +- 0.5, a trend over 10 days of 1 h bins, horizon 30
 * days. A reading every 10 minutes drifting +0.05 degC/day with +-0.01
 * of deterministic noise: the limit is reached on day 10. The first
 * forecast comes once ten bins are in, is conservative (the 95 % bound
 * comes before the line) and close to the truth, and is repeated only as
 * the date moves; once the drift stops, "no crossing" follows (and later,
 * with the step inside the window, the line is a poor model: whatever it
 * predicts then is not checked). */
static void trend_forecasts_the_crossing(void **state)
{
	(void)state;
	struct config *c = load("trend.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[8];
	const int64_t t0 = 1767225600LL * SEC, step = 600 * SEC;
	const double day = 86400.0 * SEC;
	unsigned lcg = 12345;
	int forecasts = 0, none = 0;
	double first_days = NAN;
	int64_t first_ts = 0;

	assert_non_null(m);
	assert_int_equal(monitor_room(m), MONITOR_MAX_PER_READING);
	/* five days of drift, then five days back at the reference */
	for (int64_t ts = t0; ts < t0 + 10 * (int64_t)day; ts += step) {
		double days = (double)(ts - t0) / day;
		lcg = lcg * 1103515245u + 12345u;
		double noise =
		        ((double)(lcg >> 16 & 0x7fff) / 32767.0 - 0.5) * 0.02;
		double e = days < 5 ? 0.05 * days + noise : noise;
		struct sample r = reading(0, ts, 20.0 + e, QUALITY_GOOD);
		size_t n = monitor_sample(m, &r, out);
		for (size_t i = 0; i < n; i++) {
			if (!(out[i].detail & SAMPLE_STATE_TREND))
				continue;
			assert_true(out[i].detail & SAMPLE_STATE_CHART);
			if (isnan(out[i].value)) {
				none++;
				assert_true(days >= 5);
				continue;
			}
			if (forecasts++ == 0) {
				first_days = out[i].value;
				first_ts = ts;
			}
			/* while drifting: the upper limit, at or before the
			 * true date (day 10), and not absurdly early */
			if (days < 5) {
				assert_true(out[i].detail & SAMPLE_STATE_HIGH);
				double at = days + out[i].value;
				assert_true(at <= 10.0 + 0.05);
				assert_true(at >= 10.0 - 3.0);
			}
		}
	}
	/* the first forecast once ten bins are in (hour 10): the bound at
	 * 8.1 days, the truth 9.6 days ahead */
	assert_true(first_ts > 0);
	assert_int_equal((first_ts - t0) / (3600 * SEC), 10);
	assert_true(first_days > 8 && first_days < 9.6);
	/* repeated as it moves (it moves fast once the drift stopped), but
	 * not at every bin (240 bins in all) */
	assert_true(forecasts >= 2);
	assert_true(forecasts <= 30);
	/* once the drift stopped: no crossing within the horizon */
	assert_true(none >= 1);
	monitor_free(m);
	config_free(c);
}

/* Readings every 10 minutes from *ts to end drifting 0.5 degC a day from
 * 20 at t0 (trend.cfg's channel); returns the trend samples they made and
 * the time of the first in *first (when not NULL and still 0). */
static size_t feed_drift(struct monitor *m, int64_t t0, int64_t *ts,
                         int64_t end, int64_t *first)
{
	struct sample out[8];
	size_t trends = 0;

	for (; *ts < end; *ts += 600 * SEC) {
		double days = (double)(*ts - t0) / (86400.0 * SEC);
		struct sample r =
		        reading(0, *ts, 20.0 + 0.5 * days, QUALITY_GOOD);
		size_t n = monitor_sample(m, &r, out);
		for (size_t i = 0; i < n; i++) {
			if (!(out[i].detail & SAMPLE_STATE_TREND))
				continue;
			if (first != NULL && *first == 0)
				*first = *ts;
			trends++;
		}
	}
	return trends;
}

/* A reload with the same tolerance keeps the trend: after 12 h of drift
 * (12 bins), a rebuild onto a new copy of trend.cfg, and a forecast that
 * is news comes at the next bin's close; a fresh trend would need ten. */
static void rebuild_keeps_the_trend(void **state)
{
	(void)state;
	struct config *c = load("trend.cfg"), *next = load("trend.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[8];
	const int64_t t0 = 1767225600LL * SEC, step = 600 * SEC;
	int64_t ts = t0;
	size_t trends = 0;

	assert_non_null(m);
	/* 0.5 degC a day: well inside, crossing in about a day */
	feed_drift(m, t0, &ts, t0 + 12 * 3600 * SEC, NULL);
	assert_int_equal(monitor_rebuild(m, next), 0);
	config_free(c);
	/* a step back: the old forecast (the upper limit) is no longer what
	 * the kept points and the new ones say, so the next close is news */
	for (int64_t end = ts + 3600 * SEC; ts <= end; ts += step) {
		struct sample r = reading(0, ts, 20.0 - 0.4, QUALITY_GOOD);
		size_t n = monitor_sample(m, &r, out);
		for (size_t i = 0; i < n; i++)
			trends += (out[i].detail & SAMPLE_STATE_TREND) != 0;
	}
	assert_int_equal(trends, 1);
	monitor_free(m);
	config_free(next);
}

/* A new calibration restarts the trend: after 12 h of drift a forecast
 * is out; after monitor_restart_trends() none comes until ten new bins
 * are in, and the tolerance state is kept. */
static void restart_trends_after_a_calibration(void **state)
{
	(void)state;
	struct config *c = load("trend.cfg");
	struct monitor *m = monitor_new(c);
	const int64_t t0 = 1767225600LL * SEC;
	int64_t ts = t0, first = 0;

	assert_non_null(m);
	assert_true(feed_drift(m, t0, &ts, t0 + 12 * 3600 * SEC, NULL) >= 1);
	int before = monitor_state(m, 0);
	monitor_restart_trends(m, 0);
	monitor_restart_trends(m, 99); /* no such instrument: nothing */
	assert_int_equal(monitor_state(m, 0), before);
	int64_t restart = ts;
	feed_drift(m, t0, &ts, restart + 12 * 3600 * SEC, &first);
	/* the tenth bin after the restart closes at the eleventh hour */
	assert_true(first > 0);
	assert_true(first - restart >= 10 * 3600 * SEC);
	monitor_free(m);
	config_free(c);
}

/* The demo's case (tools/demo.sh, gauge-3): a drift that crosses the
 * limit and keeps going. trend.cfg, 20 +- 0.5, 1 h bins: 0.5 degC a day
 * from 20 crosses on day 1 and goes on for five more days (120 bins past
 * the limit). The forecast says "reached" (in 0 s) at every one of those
 * bins; that is one event, not one per bin (it was 60 of them, one every
 * other bin). Then the error comes back to 20 and stays: news again,
 * a few times, ending with "no crossing". */
static void trend_one_event_per_crossing(void **state)
{
	(void)state;
	struct config *c = load("trend.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[8];
	const int64_t t0 = 1767225600LL * SEC, step = 600 * SEC;
	const double day = 86400.0 * SEC;
	int ahead = 0, reached = 0, after_reached = 0, back = 0;
	int64_t ts;

	assert_non_null(m);
	for (ts = t0; ts < t0 + 6 * (int64_t)day; ts += step) {
		double days = (double)(ts - t0) / day;
		struct sample r =
		        reading(0, ts, 20.0 + 0.5 * days, QUALITY_GOOD);
		size_t n = monitor_sample(m, &r, out);
		for (size_t i = 0; i < n; i++) {
			if (!(out[i].detail & SAMPLE_STATE_TREND))
				continue;
			assert_true(out[i].detail & SAMPLE_STATE_HIGH);
			if (reached > 0)
				after_reached++;
			if (out[i].value == 0)
				reached++;
			else
				ahead++;
		}
	}
	assert_int_equal(reached, 1);
	assert_int_equal(after_reached, 0);
	/* the date ahead is reported a few times as it comes closer */
	assert_true(ahead >= 1);
	assert_true(ahead <= 10);
	/* back at 20 for twelve days: while the step is inside the 10-day
	 * window the line is a poor model (its bound reaches one limit,
	 * then the other: each a change of limit, so news); once the step
	 * has left it, "no crossing" follows, and nothing after that */
	double last = 0;
	for (int64_t end = ts + 12 * (int64_t)day; ts < end; ts += step) {
		struct sample r = reading(0, ts, 20.0, QUALITY_GOOD);
		size_t n = monitor_sample(m, &r, out);
		for (size_t i = 0; i < n; i++) {
			if (!(out[i].detail & SAMPLE_STATE_TREND))
				continue;
			last = out[i].value;
			back++;
		}
	}
	assert_true(back >= 1);
	assert_true(back <= 10);
	assert_true(isnan(last));
	monitor_free(m);
	config_free(c);
}

/* A persistent shift on channel "asym" (CUSUM h = 5, k = 0.5, sigma
 * 0.125 given): z = 2 signals every 4th reading as the chart restarts
 * run after run, but it is one episode: one event in 400 readings. Back
 * at 0 for the quiet gap (77 readings) and shifted again: one more. */
static void cusum_persistent_shift_is_one_event(void **state)
{
	(void)state;
	struct config *c = load("tolerance.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[MONITOR_MAX_PER_READING * 400];
	int64_t ts = 1000 * SEC;
	size_t charts = 0, n;

	n = feed(m, 5, &ts, 0.25, QUALITY_GOOD, 400, out);
	for (size_t i = 0; i < n; i++)
		charts += (out[i].detail & SAMPLE_STATE_CUSUM) != 0;
	assert_int_equal(charts, 1);
	n = feed(m, 5, &ts, 0, QUALITY_GOOD, 77, out);
	for (size_t i = 0; i < n; i++)
		assert_false(out[i].detail & SAMPLE_STATE_CUSUM);
	n = feed(m, 5, &ts, 0.25, QUALITY_GOOD, 400, out);
	charts = 0;
	for (size_t i = 0; i < n; i++)
		charts += (out[i].detail & SAMPLE_STATE_CUSUM) != 0;
	assert_int_equal(charts, 1);
	monitor_free(m);
	config_free(c);
}

/* The state of one reading of channel index after a fresh start. */
static int one_state(const char *cfg, uint32_t index, double v)
{
	struct config *c = load(cfg);
	struct monitor *m = monitor_new(c);
	struct sample out[16];
	int64_t ts = 1000 * SEC;
	int st;

	assert_non_null(m);
	feed(m, index, &ts, v, QUALITY_GOOD, 1, out);
	st = monitor_state(m, index);
	monitor_free(m);
	config_free(c);
	return st;
}

/* A reading on a limit is on it (exact.cfg): at the channel's
 * resolution, with the error exact in decimal. Each value here is one
 * binary arithmetic put outside its limit. */
static void reading_on_a_limit_is_on_it(void **state)
{
	(void)state;
	/* float32 0.8f against 0.7 +- 0.1: 0.8000000 at 7 digits */
	assert_true((double)0.8f - 0.7 > 0.1);
	assert_int_equal(one_state("exact.cfg", 0, (double)0.8f),
	                 DRIFT_IN_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 0, (double)0.8000001f),
	                 DRIFT_OUT_OF_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 0, (double)0.6f),
	                 DRIFT_IN_TOLERANCE);
	/* int16 201 x 0.1 against 20 +- 0.1 */
	assert_true(201 * 0.1 - 20.0 > 0.1);
	assert_int_equal(one_state("exact.cfg", 1, 201 * 0.1),
	                 DRIFT_IN_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 1, 202 * 0.1),
	                 DRIFT_OUT_OF_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 1, 199 * 0.1),
	                 DRIFT_IN_TOLERANCE);
	/* resolution 0.01: 20.0549 is 20.05, 20.055 is 20.06 */
	assert_int_equal(one_state("exact.cfg", 2, 20.0549),
	                 DRIFT_IN_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 2, 20.05), DRIFT_IN_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 2, 20.055),
	                 DRIFT_OUT_OF_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 2, 19.95), DRIFT_IN_TOLERANCE);
	/* the acceptance limit 20 + 0.05 - 0.00996 = 20.04004 */
	assert_int_equal(one_state("exact.cfg", 3, 20.04004),
	                 DRIFT_IN_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 3, 20.04005), DRIFT_WARNING);
	assert_int_equal(one_state("exact.cfg", 3, 19.95996),
	                 DRIFT_IN_TOLERANCE);
	assert_int_equal(one_state("exact.cfg", 3, 19.95995), DRIFT_WARNING);
	assert_int_equal(one_state("exact.cfg", 3, 20.05), DRIFT_WARNING);
}

/* policy.cfg: +-0.05 degC, U = 0.02, simple (TUR 2.5 < 4). 20.035 is
 * inside the limits and the warning fraction, but a pass there has a
 * specific risk of 6.7 % > 2.5 %: no statement can be made, so the state
 * is warning, never in_tolerance; 20.01 (risk 0.1 %) is in tolerance. */
static void no_statement_is_a_warning(void **state)
{
	(void)state;
	struct config *c = load("policy.cfg");
	struct monitor *m = monitor_new(c);
	struct sample out[64];
	int64_t ts = 1000 * SEC;

	assert_non_null(m);
	assert_int_equal(feed(m, 0, &ts, 20.035, QUALITY_GOOD, 3, out), 1);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_WARNING);
	assert_int_equal(monitor_state(m, 0), DRIFT_WARNING);
	assert_int_equal(feed(m, 0, &ts, 20.01, QUALITY_GOOD, 3, out), 1);
	assert_int_equal(SAMPLE_STATE_NEW(out[0].detail), DRIFT_IN_TOLERANCE);
	monitor_free(m);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(state_changes_are_samples),
	        cmocka_unit_test(no_statement_is_a_warning),
	        cmocka_unit_test(reading_on_a_limit_is_on_it),
	        cmocka_unit_test(cusum_signals_once),
	        cmocka_unit_test(comparison_against_a_reference_channel),
	        cmocka_unit_test(rebuild_keeps_unchanged_channels),
	        cmocka_unit_test(trend_forecasts_the_crossing),
	        cmocka_unit_test(rebuild_keeps_the_trend),
	        cmocka_unit_test(restart_trends_after_a_calibration),
	        cmocka_unit_test(trend_one_event_per_crossing),
	        cmocka_unit_test(cusum_persistent_shift_is_one_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
