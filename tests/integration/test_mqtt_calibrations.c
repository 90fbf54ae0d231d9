/*
 * test_mqtt_calibrations.c - calibration records published in full
 * (docs/MQTT.md, Calibration records), end to end: a real mosquitto on
 * loopback, the simulator, metrologd and a real SQLite file; records and
 * approvals appended by the `metrolog` tool (another process, as a
 * technician does) while metrologd runs and while it is stopped.
 *
 *   published_once  a record calibrated while metrologd runs arrives once
 *                   on <prefix>/<site>/calibrations with the hash, the
 *                   previous hash and the points of the database's record;
 *                   its approval arrives once, after it, with the
 *                   approval's hash; after a stop, a record calibrated
 *                   and one approved while metrologd was down arrive once
 *                   it is back, and nothing acknowledged before the stop
 *                   is sent again; the published marks (table published)
 *                   say 2 and 2; the second record carries the customer
 *                   id it was given and the model TB-01 was configured
 *                   with by then
 *
 * Threading: one thread; everything else is a process.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>

#include "calib.h"
#include "mqtttest.h"

#define PREFIX "mc"
#define TOPIC  PREFIX "/test-lab/calibrations"

static struct rig rig;

/* The tool's output of the last run. */
static char out[16384];

static void tool(const char *const args[])
{
	int code = gw_tool(rig.dir, args, out, sizeof(out));

	if (code != 0)
		fail_msg("metrolog %s: exit %d: %s", args[0], code, out);
}

/* cid: the customer id given (--customer-id), NULL none. */
static void calibrate(const char *cert, const char *date, const char *cid)
{
	const char *args[] = {"calibrate",
	                      "-d",
	                      rig.gw.db,
	                      "-i",
	                      "TB-01",
	                      "-c",
	                      cert,
	                      "--date",
	                      date,
	                      "-t",
	                      "Nguyễn Văn An",
	                      "--point",
	                      "c0,degC,20,20.03,20.004,-0.1,0.1,0.02,2",
	                      "--point",
	                      "c1,degC,50,50.05,,-0.1,0.1,0.02,2",
	                      cid != NULL ? "--customer-id" : NULL,
	                      cid,
	                      NULL};
	tool(args);
}

static void approve(const char *cert)
{
	const char *args[] = {"approve", "-d",           rig.gw.db, cert,
	                      "--by",    "Lê Văn Cường", NULL};
	tool(args);
}

/* The hash of record id (table, "calibrations" or "approvals") in the
 * database, into buf. */
static const char *db_hash(const char *table, int id, char *buf, size_t size)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT hash FROM %s WHERE id = %d", table,
	         id);
	db_text(rig.gw.db, sql, buf, size);
	return buf;
}

/* Lines of the subscriber on TOPIC of "type" key with "<key>":id (an
 * approval carries "record" too). */
static int received(const char *key, int id)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"type\":\"%s\",\"%s\":%d,", key, key, id);
	return mq_count_lines(rig.sub_out, TOPIC " ", pat);
}

/* The payload of the first line on TOPIC with "<key>":id, parsed. */
static cJSON *payload(const char *key, int id)
{
	FILE *f = fopen(rig.sub_out, "r");
	char *line = NULL, pat[64];
	size_t cap = 0;
	cJSON *j = NULL;

	snprintf(pat, sizeof(pat), "\"type\":\"%s\",\"%s\":%d,", key, key, id);
	assert_non_null(f);
	while (j == NULL && getline(&line, &cap, f) > 0)
		if (strncmp(line, TOPIC " ", strlen(TOPIC) + 1) == 0 &&
		    strstr(line, pat) != NULL)
			j = cJSON_Parse(line + strlen(TOPIC) + 1);
	free(line);
	fclose(f);
	assert_non_null(j);
	return j;
}

static const char *str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* TB-01 of the rig's configuration given a model (metrologd reads it when
 * it starts). */
static void give_model(const char *model)
{
	static char text[65536], with[65536 + 256];
	const char *key = "id = \"TB-01\";";
	char *at;

	assert_true(h_read_file(rig.gw.cfg, text, sizeof(text)) > 0);
	at = strstr(text, key);
	assert_non_null(at);
	at += strlen(key);
	snprintf(with, sizeof(with), "%.*s model = \"%s\";%s", (int)(at - text),
	         text, model, at);
	write_file(rig.gw.cfg, with);
}

/* Record id's message against the database: hashes, points, fields, the
 * customer id (cid) and the item's model as of the record. */
static void check_record(int id, const char *prev, const char *cid,
                         const char *model)
{
	char hash[80];
	cJSON *j = payload("record", id);
	const cJSON *pts = cJSON_GetObjectItemCaseSensitive(j, "points");

	assert_string_equal(str(j, "type"), "record");
	assert_string_equal(str(j, "instrument"), "TB-01");
	assert_string_equal(str(j, "hash"),
	                    db_hash("calibrations", id, hash, sizeof(hash)));
	assert_string_equal(str(j, "prev_hash"), prev);
	assert_string_equal(str(j, "technician"), "Nguyễn Văn An");
	assert_string_equal(str(j, "customer_id"), cid);
	assert_string_equal(str(j, "model"), model);
	assert_int_equal(cJSON_GetArraySize(pts), 2);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetArrayItem(pts, 1), "as_left")));
	assert_true(
	        cJSON_GetObjectItemCaseSensitive(j, "rule_version")->valueint >=
	        3);
	assert_true(cJSON_GetObjectItemCaseSensitive(j, "seq")->valuedouble >
	            0);
	cJSON_Delete(j);
}

static void published_once(void **state)
{
	char h1[80], a1[80];

	(void)state;
	mq_rig_config(&rig, PREFIX, "calsub", "");
	gw_start(&rig.gw);
	mq_wait_readings(&rig.gw, 10);

	calibrate("C-1", "2026-11-01", NULL);
	mq_wait_lines(&rig, TOPIC " ", "\"record\",\"record\":1,", 1);
	check_record(1, CALIB_GENESIS, "", "");
	approve("C-1");
	mq_wait_lines(&rig, TOPIC " ", "\"approval\",\"approval\":1,", 1);
	cJSON *a = payload("approval", 1);
	assert_string_equal(str(a, "hash"),
	                    db_hash("approvals", 1, a1, sizeof(a1)));
	assert_string_equal(str(a, "record_hash"),
	                    db_hash("calibrations", 1, h1, sizeof(h1)));
	assert_string_equal(str(a, "certificate"), "C-1");
	cJSON_Delete(a);
	/* acknowledged before the stop: the outbox is empty of them */
	assert_true(gw_wait_sql(
	        &rig.gw,
	        "SELECT count(*) = 0 FROM outbox WHERE topic = '" TOPIC "'",
	        30000));

	assert_int_equal(gw_stop(&rig.gw), 0);
	/* TB-01 now has a model: the record after it carries it, and the
	 * customer id it was given; both in its hash (checked above) */
	give_model("Fluke 1524");
	gw_start(&rig.gw);
	assert_true(gw_wait_sql(&rig.gw,
	                        "SELECT count(*) = 1 FROM instruments WHERE "
	                        "name = 'TB-01' AND model = 'Fluke 1524'",
	                        30000));
	assert_int_equal(gw_stop(&rig.gw), 0);
	calibrate("C-2", "2026-11-20", "0101234567-001");
	approve("C-2");
	gw_start(&rig.gw);
	mq_wait_lines(&rig, TOPIC " ", "\"approval\",\"approval\":2,", 1);
	check_record(2, h1, "0101234567-001", "Fluke 1524");
	/* each once: a copy sent again would have come before approval 2
	 * (the outbox is sent in seq order) */
	assert_int_equal(received("record", 1), 1);
	assert_int_equal(received("approval", 1), 1);
	assert_int_equal(received("record", 2), 1);
	assert_int_equal(received("approval", 2), 1);
	assert_int_equal(db_int(rig.gw.db, "SELECT upto FROM published WHERE "
	                                   "chain = 'calibrations'"),
	                 2);
	assert_int_equal(db_int(rig.gw.db, "SELECT upto FROM published WHERE "
	                                   "chain = 'approvals'"),
	                 2);
	assert_int_equal(gw_stop(&rig.gw), 0);
	mq_rig_finish(&rig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(published_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
