/*
 * test_mqtt_security.c - metrologd publishing to a real mosquitto over TLS,
 * with a user name and password and a topic ACL (docs/MQTT.md, Security).
 * Each test makes its own certificates with the openssl command in its
 * temporary directory: a CA, a server certificate for 127.0.0.1 and
 * localhost (subjectAltName), a client certificate signed by the CA, and a
 * second, unrelated CA. The broker (started by the harness) has a TLS
 * listener that requires a client certificate; the subscriber is
 * mosquitto_sub over TLS writing "topic payload" lines to a file.
 *
 *   tls_right_ca          readings arrive, the outbox drains
 *   tls_wrong_ca_reload   the broker's certificate is refused (logged as a
 *                         TLS failure), the outbox grows; after the config
 *                         is fixed and reloaded (SIGHUP) every seq arrives
 *   password              a wrong password is refused ("not authorised");
 *                         the right one, read again at reload, works; the
 *                         passwords never appear in metrologd's log
 *   acl_foreign_topic     an ACL confines the gateway to metrolog/<site>/#:
 *                         with a prefix outside it, MQTT 3.1.1 mosquitto
 *                         acknowledges and drops the messages, so the
 *                         subscriber receives nothing on the foreign topics
 *
 * Threading: one thread; everything else is a process.
 */
#define _GNU_SOURCE
#include "mqtttest.h"

#define SITE       "test-lab"
#define GW_USER    "gateway"
#define GW_PASS    "Gw-s3cret-7f2a"
#define WRONG_PASS "Not-the-pass-91c"
#define SUB_USER   "tester"
#define SUB_PASS   "Sub-pass-55e1"
#define WAIT_S     180 /* valgrind and TLS are slow: bounded, generous */

/* The CA, server, client and unrelated CA of the header comment, readable
 * by the test's user only (the broker runs as that user: harness.h). */
static void make_certs(const char *dir)
{
	mq_sh(dir, "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
	           "-subj /CN=metrolog-test-ca -keyout ca.key -out ca.pem; "
	           "openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
	           "-subj /CN=unrelated-ca -keyout other-ca.key "
	           "-out other-ca.pem; "
	           "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' "
	           "> server.ext; "
	           "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost "
	           "-keyout server.key -out server.csr; "
	           "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
	           "-CAcreateserial -days 2 -extfile server.ext "
	           "-out server.pem; "
	           "openssl req -newkey rsa:2048 -nodes -subj /CN=" GW_USER " "
	           "-keyout client.key -out client.csr; "
	           "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
	           "-CAcreateserial -days 2 -out client.pem");
}

/* The broker's password file and ACL: the gateway may publish under
 * metrolog/<site>/# only; the test's subscriber may read (and probe)
 * everything. */
static void make_auth(const char *dir)
{
	mq_sh(dir, "mosquitto_passwd -b -c passwd " GW_USER " " GW_PASS "; "
	           "mosquitto_passwd -b passwd " SUB_USER " " SUB_PASS "; "
	           "printf 'user " GW_USER "\\n"
	           "topic write metrolog/" SITE "/#\\n\\n"
	           "user " SUB_USER "\\ntopic readwrite #\\n' > acl");
}

/* The options of mosquitto_sub and mosquitto_pub over TLS, as the test's
 * user when the broker wants one, into opts (NULL-terminated). */
static void tls_opts(const struct rig *r, const char *opts[16],
                     char paths[3][H_PATH_MAX])
{
	int i = 0;

	h_path(paths[0], r->dir, "ca.pem");
	h_path(paths[1], r->dir, "client.pem");
	h_path(paths[2], r->dir, "client.key");
	opts[i++] = "--cafile";
	opts[i++] = paths[0];
	opts[i++] = "--cert";
	opts[i++] = paths[1];
	opts[i++] = "--key";
	opts[i++] = paths[2];
	if (r->auth) {
		opts[i++] = "-u";
		opts[i++] = SUB_USER;
		opts[i++] = "-P";
		opts[i++] = SUB_PASS;
	}
	opts[i] = NULL;
}

/* A subscriber on everything, QoS 1; waits until a probe comes back (on
 * foreign/probe: the subscriber sees foreign topics). */
static void sub_start(struct rig *r)
{
	char paths[3][H_PATH_MAX];
	const char *opts[16];

	tls_opts(r, opts, paths);
	mq_sub_start(r, "#", NULL, "foreign/probe", "test-tls-sub", opts, opts);
}

static void rig_start(struct rig *r, bool auth)
{
	char conf[4 * H_PATH_MAX + 256];

	mq_rig_init(r);
	r->auth = auth;
	make_certs(r->dir);
	if (auth)
		make_auth(r->dir);
	/* appended after the harness's "listener <port> 127.0.0.1", so the
	 * TLS settings are that listener's */
	snprintf(conf, sizeof(conf),
	         "cafile %s/ca.pem\ncertfile %s/server.pem\n"
	         "keyfile %s/server.key\nrequire_certificate true\n%s%s%s%s",
	         r->dir, r->dir, r->dir, auth ? "allow_anonymous false\n" : "",
	         auth ? "password_file " : "", auth ? r->dir : "",
	         auth ? "/passwd\n" : "");
	if (auth)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
		         "acl_file %s/acl\n", r->dir);
	assert_int_equal(h_broker_start(&r->broker, r->dir, conf), 0);
	assert_int_equal(h_sim_start(&r->sim, r->dir, true, false,
	                             (const char *const[]){"-n", "1", NULL}),
	                 0);
	sub_start(r);
	gw_init(&r->gw, r->dir);
}

/* metrologd's configuration: prefix, the CA file it trusts (a name in
 * the rig's directory), and a password file (NULL: no credentials). */
static void rig_config(struct rig *r, const char *prefix, const char *ca,
                       const char *pass_file)
{
	char bus[256], inst[1024], extra[4 * H_PATH_MAX + 512],
	        cred[H_PATH_MAX + 64];

	tcp_bus(bus, sizeof(bus), "bench", r->sim.port, 500);
	instrument(inst, sizeof(inst), "TB-01", "bench", 1, 100, 2);
	cred[0] = '\0';
	if (pass_file != NULL)
		snprintf(cred, sizeof(cred),
		         "username = \"" GW_USER "\"; "
		         "password_file = \"%s/%s\"; ",
		         r->dir, pass_file);
	snprintf(extra, sizeof(extra),
	         "storage = { batch_ms = 50; };\n"
	         "mqtt = { port = %d; prefix = \"%s\"; keepalive_s = 5; %s\n"
	         "  tls = { ca_file = \"%s/%s\"; cert_file = \"%s/client.pem\";"
	         " key_file = \"%s/client.key\"; verify = true; }; };",
	         r->broker.port, prefix, cred, r->dir, ca, r->dir, r->dir);
	gw_config(&r->gw, bus, inst, extra);
}

static long long db_count(struct rig *r, const char *sql)
{
	if (access(r->gw.db, F_OK) != 0)
		return 0; /* metrologd has not created it yet */
	return db_try_int(r->gw.db, sql);
}

#define OUTBOX   "SELECT count(*) FROM outbox"
#define READINGS "SELECT count(*) FROM readings"

/* Wait (bounded) until sql counts at least n (or, when at_most, at most
 * n) rows. */
static void wait_count(struct rig *r, const char *sql, long long n,
                       bool at_most)
{
	long long v = -1;

	for (int i = 0; i < WAIT_S * 10; i++) {
		v = db_count(r, sql);
		if (v >= 0 && (at_most ? v <= n : v >= n))
			return;
		sleep_ms(100);
	}
	fail_msg("%s: %lld, never %s %lld", sql, v, at_most ? "<=" : ">=", n);
}

/* Wait (bounded) until metrologd's log contains one of the texts. */
static void wait_log(struct rig *r, const char *a, const char *b)
{
	static char text[1 << 20];

	for (int i = 0; i < WAIT_S * 10; i++) {
		if (h_read_file(r->gw.log, text, sizeof(text)) > 0 &&
		    (strstr(text, a) != NULL || (b && strstr(text, b) != NULL)))
			return;
		sleep_ms(100);
	}
	fail_msg("metrologd's log never said \"%s\":\n%s", a, text);
}

/* Lines of the subscriber's file whose topic starts with prefix. */
static long long sub_lines(struct rig *r, const char *prefix)
{
	return mq_lines_starting(r->sub_out, prefix);
}

/* metrologd is stopped and its outbox empty: every seq it assigned
 * arrives at the subscriber (bounded wait), none reused. */
static void check_all_received(struct rig *r)
{
	struct mq_got g = {0};
	long long last = mq_check_all_received(r, &g, NULL, NULL);

	print_message("%lld seqs, %lld duplicates\n", last, g.duplicates);
	mq_got_free(&g);
}

static void reload(struct rig *r)
{
	assert_int_equal(kill(r->gw.pid, SIGHUP), 0);
}

static void tls_right_ca(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, false);
	rig_config(&r, "metrolog", "ca.pem", NULL);
	gw_start(&r.gw);
	wait_log(&r, "mqtt: connected", NULL);
	wait_count(&r, READINGS, 40, false);
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r);
	assert_true(sub_lines(&r, "metrolog/" SITE "/TB-01/readings ") > 0);
	mq_rig_finish(&r);
}

static void tls_wrong_ca_reload(void **state)
{
	struct rig r;
	long long before;

	(void)state;
	rig_start(&r, false);
	rig_config(&r, "metrolog", "other-ca.pem", NULL);
	gw_start(&r.gw);
	wait_log(&r, "TLS handshake failed", NULL);
	wait_log(&r, "certificate verify failed", NULL);
	wait_count(&r, OUTBOX, 20, false);
	before = db_count(&r, OUTBOX);
	wait_count(&r, OUTBOX, before + 20, false); /* it keeps growing */
	assert_int_equal(sub_lines(&r, "metrolog/"), 0);
	/* fixed and reloaded: what was kept is sent, none lost */
	rig_config(&r, "metrolog", "ca.pem", NULL);
	reload(&r);
	wait_log(&r, "mqtt: connected", NULL);
	wait_count(&r, OUTBOX, 10, true);
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r);
	mq_rig_finish(&r);
}

static void password(void **state)
{
	struct rig r;
	char pw[H_PATH_MAX];
	static char text[1 << 20];

	(void)state;
	rig_start(&r, true);
	h_path(pw, r.dir, "mqtt.pass");
	write_file(pw, WRONG_PASS "\n");
	rig_config(&r, "metrolog", "ca.pem", "mqtt.pass");
	gw_start(&r.gw);
	wait_log(&r, "not authorised", "bad user name or password");
	wait_count(&r, OUTBOX, 20, false);
	assert_int_equal(sub_lines(&r, "metrolog/"), 0);
	/* the right password, read again at reload */
	write_file(pw, GW_PASS "\n");
	reload(&r);
	wait_log(&r, "mqtt: connected", NULL);
	wait_count(&r, OUTBOX, 10, true);
	assert_int_equal(gw_stop(&r.gw), 0);
	check_all_received(&r);
	assert_true(h_read_file(r.gw.log, text, sizeof(text)) > 0);
	assert_null(strstr(text, GW_PASS));
	assert_null(strstr(text, WRONG_PASS));
	mq_rig_finish(&r);
}

static void acl_foreign_topic(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, true);
	write_file(h_path((char[H_PATH_MAX]){0}, r.dir, "mqtt.pass"),
	           GW_PASS "\n");
	/* allowed: metrolog/<site>/# */
	rig_config(&r, "metrolog", "ca.pem", "mqtt.pass");
	gw_start(&r.gw);
	wait_log(&r, "mqtt: connected", NULL);
	wait_count(&r, READINGS, 20, false);
	wait_count(&r, OUTBOX, 10, true);
	for (int i = 0; i < 100 && sub_lines(&r, "metrolog/" SITE "/") == 0;
	     i++)
		sleep_ms(100);
	assert_true(sub_lines(&r, "metrolog/" SITE "/") > 0);
	assert_int_equal(gw_stop(&r.gw), 0);
	/* outside it: the broker takes the messages (PUBACK, so the outbox
	 * drains) and delivers none of them */
	rig_config(&r, "foreign", "ca.pem", "mqtt.pass");
	long long n = db_count(&r, READINGS);
	gw_start(&r.gw);
	wait_log(&r, "under foreign/" SITE, NULL);
	wait_count(&r, READINGS, n + 40, false);
	wait_count(&r, OUTBOX, 10, true);
	assert_int_equal(gw_stop(&r.gw), 0);
	assert_int_equal(db_count(&r, OUTBOX), 0);
	sleep_ms(500);
	assert_int_equal(sub_lines(&r, "foreign/" SITE "/"), 0);
	assert_true(sub_lines(&r, "foreign/probe ") > 0); /* it would see */
	mq_rig_finish(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(tls_right_ca, h_teardown),
	        cmocka_unit_test_teardown(tls_wrong_ca_reload, h_teardown),
	        cmocka_unit_test_teardown(password, h_teardown),
	        cmocka_unit_test_teardown(acl_foreign_topic, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
