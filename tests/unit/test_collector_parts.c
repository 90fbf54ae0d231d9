/*
 * test_collector_parts.c - metrolog-collector's parts without network or
 * database: a gateway's message read from its topic and payload
 * (collector/inbox.c, against docs/MQTT.md's examples), the
 * configuration (collector/ccfg.c): every key, the defaults, and a golden
 * file of errors (tests/fixtures/collector/bad.cfg, bad.expected), and an
 * audit chain checked from rows (collector/chain.c): intact, a record
 * altered, a record altered with its hash recomputed, a gap, an approval
 * of a record held otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "ccfg.h"
#include "chain.h"
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
	assert_int_equal(c->batch_max, 64);
	assert_int_equal(c->batch_ms, 20);
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
	assert_int_equal(c->batch_max, 256);
	assert_int_equal(c->batch_ms, 50);
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

/* The batch: copies kept in order across the buffer's growth, marks,
 * full by count and by bytes, one large message alone, cleared. */
static void test_batch(void **state)
{
	struct batch *b = batch_new(3, 100000);
	static char big[300000];
	const char *t, *p;
	size_t len;

	(void)state;
	assert_non_null(b);
	assert_null(batch_new(0, 100));
	assert_int_equal(batch_add(b, "a/1", "x\0y", 3), 0);
	memset(big, 'z', sizeof(big));
	assert_int_equal(batch_add(b, "a/2", big, 70000), 0); /* grows */
	batch_set_mark(b, 0, -2);
	batch_get(b, 0, &t, &p, &len);
	assert_string_equal(t, "a/1");
	assert_int_equal(len, 3);
	assert_memory_equal(p, "x\0y", 3);
	assert_int_equal(p[3], '\0');
	assert_int_equal(batch_mark(b, 0), -2);
	assert_int_equal(batch_mark(b, 1), 0);
	assert_false(batch_full(b));
	assert_int_equal(batch_add(b, "a/3", big, 40000), 0); /* 110 kB */
	assert_int_equal(batch_count(b), 3);
	assert_true(batch_full(b));
	assert_int_equal(batch_add(b, "a/4", "", 0), -1);
	batch_get(b, 2, &t, &p, &len);
	assert_string_equal(t, "a/3");
	assert_int_equal(len, 40000);
	batch_clear(b);
	assert_int_equal(batch_count(b), 0);
	assert_int_equal(batch_add(b, "a/5", big, sizeof(big)), 0); /* alone */
	assert_true(batch_full(b));
	batch_get(b, 0, &t, &p, &len);
	assert_int_equal(len, sizeof(big));
	assert_int_equal(p[sizeof(big) - 1], 'z');
	batch_free(b);
	batch_free(NULL);
}

static void test_calibrations(void **state)
{
	struct inbox_msg m;
	char err[256];
	const char *rec =
	        "{\"seq\":5121,\"ts\":\"2026-11-20T09:12:44.318205Z\","
	        "\"ts_ms\":1795165964318,\"instrument\":\"TB-01\","
	        "\"type\":\"record\",\"record\":2,\"points\":[],"
	        "\"historical\":false}";
	const char *appr =
	        "{\"seq\":5122,\"ts\":\"2026-11-20T10:02:07.441930Z\","
	        "\"instrument\":\"TB-01\",\"type\":\"approval\","
	        "\"approval\":2,\"record\":2}";

	(void)state;
	assert_int_equal(read_msg(&m, "metrolog/lab-1/calibrations", rec, err),
	                 0);
	assert_int_equal(m.kind, INBOX_RECORD);
	assert_string_equal(m.site, "lab-1");
	assert_string_equal(m.instrument, "TB-01");
	assert_int_equal(m.seq, 5121);
	assert_string_equal(inbox_kind_name(m.kind), "record");
	assert_int_equal(read_msg(&m, "metrolog/lab-1/calibrations", appr, err),
	                 0);
	assert_int_equal(m.kind, INBOX_APPROVAL);
	assert_string_equal(inbox_kind_name(m.kind), "approval");
	/* refused: another type, no record id, no instrument, no points */
	assert_int_equal(read_msg(&m, "metrolog/lab-1/calibrations",
	                          "{\"seq\":1,\"ts\":\"2026-11-20T10:02:07Z\","
	                          "\"instrument\":\"TB-01\",\"type\":\"x\"}",
	                          err),
	                 -1);
	assert_int_equal(read_msg(&m, "metrolog/lab-1/calibrations",
	                          "{\"seq\":1,\"ts\":\"2026-11-20T10:02:07Z\","
	                          "\"instrument\":\"TB-01\",\"type\":"
	                          "\"record\",\"record\":0,\"points\":[]}",
	                          err),
	                 -1);
	assert_int_equal(read_msg(&m, "metrolog/lab-1/calibrations",
	                          "{\"seq\":1,\"ts\":\"2026-11-20T10:02:07Z\","
	                          "\"type\":\"record\",\"record\":1,"
	                          "\"points\":[]}",
	                          err),
	                 -1);
	assert_int_equal(read_msg(&m, "metrolog/lab-1/calibrations",
	                          "{\"seq\":1,\"ts\":\"2026-11-20T10:02:07Z\","
	                          "\"instrument\":\"TB-01\",\"type\":"
	                          "\"record\",\"record\":1}",
	                          err),
	                 -1);
	/* one level more is not the calibrations topic */
	assert_int_equal(
	        read_msg(&m, "metrolog/lab-1/x/calibrations", rec, err), -1);
}

/* Records 1..n of a chain, each hashed and linked to the one before. */
static void make_chain(struct calib_record *r, int n)
{
	for (int i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].id = i + 1;
		r[i].rule_version = CALIB_RULE_VERSION;
		snprintf(r[i].certificate, sizeof(r[i].certificate), "C-%d",
		         i + 1);
		snprintf(r[i].instrument, sizeof(r[i].instrument), "TB-01");
		r[i].performed_us = 1795165964318205LL + i;
		r[i].npoints = 1;
		r[i].points[0].reference = 20;
		r[i].points[0].as_found = 20.03;
		r[i].points[0].as_left = NAN;
		snprintf(r[i].prev_hash, sizeof(r[i].prev_hash), "%s",
		         i == 0 ? CALIB_GENESIS : r[i - 1].hash);
		assert_int_equal(calib_hash(&r[i], r[i].hash), 0);
	}
}

/* Feed records (skip: an id not fed, 0 none) and report. */
static int check(const struct calib_record *r, int n, int skip, char *out,
                 size_t size)
{
	struct chain_check c;
	FILE *f = fmemopen(out, size, "w");
	int st;

	chain_begin(&c);
	for (int i = 0; i < n; i++)
		if (r[i].id != skip)
			assert_int_equal(chain_record(&c, &r[i]), 0);
	st = chain_report(&c, "lab-1", f);
	fclose(f);
	return st;
}

static void test_chain(void **state)
{
	static struct calib_record r[4];
	struct chain_check c;
	struct calib_approval a = {.id = 1, .calibration_id = 2};
	char out[2048];
	FILE *f;

	(void)state;
	make_chain(r, 4);
	assert_int_equal(check(r, 4, 0, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "lab-1: records: 4 held, chain intact up "
	                            "to record 4"));
	assert_non_null(strstr(out, "lab-1: approvals: none held"));
	/* a gap: not tampering, the chain followed on */
	assert_int_equal(check(r, 4, 2, out, sizeof(out)), 3);
	assert_non_null(strstr(out, "gap: record 2 missing"));
	assert_null(strstr(out, "BROKEN"));
	/* record 3 altered */
	r[2].points[0].as_found = 20.031;
	assert_int_equal(check(r, 4, 0, out, sizeof(out)), 4);
	assert_non_null(strstr(out, "BROKEN at record 3: record 3 "
	                            "(certificate C-3) was altered"));
	/* and its hash recomputed: record 4 no longer links */
	assert_int_equal(calib_hash(&r[2], r[2].hash), 0);
	assert_int_equal(check(r, 4, 0, out, sizeof(out)), 4);
	assert_non_null(strstr(out, "BROKEN at record 4: record 4 "
	                            "(certificate C-4) does not link to "
	                            "record 3"));

	/* an approval: intact, then its record held with another hash */
	make_chain(r, 2);
	snprintf(a.record_hash, sizeof(a.record_hash), "%s", r[1].hash);
	snprintf(a.approver, sizeof(a.approver), "Lê Văn Cường");
	snprintf(a.prev_hash, sizeof(a.prev_hash), "%s", CALIB_GENESIS);
	assert_int_equal(calib_approval_hash(&a, a.hash), 0);
	chain_begin(&c);
	assert_int_equal(chain_approval(&c, &a, r[1].hash), 0);
	f = fmemopen(out, sizeof(out), "w");
	assert_int_equal(chain_report(&c, "lab-1", f), 0);
	fclose(f);
	assert_non_null(strstr(out, "lab-1: approvals: 1 held, chain intact "
	                            "up to approval 1"));
	chain_begin(&c);
	assert_int_equal(chain_approval(&c, &a, r[0].hash), 0);
	f = fmemopen(out, sizeof(out), "w");
	assert_int_equal(chain_report(&c, "lab-1", f), 4);
	fclose(f);
	assert_non_null(strstr(out, "BROKEN at approval 1: approval 1 "
	                            "approved record 2 as"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_readings),
	        cmocka_unit_test(test_events_and_statuses),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_calibrations),
	        cmocka_unit_test(test_chain),
	        cmocka_unit_test(test_config_keys),
	        cmocka_unit_test(test_config_errors),
	        cmocka_unit_test(test_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
