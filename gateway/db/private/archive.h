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

/* Inside the caller's write transaction: move every row of
 * readings_recent into blocks (a row with the (channel, ts) of an
 * archived one replaces it, as INSERT OR REPLACE did) and empty
 * readings_recent. Returns 0, or -1 with the error recorded in st. */
int archive_move(struct store *st);

/* Inside the caller's write transaction: delete up to *budget of channel
 * ch's archived readings older than cutoff, oldest first; subtract what
 * was deleted from *budget. Returns 0, or -1 with the error recorded. */
int archive_prune(struct store *st, int64_t ch, int64_t cutoff, long *budget);

/* The buffers archive_move() and archive_prune() keep in a store. */
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
