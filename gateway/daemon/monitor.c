/*
 * monitor.c - per-channel tolerance state on the ingest thread; see
 * monitor.h. One slot per channel of the config (global channel index), so
 * a reading finds its state in O(1): a small one (56 bytes) with what
 * every channel's readings need (the last reading, for the channels
 * comparing against it; the resolution), and a pointer to its watch, the
 * drift state (some 700 bytes), which only a channel with a tolerance has
 * (NULL: the channel is skipped). A lab of 10 000 channels of which few
 * have a tolerance holds 0.5 MB of slots, not 7.3 MB.
 *
 * Threading: the ingest thread only; nothing here is shared.
 */
#include "monitor.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "dec.h"
#include "drift.h"

/* The state of a channel with a tolerance. */
struct watch {
	const struct cfg_tolerance *tol;
	struct drift_channel dc;
	struct drift_ewma ewma;
	struct drift_cusum cusum; /* each chart's `news`: an episode opens */
	/* the trend (tol->trend_days > 0): bin means into a sliding fit */
	struct drift_trend tr;
	struct drift_point *ring; /* in the monitor's rings; NULL: no trend */
	int64_t bin_start;        /* start of the open bin, 0: none */
	double bin_sum;
	long bin_n;
	int trend_side;      /* last reported: +1 upper, -1 lower, 0 none */
	int64_t trend_bound; /* last reported crossing time */
	bool trend_reached;  /* last reported: the limit reached (in 0 s) */
	/* comparison: a reading waiting for its reference's of the same ts */
	bool pending;
	int64_t pend_ts;
	double pend_value; /* NAN when not good */
};

/* Every channel. */
struct slot {
	struct watch *w; /* in the monitor's watches; NULL: not monitored */
	/* its last reading, for the channels it is the reference of
	 * (reference_channel) */
	int64_t last_ts;
	double last_value; /* NAN when not good */
	/* how a reading becomes the decimal decided (reading_value) */
	struct dec step;  /* m > 0: rounded to a multiple of this */
	int sig;          /* > 0: rounded to this many significant digits */
	int32_t dep_head; /* first channel comparing against this one */
	int32_t dep_next; /* next channel with the same reference */
};

struct monitor {
	const struct config *cfg;
	struct slot *slots;
	struct watch *watches;     /* one per channel with a tolerance */
	struct drift_point *rings; /* every trend's ring, one block */
	uint32_t nslots;
	size_t room; /* state samples one sample may cause, at most */
};

#define DAY_US 86400000000LL
/* Bins before the first forecast: with fewer, Student's t of n - 2
 * degrees of freedom makes the bound so wide (t = 6.3 at 3 bins) that
 * every drift looks about to cross tomorrow. 10 bins: t(0.95, 8) = 1.86. */
#define TREND_MIN_BINS 10

/* The points of the trend of t (0: none). */
static size_t trend_points(const struct cfg_tolerance *t)
{
	if (t == NULL || !(t->trend_days > 0))
		return 0;
	return (size_t)(t->trend_days * 86400.0 / t->trend_bin_s) + 1;
}

/* The trend of sl, its ring at ring (trend_points of its tolerance). */
static void trend_init(struct watch *sl, struct drift_point *ring)
{
	const struct cfg_tolerance *t = sl->tol;

	sl->ring = ring;
	drift_trend_init(&sl->tr, ring, (int)trend_points(t),
	                 (int64_t)(t->trend_days * (double)DAY_US));
}

/* A fresh watch for tolerance t (valid: config.c checked it). */
static void watch_init(struct watch *sl, const struct cfg_tolerance *t)
{
	struct drift_channel_cfg cc = {
	        .lower = t->lower,
	        .upper = t->upper,
	        .guard = t->guard,
	        .warn_fraction = t->warning,
	        .hysteresis = t->hysteresis,
	        .consecutive = t->consecutive,
	        /* the default statement policy: a pass the lab could not
	         * state is a warning (drift.h) */
	        .U = t->U,
	        .u = t->U > 0 && t->k > 0 ? t->U / t->k : 0,
	};
	struct drift_baseline base;

	memset(sl, 0, sizeof(*sl));
	sl->tol = t;
	drift_channel_init(&sl->dc, &cc);
	memset(&base, 0, sizeof(base));
	if (t->baseline_sigma > 0)
		drift_baseline_given(&base, 0, t->baseline_sigma);
	else
		drift_baseline_learn(&base, t->baseline);
	if (t->ewma_lambda > 0)
		drift_ewma_init(&sl->ewma, t->ewma_lambda, t->ewma_L, &base);
	if (t->cusum_h > 0)
		drift_cusum_init(&sl->cusum, t->cusum_k, t->cusum_h, &base);
}

/* How a reading of ch becomes the decimal its decisions compare
 * (docs/METROLOGY.md, "A value on a limit is on it: how"): the
 * tolerance's resolution when given; a float32, to 7 significant digits
 * as the MQTT payloads print it; an integer type, to the decimals of its
 * scale and offset (raw x scale + offset has no more); a float64 as it
 * is (the shortest decimal that reads back as it). */
static void slot_resolution(struct slot *sl, const struct cfg_channel *ch)
{
	const struct cfg_tolerance *t = ch->tolerance;
	struct dec s, o;
	int32_t e = 0;

	sl->sig = 0;
	sl->step = (struct dec){0, 0};
	if (t != NULL && t->tol.resolution > 0 &&
	    dec_from_double(t->tol.resolution, &sl->step) == 0)
		return;
	if (ch->spec.type == DECODE_FLOAT32) {
		sl->sig = 7;
		return;
	}
	if (ch->spec.type == DECODE_FLOAT64 ||
	    dec_from_double(ch->spec.scale, &s) < 0 ||
	    dec_from_double(ch->spec.offset, &o) < 0)
		return;
	e = s.e < e ? s.e : e;
	e = o.m != 0 && o.e < e ? o.e : e;
	sl->step = (struct dec){1, e};
}

/* The reading v of sl as the double nearest to its decimal (v itself
 * when not finite or when the rounding does not fit). */
static double reading_value(const struct slot *sl, double v)
{
	struct dec d;

	if (!isfinite(v))
		return v;
	if (sl->sig > 0)
		return dec_from_double_sig(v, sl->sig, &d) == 0
		               ? dec_to_double(&d)
		               : v;
	if (sl->step.m > 0 && dec_from_double(v, &d) == 0 &&
	    dec_quantize(&d, &sl->step, &d) == 0)
		return dec_to_double(&d);
	return v;
}

/* The watches of the channels of c that have a tolerance into m (at
 * m->slots[i].w), and the one block of all their trends' rings (malloc,
 * not calloc: a point is written before it is read, and a block this
 * large is mapped lazily, so a window costs memory as it fills). */
static int watches_new(const struct config *c, struct monitor *m)
{
	size_t nw = 0, points = 0, at = 0;

	for (int i = 0; i < c->nchannels; i++) {
		const struct cfg_tolerance *t =
		        config_channel(c, (uint32_t)i, NULL)->tolerance;
		nw += t != NULL ? 1 : 0;
		points += trend_points(t);
	}
	if (nw > 0 && (m->watches = calloc(nw, sizeof(*m->watches))) == NULL)
		return -1;
	if (points > 0 &&
	    (m->rings = malloc(points * sizeof(*m->rings))) == NULL)
		return -1;
	nw = 0;
	for (int i = 0; i < c->nchannels; i++) {
		const struct cfg_tolerance *t =
		        config_channel(c, (uint32_t)i, NULL)->tolerance;
		if (t == NULL)
			continue;
		struct watch *w = m->slots[i].w = &m->watches[nw++];
		watch_init(w, t);
		if (trend_points(t) > 0) {
			trend_init(w, m->rings + at);
			at += trend_points(t);
		}
	}
	return 0;
}

/* The slots and watches of c into m (empty), and m->room: the most state
 * samples one sample can cause (a reference channel's reading completes
 * the comparisons of each channel waiting for it). Returns 0, or -1 when
 * memory runs out (what was allocated is in m, for tables_free()). */
static int tables_new(const struct config *c, struct monitor *m)
{
	size_t most = 0;

	m->cfg = c;
	m->nslots = (uint32_t)c->nchannels;
	m->slots = calloc(c->nchannels > 0 ? (size_t)c->nchannels : 1,
	                  sizeof(*m->slots));
	if (m->slots == NULL || watches_new(c, m) == -1)
		return -1;
	for (int i = 0; i < c->nchannels; i++) {
		slot_resolution(&m->slots[i],
		                config_channel(c, (uint32_t)i, NULL));
		m->slots[i].dep_head = m->slots[i].dep_next = -1;
		m->slots[i].last_value = NAN;
	}
	for (int i = 0; i < c->nchannels; i++) {
		const struct watch *w = m->slots[i].w;
		if (w == NULL || !w->tol->by_channel)
			continue;
		m->slots[i].dep_next = m->slots[w->tol->ref_channel].dep_head;
		m->slots[w->tol->ref_channel].dep_head = i;
	}
	for (int i = 0; i < c->nchannels; i++) {
		size_t n = m->slots[i].w != NULL ? 1 : 0;
		for (int d = m->slots[i].dep_head; d >= 0;
		     d = m->slots[d].dep_next)
			n++;
		most = n > most ? n : most;
	}
	m->room = most * MONITOR_MAX_PER_READING;
	return 0;
}

static void tables_free(struct monitor *m)
{
	free(m->slots);
	free(m->watches);
	free(m->rings);
}

struct monitor *monitor_new(const struct config *c)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if (tables_new(c, m) == -1) {
		monitor_free(m);
		return NULL;
	}
	return m;
}

void monitor_free(struct monitor *m)
{
	if (m == NULL)
		return;
	tables_free(m);
	free(m);
}

/* The same tolerance, apart from where it was written (field by field:
 * padding bytes are not ours to compare). */
static bool same_tolerance(const struct cfg_tolerance *a,
                           const struct cfg_tolerance *b)
{
	const struct drift_tol *x = &a->tol, *y = &b->tol;

	return a->reference == b->reference && x->form == y->form &&
	       x->abs == y->abs && x->pct == y->pct && x->span == y->span &&
	       x->ppm_reading == y->ppm_reading &&
	       x->ppm_range == y->ppm_range && x->range == y->range &&
	       x->digits == y->digits && x->resolution == y->resolution &&
	       x->lower == y->lower && x->upper == y->upper && a->U == b->U &&
	       a->k == b->k && a->rule == b->rule && a->guard == b->guard &&
	       a->warning == b->warning && a->hysteresis == b->hysteresis &&
	       a->consecutive == b->consecutive &&
	       a->ewma_lambda == b->ewma_lambda && a->ewma_L == b->ewma_L &&
	       a->cusum_k == b->cusum_k && a->cusum_h == b->cusum_h &&
	       a->baseline == b->baseline &&
	       a->baseline_sigma == b->baseline_sigma &&
	       a->trend_days == b->trend_days &&
	       a->trend_bin_s == b->trend_bin_s &&
	       a->trend_horizon_days == b->trend_horizon_days &&
	       a->trend_conf == b->trend_conf;
}

/* The trend of old, copied into sl (same tolerance, so the same
 * capacity): its points into sl's ring, which the fit then uses. */
static void keep_trend(struct watch *sl, const struct watch *old)
{
	if (sl->ring == NULL)
		return;
	memcpy(sl->ring, old->ring, trend_points(sl->tol) * sizeof(*sl->ring));
	sl->tr = old->tr;
	sl->tr.ring = sl->ring;
	sl->bin_start = old->bin_start;
	sl->bin_sum = old->bin_sum;
	sl->bin_n = old->bin_n;
	sl->trend_side = old->trend_side;
	sl->trend_bound = old->trend_bound;
	sl->trend_reached = old->trend_reached;
}

int monitor_rebuild(struct monitor *m, const struct config *next)
{
	const struct config *old = m->cfg;
	struct monitor nm = {0};

	if (tables_new(next, &nm) == -1) {
		tables_free(&nm);
		return -1;
	}
	/* O(instruments^2 + channels^2 per instrument), once per reload */
	for (int i = 0; i < next->ninstruments; i++) {
		const struct cfg_instrument *ni = &next->instruments[i];
		const struct cfg_instrument *oi = NULL;
		for (int j = 0; j < old->ninstruments && oi == NULL; j++)
			if (strcmp(old->instruments[j].id, ni->id) == 0)
				oi = &old->instruments[j];
		for (int k = 0; oi != NULL && k < ni->nchannels; k++) {
			const struct cfg_channel *nc = &ni->channels[k];
			if (nc->tolerance == NULL)
				continue;
			for (int j = 0; j < oi->nchannels; j++) {
				const struct cfg_channel *oc = &oi->channels[j];
				const struct watch *ow = m->slots[oc->index].w;
				struct watch *nw = nm.slots[nc->index].w;
				if (strcmp(oc->name, nc->name) != 0 ||
				    oc->tolerance == NULL ||
				    !same_tolerance(oc->tolerance,
				                    nc->tolerance))
					continue;
				/* the state, not the links of the old config */
				nw->dc = ow->dc;
				nw->ewma = ow->ewma;
				nw->cusum = ow->cusum;
				keep_trend(nw, ow);
				break;
			}
		}
	}
	tables_free(m);
	*m = nm;
	return 0;
}

static struct sample state_sample(uint32_t index, int64_t ts, double e,
                                  uint16_t detail)
{
	return (struct sample){.ts_us = ts,
	                       .index = index,
	                       .kind = SAMPLE_STATE,
	                       .quality = QUALITY_GOOD,
	                       .detail = detail,
	                       .value = e};
}

/* Whether a new forecast is news: another limit (or none any more); the
 * limit reached when it was not; a crossing still ahead whose time moved
 * by more than a tenth of the time left to it (and more than one bin), so
 * a steady drift is reported a few times as the date comes closer, not at
 * every bin. Once the limit was reported reached, the forecast says
 * "reached" (in 0 s) at every bin while the error stays out: that is not
 * news; what is: no crossing any more, the other limit, or a crossing
 * back in the future by more than a tenth of the trend's window (the
 * drift turned back; a bound that wavers about the limit is not). */
static bool trend_news(const struct watch *sl, int side, int64_t bound,
                       int64_t now, int64_t bin_us)
{
	bool reached = bound <= now;

	if (side != sl->trend_side)
		return true;
	if (side == 0)
		return false;
	if (sl->trend_reached) {
		int64_t window =
		        (int64_t)(sl->tol->trend_days * (double)DAY_US);
		return !reached && bound - now > bin_us &&
		       bound - now > window / 10;
	}
	if (reached)
		return true;
	int64_t moved = llabs(bound - sl->trend_bound);
	int64_t left = sl->trend_bound > now ? sl->trend_bound - now : 0;
	return moved > bin_us && moved > left / 10;
}

/* Close the open bin: its mean joins the fit; a forecast that is news
 * becomes a SAMPLE_STATE_TREND sample at ts. Returns 0 or 1 samples. */
static size_t trend_close(struct watch *sl, uint32_t index, int64_t ts,
                          struct sample *out)
{
	const struct cfg_tolerance *t = sl->tol;
	int64_t bin_us = (int64_t)t->trend_bin_s * 1000000;
	struct drift_forecast f;
	struct drift_fit fit;
	int side = 0;

	drift_trend_add(&sl->tr, sl->bin_start + bin_us / 2,
	                sl->bin_sum / (double)sl->bin_n);
	sl->bin_n = 0;
	sl->bin_sum = 0;
	if (sl->tr.count < TREND_MIN_BINS)
		return 0;
	if (drift_trend_forecast(&sl->tr, t->lower, t->upper, t->trend_conf,
	                         t->trend_horizon_days, &f) < 0 ||
	    drift_trend_fit(&sl->tr, &fit) < 0)
		return 0;
	if (f.bound_crosses) {
		/* both bounds are yhat -+ the same half-width: the one that
		 * reaches a limit first is the one nearer to yhat */
		double y = drift_fit_predict(
		        &fit, drift_trend_day(&sl->tr, f.bound_us));
		side = t->upper - y <= y - t->lower ? 1 : -1;
	}
	if (!trend_news(sl, side, f.bound_us, ts, bin_us))
		return 0;
	sl->trend_side = side;
	sl->trend_bound = f.bound_us;
	sl->trend_reached = side != 0 && f.bound_us <= ts;
	double days = side == 0 ? NAN
	              : f.bound_us > ts
	                      ? (double)(f.bound_us - ts) / (double)DAY_US
	                      : 0.0;
	out[0] = state_sample(index, ts, days,
	                      SAMPLE_STATE_CHART | SAMPLE_STATE_TREND |
	                              (side > 0 ? SAMPLE_STATE_HIGH : 0));
	return 1;
}

/* A good error at ts into the trend's bins: O(1), and a forecast at each
 * bin's close. */
static size_t trend_update(struct watch *sl, uint32_t index, int64_t ts,
                           double e, struct sample *out)
{
	int64_t bin_us = (int64_t)sl->tol->trend_bin_s * 1000000;
	size_t n = 0;

	if (sl->ring == NULL)
		return 0;
	if (sl->bin_n > 0 && ts >= sl->bin_start + bin_us)
		n = trend_close(sl, index, ts, out);
	if (sl->bin_n == 0)
		sl->bin_start = ts - ts % bin_us;
	sl->bin_sum += e;
	sl->bin_n++;
	return n;
}

/* One error (NAN: missing) of channel index at ts through its state
 * machine and charts; appends what changed to out, returns how many. */
static size_t evaluate(struct watch *sl, uint32_t index, int64_t ts, double e,
                       struct sample *out)
{
	size_t n = 0;
	bool good = isfinite(e);
	enum drift_state was = sl->dc.state;

	if (drift_channel_update(&sl->dc, ts, e))
		out[n++] = state_sample(index, ts, good ? e : 0,
		                        (uint16_t)(sl->dc.state | was << 4));
	if (!good)
		return n;
	n += trend_update(sl, index, ts, e, out + n);
	/* one event per episode of a chart (drift.h), not per signal */
	if (sl->tol->ewma_lambda > 0) {
		enum drift_signal g = drift_ewma_update(&sl->ewma, e);
		if (sl->ewma.news)
			out[n++] = state_sample(
			        index, ts, e,
			        SAMPLE_STATE_CHART |
			                (g > 0 ? SAMPLE_STATE_HIGH : 0));
	}
	if (sl->tol->cusum_h > 0) {
		enum drift_signal g = drift_cusum_update(&sl->cusum, e);
		if (sl->cusum.news)
			out[n++] = state_sample(
			        index, ts, e,
			        SAMPLE_STATE_CHART | SAMPLE_STATE_CUSUM |
			                (g > 0 ? SAMPLE_STATE_HIGH : 0));
	}
	return n;
}

size_t monitor_sample(struct monitor *m, const struct sample *s,
                      struct sample *out)
{
	size_t n = 0;

	if (s->kind != SAMPLE_READING || s->index >= m->nslots)
		return 0;
	struct slot *sl = &m->slots[s->index];
	double v = s->quality == QUALITY_GOOD && isfinite(s->value)
	                   ? reading_value(sl, s->value)
	                   : NAN;
	sl->last_ts = s->ts_us;
	sl->last_value = v;
	/* channels comparing against this one, waiting for this poll */
	for (int32_t d = sl->dep_head; d >= 0; d = m->slots[d].dep_next) {
		struct watch *ds = m->slots[d].w; /* a dependent has one */
		if (!ds->pending || ds->pend_ts != s->ts_us)
			continue;
		ds->pending = false;
		n += evaluate(ds, (uint32_t)d, s->ts_us,
		              drift_error(ds->pend_value, v), out + n);
	}
	struct watch *w = sl->w;
	if (w == NULL)
		return n;
	if (!w->tol->by_channel)
		return n + evaluate(w, s->index, s->ts_us,
		                    drift_error(v, w->tol->reference), out + n);
	const struct slot *ref = &m->slots[w->tol->ref_channel];
	if (w->pending) /* its reference never came: a missing reading */
		n += evaluate(w, s->index, w->pend_ts, NAN, out + n);
	w->pending = false;
	if (ref->last_ts == s->ts_us)
		return n + evaluate(w, s->index, s->ts_us,
		                    drift_error(v, ref->last_value), out + n);
	w->pending = true;
	w->pend_ts = s->ts_us;
	w->pend_value = v;
	return n;
}

void monitor_restart_trends(struct monitor *m, uint32_t inst)
{
	const struct cfg_instrument *in;

	if (inst >= (uint32_t)m->cfg->ninstruments)
		return;
	in = &m->cfg->instruments[inst];
	for (int j = 0; j < in->nchannels; j++) {
		struct watch *sl = m->slots[in->channels[j].index].w;
		if (sl == NULL || sl->ring == NULL)
			continue;
		trend_init(sl, sl->ring);
		sl->bin_start = 0;
		sl->bin_sum = 0;
		sl->bin_n = 0;
		sl->trend_side = 0;
		sl->trend_bound = 0;
		sl->trend_reached = false;
	}
}

size_t monitor_room(const struct monitor *m)
{
	return m->room;
}

int monitor_state(const struct monitor *m, uint32_t index)
{
	if (index >= m->nslots || m->slots[index].w == NULL)
		return DRIFT_NO_DATA;
	return (int)m->slots[index].w->dc.state;
}
