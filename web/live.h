/*
 * live.h - what makes the board live: one thread with its own read-only
 * connection (query.h) that asks SQLite every period whether another
 * connection committed (query_data_version(): metrologd's commits, and
 * `metrolog user`'s), and when one added readings makes the next
 * snapshot from the newest one and those readings only (board_copy,
 * board_follow: the rows of readings_recent after the last one it saw),
 * records what changed (board_diff) and publishes it, waking every
 * /events connection waiting for one (docs/WEB.md, "Live updates").
 *
 * It reads the states again without the readings (board_refresh: links,
 * due and tolerance states) when a new event or calibration record was
 * committed and every LIVE_REFRESH_US (due states change with the date),
 * and the whole board (board_read) at the start, when rows of
 * readings_recent it did not read are gone (deleted after their move to
 * the archive), and when the instruments or channels themselves changed. It
 * calls the owner's tick with its connection after each poll
 * (metrolog-web ends the sessions of disabled users there).
 *
 * Threading: live_next() and live_release() from any thread (one mutex,
 * one condition variable); tick runs on the live thread, which alone
 * makes snapshots.
 */
#ifndef METROLOG_WEB_LIVE_H
#define METROLOG_WEB_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "board.h"

struct mclock;
struct query;

#define LIVE_REFRESH_US (10 * 1000000LL)

struct live;

/* Open path read-only, read the board once, and start polling every
 * period_us. tick may be NULL. NULL with the reason in err (no database,
 * not a metrolog database, a schema of another version). */
struct live *live_start(const char *path, const struct mclock *clk,
                        int64_t period_us,
                        void (*tick)(void *ctx, struct query *q), void *ctx,
                        char *err, size_t errlen);

/* Stop the thread and wake every waiter (their live_next() returns NULL
 * with *stopping), then wait for the thread. NULL allowed. */
void live_stop(struct live *l);

/* After live_stop(): free, with the snapshot. NULL allowed. */
void live_free(struct live *l);

/* The newest snapshot once its generation is above *gen (at once when it
 * already is; *gen 0: the newest at once), waiting up to wait_us; *gen
 * becomes its generation (board_snap.gen).
 * Returns it with a reference the caller gives back with live_release(),
 * or NULL when the wait ended without one, or when stopping (then
 * *stopping is true). */
struct board_snap *live_next(struct live *l, uint64_t *gen, int64_t wait_us,
                             bool *stopping);
void live_release(struct live *l, struct board_snap *s); /* NULL allowed */

#endif
