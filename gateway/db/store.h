/*
 * store.h - the SQLite database: schema, migrations, batched writes,
 * retention, and the queries the metrolog tool shares.
 *
 * With query.h, the only module that includes <sqlite3.h> (store.c and
 * store_cal.c write, sharing store_int.h; query*.c read). One file in WAL
 * mode (synchronous=NORMAL), schema in docs/SCHEMA.md, versioned with
 * PRAGMA user_version and migrated forward by store_open(). Time columns
 * are UTC microseconds since the epoch (INTEGER).
 *
 * Threading: a struct store belongs to one thread (the ingest thread in
 * metrologd, the main thread in the tool). Other processes may read the
 * file at any time (WAL).
 */
#ifndef METROLOG_STORE_H
#define METROLOG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sample.h"

enum store_error {
	STORE_OK = 0,
	STORE_BUSY,    /* locked by another process beyond the busy timeout */
	STORE_FULL,    /* disk or quota full */
	STORE_IO,      /* I/O error */
	STORE_CORRUPT, /* not a metrolog database, or damaged */
	STORE_OTHER,
};

struct store;

/* Open (creating if needed) the database at path and migrate it to the
 * current schema. Returns NULL with the reason in err on failure. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st); /* NULL allowed */

/* Insert or update the instruments and channels of c (by instrument id and
 * channel name) so that readings keep stable ids across restarts and
 * reloads, and remember the mapping from c's indexes to row ids for
 * store_append(). Instruments no longer in c are kept (marked inactive),
 * never deleted. When c->mqtt is not NULL, store_append() also writes the
 * outbox; and SAMPLE_STATE samples read their channel's tolerance in c: in
 * either case c is used by store_append() until the next
 * store_sync_config() and must live that long. Returns 0 or -1. */
int store_sync_config(struct store *st, const struct config *c);

/* Write n samples (readings and events, indexes as in the config last
 * given to store_sync_config()) in ONE transaction, with, when that config
 * has an mqtt group, their outbox messages (docs/MQTT.md): one per
 * (instrument, ts) of the readings carrying all its channels, one event
 * and one retained status per online/offline event, each with the next
 * sequence number, and per SAMPLE_STATE (a channel's tolerance state change
 * or chart signal: an events row of kind "tolerance" or "drift") an event
 * and, for a state change, the retained status with every tolerance
 * state of the instrument; then, if the outbox holds more than outbox_max
 * rows, the oldest go (store_outbox_dropped() counts them). On failure the
 * transaction is rolled back, nothing is written, and the caller keeps
 * the samples to retry. Returns 0 or -1.
 * Once readings_recent holds 64 rows per channel (at least 65,536), the call
 * also moves them into readings_archive: about 1.5 s for 10,000 channels on
 * a 2-core machine, once a minute at 1 Hz (docs/SCHEMA.md). */
int store_append(struct store *st, const struct sample *s, size_t n);

/* Delete readings older than cutoff_us (events and calibrations are never
 * deleted), at most max_rows per call so the writer never stalls for long.
 * Sets *deleted. Returns 0 or -1. */
int store_retention(struct store *st, int64_t cutoff_us, long max_rows,
                    long *deleted);

/* As store_open(), and on failure sets *kind (if not NULL) to why:
 * STORE_CORRUPT for a file that is not SQLite or not metrolog's, STORE_OTHER
 * for a schema newer than this program knows (or a path that cannot be
 * opened), STORE_BUSY, STORE_FULL, STORE_IO as for the other calls. */
struct store *store_open_ex(const char *path, enum store_error *kind, char *err,
                            size_t errlen);

/* How long a write waits for another process's lock before failing with
 * STORE_BUSY (store_open() sets 5000 ms). Returns 0 or -1. */
int store_set_busy_timeout(struct store *st, int ms);

/* A hard cap on the file size, in pages of 4 KiB, for this connection
 * (PRAGMA max_page_count): writes beyond it fail with STORE_FULL. For tests
 * (a full disk without a small file system) and for operators who want a
 * cap. SQLite raises a cap below the current size to the current size;
 * 1073741823 lifts it. Returns the cap in effect, or -1. */
long store_set_max_pages(struct store *st, long pages);

/* ---- the MQTT outbox (docs/SCHEMA.md, table outbox) ---------------------
 * Written by store_append(), drained by the publisher, on the same thread. */

/* One outbox row. topic and payload point into memory of the store, valid
 * until the next call on it. */
struct store_msg {
	int64_t seq;   /* per-gateway sequence number, increasing */
	int64_t ts_us; /* when what it reports happened */
	const char *topic;
	const char *payload; /* JSON, NUL-terminated, len bytes */
	size_t len;
	int qos;
	bool retain;
};

/* The first (at most) max rows with seq > after, in seq order, into out;
 * *n is how many. Returns 0 or -1. */
int store_outbox_read(struct store *st, int64_t after, struct store_msg *out,
                      size_t max, size_t *n);

/* Delete the rows with seq <= upto (acknowledged). Returns 0 or -1. */
int store_outbox_delete(struct store *st, int64_t upto);

/* Rows in the outbox, and the ts_us of the oldest (0 when empty). */
int store_outbox_stats(struct store *st, int64_t *rows, int64_t *oldest_us);

/* Rows deleted unsent because the outbox was full, since store_open(). */
uint64_t store_outbox_dropped(const struct store *st);

/* ---- calibration records (calib.h; docs/SCHEMA.md, calibrations) -------
 * Append-only and hash-chained; read them with query.h. */

struct calib_record;

/*
 * Validate r (calib_validate) and append it to the audit chain in ONE
 * transaction, filling in: id and prev_hash (the chain's next link),
 * issued_us (now), interval_days (the instrument's configured interval
 * when 0), due_us, customer (the instrument's owner when empty), the
 * reference standard's snapshot (its certificate in force at
 * performed_us, its due date, overdue or not), the decisions, and hash.
 * Refused (-1, nothing written, store_last_message says why): an
 * instrument or standard no configuration has named, a certificate number
 * already used, a record to supersede that does not exist, is of another
 * instrument or is already superseded, an instrument as its own standard.
 */
int store_cal_append(struct store *st, struct calib_record *r);

/*
 * The calibration due state (calib.h: none, ok, due_soon, overdue) of every
 * instrument and standard of the config last given to store_sync_config(),
 * at now_us, from the records in force at now_us (docs/SCHEMA.md: the
 * latest by performed among those performed by now_us and not
 * superseded; a record dated after now_us is not in force yet). The first
 * call after a store_sync_config() learns the states; later calls write
 * an events row (kind "calibration", docs/SCHEMA.md) for each entity
 * whose state or certificate in force changed, in one transaction. Cheap
 * when nothing changed: it re-reads the records only when one was
 * appended (by the metrolog tool, from another process), a minute has
 * passed, or now_us reached the date of a record that was in the future,
 * so metrologd calls it about every second with the real time. Returns
 * the number of changes, or -1.
 */
int store_cal_refresh(struct store *st, int64_t now_us);

/* Whether the last store_cal_refresh() found another certificate in force
 * for instrument index inst of the config (a new calibration, which may
 * have adjusted it); false for the refresh that only learned. */
bool store_cal_renewed(const struct store *st, uint32_t inst);

/* The last failure: its kind and a message naming the database file. */
enum store_error store_last_error(const struct store *st);
const char *store_last_message(const struct store *st);

#endif
