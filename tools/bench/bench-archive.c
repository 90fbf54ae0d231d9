/*
 * bench-archive - how many bytes a reading takes in the archive, and what
 * encoding and decoding its blocks cost (docs/BENCHMARKS.md, "Archive";
 * gateway/core/gorilla.h is the format).
 *
 * The signals are the simulator's (firmware/port/host/physics.c): nominal
 * + noise x N(0,1), read as float32 (as metrolog-sim's registers hold
 * them) and widened to double as the poller decodes them; polled every
 * second, each poll late by an exponentially distributed jitter (the
 * poller's lateness: p50 <= 128 us, p99 <= 512 us in docs/BENCHMARKS.md,
 * "Gateway"), one poll in 1000 missed and one reading in 100 a timeout
 * (no value), as bench-store writes them.
 *
 *   bench-archive codec [POINTS]
 *       for each signal, jitter and block size (64: a move at 10,000
 *       channels; 1024: the most the store puts in a block): bytes per
 *       reading of the blocks alone, and encode / decode rates.
 *
 *   bench-archive db FILE [READINGS [CHANNELS [NOISE [JITTER_US [PAGE]]]]]
 *       a new SQLite file with the same readings (default 1,000,000 over
 *       10 channels, noise 0.01, jitter 100 us) three ways, each filled
 *       as the store's moves fill it (rounds of 64 readings of every
 *       channel, each round sorted by channel and time): the table
 *       readings_archive of schema 7 (WITHOUT ROWID, PRIMARY KEY
 *       (channel, ts)), and archive_blocks (schema 8: a rowid table and
 *       its index archive_blocks_key) with blocks of 64 and of 1024,
 *       and two layouts the store does not write: blocks of 4096 (larger
 *       than a page: SQLite keeps a row's first 489-4,061 bytes in the
 *       table's page and the rest in overflow pages) and blocks of 1024
 *       halved until each takes at most 1,300 bytes (three rows fill a
 *       page of 4,096 bytes; a row of 2-4 KB takes a page alone);
 *       bytes per reading on disk (dbstat: the pages of each table and
 *       its index), then one channel's readings read back in time order,
 *       through the old table and through the readings_archive virtual
 *       table (the archive's reader), best of 5. PAGE: the file's page
 *       size (default SQLite's, 4096).
 *
 *   bench-archive store FILE [READINGS [CHANNELS [NOISE [JITTER_US [PAGE]]]]]
 *       the store itself (store_open(), store_append() in batches of
 *       1,000, its moves into archive_blocks): a new file FILE with a
 *       config of CHANNELS channels (default 10), each given its readings
 *       round by round (all channels' k-th reading, then the (k+1)-th);
 *       bytes per archived reading on disk (dbstat over archive_blocks
 *       and its index, divided by sum(n)), the blocks' count and mean n,
 *       the slowest store_append() (a move), and one channel's archived
 *       readings read back in time order through readings_archive, best
 *       of 5.
 *
 * Threading: one thread.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "gorilla.h"
#include "sample.h"
#include "store.h"

#define T0_US 1767225600000000LL /* 2026-01-01T00:00:00Z */
#define SEC   1000000LL

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 1.0) * 0x1.0p-53;
}

static double gauss(void)
{
	return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The next reading of a float32 channel at nominal with noise sd,
 * polled at 1 s (*slot: its poll, advanced), late by an exponential
 * jitter of mean jitter_us. */
static void lab_point(struct gorilla_point *p, int64_t *slot, double nominal,
                      double sd, double jitter_us)
{
	if (uniform() < 0.001)
		(*slot)++; /* a missed poll */
	p->ts_us = T0_US + *slot * SEC + (int64_t)(-jitter_us * log(uniform()));
	(*slot)++;
	p->quality = uniform() < 0.01 ? 1 : 0;
	p->has_value = p->quality == 0;
	p->value = p->has_value ? (double)(float)(nominal + sd * gauss()) : 0;
}

/* n readings of such a channel. */
static void lab_signal(struct gorilla_point *p, size_t n, double nominal,
                       double sd, double jitter_us)
{
	int64_t slot = 0;

	for (size_t k = 0; k < n; k++)
		lab_point(&p[k], &slot, nominal, sd, jitter_us);
}

static int codec_line(const char *name, double sd, double jitter_us,
                      size_t block, size_t n)
{
	struct gorilla_point *p = calloc(n, sizeof(*p));
	struct gorilla_point *back = calloc(block, sizeof(*back));
	uint8_t *buf = malloc(gorilla_bound(block));
	size_t bytes = 0, len, got;
	double t0, t_enc = 0, t_dec = 0;

	if (p == NULL || back == NULL || buf == NULL)
		return -1;
	lab_signal(p, n, 20.5, sd, jitter_us);
	for (size_t at = 0; at < n; at += block) {
		size_t m = n - at < block ? n - at : block;
		t0 = now_s();
		if (gorilla_encode(p + at, m, buf, gorilla_bound(block), &len))
			return -1;
		t_enc += now_s() - t0;
		t0 = now_s();
		if (gorilla_decode(buf, len, back, block, &got) || got != m ||
		    back[m - 1].ts_us != p[at + m - 1].ts_us)
			return -1;
		t_dec += now_s() - t0;
		bytes += len;
	}
	printf("%-22s noise %-7g jitter %5.0f us  block %5zu: %5.2f "
	       "bytes/reading"
	       "  encode %5.1f M/s  decode %5.1f M/s\n",
	       name, sd, jitter_us, block, (double)bytes / (double)n,
	       (double)n / t_enc * 1e-6, (double)n / t_dec * 1e-6);
	free(p);
	free(back);
	free(buf);
	return 0;
}

static int codec(size_t n)
{
	static const double noise[] = {0, 0.0001, 0.001, 0.01};
	static const double jitter[] = {100, 1000};
	static const size_t blocks[] = {64, 1024};

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 2; j++)
			for (size_t b = 0; b < 2; b++)
				if (codec_line(i == 0 ? "float32 20.5 constant"
				                      : "float32 20.5 + noise",
				               noise[i], jitter[j], blocks[b],
				               n) < 0) {
					fprintf(stderr, "codec failed\n");
					return -1;
				}
	return 0;
}

/* ---- db ------------------------------------------------------------------ */

#define ROUND 64 /* readings of a channel per move at 10,000 channels */

static const char schema_sql[] =
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
        "CREATE TABLE old_archive (channel INTEGER NOT NULL,"
        " ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL,"
        " PRIMARY KEY (channel, ts)) WITHOUT ROWID;"
        "CREATE TABLE archive_blocks (id INTEGER PRIMARY KEY,"
        " channel INTEGER NOT NULL, ts_first INTEGER NOT NULL,"
        " ts_last INTEGER NOT NULL, n INTEGER NOT NULL,"
        " data BLOB NOT NULL);"
        "CREATE UNIQUE INDEX archive_blocks_key ON archive_blocks (channel, "
        "ts_first);"
        "CREATE TABLE blocks64 (id INTEGER PRIMARY KEY,"
        " channel INTEGER NOT NULL, ts_first INTEGER NOT NULL,"
        " ts_last INTEGER NOT NULL, n INTEGER NOT NULL,"
        " data BLOB NOT NULL);"
        "CREATE UNIQUE INDEX blocks64_key ON blocks64 (channel, ts_first);"
        "CREATE TABLE blocks4k (id INTEGER PRIMARY KEY,"
        " channel INTEGER NOT NULL, ts_first INTEGER NOT NULL,"
        " ts_last INTEGER NOT NULL, n INTEGER NOT NULL,"
        " data BLOB NOT NULL);"
        "CREATE UNIQUE INDEX blocks4k_key ON blocks4k (channel, ts_first);"
        "CREATE TABLE blocks1300 (id INTEGER PRIMARY KEY,"
        " channel INTEGER NOT NULL, ts_first INTEGER NOT NULL,"
        " ts_last INTEGER NOT NULL, n INTEGER NOT NULL,"
        " data BLOB NOT NULL);"
        "CREATE UNIQUE INDEX blocks1300_key ON blocks1300 (channel,"
        " ts_first);";

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench-archive: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		die(db, sql);
	return s;
}

/* Insert the n points p of channel ch as one block, or, when cap > 0
 * and its encoding is longer, as two halves, each cut again the same
 * way. */
static void put_block(sqlite3 *db, sqlite3_stmt *ins, int64_t ch,
                      const struct gorilla_point *p, size_t n, size_t cap)
{
	static uint8_t *buf; /* room for the largest block, 4096 points */
	size_t len;

	if (buf == NULL && (buf = malloc(gorilla_bound(4096))) == NULL)
		die(db, "malloc");
	if (gorilla_encode(p, n, buf, gorilla_bound(4096), &len) < 0)
		die(db, "encode");
	if (cap > 0 && len > cap && n > 1) {
		put_block(db, ins, ch, p, n / 2, cap);
		put_block(db, ins, ch, p + n / 2, n - n / 2, cap);
		return;
	}
	sqlite3_bind_int64(ins, 1, ch);
	sqlite3_bind_int64(ins, 2, p[0].ts_us);
	sqlite3_bind_int64(ins, 3, p[n - 1].ts_us);
	sqlite3_bind_int64(ins, 4, (sqlite3_int64)n);
	sqlite3_bind_blob(ins, 5, buf, (int)len, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		die(db, "insert block");
	sqlite3_reset(ins);
}

static void put_rows(sqlite3 *db, sqlite3_stmt *ins, int64_t ch,
                     const struct gorilla_point *p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		sqlite3_bind_int64(ins, 1, ch);
		sqlite3_bind_int64(ins, 2, p[k].ts_us);
		if (p[k].has_value)
			sqlite3_bind_double(ins, 3, p[k].value);
		else
			sqlite3_bind_null(ins, 3);
		sqlite3_bind_int64(ins, 4, p[k].quality);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die(db, "insert row");
		sqlite3_reset(ins);
	}
}

/* Every channel's readings, moved in rounds of ROUND as the store does;
 * blocks of 1024 and 4096 gathered over rounds. */
static void fill(sqlite3 *db, struct gorilla_point **sig, size_t per,
                 int channels)
{
	sqlite3_stmt *old = prep(db, "INSERT INTO old_archive VALUES"
	                             " (?1, ?2, ?3, ?4)");
	sqlite3_stmt *b64 = prep(db, "INSERT INTO blocks64 (channel, ts_first,"
	                             " ts_last, n, data) VALUES"
	                             " (?1, ?2, ?3, ?4, ?5)");
	sqlite3_stmt *b1k = prep(db, "INSERT INTO archive_blocks (channel,"
	                             " ts_first, ts_last, n, data) VALUES"
	                             " (?1, ?2, ?3, ?4, ?5)");
	sqlite3_stmt *b4k = prep(db, "INSERT INTO blocks4k (channel,"
	                             " ts_first, ts_last, n, data) VALUES"
	                             " (?1, ?2, ?3, ?4, ?5)");
	sqlite3_stmt *bcap = prep(db, "INSERT INTO blocks1300 (channel,"
	                              " ts_first, ts_last, n, data) VALUES"
	                              " (?1, ?2, ?3, ?4, ?5)");

	for (size_t at = 0; at < per; at += ROUND) {
		size_t m = per - at < ROUND ? per - at : ROUND;
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			die(db, "begin");
		for (int c = 0; c < channels; c++) {
			put_rows(db, old, c + 1, sig[c] + at, m);
			put_block(db, b64, c + 1, sig[c] + at, m, 0);
			if ((at + m) % 1024 == 0 || at + m == per) {
				size_t from = (at + m - 1) / 1024 * 1024;
				put_block(db, b1k, c + 1, sig[c] + from,
				          at + m - from, 0);
				put_block(db, bcap, c + 1, sig[c] + from,
				          at + m - from, 1300);
			}
			if ((at + m) % 4096 == 0 || at + m == per) {
				size_t from = (at + m - 1) / 4096 * 4096;
				put_block(db, b4k, c + 1, sig[c] + from,
				          at + m - from, 0);
			}
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			die(db, "commit");
	}
	sqlite3_finalize(old);
	sqlite3_finalize(b64);
	sqlite3_finalize(b1k);
	sqlite3_finalize(b4k);
	sqlite3_finalize(bcap);
}

/* The bytes of table name and its indexes (name_key). */
static double table_bytes(sqlite3 *db, const char *name)
{
	char sql[160];
	sqlite3_stmt *s;
	double v;

	snprintf(sql, sizeof(sql),
	         "SELECT sum(pgsize) FROM dbstat WHERE name IN ('%s',"
	         " '%s_key')",
	         name, name);
	s = prep(db, sql);
	if (sqlite3_step(s) != SQLITE_ROW)
		die(db, sql);
	v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Best of 5: seconds to read channel ch's readings in time order. */
static double read_time(sqlite3 *db, const char *sql, int64_t ch,
                        long long *rows)
{
	sqlite3_stmt *s = prep(db, sql);
	double best = 1e9;

	for (int r = 0; r < 5; r++) {
		double t0 = now_s(), sum = 0;
		*rows = 0;
		sqlite3_bind_int64(s, 1, ch);
		while (sqlite3_step(s) == SQLITE_ROW) {
			sum += sqlite3_column_double(s, 1);
			(*rows)++;
		}
		sqlite3_reset(s);
		if (now_s() - t0 < best)
			best = now_s() - t0;
		if (sum == 42.4242)
			printf("%g\n", sum); /* keep the loop's work */
	}
	sqlite3_finalize(s);
	return best;
}

static int db_bench(const char *path, long readings, int channels, double noise,
                    double jitter, long page)
{
	char pragma[64];
	size_t per = (size_t)(readings / channels);
	struct gorilla_point **sig = calloc((size_t)channels, sizeof(*sig));
	sqlite3 *db;
	long long n_old, n_new;

	if (sig == NULL || store_archive_auto() < 0)
		return -1;
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(db, path);
	snprintf(pragma, sizeof(pragma), "PRAGMA page_size = %ld", page);
	if ((page > 0 &&
	     sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) ||
	    sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, "schema");
	for (int c = 0; c < channels; c++) {
		sig[c] = calloc(per, sizeof(**sig));
		if (sig[c] == NULL)
			return -1;
		lab_signal(sig[c], per, 20.5 + 0.1 * c, noise, jitter);
	}
	fill(db, sig, per, channels);
	double total = (double)per * channels;
	printf("%ld readings, %d channels, float32 noise %g, jitter %g us,"
	       " pages of %ld bytes\n",
	       (long)total, channels, noise, jitter, page > 0 ? page : 4096);
	printf("  readings_archive (schema 7)  %6.2f bytes/reading\n",
	       table_bytes(db, "old_archive") / total);
	printf("  archive_blocks, blocks of 64   %6.2f bytes/reading\n",
	       table_bytes(db, "blocks64") / total);
	printf("  archive_blocks, blocks of 1024 %6.2f bytes/reading\n",
	       table_bytes(db, "archive_blocks") / total);
	printf("  blocks of 4096 (not written by the store) %6.2f"
	       " bytes/reading\n",
	       table_bytes(db, "blocks4k") / total);
	printf("  blocks of 1024 cut to <= 1300 bytes (not written by the"
	       " store) %6.2f bytes/reading\n",
	       table_bytes(db, "blocks1300") / total);
	double t_old = read_time(db,
	                         "SELECT ts, value, quality FROM old_archive"
	                         " WHERE channel = ?1 ORDER BY ts",
	                         2, &n_old);
	double t_new = read_time(db,
	                         "SELECT ts, value, quality FROM"
	                         " readings_archive WHERE channel = ?1"
	                         " ORDER BY ts",
	                         2, &n_new);
	printf("  one channel read back (%lld rows): schema 7 %.1f ms"
	       " (%.2f M rows/s), blocks of 1024 %.1f ms (%.2f M rows/s)\n",
	       n_old, t_old * 1e3, (double)n_old / t_old * 1e-6, t_new * 1e3,
	       (double)n_new / t_new * 1e-6);
	for (int c = 0; c < channels; c++)
		free(sig[c]);
	free(sig);
	sqlite3_close(db);
	return n_old == n_new ? 0 : -1;
}

/* ---- store ----------------------------------------------------------------
 */

#define STORE_BATCH 1000 /* readings per store_append(), as the ingest */

/* A config of nch channels, 10 to an instrument, filled by hand: the
 * store reads only its layout. Free with free_config(). */
static struct config *make_config(int nch)
{
	static char none[] = "", names[10][4] = {"c0", "c1", "c2", "c3", "c4",
	                                         "c5", "c6", "c7", "c8", "c9"};
	struct config *c = calloc(1, sizeof(*c));
	int ninst = (nch + 9) / 10;

	if (c == NULL ||
	    (c->instruments = calloc(ninst, sizeof(*c->instruments))) == NULL)
		return NULL;
	c->ninstruments = ninst;
	c->nchannels = nch;
	for (int i = 0; i < ninst; i++) {
		struct cfg_instrument *in = &c->instruments[i];
		int n = nch - i * 10 < 10 ? nch - i * 10 : 10;
		if ((in->id = malloc(16)) == NULL ||
		    (in->channels = calloc(n, sizeof(*in->channels))) == NULL)
			return NULL;
		snprintf(in->id, 16, "inst%05d", i);
		in->model = in->serial = in->owner = in->location = none;
		in->nchannels = n;
		for (int j = 0; j < n; j++) {
			struct cfg_channel *ch = &in->channels[j];
			ch->name = names[j];
			ch->unit = none;
			ch->table = BUS_HOLDING_REGISTERS;
			ch->address = (uint16_t)(j * 2);
			decode_spec_init(&ch->spec, DECODE_FLOAT32);
			ch->index = (uint32_t)(i * 10 + j);
		}
	}
	return c;
}

static void free_config(struct config *c)
{
	for (int i = 0; i < c->ninstruments; i++) {
		free(c->instruments[i].id);
		free(c->instruments[i].channels);
	}
	free(c->instruments);
	free(c);
}

/* A new store file at path (pages of page bytes when page > 0) with a
 * config of channels channels. */
static struct store *new_store(const char *path, int channels, long page)
{
	char err[512], sql[96];
	struct store *st;
	struct config *c;
	sqlite3 *db;

	snprintf(sql, sizeof(sql), "%s-wal", path);
	unlink(sql);
	snprintf(sql, sizeof(sql), "%s-shm", path);
	unlink(sql);
	unlink(path);
	if (page > 0) {
		snprintf(sql, sizeof(sql),
		         "PRAGMA page_size = %ld; CREATE TABLE x (a);"
		         " DROP TABLE x;",
		         page);
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			die(db, "page size");
		sqlite3_close(db);
	}
	if ((st = store_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-archive: %s\n", err);
		exit(1);
	}
	if ((c = make_config(channels)) == NULL ||
	    store_sync_config(st, c) < 0) {
		fprintf(stderr, "bench-archive: config: %s\n",
		        store_last_message(st));
		exit(1);
	}
	free_config(c); /* the store keeps only the row ids */
	return st;
}

/* Every channel's per readings through store_append(), round by round;
 * the slowest call's seconds in *slowest. */
static void store_fill(struct store *st, int channels, long per, double noise,
                       double jitter, double *slowest)
{
	int64_t *slot = calloc((size_t)channels, sizeof(*slot));
	struct sample *buf = calloc(STORE_BATCH, sizeof(*buf));
	size_t n = 0;

	if (slot == NULL || buf == NULL)
		die(NULL, "calloc");
	*slowest = 0;
	for (long k = 0; k < per; k++)
		for (int c = 0; c < channels; c++) {
			struct gorilla_point p;
			lab_point(&p, &slot[c], 20.5 + 0.1 * (c % 10), noise,
			          jitter);
			buf[n] = (struct sample){.ts_us = p.ts_us,
			                         .index = (uint32_t)c,
			                         .kind = SAMPLE_READING,
			                         .quality = (uint8_t)p.quality,
			                         .value = p.value};
			if (++n < STORE_BATCH &&
			    (k < per - 1 || c < channels - 1))
				continue;
			double t0 = now_s();
			if (store_append(st, buf, n) < 0) {
				fprintf(stderr, "bench-archive: %s\n",
				        store_last_message(st));
				exit(1);
			}
			if (now_s() - t0 > *slowest)
				*slowest = now_s() - t0;
			n = 0;
		}
	free(slot);
	free(buf);
}

/* The integer of sql's first row. */
static long long sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = prep(db, sql);
	long long v;

	if (sqlite3_step(s) != SQLITE_ROW)
		die(db, sql);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int store_bench(const char *path, long readings, int channels,
                       double noise, double jitter, long page)
{
	struct store *st = new_store(path, channels, page);
	double slowest, t0 = now_s(), t;
	long long rows, ch;
	sqlite3 *db;

	store_fill(st, channels, readings / channels, noise, jitter, &slowest);
	t = now_s() - t0;
	store_close(st);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(db, path);
	long long archived = sql_int(db, "SELECT sum(n) FROM archive_blocks");
	long long blocks = sql_int(db, "SELECT count(*) FROM archive_blocks");
	printf("store: %ld readings, %d channels, float32 noise %g, jitter"
	       " %g us, pages of %lld bytes\n",
	       readings / channels * channels, channels, noise, jitter,
	       sql_int(db, "PRAGMA page_size"));
	printf("  archive_blocks: %lld readings in %lld blocks (mean n %.0f),"
	       " %6.2f bytes/reading\n",
	       archived, blocks, (double)archived / (double)blocks,
	       table_bytes(db, "archive_blocks") / (double)archived);
	printf("  %.1f s, %.0f readings/s; slowest store_append() %.0f ms\n", t,
	       (double)readings / t, slowest * 1e3);
	ch = sql_int(db,
	             "SELECT id FROM channels ORDER BY id LIMIT 1 OFFSET 1");
	t = read_time(db,
	              "SELECT ts, value, quality FROM readings_archive"
	              " WHERE channel = ?1 ORDER BY ts",
	              ch, &rows);
	printf("  one channel read back (%lld rows): %.1f ms (%.2f M rows/s)\n",
	       rows, t * 1e3, (double)rows / t * 1e-6);
	sqlite3_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "codec") == 0)
		return codec(argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000)
		               ? 1
		               : 0;
	if (argc >= 3 && strcmp(argv[1], "db") == 0)
		return db_bench(argv[2],
		                argc > 3 ? strtol(argv[3], NULL, 10) : 1000000,
		                argc > 4 ? atoi(argv[4]) : 10,
		                argc > 5 ? strtod(argv[5], NULL) : 0.01,
		                argc > 6 ? strtod(argv[6], NULL) : 100,
		                argc > 7 ? strtol(argv[7], NULL, 10) : 0)
		               ? 1
		               : 0;
	if (argc >= 3 && strcmp(argv[1], "store") == 0)
		return store_bench(argv[2],
		                   argc > 3 ? strtol(argv[3], NULL, 10)
		                            : 1000000,
		                   argc > 4 ? atoi(argv[4]) : 10,
		                   argc > 5 ? strtod(argv[5], NULL) : 0.01,
		                   argc > 6 ? strtod(argv[6], NULL) : 100,
		                   argc > 7 ? strtol(argv[7], NULL, 10) : 0)
		               ? 1
		               : 0;
	fprintf(stderr, "usage: bench-archive codec [POINTS]\n"
	                "       bench-archive db FILE [READINGS [CHANNELS"
	                " [NOISE [JITTER_US [PAGE]]]]]\n"
	                "       bench-archive store FILE [READINGS [CHANNELS"
	                " [NOISE [JITTER_US [PAGE]]]]]\n");
	return 2;
}
