/*
 * archive.h - the archive of readings, in compressed blocks
 * (docs/SCHEMA.md, "archive_blocks"): the table archive_blocks holds one
 * row per block of readings of one channel, encoded by
 * gateway/core/gorilla.c, cut by its encoded size (a page's worth:
 * archive_block_target()) or at ARCHIVE_BLOCK_MAX readings; the eponymous
 * virtual table readings_archive gives them back one row per reading (channel,
 * ts, value, quality), as the table of that name did up to schema version 7, so
 * that the readings view and every query over it read the same rows.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "gorilla.h"

/* The most readings the store puts in one block (it cuts blocks by their
 * encoded size, archive_block_target(): 16,384 points of 2 bits, the
 * fewest the codec spends on a point, fill 4,096 bytes). */
#define ARCHIVE_BLOCK_MAX 16384

/*
 * The most bytes of encoded readings (the column data) the store puts in
 * a block of a file of pages of page_size bytes, so that a row of
 * archive_blocks stays whole in its table's page (no overflow page) and
 * the rows of full blocks fill their pages. SQLite's file format: a leaf
 * of a rowid table keeps a cell's payload in the page when it is at most
 * U - 35 bytes (U, the usable size: the page size, the store reserving
 * none); a row's record is at most 35 bytes besides data (a header of 8:
 * its length, id's NULL, four integers' types, data's 2-byte type; then
 * channel, ts_first, ts_last in up to 8 bytes each, n in up to 3); a
 * cell adds its 2 varints (payload length, up to 2 bytes; rowid, up to 9)
 * and a 2-byte pointer, the leaf an 8-byte header. Pages of up to 4,096
 * bytes hold one row: U - 70 (4,026 at 4 KiB: the cell then takes at
 * most 4,074 of the 4,088 bytes); larger ones k = U / 4,096 rows of
 * (U - 8) / k - 48 bytes of data each (4,044 at 8 KiB, 4,046 at 16 KiB).
 */
size_t archive_block_target(long page_size);

/* A block more than this many bytes under the target is small: the store
 * merges it with the channel's next readings. A block cut by size is
 * within one reading of the target, and a reading takes at most 39 bytes
 * (gorilla_bound()). */
#define ARCHIVE_SMALL_SLACK 64

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
 * Inside the caller's write transaction: a step of the move of
 * readings_recent into blocks cut by size, in turns (archive_store.c;
 * docs/SCHEMA.md, recent_moved). Reads the rows committed since the last
 * step into memory (each channel's encoded as they come: pointbuf.h, a
 * few bytes a reading), in rowid order; once move_rows of them wait, a turn
 * starts: each step then writes the blocks of the next range of channels
 * (a share of move_rows / ARCHIVE_TURN_STEPS rows), marks them moved in
 * recent_moved, and deletes up to move_rows / ARCHIVE_DROP_STEPS moved rows
 * from the table's start (never its newest row: rowids go on). A row with
 * the (channel, ts) of an archived one replaces it, as INSERT OR REPLACE
 * did; of two rows with one (channel, ts), the later one is kept. A
 * channel's small blocks at its end are merged with its run when they make
 * a full block (within a budget of 1.5 times the rows of the step). When
 * all, moves every row not moved yet and deletes every moved one but the
 * newest. Returns 0, or -1 with the error recorded in st (the caller rolls
 * the transaction back and calls archive_forget()).
 */
#define ARCHIVE_TURN_STEPS 32
#define ARCHIVE_DROP_STEPS 16
int archive_step(struct store *st, bool all);

/* The transaction of an archive_step() was rolled back: what it kept in
 * memory is read again from the file at the next step. */
void archive_forget(struct store *st);

/* Inside the caller's write transaction: delete up to *budget of channel
 * ch's archived readings older than cutoff, oldest first; subtract what
 * was deleted from *budget. Returns 0, or -1 with the error recorded. */
int archive_prune(struct store *st, int64_t ch, int64_t cutoff, long *budget);

/* The buffers archive_step() and archive_prune() keep in a store. */
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
