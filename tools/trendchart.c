/*
 * trendchart.c - the trend picture (trendchart.h), drawn for `metrolog
 * trend` (tools/trend.c) and metrolog-web: a picture (SVG or PNG) of a
 * channel's error over time, against its tolerance and guard-band limits, with
 * the fitted drift line, its 95 % prediction bound, the dates at which they are
 * predicted to leave the limits, and the instrument's calibrations.
 *
 * The error of a good reading is value - reference (the channel's
 * tolerance), or value - the reference channel's reading at the same ts
 * for a comparison (channels.reference_channel); readings that are not
 * good, or whose reference reading is missing, are left out, as metrologd
 * does.
 *
 * Readings stream twice through query_readings(): first to count them and
 * find the time span, then into at most BINS bins of the time axis (count,
 * mean, min, max), so a million readings draw as a band of bin extremes
 * and a line of bin means. The drift line is the least-squares fit
 * (drift_fit_points) over the readings themselves when there are at most
 * RAW_MAX of them, else over the bin means; drift_fit_crossing() gives the
 * crossing dates. Memory: the bins, up to RAW_MAX points, and for a
 * comparison the reference channel's readings in the range (16 bytes
 * each).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "drift.h"
#include "labtime.h"
#include "query.h"
#include "trendchart.h"
#include "utc.h"

#define BINS    1000
#define RAW_MAX 200000
#define DAY_US  86400000000.0
#define CONF    0.95

/* Colours. */
#define C_INK   0x222222
#define C_GRID  0xe3e6ea
#define C_AXIS  0x555555
#define C_DATA  0x1f5fa8
#define C_BAND  0xbcd3ee
#define C_LIMIT 0xc0182f
#define C_GUARD 0xe08a00
#define C_FIT   0x2e7d32
#define C_BOUND 0x8bc48e
#define C_CAL   0x6a3d9a

struct refpt {
	int64_t ts;
	double v;
};

struct bin {
	int64_t n;
	double sum, min, max, tsum; /* tsum: sum of (ts - first) in days */
};

struct series {
	struct query_channel ch;
	int64_t ref_id;    /* the reference channel, 0 none */
	struct refpt *ref; /* its good readings, by ts */
	size_t nref, capref, ri;
	bool counting; /* pass 1 */
	int64_t n, first_us, last_us;
	double emin, emax;
	struct bin *bins;
	int nbins;
	double *x, *y; /* the readings (days, error), n <= RAW_MAX */
	int64_t nraw;
	bool fail; /* out of memory */
};

struct cal_mark {
	int64_t us;
	char cert[CALIB_ID];
};

struct cals {
	struct cal_mark *v;
	int n, cap;
};

/* The tool's forms of times (tool_format_time, tool_format_date): the
 * lab's local time, "-" for none. */
static void format_time(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		snprintf(buf, size, "-");
	else
		labtime_format(us, 0, buf, size);
}

static void format_date(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		snprintf(buf, size, "-");
	else
		labtime_format_date(us, buf, size);
}

/* ---- reading the series ------------------------------------------------ */

static int add_ref(void *ctx, const struct query_reading *rd)
{
	struct series *s = ctx;

	if (isnan(rd->value))
		return 0;
	if (s->nref == s->capref) {
		size_t cap = s->capref ? 2 * s->capref : 4096;
		struct refpt *p = realloc(s->ref, cap * sizeof(*p));
		if (p == NULL) {
			s->fail = true;
			return 1;
		}
		s->ref = p;
		s->capref = cap;
	}
	s->ref[s->nref++] = (struct refpt){rd->ts_us, rd->value};
	return 0;
}

/* The error of a reading; NAN when it has none. */
static double error_of(struct series *s, const struct query_reading *rd)
{
	if (isnan(rd->value))
		return NAN;
	if (s->ref_id == 0)
		return rd->value - s->ch.reference;
	while (s->ri < s->nref && s->ref[s->ri].ts < rd->ts_us)
		s->ri++;
	if (s->ri < s->nref && s->ref[s->ri].ts == rd->ts_us)
		return rd->value - s->ref[s->ri].v;
	return NAN;
}

static int add_reading(void *ctx, const struct query_reading *rd)
{
	struct series *s = ctx;
	double e = error_of(s, rd);

	if (isnan(e))
		return 0;
	if (s->counting) {
		if (s->n == 0) {
			s->first_us = rd->ts_us;
			s->emin = s->emax = e;
		}
		s->last_us = rd->ts_us;
		s->emin = fmin(s->emin, e);
		s->emax = fmax(s->emax, e);
		s->n++;
		return 0;
	}
	double span = (double)(s->last_us - s->first_us) + 1;
	int i = (int)((double)(rd->ts_us - s->first_us) / span * s->nbins);
	if (i < 0 || i >= s->nbins) /* a reading written between passes */
		return 0;
	struct bin *b = &s->bins[i];
	double day = (double)(rd->ts_us - s->first_us) / DAY_US;
	if (b->n == 0)
		b->min = b->max = e;
	b->n++;
	b->sum += e;
	b->tsum += day;
	b->min = fmin(b->min, e);
	b->max = fmax(b->max, e);
	if (s->x != NULL && s->nraw < s->n) {
		s->x[s->nraw] = day;
		s->y[s->nraw] = e;
		s->nraw++;
	}
	return 0;
}

static int find_channel(void *ctx, const struct query_channel *ch)
{
	struct series *s = ctx;

	if (strcmp(ch->name, s->ch.name) != 0)
		return 0;
	s->ch = *ch;
	return 1;
}

static int add_cal(void *ctx, const struct calib_record *r)
{
	struct cals *c = ctx;

	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 16;
		struct cal_mark *p = realloc(c->v, (size_t)cap * sizeof(*p));
		if (p == NULL)
			return 2;
		c->v = p;
		c->cap = cap;
	}
	c->v[c->n].us = r->performed_us;
	snprintf(c->v[c->n].cert, sizeof(c->v[c->n].cert), "%s",
	         r->certificate);
	c->n++;
	return 0;
}

/* No picture: 1 with why and its words. */
static int nothing(struct trend_result *out, enum trend_none why,
                   const char *instrument, const char *channel)
{
	static const char *const fmt[] = {
	        [TREND_NO_CHANNEL] = "no channel %s/%s",
	        [TREND_NO_TOLERANCE] = "%s/%s has no tolerance: no reference "
	                               "to take the error from",
	        [TREND_NO_READINGS] = "%s/%s: no good readings in the range",
	};

	out->none = why;
	snprintf(out->err, sizeof(out->err), fmt[why], instrument, channel);
	return 1;
}

static int failed(struct trend_result *out, struct query *q, bool oom)
{
	snprintf(out->err, sizeof(out->err), "%s",
	         oom ? "out of memory" : query_error(q));
	return -1;
}

/* The reference channel's readings of a comparison into s. */
static int load_ref(struct query *q, const char *instrument, struct series *s,
                    int64_t from, int64_t to, struct trend_result *out)
{
	int rc = query_channel_id(q, instrument, s->ch.reference_channel,
	                          &s->ref_id);

	if (rc == 0)
		rc = query_readings(q, s->ref_id, from, to, add_ref, s);
	return rc != 0 || s->fail ? failed(out, q, s->fail) : 0;
}

/* The series of instrument/channel in [from, to): 0, 1 nothing to draw,
 * -1 an error (out->err says why either way). */
static int load(struct query *q, const char *instrument, struct series *s,
                int64_t from, int64_t to, struct trend_result *out)
{
	int rc;

	rc = query_channels(q, instrument, find_channel, s);
	if (rc < 0)
		return failed(out, q, false);
	if (rc == 0)
		return nothing(out, TREND_NO_CHANNEL, instrument, s->ch.name);
	if (!s->ch.has_tolerance)
		return nothing(out, TREND_NO_TOLERANCE, instrument, s->ch.name);
	if (s->ch.reference_channel[0] != '\0' &&
	    load_ref(q, instrument, s, from, to, out) < 0)
		return -1;
	s->counting = true;
	s->ri = 0;
	if (query_readings(q, s->ch.id, from, to, add_reading, s) != 0)
		return failed(out, q, false);
	if (s->n == 0)
		return nothing(out, TREND_NO_READINGS, instrument, s->ch.name);
	s->nbins = s->n < BINS ? (int)s->n : BINS;
	s->bins = calloc((size_t)s->nbins, sizeof(*s->bins));
	if (s->n <= RAW_MAX) {
		s->x = malloc((size_t)s->n * sizeof(double));
		s->y = malloc((size_t)s->n * sizeof(double));
	}
	if (s->bins == NULL || (s->n <= RAW_MAX && (!s->x || !s->y)))
		return failed(out, q, true);
	s->counting = false;
	s->ri = 0;
	if (query_readings(q, s->ch.id, from, to, add_reading, s) != 0)
		return failed(out, q, false);
	return 0;
}

/* ---- the fit ----------------------------------------------------------- */

struct forecast {
	bool fitted;
	struct drift_fit fit;
	double x_last;          /* days of the last reading */
	double x_line, x_bound; /* NAN: no crossing within the horizon */
};

static void forecast(struct series *s, double horizon, struct forecast *fc)
{
	double *bx = NULL, *by = NULL;
	int n = 0;

	memset(fc, 0, sizeof(*fc));
	fc->x_line = fc->x_bound = NAN;
	fc->x_last = (double)(s->last_us - s->first_us) / DAY_US;
	if (s->x != NULL) {
		fc->fitted = drift_fit_points(s->x, s->y, (int)s->nraw,
		                              &fc->fit) == 0;
	} else {
		bx = malloc((size_t)s->nbins * sizeof(double));
		by = malloc((size_t)s->nbins * sizeof(double));
		for (int i = 0; bx != NULL && by != NULL && i < s->nbins; i++)
			if (s->bins[i].n > 0) {
				bx[n] = s->bins[i].tsum / (double)s->bins[i].n;
				by[n] = s->bins[i].sum / (double)s->bins[i].n;
				n++;
			}
		fc->fitted = bx != NULL && by != NULL &&
		             drift_fit_points(bx, by, n, &fc->fit) == 0;
		free(bx);
		free(by);
	}
	if (fc->fitted &&
	    drift_fit_crossing(&fc->fit, fc->x_last, s->ch.lower, s->ch.upper,
	                       CONF, horizon, &fc->x_line, &fc->x_bound) < 0)
		fc->x_line = fc->x_bound = NAN;
}

/* ---- axes -------------------------------------------------------------- */

struct frame {
	double x0, y0, w, h; /* the plot area */
	int64_t t_lo, t_hi;  /* time axis, us */
	double e_lo, e_hi;   /* error axis */
	int64_t first_us;
	double scale; /* font scale */
};

static double fx(const struct frame *f, int64_t us)
{
	return f->x0 +
	       (double)(us - f->t_lo) / (double)(f->t_hi - f->t_lo) * f->w;
}

static double fy(const struct frame *f, double e)
{
	return f->y0 + f->h - (e - f->e_lo) / (f->e_hi - f->e_lo) * f->h;
}

static int64_t us_of_day(const struct frame *f, double day)
{
	return f->first_us + (int64_t)llround(day * DAY_US);
}

static double nice_step(double range, int ticks)
{
	double raw = range / ticks, mag = pow(10, floor(log10(raw)));
	double norm = raw / mag;

	if (norm <= 1)
		return mag;
	if (norm <= 2)
		return 2 * mag;
	if (norm <= 2.5)
		return 2.5 * mag;
	if (norm <= 5)
		return 5 * mag;
	return 10 * mag;
}

/* The forms of a time on the chart, in the lab's local time. */
enum when_form {
	WHEN_DATE,       /* 2026-11-26 */
	WHEN_DAY_MINUTE, /* 11-26 12:00 */
	WHEN_SECOND,     /* 12:00:00 */
	WHEN_DATE_TIME,  /* 2026-11-26 12:00:00 */
};

static void format_local(int64_t us, enum when_form form, char *buf,
                         size_t size)
{
	struct utc_civil c;

	labtime_to_civil(us, &c);
	switch (form) {
	case WHEN_DATE:
		snprintf(buf, size, "%04lld-%02d-%02d", (long long)c.year,
		         c.month, c.day);
		break;
	case WHEN_DAY_MINUTE:
		snprintf(buf, size, "%02d-%02d %02d:%02d", c.month, c.day,
		         c.hour, c.minute);
		break;
	case WHEN_SECOND:
		snprintf(buf, size, "%02d:%02d:%02d", c.hour, c.minute,
		         c.second);
		break;
	case WHEN_DATE_TIME:
		snprintf(buf, size, "%04lld-%02d-%02d %02d:%02d:%02d",
		         (long long)c.year, c.month, c.day, c.hour, c.minute,
		         c.second);
		break;
	}
}

static void time_axis(struct draw *d, const struct frame *f)
{
	static const int64_t steps_s[] = {
	        1,        2,        5,        10,      15,      30,
	        60,       120,      300,      600,     900,     1800,
	        3600,     7200,     10800,    21600,   43200,   86400,
	        172800,   604800,   1209600,  2592000, 7776000, 15552000,
	        31536000, 63072000, 157680000};
	struct draw_style lab = {11 * f->scale, false,  false,
	                         false,         C_AXIS, DRAW_CENTER};
	double span_s = (double)(f->t_hi - f->t_lo) / 1e6;
	int64_t step = steps_s[sizeof(steps_s) / sizeof(steps_s[0]) - 1];
	double max_ticks = f->w / (110 * f->scale);
	enum when_form form;
	char buf[64], title[160], zone[16];

	for (size_t i = 0; i < sizeof(steps_s) / sizeof(steps_s[0]); i++)
		if (span_s / (double)steps_s[i] <= max_ticks) {
			step = steps_s[i];
			break;
		}
	form = step >= 86400 ? WHEN_DATE
	       : step >= 60  ? WHEN_DAY_MINUTE
	                     : WHEN_SECOND;
	/* ticks at the multiples of step on the lab's clock (local midnights
	 * for days), each at the instant that clock reading comes */
	int64_t step_us = step * 1000000;
	int64_t w = f->t_lo + (int64_t)labtime_offset(f->t_lo) * 1000000;
	int64_t t, prev = INT64_MIN;
	w = (w / step_us - 1) * step_us;
	for (; (t = labtime_instant(w)) <= f->t_hi; w += step_us) {
		if (t < f->t_lo || t == prev)
			continue; /* before the axis, or a reading skipped */
		prev = t;
		double x = fx(f, t);
		draw_line(d, x, f->y0, x, f->y0 + f->h, 0.6 * f->scale, C_GRID,
		          false);
		draw_line(d, x, f->y0 + f->h, x, f->y0 + f->h + 4 * f->scale,
		          f->scale, C_AXIS, false);
		format_local(t, form, buf, sizeof(buf));
		draw_text(d, x, f->y0 + f->h + 6 * f->scale, 0, &lab, buf);
	}
	labtime_format_zone(f->t_lo, zone, sizeof(zone));
	if (step < 86400) {
		format_local(f->t_lo, WHEN_DATE_TIME, buf, sizeof(buf));
		snprintf(title, sizeof(title), "time (%s), from %s", zone, buf);
	} else {
		snprintf(title, sizeof(title), "date (%s)", zone);
	}
	lab.size = 12 * f->scale;
	lab.color = C_INK;
	draw_text(d, f->x0 + f->w / 2, f->y0 + f->h + 24 * f->scale, 0, &lab,
	          title);
}

static void error_axis(struct draw *d, const struct frame *f, const char *unit)
{
	struct draw_style lab = {11 * f->scale, false,  false,
	                         false,         C_AXIS, DRAW_RIGHT};
	double step =
	        nice_step(f->e_hi - f->e_lo, (int)(f->h / (45 * f->scale)) + 1);
	char buf[64], title[128];

	for (double v = ceil(f->e_lo / step) * step; v <= f->e_hi + step * 1e-9;
	     v += step) {
		double y = fy(f, v), shown = fabs(v) < step * 1e-9 ? 0 : v;
		draw_line(d, f->x0, y, f->x0 + f->w, y, 0.6 * f->scale, C_GRID,
		          false);
		snprintf(buf, sizeof(buf), "%g", shown);
		draw_text(d, f->x0 - 6 * f->scale, y - 7 * f->scale, 0, &lab,
		          buf);
	}
	snprintf(title, sizeof(title), "error (%.100s)",
	         unit[0] ? unit : "no unit");
	lab.size = 12 * f->scale;
	lab.color = C_INK;
	draw_text_up(d, 16 * f->scale, f->y0 + f->h / 2, &lab, title);
}

/* ---- the picture ------------------------------------------------------- */

struct picture {
	const char *name; /* instrument/channel */
	const struct series *s;
	const struct forecast *fc;
	const struct cals *cals;
	double horizon;
	bool short_axis;   /* less than two days: dates with times */
	char summary[512]; /* the drift and crossing line */
	char desc[4096];   /* SVG <title> and <desc> */
};

static void limit_line(struct draw *d, const struct frame *f, double e,
                       uint32_t color, bool dashed)
{
	if (e < f->e_lo || e > f->e_hi)
		return;
	draw_line(d, f->x0, fy(f, e), f->x0 + f->w, fy(f, e), 1.4 * f->scale,
	          color, dashed);
}

static void draw_data(struct draw *d, const struct frame *f,
                      const struct series *s)
{
	int nb = s->nbins;
	double *xs = malloc((size_t)nb * sizeof(double) * 4);

	if (xs == NULL)
		return; /* the picture goes without; cairo reports nothing */
	double *mean = xs + nb, *lo = xs + 2 * nb, *hi = xs + 3 * nb;
	bool few = s->x != NULL && s->nraw <= (int64_t)(f->w / (3 * f->scale));

	for (int i = 0; i < nb; i++) {
		const struct bin *b = &s->bins[i];
		if (b->n == 0) {
			xs[i] = mean[i] = lo[i] = hi[i] = NAN;
			continue;
		}
		xs[i] = fx(f, us_of_day(f, b->tsum / (double)b->n));
		mean[i] = fy(f, b->sum / (double)b->n);
		lo[i] = fy(f, b->min);
		hi[i] = fy(f, b->max);
	}
	if (few) { /* every reading, as dots on a thin line */
		for (int64_t i = 0; i < s->nraw; i++)
			draw_dot(d, fx(f, us_of_day(f, s->x[i])),
			         fy(f, s->y[i]), 2.2 * f->scale, C_DATA);
	} else { /* bin extremes as a band, runs of filled bins */
		int start = -1;
		for (int i = 0; i <= nb; i++) {
			bool filled = i < nb && !isnan(xs[i]);
			if (filled && start < 0)
				start = i;
			if (!filled && start >= 0) {
				draw_band(d, xs + start, lo + start, hi + start,
				          i - start, C_BAND);
				start = -1;
			}
		}
	}
	draw_polyline(d, xs, mean, nb, (few ? 0.8 : 1.3) * f->scale, C_DATA);
	free(xs);
}

/* Clip the segment to the plot area (Liang-Barsky). false: nothing is
 * left. Drawing only what is inside keeps cairo's fixed-point coordinates
 * in range when a steep line runs far outside. */
static bool clip(const struct frame *f, double *xa, double *ya, double *xb,
                 double *yb)
{
	double dx = *xb - *xa, dy = *yb - *ya, t0 = 0, t1 = 1;
	double p[4] = {-dx, dx, -dy, dy};
	double q[4] = {*xa - f->x0, f->x0 + f->w - *xa, *ya - f->y0,
	               f->y0 + f->h - *ya};

	for (int i = 0; i < 4; i++) {
		if (p[i] == 0) {
			if (q[i] < 0)
				return false;
			continue;
		}
		double t = q[i] / p[i];
		if (p[i] < 0 && t > t0)
			t0 = t;
		else if (p[i] > 0 && t < t1)
			t1 = t;
	}
	if (t0 > t1)
		return false;
	*xb = *xa + t1 * dx;
	*yb = *ya + t1 * dy;
	*xa += t0 * dx;
	*ya += t0 * dy;
	return true;
}

/* A line through n points of the plot, clipped to it; NAN breaks it. */
static void plot_line(struct draw *d, const struct frame *f, const double *xs,
                      const double *ys, int n, double lw, uint32_t color)
{
	for (int i = 0; i + 1 < n; i++) {
		double xa = xs[i], ya = ys[i], xb = xs[i + 1], yb = ys[i + 1];
		if (isnan(xa) || isnan(ya) || isnan(xb) || isnan(yb) ||
		    !clip(f, &xa, &ya, &xb, &yb))
			continue;
		draw_line(d, xa, ya, xb, yb, lw, color, false);
	}
}

static void draw_fit(struct draw *d, const struct frame *f,
                     const struct forecast *fc)
{
	enum { N = 120 };
	double xs[N], up[N], dn[N];
	double d0 = (double)(f->t_lo - f->first_us) / DAY_US;
	double d1 = (double)(f->t_hi - f->first_us) / DAY_US;

	if (!fc->fitted)
		return;
	/* the one-sided prediction bounds, from the last reading on */
	for (int i = 0; i < N; i++) {
		double x = fc->x_last + (d1 - fc->x_last) * i / (N - 1);
		double p = drift_fit_predict(&fc->fit, x);
		double hw = drift_fit_halfwidth(&fc->fit, x, CONF);
		xs[i] = fx(f, us_of_day(f, x));
		up[i] = isnan(hw) ? NAN : fy(f, p + hw);
		dn[i] = isnan(hw) ? NAN : fy(f, p - hw);
	}
	plot_line(d, f, xs, up, N, 1.1 * f->scale, C_BOUND);
	plot_line(d, f, xs, dn, N, 1.1 * f->scale, C_BOUND);
	double a[2] = {fx(f, f->t_lo), fx(f, f->t_hi)};
	double b[2] = {fy(f, drift_fit_predict(&fc->fit, d0)),
	               fy(f, drift_fit_predict(&fc->fit, d1))};
	plot_line(d, f, a, b, 2, 1.8 * f->scale, C_FIT);
}

/* Labels of the vertical markers, in rows at the top of the plot: each
 * goes into the first row where it overlaps no label already there. */
#define LABELS 64
#define ROWS   6

struct labels {
	double x0[LABELS], x1[LABELS];
	int row[LABELS], n;
};

static int label_row(struct labels *l, double x0, double x1)
{
	int row = 0;

	for (; row < ROWS - 1; row++) {
		bool free_row = true;
		for (int i = 0; i < l->n; i++)
			if (l->row[i] == row && x0 < l->x1[i] + 6 &&
			    x1 > l->x0[i] - 6)
				free_row = false;
		if (free_row)
			break;
	}
	if (l->n < LABELS) {
		l->x0[l->n] = x0;
		l->x1[l->n] = x1;
		l->row[l->n++] = row;
	}
	return row;
}

/* A vertical marker at us with a label at its top. */
static void vmark(struct draw *d, const struct frame *f, int64_t us,
                  uint32_t color, const char *label, struct labels *l)
{
	struct draw_style s = {10 * f->scale, true,  false,
	                       false,         color, DRAW_LEFT};
	double x = fx(f, us), w, x0;

	draw_line(d, x, f->y0, x, f->y0 + f->h, 1.2 * f->scale, color, true);
	draw_marker(d, x, f->y0 + f->h, 9 * f->scale, color);
	draw_text_size(d, 0, &s, label, &w, NULL);
	if (x + 4 * f->scale + w > f->x0 + f->w) {
		s.align = DRAW_RIGHT;
		x -= 4 * f->scale;
		x0 = x - w;
	} else {
		x += 4 * f->scale;
		x0 = x;
	}
	int row = label_row(l, x0, x0 + w);
	draw_text(d, x, f->y0 + (4 + 14 * row) * f->scale, 0, &s, label);
}

static void legend(struct draw *d, const struct frame *f, double y,
                   const struct series *s, bool fitted, bool cals)
{
	struct {
		uint32_t color;
		bool dashed;
		char text[64];
	} items[6] = {
	        {C_DATA, false, ""},
	        {C_LIMIT, false, "tolerance limits"},
	        {C_GUARD, true, "guard-band limits"},
	        {C_FIT, false, "drift fit"},
	        {C_BOUND, false, "95 % prediction bound"},
	        {C_CAL, true, "calibration"},
	};
	struct draw_style st = {10.5 * f->scale, false, false,
	                        false,           C_INK, DRAW_LEFT};
	double x = f->x0;

	snprintf(items[0].text, sizeof(items[0].text),
	         "error (%" PRId64 " readings%s)", s->n,
	         s->x == NULL || s->nraw > (int64_t)(f->w / (3 * f->scale))
	                 ? ", bin means and range"
	                 : "");
	for (int i = 0; i < 6; i++) {
		double w;
		if ((i == 2 && !(s->ch.guard > 0)) ||
		    ((i == 3 || i == 4) && !fitted) || (i == 5 && !cals))
			continue;
		draw_line(d, x, y + 7 * f->scale, x + 22 * f->scale,
		          y + 7 * f->scale, 2 * f->scale, items[i].color,
		          items[i].dashed);
		x += 26 * f->scale;
		draw_text_size(d, 0, &st, items[i].text, &w, NULL);
		draw_text(d, x, y, 0, &st, items[i].text);
		x += w + 16 * f->scale;
	}
}

/* A date, with the time of day when the axis spans less than two days. */
static void when(const struct picture *p, int64_t us, char *buf, size_t size)
{
	if (p->short_axis)
		format_local(us, WHEN_DATE_TIME, buf, size);
	else
		format_date(us, buf, size);
}

static void summarise(struct picture *p)
{
	const struct series *s = p->s;
	const struct forecast *fc = p->fc;
	const char *u = s->ch.unit;
	char a[32], b[32], line[160], bound[160];
	int n;

	if (!fc->fitted) {
		snprintf(p->summary, sizeof(p->summary),
		         "no drift fit (fewer than 3 readings, or all at one "
		         "time)");
	} else {
		n = snprintf(p->summary, sizeof(p->summary),
		             "drift %+.4g %s/day (s.e. %.2g); ", fc->fit.slope,
		             u, fc->fit.se_slope);
		if (isnan(fc->x_line) && isnan(fc->x_bound)) {
			snprintf(p->summary + n, sizeof(p->summary) - (size_t)n,
			         "no crossing predicted within %g days",
			         p->horizon);
		} else {
			struct frame f0 = {.first_us = s->first_us};
			when(p, us_of_day(&f0, fc->x_line), a, sizeof(a));
			when(p, us_of_day(&f0, fc->x_bound), b, sizeof(b));
			snprintf(line, sizeof(line), "%s",
			         isnan(fc->x_line) ? "beyond the horizon" : a);
			snprintf(bound, sizeof(bound), "%s",
			         isnan(fc->x_bound) ? "beyond the horizon" : b);
			snprintf(
			        p->summary + n, sizeof(p->summary) - (size_t)n,
			        "predicted crossing %s (95 %% prediction bound "
			        "%s)",
			        line, bound);
		}
	}
}

static void describe(struct picture *p, int64_t t_lo, int64_t t_hi)
{
	const struct series *s = p->s;
	const char *u = s->ch.unit;
	char a[32], b[32];
	int n;

	format_time(t_lo, a, sizeof(a));
	format_time(t_hi, b, sizeof(b));
	n = snprintf(p->desc, sizeof(p->desc),
	             "Trend of %s: error (%s) over time\n"
	             "time axis %s to %s, %" PRId64 " readings\n"
	             "tolerance limits: lower %.15g %s, upper %.15g %s\n",
	             p->name, u, a, b, s->n, s->ch.lower, u, s->ch.upper, u);
	if (s->ref_id)
		n += snprintf(p->desc + n, sizeof(p->desc) - (size_t)n,
		              "error = value - the reading of %s at the same "
		              "time\n",
		              s->ch.reference_channel);
	else
		n += snprintf(p->desc + n, sizeof(p->desc) - (size_t)n,
		              "error = value - reference %.15g %s\n",
		              s->ch.reference, u);
	if (s->ch.guard > 0)
		n += snprintf(p->desc + n, sizeof(p->desc) - (size_t)n,
		              "guard-band limits: lower %.15g %s, upper %.15g "
		              "%s (guard %.15g)\n",
		              s->ch.lower + s->ch.guard, u,
		              s->ch.upper - s->ch.guard, u, s->ch.guard);
	n += snprintf(p->desc + n, sizeof(p->desc) - (size_t)n, "%s\n",
	              p->summary);
	for (int i = 0; i < p->cals->n && n < (int)sizeof(p->desc) - 100; i++) {
		format_date(p->cals->v[i].us, a, sizeof(a));
		n += snprintf(p->desc + n, sizeof(p->desc) - (size_t)n,
		              "calibration %s on %s%s\n", p->cals->v[i].cert, a,
		              p->cals->v[i].us < t_lo || p->cals->v[i].us > t_hi
		                      ? " (outside the time axis)"
		                      : "");
	}
}

/* The plot's frame: its place in the picture, and the time and error
 * ranges it shows (from, to: those asked for; INT64_MIN, INT64_MAX none). */
static void frame_of(struct frame *f, const struct series *s,
                     const struct forecast *fc, double width, double height,
                     int64_t from, int64_t to)
{
	*f = (struct frame){.first_us = s->first_us};
	f->scale = fmin(width / 1200, height / 600);
	f->scale = fmax(0.55, fmin(f->scale, 3));
	f->x0 = 84 * f->scale;
	f->y0 = 78 * f->scale;
	f->w = width - f->x0 - 24 * f->scale;
	f->h = height - f->y0 - 62 * f->scale;
	/* time: the range asked for, else the readings; with the predicted
	 * crossings */
	f->t_lo = from > INT64_MIN ? from : s->first_us;
	f->t_hi = to < INT64_MAX ? to : s->last_us;
	if (!isnan(fc->x_line))
		f->t_hi = f->t_hi > us_of_day(f, fc->x_line)
		                  ? f->t_hi
		                  : us_of_day(f, fc->x_line);
	if (!isnan(fc->x_bound) && us_of_day(f, fc->x_bound) > f->t_hi)
		f->t_hi = us_of_day(f, fc->x_bound);
	if (f->t_hi <= f->t_lo)
		f->t_hi = f->t_lo + 1000000;
	int64_t pad = (f->t_hi - f->t_lo) / 50;
	if (from == INT64_MIN)
		f->t_lo -= pad;
	f->t_hi += pad;
	/* error: the readings and the limits */
	f->e_lo = fmin(s->emin, s->ch.lower);
	f->e_hi = fmax(s->emax, s->ch.upper);
	if (!(f->e_hi > f->e_lo))
		f->e_hi = f->e_lo + 1;
	double epad = (f->e_hi - f->e_lo) * 0.12;
	f->e_lo -= epad;
	f->e_hi += epad;
}

static int render(struct picture *p, const struct trend_request *rq,
                  struct trend_result *out)
{
	const struct series *s = p->s;
	const struct forecast *fc = p->fc;
	struct frame f;
	char *err = out->err, buf[256];
	size_t errlen = sizeof(out->err);
	struct draw *d;

	frame_of(&f, s, fc, rq->width, rq->height,
	         rq->axis_from_data ? INT64_MIN : rq->from, rq->to);
	p->short_axis = f.t_hi - f.t_lo < 2 * (int64_t)DAY_US;
	summarise(p);
	describe(p, f.t_lo, f.t_hi);
	d = rq->path != NULL
	            ? draw_new(rq->format, rq->path, rq->width, rq->height, err,
	                       errlen)
	            : draw_new_svg_memory(rq->width, rq->height, err, errlen);
	if (d == NULL)
		goto fail;
	/* title, summary, legend */
	struct draw_style title = {15 * f.scale, true,  false,
	                           false,        C_INK, DRAW_LEFT};
	struct draw_style sub = {11 * f.scale, false,  false,
	                         false,        C_AXIS, DRAW_LEFT};
	snprintf(buf, sizeof(buf),
	         "%.120s: error over time, limits [%.6g, %.6g] %.40s", p->name,
	         s->ch.lower, s->ch.upper, s->ch.unit);
	draw_text(d, f.x0, 8 * f.scale, 0, &title, buf);
	draw_text(d, f.x0, 30 * f.scale, 0, &sub, p->summary);
	bool cals_shown = false;
	for (int i = 0; i < p->cals->n; i++)
		cals_shown |= p->cals->v[i].us >= f.t_lo &&
		              p->cals->v[i].us <= f.t_hi;
	legend(d, &f, 50 * f.scale, s, fc->fitted, cals_shown);
	/* the plot */
	draw_rect(d, f.x0, f.y0, f.w, f.h, true, 0xffffff, 0, 0);
	time_axis(d, &f);
	error_axis(d, &f, s->ch.unit);
	draw_clip(d, f.x0, f.y0, f.w, f.h);
	if (s->ch.guard > 0) {
		limit_line(d, &f, s->ch.lower + s->ch.guard, C_GUARD, true);
		limit_line(d, &f, s->ch.upper - s->ch.guard, C_GUARD, true);
	}
	limit_line(d, &f, s->ch.lower, C_LIMIT, false);
	limit_line(d, &f, s->ch.upper, C_LIMIT, false);
	draw_data(d, &f, s);
	draw_fit(d, &f, fc);
	draw_unclip(d);
	struct labels labels = {.n = 0};
	for (int i = 0; i < p->cals->n; i++)
		if (p->cals->v[i].us >= f.t_lo && p->cals->v[i].us <= f.t_hi)
			vmark(d, &f, p->cals->v[i].us, C_CAL,
			      p->cals->v[i].cert, &labels);
	if (!isnan(fc->x_bound)) {
		when(p, us_of_day(&f, fc->x_bound), buf, sizeof(buf));
		char label[sizeof(buf) + 16];
		snprintf(label, sizeof(label), "95 %% bound %s", buf);
		vmark(d, &f, us_of_day(&f, fc->x_bound), C_GUARD, label,
		      &labels);
	}
	if (!isnan(fc->x_line)) {
		when(p, us_of_day(&f, fc->x_line), buf, sizeof(buf));
		char label[sizeof(buf) + 16];
		snprintf(label, sizeof(label), "line crosses %s", buf);
		vmark(d, &f, us_of_day(&f, fc->x_line), C_LIMIT, label,
		      &labels);
	}
	draw_rect(d, f.x0, f.y0, f.w, f.h, false, 0, 1 * f.scale, C_AXIS);
	if (draw_finish(d, p->desc, err, errlen) < 0)
		goto fail;
	if (rq->path == NULL &&
	    (out->svg = draw_take(d, &out->svg_len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	draw_free(d);
	return 0;
fail:
	draw_free(d);
	return -1;
}

/* What the picture says, for its user's own words (trend_result). */
static void result_of(const struct series *s, const struct forecast *fc,
                      struct trend_result *out)
{
	struct frame f0 = {.first_us = s->first_us};

	out->readings = s->n;
	out->fitted = fc->fitted;
	out->slope = fc->fit.slope;
	out->se_slope = fc->fit.se_slope;
	out->line_us = isnan(fc->x_line) ? 0 : us_of_day(&f0, fc->x_line);
	out->bound_us = isnan(fc->x_bound) ? 0 : us_of_day(&f0, fc->x_bound);
}

int trend_chart(struct query *q, const struct trend_request *rq,
                struct trend_result *out)
{
	char name[CALIB_ID + CALIB_TEXT + 2];
	struct series s;
	struct cals cals = {0};
	struct forecast fc;
	int c, rc;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	snprintf(s.ch.name, sizeof(s.ch.name), "%s", rq->channel);
	snprintf(name, sizeof(name), "%s/%s", rq->instrument, rq->channel);
	rc = load(q, rq->instrument, &s, rq->from == INT64_MIN ? 0 : rq->from,
	          rq->to, out);
	if (rc != 0)
		goto out;
	c = query_calibrations(q, rq->instrument, NULL, add_cal, &cals);
	if (c != 0) {
		rc = failed(out, q, c == 2);
		goto out;
	}
	forecast(&s, rq->horizon, &fc);
	if (rq->no_picture) {
		result_of(&s, &fc, out);
		goto out;
	}
	struct picture p = {.name = name,
	                    .s = &s,
	                    .fc = &fc,
	                    .cals = &cals,
	                    .horizon = rq->horizon};
	rc = render(&p, rq, out);
	if (rc == 0)
		result_of(&s, &fc, out);
out:
	free(s.ref);
	free(s.bins);
	free(s.x);
	free(s.y);
	free(cals.v);
	return rc;
}
