/*
 * test_certificate.c - `metrolog certificate` and `metrolog trend` on a
 * real database: metrologd polls metrolog-sim for about 4 s (a
 * drifting channel with a guarded tolerance, a comparison channel, a
 * reference standard STD-1 in the configuration), then this process
 * appends calibration records with the store API (STD-1's own, then the
 * instrument's naming STD-1, with Vietnamese names; a 40-point correction
 * that supersedes it; one made before STD-1 was ever calibrated).
 *
 * The PDF is read back with poppler's tools: pdftoppm renders page 1
 * (it must parse and draw), pdftotext -layout gives the text, page by
 * page, in which every mandatory field must be found in both languages.
 * The SVG must be well-formed XML with an <svg> root whose <desc> states
 * the limits; the PNG must have the requested size. Bad arguments and
 * unknown records or channels must fail clearly and leave no file.
 *
 * Threading: one thread; metrologd, the simulator, metrolog and the
 * poppler tools are child processes (only metrolog and metrologd run
 * under METROLOG_TEST_WRAPPER).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calib.h"
#include "caltest.h"
#include "drift.h"
#include "gwtest.h"
#include "harness.h"
#include "store.h"
#include "utc.h"

#define DAY_US  86400000000LL
#define TIMEOUT 180000 /* ms, per program: valgrind and fontconfig */

#define LAB      "Phòng thí nghiệm Hiệu chuẩn Nhiệt, 8 Hoàng Quốc Việt, Hà Nội"
#define CUSTOMER "Công ty TNHH Đo lường Việt Á"
#define TECH     "Nguyễn Thị Phương Thảo"
#define AUTH     "Trần Đức Mạnh"
#define STD_CERT "VMI-STD-2026-117"
#define CERT     "HC-2026-0042"
#define CERT40   "HC-2026-0043"
#define CERT_OLD "HC-2026-0044"
#define CERT_AL  "HC-2026-0045" /* the as-left example of issue 11 */
#define CERT_NS  "HC-2026-0046" /* U = 0.5 against +-0.05 */
#define CERT_V1  "HC-2025-0099" /* decided under rule version 1 */
#define CERT_NUM "HC-2026-0047" /* units, quantities, long numbers */
#define CERT_TZ  "HC-2025-0048" /* at the edge of a day in Vietnam */
#define ROLE     "Trưởng phòng thí nghiệm / Lab manager"

static char dir[H_PATH_MAX];
static struct gw g;
static int64_t rec_id, rec40_id, old_id; /* ids of the records */
static int64_t al_id, ns_id, v1_id, num_id;
static char rec_hash[CALIB_HASH];
static char approved_on[16]; /* the approval's date of rec_id */

/* ---- helpers ----------------------------------------------------------- */

/* Run argv (wrapped when wrap); stdout and stderr into a fresh log whose
 * text goes to out. Returns the exit code. */
static int run(const char *const argv[], bool wrap, char *out, size_t size)
{
	static int n;
	char name[32], log[H_PATH_MAX];

	snprintf(name, sizeof(name), "run-%d.log", n++);
	h_path(log, dir, name);
	int code = h_run(argv, log, wrap, TIMEOUT);
	if (out != NULL)
		assert_true(h_read_file(log, out, size) >= 0);
	if (code < 0)
		fail_msg("%s did not exit in time", argv[0]);
	return code;
}

/* metrolog with up to 16 arguments after the database. */
static int metrolog(const char *const args[], char *out, size_t size)
{
	const char *argv[24] = {METROLOG_BIN};
	int i = 1, k = 0;

	argv[i++] = args[k++]; /* the subcommand */
	argv[i++] = "-d";
	argv[i++] = g.db;
	while (args[k] != NULL && i < 22)
		argv[i++] = args[k++];
	argv[i] = NULL;
	return run(argv, true, out, size);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* No file in dir whose name starts with base (the output or its
 * temporary). */
static void assert_nothing_named(const char *base)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, base, strlen(base)) == 0)
			fail_msg("%s left behind", e->d_name);
	closedir(d);
}

/* The whole text of a file (malloc'd, NUL-terminated). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static void assert_has(const char *text, const char *what)
{
	if (strstr(text, what) == NULL)
		fail_msg("'%s' missing from:\n%s", what, text);
}

/* The line of text that holds label; fails when there is none. */
static void line_of(const char *text, const char *label, char *line,
                    size_t size)
{
	const char *p = strstr(text, label), *b, *e;

	if (p == NULL)
		fail_msg("'%s' not in:\n%s", label, text);
	for (b = p; b > text && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	snprintf(line, size, "%.*s", (int)(e != NULL ? e - b : (long)strlen(b)),
	         b);
}

/* pdftotext -layout of pages first..last (0: all) into out. */
static void pdf_text(const char *pdf, int first, int last, char *out,
                     size_t size)
{
	char f[16], l[16], txt[H_PATH_MAX];
	static int n;
	char name[32];

	snprintf(f, sizeof(f), "%d", first);
	snprintf(l, sizeof(l), "%d", last);
	snprintf(name, sizeof(name), "text-%d.txt", n++);
	h_path(txt, dir, name);
	const char *all[] = {"pdftotext", "-layout", "-enc", "UTF-8",
	                     pdf,         txt,       NULL};
	const char *some[] = {"pdftotext", "-layout", "-enc", "UTF-8", "-f", f,
	                      "-l",        l,         pdf,    txt,     NULL};
	assert_int_equal(run(first ? some : all, false, NULL, 0), 0);
	assert_true(h_read_file(txt, out, size) > 0);
}

static int pdf_pages(const char *pdf)
{
	char out[8192];
	const char *argv[] = {"pdfinfo", pdf, NULL};
	int pages = 0;

	assert_int_equal(run(argv, false, out, sizeof(out)), 0);
	const char *p = strstr(out, "\nPages:");
	assert_non_null(p);
	assert_int_equal(sscanf(p + 7, "%d", &pages), 1);
	return pages;
}

/* Width and height from a PNG's IHDR. */
static void png_size(const char *path, unsigned *w, unsigned *h, size_t *len)
{
	static const unsigned char sig[8] = {0x89, 'P',  'N',  'G',
	                                     '\r', '\n', 0x1a, '\n'};
	unsigned char *b = (unsigned char *)slurp(path, len);

	assert_true(*len > 24);
	assert_memory_equal(b, sig, 8);
	assert_memory_equal(b + 12, "IHDR", 4);
	*w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 |
	     (unsigned)b[18] << 8 | b[19];
	*h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 |
	     (unsigned)b[22] << 8 | b[23];
	free(b);
}

/*
 * A small XML well-formedness check: declarations, comments, CDATA,
 * start/end/empty tags balanced with matching names, quoted attributes,
 * exactly one root element. Returns the root's name in root (or fails).
 */
static void xml_check(const char *s, char *root, size_t rsize)
{
	char stack[64][64];
	int depth = 0, roots = 0;

	root[0] = '\0';
	for (const char *p = s; (p = strchr(p, '<')) != NULL;) {
		if (strncmp(p, "<?", 2) == 0) {
			p = strstr(p, "?>");
			assert_non_null(p);
		} else if (strncmp(p, "<!--", 4) == 0) {
			p = strstr(p, "-->");
			assert_non_null(p);
		} else if (strncmp(p, "<![CDATA[", 9) == 0) {
			p = strstr(p, "]]>");
			assert_non_null(p);
		} else if (strncmp(p, "<!", 2) == 0) {
			p = strchr(p, '>');
			assert_non_null(p);
		} else if (p[1] == '/') {
			size_t n = strcspn(p + 2, " \t\r\n>");
			assert_true(depth > 0);
			depth--;
			if (strlen(stack[depth]) != n ||
			    strncmp(stack[depth], p + 2, n) != 0)
				fail_msg("</%.*s> closes <%s>", (int)n, p + 2,
				         stack[depth]);
			p = strchr(p, '>');
			assert_non_null(p);
		} else {
			size_t n = strcspn(p + 1, " \t\r\n/>");
			const char *q = p + 1 + n;
			char quote = 0;
			assert_true(n > 0 && n < 64);
			for (; *q && (quote || *q != '>'); q++)
				if (quote && *q == quote)
					quote = 0;
				else if (!quote && (*q == '"' || *q == '\''))
					quote = *q;
			assert_int_equal(*q, '>');
			if (depth == 0) {
				roots++;
				snprintf(root, rsize, "%.*s", (int)n, p + 1);
			}
			if (q[-1] != '/') {
				assert_true(depth < 64);
				snprintf(stack[depth++], 64, "%.*s", (int)n,
				         p + 1);
			}
			p = q;
		}
	}
	assert_int_equal(depth, 0);
	assert_int_equal(roots, 1);
}

/* ---- the database ------------------------------------------------------ */

static void base_record(struct calib_record *r, const char *instrument,
                        const char *cert, int64_t performed)
{
	cal_record(r, instrument, cert, TECH, performed);
	snprintf(r->lab, sizeof(r->lab), "%s", LAB);
	snprintf(r->customer, sizeof(r->customer), "%s", CUSTOMER);
	snprintf(r->method, sizeof(r->method),
	         "ĐLVN 138:2004, so sánh trong bể ổn nhiệt / comparison in "
	         "a stirred bath");
	snprintf(r->conditions, sizeof(r->conditions),
	         "(23,0 ± 1,0) °C; (45 ± 10) %%RH");
	snprintf(r->authorised, sizeof(r->authorised), "%s", AUTH);
	r->rule = CALIB_RULE_GUARDED;
	r->guard_factor = 1;
}

/* Issue 11's example: probe 1 not adjusted and 4x out (error 0.2 against
 * +-0.05), probe 2 adjusted into tolerance; U = 0.01, simple. */
static void as_left_example(struct calib_record *r, const char *cert,
                            int64_t performed)
{
	base_record(r, "TB-01", cert, performed);
	r->rule = CALIB_RULE_SIMPLE;
	r->guard_factor = 0;
	cal_point(r, "probe 1", "°C", 20, 20.2, NAN);
	cal_point(r, "probe 2", "°C", 20, 20.03, 20.001);
	for (int i = 0; i < 2; i++) {
		r->points[i].lower = -0.05;
		r->points[i].upper = 0.05;
		r->points[i].U = 0.01;
	}
}

static int setup(void **state)
{
	(void)state;
	struct h_sim sim;
	char bus[256], inst[2048], c0[128], c2[128], err[256];
	const char *extra[] = {"-m", "3", "-a", "3600",
	                       "-c", c0,  "-c", "1:nominal=25",
	                       "-c", c2,  NULL};

	gw_suppress_font_leaks();
	/* the lab of these tests is on UTC unless a test says otherwise */
	setenv("TZ", "UTC0", 1);
	tzset();
	snprintf(dir, sizeof(dir), "%s", h_tmpdir());
	/* 0.05 degC of error per real second: out of tolerance in 10 s */
	snprintf(c0, sizeof(c0), "0:nominal=20,drift=%.17g,noise=0.002",
	         0.05 * 86400.0 / 3600);
	snprintf(c2, sizeof(c2), "2:nominal=25.1,drift=%.17g",
	         0.02 * 86400.0 / 3600);
	gw_init(&g, dir);
	if (h_sim_start(&sim, dir, true, false, extra) < 0)
		return -1;
	tcp_bus(bus, sizeof(bus), "tcp-1", sim.port, 1000);
	snprintf(inst, sizeof(inst),
	         "{ id = \"TB-01\"; bus = \"tcp-1\"; unit_id = 1; "
	         "interval_ms = 100; model = \"Fluke 1524\"; "
	         "serial = \"SN-77231\"; owner = \"ACME\"; "
	         "calibration_interval_days = 180; channels = ( "
	         "{ name = \"c0\"; table = \"input\"; address = 0; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference = 20; limit = 0.5; U = 0.0625; rule = \"guarded\"; "
	         "}; }, "
	         "{ name = \"c1\"; table = \"input\"; address = 2; "
	         "type = \"float32\"; unit = \"degC\"; }, "
	         "{ name = \"c2\"; table = \"input\"; address = 4; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference_channel = \"c1\"; limit = 0.5; }; } ); }");
	gw_config(&g, bus, inst,
	          "standards = ( { id = \"STD-1\"; model = \"SPRT 5699\"; "
	          "calibration_interval_days = 365; } );");
	gw_start(&g);
	/* about 4 s of polls at 10/s, counted rather than slept (a loaded
	 * machine or valgrind only makes them later): 40 of each channel */
	if (!gw_wait_sql(&g,
	                 "SELECT min(n) >= 40 FROM (SELECT count(r.ts) AS n "
	                 "FROM channels c LEFT JOIN readings r ON r.channel = "
	                 "c.id GROUP BY c.id)",
	                 120000))
		return -1;
	if (gw_stop(&g) != 0 || h_sim_stop(&sim) != 0)
		return -1;
	if (db_try_int(g.db, "SELECT count(*) FROM readings") < 20)
		return -1;

	/* the records, from this process, through the store */
	struct store *st = store_open(g.db, err, sizeof(err));
	struct calib_record *r = malloc(sizeof(*r));
	int64_t now = (int64_t)time(NULL) * 1000000;
	assert_non_null(st);
	assert_non_null(r);
	base_record(r, "STD-1", STD_CERT, now - 30 * DAY_US);
	r->rule = CALIB_RULE_SIMPLE;
	r->guard_factor = 0;
	cal_point(r, "resistance at 0.01 °C", "Ω", 25.5, 25.50001, NAN);
	cal_append(st, r);

	base_record(r, "TB-01", CERT, now - DAY_US);
	snprintf(r->standard, sizeof(r->standard), "STD-1");
	cal_point(r, "nhiệt độ / temperature", "°C", 0, 0.12, 0.02);
	cal_point(r, "nhiệt độ / temperature", "°C", 20, 20.47, 20.01);
	cal_point(r, "nhiệt độ / temperature", "°C", 50, 50.61, 50.03);
	snprintf(r->remarks, sizeof(r->remarks),
	         "Đã hiệu chỉnh tại 20 °C và 50 °C. / Adjusted at 20 °C and "
	         "50 °C.");
	cal_append(st, r);
	rec_id = r->id;
	snprintf(rec_hash, sizeof(rec_hash), "%s", r->hash);
	/* approved by another person, before its correction */
	struct calib_approval ap;
	if (store_cal_approve(st, CERT, AUTH, ROLE, &ap) != 0)
		fail_msg("approve: %s", store_last_message(st));
	{
		time_t t = (time_t)(ap.approved_us / 1000000);
		struct tm tm; /* the lab's date: TZ (UTC0 in setup) */
		strftime(approved_on, sizeof(approved_on), "%Y-%m-%d",
		         localtime_r(&t, &tm));
	}

	base_record(r, "TB-01", CERT40, now - DAY_US);
	snprintf(r->standard, sizeof(r->standard), "STD-1");
	r->supersedes = rec_id;
	snprintf(r->amendment, sizeof(r->amendment),
	         "40 test points instead of 3 / 40 điểm đo thay cho 3");
	for (int i = 0; i < 40; i++)
		cal_point(r, "nhiệt độ / temperature", "°C", -20 + 2.5 * i,
		          -20 + 2.5 * i + 0.01 * (i % 7),
		          -20 + 2.5 * i + 0.005);
	snprintf(r->remarks, sizeof(r->remarks),
	         "Sửa lỗi: bổ sung 40 điểm đo. / Correction: 40 test points.");
	cal_append(st, r);
	rec40_id = r->id;

	/* before STD-1's only calibration: its standard was not in force */
	base_record(r, "TB-01", CERT_OLD, now - 60 * DAY_US);
	snprintf(r->standard, sizeof(r->standard), "STD-1");
	snprintf(r->standard_reason, sizeof(r->standard_reason),
	         "the only standard of the lab for this range");
	cal_point(r, "nhiệt độ / temperature", "°C", 20, 20.1, NAN);
	cal_append(st, r);
	old_id = r->id;
	assert_true(r->standard_overdue);

	/* probe 1 not adjusted and 4x out, probe 2 adjusted (simple) */
	as_left_example(r, CERT_AL, now - DAY_US);
	cal_append(st, r);
	al_id = r->id;
	assert_int_equal(r->result_left, DRIFT_FAIL);

	base_record(r, "TB-01", CERT_NS, now - DAY_US);
	r->rule = CALIB_RULE_SIMPLE;
	cal_point(r, "nhiệt độ / temperature", "°C", 20, 20, NAN);
	r->points[0].lower = -0.05;
	r->points[0].upper = 0.05;
	r->points[0].U = 0.5;
	cal_append(st, r);
	ns_id = r->id;

	/* units as typed, a quantity per unit, numbers too long for their
	 * columns (Part 2 of the approval work) */
	base_record(r, "TB-01", CERT_NUM, now - DAY_US);
	cal_point(r, "shunt-1", "ohm", 100000.000001, 100000.000101, NAN);
	r->points[0].lower = -0.001;
	r->points[0].upper = 0.001;
	r->points[0].U = 0.000123;
	cal_point(r, "rh-1", "%rh", 50, 50.2, NAN);
	cal_point(r, "tc-1", "uV", 1000, 1000.1, NAN);
	cal_point(r, "gauge-block", "um", 10, 10.1, NAN);
	cal_point(r, "oven", "degF", 212, 212.1, NAN);
	cal_point(r, "line-1", "kPa", 101.325, 101.4, NAN);
	cal_point(r, "other", "furlong", 3, 3.1, NAN);
	r->points[6].lower = -0.2;
	r->points[6].upper = 0.3;
	cal_append(st, r);
	num_id = r->id;
	store_close(st);

	/* the same example as the code before rule version 2 recorded it */
	as_left_example(r, CERT_V1, now - 90 * DAY_US);
	v1_id = cal_append_v1(g.db, r);
	assert_int_equal(r->result_left, DRIFT_PASS);
	free(r);
	return 0;
}

/* ---- certificate ------------------------------------------------------- */

static void certificate_has_every_field(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], png[H_PATH_MAX], id[16], text[65536], qr[256];
	char out[4096];
	size_t len;
	unsigned w, h;

	h_path(pdf, dir, "cert.pdf");
	snprintf(id, sizeof(id), "%lld", (long long)rec_id);
	const char *args[] = {"certificate", "--id", id, "-o", pdf, NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);

	/* it renders */
	char prefix[H_PATH_MAX];
	h_path(prefix, dir, "cert-page1");
	const char *ppm[] = {"pdftoppm",    "-png", "-r",   "50",
	                     "-singlefile", pdf,    prefix, NULL};
	assert_int_equal(run(ppm, false, NULL, 0), 0);
	h_path(png, dir, "cert-page1.png");
	png_size(png, &w, &h, &len);
	assert_true(w >= 410 && w <= 416); /* A4 at 50 dpi */
	assert_true(h >= 582 && h <= 588);
	assert_true(len > 15000); /* a blank page is about 1 KB */

	pdf_text(pdf, 0, 0, text, sizeof(text));
	/* title, lab, customer, item, dates, method, conditions */
	static const char *const labels[][2] = {
	        {"Giấy chứng nhận hiệu chuẩn", "Calibration certificate"},
	        {"Số giấy chứng nhận", "Certificate No."},
	        {"Phòng thí nghiệm", "Laboratory"},
	        {"Khách hàng", "Customer"},
	        {"Phương tiện đo", "Item calibrated"},
	        {"Kiểu", "Model"},
	        {"Số sê-ri", "Serial number"},
	        {"Ngày hiệu chuẩn", "Date of calibration"},
	        {"Ngày ban hành", "Date of issue"},
	        {"Phương pháp hiệu chuẩn", "Calibration method"},
	        {"Điều kiện môi trường", "Environmental conditions"},
	        {"Chuẩn đo lường", "Reference standard"},
	        {"Kết quả hiệu chuẩn", "Calibration results"},
	        {"Đại lượng", "Quantity"},
	        {"Đơn vị", "Unit"},
	        {"Quy tắc quyết định", "Decision rule"},
	        {"Tuyên bố sự phù hợp", "Statement of conformity"},
	        {"Trước hiệu chỉnh", "As found"},
	        {"Sau hiệu chỉnh", "As left"},
	        {"Tính liên kết chuẩn", "Traceability"},
	        {"Ghi chú", "Remarks"},
	        {"Người thực hiện", "Calibrated by"},
	        {"Người phê duyệt", "Authorised by"},
	        {"Mã băm SHA-256 của bản ghi", "SHA-256 hash of the record"},
	        {"Hết giấy chứng nhận", "End of certificate"},
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		assert_has(text, labels[i][0]);
		assert_has(text, labels[i][1]);
	}
	assert_has(text, "Phòng thí nghiệm Hiệu chuẩn Nhiệt");
	assert_has(text, "8 Hoàng Quốc Việt,");
	assert_has(text, "Hà Nội");
	assert_has(text, CUSTOMER);
	assert_has(text, "TB-01");
	assert_has(text, "Fluke 1524");
	assert_has(text, "SN-77231");
	assert_has(text, "ĐLVN 138:2004");
	assert_has(text, "(23,0 ± 1,0) °C");
	assert_has(text, TECH); /* diacritics intact: ễ ị ư ơ ả */
	assert_has(text, AUTH);
	/* approved: the approver, role and date; no draft anywhere */
	assert_has(text, "Trưởng phòng thí nghiệm / Lab manager");
	char on[64];
	snprintf(on, sizeof(on), "approved on %s", approved_on);
	assert_has(text, on);
	/* the date of issue: the lab's date, no "(UTC)" after it */
	line_of(text, "Ngày ban hành", on, sizeof(on));
	assert_has(on, approved_on);
	assert_null(strstr(text, "(UTC)"));
	assert_null(strstr(text, "DRAFT"));
	assert_null(strstr(text, "BẢN NHÁP"));
	assert_null(strstr(text, "NOT APPROVED"));
	/* units as people write them, the quantity named */
	assert_has(text, "°C");
	assert_null(strstr(text, "degC"));
	assert_has(text, "Temperature");
	assert_has(text, "Nhiệt độ");
	/* results: a point, its error, limits, U and the decisions */
	assert_has(text, "20.47");
	assert_has(text, "+0.47");
	assert_has(text, "±0.5");
	assert_has(text, "0.0625");
	assert_has(text, "(k=2)");
	assert_has(text, "Đạt có điều"); /* narrow cells wrap */
	assert_has(text, "Conditional");
	assert_has(text, "Không đạt");
	assert_has(text, "Fail");
	/* the decision rule and the conformity statement */
	assert_has(text, "Guarded acceptance (ILAC-G8:09/2019)");
	assert_has(text, "Chấp nhận có vùng bảo vệ");
	assert_has(text, "w = r·U, r = 1");
	assert_has(text, "the item conforms to the specified limits");
	/* traceability: the standard, its certificate, no warning */
	assert_has(text, "STD-1");
	assert_has(text, STD_CERT);
	assert_null(strstr(text, "WARNING"));
	/* superseded: a note pointing to the correction */
	assert_has(text, "superseded by certificate " CERT40);
	/* the hash and the QR text, whole */
	assert_has(text, rec_hash);
	snprintf(qr, sizeof(qr), "metrolog:cert=%s;id=%lld;hash=%s", CERT,
	         (long long)rec_id, rec_hash);
	assert_has(text, qr);
	assert_has(text, "Page 1 of ");
}

static void forty_points_make_pages_each_numbered(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], want[64], out[4096];

	h_path(pdf, dir, "cert40.pdf");
	const char *args[] = {"certificate", "--certificate", CERT40, "-o", pdf,
	                      NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	int pages = pdf_pages(pdf);
	assert_true(pages >= 2);
	for (int p = 1; p <= pages; p++) {
		pdf_text(pdf, p, p, text, sizeof(text));
		assert_has(text, CERT40);
		snprintf(want, sizeof(want), "Page %d of %d", p, pages);
		assert_has(text, want);
		snprintf(want, sizeof(want), "Trang %d/%d", p, pages);
		assert_has(text, want);
	}
	pdf_text(pdf, 0, 0, text, sizeof(text));
	/* every point, the supersession note, the end on the last page */
	assert_has(text, "77.5"); /* point 40: -20 + 2.5 * 39 */
	/* an amendment says so, and what changed (ISO/IEC 17025 7.8.8) */
	assert_has(text,
	           "This certificate amends and replaces certificate " CERT);
	assert_has(text, "Giấy chứng nhận này sửa đổi và thay thế giấy chứng "
	                 "nhận số " CERT);
	assert_has(text, "40 test points instead of 3");
	pdf_text(pdf, pages, pages, text, sizeof(text));
	assert_has(text, "End of certificate");
}

static void overdue_standard_is_flagged(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], id[16], out[4096];

	h_path(pdf, dir, "old.pdf");
	snprintf(id, sizeof(id), "%lld", (long long)old_id);
	const char *args[] = {"certificate", "--id", id, "-o", pdf, NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	/* used with a recorded reason: no traceability claimed through it,
	 * the reason printed instead */
	assert_has(text, "No claim of metrological traceability is made");
	assert_has(text, "Không công bố tính liên kết chuẩn qua chuẩn STD-1");
	assert_has(text, "the only standard of the lab for this range");
	assert_null(strstr(text, "traceable to the SI"));
	assert_has(text, "QUÁ HẠN / OVERDUE");
	/* as left not taken (not adjusted): as left is as found (rule
	 * version 2; version 1 printed "the item was not measured") */
	assert_has(text, "As left: the item conforms");
	assert_has(text, "Not adjusted");
	assert_has(text, "1 of 1 test points were not adjusted");
	assert_null(strstr(text, "not measured"));
}

/* The example: the unadjusted point's as-found failure is its
 * as-left result; the certificate says "not adjusted" and the rule and
 * its risk. */
static void as_left_covers_every_point(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], id[16], out[4096];

	h_path(pdf, dir, "asleft.pdf");
	snprintf(id, sizeof(id), "%lld", (long long)al_id);
	const char *args[] = {"certificate", "--id", id, "-o", pdf, NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	assert_has(text, "As found: the item does not conform");
	assert_has(text, "As left: the item does not conform");
	assert_null(strstr(text, "As left: the item conforms"));
	assert_has(text, "Not adjusted");
	assert_has(text, "Không hiệu chỉnh");
	assert_has(text, "1 of 2 test points were not adjusted");
	/* ISO/IEC 17025 7.8.6.1: the rule and its risk */
	assert_has(text, "Risk (ISO/IEC 17025 7.8.6.1");
	assert_has(text, "TUR");
	assert_null(strstr(text, "rule version 1"));
}

/* U = 0.5 against +-0.05: "No statement", never "Pass". */
static void no_statement_when_none_can_be_made(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], id[16], out[4096];

	h_path(pdf, dir, "ns.pdf");
	snprintf(id, sizeof(id), "%lld", (long long)ns_id);
	const char *args[] = {"certificate", "--id", id, "-o", pdf, NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	assert_has(text, "No statement");
	assert_has(text, "Không kết luận");
	assert_has(text, "As found: the item is not stated to conform");
	assert_null(strstr(text, "Pass"));
	assert_null(strstr(text, "the item conforms"));
}

/* A record of rule version 1 says so, and what today's rules decide. */
static void old_record_is_flagged(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], id[16], out[4096];

	h_path(pdf, dir, "v1.pdf");
	snprintf(id, sizeof(id), "%lld", (long long)v1_id);
	const char *args[] = {"certificate", "--id", id, "-o", pdf, NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	assert_has(text, "NOTE: this record was decided under rule version 1");
	assert_has(text, "LƯU Ý");
	assert_has(text, "as found Fail, as left Fail");
	/* as recorded: the old rule's as-left "conforms" stays */
	assert_has(text, "As left: the item conforms");
	assert_null(strstr(text, "Risk (ISO/IEC 17025 7.8.6.1"));
}

static void english_only(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], id[16], out[4096];

	h_path(pdf, dir, "en.pdf");
	snprintf(id, sizeof(id), "%lld", (long long)rec_id);
	const char *args[] = {"certificate", "--id", id,  "--lang",
	                      "en",          "-o",   pdf, NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	assert_has(text, "Calibration certificate");
	assert_has(text, "Customer");
	assert_has(text, CUSTOMER); /* the data stays as recorded */
	assert_null(strstr(text, "Khách hàng"));
}

/* A record nobody approved: a draft, marked on every page, signed by
 * nobody (the technician's typed "authorised" is no approval). */
static void draft_marked_on_every_page(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], out[4096];

	h_path(pdf, dir, "draft40.pdf");
	const char *args[] = {"certificate", "--certificate", CERT40, "-o", pdf,
	                      NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	int pages = pdf_pages(pdf);
	assert_true(pages >= 2);
	for (int p = 1; p <= pages; p++) {
		pdf_text(pdf, p, p, text, sizeof(text));
		assert_has(text, "DRAFT — not approved");
		assert_has(text, "BẢN NHÁP — chưa được phê duyệt");
	}
	pdf_text(pdf, 0, 0, text, sizeof(text));
	assert_has(text, "NOT APPROVED (draft)");
	assert_has(text, "CHƯA PHÊ DUYỆT");
	assert_has(text, "not issued (draft)");
	assert_null(strstr(text, AUTH));
	assert_null(strstr(text, "approved on"));
}

/* Units as people write them, the quantity beside the channel, and
 * every number whole on its line however long. */
static void units_quantities_and_whole_numbers(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], text[65536], id[16], out[4096];
	static const char *const want[] = {
	        "Ω",
	        "%RH",
	        "µV",
	        "µm",
	        "°F",
	        "kPa",
	        "Resistance",
	        "Điện trở",
	        "Relative",
	        "Độ ẩm",
	        "Voltage",
	        "Điện áp",
	        "Length",
	        "Chiều dài",
	        "Temperature",
	        "Pressure",
	        "Áp suất",
	        "furlong",
	        "shunt-1",
	        "100000.000001",
	        "100000.000101",
	        "0.000123",
	        "+0.0001",
	        "−0.2 … +0.3",
	};
	static const char *const unwanted[] = {"ohm", "%rh", "uV", "degF"};

	h_path(pdf, dir, "units.pdf");
	snprintf(id, sizeof(id), "%lld", (long long)num_id);
	const char *args[] = {"certificate", "--id", id, "-o", pdf, NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_has(text, want[i]);
	for (size_t i = 0; i < sizeof(unwanted) / sizeof(unwanted[0]); i++)
		if (strstr(text, unwanted[i]) != NULL)
			fail_msg("'%s' printed as typed:\n%s", unwanted[i],
			         text);
}

/* The demo's records (tools/demo-records.sh) on a database a real
 * metrologd made from config/demo.cfg: the approved certificate carries
 * every item of ISO/IEC 17025 7.8 (tools/check-certificate.sh) with the
 * values of the configuration and the record; the draft does not pass. */
static void demo_certificate_meets_iso17025(void **state)
{
	(void)state;
	static char cfg[16384], text[65536];
	char sub[H_PATH_MAX], path[H_PATH_MAX], db[H_PATH_MAX], log[H_PATH_MAX];
	char out[H_PATH_MAX], pdf[H_PATH_MAX], draft[H_PATH_MAX], want[64];
	ssize_t n;

	h_path(sub, dir, "demo");
	assert_int_equal(mkdir(sub, 0700), 0);
	h_path(db, sub, "demo.db");
	h_path(out, sub, "out");
	n = h_read_file(METROLOG_SOURCE_DIR "/config/demo.cfg", cfg,
	                sizeof(cfg) - H_PATH_MAX - 64);
	assert_true(n > 0);
	char *at = strstr(cfg, "database = \"demo.db\";");
	assert_non_null(at);
	char *rest = strdup(at + strlen("database = \"demo.db\";"));

	assert_non_null(rest);
	snprintf(at, sizeof(cfg) - (size_t)(at - cfg), "database = \"%s\";%s",
	         db, rest);
	free(rest);
	/* the logo from the source tree, as tools/demo.sh does */
	at = strstr(cfg, "logo = \"demo-logo.png\";");
	assert_non_null(at);
	rest = strdup(at + strlen("logo = \"demo-logo.png\";"));
	assert_non_null(rest);
	snprintf(at, sizeof(cfg) - (size_t)(at - cfg),
	         "logo = \"" METROLOG_SOURCE_DIR "/config/demo-logo.png\";%s",
	         rest);
	free(rest);
	h_path(path, sub, "demo.cfg");
	write_file(path, cfg);
	const char *gw_argv[] = {METROLOGD_BIN, "-c", path, NULL};
	pid_t gw = h_spawn(gw_argv, h_path(log, sub, "metrologd.log"), false);
	assert_true(gw > 0);
	assert_int_equal(h_wait_file(db, 60000), 0);
	for (int i = 0; i < 600 && db_try_int(db, "SELECT count(*) FROM "
	                                          "instruments") != 5;
	     i++)
		sleep_ms(100);
	assert_int_equal(db_try_int(db, "SELECT count(*) FROM lab"), 1);

	setenv("METROLOG", METROLOG_BIN, 1);
	const char *rec[] = {METROLOG_SOURCE_DIR "/tools/demo-records.sh", db,
	                     out, NULL};
	assert_int_equal(run(rec, false, text, sizeof(text)), 0);
	assert_int_equal(h_stop(gw, SIGTERM, 10000), 0);

	h_path(pdf, out, "certificate-DEMO-C-002.pdf");
	h_path(draft, out, "certificate-DEMO-C-001-draft.pdf");
	const char *check[] = {
	        METROLOG_SOURCE_DIR "/tools/check-certificate.sh", pdf, NULL};
	assert_int_equal(run(check, false, text, sizeof(text)), 0);
	assert_has(text, "ISO/IEC 17025:2017 7.8: 24 of 24 items present");
	const char *check_draft[] = {
	        METROLOG_SOURCE_DIR "/tools/check-certificate.sh", draft, NULL};
	assert_int_equal(run(check_draft, false, text, sizeof(text)), 1);
	assert_has(text, "final: not a draft                                "
	                 "         MISSING");

	/* the values: the configuration's lab and customer, the record's
	 * receipt, condition, specification, all as they were given */
	pdf_text(pdf, 0, 0, text, sizeof(text));
	assert_has(text, "8 Hoàng Quốc Việt, Cầu Giấy, Hà Nội");
	assert_has(text, "VILAS 999 (demo)");
	assert_has(text, "Công ty TNHH Cơ khí Việt A");
	assert_has(text, "25 Nguyễn Văn Linh, Hải Châu, Đà Nẵng");
	assert_has(text, "Ms. Phạm Thu Hà, +84 236 555 0101");
	assert_has(text, "Mã số khách hàng");
	assert_has(text, "Customer ID");
	assert_has(text, "0401234567");
	assert_has(text, "tốt, không hư hỏng / good, no visible damage");
	assert_has(text, "the customer's requirement");
	assert_has(text, "Trần Đức Minh");
	time_t received = time(NULL) - 22 * 86400;
	struct tm tm;
	localtime_r(&received, &tm); /* the lab's date (TZ, UTC0 in setup) */
	strftime(want, sizeof(want), "%Y-%m-%d", &tm);
	assert_has(text, want);
	assert_null(strstr(text, "(UTC)"));
	/* the lab's logo on every page of its certificate */
	const char *images[] = {"pdfimages", "-list", pdf, NULL};
	assert_int_equal(run(images, false, text, sizeof(text)), 0);
	int logos = 0, pages = 0;
	for (const char *l = text; l != NULL && *l; l = strchr(l, '\n')) {
		int page, num, w, h;
		char type[16];
		l += *l == '\n';
		if (sscanf(l, "%d %d %15s %d %d", &page, &num, type, &w, &h) ==
		            5 &&
		    strcmp(type, "image") == 0 && w == 96 && h == 96) {
			logos++;
			pages = page;
		}
	}
	assert_int_equal(logos, 3); /* the PDF's 3 pages, one each */
	assert_int_equal(pages, 3);

	/* a configured logo that cannot be read: refused, nothing written */
	db_exec(db, "UPDATE lab SET logo = '/nonexistent/logo.png'");
	h_path(pdf, out, "nologo.pdf");
	const char *nologo[] = {
	        METROLOG_BIN, "certificate", "-d", db,  "--certificate",
	        "DEMO-C-002", "-o",          pdf,  NULL};
	assert_int_equal(run(nologo, false, text, sizeof(text)), 1);
	assert_has(text, "image /nonexistent/logo.png: No such file or "
	                 "directory; nothing written");
	struct stat st;
	assert_int_not_equal(stat(pdf, &st), 0);
}

/* A text no installed font can draw (U+E000, private use: printable
 * UTF-8, so a record may hold it) would print as a box: the certificate
 * is refused, nothing written. */
static void unrenderable_text_writes_nothing(void **state)
{
	(void)state;
	char err[256], pdf[H_PATH_MAX], out[4096];
	struct store *st = store_open(g.db, err, sizeof(err));
	struct calib_record *r = malloc(sizeof(*r));

	assert_non_null(st);
	assert_non_null(r);
	base_record(r, "TB-01", "HC-GLYPH-1", (int64_t)time(NULL) * 1000000);
	cal_point(r, "nhiệt độ / temperature", "°C", 20, 20.01, NAN);
	snprintf(r->remarks, sizeof(r->remarks),
	         "Ký hiệu \xee\x80\x80 của khách hàng");
	cal_append(st, r);
	store_close(st);
	free(r);
	h_path(pdf, dir, "glyph.pdf");
	const char *args[] = {
	        "certificate", "--certificate", "HC-GLYPH-1", "-o", pdf, NULL};
	int rc = metrolog(args, out, sizeof(out));
	if (rc != 1) /* 99: valgrind's report, in out */
		fail_msg("exit status %d, expected 1:\n%s", rc, out);
	assert_has(out, "text holds a character no installed font can draw "
	                "(\"Ký hiệu \xee\x80\x80 của khách hàng\")");
	assert_nothing_named("glyph.");
}

static void certificate_refuses_clearly(void **state)
{
	(void)state;
	char pdf[H_PATH_MAX], out[4096], id[16];

	h_path(pdf, dir, "bad.pdf");
	const char *unknown[] = {"certificate", "--id", "999", "-o", pdf, NULL};
	assert_int_equal(metrolog(unknown, out, sizeof(out)), 1);
	assert_has(out, "no calibration record 999");
	const char *nocert[] = {
	        "certificate", "--certificate", "NOPE-1", "-o", pdf, NULL};
	assert_int_equal(metrolog(nocert, out, sizeof(out)), 1);
	assert_has(out, "'NOPE-1'");
	snprintf(id, sizeof(id), "%lld", (long long)rec_id);
	const char *no_out[] = {"certificate", "--id", id, NULL};
	assert_int_equal(metrolog(no_out, out, sizeof(out)), 2);
	assert_has(out, "-o FILE.pdf");
	const char *both[] = {"certificate", "--id", id,  "--certificate",
	                      CERT,          "-o",   pdf, NULL};
	assert_int_equal(metrolog(both, out, sizeof(out)), 2);
	const char *neither[] = {"certificate", "-o", pdf, NULL};
	assert_int_equal(metrolog(neither, out, sizeof(out)), 2);
	const char *lang[] = {"certificate", "--id", id,  "--lang",
	                      "fr",          "-o",   pdf, NULL};
	assert_int_equal(metrolog(lang, out, sizeof(out)), 2);
	const char *badid[] = {"certificate", "--id", "x1", "-o", pdf, NULL};
	assert_int_equal(metrolog(badid, out, sizeof(out)), 2);
	char txt[H_PATH_MAX];
	h_path(txt, dir, "bad.txt");
	const char *ext[] = {"certificate", "--id", id, "-o", txt, NULL};
	assert_int_equal(metrolog(ext, out, sizeof(out)), 2);
	/* a directory that does not exist: nothing written, exit 1 */
	char nodir[H_PATH_MAX];
	h_path(nodir, dir, "no/such/dir.pdf");
	const char *where[] = {"certificate", "--id", id, "-o", nodir, NULL};
	assert_int_equal(metrolog(where, out, sizeof(out)), 1);
	/* a database that does not exist */
	const char *nodb[] = {METROLOG_BIN, "certificate",
	                      "-d",         "/nonexistent.db",
	                      "--id",       id,
	                      "-o",         pdf,
	                      NULL};
	assert_int_equal(run(nodb, true, out, sizeof(out)), 1);
	assert_nothing_named("bad.");
	assert_false(exists(nodir));
}

/* ---- trend ------------------------------------------------------------- */

static void trend_svg_is_xml_with_limits(void **state)
{
	(void)state;
	char svg[H_PATH_MAX], out[4096], root[64];

	h_path(svg, dir, "trend.svg");
	const char *args[] = {"trend", "TB-01/c0", "--from", "-90d",
	                      "-o",    svg,        NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	char *text = slurp(svg, NULL);
	xml_check(text, root, sizeof(root));
	assert_string_equal(root, "svg");
	assert_has(text, "<title>Trend of TB-01/c0: error (degC) over time");
	assert_has(text, "tolerance limits: lower -0.5 degC, upper 0.5 degC");
	assert_has(text, "guard-band limits: lower -0.4375 degC, upper 0.4375");
	/* drifting at 0.05 degC/s: a crossing within seconds */
	assert_has(text, "predicted crossing");
	assert_has(text, "calibration " CERT " on");
	assert_has(text, "calibration " CERT_OLD " on");
	free(text);
}

static void trend_png_has_the_size_asked(void **state)
{
	(void)state;
	char png[H_PATH_MAX], out[4096];
	unsigned w, h;
	size_t len;

	h_path(png, dir, "trend.png");
	const char *args[] = {"trend", "TB-01/c0", "-o",  png, "--width",
	                      "800",   "--height", "500", NULL};
	assert_int_equal(metrolog(args, out, sizeof(out)), 0);
	png_size(png, &w, &h, &len);
	assert_int_equal(w, 800);
	assert_int_equal(h, 500);
	assert_true(len > 5000);
	/* the comparison channel: error against c1 at the same poll */
	h_path(png, dir, "trend-c2.png");
	const char *cmp[] = {"trend", "TB-01/c2", "-o", png, NULL};
	assert_int_equal(metrolog(cmp, out, sizeof(out)), 0);
	png_size(png, &w, &h, &len);
	assert_int_equal(w, 1200);
	assert_int_equal(h, 600);
}

static void trend_refuses_clearly(void **state)
{
	(void)state;
	char f[H_PATH_MAX], out[4096];

	h_path(f, dir, "badtrend.svg");
	const char *nochan[] = {"trend", "TB-01/nope", "-o", f, NULL};
	assert_int_equal(metrolog(nochan, out, sizeof(out)), 1);
	assert_has(out, "no channel TB-01/nope");
	const char *noinst[] = {"trend", "XX-99/c0", "-o", f, NULL};
	assert_int_equal(metrolog(noinst, out, sizeof(out)), 1);
	const char *notol[] = {"trend", "TB-01/c1", "-o", f, NULL};
	assert_int_equal(metrolog(notol, out, sizeof(out)), 1);
	assert_has(out, "has no tolerance");
	const char *empty[] = {"trend", "TB-01/c0", "--from", "2099-01-01",
	                       "-o",    f,          NULL};
	assert_int_equal(metrolog(empty, out, sizeof(out)), 1);
	assert_has(out, "no good readings");
	const char *noslash[] = {"trend", "TB-01", "-o", f, NULL};
	assert_int_equal(metrolog(noslash, out, sizeof(out)), 2);
	const char *jpg[] = {"trend", "TB-01/c0", "-o", "x.jpg", NULL};
	assert_int_equal(metrolog(jpg, out, sizeof(out)), 2);
	const char *width[] = {"trend",   "TB-01/c0", "-o", f,
	                       "--width", "5",        NULL};
	assert_int_equal(metrolog(width, out, sizeof(out)), 2);
	const char *when[] = {"trend",  "TB-01/c0",  "-o", f,
	                      "--from", "yesterday", NULL};
	assert_int_equal(metrolog(when, out, sizeof(out)), 2);
	assert_nothing_named("badtrend.");
}

/* ---- the lab's time ----------------------------------------------------- */

/* A zone by its tz database name when /usr/share/zoneinfo has it, else
 * the equivalent POSIX rule. */
static const char *zone(const char *name, const char *posix)
{
	char path[128];

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	return access(path, R_OK) == 0 ? name : posix;
}

/* metrolog in the zone TZ=tz (UTC0 again after). */
static int metrolog_tz(const char *tz, const char *const args[], char *out,
                       size_t size)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	int code = metrolog(args, out, size);
	assert_int_equal(setenv("TZ", "UTC0", 1), 0);
	return code;
}

/* A record calibrated at 00:00 on 2025-12-01 in Vietnam (2025-11-30T17:00Z),
 * received on 2025-11-30 there (2025-11-29T17:30Z), approved now: in a lab
 * in Vietnam its certificate carries Vietnam's dates, in a lab on UTC
 * UTC's; nowhere "(UTC)". The trend picture labels its axis with the
 * zone and states its times with their offset. Runs last: the record
 * becomes TB-01's latest. */
static void certificate_dates_are_the_labs(void **state)
{
	(void)state;
	const char *vn = zone("Asia/Ho_Chi_Minh", "<+07>-7");
	char pdf[H_PATH_MAX], svg[H_PATH_MAX], err[256], id[16], line[512];
	char text[65536], out[4096], approved[UTC_DATE_SIZE], on[64];
	struct calib_record *r = malloc(sizeof(*r));
	struct store *st = store_open(g.db, err, sizeof(err));
	struct calib_approval ap;
	int64_t performed, received;

	assert_non_null(r);
	if (st == NULL)
		fail_msg("%s", err);
	assert_int_equal(
	        utc_parse("2025-11-30T17:00:00Z", UTC_ABSOLUTE, 0, &performed),
	        0);
	assert_int_equal(
	        utc_parse("2025-11-29T17:30:00Z", UTC_ABSOLUTE, 0, &received),
	        0);
	base_record(r, "TB-01", CERT_TZ, performed);
	r->received_us = received;
	cal_point(r, "nhiệt độ / temperature", "°C", 20, 20.1, NAN);
	cal_append(st, r);
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	if (store_cal_approve(st, CERT_TZ, AUTH, ROLE, &ap) != 0)
		fail_msg("approve: %s", store_last_message(st));
	store_close(st);
	free(r);
	/* the approval's date in Vietnam, UTC+07:00 all year */
	utc_format_date(ap.approved_us + 7 * 3600 * 1000000LL, approved,
	                sizeof(approved));

	h_path(pdf, dir, "cert-vn.pdf");
	const char *args[] = {"certificate", "--id", id, "-o", pdf, NULL};
	assert_int_equal(metrolog_tz(vn, args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	line_of(text, "Ngày hiệu chuẩn", line, sizeof(line));
	assert_has(line, "2025-12-01");
	line_of(text, "Ngày nhận", line, sizeof(line));
	assert_has(line, "2025-11-30");
	line_of(text, "Ngày ban hành", line, sizeof(line));
	assert_has(line, approved);
	snprintf(on, sizeof(on), "approved on %s", approved);
	assert_has(text, on);
	assert_null(strstr(text, "2025-11-29"));
	assert_null(strstr(text, "(UTC)"));

	/* the same record in a lab on UTC */
	h_path(pdf, dir, "cert-utc.pdf");
	assert_int_equal(metrolog_tz("UTC0", args, out, sizeof(out)), 0);
	pdf_text(pdf, 0, 0, text, sizeof(text));
	line_of(text, "Ngày hiệu chuẩn", line, sizeof(line));
	assert_has(line, "2025-11-30");
	line_of(text, "Ngày nhận", line, sizeof(line));
	assert_has(line, "2025-11-29");

	/* the trend picture: its description states local times with their
	 * offset (the axis's labels are drawn as glyphs, not text) */
	h_path(svg, dir, "trend-vn.svg");
	const char *trend[] = {"trend", "TB-01/c0", "-o", svg, NULL};
	assert_int_equal(metrolog_tz(vn, trend, out, sizeof(out)), 0);
	char *s = slurp(svg, NULL);
	assert_has(s, "+07:00 to ");
	assert_has(s, "calibration " CERT_TZ " on 2025-12-01");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(certificate_has_every_field),
	        cmocka_unit_test(forty_points_make_pages_each_numbered),
	        cmocka_unit_test(overdue_standard_is_flagged),
	        cmocka_unit_test(as_left_covers_every_point),
	        cmocka_unit_test(no_statement_when_none_can_be_made),
	        cmocka_unit_test(old_record_is_flagged),
	        cmocka_unit_test(english_only),
	        cmocka_unit_test(draft_marked_on_every_page),
	        cmocka_unit_test(units_quantities_and_whole_numbers),
	        cmocka_unit_test(demo_certificate_meets_iso17025),
	        cmocka_unit_test(certificate_refuses_clearly),
	        cmocka_unit_test(unrenderable_text_writes_nothing),
	        cmocka_unit_test(trend_svg_is_xml_with_limits),
	        cmocka_unit_test(trend_png_has_the_size_asked),
	        cmocka_unit_test(trend_refuses_clearly),
	        cmocka_unit_test(certificate_dates_are_the_labs),
	};
	return cmocka_run_group_tests(tests, setup, h_teardown);
}
