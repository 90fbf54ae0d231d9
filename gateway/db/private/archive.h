/*
 * archive.h - the archive of readings, in compressed blocks
 * (docs/SCHEMA.md, "archive_blocks"): the table archive_blocks holds one
 * row per block of up to ARCHIVE_BLOCK_MAX readings of one channel,
 * encoded by gateway/core/gorilla.c; the eponymous virtual table
 * readings_archive gives them back one row per reading (channel, ts,
 * value, quality), as the table of that name did up to schema version 7,
 * so that the readings view and every query over it read the same rows.
 *
 * Invariant (the move and retention keep it; the readers rely on it): the
 * blocks of a channel do not overlap in time, and each holds its points
 * in time order with distinct times, so the block holding a time t is the
 * one with the greatest ts_first <= t, and the channel's newest reading is
 * in its block with the greatest ts_first.
 *
 * Private to the db library: archive.c (the reader, also the sqlite3
 * shell's loadable extension), archive_store.c (the store's writer),
 * store.c, query.c, schema.c's migration.
 *
 * Threading: as the connection it is registered on (store.h, query.h).
 */
#ifndef METROLOG_ARCHIVE_H
#define METROLOG_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "gorilla.h"

/* The most readings the store puts in one block. */
#define ARCHIVE_BLOCK_MAX 1024

/*
 * A condition on archive_blocks: the blocks of channel ch (an SQL
 * expression) that hold a time >= from or come after it: from the block
 * holding from (the greatest ts_first <= from) on. One seek in the
 * primary key, then a range of it.
 */
#define ARCHIVE_BLOCKS_FROM(ch, from)                                          \
	"channel = " ch " AND ts_first >= coalesce((SELECT max(ts_first)"      \
	" FROM archive_blocks WHERE channel = " ch " AND ts_first <= " from    \
	"), " from ")"

/* The newest archived time of channel ch (an SQL expression), NULL when it
 * has none: one seek. */
#define ARCHIVE_LAST_TS(ch)                                                    \
	"(SELECT ts_last FROM archive_blocks WHERE channel = " ch              \
	" ORDER BY ts_first DESC LIMIT 1)"

/* From now on, every SQLite connection this process opens has the
 * readings_archive virtual table and the aggregate archive_encode(ts,
 * value, quality) (a block of the group's rows, sorted by ts: the
 * migration from schema 7 uses it). Idempotent. Returns 0 or -1. */
int archive_auto(void);

struct store;

/*
 * readings_recent in parts, by rowid (docs/SCHEMA.md, "How readings are
 * written"): part p = 1 .. ARCHIVE_PARTS holds the rowids from p << 56 to
 * ((p + 1) << 56) - 1 (the last part: up to INT64_MAX), the readings of a
 * contiguous range of the configuration's channels, in arrival order;
 * part 0 the rowids below 1 << 56 (rows an older version or another
 * writer appended). A move takes one part's oldest rows, read in rowid
 * order, so that no commit carries more than a slice of readings_recent.
 */
#define ARCHIVE_PARTS      64
#define ARCHIVE_PART_SHIFT 56
/* At least this many channels per part: a small lab has one part. */
#define ARCHIVE_PART_MIN_CHANNELS 16

/* Inside the write transaction, before the batch's first reading: read
 * the parts' extent again if another connection committed since, or
 * after archive_recent_forget(). Returns 0, or -1 with the error
 * recorded in st. */
int archive_recent_begin(struct store *st);

/* The rowid of the next reading of the channel at configuration index i
 * (< st->nchannels); archive_recent_begin() called in this transaction. */
int64_t archive_recent_rowid(struct store *st, uint32_t i);

/* The parts' extent is to be read again (a rollback, retention). */
void archive_recent_forget(struct store *st);

/* The most rows one move takes from one part: 4 x move_rows / parts in
 * use (about twice what a part holds when its turn comes). */
int64_t archive_move_limit(const struct store *st);

/* Inside the caller's write transaction, after the batch's readings: when
 * readings_recent holds st->move_rows rows or more, move the oldest rows
 * of the next non-empty part in turn, at most archive_move_limit(), into
 * blocks (a row with the (channel, ts) of an archived one replaces it, as
 * INSERT OR REPLACE did) and delete them from readings_recent. Returns 0,
 * or -1 with the error recorded in st. */
int archive_move(struct store *st);

/* Inside the caller's write transaction: delete up to *budget of channel
 * ch's archived readings older than cutoff, oldest first; subtract what
 * was deleted from *budget. Returns 0, or -1 with the error recorded. */
int archive_prune(struct store *st, int64_t ch, int64_t cutoff, long *budget);

/* The buffers and the parts' extent archive_move() and archive_prune()
 * keep in a store. */
struct archive_bufs;
void archive_bufs_free(struct archive_bufs *b);

/* Decoded points, grown as needed (sqlite3_realloc64), kept. */
struct archive_pts {
	struct gorilla_point *p;
	size_t n, cap;
};

/* Room for need points in b. Returns 0, or -1 out of memory. */
int archive_pts_reserve(struct archive_pts *b, size_t need);

/* Decode the block in column col of s's row (its count in column col - 1)
 * and append its points to b. Returns SQLITE_OK, SQLITE_CORRUPT (it does
 * not decode, or holds another count) or SQLITE_NOMEM. */
int archive_decode_column(sqlite3_stmt *s, int col, struct archive_pts *b);

#endif
