/*
 * lab.c - the technicians' pages besides the board (lab.h): an
 * instrument's page, its trend picture, the week's due worklist and the
 * events log.
 *
 * The trend is trend_chart() (tools/trendchart.c), the drawing `metrolog
 * trend` writes, here as SVG in memory; the page's words about it come
 * from the same computation without a drawing (no_picture). The events
 * are query_events(), the listing of `metrolog events`, filtered by kind
 * here and paged newest first in two passes (count, then keep one page):
 * constant memory whatever the range.
 */
#include "lab.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "calib.h"
#include "labtime.h"
#include "portal.h"
#include "query.h"
#include "text.h"
#include "trendchart.h"
#include "utc.h"

#define DAY_US        86400000000LL
#define RECENT_EVENTS 20 /* on an instrument's page ... */
#define RECENT_DAYS   30 /* ... of the last 30 days at most */
#define TREND_W       960
#define TREND_H       420

void lab_nav(struct sbuf *b, enum lang l)
{
	sb_printf(b,
	          "<nav class=\"lab\"><a href=\"/board\">%s</a> · <a "
	          "href=\"/lab/due\">%s</a> · <a href=\"/lab/log\">%s</a>"
	          "</nav>",
	          tr(l, M_NAV_BOARD), tr(l, M_WORKLIST), tr(l, M_EVENTS_LOG));
}

/* A link to the page of instrument name. */
static void inst_link(struct sbuf *b, const char *name)
{
	sb_add(b, "<a href=\"/lab/instrument?name=");
	sb_url(b, name);
	sb_add(b, "\">");
	sb_html(b, name);
	sb_add(b, "</a>");
}

/* ---- events, on an instrument's page and in the log ---------------------
 */

static void event_head(struct sbuf *b, bool instrument, enum lang l)
{
	sb_printf(b, "<table class=\"events\"><thead><tr><th>%s</th>",
	          tr(l, M_TIME));
	if (instrument)
		sb_printf(b, "<th>%s</th>", tr(l, M_INSTRUMENT));
	sb_printf(b,
	          "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
	          "<tbody>",
	          tr(l, M_CHANNEL), tr(l, M_KIND), tr(l, M_CHANGE),
	          tr(l, M_DETAIL));
}

static void event_row(struct sbuf *b, const struct query_event *e,
                      bool instrument, enum lang l)
{
	const char *kind = tr_event_kind(l, e->kind);
	char when[40];

	labtime_format(e->ts_us, 0, when, sizeof(when));
	sb_printf(b, "<tr><td class=\"when\">%s</td>", when);
	if (instrument) {
		sb_add(b, "<td>");
		inst_link(b, e->instrument);
		sb_add(b, "</td>");
	}
	sb_add(b, "<td>");
	sb_html(b, e->channel);
	sb_add(b, "</td><td class=\"kind kind-");
	sb_html(b, e->kind);
	sb_add(b, "\">");
	sb_html(b, kind != NULL ? kind : e->kind);
	sb_add(b, "</td><td>");
	if (e->state_to[0] != '\0') {
		sb_html(b, tr_event_state(l, e->kind, e->state_from));
		sb_add(b, " → ");
		sb_html(b, tr_event_state(l, e->kind, e->state_to));
	}
	sb_add(b, "</td><td>");
	sb_html(b, e->detail);
	sb_add(b, "</td></tr>");
}

/* The last RECENT_EVENTS events streamed through it. */
struct recent {
	struct query_event e[RECENT_EVENTS];
	size_t n; /* seen */
};

static int keep_recent(void *ctx, const struct query_event *e)
{
	struct recent *r = ctx;

	r->e[r->n++ % RECENT_EVENTS] = *e;
	return 0;
}

static int recent_events(struct sbuf *b, struct query *q, const char *name,
                         int64_t now_us, enum lang l)
{
	struct recent *r = calloc(1, sizeof(*r));
	size_t shown;

	if (r == NULL || query_events(q, name, now_us - RECENT_DAYS * DAY_US,
	                              INT64_MAX, keep_recent, r) != 0) {
		free(r);
		return -1;
	}
	sb_printf(b, "<h2>%s</h2>", tr(l, M_RECENT_EVENTS));
	if (r->n == 0) {
		sb_printf(b, "<p>%s</p>", tr(l, M_NO_EVENTS));
	} else {
		event_head(b, false, l);
		shown = r->n < RECENT_EVENTS ? r->n : RECENT_EVENTS;
		for (size_t i = 0; i < shown; i++) /* newest first */
			event_row(b, &r->e[(r->n - 1 - i) % RECENT_EVENTS],
			          false, l);
		sb_add(b, "</tbody></table>");
	}
	free(r);
	return 0;
}

/* ---- an instrument's page ------------------------------------------------ */

/* The channels of an instrument: their names, which have a tolerance. */
struct chans {
	struct query_channel *v;
	size_t n, cap;
	int failed;
};

static int add_chan(void *ctx, const struct query_channel *ch)
{
	struct chans *c = ctx;
	void *p = c->v;

	if (text_reserve(&p, &c->cap, c->n + 1, sizeof(*c->v)) < 0)
		return c->failed = 1;
	c->v = p;
	c->v[c->n++] = *ch;
	return 0;
}

/* What the trend of channel shows, in words (its forecast). */
static void forecast_text(struct sbuf *b, const struct trend_result *t,
                          const struct query_channel *ch, enum lang l)
{
	char line[40], bound[40], text[512];

	if (!t->fitted) {
		snprintf(text, sizeof(text), tr(l, M_TREND_NO_FIT), ch->name);
		sb_html(b, text);
		return;
	}
	snprintf(text, sizeof(text), tr(l, M_TREND_DRIFT), ch->name, t->slope,
	         ch->unit, (long long)t->readings);
	sb_html(b, text);
	if (t->line_us == 0 && t->bound_us == 0) {
		snprintf(text, sizeof(text), tr(l, M_TREND_NO_CROSSING),
		         LAB_TREND_HORIZON);
		sb_add(b, "<span class=\"no-crossing\">");
	} else {
		snprintf(line, sizeof(line), "%s", tr(l, M_TREND_BEYOND));
		snprintf(bound, sizeof(bound), "%s", tr(l, M_TREND_BEYOND));
		if (t->line_us != 0)
			labtime_format(t->line_us, 0, line, sizeof(line));
		if (t->bound_us != 0)
			labtime_format(t->bound_us, 0, bound, sizeof(bound));
		snprintf(text, sizeof(text), tr(l, M_TREND_CROSSING), line,
		         bound);
		sb_add(b, "<span class=\"crossing\">");
	}
	sb_html(b, text);
	sb_add(b, "</span>");
}

/* The trend of ch: the picture (/lab/trend.svg) and what it says. */
static int trend_figure(struct sbuf *b, struct query *q, const char *name,
                        const struct query_channel *ch, int64_t now_us,
                        enum lang l)
{
	struct trend_request rq = {.instrument = name,
	                           .channel = ch->name,
	                           .from = now_us - LAB_TREND_DAYS * DAY_US,
	                           .to = INT64_MAX,
	                           .horizon = LAB_TREND_HORIZON,
	                           .no_picture = true};
	struct trend_result t;
	char text[512];
	int rc = trend_chart(q, &rq, &t);

	if (rc < 0)
		return -1;
	if (rc == 1) {
		snprintf(text, sizeof(text), tr(l, M_TREND_NO_READINGS),
		         ch->name, LAB_TREND_DAYS);
		sb_add(b, "<p class=\"forecast\">");
		sb_html(b, text);
		sb_add(b, "</p>");
		return 0;
	}
	snprintf(text, sizeof(text), tr(l, M_TREND_ALT), ch->name);
	sb_add(b, "<figure class=\"trend\"><img src=\"/lab/trend.svg?name=");
	sb_url(b, name);
	sb_add(b, "&amp;channel=");
	sb_url(b, ch->name);
	sb_printf(b, "\" width=\"%d\" height=\"%d\" alt=\"", TREND_W, TREND_H);
	sb_html(b, text);
	sb_add(b, "\"><figcaption class=\"forecast\">");
	forecast_text(b, &t, ch, l);
	sb_add(b, "</figcaption></figure>");
	return 0;
}

/* The trend section: a link per channel with a tolerance, the picture of
 * the one chosen (pick; NULL: the first). */
static int trend_section(struct sbuf *b, struct query *q, const char *name,
                         const struct chans *c, const char *pick,
                         int64_t now_us, enum lang l)
{
	const struct query_channel *shown = NULL;

	sb_printf(b, "<h2>%s</h2><p class=\"channels\">", tr(l, M_TREND));
	for (size_t i = 0; i < c->n; i++) {
		const struct query_channel *ch = &c->v[i];
		bool this = pick != NULL ? strcmp(ch->name, pick) == 0
		                         : shown == NULL && ch->has_tolerance;
		if (this)
			shown = ch;
		if (!ch->has_tolerance)
			continue;
		sb_add(b, this ? "<strong>" : "<a href=\"?name=");
		if (!this) {
			sb_url(b, name);
			sb_add(b, "&amp;channel=");
			sb_url(b, ch->name);
			sb_add(b, "\">");
		}
		sb_html(b, ch->name);
		sb_add(b, this ? "</strong> " : "</a> ");
	}
	sb_add(b, "</p>");
	if (shown == NULL || !shown->has_tolerance) {
		sb_printf(b, "<p class=\"forecast\">%s</p>",
		          tr(l, M_TREND_NO_TOLERANCE));
		return 0;
	}
	return trend_figure(b, q, name, shown, now_us, l);
}

/* The instrument's live block (board.h), or why there is none. */
static int live_block(struct sbuf *b, struct query *q, int64_t id,
                      int64_t now_us, enum lang l)
{
	struct board_snap *snap;

	if (board_read(q, now_us, &snap) < 0)
		return -1;
	sb_printf(b, "<h2>%s</h2>", tr(l, M_CHANNELS));
	if (board_instrument_html(b, snap, id, now_us, l) == 1)
		sb_printf(b, "<p>%s</p>", tr(l, M_NOT_POLLED));
	else
		sb_add(b, "<script src=\"/static/board.js\"></script>");
	board_free(snap);
	return 0;
}

static void particular(struct sbuf *b, enum lang l, enum msg label,
                       const char *text)
{
	sb_printf(b, "<tr><th scope=\"row\">%s</th><td>", tr(l, label));
	sb_html(b, text);
	sb_add(b, "</td></tr>");
}

static bool has_channel(const struct chans *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return true;
	return false;
}

int lab_instrument(struct sbuf *b, struct query *q, const char *name,
                   const char *channel, int64_t now_us, enum lang l)
{
	struct query_instrument in;
	struct chans c = {0};
	int rc = query_instrument(q, name, now_us, &in);

	if (rc != 0)
		return rc;
	if (query_channels(q, in.name, add_chan, &c) != 0 || c.failed) {
		free(c.v);
		return -1;
	}
	if (channel != NULL && channel[0] == '\0')
		channel = NULL;
	if (channel != NULL && !has_channel(&c, channel)) {
		free(c.v);
		return 1;
	}
	lab_nav(b, l);
	sb_add(b, "<h1>");
	sb_html(b, in.name);
	sb_add(b, "</h1><table class=\"particulars\"><tbody>");
	particular(b, l, M_KIND,
	           tr(l, strcmp(in.kind, "standard") == 0 ? M_KIND_STANDARD
	                                                  : M_KIND_INSTRUMENT));
	particular(b, l, M_MODEL, in.model);
	particular(b, l, M_SERIAL, in.serial);
	particular(b, l, M_LOCATION, in.location);
	particular(b, l, M_OWNER, in.owner);
	sb_add(b, "</tbody></table>");
	rc = live_block(b, q, in.id, now_us, l);
	if (rc == 0)
		rc = trend_section(b, q, in.name, &c, channel, now_us, l);
	if (rc == 0)
		rc = recent_events(b, q, in.name, now_us, l);
	if (rc == 0)
		rc = portal_history(b, q, in.name, NULL, l);
	free(c.v);
	return rc;
}

int lab_trend_svg(struct query *q, const char *name, const char *channel,
                  int64_t now_us, char **svg, size_t *len, char *err,
                  size_t errlen)
{
	struct trend_request rq = {.instrument = name,
	                           .channel = channel,
	                           .from = now_us - LAB_TREND_DAYS * DAY_US,
	                           .to = INT64_MAX,
	                           .width = TREND_W,
	                           .height = TREND_H,
	                           .horizon = LAB_TREND_HORIZON,
	                           .format = DRAW_SVG,
	                           .axis_from_data = true};
	struct trend_result t;
	int rc = trend_chart(q, &rq, &t);

	*svg = t.svg;
	*len = t.svg_len;
	if (rc != 0)
		snprintf(err, errlen, "%s", t.err);
	return rc;
}

/* ---- the worklist -------------------------------------------------------- */

struct due_list {
	struct query_instrument *v;
	size_t n, cap;
	int64_t now_us;
	int failed;
};

/* Due within the week: calib_due_state() with LAB_WORKLIST_DAYS as the
 * days before the due date that count (overdue included); never
 * calibrated though an interval is configured. As `metrolog due --within
 * 7`. */
static bool due_this_week(const struct query_instrument *in, int64_t now_us)
{
	if (!in->active)
		return false;
	if (in->cal_id == 0 || in->due_us == 0)
		return in->cal_id == 0 && in->interval_days > 0;
	return calib_due_state(in->due_us, LAB_WORKLIST_DAYS, now_us) !=
	       CALIB_DUE_OK;
}

static int add_due(void *ctx, const struct query_instrument *in)
{
	struct due_list *d = ctx;
	void *p = d->v;

	if (!due_this_week(in, d->now_us))
		return 0;
	if (text_reserve(&p, &d->cap, d->n + 1, sizeof(*d->v)) < 0)
		return d->failed = 1;
	d->v = p;
	d->v[d->n++] = *in;
	return 0;
}

static void due_row(struct sbuf *b, const struct query_instrument *in,
                    int64_t now_us, enum lang l)
{
	char date[UTC_DATE_SIZE] = "", days[64] = "";
	bool never = in->cal_id == 0;
	long long left = never ? 0 : calib_due_days_left(in->due_us, now_us);

	if (!never) {
		calib_due_date(in->due_us, date, sizeof(date));
		if (left > 0)
			snprintf(days, sizeof(days), tr(l, M_DAYS_LEFT), left);
		else if (left == 0)
			snprintf(days, sizeof(days), "%s", tr(l, M_DUE_TODAY));
		else
			snprintf(days, sizeof(days), tr(l, M_DAYS_OVERDUE),
			         -left);
	}
	sb_printf(b, "<tr><td>%s</td><th scope=\"row\">", date);
	inst_link(b, in->name);
	sb_printf(b, "</th><td>%s</td><td class=\"due due-%s\">",
	          tr(l, strcmp(in->kind, "standard") == 0 ? M_KIND_STANDARD
	                                                  : M_KIND_INSTRUMENT),
	          never ? "none" : calib_due_name(in->due));
	sb_html(b, never ? tr(l, M_NEVER_CALIBRATED)
	                 : tr_due(l, calib_due_name(in->due)));
	sb_printf(b, "</td><td>%s</td><td>", days);
	sb_html(b, in->certificate);
	sb_add(b, "</td><td>");
	sb_html(b, in->owner);
	sb_add(b, "</td><td>");
	sb_html(b, in->location);
	sb_add(b, "</td></tr>");
}

int lab_worklist(struct sbuf *b, struct query *q, int64_t now_us, enum lang l)
{
	struct due_list d = {.now_us = now_us};
	char zone[16];

	if (query_instruments(q, NULL, now_us, add_due, &d) != 0 || d.failed) {
		free(d.v);
		return -1;
	}
	if (d.n > 0)
		qsort(d.v, d.n, sizeof(*d.v), query_instrument_by_due);
	lab_nav(b, l);
	labtime_format_zone(now_us, zone, sizeof(zone));
	sb_printf(b, "<h1>%s</h1><p class=\"meta\">%s %s (%s)</p>",
	          tr(l, M_WORKLIST), tr(l, M_WORKLIST_ABOUT), tr(l, M_TIMES_IN),
	          zone);
	if (d.n == 0) {
		sb_printf(b, "<p>%s</p>", tr(l, M_WORKLIST_NONE));
		free(d.v);
		return 0;
	}
	sb_printf(b,
	          "<table class=\"worklist\"><thead><tr><th>%s</th><th>%s</th>"
	          "<th>%s</th><th>%s</th><th></th><th>%s</th><th>%s</th>"
	          "<th>%s</th></tr></thead><tbody>",
	          tr(l, M_DUE_DATE), tr(l, M_INSTRUMENT), tr(l, M_KIND),
	          tr(l, M_CALIBRATION), tr(l, M_IN_FORCE), tr(l, M_OWNER),
	          tr(l, M_LOCATION));
	for (size_t i = 0; i < d.n; i++)
		due_row(b, &d.v[i], now_us, l);
	sb_add(b, "</tbody></table>");
	free(d.v);
	return 0;
}

/* ---- the events log ------------------------------------------------------ */

/* The log's filters, checked. */
struct log_filter {
	const char *instrument; /* NULL all */
	const char *kind;       /* NULL all */
	int64_t from, to;
	long page; /* from 1 */
};

/* The filters of a, checked: 0, or -1 with why in msg (the page's
 * language). */
static int log_filter(struct query *q, const struct lab_log_args *a,
                      int64_t now_us, enum lang l, struct log_filter *f,
                      char *msg, size_t size, int *dberr)
{
	struct query_instrument in;
	int rc;

	*f = (struct log_filter){.page = 1, .to = INT64_MAX};
	if (a->instrument != NULL && a->instrument[0] != '\0') {
		if ((rc = query_instrument(q, a->instrument, 0, &in)) != 0) {
			*dberr = rc < 0;
			snprintf(msg, size, tr(l, M_BAD_INSTRUMENT),
			         a->instrument);
			return -1;
		}
		f->instrument = a->instrument;
	}
	if (a->kind != NULL && a->kind[0] != '\0') {
		if (tr_event_kind(l, a->kind) == NULL) {
			snprintf(msg, size, tr(l, M_BAD_KIND), a->kind);
			return -1;
		}
		f->kind = a->kind;
	}
	const char *const times[] = {a->to, a->from};
	int64_t *const into[] = {&f->to, &f->from};
	for (int i = 0; i < 2; i++)
		if (times[i] != NULL && times[i][0] != '\0' &&
		    labtime_parse(times[i], 0, now_us, into[i]) < 0) {
			snprintf(msg, size, tr(l, M_BAD_TIME), times[i]);
			return -1;
		}
	if (a->from == NULL || a->from[0] == '\0')
		f->from = (f->to == INT64_MAX ? now_us : f->to) -
		          LAB_LOG_DAYS * DAY_US;
	if (f->from >= f->to) {
		snprintf(msg, size, "%s", tr(l, M_BAD_RANGE));
		return -1;
	}
	if (a->page != NULL && a->page[0] != '\0' &&
	    text_long(a->page, 1, 1000000, &f->page) < 0) {
		snprintf(msg, size, tr(l, M_BAD_PAGE), a->page);
		return -1;
	}
	return 0;
}

/* A <select> named name of values[] (their words words[]), "" all. */
static void select_of(struct sbuf *b, const char *name, enum msg label,
                      const char *const *values, const char *const *words,
                      size_t n, const char *chosen, enum lang l)
{
	sb_printf(b, "<label>%s <select name=\"%s\"><option value=\"\">%s",
	          tr(l, label), name, tr(l, M_ALL));
	for (size_t i = 0; i < n; i++) {
		sb_add(b, "</option><option value=\"");
		sb_html(b, values[i]);
		sb_add(b, chosen != NULL && strcmp(chosen, values[i]) == 0
		                  ? "\" selected>"
		                  : "\">");
		sb_html(b, words[i]);
	}
	sb_add(b, "</option></select></label>");
}

struct names {
	char (*v)[CALIB_ID];
	size_t n, cap;
	int failed;
};

static int add_name(void *ctx, const struct query_instrument *in)
{
	struct names *x = ctx;
	void *p = x->v;

	if (text_reserve(&p, &x->cap, x->n + 1, sizeof(*x->v)) < 0)
		return x->failed = 1;
	x->v = p;
	snprintf(x->v[x->n++], CALIB_ID, "%s", in->name);
	return 0;
}

/* The filter form, with the values asked (a). */
static int log_form(struct sbuf *b, struct query *q,
                    const struct lab_log_args *a, enum lang l)
{
	const char *words[PAGE_EVENT_KINDS], **names;
	struct names x = {0};

	if (query_instruments(q, NULL, 0, add_name, &x) != 0 || x.failed ||
	    (names = calloc(x.n + 1, sizeof(*names))) == NULL) {
		free(x.v);
		return -1;
	}
	for (size_t i = 0; i < x.n; i++)
		names[i] = x.v[i];
	for (size_t i = 0; i < PAGE_EVENT_KINDS; i++)
		words[i] = tr_event_kind(l, page_event_kinds[i]);
	sb_add(b,
	       "<form class=\"filters\" method=\"get\" action=\"/lab/log\">");
	select_of(b, "instrument", M_INSTRUMENT, names, names, x.n,
	          a->instrument, l);
	select_of(b, "kind", M_KIND, page_event_kinds, words, PAGE_EVENT_KINDS,
	          a->kind, l);
	const char *const fields[] = {"from", "to"};
	const char *const given[] = {a->from, a->to};
	for (int i = 0; i < 2; i++) {
		sb_printf(b, "<label>%s <input name=\"%s\" value=\"",
		          tr(l, i == 0 ? M_FROM : M_TO), fields[i]);
		sb_html(b, given[i] != NULL ? given[i] : "");
		sb_add(b, "\" placeholder=\"YYYY-MM-DDTHH:MM\" title=\"");
		sb_html(b, tr(l, M_TIME_HINT));
		sb_add(b, "\" size=\"18\"></label>");
	}
	sb_printf(b, "<button type=\"submit\">%s</button></form>",
	          tr(l, M_SHOW));
	free(names);
	free(x.v);
	return 0;
}

/* Pass 1 counts the events that pass; pass 2 keeps those of the page. */
struct log_pass {
	const struct log_filter *f;
	int64_t n;      /* passed so far */
	int64_t lo, hi; /* pass 2: keep the indexes [lo, hi) */
	struct query_event *keep;
	size_t kept;
};

static int log_event(void *ctx, const struct query_event *e)
{
	struct log_pass *p = ctx;

	if (p->f->kind != NULL && strcmp(e->kind, p->f->kind) != 0)
		return 0;
	if (p->keep != NULL && p->n >= p->lo && p->n < p->hi)
		p->keep[p->kept++] = *e;
	p->n++;
	return 0;
}

/* The query string of the log's filters a, on page page. */
static void log_link(struct sbuf *b, const struct lab_log_args *a, long page)
{
	const char *const names[] = {"instrument", "kind", "from", "to"};
	const char *const values[] = {a->instrument, a->kind, a->from, a->to};

	sb_add(b, "?");
	for (int i = 0; i < 4; i++)
		if (values[i] != NULL && values[i][0] != '\0') {
			sb_printf(b, "%s=", names[i]);
			sb_url(b, values[i]);
			sb_add(b, "&amp;");
		}
	sb_printf(b, "page=%ld", page);
}

static void log_pager(struct sbuf *b, const struct lab_log_args *a, long page,
                      long pages, long long total, enum lang l)
{
	char text[160];

	snprintf(text, sizeof(text), tr(l, M_PAGE_OF), page, pages, total);
	sb_add(b, "<p class=\"pager\">");
	if (page > 1) {
		sb_add(b, "<a rel=\"prev\" href=\"");
		log_link(b, a, page - 1);
		sb_printf(b, "\">%s</a> ", tr(l, M_NEWER));
	}
	sb_html(b, text);
	if (page < pages) {
		sb_add(b, " <a rel=\"next\" href=\"");
		log_link(b, a, page + 1);
		sb_printf(b, "\">%s</a>", tr(l, M_OLDER));
	}
	sb_add(b, "</p>");
}

/* The events of f, page f->page, newest first. */
static int log_list(struct sbuf *b, struct query *q, const struct log_filter *f,
                    const struct lab_log_args *a, enum lang l)
{
	struct log_pass p = {.f = f};
	long pages;

	if (query_events(q, f->instrument, f->from, f->to, log_event, &p) != 0)
		return -1;
	int64_t total = p.n;
	pages = total == 0 ? 1
	                   : (long)((total + LAB_LOG_PAGE - 1) / LAB_LOG_PAGE);
	/* newest first: page k holds the indexes (oldest first) below */
	p = (struct log_pass){.f = f,
	                      .hi = total -
	                            (int64_t)(f->page - 1) * LAB_LOG_PAGE,
	                      .lo = total - (int64_t)f->page * LAB_LOG_PAGE};
	if ((p.keep = calloc(LAB_LOG_PAGE, sizeof(*p.keep))) == NULL)
		return -1;
	if (p.hi > 0 && query_events(q, f->instrument, f->from, f->to,
	                             log_event, &p) != 0) {
		free(p.keep);
		return -1;
	}
	log_pager(b, a, f->page, pages, (long long)total, l);
	if (p.kept == 0) {
		sb_printf(b, "<p>%s</p>", tr(l, M_NO_EVENTS));
	} else {
		event_head(b, true, l);
		for (size_t i = p.kept; i-- > 0;)
			event_row(b, &p.keep[i], true, l);
		sb_add(b, "</tbody></table>");
	}
	free(p.keep);
	return 0;
}

int lab_log(struct sbuf *b, struct query *q, const struct lab_log_args *a,
            int64_t now_us, enum lang l)
{
	struct log_filter f;
	char msg[512], zone[16], from[40], to[40];
	int dberr = 0;

	lab_nav(b, l);
	sb_printf(b, "<h1>%s</h1>", tr(l, M_EVENTS_LOG));
	if (log_form(b, q, a, l) < 0)
		return -1;
	if (log_filter(q, a, now_us, l, &f, msg, sizeof(msg), &dberr) < 0) {
		if (dberr)
			return -1;
		sb_add(b, "<p class=\"error\" role=\"alert\">");
		sb_html(b, msg);
		sb_add(b, "</p>");
		return 400;
	}
	labtime_format_zone(now_us, zone, sizeof(zone));
	labtime_format(f.from, 0, from, sizeof(from));
	if (f.to == INT64_MAX)
		snprintf(to, sizeof(to), "%s", "…");
	else
		labtime_format(f.to, 0, to, sizeof(to));
	sb_printf(b, "<p class=\"meta\">%s – %s · %s (%s)</p>", from, to,
	          tr(l, M_TIMES_IN), zone);
	return log_list(b, q, &f, a, l);
}
