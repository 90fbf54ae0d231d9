/*
 * compose.c - the events rows and outbox messages of a batch (compose.h).
 *
 * A batch is composed into scratch space owned by the composer: the
 * events and outbox rows refer to their strings by offset into one text
 * buffer (it may move while it grows), turned into pointers just before
 * store_write(). States changed while composing are logged (struct undo)
 * and restored when the write fails.
 *
 * Threading: the ingest thread only (compose.h).
 */
#include "compose.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "drift.h"
#include "msg.h"
#include "query.h"
#include "text.h"
#include "utc.h"

#define CAL_RECHECK_US   (60 * 1000000LL)
#define RECORDS_PER_TURN 16 /* records and approvals per composer_records() */
#define TEXT_MAX         (64 * 1024 * 1024) /* one batch's text, at most */

/* A sample of the batch, in the order messages are composed: by time,
 * then instrument, then events before readings (an instrument is online
 * before its first reading), then the tolerance states the readings
 * caused, then position in the batch. */
struct item {
	int64_t ts;
	uint32_t inst;
	uint32_t kind;
	uint32_t pos;
};

struct undo {
	uint8_t *p;
	uint8_t old;
};

/* The calibration in force of one instrument or standard. */
struct cal_state {
	int64_t due_us;      /* 0: none */
	char cert[CALIB_ID]; /* "" never calibrated */
	uint8_t due;         /* enum calib_due */
	bool in_use;         /* a reference: of a channel, or of a record */
	bool renewed;        /* another certificate in force since the
	                        call before (composer_renewed()) */
};

struct composer {
	const struct config *c;
	uint32_t *inst_of;     /* instrument index by channel index */
	uint8_t *chan_state;   /* enum drift_state by channel index */
	uint8_t *inst_state;   /* 0 unknown, else the enum sample_kind of
	                          its last event (SAMPLE_ONLINE ...) */
	uint8_t *inst_reason;  /* enum quality of the last offline or failing */
	struct cal_state *cal; /* instruments then standards; NULL until the
	                          first composer_calibration() */
	int64_t cal_seen;      /* newest calibrations.id at the last read */
	int64_t cal_next_us;   /* when due states are recomputed anyway */
	/* one batch's scratch space */
	struct item *items;
	size_t nitems;
	struct undo *undo;
	size_t nundo, undo_cap;
	struct store_event *ev; /* detail: an offset into text */
	size_t nev, ev_cap;
	struct store_out *out; /* topic, payload: offsets into text;
	                          channels: an offset into chidx */
	size_t nout, out_cap;
	struct composed_msg *rmsg; /* the readings messages (the copy) */
	size_t nrmsg, rmsg_cap;
	struct composed_reading *rd; /* their readings */
	uint32_t *chidx;             /* and their channels, for the store */
	size_t nrd, rd_cap, chidx_cap;
	struct msg_chstate *pcs;
	size_t npcs;
	char *text;
	size_t text_used, text_cap;
	int64_t seq; /* the next outbox seq */
	/* the published marks the batch sets (store_batch), 0: unchanged */
	int64_t mark_cal, mark_approvals;
	int64_t outbox_delete; /* for the next write (store_batch), 0: none */
	struct query *q; /* records read for publishing; NULL until needed */
	char message[512];
};

/* ---- scratch space ------------------------------------------------------ */

static int fail(struct composer *cp, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int fail(struct composer *cp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cp->message, sizeof(cp->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* text_reserve(), with the reason when memory runs out. */
static int reserve(struct composer *cp, void **buf, size_t *have, size_t n,
                   size_t each)
{
	if (text_reserve(buf, have, n, each) < 0)
		return fail(cp, "compose: %s", strerror(ENOMEM));
	return 0;
}

static void begin(struct composer *cp)
{
	cp->nundo = 0;
	cp->nev = 0;
	cp->nout = 0;
	cp->nrmsg = 0;
	cp->nrd = 0;
	cp->text_used = 0;
	cp->mark_cal = 0;
	cp->mark_approvals = 0;
	cp->message[0] = '\0';
}

/* Append the NUL-terminated text a builder writes: build(buf, size, arg)
 * returns its length or -1 when it does not fit, and is called again with
 * more room. Sets *off to where it starts. Returns its length, or -1. */
typedef int (*build_fn)(char *buf, size_t size, const void *arg);

static int put(struct composer *cp, build_fn build, const void *arg,
               size_t *off)
{
	for (size_t room = 1024;; room *= 2) {
		if (room > TEXT_MAX)
			return fail(cp, "compose: a message over %d bytes",
			            TEXT_MAX);
		if (reserve(cp, (void **)&cp->text, &cp->text_cap,
		            cp->text_used + room, 1) < 0)
			return -1;
		int len = build(cp->text + cp->text_used,
		                cp->text_cap - cp->text_used, arg);
		if (len >= 0) {
			*off = cp->text_used;
			cp->text_used += (size_t)len + 1;
			return len;
		}
	}
}

static int build_string(char *buf, size_t size, const void *arg)
{
	size_t len = strlen(arg);

	if (len + 1 > size)
		return -1;
	memcpy(buf, arg, len + 1);
	return (int)len;
}

/* Change a state byte, logging the old value for undo(). */
static int set_state(struct composer *cp, uint8_t *p, uint8_t v)
{
	if (*p == v)
		return 0;
	if (reserve(cp, (void **)&cp->undo, &cp->undo_cap, cp->nundo + 1,
	            sizeof(*cp->undo)) < 0)
		return -1;
	cp->undo[cp->nundo++] = (struct undo){.p = p, .old = *p};
	*p = v;
	return 0;
}

/* A failed write: the states as they were before it. */
static void undo(struct composer *cp)
{
	while (cp->nundo > 0) {
		cp->nundo--;
		*cp->undo[cp->nundo].p = cp->undo[cp->nundo].old;
	}
}

/* ---- rows --------------------------------------------------------------- */

/* An events row; detail is copied. */
static int add_event(struct composer *cp, int64_t ts, uint32_t entity,
                     int32_t channel, const char *kind, const char *from,
                     const char *to, const char *detail)
{
	size_t off = 0;

	if (reserve(cp, (void **)&cp->ev, &cp->ev_cap, cp->nev + 1,
	            sizeof(*cp->ev)) < 0 ||
	    put(cp, build_string, detail, &off) < 0)
		return -1;
	cp->ev[cp->nev++] = (struct store_event){
	        .ts_us = ts,
	        .entity = entity,
	        .channel = channel,
	        .kind = kind,
	        .from = from,
	        .to = to,
	        .detail = (const char *)(uintptr_t)off,
	};
	return 0;
}

/* An outbox row on <prefix>/<site>/<id>/<leaf> with the next seq, its
 * payload built by build(buf, size, arg) (msg.h builders take the seq
 * from cp->seq through arg). */
static int add_out(struct composer *cp, int64_t ts, const char *id,
                   const char *leaf, bool retain, build_fn build,
                   const void *arg)
{
	const struct config *c = cp->c;
	char topic[MSG_TOPIC_MAX];
	size_t toff = 0, poff = 0;
	int len;

	if (msg_topic(topic, sizeof(topic), c->mqtt->prefix, c->site, id,
	              leaf) < 0)
		return fail(cp, "compose: topic of %s too long", id);
	if (reserve(cp, (void **)&cp->out, &cp->out_cap, cp->nout + 1,
	            sizeof(*cp->out)) < 0 ||
	    put(cp, build_string, topic, &toff) < 0 ||
	    (len = put(cp, build, arg, &poff)) < 0)
		return -1;
	cp->out[cp->nout++] = (struct store_out){
	        .seq = cp->seq++,
	        .ts_us = ts,
	        .topic = (const char *)(uintptr_t)toff,
	        .payload = (const char *)(uintptr_t)poff,
	        .len = (size_t)len,
	        .qos = c->mqtt->qos,
	        .retain = retain,
	};
	return 0;
}

/* Offsets into pointers, then one transaction. */
static int write_rows(struct composer *cp, struct store *st,
                      const struct sample *s, size_t n)
{
	for (size_t i = 0; i < cp->nev; i++)
		cp->ev[i].detail = cp->text + (uintptr_t)cp->ev[i].detail;
	for (size_t i = 0; i < cp->nout; i++) {
		cp->out[i].topic = cp->text + (uintptr_t)cp->out[i].topic;
		if (cp->out[i].nchannels > 0)
			cp->out[i].channels =
			        cp->chidx + (uintptr_t)cp->out[i].channels;
		else
			cp->out[i].payload =
			        cp->text + (uintptr_t)cp->out[i].payload;
	}
	const struct store_batch b = {
	        .samples = s,
	        .nsamples = n,
	        .events = cp->ev,
	        .nevents = cp->nev,
	        .out = cp->out,
	        .nout = cp->nout,
	        .composed = true,
	        .cal_published = cp->mark_cal,
	        .approvals_published = cp->mark_approvals,
	        .outbox_delete = cp->outbox_delete,
	};
	cp->outbox_delete = 0; /* the caller asks again if it failed */
	return store_write(st, &b);
}

/* ---- sentences for people ----------------------------------------------- */

/* A trend forecast: "the upper limit 0.5 degC is predicted to be reached
 * by 2027-01-12T10:00:00Z (in 42.3 days; 95 % prediction bound of the
 * drift over 30 days)", or that no crossing is predicted any more. */
static void trend_detail(const struct cfg_channel *ch, const struct sample *s,
                         char *buf, size_t size)
{
	const struct cfg_tolerance *t = ch->tolerance;
	const char *sp = ch->unit[0] != '\0' ? " " : "";
	char when[32];

	if (isnan(s->value)) {
		snprintf(buf, size,
		         "no limit crossing predicted within %g days (drift "
		         "over %g days)",
		         t->trend_horizon_days, t->trend_days);
		return;
	}
	utc_format(s->ts_us + (int64_t)(s->value * 86400e6), 6, when,
	           sizeof(when));
	/* the time left in the unit that reads best */
	double left = s->value;
	const char *in = "days";
	if (left < 1.0 / 24) {
		left *= 86400;
		in = "s";
	} else if (left < 1) {
		left *= 24;
		in = "h";
	}
	bool high = (s->detail & SAMPLE_STATE_HIGH) != 0;
	snprintf(buf, size,
	         "the %s limit %g%s%s is predicted to be reached by %s (in "
	         "%.3g %s; %g %% prediction bound of the drift over %g "
	         "days)",
	         high ? "upper" : "lower", high ? t->upper : t->lower, sp,
	         ch->unit, when, left, in, t->trend_conf * 100, t->trend_days);
}

/* A control chart's signal: "cusum signals a high shift of the error:
 * error 0.031 degC (k 0.5, h 5)". */
static void chart_detail(const struct cfg_channel *ch, const struct sample *s,
                         char *buf, size_t size)
{
	const struct cfg_tolerance *t = ch->tolerance;
	const char *sp = ch->unit[0] != '\0' ? " " : "";
	bool cusum = (s->detail & SAMPLE_STATE_CUSUM) != 0;
	int len = snprintf(buf, size,
	                   "%s signals a %s shift of the error: error "
	                   "%.6g%s%s",
	                   cusum ? "cusum" : "ewma",
	                   (s->detail & SAMPLE_STATE_HIGH) ? "high" : "low",
	                   s->value, sp, ch->unit);

	if (len >= 0 && (size_t)len < size)
		snprintf(buf + len, size - (size_t)len,
		         cusum ? " (k %g, h %g)" : " (lambda %g, L %g)",
		         cusum ? t->cusum_k : t->ewma_lambda,
		         cusum ? t->cusum_h : t->ewma_L);
}

/* ", no statement at the policy: TUR 0.2 < 4 and specific risk 30 % >
 * 2.5 %" after a tolerance event's sentence, when its error is in the
 * acceptance zone and only the statement policy (drift.h) made it a
 * warning; nothing otherwise. */
static void policy_detail(const struct cfg_tolerance *t, double e, char *buf,
                          size_t size)
{
	struct drift_verdict v = {.decision = DRIFT_PASS,
	                          .error = e,
	                          .guard = t->guard,
	                          .accept_lower = t->lower + t->guard,
	                          .accept_upper = t->upper - t->guard};
	struct drift_statement st;
	char why[128];

	if (!(t->U > 0) || !(e >= v.accept_lower && e <= v.accept_upper) ||
	    drift_statement_of(&v, t->lower, t->upper, t->U,
	                       t->k > 0 ? t->U / t->k : 0, 0, 0, &st) < 0 ||
	    st.made)
		return;
	drift_statement_why(&st, why, sizeof(why));
	snprintf(buf, size, ", no statement at the policy: %s", why);
}

/* What a SAMPLE_STATE says, for the events row and the MQTT event:
 * its kind ("tolerance", "drift" or "trend") and a sentence, e.g.
 * "warning -> out_of_tolerance: error 0.061 degC, limits [-0.05, 0.05],
 * rule guarded r=1 U=0.01 k=2 (guard 0.01)". */
static const char *state_detail(const struct cfg_channel *ch,
                                const struct sample *s, char *buf, size_t size)
{
	const struct cfg_tolerance *t = ch->tolerance;
	const char *sp = ch->unit[0] != '\0' ? " " : "";
	int len;

	if (s->detail & SAMPLE_STATE_TREND) {
		trend_detail(ch, s, buf, size);
		return "trend";
	}
	if (s->detail & SAMPLE_STATE_CHART) {
		chart_detail(ch, s, buf, size);
		return "drift";
	}
	enum drift_state to = (enum drift_state)SAMPLE_STATE_NEW(s->detail);
	len = snprintf(
	        buf, size, "%s -> %s: ",
	        drift_state_word((enum drift_state)SAMPLE_STATE_OLD(s->detail)),
	        drift_state_word(to));
	if (len < 0 || (size_t)len >= size)
		return "tolerance";
	if (to == DRIFT_NO_DATA)
		len += snprintf(buf + len, size - (size_t)len,
		                "no good reading, ");
	else
		len += snprintf(buf + len, size - (size_t)len,
		                "error %.6g%s%s, ", s->value, sp, ch->unit);
	if (len < 0 || (size_t)len >= size)
		return "tolerance";
	if (t->rule == TOL_RULE_GUARDED)
		len += snprintf(buf + len, size - (size_t)len,
		                "limits [%g, %g], rule guarded r=%g U=%g k=%g "
		                "(guard %g)",
		                t->lower, t->upper, t->guard_factor, t->U, t->k,
		                t->guard);
	else
		len += snprintf(buf + len, size - (size_t)len,
		                "limits [%g, %g], rule simple", t->lower,
		                t->upper);
	if (to == DRIFT_WARNING && len > 0 && (size_t)len < size)
		policy_detail(t, s->value, buf + len, size - (size_t)len);
	return "tolerance";
}

/* ---- payloads (build_fn adapters of msg.h) ------------------------------- */

struct p_event {
	int64_t seq, ts;
	const char *id, *kind, *reason;
};
static int b_event(char *buf, size_t size, const void *arg)
{
	const struct p_event *a = arg;
	return msg_event(buf, size, a->seq, a->ts, a->id, a->kind, a->reason);
}

struct p_tol {
	int64_t seq, ts;
	const char *id;
	const struct msg_tol *t;
};
static int b_tol(char *buf, size_t size, const void *arg)
{
	const struct p_tol *a = arg;
	return msg_tolerance(buf, size, a->seq, a->ts, a->id, a->t);
}

struct p_status {
	int64_t seq, ts;
	const char *id, *state, *reason;
	const struct msg_chstate *ch;
	size_t n;
	const struct msg_calstate *cal;
};
static int b_status(char *buf, size_t size, const void *arg)
{
	const struct p_status *a = arg;
	return msg_status(buf, size, a->seq, a->ts, a->id, a->state, a->reason,
	                  a->ch, a->n, a->cal);
}

struct p_cal {
	int64_t seq, ts;
	const char *id, *from, *to, *detail;
	const struct msg_calstate *cal;
};
static int b_cal(char *buf, size_t size, const void *arg)
{
	const struct p_cal *a = arg;
	return msg_calibration(buf, size, a->seq, a->ts, a->id, a->from, a->to,
	                       a->cal, a->detail);
}

/* ---- statuses ----------------------------------------------------------- */

/* The calibration block of a status from cs (NULL: none known). */
static const struct msg_calstate *cal_block(const struct cal_state *cs,
                                            struct msg_calstate *out)
{
	if (cs == NULL)
		return NULL;
	*out = (struct msg_calstate){
	        .state = calib_due_name((enum calib_due)cs->due),
	        .due_us = cs->due_us,
	        .certificate = cs->cert,
	        .reference_overdue = cs->in_use && cs->due == CALIB_DUE_OVERDUE,
	};
	return out;
}

/* The id of entity k: instrument k, or standard k - ninstruments. */
static const char *entity_id(const struct config *c, size_t k)
{
	return k < (size_t)c->ninstruments
	               ? c->instruments[k].id
	               : c->standards[k - (size_t)c->ninstruments].id;
}

/* Fill cp->pcs with the tolerance states of instrument inst's channels
 * that have a tolerance; returns how many, or -1. */
static int status_channels(struct composer *cp, uint32_t inst)
{
	const struct cfg_instrument *in = &cp->c->instruments[inst];
	size_t n = 0;

	if (reserve(cp, (void **)&cp->pcs, &cp->npcs, (size_t)in->nchannels + 1,
	            sizeof(*cp->pcs)) < 0)
		return -1;
	for (int j = 0; j < in->nchannels; j++) {
		const struct cfg_channel *ch = &in->channels[j];
		if (ch->tolerance == NULL)
			continue;
		cp->pcs[n++] = (struct msg_chstate){
		        .channel = ch->name,
		        .state = drift_state_word(
		                (enum drift_state)cp->chan_state[ch->index]),
		};
	}
	return (int)n;
}

/* The retained status of entity k (instrument k: online state and the
 * tolerance states of its channels; standard k - ninstruments), with the
 * calibration cal (NULL: none known). */
static int add_status(struct composer *cp, size_t k, int64_t ts,
                      const struct cal_state *cal)
{
	const struct config *c = cp->c;
	bool inst = k < (size_t)c->ninstruments;
	struct msg_calstate pc;
	int n = inst ? status_channels(cp, (uint32_t)k) : 0;

	if (n < 0)
		return -1;
	struct p_status a = {
	        .seq = cp->seq,
	        .ts = ts,
	        .id = entity_id(c, k),
	        .state = inst ? sample_event_name(
	                                (enum sample_kind)cp->inst_state[k])
	                      : NULL,
	        .reason =
	                inst && cp->inst_state[k] != 0 &&
	                                cp->inst_state[k] != SAMPLE_ONLINE
	                        ? quality_name((enum quality)cp->inst_reason[k])
	                        : NULL,
	        .ch = cp->pcs,
	        .n = (size_t)n,
	        .cal = cal_block(cal, &pc),
	};
	return add_out(cp, ts, a.id, "status", true, b_status, &a);
}

/* An instrument's status after an event of its own. */
static int add_inst_status(struct composer *cp, uint32_t inst, int64_t ts)
{
	return add_status(cp, inst, ts,
	                  cp->cal != NULL ? &cp->cal[inst] : NULL);
}

/* ---- a batch of samples ------------------------------------------------- */

/* The channel of a SAMPLE_STATE, NULL (error set) when it has none. */
static const struct cfg_channel *
state_channel(struct composer *cp, const struct sample *s, uint32_t inst)
{
	const struct cfg_instrument *in = &cp->c->instruments[inst];
	const struct cfg_channel *ch =
	        &in->channels[s->index - in->channels[0].index];

	if (ch->tolerance == NULL) {
		fail(cp,
		     "compose: channel index %" PRIu32
		     " has no tolerance in the configuration",
		     s->index);
		return NULL;
	}
	return ch;
}

/* A tolerance state change or a chart or trend signal: an events row
 * and, with mqtt, its event message and, for a state change, the
 * instrument's retained status with the new state. */
static int compose_state(struct composer *cp, const struct sample *e,
                         uint32_t inst)
{
	const struct cfg_channel *ch = state_channel(cp, e, inst);
	char detail[512];

	if (ch == NULL)
		return -1;
	bool chart = (e->detail & SAMPLE_STATE_CHART) != 0;
	enum drift_state to = (enum drift_state)SAMPLE_STATE_NEW(e->detail);
	enum drift_state from = (enum drift_state)SAMPLE_STATE_OLD(e->detail);
	const char *kind = state_detail(ch, e, detail, sizeof(detail));
	const char *wfrom = chart ? NULL : drift_state_word(from);
	const char *wto = chart ? NULL : drift_state_word(to);

	if (add_event(cp, e->ts_us, inst, (int32_t)e->index, kind, wfrom, wto,
	              detail) < 0)
		return -1;
	if (cp->c->mqtt == NULL)
		return chart ? 0
		             : set_state(cp, &cp->chan_state[e->index],
		                         (uint8_t)to);
	struct msg_tol t = {
	        .kind = kind,
	        .channel = ch->name,
	        .unit = ch->unit,
	        .from = wfrom,
	        .to = wto,
	        .detail = detail,
	        .error = (!chart && to == DRIFT_NO_DATA) ||
	                                 (e->detail & SAMPLE_STATE_TREND)
	                         ? NAN
	                         : e->value,
	        .lower = ch->tolerance->lower,
	        .upper = ch->tolerance->upper,
	};
	const char *id = cp->c->instruments[inst].id;
	struct p_tol a = {.seq = cp->seq, .ts = e->ts_us, .id = id, .t = &t};
	if (add_out(cp, e->ts_us, id, "events", false, b_tol, &a) < 0)
		return -1;
	if (chart)
		return 0;
	if (set_state(cp, &cp->chan_state[e->index], (uint8_t)to) < 0)
		return -1;
	return add_inst_status(cp, inst, e->ts_us);
}

/* An online/offline/failing event message and the status it changes. */
static int compose_event(struct composer *cp, const struct sample *e,
                         uint32_t inst)
{
	struct p_event a = {
	        .seq = cp->seq,
	        .ts = e->ts_us,
	        .id = cp->c->instruments[inst].id,
	        .kind = sample_event_name((enum sample_kind)e->kind),
	        .reason = e->kind == SAMPLE_ONLINE && e->quality == QUALITY_GOOD
	                          ? NULL
	                          : quality_name((enum quality)e->quality),
	};

	if (add_out(cp, e->ts_us, a.id, "events", false, b_event, &a) < 0 ||
	    set_state(cp, &cp->inst_state[inst], e->kind) < 0 ||
	    set_state(cp, &cp->inst_reason[inst], e->quality) < 0)
		return -1;
	return add_inst_status(cp, inst, e->ts_us);
}

/* One readings message for the n items at it (one instrument, one ts):
 * an outbox row without its payload (its channels instead), and the copy
 * of its readings the publisher builds the payload from
 * (composer_readings()). */
static int compose_readings(struct composer *cp, const struct sample *s,
                            const struct item *it, size_t n)
{
	const struct config *c = cp->c;
	const struct cfg_instrument *in = &c->instruments[it[0].inst];
	char topic[MSG_TOPIC_MAX];
	size_t toff = 0;

	if (msg_topic(topic, sizeof(topic), c->mqtt->prefix, c->site, in->id,
	              "readings") < 0)
		return fail(cp, "compose: topic of %s too long", in->id);
	if (reserve(cp, (void **)&cp->rd, &cp->rd_cap, cp->nrd + n,
	            sizeof(*cp->rd)) < 0 ||
	    reserve(cp, (void **)&cp->chidx, &cp->chidx_cap, cp->nrd + n,
	            sizeof(*cp->chidx)) < 0 ||
	    reserve(cp, (void **)&cp->rmsg, &cp->rmsg_cap, cp->nrmsg + 1,
	            sizeof(*cp->rmsg)) < 0 ||
	    reserve(cp, (void **)&cp->out, &cp->out_cap, cp->nout + 1,
	            sizeof(*cp->out)) < 0 ||
	    put(cp, build_string, topic, &toff) < 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		const struct sample *r = &s[it[k].pos];
		/* an instrument's channels have consecutive indexes */
		assert(r->index - in->channels[0].index <
		       (uint32_t)in->nchannels);
		cp->rd[cp->nrd + k] = (struct composed_reading){
		        .value = r->value,
		        .index = r->index,
		        .quality = r->quality,
		};
		cp->chidx[cp->nrd + k] = r->index;
	}
	cp->rmsg[cp->nrmsg++] = (struct composed_msg){
	        .seq = cp->seq,
	        .ts_us = it[0].ts,
	        .inst = it[0].inst,
	        .first = (uint32_t)cp->nrd,
	        .n = (uint32_t)n,
	};
	cp->out[cp->nout++] = (struct store_out){
	        .seq = cp->seq++,
	        .ts_us = it[0].ts,
	        .topic = (const char *)(uintptr_t)toff,
	        .qos = c->mqtt->qos,
	        .channels = (const uint32_t *)(uintptr_t)cp->nrd,
	        .nchannels = n,
	};
	cp->nrd += n;
	return 0;
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->inst != b->inst)
		return a->inst < b->inst ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The instrument of sample s; -1 (error set) when s names none of c. */
static int64_t instrument_of(struct composer *cp, const struct sample *s,
                             size_t i)
{
	const struct config *c = cp->c;

	if (s->kind == SAMPLE_READING || s->kind == SAMPLE_STATE) {
		if (s->index >= (uint32_t)c->nchannels)
			return fail(
			        cp,
			        "compose: sample %zu: channel index %" PRIu32
			        " not in the configuration (%d channels)",
			        i, s->index, c->nchannels);
		return cp->inst_of[s->index];
	}
	if (s->index >= (uint32_t)c->ninstruments)
		return fail(cp,
		            "compose: sample %zu: instrument index %" PRIu32
		            " not in the configuration (%d instruments)",
		            i, s->index, c->ninstruments);
	return s->index;
}

/* The items of the batch, sorted (struct item). */
static int sort_items(struct composer *cp, const struct sample *s, size_t n)
{
	if (reserve(cp, (void **)&cp->items, &cp->nitems, n ? n : 1,
	            sizeof(*cp->items)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int64_t inst = instrument_of(cp, &s[i], i);
		if (inst < 0)
			return -1;
		cp->items[i] = (struct item){
		        .ts = s[i].ts_us,
		        .inst = (uint32_t)inst,
		        .kind = s[i].kind == SAMPLE_READING ? 1
		                : s[i].kind == SAMPLE_STATE ? 2
		                                            : 0,
		        .pos = (uint32_t)i,
		};
	}
	qsort(cp->items, n, sizeof(*cp->items), item_cmp);
	return 0;
}

/* Without mqtt only the state changes make rows (events). */
static int compose_states(struct composer *cp, const struct sample *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].kind != SAMPLE_STATE)
			continue;
		int64_t inst = instrument_of(cp, &s[i], i);
		if (inst < 0 || compose_state(cp, &s[i], (uint32_t)inst) < 0)
			return -1;
	}
	return 0;
}

static int compose_batch(struct composer *cp, const struct sample *s, size_t n)
{
	size_t i, j;

	if (cp->c->mqtt == NULL)
		return compose_states(cp, s, n);
	if (sort_items(cp, s, n) < 0)
		return -1;
	for (i = 0; i < n; i = j) {
		const struct item *it = &cp->items[i];
		const struct sample *e = &s[it->pos];
		int rc;
		j = i + 1;
		if (e->kind == SAMPLE_STATE) {
			rc = compose_state(cp, e, it->inst);
		} else if (e->kind != SAMPLE_READING) {
			rc = compose_event(cp, e, it->inst);
		} else {
			while (j < n && cp->items[j].kind == 1 &&
			       cp->items[j].ts == it->ts &&
			       cp->items[j].inst == it->inst)
				j++;
			rc = compose_readings(cp, s, it, j - i);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int composer_write(struct composer *cp, struct store *st,
                   const struct sample *s, size_t n)
{
	begin(cp);
	if (cp->c->mqtt != NULL && store_outbox_next_seq(st, &cp->seq) < 0)
		return -1;
	if (compose_batch(cp, s, n) < 0 || write_rows(cp, st, s, n) < 0) {
		undo(cp);
		return -1;
	}
	return 0;
}

void composer_readings(const struct composer *cp, struct composed_readings *r)
{
	*r = (struct composed_readings){
	        .c = cp->c,
	        .msgs = cp->rmsg,
	        .nmsgs = cp->nrmsg,
	        .readings = cp->rd,
	        .nreadings = cp->nrd,
	};
}

void composer_outbox_delete(struct composer *cp, int64_t upto)
{
	cp->outbox_delete = upto;
}

/* ---- calibration due states --------------------------------------------- */

/* Instruments with a channel that another channel is compared with. */
static void cal_channel_refs(const struct config *c, struct cal_state *cs)
{
	for (int i = 0; i < c->ninstruments; i++)
		for (int j = 0; j < c->instruments[i].nchannels; j++) {
			const struct cfg_tolerance *t =
			        c->instruments[i].channels[j].tolerance;
			/* ref_channel is of the same instrument (config.c) */
			if (t != NULL && t->by_channel)
				cs[i].in_use = true;
		}
}

/* The calibration in force of each of the n entities, with its due
 * state at now_us; *change_us lowered to the first instant after now_us at
 * which one of those states changes (calib.h: the start of a local day,
 * the day after the due date for overdue). */
static int cal_read(struct composer *cp, struct store *st, struct cal_state *cs,
                    size_t n, int64_t now_us, int64_t *change_us)
{
	const struct config *c = cp->c;
	struct store_cal_force *f = calloc(n + 1, sizeof(*f));

	if (f == NULL)
		return fail(cp, "calibration states: %s", strerror(ENOMEM));
	if (store_cal_in_force(st, now_us, f, n) < 0) {
		free(f);
		return -1;
	}
	cal_channel_refs(c, cs);
	for (size_t k = 0; k < n; k++) {
		int soon = k < (size_t)c->ninstruments
		                   ? c->instruments[k].due_soon_days
		                   : c->standards[k - (size_t)c->ninstruments]
		                             .due_soon_days;
		cs[k].due_us = f[k].due_us;
		memcpy(cs[k].cert, f[k].cert, sizeof(cs[k].cert));
		cs[k].in_use |= f[k].standard_of_record;
		cs[k].due =
		        (uint8_t)calib_due_state(cs[k].due_us, soon, now_us);
		int64_t next =
		        calib_due_next_change(cs[k].due_us, soon, now_us);
		if (next > now_us && next < *change_us)
			*change_us = next;
	}
	free(f);
	return 0;
}

/* "ok -> due_soon: due 2027-03-01T00:00:00.000000Z, certificate C-1",
 * "calibrated: ..." when only the certificate changed, "overdue and now
 * in use: ..." when only that; ", in use as a reference" when an overdue
 * entity is one. */
static void cal_detail(const struct cal_state *was, const struct cal_state *now,
                       char *buf, size_t size)
{
	char due[32] = "none";
	int len;

	if (now->due_us > 0)
		utc_format(now->due_us, 6, due, sizeof(due));
	if (was->due != now->due)
		len = snprintf(buf, size, "%s -> %s: ",
		               calib_due_name((enum calib_due)was->due),
		               calib_due_name((enum calib_due)now->due));
	else if (strcmp(was->cert, now->cert) != 0)
		len = snprintf(buf, size, "calibrated: ");
	else /* only now in use as a reference while overdue */
		len = snprintf(buf, size, "overdue and now in use: ");
	if (len < 0 || (size_t)len >= size)
		return;
	snprintf(buf + len, size - (size_t)len, "due %s, certificate %s%s", due,
	         now->cert[0] ? now->cert : "none",
	         now->due == CALIB_DUE_OVERDUE && now->in_use
	                 ? ", in use as a reference"
	                 : "");
}

/* An events row per entity whose state or certificate changed and, with
 * MQTT, its event message and status. Returns the changes, or -1. */
static int cal_events(struct composer *cp, const struct cal_state *cs, size_t n,
                      int64_t now_us)
{
	char detail[256];
	int changes = 0;

	for (size_t k = 0; k < n; k++) {
		const struct cal_state *was = &cp->cal[k], *now = &cs[k];
		bool flagged = now->due == CALIB_DUE_OVERDUE && now->in_use;
		if (was->due == now->due && strcmp(was->cert, now->cert) == 0 &&
		    (was->in_use == now->in_use || !flagged))
			continue;
		cal_detail(was, now, detail, sizeof(detail));
		const char *from = calib_due_name((enum calib_due)was->due);
		const char *to = calib_due_name((enum calib_due)now->due);
		if (add_event(cp, now_us, (uint32_t)k, -1, "calibration", from,
		              to, detail) < 0)
			return -1;
		changes++;
		if (cp->c->mqtt == NULL)
			continue;
		struct msg_calstate pc;
		struct p_cal a = {.seq = cp->seq,
		                  .ts = now_us,
		                  .id = entity_id(cp->c, k),
		                  .from = from,
		                  .to = to,
		                  .detail = detail,
		                  .cal = cal_block(now, &pc)};
		if (add_out(cp, now_us, a.id, "events", false, b_cal, &a) < 0 ||
		    add_status(cp, k, now_us, now) < 0)
			return -1;
	}
	return changes;
}

int composer_calibration(struct composer *cp, struct store *st, int64_t now_us)
{
	const struct config *c = cp->c;
	size_t n = (size_t)c->ninstruments + (size_t)c->nstandards;
	struct cal_state *cs;
	int64_t last = 0, future = 0, change = INT64_MAX;
	int changes = 0;

	begin(cp);
	if (store_cal_last_id(st, &last) < 0)
		return -1;
	if (cp->cal != NULL && last == cp->cal_seen && now_us < cp->cal_next_us)
		return 0;
	cs = calloc(n + 1, sizeof(*cs));
	if (cs == NULL)
		return fail(cp, "calibration states: %s", strerror(ENOMEM));
	if (cal_read(cp, st, cs, n, now_us, &change) < 0 ||
	    store_cal_next_performed(st, now_us, &future) < 0 ||
	    (c->mqtt != NULL && store_outbox_next_seq(st, &cp->seq) < 0))
		goto fail;
	/* the first call learns (and publishes the statuses), later ones
	 * record the changes */
	if (cp->cal != NULL) {
		changes = cal_events(cp, cs, n, now_us);
		if (changes < 0)
			goto fail;
	} else {
		for (size_t k = 0; c->mqtt != NULL && k < n; k++)
			if (add_status(cp, k, now_us, &cs[k]) < 0)
				goto fail;
	}
	if ((cp->nev > 0 || cp->nout > 0) && write_rows(cp, st, NULL, 0) < 0)
		goto fail;
	for (size_t k = 0; cp->cal != NULL && k < n; k++)
		cs[k].renewed = strcmp(cp->cal[k].cert, cs[k].cert) != 0;
	free(cp->cal);
	cp->cal = cs;
	cp->cal_seen = last;
	/* again in a minute, or when a record dated ahead comes into force,
	 * or when a due state changes (at the start of a local day) */
	cp->cal_next_us = now_us + CAL_RECHECK_US;
	if (future > now_us && future < cp->cal_next_us)
		cp->cal_next_us = future;
	if (change < cp->cal_next_us)
		cp->cal_next_us = change;
	return changes;
fail:
	free(cs);
	return -1;
}

/* ---- calibration records published in full ----------------------------- */

/* The outbox row of payload (heap text from msg.h, freed here) on
 * <prefix>/<site>/calibrations. */
static int add_heap_out(struct composer *cp, int64_t ts, char *payload)
{
	int rc;

	if (payload == NULL)
		return fail(cp, "calibration records: %s", strerror(ENOMEM));
	rc = add_out(cp, ts, "calibrations", NULL, false, build_string,
	             payload);
	msg_text_free(payload);
	return rc;
}

/* The records after done, up to last, at most *budget of them, into the
 * batch; *upto: the last one put. rec: scratch space. */
static int put_records(struct composer *cp, struct calib_record *rec,
                       int64_t done, int64_t last, int *budget, int64_t *upto)
{
	size_t len;

	*upto = done;
	for (int64_t id = done + 1; id <= last && *budget > 0; id++) {
		int rc = query_calibration(cp->q, id, rec);
		if (rc < 0)
			return fail(cp, "%s", query_error(cp->q));
		/* rc 1: no record id (never, the table being append-only):
		 * nothing to send, and the province sees the hole */
		if (rc == 0 &&
		    add_heap_out(cp, rec->issued_us,
		                 msg_cal_record(cp->seq, rec->issued_us, rec,
		                                &len)) < 0)
			return -1;
		*upto = id;
		(*budget)--;
	}
	return 0;
}

/* The approvals after done, up to last, of records up to cal (published),
 * at most *budget of them; *upto: the last one put. */
static int put_approvals(struct composer *cp, struct calib_record *rec,
                         int64_t cal, int64_t done, int64_t last, int *budget,
                         int64_t *upto)
{
	struct calib_approval a;
	char cert[CALIB_ID];
	size_t len;

	*upto = done;
	for (int64_t id = done + 1; id <= last && *budget > 0; id++) {
		int rc = query_approval_at(cp->q, id, &a, cert, sizeof(cert));
		if (rc < 0)
			return fail(cp, "%s", query_error(cp->q));
		if (rc == 0 && a.calibration_id > cal)
			break; /* its record goes first, next turn */
		if (rc == 0 &&
		    (rc = query_calibration(cp->q, a.calibration_id, rec)) < 0)
			return fail(cp, "%s", query_error(cp->q));
		if (rc == 0 &&
		    add_heap_out(cp, a.approved_us,
		                 msg_cal_approval(cp->seq, a.approved_us,
		                                  rec->instrument, cert, &a,
		                                  &len)) < 0)
			return -1;
		*upto = id;
		(*budget)--;
	}
	return 0;
}

int composer_records(struct composer *cp, struct store *st)
{
	struct store_cal_pub p;
	struct calib_record *rec = NULL;
	int budget = RECORDS_PER_TURN;
	int64_t cal, appr;
	char err[512];

	begin(cp);
	if (cp->c->mqtt == NULL)
		return 0;
	if (store_cal_published(st, &p) < 0)
		return -1;
	if (p.cal_done >= p.cal_last && p.approvals_done >= p.approvals_last)
		return 0;
	if (cp->q == NULL &&
	    (cp->q = query_open(cp->c->database, err, sizeof(err))) == NULL)
		return fail(cp, "calibration records: %s", err);
	if ((rec = malloc(sizeof(*rec))) == NULL) {
		fail(cp, "calibration records: %s", strerror(ENOMEM));
		goto fail;
	}
	if (store_outbox_next_seq(st, &cp->seq) < 0 ||
	    put_records(cp, rec, p.cal_done, p.cal_last, &budget, &cal) < 0 ||
	    put_approvals(cp, rec, cal, p.approvals_done, p.approvals_last,
	                  &budget, &appr) < 0)
		goto fail;
	cp->mark_cal = cal > p.cal_done ? cal : 0;
	cp->mark_approvals = appr > p.approvals_done ? appr : 0;
	if ((cp->mark_cal > 0 || cp->mark_approvals > 0) &&
	    write_rows(cp, st, NULL, 0) < 0)
		goto fail;
	free(rec);
	return RECORDS_PER_TURN - budget;
fail:
	free(rec);
	query_close(cp->q); /* opened again next time */
	cp->q = NULL;
	return -1;
}

bool composer_renewed(const struct composer *cp, uint32_t inst)
{
	return cp->cal != NULL && inst < (uint32_t)cp->c->ninstruments &&
	       cp->cal[inst].renewed;
}

/* ---- life cycle --------------------------------------------------------- */

/* The index in old of the instrument named id, or -1. */
static int find_instrument(const struct config *old, const char *id)
{
	for (int i = 0; i < old->ninstruments; i++)
		if (strcmp(old->instruments[i].id, id) == 0)
			return i;
	return -1;
}

/* The states of the instruments and channels that stay from cp->c to
 * next into the new arrays (zeroed: unknown, no data). */
static void carry_states(const struct composer *cp, const struct config *next,
                         uint8_t *chan, uint8_t *inst, uint8_t *reason)
{
	for (int i = 0; i < next->ninstruments; i++) {
		const struct cfg_instrument *in = &next->instruments[i];
		int o = find_instrument(cp->c, in->id);
		if (o < 0)
			continue;
		const struct cfg_instrument *was = &cp->c->instruments[o];
		inst[i] = cp->inst_state[o];
		reason[i] = cp->inst_reason[o];
		for (int j = 0; j < in->nchannels; j++)
			for (int k = 0; k < was->nchannels; k++)
				if (strcmp(in->channels[j].name,
				           was->channels[k].name) == 0)
					chan[in->channels[j].index] =
					        cp->chan_state[was->channels[k]
					                               .index];
	}
}

int composer_reload(struct composer *cp, const struct config *next)
{
	size_t nch = next->nchannels > 0 ? (size_t)next->nchannels : 0;
	size_t ninst = next->ninstruments > 0 ? (size_t)next->ninstruments : 0;
	uint8_t *chan = calloc(nch + 1, 1);
	uint8_t *inst = calloc(ninst + 1, 1);
	uint8_t *reason = calloc(ninst + 1, 1);
	uint32_t *inst_of = calloc(nch + 1, sizeof(*inst_of));

	if (chan == NULL || inst == NULL || reason == NULL || inst_of == NULL) {
		free(inst_of);
		free(chan);
		free(inst);
		free(reason);
		return fail(cp, "compose: %s", strerror(ENOMEM));
	}
	for (size_t i = 0; i < ninst; i++)
		for (int j = 0; j < next->instruments[i].nchannels; j++)
			inst_of[next->instruments[i].channels[j].index] =
			        (uint32_t)i;
	if (cp->c != NULL)
		carry_states(cp, next, chan, inst, reason);
	free(cp->inst_of);
	cp->inst_of = inst_of;
	free(cp->chan_state);
	free(cp->inst_state);
	free(cp->inst_reason);
	cp->chan_state = chan;
	cp->inst_state = inst;
	cp->inst_reason = reason;
	cp->c = next;
	free(cp->cal); /* the next composer_calibration() starts afresh */
	cp->cal = NULL;
	return 0;
}

struct composer *composer_new(const struct config *c)
{
	struct composer *cp = calloc(1, sizeof(*cp));

	if (cp == NULL || composer_reload(cp, c) < 0) {
		composer_free(cp);
		return NULL;
	}
	return cp;
}

void composer_free(struct composer *cp)
{
	if (cp == NULL)
		return;
	free(cp->inst_of);
	free(cp->chan_state);
	free(cp->inst_state);
	free(cp->inst_reason);
	free(cp->cal);
	free(cp->items);
	free(cp->undo);
	free(cp->ev);
	free(cp->out);
	free(cp->rmsg);
	free(cp->rd);
	free(cp->chidx);
	free(cp->pcs);
	free(cp->text);
	query_close(cp->q);
	free(cp);
}

const char *composer_error(const struct composer *cp, const struct store *st)
{
	return cp->message[0] != '\0' ? cp->message : store_last_message(st);
}
