/*
 * test_collector_multi.c - the provincial archive with several labs, all
 * real: mosquitto, a PostgreSQL 15 started by the test (pgtest.h), one
 * metrolog-sim and one metrologd per lab (site lab-1, lab-2, ...: two
 * instruments, TB-01 and TB-02 at every lab, polled every 100 ms), and
 * metrolog-collector (colltest.h).
 *
 *   test_two_collectors      three labs, two collectors in one share
 *                            group; lab-1's instruments go offline and
 *                            come back, lab-2 appends a calibration record
 *                            with the metrolog tool. Afterwards PostgreSQL
 *                            holds exactly each lab's SQLite: every seq
 *                            once, the readings (count and a checksum of
 *                            instrument, channel, time and value), the
 *                            events, the records with their hashes; both
 *                            collectors wrote a share (their stats).
 *   test_broker_restarts     two labs, one collector. The collector is
 *                            away while each lab publishes QUEUED seqs,
 *                            which the broker acknowledged and queued for
 *                            its session; the broker is SIGKILLed and
 *                            started again on the same port, (a) with
 *                            persistence, after saving its state: those
 *                            messages reach the archive from the broker
 *                            (none replayed); (b) without: they are lost
 *                            at the broker, and the collector records the
 *                            hole (gaps, filled) and the labs replay every
 *                            one of them. After each, the archive holds
 *                            every seq of both labs; at the end exactly
 *                            each lab's SQLite, as above.
 */
#include <stdint.h>

#include "colltest.h"

#define NLABS  3
#define QUEUED 40 /* seqs each lab publishes while the collector is away */

struct lab {
	struct gw gw;
	struct h_sim sim;
	char site[16];
};

/* Lab i in its own directory under r's: site "lab-<i+1>", metrolog-sim
 * with two units of 3 channels, metrologd polling TB-01 and TB-02 every
 * 100 ms, committing every 50 ms, publishing to r's broker; started. */
static void lab_start(struct lab *l, const struct rig *r, int i)
{
	char dir[H_PATH_MAX], bus[256], insts[2048], text[8192];

	memset(l, 0, sizeof(*l));
	snprintf(l->site, sizeof(l->site), "lab-%d", i + 1);
	h_path(dir, r->dir, l->site);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(
	        h_sim_start(&l->sim, dir, true, false,
	                    (const char *const[]){"-n", "2", "-m", "3", NULL}),
	        0);
	gw_init(&l->gw, dir);
	tcp_bus(bus, sizeof(bus), "bench", l->sim.port, 500);
	mq_two_instruments(insts, sizeof(insts), 100);
	snprintf(text, sizeof(text),
	         "site = \"%s\";\ndatabase = \"%s\";\n"
	         "storage = { batch_ms = 50; };\n"
	         "mqtt = { port = %d; prefix = \"metrolog\"; keepalive_s = 5; "
	         "version = %d; };\nbuses = ( %s );\ninstruments = ( %s );\n",
	         l->site, l->gw.db, r->broker.port, mq_version(), bus, insts);
	write_file(l->gw.cfg, text);
	gw_start(&l->gw);
}

/* sql with the lab's site name for its one %s. */
static const char *site_sql(const struct lab *l, const char *fmt)
{
	static char sql[1024];

	snprintf(sql, sizeof(sql), fmt, l->site);
	return sql;
}

static long long site_int(const struct pg *p, const struct lab *l,
                          const char *fmt)
{
	return pg_int(p, site_sql(l, fmt));
}

#define SITE_MESSAGES                                                          \
	"FROM messages m JOIN sites s ON s.id = m.site_id WHERE s.name = '%s'"

/* Wait (up to 60 s) until the archive holds n seqs of lab l. */
static void wait_archived(const struct pg *p, const struct lab *l, long long n)
{
	const char *sql =
	        site_sql(l, "SELECT count(DISTINCT m.seq) " SITE_MESSAGES);

	if (pg_wait_int(p, sql, n, 60000) < n)
		fail_msg("the archive never held %lld seqs of %s", n, l->site);
}

/* ---- a checksum of rows, the same on both sides ------------------------ */

/* How many rows, and the sum (mod 2^64, so that the order does not
 * count) of a hash of each: (a, b, n, value), value absent or not. */
struct sum {
	long long rows;
	uint64_t h;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
	return h;
}

static void sum_add(struct sum *s, const char *a, const char *b, long long n,
                    const double *value)
{
	uint64_t h = 1469598103934665603ULL;
	unsigned char has = value != NULL;

	h = fnv(h, a, strlen(a) + 1);
	h = fnv(h, b, strlen(b) + 1);
	h = fnv(h, &n, sizeof(n));
	h = fnv(h, &has, 1);
	if (value != NULL)
		h = fnv(h, value, sizeof(*value));
	s->h += h;
	s->rows++;
}

/* A PostgreSQL row (a, b, n, value or NULL) into the sum at arg. */
static void sum_pg_row(const char *const *v, int n, void *arg)
{
	double value = v[3] != NULL ? strtod(v[3], NULL) : 0;

	assert_int_equal(n, 4);
	sum_add(arg, v[0], v[1], strtoll(v[2], NULL, 10),
	        v[3] != NULL ? &value : NULL);
}

/* The rows (a, b, n, value or NULL) of sql on the SQLite file at path. */
static struct sum sum_sqlite(const char *path, const char *sql)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st = NULL;
	struct sum s = {0};
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double value = sqlite3_column_double(st, 3);
		sum_add(&s, (const char *)sqlite3_column_text(st, 0),
		        (const char *)sqlite3_column_text(st, 1),
		        sqlite3_column_int64(st, 2),
		        sqlite3_column_type(st, 3) != SQLITE_NULL ? &value
		                                                  : NULL);
	}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return s;
}

/* The rows of sql on the archive (its one %s: the lab's site). */
static struct sum sum_pg(const struct pg *p, const struct lab *l,
                         const char *fmt)
{
	struct sum s = {0};

	pg_each(p, site_sql(l, fmt), sum_pg_row, &s);
	return s;
}

/* Each reading: instrument, channel, time (us), value when good. */
static const char sqlite_readings[] =
        "SELECT i.name, c.name, r.ts, CASE WHEN r.quality = 0 THEN r.value "
        "END FROM readings r JOIN channels c ON c.id = r.channel JOIN "
        "instruments i ON i.id = c.instrument_id";
static const char pg_readings[] =
        "SELECT i.name, c.name, (extract(epoch FROM r.ts) * 1000000)::bigint, "
        "CASE WHEN r.quality = 'good' THEN r.value END FROM readings r JOIN "
        "channels c ON c.id = r.channel_id JOIN instruments i ON i.id = "
        "c.instrument_id JOIN sites s ON s.id = i.site_id WHERE s.name = '%s'";
/* Each event: instrument, kind, time (us). */
static const char sqlite_events[] =
        "SELECT i.name, e.kind, e.ts, NULL FROM events e JOIN instruments i "
        "ON i.id = e.instrument_id";
static const char pg_events[] =
        "SELECT i.name, e.event, (extract(epoch FROM e.ts) * 1000000)::bigint, "
        "NULL FROM events e JOIN instruments i ON i.id = e.instrument_id JOIN "
        "sites s ON s.id = e.site_id WHERE s.name = '%s'";
/* Each calibration record: certificate, hash, place in the chain. */
static const char sqlite_records[] =
        "SELECT certificate, hash, id, NULL FROM calibrations";
static const char pg_records[] =
        "SELECT r.certificate, r.hash, r.record, NULL FROM cal_records r "
        "JOIN sites s ON s.id = r.site_id WHERE s.name = '%s'";

/* sum_sqlite() and sum_pg() agree on what; returns the rows. */
static long long same_rows(const struct pg *p, const struct lab *l,
                           const char *what, const char *sqlite_sql,
                           const char *pg_fmt)
{
	struct sum a = sum_sqlite(l->gw.db, sqlite_sql),
	           b = sum_pg(p, l, pg_fmt);

	if (a.rows != b.rows || a.h != b.h)
		fail_msg("%s of %s: SQLite %lld rows (checksum %016llx), "
		         "PostgreSQL %lld (%016llx)",
		         what, l->site, a.rows, (unsigned long long)a.h, b.rows,
		         (unsigned long long)b.h);
	return a.rows;
}

/* ---- the archive against each lab --------------------------------------- */

/* Lab l's gateway is stopped, its outbox empty: once the archive holds
 * every seq it assigned, the archive holds exactly its SQLite: each seq
 * 1..last once, nothing beyond; the same readings, events and records;
 * nothing missing or left to repair. */
static void check_lab(const struct pg *p, const struct lab *l)
{
	long long last = coll_last_seq(&l->gw);

	assert_true(last > 0);
	assert_int_equal(db_int(l->gw.db, "SELECT count(*) FROM outbox"), 0);
	wait_archived(p, l, last);
	assert_int_equal(site_int(p, l, "SELECT count(*) " SITE_MESSAGES),
	                 last);
	assert_int_equal(
	        site_int(p, l, "SELECT count(DISTINCT m.seq) " SITE_MESSAGES),
	        last);
	assert_int_equal(site_int(p, l, "SELECT min(m.seq) " SITE_MESSAGES), 1);
	assert_int_equal(site_int(p, l, "SELECT max(m.seq) " SITE_MESSAGES),
	                 last);
	assert_true(same_rows(p, l, "readings", sqlite_readings, pg_readings) >
	            0);
	assert_true(same_rows(p, l, "events", sqlite_events, pg_events) > 0);
	same_rows(p, l, "records", sqlite_records, pg_records);
	assert_int_equal(
	        pg_wait_int(p,
	                    site_sql(l, "SELECT (count(*) = 0)::int FROM gaps "
	                                "g JOIN sites s ON s.id = g.site_id "
	                                "WHERE s.name = '%s' AND filled_at IS "
	                                "NULL AND closed_at IS NULL"),
	                    1, 30000),
	        1);
	assert_int_equal(site_int(p, l,
	                          "SELECT missing FROM completeness "
	                          "WHERE site = '%s'"),
	                 0);
	assert_int_equal(site_int(p, l,
	                          "SELECT to_repair FROM completeness "
	                          "WHERE site = '%s'"),
	                 0);
}

/* Stop every lab's gateway (its outbox sent), then check each. */
static void stop_and_check(const struct pg *p, struct lab *labs, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(gw_stop(&labs[i].gw), 0);
	for (int i = 0; i < n; i++)
		check_lab(p, &labs[i]);
}

static void stop_labs(struct lab *labs, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(h_sim_stop(&labs[i].sim), 0);
}

/* A fresh rig (its broker: extra_conf for the persistent one of
 * mqtttest.h, or a broker without persistence when NULL), PostgreSQL
 * with the archive's schema, collector a configured. */
static void province_up(struct rig *r, struct pg *p, struct coll *a,
                        const char *extra_conf)
{
	mq_rig_init(r);
	if (extra_conf != NULL)
		mq_broker_start(r, extra_conf);
	else
		assert_int_equal(h_broker_start(&r->broker, r->dir, NULL), 0);
	pg_init(p, r->dir);
	coll_config(a, r, p, "coll-a", "");
	run_tool(a, "init", NULL, NULL);
}

/* ---- several gateways, two collectors ----------------------------------- */

/* Mute lab l's simulator until both instruments went offline, then let
 * them answer again until both are back online (events at the lab). */
static void offline_and_back(const struct lab *l)
{
	assert_int_equal(kill(l->sim.pid, SIGUSR1), 0);
	assert_true(gw_wait_sql(&l->gw,
	                        "SELECT count(*) >= 2 FROM events WHERE kind "
	                        "= 'offline'",
	                        30000));
	assert_int_equal(kill(l->sim.pid, SIGUSR1), 0);
	assert_true(gw_wait_sql(&l->gw,
	                        "SELECT count(*) >= 4 FROM events WHERE kind "
	                        "= 'online'",
	                        30000));
}

/* A calibration record of TB-01 at lab l, appended with the metrolog
 * tool while metrologd runs. */
static void calibrate(const struct rig *r, const struct lab *l)
{
	char out[8192];
	const char *const args[] = {"calibrate",
	                            "-d",
	                            l->gw.db,
	                            "-i",
	                            "TB-01",
	                            "-c",
	                            "C-1",
	                            "--date",
	                            "2026-11-01",
	                            "-t",
	                            "Technician",
	                            "--rule",
	                            "simple",
	                            "--point",
	                            "c0,degC,20,20.03,20.004,-0.1,0.1,0.02,2",
	                            NULL};

	if (gw_tool(r->dir, args, out, sizeof(out)) != 0)
		fail_msg("metrolog calibrate: %s", out);
}

static void test_two_collectors(void **state)
{
	struct rig r;
	struct pg p;
	struct coll a, b;
	struct lab labs[NLABS];

	(void)state;
	province_up(&r, &p, &a, "");
	coll_config(&b, &r, &p, "coll-b", "");
	coll_start(&a);
	coll_start(&b);
	for (int i = 0; i < NLABS; i++)
		lab_start(&labs[i], &r, i);
	for (int i = 0; i < NLABS; i++)
		wait_archived(&p, &labs[i], 20);
	offline_and_back(&labs[0]);
	calibrate(&r, &labs[1]);
	assert_int_equal(pg_wait_int(&p,
	                             site_sql(&labs[1], "SELECT count(*) "
	                                                "FROM cal_records "
	                                                "r JOIN sites s ON "
	                                                "s.id = r.site_id "
	                                                "WHERE s.name = "
	                                                "'%s'"),
	                             1, 30000),
	                 1);
	for (int i = 0; i < NLABS; i++)
		wait_archived(&p, &labs[i], coll_last_seq(&labs[i].gw) + 20);
	stop_and_check(&p, labs, NLABS);
	/* both collectors took a share (coll_stop(): written > 0) */
	coll_stop(&a);
	coll_stop(&b);
	print_message("coll-a wrote %lld messages, coll-b %lld\n",
	              coll_stat(&a, "written"), coll_stat(&b, "written"));
	pg_stop(&p);
	stop_labs(labs, NLABS);
	assert_int_equal(h_broker_stop(&r.broker), 0);
}

/* ---- the broker restarted, with and without persistence ---------------- */

/* With a and two labs running: a stopped (its session and subscriptions
 * stay at the broker) while each lab publishes QUEUED seqs, (from[i],
 * upto[i]], until the broker acknowledged every one of them (the lab's
 * outbox has none left): the broker holds them for a's session. Then the
 * broker (persist: after saving its state) is SIGKILLed, started again on
 * the same port, and a started again. */
static void kill_broker_with_queue(struct rig *r, struct coll *a,
                                   struct lab *labs, bool persist,
                                   long long *from, long long *upto)
{
	char sql[128];

	(void)coll_stop(a);
	for (int i = 0; i < 2; i++)
		from[i] = coll_last_seq(&labs[i].gw);
	for (int i = 0; i < 2; i++) {
		upto[i] = from[i] + QUEUED;
		coll_wait_seq(&labs[i].gw, upto[i]);
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) = 0 FROM outbox WHERE seq <= %lld",
		         upto[i]);
		assert_true(gw_wait_sql(&labs[i].gw, sql, 30000));
	}
	if (persist)
		mq_broker_save(r);
	assert_true(h_stop(r->broker.pid, SIGKILL, 5000) != -1);
	assert_int_equal(h_broker_restart(&r->broker), 0);
	coll_start(a);
}

/* The labs publish through the new broker, and the archive holds every
 * seq of each lab up to one assigned after the restart, while the labs
 * run (once every hole is repaired). */
static void wait_caught_up(const struct pg *p, const struct lab *labs)
{
	char sql[512];
	long long after;

	for (int i = 0; i < 2; i++) {
		after = coll_last_seq(&labs[i].gw) + 1;
		coll_wait_seq(&labs[i].gw, after);
		snprintf(sql, sizeof(sql),
		         "SELECT count(DISTINCT m.seq) FROM messages m JOIN "
		         "sites "
		         "s ON s.id = m.site_id WHERE s.name = '%s' AND m.seq "
		         "<= "
		         "%lld",
		         labs[i].site, after);
		if (pg_wait_int(p, sql, after, 60000) < after)
			fail_msg("the archive never held seqs 1..%lld of %s",
			         after, labs[i].site);
	}
}

/* How many of lab l's seqs (from, upto] the archive holds with historical
 * as given (a replayed message is historical; the broker's are not). */
static long long held_as(const struct pg *p, const struct lab *l,
                         long long from, long long upto, bool historical)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM messages m JOIN sites s ON s.id = "
	         "m.site_id WHERE s.name = '%s' AND m.seq > %lld AND m.seq <= "
	         "%lld AND %sm.historical",
	         l->site, from, upto, historical ? "" : "NOT ");
	return pg_int(p, sql);
}

/* The broker of r SIGKILLed with messages queued for a, and started
 * again, persist: with its saved state; the archive catches up. persist:
 * every queued message reached the archive from the broker. Else: each
 * lab's queued seqs are in a gap recorded and filled, all replayed. */
static void broker_restart(struct rig *r, const struct pg *p, struct coll *a,
                           struct lab *labs, bool persist)
{
	long long from[2], upto[2];
	int asked = mq_count_in_file(a->log, "asked lab-");
	char sql[512];

	kill_broker_with_queue(r, a, labs, persist, from, upto);
	wait_caught_up(p, labs);
	for (int i = 0; i < 2; i++) {
		if (persist) {
			assert_int_equal(
			        held_as(p, &labs[i], from[i], upto[i], false),
			        QUEUED);
			continue;
		}
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM gaps g JOIN sites s ON s.id = "
		         "g.site_id WHERE s.name = '%s' AND g.seq_from <= %lld "
		         "AND g.seq_to > %lld AND g.filled_at IS NOT NULL",
		         labs[i].site, upto[i], from[i]);
		/* marked filled by the next gap check, after the archive
		 * held the seqs */
		assert_true(pg_wait_int(p, sql, 1, 30000) >= 1);
		assert_int_equal(held_as(p, &labs[i], from[i], upto[i], true),
		                 QUEUED);
	}
	/* persist: the few seqs the broker took after its save may have
	 * needed a replay too */
	if (!persist)
		assert_true(mq_count_in_file(a->log, "asked lab-") > asked);
}

/* Append text to the configuration of r's broker (read at its next
 * start; a key given again wins). */
static void broker_conf_append(const struct rig *r, const char *text)
{
	char path[H_PATH_MAX];
	FILE *f = fopen(h_path(path, r->broker.dir, "mosquitto.conf"), "a");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_broker_restarts(void **state)
{
	struct rig r;
	struct pg p;
	struct coll a;
	struct lab labs[2];

	(void)state;
	province_up(&r, &p, &a, "log_type information\n");
	coll_start(&a);
	for (int i = 0; i < 2; i++)
		lab_start(&labs[i], &r, i);
	for (int i = 0; i < 2; i++)
		wait_archived(&p, &labs[i], 20);
	broker_restart(&r, &p, &a, labs, true);
	broker_conf_append(&r, "persistence false\n");
	broker_restart(&r, &p, &a, labs, false);
	stop_and_check(&p, labs, 2);
	coll_stop(&a);
	pg_stop(&p);
	stop_labs(labs, 2);
	assert_int_equal(h_broker_stop(&r.broker), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_two_collectors, h_teardown),
	        cmocka_unit_test_teardown(test_broker_restarts, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
