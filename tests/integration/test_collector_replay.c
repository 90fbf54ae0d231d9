/*
 * test_collector_replay.c - holes in a gateway's seq repaired by replay,
 * against real parts: PostgreSQL 15 (pgtest.h), mosquitto with a small
 * max_queued_messages, metrolog-sim, metrologd with mqtt.replay_per_s =
 * RATE and one metrolog-collector (colltest.h).
 *
 * A hole made for real: the collector is stopped while the gateway
 * publishes, the broker queues QUEUE messages for its session and drops
 * the rest. Started again, the collector records the gap, asks the
 * gateway for a replay, and afterwards PostgreSQL holds every seq the
 * gateway assigned, each once, and exactly the readings of its SQLite
 * file (test_repair). The replay is limited to RATE messages a second,
 * counted at a subscriber, and live readings keep coming meanwhile; each
 * replayed message is the original, byte for byte but for "historical"
 * and "replay". When the lab's retention deleted readings of the hole
 * (the readings older than a cutoff, deleted from the gateway's SQLite as
 * its retention does), those seqs are recorded unrepairable with their
 * time range, and every other seq is held (test_repair_retention).
 * Calibration records (one superseding another) and an approval made
 * with the metrolog tool while the collector is away fall into the hole:
 * replayed from the gateway's seqs, byte for byte, they land in
 * PostgreSQL once with the lab's hashes and `metrolog-collector verify`
 * finds the site's chains intact (test_repair_records).
 */
#include <math.h>
#include <stdlib.h>

#include "colltest.h"
#include "sqltest.h"

#define RATE    20  /* the gateway's mqtt.replay_per_s */
#define QUEUE   20  /* the broker's max_queued_messages */
#define HOLE    200 /* seqs published while the collector is away */
#define SUB_MAX (8 << 20)

static const char lab_seqs[] =
        "SELECT m.seq FROM messages m JOIN sites s ON s.id = m.site_id "
        "WHERE s.name = 'test-lab' ORDER BY m.seq";

/* The rig of mqtttest.h (two instruments polled every 100 ms), with a
 * broker that queues at most QUEUE messages per client and a subscriber
 * on metrolog/# that writes each message's arrival time (%U). */
static void rig_up(struct rig *r)
{
	char bus[256], insts[2048], extra[512], conf[64];

	mq_rig_init(r);
	snprintf(conf, sizeof(conf), "max_queued_messages %d\n", QUEUE);
	mq_broker_start(r, conf);
	assert_int_equal(
	        h_sim_start(&r->sim, r->dir, true, false,
	                    (const char *const[]){"-n", "2", "-m", "3", NULL}),
	        0);
	mq_sub_start(r, "metrolog/#", NULL, "metrolog/probe", "sub",
	             (const char *const[]){"-F", "%U %t %p", NULL}, NULL);
	gw_init(&r->gw, r->dir);
	tcp_bus(bus, sizeof(bus), "bench", r->sim.port, 500);
	mq_two_instruments(insts, sizeof(insts), 100);
	snprintf(extra, sizeof(extra),
	         "storage = { batch_ms = 50; };\n"
	         "mqtt = { port = %d; prefix = \"metrolog\"; keepalive_s = 5; "
	         "replay_per_s = %d; version = %d; };",
	         r->broker.port, RATE, mq_version());
	gw_config(&r->gw, bus, insts, extra);
}

/* The readings older than cutoff (UTC us) deleted from the gateway's
 * SQLite as its retention does (store_retention(): readings_recent rows,
 * whole archive blocks), metrologd running. */
static void lab_retention(const struct rig *r, long long cutoff)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	         "DELETE FROM readings_recent WHERE ts < %lld; "
	         "DELETE FROM archive_blocks WHERE ts_last < %lld;",
	         cutoff, cutoff);
	db_exec(r->gw.db, sql);
}

/* Stop collector c while the gateway publishes HOLE seqs, so that the
 * broker drops all but QUEUE of them; with retention, the readings older
 * than the middle of that time are deleted at the lab (the cutoff into
 * *cutoff, else 0). Then start c again. */
static void make_hole(struct rig *r, struct coll *c, bool retention,
                      long long *cutoff)
{
	long long from;

	(void)coll_stop(c);
	from = coll_last_seq(&r->gw);
	coll_wait_seq(&r->gw, from + HOLE / 2);
	*cutoff = retention ? db_int(r->gw.db, "SELECT max(ts) FROM "
	                                       "readings_recent")
	                    : 0;
	coll_wait_seq(&r->gw, from + HOLE);
	if (retention)
		lab_retention(r, *cutoff);
	coll_start(c);
}

/* Wait until a gap was recorded for test-lab and every gap is filled or
 * closed (held or unrepairable), then stop the gateway and wait until
 * every seq it assigned is held or unrepairable. */
static void wait_repaired(struct rig *r, struct pg *p)
{
	long long last;

	assert_true(pg_wait_int(p,
	                        "SELECT count(*) FROM gaps g JOIN sites s ON "
	                        "s.id = g.site_id WHERE s.name = 'test-lab'",
	                        1, 60000) >= 1);
	assert_int_equal(pg_wait_int(p,
	                             "SELECT (count(*) = 0)::int FROM gaps "
	                             "WHERE filled_at IS NULL AND closed_at "
	                             "IS NULL",
	                             1, 180000),
	                 1);
	assert_int_equal(gw_stop(&r->gw), 0);
	last = coll_last_seq(&r->gw);
	assert_int_equal(pg_wait_int(p,
	                             "SELECT held + unrepairable FROM "
	                             "completeness WHERE site = 'test-lab'",
	                             last, 120000),
	                 last);
}

/* Every seq 1..last of the gateway is held once or unrepairable, never
 * both; every unrepairable one is a readings message whose readings
 * retention deleted (its row in seqs, none of its readings left), with
 * its times; returns how many seqs are unrepairable. */
static long long check_seqs(const struct rig *r, const struct pg *p)
{
	long long last = coll_last_seq(&r->gw),
	          *v = calloc((size_t)last + 16, 8);
	long long from[64], to[64], n, bad = 0, unrep = 0;
	unsigned char *cover = calloc((size_t)last + 2, 1);
	char sql[512];

	assert_non_null(v);
	assert_non_null(cover);
	n = (long long)pg_ints(p, lab_seqs, v, (size_t)last + 16);
	assert_int_equal(n, pg_int(p, "SELECT count(DISTINCT m.seq) FROM "
	                              "messages m JOIN sites s ON s.id = "
	                              "m.site_id WHERE s.name = 'test-lab'"));
	for (long long i = 0; i < n; i++) {
		assert_true(v[i] >= 1 && v[i] <= last);
		cover[v[i]] += 1;
	}
	n = (long long)pg_ints(
	        p, "SELECT seq_from FROM unrepairable ORDER BY 1", from, 64);
	assert_true(n <= 64);
	pg_ints(p, "SELECT seq_to FROM unrepairable ORDER BY seq_from", to, 64);
	for (long long k = 0; k < n; k++) {
		for (long long s = from[k]; s <= to[k]; s++) {
			assert_true(s >= 1 && s <= last);
			cover[s] += 2;
			unrep++;
		}
		snprintf(
		        sql, sizeof(sql),
		        "SELECT count(*) FROM seqs s WHERE s.seq BETWEEN %lld "
		        "AND %lld AND (s.instrument IS NULL OR EXISTS (SELECT "
		        "1 FROM readings r JOIN channels c ON c.id = r.channel "
		        "WHERE c.instrument_id = s.instrument AND r.ts = "
		        "s.ts))",
		        from[k], to[k]);
		assert_int_equal(db_int(r->gw.db, sql), 0);
	}
	for (long long s = 1; s <= last; s++)
		if (cover[s] != 1 && cover[s] != 2) {
			print_error("seq %lld: %s\n", s,
			            cover[s] == 0
			                    ? "neither held nor unrepairable"
			                    : "held and unrepairable");
			bad++;
		}
	assert_int_equal(bad, 0);
	assert_int_equal(pg_int(p, "SELECT count(*) FROM unrepairable WHERE "
	                           "reason <> 'retention' OR ts_from IS NULL "
	                           "OR ts_to IS NULL OR ts_to < ts_from"),
	                 0);
	free(v);
	free(cover);
	return unrep;
}

/* The readings of test-lab in PostgreSQL with ts >= cutoff (UTC us) are
 * exactly those of the gateway's SQLite, each once; events and statuses
 * each once. */
static void check_readings(const struct rig *r, const struct pg *p,
                           long long cutoff)
{
	char pq[512], sq[128];

	snprintf(pq, sizeof(pq),
	         "SELECT count(*) FROM readings r JOIN channels c ON c.id = "
	         "r.channel_id JOIN instruments i ON i.id = c.instrument_id "
	         "JOIN sites s ON s.id = i.site_id WHERE s.name = 'test-lab' "
	         "AND r.ts >= 'epoch'::timestamptz + %lld * interval '1 "
	         "microsecond'",
	         cutoff);
	snprintf(sq, sizeof(sq),
	         "SELECT count(*) FROM readings WHERE ts >= %lld", cutoff);
	assert_true(db_int(r->gw.db, sq) > 0);
	assert_int_equal(pg_int(p, pq), db_int(r->gw.db, sq));
	assert_int_equal(pg_int(p, "SELECT count(*) FROM events"),
	                 pg_int(p, "SELECT count(*) FROM messages WHERE "
	                           "kind = 'events'"));
	assert_int_equal(pg_int(p, "SELECT count(*) FROM statuses"),
	                 pg_int(p, "SELECT count(*) FROM messages WHERE "
	                           "kind = 'status'"));
}

/* One line of the subscriber's file: arrival time, topic, payload. */
struct line {
	double t;
	const char *topic, *payload; /* in the file's text, NUL-terminated */
};

/* The subscriber's lines into *out (a heap array of *n, pointing into
 * text, which it modifies). */
static void read_lines(char *text, struct line **out, size_t *n)
{
	size_t cap = 1024;
	struct line *v = malloc(cap * sizeof(*v));
	char *save = NULL;

	assert_non_null(v);
	*n = 0;
	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char *sp1 = strchr(l, ' '), *sp2;
		if (sp1 == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL)
			continue;
		*sp1 = *sp2 = '\0';
		if (*n == cap)
			assert_non_null(
			        v = realloc(v, (cap *= 2) * sizeof(*v)));
		v[(*n)++] = (struct line){strtod(l, NULL), sp1 + 1, sp2 + 1};
	}
	*out = v;
}

/* The length of payload without its "historical" tail (and "replay"). */
static size_t body_len(const char *payload)
{
	const char *h = strstr(payload, ",\"historical\":");

	assert_non_null(h);
	return (size_t)(h - payload);
}

/* Each replayed message is its original but for the tail; at most about
 * RATE a second: over the whole stream (its mean), and in any 1 s window
 * of receipt RATE, the bucket's 0.2 s and up to 0.5 s of messages that
 * the broker or this busy machine's scheduler delivered late and together
 * (a window counted where they arrive, not where the gateway sent them;
 * a gateway without the limit sends the HOLE at once); live readings came
 * at their pace meanwhile. Returns the number of replayed messages. */
static long long check_replay_stream(const struct rig *r)
{
	static char text[SUB_MAX];
	struct line *v;
	size_t n, nrep = 0, live = 0, win = 0;
	double first = -1, last = -1;

	assert_true(h_read_file(r->sub_out, text, sizeof(text)) > 0);
	read_lines(text, &v, &n);
	for (size_t i = 0, j = 0; i < n; i++) {
		if (strstr(v[i].payload, "\"replay\":true") == NULL)
			continue;
		assert_non_null(strstr(v[i].payload, "\"historical\":true"));
		if (first < 0)
			first = v[i].t;
		last = v[i].t;
		nrep++;
		/* the window of 1 s ending at this one */
		while (v[j].t < v[i].t - 1.0 ||
		       strstr(v[j].payload, "\"replay\":true") == NULL)
			j++;
		size_t in = 0;
		for (size_t k = j; k <= i; k++)
			in += strstr(v[k].payload, "\"replay\":true") != NULL;
		win = in > win ? in : win;
		/* its original: same topic, same seq, same fields */
		long long seq = mq_json_int(v[i].payload, "seq");
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = k != i &&
			        strstr(v[k].payload, "\"replay\":true") ==
			                NULL &&
			        strcmp(v[k].topic, v[i].topic) == 0 &&
			        mq_json_int(v[k].payload, "seq") == seq &&
			        body_len(v[k].payload) ==
			                body_len(v[i].payload) &&
			        memcmp(v[k].payload, v[i].payload,
			               body_len(v[i].payload)) == 0;
		if (!found)
			fail_msg("replayed seq %lld on %s differs from its "
			         "original: %s",
			         seq, v[i].topic, v[i].payload);
	}
	for (size_t i = 0; i < n; i++)
		live += v[i].t >= first && v[i].t <= last &&
		        strstr(v[i].topic, "/readings") != NULL &&
		        strstr(v[i].payload, "\"historical\":false") != NULL;
	print_message("replayed %zu messages in %.2f s, at most %zu in a "
	              "second; %zu live readings meanwhile\n",
	              nrep, last - first, win, live);
	assert_true(nrep >= HOLE / 4);
	assert_true(win <= RATE + RATE / 5 + RATE / 2 + 1);
	assert_true((double)(nrep - 1) / (last - first) <= RATE * 1.1);
	/* two instruments at 10 Hz: half of it at least, all along */
	assert_true((double)live >= 10.0 * (last - first));
	free(v);
	return (long long)nrep;
}

static void test_repair(void **state)
{
	struct rig r;
	struct pg p;
	struct coll a;
	long long cutoff;

	(void)state;
	rig_up(&r);
	pg_init(&p, r.dir);
	coll_config(&a, &r, &p, "coll-a", "repair_wait_ms = 2000; ");
	run_tool(&a, "init", NULL, NULL);
	assert_int_equal(pg_int(&p, "SELECT max(version) FROM metrolog_schema"),
	                 6);
	coll_start(&a);
	gw_start(&r.gw);
	coll_wait_seq(&r.gw, 40);
	assert_true(pg_wait_int(&p, "SELECT count(*) FROM messages", 20,
	                        30000) >= 20);
	make_hole(&r, &a, false, &cutoff);
	wait_repaired(&r, &p);
	assert_int_equal(check_seqs(&r, &p), 0);
	check_readings(&r, &p, 0);
	assert_int_equal(pg_int(&p, "SELECT to_repair FROM completeness "
	                            "WHERE site = 'test-lab'"),
	                 0);
	/* repaired by replay, not by the broker: the replay was asked for
	 * and sent, paced */
	assert_true(mq_count_in_file(a.log, "asked test-lab to replay") >= 1);
	assert_true(mq_count_in_file(r.gw.log, "replayed seqs") >= 1);
	assert_true(check_replay_stream(&r) >= HOLE - 2 * QUEUE);
	(void)coll_stop(&a);
	pg_stop(&p);
	mq_rig_finish(&r);
}

static void test_repair_retention(void **state)
{
	struct rig r;
	struct pg p;
	struct coll a;
	long long cutoff, unrep;

	(void)state;
	rig_up(&r);
	pg_init(&p, r.dir);
	coll_config(&a, &r, &p, "coll-a", "repair_wait_ms = 2000; ");
	run_tool(&a, "init", NULL, NULL);
	coll_start(&a);
	gw_start(&r.gw);
	coll_wait_seq(&r.gw, 40);
	assert_true(pg_wait_int(&p, "SELECT count(*) FROM messages", 20,
	                        30000) >= 20);
	make_hole(&r, &a, true, &cutoff);
	wait_repaired(&r, &p);
	unrep = check_seqs(&r, &p);
	assert_true(unrep > 0);
	/* what retention deleted is older than the cutoff; the rest of the
	 * hole was replayed: the archive holds the lab's readings since */
	assert_int_equal(pg_int(&p, "SELECT count(*) FROM unrepairable"),
	                 pg_int(&p, "SELECT count(*) FROM unrepairable u "
	                            "JOIN sites s ON s.id = u.site_id WHERE "
	                            "s.name = 'test-lab'"));
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM unrepairable WHERE ts_to >= "
	         "'epoch'::timestamptz + %lld * interval '1 microsecond'",
	         cutoff);
	assert_int_equal(pg_int(&p, sql), 0);
	check_readings(&r, &p, cutoff);
	assert_int_equal(pg_int(&p, "SELECT unrepairable FROM completeness "
	                            "WHERE site = 'test-lab'"),
	                 unrep);
	assert_int_equal(pg_int(&p, "SELECT to_repair FROM completeness "
	                            "WHERE site = 'test-lab'"),
	                 0);
	assert_true(mq_count_in_file(a.log, "range(s) it cannot replay") >= 1);
	(void)coll_stop(&a);
	pg_stop(&p);
	mq_rig_finish(&r);
}

/* After C-1: C-2 recorded, then C-3 superseding record 2 (C-2), approved;
 * returns once the gateway has given the four records messages (C-1's
 * included) their seqs. */
static void records_c2_c3(const struct rig *r)
{
	coll_calibrate(r, "C-2", "2026-11-10", NULL);
	coll_calibrate(r, "C-3", "2026-11-10", "2");
	coll_approve(r, "C-3");
	assert_true(gw_wait_sql(&r->gw,
	                        "SELECT count(*) = 4 FROM seqs WHERE topic "
	                        "LIKE '%/calibrations'",
	                        30000));
}

/* The lab's records and approvals (its SQLite), nrec and napp of them,
 * are in the archive each once with the lab's hashes, with their points;
 * record 3 supersedes record 2. */
static void check_cal(const struct rig *r, const struct pg *p, int nrec,
                      int napp)
{
	char q[256], hash[80];

	assert_int_equal(db_int(r->gw.db, "SELECT count(*) FROM calibrations"),
	                 nrec);
	assert_int_equal(db_int(r->gw.db, "SELECT count(*) FROM approvals"),
	                 napp);
	assert_int_equal(pg_int(p, "SELECT count(*) FROM cal_records"), nrec);
	assert_int_equal(pg_int(p, "SELECT count(*) FROM cal_approvals"), napp);
	assert_int_equal(
	        pg_int(p, "SELECT count(*) FROM cal_points"),
	        db_int(r->gw.db, "SELECT count(*) FROM calibration_points"));
	for (int k = 0; k < nrec + napp; k++) {
		bool rec = k < nrec;
		int id = rec ? k + 1 : k - nrec + 1;
		snprintf(q, sizeof(q), "SELECT hash FROM %s WHERE id = %d",
		         rec ? "calibrations" : "approvals", id);
		db_text(r->gw.db, q, hash, sizeof(hash));
		assert_int_equal(strlen(hash), 64);
		snprintf(
		        q, sizeof(q),
		        "SELECT count(*) FROM %s WHERE %s = %d AND hash = '%s'",
		        rec ? "cal_records" : "cal_approvals",
		        rec ? "record" : "approval", id, hash);
		assert_int_equal(pg_int(p, q), 1);
	}
	assert_int_equal(pg_int(p, "SELECT count(*) FROM cal_records WHERE "
	                           "record = 3 AND supersedes = 2"),
	                 1);
}

/* Records 2 and 3 (correcting 2) and approval 1 (of 3) made while the
 * collector is away, after the broker's queue for it is full: their
 * seqs fall in the hole, are recorded in a gap and replayed. */
static void test_repair_records(void **state)
{
	static const char in_gap[] =
	        "SELECT count(*) FROM (SELECT site_id, seq FROM cal_records "
	        "WHERE record >= 2 UNION ALL SELECT site_id, seq FROM "
	        "cal_approvals) x JOIN messages m ON m.site_id = x.site_id "
	        "AND m.seq = x.seq AND m.historical WHERE EXISTS (SELECT 1 "
	        "FROM gaps g WHERE g.site_id = x.site_id AND x.seq BETWEEN "
	        "g.seq_from AND g.seq_to)";
	struct rig r;
	struct pg p;
	struct coll a;
	long long from, seq[3];
	char out[8192], needle[32];

	(void)state;
	rig_up(&r);
	pg_init(&p, r.dir);
	coll_config(&a, &r, &p, "coll-a", "repair_wait_ms = 2000; ");
	run_tool(&a, "init", NULL, NULL);
	coll_start(&a);
	gw_start(&r.gw);
	coll_wait_seq(&r.gw, 40);
	coll_calibrate(&r, "C-1", "2026-11-01", NULL);
	assert_int_equal(
	        pg_wait_int(&p, "SELECT count(*) FROM cal_records", 1, 30000),
	        1);
	(void)coll_stop(&a);
	from = coll_last_seq(&r.gw);
	coll_wait_seq(&r.gw, from + 2 * QUEUE);
	records_c2_c3(&r);
	coll_wait_seq(&r.gw, coll_last_seq(&r.gw) + QUEUE);
	coll_start(&a);
	wait_repaired(&r, &p);
	assert_int_equal(check_seqs(&r, &p), 0);
	check_readings(&r, &p, 0);
	check_cal(&r, &p, 3, 1);
	/* they were in the hole: in a recorded gap, archived from a replay */
	assert_int_equal(pg_int(&p, in_gap), 3);
	assert_int_equal(pg_ints(&p,
	                         "SELECT seq FROM cal_records WHERE record >= "
	                         "2 UNION ALL SELECT seq FROM cal_approvals",
	                         seq, 3),
	                 3);
	for (int i = 0; i < 3; i++) {
		assert_true(seq[i] > from + QUEUE);
		snprintf(needle, sizeof(needle), "{\"seq\":%lld,", seq[i]);
		assert_true(mq_count_lines(r.sub_out, needle,
		                           "\"replay\":true") >= 1);
	}
	assert_int_equal(coll_verify(&r, &a, "test-lab", out, sizeof(out)), 0);
	if (strstr(out, "test-lab: records: 3 held, chain intact up to "
	                "record 3") == NULL ||
	    strstr(out, "test-lab: approvals: 1 held, chain intact up to "
	                "approval 1") == NULL)
		fail_msg("verify: %s", out);
	/* each replayed message, the records' too, is its original */
	assert_true(check_replay_stream(&r) >= HOLE / 4);
	(void)coll_stop(&a);
	pg_stop(&p);
	mq_rig_finish(&r);
}

/* The seqs of test-lab that c logged (with -d) as taken into its batch,
 * into seq (max of them); returns how many. */
static size_t batch_taken(const struct coll *c, long long *seq, size_t max)
{
	static char text[1 << 22];
	const char *key = ": taken into the batch";
	size_t n = 0;

	assert_true(h_read_file(c->log, text, sizeof(text)) > 0);
	for (const char *q = text; (q = strstr(q, key)) != NULL; q++) {
		const char *b = q;
		while (b > text && b[-1] != ' ')
			b--; /* the seq before the key */
		if (n < max && b - text >= 13 &&
		    strncmp(b - 13, "test-lab seq ", 13) == 0)
			seq[n++] = strtoll(b, NULL, 10);
	}
	return n;
}

/* Wait until c's batch holds (taken, not committed) at least `more`
 * messages of test-lab besides what the archive holds, and at least
 * `from` was taken; fails after 60 s. */
static void wait_batch(const struct coll *c, const struct pg *p, long long more,
                       long long from)
{
	static long long seq[4096];

	for (int i = 0; i < 600; i++) {
		long long held = pg_int(p, "SELECT count(*) FROM messages");
		size_t n = batch_taken(c, seq, 4096);
		if ((long long)n >= held + more && n > 0 && seq[n - 1] >= from)
			return;
		sleep_ms(100);
	}
	fail_msg("%s never held %lld messages in its batch", c->log, more);
}

/* Lost in a batch: coll-a, batching with a long batch_ms, takes messages
 * (a record superseded by another and an approval among them; each
 * acknowledged to the broker as it is copied into the batch) and is
 * SIGKILLed before committing them. The broker does not send them again;
 * started again (batches of the defaults), the collector records them as
 * a gap and the gateway replays them: every one is then held once, as
 * replayed, every seq the gateway assigned is held once, the readings
 * and records are the lab's, and the chains intact. MQTT 5 only
 * (collector_replay_v5): what it proves is the writer's and the repair's,
 * whose MQTT 3.1.1 paths test_repair covers; once is enough for CI's 20
 * minutes (and a SIGKILLed collector is nothing a sanitizer can check). */
static void test_batch_killed(void **state)
{
	static long long taken[4096], held[4096];
	struct rig r;
	struct pg p;
	struct coll a;
	size_t ntaken, nheld, nlost = 0;
	char list[8192] = "", q[9000], out[8192];
	long long first, replayed;

	(void)state;
	if (mq_version() != 5)
		skip();
	rig_up(&r);
	pg_init(&p, r.dir);
	coll_config(&a, &r, &p, "coll-a",
	            "repair_wait_ms = 2000; batch_max = 10000; "
	            "batch_ms = 60000; ");
	a.debug = true;
	run_tool(&a, "init", NULL, NULL);
	coll_start(&a);
	gw_start(&r.gw);
	wait_batch(&a, &p, 20, 0);
	coll_calibrate(&r, "C-1", "2026-11-01", NULL);
	records_c2_c3(&r);
	/* the approval's seq, and 20 more, taken into the batch */
	wait_batch(&a, &p, 40,
	           db_int(r.gw.db, "SELECT max(seq) FROM seqs WHERE topic "
	                           "LIKE '%/calibrations'") +
	                   20);
	assert_true(h_stop(a.pid, SIGKILL, 5000) != -1);

	/* what it took and did not commit: acknowledged, and lost */
	ntaken = batch_taken(&a, taken, 4096);
	nheld = pg_ints(&p, lab_seqs, held, 4096);
	for (size_t i = 0, j = 0; i < ntaken; i++) {
		while (j < nheld && held[j] < taken[i])
			j++;
		if (j < nheld && held[j] == taken[i])
			continue;
		if (nlost++ < 500)
			snprintf(list + strlen(list),
			         sizeof(list) - strlen(list), "%s%lld",
			         nlost > 1 ? "," : "", taken[i]);
	}
	print_message("killed with %zu messages taken, %zu committed, %zu "
	              "lost; records held %lld\n",
	              ntaken, nheld, nlost,
	              pg_int(&p, "SELECT count(*) FROM cal_records"));
	assert_true(nlost >= 20);
	first = coll_last_seq(&r.gw);

	coll_config(&a, &r, &p, "coll-a", "repair_wait_ms = 2000; ");
	coll_start(&a);
	coll_wait_seq(&r.gw, first + 20);
	wait_repaired(&r, &p);
	assert_int_equal(check_seqs(&r, &p), 0);
	check_readings(&r, &p, 0);
	check_cal(&r, &p, 3, 1);
	/* every lost one is back: in a recorded gap, archived from a replay;
	 * or (the last few, whose PUBACK Paho had not sent yet when the
	 * process died) sent again by the broker, live */
	snprintf(q, sizeof(q),
	         "SELECT count(*) FILTER (WHERE m.historical AND EXISTS "
	         "(SELECT 1 FROM gaps g WHERE g.site_id = m.site_id AND m.seq "
	         "BETWEEN g.seq_from AND g.seq_to)) * 100000 + count(*) "
	         "FILTER (WHERE NOT m.historical) FROM messages m JOIN sites "
	         "s ON s.id = m.site_id WHERE s.name = 'test-lab' AND m.seq "
	         "IN (%s)",
	         list);
	replayed = pg_int(&p, q);
	print_message("lost: %lld replayed, %lld sent again by the broker\n",
	              replayed / 100000, replayed % 100000);
	assert_int_equal(replayed / 100000 + replayed % 100000,
	                 nlost < 500 ? nlost : 500);
	assert_true(replayed / 100000 >= 20);
	assert_true(mq_count_in_file(a.log, "asked test-lab to replay") >= 1);
	assert_int_equal(coll_verify(&r, &a, "test-lab", out, sizeof(out)), 0);
	(void)coll_stop(&a);
	pg_stop(&p);
	mq_rig_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_repair),
	        cmocka_unit_test(test_repair_retention),
	        cmocka_unit_test(test_repair_records),
	        cmocka_unit_test(test_batch_killed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
