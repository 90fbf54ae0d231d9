/*
 * drift.c - the metrology core: tolerance limits, decision rules, risk,
 * channel state, control charts, trend and interval advice (drift.h).
 *
 * Pure functions over caller-owned structs: no I/O, no allocation, no
 * globals, so each channel's structs may live wherever its owner (the
 * ingest thread) keeps them. The per-reading paths are O(1); the quantile,
 * crossing and interval functions iterate and are meant for on-demand use.
 */
#include "drift.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define US_PER_DAY 86400000000.0
#define SQRT2      1.41421356237309504880
#define PI         3.14159265358979323846

/* ---- Tolerance forms ------------------------------------------------- */

static bool nonneg(double v)
{
	return isfinite(v) && v >= 0;
}

/* x * y in decimal, x a double. */
static int dmul(double x, const struct dec *y, struct dec *out)
{
	struct dec a;

	return dec_from_double(x, &a) < 0 ? -1 : dec_mul(&a, y, out);
}

/* The half-width of a symmetric form (checked by the caller) in decimal,
 * into *h as the nearest double; -1 when it would not fit. Each step
 * returns 0 or -1, so || runs them in order and stops at a failure. */
static int tol_half_exact(const struct drift_tol *t, double reading, double *h)
{
	static const struct dec pct = {1, -2}, ppm = {1, -6}, one = {1, 0};
	struct dec rd, a, b, w;
	int bad = dec_from_double(fabs(reading), &rd);

	switch (t->form) {
	case DRIFT_TOL_PCT_READING:
		bad = bad || dmul(t->pct, &rd, &a) || dec_mul(&a, &pct, &w);
		break;
	case DRIFT_TOL_PCT_SPAN:
		bad = bad || dec_from_double(t->span, &b) ||
		      dmul(t->pct, &b, &a) || dec_mul(&a, &pct, &w);
		break;
	case DRIFT_TOL_PPM:
		bad = bad || dmul(t->ppm_reading, &rd, &a) ||
		      dec_from_double(t->range, &b) ||
		      dmul(t->ppm_range, &b, &b) || dec_add(&a, &b, &a) ||
		      dec_mul(&a, &ppm, &w);
		break;
	case DRIFT_TOL_PCT_DIGITS:
		bad = bad || dmul(t->pct, &rd, &a) || dec_mul(&a, &pct, &a) ||
		      dec_from_double(t->resolution, &b) ||
		      dmul(t->digits, &b, &b) || dec_add(&a, &b, &w);
		break;
	default:
		bad = bad || dmul(t->abs, &one, &w);
		break;
	}
	if (bad)
		return -1;
	*h = dec_to_double(&w);
	return isfinite(*h) ? 0 : -1;
}

int drift_tol_limits(const struct drift_tol *t, double reading, double *lower,
                     double *upper)
{
	double h;

	if (!t || !lower || !upper || !isfinite(reading))
		return -1;
	switch (t->form) {
	case DRIFT_TOL_ABS:
		if (!nonneg(t->abs))
			return -1;
		h = t->abs;
		break;
	case DRIFT_TOL_PCT_READING:
		if (!nonneg(t->pct))
			return -1;
		h = t->pct / 100.0 * fabs(reading);
		break;
	case DRIFT_TOL_PCT_SPAN:
		if (!nonneg(t->pct) || !nonneg(t->span))
			return -1;
		h = t->pct / 100.0 * t->span;
		break;
	case DRIFT_TOL_PPM:
		if (!nonneg(t->ppm_reading) || !nonneg(t->ppm_range) ||
		    !nonneg(t->range))
			return -1;
		h = (t->ppm_reading * fabs(reading) + t->ppm_range * t->range) *
		    1e-6;
		break;
	case DRIFT_TOL_PCT_DIGITS:
		if (!nonneg(t->pct) || !nonneg(t->digits) ||
		    !nonneg(t->resolution))
			return -1;
		h = t->pct / 100.0 * fabs(reading) + t->digits * t->resolution;
		break;
	case DRIFT_TOL_ASYM:
		if (!isfinite(t->lower) || !isfinite(t->upper) ||
		    t->lower > t->upper)
			return -1;
		*lower = t->lower;
		*upper = t->upper;
		return 0;
	default:
		return -1;
	}
	tol_half_exact(t, reading, &h); /* h kept when it does not fit */
	*lower = -h;
	*upper = h;
	return 0;
}

/* ---- Decision rules -------------------------------------------------- */

int drift_decide_dec(const struct dec *e, const struct dec *lower,
                     const struct dec *upper, const struct dec *U,
                     const struct dec *r, struct drift_verdict *out)
{
	struct dec w, al, au, fl, fu;

	if (!out || dec_sign(U) < 0 || dec_sign(r) < 0 ||
	    dec_cmp(lower, upper) > 0)
		return -1;
	if (dec_mul(r, U, &w) < 0 || dec_add(lower, &w, &al) < 0 ||
	    dec_sub(upper, &w, &au) < 0 || dec_sub(lower, &w, &fl) < 0 ||
	    dec_add(upper, &w, &fu) < 0)
		return -1;
	out->error = dec_to_double(e);
	out->guard = dec_to_double(&w);
	out->accept_lower = dec_to_double(&al);
	out->accept_upper = dec_to_double(&au);
	if (dec_cmp(e, &al) >= 0 && dec_cmp(e, &au) <= 0)
		out->decision = DRIFT_PASS;
	else if (dec_cmp(e, lower) >= 0 && dec_cmp(e, upper) <= 0)
		out->decision = DRIFT_CONDITIONAL_PASS;
	else if (dec_cmp(e, &fl) >= 0 && dec_cmp(e, &fu) <= 0)
		out->decision = DRIFT_CONDITIONAL_FAIL;
	else
		out->decision = DRIFT_FAIL;
	return 0;
}

/* The decision in binary, for infinite arguments only (a limit of
 * -INFINITY: one-sided), where there is no decimal to compare. */
static void decide_binary(double e, double lower, double upper, double w,
                          struct drift_verdict *out)
{
	out->error = e;
	out->guard = w;
	out->accept_lower = lower + w;
	out->accept_upper = upper - w;
	if (e >= out->accept_lower && e <= out->accept_upper)
		out->decision = DRIFT_PASS;
	else if (e >= lower && e <= upper)
		out->decision = DRIFT_CONDITIONAL_PASS;
	else if (e >= lower - w && e <= upper + w)
		out->decision = DRIFT_CONDITIONAL_FAIL;
	else
		out->decision = DRIFT_FAIL;
}

int drift_decide(double e, double lower, double upper, double U, double r,
                 struct drift_verdict *out)
{
	struct dec de, dl, du, dU, dr;

	if (!out || isnan(e) || isnan(lower) || isnan(upper) || !nonneg(U) ||
	    !nonneg(r) || lower > upper)
		return -1;
	if (!isfinite(e) || !isfinite(lower) || !isfinite(upper)) {
		decide_binary(e, lower, upper, drift_guard_band(r, U), out);
		return 0;
	}
	if (dec_from_double(e, &de) < 0 || dec_from_double(lower, &dl) < 0 ||
	    dec_from_double(upper, &du) < 0 || dec_from_double(U, &dU) < 0 ||
	    dec_from_double(r, &dr) < 0)
		return -1;
	return drift_decide_dec(&de, &dl, &du, &dU, &dr, out);
}

int drift_decide_at(double indication, double reference, double lower,
                    double upper, double U, double r, struct drift_verdict *out)
{
	struct dec di, dref, de, dl, du, dU, dr;

	if (!out || !isfinite(indication) || !isfinite(reference) ||
	    !isfinite(lower) || !isfinite(upper) || !nonneg(U) || !nonneg(r) ||
	    lower > upper)
		return -1;
	if (dec_from_double(indication, &di) < 0 ||
	    dec_from_double(reference, &dref) < 0 ||
	    dec_sub(&di, &dref, &de) < 0 || dec_from_double(lower, &dl) < 0 ||
	    dec_from_double(upper, &du) < 0 || dec_from_double(U, &dU) < 0 ||
	    dec_from_double(r, &dr) < 0)
		return -1;
	return drift_decide_dec(&de, &dl, &du, &dU, &dr, out);
}

double drift_error(double indication, double reference)
{
	struct dec a, b, e;

	if (!isfinite(indication) || !isfinite(reference))
		return NAN;
	if (dec_from_double(indication, &a) < 0 ||
	    dec_from_double(reference, &b) < 0 || dec_sub(&a, &b, &e) < 0)
		return indication - reference;
	return dec_to_double(&e);
}

double drift_guard_band(double r, double U)
{
	struct dec a, b, w;

	if (dec_from_double(r, &a) < 0 || dec_from_double(U, &b) < 0 ||
	    dec_mul(&a, &b, &w) < 0)
		return r * U;
	return dec_to_double(&w);
}

const char *drift_decision_name(enum drift_decision d)
{
	switch (d) {
	case DRIFT_PASS:
		return "pass";
	case DRIFT_CONDITIONAL_PASS:
		return "conditional pass";
	case DRIFT_CONDITIONAL_FAIL:
		return "conditional fail";
	case DRIFT_FAIL:
		return "fail";
	case DRIFT_NO_STATEMENT:
		return "no statement";
	}
	return "?";
}

/* ---- Distributions --------------------------------------------------- */

double drift_phi(double x)
{
	return 0.5 * erfc(-x / SQRT2);
}

/* Upper tail 1 - Phi(x), accurate for large x. */
static double phi_upper(double x)
{
	return 0.5 * erfc(x / SQRT2);
}

/* Bisection for the x in [lo, hi] where f(x, arg) = p, f increasing. */
static double bisect(double (*f)(double, int), int arg, double p, double lo,
                     double hi)
{
	for (int i = 0; i < 400; i++) {
		double mid = 0.5 * (lo + hi);
		if (mid <= lo || mid >= hi)
			break;
		if (f(mid, arg) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

static double phi_arg(double x, int unused)
{
	(void)unused;
	return drift_phi(x);
}

double drift_phi_inv(double p)
{
	if (!(p > 0 && p < 1))
		return NAN;
	return bisect(phi_arg, 0, p, -40, 40);
}

/* Student t distribution function for integer nu (A&S 26.7.3, 26.7.4):
 * A(t|nu) = P(|T| < t) as a finite series in cos^2(theta). */
static double t_cdf(double t, int nu)
{
	double th = atan(fabs(t) / sqrt((double)nu));
	double s = sin(th), c2 = cos(th) * cos(th);
	double a, sum = 1, term = 1;

	if (nu % 2 == 0) {
		for (int j = 2; j <= nu - 2; j += 2) {
			term *= (double)(j - 1) / j * c2;
			sum += term;
		}
		a = s * sum;
	} else if (nu == 1) {
		a = 2 * th / PI;
	} else {
		for (int j = 3; j <= nu - 2; j += 2) {
			term *= (double)(j - 1) / j * c2;
			sum += term;
		}
		a = 2 / PI * (th + s * cos(th) * sum);
	}
	return t >= 0 ? 0.5 + 0.5 * a : 0.5 - 0.5 * a;
}

double drift_t_quantile(double p, int nu)
{
	double hi = 1;

	if (!(p > 0 && p < 1) || nu < 1)
		return NAN;
	if (p < 0.5)
		return -drift_t_quantile(1 - p, nu);
	if (p == 0.5)
		return 0;
	if (nu > 1000) {
		/* Cornish-Fisher: error below 1e-9 for nu > 1000. */
		double z = drift_phi_inv(p), z2 = z * z, v = nu;
		return z + z * (z2 + 1) / (4 * v) +
		       z * (5 * z2 * z2 + 16 * z2 + 3) / (96 * v * v);
	}
	while (t_cdf(hi, nu) < p && hi < 1e300)
		hi *= 2;
	return bisect(t_cdf, nu, p, 0, hi);
}

double drift_conformance(double y, double u, double lower, double upper)
{
	double a, b;

	if (!(u > 0) || isnan(y) || !(lower <= upper))
		return NAN;
	a = (lower - y) / u;
	b = (upper - y) / u;
	/* Phi(b) - Phi(a), written with the tail that keeps precision. */
	if (a > 0)
		return phi_upper(a) - phi_upper(b);
	return drift_phi(b) - drift_phi(a);
}

double drift_nonconformance(double y, double u, double lower, double upper)
{
	double a, b, pc;

	if (!(u > 0) || isnan(y) || !(lower <= upper))
		return NAN;
	a = (lower - y) / u;
	b = (upper - y) / u;
	/* Phi(a) + (1 - Phi(b)): both small when y is well inside. */
	if (a <= 0 && b >= 0)
		return drift_phi(a) + phi_upper(b);
	pc = drift_conformance(y, u, lower, upper);
	return 1 - pc;
}

double drift_worst_pfa(double lower, double upper, double w, double u)
{
	double al = lower + w, au = upper - w, pl, pu;

	if (!(u > 0) || !nonneg(w) || !(al <= au))
		return NAN;
	pl = drift_nonconformance(al, u, lower, upper);
	pu = drift_nonconformance(au, u, lower, upper);
	return pl > pu ? pl : pu;
}

/* ---- When a decision is a statement ---------------------------------- */

/* upper - lower >= 2 x min_tur x U (TUR >= min_tur), exact in decimal (a
 * TUR of exactly 4 is 4); in binary when a number would not fit 18
 * digits. */
static bool tur_enough(double lower, double upper, double U, double min_tur,
                       double tur)
{
	struct dec lo, up, dU, m, two = {.m = 2, .e = 0}, width, need, t;

	if (dec_from_double(lower, &lo) < 0 ||
	    dec_from_double(upper, &up) < 0 || dec_from_double(U, &dU) < 0 ||
	    dec_from_double(min_tur, &m) < 0 || dec_sub(&up, &lo, &width) < 0 ||
	    dec_mul(&two, &m, &t) < 0 || dec_mul(&t, &dU, &need) < 0)
		return tur >= min_tur;
	return dec_cmp(&width, &need) >= 0;
}

int drift_statement_of(const struct drift_verdict *v, double lower,
                       double upper, double U, double u, double min_tur,
                       double max_risk, struct drift_statement *out)
{
	enum drift_decision d = v->decision;
	bool accept = d == DRIFT_PASS || d == DRIFT_CONDITIONAL_PASS;
	bool conditional =
	        d == DRIFT_CONDITIONAL_PASS || d == DRIFT_CONDITIONAL_FAIL;
	struct drift_statement st;

	if (!isfinite(lower) || !isfinite(upper) || !nonneg(U) || !nonneg(u) ||
	    (unsigned)d > DRIFT_FAIL)
		return -1;
	st.min_tur = min_tur > 0 ? min_tur : DRIFT_MIN_TUR_DEFAULT;
	st.max_risk = max_risk > 0 ? max_risk : DRIFT_MAX_RISK_DEFAULT;
	st.width = upper - lower;
	st.guard = v->guard;
	st.tur = U > 0 ? st.width / (2 * U) : INFINITY;
	st.risk = 0;
	if (u > 0)
		st.risk =
		        accept ? drift_nonconformance(v->error, u, lower, upper)
		               : drift_conformance(v->error, u, lower, upper);
	/* exact: an acceptance zone of width 0 still holds its limit */
	st.overlap = v->accept_lower > v->accept_upper;
	st.made = !st.overlap &&
	          (conditional ||
	           tur_enough(lower, upper, U, st.min_tur, st.tur) ||
	           st.risk <= st.max_risk);
	*out = st;
	return 0;
}

void drift_statement_why(const struct drift_statement *st, char *buf,
                         size_t size)
{
	if (st->made)
		snprintf(buf, size, "%s", "");
	else if (st->overlap)
		snprintf(buf, size,
		         "the guard bands overlap (2w = %.4g > upper - lower = "
		         "%.4g)",
		         2 * st->guard, st->width);
	else
		snprintf(buf, size,
		         "TUR %.3g < %g and specific risk %.3g %% > %g %%",
		         st->tur, st->min_tur, 100 * st->risk,
		         100 * st->max_risk);
}

/* ---- Live channel state --------------------------------------------- */

const char *drift_state_name(enum drift_state s)
{
	switch (s) {
	case DRIFT_NO_DATA:
		return "no data";
	case DRIFT_IN_TOLERANCE:
		return "in tolerance";
	case DRIFT_WARNING:
		return "warning";
	case DRIFT_OUT_OF_TOLERANCE:
		return "out of tolerance";
	}
	return "?";
}

static const char *const state_words[DRIFT_STATES] = {
        [DRIFT_NO_DATA] = "no_data",
        [DRIFT_IN_TOLERANCE] = "in_tolerance",
        [DRIFT_WARNING] = "warning",
        [DRIFT_OUT_OF_TOLERANCE] = "out_of_tolerance",
};

const char *drift_state_word(enum drift_state s)
{
	return (unsigned)s < DRIFT_STATES ? state_words[s] : "?";
}

int drift_state_parse(const char *word, enum drift_state *s)
{
	for (int k = 0; k < DRIFT_STATES; k++) {
		if (strcmp(word, state_words[k]) == 0) {
			*s = (enum drift_state)k;
			return 0;
		}
	}
	return -1;
}

static int check_channel_cfg(const struct drift_channel_cfg *c)
{
	if (!isfinite(c->lower) || !isfinite(c->upper) || c->lower > c->upper)
		return -1;
	if (!nonneg(c->guard) || !(c->warn_fraction > 0) ||
	    !(c->warn_fraction <= 1) || !(c->hysteresis >= 0) ||
	    !(c->hysteresis < 1) || c->consecutive < 1)
		return -1;
	if (!nonneg(c->U) || !nonneg(c->u) || (c->U > 0 && !(c->u > 0)) ||
	    !nonneg(c->min_tur) || !nonneg(c->max_risk) || c->max_risk > 0.5)
		return -1;
	return 0;
}

/* Level of e with thresholds moved inwards by `shift` (fraction of the
 * side's half-width), in binary: only when the decimal thresholds do not
 * fit (struct drift_exact) or e is infinite. */
static enum drift_state level_binary(const struct drift_channel_cfg *cfg,
                                     double e, double shift)
{
	double lo = cfg->lower, up = cfg->upper;
	double c = (lo < 0 && up > 0) ? 0 : 0.5 * (lo + up);
	double side = e >= c ? up - c : c - lo; /* half-width on e's side */
	double q, dist;

	/* Distance inside the nearer limit, in units of e. */
	dist = e >= c ? up - e : e - lo;
	if (dist < shift * side)
		return DRIFT_OUT_OF_TOLERANCE;
	q = side > 0 ? fabs(e - c) / side : (e == c ? 0 : INFINITY);
	if (q > cfg->warn_fraction - shift || dist < cfg->guard + shift * side)
		return DRIFT_WARNING;
	return DRIFT_IN_TOLERANCE;
}

/* The decimal distances of one side and shift: inside the limit below
 * `out` is out of tolerance; |e - centre| above `warn`, or inside the
 * limit below `guard`, a warning. Made by exact_side when needed (they
 * are cheap, and the binary shortcut decides most readings): a channel
 * keeps only its limits and centre as decimals. */
struct side_dec {
	struct dec out, warn, guard;
};

/* The distances of side s (0 upper, 1 lower) and shift h (0, 1) of x's
 * limits and centre under cfg, into *d; -1 when one does not fit or the
 * half-width is zero. */
static int exact_side(const struct drift_exact *x,
                      const struct drift_channel_cfg *cfg, int s, int h,
                      struct side_dec *d)
{
	struct dec side, shift, warn, guard, a;
	double sh = h ? cfg->hysteresis : 0;

	if ((s == 0 ? dec_sub(&x->upper, &x->centre, &side)
	            : dec_sub(&x->centre, &x->lower, &side)) < 0 ||
	    dec_from_double(sh, &shift) < 0 ||
	    dec_from_double(cfg->warn_fraction, &warn) < 0 ||
	    dec_from_double(cfg->guard, &guard) < 0)
		return -1;
	/* a zero half-width: the binary rule (its q is 0 or infinite) */
	if (dec_sign(&side) == 0 || dec_mul(&shift, &side, &d->out) < 0 ||
	    dec_sub(&warn, &shift, &a) < 0 ||
	    dec_mul(&a, &side, &d->warn) < 0 ||
	    dec_add(&guard, &d->out, &d->guard) < 0)
		return -1;
	return 0;
}

/*
 * The binary shortcut. zones() compares D, the shortest decimal of e,
 * with decimal thresholds T: the centre (which side), then on side 0
 * upper - out, centre + warn, upper - guard (beyond: D above), on side 1
 * lower + out, centre - warn, lower + guard (beyond: D below). Each T has
 * a double t, made once from the nearest doubles of its decimal parts:
 * |t - T| <= 2^-52 (|parts| + |t|). Per reading, |D - e| <= ulp(e) / 2
 * <= |e| 2^-52 + 2^-1074. Where zones() cannot align the decimals it
 * decides by level_binary(), whose arithmetic on the configuration's
 * doubles (each within 2^-53 relative of its decimal) makes each of the
 * same comparisons within a few 2^-52 (|e| + S) of the real one, S the
 * sum of the magnitudes of the limits, guard, centre, parts and
 * thresholds. So with the margin
 *     m = slack + |e| 2^-46,   slack = S 2^-46 + 2^-1000
 * (at least 16 times every bound above, which also covers the rounding
 * of e - t itself), e beyond t by more than m means D beyond T and
 * level_binary agreeing, e short of t by more than m the opposite: that
 * comparison is decided in binary. A level all of whose deciding
 * comparisons are decided is the level zones() gives; otherwise zones()
 * decides in decimal. Near the centre both sides are tried and must
 * agree. Only for S <= 2^900 and |e| <= 2^900 (nothing overflows; below
 * 2^-1000 the absolute term covers underflow). Tested against zones()
 * over millions of cases in tests/unit/test_exact.c.
 */
static void fast_init(struct drift_exact *x,
                      const struct drift_channel_cfg *cfg,
                      const struct side_dec d[2][2])
{
	double lo = dec_to_double(&x->lower), up = dec_to_double(&x->upper);
	double c = dec_to_double(&x->centre);
	double S = fabs(lo) + fabs(up) + fabs(c) + fabs(cfg->lower) +
	           fabs(cfg->upper) + fabs(cfg->guard);

	for (int s = 0; s < 2; s++) {
		for (int h = 0; h < 2; h++) {
			double o = dec_to_double(&d[s][h].out);
			double w = dec_to_double(&d[s][h].warn);
			double g = dec_to_double(&d[s][h].guard);
			double *t = x->t[s][h];
			t[0] = s == 0 ? up - o : lo + o;
			t[1] = s == 0 ? c + w : c - w;
			t[2] = s == 0 ? up - g : lo + g;
			S += fabs(o) + fabs(w) + fabs(g) + fabs(t[0]) +
			     fabs(t[1]) + fabs(t[2]);
		}
	}
	x->centre_d = c;
	x->slack = S * 0x1p-46 + 0x1p-1000;
	x->fast = S <= 0x1p900; /* false for an infinite or NaN sum too */
}

/* Side s of the shortcut: the level of e, or -1 when a comparison that
 * matters is within m of its threshold. */
static int side_fast(const struct drift_exact *x, double e, int s, int h,
                     double m)
{
	const double *t = x->t[s][h];
	double sg = s == 0 ? 1 : -1; /* beyond t: sg * (e - t) > 0 */
	double d0 = sg * (e - t[0]), d1 = sg * (e - t[1]), d2 = sg * (e - t[2]);

	if (d0 > m)
		return DRIFT_OUT_OF_TOLERANCE;
	if (!(d0 < -m))
		return -1;
	if (d1 > m || d2 > m)
		return DRIFT_WARNING;
	if (d1 < -m && d2 < -m)
		return DRIFT_IN_TOLERANCE;
	return -1;
}

/* The level of finite e by the shortcut, or -1: zones() decides. */
static int zones_fast(const struct drift_exact *x, double e, int h)
{
	double m;
	int a, b;

	if (!x->fast || !(fabs(e) <= 0x1p900))
		return -1;
	m = x->slack + fabs(e) * 0x1p-46;
	if (e - x->centre_d > m)
		return side_fast(x, e, 0, h, m);
	if (e - x->centre_d < -m)
		return side_fast(x, e, 1, h, m);
	a = side_fast(x, e, 0, h, m);
	b = side_fast(x, e, 1, h, m);
	return a == b ? a : -1;
}

/* The decimal thresholds of cfg (checked) into x; x->ok false when one
 * does not fit. */
static void exact_init(struct drift_exact *x,
                       const struct drift_channel_cfg *cfg)
{
	static const struct dec half = {5, -1};
	struct dec sum;
	struct side_dec d[2][2];
	double min_tur =
	        cfg->min_tur > 0 ? cfg->min_tur : DRIFT_MIN_TUR_DEFAULT;

	*x = (struct drift_exact){.ok = false, .fast = false};
	x->policy = cfg->U > 0 &&
	            !tur_enough(cfg->lower, cfg->upper, cfg->U, min_tur,
	                        (cfg->upper - cfg->lower) / (2 * cfg->U));
	if (dec_from_double(cfg->lower, &x->lower) < 0 ||
	    dec_from_double(cfg->upper, &x->upper) < 0)
		return;
	if (cfg->lower < 0 && cfg->upper > 0)
		x->centre = (struct dec){0, 0};
	else if (dec_add(&x->lower, &x->upper, &sum) < 0 ||
	         dec_mul(&sum, &half, &x->centre) < 0)
		return;
	for (int s = 0; s < 2; s++)
		for (int h = 0; h < 2; h++)
			if (exact_side(x, cfg, s, h, &d[s][h]) < 0)
				return;
	x->ok = true;
	fast_init(x, cfg, d);
}

/* Whether a pass at e can be a statement under cfg's policy; with h, e
 * moved outwards (toward its nearer limit) by the hysteresis. */
static bool stated(const struct drift_channel_cfg *cfg, double e, int h)
{
	double lo = cfg->lower, up = cfg->upper;
	double c = (lo < 0 && up > 0) ? 0 : 0.5 * (lo + up);
	double shift = h ? cfg->hysteresis * (e >= c ? up - c : c - lo) : 0;
	struct drift_verdict v = {.decision = DRIFT_PASS,
	                          .error = e >= c ? e + shift : e - shift,
	                          .guard = cfg->guard,
	                          .accept_lower = lo + cfg->guard,
	                          .accept_upper = up - cfg->guard};
	struct drift_statement st;

	return drift_statement_of(&v, lo, up, cfg->U, cfg->u, cfg->min_tur,
	                          cfg->max_risk, &st) < 0 ||
	       st.made;
}

/* Level of e by the zones alone, the thresholds moved inwards by the
 * hysteresis when h: exact in decimal (drift_channel_level's comment),
 * by the binary shortcut first unless `exact`. */
static enum drift_state zones(const struct drift_exact *x,
                              const struct drift_channel_cfg *cfg, double e,
                              int h, bool exact)
{
	struct dec de, dist, dev;
	struct side_dec d;
	int s;

	if (isnan(e))
		return DRIFT_NO_DATA;
	if (!exact && (s = zones_fast(x, e, h)) >= 0)
		return (enum drift_state)s;
	if (!x->ok || dec_from_double(e, &de) < 0)
		return level_binary(cfg, e, h ? cfg->hysteresis : 0);
	s = dec_cmp(&de, &x->centre) >= 0 ? 0 : 1;
	if ((s == 0 ? dec_sub(&x->upper, &de, &dist)
	            : dec_sub(&de, &x->lower, &dist)) < 0 ||
	    dec_sub(&de, &x->centre, &dev) < 0 ||
	    exact_side(x, cfg, s, h, &d) < 0) /* fitted at init: never */
		return level_binary(cfg, e, h ? cfg->hysteresis : 0);
	if (dec_cmp(&dist, &d.out) < 0)
		return DRIFT_OUT_OF_TOLERANCE;
	dev.m = dev.m < 0 ? -dev.m : dev.m;
	if (dec_cmp(&dev, &d.warn) > 0 || dec_cmp(&dist, &d.guard) < 0)
		return DRIFT_WARNING;
	return DRIFT_IN_TOLERANCE;
}

/* Level of e: the zones, then the policy (a pass no statement can be made
 * of is a warning). */
static enum drift_state level(const struct drift_exact *x,
                              const struct drift_channel_cfg *cfg, double e,
                              int h, bool exact)
{
	enum drift_state s = zones(x, cfg, e, h, exact);

	if (s == DRIFT_IN_TOLERANCE && x->policy && !stated(cfg, e, h))
		return DRIFT_WARNING;
	return s;
}

enum drift_state drift_channel_level(const struct drift_channel_cfg *cfg,
                                     double e)
{
	struct drift_exact x;

	exact_init(&x, cfg);
	return level(&x, cfg, e, 0, false);
}

enum drift_state drift_channel_level_at(const struct drift_channel *c, double e,
                                        bool inward, bool exact)
{
	return level(&c->exact, &c->cfg, e, inward ? 1 : 0, exact);
}

int drift_channel_init(struct drift_channel *c,
                       const struct drift_channel_cfg *cfg)
{
	struct drift_channel_cfg k;

	if (!c || !cfg)
		return -1;
	k = *cfg;
	if (k.warn_fraction <= 0)
		k.warn_fraction = DRIFT_WARN_FRACTION;
	if (k.consecutive <= 0)
		k.consecutive = DRIFT_CONSECUTIVE;
	if (check_channel_cfg(&k) < 0)
		return -1;
	c->cfg = k;
	exact_init(&c->exact, &k);
	c->state = DRIFT_NO_DATA;
	c->since_us = 0;
	c->last_us = 0;
	c->last_error = NAN;
	c->run = 0;
	c->run_dir = 0;
	c->run_level = DRIFT_NO_DATA;
	return 0;
}

bool drift_channel_update(struct drift_channel *c, int64_t ts_us, double e)
{
	enum drift_state cand;
	int dir;

	c->last_us = ts_us;
	c->last_error = e;
	cand = level(&c->exact, &c->cfg, e, 0, false);
	if (c->state != DRIFT_NO_DATA && cand != DRIFT_NO_DATA &&
	    cand < c->state)
		cand = level(&c->exact, &c->cfg, e, 1, false);
	if (cand == c->state) {
		c->run = 0;
		c->run_dir = 0;
		return false;
	}
	if (cand == DRIFT_NO_DATA)
		dir = -2;
	else if (c->state == DRIFT_NO_DATA)
		dir = 2;
	else
		dir = cand > c->state ? 1 : -1;
	if (dir != c->run_dir || c->run == 0) {
		c->run_dir = dir;
		c->run = 0;
		c->run_level = cand;
	}
	c->run++;
	/* Worse run: the least severe level of it; better run, or data after
	 * none: the most severe. */
	if (dir == 1 && cand < c->run_level)
		c->run_level = cand;
	if ((dir == -1 || dir == 2) && cand > c->run_level)
		c->run_level = cand;
	if (c->run < c->cfg.consecutive)
		return false;
	c->state = c->run_level;
	c->since_us = ts_us;
	c->run = 0;
	c->run_dir = 0;
	return true;
}

/* ---- Control charts -------------------------------------------------- */

void drift_baseline_given(struct drift_baseline *b, double mu, double sigma)
{
	b->n = 0;
	b->count = 0;
	b->mean = mu;
	b->m2 = 0;
	b->mu = mu;
	b->sigma = sigma;
	b->ready = true;
}

int drift_baseline_learn(struct drift_baseline *b, int n)
{
	if (n < 2)
		return -1;
	b->n = n;
	b->count = 0;
	b->mean = 0;
	b->m2 = 0;
	b->mu = 0;
	b->sigma = 0;
	b->ready = false;
	return 0;
}

/* Welford's update; true when x was consumed by the baseline. */
static bool baseline_feed(struct drift_baseline *b, double x)
{
	double d;

	if (b->ready)
		return false;
	b->count++;
	d = x - b->mean;
	b->mean += d / b->count;
	b->m2 += d * (x - b->mean);
	if (b->count >= b->n) {
		b->mu = b->mean;
		b->sigma = sqrt(b->m2 / (b->count - 1));
		b->ready = true;
	}
	return true;
}

/* (x - mu)/sigma, with sigma = 0 giving 0 or +-infinity. */
static double standardise(const struct drift_baseline *b, double x)
{
	double d = x - b->mu;

	if (b->sigma > 0)
		return d / b->sigma;
	return d == 0 ? 0 : copysign(INFINITY, d);
}

static bool baseline_ok(const struct drift_baseline *b)
{
	if (b->ready)
		return isfinite(b->mu) && b->sigma > 0 && isfinite(b->sigma);
	return b->n >= 2;
}

int drift_ewma_init(struct drift_ewma *c, double lambda, double L,
                    const struct drift_baseline *base)
{
	if (!c || !base || !(lambda > 0 && lambda <= 1) || !(L > 0) ||
	    !baseline_ok(base))
		return -1;
	c->base = *base;
	c->lambda = lambda;
	c->L = L;
	c->z = base->mu;
	c->decay2 = 1;
	c->limit = 0;
	c->i = 0;
	c->episode = 0;
	c->news = false;
	return 0;
}

/* The signal of the EWMA's current z, and its episode (drift.h). */
static enum drift_signal ewma_episode(struct drift_ewma *c, double d,
                                      double half)
{
	enum drift_signal g = DRIFT_SIGNAL_NONE;

	if (d > half)
		g = DRIFT_SIGNAL_HIGH;
	else if (d < -half)
		g = DRIFT_SIGNAL_LOW;
	/* back to the centre line (or past it): the episode is over */
	if (c->episode != 0 && d * c->episode <= 0)
		c->episode = 0;
	if (g != DRIFT_SIGNAL_NONE && (int)g != c->episode) {
		c->episode = (int)g;
		c->news = true;
	}
	return g;
}

enum drift_signal drift_ewma_update(struct drift_ewma *c, double x)
{
	double lam = c->lambda, half;

	c->news = false;
	if (isnan(x))
		return DRIFT_SIGNAL_NONE;
	if (baseline_feed(&c->base, x)) {
		c->z = c->base.mu;
		return DRIFT_SIGNAL_NONE;
	}
	c->i++;
	c->z = lam * x + (1 - lam) * c->z;
	c->decay2 *= (1 - lam) * (1 - lam);
	half = c->L * c->base.sigma * sqrt(lam / (2 - lam) * (1 - c->decay2));
	c->limit = half;
	return ewma_episode(c, c->z - c->base.mu, half);
}

int drift_cusum_init(struct drift_cusum *c, double k, double h,
                     const struct drift_baseline *base)
{
	if (!c || !base || !nonneg(k) || !(h > 0) || !isfinite(h) ||
	    !baseline_ok(base))
		return -1;
	c->base = *base;
	c->k = k;
	c->h = h;
	c->cp = 0;
	c->cm = 0;
	c->run = 0;
	c->last_run = 0;
	c->last_sum = 0;
	c->quiet = drift_cusum_quiet(h);
	c->since = 0;
	c->episode = 0;
	c->news = false;
	return 0;
}

void drift_cusum_reset(struct drift_cusum *c)
{
	c->cp = 0;
	c->cm = 0;
	c->run = 0;
}

enum drift_signal drift_cusum_update(struct drift_cusum *c, double x)
{
	enum drift_signal g = DRIFT_SIGNAL_NONE;
	double z;

	c->news = false;
	if (isnan(x) || baseline_feed(&c->base, x))
		return DRIFT_SIGNAL_NONE;
	z = standardise(&c->base, x);
	c->run++;
	c->cp = fmax(0, c->cp + z - c->k);
	c->cm = fmax(0, c->cm - z - c->k);
	if (c->cp > c->h && c->cp >= c->cm)
		g = DRIFT_SIGNAL_HIGH;
	else if (c->cm > c->h)
		g = DRIFT_SIGNAL_LOW;
	if (g == DRIFT_SIGNAL_NONE) {
		if (c->episode != 0 && ++c->since >= c->quiet)
			c->episode = 0;
		return g;
	}
	/* the run ends: restart both sums */
	c->last_sum = g > 0 ? c->cp : c->cm;
	c->last_run = c->run;
	drift_cusum_reset(c);
	c->news = (int)g != c->episode;
	c->episode = (int)g;
	c->since = 0;
	return g;
}

long drift_cusum_quiet(double h)
{
	double b = h + 1.166;

	if (!(h > 0) || !isfinite(h))
		return 1;
	return (long)ceil(fmin(2 * b * b, 1e15));
}

/* ---- Least squares --------------------------------------------------- */

/* Fill slope, s, se from centred sums. */
static int fit_finish(struct drift_fit *f, double sxy, double syy)
{
	double sse;

	if (f->dof < 1 || !(f->sxx > 0))
		return -1;
	f->slope = sxy / f->sxx;
	sse = syy - f->slope * sxy;
	if (sse < 0)
		sse = 0;
	f->s = sqrt(sse / f->dof);
	f->se_slope = f->s / sqrt(f->sxx);
	return 0;
}

int drift_fit_points(const double *x, const double *y, int n,
                     struct drift_fit *f)
{
	double sx = 0, sy = 0, sxy = 0, syy = 0, sxx = 0;

	if (!x || !y || !f || n < 3)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]))
			return -1;
		sx += x[i];
		sy += y[i];
	}
	f->n = n;
	f->dof = n - 2;
	f->c0 = 1 + 1.0 / n;
	f->xbar = sx / n;
	f->ybar = sy / n;
	for (int i = 0; i < n; i++) {
		double dx = x[i] - f->xbar, dy = y[i] - f->ybar;
		sxx += dx * dx;
		sxy += dx * dy;
		syy += dy * dy;
	}
	f->sxx = sxx;
	return fit_finish(f, sxy, syy);
}

double drift_fit_predict(const struct drift_fit *f, double x)
{
	return f->ybar + f->slope * (x - f->xbar);
}

double drift_fit_halfwidth(const struct drift_fit *f, double x, double conf)
{
	double d = x - f->xbar;
	double t = drift_t_quantile(conf, f->dof);

	return t * f->s * sqrt(f->c0 + d * d / f->sxx);
}

/* Where the fitted line leaves [lower, upper] at or after x0, or NAN. */
static double line_crossing(const struct drift_fit *f, double x0, double lower,
                            double upper)
{
	double y0 = drift_fit_predict(f, x0);

	if (y0 >= upper || y0 <= lower)
		return x0;
	if (f->slope > 0)
		return f->xbar + (upper - f->ybar) / f->slope;
	if (f->slope < 0)
		return f->xbar + (lower - f->ybar) / f->slope;
	return NAN;
}

/* g(x) = bound(x) - limit, convex (upper side, sign +1) or -(concave)
 * (lower side, sign -1): once it reaches 0 it stays there, so bisection
 * over [x0, x0 + horizon] finds the first x with g >= 0. */
static double bound_gap(const struct drift_fit *f, double x, double t,
                        double limit, int sign)
{
	double d = x - f->xbar;
	double hw = t * f->s * sqrt(f->c0 + d * d / f->sxx);

	if (sign > 0)
		return drift_fit_predict(f, x) + hw - limit;
	return limit - (drift_fit_predict(f, x) - hw);
}

static double bound_crossing(const struct drift_fit *f, double x0, double t,
                             double limit, int sign, double horizon)
{
	double lo = x0, hi = x0 + horizon;

	if (bound_gap(f, lo, t, limit, sign) >= 0)
		return x0;
	if (bound_gap(f, hi, t, limit, sign) < 0)
		return NAN;
	for (int i = 0; i < 400; i++) {
		double mid = 0.5 * (lo + hi);
		if (mid <= lo || mid >= hi)
			break;
		if (bound_gap(f, mid, t, limit, sign) >= 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

int drift_fit_crossing(const struct drift_fit *f, double x_from, double lower,
                       double upper, double conf, double horizon,
                       double *x_line, double *x_bound)
{
	double t, xl, xu, xb;

	if (!f || !x_line || !x_bound || f->dof < 1 || !(f->sxx > 0) ||
	    !(conf > 0 && conf < 1) || !(horizon > 0) || !isfinite(x_from) ||
	    !(lower <= upper))
		return -1;
	t = drift_t_quantile(conf, f->dof);
	xb = line_crossing(f, x_from, lower, upper);
	*x_line = (isnan(xb) || xb > x_from + horizon) ? NAN : xb;
	xu = bound_crossing(f, x_from, t, upper, 1, horizon);
	xl = bound_crossing(f, x_from, t, lower, -1, horizon);
	if (isnan(xu))
		*x_bound = xl;
	else if (isnan(xl))
		*x_bound = xu;
	else
		*x_bound = fmin(xl, xu);
	return 0;
}

/* ---- Trend ----------------------------------------------------------- */

int drift_trend_init(struct drift_trend *t, struct drift_point *ring,
                     int capacity, int64_t window_us)
{
	if (!t || !ring || capacity < 3 || window_us <= 0)
		return -1;
	t->ring = ring;
	t->capacity = capacity;
	t->head = 0;
	t->count = 0;
	t->since_rebuild = 0;
	t->window_us = window_us;
	t->t0_us = 0;
	t->y0 = 0;
	t->sx = t->sy = t->sxx = t->sxy = t->syy = 0;
	return 0;
}

double drift_trend_day(const struct drift_trend *t, int64_t ts_us)
{
	/* The difference is exact in int64 before it becomes a double. */
	return (double)(ts_us - t->t0_us) / US_PER_DAY;
}

int64_t drift_trend_us(const struct drift_trend *t, double day)
{
	double us = day * US_PER_DAY;

	/* Clamp far-future days (a long horizon) instead of overflowing. */
	if (!(us < 9e18))
		return INT64_MAX;
	if (!(us > -9e18))
		return INT64_MIN;
	return t->t0_us + (int64_t)llround(us);
}

static void trend_sum(struct drift_trend *t, const struct drift_point *p,
                      double sign)
{
	double x = drift_trend_day(t, p->ts_us), y = p->e - t->y0;

	t->sx += sign * x;
	t->sy += sign * y;
	t->sxx += sign * x * x;
	t->sxy += sign * x * y;
	t->syy += sign * y * y;
}

static void trend_rebuild(struct drift_trend *t)
{
	t->sx = t->sy = t->sxx = t->sxy = t->syy = 0;
	t->since_rebuild = 0;
	if (t->count == 0)
		return;
	t->t0_us = t->ring[t->head].ts_us;
	t->y0 = t->ring[t->head].e;
	for (int i = 0; i < t->count; i++)
		trend_sum(t, &t->ring[(t->head + i) % t->capacity], 1);
}

static void trend_drop_oldest(struct drift_trend *t)
{
	trend_sum(t, &t->ring[t->head], -1);
	t->head = (t->head + 1) % t->capacity;
	t->count--;
}

int drift_trend_add(struct drift_trend *t, int64_t ts_us, double e)
{
	struct drift_point *p;

	if (!isfinite(e))
		return -1;
	if (t->count > 0) {
		int newest = (t->head + t->count - 1) % t->capacity;
		if (ts_us < t->ring[newest].ts_us)
			return -1;
	}
	if (t->count == t->capacity)
		trend_drop_oldest(t);
	while (t->count > 0 && ts_us - t->ring[t->head].ts_us > t->window_us)
		trend_drop_oldest(t);
	p = &t->ring[(t->head + t->count) % t->capacity];
	p->ts_us = ts_us;
	p->e = e;
	t->count++;
	if (t->count == 1 || ++t->since_rebuild >= t->capacity)
		trend_rebuild(t);
	else
		trend_sum(t, p, 1);
	return 0;
}

int drift_trend_fit(const struct drift_trend *t, struct drift_fit *f)
{
	double n = t->count;

	if (!f || t->count < 3)
		return -1;
	f->n = t->count;
	f->dof = t->count - 2;
	f->c0 = 1 + 1 / n;
	f->xbar = t->sx / n;
	f->ybar = t->y0 + t->sy / n;
	f->sxx = t->sxx - t->sx * t->sx / n;
	return fit_finish(f, t->sxy - t->sx * t->sy / n,
	                  t->syy - t->sy * t->sy / n);
}

int drift_trend_forecast(const struct drift_trend *t, double lower,
                         double upper, double conf, double horizon_days,
                         struct drift_forecast *out)
{
	struct drift_fit f;
	double now, xl, xb;
	int newest;

	if (!t || !out || drift_trend_fit(t, &f) < 0)
		return -1;
	newest = (t->head + t->count - 1) % t->capacity;
	now = drift_trend_day(t, t->ring[newest].ts_us);
	if (drift_fit_crossing(&f, now, lower, upper, conf, horizon_days, &xl,
	                       &xb) < 0)
		return -1;
	out->slope = f.slope;
	out->se_slope = f.se_slope;
	out->line_crosses = !isnan(xl);
	out->bound_crosses = !isnan(xb);
	out->line_us = out->line_crosses ? drift_trend_us(t, xl) : 0;
	out->bound_us = out->bound_crosses ? drift_trend_us(t, xb) : 0;
	return 0;
}

/* ---- Interval advice ------------------------------------------------- */

int drift_interval_stair(struct drift_stair *s)
{
	double v;

	if (!s || !(s->interval > 0) || !nonneg(s->a) || !(s->b >= 0) ||
	    !(s->b < 1) || !nonneg(s->min))
		return -1;
	v = s->in_tolerance ? s->interval * (1 + s->a)
	                    : s->interval * (1 - s->b);
	if (v < s->min)
		v = s->min;
	if (s->max > 0 && v > s->max)
		v = s->max;
	s->suggested = v;
	return 0;
}

double drift_binom_cdf(int x, int n, double p)
{
	double lp, sum = 0;

	if (n < 0 || !(p >= 0 && p <= 1))
		return NAN;
	if (x < 0)
		return 0;
	if (x >= n)
		return 1;
	if (p == 0)
		return 1;
	if (p == 1)
		return 0;
	/* log pmf(0), then pmf(k+1) = pmf(k) * (n-k)/(k+1) * p/(1-p). */
	lp = n * log1p(-p);
	for (int k = 0; k <= x; k++) {
		sum += exp(lp);
		lp += log((double)(n - k) / (k + 1)) + log(p) - log1p(-p);
	}
	return sum > 1 ? 1 : sum;
}

int drift_interval_a3(struct drift_a3 *a)
{
	double c = 0, f;

	if (!a || !(a->interval > 0) || !(a->target > 0 && a->target < 1) ||
	    !(a->alpha > 0 && a->alpha < 0.5) || a->n < 1 || a->x < 0 ||
	    a->x > a->n)
		return -1;
	a->observed = (double)a->x / a->n;
	a->p_low = drift_binom_cdf(a->x, a->n, a->target);
	a->p_high = 1 - drift_binom_cdf(a->x - 1, a->n, a->target);
	/* Two-sided rejection confidence of the side R_hat lies on; 1 - 2p
	 * is negative when p > 1/2 (no evidence at all): 0. */
	if (a->observed < a->target)
		c = 1 - 2 * a->p_low;
	else if (a->observed > a->target)
		c = 1 - 2 * a->p_high;
	a->confidence = fmax(0, c);
	a->change = 0;
	if (a->observed < a->target && a->p_low <= a->alpha)
		a->change = -1;
	else if (a->observed > a->target && a->p_high <= a->alpha)
		a->change = 1;
	a->factor = 1;
	if (a->change != 0) {
		/* RP-1 A3 step; R_hat = 0 or 1 needs no substitute. */
		f = pow(10, (a->observed - a->target) * a->confidence);
		a->factor = fmin(DRIFT_A3_MAX_CHANGE,
		                 fmax(1 / DRIFT_A3_MAX_CHANGE, f));
	}
	a->suggested = a->interval * a->factor;
	return 0;
}

double drift_a3_band(double interval)
{
	if (!(interval > 0))
		return NAN;
	return fmin(DRIFT_A3_BAND_DAYS, DRIFT_A3_BAND_FRACTION * interval);
}

int drift_a3_count(const double *t, const bool *in_tol, int n, double interval,
                   double band, int *used, int *x)
{
	if (!t || !in_tol || !used || !x || n < 0 || !(interval > 0) ||
	    !(band >= 0))
		return -1;
	*used = 0;
	*x = 0;
	for (int i = 0; i < n; i++) {
		if (!(fabs(t[i] - interval) <= band))
			continue;
		(*used)++;
		*x += in_tol[i];
	}
	return 0;
}

/* ---- Variables data (NASA-HDBK-8739.19-5) ----------------------------- */

/* The least-squares fit of degree m (1 or 2) through the origin. */
static int vd_fit_degree(const double *t, const double *d, int n, int m,
                         struct drift_vd_fit *f)
{
	double a[2][2] = {{0, 0}, {0, 0}}, r[2] = {0, 0}, det, sse = 0;

	if (n <= m)
		return -1;
	/* Normal equations: a = T'T, r = T'd. */
	for (int i = 0; i < n; i++) {
		double v[2] = {t[i], t[i] * t[i]};

		if (!isfinite(t[i]) || !isfinite(d[i]))
			return -1;
		for (int j = 0; j < m; j++) {
			r[j] += v[j] * d[i];
			for (int k = 0; k < m; k++)
				a[j][k] += v[j] * v[k];
		}
	}
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->degree = m;
	f->dof = n - m;
	if (m == 1) {
		if (!(a[0][0] > 0))
			return -1;
		f->cov[0][0] = 1 / a[0][0];
	} else {
		det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
		/* Relative to the scale of T'T: singular when every t is
		 * one value (columns t and t^2 proportional). */
		if (!(det > 1e-12 * a[0][0] * a[1][1]))
			return -1;
		f->cov[0][0] = a[1][1] / det;
		f->cov[1][1] = a[0][0] / det;
		f->cov[0][1] = f->cov[1][0] = -a[0][1] / det;
	}
	for (int j = 0; j < m; j++)
		for (int k = 0; k < m; k++)
			f->b[j] += f->cov[j][k] * r[k];
	for (int i = 0; i < n; i++) {
		double e = d[i] - drift_vd_delta(f, t[i]);
		sse += e * e;
	}
	f->s = sqrt(sse / f->dof);
	/* cov(b) = s^2 (T'T)^-1. */
	for (int j = 0; j < m; j++)
		for (int k = 0; k < m; k++)
			f->cov[j][k] *= f->s * f->s;
	return 0;
}

int drift_vd_fit(const double *t, const double *d, int n, int degree,
                 struct drift_vd_fit *f)
{
	struct drift_vd_fit two;

	if (!t || !d || !f || degree < 0 || degree > DRIFT_VD_DEGREE_MAX)
		return -1;
	if (degree > 0)
		return vd_fit_degree(t, d, n, degree, f);
	if (vd_fit_degree(t, d, n, 1, f) < 0)
		return -1;
	if (vd_fit_degree(t, d, n, 2, &two) == 0 && two.s < f->s)
		*f = two;
	return 0;
}

double drift_vd_delta(const struct drift_vd_fit *f, double t)
{
	return f->b[0] * t + (f->degree > 1 ? f->b[1] * t * t : 0);
}

double drift_vd_upred(const struct drift_vd_fit *f, double t)
{
	double v[2] = {t, t * t}, q = 0;

	for (int j = 0; j < f->degree; j++)
		for (int k = 0; k < f->degree; k++)
			q += v[j] * f->cov[j][k] * v[k];
	return sqrt(f->s * f->s + fmax(0, q));
}

const char *drift_sides_name(enum drift_sides s)
{
	switch (s) {
	case DRIFT_TWO_SIDED:
		return "two-sided";
	case DRIFT_UPPER_ONLY:
		return "upper limit only";
	case DRIFT_LOWER_ONLY:
		return "lower limit only";
	}
	return "?";
}

double drift_vd_u(const struct drift_vd *v, double t)
{
	double up = drift_vd_upred(&v->fit, t);

	return sqrt(v->u0 * v->u0 + up * up);
}

double drift_vd_bound(const struct drift_vd *v, double t, int sign)
{
	return v->y0 + drift_vd_delta(&v->fit, t) +
	       sign * v->k * drift_vd_u(v, t);
}

/* What a target is: g(v, t) >= 0 once it is met. */
enum vd_goal { VD_LINE, VD_BOUND, VD_UNCERTAINTY };

static double vd_gap(const struct drift_vd *v, double t, enum vd_goal goal)
{
	bool hi = v->sides != DRIFT_LOWER_ONLY,
	     lo = v->sides != DRIFT_UPPER_ONLY;
	double y = v->y0 + drift_vd_delta(&v->fit, t);
	double ghi = -INFINITY, glo = -INFINITY;

	if (goal == VD_UNCERTAINTY)
		return drift_vd_u(v, t) - v->u_target;
	if (hi)
		ghi = (goal == VD_BOUND ? drift_vd_bound(v, t, 1) : y) -
		      v->upper;
	if (lo)
		glo = v->lower -
		      (goal == VD_BOUND ? drift_vd_bound(v, t, -1) : y);
	return fmax(ghi, glo);
}

#define VD_STEPS 4096

/* The earliest t in [0, horizon] with gap >= 0, or NAN: a scan in
 * horizon/VD_STEPS steps for the first step that meets it, then
 * bisection inside that step. */
static double vd_first(const struct drift_vd *v, enum vd_goal goal)
{
	double lo = 0, hi = v->horizon;

	if (vd_gap(v, 0, goal) >= 0)
		return 0;
	for (int i = 1; i <= VD_STEPS; i++) {
		hi = v->horizon * i / VD_STEPS;
		if (vd_gap(v, hi, goal) >= 0)
			break;
		lo = hi;
		if (i == VD_STEPS)
			return NAN;
	}
	for (int i = 0; i < 200; i++) {
		double mid = 0.5 * (lo + hi);
		if (mid <= lo || mid >= hi)
			break;
		if (vd_gap(v, mid, goal) >= 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

int drift_interval_vd(const double *t_days, const double *delta, int n,
                      struct drift_vd *v)
{
	double p;

	if (!v || !(v->lower <= v->upper) || !(v->u0 >= 0) ||
	    !isfinite(v->u0) || !isfinite(v->y0) || !(v->conf > 0) ||
	    !(v->conf < 1) || !(v->horizon > 0) || !isfinite(v->horizon) ||
	    v->sides < DRIFT_TWO_SIDED || v->sides > DRIFT_LOWER_ONLY ||
	    isnan(v->u_target) ||
	    drift_vd_fit(t_days, delta, n, v->degree, &v->fit) < 0)
		return -1;
	p = v->sides == DRIFT_TWO_SIDED ? (1 + v->conf) / 2 : v->conf;
	v->k = drift_t_quantile(p, v->fit.dof);
	v->t_line = vd_first(v, VD_LINE);
	v->suggested = vd_first(v, VD_BOUND);
	v->capped = isnan(v->suggested);
	if (v->capped)
		v->suggested = v->horizon;
	v->u_interval = NAN;
	v->u_capped = false;
	if (v->u_target > 0) {
		v->u_interval = vd_first(v, VD_UNCERTAINTY);
		v->u_capped = isnan(v->u_interval);
		if (v->u_capped)
			v->u_interval = v->horizon;
	}
	return 0;
}
