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

/* A gateway status for lab-x: connected and ts "HH:MM:SS" (NULL: absent,
 * as in a Last Will or an older gateway's status), last_seq (< 0:
 * absent). */
static void pub_status_seq(const struct rig *r, const char *state,
                           const char *reason, const char *connected,
                           const char *ts, int last_seq)
{
	char text[512], c[64] = "", t[64] = "", l[32] = "";

	if (connected != NULL)
		snprintf(c, sizeof(c),
		         ",\"connected\":\"2026-11-26T%s.000000Z\"", connected);
	if (ts != NULL)
		snprintf(t, sizeof(t), ",\"ts\":\"2026-11-26T%s.000000Z\"", ts);
	if (last_seq >= 0)
		snprintf(l, sizeof(l), ",\"last_seq\":%d", last_seq);
	snprintf(text, sizeof(text), "{\"state\":\"%s\",\"reason\":%s%s%s%s}",
	         state, reason, c, t, l);
	assert_int_equal(mq_pub(r, "metrolog/lab-x/gateway/status", text, NULL),
	                 0);
}

static void pub_status(const struct rig *r, const char *state,
                       const char *reason, const char *connected,
                       const char *ts)
{
	pub_status_seq(r, state, reason, connected, ts, -1);
}

/* Whether lab-x's gateway status in PostgreSQL is state, reason (NULL:
 * none) and ts "HH:MM:SS" (NULL: none): 1 or 0. */
static long long lab_x_status(const struct pg *p, const char *state,
                              const char *reason, const char *ts)
{
	char q[512], r[64], t[64];

	if (reason != NULL)
		snprintf(r, sizeof(r), "= '%s'", reason);
	else
		snprintf(r, sizeof(r), "IS NULL");
	if (ts != NULL)
		snprintf(t, sizeof(t), "= '2026-11-26T%sZ'", ts);
	else
		snprintf(t, sizeof(t), "IS NULL");
	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM gateway_status g JOIN sites s ON s.id = "
	         "g.site_id WHERE s.name = 'lab-x' AND g.state = '%s' AND "
	         "g.reason %s AND g.ts %s",
	         state, r, t);
	for (int waited = 0; waited <= 30000; waited += 100) {
		if (pg_int(p, q) == 1)
			return 1;
		sleep_ms(100);
	}
	return 0;
}

/* The newest gateway status is kept whatever order statuses arrive in
 * (several collectors write them in any order): statuses published out
 * of order to one collector, then a reading of lab-x as a barrier (one
 * collector archives in the order of arrival). */
static void check_status_order(const struct rig *r, const struct pg *p,
                               int barrier)
{
	char q[256];

	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM messages m JOIN sites s ON s.id = "
	         "m.site_id WHERE s.name = 'lab-x' AND m.seq = %d",
	         barrier);
	/* the current connection's, then an older connection's stop and
	 * Last Will, late */
	pub_status(r, "online", "null", "12:10:00", "12:10:05");
	pub_status(r, "offline", "\"stopped\"", "12:00:00", "12:05:00");
	pub_status(r, "offline", "\"lost\"", "12:00:00", NULL);
	pub_fake(r, barrier);
	assert_int_equal(pg_wait_int(p, q, 1, 30000), 1);
	assert_int_equal(
	        pg_int(p, "SELECT count(*) FROM gateway_status g JOIN sites s "
	                  "ON s.id = g.site_id WHERE s.name = 'lab-x' AND "
	                  "g.state = 'online' AND g.ts = "
	                  "'2026-11-26T12:10:05Z'"),
	        1);
	/* the current connection's Last Will is its last word */
	pub_status(r, "offline", "\"lost\"", "12:10:00", NULL);
	assert_int_equal(lab_x_status(p, "offline", "lost", NULL), 1);
	/* a status without "connected" (an older gateway) replaces any */
	pub_status(r, "online", "null", NULL, "11:00:00");
	assert_int_equal(lab_x_status(p, "online", NULL, "11:00:00"), 1);
}

/* A lost tail: lab-x's messages up to `held` are held; its gateway's
 * status says it published up to held + 2 before it. Once settled, the
 * two are a gap, and completeness counts them missing. */
static void check_lost_tail(const struct rig *r, const struct pg *p, int held)
{
	char q[256];

	pub_status_seq(r, "offline", "\"stopped\"", "12:20:00", "12:20:01",
	               held + 2);
	snprintf(q, sizeof(q),
	         "SELECT count(*) FROM gaps g JOIN sites s ON s.id = "
	         "g.site_id WHERE s.name = 'lab-x' AND g.seq_from = %d AND "
	         "g.seq_to = %d",
	         held + 1, held + 2);
	assert_int_equal(pg_wait_int(p, q, 1, 30000), 1);
	assert_int_equal(pg_int(p, "SELECT expected * 1000 + missing FROM "
	                           "completeness WHERE site = 'lab-x'"),
	                 (held + 2) * 1000 + 2);
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
	/* which names the last seq it sent: nothing after it is missing */
	assert_int_equal(pg_int(p, "SELECT (payload->>'last_seq')::bigint FROM "
	                           "gateway_status g JOIN sites s ON s.id = "
	                           "g.site_id WHERE s.name = 'test-lab'"),
	                 last);
	assert_int_equal(pg_int(p, "SELECT missing FROM completeness "
	                           "WHERE site = 'test-lab'"),
	                 0);
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
	/* each message acknowledged only once committed: what a killed
	 * collector held, the broker sends again (batches: test_batch_killed
	 * of test_collector_replay.c) */
	coll_config(&a, &r, &p, "coll-a", "batch_max = 1; ");
	coll_config(&b, &r, &p, "coll-b", "batch_max = 1; ");
	run_tool(&a, "init", NULL, NULL);
	run_tool(&b, "init", NULL, NULL); /* a second init changes nothing */
	assert_int_equal(pg_int(&p, "SELECT max(version) FROM metrolog_schema"),
	                 6);
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

/* A rig (not started), PostgreSQL and one collector, coll-a, running. */
static void one_collector(struct rig *r, struct pg *p, struct coll *a)
{
	mq_rig_config(r, "metrolog", "sub", "");
	pg_init(p, r->dir);
	coll_config(a, r, p, "coll-a", "");
	run_tool(a, "init", NULL, NULL);
	coll_start(a);
}

/* One collector (order of arrival is then order of writing): gateway
 * statuses out of order keep the newest. */
static void test_status_order(void **state)
{
	struct rig r;
	struct pg p;
	struct coll a;

	(void)state;
	one_collector(&r, &p, &a);
	assert_int_equal(mq_connects_as(&r, "coll-a", mq_version()), 1);
	check_status_order(&r, &p, 1);
	check_lost_tail(&r, &p, 1);
	coll_stop(&a);
	pg_stop(&p);
	mq_rig_finish(&r);
}

/* ---- calibration records: archived, and their chains verified ---------- */

/* metrolog calibrate of TB-01 with certificate cert, performed on date,
 * under rule; numbers and a text that a careless encoding would change;
 * cid: the customer id given (--customer-id), NULL none. */
static void calibrate(const struct rig *r, const char *cert, const char *date,
                      const char *rule, const char *cid)
{
	coll_lab_tool(r, (const char *const[]){
	                         "calibrate",
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
	one_collector(&r, &p, &a);
	gw_start(&r.gw);
	mq_wait_readings(&r.gw, 10);
	calibrate(&r, "C-1", "2026-11-01", "simple", NULL);
	calibrate(&r, "C-2", "2026-11-10", "guarded", "0101 234 567-001");
	coll_approve(&r, "C-1");
	calibrate(&r, "C-3", "2026-11-20", "simple", NULL);
	coll_approve(&r, "C-3");
	check_records(&r, &p);

	/* intact: every hash recomputed from the rows gives the lab's */
	assert_int_equal(coll_verify(&r, &a, NULL, out, sizeof(out)), 0);
	must_say(out, "test-lab: records: 3 held, chain intact up to record 3");
	must_say(out, "test-lab: approvals: 2 held, chain intact up to "
	              "approval 2");
	/* a number altered in PostgreSQL: broken at that record; put back
	 * (the same double), intact again */
	assert_int_equal(pg_change(&p, "UPDATE cal_points SET as_found = "
	                               "20.031 WHERE record = 2 AND n = 1"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, "test-lab", out, sizeof(out)), 4);
	must_say(out, "test-lab: records: BROKEN at record 2: record 2 "
	              "(certificate C-2) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_points SET as_found = 20.03 "
	                               "WHERE record = 2 AND n = 1"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, "test-lab", out, sizeof(out)), 0);
	/* record 2's customer id, archived as the lab recorded it, is in its
	 * hash: cleared, broken; put back, intact */
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET customer_id = "
	                               "'' WHERE record = 2 AND customer_id = "
	                               "'0101 234 567-001'"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, "test-lab", out, sizeof(out)), 4);
	must_say(out, "test-lab: records: BROKEN at record 2: record 2 "
	              "(certificate C-2) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET customer_id = "
	                               "'0101 234 567-001' WHERE record = 2"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, "test-lab", out, sizeof(out)), 0);
	/* a text of the last record, and an approval */
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET technician = "
	                               "'Someone Else' WHERE record = 3"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, NULL, out, sizeof(out)), 4);
	must_say(out, "test-lab: records: BROKEN at record 3: record 3 "
	              "(certificate C-3) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_records SET technician = "
	                               "'Nguyễn Văn An' WHERE record = 3"),
	                 1);
	assert_int_equal(pg_change(&p, "UPDATE cal_approvals SET role = "
	                               "'Director' WHERE approval = 2"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, NULL, out, sizeof(out)), 4);
	must_say(out, "test-lab: records: 3 held, chain intact up to record 3");
	must_say(out, "test-lab: approvals: BROKEN at approval 2: approval 2 "
	              "(record 3) was altered");
	assert_int_equal(pg_change(&p, "UPDATE cal_approvals SET role = "
	                               "'Lab manager' WHERE approval = 2"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, NULL, out, sizeof(out)), 0);

	/* a record deleted: a gap, not tampering */
	assert_int_equal(pg_change(&p, "DELETE FROM cal_records WHERE "
	                               "record = 2"),
	                 1);
	assert_int_equal(coll_verify(&r, &a, NULL, out, sizeof(out)), 3);
	must_say(out, "test-lab: records: 2 held, chain intact up to record 3");
	must_say(out, "test-lab: records: gap: record 2 missing (not "
	              "received: not tampering)");
	assert_null(strstr(out, "BROKEN"));
	assert_int_equal(coll_verify(&r, &a, "no-such-lab", out, sizeof(out)),
	                 1);
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
	        cmocka_unit_test_teardown(test_status_order, h_teardown),
	        cmocka_unit_test_teardown(test_calibrations, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
