/*
 * test_records.c - the read-only database subcommands of `metrolog`
 * (instruments, channels, due, readings, events, report, and the
 * calibrations listing) on a database filled by a real metrologd polling
 * the real simulator; and, for every subcommand, the command-line
 * framework's promises: every listing in every format, one line and exit 2
 * for an unknown option.
 *
 * The setup runs metrologd against metrolog-sim until every channel has
 * 20 readings and every state the tests read is known (three
 * instruments: TB-01 with tolerance groups, one channel out of tolerance
 * and one compared with another channel; TB-02 with a unit full of commas
 * and quotes; TB-03 on a unit id the simulator does not serve, so its
 * readings are not good), stops it, then, from this process, appends
 * calibration records with the store API (TB-01 overdue, TB-02 due soon,
 * TB-03 and STD-1 ok, STD-2 never calibrated but named as a standard) and
 * puts 500 older readings of TB-01/c0 in readings_archive (the gateway's
 * few seconds stay in readings_recent), so that exports read both tables.
 * Then it snapshots the database file and its WAL: the last test checks
 * that no subcommand changed a byte.
 *
 * Every figure is checked against the database read with plain SQL; the
 * PDF report is read back with poppler's pdftoppm (it renders) and
 * pdftotext (its text agrees with the CSV report).
 * Threading: one thread; metrologd, the simulator and metrolog are child
 * processes of the harness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calib.h"
#include "caltest.h"
#include "config_load.h"
#include "gwtest.h"
#include "harness.h"
#include "query.h"
#include "store.h"
#include "utc.h"

#define DAY_US   86400000000LL
#define OUT_SIZE (4 << 20)
#define ARCHIVED 500

static struct gw g;
static char *out;    /* OUT_SIZE: the last command's output */
static int64_t now0; /* when the calibrations were appended */
static char *snap_db, *snap_wal;
static ssize_t snap_db_len, snap_wal_len;

/* ---- helpers ------------------------------------------------------------ */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Run metrolog with args and -d db; stdout and stderr into out.
 * Returns the exit status. */
static int metrolog_on(const char *db, const char *const args[])
{
	const char *argv[40] = {METROLOG_BIN};
	char log[H_PATH_MAX], name[32];
	static int n;
	int i = 0;

	for (; args[i] != NULL && i < 34; i++)
		argv[i + 1] = args[i];
	argv[++i] = "-d";
	argv[++i] = db;
	argv[i + 1] = NULL;
	snprintf(name, sizeof(name), "metrolog-%d.log", n++);
	/* 180 s: valgrind, and Pango and fontconfig for a PDF */
	int code = h_run(argv, h_path(log, g.dir, name), true, 180000);
	assert_true(h_read_file(log, out, OUT_SIZE) >= 0);
	assert_true(code >= 0);
	return code;
}

/* A database NAME.db in the tests' directory (its path into db, H_PATH_MAX
 * bytes) as metrologd makes it from a configuration of site "s", bus "b"
 * and rest (instruments, lab...): open, for the test to add records. */
static struct store *config_db(const char *name, const char *rest, char *db)
{
	char path[H_PATH_MAX], file[H_PATH_MAX + 16], err[256];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	snprintf(file, sizeof(file), "%s.db", name);
	h_path(db, g.dir, file);
	fprintf(f,
	        "site = \"s\";\ndatabase = \"%s\";\n"
	        "buses = ( { name = \"b\"; type = \"tcp\"; host = "
	        "\"localhost\"; port = 502; } );\n%s",
	        db, rest);
	assert_int_equal(fclose(f), 0);
	snprintf(file, sizeof(file), "%s.cfg", name);
	write_file(h_path(path, g.dir, file), text);
	free(text);
	struct config *c = config_load(path, stderr);
	assert_non_null(c);
	struct store *st = store_open(db, err, sizeof(err));
	if (st == NULL)
		fail_msg("%s", err);
	assert_int_equal(store_sync_config(st, c), 0);
	config_free(c);
	return st;
}

/* metrolog on the database of the tests (g.db). */
static int metrolog(const char *const args[])
{
	return metrolog_on(g.db, args);
}

/* A zone by its tz database name when /usr/share/zoneinfo has it, else
 * the equivalent POSIX rule (the test does not need tzdata). */
static const char *zone(const char *name, const char *posix)
{
	char path[128];

	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	return access(path, R_OK) == 0 ? name : posix;
}

#define VIETNAM zone("Asia/Ho_Chi_Minh", "<+07>-7")
#define BERLIN  zone("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3")

/* metrolog_on in the zone TZ=tz, or without TZ when tz is NULL (the
 * test's own TZ restored after). */
static int metrolog_tz(const char *tz, const char *db, const char *const args[])
{
	const char *was = getenv("TZ");
	char *old = was != NULL ? strdup(was) : NULL;

	if (tz != NULL)
		assert_int_equal(setenv("TZ", tz, 1), 0);
	else
		assert_int_equal(unsetenv("TZ"), 0);
	int code = metrolog_on(db, args);
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
	return code;
}

/* The oracle of a printed local time: the second of us on the clock of
 * zone tz as the C library gives it (localtime_r), and its offset,
 * "2026-12-05T21:00:00+07:00" ("Z" for 0); wall: the same without the
 * offset ("2026-12-05T21:00:00"). */
static void local_iso(const char *tz, int64_t us, char *buf, size_t size,
                      char *wall, size_t wsize)
{
	const char *was = getenv("TZ");
	char *old = was != NULL ? strdup(was) : NULL;
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
	assert_non_null(localtime_r(&t, &tm));
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
	long off = (long)((utc_days_from_civil(tm.tm_year + 1900L,
	                                       tm.tm_mon + 1, tm.tm_mday) *
	                           86400 +
	                   tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) -
	                  (int64_t)t);
	assert_int_equal(strftime(wall, wsize, "%Y-%m-%dT%H:%M:%S", &tm), 19);
	if (off == 0)
		snprintf(buf, size, "%sZ", wall);
	else
		snprintf(buf, size, "%s%c%02ld:%02ld", wall,
		         off < 0 ? '-' : '+', labs(off) / 3600,
		         labs(off) / 60 % 60);
}

static void read_into(const char *path, char *buf)
{
	assert_true(h_read_file(path, buf, OUT_SIZE) >= 0);
}

/* The whole file, or NULL with *len -1 when it does not exist. */
static char *slurp(const char *path, ssize_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	*len = -1;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

static void must_say(const char *text)
{
	if (strstr(out, text) == NULL)
		fail_msg("'%s' not in:\n%s", text, out);
}

/* got is a reading's value as metrolog prints it: the shortest decimal
 * that reads back as stored, as a float32 when the channel is one
 * (single) and stored is exactly a float32 (what the gateway stores of
 * one), as a double otherwise. So 19.99993, not 19.999929428100586;
 * 20.333333333333332 in full. Checked as: it reads back, and no "%.*g"
 * with fewer significant digits does. */
static void want_value(const char *got, double stored, bool single)
{
	bool as_float = single && (double)(float)stored == stored;
	char digits[64], shorter[400];
	int n = 0, first = 0;
	const char *p;

	if (as_float ? strtof(got, NULL) != (float)stored
	             : strtod(got, NULL) != stored)
		fail_msg("value %.17g: printed '%s', which does not read back",
		         stored, got);
	for (p = got; *p != '\0' && *p != 'e' && *p != 'E'; p++)
		if (*p >= '0' && *p <= '9' && n < 63)
			digits[n++] = *p;
	while (first < n && digits[first] == '0')
		first++;
	while (n > first && digits[n - 1] == '0')
		n--;
	if (n - first <= 1)
		return;
	snprintf(shorter, sizeof(shorter), "%.*g", n - first - 1, stored);
	if (as_float ? strtof(shorter, NULL) == (float)stored
	             : strtod(shorter, NULL) == stored)
		fail_msg("value %.17g (%s): printed '%s', but '%s' reads back",
		         stored, as_float ? "float32" : "double", got, shorter);
}

/* The current month, "YYYY-MM" (the lab's: TZ, UTC0 in these tests). */
static void this_month(char *buf, size_t size)
{
	time_t t = (time_t)(now_us() / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m", &tm);
}

/* Append text to the environment variable name (after sep), once. */
static void env_append(const char *name, const char *sep, const char *text)
{
	const char *v = getenv(name);
	char buf[2048];

	if (v != NULL && strstr(v, text) != NULL)
		return;
	snprintf(buf, sizeof(buf), "%s%s%s", v ? v : "", v ? sep : "", text);
	setenv(name, buf, 1);
}

/* ---- a small RFC 4180 reader ------------------------------------------ */

struct csv {
	char *p; /* next unread character */
	char field[32][256];
	int n;
};

/* The next record into c->field; 0 at the end. Fails on a record not
 * ended by CRLF or a bare quote. */
static int csv_next(struct csv *c)
{
	if (*c->p == '\0')
		return 0;
	c->n = 0;
	for (;;) {
		char *f = c->field[c->n++];
		size_t k = 0;
		assert_true(c->n <= 32);
		if (*c->p == '"') {
			for (c->p++;; c->p++) {
				assert_true(*c->p != '\0');
				if (*c->p == '"' && c->p[1] != '"')
					break;
				if (*c->p == '"')
					c->p++;
				f[k++] = *c->p;
			}
			c->p++;
		} else {
			while (*c->p != ',' && *c->p != '\r' && *c->p != '\0') {
				assert_true(*c->p != '"' && *c->p != '\n');
				f[k++] = *c->p++;
			}
		}
		f[k] = '\0';
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p[0] != '\r' || c->p[1] != '\n')
			fail_msg("record not ended by CRLF at: %.40s", c->p);
		c->p += 2;
		return 1;
	}
}

/* The index of column name in the header record. */
static int col(const struct csv *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->field[i], name) == 0)
			return i;
	fail_msg("no column %s", name);
	return -1;
}

/* ---- the database ------------------------------------------------------- */

static void config(int port)
{
	char bus[256], insts[8192];

	tcp_bus(bus, sizeof(bus), "tcp-1", port, 300);
	snprintf(insts, sizeof(insts),
	         "{ id = \"TB-01\"; bus = \"tcp-1\"; unit_id = 1; "
	         "interval_ms = 50; owner = \"ACME\"; model = \"PT100\"; "
	         "calibration_interval_days = 365; due_soon_days = 30; "
	         "channels = ("
	         "{ name = \"c0\"; table = \"input\"; address = 0; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference = 20; limit = 0.5; consecutive = 3; }; },"
	         "{ name = \"c1\"; table = \"input\"; address = 2; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference = 20; limit = 0.5; consecutive = 3; }; },"
	         "{ name = \"c2\"; table = \"input\"; address = 4; "
	         "type = \"float32\"; unit = \"degC\"; tolerance = { "
	         "reference_channel = \"c0\"; limit = 5; }; }); },"
	         "{ id = \"TB-02\"; bus = \"tcp-1\"; unit_id = 2; "
	         "interval_ms = 50; owner = \"LAB\"; "
	         "calibration_interval_days = 180; due_soon_days = 30; "
	         "channels = ({ name = \"p\"; table = \"input\"; address = 0; "
	         "type = \"float32\"; unit = \"kPa, \\\"abs\\\"\"; }); },"
	         "{ id = \"TB-03\"; bus = \"tcp-1\"; unit_id = 9; "
	         "interval_ms = 50; owner = \"LAB\"; "
	         "calibration_interval_days = 365; "
	         "channels = ({ name = \"x\"; table = \"input\"; address = 0; "
	         "type = \"float32\"; }); }");
	gw_config(&g, bus, insts,
	          "standards = ( { id = \"STD-1\"; owner = \"LAB\"; "
	          "calibration_interval_days = 365; },"
	          "{ id = \"STD-2\"; owner = \"LAB\"; "
	          "calibration_interval_days = 365; } );");
}

/* reason: why standard may be used though not in calibration, or "" */
static void calibrate(struct store *st, const char *inst, const char *cert,
                      const char *standard, const char *reason,
                      int64_t performed, int interval)
{
	struct calib_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	cal_record(r, inst, cert, "A. Tester", performed);
	snprintf(r->standard, sizeof(r->standard), "%s", standard);
	snprintf(r->standard_reason, sizeof(r->standard_reason), "%s", reason);
	r->interval_days = interval;
	cal_point(r, "temperature", "degC", 20, 20.01, NAN);
	cal_append(st, r);
	free(r);
}

static void add_calibrations(void)
{
	char err[512];
	struct store *st = store_open(g.db, err, sizeof(err));

	if (st == NULL)
		fail_msg("%s", err);
	now0 = now_us();
	calibrate(st, "STD-1", "S1-2026", "", "", now0 - 100 * DAY_US, 0);
	calibrate(st, "TB-01", "C-101", "STD-1", "not yet calibrated",
	          now0 - 400 * DAY_US, 0);
	calibrate(st, "TB-02", "C-102", "STD-2", "never calibrated",
	          now0 - 170 * DAY_US, 0);
	calibrate(st, "TB-03", "C-103", "STD-1", "", now0 - 1000000, 0);
	store_close(st);
}

/* 500 older readings of TB-01/c0 straight into the archive (one block,
 * encoded by the archive's own archive_encode()), every 7th not good: the
 * export must merge both tables. */
static void add_archived(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long ch = db_int(g.db, "SELECT c.id FROM channels c JOIN "
	                            "instruments i ON i.id = c.instrument_id "
	                            "WHERE i.name = 'TB-01' AND c.name = 'c0'");
	long long first = db_int(g.db, "SELECT min(ts) FROM readings");

	assert_int_equal(store_archive_auto(), 0);
	assert_int_equal(sqlite3_open(g.db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE TEMP TABLE a (channel, ts, value,"
	                              " quality)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "INSERT INTO a "
	                                    "VALUES (?1, ?2, ?3, ?4)",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	for (int i = 0; i < ARCHIVED; i++) {
		sqlite3_bind_int64(s, 1, ch);
		sqlite3_bind_int64(s, 2, first - (ARCHIVED - i) * 1000003LL);
		if (i % 7 == 3) {
			sqlite3_bind_null(s, 3);
			sqlite3_bind_int(s, 4, 1);
		} else {
			sqlite3_bind_double(s, 3, 20 + i / 3.0);
			sqlite3_bind_int(s, 4, 0);
		}
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	assert_int_equal(
	        sqlite3_exec(db,
	                     "INSERT INTO archive_blocks (channel, ts_first,"
	                     " ts_last, n, data) SELECT channel,"
	                     " min(ts), max(ts), count(*),"
	                     " archive_encode(ts, value, quality) FROM a"
	                     " GROUP BY channel",
	                     NULL, NULL, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int setup(void **state)
{
	(void)state;
	const char *extra[] = {"-n", "2", "-m", "3", NULL};
	const char *wrapper = getenv("METROLOG_TEST_WRAPPER");
	struct h_sim sim;

	/* the PDF report: fontconfig, under Pango, loses a block of its own
	 * once per process (fontconfig.supp); what remains is ours */
	if (wrapper != NULL && strstr(wrapper, "valgrind") != NULL)
		env_append("METROLOG_TEST_WRAPPER", " ",
		           "--suppressions=" METROLOG_SUPP_DIR
		           "/fontconfig.supp");
	env_append("LSAN_OPTIONS", ":",
	           "suppressions=" METROLOG_SUPP_DIR "/fontconfig.lsan");
	/* the lab of these tests is on UTC unless a test says otherwise: the
	 * figures compared with plain SQL (dates, months) are UTC's */
	setenv("TZ", "UTC0", 1);
	tzset();
	out = malloc(OUT_SIZE);
	gw_init(&g, h_tmpdir());
	if (out == NULL || h_sim_start(&sim, g.dir, true, false, extra) < 0)
		return -1;
	config(sim.port);
	gw_start(&g);
	/* until what the tests read is there (not a guessed time: a loaded
	 * machine or valgrind only makes it later): 20 readings of every
	 * channel, each instrument's link event (TB-03: failing), and each
	 * tolerance channel's first state */
	if (!gw_wait_sql(
	            &g,
	            "SELECT (SELECT min(n) FROM (SELECT count(r.ts) AS n "
	            "FROM channels c LEFT JOIN readings r ON r.channel = "
	            "c.id GROUP BY c.id)) >= 20 AND (SELECT count(DISTINCT "
	            "instrument_id) FROM events WHERE kind IN ('online', "
	            "'failing')) = 3 AND (SELECT count(DISTINCT channel_id) "
	            "FROM events WHERE kind = 'tolerance') = 3",
	            120000))
		return -1;
	if (gw_stop(&g) != 0 || h_sim_stop(&sim) != 0)
		return -1;
	add_archived();
	add_calibrations();
	snap_db = slurp(g.db, &snap_db_len);
	snap_wal = slurp(strcat(strcpy(out, g.db), "-wal"), &snap_wal_len);
	return snap_db != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	h_cleanup();
	free(out);
	free(snap_db);
	free(snap_wal);
	return 0;
}

/* ---- instruments -------------------------------------------------------- */

/* What the database says of instrument name: its last link event and its
 * newest reading, formatted as metrolog prints them. */
static void live(const char *name, char *link, char *last)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "SELECT e.kind FROM events e JOIN instruments i ON i.id = "
	         "e.instrument_id WHERE i.name = '%s' AND e.kind IN ('online', "
	         "'failing', 'offline') ORDER BY e.ts DESC, e.id DESC LIMIT 1",
	         name);
	db_text(g.db, sql, link, 16);
	snprintf(sql, sizeof(sql),
	         "SELECT strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', max(r.ts) / "
	         "1000000, 'unixepoch') FROM readings r JOIN channels c ON "
	         "c.id = r.channel JOIN instruments i ON i.id = "
	         "c.instrument_id WHERE i.name = '%s'",
	         name);
	db_text(g.db, sql, last, 32);
}

static void instruments_show_calibration_and_live_state(void **state)
{
	(void)state;
	static const struct {
		const char *name, *kind, *owner, *due, *cert, *used, *alert;
	} want[] = {
	        {"STD-1", "standard", "LAB", "ok", "S1-2026", "true", ""},
	        {"STD-2", "standard", "LAB", "none", "", "true",
	         "reference never calibrated"},
	        {"TB-01", "instrument", "ACME", "overdue", "C-101", "true",
	         "reference overdue"},
	        {"TB-02", "instrument", "LAB", "due_soon", "C-102", "false",
	         ""},
	        {"TB-03", "instrument", "LAB", "ok", "C-103", "false", ""},
	};
	const char *args[] = {"instruments", "--format", "csv", NULL};
	struct csv c = {.p = out};
	char link[16], last[32];

	assert_int_equal(metrolog(args), 0);
	assert_int_equal(csv_next(&c), 1);
	struct csv h = c;
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(csv_next(&c), 1);
		assert_string_equal(c.field[col(&h, "instrument")],
		                    want[i].name);
		assert_string_equal(c.field[col(&h, "kind")], want[i].kind);
		assert_string_equal(c.field[col(&h, "owner")], want[i].owner);
		assert_string_equal(c.field[col(&h, "due_state")], want[i].due);
		assert_string_equal(c.field[col(&h, "certificate")],
		                    want[i].cert);
		assert_string_equal(c.field[col(&h, "used_as_reference")],
		                    want[i].used);
		assert_string_equal(c.field[col(&h, "alert")], want[i].alert);
		assert_string_equal(c.field[col(&h, "active")], "true");
		live(want[i].name, link, last);
		assert_string_equal(c.field[col(&h, "link")], link);
		assert_string_equal(c.field[col(&h, "last_reading")], last);
	}
	assert_int_equal(csv_next(&c), 0);
	/* the polled ones have a link state and readings, standards none */
	live("TB-01", link, last);
	assert_string_equal(link, "online");
	assert_true(last[0] != '\0');
}

static void instruments_as_json_and_by_owner(void **state)
{
	(void)state;
	const char *json[] = {"instruments", "--format", "json", NULL};
	const char *acme[] = {"instruments", "--owner", "ACME",
	                      "--format",    "csv",     NULL};
	struct csv c = {.p = out};

	assert_int_equal(metrolog(json), 0);
	cJSON *a = cJSON_Parse(out);
	assert_non_null(a);
	assert_int_equal(cJSON_GetArraySize(a), 5);
	cJSON *tb1 = cJSON_GetArrayItem(a, 2);
	assert_string_equal(cJSON_GetObjectItem(tb1, "instrument")->valuestring,
	                    "TB-01");
	assert_true(
	        cJSON_IsTrue(cJSON_GetObjectItem(tb1, "used_as_reference")));
	assert_string_equal(cJSON_GetObjectItem(tb1, "model")->valuestring,
	                    "PT100");
	cJSON_Delete(a);

	assert_int_equal(metrolog(acme), 0);
	assert_int_equal(csv_next(&c), 1);
	assert_int_equal(csv_next(&c), 1);
	assert_string_equal(c.field[0], "TB-01");
	assert_int_equal(csv_next(&c), 0);
}

/* The columns a terminal gives UTF-8 s (n bytes), counted here on their
 * own: one a character, none for a combining mark of U+0300..U+036F
 * (bytes CC 80..CD AF). Enough for the names of these tests. */
static size_t columns(const char *s, size_t n)
{
	const unsigned char *b = (const unsigned char *)s;
	size_t c = 0;

	for (size_t i = 0; i < n; i++) {
		if ((b[i] & 0xC0) == 0x80)
			continue; /* inside a character */
		if (b[i] == 0xCC ||
		    (b[i] == 0xCD && i + 1 < n && b[i + 1] <= 0xAF))
			continue; /* a combining mark */
		c++;
	}
	return c;
}

/* The text listing in out (args with --format text) is the CSV listing
 * (args with --format csv) laid out in columns: each line's fields start
 * at the same terminal column, each column as wide as its widest field or
 * name (an empty field shown as "-"), one space between, the last column
 * not padded. */
static void text_is_csv_in_columns(const char *db, const char *const *args)
{
	static char rows[64][32][256];
	static char text[OUT_SIZE], line[8192];
	size_t width[32] = {0};
	struct csv c = {.p = out};
	int n = 0, ncols = 0;

	const char *argv[16];
	int k = 0;
	for (; args[k] != NULL; k++)
		argv[k] = args[k];
	argv[k] = "--format";
	argv[k + 1] = "csv";
	argv[k + 2] = NULL;
	assert_int_equal(metrolog_on(db, argv), 0);
	while (csv_next(&c) == 1) {
		assert_true(n < 64);
		ncols = c.n;
		for (int i = 0; i < c.n; i++) {
			const char *f = c.field[i][0] ? c.field[i] : "-";
			snprintf(rows[n][i], sizeof(rows[n][i]), "%s", f);
			size_t w = columns(f, strlen(f));
			width[i] = w > width[i] ? w : width[i];
		}
		n++;
	}
	argv[k + 1] = "text";
	assert_int_equal(metrolog_on(db, argv), 0);
	snprintf(text, sizeof(text), "%s", out);
	char *p = text;
	for (int r = 0; r < n; r++) {
		size_t len = 0, at = 0;
		for (int i = 0; i < ncols; i++) {
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			                        "%s", rows[r][i]);
			at += width[i] + 1;
			size_t now = columns(line, len);
			while (i + 1 < ncols && now++ < at)
				line[len++] = ' ';
			line[len] = '\0';
		}
		char *nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (strcmp(p, line) != 0)
			fail_msg("%s, line %d:\n got '%s'\nwant '%s'", args[0],
			         r + 1, p, line);
		p = nl + 1;
	}
	assert_string_equal(p, ""); /* no more lines */
}

/* A database of its own whose owner, model and location are long
 * Vietnamese names, precomposed and with combining marks: `instruments`
 * as text keeps its columns aligned on terminal columns, each as wide as
 * its content; so do the other listings of the tests' database. */
static void text_columns_fit_their_content(void **state)
{
	(void)state;
	char db[H_PATH_MAX], text[4096];
	/* "Công ty TNHH Đo lường Chất lượng Sài Gòn", precomposed */
	static const char owner[] =
	        "C\xC3\xB4ng ty TNHH \xC4\x90o l\xC6\xB0\xE1\xBB\x9Dng "
	        "Ch\xE1\xBA\xA5t l\xC6\xB0\xE1\xBB\xA3ng S\xC3\xA0i "
	        "G\xC3\xB2n";
	/* "Nhiệt kế điện trở bạch kim chuẩn", with combining marks */
	static const char model[] =
	        "Nhie\xCC\xA3\xCC\x82t ke\xCC\x82\xCC\x81 \xC4\x91ie\xCC\x82"
	        "\xCC\xA3n tro\xCC\x9B\xCC\x89 ba\xCC\xA3"
	        "ch kim chua\xCC\x82\xCC\x89n";
	const char *insts[] = {"instruments", NULL};

	snprintf(text, sizeof(text),
	         "instruments = ( { id = \"VN-NHIET-KE-01\"; bus = \"b\"; "
	         "unit_id = 1; interval_ms = 1000; owner = \"%s\"; "
	         "model = \"%s\"; location = \"Ph\xC3\xB2ng 2\"; "
	         "channels = ( { name = \"x\"; table = \"input\"; "
	         "address = 0; type = \"uint16\"; } ); },\n"
	         "{ id = \"T2\"; bus = \"b\"; unit_id = 2; interval_ms = 1000; "
	         "channels = ( { name = \"x\"; table = \"input\"; "
	         "address = 0; type = \"uint16\"; } ); } );\n",
	         owner, model);
	struct store *st = config_db("vn", text, db);
	store_close(st);

	const char *argv[] = {"instruments", "--format", "text", NULL};
	assert_int_equal(metrolog_on(db, argv), 0);
	must_say(owner);
	must_say(model);
	/* the same, checked field by field against its CSV: every column as
	 * wide as its content (not the fixed 240-column lines of before) */
	text_is_csv_in_columns(db, insts);

	const char *channels[] = {"channels", NULL};
	const char *due[] = {"due", "--within", "400", NULL};
	text_is_csv_in_columns(g.db, insts);
	text_is_csv_in_columns(g.db, channels);
	text_is_csv_in_columns(g.db, due);
}

/* A database of its own with a float32, a float64 and a scaled int16
 * channel, and one reading of each written as the gateway stores them
 * (doubles): every listing prints the float32 one as the float32 it was
 * (19.99993, not 19.999929428100586), the others as the doubles they are,
 * and JSON keeps them numbers. */
static void values_print_with_the_digits_of_their_type(void **state)
{
	(void)state;
	char db[H_PATH_MAX];
	static const struct {
		const char *ch;
		double value;
		const char *printed;
	} want[] = {
	        {"d", 0.1 + 0.2, "0.30000000000000004"},
	        {"f", (double)19.99993f, "19.99993"},
	        {"i", 234 * 0.1, "23.400000000000002"},
	};

	struct store *st = config_db(
	        "num",
	        "instruments = ( { id = \"N1\"; bus = \"b\"; unit_id = 1; "
	        "interval_ms = 1000; channels = ( "
	        "{ name = \"f\"; table = \"input\"; address = 0; "
	        "type = \"float32\"; order = \"CDAB\"; unit = \"degC\"; }, "
	        "{ name = \"d\"; table = \"input\"; address = 2; "
	        "type = \"float64\"; unit = \"degC\"; }, "
	        "{ name = \"i\"; table = \"input\"; address = 6; "
	        "type = \"int16\"; scale = 0.1; unit = \"degC\"; } ); } );\n",
	        db);
	store_close(st);
	sqlite3 *h3 = sql_open(db, true);
	sqlite3_stmt *ins = NULL;
	assert_int_equal(
	        sqlite3_prepare_v2(h3,
	                           "INSERT INTO readings_recent SELECT "
	                           "id, ?1, ?2, 0 FROM channels "
	                           "WHERE name = ?3",
	                           -1, &ins, NULL),
	        SQLITE_OK);
	for (size_t i = 0; i < 3; i++) { /* bound: the double exactly */
		sqlite3_bind_int64(ins, 1, now_us() - 1000000);
		sqlite3_bind_double(ins, 2, want[i].value);
		sqlite3_bind_text(ins, 3, want[i].ch, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	assert_int_equal(sqlite3_close(h3), SQLITE_OK);

	const char *csv[] = {"readings", "N1", "--format", "csv", NULL};
	assert_int_equal(metrolog_on(db, csv), 0);
	struct csv r = {.p = out};
	assert_int_equal(csv_next(&r), 1);
	struct csv h = r;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(csv_next(&r), 1);
		assert_string_equal(r.field[col(&h, "channel")], want[i].ch);
		assert_string_equal(r.field[col(&h, "value")], want[i].printed);
	}
	const char *jsonl[] = {"readings", "N1", "--format", "jsonl", NULL};
	assert_int_equal(metrolog_on(db, jsonl), 0);
	for (size_t i = 0; i < 3; i++) {
		char field[64];
		snprintf(field, sizeof(field), "\"value\":%s,",
		         want[i].printed);
		must_say(field);
	}
	cJSON *line = cJSON_Parse(strchr(out, '\n') + 1); /* channel f */
	assert_non_null(line);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(line, "value")));
	cJSON_Delete(line);
	const char *chans[] = {"channels", "N1", "--format", "csv", NULL};
	assert_int_equal(metrolog_on(db, chans), 0);
	r = (struct csv){.p = out};
	assert_int_equal(csv_next(&r), 1);
	h = r;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(csv_next(&r), 1);
		assert_string_equal(r.field[col(&h, "value")], want[i].printed);
	}
	const char *txt[] = {"readings", "N1/f", "--format", "text", NULL};
	assert_int_equal(metrolog_on(db, txt), 0);
	must_say(" 19.99993 ");
}

/* ---- channels ----------------------------------------------------------- */

static double newest_value(const char *inst, const char *ch, char *quality)
{
	char sql[1024];
	sqlite3 *db = db_open(g.db);
	sqlite3_stmt *s = NULL;
	double v = NAN;

	snprintf(sql, sizeof(sql),
	         "SELECT r.value, q.name FROM readings r JOIN qualities q ON "
	         "q.code = r.quality JOIN channels c ON c.id = r.channel JOIN "
	         "instruments i ON i.id = c.instrument_id WHERE i.name = '%s' "
	         "AND c.name = '%s' ORDER BY r.ts DESC LIMIT 1",
	         inst, ch);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	if (sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_double(s, 0);
	snprintf(quality, 16, "%s", (const char *)sqlite3_column_text(s, 1));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void channels_show_last_reading_tolerance_and_state(void **state)
{
	(void)state;
	static const struct {
		const char *name, *state, *lower, *refch;
	} want[] = {{"c0", "in_tolerance", "-0.5", ""},
	            {"c1", "out_of_tolerance", "-0.5", ""},
	            {"c2", "in_tolerance", "-5", "c0"}};
	const char *args[] = {"channels", "TB-01", "--format", "csv", NULL};
	struct csv c = {.p = out};
	char quality[16];

	assert_int_equal(metrolog(args), 0);
	assert_int_equal(csv_next(&c), 1);
	struct csv h = c;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(csv_next(&c), 1);
		assert_string_equal(c.field[col(&h, "instrument")], "TB-01");
		assert_string_equal(c.field[col(&h, "channel")], want[i].name);
		assert_string_equal(c.field[col(&h, "unit")], "degC");
		assert_string_equal(c.field[col(&h, "state")], want[i].state);
		assert_string_equal(c.field[col(&h, "lower")], want[i].lower);
		assert_string_equal(c.field[col(&h, "reference_channel")],
		                    want[i].refch);
		double v = newest_value("TB-01", want[i].name, quality);
		assert_string_equal(c.field[col(&h, "quality")], quality);
		want_value(c.field[col(&h, "value")], v, true); /* float32 */
	}
	assert_int_equal(csv_next(&c), 0);

	/* TB-03 is not served: its newest reading has no value */
	const char *tb3[] = {"channels", "TB-03", "--format", "csv", NULL};
	c.p = out;
	assert_int_equal(metrolog(tb3), 0);
	assert_int_equal(csv_next(&c), 1);
	assert_int_equal(csv_next(&c), 1);
	newest_value("TB-03", "x", quality);
	assert_string_equal(c.field[col(&h, "quality")], quality);
	assert_string_not_equal(quality, "good");
	assert_string_equal(c.field[col(&h, "value")], "");
	assert_string_equal(c.field[col(&h, "lower")], "");
}

/* ---- due ---------------------------------------------------------------- */

static void due_lists_the_worklist_by_due_date(void **state)
{
	(void)state;
	static const struct {
		const char *within;
		int n;
		const char *names[5], *states[5];
	} cases[] = {
	        {NULL,
	         3,
	         {"STD-2", "TB-01", "TB-02"},
	         {"never_calibrated", "overdue", "due_soon"}},
	        {"0", 2, {"STD-2", "TB-01"}, {"never_calibrated", "overdue"}},
	        {"400",
	         5,
	         {"STD-2", "TB-01", "TB-02", "STD-1", "TB-03"},
	         {"never_calibrated", "overdue", "due_soon", "ok", "ok"}},
	};

	for (size_t k = 0; k < 3; k++) {
		const char *args[] = {
		        "due",           "--format",
		        "csv",           cases[k].within ? "--within" : NULL,
		        cases[k].within, NULL};
		struct csv c = {.p = out};
		assert_int_equal(metrolog(args), 0);
		assert_int_equal(csv_next(&c), 1);
		struct csv h = c;
		for (int i = 0; i < cases[k].n; i++) {
			assert_int_equal(csv_next(&c), 1);
			assert_string_equal(c.field[col(&h, "instrument")],
			                    cases[k].names[i]);
			assert_string_equal(c.field[col(&h, "state")],
			                    cases[k].states[i]);
		}
		assert_int_equal(csv_next(&c), 0);
	}
	/* TB-01: due 35 days ago, a reference; STD-2 in use, never
	 * calibrated; TB-02 due in 10 days, not a reference (days_left
	 * counts local dates since 2026-12: 10, not the 9 whole days and
	 * some hours of before) */
	const char *args[] = {"due", "--format", "csv", NULL};
	struct csv c = {.p = out};
	assert_int_equal(metrolog(args), 0);
	csv_next(&c);
	struct csv h = c;
	csv_next(&c);
	assert_string_equal(c.field[col(&h, "in_use")], "true");
	assert_string_equal(c.field[col(&h, "due")], "");
	csv_next(&c);
	assert_string_equal(c.field[col(&h, "days_left")], "-35");
	assert_string_equal(c.field[col(&h, "in_use")], "true");
	csv_next(&c);
	assert_string_equal(c.field[col(&h, "days_left")], "10");
	assert_string_equal(c.field[col(&h, "in_use")], "false");
}

/* A database of its own with instrument LT-01, in a lab whose zone the
 * test chooses from the time of day so that a calibration due now is due
 * on a local date that is not its UTC date, and that local day has at
 * least 23 minutes left: LT-01, due a moment ago, is due_soon (not overdue)
 * with the local date printed. Local time now is about 00:30 (a zone east
 * of UTC) or 23:00 (west). */
static void due_is_a_local_date(void **state)
{
	(void)state;
	char db[H_PATH_MAX], tz[32];
	char local[UTC_DATE_SIZE], utc[UTC_DATE_SIZE];
	struct calib_record *r = calloc(1, sizeof(*r));
	const char *args[] = {"due", "--format", "csv", NULL};

	assert_non_null(r);
	struct store *st = config_db(
	        "lab",
	        "instruments = ( { id = \"LT-01\"; bus = \"b\"; unit_id = 1; "
	        "interval_ms = 1000; "
	        "due_soon_days = 30; channels = ( { name = \"x\"; "
	        "table = \"input\"; address = 0; type = \"uint16\"; } ); } "
	        ");\n",
	        db);

	int64_t due = now_us();
	int64_t sod = due / 1000000 % 86400; /* UTC seconds of the day */
	/* seconds east of UTC, whole minutes toward zero */
	int64_t east = sod >= 37800 ? 86400 + 1800 - sod : -(sod + 3600);
	east = east / 60 * 60;
	snprintf(tz, sizeof(tz), "<LAB>%c%d:%02d", east > 0 ? '-' : '+',
	         (int)(llabs(east) / 3600), (int)(llabs(east) % 3600 / 60));
	utc_format_date(due + east * 1000000, local, sizeof(local));
	utc_format_date(due, utc, sizeof(utc));
	assert_string_not_equal(local, utc);

	cal_record(r, "LT-01", "C-LT-1", "A. Tester", due - DAY_US);
	r->interval_days = 1;
	cal_point(r, "temperature", "degC", 20, 20.01, NAN);
	cal_append(st, r);
	assert_int_equal(r->due_us, due);
	store_close(st);
	free(r);

	const char *was = getenv("TZ");
	char *old = was != NULL ? strdup(was) : NULL;
	assert_int_equal(setenv("TZ", tz, 1), 0);
	int code = metrolog_on(db, args);
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	assert_int_equal(code, 0);
	struct csv v = {.p = out};
	assert_int_equal(csv_next(&v), 1);
	struct csv h = v;
	assert_int_equal(csv_next(&v), 1);
	assert_string_equal(v.field[col(&h, "instrument")], "LT-01");
	assert_string_equal(v.field[col(&h, "due")], local);
	assert_string_equal(v.field[col(&h, "state")], "due_soon");
	assert_string_equal(v.field[col(&h, "days_left")], "0");
	assert_int_equal(csv_next(&v), 0);
}

/* ---- the lab's time ------------------------------------------------------ */

/* The first event of the database as the CSV gives it (UTC, Z, to the
 * second): its ts into ts, its instrument into inst; the instant. */
static int64_t first_event(char *ts, size_t tsize, char *inst, size_t isize)
{
	const char *csv[] = {"events", "--format", "csv", NULL};
	int64_t us;

	assert_int_equal(metrolog_tz("UTC0", g.db, csv), 0);
	struct csv c = {.p = out};
	assert_int_equal(csv_next(&c), 1);
	struct csv h = c;
	assert_int_equal(csv_next(&c), 1);
	snprintf(ts, tsize, "%s", c.field[col(&h, "ts")]);
	snprintf(inst, isize, "%s", c.field[col(&h, "instrument")]);
	assert_int_equal(utc_parse(ts, UTC_ABSOLUTE, 0, &us), 0);
	assert_int_equal(ts[strlen(ts) - 1], 'Z');
	return us;
}

/* In text every time is the lab's local time with its offset (the C
 * library's zone: TZ); in CSV and JSON the same instants stay UTC. */
static void times_are_printed_in_the_labs_zone(void **state)
{
	(void)state;
	char ts[64], inst[64], want[64], wall[32];
	const char *zones[] = {VIETNAM, BERLIN};
	const char *text[] = {"events", inst, NULL};
	const char *csv[] = {"events", inst, "--format", "csv", NULL};
	const char *json[] = {"events", inst, "--format", "json", NULL};
	const char *insts[] = {"instruments", NULL};
	const char *chans[] = {"channels", NULL};
	int64_t us = first_event(ts, sizeof(ts), inst, sizeof(inst));

	/* on UTC, as before: Z */
	assert_int_equal(metrolog_tz("UTC0", g.db, text), 0);
	must_say(ts);
	for (size_t i = 0; i < 2; i++) {
		local_iso(zones[i], us, want, sizeof(want), wall, sizeof(wall));
		assert_true(strchr(want, 'Z') == NULL); /* not a UTC zone */
		assert_int_equal(metrolog_tz(zones[i], g.db, text), 0);
		must_say(want);
		assert_null(strstr(out, ts));
		assert_int_equal(metrolog_tz(zones[i], g.db, csv), 0);
		must_say(ts);
		assert_int_equal(metrolog_tz(zones[i], g.db, json), 0);
		must_say(ts);
		assert_null(strstr(out, want));
		/* the listings' times carry the offset too */
		assert_int_equal(metrolog_tz(zones[i], g.db, insts), 0);
		must_say(want + 19);
		assert_int_equal(metrolog_tz(zones[i], g.db, chans), 0);
		must_say(want + 19);
	}
}

/* A time typed without an offset is the lab's local time; with one, or
 * with Z, it is that instant: the same event is found by all three. */
static void typed_times_are_local(void **state)
{
	(void)state;
	char ts[64], inst[64], from[64], wall[32], to[64], wall_to[32];
	const char *zones[] = {VIETNAM, BERLIN};
	int64_t us = first_event(ts, sizeof(ts), inst, sizeof(inst));
	const char *args[] = {"events", inst,       "--from", from, "--to",
	                      to,       "--format", "csv",    NULL};

	for (size_t i = 0; i < 2; i++) {
		for (int form = 0; form < 2; form++) {
			local_iso(zones[i], us, from, sizeof(from), wall,
			          sizeof(wall));
			local_iso(zones[i], us + 1000000, to, sizeof(to),
			          wall_to, sizeof(wall_to));
			if (form == 0) { /* no offset: local */
				snprintf(from, sizeof(from), "%s", wall);
				snprintf(to, sizeof(to), "%s", wall_to);
			}
			assert_int_equal(metrolog_tz(zones[i], g.db, args), 0);
			struct csv c = {.p = out};
			assert_int_equal(csv_next(&c), 1);
			struct csv h = c;
			int rows = 0;
			while (csv_next(&c) == 1) {
				assert_string_equal(c.field[col(&h, "ts")], ts);
				rows++;
			}
			if (rows == 0)
				fail_msg("TZ=%s --from %s --to %s: no event "
				         "(%s)",
				         zones[i], from, to, ts);
		}
	}
	/* the form of the issue, in a lab on UTC: accepted */
	snprintf(from, sizeof(from), "2026-12-05T21:00+07:00");
	snprintf(to, sizeof(to), "2026-12-05T21:00Z");
	assert_int_equal(metrolog_tz("UTC0", g.db, args), 0);
}

/* The calibrations of the record ids in the month's row of LT-01. */
static long month_calibrations(const char *tz, const char *db,
                               const char *month)
{
	const char *args[] = {"report",   "--month", month,
	                      "--format", "csv",     NULL};

	assert_int_equal(metrolog_tz(tz, db, args), 0);
	struct csv c = {.p = out};
	assert_int_equal(csv_next(&c), 1);
	struct csv h = c;
	assert_int_equal(csv_next(&c), 1);
	assert_string_equal(c.field[col(&h, "instrument")], "LT-01");
	return atol(c.field[col(&h, "calibrations")]);
}

/* The lab's timezone setting is the tool's zone when TZ is not set, also
 * for a time typed before -d on the command line (--month; metrolog_on puts
 * -d last); TZ set for one command goes first. */
static void the_lab_timezone_setting_is_the_tools_zone(void **state)
{
	(void)state;
	char db[H_PATH_MAX];
	struct calib_record *r = calloc(1, sizeof(*r));
	int64_t us;

	if (access("/usr/share/zoneinfo/Asia/Ho_Chi_Minh", R_OK) != 0)
		skip(); /* no tzdata: the setting is refused, as it should be */
	assert_non_null(r);
	struct store *st = config_db(
	        "labzone",
	        "instruments = ( { id = \"LT-01\"; bus = \"b\"; unit_id = 1; "
	        "interval_ms = 1000; calibration_interval_days = 365; "
	        "channels = ( { name = \"x\"; table = \"input\"; "
	        "address = 0; type = \"uint16\"; } ); } );\n"
	        "lab = { name = \"L\"; address = \"1 Lê Lợi, Huế\"; "
	        "timezone = \"Asia/Ho_Chi_Minh\"; };\n",
	        db);
	/* 00:00 on 1 December in Vietnam, still November in UTC */
	assert_int_equal(
	        utc_parse("2025-11-30T17:00:00Z", UTC_ABSOLUTE, 0, &us), 0);
	cal_record(r, "LT-01", "C-LZ-1", "A. Tester", us);
	cal_point(r, "temperature", "degC", 20, 20.01, NAN);
	cal_append(st, r);
	store_close(st);
	free(r);

	const char *one[] = {"calibrations", "--id", "1", NULL};
	assert_int_equal(metrolog_tz(NULL, db, one), 0);
	must_say("calibrated       2025-12-01T00:00:00+07:00 by A. Tester");
	assert_int_equal(month_calibrations(NULL, db, "2025-12"), 1);
	assert_int_equal(month_calibrations(NULL, db, "2025-11"), 0);
	/* TZ for one command goes before the lab's setting */
	assert_int_equal(metrolog_tz("UTC0", db, one), 0);
	must_say("calibrated       2025-11-30T17:00:00Z by A. Tester");
	assert_int_equal(month_calibrations("UTC0", db, "2025-11"), 1);
	/* a date is the lab's local date in every format */
	const char *csv[] = {"calibrations", "--format", "csv", NULL};
	assert_int_equal(metrolog_tz(NULL, db, csv), 0);
	must_say("\n1,2025-12-01,LT-01,C-LZ-1,");
}

/* A database of its own with LT-01 calibrated at the edges of December
 * 2025 (past: the store refuses a future date) in Vietnam (UTC+07:00), in UTC
 * and in Berlin (UTC+01:00): the month is counted from local midnight to local
 * midnight, the dates of the listing and the times of a record are local,
 * --date is local. */
static void months_and_dates_are_local(void **state)
{
	(void)state;
	char db[H_PATH_MAX];
	static const char *const edges[] = {
	        "2025-11-30T16:59:59Z", /* VN Nov 30, UTC Nov, DE Nov */
	        "2025-11-30T17:00:00Z", /* VN Dec 1 00:00 */
	        "2025-11-30T22:59:59Z", /* DE Nov 30 23:59:59 */
	        "2025-11-30T23:00:00Z", /* DE Dec 1 00:00 */
	        "2025-12-31T16:59:59Z", /* VN Dec 31 23:59:59 */
	        "2025-12-31T17:00:00Z", /* VN Jan 1 00:00 */
	        "2025-12-31T22:59:59Z", /* DE Dec 31 23:59:59 */
	        "2025-12-31T23:00:00Z", /* DE Jan 1 00:00 */
	};
	struct calib_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	struct store *st = config_db(
	        "tz",
	        "instruments = ( { id = \"LT-01\"; bus = \"b\"; unit_id = 1; "
	        "interval_ms = 1000; calibration_interval_days = 365; "
	        "channels = ( { name = \"x\"; table = \"input\"; "
	        "address = 0; type = \"uint16\"; } ); } );\n",
	        db);
	for (int i = 0; i < 8; i++) {
		int64_t us;
		char cert[16];
		assert_int_equal(utc_parse(edges[i], UTC_ABSOLUTE, 0, &us), 0);
		snprintf(cert, sizeof(cert), "C-TZ-%d", i + 1);
		cal_record(r, "LT-01", cert, "A. Tester", us);
		cal_point(r, "temperature", "degC", 20, 20.01, NAN);
		cal_append(st, r);
	}
	store_close(st);
	free(r);

	/* November, December, January of each lab */
	assert_int_equal(month_calibrations(VIETNAM, db, "2025-11"), 1);
	assert_int_equal(month_calibrations(VIETNAM, db, "2025-12"), 4);
	assert_int_equal(month_calibrations(VIETNAM, db, "2026-01"), 3);
	assert_int_equal(month_calibrations("UTC0", db, "2025-11"), 4);
	assert_int_equal(month_calibrations("UTC0", db, "2026-01"), 0);
	assert_int_equal(month_calibrations(BERLIN, db, "2025-11"), 3);
	assert_int_equal(month_calibrations(BERLIN, db, "2025-12"), 4);
	assert_int_equal(month_calibrations(BERLIN, db, "2026-01"), 1);

	/* the listing's dates are local dates, in CSV as in text */
	const char *list[] = {"calibrations", "--format", "csv", NULL};
	static const char *const vn[] = {
	        "2025-11-30", "2025-12-01", "2025-12-01", "2025-12-01",
	        "2025-12-31", "2026-01-01", "2026-01-01", "2026-01-01"};
	assert_int_equal(metrolog_tz(VIETNAM, db, list), 0);
	struct csv v = {.p = out};
	assert_int_equal(csv_next(&v), 1);
	struct csv h = v;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(csv_next(&v), 1);
		assert_string_equal(v.field[col(&h, "date")], vn[i]);
	}
	const char *one[] = {"calibrations", "--id", "2", NULL};
	assert_int_equal(metrolog_tz(VIETNAM, db, one), 0);
	must_say("calibrated       2025-12-01T00:00:00+07:00 by A. Tester");
	assert_int_equal(metrolog_tz("UTC0", db, one), 0);
	must_say("calibrated       2025-11-30T17:00:00Z by A. Tester");

	/* --date and --received are local unless they say otherwise (three
	 * records: a dry run prints no times) */
	const char *cal[] = {"calibrate",
	                     "-i",
	                     "LT-01",
	                     "-c",
	                     "C-TZ-9",
	                     "--date",
	                     "2025-12-05",
	                     "-t",
	                     "B. Tester",
	                     "--received",
	                     "2025-12-04",
	                     "--point",
	                     "temperature,degC,20,20.01,,-0.5,0.5,0.0625,2",
	                     NULL};
	assert_int_equal(metrolog_tz(VIETNAM, db, cal), 0);
	must_say("calibrated       2025-12-05T00:00:00+07:00 by B. Tester");
	must_say("received         2025-12-04\n");
	cal[4] = "C-TZ-10";
	cal[6] = "2026-03-29T02:30"; /* skipped in Berlin: 03:00 CEST */
	assert_int_equal(metrolog_tz(BERLIN, db, cal), 0);
	must_say("calibrated       2026-03-29T03:00:00+02:00 by B. Tester");
	cal[4] = "C-TZ-11";
	cal[6] = "2025-12-05T21:00+07:00";
	assert_int_equal(metrolog_tz(BERLIN, db, cal), 0);
	must_say("calibrated       2025-12-05T15:00:00+01:00 by B. Tester");
}

/* ---- readings ----------------------------------------------------------- */

static void iso_us(int64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%.19s.%06lldZ", s, (long long)(us % 1000000));
}

/* Every reading of inst (ch NULL: all channels), by channel name then
 * ts: name, channel, ts, value (NULL: NAN), unit, quality name; calls
 * check for each with the row number. Returns the count. */
static long long each_reading(const char *inst, const char *ch,
                              void (*check)(sqlite3_stmt *, long long, void *),
                              void *ctx)
{
	char sql[1024];
	sqlite3 *db = db_open(g.db);
	sqlite3_stmt *s = NULL;
	long long n = 0;

	snprintf(sql, sizeof(sql),
	         "SELECT i.name, c.name, r.ts, r.value, c.unit, q.name FROM "
	         "readings r JOIN channels c ON c.id = r.channel JOIN "
	         "instruments i ON i.id = c.instrument_id JOIN qualities q ON "
	         "q.code = r.quality WHERE i.name = '%s' AND (%d OR c.name = "
	         "'%s') ORDER BY c.name, r.ts",
	         inst, ch == NULL, ch != NULL ? ch : "");
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		check(s, n++, ctx);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void check_csv_row(sqlite3_stmt *s, long long n, void *ctx)
{
	struct csv *c = ctx;
	char ts[40];
	int64_t us = sqlite3_column_int64(s, 2);

	(void)n;
	assert_int_equal(csv_next(c), 1);
	assert_int_equal(c->n, 7);
	assert_string_equal(c->field[0],
	                    (const char *)sqlite3_column_text(s, 0));
	assert_string_equal(c->field[1],
	                    (const char *)sqlite3_column_text(s, 1));
	iso_us(us, ts, sizeof(ts));
	assert_string_equal(c->field[2], ts);
	assert_int_equal(strtoll(c->field[3], NULL, 10), us);
	if (sqlite3_column_type(s, 3) == SQLITE_NULL)
		assert_string_equal(c->field[4], "");
	else /* every channel of the tests is a float32 */
		want_value(c->field[4], sqlite3_column_double(s, 3), true);
	assert_string_equal(c->field[5],
	                    (const char *)sqlite3_column_text(s, 4));
	assert_string_equal(c->field[6],
	                    (const char *)sqlite3_column_text(s, 5));
}

static void csv_round_trip(const char *what, const char *inst, const char *ch,
                           long long at_least)
{
	char file[H_PATH_MAX];
	const char *args[] = {"readings", what, "-o",
	                      h_path(file, g.dir, "export.csv"), NULL};
	struct csv c = {.p = out};

	assert_int_equal(metrolog(args), 0);
	assert_string_equal(out, ""); /* nothing on stdout or stderr */
	read_into(file, out);
	assert_int_equal(csv_next(&c), 1);
	assert_string_equal(c.field[0], "instrument");
	assert_string_equal(c.field[6], "quality");
	long long n = each_reading(inst, ch, check_csv_row, &c);
	assert_int_equal(csv_next(&c), 0);
	assert_true(n >= at_least);
}

static void readings_csv_round_trip(void **state)
{
	(void)state;
	/* default range (the last 24 h): the archive's 500 and the recent */
	csv_round_trip("TB-01", "TB-01", NULL, ARCHIVED + 3 * 10);
	csv_round_trip("TB-02/p", "TB-02", "p", 10); /* unit: kPa, "abs" */
	assert_non_null(strstr(out, ",\"kPa, \"\"abs\"\"\",good\r\n"));
	csv_round_trip("TB-03", "TB-03", NULL, 10); /* not good: no value */
}

static void check_jsonl_row(sqlite3_stmt *s, long long n, void *ctx)
{
	char **p = ctx, ts[40], number[40];
	char *nl = strchr(*p, '\n');
	const char *raw;

	(void)n;
	assert_non_null(nl);
	*nl = '\0';
	/* the value as written: a JSON number in the fewest digits */
	assert_non_null(raw = strstr(*p, "\"value\":"));
	raw += strlen("\"value\":");
	snprintf(number, sizeof(number), "%.*s", (int)strcspn(raw, ",}"), raw);
	cJSON *o = cJSON_Parse(*p);
	assert_non_null(o);
	*p = nl + 1;
	assert_string_equal(cJSON_GetObjectItem(o, "instrument")->valuestring,
	                    (const char *)sqlite3_column_text(s, 0));
	assert_string_equal(cJSON_GetObjectItem(o, "channel")->valuestring,
	                    (const char *)sqlite3_column_text(s, 1));
	iso_us(sqlite3_column_int64(s, 2), ts, sizeof(ts));
	assert_string_equal(cJSON_GetObjectItem(o, "ts")->valuestring, ts);
	assert_true(cJSON_GetObjectItem(o, "ts_us")->valuedouble ==
	            (double)sqlite3_column_int64(s, 2));
	cJSON *v = cJSON_GetObjectItem(o, "value");
	if (sqlite3_column_type(s, 3) == SQLITE_NULL)
		assert_true(cJSON_IsNull(v));
	else {
		assert_true(cJSON_IsNumber(v));
		want_value(number, sqlite3_column_double(s, 3), true);
	}
	assert_string_equal(cJSON_GetObjectItem(o, "unit")->valuestring,
	                    (const char *)sqlite3_column_text(s, 4));
	assert_string_equal(cJSON_GetObjectItem(o, "quality")->valuestring,
	                    (const char *)sqlite3_column_text(s, 5));
	cJSON_Delete(o);
}

static void readings_jsonl_round_trip(void **state)
{
	(void)state;
	const char *args[] = {"readings", "TB-01/c0",   "--format", "jsonl",
	                      "--from",   "2000-01-01", NULL};
	char *p = out;

	assert_int_equal(metrolog(args), 0);
	long long n = each_reading("TB-01", "c0", check_jsonl_row, &p);
	assert_string_equal(p, "");
	assert_true(n > ARCHIVED);

	/* a range: from the 100th archived reading, 50 of them */
	long long t = db_int(g.db, "SELECT ts FROM readings_archive ORDER BY "
	                           "ts LIMIT 1 OFFSET 100");
	char from[40], to[40];
	iso_us(t, from, sizeof(from));
	iso_us(t + 50 * 1000003LL, to, sizeof(to));
	const char *range[] = {"readings", "TB-01/c0", "--format",
	                       "jsonl",    "--from",   from,
	                       "--to",     to,         NULL};
	assert_int_equal(metrolog(range), 0);
	int lines = 0;
	for (char *q = out; (q = strchr(q, '\n')) != NULL; q++)
		lines++;
	assert_int_equal(lines, 50);
}

/* The archive's virtual table is handed the channel and both bounds of
 * the range (it then reads only the blocks of the range, by archive_blocks'
 * primary key: gateway/db/archive.c), and consumes the ORDER BY ts. */
static void readings_use_the_archive_key(void **state)
{
	(void)state;
	char err[512], plan[2048];
	struct query *q = query_open(g.db, err, sizeof(err));

	if (q == NULL)
		fail_msg("%s", err);
	assert_int_equal(query_readings_plan(q, plan, sizeof(plan)), 0);
	query_close(q);
	if (strstr(plan, "SCAN readings_archive VIRTUAL TABLE INDEX "
	                 "37:channel= ts>= ts<\n") == NULL)
		fail_msg("plan:\n%s", plan);
}

/* ---- events ------------------------------------------------------------- */

/* The events' state columns in listing order (ts, then id), of TB-01 only
 * when tb1, "" for NULL: "from>to" per event, into st[]. Returns how many. */
static int event_states(bool tb1, char st[][40], int max)
{
	sqlite3 *db = db_open(g.db);
	sqlite3_stmt *q = NULL;
	int n = 0;

	assert_int_equal(
	        sqlite3_prepare_v2(
	                db,
	                "SELECT coalesce(e.state_from, ''), "
	                "coalesce(e.state_to, '') FROM events e JOIN "
	                "instruments i ON i.id = e.instrument_id "
	                "WHERE ?1 = 0 OR i.name = 'TB-01' ORDER BY e.ts, e.id",
	                -1, &q, NULL),
	        SQLITE_OK);
	sqlite3_bind_int(q, 1, tb1);
	while (sqlite3_step(q) == SQLITE_ROW && n < max)
		snprintf(st[n++], 40, "%s>%s", sqlite3_column_text(q, 0),
		         sqlite3_column_text(q, 1));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static void events_list_what_the_database_holds(void **state)
{
	(void)state;
	const char *tb1[] = {"events", "TB-01", "--format", "csv", NULL};
	const char *all[] = {"events", "--format", "json", NULL};
	const char *text[] = {"events", "TB-01", NULL};
	struct csv c = {.p = out};
	int n = 0, out_of_tolerance = 0, nst;
	char st[1024][40], got[2 * 256 + 2];
	cJSON *e;

	nst = event_states(true, st, 1024);
	assert_int_equal(metrolog(tb1), 0);
	assert_int_equal(csv_next(&c), 1);
	struct csv h = c;
	while (csv_next(&c)) {
		assert_string_equal(c.field[col(&h, "instrument")], "TB-01");
		if (strstr(c.field[col(&h, "detail")],
		           "-> out_of_tolerance:")) {
			out_of_tolerance++;
			assert_string_equal(c.field[col(&h, "state_to")],
			                    "out_of_tolerance");
		}
		snprintf(got, sizeof(got), "%s>%s",
		         c.field[col(&h, "state_from")],
		         c.field[col(&h, "state_to")]);
		assert_true(n < nst);
		assert_string_equal(got, st[n]);
		n++;
	}
	assert_int_equal(n, db_int(g.db, "SELECT count(*) FROM events e JOIN "
	                                 "instruments i ON i.id = "
	                                 "e.instrument_id WHERE i.name = "
	                                 "'TB-01'"));
	assert_int_equal(n, nst);
	assert_int_equal(out_of_tolerance, 1);

	assert_int_equal(metrolog(text), 0);
	assert_non_null(strstr(out, "state_from"));
	assert_non_null(strstr(out, " out_of_tolerance "));

	assert_int_equal(metrolog(all), 0);
	cJSON *a = cJSON_Parse(out);
	assert_non_null(a);
	assert_int_equal(cJSON_GetArraySize(a),
	                 db_int(g.db, "SELECT count(*) FROM events"));
	nst = event_states(false, st, 1024);
	n = 0;
	cJSON_ArrayForEach(e, a)
	{
		const cJSON *from = cJSON_GetObjectItem(e, "state_from");
		const cJSON *to = cJSON_GetObjectItem(e, "state_to");
		assert_true(cJSON_IsString(from) && cJSON_IsString(to));
		snprintf(got, sizeof(got), "%s>%s", from->valuestring,
		         to->valuestring);
		assert_true(n < nst);
		assert_string_equal(got, st[n]);
		n++;
	}
	assert_int_equal(n, nst);
	cJSON_Delete(a);
}

/* ---- report ------------------------------------------------------------- */

static cJSON *report_of(cJSON *a, const char *name)
{
	cJSON *r;

	cJSON_ArrayForEach(
	        r,
	        a) if (strcmp(cJSON_GetObjectItem(r, "instrument")->valuestring,
	                      name) == 0) return r;
	fail_msg("no report of %s", name);
	return NULL;
}

static double num(cJSON *r, const char *key)
{
	cJSON *v = cJSON_GetObjectItem(r, key);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", key);
	return v->valuedouble;
}

static void report_figures_match_the_database(void **state)
{
	(void)state;
	char month[16], sql[1024];

	this_month(month, sizeof(month));
	const char *args[] = {"report",   "--month", month,
	                      "--format", "json",    NULL};
	long long tol = db_int(g.db, "SELECT e.ts FROM events e JOIN channels "
	                             "c ON c.id = e.channel_id WHERE c.name = "
	                             "'c1' AND e.detail LIKE "
	                             "'% -> out_of_tolerance:%'");
	int64_t before = now_us();
	assert_int_equal(metrolog(args), 0);
	int64_t after = now_us();
	cJSON *a = cJSON_Parse(out);
	assert_non_null(a);
	assert_int_equal(cJSON_GetArraySize(a), 5);
	cJSON *r = report_of(a, "TB-01");
	const char *in_tb1 = "FROM readings r JOIN channels c ON c.id = "
	                     "r.channel WHERE c.instrument_id = (SELECT id "
	                     "FROM instruments WHERE name = 'TB-01')";
	snprintf(sql, sizeof(sql), "SELECT count(*) %s", in_tb1);
	assert_true(num(r, "readings") == db_int(g.db, sql));
	snprintf(sql, sizeof(sql), "SELECT count(*) %s AND r.quality = 0",
	         in_tb1);
	assert_true(num(r, "good") == db_int(g.db, sql));
	snprintf(sql, sizeof(sql),
	         "SELECT max(n) FROM (SELECT count(*) AS n %s GROUP BY "
	         "r.channel)",
	         in_tb1);
	assert_true(num(r, "polls") == db_int(g.db, sql));
	assert_true(num(r, "tolerance_events") ==
	            db_int(g.db, "SELECT count(*) FROM events WHERE kind = "
	                         "'tolerance' AND instrument_id = (SELECT id "
	                         "FROM instruments WHERE name = 'TB-01')"));
	/* c1 out of tolerance from its event until the report ran */
	double oot = num(r, "oot_s");
	assert_true(oot >= (double)(before - tol) / 1e6 - 0.001);
	assert_true(oot <= (double)(after - tol) / 1e6 + 0.001);
	assert_true(num(r, "online_pct") == 100);
	assert_true(num(r, "calibrations") == 0);
	assert_string_equal(cJSON_GetObjectItem(r, "due_state")->valuestring,
	                    "overdue");
	r = report_of(a, "TB-03");
	assert_true(num(r, "calibrations") == 1);
	assert_true(num(r, "good") == 0);
	assert_true(num(r, "readings") > 0);
	assert_true(num(r, "good_pct") == 0);
	assert_true(num(report_of(a, "TB-02"), "oot_s") == 0);
	cJSON_Delete(a);
}

/* The line of text that starts (after spaces) with word. */
static void line_of(const char *text, const char *word, char *line, size_t size)
{
	for (const char *p = text; *p != '\0';) {
		const char *end = strchr(p, '\n');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		size_t sp = strspn(p, " \f");
		if (strncmp(p + sp, word, strlen(word)) == 0 &&
		    p[sp + strlen(word)] == ' ') {
			snprintf(line, size, "%.*s", (int)n, p);
			return;
		}
		p += n + (end != NULL);
	}
	fail_msg("no line of %s in:\n%s", word, text);
}

static void report_pdf_agrees_with_the_csv(void **state)
{
	(void)state;
	char month[16], pdf[H_PATH_MAX], png[H_PATH_MAX], prefix[H_PATH_MAX];
	char txt[H_PATH_MAX], log[H_PATH_MAX], line[4096], want[300];
	ssize_t len;

	this_month(month, sizeof(month));
	const char *csv_args[] = {"report", "--month", month, NULL};
	assert_int_equal(metrolog(csv_args), 0);
	char *csv_text = strdup(out);
	assert_non_null(csv_text);

	h_path(pdf, g.dir, "report.pdf");
	const char *args[] = {"report", "--month", month, "--format",
	                      "pdf",    "-o",      pdf,   NULL};
	assert_int_equal(metrolog(args), 0);

	/* it renders: page 1 at 50 dpi, far more than a blank page */
	h_path(prefix, g.dir, "report-page1");
	const char *ppm[] = {"pdftoppm",    "-png", "-r",   "50",
	                     "-singlefile", pdf,    prefix, NULL};
	assert_int_equal(
	        h_run(ppm, h_path(log, g.dir, "pdftoppm.log"), false, 120000),
	        0);
	char *image = slurp(h_path(png, g.dir, "report-page1.png"), &len);
	assert_non_null(image);
	assert_true(len > 15000);
	assert_memory_equal(image, "\x89PNG", 4);
	free(image);

	/* its text: the title in both languages, page x of y, and each
	 * instrument's row with the CSV's availability */
	h_path(txt, g.dir, "report.txt");
	const char *totext[] = {"pdftotext", "-layout", "-enc", "UTF-8",
	                        pdf,         txt,       NULL};
	assert_int_equal(h_run(totext, h_path(log, g.dir, "pdftotext.log"),
	                       false, 120000),
	                 0);
	read_into(txt, out);
	must_say("Báo cáo tháng");
	must_say("Monthly report");
	must_say(month);
	must_say("Trang 1/");
	must_say("Page 1 of ");
	must_say("How each figure is computed");

	struct csv c = {.p = csv_text};
	int rows = 0;
	assert_int_equal(csv_next(&c), 1);
	int name = col(&c, "instrument"), pct = col(&c, "online_pct");
	while (csv_next(&c) == 1) {
		const char *v = c.field[pct];
		if (v[0] == '\0')
			snprintf(want, sizeof(want), "—"); /* no figure */
		else
			snprintf(want, sizeof(want), "%s %%", v);
		if (strcmp(c.field[name], "TB-01") == 0)
			assert_true(v[0] != '\0'); /* TB-01 has a figure */
		line_of(out, c.field[name], line, sizeof(line));
		if (strstr(line, want) == NULL)
			fail_msg("%s: '%s' not in: %s", c.field[name], want,
			         line);
		rows++;
	}
	assert_int_equal(rows, 5);
	free(csv_text);
}

/* ---- every listing in every format --------------------------------------- */

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* args (a listing) with "--format" fmt, or "-f" fmt, appended. */
static int listing(const char *const *args, const char *opt, const char *fmt)
{
	const char *argv[16];
	int n = 0;

	for (; args[n] != NULL; n++)
		argv[n] = args[n];
	argv[n++] = opt;
	argv[n++] = fmt;
	argv[n] = NULL;
	return metrolog(argv);
}

/* The header and the number of rows of the CSV in out. */
static int csv_rows(struct csv *header)
{
	struct csv c = {.p = out};
	int rows = 0;

	assert_int_equal(csv_next(&c), 1);
	*header = c;
	while (csv_next(&c) == 1) {
		assert_int_equal(c.n, header->n);
		rows++;
	}
	return rows;
}

/* An object with the CSV's columns, in order. */
static void same_columns(const cJSON *o, const struct csv *header)
{
	const cJSON *item = o->child;

	assert_true(cJSON_IsObject(o));
	for (int i = 0; i < header->n; i++, item = item->next) {
		assert_non_null(item);
		assert_string_equal(item->string, header->field[i]);
	}
	assert_null(item);
}

static void one_listing_in_every_format(const char *const *args)
{
	struct csv header;
	int rows;

	if (listing(args, "--format", "csv") != 0)
		fail_msg("%s --format csv: %s", args[0], out);
	rows = csv_rows(&header);
	assert_true(rows > 0); /* the database has some of everything */

	assert_int_equal(listing(args, "-f", "json"), 0);
	cJSON *a = cJSON_Parse(out);
	if (a == NULL || !cJSON_IsArray(a))
		fail_msg("%s -f json: not a JSON array: %.200s", args[0], out);
	assert_int_equal(cJSON_GetArraySize(a), rows);
	for (const cJSON *o = a->child; o != NULL; o = o->next)
		same_columns(o, &header);
	cJSON_Delete(a);

	assert_int_equal(listing(args, "--format", "jsonl"), 0);
	assert_int_equal(count_lines(out), rows);
	for (char *line = out, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		cJSON *o = cJSON_Parse(line);
		if (o == NULL)
			fail_msg("%s jsonl: not JSON: %s", args[0], line);
		same_columns(o, &header);
		cJSON_Delete(o);
	}

	assert_int_equal(listing(args, "--format", "text"), 0);
	assert_int_equal(count_lines(out), rows + 1); /* and the header */
	assert_non_null(strstr(out, "instrument"));   /* the header */
}

static void every_listing_writes_every_format(void **state)
{
	(void)state;
	char month[8];

	this_month(month, sizeof(month));
	const char *const lists[][6] = {
	        {"instruments", NULL},
	        {"channels", NULL},
	        {"due", NULL},
	        {"readings", "TB-01/c0", "--from", "2000-01-01", NULL},
	        {"events", "--from", "2000-01-01", NULL},
	        {"report", "--month", month, NULL},
	        {"calibrations", NULL},
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		one_listing_in_every_format(lists[i]);
}

/* Every subcommand: an unknown option is one line naming the subcommand
 * and the option, exit 2; --help comes from the same declaration. */
static void every_subcommand_refuses_an_unknown_option(void **state)
{
	(void)state;
	static const char *const cmds[] = {
	        "read",        "probe",       "conformity", "interval",
	        "instruments", "channels",    "due",        "readings",
	        "events",      "report",      "calibrate",  "calibrations",
	        "verify",      "certificate", "trend",      "approve",
	        "backup"};
	char want[96];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *bad[] = {cmds[i], "--frobnicate", NULL};
		const char *help[] = {cmds[i], "--help", NULL};
		int code = metrolog(bad);
		snprintf(want, sizeof(want),
		         "metrolog %s: unexpected argument '--frobnicate': "
		         "not an option of this command (metrolog %s --help",
		         cmds[i], cmds[i]);
		if (code != 2 || count_lines(out) != 1 ||
		    strstr(out, want) != out)
			fail_msg("%s: exit %d: %s", cmds[i], code, out);
		assert_int_equal(metrolog(help), 0);
		snprintf(want, sizeof(want), "Usage: metrolog %s ", cmds[i]);
		must_say(want);
		must_say("  -h, --help ");
	}
	/* a letter another command gives another meaning: -o is --output */
	const char *owner[] = {"calibrations", "-o", "ACME", NULL};
	assert_int_equal(metrolog(owner), 2);
	must_say("unexpected argument '-o'");
	const char *by_owner[] = {"calibrations", "--owner", "ACME",
	                          "-f",           "csv",     NULL};
	assert_int_equal(metrolog(by_owner), 0);
	struct csv header;
	assert_int_equal(csv_rows(&header), 1); /* TB-01 only */
}

/* ---- errors and help ---------------------------------------------------- */

static void unknown_ids_and_bad_usage_fail_clearly(void **state)
{
	(void)state;
	static const struct {
		const char *args[8];
		int code;
		const char *says;
	} cases[] = {
	        {{"channels", "NOPE", NULL}, 1, "unknown instrument 'NOPE'"},
	        {{"readings", "NOPE/c0", NULL}, 1, "unknown instrument 'NOPE'"},
	        {{"readings", "TB-01/zz", NULL},
	         1,
	         "unknown channel 'zz' of instrument 'TB-01'"},
	        {{"events", "NOPE", NULL}, 1, "unknown instrument 'NOPE'"},
	        {{"readings", "TB-01", "--from", "yesterday", NULL},
	         2,
	         "--from 'yesterday': not a time"},
	        {{"events", "--to", "2026-02-30", NULL},
	         2,
	         "--to '2026-02-30': not a time"},
	        {{"readings", "TB-01", "--from", "now", "--to", "-1d", NULL},
	         2,
	         "--from must be before --to"},
	        {{"readings", NULL}, 2, "INSTRUMENT or INSTRUMENT/CHANNEL"},
	        {{"readings", "TB-01", "--format", "table", NULL},
	         2,
	         "--format 'table'"},
	        {{"due", "--within", "-3", NULL}, 2, "expected 0..36500 days"},
	        {{"report", "--month", "2026-13", NULL}, 2, "expected YYYY-MM"},
	        {{"report", NULL}, 2, "--month YYYY-MM"},
	        {{"report", "--month", "2026-11", "--format", "pdf", NULL},
	         2,
	         "--format pdf: say where to write it: -o FILE.pdf"},
	        {{"report", "--month", "2026-11", "--format", "pdf", "-o",
	          "report.csv", NULL},
	         2,
	         "-o FILE.pdf"},
	        {{"instruments", "--from", "now", NULL},
	         2,
	         "not an option of this command"},
	        {{"instruments", "extra", NULL}, 2, "'extra': unexpected"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code = metrolog(cases[i].args);
		if (code != cases[i].code || strstr(out, cases[i].says) == NULL)
			fail_msg("case %zu: exit %d, '%s' not in: %s", i, code,
			         cases[i].says, out);
	}
}

/* A typo in -d: every subcommand that only reads refuses a database that
 * does not exist, names it, and creates no file. */
static void a_database_that_does_not_exist_is_refused(void **state)
{
	(void)state;
	char db[H_PATH_MAX], pdf[H_PATH_MAX], svg[H_PATH_MAX];
	char want[H_PATH_MAX + 64], month[8];

	this_month(month, sizeof(month));
	h_path(db, g.dir, "typo.db");
	h_path(pdf, g.dir, "typo.pdf");
	h_path(svg, g.dir, "typo.svg");
	const char *const cmds[][8] = {
	        {"instruments", NULL},
	        {"channels", NULL},
	        {"due", NULL},
	        {"readings", "TB-01", NULL},
	        {"events", NULL},
	        {"report", "--month", month, NULL},
	        {"calibrations", NULL},
	        {"verify", NULL},
	        {"certificate", "-c", "C-101", "-o", pdf, NULL},
	        {"trend", "TB-01/c0", "-o", svg, NULL},
	};
	snprintf(want, sizeof(want),
	         "%s: no such database (metrologd creates it; check -d)\n", db);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int code = metrolog_on(db, cmds[i]);
		if (code != 1 || strstr(out, want) == NULL ||
		    count_lines(out) != 1)
			fail_msg("%s: exit %d: %s", cmds[i][0], code, out);
		assert_int_equal(access(db, F_OK), -1);
		assert_int_equal(access(pdf, F_OK), -1);
		assert_int_equal(access(svg, F_OK), -1);
	}
}

static void help_names_exit_codes_and_units(void **state)
{
	(void)state;
	const char *cmds[] = {"instruments", "channels", "due",
	                      "readings",    "events",   "report"};

	for (size_t i = 0; i < 6; i++) {
		const char *args[] = {cmds[i], "--help", NULL};
		assert_int_equal(metrolog(args), 0);
		must_say("Usage: metrolog ");
		must_say("Exit status: 0");
		must_say("2 bad usage");
	}
	const char *readings[] = {"readings", "--help", NULL};
	assert_int_equal(metrolog(readings), 0);
	must_say("microseconds");
	const char *report[] = {"report", "--help", NULL};
	assert_int_equal(metrolog(report), 0);
	must_say("--format pdf");
}

/* metrolog's output for args on db, a copy (free it). */
static char *output_on(const char *db, const char *const args[])
{
	assert_int_equal(metrolog_on(db, args), 0);
	return strdup(out);
}

/* metrolog backup: a copy that reads the same, as one file, whose chain
 * verifies to the same head as the database's; never over a file; --keep
 * removes only the oldest of its own names beyond N. (The database is
 * unchanged by it: database_is_unchanged runs after.) */
static void backup_is_a_checked_copy(void **state)
{
	(void)state;
	char dir[H_PATH_MAX], path[H_PATH_MAX], head[256], got[256];
	char copy[H_PATH_MAX], wal[H_PATH_MAX + 8];
	const char *verify[] = {"verify", NULL};
	const char *cals[] = {"calibrations", "--format", "csv", NULL};
	const char *events[] = {"events", "--format", "csv", NULL};

	h_path(dir, g.dir, "backups");
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(metrolog(verify), 0);
	line_of(out, "audit", head, sizeof(head));

	const char *into_dir[] = {"backup", dir, "--keep", "2", NULL};
	/* two older backups and a file of another name in the directory */
	write_file(h_path(path, dir, "metrolog-2000-01-01-000000.db"), "old");
	write_file(h_path(path, dir, "metrolog-2000-01-02-000000.db"), "old");
	write_file(h_path(path, dir, "notes.txt"), "mine");
	assert_int_equal(metrolog(into_dir), 0);
	must_say("integrity        ok\n");
	line_of(out, "audit", got, sizeof(got));
	assert_string_equal(got, head);
	line_of(out, "backup", path, sizeof(path));
	snprintf(copy, sizeof(copy), "%s", path + strlen("backup           "));
	assert_non_null(strstr(copy, "/metrolog-"));
	must_say("metrolog-2000-01-01-000000.db (beyond the 2 newest)");
	assert_int_equal(
	        access(h_path(path, dir, "metrolog-2000-01-01-000000.db"),
	               F_OK),
	        -1);
	assert_int_equal(
	        access(h_path(path, dir, "metrolog-2000-01-02-000000.db"),
	               F_OK),
	        0);
	assert_int_equal(access(h_path(path, dir, "notes.txt"), F_OK), 0);
	/* one file, no -wal beside it, that reads as the database reads */
	snprintf(wal, sizeof(wal), "%s-wal", copy);
	assert_int_equal(access(wal, F_OK), -1);
	for (int i = 0; i < 2; i++) {
		const char *const *args = i == 0 ? cals : events;
		char *a = output_on(g.db, args), *b = output_on(copy, args);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}

	/* never over an existing file; --keep only into a directory */
	const char *over[] = {"backup", copy, NULL};
	assert_int_equal(metrolog(over), 1);
	must_say("exists; a backup never replaces a file");
	const char *keep_file[] = {"backup", "x.db", "--keep", "1", NULL};
	assert_int_equal(metrolog(keep_file), 2);
	must_say("--keep needs DEST to be a directory");
	/* what an interrupted backup left is no obstacle, and goes */
	h_path(path, dir, "named.db.part");
	write_file(path, "half a copy");
	const char *named[] = {"backup", h_path(copy, dir, "named.db"), NULL};
	assert_int_equal(metrolog(named), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(metrolog_on(copy, verify), 0);
	line_of(out, "audit", got, sizeof(got));
	assert_string_equal(got, head);
}

/* Last: every subcommand above ran on the file. The database's bytes and
 * the WAL's are the same; a WAL that did not exist may now exist empty (a
 * reader of a WAL database opens it; an empty WAL holds nothing). */
static void database_is_unchanged(void **state)
{
	(void)state;
	ssize_t db_len, wal_len;
	char wal[H_PATH_MAX + 8];
	char *db = slurp(g.db, &db_len);
	char *w;

	snprintf(wal, sizeof(wal), "%s-wal", g.db);
	w = slurp(wal, &wal_len);
	assert_int_equal(db_len, snap_db_len);
	assert_int_equal(memcmp(db, snap_db, (size_t)db_len), 0);
	if (wal_len < 0)
		wal_len = 0;
	assert_int_equal(wal_len, snap_wal_len < 0 ? 0 : snap_wal_len);
	if (wal_len > 0)
		assert_int_equal(memcmp(w, snap_wal, (size_t)wal_len), 0);
	free(db);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(instruments_show_calibration_and_live_state),
	        cmocka_unit_test(instruments_as_json_and_by_owner),
	        cmocka_unit_test(text_columns_fit_their_content),
	        cmocka_unit_test(values_print_with_the_digits_of_their_type),
	        cmocka_unit_test(
	                channels_show_last_reading_tolerance_and_state),
	        cmocka_unit_test(due_lists_the_worklist_by_due_date),
	        cmocka_unit_test(due_is_a_local_date),
	        cmocka_unit_test(times_are_printed_in_the_labs_zone),
	        cmocka_unit_test(typed_times_are_local),
	        cmocka_unit_test(months_and_dates_are_local),
	        cmocka_unit_test(readings_csv_round_trip),
	        cmocka_unit_test(readings_jsonl_round_trip),
	        cmocka_unit_test(readings_use_the_archive_key),
	        cmocka_unit_test(events_list_what_the_database_holds),
	        cmocka_unit_test(report_figures_match_the_database),
	        cmocka_unit_test(report_pdf_agrees_with_the_csv),
	        cmocka_unit_test(every_listing_writes_every_format),
	        cmocka_unit_test(every_subcommand_refuses_an_unknown_option),
	        cmocka_unit_test(unknown_ids_and_bad_usage_fail_clearly),
	        cmocka_unit_test(a_database_that_does_not_exist_is_refused),
	        cmocka_unit_test(help_names_exit_codes_and_units),
	        cmocka_unit_test(the_lab_timezone_setting_is_the_tools_zone),
	        cmocka_unit_test(backup_is_a_checked_copy),
	        cmocka_unit_test(database_is_unchanged),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
