/*
 * test_bridge.c - the lab-to-province path of docs/PROVINCE.md, all real:
 * two labs, each a metrologd polling metrolog-sim and publishing to its
 * own lab broker (mosquitto, anonymous on loopback), and each lab broker
 * bridged over TLS, with the lab's own credentials, to the provincial
 * broker, where metrolog-collector (TLS, a user of its own) archives into
 * a PostgreSQL 15 started by the test (pgtest.h).
 *
 * The provincial broker takes only TLS (the CA of the test, a server
 * certificate for 127.0.0.1), no anonymous client, and the ACL of
 * docs/PROVINCE.md: `pattern write metrolog/%u/#`, a site may publish
 * only under its own prefix (and its bridge its own state, `pattern write
 * $SYS/broker/connection/%c/state`); the collector reads everything.
 *
 *   test_bridge_acl   lab "test-lab" (user test-lab) arrives whole: every
 *                     seq and every reading of its SQLite, once; the other
 *                     lab's bridge (user lab-2) connects but publishes
 *                     under metrolog/test-lab/ too (its metrologd calls
 *                     its site test-lab): the broker denies every one of
 *                     them and PostgreSQL holds not one of its readings
 *                     (their poll times differ from the genuine lab's).
 */
#include "mqtttest.h"
#include "pgtest.h"

#define COLLECTOR_BIN METROLOG_COLLECTOR_BIN

/* The provincial broker's CA and server certificate (for 127.0.0.1),
 * password file and ACL, in dir. */
static void province_files(const char *dir)
{
	mq_sh(dir,
	      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
	      "-subj /CN=province-test-ca -keyout ca.key -out ca.pem; "
	      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' "
	      "> server.ext; "
	      "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost "
	      "-keyout server.key -out server.csr; "
	      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
	      "-CAcreateserial -days 2 -extfile server.ext -out server.pem; "
	      "mosquitto_passwd -b -c passwd test-lab lab-password-1; "
	      "mosquitto_passwd -b passwd lab-2 lab-password-2; "
	      "mosquitto_passwd -b passwd collector coll-password-1; "
	      "printf 'coll-password-1\\n' > collector.pass; "
	      "printf 'pattern write metrolog/%%u/#\\n"
	      "pattern write $SYS/broker/connection/%%c/state\\n\\n"
	      "user collector\\ntopic read metrolog/#\\n' > acl");
}

/* The provincial broker: TLS only on its listener, no anonymous clients,
 * the ACL; every PUBLISH logged (the denials are counted). */
static void province_start(struct h_broker *b, const char *dir)
{
	char conf[4096];

	snprintf(conf, sizeof(conf),
	         "cafile %s/ca.pem\ncertfile %s/server.pem\n"
	         "keyfile %s/server.key\n"
	         "allow_anonymous false\npassword_file %s/passwd\n"
	         "acl_file %s/acl\nlog_type all\n",
	         dir, dir, dir, dir, dir);
	assert_int_equal(h_broker_start(b, dir, conf), 0);
}

/* A lab in its own directory (under the test's, named user): its broker
 * bridged to the province as user (password pass), forwarding topic (QoS
 * 1); metrolog-sim with two instruments; metrologd configured (site
 * test-lab, not started) to publish to the lab broker. */
static void lab_start(struct rig *r, const struct h_broker *prov,
                      const char *pdir, const char *user, const char *pass,
                      const char *topic)
{
	char bridge[2048], bus[256], insts[2048], extra[512];

	mq_rig_init(r);
	h_path(r->dir, pdir, user);
	assert_int_equal(mkdir(r->dir, 0700), 0);
	h_path(r->sub_out, r->dir, "sub.out");
	snprintf(bridge, sizeof(bridge),
	         "connection province\naddress 127.0.0.1:%d\n"
	         "bridge_cafile %s/ca.pem\nremote_username %s\n"
	         "remote_password %s\nremote_clientid bridge-%s\n"
	         "cleansession false\nbridge_protocol_version mqttv311\n"
	         "restart_timeout 1\ntopic %s out 1\n",
	         prov->port, pdir, user, pass, user, topic);
	mq_broker_start(r, bridge);
	assert_int_equal(
	        h_sim_start(&r->sim, r->dir, true, false,
	                    (const char *const[]){"-n", "2", "-m", "3", NULL}),
	        0);
	gw_init(&r->gw, r->dir);
	tcp_bus(bus, sizeof(bus), "bench", r->sim.port, 500);
	mq_two_instruments(insts, sizeof(insts), 100);
	snprintf(extra, sizeof(extra),
	         "storage = { batch_ms = 50; };\n"
	         "mqtt = { port = %d; prefix = \"metrolog\"; keepalive_s = 5; "
	         "version = %d; };",
	         r->broker.port, mq_version());
	gw_config(&r->gw, bus, insts, extra);
}

/* Wait (up to 60 s) until the provincial broker's log shows client id
 * connected. */
static void wait_connected(const struct h_broker *b, const char *id)
{
	char what[128];

	snprintf(what, sizeof(what), " as %s (", id);
	for (int i = 0; i < 600; i++) {
		if (mq_count_in_file(b->log, what) > 0)
			return;
		sleep_ms(100);
	}
	fail_msg("%s never connected to the provincial broker (%s)", id,
	         b->log);
}

static void test_bridge_acl(void **state)
{
	struct rig lab, other;
	struct h_broker prov;
	struct pg p;
	char pdir[H_PATH_MAX], cfg[H_PATH_MAX], log[H_PATH_MAX];
	char text[4096], sql[512];
	long long last, denied;

	(void)state;
	snprintf(pdir, sizeof(pdir), "%s", h_tmpdir());
	province_files(pdir);
	province_start(&prov, pdir);
	pg_init(&p, pdir);

	/* the collector: TLS to the provincial broker, its own user */
	h_path(cfg, pdir, "collector.cfg");
	h_path(log, pdir, "collector.log");
	snprintf(text, sizeof(text),
	         "mqtt = { port = %d; client_id = \"coll-1\"; version = %d; "
	         "username = \"collector\"; password_file = "
	         "\"%s/collector.pass\"; tls = { ca_file = \"%s/ca.pem\"; }; "
	         "};\npostgresql = { conninfo = \"%s\"; };\n",
	         prov.port, mq_version(), pdir, pdir, p.conninfo);
	write_file(cfg, text);
	const char *init[] = {COLLECTOR_BIN, "-c", cfg, "init", NULL};
	assert_int_equal(h_run(init, log, true, 60000), 0);
	const char *run[] = {COLLECTOR_BIN, "-c", cfg, NULL};
	pid_t coll = h_spawn(run, log, true);
	assert_true(coll > 0);
	wait_connected(&prov, "coll-1");

	lab_start(&lab, &prov, pdir, "test-lab", "lab-password-1",
	          "metrolog/test-lab/#");
	lab_start(&other, &prov, pdir, "lab-2", "lab-password-2", "metrolog/#");
	wait_connected(&prov, "bridge-test-lab");
	wait_connected(&prov, "bridge-lab-2");
	gw_start(&lab.gw);
	gw_start(&other.gw);
	mq_wait_readings(&lab.gw, 150);
	mq_wait_readings(&other.gw, 150);
	assert_int_equal(gw_stop(&lab.gw), 0);
	assert_int_equal(gw_stop(&other.gw), 0);

	/* the genuine lab: every seq it assigned, every reading, once */
	last = db_int(lab.gw.db, "SELECT seq FROM sqlite_sequence "
	                         "WHERE name = 'outbox'");
	assert_true(last > 0);
	assert_int_equal(db_int(lab.gw.db, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(pg_wait_int(&p,
	                             "SELECT count(*) FROM messages m JOIN "
	                             "sites s ON s.id = m.site_id WHERE "
	                             "s.name = 'test-lab'",
	                             last, 60000),
	                 last);
	static const char pg_readings[] =
	        "SELECT %s FROM readings r JOIN channels c ON c.id = "
	        "r.channel_id JOIN instruments i ON i.id = c.instrument_id "
	        "JOIN sites s ON s.id = i.site_id WHERE s.name = 'test-lab'";
	snprintf(sql, sizeof(sql), pg_readings, "count(*)");
	assert_int_equal(pg_int(&p, sql),
	                 db_int(lab.gw.db, "SELECT count(*) FROM readings"));
	/* the same poll times: none of the other lab's (its own polls) */
	snprintf(sql, sizeof(sql), pg_readings,
	         "sum((extract(epoch FROM r.ts) * 1000000)::bigint % 1000003)");
	assert_int_equal(pg_int(&p, sql),
	                 db_int(lab.gw.db, "SELECT sum(ts % 1000003) "
	                                   "FROM readings"));

	/* the other lab published everything to its own broker, and its
	 * bridge forwarded it: the provincial broker denied each message */
	assert_true(db_int(other.gw.db, "SELECT seq FROM sqlite_sequence "
	                                "WHERE name = 'outbox'") > 0);
	assert_int_equal(db_int(other.gw.db, "SELECT count(*) FROM outbox"), 0);
	denied = mq_count_in_file(prov.log, "Denied PUBLISH from bridge-lab-2");
	assert_true(denied > 0);
	assert_int_equal(
	        mq_count_in_file(prov.log,
	                         "Denied PUBLISH from bridge-test-lab"),
	        0);

	assert_int_equal(h_stop(coll, SIGTERM, 30000) != -1, 1);
	pg_stop(&p);
	mq_rig_finish(&lab);
	mq_rig_finish(&other);
	assert_int_equal(h_broker_stop(&prov), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_bridge_acl, h_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
