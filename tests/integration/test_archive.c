/*
 * test_archive.c - the archive's blocks as the store writes them
 * (gateway/db/archive_store.c): cut by their encoded size, small blocks
 * of a channel merged as moves bring more, and all of it inside the
 * move's one transaction, across a SIGKILL.
 *
 * Real files in a temporary directory, written through store_append();
 * what is checked is read back with plain SQL (the readings view, the
 * rows of archive_blocks) and gateway/core/gorilla.c's decoder: every
 * reading back in (channel, ts) order with its value's 64 bits, each
 * block at most archive_block_target() bytes and ARCHIVE_BLOCK_MAX
 * readings, and full when another follows it: its readings and the next
 * block's first no longer fit.
 *
 * Threading: one thread (a child process writes until it is killed).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "archive.h"
#include "gorilla.h"
#include "harness.h"
#include "sqltest.h"
#include "store.h"

#define T0    1700000000000000LL /* 2023-11-14 22:13:20 UTC, in us */
#define SEC   1000000LL
#define BATCH 1000 /* readings a store_append() */

/* ---- a configuration of nch channels, 10 to an instrument --------------- */

static char inst_names[200][8];
static char ch_names[10][4] = {"c0", "c1", "c2", "c3", "c4",
                               "c5", "c6", "c7", "c8", "c9"};

static struct config *make_config(int nch)
{
	static char none[] = "";
	struct config *c = calloc(1, sizeof(*c));
	int ninst = (nch + 9) / 10;

	assert_non_null(c);
	assert_true(ninst <= 200);
	c->instruments = calloc(ninst, sizeof(*c->instruments));
	assert_non_null(c->instruments);
	c->ninstruments = ninst;
	for (int i = 0; i < ninst; i++) {
		struct cfg_instrument *in = &c->instruments[i];
		int n = nch - i * 10 < 10 ? nch - i * 10 : 10;
		snprintf(inst_names[i], sizeof(inst_names[i]), "i%03d", i);
		in->id = inst_names[i];
		in->model = in->serial = in->owner = in->location = none;
		in->interval_ms = 1000;
		in->channels = calloc(n, sizeof(*in->channels));
		assert_non_null(in->channels);
		in->nchannels = n;
		for (int j = 0; j < n; j++) {
			struct cfg_channel *ch = &in->channels[j];
			ch->name = ch_names[j];
			ch->unit = none;
			ch->table = BUS_HOLDING_REGISTERS;
			ch->address = (uint16_t)(j * 2);
			decode_spec_init(&ch->spec, DECODE_FLOAT32);
			ch->index = (uint32_t)c->nchannels++;
		}
	}
	return c;
}

static void free_config(struct config *c)
{
	for (int i = 0; i < c->ninstruments; i++)
		free(c->instruments[i].channels);
	free(c->instruments);
	free(c);
}

static struct store *open_store(const char *path, int nch)
{
	char err[512];
	struct store *st = store_open(path, err, sizeof(err));
	struct config *c;

	if (st == NULL)
		fail_msg("store_open: %s", err);
	c = make_config(nch);
	if (store_sync_config(st, c) < 0)
		fail_msg("store_sync_config: %s", store_last_message(st));
	free_config(c);
	return st;
}

/* ---- the readings -------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rng(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * rounds readings of each of nch channels, round by round (as the poller
 * gives them): polled every second, late by up to 255 us, one in 50 a
 * timeout (no value); values float32 noise around 20 (f32) or any double
 * near 20 (more bytes a reading: blocks of 64 then weigh more).
 */
static struct sample *make_readings(int nch, int rounds, bool f32)
{
	size_t n = (size_t)nch * (size_t)rounds;
	struct sample *s = calloc(n, sizeof(*s));

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next_rng();
		double v = 20.0 + (double)(r >> 11) * 0x1p-53;
		s[i] = (struct sample){
		        .ts_us = T0 + (int64_t)(i / (size_t)nch) * SEC +
		                 (int64_t)(r & 255),
		        .index = (uint32_t)(i % (size_t)nch),
		        .kind = SAMPLE_READING,
		        .quality =
		                r % 50 == 7 ? QUALITY_TIMEOUT : QUALITY_GOOD};
		if (s[i].quality == QUALITY_GOOD)
			s[i].value =
			        f32 ? (double)(float)(20.0 + (v - 20.5) * 0.002)
			            : v;
	}
	return s;
}

static void append_ok(struct store *st, const struct sample *s, size_t n)
{
	if (store_append(st, s, n) < 0)
		fail_msg("store_append: %s", store_last_message(st));
}

static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path, false);
	long long v = -1;

	if (sql_first_int(db, sql, &v) < 0)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return v;
}

/* The first n readings of s (nch channels, round by round) are exactly
 * the readings view's rows, in (channel, ts) order. */
static void assert_readings(const char *path, const struct sample *s, size_t n,
                            int nch)
{
	sqlite3 *db = sql_open(path, false);
	sqlite3_stmt *q, *ids;
	int64_t *id = calloc((size_t)nch, sizeof(*id));
	size_t got = 0;

	assert_non_null(id);
	/* channel row ids by config index: instrument iNNN, channel cK */
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT substr(i.name, 2) * 10 +"
	                                    " substr(c.name, 2), c.id"
	                                    " FROM channels c JOIN instruments"
	                                    " i ON i.id = c.instrument_id",
	                                    -1, &ids, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(ids) == SQLITE_ROW) {
		int k = sqlite3_column_int(ids, 0);
		assert_true(k >= 0 && k < nch);
		id[k] = sqlite3_column_int64(ids, 1);
	}
	sqlite3_finalize(ids);
	for (int k = 1; k < nch; k++)
		assert_true(id[k] >
		            id[k - 1]); /* the view's order is index's */
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT channel, ts, value, quality"
	                                    " FROM readings ORDER BY channel,"
	                                    " ts",
	                                    -1, &q, NULL),
	                 SQLITE_OK);
	for (size_t c = 0; c < (size_t)nch; c++)
		for (size_t i = c; i < n; i += (size_t)nch) {
			const struct sample *e = &s[i];
			double v;
			assert_int_equal(sqlite3_step(q), SQLITE_ROW);
			v = sqlite3_column_double(q, 2);
			if (sqlite3_column_int64(q, 0) != id[c] ||
			    sqlite3_column_int64(q, 1) != e->ts_us ||
			    sqlite3_column_int(q, 3) != e->quality ||
			    (sqlite3_column_type(q, 2) == SQLITE_NULL) !=
			            (e->quality != QUALITY_GOOD) ||
			    (e->quality == QUALITY_GOOD &&
			     memcmp(&v, &e->value, sizeof(v)) != 0))
				fail_msg("reading %zu (channel %zu) differs", i,
				         c);
			got++;
		}
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	assert_int_equal(got, n);
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(id);
}

/*
 * Every block decodes to its n readings, takes at most the target and
 * ARCHIVE_BLOCK_MAX readings, and the channel's blocks do not overlap.
 * Returns the count of small blocks (ARCHIVE_SMALL_SLACK bytes or more
 * under the target) that another of their channel follows and that are
 * not full: with the next block's first reading they would still fit
 * (a block cut by size, and within a reading of the target, is full).
 */
static long assert_blocks_cut(const char *path)
{
	sqlite3 *db = sql_open(path, false);
	sqlite3_stmt *s;
	struct gorilla_point *cur = calloc(ARCHIVE_BLOCK_MAX + 1, sizeof(*cur));
	struct gorilla_point *nxt = calloc(ARCHIVE_BLOCK_MAX + 1, sizeof(*nxt));
	uint8_t *buf = malloc(gorilla_bound(ARCHIVE_BLOCK_MAX + 1));
	size_t target, n = 0, m, len, prev = 0;
	int64_t ch = -1;
	long not_full = 0;

	assert_non_null(cur);
	assert_non_null(nxt);
	assert_non_null(buf);
	target = archive_block_target(sql_int(path, "PRAGMA page_size"));
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT channel, n, data FROM"
	                                    " archive_blocks ORDER BY channel,"
	                                    " ts_first",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const uint8_t *data = sqlite3_column_blob(s, 2);
		size_t bytes = (size_t)sqlite3_column_bytes(s, 2);
		struct gorilla_point *t;
		assert_true(bytes <= target);
		assert_int_equal(
		        gorilla_decode(data, bytes, nxt, ARCHIVE_BLOCK_MAX, &m),
		        0);
		assert_int_equal(m, sqlite3_column_int64(s, 1));
		if (sqlite3_column_int64(s, 0) == ch) {
			/* the block before, with this one's first reading */
			assert_true(nxt[0].ts_us > cur[n - 1].ts_us);
			cur[n] = nxt[0];
			assert_int_equal(gorilla_encode(cur, n + 1, buf,
			                                gorilla_bound(n + 1),
			                                &len),
			                 0);
			if (len <= target && n < ARCHIVE_BLOCK_MAX &&
			    prev + ARCHIVE_SMALL_SLACK < target)
				not_full++;
		}
		ch = sqlite3_column_int64(s, 0);
		prev = bytes;
		t = cur;
		cur = nxt;
		nxt = t;
		n = m;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(cur);
	free(nxt);
	free(buf);
	return not_full;
}

/* ---- tests --------------------------------------------------------------- */

/* nch channels, rounds readings of each, through the store: after its
 * moves (of 66,000 readings: the batch that crossed 65,536 rows), every
 * block but a channel's last is full, and every reading comes back. */
static void cut_by_size(int nch, int rounds, int moves)
{
	char path[H_PATH_MAX];
	struct sample *s = make_readings(nch, rounds, true);
	struct store *st;

	h_path(path, h_tmpdir(), "cut.db");
	st = open_store(path, nch);
	for (size_t i = 0; i < (size_t)nch * (size_t)rounds; i += BATCH)
		append_ok(st, s + i, BATCH);
	store_close(st);
	assert_int_equal(sql_int(path, "SELECT sum(n) FROM archive_blocks"),
	                 moves * 66000);
	assert_int_equal(assert_blocks_cut(path), 0);
	/* blocks hold more than 1,024 readings: the size, not a count */
	assert_true(sql_int(path, "SELECT min(n) FROM archive_blocks a WHERE"
	                          " ts_first < (SELECT max(ts_first) FROM"
	                          " archive_blocks b WHERE b.channel ="
	                          " a.channel)") > 1024);
	assert_readings(path, s, (size_t)nch * (size_t)rounds, nch);
	free(s);
	db_assert_integrity(path);
	unlink(path);
}

/* A few channels: each move brings 13,200 readings of each, cut into
 * blocks that fill a page, the channel's small last block merged with the
 * next move's run. */
static void test_cut_by_size(void **state)
{
	(void)state;
	cut_by_size(5, 60000, 4);
}

/* One channel: a move's 66,000 readings of it are flushed in parts of
 * ARCHIVE_BLOCK_MAX, each part's small last block taken back by the next
 * part. */
static void test_cut_one_channel(void **state)
{
	(void)state;
	cut_by_size(1, 140000, 2);
}

/* The readings of the view: count and sum(ts - T0), into v[2]. */
static void view_sums(sqlite3 *db, int64_t v[2])
{
	sqlite3_stmt *q;

	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT count(*), sum(ts - ?1)"
	                                    " FROM readings",
	                                    -1, &q, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(q, 1, T0);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v[0] = sqlite3_column_int64(q, 0);
	v[1] = sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
}

/*
 * The move in turns (issue 15): 250 channels, 65,536 rows start a turn,
 * and each commit moves the next range of channels, about a 32nd of them
 * (2,048 rows, a channel's run more at most), never a whole move. After
 * every commit the view gives each reading exactly once (its count and
 * sum of times are those written), whether the reading is in the archive,
 * among the rows not moved, or among the moved rows readings_recent still
 * holds; those are deleted from the table's start, so the table stays
 * within about two moves. In the end the view is exactly the readings.
 */
static void test_move_in_turns(void **state)
{
	enum { NCH = 250, ROUNDS = 800, MOVE = 65536, STEP = MOVE / 32 };
	char path[H_PATH_MAX];
	struct sample *s = make_readings(NCH, ROUNDS, true);
	size_t total = (size_t)NCH * ROUNDS;
	int64_t want[2] = {0, 0}, got[2];
	long long archived = 0, now = 0, turn = 0, turns = 0, was = 0;
	struct store *st;
	sqlite3 *db;

	(void)state;
	h_path(path, h_tmpdir(), "turns.db");
	st = open_store(path, NCH);
	db = sql_open(path, false);
	for (size_t done = 0; done < total; done += BATCH) {
		append_ok(st, s + done, BATCH);
		for (size_t i = done; i < done + BATCH; i++) {
			want[0]++;
			want[1] += s[i].ts_us - T0;
		}
		view_sums(db, got);
		assert_memory_equal(got, want, sizeof(want));
		assert_int_equal(sql_first_int(db,
		                               "SELECT count(*) FROM"
		                               " readings_archive",
		                               &now),
		                 1);
		/* a range of channels: its share, and a channel's run */
		if (now - archived > STEP + 2 * MOVE / NCH)
			fail_msg("a commit moved %lld rows", now - archived);
		archived = now;
		assert_int_equal(sql_first_int(db,
		                               "SELECT turn_upto > upto FROM"
		                               " recent_moved",
		                               &turn),
		                 1);
		turns += turn && !was;
		was = turn;
		assert_int_equal(sql_first_int(db,
		                               "SELECT count(*) FROM"
		                               " readings_recent",
		                               &now),
		                 1);
		assert_true(now <= 2 * MOVE + 32 * BATCH);
	}
	assert_true(archived >= 2 * MOVE); /* turns were made */
	assert_true(turns >= 2);
	sqlite3_close(db);
	store_close(st);
	assert_readings(path, s, total, NCH);
	free(s);
	db_assert_integrity(path);
}

/* A clock stepped back within a turn: a channel's waiting readings go
 * back in time, half of them to times of readings that wait too (doubles
 * that are not float32: the wide keys of pointbuf.h). They are moved in
 * time order, and of two at one time the later one is kept. */
static void test_clock_back_in_a_turn(void **state)
{
	enum { NCH = 10, ROUNDS = 300, BACK = 100, FIRST = 200 };
	char path[H_PATH_MAX];
	struct sample *s = make_readings(NCH, ROUNDS, false);
	struct sample *again = calloc((size_t)NCH * ROUNDS, sizeof(*again));
	struct store *st;

	(void)state;
	assert_non_null(again);
	memcpy(again, s, (size_t)NCH * ROUNDS * sizeof(*s));
	for (size_t i = (size_t)NCH * BACK; i < (size_t)NCH * ROUNDS; i++)
		if (again[i].quality == QUALITY_GOOD)
			again[i].value += 1.0;
	h_path(path, h_tmpdir(), "back.db");
	st = open_store(path, NCH);
	/* rounds 0 .. FIRST - 1, then BACK .. ROUNDS - 1 again */
	append_ok(st, s, (size_t)NCH * FIRST);
	append_ok(st, again + NCH * BACK, (size_t)NCH * (ROUNDS - BACK));
	assert_int_equal(sql_int(path, "SELECT count(*) FROM archive_blocks"),
	                 0);
	assert_int_equal(store_archive_all(st), 0);
	store_close(st);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM readings_recent"
	                               " WHERE rowid > (SELECT upto FROM"
	                               " recent_moved)"),
	                 0);
	/* rounds 0 .. BACK - 1 as first written, the others as written again */
	assert_readings(path, again, (size_t)NCH * ROUNDS, NCH);
	assert_blocks_cut(path);
	free(again);
	free(s);
	db_assert_integrity(path);
}

/* Rows of readings_recent another connection deletes while the store
 * holds them in memory for the next turn (as test_collector_replay's
 * retention by hand does) are not moved into the archive: the store reads
 * the rows again once another connection committed. */
static void test_deleted_by_another(void **state)
{
	enum { NCH = 10, ROUNDS = 8000, GONE = 10000 };
	char path[H_PATH_MAX], sql[128];
	struct sample *s = make_readings(NCH, ROUNDS, true);
	size_t total = (size_t)NCH * ROUNDS;
	struct store *st;

	(void)state;
	h_path(path, h_tmpdir(), "another.db");
	st = open_store(path, NCH);
	for (size_t i = 0; i < total / 2; i += BATCH)
		append_ok(st, s + i, BATCH);
	snprintf(sql, sizeof(sql),
	         "DELETE FROM readings_recent WHERE rowid <= %d", GONE);
	db_exec(path, sql);
	for (size_t i = total / 2; i < total; i += BATCH)
		append_ok(st, s + i, BATCH);
	assert_int_equal(store_archive_all(st), 0);
	store_close(st);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM readings"),
	                 (int64_t)total - GONE);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM"
	                               " readings_archive"),
	                 (int64_t)total - GONE);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM readings WHERE ts < %lld",
	         (long long)(T0 + GONE / NCH * SEC));
	assert_int_equal(sql_int(path, sql), 0);
	free(s);
	db_assert_integrity(path);
}

/* The store's child: append s[from, n) in batches, saying on fd the
 * readings committed once open (from), then after each batch. Never
 * returns. */
static void writer(const char *path, int nch, const struct sample *s,
                   size_t from, size_t n, int fd)
{
	char err[512];
	struct store *st = store_open(path, err, sizeof(err));
	struct config *c = make_config(nch);

	int64_t ready = (int64_t)from;

	if (st == NULL || store_sync_config(st, c) < 0 ||
	    write(fd, &ready, sizeof(ready)) != sizeof(ready))
		_exit(2);
	for (size_t i = from; i < n; i += BATCH) {
		int64_t done = (int64_t)(i + BATCH);
		if (store_append(st, s + i, BATCH) < 0 ||
		    write(fd, &done, sizeof(done)) != sizeof(done))
			_exit(3);
	}
	_exit(0);
}

/*
 * Many channels (1,250): each move brings 64 readings of each, a small
 * block, merged into full ones as they add up. A child writes and is
 * killed (SIGKILL) as it starts a batch that moves, three times, once
 * merges are under way: each time the file holds whole batches only, every
 * reading exactly, blocks that do not overlap; then the rest is written.
 * In the end most readings are in merged blocks.
 */
static void test_merge_sigkill(void **state)
{
	enum { NCH = 1250, ROUNDS = 64 * 16, MOVE = 64 * NCH };
	char path[H_PATH_MAX];
	struct sample *s = make_readings(NCH, ROUNDS, false);
	size_t total = (size_t)NCH * ROUNDS, done = 0;
	struct store *st;
	int midturn = 0;

	(void)state;
	h_path(path, h_tmpdir(), "merge.db");
	st = open_store(path, NCH);
	/* 10 moves: each channel's blocks of 64 (about 490 bytes) reach a
	 * block's worth (4,026 bytes) in the 9th */
	for (; done < (size_t)MOVE * 10; done += BATCH)
		append_ok(st, s + done, BATCH);
	store_close(st);
	assert_true(sql_int(path, "SELECT count(*) FROM archive_blocks"
	                          " WHERE n > 64") > 0); /* merged already */
	for (int kill_round = 0; kill_round < 3; kill_round++) {
		int64_t recent = sql_int(path, "SELECT (SELECT count(*) FROM"
		                               " readings) - (SELECT count(*)"
		                               " FROM readings_archive)");
		bool turn = sql_int(path, "SELECT turn_upto > upto FROM"
		                          " recent_moved") == 1;
		/* a batch in a turn: one starts once MOVE rows wait, and
		 * takes about 32 batches */
		size_t upto = done + (size_t)BATCH * (4 + 8 * kill_round);
		if (!turn)
			upto += ((size_t)MOVE - (size_t)recent + BATCH - 1) /
			        BATCH * BATCH;
		int64_t said = 0;
		int fds[2], status;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			writer(path, NCH, s, done, total, fds[1]);
		}
		close(fds[1]);
		while ((size_t)said < upto &&
		       read(fds[0], &said, sizeof(said)) == sizeof(said))
			;
		assert_int_equal(said, upto);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		close(fds[0]);
		db_assert_integrity(path);
		done = (size_t)sql_int(path, "SELECT count(*) FROM readings");
		/* the batch that moves is there whole or not at all */
		assert_true(done >= upto && (done - upto) % BATCH == 0);
		assert_readings(path, s, done, NCH);
		assert_int_equal(
		        sql_int(path, "SELECT count(*) FROM archive_blocks a"
		                      " JOIN archive_blocks b ON b.channel ="
		                      " a.channel AND b.ts_first > a.ts_first"
		                      " AND b.ts_first <= a.ts_last"),
		        0);
		assert_int_equal(sql_int(path, "SELECT sum(n) FROM"
		                               " archive_blocks"),
		                 sql_int(path, "SELECT count(*) FROM"
		                               " readings_archive"));
		/* killed in a turn: the next store goes on with it */
		midturn += sql_int(path, "SELECT turn_upto > upto FROM"
		                         " recent_moved") == 1;
	}
	assert_true(midturn >= 2);
	st = open_store(path, NCH);
	for (; done < total; done += BATCH)
		append_ok(st, s + done, BATCH);
	store_close(st);
	assert_readings(path, s, total, NCH);
	assert_blocks_cut(path);
	/* most readings are in merged blocks, not in blocks of 64 */
	assert_true(2 * sql_int(path, "SELECT sum(n) FROM archive_blocks"
	                              " WHERE n > 64") >
	            sql_int(path, "SELECT sum(n) FROM archive_blocks"));
	free(s);
	db_assert_integrity(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_cut_by_size, h_teardown),
	        cmocka_unit_test_teardown(test_cut_one_channel, h_teardown),
	        cmocka_unit_test_teardown(test_move_in_turns, h_teardown),
	        cmocka_unit_test_teardown(test_clock_back_in_a_turn,
	                                  h_teardown),
	        cmocka_unit_test_teardown(test_deleted_by_another, h_teardown),
	        cmocka_unit_test_teardown(test_merge_sigkill, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
