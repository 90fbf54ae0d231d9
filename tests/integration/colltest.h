/*
 * colltest.h - metrolog-collector in the tests (test_collector*.c): its
 * configuration for a rig (mqtttest.h) and a PostgreSQL (pgtest.h),
 * started and stopped as a service (its stats as it stopped), run as a
 * tool; the last seq a gateway assigned, what the archive is compared
 * with; calibration records and approvals made at the lab with the
 * metrolog tool, and the archive's chains verified. Static inline, like the
 * other test headers; they fail the running cmocka test.
 */
#ifndef METROLOG_COLLTEST_H
#define METROLOG_COLLTEST_H

#include "mqtttest.h"
#include "pgtest.h"

#define COLLECTOR_BIN METROLOG_COLLECTOR_BIN

struct coll {
	pid_t pid;
	char cfg[H_PATH_MAX];
	char log[H_PATH_MAX];
	bool debug; /* started with -d: every message logged */
};

/* The configuration of collector id (group "archive", checking for gaps
 * every 200 ms, settled after 3 s), archive_extra more keys of its
 * archive group ("" none: batches of the defaults); not debug. */
static inline void coll_config(struct coll *c, const struct rig *r,
                               const struct pg *p, const char *id,
                               const char *archive_extra)
{
	char name[64], text[2048];

	c->debug = false;
	snprintf(name, sizeof(name), "%s.cfg", id);
	h_path(c->cfg, r->dir, name);
	snprintf(name, sizeof(name), "%s.log", id);
	h_path(c->log, r->dir, name);
	snprintf(text, sizeof(text),
	         "mqtt = { port = %d; client_id = \"%s\"; group = \"archive\"; "
	         "keepalive_s = 5; version = %d; };\n"
	         "postgresql = { conninfo = \"%s\"; };\n"
	         "archive = { gap_check_ms = 200; gap_settle_ms = 3000; %s};\n",
	         r->broker.port, id, mq_version(), p->conninfo, archive_extra);
	write_file(c->cfg, text);
}

static inline void coll_start(struct coll *c)
{
	const char *argv[] = {COLLECTOR_BIN, "-c", c->cfg,
	                      c->debug ? "-d" : NULL, NULL};
	int before = mq_count_in_file(c->log, "mqtt: subscribed to");

	c->pid = h_spawn(argv, c->log, true);
	assert_true(c->pid > 0);
	for (int i = 0; i < 300; i++) {
		if (mq_count_in_file(c->log, "mqtt: subscribed to") > before)
			return;
		assert_true(h_alive(c->pid));
		sleep_ms(100);
	}
	fail_msg("%s never subscribed", c->log);
}

/* SIGTERM; returns the "duplicates" of its last stats line, after
 * checking that it wrote something ("written" > 0). */
static inline long long coll_stop(struct coll *c)
{
	static char text[1 << 20];
	const char *s;
	int status = h_stop(c->pid, SIGTERM, 30000);

	assert_true(status != -1 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(h_read_file(c->log, text, sizeof(text)) > 0);
	s = strstr(text, "stopping on signal");
	assert_non_null(s);
	assert_true(mq_json_int(s, "written") > 0);
	assert_int_equal(mq_json_int(s, "refused"), 0);
	return mq_json_int(s, "duplicates");
}

/* metrolog-collector -c <its config> cmd [arg1 arg2]; must succeed. */
static inline void run_tool(const struct coll *c, const char *cmd,
                            const char *arg1, const char *arg2)
{
	const char *argv[] = {COLLECTOR_BIN, "-c", c->cfg, cmd,
	                      arg1,          arg2, NULL};

	assert_int_equal(h_run(argv, c->log, true, 60000), 0);
}

/* The value of key ("written", "gaps", ...) in the stats c logged as it
 * stopped (coll_stop()), -1 when it did not log it. */
static inline long long coll_stat(const struct coll *c, const char *key)
{
	static char text[1 << 20];
	const char *s = NULL;

	assert_true(h_read_file(c->log, text, sizeof(text)) > 0);
	for (const char *q = text; (q = strstr(q, "stopping on signal")); q++)
		s = q;
	return s != NULL ? mq_json_int(s, key) : -1;
}

/* The last seq gateway g assigned (its outbox's); 0 before its first. */
static inline long long coll_last_seq(const struct gw *g)
{
	long long v;

	if (access(g->db, F_OK) != 0)
		return 0; /* metrologd has not created it yet */
	v = db_try_int(g->db, "SELECT seq FROM sqlite_sequence "
	                      "WHERE name = 'outbox'");
	return v > 0 ? v : 0;
}

/* Wait (up to 60 s) until gateway g assigned seq n. */
static inline void coll_wait_seq(const struct gw *g, long long n)
{
	for (int i = 0; i < 600; i++) {
		if (coll_last_seq(g) >= n)
			return;
		sleep_ms(100);
	}
	fail_msg("the gateway of %s never assigned seq %lld", g->db, n);
}

/* The metrolog tool with args (NULL-terminated) on rig r; must succeed. */
static inline void coll_lab_tool(const struct rig *r, const char *const args[])
{
	char out[8192];

	if (gw_tool(r->dir, args, out, sizeof(out)) != 0)
		fail_msg("metrolog %s: %s", args[0], out);
}

/* metrolog calibrate of TB-01 at the lab of r, certificate cert,
 * performed on date (YYYY-MM-DD), two points, texts that a careless
 * encoding would change; supersedes: the id of the record it corrects
 * (with an amendment), NULL none (the arguments then end before
 * --amendment). */
static inline void coll_calibrate(const struct rig *r, const char *cert,
                                  const char *date, const char *supersedes)
{
	coll_lab_tool(r,
	              (const char *const[]){
	                      "calibrate",
	                      "-d",
	                      r->gw.db,
	                      "-i",
	                      "TB-01",
	                      "-c",
	                      cert,
	                      "--date",
	                      date,
	                      "-t",
	                      "Nguyễn Văn An",
	                      "--remarks",
	                      "said \"ok\" \\ 23.0 °C",
	                      "--point",
	                      "c0,degC,20,20.03,20.004,-0.1,0.1,0.02,2",
	                      "--point",
	                      "c1,degC,-40.0001,-39.99987,,-0.3,0.3,0.0123,2",
	                      supersedes != NULL ? "--supersedes" : NULL,
	                      supersedes,
	                      "--amendment",
	                      "c1 misread",
	                      NULL});
}

/* metrolog approve of certificate cert at the lab of r. */
static inline void coll_approve(const struct rig *r, const char *cert)
{
	coll_lab_tool(r, (const char *const[]){"approve", "-d", r->gw.db, cert,
	                                       "--by", "Lê Văn Cường", "--role",
	                                       "Lab manager", NULL});
}

/* metrolog-collector verify [--site site] with c's configuration: its
 * exit status (0 intact, 3 a gap, 4 broken, docs/COLLECTOR.md), its
 * output into out. */
static inline int coll_verify(const struct rig *r, const struct coll *c,
                              const char *site, char *out, size_t size)
{
	char log[H_PATH_MAX];
	const char *argv[] = {COLLECTOR_BIN,
	                      "-c",
	                      c->cfg,
	                      "verify",
	                      site != NULL ? "--site" : NULL,
	                      site,
	                      NULL};
	int code;

	h_path(log, r->dir, "verify.out");
	unlink(log);
	code = h_run(argv, log, true, 60000);
	assert_true(h_read_file(log, out, size) >= 0);
	return code;
}

#endif
