/*
 * test_hostile.c - metrologd against hostile devices (issue 16): a
 * metrolog-sim in a hostile mode on one bus, a well-behaved one on another,
 * a real SQLite file, and for the failing state a real mosquitto.
 *
 * For each behaviour of the device (a reply trickled a byte at a time, on
 * TCP and on a serial line, silence, a reply from another unit id, with another
 * function code, with a wrong byte count, with a wrong transaction id, a reset
 * in the middle of a reply, an endless stream of garbage), the test checks the
 * quality of every reading of the hostile instrument, the log line that names
 * it, and that the instrument on the other bus kept its schedule meanwhile.
 * Then: an instrument that answers every read with an exception is "failing"
 * (log, events row, retained MQTT status) and online again once it
 * recovers; and metrologd stops within a second while a device trickles a
 * reply with timeout_ms = 20000.
 *
 * Every wait is for a condition, bounded. Threading: one thread.
 */
#define _GNU_SOURCE
#include "mqtttest.h"

#define SITE   "test-lab"
#define PREFIX "ho"

/* A behaviour: the simulator's arguments, the quality every reading of the
 * hostile instrument must have, and what its offline log line says. */
struct hostile {
	const char *args[4];
	int quality;
	const char *why;
	bool rtu; /* the hostile device on a serial line (a pty) */
};

static long long readings(const struct gw *g, const char *id, const char *where)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM readings r JOIN channels c ON c.id = "
	         "r.channel JOIN instruments i ON i.id = c.instrument_id "
	         "WHERE i.name = '%s' AND c.name = 'c0'%s%s",
	         id, where != NULL ? " AND " : "", where != NULL ? where : "");
	return access(g->db, F_OK) == 0 ? db_try_int(g->db, sql) : 0;
}

static long long events(const struct gw *g, const char *id, const char *kind,
                        const char *detail)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM events e JOIN instruments i ON i.id = "
	         "e.instrument_id WHERE i.name = '%s' AND e.kind = '%s'%s%s%s",
	         id, kind, detail != NULL ? " AND e.detail = '" : "",
	         detail != NULL ? detail : "", detail != NULL ? "'" : "");
	return db_int(g->db, sql);
}

/* Wait up to 60 s until id has n readings of c0 matching where. */
static void wait_readings(const struct gw *g, const char *id, const char *where,
                          long long n)
{
	for (int i = 0; i < 1200; i++) {
		if (readings(g, id, where) >= n)
			return;
		sleep_ms(50);
	}
	fail_msg("%s never had %lld readings with %s", id, n, where);
}

/* Wait up to 30 s until the file at path holds text. */
static void wait_text(const char *path, const char *text)
{
	for (int i = 0; i < 600; i++) {
		if (mq_count_in_file(path, text) > 0)
			return;
		sleep_ms(50);
	}
	fail_msg("'%s' never in %s", text, path);
}

/* OK-1 (interval 100 ms) kept its schedule while BAD-1 failed: between
 * BAD-1's first and last reading, at least half the readings its
 * interval calls for are there and good. */
static void other_bus_kept_its_schedule(const struct gw *g)
{
	char where[256];
	long long t0 =
	        db_int(g->db, "SELECT min(r.ts) FROM readings r JOIN channels "
	                      "c ON c.id = r.channel JOIN instruments i ON "
	                      "i.id = c.instrument_id WHERE i.name = 'BAD-1'");
	long long t1 =
	        db_int(g->db, "SELECT max(r.ts) FROM readings r JOIN channels "
	                      "c ON c.id = r.channel JOIN instruments i ON "
	                      "i.id = c.instrument_id WHERE i.name = 'BAD-1'");

	assert_true(t1 - t0 >= 500000); /* back-off spreads its polls */
	snprintf(where, sizeof(where),
	         "r.ts BETWEEN %lld AND %lld AND r.quality = 0", t0, t1);
	long long want = (t1 - t0) / 100000;
	long long got = readings(g, "OK-1", where);
	if (got < want / 2)
		fail_msg("OK-1: %lld good readings in %lld ms, %lld expected",
		         got, (t1 - t0) / 1000, want);
}

/* Two simulators, the hostile one with args (on a pty when rtu, else on
 * TCP); metrologd with OK-1 on bus "good" and BAD-1 on bus "bad"
 * (timeout_ms 500); returns once BAD-1 has 4 readings. */
static void start(struct gw *g, struct h_sim *good, struct h_sim *bad,
                  const char *const args[], bool rtu, const char *extra)
{
	const char *dir = h_tmpdir();
	char dgood[H_PATH_MAX], dbad[H_PATH_MAX];
	char bus_a[256], bus_b[H_PATH_MAX + 256], inst_a[1024], inst_b[1024];
	char buses[H_PATH_MAX + 600], insts[2100];

	snprintf(dgood, sizeof(dgood), "%s", h_tmpdir());
	snprintf(dbad, sizeof(dbad), "%s", h_tmpdir());
	assert_int_equal(h_sim_start(good, dgood, true, false, NULL), 0);
	assert_int_equal(h_sim_start(bad, dbad, !rtu, rtu, args), 0);
	gw_init(g, dir);
	tcp_bus(bus_a, sizeof(bus_a), "good", good->port, 300);
	if (rtu)
		snprintf(bus_b, sizeof(bus_b),
		         "{ name = \"bad\"; type = \"rtu\"; device = \"%s\"; "
		         "baud = 38400; parity = \"N\"; timeout_ms = 500; "
		         "backoff_max_ms = 1000; }",
		         bad->rtu);
	else
		tcp_bus(bus_b, sizeof(bus_b), "bad", bad->port, 500);
	instrument(inst_a, sizeof(inst_a), "OK-1", "good", 1, 100, 2);
	instrument(inst_b, sizeof(inst_b), "BAD-1", "bad", 1, 200, 2);
	snprintf(buses, sizeof(buses), "%s, %s", bus_a, bus_b);
	snprintf(insts, sizeof(insts), "%s, %s", inst_a, inst_b);
	gw_config(g, buses, insts, extra);
	gw_start(g);
	wait_readings(g, "BAD-1", NULL, 4);
}

/* Every reading of BAD-1 has h->quality, one offline event and one log
 * line name it, and OK-1 kept its schedule. */
static void run_case(const struct hostile *h)
{
	struct h_sim good, bad;
	struct gw g;
	char where[64], line[H_PATH_MAX + 256], name[H_PATH_MAX + 64];

	start(&g, &good, &bad, h->args, h->rtu, NULL);
	assert_int_equal(gw_stop(&g), 0);

	snprintf(where, sizeof(where), "r.quality <> %d", h->quality);
	assert_int_equal(readings(&g, "BAD-1", where), 0);
	assert_true(readings(&g, "BAD-1", NULL) >= 4);
	assert_int_equal(events(&g, "BAD-1", "offline", NULL), 1);
	assert_int_equal(events(&g, "BAD-1", "online", NULL), 0);
	if (h->rtu)
		snprintf(name, sizeof(name), "rtu %s 38400 8N1", bad.rtu);
	else
		snprintf(name, sizeof(name), "tcp 127.0.0.1:%d", bad.port);
	snprintf(line, sizeof(line),
	         "instrument BAD-1 (%s unit 1) is offline: %s", name, h->why);
	if (mq_count_in_file(g.log, line) != 1)
		fail_msg("'%s' not once in %s", line, g.log);
	other_bus_kept_its_schedule(&g);
	assert_int_equal(events(&g, "OK-1", "offline", NULL), 0);
	assert_int_equal(h_sim_stop(&good), 0);
	assert_int_equal(h_sim_stop(&bad), 0);
}

/* 17 bytes at 300 ms each: 5.1 s, ten times timeout_ms. */
static void trickled_reply_is_a_timeout(void **state)
{
	(void)state;
	run_case(&(struct hostile){.args = {"--trickle", "300", NULL},
	                           .quality = 1,
	                           .why = "no complete reply within 500 ms"});
}

/* The same on a serial line: the line is the device's while it trickles,
 * the deadline holds all the same. */
static void trickled_rtu_reply_is_a_timeout(void **state)
{
	(void)state;
	run_case(&(struct hostile){.args = {"--trickle", "300", NULL},
	                           .quality = 1,
	                           .why = "no complete reply within 500 ms",
	                           .rtu = true});
}

static void silence_is_a_timeout(void **state)
{
	(void)state;
	run_case(&(struct hostile){.args = {"--silent", "1", NULL},
	                           .quality = 1,
	                           .why = "no complete reply within 500 ms"});
}

static void reply_from_another_unit_is_refused(void **state)
{
	(void)state;
	run_case(&(struct hostile){.args = {"--wrong-unit", NULL},
	                           .quality = 5,
	                           .why = "reply from unit 2, not 1"});
}

static void reply_with_another_function_is_refused(void **state)
{
	(void)state;
	run_case(&(struct hostile){
	        .args = {"--wrong-function", NULL},
	        .quality = 5,
	        .why = "reply with function code 0x03 to a request with 0x04"});
}

static void reply_with_a_wrong_byte_count_is_refused(void **state)
{
	(void)state;
	run_case(&(struct hostile){.args = {"--wrong-count", NULL},
	                           .quality = 5,
	                           .why = "reply with 6 data bytes (byte count "
	                                  "6) to a request for 8"});
}

static void reply_with_a_wrong_transaction_id_is_refused(void **state)
{
	(void)state;
	run_case(&(struct hostile){.args = {"--corrupt", "1", NULL},
	                           .quality = 5,
	                           .why = "reply with transaction id"});
}

static void reset_mid_frame_is_a_lost_connection(void **state)
{
	(void)state;
	run_case(&(struct hostile){.args = {"--reset", NULL},
	                           .quality = 4,
	                           .why = "Connection reset by peer"});
}

/* Random bytes without end: never a good reading, never a stalled bus
 * (the flush gives up after 4 KiB and hangs up). */
static void endless_garbage_is_refused(void **state)
{
	(void)state;
	run_case(&(struct hostile){
	        .args = {"--garbage", NULL}, .quality = 5, .why = "reply"});
}

/* Every read answered with exception 04: one "failing" log line, events
 * row and retained status, then "online" again once the device recovers
 * (SIGUSR2 suspends the simulator's faults). */
static void exceptions_make_it_failing_then_online(void **state)
{
	(void)state;
	struct rig r;
	struct h_sim good;
	char extra[512], line[256];
	const char *args[] = {"--exception", "4", NULL};

	mq_rig_init(&r);
	mq_broker_start(&r, NULL);
	mq_sub_start(&r, PREFIX "/#", NULL, PREFIX "/probe", "hostile-sub",
	             NULL, NULL);
	snprintf(extra, sizeof(extra),
	         "storage = { batch_ms = 50; };\n"
	         "mqtt = { port = %d; prefix = \"" PREFIX "\"; "
	         "keepalive_s = 5; version = %d; };",
	         r.broker.port, mq_version());
	start(&r.gw, &good, &r.sim, args, false, extra);

	/* failing: the status says so, once */
	mq_wait_lines(&r, PREFIX "/" SITE "/BAD-1/status ",
	              "\"state\":\"failing\",\"reason\":\"exception\"", 1);
	wait_readings(&r.gw, "BAD-1", "r.quality = 2", 5);
	snprintf(line, sizeof(line),
	         "instrument BAD-1 (tcp 127.0.0.1:%d unit 1) is failing: it "
	         "answers but every read fails: exception 04 (server device "
	         "failure)",
	         r.sim.port);
	wait_text(r.gw.log, line);
	assert_int_equal(mq_count_in_file(r.gw.log, line), 1);
	assert_int_equal(mq_count_in_file(r.gw.log, "BAD-1 (tcp"), 1);
	assert_int_equal(
	        mq_count_lines(
	                r.sub_out, PREFIX "/" SITE "/BAD-1/events ",
	                "\"event\":\"failing\",\"reason\":\"exception\""),
	        1);
	assert_int_equal(readings(&r.gw, "BAD-1", "r.quality = 0"), 0);
	/* and the tool shows it (the event is committed: it was published) */
	char out[8192];
	const char *list[] = {"instruments", "-d",  r.gw.db,
	                      "--format",    "csv", NULL};
	assert_int_equal(gw_tool(r.gw.dir, list, out, sizeof(out)), 0);
	char *row = strstr(out, "\nBAD-1,instrument,");
	char *end = row != NULL ? strchr(row + 1, '\n') : NULL;
	if (end != NULL)
		*end = '\0';
	if (row == NULL || strstr(row, ",failing,") == NULL)
		fail_msg("metrolog instruments does not say failing:\n%s", out);

	/* recovered: online again, good readings */
	assert_int_equal(kill(r.sim.pid, SIGUSR2), 0);
	mq_wait_lines(&r, PREFIX "/" SITE "/BAD-1/status ",
	              "\"state\":\"online\",\"reason\":null", 1);
	wait_readings(&r.gw, "BAD-1", "r.quality = 0", 3);
	snprintf(line, sizeof(line),
	         "instrument BAD-1 (tcp 127.0.0.1:%d unit 1) is online",
	         r.sim.port);
	wait_text(r.gw.log, line);
	assert_int_equal(gw_stop(&r.gw), 0);

	assert_int_equal(events(&r.gw, "BAD-1", "failing", "exception 04"), 1);
	assert_int_equal(events(&r.gw, "BAD-1", "online", NULL), 1);
	assert_int_equal(events(&r.gw, "BAD-1", "offline", NULL), 0);
	assert_int_equal(mq_count_in_file(r.gw.log, line), 1);
	other_bus_kept_its_schedule(&r.gw);
	assert_int_equal(h_sim_stop(&good), 0);
	mq_rig_finish(&r);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A reply trickled at 400 ms a byte (6.8 s for 17 bytes) under a
 * timeout_ms of 20000: SIGTERM while it trickles ends metrologd within a
 * second (5 s under a METROLOG_TEST_WRAPPER such as valgrind), and the
 * poll it cut short left nothing behind. */
static void sigterm_while_a_device_trickles(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[256], inst[1024];
	const char *args[] = {"--trickle", "400", "-v", NULL};
	const char *wrap = getenv("METROLOG_TEST_WRAPPER");
	int64_t limit = wrap != NULL && wrap[0] != '\0' ? 5000 : 1000;

	assert_int_equal(h_sim_start(&sim, dir, true, false, args), 0);
	gw_init(&g, dir);
	tcp_bus(bus, sizeof(bus), "slow", sim.port, 20000);
	instrument(inst, sizeof(inst), "SLOW-1", "slow", 1, 100, 2);
	gw_config(&g, bus, inst, NULL);
	gw_start(&g);
	/* the simulator saw the request: its reply is trickling now */
	wait_text(sim.log, "unit 1 fc 0x04");

	int64_t t0 = now_ms();
	int status = h_stop(g.pid, SIGTERM, 30000);
	int64_t took = now_ms() - t0;
	g.pid = 0;
	assert_true(status != -1 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	if (took > limit)
		fail_msg("metrologd took %lld ms to stop (limit %lld ms)",
		         (long long)took, (long long)limit);
	assert_int_equal(readings(&g, "SLOW-1", NULL), 0);
	assert_int_equal(events(&g, "SLOW-1", "offline", NULL), 0);
	assert_int_equal(h_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(trickled_reply_is_a_timeout,
	                                  h_teardown),
	        cmocka_unit_test_teardown(trickled_rtu_reply_is_a_timeout,
	                                  h_teardown),
	        cmocka_unit_test_teardown(silence_is_a_timeout, h_teardown),
	        cmocka_unit_test_teardown(reply_from_another_unit_is_refused,
	                                  h_teardown),
	        cmocka_unit_test_teardown(
	                reply_with_another_function_is_refused, h_teardown),
	        cmocka_unit_test_teardown(
	                reply_with_a_wrong_byte_count_is_refused, h_teardown),
	        cmocka_unit_test_teardown(
	                reply_with_a_wrong_transaction_id_is_refused,
	                h_teardown),
	        cmocka_unit_test_teardown(reset_mid_frame_is_a_lost_connection,
	                                  h_teardown),
	        cmocka_unit_test_teardown(endless_garbage_is_refused,
	                                  h_teardown),
	        cmocka_unit_test_teardown(
	                exceptions_make_it_failing_then_online, h_teardown),
	        cmocka_unit_test_teardown(sigterm_while_a_device_trickles,
	                                  h_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
