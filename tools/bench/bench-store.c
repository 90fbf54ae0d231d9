/*
 * bench-store - how fast can SQLite take metrolog's readings, and what does
 * one channel's day cost to read back? (docs/BENCHMARKS.md, "SQLite store")
 *
 * It writes readings the way 1,000 instruments x 10 channels polled at 1 Hz
 * hand them to the ingest thread: round after round of simulated seconds,
 * every channel once per round, in batches of B samples per transaction, so
 * that consecutive rows belong to different channels; 1 reading in 100 is
 * a timeout (NULL value). It prints one line per segment of the run
 * (rows/s, CPU seconds per million rows, CPU % of one core, the slowest
 * batch, RSS, file size), then reads one channel over the last simulated
 * day (or all of it, if shorter) on a fresh connection (cold SQLite cache,
 * warm OS cache), and again (warm).
 *
 * Layouts (--layout):
 *   a      readings: rowid table + INDEX (channel, ts)
 *   b      readings: WITHOUT ROWID, PRIMARY KEY (channel, ts)
 *   c      readings_recent: rowid table, no index, appended to;
 *          readings_archive: WITHOUT ROWID, PRIMARY KEY (channel, ts);
 *          when recent holds --move rows, the batch that got it there
 *          also moves them all into the archive sorted by (channel, ts)
 *   d      as c, but recent is WITHOUT ROWID, PRIMARY KEY (part, ts,
 *          channel) with part = channel % --parts, and one part at a time
 *          moves (when it holds --move / --parts rows): smaller stalls
 *   store  the real thing, gateway/src/store.c through store.h (layout c
 *          with the store's own threshold)
 *   cb     as c, but the archive in compressed blocks (archive_blocks,
 *          gateway/core/gorilla.c), as the store moves today: when recent
 *          holds --move rows, all of them are read ORDER BY channel, ts,
 *          each channel's run encoded, recent emptied (DELETE FROM)
 *   eb     recent cut into --parts rowid tables by channel range (each
 *          appended to at its own end); while they hold --move rows in
 *          all, each batch moves the next part in turn: read in rowid
 *          order, grouped by channel in memory (no SQL sort), encoded into
 *          archive_blocks, the part emptied (DELETE FROM): an incremental
 *          move that needs a schema with one table per part
 * --rate R paces the writes at R rows/s (the CPU % column is then the cost
 * of that load); --reuse goes on writing into an existing file (e.g. one
 * filled by an earlier run with --keep).
 *
 * Layouts a-d, cb and eb talk to SQLite directly, so this is the one program
 * besides the store module that includes sqlite3.h: it measures SQLite itself.
 *
 * Threading: one thread.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "config.h"
#include "gorilla.h"
#include "sample.h"
#include "store.h"

#define T0_US 1700000000000000LL
#define BLOCK_MAX                                                              \
	1024 /* readings per block, as the store */ /* 2023-11-14, start of    \
	                                               simulated time */
#define DAY_US 86400000000LL

struct opts {
	const char *layout;
	const char *db;
	long long rows;
	int channels;
	int batch;
	int cache_kib;
	long move;   /* c, d: rows in recent that trigger a move */
	int parts;   /* d */
	double rate; /* rows/s, 0: as fast as possible */
	int seconds;
	int segments;
	bool keep, reuse;
};

/* eb: a row of a part being moved */
struct brow {
	int ch;
	struct gorilla_point p;
};

struct bench {
	const struct opts *o;
	long long first; /* number of the first reading (--reuse) */
	sqlite3 *db;
	sqlite3_stmt *ins, *count, *move, *clear;
	long *part_rows, *delta; /* d: rows per part, committed / pending */
	struct store *st;
	struct sample *buf;
	/* cb, eb: statements per part (cb: one), the archive's */
	sqlite3_stmt **pins, **pread, **pclear, *arc_last, *arc_ins;
	int turn;          /* eb: the part the next move looks at first */
	struct brow *rows; /* eb: the part being moved */
	size_t nrows, rows_cap;
	struct gorilla_point *run;
	uint8_t *blk;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double rss_mib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident * (double)sysconf(_SC_PAGESIZE) / 1048576;
}

/* The database and its WAL. */
static double file_mib(const char *path)
{
	char wal[1024];
	struct stat sb;
	double mib = 0;

	if (stat(path, &sb) == 0)
		mib += sb.st_size / 1048576.0;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) == 0)
		mib += sb.st_size / 1048576.0;
	return mib;
}

static void remove_db(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm"};
	char p[1024];

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench-store: %s: %s\n", what,
	        db ? sqlite3_errmsg(db) : "failed");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
	                       NULL) != SQLITE_OK)
		die(db, sql);
	return s;
}

static void run(sqlite3 *db, sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die(db, sqlite3_sql(s));
	sqlite3_reset(s);
}

#define ARCHIVE                                                                \
	"CREATE TABLE readings_archive(channel INTEGER NOT NULL,"              \
	" ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL,"          \
	" PRIMARY KEY(channel, ts)) WITHOUT ROWID;"                            \
	"CREATE VIEW readings AS"                                              \
	" SELECT channel, ts, value, quality FROM readings_archive"            \
	" UNION ALL"                                                           \
	" SELECT channel, ts, value, quality FROM readings_recent;"

static const struct layout {
	const char *name, *schema, *insert, *move, *clear;
} layouts[] = {
        {"a",
         "CREATE TABLE readings(channel INTEGER NOT NULL,"
         " ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL);"
         "CREATE INDEX readings_channel_ts ON readings(channel, ts);",
         "INSERT INTO readings VALUES(?1, ?2, ?3, ?4)", NULL, NULL},
        {"b",
         "CREATE TABLE readings(channel INTEGER NOT NULL,"
         " ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL,"
         " PRIMARY KEY(channel, ts)) WITHOUT ROWID;",
         "INSERT OR REPLACE INTO readings VALUES(?1, ?2, ?3, ?4)", NULL, NULL},
        {"c",
         "CREATE TABLE readings_recent(channel INTEGER NOT NULL,"
         " ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL);" ARCHIVE,
         "INSERT INTO readings_recent VALUES(?1, ?2, ?3, ?4)",
         "INSERT OR REPLACE INTO readings_archive"
         " SELECT channel, ts, value, quality FROM readings_recent"
         " ORDER BY channel, ts",
         "DELETE FROM readings_recent"},
        {"d",
         "CREATE TABLE readings_recent(part INTEGER NOT NULL,"
         " channel INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,"
         " quality INTEGER NOT NULL,"
         " PRIMARY KEY(part, ts, channel)) WITHOUT ROWID;" ARCHIVE,
         "INSERT OR REPLACE INTO readings_recent VALUES(?5, ?1, ?2, ?3, ?4)",
         "INSERT OR REPLACE INTO readings_archive"
         " SELECT channel, ts, value, quality FROM readings_recent"
         " WHERE part = ?1 ORDER BY channel, ts",
         "DELETE FROM readings_recent WHERE part = ?1"},
};

static void open_raw(struct bench *b, const struct layout *l)
{
	const struct opts *o = b->o;
	char sql[256];

	if (sqlite3_open(o->db, &b->db) != SQLITE_OK)
		die(b->db, o->db);
	snprintf(sql, sizeof(sql),
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	         "PRAGMA cache_size=-%d;",
	         o->cache_kib);
	exec(b->db, sql);
	if (!o->reuse)
		exec(b->db, l->schema);
	b->ins = prepare(b->db, l->insert);
	if (l->move == NULL)
		return;
	b->move = prepare(b->db, l->move);
	b->clear = prepare(b->db, l->clear);
	if (strcmp(l->name, "c") == 0) {
		b->count = prepare(b->db,
		                   "SELECT max(rowid) FROM readings_recent");
		return;
	}
	b->part_rows = calloc(o->parts, sizeof(*b->part_rows));
	b->delta = calloc(o->parts, sizeof(*b->delta));
	if (b->part_rows == NULL || b->delta == NULL)
		die(NULL, "calloc");
}

/* A config of channels/10 instruments of 10 channels (the rest in the
 * last one), filled by hand: the store only reads its layout. */
static struct config *make_config(int nch)
{
	static char none[] = "";
	struct config *c = calloc(1, sizeof(*c));
	int ninst = (nch + 9) / 10;

	if (c == NULL ||
	    (c->instruments = calloc(ninst, sizeof(*c->instruments))) == NULL)
		die(NULL, "calloc");
	c->ninstruments = ninst;
	c->nchannels = nch;
	for (int i = 0; i < ninst; i++) {
		struct cfg_instrument *in = &c->instruments[i];
		int n = nch - i * 10 < 10 ? nch - i * 10 : 10;
		in->id = malloc(16);
		in->channels = calloc(n, sizeof(*in->channels));
		if (in->id == NULL || in->channels == NULL)
			die(NULL, "calloc");
		snprintf(in->id, 16, "inst%04d", i);
		in->model = in->serial = in->owner = in->location = none;
		in->nchannels = n;
		for (int j = 0; j < n; j++) {
			struct cfg_channel *ch = &in->channels[j];
			if ((ch->name = malloc(8)) == NULL)
				die(NULL, "malloc");
			snprintf(ch->name, 8, "ch%d", j);
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
		for (int j = 0; j < c->instruments[i].nchannels; j++)
			free(c->instruments[i].channels[j].name);
		free(c->instruments[i].channels);
		free(c->instruments[i].id);
	}
	free(c->instruments);
	free(c);
}

static void open_store(struct bench *b)
{
	char err[512];
	struct config *c;

	b->st = store_open(b->o->db, err, sizeof(err));
	if (b->st == NULL) {
		fprintf(stderr, "bench-store: %s\n", err);
		exit(1);
	}
	c = make_config(b->o->channels);
	if (store_sync_config(b->st, c) < 0) {
		fprintf(stderr, "bench-store: %s\n", store_last_message(b->st));
		exit(1);
	}
	free_config(c);
}

/* --reuse: go on after the last round in the file. */
static long long next_reading(const struct opts *o)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long round = 0;

	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die(db, o->db);
	/* channel 1 comes first in every round */
	s = prepare(db, "SELECT max(ts) FROM readings WHERE channel = 1");
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		round = (sqlite3_column_int64(s, 0) - T0_US) / 1000000 + 1;
	sqlite3_finalize(s);
	sqlite3_close(db);
	return round * o->channels;
}

/* Reading number i: channel i % channels in round i / channels. Channel
 * ids are index + 1 (the store assigns them in that order too). */
static void make_sample(const struct opts *o, long long i, struct sample *s)
{
	long long round = i / o->channels;
	int ch = (int)(i % o->channels);

	s->ts_us = T0_US + round * 1000000 + ch * (1000000LL / o->channels);
	s->index = (uint32_t)ch;
	s->kind = SAMPLE_READING;
	s->quality = i % 100 == 99 ? QUALITY_TIMEOUT : QUALITY_GOOD;
	s->detail = 0;
	s->value = s->quality == QUALITY_GOOD ? 20.0 + (i % 1000) * 0.001 : 0;
}

/* c: once recent holds o->move rows, move them all. */
static void move_all(struct bench *b)
{
	long long rows = 0;

	if (sqlite3_step(b->count) != SQLITE_ROW)
		die(b->db, "count");
	rows = sqlite3_column_int64(b->count, 0);
	sqlite3_reset(b->count);
	if (rows < b->o->move)
		return;
	run(b->db, b->move);
	run(b->db, b->clear);
}

/* d: move the fullest part once it holds move/parts rows. */
static void move_part(struct bench *b)
{
	int p = 0;

	for (int i = 0; i < b->o->parts; i++) {
		b->part_rows[i] += b->delta[i];
		b->delta[i] = 0;
		if (b->part_rows[i] > b->part_rows[p])
			p = i;
	}
	if (b->part_rows[p] < b->o->move / b->o->parts)
		return;
	sqlite3_bind_int(b->move, 1, p);
	run(b->db, b->move);
	sqlite3_bind_int(b->clear, 1, p);
	run(b->db, b->clear);
	b->part_rows[p] = 0;
}

/* ---- cb and eb: the archive in blocks ----------------------------------- */

#define BLOCKS                                                                 \
	"CREATE TABLE archive_blocks(id INTEGER PRIMARY KEY,"                  \
	" channel INTEGER NOT NULL, ts_first INTEGER NOT NULL,"                \
	" ts_last INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL);"  \
	"CREATE UNIQUE INDEX archive_blocks_key"                               \
	" ON archive_blocks(channel, ts_first);"
#define RECENT_COLS                                                            \
	"(channel INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL,"          \
	" quality INTEGER NOT NULL)"

static bool blocks_layout(const struct opts *o)
{
	return strcmp(o->layout, "cb") == 0 || strcmp(o->layout, "eb") == 0;
}

static int nparts(const struct opts *o)
{
	return strcmp(o->layout, "eb") == 0 ? o->parts : 1;
}

/* Part p's statements: cb's one table, or eb's table p. */
static void open_part(struct bench *b, int p)
{
	char name[32], sql[256];

	snprintf(name, sizeof(name),
	         nparts(b->o) > 1 ? "readings_recent_%d" : "readings_recent",
	         p);
	if (!b->o->reuse) {
		snprintf(sql, sizeof(sql), "CREATE TABLE %s " RECENT_COLS ";",
		         name);
		exec(b->db, sql);
	}
	snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES(?1, ?2, ?3, ?4)",
	         name);
	b->pins[p] = prepare(b->db, sql);
	snprintf(sql, sizeof(sql),
	         "SELECT channel, ts, value, quality FROM %s%s", name,
	         nparts(b->o) > 1 ? "" : " ORDER BY channel, ts");
	b->pread[p] = prepare(b->db, sql);
	snprintf(sql, sizeof(sql), "DELETE FROM %s", name);
	b->pclear[p] = prepare(b->db, sql);
}

/* The view readings over the archive's blocks (readings_archive, the
 * store's reader) and every part. */
static void create_view(sqlite3 *db, int np)
{
	size_t size = 128 + (size_t)np * 96, len;
	char *sql = malloc(size);

	if (sql == NULL)
		die(NULL, "malloc");
	len = (size_t)snprintf(sql, size,
	                       "CREATE VIEW readings AS SELECT channel, ts,"
	                       " value, quality FROM readings_archive");
	for (int p = 0; p < np; p++)
		len += (size_t)snprintf(
		        sql + len, size - len,
		        np > 1 ? " UNION ALL SELECT channel, ts, value, quality"
		                 " FROM readings_recent_%d"
		               : " UNION ALL SELECT channel, ts, value, quality"
		                 " FROM readings_recent",
		        p);
	exec(db, sql);
	free(sql);
}

static void open_blocks(struct bench *b)
{
	const struct opts *o = b->o;
	int np = nparts(o);
	char sql[256];

	if (store_archive_auto() < 0 ||
	    sqlite3_open(o->db, &b->db) != SQLITE_OK)
		die(b->db, o->db);
	snprintf(sql, sizeof(sql),
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	         "PRAGMA cache_size=-%d;",
	         o->cache_kib);
	exec(b->db, sql);
	if (!o->reuse)
		exec(b->db, BLOCKS);
	b->pins = calloc(np, sizeof(*b->pins));
	b->pread = calloc(np, sizeof(*b->pread));
	b->pclear = calloc(np, sizeof(*b->pclear));
	b->part_rows = calloc(np, sizeof(*b->part_rows));
	b->run = malloc(BLOCK_MAX * sizeof(*b->run));
	b->blk = malloc(gorilla_bound(BLOCK_MAX));
	if (b->pins == NULL || b->pread == NULL || b->pclear == NULL ||
	    b->part_rows == NULL || b->run == NULL || b->blk == NULL)
		die(NULL, "calloc");
	for (int p = 0; p < np; p++)
		open_part(b, p);
	if (!o->reuse)
		create_view(b->db, np);
	b->arc_last = prepare(b->db, "SELECT ts_last FROM archive_blocks"
	                             " WHERE channel = ?1"
	                             " ORDER BY ts_first DESC LIMIT 1");
	b->arc_ins = prepare(b->db, "INSERT INTO archive_blocks"
	                            " (channel, ts_first, ts_last, n, data)"
	                            " VALUES (?1, ?2, ?3, ?4, ?5)");
}

/* The n points of channel ch (sorted, after its archived ones: the
 * bench's times only grow) as blocks, after the store's one look at the
 * channel's newest block. */
static void write_run(struct bench *b, int ch, const struct gorilla_point *p,
                      size_t n)
{
	size_t len;

	sqlite3_bind_int64(b->arc_last, 1, ch);
	if (sqlite3_step(b->arc_last) == SQLITE_ROW &&
	    sqlite3_column_int64(b->arc_last, 0) >= p[0].ts_us)
		die(NULL, "a run overlaps the archive");
	sqlite3_reset(b->arc_last);
	if (gorilla_encode(p, n, b->blk, gorilla_bound(BLOCK_MAX), &len) < 0)
		die(NULL, "gorilla_encode");
	sqlite3_bind_int64(b->arc_ins, 1, ch);
	sqlite3_bind_int64(b->arc_ins, 2, p[0].ts_us);
	sqlite3_bind_int64(b->arc_ins, 3, p[n - 1].ts_us);
	sqlite3_bind_int64(b->arc_ins, 4, (sqlite3_int64)n);
	sqlite3_bind_blob64(b->arc_ins, 5, b->blk, len, SQLITE_STATIC);
	run(b->db, b->arc_ins);
}

static void read_point(sqlite3_stmt *s, struct gorilla_point *p)
{
	p->ts_us = sqlite3_column_int64(s, 1);
	p->has_value = sqlite3_column_type(s, 2) != SQLITE_NULL;
	p->value = p->has_value ? sqlite3_column_double(s, 2) : 0;
	p->quality = sqlite3_column_int64(s, 3);
}

/* cb: the whole table ORDER BY channel, ts, each channel's run flushed
 * when the channel changes or a block is full. */
static void move_sorted(struct bench *b, sqlite3_stmt *s)
{
	size_t n = 0;
	int ch = -1;

	while (sqlite3_step(s) == SQLITE_ROW) {
		int next = sqlite3_column_int(s, 0);
		if (n > 0 && (next != ch || n == BLOCK_MAX)) {
			write_run(b, ch, b->run, n);
			n = 0;
		}
		ch = next;
		read_point(s, &b->run[n++]);
	}
	sqlite3_reset(s);
	if (n > 0)
		write_run(b, ch, b->run, n);
}

static int by_channel(const void *x, const void *y)
{
	const struct brow *a = x, *c = y;

	if (a->ch != c->ch)
		return a->ch < c->ch ? -1 : 1;
	return (a->p.ts_us > c->p.ts_us) - (a->p.ts_us < c->p.ts_us);
}

/* eb: the part in rowid order into b->rows, sorted by channel and time in
 * memory, each channel's run in blocks. */
static void move_grouped(struct bench *b, sqlite3_stmt *s)
{
	b->nrows = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (b->nrows == b->rows_cap) {
			b->rows_cap = b->rows_cap ? 2 * b->rows_cap : 4096;
			b->rows = realloc(b->rows,
			                  b->rows_cap * sizeof(*b->rows));
			if (b->rows == NULL)
				die(NULL, "realloc");
		}
		b->rows[b->nrows].ch = sqlite3_column_int(s, 0);
		read_point(s, &b->rows[b->nrows++].p);
	}
	sqlite3_reset(s);
	qsort(b->rows, b->nrows, sizeof(*b->rows), by_channel);
	for (size_t i = 0; i < b->nrows;) {
		size_t n = 0;
		int ch = b->rows[i].ch;
		for (; i < b->nrows && b->rows[i].ch == ch && n < BLOCK_MAX;
		     i++)
			b->run[n++] = b->rows[i].p;
		write_run(b, ch, b->run, n);
	}
}

/* cb, eb: once the parts hold o->move rows in all, move one (cb: the only
 * one). */
static void move_blocks(struct bench *b)
{
	int np = nparts(b->o), p = b->turn;
	long total = 0;

	for (int i = 0; i < np; i++)
		total += b->part_rows[i];
	if (total < b->o->move)
		return;
	for (int k = 0; k < np && b->part_rows[p] == 0; k++)
		p = (p + 1) % np;
	b->turn = (p + 1) % np;
	if (np > 1)
		move_grouped(b, b->pread[p]);
	else
		move_sorted(b, b->pread[p]);
	run(b->db, b->pclear[p]);
	b->part_rows[p] = 0;
}

static void write_blocks_batch(struct bench *b, int n)
{
	int np = nparts(b->o);

	exec(b->db, "BEGIN IMMEDIATE");
	for (int k = 0; k < n; k++) {
		const struct sample *s = &b->buf[k];
		int p = (int)((long long)s->index * np / b->o->channels);
		sqlite3_stmt *ins = b->pins[p];
		sqlite3_bind_int64(ins, 1, (int)s->index + 1);
		sqlite3_bind_int64(ins, 2, s->ts_us);
		if (s->quality == QUALITY_GOOD)
			sqlite3_bind_double(ins, 3, s->value);
		else
			sqlite3_bind_null(ins, 3);
		sqlite3_bind_int(ins, 4, s->quality);
		run(b->db, ins);
		b->part_rows[p]++;
	}
	move_blocks(b);
	exec(b->db, "COMMIT");
}

static void write_batch(struct bench *b, long long first, int n)
{
	for (int k = 0; k < n; k++)
		make_sample(b->o, b->first + first + k, &b->buf[k]);
	if (b->st != NULL) {
		if (store_append(b->st, b->buf, n) < 0) {
			fprintf(stderr, "bench-store: %s\n",
			        store_last_message(b->st));
			exit(1);
		}
		return;
	}
	if (b->pins != NULL) {
		write_blocks_batch(b, n);
		return;
	}
	exec(b->db, "BEGIN IMMEDIATE");
	for (int k = 0; k < n; k++) {
		const struct sample *s = &b->buf[k];
		int ch = (int)s->index + 1;
		sqlite3_bind_int64(b->ins, 1, ch);
		sqlite3_bind_int64(b->ins, 2, s->ts_us);
		if (s->quality == QUALITY_GOOD)
			sqlite3_bind_double(b->ins, 3, s->value);
		else
			sqlite3_bind_null(b->ins, 3);
		sqlite3_bind_int(b->ins, 4, s->quality);
		if (b->part_rows != NULL) {
			sqlite3_bind_int(b->ins, 5, ch % b->o->parts);
			b->delta[ch % b->o->parts]++;
		}
		run(b->db, b->ins);
	}
	if (b->count != NULL)
		move_all(b);
	else if (b->part_rows != NULL)
		move_part(b);
	exec(b->db, "COMMIT");
}

/* Read the middle channel over the last simulated day, twice. */
static void query(const struct opts *o, long long end_reading)
{
	static const char sql[] = "SELECT ts, value, quality FROM readings"
	                          " WHERE channel = ?1 AND ts >= ?2"
	                          " AND ts < ?3 ORDER BY ts";
	long long rounds = (end_reading + o->channels - 1) / o->channels;
	int64_t end = T0_US + rounds * 1000000, start = end - DAY_US;
	int channel = o->channels / 2 + 1;
	sqlite3 *db;

	if (start < T0_US)
		start = T0_US;
	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die(db, o->db);
	for (int pass = 0; pass < 2; pass++) {
		double t = now_s(), c = cpu_s(), sum = 0;
		sqlite3_stmt *s = prepare(db, sql);
		long n = 0;
		sqlite3_bind_int64(s, 1, channel);
		sqlite3_bind_int64(s, 2, start);
		sqlite3_bind_int64(s, 3, end);
		while (sqlite3_step(s) == SQLITE_ROW) {
			sum += sqlite3_column_double(s, 1);
			n++;
		}
		sqlite3_finalize(s);
		t = now_s() - t;
		printf("query %s: channel %d over %.2f h: %ld rows in %.1f ms "
		       "(cpu %.1f ms, %.2f us/row)\n",
		       pass ? "warm" : "cold", channel, (end - start) / 3.6e9,
		       n, t * 1e3, (cpu_s() - c) * 1e3, n ? t * 1e6 / n : 0);
		(void)sum;
	}
	sqlite3_close(db);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench-store [--layout a|b|c|d|cb|eb|store] [--db "
	        "PATH]\n"
	        "         [--rows N] [--channels C] [--batch B] [--rate R]\n"
	        "         [--cache-kib K] [--move M] [--parts P]\n"
	        "         [--seconds S] [--segments N] [--keep] [--reuse]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	        {"layout", 1, NULL, 'l'},   {"db", 1, NULL, 'd'},
	        {"rows", 1, NULL, 'r'},     {"channels", 1, NULL, 'c'},
	        {"batch", 1, NULL, 'b'},    {"cache-kib", 1, NULL, 'k'},
	        {"move", 1, NULL, 'm'},     {"parts", 1, NULL, 'p'},
	        {"rate", 1, NULL, 'R'},     {"seconds", 1, NULL, 's'},
	        {"segments", 1, NULL, 'g'}, {"keep", 0, NULL, 'K'},
	        {"reuse", 0, NULL, 'U'},    {NULL, 0, NULL, 0}};
	int ch;

	*o = (struct opts){.layout = "store",
	                   .db = "bench-store.db",
	                   .rows = 20000000,
	                   .channels = 10000,
	                   .batch = 1000,
	                   .cache_kib = 16384,
	                   .move = 320000,
	                   .parts = 16,
	                   .seconds = 110,
	                   .segments = 10};
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'l':
			o->layout = optarg;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'r':
			o->rows = atoll(optarg);
			break;
		case 'c':
			o->channels = atoi(optarg);
			break;
		case 'b':
			o->batch = atoi(optarg);
			break;
		case 'k':
			o->cache_kib = atoi(optarg);
			break;
		case 'm':
			o->move = atol(optarg);
			break;
		case 'p':
			o->parts = atoi(optarg);
			break;
		case 'R':
			o->rate = atof(optarg);
			break;
		case 's':
			o->seconds = atoi(optarg);
			break;
		case 'g':
			o->segments = atoi(optarg);
			break;
		case 'K':
			o->keep = true;
			break;
		case 'U':
			o->reuse = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->rows <= 0 || o->channels <= 0 ||
	    o->batch <= 0 || o->move <= 0 || o->parts <= 0 ||
	    o->segments <= 0 || o->rate < 0)
		usage();
}

/* The run's first line and the table's heading. */
static void print_header(const struct opts *o, const struct layout *l,
                         long long first)
{
	printf("layout %s: %lld rows, %d channels interleaved, batch %d, "
	       "cache %d KiB",
	       o->layout, o->rows, o->channels, o->batch, o->cache_kib);
	if ((l != NULL && l->move != NULL) || blocks_layout(o))
		printf(", move at %ld rows", o->move);
	if (strcmp(o->layout, "eb") == 0)
		printf(", %d parts", o->parts);
	if (o->rate > 0)
		printf(", paced at %.0f rows/s", o->rate);
	if (o->reuse)
		printf(", from reading %lld", first);
	printf("\n%10s %10s %10s %6s %8s %8s %9s\n", "rows", "rows/s",
	       "cpu s/Mrow", "cpu %", "max ms", "rss MiB", "file MiB");
}

/* Finalize b's statements and close its connections. */
static void bench_close(struct bench *b)
{
	sqlite3_finalize(b->ins);
	sqlite3_finalize(b->count);
	sqlite3_finalize(b->move);
	sqlite3_finalize(b->clear);
	for (int p = 0; b->pins != NULL && p < nparts(b->o); p++) {
		sqlite3_finalize(b->pins[p]);
		sqlite3_finalize(b->pread[p]);
		sqlite3_finalize(b->pclear[p]);
	}
	sqlite3_finalize(b->arc_last);
	sqlite3_finalize(b->arc_ins);
	sqlite3_close(b->db);
	store_close(b->st);
}

static void bench_free(struct bench *b)
{
	free(b->part_rows);
	free(b->delta);
	free(b->pins);
	free(b->pread);
	free(b->pclear);
	free(b->rows);
	free(b->run);
	free(b->blk);
	free(b->buf);
}

int main(int argc, char **argv)
{
	const struct layout *l = NULL;
	struct opts o;
	struct bench b = {0};
	struct rusage ru;
	long long written = 0, seg_rows, seg_start = 0;
	double start, start_c, seg_t, seg_c, seg_max = 0, max_lat = 0;

	parse(argc, argv, &o);
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (strcmp(o.layout, layouts[i].name) == 0)
			l = &layouts[i];
	if (l == NULL && strcmp(o.layout, "store") != 0 && !blocks_layout(&o))
		usage();
	b.o = &o;
	if ((b.buf = calloc(o.batch, sizeof(*b.buf))) == NULL)
		die(NULL, "calloc");
	if (o.reuse)
		b.first = next_reading(&o);
	else
		remove_db(o.db);
	if (blocks_layout(&o))
		open_blocks(&b);
	else if (l == NULL)
		open_store(&b);
	else
		open_raw(&b, l);
	print_header(&o, l, b.first);
	start = seg_t = now_s();
	start_c = seg_c = cpu_s();
	seg_rows = o.rows / o.segments > 0 ? o.rows / o.segments : 1;
	while (written < o.rows) {
		int n = o.rows - written < o.batch ? (int)(o.rows - written)
		                                   : o.batch;
		double t0 = now_s(), lat;
		write_batch(&b, written, n);
		lat = now_s() - t0;
		seg_max = lat > seg_max ? lat : seg_max;
		written += n;
		if (o.rate > 0) {
			double due = start + written / o.rate - now_s();
			if (due > 0)
				nanosleep(
				        &(struct timespec){
				                (time_t)due,
				                (long)((due - (time_t)due) *
				                       1e9)},
				        NULL);
		}
		if (written - seg_start >= seg_rows || written == o.rows) {
			double t = now_s(), c = cpu_s();
			long long r = written - seg_start;
			printf("%10lld %10.0f %10.2f %6.1f %8.0f %8.1f %9.0f\n",
			       written, r / (t - seg_t),
			       (c - seg_c) / (r / 1e6),
			       100 * (c - seg_c) / (t - seg_t), seg_max * 1e3,
			       rss_mib(), file_mib(o.db));
			fflush(stdout);
			max_lat = seg_max > max_lat ? seg_max : max_lat;
			seg_max = 0;
			seg_start = written;
			seg_t = t;
			seg_c = c;
			if (t - start > o.seconds)
				break;
		}
	}
	printf("total: %lld rows in %.1f s: %.0f rows/s, cpu %.2f s/Mrow, "
	       "slowest batch %.0f ms\n",
	       written, now_s() - start, written / (now_s() - start),
	       (cpu_s() - start_c) / (written / 1e6), max_lat * 1e3);
	bench_close(&b);
	query(&o, b.first + written);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak rss %.1f MiB, file %.0f MiB\n", ru.ru_maxrss / 1024.0,
	       file_mib(o.db));
	if (!o.keep)
		remove_db(o.db);
	bench_free(&b);
	return 0;
}
