/*
 * test_mqtt_ha.c - metrologd with mqtt.version = 5, and Home Assistant
 * discovery, end to end: a real mosquitto on loopback (started by the
 * harness), the simulator, metrologd and a real SQLite file; the
 * subscriber is mosquitto_sub writing "topic payload" lines to a file.
 *
 *   v5_no_seq_missing     MQTT 5 (the broker's log says p5, clean start
 *                         off): broker stopped and restarted during
 *                         polling, every seq the outbox assigned arrives,
 *                         the readings match the database
 *   v5_refused_dropped    an ACL forbids the readings topics: mosquitto
 *                         answers PUBACK 0x87 (not authorized) to a v5
 *                         client; metrologd logs it once, counts it as
 *                         refused, and its outbox does not stay stuck
 *                         (metrologd not under valgrind here: see there)
 *   ha_discovery          a retained config per channel (and per
 *                         tolerance state) with the fields docs/MQTT.md
 *                         lists, and all of them again after Home
 *                         Assistant's "online" on homeassistant/status
 *   ha_many_channels      more configs (124) and a larger window
 *                         (inflight 500) than Paho buffers by default
 *                         (100): every config arrives, and publishing
 *                         goes on (the outbox is empty at the stop)
 *
 * Threading: one thread; everything else is a process.
 */
#define _GNU_SOURCE
#include "mqtttest.h"

#define SITE   "test-lab"
#define PREFIX "mt"

/* Broker (persistent, extra_conf appended), simulator, subscriber on
 * filter, and metrologd's config with the given mqtt group body. */
static void rig_start(struct rig *r, const char *extra_conf, const char *filter,
                      const char *mqtt, const char *insts)
{
	char bus[256], extra[1024];

	mq_rig_init(r);
	mq_broker_start(r, extra_conf);
	assert_int_equal(
	        h_sim_start(&r->sim, r->dir, true, false,
	                    (const char *const[]){"-n", "2", "-m", "3", NULL}),
	        0);
	mq_sub_start(r, filter, PREFIX "/probe", PREFIX "/probe", "test-ha-sub",
	             NULL, NULL);
	gw_init(&r->gw, r->dir);
	tcp_bus(bus, sizeof(bus), "bench", r->sim.port, 500);
	snprintf(extra, sizeof(extra),
	         "storage = { batch_ms = 50; };\n"
	         "mqtt = { port = %d; prefix = \"" PREFIX "\"; "
	         "keepalive_s = 5; %s };",
	         r->broker.port, mqtt);
	gw_config(&r->gw, bus, insts, extra);
}

/* TB-01 (3 channels) and TB-02 (2 channels) every 100 ms. */
static void two_instruments(char *out, size_t size)
{
	mq_two_instruments(out, size, 100);
}

static long long readings_in_db(struct rig *r)
{
	return mq_readings_in_db(&r->gw);
}

static void wait_readings(struct rig *r, long long n)
{
	mq_wait_readings(&r->gw, n);
}

/* Lines of the subscriber's file containing both a and b (b may be
 * NULL). */
static int count_lines_with(struct rig *r, const char *a, const char *b)
{
	return mq_count_lines(r->sub_out, a, b);
}

/* metrologd stopped: every seq the outbox assigned arrived (duplicates
 * allowed, none reused), and the readings messages carry every committed
 * reading. */
static void check_all_received(struct rig *r)
{
	struct mq_got g = {0};
	long long last = mq_check_all_received(r, &g, NULL, NULL);

	print_message("%lld seqs, %lld readings, %lld historical\n", last,
	              g.channels, g.historical);
	assert_int_equal(g.channels, readings_in_db(r));
	assert_true(g.historical > 0); /* sent late after the outage */
	mq_got_free(&g);
}

static void v5_no_seq_missing(void **state)
{
	struct rig r;
	char insts[2048];
	long long n;

	(void)state;
	two_instruments(insts, sizeof(insts));
	rig_start(&r, NULL, PREFIX "/#", "version = 5; historical_s = 1;",
	          insts);
	gw_start(&r.gw);
	wait_readings(&r, 50);
	/* it connected with MQTT 5 (p5) and clean start off (c0) */
	assert_true(mq_connects_as(&r, "metrologd-" SITE, 5) >= 1);
	assert_int_equal(h_broker_stop(&r.broker), 0);
	n = readings_in_db(&r);
	wait_readings(&r, n + 100); /* polling goes on during the outage */
	assert_int_equal(h_broker_restart(&r.broker), 0);
	n = readings_in_db(&r);
	wait_readings(&r, n + 100);
	/* the outage's backlog acknowledged before the stop (whose flush is
	 * bounded in time: a loaded machine may not drain it then) */
	char q[128];
	snprintf(q, sizeof(q), "SELECT count(*) FROM outbox WHERE seq <= %lld",
	         db_int(r.gw.db, "SELECT seq FROM sqlite_sequence WHERE "
	                         "name = 'outbox'"));
	for (int t = 0; db_int(r.gw.db, q) > 0; t++) {
		if (t == 600)
			fail_msg("the outage's backlog not sent in 60 s");
		sleep_ms(100);
	}
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r);
	/* the gateway's status came through version 5 too */
	assert_true(count_lines_with(&r, PREFIX "/" SITE "/gateway/status {",
	                             "\"state\":\"online\"") >= 1);
	mq_rig_finish(&r);
}

static void v5_refused_dropped(void **state)
{
	struct rig r;
	char insts[2048], acl[H_PATH_MAX], conf[H_PATH_MAX + 64];
	char log[1 << 16];

	(void)state;
	two_instruments(insts, sizeof(insts));
	/* anonymous clients may write only the gateway's status, and read
	 * everything; the broker is told after rig_start() made the dir */
	memset(&r, 0, sizeof(r));
	snprintf(acl, sizeof(acl), "%s/acl", h_tmpdir());
	write_file(acl, "topic write " PREFIX "/" SITE "/gateway/#\n"
	                "topic write " PREFIX "/probe\n"
	                "topic read #\n");
	snprintf(conf, sizeof(conf), "acl_file %s\n", acl);
	rig_start(&r, conf, PREFIX "/#", "version = 5;", insts);
	/* Not under METROLOG_TEST_WRAPPER: Paho 1.3.11/1.3.12 (Debian 12)
	 * reads the PUBACK's packet type after freeing the packet when the
	 * reason code is a failure, inside its own receive thread, and
	 * valgrind rightly reports that read (1 byte, in libpaho-mqtt3as).
	 * Our side of the path runs under ASan in CI. */
	{
		const char *argv[] = {METROLOGD_BIN, "-c", r.gw.cfg, NULL};
		r.gw.pid = h_spawn(argv, r.gw.log, false);
		assert_true(r.gw.pid > 0);
	}
	wait_readings(&r, 200);
	assert_int_equal(gw_stop(&r.gw), 0);
	/* refused messages left the outbox: it did not stay stuck on the
	 * first one */
	assert_int_equal(db_int(r.gw.db, "SELECT count(*) FROM outbox"), 0);
	assert_true(h_read_file(r.gw.log, log, sizeof(log)) > 0);
	/* logged once per code, with a topic the ACL forbids */
	assert_int_equal(mq_count_in_file(r.gw.log, "PUBACK reason code 0x87"),
	                 1);
	assert_non_null(strstr(log, "the broker refused a message on " PREFIX
	                            "/" SITE "/TB-0"));
	/* and counted: the stats line at the stop says how many */
	const char *st = strstr(log, "\"refused\":");
	assert_non_null(st);
	assert_true(strtoll(st + 10, NULL, 10) > 0);
	/* nothing forbidden reached the subscriber; the status did */
	assert_int_equal(count_lines_with(&r, "/readings {", NULL), 0);
	assert_true(count_lines_with(&r, PREFIX "/" SITE "/gateway/status {",
	                             NULL) >= 1);
	mq_rig_finish(&r);
}

/* One line of the subscriber's file: the config on topic, or fail. */
static void config_line(struct rig *r, const char *topic, char *out,
                        size_t size)
{
	FILE *f = fopen(r->sub_out, "r");
	char *line = NULL;
	size_t cap = 0, tl = strlen(topic);

	assert_non_null(f);
	out[0] = '\0';
	while (getline(&line, &cap, f) > 0)
		if (strncmp(line, topic, tl) == 0 && line[tl] == ' ') {
			snprintf(out, size, "%s", line + tl + 1);
			break;
		}
	free(line);
	fclose(f);
	if (out[0] == '\0')
		fail_msg("no config on %s", topic);
}

#define HA_NODE "homeassistant/sensor/metrolog-test-lab/"

static void ha_discovery(void **state)
{
	struct rig r;
	char insts[4096], text[4096], port[16];
	/* TB-01: c0 with a tolerance, c1; model, serial and location */
	const char *tb01 =
	        "{ id = \"TB-01\"; bus = \"bench\"; unit_id = 1; "
	        "interval_ms = 200; model = \"PT-100 bath\"; serial = \"SN-7\";"
	        " location = \"Lab 2\"; channels = ("
	        "{ name = \"c0\"; table = \"input\"; address = 0; "
	        "type = \"float32\"; unit = \"degC\"; tolerance = { "
	        "reference = 20.0; limit = 5.0; }; },"
	        "{ name = \"c1\"; table = \"input\"; address = 2; "
	        "type = \"float32\"; unit = \"degC\"; }); }";
	const int configs = 3 + 2; /* 2 + 1 tolerance of TB-01, 2 of TB-02 */

	(void)state;
	snprintf(insts, sizeof(insts), "%s,", tb01);
	instrument(insts + strlen(insts), sizeof(insts) - strlen(insts),
	           "TB-02", "bench", 2, 200, 2);
	rig_start(&r, NULL, "homeassistant/#",
	          "homeassistant = { prefix = \"homeassistant\"; };", insts);
	gw_start(&r.gw);
	mq_wait_lines(&r, "/config {", NULL, configs);
	sleep_ms(500);
	/* one per channel, and one per tolerance state, no more */
	assert_int_equal(count_lines_with(&r, "/config {", NULL), configs);

	config_line(&r, HA_NODE "TB-01__c0/config", text, sizeof(text));
	assert_non_null(strstr(text, "\"unique_id\":\"metrolog/test-lab/"
	                             "TB-01/c0\""));
	assert_non_null(strstr(text, "\"state_topic\":\"" PREFIX
	                             "/test-lab/TB-01/readings\""));
	assert_non_null(strstr(text, "value_json.channels['c0'].value"));
	assert_non_null(strstr(text, "\"unit_of_measurement\":\"degC\""));
	assert_non_null(strstr(text, "\"availability\":[{\"topic\":\"" PREFIX
	                             "/test-lab/gateway/status\""));
	assert_non_null(strstr(text, "{\"topic\":\"" PREFIX
	                             "/test-lab/TB-01/status\""));
	assert_non_null(strstr(text, "\"availability_mode\":\"all\""));
	assert_non_null(strstr(text, "\"identifiers\":[\"metrolog/test-lab/"
	                             "TB-01\"]"));
	assert_non_null(strstr(text, "\"manufacturer\":\"metrolog\""));
	assert_non_null(strstr(text, "\"model\":\"PT-100 bath\""));
	assert_non_null(strstr(text, "\"serial_number\":\"SN-7\""));
	assert_non_null(strstr(text, "\"name\":\"TB-01\""));

	config_line(&r, HA_NODE "TB-01__c0__tolerance/config", text,
	            sizeof(text));
	assert_non_null(strstr(text, "\"device_class\":\"enum\""));
	assert_non_null(strstr(text, "\"state_topic\":\"" PREFIX
	                             "/test-lab/TB-01/status\""));
	assert_non_null(strstr(text, "value_json.tolerance['c0']"));
	assert_non_null(strstr(text, "\"out_of_tolerance\""));

	config_line(&r, HA_NODE "TB-02__c1/config", text, sizeof(text));
	assert_non_null(strstr(text, "value_json.channels['c1'].value"));
	assert_null(strstr(text, "\"model\"")); /* none configured */
	/* no tolerance, no tolerance sensor */
	assert_int_equal(count_lines_with(&r, "TB-01__c1__tolerance", NULL), 0);

	/* they are retained: a subscriber arriving later gets them */
	{
		char out[H_PATH_MAX];
		const char *argv[] = {"mosquitto_sub",
		                      "-h",
		                      "127.0.0.1",
		                      "-p",
		                      port,
		                      "-t",
		                      "homeassistant/sensor/#",
		                      "-C",
		                      "5",
		                      "-W",
		                      "5",
		                      NULL};
		snprintf(port, sizeof(port), "%d", r.broker.port);
		h_path(out, r.dir, "retained.out");
		assert_int_equal(h_run(argv, out, false, 60000), 0);
		assert_int_equal(mq_count_in_file(out, "\"unique_id\""),
		                 configs);
	}

	/* Home Assistant restarts: "online" on its status, all again */
	assert_int_equal(mq_pub(&r, "homeassistant/status", "online", NULL), 0);
	mq_wait_lines(&r, "/config {", NULL, 2 * configs);
	assert_int_equal(count_lines_with(&r, HA_NODE "TB-01__c0/config", NULL),
	                 2);
	assert_int_equal(gw_stop(&r.gw), 0);
	mq_rig_finish(&r);
}

static void ha_many_channels(void **state)
{
	struct rig r;
	char insts[16384];
	char *p;
	const int configs = 2 * 62;

	(void)state;
	instrument(insts, sizeof(insts), "TB-01", "bench", 1, 100, 62);
	p = insts + strlen(insts);
	*p++ = ',';
	instrument(p, sizeof(insts) - (size_t)(p - insts), "TB-02", "bench", 2,
	           100, 62);
	rig_start(&r, NULL, "homeassistant/#",
	          "inflight = 500; homeassistant = {};", insts);
	gw_start(&r.gw);
	mq_wait_lines(&r, "/config {", NULL, configs);
	assert_int_equal(
	        count_lines_with(&r, HA_NODE "TB-02__c61/config {", NULL), 1);
	wait_readings(&r, readings_in_db(&r) + 1000);
	assert_int_equal(gw_stop(&r.gw), 0);
	assert_int_equal(db_int(r.gw.db, "SELECT count(*) FROM outbox"), 0);
	/* all of them in one go, and Paho never refused a send */
	assert_int_equal(mq_count_in_file(r.gw.log, "discovery: 124 configs"),
	                 1);
	assert_int_equal(mq_count_in_file(r.gw.log, "buffered"), 0);
	mq_rig_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(v5_no_seq_missing, h_teardown),
	        cmocka_unit_test_teardown(v5_refused_dropped, h_teardown),
	        cmocka_unit_test_teardown(ha_discovery, h_teardown),
	        cmocka_unit_test_teardown(ha_many_channels, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
