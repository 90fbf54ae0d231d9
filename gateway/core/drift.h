/*
 * drift.h - the metrology core: tolerance limits, ILAC-G8 decision rules,
 * probability of conformance (JCGM 106), the live state of a channel, EWMA
 * and CUSUM charts, the drift trend with its predicted out-of-tolerance date,
 * and calibration-interval advice.
 *
 * Everything here is a pure function of its arguments, or of a small struct
 * the caller owns and passes in; no I/O, no allocation, no global state. The
 * per-reading functions (drift_channel_update, drift_ewma_update,
 * drift_cusum_update, drift_trend_add) are O(1) and may run on the gateway's
 * ingest thread; the prediction and interval functions run on demand.
 *
 * Sign convention everywhere: error e = indication - reference, in the
 * channel's engineering unit. Limits are error limits (lower, upper) with
 * lower <= upper. THE BOUNDARY RULE: a value exactly at a limit is on the
 * inside of that limit: lower <= e <= upper is in tolerance, and
 * lower + w <= e <= upper - w is inside the acceptance zone.
 *
 * EXACTLY: every decision (drift_decide*, the live state) is made in
 * decimal (dec.h), not in binary floating point. Each double argument
 * stands for the shortest decimal that reads back as it (the number that
 * was typed, when it had at most 15 significant digits), the error
 * indication - reference, w = r * U and the acceptance limits are exact
 * decimal results, so 20.05 - 20 is 0.05 and on a limit of 0.05. The
 * doubles these functions hand back are the nearest to the exact
 * decimals. docs/METROLOGY.md, "A value on a limit is on it: how".
 *
 * Formulas, defaults and references: docs/METROLOGY.md.
 */
#ifndef METROLOG_DRIFT_H
#define METROLOG_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dec.h"

/* ---- Tolerance forms ------------------------------------------------- */

enum drift_tol_form {
	DRIFT_TOL_ABS,         /* +-abs                                    */
	DRIFT_TOL_PCT_READING, /* +-pct % of |reading|                     */
	DRIFT_TOL_PCT_SPAN,    /* +-pct % of span (full scale)             */
	DRIFT_TOL_PPM, /* +-(ppm_reading*|reading| + ppm_range*range)*1e-6 */
	DRIFT_TOL_PCT_DIGITS, /* +-(pct % of |reading| + digits*resolution) */
	DRIFT_TOL_ASYM,       /* [lower, upper], fixed                    */
};

/* A tolerance as a datasheet states it. Only the fields of the form are
 * read; all are in the engineering unit except pct (percent), ppm_* (parts
 * per million) and digits (a count of the last displayed digit). */
struct drift_tol {
	enum drift_tol_form form;
	double abs;         /* ABS                                         */
	double pct;         /* PCT_READING, PCT_SPAN, PCT_DIGITS           */
	double span;        /* PCT_SPAN: span or full scale                */
	double ppm_reading; /* PPM                                         */
	double ppm_range;   /* PPM                                         */
	double range;       /* PPM: the range the ppm of range refers to   */
	double digits;      /* PCT_DIGITS: number of digits                */
	double resolution;  /* PCT_DIGITS: value of one digit              */
	double lower;       /* ASYM: lower error limit                     */
	double upper;       /* ASYM: upper error limit                     */
};

/*
 * The error limits for a reading (the instrument's indication, in the
 * engineering unit; "% of reading" uses |reading|). Symmetric forms give
 * lower = -upper. The arithmetic is decimal (0.25 % of 20 is 0.05, not
 * 0.05 and a few ulps), rounded once to the nearest double; in binary
 * only when the decimal result would not fit 18 digits. Returns 0, or -1
 * (outputs untouched) when t is NULL, the form unknown, a parameter
 * negative or not finite, or lower > upper.
 */
int drift_tol_limits(const struct drift_tol *t, double reading, double *lower,
                     double *upper);

/* ---- Decision rules (ILAC-G8:2019) ----------------------------------- */

enum drift_decision {
	DRIFT_PASS,             /* inside the acceptance zone              */
	DRIFT_CONDITIONAL_PASS, /* in tolerance, inside the guard band     */
	DRIFT_CONDITIONAL_FAIL, /* out of tolerance by at most w           */
	DRIFT_FAIL,             /* out of tolerance by more than w         */
	/* never from drift_decide*: a calibration point whose uncertainty
	 * is too large for any statement under the lab's policy (calib.h,
	 * calib_evaluate, rule version 2). Last, so the values above keep
	 * the numbers stored and hashed since version 1. */
	DRIFT_NO_STATEMENT,
};
#define DRIFT_DECISIONS 5 /* values of enum drift_decision */

struct drift_verdict {
	enum drift_decision decision;
	double error;        /* e (indication - reference, exact, rounded)  */
	double guard;        /* w = r * U                                   */
	double accept_lower; /* lower + w                                   */
	double accept_upper; /* upper - w                                   */
};

/*
 * Decide conformity of error e against [lower, upper] with expanded
 * uncertainty U (>= 0) and guard-band factor r (>= 0): w = r * U.
 * r = 0 is simple acceptance (only PASS or FAIL); r = 1 gives ILAC-G8's
 * guarded acceptance with w = U (about 2.5 % specific risk when k = 2);
 * r = 0.83 about 5 %. Zones, with the boundary rule of this header:
 *   lower+w <= e <= upper-w             PASS
 *   lower <= e <= upper, otherwise      CONDITIONAL_PASS
 *   lower-w <= e <= upper+w, otherwise  CONDITIONAL_FAIL
 *   otherwise                           FAIL
 * (The conditional-fail band is as wide as the guard band, so simple
 * acceptance stays binary and r = 1 gives ILAC-G8:2009's zones of width U.)
 * If 2w > upper - lower no value can PASS; the verdict still follows the
 * zones. Returns 0, or -1 when an argument is NaN, U or r negative, or
 * lower > upper.
 */
int drift_decide(double e, double lower, double upper, double U, double r,
                 struct drift_verdict *out);

/*
 * The same decision with the error computed here, exactly:
 * e = indication - reference in decimal (see EXACTLY above). This is the
 * one every decision of a result uses (calib_evaluate, `metrolog
 * conformity`). Returns 0, or -1 when an argument is not finite, U or r
 * negative, lower > upper, or the numbers are too far apart in magnitude
 * for 18 significant digits (e.g. 1e300 - 1e-300): then no decision.
 */
int drift_decide_at(double indication, double reference, double lower,
                    double upper, double U, double r,
                    struct drift_verdict *out);

/* The decision itself, on decimals: what drift_decide and
 * drift_decide_at call. Returns -1 as drift_decide_at does. */
int drift_decide_dec(const struct dec *e, const struct dec *lower,
                     const struct dec *upper, const struct dec *U,
                     const struct dec *r, struct drift_verdict *out);

/* indication - reference, exact in decimal, rounded once to a double (the
 * live error: its shortest decimal is the exact difference whenever that
 * has at most 15 significant digits). NAN when either is not finite; the
 * binary difference when the decimal one would not fit 18 digits. */
double drift_error(double indication, double reference);

/* w = r * U, exact in decimal, rounded once to a double (the binary
 * product when the decimal one would not fit). */
double drift_guard_band(double r, double U);

/* "pass", "conditional pass", "conditional fail", "fail", "no statement":
 * the words the database, MQTT and the tool use. */
const char *drift_decision_name(enum drift_decision d);

/* ---- Probability of conformance (JCGM 106:2012, normal model) -------- */

/* Standard normal distribution function, via erfc (accurate in both
 * tails). */
double drift_phi(double x);

/* The x with drift_phi(x) = p, 0 < p < 1 (bisection on drift_phi, to
 * double precision); NaN outside (0, 1). */
double drift_phi_inv(double p);

/* The p-quantile of Student's t with nu >= 1 degrees of freedom, 0 < p < 1,
 * from the exact distribution function for integer nu (Abramowitz & Stegun
 * 26.7.3-4) for nu <= 1000, Cornish-Fisher above; NaN on bad arguments.
 * O(nu) per bisection step: call on demand, not per reading. */
double drift_t_quantile(double p, int nu);

/*
 * p_c = Phi((upper-y)/u) - Phi((lower-y)/u): the probability that the
 * measurand lies within [lower, upper] given the estimate y and standard
 * uncertainty u > 0. Limits may be -INFINITY / INFINITY (one-sided).
 * drift_nonconformance returns 1 - p_c, computed directly so that small
 * risks keep their precision. Both NaN when u <= 0 or lower > upper.
 */
double drift_conformance(double y, double u, double lower, double upper);
double drift_nonconformance(double y, double u, double lower, double upper);

/*
 * Worst-case specific false-accept risk of a guard band w: 1 - p_c for a
 * result exactly at an acceptance limit (lower+w or upper-w), the larger
 * of the two. NaN when u <= 0, w < 0 or the acceptance zone is empty.
 */
double drift_worst_pfa(double lower, double upper, double w, double u);

/* ---- When a decision is a statement (the lab's policy) -------------- */

/* The policy's defaults (docs/METROLOGY.md, "When a statement can be
 * made"; ILAC-G8:2019 and JCGM 106:2012): a decision is a statement when
 * TUR >= 4 or its specific risk <= 2.5 %. */
#define DRIFT_MIN_TUR_DEFAULT  4.0
#define DRIFT_MAX_RISK_DEFAULT 0.025

/* Why a decision may or may not be a statement of conformity. */
struct drift_statement {
	double tur;   /* (upper - lower) / (2 U); INFINITY when U = 0 */
	double risk;  /* the specific risk of the decision (JCGM 106:2012,
	                 normal, u): 1 - p_c for pass and conditional pass
	                 (false accept), p_c for fail and conditional fail
	                 (false reject); 0 when u = 0 */
	bool overlap; /* the acceptance zone is empty (2w > upper - lower):
	                 no result can pass */
	bool made;    /* a statement: !overlap, and the decision conditional
	                 (ILAC-G8 says so itself), tur >= min_tur (exact in
	                 decimal) or risk <= max_risk */
	/* what the reason is written from (drift_statement_why) */
	double min_tur, max_risk; /* the policy applied (defaults filled) */
	double width, guard;      /* upper - lower, w */
};

/*
 * THE POLICY, one definition for `metrolog calibrate` (calib.c),
 * `metrolog conformity` and the live states: whether verdict v (from
 * drift_decide* on these lower, upper and U, its decision the one to
 * state) can be a statement. u is the standard uncertainty (U / k) the
 * risk is computed with. min_tur and max_risk (a fraction) <= 0 mean the
 * defaults above. Returns 0, or -1 (out untouched) when lower, upper, U
 * or u is not finite, U or u negative, or the decision not one of
 * drift_decide's four.
 */
int drift_statement_of(const struct drift_verdict *v, double lower,
                       double upper, double U, double u, double min_tur,
                       double max_risk, struct drift_statement *out);

/* Why st was not made, as "TUR 0.1 < 4 and specific risk 84.1 % > 2.5 %"
 * or "the guard bands overlap (2w = 1.5 > upper - lower = 1)", into buf
 * (snprintf's contract); "" when it was made. */
void drift_statement_why(const struct drift_statement *st, char *buf,
                         size_t size);

/* ---- Live channel state --------------------------------------------- */

enum drift_state {
	DRIFT_NO_DATA,
	DRIFT_IN_TOLERANCE,
	DRIFT_WARNING,
	DRIFT_OUT_OF_TOLERANCE,
};

const char *drift_state_name(enum drift_state s);
/* The word the database, MQTT and the tool use for a state: "no_data",
 * "in_tolerance", "warning", "out_of_tolerance" (DRIFT_STATES of them, in
 * enum order); drift_state_parse() reads one back (0, or -1: none). */
#define DRIFT_STATES 4
const char *drift_state_word(enum drift_state s);
int drift_state_parse(const char *word, enum drift_state *s);

/* Defaults of drift_channel_init. */
#define DRIFT_WARN_FRACTION 0.8
#define DRIFT_HYSTERESIS    0.05
#define DRIFT_CONSECUTIVE   3

struct drift_channel_cfg {
	double lower, upper;  /* error limits, lower <= upper               */
	double guard;         /* guard band w >= 0 (0: none)                */
	double warn_fraction; /* (0, 1]: warn beyond this fraction of limit */
	double hysteresis;    /* [0, 1): fraction of the limit to come back */
	int consecutive;      /* >= 1 readings before a change              */
	/* the statement policy (drift_statement_of): with U > 0, a reading
	 * whose pass cannot be a statement is WARNING, never IN_TOLERANCE */
	double U;        /* expanded uncertainty >= 0 (0: none, no check)   */
	double u;        /* its standard uncertainty U / k, > 0 when U > 0 */
	double min_tur;  /* >= 0, 0: DRIFT_MIN_TUR_DEFAULT                  */
	double max_risk; /* [0, 0.5], 0: DRIFT_MAX_RISK_DEFAULT             */
};

/* The thresholds of the live state, made once by drift_channel_init:
 * the limits and centre as decimals (the distances of each side are
 * derived from them when a reading needs the decimal comparison), and
 * every threshold as a double on the axis of e, [side: 0 upper, 1
 * lower][0: as is, 1: moved in by the hysteresis], for the binary
 * shortcut (drift.c, "The binary shortcut"). */
struct drift_exact {
	bool ok;     /* false: a threshold would not fit; decided in binary */
	bool policy; /* U > 0 and TUR < min_tur: a pass is a statement only
	                when its specific risk is within max_risk */
	bool fast;   /* the binary shortcut applies (ok, magnitudes sane)   */
	struct dec lower, upper, centre;
	double centre_d; /* centre, nearest double                          */
	/* [side][h]: e beyond t[0] is out, beyond t[1] or t[2] a warning
	 * (beyond: above on side 0, below on side 1) */
	double t[2][2][3];
	double slack; /* bound on the binary errors of the thresholds      */
};

/* Visible so the caller can embed it; fields are read-only outside
 * drift.c. */
struct drift_channel {
	struct drift_channel_cfg cfg;
	struct drift_exact exact;
	enum drift_state state;
	int64_t since_us; /* time of the last change (0 before any)         */
	int64_t last_us;  /* time of the last reading                       */
	double last_error;
	int run;     /* readings in the pending run          */
	int run_dir; /* +1 worse, -1 better, 2 data after none, -2 none */
	enum drift_state run_level; /* level the whole run supports         */
};

/*
 * Levels of one reading (centre c = 0 when lower < 0 < upper, else the
 * midpoint; q = (e-c)/(upper-c) above c, (e-c)/(lower-c) below):
 *   OUT_OF_TOLERANCE  e < lower or e > upper
 *   WARNING           q > warn_fraction, or e outside [lower+w, upper-w],
 *                     or (U > 0) a pass at e could not be a statement
 *                     under the policy (drift_statement_of: TUR <
 *                     min_tur and specific risk 1 - p_c(e) > max_risk):
 *                     in tolerance is a statement the lab cannot make
 *   IN_TOLERANCE      otherwise
 *   NO_DATA           e is NaN (a failed read)
 * Hysteresis: a reading that would lower the severity is re-classified
 * with every threshold moved inwards by `hysteresis` (as a fraction of the
 * side's half-width; for the policy, e moved outwards by as much), so a
 * value hovering at a threshold does not flap.
 * A change needs `consecutive` readings in a row that all point the same
 * way (all worse, all better, all missing, all present after NO_DATA); the
 * new state is the level the whole run supports (for a worse run the least
 * severe of its levels, for a better run the most severe). The state starts
 * at NO_DATA. Every comparison is exact in decimal (see EXACTLY above):
 * a reading exactly on a limit, on a guard-band limit or on the warning
 * threshold (warn_fraction x the side's half-width) is on its inside.
 */
/* Fills cfg defaults for fields <= 0 (warn_fraction, consecutive) and
 * checks it. Returns 0, or -1 when the limits are NaN or lower > upper,
 * or a field out of range. */
int drift_channel_init(struct drift_channel *c,
                       const struct drift_channel_cfg *cfg);

/* One reading at ts_us (microseconds since the epoch) with error e (NaN for
 * a missing reading). Returns true when the state changed (c->state is the
 * new one, c->since_us = ts_us). */
bool drift_channel_update(struct drift_channel *c, int64_t ts_us, double e);

/* The level of a single reading, without hysteresis or run length. */
enum drift_state drift_channel_level(const struct drift_channel_cfg *cfg,
                                     double e);

/*
 * The level drift_channel_update gives e on channel c (initialised), with
 * the thresholds moved in by the hysteresis when `inward`. With `exact`
 * false it is decided in binary when e is farther from every threshold
 * than the rounding of the binary numbers can move it, in decimal
 * otherwise (what drift_channel_update does); with `exact` true in
 * decimal alone. Both give the same level for every e: `exact` is the
 * reference tests/unit/test_exact.c holds the shortcut to.
 */
enum drift_state drift_channel_level_at(const struct drift_channel *c, double e,
                                        bool inward, bool exact);

/* ---- Control charts: EWMA and two-sided tabular CUSUM ---------------- */

/*
 * In-control mean and sigma: given (sigma > 0), or learned from the first
 * n readings with Welford's running mean and variance (sample standard
 * deviation, n - 1 in the denominator). While learning, charts do not
 * signal. A learned sigma of 0 makes any departure from the mean signal.
 */
struct drift_baseline {
	int n;        /* readings to learn from (>= 2), when learning      */
	int count;    /* readings seen while learning                      */
	double mean;  /* Welford running mean                              */
	double m2;    /* Welford sum of squared deviations                 */
	double mu;    /* in-control mean, once ready                       */
	double sigma; /* in-control sigma, once ready                      */
	bool ready;
};

/* Given mean and sigma > 0. */
void drift_baseline_given(struct drift_baseline *b, double mu, double sigma);
/* Learn from the first n >= 2 readings; returns -1 when n < 2. */
int drift_baseline_learn(struct drift_baseline *b, int n);

enum drift_signal {
	DRIFT_SIGNAL_LOW = -1, /* the chart crossed its lower limit          */
	DRIFT_SIGNAL_NONE = 0, /* in control, or still learning              */
	DRIFT_SIGNAL_HIGH = 1, /* the chart crossed its upper limit          */
};

/*
 * EWMA: z_i = lambda*x_i + (1-lambda)*z_{i-1}, z_0 = mu; signals when z_i
 * is outside mu +- L*sigma*sqrt(lambda/(2-lambda)*(1-(1-lambda)^(2i)))
 * (exact, time-varying limits; i counts readings after the baseline).
 * Exactly at a control limit is in control. The chart is not restarted:
 * it signals at every reading while z is outside. Episodes, what an
 * operator is told: one opens at the first signal (news = true for that
 * reading only) and lasts until z comes back to the centre line mu (or
 * past it); a signal on the other side opens a new one. So a persistent
 * shift that keeps z outside, or about its limit, is one episode.
 */
struct drift_ewma {
	struct drift_baseline base;
	double lambda, L;
	double z;
	double decay2; /* (1-lambda)^(2i) */
	double limit;  /* the current half-width of the control limits */
	long i;
	int episode; /* the open episode: +1 high, -1 low, 0 none */
	bool news;   /* the last reading opened an episode         */
};

/* 0 < lambda <= 1, L > 0; the baseline set by drift_baseline_*. Returns -1
 * on a bad argument. */
int drift_ewma_init(struct drift_ewma *c, double lambda, double L,
                    const struct drift_baseline *base);
enum drift_signal drift_ewma_update(struct drift_ewma *c, double x);

/*
 * Two-sided tabular CUSUM on z = (x - mu)/sigma, k and h in sigma units:
 *   C+_i = max(0, C+_{i-1} + z - k),  C-_i = max(0, C-_{i-1} - z - k)
 * signals HIGH when C+ > h, LOW when C- > h (exactly h is in control; if
 * both, the larger). A signal ends a run: both sums restart at 0 at once
 * (Montgomery's practice after an out-of-control signal), so a persistent
 * shift of delta sigma signals once per run, about every ARL(delta)
 * readings, and never at every reading. The sum that crossed h and the
 * length of the run are kept (last_sum, last_run); last_sum / last_run +
 * k estimates the shift in sigmas. drift_cusum_reset restarts both sums
 * by hand.
 *
 * Episodes, what an operator is told: a signal opens one (news = true
 * for that reading only) unless an episode of the same side is open; an
 * episode ends after `quiet` charted readings in a row without a signal,
 * quiet = drift_cusum_quiet(h). A shift of k sigmas or more, which the
 * restarted chart signals again and again, is one episode.
 */
struct drift_cusum {
	struct drift_baseline base;
	double k, h;
	double cp, cm;
	long run;        /* readings charted since the last (re)start      */
	long last_run;   /* readings of the run the last signal ended      */
	double last_sum; /* the sum that crossed h at the last signal     */
	long quiet;      /* readings without a signal that end an episode  */
	long since;      /* readings since the last signal                 */
	int episode;     /* the open episode: +1 high, -1 low, 0 none      */
	bool news;       /* the last reading opened an episode             */
};

/* k >= 0, h > 0. Returns -1 on a bad argument. */
int drift_cusum_init(struct drift_cusum *c, double k, double h,
                     const struct drift_baseline *base);
enum drift_signal drift_cusum_update(struct drift_cusum *c, double x);
/* Restart both sums (the run); the episode is kept. */
void drift_cusum_reset(struct drift_cusum *c);

/* ceil(2 (h + 1.166)^2) readings: twice Siegmund's approximation of the
 * run length at a shift of exactly k (the smallest the chart is tuned
 * for; (h + 1.166)^2 = 38 readings for h = 5), so a persistent shift of k
 * or more, signalled run after run, stays one episode (measured:
 * tools/bench/bench-charts). */
long drift_cusum_quiet(double h);

/* Defaults the configuration uses (docs/CONFIG.md): readings learned for
 * the in-control mean and sigma. With fewer, the estimated sigma makes
 * false alarms far more frequent than the charts' published in-control
 * run length (tools/bench/bench-charts, docs/METROLOGY.md). */
#define DRIFT_BASELINE_DEFAULT 1000

/* ---- Least-squares line and its prediction bound --------------------- */

/*
 * A fitted line y = ybar + slope*(x - xbar) with n points: either with an
 * intercept (dof = n - 2, c0 = 1 + 1/n) or through the origin (xbar =
 * ybar = 0, sxx = sum x^2, dof = n - 1, c0 = 1).
 */
struct drift_fit {
	int n, dof;
	double xbar, ybar;
	double sxx;      /* sum (x - xbar)^2                                */
	double c0;       /* 1 + 1/n, or 1 through the origin                */
	double slope;    /* units of y per unit of x                        */
	double s;        /* residual standard deviation, dof degrees        */
	double se_slope; /* s / sqrt(sxx)                                   */
};

/* Fit n >= 3 points, not all at one x, with an intercept. Returns -1
 * otherwise. Two-pass (centred), for histories; the trend keeps running
 * sums instead. */
int drift_fit_points(const double *x, const double *y, int n,
                     struct drift_fit *f);

/* Predicted y at x, and its one-sided prediction half-width at confidence
 * conf (e.g. 0.95): t_{conf, dof} * s * sqrt(c0 + (x-xbar)^2/sxx). */
double drift_fit_predict(const struct drift_fit *f, double x);
double drift_fit_halfwidth(const struct drift_fit *f, double x, double conf);

/*
 * When the line crosses [lower, upper] at or after x_from, up to
 * x_from + horizon:
 *   *x_line  where the fitted line leaves the limits,
 *   *x_bound the earliest x at which the one-sided prediction bound at
 *            conf (upper bound vs upper, lower bound vs lower) reaches a
 *            limit: the conservative date, always <= *x_line.
 * Either is NAN when no crossing is predicted within the horizon; both
 * equal x_from when already at or past it. Returns 0, -1 on bad
 * arguments (no fit, conf outside (0, 1), horizon <= 0).
 */
int drift_fit_crossing(const struct drift_fit *f, double x_from, double lower,
                       double upper, double conf, double horizon,
                       double *x_line, double *x_bound);

/* ---- Trend over a sliding window ------------------------------------ */

struct drift_point {
	int64_t ts_us;
	double e;
};

/*
 * Least squares of error against time over the last `capacity` points no
 * older than window_us before the newest, O(1) per point. Running sums of
 * x = (ts - t0) in days and y = e - y0 are kept relative to a reference
 * (t0, y0) = the oldest point in the window when the sums were last
 * rebuilt; a point leaving the window subtracts its contribution. The sums
 * are rebuilt from the ring (with a new reference) every `capacity`
 * insertions, which bounds round-off growth and keeps x within the window
 * so epoch-microsecond timestamps cause no cancellation (amortised O(1)).
 * The ring is caller-supplied; timestamps must not decrease.
 */
struct drift_trend {
	struct drift_point *ring;
	int capacity, head, count; /* head: index of the oldest point */
	int since_rebuild;
	int64_t window_us;
	int64_t t0_us;
	double y0;
	double sx, sy, sxx, sxy, syy;
};

/* ring of capacity >= 3 points; window_us > 0 (INT64_MAX: count only).
 * Returns -1 on a bad argument. */
int drift_trend_init(struct drift_trend *t, struct drift_point *ring,
                     int capacity, int64_t window_us);
/* Add a point; returns -1 (point ignored) when ts_us goes backwards or e
 * is not finite. */
int drift_trend_add(struct drift_trend *t, int64_t ts_us, double e);

/*
 * The fit over the window, with x in days since t->t0_us (see
 * drift_trend_day) and slope in units per day. Returns -1 with fewer than
 * 3 points or all at one time.
 */
int drift_trend_fit(const struct drift_trend *t, struct drift_fit *f);
/* Days of ts_us on the fit's axis, and back. */
double drift_trend_day(const struct drift_trend *t, int64_t ts_us);
int64_t drift_trend_us(const struct drift_trend *t, double day);

struct drift_forecast {
	double slope, se_slope; /* units per day                           */
	int64_t line_us;        /* fitted line leaves the limits           */
	int64_t bound_us;       /* prediction bound reaches a limit        */
	bool line_crosses, bound_crosses; /* false: none within horizon    */
};

/* Forecast from the newest point, horizon in days, conf e.g. 0.95.
 * Returns -1 when there is no fit or an argument is bad. */
int drift_trend_forecast(const struct drift_trend *t, double lower,
                         double upper, double conf, double horizon_days,
                         struct drift_forecast *out);

/* ---- Calibration-interval advice ------------------------------------ */

/* Defaults of the simple-response (staircase) method. */
#define DRIFT_STAIR_A 0.10 /* in tolerance: I * (1 + a)  */
#define DRIFT_STAIR_B 0.55 /* out:          I * (1 - b)  */

struct drift_stair {
	double interval, a, b, min, max; /* inputs, days               */
	bool in_tolerance;               /* input: last as-found       */
	double suggested;                /* output, days               */
};

/* OIML D 10 / ILAC-G24 simple response: suggested = interval*(1+a) when in
 * tolerance, interval*(1-b) when not, clamped to [min, max] (max <= 0: no
 * upper clamp). Returns -1 when interval <= 0, a < 0, b outside [0, 1),
 * or min < 0. */
int drift_interval_stair(struct drift_stair *s);

/*
 * NCSLI RP-1 Method A3 (interval test): n calibrations at the current
 * interval, x of them in tolerance as found; target reliability R* in
 * (0, 1); significance alpha (e.g. 0.05) per side. The observed rate is
 * significantly low when P(X <= x | n, R*) <= alpha, significantly high
 * when P(X >= x | n, R*) <= alpha (exact binomial). The rejection
 * confidence is two-sided, of the side the observed rate R_hat = x/n lies
 * on: C = 1 - 2 P(X <= x) when R_hat < R*, 1 - 2 P(X >= x) when
 * R_hat > R*, 0 when equal, and never below 0 (alpha per side is
 * C >= 1 - 2 alpha). Only when the test rejects is the interval changed,
 * by RP-1's A3 step as published in the NCSLI 2019 tutorial and
 * implemented in Sandia's Suncal (docs/METROLOGY.md):
 *   suggested = interval * 10^((R_hat - R*) * C),
 * the factor clamped to [1/2, 2] (Suncal's default maximum change of 2).
 * 10^(...) is finite for x = 0 and x = n: no substitute for R_hat.
 * Returns 0, or -1 when interval <= 0, R* or alpha out of range
 * (alpha in (0, 0.5)), n < 1 or x outside [0, n].
 */
struct drift_a3 {
	double interval, target, alpha; /* inputs                          */
	int n, x;                       /* inputs                          */
	double observed;                /* R_hat = x/n                     */
	double p_low, p_high;           /* P(X<=x), P(X>=x) under R*       */
	double confidence;              /* C, two-sided, of R_hat's side   */
	int change;                     /* -1 shorten, 0 keep, +1 lengthen */
	double factor;                  /* suggested/interval              */
	double suggested;               /* days                            */
};

/* Clamp of the A3 factor (Suncal's maxchange = 2: [1/2, 2]). */
#define DRIFT_A3_MAX_CHANGE 2.0

int drift_interval_a3(struct drift_a3 *a);

/* Binomial distribution function P(X <= x), X ~ Bin(n, p). */
double drift_binom_cdf(int x, int n, double p);

/*
 * "At the interval being tested" (RP-1 A3 counts only those results): a
 * result whose actual interval t (days) lies within band days of the
 * interval I, |t - I| <= band. The default band is Suncal's
 * (A3Params.from_assets: tolerance 56 days, threshold 0.5):
 * min(DRIFT_A3_BAND_DAYS, DRIFT_A3_BAND_FRACTION * I).
 */
#define DRIFT_A3_BAND_DAYS     56.0
#define DRIFT_A3_BAND_FRACTION 0.5

/* The default band for interval I (days); NaN when I <= 0. */
double drift_a3_band(double interval);

/*
 * Count the n results (t[i] days long, in tolerance when in_tol[i]) at
 * interval I within band: *used of them, *x of those in tolerance.
 * Returns 0, or -1 when an argument is NULL, n < 0, I <= 0 or band < 0.
 */
int drift_a3_count(const double *t, const bool *in_tol, int n, double interval,
                   double band, int *used, int *x);

/*
 * Variables-data method of NASA-HDBK-8739.19-5 (after Castrup,
 * "Calibration intervals from variables data"; docs/METROLOGY.md has the
 * formulas and the handbook's worked example). The n deltas d_i (as found
 * minus the previous as-left) against t_i (days since that as-left) are
 * fitted by least squares with a polynomial through the origin (the drift
 * starts at the as-left) of degree m = 1 or 2:
 *     d(t) = b1 t + b2 t^2,   b = (T'T)^-1 T'd,  T's rows (t_i, t_i^2),
 *     s^2 = sum (d_i - d(t_i))^2 / (n - m),  cov(b) = s^2 (T'T)^-1.
 * The standard uncertainty of a predicted delta is
 *     u_p(t) = sqrt(s^2 + v' cov(b) v),  v = (t, t^2),
 * and after an as-left y0 with standard uncertainty u0 the value at t is
 * predicted as y0 + d(t) with u(t) = sqrt(u0^2 + u_p(t)^2).
 */
#define DRIFT_VD_DEGREE_MAX 2

struct drift_vd_fit {
	int n, degree, dof; /* dof = n - degree                          */
	double b[DRIFT_VD_DEGREE_MAX];
	double cov[DRIFT_VD_DEGREE_MAX][DRIFT_VD_DEGREE_MAX];
	double s; /* residual standard deviation, dof degrees of freedom */
};

/*
 * Fit degree 1 or 2, or choose (degree 0) by the data: the degree whose
 * fit has the smaller residual standard deviation s, the lower on a tie,
 * among those that can be fitted (Castrup's criterion as Suncal's
 * _select_order applies it, with maximum degree 2). A fit needs n >
 * degree finite points and a regular T'T (degree 2: two different
 * nonzero t). Returns 0, or -1 when none can be fitted.
 */
int drift_vd_fit(const double *t, const double *d, int n, int degree,
                 struct drift_vd_fit *f);
/* d(t), and u_p(t) (the standard uncertainty of a predicted delta). */
double drift_vd_delta(const struct drift_vd_fit *f, double t);
double drift_vd_upred(const struct drift_vd_fit *f, double t);

enum drift_sides {
	DRIFT_TWO_SIDED,  /* both limits; t quantile at (1 + conf) / 2  */
	DRIFT_UPPER_ONLY, /* the upper limit alone; t quantile at conf  */
	DRIFT_LOWER_ONLY, /* the lower limit alone; t quantile at conf  */
};

/* "two-sided", "upper limit only", "lower limit only". */
const char *drift_sides_name(enum drift_sides s);

/*
 * The handbook's two targets, each the earliest t in [0, horizon] at which
 * it is met (0 when met at the start; scanned in horizon/4096 steps, then
 * bisected to double precision):
 * - reliability target: the bound y0 + d(t) + k u(t) reaches upper, or
 *   y0 + d(t) - k u(t) reaches lower (the sides asked), with k the
 *   Student t quantile of dof = n - m degrees of freedom at (1 + conf)/2
 *   when two-sided, at conf when one-sided;
 * - uncertainty-growth target: u(t) reaches u_target (a standard
 *   uncertainty; u_target <= 0: not asked, u_interval NAN).
 * No crossing within the horizon: the suggestion is the horizon, capped.
 */
struct drift_vd {
	int degree;              /* input: 1, 2, or 0 to choose by the data  */
	double y0;               /* input: the as-left error at t = 0        */
	double u0;               /* input: its standard uncertainty, >= 0    */
	double lower, upper;     /* input: error limits                      */
	enum drift_sides sides;  /* input                                 */
	double conf;             /* input: confidence of the bound, (0,1) */
	double u_target;         /* input: standard uncertainty, or <= 0  */
	double horizon;          /* input: days, > 0                      */
	struct drift_vd_fit fit; /* output: the fit used                 */
	double k;          /* output: the t quantile                     */
	double t_line;     /* output: y0 + d(t) reaches a limit (NAN: not
	                      within the horizon)                        */
	double suggested;  /* output: reliability target, days           */
	bool capped;       /* output: suggested = horizon, no crossing   */
	double u_interval; /* output: uncertainty target, days (NAN)    */
	bool u_capped;     /* output: u_interval = horizon, no crossing */
};

/* Returns 0, or -1 on a bad input (lower > upper, u0 < 0, conf outside
 * (0, 1), horizon <= 0, an unknown sides or degree) or when no fit can be
 * made (drift_vd_fit). */
int drift_interval_vd(const double *t_days, const double *delta, int n,
                      struct drift_vd *v);

/* u(t), and the bound y0 + d(t) + sign * k * u(t) (sign +1 or -1) of a
 * computed drift_vd. */
double drift_vd_u(const struct drift_vd *v, double t);
double drift_vd_bound(const struct drift_vd *v, double t, int sign);

#endif
