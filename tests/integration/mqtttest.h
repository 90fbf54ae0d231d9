/*
 * mqtttest.h - helpers shared by the MQTT end-to-end tests (test_mqtt.c,
 * test_mqtt_ha.c, test_mqtt_security.c, test_mqtt_requests.c), on top of
 * gwtest.h: the rig (a real mosquitto on loopback, the simulator, a
 * metrologd and a subscriber), a persistent broker, a plain-TCP
 * mosquitto_sub that writes "topic payload" lines to a file and is known
 * to be subscribed once a probe comes back, mosquitto_pub, and reading
 * that file, and the MQTT version the tests' metrologd speaks
 * (METROLOG_TEST_MQTT_VERSION) with the broker's log to prove it. Every
 * function is static inline, like gwtest.h's; they fail the running
 * cmocka test.
 */
#ifndef METROLOG_MQTTTEST_H
#define METROLOG_MQTTTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gwtest.h"

struct rig {
	struct h_broker broker;
	struct h_sim sim;
	struct gw gw;
	char dir[H_PATH_MAX];
	char sub_out[H_PATH_MAX];
	pid_t sub;
	int nsub;
	bool auth; /* test_mqtt_security.c: password_file and acl_file */
};

/* The MQTT version of the mqtt group a test writes when it does not need
 * one: METROLOG_TEST_MQTT_VERSION, 3 (the default) or 5, so that one test
 * binary runs under both (ctest's mqtt and mqtt_v5). */
static inline int mq_version(void)
{
	const char *v = getenv("METROLOG_TEST_MQTT_VERSION");

	if (v == NULL || v[0] == '\0' || strcmp(v, "3") == 0)
		return 3;
	if (strcmp(v, "5") == 0)
		return 5;
	fail_msg("METROLOG_TEST_MQTT_VERSION=%s: 3 or 5", v);
	return -1;
}

/* A fresh rig in a fresh directory (the broker runs as the test's user:
 * harness.h). */
static inline void mq_rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", h_tmpdir());
	h_path(r->sub_out, r->dir, "sub.out");
}

/* The broker with persistence in r->dir/persist (so that a subscriber
 * keeps its session across a broker restart), extra_conf appended. */
static inline void mq_broker_start(struct rig *r, const char *extra_conf)
{
	char conf[H_PATH_MAX + 4096], pdir[H_PATH_MAX];

	h_path(pdir, r->dir, "persist");
	assert_int_equal(mkdir(pdir, 0700), 0);
	snprintf(conf, sizeof(conf),
	         "persistence true\npersistence_location %s/\n%s", pdir,
	         extra_conf != NULL ? extra_conf : "");
	assert_int_equal(h_broker_start(&r->broker, r->dir, conf), 0);
}

/* Run a shell script in dir (set -e, from dir); its output goes to
 * dir/sh.log, shown when it fails, which fails the test. */
static inline void mq_sh(const char *dir, const char *script)
{
	char cmd[8192], log[H_PATH_MAX];
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};

	snprintf(cmd, sizeof(cmd), "set -e; cd '%s'; %s", dir, script);
	h_path(log, dir, "sh.log");
	if (h_run(argv, log, false, 120000) != 0) {
		char text[4096] = "";
		h_read_file(log, text, sizeof(text));
		fail_msg("script failed: %s\n%s", script, text);
	}
}

/* mosquitto_pub -q 1 of text on topic to the rig's broker, with the MQTT
 * options in opts (NULL-terminated, may be NULL). Returns its exit code. */
static inline int mq_pub(const struct rig *r, const char *topic,
                         const char *text, const char *const opts[])
{
	char port[16];
	const char *argv[48] = {
	        "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t",
	        topic,           "-m", text};
	int i = 11;

	snprintf(port, sizeof(port), "%d", r->broker.port);
	for (int j = 0; opts != NULL && opts[j] != NULL && i < 47; j++)
		argv[i++] = opts[j];
	argv[i] = NULL;
	return h_run(argv, NULL, false, 10000);
}

/* Occurrences of s in the file at path (its first MiB). */
static inline int mq_count_in_file(const char *path, const char *s)
{
	static char text[1 << 20];
	int n = 0;

	if (h_read_file(path, text, sizeof(text)) < 0)
		return 0;
	for (const char *p = text; (p = strstr(p, s)) != NULL; p++)
		n++;
	return n;
}

/* Publish text on topic (with the options in pub_opts, may be NULL) every
 * 100 ms until it shows in the file at out, for up to 10 s; returns
 * whether it did. The broker delivers to a subscriber in order, so once a
 * probe is in its file, so is everything the broker had for it before. */
static inline bool mq_probe(const struct rig *r, const char *topic,
                            const char *text, const char *const pub_opts[],
                            const char *out)
{
	for (int n = 0; n < 100; n++) {
		assert_int_equal(mq_pub(r, topic, text, pub_opts), 0);
		sleep_ms(100);
		if (mq_count_in_file(out, text) > 0)
			return true;
	}
	return false;
}

/* A mosquitto_sub on filter (and on probe when filter does not cover it:
 * probe NULL), QoS 1, persistent session with client id "<id>-<n>", with
 * the options in opts (may be NULL), writing to the file at out; returns
 * its pid once its subscription is in place (a probe published on
 * probe_topic, with the options in pub_opts, came back). */
static inline pid_t mq_sub_spawn(struct rig *r, const char *out,
                                 const char *filter, const char *probe,
                                 const char *probe_topic, const char *id,
                                 const char *const opts[],
                                 const char *const pub_opts[])
{
	char port[16], cid[64], text[64];
	const char *argv[48] = {
	        "mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", filter};
	int i = 7;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", r->broker.port);
	snprintf(cid, sizeof(cid), "%s-%d", id, r->nsub++);
	if (probe != NULL) {
		argv[i++] = "-t";
		argv[i++] = probe;
	}
	for (int j = 0; opts != NULL && opts[j] != NULL && i < 40; j++)
		argv[i++] = opts[j];
	argv[i++] = "-q";
	argv[i++] = "1";
	argv[i++] = "-c";
	argv[i++] = "-i";
	argv[i++] = cid;
	argv[i++] = "-v";
	argv[i] = NULL;
	pid = h_spawn(argv, out, false);
	assert_true(pid > 0);
	snprintf(text, sizeof(text), "probe-%d.", r->nsub);
	if (!mq_probe(r, probe_topic, text, pub_opts, out))
		fail_msg("the subscriber %s never received its probe", cid);
	return pid;
}

/* The rig's subscriber: mq_sub_spawn() writing to r->sub_out. */
static inline void mq_sub_start(struct rig *r, const char *filter,
                                const char *probe, const char *probe_topic,
                                const char *id, const char *const opts[],
                                const char *const pub_opts[])
{
	r->sub = mq_sub_spawn(r, r->sub_out, filter, probe, probe_topic, id,
	                      opts, pub_opts);
}

/* Stop the subscriber, the simulator and the broker. */
static inline void mq_rig_finish(struct rig *r)
{
	h_stop(r->sub, SIGTERM, 5000);
	assert_int_equal(h_sim_stop(&r->sim), 0);
	assert_int_equal(h_broker_stop(&r->broker), 0);
}

/* TB-01 (3 channels, unit 1) and TB-02 (2 channels, unit 2) on bus
 * "bench", polled every interval_ms. */
static inline void mq_two_instruments(char *out, size_t size, int interval_ms)
{
	char *p;

	instrument(out, size, "TB-01", "bench", 1, interval_ms, 3);
	p = out + strlen(out);
	*p++ = ',';
	instrument(p, size - (size_t)(p - out), "TB-02", "bench", 2,
	           interval_ms, 2);
}

/* The rig of the publishing tests: a test broker, metrolog-sim with two
 * units of 3 channels, a subscriber (client id sub_id) on prefix/#, and a
 * metrologd configuration (not started) polling TB-01 and TB-02 every
 * 100 ms, committing every 50 ms, publishing under prefix with keepalive
 * 5 s and mqtt_extra (more keys of the mqtt group, "" none); broker_extra
 * (NULL: none) is added to the broker's configuration. */
static inline void mq_rig_config_broker(struct rig *r, const char *prefix,
                                        const char *sub_id,
                                        const char *mqtt_extra,
                                        const char *broker_extra)
{
	char bus[256], insts[2048], extra[512], all[64], probe[64];

	mq_rig_init(r);
	mq_broker_start(r, broker_extra);
	assert_int_equal(
	        h_sim_start(&r->sim, r->dir, true, false,
	                    (const char *const[]){"-n", "2", "-m", "3", NULL}),
	        0);
	snprintf(all, sizeof(all), "%s/#", prefix);
	snprintf(probe, sizeof(probe), "%s/probe", prefix);
	mq_sub_start(r, all, NULL, probe, sub_id, NULL, NULL);
	gw_init(&r->gw, r->dir);
	tcp_bus(bus, sizeof(bus), "bench", r->sim.port, 500);
	mq_two_instruments(insts, sizeof(insts), 100);
	snprintf(extra, sizeof(extra),
	         "storage = { batch_ms = 50; };\n"
	         "mqtt = { port = %d; prefix = \"%s\"; keepalive_s = 5; "
	         "%sversion = %d; };",
	         r->broker.port, prefix, mqtt_extra, mq_version());
	gw_config(&r->gw, bus, insts, extra);
}

/* mq_rig_config_broker() with the broker's defaults. */
static inline void mq_rig_config(struct rig *r, const char *prefix,
                                 const char *sub_id, const char *mqtt_extra)
{
	mq_rig_config_broker(r, prefix, sub_id, mqtt_extra, NULL);
}

static inline long long mq_readings_in_db(const struct gw *g)
{
	if (access(g->db, F_OK) != 0)
		return 0; /* metrologd has not created it yet */
	return db_try_int(g->db, "SELECT count(*) FROM readings");
}

/* Wait (up to 60 s) until the database holds at least n readings. */
static inline void mq_wait_readings(const struct gw *g, long long n)
{
	for (int i = 0; i < 600; i++) {
		if (mq_readings_in_db(g) >= n)
			return;
		sleep_ms(100);
	}
	fail_msg("the database never held %lld readings", n);
}

/* "...\"key\":<integer>" in s, or -1. */
static inline long long mq_json_int(const char *s, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(s, pat);
	return p != NULL ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Lines of the file at path containing both a and b (b may be NULL). */
static inline int mq_count_lines(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	assert_non_null(f);
	while (getline(&line, &cap, f) > 0)
		n += strstr(line, a) != NULL && (b == NULL || strstr(line, b));
	free(line);
	fclose(f);
	return n;
}

/* Wait (up to 30 s) until the subscriber's file has at least n lines with
 * a (and b, when not NULL). */
static inline void mq_wait_lines(const struct rig *r, const char *a,
                                 const char *b, int n)
{
	for (int i = 0; i < 300; i++) {
		if (mq_count_lines(r->sub_out, a, b) >= n)
			return;
		sleep_ms(100);
	}
	fail_msg("the subscriber never received %d lines with %s", n, a);
}

/* How many times the broker's log says client_id connected with the MQTT
 * version (3: 3.1.1, which mosquitto logs as protocol "p2"; 5: "p5") and
 * clean session / clean start off ("c0"). */
static inline int mq_connects_as(const struct rig *r, const char *client_id,
                                 int version)
{
	char pat[128];

	snprintf(pat, sizeof(pat), "as %s (p%d, c0", client_id,
	         version == 5 ? 5 : 2);
	return mq_count_in_file(r->broker.log, pat);
}

/* ---- seq accounting: what a subscriber received from the outbox ------ */

#define MQ_MAX_SEQ 200000

/* What the subscriber's file holds of the outbox's messages (those with a
 * seq: readings, events, statuses; not the gateway's status). */
struct mq_got {
	unsigned char *seen; /* [seq]: copies received (saturates at 255) */
	uint64_t *key;       /* [seq]: hash of topic and ts of the first copy */
	long long max_seq, messages, duplicates, historical;
	long long reused;   /* copies whose topic or ts differ from the first */
	long long channels; /* over readings messages, first copies */
	long long values_checked; /* by the caller's mq_readings_fn */
};

/* Called on the first copy of each readings message (topic, payload). */
typedef void mq_readings_fn(const char *topic, const char *payload,
                            struct mq_got *g, void *arg);

/* FNV-1a of the topic and the payload's "ts" value: what identifies a
 * message, whatever its historical flag says on a copy sent again. */
static inline uint64_t mq_message_key(const char *topic, const char *pl)
{
	const char *ts = strstr(pl, "\"ts\":\"");
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = topic; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (const char *p = ts != NULL ? ts : ""; *p != '\0' && *p != ','; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static inline void mq_got_free(struct mq_got *g)
{
	free(g->seen);
	free(g->key);
	memset(g, 0, sizeof(*g));
}

/* One "topic payload" line into g. */
static inline void mq_got_line(char *line, struct mq_got *g, mq_readings_fn *fn,
                               void *arg)
{
	char *sp = strchr(line, ' ');
	long long seq;

	if (sp == NULL)
		return;
	*sp = '\0';
	const char *topic = line, *pl = sp + 1;
	seq = mq_json_int(pl, "seq");
	if (seq <= 0 || strstr(topic, "/gateway/") != NULL)
		return;
	assert_true(seq <= MQ_MAX_SEQ);
	g->messages++;
	if (strstr(pl, "\"historical\":true") != NULL)
		g->historical++;
	uint64_t key = mq_message_key(topic, pl);
	if (g->seen[seq] > 0) {
		g->duplicates++;
		g->reused += g->key[seq] != key;
		g->seen[seq] += g->seen[seq] < 255;
		return;
	}
	g->seen[seq] = 1;
	g->key[seq] = key;
	if (seq > g->max_seq)
		g->max_seq = seq;
	size_t tl = strlen(topic);
	if (tl > 9 && strcmp(topic + tl - 9, "/readings") == 0) {
		for (const char *q = pl;
		     (q = strstr(q, "\"quality\":")) != NULL; q++)
			g->channels++;
		if (fn != NULL)
			fn(topic, pl, g, arg);
	}
}

/* Read the subscriber's file at path into g (what g held is freed): seqs,
 * duplicates, reused seqs, channels of readings messages; fn (may be
 * NULL) sees the first copy of each readings message. */
static inline void mq_got_read(const char *path, struct mq_got *g,
                               mq_readings_fn *fn, void *arg)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	mq_got_free(g);
	g->seen = calloc(MQ_MAX_SEQ + 1, 1);
	g->key = calloc(MQ_MAX_SEQ + 1, sizeof(*g->key));
	assert_non_null(g->seen);
	assert_non_null(g->key);
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0)
		mq_got_line(line, g, fn, arg);
	free(line);
	fclose(f);
}

/* Seqs 1..last that g has not seen; prints the first ten. */
static inline long long mq_missing(const struct mq_got *g, long long last,
                                   bool print)
{
	long long missing = 0;

	for (long long s = 1; s <= last; s++)
		if (!g->seen[s] && missing++ < 10 && print)
			print_error("seq %lld missing\n", s);
	return missing;
}

/* metrologd is stopped and its outbox empty: wait (up to 120 s) until
 * every seq the outbox ever assigned is in the rig's subscriber's file,
 * read it into g (fn as mq_got_read()), and assert that none is missing,
 * none is beyond the last, and none was reused (two copies of a seq with
 * another topic or ts). Returns the last seq. */
static inline long long mq_check_all_received(struct rig *r, struct mq_got *g,
                                              mq_readings_fn *fn, void *arg)
{
	long long last = db_int(r->gw.db, "SELECT seq FROM sqlite_sequence "
	                                  "WHERE name = 'outbox'");

	assert_true(last > 0 && last <= MQ_MAX_SEQ);
	assert_int_equal(db_int(r->gw.db, "SELECT count(*) FROM outbox"), 0);
	for (int i = 0; i < 1200; i++) {
		mq_got_read(r->sub_out, g, NULL, NULL);
		if (mq_missing(g, last, false) == 0)
			break;
		sleep_ms(100);
	}
	mq_got_read(r->sub_out, g, fn, arg);
	assert_int_equal(mq_missing(g, last, true), 0);
	assert_int_equal(g->max_seq, last);
	assert_int_equal(g->reused, 0);
	return last;
}

/* Lines of the file at path that start with prefix. */
static inline long long mq_lines_starting(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	long long n = 0;

	assert_non_null(f);
	while (getline(&line, &cap, f) > 0)
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	free(line);
	fclose(f);
	return n;
}

/* Have the rig's broker (started with persistence and "log_type
 * information", which logs each save) write its in-memory database to
 * its persistence file now (SIGUSR1), and return once that save is
 * complete: a second save was started after it (the broker saves on its
 * one thread, one save at a time), so a SIGKILL now loses nothing the
 * broker held before the call. */
static inline void mq_broker_save(const struct rig *r)
{
	const char *line = "Saving in-memory database";
	int before = mq_count_in_file(r->broker.log, line);

	for (int k = 1; k <= 2; k++) {
		assert_int_equal(kill(r->broker.pid, SIGUSR1), 0);
		for (int i = 0;
		     mq_count_in_file(r->broker.log, line) < before + k; i++) {
			if (i == 300)
				fail_msg("the broker never saved (%s)",
				         r->broker.log);
			sleep_ms(100);
		}
	}
}

#endif
