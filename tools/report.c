/*
 * report.c - the monthly summary of each instrument (report.h, which
 * defines every figure).
 *
 * The time figures walk the instrument's events from the first one to the
 * month's end once, in ts order, carrying the link state and the set of
 * channels out of tolerance; an interval counts for the part of it inside
 * the period. Memory: one entry per channel that had a tolerance event.
 *
 * The PDF (report_pdf, at the end) collects the rows first, then lays
 * them out with draw.h's documents: fields, a table whose header repeats
 * on each page, paragraphs, each in Vietnamese with the English below.
 */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "drift.h"
#include "labtime.h"
#include "tool.h"
#include "utc.h"

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

/* A tolerance event: the channel is out of tolerance when its new state
 * (state_to) is. */
static int tolerance(struct walk *w, const struct query_event *e)
{
	struct chan_state *c = chan(w, e->channel);
	enum drift_state to;
	bool out;

	if (c == NULL)
		return -1;
	out = drift_state_parse(e->state_to, &to) == 0 &&
	      to == DRIFT_OUT_OF_TOLERANCE;
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
	/* failing: it answers, but no reading is good: not available */
	if (strcmp(e->kind, "online") == 0 || strcmp(e->kind, "offline") == 0 ||
	    strcmp(e->kind, "failing") == 0)
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
	char first[16];
	struct utc_civil c;
	int64_t midnight, day;

	/* "YYYY-MM" is the date of the month's first day without its "-01";
	 * utc_parse gives its day number (x 24 h), the lab's zone its start */
	if (strlen(s) != 7)
		return -1;
	snprintf(first, sizeof(first), "%s-01", s);
	if (utc_parse(first, UTC_DATE_ONLY, 0, &midnight) < 0)
		return -1;
	utc_to_civil(midnight, &c);
	day = midnight / UTC_DAY_US;
	*from_us = labtime_day_start(day);
	*to_us = labtime_day_start(day + utc_days_in_month(c.year, c.month));
	return 0;
}

/* ---- the PDF --------------------------------------------------------- */

/* Landscape A4, points. */
#define PDF_W       DRAW_A4_HEIGHT
#define PDF_H       DRAW_A4_WIDTH
#define PDF_X       36.0
#define PDF_TOP     28.0
#define PDF_BOTTOM  (PDF_H - 40.0) /* content ends here; the footer below */
#define PDF_CONTENT (PDF_W - 2 * PDF_X)
#define PDF_LABEL_W 190.0
#define PDF_NCOLS   18
#define PDF_CELL    (CALIB_ID + 16)

struct pdf {
	struct draw_doc pg; /* pg.ctx: this */
	const struct report_pdf_info *info;
	struct report_row *rows;
	size_t n, cap;
};

static const double pdf_col_w[PDF_NCOLS] = {79.9, 34, 38, 38, 42, 44, 44,
                                            42,   44, 35, 35, 35, 35, 35,
                                            44,   56, 44, 44}; /* PDF_CONTENT */
/* PDF_CONTENT */                                              /* 769.9 */
static const char *const pdf_col_vi[PDF_NCOLS] = {"Phương tiện (loại)",
                                                  "Số lần đọc",
                                                  "Số giá trị đo",
                                                  "Giá trị tốt",
                                                  "Tỷ lệ tốt",
                                                  "Thời gian trực tuyến",
                                                  "Thời gian biết trạng thái",
                                                  "Độ sẵn sàng",
                                                  "Thời gian ngoài dung sai",
                                                  "Sự kiện trực tuyến",
                                                  "Sự kiện mất kết nối",
                                                  "Sự kiện dung sai",
                                                  "Sự kiện trôi",
                                                  "Sự kiện khác",
                                                  "Số lần hiệu chuẩn",
                                                  "Giấy chứng nhận",
                                                  "Hạn hiệu chuẩn",
                                                  "Trạng thái hạn"};
static const char *const pdf_col_en[PDF_NCOLS] = {"Instrument (kind)",
                                                  "Polls",
                                                  "Readings",
                                                  "Good",
                                                  "Good (%)",
                                                  "Online time",
                                                  "Known time",
                                                  "Availability (%)",
                                                  "Out of tolerance",
                                                  "Online events",
                                                  "Offline events",
                                                  "Tolerance events",
                                                  "Drift events",
                                                  "Other events",
                                                  "Calibrations",
                                                  "Certificate",
                                                  "Due",
                                                  "Due state"};

static int collect(void *ctx, const struct report_row *r)
{
	struct pdf *p = ctx;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct report_row *rows = realloc(p->rows, cap * sizeof(*rows));
		if (rows == NULL)
			return 1;
		p->rows = rows;
		p->cap = cap;
	}
	p->rows[p->n++] = *r;
	return 0;
}

/* "99.50 %", "—" for NAN. */
static void fmt_pct(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "—");
	else
		snprintf(buf, size, "%.2f %%", v);
}

/* "12 h 05 min", "4 min 07 s", "7.3 s". */
static void fmt_duration(int64_t us, char *buf, size_t size)
{
	int64_t s = us / 1000000;

	if (s >= 3600)
		snprintf(buf, size, "%" PRId64 " h %02d min", s / 3600,
		         (int)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, size, "%d min %02d s", (int)(s / 60),
		         (int)(s % 60));
	else
		snprintf(buf, size, "%.1f s", (double)us / 1e6);
}

static const char *due_vi(enum calib_due d)
{
	switch (d) {
	case CALIB_DUE_OK:
		return "còn hạn";
	case CALIB_DUE_SOON:
		return "sắp đến hạn";
	case CALIB_DUE_OVERDUE:
		return "quá hạn";
	default:
		return "không có";
	}
}

/* The cells of row r: vi[k] and, for words, en[k] below it (the
 * instrument's kind: cell[PDF_NCOLS]). */
static void row_cells(const struct report_row *r,
                      char cell[PDF_NCOLS + 1][PDF_CELL], const char *en[])
{
	const int64_t counts[8] = {r->polls,          r->readings,
	                           r->good,           r->online_events,
	                           r->offline_events, r->tolerance_events,
	                           r->drift_events,   r->other_events};
	static const int at[8] = {1, 2, 3, 9, 10, 11, 12, 13};
	bool standard = strcmp(r->in.kind, "standard") == 0;

	for (int k = 0; k < PDF_NCOLS; k++)
		en[k] = NULL;
	snprintf(cell[0], PDF_CELL, "%s", r->in.name);
	snprintf(cell[PDF_NCOLS], PDF_CELL, "%s · %s",
	         standard ? "chuẩn" : "phương tiện đo", r->in.kind);
	en[0] = cell[PDF_NCOLS];
	for (int i = 0; i < 8; i++)
		snprintf(cell[at[i]], PDF_CELL, "%" PRId64, counts[i]);
	fmt_pct(r->good_pct, cell[4], PDF_CELL);
	fmt_duration(r->online_us, cell[5], PDF_CELL);
	fmt_duration(r->known_us, cell[6], PDF_CELL);
	fmt_pct(r->online_pct, cell[7], PDF_CELL);
	fmt_duration(r->oot_us, cell[8], PDF_CELL);
	snprintf(cell[14], PDF_CELL, "%d", r->calibrations);
	snprintf(cell[15], PDF_CELL, "%s",
	         r->in.certificate[0] ? r->in.certificate : "—");
	if (r->in.due_us == 0)
		snprintf(cell[16], PDF_CELL, "—");
	else
		tool_format_due(r->in.due_us, cell[16], PDF_CELL);
	snprintf(cell[17], PDF_CELL, "%s", due_vi(r->in.due));
	en[17] = calib_due_name(r->in.due);
}

static void pdf_header(struct draw_doc *pg)
{
	const struct report_pdf_info *in = ((struct pdf *)pg->ctx)->info;
	const char *base = strrchr(in->site, '/');

	draw_page_top(pg, PDF_TOP, base != NULL ? base + 1 : in->site, "Tháng",
	              "Month", in->month, "Báo cáo tháng", "Monthly report");
}

static void pdf_footer(struct draw_doc *pg)
{
	const struct report_pdf_info *in = ((struct pdf *)pg->ctx)->info;
	char left[160], right[64], lbl[128], now[32];

	draw_label(pg, "Báo cáo tháng", "Monthly report", lbl, sizeof(lbl));
	snprintf(left, sizeof(left), "%s %s", lbl, in->month);
	tool_format_time(in->now_us, now, sizeof(now));
	snprintf(right, sizeof(right), "metrolog · %s", now);
	draw_page_bottom(pg, left, right);
}

static void particulars(struct draw_doc *pg)
{
	const struct pdf *p = pg->ctx;
	const struct report_pdf_info *in = p->info;
	int64_t end = in->to_us < in->now_us ? in->to_us : in->now_us;
	char buf[512], a[32], b[32], zone[16];

	draw_heading(pg, "Thông tin chung", "Particulars", 0);
	tool_format_date(in->from_us, a, sizeof(a));
	tool_format_date(in->to_us, b, sizeof(b));
	labtime_format_zone(in->from_us, zone, sizeof(zone));
	snprintf(buf, sizeof(buf), "%s: [%s, %s) %s", in->month, a, b, zone);
	draw_field(pg, PDF_LABEL_W, "Tháng", "Month", buf, DRAW_INK);
	draw_field(pg, PDF_LABEL_W, "Cơ sở dữ liệu", "Database", in->site,
	           DRAW_INK);
	draw_field(pg, PDF_LABEL_W, "Chủ sở hữu", "Owner",
	           in->owner != NULL ? in->owner : "tất cả / all", DRAW_INK);
	tool_format_time(in->now_us, a, sizeof(a));
	draw_field(pg, PDF_LABEL_W, "Thời điểm lập báo cáo", "Generated", a,
	           DRAW_INK);
	tool_format_time(end, a, sizeof(a));
	draw_field(pg, PDF_LABEL_W, "Số liệu thời gian tính đến",
	           "Time figures up to", a, DRAW_INK);
	snprintf(buf, sizeof(buf), "%zu", p->n);
	draw_field(pg, PDF_LABEL_W, "Số phương tiện và chuẩn",
	           "Instruments and standards", buf, DRAW_INK);
}

static void figures(struct draw_doc *pg)
{
	const struct pdf *p = pg->ctx;
	struct draw_table t = {.ncols = PDF_NCOLS,
	                       .widths = pdf_col_w,
	                       .head_vi = pdf_col_vi,
	                       .head_en = pdf_col_en};
	char cell[PDF_NCOLS + 1][PDF_CELL]; /* + the kind, under the name */
	const char *vi[PDF_NCOLS], *en[PDF_NCOLS];

	draw_heading(pg, "Số liệu theo phương tiện", "Figures per instrument",
	             0);
	if (p->n == 0) {
		draw_paragraph(pg, "Không có phương tiện nào.",
		               "No instrument.", false);
		return;
	}
	for (int k = 0; k < PDF_NCOLS; k++)
		vi[k] = cell[k];
	row_cells(&p->rows[0], cell, en);
	draw_table_start(pg, &t, vi, en);
	for (size_t i = 0; i < p->n; i++) {
		row_cells(&p->rows[i], cell, en);
		draw_table_row(pg, &t, vi, en);
	}
	draw_table_end(pg, &t);
}

/* How each figure is computed: report.h's opening comment. */
static const char *const how_vi[] = {
        "Tháng tính theo giờ địa phương của phòng thí nghiệm, từ 0 giờ "
        "ngày đầu tháng đến 0 giờ ngày đầu tháng sau; các số liệu thời gian "
        "dừng ở thời điểm lập báo cáo khi tháng "
        "chưa kết thúc. Thời gian ghi bằng giờ (h), phút (min) và giây "
        "(s); “—”: không có số liệu (mẫu số bằng 0).",
        "Số lần đọc: số giá trị đo của kênh có nhiều giá trị nhất trong "
        "tháng (mỗi lần đọc ghi một giá trị cho mỗi kênh, tốt hay không). "
        "Số giá trị đo, giá trị tốt: của mọi kênh trong tháng, và những "
        "giá trị có chất lượng tốt; tỷ lệ tốt = 100 × tốt / số giá trị đo.",
        "Độ sẵn sàng = 100 × thời gian trực tuyến / thời gian biết trạng "
        "thái: trạng thái kết nối tại mỗi thời điểm là trạng thái của sự "
        "kiện trực tuyến/mất kết nối gần nhất trước đó (chưa biết trước sự "
        "kiện đầu tiên). Khi metrologd dừng, không có sự kiện nào được ghi: "
        "thời gian đó tính theo trạng thái cuối cùng.",
        "Thời gian ngoài dung sai: thời gian mà ít nhất một kênh ở trạng "
        "thái ngoài dung sai (theo trạng thái mới của các sự kiện dung "
        "sai). Sự kiện: số sự kiện mỗi loại trong tháng. Số lần hiệu "
        "chuẩn: các bản ghi thực hiện trong tháng, không kể bản sửa (thay "
        "thế một bản ghi khác). Giấy chứng nhận, hạn và trạng thái hạn: "
        "của lần hiệu chuẩn có hiệu lực vào cuối tháng.",
};
static const char *const how_en[] = {
        "The month is in the lab's local time, from midnight of its first "
        "day to midnight of the first day of the next; the time figures stop "
        "at the time of the report while the "
        "month is not over. Times are in hours (h), minutes (min) and "
        "seconds (s); “—”: no figure (its denominator is 0).",
        "Polls: the readings of the instrument's channel with the most "
        "readings in the month (each poll records one reading per channel, "
        "good or not). Readings, good: the readings of all its channels in "
        "the month, and those of quality good; good % = 100 × good / "
        "readings.",
        "Availability = 100 × online time / known time: the link state at "
        "each instant is that of the last online/offline event before it "
        "(unknown before the first one ever). A stopped metrologd records "
        "no event: that time counts in the last state.",
        "Out of tolerance: the time during which at least one of its "
        "channels was out of tolerance (the new state of its tolerance "
        "events). Events: the events of each kind in the month. "
        "Calibrations: the records performed in the month, corrections "
        "(which supersede another record) not counted. Certificate, due "
        "and due state: those of the calibration in force at the month's "
        "end.",
};

static void pdf_body(struct draw_doc *pg)
{
	size_t n = sizeof(how_vi) / sizeof(how_vi[0]);

	particulars(pg);
	figures(pg);
	draw_heading(pg, "Cách tính các số liệu", "How each figure is computed",
	             draw_paragraph_height(pg, how_vi[0], how_en[0]));
	for (size_t i = 0; i < n; i++)
		draw_paragraph(pg, how_vi[i], how_en[i], false);
}

int report_pdf(struct query *q, const struct report_pdf_info *info,
               const char *path, char *err, size_t errlen)
{
	struct pdf p = {.info = info};
	char title[128];
	int ret;

	ret = report_month(q, info->owner, info->from_us, info->to_us,
	                   info->now_us, collect, &p);
	if (ret != 0) {
		snprintf(err, errlen, "%s",
		         ret < 0 ? query_error(q) : "out of memory");
		free(p.rows);
		return -1;
	}
	p.pg = (struct draw_doc){.lang = DRAW_VI_EN,
	                         .left = PDF_X,
	                         .width = PDF_CONTENT,
	                         .bottom = PDF_BOTTOM,
	                         .header = pdf_header,
	                         .footer = pdf_footer,
	                         .ctx = &p};
	snprintf(title, sizeof(title), "Monthly report %s", info->month);
	ret = draw_document(&p.pg, PDF_W, PDF_H, path, title, info->site,
	                    pdf_body, err, errlen);
	free(p.rows);
	return ret;
}
