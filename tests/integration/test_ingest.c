/*
 * test_ingest.c - the ingest loop (gateway/daemon/ingest.c) without a
 * process: a configuration loaded from a file, a real queue, a real SQLite
 * file, and a clock the test drives (sleeping advances it; nothing waits
 * for real time but queue_pop's short waits on an empty queue). Commit by
 * age and by count, a locked database (kept, retried with back-off,
 * nothing lost), the drain before a stop (and giving up after 30 s of
 * failures), a reload that keeps the rows of what stays, and a due date's
 * overdue event at the local midnight after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <sqlite3.h>
#include <time.h>

#include "calib.h"
#include "config_load.h"
#include "fakeclock.h"
#include "harness.h"
#include "ingest.h"
#include "queue.h"
#include "store.h"

#define MS 1000LL

/* ---- one ingest loop over a file ---------------------------------------- */

struct rig {
	struct fake_clock t;
	struct mclock clk;
	char dir[H_PATH_MAX], db[H_PATH_MAX];
	struct config *cfg;
	struct store *st;
	struct queue *q;
	struct ingest *in;
};

/* A configuration of instruments "A" (channels x, y) and, when with_b,
 * "B" (channel z), batch_max and batch_ms as given. */
static struct config *load(struct rig *r, bool with_b, int batch_max,
                           int batch_ms)
{
	char path[H_PATH_MAX], text[2048];
	FILE *f;

	snprintf(
	        text, sizeof(text),
	        "site = \"s\";\ndatabase = \"%s\";\n"
	        "storage = { batch_max = %d; batch_ms = %d; };\n"
	        "buses = ( { name = \"b\"; type = \"tcp\"; host = "
	        "\"localhost\"; port = 502; } );\n"
	        "instruments = (\n"
	        " { id = \"A\"; bus = \"b\"; unit_id = 1; interval_ms = 1000;"
	        "  channels = ( { name = \"x\"; table = \"input\"; address = 0;"
	        " type = \"uint16\"; }, { name = \"y\"; table = \"input\";"
	        " address = 1; type = \"uint16\"; } ); }%s\n);\n",
	        r->db, batch_max, batch_ms,
	        with_b ? ",\n { id = \"B\"; bus = \"b\"; unit_id = 2; "
	                 "interval_ms = 1000; channels = ( { name = \"z\"; "
	                 "table = \"input\"; address = 0; type = \"uint16\";"
	                 " } ); }"
	               : "");
	f = fopen(h_path(path, r->dir, "gw.cfg"), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	struct config *c = config_load(path, stderr);
	assert_non_null(c);
	return c;
}

static void rig_up(struct rig *r, int batch_max, int batch_ms)
{
	char err[512];

	memset(r, 0, sizeof(*r));
	r->t = (struct fake_clock){.real = 1700000000000000LL, .mono = 1000};
	r->clk = fake_clock_of(&r->t);
	snprintf(r->dir, sizeof(r->dir), "%s", h_tmpdir());
	h_path(r->db, r->dir, "metrolog.db");
	r->cfg = load(r, false, batch_max, batch_ms);
	r->st = store_open(r->db, err, sizeof(err));
	if (r->st == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_set_busy_timeout(r->st, 0), 0);
	assert_int_equal(store_sync_config(r->st, r->cfg), 0);
	r->q = queue_new(4096, QUEUE_DROP_OLDEST);
	assert_non_null(r->q);
	r->in = ingest_new(r->cfg, r->st, r->q, &r->clk);
	assert_non_null(r->in);
}

static void rig_down(struct rig *r)
{
	ingest_free(r->in);
	queue_free(r->q);
	store_close(r->st);
	config_free(r->cfg);
	memset(r, 0, sizeof(*r));
}

/* The rig of the running test: each test brings it up (rig_up()), the
 * cmocka teardown takes it down, even after a failed assertion. */
static struct rig rig;

static int rig_teardown(void **state)
{
	(void)state;
	rig_down(&rig);
	return 0;
}

/* n readings of channel index ch, one ms apart from ts. */
static void push(struct rig *r, uint32_t ch, size_t n, int64_t ts)
{
	for (size_t i = 0; i < n; i++) {
		struct sample s = {.ts_us = ts + (int64_t)i * MS,
		                   .index = ch,
		                   .kind = SAMPLE_READING,
		                   .value = (double)i};
		assert_int_equal(queue_push(r->q, &s, 1), 0);
	}
}

static int64_t count(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(store_archive_auto(), 0); /* the readings view */
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static int64_t readings(const struct rig *r)
{
	return count(r->db, "SELECT count(*) FROM readings");
}

/* Another process's write transaction on the file (NULL: none). */
static sqlite3 *lock_db(const char *db)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	                 SQLITE_OK);
	return h;
}

static void unlock_db(sqlite3 *h)
{
	assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(h);
}

/* ---- tests -------------------------------------------------------------- */

/* An open batch is committed when its first sample is batch_ms old, not
 * before, and as a whole. */
static void test_commit_by_age(void **state)
{
	struct ingest_stats s;

	(void)state;
	rig_up(&rig, 100, 200);
	push(&rig, 0, 3, rig.t.real);
	ingest_step(rig.in, 0);
	int64_t opened = rig.t.mono;
	ingest_get_stats(rig.in, &s);
	assert_int_equal(s.pending, 3);
	while (readings(&rig) == 0) {
		assert_true(rig.t.mono < opened + 200 * MS);
		ingest_step(rig.in, 0);
		assert_true(rig.t.mono <= opened + 10 * 1000 * MS);
	}
	assert_true(rig.t.mono >= opened + 200 * MS);
	assert_int_equal(readings(&rig), 3);
	ingest_get_stats(rig.in, &s);
	assert_int_equal(s.pending, 0);
	assert_int_equal(s.readings, 3);
}

/* A full batch is committed at once, whatever its age. */
static void test_commit_by_count(void **state)
{
	(void)state;
	rig_up(&rig, 50, 10000);
	push(&rig, 1, 50, rig.t.real);
	int64_t t0 = rig.t.mono;
	ingest_step(rig.in, 0);
	assert_int_equal(readings(&rig), 50);
	assert_int_equal(rig.t.mono, t0);
}

/* A locked database: the batch is kept, tried again after 100 ms, then
 * 200, 400 ms..., not in between; once the lock goes it commits, nothing
 * lost and nothing twice. */
static void test_locked_retry(void **state)
{
	struct ingest_stats s;

	(void)state;
	rig_up(&rig, 10, 1000);
	sqlite3 *lock = lock_db(rig.db);
	push(&rig, 0, 10, rig.t.real);
	ingest_step(rig.in, 0); /* full: commits, fails */
	ingest_get_stats(rig.in, &s);
	assert_int_equal(s.commit_failures, 1);
	assert_true(s.retrying);
	assert_int_equal(s.pending, 10);
	int64_t failed = rig.t.mono;
	/* no attempt before the back-off ends */
	while (rig.t.mono < failed + 100 * MS) {
		ingest_step(rig.in, 0);
		ingest_get_stats(rig.in, &s);
		if (rig.t.mono < failed + 100 * MS)
			assert_int_equal(s.commit_failures, 1);
	}
	ingest_step(rig.in, 0);
	ingest_get_stats(rig.in, &s);
	assert_int_equal(s.commit_failures, 2); /* then 200 ms */
	int64_t second = rig.t.mono;
	while (rig.t.mono < second + 200 * MS) {
		ingest_get_stats(rig.in, &s);
		assert_int_equal(s.commit_failures, 2);
		ingest_step(rig.in, 0);
	}
	unlock_db(lock);
	push(&rig, 1, 5, rig.t.real); /* more while it waited: kept in order */
	for (int i = 0; i < 1000 && readings(&rig) < 15; i++)
		ingest_step(rig.in, 0);
	assert_int_equal(readings(&rig), 15);
	assert_int_equal(count(rig.db, "SELECT count(DISTINCT ts) FROM readings"
	                               " WHERE channel = (SELECT min(id)"
	                               " FROM channels)"),
	                 10);
	ingest_get_stats(rig.in, &s);
	assert_false(s.retrying);
	assert_int_equal(s.readings, 15);
}

/* Before a stop: everything queued is committed, in batches. */
static void test_drain(void **state)
{
	(void)state;
	rig_up(&rig, 100, 10000);
	push(&rig, 0, 250, rig.t.real);
	push(&rig, 1, 7, rig.t.real);
	assert_int_equal(ingest_drain(rig.in), 0);
	assert_int_equal(readings(&rig), 257);
}

/* A drain that cannot commit gives up after 30 s and says how many
 * samples it could not commit. */
static void test_drain_gives_up(void **state)
{
	(void)state;
	rig_up(&rig, 100, 10000);
	sqlite3 *lock = lock_db(rig.db);
	push(&rig, 0, 120, rig.t.real);
	int64_t t0 = rig.t.mono;
	assert_int_equal(ingest_drain(rig.in), 120);
	assert_true(rig.t.mono >= t0 + 30 * 1000 * MS);
	unlock_db(lock);
	assert_int_equal(readings(&rig), 0);
}

/* A reload (after a drain): a new instrument is polled into its own
 * rows; what stays keeps its rows (same channel ids). */
static void test_reload(void **state)
{
	(void)state;
	rig_up(&rig, 100, 1);
	push(&rig, 1, 2, rig.t.real); /* A.y */
	assert_int_equal(ingest_drain(rig.in), 0);
	int64_t y = count(rig.db, "SELECT id FROM channels WHERE name = 'y'");
	struct config *next = load(&rig, true, 100, 1);
	assert_int_equal(ingest_reload(rig.in, next), 0);
	config_free(rig.cfg);
	rig.cfg = next;
	push(&rig, 2, 3, rig.t.real + 10 * MS); /* B.z */
	push(&rig, 1, 1, rig.t.real + 20 * MS); /* A.y */
	assert_int_equal(ingest_drain(rig.in), 0);
	assert_int_equal(count(rig.db, "SELECT count(*) FROM readings r"
	                               " JOIN channels c ON c.id = r.channel"
	                               " WHERE c.name = 'z'"),
	                 3);
	char sql[128];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM readings WHERE channel = %lld",
	         (long long)y);
	assert_int_equal(count(rig.db, sql), 3);
}

/* One second of the clock, real and monotonic, then one step. */
static void step_at(struct rig *r, int64_t real)
{
	r->t.real = real;
	r->t.mono += 1000 * MS;
	ingest_step(r->in, 0);
}

static int64_t overdue_events(const struct rig *r)
{
	return count(r->db, "SELECT count(*) FROM events WHERE kind ="
	                    " 'calibration' AND state_to = 'overdue'");
}

/* In Vietnam (+07:00) a calibration due at 10:00 local on 2023-11-16 is
 * not overdue during that day, and its overdue event comes at the local
 * midnight after it, not up to a minute later (the due states are
 * recomputed when one changes, not only every minute). */
static void test_due_at_local_midnight(void **state)
{
	(void)state;
	const int64_t due = 1700103600000000LL; /* 2023-11-16T10:00+07:00 */
	const int64_t midnight = 1700154000000000LL; /* 2023-11-17T00:00+07 */
	struct calib_record *r = calloc(1, sizeof(*r));
	const char *was = getenv("TZ");
	char *old = was != NULL ? strdup(was) : NULL;

	assert_non_null(r);
	assert_int_equal(setenv("TZ", "<+07>-7", 1), 0);
	tzset();
	rig_up(&rig, 100, 1);
	snprintf(r->instrument, sizeof(r->instrument), "A");
	snprintf(r->certificate, sizeof(r->certificate), "C-1");
	snprintf(r->technician, sizeof(r->technician), "T");
	r->performed_us = due - 86400 * 1000 * MS;
	r->interval_days = 1;
	r->npoints = 1;
	struct calib_point *p = &r->points[0];
	snprintf(p->quantity, sizeof(p->quantity), "temperature");
	snprintf(p->unit, sizeof(p->unit), "degC");
	p->reference = 20;
	p->as_found = 20.01;
	p->as_left = NAN;
	p->lower = -0.5;
	p->upper = 0.5;
	p->U = 0.0625;
	p->k = 2;
	assert_int_equal(store_cal_append(rig.st, r), 0);
	assert_int_equal(r->due_us, due);
	free(r);

	step_at(&rig, due - 3600 * 1000 * MS); /* learns: due_soon */
	step_at(&rig, due + 1000 * MS);
	step_at(&rig, midnight - 30 * 1000 * MS); /* 23:59:30 local */
	step_at(&rig, midnight - 1000 * MS);
	assert_int_equal(overdue_events(&rig), 0);
	step_at(&rig, midnight);
	assert_int_equal(overdue_events(&rig), 1);
	assert_int_equal(count(rig.db, "SELECT ts FROM events WHERE kind ="
	                               " 'calibration' AND state_to ="
	                               " 'overdue'"),
	                 midnight);
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_commit_by_age, rig_teardown),
	        cmocka_unit_test_teardown(test_commit_by_count, rig_teardown),
	        cmocka_unit_test_teardown(test_locked_retry, rig_teardown),
	        cmocka_unit_test_teardown(test_drain, rig_teardown),
	        cmocka_unit_test_teardown(test_drain_gives_up, rig_teardown),
	        cmocka_unit_test_teardown(test_reload, rig_teardown),
	        cmocka_unit_test_teardown(test_due_at_local_midnight,
	                                  rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
