/*
 * test_chaos.c - metrologd killed again and again while it polls and
 * publishes: a real metrologd polling two metrolog-sim instruments every
 * 100 ms, a persistent mosquitto (mqtttest.h), and a subscriber
 * (mosquitto_sub, QoS 1, persistent session) counting seqs. For
 * METROLOG_CHAOS_SECONDS (default 40 s; the test takes about a minute),
 * after a random pause of 0.1 to 1.2 s each time, one of:
 *
 *   - SIGKILL metrologd (it must still be running: it never exits by
 *     itself) and start it again at once; before the kill, every
 *     committed reading (channel, ts) is read from the database;
 *   - stop the broker (SIGTERM: mosquitto saves its persistence on exit;
 *     a SIGKILLed broker loses what it acknowledged since its last save,
 *     which is the broker's loss, not ours), about one action in eight;
 *   - start it again on the same port with its persistence, when down
 *     (one action in two), so that kills also fall during outages.
 *
 * The pauses come from a seeded generator: the seed is printed, and
 * METROLOG_CHAOS_SEED=<n> replays a run. At the end, with the broker and
 * metrologd running again and every seq assigned so far received,
 * metrologd is stopped (SIGTERM, exit code 0) and:
 *
 *   - PRAGMA integrity_check is ok;
 *   - no committed reading was lost: the readings read before each kill
 *     are all in the database at the next kill and at the end;
 *   - every seq the outbox ever assigned reached the subscriber at least
 *     once, no seq was reused (two copies with another topic or ts), and
 *     the readings messages carry exactly the committed readings (the row
 *     accounting of test_mqtt.c).
 *
 * It prints "chaos: seed ..., kills ..., restarts ..., readings ..., seqs
 * ..." for tools/bench/chaos, which runs it longer (docs/BENCHMARKS.md).
 * Every wait is for a condition with a generous deadline; the only sleeps
 * of a chosen length are the random pauses.
 *
 * Threading: one thread; everything else is a process.
 */
#define _GNU_SOURCE
#include "mqtttest.h"

#define SITE   "test-lab"
#define PREFIX "ch"

/* A committed reading: its channel and ts, the readings view's key. */
struct key {
	long long channel, ts;
};

struct keys {
	struct key *k;
	size_t n;
};

struct chaos {
	struct rig r;
	uint64_t rnd; /* xorshift64 state */
	bool broker_up;
	int kills, stops;
	struct keys seen; /* the committed readings at the last look */
};

/* xorshift64 (Marsaglia): the same seed, the same run. */
static uint64_t rnd_next(struct chaos *c)
{
	c->rnd ^= c->rnd << 13;
	c->rnd ^= c->rnd >> 7;
	c->rnd ^= c->rnd << 17;
	return c->rnd;
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? strtol(v, NULL, 10) : dflt;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->channel != y->channel)
		return x->channel < y->channel ? -1 : 1;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* Every committed reading of the database at path, sorted (none while
 * metrologd has not made the file or its schema yet). */
static void keys_read(const char *path, struct keys *out)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	size_t cap = 1024;

	out->n = 0;
	out->k = malloc(cap * sizeof(*out->k));
	assert_non_null(out->k);
	if (access(path, F_OK) != 0)
		return;
	db = db_open(path);
	if (sqlite3_prepare_v2(db, "SELECT channel, ts FROM readings", -1, &st,
	                       NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (out->n == cap) {
				cap *= 2;
				out->k = realloc(out->k, cap * sizeof(*out->k));
				assert_non_null(out->k);
			}
			out->k[out->n].channel = sqlite3_column_int64(st, 0);
			out->k[out->n++].ts = sqlite3_column_int64(st, 1);
		}
	sqlite3_finalize(st);
	sqlite3_close(db);
	qsort(out->k, out->n, sizeof(*out->k), key_cmp);
}

/* Read the committed readings again and fail unless every one read last
 * time is still there. */
static void check_nothing_lost(struct chaos *c)
{
	struct keys now;
	size_t j = 0, lost = 0;

	keys_read(c->r.gw.db, &now);
	for (size_t i = 0; i < c->seen.n; i++) {
		while (j < now.n && key_cmp(&now.k[j], &c->seen.k[i]) < 0)
			j++;
		if (j == now.n || key_cmp(&now.k[j], &c->seen.k[i]) != 0) {
			if (lost++ < 10)
				print_error("reading of channel %lld at %lld "
				            "lost\n",
				            c->seen.k[i].channel,
				            c->seen.k[i].ts);
		}
	}
	free(c->seen.k);
	c->seen = now;
	assert_int_equal(lost, 0);
}

static void chaos_start(struct chaos *c)
{
	struct rig *r = &c->r;

	mq_rig_config(r, PREFIX, "chaos-sub", "");
	c->broker_up = true;
	gw_start(&r->gw);
	mq_wait_readings(&r->gw, 20);
}

/* SIGKILL metrologd, which must still be running, and start it again. */
static void kill_gateway(struct chaos *c)
{
	struct gw *g = &c->r.gw;

	if (!h_alive(g->pid))
		fail_msg("metrologd exited by itself (see %s)", g->log);
	check_nothing_lost(c);
	h_stop(g->pid, SIGKILL, 10000);
	c->kills++;
	gw_start(g);
}

/* One random action after a random pause. */
static void chaos_step(struct chaos *c)
{
	sleep_ms(100 + (int)(rnd_next(c) % 1100));
	if (c->broker_up && rnd_next(c) % 8 == 0) {
		assert_int_equal(h_broker_stop(&c->r.broker), 0);
		c->broker_up = false;
		c->stops++;
	} else if (!c->broker_up && rnd_next(c) % 2 == 0) {
		assert_int_equal(h_broker_restart(&c->r.broker), 0);
		c->broker_up = true;
	} else {
		kill_gateway(c);
	}
}

/* Everything running again: wait (up to 180 s: metrologd's reconnect
 * back-off is up to 30 s) until the subscriber has every seq assigned so
 * far, so that metrologd's stop has little left to send. */
static void wait_caught_up(struct chaos *c)
{
	struct mq_got g = {0};
	long long last;

	if (!c->broker_up)
		assert_int_equal(h_broker_restart(&c->r.broker), 0);
	c->broker_up = true;
	mq_wait_readings(&c->r.gw, mq_readings_in_db(&c->r.gw) + 50);
	last = db_int(c->r.gw.db, "SELECT seq FROM sqlite_sequence "
	                          "WHERE name = 'outbox'");
	for (int i = 0; i < 1800; i++) {
		mq_got_read(c->r.sub_out, &g, NULL, NULL);
		if (mq_missing(&g, last, false) == 0)
			break;
		sleep_ms(100);
	}
	assert_int_equal(mq_missing(&g, last, true), 0);
	mq_got_free(&g);
}

static void chaos_run(void **state)
{
	struct chaos c = {0};
	struct mq_got g = {0};
	long seconds = env_long("METROLOG_CHAOS_SECONDS", 40);
	unsigned long long seed = (unsigned long long)env_long(
	        "METROLOG_CHAOS_SEED", (long)(mono_ms() ^ getpid()));
	int64_t end;
	long long seqs;

	(void)state;
	print_message("chaos: seed %llu (METROLOG_CHAOS_SEED=%llu replays "
	              "it), %ld s\n",
	              seed, seed, seconds);
	c.rnd = seed != 0 ? seed : 1;
	chaos_start(&c);
	end = mono_ms() + seconds * 1000;
	while (mono_ms() < end)
		chaos_step(&c);
	wait_caught_up(&c);
	check_nothing_lost(&c);
	assert_int_equal(gw_stop(&c.r.gw), 0);
	check_nothing_lost(&c);
	db_assert_integrity(c.r.gw.db);
	seqs = mq_check_all_received(&c.r, &g, NULL, NULL);
	assert_int_equal(g.channels, mq_readings_in_db(&c.r.gw));
	print_message("chaos: seed %llu, %ld s, kills %d, restarts %d, "
	              "readings %lld, seqs %lld, duplicates %lld, "
	              "historical %lld\n",
	              seed, seconds, c.kills, c.stops, g.channels, seqs,
	              g.duplicates, g.historical);
	assert_true(c.kills >= 10 || seconds < 20);
	mq_got_free(&g);
	free(c.seen.k);
	mq_rig_finish(&c.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(chaos_run, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
