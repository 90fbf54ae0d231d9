/*
 * certdoc.c - the calibration certificate of one record as an A4 PDF, in
 * Vietnamese and English (certdoc.h): `metrolog certificate` writes it to
 * a file, metrolog-web serves it.
 *
 * What it carries is what ISO/IEC 17025:2017 7.8.2 and 7.8.4 ask of a
 * calibration certificate: title; the laboratory's name and address; the
 * certificate number on every page with "page x of y" and a clear end;
 * the customer; the item (id, model, serial); the dates of calibration
 * and of issue (every date on it is the lab's local date, labtime.h, not
 * UTC's); the method; the environmental conditions; the results per test
 * point as found and as left with units, errors, limits and expanded
 * uncertainty; the decision rule and the statement of conformity
 * (ILAC-G8:09/2019); the metrological traceability (the reference
 * standard, its certificate and due date, and a warning when it was
 * overdue); the supersession note; remarks; who calibrated and who
 * approved it (approve.c, ISO/IEC 17025 7.8.2.1 o) with the date of
 * approval, which is the date of issue; without an approval the document
 * is a draft, marked on every page (a line under the header and a
 * translucent diagonal "BẢN NHÁP / DRAFT"); the record's SHA-256 hash and
 * a QR code of
 * "metrolog:cert=<number>;id=<id>;hash=<hash>" that `metrolog verify`
 * checks against the database.
 *
 * Pages (draw_document, draw.h): the document is laid out twice, first
 * into nothing to count the pages, then into the file, so every footer
 * can say "page x of y". A block (a field, a paragraph, a table row) never
 * splits across pages; the results table repeats its header on each page.
 *
 * Labels are pairs (Vietnamese, English); with --lang vi+en the Vietnamese
 * comes first and the English below it in a lighter style. Units are
 * printed as people write them and each point names the quantity its
 * unit measures (units[]); numbers never wrap inside a cell (draw.h,
 * draw_table_measure).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certdoc.h"

#include "calib.h"
#include "draw.h"
#include "drift.h"
#include "labtime.h"
#include "query.h"

/* Page geometry, points. */
#define PAGE_W   DRAW_A4_WIDTH
#define PAGE_H   DRAW_A4_HEIGHT
#define MARGIN_X 48.0
#define TOP      36.0
#define BOTTOM   (PAGE_H - 74.0) /* content ends here; the footer below */
#define CONTENT  (PAGE_W - 2 * MARGIN_X)
#define LABEL_W  158.0 /* the label column of the fields */

/* What the record alone does not say. */
struct cert_info {
	char model[CALIB_TEXT], serial[CALIB_TEXT]; /* "" unknown */
	bool have_item;                             /* query_instrument ok */
	char replaces[CALIB_ID];    /* certificate r->supersedes, "" */
	char replaced_by[CALIB_ID]; /* certificate superseding r, "" */
	char qr[CALIB_QR];
	char logo[CALIB_TEXT]; /* the lab's logo when the record is of the
	                          configured lab and it has one, else "" */
	/* the record's approval (approve.c); approval.id 0: none, the
	 * certificate is a draft */
	struct calib_approval approval;
};

struct doc {
	struct draw_doc pg; /* pg.ctx: this */
	const struct calib_record *r;
	const struct cert_info *info;
};

/* ---- text helpers ------------------------------------------------------ */

/* A date of the lab (labtime.h), "-" for none (as the tool prints one). */
static void fmt_date(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		snprintf(buf, size, "-");
	else
		labtime_format_date(us, buf, size);
}

/* A due date (calib_due_date: the last day it is in date), "-" none. */
static void fmt_due(int64_t due_us, char *buf, size_t size)
{
	if (due_us == 0)
		snprintf(buf, size, "-");
	else
		calib_due_date(due_us, buf, size);
}

/* Digits after the point in the shortest exact-enough form of v, -1 when
 * that form has an exponent. */
static int decimals(double v)
{
	char buf[64];
	const char *dot;

	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strchr(buf, 'e') != NULL)
		return -1;
	dot = strchr(buf, '.');
	return dot == NULL ? 0 : (int)strlen(dot + 1);
}

static void fmt_num(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "—");
	else
		snprintf(buf, size, "%.15g", v);
}

/* indication - reference, to the decimals of the two (no round-off
 * digits from the subtraction). */
static void fmt_error(double ind, double ref, char *buf, size_t size)
{
	int a = decimals(ind), b = decimals(ref);
	double e = ind - ref;

	if (isnan(ind))
		snprintf(buf, size, "—");
	else if (a < 0 || b < 0)
		snprintf(buf, size, "%.6g", e);
	else {
		int n = a > b ? a : b;
		snprintf(buf, size, "%+.*f", n > 12 ? 12 : n, e);
		if (strspn(buf + 1, "0.") == strlen(buf + 1))
			snprintf(buf, size, "%.*f", n > 12 ? 12 : n, 0.0);
	}
}

/* v with its sign, a minus sign U+2212 for a negative one ("−0.05",
 * "+0.05", "0"). */
static void fmt_signed(double v, char *buf, size_t size)
{
	if (v < 0)
		snprintf(buf, size, "−%.15g", -v);
	else
		snprintf(buf, size, v > 0 ? "+%.15g" : "%.15g", v);
}

/* "±0.05", or "−0.1 … +0.3" held together by no-break spaces (one word:
 * a number never wraps, draw.h). */
static void fmt_limits(const struct calib_point *p, char *buf, size_t size)
{
	char lo[40], hi[40];

	if (p->lower == -p->upper && p->upper > 0) {
		fmt_num(p->upper, hi, sizeof(hi));
		snprintf(buf, size, "±%s", hi);
		return;
	}
	fmt_signed(p->lower, lo, sizeof(lo));
	fmt_signed(p->upper, hi, sizeof(hi));
	snprintf(buf, size, "%s\u00a0…\u00a0%s", lo, hi);
}

/* ---- units and quantities ---------------------------------------------- */

enum quantity {
	Q_NONE,
	Q_TEMPERATURE,
	Q_PRESSURE,
	Q_HUMIDITY,
	Q_VOLTAGE,
	Q_CURRENT,
	Q_RESISTANCE,
	Q_LENGTH,
	Q_MASS,
	Q_FREQUENCY,
	Q_TIME,
};

static const char *const quantity_vi[] = {
        "",           "Nhiệt độ",  "Áp suất",  "Độ ẩm tương đối",
        "Điện áp",    "Dòng điện", "Điện trở", "Chiều dài",
        "Khối lượng", "Tần số",    "Thời gian"};
static const char *const quantity_en[] = {
        "",        "Temperature", "Pressure",   "Relative humidity",
        "Voltage", "Current",     "Resistance", "Length",
        "Mass",    "Frequency",   "Time"};

/* A unit as records keep it (as typed) and as people write it, with the
 * quantity it measures. A unit typed as it is written ("°C", "Ω") is
 * found by its written form. */
static const struct unit {
	const char *typed, *shown;
	enum quantity q;
} units[] = {
        {"degC", "°C", Q_TEMPERATURE},
        {"degF", "°F", Q_TEMPERATURE},
        {"K", "K", Q_TEMPERATURE},
        {"Pa", "Pa", Q_PRESSURE},
        {"hPa", "hPa", Q_PRESSURE},
        {"kPa", "kPa", Q_PRESSURE},
        {"MPa", "MPa", Q_PRESSURE},
        {"bar", "bar", Q_PRESSURE},
        {"mbar", "mbar", Q_PRESSURE},
        {"psi", "psi", Q_PRESSURE},
        {"mmHg", "mmHg", Q_PRESSURE},
        {"%rh", "%RH", Q_HUMIDITY},
        {"%RH", "%RH", Q_HUMIDITY},
        {"V", "V", Q_VOLTAGE},
        {"kV", "kV", Q_VOLTAGE},
        {"mV", "mV", Q_VOLTAGE},
        {"uV", "µV", Q_VOLTAGE},
        {"A", "A", Q_CURRENT},
        {"mA", "mA", Q_CURRENT},
        {"uA", "µA", Q_CURRENT},
        {"ohm", "Ω", Q_RESISTANCE},
        {"Ohm", "Ω", Q_RESISTANCE},
        {"mohm", "mΩ", Q_RESISTANCE},
        {"kohm", "kΩ", Q_RESISTANCE},
        {"kOhm", "kΩ", Q_RESISTANCE},
        {"Mohm", "MΩ", Q_RESISTANCE},
        {"MOhm", "MΩ", Q_RESISTANCE},
        {"uohm", "µΩ", Q_RESISTANCE},
        {"km", "km", Q_LENGTH},
        {"m", "m", Q_LENGTH},
        {"cm", "cm", Q_LENGTH},
        {"mm", "mm", Q_LENGTH},
        {"um", "µm", Q_LENGTH},
        {"nm", "nm", Q_LENGTH},
        {"t", "t", Q_MASS},
        {"kg", "kg", Q_MASS},
        {"g", "g", Q_MASS},
        {"mg", "mg", Q_MASS},
        {"ug", "µg", Q_MASS},
        {"Hz", "Hz", Q_FREQUENCY},
        {"kHz", "kHz", Q_FREQUENCY},
        {"MHz", "MHz", Q_FREQUENCY},
        {"GHz", "GHz", Q_FREQUENCY},
        {"s", "s", Q_TIME},
        {"ms", "ms", Q_TIME},
        {"us", "µs", Q_TIME},
        {"min", "min", Q_TIME},
        {"h", "h", Q_TIME},
};

/* The row of unit (as typed, or as written), NULL for a unit not in the
 * table (printed as typed, no quantity named). */
static const struct unit *unit_of(const char *unit)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].typed) == 0 ||
		    strcmp(unit, units[i].shown) == 0)
			return &units[i];
	return NULL;
}

/* The unit as people write it: "°C" for "degC", "Ω" for "ohm"; as typed
 * when unknown. */
static const char *unit_shown(const char *unit)
{
	const struct unit *u = unit_of(unit);

	return u != NULL ? u->shown : unit;
}

static const char *decision_vi(int d)
{
	switch (d) {
	case DRIFT_PASS:
		return "Đạt";
	case DRIFT_CONDITIONAL_PASS:
		return "Đạt có điều kiện";
	case DRIFT_CONDITIONAL_FAIL:
		return "Không đạt có điều kiện";
	case DRIFT_FAIL:
		return "Không đạt";
	case DRIFT_NO_STATEMENT:
		return "Không kết luận";
	default:
		return "—";
	}
}

static const char *decision_en(int d)
{
	switch (d) {
	case DRIFT_PASS:
		return "Pass";
	case DRIFT_CONDITIONAL_PASS:
		return "Conditional pass";
	case DRIFT_CONDITIONAL_FAIL:
		return "Conditional fail";
	case DRIFT_FAIL:
		return "Fail";
	case DRIFT_NO_STATEMENT:
		return "No statement";
	default:
		return "—";
	}
}

/* ---- pages ------------------------------------------------------------- */

/* Not approved (approve.c): a draft, marked so on every page. */
static bool draft(const struct doc *c)
{
	return c->info->approval.id == 0;
}

static void page_header(struct draw_doc *p)
{
	const struct doc *c = p->ctx;
	const struct calib_record *r = c->r;
	struct draw_style mark = {9,     true,       false,
	                          false, DRAW_ALERT, DRAW_CENTER};
	char line[256];

	draw_page_top(p, TOP, r->lab, "Số giấy chứng nhận", "Certificate No.",
	              r->certificate, "Giấy chứng nhận hiệu chuẩn",
	              "Calibration certificate");
	if (!draft(c))
		return;
	draw_label(p, "BẢN NHÁP — chưa được phê duyệt, không có giá trị",
	           "DRAFT — not approved, not valid", line, sizeof(line));
	p->y += draw_text(p->d, p->left, p->y, p->width, &mark, line) + 6;
}

static void page_footer(struct draw_doc *p)
{
	const struct calib_record *r = ((struct doc *)p->ctx)->r;
	struct draw_style note = {6.2,   false,     true,
	                          false, DRAW_SOFT, DRAW_CENTER};
	char left[256], right[128], lbl[128];
	double y;

	draw_label(p, "Số GCN", "Certificate No.", lbl, sizeof(lbl));
	snprintf(left, sizeof(left), "%s %s", lbl, r->certificate);
	snprintf(right, sizeof(right), "#%" PRId64 " · SHA-256 %.16s…", r->id,
	         r->hash);
	y = draw_page_bottom(p, left, right);
	const char *vi = "Kết quả chỉ có giá trị đối với phương tiện được "
	                 "hiệu chuẩn. Không được sao chép không đầy đủ giấy "
	                 "chứng nhận này khi chưa có sự đồng ý bằng văn bản "
	                 "của phòng thí nghiệm.";
	const char *en = "The results relate only to the item calibrated. "
	                 "This certificate shall not be reproduced except in "
	                 "full without the written approval of the "
	                 "laboratory.";
	draw_pair(p, MARGIN_X, y, CONTENT, &note, &note, vi, en);
	if (draft(p->ctx)) { /* over the page, translucent */
		char mark[64];
		draw_label(p, "BẢN NHÁP", "DRAFT", mark, sizeof(mark));
		draw_watermark(p->d, PAGE_W, PAGE_H, DRAW_ALERT, mark);
	}
}

/* ---- the results table ------------------------------------------------- */

#define NCOLS 12
#define CELL  (CALIB_TEXT + 32)

static const double col_w[NCOLS] = {16, 48, 28, 42, 42, 40,
                                    42, 40, 40, 54, 53, 53};
static const char *const col_vi[NCOLS] = {"TT",
                                          "Đại lượng",
                                          "Đơn vị",
                                          "Giá trị chuẩn",
                                          "Trước hiệu chỉnh",
                                          "Sai số trước",
                                          "Sau hiệu chỉnh",
                                          "Sai số sau",
                                          "Giới hạn sai số",
                                          "U (k)",
                                          "Kết luận trước",
                                          "Kết luận sau"};
static const char *const col_en[NCOLS] = {"No.",
                                          "Quantity",
                                          "Unit",
                                          "Reference value",
                                          "As found",
                                          "Error as found",
                                          "As left",
                                          "Error as left",
                                          "Limits",
                                          "U (k)",
                                          "Decision as found",
                                          "Decision as left"};

/* Measured as found and not adjusted: as_left empty (NAN). */
static bool not_adjusted(const struct calib_point *p)
{
	return isnan(p->as_left) && !isnan(p->as_found);
}

/* The quantity cell of p in lang: the channel's name, and under it the
 * quantity its unit measures (unknown: the name alone); en[1] set to the
 * English name under the Vietnamese when both are shown. */
static void quantity_cell(const struct calib_point *p, enum draw_lang lang,
                          char *cell, const char **en)
{
	const struct unit *u = unit_of(p->unit);
	enum quantity q = u != NULL ? u->q : Q_NONE;

	*en = NULL;
	if (q == Q_NONE) {
		snprintf(cell, CELL, "%s", p->quantity);
		return;
	}
	snprintf(cell, CELL, "%s\n%s", p->quantity,
	         lang == DRAW_EN ? quantity_en[q] : quantity_vi[q]);
	if (lang == DRAW_VI_EN)
		*en = quantity_en[q];
}

/* The cells of point i: text in VI and EN (the same for numbers). */
static void point_cells(const struct calib_point *p, int i, enum draw_lang lang,
                        char cell[NCOLS][CELL], const char *en[NCOLS])
{
	snprintf(cell[0], CELL, "%d", i + 1);
	snprintf(cell[2], CELL, "%s", p->unit[0] ? unit_shown(p->unit) : "—");
	fmt_num(p->reference, cell[3], CELL);
	fmt_num(p->as_found, cell[4], CELL);
	fmt_error(p->as_found, p->reference, cell[5], CELL);
	fmt_num(p->as_left, cell[6], CELL);
	fmt_error(p->as_left, p->reference, cell[7], CELL);
	if (not_adjusted(p)) {
		snprintf(cell[6], CELL, "Không hiệu chỉnh");
		/* rule version 2: as left is as found, its error too */
		if (p->left >= 0)
			fmt_error(p->as_found, p->reference, cell[7], CELL);
	}
	fmt_limits(p, cell[8], CELL);
	snprintf(cell[9], CELL, "%.15g (k=%.3g)", p->U, p->k);
	snprintf(cell[10], CELL, "%s", decision_vi(p->found));
	snprintf(cell[11], CELL, "%s", decision_vi(p->left));
	for (int k = 0; k < NCOLS; k++)
		en[k] = NULL;
	quantity_cell(p, lang, cell[1], &en[1]);
	if (not_adjusted(p))
		en[6] = "Not adjusted";
	en[10] = decision_en(p->found);
	en[11] = decision_en(p->left);
	if (p->found < 0)
		en[10] = NULL;
	if (p->left < 0)
		en[11] = NULL;
}

/* The columns of numbers (draw.h: never wrapped): reference value,
 * indications, errors, limits, U (k). */
#define NUMBER_COLS 0x3f8u

static void results_table(struct doc *c)
{
	const struct calib_record *r = c->r;
	struct draw_table t = {.ncols = NCOLS,
	                       .widths = col_w,
	                       .head_vi = col_vi,
	                       .head_en = col_en,
	                       .numbers = NUMBER_COLS};
	char cell[NCOLS][CELL];
	const char *vi[NCOLS], *en[NCOLS];

	for (int k = 0; k < NCOLS; k++)
		vi[k] = cell[k];
	for (int i = 0; i < r->npoints; i++) {
		point_cells(&r->points[i], i, c->pg.lang, cell, en);
		draw_table_measure(&c->pg, &t, vi, en);
	}
	point_cells(&r->points[0], 0, c->pg.lang, cell, en);
	draw_table_start(&c->pg, &t, vi, en);
	for (int i = 0; i < r->npoints; i++) {
		point_cells(&r->points[i], i, c->pg.lang, cell, en);
		draw_table_row(&c->pg, &t, vi, en);
	}
	draw_table_end(&c->pg, &t);
}

/* ---- statements -------------------------------------------------------- */

/* The largest specific false-accept risk a pass can carry under r's
 * rule and policy at its points: drift_worst_pfa at the acceptance
 * limits (u = U / k), at most max_risk where the TUR is below min_tur
 * (a riskier pass is no statement there); NAN when no point has an
 * acceptance zone and U > 0. */
static double worst_pass_risk(const struct calib_record *r)
{
	double worst = NAN;

	for (int i = 0; i < r->npoints; i++) {
		const struct calib_point *p = &r->points[i];
		double w = r->rule == CALIB_RULE_GUARDED
		                   ? drift_guard_band(r->guard_factor, p->U)
		                   : 0;
		double risk =
		        drift_worst_pfa(p->lower, p->upper, w, p->U / p->k);
		if ((p->upper - p->lower) / (2 * p->U) < r->min_tur &&
		    risk > r->max_risk)
			risk = r->max_risk;
		if (!isnan(risk) && !(risk <= worst))
			worst = risk;
	}
	return worst;
}

/* ISO/IEC 17025 7.8.6.1: when a statement is made, and the risk it
 * carries (rule version 2, the record's policy). */
static void risk_statement(struct doc *c)
{
	const struct calib_record *r = c->r;
	double worst = worst_pass_risk(r);
	char vi[1536], en[1536], wvi[256] = "", wen[256] = "";
	bool guarded = r->rule == CALIB_RULE_GUARDED;

	if (!isnan(worst)) {
		snprintf(wvi, sizeof(wvi),
		         " Với quy tắc này, rủi ro chấp nhận sai riêng của một "
		         "kết quả Đạt tại các điểm đo lớn nhất là %.3g %%.",
		         100 * worst);
		snprintf(wen, sizeof(wen),
		         " Under this rule the specific false-accept risk of a "
		         "pass at these test points is at most %.3g %%.",
		         100 * worst);
	}
	snprintf(vi, sizeof(vi),
	         "Rủi ro (ISO/IEC 17025 7.8.6.1, JCGM 106:2012, phân bố "
	         "chuẩn với u = U/k): chỉ đưa ra kết luận về sự phù hợp khi "
	         "tỉ số độ không đảm bảo đo TUR = (giới hạn trên − giới hạn "
	         "dưới)/(2U) ≥ %g, hoặc khi rủi ro riêng của kết luận (chấp "
	         "nhận sai với Đạt, loại bỏ sai với Không đạt) ≤ %g %%%s; "
	         "nếu không, kết quả ghi \"Không kết luận\".%s",
	         r->min_tur, 100 * r->max_risk,
	         guarded ? ", và không bao giờ khi các vùng bảo vệ chồng lên "
	                   "nhau (2w > giới hạn trên − giới hạn dưới)"
	                 : "",
	         wvi);
	snprintf(en, sizeof(en),
	         "Risk (ISO/IEC 17025 7.8.6.1, JCGM 106:2012, normal "
	         "distribution with u = U/k): a statement of conformity is "
	         "made only where the test uncertainty ratio TUR = (upper "
	         "limit − lower limit)/(2U) ≥ %g, or where the specific risk "
	         "of the decision (false accept for a pass, false reject for "
	         "a fail) is ≤ %g %%%s; otherwise the result reads \"No "
	         "statement\".%s",
	         r->min_tur, 100 * r->max_risk,
	         guarded ? ", and never where the guard bands overlap (2w > "
	                   "upper limit − lower limit)"
	                 : "",
	         wen);
	draw_paragraph(&c->pg, vi, en, false);
}

/* A record decided under rule version 1: said so, with what today's
 * rules decide where it differs (calib_redecide). */
static void old_rules(struct doc *c)
{
	const struct calib_record *r = c->r;
	char vi[1536], en[1536], tvi[384] = "", ten[384] = "";
	int found, left;

	if (calib_redecide(r, &found, &left) == 0 &&
	    (found != r->result_found || left != r->result_left)) {
		snprintf(
		        tvi, sizeof(tvi),
		        " Theo quy tắc hiện hành (phiên bản %d) kết quả sẽ là: "
		        "trước hiệu chỉnh %s, sau hiệu chỉnh %s.",
		        CALIB_RULE_VERSION, decision_vi(found),
		        decision_vi(left));
		snprintf(ten, sizeof(ten),
		         " Under the current rules (version %d) the results "
		         "would be: as found %s, as left %s.",
		         CALIB_RULE_VERSION, decision_en(found),
		         decision_en(left));
	}
	snprintf(vi, sizeof(vi),
	         "LƯU Ý: bản ghi này được kết luận theo quy tắc phiên bản 1 "
	         "(trước 12/2026): điểm đo không hiệu chỉnh không được tính "
	         "vào kết luận sau hiệu chỉnh, và không kiểm tra độ không đảm "
	         "bảo đo có cho phép kết luận hay không. Bản ghi được giữ "
	         "nguyên như đã lưu.%s",
	         tvi);
	snprintf(en, sizeof(en),
	         "NOTE: this record was decided under rule version 1 (before "
	         "2026-12): points not adjusted were left out of the as-left "
	         "statement, and no check was made that the uncertainty "
	         "allowed a statement. The record stays as it was "
	         "recorded.%s",
	         ten);
	draw_paragraph(&c->pg, vi, en, true);
}

static void rule_statement(struct doc *c)
{
	const struct calib_record *r = c->r;
	char vi[1024], en[1024];

	if (r->rule == CALIB_RULE_GUARDED) {
		snprintf(
		        vi, sizeof(vi),
		        "Chấp nhận có vùng bảo vệ (ILAC-G8:09/2019), vùng bảo "
		        "vệ w = r·U với r = %g: Đạt khi giới hạn dưới + w ≤ "
		        "sai "
		        "số ≤ giới hạn trên − w; Đạt có điều kiện khi sai số "
		        "nằm trong giới hạn nhưng trong vùng bảo vệ; Không đạt "
		        "có điều kiện khi sai số vượt giới hạn không quá w; "
		        "Không đạt khi vượt quá w. Sai số đúng bằng một giới "
		        "hạn được coi là nằm trong giới hạn đó.",
		        r->guard_factor);
		snprintf(en, sizeof(en),
		         "Guarded acceptance (ILAC-G8:09/2019) with guard band "
		         "w = r·U, r = %g: pass when lower limit + w ≤ error ≤ "
		         "upper limit − w; conditional pass when the error is "
		         "within the limits but inside the guard band; "
		         "conditional fail when it is outside the limits by at "
		         "most w; fail when it is outside by more than w. An "
		         "error exactly at a limit is on the inside of it.",
		         r->guard_factor);
	} else {
		snprintf(
		        vi, sizeof(vi),
		        "Chấp nhận đơn giản (ILAC-G8:09/2019), w = 0: Đạt khi "
		        "sai số nằm trong giới hạn cho phép, Không đạt khi nằm "
		        "ngoài; độ không đảm bảo đo không được dùng để thu hẹp "
		        "hay mở rộng vùng chấp nhận. Sai số đúng bằng một giới "
		        "hạn được coi là nằm trong giới hạn đó.");
		snprintf(
		        en, sizeof(en),
		        "Simple acceptance (ILAC-G8:09/2019), w = 0: pass when "
		        "the error lies within the limits, fail when it lies "
		        "outside them; the measurement uncertainty neither "
		        "narrows nor widens the acceptance zone. An error "
		        "exactly at a limit is on the inside of it.");
	}
	draw_heading(&c->pg, "Quy tắc quyết định", "Decision rule", 0);
	draw_paragraph(&c->pg, vi, en, false);
	if (r->rule_version >= 2)
		risk_statement(c);
	else
		old_rules(c);
}

static void conformity_vi(int d, bool left, char *buf, size_t size,
                          const char *when)
{
	const char *what;

	switch (d) {
	case DRIFT_PASS:
		what = "phù hợp với giới hạn quy định tại mọi điểm đo";
		break;
	case DRIFT_CONDITIONAL_PASS:
		what = "phù hợp với giới hạn quy định; có kết quả nằm trong "
		       "vùng "
		       "bảo vệ (đạt có điều kiện)";
		break;
	case DRIFT_CONDITIONAL_FAIL:
		what = "không phù hợp: có kết quả vượt giới hạn không quá vùng "
		       "bảo vệ (không đạt có điều kiện)";
		break;
	case DRIFT_FAIL:
		what = "không phù hợp với giới hạn quy định";
		break;
	case DRIFT_NO_STATEMENT:
		what = "không được kết luận về sự phù hợp: độ không đảm bảo đo "
		       "của ít nhất một kết quả quá lớn so với giới hạn "
		       "(Không kết luận)";
		break;
	default:
		what = left ? "không được hiệu chỉnh tại điểm nào; tình trạng "
		              "sau hiệu chỉnh là tình trạng trước hiệu chỉnh"
		            : "không được đo trước hiệu chỉnh";
		break;
	}
	snprintf(buf, size, "%s: phương tiện %s.", when, what);
}

static void conformity_en(int d, bool left, char *buf, size_t size,
                          const char *when)
{
	const char *what;

	switch (d) {
	case DRIFT_PASS:
		what = "conforms to the specified limits at every test point";
		break;
	case DRIFT_CONDITIONAL_PASS:
		what = "conforms to the specified limits; at least one result "
		       "lies within the guard band (conditional pass)";
		break;
	case DRIFT_CONDITIONAL_FAIL:
		what = "does not conform: at least one result lies outside the "
		       "limits by no more than the guard band (conditional "
		       "fail)";
		break;
	case DRIFT_FAIL:
		what = "does not conform to the specified limits";
		break;
	case DRIFT_NO_STATEMENT:
		what = "is not stated to conform or not: the uncertainty of at "
		       "least one result is too large for the limits (no "
		       "statement)";
		break;
	default:
		what = left ? "was not adjusted at any point; as left it is as "
		              "found"
		            : "was not measured as found";
		break;
	}
	snprintf(buf, size, "%s: the item %s.", when, what);
}

/* Points measured as found and not adjusted, of r. */
static int count_not_adjusted(const struct calib_record *r)
{
	int n = 0;

	for (int i = 0; i < r->npoints; i++)
		n += not_adjusted(&r->points[i]);
	return n;
}

static void conformity_statement(struct doc *c)
{
	const struct calib_record *r = c->r;
	char vi[3][512], en[3][512];
	int n = count_not_adjusted(r);
	double h;

	conformity_vi(r->result_found, false, vi[0], sizeof(vi[0]),
	              "Trước hiệu chỉnh");
	conformity_en(r->result_found, false, en[0], sizeof(en[0]), "As found");
	conformity_vi(r->result_left, true, vi[1], sizeof(vi[1]),
	              "Sau hiệu chỉnh");
	conformity_en(r->result_left, true, en[1], sizeof(en[1]), "As left");
	vi[2][0] = en[2][0] = '\0';
	if (n > 0 && r->rule_version >= 2) {
		snprintf(
		        vi[2], sizeof(vi[2]),
		        "%d/%d điểm đo không hiệu chỉnh (\"Không hiệu "
		        "chỉnh\"): kết quả sau hiệu chỉnh của chúng là kết quả "
		        "trước hiệu chỉnh và được tính vào kết luận sau hiệu "
		        "chỉnh.",
		        n, r->npoints);
		snprintf(
		        en[2], sizeof(en[2]),
		        "%d of %d test points were not adjusted (\"Not "
		        "adjusted\"): their as-left results are their as-found "
		        "results, and the as-left statement covers them.",
		        n, r->npoints);
	}
	h = draw_paragraph_height(&c->pg, vi[0], en[0]) +
	    draw_paragraph_height(&c->pg, vi[1], en[1]);
	draw_heading(&c->pg, "Tuyên bố sự phù hợp", "Statement of conformity",
	             h);
	for (int k = 0; k < 3; k++)
		if (vi[k][0] != '\0')
			draw_paragraph(&c->pg, vi[k], en[k], false);
	if (r->rule_version >= 3) {
		snprintf(vi[0], sizeof(vi[0]), "Giới hạn sai số theo: %s.",
		         r->specification[0] ? r->specification
		                             : "không ghi trong hồ sơ");
		snprintf(en[0], sizeof(en[0]), "Error limits from: %s.",
		         r->specification[0] ? r->specification
		                             : "not recorded");
		draw_paragraph(&c->pg, vi[0], en[0], false);
	}
}

static void traceability(struct doc *c)
{
	const struct calib_record *r = c->r;
	char vi[1024], en[1024], due[16];

	draw_heading(&c->pg, "Tính liên kết chuẩn và độ không đảm bảo đo",
	             "Traceability and uncertainty", 0);
	fmt_due(r->standard_due_us, due, sizeof(due));
	if (r->standard[0] == '\0') {
		snprintf(vi, sizeof(vi),
		         "Bản ghi không nêu chuẩn đo lường được sử dụng.");
		snprintf(en, sizeof(en),
		         "The record names no reference standard.");
	} else {
		snprintf(
		        vi, sizeof(vi),
		        "Kết quả đo được liên kết chuẩn tới hệ đơn vị SI thông "
		        "qua chuẩn %s, giấy chứng nhận hiệu chuẩn số %s, hạn "
		        "hiệu chuẩn %s.",
		        r->standard,
		        r->standard_cert[0] ? r->standard_cert : "—", due);
		snprintf(en, sizeof(en),
		         "The results are metrologically traceable to the SI "
		         "through the reference standard %s, calibration "
		         "certificate %s, due %s.",
		         r->standard,
		         r->standard_cert[0] ? r->standard_cert : "—", due);
	}
	if (r->standard_reason[0] != '\0') {
		/* no claim of traceability through a standard not in
		 * calibration: what happened and why, instead */
		snprintf(
		        vi, sizeof(vi),
		        "Không công bố tính liên kết chuẩn qua chuẩn %s: chuẩn "
		        "này %s vào ngày hiệu chuẩn. Lý do sử dụng (ghi trong "
		        "hồ sơ): %s",
		        r->standard,
		        r->standard_cert[0] ? "đã quá hạn hiệu chuẩn"
		                            : "chưa từng được hiệu chuẩn",
		        r->standard_reason);
		snprintf(
		        en, sizeof(en),
		        "No claim of metrological traceability is made through "
		        "the reference standard %s: it was %s on the date of "
		        "calibration. Reason for its use (recorded): %s",
		        r->standard,
		        r->standard_cert[0] ? "overdue for calibration"
		                            : "never calibrated",
		        r->standard_reason);
		draw_paragraph(&c->pg, vi, en, true);
	} else {
		draw_paragraph(&c->pg, vi, en, false);
	}
	if (r->standard[0] != '\0' && r->standard_overdue &&
	    r->standard_reason[0] == '\0') {
		snprintf(vi, sizeof(vi),
		         "CẢNH BÁO: chuẩn %s đã quá hạn hiệu chuẩn (hoặc chưa "
		         "từng được hiệu chuẩn) vào ngày hiệu chuẩn.",
		         r->standard);
		snprintf(en, sizeof(en),
		         "WARNING: the reference standard %s was overdue for "
		         "calibration (or never calibrated) on the date of "
		         "calibration.",
		         r->standard);
		draw_paragraph(&c->pg, vi, en, true);
	}
	draw_paragraph(
	        &c->pg,
	        "Độ không đảm bảo đo mở rộng U là độ không đảm bảo đo chuẩn "
	        "nhân với hệ số phủ k; với phân bố chuẩn, k = 2 tương ứng "
	        "xác suất phủ khoảng 95 % (JCGM 100:2008).",
	        "The expanded uncertainty U is the standard uncertainty "
	        "multiplied by the coverage factor k; for a normal "
	        "distribution k = 2 corresponds to a coverage probability of "
	        "approximately 95 % (JCGM 100:2008).",
	        false);
}

/* Under the approver's line: the approval (name, role, date), or that
 * there is none. */
static void approver_text(const struct doc *c, char *buf, size_t size)
{
	const struct calib_approval *ap = &c->info->approval;
	char date[16], on[64];

	if (draft(c)) {
		const char *vi = "CHƯA PHÊ DUYỆT (bản nháp)";
		const char *en = "NOT APPROVED (draft)";
		snprintf(buf, size, "%s%s%s", c->pg.lang == DRAW_EN ? "" : vi,
		         c->pg.lang == DRAW_VI_EN ? "\n" : "",
		         c->pg.lang == DRAW_VI ? "" : en);
		return;
	}
	fmt_date(ap->approved_us, date, sizeof(date));
	draw_label(&c->pg, "ngày phê duyệt", "approved on", on, sizeof(on));
	snprintf(buf, size, "%s%s%s\n%s %s", ap->approver,
	         ap->role[0] ? "\n" : "", ap->role, on, date);
}

static void signatures(struct doc *c)
{
	const struct calib_record *r = c->r;
	struct draw_style lvi = {8.2, true, false, false, DRAW_INK, DRAW_LEFT};
	struct draw_style len = {7.4, false, true, false, DRAW_SOFT, DRAW_LEFT};
	struct draw_style name = {9.6,   false,    false,
	                          false, DRAW_INK, DRAW_LEFT};
	struct draw_style appr = name;
	double colw = CONTENT / 2 - 10, h1, h2, hn1, hn2;
	char approver[3 * CALIB_TEXT + 96];

	approver_text(c, approver, sizeof(approver));
	if (draft(c)) {
		appr.bold = true;
		appr.color = DRAW_ALERT;
	}
	h1 = draw_pair_height(&c->pg, colw, &lvi, &len, "Người thực hiện",
	                      "Calibrated by");
	h2 = draw_pair_height(&c->pg, colw, &lvi, &len, "Người phê duyệt",
	                      "Authorised by");
	draw_text_size(c->pg.d, colw, &name, r->technician, NULL, &hn1);
	draw_text_size(c->pg.d, colw, &appr, approver, NULL, &hn2);
	double h = (h1 > h2 ? h1 : h2) + 34 + (hn1 > hn2 ? hn1 : hn2) + 6;
	draw_need(&c->pg, h + 12);
	c->pg.y += 12;
	draw_pair(&c->pg, MARGIN_X, c->pg.y, colw, &lvi, &len,
	          "Người thực hiện", "Calibrated by");
	draw_pair(&c->pg, MARGIN_X + CONTENT / 2 + 10, c->pg.y, colw, &lvi,
	          &len, "Người phê duyệt", "Authorised by");
	double y = c->pg.y + (h1 > h2 ? h1 : h2) + 30;
	draw_line(c->pg.d, MARGIN_X, y, MARGIN_X + colw, y, 0.5, DRAW_SOFT,
	          true);
	draw_line(c->pg.d, MARGIN_X + CONTENT / 2 + 10, y,
	          MARGIN_X + CONTENT / 2 + 10 + colw, y, 0.5, DRAW_SOFT, true);
	draw_text(c->pg.d, MARGIN_X, y + 4, colw, &name, r->technician);
	draw_text(c->pg.d, MARGIN_X + CONTENT / 2 + 10, y + 4, colw, &appr,
	          approver);
	c->pg.y += h;
}

static void verification(struct doc *c)
{
	const struct calib_record *r = c->r;
	const double qr = 84, x = MARGIN_X + qr + 14, w = CONTENT - qr - 14;
	struct draw_style mono = {7.4, false, false, true, DRAW_INK, DRAW_LEFT};
	struct draw_style lvi = {8.2, true, false, false, DRAW_INK, DRAW_LEFT};
	struct draw_style len = {7.4, false, true, false, DRAW_SOFT, DRAW_LEFT};
	double hq, y;

	draw_text_size(c->pg.d, CONTENT, &mono, c->info->qr, NULL, &hq);
	draw_heading(&c->pg, "Xác thực", "Verification", 0);
	draw_need(&c->pg, qr + 6 + hq + 6);
	draw_qr(c->pg.d, MARGIN_X, c->pg.y, qr, c->info->qr);
	y = c->pg.y;
	y += draw_pair(&c->pg, x, y, w, &lvi, &len,
	               "Mã băm SHA-256 của bản ghi",
	               "SHA-256 hash of the record");
	y += draw_text(c->pg.d, x, y + 1, w, &mono, r->hash) + 6;
	draw_pair(&c->pg, x, y, w, &draw_body, &draw_body_en,
	          "Quét mã QR hoặc nhập dòng dưới mã vào lệnh metrolog verify "
	          "để kiểm tra giấy chứng nhận với chuỗi bản ghi hiệu chuẩn.",
	          "Scan the QR code, or type the line under it into metrolog "
	          "verify, to check this certificate against the audit chain "
	          "of calibration records.");
	c->pg.y += qr + 6;
	c->pg.y += draw_text(c->pg.d, MARGIN_X, c->pg.y, CONTENT, &mono,
	                     c->info->qr) +
	           6;
}

/* ---- the document ------------------------------------------------------ */

/* "first\nsecond" of the given parts, "—" when none is given. */
static const char *lines(char *buf, size_t size, const char *a, const char *b,
                         const char *c)
{
	const char *part[] = {a, b, c};
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < 3; i++)
		if (part[i][0] != '\0' && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
			                        len > 0 ? "\n" : "", part[i]);
	return buf[0] ? buf : "—";
}

/* The laboratory, where the work was done, and the customer (ISO/IEC
 * 17025 7.8.2.1 b, c, e). Before rule version 3 the lab field held name
 * and address as typed, and the record no location. */
static void parties(struct doc *c)
{
	const struct calib_record *r = c->r;
	char buf[3 * CALIB_TEXT + 8];

	draw_field(&c->pg, LABEL_W, "Phòng thí nghiệm", "Laboratory",
	           lines(buf, sizeof(buf), r->lab, r->lab_address, ""),
	           DRAW_INK);
	if (r->lab_accreditation[0])
		draw_field(&c->pg, LABEL_W, "Công nhận", "Accreditation",
		           r->lab_accreditation, DRAW_INK);
	if (r->rule_version >= 3)
		draw_field(&c->pg, LABEL_W, "Địa điểm hiệu chuẩn",
		           "Location of calibration",
		           r->location[0] ? r->location
		                          : "tại phòng thí nghiệm / at the "
		                            "laboratory (address above)",
		           DRAW_INK);
	draw_field(&c->pg, LABEL_W, "Khách hàng", "Customer",
	           lines(buf, sizeof(buf), r->customer, r->customer_address,
	                 r->customer_contact),
	           DRAW_INK);
	if (r->customer_id[0])
		draw_field(&c->pg, LABEL_W, "Mã số khách hàng", "Customer ID",
		           r->customer_id, DRAW_INK);
}

/* The item's condition and date of receipt (7.8.2.1 g, h), when given. */
static void receipt(struct doc *c)
{
	const struct calib_record *r = c->r;
	char a[16];

	if (r->item_condition[0])
		draw_field(&c->pg, LABEL_W, "Tình trạng khi nhận",
		           "Condition on receipt", r->item_condition, DRAW_INK);
	if (r->received_us > 0) {
		fmt_date(r->received_us, a, sizeof(a));
		draw_field(&c->pg, LABEL_W, "Ngày nhận", "Date of receipt", a,
		           DRAW_INK);
	}
}

static void particulars(struct doc *c)
{
	const struct calib_record *r = c->r;
	const struct cert_info *in = c->info;
	char buf[CALIB_TEXT + 128], a[16], b[16];

	draw_heading(&c->pg, "Thông tin chung", "Particulars", 0);
	parties(c);
	draw_field(&c->pg, LABEL_W, "Phương tiện đo", "Item calibrated",
	           r->instrument, DRAW_INK);
	draw_field(&c->pg, LABEL_W, "Kiểu", "Model",
	           in->model[0]    ? in->model
	           : in->have_item ? "—"
	                           : "(không rõ / unknown)",
	           DRAW_INK);
	draw_field(&c->pg, LABEL_W, "Số sê-ri", "Serial number",
	           in->serial[0]   ? in->serial
	           : in->have_item ? "—"
	                           : "(không rõ / unknown)",
	           DRAW_INK);
	receipt(c);
	fmt_date(r->performed_us, a, sizeof(a));
	draw_field(&c->pg, LABEL_W, "Ngày hiệu chuẩn", "Date of calibration", a,
	           DRAW_INK);
	/* issued when approved: a draft is not issued (docs/METROLOGY.md) */
	if (draft(c)) {
		draw_label(&c->pg, "chưa ban hành (bản nháp)",
		           "not issued (draft)", buf, sizeof(buf));
	} else {
		fmt_date(in->approval.approved_us, buf, sizeof(buf));
	}
	draw_field(&c->pg, LABEL_W, "Ngày ban hành", "Date of issue", buf,
	           draft(c) ? DRAW_ALERT : DRAW_INK);
	if (r->due_us > 0) {
		fmt_due(r->due_us, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s (%d ngày / days)", a,
		         r->interval_days);
		draw_field(
		        &c->pg, LABEL_W,
		        "Hạn hiệu chuẩn tiếp theo (theo chu kỳ của khách hàng)",
		        "Next calibration due (customer's interval)", buf,
		        DRAW_INK);
	}
	draw_field(&c->pg, LABEL_W, "Phương pháp hiệu chuẩn",
	           "Calibration method", r->method[0] ? r->method : "—",
	           DRAW_INK);
	if (r->rule_version >= 3)
		draw_field(&c->pg, LABEL_W,
		           "Bổ sung, sai khác hoặc loại trừ so với phương pháp",
		           "Additions to, deviations or exclusions from the "
		           "method",
		           r->deviations[0] ? r->deviations : "không có / none",
		           DRAW_INK);
	draw_field(&c->pg, LABEL_W, "Điều kiện môi trường",
	           "Environmental conditions",
	           r->conditions[0] ? r->conditions : "—", DRAW_INK);
	if (r->standard[0]) {
		fmt_due(r->standard_due_us, b, sizeof(b));
		snprintf(buf, sizeof(buf),
		         "%s — GCN / certificate %s, hạn / due %s%s",
		         r->standard,
		         r->standard_cert[0] ? r->standard_cert : "—", b,
		         r->standard_overdue ? " — QUÁ HẠN / OVERDUE" : "");
		draw_field(&c->pg, LABEL_W, "Chuẩn đo lường",
		           "Reference standard", buf,
		           r->standard_overdue ? DRAW_ALERT : DRAW_INK);
	} else {
		draw_field(&c->pg, LABEL_W, "Chuẩn đo lường",
		           "Reference standard", "—", DRAW_INK);
	}
	snprintf(buf, sizeof(buf), "#%" PRId64, r->id);
	draw_field(&c->pg, LABEL_W, "Số bản ghi", "Record", buf, DRAW_INK);
}

/* A correction says so first (ISO/IEC 17025 7.8.8): which certificate it
 * replaces and, from rule version 3, what changed and why. */
static void amendment(struct doc *c)
{
	const struct calib_record *r = c->r;
	const char *old = c->info->replaces[0] ? c->info->replaces : "?";
	char vi[CALIB_TEXT + 256], en[CALIB_TEXT + 256];

	if (r->supersedes <= 0)
		return;
	snprintf(vi, sizeof(vi),
	         "Giấy chứng nhận này sửa đổi và thay thế giấy chứng nhận số "
	         "%s (bản ghi #%" PRId64 ").%s%s",
	         old, r->supersedes,
	         r->amendment[0] ? " Nội dung sửa đổi: " : "", r->amendment);
	snprintf(en, sizeof(en),
	         "This certificate amends and replaces certificate %s (record "
	         "#%" PRId64 ").%s%s",
	         old, r->supersedes, r->amendment[0] ? " Amendment: " : "",
	         r->amendment);
	draw_heading(&c->pg, "Sửa đổi", "Amendment", 0);
	draw_paragraph(&c->pg, vi, en, true);
}

/* The body, between the first page's header and the last one's footer. */
static void layout(struct draw_doc *p)
{
	struct doc *c = p->ctx;
	const struct calib_record *r = c->r;
	char vi[512], en[512];

	if (c->info->replaced_by[0]) {
		snprintf(vi, sizeof(vi),
		         "Giấy chứng nhận này đã bị thay thế bởi giấy chứng "
		         "nhận "
		         "số %s.",
		         c->info->replaced_by);
		snprintf(en, sizeof(en),
		         "This certificate has been superseded by certificate "
		         "%s.",
		         c->info->replaced_by);
		draw_paragraph(&c->pg, vi, en, true);
	}
	amendment(c);
	particulars(c);
	draw_heading(&c->pg, "Kết quả hiệu chuẩn", "Calibration results", 0);
	results_table(c);
	rule_statement(c);
	conformity_statement(c);
	traceability(c);
	if (r->remarks[0]) {
		struct draw_style s = draw_value;
		double h;
		draw_heading(&c->pg, "Ghi chú", "Remarks", 0);
		draw_text_size(c->pg.d, CONTENT, &s, r->remarks, NULL, &h);
		draw_need(&c->pg, h);
		c->pg.y += draw_text(c->pg.d, MARGIN_X, c->pg.y, CONTENT, &s,
		                     r->remarks) +
		           4;
	}
	signatures(c);
	verification(c);
	{
		struct draw_style end = {8,     true,        false,
		                         false, DRAW_ACCENT, DRAW_CENTER};
		char buf[128];
		draw_label(&c->pg, "Hết giấy chứng nhận", "End of certificate",
		           buf, sizeof(buf));
		char line[160];
		snprintf(line, sizeof(line), "— %s —", buf);
		draw_need(&c->pg, 16);
		c->pg.y += 6 + draw_text(c->pg.d, MARGIN_X, c->pg.y + 6,
		                         CONTENT, &end, line);
	}
}

/* ---- what the record alone does not say ------------------------------- */

/* The record's certificate number of record id into buf ("" when none). */
static int cert_of(struct query *q, int64_t id, char *buf, size_t size)
{
	struct calib_record *o;
	int rc;

	buf[0] = '\0';
	if (id <= 0)
		return 0;
	if ((o = malloc(sizeof(*o))) == NULL)
		return -1;
	rc = query_calibration(q, id, o);
	if (rc == 0)
		snprintf(buf, size, "%s", o->certificate);
	free(o);
	return rc < 0 ? -1 : 0;
}

int certdoc_supersession(struct query *q, const struct calib_record *r,
                         char replaces[CALIB_ID], char replaced_by[CALIB_ID],
                         int64_t *by)
{
	if ((*by = query_superseded_by(q, r->id)) < 0 ||
	    cert_of(q, r->supersedes, replaces, CALIB_ID) < 0 ||
	    cert_of(q, *by, replaced_by, CALIB_ID) < 0)
		return -1;
	return 0;
}

int certdoc_approval(struct query *q, const struct calib_record *r,
                     struct calib_approval *ap)
{
	char h[CALIB_HASH];
	int rc = query_approval(q, r->id, ap);

	if (rc == 0 &&
	    (calib_approval_hash(ap, h) < 0 || strcmp(h, ap->hash) != 0 ||
	     strcmp(ap->record_hash, r->hash) != 0))
		rc = 2;
	if (rc != 0)
		memset(ap, 0, sizeof(*ap));
	return rc;
}

static int read_info(struct query *q, const struct calib_record *r,
                     struct certdoc *c, struct cert_info *info)
{
	struct query_instrument inst;
	int64_t by;
	int ap;

	memset(info, 0, sizeof(*info));
	/* the item's model and serial: a certificate without them is still
	 * a certificate (the id identifies the item), so say unknown. The
	 * model is the record's (as configured when it was written, schema
	 * 14) when it has one, else the instrument's now */
	if (query_instrument(q, r->instrument, c->now_us, &inst) == 0) {
		info->have_item = true;
		snprintf(info->model, sizeof(info->model), "%s", inst.model);
		snprintf(info->serial, sizeof(info->serial), "%s", inst.serial);
	}
	if (r->model[0] != '\0')
		snprintf(info->model, sizeof(info->model), "%s", r->model);
	if (certdoc_supersession(q, r, info->replaces, info->replaced_by, &by) <
	    0)
		goto fail;
	calib_qr(r, info->qr, sizeof(info->qr));
	if ((ap = certdoc_approval(q, r, &info->approval)) < 0)
		goto fail;
	if (ap == 2)
		snprintf(c->note, sizeof(c->note),
		         "the approval of record %" PRId64
		         " does not check (metrolog verify): drawn as a draft",
		         r->id);
	if (query_lab_logo(q, r->lab, info->logo, sizeof(info->logo)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(c->err, sizeof(c->err), "%s", query_error(q));
	return -1;
}

int certdoc_write(struct query *q, const struct calib_record *r,
                  struct certdoc *c)
{
	struct cert_info *info = malloc(sizeof(*info));
	struct doc d = {.r = r, .info = info};
	char title[256];
	int rc = -1;

	c->pdf = NULL;
	c->len = 0;
	c->note[0] = c->err[0] = '\0';
	if (info == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		return -1;
	}
	if (read_info(q, r, c, info) < 0)
		goto out;
	d.pg = (struct draw_doc){.lang = c->lang,
	                         .left = MARGIN_X,
	                         .width = CONTENT,
	                         .bottom = BOTTOM,
	                         .header = page_header,
	                         .footer = page_footer,
	                         .logo = info->logo,
	                         .ctx = &d};
	snprintf(title, sizeof(title), "Calibration certificate %s",
	         r->certificate);
	if (draw_document(&d.pg, PAGE_W, PAGE_H, c->path, title, r->instrument,
	                  layout, c->err, sizeof(c->err)) < 0)
		goto out;
	c->pdf = d.pg.pdf;
	c->len = d.pg.pdf_len;
	rc = 0;
out:
	free(info);
	return rc;
}
