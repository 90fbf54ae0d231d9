/*
 * test_calibration.c - calibration records end to end: a real metrologd
 * polls the simulator into a real database (so the instruments and the
 * standard come from a configuration), then the metrolog tool records
 * calibrations while metrologd keeps writing, lists them, and verifies
 * the audit chain; then the test tampers with the file behind the store's
 * back, the ways an insider could, and checks that verify names the
 * record each time.
 *
 * Dates: the standard STD-1 (interval 180 days) is calibrated on
 * 2025-01-10, so it is due on 2025-07-09; TB-01 (interval 365 days) on
 * 2025-03-01 (standard in date), on 2025-09-01 (standard overdue) and on
 * 2026-03-01. Due states depend on today: the test computes what to
 * expect with calib_due_state() at the time it runs.
 *
 * Tampering (the last test): a deleted record, a changed column, and a
 * changed column with its hash recomputed are each reported at the right
 * record. Deleting the newest record cannot be seen in the chain alone:
 * the newest hash is on the latest certificate (and the chain head is
 * printed by verify) to compare with.
 *
 * Threading: one thread; metrologd, the simulator and the tool run as
 * child processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calib.h"
#include "caltest.h"
#include "drift.h"
#include "gwtest.h"
#include "harness.h"
#include "query.h"

#define OUT 65536

static struct h_sim sim;
static struct h_broker broker;
static pid_t sub = -1; /* mosquitto_sub, printing topic and payload */
static char sub_log[H_PATH_MAX];
static struct gw gw;
static const char *dir;
static char out[OUT];

static int run(const char *const args[])
{
	return gw_tool(dir, args, out, sizeof(out));
}

static void must_contain(const char *what)
{
	if (strstr(out, what) == NULL)
		fail_msg("expected \"%s\" in:\n%s", what, out);
}

/* Plain SQL on the file, as an insider with write access would. */
static void tamper(const char *sql)
{
	db_exec(gw.db, sql);
}

/* sql must be refused; returns SQLite's message into out. */
static void refused(const char *sql)
{
	sqlite3 *db = sql_open(gw.db, true);
	char *err = NULL;

	assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, &err),
	                     SQLITE_OK);
	snprintf(out, sizeof(out), "%s", err != NULL ? err : "");
	sqlite3_free(err);
	sqlite3_close(db);
}

static int setup(void **state)
{
	char bus[256], inst[2048], extra[1024];
	const char *sim_args[] = {"-n", "1", NULL};

	(void)state;
	/* a lab on UTC: the dates typed (--date 2025-03-01) are compared
	 * with the UTC instants of the MQTT payloads */
	setenv("TZ", "UTC0", 1);
	dir = h_tmpdir();
	if (h_sim_start(&sim, dir, true, false, sim_args) < 0 ||
	    h_broker_start(&broker, dir, NULL) < 0)
		return -1;
	/* a real subscriber of everything the gateway publishes */
	char port[16];
	snprintf(port, sizeof(port), "%d", broker.port);
	const char *sub_argv[] = {"mosquitto_sub",
	                          "-h",
	                          "127.0.0.1",
	                          "-p",
	                          port,
	                          "-v",
	                          "-q",
	                          "1",
	                          "-t",
	                          "metrolog/test-lab/#",
	                          NULL};
	sub = h_spawn(sub_argv, h_path(sub_log, dir, "sub.log"), false);
	gw_init(&gw, dir);
	tcp_bus(bus, sizeof(bus), "lab", sim.port, 500);
	instrument(inst, sizeof(inst), "TB-01", "lab", 1, 100, 2);
	/* c1 out of tolerance at once (it reads about 21: +-0.5 around 0),
	 * and a calibration interval for TB-01, inside its group */
	char *c1 = strstr(inst, "unit = \"degC\"; }");
	c1 = c1 != NULL ? strstr(c1 + 1, "unit = \"degC\"; }") : NULL;
	if (c1 == NULL)
		return -1;
	snprintf(c1, sizeof(inst) - (size_t)(c1 - inst),
	         "unit = \"degC\"; tolerance = { reference = 0; limit = 0.5; "
	         "consecutive = 1; trend_days = 0.01; trend_bin_s = 1; }; }); "
	         "calibration_interval_days = 365; "
	         "due_soon_days = 30; }");
	snprintf(extra, sizeof(extra),
	         "standards = ( { id = \"STD-1\"; model = \"PRT 5626\"; "
	         "serial = \"S-77\"; calibration_interval_days = 180; } );\n"
	         "lab = { name = \"Phòng Hiệu chuẩn Nhiệt\"; address = \"12 "
	         "Lê Lợi, Huế\"; accreditation = \"VILAS 999\"; };\n"
	         "customers = ( { id = \"ACME\"; name = \"ACME Đo lường "
	         "Co., Ltd\"; address = \"5 Trần Phú, Đà Nẵng\"; contact = "
	         "\"Ms. Lan, 0236 555 0101\"; } );\n"
	         "mqtt = { host = \"127.0.0.1\"; port = %d; };",
	         broker.port);
	gw_config(&gw, bus, inst, extra);
	gw_start(&gw);
	if (h_wait_file(gw.db, 60000) < 0)
		return -1;
	for (int i = 0; i < 100 && db_try_int(gw.db, "SELECT count(*) FROM "
	                                             "readings") < 10;
	     i++)
		sleep_ms(100);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (gw.pid > 0)
		gw_stop(&gw);
	if (sub > 0)
		h_stop(sub, SIGTERM, 5000);
	h_broker_stop(&broker);
	int rc = h_sim_stop(&sim);
	h_cleanup();
	return rc;
}

static const char *point_ok = "c0,degC,20,20.03,20.004,-0.1,0.1,0.02,2";

/* Record the standard, then TB-01 against it, while metrologd writes. */
static void records_and_chain(void **state)
{
	(void)state;
	const char *std[] = {"calibrate",
	                     "-d",
	                     gw.db,
	                     "-i",
	                     "STD-1",
	                     "-c",
	                     "S-2026-001",
	                     "--date",
	                     "2025-01-10",
	                     "-t",
	                     "Nguyễn Văn An",
	                     "--point",
	                     "temperature,degC,0.01,0.012,,-0.02,0.02,0.005,2",
	                     NULL};
	assert_true(h_alive(gw.pid));
	assert_int_equal(run(std), 0);
	must_contain("record           1\n");
	must_contain("next due         2025-07-09 (interval 180 days)");
	/* the lab's identity from the configuration, as it stood */
	must_contain("laboratory       Phòng Hiệu chuẩn Nhiệt\n");
	must_contain("lab address      12 Lê Lợi, Huế\n");
	must_contain("accreditation    VILAS 999\n");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations "
	                               "WHERE id = 1 AND lab_address = "
	                               "'12 Lê Lợi, Huế'"),
	                 1);

	const char *tb[] = {"calibrate",
	                    "-d",
	                    gw.db,
	                    "-i",
	                    "TB-01",
	                    "-c",
	                    "C-2026-001",
	                    "--date",
	                    "2025-03-01",
	                    "-t",
	                    "Trần Thị Bình",
	                    "-s",
	                    "STD-1",
	                    "--rule",
	                    "guarded",
	                    "--point",
	                    point_ok,
	                    "--point",
	                    "c1,degC,50,50.095,50.01,-0.1,0.1,0.02,2",
	                    "--lab",
	                    "Trung tâm Đo lường, Hà Nội",
	                    "--customer-id",
	                    "0101234567-001",
	                    NULL};
	assert_int_equal(run(tb), 0);
	must_contain("record           2\n");
	must_contain("standard         STD-1, certificate S-2026-001, due "
	             "2025-07-09");
	/* the configured owner, a customer of the configuration */
	must_contain("customer         ACME Đo lường Co., Ltd\n");
	must_contain("customer addr.   5 Trần Phú, Đà Nẵng\n");
	must_contain("customer contact Ms. Lan, 0236 555 0101\n");
	/* the customer id as typed, kept with the record (and its hash) */
	must_contain("customer id      0101234567-001\n");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations "
	                               "WHERE id = 2 AND customer_id = "
	                               "'0101234567-001'"),
	                 1);
	/* the items' models as configured: STD-1's, TB-01 none */
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations "
	                               "WHERE (id = 1 AND model = 'PRT 5626') "
	                               "OR (id = 2 AND model = '')"),
	                 2);
	/* --lab given: the configuration's lab is not mixed in */
	must_contain("laboratory       Trung tâm Đo lường, Hà Nội\n");
	assert_null(strstr(out, "lab address"));
	/* c0: error 0.03 in [-0.08, 0.08] pass; c1 as found: 0.095, inside
	 * the limits but in the guard band w = U = 0.02 */
	must_contain("as found: conditional pass; as left: pass");
	must_contain("next due         2026-03-01 (interval 365 days)");
	assert_null(strstr(out, "WARNING"));
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations"), 2);
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM "
	                               "calibration_points"),
	                 3);

	const char *ver[] = {"verify", "-d", gw.db, NULL};
	assert_int_equal(run(ver), 0);
	must_contain("audit chain intact: 2 records");
	assert_true(h_alive(gw.pid)); /* metrologd never noticed */
}

/* On 2025-09-01 STD-1 (due 2025-07-09) is overdue: recorded, flagged. */
static void overdue_standard_flagged(void **state)
{
	(void)state;
	const char *tb[] = {"calibrate",  "-d",      gw.db,        "-i",
	                    "TB-01",      "-c",      "C-2026-002", "--date",
	                    "2025-09-01", "-t",      "An",         "-s",
	                    "STD-1",      "--point", point_ok,     NULL};
	/* refused without a recorded reason, nothing written */
	assert_int_equal(run(tb), 1);
	must_contain("reference standard STD-1 was overdue on the calibration "
	             "date (certificate ");
	must_contain("give --standard-reason");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations "
	                               "WHERE certificate = 'C-2026-002'"),
	                 0);
	const char *why[] = {"calibrate",
	                     "-d",
	                     gw.db,
	                     "-i",
	                     "TB-01",
	                     "-c",
	                     "C-2026-002",
	                     "--date",
	                     "2025-09-01",
	                     "-t",
	                     "An",
	                     "-s",
	                     "STD-1",
	                     "--standard-reason",
	                     "STD-1 is at the calibration lab; customer agreed",
	                     "--point",
	                     point_ok,
	                     NULL};
	assert_int_equal(run(why), 0);
	must_contain("WARNING          the reference standard STD-1 was "
	             "overdue for calibration");
	must_contain("reason           STD-1 is at the calibration lab; "
	             "customer agreed");
	assert_int_equal(db_int(gw.db, "SELECT standard_overdue FROM "
	                               "calibrations WHERE certificate = "
	                               "'C-2026-002'"),
	                 1);
	const char *list[] = {"calibrations", "-d", gw.db, "-i", "TB-01", NULL};
	assert_int_equal(run(list), 0);
	must_contain("standard overdue");
}

/* Refusals: clear message, non-zero exit, nothing written. */
static void refusals(void **state)
{
	(void)state;
	long long before = db_int(gw.db, "SELECT count(*) FROM calibrations");
	const char *unknown[] = {"calibrate",  "-d", gw.db, "-i",
	                         "NOPE",       "-c", "X-1", "--date",
	                         "2025-03-01", "-t", "A",   "--point",
	                         point_ok,     NULL};
	assert_int_equal(run(unknown), 1);
	must_contain("unknown instrument \"NOPE\"");
	const char *dup[] = {"calibrate",  "-d", gw.db,        "-i",
	                     "TB-01",      "-c", "C-2026-001", "--date",
	                     "2025-03-02", "-t", "A",          "--point",
	                     point_ok,     NULL};
	assert_int_equal(run(dup), 1);
	must_contain("certificate number C-2026-001 is already record 2");
	const char *std[] = {"calibrate",  "-d",      gw.db,    "-i",
	                     "TB-01",      "-c",      "X-2",    "--date",
	                     "2025-03-02", "-t",      "A",      "-s",
	                     "STD-9",      "--point", point_ok, NULL};
	assert_int_equal(run(std), 1);
	must_contain("unknown reference standard \"STD-9\"");
	const char *other[] = {
	        "calibrate", "-d",           gw.db,    "-i",          "TB-01",
	        "-c",        "X-3",          "--date", "2025-03-02",  "-t",
	        "A",         "--supersedes", "1",      "--amendment", "typo",
	        "--point",   point_ok,       NULL};
	assert_int_equal(run(other), 1);
	must_contain("record 1 to supersede is of another instrument");
	const char *badpoint[] = {"calibrate",
	                          "-d",
	                          gw.db,
	                          "-i",
	                          "TB-01",
	                          "-c",
	                          "X-4",
	                          "--date",
	                          "2025-03-02",
	                          "-t",
	                          "A",
	                          "--point",
	                          "c0,degC,20,abc,,-1,1,0,2",
	                          NULL};
	assert_int_equal(run(badpoint), 2);
	must_contain("as_found 'abc' is not a number");
	const char *limits[] = {"calibrate",
	                        "-d",
	                        gw.db,
	                        "-i",
	                        "TB-01",
	                        "-c",
	                        "X-5",
	                        "--date",
	                        "2025-03-02",
	                        "-t",
	                        "A",
	                        "--point",
	                        "c0,degC,20,20,,1,-1,0,2",
	                        NULL};
	assert_int_equal(run(limits), 2);
	must_contain("point 1: lower limit 1 > upper limit -1");
	const char *future[] = {"calibrate",  "-d", gw.db, "-i",
	                        "TB-01",      "-c", "X-7", "--date",
	                        "2099-01-01", "-t", "A",   "--point",
	                        point_ok,     NULL};
	assert_int_equal(run(future), 1);
	must_contain("the calibration date is in the future");
	const char *nodate[] = {"calibrate", "-d",      gw.db,    "-i",
	                        "TB-01",     "-c",      "X-6",    "-t",
	                        "A",         "--point", point_ok, NULL};
	assert_int_equal(run(nodate), 2);
	must_contain("no --date");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations"),
	                 before);
}

/* Inputs that could spoil a record are refused before anything is
 * written: control characters, invalid UTF-8, hexadecimal and
 * non-finite numbers, numbers too far apart to decide exactly, a NUL in
 * a points file. And a value on a limit is on it (issue 11's example). */
static void refusals_of_text_and_numbers(void **state)
{
	(void)state;
	long long before = db_int(gw.db, "SELECT count(*) FROM calibrations");
	char pts[H_PATH_MAX];
	static const char nul[] = "c0,degC,20,20.01,,-0.1,0.1,0.02,2\0x\n";
	static const struct {
		const char *option, *value, *want;
	} bad[] = {
	        {"--lab", "Lab\nline 2", "--lab: a control character (0x0A)"},
	        {"--remarks", "tab\there", "--remarks: a control character"},
	        {"--technician", "caf\xe9", "--technician: invalid UTF-8"},
	        {"--point", "c0,degC,0x14,20,,-1,1,0,2",
	         "reference '0x14' is not a number"},
	        {"--point", "c0,degC,20,inf,,-1,1,0,2",
	         "as_found 'inf' is not a number"},
	        {"--point", "c0,degC,20,1e400,,-1,1,0,2",
	         "as_found '1e400' is not a number"},
	        {"--point", "c0,degC,1e-300,1e300,,-1,1,0,2",
	         "too far apart in magnitude to decide exactly"},
	        {"--point", "c\x01,degC,20,20,,-1,1,0,2",
	         "quantity: a control character (0x01)"},
	        {"--guard-factor", "0x1", "--guard-factor '0x1'"},
	};
	FILE *f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = {
		        "calibrate",  "-d",          gw.db,        "-i",
		        "TB-01",      "-c",          "X-TXT",      "--date",
		        "2025-03-02", "-t",          "A",          "--point",
		        point_ok,     bad[i].option, bad[i].value, NULL};
		assert_int_equal(run(args), 2);
		must_contain(bad[i].want);
	}
	h_path(pts, dir, "nul.csv");
	f = fopen(pts, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
	fclose(f);
	const char *withnul[] = {"calibrate",  "-d", gw.db,   "-i",
	                         "TB-01",      "-c", "X-NUL", "--date",
	                         "2025-03-02", "-t", "A",     "--points",
	                         pts,          NULL};
	assert_int_equal(run(withnul), 2);
	must_contain("nul.csv:1: a NUL byte in the line");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations"),
	                 before);
	/* 20.05 against 20 +- 0.05: on the limit, so inside it */
	const char *onlimit[] = {"calibrate",
	                         "-d",
	                         gw.db,
	                         "-i",
	                         "TB-01",
	                         "-c",
	                         "X-LIM",
	                         "--date",
	                         "2025-03-02",
	                         "-t",
	                         "A",
	                         "--point",
	                         "c0,degC,20,20.05,19.95,-0.05,0.05,0.01,2",
	                         "--dry-run",
	                         NULL};
	assert_int_equal(run(onlimit), 0);
	must_contain("result           as found: pass; as left: pass");
}

/* A correction supersedes, never overwrites; the listing says so. */
static void correction_supersedes(void **state)
{
	(void)state;
	const char *fix[] = {"calibrate",
	                     "-d",
	                     gw.db,
	                     "-i",
	                     "TB-01",
	                     "-c",
	                     "C-2026-002R1",
	                     "--date",
	                     "2025-09-01",
	                     "-t",
	                     "An",
	                     "-s",
	                     "STD-1",
	                     "--supersedes",
	                     "3",
	                     "--standard-reason",
	                     "as in record 3",
	                     "--amendment",
	                     "corrects the as-found value of c0",
	                     "--point",
	                     "c0,degC,20,20.04,20.004,-0.1,0.1,0.02,2",
	                     NULL};
	assert_int_equal(run(fix), 0);
	must_contain("supersedes       record 3");
	const char *again[] = {
	        "calibrate", "-d",           gw.db,    "-i",          "TB-01",
	        "-c",        "C-2026-002R2", "--date", "2025-09-01",  "-t",
	        "An",        "--supersedes", "3",      "--amendment", "again",
	        "--point",   point_ok,       NULL};
	assert_int_equal(run(again), 1);
	must_contain("record 3 is already superseded by record 4");
	const char *list[] = {"calibrations", "-d", gw.db, NULL};
	assert_int_equal(run(list), 0);
	must_contain("superseded by 4");
	/* the record is still there, unchanged */
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations "
	                               "WHERE certificate = 'C-2026-002'"),
	                 1);
}

/* Interval advice appears once a point has a history; never applied. */
static void interval_advice(void **state)
{
	(void)state;
	/* c0 at 20 degC: as found drifting +0.03 per ~180 days */
	const char *a[] = {"calibrate",
	                   "-d",
	                   gw.db,
	                   "-i",
	                   "TB-01",
	                   "-c",
	                   "C-2026-003",
	                   "--date",
	                   "2026-03-01",
	                   "-t",
	                   "An",
	                   "--point",
	                   "c0,degC,20,20.07,20.002,-0.1,0.1,0.02,2",
	                   NULL};
	assert_int_equal(run(a), 0);
	must_contain("point 1: TB-01 c0 at 20 degC");
	must_contain("history          3 calibrations, 2025-03-01 to "
	             "2026-03-01");
	must_contain("staircase (OIML D 10)");
	must_contain("interval test (RP-1 A3)");
	must_contain("variables data (drift)");
	must_contain("suggestions are advice");
	/* advice is not applied: the record keeps the configured interval */
	must_contain("next due         2027-03-01 (interval 365 days)");
}

/* The fields from a file (name = value, # comments, quotes) and the
 * points from a CSV with its header: the same record as from arguments. */
static void record_from_files(void **state)
{
	(void)state;
	char rec[H_PATH_MAX], pts[H_PATH_MAX];

	h_path(rec, dir, "record.txt");
	h_path(pts, dir, "points.csv");
	write_file(pts, "quantity,unit,reference,as_found,as_left,lower,upper,"
	                "U,k\n"
	                "c0,degC,20,20.01,,-0.1,0.1,0.02,2\n"
	                "# a comment line\n"
	                "c1,degC,50,50.02,,-0.1,0.1,0.02,2\n");
	char text[1024];
	snprintf(text, sizeof(text),
	         "# TB-01, calibrated from a file\n"
	         "instrument = TB-01\n"
	         "certificate = C-2025-F1\n"
	         "date = 2025-10-01\n"
	         "technician = \"Phạm Thu Hà\"\n"
	         "rule = guarded\n"
	         "points = %s\n"
	         "point = c0,degC,0,0.05,,-0.1,0.1,0.02,2\n",
	         pts);
	write_file(rec, text);
	const char *args[] = {"calibrate", "-d",        gw.db, "--file",
	                      rec,         "--dry-run", NULL};
	assert_int_equal(run(args), 0);
	must_contain("(dry run: nothing recorded)");
	/* two points from the CSV, then the one of the file, in order */
	must_contain("  1   c0 ");
	must_contain("  2   c1 ");
	must_contain("  3   c0 ");
	/* the worst: c0 at 0 with error 0.05, inside the acceptance zone
	 * [-0.08, 0.08] (guarded, w = U = 0.02): pass; nothing adjusted, so
	 * as left is as found (rule version 2; version 1 said "-") */
	must_contain("result           as found: pass; as left: pass");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations "
	                               "WHERE certificate = 'C-2025-F1'"),
	                 0);
	const char *bad[] = {"calibrate", "-d",      gw.db, "--file",
	                     rec,         "--bogus", "1",   NULL};
	assert_int_equal(run(bad), 2);
	write_file(rec, "instrument TB-01\n");
	const char *noeq[] = {"calibrate", "-d", gw.db, "--file", rec, NULL};
	assert_int_equal(run(noeq), 2);
	must_contain("record.txt:1: expected name = value");
}

/* The last calibration event of instrument name, into out ("" none). */
static void last_cal_event(const char *name)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "SELECT e.detail FROM events e JOIN instruments i ON i.id = "
	         "e.instrument_id WHERE e.kind = 'calibration' AND i.name = "
	         "'%s' ORDER BY e.id DESC LIMIT 1",
	         name);
	db_text(gw.db, sql, out, sizeof(out));
}

/* metrologd notices the records the tool appends (within about a second)
 * and records each due-state change as an event; the overdue standard
 * that is in use as a reference is flagged. */
static void due_states_are_events(void **state)
{
	(void)state;
	const int64_t tb_due = 1803859200000000LL; /* 2027-03-01T00:00Z */
	const char *tb = calib_due_name(
	        calib_due_state(tb_due, 30, (int64_t)time(NULL) * 1000000));
	char want[128], arrow[64];

	snprintf(want, sizeof(want),
	         "due 2027-03-01T00:00:00.000000Z, certificate C-2026-003");
	for (int i = 0; i < 100; i++) {
		last_cal_event("TB-01");
		if (strstr(out, want) != NULL)
			break;
		sleep_ms(100);
	}
	must_contain(want);
	/* into today's state of that due date, unless it was that already */
	snprintf(arrow, sizeof(arrow), "-> %s: due", tb);
	assert_true(strstr(out, arrow) != NULL ||
	            strncmp(out, "calibrated: ", 12) == 0);
	/* "none -> overdue: ..." when one refresh saw records 1 and 2, or
	 * "overdue and now in use: ..." when record 1 came a refresh before */
	last_cal_event("STD-1");
	must_contain("overdue");
	must_contain(": due 2025-07-09T00:00:00.000000Z, certificate "
	             "S-2026-001, in use as a reference");

	/* a new calibration in force restarts the drift trends of TB-01 */
	static char glog[1 << 16];
	for (int i = 0; i < 50; i++) {
		if (h_read_file(gw.log, glog, sizeof(glog)) > 0 &&
		    strstr(glog, "instrument TB-01: a new calibration is in "
		                 "force; the drift trends of its channels "
		                 "start again"))
			break;
		sleep_ms(100);
	}
	assert_non_null(strstr(glog, "instrument TB-01: a new calibration is "
	                             "in force"));
	assert_null(strstr(glog, "instrument STD-1: a new calibration"));

	/* over MQTT: the event, and the retained statuses with the
	 * calibration in force (docs/MQTT.md) */
	static char log[1 << 20];
	const char *ev = "metrolog/test-lab/TB-01/events {";
	for (int i = 0; i < 100; i++) {
		ssize_t n = h_read_file(sub_log, log, sizeof(log));
		if (n > 0 && strstr(log, "\"certificate\":\"C-2026-003\"") &&
		    strstr(log, "\"reference_overdue\":true"))
			break;
		sleep_ms(100);
	}
	const char *line = strstr(log, ev);
	while (line != NULL &&
	       (strstr(line, "\"event\":\"calibration\"") == NULL ||
	        strstr(line, "C-2026-003") == NULL ||
	        strchr(line, '\n') < strstr(line, "C-2026-003")))
		line = strstr(line + 1, ev);
	if (line == NULL)
		fail_msg("no calibration event of C-2026-003 in:\n%.4000s",
		         log);
	snprintf(want, sizeof(want), "\"to\":\"%s\"", tb);
	assert_non_null(strstr(line, want));
	assert_non_null(
	        strstr(line, "\"due\":\"2027-03-01T00:00:00.000000Z\""));
	line = strstr(log, "metrolog/test-lab/STD-1/status {");
	assert_non_null(line);
	assert_non_null(strstr(line, "\"state\":null"));
	assert_non_null(strstr(log, "\"calibration\":{\"state\":\"overdue\","
	                            "\"due\":\"2025-07-09T00:00:00.000000Z\""));
	assert_non_null(strstr(log, "\"certificate\":\"S-2026-001\","
	                            "\"reference_overdue\":true}"));
}

/* The tolerance monitor over MQTT: c1 (about 21 against 0 +- 0.5) is out
 * of tolerance at its first reading: an event, and the retained status
 * with the channel's state. */
static void tolerance_over_mqtt(void **state)
{
	(void)state;
	static char log[1 << 20];
	const char *want = "\"event\":\"tolerance\",\"channel\":\"c1\","
	                   "\"from\":\"no_data\",\"to\":\"out_of_tolerance\"";

	for (int i = 0; i < 100; i++) {
		if (h_read_file(sub_log, log, sizeof(log)) > 0 &&
		    strstr(log, want) != NULL)
			break;
		sleep_ms(100);
	}
	if (strstr(log, want) == NULL)
		fail_msg("no tolerance event in:\n%.4000s", log);
	assert_non_null(
	        strstr(log, "\"tolerance\":{\"c1\":\"out_of_tolerance\"}"));
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM events e JOIN "
	                               "channels c ON c.id = e.channel_id "
	                               "WHERE e.kind = 'tolerance' AND "
	                               "c.name = 'c1'"),
	                 1);
}

/* The database refuses UPDATE and DELETE of records. */
static void append_only(void **state)
{
	(void)state;
	refused("UPDATE calibrations SET technician = 'X' WHERE id = 2");
	must_contain("append-only");
	refused("DELETE FROM calibrations WHERE id = 2");
	must_contain("append-only");
	refused("UPDATE calibration_points SET as_found = 1 WHERE "
	        "calibration_id = 2");
	must_contain("append-only");
}

/* Certificates: the right hash is genuine, a wrong one is not. */
static void certificate_hash(void **state)
{
	(void)state;
	char hash[CALIB_HASH], qr[256];

	db_text(gw.db, "SELECT hash FROM calibrations WHERE id = 2", hash,
	        sizeof(hash));
	snprintf(qr, sizeof(qr), "metrolog:cert=C-2026-001;id=2;hash=%s", hash);
	const char *good[] = {"verify", "-d", gw.db, "--qr", qr, NULL};
	assert_int_equal(run(good), 0);
	must_contain("certificate C-2026-001: genuine, record 2 of TB-01");
	hash[10] = hash[10] == 'a' ? 'b' : 'a';
	const char *bad[] = {"verify",     "-d",     gw.db, "-c",
	                     "C-2026-001", "--hash", hash,  NULL};
	assert_int_equal(run(bad), 4);
	must_contain("DOES NOT MATCH record 2");
	const char *unknown[] = {"verify",   "-d",     gw.db, "-c",
	                         "C-1999-1", "--hash", hash,  NULL};
	assert_int_equal(run(unknown), 1);
	must_contain("NOT FOUND");
	const char *garbage[] = {"verify", "-d", gw.db, "--qr", "hello", NULL};
	assert_int_equal(run(garbage), 2);
}

/* The read-only subcommands leave the file as it was (metrologd stopped
 * first, so nothing else writes). */
static void read_only(void **state)
{
	(void)state;
	static char before[1 << 20], after[1 << 20];
	char wal[H_PATH_MAX + 8];

	assert_int_equal(gw_stop(&gw), 0);
	snprintf(wal, sizeof(wal), "%s-wal", gw.db);
	ssize_t n = h_read_file(gw.db, before, sizeof(before));
	assert_true(n > 0 && (size_t)n < sizeof(before) - 1);
	const char *a[] = {"verify", "-d", gw.db, NULL};
	const char *b[] = {"calibrations", "-d", gw.db, "--id", "2", NULL};
	const char *c[] = {"calibrations", "-d", gw.db, "--id", "99", NULL};
	assert_int_equal(run(a), 0);
	assert_int_equal(run(b), 0);
	must_contain("Trần Thị Bình"); /* UTF-8 kept as recorded */
	assert_int_equal(run(c), 1);
	must_contain("no record 99");
	assert_true(h_read_file(gw.db, after, sizeof(after)) == n);
	assert_memory_equal(before, after, (size_t)n);
	assert_true(access(wal, F_OK) != 0 ||
	            h_read_file(wal, after, sizeof(after)) <= 0);
}

/* The issue's example through the tool: probe-1 not adjusted and 4x
 * out, probe-2 adjusted. Runs after read_only (metrologd stopped): its
 * records change no due state another test waits for. */
static void as_left_covers_every_point(void **state)
{
	(void)state;
	const char *tb[] = {"calibrate",
	                    "-d",
	                    gw.db,
	                    "-i",
	                    "TB-01",
	                    "-c",
	                    "C-ASLEFT-1",
	                    "--date",
	                    "2026-04-01",
	                    "-t",
	                    "An",
	                    "--point",
	                    "probe-1,degC,20,20.2,,-0.05,0.05,0.01,2",
	                    "--point",
	                    "probe-2,degC,20,20.03,20.001,-0.05,0.05,0.01,2",
	                    NULL};
	assert_int_equal(run(tb), 0);
	must_contain("result           as found: fail; as left: fail\n");
	must_contain("        not adjusted"); /* probe-1's as left */
	assert_null(strstr(out, "OLD RULES"));
	assert_int_equal(db_int(gw.db, "SELECT rule_version FROM calibrations "
	                               "WHERE certificate = 'C-ASLEFT-1'"),
	                 CALIB_RULE_VERSION);
	/* what was typed stays distinguishable: as_left NULL, decided */
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM "
	                               "calibration_points p JOIN "
	                               "calibrations c ON c.id = "
	                               "p.calibration_id WHERE c.certificate "
	                               "= 'C-ASLEFT-1' AND p.n = 1 AND "
	                               "p.as_left IS NULL AND p.left_result "
	                               "= 'fail'"),
	                 1);
	/* no point adjusted: as left = as found, not "-" */
	const char *none[] = {"calibrate",
	                      "-d",
	                      gw.db,
	                      "-i",
	                      "TB-01",
	                      "-c",
	                      "C-ASLEFT-2",
	                      "--date",
	                      "2026-04-01",
	                      "-t",
	                      "An",
	                      "--point",
	                      "probe-1,degC,20,20.01,,-0.05,0.05,0.01,2",
	                      "--dry-run",
	                      NULL};
	assert_int_equal(run(none), 0);
	must_contain("result           as found: pass; as left: pass\n");
}

/* U = 0.5 against +-0.05 with simple acceptance, and guard bands that
 * overlap: "no statement", or refused with --no-statement refuse. */
static void statements_only_when_possible(void **state)
{
	(void)state;
	long long before;
	const char *wide[] = {"calibrate",
	                      "-d",
	                      gw.db,
	                      "-i",
	                      "TB-01",
	                      "-c",
	                      "C-NS-1",
	                      "--date",
	                      "2026-04-02",
	                      "-t",
	                      "An",
	                      "--point",
	                      "c0,degC,20,20,,-0.05,0.05,0.5,2",
	                      "--no-statement",
	                      "refuse",
	                      NULL};

	before = db_int(gw.db, "SELECT count(*) FROM calibrations");
	assert_int_equal(run(wide), 1);
	must_contain("point 1: as found: no statement can be made: TUR 0.1 "
	             "< 4 and specific risk 84.1 % > 2.5 %");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations"),
	                 before);
	wide[13] = "--no-statement";
	wide[14] = "record";
	assert_int_equal(run(wide), 0);
	must_contain("result           as found: no statement; as left: no "
	             "statement\n");
	must_contain("statements       when TUR >= 4 or the specific risk "
	             "<= 2.5 %");
	must_contain("no statement     point 1: as found: no statement can "
	             "be made");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM calibrations c "
	                               "JOIN calibration_points p ON "
	                               "p.calibration_id = c.id WHERE "
	                               "c.certificate = 'C-NS-1' AND "
	                               "p.found_result = 'no statement' AND "
	                               "c.result_left = 'no statement' AND "
	                               "c.min_tur = 4 AND c.max_risk = "
	                               "0.025"),
	                 1);

	/* guarded with w = 10 x U: 2w = 0.2 > 0.1 */
	const char *overlap[] = {"calibrate",
	                         "-d",
	                         gw.db,
	                         "-i",
	                         "TB-01",
	                         "-c",
	                         "C-NS-2",
	                         "--date",
	                         "2026-04-02",
	                         "-t",
	                         "An",
	                         "--rule",
	                         "guarded",
	                         "--guard-factor",
	                         "10",
	                         "--point",
	                         "c0,degC,20,20,,-0.05,0.05,0.01,2",
	                         "--no-statement",
	                         "refuse",
	                         NULL, /* --dry-run below */
	                         NULL};
	assert_int_equal(run(overlap), 1);
	must_contain("the guard bands overlap (2w = 0.2 > upper - lower = "
	             "0.1)");
	overlap[18] = "record";
	overlap[19] = "--dry-run";
	assert_int_equal(run(overlap), 0);
	must_contain("result           as found: no statement; as left: no "
	             "statement\n");
	/* the lab's own policy, from the options */
	const char *own[] = {"calibrate",
	                     "-d",
	                     gw.db,
	                     "-i",
	                     "TB-01",
	                     "-c",
	                     "C-NS-3",
	                     "--date",
	                     "2026-04-02",
	                     "-t",
	                     "An",
	                     "--point",
	                     "c0,degC,20,20.04,,-0.05,0.05,0.025,2",
	                     "--min-tur",
	                     "2",
	                     "--max-risk",
	                     "1",
	                     "--dry-run",
	                     NULL};
	assert_int_equal(run(own), 0);
	must_contain("as found: pass; as left: pass");
	must_contain("statements       when TUR >= 2 or the specific risk "
	             "<= 1 %");
	own[14] = "4";
	assert_int_equal(run(own), 0);
	must_contain("as found: no statement");
	own[16] = "60";
	assert_int_equal(run(own), 2);
	must_contain("--max-risk '60'");
}

/* A record appended by the code before rule version 2 (as its SQL
 * wrote it): verify keeps the chain intact and flags it, with what
 * today's rules decide; the new records are not flagged. */
static void old_rules_flagged(void **state)
{
	(void)state;
	struct calib_record *r = calloc(1, sizeof(*r));
	char id[24], hash[CALIB_HASH], qr[256];

	assert_non_null(r);
	snprintf(r->instrument, sizeof(r->instrument), "TB-01");
	snprintf(r->certificate, sizeof(r->certificate), "C-OLD-1");
	snprintf(r->technician, sizeof(r->technician), "An");
	snprintf(r->customer, sizeof(r->customer), "ACME");
	r->performed_us = 1775001600000000LL; /* 2026-04-01 */
	r->interval_days = 365;
	r->npoints = 2;
	r->points[0] = (struct calib_point){.quantity = "probe-1",
	                                    .unit = "degC",
	                                    .reference = 20,
	                                    .as_found = 20.2,
	                                    .as_left = NAN,
	                                    .lower = -0.05,
	                                    .upper = 0.05,
	                                    .U = 0.01,
	                                    .k = 2};
	r->points[1] = r->points[0];
	snprintf(r->points[1].quantity, sizeof(r->points[1].quantity),
	         "probe-2");
	r->points[1].as_found = 20.03;
	r->points[1].as_left = 20.001;
	cal_append_v1(gw.db, r);
	assert_int_equal(r->result_left, DRIFT_PASS); /* the old rule */

	const char *ver[] = {"verify", "-d", gw.db, NULL};
	assert_int_equal(run(ver), 0);
	must_contain("audit chain intact");
	must_contain("old rules: records decided under rule version 1");
	snprintf(qr, sizeof(qr),
	         "  record %lld (certificate C-OLD-1): recorded as found: "
	         "fail; as left: pass; under rule version 3: as found: fail; "
	         "as left: fail\n",
	         (long long)r->id);
	must_contain(qr);
	snprintf(qr, sizeof(qr), "  1 records under rule version 1, ids %lld",
	         (long long)r->id);
	must_contain(qr);

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	const char *show[] = {"calibrations", "-d", gw.db, "--id", id, NULL};
	assert_int_equal(run(show), 0);
	must_contain("result           as found: fail; as left: pass\n");
	must_contain("OLD RULES        decided under rule version 1");
	must_contain("re-decided under rule version 3: as found: fail; as "
	             "left: fail");
	const char *list[] = {"calibrations", "-d", gw.db, "-f", "csv", NULL};
	assert_int_equal(run(list), 0);
	must_contain(",standard_overdue,rule_version");
	must_contain(",C-OLD-1,,fail,pass,2027-04-01,,false,1");
	must_contain(",C-ASLEFT-1,,fail,fail,2027-04-01,,false,3");
	/* a new record is not flagged */
	const char *shownew[] = {"calibrations", "-d",         gw.db,
	                         "-c",           "C-ASLEFT-1", NULL};
	assert_int_equal(run(shownew), 0);
	assert_null(strstr(out, "OLD RULES"));
	db_text(gw.db,
	        "SELECT hash FROM calibrations WHERE certificate = "
	        "'C-OLD-1'",
	        hash, sizeof(hash));
	const char *cert[] = {"verify",  "-d",     gw.db, "-c",
	                      "C-OLD-1", "--hash", hash,  NULL};
	assert_int_equal(run(cert), 0);
	must_contain("certificate C-OLD-1: genuine");
	must_contain("was decided under rule version 1");
	free(r);
}

/* Approval by a person other than the technician (ISO/IEC 17025
 * 7.8.2.1 o): the technician is refused however the name is typed, a
 * record is approved once, a superseded or unknown record never; verify,
 * the listing and the record show it. Record 2 (C-2026-001) was
 * calibrated by "Trần Thị Bình", record 3 is superseded by record 4. */
static void approval_by_another_person(void **state)
{
	(void)state;
	const char *own[] = {"approve",    "-d",   gw.db,
	                     "C-2026-001", "--by", "  TRẦN THỊ   BÌNH ",
	                     NULL};
	assert_int_equal(run(own), 1);
	must_contain("TRẦN THỊ   BÌNH calibrated record 2 (certificate "
	             "C-2026-001) and cannot approve it: the approval must be "
	             "by another person");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM approvals"), 0);

	const char *ok[] = {"approve", "-d",
	                    gw.db,     "C-2026-001",
	                    "--by",    "Lê Văn Cường",
	                    "--role",  "Trưởng phòng / Lab manager",
	                    NULL};
	assert_int_equal(run(ok), 0);
	must_contain("approved         record 2, certificate C-2026-001\n");
	must_contain("by               Lê Văn Cường, Trưởng phòng / Lab "
	             "manager\n");
	must_contain("approval         1\n");

	const char *twice[] = {"approve", "-d",       gw.db, "C-2026-001",
	                       "--by",    "Phạm Thu", NULL};
	assert_int_equal(run(twice), 1);
	must_contain("record 2 (certificate C-2026-001) is already approved, "
	             "by Lê Văn Cường");
	const char *superseded[] = {"approve", "-d",       gw.db, "C-2026-002",
	                            "--by",    "Phạm Thu", NULL};
	assert_int_equal(run(superseded), 1);
	must_contain("record 3 (certificate C-2026-002) is superseded by "
	             "record 4");
	const char *unknown[] = {"approve", "-d",       gw.db, "C-NOPE-1",
	                         "--by",    "Phạm Thu", NULL};
	assert_int_equal(run(unknown), 1);
	must_contain("no calibration record with certificate number C-NOPE-1");
	const char *ctrl[] = {"approve", "-d",   gw.db, "S-2026-001",
	                      "--by",    "A\nB", NULL};
	assert_int_equal(run(ctrl), 2);
	must_contain("--by: a control character (0x0A)");
	const char *nobody[] = {"approve", "-d", gw.db, "S-2026-001", NULL};
	assert_int_equal(run(nobody), 2);
	must_contain("--by NAME");
	assert_int_equal(db_int(gw.db, "SELECT count(*) FROM approvals"), 1);

	/* record 1, by record 2's technician: another person here */
	const char *std[] = {"approve",       "-d", gw.db, "S-2026-001", "--by",
	                     "Trần Thị Bình", NULL};
	assert_int_equal(run(std), 0);
	must_contain("approval         2\n");

	const char *ver[] = {"verify", "-d", gw.db, NULL};
	assert_int_equal(run(ver), 0);
	must_contain("approvals intact: 2 approvals, head ");
	const char *show[] = {"calibrations", "-d", gw.db, "--id", "2", NULL};
	assert_int_equal(run(show), 0);
	must_contain(" by Lê Văn Cường, Trưởng phòng / Lab manager (approval "
	             "1)\n");
	const char *draft[] = {"calibrations", "-d", gw.db, "--id", "4", NULL};
	assert_int_equal(run(draft), 0);
	must_contain("approved         no: the certificate is a DRAFT");
	const char *csv[] = {"calibrations", "-d", gw.db, "-f", "csv", NULL};
	assert_int_equal(run(csv), 0);
	must_contain(",rule_version,approved,approved_by\r\n");
	must_contain(",C-2026-001,STD-1,");
	must_contain("Z,Lê Văn Cường\r\n");
	const char *text[] = {"calibrations", "-d", gw.db, NULL};
	assert_int_equal(run(text), 0);
	must_contain(" draft ");

	/* the database refuses changing or removing one */
	refused("UPDATE approvals SET approver = 'X' WHERE id = 1");
	must_contain("approvals are append-only");
	refused("DELETE FROM approvals WHERE id = 1");
	must_contain("approvals are append-only");
}

/* An approval changed or deleted behind the store's back: verify names
 * it. Runs before tampering_detected (the records' chain must check for
 * the approvals' to be checked). */
static void approval_tampering_detected(void **state)
{
	(void)state;
	const char *ver[] = {"verify", "-d", gw.db, NULL};

	tamper("DROP TRIGGER approvals_no_update;"
	       "DROP TRIGGER approvals_no_delete;");
	tamper("UPDATE approvals SET approver = 'Someone Else' WHERE id = 1");
	assert_int_equal(run(ver), 4);
	must_contain("approvals BROKEN at approval 1: approval 1 (record 2, "
	             "certificate C-2026-001) was altered");
	tamper("UPDATE approvals SET approver = 'Lê Văn Cường' WHERE id = 1");
	assert_int_equal(run(ver), 0);
	must_contain("approvals intact: 2 approvals");
	tamper("UPDATE approvals SET calibration_id = 5 WHERE id = 2");
	assert_int_equal(run(ver), 4);
	must_contain("approvals BROKEN at approval 2");
	must_contain("1 approvals before it check");
	tamper("UPDATE approvals SET calibration_id = 1 WHERE id = 2");
	tamper("DELETE FROM approvals WHERE id = 1");
	assert_int_equal(run(ver), 4);
	must_contain("approvals BROKEN at approval 1: approval 1 is missing");
}

/* Tampering behind the store's back, three ways; verify names the
 * record each time. Runs last: it breaks the chain for good. */
static void tampering_detected(void **state)
{
	(void)state;
	struct calib_record *r = malloc(sizeof(*r));
	struct query *q;
	char err[256], sql[512];
	const char *ver[] = {"verify", "-d", gw.db, NULL};

	assert_non_null(r);
	tamper("DROP TRIGGER calibrations_no_update;"
	       "DROP TRIGGER calibrations_no_delete;");
	/* 1. a deleted record (4, the correction) */
	tamper("DELETE FROM calibrations WHERE id = 4");
	assert_int_equal(run(ver), 4);
	must_contain("audit chain BROKEN at record 4");
	must_contain("record 4 is missing");
	must_contain("3 records before it check");

	/* 2. a changed column: record 2's content no longer hashes right */
	tamper("UPDATE calibrations SET technician = 'Someone Else' "
	       "WHERE id = 2");
	assert_int_equal(run(ver), 4);
	must_contain("audit chain BROKEN at record 2");
	must_contain("certificate C-2026-001) was altered");
	must_contain("1 records before it check");

	/* 3. the same change with record 2's hash recomputed: now the link
	 * from record 3 breaks */
	q = query_open(gw.db, err, sizeof(err));
	assert_non_null(q);
	assert_int_equal(query_calibration(q, 2, r), 0);
	query_close(q);
	assert_int_equal(calib_hash(r, r->hash), 0);
	snprintf(sql, sizeof(sql),
	         "UPDATE calibrations SET hash = '%s' WHERE id = 2", r->hash);
	tamper(sql);
	assert_int_equal(run(ver), 4);
	must_contain("audit chain BROKEN at record 3");
	must_contain("does not link to record 2");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(records_and_chain),
	        cmocka_unit_test(overdue_standard_flagged),
	        cmocka_unit_test(refusals),
	        cmocka_unit_test(refusals_of_text_and_numbers),
	        cmocka_unit_test(record_from_files),
	        cmocka_unit_test(correction_supersedes),
	        cmocka_unit_test(interval_advice),
	        cmocka_unit_test(due_states_are_events),
	        cmocka_unit_test(tolerance_over_mqtt),
	        cmocka_unit_test(append_only),
	        cmocka_unit_test(certificate_hash),
	        cmocka_unit_test(read_only),
	        cmocka_unit_test(as_left_covers_every_point),
	        cmocka_unit_test(statements_only_when_possible),
	        cmocka_unit_test(old_rules_flagged),
	        cmocka_unit_test(approval_by_another_person),
	        cmocka_unit_test(approval_tampering_detected),
	        cmocka_unit_test(tampering_detected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
