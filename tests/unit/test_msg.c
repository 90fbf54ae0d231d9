/*
 * Unit tests of the MQTT topics and payloads (gateway/core/msg.c,
 * docs/MQTT.md is the contract): every builder of msg.h. Each payload is
 * parsed back with cJSON and every documented field checked for its value
 * and JSON type; the examples of docs/MQTT.md are matched byte for byte;
 * names and units in UTF-8 ("°C", "Nguyễn") and with characters JSON
 * escapes come back identical; numbers that are not finite are null;
 * float32 channels print 7 significant digits; every buffer size from 0
 * up is tried behind a canary: too small gives -1 and nothing is written
 * past the size; every payload is valid UTF-8 (checked with a strict
 * check of the test's own, since cJSON does not check), bytes that are
 * not UTF-8 written as U+FFFD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../utf8_strict.h"
#include "calib.h"
#include "config.h"
#include "drift.h"
#include "msg.h"
#include "sample.h"

/* 2026-11-26T12:00:00.123456Z, the docs' readings example */
#define TS_US  1795694400123456LL
#define CANARY 0xA5
#define BIG    16384

/* ---- helpers ------------------------------------------------------------ */

/* buf (len bytes, NUL-terminated there) parsed as a JSON object. */
static cJSON *parsed(const char *buf, int len)
{
	const char *end = NULL;
	cJSON *o;

	assert_true(len > 0);
	assert_int_equal(strlen(buf), (size_t)len);
	o = cJSON_ParseWithOpts(buf, &end, 1);
	assert_non_null(o);
	assert_true(cJSON_IsObject(o));
	return o;
}

static cJSON *member(const cJSON *o, const char *key)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	if (m == NULL)
		fail_msg("no member \"%s\"", key);
	return m;
}

static const char *jstr(const cJSON *o, const char *key)
{
	cJSON *m = member(o, key);

	assert_true(cJSON_IsString(m));
	return m->valuestring;
}

static double jnum(const cJSON *o, const char *key)
{
	cJSON *m = member(o, key);

	assert_true(cJSON_IsNumber(m));
	return m->valuedouble;
}

static void jnull(const cJSON *o, const char *key)
{
	assert_true(cJSON_IsNull(member(o, key)));
}

static bool jbool(const cJSON *o, const char *key)
{
	cJSON *m = member(o, key);

	assert_true(cJSON_IsBool(m));
	return cJSON_IsTrue(m);
}

static void absent(const cJSON *o, const char *key)
{
	assert_null(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The head of every outbox payload. */
static void check_head(const cJSON *o, double seq, const char *instrument)
{
	assert_true(jnum(o, "seq") == seq);
	assert_string_equal(jstr(o, "ts"), "2026-11-26T12:00:00.123456Z");
	assert_true(jnum(o, "ts_ms") == 1795694400123.0);
	assert_string_equal(jstr(o, "instrument"), instrument);
}

/* A builder under test, into buf of size. */
typedef int (*build_fn)(char *buf, size_t size, const void *arg);

/* Build with fn into a large buffer (the payload, its length returned),
 * then into every size from 0 to the length + 16 behind a canary: a size
 * up to the length gives -1, one 16 bytes more the same payload (msg.c
 * gives cJSON 5 bytes less than the size, and cJSON asks for a byte or two
 * more than it writes: 1.7.15 needs the length + 7 in all), one between
 * either, and no byte past the size is ever written. */
static int sizes(build_fn fn, const void *arg, char *out)
{
	static char buf[BIG + 16];
	int len = fn(out, BIG, arg);

	assert_true(len > 0 && len < BIG - 16);
	for (size_t size = 0; size <= (size_t)len + 16; size++) {
		int n;
		memset(buf, CANARY, sizeof(buf));
		n = fn(buf, size, arg);
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal((unsigned char)buf[i], CANARY);
		if (size <= (size_t)len)
			assert_int_equal(n, -1);
		if (size >= (size_t)len + 16)
			assert_int_equal(n, len);
		if (n >= 0)
			assert_memory_equal(buf, out, (size_t)len + 1);
	}
	return len;
}

/* ---- readings ----------------------------------------------------------- */

struct readings_arg {
	int64_t seq;
	const char *instrument;
	const struct msg_channel *ch;
	size_t n;
};

static int build_readings(char *buf, size_t size, const void *arg)
{
	const struct readings_arg *a = arg;

	return msg_readings(buf, size, a->seq, TS_US, a->instrument, a->ch,
	                    a->n);
}

/* The docs' example, byte for byte (without "historical", added when
 * sent). */
static void readings_example(void **state)
{
	static const struct msg_channel ch[] = {
	        {"c0", "degC", 20.5, QUALITY_GOOD, 0},
	        {"c1", "degC", 99.0, QUALITY_TIMEOUT, 0},
	};
	const struct readings_arg a = {1042, "TB-01", ch, 2};
	char out[BIG];

	(void)state;
	sizes(build_readings, &a, out);
	assert_string_equal(
	        out, "{\"seq\":1042,\"ts\":\"2026-11-26T12:00:00.123456Z\","
	             "\"ts_ms\":1795694400123,\"instrument\":\"TB-01\","
	             "\"channels\":{\"c0\":{\"value\":20.5,\"unit\":\"degC\","
	             "\"quality\":\"good\"},\"c1\":{\"value\":null,\"unit\":"
	             "\"degC\",\"quality\":\"timeout\"}}}");
}

static void readings_fields(void **state)
{
	static const struct msg_channel ch[] = {
	        {"temperature", "°C", -12.25, QUALITY_GOOD, 0},
	        {"Nguyễn \"x\"\\\n", "µS/cm", 1.0, QUALITY_CRC, 0},
	        {"f32", "", (double)123456.78f, QUALITY_GOOD, 7},
	        {"f32small", "V", (double)0.1f, QUALITY_GOOD, 7},
	        {"f64", "V", 1234.56789012345, QUALITY_GOOD, 0},
	        {"f64long", "V", (double)0.1f, QUALITY_GOOD, 0},
	        {"nan", "V", NAN, QUALITY_GOOD, 7},
	        {"inf", "V", -INFINITY, QUALITY_GOOD, 0},
	        {"exc", "V", 5.0, QUALITY_EXCEPTION, 0},
	};
	const struct readings_arg a = {123456789012345LL, "TB_01.ü", ch, 9};
	char out[BIG];
	cJSON *o, *chans, *c;

	(void)state;
	o = parsed(out, sizes(build_readings, &a, out));
	check_head(o, 123456789012345.0, "TB_01.ü");
	chans = member(o, "channels");
	assert_true(cJSON_IsObject(chans));
	assert_int_equal(cJSON_GetArraySize(chans), 9);
	c = member(chans, "temperature");
	assert_true(jnum(c, "value") == -12.25);
	assert_string_equal(jstr(c, "unit"), "°C");
	assert_string_equal(jstr(c, "quality"), "good");
	c = member(chans, "Nguyễn \"x\"\\\n");
	jnull(c, "value"); /* not good: null, whatever the value */
	assert_string_equal(jstr(c, "unit"), "µS/cm");
	assert_string_equal(jstr(c, "quality"), "crc");
	/* float32: 7 significant digits, as text too */
	assert_non_null(strstr(out, "\"f32\":{\"value\":123456.8,"));
	assert_non_null(strstr(out, "\"f32small\":{\"value\":0.1,"));
	assert_string_equal(jstr(member(chans, "f32"), "unit"), "");
	/* a double of 15 digits: exactly; of 17: within a part in 2^52
	 * (docs/MQTT.md) */
	assert_true(jnum(member(chans, "f64"), "value") == 1234.56789012345);
	assert_true(fabs(jnum(member(chans, "f64long"), "value") -
	                 (double)0.1f) <= (double)0.1f * DBL_EPSILON);
	assert_true(jnum(member(chans, "f64long"), "value") != 0.1);
	/* not finite, even when good: null */
	jnull(member(chans, "nan"), "value");
	assert_string_equal(jstr(member(chans, "nan"), "quality"), "good");
	jnull(member(chans, "inf"), "value");
	assert_string_equal(jstr(member(chans, "exc"), "quality"), "exception");
	cJSON_Delete(o);
}

static void readings_qualities(void **state)
{
	static const char *names[] = {"good",    "timeout", "exception",
	                              "crc",     "connect", "reply",
	                              "invalid", "other"};
	struct msg_channel ch[8];
	char names_buf[8][8], out[BIG];
	const struct readings_arg a = {1, "TB-01", ch, 8};
	cJSON *o;

	(void)state;
	for (int q = 0; q < 8; q++) {
		snprintf(names_buf[q], sizeof(names_buf[q]), "c%d", q);
		ch[q] = (struct msg_channel){names_buf[q], "", 1.5, q, 0};
	}
	o = parsed(out, build_readings(out, sizeof(out), &a));
	for (int q = 0; q < 8; q++) {
		cJSON *c = member(member(o, "channels"), names_buf[q]);
		assert_string_equal(jstr(c, "quality"), names[q]);
		if (q == QUALITY_GOOD)
			assert_true(jnum(c, "value") == 1.5);
		else
			jnull(c, "value");
	}
	cJSON_Delete(o);
}

/* ---- events ------------------------------------------------------------- */

struct event_arg {
	const char *instrument, *kind, *reason;
};

static int build_event(char *buf, size_t size, const void *arg)
{
	const struct event_arg *a = arg;

	return msg_event(buf, size, 1043, TS_US, a->instrument, a->kind,
	                 a->reason);
}

static void event(void **state)
{
	const struct event_arg off = {"TB-02", "offline", "timeout"};
	const struct event_arg on = {"Nguyễn-°C", "online", NULL};
	char out[BIG];
	cJSON *o;

	(void)state;
	sizes(build_event, &off, out);
	assert_string_equal(
	        out, "{\"seq\":1043,\"ts\":\"2026-11-26T12:00:00.123456Z\","
	             "\"ts_ms\":1795694400123,\"instrument\":\"TB-02\","
	             "\"event\":\"offline\",\"reason\":\"timeout\"}");
	o = parsed(out, sizes(build_event, &on, out));
	check_head(o, 1043, "Nguyễn-°C");
	assert_string_equal(jstr(o, "event"), "online");
	jnull(o, "reason");
	cJSON_Delete(o);
}

/* ---- tolerance ---------------------------------------------------------- */

static int build_tolerance(char *buf, size_t size, const void *arg)
{
	return msg_tolerance(buf, size, 2051, TS_US, "TB-01", arg);
}

static void tolerance_example(void **state)
{
	const struct msg_tol t = {
	        "tolerance",
	        "c0",
	        "degC",
	        "warning",
	        "out_of_tolerance",
	        "warning -> out_of_tolerance: error 0.0613 degC, limits "
	        "[-0.05, 0.05], rule simple",
	        0.0613,
	        -0.05,
	        0.05};
	char out[BIG];

	(void)state;
	sizes(build_tolerance, &t, out);
	assert_string_equal(
	        out,
	        "{\"seq\":2051,\"ts\":\"2026-11-26T12:00:00.123456Z\","
	        "\"ts_ms\":1795694400123,\"instrument\":\"TB-01\",\"event\":"
	        "\"tolerance\",\"channel\":\"c0\",\"from\":\"warning\",\"to\":"
	        "\"out_of_tolerance\",\"error\":0.0613,\"unit\":\"degC\","
	        "\"lower\":-0.05,\"upper\":0.05,\"detail\":\"warning -> "
	        "out_of_tolerance: error 0.0613 degC, limits [-0.05, 0.05], "
	        "rule simple\"}");
}

/* A drift signal: from and to null; error NAN or infinite: null; the
 * limits (finite from the configuration) null too if they were not. */
static void tolerance_nulls(void **state)
{
	struct msg_tol t = {"drift", "Nguyễn", "°C",
	                    NULL,    NULL,     "EWMA \"signal\"\n",
	                    NAN,     -0.5,     1e300};
	char out[BIG];
	cJSON *o;

	(void)state;
	o = parsed(out, sizes(build_tolerance, &t, out));
	check_head(o, 2051, "TB-01");
	assert_string_equal(jstr(o, "event"), "drift");
	assert_string_equal(jstr(o, "channel"), "Nguyễn");
	jnull(o, "from");
	jnull(o, "to");
	jnull(o, "error");
	assert_string_equal(jstr(o, "unit"), "°C");
	assert_true(jnum(o, "lower") == -0.5);
	assert_true(jnum(o, "upper") == 1e300);
	assert_string_equal(jstr(o, "detail"), "EWMA \"signal\"\n");
	cJSON_Delete(o);
	t.error = INFINITY;
	t.lower = NAN;
	t.upper = -INFINITY;
	o = parsed(out, build_tolerance(out, sizeof(out), &t));
	jnull(o, "error");
	jnull(o, "lower");
	jnull(o, "upper");
	cJSON_Delete(o);
}

/* ---- statuses ----------------------------------------------------------- */

struct status_arg {
	const char *state, *reason;
	const struct msg_chstate *ch;
	size_t n;
	const struct msg_calstate *cal;
};

static int build_status(char *buf, size_t size, const void *arg)
{
	const struct status_arg *a = arg;

	return msg_status(buf, size, 2052, TS_US, "TB-01", a->state, a->reason,
	                  a->ch, a->n, a->cal);
}

static void status_example(void **state)
{
	static const struct msg_chstate ch[] = {
	        {"c0", "out_of_tolerance"},
	        {"c1", "in_tolerance"},
	};
	/* 2027-03-01T00:00:00Z */
	const struct msg_calstate cal = {"ok", 1803859200000000LL, "C-2026-003",
	                                 false};
	const struct status_arg a = {"online", NULL, ch, 2, &cal};
	char out[BIG];

	(void)state;
	sizes(build_status, &a, out);
	assert_string_equal(
	        out,
	        "{\"seq\":2052,\"ts\":\"2026-11-26T12:00:00.123456Z\","
	        "\"ts_ms\":1795694400123,\"instrument\":\"TB-01\",\"state\":"
	        "\"online\",\"reason\":null,\"tolerance\":{\"c0\":"
	        "\"out_of_tolerance\",\"c1\":\"in_tolerance\"},"
	        "\"calibration\":{\"state\":\"ok\",\"due\":"
	        "\"2027-03-01T00:00:00.000000Z\",\"due_ms\":1803859200000,"
	        "\"certificate\":\"C-2026-003\",\"reference_overdue\":false}}");
}

/* No channel with a tolerance, no calibration read yet, state unknown;
 * then a standard never calibrated, overdue as a reference. */
static void status_optional(void **state)
{
	const struct status_arg bare = {NULL, NULL, NULL, 0, NULL};
	const struct msg_calstate cal = {"none", 0, "", true};
	const struct msg_chstate ch = {"Nguyễn °C", "no_data"};
	const struct status_arg std = {"offline", "timeout", &ch, 1, &cal};
	char out[BIG];
	cJSON *o, *c;

	(void)state;
	o = parsed(out, sizes(build_status, &bare, out));
	check_head(o, 2052, "TB-01");
	jnull(o, "state");
	jnull(o, "reason");
	absent(o, "tolerance");
	absent(o, "calibration");
	cJSON_Delete(o);
	o = parsed(out, sizes(build_status, &std, out));
	assert_string_equal(jstr(o, "state"), "offline");
	assert_string_equal(jstr(o, "reason"), "timeout");
	assert_string_equal(jstr(member(o, "tolerance"), "Nguyễn °C"),
	                    "no_data");
	c = member(o, "calibration");
	assert_string_equal(jstr(c, "state"), "none");
	jnull(c, "due");
	jnull(c, "due_ms");
	jnull(c, "certificate");
	assert_true(jbool(c, "reference_overdue"));
	cJSON_Delete(o);
}

/* ---- calibration events ------------------------------------------------- */

static int build_calibration(char *buf, size_t size, const void *arg)
{
	const struct msg_calstate *cal = arg;

	return msg_calibration(
	        buf, size, 23, TS_US, "STD-1", "ok", "overdue", cal,
	        "ok -> overdue: due 2025-07-09T00:00:00.000000Z, "
	        "certificate S-2026-001, in use as a reference");
}

static void calibration(void **state)
{
	/* 2025-07-09T00:00:00Z */
	const struct msg_calstate cal = {"overdue", 1752019200000000LL,
	                                 "S-2026-001", true};
	char out[BIG];
	cJSON *o, *c;

	(void)state;
	sizes(build_calibration, &cal, out);
	assert_string_equal(
	        out,
	        "{\"seq\":23,\"ts\":\"2026-11-26T12:00:00.123456Z\",\"ts_ms\":"
	        "1795694400123,\"instrument\":\"STD-1\",\"event\":"
	        "\"calibration\",\"from\":\"ok\",\"to\":\"overdue\","
	        "\"calibration\":{\"state\":\"overdue\",\"due\":"
	        "\"2025-07-09T00:00:00.000000Z\",\"due_ms\":1752019200000,"
	        "\"certificate\":\"S-2026-001\",\"reference_overdue\":true},"
	        "\"detail\":\"ok -> overdue: due 2025-07-09T00:00:00.000000Z, "
	        "certificate S-2026-001, in use as a reference\"}");
	o = parsed(out, (int)strlen(out));
	check_head(o, 23, "STD-1");
	assert_string_equal(jstr(o, "event"), "calibration");
	assert_string_equal(jstr(o, "from"), "ok");
	assert_string_equal(jstr(o, "to"), "overdue");
	c = member(o, "calibration");
	assert_string_equal(jstr(c, "due"), "2025-07-09T00:00:00.000000Z");
	assert_true(jnum(c, "due_ms") == 1752019200000.0);
	assert_string_equal(jstr(c, "certificate"), "S-2026-001");
	assert_true(jbool(c, "reference_overdue"));
	cJSON_Delete(o);
}

/* ---- the gateway's status ----------------------------------------------- */

static int build_gateway(char *buf, size_t size, const void *arg)
{
	return msg_gateway_status(buf, size, arg);
}

static void gateway_status(void **state)
{
	const int64_t now = 1795694405000000LL; /* 12:00:05Z */
	const int64_t conn = now - 4999999;     /* 12:00:00.000001Z */
	const struct msg_gwstatus ex = {
	        "online",          NULL, 5230, now - 312400000, now,
	        "metrologd-lab-1", conn, 1187};
	const struct msg_gwstatus stop = {"offline", "stopped",   0,    0,
	                                  now,       "gw-Nguyễn", conn, 0};
	const struct msg_gwstatus ms = {"online", NULL, 1,    now - 1234567,
	                                now,      "x",  conn, 7};
	char out[BIG];
	cJSON *o;
	int n;

	(void)state;
	sizes(build_gateway, &ex, out);
	assert_string_equal(out, "{\"state\":\"online\",\"reason\":null,"
	                         "\"ts\":\"2026-11-26T12:00:05.000000Z\","
	                         "\"ts_ms\":1795694405000,\"outbox\":5230,"
	                         "\"oldest_age_s\":312.4,\"client_id\":"
	                         "\"metrologd-lab-1\",\"connected\":"
	                         "\"2026-11-26T12:00:00.000001Z\","
	                         "\"last_seq\":1187}");
	o = parsed(out, sizes(build_gateway, &stop, out));
	assert_string_equal(jstr(o, "state"), "offline");
	assert_string_equal(jstr(o, "reason"), "stopped");
	assert_string_equal(jstr(o, "ts"), "2026-11-26T12:00:05.000000Z");
	assert_true(jnum(o, "ts_ms") == 1795694405000.0);
	assert_true(jnum(o, "outbox") == 0);
	assert_true(jnum(o, "oldest_age_s") == 0);
	assert_string_equal(jstr(o, "client_id"), "gw-Nguyễn");
	assert_string_equal(jstr(o, "connected"),
	                    "2026-11-26T12:00:00.000001Z");
	assert_true(jnum(o, "last_seq") == 0);
	absent(o, "seq");
	cJSON_Delete(o);
	/* the Last Will names the same connection */
	n = msg_gateway_will(out, sizeof(out), conn);
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out, "{\"state\":\"offline\",\"reason\":\"lost\","
	                         "\"connected\":"
	                         "\"2026-11-26T12:00:00.000001Z\"}");
	assert_int_equal(msg_gateway_will(out, 20, conn), -1);
	/* the age in whole ms: 1.234567 s is 1.234 */
	o = parsed(out, build_gateway(out, sizeof(out), &ms));
	assert_true(jnum(o, "oldest_age_s") == 1.234);
	cJSON_Delete(o);
}

/* ---- Home Assistant discovery ------------------------------------------- */

static struct cfg_channel c0 = {.name = "c0", .unit = "degC"};
static struct cfg_instrument tb01 = {.id = "TB-01",
                                     .model = "PT-100 bath",
                                     .serial = "SN-7",
                                     .location = "Lab 2"};
static const struct msg_ha ha = {"homeassistant", "metrolog", "lab-1",
                                 "metrolog/lab-1/gateway/status"};

struct ha_arg {
	const struct cfg_instrument *in;
	const struct cfg_channel *ch;
	bool tolerance;
	char topic[MSG_TOPIC_MAX];
};

static int build_ha(char *buf, size_t size, const void *arg)
{
	struct ha_arg *a = (struct ha_arg *)arg;

	return msg_ha_config(&ha, a->in, a->ch, a->tolerance, a->topic,
	                     sizeof(a->topic), buf, size);
}

/* The availability entries and the device of the docs' examples. */
#define AVAIL(t)                                                               \
	"{\"topic\":\"" t "\",\"value_template\":\"{{ 'online' if "            \
	"value_json.state == 'online' else 'offline' }}\"}"
#define AVAIL_GW AVAIL("metrolog/lab-1/gateway/status")
#define AVAIL_TB AVAIL("metrolog/lab-1/TB-01/status")
#define DEVICE                                                                 \
	"\"availability_mode\":\"all\",\"device\":{\"identifiers\":["          \
	"\"metrolog/lab-1/TB-01\"],\"name\":\"TB-01\",\"manufacturer\":"       \
	"\"metrolog\",\"model\":\"PT-100 bath\",\"serial_number\":\"SN-7\","   \
	"\"suggested_area\":\"Lab 2\"}}"

/* The docs' two examples, byte for byte. */
static void ha_examples(void **state)
{
	struct ha_arg a = {&tb01, &c0, false, ""};
	char out[BIG];

	(void)state;
	sizes(build_ha, &a, out);
	assert_string_equal(
	        a.topic,
	        "homeassistant/sensor/metrolog-lab-1/TB-01__c0/config");
	assert_string_equal(
	        out,
	        "{\"name\":\"c0\",\"unique_id\":\"metrolog/lab-1/TB-01/c0\","
	        "\"state_topic\":\"metrolog/lab-1/TB-01/readings\","
	        "\"value_template\":\"{{ value_json.channels['c0'].value if "
	        "value_json.channels['c0'] is defined else this.state }}\","
	        "\"unit_of_measurement\":\"degC\",\"state_class\":"
	        "\"measurement\",\"availability\":[" AVAIL_GW "," AVAIL_TB
	        "]," DEVICE);
	a.tolerance = true;
	sizes(build_ha, &a, out);
	assert_string_equal(a.topic, "homeassistant/sensor/metrolog-lab-1/"
	                             "TB-01__c0__tolerance/config");
	assert_string_equal(
	        out, "{\"name\":\"c0 tolerance\",\"unique_id\":"
	             "\"metrolog/lab-1/TB-01/c0/tolerance\",\"state_topic\":"
	             "\"metrolog/lab-1/TB-01/status\",\"value_template\":\"{{ "
	             "value_json.tolerance['c0'] if value_json.tolerance is "
	             "defined and value_json.tolerance['c0'] is defined else "
	             "this.state }}\",\"device_class\":\"enum\",\"options\":["
	             "\"no_data\",\"in_tolerance\",\"warning\",\"out_of_"
	             "tolerance\"],"
	             "\"availability\":[" AVAIL_GW "]," DEVICE);
}

/* Names outside A-Z a-z 0-9 - are hex in the ids, as they are in the
 * payload; no unit: no unit_of_measurement; no model, serial, location:
 * not in the device. */
static void ha_names(void **state)
{
	struct cfg_channel ch = {.name = "Nguyễn_1", .unit = ""};
	struct cfg_instrument in = {
	        .id = "TB_01", .model = "", .serial = "", .location = ""};
	struct ha_arg a = {&in, &ch, false, ""};
	char out[BIG];
	cJSON *o, *dev;

	(void)state;
	o = parsed(out, sizes(build_ha, &a, out));
	assert_string_equal(a.topic, "homeassistant/sensor/metrolog-lab-1/"
	                             "TB_5F01__Nguy_E1_BB_85n_5F1/config");
	assert_string_equal(jstr(o, "name"), "Nguyễn_1");
	assert_string_equal(jstr(o, "unique_id"),
	                    "metrolog/lab-1/TB_01/Nguyễn_1");
	absent(o, "unit_of_measurement");
	dev = member(o, "device");
	assert_string_equal(jstr(dev, "name"), "TB_01");
	absent(dev, "model");
	absent(dev, "serial_number");
	absent(dev, "suggested_area");
	cJSON_Delete(o);
	ch.unit = "°C";
	o = parsed(out, build_ha(out, sizeof(out), &a));
	assert_string_equal(jstr(o, "unit_of_measurement"), "°C");
	cJSON_Delete(o);
}

/* A config topic that does not fit its buffer: -1, nothing past it; a
 * name too long to be written whole: -1, never cut (fuzz_msg found the
 * ids and unique_id cut, so two channels could share a config). */
static void ha_too_long(void **state)
{
	char topic[40], out[BIG], big[MSG_TOPIC_MAX], name[300];
	struct cfg_channel ch = {.name = name, .unit = ""};
	struct cfg_instrument in = {
	        .id = "TB-01", .model = "", .serial = "", .location = ""};

	(void)state;
	memset(name, '.', 66); /* 66 bytes as _2E: 198 + NUL fit in 200 */
	name[66] = '\0';
	assert_true(msg_ha_config(&ha, &in, &ch, false, big, sizeof(big), out,
	                          sizeof(out)) > 0);
	name[66] = '.';
	name[67] = '\0';
	assert_int_equal(msg_ha_config(&ha, &in, &ch, false, big, sizeof(big),
	                               out, sizeof(out)),
	                 -1);
	memset(name, 'a', 199); /* as they are: 199 fit, 200 not */
	name[199] = '\0';
	assert_true(msg_ha_config(&ha, &in, &ch, true, big, sizeof(big), out,
	                          sizeof(out)) > 0);
	name[199] = 'a';
	name[200] = '\0';
	assert_int_equal(msg_ha_config(&ha, &in, &ch, true, big, sizeof(big),
	                               out, sizeof(out)),
	                 -1);
	memset(topic, CANARY, sizeof(topic));
	assert_int_equal(msg_ha_config(&ha, &tb01, &c0, false, topic, 20, out,
	                               sizeof(out)),
	                 -1);
	for (size_t i = 20; i < sizeof(topic); i++)
		assert_int_equal((unsigned char)topic[i], CANARY);
}

/* ---- topics ------------------------------------------------------------- */

static void topic(void **state)
{
	char buf[64];
	size_t need = strlen("metrolog/lab-1/TB-01/readings") + 1;

	(void)state;
	assert_int_equal(msg_topic(buf, sizeof(buf), "metrolog", "lab-1",
	                           "TB-01", "readings"),
	                 0);
	assert_string_equal(buf, "metrolog/lab-1/TB-01/readings");
	assert_int_equal(
	        msg_topic(buf, sizeof(buf), "a/b", "lab-1", "gateway", NULL),
	        0);
	assert_string_equal(buf, "a/b/lab-1/gateway");
	for (size_t size = 0; size <= need; size++) {
		memset(buf, CANARY, sizeof(buf));
		assert_int_equal(msg_topic(buf, size, "metrolog", "lab-1",
		                           "TB-01", "readings"),
		                 size == need ? 0 : -1);
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal((unsigned char)buf[i], CANARY);
	}
	assert_int_equal(msg_topic(buf, 6, "a", "b", "c", NULL), 0);
	assert_int_equal(msg_topic(buf, 5, "a", "b", "c", NULL), -1);
}

/* ---- records on request ------------------------------------------------- */

static struct calib_record rec;

static void fill_record(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.id = 12;
	snprintf(rec.certificate, sizeof(rec.certificate), "C-2026-0113");
	rec.performed_us = 1795597200000000LL; /* 2026-11-25T09:00:00Z */
	rec.issued_us = 1795601551402113LL;    /* 2026-11-25T10:12:31.402113Z */
	rec.due_us = 0;
	snprintf(rec.standard, sizeof(rec.standard), "STD-Nguyễn");
	rec.standard_overdue = true;
	rec.rule = CALIB_RULE_GUARDED;
	rec.result_found = DRIFT_FAIL;
	rec.result_left = -1;
	rec.supersedes = 0;
	snprintf(rec.hash, sizeof(rec.hash), "%064d", 0);
	rec.npoints = 2;
	rec.points[0] = (struct calib_point){"temperature",
	                                     "°C",
	                                     20,
	                                     20.47,
	                                     NAN,
	                                     -0.5,
	                                     0.5,
	                                     0.0625,
	                                     2,
	                                     DRIFT_CONDITIONAL_PASS,
	                                     -1};
	rec.points[1] = (struct calib_point){
	        "Nguyễn \"q\"", "", 1e-300, INFINITY, 0.1, -1, 1, 0, 1, -1,
	        DRIFT_PASS};
}

static void check_record(const cJSON *c)
{
	const cJSON *pts = member(c, "points"), *p;

	assert_true(jnum(c, "record") == 12);
	assert_string_equal(jstr(c, "certificate"), "C-2026-0113");
	assert_string_equal(jstr(c, "performed"),
	                    "2026-11-25T09:00:00.000000Z");
	assert_string_equal(jstr(c, "issued"), "2026-11-25T10:12:31.402113Z");
	jnull(c, "due");
	assert_string_equal(jstr(c, "standard"), "STD-Nguyễn");
	jnull(c, "standard_certificate");
	assert_true(jbool(c, "standard_overdue"));
	assert_string_equal(jstr(c, "rule"), "guarded");
	assert_true(jnum(c, "rule_version") == 1); /* 0 reads as 1 */
	assert_string_equal(jstr(c, "result_as_found"), "fail");
	jnull(c, "result_as_left");
	jnull(c, "supersedes");
	assert_true(jnum(c, "superseded_by") == 13);
	assert_string_equal(jstr(c, "hash"), rec.hash);
	assert_true(cJSON_IsArray(pts));
	assert_int_equal(cJSON_GetArraySize(pts), 2);
	p = cJSON_GetArrayItem(pts, 0);
	assert_string_equal(jstr(p, "quantity"), "temperature");
	assert_string_equal(jstr(p, "unit"), "°C");
	assert_true(jnum(p, "reference") == 20);
	assert_true(jnum(p, "as_found") == 20.47);
	jnull(p, "as_left");
	assert_true(jnum(p, "lower") == -0.5 && jnum(p, "upper") == 0.5);
	assert_true(jnum(p, "U") == 0.0625 && jnum(p, "k") == 2);
	assert_string_equal(jstr(p, "as_found_decision"), "conditional pass");
	jnull(p, "as_left_decision");
	p = cJSON_GetArrayItem(pts, 1);
	assert_string_equal(jstr(p, "quantity"), "Nguyễn \"q\"");
	assert_string_equal(jstr(p, "unit"), "");
	assert_true(jnum(p, "reference") == 1e-300); /* exact */
	jnull(p, "as_found");
	assert_true(jnum(p, "as_left") == 0.1);
	jnull(p, "as_found_decision");
	assert_string_equal(jstr(p, "as_left_decision"), "pass");
}

/* A record published in full: every hashed field, exactly; "" stays "",
 * 0 times and NAN numbers are null, a double that 15 digits do not give
 * back is written with 17. */
static void cal_record_full(void **state)
{
	struct calib_approval a = {.id = 4,
	                           .calibration_id = 12,
	                           .approved_us = 1795601551402114LL,
	                           .approver = "Lê Văn Cường",
	                           .role = ""};
	size_t len;
	char *text;
	cJSON *c;

	(void)state;
	fill_record();
	snprintf(rec.instrument, sizeof(rec.instrument), "TB-01");
	snprintf(rec.prev_hash, sizeof(rec.prev_hash), "%s", CALIB_GENESIS);
	snprintf(rec.remarks, sizeof(rec.remarks), "a \\ b \"c\"");
	rec.rule_version = 3;
	rec.guard_factor = 0.1 + 0.2;
	rec.min_tur = 4;
	rec.max_risk = 0.025;
	rec.interval_days = 365;
	rec.standard_due_us = 1795597200000001LL;
	text = msg_cal_record(77, rec.issued_us, &rec, &len);
	assert_non_null(text);
	c = parsed(text, (int)len);
	assert_true(jnum(c, "seq") == 77);
	assert_string_equal(jstr(c, "ts"), "2026-11-25T10:12:31.402113Z");
	assert_string_equal(jstr(c, "instrument"), "TB-01");
	assert_string_equal(jstr(c, "type"), "record");
	assert_true(jnum(c, "record") == 12);
	assert_true(jnum(c, "rule_version") == 3);
	assert_string_equal(jstr(c, "prev_hash"), CALIB_GENESIS);
	assert_string_equal(jstr(c, "hash"), rec.hash);
	assert_string_equal(jstr(c, "standard_certificate"), ""); /* not null */
	assert_string_equal(jstr(c, "lab"), "");
	assert_string_equal(jstr(c, "remarks"), "a \\ b \"c\"");
	assert_string_equal(jstr(c, "standard_due"),
	                    "2026-11-25T09:00:00.000001Z");
	jnull(c, "due");
	jnull(c, "received");
	jnull(c, "supersedes");
	assert_true(jnum(c, "interval_days") == 365);
	assert_true(jnum(c, "guard_factor") == 0.1 + 0.2); /* 17 digits */
	assert_non_null(strstr(text, "\"guard_factor\":0.30000000000000004"));
	assert_true(jnum(c, "min_tur") == 4 && jnum(c, "max_risk") == 0.025);
	assert_string_equal(jstr(c, "result_as_found"), "fail");
	jnull(c, "result_as_left");
	assert_true(jbool(c, "standard_overdue"));
	assert_true(jnum(cJSON_GetArrayItem(member(c, "points"), 1),
	                 "reference") == 1e-300);
	jnull(cJSON_GetArrayItem(member(c, "points"), 0), "as_left");
	cJSON_Delete(c);
	msg_text_free(text);

	snprintf(a.record_hash, sizeof(a.record_hash), "%s", rec.hash);
	snprintf(a.prev_hash, sizeof(a.prev_hash), "%s", CALIB_GENESIS);
	snprintf(a.hash, sizeof(a.hash), "%064d", 7);
	text = msg_cal_approval(78, a.approved_us, "TB-01", "C-2026-0113", &a,
	                        &len);
	assert_non_null(text);
	c = parsed(text, (int)len);
	assert_string_equal(jstr(c, "type"), "approval");
	assert_true(jnum(c, "approval") == 4 && jnum(c, "record") == 12);
	assert_string_equal(jstr(c, "certificate"), "C-2026-0113");
	assert_string_equal(jstr(c, "approved"), "2026-11-25T10:12:31.402114Z");
	assert_string_equal(jstr(c, "approver"), "Lê Văn Cường");
	assert_string_equal(jstr(c, "role"), "");
	assert_string_equal(jstr(c, "record_hash"), rec.hash);
	assert_string_equal(jstr(c, "prev_hash"), CALIB_GENESIS);
	assert_string_equal(jstr(c, "hash"), a.hash);
	cJSON_Delete(c);
	msg_text_free(text);
}

/* A reply with two instruments, the first with a record. */
static struct msg_reply *two_instruments(const char *correlation)
{
	const struct msg_reply_head h = {"ACME", 1795694400120512LL,
	                                 correlation, "9c1e", false};
	const struct msg_instrument tb = {
	        "TB-01", "instrument",       "Fluke 1524", "SN-77231",
	        "",      1811235600000000LL, CALIB_DUE_OK};
	const struct msg_instrument std = {
	        "STD-1", "standard", "", "", "Phòng 2", 0, CALIB_DUE_NONE};
	struct msg_reply *r = msg_reply_new(&h);

	assert_non_null(r);
	fill_record();
	assert_int_equal(msg_reply_record(r, &rec, 0), -1); /* no instrument */
	assert_int_equal(msg_reply_instrument(r, &tb), 0);
	assert_int_equal(msg_reply_record(r, &rec, 13), 0);
	assert_int_equal(msg_reply_instrument(r, &std), 0);
	return r;
}

static void reply(void **state)
{
	struct msg_reply *r = two_instruments("42 \"°\"");
	size_t len;
	char *text = msg_reply_text(r, &len);
	cJSON *o, *list, *in;

	(void)state;
	assert_non_null(text);
	o = parsed(text, (int)len);
	assert_string_equal(jstr(o, "status"), "ok");
	assert_string_equal(jstr(o, "enterprise"), "ACME");
	assert_string_equal(jstr(o, "generated"),
	                    "2026-11-26T12:00:00.120512Z");
	assert_string_equal(jstr(o, "correlation"), "42 \"°\"");
	assert_string_equal(jstr(o, "chain_head"), "9c1e");
	assert_false(jbool(o, "chain_intact"));
	list = member(o, "instruments");
	assert_int_equal(cJSON_GetArraySize(list), 2);
	in = cJSON_GetArrayItem(list, 0);
	assert_string_equal(jstr(in, "instrument"), "TB-01");
	assert_string_equal(jstr(in, "kind"), "instrument");
	assert_string_equal(jstr(in, "model"), "Fluke 1524");
	assert_string_equal(jstr(in, "serial"), "SN-77231");
	jnull(in, "location");
	assert_string_equal(jstr(in, "due"), "2027-05-25T09:00:00.000000Z");
	assert_string_equal(jstr(in, "due_state"), "ok");
	assert_int_equal(cJSON_GetArraySize(member(in, "calibrations")), 1);
	check_record(cJSON_GetArrayItem(member(in, "calibrations"), 0));
	in = cJSON_GetArrayItem(list, 1);
	assert_string_equal(jstr(in, "kind"), "standard");
	jnull(in, "model");
	jnull(in, "serial");
	assert_string_equal(jstr(in, "location"), "Phòng 2");
	jnull(in, "due");
	assert_string_equal(jstr(in, "due_state"), "none");
	assert_int_equal(cJSON_GetArraySize(member(in, "calibrations")), 0);
	cJSON_Delete(o);
	msg_text_free(text);
	msg_reply_free(r);
	msg_reply_free(NULL);
	msg_text_free(NULL);
}

/* A record of rule version 2 with a point without a statement: the
 * word "no statement", and its version. */
static void reply_no_statement(void **state)
{
	const struct msg_reply_head h = {"E", 1795694400000000LL, NULL, "ab",
	                                 true};
	const struct msg_instrument tb = {"TB-01", "instrument",  "", "", "",
	                                  0,       CALIB_DUE_NONE};
	struct msg_reply *r = msg_reply_new(&h);
	size_t len;
	char *text;
	cJSON *o, *c, *p;

	(void)state;
	assert_non_null(r);
	fill_record();
	rec.rule_version = 2;
	rec.result_found = DRIFT_NO_STATEMENT;
	rec.result_left = DRIFT_NO_STATEMENT;
	rec.points[0].found = DRIFT_NO_STATEMENT;
	rec.points[0].left = DRIFT_NO_STATEMENT; /* not adjusted: as found */
	assert_int_equal(msg_reply_instrument(r, &tb), 0);
	assert_int_equal(msg_reply_record(r, &rec, 0), 0);
	text = msg_reply_text(r, &len);
	assert_non_null(text);
	o = parsed(text, (int)len);
	c = cJSON_GetArrayItem(
	        member(cJSON_GetArrayItem(member(o, "instruments"), 0),
	               "calibrations"),
	        0);
	assert_true(jnum(c, "rule_version") == 2);
	assert_string_equal(jstr(c, "result_as_found"), "no statement");
	assert_string_equal(jstr(c, "result_as_left"), "no statement");
	p = cJSON_GetArrayItem(member(c, "points"), 0);
	jnull(p, "as_left");
	assert_string_equal(jstr(p, "as_left_decision"), "no statement");
	cJSON_Delete(o);
	msg_text_free(text);
	msg_reply_free(r);
}

/* No correlation: null; the text of an empty reply. */
static void reply_head(void **state)
{
	const struct msg_reply_head h = {"E", 1795694400000000LL, NULL, "ab",
	                                 true};
	struct msg_reply *r = msg_reply_new(&h);
	size_t len;
	char *text;

	(void)state;
	assert_non_null(r);
	text = msg_reply_text(r, &len);
	assert_string_equal(
	        text, "{\"status\":\"ok\",\"enterprise\":\"E\",\"generated\":"
	              "\"2026-11-26T12:00:00.000000Z\",\"correlation\":null,"
	              "\"chain_head\":\"ab\",\"chain_intact\":true,"
	              "\"instruments\":[]}");
	assert_int_equal(len, strlen(text));
	msg_text_free(text);
	msg_reply_free(r);
}

struct error_arg {
	const char *error, *correlation;
};

static int build_error(char *buf, size_t size, const void *arg)
{
	const struct error_arg *a = arg;

	return msg_reply_error(buf, size, a->error, a->correlation);
}

static void reply_error(void **state)
{
	const struct error_arg none = {
	        "no instrument \"X\" of enterprise \"E\"", NULL};
	char ctl[32];
	struct error_arg esc = {"malformed JSON", ctl};
	char out[BIG];
	cJSON *o;

	(void)state;
	sizes(build_error, &none, out);
	assert_string_equal(out, "{\"status\":\"error\",\"error\":\"no "
	                         "instrument \\\"X\\\" of enterprise "
	                         "\\\"E\\\"\",\"correlation\":null}");
	/* control bytes: escaped as 6 each, back as they were */
	for (int i = 0; i < 31; i++)
		ctl[i] = (char)(i + 1);
	ctl[31] = '\0';
	o = parsed(out, sizes(build_error, &esc, out));
	assert_string_equal(jstr(o, "status"), "error");
	assert_string_equal(jstr(o, "error"), "malformed JSON");
	assert_string_equal(jstr(o, "correlation"), ctl);
	cJSON_Delete(o);
	/* the bound msg.h gives: 6 a byte and 64 */
	assert_true(build_error(out, 6 * (strlen(esc.error) + 31) + 64, &esc) >
	            0);
}

/* Bytes that are not UTF-8 in what a payload is given come out as
 * U+FFFD: every payload is valid UTF-8, whatever its source. */
#define FFFD "\xEF\xBF\xBD"

static void not_utf8_repaired(void **state)
{
	static const struct msg_channel ch[] = {
	        {"c\xE9",
	         "\xB0"
	         "C",
	         20.5, QUALITY_GOOD, 0},
	};
	const struct readings_arg ra = {7, "TB\xC3", ch, 1};
	const struct error_arg ea = {"bad \xFF", "\xFF\xFE"};
	struct msg_instrument in = {
	        "TB-01", "instrument", "M\xE2\x82", "", "", 0, 0};
	const struct msg_reply_head h = {"E", 1795694400000000LL, "ok", "ab",
	                                 true};
	struct msg_reply *r;
	char out[BIG], *text;
	size_t len;
	cJSON *o;
	int n;

	(void)state;
	n = sizes(build_readings, &ra, out);
	assert_true(utf8_strict(out, (size_t)n));
	o = parsed(out, n);
	assert_string_equal(jstr(o, "instrument"), "TB" FFFD);
	assert_string_equal(
	        jstr(member(member(o, "channels"), "c" FFFD), "unit"),
	        FFFD "C");
	cJSON_Delete(o);

	n = sizes(build_error, &ea, out);
	assert_true(utf8_strict(out, (size_t)n));
	assert_string_equal(out, "{\"status\":\"error\",\"error\":\"bad " FFFD
	                         "\",\"correlation\":\"" FFFD FFFD "\"}");

	r = msg_reply_new(&h);
	assert_non_null(r);
	assert_int_equal(msg_reply_instrument(r, &in), 0);
	text = msg_reply_text(r, &len);
	assert_non_null(text);
	assert_true(utf8_strict(text, len));
	o = parsed(text, (int)len);
	assert_string_equal(
	        jstr(cJSON_GetArrayItem(member(o, "instruments"), 0), "model"),
	        "M" FFFD FFFD);
	cJSON_Delete(o);
	msg_text_free(text);
	msg_reply_free(r);
}

struct busy_arg {
	const char *correlation;
	int retry;
};

static int build_busy(char *buf, size_t size, const void *arg)
{
	const struct busy_arg *a = arg;

	return msg_reply_busy(buf, size, "busy: retry after 5 s",
	                      a->correlation, a->retry);
}

static void reply_busy(void **state)
{
	const struct busy_arg a = {"c\xC3\xA9", 5}, b = {NULL, 5};
	char out[BIG];
	cJSON *o;

	(void)state;
	o = parsed(out, sizes(build_busy, &a, out));
	assert_string_equal(jstr(o, "status"), "error");
	assert_string_equal(jstr(o, "error"), "busy: retry after 5 s");
	assert_string_equal(jstr(o, "correlation"), "c\xC3\xA9");
	assert_true(jnum(o, "retry_after_s") == 5);
	cJSON_Delete(o);
	sizes(build_busy, &b, out);
	assert_string_equal(out, "{\"status\":\"error\",\"error\":\"busy: "
	                         "retry after 5 s\",\"correlation\":null,"
	                         "\"retry_after_s\":5}");
}

/* A replayed message: the payload with its tail; the reply to a replay,
 * its ranges and missing times. */
static void replay_messages(void **state)
{
	const char payload[] = "{\"seq\":7,\"ts\":\"x\"}";
	char buf[128];
	int n;

	(void)state;
	n = msg_replay_mark(buf, sizeof(buf), payload, strlen(payload));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "{\"seq\":7,\"ts\":\"x\",\"historical\":true,"
	                         "\"replay\":true}");
	assert_int_equal(msg_replay_mark(buf, 40, payload, strlen(payload)),
	                 -1);
	assert_int_equal(msg_replay_mark(buf, sizeof(buf), "[1]", 3), -1);

	const struct msg_replay_range sent[] = {{1, 4, NULL, 0, 0},
	                                        {9, 9, NULL, 0, 0}};
	const struct msg_replay_range missing[] = {
	        {5, 8, "retention", 1795694400123456LL, 1795694401000000LL},
	        {10, 12, "not_kept", 0, 0}};
	const struct msg_replay_reply r = {1, 12, "c-1", sent, missing, 2, 2};
	size_t len;
	char *text = msg_replay_reply(&r, &len);
	cJSON *j;

	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	j = cJSON_Parse(text);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring,
	                    "ok");
	assert_int_equal(cJSON_GetObjectItem(j, "from")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(j, "to")->valueint, 12);
	assert_string_equal(cJSON_GetObjectItem(j, "correlation")->valuestring,
	                    "c-1");
	cJSON *s = cJSON_GetObjectItem(j, "sent");
	assert_int_equal(cJSON_GetArraySize(s), 2);
	assert_int_equal(
	        cJSON_GetArrayItem(cJSON_GetArrayItem(s, 1), 0)->valueint, 9);
	cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "missing"), 0);
	assert_string_equal(cJSON_GetObjectItem(m, "reason")->valuestring,
	                    "retention");
	assert_int_equal(cJSON_GetObjectItem(m, "to")->valueint, 8);
	assert_string_equal(cJSON_GetObjectItem(m, "ts_from")->valuestring,
	                    "2026-11-26T12:00:00.123456Z");
	m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "missing"), 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "ts_to")));
	cJSON_Delete(j);
	msg_text_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(readings_example),
	        cmocka_unit_test(readings_fields),
	        cmocka_unit_test(readings_qualities),
	        cmocka_unit_test(event),
	        cmocka_unit_test(tolerance_example),
	        cmocka_unit_test(tolerance_nulls),
	        cmocka_unit_test(status_example),
	        cmocka_unit_test(status_optional),
	        cmocka_unit_test(calibration),
	        cmocka_unit_test(gateway_status),
	        cmocka_unit_test(ha_examples),
	        cmocka_unit_test(ha_names),
	        cmocka_unit_test(ha_too_long),
	        cmocka_unit_test(topic),
	        cmocka_unit_test(reply),
	        cmocka_unit_test(cal_record_full),
	        cmocka_unit_test(reply_no_statement),
	        cmocka_unit_test(reply_head),
	        cmocka_unit_test(reply_error),
	        cmocka_unit_test(not_utf8_repaired),
	        cmocka_unit_test(reply_busy),
	        cmocka_unit_test(replay_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
