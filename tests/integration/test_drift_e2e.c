/*
 * test_drift_e2e.c - the tolerance monitor end to end: metrolog-sim drifts
 * three channels linearly under time acceleration, metrologd (with a
 * tolerance group on each) records their state changes as events in the
 * real SQLite file.
 *
 *   c0  drift only: one event into warning and one into out_of_tolerance,
 *       each at about the time the drift implies;
 *   c1  the same drift with noise: still exactly one event per transition
 *       (consecutive readings and hysteresis keep it from flapping);
 *   c2  the same drift, then a step back to the reference before it would
 *       warn again: back to in_tolerance with one event.
 *   c4  the same drift as c0, against c3 (reference_channel, a steady
 *       standard at 25 read in the same poll): the same events as c0.
 *
 * The expected times come from the simulator's own model,
 * value(t) = nominal + drift * t / 86400 + step, t = accel * real seconds
 * since it started (docs/SIMULATOR.md). The tolerance on them is generous:
 * this is not a speed test, and it also runs under valgrind.
 *
 * Threading: one thread; the harness runs metrologd and the simulator as
 * child processes.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "gwtest.h"
#include "harness.h"

/* The timeline, in real seconds since the simulator started. */
#define ACCEL    3600.0  /* one simulated hour per real second */
#define RATE     0.0625  /* error per real second */
#define LIMIT    0.5     /* tolerance: 20 +- 0.5 */
#define WARN     0.5     /* warning beyond half the limit */
#define STEP_AT  10.0    /* c2 steps back to the reference here */
#define STOP_AT  11.5    /* before c2 could warn again (14 s) */
#define SLACK_US 1500000 /* event time against the model */

static int64_t real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The simulator runs with --clock-on-request: its model starts with the
 * first value metrologd reads, however long metrologd takes to start (a
 * loaded machine, valgrind). That instant, as the first reading's time,
 * once there is one (waiting up to 5 minutes). */
static int64_t model_start(const struct gw *g)
{
	for (int i = 0; i < 3000; i++) {
		if (access(g->db, F_OK) == 0) {
			long long t =
			        db_try_int(g->db, "SELECT coalesce(min(ts),"
			                          " 0) FROM readings");
			if (t > 0)
				return t;
		}
		sleep_ms(100);
	}
	fail_msg("no reading in 5 minutes");
	return 0;
}

/* what (an expression of the events row e) of the tolerance events of
 * channel ch whose detail matches like, the first row. */
static long long tol_events(struct gw *g, const char *what, const char *ch,
                            const char *like)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "SELECT %s FROM events e JOIN channels c ON c.id = "
	         "e.channel_id WHERE e.kind = 'tolerance' AND c.name = '%s' "
	         "AND e.detail LIKE '%s'",
	         what, ch, like);
	return db_int(g->db, sql);
}

/* Tolerance events of channel ch whose detail matches like. */
static long long count_tol(struct gw *g, const char *ch, const char *like)
{
	return tol_events(g, "count(*)", ch, like);
}

/* The ts of the one tolerance event of channel ch matching like. */
static long long tol_ts(struct gw *g, const char *ch, const char *like)
{
	return tol_events(g, "e.ts", ch, like);
}

static void dump_events(struct gw *g)
{
	sqlite3 *db = db_open(g->db);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "SELECT e.ts, c.name, e.detail FROM events e "
	                       "JOIN channels c ON c.id = e.channel_id "
	                       "ORDER BY e.id",
	                       -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW)
			print_message("%lld %s %s\n",
			              (long long)sqlite3_column_int64(st, 0),
			              (const char *)sqlite3_column_text(st, 1),
			              (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The event ts is within SLACK_US after the model's crossing (the state
 * changes on the third reading beyond it; noise may delay it a little). */
static void assert_near(const char *what, long long ts, int64_t t0_us,
                        double level)
{
	int64_t want = t0_us + (int64_t)(level / RATE * 1e6);

	if (ts < want - SLACK_US || ts > want + SLACK_US)
		fail_msg("%s at %+.3f s from the model's %.3f s", what,
		         (double)(ts - want) / 1e6, level / RATE);
}

static void drift_warns_then_fails_once(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[256], inst[4096], c[5][256], drift[64], step[128];
	const double per_day = RATE * 86400.0 / ACCEL;

	snprintf(drift, sizeof(drift), "drift=%.17g", per_day);
	snprintf(c[0], sizeof(c[0]), "0:nominal=20,%s", drift);
	snprintf(c[1], sizeof(c[1]), "1:nominal=20,%s,noise=0.01", drift);
	snprintf(step, sizeof(step), "step=%.17g,step_at=%.17g",
	         -RATE * STEP_AT, STEP_AT * ACCEL);
	snprintf(c[2], sizeof(c[2]), "2:nominal=20,%s,%s", drift, step);
	snprintf(c[3], sizeof(c[3]), "3:nominal=25");
	snprintf(c[4], sizeof(c[4]), "4:nominal=25,%s", drift);
	const char *extra[] = {"-m", "5",  "-a", "3600", "--clock-on-request",
	                       "-c", c[0], "-c", c[1],   "-c",
	                       c[2], "-c", c[3], "-c",   c[4],
	                       NULL};

	gw_init(&g, dir);
	assert_int_equal(h_sim_start(&sim, dir, true, false, extra), 0);
	tcp_bus(bus, sizeof(bus), "tcp-1", sim.port, 1000);
	int n = snprintf(inst, sizeof(inst),
	                 "{ id = \"TB-01\"; bus = \"tcp-1\"; unit_id = 1; "
	                 "interval_ms = 100; channels = (");
	for (int k = 0; k < 3; k++)
		n += snprintf(inst + n, sizeof(inst) - (size_t)n,
		              "%s{ name = \"c%d\"; table = \"input\"; "
		              "address = %d; type = \"float32\"; "
		              "unit = \"degC\"; tolerance = { reference = 20; "
		              "limit = %g; warning = %g; hysteresis = 0.1; "
		              "consecutive = 3; }; }",
		              k ? ", " : "", k, 2 * k, LIMIT, WARN);
	/* c4 against c3, a steady reference standard read at the same poll */
	snprintf(inst + n, sizeof(inst) - (size_t)n,
	         ", { name = \"c3\"; table = \"input\"; address = 6; "
	         "type = \"float32\"; unit = \"degC\"; }, "
	         "{ name = \"c4\"; table = \"input\"; address = 8; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference_channel = \"c3\"; limit = %g; warning = %g; "
	         "hysteresis = 0.1; consecutive = 3; }; }); }",
	         LIMIT, WARN);
	gw_config(&g, bus, inst, NULL);
	gw_start(&g);
	int64_t t0 = model_start(&g);
	int64_t stop = t0 + (int64_t)(STOP_AT * 1e6);
	while (real_us() < stop)
		sleep_ms(50);
	assert_int_equal(gw_stop(&g), 0);
	assert_int_equal(h_sim_stop(&sim), 0);
	dump_events(&g);

	/* c0, c1 and c4 (comparison): into warning once, out of tolerance
	 * once, on time */
	for (int k = 0; k < 5; k++) {
		char ch[8];
		if (k == 2 || k == 3)
			continue;
		snprintf(ch, sizeof(ch), "c%d", k);
		assert_int_equal(count_tol(&g, ch, "% -> warning:%"), 1);
		assert_int_equal(count_tol(&g, ch, "% -> out_of_tolerance:%"),
		                 1);
		assert_int_equal(count_tol(&g, ch, "% -> in_tolerance:%"), 1);
		assert_int_equal(count_tol(&g, ch, "%"), 3);
		assert_near("warning", tol_ts(&g, ch, "% -> warning:%"), t0,
		            LIMIT * WARN);
		assert_near("out_of_tolerance",
		            tol_ts(&g, ch, "% -> out_of_tolerance:%"), t0,
		            LIMIT);
	}
	/* c2: the same, then back once in tolerance after the step */
	assert_int_equal(count_tol(&g, "c2", "% -> warning:%"), 1);
	assert_int_equal(count_tol(&g, "c2", "% -> out_of_tolerance:%"), 1);
	assert_int_equal(
	        count_tol(&g, "c2", "out_of_tolerance -> in_tolerance:%"), 1);
	assert_int_equal(count_tol(&g, "c2", "%"), 4);
	assert_near("back in tolerance",
	            tol_ts(&g, "c2", "out_of_tolerance -> in_tolerance:%"), t0,
	            RATE * STEP_AT);
	/* the detail names the error, the limits and the rule */
	char detail[512];
	db_text(g.db,
	        "SELECT detail FROM events WHERE kind = 'tolerance' AND "
	        "detail LIKE 'warning -> out_of_tolerance:%' LIMIT 1",
	        detail, sizeof(detail));
	if (strstr(detail, "degC, limits [-0.5, 0.5], rule simple") == NULL)
		fail_msg("detail: %s", detail);
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS.ffffffZ" after "by "
 * in a trend event's detail; -1 when there is none. */
static double predicted_s(const char *detail)
{
	const char *p = strstr(detail, " reached by ");
	struct tm tm = {0};
	double sec;

	if (p == NULL ||
	    sscanf(p + 12, "%d-%d-%dT%d:%d:%lfZ", &tm.tm_year, &tm.tm_mon,
	           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + sec;
}

/* When the straight line fitted by least squares to every good reading of
 * the file (ts in s, value) reaches level: the model's crossing, from the
 * readings themselves rather than from when the simulator was started
 * (which a loaded machine or valgrind makes uncertain by seconds). */
static double fitted_crossing(sqlite3 *db, double level)
{
	sqlite3_stmt *st = NULL;
	double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, x0 = -1;

	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT ts, value FROM readings "
	                                    "WHERE quality = 0 ORDER BY ts",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		double x = (double)sqlite3_column_int64(st, 0) / 1e6;
		double y = sqlite3_column_double(st, 1);
		if (x0 < 0)
			x0 = x;
		x -= x0;
		n++;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
	}
	sqlite3_finalize(st);
	assert_true(n >= 10);
	double b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	double a = (sy - b * sx) / n;
	assert_true(b > 0);
	return x0 + (level - a) / b;
}

/* c0 drifts at TREND_RATE per real second towards 20 + 0.5, reached at
 * 25 s; the trend (1 s bins over 0.01 day) forecasts from its tenth bin
 * on. Each forecast's date is conservative (the 95 % bound: not after
 * the model's crossing) and not absurdly early. */
#define TREND_RATE 0.02
#define TREND_STOP 16.0

static void trend_predicts_the_crossing(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[256], inst[1024], c0[128];

	snprintf(c0, sizeof(c0), "0:nominal=20,drift=%.17g,noise=0.002",
	         TREND_RATE * 86400.0 / ACCEL);
	const char *extra[] = {"-m", "1", "-a", "3600", "--clock-on-request",
	                       "-c", c0,  NULL};
	gw_init(&g, dir);
	assert_int_equal(h_sim_start(&sim, dir, true, false, extra), 0);
	tcp_bus(bus, sizeof(bus), "tcp-1", sim.port, 1000);
	snprintf(inst, sizeof(inst),
	         "{ id = \"TB-01\"; bus = \"tcp-1\"; unit_id = 1; "
	         "interval_ms = 100; channels = ( { name = \"c0\"; "
	         "table = \"input\"; address = 0; type = \"float32\"; "
	         "unit = \"degC\"; tolerance = { reference = 20; limit = %g; "
	         "trend_days = 0.01; trend_bin_s = 1; trend_horizon_days = 1; "
	         "}; } ); }",
	         LIMIT);
	gw_config(&g, bus, inst, NULL);
	gw_start(&g);
	int64_t t0 = model_start(&g);
	while (real_us() < t0 + (int64_t)(TREND_STOP * 1e6))
		sleep_ms(50);
	assert_int_equal(gw_stop(&g), 0);
	assert_int_equal(h_sim_stop(&sim), 0);
	dump_events(&g);

	sqlite3 *db = db_open(g.db);
	double cross = fitted_crossing(db, 20 + LIMIT);
	sqlite3_stmt *st = NULL;
	int n = 0;

	/* the fit of what was served agrees with the drift asked for */
	assert_true(fabs(cross - ((double)t0 / 1e6 + LIMIT / TREND_RATE)) < 30);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT detail FROM events WHERE "
	                                    "kind = 'trend' ORDER BY id",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 0);
		double at = predicted_s(d);
		n++;
		if (strstr(d, "the upper limit 0.5 degC") == NULL || at < 0)
			fail_msg("trend event: %s", d);
		if (at > cross + 0.5 || at < cross - 12)
			fail_msg("predicted %+.2f s from the model's crossing: "
			         "%s",
			         at - cross, d);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(n >= 1);
	assert_true(n <= 10); /* news only: not one per bin */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(drift_warns_then_fails_once,
	                                  h_teardown),
	        cmocka_unit_test_teardown(trend_predicts_the_crossing,
	                                  h_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
