/*
 * store.c - the SQLite database: opening it (schema.c checks and
 * migrates), the configuration's instruments and channels, batched writes
 * of readings and events, retention. See store.h for the contract and
 * docs/SCHEMA.md for the tables and why readings are laid out as they are.
 *
 * Readings live in two tables behind one view. New rows are appended to
 * readings_recent (a rowid table without any index: ~1 us per row whatever
 * the channel). Each commit also takes a step of the move into the archive
 * (archive_step(), archive_store.c): it reads the new rows into memory, in
 * rowid order; once move_rows of them wait, the next commits each write the
 * blocks of a range of channels (a 32nd of the rows), compressed and cut to
 * fill a page (gateway/core/gorilla.c), in archive_blocks (a rowid table,
 * UNIQUE (channel, ts_first)), which the virtual table readings_archive
 * reads back row by row, and mark those rows moved in recent_moved; moved
 * rows are deleted later, from the table's start. The view `readings` is
 * the UNION ALL of readings_archive and the rows of readings_recent not
 * moved (SCHEMA_RECENT_LIVE). So no commit waits for a whole move.
 * tools/bench/bench-store measures the layouts, tools/bench/bench-archive
 * the blocks.
 *
 * Threading: a struct store belongs to the one thread that opened it (the
 * ingest thread in metrologd, the main thread of the metrolog tool); the
 * connection is opened without SQLite's mutexes. Other processes may read
 * the file at any time (WAL) and may write it (they then wait for each
 * other up to the busy timeout).
 */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "archive.h"
#include "calib.h"
#include "db_reason.h"
#include "drift.h"
#include "schema.h"
#include "store_int.h"
#include "text.h"

#define STORE_BUSY_MS     5000
#define STORE_CACHE_KIB   8192 /* SQLite page cache, per connection */
#define STORE_WAL_LIMIT   (64 * 1024 * 1024) /* WAL truncated to this */
#define STORE_MOVE_MIN    65536 /* readings_recent rows before a move */
#define STORE_MOVE_PER_CH 64    /* ... or this many per channel */
#define STORE_MOVE_MAX    1048576
#define STORE_BLOCK       32 /* readings per multi-row INSERT */
#define BLOCK_HEAD                                                             \
	"INSERT INTO readings_recent (channel, ts, value, quality) VALUES "
#define BLOCK_ROW "(?,?,?,?)"

static int cache_kib = STORE_CACHE_KIB; /* store_set_cache_kib() */

static const char *const stmt_sql[S_COUNT] = {
        [S_BEGIN] = "BEGIN IMMEDIATE",
        [S_COMMIT] = "COMMIT",
        [S_ROLLBACK] = "ROLLBACK",
        [S_INSERT_READING] = "INSERT INTO readings_recent"
                             " (channel, ts, value, quality)"
                             " VALUES (?1, ?2, ?3, ?4)",
        /* S_INSERT_BLOCK: built by prepare_all() */
        [S_INSERT_EVENT] = "INSERT INTO events"
                           " (ts, instrument_id, channel_id, kind, detail,"
                           " state_from, state_to)"
                           " VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6)",
        [S_INSERT_CHANNEL_EVENT] = "INSERT INTO events"
                                   " (ts, instrument_id, channel_id, kind,"
                                   " detail, state_from, state_to)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        /* recent_moved (schema 15) for rows that are not there: after
         * readings_recent lost its newest rows (emptied by retention or
         * by hand), new rows must come after the marks, whose rows are
         * then gone. Changes nothing otherwise. */
        [S_RECENT_FIX] = "UPDATE recent_moved SET"
                         " upto = min(upto, (SELECT coalesce(max(rowid), 0)"
                         " FROM readings_recent)),"
                         " turn_upto = min(turn_upto, (SELECT"
                         " coalesce(max(rowid), 0) FROM readings_recent))"
                         " WHERE turn_upto > (SELECT coalesce(max(rowid), 0)"
                         " FROM readings_recent)",
        /* the move in turns (archive_store.c) */
        [S_TURN_GET] = "SELECT upto, turn_upto, turn_channel,"
                       " (SELECT coalesce(max(rowid), 0) FROM readings_recent),"
                       " (SELECT coalesce(min(rowid), 0) FROM readings_recent)"
                       " FROM recent_moved",
        [S_TURN_SET] = "UPDATE recent_moved SET upto = ?1, turn_upto = ?2,"
                       " turn_channel = ?3",
        [S_TURN_READ] = "SELECT rowid, channel, ts, value, quality"
                        " FROM readings_recent WHERE rowid > ?1 AND rowid <= ?2"
                        " AND (rowid > ?3 OR channel >= ?4) ORDER BY rowid"
                        " LIMIT ?5",
        [S_RECENT_DROP] = "DELETE FROM readings_recent WHERE rowid <= ?1",
        /* changes when another connection committed */
        [S_DATA_VERSION] = "PRAGMA data_version",
        /* moved rows are in the archive: archive_prune() counts them */
        [S_PRUNE_RECENT] = "DELETE FROM readings_recent WHERE rowid IN"
                           " (SELECT rowid FROM readings_recent"
                           " WHERE ts < ?1 AND " SCHEMA_RECENT_LIVE(
                                   "rowid", "channel") " LIMIT ?2)",
        [S_NEXT_CHANNEL] = "SELECT channel FROM archive_blocks"
                           " WHERE channel >= ?1 ORDER BY channel LIMIT 1",
        /* the archive's blocks (archive.c) */
        [S_ARC_LAST] = "SELECT ts_last, length(data), n FROM archive_blocks"
                       " WHERE channel = ?1 ORDER BY ts_first DESC LIMIT 1",
        [S_ARC_TAIL] = "SELECT ts_first, length(data), n FROM archive_blocks"
                       " WHERE channel = ?1 ORDER BY ts_first DESC",
        [S_ARC_FROM] =
                "SELECT ts_first, n, data FROM archive_blocks"
                " WHERE " ARCHIVE_BLOCKS_FROM("?1", "?2") " ORDER BY ts_first",
        [S_ARC_DELETE_FROM] = "DELETE FROM archive_blocks"
                              " WHERE channel = ?1 AND ts_first >= ?2",
        [S_ARC_DELETE] = "DELETE FROM archive_blocks"
                         " WHERE channel = ?1 AND ts_first = ?2",
        [S_ARC_INSERT] = "INSERT INTO archive_blocks"
                         " (channel, ts_first, ts_last, n, data)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
        [S_ARC_OLDEST] = "SELECT ts_first, n, data FROM archive_blocks"
                         " WHERE channel = ?1 ORDER BY ts_first LIMIT 1",
        [S_OUTBOX_INSERT] = "INSERT INTO outbox"
                            " (seq, ts, topic, payload, qos, retain,"
                            " channels)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [S_OUTBOX_READ] = "SELECT seq, ts, topic, payload, qos, retain,"
                          " channels"
                          " FROM outbox WHERE seq > ?1 ORDER BY seq"
                          " LIMIT ?2",
        [S_OUTBOX_DELETE] = "DELETE FROM outbox WHERE seq <= ?1",
        /* what a seq carried, for replays (docs/SCHEMA.md, seqs): a
         * readings message as its instrument (?3: its first channel),
         * any other as its topic and payload */
        [S_SEQS_INSERT] = "INSERT OR REPLACE INTO seqs"
                          " (seq, ts, instrument, topic, payload)"
                          " VALUES (?1, ?2, (SELECT instrument_id FROM"
                          " channels WHERE id = ?3), ?4, ?5)",
        [S_OUTBOX_TRIM] = "DELETE FROM outbox WHERE seq IN"
                          " (SELECT seq FROM outbox ORDER BY seq LIMIT ?1)",
        [S_OUTBOX_ROWS] = "SELECT count(*) FROM outbox",
        [S_OUTBOX_OLDEST] = "SELECT ts FROM outbox ORDER BY seq LIMIT 1",
        [S_OUTBOX_LAST_SEQ] = "SELECT seq FROM sqlite_sequence"
                              " WHERE name = 'outbox'",
};

static enum store_error error_kind(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return STORE_OK;
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_IOERR:
		return STORE_IO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_CORRUPT;
	default:
		return STORE_OTHER;
	}
}

void st_error(struct store *st, enum store_error kind, const char *fmt, ...)
{
	va_list ap;
	int n;

	st->error = kind;
	n = snprintf(st->message, sizeof(st->message), "%s: ", st->path);
	if (n < 0 || (size_t)n >= sizeof(st->message))
		return;
	va_start(ap, fmt);
	vsnprintf(st->message + n, sizeof(st->message) - n, fmt, ap);
	va_end(ap);
}

/* Record the failure rc of what, with SQLite's message. */
void st_sqlite_error(struct store *st, int rc, const char *what)
{
	char msg[STORE_MSG_MAX];

	snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(st->db));
	db_reason(st->db, rc, st->path, true, msg, sizeof(msg));
	st_error(st, error_kind(rc), "%s: %s", what, msg);
}

/* Step s to completion (it returns no row, or only the row(s) we ignore),
 * then reset it. Returns 0, or -1 with the error recorded. */
int st_run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		st_sqlite_error(st, rc, what);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Step s once for a single integer column. Returns 1 with *v set, 0 when
 * there is no row (or the value is NULL), -1 on error. Resets s. */
int st_query_int(struct store *st, sqlite3_stmt *s, const char *what,
                 int64_t *v)
{
	int rc = sqlite3_step(s), found = 0;

	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*v = sqlite3_column_int64(s, 0);
		found = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, what);
		found = -1;
	}
	sqlite3_reset(s);
	return found;
}

static int exec(struct store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, what);
		return -1;
	}
	return 0;
}

int store_cache_kib(struct store *st, int kib)
{
	char sql[64];

	assert(kib > 0);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d;", kib);
	return exec(st, sql, "cache_size");
}

int st_pragma_int(struct store *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), found;

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, sql);
		return -1;
	}
	found = st_query_int(st, s, sql, v);
	sqlite3_finalize(s);
	if (found == 0)
		*v = 0;
	return found < 0 ? -1 : 0;
}

/* Roll back the transaction if SQLite has not already done so. */
void st_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_step(st->stmt[S_ROLLBACK]);
	sqlite3_reset(st->stmt[S_ROLLBACK]);
}

int64_t st_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ---- open --------------------------------------------------------------- */

static int configure(struct store *st)
{
	char sql[160];
	sqlite3_stmt *s;
	int rc;
	bool wal;

	/* journal_mode answers with the mode in effect */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	                        NULL);
	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "journal_mode");
		return -1;
	}
	rc = sqlite3_step(s);
	wal = rc == SQLITE_ROW &&
	      strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
	if (rc != SQLITE_ROW) {
		st_sqlite_error(st, rc, "journal_mode");
	} else if (!wal) {
		/* SQLite falls back silently when it cannot create the -wal
		 * file: say why when the directory is the reason */
		char why[STORE_MSG_MAX] = "";
		db_reason(st->db, SQLITE_READONLY_DIRECTORY, st->path, true,
		          why, sizeof(why));
		st_error(st, STORE_IO,
		         "cannot use WAL mode (journal_mode is %s)%s",
		         sqlite3_column_text(s, 0),
		         why[0] ? why
		                : ": is the file on a network file system?");
	}
	sqlite3_finalize(s);
	if (!wal)
		return -1;
	/*
	 * Durable before visible. SQLite's documentation of PRAGMA
	 * synchronous: "A transaction committed in WAL mode with
	 * synchronous=NORMAL might roll back following a power loss or system
	 * crash", while "with synchronous=FULL in WAL mode, an additional sync
	 * operation of the WAL file happens after each transaction commit"
	 * (sqlite.org/pragma.html#pragma_synchronous). With FULL the WAL is
	 * synced before the commit is made visible to other connections (the
	 * wal-index is updated after the sync) and before COMMIT returns, so
	 * nothing a commit holds leaves the process first: the outbox rows
	 * the publisher sends, the seqs AUTOINCREMENT hands out, the readings
	 * a records request reads, a calibration record and its certificate
	 * number. metrologd commits a batch every batch_ms (20 ms by default)
	 * while readings come: up to 50 fsyncs a second (docs/SCHEMA.md,
	 * measured in docs/BENCHMARKS.md).
	 */
	snprintf(sql, sizeof(sql),
	         "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
	         "PRAGMA journal_size_limit = %d;",
	         STORE_WAL_LIMIT);
	return exec(st, sql, "pragmas") < 0 ? -1
	                                    : store_cache_kib(st, cache_kib);
}

static int prepare_all(struct store *st)
{
	/* INSERT ... VALUES (?, ?, ?, ?), ... STORE_BLOCK times */
	char block[sizeof(BLOCK_HEAD) + STORE_BLOCK * sizeof(BLOCK_ROW)];
	size_t len = strlen(BLOCK_HEAD);

	memcpy(block, BLOCK_HEAD, len);
	for (int k = 0; k < STORE_BLOCK; k++) {
		memcpy(block + len, k ? "," BLOCK_ROW : BLOCK_ROW,
		       strlen(BLOCK_ROW) + (k ? 1 : 0));
		len += strlen(BLOCK_ROW) + (k ? 1 : 0);
	}
	block[len] = '\0';
	for (int i = 0; i < S_COUNT; i++) {
		const char *sql = i == S_INSERT_BLOCK ? block : stmt_sql[i];
		int rc = sqlite3_prepare_v3(st->db, sql, -1,
		                            SQLITE_PREPARE_PERSISTENT,
		                            &st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			st_sqlite_error(st, rc, sql);
			return -1;
		}
	}
	return 0;
}

struct store *store_open_ex(const char *path, enum store_error *kind, char *err,
                            size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));
	int64_t version = 0;
	int rc;

	if (kind != NULL)
		*kind = STORE_OTHER;
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		free(st);
		return NULL;
	}
	st->move_rows = STORE_MOVE_MIN;
	st->outbox_rows = -1;
	if (archive_auto() < 0) {
		st_error(st, STORE_OTHER, "cannot register the archive");
		goto fail;
	}
	rc = sqlite3_open_v2(path, &st->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                             SQLITE_OPEN_NOMUTEX,
	                     NULL);
	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (schema_check(st, &version) < 0 || configure(st) < 0 ||
	    schema_migrate(st, version) < 0 || prepare_all(st) < 0)
		goto fail;
	return st;
fail:
	snprintf(err, errlen, "%s", st->message);
	if (kind != NULL)
		*kind = st->error;
	store_close(st);
	return NULL;
}

void store_set_cache_kib(int kib)
{
	assert(kib > 0);
	cache_kib = kib;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	return store_open_ex(path, NULL, err, errlen);
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	st_outbox_free(st);
	/* every statement is finalized: this cannot be SQLITE_BUSY */
	if (sqlite3_close(st->db) != SQLITE_OK)
		assert(!"sqlite3_close");
	free(st->channel_ids);
	free(st->instrument_ids);
	free(st->rbuf);
	free(st->staged);
	archive_bufs_free(st->arc);
	free(st->path);
	free(st);
}

int store_set_busy_timeout(struct store *st, int ms)
{
	int rc = sqlite3_busy_timeout(st->db, ms);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "busy timeout");
		return -1;
	}
	return 0;
}

long store_set_max_pages(struct store *st, long pages)
{
	char sql[64];
	int64_t now;

	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %ld", pages);
	if (st_pragma_int(st, sql, &now) < 0)
		return -1;
	return (long)now;
}

/* ---- configuration ------------------------------------------------------ */

/* "float32 CDAB", "bit 3", "string 8": the type as the config wrote it. */
static void type_text(const struct decode_spec *spec, enum bus_table table,
                      char *buf, size_t size)
{
	unsigned words = decode_words(spec);
	int n = snprintf(buf, size, "%s", decode_type_name(spec->type));

	if (n < 0 || (size_t)n >= size)
		return;
	if (spec->type == DECODE_BIT) {
		if (mbaddr_table_words(table))
			snprintf(buf + n, size - n, " %u", spec->bit);
	} else if (spec->type == DECODE_STRING) {
		snprintf(buf + n, size - n, " %u", spec->string_words);
	} else if (words >= 1 && words <= 4) {
		char order[DECODE_ORDER_MAX + 1];
		for (unsigned i = 0; i < 2 * words; i++)
			order[i] = (char)('A' + spec->order[i]);
		order[2 * words] = '\0';
		snprintf(buf + n, size - n, " %s", order);
	}
}

void st_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Run an upsert ... RETURNING id. Returns 0 with *id, or -1. */
static int upsert(struct store *st, sqlite3_stmt *s, const char *what,
                  int64_t *id)
{
	int found = st_query_int(st, s, what, id);

	if (found == 0)
		st_error(st, STORE_OTHER, "%s: no id returned", what);
	return found == 1 ? 0 : -1;
}

static const char upsert_instrument_sql[] =
        "INSERT INTO instruments (name, model, serial, owner, location,"
        " active, first_seen, last_config, kind, interval_days,"
        " due_soon_days)"
        " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7, ?8, ?9)"
        " ON CONFLICT (name) DO UPDATE SET model = excluded.model,"
        " serial = excluded.serial, owner = excluded.owner,"
        " location = excluded.location, active = 1,"
        " last_config = excluded.last_config, kind = excluded.kind,"
        " interval_days = excluded.interval_days,"
        " due_soon_days = excluded.due_soon_days"
        " RETURNING id";

static const char upsert_channel_sql[] =
        "INSERT INTO channels (instrument_id, name, unit, reg_table,"
        " address, type, scale, value_offset, active, first_seen,"
        " last_config, reference, lower, upper, guard, U, k)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9, ?10, ?11, ?12,"
        " ?13, ?14, ?15)"
        " ON CONFLICT (instrument_id, name) DO UPDATE SET"
        " unit = excluded.unit, reg_table = excluded.reg_table,"
        " address = excluded.address, type = excluded.type,"
        " scale = excluded.scale, value_offset = excluded.value_offset,"
        " active = 1, last_config = excluded.last_config,"
        " reference_channel = NULL, reference = excluded.reference,"
        " lower = excluded.lower, upper = excluded.upper,"
        " guard = excluded.guard, U = excluded.U, k = excluded.k"
        " RETURNING id";

/* The parameters of upsert_instrument_sql. */
static void bind_identity(sqlite3_stmt *ins, const char *id, const char *model,
                          const char *serial, const char *owner,
                          const char *location, int64_t now, const char *kind,
                          int interval_days, int due_soon_days)
{
	st_bind_text(ins, 1, id);
	st_bind_text(ins, 2, model);
	st_bind_text(ins, 3, serial);
	st_bind_text(ins, 4, owner);
	st_bind_text(ins, 5, location);
	sqlite3_bind_int64(ins, 6, now);
	st_bind_text(ins, 7, kind);
	sqlite3_bind_int(ins, 8, interval_days);
	sqlite3_bind_int(ins, 9, due_soon_days);
}

static int sync_instrument(struct store *st, sqlite3_stmt *ins,
                           sqlite3_stmt *chs, const struct config *c,
                           const struct cfg_instrument *in, int64_t now,
                           int64_t *inst_id, int64_t *channel_ids)
{
	char type[64];

	bind_identity(ins, in->id, in->model, in->serial, in->owner,
	              in->location, now, "instrument", in->cal_interval_days,
	              in->due_soon_days);
	if (upsert(st, ins, "instrument", inst_id) < 0)
		return -1;
	for (int j = 0; j < in->nchannels; j++) {
		const struct cfg_channel *ch = &in->channels[j];
		if (ch->index >= (uint32_t)c->nchannels) {
			st_error(st, STORE_OTHER,
			         "channel %s.%s: index %" PRIu32
			         " out of range (%d channels)",
			         in->id, ch->name, ch->index, c->nchannels);
			return -1;
		}
		type_text(&ch->spec, ch->table, type, sizeof(type));
		sqlite3_bind_int64(chs, 1, *inst_id);
		st_bind_text(chs, 2, ch->name);
		st_bind_text(chs, 3, ch->unit);
		st_bind_text(chs, 4, mbaddr_table_name(ch->table));
		sqlite3_bind_int(chs, 5, ch->address);
		st_bind_text(chs, 6, type);
		sqlite3_bind_double(chs, 7, ch->spec.scale);
		sqlite3_bind_double(chs, 8, ch->spec.offset);
		sqlite3_bind_int64(chs, 9, now);
		for (int k = 10; k <= 15; k++)
			sqlite3_bind_null(chs, k);
		if (ch->tolerance != NULL) {
			const struct cfg_tolerance *t = ch->tolerance;
			sqlite3_bind_double(chs, 10, t->reference);
			sqlite3_bind_double(chs, 11, t->lower);
			sqlite3_bind_double(chs, 12, t->upper);
			sqlite3_bind_double(chs, 13, t->guard);
			sqlite3_bind_double(chs, 14, t->U);
			sqlite3_bind_double(chs, 15, t->k);
		}
		if (upsert(st, chs, "channel", &channel_ids[ch->index]) < 0)
			return -1;
	}
	return 0;
}

/* A standard: an instruments row of kind "standard", without channels. */
static int sync_standard(struct store *st, sqlite3_stmt *ins,
                         const struct cfg_standard *sd, int64_t now,
                         int64_t *id)
{
	bind_identity(ins, sd->id, sd->model, sd->serial, sd->owner,
	              sd->location, now, "standard", sd->cal_interval_days,
	              sd->due_soon_days);
	return upsert(st, ins, "standard", id);
}

/* channels.reference_channel of the channels compared with another. */
static int sync_references(struct store *st, const struct config *c,
                           const int64_t *ch_ids)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(
	        st->db,
	        "UPDATE channels SET reference_channel = ?1 WHERE id = ?2", -1,
	        &s, NULL);

	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "configuration");
		return -1;
	}
	for (int i = 0; i < c->ninstruments; i++)
		for (int j = 0; j < c->instruments[i].nchannels; j++) {
			const struct cfg_channel *ch =
			        &c->instruments[i].channels[j];
			if (ch->tolerance == NULL || !ch->tolerance->by_channel)
				continue;
			sqlite3_bind_int64(s, 1,
			                   ch_ids[ch->tolerance->ref_channel]);
			sqlite3_bind_int64(s, 2, ch_ids[ch->index]);
			if (st_run(st, s, "configuration") < 0) {
				sqlite3_finalize(s);
				return -1;
			}
		}
	sqlite3_finalize(s);
	return 0;
}

/* The lab row and the customers rows as c names them: the lab replaced
 * (deleted without a lab group), customers upserted by id, the others
 * made inactive (records keep their own copy of what they printed). */
static int sync_lab(struct store *st, const struct config *c, int64_t now)
{
	static const char lab_sql[] =
	        "INSERT OR REPLACE INTO lab (id, name, address, accreditation,"
	        " location, logo, last_config, timezone) VALUES (1, ?1, ?2, ?3,"
	        " ?4, ?5, ?6, ?7)";
	static const char customer_sql[] =
	        "INSERT INTO customers (name, legal_name, address, contact,"
	        " active, last_config) VALUES (?1, ?2, ?3, ?4, 1, ?5)"
	        " ON CONFLICT (name) DO UPDATE SET legal_name ="
	        " excluded.legal_name, address = excluded.address,"
	        " contact = excluded.contact, active = 1,"
	        " last_config = excluded.last_config";
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK;

	if (exec(st,
	         "DELETE FROM lab; UPDATE customers SET active = 0 WHERE "
	         "active;",
	         "configuration") < 0)
		return -1;
	if (c->lab != NULL) {
		rc = sqlite3_prepare_v2(st->db, lab_sql, -1, &s, NULL);
		if (rc != SQLITE_OK)
			goto fail;
		st_bind_text(s, 1, c->lab->name);
		st_bind_text(s, 2, c->lab->address);
		st_bind_text(s, 3, c->lab->accreditation);
		st_bind_text(s, 4, c->lab->location);
		st_bind_text(s, 5, c->lab->logo);
		sqlite3_bind_int64(s, 6, now);
		st_bind_text(s, 7, c->lab->timezone);
		if (st_run(st, s, "configuration") < 0)
			goto out;
		sqlite3_finalize(s);
		s = NULL;
	}
	for (int i = 0; i < c->ncustomers; i++) {
		const struct cfg_customer *cu = &c->customers[i];
		if (s == NULL &&
		    (rc = sqlite3_prepare_v2(st->db, customer_sql, -1, &s,
		                             NULL)) != SQLITE_OK)
			goto fail;
		st_bind_text(s, 1, cu->id);
		st_bind_text(s, 2, cu->name);
		st_bind_text(s, 3, cu->address);
		st_bind_text(s, 4, cu->contact);
		sqlite3_bind_int64(s, 5, now);
		if (st_run(st, s, "configuration") < 0)
			goto out;
	}
	sqlite3_finalize(s);
	return 0;
fail:
	st_sqlite_error(st, rc, "configuration");
out:
	sqlite3_finalize(s);
	return -1;
}

int store_sync_config(struct store *st, const struct config *c)
{
	sqlite3_stmt *ins = NULL, *chs = NULL;
	size_t ninst = c->ninstruments > 0 ? c->ninstruments : 0;
	size_t nstd = c->nstandards > 0 ? c->nstandards : 0;
	size_t nch = c->nchannels > 0 ? c->nchannels : 0;
	int64_t *inst_ids = calloc(ninst + nstd + 1, sizeof(*inst_ids));
	int64_t *ch_ids = calloc(nch + 1, sizeof(*ch_ids));
	int64_t now = st_now_us(), move;
	int rc;

	if (inst_ids == NULL || ch_ids == NULL) {
		st_error(st, STORE_OTHER, "configuration: %s",
		         strerror(ENOMEM));
		goto fail;
	}
	rc = sqlite3_prepare_v2(st->db, upsert_instrument_sql, -1, &ins, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, upsert_channel_sql, -1, &chs,
		                        NULL);
	if (rc != SQLITE_OK) {
		st_sqlite_error(st, rc, "configuration");
		goto fail;
	}
	if (st_run(st, st->stmt[S_BEGIN], "configuration") < 0)
		goto fail;
	/* What the config names becomes active again below. */
	if (exec(st,
	         "UPDATE instruments SET active = 0 WHERE active;"
	         "UPDATE channels SET active = 0 WHERE active;",
	         "configuration") < 0)
		goto fail;
	for (size_t i = 0; i < ninst; i++)
		if (sync_instrument(st, ins, chs, c, &c->instruments[i], now,
		                    &inst_ids[i], ch_ids) < 0)
			goto fail;
	for (size_t i = 0; i < nstd; i++)
		if (sync_standard(st, ins, &c->standards[i], now,
		                  &inst_ids[ninst + i]) < 0)
			goto fail;
	for (size_t k = 0; k < nch; k++) {
		if (ch_ids[k] == 0) {
			st_error(st, STORE_OTHER,
			         "configuration: no channel has index %zu", k);
			goto fail;
		}
	}
	if (sync_references(st, c, ch_ids) < 0 || sync_lab(st, c, now) < 0 ||
	    st_run(st, st->stmt[S_COMMIT], "configuration") < 0)
		goto fail;
	sqlite3_finalize(ins);
	sqlite3_finalize(chs);
	st->conf = c;
	free(st->instrument_ids);
	free(st->channel_ids);
	st->instrument_ids = inst_ids;
	st->ninstruments = (uint32_t)ninst;
	st->nentities = (uint32_t)(ninst + nstd);
	st->channel_ids = ch_ids;
	st->nchannels = (uint32_t)nch;
	move = (int64_t)nch * STORE_MOVE_PER_CH;
	st->move_rows = move < STORE_MOVE_MIN   ? STORE_MOVE_MIN
	                : move > STORE_MOVE_MAX ? STORE_MOVE_MAX
	                                        : move;
	return 0;
fail:
	st_rollback(st);
	sqlite3_finalize(ins);
	sqlite3_finalize(chs);
	free(inst_ids);
	free(ch_ids);
	return -1;
}

/* ---- appending ---------------------------------------------------------- */

static void bind_reading(struct store *st, sqlite3_stmt *ins, int base,
                         const struct sample *s)
{
	sqlite3_bind_int64(ins, base + 1, st->channel_ids[s->index]);
	sqlite3_bind_int64(ins, base + 2, s->ts_us);
	if (s->quality == QUALITY_GOOD)
		sqlite3_bind_double(ins, base + 3, s->value);
	else
		sqlite3_bind_null(ins, base + 3);
	sqlite3_bind_int(ins, base + 4, s->quality);
}

/* Keep a copy of reading s as SQLite stores it (a NaN is NULL, -0.0 is
 * 0), for the move (struct store, staged). */
static void stage_reading(struct store *st, const struct sample *s)
{
	struct st_staged *k;

	if (st->nstaged == st->capstaged) {
		size_t cap = st->capstaged ? 2 * st->capstaged : 1024;
		void *p = realloc(st->staged, cap * sizeof(*st->staged));
		if (p == NULL) {
			st->staged_lost = true;
			return;
		}
		st->staged = p;
		st->capstaged = cap;
	}
	k = &st->staged[st->nstaged++];
	k->ch = st->channel_ids[s->index];
	k->p.ts_us = s->ts_us;
	k->p.has_value = s->quality == QUALITY_GOOD && !isnan(s->value);
	k->p.value = k->p.has_value && s->value != 0 ? s->value : 0;
	k->p.quality = s->quality;
}

/* Insert the n readings of block: by STORE_BLOCK in one statement when
 * n is STORE_BLOCK, else one by one. */
static int insert_readings(struct store *st, const struct sample **block, int n)
{
	sqlite3_stmt *ins = st->stmt[S_INSERT_READING];

	if (n == STORE_BLOCK) {
		for (int k = 0; k < n; k++) {
			bind_reading(st, st->stmt[S_INSERT_BLOCK], 4 * k,
			             block[k]);
			stage_reading(st, block[k]);
		}
		return st_run(st, st->stmt[S_INSERT_BLOCK], "append reading");
	}
	for (int k = 0; k < n; k++) {
		bind_reading(st, ins, 0, block[k]);
		stage_reading(st, block[k]);
		if (st_run(st, ins, "append reading") < 0)
			return -1;
	}
	return 0;
}

static int append_event(struct store *st, const struct sample *s, size_t i)
{
	sqlite3_stmt *ins = st->stmt[S_INSERT_EVENT];
	char detail[32];

	if (s->index >= st->ninstruments) {
		st_error(st, STORE_OTHER,
		         "append: sample %zu: instrument index %" PRIu32
		         " not in the configuration (%" PRIu32 " instruments)",
		         i, s->index, st->ninstruments);
		return -1;
	}
	sqlite3_bind_int64(ins, 1, s->ts_us);
	sqlite3_bind_int64(ins, 2, st->instrument_ids[s->index]);
	sqlite3_bind_text(ins, 3, sample_event_name((enum sample_kind)s->kind),
	                  -1, SQLITE_STATIC);
	if (s->kind == SAMPLE_ONLINE && s->quality == QUALITY_GOOD) {
		sqlite3_bind_null(ins, 4);
	} else {
		if (s->quality == QUALITY_EXCEPTION)
			snprintf(detail, sizeof(detail), "exception %02X",
			         s->detail);
		else
			snprintf(detail, sizeof(detail), "%s",
			         quality_name(s->quality));
		sqlite3_bind_text(ins, 4, detail, -1, SQLITE_STATIC);
	}
	/* the kind is the new state: no state columns (docs/SCHEMA.md) */
	sqlite3_bind_null(ins, 5);
	sqlite3_bind_null(ins, 6);
	return st_run(st, ins, "append event");
}

/* A composed events row. */
static int append_composed(struct store *st, const struct store_event *e,
                           size_t i)
{
	sqlite3_stmt *ins = st->stmt[S_INSERT_CHANNEL_EVENT];

	if (e->entity >= st->nentities ||
	    (e->channel >= 0 && (uint32_t)e->channel >= st->nchannels)) {
		st_error(st, STORE_OTHER,
		         "append: event %zu: entity %" PRIu32
		         " or channel %" PRId32 " not in the configuration",
		         i, e->entity, e->channel);
		return -1;
	}
	sqlite3_bind_int64(ins, 1, e->ts_us);
	sqlite3_bind_int64(ins, 2, st->instrument_ids[e->entity]);
	if (e->channel >= 0)
		sqlite3_bind_int64(ins, 3, st->channel_ids[e->channel]);
	else
		sqlite3_bind_null(ins, 3);
	sqlite3_bind_text(ins, 4, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, e->detail, -1, SQLITE_STATIC);
	/* NULL when not a change of state (docs/SCHEMA.md) */
	sqlite3_bind_text(ins, 6, e->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, e->to, -1, SQLITE_STATIC);
	return st_run(st, ins, "append event");
}

/* ---- the outbox --------------------------------------------------------- */

static int outbox_count(struct store *st)
{
	if (st->outbox_rows >= 0)
		return 0;
	int found = st_query_int(st, st->stmt[S_OUTBOX_ROWS], "outbox",
	                         &st->outbox_rows);
	if (found == 0)
		st->outbox_rows = 0;
	return found < 0 ? -1 : 0;
}

int store_outbox_next_seq(struct store *st, int64_t *seq)
{
	*seq = 0;
	if (st_query_int(st, st->stmt[S_OUTBOX_LAST_SEQ], "outbox", seq) < 0)
		return -1;
	(*seq)++; /* 1 when the table never had a row */
	return 0;
}

/* Inside the write transaction: the rows acknowledged deleted, the
 * outbox rows, then the outbox_max policy. */
/* The row of seqs for outbox row o, in its transaction. */
static int append_seq(struct store *st, const struct store_out *o)
{
	sqlite3_stmt *s = st->stmt[S_SEQS_INSERT];
	uint32_t first = o->nchannels > 0 ? o->channels[0] : UINT32_MAX;

	sqlite3_bind_int64(s, 1, o->seq);
	sqlite3_bind_int64(s, 2, o->ts_us);
	if (first < st->nchannels) {
		sqlite3_bind_int64(s, 3, st->channel_ids[first]);
		sqlite3_bind_null(s, 4);
		sqlite3_bind_null(s, 5);
	} else {
		sqlite3_bind_null(s, 3);
		sqlite3_bind_text(s, 4, o->topic, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 5, o->payload, (int)o->len, SQLITE_STATIC);
	}
	return st_run(st, s, "seqs");
}

static int append_outbox(struct store *st, const struct store_out *o, size_t n,
                         int64_t delete_upto)
{
	sqlite3_stmt *ins = st->stmt[S_OUTBOX_INSERT];

	if (outbox_count(st) < 0)
		return -1;
	if (delete_upto > 0 && store_outbox_delete(st, delete_upto) < 0)
		return -1;
	st->outbox_writer = true;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(ins, 1, o[i].seq);
		sqlite3_bind_int64(ins, 2, o[i].ts_us);
		sqlite3_bind_text(ins, 3, o[i].topic, -1, SQLITE_STATIC);
		if (o[i].nchannels > 0) {
			if (st_outbox_bind_channels(st, ins, 7, &o[i]) < 0)
				return -1;
			sqlite3_bind_zeroblob(ins, 4, 0);
		} else {
			sqlite3_bind_blob(ins, 4, o[i].payload, (int)o[i].len,
			                  SQLITE_STATIC);
			sqlite3_bind_null(ins, 7);
		}
		sqlite3_bind_int(ins, 5, o[i].qos);
		sqlite3_bind_int(ins, 6, o[i].retain);
		if (st_run(st, ins, "outbox") < 0 || append_seq(st, &o[i]) < 0)
			return -1;
		st->outbox_rows++;
	}
	if (st->conf == NULL || st->conf->mqtt == NULL)
		return 0;
	int64_t over = st->outbox_rows - st->conf->mqtt->outbox_max;
	if (over > 0) {
		sqlite3_bind_int64(st->stmt[S_OUTBOX_TRIM], 1, over);
		if (st_run(st, st->stmt[S_OUTBOX_TRIM], "outbox: drop oldest") <
		    0)
			return -1;
		int64_t gone = sqlite3_changes64(st->db);
		st->outbox_rows -= gone;
		st->outbox_dropped += (uint64_t)gone;
	}
	return 0;
}

int store_outbox_read(struct store *st, int64_t after, struct store_msg *out,
                      size_t max, size_t *n)
{
	sqlite3_stmt *q = st->stmt[S_OUTBOX_READ];
	size_t used = 0;
	int rc;

	*n = 0;
	sqlite3_bind_int64(q, 1, after);
	sqlite3_bind_int64(q, 2, (int64_t)max);
	while (*n < max && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_msg *m = &out[*n];
		const char *topic = (const char *)sqlite3_column_text(q, 2);
		size_t tlen = (size_t)sqlite3_column_bytes(q, 2);
		const void *payload = sqlite3_column_blob(q, 3);
		size_t plen = (size_t)sqlite3_column_bytes(q, 3);
		const void *chans = sqlite3_column_blob(q, 6);
		size_t clen = (size_t)sqlite3_column_bytes(q, 6);
		if (text_reserve((void **)&st->rbuf, &st->rbuf_size,
		                 used + tlen + plen + clen + 2, 1) < 0) {
			sqlite3_reset(q);
			st_error(st, STORE_OTHER, "outbox: %s",
			         strerror(ENOMEM));
			return -1;
		}
		m->seq = sqlite3_column_int64(q, 0);
		m->ts_us = sqlite3_column_int64(q, 1);
		m->qos = sqlite3_column_int(q, 4);
		m->retain = sqlite3_column_int(q, 5) != 0;
		/* offsets now, pointers once rbuf stops moving */
		m->topic = (const char *)(uintptr_t)used;
		memcpy(st->rbuf + used, topic != NULL ? topic : "", tlen);
		used += tlen;
		st->rbuf[used++] = '\0';
		m->payload = (const char *)(uintptr_t)used;
		m->len = plen;
		if (plen > 0)
			memcpy(st->rbuf + used, payload, plen);
		used += plen;
		st->rbuf[used++] = '\0';
		m->channels = (const unsigned char *)(uintptr_t)used;
		m->nchannels = clen / 4;
		if (clen > 0)
			memcpy(st->rbuf + used, chans, clen);
		used += clen;
		(*n)++;
	}
	if (*n < max && rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "outbox: read");
		sqlite3_reset(q);
		*n = 0;
		return -1;
	}
	sqlite3_reset(q);
	for (size_t k = 0; k < *n; k++) {
		out[k].topic = st->rbuf + (uintptr_t)out[k].topic;
		out[k].payload = st->rbuf + (uintptr_t)out[k].payload;
		out[k].channels = (const unsigned char *)st->rbuf +
		                  (uintptr_t)out[k].channels;
	}
	return 0;
}

int store_outbox_delete(struct store *st, int64_t upto)
{
	sqlite3_stmt *del = st->stmt[S_OUTBOX_DELETE];

	sqlite3_bind_int64(del, 1, upto);
	if (st_run(st, del, "outbox: delete") < 0)
		return -1;
	st->outbox_writer = true;
	if (st->outbox_rows >= 0)
		st->outbox_rows -= sqlite3_changes64(st->db);
	return 0;
}

int store_outbox_stats(struct store *st, int64_t *rows, int64_t *oldest_us)
{
	*rows = 0;
	*oldest_us = 0;
	if (!st->outbox_writer) /* another connection writes it: count */
		st->outbox_rows = -1;
	if (outbox_count(st) < 0 || st_query_int(st, st->stmt[S_OUTBOX_OLDEST],
	                                         "outbox", oldest_us) < 0)
		return -1;
	*rows = st->outbox_rows;
	return 0;
}

uint64_t store_outbox_dropped(const struct store *st)
{
	return st->outbox_dropped;
}

/* The samples of a batch: readings by blocks, online/offline/failing events;
 * SAMPLE_STATE only when composed (its events row comes composed). */
static int append_samples(struct store *st, const struct sample *s, size_t n,
                          bool composed)
{
	const struct sample *block[STORE_BLOCK];
	int nblock = 0;

	for (size_t i = 0; i < n; i++) {
		int rc = 0;
		switch (s[i].kind) {
		case SAMPLE_READING:
			if (s[i].index >= st->nchannels) {
				st_error(st, STORE_OTHER,
				         "append: sample %zu: channel index "
				         "%" PRIu32 " not in the configuration "
				         "(%" PRIu32 " channels)",
				         i, s[i].index, st->nchannels);
				return -1;
			}
			block[nblock++] = &s[i];
			if (nblock == STORE_BLOCK) {
				rc = insert_readings(st, block, nblock);
				nblock = 0;
			}
			break;
		case SAMPLE_ONLINE:
		case SAMPLE_OFFLINE:
		case SAMPLE_FAILING:
			rc = append_event(st, &s[i], i);
			break;
		case SAMPLE_STATE:
			if (composed)
				break;
			/* fall through */
		default:
			st_error(st, STORE_OTHER,
			         "append: sample %zu: kind %u is not stored as "
			         "such (a state change is composed into an "
			         "event)",
			         i, (unsigned)s[i].kind);
			rc = -1;
		}
		if (rc < 0)
			return -1;
	}
	return insert_readings(st, block, nblock);
}

int store_write(struct store *st, const struct store_batch *b)
{
	int64_t rows = st->outbox_rows;
	uint64_t dropped = st->outbox_dropped;

	st->nstaged = 0;
	st->staged_lost = false;
	if (st_run(st, st->stmt[S_BEGIN], "append") < 0)
		return -1;
	if (st_run(st, st->stmt[S_RECENT_FIX], "append: recent_moved") < 0 ||
	    append_samples(st, b->samples, b->nsamples, b->composed) < 0)
		goto fail;
	for (size_t i = 0; i < b->nevents; i++)
		if (append_composed(st, &b->events[i], i) < 0)
			goto fail;
	if (((b->nout > 0 || b->outbox_delete > 0) &&
	     append_outbox(st, b->out, b->nout, b->outbox_delete) < 0) ||
	    st_cal_mark(st, b->cal_published, b->approvals_published) < 0 ||
	    archive_step(st, false) < 0 ||
	    st_run(st, st->stmt[S_COMMIT], "append") < 0)
		goto fail;
	return 0;
fail:
	st_rollback(st);
	archive_forget(st);
	st->outbox_rows = rows;
	st->outbox_dropped = dropped;
	return -1;
}

int store_append(struct store *st, const struct sample *s, size_t n)
{
	const struct store_batch b = {.samples = s, .nsamples = n};

	return store_write(st, &b);
}

int store_archive_all(struct store *st)
{
	st->nstaged = 0;
	st->staged_lost = false;
	if (st_run(st, st->stmt[S_BEGIN], "archive") < 0)
		return -1;
	if (st_run(st, st->stmt[S_RECENT_FIX], "archive: recent_moved") < 0 ||
	    archive_step(st, true) < 0 ||
	    st_run(st, st->stmt[S_COMMIT], "archive") < 0) {
		st_rollback(st);
		archive_forget(st);
		return -1;
	}
	return 0;
}

int store_archive_auto(void)
{
	return archive_auto();
}

/* ---- retention ---------------------------------------------------------- */

/*
 * One pass at most over the archived channels, from where the last call
 * stopped, so that a small max_rows still reaches every channel in turn.
 */
static int prune_archive(struct store *st, int64_t cutoff, long *budget)
{
	sqlite3_stmt *next = st->stmt[S_NEXT_CHANNEL];
	int64_t start = st->prune_channel, ch = start;
	bool wrapped = false;

	while (*budget > 0) {
		int found;
		sqlite3_bind_int64(next, 1, ch);
		found = st_query_int(st, next, "retention", &ch);
		if (found < 0)
			return -1;
		if (found == 0 || (wrapped && ch >= start)) {
			if (wrapped || start == 0)
				break;
			wrapped = true;
			ch = 0;
			continue;
		}
		if (archive_prune(st, ch, cutoff, budget) < 0)
			return -1;
		st->prune_channel = ch; /* budget spent: resume here */
		if (*budget > 0)
			st->prune_channel = ++ch;
	}
	return 0;
}

/* The seqs rows of readings messages (schema.c, 11 -> 12: what a replay
 * reads) older than cutoff less SEQS_GRACE_US, so that for that long a
 * replay still says that retention deleted a message, and when it was,
 * rather than that it kept nothing: at most max of them (not counted as
 * readings deleted), from the oldest seq (seqs follow time, near enough:
 * a row left behind goes at a later call). Events' and statuses' rows
 * stay, as events do. */
#define SEQS_GRACE_US (30LL * 86400 * 1000000) /* 30 days */

static int prune_seqs(struct store *st, int64_t cutoff, long max)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(
	        st->db,
	        "DELETE FROM seqs WHERE seq IN (SELECT seq FROM seqs"
	        " WHERE instrument IS NOT NULL AND seq < coalesce((SELECT seq"
	        " FROM seqs WHERE ts >= ?1 ORDER BY seq LIMIT 1), 1 << 62)"
	        " ORDER BY seq LIMIT ?2)",
	        -1, &s, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, cutoff - SEQS_GRACE_US);
		sqlite3_bind_int64(s, 2, max);
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		st_sqlite_error(st, rc, "retention");
		return -1;
	}
	return 0;
}

int store_retention(struct store *st, int64_t cutoff_us, long max_rows,
                    long *deleted)
{
	sqlite3_stmt *recent = st->stmt[S_PRUNE_RECENT];
	int64_t saved = st->prune_channel;
	long budget = max_rows > 0 ? max_rows : 0;

	*deleted = 0;
	if (budget == 0)
		return 0;
	if (st_run(st, st->stmt[S_BEGIN], "retention") < 0)
		return -1;
	sqlite3_bind_int64(recent, 1, cutoff_us);
	sqlite3_bind_int64(recent, 2, budget);
	if (st_run(st, recent, "retention") < 0)
		goto fail;
	if (sqlite3_changes64(st->db) > 0) /* rows the move had read */
		archive_forget(st);
	budget -= (long)sqlite3_changes64(st->db);
	if (prune_archive(st, cutoff_us, &budget) < 0 ||
	    prune_seqs(st, cutoff_us, max_rows) < 0 ||
	    st_run(st, st->stmt[S_COMMIT], "retention") < 0)
		goto fail;
	*deleted = (max_rows > 0 ? max_rows : 0) - budget;
	return 0;
fail:
	st_rollback(st);
	st->prune_channel = saved;
	return -1;
}

/* ---- errors ------------------------------------------------------------- */

enum store_error store_last_error(const struct store *st)
{
	return st->error;
}

const char *store_last_message(const struct store *st)
{
	return st->message;
}
