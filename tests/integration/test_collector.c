/*
 * test_collector.c - metrolog-collector against real parts: a PostgreSQL
 * 15 started by the test (pgtest.h), mosquitto, metrolog-sim and a
 * metrologd publishing two instruments (mqtttest.h), and two collectors
 * in one share group. What the gateway committed (its SQLite file) must
 * land in PostgreSQL exactly once: every seq, every reading, across a
 * SIGKILL of one collector; a message sent twice lands once; a hole in a
 * site's seq is recorded in gaps (test_exactly_once). Calibration records
 * and approvals made with the metrolog tool are archived with the lab's
 * hashes, and `metrolog-collector verify` finds the chain intact, broken
 * at a record or an approval altered in PostgreSQL, and a deleted record
 * a gap, not tampering (test_calibrations).
 */

#include "colltest.h"

/* Stop PostgreSQL, wait until both collectors hold a message they cannot
 * write ("trying again"), then (kill: SIGKILL them) start PostgreSQL
 * again and wait until both write again (kill: start them again). */
static void pg_restart_held(struct pg *p, struct coll *a, struct coll *b,
                            bool kill)
{
	struct coll *both[2] = {a, b};
	int held[2], again[2];

	for (int i = 0; i < 2; i++) {
		held[i] = mq_count_in_file(both[i]->log, "; trying again");
		again[i] = mq_count_in_file(both[i]->log, "writing again");
	}
	pg_stop(p);
	for (int i = 0; i < 2; i++)
		for (int t = 0; mq_count_in_file(both[i]->log,
		                                 "; trying again") == held[i];
		     t++) {
			if (t == 300)
				fail_msg("%s never held a message",
				         both[i]->log);
			sleep_ms(100);
		}
	for (int i = 0; kill && i < 2; i++)
		assert_true(h_stop(both[i]->pid, SIGKILL, 5000) != -1);
	pg_start(p);
	for (int i = 0; i < 2; i++) {
		if (kill) {
			coll_start(both[i]);
			continue;
		}
		for (int t = 0; mq_count_in_file(both[i]->log,
		                                 "writing again") == again[i];
		     t++) {
			if (t == 300)
				fail_msg("%s never wrote again", both[i]->log);
			sleep_ms(100);
		}
	}
}

static const char site_q[] =
        "SELECT count(*) FROM messages m JOIN sites s ON s.id = m.site_id "
        "WHERE s.name = 'test-lab'";

/* A readings message of site lab-x, instrument X-1, with seq. */
static void pub_fake(const struct rig *r, int seq)
{
	char text[512];

	snprintf(text, sizeof(text),
	         "{\"seq\":%d,\"ts\":\"2026-11-26T12:00:%02d.000000Z\","
	         "\"ts_ms\":%lld,\"instrument\":\"X-1\",\"channels\":{\"c0\":"
	         "{\"value\":%d.5,\"unit\":\"degC\",\"quality\":\"good\"}},"
	         "\"historical\":false}",
	         seq, seq, 1795694400000LL + seq * 1000LL, seq);
	assert_int_equal(mq_pub(r, "metrolog/lab-x/X-1/readings", text, NULL),
	                 0);
}

/* The gateway of r is stopped: PostgreSQL holds every seq it assigned and
 * every reading of its SQLite, once; lab-x's hole is in gaps, its
 * duplicate once; no hole of test-lab left open; events, statuses and the
 * gateway's last status. */
static void check_archive(struct rig *r, struct pg *p)
{
	long long last;

	last = db_int(r->gw.db, "SELECT seq FROM sqlite_sequence "
	                        "WHERE name = 'outbox'");
	assert_int_equal(db_int(r->gw.db, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(pg_wait_int(p, site_q, last, 60000), last);
	assert_int_equal(pg_int(p, "SELECT max(seq) FROM messages m JOIN "
	                           "sites s ON s.id = m.site_id WHERE "
	                           "s.name = 'test-lab'"),
	                 last);
	/* every reading the gateway committed, once */
	assert_int_equal(pg_int(p, "SELECT count(*) FROM readings r "
	                           "JOIN channels c ON c.id = r.channel_id "
	                           "JOIN instruments i ON i.id = "
	                           "c.instrument_id JOIN sites s ON s.id = "
	                           "i.site_id WHERE s.name = 'test-lab'"),
	                 db_int(r->gw.db, "SELECT count(*) FROM readings"));
	assert_int_equal(pg_int(p, "SELECT count(*) FROM readings r "
	                           "JOIN channels c ON c.id = r.channel_id "
	                           "WHERE r.quality = 'good'"),
	                 db_int(r->gw.db, "SELECT count(*) FROM readings "
	                                  "WHERE quality = 0") +
	                         3 /* lab-x's */);
	/* the hole of lab-x recorded once settled, the duplicate once */
	assert_int_equal(
	        pg_wait_int(p,
	                    "SELECT count(*) FROM gaps g JOIN sites s ON "
	                    "s.id = g.site_id WHERE s.name = 'lab-x' AND "
	                    "g.seq_from = 3 AND g.seq_to = 4 AND "
	                    "g.filled_at IS NULL",
	                    1, 30000),
	        1);
	assert_int_equal(pg_int(p, "SELECT count(*) FROM readings r JOIN "
	                           "channels c ON c.id = r.channel_id JOIN "
	                           "instruments i ON i.id = c.instrument_id "
	                           "WHERE i.name = 'X-1'"),
	                 3);
	/* test-lab: no hole left open (one seen while a collector was
	 * down is filled when its session is delivered) */
	assert_int_equal(
	        pg_wait_int(p,
	                    "SELECT (count(*) = 0)::int FROM gaps g JOIN "
	                    "sites s ON s.id = g.site_id WHERE "
	                    "s.name = 'test-lab' AND filled_at IS NULL",
	                    1, 30000),
	        1);
	assert_int_equal(pg_int(p, "SELECT missing FROM completeness "
	                           "WHERE site = 'test-lab'"),
	                 0);
	/* events and statuses in their tables, each once; the gateway's
	 * own status (no seq) as it was last published: stopped */
	assert_true(pg_int(p, "SELECT count(*) FROM events") > 0);
	assert_int_equal(pg_int(p, "SELECT count(*) FROM events"),
	                 pg_int(p, "SELECT count(*) FROM messages WHERE "
	                           "kind = 'events'"));
	assert_true(pg_int(p, "SELECT count(*) FROM statuses") > 0);
	assert_int_equal(pg_int(p, "SELECT count(*) FROM statuses"),
	                 pg_int(p, "SELECT count(*) FROM messages WHERE "
	                           "kind = 'status'"));
	assert_int_equal(pg_wait_int(p,
	                             "SELECT count(*) FROM gateway_status g "
	                             "JOIN sites s ON s.id = g.site_id WHERE "
	                             "s.name = 'test-lab' AND g.state = "
	                             "'offline' AND g.reason = 'stopped'",
	                             1, 30000),
	                 1);
}

static void test_exactly_once(void **state)
{
	struct rig r;
	struct pg p;
	struct coll a, b;
	long long dups;

	(void)state;
	mq_rig_config(&r, "metrolog", "sub", "");
	pg_init(&p, r.dir);
	coll_config(&a, &r, &p, "coll-a", "");
	coll_config(&b, &r, &p, "coll-b", "");
	run_tool(&a, "init", NULL, NULL);
	run_tool(&b, "init", NULL, NULL); /* a second init changes nothing */
	assert_int_equal(pg_int(&p, "SELECT max(version) FROM metrolog_schema"),
	                 5);
	coll_start(&a);
	coll_start(&b);
	/* persistent sessions: clean session (3.1.1) or clean start (5) off */
	assert_int_equal(mq_connects_as(&r, "coll-a", mq_version()), 1);
	assert_int_equal(mq_connects_as(&r, "coll-b", mq_version()), 1);
	gw_start(&r.gw);
	mq_wait_readings(&r.gw, 150);
	assert_true(pg_wait_int(&p, site_q, 20, 30000) >= 20);

	/* a collector killed mid-run, and started again */
	assert_true(h_stop(a.pid, SIGKILL, 5000) != -1);
	mq_wait_readings(&r.gw, mq_readings_in_db(&r.gw) + 150);
	coll_start(&a);
	mq_wait_readings(&r.gw, mq_readings_in_db(&r.gw) + 150);

	/* PostgreSQL restarted: each collector holds its message (not
	 * acknowledged) and writes it when the database is back */
	pg_restart_held(&p, &a, &b, false);
	mq_wait_readings(&r.gw, mq_readings_in_db(&r.gw) + 50);
	/* the same, but both collectors are killed while they hold their
	 * message: the broker sends it again, nothing is lost */
	pg_restart_held(&p, &a, &b, true);
	mq_wait_readings(&r.gw, mq_readings_in_db(&r.gw) + 50);

	/* a site with a hole (3..4) and a message sent twice */
	pub_fake(&r, 1);
	pub_fake(&r, 2);
	pub_fake(&r, 2);
	pub_fake(&r, 5);

	assert_int_equal(gw_stop(&r.gw), 0);
	check_archive(&r, &p);
	dups = coll_stop(&a) + coll_stop(&b);
	assert_true(dups >= 1);
	/* retention: lab-x's month (2026-11) goes as a whole */
	assert_int_equal(pg_int(&p, "SELECT count(*) FROM pg_class WHERE "
	                            "relname = 'readings_2026_11'"),
	                 1);
	run_tool(&a, "retention", "--before", "2026-12-01T00:00:00Z");
	assert_int_equal(pg_int(&p, "SELECT count(*) FROM pg_class WHERE "
	                            "relname IN ('readings_2026_11', "
	                            "'messages_2026_11')"),
	                 0);
	assert_int_equal(mq_count_in_file(a.log, "dropped readings_2026_11"),
	                 1);
	pg_stop(&p);
	mq_rig_finish(&r);
}

/* ---- calibration records: archived, and their chains verified ---------- */

/* The metrolog tool with args; must succeed. */
static void tool(const struct rig *r, const char *const args[])
{
	char out[8192];

	if (gw_tool(r->dir, args, out, sizeof(out)) != 0)
		fail_msg("metrolog %s: %s", args[0], out);
}

/* metrolog calibrate of TB-01 with certificate cert, performed on date,
 * under rule; numbers and a text that a careless encoding would change;
 * cid: the customer id given (--customer-id), NULL none. */
static void calibrate(const struct rig *r, const char *cert, const char *date,
                      const char *rule, const char *cid)
{
	tool(r, (const char *const[]){"calibrate",
	                              "-d",
	                              r->gw.db,
	                              "-i",
	                              "TB-01",
	                              "-c",
	                              cert,
	                              "--date",
	                              date,
	                              "-t",
	                              "Nguyễn Văn An",
	                              "--rule",
	                              rule,
	                              "--remarks",
	                              "said \"ok\" \\ 23.0 °C",
	                              "--point",
	                              "c0,degC,20,20.03,20.004,-0.1,0.1,0.02,2",
	                              "--point",
	                              "c1,degC,-40.0001,-39.99987,,-0.3,0.3,0."
	                              "012345678901234567,2",
	                              cid != NULL ? "--customer-id" : NULL,
	                              cid,
	                              NULL});
}

static void approve(const struct rig *r, const char *cert)
{
	tool(r, (const char *const[]){"approve", "-d", r->gw.db, cert, "--by",
	                              "Lê Văn Cường", "--role", "Lab manager",
	                              NULL});
}

/* metrolog-collector verify [--site site]: its exit status, its output
 * into out. */
static int verify(const struct rig *r, const struct coll *c, const char *site,
                  char *out, size_t size)
{
	char log[H_PATH_MAX];
	const char *argv[] = {COLLECTOR_BIN,
	                      "-c",
	                      c->cfg,
	                      "verify",
	                      site != NULL ? "--site" : NULL,
	                      site,
	                      NULL};
	int code;

	h_path(log, r->dir, "verify.out");
	unlink(log);
	code = h_run(argv, log, true, 60000);
	assert_true(h_read_file(log, out, size) >= 0);
	return code;
}

/* Run sql (an UPDATE or DELETE) on the archive; returns the rows. */
static long long pg_change(const struct pg *p, const char *sql)
{
	char q[1024];

	snprintf(q, sizeof(q),
	         "WITH w AS (%s RETURNING 1) SELECT count(*) FROM w", sql);
	return pg_int(p, q);
}

static void must_say(const char *out, const char *text)
{
	if (strstr(out, text) == NULL)
		fail_msg("verify did not say \"%s\": %s", text, out);
}

/* Records 1..3 are in the archive with the lab's hashes, their points,
 * and their messages in the ledger. */
static void check_records(const struct rig *r, const struct pg *p)
{
	char q[256], hash[80];

	assert_int_equal(
	        pg_wait_int(p, "SELECT count(*) FROM cal_approvals", 2, 30000),
	        2);
	assert_int_equal(pg_int(p, "SELECT count(*) FROM cal_records"), 3);
	assert_int_equal(
	        pg_int(p, "SELECT count(*) FROM cal_points"),
	        db_int(r->gw.db, "SELECT count(*) FROM calibration_points"));
	for (int id = 1; id <= 3; id++) {
		snprintf(q, sizeof(q),
		         "SELECT hash FROM calibrations WHERE id = %d", id);
		db_text(r->gw.db, q, hash, sizeof(hash));
		assert_int_equal(strlen(hash), 64);
		snprintf(q, sizeof(q),
		         "SELECT count(*) FROM cal_records WHERE record = %d "
		         "AND hash = '%s'",
		         id, hash);
		assert_int_equal(pg_int(p, q), 1);
	}
	assert_int_equal(pg_int(p, "SELECT count(*) FROM messages WHERE kind "
	                           "IN ('record', 'approval')"),
	                 5);
}

static void test_calibrations(void **state)
{
	struct rig r;
	struct pg p;
	struct coll a;
	char out[8192];

	(void)state;
	mq_rig_config(&r, "metrolog", "sub", "");
	pg_init(&p, r.dir);
	coll_config(&a, &r, &p, "coll-a", "");
	run_tool(&a, "init", NULL, NULL);
	coll_start(&a);
	gw_start(&r.gw);
	mq_wait_readings(&r.gw, 10);
	calibrate(&r, "C-1", "2026-11-01", "simple", NULL);
	calibrate(&r, "C-2", "2026-11-10", "guarded", "0101 234 567-001");
	approve(&r, "C-1");
	calibrate(&r, "C-3", "2026-11-20", "simple", NULL);
	approve(&r, "C-3");
	check_records(&r, &p);

	/* intact: every hash recomputed from the rows gives the lab's */
	assert_int_equal(verify(&r, &a, NULL, out, sizeof(out)), 0);
	must_say(out, "test-lab: records: 3 held, chain intact up to record 3");
	must_say(out, "test-lab: approvals: 2 held, chain intact up to "
	              "approval 2");
	/* a number altered in PostgreSQL: broken at that record; put back
	 * (the same double), intact again */
	assert_int_equal(pg_change(&p, "UPDATE cal_points SET as_found = "
	                               "20.031 WHERE record = 2 AND n = 1"),
	                 1);
	assert_int_equal(verify(&r, &a, "test-lab", out, sizeof(out)), 4);
	must_say(out, "test-lab: records: BROKEN at record 2: record 2 "
	              "(certificate C-2) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_points SET as_found = 20.03 "
	                               "WHERE record = 2 AND n = 1"),
	                 1);
	assert_int_equal(verify(&r, &a, "test-lab", out, sizeof(out)), 0);
	/* record 2's customer id, archived as the lab recorded it, is in its
	 * hash: cleared, broken; put back, intact */
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET customer_id = "
	                               "'' WHERE record = 2 AND customer_id = "
	                               "'0101 234 567-001'"),
	                 1);
	assert_int_equal(verify(&r, &a, "test-lab", out, sizeof(out)), 4);
	must_say(out, "test-lab: records: BROKEN at record 2: record 2 "
	              "(certificate C-2) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET customer_id = "
	                               "'0101 234 567-001' WHERE record = 2"),
	                 1);
	assert_int_equal(verify(&r, &a, "test-lab", out, sizeof(out)), 0);
	/* a text of the last record, and an approval */
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET technician = "
	                               "'Someone Else' WHERE record = 3"),
	                 1);
	assert_int_equal(verify(&r, &a, NULL, out, sizeof(out)), 4);
	must_say(out, "test-lab: records: BROKEN at record 3: record 3 "
	              "(certificate C-3) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET technician = "
	                               "'Nguyễn Văn An' WHERE record = 3"),
	                 1);
	assert_int_equal(pg_change(&p, "UPDATE cal_approvals SET role = "
	                               "'Director' WHERE approval = 2"),
	                 1);
	assert_int_equal(verify(&r, &a, NULL, out, sizeof(out)), 4);
	must_say(out, "test-lab: records: 3 held, chain intact up to record 3");
	must_say(out, "test-lab: approvals: BROKEN at approval 2: approval 2 "
	              "(record 3) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_approvals SET role = "
	                               "'Lab manager' WHERE approval = 2"),
	                 1);
	assert_int_equal(verify(&r, &a, NULL, out, sizeof(out)), 0);

	/* a record deleted: a gap, not tampering */
	assert_int_equal(pg_change(&p, "DELETE FROM cal_records WHERE "
	                               "record = 2"),
	                 1);
	assert_int_equal(verify(&r, &a, NULL, out, sizeof(out)), 3);
	must_say(out, "test-lab: records: 2 held, chain intact up to record 3");
	must_say(out, "test-lab: records: gap: record 2 missing (not "
	              "received: not tampering)");
	assert_null(strstr(out, "BROKEN"));
	assert_int_equal(verify(&r, &a, "no-such-lab", out, sizeof(out)), 1);
	must_say(out, "no site no-such-lab in the archive");

	assert_int_equal(gw_stop(&r.gw), 0);
	coll_stop(&a);
	pg_stop(&p);
	mq_rig_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_exactly_once, h_teardown),
	        cmocka_unit_test_teardown(test_calibrations, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
