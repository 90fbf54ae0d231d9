/*
 * metrologd end to end: real simulators over TCP and RTU (pty), a real
 * SQLite file, signals. What the simulator serves arrives in the database;
 * a dead instrument does not stop another bus; the gateway reconnects after
 * the simulator restarts; SIGKILL never loses a committed reading nor
 * damages the file; SIGHUP reloads, and a bad file is refused with
 * file:line while the running configuration stays.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "gwtest.h"
#include "harness.h"

/* Readings of instrument id, channel ch (all qualities), -1 if the
 * database cannot answer yet. */
static long long try_count_readings(struct gw *g, const char *id,
                                    const char *ch, const char *where)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM readings r JOIN channels c ON "
	         "c.id = r.channel JOIN instruments i ON i.id = "
	         "c.instrument_id WHERE i.name = '%s' AND c.name = '%s'%s%s",
	         id, ch, where ? " AND " : "", where ? where : "");
	return db_try_int(g->db, sql);
}

static long long count_readings(struct gw *g, const char *id, const char *ch,
                                const char *where)
{
	long long n = try_count_readings(g, id, ch, where);

	if (n == -1)
		fail_msg("cannot count readings of %s %s", id, ch);
	return n;
}

static long long count_events(struct gw *g, const char *id, const char *kind)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM events e JOIN instruments i ON i.id = "
	         "e.instrument_id WHERE i.name = '%s' AND e.kind = '%s'",
	         id, kind);
	return db_int(g->db, sql);
}

/* Wait up to ms for count_readings(...) >= n. */
/* How long a test waits for a condition at most: generous, for valgrind on
 * a loaded machine; a healthy run meets each condition in well under a
 * second and waits no longer. */
#define WAIT_MS 60000

static long long wait_readings(struct gw *g, const char *id, const char *ch,
                               const char *where, long long n, int ms)
{
	long long have = 0;

	for (int t = 0; t < ms; t += 50) {
		if (h_wait_file(g->db, 0) == 0 &&
		    (have = try_count_readings(g, id, ch, where)) >= n)
			return have;
		sleep_ms(50);
	}
	return have;
}

static void assert_log_has(const struct gw *g, const char *text)
{
	char buf[65536];

	assert_true(h_read_file(g->log, buf, sizeof(buf)) >= 0);
	if (strstr(buf, text) == NULL)
		fail_msg("'%s' not in the log:\n%s", text, buf);
}

/* ------------------------------------------------------------------ */

static void values_arrive_over_tcp_and_rtu(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus_a[256], bus_b[H_PATH_MAX + 128], inst_a[2048], inst_b[2048],
	        buses[sizeof(bus_a) + sizeof(bus_b) + 2],
	        insts[sizeof(inst_a) + sizeof(inst_b) + 2];
	const char *extra[] = {"-n", "2",
	                       "-m", "3",
	                       "-c", "0:nominal=20.5",
	                       "-c", "2.2:nominal=-7.25",
	                       NULL};

	assert_int_equal(h_sim_start(&sim, dir, true, true, extra), 0);
	gw_init(&g, dir);
	tcp_bus(bus_a, sizeof(bus_a), "tcp-1", sim.port, 1000);
	snprintf(bus_b, sizeof(bus_b),
	         "{ name = \"rtu-1\"; type = \"rtu\"; device = \"%s\"; "
	         "baud = 19200; parity = \"N\"; timeout_ms = 1000; }",
	         sim.rtu);
	instrument(inst_a, sizeof(inst_a), "TB-01", "tcp-1", 1, 100, 3);
	instrument(inst_b, sizeof(inst_b), "PG-02", "rtu-1", 2, 100, 3);
	snprintf(buses, sizeof(buses), "%s, %s", bus_a, bus_b);
	snprintf(insts, sizeof(insts), "%s, %s", inst_a, inst_b);
	gw_config(&g, buses, insts, NULL);
	gw_start(&g);

	assert_true(wait_readings(&g, "TB-01", "c0", NULL, 5, WAIT_MS) >= 5);
	assert_true(wait_readings(&g, "PG-02", "c2", NULL, 5, WAIT_MS) >= 5);
	assert_int_equal(gw_stop(&g), 0);

	/* every reading is good and equal to what the simulator serves */
	assert_int_equal(count_readings(&g, "TB-01", "c0",
	                                "(r.quality != 0 OR r.value != 20.5)"),
	                 0);
	assert_int_equal(count_readings(&g, "TB-01", "c1",
	                                "(r.quality != 0 OR r.value != 21)"),
	                 0);
	assert_int_equal(count_readings(&g, "PG-02", "c2",
	                                "(r.quality != 0 OR r.value != -7.25)"),
	                 0);
	assert_int_equal(count_readings(&g, "PG-02", "c0",
	                                "(r.quality != 0 OR r.value != 20.5)"),
	                 0);
	/* all channels of one poll share one timestamp */
	assert_true(count_readings(&g, "TB-01", "c2", NULL) ==
	            count_readings(&g, "TB-01", "c0", NULL));
	assert_int_equal(count_events(&g, "TB-01", "online"), 1);
	assert_int_equal(count_events(&g, "PG-02", "online"), 1);
	assert_int_equal(h_sim_stop(&sim), 0);
	assert_log_has(&g, "\"readings_committed\":");
}

static void dead_instrument_does_not_stall_another_bus(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim good, dead;
	struct gw g;
	char dir_good[H_PATH_MAX], dir_dead[H_PATH_MAX];
	char bus_a[256], bus_b[256], inst_a[1024], inst_b[1024], buses[1024],
	        insts[4096];
	const char *silent[] = {"--silent", "1", NULL};

	snprintf(dir_good, sizeof(dir_good), "%s", h_tmpdir());
	snprintf(dir_dead, sizeof(dir_dead), "%s", h_tmpdir());
	assert_int_equal(h_sim_start(&good, dir_good, true, false, NULL), 0);
	assert_int_equal(h_sim_start(&dead, dir_dead, true, false, silent), 0);
	gw_init(&g, dir);
	tcp_bus(bus_a, sizeof(bus_a), "good", good.port, 300);
	tcp_bus(bus_b, sizeof(bus_b), "dead", dead.port, 2000);
	instrument(inst_a, sizeof(inst_a), "OK-1", "good", 1, 100, 2);
	instrument(inst_b, sizeof(inst_b), "DEAD-1", "dead", 1, 100, 2);
	snprintf(buses, sizeof(buses), "%s, %s", bus_a, bus_b);
	snprintf(insts, sizeof(insts), "%s, %s", inst_a, inst_b);
	gw_config(&g, buses, insts, NULL);
	gw_start(&g);

	/* every poll of the dead bus waits 2 s for nothing; meanwhile the
	 * good bus keeps its schedule (10 polls/s). Wait for the dead
	 * instrument's first two timeouts (conditions, not a guessed time:
	 * a loaded machine or valgrind only makes them later), then count
	 * the good instrument's readings polled between them: the two
	 * requests are at least the 2 s timeout apart, so at 10 polls/s
	 * the good bus should have about 20 (at least 10 asked: this is
	 * about independence, not speed). */
	assert_true(wait_readings(&g, "DEAD-1", "c0", "r.quality = 1", 2,
	                          60000) >= 2);
	assert_int_equal(gw_stop(&g), 0);
#define DEAD_TIMEOUT(k)                                                        \
	"(SELECT r2.ts FROM readings r2 JOIN channels c2 ON c2.id = "          \
	"r2.channel JOIN instruments i2 ON i2.id = c2.instrument_id WHERE "    \
	"i2.name = 'DEAD-1' AND c2.name = 'c0' AND r2.quality = 1 ORDER BY "   \
	"r2.ts LIMIT 1 OFFSET " k ")"
	long long between =
	        count_readings(&g, "OK-1", "c0",
	                       "r.quality = 0 AND r.ts > " DEAD_TIMEOUT(
	                               "0") " AND r.ts < " DEAD_TIMEOUT("1"));
#undef DEAD_TIMEOUT
	if (between < 10)
		fail_msg("the good bus was polled %lld times while the dead "
		         "one waited 2 s",
		         between);
	assert_int_equal(count_readings(&g, "DEAD-1", "c0", "r.quality = 0"),
	                 0);
	assert_int_equal(count_events(&g, "DEAD-1", "offline"), 1);
	assert_int_equal(count_events(&g, "OK-1", "offline"), 0);
	assert_log_has(&g, "instrument DEAD-1 (tcp 127.0.0.1:");
	assert_int_equal(h_sim_stop(&good), 0);
	assert_int_equal(h_sim_stop(&dead), 0);
}

/* Three units on one RS-485 line (a pty), unit 2 silent: its neighbours
 * keep polling, it alone goes offline and backs off. */
static void dead_unit_on_a_shared_rtu_line(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[H_PATH_MAX + 256], insts[8192], one[2048], id[16];
	const char *extra[] = {"-n", "3",        "-m", "2", "--fault-unit",
	                       "2",  "--silent", "1",  NULL};
	int n = 0;

	assert_int_equal(h_sim_start(&sim, dir, false, true, extra), 0);
	gw_init(&g, dir);
	snprintf(bus, sizeof(bus),
	         "{ name = \"rs485\"; type = \"rtu\"; device = \"%s\"; "
	         "baud = 38400; parity = \"N\"; timeout_ms = 300; "
	         "turnaround_ms = 2; backoff_max_ms = 2000; }",
	         sim.rtu);
	for (int u = 1; u <= 3; u++) {
		snprintf(id, sizeof(id), "U-%d", u);
		instrument(one, sizeof(one), id, "rs485", u, 200, 2);
		n += snprintf(insts + n, sizeof(insts) - (size_t)n, "%s%s",
		              u > 1 ? ", " : "", one);
	}
	gw_config(&g, bus, insts, NULL);
	gw_start(&g);
	/* from the first good poll of both live units on (metrologd starts
	 * slowly under valgrind on a loaded machine) */
	char since[96];
	assert_int_equal(h_wait_file(g.db, 30000), 0);
	for (int i = 0; i < 300; i++) {
		if (try_count_readings(&g, "U-1", "c1", "r.quality = 0") > 0 &&
		    try_count_readings(&g, "U-3", "c1", "r.quality = 0") > 0)
			break;
		sleep_ms(100);
	}
	struct timespec now, end;
	char tried[96];
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(since, sizeof(since), "r.quality = 0 AND r.ts >= %lld",
	         (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
	snprintf(tried, sizeof(tried), "r.quality = 1 AND r.ts >= %lld",
	         (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
	/* 20 good polls of each live unit (4 s at 5 polls/s on an idle
	 * machine; counted, not slept: a loaded machine or valgrind only
	 * makes them later) and an attempt on the dead one */
	for (int i = 0; i < 1200; i++) {
		if (count_readings(&g, "U-1", "c1", since) >= 20 &&
		    count_readings(&g, "U-3", "c1", since) >= 20 &&
		    count_readings(&g, "U-2", "c0", tried) >= 1)
			break;
		sleep_ms(100);
	}
	clock_gettime(CLOCK_REALTIME, &end);
	assert_int_equal(gw_stop(&g), 0);
	long long window_ms = (end.tv_sec - now.tv_sec) * 1000LL +
	                      (end.tv_nsec - now.tv_nsec) / 1000000;

	/* the live units keep their schedule although every attempt on
	 * unit 2 costs a 300 ms timeout */
	assert_true(count_readings(&g, "U-1", "c1", since) >= 20);
	assert_true(count_readings(&g, "U-3", "c1", since) >= 20);
	assert_int_equal(count_readings(&g, "U-2", "c0", "r.quality = 0"), 0);
	/* back-off: far fewer attempts on the dead unit than the 20 polls
	 * of each live one (at most one per 2 s once backed off; 8 in the
	 * 4 s of an idle machine, more only as the window grows) */
	long long tries = count_readings(&g, "U-2", "c0", tried);
	if (tries < 1 || tries > 6 + window_ms / 2000)
		fail_msg("%lld attempts on the dead unit in %lld ms", tries,
		         window_ms);
	assert_int_equal(count_events(&g, "U-2", "offline"), 1);
	assert_int_equal(count_events(&g, "U-1", "offline"), 0);
	assert_int_equal(count_events(&g, "U-3", "offline"), 0);
	assert_int_equal(h_sim_stop(&sim), 0);
}

/* A device that takes one request per connection (the simulator drops
 * each connection after its first request): connect_per_poll keeps every
 * reading good. */
static void connect_per_poll(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[512], inst[1024];
	const char *extra[] = {"--drop-after", "1", NULL};

	assert_int_equal(h_sim_start(&sim, dir, true, false, extra), 0);
	gw_init(&g, dir);
	snprintf(bus, sizeof(bus),
	         "{ name = \"one\"; type = \"tcp\"; host = \"127.0.0.1\"; "
	         "port = %d; timeout_ms = 500; connect_per_poll = true; }",
	         sim.port);
	instrument(inst, sizeof(inst), "P-1", "one", 1, 100, 2);
	gw_config(&g, bus, inst, NULL);
	gw_start(&g);
	assert_true(wait_readings(&g, "P-1", "c1", NULL, 10, WAIT_MS) >= 10);
	assert_int_equal(gw_stop(&g), 0);
	assert_int_equal(count_readings(&g, "P-1", "c0", "r.quality != 0"), 0);
	assert_int_equal(count_events(&g, "P-1", "offline"), 0);
	assert_int_equal(h_sim_stop(&sim), 0);
}

static void reconnects_after_the_simulator_restarts(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[256], inst[1024], port[32], portfile[H_PATH_MAX];

	assert_int_equal(h_sim_start(&sim, dir, true, false, NULL), 0);
	gw_init(&g, dir);
	tcp_bus(bus, sizeof(bus), "b", sim.port, 300);
	instrument(inst, sizeof(inst), "R-1", "b", 1, 100, 1);
	gw_config(&g, bus, inst, NULL);
	gw_start(&g);
	assert_true(wait_readings(&g, "R-1", "c0", "r.quality = 0", 3,
	                          WAIT_MS) >= 3);

	/* the simulator dies, the instrument goes offline... */
	int sim_port = sim.port;
	assert_int_equal(h_sim_stop(&sim), 0);
	assert_true(wait_readings(&g, "R-1", "c0", "r.quality = 4", 1,
	                          WAIT_MS) >= 1);
	/* ...and comes back on the same port */
	snprintf(port, sizeof(port), "127.0.0.1:%d", sim_port);
	const char *again[] = {"--tcp", port, "--port-file",
	                       h_path(portfile, dir, "sim2.port"), NULL};
	assert_int_equal(h_sim_start(&sim, dir, false, false, again), 0);
	assert_int_equal(h_wait_file(portfile, WAIT_MS), 0);
	long long before = count_readings(&g, "R-1", "c0", "r.quality = 0");
	assert_true(wait_readings(&g, "R-1", "c0", "r.quality = 0", before + 3,
	                          WAIT_MS) >= before + 3);
	assert_int_equal(gw_stop(&g), 0);
	assert_int_equal(count_events(&g, "R-1", "offline"), 1);
	assert_int_equal(count_events(&g, "R-1", "online"), 2);
	assert_int_equal(h_sim_stop(&sim), 0);
}

static void sigkill_loses_nothing_committed(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[256], insts[16384], one[2048], id[16];
	const char *extra[] = {"-n", "8", "-m", "16", NULL};
	int n = 0;

	assert_int_equal(h_sim_start(&sim, dir, true, false, extra), 0);
	gw_init(&g, dir);
	tcp_bus(bus, sizeof(bus), "b", sim.port, 1000);
	for (int u = 1; u <= 8; u++) {
		snprintf(id, sizeof(id), "K-%d", u);
		instrument(one, sizeof(one), id, "b", u, 10, 16);
		n += snprintf(insts + n, sizeof(insts) - (size_t)n, "%s%s",
		              u > 1 ? ", " : "", one);
	}
	gw_config(&g, bus, insts, "storage = { batch_ms = 20; };");

	long long committed = 0;
	for (int round = 0; round < 5; round++) {
		gw_start(&g);
		/* wait for new commits, then read what is committed and
		 * kill the writer right after, in the middle of its work */
		assert_true(wait_readings(&g, "K-1", "c0", NULL, committed + 20,
		                          WAIT_MS) >= committed + 20);
		long long seen = db_int(g.db, "SELECT count(*) FROM readings");
		sleep_ms(37 * (round + 1));
		assert_int_equal(h_stop(g.pid, SIGKILL, 5000) != -1, 1);
		g.pid = 0;
		long long after = db_int(g.db, "SELECT count(*) FROM readings");
		assert_true(after >= seen);
		db_assert_integrity(g.db);
		committed = count_readings(&g, "K-1", "c0", NULL);
	}
	/* and it starts again on the same file and keeps going */
	gw_start(&g);
	assert_true(wait_readings(&g, "K-1", "c0", NULL, committed + 10,
	                          WAIT_MS) >= committed + 10);
	assert_int_equal(gw_stop(&g), 0);
	assert_int_equal(h_sim_stop(&sim), 0);
}

static void sighup_reloads_and_refuses_a_bad_file(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[256], inst[2048];
	const char *extra[] = {"-m", "4", NULL};

	assert_int_equal(h_sim_start(&sim, dir, true, false, extra), 0);
	gw_init(&g, dir);
	tcp_bus(bus, sizeof(bus), "b", sim.port, 500);
	instrument(inst, sizeof(inst), "H-1", "b", 1, 100, 1);
	gw_config(&g, bus, inst, NULL);
	gw_start(&g);
	assert_true(wait_readings(&g, "H-1", "c0", NULL, 3, WAIT_MS) >= 3);

	/* a broken file: refused, and polling goes on */
	write_file(g.cfg, "site = \"x\";\ndatabase = 12;\n");
	kill(g.pid, SIGHUP);
	gw_wait_log(&g, "reload refused");
	assert_log_has(&g, "metrologd.cfg:2: ");
	assert_log_has(&g, "reload refused");
	long long before = count_readings(&g, "H-1", "c0", NULL);
	assert_true(wait_readings(&g, "H-1", "c0", NULL, before + 3, WAIT_MS) >=
	            before + 3);

	/* a good file with one more channel: the new channel is polled */
	instrument(inst, sizeof(inst), "H-1", "b", 1, 100, 3);
	gw_config(&g, bus, inst, NULL);
	kill(g.pid, SIGHUP);
	assert_true(wait_readings(&g, "H-1", "c2", "r.quality = 0", 3,
	                          WAIT_MS) >= 3);
	assert_int_equal(gw_stop(&g), 0);
	assert_log_has(&g, "configuration reloaded");
	/* the first channel kept its id: one channel row named c0 */
	assert_int_equal(db_int(g.db, "SELECT count(*) FROM channels WHERE "
	                              "name = 'c0'"),
	                 1);
	assert_int_equal(h_sim_stop(&sim), 0);
}

/* The largest gap between consecutive readings of one channel, in ms. */
static long long max_gap_ms(struct gw *g, const char *id, const char *ch)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "SELECT max(gap) / 1000 FROM (SELECT r.ts - lag(r.ts) OVER "
	         "(ORDER BY r.ts) AS gap FROM readings r JOIN channels c ON "
	         "c.id = r.channel JOIN instruments i ON i.id = "
	         "c.instrument_id WHERE i.name = '%s' AND c.name = '%s')",
	         id, ch);
	return db_int(g->db, sql);
}

static void locked_database_loses_nothing(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct h_sim sim;
	struct gw g;
	char bus[256], inst[1024];
	sqlite3 *db = NULL;

	assert_int_equal(h_sim_start(&sim, dir, true, false, NULL), 0);
	gw_init(&g, dir);
	tcp_bus(bus, sizeof(bus), "b", sim.port, 500);
	instrument(inst, sizeof(inst), "L-1", "b", 1, 50, 2);
	gw_config(&g, bus, inst, "storage = { batch_ms = 20; };");
	gw_start(&g);
	assert_true(wait_readings(&g, "L-1", "c0", NULL, 5, WAIT_MS) >= 5);

	/* another process holds the write lock for longer than SQLite's
	 * busy timeout: commits fail, polling goes on, readings wait */
	assert_int_equal(sqlite3_open(g.db, &db), SQLITE_OK);
	/* metrologd may be in a commit itself: wait for it, as it will */
	sqlite3_busy_timeout(db, WAIT_MS);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	                 SQLITE_OK);
	sleep_ms(7000);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	long long before = count_readings(&g, "L-1", "c0", NULL);
	assert_true(wait_readings(&g, "L-1", "c0", NULL, before + 10,
	                          WAIT_MS) >= before + 10);
	assert_int_equal(gw_stop(&g), 0);
	assert_log_has(&g, "locked");
	assert_log_has(&g, "database writable again");
	/* no hole in the series: polls every 50 ms, none lost */
	long long gap = max_gap_ms(&g, "L-1", "c0");
	if (gap > 1000)
		fail_msg("a %lld ms hole in the readings", gap);
	assert_int_equal(count_readings(&g, "L-1", "c0", "r.quality != 0"), 0);
	assert_int_equal(h_sim_stop(&sim), 0);
}

static void bad_config_is_refused_with_file_and_line(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	struct gw g;
	char out[4096], log[H_PATH_MAX];

	gw_init(&g, dir);
	write_file(g.cfg, "site = \"x\";\ndatabase = \"x.db\";\n"
	                  "buses = ( { name = \"b\"; type = \"tcp\"; "
	                  "host = \"127.0.0.1\"; port = 1502; } );\n"
	                  "instruments = ( { id = \"I\"; bus = \"nope\"; "
	                  "unit_id = 1; interval_ms = 1000;\n"
	                  "  channels = ( { name = \"c\"; table = \"input\"; "
	                  "address = 0; type = \"float32\"; } ); } );\n");
	const char *check[] = {METROLOGD_BIN, "--check-config", g.cfg, NULL};
	assert_int_equal(
	        h_run(check, h_path(log, dir, "check.log"), true, WAIT_MS), 1);
	assert_true(h_read_file(log, out, sizeof(out)) > 0);
	if (strstr(out, "metrologd.cfg:4: ") == NULL ||
	    strstr(out, "\"nope\"") == NULL)
		fail_msg("no file:line error naming the bus in: %s", out);

	/* the daemon refuses it too, and creates no database */
	const char *run[] = {METROLOGD_BIN, "-c", g.cfg, NULL};
	assert_int_equal(h_run(run, h_path(log, dir, "run.log"), true, WAIT_MS),
	                 1);
	assert_int_equal(h_wait_file(g.db, 0), -1);

	/* a good file checks OK */
	char bus[256], inst[1024];
	tcp_bus(bus, sizeof(bus), "b", 1502, 500);
	instrument(inst, sizeof(inst), "I", "b", 1, 1000, 2);
	gw_config(&g, bus, inst, NULL);
	assert_int_equal(
	        h_run(check, h_path(log, dir, "check2.log"), true, WAIT_MS), 0);
	assert_true(h_read_file(log, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "OK (1 buses, 1 instruments, 2 channels)"));
}

/* How many times s occurs in text. */
static int occurrences(const char *text, const char *s)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, s)) != NULL; p++)
		n++;
	return n;
}

/* A gateway in dir whose only bus is an RTU line on a device that does
 * not exist (dir/no-such-tty): its configuration into g, the device into
 * dev. */
static void missing_device_config(struct gw *g, const char *dir, char *dev)
{
	char bus[H_PATH_MAX + 256], inst[1024];

	gw_init(g, dir);
	h_path(dev, dir, "no-such-tty");
	snprintf(bus, sizeof(bus),
	         "{ name = \"rs485-9\"; type = \"rtu\"; device = \"%s\"; "
	         "baud = 19200; timeout_ms = 100; backoff_max_ms = 1000; }",
	         dev);
	instrument(inst, sizeof(inst), "TTY-1", "rs485-9", 1, 200, 1);
	gw_config(g, bus, inst, NULL);
}

/* An RTU device that cannot be opened: the bus's own line names the bus
 * and its device and says why, with open(2)'s errno; the instrument goes
 * offline saying the same. The log has no journal priorities: stderr is
 * a file (JOURNAL_STREAM names another stream). */
static void rtu_device_that_cannot_be_opened_is_named(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	char dev[H_PATH_MAX], line[2 * H_PATH_MAX + 128];
	static char log[1 << 20];
	struct gw g;

	missing_device_config(&g, dir, dev);
	assert_int_equal(setenv("JOURNAL_STREAM", "1:1", 1), 0);
	gw_start(&g);
	unsetenv("JOURNAL_STREAM");
	snprintf(line, sizeof(line),
	         "metrologd: bus rs485-9 (%s): cannot open %s: No such file "
	         "or directory\n",
	         dev, dev);
	gw_wait_log(&g, line);
	snprintf(line, sizeof(line),
	         "metrologd: instrument TTY-1 (rtu %s 19200 8E1 unit 1) is "
	         "offline: cannot open %s: No such file or directory",
	         dev, dev);
	gw_wait_log(&g, line);
	assert_int_equal(gw_stop(&g), 0);
	assert_true(h_read_file(g.log, log, sizeof(log)) > 0);
	const char *at = strstr(log, "metrologd: bus rs485-9 (");
	assert_non_null(at);
	assert_true(at == log || at[-1] == '\n'); /* no priority before it */
	snprintf(line, sizeof(line), "bus rs485-9 (%s): cannot open", dev);
	assert_int_equal(occurrences(log, line), 1); /* once, not per poll */
	assert_null(strstr(log, "<4>"));
	assert_null(strstr(log, "<6>"));
}

/* Under systemd, stderr is the journal's stream (JOURNAL_STREAM holds its
 * device and inode): every line of metrologd starts with its syslog
 * priority, <4> a warning, <6> information, <7> debugging. */
static void journal_lines_carry_their_priority(void **state)
{
	(void)state;
	const char *dir = h_tmpdir();
	char dev[H_PATH_MAX], js[64], want[2 * H_PATH_MAX + 128];
	static char log[1 << 20];
	struct stat st;
	struct gw g;

	missing_device_config(&g, dir, dev);
	write_file(g.log, ""); /* the stream: the log file it appends to */
	assert_int_equal(stat(g.log, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
	const char *argv[] = {METROLOGD_BIN, "-d", "-c", g.cfg, NULL};
	g.pid = h_spawn(argv, g.log, true);
	unsetenv("JOURNAL_STREAM");
	assert_true(g.pid > 0);
	snprintf(want, sizeof(want),
	         "<4>metrologd: bus rs485-9 (%s): cannot open %s: No such "
	         "file or directory\n",
	         dev, dev);
	gw_wait_log(&g, want);
	snprintf(want, sizeof(want),
	         "<7>metrologd: bus rs485-9 (%s) unit 1: "
	         "read ",
	         dev);
	gw_wait_log(&g, want);
	assert_int_equal(gw_stop(&g), 0);
	assert_true(h_read_file(g.log, log, sizeof(log)) > 0);
	/* every line of metrologd's (not valgrind's "==pid==" ones) */
	int lines = 0, info = 0;
	for (char *p = log, *nl; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (strncmp(p, "==", 2) == 0)
			continue;
		if (strncmp(p, "<4>metrologd: ", 14) != 0 &&
		    strncmp(p, "<6>metrologd: ", 14) != 0 &&
		    strncmp(p, "<7>metrologd: ", 14) != 0)
			fail_msg("a line without its priority: '%s'", p);
		info += strncmp(p, "<6>", 3) == 0;
		lines++;
	}
	assert_true(lines >= 3);
	assert_true(info >= 1); /* started, stopped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(values_arrive_over_tcp_and_rtu,
	                                  h_teardown),
	        cmocka_unit_test_teardown(
	                dead_instrument_does_not_stall_another_bus, h_teardown),
	        cmocka_unit_test_teardown(dead_unit_on_a_shared_rtu_line,
	                                  h_teardown),
	        cmocka_unit_test_teardown(
	                rtu_device_that_cannot_be_opened_is_named, h_teardown),
	        cmocka_unit_test_teardown(journal_lines_carry_their_priority,
	                                  h_teardown),
	        cmocka_unit_test_teardown(connect_per_poll, h_teardown),
	        cmocka_unit_test_teardown(
	                reconnects_after_the_simulator_restarts, h_teardown),
	        cmocka_unit_test_teardown(sigkill_loses_nothing_committed,
	                                  h_teardown),
	        cmocka_unit_test_teardown(sighup_reloads_and_refuses_a_bad_file,
	                                  h_teardown),
	        cmocka_unit_test_teardown(locked_database_loses_nothing,
	                                  h_teardown),
	        cmocka_unit_test_teardown(
	                bad_config_is_refused_with_file_and_line, h_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
