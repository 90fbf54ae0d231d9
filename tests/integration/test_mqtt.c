/*
 * test_mqtt.c - metrologd publishing over MQTT, end to end: a real
 * mosquitto (started by the harness, with persistence so that the test's
 * subscriber keeps its session across a broker restart), the simulator,
 * metrologd and a real SQLite file. The subscriber is mosquitto_sub (QoS 1,
 * clean session off, a stable client id) writing "topic payload" lines to a
 * file, which the test reads back and compares with the database:
 *
 *   every_reading_published  every seq the outbox ever assigned arrives;
 *                            the readings messages carry exactly the
 *                            committed readings, values and timestamps;
 *                            metrologd's threads carry their names
 *   broker_outage            broker stopped and restarted during polling:
 *                            no seq missing, late ones marked historical
 *   sigkill_broker_down      metrologd SIGKILLed while the broker is down,
 *                            restarted with the broker back: none missing
 *   will_on_sigkill          the retained gateway status is "online", then
 *                            "offline" by the Last Will after SIGKILL
 *   rebuilt_after_sigkill    a readings row is stored without its payload;
 *                            after SIGKILL, rows acknowledged but not yet
 *                            deleted (put back by the test from a copy a
 *                            trigger kept) are sent again with payloads
 *                            built from the database: byte for byte the
 *                            ones built from memory before the kill
 *
 * metrologd speaks MQTT 3.1.1, or MQTT 5 when METROLOG_TEST_MQTT_VERSION
 * is 5 (ctest's mqtt_v5: the same tests, the same assertions), and the
 * broker's log must show it connected with that version. The test's own
 * clients (mosquitto_sub, mosquitto_pub) stay on 3.1.1 either way.
 *
 * Threading: one thread; everything else is a process.
 */
#define _GNU_SOURCE
#include "mqtttest.h"

#include <dirent.h>

#define SITE   "test-lab"
#define PREFIX "mt"

static void rig_start(struct rig *r, int historical_s)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "historical_s = %d; ", historical_s);
	mq_rig_config(r, PREFIX, "test-sub", extra);
}

static long long readings_in_db(struct rig *r)
{
	return mq_readings_in_db(&r->gw);
}

static void wait_readings(struct rig *r, long long n)
{
	mq_wait_readings(&r->gw, n);
}

/* The payload's "ts" as UTC microseconds. */
static long long json_ts_us(const char *s)
{
	const char *p = strstr(s, "\"ts\":\"");
	struct tm tm;
	long us = 0;

	assert_non_null(p);
	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(p + 6, "%d-%d-%dT%d:%d:%d.%6ldZ", &tm.tm_year,
	                        &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	                        &tm.tm_min, &tm.tm_sec, &us),
	                 7);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000000 + us;
}

/* The value of channel ch of instrument id at ts in the database. */
static double db_value(struct rig *r, const char *id, const char *ch,
                       long long ts)
{
	char sql[512];
	sqlite3 *db = db_open(r->gw.db);
	sqlite3_stmt *st = NULL;
	double v = -1e300;

	snprintf(sql, sizeof(sql),
	         "SELECT value FROM readings r JOIN channels c ON c.id = "
	         "r.channel JOIN instruments i ON i.id = c.instrument_id "
	         "WHERE i.name = '%s' AND c.name = '%s' AND r.ts = %lld",
	         id, ch, ts);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Check the values of a readings message against the database (the
 * first 60: a mq_readings_fn, arg the rig). */
static void check_values(const char *topic, const char *pl, struct mq_got *g,
                         void *arg)
{
	struct rig *r = arg;
	char id[64], key[32];
	long long ts;

	if (g->values_checked >= 60)
		return;
	ts = json_ts_us(pl);

	assert_int_equal(sscanf(topic, PREFIX "/" SITE "/%63[^/]/readings", id),
	                 1);
	for (int c = 0; c < 3; c++) {
		snprintf(key, sizeof(key), "\"c%d\":{\"value\":", c);
		const char *p = strstr(pl, key);
		if (p == NULL)
			continue;
		if (strncmp(p + strlen(key), "null", 4) == 0)
			continue;
		double want = strtod(p + strlen(key), NULL);
		snprintf(key, sizeof(key), "c%d", c);
		assert_true(db_value(r, id, key, ts) == want);
		g->values_checked++;
	}
}

/* metrologd is stopped: every seq the outbox assigned arrives, once at
 * least and never reused, and the readings messages carry exactly the
 * committed readings (values checked against the database when values). */
static void check_all_received(struct rig *r, struct mq_got *g, bool values)
{
	long long last =
	        mq_check_all_received(r, g, values ? check_values : NULL, r);

	print_message("MQTT %d: %lld seqs, %lld messages, %lld duplicates, "
	              "%lld historical, %lld readings\n",
	              mq_version(), last, g->messages, g->duplicates,
	              g->historical, g->channels);
	assert_true(mq_connects_as(r, "metrologd-" SITE, mq_version()) >= 1);
	assert_int_equal(g->channels, readings_in_db(r));
}

static void rig_finish(struct rig *r, struct mq_got *g)
{
	mq_got_free(g);
	mq_rig_finish(r);
}

/* True when one of pid's threads is named name (/proc/PID/task/TID/comm:
 * what top -H and ps -L show). */
static bool has_thread(pid_t pid, const char *name)
{
	char dir[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/task", (long)pid);
	d = opendir(dir);
	assert_non_null(d);
	while (!found && (e = readdir(d)) != NULL) {
		char path[384], comm[32] = "";
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		if (h_read_file(path, comm, sizeof(comm)) <= 0)
			continue; /* the thread ended meanwhile */
		comm[strcspn(comm, "\n")] = '\0';
		found = strcmp(comm, name) == 0;
	}
	closedir(d);
	return found;
}

static void every_reading_published(void **state)
{
	struct rig r;
	struct mq_got g = {0};
	char text[4096];

	(void)state;
	rig_start(&r, 3600);
	gw_start(&r.gw);
	wait_readings(&r, 200);
	/* the threads an operator sees in top -H (docs/ARCHITECTURE.md) */
	assert_true(has_thread(r.gw.pid, "mux"));
	assert_true(has_thread(r.gw.pid, "publish"));
	assert_true(has_thread(r.gw.pid, "MQTTAsync_send"));
	assert_false(has_thread(r.gw.pid, "no-such-thread"));
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r, &g, true);
	assert_true(g.values_checked >= 60);
	assert_int_equal(g.historical, 0);
	/* events and retained statuses are there too, and the gateway said
	 * online then offline */
	assert_true(h_read_file(r.sub_out, text, sizeof(text)) > 0);
	FILE *f = fopen(r.sub_out, "r");
	char *line = NULL;
	size_t cap = 0;
	bool event = false, status = false, gw_online = false,
	     gw_offline = false;
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		event |= strstr(line, PREFIX "/" SITE "/TB-01/events {") &&
		         strstr(line, "\"event\":\"online\"");
		status |= strstr(line, PREFIX "/" SITE "/TB-02/status {") &&
		          strstr(line, "\"state\":\"online\"");
		gw_online |=
		        strstr(line, PREFIX "/" SITE "/gateway/status {") &&
		        strstr(line, "\"state\":\"online\"");
		gw_offline |=
		        strstr(line, PREFIX "/" SITE "/gateway/status {") &&
		        strstr(line, "\"state\":\"offline\"") &&
		        strstr(line, "\"reason\":\"stopped\"");
	}
	free(line);
	fclose(f);
	assert_true(event);
	assert_true(status);
	assert_true(gw_online);
	assert_true(gw_offline);
	rig_finish(&r, &g);
}

/* QoS 0: every committed reading is published, and the publisher's
 * wake-ups for Paho's pending writes (an UNSUBSCRIBE from the gateway's
 * status topic every 32 KiB of QoS 0 messages, gateway/daemon/publish.c)
 * reach the broker without disturbing the connection or the stream. */
static void qos0_every_reading(void **state)
{
	struct rig r;
	struct mq_got g = {0};
	char line[128];

	(void)state;
	mq_rig_config_broker(&r, PREFIX, "test-sub", "qos = 0; ",
	                     "log_type debug\n");
	gw_start(&r.gw);
	/* 2.5 readings a message of about 240 bytes (topic included): 500
	 * readings are some 48 KiB, a wake-up (at 32 KiB) at least */
	wait_readings(&r, 500);
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r, &g, true);
	assert_int_equal(mq_connects_as(&r, "metrologd-" SITE, mq_version()),
	                 1);
	snprintf(line, sizeof(line), "Received UNSUBSCRIBE from metrologd-%s",
	         SITE);
	print_message("%d wake-ups\n", mq_count_in_file(r.broker.log, line));
	assert_true(mq_count_in_file(r.broker.log, line) >= 1);
	rig_finish(&r, &g);
}

/* A rig whose gateway published, then lost its broker and went on
 * polling (100 more readings, about 2 s). */
static void start_then_lose_broker(struct rig *r)
{
	long long n;

	rig_start(r, 1);
	gw_start(&r->gw);
	wait_readings(r, 50);
	assert_int_equal(h_broker_stop(&r->broker), 0);
	n = readings_in_db(r);
	wait_readings(r, n + 100); /* polling goes on: about 2 s */
}

static void broker_outage(void **state)
{
	struct rig r;
	struct mq_got g = {0};
	long long n;

	(void)state;
	start_then_lose_broker(&r);
	assert_int_equal(h_broker_restart(&r.broker), 0);
	n = readings_in_db(&r);
	wait_readings(&r, n + 100);
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r, &g, true);
	assert_true(g.historical > 0); /* sent late, and says so */
	rig_finish(&r, &g);
}

static void sigkill_broker_down(void **state)
{
	struct rig r;
	struct mq_got g = {0};
	long long n;

	(void)state;
	start_then_lose_broker(&r);
	h_stop(r.gw.pid, SIGKILL, 5000);
	assert_true(db_int(r.gw.db, "SELECT count(*) FROM outbox") > 0);
	assert_int_equal(h_broker_restart(&r.broker), 0);
	gw_start(&r.gw);
	n = readings_in_db(&r);
	wait_readings(&r, n + 100);
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r, &g, false);
	assert_true(g.historical > 0);
	rig_finish(&r, &g);
}

/* The retained gateway status, as a fresh subscriber reads it; "" when
 * there is none within 2 s. */
static void retained_status(struct rig *r, char *out, size_t size)
{
	char port[16], log[H_PATH_MAX];
	const char *argv[] = {"mosquitto_sub",
	                      "-h",
	                      "127.0.0.1",
	                      "-p",
	                      port,
	                      "-t",
	                      PREFIX "/" SITE "/gateway/status",
	                      "-C",
	                      "1",
	                      "-W",
	                      "2",
	                      NULL};

	snprintf(port, sizeof(port), "%d", r->broker.port);
	h_path(log, r->dir, "retained.out");
	unlink(log);
	h_run(argv, log, false, 60000);
	out[0] = '\0';
	if (h_read_file(log, out, size) < 0)
		out[0] = '\0';
}

static void will_on_sigkill(void **state)
{
	struct rig r;
	struct mq_got g = {0};
	char text[1024], conn[64];
	int i;

	(void)state;
	rig_start(&r, 3600);
	gw_start(&r.gw);
	for (i = 0; i < 300; i++) {
		retained_status(&r, text, sizeof(text));
		if (strstr(text, "\"state\":\"online\"") != NULL)
			break;
		sleep_ms(100);
	}
	assert_true(i < 300);
	/* the Last Will names the connection the statuses were sent on */
	const char *c = strstr(text, "\"connected\":\"");
	assert_non_null(c);
	assert_true(strlen(c) >= 41 && c[39] == 'Z' && c[40] == '"');
	snprintf(conn, sizeof(conn), "%.41s", c);
	assert_true(mq_connects_as(&r, "metrologd-" SITE, mq_version()) >= 1);
	h_stop(r.gw.pid, SIGKILL, 5000);
	for (i = 0; i < 100; i++) {
		retained_status(&r, text, sizeof(text));
		if (strstr(text, "\"state\":\"offline\"") != NULL)
			break;
		sleep_ms(100);
	}
	if (i == 100)
		fail_msg("retained gateway status after SIGKILL: %s", text);
	assert_non_null(strstr(text, "\"reason\":\"lost\""));
	assert_non_null(strstr(text, conn));
	rig_finish(&r, &g);
}

/* The subscriber's readings lines (r->sub_out) by seq: each line sent
 * again must be the same bytes as the first of its seq. Returns how many
 * were compared. */
static long long compare_resent(struct rig *r, long long last)
{
	static char text[8 << 20];
	char **first = calloc((size_t)last + 1, sizeof(*first));
	long long compared = 0;

	assert_non_null(first);
	assert_true(h_read_file(r->sub_out, text, sizeof(text)) >= 0);
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		if (strstr(line, "/readings {") == NULL)
			continue;
		long long seq = mq_json_int(line, "seq");
		assert_true(seq >= 1 && seq <= last);
		if (first[seq] == NULL) {
			first[seq] = line;
			continue;
		}
		if (strcmp(first[seq], line) != 0)
			fail_msg("seq %lld sent again differently:\n%s\n%s",
			         seq, first[seq], line);
		compared++;
	}
	free(first);
	return compared;
}

static void rebuilt_after_sigkill(void **state)
{
	struct rig r;
	long long n, kept, last;

	(void)state;
	rig_start(&r, 86400); /* "historical": false both times */
	gw_start(&r.gw);
	wait_readings(&r, 10);
	assert_int_equal(gw_stop(&r.gw), 0);
	/* a copy of every outbox row, from now on */
	db_exec(r.gw.db, "CREATE TABLE outbox_kept AS SELECT * FROM outbox "
	                 "WHERE 0; CREATE TRIGGER keep AFTER INSERT ON outbox "
	                 "BEGIN INSERT INTO outbox_kept SELECT * FROM outbox "
	                 "WHERE seq = new.seq; END;");
	gw_start(&r.gw);
	n = readings_in_db(&r);
	wait_readings(&r, n + 100);
	h_stop(r.gw.pid, SIGKILL, 5000);
	/* readings rows carry their channels, not their payload */
	kept = db_int(r.gw.db, "SELECT count(*) FROM outbox_kept WHERE "
	                       "channels IS NOT NULL AND length(payload) = 0");
	assert_true(kept >= 20);
	assert_int_equal(db_int(r.gw.db, "SELECT count(*) FROM outbox_kept "
	                                 "WHERE topic LIKE '%/readings' AND "
	                                 "channels IS NULL"),
	                 0);
	/* as if none of them had been deleted when it was killed */
	db_exec(r.gw.db, "DROP TRIGGER keep; INSERT OR IGNORE INTO outbox "
	                 "SELECT * FROM outbox_kept; DROP TABLE outbox_kept;");
	gw_start(&r.gw);
	n = readings_in_db(&r);
	wait_readings(&r, n + 50);
	assert_int_equal(gw_stop(&r.gw), 0);
	assert_int_equal(db_int(r.gw.db, "SELECT count(*) FROM outbox"), 0);
	mq_probe(&r, PREFIX "/probe", "rebuilt-done.", NULL, r.sub_out);
	last = db_int(r.gw.db, "SELECT seq FROM sqlite_sequence "
	                       "WHERE name = 'outbox'");
	long long compared = compare_resent(&r, last);
	print_message("rebuilt: %lld readings rows kept, %lld sent again and "
	              "compared\n",
	              kept, compared);
	/* those in flight at the kill came only once */
	assert_true(compared >= kept / 2);
	mq_rig_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(every_reading_published, h_teardown),
	        cmocka_unit_test_teardown(qos0_every_reading, h_teardown),
	        cmocka_unit_test_teardown(broker_outage, h_teardown),
	        cmocka_unit_test_teardown(sigkill_broker_down, h_teardown),
	        cmocka_unit_test_teardown(will_on_sigkill, h_teardown),
	        cmocka_unit_test_teardown(rebuilt_after_sigkill, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
