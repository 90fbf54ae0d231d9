/*
 * test_collector_parts.c - metrolog-collector's parts without network or
 * database: a gateway's message read from its topic and payload
 * (collector/inbox.c, against docs/MQTT.md's examples), and the
 * configuration (collector/ccfg.c): every key, the defaults, and a golden
 * file of errors (tests/fixtures/collector/bad.cfg, bad.expected).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccfg.h"
#include "inbox.h"

static int read_msg(struct inbox_msg *m, const char *topic, const char *pl,
                    char *err)
{
	return inbox_read(m, "metrolog", topic, pl, strlen(pl), err, 256);
}

static void test_readings(void **state)
{
	struct inbox_msg m;
	char err[256];
	const char *pl =
	        "{\"seq\":1042,\"ts\":\"2026-11-26T12:00:00.123456Z\","
	        "\"ts_ms\":1795694400123,\"instrument\":\"TB-01\","
	        "\"channels\":{\"c0\":{\"value\":20.5,\"unit\":\"degC\","
	        "\"quality\":\"good\"},\"c1\":{\"value\":null,\"unit\":"
	        "\"degC\",\"quality\":\"timeout\"}},\"historical\":true}";

	(void)state;
	assert_int_equal(read_msg(&m, "metrolog/lab-1/TB-01/readings", pl, err),
	                 0);
	assert_int_equal(m.kind, INBOX_READINGS);
	assert_string_equal(m.site, "lab-1");
	assert_string_equal(m.instrument, "TB-01");
	assert_int_equal(m.seq, 1042);
	assert_string_equal(m.ts, "2026-11-26T12:00:00.123456Z");
	assert_true(m.historical);
	/* a prefix of several levels */
	assert_int_equal(inbox_read(&m, "metrolog/north",
	                            "metrolog/north/lab-1/TB-01/readings", pl,
	                            strlen(pl), err, sizeof(err)),
	                 0);
	assert_string_equal(m.site, "lab-1");
}

static void test_events_and_statuses(void **state)
{
	struct inbox_msg m;
	char err[256];

	(void)state;
	assert_int_equal(
	        read_msg(&m, "metrolog/lab-1/TB-02/events",
	                 "{\"seq\":1043,\"ts\":\"2026-11-26T12:00:01.000214Z\","
	                 "\"instrument\":\"TB-02\",\"event\":\"offline\","
	                 "\"reason\":\"timeout\",\"historical\":false}",
	                 err),
	        0);
	assert_int_equal(m.kind, INBOX_EVENT);
	assert_false(m.historical);
	assert_int_equal(
	        read_msg(&m, "metrolog/lab-1/TB-02/status",
	                 "{\"seq\":1044,\"ts\":\"2026-11-26T12:00:01.000214Z\","
	                 "\"instrument\":\"TB-02\",\"state\":\"offline\"}",
	                 err),
	        0);
	assert_int_equal(m.kind, INBOX_STATUS);
	/* the gateway's status has no seq; its Last Will no ts */
	assert_int_equal(read_msg(&m, "metrolog/lab-1/gateway/status",
	                          "{\"state\":\"offline\",\"reason\":\"lost\"}",
	                          err),
	                 0);
	assert_int_equal(m.kind, INBOX_GATEWAY_STATUS);
	assert_int_equal(m.seq, 0);
	assert_string_equal(m.ts, "");
	/* an instrument named gateway is an instrument: its status has seq */
	assert_int_equal(
	        read_msg(&m, "metrolog/lab-1/gateway/status",
	                 "{\"seq\":5,\"ts\":\"2026-11-26T12:00:01.000214Z\","
	                 "\"instrument\":\"gateway\",\"state\":\"online\"}",
	                 err),
	        0);
	assert_int_equal(m.kind, INBOX_STATUS);
}

static void test_refused(void **state)
{
	static const char ok_ts[] = "\"ts\":\"2026-11-26T12:00:00Z\"";
	struct {
		const char *topic, *payload, *err;
	} bad[] = {
	        {"other/lab-1/TB-01/readings", "{}", "not a gateway's topic"},
	        {"metrolog/lab-1/TB-01/replies", "{}", "not a gateway's topic"},
	        {"metrolog/lab-1/TB-01/readings/x", "{}",
	         "not a gateway's topic"},
	        {"metrolog//TB-01/readings", "{}", "not a gateway's topic"},
	        {"metrolog/lab-1/TB-01/readings", "[1]", "not a JSON object"},
	        {"metrolog/lab-1/TB-01/readings", "{\"seq\":", "not a JSON"},
	        {"metrolog/lab-1/TB-01/events", "{\"seq\":0}", "no seq"},
	        {"metrolog/lab-1/TB-01/events", "{\"seq\":1.5}", "no seq"},
	        {"metrolog/lab-1/TB-01/events", "{\"seq\":\"1\"}", "no seq"},
	        {"metrolog/lab-1/TB-01/events", "{\"seq\":1}", "no ts"},
	        {"metrolog/lab-1/TB-01/events", "{\"seq\":1,\"ts\":\"x\"}",
	         "no ts"},
	        {"metrolog/lab-1/TB-01/events", NULL, "instrument is not"},
	        {"metrolog/lab-1/TB-01/readings", NULL, "channels malformed"},
	        {"metrolog/lab-1/TB-01/events", "{\"seq\":1,\"x\":\"\xff\"}",
	         "invalid UTF-8"},
	};
	struct inbox_msg m;
	char err[256], pl[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = bad[i].payload;
		if (p == NULL && strstr(bad[i].err, "instrument") != NULL) {
			snprintf(pl, sizeof(pl),
			         "{\"seq\":1,%s,\"instrument\":\"TB-02\"}",
			         ok_ts);
			p = pl;
		} else if (p == NULL) {
			snprintf(pl, sizeof(pl),
			         "{\"seq\":1,%s,\"instrument\":\"TB-01\","
			         "\"channels\":{\"c0\":{\"value\":\"1\","
			         "\"quality\":\"good\"}}}",
			         ok_ts);
			p = pl;
		}
		err[0] = '\0';
		assert_int_equal(read_msg(&m, bad[i].topic, p, err), -1);
		if (strstr(err, bad[i].err) == NULL)
			fail_msg("%s %s: \"%s\", not \"%s\"", bad[i].topic, p,
			         err, bad[i].err);
	}
	/* a NUL inside the payload */
	assert_int_equal(inbox_read(&m, "metrolog", "metrolog/a/b/events",
	                            "{}\0{}", 5, err, sizeof(err)),
	                 -1);
}

static void test_config_keys(void **state)
{
	struct ccfg *c;

	(void)state;
	assert_int_equal(chdir(METROLOG_FIXTURES "/collector"), 0);
	c = ccfg_load("good.cfg", stderr);
	assert_non_null(c);
	assert_string_equal(c->host, "broker.example");
	assert_int_equal(c->port, 8883);
	assert_int_equal(c->version, 3);
	assert_string_equal(c->group, "province");
	assert_string_equal(c->prefix, "metrolog/north");
	assert_string_equal(c->sites, "lab-1");
	assert_int_equal(c->keepalive_s, 10);
	assert_true(c->tls);
	assert_false(c->tls_verify);
	assert_string_equal(c->ca_file, "/etc/metrolog/ca.pem");
	assert_null(c->cert_file);
	assert_int_equal(c->gap_check_ms, 500);
	assert_int_equal(c->gap_settle_ms, 2000);
	ccfg_free(c);
	c = ccfg_load("minimal.cfg", stderr);
	assert_non_null(c);
	assert_string_equal(c->host, "127.0.0.1");
	assert_int_equal(c->port, 1883);
	assert_int_equal(c->version, 5);
	assert_string_equal(c->group, "metrolog-archive");
	assert_string_equal(c->prefix, "metrolog");
	assert_string_equal(c->sites, "+");
	assert_false(c->tls);
	assert_null(c->username);
	assert_int_equal(c->gap_check_ms, 1000);
	assert_int_equal(c->gap_settle_ms, 10000);
	ccfg_free(c);
}

static void test_config_errors(void **state)
{
	char got[4096] = "", want[4096];
	FILE *f = fmemopen(got, sizeof(got) - 1, "w");
	FILE *e;
	size_t n;

	(void)state;
	assert_int_equal(chdir(METROLOG_FIXTURES "/collector"), 0);
	assert_non_null(f);
	assert_null(ccfg_load("bad.cfg", f));
	fclose(f);
	e = fopen("bad.expected", "r");
	assert_non_null(e);
	n = fread(want, 1, sizeof(want) - 1, e);
	want[n] = '\0';
	fclose(e);
	assert_string_equal(got, want);
	f = fmemopen(got, sizeof(got) - 1, "w");
	assert_null(ccfg_load("no-such.cfg", f));
	fclose(f);
	assert_string_equal(got, "no-such.cfg: cannot read the file\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_readings),
	        cmocka_unit_test(test_events_and_statuses),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_config_keys),
	        cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
