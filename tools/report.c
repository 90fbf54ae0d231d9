/*
 * report.c - the monthly summary of each instrument (report.h, which
 * defines every figure).
 *
 * The time figures walk the instrument's events from the first one to the
 * month's end once, in ts order, carrying the link state and the set of
 * channels out of tolerance; an interval counts for the part of it inside
 * the period. Memory: one entry per channel that had a tolerance event.
 */
#include "report.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

struct chan_state {
	char name[CALIB_TEXT];
	bool out;
};

/* The walk over the events (report_instrument). */
struct walk {
	struct report_row *r;
	int64_t start, end; /* the period */
	int64_t at;         /* time of the previous event */
	int link;           /* -1 unknown, 0 offline, 1 online */
	struct chan_state *chans;
	size_t nchans, nout;
};

/* The part of [a, b) inside the period. */
static int64_t overlap(const struct walk *w, int64_t a, int64_t b)
{
	a = a > w->start ? a : w->start;
	b = b < w->end ? b : w->end;
	return b > a ? b - a : 0;
}

/* Account for the time from the previous event to t in the states then. */
static void advance(struct walk *w, int64_t t)
{
	int64_t d = overlap(w, w->at, t);

	if (w->link >= 0)
		w->r->known_us += d;
	if (w->link == 1)
		w->r->online_us += d;
	if (w->nout > 0)
		w->r->oot_us += d;
	w->at = t;
}

static struct chan_state *chan(struct walk *w, const char *name)
{
	struct chan_state *c;

	for (size_t i = 0; i < w->nchans; i++)
		if (strcmp(w->chans[i].name, name) == 0)
			return &w->chans[i];
	c = realloc(w->chans, (w->nchans + 1) * sizeof(*c));
	if (c == NULL)
		return NULL;
	w->chans = c;
	c = &w->chans[w->nchans++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->out = false;
	return c;
}

/* A tolerance event: "<from> -> <to>: ...". */
static int tolerance(struct walk *w, const struct query_event *e)
{
	const char *to = strstr(e->detail, " -> ");
	struct chan_state *c = chan(w, e->channel);
	bool out;

	if (c == NULL)
		return -1;
	out = to != NULL && strncmp(to + 4, "out_of_tolerance:", 17) == 0;
	if (out && !c->out)
		w->nout++;
	else if (!out && c->out)
		w->nout--;
	c->out = out;
	return 0;
}

static void count(struct report_row *r, const char *kind)
{
	if (strcmp(kind, "online") == 0)
		r->online_events++;
	else if (strcmp(kind, "offline") == 0)
		r->offline_events++;
	else if (strcmp(kind, "tolerance") == 0)
		r->tolerance_events++;
	else if (strcmp(kind, "drift") == 0)
		r->drift_events++;
	else
		r->other_events++;
}

static int on_event(void *ctx, const struct query_event *e)
{
	struct walk *w = ctx;

	advance(w, e->ts_us);
	if (e->ts_us >= w->r->from_us)
		count(w->r, e->kind);
	if (strcmp(e->kind, "online") == 0 || strcmp(e->kind, "offline") == 0)
		w->link = strcmp(e->kind, "online") == 0;
	else if (strcmp(e->kind, "tolerance") == 0 && tolerance(w, e) < 0)
		return -1;
	return 0;
}

static int on_record(void *ctx, const struct calib_record *c)
{
	struct report_row *r = ctx;

	if (c->supersedes == 0 && c->performed_us >= r->from_us &&
	    c->performed_us < r->to_us)
		r->calibrations++;
	return 0;
}

static double percent(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : NAN;
}

int report_instrument(struct query *q, const struct query_instrument *in,
                      int64_t from_us, int64_t to_us, int64_t now_us,
                      struct report_row *out)
{
	struct query_counts n;
	struct walk w = {.r = out,
	                 .start = from_us,
	                 .end = to_us < now_us ? to_us : now_us,
	                 .link = -1};
	int ret;

	memset(out, 0, sizeof(*out));
	out->in = *in;
	out->from_us = from_us;
	out->to_us = to_us;
	if (query_reading_counts(q, in->name, from_us, to_us, &n) < 0)
		return -1;
	out->polls = n.most;
	out->readings = n.readings;
	out->good = n.good;
	ret = query_events(q, in->name, INT64_MIN, w.end, on_event, &w);
	free(w.chans);
	if (ret != 0)
		return -1;
	advance(&w, w.end);
	out->good_pct = percent(out->good, out->readings);
	out->online_pct = percent(out->online_us, out->known_us);
	return query_calibrations(q, in->name, NULL, on_record, out) < 0 ? -1
	                                                                 : 0;
}

struct month {
	struct query *q;
	int64_t from_us, to_us, now_us;
	int (*fn)(void *, const struct report_row *);
	void *ctx;
	struct report_row row;
};

static int on_instrument(void *ctx, const struct query_instrument *in)
{
	struct month *m = ctx;

	if (report_instrument(m->q, in, m->from_us, m->to_us, m->now_us,
	                      &m->row) < 0)
		return -1;
	return m->fn(m->ctx, &m->row);
}

int report_month(struct query *q, const char *owner, int64_t from_us,
                 int64_t to_us, int64_t now_us,
                 int (*fn)(void *ctx, const struct report_row *), void *ctx)
{
	struct month *m = malloc(sizeof(*m));
	int ret;

	if (m == NULL)
		return -1;
	*m = (struct month){.q = q,
	                    .from_us = from_us,
	                    .to_us = to_us,
	                    .now_us = now_us,
	                    .fn = fn,
	                    .ctx = ctx};
	ret = query_instruments(q, owner, to_us - 1, on_instrument, m);
	free(m);
	return ret;
}

int report_parse_month(const char *s, int64_t *from_us, int64_t *to_us)
{
	char first[32], next[32];
	int y, mo, n = 0;

	if (sscanf(s, "%4d-%2d%n", &y, &mo, &n) != 2 || n != 7 ||
	    s[7] != '\0' || mo < 1 || mo > 12)
		return -1;
	snprintf(first, sizeof(first), "%04d-%02d-01", y, mo);
	snprintf(next, sizeof(next), "%04d-%02d-01", mo == 12 ? y + 1 : y,
	         mo == 12 ? 1 : mo + 1);
	return tool_parse_time(first, 0, from_us) < 0 ||
	                       tool_parse_time(next, 0, to_us) < 0
	               ? -1
	               : 0;
}
